/* test_cuda_fusedq.c -- the CUDA backend's Table D fused ops on int8 / int4 rows against the double reference
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (one TAP skip when it says
 * GLLMK_E_NO_DEVICE, unless GLLMK_TEST_REQUIRE_CUDA=1; GLLMK_TEST_NO_CUDA
 * skips everything; in `make check` the emulated driver runs every kernel in
 * the execution harness), and for f32/f16/bf16:
 *  - fused_qkv_rope_q4, fused_ffn_q4, fused_int8_linear_residual_rmsnorm and
 *    fused_int4_linear_residual_rmsnorm against the double reference of
 *    their composition, for m = 1, 2, 7 (the products' f32-activation GEMV)
 *    and 16, 33 (W decoded to T + the GEMM), odd n and k (int8), GQA,
 *    partial rotary, both rope layouts and pos; sum_out NULL, separate and
 *    aliasing residual, out aliasing residual, residual NULL;
 *  - the workspace queries: an op run with exactly the workspace its query
 *    reports succeeds, and with one byte less returns GLLMK_E_NOMEM and
 *    writes nothing (a fresh backend, whose workspace starts empty);
 *  - bad input: no backend, NULLs, eps < 0 or NaN, odd k for int4 rows,
 *    weight byte counts one short, bad shapes and sizes that overflow give
 *    the CPU function's code (the CPU function is called with the same
 *    arguments), and host, misaligned and past-the-end pointers
 *    GLLMK_E_INVAL; nothing written.
 * Reference: W = diag(s) levels (int8, or int4 nibbles q - 8) in double, x
 * as stored, every step in double.  Tolerances propagate as in
 * test_cuda_fused.c (ref.c's rope and rms_norm bounds): a product carries
 * (tu_acc_eps(k) + 2 tu_out_rtol(T)) sum |s w x|, which covers the f32
 * accumulation, the rounding of each decoded weight to T on the prefill
 * path and the rounding of the product to T (these ops keep their
 * intermediates in T, as the composition of backend ops does), plus
 * sum |s w| e for an input known within e.  The CUDA int rows multiply f32
 * activations for m < 16 too (no int8 rounding of x, unlike the CPU's
 * decode path, see gllmk/quant_ops.h), so this bound is tighter than the
 * documented one the CPU test (test_qops.c) uses.
 * Inputs and outputs live in device buffers that mirror the host arrays
 * whole (guards included), so the guards and the inputs are checked after
 * each op.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gllmk_backend *be;

#define OPS(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(be)->op(be, __VA_ARGS__)                             \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(be)->op(be, __VA_ARGS__)                             \
                    : gllmk_backend_ops_bf16(be)->op(be, __VA_ARGS__))
#define CPU(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_##op##_f32(__VA_ARGS__)                                              \
   : (dt) == TU_F16 ? gllmk_##op##_f16(__VA_ARGS__)                                              \
                    : gllmk_##op##_bf16(__VA_ARGS__))

/* ------------------------------------------------------------------ device mirrors */
/* a device buffer holding a copy of a host allocation whole (guards
 * included): p is the device address of the data.  a: a tu_arr, or b: a
 * tu_buf (packed weights). */
typedef struct dv {
  gllmk_buffer *buf;
  void *p;
  unsigned char *mem;
  size_t mem_bytes;
} dv;

#define MAXA 14
typedef struct set {
  int n;
  tu_arr *a[MAXA];
  tu_buf *b[MAXA];
  dv d[MAXA];
} set;

static void *set_mem(set *s, unsigned char *mem, size_t mem_bytes, const void *p)
{
  if (s->n == MAXA) bail_out("test bug: set full");
  dv *d = &s->d[s->n];
  d->mem = mem;
  d->mem_bytes = mem_bytes;
  if (gllmk_buffer_alloc(be, mem_bytes, &d->buf) != GLLMK_OK)
    bail_out("gllmk_buffer_alloc(%zu) failed", mem_bytes);
  if (gllmk_buffer_upload(d->buf, 0, mem, mem_bytes) != GLLMK_OK)
    bail_out("gllmk_buffer_upload failed");
  d->p = (unsigned char *)gllmk_buffer_data(d->buf) + ((const unsigned char *)p - mem);
  return s->d[s->n++].p;
}

static void *set_arr(set *s, tu_arr *a)
{
  s->a[s->n] = a;
  s->b[s->n] = NULL;
  return set_mem(s, a->mem, a->mem_bytes, a->p);
}

static void *set_buf(set *s, tu_buf *b)
{
  s->a[s->n] = NULL;
  s->b[s->n] = b;
  return set_mem(s, b->mem, b->mem_bytes, b->p);
}

static void set_down(set *s)
{
  if (gllmk_backend_synchronize(be) != GLLMK_OK) bail_out("gllmk_backend_synchronize failed");
  for (int i = 0; i < s->n; i++)
    if (gllmk_buffer_download(s->d[i].buf, 0, s->d[i].mem, s->d[i].mem_bytes) != GLLMK_OK)
      bail_out("gllmk_buffer_download failed");
}

/* every mirrored array unchanged and its guards intact */
static int set_untouched(const set *s)
{
  for (int i = 0; i < s->n; i++)
    if (s->a[i] ? !(tu_arr_unchanged(s->a[i]) && tu_arr_guards_ok(s->a[i]))
                : !tu_buf_untouched(s->b[i]))
      return 0;
  return 1;
}

static void set_free(set *s)
{
  for (int i = 0; i < s->n; i++) {
    gllmk_buffer_free(s->d[i].buf);
    if (s->a[i]) tu_arr_free(s->a[i]);
    if (s->b[i]) tu_buf_free(s->b[i]);
  }
  s->n = 0;
}

/* ------------------------------------------------------------------ int rows */
/* a matrix W [n x k] of int8 (bits 8) or int4 rows with f32 scales [n]:
 * packed (random bytes), scales (outputs O(1)) and W = diag(s) levels in
 * double */
typedef struct qm {
  tu_buf w;
  tu_arr s;
  double *d;
  size_t bytes;
} qm;

static void qm_make(qm *q, int bits, size_t n, size_t k, size_t off)
{
  size_t rb = bits == 8 ? k : k / 2;
  q->bytes = n * rb;
  tu_buf_alloc(&q->w, q->bytes, off % 3);
  tu_buf_random(&q->w);
  tu_arr_alloc(&q->s, TU_F32, n, off % 2);
  double lmax = bits == 8 ? 128.0 : 8.0, *v = tu_dalloc(n ? n : 1);
  for (size_t i = 0; i < n; i++)
    v[i] = (tu_rand01() < 0.5 ? -2.0 : 2.0) * tu_uniform(0.5, 1.5) /
           (lmax * sqrt((double)(k ? k : 1)));
  tu_arr_set(&q->s, v);
  free(v);
  q->d = tu_dalloc(n * k != 0 ? n * k : 1);
  for (size_t r = 0; r < n; r++)
    for (size_t j = 0; j < k; j++) {
      const unsigned char *row = q->w.p + r * rb;
      double l = bits == 8 ? (double)(int8_t)row[j] : (double)((row[j / 2] >> (4 * (j % 2))) & 15) - 8.0;
      q->d[r * k + j] = q->s.v[r] * l;
    }
}

/* the arrays go to a set (which frees them); d is freed here */
static void qm_done(qm *q)
{
  free(q->d);
  q->d = NULL;
}

/* ------------------------------------------------------------------ references */
/* y = x.W^T and its bound (see the header) */
static void lin(const double *x, const double *w, double *y, double *err, size_t m, size_t n,
                size_t k, tu_dtype dt)
{
  double *ax = tu_dalloc(m * k + 1), *aw = tu_dalloc(n * k + 1);
  tu_dabs(x, ax, m * k);
  tu_dabs(w, aw, n * k);
  ref_linear(x, w, y, m, n, k);
  ref_linear(ax, aw, err, m, n, k);
  for (size_t i = 0; i < m * n; i++)
    err[i] *= tu_acc_eps(k) + 2 * tu_out_rtol(dt);
  free(ax);
  free(aw);
}

/* s = residual + down(swiglu(gate, up)) and its bound */
static void ffn_sum(const double *x, const double *wg, const double *wu, const double *wd,
                    const double *res, double *s, double *err, size_t m, size_t hidden,
                    size_t ffn, tu_dtype dt)
{
  size_t mf = m * ffn + 1;
  double *g = tu_dalloc(mf), *u = tu_dalloc(mf), *eg = tu_dalloc(mf), *eu = tu_dalloc(mf);
  double *h = tu_dalloc(mf), *eh = tu_dalloc(mf);
  lin(x, wg, g, eg, m, ffn, hidden, dt);
  lin(x, wu, u, eu, m, ffn, hidden, dt);
  for (size_t i = 0; i < m * ffn; i++) {
    double sg = ref_silu1(g[i]);
    h[i] = sg * u[i];
    eh[i] = 1.1 * fabs(u[i]) * eg[i] + fabs(sg) * eu[i] + eg[i] * eu[i] +
            6 * 0x1p-23 * fabs(h[i]) + tu_out_rtol(dt) * fabs(h[i]);
  }
  double *y = tu_dalloc(m * hidden), *ey = tu_dalloc(m * hidden), *ad = tu_dalloc(hidden * ffn + 1);
  double *prop = tu_dalloc(m * hidden);
  lin(h, wd, y, ey, m, hidden, ffn, dt);
  tu_dabs(wd, ad, hidden * ffn);
  ref_linear(eh, ad, prop, m, hidden, ffn);
  for (size_t i = 0; i < m * hidden; i++) {
    double r = res ? res[i] : 0.0;
    s[i] = r + y[i];
    err[i] = ey[i] + prop[i] + 0x1p-23 * (fabs(r) + fabs(y[i])) + tu_out_rtol(dt) * fabs(s[i]);
  }
  free(g); free(u); free(eg); free(eu); free(h); free(eh);
  free(y); free(ey); free(ad); free(prop);
}

static int cmp_arr(tu_check *c, tu_dtype dt, const tu_arr *a, const double *ref, const double *tol,
                   const char *what, const char *ctx)
{
  double *got = tu_dalloc(a->n + 1);
  tu_arr_read(a, got);
  int okk = 1;
  for (size_t i = 0; i < a->n && okk; i++)
    okk = tu_check_out(c, dt, got[i], ref[i], tol[i], "%s %s [%zu]", ctx, what, i);
  free(got);
  return okk;
}

static void arr_rand(tu_arr *a, tu_dtype dt, size_t n, size_t off, double lo, double hi)
{
  tu_arr_alloc(a, dt, n, off % 4);
  tu_arr_uniform(a, lo, hi);
}

static void arr_out(tu_arr *a, tu_dtype dt, size_t n, size_t off)
{
  tu_arr_alloc(a, dt, n, off % 4);
  tu_arr_poison(a);
}

/* ------------------------------------------------------------------ workspace */
/* the shared backend's workspace reserved from the query, or a fresh
 * backend (be, its workspace empty) with one byte less first: GLLMK_E_NOMEM
 * and nothing written, then exactly the query's bytes */
enum { WS_SHARED, WS_EXACT };

typedef gllmk_status (*call_fn)(void *ctx);
static gllmk_status run_call(tu_check *c, int wsmode, gllmk_status q, size_t bytes, set *s,
                             call_fn f, void *ctx, const char *what)
{
  tu_check_status(c, q, GLLMK_OK, "%s workspace query", what);
  if (wsmode == WS_SHARED || bytes == 0) {
    if (gllmk_backend_reserve_workspace(be, bytes) != GLLMK_OK)
      bail_out("gllmk_backend_reserve_workspace(%zu) failed", bytes);
    return f(ctx);
  }
  if (bytes > 1 && gllmk_backend_reserve_workspace(be, bytes - 1) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu) failed", bytes - 1);
  tu_check_status(c, f(ctx), GLLMK_E_NOMEM, "%s with %zu workspace bytes of %zu", what, bytes - 1,
                  bytes);
  set_down(s);
  tu_check_true(c, set_untouched(s), "%s: GLLMK_E_NOMEM wrote an array", what);
  if (gllmk_backend_reserve_workspace(be, bytes) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu) failed", bytes);
  return f(ctx);
}

/* ------------------------------------------------------------------ fused_qkv_rope_q4 */
struct qkv_args {
  tu_dtype dt;
  void *x, *wq, *sq, *wk, *sk, *wv, *sv, *cs, *sn, *q, *k, *v;
  size_t bq, bk, seq, hidden, heads, kv_heads, hd, rot, pos;
  bool il;
};
static gllmk_status qkv_call(void *p)
{
  struct qkv_args *a = p;
  return OPS(a->dt, fused_qkv_rope_q4, a->x, a->wq, a->bq, a->sq, a->wk, a->bk, a->sk, a->wv,
             a->bk, a->sv, a->cs, a->sn, a->q, a->k, a->v, a->seq, a->hidden, a->heads,
             a->kv_heads, a->hd, a->rot, a->il, a->pos);
}

static void run_qkv(tu_check *c, tu_dtype dt, size_t seq, size_t hidden, size_t heads,
                    size_t kv_heads, size_t hd, size_t rot, bool il, size_t pos, size_t off,
                    int wsmode)
{
  size_t nq = heads * hd, nk = kv_heads * hd, half = rot / 2;
  tu_arr x, cs, sn, q, k, v;
  qm wq, wk, wv;
  set s = {0};
  arr_rand(&x, dt, seq * hidden, off, -1, 1);
  qm_make(&wq, 4, nq, hidden, off);
  qm_make(&wk, 4, nk, hidden, off + 1);
  qm_make(&wv, 4, nk, hidden, off + 2);
  tu_arr_alloc(&cs, dt, (pos + seq) * half, (off + 1) % 4);
  tu_arr_alloc(&sn, dt, (pos + seq) * half, (off + 2) % 4);
  double *vc = tu_dalloc((pos + seq) * half + 1), *vs = tu_dalloc((pos + seq) * half + 1);
  for (size_t i = 0; i < (pos + seq) * half; i++) {
    double th = tu_uniform(-4, 4);
    vc[i] = cos(th);
    vs[i] = sin(th);
  }
  tu_arr_set(&cs, vc);
  tu_arr_set(&sn, vs);
  free(vc);
  free(vs);
  arr_out(&q, dt, seq * nq, off + 3);
  arr_out(&k, dt, seq * nk, off);
  arr_out(&v, dt, seq * nk, off + 1);

  double *rq = tu_dalloc(seq * nq), *rk = tu_dalloc(seq * nk), *rv = tu_dalloc(seq * nk);
  ref_fused_qkv_rope(x.v, wq.d, wk.d, wv.d, cs.v, sn.v, rq, rk, rv, seq, hidden, heads, kv_heads,
                     hd, rot, il, pos);
  double *pq = tu_dalloc(seq * nq), *eq = tu_dalloc(seq * nq), *tq = tu_dalloc(seq * nq);
  double *pk = tu_dalloc(seq * nk), *ek = tu_dalloc(seq * nk), *tk = tu_dalloc(seq * nk);
  double *pv = tu_dalloc(seq * nk), *ev = tu_dalloc(seq * nk);
  lin(x.v, wq.d, pq, eq, seq, nq, hidden, dt);
  lin(x.v, wk.d, pk, ek, seq, nk, hidden, dt);
  lin(x.v, wv.d, pv, ev, seq, nk, hidden, dt);
  ref_rope_err(pq, eq, cs.v, sn.v, tq, seq, heads, hd, rot, il, pos);
  ref_rope_err(pk, ek, cs.v, sn.v, tk, seq, kv_heads, hd, rot, il, pos);

  struct qkv_args a = {.dt = dt, .bq = wq.bytes, .bk = wk.bytes, .seq = seq, .hidden = hidden,
                       .heads = heads, .kv_heads = kv_heads, .hd = hd, .rot = rot, .pos = pos,
                       .il = il};
  a.x = set_arr(&s, &x);
  a.wq = set_buf(&s, &wq.w);
  a.sq = set_arr(&s, &wq.s);
  a.wk = set_buf(&s, &wk.w);
  a.sk = set_arr(&s, &wk.s);
  a.wv = set_buf(&s, &wv.w);
  a.sv = set_arr(&s, &wv.s);
  a.cs = set_arr(&s, &cs);
  a.sn = set_arr(&s, &sn);
  a.q = set_arr(&s, &q);
  a.k = set_arr(&s, &k);
  a.v = set_arr(&s, &v);
  char ctx[160];
  snprintf(ctx, sizeof ctx,
           "fused_qkv_rope_q4 %s seq=%zu hidden=%zu heads=%zu/%zu hd=%zu rot=%zu il=%d pos=%zu",
           tu_dtname(dt), seq, hidden, heads, kv_heads, hd, rot, il, pos);
  size_t bytes = 1;
  gllmk_status qs = OPS(dt, fused_qkv_rope_q4_workspace_bytes, wq.bytes, wk.bytes, wk.bytes, seq,
                        hidden, heads, kv_heads, hd, rot, il, pos, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, qkv_call, &a, ctx);
  set_down(&s);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    cmp_arr(c, dt, &q, rq, tq, "q", ctx);
    cmp_arr(c, dt, &k, rk, tk, "k", ctx);
    cmp_arr(c, dt, &v, rv, ev, "v", ctx);
  }
  tu_check_input(c, &x, "x");
  tu_check_input(c, &cs, "cos");
  tu_check_input(c, &sn, "sin");
  for (int i = 1; i < 7; i++)
    if (s.b[i]) tu_buf_check_input(c, s.b[i], "weight");
    else tu_check_input(c, s.a[i], "scales");
  tu_check_guards(c, &q, "q");
  tu_check_guards(c, &k, "k");
  tu_check_guards(c, &v, "v");
  free(rq); free(rk); free(rv);
  free(pq); free(eq); free(tq);
  free(pk); free(ek); free(tk);
  free(pv); free(ev);
  qm_done(&wq); qm_done(&wk); qm_done(&wv);
  set_free(&s);
}

/* ------------------------------------------------------------------ fused_ffn_q4 */
enum { RES_SEPARATE, RES_NULL, OUT_IS_RES, SUM_IS_RES, ALL_RES };

struct ffn_args {
  tu_dtype dt;
  void *x, *wg, *sg, *wu, *su, *wd, *sd, *res, *out;
  size_t bgu, bd, m, hidden, ffn;
};
static gllmk_status ffn_call(void *p)
{
  struct ffn_args *a = p;
  return OPS(a->dt, fused_ffn_q4, a->x, a->wg, a->bgu, a->sg, a->wu, a->bgu, a->su, a->wd, a->bd,
             a->sd, a->res, a->out, a->m, a->hidden, a->ffn);
}

static void run_ffn(tu_check *c, tu_dtype dt, size_t m, size_t hidden, size_t ffn, size_t off,
                    int mode, int wsmode)
{
  tu_arr x, res, o;
  qm wg, wu, wd;
  set s = {0};
  arr_rand(&x, dt, m * hidden, off, -1, 1);
  qm_make(&wg, 4, ffn, hidden, off);
  qm_make(&wu, 4, ffn, hidden, off + 1);
  qm_make(&wd, 4, hidden, ffn, off + 2);
  arr_rand(&res, dt, m * hidden, off + 1, -1, 1);
  arr_out(&o, dt, m * hidden, off + 3);
  size_t nn = m * hidden;
  double *sm = tu_dalloc(nn), *es = tu_dalloc(nn);
  ffn_sum(x.v, wg.d, wu.d, wd.d, mode == RES_NULL ? NULL : res.v, sm, es, m, hidden, ffn, dt);

  struct ffn_args a = {.dt = dt, .bgu = wg.bytes, .bd = wd.bytes, .m = m, .hidden = hidden,
                       .ffn = ffn};
  a.x = set_arr(&s, &x);
  a.wg = set_buf(&s, &wg.w);
  a.sg = set_arr(&s, &wg.s);
  a.wu = set_buf(&s, &wu.w);
  a.su = set_arr(&s, &wu.s);
  a.wd = set_buf(&s, &wd.w);
  a.sd = set_arr(&s, &wd.s);
  void *dres = set_arr(&s, &res), *dout = set_arr(&s, &o);
  a.res = mode == RES_NULL ? NULL : dres;
  a.out = mode == OUT_IS_RES ? dres : dout;
  char ctx[160];
  snprintf(ctx, sizeof ctx, "fused_ffn_q4 %s m=%zu hidden=%zu ffn=%zu mode=%d", tu_dtname(dt), m,
           hidden, ffn, mode);
  size_t bytes = 1;
  gllmk_status qs = OPS(dt, fused_ffn_q4_workspace_bytes, wg.bytes, wu.bytes, wd.bytes, m, hidden,
                        ffn, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, ffn_call, &a, ctx);
  set_down(&s);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx))
    cmp_arr(c, dt, mode == OUT_IS_RES ? &res : &o, sm, es, "out", ctx);
  if (mode != OUT_IS_RES) tu_check_input(c, &res, "residual");
  else tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out written", ctx);
  tu_check_guards(c, &res, "residual");
  tu_check_guards(c, &o, "out");
  tu_check_input(c, &x, "x");
  for (int i = 1; i < 7; i++)
    if (s.b[i]) tu_buf_check_input(c, s.b[i], "weight");
    else tu_check_input(c, s.a[i], "scales");
  free(sm); free(es);
  qm_done(&wg); qm_done(&wu); qm_done(&wd);
  set_free(&s);
}

/* ------------------------------------------- fused_int8/int4_linear_residual_rmsnorm */
struct lrr_args {
  tu_dtype dt;
  int bits;
  void *x, *w, *sc, *res, *nw, *out, *sum;
  size_t wb, m, n, k;
  float eps;
};
static gllmk_status lrr_call(void *p)
{
  struct lrr_args *a = p;
  if (a->bits == 8)
    return OPS(a->dt, fused_int8_linear_residual_rmsnorm, a->x, a->w, a->wb, a->sc, a->res, a->nw,
               a->out, a->sum, a->m, a->n, a->k, a->eps);
  return OPS(a->dt, fused_int4_linear_residual_rmsnorm, a->x, a->w, a->wb, a->sc, a->res, a->nw,
             a->out, a->sum, a->m, a->n, a->k, a->eps);
}

static void run_lrr(tu_check *c, tu_dtype dt, int bits, size_t m, size_t n, size_t k, size_t off,
                    int mode, int want_sum, int wsmode)
{
  const double eps = 1e-5;
  tu_arr x, res, nw, o, so;
  qm w;
  set s = {0};
  arr_rand(&x, dt, m * k, off, -1, 1);
  qm_make(&w, bits, n, k, off);
  arr_rand(&res, dt, m * n, off + 3, -1, 1);
  arr_rand(&nw, dt, n, off, 0.5, 1.5);
  arr_out(&o, dt, m * n, off + 1);
  arr_out(&so, dt, m * n, off + 2);
  size_t nn = m * n;
  double *sm = tu_dalloc(nn), *es = tu_dalloc(nn), *rout = tu_dalloc(nn), *tol = tu_dalloc(nn);
  lin(x.v, w.d, sm, es, m, n, k, dt);
  for (size_t i = 0; i < nn; i++) {
    double r = mode == RES_NULL ? 0.0 : res.v[i];
    es[i] += 2 * 0x1p-23 * (fabs(sm[i]) + fabs(r));
    sm[i] += r;
  }
  ref_rms_norm_err(sm, es, nw.v, rout, tol, m, n, eps);
  for (size_t i = 0; i < nn; i++) es[i] += tu_out_rtol(dt) * fabs(sm[i]);

  struct lrr_args a = {.dt = dt, .bits = bits, .wb = w.bytes, .m = m, .n = n, .k = k,
                       .eps = (float)eps};
  a.x = set_arr(&s, &x);
  a.w = set_buf(&s, &w.w);
  a.sc = set_arr(&s, &w.s);
  void *dres = set_arr(&s, &res);
  a.nw = set_arr(&s, &nw);
  void *dout = set_arr(&s, &o), *dso = set_arr(&s, &so);
  a.res = mode == RES_NULL ? NULL : dres;
  a.out = mode == OUT_IS_RES || mode == ALL_RES ? dres : dout;
  a.sum = !want_sum ? NULL : mode == SUM_IS_RES || mode == ALL_RES ? dres : dso;
  char ctx[160];
  snprintf(ctx, sizeof ctx, "fused_int%d_linear_residual_rmsnorm %s m=%zu n=%zu k=%zu mode=%d sum_out=%s",
           bits, tu_dtname(dt), m, n, k, mode, want_sum ? "yes" : "NULL");
  size_t bytes = 1;
  gllmk_status qs =
      bits == 8 ? OPS(dt, fused_int8_linear_residual_rmsnorm_workspace_bytes, w.bytes, m, n, k, &bytes)
                : OPS(dt, fused_int4_linear_residual_rmsnorm_workspace_bytes, w.bytes, m, n, k, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, lrr_call, &a, ctx);
  set_down(&s);
  bool out_res = mode == OUT_IS_RES || mode == ALL_RES;
  bool sum_res = want_sum && (mode == SUM_IS_RES || mode == ALL_RES);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    cmp_arr(c, dt, out_res ? &res : &o, rout, tol, "out", ctx);
    if (want_sum && !(mode == ALL_RES))
      cmp_arr(c, dt, sum_res ? &res : &so, sm, es, "sum_out", ctx);
  }
  if (!out_res && !sum_res) tu_check_input(c, &res, "residual");
  tu_check_guards(c, &res, "residual");
  if (out_res) tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out written", ctx);
  if (!want_sum || sum_res)
    tu_check_true(c, tu_arr_unchanged(&so), "%s: sum_out buffer written although not passed", ctx);
  tu_check_input(c, &x, "x");
  tu_buf_check_input(c, &w.w, "w");
  tu_check_input(c, &w.s, "scales");
  tu_check_input(c, &nw, "norm_w");
  tu_check_guards(c, &o, "out");
  tu_check_guards(c, &so, "sum_out");
  free(sm); free(es); free(rout); free(tol);
  qm_done(&w);
  set_free(&s);
}

/* ------------------------------------------------------------------ shapes */
static const size_t ms[] = {1, 2, 7, 16, 33};
#define NMS (sizeof ms / sizeof ms[0])

static void test_shapes(tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  size_t idx = 0;

  tu_check_init(&c);
  for (size_t mi = 0; mi < NMS; mi++) {
    run_qkv(&c, dt, ms[mi], 32, 4, 2, 8, 8, false, 0, idx++, WS_SHARED);
    run_qkv(&c, dt, ms[mi], 18, 2, 1, 6, 4, true, 3, idx++, WS_SHARED);
  }
  run_qkv(&c, dt, 3, 10, 3, 3, 4, 0, false, 0, idx++, WS_SHARED);   /* no rotary dims */
  tu_check_done(&c, "CUDA fused_qkv_rope_q4 %s: m 1/2/7/16/33, GQA/MQA, full and partial rotary, "
                "both layouts, pos", dn);

  tu_check_init(&c);
  for (size_t mi = 0; mi < NMS; mi++) {
    run_ffn(&c, dt, ms[mi], 24, 40, idx++, RES_SEPARATE, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 18, 14, idx++, RES_NULL, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 16, 34, idx++, OUT_IS_RES, WS_SHARED);
  }
  tu_check_done(&c, "CUDA fused_ffn_q4 %s: m 1/2/7/16/33, residual separate / NULL / aliased by out",
                dn);

  for (int bits = 8; bits >= 4; bits -= 4) {
    tu_check_init(&c);
    size_t ko = bits == 8 ? 33 : 34;   /* int8: an odd k */
    for (size_t mi = 0; mi < NMS; mi++) {
      run_lrr(&c, dt, bits, ms[mi], 24, 40, idx++, RES_SEPARATE, 1, WS_SHARED);
      run_lrr(&c, dt, bits, ms[mi], 19, ko, idx++, RES_SEPARATE, 0, WS_SHARED);
      run_lrr(&c, dt, bits, ms[mi], 32, 16, idx++, OUT_IS_RES, 0, WS_SHARED);
      run_lrr(&c, dt, bits, ms[mi], 17, 24, idx++, SUM_IS_RES, 1, WS_SHARED);
    }
    run_lrr(&c, dt, bits, 3, 21, 8, idx++, RES_NULL, 1, WS_SHARED);
    run_lrr(&c, dt, bits, 2, 40, 8, idx++, ALL_RES, 1, WS_SHARED);
    run_lrr(&c, dt, bits, 5, 13, 0, idx++, RES_SEPARATE, 1, WS_SHARED);   /* k = 0 */
    tu_check_done(&c, "CUDA fused_int%d_linear_residual_rmsnorm %s: m 1/2/7/16/33, odd n%s, "
                  "sum_out NULL / separate / aliasing residual, out aliasing residual (out == "
                  "sum_out == residual too), residual NULL, k = 0", bits, dn,
                  bits == 8 ? " and k" : "");
  }
}

/* every op with exactly its query's workspace, after GLLMK_E_NOMEM with one
 * byte less, on a fresh backend each */
static void test_exact_workspace(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  gllmk_backend *shared = be;
  for (int op = 0; op < 4; op++)
    for (int mi = 0; mi < 2; mi++) {
      size_t m = mi ? 16 : 2;
      if (gllmk_backend_open("cuda", &be) != GLLMK_OK) bail_out("second gllmk_backend_open failed");
      switch (op) {
      case 0: run_qkv(&c, dt, m, 16, 2, 1, 8, 8, false, 1, 1, WS_EXACT); break;
      case 1: run_ffn(&c, dt, m, 16, 24, 3, RES_SEPARATE, WS_EXACT); break;
      case 2: run_lrr(&c, dt, 8, m, 24, 16, 1, SUM_IS_RES, 1, WS_EXACT); break;
      default: run_lrr(&c, dt, 4, m, 24, 16, 2, RES_SEPARATE, 1, WS_EXACT); break;
      }
      gllmk_backend_close(be);
    }
  be = shared;
  tu_check_done(&c, "CUDA Table D fused ops %s: the queried workspace suffices; one byte less is "
                "GLLMK_E_NOMEM and writes nothing (m 2 and 16)", tu_dtname(dt));
}

/* ------------------------------------------------------------------ bad input */
static void test_bad_input(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  const size_t m = 3, n = 8, k = 8, big = SIZE_MAX / 2, wb4 = n * k / 2, wb8 = n * k;
  const float eps = 1e-5f;
  tu_arr x, res, nw, o, so, sc, hx;
  tu_buf w;
  set s = {0};
  arr_rand(&x, dt, m * k, 0, -1, 1);
  tu_buf_alloc(&w, wb8, 0);
  tu_buf_random(&w);
  arr_rand(&sc, TU_F32, n, 0, -1, 1);
  arr_rand(&res, dt, m * n, 0, -1, 1);
  arr_rand(&nw, dt, n, 0, -1, 1);
  arr_out(&o, dt, m * n, 0);
  arr_out(&so, dt, m * n, 0);
  arr_rand(&hx, dt, m * k, 0, -1, 1);   /* host memory (not a buffer) */
  void *dx = set_arr(&s, &x), *dw = set_buf(&s, &w), *ds = set_arr(&s, &sc);
  void *dr = set_arr(&s, &res), *dn = set_arr(&s, &nw), *dout = set_arr(&s, &o);
  void *dso = set_arr(&s, &so);
  size_t es = tu_esize(dt);
  /* the last element of the buffers: any longer range leaves them */
  void *x_end = (unsigned char *)gllmk_buffer_data(s.d[0].buf) + x.mem_bytes - es;
  void *w_end = (unsigned char *)gllmk_buffer_data(s.d[1].buf) + w.mem_bytes - 1;
  void *s_end = (unsigned char *)gllmk_buffer_data(s.d[2].buf) + sc.mem_bytes - 4;
  void *o_end = (unsigned char *)gllmk_buffer_data(s.d[5].buf) + o.mem_bytes - es;
  void *odd = (unsigned char *)dx + 1;   /* misaligned */
  void *sodd = (unsigned char *)ds + 2;  /* scales misaligned */
  void *hp = hx.p;
  if (gllmk_backend_reserve_workspace(be, 1 << 20) != GLLMK_OK) bail_out("reserve failed");
  /* host copies for the CPU function's code */
  const void *X = x.p, *W = w.p, *R = res.p, *N = nw.p;
  const float *S = sc.p;
  void *O = o.p, *SO = so.p, *RW = res.p;
  const float *dsf = ds;
  struct {
    const char *what;
    gllmk_status cu, cpu;
  } cases[] = {
    /* fused_int8/int4_linear_residual_rmsnorm */
    {"lrr8 NULL be",
     gllmk_backend_ops_f32(be)->fused_int8_linear_residual_rmsnorm(NULL, NULL, NULL, 0, NULL, NULL,
                                                                    NULL, NULL, NULL, 1, 1, 1, eps),
     GLLMK_E_INVAL},
    {"lrr8 overflow", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8, dsf, dr, dn, dout, dso, big, n, 4, eps),
     CPU(dt, fused_int8_linear_residual_rmsnorm, X, W, wb8, S, R, N, O, SO, big, n, 4, eps)},
    {"lrr4 eps < 0", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, dw, wb4, dsf, dr, dn, dout, dso, m, n, k, -1.0f),
     CPU(dt, fused_int4_linear_residual_rmsnorm, X, W, wb4, S, R, N, O, SO, m, n, k, -1.0f)},
    {"lrr8 eps NaN", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8, dsf, dr, dn, dout, dso, m, n, k, NAN),
     CPU(dt, fused_int8_linear_residual_rmsnorm, X, W, wb8, S, R, N, O, SO, m, n, k, NAN)},
    {"lrr4 odd k", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, dw, wb4, dsf, dr, dn, dout, dso, m, n, 7, eps),
     CPU(dt, fused_int4_linear_residual_rmsnorm, X, W, wb4, S, R, N, O, SO, m, n, 7, eps)},
    {"lrr8 w_bytes short", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8 - 1, dsf, dr, dn, dout, dso, m, n, k, eps),
     CPU(dt, fused_int8_linear_residual_rmsnorm, X, W, wb8 - 1, S, R, N, O, SO, m, n, k, eps)},
    {"lrr4 NULL w", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, NULL, wb4, dsf, dr, dn, dout, dso, m, n, k, eps),
     CPU(dt, fused_int4_linear_residual_rmsnorm, X, NULL, wb4, S, R, N, O, SO, m, n, k, eps)},
    {"lrr8 NULL scales", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8, NULL, dr, dn, dout, dso, m, n, k, eps),
     CPU(dt, fused_int8_linear_residual_rmsnorm, X, W, wb8, NULL, R, N, O, SO, m, n, k, eps)},
    {"lrr4 NULL norm_w", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, dw, wb4, dsf, dr, NULL, dout, dso, m, n, k, eps),
     CPU(dt, fused_int4_linear_residual_rmsnorm, X, W, wb4, S, R, NULL, O, SO, m, n, k, eps)},
    {"lrr8 NULL x", OPS(dt, fused_int8_linear_residual_rmsnorm, NULL, dw, wb8, dsf, dr, dn, dout, dso, m, n, k, eps),
     CPU(dt, fused_int8_linear_residual_rmsnorm, NULL, W, wb8, S, R, N, O, SO, m, n, k, eps)},
    {"lrr8 host x", OPS(dt, fused_int8_linear_residual_rmsnorm, hp, dw, wb8, dsf, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr4 x past the end", OPS(dt, fused_int4_linear_residual_rmsnorm, x_end, dw, wb4, dsf, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr8 misaligned x", OPS(dt, fused_int8_linear_residual_rmsnorm, odd, dw, wb8, dsf, dr, dn, dout, dso, m, n, 4, eps),
     GLLMK_E_INVAL},
    {"lrr8 w past the end", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, w_end, wb8, dsf, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr4 host w", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, W, wb4, dsf, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr8 scales past the end", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8, s_end, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr4 misaligned scales", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, dw, wb4, sodd, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr8 host residual", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8, dsf, R, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr4 out past the end", OPS(dt, fused_int4_linear_residual_rmsnorm, dx, dw, wb4, dsf, dr, dn, o_end, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrr8 host sum_out", OPS(dt, fused_int8_linear_residual_rmsnorm, dx, dw, wb8, dsf, dr, dn, dout, SO, m, n, k, eps),
     GLLMK_E_INVAL},
    /* fused_ffn_q4: hidden = n, ffn = k: every weight n x k / 2 bytes */
    {"ffn NULL be",
     gllmk_backend_ops_f32(be)->fused_ffn_q4(NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, 0,
                                             NULL, NULL, NULL, 1, 2, 2),
     GLLMK_E_INVAL},
    {"ffn overflow", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dr, dout, big, n, big),
     CPU(dt, fused_ffn_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, R, O, big, n, big)},
    {"ffn odd hidden", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dr, dout, m, 7, k),
     CPU(dt, fused_ffn_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, R, O, m, 7, k)},
    {"ffn down short", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4 - 1, dsf, dr, dout, m, n, k),
     CPU(dt, fused_ffn_q4, X, W, wb4, S, W, wb4, S, W, wb4 - 1, S, R, O, m, n, k)},
    {"ffn NULL s_up", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, NULL, dw, wb4, dsf, dr, dout, m, n, k),
     CPU(dt, fused_ffn_q4, X, W, wb4, S, W, wb4, NULL, W, wb4, S, R, O, m, n, k)},
    {"ffn NULL w_gate", OPS(dt, fused_ffn_q4, dx, NULL, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dr, dout, m, n, k),
     CPU(dt, fused_ffn_q4, X, NULL, wb4, S, W, wb4, S, W, wb4, S, R, O, m, n, k)},
    {"ffn NULL out", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dr, NULL, m, n, k),
     CPU(dt, fused_ffn_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, R, NULL, m, n, k)},
    {"ffn host residual", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, R, dout, m, n, k),
     GLLMK_E_INVAL},
    {"ffn host s_down", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, S, dr, dout, m, n, k),
     GLLMK_E_INVAL},
    {"ffn w_up past the end", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, w_end, wb4, dsf, dw, wb4, dsf, dr, dout, m, n, k),
     GLLMK_E_INVAL},
    {"ffn out past the end", OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dr, o_end, m, n, k),
     GLLMK_E_INVAL},
    /* fused_qkv_rope_q4: x [3 x 8], heads x head_dim = 2 x 4 = 8 rows of k / 2 bytes */
    {"qkv NULL be",
     gllmk_backend_ops_f32(be)->fused_qkv_rope_q4(NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, 0,
                                                  NULL, NULL, NULL, NULL, NULL, NULL, 1, 2, 1, 1,
                                                  2, 2, false, 0),
     GLLMK_E_INVAL},
    {"qkv heads % kv_heads", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 3, 2, 4, 2, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, RW, m, k, 3, 2, 4, 2, false, 0)},
    {"qkv odd rotary_dim", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 3, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, RW, m, k, 2, 2, 4, 3, false, 0)},
    {"qkv rotary_dim > head_dim", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 6, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, RW, m, k, 2, 2, 4, 6, false, 0)},
    {"qkv overflow pos", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, SIZE_MAX),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, RW, m, k, 2, 2, 4, 4, false, SIZE_MAX)},
    {"qkv odd hidden", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, 7, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, RW, m, 7, 2, 2, 4, 4, false, 0)},
    {"qkv wv short", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4 - 1, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4 - 1, S, N, N, O, SO, RW, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv NULL sk", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, NULL, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, NULL, W, wb4, S, N, N, O, SO, RW, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv NULL sin", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, NULL, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, NULL, O, SO, RW, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv NULL v", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, NULL, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope_q4, X, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, NULL, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv NULL x", OPS(dt, fused_qkv_rope_q4, NULL, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope_q4, NULL, W, wb4, S, W, wb4, S, W, wb4, S, N, N, O, SO, RW, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv cos table too short", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 100),
     GLLMK_E_INVAL},
    {"qkv host wk", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, W, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     GLLMK_E_INVAL},
    {"qkv misaligned sq", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, sodd, dw, wb4, dsf, dw, wb4, dsf, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     GLLMK_E_INVAL},
    {"qkv q past the end", OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn, o_end, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     GLLMK_E_INVAL},
  };
  size_t nc = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < nc; i++)
    tu_check_true(&c, cases[i].cu == cases[i].cpu && cases[i].cu != GLLMK_OK,
                  "%s %s: CUDA %s, want %s", tu_dtname(dt), cases[i].what,
                  tu_status_name(cases[i].cu), tu_status_name(cases[i].cpu));
  /* zero sizes: GLLMK_OK, nothing written */
  tu_check_status(&c, OPS(dt, fused_int8_linear_residual_rmsnorm, NULL, dw, wb8, dsf, NULL, NULL,
                          NULL, NULL, 0, n, k, eps), GLLMK_OK, "lrr8 m = 0");
  tu_check_status(&c, OPS(dt, fused_ffn_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dr, dout,
                          0, n, k), GLLMK_OK, "ffn m = 0");
  tu_check_status(&c, OPS(dt, fused_qkv_rope_q4, dx, dw, wb4, dsf, dw, wb4, dsf, dw, wb4, dsf, dn, dn,
                          NULL, NULL, NULL, m, k, 2, 2, 0, 0, false, 0), GLLMK_OK, "qkv head_dim = 0");
  /* queries */
  size_t bytes = 7;
  tu_check_status(&c, OPS(dt, fused_ffn_q4_workspace_bytes, wb4, wb4, wb4, big, n, big, &bytes),
                  GLLMK_E_OVERFLOW, "ffn query overflow");
  tu_check_status(&c, OPS(dt, fused_ffn_q4_workspace_bytes, wb4, wb4, wb4 - 1, m, n, k, &bytes),
                  GLLMK_E_INVAL, "ffn query w_down short");
  tu_check_status(&c, OPS(dt, fused_int8_linear_residual_rmsnorm_workspace_bytes, wb8, big, 4, 4,
                          &bytes), GLLMK_E_OVERFLOW, "lrr8 query overflow");
  tu_check_status(&c, OPS(dt, fused_int4_linear_residual_rmsnorm_workspace_bytes, wb4, m, n, 7,
                          &bytes), GLLMK_E_INVAL, "lrr4 query odd k");
  tu_check_status(&c, OPS(dt, fused_int4_linear_residual_rmsnorm_workspace_bytes, wb4, m, n, k,
                          NULL), GLLMK_E_INVAL, "lrr4 query NULL bytes");
  tu_check_status(&c, OPS(dt, fused_qkv_rope_q4_workspace_bytes, wb4, wb4, wb4, 1, 8, 3, 2, 4, 2,
                          false, 0, &bytes), GLLMK_E_INVAL, "qkv query heads %% kv_heads");
  tu_check_status(&c, OPS(dt, fused_qkv_rope_q4_workspace_bytes, wb4, wb4 - 1, wb4, 1, 8, 2, 2, 4,
                          2, false, 0, &bytes), GLLMK_E_INVAL, "qkv query wk short");
  tu_check_status(&c, OPS(dt, fused_qkv_rope_q4_workspace_bytes, wb4, wb4, wb4, 2, 8, 2, 2, 4, 4,
                          false, 0, &bytes), GLLMK_OK, "qkv query");
  tu_check_true(&c, bytes == 0, "qkv query at seq 2: %zu bytes, want 0", bytes);
  set_down(&s);
  tu_check_true(&c, set_untouched(&s), "%s: a refused call wrote an array", tu_dtname(dt));
  tu_check_done(&c, "CUDA Table D fused ops %s: bad input gives the CPU function's code; host, "
                "misaligned and short ranges GLLMK_E_INVAL; nothing written", tu_dtname(dt));
  set_free(&s);
  tu_arr_free(&hx);
}

int main(void)
{
  if (!tu_cuda_open(&be)) return 0;
  diag("backend %s", gllmk_backend_name(be));
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    test_shapes(dt);
    test_exact_workspace(dt);
    test_bad_input(dt);
  }
  gllmk_backend_close(be);
  return done_testing();
}
