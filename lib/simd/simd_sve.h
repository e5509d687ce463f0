/* simd_sve.h -- the primitive layer for the Scalable Vector Extension
 * SPDX-License-Identifier: MIT
 *
 * Contract: see simd_scalar.h and the integer primitives of simd_avx512.h.
 * Vector-length agnostic: nothing assumes a width.  VF32_LANES is a run-time
 * value, L = the largest power of two <= min(svcntw(), 16): 4, 8 or 16 lanes
 * on 128-, 256- and 512-bit machines (a 384-bit one uses 8, a 1024- or
 * 2048-bit one 16).  The cap keeps a vector inside one 16-value group of the
 * quantized formats, and the power of two keeps the templates' 4 L steps
 * dividing their 64- and 256-value blocks.  Every memory access and every
 * reduction is predicated on the first L lanes (pg), partial ones on
 * whilelt(0, n); arithmetic runs unpredicated (svptrue), its extra lanes
 * never reach memory.  Where AArch64 and x86 differ, the x86 rule of the
 * contract wins: max/min return b when either operand is NaN.  The fixed
 * 16- and 64-byte helpers are the Advanced SIMD ones (simd_neon_bytes.h).
 */
#ifndef GLLMK_SIMD_SVE_H
#define GLLMK_SIMD_SVE_H

#include <arm_sve.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "simd/simd_neon_bytes.h"

typedef svfloat32_t vf32;
typedef svbool_t vmask;
/* sizeless vectors: no arrays of vf32, no in-register vf32_transpose */
#define GLLMK_SIMD_VLA 1
#define VF32_MAX_LANES 16
/* 8 x 3L micro-tile: 24 accumulators, 3 B vectors and 2 A quadwords in the
 * 32 Z registers (isa/sve/gemm_micro_sve.h) */
#define GLLMK_GEMM_MR 8
#define GLLMK_GEMM_NRV 3

static inline size_t gllmk__sve_lanes(void) {
  uint64_t w = svcntw();
  return w >= 16 ? 16 : w >= 8 ? 8 : 4;
}
#define VF32_LANES gllmk__sve_lanes()
/* the L lanes of a vector, and the first n <= L of them */
static inline svbool_t gllmk__sve_pg(void) { return svwhilelt_b32_u64(0, gllmk__sve_lanes()); }
static inline svbool_t gllmk__sve_pn(size_t n) { return svwhilelt_b32_u64(0, n); }
#define GLLMK__SVE_PT svptrue_b32()

/* ---- memory */
static inline vf32 vf32_zero(void) { return svdup_n_f32(0.0f); }
static inline vf32 vf32_splat(float x) { return svdup_n_f32(x); }
static inline vf32 vf32_loadu(const float *p) { return svld1_f32(gllmk__sve_pg(), p); }
static inline void vf32_storeu(float *p, vf32 v) { svst1_f32(gllmk__sve_pg(), p, v); }
static inline vf32 vf32_load_n(const float *p, size_t n) { return svld1_f32(gllmk__sve_pn(n), p); }
static inline vf32 vf32_load_n_or(const float *p, size_t n, float fill) {
  svbool_t pn = gllmk__sve_pn(n);
  return svsel_f32(pn, svld1_f32(pn, p), svdup_n_f32(fill));
}
static inline void vf32_store_n(float *p, size_t n, vf32 v) { svst1_f32(gllmk__sve_pn(n), p, v); }

/* ---- conversions: halves in the low 16 bits of 32-bit containers; fcvt
 * rounds to nearest-even (FPCR default) and keeps NaNs NaN (quieted), as
 * F16C does.  Lanes not loaded hold 0 bits, so they convert to 0. */
static inline vf32 gllmk__sve_h2f(svuint32_t h) {
  return svcvt_f32_f16_x(GLLMK__SVE_PT, svreinterpret_f16_u32(h));
}
static inline svuint32_t gllmk__sve_f2h(vf32 v) {
  return svreinterpret_u32_f16(svcvt_f16_f32_x(GLLMK__SVE_PT, v));
}
static inline vf32 vf32_load_f16(const void *p) {
  return gllmk__sve_h2f(svld1uh_u32(gllmk__sve_pg(), (const uint16_t *)p));
}
static inline vf32 vf32_load_f16_n(const void *p, size_t n) {
  return gllmk__sve_h2f(svld1uh_u32(gllmk__sve_pn(n), (const uint16_t *)p));
}
static inline void vf32_store_f16(void *p, vf32 v) {
  svst1h_u32(gllmk__sve_pg(), (uint16_t *)p, gllmk__sve_f2h(v));
}
static inline void vf32_store_f16_n(void *p, size_t n, vf32 v) {
  svst1h_u32(gllmk__sve_pn(n), (uint16_t *)p, gllmk__sve_f2h(v));
}
static inline vf32 gllmk__sve_bf2f(svuint32_t h) {
  return svreinterpret_f32_u32(svlsl_n_u32_x(GLLMK__SVE_PT, h, 16));
}
/* round to nearest-even on the upper 16 bits; a NaN stays a quiet NaN */
static inline svuint32_t gllmk__sve_f2bf(vf32 v) {
  svbool_t pt = GLLMK__SVE_PT;
  svuint32_t u = svreinterpret_u32_f32(v), hi = svlsr_n_u32_x(pt, u, 16);
  svuint32_t r = svlsr_n_u32_x(pt, svadd_u32_x(pt, svadd_n_u32_x(pt, u, 0x7fff),
                                               svand_n_u32_x(pt, hi, 1)), 16);
  return svsel_u32(svcmpuo_f32(pt, v, v), svorr_n_u32_x(pt, hi, 0x40), r);
}
static inline vf32 vf32_load_bf16(const void *p) {
  return gllmk__sve_bf2f(svld1uh_u32(gllmk__sve_pg(), (const uint16_t *)p));
}
static inline vf32 vf32_load_bf16_n(const void *p, size_t n) {
  return gllmk__sve_bf2f(svld1uh_u32(gllmk__sve_pn(n), (const uint16_t *)p));
}
static inline void vf32_store_bf16(void *p, vf32 v) {
  svst1h_u32(gllmk__sve_pg(), (uint16_t *)p, gllmk__sve_f2bf(v));
}
static inline void vf32_store_bf16_n(void *p, size_t n, vf32 v) {
  svst1h_u32(gllmk__sve_pn(n), (uint16_t *)p, gllmk__sve_f2bf(v));
}

/* ---- arithmetic */
static inline vf32 vf32_add(vf32 a, vf32 b) { return svadd_f32_x(GLLMK__SVE_PT, a, b); }
static inline vf32 vf32_sub(vf32 a, vf32 b) { return svsub_f32_x(GLLMK__SVE_PT, a, b); }
static inline vf32 vf32_mul(vf32 a, vf32 b) { return svmul_f32_x(GLLMK__SVE_PT, a, b); }
static inline vf32 vf32_div(vf32 a, vf32 b) { return svdiv_f32_x(GLLMK__SVE_PT, a, b); }
static inline vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return svmla_f32_x(GLLMK__SVE_PT, c, a, b); }
static inline vf32 vf32_neg(vf32 a) { return svneg_f32_x(GLLMK__SVE_PT, a); }
static inline vf32 vf32_abs(vf32 a) { return svabs_f32_x(GLLMK__SVE_PT, a); }
static inline vf32 vf32_max(vf32 a, vf32 b) { return svsel_f32(svcmpgt_f32(GLLMK__SVE_PT, a, b), a, b); }
static inline vf32 vf32_min(vf32 a, vf32 b) { return svsel_f32(svcmplt_f32(GLLMK__SVE_PT, a, b), a, b); }
static inline vf32 vf32_sqrt(vf32 a) { return svsqrt_f32_x(GLLMK__SVE_PT, a); }
/* 8-bit estimate and two Newton steps (frecps): relative error about 2^-22 */
static inline vf32 vf32_rcp(vf32 a) {
  vf32 r = svrecpe_f32(a);
  r = vf32_mul(r, svrecps_f32(a, r));
  return vf32_mul(r, svrecps_f32(a, r));
}
static inline vf32 vf32_copysign(vf32 mag, vf32 sgn) {
  svbool_t pt = GLLMK__SVE_PT;
  return svreinterpret_f32_u32(svorr_u32_x(pt, svand_n_u32_x(pt, svreinterpret_u32_f32(mag), 0x7fffffffu),
                                           svand_n_u32_x(pt, svreinterpret_u32_f32(sgn), 0x80000000u)));
}

/* ---- reductions over the L lanes: faddv/fmaxv, pairwise trees */
static inline float vf32_reduce_add(vf32 v) { return svaddv_f32(gllmk__sve_pg(), v); }
static inline float vf32_reduce_max(vf32 v) { return svmaxv_f32(gllmk__sve_pg(), v); }

/* ---- masks: false in the lanes past L, so vmask_any looks at L lanes only */
static inline vmask vf32_lt(vf32 a, vf32 b) { return svcmplt_f32(gllmk__sve_pg(), a, b); }
static inline vmask vf32_le(vf32 a, vf32 b) { return svcmple_f32(gllmk__sve_pg(), a, b); }
static inline vmask vf32_eq(vf32 a, vf32 b) { return svcmpeq_f32(gllmk__sve_pg(), a, b); }
static inline vmask vf32_isnan(vf32 a) { return svcmpuo_f32(gllmk__sve_pg(), a, a); }
static inline vmask vmask_or(vmask a, vmask b) { return svorr_b_z(GLLMK__SVE_PT, a, b); }
static inline int vmask_any(vmask m) { return svptest_any(gllmk__sve_pg(), m); }
static inline vf32 vf32_select(vmask m, vf32 a, vf32 b) { return svsel_f32(m, a, b); }

/* ---- exponent helpers */
static inline vf32 vf32_round(vf32 x) { return svrintn_f32_x(GLLMK__SVE_PT, x); }
static inline vf32 vf32_pow2i(vf32 n) {
  svbool_t pt = GLLMK__SVE_PT;
  svint32_t e = svadd_n_s32_x(pt, svcvt_s32_f32_x(pt, svrintn_f32_x(pt, n)), 127);
  return svreinterpret_f32_s32(svlsl_n_s32_x(pt, e, 23));
}

static inline void vf32_prefetch(const void *p) { __builtin_prefetch(p); }

/* lanes (2i, 2i+1) exchanged (interleaved RoPE pairs): the words of each doubleword */
static inline vf32 vf32_swap_pairs(vf32 v) {
  return svreinterpret_f32_u64(svrevw_u64_x(svptrue_b64(), svreinterpret_u64_f32(v)));
}

/* ---- transposed copy of a rows x cols block: column t of src is one
 * strided gather (rows beyond `rows` read nothing and give 0) */
static inline void vf32_transpose_tile(float *dst, size_t ldd, const float *src, size_t lds,
                                       size_t rows, size_t cols) {
  size_t L = gllmk__sve_lanes();
  if (lds <= UINT32_MAX / VF32_MAX_LANES) {
    svbool_t pg = gllmk__sve_pg(), pr = gllmk__sve_pn(rows);
    svuint32_t idx = svindex_u32(0, (uint32_t)lds);
    for (size_t t = 0; t < cols; t++) svst1_f32(pg, dst + t * ldd, svld1_gather_u32index_f32(pr, src + t, idx));
    return;
  }
  for (size_t t = 0; t < cols; t++)
    for (size_t i = 0; i < L; i++) dst[t * ldd + i] = i < rows ? src[i * lds + t] : 0.0f;
}

/* ---- integer primitives of the quantized kernels (see simd_avx512.h) */
static inline vf32 vf32_load_i8(const int8_t *p) {
  return svcvt_f32_s32_x(GLLMK__SVE_PT, svld1sb_s32(gllmk__sve_pg(), p));
}
/* 4 L int8 products summed by fours with sdot: exact in int32 */
static inline vf32 vf32_idot4(const int8_t *q, const int8_t *x) {
  svbool_t pb = svwhilelt_b8_u64(0, 4 * gllmk__sve_lanes());
  svint32_t d = svdot_s32(svdup_n_s32(0), svld1_s8(pb, q), svld1_s8(pb, x));
  return svcvt_f32_s32_x(GLLMK__SVE_PT, d);
}
/* q <= 127 by contract, so reading it signed gives the same products */
static inline vf32 vf32_idot4_u(const int8_t *q, const int8_t *x) { return vf32_idot4(q, x); }
static inline vf32 vf32_load_i16(const int16_t *p) {
  return svcvt_f32_s32_x(GLLMK__SVE_PT, svld1sh_s32(gllmk__sve_pg(), p));
}
/* the int8 GEMM's (simd_scalar.h): signed x signed sdot over the L lanes */
typedef svint32_t vqi;
#define GLLMK_QX_OFF 0
static inline vqi vqi_zero(void) { return svdup_n_s32(0); }
static inline vqi vqi_loadu(const int32_t *p) { return svld1_s32(gllmk__sve_pg(), p); }
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) {
  svbool_t pb = svwhilelt_b8_u64(0, 4 * gllmk__sve_lanes());
  return svdot_s32(acc, svld1_s8(pb, x), svld1_s8(pb, q));
}
static inline vf32 vf32_from_vqi(vqi v) { return svcvt_f32_s32_x(GLLMK__SVE_PT, v); }
static inline vf32 vf32_bcast4(const float *f) {
  svuint32_t i = svlsr_n_u32_x(GLLMK__SVE_PT, svindex_u32(0, 1), 2);
  return svld1_gather_u32index_f32(gllmk__sve_pg(), f, i);
}
static inline void vf32_store_i8(int8_t *p, vf32 v) {
  svst1b_s32(gllmk__sve_pg(), p, svcvt_s32_f32_x(GLLMK__SVE_PT, vf32_round(v)));
}
static inline vf32 vf32_lut_idx(const float *tab, size_t ntab, const int32_t *idx) {
  (void)ntab;
  svbool_t pg = gllmk__sve_pg();
  return svld1_gather_s32index_f32(pg, tab, svld1_s32(pg, idx));
}
/* code c is bits 3c .. 3c+2: the byte holding its first bit, and the next
 * one only where the code straddles the two (so no byte past code i+L-1) */
static inline vf32 vf32_lut8_3b(const vf32_tab8 *t, const uint8_t *qs, size_t i) {
  svbool_t pt = GLLMK__SVE_PT, pg = gllmk__sve_pg();
  svuint32_t bit = svindex_u32((uint32_t)(3 * i), 3);
  svuint32_t byte = svlsr_n_u32_x(pt, bit, 3), sh = svand_n_u32_x(pt, bit, 7);
  svbool_t two = svcmpgt_n_u32(pg, sh, 5);
  svuint32_t w = svorr_u32_x(pt, svld1ub_gather_u32offset_u32(pg, qs, byte),
                             svlsl_n_u32_x(pt, svld1ub_gather_u32offset_u32(two, qs + 1, byte), 8));
  svuint32_t code = svand_n_u32_x(pt, svlsr_u32_x(pt, w, sh), 7);
  return svld1_gather_u32index_f32(pg, t->t, code);
}

#endif /* GLLMK_SIMD_SVE_H */
