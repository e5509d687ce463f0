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

/* a kernel of a table slot: static, and unused (so dropped) where the ISA's
 * overrides.def puts its own function in the slot */
#define GLLMK_TPL_KERNEL static __attribute__((unused))
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
  GLLMK_TPL_KERNEL void QK(dequant_##fmt)(const void *src, float *out, size_t nblocks) {                 \
    int8_t q[256] __attribute__((aligned(64)));                                                 \
    float wsc[16], wmn[16];                                                                     \
    const uint8_t *p = (const uint8_t *)src;                                                    \
    for (size_t i = 0; i < nblocks; i++) {                                                      \
      int hm = QK(unit_k)(gllmk__unpack_##fmt, p + i * (bb), q, wsc, wmn);                      \
      QK(deq_groups)(q, wsc, wmn, hm, 16, out + 256 * i);                                       \
    }                                                                                           \
  }
#define GLLMK_QDEQ_32(fmt, bb)                                                                  \
  GLLMK_TPL_KERNEL void QK(dequant_##fmt)(const void *src, float *out, size_t nblocks) {                 \
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
static inline __attribute__((always_inline)) void QK(sqllm_block)(const uint8_t *b, float *out) {
  vf32_tab8 cb = vf32_tab8_f16(b);
  GLLMK_UNROLL8
  for (int i = 0; i < 256; i += VF32_LANES) vf32_storeu(out + i, vf32_lut8_3b(&cb, b + 16, (size_t)i));
}
GLLMK_TPL_KERNEL void QK(dequant_squeezellm)(const void *src, float *out, size_t nblocks) {
  const uint8_t *p = (const uint8_t *)src;
  for (size_t i = 0; i < nblocks; i++) QK(sqllm_block)(p + 112 * i, out + 256 * i);
}

/* --------------------------------------------------------------- activations */

/* x[k] (f32) -> a: per 32 values d = max|x| / 127 and int8 levels (nearest
 * even), d repeated per 16-group in dx16, and xb16 = d * sum of the group's
 * levels.  Padded with zeros to whole units.  A chunk holding NaN or inf gets
 * d = NaN, so that every product with it is NaN. */
GLLMK_TPL_KERNEL void QK(quant_act)(const float *x, size_t k, int8_t *qs, float *dx16, float *xb16) {
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

/* Per-row vector accumulators live in memory, VF32_MAX_LANES floats a row
 * (a vector-length-agnostic vf32 cannot be an array element) */
#define QACC(a, i) ((a) + (i) * VF32_MAX_LANES)

/* acc row i += <unit, activation i> with the integer dot of kind dk (U:
 * levels read as unsigned; S and W: signed, exact); the min term goes to
 * accm row i */
static inline __attribute__((always_inline)) void
QK(unit_dot)(int dk, const int8_t *q, const float *wsc, const float *wmn, int has_min,
             const struct gllmk__qmv *p, size_t i0, size_t mb, size_t u, float *acc, float *accm) {
  float fac[16] __attribute__((aligned(64)));
  for (size_t i = 0; i < mb; i++) {
    const int8_t *xq = p->qs + (i0 + i) * p->act_stride + 256 * u;
    const float *dx = p->dx16 + (i0 + i) * p->units * 16 + 16 * u;
    for (int g = 0; g < 16; g += VF32_LANES)
      vf32_storeu(fac + g, vf32_mul(vf32_loadu(wsc + g), vf32_loadu(dx + g)));
    vf32 a = vf32_loadu(QACC(acc, i));
    for (int o = 0; o < 256; o += 4 * VF32_LANES) {
      vf32 dot = dk == GLLMK_DOT_U ? vf32_idot4_u(q + o, xq + o) : vf32_idot4(q + o, xq + o);
      a = vf32_fma(dot, vf32_bcast4(fac + o / 16), a);
    }
    vf32_storeu(QACC(acc, i), a);
    if (has_min) {
      const float *xb = p->xb16 + (i0 + i) * p->units * 16 + 16 * u;
      vf32 am = vf32_loadu(QACC(accm, i));
      for (int g = 0; g < 16; g += VF32_LANES) am = vf32_fma(vf32_loadu(wmn + g), vf32_loadu(xb + g), am);
      vf32_storeu(QACC(accm, i), am);
    }
  }
}

/* What a decode GEMV body calls: rowf (may be NULL) once per row r to set up
 * the row's state st (a GPTQ4 row's scales), then unitf per unit u to decode
 * it into levels q, per-16 factors wsc and min terms wmn, returning whether
 * the unit has a min term.  The bodies are always inlined with constant
 * callbacks, which are always inlined in turn: no indirect call is left. */
typedef struct {
  const float *srow;   /* GPTQ4: the row's f32 scales, or NULL */
  float *srow_b;       /* GPTQ4: their buffer */
  size_t nblk;         /* 32-value formats: blocks per row */
} gllmk__qrow_st;
typedef void (*gllmk__qrow_fn)(const struct gllmk__qmv *p, size_t r, gllmk__qrow_st *st);
typedef int (*gllmk__qunit_fn)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u,
                               const gllmk__qrow_st *st, int8_t *q, float *wsc, float *wmn);

/* Per row: decode a chunk of GLLMK_QMV_CH units into L1 buffers first, then
 * dot the whole chunk with every activation row: the levels are read back
 * long after they were stored (no store-to-load forwarding stalls), and a
 * unit is decoded once for all m rows. */
#define GLLMK_QMV_CH 16
static inline __attribute__((always_inline)) void
QK(qmv_body)(const struct gllmk__qmv *p, size_t r0, size_t r1, int dk, gllmk__qrow_fn rowf,
             gllmk__qunit_fn unitf, gllmk__qrow_st *st) {
  int8_t qb[GLLMK_QMV_CH * 256] __attribute__((aligned(64)));
  float wscb[GLLMK_QMV_CH * 16] __attribute__((aligned(64)));
  float wmnb[GLLMK_QMV_CH * 16] __attribute__((aligned(64)));
  int hmb[GLLMK_QMV_CH];
  float acc[GLLMK_QMV_MB * VF32_MAX_LANES] __attribute__((aligned(64)));
  float accm[GLLMK_QMV_MB * VF32_MAX_LANES] __attribute__((aligned(64)));
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = p->w + r * p->row_bytes;
    if (rowf) rowf(p, r, st);
    for (size_t i0 = 0; i0 < p->m; i0 += GLLMK_QMV_MB) {
      size_t mb = p->m - i0 < GLLMK_QMV_MB ? p->m - i0 : GLLMK_QMV_MB;
      memset(acc, 0, mb * VF32_MAX_LANES * sizeof(float));
      memset(accm, 0, mb * VF32_MAX_LANES * sizeof(float));
      for (size_t u0 = 0; u0 < p->units; u0 += GLLMK_QMV_CH) {
        size_t u1 = p->units - u0 < GLLMK_QMV_CH ? p->units : u0 + GLLMK_QMV_CH;
        for (size_t u = u0; u < u1; u++) {
          vf32_prefetch(row + (u + GLLMK_QMV_CH) * p->unit_bytes);
          hmb[u - u0] = unitf(p, r, row, u, st, qb + 256 * (u - u0), wscb + 16 * (u - u0),
                              wmnb + 16 * (u - u0));
        }
        for (size_t u = u0; u < u1; u++)
          QK(unit_dot)(dk, qb + 256 * (u - u0), wscb + 16 * (u - u0), wmnb + 16 * (u - u0),
                       hmb[u - u0], p, i0, mb, u, acc, accm);
      }
      for (size_t i = 0; i < mb; i++)
        p->y[(i0 + i) * p->ldy + r] =
            vf32_reduce_add(vf32_loadu(QACC(acc, i))) - vf32_reduce_add(vf32_loadu(QACC(accm, i)));
    }
  }
}

/* --------------------------------------------------------------- int8 GEMM (prefill) */

/* The prefill path (m >= GLLMK_QGEMM_MIN_M, quant/qmatmul.c): the driver
 * hands each thread tiles of at most GLLMK_QG_NT weight rows and a tile
 * buffer; the kernel decodes the tile's units once into gllmk__qg_unit
 * records and multiplies them with every activation row in register blocks
 * of QG_MR activation rows x QG_NR weight rows.
 *
 * Levels are stored interleaved (L = VF32_LANES): the 16 groups of 16
 * values of a unit in blocks of L groups; a block holds 4 chunks of 4L
 * bytes, chunk c holding bytes 4c .. 4c+3 of each of its groups (group
 * bL + l at byte 4l).  Four vqi_dot4 over a block leave its L group dots,
 * exact, in the L lanes: per L groups one conversion, one multiply (the
 * weight by the activation factor) and one FMA, where the decode GEMV's
 * layout needs those per 4 values.  The activations (qgemm_act) get the same
 * layout, stored as level + GLLMK_QX_OFF; the record's init lanes,
 * -GLLMK_QX_OFF * (sum of the group's levels), take that offset out again.
 * The result per output is the decode GEMV's formula: the same per-group
 * integer dots, factors and min terms, summed in another order. */
typedef struct {
  int8_t q[256];      /* levels, interleaved */
  float wsc[16];      /* per-group factor */
  float nwmn[16];     /* minus the per-group min term (0 without one) */
  int32_t init[16];   /* -GLLMK_QX_OFF * sum of the group's levels */
} gllmk__qg_unit;
_Static_assert(sizeof(gllmk__qg_unit) == GLLMK_QG_UNIT_BYTES, "GLLMK_QG_UNIT_BYTES");

#if VF32_MAX_LANES == 8   /* AVX2: 16 registers */
#define QG_MR 2
#else
#define QG_MR 4
#endif
#define QG_NR 4

/* natural levels q[256] (group g at 16 g) to the interleaved layout, each
 * 4-byte word xor flip (0x80808080: level + 128 as u8) */
static inline __attribute__((always_inline)) void QK(qg_ilv)(const int8_t *q, int8_t *o, uint32_t flip) {
  const size_t L = VF32_LANES;
  for (size_t g = 0; g < 16; g++)
    for (size_t c = 0; c < 4; c++) {
      uint32_t w;
      memcpy(&w, q + 16 * g + 4 * c, 4);
      w ^= flip;
      memcpy(o + (g / L) * 16 * L + c * 4 * L + (g % L) * 4, &w, 4);
    }
}

/* activation rows of quant_act (units of 256 natural levels) to the
 * interleaved layout, in place */
GLLMK_TPL_KERNEL void QK(qgemm_act)(int8_t *qs, size_t units) {
  int8_t t[256];
  for (size_t u = 0; u < units; u++) {
    memcpy(t, qs + 256 * u, 256);
    QK(qg_ilv)(t, qs + 256 * u, GLLMK_QX_OFF ? 0x80808080u : 0);
  }
}

/* Y rows i0 .. i0+mr-1, columns r0 + j0 .. + nr-1 from the tile's records
 * (row j at t + j * U); mr <= QG_MR, nr <= QG_NR */
#define QG_PAIRS(X) \
  X(0, 0) X(1, 0) X(2, 0) X(3, 0) X(0, 1) X(1, 1) X(2, 1) X(3, 1) \
  X(0, 2) X(1, 2) X(2, 2) X(3, 2) X(0, 3) X(1, 3) X(2, 3) X(3, 3)
static inline __attribute__((always_inline)) void
QK(qg_block)(const struct gllmk__qmv *p, const gllmk__qg_unit *t, size_t i0, size_t mr, size_t nr,
             int has_min, float *y) {
  const size_t L = VF32_LANES, U = p->units, S = p->act_stride;
  const int8_t *xs[4];
  const float *dx[4], *xb[4];
  for (size_t i = 0; i < 4; i++) {
    size_t r = i0 + (i < mr ? i : 0);
    xs[i] = p->qs + r * S, dx[i] = p->dx16 + r * U * 16, xb[i] = p->xb16 + r * U * 16;
  }
#define QG_DECL(i, j) vf32 a##i##j = vf32_zero();
  QG_PAIRS(QG_DECL)
#undef QG_DECL
  for (size_t u = 0; u < U; u++) {
    for (size_t b = 0; b < 16; b += L) {
#define QG_STEP(i, j)                                                                              \
  if (i < QG_MR && j < QG_NR && i < mr && j < nr) {                                               \
    const gllmk__qg_unit *w = t + (j) * U + u;                                                     \
    const int8_t *x = xs[i] + 256 * u + 16 * b, *q = w->q + 16 * b;                               \
    vqi s = GLLMK_QX_OFF ? vqi_loadu(w->init + b) : vqi_zero();                                    \
    s = vqi_dot4(s, x, q);                                                                         \
    s = vqi_dot4(s, x + 4 * L, q + 4 * L);                                                         \
    s = vqi_dot4(s, x + 8 * L, q + 8 * L);                                                         \
    s = vqi_dot4(s, x + 12 * L, q + 12 * L);                                                       \
    vf32 f = vf32_mul(vf32_loadu(w->wsc + b), vf32_loadu(dx[i] + 16 * u + b));                    \
    a##i##j = vf32_fma(vf32_from_vqi(s), f, a##i##j);                                              \
    if (has_min) a##i##j = vf32_fma(vf32_loadu(w->nwmn + b), vf32_loadu(xb[i] + 16 * u + b), a##i##j); \
  }
      QG_PAIRS(QG_STEP)
#undef QG_STEP
    }
  }
#define QG_OUT(i, j) \
  if (i < QG_MR && j < QG_NR && i < mr && j < nr) y[(i0 + i) * p->ldy + j] = vf32_reduce_add(a##i##j);
  QG_PAIRS(QG_OUT)
#undef QG_OUT
}

/* the register blocks over a decoded tile of nt rows: whole blocks with
 * constant sizes, the edges with run-time ones */
static void QK(qg_tile)(const struct gllmk__qmv *p, const gllmk__qg_unit *t, size_t nt, int has_min,
                        float *y) {
  for (size_t i0 = 0; i0 < p->m; i0 += QG_MR) {
    size_t mr = p->m - i0 < QG_MR ? p->m - i0 : QG_MR;
    for (size_t j0 = 0; j0 < nt; j0 += QG_NR) {
      size_t nr = nt - j0 < QG_NR ? nt - j0 : QG_NR;
      const gllmk__qg_unit *tj = t + j0 * p->units;
      if (mr == QG_MR && nr == QG_NR) {
        if (has_min)
          QK(qg_block)(p, tj, i0, QG_MR, QG_NR, 1, y + j0);
        else
          QK(qg_block)(p, tj, i0, QG_MR, QG_NR, 0, y + j0);
      } else {
        QK(qg_block)(p, tj, i0, mr, nr, has_min, y + j0);
      }
    }
  }
}

/* rows [r0, r1) of W (at most GLLMK_QG_NT): decode into the tile, then
 * y[i * ldy + r] for every activation row i */
static inline __attribute__((always_inline)) void
QK(qgemm_body)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile, gllmk__qrow_fn rowf,
               gllmk__qunit_fn unitf, gllmk__qrow_st *st) {
  gllmk__qg_unit *t = (gllmk__qg_unit *)tile;
  int8_t q[256] __attribute__((aligned(64)));
  float wmn[16];
  int has_min = 0;
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = p->w + r * p->row_bytes;
    if (rowf) rowf(p, r, st);
    for (size_t u = 0; u < p->units; u++) {
      gllmk__qg_unit *d = t + (r - r0) * p->units + u;
      vf32_prefetch(row + (u + 4) * p->unit_bytes);
      int hm = unitf(p, r, row, u, st, q, d->wsc, wmn);
      has_min |= hm;
      for (int g = 0; g < 16; g++) {
        d->nwmn[g] = hm ? -wmn[g] : 0.0f;
        int s = 0;
        if (GLLMK_QX_OFF)
          for (int j = 0; j < 16; j++) s += q[16 * g + j];
        d->init[g] = -GLLMK_QX_OFF * s;
      }
      QK(qg_ilv)(q, d->q, 0);
    }
  }
  QK(qg_tile)(p, t, r1 - r0, has_min, p->y + r0);
}

/* a format's decode GEMV qmv_<tok> (dot kind dk) and int8 GEMM qgemm_<tok>
 * on its row and unit decoders; the arguments after unitf declare the
 * decoders' state st */
#define GLLMK_QKERNELS(tok, dk, rowf, unitf, ...)                                               \
  GLLMK_TPL_KERNEL void QK(qmv_##tok)(const struct gllmk__qmv *p, size_t r0, size_t r1) {       \
    __VA_ARGS__;                                                                                 \
    QK(qmv_body)(p, r0, r1, dk, rowf, unitf, &st);                                               \
  }                                                                                              \
  GLLMK_TPL_KERNEL void QK(qgemm_##tok)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile) { \
    __VA_ARGS__;                                                                                 \
    QK(qgemm_body)(p, r0, r1, tile, rowf, unitf, &st);                                           \
  }

/* the unit decoder of a GGUF format (qu_<fmt>) and its kernels */
#define GLLMK_QMV_K(fmt, bb, dk)                                                                 \
  static inline __attribute__((always_inline)) int                                             \
  QK(qu_##fmt)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u,             \
               const gllmk__qrow_st *st, int8_t *q, float *wsc, float *wmn) {                 \
    (void)p, (void)r, (void)st;                                                                \
    return QK(unit_k)(gllmk__unpack_##fmt, row + u * (bb), q, wsc, wmn);                        \
  }                                                                                            \
  GLLMK_QKERNELS(fmt, GLLMK_DOTK_##dk, NULL, QK(qu_##fmt), gllmk__qrow_st st = {0})
#define GLLMK_QMV_32(fmt, bb, dk)                                                                \
  static inline __attribute__((always_inline)) int                                             \
  QK(qu_##fmt)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u,             \
               const gllmk__qrow_st *st, int8_t *q, float *wsc, float *wmn) {                 \
    (void)p, (void)r;                                                                          \
    size_t nblk = st->nblk;                                                                    \
    return QK(unit_32)(gllmk__unpack_##fmt, (bb), row + 8 * u * (bb),                          \
                       nblk - 8 * u < 8 ? nblk - 8 * u : 8, q, wsc, wmn);                      \
  }                                                                                            \
  GLLMK_QKERNELS(fmt, GLLMK_DOTK_##dk, NULL, QK(qu_##fmt), gllmk__qrow_st st = {.nblk = p->k / 32})

#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) GLLMK_QDEQ_##kind(fmt, bb) GLLMK_QMV_##kind(fmt, bb, dot)
#include "quant/qformats.def"
#undef GLLMK_QFMT

/* --------------------------------------------------------------- 4-bit rows */

/* AWQ4, GPTQ4 and int4 rows: element j in byte j/2, low nibble first */

/* gllmk__lut_z[z][i] = i - z: AWQ4 levels of the nibbles with zero point z */
#define GLLMK_LUTZ(z) {0 - (z), 1 - (z), 2 - (z), 3 - (z), 4 - (z), 5 - (z), 6 - (z), 7 - (z),    \
                       8 - (z), 9 - (z), 10 - (z), 11 - (z), 12 - (z), 13 - (z), 14 - (z), 15 - (z)}
static const int8_t gllmk__lut_z[16][16] __attribute__((aligned(16))) = {
  GLLMK_LUTZ(0), GLLMK_LUTZ(1), GLLMK_LUTZ(2), GLLMK_LUTZ(3), GLLMK_LUTZ(4), GLLMK_LUTZ(5),
  GLLMK_LUTZ(6), GLLMK_LUTZ(7), GLLMK_LUTZ(8), GLLMK_LUTZ(9), GLLMK_LUTZ(10), GLLMK_LUTZ(11),
  GLLMK_LUTZ(12), GLLMK_LUTZ(13), GLLMK_LUTZ(14), GLLMK_LUTZ(15)};
#undef GLLMK_LUTZ
/* per-row f32 scales of GPTQ4 with per-column groups: on the stack up to this many groups */
#define GLLMK_GPTQ_SROW 4096

/* q[j] = lut[nibble j] for j < nv (nv even) */
static inline __attribute__((always_inline)) void
QK(nib_levels)(const uint8_t *pk, size_t nv, int8_t *q, const int8_t *lut) {
  size_t j = 0;
  for (; j + 64 <= nv; j += 64) vi8_nib64_ilv(pk + j / 2, q + j, lut);
  for (; j < nv; j += 2) {
    q[j] = lut[pk[j / 2] & 15];
    q[j + 1] = lut[pk[j / 2] >> 4];
  }
}

/* out[j] = q[j] * wsc[j / 16] for j < nv: deq_groups on the whole groups,
 * the same product on the rest */
static inline __attribute__((always_inline)) void
QK(deq_n)(const int8_t *q, const float *wsc, size_t nv, float *out) {
  QK(deq_groups)(q, wsc, wsc, 0, (int)(nv / 16), out);
  for (size_t j = nv & ~(size_t)15; j < nv; j++) out[j] = (float)q[j] * wsc[j / 16];
}

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
    vi8_nib64_ilv(pk + 64 * h, q + 128 * h, gllmk__lut_z[z]);
    vi8_nib64_ilv(pk + 64 * h + 32, q + 128 * h + 64, gllmk__lut_z[z]);
    float s = gllmk__ldh(sr + 2 * grp);
    for (int g = 0; g < 8; g++) wsc[8 * h + g] = s;
  }
  for (int g = 0; g < 16; g++) wmn[g] = 0.0f;
  return 0;
}
static inline __attribute__((always_inline)) int
QK(qu_awq)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u, const gllmk__qrow_st *st,
           int8_t *q, float *wsc, float *wmn) {
  (void)row, (void)st;
  return QK(unit_awq)(p, r, u, q, wsc, wmn);
}
GLLMK_QKERNELS(awq4, GLLMK_DOT_S, NULL, QK(qu_awq), gllmk__qrow_st st = {0})

/* GPTQ4: the f32 scales of row r (srow, n_groups of
 * them, zero padded to a multiple of 32) when they fit GLLMK_GPTQ_SROW, else NULL */
static inline __attribute__((always_inline)) const float *
QK(gptq_srow)(const struct gllmk__qmv *p, size_t r, float *srow) {
  size_t ng = p->n_groups;
  if (ng > GLLMK_GPTQ_SROW) return NULL;
  const uint8_t *sr = (const uint8_t *)p->scales + 2 * (r * ng);
  size_t g = 0;
  for (; g + VF32_LANES <= ng; g += VF32_LANES) vf32_storeu(srow + g, vf32_load_f16(sr + 2 * g));
  if (g < ng) vf32_store_n(srow + g, ng - g, vf32_load_f16_n(sr + 2 * g, ng - g));
  for (g = ng; g % 32; g++) srow[g] = 0.0f;   /* vf32_lut_idx reads whole banks of 32 */
  return srow;
}
/* GPTQ4 whose groups are constant over each 16 columns (p->g_c16): the
 * group of columns 16 g .. 16 g + 15 is g_idx[16 g] (= g16[g] when g16 is
 * given); q = nibble - 8; srow from gptq_srow */
static inline __attribute__((always_inline)) int
QK(unit_gptq)(const struct gllmk__qmv *p, size_t r, size_t u, const float *srow, const int32_t *g16,
              int8_t *q, float *wsc, float *wmn) {
  const uint8_t *pk = p->w + r * p->row_bytes + 128 * u;
  const int32_t *gi = p->g_idx + 256 * u;
  size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;   /* a multiple of 16 */
  QK(nib_levels)(pk, nv, q, gllmk__lut_m8);
  if (nv < 256) memset(q + nv, 0, 256 - nv);
  size_t ng = nv / 16, g = 0;
  if (srow && g16 && ng == 16) {
    for (; g < 16; g += VF32_LANES) vf32_storeu(wsc + g, vf32_lut_idx(srow, p->n_groups, g16 + 16 * u + g));
  } else if (srow) {
    for (; g < ng; g++) wsc[g] = srow[gi[16 * g]];
  } else {
    const uint8_t *sr = (const uint8_t *)p->scales + 2 * (r * p->n_groups);
    for (; g < ng; g++) wsc[g] = gllmk__ldh(sr + 2 * (size_t)gi[16 * g]);
  }
  for (; g < 16; g++) wsc[g] = 0.0f;
  for (g = 0; g < 16; g++) wmn[g] = 0.0f;
  return 0;
}
static inline __attribute__((always_inline)) void
QK(qr_gptq)(const struct gllmk__qmv *p, size_t r, gllmk__qrow_st *st) {
  st->srow = QK(gptq_srow)(p, r, st->srow_b);
}
static inline __attribute__((always_inline)) int
QK(qu_gptq)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u, const gllmk__qrow_st *st,
            int8_t *q, float *wsc, float *wmn) {
  (void)row;
  return QK(unit_gptq)(p, r, u, st->srow, p->g16, q, wsc, wmn);
}
GLLMK_QKERNELS(gptq4, GLLMK_DOT_S, QK(qr_gptq), QK(qu_gptq),
               float srow_b[GLLMK_GPTQ_SROW] __attribute__((aligned(64)));
               gllmk__qrow_st st = {.srow_b = srow_b})

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
static inline __attribute__((always_inline)) int
QK(qu_i8)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u, const gllmk__qrow_st *st,
          int8_t *q, float *wsc, float *wmn) {
  (void)row, (void)st;
  return QK(unit_i8)(p, r, u, q, wsc, wmn);
}
GLLMK_QKERNELS(i8, GLLMK_DOT_W, NULL, QK(qu_i8), gllmk__qrow_st st = {0})

/* 4-bit rows (value = nibble - 8, low nibble first) with one f32 scale per
 * row (gemm_q4 and the int4 fused ops); k even */
static inline __attribute__((always_inline)) int
QK(unit_i4)(const struct gllmk__qmv *p, size_t r, size_t u, int8_t *q, float *wsc, float *wmn) {
  const uint8_t *src = p->w + r * p->row_bytes + 128 * u;
  size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
  QK(nib_levels)(src, nv, q, gllmk__lut_m8);
  if (nv < 256) memset(q + nv, 0, 256 - nv);
  float s = ((const float *)p->scales)[r];
  for (int g = 0; g < 16; g++) wsc[g] = s, wmn[g] = 0.0f;
  return 0;
}
static inline __attribute__((always_inline)) int
QK(qu_i4)(const struct gllmk__qmv *p, size_t r, const uint8_t *row, size_t u, const gllmk__qrow_st *st,
          int8_t *q, float *wsc, float *wmn) {
  (void)row, (void)st;
  return QK(unit_i4)(p, r, u, q, wsc, wmn);
}
GLLMK_QKERNELS(i4, GLLMK_DOT_S, NULL, QK(qu_i4), gllmk__qrow_st st = {0})

/* w[j] = (nibble j - 8) * scale of column 256 u + j, for the nv values of
 * unit u of row r: a table lookup in srow (or the f16 scales one by one) */
static inline __attribute__((always_inline)) void
QK(gptq_cols)(const struct gllmk__qmv *p, size_t r, size_t u, size_t nv, const float *srow, float *w) {
  int8_t q[256] __attribute__((aligned(64)));
  const uint8_t *pk = p->w + r * p->row_bytes + 128 * u;
  const int32_t *gi = p->g_idx + 256 * u;
  QK(nib_levels)(pk, nv, q, gllmk__lut_m8);
  size_t j = 0;
  if (srow) {
    for (; j + VF32_LANES <= nv; j += VF32_LANES)
      vf32_storeu(w + j, vf32_mul(vf32_load_i8(q + j), vf32_lut_idx(srow, p->n_groups, gi + j)));
    for (; j < nv; j++) w[j] = (float)q[j] * srow[gi[j]];
  } else {
    const uint8_t *sr = (const uint8_t *)p->scales + 2 * (r * p->n_groups);
    for (; j < nv; j++) w[j] = (float)q[j] * gllmk__ldh(sr + 2 * (size_t)gi[j]);
  }
}

/* GPTQ4 g_idx[k] (k > 0), in one pass: bit 0 of the result: some g_idx[j]
 * is outside [0, ng); bit 1: k % 16 == 0 and g_idx is constant over every
 * 16 columns.  v < lim (unsigned, lim <= 2^31) iff the top bit of
 * (v - lim) & ~v is set; plain loops the compiler vectorises. */
GLLMK_TPL_KERNEL int QK(gidx_scan)(const int32_t *g_idx, size_t k, size_t ng) {
  uint32_t lim = ng > (size_t)INT32_MAX ? (uint32_t)INT32_MAX + 1u : (uint32_t)ng;
  uint32_t ok[8], var[8];   /* per lane, reduced at the end */
  for (int i = 0; i < 8; i++) ok[i] = ~0u, var[i] = 0;
  size_t j = 0;
  for (; j + 16 <= k; j += 16) {
    uint32_t g0 = (uint32_t)g_idx[j];
    for (int i = 0; i < 8; i++) {
      uint32_t v = (uint32_t)g_idx[j + i], v2 = (uint32_t)g_idx[j + 8 + i];
      ok[i] &= (v - lim) & ~v & (v2 - lim) & ~v2;
      var[i] |= (v ^ g0) | (v2 ^ g0);
    }
  }
  for (; j < k; j++) ok[0] &= ((uint32_t)g_idx[j] - lim) & ~(uint32_t)g_idx[j];
  uint32_t o = ~0u, d = 0;
  for (int i = 0; i < 8; i++) o &= ok[i], d |= var[i];
  return (o >> 31 ? 0 : 1) | (k % 16 == 0 && d == 0 ? 2 : 0);
}

/* --------------------------------------------------------------- rows to f32 */

/* xdeq_<fmt>: rows [r0, r1) to f32, row r at out + (r - r0) * k: the value
 * (q - z) * s is one exact product, as the formats define it */
GLLMK_TPL_KERNEL void QK(xdeq_awq4)(const struct gllmk__qmv *p, size_t r0, size_t r1, float *out) {
  int8_t q[256] __attribute__((aligned(64)));
  float wsc[16], wmn[16];
  for (size_t r = r0; r < r1; r++) {
    float *o = out + (r - r0) * p->k;
    for (size_t u = 0; u < p->units; u++) {
      size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
      QK(unit_awq)(p, r, u, q, wsc, wmn);
      QK(deq_groups)(q, wsc, wmn, 0, (int)(nv / 16), o + 256 * u);
    }
  }
}

GLLMK_TPL_KERNEL void QK(xdeq_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1, float *out) {
  int8_t q[256] __attribute__((aligned(64)));
  float wsc[16], wmn[16];
  float srow_b[GLLMK_GPTQ_SROW] __attribute__((aligned(64)));
  for (size_t r = r0; r < r1; r++) {
    float *o = out + (r - r0) * p->k;
    const float *srow = QK(gptq_srow)(p, r, srow_b);
    if (p->g_c16) {
      for (size_t u = 0; u < p->units; u++) {
        size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
        QK(unit_gptq)(p, r, u, srow, NULL, q, wsc, wmn);
        QK(deq_groups)(q, wsc, wmn, 0, (int)(nv / 16), o + 256 * u);
      }
    } else {
      for (size_t u = 0; u < p->units; u++)
        QK(gptq_cols)(p, r, u, p->k - 256 * u < 256 ? p->k - 256 * u : 256, srow, o + 256 * u);
    }
  }
}

GLLMK_TPL_KERNEL void QK(xdeq_sqllm)(const struct gllmk__qmv *p, size_t r0, size_t r1, float *out) {
  for (size_t r = r0; r < r1; r++) QK(dequant_squeezellm)(p->w + r * p->row_bytes, out + (r - r0) * p->k, p->k / 256);
}

GLLMK_TPL_KERNEL void QK(xdeq_i8)(const struct gllmk__qmv *p, size_t r0, size_t r1, float *out) {
  for (size_t r = r0; r < r1; r++) {
    const int8_t *src = (const int8_t *)(p->w + r * p->row_bytes);
    float *o = out + (r - r0) * p->k;
    vf32 s = vf32_splat(((const float *)p->scales)[r]);
    size_t j = 0;
    for (; j + VF32_LANES <= p->k; j += VF32_LANES) vf32_storeu(o + j, vf32_mul(vf32_load_i8(src + j), s));
    for (; j < p->k; j++) o[j] = (float)src[j] * ((const float *)p->scales)[r];
  }
}

GLLMK_TPL_KERNEL void QK(xdeq_i4)(const struct gllmk__qmv *p, size_t r0, size_t r1, float *out) {
  int8_t q[256] __attribute__((aligned(64)));
  float wsc[16], wmn[16];
  for (size_t r = r0; r < r1; r++) {
    float *o = out + (r - r0) * p->k;
    for (size_t u = 0; u < p->units; u++) {
      QK(unit_i4)(p, r, u, q, wsc, wmn);
      QK(deq_n)(q, wsc, p->k - 256 * u < 256 ? p->k - 256 * u : 256, o + 256 * u);
    }
  }
}

/* sum q[i] * x[i] in f32 (gemv_q8/q4/q2/q1 on decoded levels) */
GLLMK_TPL_KERNEL float QK(dot_i8f32)(const int8_t *q, const float *x, size_t n) {
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

/* <w, x> over 256 floats: four chains of FMAs, summed as a tree */
static inline __attribute__((always_inline)) vf32 QK(dot256)(const float *w, const float *x) {
  vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
  for (int j = 0; j < 256; j += 4 * VF32_LANES) {
    a0 = vf32_fma(vf32_loadu(w + j), vf32_loadu(x + j), a0);
    a1 = vf32_fma(vf32_loadu(w + j + VF32_LANES), vf32_loadu(x + j + VF32_LANES), a1);
    a2 = vf32_fma(vf32_loadu(w + j + 2 * VF32_LANES), vf32_loadu(x + j + 2 * VF32_LANES), a2);
    a3 = vf32_fma(vf32_loadu(w + j + 3 * VF32_LANES), vf32_loadu(x + j + 3 * VF32_LANES), a3);
  }
  return vf32_add(vf32_add(a0, a1), vf32_add(a2, a3));
}

/* y[i][r] = <W row r decoded to f32, x_i> for the formats without an integer
 * form (SqueezeLLM's codebook, GPTQ4 with per-column groups): rowf (may be
 * NULL) runs once per row, decf writes unit u of row r as 256 floats w (zero
 * padded); always inlined with constant callbacks, as qmv_body */
typedef void (*gllmk__fdec_fn)(const struct gllmk__qmv *p, size_t r, size_t u, const gllmk__qrow_st *st,
                               float *w);
static inline __attribute__((always_inline)) void
QK(fmv_body)(const struct gllmk__qmv *p, size_t r0, size_t r1, gllmk__qrow_fn rowf, gllmk__fdec_fn decf,
             gllmk__qrow_st *st) {
  float w[256] __attribute__((aligned(64)));
  float acc[GLLMK_QMV_MB * VF32_MAX_LANES] __attribute__((aligned(64)));
  for (size_t r = r0; r < r1; r++) {
    if (rowf) rowf(p, r, st);
    for (size_t i0 = 0; i0 < p->m; i0 += GLLMK_QMV_MB) {
      size_t mb = p->m - i0 < GLLMK_QMV_MB ? p->m - i0 : GLLMK_QMV_MB;
      memset(acc, 0, mb * VF32_MAX_LANES * sizeof(float));
      for (size_t u = 0; u < p->units; u++) {
        decf(p, r, u, st, w);
        for (size_t i = 0; i < mb; i++)
          vf32_storeu(QACC(acc, i), vf32_add(vf32_loadu(QACC(acc, i)),
                                             QK(dot256)(w, p->xf + (i0 + i) * p->act_stride + 256 * u)));
      }
      for (size_t i = 0; i < mb; i++)
        p->y[(i0 + i) * p->ldy + r] = vf32_reduce_add(vf32_loadu(QACC(acc, i)));
    }
  }
}

/* one activation row: decoded values straight into the FMAs */
static void QK(fmv1_sqllm)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
    for (size_t u = 0; u < p->units; u++) {
      const uint8_t *b = p->w + r * p->row_bytes + 112 * u, *c = b + 16;
      const float *x = p->xf + 256 * u;
      vf32_tab8 cb = vf32_tab8_f16(b);
      for (size_t j = 0; j < 256; j += 4 * VF32_LANES) {
        a0 = vf32_fma(vf32_lut8_3b(&cb, c, j), vf32_loadu(x + j), a0);
        a1 = vf32_fma(vf32_lut8_3b(&cb, c, j + VF32_LANES), vf32_loadu(x + j + VF32_LANES), a1);
        a2 = vf32_fma(vf32_lut8_3b(&cb, c, j + 2 * VF32_LANES), vf32_loadu(x + j + 2 * VF32_LANES), a2);
        a3 = vf32_fma(vf32_lut8_3b(&cb, c, j + 3 * VF32_LANES), vf32_loadu(x + j + 3 * VF32_LANES), a3);
      }
    }
    p->y[r] = vf32_reduce_add(vf32_add(vf32_add(a0, a1), vf32_add(a2, a3)));
  }
}
static inline __attribute__((always_inline)) void
QK(fd_sqllm)(const struct gllmk__qmv *p, size_t r, size_t u, const gllmk__qrow_st *st, float *w) {
  (void)st;
  QK(sqllm_block)(p->w + r * p->row_bytes + 112 * u, w);
}
GLLMK_TPL_KERNEL void QK(fmv_sqllm)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  if (p->m == 1) {
    QK(fmv1_sqllm)(p, r0, r1);
    return;
  }
  gllmk__qrow_st st = {0};
  QK(fmv_body)(p, r0, r1, NULL, QK(fd_sqllm), &st);
}

/* one activation row: whole units decoded straight into the FMAs */
static void QK(fmv1_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  float srow_b[GLLMK_GPTQ_SROW] __attribute__((aligned(64)));
  float w[256] __attribute__((aligned(64)));
  int8_t q[256] __attribute__((aligned(64)));
  size_t ng = p->n_groups;
  for (size_t r = r0; r < r1; r++) {
    const float *srow = QK(gptq_srow)(p, r, srow_b);
    vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
    for (size_t u = 0; u < p->units; u++) {
      size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
      const float *x = p->xf + 256 * u;
      if (nv < 256 || !srow) {
        QK(gptq_cols)(p, r, u, nv, srow, w);
        for (size_t j = nv; j < 256; j++) w[j] = 0.0f;
        a0 = vf32_add(a0, QK(dot256)(w, x));
        continue;
      }
      const int32_t *gi = p->g_idx + 256 * u;
      QK(nib_levels)(p->w + r * p->row_bytes + 128 * u, 256, q, gllmk__lut_m8);
#define GLLMK_GQ_W(o) vf32_mul(vf32_load_i8(q + j + (o)), vf32_lut_idx(srow, ng, gi + j + (o)))
      for (size_t j = 0; j < 256; j += 4 * VF32_LANES) {
        a0 = vf32_fma(GLLMK_GQ_W(0), vf32_loadu(x + j), a0);
        a1 = vf32_fma(GLLMK_GQ_W(VF32_LANES), vf32_loadu(x + j + VF32_LANES), a1);
        a2 = vf32_fma(GLLMK_GQ_W(2 * VF32_LANES), vf32_loadu(x + j + 2 * VF32_LANES), a2);
        a3 = vf32_fma(GLLMK_GQ_W(3 * VF32_LANES), vf32_loadu(x + j + 3 * VF32_LANES), a3);
      }
#undef GLLMK_GQ_W
    }
    p->y[r] = vf32_reduce_add(vf32_add(vf32_add(a0, a1), vf32_add(a2, a3)));
  }
}
static inline __attribute__((always_inline)) void
QK(fd_gptq)(const struct gllmk__qmv *p, size_t r, size_t u, const gllmk__qrow_st *st, float *w) {
  size_t nv = p->k - 256 * u < 256 ? p->k - 256 * u : 256;
  QK(gptq_cols)(p, r, u, nv, st->srow, w);
  for (size_t j = nv; j < 256; j++) w[j] = 0.0f;
}
GLLMK_TPL_KERNEL void QK(fmv_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1) {
  if (p->m == 1) {
    QK(fmv1_gptq4)(p, r0, r1);
    return;
  }
  float srow_b[GLLMK_GPTQ_SROW] __attribute__((aligned(64)));
  gllmk__qrow_st st = {.srow_b = srow_b};
  QK(fmv_body)(p, r0, r1, QK(qr_gptq), QK(fd_gptq), &st);
}

#undef QACC
#undef QK
