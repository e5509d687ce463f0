/* convert.c -- the public one-value f16/bf16 conversions
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "simd/fp16.h"

float gllmk_f16_to_f32(gllmk_f16 h) { return gllmk__h2f(h.bits); }
gllmk_f16 gllmk_f32_to_f16(float f) { gllmk_f16 h = {gllmk__f2h(f)}; return h; }
float gllmk_bf16_to_f32(gllmk_bf16 h) { return gllmk__bf2f(h.bits); }
gllmk_bf16 gllmk_f32_to_bf16(float f) { gllmk_bf16 h = {gllmk__f2bf(f)}; return h; }
