/* quant_tpl.h -- the quantized kernels of one ISA: dequantization, activation
 * quantization and the integer-dot GEMV, for every block format, written on
 * the primitive layer (vf32_load_i8, vf32_idot4, vf32_bcast4, vf32_store_i8).
 * Included once per ISA by instantiate.h (element-type independent).
 * SPDX-License-Identifier: MIT
 *
 * A row of W is processed in units of 256 values: unit_<fmt> decodes one
 * unit into int8 levels q[256] and per-16-value float factors wsc[16], wmn[16]
 * (value i = wsc[i/16] * q[i] - wmn[i/16]; see quant/unpack.h).  A 256-value
 * format has one block per unit; a 32-value format up to eight (the last unit
 * of a row may be short: its missing groups get q = 0, wsc = wmn = 0).
 */
#include "quant/unpack.h"

#define QK(name) GLLMK_KNAME_(name, q, GLLMK_ISA)

/* --------------------------------------------------------------- units */

/* the dot kinds of qformats.def */
enum { GLLMK_DOT_U, GLLMK_DOT_S, GLLMK_DOT_W };
#define GLLMK_DOTK_U GLLMK_DOT_U
#define GLLMK_DOTK_S GLLMK_DOT_S
#define GLLMK_DOTK_W GLLMK_DOT_W

static inline __attribute__((always_inline)) int
QK(unit_k)(gllmk__unpack_fn un, const uint8_t *blk, int8_t *q, float *wsc, float *wmn) {
  gllmk__qblk s;
  un(blk, q, &s);
  vf32 d = vf32_splat(s.d), dm = vf32_splat(s.dmin);
  for (int g = 0; g < 16; g += VF32_LANES) {
    vf32_storeu(wsc + g, vf32_mul(d, vf32_load_i16(s.isc + g)));
    vf32_storeu(wmn + g, s.has_min ? vf32_mul(dm, vf32_load_i16(s.imn + g)) : vf32_zero());
  }
  return s.has_min;
}

static inline __attribute__((always_inline)) int
QK(unit_32)(gllmk__unpack_fn un, size_t bb, const uint8_t *blk, size_t nb, int8_t *q, float *wsc, float *wmn) {
  gllmk__qblk s;
  int has_min = 0;
  size_t b = 0;
  for (; b < nb; b++) {
    un(blk + b * bb, q + 32 * b, &s);
    wsc[2 * b] = wsc[2 * b + 1] = s.d;
    wmn[2 * b] = wmn[2 * b + 1] = s.dmin;
    has_min = s.has_min;
  }
  for (; b < 8; b++) {
    memset(q + 32 * b, 0, 32);
    wsc[2 * b] = wsc[2 * b + 1] = wmn[2 * b] = wmn[2 * b + 1] = 0.0f;
  }
  return has_min;
}

/* --------------------------------------------------------------- dequantize */

/* out[16 g + j] = wsc[g] * q[16 g + j] (- wmn[g]) for ng groups: the one
 * rounding ggml does, in the same order */
static inline __attribute__((always_inline)) void
QK(deq_groups)(const int8_t *q, const float *wsc, const float *wmn, int has_min, int ng, float *out) {
  for (int g = 0; g < ng; g++) {
    vf32 s = vf32_splat(wsc[g]), mn = vf32_splat(wmn[g]);
    for (int j = 0; j < 16; j += VF32_LANES) {
      vf32 v = vf32_mul(vf32_load_i8(q + 16 * g + j), s);
      if (has_min) v = vf32_sub(v, mn);
      vf32_storeu(out + 16 * g + j, v);
    }
  }
}

#define GLLMK_QDEQ_K(fmt, bb)                                                                   \
  static void QK(dequant_##fmt)(const void *src, float *out, size_t nblocks) {                 \
    int8_t q[256] __attribute__((aligned(64)));                                                 \
    float wsc[16], wmn[16];                                                                     \
    const uint8_t *p = (const uint8_t *)src;                                                    \
    for (size_t i = 0; i < nblocks; i++) {                                                      \
      int hm = QK(unit_k)(gllmk__unpack_##fmt, p + i * (bb), q, wsc, wmn);                      \
      QK(deq_groups)(q, wsc, wmn, hm, 16, out + 256 * i);                                       \
    }                                                                                           \
  }
#define GLLMK_QDEQ_32(fmt, bb)                                                                  \
  static void QK(dequant_##fmt)(const void *src, float *out, size_t nblocks) {                 \
    int8_t q[256] __attribute__((aligned(64)));                                                 \
    float wsc[16], wmn[16];                                                                     \
    const uint8_t *p = (const uint8_t *)src;                                                    \
    for (size_t i = 0; i < nblocks; i += 8) {                                                   \
      size_t nb = nblocks - i < 8 ? nblocks - i : 8;                                            \
      int hm = QK(unit_32)(gllmk__unpack_##fmt, (bb), p + i * (bb), nb, q, wsc, wmn);           \
      QK(deq_groups)(q, wsc, wmn, hm, (int)(2 * nb), out + 32 * i);                             \
    }                                                                                           \
  }

/* SqueezeLLM: w = codebook[code] */
static inline void QK(sqllm_block)(const uint8_t *b, float *out) {
  float cb[8];
  for (int i = 0; i < 8; i++) cb[i] = gllmk__ldh(b + 2 * i);
  const uint8_t *qs = b + 16;
  for (int i = 0; i < 256; i += 8) {   /* 8 codes = 3 bytes */
    uint32_t w = (uint32_t)qs[3 * i / 8] | (uint32_t)qs[3 * i / 8 + 1] << 8 | (uint32_t)qs[3 * i / 8 + 2] << 16;
    for (int j = 0; j < 8; j++) out[i + j] = cb[(w >> (3 * j)) & 7];
  }
}
static void QK(dequant_squeezellm)(const void *src, float *out, size_t nblocks) {
  const uint8_t *p = (const uint8_t *)src;
  for (size_t i = 0; i < nblocks; i++) QK(sqllm_block)(p + 112 * i, out + 256 * i);
}

/* --------------------------------------------------------------- activations */

/* x[k] (f32) -> a: per 32 values d = max|x| / 127 and int8 levels (nearest
 * even), d repeated per 16-group in dx16, and xb16 = d * sum of the group's
 * levels.  Padded with zeros to whole units.  A chunk holding NaN or inf gets
 * d = NaN, so that every product with it is NaN. */
static void QK(quant_act)(const float *x, size_t k, int8_t *qs, float *dx16, float *xb16) {
  size_t units = (k + 255) / 256;
  for (size_t c = 0; c < units * 8; c++) {
    size_t o = 32 * c, n = o < k ? (k - o < 32 ? k - o : 32) : 0;
    float amax = 0.0f;
    vf32 vm = vf32_zero();
    vmask nan = vf32_isnan(vm);
    for (size_t j = 0; j < n; j += VF32_LANES) {
      vf32 v = vf32_load_n(x + o + j, n - j);
      nan = vmask_or(nan, vf32_isnan(v));   /* max drops NaNs: look for them */
      vm = vf32_max(vm, vf32_abs(v));
    }
    amax = vf32_reduce_max(vm);
    int8_t *qc = qs + o;
    float d;
    if (vmask_any(nan) || !(amax <= 3.402823466e38f)) {   /* NaN or inf */
      memset(qc, 0, 32);
      d = __builtin_nanf("");
    } else if (amax == 0.0f || n == 0) {
      memset(qc, 0, 32);
      d = 0.0f;
    } else {
      d = amax / 127.0f;
      /* 127 / amax overflows for amax below 127 / FLT_MAX: scale tiny chunks
       * by 2^64 first (exact) */
      float sx = amax < 0x1p-60f ? 0x1p64f : 1.0f;
      vf32 id = vf32_splat(127.0f / (amax * sx)), vs = vf32_splat(sx);
      float t[32] = {0};
      const float *src = x + o;
      if (n < 32) {
        memcpy(t, x + o, n * sizeof(float));
        src = t;
      }
      for (size_t j = 0; j < 32; j += VF32_LANES) {
        vf32 v = vf32_mul(vf32_mul(vf32_loadu(src + j), vs), id);
        vf32_store_i8(qc + j, vf32_min(vf32_max(v, vf32_splat(-127.0f)), vf32_splat(127.0f)));
      }
    }
    for (int h = 0; h < 2; h++) {
      int s = 0;
      for (int j = 0; j < 16; j++) s += qc[16 * h + j];
      dx16[2 * c + h] = d;
      xb16[2 * c + h] = d * (float)s;
    }
  }
}

/* --------------------------------------------------------------- integer-dot GEMV */

#define GLLMK_QMV_MB 16  /* activation rows per pass over a weight unit (the GEMV path has m < 16) */

/* acc[i] += <unit, activation i> with the integer dot of kind dk (U:
 * levels read as unsigned; S and W: signed, exact); the min term goes to
 * accm[i] */
static inline __attribute__((always_inline)) void
QK(unit_dot)(int dk, const int8_t *q, const float *wsc, const float *wmn, int has_min,
             const struct gllmk__qmv *p, size_t i0, size_t mb, size_t u, vf32 *acc, vf32 *accm) {
  float fac[16] __attribute__((aligned(64)));
  for (size_t i = 0; i < mb; i++) {
    const int8_t *xq = p->qs + (i0 + i) * p->act_stride + 256 * u;
    const float *dx = p->dx16 + (i0 + i) * p->units * 16 + 16 * u;
    for (int g = 0; g < 16; g += VF32_LANES)
      vf32_storeu(fac + g, vf32_mul(vf32_loadu(wsc + g), vf32_loadu(dx + g)));
    vf32 a = acc[i];
    for (int o = 0; o < 256; o += 4 * VF32_LANES) {
      vf32 dot = dk == GLLMK_DOT_U ? vf32_idot4_u(q + o, xq + o) : vf32_idot4(q + o, xq + o);
      a = vf32_fma(dot, vf32_bcast4(fac + o / 16), a);
    }
    acc[i] = a;
    if (has_min) {
      const float *xb = p->xb16 + (i0 + i) * p->units * 16 + 16 * u;
      vf32 am = accm[i];
      for (int g = 0; g < 16; g += VF32_LANES) am = vf32_fma(vf32_loadu(wmn + g), vf32_loadu(xb + g), am);
      accm[i] = am;
    }
  }
}

/* Per row: decode a chunk of GLLMK_QMV_CH units into L1 buffers first, then
 * dot the whole chunk with every activation row: the levels are read back
 * long after they were stored (no store-to-load forwarding stalls), and a
 * unit is decoded once for all m rows. */
#define GLLMK_QMV_CH 16
#define GLLMK_QMV_BODY(DK, UNPACK_UNIT)                                                        \
  int8_t qb[GLLMK_QMV_CH * 256] __attribute__((aligned(64)));                              \
  float wscb[GLLMK_QMV_CH * 16] __attribute__((aligned(64)));                              \
  float wmnb[GLLMK_QMV_CH * 16] __attribute__((aligned(64)));                              \
  int hmb[GLLMK_QMV_CH];                                                                   \
  for (size_t r = r0; r < r1; r++) {                                                       \
    const uint8_t *row = p->w + r * p->row_bytes;                                          \
    for (size_t i0 = 0; i0 < p->m; i0 += GLLMK_QMV_MB) {                                   \
      size_t mb = p->m - i0 < GLLMK_QMV_MB ? p->m - i0 : GLLMK_QMV_MB;                     \
      vf32 acc[GLLMK_QMV_MB], accm[GLLMK_QMV_MB];                                          \
      for (size_t i = 0; i < mb; i++) acc[i] = accm[i] = vf32_zero();                      \
      for (size_t u0 = 0; u0 < p->units; u0 += GLLMK_QMV_CH) {                             \
        size_t u1 = p->units - u0 < GLLMK_QMV_CH ? p->units : u0 + GLLMK_QMV_CH;           \
        for (size_t u = u0; u < u1; u++) {                                                 \
          int8_t *q = qb + 256 * (u - u0);                                                 \
          float *wsc = wscb + 16 * (u - u0), *wmn = wmnb + 16 * (u - u0);                  \
          vf32_prefetch(row + (u + GLLMK_QMV_CH) * p->unit_bytes);                         \
          hmb[u - u0] = UNPACK_UNIT;                                                       \
        }                                                                                  \
        for (size_t u = u0; u < u1; u++)                                                   \
          QK(unit_dot)(DK, qb + 256 * (u - u0), wscb + 16 * (u - u0), wmnb + 16 * (u - u0), \
                       hmb[u - u0], p, i0, mb, u, acc, accm);                              \
      }                                                                                    \
      for (size_t i = 0; i < mb; i++)                                                      \
        p->y[(i0 + i) * p->ldy + r] = vf32_reduce_add(acc[i]) - vf32_reduce_add(accm[i]);  \
    }                                                                                      \
  }

#define GLLMK_QMV_K(fmt, bb, dk)                                                               \
  static void QK(qmv_##fmt)(const struct gllmk__qmv *p, size_t r0, size_t r1) {               \
    GLLMK_QMV_BODY(GLLMK_DOTK_##dk, QK(unit_k)(gllmk__unpack_##fmt, row + u * (bb), q, wsc, wmn))               \
  }
#define GLLMK_QMV_32(fmt, bb, dk)                                                               \
  static void QK(qmv_##fmt)(const struct gllmk__qmv *p, size_t r0, size_t r1) {               \
    size_t nblk = p->k / 32;                                                                   \
    GLLMK_QMV_BODY(GLLMK_DOTK_##dk, QK(unit_32)(gllmk__unpack_##fmt, (bb), row + 8 * u * (bb),                  \
                               nblk - 8 * u < 8 ? nblk - 8 * u : 8, q, wsc, wmn))              \
  }

#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot) GLLMK_QDEQ_##kind(fmt, bb) GLLMK_QMV_##kind(fmt, bb, dot)
#include "quant/qformats.def"
#undef GLLMK_QFMT

/* AWQ4: unit = two groups of 128; q = nibble - zero, wsc = the group's scale */
static inline __attribute__((always_inline)) int
QK(unit_awq)(const struct gllmk__qmv *p, size_t r, size_t u, int8_t *q, float *wsc, float *wmn) {
  const uint8_t *pk = p->w + r * p->row_bytes + 128 * u;
  const uint8_t *zr = p->zeros + r * p->zero_bytes;
  const uint8_t *sr = (const uint8_t *)p->scales + 2 * (r * p->n_groups);
  size_t ng = p->k / 128 - 2 * u < 2 ? 1 : 2;
  for (size_t h = 0; h < 2; h++) {
    if (h >= ng) {
      memset(q + 128 * h, 0, 128);
      for (int g = 0; g < 8; g++) wsc[8 * h + g] = 0.0f;
      continue;
    }
    size_t grp = 2 * u + h;
    int z = (zr[grp / 2] >> (4 * (grp % 2))) & 0xF;
    for (int j = 0; j < 64; j++) {
      q[128 * h + 2 * j] = (int8_t)((pk[64 * h + j] & 0xF) - z);
      q[128 * h + 2 * j + 1] = (int8_t)((pk[64 * h + j] >> 4) - z);
    }
    float s = gllmk__ldh(sr + 2 * grp);
    for (int g = 0; g < 8; g++) wsc[8 * h + g] = s;
  }
  for (int g = 0; g < 16; g++) wmn[g] = 0.0f;
  return 0;
}
static void QK(qmv_awq4)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  GLLMK_QMV_BODY(GLLMK_DOT_S, QK(unit_awq)(p, r, u, q, wsc, wmn))
}

/* GPTQ4 whose groups are constant over each 16 columns: p->g16[k/16] holds
 * them; q = nibble - 8 */
static inline __attribute__((always_inline)) int
QK(unit_gptq)(const struct gllmk__qmv *p, size_t r, size_t u, int8_t *q, float *wsc, float *wmn) {
  const uint8_t *pk = p->w + r * p->row_bytes + 128 * u;
  const uint8_t *sr = (const uint8_t *)p->scales + 2 * (r * p->n_groups);
  size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;   /* a multiple of 16 */
  for (size_t j = 0; j < nv / 2; j++) {
    q[2 * j] = (int8_t)((pk[j] & 0xF) - 8);
    q[2 * j + 1] = (int8_t)((pk[j] >> 4) - 8);
  }
  if (nv < 256) memset(q + nv, 0, 256 - nv);
  for (size_t g = 0; g < 16; g++)
    wsc[g] = 16 * g < nv ? gllmk__ldh(sr + 2 * (size_t)p->g16[16 * u + g]) : 0.0f;
  for (int g = 0; g < 16; g++) wmn[g] = 0.0f;
  return 0;
}
static void QK(qmv_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  GLLMK_QMV_BODY(GLLMK_DOT_S, QK(unit_gptq)(p, r, u, q, wsc, wmn))
}

/* int8 rows with one f32 scale per row (gemm_q8): p->scales is float [rows] */
static inline __attribute__((always_inline)) int
QK(unit_i8)(const struct gllmk__qmv *p, size_t r, size_t u, int8_t *q, float *wsc, float *wmn) {
  const int8_t *src = (const int8_t *)(p->w + r * p->row_bytes) + 256 * u;
  size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
  memcpy(q, src, nv);
  if (nv < 256) memset(q + nv, 0, 256 - nv);
  float s = ((const float *)p->scales)[r];
  for (int g = 0; g < 16; g++) wsc[g] = s, wmn[g] = 0.0f;
  return 0;
}
static void QK(qmv_i8)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  GLLMK_QMV_BODY(GLLMK_DOT_W, QK(unit_i8)(p, r, u, q, wsc, wmn))
}

/* 4-bit rows (value = nibble - 8, low nibble first) with one f32 scale per
 * row (gemm_q4 and the int4 fused ops); k even */
static inline __attribute__((always_inline)) int
QK(unit_i4)(const struct gllmk__qmv *p, size_t r, size_t u, int8_t *q, float *wsc, float *wmn) {
  const uint8_t *src = p->w + r * p->row_bytes + 128 * u;
  size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
  for (size_t j = 0; j < nv / 2; j++) {
    q[2 * j] = (int8_t)((src[j] & 0xF) - 8);
    q[2 * j + 1] = (int8_t)((src[j] >> 4) - 8);
  }
  if (nv < 256) memset(q + nv, 0, 256 - nv);
  float s = ((const float *)p->scales)[r];
  for (int g = 0; g < 16; g++) wsc[g] = s, wmn[g] = 0.0f;
  return 0;
}
static void QK(qmv_i4)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  GLLMK_QMV_BODY(GLLMK_DOT_S, QK(unit_i4)(p, r, u, q, wsc, wmn))
}

/* sum q[i] * x[i] in f32 (gemv_q8/q4/q2/q1 on decoded levels) */
static float QK(dot_i8f32)(const int8_t *q, const float *x, size_t n) {
  vf32 a0 = vf32_zero(), a1 = vf32_zero();
  size_t i = 0;
  for (; i + 2 * VF32_LANES <= n; i += 2 * VF32_LANES) {
    a0 = vf32_fma(vf32_load_i8(q + i), vf32_loadu(x + i), a0);
    a1 = vf32_fma(vf32_load_i8(q + i + VF32_LANES), vf32_loadu(x + i + VF32_LANES), a1);
  }
  float s = vf32_reduce_add(vf32_add(a0, a1));
  for (; i < n; i++) s += (float)q[i] * x[i];
  return s;
}

/* --------------------------------------------------------------- float-activation GEMV */

/* y[i][r] = <W row r decoded to f32, x_i> for formats without an integer
 * form (SqueezeLLM's codebook, GPTQ with per-column groups): p->deq decodes
 * unit u of row r into 256 floats (zero padded) */
static void QK(fmv)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  float w[256] __attribute__((aligned(64)));
  for (size_t r = r0; r < r1; r++) {
    for (size_t i0 = 0; i0 < p->m; i0 += GLLMK_QMV_MB) {
      size_t mb = p->m - i0 < GLLMK_QMV_MB ? p->m - i0 : GLLMK_QMV_MB;
      vf32 acc[GLLMK_QMV_MB];
      for (size_t i = 0; i < mb; i++) acc[i] = vf32_zero();
      for (size_t u = 0; u < p->units; u++) {
        p->deq(p, r, u, w);
        for (size_t i = 0; i < mb; i++) {
          const float *x = p->xf + (i0 + i) * p->act_stride + 256 * u;
          vf32 a = acc[i];
          for (int j = 0; j < 256; j += VF32_LANES) a = vf32_fma(vf32_loadu(w + j), vf32_loadu(x + j), a);
          acc[i] = a;
        }
      }
      for (size_t i = 0; i < mb; i++) p->y[(i0 + i) * p->ldy + r] = vf32_reduce_add(acc[i]);
    }
  }
}

#undef QK
