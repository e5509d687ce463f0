/* test_activation.c -- silu, gelu, relu, tanh, exp, swiglu
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, against the double reference:
 * n = 0..130 with offsets 0..3, large n (threaded path), several input
 * ranges per op (including the tails), out == x aliasing (out == gate / up
 * for swiglu), and special values.
 *
 * Tolerances for the f32 arithmetic (the store to f16/bf16 adds 1e-3 / 8e-3
 * relative, see tu_out_rtol):
 *  - exp:   rtol 3 * 2^-23 (library claims ~2 ulp), atol FLT_MIN (a result in
 *           the subnormal range may be 0 or a subnormal)
 *  - tanh:  rtol 4 * 2^-23 (claim ~3 ulp), atol FLT_MIN
 *  - silu:  rtol 5 * 2^-23 (claim ~4 ulp), atol FLT_MIN
 *  - gelu:  rtol 4e-6 * max(1, x^2/2) (claim 1e-6 for |x| < 5, growing as
 *           x^2/2 in the tail), atol FLT_MIN
 *  - relu:  exact (one f32 ulp allowed by the checker)
 *  - swiglu: rtol 6 * 2^-23, atol FLT_MIN * |up|
 * Special values: exp(+inf) = inf, exp(-inf) = 0, exp(NaN) = NaN, exp(89) = inf,
 * exp(+-88), exp(+-100), exp(+-1000); relu(NaN) = NaN; silu(-inf) = -0;
 * gelu(+inf) = inf, gelu(-inf) = 0; tanh(+-inf) = +-1 (all through ref.c).
 */
#include "testutil.h"
#include "ref.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OP_SILU, OP_GELU, OP_RELU, OP_TANH, OP_EXP };

typedef struct unop {
  const char *name;
  int id;
  double (*ref)(double);
  double rtol;      /* relative, f32 arithmetic (gelu: scaled by x^2/2) */
  double atol;
  double ranges[3][2];
} unop;

static const unop unops[] = {
  { "silu", OP_SILU, ref_silu1, 5 * 0x1p-23, FLT_MIN,
    { { -20, 20 }, { -1, 1 }, { -87, -20 } } },
  { "gelu", OP_GELU, ref_gelu1, 4e-6, FLT_MIN,
    { { -10, 10 }, { -1, 1 }, { -10, -5 } } },
  { "relu", OP_RELU, ref_relu1, 0, 0,
    { { -5, 5 }, { -1e-30, 1e-30 }, { -1e30, 1e30 } } },
  { "tanh", OP_TANH, ref_tanh1, 4 * 0x1p-23, FLT_MIN,
    { { -10, 10 }, { -1e-3, 1e-3 }, { -0.7, 0.7 } } },
  { "exp", OP_EXP, ref_exp1, 3 * 0x1p-23, FLT_MIN,
    { { -87, 88 }, { -1, 1 }, { -104, -87 } } },
};
#define N_UNOPS (sizeof unops / sizeof unops[0])

static const double specials[] = {
  0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-40, -1e-40, 1e-30, -1e-30, 0.5, -0.5,
  88.0, -88.0, 89.0, -89.0, 100.0, -100.0, 1000.0, -1000.0, 88.72, -87.3, -103.9,
  5.0, -5.0, 9.5, -9.5, 20.0, -20.0, 3e38, -3e38, 7e4, -7e4, 1e10, -1e10,
};
#define N_SPECIALS (sizeof specials / sizeof specials[0])

static const size_t large_n[] = { 4099, 65537, 131075 };

static gllmk_status call_un(int id, tu_dtype dt, const void *x, void *out, size_t n)
{
  switch (id) {
  case OP_SILU: return TU_CALL(dt, silu, x, out, n);
  case OP_GELU: return TU_CALL(dt, gelu, x, out, n);
  case OP_RELU: return TU_CALL(dt, relu, x, out, n);
  case OP_TANH: return TU_CALL(dt, tanh, x, out, n);
  case OP_EXP: return TU_CALL(dt, exp, x, out, n);
  }
  return GLLMK_E_INVAL;
}

static double un_tol(const unop *op, double x, double ref)
{
  double rtol = op->rtol;
  if (!isfinite(x) || !isfinite(ref))
    return op->atol; /* exact special values */
  if (op->id == OP_GELU && x * x / 2 > 1)
    rtol *= x * x / 2;
  return rtol * fabs(ref) + op->atol;
}

static void run_un(tu_check *c, const unop *op, tu_dtype dt, const double *vx, size_t n,
                   size_t offx, size_t offo, int alias)
{
  tu_arr x, o;
  tu_arr_alloc(&x, dt, n, offx);
  tu_arr_alloc(&o, dt, n, offo);
  tu_arr_set(&x, vx);
  double *ref = tu_dalloc(n), *got = tu_dalloc(n);
  for (size_t i = 0; i < n; i++)
    ref[i] = op->ref(x.v[i]);
  gllmk_status st = call_un(op->id, dt, x.p, alias ? x.p : o.p, n);
  if (tu_check_status(c, st, GLLMK_OK, "%s n=%zu alias=%d", op->name, n, alias)) {
    tu_arr_read(alias ? &x : &o, got);
    for (size_t i = 0; i < n; i++)
      tu_check_out(c, dt, got[i], ref[i], un_tol(op, x.v[i], ref[i]),
                   "%s(%.9g) n=%zu alias=%d [%zu]", op->name, x.v[i], n, alias, i);
  }
  tu_check_guards(c, &x, "x");
  tu_check_guards(c, &o, "out");
  if (alias)
    tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out buffer written", op->name);
  else
    tu_check_true(c, tu_arr_unchanged(&x), "%s: x modified", op->name);
  free(ref);
  free(got);
  tu_arr_free(&x);
  tu_arr_free(&o);
}

static void test_unary(const char *isa, tu_dtype dt, const unop *op)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  double lo = op->ranges[0][0], hi = op->ranges[0][1];

  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      double *v = tu_random_vec(n, lo, hi);
      run_un(&c, op, dt, v, n, off, (off + 1) % 4, 0);
      free(v);
    }
  tu_check_done(&c, "%s %s %s: n=0..130 in [%g, %g), offsets 0..3", op->name, dn, isa, lo, hi);

  for (int r = 0; r < 3; r++) {
    double *v = tu_random_vec(1031, op->ranges[r][0], op->ranges[r][1]);
    run_un(&c, op, dt, v, 1031, r, 3 - r, 0);
    free(v);
  }
  tu_check_done(&c, "%s %s %s: ranges [%g,%g) [%g,%g) [%g,%g)", op->name, dn, isa,
                op->ranges[0][0], op->ranges[0][1], op->ranges[1][0], op->ranges[1][1],
                op->ranges[2][0], op->ranges[2][1]);

  for (size_t i = 0; i < sizeof large_n / sizeof large_n[0]; i++) {
    double *v = tu_random_vec(large_n[i], lo, hi);
    run_un(&c, op, dt, v, large_n[i], i, i + 1, 0);
    free(v);
  }
  tu_check_done(&c, "%s %s %s: large n up to 131075", op->name, dn, isa);

  static const size_t an[] = { 1, 3, 8, 17, 64, 129, 4099, 65537 };
  for (size_t i = 0; i < sizeof an / sizeof an[0]; i++) {
    double *v = tu_random_vec(an[i], lo, hi);
    run_un(&c, op, dt, v, an[i], i % 4, 0, 1);
    free(v);
  }
  tu_check_done(&c, "%s %s %s: out == x", op->name, dn, isa);

  /* specials, twice over so that they land in vector bodies and tails */
  {
    size_t n = 2 * N_SPECIALS + 1;
    double *v = tu_dalloc(n);
    for (size_t i = 0; i < n; i++)
      v[i] = specials[i % N_SPECIALS];
    for (size_t off = 0; off < 4; off++)
      run_un(&c, op, dt, v, n - off, off, 0, off == 3);
    free(v);
    /* each special alone (n == 1: the scalar tail) */
    for (size_t i = 0; i < N_SPECIALS; i++)
      run_un(&c, op, dt, &specials[i], 1, i % 4, 0, 0);
  }
  tu_check_done(&c, "%s %s %s: special values (+-0, +-inf, NaN, subnormal, +-88/89/100/1000)",
                op->name, dn, isa);
}

/* ------------------------------------------------------------------ swiglu */
static void run_swiglu(tu_check *c, tu_dtype dt, const double *vg, const double *vu, size_t n,
                       size_t off, int alias)
{
  tu_arr g, u, o;
  tu_arr_alloc(&g, dt, n, off % 4);
  tu_arr_alloc(&u, dt, n, (off + 1) % 4);
  tu_arr_alloc(&o, dt, n, (off + 2) % 4);
  tu_arr_set(&g, vg);
  tu_arr_set(&u, vu);
  double *ref = tu_dalloc(n), *got = tu_dalloc(n);
  ref_swiglu(g.v, u.v, ref, n);
  tu_arr *out = alias == 1 ? &g : alias == 2 ? &u : &o;
  gllmk_status st = TU_CALL(dt, swiglu, g.p, u.p, out->p, n);
  if (tu_check_status(c, st, GLLMK_OK, "swiglu n=%zu alias=%d", n, alias)) {
    tu_arr_read(out, got);
    for (size_t i = 0; i < n; i++) {
      /* silu(gate) below FLT_MIN may be 0 (see exp), so times an infinite up
       * it may be NaN instead of +-inf */
      if (isinf(u.v[i]) && fabs(ref_silu1(g.v[i])) < FLT_MIN && isnan(got[i]))
        continue;
      tu_check_out(c, dt, got[i], ref[i],
                   isinf(u.v[i]) ? 0 : 6 * 0x1p-23 * fabs(ref[i]) + FLT_MIN * fabs(u.v[i]),
                   "swiglu(gate=%.9g, up=%.9g) n=%zu alias=%d [%zu]", g.v[i], u.v[i], n, alias,
                   i);
    }
  }
  tu_check_guards(c, &g, "gate");
  tu_check_guards(c, &u, "up");
  tu_check_guards(c, &o, "out");
  if (alias != 1)
    tu_check_true(c, tu_arr_unchanged(&g), "swiglu: gate modified");
  if (alias != 2)
    tu_check_true(c, tu_arr_unchanged(&u), "swiglu: up modified");
  if (alias)
    tu_check_true(c, tu_arr_unchanged(&o), "swiglu: unused out buffer written");
  free(ref);
  free(got);
  tu_arr_free(&g);
  tu_arr_free(&u);
  tu_arr_free(&o);
}

static void test_swiglu(const char *isa, tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      double *g = tu_random_vec(n, -20, 20), *u = tu_random_vec(n, -5, 5);
      run_swiglu(&c, dt, g, u, n, off, 0);
      free(g);
      free(u);
    }
  tu_check_done(&c, "swiglu %s %s: n=0..130, offsets 0..3", dn, isa);
  for (size_t i = 0; i < sizeof large_n / sizeof large_n[0]; i++) {
    double *g = tu_random_vec(large_n[i], -20, 20), *u = tu_random_vec(large_n[i], -5, 5);
    run_swiglu(&c, dt, g, u, large_n[i], i, 0);
    free(g);
    free(u);
  }
  tu_check_done(&c, "swiglu %s %s: large n up to 131075", dn, isa);
  static const size_t an[] = { 1, 9, 33, 130, 65537 };
  for (int alias = 1; alias <= 2; alias++)
    for (size_t i = 0; i < sizeof an / sizeof an[0]; i++) {
      double *g = tu_random_vec(an[i], -8, 8), *u = tu_random_vec(an[i], -5, 5);
      run_swiglu(&c, dt, g, u, an[i], i, alias);
      free(g);
      free(u);
    }
  tu_check_done(&c, "swiglu %s %s: out == gate, out == up", dn, isa);
  {
    static const double us[] = { 1.0, -2.0, 0.0, INFINITY, NAN, 1e-40 };
    size_t nu = sizeof us / sizeof us[0], n = N_SPECIALS * nu;
    double *g = tu_dalloc(n), *u = tu_dalloc(n);
    for (size_t i = 0; i < n; i++) {
      g[i] = specials[i % N_SPECIALS];
      u[i] = us[i / N_SPECIALS];
    }
    run_swiglu(&c, dt, g, u, n, 1, 0);
    free(g);
    free(u);
  }
  tu_check_done(&c, "swiglu %s %s: special values of gate x up", dn, isa);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  for (size_t i = 0; i < N_UNOPS; i++)
    test_unary(isa, dt, &unops[i]);
  test_swiglu(isa, dt);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
