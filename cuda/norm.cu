/* norm.cu -- row-wise softmax, RMSNorm and LayerNorm of x[rows x n]
 * SPDX-License-Identifier: MIT
 *
 * One group of threads per row: a warp (warp_rows != 0: the host's choice
 * for short rows, blockDim.x / 32 rows per block) or the whole block (long
 * rows).  Grid-stride over the rows.  The passes are the CPU library's
 * (lib/kernels/norm_tpl.h), each a sweep of the row from global memory; the
 * second and third sweeps find the row in L1/L2:
 *   softmax     max (NaN if any element is NaN); e = e^(x - max) stored to out
 *               (rounded to the element type, as the CPU does) while the
 *               unrounded e are summed; out = out * (1 / sum).  A row of -inf
 *               (or holding +inf or NaN) gives NaN, as on the CPU.
 *   rms_norm    s = sum x^2; out = x * (1 / sqrt(s / n + eps)) * w
 *   layer_norm  mean = sum x / n; var = sum (x - mean)^2 / n (centred, exact for
 *               rows with a large mean); out = fma((x - mean) * rs, gamma, beta)
 * Sums are per thread in element order, then a butterfly of shuffles and (in
 * block mode) the warps in order: deterministic.  A sweep (gk_sweep) reads
 * 16-byte vectors when every array of the row (x, out, w, gamma, beta) is
 * congruent mod 16 (checked per row), after a scalar head up to the first
 * boundary and with a scalar tail; otherwise element by element.  out may
 * alias x exactly: every element is read and written by the same thread in
 * every sweep.
 *
 * Split rows (the host's choice for few long rows, cuda/ops_float.c): a row
 * is cut into chunks of `chunk` columns, a block per (chunk, row) (gridDim =
 * (chunks, rows)), so that even one row keeps many SMs busy.  Two kernels:
 *   <op>_stats  the chunk's partials, P floats at part[(row * chunks + c) P]:
 *     softmax     m_c = max of the chunk, s_c = sum of e^(x - m_c) (0 when m_c
 *                 is -inf, so that an all -inf chunk adds nothing);
 *     rms_norm    q_c = sum x^2;
 *     layer_norm  s_c = sum x, q_c = sum (x - s_c / len_c)^2, centred on the
 *                 chunk's own mean;
 *   <op>_apply  every block combines its row's partials (thread t takes
 *               chunks t, t + B, ..., then the block's fixed tree) and writes
 *               its chunk:
 *     softmax     M = max m_c, S = sum s_c e^(m_c - M); out = round(round(e^(x
 *                 - M)) * (1 / S)), the CPU's two roundings; a row that is all
 *                 -inf (M = -inf: S = 0 * NaN), or holds NaN or +inf, gives
 *                 NaN as on the CPU;
 *     rms_norm    out = x * (1 / sqrt(sum q_c / n + eps)) * w;
 *     layer_norm  mean = sum s_c / n, var = sum (q_c + len_c (s_c / len_c -
 *                 mean)^2) / n (the pairwise update of Chan, Golub and
 *                 LeVeque: centred like the one-block path, so exact for rows
 *                 with a large mean); out as above.
 * x is read twice by softmax_stats and layer_norm_stats (the second time from
 * L1), once by every apply; out is written once.  The partition depends on
 * rows and n only: results do not depend on the device.
 */
#include "gk_float.cuh"

/* 16-byte vectors per thread and step of a sweep. */
#define GK_NORM_UNROLL 2
/* Most threads of a block (cuda/ops_float.c: NORM_MAX_THREADS): the kernels
 * declare it, so that ptxas keeps them launchable at that size on every
 * architecture (at most 128 registers). */
#define GK_NORM_MAX_THREADS 512

namespace gk_norm {

typedef gk_split<size_t> split;

/* the group's value in every thread of the group: a warp when W, else the block */
template <bool W, class Op> __device__ __forceinline__ float grp_reduce(float v, float *sm, Op op) {
  return W ? gk_warp_reduce(v, op) : gk_block_reduce(v, sm, op);
}

/* ------------------------------------------------------------------ passes
 * This thread's share (rank of size) of one pass over the elements of g. */
template <int NIN, bool STORE, class T, class F>
__device__ __forceinline__ void sweep(const T *p0, const T *p1, const T *p2, T *o, const split &g,
                                      size_t rank, size_t size, F &&f) {
  gk_sweep<GK_NORM_UNROLL, NIN, STORE>(p0, p1, p2, o, g, rank, size, f);
}

/* NaN-propagating max */
template <class T>
__device__ __forceinline__ float part_max(const T *x, const split &g, size_t rank, size_t size) {
  float mx = gk_op_max::identity();
  sweep<1, false>(x, x, x, (T *)x, g, rank, size,
                  [&](int, float a, float, float) { mx = gk_max_nan(mx, a); return 0.0f; });
  return mx;
}

/* sum of x */
template <class T>
__device__ __forceinline__ float part_sum(const T *x, const split &g, size_t rank, size_t size) {
  float s = 0.0f;
  sweep<1, false>(x, x, x, (T *)x, g, rank, size,
                  [&](int, float a, float, float) { s += a; return 0.0f; });
  return s;
}

/* sum of (x - c)^2 (c = 0: of x^2) */
template <class T>
__device__ __forceinline__ float part_sq(const T *x, float c, const split &g, size_t rank,
                                         size_t size) {
  float q = 0.0f;
  sweep<1, false>(x, x, x, (T *)x, g, rank, size, [&](int, float a, float, float) {
    float d = a - c;
    q = fmaf(d, d, q);
    return 0.0f;
  });
  return q;
}

/* out = x * r * w */
template <class T>
__device__ __forceinline__ void rms_out(const T *x, const T *w, T *out, float r, const split &g,
                                        size_t rank, size_t size) {
  sweep<2, true>(x, w, x, out, g, rank, size,
                 [&](int, float a, float b, float) { return a * r * b; });
}

/* out = fma((x - mean) * rs, gamma, beta) */
template <class T>
__device__ __forceinline__ void layer_out(const T *x, const T *gm, const T *bt, T *out, float mean,
                                          float rs, const split &g, size_t rank, size_t size) {
  sweep<3, true>(x, gm, bt, out, g, rank, size,
                 [&](int, float a, float b, float c) { return fmaf((a - mean) * rs, b, c); });
}

/* ------------------------------------------------------------------ rows */
template <class T, bool W>
__device__ __forceinline__ void softmax_row(const T *x, T *out, size_t n, size_t rank, size_t size,
                                            float *sm) {
  split g = gk_split_of(x, n, gk_congruent(x, out));
  float mx = grp_reduce<W>(part_max(x, g, rank, size), sm, gk_op_max());
  float sum = 0.0f;
  sweep<1, true>(x, x, x, out, g, rank, size, [&](int, float a, float, float) {
    float e = gk_exp(a - mx);
    sum += e;
    return e;
  });
  sum = grp_reduce<W>(sum, sm, gk_op_sum());
  float inv = 1.0f / sum;
  sweep<1, true>(out, out, out, out, g, rank, size,
                 [&](int, float e, float, float) { return e * inv; });
}

template <class T, bool W>
__device__ __forceinline__ void rms_norm_row(const T *x, const T *w, T *out, size_t n, float eps,
                                             size_t rank, size_t size, float *sm) {
  split g = gk_split_of(x, n, gk_congruent(x, out) && gk_congruent(x, w));
  float ss = grp_reduce<W>(part_sq(x, 0.0f, g, rank, size), sm, gk_op_sum());
  rms_out(x, w, out, 1.0f / sqrtf(ss / (float)n + eps), g, rank, size);
}

template <class T, bool W>
__device__ __forceinline__ void layer_norm_row(const T *x, const T *gm, const T *bt, T *out,
                                               size_t n, float eps, size_t rank, size_t size,
                                               float *sm) {
  split g = gk_split_of(x, n, gk_congruent(x, out) && gk_congruent(x, gm) && gk_congruent(x, bt));
  float mean = grp_reduce<W>(part_sum(x, g, rank, size), sm, gk_op_sum()) / (float)n;
  float var = grp_reduce<W>(part_sq(x, mean, g, rank, size), sm, gk_op_sum()) / (float)n;
  layer_out(x, gm, bt, out, mean, 1.0f / sqrtf(var + eps), g, rank, size);
}

/* rows of the grid: warp mode gives each warp its own rows, block mode each block */
struct rows_iter {
  size_t first, step;
  unsigned rank, size;
};
__device__ __forceinline__ rows_iter rows_of(bool warp_rows) {
  rows_iter it;
  if (warp_rows) {
    unsigned wpb = blockDim.x / 32;
    it.first = (size_t)blockIdx.x * wpb + threadIdx.x / 32;
    it.step = (size_t)gridDim.x * wpb;
    it.rank = threadIdx.x % 32;
    it.size = 32;
  } else {
    it.first = blockIdx.x;
    it.step = gridDim.x;
    it.rank = threadIdx.x;
    it.size = blockDim.x;
  }
  return it;
}

/* ------------------------------------------------------------------ split rows */
/* the block's chunk: columns [c0, c0 + len()) of row `row`, chunk c of nch */
struct chunk_of {
  size_t n, chunk, row, c, nch, c0;
  __device__ __forceinline__ chunk_of(size_t n_, size_t chunk_)
      : n(n_), chunk(chunk_), row(blockIdx.y), c(blockIdx.x), nch(gridDim.x), c0(c * chunk) {}
  __device__ __forceinline__ size_t len() const { return n - c0 < chunk ? n - c0 : chunk; }
  /* the row's partials, P per chunk (the block's own: P from chunk c) */
  __device__ __forceinline__ float *parts(float *p, int P) const { return p + row * nch * P; }
  __device__ __forceinline__ const float *parts(const float *p, int P) const {
    return p + row * nch * P;
  }
};

template <class T>
__device__ __forceinline__ void softmax_stats(const T *x, size_t n, size_t chunk, float *part,
                                              float *sm) {
  chunk_of ch(n, chunk);
  const T *xc = x + ch.row * n + ch.c0;
  split g = gk_split_of(xc, ch.len(), true);
  float mx = gk_block_reduce(part_max(xc, g, threadIdx.x, blockDim.x), sm, gk_op_max());
  float sum = 0.0f;
  if (mx != gk_op_max::identity())   /* uniform: mx is the block's */
    sweep<1, false>(xc, xc, xc, (T *)xc, g, threadIdx.x, blockDim.x,
                    [&](int, float a, float, float) { sum += gk_exp(a - mx); return 0.0f; });
  sum = gk_block_reduce(sum, sm, gk_op_sum());
  if (threadIdx.x == 0) {
    float *p = ch.parts(part, 2) + 2 * ch.c;
    p[0] = mx;
    p[1] = sum;
  }
}

template <class T>
__device__ __forceinline__ void softmax_apply(const T *x, T *out, size_t n, size_t chunk,
                                              const float *part, float *sm) {
  chunk_of ch(n, chunk);
  const float *pr = ch.parts(part, 2);
  float mx = gk_op_max::identity();
  for (size_t k = threadIdx.x; k < ch.nch; k += blockDim.x) mx = gk_max_nan(mx, pr[2 * k]);
  mx = gk_block_reduce(mx, sm, gk_op_max());
  float s = 0.0f;
  for (size_t k = threadIdx.x; k < ch.nch; k += blockDim.x)
    s += pr[2 * k + 1] * gk_exp(pr[2 * k] - mx);
  float inv = 1.0f / gk_block_reduce(s, sm, gk_op_sum());
  const T *xc = x + ch.row * n + ch.c0;
  T *oc = out + ch.row * n + ch.c0;
  split g = gk_split_of(xc, ch.len(), gk_congruent(xc, oc));
  sweep<1, true>(xc, xc, xc, oc, g, threadIdx.x, blockDim.x, [&](int, float a, float, float) {
    float e = gk_to_f32(gk_from_f32<T>(gk_exp(a - mx)));   /* rounded to T, as the CPU stores it */
    return e * inv;
  });
}

template <class T>
__device__ __forceinline__ void rms_norm_stats(const T *x, size_t n, size_t chunk, float *part,
                                               float *sm) {
  chunk_of ch(n, chunk);
  const T *xc = x + ch.row * n + ch.c0;
  split g = gk_split_of(xc, ch.len(), true);
  float q = gk_block_reduce(part_sq(xc, 0.0f, g, threadIdx.x, blockDim.x), sm, gk_op_sum());
  if (threadIdx.x == 0) ch.parts(part, 1)[ch.c] = q;
}

template <class T>
__device__ __forceinline__ void rms_norm_apply(const T *x, const T *w, T *out, size_t n,
                                               size_t chunk, float eps, const float *part,
                                               float *sm) {
  chunk_of ch(n, chunk);
  const float *pr = ch.parts(part, 1);
  float q = 0.0f;
  for (size_t k = threadIdx.x; k < ch.nch; k += blockDim.x) q += pr[k];
  q = gk_block_reduce(q, sm, gk_op_sum());
  const T *xc = x + ch.row * n + ch.c0, *wc = w + ch.c0;
  T *oc = out + ch.row * n + ch.c0;
  split g = gk_split_of(xc, ch.len(), gk_congruent(xc, oc) && gk_congruent(xc, wc));
  rms_out(xc, wc, oc, 1.0f / sqrtf(q / (float)n + eps), g, threadIdx.x, blockDim.x);
}

template <class T>
__device__ __forceinline__ void layer_norm_stats(const T *x, size_t n, size_t chunk, float *part,
                                                 float *sm) {
  chunk_of ch(n, chunk);
  const T *xc = x + ch.row * n + ch.c0;
  split g = gk_split_of(xc, ch.len(), true);
  float s = gk_block_reduce(part_sum(xc, g, threadIdx.x, blockDim.x), sm, gk_op_sum());
  float mc = s / (float)ch.len();
  float q = gk_block_reduce(part_sq(xc, mc, g, threadIdx.x, blockDim.x), sm, gk_op_sum());
  if (threadIdx.x == 0) {
    float *p = ch.parts(part, 2) + 2 * ch.c;
    p[0] = s;
    p[1] = q;
  }
}

template <class T>
__device__ __forceinline__ void layer_norm_apply(const T *x, const T *gm, const T *bt, T *out,
                                                 size_t n, size_t chunk, float eps,
                                                 const float *part, float *sm) {
  chunk_of ch(n, chunk);
  const float *pr = ch.parts(part, 2);
  float s = 0.0f;
  for (size_t k = threadIdx.x; k < ch.nch; k += blockDim.x) s += pr[2 * k];
  float mean = gk_block_reduce(s, sm, gk_op_sum()) / (float)n;
  float q = 0.0f;
  for (size_t k = threadIdx.x; k < ch.nch; k += blockDim.x) {
    float len = (float)(n - k * chunk < chunk ? n - k * chunk : chunk);
    float d = pr[2 * k] / len - mean;
    q += fmaf(len * d, d, pr[2 * k + 1]);
  }
  float var = gk_block_reduce(q, sm, gk_op_sum()) / (float)n;
  const T *xc = x + ch.row * n + ch.c0, *gc = gm + ch.c0, *bc = bt + ch.c0;
  T *oc = out + ch.row * n + ch.c0;
  split g = gk_split_of(xc, ch.len(),
                        gk_congruent(xc, oc) && gk_congruent(xc, gc) && gk_congruent(xc, bc));
  layer_out(xc, gc, bc, oc, mean, 1.0f / sqrtf(var + eps), g, threadIdx.x, blockDim.x);
}

} /* namespace gk_norm */

/* blockDim.x is a multiple of 32; warp_rows selects warp mode. */
#define GK_NORM_KERNELS(T, dt)                                                                   \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_softmax_##dt(const T *x, T *out, size_t rows, size_t n, int warp_rows) {                    \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    rows_iter it = rows_of(warp_rows);                                                           \
    for (size_t r = it.first; r < rows; r += it.step) {                                          \
      if (warp_rows) softmax_row<T, true>(x + r * n, out + r * n, n, it.rank, it.size, sm);      \
      else softmax_row<T, false>(x + r * n, out + r * n, n, it.rank, it.size, sm);               \
    }                                                                                            \
  }                                                                                              \
  GK_EXPORT(gk_softmax_##dt);                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_rms_norm_##dt(const T *x, const T *w, T *out, size_t rows, size_t n, float eps,             \
                   int warp_rows) {                                                              \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    rows_iter it = rows_of(warp_rows);                                                           \
    for (size_t r = it.first; r < rows; r += it.step) {                                          \
      const T *xr = x + r * n;                                                                   \
      T *o = out + r * n;                                                                        \
      if (warp_rows) rms_norm_row<T, true>(xr, w, o, n, eps, it.rank, it.size, sm);              \
      else rms_norm_row<T, false>(xr, w, o, n, eps, it.rank, it.size, sm);                       \
    }                                                                                            \
  }                                                                                              \
  GK_EXPORT(gk_rms_norm_##dt);                                                                   \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_layer_norm_##dt(const T *x, const T *gamma, const T *beta, T *out, size_t rows, size_t n,   \
                     float eps, int warp_rows) {                                                 \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    rows_iter it = rows_of(warp_rows);                                                           \
    for (size_t r = it.first; r < rows; r += it.step) {                                          \
      const T *xr = x + r * n;                                                                   \
      T *o = out + r * n;                                                                        \
      if (warp_rows) layer_norm_row<T, true>(xr, gamma, beta, o, n, eps, it.rank, it.size, sm);  \
      else layer_norm_row<T, false>(xr, gamma, beta, o, n, eps, it.rank, it.size, sm);           \
    }                                                                                            \
  }                                                                                              \
  GK_EXPORT(gk_layer_norm_##dt);

GK_NORM_KERNELS(float, f32)
GK_NORM_KERNELS(gk_half, f16)
GK_NORM_KERNELS(gk_bf16, bf16)

/* the split rows: gridDim = (chunks, rows), blockDim.x a multiple of 32 */
#define GK_NORM_STATS_KERNEL(op, T, dt)                                                          \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_##op##_stats_##dt(const T *x, size_t n, size_t chunk, float *part) {                        \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    op##_stats<T>(x, n, chunk, part, sm);                                                        \
  }                                                                                              \
  GK_EXPORT(gk_##op##_stats_##dt);

#define GK_NORM_SPLIT_KERNELS(T, dt)                                                             \
  GK_NORM_STATS_KERNEL(softmax, T, dt)                                                           \
  GK_NORM_STATS_KERNEL(rms_norm, T, dt)                                                          \
  GK_NORM_STATS_KERNEL(layer_norm, T, dt)                                                        \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_softmax_apply_##dt(const T *x, T *out, size_t n, size_t chunk, const float *part) {         \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    softmax_apply<T>(x, out, n, chunk, part, sm);                                                \
  }                                                                                              \
  GK_EXPORT(gk_softmax_apply_##dt);                                                              \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_rms_norm_apply_##dt(const T *x, const T *w, T *out, size_t n, size_t chunk, float eps,      \
                         const float *part) {                                                    \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    rms_norm_apply<T>(x, w, out, n, chunk, eps, part, sm);                                       \
  }                                                                                              \
  GK_EXPORT(gk_rms_norm_apply_##dt);                                                             \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_layer_norm_apply_##dt(const T *x, const T *gamma, const T *beta, T *out, size_t n,          \
                           size_t chunk, float eps, const float *part) {                         \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    layer_norm_apply<T>(x, gamma, beta, out, n, chunk, eps, part, sm);                           \
  }                                                                                              \
  GK_EXPORT(gk_layer_norm_apply_##dt);

GK_NORM_SPLIT_KERNELS(float, f32)
GK_NORM_SPLIT_KERNELS(gk_half, f16)
GK_NORM_SPLIT_KERNELS(gk_bf16, bf16)
