/* quantize.c -- the reference quantizers of <gllmk/quant.h> and the AutoAWQ /
 * AutoGPTQ repackers
 * SPDX-License-Identifier: MIT
 *
 * GGUF formats.  Each block quantizer follows ggml's reference quantizer
 * (ggml-quants.c) operation for operation, in f32, in ggml's order:
 *   q4_0 q4_1 q5_0 q5_1 q8_0   quantize_row_<fmt>_ref
 *   q2_K ... q6_K, q8_K        quantize_row_<fmt>_ref (make_qkx2_quants,
 *                              make_q3_quants, make_qx_quants, nearest_int)
 *   iq4_nl, iq4_xs             quantize_row_iq4_nl_impl with no importance
 *                              matrix and ntry = 7, i.e. what
 *                              quantize_iq4_nl / quantize_iq4_xs (and so
 *                              ggml_quantize_chunk) do with imatrix NULL
 *   mxfp4                      quantize_row_mxfp4_ref (ggml's quantize_mxfp4
 *                              ignores the importance matrix)
 * This file is compiled with -ffp-contract=off (Makefile.am): no fused
 * multiply-add may merge two roundings, so on IEEE hardware the bytes are
 * ggml's bytes as its baseline x86-64 build writes them.  Keep every
 * expression's operand order when editing; (a*b)*c is not a*(b*c) here.
 * f16 fields are written with gllmk__f2h (round to nearest even, as
 * GGML_FP32_TO_FP16) and read back with gllmk__h2f where ggml re-reads them.
 * Blocks (alignment 1, see blocks.h) are written in place: dst needs no
 * alignment.
 *
 * gllmk formats (not ggml's; see quant.h):
 *  - AWQ4: per row and group of 128 values, min' = min(min, 0),
 *    max' = max(max, 0), s = (max' - min') / 15 rounded UP to an f16 (the
 *    smallest f16 >= the quotient; saturated at 65504), z = round(-min'/s)
 *    in 0..15, q = clamp(round(w/s) + z, 0, 15).  Taking 0 into the range
 *    keeps z in 0..15 without clamping, and rounding s up keeps every w/s + z
 *    in [-0.5, 15.5], so |w - (q - z) s| <= s/2 for every group whose range
 *    max' - min' is at most 15 * 65504 (beyond, s saturates and codes clamp).
 *  - GPTQ4: per row and group, s = amax / 7 rounded UP to an f16 (same
 *    reason), q = clamp(round(w/s) + 8, 0, 15): w/s is in [-7, 7], so
 *    |w - (q - 8) s| <= s/2 whenever amax <= 7 * 65504.
 *  Both compute w/s in double and round half away from zero.
 *  - SqueezeLLM: per block of 256, an 8-entry codebook from 1-D k-means
 *    (Lloyd), run twice: from the quantiles (i + 1/2)/8 of the sorted block
 *    and from a uniform grid on [min, max].  Each run does SQLLM_ITERS
 *    iterations of assign (nearest, ties to the lower index) and update
 *    (mean, in double); an empty cluster is moved to the value with the
 *    largest error (ties: the first value).  The centroids are sorted and
 *    rounded to f16 (saturated at +-65504); the run whose f16 codebook has
 *    the smaller squared error wins (ties: the quantile run), and every value
 *    gets the code of its nearest f16 centroid.  Lloyd never increases the
 *    error, so the result is no worse than either start (up to the f16
 *    rounding); a block with at most 8 distinct f16 values comes back
 *    exactly.  Deterministic.
 *
 * Errors, checked in this order, before anything is written: size products
 * that overflow size_t (GLLMK_E_OVERFLOW); shapes (GLLMK_E_INVAL, or
 * GLLMK_E_UNSUPPORTED for an AWQ group size other than 128); NULL pointers
 * for data that is not empty (GLLMK_E_INVAL); dst_bytes too small
 * (GLLMK_E_INVAL); non-finite inputs, out-of-range g_idx or zero_offset
 * (GLLMK_E_INVAL); GPTQ zero points other than 8 (GLLMK_E_UNSUPPORTED).
 */
#include "core/internal.h"
#include <gllmk/quant.h>
#include "quant/blocks.h"
#include "quant/iq_tables.h"
#include "simd/fp16.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QMIN(a, b) ((a) < (b) ? (a) : (b))
#define QMAX(a, b) ((a) > (b) ? (a) : (b))

#define GROUP_MAX_EPS 1e-15f

/* ====================================================================== helpers */

/* ggml's nearest_int: round to nearest even through the f32 adder, valid for
 * |v| <= 2^22 */
static inline int nearest_int(float v)
{
  float t = v + 12582912.f;
  int32_t i;
  memcpy(&i, &t, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

/* (int)v where ggml converts a float code to an integer type.  v is in
 * [0, 128) except when a block's inverse scale overflowed to inf (blocks of
 * subnormal values), where v is inf or NaN: x86 converts those to 0x80000000,
 * whose low byte, 0, is what ggml stores.  C leaves that conversion
 * undefined, so it is spelled out here. */
static inline int code_i8(float v) { return v > -1.0f && v < 128.0f ? (int)v : 0; }

static inline uint16_t f2h(float f) { return gllmk__f2h(f); }
static inline float h2f(uint16_t h) { return gllmk__h2f(h); }

static int all_finite(const float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if ((gllmk__f32_bits(x[i]) & 0x7f800000u) == 0x7f800000u)
      return 0;
  return 1;
}

/* ====================================================================== legacy 32-blocks */

static void blk_quant_q4_0(const float *x, blk_q4_0 *y)
{
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; j++) {
    const float v = x[j];
    if (amax < fabsf(v)) {
      amax = fabsf(v);
      max = v;
    }
  }
  const float d = max / -8;
  const float id = d ? 1.0f / d : 0.0f;
  gllmk__wr16(y->d, f2h(d));
  for (int j = 0; j < 16; j++) {
    const float x0 = x[j] * id;
    const float x1 = x[16 + j] * id;
    const uint8_t q0 = (uint8_t)QMIN(15, code_i8(x0 + 8.5f));
    const uint8_t q1 = (uint8_t)QMIN(15, code_i8(x1 + 8.5f));
    y->qs[j] = (uint8_t)(q0 | (q1 << 4));
  }
}

static void blk_quant_q4_1(const float *x, blk_q4_1 *y)
{
  float min = 3.40282347e+38f, max = -3.40282347e+38f;
  for (int j = 0; j < 32; j++) {
    const float v = x[j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const float d = (max - min) / 15;
  const float id = d ? 1.0f / d : 0.0f;
  gllmk__wr16(y->d, f2h(d));
  gllmk__wr16(y->m, f2h(min));
  for (int j = 0; j < 16; j++) {
    const float x0 = (x[j] - min) * id;
    const float x1 = (x[16 + j] - min) * id;
    const uint8_t q0 = (uint8_t)QMIN(15, code_i8(x0 + 0.5f));
    const uint8_t q1 = (uint8_t)QMIN(15, code_i8(x1 + 0.5f));
    y->qs[j] = (uint8_t)(q0 | (q1 << 4));
  }
}

static void blk_quant_q5_0(const float *x, blk_q5_0 *y)
{
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; j++) {
    const float v = x[j];
    if (amax < fabsf(v)) {
      amax = fabsf(v);
      max = v;
    }
  }
  const float d = max / -16;
  const float id = d ? 1.0f / d : 0.0f;
  gllmk__wr16(y->d, f2h(d));
  uint32_t qh = 0;
  for (int j = 0; j < 16; j++) {
    const float x0 = x[j] * id;
    const float x1 = x[16 + j] * id;
    const uint8_t q0 = (uint8_t)QMIN(31, code_i8(x0 + 16.5f));
    const uint8_t q1 = (uint8_t)QMIN(31, code_i8(x1 + 16.5f));
    y->qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
    qh |= ((q0 & 0x10u) >> 4) << j;
    qh |= ((q1 & 0x10u) >> 4) << (j + 16);
  }
  gllmk__wr32(y->qh, qh);
}

static void blk_quant_q5_1(const float *x, blk_q5_1 *y)
{
  float min = 3.40282347e+38f, max = -3.40282347e+38f;
  for (int j = 0; j < 32; j++) {
    const float v = x[j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const float d = (max - min) / 31;
  const float id = d ? 1.0f / d : 0.0f;
  gllmk__wr16(y->d, f2h(d));
  gllmk__wr16(y->m, f2h(min));
  uint32_t qh = 0;
  for (int j = 0; j < 16; j++) {
    const float x0 = (x[j] - min) * id;
    const float x1 = (x[16 + j] - min) * id;
    const uint8_t q0 = (uint8_t)code_i8(x0 + 0.5f);
    const uint8_t q1 = (uint8_t)code_i8(x1 + 0.5f);
    y->qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
    qh |= ((q0 & 0x10u) >> 4) << j;
    qh |= ((q1 & 0x10u) >> 4) << (j + 16);
  }
  gllmk__wr32(y->qh, qh);
}

static void blk_quant_q8_0(const float *x, blk_q8_0 *y)
{
  float amax = 0.0f;
  for (int j = 0; j < 32; j++)
    amax = QMAX(amax, fabsf(x[j]));
  const float d = amax / 127;
  const float id = d ? 1.0f / d : 0.0f;
  gllmk__wr16(y->d, f2h(d));
  for (int j = 0; j < 32; j++) {
    const float r = roundf(x[j] * id); /* in [-127, 127], or inf / NaN as above */
    y->qs[j] = (int8_t)(r >= -128.0f && r <= 127.0f ? (int)r : 0);
  }
}

/* ====================================================================== K-quant searches */

/* ggml's make_qx_quants with rmse_type 1 and no importance weights (w = x^2):
 * symmetric levels -nmax..nmax-1 (stored + nmax in L), best of 19 scales */
static float qx_quants_w2(int n, int nmax, const float *x, int8_t *L)
{
  float max = 0, amax = 0;
  for (int i = 0; i < n; i++) {
    float ax = fabsf(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (int i = 0; i < n; i++) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; i++) {
    int l = nearest_int(iscale * x[i]);
    l = QMAX(-nmax, QMIN(nmax - 1, l));
    L[i] = (int8_t)(l + nmax);
    float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; i++) {
      int l = nearest_int(iscale * x[i]);
      l = QMAX(-nmax, QMIN(nmax - 1, l));
      float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * x[i]);
        L[i] = (int8_t)(nmax + QMAX(-nmax, QMIN(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

/* ggml's make_q3_quants with do_rmse: symmetric, then up to 5 passes of
 * one-value-at-a-time refinement weighted by x^2 */
static float q3_quants(int n, int nmax, const float *x, int8_t *L)
{
  float max = 0, amax = 0;
  for (int i = 0; i < n; i++) {
    float ax = fabsf(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (int i = 0; i < n; i++) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; i++) {
    int l = nearest_int(iscale * x[i]);
    l = QMAX(-nmax, QMIN(nmax - 1, l));
    L[i] = (int8_t)l;
    float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int itry = 0; itry < 5; itry++) {
    int n_changed = 0;
    for (int i = 0; i < n; i++) {
      float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        int new_l = nearest_int(x[i] * sl2 / slx);
        new_l = QMAX(-nmax, QMIN(nmax - 1, new_l));
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = (int8_t)new_l;
            sumlx = slx;
            suml2 = sl2;
            n_changed++;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* ggml's make_qkx2_quants: asymmetric levels 0..nmax with a min <= 0,
 * best of nstep+1 scales by weighted squared (or absolute) error; returns
 * the scale, *the_min = -min */
static float qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                         float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                         int use_mad)
{
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; i++) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; i++) {
    int l = nearest_int(iscale * (x[i] - min));
    L[i] = (uint8_t)QMAX(0, QMIN(nmax, l));
    float diff = scale * L[i] + min - x[i];
    diff = use_mad ? fabsf(diff) : diff * diff;
    float w = weights[i];
    best_error += w * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; i++) {
      int l = nearest_int(iscale * (x[i] - min));
      l = QMAX(0, QMIN(nmax, l));
      Laux[i] = (uint8_t)l;
      float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; i++) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        float w = weights[i];
        cur_error += w * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; i++) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

/* the 2-bit planes of q2_K / q3_K: byte l of each 32-byte group holds
 * L[j+l], L[j+l+32], L[j+l+64], L[j+l+96] (2 bits each) */
static void pack_2bit_planes(const uint8_t *L, uint8_t *qs)
{
  for (int j = 0; j < QK_K; j += 128)
    for (int l = 0; l < 32; l++)
      qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                (L[j + l + 96] << 6));
}

/* 6-bit scale/min pairs of q4_K / q5_K (inverse of gllmk__scale_min_k4) */
static void pack_scale_min_k4(uint8_t *scales, int j, uint8_t ls, uint8_t lm)
{
  if (j < 4) {
    scales[j] = ls;
    scales[j + 4] = lm;
  } else {
    scales[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
    scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
    scales[j - 0] |= (uint8_t)((lm >> 4) << 6);
  }
}

/* ====================================================================== K-quant blocks */

static void blk_quant_q2_k(const float *x, blk_q2_k *y)
{
  uint8_t L[QK_K], Laux[16];
  float weights[16], mins[QK_K / 16], scales[QK_K / 16];
  const float q4scale = 15.f;
  float max_scale = 0, max_min = 0;

  for (int j = 0; j < QK_K / 16; j++) {
    for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
    scales[j] = qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                            0.1f, 15, 1);
    float scale = scales[j];
    if (scale > max_scale) max_scale = scale;
    float min = mins[j];
    if (min > max_min) max_min = min;
  }

  if (max_scale > 0) {
    float iscale = q4scale / max_scale;
    for (int j = 0; j < QK_K / 16; j++)
      y->scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
    gllmk__wr16(y->d, f2h(max_scale / q4scale));
  } else {
    for (int j = 0; j < QK_K / 16; j++) y->scales[j] = 0;
    gllmk__wr16(y->d, f2h(0.f));
  }
  if (max_min > 0) {
    float iscale = q4scale / max_min;
    for (int j = 0; j < QK_K / 16; j++) {
      int l = nearest_int(iscale * mins[j]);
      y->scales[j] |= (uint8_t)((unsigned)l << 4); /* l < 0 only for subnormal blocks */
    }
    gllmk__wr16(y->dmin, f2h(max_min / q4scale));
  } else {
    gllmk__wr16(y->dmin, f2h(0.f));
  }
  for (int j = 0; j < QK_K / 16; j++) {
    const float d = h2f(gllmk__rd16(y->d)) * (y->scales[j] & 0xF);
    if (!d) continue;
    const float dm = h2f(gllmk__rd16(y->dmin)) * (y->scales[j] >> 4);
    for (int ii = 0; ii < 16; ii++) {
      int l = nearest_int((x[16 * j + ii] + dm) / d);
      L[16 * j + ii] = (uint8_t)QMAX(0, QMIN(3, l));
    }
  }
  pack_2bit_planes(L, y->qs);
}

static void blk_quant_q3_k(const float *x, blk_q3_k *y)
{
  int8_t L[QK_K];
  float scales[QK_K / 16];
  float max_scale = 0, amax = 0;

  for (int j = 0; j < QK_K / 16; j++) {
    scales[j] = q3_quants(16, 4, x + 16 * j, L + 16 * j);
    float scale = fabsf(scales[j]);
    if (scale > amax) {
      amax = scale;
      max_scale = scales[j];
    }
  }

  memset(y->scales, 0, 12);
  if (max_scale) {
    float iscale = -32.f / max_scale;
    for (int j = 0; j < QK_K / 16; j++) {
      int8_t l = (int8_t)nearest_int(iscale * scales[j]);
      l = (int8_t)(QMAX(-32, QMIN(31, l)) + 32);
      if (j < 8)
        y->scales[j] = (uint8_t)(l & 0xF);
      else
        y->scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
      l >>= 4;
      y->scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
    }
    gllmk__wr16(y->d, f2h(1 / iscale));
  } else {
    gllmk__wr16(y->d, f2h(0.f));
  }

  for (int j = 0; j < QK_K / 16; j++) {
    int8_t sc = (int8_t)(j < 8 ? y->scales[j] & 0xF : y->scales[j - 8] >> 4);
    sc = (int8_t)((sc | (((y->scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    float d = h2f(gllmk__rd16(y->d)) * sc;
    if (!d) continue;
    for (int ii = 0; ii < 16; ii++) {
      int l = nearest_int(x[16 * j + ii] / d);
      l = QMAX(-4, QMIN(3, l));
      L[16 * j + ii] = (int8_t)(l + 4);
    }
  }

  /* high bit of value j in bit j/32 of hmask[j%32] */
  uint8_t Lu[QK_K];
  memset(y->hmask, 0, QK_K / 8);
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < QK_K; j++) {
    int l = L[j];
    if (l > 3) {
      y->hmask[m] |= hm;
      l -= 4;
    }
    Lu[j] = (uint8_t)l;
    if (++m == QK_K / 8) {
      m = 0;
      hm = (uint8_t)(hm << 1);
    }
  }
  pack_2bit_planes(Lu, y->qs);
}

/* q4_K and q5_K share everything but the level count and the search range */
static void kx_scales_mins(const float *x, int nmax, float rmin, int nstep, uint8_t *L,
                           uint8_t *scales12, uint8_t *d_out, uint8_t *dmin_out)
{
  uint8_t Laux[32];
  float weights[32], mins[QK_K / 32], scales[QK_K / 32];
  float max_scale = 0, max_min = 0;

  for (int j = 0; j < QK_K / 32; j++) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
    float av_x = sqrtf(sum_x2 / 32);
    for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
    scales[j] = qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                            0.1f, nstep, 0);
    float scale = scales[j];
    if (scale > max_scale) max_scale = scale;
    float min = mins[j];
    if (min > max_min) max_min = min;
  }

  float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < QK_K / 32; j++) {
    uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
    uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
    ls = QMIN(63, ls);
    lm = QMIN(63, lm);
    pack_scale_min_k4(scales12, j, ls, lm);
  }
  const uint16_t d16 = f2h(max_scale / 63.f), dmin16 = f2h(max_min / 63.f);
  gllmk__wr16(d_out, d16);
  gllmk__wr16(dmin_out, dmin16);

  for (int j = 0; j < QK_K / 32; j++) {
    uint8_t sc, m;
    gllmk__scale_min_k4(j, scales12, &sc, &m);
    const float d = h2f(d16) * sc;
    if (!d) continue;
    const float dm = h2f(dmin16) * m;
    for (int ii = 0; ii < 32; ii++) {
      int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = (uint8_t)QMAX(0, QMIN(nmax, l));
    }
  }
}

static void blk_quant_q4_k(const float *x, blk_q4_k *y)
{
  uint8_t L[QK_K];
  kx_scales_mins(x, 15, -1.f, 20, L, y->scales, y->d, y->dmin);
  uint8_t *q = y->qs;
  for (int j = 0; j < QK_K; j += 64) {
    for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    q += 32;
  }
}

static void blk_quant_q5_k(const float *x, blk_q5_k *y)
{
  uint8_t L[QK_K];
  kx_scales_mins(x, 31, -0.5f, 15, L, y->scales, y->d, y->dmin);
  uint8_t *qh = y->qh, *ql = y->qs;
  memset(qh, 0, QK_K / 8);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < QK_K; n += 64) {
    for (int j = 0; j < 32; j++) {
      int l1 = L[n + j];
      if (l1 > 15) {
        l1 -= 16;
        qh[j] |= m1;
      }
      int l2 = L[n + j + 32];
      if (l2 > 15) {
        l2 -= 16;
        qh[j] |= m2;
      }
      ql[j] = (uint8_t)(l1 | (l2 << 4));
    }
    m1 = (uint8_t)(m1 << 2);
    m2 = (uint8_t)(m2 << 2);
    ql += 32;
  }
}

static void blk_quant_q6_k(const float *x, blk_q6_k *y)
{
  int8_t L[QK_K];
  float scales[QK_K / 16];
  float max_scale = 0, max_abs_scale = 0;

  for (int ib = 0; ib < QK_K / 16; ib++) {
    const float scale = qx_quants_w2(16, 32, x + 16 * ib, L + 16 * ib);
    scales[ib] = scale;
    const float abs_scale = fabsf(scale);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scale;
    }
  }

  if (max_abs_scale < GROUP_MAX_EPS) {
    memset(y, 0, sizeof *y);
    gllmk__wr16(y->d, f2h(0.f));
    return;
  }

  float iscale = -128.f / max_scale;
  gllmk__wr16(y->d, f2h(1 / iscale));
  for (int ib = 0; ib < QK_K / 16; ib++)
    y->scales[ib] = (int8_t)QMIN(127, nearest_int(iscale * scales[ib]));

  for (int j = 0; j < QK_K / 16; j++) {
    float d = h2f(gllmk__rd16(y->d)) * y->scales[j];
    if (!d) continue;
    for (int ii = 0; ii < 16; ii++) {
      int l = nearest_int(x[16 * j + ii] / d);
      l = QMAX(-32, QMIN(31, l));
      L[16 * j + ii] = (int8_t)(l + 32);
    }
  }

  uint8_t *ql = y->ql, *qh = y->qh;
  for (int j = 0; j < QK_K; j += 128) {
    for (int l = 0; l < 32; l++) {
      const uint8_t q1 = L[j + l + 0] & 0xF;
      const uint8_t q2 = L[j + l + 32] & 0xF;
      const uint8_t q3 = L[j + l + 64] & 0xF;
      const uint8_t q4 = L[j + l + 96] & 0xF;
      ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
      ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
      qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                        ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
    }
    ql += 64;
    qh += 32;
  }
}

static void blk_quant_q8_k(const float *x, blk_q8_k *y)
{
  float max = 0, amax = 0;
  for (int j = 0; j < QK_K; j++) {
    float ax = fabsf(x[j]);
    if (ax > amax) {
      amax = ax;
      max = x[j];
    }
  }
  if (!amax) {
    /* ggml leaves bsums untouched here; they are 0 (the sums of zeros) */
    memset(y, 0, sizeof *y);
    return;
  }
  /* -127, not -128: ggml's IQ2_XXS AVX path needs |q| <= 127 */
  const float iscale = -127.f / max;
  for (int j = 0; j < QK_K; j++) {
    int v = nearest_int(iscale * x[j]);
    y->qs[j] = (int8_t)QMIN(127, v);
  }
  for (int j = 0; j < QK_K / 16; j++) {
    int sum = 0;
    for (int ii = 0; ii < 16; ii++) sum += y->qs[j * 16 + ii];
    gllmk__wr16(y->bsums + 2 * j, (uint16_t)(int16_t)sum);
  }
  const float d = 1 / iscale;
  gllmk__wr32(y->d, gllmk__f32_bits(d));
}

/* ====================================================================== IQ4_NL / IQ4_XS */

/* ggml's best_index_int8: index of the level of val[0..n-1] (ascending)
 * nearest to v; a tie goes to the upper one */
static int best_index_int8(int n, const int8_t *val, float v)
{
  if (v <= val[0]) return 0;
  if (v >= val[n - 1]) return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    int mav = (ml + mu) / 2;
    if (v < val[mav]) mu = mav;
    else ml = mav;
  }
  return v - val[mu - 1] < val[mu] - v ? mu - 1 : mu;
}

/* ggml's quantize_row_iq4_nl_impl with quant_weights NULL and ntry 7:
 * sub-blocks of 32 weighted by x^2, 15 trial scales around -max/values[0];
 * a super-block of 256 (IQ4_XS) stores 6-bit sub-scales of an f16 d.
 * L must hold super_block_size entries. */
static void iq4_nl_impl(int super_block_size, const float *x, uint16_t *dh, uint8_t *q4,
                        uint16_t *scales_h, uint8_t *scales_l, float *scales, uint8_t *L)
{
  const int block_size = 32, ntry = 7;
  const int8_t *values = gllmk__kvalues_iq4nl;
  float weight[32];

  memset(q4, 0, (size_t)super_block_size / 2);
  dh[0] = f2h(0.f);

  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < super_block_size / block_size; ib++) {
    const float *xb = x + ib * block_size;
    uint8_t *Lb = L + ib * block_size;
    for (int j = 0; j < block_size; j++) weight[j] = xb[j] * xb[j];
    float amax = 0, max = 0;
    for (int j = 0; j < block_size; j++) {
      float ax = fabsf(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    if (amax < GROUP_MAX_EPS) {
      scales[ib] = 0;
      continue;
    }
    float d = -max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < block_size; j++) {
      float al = id * xb[j];
      int l = best_index_int8(16, values, al);
      Lb[j] = (uint8_t)l;
      float q = values[l];
      float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -ntry; itry <= ntry; itry++) {
      id = (itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < block_size; j++) {
        float al = id * xb[j];
        int l = best_index_int8(16, values, al);
        float q = values[l];
        float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    float abs_d = fabsf(d);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = d;
    }
  }

  if (super_block_size / block_size > 1) {
    int nb = super_block_size / block_size;
    memset(scales_h, 0, (size_t)((nb + 7) / 8) * sizeof(uint16_t));
    float d = -max_scale / 32;
    dh[0] = f2h(d);
    float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < nb; ib++) {
      int l = nearest_int(id * scales[ib]);
      l = QMAX(-32, QMIN(31, l));
      float dl = d * l;
      float idl = dl ? 1 / dl : 0.f;
      uint8_t *Lb = L + ib * block_size;
      const float *xb = x + ib * block_size;
      for (int j = 0; j < block_size; j++) Lb[j] = (uint8_t)best_index_int8(16, values, idl * xb[j]);
      l += 32;
      uint8_t l_l = (uint8_t)(l & 0xf);
      uint8_t l_h = (uint8_t)(l >> 4);
      if (ib % 2 == 0) scales_l[ib / 2] = l_l;
      else scales_l[ib / 2] |= (uint8_t)(l_l << 4);
      scales_h[ib / 8] |= (uint16_t)(l_h << 2 * (ib % 8));
    }
  } else {
    dh[0] = f2h(scales[0]);
    float id = scales[0] ? 1 / scales[0] : 0;
    for (int j = 0; j < super_block_size; j++) L[j] = (uint8_t)best_index_int8(16, values, id * x[j]);
  }

  for (int i = 0; i < super_block_size / 32; i++)
    for (int j = 0; j < 16; j++)
      q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

static void blk_quant_iq4_nl(const float *x, blk_iq4_nl *y)
{
  uint8_t L[32];
  float scale;
  uint16_t d, unused_h;
  iq4_nl_impl(32, x, &d, y->qs, &unused_h, NULL, &scale, L);
  gllmk__wr16(y->d, d);
}

static void blk_quant_iq4_xs(const float *x, blk_iq4_xs *y)
{
  uint8_t L[QK_K];
  float scales[QK_K / 32];
  uint16_t d, scales_h;
  iq4_nl_impl(QK_K, x, &d, y->qs, &scales_h, y->scales_l, scales, L);
  gllmk__wr16(y->d, d);
  gllmk__wr16(y->scales_h, scales_h);
}

/* ====================================================================== SqueezeLLM */

#define SQLLM_K 8
#define SQLLM_ITERS 24 /* Lloyd has converged by then on 256 values */

static int cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* index of the centroid nearest to v (ties: the lower index) */
static int nearest_centroid(const double *c, double v)
{
  int best = 0;
  double bd = fabs(v - c[0]);
  for (int j = 1; j < SQLLM_K; j++) {
    double d = fabs(v - c[j]);
    if (d < bd) {
      bd = d;
      best = j;
    }
  }
  return best;
}

/* Lloyd's iterations from the centroids in c; then c is sorted, rounded to
 * f16 (saturated) and the bit patterns go to cb.  Returns the squared error
 * of coding x with the f16 centroids. */
static double sqllm_lloyd(const float *x, double *c, uint16_t *cb)
{
  double sum[SQLLM_K];
  int cnt[SQLLM_K];
  uint8_t code[QK_K];

  for (int it = 0; it < SQLLM_ITERS; it++) {
    for (int j = 0; j < SQLLM_K; j++) {
      sum[j] = 0;
      cnt[j] = 0;
    }
    for (int i = 0; i < QK_K; i++) code[i] = (uint8_t)nearest_centroid(c, x[i]);
    for (int i = 0; i < QK_K; i++) cnt[code[i]]++;
    /* an empty cluster takes the value that is worst off */
    for (int j = 0; j < SQLLM_K; j++) {
      if (cnt[j]) continue;
      int worst = 0;
      double we = -1;
      for (int i = 0; i < QK_K; i++) {
        double e = fabs(x[i] - c[code[i]]);
        if (e > we) {
          we = e;
          worst = i;
        }
      }
      if (we <= 0) break; /* every value already exact */
      cnt[code[worst]]--;
      code[worst] = (uint8_t)j;
      cnt[j] = 1;
      c[j] = x[worst];
    }
    for (int i = 0; i < QK_K; i++) sum[code[i]] += x[i];
    for (int j = 0; j < SQLLM_K; j++)
      if (cnt[j]) c[j] = sum[j] / cnt[j];
  }

  qsort(c, SQLLM_K, sizeof c[0], cmp_double);
  for (int j = 0; j < SQLLM_K; j++) {
    double v = c[j] > 65504.0 ? 65504.0 : c[j] < -65504.0 ? -65504.0 : c[j];
    cb[j] = f2h((float)v);
    c[j] = h2f(cb[j]);
  }
  double err = 0;
  for (int i = 0; i < QK_K; i++) {
    double e = x[i] - c[nearest_centroid(c, x[i])];
    err += e * e;
  }
  return err;
}

static void blk_quant_squeezellm(const float *x, blk_sqllm *y)
{
  float sorted[QK_K];
  double cq[SQLLM_K], cu[SQLLM_K];
  uint16_t cbq[SQLLM_K], cbu[SQLLM_K];

  /* two starts: the quantiles (i + 1/2)/8, and a uniform grid on [min, max] */
  memcpy(sorted, x, sizeof sorted);
  qsort(sorted, QK_K, sizeof sorted[0], cmp_float);
  const double lo = sorted[0], hi = sorted[QK_K - 1];
  for (int j = 0; j < SQLLM_K; j++) {
    cq[j] = sorted[(2 * j + 1) * QK_K / (2 * SQLLM_K)];
    cu[j] = lo + (hi - lo) * (j + 0.5) / SQLLM_K;
  }
  double eq = sqllm_lloyd(x, cq, cbq), eu = sqllm_lloyd(x, cu, cbu);
  const double *c = eu < eq ? cu : cq;
  const uint16_t *cb = eu < eq ? cbu : cbq;

  for (int j = 0; j < SQLLM_K; j++) gllmk__wr16(y->cb + 2 * j, cb[j]);
  memset(y->qs, 0, sizeof y->qs);
  for (int i = 0; i < QK_K; i++) {
    unsigned q = (unsigned)nearest_centroid(c, x[i]);
    unsigned bit = 3u * (unsigned)i;
    y->qs[bit / 8] |= (uint8_t)(q << (bit % 8));
    if (bit % 8 > 5) y->qs[bit / 8 + 1] |= (uint8_t)(q >> (8 - bit % 8));
  }
}

/* ====================================================================== MXFP4 */

/* ggml's E2M1 levels, doubled (the same table as unpack.h's) */
static const int8_t kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* ggml's best_index_mxfp4: the first index of the smallest |level * d - x|
 * (a tie keeps the lower index, so 0 beats -0 and 1 beats 2) */
static int best_index_mxfp4(float x, float d)
{
  int best = 0;
  float best_err = fabsf((float)kvalues_mxfp4[0] * d - x);
  for (int i = 1; i < 16; i++) {
    float err = fabsf((float)kvalues_mxfp4[i] * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return best;
}

/* ggml's quantize_row_mxfp4_ref for one block: e = floor(log2(amax)) - 2 +
 * 127 (so amax / 2^(e-127) is in [4, 8), the top levels 4 and 6 of E2M1),
 * 0 when the block is all zero, and every value to its nearest level times
 * d = 2^(e-128) (ggml_e8m0_to_fp32_half).  log2f is the C library's, as in
 * ggml.  For amax < 2^-125 the exponent is negative and ggml's conversion
 * to uint8_t is undefined in C; this takes it modulo 256, as ggml's x86-64
 * build does (cvttss2si, low byte). */
static void blk_quant_mxfp4(const float *x, blk_mxfp4 *y)
{
  float amax = 0.0f;
  for (int j = 0; j < 32; j++)
    if (amax < fabsf(x[j])) amax = fabsf(x[j]);
  uint8_t e = 0;
  if (amax > 0.0f) {
    float ef = floorf(log2f(amax)) - 2 + 127;
    e = (uint8_t)(unsigned)(int)ef;
  }
  uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
  float d;
  memcpy(&d, &bits, sizeof d);
  y->e = e;
  for (int j = 0; j < 16; j++) {
    unsigned x0 = (unsigned)best_index_mxfp4(x[j], d);
    unsigned x1 = (unsigned)best_index_mxfp4(x[16 + j], d);
    y->qs[j] = (uint8_t)(x0 | x1 << 4);
  }
}

/* ====================================================================== public block quantizers */

typedef void (*blk_fn)(const float *x, void *blk);

/* validate, then quantize n / bs blocks of bb bytes */
static gllmk_status quant_blocks(const float *src, size_t n, void *dst, size_t dst_bytes,
                                 size_t bs, size_t bb, blk_fn fn)
{
  size_t nb = n / bs, bytes;
  if (!gllmk__mul(nb, bb, &bytes)) return GLLMK_E_OVERFLOW;
  if (n % bs) return GLLMK_E_INVAL;
  if (n && (!src || !dst)) return GLLMK_E_INVAL;
  if (dst_bytes < bytes) return GLLMK_E_INVAL;
  if (!all_finite(src, n)) return GLLMK_E_INVAL;
  unsigned char *out = dst;
  for (size_t i = 0; i < nb; i++) fn(src + i * bs, out + i * bb);
  return GLLMK_OK;
}

#define QUANT_PUBLIC(name, blk_t, bs)                                                   \
  static void blk_##name##_fn(const float *x, void *b) { blk_quant_##name(x, (blk_t *)b); } \
  gllmk_status gllmk_quant_##name(const float *src, size_t n, void *dst, size_t dst_bytes) \
  {                                                                                     \
    return quant_blocks(src, n, dst, dst_bytes, (bs), sizeof(blk_t), blk_##name##_fn);  \
  }

QUANT_PUBLIC(q4_0, blk_q4_0, 32)
QUANT_PUBLIC(q4_1, blk_q4_1, 32)
QUANT_PUBLIC(q5_0, blk_q5_0, 32)
QUANT_PUBLIC(q5_1, blk_q5_1, 32)
QUANT_PUBLIC(q8_0, blk_q8_0, 32)
QUANT_PUBLIC(q2_k, blk_q2_k, QK_K)
QUANT_PUBLIC(q3_k, blk_q3_k, QK_K)
QUANT_PUBLIC(q4_k, blk_q4_k, QK_K)
QUANT_PUBLIC(q5_k, blk_q5_k, QK_K)
QUANT_PUBLIC(q6_k, blk_q6_k, QK_K)
QUANT_PUBLIC(q8_k, blk_q8_k, QK_K)
QUANT_PUBLIC(iq4_nl, blk_iq4_nl, 32)
QUANT_PUBLIC(iq4_xs, blk_iq4_xs, QK_K)
QUANT_PUBLIC(mxfp4, blk_mxfp4, 32)
QUANT_PUBLIC(squeezellm, blk_sqllm, QK_K)

gllmk_status gllmk_quantize(gllmk_qtype t, const float *src, size_t n, void *dst,
                            size_t dst_bytes)
{
  switch (t) {
  /* the rows of quant/qformats.def with a reference quantizer (quant Q) */
#define QUANT_CASE_Q(tok, QT) case GLLMK_##QT: return gllmk_quant_##tok(src, n, dst, dst_bytes);
#define QUANT_CASE_N(tok, QT)
#define GLLMK_QFMT(tok, QT, name, bs, bb, kind, dot, fam, sc, d_off, m_off, quant) QUANT_CASE_##quant(tok, QT)
#include "quant/qformats.def"
#undef GLLMK_QFMT
#undef QUANT_CASE_Q
#undef QUANT_CASE_N
  case GLLMK_SQUEEZELLM: return gllmk_quant_squeezellm(src, n, dst, dst_bytes);
  default: return GLLMK_E_UNSUPPORTED;
  }
}

/* ====================================================================== AWQ4 / GPTQ4 */

/* the smallest f16 >= v (v >= 0 finite), saturated at 65504 */
static uint16_t f16_ceil(double v)
{
  if (!(v > 0)) return 0;
  if (v >= 65504.0) return 0x7bff;
  uint16_t h = f2h((float)v);
  if ((double)h2f(h) < v) h++; /* the next f16 up: +1 on the bit pattern */
  return h;
}

static inline void put_nibble(uint8_t *row, size_t j, unsigned q)
{
  if (j & 1) row[j / 2] = (uint8_t)((row[j / 2] & 0x0F) | (q << 4));
  else row[j / 2] = (uint8_t)((row[j / 2] & 0xF0) | q);
}

static inline unsigned get_nibble32(int32_t w, unsigned i)
{
  return ((uint32_t)w >> (4 * i)) & 0xFu;
}

static inline int clamp15(double v)
{
  return v < 0 ? 0 : v > 15 ? 15 : (int)v;
}

gllmk_status gllmk_quant_awq4(const float *w, size_t n, size_t k, uint8_t *packed,
                              uint8_t *zeros, gllmk_f16 *scales)
{
  size_t nk;
  if (!gllmk__mul(n, k, &nk)) return GLLMK_E_OVERFLOW;
  if (k % 128) return GLLMK_E_INVAL;
  if (nk && (!w || !packed || !zeros || !scales)) return GLLMK_E_INVAL;
  if (!all_finite(w, nk)) return GLLMK_E_INVAL;

  const size_t ng = k / 128, zb = (ng + 1) / 2;
  for (size_t r = 0; r < n; r++) {
    const float *wr = w + r * k;
    uint8_t *pr = packed + r * (k / 2), *zr = zeros + r * zb;
    if (zb) zr[zb - 1] = 0; /* an odd group count leaves the last high nibble 0 */
    for (size_t g = 0; g < ng; g++) {
      const float *x = wr + g * 128;
      double mn = 0, mx = 0;
      for (int j = 0; j < 128; j++) {
        if (x[j] < mn) mn = x[j];
        if (x[j] > mx) mx = x[j];
      }
      uint16_t sh = f16_ceil((mx - mn) / 15);
      double s = h2f(sh);
      int z = s > 0 ? clamp15(round(-mn / s)) : 0;
      for (int j = 0; j < 128; j++) {
        int q = s > 0 ? clamp15(round(x[j] / s) + z) : 0;
        put_nibble(pr, g * 128 + (size_t)j, (unsigned)q);
      }
      put_nibble(zr, g, (unsigned)z);
      scales[r * ng + g].bits = sh;
    }
  }
  return GLLMK_OK;
}

gllmk_status gllmk_quant_gptq4(const float *w, size_t n, size_t k, size_t group_size,
                               uint8_t *packed, int32_t *g_idx, gllmk_f16 *scales)
{
  size_t nk;
  if (!gllmk__mul(n, k, &nk)) return GLLMK_E_OVERFLOW;
  if (group_size == 0 || k % 2 || k % group_size || k / group_size > (size_t)INT32_MAX)
    return GLLMK_E_INVAL;
  if ((k && !g_idx) || (nk && (!w || !packed || !scales))) return GLLMK_E_INVAL;
  if (!all_finite(w, nk)) return GLLMK_E_INVAL;

  const size_t ng = k / group_size;
  for (size_t j = 0; j < k; j++) g_idx[j] = (int32_t)(j / group_size);
  for (size_t r = 0; r < n; r++) {
    const float *wr = w + r * k;
    uint8_t *pr = packed + r * (k / 2);
    for (size_t g = 0; g < ng; g++) {
      const float *x = wr + g * group_size;
      double amax = 0;
      for (size_t j = 0; j < group_size; j++)
        if (fabs(x[j]) > amax) amax = fabs(x[j]);
      uint16_t sh = f16_ceil(amax / 7);
      double s = h2f(sh);
      for (size_t j = 0; j < group_size; j++) {
        int q = s > 0 ? clamp15(round(x[j] / s) + 8) : 8;
        put_nibble(pr, g * group_size + j, (unsigned)q);
      }
      scales[r * ng + g].bits = sh;
    }
  }
  return GLLMK_OK;
}

/* ====================================================================== repacking */

/* AutoAWQ's GEMM packing (awq/modules/linear/gemm.py, WQLinear_GEMM.from_linear;
 * awq/utils/packing_utils.py): int32 word c of a qweight / qzeros row holds
 * output columns 8c..8c+7, and the nibble at bits 4i is column
 * 8c + AWQ_ORDER[i], AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7}.  Its inverse,
 * AWQ_REVERSE_ORDER = {0, 4, 1, 5, 2, 6, 3, 7}, gives the nibble of a column:
 * column 8c + m is nibble awq_nibble_of_col[m]. */
static const unsigned awq_nibble_of_col[8] = { 0, 4, 1, 5, 2, 6, 3, 7 };

gllmk_status gllmk_repack_awq(const int32_t *qweight, const int32_t *qzeros,
                              const gllmk_f16 *scales, size_t n, size_t k, size_t group_size,
                              uint8_t *packed, uint8_t *zeros, gllmk_f16 *scales_out)
{
  size_t nk;
  if (!gllmk__mul(n, k, &nk)) return GLLMK_E_OVERFLOW;
  if (group_size != 128) return GLLMK_E_UNSUPPORTED;
  if (k % 128 || n % 8) return GLLMK_E_INVAL;
  if (nk && (!qweight || !qzeros || !scales || !packed || !zeros || !scales_out))
    return GLLMK_E_INVAL;

  const size_t ng = k / 128, zb = (ng + 1) / 2, nw = n / 8;
  for (size_t c = 0; c < n; c++) {
    const size_t word = c / 8;
    const unsigned nib = awq_nibble_of_col[c % 8];
    uint8_t *pr = packed + c * (k / 2), *zr = zeros + c * zb;
    for (size_t j = 0; j < k; j += 2) {
      unsigned lo = get_nibble32(qweight[j * nw + word], nib);
      unsigned hi = get_nibble32(qweight[(j + 1) * nw + word], nib);
      pr[j / 2] = (uint8_t)(lo | (hi << 4));
    }
    if (zb) zr[zb - 1] = 0;
    for (size_t g = 0; g < ng; g++) {
      put_nibble(zr, g, get_nibble32(qzeros[g * nw + word], nib));
      scales_out[c * ng + g] = scales[g * n + c];
    }
  }
  return GLLMK_OK;
}

/* AutoGPTQ's packing (auto_gptq/nn_modules/qlinear, QuantLinear.pack):
 * qweight[r][c] holds input rows 8r..8r+7 of output column c, row 8r + i in
 * the nibble at bits 4i; qzeros[g][c/8] holds the zero point of column c in
 * nibble c % 8 (sequential), stored minus one in the original "gptq" format
 * (zero_offset 1). */
gllmk_status gllmk_repack_gptq(const int32_t *qweight, const int32_t *qzeros,
                               const gllmk_f16 *scales, const int32_t *g_idx, size_t n, size_t k,
                               size_t n_groups, int zero_offset, uint8_t *packed,
                               int32_t *g_idx_out, gllmk_f16 *scales_out)
{
  size_t nk, ngn;
  if (!gllmk__mul(n, k, &nk) || !gllmk__mul(n_groups, n, &ngn)) return GLLMK_E_OVERFLOW;
  if (k % 8 || n % 8 || (k && n_groups == 0) || (zero_offset != 0 && zero_offset != 1))
    return GLLMK_E_INVAL;
  if (!g_idx && k && k % n_groups) return GLLMK_E_INVAL;
  if (n_groups > (size_t)INT32_MAX) return GLLMK_E_INVAL;
  if ((k && !g_idx_out) || (nk && (!qweight || !packed)) ||
      (ngn && (!qzeros || !scales || !scales_out)))
    return GLLMK_E_INVAL;

  if (g_idx)
    for (size_t j = 0; j < k; j++)
      if (g_idx[j] < 0 || (size_t)g_idx[j] >= n_groups) return GLLMK_E_INVAL;
  for (size_t i = 0; i < ngn / 8; i++)
    for (unsigned m = 0; m < 8; m++)
      if (get_nibble32(qzeros[i], m) + (unsigned)zero_offset != 8) return GLLMK_E_UNSUPPORTED;

  const size_t gsize = g_idx ? 0 : (k ? k / n_groups : 0);
  for (size_t j = 0; j < k; j++)
    g_idx_out[j] = g_idx ? g_idx[j] : (int32_t)(j / gsize);
  for (size_t c = 0; c < n; c++) {
    uint8_t *pr = packed + c * (k / 2);
    for (size_t r = 0; r < k / 8; r++) {
      uint32_t wv = (uint32_t)qweight[r * n + c];
      for (unsigned i = 0; i < 8; i += 2)
        pr[4 * r + i / 2] = (uint8_t)(((wv >> (4 * i)) & 0xF) | (((wv >> (4 * i + 4)) & 0xF) << 4));
    }
    for (size_t g = 0; g < n_groups; g++) scales_out[c * n_groups + g] = scales[g * n + c];
  }
  return GLLMK_OK;
}
