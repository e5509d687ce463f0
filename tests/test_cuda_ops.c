/* test_cuda_ops.c -- the CUDA backend's Table A float ops against the double reference
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (the whole program is one TAP skip when it
 * says GLLMK_E_NO_DEVICE; in `make check` it runs on the emulated driver
 * selected by GLLMK_CUDA_DRIVER, so every kernel runs in the execution
 * harness), and for f32/f16/bf16 through gllmk_backend_ops_<dt>(be):
 *  - BLAS-1, activations: n = 0..130 with element offsets 0..3 chosen per n
 *    (so inputs and outputs are sometimes congruent mod 16 and sometimes
 *    not: vector and scalar paths), n = 1000, 4099, 20011, 65537 (reductions
 *    of 1 to 33 blocks); out == input aliasing; special values (NaN, +-inf, +-0,
 *    subnormals, huge values);
 *  - gemv: shapes with m or n zero, small rows (several rows per warp), rows
 *    split into segments (m small, n >= 1024), odd n (unaligned rows);
 *  - softmax, rms_norm, layer_norm: warp rows (n <= 1024), block rows
 *    (n = 1025, 4099) and split rows (at most 32 rows of n > 8192: 16411,
 *    65537, 9000, 32 x 8193, 20000), -inf / NaN / inf rows and chunks, rows
 *    around a large mean, out == x; the split path's workspace query and
 *    its determinism (the same call twice, the same bits);
 *  - rope, rope_with_pos: interleaved and not, rotary_dim < head_dim, odd
 *    head_dim, pos > 0;
 *  - embedding_lookup: the inline id check (n_ids <= 256) and the check
 *    kernel (one and two blocks), 16-byte and element copies, a bad id at the
 *    end or in the middle (out unchanged);
 *  - bad input: a buffer of another backend, a range past a buffer's end, a
 *    misaligned element pointer, sizes that overflow, bad shapes and eps, no
 *    backend, a too small workspace: each returns its error and leaves memory
 *    unchanged;
 *  - a graph: a sequence of ops recorded once, replayed on new inputs.
 * Inputs and outputs live in device buffers that mirror a tu_arr whole
 * (guards included), so the guards and the inputs are checked after each op.
 * Tolerances are those of the CPU tests (test_blas1.c, test_activation.c,
 * test_norm.c, test_rope.c); the kernels use the CPU's algorithms.
 */
#include "testutil.h"
#include "ref.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gllmk_backend *be;

/* one op of the table of dt, on be */
#define OPS(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(be)->op(be, __VA_ARGS__)                             \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(be)->op(be, __VA_ARGS__)                             \
                    : gllmk_backend_ops_bf16(be)->op(be, __VA_ARGS__))
/* its workspace query */
#define WS(dt, op, ...) OPS(dt, op##_workspace_bytes, __VA_ARGS__)

/* workspace reserved once for every op of this test */
#define WS_RESERVED ((size_t)1 << 20)

/* ------------------------------------------------------------------ device mirrors */

/* a float result in device memory, with guards */
typedef struct dres {
  tu_arr a;
  tu_dv d;
} dres;

static void dres_init(dres *r)
{
  tu_arr_alloc(&r->a, TU_F32, 1, 0);
  tu_dv_up(be, &r->d, &r->a);
}

static float dres_get(dres *r)
{
  tu_dv_down(&r->d);
  return ((float *)r->a.p)[0];
}

static void dres_free(dres *r)
{
  tu_dv_free(&r->d);
  tu_arr_free(&r->a);
}

/* the query said no more than the reserved workspace */
static void check_ws(tu_check *c, gllmk_status st, size_t bytes, const char *what)
{
  tu_check_status(c, st, GLLMK_OK, "%s workspace query", what);
  tu_check_true(c, bytes <= WS_RESERVED, "%s workspace %zu > reserved", what, bytes);
}

static int same(double a, double b)
{
  return (isnan(a) && isnan(b)) || a == b;
}

static double *random_vec(size_t n, double lo, double hi)
{
  double *v = tu_dalloc(n);
  for (size_t i = 0; i < n; i++)
    v[i] = tu_uniform(lo, hi);
  return v;
}

static const size_t large_n[] = { 1000, 4099, 20011, 65537 };
#define N_LARGE (sizeof large_n / sizeof large_n[0])

/* the n to test: 0..130, then large_n */
#define N_SIZES (TU_NMAX_SMALL + 1 + N_LARGE)
static size_t size_at(size_t i)
{
  return i <= TU_NMAX_SMALL ? i : large_n[i - TU_NMAX_SMALL - 1];
}

/* ------------------------------------------------------------------ BLAS-1 elementwise */
enum { E_ADD, E_SUB, E_MUL, E_SCALE, E_AXPY, E_SILU, E_GELU, E_RELU, E_TANH, E_EXP, E_SWIGLU };
static const char *ew_name[] = { "vec_add", "vec_sub", "vec_mul", "vec_scale", "vec_axpy",
                                 "silu", "gelu", "relu", "tanh", "exp", "swiglu" };
#define N_EW 11

static gllmk_status ew_call(int op, tu_dtype dt, void *a, void *b, void *out, size_t n, float s)
{
  switch (op) {
  case E_ADD: return OPS(dt, vec_add, a, b, out, n);
  case E_SUB: return OPS(dt, vec_sub, a, b, out, n);
  case E_MUL: return OPS(dt, vec_mul, a, b, out, n);
  case E_SCALE: return OPS(dt, vec_scale, out, s, n);
  case E_AXPY: return OPS(dt, vec_axpy, out, s, b, n);
  case E_SILU: return OPS(dt, silu, a, out, n);
  case E_GELU: return OPS(dt, gelu, a, out, n);
  case E_RELU: return OPS(dt, relu, a, out, n);
  case E_TANH: return OPS(dt, tanh, a, out, n);
  case E_EXP: return OPS(dt, exp, a, out, n);
  case E_SWIGLU: return OPS(dt, swiglu, a, b, out, n);
  }
  return GLLMK_E_INVAL;
}

static gllmk_status ew_ws(int op, tu_dtype dt, size_t n, size_t *bytes)
{
  switch (op) {
  case E_ADD: return WS(dt, vec_add, n, bytes);
  case E_SUB: return WS(dt, vec_sub, n, bytes);
  case E_MUL: return WS(dt, vec_mul, n, bytes);
  case E_SCALE: return WS(dt, vec_scale, n, bytes);
  case E_AXPY: return WS(dt, vec_axpy, n, bytes);
  case E_SILU: return WS(dt, silu, n, bytes);
  case E_GELU: return WS(dt, gelu, n, bytes);
  case E_RELU: return WS(dt, relu, n, bytes);
  case E_TANH: return WS(dt, tanh, n, bytes);
  case E_EXP: return WS(dt, exp, n, bytes);
  case E_SWIGLU: return WS(dt, swiglu, n, bytes);
  }
  return GLLMK_E_INVAL;
}

/* reference of element i and its tolerance for the f32 arithmetic */
static double ew_ref(int op, double a, double b, double o, double s, double *tol)
{
  double r = 0, rt = 0x1p-23, at = 0;
  switch (op) {
  case E_ADD: r = a + b; break;
  case E_SUB: r = a - b; break;
  case E_MUL: r = a * b; break;
  case E_SCALE: r = o * s; break;
  case E_AXPY: r = o + s * b; rt = 0; at = 0x1p-23 * (fabs(o) + fabs(s * b)); break;
  case E_SILU: r = ref_silu1(a); rt = 5 * 0x1p-23; at = FLT_MIN; break;
  case E_GELU: r = ref_gelu1(a); rt = 4e-6 * (a * a / 2 > 1 ? a * a / 2 : 1); at = FLT_MIN; break;
  case E_RELU: r = ref_relu1(a); break;
  case E_TANH: r = ref_tanh1(a); rt = 4 * 0x1p-23; at = FLT_MIN; break;
  case E_EXP: r = ref_exp1(a); rt = 3 * 0x1p-23; at = FLT_MIN; break;
  case E_SWIGLU: r = ref_silu1(a) * b; rt = 6 * 0x1p-23; at = FLT_MIN * fabs(b); break;
  }
  *tol = isfinite(r) && isfinite(a) ? rt * fabs(r) + at : at;
  return r;
}

/* one call: a, b inputs (b for binary ops), o the output (the in/out array
 * of scale/axpy); alias: out is a (unary/binary ops) */
static void ew_run(tu_check *c, int op, tu_dtype dt, tu_arr *a, tu_arr *b, tu_arr *o, float s,
                   int alias)
{
  size_t n = a->n, bytes = 1;
  check_ws(c, ew_ws(op, dt, n, &bytes), bytes, ew_name[op]);
  tu_arr_snapshot(o);   /* o may hold an earlier call's result */
  tu_dv da, db, dox;
  tu_dv_up(be, &da, a);
  tu_dv_up(be, &db, b);
  tu_dv_up(be, &dox, o);
  void *out = alias ? da.p : dox.p;
  gllmk_status st = ew_call(op, dt, da.p, db.p, out, n, s);
  if (tu_check_status(c, st, GLLMK_OK, "%s n=%zu alias=%d", ew_name[op], n, alias)) {
    tu_dv_down(&da);
    tu_dv_down(&db);
    tu_dv_down(&dox);
    tu_arr *res = alias ? a : o;
    double *got = tu_dalloc(n);
    tu_arr_read(res, got);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
      double tol, ref = ew_ref(op, a->v[i], b->v[i], o->v[i], s, &tol);
      bad = !tu_check_out(c, dt, got[i], ref, tol, "%s n=%zu alias=%d [%zu] a=%.9g b=%.9g",
                          ew_name[op], n, alias, i, a->v[i], b->v[i]);
    }
    free(got);
    tu_check_guards(c, a, "a");
    tu_check_guards(c, o, "out");
    tu_check_input(c, b, "b");
    if (!alias && op != E_SCALE && op != E_AXPY)
      tu_check_input(c, a, "a");
    if (alias)
      tu_check_input(c, o, "out (unused)");
  }
  tu_dv_free(&da);
  tu_dv_free(&db);
  tu_dv_free(&dox);
}

static void test_elementwise(tu_dtype dt)
{
  static const double specials[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-40, -3e-42, 1e-30, -1e-30, 0.5, -0.5, 88.0, -88.0,
    89.0, -100.0, 1000.0, -1000.0, 88.72, -103.9, 5.0, -5.0, 9.5, -9.5, 20.0, -20.0, 3e38,
    -3e38, 7e4, -7e4,
  };
  const size_t ns = sizeof specials / sizeof specials[0];
  const char *dn = tu_dtname(dt);
  for (int op = 0; op < N_EW; op++) {
    tu_check c;
    tu_check_init(&c);
    double lo = op == E_EXP ? -87 : op == E_GELU || op == E_TANH ? -10 : -4, hi = -lo;
    if (op == E_EXP)
      hi = 88;
    for (size_t si = 0; si < N_SIZES; si++) {
      size_t n = size_at(si);
      /* offsets: all equal (vector path), or mixed (scalar path) */
      size_t oa = n % 4, ob = (n % 3 == 0) ? oa : (n / 4) % 4, oo = (n % 5 == 0) ? (oa + 1) % 4 : oa;
      tu_arr a, b, o;
      tu_arr_alloc(&a, dt, n, oa);
      tu_arr_alloc(&b, dt, n, ob);
      tu_arr_alloc(&o, dt, n, oo);
      tu_arr_uniform(&a, lo, hi);
      tu_arr_uniform(&b, lo, hi);
      if (op == E_SCALE || op == E_AXPY)
        tu_arr_uniform(&o, lo, hi);
      float s = (float)tu_uniform(-3, 3);
      ew_run(&c, op, dt, &a, &b, &o, s, 0);
      if (n % 7 == 1 && op != E_SCALE && op != E_AXPY) {
        tu_arr_uniform(&a, lo, hi);
        ew_run(&c, op, dt, &a, &b, &o, s, 1);
      }
      tu_arr_free(&a);
      tu_arr_free(&b);
      tu_arr_free(&o);
    }
    /* special values in a (and, for binary ops, in b against random values) */
    {
      size_t n = ns * 2;
      double *va = tu_dalloc(n), *vb = tu_dalloc(n), *vo = tu_dalloc(n);
      for (size_t i = 0; i < n; i++) {
        va[i] = i < ns ? specials[i] : tu_uniform(-2, 2);
        vb[i] = i < ns ? tu_uniform(-2, 2) : specials[i - ns];
        vo[i] = specials[(i * 7) % ns];
      }
      tu_arr a, b, o;
      tu_arr_alloc(&a, dt, n, 1);
      tu_arr_alloc(&b, dt, n, 1);
      tu_arr_alloc(&o, dt, n, 1);
      tu_arr_set(&a, va);
      tu_arr_set(&b, vb);
      tu_arr_set(&o, vo);
      ew_run(&c, op, dt, &a, &b, &o, op == E_SCALE ? 0.5f : 1.5f, 0);
      tu_arr_free(&a);
      tu_arr_free(&b);
      tu_arr_free(&o);
      free(va);
      free(vb);
      free(vo);
    }
    tu_check_done(&c, "%s %s: n=0..130, 1000, 4099, 20011, 65537, offsets, aliasing, specials",
                  ew_name[op], dn);
  }
}

/* ------------------------------------------------------------------ reductions */
enum { R_DOT, R_SUM, R_MAX, R_SUMSQ };
static const char *red_name[] = { "vec_dot", "vec_sum", "vec_max", "vec_sum_squares" };

static gllmk_status red_call(int op, tu_dtype dt, void *a, void *b, size_t n, void *r)
{
  switch (op) {
  case R_DOT: return OPS(dt, vec_dot, a, b, n, r);
  case R_SUM: return OPS(dt, vec_sum, a, n, r);
  case R_MAX: return OPS(dt, vec_max, a, n, r);
  case R_SUMSQ: return OPS(dt, vec_sum_squares, a, n, r);
  }
  return GLLMK_E_INVAL;
}

static gllmk_status red_ws(int op, tu_dtype dt, size_t n, size_t *bytes)
{
  switch (op) {
  case R_DOT: return WS(dt, vec_dot, n, bytes);
  case R_SUM: return WS(dt, vec_sum, n, bytes);
  case R_MAX: return WS(dt, vec_max, n, bytes);
  case R_SUMSQ: return WS(dt, vec_sum_squares, n, bytes);
  }
  return GLLMK_E_INVAL;
}

/* the float result of one call (NAN with a failed check when the call fails) */
static float red_run(tu_check *c, int op, tu_dtype dt, tu_arr *a, tu_arr *b)
{
  size_t n = a->n, bytes = 1;
  check_ws(c, red_ws(op, dt, n, &bytes), bytes, red_name[op]);
  tu_dv da, db;
  dres r;
  tu_dv_up(be, &da, a);
  tu_dv_up(be, &db, b);
  dres_init(&r);
  float got = NAN;
  gllmk_status st = red_call(op, dt, da.p, db.p, n, r.d.p);
  if (tu_check_status(c, st, GLLMK_OK, "%s n=%zu", red_name[op], n)) {
    got = dres_get(&r);
    tu_check_guards(c, &r.a, "result");
    tu_dv_down(&da);
    tu_dv_down(&db);
    tu_check_input(c, a, "a");
    tu_check_input(c, b, "b");
  }
  tu_dv_free(&da);
  tu_dv_free(&db);
  dres_free(&r);
  return got;
}

static void red_check(tu_check *c, int op, tu_dtype dt, tu_arr *a, tu_arr *b)
{
  size_t n = a->n;
  float got = red_run(c, op, dt, a, b);
  double ref = 0, mag = 0;
  for (size_t i = 0; i < n; i++) {
    double t = op == R_DOT ? a->v[i] * b->v[i] : op == R_SUMSQ ? a->v[i] * a->v[i] : a->v[i];
    mag += fabs(t);
  }
  switch (op) {
  case R_DOT: ref = ref_vec_dot(a->v, b->v, n); break;
  case R_SUM: ref = ref_vec_sum(a->v, n); break;
  case R_MAX: ref = ref_vec_max(a->v, n); break;
  case R_SUMSQ: ref = ref_vec_sum_squares(a->v, n); break;
  }
  if (op == R_MAX)
    tu_check_true(c, same(got, ref), "%s n=%zu: got %.9g, expected %.9g", red_name[op], n,
                  (double)got, ref);
  else
    tu_check_out(c, TU_F32, got, ref, tu_acc_eps(n) * mag, "%s n=%zu", red_name[op], n);
}

static void test_reductions(tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  for (int op = 0; op < 4; op++) {
    tu_check c;
    tu_check_init(&c);
    for (size_t si = op == R_MAX; si < N_SIZES; si++) {
      size_t n = size_at(si);
      tu_arr a, b;
      tu_arr_alloc(&a, dt, n, n % 4);
      tu_arr_alloc(&b, dt, n, n % 3 ? n % 4 : (n + 1) % 4);
      tu_arr_uniform(&a, -1, 1);
      tu_arr_uniform(&b, -1, 1);
      red_check(&c, op, dt, &a, &b);
      if (n > TU_NMAX_SMALL) {   /* all positive: a tight test of the sum */
        tu_arr_uniform(&a, 0.5, 1);
        tu_arr_uniform(&b, 0.5, 1);
        red_check(&c, op, dt, &a, &b);
      }
      tu_arr_free(&a);
      tu_arr_free(&b);
    }
    if (op != R_MAX) {   /* n == 0 with NULL inputs: 0 */
      dres r;
      dres_init(&r);
      gllmk_status st = red_call(op, dt, NULL, NULL, 0, r.d.p);
      if (tu_check_status(&c, st, GLLMK_OK, "%s n=0, NULL inputs", red_name[op]))
        tu_check_true(&c, dres_get(&r) == 0.0f, "%s n=0, NULL inputs: not 0", red_name[op]);
      dres_free(&r);
    }
    tu_check_done(&c, "%s %s: n=0..130, 1000, 4099, 20011, 65537, offsets", red_name[op], dn);

    /* one special value at the start, middle or end; large n: several blocks */
    static const double sp[] = { NAN, INFINITY, -INFINITY, -0.0, 3e38, 1e-40 };
    static const size_t sn[] = { 1, 37, 130, 4099 };
    for (size_t k = 0; k < sizeof sp / sizeof sp[0]; k++)
      for (size_t ni = 0; ni < sizeof sn / sizeof sn[0]; ni++) {
        size_t n = sn[ni], pos[3] = { 0, n / 2, n - 1 };
        for (int p = 0; p < 3; p++) {
          tu_arr a, b;
          tu_arr_alloc(&a, dt, n, p);
          tu_arr_alloc(&b, dt, n, p);
          double *va = random_vec(n, -1, 1);
          va[pos[p]] = sp[k];
          tu_arr_set(&a, va);
          tu_arr_uniform(&b, -1, 1);
          red_check(&c, op, dt, &a, &b);
          free(va);
          tu_arr_free(&a);
          tu_arr_free(&b);
        }
      }
    tu_check_done(&c, "%s %s: NaN, inf, -0, huge, subnormal at start/middle/end", red_name[op], dn);

    /* deterministic: the same input twice gives the same bits */
    {
      size_t n = 20011;
      tu_arr a, b;
      tu_arr_alloc(&a, dt, n, 0);
      tu_arr_alloc(&b, dt, n, 0);
      tu_arr_uniform(&a, -1, 1);
      tu_arr_uniform(&b, -1, 1);
      float r1 = red_run(&c, op, dt, &a, &b), r2 = red_run(&c, op, dt, &a, &b);
      tu_check_true(&c, !memcmp(&r1, &r2, sizeof r1), "%s: %.9g then %.9g", red_name[op],
                    (double)r1, (double)r2);
      tu_arr_free(&a);
      tu_arr_free(&b);
    }
    tu_check_done(&c, "%s %s: same result twice", red_name[op], dn);
  }
}

/* ------------------------------------------------------------------ gemv */
static void gemv_run(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t off)
{
  size_t bytes = 1;
  check_ws(c, WS(dt, gemv, m, n, &bytes), bytes, "gemv");
  tu_arr A, x, y;
  tu_arr_alloc(&A, dt, m * n, off % 4);
  tu_arr_alloc(&x, dt, n, (off / 4) % 4);
  tu_arr_alloc(&y, dt, m, (off + 1) % 4);
  tu_arr_uniform(&A, -1, 1);
  tu_arr_uniform(&x, -1, 1);
  tu_dv dA, dx, dy;
  tu_dv_up(be, &dA, &A);
  tu_dv_up(be, &dx, &x);
  tu_dv_up(be, &dy, &y);
  gllmk_status st = OPS(dt, gemv, dA.p, dx.p, dy.p, m, n);
  if (tu_check_status(c, st, GLLMK_OK, "gemv m=%zu n=%zu", m, n)) {
    tu_dv_down(&dA);
    tu_dv_down(&dx);
    tu_dv_down(&dy);
    double *ref = tu_dalloc(m), *got = tu_dalloc(m);
    ref_gemv(A.v, x.v, ref, m, n);
    tu_arr_read(&y, got);
    int bad = 0;
    for (size_t i = 0; i < m && !bad; i++) {
      double mag = 0;
      for (size_t j = 0; j < n; j++)
        mag += fabs(A.v[i * n + j] * x.v[j]);
      bad = !tu_check_out(c, dt, got[i], ref[i], tu_acc_eps(n) * mag, "gemv m=%zu n=%zu off=%zu [%zu]",
                          m, n, off, i);
    }
    free(ref);
    free(got);
    tu_check_input(c, &A, "A");
    tu_check_input(c, &x, "x");
    tu_check_guards(c, &y, "y");
  }
  tu_dv_free(&dA);
  tu_dv_free(&dx);
  tu_dv_free(&dy);
  tu_arr_free(&A);
  tu_arr_free(&x);
  tu_arr_free(&y);
}

static void test_gemv(tu_dtype dt)
{
  static const size_t shapes[][2] = {
    /* m, n */
    { 0, 5 }, { 5, 0 }, { 1, 1 }, { 3, 7 }, { 2, 8 }, { 33, 64 }, { 17, 130 }, { 300, 96 },
    { 64, 257 }, { 1, 1030 }, { 7, 2051 }, { 3, 4096 }, { 40, 1536 }, { 9, 5000 },
    { 2500, 40 }, { 2, 30011 },
  };
  tu_check c;
  tu_check_init(&c);
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (size_t off = 0; off < 2; off++)
      gemv_run(&c, dt, shapes[i][0], shapes[i][1], off ? i % 16 : 0);
  tu_check_done(&c, "gemv %s: m, n 0..5000, split rows, odd n, offsets", tu_dtname(dt));
}

/* ------------------------------------------------------------------ row-wise */
enum { W_SOFTMAX, W_RMS, W_LAYER };
static const char *row_name[] = { "softmax", "rms_norm", "layer_norm" };

static double rt(size_t n)
{
  return 1e-5 + 1e-6 * sqrt((double)(n ? n : 1));
}

static void rows_run(tu_check *c, int op, tu_dtype dt, const double *vx, size_t rows, size_t n,
                     size_t off, int alias)
{
  float eps = 1e-5f;
  size_t bytes = 1;
  gllmk_status wst = op == W_SOFTMAX ? WS(dt, softmax, rows, n, &bytes)
                     : op == W_RMS   ? WS(dt, rms_norm, rows, n, &bytes)
                                     : WS(dt, layer_norm, rows, n, &bytes);
  check_ws(c, wst, bytes, row_name[op]);
  tu_arr x, w, b, o;
  tu_arr_alloc(&x, dt, rows * n, off % 4);
  tu_arr_alloc(&w, dt, n, (off + 1) % 4);
  tu_arr_alloc(&b, dt, n, (off + 2) % 4);
  tu_arr_alloc(&o, dt, rows * n, (off / 4) % 4);
  tu_arr_set(&x, vx);
  tu_arr_uniform(&w, -1.5, 1.5);
  tu_arr_uniform(&b, -1, 1);
  tu_dv dx, dw, db, dout;
  tu_dv_up(be, &dx, &x);
  tu_dv_up(be, &dw, &w);
  tu_dv_up(be, &db, &b);
  tu_dv_up(be, &dout, &o);
  void *out = alias ? dx.p : dout.p;
  gllmk_status st = op == W_SOFTMAX ? OPS(dt, softmax, dx.p, out, rows, n)
                    : op == W_RMS   ? OPS(dt, rms_norm, dx.p, dw.p, out, rows, n, eps)
                                    : OPS(dt, layer_norm, dx.p, dw.p, db.p, out, rows, n, eps);
  if (tu_check_status(c, st, GLLMK_OK, "%s rows=%zu n=%zu", row_name[op], rows, n)) {
    tu_dv_down(&dx);
    tu_dv_down(&dw);
    tu_dv_down(&db);
    tu_dv_down(&dout);
    double *ref = tu_dalloc(rows * n), *got = tu_dalloc(rows * n);
    if (op == W_SOFTMAX)
      ref_softmax(x.v, ref, rows, n);
    else if (op == W_RMS)
      ref_rms_norm(x.v, w.v, ref, rows, n, eps);
    else
      ref_layer_norm(x.v, w.v, b.v, ref, rows, n, eps);
    tu_arr_read(alias ? &x : &o, got);
    int bad = 0;
    for (size_t r = 0; r < rows && !bad; r++) {
      const double *xr = x.v + r * n;
      double mu = ref_vec_sum(xr, n) / (double)n, var = 0;
      for (size_t i = 0; i < n; i++)
        var += (xr[i] - mu) * (xr[i] - mu);
      double sigma = sqrt(var / (double)n + eps);
      for (size_t i = 0; i < n && !bad; i++) {
        size_t k = r * n + i;
        double tol = op == W_SOFTMAX ? rt(n) * fabs(ref[k]) + 2 * FLT_MIN
                     : op == W_RMS   ? rt(n) * fabs(ref[k])
                                     : fabs(w.v[i]) * (rt(n) * fabs((xr[i] - mu) / sigma) +
                                                       8 * 0x1p-24 * (fabs(xr[i]) + fabs(mu)) / sigma) +
                                         rt(n) * fabs(b.v[i]);
        bad = !tu_check_out(c, dt, got[k], ref[k], tol, "%s rows=%zu n=%zu alias=%d [%zu][%zu] x=%.9g",
                            row_name[op], rows, n, alias, r, i, xr[i]);
      }
    }
    free(ref);
    free(got);
    tu_check_guards(c, &x, "x");
    tu_check_guards(c, &o, "out");
    tu_check_input(c, &w, "w");
    tu_check_input(c, &b, "b");
    tu_check_true(c, alias ? tu_arr_unchanged(&o) : tu_arr_unchanged(&x),
                  alias ? "%s: unused out written" : "%s: x modified", row_name[op]);
  }
  tu_dv_free(&dx);
  tu_dv_free(&dw);
  tu_dv_free(&db);
  tu_dv_free(&dout);
  tu_arr_free(&x);
  tu_arr_free(&w);
  tu_arr_free(&b);
  tu_arr_free(&o);
}

/* the split path (at most 32 rows longer than 8192): the workspace query
 * asks for the partials; the same call twice gives the same bits */
static void rows_twice(tu_check *c, int op, tu_dtype dt, size_t rows, size_t n)
{
  float eps = 1e-5f;
  size_t bytes = 0;
  gllmk_status wst = op == W_SOFTMAX ? WS(dt, softmax, rows, n, &bytes)
                     : op == W_RMS   ? WS(dt, rms_norm, rows, n, &bytes)
                                     : WS(dt, layer_norm, rows, n, &bytes);
  check_ws(c, wst, bytes, row_name[op]);
  tu_check_true(c, bytes >= rows * 2 * sizeof(float), "%s rows=%zu n=%zu: workspace %zu, no split?",
                row_name[op], rows, n, bytes);
  tu_arr x, w, b, o[2];
  tu_arr_alloc(&x, dt, rows * n, 1);
  tu_arr_alloc(&w, dt, n, 0);
  tu_arr_alloc(&b, dt, n, 0);
  tu_arr_uniform(&x, -3, 3);
  tu_arr_uniform(&w, -1.5, 1.5);
  tu_arr_uniform(&b, -1, 1);
  tu_dv dx, dw, db, dout[2];
  tu_dv_up(be, &dx, &x);
  tu_dv_up(be, &dw, &w);
  tu_dv_up(be, &db, &b);
  for (int k = 0; k < 2; k++) {
    tu_arr_alloc(&o[k], dt, rows * n, 1);
    tu_dv_up(be, &dout[k], &o[k]);
    void *out = dout[k].p;
    gllmk_status st = op == W_SOFTMAX ? OPS(dt, softmax, dx.p, out, rows, n)
                      : op == W_RMS   ? OPS(dt, rms_norm, dx.p, dw.p, out, rows, n, eps)
                                      : OPS(dt, layer_norm, dx.p, dw.p, db.p, out, rows, n, eps);
    tu_check_status(c, st, GLLMK_OK, "%s rows=%zu n=%zu (call %d)", row_name[op], rows, n, k + 1);
    tu_dv_down(&dout[k]);
  }
  tu_check_true(c, !memcmp(o[0].p, o[1].p, rows * n * tu_esize(dt)),
                "%s rows=%zu n=%zu: two calls gave different bits", row_name[op], rows, n);
  for (int k = 0; k < 2; k++) {
    tu_dv_free(&dout[k]);
    tu_arr_free(&o[k]);
  }
  tu_dv_free(&dx);
  tu_dv_free(&dw);
  tu_dv_free(&db);
  tu_arr_free(&x);
  tu_arr_free(&w);
  tu_arr_free(&b);
}

static void test_rows(tu_dtype dt)
{
  static const size_t shapes[][2] = {
    /* rows, n */
    { 0, 4 }, { 3, 0 }, { 1, 1 }, { 2, 2 }, { 9, 7 }, { 3, 31 }, { 5, 33 }, { 4, 64 },
    { 2, 130 }, { 17, 100 }, { 2, 1024 }, { 2, 1025 }, { 1, 4099 }, { 3, 2048 }, { 1, 16411 },
    { 2, 65537 }, { 70, 200 },
  };
  const char *dn = tu_dtname(dt);
  for (int op = 0; op < 3; op++) {
    tu_check c;
    tu_check_init(&c);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
      size_t rows = shapes[i][0], n = shapes[i][1];
      double *x = random_vec(rows * n, op == W_SOFTMAX ? -10 : -2, op == W_SOFTMAX ? 10 : 2);
      rows_run(&c, op, dt, x, rows, n, i, 0);
      if (i % 3 == 0)
        rows_run(&c, op, dt, x, rows, n, i + 1, 1);
      free(x);
    }
    tu_check_done(&c, "%s %s: warp, block and split rows, offsets, out == x",
                  row_name[op], dn);

    /* special rows: all -inf, a NaN, an inf, a zero row, huge values */
    {
      size_t n = 37, rows = 5;
      double *x = random_vec(rows * n, -2, 2);
      for (size_t i = 0; i < n; i++)
        x[i] = op == W_SOFTMAX ? -INFINITY : 0.0;
      x[n + 5] = NAN;
      x[2 * n + 36] = INFINITY;
      x[3 * n + 1] = -INFINITY;
      for (size_t i = 0; i < n; i++)
        x[4 * n + i] = op == W_SOFTMAX ? 60 + i : 1e3 * (i + 1);
      rows_run(&c, op, dt, x, rows, n, 0, 0);
      free(x);
    }
    tu_check_done(&c, "%s %s: -inf/zero, NaN, inf, -inf, large rows", row_name[op], dn);

    /* long rows (the split softmax: chunks of 4096): a row of -inf, a row
     * whose first chunk and a half are -inf, a NaN in a later chunk, a huge
     * value in the last chunk */
    {
      size_t n = 9000, rows = 4;
      double *x = random_vec(rows * n, -10, 10);
      for (size_t i = 0; i < n; i++)
        x[i] = op == W_SOFTMAX ? -INFINITY : 0.0;
      for (size_t i = 0; i < 6000; i++)
        x[n + i] = -INFINITY;
      x[2 * n + 5000] = NAN;
      x[3 * n + 8999] = op == W_SOFTMAX ? 80.0 : 1e4;
      rows_run(&c, op, dt, x, rows, n, 3, 0);
      rows_run(&c, op, dt, x, rows, n, 5, 1);
      free(x);
    }
    tu_check_done(&c, "%s %s: long rows with -inf chunks, NaN, a huge value", row_name[op], dn);

    /* split rows: 32 rows of the shortest split length (chunks of 1032, the
     * last one shorter) from an unaligned x; rows around a large mean (the
     * chunks' centred sums combined), out == x; the workspace query and the
     * same bits from two calls; 33 rows or n = 8192 take the one-pass path */
    {
      double *x = random_vec(32 * 8193, -2, 2);
      rows_run(&c, op, dt, x, 32, 8193, 1, 0);
      free(x);
      size_t n = 20000, rows = 3;
      x = random_vec(rows * n, -1, 1);
      for (size_t i = 0; i < rows * n; i++)
        x[i] += op == W_SOFTMAX ? 50 : 1000;
      rows_run(&c, op, dt, x, rows, n, 2, 0);
      rows_run(&c, op, dt, x, rows, n, 0, 1);
      free(x);
      rows_twice(&c, op, dt, 2, 30000);
      size_t bytes = 1;
      gllmk_status st = op == W_SOFTMAX ? WS(dt, softmax, 33, 8193, &bytes)
                        : op == W_RMS   ? WS(dt, rms_norm, 32, 8192, &bytes)
                                        : WS(dt, layer_norm, 33, 100000, &bytes);
      tu_check_status(&c, st, GLLMK_OK, "%s workspace query", row_name[op]);
      tu_check_true(&c, bytes == 0, "%s: one-pass shape needs %zu bytes of workspace", row_name[op],
                    bytes);
    }
    tu_check_done(&c, "%s %s: split rows: 32 x 8193, a large mean, out == x, determinism, "
                  "workspace", row_name[op], dn);
  }
}

/* ------------------------------------------------------------------ rope */
static void rope_run(tu_check *c, tu_dtype dt, size_t seq, size_t heads, size_t hd, size_t rd,
                     bool il, size_t pos, int with_pos)
{
  size_t half = rd / 2, bytes = 1;
  gllmk_status wst = with_pos ? WS(dt, rope_with_pos, seq, heads, hd, rd, il, pos, &bytes)
                              : WS(dt, rope, seq, heads, hd, rd, il, &bytes);
  check_ws(c, wst, bytes, "rope");
  tu_arr qk, cs, sn;
  tu_arr_alloc(&qk, dt, seq * heads * hd, (seq + hd) % 4);
  tu_arr_alloc(&cs, dt, (pos + seq) * half, heads % 4);
  tu_arr_alloc(&sn, dt, (pos + seq) * half, (heads + 1) % 4);
  tu_arr_uniform(&qk, -2, 2);
  double *vc = tu_dalloc(cs.n), *vs = tu_dalloc(sn.n);
  for (size_t i = 0; i < cs.n; i++) {
    double th = tu_uniform(-3.2, 3.2);
    vc[i] = cos(th);
    vs[i] = sin(th);
  }
  tu_arr_set(&cs, vc);
  tu_arr_set(&sn, vs);
  tu_dv dq, dc, ds;
  tu_dv_up(be, &dq, &qk);
  tu_dv_up(be, &dc, &cs);
  tu_dv_up(be, &ds, &sn);
  gllmk_status st = with_pos ? OPS(dt, rope_with_pos, dq.p, dc.p, ds.p, seq, heads, hd, rd, il, pos)
                             : OPS(dt, rope, dq.p, dc.p, ds.p, seq, heads, hd, rd, il);
  if (tu_check_status(c, st, GLLMK_OK, "rope seq=%zu heads=%zu hd=%zu rd=%zu il=%d pos=%zu", seq,
                      heads, hd, rd, il, pos)) {
    tu_dv_down(&dq);
    tu_dv_down(&dc);
    tu_dv_down(&ds);
    double *ref = tu_dalloc(qk.n), *got = tu_dalloc(qk.n);
    memcpy(ref, qk.v, qk.n * sizeof *ref);
    ref_rope_with_pos(ref, cs.v, sn.v, seq, heads, hd, rd, il, pos);
    tu_arr_read(&qk, got);
    int bad = 0;
    for (size_t t = 0; t < seq && !bad; t++)
      for (size_t h = 0; h < heads && !bad; h++)
        for (size_t d = 0; d < hd && !bad; d++) {
          size_t idx = (t * heads + h) * hd + d, base = idx - d;
          if (d >= rd) {
            bad = !tu_check_true(c, got[idx] == qk.v[idx] || (isnan(got[idx]) && isnan(qk.v[idx])),
                                 "rope hd=%zu rd=%zu: dim %zu changed", hd, rd, d);
            continue;
          }
          size_t i = il ? d / 2 : d % half, da = il ? 2 * i : i, db = il ? 2 * i + 1 : i + half;
          size_t row = (pos + t) * half + i;
          double tol = 0x1p-22 * (fabs(qk.v[base + da] * cs.v[row]) + fabs(qk.v[base + db] * sn.v[row]));
          bad = !tu_check_out(c, dt, got[idx], ref[idx], tol,
                              "rope seq=%zu heads=%zu hd=%zu rd=%zu il=%d pos=%zu t=%zu h=%zu d=%zu",
                              seq, heads, hd, rd, il, pos, t, h, d);
        }
    free(ref);
    free(got);
    tu_check_guards(c, &qk, "qk");
    tu_check_input(c, &cs, "cos");
    tu_check_input(c, &sn, "sin");
  }
  tu_dv_free(&dq);
  tu_dv_free(&dc);
  tu_dv_free(&ds);
  free(vc);
  free(vs);
  tu_arr_free(&qk);
  tu_arr_free(&cs);
  tu_arr_free(&sn);
}

static void test_rope(tu_dtype dt)
{
  static const size_t dims[][2] = {
    /* head_dim, rotary_dim */
    { 2, 2 }, { 3, 2 }, { 5, 4 }, { 8, 0 }, { 16, 8 }, { 20, 20 }, { 34, 34 }, { 64, 32 },
    { 128, 128 }, { 130, 130 }, { 128, 2 }, { 256, 192 },
  };
  tu_check c;
  tu_check_init(&c);
  size_t k = 0;
  for (int wp = 0; wp < 2; wp++)
    for (int il = 0; il < 2; il++)
      for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++, k++) {
        size_t seq = 1 + k % 5, heads = 1 + (k / 3) % 4, pos = wp ? (k * 7) % 19 : 0;
        rope_run(&c, dt, seq, heads, dims[di][0], dims[di][1], il != 0, pos, wp);
      }
  rope_run(&c, dt, 0, 3, 8, 8, false, 2, 1);
  rope_run(&c, dt, 3, 0, 8, 8, true, 0, 0);
  tu_check_done(&c, "rope, rope_with_pos %s: interleaved and not, rotary_dim < head_dim, pos",
                tu_dtname(dt));
}

/* ------------------------------------------------------------------ embedding */
static void emb_run(tu_check *c, tu_dtype dt, size_t n_ids, size_t vocab, size_t hidden,
                    size_t off, int bad_at)
{
  size_t bytes = 1;
  check_ws(c, WS(dt, embedding_lookup, n_ids, vocab, hidden, &bytes), bytes, "embedding_lookup");
  tu_arr table, out, ids;
  tu_arr_alloc(&table, dt, vocab * hidden, off % 4);
  tu_arr_alloc(&out, dt, n_ids * hidden, (off / 4) % 4);
  tu_arr_alloc(&ids, TU_F32, n_ids, 0);   /* 4-byte elements: the uint32_t ids */
  tu_arr_uniform(&table, -2, 2);
  uint32_t *id = ids.p;
  for (size_t i = 0; i < n_ids; i++)
    id[i] = (uint32_t)tu_rand_below(vocab);
  if (bad_at >= 0)
    id[bad_at] = (uint32_t)vocab + (uint32_t)(bad_at % 3);
  tu_arr_snapshot(&ids);
  tu_arr_snapshot(&out);
  tu_dv dt_, dout, dids;
  tu_dv_up(be, &dt_, &table);
  tu_dv_up(be, &dout, &out);
  tu_dv_up(be, &dids, &ids);
  gllmk_status st = OPS(dt, embedding_lookup, dids.p, n_ids, dt_.p, vocab, hidden, dout.p);
  if (tu_check_status(c, st, GLLMK_OK, "embedding_lookup n_ids=%zu vocab=%zu hidden=%zu", n_ids,
                      vocab, hidden)) {
    tu_dv_down(&dt_);
    tu_dv_down(&dout);
    tu_dv_down(&dids);
    if (bad_at >= 0) {
      tu_check_true(c, tu_arr_unchanged(&out), "embedding_lookup: id %u >= vocab %zu wrote out",
                    id[bad_at], vocab);
    } else {
      size_t es = tu_esize(dt);
      int bad = 0;
      for (size_t i = 0; i < n_ids && !bad; i++)
        bad = !tu_check_true(c, !memcmp((char *)out.p + i * hidden * es,
                                        (char *)table.p + id[i] * hidden * es, hidden * es),
                             "embedding_lookup n_ids=%zu hidden=%zu: row %zu (id %u) differs",
                             n_ids, hidden, i, id[i]);
    }
    tu_check_guards(c, &out, "out");
    tu_check_input(c, &table, "table");
    tu_check_input(c, &ids, "ids");
  }
  tu_dv_free(&dt_);
  tu_dv_free(&dout);
  tu_dv_free(&dids);
  tu_arr_free(&table);
  tu_arr_free(&out);
  tu_arr_free(&ids);
}

static void test_embedding(tu_dtype dt)
{
  static const size_t shapes[][3] = {
    /* n_ids, vocab, hidden */
    { 0, 5, 4 }, { 3, 5, 0 }, { 1, 1, 1 }, { 5, 7, 3 }, { 8, 11, 8 }, { 16, 50, 64 },
    { 9, 13, 130 }, { 33, 40, 200 }, { 256, 37, 4 }, { 300, 37, 3 }, { 1100, 37, 8 },
    { 20000, 100, 8 },
  };
  tu_check c;
  tu_check_init(&c);
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    emb_run(&c, dt, shapes[i][0], shapes[i][1], shapes[i][2], i, -1);
    if (shapes[i][0] && shapes[i][2]) {
      emb_run(&c, dt, shapes[i][0], shapes[i][1], shapes[i][2], i + 1, (int)shapes[i][0] - 1);
      emb_run(&c, dt, shapes[i][0], shapes[i][1], shapes[i][2], i + 2, (int)(shapes[i][0] / 2));
    }
  }
  tu_check_done(&c, "embedding_lookup %s: inline and kernel id checks, bad ids leave out unchanged",
                tu_dtname(dt));
}

/* ------------------------------------------------------------------ bad input */
static void test_bad_input(void)
{
  tu_check c;
  tu_check_init(&c);
  gllmk_backend *other;
  gllmk_buffer *buf, *obuf;
  const size_t bytes = 4096;
  if (gllmk_backend_open("cuda", &other) != GLLMK_OK)
    bail_out("second cuda backend");
  if (gllmk_buffer_alloc(be, bytes, &buf) != GLLMK_OK || gllmk_buffer_alloc(other, bytes, &obuf) != GLLMK_OK)
    bail_out("buffers for the bad-input tests");
  unsigned char *snap = tu_xmalloc(bytes), *now = tu_xmalloc(bytes);
  for (size_t i = 0; i < bytes; i++)
    snap[i] = (unsigned char)(i * 37 + 11);
  gllmk_buffer_upload(buf, 0, snap, bytes);
  gllmk_buffer_upload(obuf, 0, snap, bytes);
  unsigned char *p0 = gllmk_buffer_data(buf), *q0 = gllmk_buffer_data(obuf);
  void *p = p0, *q = q0;
  void *res = p0 + bytes - 4;   /* a float result at the end of buf */
  const size_t big = SIZE_MAX / 2 + 1;

#define EXPECT(want, call)                                                                       \
  do {                                                                                           \
    gllmk_status st_ = (call);                                                                   \
    tu_check_status(&c, st_, want, "%s", #call);                                                 \
  } while (0)

  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    size_t es = tu_esize(dt), n = 64;
    /* a pointer into another backend's buffer */
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_add, p, q, (void *)(p0 + 512), n));
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_dot, p, p, n, q));
    EXPECT(GLLMK_E_INVAL, OPS(dt, gemv, q, p, (void *)(p0 + 1024), 4, 8));
    EXPECT(GLLMK_E_INVAL, OPS(dt, rms_norm, p, q, (void *)(p0 + 1024), 2, 8, 1e-5f));
    /* ranges past the end of the buffer */
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_add, p, p, (void *)(p0 + bytes - n * es + es), n));
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_sum, (void *)(p0 + bytes - 8), 64, res));
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_dot, p, p, n, (void *)(p0 + bytes - 2)));
    EXPECT(GLLMK_E_INVAL, OPS(dt, silu, p, (void *)(p0 + bytes - 8), 64));
    EXPECT(GLLMK_E_INVAL, OPS(dt, gemv, p, p, (void *)(p0 + bytes - 4), 16, 8));
    EXPECT(GLLMK_E_INVAL, OPS(dt, softmax, p, p, 2, bytes / es / 2 + 1));
    EXPECT(GLLMK_E_INVAL, OPS(dt, rope_with_pos, p, p, p, 1, 1, 8, 8, false, bytes / es));
    EXPECT(GLLMK_E_INVAL, OPS(dt, embedding_lookup, (uint32_t *)p, 4, p, bytes / es + 1, 1, p));
    EXPECT(GLLMK_E_INVAL, OPS(dt, embedding_lookup, (uint32_t *)(void *)(p0 + bytes - 8), 4, p, 4, 1, p));
    /* a host pointer */
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_scale, (void *)snap, 2.0f, 16));
    /* misaligned element pointers */
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_mul, (void *)(p0 + 1), p, p, 8));
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_max, p, 8, (void *)(p0 + 2)));
    /* NULL where data is needed, n == 0 for max */
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_add, NULL, p, p, 8));
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_sum, p, 8, NULL));
    EXPECT(GLLMK_E_INVAL, OPS(dt, vec_max, p, 0, res));
    EXPECT(GLLMK_E_INVAL, OPS(dt, gemv, p, NULL, p, 2, 2));
    EXPECT(GLLMK_E_INVAL, OPS(dt, layer_norm, p, p, NULL, p, 2, 2, 1e-5f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, rope, NULL, p, p, 1, 1, 4, 4, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, embedding_lookup, NULL, 2, p, 4, 4, p));
    /* sizes whose products overflow */
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, vec_add, p, p, p, big));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, vec_dot, p, p, big, res));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, vec_max, p, big, res));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, gemv, p, p, p, big, 4));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, softmax, p, p, big, 2));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, rope_with_pos, p, p, p, 2, 2, 8, 8, false, SIZE_MAX));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, embedding_lookup, (uint32_t *)p, 2, p, big, 4, p));
    /* bad shapes and scalars */
    EXPECT(GLLMK_E_INVAL, OPS(dt, rms_norm, p, p, p, 2, 8, -1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, layer_norm, p, p, p, p, 2, 8, NAN));
    EXPECT(GLLMK_E_INVAL, OPS(dt, rope, p, p, p, 1, 1, 8, 7, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, rope, p, p, p, 1, 1, 8, 10, true));
    EXPECT(GLLMK_E_INVAL, OPS(dt, embedding_lookup, (uint32_t *)p, 2, p, 0, 4, p));
    /* the empty cases are fine, NULL included */
    EXPECT(GLLMK_OK, OPS(dt, vec_add, NULL, NULL, NULL, 0));
    EXPECT(GLLMK_OK, OPS(dt, softmax, NULL, NULL, 0, 5));
    EXPECT(GLLMK_OK, OPS(dt, rope, NULL, NULL, NULL, 0, 2, 8, 8, false));
    EXPECT(GLLMK_OK, OPS(dt, gemv, NULL, NULL, NULL, 0, 5));
  }
  /* no backend */
  {
    size_t need = 0;
    const gllmk_ops_f32 *o = gllmk_backend_ops_f32(be);
    EXPECT(GLLMK_E_INVAL, o->vec_add(NULL, p, p, p, 4));
    EXPECT(GLLMK_E_INVAL, o->vec_dot(NULL, p, p, 4, res));
    EXPECT(GLLMK_E_INVAL, o->vec_dot_workspace_bytes(NULL, 4, &need));
    EXPECT(GLLMK_E_INVAL, o->gemv_workspace_bytes(NULL, 4, 4, &need));
    EXPECT(GLLMK_E_INVAL, o->gemv_workspace_bytes(be, 4, 4, NULL));
  }
  gllmk_backend_synchronize(be);
  gllmk_buffer_download(buf, 0, now, bytes);
  tu_check_true(&c, !memcmp(now, snap, bytes), "a refused call wrote to the buffer");
  gllmk_buffer_download(obuf, 0, now, bytes);
  tu_check_true(&c, !memcmp(now, snap, bytes), "a refused call wrote to the other backend's buffer");
  tu_check_done(&c, "bad input: foreign and host pointers, ranges past the end, misalignment, NULL, "
                    "overflow, shapes: the error, nothing written");

  /* a workspace smaller than the query asks for: GLLMK_E_NOMEM before anything runs */
  {
    size_t need = 0, n = 20011;
    gllmk_buffer *big_buf;
    tu_check_init(&c);
    tu_check_status(&c, gllmk_backend_ops_f32(other)->vec_dot_workspace_bytes(other, n, &need),
                    GLLMK_OK, "vec_dot workspace query");
    tu_check_true(&c, need > 0, "vec_dot n=%zu needs a workspace", n);
    if (gllmk_buffer_alloc(other, n * 4 + 4, &big_buf) != GLLMK_OK)
      bail_out("buffer");
    float *x = gllmk_buffer_data(big_buf);
    gllmk_status st = gllmk_backend_ops_f32(other)->vec_dot(other, x, x, n, x + n);
    if (st == GLLMK_OK) {
      skip("the backend has a default workspace of %zu bytes or more", need);
    } else {
      tu_check_status(&c, st, GLLMK_E_NOMEM, "vec_dot without a workspace");
      tu_check_status(&c, gllmk_backend_reserve_workspace(other, need), GLLMK_OK, "reserve");
      tu_check_status(&c, gllmk_backend_ops_f32(other)->vec_dot(other, x, x, n, x + n), GLLMK_OK,
                      "vec_dot with the workspace");
      tu_check_done(&c, "workspace too small: GLLMK_E_NOMEM; enough after reserving the query's size");
    }
    gllmk_backend_synchronize(other);
    gllmk_buffer_free(big_buf);
  }
#undef EXPECT
  free(snap);
  free(now);
  gllmk_buffer_free(buf);
  gllmk_buffer_free(obuf);
  gllmk_backend_close(other);
}

/* ------------------------------------------------------------------ graphs */
/* recorded: y = rms_norm(a + b, w); d = dot(y, y); g = gemv(A, y); e = table[ids]
 * (f32, n = 4099: three reduction blocks; gemv rows split) */
static void test_graph(void)
{
  const size_t n = 4099, m = 3, vocab = 9, hidden = 16, n_ids = 5;
  tu_check c;
  tu_check_init(&c);
  tu_arr a, b, w, y, A, g, tab, e, ids;
  tu_arr_alloc(&a, TU_F32, n, 0);
  tu_arr_alloc(&b, TU_F32, n, 0);
  tu_arr_alloc(&w, TU_F32, n, 0);
  tu_arr_alloc(&y, TU_F32, n, 0);
  tu_arr_alloc(&A, TU_F32, m * n, 0);
  tu_arr_alloc(&g, TU_F32, m, 0);
  tu_arr_alloc(&tab, TU_F32, vocab * hidden, 0);
  tu_arr_alloc(&e, TU_F32, n_ids * hidden, 0);
  tu_arr_alloc(&ids, TU_F32, n_ids, 0);
  tu_arr_uniform(&w, 0.5, 1.5);
  tu_arr_uniform(&A, -1, 1);
  tu_arr_uniform(&tab, -1, 1);
  tu_dv da, db, dw, dy, dA, dg, dtab, de, dids;
  dres d;
  tu_dv_up(be, &da, &a);
  tu_dv_up(be, &db, &b);
  tu_dv_up(be, &dw, &w);
  tu_dv_up(be, &dy, &y);
  tu_dv_up(be, &dA, &A);
  tu_dv_up(be, &dg, &g);
  tu_dv_up(be, &dtab, &tab);
  tu_dv_up(be, &de, &e);
  tu_dv_up(be, &dids, &ids);
  dres_init(&d);

  const gllmk_ops_f32 *o = gllmk_backend_ops_f32(be);
  gllmk_graph *graph = NULL;
  gllmk_status st = gllmk_graph_begin(be);
  tu_check_status(&c, st, GLLMK_OK, "gllmk_graph_begin");
  tu_check_status(&c, o->vec_add(be, da.p, db.p, dy.p, n), GLLMK_OK, "vec_add (recorded)");
  tu_check_status(&c, o->rms_norm(be, dy.p, dw.p, dy.p, 1, n, 1e-5f), GLLMK_OK, "rms_norm (recorded)");
  tu_check_status(&c, o->vec_dot(be, dy.p, dy.p, n, d.d.p), GLLMK_OK, "vec_dot (recorded)");
  tu_check_status(&c, o->gemv(be, dA.p, dy.p, dg.p, m, n), GLLMK_OK, "gemv (recorded)");
  tu_check_status(&c, o->embedding_lookup(be, dids.p, n_ids, dtab.p, vocab, hidden, de.p), GLLMK_OK,
                  "embedding_lookup (recorded)");
  tu_check_status(&c, gllmk_graph_end(be, &graph), GLLMK_OK, "gllmk_graph_end");
  tu_check_done(&c, "graph: five ops recorded");

  for (int round = 0; round < 2 && graph; round++) {
    tu_check_init(&c);
    tu_arr_uniform(&a, -2, 2);
    tu_arr_uniform(&b, -2, 2);
    uint32_t *id = ids.p;
    for (size_t i = 0; i < n_ids; i++)
      id[i] = (uint32_t)tu_rand_below(vocab);
    gllmk_buffer_upload(da.buf, 0, a.mem, a.mem_bytes);
    gllmk_buffer_upload(db.buf, 0, b.mem, b.mem_bytes);
    gllmk_buffer_upload(dids.buf, 0, ids.mem, ids.mem_bytes);
    tu_check_status(&c, gllmk_graph_launch(graph), GLLMK_OK, "gllmk_graph_launch");
    tu_dv_down(&dy);
    tu_dv_down(&dg);
    tu_dv_down(&de);
    float dot = dres_get(&d);
    double *s = tu_dalloc(n), *yr = tu_dalloc(n), *gr = tu_dalloc(m), *got = tu_dalloc(n);
    ref_vec_add(a.v, b.v, s, n);
    for (size_t i = 0; i < n; i++)
      s[i] = (float)s[i];
    ref_rms_norm(s, w.v, yr, 1, n, 1e-5f);
    tu_arr_read(&y, got);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++)
      bad = !tu_check_out(&c, TU_F32, got[i], yr[i], 2 * rt(n) * fabs(yr[i]), "graph y[%zu]", i);
    double mag = ref_vec_sum_squares(got, n);
    tu_check_out(&c, TU_F32, dot, ref_vec_dot(got, got, n), tu_acc_eps(n) * mag, "graph dot");
    ref_gemv(A.v, got, gr, m, n);
    for (size_t i = 0; i < m; i++) {
      double gm = 0;
      for (size_t j = 0; j < n; j++)
        gm += fabs(A.v[i * n + j] * got[j]);
      tu_arr_read(&g, s);
      tu_check_out(&c, TU_F32, s[i], gr[i], tu_acc_eps(n) * gm, "graph gemv[%zu]", i);
    }
    for (size_t i = 0; i < n_ids; i++)
      tu_check_true(&c, !memcmp((float *)e.p + i * hidden, (float *)tab.p + id[i] * hidden, hidden * 4),
                    "graph embedding row %zu", i);
    free(s);
    free(yr);
    free(gr);
    free(got);
    tu_check_done(&c, "graph: replay %d on new inputs", round + 1);
  }
  gllmk_graph_free(graph);
  tu_dv_free(&da);
  tu_dv_free(&db);
  tu_dv_free(&dw);
  tu_dv_free(&dy);
  tu_dv_free(&dA);
  tu_dv_free(&dg);
  tu_dv_free(&dtab);
  tu_dv_free(&de);
  tu_dv_free(&dids);
  dres_free(&d);
  tu_arr_free(&a);
  tu_arr_free(&b);
  tu_arr_free(&w);
  tu_arr_free(&y);
  tu_arr_free(&A);
  tu_arr_free(&g);
  tu_arr_free(&tab);
  tu_arr_free(&e);
  tu_arr_free(&ids);
}

int main(void)
{
  if (!tu_cuda_open(&be)) return 0;
  diag("backend %s", gllmk_backend_name(be));
  if (gllmk_backend_reserve_workspace(be, WS_RESERVED) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu)", WS_RESERVED);
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    test_elementwise(dt);
    test_reductions(dt);
    test_gemv(dt);
    test_rows(dt);
    test_rope(dt);
    test_embedding(dt);
  }
  test_bad_input();
  test_graph();
  gllmk_backend_close(be);
  return done_testing();
}
