/* unpack.h -- every GGUF block format decoded to one common form:
 * int8 levels q[], integer sub-scales per group of 16 values, and float
 * super-scales, such that value i of the block is
 *
 *     (d * isc[i/16]) * q[i]                       (formats without a min)
 *     (d * isc[i/16]) * q[i] - dmin * imn[i/16]    (has_min: q2_K q4_K q5_K q4_1 q5_1)
 *
 * in f32 with exactly ggml's roundings: d * isc is exact (an f16 scale has 11
 * significant bits, isc at most 8), so is the product with q, and the one
 * rounding is the subtraction of the min (ggml computes d1 * q - m1 the same
 * way).  The formats that ggml writes as d * (0.5 + s) * 0.25 (iq2_*) or
 * d * (grid + delta) (iq1_*) are rescaled so q and isc are integers; the
 * factors are powers of two, so the products are still exact and equal.
 *
 * The same form feeds the integer dot products: with activations quantized
 * to int8 (x = dx * qx) a 256-block contributes
 *     d * dx * sum_g isc[g] * <q_g, qx_g>  -  dmin * dx * sum_g imn[g] * sum(qx_g).
 *
 * Plain C, static inline (GLLMK_QFN): included by every ISA unit and by the
 * core, and by cuda/embq.cu as device code (it defines GLLMK_QFN, GLLMK_QDEV
 * and the IQ tables' qualifiers as __device__; keep this file C that is also
 * C++: explicit casts from void *, no compound literals).  The
 * loops are simple enough for the compiler to vectorise in the AVX2/AVX-512
 * objects (they are not dot products, so the VNNI sign hazard of gcc 12 does
 * not apply).  The grids are read byte by byte from their little-endian
 * integers, so the code does not depend on the host byte order.
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_QUANT_UNPACK_H
#define GLLMK_QUANT_UNPACK_H

#include <stdint.h>
#include <string.h>
#include "quant/blocks.h"
#include "quant/iq_tables.h"
#include "simd/fp16.h"

/* nibble -> level tables for vi8_nib16_lut */
static GLLMK_QDEV const int8_t gllmk__lut_m8[16] = {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7};
static GLLMK_QDEV const int8_t gllmk__lut_id[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
/* MXFP4's E2M1 codes as doubled levels (ggml's kvalues_mxfp4): code 8 is -0,
 * an integer 0 here as in ggml */
static GLLMK_QDEV const int8_t gllmk__kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* one decoded block: up to 256 values, groups of 16 */
typedef struct gllmk__qblk {
  float d, dmin;
  int has_min;
  int16_t isc[16], imn[16];
} gllmk__qblk;

/* the unpackers are inlined into each kernel, where the compiler can
 * vectorise them for the ISA at hand */
#define GLLMK_UNPACK GLLMK_QDEV inline __attribute__((always_inline))
/* loop unrolling the compiler would not do on its own (gcc only) */
#if defined(__GNUC__) && !defined(__clang__)
#define GLLMK_UNROLL4 _Pragma("GCC unroll 4")
#define GLLMK_UNROLL8 _Pragma("GCC unroll 8")
#else
#define GLLMK_UNROLL4
#define GLLMK_UNROLL8
#endif

typedef void (*gllmk__unpack_fn)(const void *blk, int8_t *q, gllmk__qblk *s);

/* sf32_from_f16 is the ISA's one-value conversion (F16C where there is one) */
GLLMK_QFN float gllmk__ldh(const uint8_t *h) { return sf32_from_f16(gllmk__rd16(h)); }

/* 8 grid bytes of entry e, negated where bit j of sgn is set.  Byte-wise
 * with 64-bit words: -v = (v ^ 0xFF) + 1, and every grid magnitude is >= 1,
 * so no byte carries into the next. */
GLLMK_QFN uint64_t gllmk__signed8(uint64_t e, unsigned sgn) {
  uint64_t m = gllmk__signmask8[sgn & 0xFF];
  return (e ^ m) + (m & 0x0101010101010101ull);
}
GLLMK_QFN void gllmk__st64(int8_t *q, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(q, &v, 8);
#else
  for (int j = 0; j < 8; j++) q[j] = (int8_t)(uint8_t)(v >> (8 * j));
#endif
}
GLLMK_QFN void gllmk__grid8(int8_t *q, uint64_t e, unsigned sgn) { gllmk__st64(q, gllmk__signed8(e, sgn)); }
/* the same with a 7-bit sign index of ksigns_iq2xs: its byte mask is ksigns64[i] */
GLLMK_QFN void gllmk__grid8_k(int8_t *q, uint64_t e, unsigned i7) {
  uint64_t m = gllmk__ksigns64[i7];
  gllmk__st64(q, (e ^ m) + (m & 0x0101010101010101ull));
}
GLLMK_QFN void gllmk__grid44_k(int8_t *q, uint32_t e0, uint32_t e1, unsigned i7) {
  gllmk__grid8_k(q, (uint64_t)e0 | (uint64_t)e1 << 32, i7);
}
GLLMK_QFN void gllmk__grid44(int8_t *q, uint32_t e0, uint32_t e1, unsigned sgn) {
  gllmk__st64(q, gllmk__signed8((uint64_t)e0 | (uint64_t)e1 << 32, sgn));
}

/* ---------------------------------------------------------------- 32-blocks */

GLLMK_QFN void gllmk__one_scale(gllmk__qblk *s, float d, int ng) {
  s->d = d;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < ng; g++) s->isc[g] = 1, s->imn[g] = 0;
}
GLLMK_QFN void gllmk__min_scale(gllmk__qblk *s, float d, float m, int ng) {
  /* ggml: d * q + m; here d * q - (-m), the same rounding */
  s->d = d;
  s->dmin = -m;
  s->has_min = 1;
  for (int g = 0; g < ng; g++) s->isc[g] = 1, s->imn[g] = 1;
}

static GLLMK_UNPACK void gllmk__unpack_q4_0(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q4_0 *b = (const blk_q4_0 *)blk;
  vi8_nib16_lut(b->qs, q, q + 16, gllmk__lut_m8);
  gllmk__one_scale(s, gllmk__ldh(b->d), 2);
}
static GLLMK_UNPACK void gllmk__unpack_q4_1(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q4_1 *b = (const blk_q4_1 *)blk;
  vi8_nib16_lut(b->qs, q, q + 16, gllmk__lut_id);
  gllmk__min_scale(s, gllmk__ldh(b->d), gllmk__ldh(b->m), 2);
}
static GLLMK_UNPACK void gllmk__unpack_q5_0(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q5_0 *b = (const blk_q5_0 *)blk;
  uint32_t qh = gllmk__rd32(b->qh);
  for (int j = 0; j < 16; j++) {
    int h0 = (int)((qh >> j) << 4 & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
    q[j] = (int8_t)(((b->qs[j] & 0xF) | h0) - 16);
    q[j + 16] = (int8_t)(((b->qs[j] >> 4) | h1) - 16);
  }
  gllmk__one_scale(s, gllmk__ldh(b->d), 2);
}
static GLLMK_UNPACK void gllmk__unpack_q5_1(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q5_1 *b = (const blk_q5_1 *)blk;
  uint32_t qh = gllmk__rd32(b->qh);
  for (int j = 0; j < 16; j++) {
    int h0 = (int)((qh >> j) << 4 & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
    q[j] = (int8_t)((b->qs[j] & 0xF) | h0);
    q[j + 16] = (int8_t)((b->qs[j] >> 4) | h1);
  }
  gllmk__min_scale(s, gllmk__ldh(b->d), gllmk__ldh(b->m), 2);
}
static GLLMK_UNPACK void gllmk__unpack_q8_0(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q8_0 *b = (const blk_q8_0 *)blk;
  memcpy(q, b->qs, 32);
  gllmk__one_scale(s, gllmk__ldh(b->d), 2);
}
static GLLMK_UNPACK void gllmk__unpack_iq4_nl(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq4_nl *b = (const blk_iq4_nl *)blk;
  vi8_nib16_lut(b->qs, q, q + 16, gllmk__kvalues_iq4nl);
  gllmk__one_scale(s, gllmk__ldh(b->d), 2);
}

/* MXFP4's scale: half the E8M0 value, 2^(e - 128) exactly, as ggml's
 * ggml_e8m0_to_fp32_half (subnormal for e < 2: 2^-128 and 2^-127; e = 255
 * gives 2^127, never NaN).  A level (|q| <= 12, at most 2 significant bits)
 * times it is exact in f32 (or overflows to inf, as in ggml). */
GLLMK_QFN float gllmk__e8m0_half(uint8_t e) {
  uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}
static GLLMK_UNPACK void gllmk__unpack_mxfp4(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_mxfp4 *b = (const blk_mxfp4 *)blk;
  vi8_nib16_lut(b->qs, q, q + 16, gllmk__kvalues_mxfp4);
  gllmk__one_scale(s, gllmk__e8m0_half(b->e), 2);
}

/* ---------------------------------------------------------------- K-quants */

static GLLMK_UNPACK void gllmk__unpack_q2_k(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q2_k *b = (const blk_q2_k *)blk;
  for (int n = 0; n < 2; n++) {
    const uint8_t *qs = b->qs + 32 * n;
    for (int j = 0; j < 4; j++)
      for (int l = 0; l < 32; l++) q[128 * n + 32 * j + l] = (int8_t)((qs[l] >> (2 * j)) & 3);
  }
  for (int g = 0; g < 16; g++) {
    s->isc[g] = (int16_t)(b->scales[g] & 0xF);
    s->imn[g] = (int16_t)(b->scales[g] >> 4);
  }
  s->d = gllmk__ldh(b->d);
  s->dmin = gllmk__ldh(b->dmin);
  s->has_min = 1;
}

static GLLMK_UNPACK void gllmk__unpack_q3_k(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q3_k *b = (const blk_q3_k *)blk;
  const uint32_t km1 = 0x03030303u, km2 = 0x0f0f0f0fu;
  uint32_t aux[4];
  aux[0] = gllmk__rd32(b->scales), aux[1] = gllmk__rd32(b->scales + 4), aux[2] = gllmk__rd32(b->scales + 8);
  uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & km2) | (((tmp >> 4) & km1) << 4);
  aux[3] = ((aux[1] >> 4) & km2) | (((tmp >> 6) & km1) << 4);
  aux[0] = (aux[0] & km2) | (((tmp >> 0) & km1) << 4);
  aux[1] = (aux[1] & km2) | (((tmp >> 2) & km1) << 4);
  for (int g = 0; g < 16; g++) s->isc[g] = (int16_t)((int)((aux[g / 4] >> (8 * (g % 4))) & 0xFF) - 32), s->imn[g] = 0;
  for (int n = 0; n < 2; n++) {
    const uint8_t *qs = b->qs + 32 * n;
    for (int j = 0; j < 4; j++) {
      uint8_t m = (uint8_t)(1u << (4 * n + j));
      for (int l = 0; l < 32; l++)
        q[128 * n + 32 * j + l] = (int8_t)(((qs[l] >> (2 * j)) & 3) - ((b->hmask[l] & m) ? 0 : 4));
    }
  }
  s->d = gllmk__ldh(b->d);
  s->dmin = 0.0f;
  s->has_min = 0;
}

/* the 8 6-bit scales and mins of q4_K / q5_K (gllmk__scale_min_k4 for j = 0..7),
 * computed 4 at a time in 32-bit words */
static GLLMK_UNPACK void gllmk__k4_scales(const uint8_t *sc, gllmk__qblk *s) {
  uint32_t u0 = gllmk__rd32(sc), u1 = gllmk__rd32(sc + 4), u2 = gllmk__rd32(sc + 8);
  uint64_t d = (uint64_t)((u2 & 0x0f0f0f0fu) | ((u0 >> 6) & 0x03030303u) << 4) << 32 | (u0 & 0x3f3f3f3fu);
  uint64_t m = (uint64_t)(((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 6) & 0x03030303u) << 4) << 32 | (u1 & 0x3f3f3f3fu);
  for (int j = 0; j < 8; j++) {
    int16_t dv = (int16_t)((d >> (8 * j)) & 0xFF), mv = (int16_t)((m >> (8 * j)) & 0xFF);
    s->isc[2 * j] = dv, s->isc[2 * j + 1] = dv;
    s->imn[2 * j] = mv, s->imn[2 * j + 1] = mv;
  }
}

static GLLMK_UNPACK void gllmk__unpack_q4_k(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q4_k *b = (const blk_q4_k *)blk;
  for (int j = 0; j < 4; j++) {
    vi8_nib16_lut(b->qs + 32 * j, q + 64 * j, q + 64 * j + 32, gllmk__lut_id);
    vi8_nib16_lut(b->qs + 32 * j + 16, q + 64 * j + 16, q + 64 * j + 48, gllmk__lut_id);
  }
  gllmk__k4_scales(b->scales, s);
  s->d = gllmk__ldh(b->d);
  s->dmin = gllmk__ldh(b->dmin);
  s->has_min = 1;
}

static GLLMK_UNPACK void gllmk__unpack_q5_k(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q5_k *b = (const blk_q5_k *)blk;
  for (int j = 0; j < 4; j++) {
    const uint8_t *qs = b->qs + 32 * j;
    for (int l = 0; l < 32; l++) {
      q[64 * j + l] = (int8_t)((qs[l] & 0xF) | (((b->qh[l] >> (2 * j)) & 1) << 4));
      q[64 * j + 32 + l] = (int8_t)((qs[l] >> 4) | (((b->qh[l] >> (2 * j + 1)) & 1) << 4));
    }
  }
  gllmk__k4_scales(b->scales, s);
  s->d = gllmk__ldh(b->d);
  s->dmin = gllmk__ldh(b->dmin);
  s->has_min = 1;
}

static GLLMK_UNPACK void gllmk__unpack_q6_k(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q6_k *b = (const blk_q6_k *)blk;
  for (int n = 0; n < 2; n++) {
    const uint8_t *ql = b->ql + 64 * n, *qh = b->qh + 32 * n;
    int8_t *y = q + 128 * n;
    for (int l = 0; l < 32; l++) {
      y[l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      y[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      y[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      y[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
  for (int g = 0; g < 16; g++) s->isc[g] = b->scales[g], s->imn[g] = 0;
  s->d = gllmk__ldh(b->d);
  s->dmin = 0.0f;
  s->has_min = 0;
}

static GLLMK_UNPACK void gllmk__unpack_q8_k(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_q8_k *b = (const blk_q8_k *)blk;
  memcpy(q, b->qs, 256);
  float d;
  memcpy(&d, b->d, sizeof d);
  gllmk__one_scale(s, d, 16);
}

/* ---------------------------------------------------------------- IQ formats */

static GLLMK_UNPACK void gllmk__unpack_iq2_xxs(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq2_xxs *b = (const blk_iq2_xxs *)blk;
  const uint8_t *qs = b->qs;
  for (int ib = 0; ib < 8; ib++) {
    const uint8_t *a0 = qs + 8 * ib;
    uint32_t a1 = gllmk__rd32(qs + 8 * ib + 4);
    GLLMK_UNROLL4
    for (int l = 0; l < 4; l++)
      gllmk__grid8_k(q + 32 * ib + 8 * l, gllmk__iq2xxs_grid[a0[l]], (a1 >> (7 * l)) & 127);
    /* d * (0.5 + s) * 0.25 = (d / 8) * (2 s + 1) */
    s->isc[2 * ib] = s->isc[2 * ib + 1] = (int16_t)(2 * (a1 >> 28) + 1);
  }
  s->d = gllmk__ldh(b->d) * 0.125f;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

static GLLMK_UNPACK void gllmk__unpack_iq2_xs(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq2_xs *b = (const blk_iq2_xs *)blk;
  const uint8_t *qs = b->qs;
  for (int ib = 0; ib < 8; ib++) {
    GLLMK_UNROLL4
    for (int l = 0; l < 4; l++) {
      unsigned v = gllmk__rd16(qs + 2 * (4 * ib + l));
      gllmk__grid8_k(q + 32 * ib + 8 * l, gllmk__iq2xs_grid[v & 511], v >> 9);
    }
    s->isc[2 * ib] = (int16_t)(2 * (b->scales[ib] & 0xF) + 1);
    s->isc[2 * ib + 1] = (int16_t)(2 * (b->scales[ib] >> 4) + 1);
  }
  s->d = gllmk__ldh(b->d) * 0.125f;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

static GLLMK_UNPACK void gllmk__unpack_iq2_s(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq2_s *b = (const blk_iq2_s *)blk;
  const uint8_t *qs = b->qs, *signs = b->qs + 32;
  for (int ib = 0; ib < 8; ib++) {
    GLLMK_UNROLL4
    for (int l = 0; l < 4; l++) {
      unsigned idx = qs[4 * ib + l] | ((b->qh[ib] << (8 - 2 * l)) & 0x300);
      gllmk__grid8(q + 32 * ib + 8 * l, gllmk__iq2s_grid[idx], signs[4 * ib + l]);
    }
    s->isc[2 * ib] = (int16_t)(2 * (b->scales[ib] & 0xF) + 1);
    s->isc[2 * ib + 1] = (int16_t)(2 * (b->scales[ib] >> 4) + 1);
  }
  s->d = gllmk__ldh(b->d) * 0.125f;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

static GLLMK_UNPACK void gllmk__unpack_iq3_xxs(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq3_xxs *b = (const blk_iq3_xxs *)blk;
  const uint8_t *qs = b->qs, *ss = b->qs + 64;
  for (int ib = 0; ib < 8; ib++) {
    uint32_t a = gllmk__rd32(ss + 4 * ib);
    GLLMK_UNROLL4
    for (int l = 0; l < 4; l++) {
      gllmk__grid44_k(q + 32 * ib + 8 * l, gllmk__iq3xxs_grid[qs[8 * ib + 2 * l]],
                      gllmk__iq3xxs_grid[qs[8 * ib + 2 * l + 1]], (a >> (7 * l)) & 127);
    }
    /* d * (0.5 + s) * 0.5 = (d / 4) * (2 s + 1) */
    s->isc[2 * ib] = s->isc[2 * ib + 1] = (int16_t)(2 * (a >> 28) + 1);
  }
  s->d = gllmk__ldh(b->d) * 0.25f;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

static GLLMK_UNPACK void gllmk__unpack_iq3_s(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq3_s *b = (const blk_iq3_s *)blk;
  for (int ib = 0; ib < 8; ib++) {
    const uint8_t *qs = b->qs + 8 * ib;
    unsigned qh = b->qh[ib];
    GLLMK_UNROLL4
    for (int l = 0; l < 4; l++) {
      unsigned sg = b->signs[4 * ib + l];
      gllmk__grid44(q + 32 * ib + 8 * l, gllmk__iq3s_grid[qs[2 * l] | ((qh << (8 - 2 * l)) & 256)],
                    gllmk__iq3s_grid[qs[2 * l + 1] | ((qh << (7 - 2 * l)) & 256)], sg);
    }
    int nib = (b->scales[ib / 2] >> (4 * (ib % 2))) & 0xF;
    s->isc[2 * ib] = s->isc[2 * ib + 1] = (int16_t)(1 + 2 * nib);
  }
  s->d = gllmk__ldh(b->d);
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

/* iq1: dl * (g + delta) with delta = +-1/8 = (dl / 8) * (8 g +- 1) */
GLLMK_QFN void gllmk__iq1_group(int8_t *q, uint64_t e, int neg) {
  /* per byte: 8 g (the shift's spill from the byte below masked off), then
   * +1 or -1 (0xFF) added byte-wise without carries between bytes */
  uint64_t a = (e << 3) & 0xF8F8F8F8F8F8F8F8ull;
  uint64_t b = 0x0101010101010101ull | ((uint64_t)0 - (uint64_t)(neg != 0));   /* no branch */
  const uint64_t lo = 0x7F7F7F7F7F7F7F7Full, hi = 0x8080808080808080ull;
  gllmk__st64(q, ((a & lo) + (b & lo)) ^ ((a ^ b) & hi));
}

static GLLMK_UNPACK void gllmk__unpack_iq1_s(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq1_s *b = (const blk_iq1_s *)blk;
  const uint8_t *qh8 = b->qh;
  for (int ib = 0; ib < 8; ib++) {
    unsigned h = gllmk__rd16(qh8 + 2 * ib);
    GLLMK_UNROLL4
    for (int l = 0; l < 4; l++)
      gllmk__iq1_group(q + 32 * ib + 8 * l, gllmk__iq1s_grid[b->qs[4 * ib + l] | (((h >> (3 * l)) & 7) << 8)],
                       (h & 0x8000) != 0);
    s->isc[2 * ib] = s->isc[2 * ib + 1] = (int16_t)(2 * ((h >> 12) & 7) + 1);
  }
  s->d = gllmk__ldh(b->d) * 0.125f;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

static GLLMK_UNPACK void gllmk__unpack_iq1_m(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq1_m *b = (const blk_iq1_m *)blk;
  unsigned sc[4];
  for (int i = 0; i < 4; i++) sc[i] = gllmk__rd16(b->scales + 2 * i);
  uint16_t d16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
  for (int ib = 0; ib < 8; ib++) {
    const uint8_t *qs = b->qs + 4 * ib, *qh = b->qh + 2 * ib;
    int8_t *y = q + 32 * ib;
    gllmk__iq1_group(y, gllmk__iq1s_grid[qs[0] | ((qh[0] << 8) & 0x700u)], qh[0] & 0x08);
    gllmk__iq1_group(y + 8, gllmk__iq1s_grid[qs[1] | ((qh[0] << 4) & 0x700u)], qh[0] & 0x80);
    gllmk__iq1_group(y + 16, gllmk__iq1s_grid[qs[2] | ((qh[1] << 8) & 0x700u)], qh[1] & 0x08);
    gllmk__iq1_group(y + 24, gllmk__iq1s_grid[qs[3] | ((qh[1] << 4) & 0x700u)], qh[1] & 0x80);
    unsigned w = sc[ib / 2];
    s->isc[2 * ib] = (int16_t)(2 * ((w >> (6 * (ib % 2))) & 7) + 1);
    s->isc[2 * ib + 1] = (int16_t)(2 * ((w >> (6 * (ib % 2) + 3)) & 7) + 1);
  }
  s->d = gllmk__h2f(d16) * 0.125f;
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

static GLLMK_UNPACK void gllmk__unpack_iq4_xs(const void *restrict blk, int8_t *restrict q, gllmk__qblk *restrict s) {
  const blk_iq4_xs *b = (const blk_iq4_xs *)blk;
  unsigned sh = gllmk__rd16(b->scales_h);
  for (int ib = 0; ib < 8; ib++) {
    vi8_nib16_lut(b->qs + 16 * ib, q + 32 * ib, q + 32 * ib + 16, gllmk__kvalues_iq4nl);
    int ls = ((b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
    s->isc[2 * ib] = s->isc[2 * ib + 1] = (int16_t)(ls - 32);
  }
  s->d = gllmk__ldh(b->d);
  s->dmin = 0.0f;
  s->has_min = 0;
  for (int g = 0; g < 16; g++) s->imn[g] = 0;
}

#endif /* GLLMK_QUANT_UNPACK_H */
