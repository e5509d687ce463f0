/* simd_math.h -- vector exp, tanh, silu and exact-erf GELU on the primitive layer
 * SPDX-License-Identifier: MIT
 *
 * Built only from the primitives of the included simd_<isa>.h, so every ISA
 * gets the same algorithm (results differ across ISAs only by FMA contraction).
 * Accuracy against a double reference, over all finite f32 inputs:
 *   vf32_exp    ~2 ulp; x > 88.72 -> +inf, x < -103.97 -> 0, denormal results kept; NaN -> NaN
 *   vf32_tanh   ~3 ulp (odd polynomial below 0.625, 1 - 2/(e^2|x|+1) above)
 *   vf32_silu   ~4 ulp; silu(-inf) = -0
 *   vf32_gelu   relative 1e-6 where |x| < 5, and ~1e-6 * x^2/2 further out in the
 *               negative tail (erfc of Numerical Recipes' erfcc, fractional error
 *               < 1.2e-7, with e^(-x^2/2) taken from the exact hi + lo split of
 *               x^2 that an FMA gives)
 */
#ifndef GLLMK_SIMD_MATH_H
#define GLLMK_SIMD_MATH_H

/* e^(x + l) for x in [-104, 89] and |l| <= 8 (l only when has_l, a constant
 * after inlining): Cephes expf range reduction with ln2 in two parts, its
 * degree-6 polynomial, and 2^n applied in two factors so that n in
 * [-162, 140] stays representable and denormal results are kept. */
static inline vf32 gllmk__vexp_reduced(vf32 x, vf32 l, int has_l) {
  vf32 n = vf32_round(vf32_mul(has_l ? vf32_add(x, l) : x, vf32_splat(1.44269504088896341f)));
  vf32 r = vf32_fma(n, vf32_splat(-0.693359375f), x);
  r = vf32_fma(n, vf32_splat(2.12194440e-4f), r);
  if (has_l) r = vf32_add(r, l);
  vf32 p = vf32_splat(1.9875691500e-4f);
  p = vf32_fma(p, r, vf32_splat(1.3981999507e-3f));
  p = vf32_fma(p, r, vf32_splat(8.3334519073e-3f));
  p = vf32_fma(p, r, vf32_splat(4.1665795894e-2f));
  p = vf32_fma(p, r, vf32_splat(1.6666665459e-1f));
  p = vf32_fma(p, r, vf32_splat(5.0000001201e-1f));
  vf32 y = vf32_add(vf32_fma(p, vf32_mul(r, r), r), vf32_splat(1.0f));
  vf32 n1 = vf32_round(vf32_mul(n, vf32_splat(0.5f)));
  return vf32_mul(vf32_mul(y, vf32_pow2i(n1)), vf32_pow2i(vf32_sub(n, n1)));
}

#ifndef GLLMK_SIMD_VLA
/* the transpose of a rows x cols block (<= LANES each) through registers,
 * for the layers with a fixed LANES and an in-register vf32_transpose */
static inline __attribute__((always_inline)) void
vf32_transpose_tile(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t cols) {
  vf32 r[VF32_LANES];
  for (size_t i = 0; i < VF32_LANES; i++)
    r[i] = i >= rows ? vf32_zero() : cols == VF32_LANES ? vf32_loadu(src + i * lds)
                                                        : vf32_load_n(src + i * lds, cols);
  vf32_transpose(r);
  for (size_t t = 0; t < cols; t++) vf32_storeu(dst + t * ldd, r[t]);
}
#endif

static inline vf32 gllmk__vclamp(vf32 x, float lo, float hi) {
  return vf32_min(vf32_max(x, vf32_splat(lo)), vf32_splat(hi));
}

/* e^x: clamping to [-104, 89] alone gives +inf above 88.73 and 0 below
 * -103.97 (y 2^-150 rounds to 0); NaN passes through */
static inline vf32 vf32_exp(vf32 x) {
  vf32 y = gllmk__vexp_reduced(gllmk__vclamp(x, -104.0f, 89.0f), vf32_zero(), 0);
  return vf32_select(vf32_isnan(x), x, y);
}

static inline vf32 vf32_tanh(vf32 x) {
  vf32 ax = vf32_abs(x);
  vf32 z = vf32_mul(x, x);
  vf32 p = vf32_splat(-5.70498872745e-3f);
  p = vf32_fma(p, z, vf32_splat(2.06390887954e-2f));
  p = vf32_fma(p, z, vf32_splat(-5.37397155531e-2f));
  p = vf32_fma(p, z, vf32_splat(1.33314422036e-1f));
  p = vf32_fma(p, z, vf32_splat(-3.33332819422e-1f));
  vf32 small = vf32_fma(vf32_mul(p, z), x, x);
  vf32 e = vf32_exp(vf32_add(ax, ax));
  vf32 big = vf32_sub(vf32_splat(1.0f), vf32_div(vf32_splat(2.0f), vf32_add(e, vf32_splat(1.0f))));
  big = vf32_copysign(big, x);
  return vf32_select(vf32_lt(ax, vf32_splat(0.625f)), small, big);
}

/* x sigmoid(x) with e = e^-|x|, which never overflows: x/(1+e) for x >= 0,
 * x e/(1+e) below, so the results down to the denormals are kept */
static inline vf32 vf32_silu(vf32 x) {
  vf32 e = vf32_exp(vf32_neg(vf32_abs(x)));
  vf32 num = vf32_select(vf32_lt(x, vf32_zero()), vf32_mul(x, e), x);
  vf32 y = vf32_div(num, vf32_add(vf32_splat(1.0f), e));
  /* -inf * 0 would be NaN; the limit is -0 */
  return vf32_select(vf32_eq(x, vf32_splat(-INFINITY)), vf32_splat(-0.0f), y);
}

static inline vf32 vf32_gelu(vf32 x) {
  vf32 ax = vf32_abs(x);
  /* t = 1 / (1 + z/2) with z = |x|/sqrt(2); the argument is >= 1 */
  vf32 t = vf32_rcp(vf32_fma(ax, vf32_splat(0.35355339059327376f), vf32_splat(1.0f)));
  /* erfcc's degree-9 polynomial in t, by Estrin's scheme (depth 4, not 9) */
  vf32 t2 = vf32_mul(t, t), t4 = vf32_mul(t2, t2), t8 = vf32_mul(t4, t4);
  vf32 q01 = vf32_fma(t, vf32_splat(1.00002368f), vf32_splat(-1.26551223f));
  vf32 q23 = vf32_fma(t, vf32_splat(0.09678418f), vf32_splat(0.37409196f));
  vf32 q45 = vf32_fma(t, vf32_splat(0.27886807f), vf32_splat(-0.18628806f));
  vf32 q67 = vf32_fma(t, vf32_splat(1.48851587f), vf32_splat(-1.13520398f));
  vf32 q89 = vf32_fma(t, vf32_splat(0.17087277f), vf32_splat(-0.82215223f));
  vf32 r03 = vf32_fma(q23, t2, q01), r47 = vf32_fma(q67, t2, q45);
  vf32 p = vf32_fma(q89, t8, vf32_fma(r47, t4, r03));
  /* -z^2 = -x^2/2 as hi + lo: the FMA recovers the rounding error of x*x */
  vf32 xx = vf32_mul(x, x);
  vf32 xx_lo = vf32_fma(x, x, vf32_neg(xx));
  vf32 hi = vf32_mul(xx, vf32_splat(-0.5f));
  vf32 lo = vf32_fma(xx_lo, vf32_splat(-0.5f), p);
  /* |x| < 15 here (the rest is overridden below): hi in [-112.5, 0] and lo in
   * [-1.3, 0.3] keep n inside the reduction's range, so no clamping is needed;
   * results under 2^-150 flush to 0 and NaN propagates */
  vf32 erfc = vf32_mul(t, gllmk__vexp_reduced(hi, lo, 1));
  vf32 half_x = vf32_mul(x, vf32_splat(0.5f));
  vf32 pos = vf32_fma(vf32_neg(half_x), erfc, x);            /* x (1 - erfc/2) */
  vf32 neg = vf32_mul(half_x, erfc);                         /* x/2 erfc(|x|/sqrt 2) */
  vf32 y = vf32_select(vf32_lt(x, vf32_zero()), neg, pos);
  /* |x| >= 15: erfc(|x|/sqrt 2) < 2^-150 so gelu is x or -0 (and x^2 may overflow) */
  vf32 big = vf32_select(vf32_lt(x, vf32_zero()), vf32_splat(-0.0f), x);
  return vf32_select(vf32_le(vf32_splat(15.0f), ax), big, y);
}

#endif /* GLLMK_SIMD_MATH_H */
