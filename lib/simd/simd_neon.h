/* simd_neon.h -- the primitive layer for AArch64 Advanced SIMD: 4 f32 lanes
 * SPDX-License-Identifier: MIT
 *
 * Contract: see simd_scalar.h and the integer primitives of simd_avx512.h.
 * Built twice: for the neon ISA (armv8-a) and, with GLLMK_SIMD_DOTPROD
 * defined, for the dotprod ISA (armv8.2-a+dotprod), whose int8 dot products
 * are sdot.  Tails go through a small local copy, never touching memory
 * past n.  Where AArch64 and x86 differ, the x86 rule of the contract wins:
 * max/min return b when either operand is NaN (fmax/fmin would return NaN).
 */
#ifndef GLLMK_SIMD_NEON_H
#define GLLMK_SIMD_NEON_H

#include <arm_neon.h>
#include "simd/simd_neon_bytes.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef float32x4_t vf32;
typedef uint32x4_t vmask;
#define VF32_LANES 4
#define VF32_MAX_LANES 4
/* 8 x 12 micro-tile: 24 accumulators, 3 B vectors and the A broadcast in the
 * 32 vector registers */
#define GLLMK_GEMM_MR 8
#define GLLMK_GEMM_NRV 3

/* ---- memory */
static inline vf32 vf32_zero(void) { return vdupq_n_f32(0.0f); }
static inline vf32 vf32_splat(float x) { return vdupq_n_f32(x); }
static inline vf32 vf32_loadu(const float *p) { return vld1q_f32(p); }
static inline void vf32_storeu(float *p, vf32 v) { vst1q_f32(p, v); }
static inline vf32 vf32_load_n_or(const float *p, size_t n, float fill) {
  float t[4] = {fill, fill, fill, fill};
  memcpy(t, p, n * sizeof(float));
  return vld1q_f32(t);
}
static inline vf32 vf32_load_n(const float *p, size_t n) { return vf32_load_n_or(p, n, 0.0f); }
static inline void vf32_store_n(float *p, size_t n, vf32 v) {
  float t[4];
  vst1q_f32(t, v);
  memcpy(p, t, n * sizeof(float));
}

/* ---- conversions: fcvtl/fcvtn round to nearest-even (FPCR default) and
 * keep NaNs NaN (quieted), as F16C does */
static inline vf32 vf32_load_f16(const void *p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)p)));
}
static inline vf32 vf32_load_f16_n(const void *p, size_t n) {
  uint16_t t[4] = {0};
  memcpy(t, p, n * 2);
  return vf32_load_f16(t);
}
static inline void vf32_store_f16(void *p, vf32 v) {
  vst1_u16((uint16_t *)p, vreinterpret_u16_f16(vcvt_f16_f32(v)));
}
static inline void vf32_store_f16_n(void *p, size_t n, vf32 v) {
  uint16_t t[4];
  vf32_store_f16(t, v);
  memcpy(p, t, n * 2);
}
static inline vf32 vf32_load_bf16(const void *p) {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)p), 16));
}
static inline vf32 vf32_load_bf16_n(const void *p, size_t n) {
  uint16_t t[4] = {0};
  memcpy(t, p, n * 2);
  return vf32_load_bf16(t);
}
/* round to nearest-even on the upper 16 bits; a NaN stays a quiet NaN */
static inline uint16x4_t gllmk__neon_to_bf16(vf32 v) {
  uint32x4_t u = vreinterpretq_u32_f32(v);
  uint32x4_t odd = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
  uint32x4_t r = vshrq_n_u32(vaddq_u32(vaddq_u32(u, vdupq_n_u32(0x7fff)), odd), 16);
  uint32x4_t q = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
  uint32x4_t nan = vmvnq_u32(vceqq_f32(v, v));
  return vmovn_u32(vbslq_u32(nan, q, r));
}
static inline void vf32_store_bf16(void *p, vf32 v) { vst1_u16((uint16_t *)p, gllmk__neon_to_bf16(v)); }
static inline void vf32_store_bf16_n(void *p, size_t n, vf32 v) {
  uint16_t t[4];
  vf32_store_bf16(t, v);
  memcpy(p, t, n * 2);
}

/* ---- arithmetic */
static inline vf32 vf32_add(vf32 a, vf32 b) { return vaddq_f32(a, b); }
static inline vf32 vf32_sub(vf32 a, vf32 b) { return vsubq_f32(a, b); }
static inline vf32 vf32_mul(vf32 a, vf32 b) { return vmulq_f32(a, b); }
static inline vf32 vf32_div(vf32 a, vf32 b) { return vdivq_f32(a, b); }
static inline vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return vfmaq_f32(c, a, b); }
static inline vf32 vf32_neg(vf32 a) { return vnegq_f32(a); }
static inline vf32 vf32_abs(vf32 a) { return vabsq_f32(a); }
static inline vf32 vf32_max(vf32 a, vf32 b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline vf32 vf32_min(vf32 a, vf32 b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline vf32 vf32_sqrt(vf32 a) { return vsqrtq_f32(a); }
/* 8-bit estimate and two Newton steps (frecps): relative error about 2^-22 */
static inline vf32 vf32_rcp(vf32 a) {
  float32x4_t r = vrecpeq_f32(a);
  r = vmulq_f32(r, vrecpsq_f32(a, r));
  return vmulq_f32(r, vrecpsq_f32(a, r));
}
static inline vf32 vf32_copysign(vf32 mag, vf32 sgn) {
  return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag);
}

/* ---- reductions: (lo64 + hi64), then the pair, as the x86 layers do */
static inline float vf32_reduce_add(vf32 v) {
  float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
  return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}
static inline float vf32_reduce_max(vf32 v) {
  float32x2_t a = vget_low_f32(v), b = vget_high_f32(v);
  float32x2_t s = vbsl_f32(vcgt_f32(a, b), a, b);
  float s0 = vget_lane_f32(s, 0), s1 = vget_lane_f32(s, 1);
  return s0 > s1 ? s0 : s1;
}

/* ---- masks */
static inline vmask vf32_lt(vf32 a, vf32 b) { return vcltq_f32(a, b); }
static inline vmask vf32_le(vf32 a, vf32 b) { return vcleq_f32(a, b); }
static inline vmask vf32_eq(vf32 a, vf32 b) { return vceqq_f32(a, b); }
static inline vmask vf32_isnan(vf32 a) { return vmvnq_u32(vceqq_f32(a, a)); }
static inline vmask vmask_or(vmask a, vmask b) { return vorrq_u32(a, b); }
static inline int vmask_any(vmask m) { return vmaxvq_u32(m) != 0; }
static inline vf32 vf32_select(vmask m, vf32 a, vf32 b) { return vbslq_f32(m, a, b); }

/* ---- exponent helpers */
static inline vf32 vf32_round(vf32 x) { return vrndnq_f32(x); }
static inline vf32 vf32_pow2i(vf32 n) {
  int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
  return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}

static inline void vf32_prefetch(const void *p) { __builtin_prefetch(p); }

/* lanes (2i, 2i+1) exchanged (interleaved RoPE pairs) */
static inline vf32 vf32_swap_pairs(vf32 v) { return vrev64q_f32(v); }

/* ---- 4 x 4 transpose: trn1/trn2 on lanes, then the 64-bit halves */
static inline __attribute__((always_inline)) void vf32_transpose(vf32 r[4]) {
  float32x4x2_t t0 = vtrnq_f32(r[0], r[1]), t1 = vtrnq_f32(r[2], r[3]);
  r[0] = vcombine_f32(vget_low_f32(t0.val[0]), vget_low_f32(t1.val[0]));
  r[1] = vcombine_f32(vget_low_f32(t0.val[1]), vget_low_f32(t1.val[1]));
  r[2] = vcombine_f32(vget_high_f32(t0.val[0]), vget_high_f32(t1.val[0]));
  r[3] = vcombine_f32(vget_high_f32(t0.val[1]), vget_high_f32(t1.val[1]));
}

/* ---- integer primitives of the quantized kernels (see simd_avx512.h) */
static inline vf32 vf32_load_i8(const int8_t *p) {
  int32_t w;
  memcpy(&w, p, 4);
  int16x8_t h = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w)));
  return vcvtq_f32_s32(vmovl_s16(vget_low_s16(h)));
}
/* 16 int8 products; |q x| <= 128 * 127 fits in 16 bits, the sums of 4 in 32 */
static inline int32x4_t gllmk__neon_dot4(int8x16_t q, int8x16_t x) {
#ifdef GLLMK_SIMD_DOTPROD
  return vdotq_s32(vdupq_n_s32(0), q, x);
#else
  int16x8_t lo = vmull_s8(vget_low_s8(q), vget_low_s8(x));
  int16x8_t hi = vmull_high_s8(q, x);
  return vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi));
#endif
}
static inline vf32 vf32_idot4(const int8_t *q, const int8_t *x) {
  return vcvtq_f32_s32(gllmk__neon_dot4(vld1q_s8(q), vld1q_s8(x)));
}
/* q <= 127 by contract, so reading it signed gives the same products */
static inline vf32 vf32_idot4_u(const int8_t *q, const int8_t *x) { return vf32_idot4(q, x); }
static inline vf32 vf32_load_i16(const int16_t *p) { return vcvtq_f32_s32(vmovl_s16(vld1_s16(p))); }
/* the int8 GEMM's (simd_scalar.h): signed x signed */
typedef int32x4_t vqi;
#define GLLMK_QX_OFF 0
static inline vqi vqi_zero(void) { return vdupq_n_s32(0); }
static inline vqi vqi_loadu(const int32_t *p) { return vld1q_s32(p); }
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) {
#ifdef GLLMK_SIMD_DOTPROD
  return vdotq_s32(acc, vld1q_s8(x), vld1q_s8(q));
#else
  return vaddq_s32(acc, gllmk__neon_dot4(vld1q_s8(q), vld1q_s8(x)));
#endif
}
static inline vf32 vf32_from_vqi(vqi v) { return vcvtq_f32_s32(v); }
static inline vf32 vf32_bcast4(const float *f) { return vdupq_n_f32(f[0]); }
static inline void vf32_store_i8(int8_t *p, vf32 v) {
  int16x4_t h = vqmovn_s32(vcvtnq_s32_f32(v));
  int8x8_t b = vqmovn_s16(vcombine_s16(h, h));
  vst1_lane_s32((int32_t *)(void *)p, vreinterpret_s32_s8(b), 0);
}
static inline vf32 vf32_lut_idx(const float *tab, size_t ntab, const int32_t *idx) {
  (void)ntab;
  float r[4] = {tab[idx[0]], tab[idx[1]], tab[idx[2]], tab[idx[3]]};
  return vld1q_f32(r);
}
/* codes i .. i+3 (i a multiple of 4) are the 12 bits from bit 3i */
static inline vf32 vf32_lut8_3b(const vf32_tab8 *t, const uint8_t *qs, size_t i) {
  size_t b = 3 * i;
  const uint8_t *p = qs + b / 8;
  unsigned w = (unsigned)p[0] | (unsigned)p[1] << 8;
  w >>= b & 7;
  float r[4] = {t->t[w & 7], t->t[(w >> 3) & 7], t->t[(w >> 6) & 7], t->t[(w >> 9) & 7]};
  return vld1q_f32(r);
}

#endif /* GLLMK_SIMD_NEON_H */
