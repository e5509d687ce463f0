/* qfast.h -- hand-written decode GEMV for the most used GGUF formats, for the
 * avx2, avx512 and vnni units (DESIGN.md §3: hot paths may be overridden per
 * ISA; the template in kernels/quant_tpl.h stays the reference and serves
 * the other formats).
 * SPDX-License-Identifier: MIT
 *
 * Included by lib/isa/{avx2,avxvnni,avx512,vnni}/kernels_*.c after their primitive
 * header and before kernels/instantiate.h; defines gllmk__qmvx_<fmt>__<ISA>,
 * which isa/x86/overrides.def puts in the table in place of the template's
 * kernels.
 *
 * Same contract and arithmetic as the template's qmv kernels, up to the
 * order of the f32 sums: each 256-value unit is decoded, here straight into
 * registers (no store and reload of the levels), as int8 levels and
 * per-16-value factors wsc (and wmn for formats with a min); the activations
 * are the int8 chunks of quant_act; a chunk's integer dot is exact, scaled by
 * wsc * dx in f32, and the unit's products are summed as a tree.
 */
#ifndef GLLMK_QFAST_X86_H
#define GLLMK_QFAST_X86_H

#include <immintrin.h>
#include <string.h>
#include "kernels/kernels.h"
#include "quant/unpack.h"

#define QX__(name, isa) gllmk__qmvx_##name##__##isa
#define QX_(name, isa) QX__(name, isa)
#define QX(name) QX_(name, GLLMK_ISA)

#if VF32_LANES == 16
/* ---------------------------------------------------------------- 512-bit */
#define QX_NV 4                     /* int8 vectors per unit (64 levels each) */
typedef __m512i qxv;
static inline qxv qx_udot(qxv u, qxv x) {   /* u unsigned <= 127 (255 with VNNI) */
#ifdef GLLMK_SIMD_VNNI
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, x);
#else
  return _mm512_madd_epi16(_mm512_maddubs_epi16(u, x), _mm512_set1_epi16(1));
#endif
}
static inline qxv qx_sdot(qxv q, qxv x) {   /* q signed, x > -128 */
  __m512i sx = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(q), _mm512_setzero_si512(), x);
#ifdef GLLMK_SIMD_VNNI
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(q), sx);
#else
  return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(q), sx), _mm512_set1_epi16(1));
#endif
}
static inline qxv qx_load(const int8_t *p) { return _mm512_loadu_si512(p); }
/* two 32-level halves into one vector */
static inline qxv qx_join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
/* 16 int8 as f32 (vector v of QX_NW) */
static inline vf32 qx_i8f(__m128i s, int v) {
  (void)v;
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s));
}
#else
/* ---------------------------------------------------------------- 256-bit */
#define QX_NV 8                     /* int8 vectors per unit (32 levels each) */
typedef __m256i qxv;
static inline qxv qx_udot(qxv u, qxv x) {   /* u unsigned <= 127 (255 with AVX-VNNI) */
  return gllmk__dpbusd256(_mm256_setzero_si256(), u, x);
}
static inline qxv qx_sdot(qxv q, qxv x) {
  return gllmk__dpbusd256(_mm256_setzero_si256(), _mm256_abs_epi8(q), _mm256_sign_epi8(x, q));
}
static inline qxv qx_load(const int8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline vf32 qx_i8f(__m128i s, int v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v ? _mm_unpackhi_epi64(s, s) : s));
}
#endif
#define QX_NW (16 / VF32_LANES)      /* vf32 vectors of per-16 factors */
/* 16 f32 wsc values from 16 int8 scales (any sign) times d */
static inline void qx_wsc_v(vf32 *w, __m128i s, float d) {
  for (int v = 0; v < QX_NW; v++) w[v] = vf32_mul(qx_i8f(s, v), vf32_splat(d));
}
/* levels stored as q + c (unsigned): the min term c wsc takes c off */
static inline void qx_offset(vf32 *wmn, const vf32 *wsc, float c) {
  for (int v = 0; v < QX_NW; v++) wmn[v] = vf32_mul(wsc[v], vf32_splat(c));
}
static inline void qx_wsc_i8(vf32 *w, const int8_t *sc16, float d) {
  qx_wsc_v(w, _mm_loadu_si128((const __m128i *)sc16), d);
}
/* 8 int8 scales in a 64-bit word, each for 32 values: duplicated per 16 */
static inline __m128i qx_dup8b(uint64_t v) {
  __m128i x = _mm_cvtsi64_si128((long long)v);
  return _mm_unpacklo_epi8(x, x);
}

/* 32 levels from 16 packed bytes: low nibbles then high nibbles */
static inline __m256i qx_nib16(const uint8_t *p) {
  __m128i v = _mm_loadu_si128((const __m128i *)p), m = _mm_set1_epi8(15);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}
static inline __m256i qx_lut32(__m256i idx, const int8_t *lut) {
  __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lut));
  return _mm256_shuffle_epi8(t, idx);
}

/* The decoded unit: levels, per-16 factors, and whether there is a min term */
#if VF32_LANES == 16
typedef __mmask64 qx_neg;           /* bit j set: level j is negated */
#else
typedef __m256i qx_neg;             /* byte j -1: level j is negated, else +1 */
#endif
typedef struct {
  qxv q[QX_NV];
  qx_neg neg[QX_NV];                /* with QX_SIGNM only */
  vf32 wsc[QX_NW], wmn[QX_NW];
  int has_min;
} qx_unit;
/* dot kind of the IQ grids: magnitudes q and sign masks neg, the signs moved
 * to the activations */
#define QX_SIGNM (-1)
#if VF32_LANES == 16
static inline qxv qx_mdot(qxv q, qx_neg k, qxv x) {
  return qx_udot(q, _mm512_mask_sub_epi8(x, k, _mm512_setzero_si512(), x));
}
#else
static inline qxv qx_mdot(qxv q, qx_neg s, qxv x) { return qx_udot(q, _mm256_sign_epi8(x, s)); }
#endif

/* acc[i] += <unit u, activation i>; accm[i] += min term.  signed_q: dot kind
 * (0: unsigned levels; 1: signed; QX_SIGNM: magnitudes and sign masks).
 * Levels q - c of the formats with an offset c are dotted unsigned, and
 * c wsc goes to the min term (qx_offset): <q - c, x> = <q, x> - c sum(x),
 * the sum being the activations' per-16 sums xb16.
 * The unit's QX_NV scaled dots are summed as a tree first, so that the row's
 * accumulator sees one add per unit (a chain of QX_NV FMAs through it was
 * the bound); the loops are unrolled so that the levels stay in registers. */
static inline __attribute__((always_inline)) void
QX(dot)(const qx_unit *w, int signed_q, const struct gllmk__qmv *p, size_t i0, size_t mb, size_t u,
        vf32 *acc, vf32 *accm) {
  for (size_t i = 0; i < mb; i++) {
    const int8_t *xq = p->qs + (i0 + i) * p->act_stride + 256 * u;
    const float *dx = p->dx16 + (i0 + i) * p->units * 16 + 16 * u;
    vf32 fac[QX_NW];   /* per-16 factors, spread to the dot lanes by a permute */
    GLLMK_UNROLL8
    for (int v = 0; v < QX_NW; v++) fac[v] = vf32_mul(w->wsc[v], vf32_loadu(dx + v * VF32_LANES));
    vf32 part[QX_NV];
    GLLMK_UNROLL8
    for (int t = 0; t < QX_NV; t++) {
      qxv x = qx_load(xq + t * 4 * VF32_LANES);
      qxv d = signed_q == QX_SIGNM ? qx_mdot(w->q[t], w->neg[t], x)
              : signed_q ? qx_sdot(w->q[t], x) : qx_udot(w->q[t], x);
#if VF32_LANES == 16   /* lanes of step t: groups 4t .. 4t+3, four lanes each */
      __m512i ix = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                    _mm512_set1_epi32(4 * t));
      part[t] = vf32_mul(_mm512_cvtepi32_ps(d), _mm512_permutexvar_ps(ix, fac[0]));
#else                  /* groups 2t, 2t+1 of fac[t / 4] */
      __m256i ix = _mm256_add_epi32(_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_set1_epi32(2 * (t % 4)));
      part[t] = vf32_mul(_mm256_cvtepi32_ps(d), _mm256_permutevar8x32_ps(fac[t / 4], ix));
#endif
    }
    GLLMK_UNROLL8
    for (int h = QX_NV / 2; h >= 1; h /= 2)
      GLLMK_UNROLL8
      for (int t = 0; t < h; t++) part[t] = vf32_add(part[t], part[t + h]);
    acc[i] = vf32_add(acc[i], part[0]);
    if (w->has_min) {
      const float *xb = p->xb16 + (i0 + i) * p->units * 16 + 16 * u;
      vf32 am = vf32_mul(w->wmn[0], vf32_loadu(xb));
      GLLMK_UNROLL8
      for (int v = 1; v < QX_NW; v++) am = vf32_fma(w->wmn[v], vf32_loadu(xb + v * VF32_LANES), am);
      accm[i] = vf32_add(accm[i], am);
    }
  }
}

/* every cache line of the unit QX_PF_BYTES ahead (one prefetch per unit
 * left the hardware prefetcher to find the rest of the lines) */
#define QX_PF_BYTES 4096
#define QX_PREFETCH(row, u, ub)                                                              \
  for (size_t o_ = 0; o_ < (ub); o_ += 64)                                                   \
    _mm_prefetch((const char *)((row) + (u) * (ub) + QX_PF_BYTES + o_), _MM_HINT_T0)

#define GLLMK_QMV_MB_X 16

/* how a format decodes unit u of a row into w (aux: the 32-value formats'
 * blocks per row); the bodies below are always inlined with a constant
 * decoder, which is always inlined in turn: no indirect call is left */
typedef void (*qx_dec_fn)(const uint8_t *row, size_t u, size_t aux, qx_unit *w);

/* the units of row into activation rows i0 .. i0+mb-1 */
static inline __attribute__((always_inline)) void
QX(units)(const struct gllmk__qmv *p, const uint8_t *row, int sgn, qx_dec_fn dec, size_t aux,
          size_t i0, size_t mb, vf32 *acc, vf32 *accm) {
  qx_unit w;
  for (size_t u = 0; u < p->units; u++) {
    QX_PREFETCH(row, u, p->unit_bytes);
    dec(row, u, aux, &w);
    QX(dot)(&w, sgn, p, i0, mb, u, acc, accm);
  }
}

/* rows r0 .. r1-1; one activation row (decode) keeps its accumulators in
 * registers */
static inline __attribute__((always_inline)) void
QX(body)(const struct gllmk__qmv *p, size_t r0, size_t r1, int sgn, qx_dec_fn dec, size_t aux) {
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = p->w + r * p->row_bytes;
    if (p->m == 1) {
      vf32 a = vf32_zero(), am = vf32_zero();
      QX(units)(p, row, sgn, dec, aux, 0, 1, &a, &am);
      p->y[r] = vf32_reduce_add(a) - vf32_reduce_add(am);
      continue;
    }
    for (size_t i0 = 0; i0 < p->m; i0 += GLLMK_QMV_MB_X) {
      size_t mb = p->m - i0 < GLLMK_QMV_MB_X ? p->m - i0 : GLLMK_QMV_MB_X;
      vf32 acc[GLLMK_QMV_MB_X], accm[GLLMK_QMV_MB_X];
      for (size_t i = 0; i < mb; i++) acc[i] = accm[i] = vf32_zero();
      QX(units)(p, row, sgn, dec, aux, i0, mb, acc, accm);
      for (size_t i = 0; i < mb; i++)
        p->y[(i0 + i) * p->ldy + r] = vf32_reduce_add(acc[i]) - vf32_reduce_add(accm[i]);
    }
  }
}

/* ---------------------------------------------------------------- 32-value blocks */

/* per-16 factors from the 8 block scales in dv (lane b = block b):
 * wsc[2b] = wsc[2b+1] = dv[b] */
static inline void qx_dup8(vf32 *w, __m256 dv) {
#if VF32_LANES == 16
  w[0] = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                               _mm512_castps256_ps512(dv));
#else
  w[0] = _mm256_permutevar8x32_ps(dv, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
  w[1] = _mm256_permutevar8x32_ps(dv, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
#endif
}
/* the f16 at offset off of 8 blocks bb bytes apart (0 past nb), as f32 */
static inline __m256 qx_f16x8(const uint8_t *blk, size_t bb, size_t off, size_t nb) {
  /* built in registers: a vector load of scalar stores would stall on store forwarding */
  __m128i v = _mm_setzero_si128();
#define QX_H(b) if ((b) < nb) v = _mm_insert_epi16(v, gllmk__rd16(blk + (b) * bb + off), (b))
  QX_H(0); QX_H(1); QX_H(2); QX_H(3); QX_H(4); QX_H(5); QX_H(6); QX_H(7);
#undef QX_H
  return _mm256_cvtph_ps(v);
}
/* MXFP4: the E8M0 byte at offset 0 of 8 blocks (0 past nb) as
 * 2^(e-128) (gllmk__e8m0_half): (e - 1) << 23, or 0x200000 << e for the
 * subnormal e < 2 */
static inline __m256 qx_e8m0x8(const uint8_t *blk, size_t bb, size_t nb) {
  __m128i v = _mm_setzero_si128();
#define QX_E(b) if ((b) < nb) v = _mm_insert_epi8(v, blk[(b) * bb], (b))
  QX_E(0); QX_E(1); QX_E(2); QX_E(3); QX_E(4); QX_E(5); QX_E(6); QX_E(7);
#undef QX_E
  __m256i e = _mm256_cvtepu8_epi32(v);
  __m256i nrm = _mm256_slli_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), 23);
  __m256i sub = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
  __m256i bits = _mm256_blendv_epi8(nrm, sub, _mm256_cmpgt_epi32(_mm256_set1_epi32(2), e));
  __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nb), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_castsi256_ps(_mm256_and_si256(bits, live));
}

/* byte i = 16 where bit i of the 32-bit word v is set, else 0 */
static inline __m256i qx_bits32(uint32_t v) {
  __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)v),
                                  _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                   2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  __m256i m = _mm256_set1_epi64x(0x8040201008040201ll);
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(b, m), m), _mm256_set1_epi8(16));
}

/* levels of block b (32 values) by kind: 0 q4_0 (nibble, offset 8), 1 q4_1
 * (nibble), 2 iq4_nl (kvalues[nibble]), 3 q8_0 (bytes), 4 q5_0 (5 bits,
 * offset 16), 5 q5_1 (5 bits), 6 mxfp4 (kvalues_mxfp4[nibble], after the
 * one-byte scale); the offsets go to the min term */
static inline __attribute__((always_inline)) __m256i qx_blk32(int kind, const uint8_t *blk) {
  switch (kind) {
  case 0: return qx_nib16(blk + 2);
  case 1: return qx_nib16(blk + 4);
  case 2: return qx_lut32(qx_nib16(blk + 2), gllmk__kvalues_iq4nl);
  case 6: return qx_lut32(qx_nib16(blk + 1), gllmk__kvalues_mxfp4);
  case 4: return _mm256_or_si256(qx_nib16(blk + 6), qx_bits32(gllmk__rd32(blk + 2)));
  case 5: return _mm256_or_si256(qx_nib16(blk + 8), qx_bits32(gllmk__rd32(blk + 4)));
  default: return _mm256_loadu_si256((const __m256i *)(blk + 2));
  }
}

/* the levels of the unit's 8 blocks (zero past nb) */
static inline __attribute__((always_inline)) void qx_lv8(int kind, const uint8_t *blk, size_t bb, size_t nb,
                                                         __m256i *lv) {
  if (nb == 8) {
    GLLMK_UNROLL8
    for (size_t b = 0; b < 8; b++) lv[b] = qx_blk32(kind, blk + b * bb);
  } else {
    for (size_t b = 0; b < 8; b++) lv[b] = b < nb ? qx_blk32(kind, blk + b * bb) : _mm256_setzero_si256();
  }
}

static inline __attribute__((always_inline)) void
qx_decode_32(int kind, size_t bb, const uint8_t *row, size_t u, size_t nblk, qx_unit *w) {
  size_t b0 = 8 * u, nb = nblk - b0 < 8 ? nblk - b0 : 8;
  const uint8_t *blk = row + b0 * bb;
#if VF32_LANES == 16
  if ((kind == 4 || kind == 5) && nb == 8) {   /* bit 4 of two blocks' levels as one mask */
    size_t o = kind == 4 ? 2 : 4;
    GLLMK_UNROLL8
    for (int t = 0; t < 4; t++) {
      const uint8_t *b0 = blk + 2 * t * bb, *b1 = b0 + bb;
      __m512i v = qx_join(qx_nib16(b0 + o + 4), qx_nib16(b1 + o + 4));
      __mmask64 k = _cvtu64_mask64(gllmk__rd32(b0 + o) | (uint64_t)gllmk__rd32(b1 + o) << 32);
      w->q[t] = _mm512_mask_add_epi8(v, k, v, _mm512_set1_epi8(16));
    }
  } else {
    __m256i lv[8];
    qx_lv8(kind, blk, bb, nb, lv);
    GLLMK_UNROLL8
    for (int t = 0; t < 4; t++) w->q[t] = qx_join(lv[2 * t], lv[2 * t + 1]);
  }
#else
  __m256i lv[8];
  qx_lv8(kind, blk, bb, nb, lv);
  GLLMK_UNROLL8
  for (int t = 0; t < 8; t++) w->q[t] = lv[t];
#endif
  /* d is the first field of every kind: f16, or mxfp4's E8M0 byte */
  qx_dup8(w->wsc, kind == 6 ? qx_e8m0x8(blk, bb, nb) : qx_f16x8(blk, bb, 0, nb));
  w->has_min = kind != 2 && kind != 3 && kind != 6;
  if (kind == 1 || kind == 5)   /* d q + m = d q - (-m) */
    qx_dup8(w->wmn, _mm256_sub_ps(_mm256_setzero_ps(), qx_f16x8(blk, bb, 2, nb)));
  else if (w->has_min)
    qx_offset(w->wmn, w->wsc, kind == 0 ? 8.0f : 16.0f);
}

#define QX_DEF32(fmt, kind, bb, sgn)                                                          \
  static inline __attribute__((always_inline)) void                                          \
  QX(du_##fmt)(const uint8_t *row, size_t u, size_t nblk, qx_unit *w) {                      \
    qx_decode_32(kind, bb, row, u, nblk, w);                                                 \
  }                                                                                          \
  static void QX(fmt)(const struct gllmk__qmv *p, size_t r0, size_t r1) {                   \
    QX(body)(p, r0, r1, sgn, QX(du_##fmt), p->k / 32);                                       \
  }
QX_DEF32(q4_0, 0, 18, 0)
QX_DEF32(q4_1, 1, 20, 0)
QX_DEF32(iq4_nl, 2, 18, 1)
QX_DEF32(q8_0, 3, 34, 1)
QX_DEF32(q5_0, 4, 22, 0)
QX_DEF32(q5_1, 5, 24, 0)
QX_DEF32(mxfp4, 6, 17, 1)

/* ---------------------------------------------------------------- K-quants */

/* q4_K / q5_K 6-bit scales and mins as 16 per-16 int8 values (pairs equal) */
static inline void qx_k4_scales(const uint8_t *sc, __m128i *s16, __m128i *m16) {
  uint32_t u0 = gllmk__rd32(sc), u1 = gllmk__rd32(sc + 4), u2 = gllmk__rd32(sc + 8);
  uint64_t d = (uint64_t)((u2 & 0x0f0f0f0fu) | ((u0 >> 6) & 0x03030303u) << 4) << 32 | (u0 & 0x3f3f3f3fu);
  uint64_t m = (uint64_t)(((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 6) & 0x03030303u) << 4) << 32 | (u1 & 0x3f3f3f3fu);
  *s16 = qx_dup8b(d);
  *m16 = qx_dup8b(m);
}

static inline __attribute__((always_inline)) void qx_decode_q4k(const uint8_t *b, int hbits, qx_unit *w) {
  /* q4_K: d, dmin, scales[12], qs[128]; q5_K: d, dmin, scales[12], qh[32], qs[128] */
  __m128i s16, m16;
  qx_k4_scales(b + 4, &s16, &m16);
  qx_wsc_v(w->wsc, s16, sf32_from_f16(gllmk__rd16(b)));
  qx_wsc_v(w->wmn, m16, sf32_from_f16(gllmk__rd16(b + 2)));
  w->has_min = 1;
  const uint8_t *qs = b + (hbits ? 48 : 16);
  __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
  __m256i qh = hbits ? _mm256_loadu_si256((const __m256i *)(b + 16)) : _mm256_setzero_si256();
  GLLMK_UNROLL8
  for (int j = 0; j < 4; j++) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
    __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    if (hbits) {
      __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j)), one);
      __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j + 1)), one);
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(h0, 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(h1, 4));
    }
#if VF32_LANES == 16
    w->q[j] = qx_join(lo, hi);
#else
    w->q[2 * j] = lo, w->q[2 * j + 1] = hi;
#endif
  }
}

static inline __attribute__((always_inline)) void
QX(du_q4_k)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_q4k(row + u * 144, 0, w);
}
static void QX(q4_k)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_q4_k), 0);
}
static inline __attribute__((always_inline)) void
QX(du_q5_k)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_q4k(row + u * 176, 1, w);
}
static void QX(q5_k)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_q5_k), 0);
}

static inline __attribute__((always_inline)) void qx_decode_q6k(const uint8_t *b, qx_unit *w) {
  /* ql[128], qh[64], scales[16] (int8), d; levels q + 32 */
  qx_wsc_i8(w->wsc, (const int8_t *)(b + 192), sf32_from_f16(gllmk__rd16(b + 208)));
  qx_offset(w->wmn, w->wsc, 32.0f);
  w->has_min = 1;
  GLLMK_UNROLL8
  for (int n = 0; n < 2; n++) {   /* 128 values: ql 64 bytes, qh 32 bytes */
    const uint8_t *ql = b + 64 * n, *qh = b + 128 + 32 * n;
#if VF32_LANES == 16
    /* values 0-31 | 32-63: low nibbles of ql[0..63], qh bits 0-1 | 2-3;
     * values 64-95 | 96-127: high nibbles, qh bits 4-5 | 6-7 */
    __m512i l = _mm512_loadu_si512(ql), h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh));
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512i h0 = _mm512_sllv_epi64(h, _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2));
    __m512i h1 = _mm512_srlv_epi64(h, _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2));
    /* bit select: nibble bits from the first operand, bits 4-5 from the second */
    w->q[2 * n] = _mm512_and_si512(_mm512_ternarylogic_epi64(l, h0, m4, 0xE4), _mm512_set1_epi8(63));
    w->q[2 * n + 1] =
        _mm512_and_si512(_mm512_ternarylogic_epi64(_mm512_srli_epi16(l, 4), h1, m4, 0xE4), _mm512_set1_epi8(63));
#else
    __m256i m4 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);
    __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    w->q[4 * n] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m3), 4));
    w->q[4 * n + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                      _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4));
    w->q[4 * n + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                      _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4));
    w->q[4 * n + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                      _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4));
#endif
  }
}

static inline __attribute__((always_inline)) void
QX(du_q6_k)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_q6k(row + u * 210, w);
}
static void QX(q6_k)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_q6_k), 0);
}

/* q2_K: scales[16] (low nibble scale, high nibble min), qs[64], d, dmin */
static inline __attribute__((always_inline)) void qx_decode_q2k(const uint8_t *b, qx_unit *w) {
  __m128i sc = _mm_loadu_si128((const __m128i *)b), m4 = _mm_set1_epi8(15);
  qx_wsc_v(w->wsc, _mm_and_si128(sc, m4), sf32_from_f16(gllmk__rd16(b + 80)));
  qx_wsc_v(w->wmn, _mm_and_si128(_mm_srli_epi16(sc, 4), m4), sf32_from_f16(gllmk__rd16(b + 82)));
  w->has_min = 1;
  __m256i m3 = _mm256_set1_epi8(3);
  GLLMK_UNROLL8
  for (int n = 0; n < 2; n++) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * n));
    __m256i q0 = _mm256_and_si256(v, m3), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 2), m3);
    __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m3), q3 = _mm256_and_si256(_mm256_srli_epi16(v, 6), m3);
#if VF32_LANES == 16
    w->q[2 * n] = qx_join(q0, q1), w->q[2 * n + 1] = qx_join(q2, q3);
#else
    w->q[4 * n] = q0, w->q[4 * n + 1] = q1, w->q[4 * n + 2] = q2, w->q[4 * n + 3] = q3;
#endif
  }
}
static inline __attribute__((always_inline)) void
QX(du_q2_k)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_q2k(row + u * 84, w);
}
static void QX(q2_k)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_q2_k), 0);
}

/* q3_K: hmask[32], qs[64], scales[12] (16 6-bit values - 32), d */
static inline __attribute__((always_inline)) void qx_decode_q3k(const uint8_t *b, qx_unit *w) {
  const uint32_t km1 = 0x03030303u, km2 = 0x0f0f0f0fu;
  uint32_t a0 = gllmk__rd32(b + 96), a1 = gllmk__rd32(b + 100), t = gllmk__rd32(b + 104);
  __m128i s = _mm_setr_epi32((int)((a0 & km2) | (((t >> 0) & km1) << 4)), (int)((a1 & km2) | (((t >> 2) & km1) << 4)),
                             (int)(((a0 >> 4) & km2) | (((t >> 4) & km1) << 4)),
                             (int)(((a1 >> 4) & km2) | (((t >> 6) & km1) << 4)));
  qx_wsc_v(w->wsc, _mm_sub_epi8(s, _mm_set1_epi8(32)), sf32_from_f16(gllmk__rd16(b + 108)));
  qx_offset(w->wmn, w->wsc, 4.0f);   /* levels q + 4 */
  w->has_min = 1;
  __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  __m256i hm = _mm256_loadu_si256((const __m256i *)b);
  GLLMK_UNROLL8
  for (int n = 0; n < 2; n++) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(b + 32 + 32 * n)), q[4];
    GLLMK_UNROLL8
    for (int j = 0; j < 4; j++) {
      __m256i lo = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(2 * j)), m3);
      __m256i hb = _mm256_and_si256(_mm256_srl_epi16(hm, _mm_cvtsi32_si128(4 * n + j)), one);
      q[j] = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
    }
#if VF32_LANES == 16
    w->q[2 * n] = qx_join(q[0], q[1]), w->q[2 * n + 1] = qx_join(q[2], q[3]);
#else
    GLLMK_UNROLL8
    for (int j = 0; j < 4; j++) w->q[4 * n + j] = q[j];
#endif
  }
}
static inline __attribute__((always_inline)) void
QX(du_q3_k)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_q3k(row + u * 110, w);
}
static void QX(q3_k)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_q3_k), 0);
}

/* iq4_xs: d, scales_h (u16), scales_l[4], qs[128] */
static inline __attribute__((always_inline)) void qx_decode_iq4xs(const uint8_t *b, qx_unit *w) {
  /* the 8 block scales (low nibble ib of sl, bits 2 ib of sh above it) -
   * 32, spread to one byte each with shifts and masks */
  uint64_t sh = gllmk__rd16(b + 2), sl = gllmk__rd32(b + 4);
  uint64_t h = (sh & 0xFF) | (sh & 0xFF00) << 24;              /* 4 pairs per 32-bit half */
  h = (h | h << 12) & 0x000F000F000F000Full;                  /* 2 pairs per 16 bits */
  h = (h | h << 6) & 0x0303030303030303ull;                   /* 1 pair per byte */
  uint64_t l = (sl & 0xFFFF) | (sl & 0xFFFF0000) << 16;
  l = (l | l << 8) & 0x00FF00FF00FF00FFull;
  l = (l | l << 4) & 0x0F0F0F0F0F0F0F0Full;
  qx_wsc_v(w->wsc, _mm_sub_epi8(qx_dup8b(l | h << 4), _mm_set1_epi8(32)), sf32_from_f16(gllmk__rd16(b)));
  w->has_min = 0;
  __m256i t16 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)gllmk__kvalues_iq4nl));
  GLLMK_UNROLL8
  for (int t = 0; t < 8; t += 2) {
    __m256i v0 = _mm256_shuffle_epi8(t16, qx_nib16(b + 8 + 16 * t));
    __m256i v1 = _mm256_shuffle_epi8(t16, qx_nib16(b + 24 + 16 * t));
#if VF32_LANES == 16
    w->q[t / 2] = qx_join(v0, v1);
#else
    w->q[t] = v0, w->q[t + 1] = v1;
#endif
  }
}
static inline __attribute__((always_inline)) void
QX(du_iq4_xs)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq4xs(row + u * 136, w);
}
static void QX(iq4_xs)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 1, QX(du_iq4_xs), 0);
}

/* ---------------------------------------------------------------- IQ grids */

/* The grid formats give each 8 (or 4) values an index into a table of
 * magnitudes and each value a sign.  The indices and signs are unpacked with
 * vector code for the whole unit; only the table reads are scalar (a gather
 * was 2.5x slower per entry than scalar loads on the machines measured); the
 * signs are moved to the activations (QX_SIGNM). */

/* 32 sign bytes from 32 7-bit ksigns_iq2xs indices: bit 7 makes the number
 * of negated values even */
static inline __m256i qx_ksigns32(__m256i s) {
  const __m256i par = _mm256_setr_epi8(0, -128, -128, 0, -128, 0, 0, -128, -128, 0, 0, -128, 0, -128, -128, 0,
                                       0, -128, -128, 0, -128, 0, 0, -128, -128, 0, 0, -128, 0, -128, -128, 0);
  __m256i m4 = _mm256_set1_epi8(15);
  __m256i p = _mm256_xor_si256(_mm256_shuffle_epi8(par, _mm256_and_si256(s, m4)),
                               _mm256_shuffle_epi8(par, _mm256_and_si256(_mm256_srli_epi16(s, 4), m4)));
  return _mm256_or_si256(s, p);
}
/* the four 7-bit fields of each 32-bit word as bytes (the top 4 bits dropped) */
static inline __m256i qx_k7x4(__m256i a) {
  return _mm256_or_si256(
      _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(0x7f)),
                      _mm256_and_si256(_mm256_slli_epi32(a, 1), _mm256_set1_epi32(0x7f00))),
      _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi32(a, 2), _mm256_set1_epi32(0x7f0000)),
                      _mm256_and_si256(_mm256_slli_epi32(a, 3), _mm256_set1_epi32(0x7f000000))));
}
/* the top 4 bits of 8 32-bit words as 8 bytes */
static inline __m128i qx_top4x8(__m256i a) {
  __m256i t = _mm256_shuffle_epi8(_mm256_srli_epi32(a, 28),
                                  _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                   0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}
/* the unit's sign masks from its 256 sign bits (bit j of byte i: value 8 i + j) */
static inline void qx_negs(qx_unit *w, __m256i sb) {
#if VF32_LANES == 16
  w->neg[0] = _cvtu64_mask64((uint64_t)_mm256_extract_epi64(sb, 0));
  w->neg[1] = _cvtu64_mask64((uint64_t)_mm256_extract_epi64(sb, 1));
  w->neg[2] = _cvtu64_mask64((uint64_t)_mm256_extract_epi64(sb, 2));
  w->neg[3] = _cvtu64_mask64((uint64_t)_mm256_extract_epi64(sb, 3));
#else
  const __m256i sel = _mm256_set1_epi64x(0x8040201008040201ll), one = _mm256_set1_epi8(1);
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  GLLMK_UNROLL8
  for (int t = 0; t < 8; t++) {
    __m256i b = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(sb, _mm256_set1_epi32(t)), spread);
    w->neg[t] = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_and_si256(b, sel), sel), one);
  }
#endif
}
/* A level vector from grid entries (QX_GE 8-byte entries: 8 with 512 bits,
 * 4 with 256; or twice as many 4-byte ones).  Each format uses the way that
 * was fastest for it (gcc 12, Zen 5):
 *  - qx_grid8, qx_grid4w: indices computed by vector code into a small
 *    array are read back as 64-bit words and split with shifts (read one by
 *    one, gcc extracts each from a vector register, two uops, and runs out
 *    of registers); 8-byte entries are loaded straight into the vector
 *    register (as values, gcc routes them through general registers);
 *  - QX_GRID4: 4-byte entries at indices read one by one (iq3_xxs, whose
 *    indices are bytes of the block);
 *  - QX_GRIDF: 8-byte entries as values, the indices read where they lie
 *    in the block (iq2_xxs bytes, iq2_xs masked 16-bit words). */
#define QX_IX(w, j, bits) ((unsigned)((w) >> ((bits) * (j))) & ((1u << (bits)) - 1))
static inline uint64_t qx_w64(const void *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}
/* the grid entries of 4 indices of 'bits' bits at ix */
#define QX_G4(G, w, bits) (G) + QX_IX(w, 0, bits), (G) + QX_IX(w, 1, bits), (G) + QX_IX(w, 2, bits), \
                          (G) + QX_IX(w, 3, bits)
/* two 8-byte entries, read as loads into the vector register (as values,
 * gcc brings them through general registers, short of which it spills) */
static inline __m128i qx_ld2(const uint64_t *a, const uint64_t *b) {
  return _mm_castpd_si128(_mm_loadh_pd(_mm_castsi128_pd(_mm_loadl_epi64((const __m128i *)a)), (const double *)b));
}
/* 4 4-byte entries G[ix[i .. i + 3]], loaded into the vector register */
static inline __m128i qx_ld4(const uint32_t *G, unsigned i0, unsigned i1, unsigned i2, unsigned i3) {
  __m128i a = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)G[i0]), _mm_cvtsi32_si128((int)G[i1]));
  __m128i b = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)G[i2]), _mm_cvtsi32_si128((int)G[i3]));
  return _mm_unpacklo_epi64(a, b);
}
#define QX_L4(G, ix, i) qx_ld4(G, (ix)[i], (ix)[(i) + 1], (ix)[(i) + 2], (ix)[(i) + 3])
/* the same from 4 16-bit indices in a 64-bit word */
static inline __m128i qx_ld4w(const uint32_t *G, uint64_t w) {
  return qx_ld4(G, QX_IX(w, 0, 16), QX_IX(w, 1, 16), QX_IX(w, 2, 16), QX_IX(w, 3, 16));
}
#if VF32_LANES == 16
#define QX_GRID4(G, ix)                                                                             \
  _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(QX_L4(G, ix, 4), QX_L4(G, ix, 0))),        \
                     _mm256_set_m128i(QX_L4(G, ix, 12), QX_L4(G, ix, 8)), 1)
#define QX_GE 8   /* 8-byte entries per level vector */
static inline qxv qx_grid4w(const uint32_t *G, const uint16_t *ix) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_set_m128i(qx_ld4w(G, qx_w64(ix + 4)), qx_ld4w(G, qx_w64(ix)))),
      _mm256_set_m128i(qx_ld4w(G, qx_w64(ix + 12)), qx_ld4w(G, qx_w64(ix + 8))), 1);
}
static inline qxv qx_set8(long long a0, long long a1, long long a2, long long a3, long long a4, long long a5,
                          long long a6, long long a7) {
  return _mm512_setr_epi64(a0, a1, a2, a3, a4, a5, a6, a7);
}
static inline qxv qx_set8p(const uint64_t *a0, const uint64_t *a1, const uint64_t *a2, const uint64_t *a3,
                           const uint64_t *a4, const uint64_t *a5, const uint64_t *a6, const uint64_t *a7) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(qx_ld2(a2, a3), qx_ld2(a0, a1))),
                            _mm256_set_m128i(qx_ld2(a6, a7), qx_ld2(a4, a5)), 1);
}
static inline qxv qx_grid8(const uint64_t *G, const uint16_t *ix) {
  uint64_t w0 = qx_w64(ix), w1 = qx_w64(ix + 4);
  return qx_set8p(QX_G4(G, w0, 16), QX_G4(G, w1, 16));
}
#else
#define QX_GRID4(G, ix) _mm256_set_m128i(QX_L4(G, ix, 4), QX_L4(G, ix, 0))
#define QX_GE 4
static inline qxv qx_grid4w(const uint32_t *G, const uint16_t *ix) {
  return _mm256_set_m128i(qx_ld4w(G, qx_w64(ix + 4)), qx_ld4w(G, qx_w64(ix)));
}
static inline qxv qx_set8(long long a0, long long a1, long long a2, long long a3) {
  return _mm256_setr_epi64x(a0, a1, a2, a3);
}
static inline qxv qx_set8p(const uint64_t *a0, const uint64_t *a1, const uint64_t *a2, const uint64_t *a3) {
  return _mm256_set_m128i(qx_ld2(a2, a3), qx_ld2(a0, a1));
}
static inline qxv qx_grid8(const uint64_t *G, const uint16_t *ix) {
  uint64_t w = qx_w64(ix);
  return qx_set8p(QX_G4(G, w, 16));
}
#endif
/* level vector t; E(j): the entry of the unit's j-th index, as a value */
#if VF32_LANES == 16
#define QX_GRIDF(E, t) qx_set8(E(8 * (t)), E(8 * (t) + 1), E(8 * (t) + 2), E(8 * (t) + 3), E(8 * (t) + 4), \
                               E(8 * (t) + 5), E(8 * (t) + 6), E(8 * (t) + 7))
#else
#define QX_GRIDF(E, t) qx_set8(E(4 * (t)), E(4 * (t) + 1), E(4 * (t) + 2), E(4 * (t) + 3))
#endif
/* per-32 odd scales 2 s + 1 (s = 8 bytes of 4-bit values), duplicated per 16 */
static inline __m128i qx_odd8v(__m128i s8) {
  __m128i v = _mm_add_epi8(_mm_add_epi8(s8, s8), _mm_set1_epi8(1));
  return _mm_unpacklo_epi8(v, v);
}
/* 16 odd per-16 scales 2 s + 1 from 8 bytes of two 4-bit scales each */
static inline __m128i qx_odd16(const uint8_t *sc) {
  __m128i s = _mm_loadl_epi64((const __m128i *)sc), m4 = _mm_set1_epi8(15);
  __m128i v = _mm_unpacklo_epi8(_mm_and_si128(s, m4), _mm_and_si128(_mm_srli_epi16(s, 4), m4));
  return _mm_add_epi8(_mm_add_epi8(v, v), _mm_set1_epi8(1));
}
/* 8 16-bit words to 16 lanes, each 4 times: lane 4 i + j = w[4 half + i] */
static inline __m256i qx_rep4w(__m128i w8, int half) {
  __m128i h = half ? _mm_unpackhi_epi16(w8, w8) : _mm_unpacklo_epi16(w8, w8);
  return _mm256_set_m128i(_mm_unpackhi_epi32(h, h), _mm_unpacklo_epi32(h, h));
}

static inline __attribute__((always_inline)) void qx_decode_iq2xxs(const uint8_t *b, qx_unit *w) {
  /* 8 groups of 4 index bytes and a word of 4 7-bit sign indices and a scale */
  const __m256i sh = _mm256_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15,
                                      0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15);
  __m256i v0 = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(b + 2)), sh), 0xD8);
  __m256i v1 = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(b + 34)), sh), 0xD8);
  __m256i a = _mm256_permute2x128_si256(v0, v1, 0x31);
  qx_negs(w, qx_ksigns32(qx_k7x4(a)));
#define QX_E(j) (long long)gllmk__iq2xxs_grid[b[2 + 8 * ((j) / 4) + (j) % 4]]
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = QX_GRIDF(QX_E, t);
#undef QX_E
  qx_wsc_v(w->wsc, qx_odd8v(qx_top4x8(a)), sf32_from_f16(gllmk__rd16(b)) * 0.125f);
  w->has_min = 0;
}
static inline __attribute__((always_inline)) void
QX(du_iq2_xxs)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq2xxs(row + u * 66, w);
}
static void QX(iq2_xxs)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, QX_SIGNM, QX(du_iq2_xxs), 0);
}

static inline __attribute__((always_inline)) void qx_decode_iq2xs(const uint8_t *b, qx_unit *w) {
  /* 32 16-bit words: a 9-bit index and a 7-bit sign index */
  __m256i v0 = _mm256_loadu_si256((const __m256i *)(b + 2)), v1 = _mm256_loadu_si256((const __m256i *)(b + 34));
  __m256i s7 = _mm256_permute4x64_epi64(_mm256_packus_epi16(_mm256_srli_epi16(v0, 9), _mm256_srli_epi16(v1, 9)),
                                        0xD8);
  qx_negs(w, qx_ksigns32(s7));
#define QX_E(j) (long long)gllmk__iq2xs_grid[gllmk__rd16(b + 2 + 2 * (j)) & 511]
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = QX_GRIDF(QX_E, t);
#undef QX_E
  qx_wsc_v(w->wsc, qx_odd16(b + 66), sf32_from_f16(gllmk__rd16(b)) * 0.125f);
  w->has_min = 0;
}
static inline __attribute__((always_inline)) void
QX(du_iq2_xs)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq2xs(row + u * 74, w);
}
static void QX(iq2_xs)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, QX_SIGNM, QX(du_iq2_xs), 0);
}

static inline __attribute__((always_inline)) void qx_decode_iq2s(const uint8_t *b, qx_unit *w) {
  /* index j of group g: qs[4 g + j] | bits 2 j, 2 j + 1 of qh[g] as bits 8, 9 */
  __m128i qh = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(b + 66)));
  const __m256i mul = _mm256_setr_epi16(256, 64, 16, 4, 256, 64, 16, 4, 256, 64, 16, 4, 256, 64, 16, 4);
  const __m256i m10 = _mm256_set1_epi16(0x300);
  _Alignas(32) uint16_t ix[32];
  _mm256_store_si256((__m256i *)ix,
                     _mm256_or_si256(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(b + 2))),
                                     _mm256_and_si256(_mm256_mullo_epi16(qx_rep4w(qh, 0), mul), m10)));
  _mm256_store_si256((__m256i *)(ix + 16),
                     _mm256_or_si256(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(b + 18))),
                                     _mm256_and_si256(_mm256_mullo_epi16(qx_rep4w(qh, 1), mul), m10)));
  qx_negs(w, _mm256_loadu_si256((const __m256i *)(b + 34)));
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = qx_grid8(gllmk__iq2s_grid, ix + QX_GE * t);
  qx_wsc_v(w->wsc, qx_odd16(b + 74), sf32_from_f16(gllmk__rd16(b)) * 0.125f);
  w->has_min = 0;
}
static inline __attribute__((always_inline)) void
QX(du_iq2_s)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq2s(row + u * 82, w);
}
static void QX(iq2_s)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, QX_SIGNM, QX(du_iq2_s), 0);
}

static inline __attribute__((always_inline)) void qx_decode_iq3xxs(const uint8_t *b, qx_unit *w) {
  /* 64 index bytes of 4-value entries, then 8 words of sign indices and scale */
  __m256i a = _mm256_loadu_si256((const __m256i *)(b + 66));
  const uint8_t *ix = b + 2;
  qx_negs(w, qx_ksigns32(qx_k7x4(a)));
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = QX_GRID4(gllmk__iq3xxs_grid, ix + 2 * QX_GE * t);
  qx_wsc_v(w->wsc, qx_odd8v(qx_top4x8(a)), sf32_from_f16(gllmk__rd16(b)) * 0.25f);
  w->has_min = 0;
}
static inline __attribute__((always_inline)) void
QX(du_iq3_xxs)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq3xxs(row + u * 98, w);
}
static void QX(iq3_xxs)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, QX_SIGNM, QX(du_iq3_xxs), 0);
}

static inline __attribute__((always_inline)) void qx_decode_iq3s(const uint8_t *b, qx_unit *w) {
  /* index j of group g: qs[8 g + j] | bit j of qh[g] as bit 8 */
  const __m128i sel = _mm_set1_epi64x(0x8040201008040201ll), one = _mm_set1_epi8(1);
  __m128i qh = _mm_loadl_epi64((const __m128i *)(b + 66));
  _Alignas(32) uint16_t ix[64];
  GLLMK_UNROLL4
  for (int c = 0; c < 4; c++) {   /* groups 2 c, 2 c + 1 */
    __m128i q = _mm_loadu_si128((const __m128i *)(b + 2 + 16 * c));
    __m128i h = _mm_shuffle_epi8(qh, _mm_setr_epi8(2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c,
                                                   2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1,
                                                   2 * c + 1, 2 * c + 1, 2 * c + 1));
    __m128i hb = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(h, sel), sel), one);
    _mm_store_si128((__m128i *)(ix + 16 * c), _mm_unpacklo_epi8(q, hb));
    _mm_store_si128((__m128i *)(ix + 16 * c + 8), _mm_unpackhi_epi8(q, hb));
  }
  qx_negs(w, _mm256_loadu_si256((const __m256i *)(b + 74)));
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = qx_grid4w(gllmk__iq3s_grid, ix + 2 * QX_GE * t);
  __m128i sc = _mm_cvtsi32_si128((int)gllmk__rd32(b + 106)), m4 = _mm_set1_epi8(15);
  qx_wsc_v(w->wsc, qx_odd8v(_mm_unpacklo_epi8(_mm_and_si128(sc, m4), _mm_and_si128(_mm_srli_epi16(sc, 4), m4))),
           sf32_from_f16(gllmk__rd16(b)));
  w->has_min = 0;
}
static inline __attribute__((always_inline)) void
QX(du_iq3_s)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq3s(row + u * 110, w);
}
static void QX(iq3_s)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, QX_SIGNM, QX(du_iq3_s), 0);
}

/* iq1: value = dl (g + delta / 8), g in {-1, 0, 1} the grid bytes, delta = +-1.
 * The levels are made unsigned and the rest goes to the min term, which is
 * computed from the activations' per-16 sums:
 *  iq1_s (delta per 32): levels g + 1, min dl (1 - delta / 8);
 *  iq1_m (delta per 8):  levels 8 g + delta + 9, factor dl / 8, min 9 dl / 8;
 *  the iq1_m levels come from a table whose index has the delta bit as bit 11. */
static inline qxv qx_plus1(qxv g) {
#if VF32_LANES == 16
  return _mm512_add_epi8(g, _mm512_set1_epi8(1));
#else
  return _mm256_add_epi8(g, _mm256_set1_epi8(1));
#endif
}
static inline __attribute__((always_inline)) void qx_decode_iq1s(const uint8_t *b, qx_unit *w) {
  /* index j of group g: qs[4 g + j] | bits 3 j .. 3 j + 2 of qh[g] as bits 8 .. 10;
   * qh[g] bits 12 .. 14: scale, bit 15: delta -1 */
  __m128i qh = _mm_loadu_si128((const __m128i *)(b + 34));
  const __m256i lo = _mm256_setr_epi16(256, 32, 4, 0, 256, 32, 4, 0, 256, 32, 4, 0, 256, 32, 4, 0);
  const __m256i hi = _mm256_setr_epi16(0, 0, 0, -32768, 0, 0, 0, -32768, 0, 0, 0, -32768, 0, 0, 0, -32768);
  const __m256i m11 = _mm256_set1_epi16(0x700);
  _Alignas(32) uint16_t ix[32];
  GLLMK_UNROLL4
  for (int c = 0; c < 2; c++) {
    __m256i h = qx_rep4w(qh, c);
    __m256i hb = _mm256_and_si256(_mm256_or_si256(_mm256_mullo_epi16(h, lo), _mm256_mulhi_epu16(h, hi)), m11);
    _mm256_store_si256((__m256i *)(ix + 16 * c),
                       _mm256_or_si256(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(b + 2 + 16 * c))), hb));
  }
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = qx_plus1(qx_grid8(gllmk__iq1s_grid, ix + QX_GE * t));
  __m128i sc = _mm_and_si128(_mm_srli_epi16(qh, 12), _mm_set1_epi16(7));
  qx_wsc_v(w->wsc, qx_odd8v(_mm_packus_epi16(sc, sc)), sf32_from_f16(gllmk__rd16(b)));
  /* delta of each 16-value group (both bytes of a group's word) */
  __m128i dl = _mm_or_si128(_mm_srai_epi16(qh, 15), _mm_set1_epi16(0x0101));
  GLLMK_UNROLL8
  for (int v = 0; v < QX_NW; v++) {
    vf32 dv = qx_i8f(dl, v);
    w->wmn[v] = vf32_mul(w->wsc[v], vf32_fma(dv, vf32_splat(-0.125f), vf32_splat(1.0f)));
  }
  w->has_min = 1;
}
static inline __attribute__((always_inline)) void
QX(du_iq1_s)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq1s(row + u * 50, w);
}
static void QX(iq1_s)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_iq1_s), 0);
}

static inline __attribute__((always_inline)) void qx_decode_iq1m(const uint8_t *b, qx_unit *w) {
  /* a nibble of qh per entry e (low nibble first): bits 0 .. 2 are bits 8 .. 10
   * of the index qs[e], bit 3 a delta of -1; four 16-bit words of 3-bit
   * per-16 scales, whose top 4 bits make the f16 d */
  __m128i qh = _mm_loadu_si128((const __m128i *)b + 2), m4 = _mm_set1_epi8(15);
  __m128i n0 = _mm_and_si128(qh, m4), n1 = _mm_and_si128(_mm_srli_epi16(qh, 4), m4);
  __m256i nib = _mm256_set_m128i(_mm_unpackhi_epi8(n0, n1), _mm_unpacklo_epi8(n0, n1));   /* entry e */
  __m256i q = _mm256_loadu_si256((const __m256i *)b);
  _Alignas(32) uint16_t ix[32];   /* qs[e] | nibble e << 8: an index of gllmk__iq1m_lv */
  /* unpack works within 128-bit lanes: entries 0-7 | 16-23, then 8-15 | 24-31 */
  __m256i i0 = _mm256_unpacklo_epi8(q, nib), i1 = _mm256_unpackhi_epi8(q, nib);
  _mm256_store_si256((__m256i *)ix, _mm256_permute2x128_si256(i0, i1, 0x20));
  _mm256_store_si256((__m256i *)(ix + 16), _mm256_permute2x128_si256(i0, i1, 0x31));
  GLLMK_UNROLL8
  for (int t = 0; t < QX_NV; t++) w->q[t] = qx_grid8(gllmk__iq1m_lv, ix + QX_GE * t);
  __m128i sw = _mm_loadl_epi64((const __m128i *)(b + 48));
  uint64_t sv = (uint64_t)_mm_cvtsi128_si64(sw);
  uint16_t d16 = (uint16_t)(((sv >> 12) & 0xF) | ((sv >> 24) & 0xF0) | ((sv >> 36) & 0xF00) | ((sv >> 48) & 0xF000));
  /* field f of word i (bits 3 f .. 3 f + 2) is the scale of 16-value group 4 i + f */
  const __m256i sh = _mm256_setr_epi16(512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1);
  __m256i f = _mm256_and_si256(_mm256_srli_epi16(_mm256_mullo_epi16(qx_rep4w(sw, 0), sh), 9), _mm256_set1_epi16(7));
  __m256i o = _mm256_add_epi16(_mm256_add_epi16(f, f), _mm256_set1_epi16(1));
  qx_wsc_v(w->wsc, _mm_packus_epi16(_mm256_castsi256_si128(o), _mm256_extracti128_si256(o, 1)),
           sf32_from_f16(d16) * 0.125f);
  GLLMK_UNROLL8
  for (int v = 0; v < QX_NW; v++) w->wmn[v] = vf32_mul(w->wsc[v], vf32_splat(9.0f));
  w->has_min = 1;
}
static inline __attribute__((always_inline)) void
QX(du_iq1_m)(const uint8_t *row, size_t u, size_t aux, qx_unit *w) {
  (void)aux;
  qx_decode_iq1m(row + u * 56, w);
}
static void QX(iq1_m)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  QX(body)(p, r0, r1, 0, QX(du_iq1_m), 0);
}

#endif /* GLLMK_QFAST_X86_H */
