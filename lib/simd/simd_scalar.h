/* simd_scalar.h -- the primitive layer for the scalar ISA: one f32 lane
 * SPDX-License-Identifier: MIT
 *
 * Contract of every simd_<isa>.h (templates use nothing else):
 *   vf32, VF32_LANES, vmask                      vector of f32 lanes, lane mask; VF32_LANES
 *                                                may be a run-time value (a power of two <= 16,
 *                                                SVE), so templates keep no arrays of vf32
 *   VF32_MAX_LANES                               a constant >= VF32_LANES, for buffers
 *   vf32_zero/splat/loadu/storeu                 full-vector memory access, no alignment
 *   vf32_load_n(p,n) / _load_n_or(p,n,fill) / vf32_store_n(p,n,v)
 *                                                0 <= n <= LANES lanes; never touch p[n..]
 *   vf32_load_f16[_n] / vf32_store_f16[_n], same for bf16  convert on access (RNE)
 *   add sub mul div fma(a,b,c)=a*b+c neg abs max min sqrt
 *   vf32_rcp(x) ~ 1/x, relative error <= 2^-21, for finite x >= 1 (fast division)
 *                                                max/min(a,b): b when either is NaN (x86 rule)
 *   vf32_reduce_add (fixed tree, lane 0 first) / vf32_reduce_max
 *   vf32_lt/le/eq/isnan -> vmask; vmask_or; vmask_any; vf32_select(m,a,b) = m ? a : b
 *   vf32_round (nearest-even, |x| < 2^22), vf32_pow2i(n) = 2^n for integral n in [-126,127]
 *   vf32_copysign(mag, sgn), vf32_prefetch(p)
 *   vf32_transpose_tile(dst, ldd, src, lds, rows, cols)   rows, cols <= LANES: for t < cols,
 *                                                i < LANES: dst[t ldd + i] = src[i lds + t] for
 *                                                i < rows, else 0; reads no other src element
 *                                                (simd_math.h has it for the fixed-width layers,
 *                                                on their in-register vf32_transpose(r[LANES]))
 *   vf32_swap_pairs(v)                           lanes 2i <-> 2i+1 (used only when LANES > 1)
 * The integer primitives of the quantized kernels are listed in simd_avx512.h;
 * the int8 GEMM's (quant_tpl.h, qgemm) are:
 *   vqi                                          VF32_LANES int32 lanes
 *   vqi_zero(), vqi_loadu(const int32_t *p)
 *   vqi_dot4(acc, xe, q)                         lane i of acc += sum_{j<4} X(xe[4i+j]) * q[4i+j]
 *                                                over 4 VF32_LANES bytes, exact in int32 (at most
 *                                                16 products of |X| <= 255, |q| <= 128 per lane
 *                                                between conversions), where X(b) is b read as
 *                                                unsigned when GLLMK_QX_OFF is 128 and as signed
 *                                                when it is 0
 *   GLLMK_QX_OFF                                 how activations are stored for vqi_dot4: level +
 *                                                GLLMK_QX_OFF (128 where the dot is u8 x s8, as
 *                                                vpdpbusd; 0 where it is signed x signed); the
 *                                                kernel subtracts GLLMK_QX_OFF * sum(q)
 *   vf32_from_vqi(v)                             int32 lanes to f32 (exact below 2^24)
 * Tuning: GLLMK_GEMM_MR, GLLMK_GEMM_NRV (B vectors per micro-tile row).
 */
#ifndef GLLMK_SIMD_SCALAR_H
#define GLLMK_SIMD_SCALAR_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "simd/fp16.h"

typedef float vf32;
typedef int vmask;
#define VF32_LANES 1
#define VF32_MAX_LANES 1
#define GLLMK_GEMM_MR 4
#define GLLMK_GEMM_NRV 4

/* ---- memory */
static inline vf32 vf32_zero(void) { return 0.0f; }
static inline vf32 vf32_splat(float x) { return x; }
static inline vf32 vf32_loadu(const float *p) { return *p; }
static inline void vf32_storeu(float *p, vf32 v) { *p = v; }
static inline vf32 vf32_load_n_or(const float *p, size_t n, float fill) { return n ? *p : fill; }
static inline vf32 vf32_load_n(const float *p, size_t n) { return n ? *p : 0.0f; }
static inline void vf32_store_n(float *p, size_t n, vf32 v) { if (n) *p = v; }

/* ---- conversions */
static inline vf32 vf32_load_f16(const void *p) { uint16_t h; memcpy(&h, p, 2); return gllmk__h2f(h); }
static inline vf32 vf32_load_f16_n(const void *p, size_t n) { return n ? vf32_load_f16(p) : 0.0f; }
static inline void vf32_store_f16(void *p, vf32 v) { uint16_t h = gllmk__f2h(v); memcpy(p, &h, 2); }
static inline void vf32_store_f16_n(void *p, size_t n, vf32 v) { if (n) vf32_store_f16(p, v); }
static inline vf32 vf32_load_bf16(const void *p) { uint16_t h; memcpy(&h, p, 2); return gllmk__bf2f(h); }
static inline vf32 vf32_load_bf16_n(const void *p, size_t n) { return n ? vf32_load_bf16(p) : 0.0f; }
static inline void vf32_store_bf16(void *p, vf32 v) { uint16_t h = gllmk__f2bf(v); memcpy(p, &h, 2); }
static inline void vf32_store_bf16_n(void *p, size_t n, vf32 v) { if (n) vf32_store_bf16(p, v); }

/* ---- arithmetic */
static inline vf32 vf32_add(vf32 a, vf32 b) { return a + b; }
static inline vf32 vf32_sub(vf32 a, vf32 b) { return a - b; }
static inline vf32 vf32_mul(vf32 a, vf32 b) { return a * b; }
static inline vf32 vf32_div(vf32 a, vf32 b) { return a / b; }
/* no FMA instruction in the baseline: a*b+c rounded twice, like the plain C a reader expects */
static inline vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return a * b + c; }
static inline vf32 vf32_neg(vf32 a) { return -a; }
static inline vf32 vf32_abs(vf32 a) { return fabsf(a); }
static inline vf32 vf32_max(vf32 a, vf32 b) { return a > b ? a : b; }
static inline vf32 vf32_min(vf32 a, vf32 b) { return a < b ? a : b; }
static inline vf32 vf32_sqrt(vf32 a) { return sqrtf(a); }
static inline vf32 vf32_rcp(vf32 a) { return 1.0f / a; }
static inline vf32 vf32_copysign(vf32 mag, vf32 sgn) { return copysignf(mag, sgn); }

/* ---- reductions */
static inline float vf32_reduce_add(vf32 v) { return v; }
static inline float vf32_reduce_max(vf32 v) { return v; }

/* ---- masks */
static inline vmask vf32_lt(vf32 a, vf32 b) { return a < b; }
static inline vmask vf32_le(vf32 a, vf32 b) { return a <= b; }
static inline vmask vf32_eq(vf32 a, vf32 b) { return a == b; }
static inline vmask vf32_isnan(vf32 a) { return a != a; }
static inline vmask vmask_or(vmask a, vmask b) { return a | b; }
static inline int vmask_any(vmask m) { return m != 0; }
static inline vf32 vf32_select(vmask m, vf32 a, vf32 b) { return m ? a : b; }

/* ---- exponent helpers */
static inline vf32 vf32_round(vf32 x) {   /* nearest-even via the 1.5*2^23 trick */
  return (x + 12582912.0f) - 12582912.0f;  /* exact for |x| < 2^22 without -ffast-math */
}
static inline vf32 vf32_pow2i(vf32 n) {
  /* out-of-range n (NaN from an upstream NaN) must not reach the conversion,
   * which C leaves undefined; the caller's result is NaN anyway */
  int32_t i = n >= -127.0f && n <= 128.0f ? (int32_t)n : 0;
  return gllmk__bits_f32((uint32_t)(i + 127) << 23);
}

static inline void vf32_prefetch(const void *p) { (void)p; }

/* lanes (2i, 2i+1) exchanged (interleaved RoPE pairs) */
static inline vf32 vf32_swap_pairs(vf32 v) { return v; }   /* one lane: never called */

static inline void vf32_transpose(vf32 r[1]) { (void)r; }

/* ---- integer primitives of the quantized kernels (see simd_avx512.h) */
static inline vf32 vf32_load_i8(const int8_t *p) { return (float)p[0]; }
static inline vf32 vf32_idot4(const int8_t *q, const int8_t *x) {
  return (float)(q[0] * x[0] + q[1] * x[1] + q[2] * x[2] + q[3] * x[3]);
}
static inline vf32 vf32_idot4_u(const int8_t *q, const int8_t *x) {
  const uint8_t *u = (const uint8_t *)q;
  return (float)(u[0] * x[0] + u[1] * x[1] + u[2] * x[2] + u[3] * x[3]);
}
static inline vf32 vf32_load_i16(const int16_t *p) { return (float)p[0]; }
static inline float sf32_from_f16(uint16_t h) { return gllmk__h2f(h); }
typedef int32_t vqi;
#define GLLMK_QX_OFF 0
static inline vqi vqi_zero(void) { return 0; }
static inline vqi vqi_loadu(const int32_t *p) { return *p; }
static inline vqi vqi_dot4(vqi acc, const int8_t *x, const int8_t *q) {
  return acc + x[0] * q[0] + x[1] * q[1] + x[2] * q[2] + x[3] * q[3];
}
static inline vf32 vf32_from_vqi(vqi v) { return (float)v; }
static inline vf32 vf32_bcast4(const float *f) { return f[0]; }
static inline void vi8_nib16_lut(const uint8_t *s, int8_t *lo, int8_t *hi, const int8_t *lut) {
  for (int j = 0; j < 16; j++) lo[j] = lut[s[j] & 15], hi[j] = lut[s[j] >> 4];
}
static inline void vf32_store_i8(int8_t *p, vf32 v) { p[0] = (int8_t)(int)vf32_round(v); }
static inline void vi8_nib64_ilv(const uint8_t *s, int8_t *q, const int8_t *lut) {
  for (int j = 0; j < 32; j++) q[2 * j] = lut[s[j] & 15], q[2 * j + 1] = lut[s[j] >> 4];
}
static inline vf32 vf32_lut_idx(const float *tab, size_t ntab, const int32_t *idx) { (void)ntab; return tab[idx[0]]; }
typedef struct { float t[8]; } vf32_tab8;
static inline vf32_tab8 vf32_tab8_f16(const void *h) {
  vf32_tab8 r;
  for (int i = 0; i < 8; i++) r.t[i] = vf32_load_f16((const uint8_t *)h + 2 * i);
  return r;
}
static inline vf32 vf32_lut8_3b(const vf32_tab8 *t, const uint8_t *qs, size_t i) {
  size_t b = 3 * i;
  unsigned w = qs[b / 8];
  if ((b & 7) > 5) w |= (unsigned)qs[b / 8 + 1] << 8;   /* the code straddles two bytes */
  return t->t[(w >> (b & 7)) & 7];
}

#endif /* GLLMK_SIMD_SCALAR_H */
