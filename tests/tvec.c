/* tvec.c -- reader of the quantization test-vector files (see tvec.h)
 * SPDX-License-Identifier: MIT
 */
#include "tvec.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TV_HEADER_BYTES 128
#define TV_MAX_SECTIONS 16

typedef struct tv_section_rec {
  char tag[9];
  size_t off; /* payload offset in the image */
  size_t len;
} tv_section_rec;

struct tv_file {
  char *path;
  unsigned char *img;
  size_t size;
  tv_header h;
  tv_section_rec sec[TV_MAX_SECTIONS];
  unsigned n_sec;
};

/* the expected sections of each kind; size codes below */
enum { SZ_RK4, SZ_K4, SZ_IMAT, SZ_QROWS, SZ_YQ, SZ_R4OPT, SZ_R8, SZ_R8OPT };
typedef struct { const char *tag; int size; } tv_spec;

static const tv_spec spec_quantized[] = {
  { "X", SZ_RK4 },       { "IMATRIX", SZ_IMAT }, { "QBLOCKS", SZ_QROWS }, { "DEQUANT", SZ_RK4 },
  { "Y", SZ_K4 },        { "YQ", SZ_YQ },        { "YQREF", SZ_YQ },      { "VECDOT", SZ_R4OPT },
  { "VECDOTG", SZ_R4OPT }, { "REFDOTF", SZ_R8 }, { "REFDOTQ", SZ_R8OPT },
};
static const tv_spec spec_random[] = { { "QBLOCKS", SZ_QROWS }, { "DEQUANT", SZ_RK4 } };

static uint32_t rd32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
  return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* a NUL-padded name field of n bytes into out[n+1]; 0 if not printable */
static int rdname(const unsigned char *p, size_t n, char *out)
{
  size_t i = 0;
  for (; i < n && p[i]; i++) {
    if (p[i] < 0x21 || p[i] > 0x7e) return 0;
    out[i] = (char)p[i];
  }
  out[i] = 0;
  for (; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static int host_is_little_endian(void)
{
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

static unsigned char *read_all(const char *path, size_t *size)
{
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      unsigned char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) break;
  }
  if (buf && ferror(fp)) {
    free(buf);
    buf = NULL;
  }
  fclose(fp);
  *size = n;
  return buf;
}

/* the size a section must have, or -1 when 0 and the full size are both
 * fine (never: the flags decide) */
static int expected_len(const tv_header *h, int code, uint64_t *len)
{
  const uint64_t R = h->rows, K = h->cols;
  const int vd = (h->flags & TV_FLAG_VECDOT) != 0;
  switch (code) {
  case SZ_RK4: *len = R * K * 4; return 1;
  case SZ_K4: *len = K * 4; return 1;
  case SZ_IMAT: *len = (h->flags & TV_FLAG_IMATRIX) ? K * 4 : 0; return 1;
  case SZ_QROWS: *len = R * h->row_bytes; return 1;
  case SZ_YQ:
    if (!vd) {
      *len = 0;
      return 1;
    }
    if (!h->vdot_block_elems || K % h->vdot_block_elems) return 0;
    *len = K / h->vdot_block_elems * h->vdot_block_bytes;
    return 1;
  case SZ_R4OPT: *len = vd ? R * 4 : 0; return 1;
  case SZ_R8: *len = R * 8; return 1;
  case SZ_R8OPT: *len = vd ? R * 8 : 0; return 1;
  }
  return 0;
}

#define TV_FAIL(...)                            \
  do {                                          \
    diag("tvec: %s: " __VA_ARGS__);             \
    tv_close(f);                                \
    return NULL;                                \
  } while (0)

tv_file *tv_open(const char *path)
{
  tv_file *f = NULL;
  if (!path) {
    diag("tvec: NULL path");
    return NULL;
  }
  if (!host_is_little_endian()) {
    diag("tvec: %s: the reader needs a little-endian host", path);
    return NULL;
  }
  f = calloc(1, sizeof *f);
  if (!f) {
    diag("tvec: %s: out of memory", path);
    return NULL;
  }
  f->path = malloc(strlen(path) + 1);
  if (f->path) strcpy(f->path, path);
  f->img = read_all(path, &f->size);
  if (!f->path || !f->img) TV_FAIL("cannot read the file", path);

  const unsigned char *p = f->img;
  tv_header *h = &f->h;
  if (f->size < TV_HEADER_BYTES) TV_FAIL("shorter than the 128-byte header", path);
  if (memcmp(p, "GLLMKTV1", 8)) TV_FAIL("bad magic", path);
  h->version = rd32(p + 8);
  h->kind = rd32(p + 12);
  if (h->version != 1) TV_FAIL("unsupported version %u", path, (unsigned)h->version);
  if (rd32(p + 100) != TV_HEADER_BYTES) TV_FAIL("header size is not 128", path);
  if (h->kind < 1 || h->kind > 3) TV_FAIL("unknown case kind %u", path, (unsigned)h->kind);
  if (!rdname(p + 16, 16, h->type_name) || !h->type_name[0]) TV_FAIL("bad type name", path);
  h->type_id = rd32(p + 32);
  h->block_elems = rd32(p + 36);
  h->block_bytes = rd32(p + 40);
  h->rows = rd32(p + 44);
  h->cols = rd32(p + 48);
  h->row_bytes = rd32(p + 52);
  if (!rdname(p + 56, 16, h->vdot_name)) TV_FAIL("bad vec_dot type name", path);
  h->vdot_id = rd32(p + 72);
  h->vdot_block_elems = rd32(p + 76);
  h->vdot_block_bytes = rd32(p + 80);
  h->flags = rd32(p + 84);
  h->seed = rd64(p + 88);
  h->n_sections = rd32(p + 96);
  for (int i = 104; i < TV_HEADER_BYTES; i++)
    if (p[i]) TV_FAIL("reserved header bytes are not zero", path);
  if (!h->block_elems || !h->block_bytes || h->cols % h->block_elems)
    TV_FAIL("bad block geometry (%u elements, %u bytes, %u columns)", path,
            (unsigned)h->block_elems, (unsigned)h->block_bytes, (unsigned)h->cols);
  if ((uint64_t)h->cols / h->block_elems * h->block_bytes != h->row_bytes)
    TV_FAIL("row_bytes %u does not match the geometry", path, (unsigned)h->row_bytes);

  const tv_spec *spec = h->kind == TV_KIND_RANDOM ? spec_random : spec_quantized;
  const unsigned nspec = h->kind == TV_KIND_RANDOM
                             ? (unsigned)(sizeof spec_random / sizeof spec_random[0])
                             : (unsigned)(sizeof spec_quantized / sizeof spec_quantized[0]);
  if (h->n_sections != nspec)
    TV_FAIL("%u sections, expected %u", path, (unsigned)h->n_sections, nspec);

  size_t off = TV_HEADER_BYTES;
  for (unsigned s = 0; s < nspec; s++) {
    tv_section_rec *r = &f->sec[s];
    if (f->size - off < 16) TV_FAIL("section %u truncated", path, s);
    if (!rdname(p + off, 8, r->tag)) TV_FAIL("section %u: bad tag", path, s);
    if (strcmp(r->tag, spec[s].tag))
      TV_FAIL("section %u is %s, expected %s", path, s, r->tag, spec[s].tag);
    uint64_t len = rd64(p + off + 8), want = 0;
    off += 16;
    if (len > f->size - off) TV_FAIL("section %s runs past the end", path, r->tag);
    if (!expected_len(h, spec[s].size, &want) || len != want)
      TV_FAIL("section %s has %llu bytes, expected %llu", path, r->tag,
              (unsigned long long)len, (unsigned long long)want);
    r->off = off;
    r->len = (size_t)len;
    size_t padded = (r->len + 7) & ~(size_t)7;
    if (padded > f->size - off) TV_FAIL("section %s: padding runs past the end", path, r->tag);
    for (size_t i = r->len; i < padded; i++)
      if (p[off + i]) TV_FAIL("section %s: padding is not zero", path, r->tag);
    off += padded;
  }
  f->n_sec = nspec;
  if (off != f->size) TV_FAIL("%zu bytes after the last section", path, f->size - off);
  return f;
}

void tv_close(tv_file *f)
{
  if (!f) return;
  free(f->img);
  free(f->path);
  free(f);
}

const tv_header *tv_hdr(const tv_file *f) { return &f->h; }

const char *tv_path(const tv_file *f) { return f->path; }

const void *tv_section(const tv_file *f, const char *tag, size_t *len)
{
  for (unsigned s = 0; s < f->n_sec; s++)
    if (!strcmp(f->sec[s].tag, tag)) {
      if (len) *len = f->sec[s].len;
      return f->img + f->sec[s].off;
    }
  if (len) *len = 0;
  return NULL;
}

static char *join(const char *dir, const char *mid, const char *type_name, const char *case_name)
{
  size_t n = strlen(dir) + strlen(mid) + strlen(type_name) + strlen(case_name) + 8;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s%s.%s.bin", dir, mid, type_name, case_name);
  return s;
}

static int readable(const char *path)
{
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  fclose(fp);
  return 1;
}

char *tv_find(const char *type_name, const char *case_name)
{
  const char *top = getenv("top_srcdir");
  const char *env = getenv("GLLMK_TESTVECTORS");
  if (!top || !*top) top = ".";
  struct { const char *dir, *mid, *what; } where[] = {
    { env, "/", "$GLLMK_TESTVECTORS" },
    { top, "/../shared/testvectors/", "full set" },
    { top, "/tests/data/", "reduced copy" },
  };
  for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
    if (!where[i].dir || !*where[i].dir) continue;
    char *p = join(where[i].dir, where[i].mid, type_name, case_name);
    if (p && readable(p)) {
      diag("test vectors %s.%s: %s (%s)", type_name, case_name, p, where[i].what);
      return p;
    }
    free(p);
  }
  diag("test vectors %s.%s: not found (top_srcdir=%s)", type_name, case_name, top);
  return NULL;
}
