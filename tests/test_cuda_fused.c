/* test_cuda_fused.c -- the CUDA backend's fused transformer-block ops against the double reference
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (one TAP skip when it says
 * GLLMK_E_NO_DEVICE, unless GLLMK_TEST_REQUIRE_CUDA=1; GLLMK_TEST_NO_CUDA
 * skips everything; in `make check` the emulated driver runs every kernel in
 * the execution harness), and for f32/f16/bf16:
 *  - each of the six fused ops (fused_qkv_rope, fused_gate_up_swiglu,
 *    fused_ffn, fused_ffn_rmsnorm, fused_linear_residual_rmsnorm,
 *    fused_linear_bias_residual_rmsnorm) against the double reference of its
 *    composition (ref.c), with test_fused.c's propagated tolerances (which
 *    allow every intermediate to be rounded to the element type, as the
 *    composition does), for m = 1, 2, 7 (decode: the GEMV paths, including
 *    the one-launch gate/up kernel), 16, 64 (the tensor-core GEMM) and odd
 *    or prime sizes, operands at element offsets that make them 16-byte
 *    aligned or not (and all aligned: the epilogue's 16-byte vectors); sum_out NULL, separate and aliasing residual, out
 *    aliasing residual, residual NULL (fused_ffn);
 *  - fused_gate_up_swiglu equals linear, linear and swiglu bit for bit (the
 *    decode kernel too);
 *  - the workspace queries: an op run with exactly the workspace its query
 *    reports succeeds, and with one byte less returns GLLMK_E_NOMEM and
 *    writes nothing (a fresh backend, whose workspace starts empty);
 *  - bad input: no backend, NULLs, eps < 0 or NaN, bad shapes and sizes that
 *    overflow give the CPU function's code (the CPU function is called with
 *    the same arguments), and foreign, host, misaligned and past-the-end
 *    pointers GLLMK_E_INVAL; nothing written;
 *  - a graph of a whole decoder layer (rms_norm, fused_qkv_rope writing the
 *    new token's K/V straight into the paged cache, flash_attention_paged,
 *    fused_linear_residual_rmsnorm with sum_out aliasing the residual
 *    stream, fused_ffn with out aliasing it) recorded once and replayed for
 *    several steps, each step's output the next one's input, against the CPU
 *    backend running the same graph.
 * Inputs and outputs live in device buffers that mirror a tu_arr whole
 * (guards included), so the guards and the inputs are checked after each op.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* setenv */
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

/* one op of the table of dt, on b */
#define OPSB(b, dt, op, ...)                                                                     \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(b)->op(b, __VA_ARGS__)                               \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(b)->op(b, __VA_ARGS__)                               \
                    : gllmk_backend_ops_bf16(b)->op(b, __VA_ARGS__))
#define OPS(dt, op, ...) OPSB(be, dt, op, __VA_ARGS__)
/* the CPU function gllmk_<op>_<dt> */
#define CPU(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_##op##_f32(__VA_ARGS__)                                              \
   : (dt) == TU_F16 ? gllmk_##op##_f16(__VA_ARGS__)                                              \
                    : gllmk_##op##_bf16(__VA_ARGS__))

/* ------------------------------------------------------------------ device mirrors */

/* a set of arrays mirrored together */
#define MAXA 12
typedef struct set {
  int n;
  tu_arr *a[MAXA];
  tu_dv d[MAXA];
} set;

static void *set_add(set *s, tu_arr *a)
{
  if (s->n == MAXA) bail_out("test bug: set full");
  s->a[s->n] = a;
  tu_dv_up(be, &s->d[s->n], a);
  return s->d[s->n++].p;
}

static void set_down(set *s)
{
  for (int i = 0; i < s->n; i++) tu_dv_down(&s->d[i]);
}

static void set_free(set *s)
{
  for (int i = 0; i < s->n; i++) {
    tu_dv_free(&s->d[i]);
    tu_arr_free(s->a[i]);
  }
  s->n = 0;
}

/* ------------------------------------------------------------------ references (test_fused.c) */
/* y = x.W^T and its error bound */
static void lin(const double *x, const double *w, double *y, double *err, size_t m, size_t n,
                size_t k, tu_dtype dt)
{
  double *ax = tu_dalloc(m * k), *aw = tu_dalloc(n * k);
  tu_dabs(x, ax, m * k);
  tu_dabs(w, aw, n * k);
  ref_linear(x, w, y, m, n, k);
  ref_linear(ax, aw, err, m, n, k);
  for (size_t i = 0; i < m * n; i++)
    err[i] *= tu_acc_eps(k) + tu_out_rtol(dt);
  free(ax);
  free(aw);
}

/* swiglu of linear layers: h and its bound */
static void gate_up(const double *x, const double *wg, const double *wu, double *h, double *err,
                    size_t m, size_t n, size_t k, tu_dtype dt)
{
  size_t mn = m * n;
  double *g = tu_dalloc(mn), *u = tu_dalloc(mn), *eg = tu_dalloc(mn), *eu = tu_dalloc(mn);
  lin(x, wg, g, eg, m, n, k, dt);
  lin(x, wu, u, eu, m, n, k, dt);
  for (size_t i = 0; i < mn; i++) {
    double sg = ref_silu1(g[i]);
    h[i] = sg * u[i];
    err[i] = 1.1 * fabs(u[i]) * eg[i] + fabs(sg) * eu[i] + eg[i] * eu[i] + 6 * 0x1p-23 * fabs(h[i])
             + tu_out_rtol(dt) * fabs(h[i]);
  }
  free(g);
  free(u);
  free(eg);
  free(eu);
}

/* s = residual + ffn(x) and its bound */
static void ffn_sum(const double *x, const double *wg, const double *wu, const double *wd,
                    const double *res, double *s, double *err, size_t m, size_t hidden,
                    size_t ffn, tu_dtype dt)
{
  double *h = tu_dalloc(m * ffn), *eh = tu_dalloc(m * ffn);
  gate_up(x, wg, wu, h, eh, m, ffn, hidden, dt);
  double *y = tu_dalloc(m * hidden), *ey = tu_dalloc(m * hidden), *ad = tu_dalloc(hidden * ffn);
  lin(h, wd, y, ey, m, hidden, ffn, dt);
  tu_dabs(wd, ad, hidden * ffn);
  double *prop = tu_dalloc(m * hidden);
  ref_linear(eh, ad, prop, m, hidden, ffn);
  for (size_t i = 0; i < m * hidden; i++) {
    double r = res ? res[i] : 0.0;
    s[i] = r + y[i];
    err[i] = ey[i] + prop[i] + 0x1p-23 * (fabs(r) + fabs(y[i])) + tu_out_rtol(dt) * fabs(s[i]);
  }
  free(h);
  free(eh);
  free(y);
  free(ey);
  free(ad);
  free(prop);
}

static int cmp_arr(tu_check *c, tu_dtype dt, const tu_arr *a, const double *ref, const double *tol,
                   const char *what, const char *ctx)
{
  double *got = tu_dalloc(a->n);
  tu_arr_read(a, got);
  int okk = 1;
  for (size_t i = 0; i < a->n && okk; i++)
    okk = tu_check_out(c, dt, got[i], ref[i], tol[i], "%s %s [%zu]", ctx, what, i);
  free(got);
  return okk;
}

/* element offsets of the arrays: off % 4 (so that the operands of one call
 * differ in alignment), or 0 for every array when g_aligned (every operand
 * 16-byte aligned: the vector paths) */
static int g_aligned;
static size_t OFF(size_t off) { return g_aligned ? 0 : off % 4; }

static void arr_rand(tu_arr *a, tu_dtype dt, size_t n, size_t off, double lo, double hi)
{
  tu_arr_alloc(a, dt, n, OFF(off));
  tu_arr_uniform(a, lo, hi);
}

static void table_rand(tu_arr *cs, tu_arr *sn, tu_dtype dt, size_t n, size_t off)
{
  tu_arr_alloc(cs, dt, n, OFF(off));
  tu_arr_alloc(sn, dt, n, OFF(off + 1));
  double *vc = tu_dalloc(n ? n : 1), *vs = tu_dalloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    double th = tu_uniform(-4, 4);
    vc[i] = cos(th);
    vs[i] = sin(th);
  }
  tu_arr_set(cs, vc);
  tu_arr_set(sn, vs);
  free(vc);
  free(vs);
}

/* workspace mode of a run: the shared backend's (reserved from the query),
 * or a fresh backend with exactly the query's bytes after a try with one
 * byte less (GLLMK_E_NOMEM, nothing written) */
enum { WS_SHARED, WS_EXACT };

/* the call of a run with its workspace mode: returns the status of the real
 * call; q is the query's status and bytes */
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
  /* be is fresh: its workspace is empty */
  if (bytes > 1 && gllmk_backend_reserve_workspace(be, bytes - 1) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu) failed", bytes - 1);
  tu_check_status(c, f(ctx), GLLMK_E_NOMEM, "%s with %zu workspace bytes of %zu", what,
                  bytes - 1, bytes);
  set_down(s);
  for (int i = 0; i < s->n; i++)
    tu_check_true(c, tu_arr_unchanged(s->a[i]) && tu_arr_guards_ok(s->a[i]),
                  "%s: GLLMK_E_NOMEM wrote array %d", what, i);
  if (gllmk_backend_reserve_workspace(be, bytes) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu) failed", bytes);
  return f(ctx);
}

/* ------------------------------------------------------------------ fused_qkv_rope */
struct qkv_args {
  tu_dtype dt;
  void *x, *wq, *wk, *wv, *cs, *sn, *q, *k, *v;
  size_t seq, hidden, heads, kv_heads, hd, rot, pos;
  bool il;
};
static gllmk_status qkv_call(void *v)
{
  struct qkv_args *a = v;
  return OPS(a->dt, fused_qkv_rope, a->x, a->wq, a->wk, a->wv, a->cs, a->sn, a->q, a->k, a->v,
             a->seq, a->hidden, a->heads, a->kv_heads, a->hd, a->rot, a->il, a->pos);
}

static void run_qkv(tu_check *c, tu_dtype dt, size_t seq, size_t hidden, size_t heads,
                    size_t kv_heads, size_t hd, size_t rot, bool il, size_t pos, size_t off,
                    int wsmode)
{
  size_t nq = heads * hd, nk = kv_heads * hd, half = rot / 2;
  tu_arr x, wq, wk, wv, cs, sn, q, k, v;
  set s = {0};
  arr_rand(&x, dt, seq * hidden, off, -1, 1);
  arr_rand(&wq, dt, nq * hidden, off + 1, -0.5, 0.5);
  arr_rand(&wk, dt, nk * hidden, off + 2, -0.5, 0.5);
  arr_rand(&wv, dt, nk * hidden, off + 3, -0.5, 0.5);
  table_rand(&cs, &sn, dt, (pos + seq) * half, off + 1);
  tu_arr_alloc(&q, dt, seq * nq, OFF(off + 3));
  tu_arr_alloc(&k, dt, seq * nk, OFF(off));
  tu_arr_alloc(&v, dt, seq * nk, OFF(off + 1));
  tu_arr_poison(&q);
  tu_arr_poison(&k);
  tu_arr_poison(&v);

  double *rq = tu_dalloc(seq * nq), *rk = tu_dalloc(seq * nk), *rv = tu_dalloc(seq * nk);
  ref_fused_qkv_rope(x.v, wq.v, wk.v, wv.v, cs.v, sn.v, rq, rk, rv, seq, hidden, heads, kv_heads,
                     hd, rot, il, pos);
  double *pq = tu_dalloc(seq * nq), *eq = tu_dalloc(seq * nq), *tq = tu_dalloc(seq * nq);
  double *pk = tu_dalloc(seq * nk), *ek = tu_dalloc(seq * nk), *tk = tu_dalloc(seq * nk);
  double *pv = tu_dalloc(seq * nk), *ev = tu_dalloc(seq * nk);
  lin(x.v, wq.v, pq, eq, seq, nq, hidden, dt);
  lin(x.v, wk.v, pk, ek, seq, nk, hidden, dt);
  lin(x.v, wv.v, pv, ev, seq, nk, hidden, dt);
  ref_rope_err(pq, eq, cs.v, sn.v, tq, seq, heads, hd, rot, il, pos);
  ref_rope_err(pk, ek, cs.v, sn.v, tk, seq, kv_heads, hd, rot, il, pos);

  struct qkv_args a = {dt, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       seq, hidden, heads, kv_heads, hd, rot, pos, il};
  a.x = set_add(&s, &x);
  a.wq = set_add(&s, &wq);
  a.wk = set_add(&s, &wk);
  a.wv = set_add(&s, &wv);
  a.cs = set_add(&s, &cs);
  a.sn = set_add(&s, &sn);
  a.q = set_add(&s, &q);
  a.k = set_add(&s, &k);
  a.v = set_add(&s, &v);
  char ctx[160];
  snprintf(ctx, sizeof ctx, "fused_qkv_rope seq=%zu hidden=%zu heads=%zu/%zu hd=%zu rot=%zu il=%d pos=%zu",
           seq, hidden, heads, kv_heads, hd, rot, il, pos);
  size_t bytes = 1;
  gllmk_status qs = OPS(dt, fused_qkv_rope_workspace_bytes, seq, hidden, heads, kv_heads, hd, rot,
                        il, pos, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, qkv_call, &a, ctx);
  set_down(&s);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    cmp_arr(c, dt, &q, rq, tq, "q", ctx);
    cmp_arr(c, dt, &k, rk, tk, "k", ctx);
    cmp_arr(c, dt, &v, rv, ev, "v", ctx);
  }
  for (int i = 0; i < 6; i++) tu_check_input(c, s.a[i], "input");
  for (int i = 6; i < 9; i++) tu_check_guards(c, s.a[i], "output");
  free(rq); free(rk); free(rv);
  free(pq); free(eq); free(tq);
  free(pk); free(ek); free(tk);
  free(pv); free(ev);
  set_free(&s);
}

/* ------------------------------------------------------------------ fused_gate_up_swiglu */
struct gus_args {
  tu_dtype dt;
  void *x, *wg, *wu, *o;
  size_t m, n, k;
};
static gllmk_status gus_call(void *v)
{
  struct gus_args *a = v;
  return OPS(a->dt, fused_gate_up_swiglu, a->x, a->wg, a->wu, a->o, a->m, a->n, a->k);
}

static void run_gus(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, size_t off, int wsmode)
{
  tu_arr x, wg, wu, o;
  set s = {0};
  arr_rand(&x, dt, m * k, off, -1, 1);
  arr_rand(&wg, dt, n * k, off + 1, -0.5, 0.5);
  arr_rand(&wu, dt, n * k, off + 2, -0.5, 0.5);
  tu_arr_alloc(&o, dt, m * n, OFF(off + 3));
  tu_arr_poison(&o);
  double *ref = tu_dalloc(m * n), *h = tu_dalloc(m * n), *tol = tu_dalloc(m * n);
  ref_fused_gate_up_swiglu(x.v, wg.v, wu.v, ref, m, n, k);
  gate_up(x.v, wg.v, wu.v, h, tol, m, n, k, dt);
  struct gus_args a = {dt, NULL, NULL, NULL, NULL, m, n, k};
  a.x = set_add(&s, &x);
  a.wg = set_add(&s, &wg);
  a.wu = set_add(&s, &wu);
  a.o = set_add(&s, &o);
  char ctx[96];
  snprintf(ctx, sizeof ctx, "fused_gate_up_swiglu m=%zu n=%zu k=%zu", m, n, k);
  size_t bytes = 1;
  gllmk_status qs = OPS(dt, fused_gate_up_swiglu_workspace_bytes, m, n, k, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, gus_call, &a, ctx);
  set_down(&s);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx))
    cmp_arr(c, dt, &o, ref, tol, "out", ctx);
  for (int i = 0; i < 3; i++) tu_check_input(c, s.a[i], "input");
  tu_check_guards(c, &o, "out");
  free(ref); free(h); free(tol);
  set_free(&s);
}

/* ------------------------------------------------------------------ ffn, ffn_rmsnorm */
enum { RES_SEPARATE, RES_NULL, OUT_IS_RES, SUM_IS_RES, ALL_RES };

struct ffn_args {
  tu_dtype dt;
  int rmsnorm;
  void *x, *wg, *wu, *wd, *res, *nw, *out, *sum;
  size_t m, hidden, ffn;
  float eps;
};
static gllmk_status ffn_call(void *v)
{
  struct ffn_args *a = v;
  if (a->rmsnorm)
    return OPS(a->dt, fused_ffn_rmsnorm, a->x, a->wg, a->wu, a->wd, a->res, a->nw, a->out, a->sum,
               a->m, a->hidden, a->ffn, a->eps);
  return OPS(a->dt, fused_ffn, a->x, a->wg, a->wu, a->wd, a->res, a->out, a->m, a->hidden, a->ffn);
}

static void run_ffn(tu_check *c, tu_dtype dt, size_t m, size_t hidden, size_t ffn, size_t off,
                    int rmsnorm, int mode, int want_sum, int wsmode)
{
  const double eps = 1e-5;
  tu_arr x, wg, wu, wd, res, nw, o, so;
  set s = {0};
  arr_rand(&x, dt, m * hidden, off, -1, 1);
  arr_rand(&wg, dt, ffn * hidden, off + 1, -0.5, 0.5);
  arr_rand(&wu, dt, ffn * hidden, off + 2, -0.5, 0.5);
  arr_rand(&wd, dt, hidden * ffn, off + 3, -0.5, 0.5);
  arr_rand(&res, dt, m * hidden, off + 1, -1, 1);
  arr_rand(&nw, dt, hidden, off + 2, 0.5, 1.5);
  tu_arr_alloc(&o, dt, m * hidden, OFF(off + 3));
  tu_arr_alloc(&so, dt, m * hidden, OFF(off));
  tu_arr_poison(&o);
  tu_arr_poison(&so);

  size_t nn = m * hidden;
  const double *rres = mode == RES_NULL ? NULL : res.v;
  double *sm = tu_dalloc(nn), *es = tu_dalloc(nn), *rout = tu_dalloc(nn), *tol = tu_dalloc(nn);
  ffn_sum(x.v, wg.v, wu.v, wd.v, rres, sm, es, m, hidden, ffn, dt);
  if (rmsnorm)
    ref_rms_norm_err(sm, es, nw.v, rout, tol, m, hidden, (float)eps);

  struct ffn_args a = {dt, rmsnorm, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       m, hidden, ffn, (float)eps};
  a.x = set_add(&s, &x);
  a.wg = set_add(&s, &wg);
  a.wu = set_add(&s, &wu);
  a.wd = set_add(&s, &wd);
  void *dres = set_add(&s, &res);
  a.nw = set_add(&s, &nw);
  void *dout = set_add(&s, &o);
  void *dso = set_add(&s, &so);
  a.res = mode == RES_NULL ? NULL : dres;
  a.out = mode == OUT_IS_RES ? dres : dout;
  a.sum = !want_sum ? NULL : mode == SUM_IS_RES ? dres : dso;
  char ctx[160];
  snprintf(ctx, sizeof ctx, "%s m=%zu hidden=%zu ffn=%zu mode=%d sum_out=%s",
           rmsnorm ? "fused_ffn_rmsnorm" : "fused_ffn", m, hidden, ffn, mode,
           want_sum ? "yes" : "NULL");
  size_t bytes = 1;
  gllmk_status qs = rmsnorm ? OPS(dt, fused_ffn_rmsnorm_workspace_bytes, m, hidden, ffn, &bytes)
                            : OPS(dt, fused_ffn_workspace_bytes, m, hidden, ffn, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, ffn_call, &a, ctx);
  set_down(&s);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    const tu_arr *oa = mode == OUT_IS_RES ? &res : &o;
    if (rmsnorm)
      cmp_arr(c, dt, oa, rout, tol, "out", ctx);
    else
      cmp_arr(c, dt, oa, sm, es, "out", ctx);
    if (rmsnorm && want_sum)
      cmp_arr(c, dt, mode == SUM_IS_RES ? &res : &so, sm, es, "sum_out", ctx);
  }
  if (mode != OUT_IS_RES && !(mode == SUM_IS_RES && want_sum && rmsnorm))
    tu_check_input(c, &res, "residual");
  tu_check_guards(c, &res, "residual");
  if (mode == OUT_IS_RES)
    tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out written", ctx);
  if (!(rmsnorm && want_sum && mode != SUM_IS_RES))
    tu_check_true(c, tu_arr_unchanged(&so), "%s: sum_out buffer written although not passed", ctx);
  tu_check_input(c, &x, "x");
  tu_check_input(c, &wg, "w_gate");
  tu_check_input(c, &wu, "w_up");
  tu_check_input(c, &wd, "w_down");
  tu_check_input(c, &nw, "norm_w");
  tu_check_guards(c, &o, "out");
  tu_check_guards(c, &so, "sum_out");
  free(sm); free(es); free(rout); free(tol);
  set_free(&s);
}

/* ------------------------------------------------------------------ linear (+bias) + residual + rmsnorm */
struct ln_args {
  tu_dtype dt;
  int with_bias;
  void *x, *w, *b, *res, *nw, *out, *sum;
  size_t m, n, k;
  float eps;
};
static gllmk_status ln_call(void *v)
{
  struct ln_args *a = v;
  if (a->with_bias)
    return OPS(a->dt, fused_linear_bias_residual_rmsnorm, a->x, a->w, a->b, a->res, a->nw, a->out,
               a->sum, a->m, a->n, a->k, a->eps);
  return OPS(a->dt, fused_linear_residual_rmsnorm, a->x, a->w, a->res, a->nw, a->out, a->sum, a->m,
             a->n, a->k, a->eps);
}

static void run_lin_rms(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, size_t off,
                        int with_bias, int mode, int want_sum, int wsmode)
{
  const double eps = 1e-5;
  tu_arr x, w, b, res, nw, o, so;
  set s = {0};
  arr_rand(&x, dt, m * k, off, -1, 1);
  arr_rand(&w, dt, n * k, off + 1, -0.5, 0.5);
  arr_rand(&b, dt, n, off + 2, -0.5, 0.5);
  arr_rand(&res, dt, m * n, off + 3, -1, 1);
  arr_rand(&nw, dt, n, off, 0.5, 1.5);
  tu_arr_alloc(&o, dt, m * n, OFF(off + 1));
  tu_arr_alloc(&so, dt, m * n, OFF(off + 2));
  tu_arr_poison(&o);
  tu_arr_poison(&so);

  size_t nn = m * n;
  double *sm = tu_dalloc(nn), *es = tu_dalloc(nn), *rout = tu_dalloc(nn), *tol = tu_dalloc(nn);
  lin(x.v, w.v, sm, es, m, n, k, dt);
  for (size_t i = 0; i < nn; i++) {
    double add = res.v[i] + (with_bias ? b.v[i % n] : 0.0);
    es[i] += 2 * 0x1p-23 * (fabs(sm[i]) + fabs(res.v[i]) + (with_bias ? fabs(b.v[i % n]) : 0.0))
             + tu_out_rtol(dt) * fabs(sm[i] + (with_bias ? b.v[i % n] : 0.0));
    sm[i] += add;
  }
  ref_rms_norm_err(sm, es, nw.v, rout, tol, m, n, (float)eps);

  struct ln_args a = {dt, with_bias, NULL, NULL, NULL, NULL, NULL, NULL, NULL, m, n, k, (float)eps};
  a.x = set_add(&s, &x);
  a.w = set_add(&s, &w);
  a.b = set_add(&s, &b);
  a.res = set_add(&s, &res);
  a.nw = set_add(&s, &nw);
  void *dout = set_add(&s, &o);
  void *dso = set_add(&s, &so);
  int out_res = mode == OUT_IS_RES || mode == ALL_RES, sum_res = mode == SUM_IS_RES || mode == ALL_RES;
  a.out = out_res ? a.res : dout;
  a.sum = !want_sum ? NULL : sum_res ? a.res : dso;
  const char *nm = with_bias ? "fused_linear_bias_residual_rmsnorm" : "fused_linear_residual_rmsnorm";
  char ctx[160];
  snprintf(ctx, sizeof ctx, "%s m=%zu n=%zu k=%zu mode=%d sum_out=%s", nm, m, n, k, mode,
           want_sum ? "yes" : "NULL");
  size_t bytes = 1;
  gllmk_status qs =
      with_bias ? OPS(dt, fused_linear_bias_residual_rmsnorm_workspace_bytes, m, n, k, &bytes)
                : OPS(dt, fused_linear_residual_rmsnorm_workspace_bytes, m, n, k, &bytes);
  gllmk_status st = run_call(c, wsmode, qs, bytes, &s, ln_call, &a, ctx);
  set_down(&s);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    cmp_arr(c, dt, out_res ? &res : &o, rout, tol, "out", ctx);
    if (want_sum && mode != ALL_RES)   /* (out, written last, wins) */
      cmp_arr(c, dt, sum_res ? &res : &so, sm, es, "sum_out", ctx);
  }
  if (!out_res && !(sum_res && want_sum))
    tu_check_input(c, &res, "residual");
  tu_check_guards(c, &res, "residual");
  if (out_res)
    tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out written", ctx);
  if (!(want_sum && !sum_res))
    tu_check_true(c, tu_arr_unchanged(&so), "%s: sum_out buffer written although not passed", ctx);
  tu_check_input(c, &x, "x");
  tu_check_input(c, &w, "w");
  tu_check_input(c, &b, "bias");
  tu_check_input(c, &nw, "norm_w");
  tu_check_guards(c, &o, "out");
  tu_check_guards(c, &so, "sum_out");
  free(sm); free(es); free(rout); free(tol);
  set_free(&s);
}

/* ------------------------------------------------------------------ shapes */
static const size_t ms[] = {1, 2, 7, 16, 64};
#define NMS (sizeof ms / sizeof ms[0])

static void test_shapes(tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  size_t idx = 0;

  tu_check_init(&c);
  for (size_t mi = 0; mi < NMS; mi++) {
    size_t m = ms[mi];
    run_qkv(&c, dt, m, 32, 4, 2, 16, 16, false, 0, idx++, WS_SHARED);
    run_qkv(&c, dt, m, 33, 2, 1, 6, 6, true, 5, idx++, WS_SHARED);
    if (m <= 7) run_qkv(&c, dt, m, 24, 4, 1, 20, 10, false, 3, idx++, WS_SHARED);
  }
  run_qkv(&c, dt, 3, 17, 3, 3, 8, 0, false, 0, idx++, WS_SHARED);   /* no rotary dims */
  tu_check_done(&c, "CUDA fused_qkv_rope %s: m 1/2/7/16/64, GQA/MQA, full and partial rotary, "
                "both layouts, pos, hidden 33 (unaligned rows)", dn);

  tu_check_init(&c);
  for (size_t mi = 0; mi < NMS; mi++) {
    run_gus(&c, dt, ms[mi], 48, 24, idx++, WS_SHARED);
    run_gus(&c, dt, ms[mi], 19, 33, idx++, WS_SHARED);
  }
  run_gus(&c, dt, 7, 1, 1, idx++, WS_SHARED);
  run_gus(&c, dt, 13, 31, 64, idx++, WS_SHARED);
  tu_check_done(&c, "CUDA fused_gate_up_swiglu %s: m 1/2/7/16/64/13, n x k 48x24, 19x33, 1x1, "
                "31x64 (decode kernel, vector and scalar paths; GEMM + swiglu)", dn);

  tu_check_init(&c);
  for (size_t mi = 0; mi < NMS; mi++) {
    run_ffn(&c, dt, ms[mi], 24, 48, idx++, 0, RES_SEPARATE, 0, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 33, 19, idx++, 0, RES_NULL, 0, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 24, 37, idx++, 0, OUT_IS_RES, 0, WS_SHARED);
  }
  tu_check_done(&c, "CUDA fused_ffn %s: m 1/2/7/16/64, residual separate / NULL / aliased by out",
                dn);

  tu_check_init(&c);
  for (size_t mi = 0; mi < NMS; mi++) {
    run_ffn(&c, dt, ms[mi], 24, 48, idx++, 1, RES_SEPARATE, 1, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 33, 19, idx++, 1, RES_SEPARATE, 0, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 24, 36, idx++, 1, OUT_IS_RES, 0, WS_SHARED);
    run_ffn(&c, dt, ms[mi], 40, 24, idx++, 1, SUM_IS_RES, 1, WS_SHARED);
  }
  run_ffn(&c, dt, 5, 17, 29, idx++, 1, RES_NULL, 1, WS_SHARED);
  g_aligned = 1;   /* every row 16-byte aligned: the epilogue's vector path */
  run_ffn(&c, dt, 1, 24, 48, idx++, 1, RES_SEPARATE, 1, WS_SHARED);
  run_ffn(&c, dt, 16, 40, 24, idx++, 1, SUM_IS_RES, 1, WS_SHARED);
  run_ffn(&c, dt, 7, 64, 24, idx++, 1, OUT_IS_RES, 0, WS_SHARED);
  g_aligned = 0;
  tu_check_done(&c, "CUDA fused_ffn_rmsnorm %s: m 1/2/7/16/64, sum_out NULL / separate / aliasing "
                "residual, out aliasing residual, residual NULL; aligned rows", dn);

  for (int wb = 0; wb < 2; wb++) {
    tu_check_init(&c);
    for (size_t mi = 0; mi < NMS; mi++) {
      run_lin_rms(&c, dt, ms[mi], 24, 40, idx++, wb, RES_SEPARATE, 1, WS_SHARED);
      run_lin_rms(&c, dt, ms[mi], 33, 17, idx++, wb, RES_SEPARATE, 0, WS_SHARED);
      run_lin_rms(&c, dt, ms[mi], 64, 64, idx++, wb, OUT_IS_RES, 0, WS_SHARED);
      run_lin_rms(&c, dt, ms[mi], 19, 130, idx++, wb, SUM_IS_RES, 1, WS_SHARED);
    }
    run_lin_rms(&c, dt, 3, 1100, 8, idx++, wb, ALL_RES, 1, WS_SHARED);
    run_lin_rms(&c, dt, 9, 37, 5, idx++, wb, OUT_IS_RES, 1, WS_SHARED);
    g_aligned = 1;
    run_lin_rms(&c, dt, 1, 64, 40, idx++, wb, RES_SEPARATE, 1, WS_SHARED);
    run_lin_rms(&c, dt, 2, 1096, 8, idx++, wb, ALL_RES, 1, WS_SHARED);
    run_lin_rms(&c, dt, 16, 40, 17, idx++, wb, SUM_IS_RES, 1, WS_SHARED);
    run_lin_rms(&c, dt, 7, 72, 16, idx++, wb, OUT_IS_RES, 0, WS_SHARED);
    run_lin_rms(&c, dt, 3, 36, 16, idx++, wb, RES_SEPARATE, 0, WS_SHARED);   /* f32: n*4 % 16 == 0; f16: not */
    g_aligned = 0;   /* 256-thread rows */
    tu_check_done(&c, "CUDA %s %s: m 1/2/7/16/64, sum_out NULL / separate / aliasing residual, out "
                  "aliasing residual (out == sum_out == residual too), n up to 1100, aligned rows",
                  wb ? "fused_linear_bias_residual_rmsnorm" : "fused_linear_residual_rmsnorm", dn);
  }
}

/* every op with exactly its query's workspace, after GLLMK_E_NOMEM with one
 * byte less, on a fresh backend each */
static void test_exact_workspace(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  gllmk_backend *shared = be;
  for (int op = 0; op < 6; op++) {
    for (int mi = 0; mi < 2; mi++) {
      size_t m = mi ? 16 : 2;
      if (gllmk_backend_open("cuda", &be) != GLLMK_OK) bail_out("second gllmk_backend_open failed");
      switch (op) {
      case 0: run_qkv(&c, dt, m, 16, 2, 1, 8, 8, false, 1, 1, WS_EXACT); break;
      case 1: run_gus(&c, dt, m, 24, 16, 2, WS_EXACT); break;
      case 2: run_ffn(&c, dt, m, 16, 24, 3, 0, RES_SEPARATE, 0, WS_EXACT); break;
      case 3: run_ffn(&c, dt, m, 16, 24, 0, 1, OUT_IS_RES, 1, WS_EXACT); break;
      case 4: run_lin_rms(&c, dt, m, 24, 16, 1, 0, SUM_IS_RES, 1, WS_EXACT); break;
      default: run_lin_rms(&c, dt, m, 24, 16, 2, 1, RES_SEPARATE, 1, WS_EXACT); break;
      }
      gllmk_backend_close(be);
    }
  }
  be = shared;
  tu_check_done(&c, "CUDA fused ops %s: the queried workspace suffices; one byte less is "
                "GLLMK_E_NOMEM and writes nothing (m 2 and 16)", tu_dtname(dt));
}

/* fused_gate_up_swiglu equals, bit for bit, linear, linear and swiglu on the
 * same backend: the decode kernel (m <= 8) accumulates as linear's GEMV and
 * rounds the products to the element type before swiglu; larger m runs
 * those very kernels */
static void test_gate_up_bits(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  static const size_t mm[] = {1, 2, 7, 8, 9, 16};
  static const size_t nk[][2] = {{48, 24}, {19, 33}, {40, 64}};
  size_t idx = 0;
  for (size_t mi = 0; mi < sizeof mm / sizeof mm[0]; mi++)
    for (size_t si = 0; si < 3; si++, idx++) {
      size_t m = mm[mi], n = nk[si][0], k = nk[si][1];
      tu_arr x, wg, wu, o, g, u;
      set s = {0};
      arr_rand(&x, dt, m * k, idx, -1, 1);
      arr_rand(&wg, dt, n * k, idx + 1, -0.5, 0.5);
      arr_rand(&wu, dt, n * k, idx + 2, -0.5, 0.5);
      tu_arr_alloc(&o, dt, m * n, 0);
      tu_arr_alloc(&g, dt, m * n, 0);
      tu_arr_alloc(&u, dt, m * n, 0);
      void *dx = set_add(&s, &x), *dg = set_add(&s, &wg), *du = set_add(&s, &wu);
      void *dout = set_add(&s, &o), *dgo = set_add(&s, &g), *duo = set_add(&s, &u);
      size_t bytes = 0;
      if (OPS(dt, fused_gate_up_swiglu_workspace_bytes, m, n, k, &bytes) != GLLMK_OK ||
          gllmk_backend_reserve_workspace(be, bytes) != GLLMK_OK)
        bail_out("gate_up workspace");
      tu_check_status(&c, OPS(dt, fused_gate_up_swiglu, dx, dg, du, dout, m, n, k), GLLMK_OK,
                      "fused_gate_up_swiglu m=%zu n=%zu k=%zu", m, n, k);
      tu_check_status(&c, OPS(dt, linear, dx, dg, NULL, dgo, m, n, k), GLLMK_OK, "linear gate");
      tu_check_status(&c, OPS(dt, linear, dx, du, NULL, duo, m, n, k), GLLMK_OK, "linear up");
      tu_check_status(&c, OPS(dt, swiglu, dgo, duo, dgo, m * n), GLLMK_OK, "swiglu");
      set_down(&s);
      tu_check_true(&c, !memcmp(o.p, g.p, m * n * tu_esize(dt)),
                    "%s m=%zu n=%zu k=%zu: fused_gate_up_swiglu differs from linear, linear, swiglu",
                    tu_dtname(dt), m, n, k);
      set_free(&s);
    }
  tu_check_done(&c, "CUDA fused_gate_up_swiglu %s equals linear, linear, swiglu bit for bit "
                "(m 1/2/7/8/9/16)", tu_dtname(dt));
}

/* ------------------------------------------------------------------ bad input */
static void test_bad_input(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  const size_t m = 3, n = 8, k = 8, big = SIZE_MAX / 2;
  const float eps = 1e-5f;
  tu_arr x, w, b, res, nw, o, so, g, hx;
  set s = {0};
  arr_rand(&x, dt, m * k, 0, -1, 1);
  arr_rand(&w, dt, n * k, 0, -1, 1);
  arr_rand(&b, dt, n, 0, -1, 1);
  arr_rand(&res, dt, m * n, 0, -1, 1);
  arr_rand(&nw, dt, n, 0, -1, 1);
  tu_arr_alloc(&o, dt, m * n, 0);
  tu_arr_alloc(&so, dt, m * n, 0);
  arr_rand(&g, dt, n * k, 0, -1, 1);   /* a second weight */
  arr_rand(&hx, dt, m * k, 0, -1, 1);  /* host memory (not a buffer) */
  tu_arr_poison(&o);
  tu_arr_poison(&so);
  void *dx = set_add(&s, &x), *dw = set_add(&s, &w), *db = set_add(&s, &b);
  void *dr = set_add(&s, &res), *dn = set_add(&s, &nw), *dout = set_add(&s, &o);
  void *dso = set_add(&s, &so), *dg = set_add(&s, &g);
  size_t es = tu_esize(dt);
  /* the last element of the buffers of x and sum_out: any longer range leaves them */
  void *x_end = (unsigned char *)gllmk_buffer_data(s.d[0].buf) + x.mem_bytes - es;
  void *so_end = (unsigned char *)gllmk_buffer_data(s.d[6].buf) + so.mem_bytes - es;
  void *o_end = (unsigned char *)gllmk_buffer_data(s.d[5].buf) + o.mem_bytes - es;
  void *odd = (unsigned char *)dx + 1;          /* misaligned (f16/bf16, f32) */
  void *hp = hx.p;
  if (gllmk_backend_reserve_workspace(be, 1 << 20) != GLLMK_OK) bail_out("reserve failed");
  /* the CPU function's code for arguments it can check (host pointers) */
  const void *X = x.p, *W = w.p, *B = b.p, *R = res.p, *N = nw.p, *G = g.p;
  void *O = o.p, *S = so.p, *RW = res.p;
  struct {
    const char *what;
    gllmk_status cu, cpu;
  } cases[] = {
    {"lrn NULL be", gllmk_backend_ops_f32(be)->fused_linear_residual_rmsnorm(NULL, NULL, NULL, NULL,
                                                                              NULL, NULL, NULL, 1,
                                                                              1, 1, eps),
     GLLMK_E_INVAL},
    {"lrn overflow", OPS(dt, fused_linear_residual_rmsnorm, dx, dw, dr, dn, dout, dso, big, n, 4, eps),
     CPU(dt, fused_linear_residual_rmsnorm, X, W, R, N, O, S, big, n, 4, eps)},
    {"lrn eps < 0", OPS(dt, fused_linear_residual_rmsnorm, dx, dw, dr, dn, dout, dso, m, n, k, -1.0f),
     CPU(dt, fused_linear_residual_rmsnorm, X, W, R, N, O, S, m, n, k, -1.0f)},
    {"lrn eps NaN", OPS(dt, fused_linear_residual_rmsnorm, dx, dw, dr, dn, dout, dso, m, n, k, NAN),
     CPU(dt, fused_linear_residual_rmsnorm, X, W, R, N, O, S, m, n, k, NAN)},
    {"lrn NULL x", OPS(dt, fused_linear_residual_rmsnorm, NULL, dw, dr, dn, dout, dso, m, n, k, eps),
     CPU(dt, fused_linear_residual_rmsnorm, NULL, W, R, N, O, S, m, n, k, eps)},
    {"lrn NULL norm_w", OPS(dt, fused_linear_residual_rmsnorm, dx, dw, dr, NULL, dout, dso, m, n, k, eps),
     CPU(dt, fused_linear_residual_rmsnorm, X, W, R, NULL, O, S, m, n, k, eps)},
    {"lrbn NULL bias", OPS(dt, fused_linear_bias_residual_rmsnorm, dx, dw, NULL, dr, dn, dout, dso, m, n, k, eps),
     CPU(dt, fused_linear_bias_residual_rmsnorm, X, W, NULL, R, N, O, S, m, n, k, eps)},
    {"lrbn overflow and NULL", OPS(dt, fused_linear_bias_residual_rmsnorm, NULL, dw, db, dr, dn, dout, dso, m, big, big, eps),
     CPU(dt, fused_linear_bias_residual_rmsnorm, NULL, W, B, R, N, O, S, m, big, big, eps)},
    {"lrn host x", OPS(dt, fused_linear_residual_rmsnorm, hp, dw, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrn x past the end", OPS(dt, fused_linear_residual_rmsnorm, x_end, dw, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrn misaligned x", OPS(dt, fused_linear_residual_rmsnorm, odd, dw, dr, dn, dout, dso, m, n, 4, eps),
     GLLMK_E_INVAL},
    {"lrn sum_out past the end", OPS(dt, fused_linear_residual_rmsnorm, dx, dw, dr, dn, dout, so_end, m, n, k, eps),
     GLLMK_E_INVAL},
    {"lrbn bias host", OPS(dt, fused_linear_bias_residual_rmsnorm, dx, dw, b.p, dr, dn, dout, dso, m, n, k, eps),
     GLLMK_E_INVAL},
    {"gus NULL w_up", OPS(dt, fused_gate_up_swiglu, dx, dw, NULL, dout, m, n, k),
     CPU(dt, fused_gate_up_swiglu, X, W, NULL, O, m, n, k)},
    {"gus overflow", OPS(dt, fused_gate_up_swiglu, dx, dw, dg, dout, big, big, k),
     CPU(dt, fused_gate_up_swiglu, X, W, G, O, big, big, k)},
    {"gus out past the end", OPS(dt, fused_gate_up_swiglu, dx, dw, dg, o_end, m, n, k), GLLMK_E_INVAL},
    {"gus w_up host", OPS(dt, fused_gate_up_swiglu, dx, dw, G, dout, m, n, k), GLLMK_E_INVAL},
    {"ffn NULL w_down", OPS(dt, fused_ffn, dx, dw, dg, NULL, dr, dout, m, n, k),
     CPU(dt, fused_ffn, X, W, G, NULL, R, O, m, n, k)},
    {"ffn overflow", OPS(dt, fused_ffn, dx, dw, dg, dw, dr, dout, big, n, big),
     CPU(dt, fused_ffn, X, W, G, W, R, O, big, n, big)},
    {"ffn residual host", OPS(dt, fused_ffn, dx, dw, dg, dw, R, dout, m, n, k), GLLMK_E_INVAL},
    {"ffnr eps NaN", OPS(dt, fused_ffn_rmsnorm, dx, dw, dg, dw, dr, dn, dout, dso, m, n, k, NAN),
     CPU(dt, fused_ffn_rmsnorm, X, W, G, W, R, N, O, S, m, n, k, NAN)},
    {"ffnr NULL norm_w", OPS(dt, fused_ffn_rmsnorm, dx, dw, dg, dw, dr, NULL, dout, dso, m, n, k, eps),
     CPU(dt, fused_ffn_rmsnorm, X, W, G, W, R, NULL, O, S, m, n, k, eps)},
    {"ffnr sum_out host", OPS(dt, fused_ffn_rmsnorm, dx, dw, dg, dw, dr, dn, dout, S, m, n, k, eps),
     GLLMK_E_INVAL},
    /* qkv: x [3 x 8], wq [8 x 8] (heads 2 x 4), wk = wv [8 x 8]... kv_heads 2 */
    {"qkv heads % kv_heads", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, dn, dout, dso, dr, m, k, 3, 2, 4, 2, false, 0),
     CPU(dt, fused_qkv_rope, X, W, G, G, N, N, O, S, RW, m, k, 3, 2, 4, 2, false, 0)},
    {"qkv odd rotary_dim", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 3, false, 0),
     CPU(dt, fused_qkv_rope, X, W, G, G, N, N, O, S, RW, m, k, 2, 2, 4, 3, false, 0)},
    {"qkv rotary_dim > head_dim", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 6, false, 0),
     CPU(dt, fused_qkv_rope, X, W, G, G, N, N, O, S, RW, m, k, 2, 2, 4, 6, false, 0)},
    {"qkv overflow pos", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, SIZE_MAX),
     CPU(dt, fused_qkv_rope, X, W, G, G, N, N, O, S, RW, m, k, 2, 2, 4, 4, false, SIZE_MAX)},
    {"qkv NULL sin", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, NULL, dout, dso, dr, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope, X, W, G, G, N, NULL, O, S, RW, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv NULL v", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, dn, dout, dso, NULL, m, k, 2, 2, 4, 4, false, 0),
     CPU(dt, fused_qkv_rope, X, W, G, G, N, N, O, S, NULL, m, k, 2, 2, 4, 4, false, 0)},
    {"qkv cos table too short", OPS(dt, fused_qkv_rope, dx, dw, dg, dg, dn, dn, dout, dso, dr, m, k, 2, 2, 4, 4, false, 100),
     GLLMK_E_INVAL},
  };
  size_t nc = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < nc; i++)
    tu_check_true(&c, cases[i].cu == cases[i].cpu && cases[i].cu != GLLMK_OK,
                  "%s %s: CUDA %s, want %s", tu_dtname(dt), cases[i].what,
                  tu_status_name(cases[i].cu), tu_status_name(cases[i].cpu));
  /* queries */
  size_t bytes = 7;
  tu_check_status(&c, OPS(dt, fused_ffn_workspace_bytes, big, big, 2, &bytes), GLLMK_E_OVERFLOW,
                  "ffn query overflow");
  tu_check_status(&c, OPS(dt, fused_linear_residual_rmsnorm_workspace_bytes, big, 4, 4, &bytes),
                  GLLMK_E_OVERFLOW, "lrn query overflow");
  tu_check_status(&c, OPS(dt, fused_gate_up_swiglu_workspace_bytes, 2, 2, 2, NULL), GLLMK_E_INVAL,
                  "gus query NULL bytes");
  tu_check_status(&c, OPS(dt, fused_qkv_rope_workspace_bytes, 1, 8, 3, 2, 4, 2, false, 0, &bytes),
                  GLLMK_E_INVAL, "qkv query heads %% kv_heads");
  set_down(&s);
  for (int i = 0; i < 5; i++) tu_check_input(&c, s.a[i], "input");
  tu_check_input(&c, &g, "g");
  tu_check_true(&c, tu_arr_unchanged(&o) && tu_arr_guards_ok(&o), "out written by a refused call");
  tu_check_true(&c, tu_arr_unchanged(&so) && tu_arr_guards_ok(&so), "sum_out written by a refused call");
  tu_check_done(&c, "CUDA fused ops %s: bad input gives the CPU function's code, foreign, host, "
                "misaligned and short ranges GLLMK_E_INVAL, nothing written", tu_dtname(dt));
  set_free(&s);
  tu_arr_free(&hx);
}

/* ------------------------------------------------------------------ a decoder layer in a graph */
/* x <- layer(x): xn = rms_norm(x); q, k, v = fused_qkv_rope(xn) with k, v
 * written at the new tokens' cache slots; a = flash_attention_paged(q);
 * h = x + a.Wo^T, xn = rms_norm(h) (fused_linear_residual_rmsnorm, sum_out
 * = x); x = h + ffn(xn) (fused_ffn, out = residual = x).  Recorded once on
 * each backend, replayed for STEPS steps; x compared after every step. */
#define L_HIDDEN 32
#define L_HEADS 4
#define L_KVH 2
#define L_HD 8
#define L_ROT 8
#define L_FFN 48
#define L_PAGE 4
#define L_PAGES 6
#define STEPS 4

struct layer {
  gllmk_backend *b;
  gllmk_buffer *buf;      /* everything in one buffer */
  unsigned char *base;    /* its device address */
  size_t off[16];         /* byte offset of each array */
  gllmk_graph *g;
};
enum { A_X, A_XN, A_WN1, A_WQ, A_WK, A_WV, A_COS, A_SIN, A_Q, A_KC, A_VC, A_PT, A_ATT, A_WO,
       A_WN2, A_WG, A_NARR };
/* the gate/up/down weights follow A_WG in one array: wg, wu, wd */

static void *L(struct layer *l, int a) { return l->base + l->off[a]; }

static void test_layer(tu_dtype dt, size_t seq)
{
  tu_check c;
  tu_check_init(&c);
  size_t es = tu_esize(dt), nq = L_HEADS * L_HD, nkv = L_KVH * L_HD, half = L_ROT / 2;
  size_t pos = 9;                                   /* tokens already in the cache */
  size_t cache_len = pos + seq, n_tab = cache_len * half;
  size_t sizes[A_NARR] = {
    [A_X] = seq * L_HIDDEN, [A_XN] = seq * L_HIDDEN, [A_WN1] = L_HIDDEN,
    [A_WQ] = nq * L_HIDDEN, [A_WK] = nkv * L_HIDDEN, [A_WV] = nkv * L_HIDDEN,
    [A_COS] = n_tab, [A_SIN] = n_tab, [A_Q] = seq * nq,
    [A_KC] = L_PAGES * L_PAGE * nkv, [A_VC] = L_PAGES * L_PAGE * nkv,
    [A_PT] = (L_PAGES * 4 + es - 1) / es, [A_ATT] = seq * nq, [A_WO] = L_HIDDEN * nq,
    [A_WN2] = L_HIDDEN, [A_WG] = 3 * L_FFN * L_HIDDEN,
  };
  /* the page table: logical page i in physical page pt[i] (shuffled) */
  uint32_t pt[L_PAGES] = {4, 1, 5, 0, 3, 2};
  /* pos .. pos + seq - 1 lie in one page: slots pos % L_PAGE .. */
  if (pos % L_PAGE + seq > L_PAGE) bail_out("test bug: the new tokens straddle pages");
  size_t kslot = ((size_t)pt[pos / L_PAGE] * L_PAGE + pos % L_PAGE) * nkv;

  /* host data, rounded to dt: one image uploaded to both backends */
  size_t total = 0, off[A_NARR];
  for (int a = 0; a < A_NARR; a++) {
    off[a] = total;
    total += (sizes[a] * es + 255) / 256 * 256;
  }
  unsigned char *img = tu_xmalloc(total);
  memset(img, 0, total);
  for (int a = 0; a < A_NARR; a++) {
    if (a == A_PT) {
      memcpy(img + off[a], pt, sizeof pt);
      continue;
    }
    if (a == A_XN || a == A_Q || a == A_ATT) continue;
    for (size_t i = 0; i < sizes[a]; i++) {
      double v = a == A_WN1 || a == A_WN2 ? tu_uniform(0.5, 1.5)
                 : a == A_COS || a == A_SIN ? 0.0
                 : a == A_X                 ? tu_uniform(-1, 1)
                                            : tu_uniform(-0.25, 0.25);
      tu_put(dt, img + off[a], i, v);
    }
  }
  for (size_t i = 0; i < n_tab; i++) {
    double th = tu_uniform(-4, 4);
    tu_put(dt, img + off[A_COS], i, cos(th));
    tu_put(dt, img + off[A_SIN], i, sin(th));
  }

  struct layer ls[2];
  const char *names[2] = {"cuda", "cpu"};
  float scale = 1.0f / sqrtf((float)L_HD), eps = 1e-5f;
  for (int bi = 0; bi < 2; bi++) {
    struct layer *l = &ls[bi];
    memset(l, 0, sizeof *l);
    if (bi == 0) l->b = be;
    else if (gllmk_backend_open("cpu", &l->b) != GLLMK_OK) bail_out("gllmk_backend_open(cpu)");
    memcpy(l->off, off, sizeof off);
    if (gllmk_buffer_alloc(l->b, total, &l->buf) != GLLMK_OK) bail_out("layer buffer");
    if (gllmk_buffer_upload(l->buf, 0, img, total) != GLLMK_OK) bail_out("layer upload");
    l->base = gllmk_buffer_data(l->buf);
    gllmk_backend *b = l->b;
    size_t need = 0, q;
#define WSQ(...) do { q = 0; if (__VA_ARGS__ != GLLMK_OK) bail_out("layer query"); if (q > need) need = q; } while (0)
    WSQ(OPSB(b, dt, rms_norm_workspace_bytes, seq, L_HIDDEN, &q));
    WSQ(OPSB(b, dt, fused_qkv_rope_workspace_bytes, seq, L_HIDDEN, L_HEADS, L_KVH, L_HD, L_ROT,
             false, pos, &q));
    WSQ(OPSB(b, dt, flash_attention_paged_workspace_bytes, seq, cache_len, L_HEADS, L_KVH, L_HD,
             L_PAGE, L_PAGES, &q));
    WSQ(OPSB(b, dt, fused_linear_residual_rmsnorm_workspace_bytes, seq, L_HIDDEN, nq, &q));
    WSQ(OPSB(b, dt, fused_ffn_workspace_bytes, seq, L_HIDDEN, L_FFN, &q));
#undef WSQ
    if (gllmk_backend_reserve_workspace(b, need) != GLLMK_OK) bail_out("layer workspace");
    tu_check_status(&c, gllmk_graph_begin(b), GLLMK_OK, "%s graph_begin", names[bi]);
    gllmk_status st[5];
    void *kc = (unsigned char *)L(l, A_KC) + kslot * es, *vc = (unsigned char *)L(l, A_VC) + kslot * es;
    void *wg = L(l, A_WG), *wu = (unsigned char *)wg + L_FFN * L_HIDDEN * es;
    void *wd = (unsigned char *)wu + L_FFN * L_HIDDEN * es;
    st[0] = OPSB(b, dt, rms_norm, L(l, A_X), L(l, A_WN1), L(l, A_XN), seq, L_HIDDEN, eps);
    st[1] = OPSB(b, dt, fused_qkv_rope, L(l, A_XN), L(l, A_WQ), L(l, A_WK), L(l, A_WV), L(l, A_COS),
                 L(l, A_SIN), L(l, A_Q), kc, vc, seq, L_HIDDEN, L_HEADS, L_KVH, L_HD, L_ROT, false,
                 pos);
    st[2] = OPSB(b, dt, flash_attention_paged, L(l, A_Q), L(l, A_KC), L(l, A_VC),
                 (const uint32_t *)L(l, A_PT), L(l, A_ATT), seq, cache_len, L_HEADS, L_KVH, L_HD,
                 L_PAGE, L_PAGES, scale);
    st[3] = OPSB(b, dt, fused_linear_residual_rmsnorm, L(l, A_ATT), L(l, A_WO), L(l, A_X),
                 L(l, A_WN2), L(l, A_XN), L(l, A_X), seq, L_HIDDEN, nq, eps);
    st[4] = OPSB(b, dt, fused_ffn, L(l, A_XN), wg, wu, wd, L(l, A_X), L(l, A_X), seq, L_HIDDEN,
                 L_FFN);
    for (int i = 0; i < 5; i++)
      tu_check_status(&c, st[i], GLLMK_OK, "%s layer op %d recorded", names[bi], i);
    tu_check_status(&c, gllmk_graph_end(b, &l->g), GLLMK_OK, "%s graph_end", names[bi]);
  }
  /* per step: the CPU keeps the fused ops' intermediates in f32, the GPU
   * rounds the products to dt (as the composition does), and the layer
   * amplifies earlier steps' differences */
  double rtol0 = dt == TU_F32 ? 5e-5 : dt == TU_F16 ? 5e-3 : 4e-2, rtol = rtol0;
  size_t nx = seq * L_HIDDEN;
  unsigned char *hx[2] = {tu_xmalloc(nx * es), tu_xmalloc(nx * es)};
  double maxd = 0;
  for (int step = 0; step < STEPS; step++) {
    rtol = rtol0 * (1 + step);
    for (int bi = 0; bi < 2; bi++) {
      tu_check_status(&c, gllmk_graph_launch(ls[bi].g), GLLMK_OK, "%s graph_launch step %d",
                      names[bi], step);
      if (gllmk_backend_synchronize(ls[bi].b) != GLLMK_OK) bail_out("synchronize");
      if (gllmk_buffer_download(ls[bi].buf, off[A_X], hx[bi], nx * es) != GLLMK_OK)
        bail_out("download");
    }
    for (size_t i = 0; i < nx; i++) {
      double gv = tu_get(dt, hx[0], i), rv = tu_get(dt, hx[1], i);
      double d = fabs(gv - rv) / (1 + fabs(rv));
      if (d > maxd) maxd = d;
      tu_check_true(&c, d <= rtol && isfinite(gv), "step %d x[%zu]: cuda %g, cpu %g", step, i, gv,
                    rv);
    }
    if (getenv("GLLMK_TEST_VERBOSE")) diag("step %d: largest difference so far %.3g", step, maxd);
  }
  diag("decoder layer %s seq=%zu: largest difference from the CPU backend %.3g (bound %.3g)",
       tu_dtname(dt), seq, maxd, rtol);
  for (int bi = 0; bi < 2; bi++) {
    gllmk_graph_free(ls[bi].g);
    gllmk_buffer_free(ls[bi].buf);
    if (bi) gllmk_backend_close(ls[bi].b);
  }
  free(hx[0]);
  free(hx[1]);
  free(img);
  tu_check_done(&c, "CUDA decoder layer graph %s seq=%zu (rms_norm, fused_qkv_rope into the paged "
                "cache, flash_attention_paged, fused_linear_residual_rmsnorm, fused_ffn) replayed "
                "%d steps equals the CPU backend's", tu_dtname(dt), seq, STEPS);
}

int main(void)
{
  if (!tu_cuda_open(&be)) return 0;
  diag("backend %s", gllmk_backend_name(be));
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    test_shapes(dt);
    test_exact_workspace(dt);
    test_gate_up_bits(dt);
    test_bad_input(dt);
  }
  /* the graph test reserves workspaces once recorded graphs hold them: last */
  for (int d = 0; d < TU_NDTYPES; d++) {
    test_layer((tu_dtype)d, 1);
    test_layer((tu_dtype)d, 3);
  }
  gllmk_backend_close(be);
  return done_testing();
}
