/* quant.c -- gllmk-bench: the quantized formats, their weights, timed calls and checks
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"
#include "quant.h"

/* ================================================================ quantized kernels
 *
 * The formats of gllmk/quant.h (the 21 GGUF types, SqueezeLLM, AWQ4, GPTQ4)
 * and the int4 / int8 matrices of gllmk_gemm_q4 / gllmk_gemm_q8:
 *  - dequantize: an [n x k] matrix decoded row by row into one reused row
 *    buffer (so the decoder, not store bandwidth, is measured; as ggml's
 *    to_float was measured in shared/anchors/ggml.md), the rows split over T
 *    threads; and the whole matrix in one call (library threads);
 *  - decode: y[1 x n] = x . W^T, the weights rotating through copies that
 *    together exceed the last-level cache several times, as a model's layers
 *    do; GB/s counts every weight byte (codes, scales, zero points);
 *  - prefill: m = 128 and 512 activation rows, weights hot.
 * The weights are random bytes whose floating-point scale fields are then
 * overwritten with +-2^u, u in [-12, 0] (as shared/testvectors/README.md
 * builds its random blocks), so no NaN or infinity appears.  ggml side by
 * side on the same bytes (gllmk_qtype values are ggml type ids), one thread:
 * to_float per row, and vec_dot per row with x quantized beforehand to the
 * vec_dot_type; ggml is reported for a format only if its to_float decodes
 * the first rows exactly as gllmk does.  The scalar ISA is timed on the
 * first rows only and its rate extrapolated to the whole matrix. */

const qfmt qfmts[] = {
#define GLLMK_QFMT(tok, QT, ...) {GLLMK_##QT, QK_GGUF},
#include "quant/qformats.def"
#undef GLLMK_QFMT
  {GLLMK_SQUEEZELLM, QK_SQUEEZE}, {GLLMK_AWQ4, QK_AWQ}, {GLLMK_GPTQ4, QK_GPTQ},     {0, QK_INT4},
  {0, QK_INT8},
};
_Static_assert(sizeof qfmts / sizeof *qfmts == NQF, "NQF (quant.h) is the number of formats");

const char *qf_name(const qfmt *f)
{
  if (f->kind == QK_INT4) return "int4";
  if (f->kind == QK_INT8) return "int8";
  const char *n = gllmk_qtype_name((gllmk_qtype)f->t);
  return n ? n : "?";
}
int qf_has_deq(const qfmt *f) { return f->kind != QK_INT4 && f->kind != QK_INT8; }
const char *qf_matmul_name(const qfmt *f)
{
  switch (f->kind) {
  case QK_AWQ: return "awq_matmul";
  case QK_GPTQ: return "gptq_matmul";
  case QK_INT4: return "gemm_q4";
  case QK_INT8: return "gemm_q8";
  default: return "fused_dequant_gemv";
  }
}
const char *qf_deq_name(const qfmt *f)
{
  return f->kind == QK_AWQ ? "dequant_awq4" : f->kind == QK_GPTQ ? "dequant_gptq4" : "dequantize";
}

/* the three parts, for --op and --list */
const char *const qparts_names[3] = {"quant_dequant", "quant_decode", "quant_prefill"};

int qf_selected(const qfmt *f)
{
  if (opt.n_qtypes == 0) return 1;
  for (int i = 0; i < opt.n_qtypes; i++)
    if (!strcasecmp(opt.qtypes[i], qf_name(f))) return 1;
  return 0;
}

/* bit mask of the selected parts: 1 dequantize, 2 decode, 4 prefill */
int quant_parts(void)
{
  if (opt.dtype_mask && !(opt.dtype_mask & (1 << DT_F32))) return 0;
  int any = 0;
  for (int i = 0; i < NQF; i++) any |= qf_selected(&qfmts[i]);
  if (!any) return 0;
  if (opt.n_ops == 0) return 7;
  int m = 0;
  for (int i = 0; i < opt.n_ops; i++)
    for (int j = 0; j < 3; j++)
      if (!strcmp(opt.ops[i], "quant") || strstr(qparts_names[j], opt.ops[i])) m |= 1 << j;
  return m;
}

qlayout q_layout(const qfmt *f, size_t k)
{
  qlayout L;
  memset(&L, 0, sizeof L);
  L.f = f;
  L.k = k;
  switch (f->kind) {
  case QK_AWQ: L.rb = k / 2; L.ng = k / 128; L.zb = (L.ng + 1) / 2; L.sb = 2 * L.ng; break;
  case QK_GPTQ: L.rb = k / 2; L.ng = k / 128; L.sb = 2 * L.ng; break;
  case QK_INT4: L.rb = k / 2; L.sb = 4; break;
  case QK_INT8: L.rb = k; L.sb = 4; break;
  default: L.rb = gllmk_qtype_row_bytes((gllmk_qtype)f->t, k); break;
  }
  return L;
}
double q_rowbytes(const qlayout *L) { return (double)(L->rb + L->zb + L->sb); }
double q_bits(const qlayout *L) { return q_rowbytes(L) * 8.0 / (double)L->k; }

struct bench_Q Q;

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* where each GGUF format keeps its scales: the sc, d_off and m_off columns
 * of lib/quant/qformats.def */
enum { QS_F16, QS_F32, QS_E8M0, QS_IQ1M };
static const struct {
  int t, sc, d_off, m_off;
} qscales[] = {
#define GLLMK_QFMT(tok, QT, name, bs, bb, kind, dot, fam, sc, d_off, m_off, quant) \
  {GLLMK_##QT, QS_##sc, d_off, m_off},
#include "quant/qformats.def"
#undef GLLMK_QFMT
};

/* overwrite the floating-point scale fields of one block: d, then the min */
static void q_fix_block(int t, uint8_t *b, uint64_t *s)
{
#define SC() Q.sc16[splitmix(s) & 255]
  if (t == GLLMK_SQUEEZELLM) { /* the 8 codebook entries */
    for (int i = 0; i < 8; i++) put16(b + 2 * i, SC());
    return;
  }
  size_t f = 0;
  while (f < sizeof qscales / sizeof *qscales && qscales[f].t != t) f++;
  if (f == sizeof qscales / sizeof *qscales) return;
  uint8_t *d = b + qscales[f].d_off;
  switch (qscales[f].sc) {
  case QS_F16: put16(d, SC()); break;
  case QS_F32: { /* Q8_K: f32 d, and bsums consistent with the codes */
    gllmk_f16 h = {SC()};
    float v = gllmk_f16_to_f32(h);
    memcpy(d, &v, 4);
    for (int i = 0; i < 16; i++) {
      int sum = 0;
      for (int j = 0; j < 16; j++) sum += (int8_t)b[4 + 16 * i + j];
      int16_t v16 = (int16_t)sum;
      memcpy(b + 260 + 2 * i, &v16, 2);
    }
    break;
  }
  case QS_IQ1M: { /* the f16 super-scale: top nibbles of the four u16 scale words */
    uint16_t h = SC();
    for (int i = 0; i < 4; i++) {
      uint16_t w;
      memcpy(&w, d + 2 * i, 2);
      w = (uint16_t)((w & 0x0FFFu) | (((unsigned)h >> (4 * i) & 0xFu) << 12));
      memcpy(d + 2 * i, &w, 2);
    }
    break;
  }
  case QS_E8M0: /* the E8M0 byte: 2^(e-128) in [2^-12, 1], the f16 scales' range */
    *d = (uint8_t)(116 + splitmix(s) % 13);
    break;
  }
  if (qscales[f].m_off >= 0) put16(b + qscales[f].m_off, SC());
#undef SC
}

/* make rows [0, rows) of the arenas valid weights of L's format */
void q_prepare(const qlayout *L, size_t rows, uint64_t seed)
{
  const qfmt *f = L->f;
  if (f->kind == QK_GGUF || f->kind == QK_SQUEEZE) {
    size_t bb = gllmk_qtype_block_bytes((gllmk_qtype)f->t), nb = rows * L->rb / bb;
    const size_t B = 4096;
    size_t nchunk = (nb + B - 1) / B;
    OMP_PARALLEL_FOR
    for (size_t c = 0; c < nchunk; c++) {
      uint64_t st = seed * 0x100000001b3ull + c * 0x9e3779b1ull;
      size_t e = (c + 1) * B < nb ? (c + 1) * B : nb;
      for (size_t i = c * B; i < e; i++) q_fix_block(f->t, Q.w + i * bb, &st);
    }
  } else if (f->kind == QK_AWQ || f->kind == QK_GPTQ) { /* zero points: the random bytes */
    uint64_t st = seed;
    for (size_t i = 0; i < rows * L->ng; i++) put16(Q.s + 2 * i, Q.sc16[splitmix(&st) & 255]);
    for (size_t j = 0; j < L->k; j++) Q.gidx[j] = (int32_t)(j / 128);
  } else {
    uint64_t st = seed;
    for (size_t i = 0; i < rows; i++) {
      gllmk_f16 h = {Q.sc16[splitmix(&st) & 255]};
      float v = gllmk_f16_to_f32(h);
      memcpy(Q.s + 4 * i, &v, 4);
    }
  }
}

void fill_bytes(uint8_t *p, size_t n, uint64_t seed)
{
  const size_t B = (size_t)1 << 20;
  size_t nb = (n + B - 1) / B;
  OMP_PARALLEL_FOR
  for (size_t b = 0; b < nb; b++) {
    uint64_t s = seed * 0x100000001b3ull + b * 0x9e3779b1ull;
    size_t e = (b + 1) * B < n ? (b + 1) * B : n, i = b * B;
    for (; i + 8 <= e; i += 8) {
      uint64_t v = splitmix(&s);
      memcpy(p + i, &v, 8);
    }
    for (; i < e; i++) p[i] = (uint8_t)splitmix(&s);
  }
}

/* y[m x n] = x[m x k] . W^T, W the n rows from row r0 */
gllmk_status q_mm(const qlayout *L, size_t r0, const float *x, float *y, size_t m, size_t n)
{
  const uint8_t *w = Q.w + r0 * L->rb, *z = Q.z + r0 * L->zb;
  const void *s = Q.s + r0 * L->sb;
  size_t wb = n * L->rb, k = L->k;
  switch (L->f->kind) {
  case QK_AWQ: return gllmk_awq_matmul_f32(w, wb, z, s, x, y, m, n, k);
  case QK_GPTQ: return gllmk_gptq_matmul_f32(w, wb, Q.gidx, s, L->ng, x, y, m, n, k);
  case QK_INT4: return gllmk_gemm_q4_f32(w, wb, x, y, s, m, n, k);
  case QK_INT8: return gllmk_gemm_q8_f32((const int8_t *)w, wb, x, y, s, m, n, k);
  default: return gllmk_fused_dequant_gemv_f32(w, wb, x, y, (gllmk_qtype)L->f->t, m, n, k);
  }
}

/* rows [r0, r0 + n) to f32 in one call (int4 / int8: by their definition here) */
gllmk_status q_deq(const qlayout *L, size_t r0, size_t n, float *out)
{
  const uint8_t *w = Q.w + r0 * L->rb, *z = Q.z + r0 * L->zb;
  const void *s = Q.s + r0 * L->sb;
  size_t k = L->k;
  switch (L->f->kind) {
  case QK_AWQ: return gllmk_dequant_awq4(w, z, s, out, n, k);
  case QK_GPTQ: return gllmk_dequant_gptq4(w, Q.gidx, s, L->ng, out, n, k);
  case QK_INT4:
  case QK_INT8:
    for (size_t r = 0; r < n; r++) {
      float sc;
      memcpy(&sc, (const uint8_t *)s + 4 * r, 4);
      for (size_t j = 0; j < k; j++) {
        int q = L->f->kind == QK_INT8 ? (int)(int8_t)w[r * k + j]
                                      : ((w[r * (k / 2) + j / 2] >> (4 * (j % 2))) & 15) - 8;
        out[r * k + j] = sc * (float)q;
      }
    }
    return GLLMK_OK;
  default: return gllmk_dequantize((gllmk_qtype)L->f->t, w, n * L->rb, out, n * k);
  }
}

/* ---------------------------------------------------------------- timed calls */

typedef struct {
  qjob *j;
  int t;
  void (*fn)(qjob *, int);
} qthr_arg;

static void *q_thread(void *a)
{
  qthr_arg *p = a;
  p->fn(p->j, p->t);
  return NULL;
}

/* fn(j, t) for t in [0, j->T), concurrently; the first error */
static gllmk_status q_par(qjob *j, void (*fn)(qjob *, int))
{
  pthread_t th[MAX_LIST];
  qthr_arg args[MAX_LIST];
  for (int t = 1; t < j->T; t++) {
    args[t].j = j;
    args[t].t = t;
    args[t].fn = fn;
    if (pthread_create(&th[t], NULL, q_thread, &args[t]) != 0) die("pthread_create failed");
  }
  fn(j, 0);
  for (int t = 1; t < j->T; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < j->T; t++)
    if (j->st[t] != GLLMK_OK) return j->st[t];
  return GLLMK_OK;
}

static void deq_rows_part(qjob *j, int t)
{
  size_t a = j->n * (size_t)t / (size_t)j->T, b = j->n * (size_t)(t + 1) / (size_t)j->T;
  gllmk_status st = GLLMK_OK;
  for (size_t r = a; r < b; r++) {
    gllmk_status s = q_deq(j->L, r, 1, Q.rowbuf[t]);
    if (s != GLLMK_OK) st = s;
  }
  j->st[t] = st;
}
static void gg_rows_part(qjob *j, int t)
{
  size_t a = j->n * (size_t)t / (size_t)j->T, b = j->n * (size_t)(t + 1) / (size_t)j->T;
  for (size_t r = a; r < b; r++) j->to_float(Q.w + r * j->L->rb, Q.rowbuf[t], (int64_t)j->L->k);
  j->st[t] = GLLMK_OK;
}
gllmk_status r_deq_rows(void *v) { return q_par(v, deq_rows_part); }
gllmk_status r_gg_rows(void *v) { return q_par(v, gg_rows_part); }
gllmk_status r_deq_whole(void *v)
{
  qjob *j = v;
  return q_deq(j->L, 0, j->n, Q.whole);
}
/* first row of the next weight copy */
static size_t q_next(qjob *j)
{
  size_t r0 = (size_t)j->rot * j->n;
  j->rot = (j->rot + 1) % j->nrot;
  return r0;
}
gllmk_status r_qmm(void *v)
{
  qjob *j = v;
  return q_mm(j->L, q_next(j), j->x, j->y, j->m, j->n);
}
/* ggml_mul_mat: the gg_mm in j->yq on j->T threads */
gllmk_status r_gg_mm(void *v)
{
  qjob *j = v;
  return gg_mm_run((gg_mm *)(uintptr_t)j->yq, j->T) == 0 ? GLLMK_OK : GLLMK_E_INVAL;
}

gllmk_status r_gg_dot(void *v)
{
  qjob *j = v;
  const uint8_t *w = Q.w + q_next(j) * j->L->rb;
  for (size_t r = 0; r < j->n; r++) j->vec_dot((int)j->L->k, j->y + r, 0, w + r * j->L->rb, 0, j->yq, 0, 1);
  return GLLMK_OK;
}

qjob q_job(const qlayout *L, size_t n, size_t m, int T, int nrot)
{
  qjob j;
  memset(&j, 0, sizeof j);
  j.L = L;
  j.n = n;
  j.m = m;
  j.T = T < 1 ? 1 : T > MAX_LIST ? MAX_LIST : T;
  j.nrot = nrot < 1 ? 1 : nrot;
  j.x = Q.x;
  j.y = Q.y;
  j.yq = Q.yq;
  return j;
}

/* median seconds per call of `samples` samples of >= min_time each; at most
 * 3 samples when one call takes more than 2 min_time */
double qtime(qfn fn, void *ctx, double min_time, int samples, gllmk_status *st)
{
  double a = now();
  *st = fn(ctx);
  double t1 = now() - a;
  if (*st != GLLMK_OK) return NAN;
  long reps = 1;
  if (t1 < min_time) {
    double bt = t1;
    while (bt < min_time / 8 && reps < (1L << 40)) {
      reps *= 2;
      a = now();
      for (long r = 0; r < reps; r++) fn(ctx);
      bt = now() - a;
    }
    reps = (long)ceil((double)reps * min_time / bt);
    if (reps < 1) reps = 1;
  } else if (t1 > 2 * min_time && samples > 3) {
    samples = 3;
  }
  double v[64];
  if (samples > 64) samples = 64;
  if (samples < 1) samples = 1;
  for (int i = 0; i < samples; i++) {
    int bad = 0;
    a = now();
    for (long r = 0; r < reps; r++) bad |= fn(ctx) != GLLMK_OK;
    v[i] = (now() - a) / (double)reps;
    if (bad) *st = fn(ctx);
  }
  return median(v, samples);
}

/* ---------------------------------------------------------------- checks */

/* exact y[i][r] = X[i] . Wd[r] in double, sum |w x|, and the error the
 * integer path may make: activations quantized to int8 per `chunk` values
 * (error <= max|x| / 254 per value, the scale itself rounded to f16: 2^-9
 * slack), plus f32 rounding (1e-4 of sum |w x|); chunk 0: f32 path only */
void q_exact(const float *wd, const float *X, size_t m, size_t n, size_t k, size_t chunk, double *bdo)
{
  for (size_t i = 0; i < m; i++)
    for (size_t r = 0; r < n; r++) {
      const float *w = wd + r * k, *x = X + i * k;
      double e = 0, ab = 0, bd = 0;
      size_t c = chunk ? chunk : k;
      for (size_t c0 = 0; c0 < k; c0 += c) {
        double amax = 0, sw = 0;
        for (size_t j = c0; j < c0 + c && j < k; j++) {
          double p = (double)w[j] * (double)x[j];
          e += p;
          ab += fabs(p);
          sw += fabs((double)w[j]);
          if (fabs((double)x[j]) > amax) amax = fabs((double)x[j]);
        }
        if (chunk) bd += amax / 254.0 * sw;
      }
      Q.ex[i * n + r] = e;
      Q.ab[i * n + r] = ab;
      bdo[i * n + r] = bd * (1.0 + 1.0 / 512) + 1e-4 * ab + 1e-30;
    }
}

/* max over the outputs of |y - exact| / allowed error (> 1: out of bound); INFINITY on NaN */
double q_err(const float *y, size_t cnt, const double *bd)
{
  double worst = 0;
  for (size_t i = 0; i < cnt; i++) {
    if (!isfinite(y[i])) return INFINITY;
    double e = fabs((double)y[i] - Q.ex[i]) / bd[i];
    if (e > worst) worst = e;
  }
  return worst;
}

size_t count_diff(const float *a, const float *b, size_t n)
{
  size_t d = 0;
  for (size_t i = 0; i < n; i++) d += memcmp(a + i, b + i, sizeof(float)) != 0;
  return d;
}

/* ---------------------------------------------------------------- results per format */

qres qres_[NQF][MAX_LIST]; /* per format and ISA */
qggml qgg[NQF];
int qthr[MAX_LIST], n_qthr;
struct bench_QS QS;

void q_progress(const char *part, int i, int n, const char *name, const char *what)
{
  if (opt.quiet) return;
  int tty = isatty(2);
  if (!tty && strncmp(what, "preparing", 9)) return; /* a log gets one line per format and part */
  fprintf(stderr, "%s[%s %d/%d] %s: %s%s", tty ? "\r\033[K" : "", part, i, n, name, what, tty ? "" : "\n");
  fflush(stderr);
}
void q_progress_done(void)
{
  if (!opt.quiet && isatty(2)) fprintf(stderr, "\r\033[K");
}

const roofline *roof_for(int T)
{
  for (int i = 0; i < n_roofs; i++)
    if (roofs[i].threads == T) return &roofs[i];
  if (n_roofs >= 2 * MAX_LIST) die("internal: too many rooflines");
  roofline *r = &roofs[n_roofs++];
  if (!opt.quiet) fprintf(stderr, "measuring the roofline on %d thread(s)...\n", T);
  measure_roofline(T, r);
  print_roofline(r);
  return r;
}

int scalar_ok(void) { return isa_runnable("scalar"); }

/* the result rows of CSV / JSON */
result *q_result(const qfmt *f, const char *op, const char *shape, const char *isa, int T)
{
  result *r = new_result();
  r->group = "quant";
  r->op = op;
  r->dtype = "f32";
  r->roof_kind = "none";
  r->roof = NAN;
  snprintf(r->shape, sizeof r->shape, "%s", shape);
  snprintf(r->isa, sizeof r->isa, "%s", isa);
  snprintf(r->qtype, sizeof r->qtype, "%s", qf_name(f));
  r->threads = T;
  return r;
}
void q_count_check(const char *chk)
{
  if (!strncmp(chk, "MISMATCH", 8) || !strncmp(chk, "BOUND", 5)) n_mismatch++;
  if (!strncmp(chk, "ERROR", 5)) n_error++;
}
