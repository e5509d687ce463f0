/* packed.c -- packed weights: the header, the size query, packing, query
 * SPDX-License-Identifier: MIT
 *
 * A packed weight is a buffer of the caller: a header of GLLMK__PW_HDR bytes,
 * then the panels the active ISA's gemm_panels kernel reads (gemm_tpl.h):
 * for each run of NR columns of B [k x n], k rows of NR f32, the last run
 * zero padded.  The header says what the panels are for and carries a
 * checksum of itself, so that a corrupted or foreign buffer is refused.
 */
#include "packed.h"
#include <string.h>

#define GLLMK__PW_MAGIC 0x57504c47u   /* "GLPW" little-endian */
#define GLLMK__PW_VERSION 1u
#define GLLMK__PW_HDR 128             /* bytes before the panels: keeps them 64-byte aligned */

struct gllmk__pw_hdr {
  uint32_t magic, version;
  char isa[24];
  uint32_t dtype, layout;
  uint64_t n, k;
  uint64_t nr, kc;                    /* panel columns, depth of a k slice */
  uint64_t bytes;                     /* header and panels */
  uint64_t check;                     /* FNV-1a of the bytes above */
};
_Static_assert(sizeof(struct gllmk__pw_hdr) <= GLLMK__PW_HDR, "packed-weight header too large");

static uint64_t pw_check(const struct gllmk__pw_hdr *h) {
  const unsigned char *p = (const unsigned char *)h;
  uint64_t x = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < offsetof(struct gllmk__pw_hdr, check); i++) x = (x ^ p[i]) * 0x100000001b3ull;
  return x;
}

/* bytes of a packed B [k x n] with panels of nr columns; false on overflow */
static bool pw_bytes(size_t n, size_t k, size_t nr, size_t *bytes) {
  size_t panels = n / nr + (n % nr != 0), f;
  return gllmk__mul3(panels, nr, k, &f) && gllmk__mul(f, sizeof(float), &f) &&
         gllmk__add(f, GLLMK__PW_HDR, bytes);
}

size_t gllmk_packed_weight_bytes(size_t n, size_t k) {
  const struct gllmk_kernels *kt = gllmk__kernels();
  size_t bytes;
  if (!kt || !pw_bytes(n, k, kt->f32.gemm_nr(), &bytes)) return 0;
  return bytes;
}

/* the header of pw, copied out and checked for itself (not against an op) */
static bool pw_header(const gllmk_packed_weight *pw, struct gllmk__pw_hdr *h) {
  if (!pw || (uintptr_t)pw % GLLMK_PACKED_WEIGHT_ALIGN) return false;
  memcpy(h, pw, sizeof *h);
  size_t bytes;
  if (h->magic != GLLMK__PW_MAGIC || h->version != GLLMK__PW_VERSION || h->check != pw_check(h))
    return false;
  if (memchr(h->isa, 0, sizeof h->isa) == NULL) return false;
  if (h->dtype < GLLMK__PW_F32 || h->dtype > GLLMK__PW_BF16 || h->layout > GLLMK_PACK_B_KN)
    return false;
  if (h->n > SIZE_MAX || h->k > SIZE_MAX || h->nr == 0 || h->nr > 4096 ||
      !pw_bytes((size_t)h->n, (size_t)h->k, (size_t)h->nr, &bytes) || bytes != h->bytes)
    return false;
  return true;
}

gllmk_status gllmk__pw_panels(const gllmk_packed_weight *pw, int dtype, size_t n, size_t k,
                              const struct gllmk_kernels *kt, const float **panels) {
  struct gllmk__pw_hdr h;
  if (!pw_header(pw, &h) || h.dtype != (uint32_t)dtype || h.n != n || h.k != k)
    return GLLMK_E_INVAL;
  if (strcmp(h.isa, kt->name) != 0 || h.nr != kt->f32.gemm_nr() || h.kc != GLLMK_GEMM_KC)
    return GLLMK_E_UNSUPPORTED;
  *panels = (const float *)(const void *)((const char *)pw + GLLMK__PW_HDR);
  return GLLMK_OK;
}

gllmk_status gllmk_packed_weight_query(const gllmk_packed_weight *pw, gllmk_packed_weight_info *info) {
  struct gllmk__pw_hdr h;
  if (!info || !pw_header(pw, &h)) return GLLMK_E_INVAL;
  memset(info, 0, sizeof *info);
  memcpy(info->isa, h.isa, sizeof info->isa < sizeof h.isa ? sizeof info->isa : sizeof h.isa);
  info->isa[sizeof info->isa - 1] = 0;
  static const char *const names[] = {"", "f32", "f16", "bf16"};
  strcpy(info->dtype, names[h.dtype]);
  info->layout = (gllmk_pack_layout)h.layout;
  info->n = (size_t)h.n;
  info->k = (size_t)h.k;
  info->panel_cols = (size_t)h.nr;
  info->bytes = (size_t)h.bytes;
  return GLLMK_OK;
}

/* packing, split across threads by runs of panels */
struct pw_pack_ctx {
  const struct gllmk_kernels *kt;
  int dtype;
  const void *w;
  size_t n, k, nr, ldb;
  bool b_trans;
  float *P;
};

static void pw_pack_run(void *v, size_t b, size_t e) {
  struct pw_pack_ctx *c = v;
  size_t j0 = b * c->nr, j1 = e * c->nr < c->n ? e * c->nr : c->n;
  switch (c->dtype) {
  case GLLMK__PW_F32:
    c->kt->f32.gemm_pack_panels(j1 - j0, c->k, c->w, c->ldb, c->b_trans, j0, c->P);
    break;
  case GLLMK__PW_F16:
    c->kt->f16.gemm_pack_panels(j1 - j0, c->k, c->w, c->ldb, c->b_trans, j0, c->P);
    break;
  default:
    c->kt->bf16.gemm_pack_panels(j1 - j0, c->k, c->w, c->ldb, c->b_trans, j0, c->P);
    break;
  }
}

static gllmk_status pw_create(int dtype, size_t elem, const void *w, gllmk_pack_layout layout,
                              size_t n, size_t k, void *buf, size_t buf_bytes,
                              gllmk_packed_weight **out) {
  size_t nk, bytes;
  if (!gllmk__mul3(n, k, elem, &nk)) return GLLMK_E_OVERFLOW;
  if (!out || !buf || (n && k && !w) || (layout != GLLMK_PACK_W_NK && layout != GLLMK_PACK_B_KN) ||
      (uintptr_t)buf % GLLMK_PACKED_WEIGHT_ALIGN)
    return GLLMK_E_INVAL;
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  size_t nr = kt->f32.gemm_nr();
  if (!pw_bytes(n, k, nr, &bytes)) return GLLMK_E_OVERFLOW;
  if (buf_bytes < bytes) return GLLMK_E_INVAL;
  struct gllmk__pw_hdr h;
  memset(&h, 0, sizeof h);
  h.magic = GLLMK__PW_MAGIC;
  h.version = GLLMK__PW_VERSION;
  size_t len = strlen(kt->name);
  if (len >= sizeof h.isa) return GLLMK_E_UNSUPPORTED;
  memcpy(h.isa, kt->name, len);
  h.dtype = (uint32_t)dtype;
  h.layout = (uint32_t)layout;
  h.n = n;
  h.k = k;
  h.nr = nr;
  h.kc = GLLMK_GEMM_KC;
  h.bytes = bytes;
  h.check = pw_check(&h);
  float *P = (float *)(void *)((char *)buf + GLLMK__PW_HDR);
  /* the padding columns of the last panel are read by the micro-kernel
   * (and dropped): make them zeros, not whatever the buffer held */
  memset(P, 0, bytes - GLLMK__PW_HDR);
  if (n && k) {
    bool b_trans = layout == GLLMK_PACK_W_NK;
    struct pw_pack_ctx c = {kt, dtype, w, n, k, nr, b_trans ? k : n, b_trans, P};
    size_t panels = n / nr + (n % nr != 0);
    size_t per = (size_t)1 << 20;               /* a thread packs at least ~1M values */
    size_t min_panels = per / (nr * k) ? per / (nr * k) : 1;
    gllmk__parallel(panels, 1, min_panels, pw_pack_run, &c);
  }
  memset(buf, 0, GLLMK__PW_HDR);
  memcpy(buf, &h, sizeof h);
  *out = (gllmk_packed_weight *)buf;
  return GLLMK_OK;
}

gllmk_status gllmk_packed_weight_create_f32(const float *w, gllmk_pack_layout layout, size_t n,
                                            size_t k, void *buf, size_t buf_bytes,
                                            gllmk_packed_weight **out) {
  return pw_create(GLLMK__PW_F32, sizeof(float), w, layout, n, k, buf, buf_bytes, out);
}

gllmk_status gllmk_packed_weight_create_f16(const gllmk_f16 *w, gllmk_pack_layout layout, size_t n,
                                            size_t k, void *buf, size_t buf_bytes,
                                            gllmk_packed_weight **out) {
  return pw_create(GLLMK__PW_F16, sizeof(gllmk_f16), w, layout, n, k, buf, buf_bytes, out);
}

gllmk_status gllmk_packed_weight_create_bf16(const gllmk_bf16 *w, gllmk_pack_layout layout,
                                             size_t n, size_t k, void *buf, size_t buf_bytes,
                                             gllmk_packed_weight **out) {
  return pw_create(GLLMK__PW_BF16, sizeof(gllmk_bf16), w, layout, n, k, buf, buf_bytes, out);
}
