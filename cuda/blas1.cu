/* blas1.cu -- BLAS-1: elementwise add/sub/mul/scale/axpy; reductions dot/sum/sum_squares/max
 * SPDX-License-Identifier: MIT
 *
 * Elementwise kernels (gk_vec_add_<dt> ...): gk_elementwise (gk_float.cuh), a
 * grid-stride loop over 16-byte vectors (4 f32 or 8 f16/bf16), GK_EW_UNROLL
 * vectors per thread and step, all loads of a step issued before its stores.
 * The host passes `head`: elements before the first 16-byte boundary of every
 * pointer (the pointers are congruent mod 16), or head = n when they are not,
 * which makes the whole range scalar.  Scalar elements (the head and the tail
 * after the last whole vector) go one per thread.  out may alias an input
 * exactly: every element is read and then written by the same thread in the
 * same step.
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
#include "gk_float.cuh"

/* Threads per block of the elementwise kernels (cuda/ops_float.c launches them so). */
#define GK_EW_BLOCK 256
/* 16-byte vectors per thread and step: 64 bytes of each input in flight per thread. */
#define GK_EW_UNROLL 4
/* Vectors per thread and step of a reduction (its independent accumulators). */
#define GK_RED_UNROLL 4

namespace gk_blas1 {

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

/* ------------------------------------------------------------------ reductions */
enum { RED_DOT, RED_SUM, RED_SUMSQ, RED_MAX };

/* the combining operator of a reduction: max for RED_MAX, else the sum */
template <int OP> struct red_op : gk_op_sum {};
template <> struct red_op<RED_MAX> : gk_op_max {};

template <int OP> __device__ __forceinline__ float red_term(float acc, float x, float y) {
  return OP == RED_DOT     ? fmaf(x, y, acc)
         : OP == RED_SUMSQ ? fmaf(x, x, acc)
                           : red_op<OP>()(acc, x);
}

template <class T, int OP>
__device__ __forceinline__ void reduce(const T *a, const T *b, size_t n, size_t head, float *dst,
                                       float *sm) {
  const int U = GK_RED_UNROLL;
  red_op<OP> op;
  gk_split<size_t> g = gk_split_head<T, size_t>(n, head);
  size_t nt = (size_t)gridDim.x * blockDim.x;
  size_t rank = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  float acc[U + 1];   /* one per unroll slot; acc[U] takes the scalars */
#pragma unroll
  for (int u = 0; u <= U; u++) acc[u] = op.identity();
  gk_sweep<U, OP == RED_DOT ? 2 : 1, false>(a, b, b, (T *)a, g, rank, nt,
                                            [&](int u, float x, float y, float) {
                                              acc[u] = red_term<OP>(acc[u], x, y);
                                              return 0.0f;
                                            });
  static_assert(GK_RED_UNROLL == 4, "the combination tree below has four accumulators");
  float r = op(op(op(acc[0], acc[1]), op(acc[2], acc[3])), acc[U]);
  r = gk_block_reduce(r, sm, op);
  if (threadIdx.x == 0) dst[blockIdx.x] = r;
}

/* one block combines nparts partials: thread t takes t, t + B, ... in order */
template <int OP>
__device__ __forceinline__ void reduce_final(const float *part, unsigned nparts, float *result,
                                             float *sm) {
  red_op<OP> op;
  float r = op.identity();
  for (unsigned i = threadIdx.x; i < nparts; i += blockDim.x) r = op(r, part[i]);
  r = gk_block_reduce(r, sm, op);
  if (threadIdx.x == 0) *result = r;
}

} /* namespace gk_blas1 */

/* ------------------------------------------------------------------ kernels */
#define GK_BINARY_KERNEL(op, F, T, dt)                                                           \
  extern "C" __global__ void gk_##op##_##dt(const T *a, const T *b, T *out, size_t n,            \
                                            size_t head) {                                       \
    using namespace gk_blas1;                                                                    \
    gk_elementwise<GK_EW_UNROLL, true>(a, b, out, n, head, F());                                 \
  }                                                                                              \
  GK_EXPORT(gk_##op##_##dt);

#define GK_SCALE_KERNEL(T, dt)                                                                   \
  extern "C" __global__ void gk_vec_scale_##dt(T *x, float s, size_t n, size_t head) {           \
    using namespace gk_blas1;                                                                    \
    op_scale f = {s};                                                                            \
    gk_elementwise<GK_EW_UNROLL, false>(x, x, x, n, head, f);                                    \
  }                                                                                              \
  GK_EXPORT(gk_vec_scale_##dt);

#define GK_AXPY_KERNEL(T, dt)                                                                    \
  extern "C" __global__ void gk_vec_axpy_##dt(T *y, float alpha, const T *x, size_t n,           \
                                              size_t head) {                                     \
    using namespace gk_blas1;                                                                    \
    op_axpy f = {alpha};                                                                         \
    gk_elementwise<GK_EW_UNROLL, true>(y, x, y, n, head, f);                                     \
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
