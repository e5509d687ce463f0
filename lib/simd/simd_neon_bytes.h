/* simd_neon_bytes.h -- fixed-size Advanced SIMD helpers shared by the neon
 * and sve primitive layers: they depend on no vector width (an SVE CPU also
 * has Advanced SIMD), so both layers use the same code.
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_SIMD_NEON_BYTES_H
#define GLLMK_SIMD_NEON_BYTES_H

#include <arm_neon.h>
#include <stdint.h>

static inline float sf32_from_f16(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}
static inline void vi8_nib16_lut(const uint8_t *s, int8_t *lo, int8_t *hi, const int8_t *lut) {
  uint8x16_t v = vld1q_u8(s);
  int8x16_t t = vld1q_s8(lut);
  vst1q_s8(lo, vqtbl1q_s8(t, vandq_u8(v, vdupq_n_u8(15))));
  vst1q_s8(hi, vqtbl1q_s8(t, vshrq_n_u8(v, 4)));
}
/* low and high nibbles through the table, then zipped: q[2j], q[2j+1] */
static inline void vi8_nib64_ilv(const uint8_t *s, int8_t *q, const int8_t *lut) {
  int8x16_t t = vld1q_s8(lut);
  for (int h = 0; h < 2; h++) {
    uint8x16_t v = vld1q_u8(s + 16 * h);
    int8x16_t lo = vqtbl1q_s8(t, vandq_u8(v, vdupq_n_u8(15)));
    int8x16_t hi = vqtbl1q_s8(t, vshrq_n_u8(v, 4));
    vst1q_s8(q + 32 * h, vzip1q_s8(lo, hi));
    vst1q_s8(q + 32 * h + 16, vzip2q_s8(lo, hi));
  }
}
typedef struct { float t[8]; } vf32_tab8;
static inline vf32_tab8 vf32_tab8_f16(const void *h) {
  vf32_tab8 r;
  vst1q_f32(r.t, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)h))));
  vst1q_f32(r.t + 4, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)h + 4))));
  return r;
}

#endif /* GLLMK_SIMD_NEON_BYTES_H */
