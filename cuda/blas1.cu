/* blas1.cu -- BLAS-1: elementwise add/sub/mul/scale/axpy; reductions dot/sum/sum_squares/max
 * SPDX-License-Identifier: MIT
 *
 * Elementwise kernels (gk_vec_add_<dt> ...): a grid-stride loop over 16-byte
 * vectors (4 f32 or 8 f16/bf16), GK_EW_UNROLL vectors per thread and step,
 * all loads of a step issued before its stores.  The host passes `head`:
 * elements before the first 16-byte boundary of every pointer (the pointers
 * are congruent mod 16), or head = n when they are not, which makes the whole
 * range scalar.  Scalar elements (the head and the tail after the last whole
 * vector) go one per thread.  out may alias an input exactly: every element is
 * read and then written by the same thread in the same step.
 *
 * Reductions (gk_vec_dot_<dt> ...): deterministic.  The grid has G blocks of
 * GK_RED_BLOCK threads, where G depends on n only (cuda/ops_float.c), so the
 * partition of the elements into per-thread sums is fixed: global thread g of
 * the G*B threads sums, in order, scalar elements k = g, g + G*B, ... and
 * vectors v = g, g + G*B, ... into GK_RED_UNROLL accumulators (one per unroll
 * slot), combined as ((a0 + a1) + (a2 + a3)) + scalar.  A block combines its
 * threads with a fixed shuffle tree and then its warps in order, and writes
 * dst[blockIdx.x]: the result itself when G == 1, else a partial that
 * gk_vec_sum_final_f32 / gk_vec_max_final_f32 (one block) combine the same
 * way.  No atomics.  Max propagates NaN (the result is NaN when any element
 * is); the identity of max is -inf, of the sums +0.
 */
#include "gk_arch.cuh"

/* Threads per block of the elementwise kernels (cuda/ops_float.c launches them so). */
#define GK_EW_BLOCK 256
/* 16-byte vectors per thread and step: 64 bytes of each input in flight per thread. */
#define GK_EW_UNROLL 4
/* Vectors per thread and step of a reduction (its independent accumulators). */
#define GK_RED_UNROLL 4

namespace gk_blas1 {

/* ------------------------------------------------------------------ elements */
template <class T> struct gk_vec { enum { N = 16 / sizeof(T) }; };

__device__ __forceinline__ float ld1(const float *p) { return *p; }
template <class H> __device__ __forceinline__ float ld1(const H *p) { return gk_to_f32(*p); }
__device__ __forceinline__ void st1(float *p, float v) { *p = v; }
template <class H> __device__ __forceinline__ void st1(H *p, float v) { *p = gk_from_f32<H>(v); }

/* 16 bytes (raw) to floats and back; p is 16-byte aligned */
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

/* scalar element k of [0, head) U [tail, n), numbered head first */
__device__ __forceinline__ size_t scalar_at(size_t k, size_t head, size_t tail) {
  return k < head ? k : tail + (k - head);
}

/* ------------------------------------------------------------------ elementwise */
struct op_add { __device__ float operator()(float a, float b) const { return a + b; } };
struct op_sub { __device__ float operator()(float a, float b) const { return a - b; } };
struct op_mul { __device__ float operator()(float a, float b) const { return a * b; } };
struct op_scale {   /* (x, unused) */
  float s;
  __device__ float operator()(float x, float) const { return x * s; }
};
struct op_axpy {    /* (y, x) */
  float a;
  __device__ float operator()(float y, float x) const { return fmaf(a, x, y); }
};

/* out[i] = f(a[i], b[i]) (b[i] read only when B) for i < n */
template <class T, bool B, class F>
__device__ __forceinline__ void ew(const T *a, const T *b, T *out, size_t n, size_t head, F f) {
  const int V = gk_vec<T>::N;
  size_t nv = (n - head) / V, tail = head + nv * V, ns = head + (n - tail);
  size_t nt = (size_t)gridDim.x * blockDim.x;
  size_t g = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  for (size_t k = g; k < ns; k += nt) {
    size_t i = scalar_at(k, head, tail);
    st1(out + i, f(ld1(a + i), B ? ld1(b + i) : 0.0f));
  }
  const uint4 *av = (const uint4 *)(a + head), *bv = (const uint4 *)(b + head);
  uint4 *ov = (uint4 *)(out + head);
  for (size_t v0 = g; v0 < nv; v0 += GK_EW_UNROLL * nt) {
    uint4 ra[GK_EW_UNROLL], rb[GK_EW_UNROLL];
#pragma unroll
    for (int u = 0; u < GK_EW_UNROLL; u++) {
      size_t v = v0 + u * nt;
      if (v < nv) {
        ra[u] = av[v];
        if (B) rb[u] = bv[v];
      }
    }
#pragma unroll
    for (int u = 0; u < GK_EW_UNROLL; u++) {
      size_t v = v0 + u * nt;
      if (v < nv) {
        float x[V], y[V];
        unpack(ra[u], x, a);
        if (B) unpack(rb[u], y, a);
#pragma unroll
        for (int j = 0; j < V; j++) x[j] = f(x[j], B ? y[j] : 0.0f);
        ov[v] = pack(x, a);
      }
    }
  }
}

/* ------------------------------------------------------------------ reductions */
enum { RED_DOT, RED_SUM, RED_SUMSQ, RED_MAX };

/* max that keeps a NaN of either side */
__device__ __forceinline__ float max_nan(float m, float v) { return (v > m || v != v) ? v : m; }

template <int OP> __device__ __forceinline__ float red_identity() {
  return OP == RED_MAX ? __int_as_float(0xff800000) : 0.0f;
}
template <int OP> __device__ __forceinline__ float red_combine(float acc, float v) {
  return OP == RED_MAX ? max_nan(acc, v) : acc + v;
}
template <int OP> __device__ __forceinline__ float red_term(float acc, float x, float y) {
  return OP == RED_DOT     ? fmaf(x, y, acc)
         : OP == RED_SUMSQ ? fmaf(x, x, acc)
                           : red_combine<OP>(acc, x);
}

/* the block's value, in every thread; sm holds >= 32 floats */
template <int OP> __device__ __forceinline__ float block_reduce(float v, float *sm) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = red_combine<OP>(v, __shfl_xor_sync(0xffffffffu, v, o));
  unsigned warp = threadIdx.x / 32, nw = (blockDim.x + 31) / 32;
  if (threadIdx.x % 32 == 0) sm[warp] = v;
  __syncthreads();
  float r = sm[0];
  for (unsigned w = 1; w < nw; w++) r = red_combine<OP>(r, sm[w]);
  return r;
}

template <class T, int OP>
__device__ __forceinline__ void reduce(const T *a, const T *b, size_t n, size_t head, float *dst,
                                       float *sm) {
  const int V = gk_vec<T>::N;
  size_t nv = (n - head) / V, tail = head + nv * V, ns = head + (n - tail);
  size_t nt = (size_t)gridDim.x * blockDim.x;
  size_t g = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  float acc[GK_RED_UNROLL], sacc = red_identity<OP>();
#pragma unroll
  for (int u = 0; u < GK_RED_UNROLL; u++) acc[u] = red_identity<OP>();
  for (size_t k = g; k < ns; k += nt) {
    size_t i = scalar_at(k, head, tail);
    sacc = red_term<OP>(sacc, ld1(a + i), OP == RED_DOT ? ld1(b + i) : 0.0f);
  }
  const uint4 *av = (const uint4 *)(a + head), *bv = (const uint4 *)(b + head);
  for (size_t v0 = g; v0 < nv; v0 += GK_RED_UNROLL * nt) {
    uint4 ra[GK_RED_UNROLL], rb[GK_RED_UNROLL];
#pragma unroll
    for (int u = 0; u < GK_RED_UNROLL; u++) {
      size_t v = v0 + u * nt;
      if (v < nv) {
        ra[u] = av[v];
        if (OP == RED_DOT) rb[u] = bv[v];
      }
    }
#pragma unroll
    for (int u = 0; u < GK_RED_UNROLL; u++) {
      if (v0 + u * nt < nv) {
        float x[V], y[V];
        unpack(ra[u], x, a);
        if (OP == RED_DOT) unpack(rb[u], y, a);
#pragma unroll
        for (int j = 0; j < V; j++)
          acc[u] = red_term<OP>(acc[u], x[j], OP == RED_DOT ? y[j] : 0.0f);
      }
    }
  }
  static_assert(GK_RED_UNROLL == 4, "the combination tree below has four accumulators");
  float r = red_combine<OP>(red_combine<OP>(red_combine<OP>(acc[0], acc[1]),
                                            red_combine<OP>(acc[2], acc[3])), sacc);
  r = block_reduce<OP>(r, sm);
  if (threadIdx.x == 0) dst[blockIdx.x] = r;
}

/* one block combines nparts partials: thread t takes t, t + B, ... in order */
template <int OP>
__device__ __forceinline__ void reduce_final(const float *part, unsigned nparts, float *result,
                                             float *sm) {
  float r = red_identity<OP>();
  for (unsigned i = threadIdx.x; i < nparts; i += blockDim.x) r = red_combine<OP>(r, part[i]);
  r = block_reduce<OP>(r, sm);
  if (threadIdx.x == 0) *result = r;
}

} /* namespace gk_blas1 */

/* ------------------------------------------------------------------ kernels */
#define GK_BINARY_KERNEL(op, F, T, dt)                                                           \
  extern "C" __global__ void gk_##op##_##dt(const T *a, const T *b, T *out, size_t n,            \
                                            size_t head) {                                       \
    using namespace gk_blas1;                                                                    \
    ew<T, true>(a, b, out, n, head, F());                                                        \
  }                                                                                              \
  GK_EXPORT(gk_##op##_##dt);

#define GK_SCALE_KERNEL(T, dt)                                                                   \
  extern "C" __global__ void gk_vec_scale_##dt(T *x, float s, size_t n, size_t head) {           \
    using namespace gk_blas1;                                                                    \
    op_scale f = {s};                                                                            \
    ew<T, false>(x, x, x, n, head, f);                                                           \
  }                                                                                              \
  GK_EXPORT(gk_vec_scale_##dt);

#define GK_AXPY_KERNEL(T, dt)                                                                    \
  extern "C" __global__ void gk_vec_axpy_##dt(T *y, float alpha, const T *x, size_t n,           \
                                              size_t head) {                                     \
    using namespace gk_blas1;                                                                    \
    op_axpy f = {alpha};                                                                         \
    ew<T, true>(y, x, y, n, head, f);                                                            \
  }                                                                                              \
  GK_EXPORT(gk_vec_axpy_##dt);

/* dst[blockIdx.x] = the block's reduction (dst is the result when gridDim.x == 1) */
#define GK_RED2_KERNEL(op, OP, T, dt)                                                            \
  extern "C" __global__ void gk_##op##_##dt(const T *a, const T *b, size_t n, size_t head,       \
                                            float *dst) {                                        \
    using namespace gk_blas1;                                                                    \
    GK_SHARED(float, sm, 32);                                                                    \
    reduce<T, OP>(a, b, n, head, dst, sm);                                                       \
  }                                                                                              \
  GK_EXPORT(gk_##op##_##dt);
#define GK_RED1_KERNEL(op, OP, T, dt)                                                            \
  extern "C" __global__ void gk_##op##_##dt(const T *x, size_t n, size_t head, float *dst) {     \
    using namespace gk_blas1;                                                                    \
    GK_SHARED(float, sm, 32);                                                                    \
    reduce<T, OP>(x, x, n, head, dst, sm);                                                       \
  }                                                                                              \
  GK_EXPORT(gk_##op##_##dt);

#define GK_BLAS1_KERNELS(T, dt)                                                                  \
  GK_BINARY_KERNEL(vec_add, op_add, T, dt)                                                       \
  GK_BINARY_KERNEL(vec_sub, op_sub, T, dt)                                                       \
  GK_BINARY_KERNEL(vec_mul, op_mul, T, dt)                                                       \
  GK_SCALE_KERNEL(T, dt)                                                                         \
  GK_AXPY_KERNEL(T, dt)                                                                          \
  GK_RED2_KERNEL(vec_dot, RED_DOT, T, dt)                                                        \
  GK_RED1_KERNEL(vec_sum, RED_SUM, T, dt)                                                        \
  GK_RED1_KERNEL(vec_sum_squares, RED_SUMSQ, T, dt)                                              \
  GK_RED1_KERNEL(vec_max, RED_MAX, T, dt)

GK_BLAS1_KERNELS(float, f32)
GK_BLAS1_KERNELS(gk_half, f16)
GK_BLAS1_KERNELS(gk_bf16, bf16)

/* *result = the sum (or NaN-propagating max) of part[0..nparts), one block */
extern "C" __global__ void gk_vec_sum_final_f32(const float *part, unsigned nparts, float *result) {
  using namespace gk_blas1;
  GK_SHARED(float, sm, 32);
  reduce_final<RED_SUM>(part, nparts, result, sm);
}
GK_EXPORT(gk_vec_sum_final_f32);

extern "C" __global__ void gk_vec_max_final_f32(const float *part, unsigned nparts, float *result) {
  using namespace gk_blas1;
  GK_SHARED(float, sm, 32);
  reduce_final<RED_MAX>(part, nparts, result, sm);
}
GK_EXPORT(gk_vec_max_final_f32);
