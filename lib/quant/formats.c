/* formats.c -- quantization format metadata and the public dequantizers
 * SPDX-License-Identifier: MIT
 */
#include "core/internal.h"
#include <gllmk/quant.h>
#include <math.h>
#include <string.h>
#include "quant/qformats.h"

const gllmk__qinfo gllmk__qinfos[] = {
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, fam, ...) \
  {GLLMK_##QT, name, bs, bb, GLLMK_QF_##fmt, GLLMK_QFAM_##fam},
#include "quant/qformats.def"
#undef GLLMK_QFMT
  {GLLMK_AWQ4, "awq4", 128, 64, GLLMK_QF_EXTERNAL, GLLMK_QFAM_NONE},
  {GLLMK_GPTQ4, "gptq4", 128, 64, GLLMK_QF_EXTERNAL, GLLMK_QFAM_NONE},
  {GLLMK_SQUEEZELLM, "squeezellm", 256, 112, GLLMK_QF_EXTERNAL, GLLMK_QFAM_NONE},
};
const size_t gllmk__nqinfos = sizeof gllmk__qinfos / sizeof gllmk__qinfos[0];

const gllmk__qinfo *gllmk__qinfo_of(gllmk_qtype t) {
  for (size_t i = 0; i < gllmk__nqinfos; i++)
    if (gllmk__qinfos[i].type == t) return &gllmk__qinfos[i];
  return NULL;
}

int gllmk__qtype_is_kquant(gllmk_qtype t) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  return q && q->fam == GLLMK_QFAM_KQ;
}
int gllmk__qtype_is_iq(gllmk_qtype t) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  return q && q->fam == GLLMK_QFAM_IQ;
}

const char *gllmk_qtype_name(gllmk_qtype t) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  return q ? q->name : NULL;
}
size_t gllmk_qtype_block_size(gllmk_qtype t) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  return q ? q->block_size : 0;
}
size_t gllmk_qtype_block_bytes(gllmk_qtype t) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  return q ? q->block_bytes : 0;
}
double gllmk_qtype_bits(gllmk_qtype t) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  return q ? (double)q->block_bytes * 8.0 / (double)q->block_size : 0.0;
}
size_t gllmk_qtype_row_bytes(gllmk_qtype t, size_t k) {
  const gllmk__qinfo *q = gllmk__qinfo_of(t);
  size_t r;
  if (!q || k % q->block_size || !gllmk__mul(k / q->block_size, q->block_bytes, &r)) return 0;
  return r;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

gllmk_status gllmk_qtype_from_name(const char *name, gllmk_qtype *out) {
  if (!name || !out) return GLLMK_E_INVAL;
  static const struct { const char *alias; gllmk_qtype t; } aliases[] = {
    {"awq", GLLMK_AWQ4}, {"gptq", GLLMK_GPTQ4}, {"squeeze", GLLMK_SQUEEZELLM},
    {"squeeze_llm", GLLMK_SQUEEZELLM},
  };
  for (size_t i = 0; i < gllmk__nqinfos + sizeof aliases / sizeof aliases[0]; i++) {
    const char *s = i < gllmk__nqinfos ? gllmk__qinfos[i].name : aliases[i - gllmk__nqinfos].alias;
    size_t j = 0;
    while (s[j] && name[j] && lower((unsigned char)s[j]) == lower((unsigned char)name[j])) j++;
    if (!s[j] && !name[j]) {
      *out = i < gllmk__nqinfos ? gllmk__qinfos[i].type : aliases[i - gllmk__nqinfos].t;
      return GLLMK_OK;
    }
  }
  return GLLMK_E_UNSUPPORTED;
}

/* ------------------------------------------------------------------ dequantization */

/* threads decode whole blocks; one thread gets at least this many values */
#define GLLMK_DEQ_MIN_VALUES ((size_t)1 << 17)

struct deq_ctx {
  void (*fn)(const void *src, float *out, size_t nblocks);
  const uint8_t *src;
  float *out;
  size_t bs, bb;
};
static void deq_run(void *v, size_t b0, size_t b1) {
  const struct deq_ctx *c = v;
  c->fn(c->src + b0 * c->bb, c->out + b0 * c->bs, b1 - b0);
}

static gllmk_status deq_blocks(const gllmk__qinfo *qi, const void *src, float *out, size_t n) {
  if (n % qi->block_size) return GLLMK_E_INVAL;
  size_t nb = n / qi->block_size, bytes;
  if (!gllmk__mul(nb, qi->block_bytes, &bytes) || !gllmk__mul(n, sizeof(float), &bytes))
    return GLLMK_E_OVERFLOW;
  if (n == 0) return GLLMK_OK;
  if (!src || !out) return GLLMK_E_INVAL;
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  struct deq_ctx c = {qi->qf == GLLMK_QF_EXTERNAL ? kt->q.dequant_squeezellm : kt->q.dequant[qi->qf],
                      (const uint8_t *)src, out, qi->block_size, qi->block_bytes};
  /* 32-value formats are decoded 8 blocks at a time: split on multiples of 8 */
  gllmk__parallel(nb, 8, GLLMK_DEQ_MIN_VALUES / qi->block_size, deq_run, &c);
  return GLLMK_OK;
}

gllmk_status gllmk_dequantize(gllmk_qtype t, const void *src, size_t src_bytes, float *out, size_t n) {
  const gllmk__qinfo *qi = gllmk__qinfo_of(t);
  if (!qi) return GLLMK_E_UNSUPPORTED;
  if (t == GLLMK_AWQ4 || t == GLLMK_GPTQ4) return GLLMK_E_UNSUPPORTED;
  if (n % qi->block_size) return GLLMK_E_INVAL;
  size_t need;
  if (!gllmk__mul(n / qi->block_size, qi->block_bytes, &need)) return GLLMK_E_OVERFLOW;
  if (src_bytes < need) return GLLMK_E_INVAL;
  return deq_blocks(qi, src, out, n);
}

#define GLLMK_DEQ_PUB(fmt, QT)                                                \
  gllmk_status gllmk_dequant_##fmt(const void *src, float *out, size_t n) {   \
    return deq_blocks(gllmk__qinfo_of(GLLMK_##QT), src, out, n);              \
  }
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) GLLMK_DEQ_PUB(fmt, QT)
#include "quant/qformats.def"
#undef GLLMK_QFMT
GLLMK_DEQ_PUB(squeezellm, SQUEEZELLM)

/* AWQ4 / GPTQ4: rows decoded by the ISA's row decoders (xdeq), the rows
 * split across threads */
struct deqx_ctx {
  const struct gllmk_kernels *kt;
  struct gllmk__qmv p;
  float *out;
};
static void deqx_run(void *v, size_t r0, size_t r1) {
  const struct deqx_ctx *c = v;
  c->kt->q.xdeq[c->p.xfmt](&c->p, r0, r1, c->out + r0 * c->p.k);
}
static gllmk_status deqx(const struct gllmk__qmv *p, float *out, size_t n, size_t k) {
  size_t nk;
  if (!gllmk__mul3(n, k, sizeof(float), &nk)) return GLLMK_E_OVERFLOW;
  if (n == 0 || k == 0) return GLLMK_OK;
  if (!out) return GLLMK_E_INVAL;
  struct deqx_ctx c = {gllmk__kernels(), *p, out};
  if (!c.kt) return GLLMK_E_UNSUPPORTED;
  gllmk__parallel(n, 1, GLLMK_DEQ_MIN_VALUES / k + 1, deqx_run, &c);
  return GLLMK_OK;
}

gllmk_status gllmk_dequant_awq4(const uint8_t *packed, const uint8_t *zeros, const gllmk_f16 *scales,
                                float *out, size_t n, size_t k) {
  struct gllmk__qmv p;
  gllmk_status st = gllmk__awq_setup(&p, packed, zeros, scales, n, k);
  if (st != GLLMK_OK) return st;
  return deqx(&p, out, n, k);
}

gllmk_status gllmk_dequant_gptq4(const uint8_t *packed, const int32_t *g_idx, const gllmk_f16 *scales,
                                 size_t n_groups, float *out, size_t n, size_t k) {
  struct gllmk__qmv p;
  gllmk_status st = gllmk__gptq_setup(&p, packed, g_idx, scales, n_groups, n, k);
  if (st != GLLMK_OK) return st;
  return deqx(&p, out, n, k);
}
