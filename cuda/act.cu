/* act.cu -- elementwise activations: silu, gelu (exact erf), relu, tanh, exp, swiglu
 * SPDX-License-Identifier: MIT
 *
 * The math is the CPU library's (lib/simd/simd_math.h) written for one lane,
 * with the same constants and the same special cases, so that results agree
 * with the CPU to the last bit or two (they differ only where the CPU's scalar
 * ISA rounds a*b+c twice and the GPU fuses it):
 *   exp   Cephes range reduction, degree-6 polynomial, 2^n in two factors;
 *         x > 88.72 -> +inf, x < -103.97 -> 0, denormal results kept, NaN -> NaN
 *   tanh  odd polynomial below |x| = 0.625, 1 - 2/(e^2|x| + 1) above
 *   silu  x/(1+e) or x e/(1+e) with e = e^-|x| (never overflows); silu(-inf) = -0
 *   gelu  x/2 erfc(-x/sqrt 2) with Numerical Recipes' erfcc and the exact
 *         hi + lo split of x^2 from an FMA; |x| >= 15 gives x or -0
 *   relu  0 > x ? 0 : x, so NaN and -0 pass unchanged
 * exp and its reduced form are gk_float.cuh's (softmax uses the same).  Launch
 * and memory access as the elementwise kernels of blas1.cu (gk_elementwise of
 * gk_float.cuh): a grid-stride loop over 16-byte vectors, GK_ACT_UNROLL per
 * thread and step, `head` scalar elements before the first 16-byte boundary
 * (head = n when the pointers are not congruent mod 16) and a scalar tail; out
 * may alias the input(s) exactly.
 */
#include "gk_float.cuh"

/* Threads per block (cuda/ops_float.c launches them so). */
#define GK_ACT_BLOCK 256
/* 16-byte vectors per thread and step. */
#define GK_ACT_UNROLL 4

namespace gk_act {

/* ------------------------------------------------------------------ math */
__device__ __forceinline__ float gk_tanh(float x) {
  float ax = fabsf(x), z = x * x;
  float p = -5.70498872745e-3f;
  p = fmaf(p, z, 2.06390887954e-2f);
  p = fmaf(p, z, -5.37397155531e-2f);
  p = fmaf(p, z, 1.33314422036e-1f);
  p = fmaf(p, z, -3.33332819422e-1f);
  float small = fmaf(p * z, x, x);
  float e = gk_exp(ax + ax);
  float big = copysignf(1.0f - 2.0f / (e + 1.0f), x);
  return ax < 0.625f ? small : big;
}

__device__ __forceinline__ float gk_silu(float x) {
  float e = gk_exp(-fabsf(x));
  float num = x < 0.0f ? x * e : x;
  float y = num / (1.0f + e);
  return x == __int_as_float(0xff800000) ? -0.0f : y;
}

__device__ __forceinline__ float gk_gelu(float x) {
  float ax = fabsf(x);
  float t = 1.0f / fmaf(ax, 0.35355339059327376f, 1.0f);
  float t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
  float q01 = fmaf(t, 1.00002368f, -1.26551223f);
  float q23 = fmaf(t, 0.09678418f, 0.37409196f);
  float q45 = fmaf(t, 0.27886807f, -0.18628806f);
  float q67 = fmaf(t, 1.48851587f, -1.13520398f);
  float q89 = fmaf(t, 0.17087277f, -0.82215223f);
  float r03 = fmaf(q23, t2, q01), r47 = fmaf(q67, t2, q45);
  float p = fmaf(q89, t8, fmaf(r47, t4, r03));
  float xx = x * x;
  float xx_lo = fmaf(x, x, -xx);
  float hi = xx * -0.5f;
  float lo = fmaf(xx_lo, -0.5f, p);
  float erfc = t * gk_exp_reduced(hi, lo, true);
  float half_x = x * 0.5f;
  float pos = fmaf(-half_x, erfc, x);
  float neg = half_x * erfc;
  float y = x < 0.0f ? neg : pos;
  float big = x < 0.0f ? -0.0f : x;
  return 15.0f <= ax ? big : y;
}

struct op_silu { __device__ float operator()(float x, float) const { return gk_silu(x); } };
struct op_gelu { __device__ float operator()(float x, float) const { return gk_gelu(x); } };
struct op_relu {
  __device__ float operator()(float x, float) const { return 0.0f > x ? 0.0f : x; }
};
struct op_tanh { __device__ float operator()(float x, float) const { return gk_tanh(x); } };
struct op_exp { __device__ float operator()(float x, float) const { return gk_exp(x); } };
struct op_swiglu { __device__ float operator()(float g, float u) const { return gk_silu(g) * u; } };

} /* namespace gk_act */

#define GK_UNARY_KERNEL(op, T, dt)                                                               \
  extern "C" __global__ void gk_##op##_##dt(const T *x, T *out, size_t n, size_t head) {         \
    using namespace gk_act;                                                                      \
    gk_elementwise<GK_ACT_UNROLL, false>(x, x, out, n, head, op_##op());                         \
  }                                                                                              \
  GK_EXPORT(gk_##op##_##dt);

#define GK_ACT_KERNELS(T, dt)                                                                    \
  GK_UNARY_KERNEL(silu, T, dt)                                                                   \
  GK_UNARY_KERNEL(gelu, T, dt)                                                                   \
  GK_UNARY_KERNEL(relu, T, dt)                                                                   \
  GK_UNARY_KERNEL(tanh, T, dt)                                                                   \
  GK_UNARY_KERNEL(exp, T, dt)                                                                    \
  extern "C" __global__ void gk_swiglu_##dt(const T *gate, const T *up, T *out, size_t n,        \
                                            size_t head) {                                       \
    using namespace gk_act;                                                                      \
    gk_elementwise<GK_ACT_UNROLL, true>(gate, up, out, n, head, op_swiglu());                    \
  }                                                                                              \
  GK_EXPORT(gk_swiglu_##dt);

GK_ACT_KERNELS(float, f32)
GK_ACT_KERNELS(gk_half, f16)
GK_ACT_KERNELS(gk_bf16, bf16)
