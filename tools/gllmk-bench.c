/* gllmk-bench.c -- benchmark gllmk's operators at LLM sizes
 * SPDX-License-Identifier: MIT
 *
 * For every operator and shape: run it once with the scalar ISA and once with
 * the measured ISA and compare (OK / MISMATCH); then time it (median of
 * samples) and report GFLOP/s or GB/s, the fraction of this machine's
 * roofline (its own f32 FMA peak for compute-bound work, its own DRAM read
 * bandwidth for memory-bound work, both measured here per thread count unless
 * given), the speedup over the scalar ISA, OpenBLAS side by side when
 * libopenblas.so.0 can be dlopen()ed, and for the fused operators the same
 * computation composed from single gllmk calls.
 *
 * Uses only the public API.  Builds with or without OpenMP.
 * Exit status: 0 all checks OK, 1 a MISMATCH or an operator error, 2 usage.
 */
#define _GNU_SOURCE
#include <gllmk.h>

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#define OMP_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#else
#define OMP_PARALLEL_FOR
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define BENCH_X86 1
#include <immintrin.h>
#else
#define BENCH_X86 0
#endif

#define MiB ((size_t)1 << 20)

/* ================================================================ options */

typedef enum { DT_F32, DT_F16, DT_BF16 } dtype;
static const char *const dt_names[] = {"f32", "f16", "bf16"};
static size_t dt_size(dtype t) { return t == DT_F32 ? 4 : 2; }

#define MAX_LIST 16
static struct {
  int quick, quiet, list, no_openblas, no_compose, no_ggml, threads_given;
  const char *ops[64];
  int n_ops;
  int dtype_mask; /* bit per dtype; 0 = all */
  const char *isas[MAX_LIST];
  int n_isas;
  int threads[MAX_LIST];
  int n_threads;
  double peak[MAX_LIST], bw[MAX_LIST];
  int n_peak, n_bw;
  double min_time; /* seconds per sample */
  int samples;
  double qmin_time; /* the same for the quantized kernels */
  int qsamples;
  const char *csv, *json;
  const char *ggml_dir;       /* --ggml=DIR */
  const char *qtypes[64];     /* --qtype filter */
  int n_qtypes;
  const char *backend;        /* --backend: cpu (default), cuda[:N], auto */
  const char *cublas;         /* --cublas=PATH; "" after --no-cublas */
  const char *models;         /* --models=DIR: the model section's GGUF files */
} opt;

/* the model section, tools/bench_model.c */
int bench_model(const char *dir, int quick, int quiet, const int *threads, int n_threads,
                const char *csv);

/* the CUDA section, tools/bench_cuda.c */
int bench_cuda(const char *backend, int is_auto, int quick, int quiet, int list, const char *const *ops,
               int n_ops, int dtype_mask, int samples, double min_time, const char *cublas, const char *csv,
               const char *json);

static const char *prog = "gllmk-bench";

static void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

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

static double median(double *v, int n)
{
  if (n <= 0) return NAN;
  qsort(v, (size_t)n, sizeof *v, cmp_dbl);
  return (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* 64-byte aligned; big buffers 2 MiB aligned with transparent huge pages requested */
static void *xalloc(size_t bytes)
{
  size_t align = bytes >= 4 * MiB ? 2 * MiB : 64;
  size_t sz = (bytes + align - 1) / align * align;
  void *p = NULL;
  if (sz == 0) sz = align;
  if (posix_memalign(&p, align, sz) != 0 || !p) die("out of memory (%zu bytes)", bytes);
#ifdef MADV_HUGEPAGE
  if (align > 64) madvise(p, sz, MADV_HUGEPAGE);
#endif
  return p;
}

static inline uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline float get_el(const void *p, dtype t, size_t i)
{
  switch (t) {
  case DT_F32: return ((const float *)p)[i];
  case DT_F16: return gllmk_f16_to_f32(((const gllmk_f16 *)p)[i]);
  default: return gllmk_bf16_to_f32(((const gllmk_bf16 *)p)[i]);
  }
}

static inline void set_el(void *p, dtype t, size_t i, float v)
{
  switch (t) {
  case DT_F32: ((float *)p)[i] = v; break;
  case DT_F16: ((gllmk_f16 *)p)[i] = gllmk_f32_to_f16(v); break;
  default: ((gllmk_bf16 *)p)[i] = gllmk_f32_to_bf16(v); break;
  }
}

/* uniform random in [lo, hi); deterministic per (seed, block) whatever the thread count */
static void fill_uniform(void *p, dtype t, size_t n, float lo, float hi, uint64_t seed)
{
  const size_t B = 65536;
  size_t nblk = (n + B - 1) / B;
  OMP_PARALLEL_FOR
  for (size_t blk = 0; blk < nblk; blk++) {
    uint64_t s = seed * 0x100000001b3ull + blk * 0x9e3779b1ull;
    size_t i1 = (blk + 1) * B < n ? (blk + 1) * B : n;
    for (size_t i = blk * B; i < i1; i++) {
      float u = (float)(splitmix(&s) >> 40) * (1.0f / 16777216.0f);
      set_el(p, t, i, lo + (hi - lo) * u);
    }
  }
}

static void format_time(char *buf, size_t len, double t)
{
  if (!(t > 0) || !isfinite(t))
    snprintf(buf, len, "-");
  else if (t < 1e-6)
    snprintf(buf, len, "%.1f ns", t * 1e9);
  else if (t < 1e-3)
    snprintf(buf, len, "%.2f us", t * 1e6);
  else if (t < 1)
    snprintf(buf, len, "%.2f ms", t * 1e3);
  else
    snprintf(buf, len, "%.2f s", t);
}

static void format_count(char *buf, size_t len, size_t n)
{
  if (n >= MiB && n % MiB == 0)
    snprintf(buf, len, "%zuM", n / MiB);
  else if (n >= 1024 && n % 1024 == 0)
    snprintf(buf, len, "%zuK", n / 1024);
  else
    snprintf(buf, len, "%zu", n);
}

/* ================================================================ ISA names */

static int isa_runnable(const char *name) { return gllmk_cpu_isa_check(name) == GLLMK_OK; }

/* roofline class of a library ISA token: 0 scalar/baseline, 1 256-bit FMA, 2 512-bit FMA */
static int isa_class(const char *isa)
{
  if (!strncmp(isa, "avx512", 6) || !strcmp(isa, "vnni")) return 2; /* vnni: AVX-512 + VNNI */
  if (!strncmp(isa, "avx", 3)) return 1;
  return 0;
}
static const char *const class_names[] = {"scalar", "avx2", "avx512"};

/* ================================================================ roofline */

/* Distinct starting values the compiler cannot see, so that it cannot merge
 * equal accumulators; a = a * 0.999999 + 1e-7 stays near 1. */
static volatile float fma_seed[32] = {
  1.00f, 1.01f, 1.02f, 1.03f, 1.04f, 1.05f, 1.06f, 1.07f, 1.08f, 1.09f, 1.10f, 1.11f, 1.12f, 1.13f, 1.14f, 1.15f,
  1.16f, 1.17f, 1.18f, 1.19f, 1.20f, 1.21f, 1.22f, 1.23f, 1.24f, 1.25f, 1.26f, 1.27f, 1.28f, 1.29f, 0.999999f, 1e-7f};

#if BENCH_X86
/* Register-only loops of independent multiply-adds; each accumulator is a
 * dependency chain, enough of them to cover latency x ports. */
__attribute__((target("avx512f"), noinline)) static float fma_zmm(long it)
{
  __m512 x = _mm512_set1_ps(fma_seed[30]), y = _mm512_set1_ps(fma_seed[31]);
#define S(i) _mm512_set1_ps(fma_seed[i])
  __m512 a0 = S(0), a1 = S(1), a2 = S(2), a3 = S(3), a4 = S(4), a5 = S(5), a6 = S(6), a7 = S(7),
         a8 = S(8), a9 = S(9), a10 = S(10), a11 = S(11), a12 = S(12), a13 = S(13), a14 = S(14),
         a15 = S(15), a16 = S(16), a17 = S(17), a18 = S(18), a19 = S(19), a20 = S(20), a21 = S(21),
         a22 = S(22), a23 = S(23);
#undef S
  for (long i = 0; i < it; i++) {
#define F(a) a = _mm512_fmadd_ps(a, x, y)
    F(a0); F(a1); F(a2); F(a3); F(a4); F(a5); F(a6); F(a7); F(a8); F(a9); F(a10); F(a11);
    F(a12); F(a13); F(a14); F(a15); F(a16); F(a17); F(a18); F(a19); F(a20); F(a21); F(a22); F(a23);
#undef F
    __asm__ volatile("" : "+v"(a0), "+v"(a6), "+v"(a12), "+v"(a18));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                     _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a16, a17), _mm512_add_ps(a18, a19)),
                                     _mm512_add_ps(_mm512_add_ps(a20, a21), _mm512_add_ps(a22, a23))));
  return _mm512_reduce_add_ps(s);
}
#define FMA_ZMM_FLOP (24.0 * 16 * 2)

__attribute__((target("avx2,fma"), noinline)) static float fma_ymm(long it)
{
  __m256 x = _mm256_set1_ps(fma_seed[30]), y = _mm256_set1_ps(fma_seed[31]);
#define S(i) _mm256_set1_ps(fma_seed[i])
  __m256 a0 = S(0), a1 = S(1), a2 = S(2), a3 = S(3), a4 = S(4), a5 = S(5), a6 = S(6), a7 = S(7),
         a8 = S(8), a9 = S(9), a10 = S(10), a11 = S(11);
#undef S
  for (long i = 0; i < it; i++) {
#define F(a) a = _mm256_fmadd_ps(a, x, y)
    F(a0); F(a1); F(a2); F(a3); F(a4); F(a5); F(a6); F(a7); F(a8); F(a9); F(a10); F(a11);
#undef F
    __asm__ volatile("" : "+x"(a0), "+x"(a6));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  float out[4];
  _mm_storeu_ps(out, h);
  return out[0] + out[1] + out[2] + out[3];
}
#define FMA_YMM_FLOP (12.0 * 8 * 2)

/* the scalar ISA is one lane wide: separate scalar multiply and add (mulss, addss) */
__attribute__((noinline)) static float fma_base(long it)
{
  __m128 x = _mm_set1_ps(fma_seed[30]), y = _mm_set1_ps(fma_seed[31]);
#define S(i) _mm_set1_ps(fma_seed[i])
  __m128 a0 = S(0), a1 = S(1), a2 = S(2), a3 = S(3), a4 = S(4), a5 = S(5), a6 = S(6), a7 = S(7),
         a8 = S(8), a9 = S(9), a10 = S(10), a11 = S(11);
#undef S
  for (long i = 0; i < it; i++) {
#define F(a) a = _mm_add_ss(_mm_mul_ss(a, x), y)
    F(a0); F(a1); F(a2); F(a3); F(a4); F(a5); F(a6); F(a7); F(a8); F(a9); F(a10); F(a11);
#undef F
    __asm__ volatile("" : "+x"(a0), "+x"(a6));
  }
  __m128 s = _mm_add_ss(_mm_add_ss(_mm_add_ss(a0, a1), _mm_add_ss(a2, a3)),
                        _mm_add_ss(_mm_add_ss(a4, a5), _mm_add_ss(a6, a7)));
  s = _mm_add_ss(s, _mm_add_ss(_mm_add_ss(a8, a9), _mm_add_ss(a10, a11)));
  return _mm_cvtss_f32(s);
}
#define FMA_BASE_FLOP (12.0 * 2)
#else
__attribute__((noinline)) static float fma_base(long it)
{
  float x = fma_seed[30], y = fma_seed[31], a[8];
  for (int j = 0; j < 8; j++) a[j] = fma_seed[j];
  for (long i = 0; i < it; i++) {
    for (int j = 0; j < 8; j++) a[j] = a[j] * x + y;
    __asm__ volatile("" : : "r"(a) : "memory");
  }
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}
#define FMA_BASE_FLOP (8.0 * 2)
#endif

/* DRAM read: each thread reads its chunk as S interleaved sequential streams
 * (S = 1, 2, 4, 8; the best is reported: Intel cores want several streams,
 * AMD cores fewer).  Every step does 8 independent loads of 64-byte lines. */
#define RD_STEP(S) ((8 / (S)) * 16) /* floats per stream per step */
#define RD_LEN(n, S) ((n) / (S) / 128 * 128)
#define RD_BODY(V, ZERO, ADD, LOAD, S)                                                                 \
  size_t len = RD_LEN(n, S);                                                                         \
  V z = ZERO, a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;                        \
  for (size_t i = 0; i < len; i += RD_STEP(S)) {                                                     \
    a0 = ADD(a0, LOAD(p + (0 % S) * len + i + (0 / S) * 16));                                        \
    a1 = ADD(a1, LOAD(p + (1 % S) * len + i + (1 / S) * 16));                                        \
    a2 = ADD(a2, LOAD(p + (2 % S) * len + i + (2 / S) * 16));                                        \
    a3 = ADD(a3, LOAD(p + (3 % S) * len + i + (3 / S) * 16));                                        \
    a4 = ADD(a4, LOAD(p + (4 % S) * len + i + (4 / S) * 16));                                        \
    a5 = ADD(a5, LOAD(p + (5 % S) * len + i + (5 / S) * 16));                                        \
    a6 = ADD(a6, LOAD(p + (6 % S) * len + i + (6 / S) * 16));                                        \
    a7 = ADD(a7, LOAD(p + (7 % S) * len + i + (7 / S) * 16));                                        \
  }                                                                                                  \
  a0 = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)))

#if BENCH_X86
#define READ_ZMM(S)                                                                                  \
  __attribute__((target("avx512f"), noinline)) static float read_zmm_##S(const float *p, size_t n) \
  {                                                                                                  \
    RD_BODY(__m512, _mm512_setzero_ps(), _mm512_add_ps, _mm512_load_ps, S);                          \
    return _mm512_reduce_add_ps(a0);                                                                 \
  }
READ_ZMM(1)
READ_ZMM(2)
READ_ZMM(4)
READ_ZMM(8)

/* one 64-byte line: two ymm loads */
__attribute__((target("avx2"))) static inline __m256 ld2_ymm(const float *q)
{
  return _mm256_add_ps(_mm256_load_ps(q), _mm256_load_ps(q + 8));
}
__attribute__((target("avx2"))) static inline float hsum_ymm(__m256 v)
{
  float out[8];
  _mm256_storeu_ps(out, v);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#define READ_YMM(S)                                                                                  \
  __attribute__((target("avx2"), noinline)) static float read_ymm_##S(const float *p, size_t n)     \
  {                                                                                                  \
    RD_BODY(__m256, _mm256_setzero_ps(), _mm256_add_ps, ld2_ymm, S);                                 \
    return hsum_ymm(a0);                                                                             \
  }
READ_YMM(1)
READ_YMM(2)
READ_YMM(4)
READ_YMM(8)
#endif

/* portable: one load per line is enough to bring it in */
static inline float ld_base(const float *q) { return q[0]; }
static inline float add_base(float a, float b) { return a + b; }
#define READ_BASE(S)                                                                                 \
  __attribute__((noinline)) static float read_base_##S(const float *p, size_t n)                    \
  {                                                                                                  \
    RD_BODY(float, 0.0f, add_base, ld_base, S);                                                      \
    return a0;                                                                                       \
  }
READ_BASE(1)
READ_BASE(2)
READ_BASE(4)
READ_BASE(8)

typedef float (*read_fn)(const float *, size_t);
static const int stream_counts[4] = {1, 2, 4, 8};

static read_fn read_kernel(int cls, int si)
{
#if BENCH_X86
  static const read_fn z[4] = {read_zmm_1, read_zmm_2, read_zmm_4, read_zmm_8};
  static const read_fn y[4] = {read_ymm_1, read_ymm_2, read_ymm_4, read_ymm_8};
  if (cls == 2) return z[si];
  if (cls == 1) return y[si];
#endif
  static const read_fn b[4] = {read_base_1, read_base_2, read_base_4, read_base_8};
  (void)cls;
  return b[si];
}

typedef struct {
  int kind; /* 0..2: FMA class; 3: DRAM read */
  long iters;
  const float *p;
  size_t n;
  int passes, si; /* DRAM read: passes, index into stream_counts */
  pthread_barrier_t *bar;
  volatile float sink;
} roof_job;

static int read_class; /* best vector width for the read kernel */

static void roof_work(roof_job *j)
{
  float s = 0;
  if (j->kind == 3) {
    read_fn fn = read_kernel(read_class, j->si);
    for (int r = 0; r < j->passes; r++) s += fn(j->p, j->n);
  } else {
#if BENCH_X86
    if (j->kind == 2)
      s = fma_zmm(j->iters);
    else if (j->kind == 1)
      s = fma_ymm(j->iters);
    else
#endif
      s = fma_base(j->iters);
  }
  j->sink = s;
}

static void *roof_thread(void *arg)
{
  roof_job *j = arg;
  pthread_barrier_wait(j->bar);
  roof_work(j);
  return NULL;
}

/* run jobs[0..T) concurrently (job 0 on this thread); wall seconds */
static double roof_run(roof_job *jobs, int T)
{
  pthread_t th[64];
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, (unsigned)T);
  for (int t = 0; t < T; t++) jobs[t].bar = &bar;
  for (int t = 1; t < T; t++)
    if (pthread_create(&th[t], NULL, roof_thread, &jobs[t]) != 0) die("pthread_create failed");
  pthread_barrier_wait(&bar);
  double t0 = now();
  roof_work(&jobs[0]);
  for (int t = 1; t < T; t++) pthread_join(th[t], NULL);
  double dt = now() - t0;
  pthread_barrier_destroy(&bar);
  return dt;
}

static double flop_per_iter(int kind)
{
#if BENCH_X86
  if (kind == 2) return FMA_ZMM_FLOP;
  if (kind == 1) return FMA_YMM_FLOP;
#endif
  (void)kind;
  return FMA_BASE_FLOP;
}

/* f32 FMA peak of one class on T threads, GFLOP/s (median) */
static double measure_fma(int kind, int T, double min_time, int samples)
{
  roof_job jobs[64];
  memset(jobs, 0, sizeof jobs);
  long it = 1 << 14;
  double dt;
  for (;;) { /* calibrate on one thread */
    jobs[0].kind = kind;
    jobs[0].iters = it;
    dt = roof_run(jobs, 1);
    if (dt > min_time / 8 || it > (1L << 40)) break;
    it *= 2;
  }
  it = (long)((double)it * min_time / dt) + 1;
  double v[64];
  if (samples > 64) samples = 64;
  for (int s = 0; s < samples; s++) {
    for (int t = 0; t < T; t++) {
      jobs[t].kind = kind;
      jobs[t].iters = it;
    }
    dt = roof_run(jobs, T);
    v[s] = flop_per_iter(kind) * (double)it * T / dt * 1e-9;
  }
  return median(v, samples);
}

static float *bw_buf;
static size_t bw_n;

/* DRAM read bandwidth on T threads, GB/s over a 512 MiB array: the best over
 * 1, 2, 4 and 8 streams per thread of the median of the samples */
static double measure_bw(int T, double min_time, int samples, int *best_streams)
{
  if (!bw_buf) {
    bw_n = 512 * MiB / sizeof(float);
    bw_buf = xalloc(bw_n * sizeof(float));
    OMP_PARALLEL_FOR
    for (size_t i = 0; i < bw_n; i += 1024) {
      size_t e = i + 1024 < bw_n ? i + 1024 : bw_n;
      for (size_t j = i; j < e; j++) bw_buf[j] = 1.0f;
    }
  }
  roof_job jobs[64];
  memset(jobs, 0, sizeof jobs);
  size_t per = bw_n / (size_t)T / 1024 * 1024;
  double best = 0;
  if (samples > 64) samples = 64;
  for (int si = 0; si < 4; si++) {
    int S = stream_counts[si];
    for (int t = 0; t < T; t++) {
      jobs[t].kind = 3;
      jobs[t].p = bw_buf + (size_t)t * per;
      jobs[t].n = per;
      jobs[t].passes = 1;
      jobs[t].si = si;
    }
    double dt = roof_run(jobs, T); /* warm */
    int passes = (int)ceil(min_time / dt);
    if (passes < 1) passes = 1;
    double v[64];
    for (int s = 0; s < samples; s++) {
      for (int t = 0; t < T; t++) jobs[t].passes = passes;
      dt = roof_run(jobs, T);
      v[s] = (double)RD_LEN(per, S) * S * sizeof(float) * T * passes / dt * 1e-9;
    }
    double m = median(v, samples);
    if (m > best) {
      best = m;
      *best_streams = S;
    }
  }
  return best;
}

typedef struct {
  int threads;
  double peak[3]; /* GFLOP/s per class; NaN when not runnable */
  double bw;      /* GB/s */
  int bw_streams; /* streams per thread of the best read kernel */
  int peak_given, bw_given;
} roofline;

/* [0, opt.n_threads): the --threads list, measured by the main loop; then
 * the other thread counts the quantized section needs */
static roofline roofs[2 * MAX_LIST];
static int n_roofs;

/* a given --peak-gflops / --bw-gbs value for T threads: the value of T's
 * position in --threads, else the last value scaled linearly */
static double given_value(const double *v, int n, int T)
{
  for (int j = 0; j < opt.n_threads && j < n; j++)
    if (opt.threads[j] == T) return v[j];
  int last = n - 1 < opt.n_threads - 1 ? n - 1 : opt.n_threads - 1;
  return v[last] / opt.threads[last] * T;
}

static void measure_roofline(int T, roofline *r)
{
  double mt = opt.quick ? 0.02 : 0.1;
  int ns = opt.quick ? 3 : 5;
  r->threads = T;
  for (int k = 0; k < 3; k++) r->peak[k] = NAN;
  if (opt.n_peak > 0) {
    double v = given_value(opt.peak, opt.n_peak, T);
    for (int k = 0; k < 3; k++) r->peak[k] = v;
    r->peak_given = 1;
  } else {
    for (int k = 0; k < 3; k++) {
      int runnable = k == 0 || (BENCH_X86 && isa_runnable(class_names[k]));
      if (runnable) r->peak[k] = measure_fma(k, T, mt, ns);
    }
  }
  if (opt.n_bw > 0) {
    r->bw = given_value(opt.bw, opt.n_bw, T);
    r->bw_given = 1;
  } else {
    r->bw = measure_bw(T, mt, ns, &r->bw_streams);
  }
}

static void print_roofline(const roofline *r)
{
  int T = r->threads;
  printf("\nRoofline, %d thread%s (%s): f32 FMA peak", T, T > 1 ? "s" : "",
         r->peak_given ? "given" : "measured, median");
  if (r->peak_given)
    printf(" %.1f GFLOP/s", r->peak[0]);
  else
    for (int k = 0; k < 3; k++)
      if (isfinite(r->peak[k]))
        printf(" %s %.1f%s", k == 0 ? "scalar (1 lane, mul+add)" : class_names[k], r->peak[k],
               k == 2 || !isfinite(r->peak[k + 1]) ? " GFLOP/s" : ",");
  if (r->bw_given)
    printf("; DRAM read %.1f GB/s (given)\n", r->bw);
  else
    printf("; DRAM read %.1f GB/s (512 MiB; best of 1-8 streams/thread: %d)\n", r->bw, r->bw_streams);
}

/* ================================================================ OpenBLAS (dlopen, never linked) */

enum { CblasRowMajor = 101, CblasNoTrans = 111 };
static struct {
  int tried, ok;
  void *h;
  void (*sgemm)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                float *, int);
  void (*sgemv)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
  float (*sdot)(int, const float *, int, const float *, int);
  void (*set_threads)(int);
  char *(*get_config)(void);
  char *(*get_corename)(void);
  char desc[256];
} ob;

static int openblas_load(void)
{
  if (ob.tried) return ob.ok;
  ob.tried = 1;
  if (opt.no_openblas) {
    snprintf(ob.desc, sizeof ob.desc, "disabled (--no-openblas)");
    return 0;
  }
  const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
  for (size_t i = 0; i < sizeof names / sizeof *names && !ob.h; i++)
    ob.h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!ob.h) {
    snprintf(ob.desc, sizeof ob.desc, "not found (libopenblas.so.0), comparison skipped");
    return 0;
  }
  *(void **)&ob.sgemm = dlsym(ob.h, "cblas_sgemm");
  *(void **)&ob.sgemv = dlsym(ob.h, "cblas_sgemv");
  *(void **)&ob.sdot = dlsym(ob.h, "cblas_sdot");
  *(void **)&ob.set_threads = dlsym(ob.h, "openblas_set_num_threads");
  *(void **)&ob.get_config = dlsym(ob.h, "openblas_get_config");
  *(void **)&ob.get_corename = dlsym(ob.h, "openblas_get_corename");
  if (!ob.sgemm || !ob.sgemv || !ob.sdot) {
    snprintf(ob.desc, sizeof ob.desc, "libopenblas.so.0 lacks cblas_sgemm/sgemv/sdot, comparison skipped");
    return 0;
  }
  snprintf(ob.desc, sizeof ob.desc, "%s%s%s", ob.get_config ? ob.get_config() : "libopenblas.so.0",
           ob.get_corename ? ", core " : "", ob.get_corename ? ob.get_corename() : "");
  ob.ok = 1;
  return 1;
}

/* ================================================================ sizes */

static struct {
  size_t big;        /* bytes per array, streaming ops */
  size_t l1n, l2n;   /* vec_dot L1 / L2 resident lengths */
  size_t hidden, ffn, heads, kvh, hd;
  size_t gemm_m1, gemm_m2, gemm_nk;
  size_t gemv_m1, gemv_m2;
  size_t row;        /* softmax / norm row length */
  size_t rope_seq, attn_q, attn_kv, kv, page, prefill;
  size_t vocab, n_ids;
  size_t stream_min; /* rotate GEMV weight copies up to this many bytes */
} Z;

/* vec_dot "L2-resident": both vectors fill half of this core's L2 */
static size_t l2_dot_len(void)
{
  long l2 = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
  l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (l2 <= 0) l2 = 1L << 20;
  size_t n = (size_t)l2 / 16 / 1024 * 1024;
  return n < 16384 ? 16384 : n > 262144 ? 262144 : n;
}

static void set_sizes(void)
{
  if (!opt.quick) {
    Z.big = 64 * MiB; Z.l1n = 4096; Z.l2n = l2_dot_len();
    Z.hidden = 4096; Z.ffn = 11008; Z.heads = 32; Z.kvh = 8; Z.hd = 128;
    Z.gemm_m1 = 512; Z.gemm_m2 = 128; Z.gemm_nk = 4096;
    Z.gemv_m1 = 4096; Z.gemv_m2 = 11008;
    Z.row = 4096; Z.rope_seq = 512; Z.attn_q = 512; Z.attn_kv = 512; Z.kv = 2048; Z.page = 16;
    Z.prefill = 128; Z.vocab = 32000; Z.n_ids = 512; Z.stream_min = 256 * MiB;
  } else {
    Z.big = 16 * MiB; Z.l1n = 4096; Z.l2n = l2_dot_len();
    Z.hidden = 1024; Z.ffn = 2816; Z.heads = 8; Z.kvh = 2; Z.hd = 128;
    Z.gemm_m1 = 128; Z.gemm_m2 = 32; Z.gemm_nk = 1024;
    Z.gemv_m1 = 1024; Z.gemv_m2 = 2816;
    Z.row = 4096; Z.rope_seq = 128; Z.attn_q = 128; Z.attn_kv = 128; Z.kv = 512; Z.page = 16;
    Z.prefill = 32; Z.vocab = 4096; Z.n_ids = 128; Z.stream_min = 0;
  }
}

/* ================================================================ cases */

enum { ROOF_FMA, ROOF_MEM };
typedef struct bcase bcase;
typedef gllmk_status (*run_fn)(bcase *);
struct spec;

#define MAXBUF 32
#define MAXCHK 3
struct bcase {
  const struct spec *sp;
  char shape[96];
  dtype dt;
  int roof;
  double flops, bytes;
  void *bufs[MAXBUF];
  int nbufs;
  uint64_t seed;
  /* operands; meaning per operator, see the builders */
  void *x, *y, *z, *w1, *w2, *w3, *bias, *res, *nw, *nb, *cs, *sn;
  void *o1, *o2, *o3, *t1, *t2, *t3, *w1t, *w2t, *w3t;
  uint32_t *ids, *ids2;
  size_t m, n, k, rows, seq, kv, heads, kvh, hd, rd, pos, page, npages, vocab;
  float eps, scale;
  int causal, inter, toggle;
  /* streamed weights: nrot identical copies, rot_bytes apart, from w1 */
  size_t rot_bytes;
  int nrot, rot;
  /* an in-place operand, restored before every checked run */
  void *save_dst, *save_copy;
  size_t save_bytes;
  /* outputs compared against the scalar ISA */
  struct { void *p; size_t n; dtype t; } chk[MAXCHK];
  int nchk;
  double abs_scale;
  run_fn run, compose, openblas;
  const char *compose_name, *openblas_name;
};

typedef struct spec {
  const char *group, *op;
  dtype dt;
  int var;
  void (*build)(bcase *c, const struct spec *s);
} spec;

static void *c_alloc(bcase *c, size_t bytes)
{
  if (c->nbufs >= MAXBUF) die("internal: too many buffers");
  void *p = xalloc(bytes);
  c->bufs[c->nbufs++] = p;
  return p;
}
static void *c_in(bcase *c, dtype t, size_t n, float lo, float hi)
{
  void *p = c_alloc(c, n * dt_size(t));
  fill_uniform(p, t, n, lo, hi, ++c->seed);
  return p;
}
static void *c_out(bcase *c, dtype t, size_t n)
{
  void *p = c_alloc(c, n * dt_size(t));
  memset(p, 0, n * dt_size(t)); /* fault the pages in now, not while timing */
  return p;
}
static void c_chk(bcase *c, void *p, size_t n, dtype t)
{
  c->chk[c->nchk].p = p;
  c->chk[c->nchk].n = n;
  c->chk[c->nchk].t = t;
  c->nchk++;
}
static void c_save(bcase *c, void *p, size_t bytes)
{
  c->save_dst = p;
  c->save_bytes = bytes;
  c->save_copy = c_alloc(c, bytes);
  memcpy(c->save_copy, p, bytes);
}
static void c_free(bcase *c)
{
  for (int i = 0; i < c->nbufs; i++) free(c->bufs[i]);
  c->nbufs = 0;
}
static void c_reset(bcase *c)
{
  if (c->save_bytes) memcpy(c->save_dst, c->save_copy, c->save_bytes);
  c->toggle = 0;
  c->rot = 0;
}
static void *c_rotw(bcase *c)
{
  if (c->nrot <= 1) return c->w1;
  void *p = (char *)c->w1 + (size_t)c->rot * c->rot_bytes;
  c->rot = (c->rot + 1) % c->nrot;
  return p;
}
/* W [n x k] -> Wt [k x n] (f32), for compositions through gllmk_gemm */
static void *c_transpose(bcase *c, const float *w, size_t n, size_t k)
{
  float *t = c_alloc(c, n * k * sizeof(float));
  const size_t B = 64;
  OMP_PARALLEL_FOR
  for (size_t i0 = 0; i0 < n; i0 += B)
    for (size_t j0 = 0; j0 < k; j0 += B)
      for (size_t i = i0; i < i0 + B && i < n; i++)
        for (size_t j = j0; j < j0 + B && j < k; j++) t[j * n + i] = w[i * k + j];
  return t;
}
static double sum_abs(const void *p, dtype t, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += fabs(get_el(p, t, i));
  return s;
}

#define DT3(c, fn, ...)                                                                     \
  ((c)->dt == DT_F32 ? fn##_f32(__VA_ARGS__) : (c)->dt == DT_F16 ? fn##_f16(__VA_ARGS__) \
                                                                 : fn##_bf16(__VA_ARGS__))

/* ---------------------------------------------------------------- BLAS-1 */

static gllmk_status r_vec_dot(bcase *c) { return DT3(c, gllmk_vec_dot, c->x, c->y, c->n, (float *)c->o1); }
static gllmk_status r_vec_add(bcase *c) { return DT3(c, gllmk_vec_add, c->x, c->y, c->o1, c->n); }
static gllmk_status r_vec_sub(bcase *c) { return DT3(c, gllmk_vec_sub, c->x, c->y, c->o1, c->n); }
static gllmk_status r_vec_mul(bcase *c) { return DT3(c, gllmk_vec_mul, c->x, c->y, c->o1, c->n); }
static gllmk_status r_vec_scale(bcase *c)
{ /* alternate s and 1/s so that repeated timing keeps the data in range */
  float s = c->toggle ? 1.0f / 0.75f : 0.75f;
  c->toggle ^= 1;
  return DT3(c, gllmk_vec_scale, c->x, s, c->n);
}
static gllmk_status r_vec_axpy(bcase *c)
{
  float a = c->toggle ? -0.5f : 0.5f;
  c->toggle ^= 1;
  return DT3(c, gllmk_vec_axpy, c->x, a, c->y, c->n);
}
static gllmk_status r_vec_sum(bcase *c) { return DT3(c, gllmk_vec_sum, c->x, c->n, (float *)c->o1); }
static gllmk_status r_vec_max(bcase *c) { return DT3(c, gllmk_vec_max, c->x, c->n, (float *)c->o1); }
static gllmk_status r_vec_sum_squares(bcase *c)
{
  return DT3(c, gllmk_vec_sum_squares, c->x, c->n, (float *)c->o1);
}
static gllmk_status r_ob_dot(bcase *c)
{
  *(float *)c->o1 = ob.sdot((int)c->n, c->x, 1, c->y, 1);
  return GLLMK_OK;
}

static void b_vec(bcase *c, const spec *s)
{
  const char *op = s->op;
  size_t es = dt_size(c->dt), n;
  char nb[32];
  int is_dot = !strcmp(op, "vec_dot");
  if (is_dot && s->var < 2) {
    n = s->var == 0 ? Z.l1n : Z.l2n;
    format_count(nb, sizeof nb, n);
    snprintf(c->shape, sizeof c->shape, "n=%s (%s)", nb, s->var == 0 ? "L1" : "L2");
    c->roof = ROOF_FMA;
  } else {
    n = Z.big / es;
    format_count(nb, sizeof nb, n);
    snprintf(c->shape, sizeof c->shape, "n=%s (%zu MiB/array)", nb, Z.big / MiB);
    c->roof = ROOF_MEM;
  }
  c->n = n;
  c->x = c_in(c, c->dt, n, -1, 1);
  double dn = (double)n, des = (double)es;
  if (is_dot) {
    c->y = c_in(c, c->dt, n, -1, 1);
    c->o1 = c_out(c, DT_F32, 16);
    c->run = r_vec_dot;
    c->flops = 2 * dn;
    c->bytes = 2 * dn * des;
    c_chk(c, c->o1, 1, DT_F32);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)get_el(c->x, c->dt, i) * get_el(c->y, c->dt, i));
    c->abs_scale = 1e-2 * s;
    if (c->dt == DT_F32) {
      c->openblas = r_ob_dot;
      c->openblas_name = "cblas_sdot";
    }
  } else if (!strcmp(op, "vec_add") || !strcmp(op, "vec_sub") || !strcmp(op, "vec_mul")) {
    c->y = c_in(c, c->dt, n, -1, 1);
    c->o1 = c_out(c, c->dt, n);
    c->run = op[4] == 'a' ? r_vec_add : op[4] == 's' ? r_vec_sub : r_vec_mul;
    c->flops = dn;
    c->bytes = 3 * dn * des;
    c_chk(c, c->o1, n, c->dt);
  } else if (!strcmp(op, "vec_scale")) {
    c_save(c, c->x, n * es);
    c->run = r_vec_scale;
    c->flops = dn;
    c->bytes = 2 * dn * des;
    c_chk(c, c->x, n, c->dt);
  } else if (!strcmp(op, "vec_axpy")) {
    c->y = c_in(c, c->dt, n, -1, 1);
    c_save(c, c->x, n * es);
    c->run = r_vec_axpy;
    c->flops = 2 * dn;
    c->bytes = 3 * dn * des;
    c_chk(c, c->x, n, c->dt);
  } else { /* reductions */
    c->o1 = c_out(c, DT_F32, 16);
    c_chk(c, c->o1, 1, DT_F32);
    c->bytes = dn * des;
    c->flops = dn;
    if (!strcmp(op, "vec_sum")) {
      c->run = r_vec_sum;
      c->abs_scale = 1e-2 * sum_abs(c->x, c->dt, n);
    } else if (!strcmp(op, "vec_max")) {
      c->run = r_vec_max;
    } else {
      c->run = r_vec_sum_squares;
      c->flops = 2 * dn;
      double s = 0;
      for (size_t i = 0; i < n; i++) {
        double v = get_el(c->x, c->dt, i);
        s += v * v;
      }
      c->abs_scale = 1e-2 * s;
    }
  }
}

/* ---------------------------------------------------------------- GEMV / GEMM */

static gllmk_status r_gemv(bcase *c) { return DT3(c, gllmk_gemv, c_rotw(c), c->x, c->o1, c->m, c->n); }
static gllmk_status r_ob_gemv(bcase *c)
{
  ob.sgemv(CblasRowMajor, CblasNoTrans, (int)c->m, (int)c->n, 1.0f, c_rotw(c), (int)c->n, c->x, 1, 0.0f,
           c->o1, 1);
  return GLLMK_OK;
}
static gllmk_status r_gemm(bcase *c) { return DT3(c, gllmk_gemm, c->x, c->w1, c->o1, c->m, c->n, c->k); }
static gllmk_status r_gemm_bias(bcase *c)
{
  return DT3(c, gllmk_gemm_bias, c->x, c->w1, c->bias, c->o1, c->m, c->n, c->k);
}
static gllmk_status r_ob_gemm(bcase *c)
{
  ob.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->m, (int)c->n, (int)c->k, 1.0f, c->x, (int)c->k,
           c->w1, (int)c->n, 0.0f, c->o1, (int)c->n);
  return GLLMK_OK;
}

static void b_gemv(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->m = s->var == 0 ? Z.gemv_m1 : Z.gemv_m2;
  c->n = Z.hidden;
  size_t wbytes = c->m * c->n * es;
  c->nrot = 1;
  if (Z.stream_min > wbytes) c->nrot = (int)((Z.stream_min + wbytes - 1) / wbytes);
  c->rot_bytes = (wbytes + 4095) / 4096 * 4096;
  c->w1 = c_alloc(c, c->rot_bytes * (size_t)c->nrot);
  fill_uniform(c->w1, c->dt, c->m * c->n, -1, 1, ++c->seed);
  for (int r = 1; r < c->nrot; r++) memcpy((char *)c->w1 + (size_t)r * c->rot_bytes, c->w1, wbytes);
  c->x = c_in(c, c->dt, c->n, -1, 1);
  c->o1 = c_out(c, c->dt, c->m);
  c->run = r_gemv;
  c->roof = ROOF_MEM;
  c->flops = 2.0 * (double)c->m * (double)c->n;
  c->bytes = ((double)c->m * (double)c->n + (double)c->n + (double)c->m) * (double)es;
  c_chk(c, c->o1, c->m, c->dt);
  if (c->nrot > 1)
    snprintf(c->shape, sizeof c->shape, "%zux%zu (%d copies)", c->m, c->n, c->nrot);
  else
    snprintf(c->shape, sizeof c->shape, "%zux%zu", c->m, c->n);
  if (c->dt == DT_F32) {
    c->openblas = r_ob_gemv;
    c->openblas_name = "cblas_sgemv";
  }
}

static void b_gemm(bcase *c, const spec *s)
{
  c->m = s->var == 0 ? Z.gemm_m1 : Z.gemm_m2;
  c->n = c->k = Z.gemm_nk;
  c->x = c_in(c, c->dt, c->m * c->k, -1, 1);
  c->w1 = c_in(c, c->dt, c->k * c->n, -1, 1);
  c->o1 = c_out(c, c->dt, c->m * c->n);
  c->roof = ROOF_FMA;
  c->flops = 2.0 * (double)c->m * (double)c->n * (double)c->k;
  c->bytes = ((double)c->m * c->k + (double)c->k * c->n + (double)c->m * c->n) * (double)dt_size(c->dt);
  c_chk(c, c->o1, c->m * c->n, c->dt);
  snprintf(c->shape, sizeof c->shape, "%zux%zux%zu", c->m, c->n, c->k);
  if (!strcmp(s->op, "gemm_bias")) {
    c->bias = c_in(c, c->dt, c->n, -1, 1);
    c->run = r_gemm_bias;
  } else {
    c->run = r_gemm;
    if (c->dt == DT_F32) {
      c->openblas = r_ob_gemm;
      c->openblas_name = "cblas_sgemm";
    }
  }
}

/* ---------------------------------------------------------------- activations, norms */

static gllmk_status r_silu(bcase *c) { return DT3(c, gllmk_silu, c->x, c->o1, c->n); }
static gllmk_status r_gelu(bcase *c) { return DT3(c, gllmk_gelu, c->x, c->o1, c->n); }
static gllmk_status r_relu(bcase *c) { return DT3(c, gllmk_relu, c->x, c->o1, c->n); }
static gllmk_status r_tanh(bcase *c) { return DT3(c, gllmk_tanh, c->x, c->o1, c->n); }
static gllmk_status r_exp(bcase *c) { return DT3(c, gllmk_exp, c->x, c->o1, c->n); }
static gllmk_status r_swiglu(bcase *c) { return DT3(c, gllmk_swiglu, c->x, c->y, c->o1, c->n); }
static gllmk_status r_softmax(bcase *c) { return DT3(c, gllmk_softmax, c->x, c->o1, c->rows, c->n); }
static gllmk_status r_rms_norm(bcase *c)
{
  return DT3(c, gllmk_rms_norm, c->x, c->nw, c->o1, c->rows, c->n, c->eps);
}
static gllmk_status r_layer_norm(bcase *c)
{
  return DT3(c, gllmk_layer_norm, c->x, c->nw, c->nb, c->o1, c->rows, c->n, c->eps);
}

static void b_act(bcase *c, const spec *s)
{
  const char *op = s->op;
  size_t es = dt_size(c->dt);
  size_t n = Z.big / es;
  char nb[32];
  format_count(nb, sizeof nb, n);
  snprintf(c->shape, sizeof c->shape, "n=%s (%zu MiB/array)", nb, Z.big / MiB);
  float lo = -5, hi = 5;
  if (!strcmp(op, "exp")) lo = -10, hi = 10;
  if (!strcmp(op, "silu") || !strcmp(op, "swiglu")) lo = -8, hi = 8;
  c->n = n;
  c->x = c_in(c, c->dt, n, lo, hi);
  c->o1 = c_out(c, c->dt, n);
  c->roof = ROOF_MEM;
  c->bytes = 2.0 * (double)n * (double)es;
  c_chk(c, c->o1, n, c->dt);
  if (!strcmp(op, "silu")) c->run = r_silu;
  else if (!strcmp(op, "gelu")) c->run = r_gelu;
  else if (!strcmp(op, "relu")) c->run = r_relu;
  else if (!strcmp(op, "tanh")) c->run = r_tanh;
  else if (!strcmp(op, "exp")) c->run = r_exp;
  else {
    c->y = c_in(c, c->dt, n, -4, 4);
    c->run = r_swiglu;
    c->bytes = 3.0 * (double)n * (double)es;
  }
}

static void b_norm(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->n = Z.row;
  c->rows = Z.big / es / c->n;
  c->eps = 1e-6f;
  size_t tot = c->rows * c->n;
  snprintf(c->shape, sizeof c->shape, "%zu rows x %zu (%zu MiB)", c->rows, c->n, Z.big / MiB);
  c->roof = ROOF_MEM;
  c->bytes = (2.0 * (double)tot + (double)c->n) * (double)es;
  c->o1 = c_out(c, c->dt, tot);
  c_chk(c, c->o1, tot, c->dt);
  if (!strcmp(s->op, "softmax")) {
    c->x = c_in(c, c->dt, tot, -5, 5);
    c->run = r_softmax;
    c->bytes = 2.0 * (double)tot * (double)es;
  } else {
    c->x = c_in(c, c->dt, tot, -2, 2);
    c->nw = c_in(c, c->dt, c->n, 0.5f, 1.5f);
    if (!strcmp(s->op, "rms_norm")) {
      c->run = r_rms_norm;
    } else {
      c->nb = c_in(c, c->dt, c->n, -0.5f, 0.5f);
      c->run = r_layer_norm;
      c->bytes += (double)c->n * (double)es;
    }
  }
}

/* ---------------------------------------------------------------- rope, embedding */

static gllmk_status r_rope(bcase *c)
{
  return DT3(c, gllmk_rope, c->x, c->cs, c->sn, c->seq, c->heads, c->hd, c->rd, c->inter);
}
static gllmk_status r_rope_with_pos(bcase *c)
{
  return DT3(c, gllmk_rope_with_pos, c->x, c->cs, c->sn, c->seq, c->heads, c->hd, c->rd, c->inter, c->pos);
}

/* real rotary tables (rows x rd/2) so that repeated application stays bounded */
static void rope_tables(bcase *c, dtype t, size_t rows, size_t rd, void **cs, void **sn)
{
  size_t half = rd / 2;
  *cs = c_alloc(c, rows * half * dt_size(t));
  *sn = c_alloc(c, rows * half * dt_size(t));
  for (size_t p = 0; p < rows; p++)
    for (size_t i = 0; i < half; i++) {
      double th = (double)p * pow(10000.0, -2.0 * (double)i / (double)rd);
      set_el(*cs, t, p * half + i, (float)cos(th));
      set_el(*sn, t, p * half + i, (float)sin(th));
    }
}

static void b_rope(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->seq = Z.rope_seq;
  c->heads = Z.heads;
  c->hd = c->rd = Z.hd;
  int with_pos = !strcmp(s->op, "rope_with_pos");
  c->inter = s->var == 1;
  c->pos = with_pos ? Z.kv - c->seq : 0;
  size_t tot = c->seq * c->heads * c->hd;
  c->x = c_in(c, c->dt, tot, -1, 1);
  c_save(c, c->x, tot * es);
  rope_tables(c, c->dt, c->pos + c->seq, c->rd, &c->cs, &c->sn);
  c->run = with_pos ? r_rope_with_pos : r_rope;
  c->roof = ROOF_MEM;
  c->bytes = (2.0 * (double)tot + (double)c->seq * (double)c->rd) * (double)es;
  c_chk(c, c->x, tot, c->dt);
  int l = snprintf(c->shape, sizeof c->shape, "seq=%zu h=%zu d=%zu %s", c->seq, c->heads, c->hd,
                   c->inter ? "interleaved" : "split");
  if (with_pos) snprintf(c->shape + l, sizeof c->shape - (size_t)l, " pos=%zu", c->pos);
}

static gllmk_status r_embedding(bcase *c)
{
  return DT3(c, gllmk_embedding_lookup, c->ids, c->seq, c->w1, c->vocab, c->n, c->o1);
}

static void b_embedding(bcase *c, const spec *s)
{
  (void)s;
  size_t es = dt_size(c->dt);
  c->vocab = Z.vocab;
  c->n = Z.hidden;
  c->seq = Z.n_ids;
  c->w1 = c_in(c, c->dt, c->vocab * c->n, -1, 1);
  c->ids = c_alloc(c, c->seq * sizeof(uint32_t));
  uint64_t st = 42;
  for (size_t i = 0; i < c->seq; i++) c->ids[i] = (uint32_t)(splitmix(&st) % c->vocab);
  c->o1 = c_out(c, c->dt, c->seq * c->n);
  c->run = r_embedding;
  c->roof = ROOF_MEM;
  c->bytes = 2.0 * (double)c->seq * (double)c->n * (double)es + 4.0 * (double)c->seq;
  c_chk(c, c->o1, c->seq * c->n, c->dt);
  snprintf(c->shape, sizeof c->shape, "%zu ids, vocab=%zu h=%zu", c->seq, c->vocab, c->n);
}

/* ---------------------------------------------------------------- attention */

static gllmk_status r_flash(bcase *c)
{
  return DT3(c, gllmk_flash_attention, c->x, c->y, c->z, c->o1, c->seq, c->kv, c->heads, c->kvh, c->hd,
             c->scale, c->causal);
}
static gllmk_status r_paged(bcase *c)
{
  return DT3(c, gllmk_flash_attention_paged, c->x, c->y, c->z, c->ids, c->o1, c->seq, c->kv, c->heads,
             c->kvh, c->hd, c->page, c->npages, c->scale);
}
/* composition: gather the pages with embedding_lookup, then causal flash_attention */
static gllmk_status r_paged_compose(bcase *c)
{
  size_t row = c->kvh * c->hd, tokens = c->npages * c->page;
  gllmk_status st = DT3(c, gllmk_embedding_lookup, c->ids2, c->kv, c->y, tokens, row, c->t1);
  if (st == GLLMK_OK) st = DT3(c, gllmk_embedding_lookup, c->ids2, c->kv, c->z, tokens, row, c->t2);
  if (st == GLLMK_OK)
    st = DT3(c, gllmk_flash_attention, c->x, c->t1, c->t2, c->o1, c->seq, c->kv, c->heads, c->kvh, c->hd,
             c->scale, true);
  return st;
}

/* keys seen by all queries: causal aligns the last query with the last key */
static double attn_keys(size_t q, size_t kv, int causal)
{
  if (!causal) return (double)q * (double)kv;
  double s = 0;
  for (size_t i = 0; i < q; i++) {
    double seen = (double)i + (double)kv - (double)q + 1;
    s += seen < 0 ? 0 : seen > (double)kv ? (double)kv : seen;
  }
  return s;
}

static void b_flash(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->heads = Z.heads;
  c->kvh = Z.kvh;
  c->hd = Z.hd;
  c->scale = 1.0f / sqrtf((float)c->hd);
  if (s->var == 2) { /* decode */
    c->seq = 1;
    c->kv = Z.kv;
    c->causal = 1;
  } else {
    c->seq = Z.attn_q;
    c->kv = Z.attn_kv;
    c->causal = s->var == 1;
  }
  size_t qn = c->seq * c->heads * c->hd, kn = c->kv * c->kvh * c->hd;
  c->x = c_in(c, c->dt, qn, -1, 1);
  c->y = c_in(c, c->dt, kn, -1, 1);
  c->z = c_in(c, c->dt, kn, -1, 1);
  c->o1 = c_out(c, c->dt, qn);
  c->run = r_flash;
  c->flops = 4.0 * (double)c->heads * (double)c->hd * attn_keys(c->seq, c->kv, c->causal);
  c->bytes = (2.0 * (double)qn + 2.0 * (double)kn) * (double)es;
  c->roof = c->seq == 1 ? ROOF_MEM : ROOF_FMA;
  c_chk(c, c->o1, qn, c->dt);
  snprintf(c->shape, sizeof c->shape, "q=%zu kv=%zu h=%zu/%zu d=%zu%s", c->seq, c->kv, c->heads, c->kvh,
           c->hd, s->var == 2 ? " (decode)" : c->causal ? " causal" : "");
}

static void b_paged(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->heads = Z.heads;
  c->kvh = Z.kvh;
  c->hd = Z.hd;
  c->scale = 1.0f / sqrtf((float)c->hd);
  c->seq = s->var == 0 ? 1 : Z.prefill;
  c->kv = Z.kv;
  c->page = Z.page;
  size_t used = (c->kv + c->page - 1) / c->page;
  c->npages = used + 8; /* a few pages that belong to nobody */
  size_t row = c->kvh * c->hd, qn = c->seq * c->heads * c->hd;
  c->x = c_in(c, c->dt, qn, -1, 1);
  c->y = c_in(c, c->dt, c->npages * c->page * row, -1, 1);
  c->z = c_in(c, c->dt, c->npages * c->page * row, -1, 1);
  c->o1 = c_out(c, c->dt, qn);
  /* page table: a random permutation of the physical pages */
  uint32_t *perm = c_alloc(c, c->npages * sizeof(uint32_t));
  for (size_t i = 0; i < c->npages; i++) perm[i] = (uint32_t)i;
  uint64_t st = 7;
  for (size_t i = c->npages - 1; i > 0; i--) {
    size_t j = (size_t)(splitmix(&st) % (i + 1));
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  c->ids = perm;
  c->ids2 = c_alloc(c, c->kv * sizeof(uint32_t));
  for (size_t t = 0; t < c->kv; t++) c->ids2[t] = (uint32_t)(perm[t / c->page] * c->page + t % c->page);
  c->t1 = c_out(c, c->dt, c->kv * row);
  c->t2 = c_out(c, c->dt, c->kv * row);
  c->run = r_paged;
  c->compose = r_paged_compose;
  c->compose_name = "2 embedding_lookup (gather) + flash_attention";
  c->flops = 4.0 * (double)c->heads * (double)c->hd * attn_keys(c->seq, c->kv, 1);
  c->bytes = (2.0 * (double)qn + 2.0 * (double)c->kv * (double)row) * (double)es + 4.0 * (double)used;
  c->roof = c->seq == 1 ? ROOF_MEM : ROOF_FMA;
  c_chk(c, c->o1, qn, c->dt);
  snprintf(c->shape, sizeof c->shape, "q=%zu cache=%zu page=%zu h=%zu/%zu d=%zu", c->seq, c->kv, c->page,
           c->heads, c->kvh, c->hd);
}

/* ---------------------------------------------------------------- fused (f32) */

/* out[m x n] = x[m x k] . W^T with W [n x k]: gemv for one row, else gemm with W^T [k x n] */
static gllmk_status lin(const float *x, const float *w, const float *wt, float *out, size_t m, size_t n,
                        size_t k)
{
  if (m == 1) return gllmk_gemv_f32(w, x, out, n, k);
  return gllmk_gemm_f32(x, wt, out, m, n, k);
}
#define TRY(e)                                  \
  do {                                          \
    gllmk_status st_ = (e);                     \
    if (st_ != GLLMK_OK) return st_;            \
  } while (0)

static gllmk_status r_qkv(bcase *c)
{
  return gllmk_fused_qkv_rope_f32(c->x, c->w1, c->w2, c->w3, c->cs, c->sn, c->o1, c->o2, c->o3, c->m, c->k,
                                  c->heads, c->kvh, c->hd, c->rd, c->inter, c->pos);
}
static gllmk_status r_qkv_compose(bcase *c)
{
  size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
  TRY(lin(c->x, c->w1, c->w1t, c->o1, c->m, qd, c->k));
  TRY(lin(c->x, c->w2, c->w2t, c->o2, c->m, kd, c->k));
  TRY(lin(c->x, c->w3, c->w3t, c->o3, c->m, kd, c->k));
  TRY(gllmk_rope_with_pos_f32(c->o1, c->cs, c->sn, c->m, c->heads, c->hd, c->rd, c->inter, c->pos));
  return gllmk_rope_with_pos_f32(c->o2, c->cs, c->sn, c->m, c->kvh, c->hd, c->rd, c->inter, c->pos);
}
static gllmk_status r_gate_up(bcase *c)
{
  return gllmk_fused_gate_up_swiglu_f32(c->x, c->w1, c->w2, c->o1, c->m, c->n, c->k);
}
static gllmk_status r_gate_up_compose(bcase *c)
{
  TRY(lin(c->x, c->w1, c->w1t, c->t1, c->m, c->n, c->k));
  TRY(lin(c->x, c->w2, c->w2t, c->t2, c->m, c->n, c->k));
  return gllmk_swiglu_f32(c->t1, c->t2, c->o1, c->m * c->n);
}
/* FFN: hidden = k, ffn = n */
static gllmk_status r_ffn(bcase *c)
{
  return gllmk_fused_ffn_f32(c->x, c->w1, c->w2, c->w3, c->res, c->o1, c->m, c->k, c->n);
}
static gllmk_status ffn_compose_body(bcase *c, float *sum)
{
  TRY(lin(c->x, c->w1, c->w1t, c->t1, c->m, c->n, c->k));
  TRY(lin(c->x, c->w2, c->w2t, c->t2, c->m, c->n, c->k));
  TRY(gllmk_swiglu_f32(c->t1, c->t2, c->t1, c->m * c->n));
  TRY(lin(c->t1, c->w3, c->w3t, c->t3, c->m, c->k, c->n));
  return gllmk_vec_add_f32(c->res, c->t3, sum, c->m * c->k);
}
static gllmk_status r_ffn_compose(bcase *c) { return ffn_compose_body(c, c->o1); }
static gllmk_status r_ffn_rms(bcase *c)
{
  return gllmk_fused_ffn_rmsnorm_f32(c->x, c->w1, c->w2, c->w3, c->res, c->nw, c->o1, c->o2, c->m, c->k, c->n,
                                     c->eps);
}
static gllmk_status r_ffn_rms_compose(bcase *c)
{
  TRY(ffn_compose_body(c, c->o2));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->k, c->eps);
}
static gllmk_status r_lin_rms(bcase *c)
{
  return gllmk_fused_linear_residual_rmsnorm_f32(c->x, c->w1, c->res, c->nw, c->o1, c->o2, c->m, c->n, c->k,
                                                 c->eps);
}
static gllmk_status r_lin_rms_compose(bcase *c)
{
  TRY(lin(c->x, c->w1, c->w1t, c->t1, c->m, c->n, c->k));
  TRY(gllmk_vec_add_f32(c->t1, c->res, c->o2, c->m * c->n));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->n, c->eps);
}
static gllmk_status r_linb_rms(bcase *c)
{
  return gllmk_fused_linear_bias_residual_rmsnorm_f32(c->x, c->w1, c->bias, c->res, c->nw, c->o1, c->o2, c->m,
                                                      c->n, c->k, c->eps);
}
static gllmk_status r_linb_rms_compose(bcase *c)
{
  if (c->m == 1) {
    TRY(gllmk_gemv_f32(c->w1, c->x, c->t1, c->n, c->k));
    TRY(gllmk_vec_add_f32(c->t1, c->bias, c->t1, c->n));
  } else {
    TRY(gllmk_gemm_bias_f32(c->x, c->w1t, c->bias, c->t1, c->m, c->n, c->k));
  }
  TRY(gllmk_vec_add_f32(c->t1, c->res, c->o2, c->m * c->n));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->n, c->eps);
}

static void *weight(bcase *c, size_t n, size_t k, void **wt)
{
  float a = 1.0f / sqrtf((float)k) * 1.7f; /* outputs of about unit size */
  void *w = c_in(c, DT_F32, n * k, -a, a);
  *wt = (c->m > 1 && !opt.no_compose) ? c_transpose(c, w, n, k) : NULL;
  return w;
}

static void b_fused(bcase *c, const spec *s)
{
  const char *op = s->op;
  c->m = s->var == 0 ? 1 : Z.prefill;
  c->eps = 1e-6f;
  c->roof = c->m == 1 ? ROOF_MEM : ROOF_FMA;
  double m = (double)c->m, wel = 0, act = 0;
  if (!strcmp(op, "fused_qkv_rope")) {
    c->k = Z.hidden;
    c->heads = Z.heads;
    c->kvh = Z.kvh;
    c->hd = c->rd = Z.hd;
    c->pos = Z.kv - c->m;
    size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
    c->x = c_in(c, DT_F32, c->m * c->k, -1, 1);
    c->w1 = weight(c, qd, c->k, &c->w1t);
    c->w2 = weight(c, kd, c->k, &c->w2t);
    c->w3 = weight(c, kd, c->k, &c->w3t);
    rope_tables(c, DT_F32, c->pos + c->m, c->rd, &c->cs, &c->sn);
    c->o1 = c_out(c, DT_F32, c->m * qd);
    c->o2 = c_out(c, DT_F32, c->m * kd);
    c->o3 = c_out(c, DT_F32, c->m * kd);
    c_chk(c, c->o1, c->m * qd, DT_F32);
    c_chk(c, c->o2, c->m * kd, DT_F32);
    c_chk(c, c->o3, c->m * kd, DT_F32);
    c->run = r_qkv;
    c->compose = r_qkv_compose;
    c->compose_name = c->m == 1 ? "3 gemv + 2 rope_with_pos" : "3 gemm + 2 rope_with_pos";
    wel = (double)(qd + 2 * kd) * (double)c->k;
    act = m * ((double)c->k + (double)(qd + 2 * kd) + (double)c->rd);
    c->flops = 2 * m * wel;
    snprintf(c->shape, sizeof c->shape, "seq=%zu h=%zu heads=%zu/%zu d=%zu", c->m, c->k, c->heads, c->kvh,
             c->hd);
  } else if (!strcmp(op, "fused_gate_up_swiglu") || !strcmp(op, "fused_ffn") ||
             !strcmp(op, "fused_ffn_rmsnorm")) {
    c->k = Z.hidden;
    c->n = Z.ffn;
    c->x = c_in(c, DT_F32, c->m * c->k, -1, 1);
    c->w1 = weight(c, c->n, c->k, &c->w1t);
    c->w2 = weight(c, c->n, c->k, &c->w2t);
    if (!opt.no_compose) {
      c->t1 = c_out(c, DT_F32, c->m * c->n);
      c->t2 = c_out(c, DT_F32, c->m * c->n);
    }
    snprintf(c->shape, sizeof c->shape, "seq=%zu h=%zu ffn=%zu", c->m, c->k, c->n);
    if (!strcmp(op, "fused_gate_up_swiglu")) {
      c->o1 = c_out(c, DT_F32, c->m * c->n);
      c_chk(c, c->o1, c->m * c->n, DT_F32);
      c->run = r_gate_up;
      c->compose = r_gate_up_compose;
      c->compose_name = c->m == 1 ? "2 gemv + swiglu" : "2 gemm + swiglu";
      wel = 2.0 * (double)c->n * (double)c->k;
      act = m * ((double)c->k + (double)c->n);
    } else {
      c->w3 = weight(c, c->k, c->n, &c->w3t);
      c->res = c_in(c, DT_F32, c->m * c->k, -1, 1);
      if (!opt.no_compose) c->t3 = c_out(c, DT_F32, c->m * c->k);
      c->o1 = c_out(c, DT_F32, c->m * c->k);
      c_chk(c, c->o1, c->m * c->k, DT_F32);
      wel = 3.0 * (double)c->n * (double)c->k;
      act = m * (3.0 * (double)c->k);
      if (!strcmp(op, "fused_ffn")) {
        c->run = r_ffn;
        c->compose = r_ffn_compose;
        c->compose_name = c->m == 1 ? "3 gemv + swiglu + vec_add" : "3 gemm + swiglu + vec_add";
      } else {
        c->nw = c_in(c, DT_F32, c->k, 0.5f, 1.5f);
        c->o2 = c_out(c, DT_F32, c->m * c->k);
        c_chk(c, c->o2, c->m * c->k, DT_F32);
        c->run = r_ffn_rms;
        c->compose = r_ffn_rms_compose;
        c->compose_name = c->m == 1 ? "3 gemv + swiglu + vec_add + rms_norm" : "3 gemm + swiglu + vec_add + rms_norm";
        act += m * (double)c->k;
      }
    }
    c->flops = 2 * m * wel;
  } else { /* fused_linear_[bias_]residual_rmsnorm: the attention output projection */
    int bias = strstr(op, "bias") != NULL;
    c->n = c->k = Z.hidden;
    c->x = c_in(c, DT_F32, c->m * c->k, -1, 1);
    c->w1 = weight(c, c->n, c->k, &c->w1t);
    c->res = c_in(c, DT_F32, c->m * c->n, -1, 1);
    c->nw = c_in(c, DT_F32, c->n, 0.5f, 1.5f);
    if (bias) c->bias = c_in(c, DT_F32, c->n, -0.5f, 0.5f);
    if (!opt.no_compose) c->t1 = c_out(c, DT_F32, c->m * c->n);
    c->o1 = c_out(c, DT_F32, c->m * c->n);
    c->o2 = c_out(c, DT_F32, c->m * c->n);
    c_chk(c, c->o1, c->m * c->n, DT_F32);
    c_chk(c, c->o2, c->m * c->n, DT_F32);
    c->run = bias ? r_linb_rms : r_lin_rms;
    c->compose = bias ? r_linb_rms_compose : r_lin_rms_compose;
    c->compose_name = bias ? (c->m == 1 ? "gemv + 2 vec_add + rms_norm" : "gemm_bias + vec_add + rms_norm")
                           : (c->m == 1 ? "gemv + vec_add + rms_norm" : "gemm + vec_add + rms_norm");
    wel = (double)c->n * (double)c->k;
    act = m * ((double)c->k + 4.0 * (double)c->n);
    c->flops = 2 * m * wel;
    snprintf(c->shape, sizeof c->shape, "seq=%zu n=%zu k=%zu", c->m, c->n, c->k);
  }
  c->bytes = (wel + act) * 4.0;
  if (opt.no_compose) c->compose = NULL;
}

/* ---------------------------------------------------------------- the list */

#define F32 DT_F32
#define F16 DT_F16
#define BF16 DT_BF16
static const spec specs[] = {
  {"blas1", "vec_dot", F32, 0, b_vec}, {"blas1", "vec_dot", F32, 1, b_vec}, {"blas1", "vec_dot", F32, 2, b_vec},
  {"blas1", "vec_dot", F16, 0, b_vec}, {"blas1", "vec_dot", F16, 1, b_vec}, {"blas1", "vec_dot", F16, 2, b_vec},
  {"blas1", "vec_dot", BF16, 0, b_vec}, {"blas1", "vec_dot", BF16, 1, b_vec}, {"blas1", "vec_dot", BF16, 2, b_vec},
  {"blas1", "vec_add", F32, 0, b_vec}, {"blas1", "vec_sub", F32, 0, b_vec}, {"blas1", "vec_mul", F32, 0, b_vec},
  {"blas1", "vec_scale", F32, 0, b_vec}, {"blas1", "vec_axpy", F32, 0, b_vec},
  {"blas1", "vec_sum", F32, 0, b_vec}, {"blas1", "vec_max", F32, 0, b_vec},
  {"blas1", "vec_sum_squares", F32, 0, b_vec},
  {"gemv", "gemv", F32, 0, b_gemv}, {"gemv", "gemv", F32, 1, b_gemv},
  {"gemv", "gemv", F16, 0, b_gemv}, {"gemv", "gemv", BF16, 0, b_gemv},
  {"gemm", "gemm", F32, 0, b_gemm}, {"gemm", "gemm", F32, 1, b_gemm},
  {"gemm", "gemm", F16, 1, b_gemm}, {"gemm", "gemm", BF16, 1, b_gemm},
  {"gemm", "gemm_bias", F32, 1, b_gemm},
  {"activation", "silu", F32, 0, b_act}, {"activation", "gelu", F32, 0, b_act},
  {"activation", "tanh", F32, 0, b_act}, {"activation", "exp", F32, 0, b_act},
  {"activation", "relu", F32, 0, b_act}, {"activation", "swiglu", F32, 0, b_act},
  {"norm", "softmax", F32, 0, b_norm}, {"norm", "rms_norm", F32, 0, b_norm},
  {"norm", "rms_norm", F16, 0, b_norm}, {"norm", "rms_norm", BF16, 0, b_norm},
  {"norm", "layer_norm", F32, 0, b_norm},
  {"rope", "rope", F32, 0, b_rope}, {"rope", "rope", F32, 1, b_rope}, {"rope", "rope_with_pos", F32, 0, b_rope},
  {"embedding", "embedding_lookup", F32, 0, b_embedding},
  {"attention", "flash_attention", F32, 0, b_flash}, {"attention", "flash_attention", F32, 1, b_flash},
  {"attention", "flash_attention", F16, 0, b_flash}, {"attention", "flash_attention", BF16, 0, b_flash},
  {"attention", "flash_attention", F32, 2, b_flash},
  {"attention", "flash_attention_paged", F32, 0, b_paged},
  {"attention", "flash_attention_paged", F32, 1, b_paged},
  {"fused", "fused_qkv_rope", F32, 0, b_fused}, {"fused", "fused_qkv_rope", F32, 1, b_fused},
  {"fused", "fused_gate_up_swiglu", F32, 0, b_fused}, {"fused", "fused_gate_up_swiglu", F32, 1, b_fused},
  {"fused", "fused_ffn", F32, 0, b_fused}, {"fused", "fused_ffn", F32, 1, b_fused},
  {"fused", "fused_ffn_rmsnorm", F32, 0, b_fused}, {"fused", "fused_ffn_rmsnorm", F32, 1, b_fused},
  {"fused", "fused_linear_residual_rmsnorm", F32, 0, b_fused},
  {"fused", "fused_linear_residual_rmsnorm", F32, 1, b_fused},
  {"fused", "fused_linear_bias_residual_rmsnorm", F32, 0, b_fused},
  {"fused", "fused_linear_bias_residual_rmsnorm", F32, 1, b_fused},
};
#define NSPECS ((int)(sizeof specs / sizeof *specs))

/* what the variant of a case is, for --list */
static const char *spec_label(const spec *s)
{
  static char b[96];
  const char *op = s->op;
  b[0] = 0;
  if (!strcmp(op, "vec_dot"))
    snprintf(b, sizeof b, "%s", s->var == 0 ? "L1-resident" : s->var == 1 ? "L2-resident" : "from DRAM");
  else if (!strcmp(op, "gemv"))
    snprintf(b, sizeof b, "%zu x %zu", s->var == 0 ? Z.gemv_m1 : Z.gemv_m2, Z.hidden);
  else if (!strncmp(op, "gemm", 4))
    snprintf(b, sizeof b, "m=%zu", s->var == 0 ? Z.gemm_m1 : Z.gemm_m2);
  else if (!strncmp(op, "rope", 4))
    snprintf(b, sizeof b, "%s", s->var == 1 ? "interleaved pairs" : "split halves");
  else if (!strcmp(op, "flash_attention"))
    snprintf(b, sizeof b, "%s", s->var == 0 ? "prefill" : s->var == 1 ? "prefill, causal" : "decode");
  else if (!strcmp(op, "flash_attention_paged") || !strncmp(op, "fused_", 6))
    snprintf(b, sizeof b, "seq %zu", s->var == 0 ? (size_t)1 : Z.prefill);
  return b;
}

static int spec_selected(const spec *s)
{
  if (opt.dtype_mask && !(opt.dtype_mask & (1 << s->dt))) return 0;
  if (opt.n_ops == 0) return 1;
  for (int i = 0; i < opt.n_ops; i++)
    if (strstr(s->op, opt.ops[i]) || !strcmp(s->group, opt.ops[i])) return 1;
  return 0;
}

/* ================================================================ measuring */

static double tolerance(dtype t) { return t == DT_F32 ? 1e-3 : t == DT_F16 ? 1e-2 : 5e-2; }

/* max over elements of |got - ref| / (|ref| + mean|ref| + abs_scale); INFINITY on NaN/Inf disagreement */
static double compare(const void *got, const void *ref, size_t n, dtype t, double abs_scale)
{
  double mean = 0;
  size_t fin = 0;
  for (size_t i = 0; i < n; i++) {
    float r = get_el(ref, t, i);
    if (isfinite(r)) {
      mean += fabs(r);
      fin++;
    }
  }
  mean = fin ? mean / (double)fin : 0;
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    float a = get_el(got, t, i), r = get_el(ref, t, i);
    if (isnan(a) || isnan(r)) {
      if (!(isnan(a) && isnan(r))) return INFINITY;
      continue;
    }
    if (isinf(a) || isinf(r)) {
      if (a != r) return INFINITY;
      continue;
    }
    double e = fabs((double)a - (double)r) / (fabs((double)r) + mean + abs_scale + 1e-30);
    if (e > worst) worst = e;
  }
  return worst;
}

/* run fn on fresh inputs and compare all checked outputs with refs; returns max error, or -1 on status error */
static double check_run(bcase *c, run_fn fn, void **refs, gllmk_status *st)
{
  c_reset(c);
  *st = fn(c);
  if (*st != GLLMK_OK) return -1;
  double worst = 0;
  for (int i = 0; i < c->nchk; i++) {
    double e = compare(c->chk[i].p, refs[i], c->chk[i].n, c->chk[i].t, c->abs_scale);
    if (e > worst) worst = e;
  }
  return worst;
}

/* median per-call seconds of `samples` samples of >= min_time each */
static double time_fn(bcase *c, run_fn fn, double min_time, int samples, double first, gllmk_status *st)
{
  *st = GLLMK_OK;
  double t1 = first;
  if (!(t1 > 0)) {
    double a = now();
    *st = fn(c);
    t1 = now() - a;
    if (*st != GLLMK_OK) return NAN;
  }
  long reps = 1;
  if (t1 < min_time) {
    /* calibrate with batches: the first call may be slower than the rest */
    double bt = t1;
    while (bt < min_time / 8 && reps < (1L << 40)) {
      reps *= 2;
      double a = now();
      for (long r = 0; r < reps; r++) fn(c);
      bt = now() - a;
    }
    reps = (long)ceil((double)reps * min_time / bt);
    if (reps < 1) reps = 1;
  }
  double v[64];
  if (samples > 64) samples = 64;
  if (samples < 1) samples = 1;
  for (int i = 0; i < samples; i++) {
    int bad = 0;
    double a = now();
    for (long r = 0; r < reps; r++) bad |= fn(c) != GLLMK_OK;
    v[i] = (now() - a) / (double)reps;
    if (bad) *st = fn(c);
  }
  return median(v, samples);
}

/* ================================================================ results */

typedef struct {
  const char *group, *op, *dtype;
  char shape[96], isa[16], check[40], target[48];
  const char *roof_kind;
  int threads;
  double max_err, t, gflops, gbs, roof, pct;
  double t_scalar, speedup;
  double t_ob, ob_gflops, ob_gbs, vs_ob;
  char ob_check[24];
  double t_comp, comp_gflops, comp_gbs, fused_speedup;
  char comp_check[24];
  const char *comp_name, *ob_name;
  /* quantized kernels: the format, G values/s, ggml side by side */
  char qtype[16], ggml_check[24];
  const char *ggml_name;
  double gvals, t_ggml, ggml_gbs, ggml_gvals, vs_ggml;
} result;

static result *results;
static int n_results, cap_results, n_fail, n_mismatch, n_error;

static result *new_result(void)
{
  if (n_results == cap_results) {
    cap_results = cap_results ? 2 * cap_results : 64;
    results = realloc(results, (size_t)cap_results * sizeof *results);
    if (!results) die("out of memory");
  }
  result *r = &results[n_results++];
  memset(r, 0, sizeof *r);
  r->t = r->gflops = r->gbs = r->pct = r->t_scalar = r->speedup = r->max_err = NAN;
  r->t_ob = r->ob_gflops = r->ob_gbs = r->vs_ob = NAN;
  r->t_comp = r->comp_gflops = r->comp_gbs = r->fused_speedup = NAN;
  r->gvals = r->t_ggml = r->ggml_gbs = r->ggml_gvals = r->vs_ggml = NAN;
  return r;
}

static int op_w = 16, shape_w = 36;

static void fmt_num(char *buf, size_t n, double v, const char *f)
{
  if (isfinite(v) && v > 0)
    snprintf(buf, n, f, v);
  else
    snprintf(buf, n, "-");
}

static void print_header(const char *group, int T)
{
  printf("\n## %s  (threads %d, isa", group, T);
  for (int j = 0; j < opt.n_isas; j++) printf("%s%s", j ? "," : " ", opt.isas[j]);
  printf(")\n");
  printf("%-*s  %-*s %-4s %-7s %-9s %10s %9s %9s %12s %10s %8s\n", op_w, "op", shape_w, "shape", "type", "isa",
         "check", "time", "GFLOP/s", "GB/s", "% roofline", "scalar", "speedup");
  fflush(stdout);
}

static void print_result(const result *r)
{
  char t[24], g[24], b[24], p[32], ts[24], sp[24];
  format_time(t, sizeof t, r->t);
  fmt_num(g, sizeof g, r->gflops, "%.2f");
  fmt_num(b, sizeof b, r->gbs, "%.2f");
  if (isfinite(r->pct))
    snprintf(p, sizeof p, "%.1f%% %s", r->pct, r->roof_kind);
  else
    snprintf(p, sizeof p, "-");
  format_time(ts, sizeof ts, r->t_scalar);
  fmt_num(sp, sizeof sp, r->speedup, "%.1fx");
  printf("%-*s  %-*s %-4s %-7s %-9s %10s %9s %9s %12s %10s %8s\n", op_w, r->op, shape_w, r->shape, r->dtype,
         r->isa, r->check, t, g, b, p, ts, sp);
  /* sub-rows: the name spans the op, shape, type and isa columns */
  int span = op_w + 2 + shape_w + 1 + 4 + 1 + 7;
  char name[160];
  if (r->comp_name) {
    format_time(t, sizeof t, r->t_comp);
    fmt_num(g, sizeof g, r->comp_gflops, "%.2f");
    fmt_num(b, sizeof b, r->comp_gbs, "%.2f");
    fmt_num(sp, sizeof sp, r->fused_speedup, "%.2fx");
    snprintf(name, sizeof name, "  composition: %s", r->comp_name);
    printf("%-*s %-9s %10s %9s %9s   fused speedup %s\n", span, name, r->comp_check, t, g, b, sp);
  }
  if (r->ob_name) {
    format_time(t, sizeof t, r->t_ob);
    fmt_num(g, sizeof g, r->ob_gflops, "%.2f");
    fmt_num(b, sizeof b, r->ob_gbs, "%.2f");
    fmt_num(sp, sizeof sp, r->vs_ob, "%.2fx");
    snprintf(name, sizeof name, "  OpenBLAS %s", r->ob_name);
    printf("%-*s %-9s %10s %9s %9s   gllmk/OpenBLAS %s\n", span, name, r->ob_check, t, g, b, sp);
  }
  if (r->target[0]) printf("%-*s  target: %s\n", op_w, "", r->target);
  fflush(stdout);
}

/* the issue's targets and DESIGN's fused rule (a fused op is not slower than
 * its composition; 10% allowed for noise), informational */
static void set_target(result *r, const bcase *c)
{
  const char *op = c->sp->op;
  if (!strncmp(op, "fused_", 6)) {
    if (isfinite(r->fused_speedup))
      snprintf(r->target, sizeof r->target, "not slower than the composition: %s",
               r->fused_speedup >= 0.9 ? "met" : "MISSED");
    return;
  }
  if (r->threads != 1 || !strcmp(r->isa, "scalar") || !isfinite(r->t)) return;
  if (!strcmp(op, "vec_dot") && c->dt == DT_F32 && c->sp->var < 2) {
    double want = isa_class(r->isa) == 2 ? 10 : 6;
    snprintf(r->target, sizeof r->target, "speedup >= %.0fx vs scalar: %s", want,
             r->speedup >= want ? "met" : "MISSED");
  } else if (c->roof == ROOF_MEM && c->dt == DT_F32 && Z.big >= 64 * MiB &&
             (!strcmp(c->sp->group, "blas1") || !strcmp(c->sp->group, "activation") ||
              !strcmp(c->sp->group, "norm"))) {
    snprintf(r->target, sizeof r->target, ">= 70%% of DRAM bandwidth: %s", r->pct >= 70 ? "met" : "MISSED");
  } else if (!strcmp(op, "gemm") && c->dt == DT_F32 && c->m == 512 && c->n == 4096 && c->k == 4096) {
    snprintf(r->target, sizeof r->target, ">= 50%% of FMA peak: %s", r->pct >= 50 ? "met" : "MISSED");
  }
}

static void fill_rates(const bcase *c, double t, double *gflops, double *gbs)
{
  *gflops = c->flops > 0 && t > 0 ? c->flops / t * 1e-9 : NAN;
  *gbs = c->bytes > 0 && t > 0 ? c->bytes / t * 1e-9 : NAN;
}

/* ================================================================ one case */

static void run_case(const spec *s, int ti, int idx, int total)
{
  int T = opt.threads[ti];
  const roofline *rf = &roofs[ti];
  double mt = opt.min_time;
  int ns = opt.samples;
  bcase c;
  memset(&c, 0, sizeof c);
  c.sp = s;
  c.dt = s->dt;
  c.seed = (uint64_t)(s - specs) * 1000 + 1;
  int tty = isatty(2);
  if (!opt.quiet && tty) {
    fprintf(stderr, "\r\033[K[%d/%d] %s %s (threads %d): preparing data...", idx, total, s->op, dt_names[s->dt], T);
    fflush(stderr);
  }
  s->build(&c, s);
  if (!opt.quiet) {
    fprintf(stderr, "%s[%d/%d] %s %s %s (threads %d) ...%s", tty ? "\r\033[K" : "", idx, total, s->op, c.shape,
            dt_names[s->dt], T, tty ? "" : "\n");
    fflush(stderr);
  }
  if (c.compose && opt.no_compose) c.compose = NULL;
  if (c.openblas && !openblas_load()) c.openblas = NULL;

  /* 1. reference: the scalar ISA */
  void *refs[MAXCHK] = {0};
  gllmk_status st;
  double t_scalar_first = NAN, t_scalar = NAN;
  int ref_ok = 0;
  if (gllmk_cpu_set_isa("scalar") == GLLMK_OK) {
    c_reset(&c);
    double a = now();
    st = c.run(&c);
    t_scalar_first = now() - a;
    if (st == GLLMK_OK) {
      ref_ok = 1;
      for (int i = 0; i < c.nchk; i++) {
        size_t b = c.chk[i].n * dt_size(c.chk[i].t);
        refs[i] = xalloc(b);
        memcpy(refs[i], c.chk[i].p, b);
      }
      /* scalar timing with a smaller budget; one call is enough for the slow ones */
      double single = opt.quick ? 0.05 : 0.25;
      if (t_scalar_first >= single)
        t_scalar = t_scalar_first;
      else
        t_scalar = time_fn(&c, c.run, mt / 2, ns > 3 ? 3 : ns, 0, &st);
    } else {
      fprintf(stderr, "%s: %s %s %s: scalar ISA returned %s\n", prog, s->op, c.shape, dt_names[c.dt],
              gllmk_strerror(st));
    }
  }

  int first = n_results;
  for (int ii = 0; ii < opt.n_isas; ii++) {
    const char *isa = opt.isas[ii];
    result *r = new_result();
    r->group = s->group;
    r->op = s->op;
    r->dtype = dt_names[c.dt];
    snprintf(r->shape, sizeof r->shape, "%s", c.shape);
    snprintf(r->isa, sizeof r->isa, "%s", isa);
    r->threads = T;
    r->roof_kind = c.roof == ROOF_FMA ? "fma" : "dram";
    r->roof = c.roof == ROOF_FMA ? rf->peak[isa_class(isa)] : rf->bw;
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    if (!ref_ok) {
      snprintf(r->check, sizeof r->check, "ERROR");
      n_error++;
    } else {
      double e = check_run(&c, c.run, refs, &st);
      r->max_err = e;
      if (st != GLLMK_OK) {
        snprintf(r->check, sizeof r->check, "ERROR");
        fprintf(stderr, "%s: %s %s %s isa %s: %s\n", prog, s->op, c.shape, dt_names[c.dt], isa,
                gllmk_strerror(st));
        n_error++;
      } else if (e <= tolerance(c.dt)) {
        snprintf(r->check, sizeof r->check, "OK");
      } else {
        snprintf(r->check, sizeof r->check, "MISMATCH");
        fprintf(stderr, "%s: MISMATCH %s %s %s isa %s: max relative error %.3g (tolerance %.3g)\n", prog, s->op,
                c.shape, dt_names[c.dt], isa, e, tolerance(c.dt));
        n_mismatch++;
      }
    }
    if (!strcmp(r->check, "OK")) {
      r->t = time_fn(&c, c.run, mt, ns, 0, &st);
      if (st != GLLMK_OK) {
        snprintf(r->check, sizeof r->check, "ERROR");
        n_error++;
      }
      fill_rates(&c, r->t, &r->gflops, &r->gbs);
      double v = c.roof == ROOF_FMA ? r->gflops : r->gbs;
      r->pct = 100.0 * v / r->roof;
      if (!strcmp(isa, "scalar")) t_scalar = r->t;
      r->t_scalar = t_scalar;
      r->speedup = t_scalar / r->t;
      if (c.compose) {
        r->comp_name = c.compose_name;
        gllmk_status cs;
        double e = check_run(&c, c.compose, refs, &cs);
        if (cs != GLLMK_OK)
          snprintf(r->comp_check, sizeof r->comp_check, "ERROR");
        else
          snprintf(r->comp_check, sizeof r->comp_check, "%s", e <= tolerance(c.dt) ? "OK" : "MISMATCH");
        if (cs != GLLMK_OK || e > tolerance(c.dt)) {
          fprintf(stderr, "%s: %s %s: the composition %s disagrees with the scalar fused op (%s, error %.3g)\n",
                  prog, s->op, c.shape, c.compose_name, cs != GLLMK_OK ? gllmk_strerror(cs) : "values", e);
          n_mismatch++;
        } else {
          r->t_comp = time_fn(&c, c.compose, mt, ns, 0, &cs);
          fill_rates(&c, r->t_comp, &r->comp_gflops, &r->comp_gbs);
          r->fused_speedup = r->t_comp / r->t;
        }
      }
    }
  }

  /* OpenBLAS does not depend on the gllmk ISA: measure it once, last, so that
   * its worker threads (which spin for a while after a call) do not disturb
   * the gllmk timings */
  if (c.openblas && ref_ok) {
    gllmk_status ob_st = GLLMK_OK;
    if (ob.set_threads) ob.set_threads(T);
    double ob_err = check_run(&c, c.openblas, refs, &ob_st);
    double t_ob = time_fn(&c, c.openblas, mt, ns, 0, &ob_st);
    for (int i = first; i < n_results; i++) {
      result *r = &results[i];
      r->ob_name = c.openblas_name;
      snprintf(r->ob_check, sizeof r->ob_check, "%s", ob_err <= tolerance(c.dt) ? "OK" : "MISMATCH");
      r->t_ob = t_ob;
      fill_rates(&c, t_ob, &r->ob_gflops, &r->ob_gbs);
      r->vs_ob = t_ob / r->t;
    }
  }
  if (!opt.quiet && tty) fprintf(stderr, "\r\033[K");
  for (int i = first; i < n_results; i++) {
    set_target(&results[i], &c);
    print_result(&results[i]);
  }
  for (int i = 0; i < c.nchk; i++) free(refs[i]);
  c_free(&c);
}

/* ================================================================ ggml (dlopen, never linked)
 *
 * ggml as llama-cpp-python builds and bundles it (libggml-base.so with the
 * type traits and to_float, libggml-cpu.so with vec_dot and the activation
 * quantizers).  The two structs below are ggml's, field for field, as in
 * ggml.h / ggml-cpu.h of ggml 0.25.3 (llama-cpp-python 0.3.36); gg_load
 * checks them against gllmk's block sizes and names before using them. */

typedef void (*gg_to_float_t)(const void *x, float *y, int64_t k);
typedef void (*gg_from_float_t)(const float *x, void *y, int64_t k);
typedef void (*gg_vec_dot_t)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by,
                             int nrc);
struct gg_traits { /* struct ggml_type_traits */
  const char *type_name;
  int64_t blck_size;
  int64_t blck_size_interleave;
  size_t type_size;
  bool is_quantized;
  gg_to_float_t to_float;
  gg_from_float_t from_float_ref;
};
struct gg_traits_cpu { /* struct ggml_type_traits_cpu */
  gg_from_float_t from_float;
  gg_vec_dot_t vec_dot;
  int vec_dot_type; /* enum ggml_type */
  int64_t nrows;
};
enum { GG_Q4_0 = 2, GG_Q8_0 = 8, GG_Q8_1 = 9, GG_Q8_K = 15 };

static struct {
  int tried, ok;
  void *hb, *hc;
  const struct gg_traits *(*traits)(int);
  const struct gg_traits_cpu *(*traits_cpu)(int);
  char desc[1024], dir[512];
} gg;

static int gg_open(const char *dir)
{
  char pb[600], pc[600];
  snprintf(pb, sizeof pb, "%s%slibggml-base.so", dir ? dir : "", dir ? "/" : "");
  snprintf(pc, sizeof pc, "%s%slibggml-cpu.so", dir ? dir : "", dir ? "/" : "");
  void *hb = dlopen(pb, RTLD_NOW | RTLD_LOCAL);
  if (!hb) return 0;
  void *hc = dlopen(pc, RTLD_NOW | RTLD_LOCAL);
  if (!hc) {
    dlclose(hb);
    return 0;
  }
  gg.hb = hb;
  gg.hc = hc;
  snprintf(gg.dir, sizeof gg.dir, "%s", dir ? dir : "(dynamic linker search path)");
  return 1;
}

static void chomp(char *s)
{
  size_t l = strlen(s);
  while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ')) s[--l] = 0;
}

/* where pip put llama-cpp-python (its libraries are in llama_cpp/lib), and its version */
static int gg_python(char *ver, size_t vlen)
{
  const char *py = getenv("PYTHON");
  char cmd[1024], dir[512] = "";
  snprintf(cmd, sizeof cmd,
           "%s -c \"import importlib.util as u, importlib.metadata as m, os; "
           "s = u.find_spec('llama_cpp'); print(os.path.dirname(s.origin)); "
           "print(m.version('llama-cpp-python'))\" 2>/dev/null",
           py && *py ? py : "python3");
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (!p) return 0;
  if (!fgets(dir, sizeof dir, p)) dir[0] = 0;
  if (!fgets(ver, (int)vlen, p)) ver[0] = 0;
  pclose(p);
  chomp(dir);
  chomp(ver);
  if (!dir[0]) return 0;
  char sub[600];
  snprintf(sub, sizeof sub, "%s/lib", dir);
  return gg_open(sub) || gg_open(dir);
}

static int gg_load(void)
{
  if (gg.tried) return gg.ok;
  gg.tried = 1;
  if (opt.no_ggml) {
    snprintf(gg.desc, sizeof gg.desc, "disabled (--no-ggml)");
    return 0;
  }
  char ver[128] = "";
  const char *env = getenv("GLLMK_GGML_DIR");
  int found = 0;
  if (opt.ggml_dir) {
    found = gg_open(opt.ggml_dir);
  } else {
    if (env && *env) found = gg_open(env);
    if (!found) found = gg_open(NULL);
    if (!found) found = gg_python(ver, sizeof ver);
  }
  if (!found) {
    snprintf(gg.desc, sizeof gg.desc, "not found (pip install llama-cpp-python)");
    return 0;
  }
  void (*cpu_init)(void);
  const char *(*version)(void), *(*commit)(void);
  *(void **)&gg.traits = dlsym(gg.hb, "ggml_get_type_traits");
  *(void **)&gg.traits_cpu = dlsym(gg.hc, "ggml_get_type_traits_cpu");
  *(void **)&cpu_init = dlsym(gg.hc, "ggml_cpu_init");
  *(void **)&version = dlsym(gg.hb, "ggml_version");
  *(void **)&commit = dlsym(gg.hb, "ggml_commit");
  if (!gg.traits || !gg.traits_cpu) {
    snprintf(gg.desc, sizeof gg.desc, "%s lacks ggml_get_type_traits / ggml_get_type_traits_cpu, comparison skipped",
             gg.dir);
    return 0;
  }
  if (cpu_init) cpu_init();
  /* the struct layouts: q4_0 is 32 values in 18 bytes, named "q4_0", dotted with q8_0 */
  const struct gg_traits *t = gg.traits(GG_Q4_0);
  const struct gg_traits_cpu *tc = gg.traits_cpu(GG_Q4_0);
  if (!t || t->blck_size != 32 || t->type_size != 18 || !t->type_name || strcmp(t->type_name, "q4_0") ||
      !t->to_float || !tc || !tc->vec_dot || tc->vec_dot_type != GG_Q8_0) {
    snprintf(gg.desc, sizeof gg.desc,
             "%s: struct ggml_type_traits[_cpu] differ from the layout this bench declares (ggml 0.25), "
             "comparison skipped", gg.dir);
    return 0;
  }
  snprintf(gg.desc, sizeof gg.desc, "ggml %s (commit %s)%s%s, %s/libggml-{base,cpu}.so%s",
           version ? version() : "?", commit ? commit() : "?", ver[0] ? ", llama-cpp-python " : "", ver, gg.dir,
           cpu_init ? "" : " (no ggml_cpu_init)");
  gg.ok = 1;
  return 1;
}

/* ================================================================ quantized kernels
 *
 * The formats of gllmk/quant.h (the 20 GGUF types, SqueezeLLM, AWQ4, GPTQ4)
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

enum { QK_GGUF, QK_SQUEEZE, QK_AWQ, QK_GPTQ, QK_INT4, QK_INT8 };
typedef struct {
  int t; /* gllmk_qtype; 0 for int4 / int8 */
  int kind;
} qfmt;
static const qfmt qfmts[] = {
  {GLLMK_Q4_0, QK_GGUF},    {GLLMK_Q4_1, QK_GGUF},    {GLLMK_Q5_0, QK_GGUF},          {GLLMK_Q5_1, QK_GGUF},
  {GLLMK_Q8_0, QK_GGUF},    {GLLMK_Q2_K, QK_GGUF},    {GLLMK_Q3_K, QK_GGUF},          {GLLMK_Q4_K, QK_GGUF},
  {GLLMK_Q5_K, QK_GGUF},    {GLLMK_Q6_K, QK_GGUF},    {GLLMK_Q8_K, QK_GGUF},          {GLLMK_IQ1_S, QK_GGUF},
  {GLLMK_IQ1_M, QK_GGUF},   {GLLMK_IQ2_XXS, QK_GGUF}, {GLLMK_IQ2_XS, QK_GGUF},        {GLLMK_IQ2_S, QK_GGUF},
  {GLLMK_IQ3_XXS, QK_GGUF}, {GLLMK_IQ3_S, QK_GGUF},   {GLLMK_IQ4_NL, QK_GGUF},        {GLLMK_IQ4_XS, QK_GGUF},
  {GLLMK_SQUEEZELLM, QK_SQUEEZE}, {GLLMK_AWQ4, QK_AWQ}, {GLLMK_GPTQ4, QK_GPTQ},     {0, QK_INT4},
  {0, QK_INT8},
};
#define NQF ((int)(sizeof qfmts / sizeof *qfmts))

static const char *qf_name(const qfmt *f)
{
  if (f->kind == QK_INT4) return "int4";
  if (f->kind == QK_INT8) return "int8";
  const char *n = gllmk_qtype_name((gllmk_qtype)f->t);
  return n ? n : "?";
}
static int qf_has_deq(const qfmt *f) { return f->kind != QK_INT4 && f->kind != QK_INT8; }
static const char *qf_matmul_name(const qfmt *f)
{
  switch (f->kind) {
  case QK_AWQ: return "awq_matmul";
  case QK_GPTQ: return "gptq_matmul";
  case QK_INT4: return "gemm_q4";
  case QK_INT8: return "gemm_q8";
  default: return "fused_dequant_gemv";
  }
}
static const char *qf_deq_name(const qfmt *f)
{
  return f->kind == QK_AWQ ? "dequant_awq4" : f->kind == QK_GPTQ ? "dequant_gptq4" : "dequantize";
}

/* the three parts, for --op and --list */
static const char *const qparts_names[3] = {"quant_dequant", "quant_decode", "quant_prefill"};

static int qf_selected(const qfmt *f)
{
  if (opt.n_qtypes == 0) return 1;
  for (int i = 0; i < opt.n_qtypes; i++)
    if (!strcasecmp(opt.qtypes[i], qf_name(f))) return 1;
  return 0;
}

/* bit mask of the selected parts: 1 dequantize, 2 decode, 4 prefill */
static int quant_parts(void)
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

/* bytes per row of one format, k values */
typedef struct {
  const qfmt *f;
  size_t k;
  size_t rb; /* codes (the GGUF blocks; AWQ4/GPTQ4/int4 nibbles; int8) */
  size_t zb; /* AWQ4 zero points */
  size_t sb; /* scales: AWQ4/GPTQ4 one f16 per group of 128, int4/int8 one f32 */
  size_t ng; /* AWQ4/GPTQ4 groups */
} qlayout;

static qlayout q_layout(const qfmt *f, size_t k)
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
static double q_rowbytes(const qlayout *L) { return (double)(L->rb + L->zb + L->sb); }
static double q_bits(const qlayout *L) { return q_rowbytes(L) * 8.0 / (double)L->k; }

/* The weights: arenas of rows (codes, zero points, scales); matrix i of n
 * rows starts at row i * n, so that copies rotate through the arenas. */
static struct {
  uint8_t *w, *z, *s;
  size_t w_cap, z_cap, s_cap; /* bytes */
  int32_t *gidx;              /* GPTQ4 g_idx[k] */
  float *x;                   /* activations [m x k] */
  float *y, *y2, *whole, *ref, *tmp;
  void *yq;                   /* ggml: x in the vec_dot_type */
  double *ex, *ab, *bd, *bd2; /* exact products, sum |w x|, allowed errors (gllmk, ggml) */
  float *rowbuf[MAX_LIST];    /* one row per thread */
  uint16_t sc16[256];         /* f16 bits of +-2^u, u in [-12, 0] */
  size_t rot, llc;            /* bytes the decode copies span at least; last-level cache */
} Q;

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* overwrite the floating-point scale fields of one block (offsets from
 * shared/testvectors/README.md) */
static void q_fix_block(int t, uint8_t *b, uint64_t *s)
{
#define SC() Q.sc16[splitmix(s) & 255]
  switch (t) {
  case GLLMK_Q4_1: case GLLMK_Q5_1: case GLLMK_Q4_K: case GLLMK_Q5_K:
    put16(b, SC());
    put16(b + 2, SC());
    break;
  case GLLMK_Q2_K:
    put16(b + 80, SC());
    put16(b + 82, SC());
    break;
  case GLLMK_Q3_K: put16(b + 108, SC()); break;
  case GLLMK_Q6_K: put16(b + 208, SC()); break;
  case GLLMK_Q8_K: { /* f32 d, and bsums consistent with the codes */
    gllmk_f16 h = {SC()};
    float d = gllmk_f16_to_f32(h);
    memcpy(b, &d, 4);
    for (int i = 0; i < 16; i++) {
      int sum = 0;
      for (int j = 0; j < 16; j++) sum += (int8_t)b[4 + 16 * i + j];
      int16_t v = (int16_t)sum;
      memcpy(b + 260 + 2 * i, &v, 2);
    }
    break;
  }
  case GLLMK_IQ1_M: { /* the f16 super-scale: top nibbles of the four u16 scale words at 48 */
    uint16_t h = SC();
    for (int i = 0; i < 4; i++) {
      uint16_t w;
      memcpy(&w, b + 48 + 2 * i, 2);
      w = (uint16_t)((w & 0x0FFFu) | (((unsigned)h >> (4 * i) & 0xFu) << 12));
      memcpy(b + 48 + 2 * i, &w, 2);
    }
    break;
  }
  case GLLMK_SQUEEZELLM: /* the 8 codebook entries */
    for (int i = 0; i < 8; i++) put16(b + 2 * i, SC());
    break;
  default: /* q4_0 q5_0 q8_0 iq4_nl and the other IQ types: f16 d at 0 */
    put16(b, SC());
  }
#undef SC
}

/* make rows [0, rows) of the arenas valid weights of L's format */
static void q_prepare(const qlayout *L, size_t rows, uint64_t seed)
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

static void fill_bytes(uint8_t *p, size_t n, uint64_t seed)
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
static gllmk_status q_mm(const qlayout *L, size_t r0, const float *x, float *y, size_t m, size_t n)
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
static gllmk_status q_deq(const qlayout *L, size_t r0, size_t n, float *out)
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

typedef struct qjob {
  const qlayout *L;
  size_t n, m; /* rows of W, rows of x */
  int T;       /* threads splitting the rows of a row-by-row decoder */
  int nrot, rot;
  const float *x;
  float *y;
  const void *yq;
  gg_to_float_t to_float;
  gg_vec_dot_t vec_dot;
  gllmk_status st[MAX_LIST];
} qjob;

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
static gllmk_status r_deq_rows(void *v) { return q_par(v, deq_rows_part); }
static gllmk_status r_gg_rows(void *v) { return q_par(v, gg_rows_part); }
static gllmk_status r_deq_whole(void *v)
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
static gllmk_status r_qmm(void *v)
{
  qjob *j = v;
  return q_mm(j->L, q_next(j), j->x, j->y, j->m, j->n);
}
static gllmk_status r_gg_dot(void *v)
{
  qjob *j = v;
  const uint8_t *w = Q.w + q_next(j) * j->L->rb;
  for (size_t r = 0; r < j->n; r++) j->vec_dot((int)j->L->k, j->y + r, 0, w + r * j->L->rb, 0, j->yq, 0, 1);
  return GLLMK_OK;
}

static qjob q_job(const qlayout *L, size_t n, size_t m, int T, int nrot)
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

typedef gllmk_status (*qfn)(void *);

/* median seconds per call of `samples` samples of >= min_time each; at most
 * 3 samples when one call takes more than 2 min_time */
static double qtime(qfn fn, void *ctx, double min_time, int samples, gllmk_status *st)
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
static void q_exact(const float *wd, const float *X, size_t m, size_t n, size_t k, size_t chunk, double *bdo)
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
static double q_err(const float *y, size_t cnt, const double *bd)
{
  double worst = 0;
  for (size_t i = 0; i < cnt; i++) {
    if (!isfinite(y[i])) return INFINITY;
    double e = fabs((double)y[i] - Q.ex[i]) / bd[i];
    if (e > worst) worst = e;
  }
  return worst;
}

static size_t count_diff(const float *a, const float *b, size_t n)
{
  size_t d = 0;
  for (size_t i = 0; i < n; i++) d += memcmp(a + i, b + i, sizeof(float)) != 0;
  return d;
}

/* ---------------------------------------------------------------- results per format */

#define QCHK 64  /* rows checked against exact products */
#define QSUB 256 /* rows the scalar ISA is timed on */

typedef struct {
  double deq_rows[MAX_LIST], deq_whole[MAX_LIST], deq_scalar; /* seconds per matrix */
  char deq_chk[40];
  double dec_hot, dec[2][MAX_LIST], dec_scalar, dec_err;
  char dec_chk[40];
  double pre[2][MAX_LIST], pre_scalar, pre_err;
  char pre_chk[40];
} qres;

typedef struct {
  int ok;          /* to_float equals gllmk's decoding bit for bit */
  int dot_ok;      /* vec_dot within the bound of its activation quantization */
  char chk[128];
  double tofloat, hot, cold, dot_err; /* seconds per matrix */
  gg_to_float_t to_float;
  gg_vec_dot_t vec_dot;
  gg_from_float_t from_float;
  int vdt;
  size_t vdt_block;
} qggml;

static qres qres_[NQF][MAX_LIST]; /* per format and ISA */
static qggml qgg[NQF];
static int qthr[MAX_LIST], n_qthr;
static struct {
  size_t k, n_deq, n_dec[2], n_pre, m_pre[2];
  int nrot[NQF][2];
} QS;

static void q_progress(const char *part, int i, int n, const char *name, const char *what)
{
  if (opt.quiet) return;
  int tty = isatty(2);
  if (!tty && strncmp(what, "preparing", 9)) return; /* a log gets one line per format and part */
  fprintf(stderr, "%s[%s %d/%d] %s: %s%s", tty ? "\r\033[K" : "", part, i, n, name, what, tty ? "" : "\n");
  fflush(stderr);
}
static void q_progress_done(void)
{
  if (!opt.quiet && isatty(2)) fprintf(stderr, "\r\033[K");
}

static const roofline *roof_for(int T)
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

static int scalar_ok(void) { return isa_runnable("scalar"); }

/* the result rows of CSV / JSON */
static result *q_result(const qfmt *f, const char *op, const char *shape, const char *isa, int T)
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
static void q_count_check(const char *chk)
{
  if (!strncmp(chk, "MISMATCH", 8) || !strncmp(chk, "BOUND", 5)) n_mismatch++;
  if (!strncmp(chk, "ERROR", 5)) n_error++;
}

/* ---------------------------------------------------------------- part 1: dequantize */

static void q_dequant(int fi, int idx, int cnt)
{
  const qfmt *f = &qfmts[fi];
  const char *name = qf_name(f);
  qlayout L = q_layout(f, QS.k);
  size_t n = QS.n_deq, k = QS.k, sub = QSUB < n ? QSUB : n;
  double mt = opt.qmin_time, vals = (double)n * (double)k, bytes = (double)n * q_rowbytes(&L);
  int ns = opt.qsamples;
  gllmk_status st;
  qggml *g = &qgg[fi];
  q_progress("quant dequant", idx, cnt, name, "preparing");
  q_prepare(&L, n, 1000 + (uint64_t)fi);

  /* reference: the scalar ISA (else the first measured ISA), one thread */
  gllmk_set_num_threads(1);
  double t_scalar = NAN;
  int ref_ok = 0;
  if (gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]) == GLLMK_OK) {
    st = q_deq(&L, 0, sub, Q.ref);
    ref_ok = st == GLLMK_OK;
    if (ref_ok && scalar_ok()) {
      qjob j = q_job(&L, sub, 1, 1, 1);
      q_progress("quant dequant", idx, cnt, name, "scalar ISA");
      t_scalar = qtime(r_deq_rows, &j, mt / 4, 3, &st) * (double)n / (double)sub;
    }
  }
  /* ggml: to_float must give the same bits */
  g->ok = 0;
  if (f->kind == QK_GGUF && gg.ok) {
    const struct gg_traits *tr = gg.traits(f->t);
    if (!tr || !tr->type_name || strcmp(tr->type_name, name) ||
        tr->blck_size != (int64_t)gllmk_qtype_block_size((gllmk_qtype)f->t) ||
        tr->type_size != gllmk_qtype_block_bytes((gllmk_qtype)f->t)) {
      snprintf(g->chk, sizeof g->chk, "ggml's type traits differ from gllmk's format");
    } else if (!tr->to_float) {
      snprintf(g->chk, sizeof g->chk, "no to_float in ggml");
    } else if (ref_ok) {
      g->to_float = tr->to_float;
      for (size_t r = 0; r < sub; r++) tr->to_float(Q.w + r * L.rb, Q.tmp + r * k, (int64_t)k);
      size_t d = count_diff(Q.tmp, Q.ref, sub * k);
      if (d)
        snprintf(g->chk, sizeof g->chk, "to_float MISMATCH (%zu of %zu values)", d, sub * k);
      else
        snprintf(g->chk, sizeof g->chk, "OK");
      g->ok = d == 0;
    }
    if (!g->ok && strcmp(g->chk, "no to_float in ggml"))
      fprintf(stderr, "%s: ggml %s: %s: ggml numbers not reported for it\n", prog, name, g->chk);
  }

  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    gllmk_set_num_threads(1);
    st = q_deq(&L, 0, sub, Q.tmp);
    if (!ref_ok || st != GLLMK_OK) {
      snprintf(R->deq_chk, sizeof R->deq_chk, "ERROR");
    } else {
      size_t d = count_diff(Q.tmp, Q.ref, sub * k);
      if (d)
        snprintf(R->deq_chk, sizeof R->deq_chk, "MISMATCH");
      else
        snprintf(R->deq_chk, sizeof R->deq_chk, "OK");
      if (d)
        fprintf(stderr, "%s: MISMATCH %s %s isa %s: %zu of %zu values differ from the scalar ISA\n", prog,
                qf_deq_name(f), name, isa, d, sub * k);
    }
    R->deq_scalar = t_scalar;
    for (int ti = 0; ti < n_qthr; ti++) {
      int T = qthr[ti];
      char what[64];
      snprintf(what, sizeof what, "rows, %s, %d thread(s)", isa, T);
      q_progress("quant dequant", idx, cnt, name, what);
      qjob j = q_job(&L, n, 1, T, 1);
      gllmk_set_num_threads(1); /* the rows are split here */
      R->deq_rows[ti] = qtime(r_deq_rows, &j, mt, ns, &st);
      if (st != GLLMK_OK) snprintf(R->deq_chk, sizeof R->deq_chk, "ERROR");
      snprintf(what, sizeof what, "whole matrix, %s, %d thread(s)", isa, T);
      q_progress("quant dequant", idx, cnt, name, what);
      gllmk_set_num_threads(T);
      R->deq_whole[ti] = qtime(r_deq_whole, &j, mt, ns, &st);
      if (st != GLLMK_OK) snprintf(R->deq_chk, sizeof R->deq_chk, "ERROR");
      else if (ref_ok && count_diff(Q.whole, Q.ref, sub * k)) {
        snprintf(R->deq_chk, sizeof R->deq_chk, "MISMATCH");
        fprintf(stderr, "%s: MISMATCH %s %s isa %s, whole matrix on %d threads: differs from the scalar ISA\n",
                prog, qf_deq_name(f), name, isa, T);
      }
    }
    q_count_check(R->deq_chk);
  }
  if (g->ok) {
    q_progress("quant dequant", idx, cnt, name, "ggml to_float");
    qjob j = q_job(&L, n, 1, 1, 1);
    j.to_float = g->to_float;
    g->tofloat = qtime(r_gg_rows, &j, mt, ns, &st);
  }

  /* result rows */
  char shape[96];
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    for (int ti = 0; ti < n_qthr; ti++) {
      int T = qthr[ti];
      for (int whole = 0; whole < 2; whole++) {
        snprintf(shape, sizeof shape, whole ? "%zux%zu, one call" : "%zux%zu, row by row", n, k);
        result *r = q_result(f, whole ? "dequantize" : "dequantize_rows", shape, opt.isas[ii], T);
        snprintf(r->check, sizeof r->check, "%s", R->deq_chk);
        r->t = whole ? R->deq_whole[ti] : R->deq_rows[ti];
        r->gbs = bytes / r->t * 1e-9;
        r->gvals = vals / r->t * 1e-9;
        if (!whole && T == 1) {
          r->t_scalar = R->deq_scalar;
          r->speedup = R->deq_scalar / r->t;
          if (g->ok) {
            r->ggml_name = "to_float";
            snprintf(r->ggml_check, sizeof r->ggml_check, "OK");
            r->t_ggml = g->tofloat;
            r->ggml_gbs = bytes / g->tofloat * 1e-9;
            r->ggml_gvals = vals / g->tofloat * 1e-9;
            r->vs_ggml = g->tofloat / r->t;
            if (strcmp(opt.isas[ii], "scalar") && !opt.quick)
              snprintf(r->target, sizeof r->target, ">= 10x ggml to_float: %s", r->vs_ggml >= 10 ? "met" : "MISSED");
          }
        }
      }
    }
  }
  q_progress_done();
}

/* ---------------------------------------------------------------- part 2: decode GEMV */

static void q_decode(int fi, int idx, int cnt)
{
  const qfmt *f = &qfmts[fi];
  const char *name = qf_name(f);
  qlayout L = q_layout(f, QS.k);
  size_t k = QS.k, chk = QCHK;
  double mt = opt.qmin_time;
  int ns = opt.qsamples;
  gllmk_status st;
  qggml *g = &qgg[fi];
  size_t rows = QSUB;
  for (int s = 0; s < 2; s++)
    if ((size_t)QS.nrot[fi][s] * QS.n_dec[s] > rows) rows = (size_t)QS.nrot[fi][s] * QS.n_dec[s];
  q_progress("quant decode", idx, cnt, name, "preparing the weight copies");
  q_prepare(&L, rows, 2000 + (uint64_t)fi);

  /* exact products of the first rows, from the scalar ISA's decoding */
  gllmk_set_num_threads(1);
  double t_scalar = NAN;
  int ref_ok = gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]) == GLLMK_OK &&
               q_deq(&L, 0, chk, Q.ref) == GLLMK_OK;
  /* SqueezeLLM and GPTQ4 with groups changing inside 16 columns are dotted in f32 */
  if (ref_ok) q_exact(Q.ref, Q.x, 1, chk, k, f->kind == QK_SQUEEZE ? 0 : 32, Q.bd);
  double scalar_err = NAN;
  if (ref_ok && scalar_ok()) {
    st = q_mm(&L, 0, Q.x, Q.y2, 1, chk);
    scalar_err = st == GLLMK_OK ? q_err(Q.y2, chk, Q.bd) : INFINITY;
    q_progress("quant decode", idx, cnt, name, "scalar ISA");
    qjob j = q_job(&L, QSUB, 1, 1, 1);
    t_scalar = qtime(r_qmm, &j, mt / 4, 3, &st) * (double)QS.n_dec[0] / (double)QSUB;
  }

  /* ggml vec_dot: x quantized to the vec_dot_type once, outside the timing */
  g->dot_ok = 0;
  if (g->ok) {
    const struct gg_traits_cpu *tc = gg.traits_cpu(f->t);
    g->vec_dot = tc ? tc->vec_dot : NULL;
    if (g->vec_dot) {
      g->vdt = tc->vec_dot_type;
      const struct gg_traits *tv = gg.traits(g->vdt);
      const struct gg_traits_cpu *tcv = gg.traits_cpu(g->vdt);
      g->from_float = tcv ? tcv->from_float : NULL;
      if (!tv || !g->from_float || (g->vdt != GG_Q8_0 && g->vdt != GG_Q8_1 && g->vdt != GG_Q8_K)) {
        snprintf(g->chk, sizeof g->chk, "unexpected vec_dot_type %d", g->vdt);
        g->vec_dot = NULL;
      } else {
        g->vdt_block = (size_t)tv->blck_size;
        g->from_float(Q.x, Q.yq, (int64_t)k);
        qjob j = q_job(&L, chk, 1, 1, 1);
        j.vec_dot = g->vec_dot;
        j.y = Q.tmp;
        r_gg_dot(&j);
        /* within the bound of its own activation quantization (blocks of vdt_block) */
        q_exact(Q.ref, Q.x, 1, chk, k, g->vdt_block, Q.bd2);
        g->dot_err = q_err(Q.tmp, chk, Q.bd2);
        g->dot_ok = g->dot_err <= 1.0;
        if (!g->dot_ok) {
          snprintf(g->chk, sizeof g->chk, "vec_dot off (err/bound %.3g)", g->dot_err);
          fprintf(stderr, "%s: ggml %s: vec_dot error %.3g x its bound: ggml vec_dot not reported\n", prog, name,
                  g->dot_err);
        }
      }
    } else {
      snprintf(g->chk, sizeof g->chk, "no vec_dot");
    }
  }

  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    R->dec_scalar = t_scalar;
    R->dec_err = 0;
    snprintf(R->dec_chk, sizeof R->dec_chk, ref_ok ? "OK" : "ERROR");
    for (int ti = 0; ti < n_qthr && ref_ok; ti++) { /* the bound, on every thread count */
      gllmk_set_num_threads(qthr[ti]);
      st = q_mm(&L, 0, Q.x, Q.y, 1, chk);
      double e = st == GLLMK_OK ? q_err(Q.y, chk, Q.bd) : INFINITY;
      if (st != GLLMK_OK)
        snprintf(R->dec_chk, sizeof R->dec_chk, "ERROR");
      else if (e > 1 && strcmp(R->dec_chk, "ERROR"))
        snprintf(R->dec_chk, sizeof R->dec_chk, "BOUND");
      if (e > R->dec_err) R->dec_err = e;
    }
    if (!strcmp(R->dec_chk, "BOUND"))
      fprintf(stderr, "%s: %s %s isa %s: error %.3g x the bound of int8 activations (scalar ISA: %.3g)\n", prog,
              qf_matmul_name(f), name, isa, R->dec_err, scalar_err);
    q_count_check(R->dec_chk);
    char what[64];
    snprintf(what, sizeof what, "hot, %s, 1 thread", isa);
    q_progress("quant decode", idx, cnt, name, what);
    gllmk_set_num_threads(1);
    qjob j = q_job(&L, QS.n_dec[0], 1, 1, 1);
    R->dec_hot = qtime(r_qmm, &j, mt, ns, &st);
    for (int s = 0; s < 2; s++)
      for (int ti = 0; ti < n_qthr; ti++) {
        snprintf(what, sizeof what, "%zux%zu, %d copies, %s, %d thread(s)", QS.n_dec[s], k, QS.nrot[fi][s], isa,
                 qthr[ti]);
        q_progress("quant decode", idx, cnt, name, what);
        gllmk_set_num_threads(qthr[ti]);
        j = q_job(&L, QS.n_dec[s], 1, 1, QS.nrot[fi][s]);
        R->dec[s][ti] = qtime(r_qmm, &j, mt, ns, &st);
        if (st != GLLMK_OK) snprintf(R->dec_chk, sizeof R->dec_chk, "ERROR");
      }
  }
  if (g->dot_ok) {
    q_progress("quant decode", idx, cnt, name, "ggml vec_dot");
    qjob j = q_job(&L, QS.n_dec[0], 1, 1, 1);
    j.vec_dot = g->vec_dot;
    j.y = Q.tmp;
    g->hot = qtime(r_gg_dot, &j, mt, ns, &st);
    j = q_job(&L, QS.n_dec[0], 1, 1, QS.nrot[fi][0]);
    j.vec_dot = g->vec_dot;
    j.y = Q.tmp;
    g->cold = qtime(r_gg_dot, &j, mt, ns, &st);
  }

  /* result rows */
  int ok_targets = !opt.quick && Q.rot > 0;
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    for (int s = -1; s < 2; s++)
      for (int ti = 0; ti < n_qthr; ti++) {
        int T = qthr[ti];
        if (s < 0 && T != 1) continue;
        size_t n = QS.n_dec[s < 0 ? 0 : s];
        char shape[96];
        if (s < 0)
          snprintf(shape, sizeof shape, "1x%zux%zu hot", n, k);
        else
          snprintf(shape, sizeof shape, "1x%zux%zu, %d copies (%.0f MiB)", n, k, QS.nrot[fi][s],
                   QS.nrot[fi][s] * (double)n * q_rowbytes(&L) / (double)MiB);
        result *r = q_result(f, qf_matmul_name(f), shape, isa, T);
        double bytes = (double)n * q_rowbytes(&L);
        snprintf(r->check, sizeof r->check, "%s", R->dec_chk);
        r->max_err = R->dec_err;
        r->t = s < 0 ? R->dec_hot : R->dec[s][ti];
        r->gbs = bytes / r->t * 1e-9;
        r->gflops = 2.0 * (double)n * (double)k / r->t * 1e-9;
        r->roof_kind = "dram";
        r->roof = roof_for(T)->bw;
        r->pct = 100.0 * r->gbs / r->roof;
        if (s < 0) {
          r->t_scalar = R->dec_scalar;
          r->speedup = R->dec_scalar / r->t;
        }
        if (s <= 0 && T == 1 && g->dot_ok) {
          r->ggml_name = "vec_dot";
          snprintf(r->ggml_check, sizeof r->ggml_check, "OK");
          r->t_ggml = s < 0 ? g->hot : g->cold;
          r->ggml_gbs = bytes / r->t_ggml * 1e-9;
          r->vs_ggml = r->t_ggml / r->t;
        }
        if (ok_targets && s == 0 && strcmp(isa, "scalar")) {
          double bits = q_bits(&L);
          if (bits >= 4 && T == qthr[n_qthr - 1] && T > 1)
            snprintf(r->target, sizeof r->target, ">= 90%% of DRAM bandwidth: %s", r->pct >= 90 ? "met" : "MISSED");
          else if (bits < 4 && f->kind == QK_GGUF && f->t >= GLLMK_IQ2_XXS && T == 1 && g->dot_ok)
            snprintf(r->target, sizeof r->target, ">= 2x ggml vec_dot: %s", r->vs_ggml >= 2 ? "met" : "MISSED");
        }
      }
  }
  q_progress_done();
}

/* ---------------------------------------------------------------- part 3: prefill GEMM */

#define QSUB_PRE 32 /* rows the scalar ISA is timed on (prefill) */

static void q_prefill(int fi, int idx, int cnt)
{
  const qfmt *f = &qfmts[fi];
  const char *name = qf_name(f);
  qlayout L = q_layout(f, QS.k);
  size_t k = QS.k, n = QS.n_pre, chk = QCHK, m0 = QS.m_pre[0];
  double mt = opt.qmin_time;
  int ns = opt.qsamples;
  gllmk_status st;
  q_progress("quant prefill", idx, cnt, name, "preparing");
  q_prepare(&L, n > QSUB ? n : QSUB, 3000 + (uint64_t)fi);

  gllmk_set_num_threads(1);
  double t_scalar = NAN;
  int ref_ok = gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]) == GLLMK_OK &&
               q_deq(&L, 0, chk, Q.ref) == GLLMK_OK;
  if (ref_ok) q_exact(Q.ref, Q.x, m0, chk, k, 0, Q.bd); /* the f32 path: exact products */
  if (ref_ok && scalar_ok()) {
    q_progress("quant prefill", idx, cnt, name, "scalar ISA");
    qjob j = q_job(&L, QSUB_PRE, m0, 1, 1);
    t_scalar = qtime(r_qmm, &j, mt / 4, 1, &st) * (double)n / (double)QSUB_PRE;
  }
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    R->pre_scalar = t_scalar;
    R->pre_err = 0;
    snprintf(R->pre_chk, sizeof R->pre_chk, ref_ok ? "OK" : "ERROR");
    for (int ti = 0; ti < n_qthr && ref_ok; ti++) {
      gllmk_set_num_threads(qthr[ti]);
      st = q_mm(&L, 0, Q.x, Q.y, m0, chk);
      double e = st == GLLMK_OK ? q_err(Q.y, m0 * chk, Q.bd) : INFINITY;
      if (st != GLLMK_OK)
        snprintf(R->pre_chk, sizeof R->pre_chk, "ERROR");
      else if (e > 1 && strcmp(R->pre_chk, "ERROR"))
        snprintf(R->pre_chk, sizeof R->pre_chk, "BOUND");
      if (e > R->pre_err) R->pre_err = e;
    }
    if (!strcmp(R->pre_chk, "BOUND"))
      fprintf(stderr, "%s: %s %s m=%zu isa %s: error %.3g x 1e-4 of sum |w x|\n", prog, qf_matmul_name(f), name, m0,
              isa, R->pre_err);
    q_count_check(R->pre_chk);
    for (int mi = 0; mi < 2; mi++)
      for (int ti = 0; ti < n_qthr; ti++) {
        char what[64];
        if (mi == 1 && ti != n_qthr - 1) continue; /* the larger m: only on the most threads (time) */
        snprintf(what, sizeof what, "m=%zu, %s, %d thread(s)", QS.m_pre[mi], isa, qthr[ti]);
        q_progress("quant prefill", idx, cnt, name, what);
        gllmk_set_num_threads(qthr[ti]);
        qjob j = q_job(&L, n, QS.m_pre[mi], 1, 1);
        R->pre[mi][ti] = qtime(r_qmm, &j, mt, ns, &st);
        if (st != GLLMK_OK) snprintf(R->pre_chk, sizeof R->pre_chk, "ERROR");
      }
  }
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    for (int mi = 0; mi < 2; mi++)
      for (int ti = 0; ti < n_qthr; ti++) {
        int T = qthr[ti];
        char shape[96];
        size_t m = QS.m_pre[mi];
        if (!isfinite(R->pre[mi][ti])) continue;
        snprintf(shape, sizeof shape, "%zux%zux%zu", m, n, k);
        result *r = q_result(f, qf_matmul_name(f), shape, isa, T);
        snprintf(r->check, sizeof r->check, "%s", R->pre_chk);
        r->max_err = R->pre_err;
        r->t = R->pre[mi][ti];
        r->gflops = 2.0 * (double)m * (double)n * (double)k / r->t * 1e-9;
        r->gbs = (double)n * q_rowbytes(&L) / r->t * 1e-9;
        r->roof_kind = "fma";
        r->roof = roof_for(T)->peak[isa_class(isa)];
        r->pct = 100.0 * r->gflops / r->roof;
        if (mi == 0 && T == 1) {
          r->t_scalar = R->pre_scalar;
          r->speedup = R->pre_scalar / r->t;
        }
      }
  }
  q_progress_done();
}

/* ---------------------------------------------------------------- tables */

static void pcol(int w, const char *f, double v)
{
  char b[32];
  fmt_num(b, sizeof b, v, f);
  printf(" %*s", w, b);
}

static double gv(double vals, double t) { return vals / t * 1e-9; }

static void q_print_dequant(int ii, const int *sel, int nsel)
{
  size_t n = QS.n_deq, k = QS.k;
  double vals = (double)n * (double)k;
  printf("\n## quant: dequantize %zux%zu to f32 (isa %s): G values/s\n", n, k, opt.isas[ii]);
  printf("   rows: row by row into one %zu KiB buffer, T threads splitting the rows; whole: one call on T library\n"
         "   threads; ggml: to_float per row, 1 thread; GB/s: quantized bytes read; scalar: the scalar ISA on %d rows\n",
         k * 4 / 1024, QSUB);
  printf("%-10s %6s %-8s |%8s %7s %8s %8s |", "format", "bits/w", "check", "rows 1T", "GB/s", "ggml", "vs ggml");
  for (int ti = 1; ti < n_qthr; ti++) printf("  rows %dT", qthr[ti]);
  printf(" |");
  for (int ti = 0; ti < n_qthr; ti++) printf(" whole %dT", qthr[ti]);
  printf(" | %8s %8s\n", "scalar", "speedup");
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    if (!qf_has_deq(f)) continue;
    qlayout L = q_layout(f, k);
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    double t1 = R->deq_rows[0], tg = g->ok ? g->tofloat : NAN;
    printf("%-10s %6.3f %-8s |", qf_name(f), q_bits(&L), R->deq_chk);
    pcol(8, "%.3f", gv(vals, t1));
    pcol(7, "%.2f", (double)n * q_rowbytes(&L) / t1 * 1e-9);
    pcol(8, "%.3f", gv(vals, tg));
    pcol(8, "%.1fx", tg / t1);
    printf(" |");
    for (int ti = 1; ti < n_qthr; ti++) pcol(8, "%.3f", gv(vals, R->deq_rows[ti]));
    printf(" |");
    for (int ti = 0; ti < n_qthr; ti++) pcol(8, "%.3f", gv(vals, R->deq_whole[ti]));
    printf(" |");
    pcol(8, "%.3f", gv(vals, R->deq_scalar));
    pcol(8, "%.1fx", R->deq_scalar / t1);
    printf("\n");
  }
  fflush(stdout);
}

static void q_print_decode(int ii, const int *sel, int nsel)
{
  size_t k = QS.k;
  int TT = qthr[n_qthr - 1];
  printf("\n## quant: decode GEMV y[1 x n] = x . W^T, k=%zu (isa %s): GB/s of weight bytes (codes, scales, zeros)\n", k,
         opt.isas[ii]);
  if (Q.rot)
    printf("   hot: one matrix again and again; cold: rotating over copies that span >= %zu MiB (LLC %zu MiB);\n",
           Q.rot / MiB, Q.llc / MiB);
  else
    printf("   hot: one matrix again and again; cold: the same (--quick: no copies, weights in cache);\n");
  printf("   ggml: vec_dot per row, 1 thread, x quantized to its vec_dot_type beforehand; %%DRAM and ms at %d threads;\n"
         "   err: max |y - exact| / bound (int8 activations per 32); scalar: the scalar ISA on %d rows, hot;\n"
         "   W %zux%zu first, then %zux%zu\n",
         TT, QSUB, QS.n_dec[0], k, QS.n_dec[1], k);
  printf("%-10s %6s %-6s %5s | %7s %7s %6s | %7s %7s %6s |", "format", "bits/w", "check", "err", "hot 1T", "ggml",
         "vs", "cold 1T", "ggml", "vs");
  for (int ti = 1; ti < n_qthr; ti++) printf(" cold %dT", qthr[ti]);
  printf(" %6s %7s |", "%DRAM", "ms");
  char hdr[48];
  for (int ti = 0; ti < n_qthr; ti++) {
    snprintf(hdr, sizeof hdr, "%zu %dT", QS.n_dec[1], qthr[ti]);
    printf(" %8s", hdr);
  }
  printf(" %6s %7s | %7s\n", "%DRAM", "ms", "speedup");
  const roofline *rf = roof_for(TT);
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    qlayout L = q_layout(f, k);
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    double b0 = (double)QS.n_dec[0] * q_rowbytes(&L), b1 = (double)QS.n_dec[1] * q_rowbytes(&L);
    double gh = g->dot_ok ? g->hot : NAN, gc = g->dot_ok ? g->cold : NAN;
    printf("%-10s %6.3f %-6s", qf_name(f), q_bits(&L), R->dec_chk);
    pcol(5, "%.2f", R->dec_err > 0 ? R->dec_err : NAN);
    printf(" |");
    pcol(7, "%.2f", b0 / R->dec_hot * 1e-9);
    pcol(7, "%.2f", b0 / gh * 1e-9);
    pcol(6, "%.2fx", gh / R->dec_hot);
    printf(" |");
    pcol(7, "%.2f", b0 / R->dec[0][0] * 1e-9);
    pcol(7, "%.2f", b0 / gc * 1e-9);
    pcol(6, "%.2fx", gc / R->dec[0][0]);
    printf(" |");
    for (int ti = 1; ti < n_qthr; ti++) pcol(7, "%.2f", b0 / R->dec[0][ti] * 1e-9);
    pcol(6, "%.0f%%", 100.0 * b0 / R->dec[0][n_qthr - 1] * 1e-9 / rf->bw);
    pcol(7, "%.3f", R->dec[0][n_qthr - 1] * 1e3);
    printf(" |");
    for (int ti = 0; ti < n_qthr; ti++) pcol(8, "%.2f", b1 / R->dec[1][ti] * 1e-9);
    pcol(6, "%.0f%%", 100.0 * b1 / R->dec[1][n_qthr - 1] * 1e-9 / rf->bw);
    pcol(7, "%.3f", R->dec[1][n_qthr - 1] * 1e3);
    printf(" |");
    pcol(7, "%.1fx", R->dec_scalar / R->dec_hot);
    printf("\n");
  }
  fflush(stdout);
}

static void q_print_prefill(int ii, const int *sel, int nsel)
{
  size_t k = QS.k, n = QS.n_pre;
  int TT = qthr[n_qthr - 1];
  const roofline *rf = roof_for(TT);
  int cls = isa_class(opt.isas[ii]);
  printf("\n## quant: prefill GEMM Y[m x %zu] = X . W^T, k=%zu, weights hot (isa %s): GFLOP/s = 2 m n k / time\n", n, k,
         opt.isas[ii]);
  printf("   %%peak: of the %s f32 FMA peak on %d threads (%.1f GFLOP/s); err: max |y - exact| / (1e-4 sum |w x|);\n"
         "   scalar: the scalar ISA on %d rows, m=%zu; m=%zu on %d threads only\n",
         class_names[cls], TT, rf->peak[cls], QSUB_PRE, QS.m_pre[0], QS.m_pre[1], TT);
  printf("%-10s %-6s %5s |", "format", "check", "err");
  for (int mi = 0; mi < 2; mi++) {
    for (int ti = mi ? n_qthr - 1 : 0; ti < n_qthr; ti++) printf(" m=%zu %dT", QS.m_pre[mi], qthr[ti]);
    printf(" %5s |", "%peak");
  }
  printf(" %7s %7s\n", "scalar", "speedup");
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    const qres *R = &qres_[fi][ii];
    printf("%-10s %-6s", qf_name(f), R->pre_chk);
    pcol(5, "%.2f", R->pre_err > 0 ? R->pre_err : NAN);
    printf(" |");
    for (int mi = 0; mi < 2; mi++) {
      double fl = 2.0 * (double)QS.m_pre[mi] * (double)n * (double)k * 1e-9;
      char hdr[32];
      for (int ti = mi ? n_qthr - 1 : 0; ti < n_qthr; ti++) {
        int w = snprintf(hdr, sizeof hdr, " m=%zu %dT", QS.m_pre[mi], qthr[ti]) - 1;
        pcol(w, "%.1f", fl / R->pre[mi][ti]);
      }
      pcol(5, "%.0f%%", 100.0 * fl / R->pre[mi][n_qthr - 1] / rf->peak[cls]);
      printf(" |");
    }
    double fl0 = 2.0 * (double)QS.m_pre[0] * (double)n * (double)k * 1e-9;
    pcol(7, "%.2f", fl0 / R->pre_scalar);
    pcol(7, "%.1fx", R->pre_scalar / R->pre[0][0]);
    printf("\n");
  }
  fflush(stdout);
}

/* the summary the issue asks for: one row per format */
static void q_print_summary(int ii, const int *sel, int nsel, int parts)
{
  size_t k = QS.k;
  int TT = qthr[n_qthr - 1], last = n_qthr - 1;
  const roofline *rf = roof_for(TT);
  double vals = (double)QS.n_deq * (double)k;
  printf("\n## quant summary (isa %s; ggml 1 thread; decode %zux%zu %s; prefill %zux%zu weights, %d threads)\n",
         opt.isas[ii], QS.n_dec[0], k, Q.rot ? "cold (weights from DRAM)" : "hot (--quick)", QS.n_pre, k, TT);
  char d2[32], pf[32];
  snprintf(d2, sizeof d2, "decode %dT", TT);
  snprintf(pf, sizeof pf, "prefill GFLOP/s %dT", TT);
  printf("| %-10s | %6s | %-27s | %-27s | %-15s | %-20s |\n", "format", "bits/w", "dequant Gval/s, 1 thread",
         "decode GB/s, 1 thread", d2, pf);
  char m0[24], m1[24];
  snprintf(m0, sizeof m0, "m=%zu", QS.m_pre[0]);
  snprintf(m1, sizeof m1, "m=%zu", QS.m_pre[1]);
  printf("| %-10s | %6s | %8s %8s %9s | %8s %8s %9s | %6s %8s | %9s %10s |\n", "", "", "ours", "ggml", "ratio", "ours",
         "ggml", "ratio", "GB/s", "% DRAM", m0, m1);
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    qlayout L = q_layout(f, k);
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    double b0 = (double)QS.n_dec[0] * q_rowbytes(&L);
    printf("| %-10s | %6.3f |", qf_name(f), q_bits(&L));
    if ((parts & 1) && qf_has_deq(f)) {
      double tg = g->ok ? g->tofloat : NAN;
      pcol(8, "%.3f", gv(vals, R->deq_rows[0]));
      pcol(8, "%.3f", gv(vals, tg));
      pcol(9, "%.1fx", tg / R->deq_rows[0]);
    } else {
      printf(" %8s %8s %9s", "-", "-", "-");
    }
    printf(" |");
    if (parts & 2) {
      double gc = g->dot_ok ? g->cold : NAN;
      pcol(8, "%.2f", b0 / R->dec[0][0] * 1e-9);
      pcol(8, "%.2f", b0 / gc * 1e-9);
      pcol(9, "%.2fx", gc / R->dec[0][0]);
      printf(" |");
      pcol(6, "%.2f", b0 / R->dec[0][last] * 1e-9);
      pcol(8, "%.0f%%", 100.0 * b0 / R->dec[0][last] * 1e-9 / rf->bw);
    } else {
      printf(" %8s %8s %9s | %6s %8s", "-", "-", "-", "-", "-");
    }
    printf(" |");
    if (parts & 4) {
      double fl = 2.0 * (double)QS.n_pre * (double)k * 1e-9;
      pcol(9, "%.1f", fl * (double)QS.m_pre[0] / R->pre[0][last]);
      pcol(10, "%.1f", fl * (double)QS.m_pre[1] / R->pre[1][last]);
    } else {
      printf(" %9s %10s", "-", "-");
    }
    printf(" |\n");
  }
  fflush(stdout);
}

/* ---------------------------------------------------------------- driver */

/* bytes of the last-level cache: the largest cache of cpu0 in /sys (what the
 * kernel reports; glibc's sysconf can count an AMD L3 once per sharing
 * thread), else sysconf */
static size_t llc_bytes(void)
{
  size_t best = 0;
  for (int i = 0; i < 8; i++) {
    char p[96];
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    FILE *f = fopen(p, "r");
    if (!f) continue;
    unsigned long x = 0;
    char u = 0;
    if (fscanf(f, "%lu%c", &x, &u) >= 1) {
      size_t b = x;
      if (u == 'K') b <<= 10;
      else if (u == 'M') b <<= 20;
      if (b > best) best = b;
    }
    fclose(f);
  }
  if (best) return best;
  long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
  v = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
  return v > 0 ? (size_t)v : 0;
}

static void quant_list(int parts)
{
  for (int j = 0; j < 3; j++) {
    if (!(parts & (1 << j))) continue;
    for (int i = 0; i < NQF; i++) {
      const qfmt *f = &qfmts[i];
      if (!qf_selected(f) || (j == 0 && !qf_has_deq(f))) continue;
      const char *what = j == 0 ? "gllmk_dequantize / dequant_* vs ggml to_float"
                         : j == 1 ? "m=1 GEMV, weights from DRAM, vs ggml vec_dot"
                                  : "m=128 and 512 GEMM";
      printf("%-10s %-36s %-4s %-10s %s\n", "quant", qparts_names[j], "f32", qf_name(f), what);
    }
  }
}

static void run_quant(int parts)
{
  /* thread counts: 1 (ggml is timed on one), and --threads, else 2 */
  n_qthr = 0;
  qthr[n_qthr++] = 1;
  if (opt.threads_given) {
    for (int j = 0; j < opt.n_threads; j++) {
      int dup = 0;
      for (int i = 0; i < n_qthr; i++) dup |= qthr[i] == opt.threads[j];
      if (!dup && n_qthr < MAX_LIST) qthr[n_qthr++] = opt.threads[j];
    }
  } else {
    qthr[n_qthr++] = 2;
  }
  for (int i = 1; i < n_qthr; i++) /* ascending */
    for (int j = i; j > 0 && qthr[j - 1] > qthr[j]; j--) {
      int t = qthr[j];
      qthr[j] = qthr[j - 1];
      qthr[j - 1] = t;
    }
  int maxT = qthr[n_qthr - 1];

  QS.k = Z.hidden;
  QS.n_deq = QS.n_pre = Z.gemm_nk;
  QS.n_dec[0] = Z.gemv_m1;
  QS.n_dec[1] = Z.gemv_m2;
  QS.m_pre[0] = Z.gemm_m2;
  QS.m_pre[1] = Z.gemm_m1;
  Q.llc = llc_bytes();
  Q.rot = 0;
  if (!opt.quick) {
    Q.rot = 256 * MiB;
    if (4 * Q.llc > Q.rot) Q.rot = 4 * Q.llc;
  }

  int sel[NQF], nsel = 0;
  for (int i = 0; i < NQF; i++)
    if (qf_selected(&qfmts[i])) sel[nsel++] = i;
  if (parts & 3) gg_load(); /* ggml is compared on dequantize and decode */
  printf("\n# Quantized kernels: %d format(s), parts:%s%s%s; threads", nsel, parts & 1 ? " dequantize" : "",
         parts & 2 ? " decode" : "", parts & 4 ? " prefill" : "");
  for (int i = 0; i < n_qthr; i++) printf(" %d", qthr[i]);
  printf("; LLC %zu MiB", Q.llc / MiB);
  if (Q.rot) printf(", decode weights rotate over >= %zu MiB", Q.rot / MiB);
  printf("\nggml: %s\n", gg.tried ? gg.desc : "not used");
  fflush(stdout);

  /* rooflines first: they use a 512 MiB buffer, freed before the weights are made */
  for (int i = 0; i < n_qthr; i++) roof_for(qthr[i]);
  if (bw_buf) {
    free(bw_buf);
    bw_buf = NULL;
  }

  /* the arenas */
  size_t k = QS.k, wcap = 0, zcap = 0, scap = 0;
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    qlayout L = q_layout(&qfmts[fi], k);
    size_t rows = QS.n_deq > QS.n_pre ? QS.n_deq : QS.n_pre;
    if (rows < QSUB) rows = QSUB;
    for (int d = 0; d < 2; d++) {
      double mb = (double)QS.n_dec[d] * q_rowbytes(&L);
      int nrot = 1;
      if ((parts & 2) && (double)Q.rot > mb) nrot = (int)ceil((double)Q.rot / mb);
      QS.nrot[fi][d] = nrot;
      if ((parts & 2) && (size_t)nrot * QS.n_dec[d] > rows) rows = (size_t)nrot * QS.n_dec[d];
    }
    if (rows * L.rb > wcap) wcap = rows * L.rb;
    if (rows * L.zb > zcap) zcap = rows * L.zb;
    if (rows * L.sb > scap) scap = rows * L.sb;
  }
  if (!opt.quiet) fprintf(stderr, "quant: making %.0f MiB of random weights...\n", (double)(wcap + zcap + scap) / MiB);
  Q.w = xalloc(wcap + 64);
  fill_bytes(Q.w, wcap, 0x5eed);
  Q.z = xalloc(zcap + 64);
  fill_bytes(Q.z, zcap, 0x5eee);
  Q.s = xalloc(scap + 64);
  memset(Q.s, 0, scap);
  Q.gidx = xalloc(k * sizeof(int32_t));
  size_t mmax = QS.m_pre[1] > QS.m_pre[0] ? QS.m_pre[1] : QS.m_pre[0];
  Q.x = xalloc(mmax * k * sizeof(float));
  fill_uniform(Q.x, DT_F32, mmax * k, -1, 1, 0x0ac7);
  size_t ny = mmax * QS.n_pre;
  if (QS.n_dec[1] > ny) ny = QS.n_dec[1];
  if (QS.n_dec[0] > ny) ny = QS.n_dec[0];
  Q.y = xalloc(ny * sizeof(float));
  Q.y2 = xalloc(ny * sizeof(float));
  memset(Q.y, 0, ny * sizeof(float));
  memset(Q.y2, 0, ny * sizeof(float));
  Q.whole = NULL;
  if (parts & 1) {
    Q.whole = xalloc(QS.n_deq * k * sizeof(float));
    memset(Q.whole, 0, QS.n_deq * k * sizeof(float));
  }
  Q.ref = xalloc(QSUB * k * sizeof(float));
  Q.tmp = xalloc((QSUB * k > QS.n_dec[1] ? QSUB * k : QS.n_dec[1]) * sizeof(float));
  Q.yq = xalloc(2 * k + 64);
  size_t ne = QS.m_pre[0] * QCHK;
  Q.ex = xalloc(ne * sizeof(double));
  Q.ab = xalloc(ne * sizeof(double));
  Q.bd = xalloc(ne * sizeof(double));
  Q.bd2 = xalloc(ne * sizeof(double));
  for (int t = 0; t < maxT && t < MAX_LIST; t++) Q.rowbuf[t] = xalloc(k * sizeof(float));
  uint64_t st = 0x5ca1e;
  for (int i = 0; i < 256; i++) {
    double u = -12.0 * (double)(splitmix(&st) >> 11) * (1.0 / 9007199254740992.0);
    float v = (float)exp2(u);
    if (splitmix(&st) & 1) v = -v;
    Q.sc16[i] = gllmk_f32_to_f16(v).bits;
  }
  memset(qres_, 0, sizeof qres_);
  memset(qgg, 0, sizeof qgg);
  for (int i = 0; i < NQF; i++)
    for (int ii = 0; ii < MAX_LIST; ii++) {
      qres *R = &qres_[i][ii];
      R->deq_scalar = R->dec_hot = R->dec_scalar = R->pre_scalar = NAN;
      for (int t = 0; t < MAX_LIST; t++) {
        R->deq_rows[t] = R->deq_whole[t] = R->dec[0][t] = R->dec[1][t] = R->pre[0][t] = R->pre[1][t] = NAN;
      }
    }

  int ndeq = 0;
  for (int s = 0; s < nsel; s++) ndeq += qf_has_deq(&qfmts[sel[s]]);
  double t0 = now();
  if (parts & 1) {
    for (int s = 0, i = 0; s < nsel; s++)
      if (qf_has_deq(&qfmts[sel[s]])) q_dequant(sel[s], ++i, ndeq);
    for (int ii = 0; ii < opt.n_isas; ii++) q_print_dequant(ii, sel, nsel);
  } else if (parts & 2) { /* the ggml check of to_float runs with the dequantize part */
    for (int s = 0; s < nsel; s++) {
      const qfmt *f = &qfmts[sel[s]];
      qggml *g = &qgg[sel[s]];
      if (f->kind != QK_GGUF || !gg.ok) continue;
      qlayout L = q_layout(f, k);
      const struct gg_traits *tr = gg.traits(f->t);
      q_prepare(&L, QSUB, 1000 + (uint64_t)sel[s]);
      gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]);
      gllmk_set_num_threads(1);
      if (!tr || !tr->type_name || strcmp(tr->type_name, qf_name(f)) || !tr->to_float ||
          tr->type_size != gllmk_qtype_block_bytes((gllmk_qtype)f->t) || q_deq(&L, 0, QSUB, Q.ref) != GLLMK_OK) {
        snprintf(g->chk, sizeof g->chk, "no usable to_float");
        continue;
      }
      for (size_t r = 0; r < QSUB; r++) tr->to_float(Q.w + r * L.rb, Q.tmp + r * k, (int64_t)k);
      g->ok = count_diff(Q.tmp, Q.ref, QSUB * k) == 0;
      if (!g->ok) fprintf(stderr, "%s: ggml %s: to_float differs from gllmk: ggml not reported\n", prog, qf_name(f));
    }
  }
  if (parts & 2) {
    for (int s = 0; s < nsel; s++) q_decode(sel[s], s + 1, nsel);
    for (int ii = 0; ii < opt.n_isas; ii++) q_print_decode(ii, sel, nsel);
  }
  if (parts & 4) {
    for (int s = 0; s < nsel; s++) q_prefill(sel[s], s + 1, nsel);
    for (int ii = 0; ii < opt.n_isas; ii++) q_print_prefill(ii, sel, nsel);
  }
  for (int ii = 0; ii < opt.n_isas; ii++) q_print_summary(ii, sel, nsel, parts);
  printf("(quantized kernels: %.0f s)\n", now() - t0);

  free(Q.w);
  free(Q.z);
  free(Q.s);
  free(Q.gidx);
  free(Q.x);
  free(Q.y);
  free(Q.y2);
  free(Q.whole);
  free(Q.ref);
  free(Q.tmp);
  free(Q.yq);
  free(Q.ex);
  free(Q.ab);
  free(Q.bd);
  free(Q.bd2);
  for (int t = 0; t < MAX_LIST; t++) {
    free(Q.rowbuf[t]);
    Q.rowbuf[t] = NULL;
  }
}

/* ================================================================ CSV / JSON */

static void csv_num(FILE *f, double v)
{
  if (isfinite(v))
    fprintf(f, ",%.6g", v);
  else
    fprintf(f, ",");
}
static void json_num(FILE *f, const char *k, double v)
{
  if (isfinite(v))
    fprintf(f, ", \"%s\": %.6g", k, v);
  else
    fprintf(f, ", \"%s\": null", k);
}
static void json_str(FILE *f, const char *k, const char *v, int first)
{
  fprintf(f, "%s\"%s\": \"", first ? "" : ", ", k);
  for (const char *p = v ? v : ""; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if ((unsigned char)*p < 0x20)
      fprintf(f, " ");
    else
      fputc(*p, f);
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
  fprintf(f, "group,op,shape,dtype,isa,threads,check,max_err,time_s,gflops,gbs,roof_kind,roof,pct_roof,"
             "scalar_time_s,speedup_vs_scalar,openblas_fn,openblas_check,openblas_time_s,openblas_gflops,"
             "openblas_gbs,vs_openblas,composition,composition_check,composition_time_s,fused_vs_composition,"
             "target,qtype,gvals,ggml_fn,ggml_check,ggml_time_s,ggml_gbs,ggml_gvals,vs_ggml\n");
  for (int i = 0; i < n_results; i++) {
    const result *r = &results[i];
    fprintf(f, "%s,%s,\"%s\",%s,%s,%d,%s", r->group, r->op, r->shape, r->dtype, r->isa, r->threads, r->check);
    csv_num(f, r->max_err);
    csv_num(f, r->t);
    csv_num(f, r->gflops);
    csv_num(f, r->gbs);
    fprintf(f, ",%s", r->roof_kind);
    csv_num(f, r->roof);
    csv_num(f, r->pct);
    csv_num(f, r->t_scalar);
    csv_num(f, r->speedup);
    fprintf(f, ",%s,%s", r->ob_name ? r->ob_name : "", r->ob_check);
    csv_num(f, r->t_ob);
    csv_num(f, r->ob_gflops);
    csv_num(f, r->ob_gbs);
    csv_num(f, r->vs_ob);
    fprintf(f, ",\"%s\",%s", r->comp_name ? r->comp_name : "", r->comp_check);
    csv_num(f, r->t_comp);
    csv_num(f, r->fused_speedup);
    fprintf(f, ",\"%s\",%s", r->target, r->qtype);
    csv_num(f, r->gvals);
    fprintf(f, ",%s,%s", r->ggml_name ? r->ggml_name : "", r->ggml_check);
    csv_num(f, r->t_ggml);
    csv_num(f, r->ggml_gbs);
    csv_num(f, r->ggml_gvals);
    csv_num(f, r->vs_ggml);
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
  json_str(f, "isa_compiled", gllmk_cpu_isa_compiled(), 0);
  json_str(f, "cpu_features", gllmk_cpu_features(), 0);
  fprintf(f, ", \"openmp\": %s, \"quick\": %s", gllmk_has_openmp() ? "true" : "false",
          opt.quick ? "true" : "false");
  json_str(f, "openblas", ob.tried ? ob.desc : "not used", 0);
  json_str(f, "ggml", gg.tried ? gg.desc : "not used", 0);
  fprintf(f, ",\n \"roofline\": [");
  for (int i = 0; i < n_roofs; i++) {
    const roofline *r = &roofs[i];
    fprintf(f, "%s\n  {\"threads\": %d", i ? "," : "", r->threads);
    json_num(f, "peak_gflops_scalar", r->peak[0]);
    json_num(f, "peak_gflops_avx2", r->peak[1]);
    json_num(f, "peak_gflops_avx512", r->peak[2]);
    json_num(f, "dram_read_gbs", r->bw);
    fprintf(f, ", \"given\": %s}", r->peak_given || r->bw_given ? "true" : "false");
  }
  fprintf(f, "],\n \"results\": [");
  for (int i = 0; i < n_results; i++) {
    const result *r = &results[i];
    fprintf(f, "%s\n  {", i ? "," : "");
    json_str(f, "group", r->group, 1);
    json_str(f, "op", r->op, 0);
    json_str(f, "shape", r->shape, 0);
    json_str(f, "dtype", r->dtype, 0);
    json_str(f, "isa", r->isa, 0);
    fprintf(f, ", \"threads\": %d", r->threads);
    json_str(f, "check", r->check, 0);
    json_num(f, "max_err", r->max_err);
    json_num(f, "time_s", r->t);
    json_num(f, "gflops", r->gflops);
    json_num(f, "gbs", r->gbs);
    json_str(f, "roof_kind", r->roof_kind, 0);
    json_num(f, "roof", r->roof);
    json_num(f, "pct_roof", r->pct);
    json_num(f, "scalar_time_s", r->t_scalar);
    json_num(f, "speedup_vs_scalar", r->speedup);
    if (r->ob_name) {
      json_str(f, "openblas_fn", r->ob_name, 0);
      json_str(f, "openblas_check", r->ob_check, 0);
    }
    json_num(f, "openblas_time_s", r->t_ob);
    json_num(f, "openblas_gflops", r->ob_gflops);
    json_num(f, "openblas_gbs", r->ob_gbs);
    json_num(f, "vs_openblas", r->vs_ob);
    if (r->comp_name) {
      json_str(f, "composition", r->comp_name, 0);
      json_str(f, "composition_check", r->comp_check, 0);
    }
    json_num(f, "composition_time_s", r->t_comp);
    json_num(f, "fused_vs_composition", r->fused_speedup);
    if (r->target[0]) json_str(f, "target", r->target, 0);
    if (r->qtype[0]) {
      json_str(f, "qtype", r->qtype, 0);
      json_num(f, "gvals", r->gvals);
    }
    if (r->ggml_name) {
      json_str(f, "ggml_fn", r->ggml_name, 0);
      json_str(f, "ggml_check", r->ggml_check, 0);
      json_num(f, "ggml_time_s", r->t_ggml);
      json_num(f, "ggml_gbs", r->ggml_gbs);
      json_num(f, "ggml_gvals", r->ggml_gvals);
      json_num(f, "vs_ggml", r->vs_ggml);
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n ]\n}\n");
  fclose(f);
}

/* ================================================================ main */

static void usage(FILE *f)
{
  fprintf(f,
          "Usage: %s [OPTION]...\n"
          "Check and time every gllmk operator at LLM sizes (hidden 4096, ffn 11008, 32/8 heads,\n"
          "head_dim 128, kv 2048): GFLOP/s or GB/s, %% of this machine's roofline, speedup over\n"
          "the scalar ISA, OpenBLAS side by side (dlopen'ed if installed), fused vs composed;\n"
          "and the quantized kernels per format (dequantize, decode GEMV with weights from DRAM,\n"
          "prefill GEMM) side by side with ggml (llama-cpp-python's libggml, dlopen'ed).\n"
          "\n"
          "  --isa=NAME[,NAME]   ISA(s) to measure: a token of gllmk_cpu_isa_compiled(), or\n"
          "                      'all' (every runnable one); default: $GLLMK_CPU_ISA or the best\n"
          "  --threads=N[,N]     thread counts to run (default 1)\n"
          "  --op=SUBSTR[,...]   only operators whose name contains SUBSTR, or a group name\n"
          "                      (blas1 gemv gemm activation norm rope embedding attention fused\n"
          "                      quant); the quantized kernels are quant_dequant, quant_decode and\n"
          "                      quant_prefill (--op=quant: all three); --op=model: whole-model\n"
          "                      prefill and decode against llama.cpp (run by default too); repeatable\n"
          "  --models=DIR        the model section's GGUF files (default $GLLMK_BENCH_MODELS, else\n"
          "                      ./bench-models; made there by tools/gen-bench-model.py when missing)\n"
          "  --qtype=NAME[,...]  quantized formats to run (q4_K, iq2_xxs, awq4, int8, ...; default all)\n"
          "  --dtype=T[,T]       only these element types (f32, f16, bf16)\n"
          "  --quick             small sizes and a short time budget (smoke test)\n"
          "  --samples=N         samples per measurement (default 5, --quick 3; quantized: 3)\n"
          "  --min-time=S        seconds per sample (default 0.1, --quick 0.01; quantized: 0.05)\n"
          "  --peak-gflops=X[,X] f32 FMA peak per thread count instead of measuring it\n"
          "                      (one value: scaled linearly to the other thread counts)\n"
          "  --bw-gbs=Y[,Y]      DRAM read bandwidth per thread count instead of measuring it\n"
          "  --csv=FILE          write one CSV row per op/shape/dtype/isa/threads\n"
          "  --json=FILE         the same as JSON, with the roofline\n"
          "  --no-openblas       do not load OpenBLAS\n"
          "  --no-compose        skip the fused-vs-composition timings\n"
          "  --no-ggml           do not load ggml\n"
          "  --ggml=DIR          load DIR/libggml-base.so and DIR/libggml-cpu.so (default: $GLLMK_GGML_DIR,\n"
          "                      the library search path, then llama-cpp-python's llama_cpp/lib)\n"
          "  --backend=NAME      cpu (default): the CPU section; cuda or cuda:N: the CUDA section\n"
          "                      alone (memory-bound ops vs the DRAM peak, GEMM in TFLOP/s, checked\n"
          "                      against the CPU backend, cuBLAS side by side); auto: the CPU\n"
          "                      section, then\n"
          "                      the CUDA one when a device opens (its --csv/--json: FILE-cuda.EXT)\n"
          "  --cublas=PATH       the libcublas to dlopen (default libcublas.so.13, then .12)\n"
          "  --no-cublas         do not load cuBLAS\n"
          "  --list              list the benchmark cases and exit\n"
          "  -q, --quiet         no progress lines on stderr\n"
          "  -h, --help          this help;  -V, --version  the version\n"
          "\n"
          "Exit status: 0 when every check is OK, 1 on a MISMATCH or an operator error, 2 on\n"
          "usage errors.\n",
          prog);
}

/* copies of option strings, which the parsed lists point into; freed at exit */
static char *owned[32];
static int n_owned;
static char *own_copy(const char *s)
{
  if (n_owned == (int)(sizeof owned / sizeof *owned)) die("too many options");
  char *p = strdup(s);
  if (!p) die("out of memory");
  return owned[n_owned++] = p;
}

static int split_list(char *s, const char **out, int max, const char *what)
{
  int n = 0;
  for (char *save = NULL, *t = strtok_r(s, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
    if (!*t) continue;
    if (n >= max) die("too many %s", what);
    out[n++] = t;
  }
  return n;
}

static double parse_pos(const char *s, const char *what)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0)) die("bad %s '%s'", what, s);
  return v;
}

static const char *argval(const char *arg, const char *name)
{
  size_t l = strlen(name);
  if (!strncmp(arg, name, l) && arg[l] == '=') return arg + l + 1;
  return NULL;
}

int main(int argc, char **argv)
{
  const char *isa_arg = NULL, *thr_arg = NULL;
  opt.samples = -1;
  opt.min_time = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
      printf("gllmk-bench (gllmk) %s\n", gllmk_version());
      return 0;
    } else if (!strcmp(a, "--quick")) {
      opt.quick = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      opt.quiet = 1;
    } else if (!strcmp(a, "--list")) {
      opt.list = 1;
    } else if (!strcmp(a, "--no-openblas")) {
      opt.no_openblas = 1;
    } else if (!strcmp(a, "--no-compose")) {
      opt.no_compose = 1;
    } else if (!strcmp(a, "--no-ggml")) {
      opt.no_ggml = 1;
    } else if ((v = argval(a, "--ggml"))) {
      opt.ggml_dir = v;
    } else if ((v = argval(a, "--qtype"))) {
      opt.n_qtypes += split_list(own_copy(v), opt.qtypes + opt.n_qtypes, 64 - opt.n_qtypes, "--qtype names");
    } else if ((v = argval(a, "--isa"))) {
      isa_arg = v;
    } else if ((v = argval(a, "--threads"))) {
      thr_arg = v;
      opt.threads_given = 1;
    } else if ((v = argval(a, "--op"))) {
      opt.n_ops += split_list(own_copy(v), opt.ops + opt.n_ops, 64 - opt.n_ops, "--op filters");
    } else if ((v = argval(a, "--dtype"))) {
      const char *d[8];
      int n = split_list(own_copy(v), d, 8, "dtypes");
      for (int j = 0; j < n; j++) {
        int k;
        for (k = 0; k < 3 && strcmp(d[j], dt_names[k]); k++) {}
        if (k == 3) die("unknown dtype '%s' (f32, f16, bf16)", d[j]);
        opt.dtype_mask |= 1 << k;
      }
    } else if ((v = argval(a, "--samples"))) {
      opt.samples = (int)parse_pos(v, "--samples");
    } else if ((v = argval(a, "--min-time"))) {
      opt.min_time = parse_pos(v, "--min-time");
    } else if ((v = argval(a, "--peak-gflops")) || (v = argval(a, "--bw-gbs"))) {
      const char *d[MAX_LIST];
      int n = split_list(own_copy(v), d, MAX_LIST, "values");
      int peak = a[2] == 'p';
      for (int j = 0; j < n; j++) (peak ? opt.peak : opt.bw)[j] = parse_pos(d[j], peak ? "--peak-gflops" : "--bw-gbs");
      *(peak ? &opt.n_peak : &opt.n_bw) = n;
    } else if ((v = argval(a, "--csv"))) {
      opt.csv = v;
    } else if ((v = argval(a, "--json"))) {
      opt.json = v;
    } else if ((v = argval(a, "--backend"))) {
      if (strcmp(v, "cpu") && strcmp(v, "auto") && strncmp(v, "cuda", 4))
        die("unknown backend '%s' (cpu, cuda, cuda:N or auto)", v);
      opt.backend = v;
    } else if ((v = argval(a, "--models"))) {
      opt.models = v;
    } else if ((v = argval(a, "--cublas"))) {
      opt.cublas = v;
    } else if (!strcmp(a, "--no-cublas")) {
      opt.cublas = "";
    } else {
      fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
      usage(stderr);
      return 2;
    }
  }
  int cuda_auto = opt.backend && !strcmp(opt.backend, "auto");
  int given_samples = opt.samples;
  double given_min_time = opt.min_time;
#define BENCH_CUDA(name, is_auto, list)                                                                     \
  bench_cuda(name, is_auto, opt.quick, opt.quiet, list, opt.ops, opt.n_ops, opt.dtype_mask, given_samples, \
             given_min_time, opt.cublas, opt.csv, opt.json)
  if (opt.backend && !strncmp(opt.backend, "cuda", 4)) {
    int rc = BENCH_CUDA(opt.backend, 0, opt.list);
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    return rc;
  }
  /* the quantized kernels: many formats, shorter budgets unless told */
  opt.qsamples = opt.samples > 0 ? opt.samples : 3;
  opt.qmin_time = opt.min_time > 0 ? opt.min_time : opt.quick ? 0.01 : 0.05;
  if (opt.samples < 0) opt.samples = opt.quick ? 3 : 5;
  if (opt.min_time < 0) opt.min_time = opt.quick ? 0.01 : 0.1;
  set_sizes();

  /* threads */
  if (thr_arg) {
    const char *d[MAX_LIST];
    opt.n_threads = split_list(own_copy(thr_arg), d, MAX_LIST, "thread counts");
    for (int j = 0; j < opt.n_threads; j++) {
      double t = parse_pos(d[j], "--threads");
      if (t != floor(t) || t > 64) die("bad thread count '%s'", d[j]);
      opt.threads[j] = (int)t;
    }
  }
  if (opt.n_threads == 0) opt.threads[opt.n_threads++] = 1;

  /* ISAs */
  static char compiled[256];
  snprintf(compiled, sizeof compiled, "%s", gllmk_cpu_isa_compiled());
  if (!isa_arg) {
    const char *env = getenv("GLLMK_CPU_ISA");
    if (env && *env) {
      isa_arg = env;
    } else {
      gllmk_cpu_set_isa("auto");
      isa_arg = gllmk_cpu_isa_name();
    }
  }
  if (!strcmp(isa_arg, "all")) {
    const char *d[MAX_LIST];
    int n = split_list(own_copy(compiled), d, MAX_LIST, "ISAs");
    for (int j = 0; j < n; j++)
      if (strcmp(d[j], "scalar") && isa_runnable(d[j])) opt.isas[opt.n_isas++] = d[j];
    if (opt.n_isas == 0) opt.isas[opt.n_isas++] = "scalar";
  } else {
    opt.n_isas = split_list(own_copy(isa_arg), opt.isas, MAX_LIST, "ISAs");
  }
  for (int j = 0; j < opt.n_isas; j++) {
    gllmk_status st = gllmk_cpu_isa_check(opt.isas[j]);
    if (st != GLLMK_OK)
      die("ISA '%s' cannot run here: %s (compiled: %s)", opt.isas[j], gllmk_strerror(st), compiled);
  }

  int total = 0;
  for (int i = 0; i < NSPECS; i++) {
    if (!spec_selected(&specs[i])) continue;
    total++;
    int l = (int)strlen(specs[i].op);
    if (l > op_w) op_w = l;
  }
  for (int j = 0; j < opt.n_qtypes; j++) {
    int known = 0;
    for (int i = 0; i < NQF; i++) known |= !strcasecmp(opt.qtypes[j], qf_name(&qfmts[i]));
    if (!known) die("unknown --qtype '%s' (see --list --op=quant)", opt.qtypes[j]);
  }
  int qparts = quant_parts();
  int model_sel = opt.n_ops == 0;
  for (int j = 0; j < opt.n_ops; j++) model_sel |= !strcmp(opt.ops[j], "model");
  if (!opt.models) opt.models = getenv("GLLMK_BENCH_MODELS");
  if (!opt.models || !*opt.models) opt.models = "bench-models";
  if (opt.list && model_sel) printf("%-10s %-36s %-4s %s\n", "model", "llama-3.2-1b q4_k_m, f16", "-",
                                    "prefill 512 + decode 32, vs llama.cpp");
  if (model_sel && total == 0 && !qparts && !opt.list) {
    int rc = bench_model(opt.models, opt.quick, opt.quiet, opt.threads, opt.n_threads, opt.csv);
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    return rc;
  }
  if (opt.list) {
    for (int i = 0; i < NSPECS; i++)
      if (spec_selected(&specs[i]))
        printf("%-10s %-36s %-4s %s\n", specs[i].group, specs[i].op, dt_names[specs[i].dt],
               spec_label(&specs[i]));
    quant_list(qparts);
    if (cuda_auto) BENCH_CUDA("auto", 1, 1);
    return 0;
  }
  if (total == 0 && !qparts) die("no operator matches the --op/--dtype filters (see --list)");

  printf("gllmk-bench %s: ISA %s", gllmk_version(), opt.isas[0]);
  for (int j = 1; j < opt.n_isas; j++) printf(",%s", opt.isas[j]);
  printf(" (compiled: %s), OpenMP: %s, threads:", compiled, gllmk_has_openmp() ? "yes" : "no");
  for (int j = 0; j < opt.n_threads; j++) printf(" %d", opt.threads[j]);
  printf("\nCPU features: %s\n", gllmk_cpu_features());
  int need_ob = 0;
  for (int i = 0; i < NSPECS; i++)
    if (spec_selected(&specs[i]) && specs[i].dt == DT_F32 &&
        (!strcmp(specs[i].op, "vec_dot") || !strcmp(specs[i].op, "gemv") || !strcmp(specs[i].op, "gemm")))
      need_ob = 1;
  if (need_ob) {
    openblas_load();
    printf("OpenBLAS: %s\n", ob.desc);
  }
  if (total)
    printf("%s: %d cases x %d thread count(s); each time is the median of %d samples of >= %.3g s%s\n",
           opt.quick ? "quick mode" : "full mode", total, opt.n_threads, opt.samples, opt.min_time,
           opt.quick ? " (sizes reduced: not LLM sizes)" : "");
  if (qparts)
    printf("%s: the quantized kernels; each time is the median of %d samples of >= %.3g s%s\n",
           opt.quick ? "quick mode" : "full mode", opt.qsamples, opt.qmin_time,
           opt.quick ? " (sizes reduced: not LLM sizes)" : "");
  if (!gllmk_has_openmp() && (opt.n_threads > 1 || opt.threads[0] > 1))
    printf("note: gllmk was built without OpenMP, its kernels use one thread whatever --threads says\n");

#if BENCH_X86
  read_class = isa_runnable("avx512") ? 2 : isa_runnable("avx2") ? 1 : 0;
#endif
  int idx = 0;
  for (int ti = 0; ti < opt.n_threads && total > 0; ti++) {
    int T = opt.threads[ti];
    if (gllmk_set_num_threads(T) != GLLMK_OK) die("gllmk_set_num_threads(%d) failed", T);
    fflush(stdout);
    if (!opt.quiet) fprintf(stderr, "measuring the roofline on %d thread(s)...\n", T);
    measure_roofline(T, &roofs[ti]);
    if (n_roofs <= ti) n_roofs = ti + 1;
    print_roofline(&roofs[ti]);
    const char *last_group = NULL;
    for (int i = 0; i < NSPECS; i++) {
      const spec *s = &specs[i];
      if (!spec_selected(s)) continue;
      if (!last_group || strcmp(last_group, s->group)) {
        print_header(s->group, T);
        last_group = s->group;
      }
      run_case(s, ti, ++idx, total * opt.n_threads);
    }
  }
  if (qparts) run_quant(qparts);
  if (bw_buf) free(bw_buf);

  /* summary */
  int met = 0, missed = 0;
  for (int i = 0; i < n_results; i++)
    if (results[i].target[0]) {
      if (strstr(results[i].target, "MISSED"))
        missed++;
      else
        met++;
    }
  n_fail = n_mismatch + n_error;
  printf("\n%d results: %d checks failed (%d mismatches, %d errors)", n_results, n_fail, n_mismatch, n_error);
  if (met + missed) printf("; targets met %d of %d", met, met + missed);
  printf("\n");
  if (missed) {
    printf("targets missed:\n");
    for (int i = 0; i < n_results; i++)
      if (strstr(results[i].target, "MISSED"))
        printf("  %s%s%s %s %s %s threads %d: %s\n", results[i].qtype, results[i].qtype[0] ? " " : "", results[i].op,
               results[i].shape, results[i].dtype, results[i].isa, results[i].threads, results[i].target);
  }
  if (opt.csv) write_csv(opt.csv);
  if (opt.json) write_json(opt.json);
  if (model_sel && bench_model(opt.models, opt.quick, opt.quiet, opt.threads, opt.n_threads, opt.csv) &&
      !n_fail)
    n_fail = 1;
  if (cuda_auto && BENCH_CUDA("auto", 1, 0) && !n_fail) n_fail = 1;
  free(results);
  for (int i = 0; i < n_owned; i++) free(owned[i]);
  if (ob.h) dlclose(ob.h);
  /* ggml's libraries stay loaded: ggml-cpu's OpenMP and static destructors may still run */
  return n_fail ? 1 : 0;
}
