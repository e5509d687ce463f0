/* cuda.c -- gllmk-bench's CUDA section (--backend=cuda[:N] or auto)
 * SPDX-License-Identifier: MIT
 *
 * The memory-bound operators of the CUDA backend, per operator, shape and
 * precision: run once on fresh random inputs and compare every output element
 * with the CPU backend's result on the same inputs (OK / MISMATCH), then time
 * (warm-up, batches of calls queued in order on the backend's stream with one
 * synchronize at the end of each, the median of several samples) and report
 * the bytes a call must move (each input read once, each output written
 * once), GB/s and the percentage of the device's theoretical DRAM bandwidth.
 * Operands are far larger than the L2 cache: the arrays themselves, or
 * several copies of them used in turn.  A device-to-device copy gives the
 * practical peak, and cuBLAS (dlopen'ed, never linked) runs side by side on
 * the same stream: cublasSdot/Saxpy/Sscal/Sgemv in f32, cublasGemmEx (n = 1)
 * for the f16 and bf16 GEMV.  GEMM (compute bound) reports TFLOP/s (2mnk
 * per call) instead, cublasGemmEx (f32 with f32 compute, no TF32; f16 and
 * bf16 with f32 accumulation) side by side.
 * flash_attention and flash_attention_paged (prefill, decode, paged decode
 * and chunked prefill) report TFLOP/s too: 4 x heads x head_dim per (query,
 * visible key) pair.  The quantized decode GEMV (m = 1: fused_dequant_gemv
 * with Q4_K weights, linear with bf16 weights) reports the GB/s of the
 * weights' bytes and their % of the DRAM peak; the Q4_K prefill (m = 512)
 * reports TFLOP/s (2mnk).  Q4_K weights are gllmk_quantize's of uniform
 * values.
 *
 * Uses only the public API.  Returns 0 when every check is OK, 1 on a
 * MISMATCH or an operator error, 2 when the CUDA backend cannot be opened
 * (a note and 0 under --backend=auto) or the filters select nothing.
 */
#include "cuda.h"

static const char *prog = "gllmk-bench";
struct cuda_opt O;

/* ================================================================ utilities */

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static float get_el(const void *p, int t, size_t i)
{
  switch (t) {
  case DT_F32: return ((const float *)p)[i];
  case DT_F16: return gllmk_f16_to_f32(((const gllmk_f16 *)p)[i]);
  case DT_BF16: return gllmk_bf16_to_f32(((const gllmk_bf16 *)p)[i]);
  default: return (float)((const uint32_t *)p)[i];
  }
}

static uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* an operand's inputs, deterministic per seed whatever the thread count;
 * operand i is filled with seed + i, so the sin table (i + 1) finds the
 * angles of the cos table under seed - 1 */
static void fill(void *p, const operand *o, uint64_t seed)
{
  const size_t B = 65536; /* a multiple of Q4_K's 256 values */
  if (o->trig == 2) seed--;
  size_t nblk = (o->n + B - 1) / B;
  OMP_FOR
  for (size_t blk = 0; blk < nblk; blk++) {
    uint64_t s = seed * 0x100000001b3ull + blk * 0x9e3779b1ull;
    size_t i1 = (blk + 1) * B < o->n ? (blk + 1) * B : o->n;
    if (o->t == DT_Q4K) { /* Q4_K weights: the values below, quantized (gllmk_quantize) */
      float *v = malloc(B * sizeof *v);
      if (!v) continue; /* the block stays as it was: the check fails */
      for (size_t i = 0; i < i1 - blk * B; i++)
        v[i] = o->lo + (o->hi - o->lo) * (float)(splitmix(&s) >> 40) * (1.0f / 16777216.0f);
      size_t off = gllmk_qtype_row_bytes(GLLMK_Q4_K, blk * B), nb = gllmk_qtype_row_bytes(GLLMK_Q4_K, i1 - blk * B);
      gllmk_quantize(GLLMK_Q4_K, v, i1 - blk * B, (char *)p + off, nb);
      free(v);
      continue;
    }
    for (size_t i = blk * B; i < i1; i++) {
      uint64_t r = splitmix(&s);
      float v = o->lo + (o->hi - o->lo) * (float)(r >> 40) * (1.0f / 16777216.0f);
      if (o->trig) {
        double th = 6.283185307179586 * (double)(r >> 11) * 0x1.0p-53;
        v = (float)(o->trig == 1 ? cos(th) : sin(th));
      }
      switch (o->t) {
      case DT_F32: ((float *)p)[i] = v; break;
      case DT_F16: ((gllmk_f16 *)p)[i] = gllmk_f32_to_f16(v); break;
      case DT_BF16: ((gllmk_bf16 *)p)[i] = gllmk_f32_to_bf16(v); break;
      default: ((uint32_t *)p)[i] = (uint32_t)((r >> 32) % (uint64_t)o->hi); break;
      }
    }
  }
}

static void fmt_time(char *b, size_t l, double t)
{
  if (!(t > 0) || !isfinite(t)) snprintf(b, l, "-");
  else if (t < 1e-3) snprintf(b, l, "%.2f us", t * 1e6);
  else if (t < 1) snprintf(b, l, "%.3f ms", t * 1e3);
  else snprintf(b, l, "%.2f s", t);
}

static void fmt_bytes(char *b, size_t l, double v)
{
  if (v >= 1e9) snprintf(b, l, "%.2f GB", v * 1e-9);
  else if (v >= 1e6) snprintf(b, l, "%.1f MB", v * 1e-6);
  else snprintf(b, l, "%.1f kB", v * 1e-3);
}

static void fmt_num(char *b, size_t l, double v, const char *f)
{
  if (isfinite(v) && v > 0) snprintf(b, l, f, v);
  else snprintf(b, l, "-");
}

/* ================================================================ cuBLAS (dlopen, never linked) */

typedef void *cublas_h;
static struct {
  void *lib;
  cublas_h h;
  int ok;
  char desc[320];
  int (*create)(cublas_h *);
  int (*destroy)(cublas_h);
  int (*set_stream)(cublas_h, void *);
  int (*set_pmode)(cublas_h, int);
  int (*get_property)(int, int *);
  int (*sdot)(cublas_h, int, const float *, int, const float *, int, float *);
  int (*saxpy)(cublas_h, int, const float *, const float *, int, float *, int);
  int (*sscal)(cublas_h, int, const float *, float *, int);
  int (*sgemv)(cublas_h, int, int, int, const float *, const float *, int, const float *, int, const float *,
               float *, int);
  int (*gemm_ex)(cublas_h, int, int, int, int, int, const void *, const void *, int, int, const void *, int, int,
                 const void *, void *, int, int, int, int);
} cb;
enum { CB_OP_N = 0, CB_OP_T = 1, CB_PMODE_HOST = 0, CB_PMODE_DEVICE = 1, CB_R_32F = 0, CB_R_16F = 2,
       CB_R_16BF = 14, CB_COMPUTE_32F = 68, CB_GEMM_DEFAULT = -1 };

/* path: NULL = libcublas.so.13 then .12; "" = disabled */
static void cublas_load(const char *path, gllmk_backend *be)
{
  if (path && !*path) {
    snprintf(cb.desc, sizeof cb.desc, "disabled (--no-cublas)");
    return;
  }
  const char *drv = secure_getenv("GLLMK_CUDA_DRIVER");
  if (!path && drv && *drv && strcmp(drv, "libcuda.so.1")) {
    /* libcublas would talk to libcuda.so.1, not to the driver gllmk uses */
    snprintf(cb.desc, sizeof cb.desc, "not used: GLLMK_CUDA_DRIVER selects another driver than libcuda.so.1 "
                                      "(--cublas=PATH tries anyway)");
    return;
  }
  const char *names[] = {"libcublas.so.13", "libcublas.so.12", "/usr/local/cuda/lib64/libcublas.so.13",
                         "/usr/local/cuda/lib64/libcublas.so.12"}, *used = path;
  for (int i = 0; !path && i < 4 && !cb.lib; i++)
    if ((cb.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL))) used = names[i];
  if (path) cb.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!cb.lib) {
    snprintf(cb.desc, sizeof cb.desc, "not found (%s), comparison skipped",
             path ? dlerror() : "libcublas.so.13 or .12, also in /usr/local/cuda/lib64");
    return;
  }
  static const char *const sym[] = {"cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2",
                                    "cublasSetPointerMode_v2", "cublasGetProperty", "cublasSdot_v2",
                                    "cublasSaxpy_v2", "cublasSscal_v2", "cublasSgemv_v2", "cublasGemmEx"};
  void **fp[] = {(void **)&cb.create, (void **)&cb.destroy, (void **)&cb.set_stream, (void **)&cb.set_pmode,
                 (void **)&cb.get_property, (void **)&cb.sdot, (void **)&cb.saxpy, (void **)&cb.sscal,
                 (void **)&cb.sgemv, (void **)&cb.gemm_ex};
  for (int i = 0; i < 10; i++)
    if (!(*fp[i] = dlsym(cb.lib, sym[i]))) {
      snprintf(cb.desc, sizeof cb.desc, "%s lacks %s, comparison skipped", used, sym[i]);
      return;
    }
  int v[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) cb.get_property(i, &v[i]);
  gllmk_backend_synchronize(be); /* the backend's context is now current: cuBLAS's runtime uses it */
  int st = cb.create(&cb.h);
  if (st == 0) st = cb.set_stream(cb.h, gllmk_backend_stream(be));
  if (st != 0) {
    snprintf(cb.desc, sizeof cb.desc, "%s %d.%d.%d: cublasCreate/SetStream failed (status %d), comparison skipped",
             used, v[0], v[1], v[2], st);
    if (cb.h) cb.destroy(cb.h);
    cb.h = NULL;
    return;
  }
  snprintf(cb.desc, sizeof cb.desc, "%s %d.%d.%d, on the backend's stream", used, v[0], v[1], v[2]);
  cb.ok = 1;
}

static const char *cublas_fn(const ccase *c)
{
  if (!cb.ok) return NULL;
  if (c->dt == DT_F32) return OP[c->op].cublas32;
  return OP[c->op].cublas16;
}

/* ================================================================ running */

static gllmk_backend *dev_be, *cpu_be;

/* call op of the table of dtype dt of backend be (GLLMK_E_UNSUPPORTED if it has none) */
#define TBL(t, op, ...) ((t) && (t)->op ? (t)->op(__VA_ARGS__) : GLLMK_E_UNSUPPORTED)
#define T3(be, dt, op, ...)                                                                         \
  ((dt) == DT_F32   ? TBL(gllmk_backend_ops_f32(be), op, be, __VA_ARGS__)                           \
   : (dt) == DT_F16 ? TBL(gllmk_backend_ops_f16(be), op, be, __VA_ARGS__)                           \
                    : TBL(gllmk_backend_ops_bf16(be), op, be, __VA_ARGS__))

static size_t opd_bytes(const operand *o)
{
  return o->t == DT_Q4K ? gllmk_qtype_row_bytes(GLLMK_Q4_K, o->n) : o->n * esz(o->t);
}

static void *ptr(const ccase *c, gllmk_buffer *const *b, int i, int set)
{
  return (char *)gllmk_buffer_data(b[i]) + (c->o[i].rot ? (size_t)set * opd_bytes(&c->o[i]) : 0);
}

/* the workspace the op needs on be */
static gllmk_status ws_bytes(gllmk_backend *be, const ccase *c, size_t *w)
{
  int dt = c->dt;
  switch (c->op) {
  case VEC_ADD: return T3(be, dt, vec_add_workspace_bytes, c->n, w);
  case VEC_SCALE: return T3(be, dt, vec_scale_workspace_bytes, c->n, w);
  case VEC_AXPY: return T3(be, dt, vec_axpy_workspace_bytes, c->n, w);
  case VEC_DOT: return T3(be, dt, vec_dot_workspace_bytes, c->n, w);
  case VEC_SUM: return T3(be, dt, vec_sum_workspace_bytes, c->n, w);
  case VEC_MAX: return T3(be, dt, vec_max_workspace_bytes, c->n, w);
  case GEMV: return T3(be, dt, gemv_workspace_bytes, c->m, c->n, w);
  case SILU: return T3(be, dt, silu_workspace_bytes, c->n, w);
  case GELU: return T3(be, dt, gelu_workspace_bytes, c->n, w);
  case SWIGLU: return T3(be, dt, swiglu_workspace_bytes, c->n, w);
  case SOFTMAX: return T3(be, dt, softmax_workspace_bytes, c->rows, c->n, w);
  case RMS_NORM: return T3(be, dt, rms_norm_workspace_bytes, c->rows, c->n, w);
  case LAYER_NORM: return T3(be, dt, layer_norm_workspace_bytes, c->rows, c->n, w);
  case ROPE: return T3(be, dt, rope_workspace_bytes, c->seq, c->heads, c->hd, c->hd, false, w);
  case GEMM: return T3(be, dt, gemm_workspace_bytes, c->m, c->n, c->k, w);
  case GEMM_BIAS: return T3(be, dt, gemm_bias_workspace_bytes, c->m, c->n, c->k, w);
  case ATTN:
    return T3(be, dt, flash_attention_workspace_bytes, c->q_len, c->kv_len, c->heads, c->kv_heads, c->hd,
              c->causal, w);
  case ATTN_PAGED:
    return T3(be, dt, flash_attention_paged_workspace_bytes, c->q_len, c->kv_len, c->heads, c->kv_heads, c->hd,
              c->page, c->n_pages, w);
  case Q4K_GEMV: case Q4K_GEMM:
    return T3(be, dt, fused_dequant_gemv_workspace_bytes, opd_bytes(&c->o[0]), GLLMK_Q4_K, c->m, c->n, c->k, w);
  case LINEAR_GEMV: return T3(be, dt, linear_workspace_bytes, c->m, c->n, c->k, w);
  default: return T3(be, dt, embedding_lookup_workspace_bytes, c->n_ids, c->vocab, c->n, w);
  }
}

/* call number k of the op on be: rotation set k % nrot; the in-place ops
 * alternate their scalar every round of sets, so that the data stay in range */
static gllmk_status run_op(gllmk_backend *be, gllmk_buffer *const *b, const ccase *c, long k)
{
  int s = (int)(k % c->nrot), dt = c->dt, odd = (int)((k / c->nrot) & 1);
  void *p0 = ptr(c, b, 0, s), *p1 = c->nopd > 1 ? ptr(c, b, 1, s) : NULL, *p2 = c->nopd > 2 ? ptr(c, b, 2, s) : NULL;
  const float eps = 1e-5f;
  switch (c->op) {
  case VEC_ADD: return T3(be, dt, vec_add, p0, p1, p2, c->n);
  case VEC_SCALE: return T3(be, dt, vec_scale, p0, odd ? 1.0f / 0.75f : 0.75f, c->n);
  case VEC_AXPY: return T3(be, dt, vec_axpy, p0, odd ? -0.5f : 0.5f, p1, c->n);
  case VEC_DOT: return T3(be, dt, vec_dot, p0, p1, c->n, p2);
  case VEC_SUM: return T3(be, dt, vec_sum, p0, c->n, p1);
  case VEC_MAX: return T3(be, dt, vec_max, p0, c->n, p1);
  case GEMV: return T3(be, dt, gemv, p0, p1, p2, c->m, c->n);
  case SILU: return T3(be, dt, silu, p0, p1, c->n);
  case GELU: return T3(be, dt, gelu, p0, p1, c->n);
  case SWIGLU: return T3(be, dt, swiglu, p0, p1, p2, c->n);
  case SOFTMAX: return T3(be, dt, softmax, p0, p1, c->rows, c->n);
  case RMS_NORM: return T3(be, dt, rms_norm, p0, p1, p2, c->rows, c->n, eps);
  case LAYER_NORM: return T3(be, dt, layer_norm, p0, p1, p2, ptr(c, b, 3, s), c->rows, c->n, eps);
  case ROPE: return T3(be, dt, rope, p0, p1, p2, c->seq, c->heads, c->hd, c->hd, false);
  case GEMM: return T3(be, dt, gemm, p0, p1, p2, c->m, c->n, c->k);
  case GEMM_BIAS: return T3(be, dt, gemm_bias, p0, p1, p2, ptr(c, b, 3, s), c->m, c->n, c->k);
  case ATTN:
    return T3(be, dt, flash_attention, p0, p1, p2, ptr(c, b, 3, s), c->q_len, c->kv_len, c->heads, c->kv_heads,
              c->hd, 1.0f / sqrtf((float)c->hd), c->causal);
  case ATTN_PAGED:
    return T3(be, dt, flash_attention_paged, p0, p1, p2, ptr(c, b, 3, s), ptr(c, b, 4, s), c->q_len, c->kv_len,
              c->heads, c->kv_heads, c->hd, c->page, c->n_pages, 1.0f / sqrtf((float)c->hd));
  case Q4K_GEMV: case Q4K_GEMM: /* operands: W, x, y */
    return T3(be, dt, fused_dequant_gemv, p0, opd_bytes(&c->o[0]), p1, p2, GLLMK_Q4_K, c->m, c->n, c->k);
  case LINEAR_GEMV: return T3(be, dt, linear, p1, p0, NULL, p2, c->m, c->n, c->k);
  default: return T3(be, dt, embedding_lookup, p0, c->n_ids, p1, c->vocab, c->n, p2);
  }
}

/* the same with cuBLAS on the device buffers */
static gllmk_status run_cublas(gllmk_backend *be, gllmk_buffer *const *b, const ccase *c, long k)
{
  (void)be;
  int s = (int)(k % c->nrot), odd = (int)((k / c->nrot) & 1), st, n = (int)c->n, m = (int)c->m;
  float *p0 = ptr(c, b, 0, s), *p1 = ptr(c, b, 1, s), one = 1.0f, zero = 0.0f;
  float al = c->op == VEC_SCALE ? (odd ? 1.0f / 0.75f : 0.75f) : (odd ? -0.5f : 0.5f);
  cb.set_pmode(cb.h, c->op == VEC_DOT ? CB_PMODE_DEVICE : CB_PMODE_HOST);
  switch (c->op) {
  case VEC_DOT: st = cb.sdot(cb.h, n, p0, 1, p1, 1, ptr(c, b, 2, s)); break;
  case VEC_AXPY: st = cb.saxpy(cb.h, n, &al, p1, 1, p0, 1); break;
  case VEC_SCALE: st = cb.sscal(cb.h, n, &al, p0, 1); break;
  case GEMM: { /* row-major C = A.B is column-major C^T = B^T.A^T */
    int t = c->dt == DT_F32 ? CB_R_32F : c->dt == DT_F16 ? CB_R_16F : CB_R_16BF, kk = (int)c->k;
    st = cb.gemm_ex(cb.h, CB_OP_N, CB_OP_N, n, m, kk, &one, p1, t, n, p0, t, kk, &zero, ptr(c, b, 2, s), t, n,
                    CB_COMPUTE_32F, CB_GEMM_DEFAULT);
    break;
  }
  default: /* gemv: row-major A[m x n] is column-major n x m: y = op(A)^T x */
    if (c->dt == DT_F32) {
      st = cb.sgemv(cb.h, CB_OP_T, n, m, &one, p0, n, p1, 1, &zero, ptr(c, b, 2, s), 1);
    } else {
      int t = c->dt == DT_F16 ? CB_R_16F : CB_R_16BF;
      st = cb.gemm_ex(cb.h, CB_OP_T, CB_OP_N, m, 1, n, &one, p0, t, n, p1, t, n, &zero, ptr(c, b, 2, s), t, m,
                      CB_COMPUTE_32F, CB_GEMM_DEFAULT);
    }
  }
  return st == 0 ? GLLMK_OK : GLLMK_E_DEVICE;
}

typedef gllmk_status (*runner)(gllmk_backend *, gllmk_buffer *const *, const ccase *, long);

/* median seconds per call: warm up, calibrate batches to >= min_time, then
 * samples of one batch each, queued back to back and synchronized once
 * (the batch is timed with the host clock around it and its synchronize) */
static double time_calls(runner fn, gllmk_buffer *const *b, const ccase *c, gllmk_status *st)
{
  long k = 0, reps = 1;
  double t = 0, v[64];
  int ns = O.samples < 1 ? 1 : O.samples > 64 ? 64 : O.samples;
  *st = GLLMK_OK;
  double w0 = now(); /* warm-up: a quarter of the minimum time, at least one call */
  do {
    *st = fn(dev_be, b, c, k++);
    if (*st == GLLMK_OK) *st = gllmk_backend_synchronize(dev_be);
  } while (*st == GLLMK_OK && now() - w0 < O.min_time / 4);
  for (;;) {
    double a = now();
    for (long r = 0; r < reps && *st == GLLMK_OK; r++) *st = fn(dev_be, b, c, k++);
    if (*st == GLLMK_OK) *st = gllmk_backend_synchronize(dev_be);
    if (*st != GLLMK_OK) return NAN;
    t = now() - a;
    if (t >= O.min_time / 8 || reps >= (1L << 30)) break;
    reps *= 2;
  }
  reps = (long)ceil((double)reps * O.min_time / (t > 0 ? t : 1e-9));
  if (reps < 1) reps = 1;
  for (int i = 0; i < ns; i++) {
    double a = now();
    for (long r = 0; r < reps && *st == GLLMK_OK; r++) *st = fn(dev_be, b, c, k++);
    if (*st == GLLMK_OK) *st = gllmk_backend_synchronize(dev_be);
    if (*st != GLLMK_OK) return NAN;
    v[i] = (now() - a) / (double)reps;
  }
  qsort(v, (size_t)ns, sizeof *v, cmp_dbl);
  return ns & 1 ? v[ns / 2] : 0.5 * (v[ns / 2 - 1] + v[ns / 2]);
}

static double tolerance(int t) { return t == DT_F32 ? 1e-3 : t == DT_F16 ? 1e-2 : 5e-2; }

/* max over elements of |got - ref| / (|ref| + mean|ref| + margin); INFINITY on a NaN/Inf disagreement */
static double compare(const void *got, const void *ref, size_t n, int t, double margin)
{
  double mean = 0, worst = 0;
  size_t fin = 0;
  OMP_SUM(omp parallel for reduction(+ : mean, fin))
  for (size_t i = 0; i < n; i++) {
    float r = get_el(ref, t, i);
    if (isfinite(r)) mean += fabs(r), fin++;
  }
  mean = fin ? mean / (double)fin : 0;
  OMP_SUM(omp parallel for reduction(max : worst))
  for (size_t i = 0; i < n; i++) {
    float g = get_el(got, t, i), r = get_el(ref, t, i);
    double e;
    if (isnan(g) || isnan(r) || isinf(g) || isinf(r))
      e = (isnan(g) && isnan(r)) || g == r ? 0 : INFINITY;
    else
      e = fabs((double)g - (double)r) / (fabs((double)r) + mean + margin + 1e-30);
    if (e > worst) worst = e;
  }
  return worst;
}

/* upload set 0's inputs (fresh: regenerated from the seed) and poison the
 * outputs with 0xff bytes (NaN in every float format), so that an element the
 * op does not write fails the comparison */
static gllmk_status reset_set0(const ccase *c, uint64_t seed)
{
  gllmk_status st = GLLMK_OK;
  for (int i = 0; i < c->nopd && st == GLLMK_OK; i++) {
    size_t nb = opd_bytes(&c->o[i]);
    void *h = malloc(nb);
    if (!h) return GLLMK_E_NOMEM;
    if (c->o[i].io == OUT)
      memset(h, 0xff, nb);
    else
      fill(h, &c->o[i], seed + (uint64_t)i);
    st = gllmk_buffer_upload(c->dev[i], 0, h, nb);
    free(h);
  }
  return st;
}

/* run call 0 on the device, download its outputs and compare them with the
 * CPU backend's (in c->cpu); returns the error, -1 after an operator error */
static double check(runner fn, const ccase *c, uint64_t seed, gllmk_status *st)
{
  double worst = 0;
  *st = reset_set0(c, seed);
  if (*st == GLLMK_OK) *st = fn(dev_be, c->dev, c, 0);
  for (int i = 0; i < c->nopd && *st == GLLMK_OK; i++) {
    if (c->o[i].io == IN) continue;
    size_t nb = opd_bytes(&c->o[i]);
    void *h = malloc(nb);
    if (!h) {
      *st = GLLMK_E_NOMEM;
      break;
    }
    *st = gllmk_buffer_download(c->dev[i], 0, h, nb);
    double e = compare(h, gllmk_buffer_data(c->cpu[i]), c->o[i].n, c->o[i].t, c->margin);
    if (e > worst) worst = e;
    free(h);
  }
  if (*st == GLLMK_OK) *st = gllmk_backend_synchronize(dev_be);
  return *st == GLLMK_OK ? worst : -1;
}

/* ================================================================ results */

typedef struct {
  const char *op, *group, *dtype, *cb_fn;
  char shape[80], check[16], cb_check[16];
  int sets;
  double max_err, t, bytes, gbs, pct, t_cb, cb_gbs, vs_cb;
  double flops, tflops, cb_tflops;   /* gemm, attention */
} result;

static result *res; /* 3 per row, allocated by bench_cuda */
static int n_res, n_mismatch, n_error, n_unsup;
static double peak_gbs, copy_gbs, copy_t, copy_bytes;
static gllmk_cuda_device dinfo;
static int ordinal;

static result *new_result(const ccase *c)
{
  result *r = &res[n_res++];
  memset(r, 0, sizeof *r);
  r->op = OP[c->op].name;
  r->group = OP[c->op].group;
  r->dtype = dtn[c->dt];
  r->sets = c->nrot;
  snprintf(r->shape, sizeof r->shape, "%s", c->shape);
  r->bytes = c->bytes;
  r->max_err = r->t = r->gbs = r->pct = r->t_cb = r->cb_gbs = r->vs_cb = NAN;
  r->flops = c->flops;
  r->tflops = r->cb_tflops = NAN;
  return r;
}

static const int op_w = 21, shape_w = 38;

static void print_header(const char *group)
{
  /* compute bound: TFLOP/s, then GB/s */
  int fl = !strcmp(group, "gemm") || !strcmp(group, "attention") || !strcmp(group, "quant_prefill");
  printf("\n## %s  (%s)\n", group, gllmk_backend_name(dev_be));
  printf("%-*s  %-*s %-4s %-11s %10s %9s %9s %7s %6s\n", op_w, "op", shape_w, "shape", "type", "check", "time",
         "moved", fl ? "TFLOP/s" : "GB/s", fl ? "GB/s" : "% peak", "sets");
}

static void print_result(const result *r)
{
  char t[24], mv[24], g[24], p[24];
  fmt_time(t, sizeof t, r->t);
  fmt_bytes(mv, sizeof mv, r->bytes);
  fmt_num(g, sizeof g, r->gbs, "%.1f");
  fmt_num(p, sizeof p, r->pct, "%.1f%%");
  if (r->flops > 0) {
    fmt_num(g, sizeof g, r->tflops, "%.1f");
    fmt_num(p, sizeof p, r->gbs, "%.0f");
  }
  printf("%-*s  %-*s %-4s %-11s %10s %9s %9s %7s %6d\n", op_w, r->op, shape_w, r->shape, r->dtype, r->check, t, mv,
         g, p, r->sets);
  if (r->cb_fn) {
    char name[96], sp[24];
    fmt_time(t, sizeof t, r->t_cb);
    fmt_num(g, sizeof g, r->flops > 0 ? r->cb_tflops : r->cb_gbs, "%.1f");
    fmt_num(sp, sizeof sp, r->vs_cb, "%.2fx");
    snprintf(name, sizeof name, "  cuBLAS %s", r->cb_fn);
    printf("%-*s %-11s %10s %9s %9s   ours/cuBLAS %s\n", op_w + 2 + shape_w + 5, name, r->cb_check, t, "", g, sp);
  }
  fflush(stdout);
}

/* ================================================================ one case */

static uint64_t case_seed;

/* allocate the device and CPU buffers, fill, copy the sets, reserve the workspaces */
static gllmk_status prepare(ccase *c, size_t rot_target)
{
  size_t rb = 0;
  for (int i = 0; i < c->nopd; i++)
    if (c->o[i].rot) rb += opd_bytes(&c->o[i]);
  c->nrot = rb && rb < rot_target ? (int)((rot_target + rb - 1) / rb) : 1;
  if (c->nrot > 64) c->nrot = 64;
  gllmk_status st = GLLMK_OK;
  size_t w = 0, w2 = 0;
  for (int i = 0; i < c->nopd && st == GLLMK_OK; i++) {
    const operand *o = &c->o[i];
    size_t nb = opd_bytes(o);
    st = gllmk_buffer_alloc(dev_be, nb * (o->rot ? (size_t)c->nrot : 1), &c->dev[i]);
    if (st == GLLMK_OK) st = gllmk_buffer_alloc(cpu_be, nb, &c->cpu[i]);
    if (st != GLLMK_OK) break;
    void *h = gllmk_buffer_data(c->cpu[i]);
    if (o->io == OUT) {
      memset(h, 0xff, nb);
      continue;
    }
    /* the ids differ from set to set; the other rotated inputs are copies of set 0 */
    for (int s = 1; s < c->nrot && o->rot && st == GLLMK_OK; s++) {
      if (o->t == DT_U32) {
        fill(h, o, case_seed + 1000 * (uint64_t)s + (uint64_t)i);
        st = gllmk_buffer_upload(c->dev[i], (size_t)s * nb, h, nb);
      }
    }
    fill(h, o, case_seed + (uint64_t)i);
    if (st == GLLMK_OK) st = gllmk_buffer_upload(c->dev[i], 0, h, nb);
    for (int s = 1; s < c->nrot && o->rot && o->t != DT_U32 && st == GLLMK_OK; s++)
      st = gllmk_buffer_copy(c->dev[i], (size_t)s * nb, c->dev[i], 0, nb);
  }
  /* margins of the reductions: 1% of the sum of the magnitudes of the terms */
  if (st == GLLMK_OK && (c->op == VEC_DOT || c->op == VEC_SUM)) {
    double s = 0;
    const void *x = gllmk_buffer_data(c->cpu[0]), *y = gllmk_buffer_data(c->cpu[1]);
    OMP_SUM(omp parallel for reduction(+ : s))
    for (size_t i = 0; i < c->n; i++)
      s += fabs((double)get_el(x, c->dt, i) * (c->op == VEC_DOT ? get_el(y, c->dt, i) : 1.0));
    c->margin = 1e-2 * s;
  }
  /* the Q4_K prefill: the CPU backend's int8 GEMM quantizes the activations
   * (an error <= max|x| / 254 per value, so <= max|x| / 254 * sum |w| per
   * output) where the device may not: that bound, over the tolerance, is
   * the margin */
  if (st == GLLMK_OK && c->op == Q4K_GEMM) {
    float *wr = malloc(c->k * sizeof *wr);
    double l1 = 0, xm = fmax(fabs(c->o[1].lo), fabs(c->o[1].hi));
    size_t rb = gllmk_qtype_row_bytes(GLLMK_Q4_K, c->k);
    const unsigned char *wq = gllmk_buffer_data(c->cpu[0]);
    for (size_t r = 0; r < c->n && wr && st == GLLMK_OK; r++) {
      st = gllmk_dequant_q4_k(wq + r * rb, wr, c->k);
      double a = 0;
      for (size_t j = 0; j < c->k; j++) a += fabs(wr[j]);
      if (a > l1) l1 = a;
    }
    if (!wr) st = GLLMK_E_NOMEM;
    free(wr);
    c->margin = xm / 254.0 * l1 / tolerance(c->dt);
  }
  if (st == GLLMK_OK) st = ws_bytes(dev_be, c, &w);
  if (st == GLLMK_OK) st = ws_bytes(cpu_be, c, &w2);
  if (st == GLLMK_OK && w) st = gllmk_backend_reserve_workspace(dev_be, w);
  if (st == GLLMK_OK && w2) st = gllmk_backend_reserve_workspace(cpu_be, w2);
  if (st == GLLMK_OK) st = gllmk_backend_synchronize(dev_be);
  return st;
}

static void release(ccase *c)
{
  for (int i = 0; i < c->nopd; i++) {
    gllmk_buffer_free(c->dev[i]);
    gllmk_buffer_free(c->cpu[i]);
  }
}

static const char *verdict(double e, gllmk_status st, int dt)
{
  if (st == GLLMK_E_UNSUPPORTED) return "unsupported";
  if (st != GLLMK_OK) return "ERROR";
  return e <= tolerance(dt) ? "OK" : "MISMATCH";
}

static void run_case(const crow *row, int dt, size_t rot_target, int idx, int total)
{
  ccase c;
  build(&c, row, dt);
  case_seed = (uint64_t)(row - ROWS) * 100 + (uint64_t)dt * 10 + 1;
  result *r = new_result(&c);
  int tty = isatty(2);
  if (!O.quiet)
    fprintf(stderr, "%s[%d/%d] %s %s %s ...%s", tty ? "\r\033[K" : "", idx, total, r->op, c.shape, dtn[dt],
            tty ? "" : "\n");
  gllmk_status st = prepare(&c, rot_target), cs = GLLMK_OK;
  r->sets = c.nrot;
  /* the reference: the CPU backend on set 0's inputs (the device has them too) */
  if (st == GLLMK_OK) cs = run_op(cpu_be, c.cpu, &c, 0);
  if (st == GLLMK_OK && cs != GLLMK_OK) {
    fprintf(stderr, "%s: %s %s %s: the CPU backend returned %s\n", prog, r->op, c.shape, dtn[dt], gllmk_strerror(cs));
    st = cs;
  }
  if (st == GLLMK_OK) r->max_err = check(run_op, &c, case_seed, &st);
  snprintf(r->check, sizeof r->check, "%s", verdict(r->max_err, st, dt));
  if (st == GLLMK_E_UNSUPPORTED) {
    n_unsup++;
  } else if (st != GLLMK_OK) {
    fprintf(stderr, "%s: %s %s %s: %s\n", prog, r->op, c.shape, dtn[dt], gllmk_strerror(st));
    if (st == GLLMK_E_DEVICE)
      fprintf(stderr, "%s: device error %d\n", prog, gllmk_backend_device_error(dev_be));
    n_error++;
  } else if (strcmp(r->check, "OK")) {
    fprintf(stderr, "%s: MISMATCH %s %s %s: max relative error %.3g (tolerance %.3g)\n", prog, r->op, c.shape,
            dtn[dt], r->max_err, tolerance(dt));
    n_mismatch++;
  } else {
    r->t = time_calls(run_op, c.dev, &c, &st);
    if (st != GLLMK_OK) {
      snprintf(r->check, sizeof r->check, "ERROR");
      fprintf(stderr, "%s: %s %s %s: while timing: %s\n", prog, r->op, c.shape, dtn[dt], gllmk_strerror(st));
      n_error++;
    }
    r->gbs = c.bytes / r->t * 1e-9;
    r->pct = peak_gbs > 0 ? 100.0 * r->gbs / peak_gbs : NAN;
    if (c.flops > 0) r->tflops = c.flops / r->t * 1e-12;
    if ((r->cb_fn = cublas_fn(&c)) != NULL && st == GLLMK_OK) {
      double e = check(run_cublas, &c, case_seed, &cs);
      snprintf(r->cb_check, sizeof r->cb_check, "%s", verdict(e, cs, dt));
      if (cs == GLLMK_OK && strcmp(r->cb_check, "OK"))
        fprintf(stderr, "%s: %s %s %s: %s disagrees with the CPU backend (max relative error %.3g)\n", prog,
                r->op, c.shape, dtn[dt], r->cb_fn, e);
      if (cs == GLLMK_OK) r->t_cb = time_calls(run_cublas, c.dev, &c, &cs);
      if (cs != GLLMK_OK) {
        snprintf(r->cb_check, sizeof r->cb_check, "ERROR");
        r->t_cb = NAN;
      }
      r->cb_gbs = c.bytes / r->t_cb * 1e-9;
      if (c.flops > 0) r->cb_tflops = c.flops / r->t_cb * 1e-12;
      r->vs_cb = r->t_cb / r->t;
    }
  }
  if (!O.quiet && tty) fprintf(stderr, "\r\033[K");
  print_result(r);
  release(&c);
}

/* the practical peak: a device-to-device copy of a large buffer (bytes read + written) */
static gllmk_status run_copy(gllmk_backend *be, gllmk_buffer *const *b, const ccase *c, long k)
{
  (void)be, (void)k;
  return gllmk_buffer_copy(b[1], 0, b[0], 0, c->n);
}

static void measure_copy(size_t bytes)
{
  ccase c;
  memset(&c, 0, sizeof c);
  c.n = bytes;
  c.nrot = 1;
  gllmk_buffer *b[2] = {NULL, NULL};
  gllmk_status st = gllmk_buffer_alloc(dev_be, bytes, &b[0]);
  if (st == GLLMK_OK) st = gllmk_buffer_alloc(dev_be, bytes, &b[1]);
  void *h = st == GLLMK_OK ? calloc(1, bytes) : NULL;
  if (h) {
    memset(h, 0x3c, bytes);
    st = gllmk_buffer_upload(b[0], 0, h, bytes);
    free(h);
  }
  if (st == GLLMK_OK) copy_t = time_calls(run_copy, b, &c, &st);
  copy_bytes = 2.0 * (double)bytes;
  copy_gbs = st == GLLMK_OK ? copy_bytes / copy_t * 1e-9 : NAN;
  if (st != GLLMK_OK) fprintf(stderr, "%s: the device-to-device copy failed: %s\n", prog, gllmk_strerror(st));
  gllmk_buffer_free(b[0]);
  gllmk_buffer_free(b[1]);
}

/* ================================================================ CSV and JSON */

static void csv_num(FILE *f, double v)
{
  if (isfinite(v)) fprintf(f, ",%.9g", v);
  else fprintf(f, ",");
}

static void json_num(FILE *f, const char *k, double v)
{
  if (isfinite(v)) fprintf(f, ", \"%s\": %.9g", k, v);
  else fprintf(f, ", \"%s\": null", k);
}

static void json_str(FILE *f, const char *k, const char *v, int first)
{
  fprintf(f, "%s\"%s\": \"", first ? "" : ", ", k);
  for (const char *p = v ? v : ""; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else fputc((unsigned char)*p < 0x20 ? ' ' : *p, f);
  }
  fputc('"', f);
}

static void write_csv(const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    return;
  }
  fprintf(f, "backend,group,op,shape,dtype,check,max_err,time_s,bytes,gbs,peak_gbs,pct_peak,copy_gbs,sets,"
             "cublas_fn,cublas_check,cublas_time_s,cublas_gbs,ours_vs_cublas,flops,tflops,cublas_tflops\n");
  for (int i = 0; i < n_res; i++) {
    const result *r = &res[i];
    fprintf(f, "%s,%s,%s,\"%s\",%s,%s", gllmk_backend_name(dev_be), r->group, r->op, r->shape, r->dtype, r->check);
    csv_num(f, r->max_err);
    csv_num(f, r->t);
    csv_num(f, r->bytes);
    csv_num(f, r->gbs);
    csv_num(f, peak_gbs > 0 ? peak_gbs : NAN);
    csv_num(f, r->pct);
    csv_num(f, copy_gbs);
    fprintf(f, ",%d,%s,%s", r->sets, r->cb_fn ? r->cb_fn : "", r->cb_check);
    csv_num(f, r->t_cb);
    csv_num(f, r->cb_gbs);
    csv_num(f, r->vs_cb);
    csv_num(f, r->flops > 0 ? r->flops : NAN);
    csv_num(f, r->tflops);
    csv_num(f, r->cb_tflops);
    fprintf(f, "\n");
  }
  fclose(f);
}

static void write_json(const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    return;
  }
  fprintf(f, "{");
  json_str(f, "gllmk_version", gllmk_version(), 1);
  json_str(f, "backend", gllmk_backend_name(dev_be), 0);
  fprintf(f, ", \"quick\": %s,\n \"device\": {", O.quick ? "true" : "false");
  json_str(f, "name", dinfo.name, 1);
  fprintf(f, ", \"ordinal\": %d, \"cc\": \"%d.%d\", \"sm_count\": %d, \"total_mem\": %zu, \"driver_version\": %d, "
             "\"l2_cache_bytes\": %zu",
          ordinal, dinfo.cc_major, dinfo.cc_minor, dinfo.sm_count, dinfo.total_mem, dinfo.driver_version,
          dinfo.l2_cache_bytes);
  json_num(f, "peak_gbs", peak_gbs > 0 ? peak_gbs : NAN);
  json_num(f, "copy_gbs", copy_gbs);
  json_num(f, "copy_bytes", copy_bytes);
  fprintf(f, "},\n ");
  json_str(f, "cublas", cb.desc, 1);
  fprintf(f, ",\n \"results\": [");
  for (int i = 0; i < n_res; i++) {
    const result *r = &res[i];
    fprintf(f, "%s\n  {", i ? "," : "");
    json_str(f, "group", r->group, 1);
    json_str(f, "op", r->op, 0);
    json_str(f, "shape", r->shape, 0);
    json_str(f, "dtype", r->dtype, 0);
    json_str(f, "check", r->check, 0);
    json_num(f, "max_err", r->max_err);
    json_num(f, "time_s", r->t);
    json_num(f, "bytes", r->bytes);
    json_num(f, "gbs", r->gbs);
    json_num(f, "pct_peak", r->pct);
    fprintf(f, ", \"sets\": %d", r->sets);
    if (r->flops > 0) {
      json_num(f, "flops", r->flops);
      json_num(f, "tflops", r->tflops);
    }
    if (r->cb_fn) {
      json_str(f, "cublas_fn", r->cb_fn, 0);
      json_str(f, "cublas_check", r->cb_check, 0);
      json_num(f, "cublas_time_s", r->t_cb);
      json_num(f, "cublas_gbs", r->cb_gbs);
      json_num(f, "ours_vs_cublas", r->vs_cb);
      if (r->flops > 0) json_num(f, "cublas_tflops", r->cb_tflops);
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n ]\n}\n");
  fclose(f);
}

/* under --backend=auto the CPU section writes FILE: this one FILE-cuda (before the extension) */
static const char *out_path(const char *p, int is_auto, char *buf, size_t len)
{
  if (!p || !is_auto) return p;
  const char *slash = strrchr(p, '/'), *dot = strrchr(p, '.');
  if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : p)) dot = p + strlen(p);
  snprintf(buf, len, "%.*s-cuda%s", (int)(dot - p), p, dot);
  return buf;
}

/* ================================================================ entry */

int bench_cuda(const char *backend, int is_auto, int quick, int quiet, int list, const char *const *ops,
               int n_ops, int dtype_mask, int samples, double min_time, const char *cublas, const char *csv,
               const char *json)
{
  O.quick = quick, O.quiet = quiet, O.ops = ops, O.n_ops = n_ops, O.dtype_mask = dtype_mask;
  O.samples = samples > 0 ? samples : quick ? 3 : 5;
  O.min_time = min_time > 0 ? min_time : quick ? 0.002 : 0.1;
  int total = 0;
  for (int i = 0; i < n_rows; i++)
    for (int dt = 0; dt < 3; dt++) total += case_selected(&ROWS[i], dt);
  if (list) {
    for (int i = 0; i < n_rows; i++)
      for (int dt = 0; dt < 3; dt++)
        if (case_selected(&ROWS[i], dt)) {
          ccase c;
          build(&c, &ROWS[i], dt);
          printf("%-10s %-36s %-4s %s (cuda)\n", OP[c.op].group, OP[c.op].name, dtn[dt], c.shape);
        }
    return 0;
  }
  if (total == 0) {
    if (is_auto) return 0;
    fprintf(stderr, "%s: no CUDA operator matches the --op/--dtype filters (see --backend=cuda --list)\n", prog);
    return 2;
  }
  fflush(stdout);
  gllmk_status st = gllmk_backend_open(is_auto ? "cuda" : backend, &dev_be);
  if (st != GLLMK_OK) {
    const char *why = gllmk_backend_error_message();
    if (is_auto) {
      printf("\nCUDA: section skipped: %s (%s)\n", why && *why ? why : "no CUDA backend", gllmk_strerror(st));
      return 0;
    }
    fprintf(stderr, "%s: cannot open the CUDA backend '%s': %s (%s)\n", prog, backend, why && *why ? why : "-",
            gllmk_strerror(st));
    return 2;
  }
  if ((st = gllmk_backend_open("cpu", &cpu_be)) != GLLMK_OK) {
    fprintf(stderr, "%s: cannot open the CPU backend: %s\n", prog, gllmk_strerror(st));
    gllmk_backend_close(dev_be);
    return 2;
  }
  if (!(res = calloc((size_t)n_rows * 3, sizeof *res))) {
    fprintf(stderr, "%s: out of memory\n", prog);
    gllmk_backend_close(cpu_be);
    gllmk_backend_close(dev_be);
    return 2;
  }
  const char *bn = gllmk_backend_name(dev_be);
  ordinal = !strncmp(bn, "cuda:", 5) ? atoi(bn + 5) : 0;
  if (gllmk_cuda_device_info(ordinal, &dinfo) != GLLMK_OK) memset(&dinfo, 0, sizeof dinfo);
  peak_gbs = dinfo.mem_bandwidth_gbs;
  char l2[32] = "unknown";
  if (dinfo.l2_cache_bytes) snprintf(l2, sizeof l2, "%zu MiB", dinfo.l2_cache_bytes / MiB);
  printf("%sgllmk-bench %s: CUDA backend %s (kernels for %s)\n", is_auto ? "\n" : "", gllmk_version(), bn,
         gllmk_cuda_archs());
  printf("device %d: %s, CC %d.%d, %d SMs, %.1f GiB, L2 %s, driver %d.%d%s\n", ordinal, dinfo.name,
         dinfo.cc_major, dinfo.cc_minor, dinfo.sm_count, (double)dinfo.total_mem / (double)(1 << 30), l2,
         dinfo.driver_version / 1000, dinfo.driver_version % 1000 / 10,
         dinfo.kernels_cover ? "" : " (NOT covered by the kernels)");
  /* operands: at least 256 MiB and 4x the L2 per op (rotating copies of the small ones); --quick: 64 KiB */
  size_t rot_target = quick ? 64 * KiB : BIG, big_copy = quick ? MiB : 1024 * MiB;
  if (!quick && 4 * dinfo.l2_cache_bytes > rot_target) rot_target = 4 * dinfo.l2_cache_bytes;
  if (dinfo.total_mem && big_copy > dinfo.total_mem / 8) big_copy = dinfo.total_mem / 8 / MiB * MiB;
  if (!quiet) fprintf(stderr, "measuring a device-to-device copy...\n");
  measure_copy(big_copy);
  char pk[96] = "unknown (the driver does not report the memory clock and bus width)", cp[96] = "failed";
  if (peak_gbs > 0) snprintf(pk, sizeof pk, "%.1f GB/s (memory clock x bus width x 2)", peak_gbs);
  if (isfinite(copy_gbs)) {
    int n = snprintf(cp, sizeof cp, "%.1f GB/s", copy_gbs);
    if (peak_gbs > 0) snprintf(cp + n, sizeof cp - (size_t)n, " = %.1f%% of peak", 100 * copy_gbs / peak_gbs);
  }
  printf("DRAM: theoretical peak %s; device-to-device copy %s (gllmk_buffer_copy of %zu MiB, read + write)\n", pk,
         cp, big_copy / MiB);
  cublas_load(cublas, dev_be);
  printf("cuBLAS: %s\n", cb.desc);
  printf("%s: %d cases, checked against the CPU backend; each time is the median of %d samples of >= %.3g s%s\n",
         quick ? "quick mode" : "full mode", total, O.samples, O.min_time,
         quick ? " (sizes reduced: not LLM sizes, far inside the L2)" : "");

  const char *last = NULL;
  int idx = 0;
  for (int i = 0; i < n_rows; i++)
    for (int dt = 0; dt < 3; dt++) {
      if (!case_selected(&ROWS[i], dt)) continue;
      if (!last || strcmp(last, OP[ROWS[i].op].group)) print_header(last = OP[ROWS[i].op].group);
      run_case(&ROWS[i], dt, rot_target, ++idx, total);
    }
  printf("\n%d CUDA results: %d checks failed (%d mismatches, %d errors), %d unsupported\n", n_res,
         n_mismatch + n_error, n_mismatch, n_error, n_unsup);
  char buf[4096];
  if (csv) write_csv(out_path(csv, is_auto, buf, sizeof buf));
  if (json) write_json(out_path(json, is_auto, buf, sizeof buf));
  if (cb.h) cb.destroy(cb.h);
  /* libcublas stays loaded: its runtime's exit handlers may still run */
  gllmk_backend_close(cpu_be);
  gllmk_backend_close(dev_be);
  free(res);
  return n_mismatch + n_error ? 1 : 0;
}
