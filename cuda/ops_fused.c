/* ops_fused.c -- the CUDA backend's fused transformer-block ops (f32, f16, bf16): checks, workspace, launch
 * SPDX-License-Identifier: MIT
 *
 * gllmk__cu_fused_<op>_<dt>(be, <the arguments of gllmk_fused_<op>_<dt>>)
 * checks its arguments as the CPU function does (lib/core/fused_tpl.h), in
 * the same order and with the same codes: GLLMK_E_OVERFLOW for sizes whose
 * products (or the CPU's f32 intermediates) overflow, GLLMK_E_INVAL for a
 * bad shape or eps, then for NULL where data is needed; then, as every op of
 * this backend (cuda/ops_float.c), GLLMK_E_INVAL for a pointer not aligned to
 * its element size or whose range is not inside one buffer of be (ranges
 * are empty, and pointers unchecked, when the op touches nothing: m, n or
 * the like zero); then GLLMK_E_NOMEM when be's workspace is smaller than
 * gllmk__cu_fused_<op>_workspace_bytes_<dt> says.  Only then does it launch;
 * nothing is queued when a check fails, and nothing synchronizes.  The
 * queries refuse a NULL be or bytes with GLLMK_E_INVAL and sizes the op
 * refuses with its code.
 *
 * The products are linear's (cuda/ops_gemm.c: the NT tensor-core GEMM of
 * gemm.cu, or l3.cu's decode GEMV for m <= 8), rounded to T as linear
 * stores them; the epilogues are cuda/fused.cu's.  Every op equals its
 * composition of backend ops up to the rounding of the RMSNorm's input
 * (the composition rounds s = y + residual to T before normalising; the
 * fused epilogue normalises the f32 s, as the CPU does).  Intermediates live
 * in the workspace, each region rounded up to WS_ALIGN bytes; ru(b) below
 * is b rounded up so, es the element size:
 *
 *   op: launches (the composition's)       workspace
 *   fused_qkv_rope: 3 linear + rope_qk     0: the products go to q, k, v
 *     (3 linear + 2 rope)
 *   fused_gate_up_swiglu: m <= 8, 1        m <= 8: 0; else ru(m n es) (up)
 *     gate_up_gemv; else 2 linear (into
 *     out and the workspace) + swiglu in
 *     place (3)
 *   fused_ffn: gate/up as above + down     ru(m ffn es) (h) [+ ru(m ffn es)
 *     linear + vec_add (none, the down     (up) when m > 8] + ru(m hidden
 *     product straight into out, when      es) (the down product)
 *     residual is NULL): m <= 8 3, else 5
 *     (5; 4 without residual)
 *   fused_ffn_rmsnorm: ... + add_rms_norm  as fused_ffn
 *     instead of vec_add: m <= 8 3, else 5
 *     (6: ... + vec_add + rms_norm)
 *   fused_linear_residual_rmsnorm: linear  ru(m n es) (the product)
 *     + add_rms_norm (3: + vec_add +
 *     rms_norm)
 *   fused_linear_bias_residual_rmsnorm:    as above
 *     the same, the bias added by linear
 * (sizes zero: 0 bytes).  Aliasing as on the CPU: out and sum_out may alias
 * residual (and sum_out may be NULL); no output may overlap x or a weight.
 *
 * Launch plans: add_rms_norm, a block per row, blockDim the power of two >=
 * n / 8 in [32, 512], grid min(rows, 16 per SM), grid-stride, 16-byte
 * vectors when all the rows are 16-byte aligned; rope_qk as
 * rope (lanes across a row's pairs, 256 / lanes rows per block) over the
 * seq * (heads + kv_heads) rows of q and k; gate_up_gemv as linear's GEMV,
 * 8 output columns (warps) per block.
 */
#include "cuda_internal.h"

#include <stdint.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t gk_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};

typedef enum gllmk__cu_kernel kid;
#define K3(op) ((const kid[3]){GK_gk_##op##_f32, GK_gk_##op##_f16, GK_gk_##op##_bf16})

/* ------------------------------------------------------------------ launch constants */
#define WS_ALIGN 256                 /* bytes: each workspace region starts so aligned */
#define FUSED_NORM_MIN_THREADS 32    /* add_rms_norm: a warp at least ... */
#define FUSED_NORM_MAX_THREADS 512   /* ... at most fused.cu's GK_FUSED_NORM_MAX_THREADS */
#define FUSED_NORM_PER_THREAD 8      /* elements of a row per thread before the block grows */
#define ROWS_BLOCKS_PER_SM 16        /* grid cap of the row-wise kernels (grid-stride beyond) */
#define ROPE_THREADS 256             /* rope_qk: lanes x rows of a block */
#define ROPE_MAX_LANES 64
#define GU_MAXM 8                    /* fused.cu GK_FUSED_GU_MAXM: the decode gate/up kernel */
#define GU_WARPS 8                   /* fused.cu GK_FUSED_GU_WARPS: output columns per block */
#define MAX_BLOCKS 0x7fffffffu

/* ------------------------------------------------------------------ helpers */
static size_t min_z(size_t a, size_t b) { return a < b ? a : b; }
static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }
static unsigned pow2_at_least(size_t v) {   /* smallest power of two >= v (v <= 2^31) */
  unsigned p = 1;
  while (p < v) p <<= 1;
  return p;
}

/* [p, p + bytes) inside a buffer of be and p aligned to the element size;
 * empty ranges always pass */
static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

/* n elements of es bytes fit size_t (the CPU's bytes_ok) */
static int bytes_ok(size_t n, size_t es) {
  size_t b;
  return gllmk__mul(n, es, &b);
}

/* *total += ru(bytes); 0 on overflow */
static int ws_add(size_t *total, size_t bytes) {
  size_t r;
  if (bytes == 0) return 1;
  if (!gllmk__add(bytes, WS_ALIGN - 1, &r)) return 0;
  r -= r % WS_ALIGN;
  return gllmk__add(*total, r, total);
}

/* the region of `bytes` at *at in the workspace; *at moves past it */
static void *ws_take(void *ws, size_t *at, size_t bytes) {
  void *p = (unsigned char *)ws + *at;
  ws_add(at, bytes);
  return p;
}

static gllmk_status query_args(const gllmk_backend *be, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return GLLMK_OK;
}

/* the workspace for bytes (NULL when bytes == 0) */
static gllmk_status workspace(gllmk_backend *be, size_t bytes, void **ws) {
  *ws = NULL;
  if (bytes == 0) return GLLMK_OK;
  *ws = gllmk__be_workspace(be, bytes);
  return *ws ? GLLMK_OK : GLLMK_E_NOMEM;
}

/* ------------------------------------------------------------------ launches */
/* out, sum_out = add_rms_norm(y + residual) over rows x n (both nonzero;
 * cuda_internal.h) */
gllmk_status gllmk__cuk_add_rms_norm(gllmk_backend *be, int dt, const void *y,
                                     const void *residual, const void *w, void *out,
                                     void *sum_out, size_t rows, size_t n, float eps) {
  size_t per = div_up(n, FUSED_NORM_PER_THREAD);
  unsigned block = per >= FUSED_NORM_MAX_THREADS ? FUSED_NORM_MAX_THREADS : pow2_at_least(per);
  if (block < FUSED_NORM_MIN_THREADS) block = FUSED_NORM_MIN_THREADS;
  size_t sms = (size_t)gllmk__cu_device(be)->sm_count;
  size_t grid = min_z(rows, (sms ? sms : 1) * ROWS_BLOCKS_PER_SM);
  /* 16-byte vectors when every row of every array starts 16-byte aligned */
  uintptr_t al = (uintptr_t)y | (uintptr_t)residual | (uintptr_t)w | (uintptr_t)out |
                 (uintptr_t)sum_out | (uintptr_t)(n * gk_esize[dt]);
  int vec = al % 16 == 0;
  void *args[] = {&y, &residual, &w, &out, &sum_out, &rows, &n, &eps, &vec};
  return gllmk__cu_launch(be, K3(add_rms_norm)[dt], (unsigned)grid, 1, 1, block, 1, 1, 0, args);
}

/* out[m x n] = swiglu(x wg^T, x wu^T); up: the workspace region for x wu^T
 * when m > GU_MAXM */
static gllmk_status launch_gate_up(gllmk_backend *be, int dt, const void *x, const void *wg,
                                   const void *wu, void *out, void *up, size_t m, size_t n,
                                   size_t k) {
  size_t es = gk_esize[dt];
  if (m <= GU_MAXM) {
    size_t blocks = div_up(n, GU_WARPS);
    if (blocks > MAX_BLOCKS) return GLLMK_E_INVAL;
    int vec = (uintptr_t)x % 16 == 0 && (uintptr_t)wg % 16 == 0 && (uintptr_t)wu % 16 == 0 &&
              (k * es) % 16 == 0;
    void *args[] = {&x, &wg, &wu, &out, &m, &n, &k, &vec};
    return gllmk__cu_launch(be, K3(gate_up_gemv)[dt], (unsigned)blocks, 1, 1, GU_WARPS * 32, 1,
                            1, 0, args);
  }
  gllmk_status st = gllmk__cuk_linear(be, dt, x, wg, NULL, out, m, n, k);
  if (st == GLLMK_OK) st = gllmk__cuk_linear(be, dt, x, wu, NULL, up, m, n, k);
  if (st == GLLMK_OK) st = gllmk__cuk_binary(be, K3(swiglu)[dt], es, out, up, out, m * n);
  return st;
}

/* rope on q [seq x heads x head_dim] and k [seq x kv_heads x head_dim], the
 * first 2 half dims of each head, table rows pos.. (half > 0; cuda_internal.h) */
gllmk_status gllmk__cuk_rope_qk(gllmk_backend *be, int dt, void *q, void *k, const void *cs,
                                const void *sn, size_t seq, size_t heads, size_t kv_heads,
                                size_t head_dim, size_t half, bool interleaved, size_t pos) {
  unsigned bx = half >= ROPE_MAX_LANES ? ROPE_MAX_LANES : pow2_at_least(half);
  unsigned by = ROPE_THREADS / bx;
  size_t rows = seq * (heads + kv_heads), sms = (size_t)gllmk__cu_device(be)->sm_count;
  size_t grid = min_z(div_up(rows, by), (sms ? sms : 1) * ROWS_BLOCKS_PER_SM);
  int inter = interleaved;
  void *args[] = {&q, &k, &cs, &sn, &seq, &heads, &kv_heads, &head_dim, &half, &inter, &pos};
  return gllmk__cu_launch(be, K3(rope_qk)[dt], (unsigned)grid, 1, 1, bx, by, 1, 0, args);
}

/* ------------------------------------------------------------------ fused_qkv_rope */
/* lib/core/fused_tpl.h's qkv_shape */
static gllmk_status qkv_shape(size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                              size_t head_dim, size_t rotary_dim, size_t pos, size_t es) {
  size_t nq, nkv, t, rows;
  if (!gllmk__mul(heads, head_dim, &nq) || !gllmk__mul(kv_heads, head_dim, &nkv) ||
      !gllmk__mul(seq, hidden, &t) || !bytes_ok(t, es) || !gllmk__mul(nq, hidden, &t) ||
      !bytes_ok(t, es) || !gllmk__mul(nkv, hidden, &t) || !bytes_ok(t, es) ||
      !gllmk__mul3(seq, nq, sizeof(float), &t) || !gllmk__mul3(seq, nkv, sizeof(float), &t))
    return GLLMK_E_OVERFLOW;
  /* the rope check (lib/core/ops_tpl.h) */
  if (!gllmk__mul3(seq, heads, head_dim, &t) || !bytes_ok(t, es) || !gllmk__add(pos, seq, &rows) ||
      !gllmk__mul(rows, rotary_dim / 2, &t) || !bytes_ok(t, es))
    return GLLMK_E_OVERFLOW;
  if (rotary_dim % 2 || rotary_dim > head_dim) return GLLMK_E_INVAL;
  if (heads == 0 || kv_heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static gllmk_status qkv_workspace(const gllmk_backend *be, size_t seq, size_t hidden, size_t heads,
                                  size_t kv_heads, size_t head_dim, size_t rotary_dim,
                                  bool interleaved, size_t pos, int dt, size_t *bytes) {
  (void)interleaved;   /* the layout changes nothing the op needs */
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  return qkv_shape(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos, gk_esize[dt]);
}

static gllmk_status cu_qkv_rope(gllmk_backend *be, int dt, const void *x, const void *wq,
                                const void *wk, const void *wv, const void *cs, const void *sn,
                                void *q, void *k, void *v, size_t seq, size_t hidden,
                                size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim,
                                bool interleaved, size_t pos) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt];
  gllmk_status st = qkv_shape(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos, es);
  if (st != GLLMK_OK) return st;
  size_t nq = heads * head_dim, nkv = kv_heads * head_dim, half = rotary_dim / 2;
  bool any = seq && head_dim;
  if (any && (!q || !k || !v)) return GLLMK_E_INVAL;
  if (any && hidden && (!x || !wq || !wk || !wv)) return GLLMK_E_INVAL;
  if (any && rotary_dim && (!cs || !sn)) return GLLMK_E_INVAL;
  if (!any) return GLLMK_OK;
  size_t xh = hidden ? es : 0, tab = (pos + seq) * half * es;
  if (!owns(be, x, seq * hidden * xh, es) || !owns(be, wq, nq * hidden * xh, es) ||
      !owns(be, wk, nkv * hidden * xh, es) || !owns(be, wv, nkv * hidden * xh, es) ||
      !owns(be, q, seq * nq * es, es) || !owns(be, k, seq * nkv * es, es) ||
      !owns(be, v, seq * nkv * es, es) || !owns(be, cs, tab, es) || !owns(be, sn, tab, es))
    return GLLMK_E_INVAL;
  st = gllmk__cuk_linear(be, dt, x, wq, NULL, q, seq, nq, hidden);
  if (st == GLLMK_OK) st = gllmk__cuk_linear(be, dt, x, wk, NULL, k, seq, nkv, hidden);
  if (st == GLLMK_OK) st = gllmk__cuk_linear(be, dt, x, wv, NULL, v, seq, nkv, hidden);
  if (st != GLLMK_OK || half == 0) return st;
  return gllmk__cuk_rope_qk(be, dt, q, k, cs, sn, seq, heads, kv_heads, head_dim, half,
                            interleaved, pos);
}

/* ------------------------------------------------------------------ fused_gate_up_swiglu */
/* lib/core/fused_tpl.h's gus_sizes_ok */
static int gus_sizes_ok(size_t m, size_t n, size_t k, size_t es) {
  size_t t;
  return gllmk__mul(m, k, &t) && bytes_ok(t, es) && gllmk__mul(n, k, &t) && bytes_ok(t, es) &&
         gllmk__mul3(m, n, 2 * sizeof(float), &t);
}

/* the up product's region (m > GU_MAXM) */
static int gus_bytes(size_t m, size_t n, size_t es, size_t *bytes) {
  *bytes = 0;
  return m <= GU_MAXM || n == 0 || ws_add(bytes, m * n * es);
}

static gllmk_status gus_workspace(const gllmk_backend *be, size_t m, size_t n, size_t k, int dt,
                                  size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  size_t es = gk_esize[dt];
  if (!gus_sizes_ok(m, n, k, es) || !gus_bytes(m, n, es, bytes)) {
    *bytes = 0;
    return GLLMK_E_OVERFLOW;
  }
  return GLLMK_OK;
}

static gllmk_status cu_gate_up_swiglu(gllmk_backend *be, int dt, const void *x, const void *wg,
                                      const void *wu, void *out, size_t m, size_t n, size_t k) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt], need;
  if (!gus_sizes_ok(m, n, k, es)) return GLLMK_E_OVERFLOW;
  if ((m && k && !x) || (n && k && (!wg || !wu)) || (m && n && !out)) return GLLMK_E_INVAL;
  if (!gus_bytes(m, n, es, &need)) return GLLMK_E_OVERFLOW;
  if (m == 0 || n == 0) return GLLMK_OK;
  if (!owns(be, x, m * k * es, es) || !owns(be, wg, n * k * es, es) ||
      !owns(be, wu, n * k * es, es) || !owns(be, out, m * n * es, es))
    return GLLMK_E_INVAL;
  void *ws;
  gllmk_status st = workspace(be, need, &ws);
  if (st != GLLMK_OK) return st;
  return launch_gate_up(be, dt, x, wg, wu, out, ws, m, n, k);
}

/* ------------------------------------------------------- fused_ffn, fused_ffn_rmsnorm */
/* lib/core/fused_tpl.h's ffn_sizes_ok */
static int ffn_sizes_ok(size_t m, size_t hidden, size_t ffn, size_t es) {
  size_t t;
  return gllmk__mul(m, hidden, &t) && bytes_ok(t, es) && gllmk__mul(ffn, hidden, &t) &&
         bytes_ok(t, es) && gllmk__mul3(m, ffn, 2 * sizeof(float) + es, &t) &&
         gllmk__mul3(m, hidden, 2 * sizeof(float), &t);
}

/* h [m x ffn], up [m x ffn] (m > GU_MAXM), y [m x hidden]: the regions, in
 * this order; 0 on overflow */
static int ffn_bytes(size_t m, size_t hidden, size_t ffn, size_t es, size_t *h, size_t *up,
                     size_t *total) {
  *total = 0;
  *h = *up = 0;
  if (m == 0 || hidden == 0) return 1;
  *h = m * ffn * es;
  *up = m > GU_MAXM ? *h : 0;
  return ws_add(total, *h) && ws_add(total, *up) && ws_add(total, m * hidden * es);
}

static gllmk_status ffn_workspace(const gllmk_backend *be, size_t m, size_t hidden, size_t ffn,
                                  int dt, size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  size_t es = gk_esize[dt], h, up;
  if (!ffn_sizes_ok(m, hidden, ffn, es) || !ffn_bytes(m, hidden, ffn, es, &h, &up, bytes)) {
    *bytes = 0;
    return GLLMK_E_OVERFLOW;
  }
  return GLLMK_OK;
}

/* mode 0: fused_ffn; 1: fused_ffn_rmsnorm */
static gllmk_status cu_ffn(gllmk_backend *be, int dt, const void *x, const void *wg,
                           const void *wu, const void *wd, const void *residual,
                           const void *norm_w, void *out, void *sum_out, size_t m, size_t hidden,
                           size_t ffn, float eps, int mode) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt], hb, ub, need;
  if (!ffn_sizes_ok(m, hidden, ffn, es)) return GLLMK_E_OVERFLOW;
  if (mode == 1 && !(eps >= 0.0f)) return GLLMK_E_INVAL;
  bool mh = m && hidden;
  if ((mh && (!x || !out)) || (mh && ffn && (!wg || !wu || !wd)) || (mode == 1 && mh && !norm_w))
    return GLLMK_E_INVAL;
  if (!mh) return GLLMK_OK;
  if (!ffn_bytes(m, hidden, ffn, es, &hb, &ub, &need)) return GLLMK_E_OVERFLOW;
  size_t mhb = m * hidden * es, wb = ffn * hidden * es;
  if (!owns(be, x, mhb, es) || !owns(be, wg, wb, es) || !owns(be, wu, wb, es) ||
      !owns(be, wd, wb, es) || (residual && !owns(be, residual, mhb, es)) ||
      !owns(be, out, mhb, es) || (mode == 1 && sum_out && !owns(be, sum_out, mhb, es)) ||
      (mode == 1 && !owns(be, norm_w, hidden * es, es)))
    return GLLMK_E_INVAL;
  void *ws;
  gllmk_status st = workspace(be, need, &ws);
  if (st != GLLMK_OK) return st;
  size_t at = 0;
  void *h = ws_take(ws, &at, hb), *up = ws_take(ws, &at, ub), *y = ws_take(ws, &at, mhb);
  if (ffn) st = launch_gate_up(be, dt, x, wg, wu, h, up, m, ffn, hidden);
  if (st != GLLMK_OK) return st;
  if (mode == 0 && !residual)   /* nothing to add: the down product is the result */
    return gllmk__cuk_linear(be, dt, h, wd, NULL, out, m, hidden, ffn);
  st = gllmk__cuk_linear(be, dt, h, wd, NULL, y, m, hidden, ffn);
  if (st != GLLMK_OK) return st;
  if (mode == 0) return gllmk__cuk_binary(be, K3(vec_add)[dt], es, y, residual, out, m * hidden);
  return gllmk__cuk_add_rms_norm(be, dt, y, residual, norm_w, out, sum_out, m, hidden, eps);
}

/* ------------------------------------------- fused_linear(_bias)_residual_rmsnorm */
/* lib/core/fused_tpl.h's ln_sizes_ok */
static int ln_sizes_ok(size_t m, size_t n, size_t k, size_t es) {
  size_t t;
  return gllmk__mul(m, k, &t) && bytes_ok(t, es) && gllmk__mul(n, k, &t) && bytes_ok(t, es) &&
         gllmk__mul3(m, n, sizeof(float), &t) && bytes_ok(m * n, es);
}

/* the product y [m x n] */
static int ln_bytes(size_t m, size_t n, size_t es, size_t *bytes) {
  *bytes = 0;
  return ws_add(bytes, m * n * es);
}

static gllmk_status ln_workspace(const gllmk_backend *be, size_t m, size_t n, size_t k, int dt,
                                 size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  size_t es = gk_esize[dt];
  if (!ln_sizes_ok(m, n, k, es) || !ln_bytes(m, n, es, bytes)) {
    *bytes = 0;
    return GLLMK_E_OVERFLOW;
  }
  return GLLMK_OK;
}

static gllmk_status cu_linear_norm(gllmk_backend *be, int dt, const void *x, const void *w,
                                   const void *bias, bool need_bias, const void *residual,
                                   const void *norm_w, void *out, void *sum_out, size_t m,
                                   size_t n, size_t k, float eps) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt], need;
  if (!ln_sizes_ok(m, n, k, es)) return GLLMK_E_OVERFLOW;
  if (!(eps >= 0.0f)) return GLLMK_E_INVAL;
  bool mn = m && n;
  if ((mn && k && (!x || !w)) || (mn && (!out || !norm_w)) || (mn && need_bias && !bias))
    return GLLMK_E_INVAL;
  if (!mn) return GLLMK_OK;
  if (!ln_bytes(m, n, es, &need)) return GLLMK_E_OVERFLOW;
  size_t mnb = m * n * es;
  if (!owns(be, x, m * k * es, es) || !owns(be, w, n * k * es, es) ||
      (need_bias && !owns(be, bias, n * es, es)) || (residual && !owns(be, residual, mnb, es)) ||
      !owns(be, norm_w, n * es, es) || !owns(be, out, mnb, es) ||
      (sum_out && !owns(be, sum_out, mnb, es)))
    return GLLMK_E_INVAL;
  void *y;
  gllmk_status st = workspace(be, need, &y);
  if (st != GLLMK_OK) return st;
  st = gllmk__cuk_linear(be, dt, x, w, need_bias ? bias : NULL, y, m, n, k);
  if (st != GLLMK_OK) return st;
  return gllmk__cuk_add_rms_norm(be, dt, y, residual, norm_w, out, sum_out, m, n, eps);
}

/* ------------------------------------------------------------------ entry points
 * (tools/gen-api.py puts the gllmk__cu_* functions defined at the start of a
 * line here into the backend's tables; cuda_ops.h declares them.) */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif

gllmk_status gllmk__cu_fused_qkv_rope_f32(gllmk_backend *be, const float *x, const float *wq,
                                          const float *wk, const float *wv, const float *cos,
                                          const float *sin, float *q, float *k, float *v,
                                          size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                                          size_t head_dim, size_t rotary_dim, bool interleaved,
                                          size_t pos) {
  return cu_qkv_rope(be, DT_F32, x, wq, wk, wv, cos, sin, q, k, v, seq, hidden, heads, kv_heads,
                     head_dim, rotary_dim, interleaved, pos);
}
gllmk_status gllmk__cu_fused_qkv_rope_workspace_bytes_f32(gllmk_backend *be, size_t seq,
                                                          size_t hidden, size_t heads,
                                                          size_t kv_heads, size_t head_dim,
                                                          size_t rotary_dim, bool interleaved,
                                                          size_t pos, size_t *bytes) {
  return qkv_workspace(be, seq, hidden, heads, kv_heads, head_dim, rotary_dim, interleaved, pos,
                       DT_F32, bytes);
}
gllmk_status gllmk__cu_fused_gate_up_swiglu_f32(gllmk_backend *be, const float *x,
                                                const float *w_gate, const float *w_up, float *out,
                                                size_t m, size_t n, size_t k) {
  return cu_gate_up_swiglu(be, DT_F32, x, w_gate, w_up, out, m, n, k);
}
gllmk_status gllmk__cu_fused_gate_up_swiglu_workspace_bytes_f32(gllmk_backend *be, size_t m,
                                                                size_t n, size_t k, size_t *bytes) {
  return gus_workspace(be, m, n, k, DT_F32, bytes);
}
gllmk_status gllmk__cu_fused_ffn_f32(gllmk_backend *be, const float *x, const float *w_gate,
                                     const float *w_up, const float *w_down, const float *residual,
                                     float *out, size_t m, size_t hidden, size_t ffn) {
  return cu_ffn(be, DT_F32, x, w_gate, w_up, w_down, residual, NULL, out, NULL, m, hidden, ffn,
                0.0f, 0);
}
gllmk_status gllmk__cu_fused_ffn_workspace_bytes_f32(gllmk_backend *be, size_t m, size_t hidden,
                                                     size_t ffn, size_t *bytes) {
  return ffn_workspace(be, m, hidden, ffn, DT_F32, bytes);
}
gllmk_status gllmk__cu_fused_ffn_rmsnorm_f32(gllmk_backend *be, const float *x, const float *w_gate,
                                             const float *w_up, const float *w_down,
                                             const float *residual, const float *norm_w, float *out,
                                             float *sum_out, size_t m, size_t hidden, size_t ffn,
                                             float eps) {
  return cu_ffn(be, DT_F32, x, w_gate, w_up, w_down, residual, norm_w, out, sum_out, m, hidden, ffn,
                eps, 1);
}
gllmk_status gllmk__cu_fused_ffn_rmsnorm_workspace_bytes_f32(gllmk_backend *be, size_t m,
                                                             size_t hidden, size_t ffn,
                                                             size_t *bytes) {
  return ffn_workspace(be, m, hidden, ffn, DT_F32, bytes);
}
gllmk_status gllmk__cu_fused_linear_residual_rmsnorm_f32(gllmk_backend *be, const float *x,
                                                         const float *w, const float *residual,
                                                         const float *norm_w, float *out,
                                                         float *sum_out, size_t m, size_t n,
                                                         size_t k, float eps) {
  return cu_linear_norm(be, DT_F32, x, w, NULL, false, residual, norm_w, out, sum_out, m, n, k,
                        eps);
}
gllmk_status gllmk__cu_fused_linear_residual_rmsnorm_workspace_bytes_f32(gllmk_backend *be,
                                                                         size_t m, size_t n,
                                                                         size_t k, size_t *bytes) {
  return ln_workspace(be, m, n, k, DT_F32, bytes);
}
gllmk_status gllmk__cu_fused_linear_bias_residual_rmsnorm_f32(gllmk_backend *be, const float *x,
                                                              const float *w, const float *bias,
                                                              const float *residual,
                                                              const float *norm_w, float *out,
                                                              float *sum_out, size_t m, size_t n,
                                                              size_t k, float eps) {
  return cu_linear_norm(be, DT_F32, x, w, bias, true, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status gllmk__cu_fused_linear_bias_residual_rmsnorm_workspace_bytes_f32(gllmk_backend *be,
                                                                              size_t m, size_t n,
                                                                              size_t k,
                                                                              size_t *bytes) {
  return ln_workspace(be, m, n, k, DT_F32, bytes);
}
gllmk_status gllmk__cu_fused_qkv_rope_f16(gllmk_backend *be, const gllmk_f16 *x,
                                          const gllmk_f16 *wq, const gllmk_f16 *wk,
                                          const gllmk_f16 *wv, const gllmk_f16 *cos,
                                          const gllmk_f16 *sin, gllmk_f16 *q, gllmk_f16 *k,
                                          gllmk_f16 *v, size_t seq, size_t hidden, size_t heads,
                                          size_t kv_heads, size_t head_dim, size_t rotary_dim,
                                          bool interleaved, size_t pos) {
  return cu_qkv_rope(be, DT_F16, x, wq, wk, wv, cos, sin, q, k, v, seq, hidden, heads, kv_heads,
                     head_dim, rotary_dim, interleaved, pos);
}
gllmk_status gllmk__cu_fused_qkv_rope_workspace_bytes_f16(gllmk_backend *be, size_t seq,
                                                          size_t hidden, size_t heads,
                                                          size_t kv_heads, size_t head_dim,
                                                          size_t rotary_dim, bool interleaved,
                                                          size_t pos, size_t *bytes) {
  return qkv_workspace(be, seq, hidden, heads, kv_heads, head_dim, rotary_dim, interleaved, pos,
                       DT_F16, bytes);
}
gllmk_status gllmk__cu_fused_gate_up_swiglu_f16(gllmk_backend *be, const gllmk_f16 *x,
                                                const gllmk_f16 *w_gate, const gllmk_f16 *w_up,
                                                gllmk_f16 *out, size_t m, size_t n, size_t k) {
  return cu_gate_up_swiglu(be, DT_F16, x, w_gate, w_up, out, m, n, k);
}
gllmk_status gllmk__cu_fused_gate_up_swiglu_workspace_bytes_f16(gllmk_backend *be, size_t m,
                                                                size_t n, size_t k, size_t *bytes) {
  return gus_workspace(be, m, n, k, DT_F16, bytes);
}
gllmk_status gllmk__cu_fused_ffn_f16(gllmk_backend *be, const gllmk_f16 *x, const gllmk_f16 *w_gate,
                                     const gllmk_f16 *w_up, const gllmk_f16 *w_down,
                                     const gllmk_f16 *residual, gllmk_f16 *out, size_t m,
                                     size_t hidden, size_t ffn) {
  return cu_ffn(be, DT_F16, x, w_gate, w_up, w_down, residual, NULL, out, NULL, m, hidden, ffn,
                0.0f, 0);
}
gllmk_status gllmk__cu_fused_ffn_workspace_bytes_f16(gllmk_backend *be, size_t m, size_t hidden,
                                                     size_t ffn, size_t *bytes) {
  return ffn_workspace(be, m, hidden, ffn, DT_F16, bytes);
}
gllmk_status gllmk__cu_fused_ffn_rmsnorm_f16(gllmk_backend *be, const gllmk_f16 *x,
                                             const gllmk_f16 *w_gate, const gllmk_f16 *w_up,
                                             const gllmk_f16 *w_down, const gllmk_f16 *residual,
                                             const gllmk_f16 *norm_w, gllmk_f16 *out,
                                             gllmk_f16 *sum_out, size_t m, size_t hidden,
                                             size_t ffn, float eps) {
  return cu_ffn(be, DT_F16, x, w_gate, w_up, w_down, residual, norm_w, out, sum_out, m, hidden, ffn,
                eps, 1);
}
gllmk_status gllmk__cu_fused_ffn_rmsnorm_workspace_bytes_f16(gllmk_backend *be, size_t m,
                                                             size_t hidden, size_t ffn,
                                                             size_t *bytes) {
  return ffn_workspace(be, m, hidden, ffn, DT_F16, bytes);
}
gllmk_status gllmk__cu_fused_linear_residual_rmsnorm_f16(gllmk_backend *be, const gllmk_f16 *x,
                                                         const gllmk_f16 *w,
                                                         const gllmk_f16 *residual,
                                                         const gllmk_f16 *norm_w, gllmk_f16 *out,
                                                         gllmk_f16 *sum_out, size_t m, size_t n,
                                                         size_t k, float eps) {
  return cu_linear_norm(be, DT_F16, x, w, NULL, false, residual, norm_w, out, sum_out, m, n, k,
                        eps);
}
gllmk_status gllmk__cu_fused_linear_residual_rmsnorm_workspace_bytes_f16(gllmk_backend *be,
                                                                         size_t m, size_t n,
                                                                         size_t k, size_t *bytes) {
  return ln_workspace(be, m, n, k, DT_F16, bytes);
}
gllmk_status gllmk__cu_fused_linear_bias_residual_rmsnorm_f16(gllmk_backend *be, const gllmk_f16 *x,
                                                              const gllmk_f16 *w,
                                                              const gllmk_f16 *bias,
                                                              const gllmk_f16 *residual,
                                                              const gllmk_f16 *norm_w,
                                                              gllmk_f16 *out, gllmk_f16 *sum_out,
                                                              size_t m, size_t n, size_t k,
                                                              float eps) {
  return cu_linear_norm(be, DT_F16, x, w, bias, true, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status gllmk__cu_fused_linear_bias_residual_rmsnorm_workspace_bytes_f16(gllmk_backend *be,
                                                                              size_t m, size_t n,
                                                                              size_t k,
                                                                              size_t *bytes) {
  return ln_workspace(be, m, n, k, DT_F16, bytes);
}
gllmk_status gllmk__cu_fused_qkv_rope_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                           const gllmk_bf16 *wq, const gllmk_bf16 *wk,
                                           const gllmk_bf16 *wv, const gllmk_bf16 *cos,
                                           const gllmk_bf16 *sin, gllmk_bf16 *q, gllmk_bf16 *k,
                                           gllmk_bf16 *v, size_t seq, size_t hidden, size_t heads,
                                           size_t kv_heads, size_t head_dim, size_t rotary_dim,
                                           bool interleaved, size_t pos) {
  return cu_qkv_rope(be, DT_BF16, x, wq, wk, wv, cos, sin, q, k, v, seq, hidden, heads, kv_heads,
                     head_dim, rotary_dim, interleaved, pos);
}
gllmk_status gllmk__cu_fused_qkv_rope_workspace_bytes_bf16(gllmk_backend *be, size_t seq,
                                                           size_t hidden, size_t heads,
                                                           size_t kv_heads, size_t head_dim,
                                                           size_t rotary_dim, bool interleaved,
                                                           size_t pos, size_t *bytes) {
  return qkv_workspace(be, seq, hidden, heads, kv_heads, head_dim, rotary_dim, interleaved, pos,
                       DT_BF16, bytes);
}
gllmk_status gllmk__cu_fused_gate_up_swiglu_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                                 const gllmk_bf16 *w_gate, const gllmk_bf16 *w_up,
                                                 gllmk_bf16 *out, size_t m, size_t n, size_t k) {
  return cu_gate_up_swiglu(be, DT_BF16, x, w_gate, w_up, out, m, n, k);
}
gllmk_status gllmk__cu_fused_gate_up_swiglu_workspace_bytes_bf16(gllmk_backend *be, size_t m,
                                                                 size_t n, size_t k,
                                                                 size_t *bytes) {
  return gus_workspace(be, m, n, k, DT_BF16, bytes);
}
gllmk_status gllmk__cu_fused_ffn_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                      const gllmk_bf16 *w_gate, const gllmk_bf16 *w_up,
                                      const gllmk_bf16 *w_down, const gllmk_bf16 *residual,
                                      gllmk_bf16 *out, size_t m, size_t hidden, size_t ffn) {
  return cu_ffn(be, DT_BF16, x, w_gate, w_up, w_down, residual, NULL, out, NULL, m, hidden, ffn,
                0.0f, 0);
}
gllmk_status gllmk__cu_fused_ffn_workspace_bytes_bf16(gllmk_backend *be, size_t m, size_t hidden,
                                                      size_t ffn, size_t *bytes) {
  return ffn_workspace(be, m, hidden, ffn, DT_BF16, bytes);
}
gllmk_status gllmk__cu_fused_ffn_rmsnorm_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                              const gllmk_bf16 *w_gate, const gllmk_bf16 *w_up,
                                              const gllmk_bf16 *w_down, const gllmk_bf16 *residual,
                                              const gllmk_bf16 *norm_w, gllmk_bf16 *out,
                                              gllmk_bf16 *sum_out, size_t m, size_t hidden,
                                              size_t ffn, float eps) {
  return cu_ffn(be, DT_BF16, x, w_gate, w_up, w_down, residual, norm_w, out, sum_out, m, hidden,
                ffn, eps, 1);
}
gllmk_status gllmk__cu_fused_ffn_rmsnorm_workspace_bytes_bf16(gllmk_backend *be, size_t m,
                                                              size_t hidden, size_t ffn,
                                                              size_t *bytes) {
  return ffn_workspace(be, m, hidden, ffn, DT_BF16, bytes);
}
gllmk_status gllmk__cu_fused_linear_residual_rmsnorm_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                                          const gllmk_bf16 *w,
                                                          const gllmk_bf16 *residual,
                                                          const gllmk_bf16 *norm_w, gllmk_bf16 *out,
                                                          gllmk_bf16 *sum_out, size_t m, size_t n,
                                                          size_t k, float eps) {
  return cu_linear_norm(be, DT_BF16, x, w, NULL, false, residual, norm_w, out, sum_out, m, n, k,
                        eps);
}
gllmk_status gllmk__cu_fused_linear_residual_rmsnorm_workspace_bytes_bf16(gllmk_backend *be,
                                                                          size_t m, size_t n,
                                                                          size_t k, size_t *bytes) {
  return ln_workspace(be, m, n, k, DT_BF16, bytes);
}
gllmk_status gllmk__cu_fused_linear_bias_residual_rmsnorm_bf16(gllmk_backend *be,
                                                               const gllmk_bf16 *x,
                                                               const gllmk_bf16 *w,
                                                               const gllmk_bf16 *bias,
                                                               const gllmk_bf16 *residual,
                                                               const gllmk_bf16 *norm_w,
                                                               gllmk_bf16 *out, gllmk_bf16 *sum_out,
                                                               size_t m, size_t n, size_t k,
                                                               float eps) {
  return cu_linear_norm(be, DT_BF16, x, w, bias, true, residual, norm_w, out, sum_out, m, n, k,
                        eps);
}
gllmk_status gllmk__cu_fused_linear_bias_residual_rmsnorm_workspace_bytes_bf16(gllmk_backend *be,
                                                                               size_t m, size_t n,
                                                                               size_t k,
                                                                               size_t *bytes) {
  return ln_workspace(be, m, n, k, DT_BF16, bytes);
}
