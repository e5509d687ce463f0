/* roofline.c -- gllmk-bench: this machine's f32 FMA peak and DRAM read bandwidth per thread count
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

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

int read_class; /* best vector width for the read kernel */

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

float *bw_buf;
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

/* [0, opt.n_threads): the --threads list, measured by the main loop; then
 * the other thread counts the quantized section needs */
roofline roofs[2 * MAX_LIST];
int n_roofs;

/* a given --peak-gflops / --bw-gbs value for T threads: the value of T's
 * position in --threads, else the last value scaled linearly */
static double given_value(const double *v, int n, int T)
{
  for (int j = 0; j < opt.n_threads && j < n; j++)
    if (opt.threads[j] == T) return v[j];
  int last = n - 1 < opt.n_threads - 1 ? n - 1 : opt.n_threads - 1;
  return v[last] / opt.threads[last] * T;
}

void measure_roofline(int T, roofline *r)
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

void print_roofline(const roofline *r)
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
