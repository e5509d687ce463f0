/* simd_avx512.h -- the primitive layer for AVX-512 F/BW/DQ/VL: 16 f32 lanes
 * SPDX-License-Identifier: MIT
 * Contract: see simd_scalar.h.  Tails use opmask loads and stores, which never
 * touch memory past n (gcc 12's ASan does not see them: tests force every ISA).
 */
#ifndef GLLMK_SIMD_AVX512_H
#define GLLMK_SIMD_AVX512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef __m512 vf32;
typedef __mmask16 vmask;
#define VF32_LANES 16
#define VF32_MAX_LANES 16
#define GLLMK_GEMM_MR 12
#define GLLMK_GEMM_NRV 2

static inline __mmask16 gllmk__avx512_tailmask(size_t n) {
  return (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u);
}

/* ---- memory */
static inline vf32 vf32_zero(void) { return _mm512_setzero_ps(); }
static inline vf32 vf32_splat(float x) { return _mm512_set1_ps(x); }
static inline vf32 vf32_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf32_storeu(float *p, vf32 v) { _mm512_storeu_ps(p, v); }
static inline vf32 vf32_load_n(const float *p, size_t n) {
  return _mm512_maskz_loadu_ps(gllmk__avx512_tailmask(n), p);
}
static inline vf32 vf32_load_n_or(const float *p, size_t n, float fill) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), gllmk__avx512_tailmask(n), p);
}
static inline void vf32_store_n(float *p, size_t n, vf32 v) {
  _mm512_mask_storeu_ps(p, gllmk__avx512_tailmask(n), v);
}

/* ---- conversions */
static inline vf32 vf32_load_f16(const void *p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
static inline vf32 vf32_load_f16_n(const void *p, size_t n) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(gllmk__avx512_tailmask(n), p));
}
static inline void vf32_store_f16(void *p, vf32 v) {
  _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}
static inline void vf32_store_f16_n(void *p, size_t n, vf32 v) {
  _mm256_mask_storeu_epi16(p, gllmk__avx512_tailmask(n), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}
static inline vf32 vf32_load_bf16(const void *p) {
  __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
static inline vf32 vf32_load_bf16_n(const void *p, size_t n) {
  __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(gllmk__avx512_tailmask(n), p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
static inline __m256i gllmk__avx512_to_bf16(vf32 v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), odd), 16);
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(r);
}
static inline void vf32_store_bf16(void *p, vf32 v) {
  _mm256_storeu_si256((__m256i *)p, gllmk__avx512_to_bf16(v));
}
static inline void vf32_store_bf16_n(void *p, size_t n, vf32 v) {
  _mm256_mask_storeu_epi16(p, gllmk__avx512_tailmask(n), gllmk__avx512_to_bf16(v));
}

/* ---- arithmetic */
static inline vf32 vf32_add(vf32 a, vf32 b) { return _mm512_add_ps(a, b); }
static inline vf32 vf32_sub(vf32 a, vf32 b) { return _mm512_sub_ps(a, b); }
static inline vf32 vf32_mul(vf32 a, vf32 b) { return _mm512_mul_ps(a, b); }
static inline vf32 vf32_div(vf32 a, vf32 b) { return _mm512_div_ps(a, b); }
static inline vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf32 vf32_neg(vf32 a) {
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
static inline vf32 vf32_abs(vf32 a) { return _mm512_abs_ps(a); }
static inline vf32 vf32_max(vf32 a, vf32 b) { return _mm512_max_ps(a, b); }
static inline vf32 vf32_min(vf32 a, vf32 b) { return _mm512_min_ps(a, b); }
static inline vf32 vf32_sqrt(vf32 a) { return _mm512_sqrt_ps(a); }
/* 14-bit estimate and one Newton step: r (2 - a r) */
static inline vf32 vf32_rcp(vf32 a) {
  __m512 r = _mm512_rcp14_ps(a);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(a, r, _mm512_set1_ps(1.0f)), r);
}
static inline vf32 vf32_copysign(vf32 mag, vf32 sgn) {
  /* ternary logic: (sgn & signmask) | (mag & ~signmask) */
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_set1_epi32(INT32_MIN),
      _mm512_castps_si512(sgn), _mm512_castps_si512(mag), 0xca));
}

/* ---- reductions: halves, then quarters, then pairs */
static inline float vf32_reduce_add(vf32 v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float vf32_reduce_max(vf32 v) {
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* ---- masks */
static inline vmask vf32_lt(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline vmask vf32_le(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline vmask vf32_eq(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vmask vf32_isnan(vf32 a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
static inline vmask vmask_or(vmask a, vmask b) { return (vmask)(a | b); }
static inline int vmask_any(vmask m) { return m != 0; }
static inline vf32 vf32_select(vmask m, vf32 a, vf32 b) { return _mm512_mask_blend_ps(m, b, a); }

/* ---- exponent helpers */
static inline vf32 vf32_round(vf32 x) {
  return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline vf32 vf32_pow2i(vf32 n) {
  __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
  return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}

static inline void vf32_prefetch(const void *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* lanes (2i, 2i+1) exchanged (interleaved RoPE pairs) */
static inline vf32 vf32_swap_pairs(vf32 v) { return _mm512_permute_ps(v, 0xb1); }

/* ---- 16 x 16 transpose: unpack pairs, shuffle quads, then 128-bit lanes twice */
static inline __attribute__((always_inline)) void vf32_transpose(vf32 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  /* r[4q + c] holds column c (+4, +8, +12 in lanes 1..3) of rows 4q..4q+3 */
  for (int c = 0; c < 4; c++) {
    t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
    t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
  }
  for (int c = 0; c < 4; c++) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
    r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xdd);
  }
}

/* ---- integer primitives of the quantized kernels
 * vf32_load_i8(p):   lanes = (float)p[0 .. VL-1]
 * vf32_idot4(q, x):  lane i = (float) sum_{j<4} q[4i+j] * x[4i+j], over 4*VL int8
 *                    (exact: |sum| < 2^17); q may be -128, x must be > -128
 * vf32_idot4_u(q,x): the same with q read as unsigned, q <= 127
 * vf32_load_i16(p):  lanes = (float)p[0 .. VL-1]
 * sf32_from_f16(h):  one f16 bit pattern to f32 (F16C)
 * vi8_nib16_lut(s, lo, hi, lut): lo[j] = lut[s[j] & 15], hi[j] = lut[s[j] >> 4], j < 16
 * vf32_bcast4(f):    lane i = f[i / 4]
 * vf32_store_i8(p,v): p[0 .. VL-1] = v rounded to nearest-even (|v| <= 127)
 * vi8_nib64_ilv(s, q, lut): q[2j] = lut[s[j] & 15], q[2j+1] = lut[s[j] >> 4], j < 32
 *                    (packed 4-bit values, element j in byte j/2 low nibble first)
 * vf32_lut_idx(t, n, ix): lane i = t[ix[i]], 0 <= ix[i] < n; t readable up to n
 *                    rounded up to a multiple of 32
 * vf32_tab8_f16(h):  an 8-entry f32 table from the 8 f16 values at h
 * vf32_lut8_3b(&t, qs, i): lane l = t[code i + l], code c in bits 3c..3c+2 of the
 *                    little-endian stream qs; i a multiple of VL (and of 8);
 *                    reads only the bytes of codes i .. i+VL-1
 * Integer dot products are written with these, never as plain C loops: gcc 12
 * miscompiles a vectorised signed-int8 dot with VNNI flags on. */
static inline vf32 vf32_load_i8(const int8_t *p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}
/* acc + the signed dots of 4 of q and x (|q| <= 128, |x| <= 127): |q|
 * against x with q's sign, in vpdpbusd or maddubs + madd */
static inline __m512i gllmk__avx512_sdot(__m512i acc, const int8_t *q, const int8_t *x) {
  __m512i vq = _mm512_loadu_si512(q), vx = _mm512_loadu_si512(x);
  /* x with q's sign: negate x where q < 0 (AVX-512 has no vpsignb) */
  __m512i sx = _mm512_mask_sub_epi8(vx, _mm512_movepi8_mask(vq), _mm512_setzero_si512(), vx);
#ifdef GLLMK_SIMD_VNNI
  return _mm512_dpbusd_epi32(acc, _mm512_abs_epi8(vq), sx);
#else
  __m512i p = _mm512_maddubs_epi16(_mm512_abs_epi8(vq), sx);
  return _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_set1_epi16(1)));
#endif
}
static inline vf32 vf32_idot4(const int8_t *q, const int8_t *x) {
  return _mm512_cvtepi32_ps(gllmk__avx512_sdot(_mm512_setzero_si512(), q, x));
}
static inline __m512i gllmk__avx512_udot(__m512i u, __m512i x) {
#ifdef GLLMK_SIMD_VNNI
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, x);
#else
  return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), _mm512_set1_epi16(1));
#endif
}
static inline vf32 vf32_idot4_u(const int8_t *q, const int8_t *x) {
  return _mm512_cvtepi32_ps(gllmk__avx512_udot(_mm512_loadu_si512(q), _mm512_loadu_si512(x)));
}
static inline vf32 vf32_load_i16(const int16_t *p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)p)));
}
/* the int8 GEMM's (simd_scalar.h): u8 x s8 with VNNI, else |q| against x
 * with q's sign in maddubs + madd (pair sums within int16) */
typedef __m512i vqi;
static inline vqi vqi_zero(void) { return _mm512_setzero_si512(); }
static inline vqi vqi_loadu(const int32_t *p) { return _mm512_loadu_si512(p); }
#ifdef GLLMK_SIMD_VNNI
#define GLLMK_QX_OFF 128
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) {
  return _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(x), _mm512_loadu_si512(q));
}
#else
#define GLLMK_QX_OFF 0
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) { return gllmk__avx512_sdot(acc, q, x); }
#endif
static inline vf32 vf32_from_vqi(vqi v) { return _mm512_cvtepi32_ps(v); }
static inline float sf32_from_f16(uint16_t h) { return _cvtsh_ss(h); }
static inline void vi8_nib16_lut(const uint8_t *s, int8_t *lo, int8_t *hi, const int8_t *lut) {
  __m128i v = _mm_loadu_si128((const __m128i *)s), t = _mm_loadu_si128((const __m128i *)lut);
  __m128i m = _mm_set1_epi8(15);
  _mm_storeu_si128((__m128i *)lo, _mm_shuffle_epi8(t, _mm_and_si128(v, m)));
  _mm_storeu_si128((__m128i *)hi, _mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(v, 4), m)));
}
static inline vf32 vf32_bcast4(const float *f) {
  __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(f));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), v);
}
static inline void vf32_store_i8(int8_t *p, vf32 v) {
  _mm_storeu_si128((__m128i *)p, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
}
/* each byte widened to a 16-bit lane, (b | b << 4) & 0x0F0F puts its low
 * nibble in the even byte and its high nibble in the odd one; then the lut */
static inline void vi8_nib64_ilv(const uint8_t *s, int8_t *q, const int8_t *lut) {
  __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lut));
  __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)s));
  w = _mm512_ternarylogic_epi32(w, _mm512_slli_epi16(w, 4), _mm512_set1_epi16(0x0F0F), 0xA8);  /* (a | b) & c */
  _mm512_storeu_si512(q, _mm512_shuffle_epi8(t, w));
}
/* tables of up to 256 entries: vpermt2ps per bank of 32, blended by
 * idx >> 5 (gathers are slow on some CPUs); larger ones: a gather */
static inline vf32 vf32_lut_idx(const float *tab, size_t ntab, const int32_t *idx) {
  __m512i ix = _mm512_loadu_si512(idx);
  if (ntab > 256) return _mm512_i32gather_ps(ix, tab, 4);
  __m512 r = _mm512_permutex2var_ps(_mm512_loadu_ps(tab), ix, _mm512_loadu_ps(tab + 16));
  __m512i bank = _mm512_srli_epi32(ix, 5);
  for (size_t b = 1; 32 * b < ntab; b++) {
    __mmask16 m = _mm512_cmpeq_epi32_mask(bank, _mm512_set1_epi32((int)b));
    r = _mm512_mask_blend_ps(m, r, _mm512_permutex2var_ps(_mm512_loadu_ps(tab + 32 * b), ix,
                                                          _mm512_loadu_ps(tab + 32 * b + 16)));
  }
  return r;
}
/* the 8 entries twice: vpermps reads the low 4 bits of each index */
typedef __m512 vf32_tab8;
static inline vf32_tab8 vf32_tab8_f16(const void *h) {
  return _mm512_broadcast_f32x8(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)));
}
/* 16 codes = 6 bytes (a masked load), in every 128-bit lane; code l's two
 * bytes into dword l, shifted to its bit offset (bit 3 of an index picks a
 * copy of the table) */
static inline vf32 vf32_lut8_3b(const vf32_tab8 *t, const uint8_t *qs, size_t i) {
  __m512i b = _mm512_broadcastq_epi64(_mm_maskz_loadu_epi8(0x3F, qs + 3 * i / 8));
  __m512i c = _mm512_shuffle_epi8(b, _mm512_setr_epi32(
      (int)0x80800100, (int)0x80800100, (int)0x80800100, (int)0x80800201,
      (int)0x80800201, (int)0x80800201, (int)0x80800302, (int)0x80800302,
      (int)0x80800403, (int)0x80800403, (int)0x80800403, (int)0x80800504,
      (int)0x80800504, (int)0x80800504, (int)0x80800605, (int)0x80800605));
  c = _mm512_srlv_epi32(c, _mm512_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5, 0, 3, 6, 1, 4, 7, 2, 5));
  return _mm512_permutexvar_ps(c, *t);
}

#endif /* GLLMK_SIMD_AVX512_H */
