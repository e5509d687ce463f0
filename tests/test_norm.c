/* test_norm.c -- softmax, rms_norm, layer_norm
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, against the double reference: rows
 * of n = 0..130 with offsets 0..3, large rows (threaded path), out == x,
 * shifted / wide / scaled data, and special rows.
 *
 * Tolerances (library claims ~1e-5 relative), rt = 1e-5 + 1e-6*sqrt(n):
 *  - softmax:    rt * |ref| + 2*FLT_MIN (subnormal probabilities)
 *  - rms_norm:   rt * |ref|
 *  - layer_norm: |gamma_i| * (rt*|norm_i| + 8*2^-24*(|x_i| + |mean|)/sigma)
 *                + rt*|beta_i|   (norm_i = (x_i - mean)/sigma; the second
 *                term is the unavoidable f32 rounding of x - mean)
 * plus the store to dt (f16 1e-3, bf16 8e-3 relative).
 */
#include "testutil.h"
#include "ref.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double rt(size_t n)
{
  return 1e-5 + 1e-6 * sqrt((double)(n ? n : 1));
}

/* ------------------------------------------------------------------ softmax */
static void run_softmax(tu_check *c, tu_dtype dt, const double *vx, size_t rows, size_t n,
                        size_t off, int alias)
{
  tu_arr x, o;
  tu_arr_alloc(&x, dt, rows * n, off % 4);
  tu_arr_alloc(&o, dt, rows * n, (off + 1) % 4);
  tu_arr_set(&x, vx);
  double *ref = tu_dalloc(rows * n), *got = tu_dalloc(rows * n);
  ref_softmax(x.v, ref, rows, n);
  tu_arr *out = alias ? &x : &o;
  gllmk_status st = TU_CALL(dt, softmax, x.p, out->p, rows, n);
  if (tu_check_status(c, st, GLLMK_OK, "softmax rows=%zu n=%zu", rows, n)) {
    tu_arr_read(out, got);
    for (size_t i = 0; i < rows * n; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], rt(n) * fabs(ref[i]) + 2 * FLT_MIN,
                        "softmax rows=%zu n=%zu alias=%d [%zu][%zu] x=%.9g", rows, n, alias,
                        i / n, i % n, x.v[i]))
        break;
  }
  tu_check_guards(c, &x, "x");
  tu_check_guards(c, &o, "out");
  tu_check_true(c, alias ? tu_arr_unchanged(&o) : tu_arr_unchanged(&x),
                alias ? "softmax: unused out written" : "softmax: x modified");
  free(ref);
  free(got);
  tu_arr_free(&x);
  tu_arr_free(&o);
}

/* A row containing +inf: the limit (1 at the inf, 0 elsewhere, shared among
 * several infs) or NaN are both accepted; anything else is wrong. */
static void run_softmax_posinf(tu_check *c, tu_dtype dt, size_t n, size_t ninf)
{
  double *v = tu_random_vec(n, -3, 3);
  for (size_t i = 0; i < ninf; i++)
    v[(i * 7) % n] = INFINITY;
  tu_arr x, o;
  tu_arr_alloc(&x, dt, n, 1);
  tu_arr_alloc(&o, dt, n, 2);
  tu_arr_set(&x, v);
  gllmk_status st = TU_CALL(dt, softmax, x.p, o.p, 1, n);
  if (tu_check_status(c, st, GLLMK_OK, "softmax with +inf n=%zu", n)) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      k += isinf(x.v[i]) != 0;
    int all_nan = 1, limit = 1;
    for (size_t i = 0; i < n; i++) {
      double g = tu_get(dt, o.p, i);
      all_nan &= isnan(g) != 0;
      double want = isinf(x.v[i]) ? 1.0 / (double)k : 0.0;
      limit &= fabs(g - want) <= 1e-3 * want + 1e-30;
    }
    tu_check_true(c, all_nan || limit,
                  "softmax row with %zu x +inf (n=%zu): neither all NaN nor the one-hot limit",
                  k, n);
  }
  tu_check_guards(c, &o, "out");
  free(v);
  tu_arr_free(&x);
  tu_arr_free(&o);
}

static void test_softmax(const char *isa, tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      size_t rows = 1 + off % 3;
      double *v = tu_random_vec(rows * n, -10, 10);
      run_softmax(&c, dt, v, rows, n, off, 0);
      free(v);
    }
  tu_check_done(&c, "softmax %s %s: rows 1..3 x n=0..130 in [-10,10), offsets 0..3", dn, isa);

  for (size_t n = 1; n <= 70; n += 3) {
    double *v = tu_random_vec(2 * n, 990, 1010); /* e^x overflows unless max-subtracted */
    run_softmax(&c, dt, v, 2, n, n, 0);
    free(v);
    v = tu_random_vec(2 * n, -1000, 1000);        /* most probabilities underflow */
    run_softmax(&c, dt, v, 2, n, n + 1, 0);
    free(v);
    v = tu_random_vec(2 * n, -90, -70);
    run_softmax(&c, dt, v, 2, n, n + 2, 0);
    free(v);
  }
  tu_check_done(&c, "softmax %s %s: shifted [990,1010), wide [-1000,1000), [-90,-70)", dn, isa);

  {
    static const size_t shapes[][2] = { { 2, 4099 }, { 1, 65537 }, { 300, 257 }, { 64, 1024 } };
    for (size_t i = 0; i < 4; i++) {
      double *v = tu_random_vec(shapes[i][0] * shapes[i][1], -10, 10);
      run_softmax(&c, dt, v, shapes[i][0], shapes[i][1], i, 0);
      free(v);
    }
  }
  tu_check_done(&c, "softmax %s %s: large (2x4099, 1x65537, 300x257, 64x1024)", dn, isa);

  for (size_t n = 1; n <= 130; n += 43) {
    double *v = tu_random_vec(3 * n, -10, 10);
    run_softmax(&c, dt, v, 3, n, n, 1);
    free(v);
  }
  {
    double *v = tu_random_vec(65537, -10, 10);
    run_softmax(&c, dt, v, 1, 65537, 1, 1);
    free(v);
  }
  tu_check_done(&c, "softmax %s %s: out == x", dn, isa);

  {
    double huge = dt == TU_F16 ? 60000.0 : 3e38;
    static const size_t ns[] = { 1, 5, 16, 17, 33, 100 };
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
      size_t n = ns[k];
      double *v = tu_random_vec(4 * n, -5, 5);
      /* row 0: a few -inf (probability 0); row 1: huge +- values (x - max
       * overflows to -inf); row 2: a NaN (row NaN); row 3: ordinary */
      for (size_t i = 0; i < n; i += 3)
        v[i] = -INFINITY;
      if (n == 1)
        v[0] = 2.0;
      v[n] = huge;
      if (n > 1)
        v[n + n - 1] = -huge;
      v[2 * n + n / 2] = NAN;
      run_softmax(&c, dt, v, 4, n, k, 0);
      free(v);
      run_softmax_posinf(&c, dt, n, 1);
      if (n > 2)
        run_softmax_posinf(&c, dt, n, 2);
    }
  }
  tu_check_done(&c, "softmax %s %s: rows with -inf, +inf, huge values, NaN", dn, isa);
}

/* ------------------------------------------------------------------ rms_norm */
static void run_rms(tu_check *c, tu_dtype dt, const double *vx, const double *vw, size_t rows,
                    size_t n, double eps, size_t off, int alias)
{
  tu_arr x, w, o;
  tu_arr_alloc(&x, dt, rows * n, off % 4);
  tu_arr_alloc(&w, dt, n, (off + 1) % 4);
  tu_arr_alloc(&o, dt, rows * n, (off + 2) % 4);
  tu_arr_set(&x, vx);
  tu_arr_set(&w, vw);
  double *ref = tu_dalloc(rows * n), *got = tu_dalloc(rows * n);
  ref_rms_norm(x.v, w.v, ref, rows, n, (float)eps);
  tu_arr *out = alias ? &x : &o;
  gllmk_status st = TU_CALL(dt, rms_norm, x.p, w.p, out->p, rows, n, (float)eps);
  if (tu_check_status(c, st, GLLMK_OK, "rms_norm rows=%zu n=%zu eps=%g", rows, n, eps)) {
    tu_arr_read(out, got);
    for (size_t i = 0; i < rows * n; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], rt(n) * fabs(ref[i]),
                        "rms_norm rows=%zu n=%zu eps=%g alias=%d [%zu][%zu] x=%.9g w=%.9g", rows,
                        n, eps, alias, i / n, i % n, x.v[i], w.v[i % n]))
        break;
  }
  tu_check_guards(c, &x, "x");
  tu_check_input(c, &w, "w");
  tu_check_guards(c, &o, "out");
  tu_check_true(c, alias ? tu_arr_unchanged(&o) : tu_arr_unchanged(&x),
                alias ? "rms_norm: unused out written" : "rms_norm: x modified");
  free(ref);
  free(got);
  tu_arr_free(&x);
  tu_arr_free(&w);
  tu_arr_free(&o);
}

static void test_rms(const char *isa, tu_dtype dt)
{
  static const double epss[] = { 1e-5, 1e-6, 0.0, 1.0 };
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      size_t rows = 1 + (n + off) % 3;
      double *x = tu_random_vec(rows * n, -2, 2), *w = tu_random_vec(n, -1.5, 1.5);
      run_rms(&c, dt, x, w, rows, n, epss[off], off, 0);
      free(x);
      free(w);
    }
  tu_check_done(&c, "rms_norm %s %s: rows 1..3 x n=0..130, eps 1e-5/1e-6/0/1, offsets", dn, isa);

  {
    double scales[3] = { 1e-3, 1e3, dt == TU_F16 ? 100.0 : 1e15 };
    for (size_t s = 0; s < 3; s++)
      for (size_t n = 3; n <= 100; n += 19) {
        double *x = tu_random_vec(2 * n, -2 * scales[s], 2 * scales[s]), *w = tu_random_vec(n, -1, 1);
        run_rms(&c, dt, x, w, 2, n, 1e-6, n + s, 0);
        free(x);
        free(w);
      }
  }
  tu_check_done(&c, "rms_norm %s %s: scaled rows (1e-3, 1e3, 1e15 or 100 for f16)", dn, isa);

  {
    static const size_t shapes[][2] = { { 2, 4099 }, { 1, 65537 }, { 300, 257 }, { 64, 1024 } };
    for (size_t i = 0; i < 4; i++) {
      size_t rows = shapes[i][0], n = shapes[i][1];
      double *x = tu_random_vec(rows * n, -2, 2), *w = tu_random_vec(n, -1.5, 1.5);
      run_rms(&c, dt, x, w, rows, n, 1e-5, i, 0);
      free(x);
      free(w);
    }
  }
  tu_check_done(&c, "rms_norm %s %s: large (2x4099, 1x65537, 300x257, 64x1024)", dn, isa);

  for (size_t n = 1; n <= 130; n += 43) {
    double *x = tu_random_vec(3 * n, -2, 2), *w = tu_random_vec(n, -1.5, 1.5);
    run_rms(&c, dt, x, w, 3, n, 1e-5, n, 1);
    free(x);
    free(w);
  }
  tu_check_done(&c, "rms_norm %s %s: out == x", dn, isa);

  {
    /* zero row (eps > 0: zeros), row with NaN (NaN row), row with inf */
    size_t n = 37;
    double *x = tu_random_vec(3 * n, -2, 2), *w = tu_random_vec(n, -1.5, 1.5);
    for (size_t i = 0; i < n; i++)
      x[i] = 0.0;
    x[n + 5] = NAN;
    x[2 * n + 36] = INFINITY;
    run_rms(&c, dt, x, w, 3, n, 1e-5, 0, 0);
    free(x);
    free(w);
  }
  tu_check_done(&c, "rms_norm %s %s: zero row, NaN row, inf row", dn, isa);
}

/* ------------------------------------------------------------------ layer_norm */
static void run_ln(tu_check *c, tu_dtype dt, const double *vx, const double *vg,
                   const double *vb, size_t rows, size_t n, double eps, size_t off, int alias)
{
  tu_arr x, g, b, o;
  tu_arr_alloc(&x, dt, rows * n, off % 4);
  tu_arr_alloc(&g, dt, n, (off + 1) % 4);
  tu_arr_alloc(&b, dt, n, (off + 2) % 4);
  tu_arr_alloc(&o, dt, rows * n, (off + 3) % 4);
  tu_arr_set(&x, vx);
  tu_arr_set(&g, vg);
  tu_arr_set(&b, vb);
  float epsf = (float)eps;
  double *ref = tu_dalloc(rows * n), *got = tu_dalloc(rows * n);
  ref_layer_norm(x.v, g.v, b.v, ref, rows, n, epsf);
  tu_arr *out = alias ? &x : &o;
  gllmk_status st = TU_CALL(dt, layer_norm, x.p, g.p, b.p, out->p, rows, n, epsf);
  if (tu_check_status(c, st, GLLMK_OK, "layer_norm rows=%zu n=%zu eps=%g", rows, n, eps)) {
    tu_arr_read(out, got);
    for (size_t r = 0; r < rows; r++) {
      const double *xr = x.v + r * n;
      double mu = ref_vec_sum(xr, n) / (double)n, var = 0;
      for (size_t i = 0; i < n; i++)
        var += (xr[i] - mu) * (xr[i] - mu);
      double sigma = sqrt(var / (double)n + epsf);
      int bad = 0;
      for (size_t i = 0; i < n && !bad; i++) {
        double norm = (xr[i] - mu) / sigma;
        double tol = fabs(g.v[i]) * (rt(n) * fabs(norm) + 8 * 0x1p-24 * (fabs(xr[i]) + fabs(mu)) / sigma)
                     + rt(n) * fabs(b.v[i]);
        bad = !tu_check_out(c, dt, got[r * n + i], ref[r * n + i], tol,
                            "layer_norm rows=%zu n=%zu eps=%g alias=%d [%zu][%zu] x=%.9g mean=%.9g",
                            rows, n, eps, alias, r, i, xr[i], mu);
      }
    }
  }
  tu_check_guards(c, &x, "x");
  tu_check_input(c, &g, "gamma");
  tu_check_input(c, &b, "beta");
  tu_check_guards(c, &o, "out");
  tu_check_true(c, alias ? tu_arr_unchanged(&o) : tu_arr_unchanged(&x),
                alias ? "layer_norm: unused out written" : "layer_norm: x modified");
  free(ref);
  free(got);
  tu_arr_free(&x);
  tu_arr_free(&g);
  tu_arr_free(&b);
  tu_arr_free(&o);
}

static void test_ln(const char *isa, tu_dtype dt)
{
  static const double epss[] = { 1e-5, 1e-12, 0.5, 1e-6 };
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  for (size_t n = 1; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      size_t rows = 1 + (n + off) % 3;
      double *x = tu_random_vec(rows * n, -2, 2), *g = tu_random_vec(n, -1.5, 1.5),
             *b = tu_random_vec(n, -1, 1);
      run_ln(&c, dt, x, g, b, rows, n, epss[off], off, 0);
      free(x);
      free(g);
      free(b);
    }
  {
    /* n == 0 and rows == 0: nothing to do */
    tu_arr o;
    tu_arr_alloc(&o, dt, 0, 0);
    gllmk_status st = TU_CALL(dt, layer_norm, NULL, NULL, NULL, o.p, 3, 0, 1e-5f);
    tu_check_status(&c, st, GLLMK_OK, "layer_norm rows=3 n=0");
    tu_check_guards(&c, &o, "out (n=0)");
    tu_arr_free(&o);
  }
  tu_check_done(&c, "layer_norm %s %s: rows 1..3 x n=0..130, eps 1e-5/1e-12/0.5/1e-6, offsets",
                dn, isa);

  for (size_t n = 2; n <= 130; n += 16)
    for (int k = 0; k < 2; k++) {
      /* mean far from 0: E[x^2] - mean^2 in f32 loses ~all digits of the variance */
      double shift = k ? 100.0 : -37.0;
      double *x = tu_random_vec(2 * n, shift - 1, shift + 1), *g = tu_random_vec(n, -1.5, 1.5),
             *b = tu_random_vec(n, -1, 1);
      run_ln(&c, dt, x, g, b, 2, n, 1e-5, n + k, 0);
      free(x);
      free(g);
      free(b);
    }
  tu_check_done(&c, "layer_norm %s %s: rows with mean 100 or -37 and spread 1", dn, isa);

  {
    static const size_t shapes[][2] = { { 2, 4099 }, { 1, 65537 }, { 300, 257 }, { 64, 1024 } };
    for (size_t i = 0; i < 4; i++) {
      size_t rows = shapes[i][0], n = shapes[i][1];
      double *x = tu_random_vec(rows * n, -2, 2), *g = tu_random_vec(n, -1.5, 1.5),
             *b = tu_random_vec(n, -1, 1);
      run_ln(&c, dt, x, g, b, rows, n, 1e-5, i, 0);
      free(x);
      free(g);
      free(b);
    }
  }
  tu_check_done(&c, "layer_norm %s %s: large (2x4099, 1x65537, 300x257, 64x1024)", dn, isa);

  for (size_t n = 1; n <= 130; n += 43) {
    double *x = tu_random_vec(3 * n, -2, 2), *g = tu_random_vec(n, -1.5, 1.5), *b = tu_random_vec(n, -1, 1);
    run_ln(&c, dt, x, g, b, 3, n, 1e-5, n, 1);
    free(x);
    free(g);
    free(b);
  }
  tu_check_done(&c, "layer_norm %s %s: out == x", dn, isa);

  {
    /* constant row (variance 0: out = beta), NaN row */
    size_t n = 45;
    double *x = tu_random_vec(2 * n, -2, 2), *g = tu_random_vec(n, -1.5, 1.5), *b = tu_random_vec(n, -1, 1);
    for (size_t i = 0; i < n; i++)
      x[i] = 100.25;
    x[n + 44] = NAN;
    run_ln(&c, dt, x, g, b, 2, n, 1e-5, 1, 0);
    free(x);
    free(g);
    free(b);
  }
  tu_check_done(&c, "layer_norm %s %s: constant row, NaN row", dn, isa);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_softmax(isa, dt);
  test_rms(isa, dt);
  test_ln(isa, dt);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
