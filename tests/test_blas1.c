/* test_blas1.c -- vec_dot/add/sub/mul/scale/axpy/sum/max/sum_squares
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, against the double reference:
 * lengths 0..130 with pointer offsets 0..3 elements, large lengths (the
 * threaded chunking path starts at 65536), aliasing where the contract allows
 * it, and special values (+-0, +-inf, NaN, subnormals, huge values); then
 * exactly summable inputs around the chunk boundaries (n = 65535, 65536,
 * 65537, 3*65536+1; 1 and 2 threads), compared exactly.
 *
 * Tolerances
 *  - reductions (dot, sum, sum_squares; float result): |got - ref| <=
 *    (1e-6*sqrt(n) + 2^-22) * sum|terms|  (tu_acc_eps), + 1 f32 ulp of ref.
 *  - vec_max: exact (NaN if any element is NaN).
 *  - add/sub/mul/scale: one f32 rounding (1 ulp) + the store to dt
 *    (f16 1e-3, bf16 8e-3 relative).
 *  - axpy: 2^-23 * (|y| + |a x|) (fma or not) + the store to dt.
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t large_n[] = { 1000, 4099, 65536, 65537, 131075 };
#define N_LARGE (sizeof large_n / sizeof large_n[0])

/* values that exercise IEEE corner cases (rounded to dt where used) */
static const double specials[] = {
  0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-40, -3e-42, 3e38, -3e38, 1.5,
};
#define N_SPECIALS (sizeof specials / sizeof specials[0])

static int same(double a, double b)
{
  return (isnan(a) && isnan(b)) || a == b;
}

/* ------------------------------------------------------------------ reductions */
typedef enum { R_DOT, R_SUM, R_MAX, R_SUMSQ } red_op;
static const char *red_name[] = { "vec_dot", "vec_sum", "vec_max", "vec_sum_squares" };

static gllmk_status call_red(red_op op, tu_dtype dt, const void *a, const void *b, size_t n,
                             float *r)
{
  switch (op) {
  case R_DOT: return TU_CALL(dt, vec_dot, a, b, n, r);
  case R_SUM: return TU_CALL(dt, vec_sum, a, n, r);
  case R_MAX: return TU_CALL(dt, vec_max, a, n, r);
  case R_SUMSQ: return TU_CALL(dt, vec_sum_squares, a, n, r);
  }
  return GLLMK_E_INVAL;
}

/* reference value and tolerance magnitude */
static double ref_red(red_op op, const double *a, const double *b, size_t n, double *mag)
{
  double *t = tu_dalloc(n);
  double r = 0;
  switch (op) {
  case R_DOT:
    r = ref_vec_dot(a, b, n);
    ref_vec_mul(a, b, t, n);
    break;
  case R_SUM:
    r = ref_vec_sum(a, n);
    memcpy(t, a, n * sizeof *t);
    break;
  case R_MAX:
    r = ref_vec_max(a, n);
    break;
  case R_SUMSQ:
    r = ref_vec_sum_squares(a, n);
    ref_vec_mul(a, a, t, n);
    break;
  }
  tu_dabs(t, t, n);
  *mag = 0;
  for (size_t i = 0; i < n; i++)
    *mag += t[i];
  free(t);
  return r;
}

/* one call + checks; a and b already filled */
static void run_red(tu_check *c, red_op op, tu_dtype dt, tu_arr *a, tu_arr *b, const char *what)
{
  size_t n = a->n;
  float r = -12345.0f;
  gllmk_status st = call_red(op, dt, a->p, op == R_DOT ? b->p : NULL, n, &r);
  if (!tu_check_status(c, st, GLLMK_OK, "%s n=%zu", what, n))
    return;
  double mag, ref = ref_red(op, a->v, op == R_DOT ? b->v : NULL, n, &mag);
  if (op == R_MAX)
    tu_check_true(c, same(r, ref), "%s n=%zu: got %.9g, expected exactly %.9g", what, n,
                  (double)r, ref);
  else
    tu_check_out(c, TU_F32, r, ref, tu_acc_eps(n) * mag, "%s n=%zu", what, n);
  tu_check_input(c, a, "a");
  if (op == R_DOT)
    tu_check_input(c, b, "b");
}

static void test_reduction(const char *isa, tu_dtype dt, red_op op)
{
  const char *nm = red_name[op];
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);

  /* small lengths x offsets */
  for (size_t n = (op == R_MAX); n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      tu_arr a, b;
      tu_arr_alloc(&a, dt, n, off);
      tu_arr_alloc(&b, dt, n, 3 - off);
      tu_arr_uniform(&a, -1, 1);
      tu_arr_uniform(&b, -1, 1);
      run_red(&c, op, dt, &a, &b, nm);
      tu_arr_free(&a);
      tu_arr_free(&b);
    }
  tu_check_done(&c, "%s %s %s: n=0..130, offsets 0..3", nm, dn, isa);

  /* large lengths, including the threaded path */
  for (size_t i = 0; i < N_LARGE; i++) {
    size_t n = large_n[i];
    tu_arr a, b;
    tu_arr_alloc(&a, dt, n, i % 4);
    tu_arr_alloc(&b, dt, n, (i + 1) % 4);
    tu_arr_uniform(&a, -1, 1);
    tu_arr_uniform(&b, -1, 1);
    run_red(&c, op, dt, &a, &b, nm);
    /* all positive (no cancellation: a tight relative test of the sum) */
    tu_arr_uniform(&a, 0.5, 1);
    tu_arr_uniform(&b, 0.5, 1);
    run_red(&c, op, dt, &a, &b, nm);
    tu_arr_free(&a);
    tu_arr_free(&b);
  }
  tu_check_done(&c, "%s %s %s: large n up to 131075", nm, dn, isa);

  /* one special value at the start, middle or end of the array */
  static const size_t sn[] = { 1, 8, 17, 37, 130 };
  for (size_t si = 0; si < N_SPECIALS; si++)
    for (size_t ni = 0; ni < sizeof sn / sizeof sn[0]; ni++) {
      size_t n = sn[ni];
      size_t pos[3] = { 0, n / 2, n - 1 };
      for (int pi = 0; pi < 3; pi++) {
        tu_arr a, b;
        double *va = tu_dalloc(n), *vb = tu_dalloc(n);
        for (size_t i = 0; i < n; i++) {
          va[i] = tu_uniform(-1, 1);
          vb[i] = tu_uniform(-1, 1);
        }
        va[pos[pi]] = specials[si];
        vb[pos[pi]] = pi == 1 ? 0.0 : 2.0; /* inf*0 = NaN, 0*NaN = NaN */
        tu_arr_alloc(&a, dt, n, pi);
        tu_arr_alloc(&b, dt, n, 0);
        tu_arr_set(&a, va);
        tu_arr_set(&b, vb);
        run_red(&c, op, dt, &a, &b, nm);
        tu_arr_free(&a);
        tu_arr_free(&b);
        free(va);
        free(vb);
      }
    }
  if (op == R_MAX) {
    /* all negative (an implementation starting from 0 fails), all -inf,
     * and a NaN at each position of each length 1..40 (SIMD max
     * instructions drop NaN operands unless handled) */
    for (size_t n = 1; n <= 40; n++) {
      tu_arr a;
      tu_arr_alloc(&a, dt, n, n % 4);
      tu_arr_uniform(&a, -9, -1);
      run_red(&c, op, dt, &a, NULL, "vec_max all negative");
      double *va = tu_dalloc(n);
      for (size_t i = 0; i < n; i++)
        va[i] = -INFINITY;
      tu_arr_set(&a, va);
      run_red(&c, op, dt, &a, NULL, "vec_max all -inf");
      for (size_t p = 0; p < n; p++) {
        for (size_t i = 0; i < n; i++)
          va[i] = tu_uniform(-5, 5);
        va[p] = NAN;
        tu_arr_set(&a, va);
        float r = 0;
        gllmk_status st = call_red(op, dt, a.p, NULL, n, &r);
        tu_check_true(&c, st == GLLMK_OK && isnan(r),
                      "vec_max with NaN at %zu of n=%zu: status %s, result %g", p, n,
                      tu_status_name(st), (double)r);
      }
      free(va);
      tu_arr_free(&a);
    }
  }
  tu_check_done(&c, "%s %s %s: special values (+-0, +-inf, NaN, subnormal, huge)", nm, dn,
                isa);
}

/* ------------------------------------------------------------------ add/sub/mul */
typedef enum { B_ADD, B_SUB, B_MUL } bin_op;
static const char *bin_name[] = { "vec_add", "vec_sub", "vec_mul" };

static gllmk_status call_bin(bin_op op, tu_dtype dt, const void *a, const void *b, void *out,
                             size_t n)
{
  switch (op) {
  case B_ADD: return TU_CALL(dt, vec_add, a, b, out, n);
  case B_SUB: return TU_CALL(dt, vec_sub, a, b, out, n);
  case B_MUL: return TU_CALL(dt, vec_mul, a, b, out, n);
  }
  return GLLMK_E_INVAL;
}

static void ref_bin(bin_op op, const double *a, const double *b, double *out, size_t n)
{
  switch (op) {
  case B_ADD: ref_vec_add(a, b, out, n); break;
  case B_SUB: ref_vec_sub(a, b, out, n); break;
  case B_MUL: ref_vec_mul(a, b, out, n); break;
  }
}

/* alias: 0 none, 1 out == a, 2 out == b, 3 a == b == out */
static void run_bin(tu_check *c, bin_op op, tu_dtype dt, const double *va, const double *vb,
                    size_t n, size_t offa, size_t offb, size_t offo, int alias)
{
  tu_arr a, b, o;
  tu_arr_alloc(&a, dt, n, offa);
  tu_arr_alloc(&b, dt, n, offb);
  tu_arr_alloc(&o, dt, n, offo);
  tu_arr_set(&a, va);
  tu_arr_set(&b, alias == 3 ? va : vb);
  double *ref = tu_dalloc(n), *got = tu_dalloc(n);
  ref_bin(op, a.v, b.v, ref, n);
  const void *pa = a.p, *pb = b.p;
  void *po = o.p;
  tu_arr *out = &o;
  if (alias == 1) { po = a.p; out = &a; }
  if (alias == 2) { po = b.p; out = &b; }
  if (alias == 3) { pa = a.p; pb = a.p; po = a.p; out = &a; }
  gllmk_status st = call_bin(op, dt, pa, pb, po, n);
  if (tu_check_status(c, st, GLLMK_OK, "%s n=%zu alias=%d", bin_name[op], n, alias)) {
    tu_arr_read(out, got);
    for (size_t i = 0; i < n; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], 0, "%s n=%zu alias=%d [%zu] a=%g b=%g",
                        bin_name[op], n, alias, i, a.v[i], alias == 3 ? a.v[i] : b.v[i]))
        break;
  }
  tu_check_guards(c, &a, "a");
  tu_check_guards(c, &b, "b");
  tu_check_guards(c, &o, "out");
  if (alias != 1 && alias != 3)
    tu_check_true(c, tu_arr_unchanged(&a), "%s: a modified", bin_name[op]);
  if (alias != 2 && alias != 3)
    tu_check_true(c, tu_arr_unchanged(&b), "%s: b modified", bin_name[op]);
  if (alias)
    tu_check_true(c, tu_arr_unchanged(&o), "%s: unused out buffer written", bin_name[op]);
  free(ref);
  free(got);
  tu_arr_free(&a);
  tu_arr_free(&b);
  tu_arr_free(&o);
}

static void random_pair(double **va, double **vb, size_t n, double lo, double hi)
{
  *va = tu_dalloc(n);
  *vb = tu_dalloc(n);
  for (size_t i = 0; i < n; i++) {
    (*va)[i] = tu_uniform(lo, hi);
    (*vb)[i] = tu_uniform(lo, hi);
  }
}

static void test_binary(const char *isa, tu_dtype dt, bin_op op)
{
  const char *nm = bin_name[op], *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  double *va, *vb;

  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      random_pair(&va, &vb, n, -4, 4);
      run_bin(&c, op, dt, va, vb, n, off, (off + 1) % 4, (off + 3) % 4, 0);
      free(va);
      free(vb);
    }
  tu_check_done(&c, "%s %s %s: n=0..130, offsets 0..3", nm, dn, isa);

  for (size_t i = 0; i < N_LARGE; i++) {
    random_pair(&va, &vb, large_n[i], -4, 4);
    run_bin(&c, op, dt, va, vb, large_n[i], 1, 2, 3, 0);
    free(va);
    free(vb);
  }
  tu_check_done(&c, "%s %s %s: large n up to 131075", nm, dn, isa);

  static const size_t an[] = { 1, 5, 16, 31, 64, 129, 4099, 65537 };
  for (int alias = 1; alias <= 3; alias++)
    for (size_t i = 0; i < sizeof an / sizeof an[0]; i++) {
      random_pair(&va, &vb, an[i], -4, 4);
      run_bin(&c, op, dt, va, vb, an[i], alias, 2 * alias % 4, 0, alias);
      free(va);
      free(vb);
    }
  tu_check_done(&c, "%s %s %s: out aliasing a, b, and a == b", nm, dn, isa);

  /* every pair of special values, laid out to cover vector bodies and tails */
  size_t n = N_SPECIALS * N_SPECIALS;
  va = tu_dalloc(n);
  vb = tu_dalloc(n);
  for (size_t i = 0; i < n; i++) {
    va[i] = specials[i % N_SPECIALS];
    vb[i] = specials[i / N_SPECIALS];
  }
  for (size_t off = 0; off < 4; off++)
    run_bin(&c, op, dt, va, vb, n, off, 0, off, 0);
  free(va);
  free(vb);
  tu_check_done(&c, "%s %s %s: all pairs of special values", nm, dn, isa);
}

/* ------------------------------------------------------------------ scale */
static void run_scale(tu_check *c, tu_dtype dt, const double *vx, size_t n, size_t off, double s)
{
  tu_arr x;
  tu_arr_alloc(&x, dt, n, off);
  tu_arr_set(&x, vx);
  double *ref = tu_dalloc(n), *got = tu_dalloc(n);
  memcpy(ref, x.v, n * sizeof *ref);
  ref_vec_scale(ref, (float)s, n);
  gllmk_status st = TU_CALL(dt, vec_scale, x.p, (float)s, n);
  if (tu_check_status(c, st, GLLMK_OK, "vec_scale n=%zu s=%g", n, s)) {
    tu_arr_read(&x, got);
    for (size_t i = 0; i < n; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], 0, "vec_scale n=%zu s=%g [%zu] x=%g", n, s, i,
                        x.v[i]))
        break;
  }
  tu_check_guards(c, &x, "x");
  free(ref);
  free(got);
  tu_arr_free(&x);
}

static void test_scale(const char *isa, tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      double *v = tu_random_vec(n, -4, 4);
      run_scale(&c, dt, v, n, off, tu_uniform(-3, 3));
      free(v);
    }
  tu_check_done(&c, "vec_scale %s %s: n=0..130, offsets 0..3", dn, isa);
  for (size_t i = 0; i < N_LARGE; i++) {
    double *v = tu_random_vec(large_n[i], -4, 4);
    run_scale(&c, dt, v, large_n[i], i % 4, -1.75);
    free(v);
  }
  tu_check_done(&c, "vec_scale %s %s: large n up to 131075", dn, isa);
  {
    static const double ss[] = { -1.0, 2.5, 1e30, INFINITY, NAN };
    size_t n = N_SPECIALS * 3;
    double *v = tu_dalloc(n);
    for (size_t i = 0; i < n; i++)
      v[i] = specials[i % N_SPECIALS];
    for (size_t k = 0; k < sizeof ss / sizeof ss[0]; k++)
      run_scale(&c, dt, v, n, k % 4, ss[k]);
    free(v);
    /* s = 0 on finite data gives zeros */
    v = tu_random_vec(77, -4, 4);
    run_scale(&c, dt, v, 77, 1, 0.0);
    free(v);
  }
  tu_check_done(&c, "vec_scale %s %s: special values and scale factors", dn, isa);
}

/* ------------------------------------------------------------------ axpy */
static void run_axpy(tu_check *c, tu_dtype dt, const double *vy, const double *vx, size_t n,
                     size_t offy, size_t offx, double a, int alias)
{
  tu_arr y, x;
  tu_arr_alloc(&y, dt, n, offy);
  tu_arr_alloc(&x, dt, n, offx);
  tu_arr_set(&y, vy);
  tu_arr_set(&x, alias ? vy : vx);
  double af = (float)a;
  double *ref = tu_dalloc(n), *got = tu_dalloc(n);
  memcpy(ref, y.v, n * sizeof *ref);
  ref_vec_axpy(ref, af, x.v, n);
  gllmk_status st = TU_CALL(dt, vec_axpy, y.p, (float)a, alias ? y.p : x.p, n);
  if (tu_check_status(c, st, GLLMK_OK, "vec_axpy n=%zu alias=%d", n, alias)) {
    tu_arr_read(&y, got);
    for (size_t i = 0; i < n; i++) {
      double tol = 0x1p-23 * (fabs(y.v[i]) + fabs(af * x.v[i]));
      if (!tu_check_out(c, dt, got[i], ref[i], tol, "vec_axpy n=%zu alias=%d a=%g [%zu] y=%g x=%g",
                        n, alias, af, i, y.v[i], x.v[i]))
        break;
    }
  }
  tu_check_guards(c, &y, "y");
  tu_check_input(c, &x, "x");
  free(ref);
  free(got);
  tu_arr_free(&y);
  tu_arr_free(&x);
}

static void test_axpy(const char *isa, tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  double *vy, *vx;
  for (size_t n = 0; n <= TU_NMAX_SMALL; n++)
    for (size_t off = 0; off < 4; off++) {
      random_pair(&vy, &vx, n, -4, 4);
      run_axpy(&c, dt, vy, vx, n, off, 3 - off, tu_uniform(-2, 2), 0);
      free(vy);
      free(vx);
    }
  tu_check_done(&c, "vec_axpy %s %s: n=0..130, offsets 0..3", dn, isa);
  for (size_t i = 0; i < N_LARGE; i++) {
    random_pair(&vy, &vx, large_n[i], -4, 4);
    run_axpy(&c, dt, vy, vx, large_n[i], 1, 2, 0.625, 0);
    free(vy);
    free(vx);
  }
  tu_check_done(&c, "vec_axpy %s %s: large n up to 131075", dn, isa);
  static const size_t an[] = { 1, 7, 33, 130, 65537 };
  for (size_t i = 0; i < sizeof an / sizeof an[0]; i++) {
    random_pair(&vy, &vx, an[i], -4, 4);
    run_axpy(&c, dt, vy, vx, an[i], i % 4, 0, -0.5, 1);
    free(vy);
    free(vx);
  }
  {
    size_t n = N_SPECIALS * N_SPECIALS;
    vy = tu_dalloc(n);
    vx = tu_dalloc(n);
    for (size_t i = 0; i < n; i++) {
      /* |huge| 1e38 so that a*x does not overflow when y + a*x does not */
      vy[i] = specials[i % N_SPECIALS];
      vx[i] = specials[i / N_SPECIALS];
      if (fabs(vy[i]) == 3e38)
        vy[i] /= 3;
      if (fabs(vx[i]) == 3e38)
        vx[i] /= 3;
    }
    run_axpy(&c, dt, vy, vx, n, 1, 2, 1.0, 0);
    run_axpy(&c, dt, vy, vx, n, 0, 3, -2.0, 0);
    free(vy);
    free(vx);
  }
  tu_check_done(&c, "vec_axpy %s %s: x == y aliasing and special values", dn, isa);
}

/* ------------------------------------------------------------------ chunk boundaries */
/* The reductions split n > 65536 into chunks of 65536 (GLLMK_RED_CHUNK in
 * lib/core/ops.c: a multiple of 64 of at least 65536 elements) summed in a
 * fixed order across threads, and the elementwise ops split across threads
 * at multiples of 1024.  Around those seams the random tests above are too
 * loose to see one element dropped or counted twice, so these inputs are
 * exactly summable: small integers (every product and every partial sum an
 * integer below 2^24, exact in f32 whatever the order; every input exact in
 * f16 and bf16), compared exactly.  Boundary element j (index 0, n-1, and
 * k*65536-1, k*65536 inside the array) is 2^(3+j), a value no sum of the
 * other elements can mimic, so a dropped one also names itself. */
#define BND_CHUNK ((size_t)1 << 16)
#define BND_MAXP 16

static const size_t bnd_n[] = { BND_CHUNK - 1, BND_CHUNK, BND_CHUNK + 1, 3 * BND_CHUNK + 1 };
#define N_BND (sizeof bnd_n / sizeof bnd_n[0])

/* the boundary positions of n, ascending */
static size_t bnd_positions(size_t n, size_t *pos)
{
  size_t np = 0;
  pos[np++] = 0;
  for (size_t k = BND_CHUNK; k < n; k += BND_CHUNK) {
    pos[np++] = k - 1;
    pos[np++] = k;
  }
  if (pos[np - 1] != n - 1)
    pos[np++] = n - 1;
  return np;
}

/* v[i] a uniform integer in [lo, hi] */
static void rand_ints(double *v, size_t n, int lo, int hi)
{
  for (size_t i = 0; i < n; i++)
    v[i] = lo + (double)tu_rand_below((size_t)(hi - lo + 1));
}

/* after a mismatch of a sum: which boundary element the difference is */
static void bnd_explain(double diff, const double *contrib, const size_t *pos, size_t np)
{
  for (size_t j = 0; j < np; j++) {
    if (diff == -contrib[j])
      diag("  the difference is element %zu (boundary %zu): dropped?", pos[j], j);
    else if (diff == contrib[j])
      diag("  the difference is element %zu (boundary %zu): counted twice?", pos[j], j);
  }
}

/* the arrays of one length, filled once, shared by every op and thread count */
typedef struct bnd {
  tu_dtype dt;
  size_t n, np, pos[BND_MAXP];
  double *va, *vb;
  tu_arr a, b, o;
  int nthreads;
} bnd;

/* one exact sum (dot, sum, sum_squares) of the data in B->a, B->b */
static void bnd_sum(tu_check *c, const bnd *B, red_op op)
{
  const char *nm = red_name[op];
  double ref = 0, contrib[BND_MAXP];
  for (size_t i = 0; i < B->n; i++)
    ref += op == R_DOT ? B->va[i] * B->vb[i] : op == R_SUM ? B->va[i] : B->va[i] * B->va[i];
  for (size_t j = 0; j < B->np; j++) {
    double v = B->va[B->pos[j]];
    contrib[j] = op == R_DOT ? v * B->vb[B->pos[j]] : op == R_SUM ? v : v * v;
  }
  float r = -12345.0f;
  gllmk_status st = call_red(op, B->dt, B->a.p, op == R_DOT ? B->b.p : NULL, B->n, &r);
  if (tu_check_status(c, st, GLLMK_OK, "%s n=%zu threads=%d", nm, B->n, B->nthreads) &&
      !tu_check_true(c, (double)r == ref, "%s n=%zu threads=%d: got %.9g, expected exactly %.9g",
                     nm, B->n, B->nthreads, (double)r, ref))
    bnd_explain((double)r - ref, contrib, B->pos, B->np);
  tu_check_input(c, &B->a, "a");
  if (op == R_DOT)
    tu_check_input(c, &B->b, "b");
}

typedef enum { E_ADD, E_SUB, E_MUL, E_SCALE, E_AXPY } ew_op;
static const char *ew_name[] = { "vec_add", "vec_sub", "vec_mul", "vec_scale", "vec_axpy" };
#define N_EW 5
#define BND_SCALE (-2.0)
#define BND_ALPHA 3.0

/* one elementwise op on B->a, B->b (restored from their snapshots first) */
static void bnd_ew(tu_check *c, bnd *B, ew_op op)
{
  const char *nm = ew_name[op];
  tu_dtype dt = B->dt;
  size_t n = B->n;
  memcpy(B->a.p, B->a.snap, n * tu_esize(dt));
  tu_arr_poison(&B->o);
  gllmk_status st = GLLMK_E_INVAL;
  tu_arr *out = &B->o;
  switch (op) {
  case E_ADD: st = call_bin(B_ADD, dt, B->a.p, B->b.p, B->o.p, n); break;
  case E_SUB: st = call_bin(B_SUB, dt, B->a.p, B->b.p, B->o.p, n); break;
  case E_MUL: st = call_bin(B_MUL, dt, B->a.p, B->b.p, B->o.p, n); break;
  case E_SCALE: st = TU_CALL(dt, vec_scale, B->a.p, (float)BND_SCALE, n); out = &B->a; break;
  case E_AXPY: st = TU_CALL(dt, vec_axpy, B->a.p, (float)BND_ALPHA, B->b.p, n); out = &B->a; break;
  }
  if (tu_check_status(c, st, GLLMK_OK, "%s n=%zu threads=%d", nm, n, B->nthreads)) {
    size_t bad = 0, first = 0;
    double got_first = 0, want_first = 0;
    const double *va = B->va, *vb = B->vb;
    for (size_t i = 0; i < n; i++) {
      double want = op == E_ADD ? va[i] + vb[i] : op == E_SUB ? va[i] - vb[i]
                    : op == E_MUL ? va[i] * vb[i] : op == E_SCALE ? BND_SCALE * va[i]
                    : va[i] + BND_ALPHA * vb[i];
      double got = tu_get(dt, out->p, i);
      if (got != want && bad++ == 0)
        first = i, got_first = got, want_first = want;
    }
    tu_check_true(c, bad == 0, "%s n=%zu threads=%d: %zu of %zu elements differ; first [%zu]: "
                  "got %.9g, expected exactly %.9g", nm, n, B->nthreads, bad, n, first, got_first,
                  want_first);
  }
  tu_check_guards(c, &B->a, "a");
  tu_check_guards(c, &B->o, "out");
  if (out != &B->a)
    tu_check_input(c, &B->a, "a");
  tu_check_input(c, &B->b, "b");
}

/* fill B->a, B->b from B->va, B->vb; every value must be exact in dt */
static void bnd_set(tu_check *c, bnd *B, const char *what)
{
  tu_arr_set(&B->a, B->va);
  tu_arr_set(&B->b, B->vb);
  int exact = 1;
  for (size_t i = 0; i < B->n; i++)
    exact &= B->a.v[i] == B->va[i] && B->b.v[i] == B->vb[i];
  tu_check_true(c, exact, "%s n=%zu: the inputs are not exact in %s", what, B->n,
                tu_dtname(B->dt));
}

static void test_boundaries(const char *isa, tu_dtype dt)
{
  static const red_op sums[] = { R_DOT, R_SUM, R_SUMSQ };
  tu_check cs[3], cmax, ce[N_EW];
  for (int k = 0; k < 3; k++)
    tu_check_init(&cs[k]);
  tu_check_init(&cmax);
  for (int k = 0; k < N_EW; k++)
    tu_check_init(&ce[k]);

  for (size_t ni = 0; ni < N_BND; ni++) {
    bnd B;
    B.dt = dt;
    B.n = bnd_n[ni];
    B.np = bnd_positions(B.n, B.pos);
    B.va = tu_dalloc(B.n);
    B.vb = tu_dalloc(B.n);
    tu_arr_alloc(&B.a, dt, B.n, 1);
    tu_arr_alloc(&B.b, dt, B.n, 2);
    tu_arr_alloc(&B.o, dt, B.n, 3);

    /* sums: integers in [-3, 3]; boundary j: a = 2^(3+j), b = 1 */
    rand_ints(B.va, B.n, -3, 3);
    rand_ints(B.vb, B.n, -3, 3);
    for (size_t j = 0; j < B.np; j++) {
      B.va[B.pos[j]] = ldexp(1.0, 3 + (int)j);
      B.vb[B.pos[j]] = 1.0;
    }
    bnd_set(&cs[0], &B, "sums");
    for (B.nthreads = 1; B.nthreads <= 2; B.nthreads++) {
      gllmk_set_num_threads(B.nthreads);
      for (int k = 0; k < 3; k++)
        bnd_sum(&cs[k], &B, sums[k]);
    }

    /* max: integers in [-8, -1], and 0.5 at one boundary at a time */
    rand_ints(B.va, B.n, -8, -1);
    bnd_set(&cmax, &B, "vec_max");
    for (size_t j = 0; j < B.np; j++) {
      size_t p = B.pos[j];
      tu_put(dt, B.a.p, p, 0.5);
      tu_arr_snapshot(&B.a);
      for (B.nthreads = 1; B.nthreads <= 2; B.nthreads++) {
        gllmk_set_num_threads(B.nthreads);
        float r = -12345.0f;
        gllmk_status st = call_red(R_MAX, dt, B.a.p, NULL, B.n, &r);
        if (tu_check_status(&cmax, st, GLLMK_OK, "vec_max n=%zu threads=%d", B.n, B.nthreads))
          tu_check_true(&cmax, r == 0.5f, "vec_max n=%zu threads=%d: the maximum 0.5 is element "
                        "%zu, got %.9g", B.n, B.nthreads, p, (double)r);
        tu_check_input(&cmax, &B.a, "x");
      }
      tu_put(dt, B.a.p, p, B.va[p]);
    }

    /* elementwise: integers in [-15, 15], a = 16 and b = -16 at the
     * boundaries: every result (|a op b| <= 256, |a + 3 b| <= 64) is exact
     * in f16 and bf16 */
    rand_ints(B.va, B.n, -15, 15);
    rand_ints(B.vb, B.n, -15, 15);
    for (size_t j = 0; j < B.np; j++) {
      B.va[B.pos[j]] = 16;
      B.vb[B.pos[j]] = -16;
    }
    bnd_set(&ce[0], &B, "elementwise");
    for (B.nthreads = 1; B.nthreads <= 2; B.nthreads++) {
      gllmk_set_num_threads(B.nthreads);
      for (int k = 0; k < N_EW; k++)
        bnd_ew(&ce[k], &B, (ew_op)k);
    }
    gllmk_set_num_threads(0);

    tu_arr_free(&B.a);
    tu_arr_free(&B.b);
    tu_arr_free(&B.o);
    free(B.va);
    free(B.vb);
  }

  const char *dn = tu_dtname(dt);
  for (int k = 0; k < 3; k++)
    tu_check_done(&cs[k], "%s %s %s: exact at the 65536 chunk boundaries (n=65535..196609, 1 "
                  "and 2 threads)", red_name[sums[k]], dn, isa);
  tu_check_done(&cmax, "vec_max %s %s: the maximum at each chunk boundary (n=65535..196609, 1 "
                "and 2 threads)", dn, isa);
  for (int k = 0; k < N_EW; k++)
    tu_check_done(&ce[k], "%s %s %s: exact at n=65535..196609, 1 and 2 threads", ew_name[k], dn,
                  isa);
}

/* ------------------------------------------------------------------ driver */
static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_reduction(isa, dt, R_DOT);
  test_binary(isa, dt, B_ADD);
  test_binary(isa, dt, B_SUB);
  test_binary(isa, dt, B_MUL);
  test_scale(isa, dt);
  test_axpy(isa, dt);
  test_reduction(isa, dt, R_SUM);
  test_reduction(isa, dt, R_MAX);
  test_reduction(isa, dt, R_SUMSQ);
  test_boundaries(isa, dt);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
