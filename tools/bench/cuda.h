/* cuda.h -- what the CUDA section of gllmk-bench shares (cuda.c, cuda_cases.c)
 * SPDX-License-Identifier: MIT
 *
 * cuda_cases.c holds the cases (one row each in ROWS[]) and builds their
 * operands; cuda.c runs, checks, times and reports them.  The section keeps
 * its own helpers: it does not include bench.h.
 */
#ifndef GLLMK_BENCH_CUDA_H
#define GLLMK_BENCH_CUDA_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <gllmk.h>

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#define OMP_FOR _Pragma("omp parallel for schedule(static)")
#define OMP_SUM(...) _Pragma(#__VA_ARGS__)
#else
#define OMP_FOR
#define OMP_SUM(...)
#endif

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* the entry point, called by main.c (bench.h declares it the same way) */
int bench_cuda(const char *backend, int is_auto, int quick, int quiet, int list, const char *const *ops,
               int n_ops, int dtype_mask, int samples, double min_time, const char *cublas, const char *csv,
               const char *json);

/* the options of this run */
struct cuda_opt {
  int quick, quiet, samples, n_ops, dtype_mask;
  double min_time;
  const char *const *ops;
};
extern struct cuda_opt O;

/* element kinds: the three precisions, the ids of embedding_lookup, and
 * Q4_K weights (n values in n / 256 blocks of 144 bytes: opd_bytes) */
enum { DT_F32, DT_F16, DT_BF16, DT_U32, DT_Q4K };
extern const char *const dtn[5];
static inline size_t esz(int t) { return t == DT_F16 || t == DT_BF16 ? 2 : 4; }

enum { VEC_ADD, VEC_SCALE, VEC_AXPY, VEC_DOT, VEC_SUM, VEC_MAX, GEMV, SILU, GELU, SWIGLU, SOFTMAX, RMS_NORM,
       LAYER_NORM, ROPE, EMBED, GEMM, GEMM_BIAS, ATTN, ATTN_PAGED, Q4K_GEMV, LINEAR_GEMV, Q4K_GEMM, NOPS };
struct cuda_op { const char *name, *group, *cublas32, *cublas16; };
extern const struct cuda_op OP[NOPS];

/* One row per shape; every row runs in f32, f16 and bf16.  a and b: full
 * size, qa and qb: --quick.  Their meaning per operator:
 *   blas1, activation  a = bytes per array (n = a / element size)
 *   gemv               a = m, b = n (A is m x n)
 *   softmax, norms     a = rows (0: as many as fill 256 MiB), b = n
 *   rope               a = seq, b = heads (head_dim = rotary_dim = 128)
 *   embedding_lookup   a = ids, b = hidden (vocab 32000; --quick 512)
 *   gemm, gemm_bias    a = qa = the shape's index in GEMM_SHAPE
 *   flash_attention    a = q_len, b = kv_len, the rest in ATT (paged: a = seq,
 *                      b = cache_len, pages of 16 tokens)
 *   quant_decode       a = n, b = k: y[1 x n] = x[1 x k] . W^T, W [n x k] in
 *                      Q4_K (fused_dequant_gemv) or in T (linear); the bytes
 *                      are W's alone
 *   quant_prefill      a = n, b = k, m = 512 (--quick 32): fused_dequant_gemv
 *                      with Q4_K weights
 * dts: the element types the row runs in (bit per DT_*; 0: all three). */
typedef struct { int op; size_t a, b, qa, qb; const char *what; int dts; } crow;
#define BIG (256 * MiB)
#define QBIG (16 * KiB)
extern const crow ROWS[];
extern const int n_rows;

enum { IN, OUT, INOUT };
#define MAXOPD 5
typedef struct {
  int t, io, rot;   /* element kind; IN/OUT/INOUT; one copy per rotation set */
  size_t n;         /* elements (DT_Q4K: values) */
  float lo, hi;     /* inputs: uniform in [lo, hi) */
  int trig;         /* rope's tables: 1 cos, 2 sin of the same random angles */
} operand;

typedef struct {
  const crow *row;
  int op, dt, nopd, nrot;
  char shape[80];
  size_t m, n, k, rows, seq, heads, hd, vocab, n_ids;
  size_t q_len, kv_len, kv_heads, page, n_pages; /* attention */
  int causal;
  operand o[MAXOPD];
  double bytes;     /* moved per call */
  double flops;     /* gemm, attention: floating-point operations per call (then
                       TFLOP/s is the rate); 0 otherwise */
  double margin;    /* absolute margin of the comparison (reductions) */
  gllmk_buffer *dev[MAXOPD], *cpu[MAXOPD];
} ccase;

/* cuda_cases.c */
int case_selected(const crow *r, int dt);
void build(ccase *c, const crow *r, int dt);

#endif /* GLLMK_BENCH_CUDA_H */
