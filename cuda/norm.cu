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
 * Few long rows of softmax take the split path below instead (a block per
 * chunk of a row, two kernels).
 * Sums are per thread in element order, then a butterfly of shuffles and (in
 * block mode) the warps in order: deterministic.  A sweep reads 16-byte
 * vectors when every array of the row (x, out, w, gamma, beta) is congruent
 * mod 16 (checked per row), after a scalar head up to the first boundary and
 * with a scalar tail; otherwise element by element.  out may alias x exactly:
 * every element is read and written by the same thread in every sweep.
 */
#include "gk_arch.cuh"

/* 16-byte vectors per thread and step of a sweep. */
#define GK_NORM_UNROLL 2
/* Most threads of a block (cuda/ops_float.c: NORM_MAX_THREADS): the kernels
 * declare it, so that ptxas keeps them launchable at that size on every
 * architecture (at most 128 registers). */
#define GK_NORM_MAX_THREADS 512

#ifndef __launch_bounds__   /* nvcc defines it; a host compiler may not */
#define __launch_bounds__(...)
#endif

namespace gk_norm {

template <class T> struct gk_vec { enum { N = 16 / sizeof(T) }; };

__device__ __forceinline__ float ld1(const float *p) { return *p; }
template <class H> __device__ __forceinline__ float ld1(const H *p) { return gk_to_f32(*p); }
__device__ __forceinline__ void st1(float *p, float v) { *p = v; }
template <class H> __device__ __forceinline__ void st1(H *p, float v) { *p = gk_from_f32<H>(v); }

__device__ __forceinline__ void unpack(uint4 u, float *v, const float *) {
  v[0] = __uint_as_float(u.x);
  v[1] = __uint_as_float(u.y);
  v[2] = __uint_as_float(u.z);
  v[3] = __uint_as_float(u.w);
}
template <class H> __device__ __forceinline__ void unpack(uint4 u, float *v, const H *) {
  const unsigned w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int j = 0; j < 4; j++) {
    H lo = {(unsigned short)(w[j] & 0xffffu)}, hi = {(unsigned short)(w[j] >> 16)};
    v[2 * j] = gk_to_f32(lo);
    v[2 * j + 1] = gk_to_f32(hi);
  }
}
__device__ __forceinline__ uint4 pack(const float *v, const float *) {
  uint4 u;
  u.x = __float_as_uint(v[0]);
  u.y = __float_as_uint(v[1]);
  u.z = __float_as_uint(v[2]);
  u.w = __float_as_uint(v[3]);
  return u;
}
template <class H> __device__ __forceinline__ unsigned pack2(float lo, float hi) {
  return (unsigned)gk_from_f32<H>(lo).x | (unsigned)gk_from_f32<H>(hi).x << 16;
}
template <class H> __device__ __forceinline__ uint4 pack(const float *v, const H *) {
  uint4 u;
  u.x = pack2<H>(v[0], v[1]);
  u.y = pack2<H>(v[2], v[3]);
  u.z = pack2<H>(v[4], v[5]);
  u.w = pack2<H>(v[6], v[7]);
  return u;
}

/* ------------------------------------------------------------------ math */
__device__ __forceinline__ float pow2i(float n) {
  int i = n >= -127.0f && n <= 128.0f ? (int)n : 0;
  return __int_as_float((i + 127) << 23);
}
/* e^x exactly as act.cu's gk_exp (lib/simd/simd_math.h's vf32_exp) */
__device__ __forceinline__ float gk_exp(float x) {
  float c = x > -104.0f ? x : -104.0f;
  c = c < 89.0f ? c : 89.0f;
  float n = rintf(c * 1.44269504088896341f);
  float r = fmaf(n, -0.693359375f, c);
  r = fmaf(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  float y = fmaf(p, r * r, r) + 1.0f;
  float n1 = rintf(n * 0.5f);
  y = y * pow2i(n1) * pow2i(n - n1);
  return x != x ? x : y;
}

__device__ __forceinline__ float max_nan(float m, float v) { return (v > m || v != v) ? v : m; }

/* ------------------------------------------------------------------ groups */
/* the group's sum (or NaN-propagating max) in every thread of the group */
template <bool W, bool MAX> __device__ __forceinline__ float grp_reduce(float v, float *sm) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    float t = __shfl_xor_sync(0xffffffffu, v, o);
    v = MAX ? max_nan(v, t) : v + t;
  }
  if (W) return v;
  __syncthreads();   /* the previous reduction's readers are done with sm */
  if (threadIdx.x % 32 == 0) sm[threadIdx.x / 32] = v;
  __syncthreads();
  float r = sm[0];
  for (unsigned w = 1; w < blockDim.x / 32; w++) r = MAX ? max_nan(r, sm[w]) : r + sm[w];
  return r;
}

/* how a row splits into a scalar head, 16-byte vectors and a scalar tail */
struct geom {
  size_t head, nv, tail, ns;
};
template <class T> __device__ __forceinline__ geom row_geom(const T *x, size_t n, bool vec) {
  const int V = gk_vec<T>::N;
  geom g;
  size_t mis = (size_t)x & 15;
  g.head = !vec ? n : mis ? (16 - mis) / sizeof(T) : 0;
  if (g.head > n) g.head = n;
  g.nv = (n - g.head) / V;
  g.tail = g.head + g.nv * V;
  g.ns = g.head + (n - g.tail);
  return g;
}
__device__ __forceinline__ bool congruent(const void *a, const void *b) {
  return (((size_t)a ^ (size_t)b) & 15) == 0;
}

/* One sweep over a row: r = f(p0[i], p1[i], p2[i]) (inputs beyond NIN read
 * as 0), stored to o[i] when STORE.  Thread `rank` of `size`. */
template <int NIN, bool STORE, class T, class F>
__device__ __forceinline__ void sweep(const T *p0, const T *p1, const T *p2, T *o, const geom &g,
                                      unsigned rank, unsigned size, F &f) {
  const int V = gk_vec<T>::N, U = GK_NORM_UNROLL;
  for (size_t k = rank; k < g.ns; k += size) {
    size_t i = k < g.head ? k : g.tail + (k - g.head);
    float r = f(ld1(p0 + i), NIN > 1 ? ld1(p1 + i) : 0.0f, NIN > 2 ? ld1(p2 + i) : 0.0f);
    if (STORE) st1(o + i, r);
  }
  const uint4 *v0p = (const uint4 *)(p0 + g.head), *v1p = (const uint4 *)(p1 + g.head);
  const uint4 *v2p = (const uint4 *)(p2 + g.head);
  uint4 *vo = (uint4 *)(o + g.head);
  for (size_t v0 = rank; v0 < g.nv; v0 += (size_t)U * size) {
    uint4 r0[U], r1[U], r2[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
      size_t v = v0 + (size_t)u * size;
      if (v < g.nv) {
        r0[u] = v0p[v];
        if (NIN > 1) r1[u] = v1p[v];
        if (NIN > 2) r2[u] = v2p[v];
      }
    }
#pragma unroll
    for (int u = 0; u < U; u++) {
      size_t v = v0 + (size_t)u * size;
      if (v < g.nv) {
        float a[V], b[V], c[V];
        unpack(r0[u], a, p0);
        if (NIN > 1) unpack(r1[u], b, p0);
        if (NIN > 2) unpack(r2[u], c, p0);
#pragma unroll
        for (int j = 0; j < V; j++) a[j] = f(a[j], NIN > 1 ? b[j] : 0.0f, NIN > 2 ? c[j] : 0.0f);
        if (STORE) vo[v] = pack(a, p0);
      }
    }
  }
}

/* ------------------------------------------------------------------ rows */
template <class T, bool W>
__device__ __forceinline__ void softmax_row(const T *x, T *out, size_t n, unsigned rank,
                                            unsigned size, float *sm) {
  geom g = row_geom(x, n, congruent(x, out));
  float mx = __int_as_float(0xff800000);
  auto fmax = [&](float a, float, float) { mx = max_nan(mx, a); return 0.0f; };
  sweep<1, false>(x, x, x, out, g, rank, size, fmax);
  mx = grp_reduce<W, true>(mx, sm);
  float sum = 0.0f;
  auto fexp = [&](float a, float, float) { float e = gk_exp(a - mx); sum += e; return e; };
  sweep<1, true>(x, x, x, out, g, rank, size, fexp);
  sum = grp_reduce<W, false>(sum, sm);
  float inv = 1.0f / sum;
  auto fscale = [&](float e, float, float) { return e * inv; };
  sweep<1, true>(out, out, out, out, g, rank, size, fscale);
}

template <class T, bool W>
__device__ __forceinline__ void rms_norm_row(const T *x, const T *w, T *out, size_t n, float eps,
                                             unsigned rank, unsigned size, float *sm) {
  geom g = row_geom(x, n, congruent(x, out) && congruent(x, w));
  float ss = 0.0f;
  auto fsq = [&](float a, float, float) { ss = fmaf(a, a, ss); return 0.0f; };
  sweep<1, false>(x, x, x, out, g, rank, size, fsq);
  ss = grp_reduce<W, false>(ss, sm);
  float r = 1.0f / sqrtf(ss / (float)n + eps);
  auto fnorm = [&](float a, float b, float) { return a * r * b; };
  sweep<2, true>(x, w, x, out, g, rank, size, fnorm);
}

template <class T, bool W>
__device__ __forceinline__ void layer_norm_row(const T *x, const T *gm, const T *bt, T *out,
                                               size_t n, float eps, unsigned rank, unsigned size,
                                               float *sm) {
  geom g = row_geom(x, n, congruent(x, out) && congruent(x, gm) && congruent(x, bt));
  float s = 0.0f;
  auto fsum = [&](float a, float, float) { s += a; return 0.0f; };
  sweep<1, false>(x, x, x, out, g, rank, size, fsum);
  float mean = grp_reduce<W, false>(s, sm) / (float)n;
  float q = 0.0f;
  auto fvar = [&](float a, float, float) { float d = a - mean; q = fmaf(d, d, q); return 0.0f; };
  sweep<1, false>(x, x, x, out, g, rank, size, fvar);
  float var = grp_reduce<W, false>(q, sm) / (float)n;
  float rs = 1.0f / sqrtf(var + eps);
  auto fnorm = [&](float a, float b, float c) { return fmaf((a - mean) * rs, b, c); };
  sweep<3, true>(x, gm, bt, out, g, rank, size, fnorm);
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

/* ------------------------------------------------------------------ split softmax
 * For few long rows (the host's choice), each row is cut into chunks of
 * `chunk` columns, a block per (chunk, row):
 *   stats  m_c = max of the chunk, s_c = sum of e^(x - m_c) (0 when m_c is
 *          -inf, so that an all -inf chunk adds nothing), written to
 *          part[2 (row * nchunks + c)] and the next float;
 *   apply  M = max of the m_c, S = sum over c, in order, of s_c e^(m_c - M);
 *          out = round(round(e^(x - M)) * (1 / S)), the CPU's two roundings.
 * A row that is all -inf (M = -inf: S = 0 * NaN), or holds NaN or +inf, gives
 * NaN as on the CPU.  x is read twice (the second time mostly from L2), out
 * written once. */
template <class T>
__device__ __forceinline__ void softmax_stats(const T *x, size_t n, size_t chunk, float *part,
                                              float *sm) {
  size_t row = blockIdx.y, c = blockIdx.x, c0 = c * chunk;
  size_t len = n - c0 < chunk ? n - c0 : chunk;
  const T *xc = x + row * n + c0;
  geom g = row_geom(xc, len, true);
  float mx = __int_as_float(0xff800000);
  auto fmax = [&](float a, float, float) { mx = max_nan(mx, a); return 0.0f; };
  sweep<1, false>(xc, xc, xc, (T *)xc, g, threadIdx.x, blockDim.x, fmax);
  mx = grp_reduce<false, true>(mx, sm);
  float sum = 0.0f;
  auto fexp = [&](float a, float, float) { sum += gk_exp(a - mx); return 0.0f; };
  if (mx != __int_as_float(0xff800000))   /* uniform: mx is the block's */
    sweep<1, false>(xc, xc, xc, (T *)xc, g, threadIdx.x, blockDim.x, fexp);
  sum = grp_reduce<false, false>(sum, sm);
  if (threadIdx.x == 0) {
    float *p = part + 2 * (row * gridDim.x + c);
    p[0] = mx;
    p[1] = sum;
  }
}

template <class T>
__device__ __forceinline__ void softmax_apply(const T *x, T *out, size_t n, size_t chunk,
                                              const float *part, float *sm) {
  size_t row = blockIdx.y, c = blockIdx.x, c0 = c * chunk, nch = gridDim.x;
  const float *pr = part + 2 * row * nch;
  float mx = __int_as_float(0xff800000);
  for (size_t k = threadIdx.x; k < nch; k += blockDim.x) mx = max_nan(mx, pr[2 * k]);
  mx = grp_reduce<false, true>(mx, sm);
  float s = 0.0f;
  for (size_t k = threadIdx.x; k < nch; k += blockDim.x)
    s += pr[2 * k + 1] * gk_exp(pr[2 * k] - mx);
  s = grp_reduce<false, false>(s, sm);
  float inv = 1.0f / s;
  size_t len = n - c0 < chunk ? n - c0 : chunk;
  const T *xc = x + row * n + c0;
  T *oc = out + row * n + c0;
  geom g = row_geom(xc, len, congruent(xc, oc));
  auto fout = [&](float a, float, float) {
    float e = gk_to_f32(gk_from_f32<T>(gk_exp(a - mx)));   /* rounded to T, as the CPU stores it */
    return e * inv;
  };
  sweep<1, true>(xc, xc, xc, oc, g, threadIdx.x, blockDim.x, fout);
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

/* the split softmax (gridDim = (chunks, rows), blockDim.x a multiple of 32) */
#define GK_SOFTMAX_SPLIT_KERNELS(T, dt)                                                          \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_softmax_stats_##dt(const T *x, size_t n, size_t chunk, float *part) {                       \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    softmax_stats<T>(x, n, chunk, part, sm);                                                     \
  }                                                                                              \
  GK_EXPORT(gk_softmax_stats_##dt);                                                              \
  extern "C" __global__ void __launch_bounds__(GK_NORM_MAX_THREADS)                              \
  gk_softmax_apply_##dt(const T *x, T *out, size_t n, size_t chunk, const float *part) {         \
    using namespace gk_norm;                                                                     \
    GK_SHARED(float, sm, 32);                                                                    \
    softmax_apply<T>(x, out, n, chunk, part, sm);                                                \
  }                                                                                              \
  GK_EXPORT(gk_softmax_apply_##dt);

GK_SOFTMAX_SPLIT_KERNELS(float, f32)
GK_SOFTMAX_SPLIT_KERNELS(gk_half, f16)
GK_SOFTMAX_SPLIT_KERNELS(gk_bf16, bf16)
