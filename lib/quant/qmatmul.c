/* qmatmul.c -- Y = X . W^T with quantized W: validation, activation
 * quantization and the split across threads (Tables C and D of DESIGN.md)
 * SPDX-License-Identifier: MIT
 *
 * Two paths:
 *  - decode shapes (m < GLLMK_QGEMM_MIN_M): the activations are quantized to
 *    int8 per 32 values and each weight unit is decoded once and dotted with
 *    every activation row with integer dot products (kernels qmv_<fmt>).
 *    SqueezeLLM and GPTQ4 with groups that change inside 16 columns have no
 *    integer form: their units are decoded to f32 and dotted in f32 (fmv).
 *  - prefill shapes (m >= GLLMK_QGEMM_MIN_M): the activations are quantized
 *    as on the decode path and each thread decodes tiles of W rows to int8
 *    records once, then multiplies them with every activation row in an
 *    int8 micro-kernel (kernels qgemm_<fmt>, kernels/quant_tpl.h): the same
 *    integer dots and the same bound as the decode path.  The formats with
 *    no integer form decode tiles to f32 and run the f32 GEMM micro-kernel
 *    on them (exact f32 products, no activation rounding).
 *
 * Accuracy of the integer path: an activation x in a chunk of 32 with
 * a = max |x| over the chunk is replaced by (a / 127) * round(127 x / a), an
 * error of at most a / 254; so |y - exact| <= sum over chunks of
 * (a_chunk / 254) * sum |w| over the chunk, plus f32 rounding of the sums.
 */
#include "quant/qformats.h"
#include "core/cpu_ws.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "quant/blocks.h"
#include "simd/fp16.h"

/* ------------------------------------------------------------------ external formats */

/* rows of k values, row_bytes apart, in units of 256 values unit_bytes long */
static void set_rows(struct gllmk__qmv *p, const void *w, size_t k, size_t row_bytes, size_t unit_bytes) {
  p->w = (const uint8_t *)w;
  p->k = k;
  p->row_bytes = row_bytes;
  p->unit_bytes = unit_bytes;
  p->units = (k + 255) / 256;
}

/* the shape checks of gllmk__awq_setup */
static gllmk_status awq_shape(size_t n, size_t k) {
  size_t t;
  if (!gllmk__mul3(n, k, sizeof(float), &t)) return GLLMK_E_OVERFLOW;
  if (k % 128) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

gllmk_status gllmk__awq_setup(struct gllmk__qmv *p, const uint8_t *packed, const uint8_t *zeros,
                              const gllmk_f16 *scales, size_t n, size_t k) {
  memset(p, 0, sizeof *p);
  gllmk_status st = awq_shape(n, k);
  if (st != GLLMK_OK) return st;
  if (n && k && (!packed || !zeros || !scales)) return GLLMK_E_INVAL;
  set_rows(p, packed, k, k / 2, 128);
  p->zeros = zeros;
  p->zero_bytes = (k / 128 + 1) / 2;
  p->scales = scales;
  p->n_groups = k / 128;
  p->xfmt = GLLMK_XF_AWQ4;
  return GLLMK_OK;
}

/* the shape checks of gllmk__gptq_setup (but the one on n_groups == 0,
 * which comes after the pointer checks) */
static gllmk_status gptq_shape(size_t n_groups, size_t n, size_t k) {
  size_t t;
  if (!gllmk__mul3(n, k, sizeof(float), &t) || !gllmk__mul(k, sizeof(int32_t), &t) ||
      !gllmk__mul3(n, n_groups, sizeof(gllmk_f16), &t))
    return GLLMK_E_OVERFLOW;
  if (k % 2) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

gllmk_status gllmk__gptq_setup(struct gllmk__qmv *p, const uint8_t *packed, const int32_t *g_idx,
                               const gllmk_f16 *scales, size_t n_groups, size_t n, size_t k) {
  memset(p, 0, sizeof *p);
  gllmk_status st = gptq_shape(n_groups, n, k);
  if (st != GLLMK_OK) return st;
  if (n && k && (!packed || !g_idx || !scales)) return GLLMK_E_INVAL;
  if (n && k && n_groups == 0) return GLLMK_E_INVAL;
  /* every g_idx[j] in [0, n_groups), and whether g_idx is constant over
   * every 16 columns (the integer path): one vectorised pass */
  int c16 = 0;
  if (n && k) {
    const struct gllmk_kernels *kt = gllmk__kernels();
    if (!kt) return GLLMK_E_UNSUPPORTED;
    int f = kt->q.gidx_scan(g_idx, k, n_groups);
    if (f & 1) return GLLMK_E_INVAL;
    c16 = (f & 2) != 0;
  }
  set_rows(p, packed, k, k / 2, 128);
  p->scales = scales;
  p->n_groups = n_groups;
  p->g_idx = g_idx;
  p->g_c16 = c16;
  p->xfmt = GLLMK_XF_GPTQ4;
  return GLLMK_OK;
}

/* int8 [n x k] or int4 [n x k/2] rows with f32 scales[n] (Table C gemm_q8 /
 * gemm_q4 and the int8/int4 fused ops) */
static gllmk_status intw_shape(int bits, size_t w_bytes, size_t n, size_t k) {
  size_t rb = bits == 8 ? k : k / 2, need, t;
  if (!gllmk__mul(n, rb, &need) || !gllmk__mul3(n, k, sizeof(float), &t)) return GLLMK_E_OVERFLOW;
  if (bits == 4 && k % 2) return GLLMK_E_INVAL;
  if (w_bytes < need) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static gllmk_status intw_setup(struct gllmk__qmv *p, int bits, const void *w, size_t w_bytes,
                               const float *scales, size_t n, size_t k) {
  memset(p, 0, sizeof *p);
  size_t rb = bits == 8 ? k : k / 2;
  gllmk_status st = intw_shape(bits, w_bytes, n, k);
  if (st != GLLMK_OK) return st;
  if (n && k && !w) return GLLMK_E_INVAL;
  if (n && !scales) return GLLMK_E_INVAL;
  set_rows(p, w, k, rb, bits == 8 ? 256 : 128);
  p->scales = scales;
  p->xfmt = bits == 8 ? GLLMK_XF_I8 : GLLMK_XF_I4;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ the driver */

#define GLLMK_QGEMM_MIN_M 16     /* from this many activation rows on: the GEMM paths */
/* W rows a thread decodes at a time on the f32 GEMM path: up to 256 (the GEMM
 * packs X once per tile), at most about 4 MiB of f32, at least 16 */
#define GLLMK_QGEMM_TILE_MAX 256
#define GLLMK_QGEMM_TILE_BYTES ((size_t)4 << 20)
static size_t qgemm_tile(size_t k) {
  size_t t = GLLMK_QGEMM_TILE_BYTES / (k * sizeof(float));
  t = t > GLLMK_QGEMM_TILE_MAX ? GLLMK_QGEMM_TILE_MAX : t;
  return t < 16 ? 16 : t & ~(size_t)15;
}
/* W rows per int8 GEMM tile: about 384 KiB of decoded records (in L2 while
 * every activation row passes), a multiple of 4, 4 .. GLLMK_QG_NT */
#define GLLMK_QG_TILE_BYTES ((size_t)384 << 10)
static size_t qg_rows(size_t units) {
  size_t t = GLLMK_QG_TILE_BYTES / (units * GLLMK_QG_UNIT_BYTES);
  t = t > GLLMK_QG_NT ? GLLMK_QG_NT : t;
  return t < 4 ? 4 : t & ~(size_t)3;
}
static size_t qg_tile_floats(size_t units) {
  return (qg_rows(units) * units * GLLMK_QG_UNIT_BYTES + 63) / sizeof(float);
}
#define GLLMK_QMV_GRAIN 4
#define GLLMK_GPTQ_G16_STACK 1024   /* GPTQ4 g16 on the stack up to k = 16384 */

struct qmm {
  const struct gllmk_kernels *kt;
  struct gllmk__qmv p;
  void (*qmv)(const struct gllmk__qmv *p, size_t r0, size_t r1);   /* integer path */
  void (*fmv)(const struct gllmk__qmv *p, size_t r0, size_t r1);   /* else the float path */
  void (*qgemm)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile);   /* integer prefill */
  int qf;                      /* GGUF kernel index, or GLLMK_QF_EXTERNAL (then p.xfmt) */
  const float *X;              /* [m x k] f32 */
  size_t m, n;
  int nomem;
};

static void qmv_run(void *v, size_t r0, size_t r1) {
  struct qmm *c = v;
  c->qmv(&c->p, r0, r1);
}

struct qact_ctx { const struct gllmk_kernels *kt; struct gllmk__qmv *p; const float *X; int8_t *qs; float *dx16, *xb16; int ilv; };
static void qact_run(void *v, size_t i0, size_t i1) {
  struct qact_ctx *c = v;
  size_t k = c->p->k, u = c->p->units;
  for (size_t i = i0; i < i1; i++) {
    c->kt->q.quant_act(c->X + i * k, k, c->qs + i * u * 256, c->dx16 + i * u * 16, c->xb16 + i * u * 16);
    if (c->ilv) c->kt->q.qgemm_act(c->qs + i * u * 256, u);
  }
}

/* decode rows [r0, r1) of W to f32 rows of k */
static void decode_rows(const struct qmm *c, size_t r0, size_t r1, float *out) {
  const struct gllmk__qmv *p = &c->p;
  if (c->qf < 0) {
    c->kt->q.xdeq[p->xfmt](p, r0, r1, out);
    return;
  }
  for (size_t r = r0; r < r1; r++)
    c->kt->q.dequant[c->qf](p->w + r * p->row_bytes, out + (r - r0) * p->k,
                            p->row_bytes / gllmk__qinfos[c->qf].block_bytes);
}

/* the decode path's activations for m rows of k: int8 values with the
 * per-16 scales and sums (int_path), or f32 rows padded to whole units */
static size_t qact_bytes(bool int_path, size_t m, size_t k) {
  size_t units = (k + 255) / 256, stride = units * 256;
  return int_path ? m * stride + 2 * (m * units * 16 * sizeof(float)) + 64
                  : m * stride * sizeof(float);
}

/* What qmm_run draws for Y[m x n] = X[m x k] . W^T (int_path: c->qmv is set
 * before it runs): on the GEMM path a GLLMK_SCRATCH_GEMM and a
 * GLLMK_SCRATCH_QTILE region per thread, on the decode path one activation
 * buffer. */
static void qmm_plan(struct gllmk__ws_plan *p, bool int_path, size_t m, size_t n, size_t k) {
  if (m == 0 || n == 0 || k == 0) return;
  if (m >= GLLMK_QGEMM_MIN_M && int_path) {
    size_t units = (k + 255) / 256;
    gllmk__ws_plan_buf(p, qact_bytes(true, m, k));
    gllmk__ws_plan_slot(p, GLLMK_SCRATCH_QTILE, qg_tile_floats(units),
                        gllmk__parallel_width(n, qg_rows(units), 1));
    return;
  }
  if (m >= GLLMK_QGEMM_MIN_M) {
    size_t tr = qgemm_tile(k), w = gllmk__parallel_width(n, tr, 1);
    gllmk__ws_plan_slot(p, GLLMK_SCRATCH_GEMM, GLLMK_GEMM_WS_FLOATS, w);
    gllmk__ws_plan_slot(p, GLLMK_SCRATCH_QTILE, tr * k, w);
    return;
  }
  gllmk__ws_plan_buf(p, qact_bytes(int_path, m, k));
}

static void qgemm_run(void *v, size_t j0, size_t j1) {
  struct qmm *c = v;
  size_t k = c->p.k;
  float *ws = gllmk__scratch(GLLMK_SCRATCH_GEMM, GLLMK_GEMM_WS_FLOATS);
  size_t tr = qgemm_tile(k);
  float *tile = gllmk__scratch(GLLMK_SCRATCH_QTILE, tr * k);
  if (!ws || !tile) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  for (size_t j = j0; j < j1; j += tr) {
    size_t nt = j1 - j < tr ? j1 - j : tr;
    decode_rows(c, j, j + nt, tile);
    c->kt->f32.gemm(c->m, nt, k, c->X, k, tile, k, true, NULL, c->p.y + j, c->p.ldy, ws);
  }
}

static void qg_run(void *v, size_t j0, size_t j1) {
  struct qmm *c = v;
  size_t units = c->p.units, tr = qg_rows(units);
  float *tile = gllmk__scratch(GLLMK_SCRATCH_QTILE, qg_tile_floats(units));
  if (!tile) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  void *t64 = (void *)(((uintptr_t)tile + 63) & ~(uintptr_t)63);
  for (size_t j = j0; j < j1; j += tr) c->qgemm(&c->p, j, j1 - j < tr ? j1 : j + tr, t64);
}

/* the activations of the integer paths: quant_act per row (and the int8
 * GEMM's layout when ilv) into buf (qact_bytes(true, m, k)) */
static void qact_all(struct qmm *c, void *buf, int ilv) {
  struct gllmk__qmv *p = &c->p;
  size_t m = c->m, units = p->units, b2 = m * units * 16 * sizeof(float);
  float *dx16 = (float *)buf, *xb16 = (float *)((char *)buf + b2);
  int8_t *qs = (int8_t *)((char *)buf + 2 * b2);
  struct qact_ctx a = {c->kt, p, c->X, qs, dx16, xb16, ilv};
  if (ilv)
    gllmk__parallel(m, 1, 16, qact_run, &a);
  else
    qact_run(&a, 0, m);
  p->qs = qs, p->dx16 = dx16, p->xb16 = xb16;
}

/* Y[m x n] (f32, row stride n) = X[m x k] (f32) . W^T; c->p describes W */
static gllmk_status qmm_run(struct qmm *c, float *Y) {
  size_t m = c->m, n = c->n, k = c->p.k;
  struct gllmk__qmv *p = &c->p;
  p->y = Y;
  p->ldy = n;
  p->m = m;
  if (m == 0 || n == 0) return GLLMK_OK;
  if (k == 0) {
    memset(Y, 0, m * n * sizeof(float));
    return GLLMK_OK;
  }
  size_t units = p->units, stride = units * 256;
  p->act_stride = stride;
  if (m >= GLLMK_QGEMM_MIN_M && c->qgemm) {
    void *buf = gllmk__ws_alloc(qact_bytes(true, m, k));
    if (!buf) return GLLMK_E_NOMEM;
    qact_all(c, buf, 1);
    gllmk__parallel(n, qg_rows(units), 1, qg_run, c);   /* as qmm_plan */
    gllmk__ws_free(buf);
    return c->nomem ? GLLMK_E_NOMEM : GLLMK_OK;
  }
  if (m >= GLLMK_QGEMM_MIN_M) {
    gllmk__parallel(n, qgemm_tile(k), 1, qgemm_run, c);   /* as qmm_plan */
    return c->nomem ? GLLMK_E_NOMEM : GLLMK_OK;
  }
  void *buf = NULL;
  if (c->qmv) {
    buf = gllmk__ws_alloc(qact_bytes(true, m, k));
    if (!buf) return GLLMK_E_NOMEM;
    qact_all(c, buf, 0);
  } else {
    float *xf = gllmk__ws_alloc(qact_bytes(false, m, k));
    if (!xf) return GLLMK_E_NOMEM;
    for (size_t i = 0; i < m; i++) {
      memcpy(xf + i * stride, c->X + i * k, k * sizeof(float));
      memset(xf + i * stride + k, 0, (stride - k) * sizeof(float));
    }
    p->xf = xf;
    buf = xf;
    c->qmv = c->fmv;
  }
  double work = (double)n * (double)k * (double)m;
  gllmk__parallel(n, GLLMK_QMV_GRAIN, work < 1e6 ? n : 16, qmv_run, c);
  gllmk__ws_free(buf);
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ set-up per family */

/* the shape checks of gguf_setup: the format's info and row bytes */
static gllmk_status gguf_shape(gllmk_qtype t, size_t w_bytes, size_t m, size_t n, size_t k,
                               const gllmk__qinfo **qip, size_t *rbp) {
  const gllmk__qinfo *qi = gllmk__qinfo_of(t);
  if (!qi) return GLLMK_E_UNSUPPORTED;
  if (t == GLLMK_AWQ4 || t == GLLMK_GPTQ4) return GLLMK_E_UNSUPPORTED;
  size_t rb, need, t2;
  if (!gllmk__mul(k / qi->block_size, qi->block_bytes, &rb) || !gllmk__mul(n, rb, &need) ||
      !gllmk__mul3(m, k, sizeof(float), &t2) || !gllmk__mul3(m, n, sizeof(float), &t2) ||
      k > (size_t)-1 - 255)
    return GLLMK_E_OVERFLOW;
  if (k % qi->block_size) return GLLMK_E_INVAL;
  if (w_bytes < need) return GLLMK_E_INVAL;
  *qip = qi, *rbp = rb;
  return GLLMK_OK;
}

static gllmk_status gguf_setup(struct qmm *c, const void *w, size_t w_bytes, gllmk_qtype t, size_t m,
                               size_t n, size_t k) {
  const gllmk__qinfo *qi;
  size_t rb;
  gllmk_status st = gguf_shape(t, w_bytes, m, n, k, &qi, &rb);
  if (st != GLLMK_OK) return st;
  if (n && k && !w) return GLLMK_E_INVAL;
  memset(&c->p, 0, sizeof c->p);
  set_rows(&c->p, w, k, rb, qi->block_size == 32 ? 8 * qi->block_bytes : qi->block_bytes);
  c->qf = qi->qf;
  c->qmv = qi->qf >= 0 ? c->kt->q.qmv[qi->qf] : NULL;   /* SqueezeLLM: float path */
  c->qgemm = qi->qf >= 0 ? c->kt->q.qgemm[qi->qf] : NULL;
  if (qi->qf < 0) {
    c->fmv = c->kt->q.fmv_sqllm;
    c->p.xfmt = GLLMK_XF_SQLLM;
  }
  c->m = m, c->n = n;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ public, per element type */

/* op-level buffers of the element-type wrappers (qmatmul_tpl.h) */
static size_t run_bytes(size_t m, size_t n, size_t k) { return (m * k + m * n) * sizeof(float) + 64; }
static size_t xf_bytes(size_t count) { return count * sizeof(float) + 64; }
static size_t g16_bytes(size_t k) {
  return k / 16 > GLLMK_GPTQ_G16_STACK ? k / 16 * sizeof(int32_t) : 0;
}

#define GLLMK_WSQ__(op, tn) gllmk__cpu_ws_##op##_##tn
#define GLLMK_WSQ_(op, tn) GLLMK_WSQ__(op, tn)
#define WSQ(op) GLLMK_WSQ_(op, TN)

#define GLLMK_QPUB__(op, tn) gllmk_##op##_##tn
#define GLLMK_QPUB_(op, tn) GLLMK_QPUB__(op, tn)
#define QPUB(op) GLLMK_QPUB_(op, TN)
#define QCL__(name, tn) gllmk__q_##name##_##tn
#define QCL_(name, tn) QCL__(name, tn)
#define QCL(name) QCL_(name, TN)

#define GLLMK_DTYPE_TPL "quant/qmatmul_tpl.h"
#include "core/each_dtype.h"
