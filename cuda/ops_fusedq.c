/* ops_fusedq.c -- the CUDA backend's Table D fused ops on int8 / int4 rows: checks, workspace, launch
 * SPDX-License-Identifier: MIT
 *
 * fused_qkv_rope_q4, fused_ffn_q4, fused_int8_linear_residual_rmsnorm and
 * fused_int4_linear_residual_rmsnorm.  gllmk__cu_<op>_<dt>(be, <the
 * arguments of gllmk_<op>_<dt>>) checks its arguments as the CPU function
 * does (lib/quant/qmatmul_tpl.h, "Table D"), in the same order and with the
 * same codes: GLLMK_E_OVERFLOW for sizes whose products overflow (besides
 * the CPU's, those of the byte ranges the op reads or writes), GLLMK_E_INVAL
 * for a bad shape or eps, then, weight by weight, those of the int rows
 * (k odd for int4, w_bytes short, NULL w or scales), then for NULL where
 * data is needed.  Then, as every op of this backend, GLLMK_E_INVAL for a
 * pointer not aligned to its element size (weights: bytes, scales: floats)
 * or whose range is not inside one buffer of be (ranges are empty, and
 * pointers unchecked, when the op touches nothing), and GLLMK_E_NOMEM when
 * be's workspace is smaller than gllmk__cu_<op>_workspace_bytes_<dt> says.
 * Only then does it launch; nothing is queued when a check fails, and
 * nothing synchronizes.  The queries refuse a NULL be or bytes with
 * GLLMK_E_INVAL and sizes or weight byte counts the op refuses with its code.
 *
 * The products are gemm_q8 / gemm_q4's (gllmk__cuk_intw, cuda/ops_quant.c):
 * m < 16 rows the f32-activation GEMV gk_qmvf_i8 / _i4 (one launch; no
 * int8 rounding of the activations, so within the bound of gllmk/
 * quant_ops.h with room to spare), else W decoded to T panel by panel
 * (gk_xdequant) and the NT GEMM (f16 / bf16 on tensor cores).  Each product
 * is stored as T, as gemm_q4 / gemm_q8 store it; the epilogues are cuda/
 * fused.cu's (gk_add_rms_norm, gk_rope_qk) and cuda/ops_float.c's binary
 * kernels (swiglu, vec_add).  So each op is its composition of backend ops
 * (gemm_q*, swiglu, vec_add, rope_with_pos, rms_norm), except that the
 * RMSNorm normalises the f32 sum y + residual where the composition rounds
 * it to T first (as the CPU does).  Where the CPU keeps its intermediates in
 * f32 (the products, the FFN's hidden vector), this backend rounds them to
 * T, as the float fused ops of cuda/ops_fused.c do.
 *
 * Workspace: the intermediates, each region rounded up to WS_ALIGN bytes
 * (ru(b) below), then the inner product's region (gllmk__cuk_intw_ws: 0 for
 * m < 16, else a panel of decoded W and, when W takes several panels, its
 * Y columns); the inner product gets all the workspace after the
 * intermediates.  es is the element size; iw(m, n, k) the inner region of
 * Y[m x n] = X[m x k] . W^T:
 *
 *   op: launches (m < 16 / m >= 16, one panel)     workspace
 *   fused_qkv_rope_q4: 3 products into q, k, v     max(iw(seq, nq, hidden),
 *     + rope_qk (4 / 7; composition: 3 gemm_q4        iw(seq, nkv, hidden))
 *     + 2 rope_with_pos)
 *   fused_ffn_q4: gate and up products into the    2 ru(m ffn es) (g, u) +
 *     workspace, swiglu in place, down product     ru(m hidden es) (the
 *     (into out when residual is NULL), vec_add    down product) +
 *     (5 / 8, 4 / 7 without residual: the          max(iw(m, ffn, hidden),
 *     composition's)                               iw(m, hidden, ffn))
 *   fused_int8/int4_linear_residual_rmsnorm:       ru(m n es) (the product)
 *     product into the workspace + add_rms_norm     + iw(m, n, k)
 *     (2 / 3; composition: 3 / 4 with vec_add
 *     + rms_norm)
 * (sizes zero: 0 bytes).  Aliasing as on the CPU: out and sum_out may alias
 * residual (sum_out may be NULL, residual may be NULL); no output may
 * overlap x, a weight or a scale.
 */
#include "cuda_internal.h"

#include <stdint.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t q_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};

typedef enum gllmk__cu_kernel kid;
static const kid k_swiglu[3] = {GK_gk_swiglu_f32, GK_gk_swiglu_f16, GK_gk_swiglu_bf16};
static const kid k_vec_add[3] = {GK_gk_vec_add_f32, GK_gk_vec_add_f16, GK_gk_vec_add_bf16};

#define WS_ALIGN 256   /* bytes: each workspace region starts so aligned (as cuda/ops_fused.c) */

/* ------------------------------------------------------------------ helpers */
static size_t max_z(size_t a, size_t b) { return a > b ? a : b; }

/* [p, p + bytes) inside a buffer of be and p aligned to align; empty ranges
 * always pass */
static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

/* n elements of es bytes fit size_t */
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

/* be's workspace when it holds `bytes` (NULL when bytes == 0); *avail: all
 * of it */
static gllmk_status workspace(gllmk_backend *be, size_t bytes, void **ws, size_t *avail) {
  *ws = NULL;
  *avail = 0;
  if (bytes == 0) return GLLMK_OK;
  *ws = gllmk__be_workspace(be, bytes);
  if (!*ws) return GLLMK_E_NOMEM;
  *avail = gllmk_backend_workspace_size(be);
  return GLLMK_OK;
}

/* the inner product Y = X . W^T in the workspace after `at` bytes */
static gllmk_status intw(gllmk_backend *be, int dt, int bits, const void *w, const float *scales,
                         const void *x, void *y, size_t m, size_t n, size_t k, void *ws,
                         size_t avail, size_t at) {
  void *p = ws ? (unsigned char *)ws + at : NULL;
  return gllmk__cuk_intw(be, dt, bits, w, scales, x, y, m, n, k, p, ws ? avail - at : 0);
}

/* ------------------------------------------------------------------ int rows */
/* lib/quant/qmatmul.c's intw_shape: W [n x k] int8 (bits 8) or int4 */
static gllmk_status intw_shape(int bits, size_t w_bytes, size_t n, size_t k) {
  size_t rb = bits == 8 ? k : k / 2, need, t;
  if (!gllmk__mul(n, rb, &need) || !gllmk__mul3(n, k, sizeof(float), &t)) return GLLMK_E_OVERFLOW;
  if (bits == 4 && k % 2) return GLLMK_E_INVAL;
  if (w_bytes < need) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* and its intw_setup: the shape, then the pointers */
static gllmk_status intw_check(int bits, const void *w, size_t w_bytes, const float *scales,
                               size_t n, size_t k) {
  gllmk_status st = intw_shape(bits, w_bytes, n, k);
  if (st != GLLMK_OK) return st;
  if (n && k && !w) return GLLMK_E_INVAL;
  if (n && !scales) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* W's rows and scales inside buffers of be (the n rows the shape needs) */
static int intw_owned(const gllmk_backend *be, int bits, const void *w, const float *scales,
                      size_t n, size_t k) {
  return owns(be, w, n * (bits == 8 ? k : k / 2), 1) &&
         owns(be, scales, n * sizeof(float), sizeof(float));
}

/* ------------------------------------------------------------------ fused_qkv_rope_q4 */
/* qmatmul_tpl.h's qkvq4_shape, with the byte ranges of x and the tables */
static gllmk_status qkv_shape(size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                              size_t head_dim, size_t rotary_dim, size_t pos, size_t es) {
  size_t nq, nkv, nkv2, tot, t, rows;
  if (!gllmk__mul(heads, head_dim, &nq) || !gllmk__mul(kv_heads, head_dim, &nkv) ||
      !gllmk__mul(seq, hidden, &t) || !gllmk__mul(nkv, 2, &nkv2) || !gllmk__add(nq, nkv2, &tot) ||
      !gllmk__mul3(seq, tot, sizeof(float), &t) || !gllmk__add(pos, seq, &rows) ||
      !gllmk__mul(rows, rotary_dim / 2, &t))
    return GLLMK_E_OVERFLOW;
  if (!bytes_ok(seq * hidden, es) || !bytes_ok(rows * (rotary_dim / 2), es))
    return GLLMK_E_OVERFLOW;
  if (rotary_dim % 2 || rotary_dim > head_dim) return GLLMK_E_INVAL;
  if (heads == 0 || kv_heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* the inner products' region (no intermediates: the products go to q, k, v) */
static size_t qkv_bytes(int dt, size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                        size_t head_dim) {
  if (seq == 0 || head_dim == 0) return 0;
  return max_z(gllmk__cuk_intw_ws(dt, 4, seq, heads * head_dim, hidden),
               gllmk__cuk_intw_ws(dt, 4, seq, kv_heads * head_dim, hidden));
}

static gllmk_status qkv_workspace(const gllmk_backend *be, int dt, size_t wq_bytes,
                                  size_t wk_bytes, size_t wv_bytes, size_t seq, size_t hidden,
                                  size_t heads, size_t kv_heads, size_t head_dim,
                                  size_t rotary_dim, bool interleaved, size_t pos,
                                  size_t *bytes) {
  (void)interleaved;   /* the layout changes nothing the op needs */
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  st = qkv_shape(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos, q_esize[dt]);
  if (st != GLLMK_OK) return st;
  size_t nq = heads * head_dim, nkv = kv_heads * head_dim;
  if ((st = intw_shape(4, wq_bytes, nq, hidden)) != GLLMK_OK ||
      (st = intw_shape(4, wk_bytes, nkv, hidden)) != GLLMK_OK ||
      (st = intw_shape(4, wv_bytes, nkv, hidden)) != GLLMK_OK)
    return st;
  *bytes = qkv_bytes(dt, seq, hidden, heads, kv_heads, head_dim);
  return GLLMK_OK;
}

static gllmk_status cu_qkv_rope_q4(gllmk_backend *be, int dt, const void *x, const uint8_t *wq,
                                   size_t wq_bytes, const float *sq, const uint8_t *wk,
                                   size_t wk_bytes, const float *sk, const uint8_t *wv,
                                   size_t wv_bytes, const float *sv, const void *cs,
                                   const void *sn, void *q, void *k, void *v, size_t seq,
                                   size_t hidden, size_t heads, size_t kv_heads, size_t head_dim,
                                   size_t rotary_dim, bool interleaved, size_t pos) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = q_esize[dt];
  gllmk_status st = qkv_shape(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos, es);
  if (st != GLLMK_OK) return st;
  size_t nq = heads * head_dim, nkv = kv_heads * head_dim, half = rotary_dim / 2;
  if ((st = intw_check(4, wq, wq_bytes, sq, nq, hidden)) != GLLMK_OK ||
      (st = intw_check(4, wk, wk_bytes, sk, nkv, hidden)) != GLLMK_OK ||
      (st = intw_check(4, wv, wv_bytes, sv, nkv, hidden)) != GLLMK_OK)
    return st;
  bool any = seq && head_dim;
  if (any && (!q || !k || !v)) return GLLMK_E_INVAL;
  if (any && hidden && !x) return GLLMK_E_INVAL;
  if (any && rotary_dim && (!cs || !sn)) return GLLMK_E_INVAL;
  if (!any) return GLLMK_OK;
  size_t tab = (pos + seq) * half * es;
  if (!owns(be, x, seq * hidden * es, es) || !intw_owned(be, 4, wq, sq, nq, hidden) ||
      !intw_owned(be, 4, wk, sk, nkv, hidden) || !intw_owned(be, 4, wv, sv, nkv, hidden) ||
      !owns(be, q, seq * nq * es, es) || !owns(be, k, seq * nkv * es, es) ||
      !owns(be, v, seq * nkv * es, es) || !owns(be, cs, tab, es) || !owns(be, sn, tab, es))
    return GLLMK_E_INVAL;
  void *ws;
  size_t avail;
  st = workspace(be, qkv_bytes(dt, seq, hidden, heads, kv_heads, head_dim), &ws, &avail);
  if (st != GLLMK_OK) return st;
  st = intw(be, dt, 4, wq, sq, x, q, seq, nq, hidden, ws, avail, 0);
  if (st == GLLMK_OK) st = intw(be, dt, 4, wk, sk, x, k, seq, nkv, hidden, ws, avail, 0);
  if (st == GLLMK_OK) st = intw(be, dt, 4, wv, sv, x, v, seq, nkv, hidden, ws, avail, 0);
  if (st != GLLMK_OK || half == 0) return st;
  return gllmk__cuk_rope_qk(be, dt, q, k, cs, sn, seq, heads, kv_heads, head_dim, half,
                            interleaved, pos);
}

/* ------------------------------------------------------------------ fused_ffn_q4 */
/* qmatmul_tpl.h's ffnq4_sizes_ok, with the byte ranges of x and out */
static int ffn_sizes_ok(size_t m, size_t hidden, size_t ffn, size_t es) {
  size_t t;
  return gllmk__mul(m, hidden, &t) && gllmk__mul3(m, ffn, 2 * sizeof(float), &t) &&
         bytes_ok(m * hidden, es);
}

/* g, u [m x ffn], y [m x hidden], in this order, then the inner region; 0
 * on overflow */
static int ffn_bytes(int dt, size_t m, size_t hidden, size_t ffn, size_t *gu, size_t *at_y,
                     size_t *at_in, size_t *total) {
  size_t es = q_esize[dt];
  *total = *gu = *at_y = *at_in = 0;
  if (m == 0 || hidden == 0) return 1;
  *gu = m * ffn * es;
  if (!ws_add(total, *gu) || !ws_add(total, *gu)) return 0;
  *at_y = *total;
  if (!ws_add(total, m * hidden * es)) return 0;
  *at_in = *total;
  return gllmk__add(*total, max_z(gllmk__cuk_intw_ws(dt, 4, m, ffn, hidden),
                                  gllmk__cuk_intw_ws(dt, 4, m, hidden, ffn)), total);
}

static gllmk_status ffn_workspace(const gllmk_backend *be, int dt, size_t gate_bytes,
                                  size_t up_bytes, size_t down_bytes, size_t m, size_t hidden,
                                  size_t ffn, size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  if (!ffn_sizes_ok(m, hidden, ffn, q_esize[dt])) return GLLMK_E_OVERFLOW;
  if ((st = intw_shape(4, gate_bytes, ffn, hidden)) != GLLMK_OK ||
      (st = intw_shape(4, up_bytes, ffn, hidden)) != GLLMK_OK ||
      (st = intw_shape(4, down_bytes, hidden, ffn)) != GLLMK_OK)
    return st;
  size_t gu, at_y, at_in;
  if (!ffn_bytes(dt, m, hidden, ffn, &gu, &at_y, &at_in, bytes)) {
    *bytes = 0;
    return GLLMK_E_OVERFLOW;
  }
  return GLLMK_OK;
}

static gllmk_status cu_ffn_q4(gllmk_backend *be, int dt, const void *x, const uint8_t *wg,
                              size_t gate_bytes, const float *sg, const uint8_t *wu,
                              size_t up_bytes, const float *su, const uint8_t *wd,
                              size_t down_bytes, const float *sd, const void *residual, void *out,
                              size_t m, size_t hidden, size_t ffn) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = q_esize[dt];
  if (!ffn_sizes_ok(m, hidden, ffn, es)) return GLLMK_E_OVERFLOW;
  gllmk_status st;
  if ((st = intw_check(4, wg, gate_bytes, sg, ffn, hidden)) != GLLMK_OK ||
      (st = intw_check(4, wu, up_bytes, su, ffn, hidden)) != GLLMK_OK ||
      (st = intw_check(4, wd, down_bytes, sd, hidden, ffn)) != GLLMK_OK)
    return st;
  if (m && hidden && (!x || !out)) return GLLMK_E_INVAL;
  if (m == 0 || hidden == 0) return GLLMK_OK;
  size_t gu, at_y, at_in, need, mhb = m * hidden * es;
  if (!ffn_bytes(dt, m, hidden, ffn, &gu, &at_y, &at_in, &need)) return GLLMK_E_OVERFLOW;
  if (!owns(be, x, mhb, es) || !intw_owned(be, 4, wg, sg, ffn, hidden) ||
      !intw_owned(be, 4, wu, su, ffn, hidden) || !intw_owned(be, 4, wd, sd, hidden, ffn) ||
      (residual && !owns(be, residual, mhb, es)) || !owns(be, out, mhb, es))
    return GLLMK_E_INVAL;
  void *ws;
  size_t avail, at = 0;
  if ((st = workspace(be, need, &ws, &avail)) != GLLMK_OK) return st;
  void *g = ws_take(ws, &at, gu), *u = ws_take(ws, &at, gu);
  void *y = (unsigned char *)ws + at_y;
  if (ffn) {
    st = intw(be, dt, 4, wg, sg, x, g, m, ffn, hidden, ws, avail, at_in);
    if (st == GLLMK_OK) st = intw(be, dt, 4, wu, su, x, u, m, ffn, hidden, ws, avail, at_in);
    if (st == GLLMK_OK) st = gllmk__cuk_binary(be, k_swiglu[dt], es, g, u, g, m * ffn);
    if (st != GLLMK_OK) return st;
  }
  if (!residual)   /* nothing to add: the down product is the result */
    return intw(be, dt, 4, wd, sd, g, out, m, hidden, ffn, ws, avail, at_in);
  st = intw(be, dt, 4, wd, sd, g, y, m, hidden, ffn, ws, avail, at_in);
  if (st != GLLMK_OK) return st;
  return gllmk__cuk_binary(be, k_vec_add[dt], es, y, residual, out, m * hidden);
}

/* ------------------------------------------- fused_int8/int4_linear_residual_rmsnorm */
/* qmatmul_tpl.h's lrr_sizes_ok, with the byte range of x */
static int lrr_sizes_ok(size_t m, size_t n, size_t k, size_t es) {
  size_t t;
  return gllmk__mul(m, k, &t) && gllmk__mul3(m, n, sizeof(float), &t) && bytes_ok(m * k, es);
}

/* the product y [m x n], then the inner region; 0 on overflow */
static int lrr_bytes(int dt, int bits, size_t m, size_t n, size_t k, size_t *at_in,
                     size_t *total) {
  *total = *at_in = 0;
  if (m == 0 || n == 0) return 1;
  if (!ws_add(total, m * n * q_esize[dt])) return 0;
  *at_in = *total;
  return gllmk__add(*total, gllmk__cuk_intw_ws(dt, bits, m, n, k), total);
}

static gllmk_status lrr_workspace(const gllmk_backend *be, int dt, int bits, size_t w_bytes,
                                  size_t m, size_t n, size_t k, size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  if (!lrr_sizes_ok(m, n, k, q_esize[dt])) return GLLMK_E_OVERFLOW;
  if ((st = intw_shape(bits, w_bytes, n, k)) != GLLMK_OK) return st;
  size_t at_in;
  if (!lrr_bytes(dt, bits, m, n, k, &at_in, bytes)) {
    *bytes = 0;
    return GLLMK_E_OVERFLOW;
  }
  return GLLMK_OK;
}

static gllmk_status cu_lrr(gllmk_backend *be, int dt, int bits, const void *x, const void *w,
                           size_t w_bytes, const float *scales, const void *residual,
                           const void *norm_w, void *out, void *sum_out, size_t m, size_t n,
                           size_t k, float eps) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = q_esize[dt];
  if (!lrr_sizes_ok(m, n, k, es)) return GLLMK_E_OVERFLOW;
  if (!(eps >= 0.0f)) return GLLMK_E_INVAL;
  gllmk_status st = intw_check(bits, w, w_bytes, scales, n, k);
  if (st != GLLMK_OK) return st;
  if (m && n && (!out || !norm_w)) return GLLMK_E_INVAL;
  if (m && k && !x) return GLLMK_E_INVAL;
  if (m == 0 || n == 0) return GLLMK_OK;
  size_t at_in, need, mnb = m * n * es;
  if (!lrr_bytes(dt, bits, m, n, k, &at_in, &need)) return GLLMK_E_OVERFLOW;
  if (!owns(be, x, m * k * es, es) || !intw_owned(be, bits, w, scales, n, k) ||
      (residual && !owns(be, residual, mnb, es)) || !owns(be, norm_w, n * es, es) ||
      !owns(be, out, mnb, es) || (sum_out && !owns(be, sum_out, mnb, es)))
    return GLLMK_E_INVAL;
  void *ws;
  size_t avail;
  if ((st = workspace(be, need, &ws, &avail)) != GLLMK_OK) return st;
  st = intw(be, dt, bits, w, scales, x, ws, m, n, k, ws, avail, at_in);
  if (st != GLLMK_OK) return st;
  return gllmk__cuk_add_rms_norm(be, dt, ws, residual, norm_w, out, sum_out, m, n, eps);
}

/* ------------------------------------------------------------------ entry points
 * (tools/gen-api.py puts the gllmk__cu_* functions defined at the start of a
 * line here into the backend's tables; cuda_ops.h declares them.) */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif

gllmk_status gllmk__cu_fused_qkv_rope_q4_f32(gllmk_backend *be, const float *x, const uint8_t *wq,
                                             size_t wq_bytes, const float *sq, const uint8_t *wk,
                                             size_t wk_bytes, const float *sk, const uint8_t *wv,
                                             size_t wv_bytes, const float *sv, const float *cos,
                                             const float *sin, float *q, float *k, float *v,
                                             size_t seq, size_t hidden, size_t heads,
                                             size_t kv_heads, size_t head_dim, size_t rotary_dim,
                                             bool interleaved, size_t pos) {
  return cu_qkv_rope_q4(be, DT_F32, x, wq, wq_bytes, sq, wk, wk_bytes, sk, wv, wv_bytes, sv, cos,
                        sin, q, k, v, seq, hidden, heads, kv_heads, head_dim, rotary_dim,
                        interleaved, pos);
}
gllmk_status gllmk__cu_fused_qkv_rope_q4_workspace_bytes_f32(
    gllmk_backend *be, size_t wq_bytes, size_t wk_bytes, size_t wv_bytes, size_t seq, size_t hidden,
    size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos,
    size_t *bytes) {
  return qkv_workspace(be, DT_F32, wq_bytes, wk_bytes, wv_bytes, seq, hidden, heads, kv_heads,
                       head_dim, rotary_dim, interleaved, pos, bytes);
}
gllmk_status gllmk__cu_fused_ffn_q4_f32(gllmk_backend *be, const float *x, const uint8_t *w_gate,
                                        size_t gate_bytes, const float *s_gate, const uint8_t *w_up,
                                        size_t up_bytes, const float *s_up, const uint8_t *w_down,
                                        size_t down_bytes, const float *s_down,
                                        const float *residual, float *out, size_t m, size_t hidden,
                                        size_t ffn) {
  return cu_ffn_q4(be, DT_F32, x, w_gate, gate_bytes, s_gate, w_up, up_bytes, s_up, w_down,
                   down_bytes, s_down, residual, out, m, hidden, ffn);
}
gllmk_status gllmk__cu_fused_ffn_q4_workspace_bytes_f32(gllmk_backend *be, size_t gate_bytes,
                                                        size_t up_bytes, size_t down_bytes,
                                                        size_t m, size_t hidden, size_t ffn,
                                                        size_t *bytes) {
  return ffn_workspace(be, DT_F32, gate_bytes, up_bytes, down_bytes, m, hidden, ffn, bytes);
}
gllmk_status gllmk__cu_fused_int8_linear_residual_rmsnorm_f32(
    gllmk_backend *be, const float *x, const int8_t *w, size_t w_bytes, const float *scales,
    const float *residual, const float *norm_w, float *out, float *sum_out, size_t m, size_t n,
    size_t k, float eps) {
  return cu_lrr(be, DT_F32, 8, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status gllmk__cu_fused_int8_linear_residual_rmsnorm_workspace_bytes_f32(
    gllmk_backend *be, size_t w_bytes, size_t m, size_t n, size_t k, size_t *bytes) {
  return lrr_workspace(be, DT_F32, 8, w_bytes, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_int4_linear_residual_rmsnorm_f32(
    gllmk_backend *be, const float *x, const uint8_t *w, size_t w_bytes, const float *scales,
    const float *residual, const float *norm_w, float *out, float *sum_out, size_t m, size_t n,
    size_t k, float eps) {
  return cu_lrr(be, DT_F32, 4, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status gllmk__cu_fused_int4_linear_residual_rmsnorm_workspace_bytes_f32(
    gllmk_backend *be, size_t w_bytes, size_t m, size_t n, size_t k, size_t *bytes) {
  return lrr_workspace(be, DT_F32, 4, w_bytes, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_qkv_rope_q4_f16(
    gllmk_backend *be, const gllmk_f16 *x, const uint8_t *wq, size_t wq_bytes, const float *sq,
    const uint8_t *wk, size_t wk_bytes, const float *sk, const uint8_t *wv, size_t wv_bytes,
    const float *sv, const gllmk_f16 *cos, const gllmk_f16 *sin, gllmk_f16 *q, gllmk_f16 *k,
    gllmk_f16 *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim,
    size_t rotary_dim, bool interleaved, size_t pos) {
  return cu_qkv_rope_q4(be, DT_F16, x, wq, wq_bytes, sq, wk, wk_bytes, sk, wv, wv_bytes, sv, cos,
                        sin, q, k, v, seq, hidden, heads, kv_heads, head_dim, rotary_dim,
                        interleaved, pos);
}
gllmk_status gllmk__cu_fused_qkv_rope_q4_workspace_bytes_f16(
    gllmk_backend *be, size_t wq_bytes, size_t wk_bytes, size_t wv_bytes, size_t seq, size_t hidden,
    size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos,
    size_t *bytes) {
  return qkv_workspace(be, DT_F16, wq_bytes, wk_bytes, wv_bytes, seq, hidden, heads, kv_heads,
                       head_dim, rotary_dim, interleaved, pos, bytes);
}
gllmk_status gllmk__cu_fused_ffn_q4_f16(gllmk_backend *be, const gllmk_f16 *x,
                                        const uint8_t *w_gate, size_t gate_bytes,
                                        const float *s_gate, const uint8_t *w_up, size_t up_bytes,
                                        const float *s_up, const uint8_t *w_down, size_t down_bytes,
                                        const float *s_down, const gllmk_f16 *residual,
                                        gllmk_f16 *out, size_t m, size_t hidden, size_t ffn) {
  return cu_ffn_q4(be, DT_F16, x, w_gate, gate_bytes, s_gate, w_up, up_bytes, s_up, w_down,
                   down_bytes, s_down, residual, out, m, hidden, ffn);
}
gllmk_status gllmk__cu_fused_ffn_q4_workspace_bytes_f16(gllmk_backend *be, size_t gate_bytes,
                                                        size_t up_bytes, size_t down_bytes,
                                                        size_t m, size_t hidden, size_t ffn,
                                                        size_t *bytes) {
  return ffn_workspace(be, DT_F16, gate_bytes, up_bytes, down_bytes, m, hidden, ffn, bytes);
}
gllmk_status gllmk__cu_fused_int8_linear_residual_rmsnorm_f16(
    gllmk_backend *be, const gllmk_f16 *x, const int8_t *w, size_t w_bytes, const float *scales,
    const gllmk_f16 *residual, const gllmk_f16 *norm_w, gllmk_f16 *out, gllmk_f16 *sum_out,
    size_t m, size_t n, size_t k, float eps) {
  return cu_lrr(be, DT_F16, 8, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status gllmk__cu_fused_int8_linear_residual_rmsnorm_workspace_bytes_f16(
    gllmk_backend *be, size_t w_bytes, size_t m, size_t n, size_t k, size_t *bytes) {
  return lrr_workspace(be, DT_F16, 8, w_bytes, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_int4_linear_residual_rmsnorm_f16(
    gllmk_backend *be, const gllmk_f16 *x, const uint8_t *w, size_t w_bytes, const float *scales,
    const gllmk_f16 *residual, const gllmk_f16 *norm_w, gllmk_f16 *out, gllmk_f16 *sum_out,
    size_t m, size_t n, size_t k, float eps) {
  return cu_lrr(be, DT_F16, 4, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status gllmk__cu_fused_int4_linear_residual_rmsnorm_workspace_bytes_f16(
    gllmk_backend *be, size_t w_bytes, size_t m, size_t n, size_t k, size_t *bytes) {
  return lrr_workspace(be, DT_F16, 4, w_bytes, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_qkv_rope_q4_bf16(
    gllmk_backend *be, const gllmk_bf16 *x, const uint8_t *wq, size_t wq_bytes, const float *sq,
    const uint8_t *wk, size_t wk_bytes, const float *sk, const uint8_t *wv, size_t wv_bytes,
    const float *sv, const gllmk_bf16 *cos, const gllmk_bf16 *sin, gllmk_bf16 *q, gllmk_bf16 *k,
    gllmk_bf16 *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim,
    size_t rotary_dim, bool interleaved, size_t pos) {
  return cu_qkv_rope_q4(be, DT_BF16, x, wq, wq_bytes, sq, wk, wk_bytes, sk, wv, wv_bytes, sv, cos,
                        sin, q, k, v, seq, hidden, heads, kv_heads, head_dim, rotary_dim,
                        interleaved, pos);
}
gllmk_status gllmk__cu_fused_qkv_rope_q4_workspace_bytes_bf16(
    gllmk_backend *be, size_t wq_bytes, size_t wk_bytes, size_t wv_bytes, size_t seq, size_t hidden,
    size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos,
    size_t *bytes) {
  return qkv_workspace(be, DT_BF16, wq_bytes, wk_bytes, wv_bytes, seq, hidden, heads, kv_heads,
                       head_dim, rotary_dim, interleaved, pos, bytes);
}
gllmk_status gllmk__cu_fused_ffn_q4_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                         const uint8_t *w_gate, size_t gate_bytes,
                                         const float *s_gate, const uint8_t *w_up, size_t up_bytes,
                                         const float *s_up, const uint8_t *w_down,
                                         size_t down_bytes, const float *s_down,
                                         const gllmk_bf16 *residual, gllmk_bf16 *out, size_t m,
                                         size_t hidden, size_t ffn) {
  return cu_ffn_q4(be, DT_BF16, x, w_gate, gate_bytes, s_gate, w_up, up_bytes, s_up, w_down,
                   down_bytes, s_down, residual, out, m, hidden, ffn);
}
gllmk_status gllmk__cu_fused_ffn_q4_workspace_bytes_bf16(gllmk_backend *be, size_t gate_bytes,
                                                         size_t up_bytes, size_t down_bytes,
                                                         size_t m, size_t hidden, size_t ffn,
                                                         size_t *bytes) {
  return ffn_workspace(be, DT_BF16, gate_bytes, up_bytes, down_bytes, m, hidden, ffn, bytes);
}
gllmk_status gllmk__cu_fused_int8_linear_residual_rmsnorm_bf16(
    gllmk_backend *be, const gllmk_bf16 *x, const int8_t *w, size_t w_bytes, const float *scales,
    const gllmk_bf16 *residual, const gllmk_bf16 *norm_w, gllmk_bf16 *out, gllmk_bf16 *sum_out,
    size_t m, size_t n, size_t k, float eps) {
  return cu_lrr(be, DT_BF16, 8, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k,
                eps);
}
gllmk_status gllmk__cu_fused_int8_linear_residual_rmsnorm_workspace_bytes_bf16(
    gllmk_backend *be, size_t w_bytes, size_t m, size_t n, size_t k, size_t *bytes) {
  return lrr_workspace(be, DT_BF16, 8, w_bytes, m, n, k, bytes);
}
gllmk_status gllmk__cu_fused_int4_linear_residual_rmsnorm_bf16(
    gllmk_backend *be, const gllmk_bf16 *x, const uint8_t *w, size_t w_bytes, const float *scales,
    const gllmk_bf16 *residual, const gllmk_bf16 *norm_w, gllmk_bf16 *out, gllmk_bf16 *sum_out,
    size_t m, size_t n, size_t k, float eps) {
  return cu_lrr(be, DT_BF16, 4, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k,
                eps);
}
gllmk_status gllmk__cu_fused_int4_linear_residual_rmsnorm_workspace_bytes_bf16(
    gllmk_backend *be, size_t w_bytes, size_t m, size_t n, size_t k, size_t *bytes) {
  return lrr_workspace(be, DT_BF16, 4, w_bytes, m, n, k, bytes);
}
