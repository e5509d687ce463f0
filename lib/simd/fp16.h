/* fp16.h -- portable f16/bf16 <-> f32 conversion of one value
 * SPDX-License-Identifier: MIT
 *
 * Round to nearest-even; NaN stays a (quiet) NaN with its sign; overflow of
 * f16 gives infinity; f16 denormals are produced and consumed exactly.  Used
 * by the scalar ISA and the core; no ISA flags needed.
 */
#ifndef GLLMK_FP16_H
#define GLLMK_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t gllmk__f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float gllmk__bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float gllmk__h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0x1f)                                    /* inf, or NaN made quiet as F16C does */
    return gllmk__bits_f32(sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0u));
  if (exp == 0) {                                     /* zero or denormal: man * 2^-24 */
    float v = (float)man * 0x1p-24f;
    return gllmk__bits_f32(sign | gllmk__f32_bits(v));
  }
  return gllmk__bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

static inline uint16_t gllmk__f2h(float f) {
  uint32_t u = gllmk__f32_bits(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* NaN, quiet */
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);       /* rounds to >= 65520: inf */
  if (a < 0x38800000u) {                                          /* below 2^-14: denormal */
    /* the f16 denormal step is 2^-24: add 0.5 (2^-1), let the f32 add round, read the bits */
    float v = gllmk__bits_f32(a) + 0.5f;
    return (uint16_t)(sign | (gllmk__f32_bits(v) - 0x3f000000u));
  }
  uint32_t mant_odd = (a >> 13) & 1u;
  a += 0xc8000fffu + mant_odd;                      /* rebias exponent (-112<<23) and round */
  return (uint16_t)(sign | (a >> 13));
}

static inline float gllmk__bf2f(uint16_t h) { return gllmk__bits_f32((uint32_t)h << 16); }

static inline uint16_t gllmk__f2bf(float f) {
  uint32_t u = gllmk__f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);   /* quiet NaN */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

#endif /* GLLMK_FP16_H */
