/* testutil.c -- shared helpers of the gllmk TAP tests (see testutil.h)
 * SPDX-License-Identifier: MIT
 */
#define TAP_IMPLEMENTATION
#include "testutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ dtypes */
const char *tu_dtname(tu_dtype dt)
{
  switch (dt) {
  case TU_F32: return "f32";
  case TU_F16: return "f16";
  case TU_BF16: return "bf16";
  }
  return "?";
}

size_t tu_esize(tu_dtype dt)
{
  return dt == TU_F32 ? sizeof(float) : 2;
}

double tu_get(tu_dtype dt, const void *p, size_t i)
{
  switch (dt) {
  case TU_F32: return ((const float *)p)[i];
  case TU_F16: return gllmk_f16_to_f32(((const gllmk_f16 *)p)[i]);
  case TU_BF16: return gllmk_bf16_to_f32(((const gllmk_bf16 *)p)[i]);
  }
  return NAN;
}

void tu_put(tu_dtype dt, void *p, size_t i, double v)
{
  switch (dt) {
  case TU_F32: ((float *)p)[i] = (float)v; break;
  case TU_F16: ((gllmk_f16 *)p)[i] = gllmk_f32_to_f16((float)v); break;
  case TU_BF16: ((gllmk_bf16 *)p)[i] = gllmk_f32_to_bf16((float)v); break;
  }
}

double tu_round_dt(tu_dtype dt, double v)
{
  unsigned char buf[4];
  tu_put(dt, buf, 0, v);
  return tu_get(dt, buf, 0);
}

void tu_decode(tu_dtype dt, double *dst, const void *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = tu_get(dt, src, i);
}

/* ------------------------------------------------------------------ RNG */
static uint64_t tu__state;
static uint64_t tu__seed;

static void tu__seed_from_env(void)
{
  const char *s = getenv("GLLMK_TEST_SEED");
  tu__seed = 0x676c6c6d6b2d3031ull; /* "gllmk-01": fixed so runs are reproducible */
  if (s && *s)
    tu__seed = strtoull(s, NULL, 0);
  tu__state = tu__seed;
}

void tu_init_seed_only(void)
{
  tu__seed_from_env();
  diag("seed %llu (set GLLMK_TEST_SEED to reproduce or vary)",
       (unsigned long long)tu__seed);
}

void tu_dv_up(gllmk_backend *be, tu_dv *d, tu_arr *a)
{
  d->be = be;
  d->a = a;
  if (gllmk_buffer_alloc(be, a->mem_bytes, &d->buf) != GLLMK_OK)
    bail_out("gllmk_buffer_alloc(%zu) failed", a->mem_bytes);
  if (gllmk_buffer_upload(d->buf, 0, a->mem, a->mem_bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_upload failed");
  d->p = (unsigned char *)gllmk_buffer_data(d->buf) + ((unsigned char *)a->p - a->mem);
}

void tu_dv_reup(tu_dv *d)
{
  if (gllmk_buffer_upload(d->buf, 0, d->a->mem, d->a->mem_bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_upload failed");
}

void tu_dv_down(tu_dv *d)
{
  if (gllmk_backend_synchronize(d->be) != GLLMK_OK)
    bail_out("gllmk_backend_synchronize failed");
  if (gllmk_buffer_download(d->buf, 0, d->a->mem, d->a->mem_bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_download failed");
}

void tu_dv_free(tu_dv *d)
{
  gllmk_buffer_free(d->buf);
  memset(d, 0, sizeof *d);
}

#define TU_DEV_MAX 64
static gllmk_buffer *tu_devs[TU_DEV_MAX];
static int tu_ndevs;

void *tu_dev_at(gllmk_backend *be, const void *src, size_t bytes, size_t off)
{
  gllmk_buffer *b;
  if (tu_ndevs == TU_DEV_MAX || gllmk_buffer_alloc(be, bytes + off + 16, &b) != GLLMK_OK)
    bail_out("gllmk_buffer_alloc(%zu)", bytes);
  tu_devs[tu_ndevs++] = b;
  if (src && bytes && gllmk_buffer_upload(b, off, src, bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_upload");
  return (unsigned char *)gllmk_buffer_data(b) + off;
}

void *tu_dev(gllmk_backend *be, const void *src, size_t bytes) { return tu_dev_at(be, src, bytes, 0); }

/* the pool buffer holding the device address p, and p's offset in it */
static gllmk_buffer *tu_dev_buf(const void *p, size_t *off)
{
  for (int i = 0; i < tu_ndevs; i++) {
    const unsigned char *d = gllmk_buffer_data(tu_devs[i]);
    if ((const unsigned char *)p >= d && (const unsigned char *)p < d + gllmk_buffer_size(tu_devs[i])) {
      *off = (size_t)((const unsigned char *)p - d);
      return tu_devs[i];
    }
  }
  bail_out("not a test buffer");
  return NULL;
}

void tu_dev_up(void *d, const void *src, size_t bytes)
{
  size_t off;
  gllmk_buffer *b = tu_dev_buf(d, &off);
  if (gllmk_buffer_upload(b, off, src, bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_upload");
}

void tu_dev_down(gllmk_backend *be, void *dst, const void *d, size_t bytes)
{
  size_t off;
  gllmk_buffer *b = tu_dev_buf(d, &off);
  if (gllmk_backend_synchronize(be) != GLLMK_OK)
    bail_out("gllmk_backend_synchronize: device error %d", gllmk_backend_device_error(be));
  if (gllmk_buffer_download(b, off, dst, bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_download");
}

void tu_dev_free_all(gllmk_backend *be)
{
  if (gllmk_backend_synchronize(be) != GLLMK_OK)
    bail_out("gllmk_backend_synchronize");
  for (int i = 0; i < tu_ndevs; i++)
    gllmk_buffer_free(tu_devs[i]);
  tu_ndevs = 0;
}

int tu_cuda_open(gllmk_backend **be)
{
  if (getenv("GLLMK_TEST_NO_CUDA")) {
    printf("1..0 # SKIP GLLMK_TEST_NO_CUDA is set\n");
    return 0;
  }
  tu_init_seed_only();
  gllmk_status st = gllmk_backend_open("cuda", be);
  if (st == GLLMK_E_NO_DEVICE) {
    const char *req = getenv("GLLMK_TEST_REQUIRE_CUDA");
    if (req && !strcmp(req, "1"))
      bail_out("no CUDA device, and GLLMK_TEST_REQUIRE_CUDA=1: %s", gllmk_backend_error_message());
    printf("1..0 # SKIP no CUDA device (gllmk_backend_open: %s: %s)\n", tu_status_name(st),
           gllmk_backend_error_message());
    return 0;
  }
  if (st != GLLMK_OK) bail_out("gllmk_backend_open(\"cuda\"): %s", tu_status_name(st));
  return 1;
}

gllmk_backend *tu_be;

static void tu__close_backend(void) { gllmk_backend_close(tu_be); }

void tu_init(void)
{
  tu_init_seed_only();
  diag("gllmk %s, isa %s, compiled [%s], cpu features [%s], threads %d, openmp %d",
       gllmk_version(), gllmk_cpu_isa_name(), gllmk_cpu_isa_compiled(),
       gllmk_cpu_features(), gllmk_get_num_threads(), gllmk_has_openmp());
  const char *via = getenv("GLLMK_TEST_BACKEND");
  if (via && !strcmp(via, "cpu")) {
    /* 1 GiB of address space: the pages the ops touch are the only ones used */
    if (gllmk_backend_open("cpu", &tu_be) != GLLMK_OK ||
        gllmk_backend_reserve_workspace(tu_be, (size_t)1 << 30) != GLLMK_OK) {
      printf("Bail out! cannot open the cpu backend for GLLMK_TEST_BACKEND=cpu\n");
      exit(1);
    }
    atexit(tu__close_backend);
    diag("every op through the cpu backend's tables (GLLMK_TEST_BACKEND=cpu)");
  }
}

uint64_t tu_seed(void) { return tu__seed; }

uint64_t tu_rand_u64(void)
{
  /* splitmix64 */
  uint64_t z = (tu__state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double tu_rand01(void)
{
  return (double)(tu_rand_u64() >> 11) * 0x1p-53;
}

double tu_uniform(double lo, double hi)
{
  return lo + (hi - lo) * tu_rand01();
}

size_t tu_rand_below(size_t n)
{
  return n ? (size_t)(tu_rand_u64() % n) : 0;
}

void tu_permutation_u32(uint32_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint32_t)i;
  for (size_t i = n; i > 1; i--) {
    size_t j = tu_rand_below(i);
    uint32_t t = p[i - 1];
    p[i - 1] = p[j];
    p[j] = t;
  }
}

/* ------------------------------------------------------------------ memory */
void *tu_xmalloc(size_t bytes)
{
  void *p = malloc(bytes ? bytes : 1);
  if (!p)
    bail_out("out of memory (%zu bytes)", bytes);
  return p;
}

double *tu_dalloc(size_t n)
{
  double *p = calloc(n ? n : 1, sizeof *p);
  if (!p)
    bail_out("out of memory (%zu doubles)", n);
  return p;
}

void tu_dabs(const double *x, double *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = fabs(x[i]);
}

double *tu_random_vec(size_t n, double lo, double hi)
{
  double *v = tu_dalloc(n);
  for (size_t i = 0; i < n; i++)
    v[i] = tu_uniform(lo, hi);
  return v;
}

void tu_fill_random(void *p, size_t n)
{
  unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    b[i] = (unsigned char)tu_rand_u64();
}

/* ------------------------------------------------------------------ bytes */
uint16_t tu_rd16(const unsigned char *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

void tu_wr16(unsigned char *p, uint16_t v)
{
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

void tu_wr32(unsigned char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

double tu_h2d(uint16_t h)
{
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 0)
    v = ldexp((double)m, -24);
  else if (e == 31)
    v = m ? NAN : INFINITY;
  else
    v = ldexp((double)(m + 1024), e - 25);
  return s ? -v : v;
}

unsigned tu_nib(const unsigned char *p, size_t j)
{
  return (p[j / 2] >> (4 * (j % 2))) & 15;
}

/* ------------------------------------------------------------------ guarded byte buffers */
void tu_buf_alloc(tu_buf *b, size_t n, size_t off)
{
  memset(b, 0, sizeof *b);
  b->n = n;
  b->off = off;
  b->mem_bytes = (2 * TU_GUARD_BYTES + off + n + 63) & ~(size_t)63;
  b->mem = aligned_alloc(64, b->mem_bytes);
  if (!b->mem)
    bail_out("out of memory (%zu bytes)", b->mem_bytes);
  memset(b->mem, TU_CANARY, b->mem_bytes);
  b->p = b->mem + TU_GUARD_BYTES + off;
  b->snap = tu_xmalloc(n);
  memcpy(b->snap, b->p, n);
}

void tu_buf_free(tu_buf *b)
{
  free(b->mem);
  free(b->snap);
  memset(b, 0, sizeof *b);
}

void tu_buf_random(tu_buf *b)
{
  tu_fill_random(b->p, b->n);
  tu_buf_snapshot(b);
}

void tu_buf_snapshot(tu_buf *b)
{
  memcpy(b->snap, b->p, b->n);
}

int tu_buf_guards_ok(const tu_buf *b)
{
  size_t s = (size_t)(b->p - b->mem), e = s + b->n;
  for (size_t i = 0; i < s; i++)
    if (b->mem[i] != TU_CANARY)
      return 0;
  for (size_t i = e; i < b->mem_bytes; i++)
    if (b->mem[i] != TU_CANARY)
      return 0;
  return 1;
}

int tu_buf_unchanged(const tu_buf *b)
{
  return memcmp(b->snap, b->p, b->n) == 0;
}

int tu_buf_untouched(const tu_buf *b)
{
  return tu_buf_guards_ok(b) && tu_buf_unchanged(b);
}

void tu_buf_check_input(struct tu_check *c, const tu_buf *b, const char *what)
{
  tu_check_true(c, tu_buf_guards_ok(b), "%s: canary around the buffer overwritten", what);
  tu_check_true(c, tu_buf_unchanged(b), "%s: const input modified", what);
}

/* ------------------------------------------------------------------ guarded arrays */
static size_t tu__data_start(const tu_arr *a)
{
  return TU_GUARD_BYTES + a->off * tu_esize(a->dt);
}

void tu_arr_alloc(tu_arr *a, tu_dtype dt, size_t n, size_t off)
{
  size_t es = tu_esize(dt);
  memset(a, 0, sizeof *a);
  a->dt = dt;
  a->n = n;
  a->off = off;
  a->mem_bytes = TU_GUARD_BYTES + off * es + n * es + TU_GUARD_BYTES;
  a->mem_bytes = (a->mem_bytes + 63) & ~(size_t)63;
  a->mem = aligned_alloc(64, a->mem_bytes);
  if (!a->mem)
    bail_out("out of memory (%zu bytes)", a->mem_bytes);
  memset(a->mem, TU_CANARY, a->mem_bytes);
  a->p = a->mem + tu__data_start(a);
  a->v = tu_dalloc(n);
  a->snap = tu_xmalloc(n * es);
  memcpy(a->snap, a->p, n * es);
}

void tu_arr_free(tu_arr *a)
{
  free(a->mem);
  free(a->v);
  free(a->snap);
  memset(a, 0, sizeof *a);
}

void tu_arr_snapshot(tu_arr *a)
{
  memcpy(a->snap, a->p, a->n * tu_esize(a->dt));
}

void tu_arr_set(tu_arr *a, const double *vals)
{
  for (size_t i = 0; i < a->n; i++) {
    tu_put(a->dt, a->p, i, vals[i]);
    a->v[i] = tu_get(a->dt, a->p, i);
  }
  tu_arr_snapshot(a);
}

void tu_arr_uniform(tu_arr *a, double lo, double hi)
{
  for (size_t i = 0; i < a->n; i++) {
    tu_put(a->dt, a->p, i, tu_uniform(lo, hi));
    a->v[i] = tu_get(a->dt, a->p, i);
  }
  tu_arr_snapshot(a);
}

void tu_arr_poison(tu_arr *a)
{
  memset(a->p, TU_CANARY, a->n * tu_esize(a->dt));
  tu_arr_snapshot(a);
}

void tu_arr_read(const tu_arr *a, double *dst)
{
  tu_decode(a->dt, dst, a->p, a->n);
}

int tu_arr_guards_ok(const tu_arr *a)
{
  size_t s = tu__data_start(a), e = s + a->n * tu_esize(a->dt);
  if (!a->mem)
    return 1; /* freed or never allocated */
  for (size_t i = 0; i < s; i++)
    if (a->mem[i] != TU_CANARY)
      return 0;
  for (size_t i = e; i < a->mem_bytes; i++)
    if (a->mem[i] != TU_CANARY)
      return 0;
  return 1;
}

int tu_arr_unchanged(const tu_arr *a)
{
  return memcmp(a->snap, a->p, a->n * tu_esize(a->dt)) == 0;
}

void tu_arr_alias(tu_arr *dst, const tu_arr *src)
{
  *dst = *src;
}

/* ------------------------------------------------------------------ checks */
double tu_out_rtol(tu_dtype dt)
{
  switch (dt) {
  case TU_F32: return 0x1p-23;  /* one ulp */
  case TU_F16: return 1e-3;     /* 2^-11 = 4.9e-4 per rounding, two roundings */
  case TU_BF16: return 8e-3;    /* 2^-8 = 3.9e-3 per rounding, two roundings */
  }
  return 0;
}

double tu_out_atol(tu_dtype dt)
{
  switch (dt) {
  case TU_F32: return 0x1p-149;  /* one f32 subnormal step */
  case TU_F16: return 0x1p-24;   /* one f16 subnormal step (6e-8) */
  case TU_BF16: return 0x1p-133; /* one bf16 subnormal step */
  }
  return 0;
}

double tu_acc_eps(size_t n)
{
  return 1e-6 * sqrt((double)(n ? n : 1)) + 0x1p-22;
}

/* Magnitude from which a value rounds to infinity in dt (RNE). */
static double tu__overflow_threshold(tu_dtype dt)
{
  switch (dt) {
  case TU_F32: return 0x1.ffffffp127;  /* FLT_MAX + half an ulp */
  case TU_F16: return 65520.0;
  case TU_BF16: return 0x1.ffp127;     /* bf16 max (0x1.fep127) + half an ulp */
  }
  return INFINITY;
}

int tu_match(tu_dtype dt, double got, double ref, double tol)
{
  if (isnan(ref))
    return isnan(got);
  if (isnan(got))
    return 0;
  if (isinf(ref))
    return got == ref;
  double t = tol + tu_out_rtol(dt) * fabs(ref) + tu_out_atol(dt);
  double th = tu__overflow_threshold(dt);
  if (fabs(ref) - t >= th)
    return isinf(got) && (got > 0) == (ref > 0);
  if (isinf(got)) {
    /* only acceptable when ref is within tolerance of the threshold */
    return fabs(ref) + t >= th && (got > 0) == (ref > 0);
  }
  return fabs(got - ref) <= t;
}

void tu_check_init(tu_check *c)
{
  memset(c, 0, sizeof *c);
}

static void tu__fail_diag(tu_check *c, const char *fmt, va_list ap, const char *tail)
{
  c->fails++;
  if (c->shown < TU_SHOW_MAX) {
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    diag("  %s%s", buf, tail);
    c->shown++;
  }
}

int tu_check_out(tu_check *c, tu_dtype dt, double got, double ref, double tol,
                 const char *fmt, ...)
{
  c->count++;
  if (tu_match(dt, got, ref, tol))
    return 1;
  char tail[200];
  double t = tol + tu_out_rtol(dt) * fabs(ref) + tu_out_atol(dt);
  snprintf(tail, sizeof tail, ": got %.9g, expected %.9g (diff %.3g, tol %.3g)",
           got, ref, fabs(got - ref), t);
  va_list ap;
  va_start(ap, fmt);
  tu__fail_diag(c, fmt, ap, tail);
  va_end(ap);
  return 0;
}

int tu_check_true(tu_check *c, int cond, const char *fmt, ...)
{
  c->count++;
  if (cond)
    return 1;
  va_list ap;
  va_start(ap, fmt);
  tu__fail_diag(c, fmt, ap, "");
  va_end(ap);
  return 0;
}

int tu_check_status(tu_check *c, gllmk_status got, gllmk_status want,
                    const char *fmt, ...)
{
  c->count++;
  if (got == want)
    return 1;
  char tail[160];
  snprintf(tail, sizeof tail, ": status %s, expected %s", tu_status_name(got),
           tu_status_name(want));
  va_list ap;
  va_start(ap, fmt);
  tu__fail_diag(c, fmt, ap, tail);
  va_end(ap);
  return 0;
}

int tu_check_guards(tu_check *c, const tu_arr *a, const char *what)
{
  return tu_check_true(c, tu_arr_guards_ok(a),
                       "%s: canary around the buffer overwritten (n=%zu off=%zu)",
                       what, a->n, a->off);
}

int tu_check_input(tu_check *c, const tu_arr *a, const char *what)
{
  int r = tu_check_guards(c, a, what);
  return tu_check_true(c, tu_arr_unchanged(a), "%s: const input modified (n=%zu)",
                       what, a->n) && r;
}

int tu_check_done(tu_check *c, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (c->fails > TU_SHOW_MAX)
    diag("  ... %ld failures in all", c->fails);
  int r = ok(c->fails == 0 && c->count > 0, "%s (%ld checks)", buf, c->count);
  tu_check_init(c);
  return r;
}

const char *tu_status_name(gllmk_status s)
{
  switch (s) {
  case GLLMK_OK: return "GLLMK_OK";
  case GLLMK_E_INVAL: return "GLLMK_E_INVAL";
  case GLLMK_E_OVERFLOW: return "GLLMK_E_OVERFLOW";
  case GLLMK_E_UNSUPPORTED: return "GLLMK_E_UNSUPPORTED";
  case GLLMK_E_NO_DEVICE: return "GLLMK_E_NO_DEVICE";
  case GLLMK_E_DEVICE: return "GLLMK_E_DEVICE";
  case GLLMK_E_NOMEM: return "GLLMK_E_NOMEM";
  case GLLMK_E_NOT_FOUND: return "GLLMK_E_NOT_FOUND";
  }
  return "(unknown status)";
}

/* ------------------------------------------------------------------ loops */
/* 1 if word is one of the space- or comma-separated words of list */
static int tu_word_in(const char *list, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
    int start = p == list || p[-1] == ' ' || p[-1] == ',';
    int end = p[n] == 0 || p[n] == ' ' || p[n] == ',';
    if (start && end) return 1;
  }
  return 0;
}

void tu_for_each_isa(tu_isa_body fn, void *ctx)
{
  const char *compiled = gllmk_cpu_isa_compiled();
  if (!compiled || !*compiled) {
    ok(0, "gllmk_cpu_isa_compiled() lists at least one ISA");
    return;
  }
  char *list = tu_xmalloc(strlen(compiled) + 1);
  strcpy(list, compiled);
  char *save = NULL;
  /* GLLMK_TEST_ISAS="a b ...": only these of the compiled ISAs (a CI run per
   * SVE vector length need not repeat the others) */
  const char *only = getenv("GLLMK_TEST_ISAS");
  if (only && !*only) only = NULL;
  for (char *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (only && !tu_word_in(only, tok)) {
      skip("%s not in GLLMK_TEST_ISAS=\"%s\"", tok, only);
      continue;
    }
    gllmk_status st = gllmk_cpu_isa_check(tok);
    if (st != GLLMK_OK) {
      skip("cpu lacks %s (%s)", tok, tu_status_name(st));
      continue;
    }
    st = gllmk_cpu_set_isa(tok);
    if (st != GLLMK_OK) {
      ok(0, "gllmk_cpu_set_isa(%s) succeeds after gllmk_cpu_isa_check said OK (%s)",
         tok, tu_status_name(st));
      continue;
    }
    fn(tok, ctx);
  }
  free(list);
  gllmk_cpu_set_isa("auto");
}

static char tu__isa_names[TU_MAX_ISA][32];
static int tu__n_isa = -1;

static void tu__collect_isa(const char *isa, void *ctx)
{
  (void)ctx;
  if (tu__n_isa < TU_MAX_ISA)
    snprintf(tu__isa_names[tu__n_isa++], sizeof tu__isa_names[0], "%s", isa);
}

int tu_isa_count(void)
{
  if (tu__n_isa < 0) {
    tu__n_isa = 0;
    tu_for_each_isa(tu__collect_isa, NULL);
    if (!tu__n_isa)
      bail_out("no runnable ISA in gllmk_cpu_isa_compiled() = \"%s\"", gllmk_cpu_isa_compiled());
  }
  return tu__n_isa;
}

const char *tu_isa_name(int i)
{
  return i >= 0 && i < tu_isa_count() ? tu__isa_names[i] : "?";
}

void tu_isa_set(int i)
{
  gllmk_status st = gllmk_cpu_set_isa(tu_isa_name(i));
  if (st != GLLMK_OK)
    bail_out("gllmk_cpu_set_isa(%s): %s", tu_isa_name(i), tu_status_name(st));
}

void tu_for_each_dtype(tu_dt_body fn, void *ctx)
{
  fn(TU_F32, ctx);
  fn(TU_F16, ctx);
  fn(TU_BF16, ctx);
}

typedef struct tu__both {
  tu_isa_dt_body fn;
  void *ctx;
} tu__both;

static void tu__both_body(const char *isa, void *ctx)
{
  tu__both *b = ctx;
  for (int d = 0; d < TU_NDTYPES; d++)
    b->fn(isa, (tu_dtype)d, b->ctx);
}

void tu_for_each_isa_dtype(tu_isa_dt_body fn, void *ctx)
{
  tu__both b = { fn, ctx };
  tu_for_each_isa(tu__both_body, &b);
}

/* ------------------------------------------------------------------ isolated calls */
long tu_iso_start(int fds[2])
{
  fflush(stdout);
  fflush(stderr);
  if (pipe(fds))
    return -1;
  pid_t p = fork();
  if (p == 0) {
    close(fds[0]);
    alarm(20);
  } else if (p < 0) {
    close(fds[0]);
    close(fds[1]);
  }
  return (long)p;
}

void tu_iso_send(int fd, gllmk_status st, int untouched, float result)
{
  tu_iso m = { st, untouched, result, 0, 0 };
  ssize_t w = write(fd, &m, sizeof m);
  (void)w;
  _exit(0);
}

tu_iso tu_iso_collect(long pid, int fds[2])
{
  tu_iso m;
  memset(&m, 0, sizeof m);
  close(fds[1]);
  ssize_t n = read(fds[0], &m, sizeof m);
  close(fds[0]);
  int ws = 0;
  waitpid((pid_t)pid, &ws, 0);
  if (n != (ssize_t)sizeof m) {
    memset(&m, 0, sizeof m);
    m.lost = 1;
  }
  if (WIFSIGNALED(ws))
    m.sig = WTERMSIG(ws);
  return m;
}

int tu_iso_check(tu_check *c, const tu_iso *o, gllmk_status want, gllmk_status alt, const char *desc)
{
  if (o->sig) return tu_check_true(c, 0, "%s: crashed (signal %d)", desc, o->sig);
  if (o->lost) return tu_check_true(c, 0, "%s: the child gave no answer", desc);
  if (o->st != want && o->st != alt) return tu_check_status(c, o->st, want, "%s", desc);
  return tu_check_true(c, o->untouched, "%s: returned %s but wrote to a buffer", desc, tu_status_name(o->st));
}

#define TU_MAX_WATCH 16
static struct { const unsigned char *p; size_t n; unsigned char *snap; } tu_watched[TU_MAX_WATCH];
static int tu_n_watched;

void tu_watch(const void *p, size_t n)
{
  if (tu_n_watched == TU_MAX_WATCH) bail_out("too many watched buffers");
  tu_watched[tu_n_watched].p = p;
  tu_watched[tu_n_watched].n = n;
  tu_watched[tu_n_watched].snap = tu_xmalloc(n ? n : 1);
  memcpy(tu_watched[tu_n_watched].snap, p, n);
  tu_n_watched++;
}

int tu_watched_unchanged(void)
{
  for (int i = 0; i < tu_n_watched; i++)
    if (memcmp(tu_watched[i].p, tu_watched[i].snap, tu_watched[i].n)) return 0;
  return 1;
}

void tu_watch_clear(void)
{
  for (int i = 0; i < tu_n_watched; i++) free(tu_watched[i].snap);
  tu_n_watched = 0;
}
