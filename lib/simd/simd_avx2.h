/* simd_avx2.h -- the primitive layer for AVX2 + FMA + F16C: 8 f32 lanes
 * SPDX-License-Identifier: MIT
 * Contract: see simd_scalar.h.  Tails use vmaskps loads/stores (f32) or a
 * small local copy (f16/bf16), never touching memory past n.
 */
#ifndef GLLMK_SIMD_AVX2_H
#define GLLMK_SIMD_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef __m256 vf32;
typedef __m256 vmask;
#define VF32_LANES 8
#define VF32_MAX_LANES 8
#define GLLMK_GEMM_MR 6
#define GLLMK_GEMM_NRV 2

static inline __m256i gllmk__avx2_tailmask(size_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx);
}

/* ---- memory */
static inline vf32 vf32_zero(void) { return _mm256_setzero_ps(); }
static inline vf32 vf32_splat(float x) { return _mm256_set1_ps(x); }
static inline vf32 vf32_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf32_storeu(float *p, vf32 v) { _mm256_storeu_ps(p, v); }
static inline vf32 vf32_load_n(const float *p, size_t n) {
  return _mm256_maskload_ps(p, gllmk__avx2_tailmask(n));
}
static inline vf32 vf32_load_n_or(const float *p, size_t n, float fill) {
  __m256i m = gllmk__avx2_tailmask(n);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
static inline void vf32_store_n(float *p, size_t n, vf32 v) {
  _mm256_maskstore_ps(p, gllmk__avx2_tailmask(n), v);
}

/* ---- conversions */
static inline vf32 vf32_load_f16(const void *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
static inline vf32 vf32_load_f16_n(const void *p, size_t n) {
  uint16_t t[8] = {0};
  memcpy(t, p, n * 2);
  return vf32_load_f16(t);
}
static inline void vf32_store_f16(void *p, vf32 v) {
  _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}
static inline void vf32_store_f16_n(void *p, size_t n, vf32 v) {
  uint16_t t[8];
  vf32_store_f16(t, v);
  memcpy(p, t, n * 2);
}
static inline vf32 vf32_load_bf16(const void *p) {
  __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
static inline vf32 vf32_load_bf16_n(const void *p, size_t n) {
  uint16_t t[8] = {0};
  memcpy(t, p, n * 2);
  return vf32_load_bf16(t);
}
static inline __m128i gllmk__avx2_to_bf16(vf32 v) {
  __m256i u = _mm256_castps_si256(v);
  __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), odd), 16);
  __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));    /* quiet NaN */
  __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  r = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(r), _mm256_castsi256_ps(q), nan));
  r = _mm256_and_si256(r, _mm256_set1_epi32(0xffff));
  __m256i p = _mm256_packus_epi32(r, r);                  /* per 128-bit lane */
  p = _mm256_permute4x64_epi64(p, 0x08);                  /* lanes 0 and 2 */
  return _mm256_castsi256_si128(p);
}
static inline void vf32_store_bf16(void *p, vf32 v) {
  _mm_storeu_si128((__m128i *)p, gllmk__avx2_to_bf16(v));
}
static inline void vf32_store_bf16_n(void *p, size_t n, vf32 v) {
  uint16_t t[8];
  vf32_store_bf16(t, v);
  memcpy(p, t, n * 2);
}

/* ---- arithmetic */
static inline vf32 vf32_add(vf32 a, vf32 b) { return _mm256_add_ps(a, b); }
static inline vf32 vf32_sub(vf32 a, vf32 b) { return _mm256_sub_ps(a, b); }
static inline vf32 vf32_mul(vf32 a, vf32 b) { return _mm256_mul_ps(a, b); }
static inline vf32 vf32_div(vf32 a, vf32 b) { return _mm256_div_ps(a, b); }
static inline vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf32 vf32_neg(vf32 a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
static inline vf32 vf32_abs(vf32 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf32 vf32_max(vf32 a, vf32 b) { return _mm256_max_ps(a, b); }
static inline vf32 vf32_min(vf32 a, vf32 b) { return _mm256_min_ps(a, b); }
static inline vf32 vf32_sqrt(vf32 a) { return _mm256_sqrt_ps(a); }
/* 12-bit estimate and one Newton step: r (2 - a r) */
static inline vf32 vf32_rcp(vf32 a) {
  __m256 r = _mm256_rcp_ps(a);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(a, r, _mm256_set1_ps(1.0f)), r);
}
static inline vf32 vf32_copysign(vf32 mag, vf32 sgn) {
  const __m256 s = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sgn));
}

/* ---- reductions: (lo128 + hi128), then pairs */
static inline float vf32_reduce_add(vf32 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float vf32_reduce_max(vf32 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* ---- masks */
static inline vmask vf32_lt(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vmask vf32_le(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static inline vmask vf32_eq(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vmask vf32_isnan(vf32 a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
static inline vmask vmask_or(vmask a, vmask b) { return _mm256_or_ps(a, b); }
static inline int vmask_any(vmask m) { return _mm256_movemask_ps(m) != 0; }
static inline vf32 vf32_select(vmask m, vf32 a, vf32 b) { return _mm256_blendv_ps(b, a, m); }

/* ---- exponent helpers */
static inline vf32 vf32_round(vf32 x) {
  return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline vf32 vf32_pow2i(vf32 n) {
  __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

static inline void vf32_prefetch(const void *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* lanes (2i, 2i+1) exchanged (interleaved RoPE pairs) */
static inline vf32 vf32_swap_pairs(vf32 v) { return _mm256_permute_ps(v, 0xb1); }

/* ---- 8 x 8 transpose: unpack pairs, shuffle quads, swap 128-bit halves */
static inline __attribute__((always_inline)) void vf32_transpose(vf32 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
}

/* ---- integer primitives of the quantized kernels (see simd_avx512.h) */
static inline vf32 vf32_load_i8(const int8_t *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}
/* u8 x i8 dot products of 4 into the i32 lanes of acc: vpdpbusd where the
 * unit has AVX-VNNI (GLLMK_SIMD_AVXVNNI, the avxvnni ISA), else maddubs +
 * madd, which give the same sums while a pair sum stays within int16 (as it
 * does for every caller: |q| <= 128 against |x| <= 127) */
static inline __m256i gllmk__dpbusd256(__m256i acc, __m256i u, __m256i s) {
#if defined(GLLMK_SIMD_AVXVNNI)
  return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}
/* acc + the signed dots of 4 of q and x: |q| against x with q's sign,
 * |q| <= 128, |x| <= 127 */
static inline __m256i gllmk__sdot256(__m256i acc, const int8_t *q, const int8_t *x) {
  __m256i vq = _mm256_loadu_si256((const __m256i *)q), vx = _mm256_loadu_si256((const __m256i *)x);
  return gllmk__dpbusd256(acc, _mm256_abs_epi8(vq), _mm256_sign_epi8(vx, vq));
}
static inline vf32 vf32_idot4(const int8_t *q, const int8_t *x) {
  return _mm256_cvtepi32_ps(gllmk__sdot256(_mm256_setzero_si256(), q, x));
}
static inline vf32 vf32_idot4_u(const int8_t *q, const int8_t *x) {
  __m256i vq = _mm256_loadu_si256((const __m256i *)q), vx = _mm256_loadu_si256((const __m256i *)x);
  return _mm256_cvtepi32_ps(gllmk__dpbusd256(_mm256_setzero_si256(), vq, vx));
}
static inline vf32 vf32_load_i16(const int16_t *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p)));
}
/* the int8 GEMM's (simd_scalar.h): u8 x s8 with AVX-VNNI, else |q| against
 * x with q's sign (maddubs pair sums within int16) */
typedef __m256i vqi;
static inline vqi vqi_zero(void) { return _mm256_setzero_si256(); }
static inline vqi vqi_loadu(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
#if defined(GLLMK_SIMD_AVXVNNI)
#define GLLMK_QX_OFF 128
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) {
  return _mm256_dpbusd_avx_epi32(acc, _mm256_loadu_si256((const __m256i *)x),
                                 _mm256_loadu_si256((const __m256i *)q));
}
#else
#define GLLMK_QX_OFF 0
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) { return gllmk__sdot256(acc, q, x); }
#endif
static inline vf32 vf32_from_vqi(vqi v) { return _mm256_cvtepi32_ps(v); }
static inline float sf32_from_f16(uint16_t h) { return _cvtsh_ss(h); }
static inline void vi8_nib16_lut(const uint8_t *s, int8_t *lo, int8_t *hi, const int8_t *lut) {
  __m128i v = _mm_loadu_si128((const __m128i *)s), t = _mm_loadu_si128((const __m128i *)lut);
  __m128i m = _mm_set1_epi8(15);
  _mm_storeu_si128((__m128i *)lo, _mm_shuffle_epi8(t, _mm_and_si128(v, m)));
  _mm_storeu_si128((__m128i *)hi, _mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(v, 4), m)));
}
static inline vf32 vf32_bcast4(const float *f) {
  __m128 v = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)f));
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}
static inline void vf32_store_i8(int8_t *p, vf32 v) {
  __m256i i = _mm256_cvtps_epi32(v);
  __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
  _mm_storel_epi64((__m128i *)p, _mm_packs_epi16(w, w));
}
/* each byte widened to a 16-bit lane, (b | b << 4) & 0x0F0F puts its low
 * nibble in the even byte and its high nibble in the odd one; then the lut */
static inline void vi8_nib64_ilv(const uint8_t *s, int8_t *q, const int8_t *lut) {
  __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lut));
  for (int h = 0; h < 2; h++) {
    __m256i w = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + 16 * h)));
    w = _mm256_and_si256(_mm256_or_si256(w, _mm256_slli_epi16(w, 4)), _mm256_set1_epi16(0x0F0F));
    _mm256_storeu_si256((__m256i *)(q + 32 * h), _mm256_shuffle_epi8(t, w));
  }
}
/* tables of up to 64 entries: vpermps per bank of 8, blended by idx >> 3
 * (gathers are slow on some CPUs); larger ones: a gather */
static inline vf32 vf32_lut_idx(const float *tab, size_t ntab, const int32_t *idx) {
  __m256i ix = _mm256_loadu_si256((const __m256i *)idx);
  if (ntab > 64) return _mm256_i32gather_ps(tab, ix, 4);
  __m256 r = _mm256_permutevar8x32_ps(_mm256_loadu_ps(tab), ix);
  __m256i bank = _mm256_srli_epi32(ix, 3);
  for (size_t b = 1; 8 * b < ntab; b++) {
    __m256 m = _mm256_castsi256_ps(_mm256_cmpeq_epi32(bank, _mm256_set1_epi32((int)b)));
    r = _mm256_blendv_ps(r, _mm256_permutevar8x32_ps(_mm256_loadu_ps(tab + 8 * b), ix), m);
  }
  return r;
}
typedef __m256 vf32_tab8;
static inline vf32_tab8 vf32_tab8_f16(const void *h) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)); }
/* the 3 bytes of 8 codes in every lane, shifted to code l; vpermps reads
 * the low 3 bits of each index */
static inline vf32 vf32_lut8_3b(const vf32_tab8 *t, const uint8_t *qs, size_t i) {
  const uint8_t *p = qs + 3 * i / 8;
  int w = (int)((unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16);
  __m256i c = _mm256_srlv_epi32(_mm256_set1_epi32(w), _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21));
  return _mm256_permutevar8x32_ps(*t, c);
}

#endif /* GLLMK_SIMD_AVX2_H */
