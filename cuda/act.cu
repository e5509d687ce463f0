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
 * Launch and memory access as the elementwise kernels of blas1.cu: a
 * grid-stride loop over 16-byte vectors, GK_ACT_UNROLL per thread and step,
 * `head` scalar elements before the first 16-byte boundary (head = n when the
 * pointers are not congruent mod 16) and a scalar tail; out may alias the
 * input(s) exactly.
 */
#include "gk_arch.cuh"

/* Threads per block (cuda/ops_float.c launches them so). */
#define GK_ACT_BLOCK 256
/* 16-byte vectors per thread and step. */
#define GK_ACT_UNROLL 4

namespace gk_act {

/* ------------------------------------------------------------------ elements */
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

__device__ __forceinline__ size_t scalar_at(size_t k, size_t head, size_t tail) {
  return k < head ? k : tail + (k - head);
}

/* ------------------------------------------------------------------ math */
/* 2^n for integral n in [-127, 128] (0 otherwise: NaN inputs, whose result is NaN anyway) */
__device__ __forceinline__ float pow2i(float n) {
  int i = n >= -127.0f && n <= 128.0f ? (int)n : 0;
  return __int_as_float((i + 127) << 23);
}

/* e^(x + l) for x in [-104, 89], |l| <= 8 (simd_math.h's gllmk__vexp_reduced) */
__device__ __forceinline__ float exp_reduced(float x, float l, bool has_l) {
  float n = rintf((has_l ? x + l : x) * 1.44269504088896341f);
  float r = fmaf(n, -0.693359375f, x);
  r = fmaf(n, 2.12194440e-4f, r);
  if (has_l) r = r + l;
  float p = 1.9875691500e-4f;
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  float y = fmaf(p, r * r, r) + 1.0f;
  float n1 = rintf(n * 0.5f);
  return y * pow2i(n1) * pow2i(n - n1);
}

__device__ __forceinline__ float gk_exp(float x) {
  float c = x > -104.0f ? x : -104.0f;   /* the CPU's max/min: NaN clamps to -104 here */
  c = c < 89.0f ? c : 89.0f;
  float y = exp_reduced(c, 0.0f, false);
  return x != x ? x : y;
}

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
  float erfc = t * exp_reduced(hi, lo, true);
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

/* out[i] = f(a[i], b[i]) (b read only when B) for i < n */
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
  for (size_t v0 = g; v0 < nv; v0 += GK_ACT_UNROLL * nt) {
    uint4 ra[GK_ACT_UNROLL], rb[GK_ACT_UNROLL];
#pragma unroll
    for (int u = 0; u < GK_ACT_UNROLL; u++) {
      size_t v = v0 + u * nt;
      if (v < nv) {
        ra[u] = av[v];
        if (B) rb[u] = bv[v];
      }
    }
#pragma unroll
    for (int u = 0; u < GK_ACT_UNROLL; u++) {
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

} /* namespace gk_act */

#define GK_UNARY_KERNEL(op, T, dt)                                                               \
  extern "C" __global__ void gk_##op##_##dt(const T *x, T *out, size_t n, size_t head) {         \
    using namespace gk_act;                                                                      \
    ew<T, false>(x, x, out, n, head, op_##op());                                                 \
  }                                                                                              \
  GK_EXPORT(gk_##op##_##dt);

#define GK_ACT_KERNELS(T, dt)                                                                    \
  GK_UNARY_KERNEL(silu, T, dt)                                                                   \
  GK_UNARY_KERNEL(gelu, T, dt)                                                                   \
  GK_UNARY_KERNEL(relu, T, dt)                                                                   \
  GK_UNARY_KERNEL(tanh, T, dt)                                                                   \
  GK_UNARY_KERNEL(exp, T, dt)                                                                    \
  extern "C" __global__ void gk_swiglu_##dt(const T *gate, const T *up, T *out, size_t n,       \
                                            size_t head) {                                       \
    using namespace gk_act;                                                                      \
    ew<T, true>(gate, up, out, n, head, op_swiglu());                                            \
  }                                                                                              \
  GK_EXPORT(gk_swiglu_##dt);

GK_ACT_KERNELS(float, f32)
GK_ACT_KERNELS(gk_half, f16)
GK_ACT_KERNELS(gk_bf16, bf16)
