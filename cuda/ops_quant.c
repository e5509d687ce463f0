/* ops_quant.c -- the CUDA backend's Table C ops and dequantize: checks, plan, launch
 * SPDX-License-Identifier: MIT
 *
 * Every op checks its arguments as the CPU function does (lib/quant/qmatmul.c
 * and qmatmul_tpl.h), in the same order and with the same codes, then that
 * each range it reads or writes lies in one buffer of be (the weights: the n
 * rows the shape needs; side arrays: their whole extent), else GLLMK_E_INVAL,
 * then takes its workspace (GLLMK_E_NOMEM before any launch when the
 * reserved one is smaller than the query says).
 *
 * Y[m x n] = X[m x k] . W^T (fused_dequant_gemv, kquant_matmul, iq_matmul,
 * squeeze_matmul, awq_matmul, gptq_matmul, gemm_q8, gemm_q4 and the
 * fused_<fmt>_matmul aliases) has the CPU's two paths:
 *  - m < 16 (decode): GGUF block formats quantize X to int8 per 32 values in
 *    the workspace (gk_qact: m k bytes + the scales and sums, 3 m k / 16
 *    bytes) and run the integer GEMV gk_qmv (dp4a); the formats without an
 *    integer form (SqueezeLLM, AWQ4, GPTQ4, int8 / int4 rows) run gk_qmvf on
 *    the f32 activations.  The bound of gllmk/quant_ops.h holds for both.
 *  - m >= 16 (prefill): W is decoded to T in the workspace (gk_dequant, bit
 *    for bit gllmk_dequantize's values; gk_xdequant for the side-array
 *    formats), panel by panel of at most QPANEL_BYTES, and multiplied with
 *    cuda/gemm.cu's NT GEMM: f16 / bf16 on tensor cores (HMMA, f32
 *    accumulation: W rounded once to T, as x is), f32 exact FFMA (the CPU's
 *    f32 product of the decoded weights).  One panel writes Y directly; with
 *    several, each panel's Y columns go through the workspace and
 *    gk_copy_cols.  Q4_K (16-byte aligned rows) with f16 / bf16 X skips the
 *    panel: the GEMM decodes W's tiles into shared memory itself
 *    (gk_qgemm_q4k_*, gk_q4k_chunk), with the panel path's bits.  Why f16 /
 *    bf16 mma and not the int8 mma: int8 needs the activations rounded to
 *    int8 (the decode path's error) where a prefill GEMM can afford
 *    T-precision, and one decoder per format into T serves every format.
 * GPTQ4's g_idx is in device memory: gk_qgidx_check sets a flag word (in the
 * workspace) that the kernels read; with an index outside [0, n_groups)
 * nothing is written (the CPU returns GLLMK_E_INVAL; a device cannot
 * without a synchronisation).
 *
 * gemv_q8/q4/q2/q1 (one vector): one block, a fixed-order sum, the float
 * result in backend memory.  dequantize: gk_dequant over the blocks.
 */
#include "cuda_internal.h"
#include "quant/qformats.h"
#include "quant/qfcount.h"

#include <stdint.h>
#include <string.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t q_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};
typedef enum gllmk__cu_kernel kid;

/* cuda/qmatmul.cu's constants */
#define QMV_THREADS 128
#define QMV_MAXM 16              /* GK_QMV_MAXM: the decode path below this many rows */
#define DEQ_THREADS 64
#define XDEQ_THREADS 256
#define QGEMV_THREADS 512
#define QACT_THREADS 256
#define COPY_THREADS 256
#define SQLLM_FMT GLLMK_NQFMT    /* embq.cu GK_EMBQ_SQLLM: after qformats.def's rows */
enum { XF_AWQ4, XF_GPTQ4, XF_SQLLM, XF_I8, XF_I4, XF_NONE };
#define QPANEL_BYTES ((size_t)64 << 20)   /* W decoded per panel, at most (but 64 rows) */
#define QPANEL_MIN_ROWS 64
#define BLOCKS_PER_SM 8          /* grid caps (grid-stride beyond) */
#define MAX_GRID 0x7fffffffu
/* cuda/gemm.cu's tensor-core plan (as cuda/ops_gemm.c) for the fused Q4_K prefill */
#define QGEMM_BIG 128
#define QGEMM_SMALL 64
#define QGEMM_THREADS 128
#define QGEMM_AVEC 1u
#define QGEMM_CVEC 4u

static const kid k_dequant[3] = {GK_gk_dequant_f32, GK_gk_dequant_f16, GK_gk_dequant_bf16};
static const kid k_xdequant[3] = {GK_gk_xdequant_f32, GK_gk_xdequant_f16, GK_gk_xdequant_bf16};
static const kid k_qact[3] = {GK_gk_qact_f32, GK_gk_qact_f16, GK_gk_qact_bf16};
static const kid k_qmv[3] = {GK_gk_qmv_f32, GK_gk_qmv_f16, GK_gk_qmv_bf16};
static const kid k_qmv_q4k[2][3] = {   /* [m == 1][dt] */
    {GK_gk_qmv_q4k_f32, GK_gk_qmv_q4k_f16, GK_gk_qmv_q4k_bf16},
    {GK_gk_qmv_q4k_m1_f32, GK_gk_qmv_q4k_m1_f16, GK_gk_qmv_q4k_m1_bf16},
};
static const kid k_qmvf[XF_NONE][3] = {   /* [xf][dt] */
    {GK_gk_qmvf_awq4_f32, GK_gk_qmvf_awq4_f16, GK_gk_qmvf_awq4_bf16},
    {GK_gk_qmvf_gptq4_f32, GK_gk_qmvf_gptq4_f16, GK_gk_qmvf_gptq4_bf16},
    {GK_gk_qmvf_sqllm_f32, GK_gk_qmvf_sqllm_f16, GK_gk_qmvf_sqllm_bf16},
    {GK_gk_qmvf_i8_f32, GK_gk_qmvf_i8_f16, GK_gk_qmvf_i8_bf16},
    {GK_gk_qmvf_i4_f32, GK_gk_qmvf_i4_f16, GK_gk_qmvf_i4_bf16},
};
static const kid k_copy[3] = {GK_gk_copy_cols_f32, GK_gk_copy_cols_f16, GK_gk_copy_cols_bf16};
static const kid k_qgemv[4][3] = {
    {GK_gk_qgemv8_f32, GK_gk_qgemv8_f16, GK_gk_qgemv8_bf16},
    {GK_gk_qgemv4_f32, GK_gk_qgemv4_f16, GK_gk_qgemv4_bf16},
    {GK_gk_qgemv2_f32, GK_gk_qgemv2_f16, GK_gk_qgemv2_bf16},
    {GK_gk_qgemv1_f32, GK_gk_qgemv1_f16, GK_gk_qgemv1_bf16},
};

static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }
static size_t align16(size_t b) { return (b + 15) & ~(size_t)15; }

static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

/* blocks for `threads`-thread blocks over `work` threads' worth, capped */
static unsigned grid_for(const gllmk_backend *be, size_t work, unsigned threads) {
  const struct gllmk__cu_dev *dev = gllmk__cu_device(be);
  size_t cap = (size_t)(dev->sm_count > 0 ? dev->sm_count : 1) * BLOCKS_PER_SM, g = div_up(work, threads);
  if (g > cap) g = cap;
  return g ? (unsigned)g : 1;
}

/* ------------------------------------------------------------------ one matrix W [n x k] */
struct qw {
  gllmk_qtype t;            /* GGUF formats */
  int fmt;                  /* GGUF: qformats.def's row (the integer path); SqueezeLLM: SQLLM_FMT */
  int xf;                   /* the float path's format (XF_NONE: GGUF integer path) */
  const uint8_t *w;
  size_t rb, bs, bb;        /* bytes a row; values and bytes a format block */
  const uint8_t *zeros;
  size_t zb;
  const void *scales;
  size_t groups;
  const int32_t *g_idx;
};

/* Workspace of Y = X . W^T, T of size es.  Decode path (m < 16): the int8
 * activations (GGUF formats) or nothing (GPTQ4: its flag word).  Prefill:
 * a panel of np rows of W decoded to T (and, with several panels or for
 * GPTQ4, the panel's Y columns).  The query asks for panels of up to
 * QPANEL_BYTES of W; with less reserved, the op takes the largest panel the
 * workspace holds, down to QPANEL_MIN_ROWS rows (else GLLMK_E_NOMEM). */
static size_t panel_rows(size_t n, size_t k, size_t es) {
  size_t row = k * es != 0 ? k * es : 1, r = QPANEL_BYTES / row;
  if (r >= n) return n;
  r = r / QPANEL_MIN_ROWS * QPANEL_MIN_ROWS;
  return r < QPANEL_MIN_ROWS ? QPANEL_MIN_ROWS : r;
}
static size_t panel_ws(const struct qw *q, size_t np, size_t m, size_t n, size_t k, size_t es) {
  size_t flag = q->xf == XF_GPTQ4 ? 16 : 0;
  return flag + align16(np * k * es) + (np < n || flag ? m * np * es : 0);
}
static size_t mm_ws(const struct qw *q, size_t m, size_t n, size_t k, size_t es) {
  if (m == 0 || n == 0 || k == 0) return 0;
  if (m < QMV_MAXM) {
    if (q->xf != XF_NONE) return q->xf == XF_GPTQ4 ? 16 : 0;
    return align16(m * k) + align16(m * (k / 32) * sizeof(float)) + m * (k / 16) * sizeof(int);
  }
  return panel_ws(q, panel_rows(n, k, es), m, n, k, es);
}
/* the panel rows that fit avail bytes (0: not even the smallest) */
static size_t panel_fit(const struct qw *q, size_t avail, size_t m, size_t n, size_t k, size_t es) {
  size_t np = panel_rows(n, k, es);
  if (panel_ws(q, np, m, n, k, es) <= avail) return np;
  for (np = np >= n ? n / QPANEL_MIN_ROWS * QPANEL_MIN_ROWS : np - QPANEL_MIN_ROWS;
       np >= QPANEL_MIN_ROWS; np -= QPANEL_MIN_ROWS)
    if (panel_ws(q, np, m, n, k, es) <= avail) return np;
  return 0;
}

/* Q4_K rows (16-byte aligned) times f16 / bf16 X, m >= 16: cuda/gemm.cu's
 * tensor-core GEMM with W's tiles decoded into shared memory (the same bits
 * as the panel path: gk_dequant's values rounded to T, the same mma sums);
 * the plan of cuda/ops_gemm.c's NT GEMM */
static gllmk_status q4k_gemm(gllmk_backend *be, int dt, const uint8_t *w, const void *x, void *y,
                             size_t m, size_t n, size_t k) {
  const struct gllmk__cu_dev *dev = gllmk__cu_device(be);
  size_t sms = dev->sm_count > 0 ? (size_t)dev->sm_count : 1;
  int big = div_up(m, QGEMM_BIG) * div_up(n, QGEMM_BIG) >= sms;
  size_t bt = big ? QGEMM_BIG : QGEMM_SMALL, tiles = div_up(m, bt) * div_up(n, bt);
  if (tiles > MAX_GRID) return GLLMK_E_INVAL;
  unsigned flags = 0, grid = (unsigned)tiles;
  if ((uintptr_t)x % 16 == 0 && k % 8 == 0) flags |= QGEMM_AVEC;
  if ((uintptr_t)y % 4 == 0 && n % 2 == 0) flags |= QGEMM_CVEC;
  int stages = 4;
  unsigned stage_bytes = (unsigned)((bt + bt) * 32 * 2);
  if (big && (size_t)dev->max_smem_optin < 2 * (size_t)(4 * stage_bytes)) stages = 3;
  static const kid kq[2][2] = {   /* [bf16][big] */
      {GK_gk_qgemm_q4k_64_f16, GK_gk_qgemm_q4k_128_f16},
      {GK_gk_qgemm_q4k_64_bf16, GK_gk_qgemm_q4k_128_bf16},
  };
  void *a[] = {&x, &w, &y, &m, &n, &k, &flags, &stages};
  return gllmk__cu_launch(be, kq[dt == DT_BF16][big], grid, 1, 1, QGEMM_THREADS, 1, 1,
                          (unsigned)stages * stage_bytes, a);
}

/* Y = X . W^T, everything checked; [ws_base, + ws_avail) the workspace it may use
 * (mm_ws bytes asked for; the prefill takes smaller panels with less) */
static gllmk_status mm_run_in(gllmk_backend *be, int dt, const struct qw *qin, const void *x,
                              void *y, size_t m, size_t n, size_t k, void *ws_base, size_t ws_avail) {
  struct qw qc = *qin, *q = &qc;   /* (the launch arguments' addresses) */
  if (m == 0 || n == 0) return GLLMK_OK;
  size_t es = q_esize[dt], wsb = mm_ws(q, m, n, k, es), np = 0;
  if (k == 0) return gllmk__cuk_linear(be, dt, x, x, NULL, y, m, n, 0);   /* Y = 0 */
  if (m >= QMV_MAXM && q->t == GLLMK_Q4_K && dt != DT_F32 && (uintptr_t)q->w % 16 == 0)
    return q4k_gemm(be, dt, q->w, x, y, m, n, k);   /* fused: no panel, no workspace */
  if (m >= QMV_MAXM) {   /* the largest panel the workspace holds */
    np = panel_fit(q, ws_base ? ws_avail : 0, m, n, k, es);
    if (np == 0) return GLLMK_E_NOMEM;
    wsb = panel_ws(q, np, m, n, k, es);
  }
  if (wsb > ws_avail || (wsb && !ws_base)) return GLLMK_E_NOMEM;
  char *ws = ws_base;
  gllmk_status st;
  unsigned *flag = NULL;
  if (q->xf == XF_GPTQ4) {
    flag = (unsigned *)ws;
    ws += 16;
    void *a[] = {&q->g_idx, &k, &q->groups, &flag};
    if ((st = gllmk__cu_launch(be, GK_gk_qgidx_check, 1, 1, 1, 256, 1, 1, 0, a)) != GLLMK_OK) return st;
  }
  int xf = q->xf;
  if (m < QMV_MAXM) {
    size_t rpw = 32, units = xf == XF_NONE ? k / q->bs : div_up(k, 32);
    for (size_t t = 1; t < 32 && t < units; t *= 2) rpw /= 2;
    unsigned grid = grid_for(be, div_up(n, rpw) * 32, QMV_THREADS);
    if (xf != XF_NONE) {
      void *a[] = {&q->w, &q->rb, &k, &q->zeros, &q->zb, &q->scales, &q->groups, &q->g_idx,
                   &m, &n, &x, &y, &flag};
      return gllmk__cu_launch(be, k_qmvf[xf][dt], grid, 1, 1, QMV_THREADS, 1, 1, 0, a);
    }
    int8_t *qx = (int8_t *)ws;
    float *dx = (float *)(ws + align16(m * k));
    int *s16 = (int *)(ws + align16(m * k) + align16(m * (k / 32) * sizeof(float)));
    size_t chunks = m * (k / 32);
    void *aa[] = {&x, &chunks, &qx, &dx, &s16};
    st = gllmk__cu_launch(be, k_qact[dt], grid_for(be, chunks * 32, QACT_THREADS), 1, 1,
                          QACT_THREADS, 1, 1, 0, aa);
    if (st != GLLMK_OK) return st;
    if (q->t == GLLMK_Q4_K && (uintptr_t)q->w % 16 == 0) {   /* a warp per row, 16-byte loads */
      void *a[] = {&q->w, &q->rb, &m, &n, &k, &qx, &dx, &s16, &y};
      return gllmk__cu_launch(be, k_qmv_q4k[m == 1][dt], grid_for(be, n * 32, QMV_THREADS), 1, 1,
                              QMV_THREADS, 1, 1, 0, a);
    }
    void *a[] = {&q->w, &q->rb, &q->fmt, &q->bs, &q->bb, &m, &n, &k, &qx, &dx, &s16, &y};
    return gllmk__cu_launch(be, k_qmv[dt], grid, 1, 1, QMV_THREADS, 1, 1, 0, a);
  }
  /* GPTQ4 always through the Y panel: its copy is skipped on a bad g_idx */
  void *wp = ws, *yp = np < n || flag ? ws + align16(np * k * es) : NULL;
  for (size_t r0 = 0; r0 < n; r0 += np) {
    size_t rows = n - r0 < np ? n - r0 : np;
    if (xf == XF_NONE) {
      const uint8_t *src = q->w + r0 * q->rb;
      size_t nblk = rows * (q->rb / q->bb);
      void *a[] = {&src, &nblk, &q->fmt, &q->bs, &q->bb, &wp};
      st = gllmk__cu_launch(be, k_dequant[dt], grid_for(be, nblk, DEQ_THREADS), 1, 1, DEQ_THREADS,
                            1, 1, 0, a);
    } else {
      void *a[] = {&q->w, &q->rb, &k, &q->zeros, &q->zb, &q->scales, &q->groups, &q->g_idx, &xf,
                   &r0, &rows, &wp, &flag};
      st = gllmk__cu_launch(be, k_xdequant[dt], grid_for(be, rows * div_up(k, 8), XDEQ_THREADS), 1,
                            1, XDEQ_THREADS, 1, 1, 0, a);
    }
    if (st != GLLMK_OK) return st;
    void *dst = yp ? yp : (char *)y + r0 * es;
    st = gllmk__cuk_linear(be, dt, x, wp, NULL, dst, m, rows, k);
    if (st != GLLMK_OK) return st;
    if (yp) {
      void *yo = (char *)y + r0 * es;
      void *a[] = {&yp, &m, &rows, &yo, &n, &flag};
      st = gllmk__cu_launch(be, k_copy[dt], grid_for(be, m * rows, COPY_THREADS), 1, 1,
                            COPY_THREADS, 1, 1, 0, a);
      if (st != GLLMK_OK) return st;
    }
  }
  return GLLMK_OK;
}

/* Y = X . W^T in be's workspace */
static gllmk_status mm_run(gllmk_backend *be, int dt, const struct qw *q, const void *x, void *y,
                           size_t m, size_t n, size_t k) {
  size_t avail = gllmk_backend_workspace_size(be);
  return mm_run_in(be, dt, q, x, y, m, n, k, gllmk__be_workspace(be, avail), avail);
}

/* int8 / int4 rows for the ops built on them (cuda_internal.h) */
size_t gllmk__cuk_intw_ws(int dt, int bits, size_t m, size_t n, size_t k) {
  struct qw q = {0};
  q.xf = bits == 8 ? XF_I8 : XF_I4;
  return mm_ws(&q, m, n, k, q_esize[dt]);
}
gllmk_status gllmk__cuk_intw(gllmk_backend *be, int dt, int bits, const void *w,
                             const float *scales, const void *x, void *y, size_t m, size_t n,
                             size_t k, void *ws, size_t ws_bytes) {
  struct qw q = {0};
  q.xf = bits == 8 ? XF_I8 : XF_I4;
  q.w = w, q.rb = bits == 8 ? k : k / 2, q.scales = scales;
  return mm_run_in(be, dt, &q, x, y, m, n, k, ws, ws_bytes);
}

/* ------------------------------------------------------------------ GGUF block formats, SqueezeLLM */
/* lib/quant/qmatmul.c's gguf_shape: the format's info, a row's bytes and
 * the n rows' bytes */
static gllmk_status gguf_shape(size_t w_bytes, gllmk_qtype t, size_t m, size_t n, size_t k,
                               const gllmk__qinfo **qip, size_t *rbp, size_t *needp) {
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
  *qip = qi, *rbp = rb, *needp = need;
  return GLLMK_OK;
}

/* gguf_shape and lib/quant/qmatmul.c's gguf_setup, then the io checks */
static gllmk_status gguf_check(gllmk_backend *be, int dt, const void *w, size_t w_bytes,
                               const void *x, const void *y, gllmk_qtype t, size_t m, size_t n,
                               size_t k, struct qw *q) {
  const gllmk__qinfo *qi;
  size_t rb, need, es = q_esize[dt];
  gllmk_status st = gguf_shape(w_bytes, t, m, n, k, &qi, &rb, &need);
  if (st != GLLMK_OK) return st;
  if (n && k && !w) return GLLMK_E_INVAL;
  if ((m && k && !x) || (m && n && !y)) return GLLMK_E_INVAL;
  memset(q, 0, sizeof *q);
  q->w = w;
  q->rb = rb;
  q->bs = qi->block_size;
  q->bb = qi->block_bytes;
  q->t = t;
  q->fmt = qi->qf >= 0 ? qi->qf : SQLLM_FMT;
  q->xf = qi->qf >= 0 ? XF_NONE : XF_SQLLM;
  if (m == 0 || n == 0) return GLLMK_OK;
  if (!owns(be, w, need, 1) || !owns(be, x, m * k * es, es) || !owns(be, y, m * n * es, es))
    return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* family: 0 any, 1 kquant_matmul's formats, 2 iq_matmul's */
static gllmk_status family_check(int family, gllmk_qtype t) {
  if (family == 0) return GLLMK_OK;
  if (!gllmk__qinfo_of(t)) return GLLMK_E_UNSUPPORTED;
  if (family == 1 && !gllmk__qtype_is_kquant(t)) return GLLMK_E_INVAL;
  if (family == 2 && !gllmk__qtype_is_iq(t)) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static gllmk_status cu_gguf(gllmk_backend *be, int dt, int family, const void *w, size_t w_bytes,
                            const void *x, void *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  if (!be) return GLLMK_E_INVAL;
  struct qw q;
  gllmk_status st = family_check(family, t);
  if (st == GLLMK_OK) st = gguf_check(be, dt, w, w_bytes, x, y, t, m, n, k, &q);
  if (st != GLLMK_OK) return st;
  return mm_run(be, dt, &q, x, y, m, n, k);
}

static gllmk_status gguf_ws(gllmk_backend *be, int dt, int family, size_t w_bytes, gllmk_qtype t,
                            size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  struct qw q;
  gllmk_status st = family_check(family, t);
  if (st != GLLMK_OK) return st;
  /* the shape checks only (NULL pointers are no error here) */
  const gllmk__qinfo *qi;
  size_t rb, need;
  if ((st = gguf_shape(w_bytes, t, m, n, k, &qi, &rb, &need)) != GLLMK_OK) return st;
  memset(&q, 0, sizeof q);
  q.xf = qi->qf >= 0 ? XF_NONE : XF_SQLLM;
  *bytes = mm_ws(&q, m, n, k, q_esize[dt]);
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ AWQ4, GPTQ4 */
static gllmk_status cu_awq(gllmk_backend *be, int dt, const uint8_t *packed, size_t packed_bytes,
                           const uint8_t *zeros, const gllmk_f16 *scales, const void *x, void *y,
                           size_t m, size_t n, size_t k, size_t *ws_only) {
  if (!be) return GLLMK_E_INVAL;
  size_t t, es = q_esize[dt];
  if (!gllmk__mul3(m, k, sizeof(float), &t) || !gllmk__mul3(m, n, sizeof(float), &t) ||
      !gllmk__mul3(n, k, sizeof(float), &t))
    return GLLMK_E_OVERFLOW;
  if (k % 128) return GLLMK_E_INVAL;
  struct qw q = {0};
  q.xf = XF_AWQ4;
  if (ws_only) {
    if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
    *ws_only = mm_ws(&q, m, n, k, es);
    return GLLMK_OK;
  }
  if (n && k && (!packed || !zeros || !scales)) return GLLMK_E_INVAL;
  if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
  if ((m && k && !x) || (m && n && !y)) return GLLMK_E_INVAL;
  q.w = packed, q.rb = k / 2, q.zeros = zeros, q.zb = (k / 128 + 1) / 2, q.scales = scales;
  q.groups = k / 128;
  if (m && n &&
      (!owns(be, packed, n * (k / 2), 1) || !owns(be, zeros, n * q.zb, 1) ||
       !owns(be, scales, n * q.groups * sizeof(gllmk_f16), sizeof(gllmk_f16)) ||
       !owns(be, x, m * k * es, es) || !owns(be, y, m * n * es, es)))
    return GLLMK_E_INVAL;
  return mm_run(be, dt, &q, x, y, m, n, k);
}

static gllmk_status cu_gptq(gllmk_backend *be, int dt, const uint8_t *packed, size_t packed_bytes,
                            const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
                            const void *x, void *y, size_t m, size_t n, size_t k, size_t *ws_only) {
  if (!be) return GLLMK_E_INVAL;
  size_t t, es = q_esize[dt];
  if (!gllmk__mul3(m, k, sizeof(float), &t) || !gllmk__mul3(m, n, sizeof(float), &t) ||
      !gllmk__mul3(n, k, sizeof(float), &t) || !gllmk__mul(k, sizeof(int32_t), &t) ||
      !gllmk__mul3(n, n_groups, sizeof(gllmk_f16), &t))
    return GLLMK_E_OVERFLOW;
  if (k % 2) return GLLMK_E_INVAL;
  struct qw q = {0};
  q.xf = XF_GPTQ4;
  if (ws_only) {
    if ((n && k && n_groups == 0) || packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
    *ws_only = mm_ws(&q, m, n, k, es);
    return GLLMK_OK;
  }
  if (n && k && (!packed || !g_idx || !scales)) return GLLMK_E_INVAL;
  if (n && k && n_groups == 0) return GLLMK_E_INVAL;
  if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
  if ((m && k && !x) || (m && n && !y)) return GLLMK_E_INVAL;
  q.w = packed, q.rb = k / 2, q.scales = scales, q.groups = n_groups, q.g_idx = g_idx;
  if (m && n &&
      (!owns(be, packed, n * (k / 2), 1) || !owns(be, g_idx, k * sizeof(int32_t), sizeof(int32_t)) ||
       !owns(be, scales, n * n_groups * sizeof(gllmk_f16), sizeof(gllmk_f16)) ||
       !owns(be, x, m * k * es, es) || !owns(be, y, m * n * es, es)))
    return GLLMK_E_INVAL;
  return mm_run(be, dt, &q, x, y, m, n, k);
}

/* ------------------------------------------------------------------ int8 / int4 rows */
static gllmk_status cu_intw(gllmk_backend *be, int dt, int bits, const void *w, size_t w_bytes,
                            const void *x, void *y, const float *scales, size_t m, size_t n,
                            size_t k, size_t *ws_only) {
  if (!be) return GLLMK_E_INVAL;
  size_t t, es = q_esize[dt], rb = bits == 8 ? k : k / 2, need;
  if (!gllmk__mul3(m, k, sizeof(float), &t) || !gllmk__mul3(m, n, sizeof(float), &t))
    return GLLMK_E_OVERFLOW;
  if (!gllmk__mul(n, rb, &need) || !gllmk__mul3(n, k, sizeof(float), &t)) return GLLMK_E_OVERFLOW;
  if (bits == 4 && k % 2) return GLLMK_E_INVAL;
  if (w_bytes < need) return GLLMK_E_INVAL;
  struct qw q = {0};
  q.xf = bits == 8 ? XF_I8 : XF_I4;
  if (ws_only) {
    *ws_only = mm_ws(&q, m, n, k, es);
    return GLLMK_OK;
  }
  if (n && k && !w) return GLLMK_E_INVAL;
  if (n && !scales) return GLLMK_E_INVAL;
  if ((m && k && !x) || (m && n && !y)) return GLLMK_E_INVAL;
  q.w = w, q.rb = rb, q.scales = scales;
  if (m && n &&
      (!owns(be, w, need, 1) || !owns(be, scales, n * sizeof(float), sizeof(float)) ||
       !owns(be, x, m * k * es, es) || !owns(be, y, m * n * es, es)))
    return GLLMK_E_INVAL;
  return mm_run(be, dt, &q, x, y, m, n, k);
}

/* ------------------------------------------------------------------ gemv_q8/q4/q2/q1 */
static gllmk_status cu_qvec(gllmk_backend *be, int dt, int bits, const void *w, size_t w_bytes,
                            const void *x, float scale, size_t n, float *result) {
  if (!be) return GLLMK_E_INVAL;
  if (!result) return GLLMK_E_INVAL;
  size_t per = (size_t)(8 / bits), need = n / per + (n % per != 0), es = q_esize[dt];
  if (w_bytes < need) return GLLMK_E_INVAL;
  if (n && (!w || !x)) return GLLMK_E_INVAL;
  size_t t;
  if (!gllmk__mul(n, es, &t)) return GLLMK_E_OVERFLOW;
  if (!owns(be, w, need, 1) || !owns(be, x, n * es, es) || !owns(be, result, sizeof(float), sizeof(float)))
    return GLLMK_E_INVAL;
  int which = bits == 8 ? 0 : bits == 4 ? 1 : bits == 2 ? 2 : 3;
  void *a[] = {&w, &x, &scale, &n, &result};
  return gllmk__cu_launch(be, k_qgemv[which][dt], 1, 1, 1, QGEMV_THREADS, 1, 1, 0, a);
}
static gllmk_status qvec_ws(gllmk_backend *be, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ dequantize */
/* gllmk_dequantize_<dt>'s checks (lib/quant/qmatmul_tpl.h), then the ranges */
static gllmk_status cu_dequant(gllmk_backend *be, int dt, const void *src, size_t src_bytes,
                               gllmk_qtype t, void *out, size_t n) {
  if (!be) return GLLMK_E_INVAL;
  const gllmk__qinfo *qi = gllmk__qinfo_of(t);
  size_t need, nb, es = q_esize[dt];
  if (!qi) return GLLMK_E_UNSUPPORTED;
  if (t == GLLMK_AWQ4 || t == GLLMK_GPTQ4) return GLLMK_E_UNSUPPORTED;
  if (n % qi->block_size) return GLLMK_E_INVAL;
  if (!gllmk__mul(n / qi->block_size, qi->block_bytes, &need)) return GLLMK_E_OVERFLOW;
  if (src_bytes < need) return GLLMK_E_INVAL;
  if (!gllmk__mul(n, sizeof(float), &nb)) return GLLMK_E_OVERFLOW;
  if (n == 0) return GLLMK_OK;
  if (!src || !out) return GLLMK_E_INVAL;
  if (!owns(be, src, need, 1) || !owns(be, out, n * es, es)) return GLLMK_E_INVAL;
  int fmt = qi->qf >= 0 ? qi->qf : SQLLM_FMT;
  size_t bs = qi->block_size, bb = qi->block_bytes;
  nb = n / bs;
  void *a[] = {&src, &nb, &fmt, &bs, &bb, &out};
  return gllmk__cu_launch(be, k_dequant[dt], grid_for(be, nb, DEQ_THREADS), 1, 1, DEQ_THREADS, 1, 1,
                          0, a);
}
static gllmk_status dequant_ws(gllmk_backend *be, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ entry points
 * (tools/gen-api.py wires the gllmk__cu_* functions defined at the start of
 * a line into the tables.) */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif

gllmk_status gllmk__cu_fused_dequant_gemv_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 0, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_fused_dequant_gemv_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 0, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_kquant_matmul_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 1, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_kquant_matmul_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 1, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_iq_matmul_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 2, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_iq_matmul_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 2, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_squeeze_matmul_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 0, w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}
gllmk_status gllmk__cu_squeeze_matmul_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 0, w_bytes, GLLMK_SQUEEZELLM, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_squeeze_matmul_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 0, w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}
gllmk_status gllmk__cu_fused_squeeze_matmul_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 0, w_bytes, GLLMK_SQUEEZELLM, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_iq1_s_matmul_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 0, w, w_bytes, x, y, GLLMK_IQ1_S, m, n, k);
}
gllmk_status gllmk__cu_fused_iq1_s_matmul_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 0, w_bytes, GLLMK_IQ1_S, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_iq2_xxs_matmul_f32(gllmk_backend *be, const void *w, size_t w_bytes,
    const float *x, float *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F32, 0, w, w_bytes, x, y, GLLMK_IQ2_XXS, m, n, k);
}
gllmk_status gllmk__cu_fused_iq2_xxs_matmul_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F32, 0, w_bytes, GLLMK_IQ2_XXS, m, n, k, bytes);
}
gllmk_status gllmk__cu_awq_matmul_f32(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const float *x, float *y,
    size_t m, size_t n, size_t k) {
  return cu_awq(be, DT_F32, packed, packed_bytes, zeros, scales, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_awq_matmul_workspace_bytes_f32(gllmk_backend *be, size_t packed_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_awq(be, DT_F32, NULL, packed_bytes, NULL, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_awq4_matmul_f32(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const float *x, float *y,
    size_t m, size_t n, size_t k) {
  return cu_awq(be, DT_F32, packed, packed_bytes, zeros, scales, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_fused_awq4_matmul_workspace_bytes_f32(gllmk_backend *be, size_t packed_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_awq(be, DT_F32, NULL, packed_bytes, NULL, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gptq_matmul_f32(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
    const float *x, float *y, size_t m, size_t n, size_t k) {
  return cu_gptq(be, DT_F32, packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_gptq_matmul_workspace_bytes_f32(gllmk_backend *be, size_t packed_bytes,
    size_t n_groups, size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_gptq(be, DT_F32, NULL, packed_bytes, NULL, NULL, n_groups, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_gptq4_matmul_f32(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
    const float *x, float *y, size_t m, size_t n, size_t k) {
  return cu_gptq(be, DT_F32, packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_fused_gptq4_matmul_workspace_bytes_f32(gllmk_backend *be, size_t packed_bytes,
    size_t n_groups, size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_gptq(be, DT_F32, NULL, packed_bytes, NULL, NULL, n_groups, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gemv_q8_f32(gllmk_backend *be, const int8_t *w, size_t w_bytes,
    const float *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F32, 8, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q8_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q4_f32(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const float *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F32, 4, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q4_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q2_f32(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const float *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F32, 2, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q2_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q1_f32(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const float *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F32, 1, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q1_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemm_q8_f32(gllmk_backend *be, const int8_t *w, size_t w_bytes,
    const float *x, float *y, const float *scales, size_t m, size_t n, size_t k) {
  return cu_intw(be, DT_F32, 8, w, w_bytes, x, y, scales, m, n, k, NULL);
}
gllmk_status gllmk__cu_gemm_q8_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_intw(be, DT_F32, 8, NULL, w_bytes, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gemm_q4_f32(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const float *x, float *y, const float *scales, size_t m, size_t n, size_t k) {
  return cu_intw(be, DT_F32, 4, w, w_bytes, x, y, scales, m, n, k, NULL);
}
gllmk_status gllmk__cu_gemm_q4_workspace_bytes_f32(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_intw(be, DT_F32, 4, NULL, w_bytes, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_dequant_gemv_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 0, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_fused_dequant_gemv_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 0, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_kquant_matmul_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 1, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_kquant_matmul_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 1, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_iq_matmul_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 2, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_iq_matmul_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 2, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_squeeze_matmul_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 0, w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}
gllmk_status gllmk__cu_squeeze_matmul_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 0, w_bytes, GLLMK_SQUEEZELLM, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_squeeze_matmul_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 0, w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}
gllmk_status gllmk__cu_fused_squeeze_matmul_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 0, w_bytes, GLLMK_SQUEEZELLM, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_iq1_s_matmul_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 0, w, w_bytes, x, y, GLLMK_IQ1_S, m, n, k);
}
gllmk_status gllmk__cu_fused_iq1_s_matmul_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 0, w_bytes, GLLMK_IQ1_S, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_iq2_xxs_matmul_f16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_F16, 0, w, w_bytes, x, y, GLLMK_IQ2_XXS, m, n, k);
}
gllmk_status gllmk__cu_fused_iq2_xxs_matmul_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_F16, 0, w_bytes, GLLMK_IQ2_XXS, m, n, k, bytes);
}
gllmk_status gllmk__cu_awq_matmul_f16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const gllmk_f16 *x, gllmk_f16 *y,
    size_t m, size_t n, size_t k) {
  return cu_awq(be, DT_F16, packed, packed_bytes, zeros, scales, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_awq_matmul_workspace_bytes_f16(gllmk_backend *be, size_t packed_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_awq(be, DT_F16, NULL, packed_bytes, NULL, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_awq4_matmul_f16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const gllmk_f16 *x, gllmk_f16 *y,
    size_t m, size_t n, size_t k) {
  return cu_awq(be, DT_F16, packed, packed_bytes, zeros, scales, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_fused_awq4_matmul_workspace_bytes_f16(gllmk_backend *be, size_t packed_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_awq(be, DT_F16, NULL, packed_bytes, NULL, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gptq_matmul_f16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
    const gllmk_f16 *x, gllmk_f16 *y, size_t m, size_t n, size_t k) {
  return cu_gptq(be, DT_F16, packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_gptq_matmul_workspace_bytes_f16(gllmk_backend *be, size_t packed_bytes,
    size_t n_groups, size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_gptq(be, DT_F16, NULL, packed_bytes, NULL, NULL, n_groups, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_gptq4_matmul_f16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
    const gllmk_f16 *x, gllmk_f16 *y, size_t m, size_t n, size_t k) {
  return cu_gptq(be, DT_F16, packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_fused_gptq4_matmul_workspace_bytes_f16(gllmk_backend *be, size_t packed_bytes,
    size_t n_groups, size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_gptq(be, DT_F16, NULL, packed_bytes, NULL, NULL, n_groups, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gemv_q8_f16(gllmk_backend *be, const int8_t *w, size_t w_bytes,
    const gllmk_f16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F16, 8, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q8_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q4_f16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_f16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F16, 4, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q4_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q2_f16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_f16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F16, 2, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q2_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q1_f16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_f16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_F16, 1, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q1_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemm_q8_f16(gllmk_backend *be, const int8_t *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, const float *scales, size_t m, size_t n, size_t k) {
  return cu_intw(be, DT_F16, 8, w, w_bytes, x, y, scales, m, n, k, NULL);
}
gllmk_status gllmk__cu_gemm_q8_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_intw(be, DT_F16, 8, NULL, w_bytes, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gemm_q4_f16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_f16 *x, gllmk_f16 *y, const float *scales, size_t m, size_t n, size_t k) {
  return cu_intw(be, DT_F16, 4, w, w_bytes, x, y, scales, m, n, k, NULL);
}
gllmk_status gllmk__cu_gemm_q4_workspace_bytes_f16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_intw(be, DT_F16, 4, NULL, w_bytes, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_dequant_gemv_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 0, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_fused_dequant_gemv_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 0, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_kquant_matmul_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 1, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_kquant_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 1, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_iq_matmul_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 2, w, w_bytes, x, y, t, m, n, k);
}
gllmk_status gllmk__cu_iq_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, gllmk_qtype t,
    size_t m, size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 2, w_bytes, t, m, n, k, bytes);
}
gllmk_status gllmk__cu_squeeze_matmul_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 0, w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}
gllmk_status gllmk__cu_squeeze_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 0, w_bytes, GLLMK_SQUEEZELLM, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_squeeze_matmul_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 0, w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}
gllmk_status gllmk__cu_fused_squeeze_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 0, w_bytes, GLLMK_SQUEEZELLM, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_iq1_s_matmul_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 0, w, w_bytes, x, y, GLLMK_IQ1_S, m, n, k);
}
gllmk_status gllmk__cu_fused_iq1_s_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 0, w_bytes, GLLMK_IQ1_S, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_iq2_xxs_matmul_bf16(gllmk_backend *be, const void *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, size_t m, size_t n, size_t k) {
  return cu_gguf(be, DT_BF16, 0, w, w_bytes, x, y, GLLMK_IQ2_XXS, m, n, k);
}
gllmk_status gllmk__cu_fused_iq2_xxs_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  return gguf_ws(be, DT_BF16, 0, w_bytes, GLLMK_IQ2_XXS, m, n, k, bytes);
}
gllmk_status gllmk__cu_awq_matmul_bf16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const gllmk_bf16 *x, gllmk_bf16 *y,
    size_t m, size_t n, size_t k) {
  return cu_awq(be, DT_BF16, packed, packed_bytes, zeros, scales, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_awq_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t packed_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_awq(be, DT_BF16, NULL, packed_bytes, NULL, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_awq4_matmul_bf16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const gllmk_bf16 *x, gllmk_bf16 *y,
    size_t m, size_t n, size_t k) {
  return cu_awq(be, DT_BF16, packed, packed_bytes, zeros, scales, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_fused_awq4_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t packed_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_awq(be, DT_BF16, NULL, packed_bytes, NULL, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gptq_matmul_bf16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
    const gllmk_bf16 *x, gllmk_bf16 *y, size_t m, size_t n, size_t k) {
  return cu_gptq(be, DT_BF16, packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_gptq_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t packed_bytes,
    size_t n_groups, size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_gptq(be, DT_BF16, NULL, packed_bytes, NULL, NULL, n_groups, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_gptq4_matmul_bf16(gllmk_backend *be, const uint8_t *packed,
    size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups,
    const gllmk_bf16 *x, gllmk_bf16 *y, size_t m, size_t n, size_t k) {
  return cu_gptq(be, DT_BF16, packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k, NULL);
}
gllmk_status gllmk__cu_fused_gptq4_matmul_workspace_bytes_bf16(gllmk_backend *be, size_t packed_bytes,
    size_t n_groups, size_t m, size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_gptq(be, DT_BF16, NULL, packed_bytes, NULL, NULL, n_groups, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gemv_q8_bf16(gllmk_backend *be, const int8_t *w, size_t w_bytes,
    const gllmk_bf16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_BF16, 8, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q8_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q4_bf16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_bf16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_BF16, 4, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q4_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q2_bf16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_bf16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_BF16, 2, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q2_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemv_q1_bf16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_bf16 *x, float scale, size_t n, float *result) {
  return cu_qvec(be, DT_BF16, 1, w, w_bytes, x, scale, n, result);
}
gllmk_status gllmk__cu_gemv_q1_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t n,
    size_t *bytes) {
  (void)w_bytes, (void)n;
  return qvec_ws(be, bytes);
}
gllmk_status gllmk__cu_gemm_q8_bf16(gllmk_backend *be, const int8_t *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, const float *scales, size_t m, size_t n, size_t k) {
  return cu_intw(be, DT_BF16, 8, w, w_bytes, x, y, scales, m, n, k, NULL);
}
gllmk_status gllmk__cu_gemm_q8_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_intw(be, DT_BF16, 8, NULL, w_bytes, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_gemm_q4_bf16(gllmk_backend *be, const uint8_t *w, size_t w_bytes,
    const gllmk_bf16 *x, gllmk_bf16 *y, const float *scales, size_t m, size_t n, size_t k) {
  return cu_intw(be, DT_BF16, 4, w, w_bytes, x, y, scales, m, n, k, NULL);
}
gllmk_status gllmk__cu_gemm_q4_workspace_bytes_bf16(gllmk_backend *be, size_t w_bytes, size_t m,
    size_t n, size_t k, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return cu_intw(be, DT_BF16, 4, NULL, w_bytes, NULL, NULL, NULL, m, n, k, bytes);
}
gllmk_status gllmk__cu_dequantize_f32(gllmk_backend *be, const void *src, size_t src_bytes,
    gllmk_qtype t, float *out, size_t n) {
  return cu_dequant(be, DT_F32, src, src_bytes, t, out, n);
}
gllmk_status gllmk__cu_dequantize_workspace_bytes_f32(gllmk_backend *be, size_t src_bytes,
    gllmk_qtype t, size_t n, size_t *bytes) {
  (void)src_bytes, (void)t, (void)n;
  return dequant_ws(be, bytes);
}
gllmk_status gllmk__cu_dequantize_f16(gllmk_backend *be, const void *src, size_t src_bytes,
    gllmk_qtype t, gllmk_f16 *out, size_t n) {
  return cu_dequant(be, DT_F16, src, src_bytes, t, out, n);
}
gllmk_status gllmk__cu_dequantize_workspace_bytes_f16(gllmk_backend *be, size_t src_bytes,
    gllmk_qtype t, size_t n, size_t *bytes) {
  (void)src_bytes, (void)t, (void)n;
  return dequant_ws(be, bytes);
}
gllmk_status gllmk__cu_dequantize_bf16(gllmk_backend *be, const void *src, size_t src_bytes,
    gllmk_qtype t, gllmk_bf16 *out, size_t n) {
  return cu_dequant(be, DT_BF16, src, src_bytes, t, out, n);
}
gllmk_status gllmk__cu_dequantize_workspace_bytes_bf16(gllmk_backend *be, size_t src_bytes,
    gllmk_qtype t, size_t n, size_t *bytes) {
  (void)src_bytes, (void)t, (void)n;
  return dequant_ws(be, bytes);
}
