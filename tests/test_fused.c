/* test_fused.c -- the fused transformer-block operators
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, each fused op is compared with the
 * double reference of its composition (ref.c), for m = 1, 3, 17, 64 and a few
 * shapes (including ones that are not multiples of any vector width), with
 * sum_out NULL and not, out aliasing residual, sum_out aliasing residual, and
 * residual == NULL for fused_ffn.
 *
 * Tolerances are propagated through the composition.  A linear layer y = x.W^T
 * gets err_y = (tu_acc_eps(k) + rtol_dt) * sum|x w| (the rtol_dt term allows
 * the intermediate to be rounded to dt, as the unfused composition would);
 *  - rope:     |c| err_a + |s| err_b + 2^-22 (|a c| + |b s|)
 *  - swiglu:   1.1 |u| err_g + |silu g| err_u + err_g err_u + 6*2^-23 |out|
 *  - down proj: (tu_acc_eps(ffn) + rtol_dt) sum|h d| + sum err_h |d|
 *  - rms_norm: |w| err_s / rms + |out| (rms(err_s)/rms + 1e-5 + 1e-6 sqrt(n))
 * plus the final store to dt (f16 1e-3, bf16 8e-3 relative).
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    err[i] = ey[i] + prop[i] + 0x1p-23 * (fabs(r) + fabs(y[i]));
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

static void arr_rand(tu_arr *a, tu_dtype dt, size_t n, size_t off, double lo, double hi)
{
  tu_arr_alloc(a, dt, n, off % 4);
  tu_arr_uniform(a, lo, hi);
}

/* ------------------------------------------------------------------ qkv_rope */
static void run_qkv(tu_check *c, tu_dtype dt, size_t seq, size_t hidden, size_t heads,
                    size_t kv_heads, size_t hd, size_t rot, bool il, size_t pos, size_t off)
{
  size_t nq = heads * hd, nk = kv_heads * hd, half = rot / 2;
  tu_arr x, wq, wk, wv, cs, sn, q, k, v;
  arr_rand(&x, dt, seq * hidden, off, -1, 1);
  arr_rand(&wq, dt, nq * hidden, off + 1, -0.5, 0.5);
  arr_rand(&wk, dt, nk * hidden, off + 2, -0.5, 0.5);
  arr_rand(&wv, dt, nk * hidden, off + 3, -0.5, 0.5);
  tu_arr_alloc(&cs, dt, (pos + seq) * half, off + 1);
  tu_arr_alloc(&sn, dt, (pos + seq) * half, off + 2);
  {
    double *vc = tu_dalloc((pos + seq) * half), *vs = tu_dalloc((pos + seq) * half);
    for (size_t i = 0; i < (pos + seq) * half; i++) {
      double th = tu_uniform(-4, 4);
      vc[i] = cos(th);
      vs[i] = sin(th);
    }
    tu_arr_set(&cs, vc);
    tu_arr_set(&sn, vs);
    free(vc);
    free(vs);
  }
  tu_arr_alloc(&q, dt, seq * nq, off + 3);
  tu_arr_alloc(&k, dt, seq * nk, off);
  tu_arr_alloc(&v, dt, seq * nk, off + 1);
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

  char ctx[160];
  snprintf(ctx, sizeof ctx, "fused_qkv_rope seq=%zu hidden=%zu heads=%zu/%zu hd=%zu rot=%zu il=%d pos=%zu",
           seq, hidden, heads, kv_heads, hd, rot, il, pos);
  gllmk_status st = TU_CALL(dt, fused_qkv_rope, x.p, wq.p, wk.p, wv.p, cs.p, sn.p, q.p, k.p, v.p,
                            seq, hidden, heads, kv_heads, hd, rot, il, pos);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    cmp_arr(c, dt, &q, rq, tq, "q", ctx);
    cmp_arr(c, dt, &k, rk, tk, "k", ctx);
    cmp_arr(c, dt, &v, rv, ev, "v", ctx);
  }
  tu_check_input(c, &x, "x");
  tu_check_input(c, &wq, "wq");
  tu_check_input(c, &wk, "wk");
  tu_check_input(c, &wv, "wv");
  tu_check_input(c, &cs, "cos");
  tu_check_input(c, &sn, "sin");
  tu_check_guards(c, &q, "q");
  tu_check_guards(c, &k, "k");
  tu_check_guards(c, &v, "v");
  free(rq); free(rk); free(rv);
  free(pq); free(eq); free(tq);
  free(pk); free(ek); free(tk);
  free(pv); free(ev);
  tu_arr_free(&x); tu_arr_free(&wq); tu_arr_free(&wk); tu_arr_free(&wv);
  tu_arr_free(&cs); tu_arr_free(&sn);
  tu_arr_free(&q); tu_arr_free(&k); tu_arr_free(&v);
}

/* ------------------------------------------------------------------ gate_up_swiglu */
static void run_gus(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, size_t off)
{
  tu_arr x, wg, wu, o;
  arr_rand(&x, dt, m * k, off, -1, 1);
  arr_rand(&wg, dt, n * k, off + 1, -0.5, 0.5);
  arr_rand(&wu, dt, n * k, off + 2, -0.5, 0.5);
  tu_arr_alloc(&o, dt, m * n, (off + 3) % 4);
  tu_arr_poison(&o);
  double *ref = tu_dalloc(m * n), *h = tu_dalloc(m * n), *tol = tu_dalloc(m * n);
  ref_fused_gate_up_swiglu(x.v, wg.v, wu.v, ref, m, n, k);
  gate_up(x.v, wg.v, wu.v, h, tol, m, n, k, dt);
  char ctx[96];
  snprintf(ctx, sizeof ctx, "fused_gate_up_swiglu m=%zu n=%zu k=%zu", m, n, k);
  gllmk_status st = TU_CALL(dt, fused_gate_up_swiglu, x.p, wg.p, wu.p, o.p, m, n, k);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx))
    cmp_arr(c, dt, &o, ref, tol, "out", ctx);
  tu_check_input(c, &x, "x");
  tu_check_input(c, &wg, "w_gate");
  tu_check_input(c, &wu, "w_up");
  tu_check_guards(c, &o, "out");
  free(ref); free(h); free(tol);
  tu_arr_free(&x); tu_arr_free(&wg); tu_arr_free(&wu); tu_arr_free(&o);
}

/* ------------------------------------------------------------------ ffn, ffn_rmsnorm */
enum { RES_SEPARATE, RES_NULL, OUT_IS_RES, SUM_IS_RES };

static void run_ffn(tu_check *c, tu_dtype dt, size_t m, size_t hidden, size_t ffn, size_t off,
                    int rmsnorm, int mode, int want_sum)
{
  const double eps = 1e-5;
  tu_arr x, wg, wu, wd, res, nw, o, so;
  arr_rand(&x, dt, m * hidden, off, -1, 1);
  arr_rand(&wg, dt, ffn * hidden, off + 1, -0.5, 0.5);
  arr_rand(&wu, dt, ffn * hidden, off + 2, -0.5, 0.5);
  arr_rand(&wd, dt, hidden * ffn, off + 3, -0.5, 0.5);
  arr_rand(&res, dt, m * hidden, off + 1, -1, 1);
  arr_rand(&nw, dt, hidden, off + 2, 0.5, 1.5);
  tu_arr_alloc(&o, dt, m * hidden, (off + 3) % 4);
  tu_arr_alloc(&so, dt, m * hidden, off % 4);
  tu_arr_poison(&o);
  tu_arr_poison(&so);

  size_t nn = m * hidden;
  const double *rres = mode == RES_NULL ? NULL : res.v;
  double *s = tu_dalloc(nn), *es = tu_dalloc(nn), *rout = tu_dalloc(nn), *tol = tu_dalloc(nn);
  ffn_sum(x.v, wg.v, wu.v, wd.v, rres, s, es, m, hidden, ffn, dt);
  if (rmsnorm)
    ref_rms_norm_err(s, es, nw.v, rout, tol, m, hidden, (float)eps);
  {
    /* cross-check the propagated reference against ref.c's own composition */
    double *r2 = tu_dalloc(nn), *s2 = tu_dalloc(nn);
    if (rmsnorm)
      ref_fused_ffn_rmsnorm(x.v, wg.v, wu.v, wd.v, rres, nw.v, r2, s2, m, hidden, ffn, (float)eps);
    else
      ref_fused_ffn(x.v, wg.v, wu.v, wd.v, rres, r2, m, hidden, ffn);
    for (size_t i = 0; i < nn; i++)
      if (fabs(r2[i] - (rmsnorm ? rout[i] : s[i])) > 1e-9 * (1 + fabs(r2[i])))
        bail_out("test bug: fused ffn references disagree");
    free(r2);
    free(s2);
  }

  const void *pres = mode == RES_NULL ? NULL : res.p;
  void *pout = mode == OUT_IS_RES ? res.p : o.p;
  void *psum = !want_sum ? NULL : mode == SUM_IS_RES ? res.p : so.p;
  char ctx[160];
  snprintf(ctx, sizeof ctx, "%s m=%zu hidden=%zu ffn=%zu mode=%d sum_out=%s",
           rmsnorm ? "fused_ffn_rmsnorm" : "fused_ffn", m, hidden, ffn, mode,
           want_sum ? "yes" : "NULL");
  gllmk_status st;
  if (rmsnorm)
    st = TU_CALL(dt, fused_ffn_rmsnorm, x.p, wg.p, wu.p, wd.p, pres, nw.p, pout, psum, m, hidden,
                 ffn, (float)eps);
  else
    st = TU_CALL(dt, fused_ffn, x.p, wg.p, wu.p, wd.p, pres, pout, m, hidden, ffn);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    const tu_arr *oa = mode == OUT_IS_RES ? &res : &o;
    if (rmsnorm)
      cmp_arr(c, dt, oa, rout, tol, "out", ctx);
    else
      cmp_arr(c, dt, oa, s, es, "out", ctx);
    if (rmsnorm && want_sum)
      cmp_arr(c, dt, mode == SUM_IS_RES ? &res : &so, s, es, "sum_out", ctx);
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
  free(s); free(es); free(rout); free(tol);
  tu_arr_free(&x); tu_arr_free(&wg); tu_arr_free(&wu); tu_arr_free(&wd);
  tu_arr_free(&res); tu_arr_free(&nw); tu_arr_free(&o); tu_arr_free(&so);
}

/* ------------------------------------------------------------------ linear (+bias) + residual + rmsnorm */
static void run_lin_rms(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, size_t off,
                        int with_bias, int mode, int want_sum)
{
  const double eps = 1e-5;
  tu_arr x, w, b, res, nw, o, so;
  arr_rand(&x, dt, m * k, off, -1, 1);
  arr_rand(&w, dt, n * k, off + 1, -0.5, 0.5);
  arr_rand(&b, dt, n, off + 2, -0.5, 0.5);
  arr_rand(&res, dt, m * n, off + 3, -1, 1);
  arr_rand(&nw, dt, n, off, 0.5, 1.5);
  tu_arr_alloc(&o, dt, m * n, (off + 1) % 4);
  tu_arr_alloc(&so, dt, m * n, (off + 2) % 4);
  tu_arr_poison(&o);
  tu_arr_poison(&so);

  size_t nn = m * n;
  double *s = tu_dalloc(nn), *es = tu_dalloc(nn), *rout = tu_dalloc(nn), *tol = tu_dalloc(nn);
  double *rs = tu_dalloc(nn);
  lin(x.v, w.v, s, es, m, n, k, dt);
  for (size_t i = 0; i < nn; i++) {
    double add = res.v[i] + (with_bias ? b.v[i % n] : 0.0);
    es[i] += 2 * 0x1p-23 * (fabs(s[i]) + fabs(res.v[i]) + (with_bias ? fabs(b.v[i % n]) : 0.0))
             + tu_out_rtol(dt) * fabs(s[i] + (with_bias ? b.v[i % n] : 0.0));
    s[i] += add;
  }
  ref_rms_norm_err(s, es, nw.v, rout, tol, m, n, (float)eps);
  {
    double *r2 = tu_dalloc(nn);
    if (with_bias)
      ref_fused_linear_bias_residual_rmsnorm(x.v, w.v, b.v, res.v, nw.v, r2, rs, m, n, k, (float)eps);
    else
      ref_fused_linear_residual_rmsnorm(x.v, w.v, res.v, nw.v, r2, rs, m, n, k, (float)eps);
    for (size_t i = 0; i < nn; i++)
      if (fabs(r2[i] - rout[i]) > 1e-9 * (1 + fabs(r2[i])) ||
          fabs(rs[i] - s[i]) > 1e-9 * (1 + fabs(s[i])))
        bail_out("test bug: linear rmsnorm references disagree");
    free(r2);
  }

  void *pout = mode == OUT_IS_RES ? res.p : o.p;
  void *psum = !want_sum ? NULL : mode == SUM_IS_RES ? res.p : so.p;
  char ctx[160];
  snprintf(ctx, sizeof ctx, "%s m=%zu n=%zu k=%zu mode=%d sum_out=%s",
           with_bias ? "fused_linear_bias_residual_rmsnorm" : "fused_linear_residual_rmsnorm", m,
           n, k, mode, want_sum ? "yes" : "NULL");
  gllmk_status st;
  if (with_bias)
    st = TU_CALL(dt, fused_linear_bias_residual_rmsnorm, x.p, w.p, b.p, res.p, nw.p, pout, psum, m,
                 n, k, (float)eps);
  else
    st = TU_CALL(dt, fused_linear_residual_rmsnorm, x.p, w.p, res.p, nw.p, pout, psum, m, n, k,
                 (float)eps);
  if (tu_check_status(c, st, GLLMK_OK, "%s", ctx)) {
    cmp_arr(c, dt, mode == OUT_IS_RES ? &res : &o, rout, tol, "out", ctx);
    if (want_sum)
      cmp_arr(c, dt, mode == SUM_IS_RES ? &res : &so, s, es, "sum_out", ctx);
  }
  if (mode != OUT_IS_RES && !(mode == SUM_IS_RES && want_sum))
    tu_check_input(c, &res, "residual");
  tu_check_guards(c, &res, "residual");
  if (mode == OUT_IS_RES)
    tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out written", ctx);
  if (!(want_sum && mode != SUM_IS_RES))
    tu_check_true(c, tu_arr_unchanged(&so), "%s: sum_out buffer written although not passed", ctx);
  tu_check_input(c, &x, "x");
  tu_check_input(c, &w, "w");
  tu_check_input(c, &b, "bias");
  tu_check_input(c, &nw, "norm_w");
  tu_check_guards(c, &o, "out");
  tu_check_guards(c, &so, "sum_out");
  free(s); free(es); free(rout); free(tol); free(rs);
  tu_arr_free(&x); tu_arr_free(&w); tu_arr_free(&b); tu_arr_free(&res);
  tu_arr_free(&nw); tu_arr_free(&o); tu_arr_free(&so);
}

/* ------------------------------------------------------------------ driver */
static const size_t ms[] = { 1, 3, 17, 64 };

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;

  for (size_t mi = 0; mi < 4; mi++) {
    size_t m = ms[mi];
    run_qkv(&c, dt, m, 32, 4, 2, 16, 16, false, 0, idx++);
    run_qkv(&c, dt, m, 40, 4, 4, 16, 8, true, 7, idx++);
    run_qkv(&c, dt, m, 24, 4, 1, 20, 10, false, 3, idx++);
    run_qkv(&c, dt, m, 33, 2, 1, 6, 6, true, 1, idx++);
  }
  tu_check_done(&c, "fused_qkv_rope %s %s: m 1/3/17/64, GQA/MQA, full and partial rotary, both "
                "layouts, pos", dn, isa);

  for (size_t mi = 0; mi < 4; mi++) {
    run_gus(&c, dt, ms[mi], 48, 24, idx++);
    run_gus(&c, dt, ms[mi], 19, 33, idx++);
    run_gus(&c, dt, ms[mi], 1, 1, idx++);
  }
  tu_check_done(&c, "fused_gate_up_swiglu %s %s: m 1/3/17/64, n x k 48x24, 19x33, 1x1", dn, isa);

  for (size_t mi = 0; mi < 4; mi++) {
    run_ffn(&c, dt, ms[mi], 24, 48, idx++, 0, RES_SEPARATE, 0);
    run_ffn(&c, dt, ms[mi], 33, 19, idx++, 0, RES_NULL, 0);
    run_ffn(&c, dt, ms[mi], 24, 36, idx++, 0, OUT_IS_RES, 0);
  }
  tu_check_done(&c, "fused_ffn %s %s: m 1/3/17/64, residual separate / NULL / aliased by out", dn,
                isa);

  for (size_t mi = 0; mi < 4; mi++) {
    run_ffn(&c, dt, ms[mi], 24, 48, idx++, 1, RES_SEPARATE, 1);
    run_ffn(&c, dt, ms[mi], 33, 19, idx++, 1, RES_SEPARATE, 0);
    run_ffn(&c, dt, ms[mi], 24, 36, idx++, 1, OUT_IS_RES, 0);
    run_ffn(&c, dt, ms[mi], 40, 24, idx++, 1, SUM_IS_RES, 1);
  }
  tu_check_done(&c, "fused_ffn_rmsnorm %s %s: m 1/3/17/64, sum_out NULL / separate / aliasing "
                "residual, out aliasing residual", dn, isa);

  for (int wb = 0; wb < 2; wb++) {
    for (size_t mi = 0; mi < 4; mi++) {
      run_lin_rms(&c, dt, ms[mi], 24, 40, idx++, wb, RES_SEPARATE, 1);
      run_lin_rms(&c, dt, ms[mi], 33, 17, idx++, wb, RES_SEPARATE, 0);
      run_lin_rms(&c, dt, ms[mi], 64, 64, idx++, wb, OUT_IS_RES, 0);
      run_lin_rms(&c, dt, ms[mi], 19, 130, idx++, wb, SUM_IS_RES, 1);
    }
    tu_check_done(&c, "%s %s %s: m 1/3/17/64, sum_out NULL / separate / aliasing residual, out "
                  "aliasing residual",
                  wb ? "fused_linear_bias_residual_rmsnorm" : "fused_linear_residual_rmsnorm", dn,
                  isa);
  }
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
