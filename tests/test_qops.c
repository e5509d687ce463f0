/* test_qops.c -- int8/int4/int2/int1 GEMV, int8/int4 GEMM and the int4/int8
 * fused ops of gllmk/quant_ops.h (Tables C and D of DESIGN.md):
 * gemv_q8/q4/q2/q1, gemm_q8/q4, fused_qkv_rope_q4, fused_ffn_q4,
 * fused_int8_linear_residual_rmsnorm, fused_int4_linear_residual_rmsnorm.
 * (fused_dequant_gemv and the k-quant/IQ/AWQ/GPTQ/SqueezeLLM matmuls are
 * test_qmatmul.c's.)
 * SPDX-License-Identifier: MIT
 *
 * Every op x f32/f16/bf16 x every runnable ISA against a double reference
 * computed here.  The weights are random bytes decoded by this file from the
 * layouts quant_ops.h documents (int8; 4-bit low nibble first, q - 8; 2-bit
 * element i in bits 2(i%4) of byte i/4, q - 2; 1-bit element i in bit i%8 of
 * byte i/8, +1 if set else -1); the activations are seeded random values as
 * rounded to the element type.
 *
 * References and tolerances (|got - ref| <= tol, plus the rounding of the
 * store to f16/bf16 that tu_match adds):
 *  - gemv_q*: scale * sum w x, tol = tu_acc_eps(n) * |scale| * sum |w x|
 *    (exact f32 products, f32 accumulation); the result is a float for all
 *    three element types.  n = 0..130, 4096, 100003, odd offsets, scale 0,
 *    negative, tiny.
 *  - gemm_q8/q4 (integer paths at every m: the decode GEMV below 16 rows,
 *    the int8 GEMM from 16 on): two checks.
 *    (a) against a reference that quantizes the activations as
 *        lib/quant/qmatmul.c documents -- per chunk of 32 values of a row,
 *        a = max |x|, level = round-to-nearest-even(x * (127 / a)) clamped to
 *        +-127, value (a / 127) * level, each step rounded to f32 as the
 *        library does (x * fl(127/a), fl(a/127)) -- with
 *        tol = tu_acc_eps(k) * sum |s w xq|: the f32 accuracy of the
 *        products of the quantized activations;
 *    (b) against the exact product, with the documented bound:
 *        tol = sum over chunks (a/254) * sum_chunk |s w| * (1 + 1e-4)
 *              + tu_acc_eps(k) * sum |s w x|
 *        (the 1e-4 covers the f32 rounding of 127/a, x*127/a and a/127).
 *    A row of zero weights must give exactly 0 (the exact
 *    product and both bounds are 0).
 *  - Table D ops against their composition in double, with the same
 *    activation quantization wherever the library quantizes:
 *    the input x exactly as in (a), and the hidden vector of fused_ffn_q4 --
 *    a computed f32 intermediate known only within its error bound e -- by
 *    qact_approx(): its level is certain unless x*127/a lies within
 *    127 (e + max e)/(a - max e) of a half-integer, and an uncertain level
 *    adds one step (a/127) times |s w| to the bound.  Errors are propagated:
 *      linear layer   tu_acc_eps(k) sum |s w xq| + sum |s w| e_in
 *      rope           |c| e_a + |s| e_b + 2^-22 (|a c| + |b s|)
 *      swiglu         1.1 |u| e_g + |silu g| e_u + e_g e_u + 6 2^-23 |h|
 *      rms_norm       |w| e_s / rms + |out| (rms(e)/rms + 1e-5 + 1e-6 sqrt n)
 *    The fused ops compute in f32 and round only on store (DESIGN.md §2);
 *    fused_qkv_rope_q4 is allowed one rounding of q/k to the element type
 *    before rope (as the Table A fused_qkv_rope test allows).  Each fused op
 *    is also compared with the composition of the library's own ops
 *    (gemm_q4/q8, rope_with_pos, swiglu, vec_add, rms_norm; these round
 *    every intermediate to the element type, which their bound includes):
 *    |fused - composition| <= both bounds.
 *  - NaN activations give NaN in the rows that hold them (m 3 and 17), the
 *    other rows stay finite.
 *  - Results are bitwise the same with 1 and 2 threads.
 *  - Bad arguments (each call in a forked child, every buffer checked for
 *    writes): NULL pointers with nonzero sizes, w_bytes one short, odd k for
 *    4-bit matrices, heads % kv_heads, rotary_dim odd or > head_dim, eps < 0
 *    or NaN -> GLLMK_E_INVAL; size products over SIZE_MAX -> GLLMK_E_OVERFLOW;
 *    zero sizes -> GLLMK_OK with nothing written (k = 0: zeros / the residual).
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the references' activations: quantized as the library does (at every m,
 * on its decode GEMV and int8 GEMM paths), or exact (ref_exact: the
 * cross-checks against ref.c's unquantized compositions) */
static int ref_exact;
#define QCHUNK 32  /* activations quantized per this many values */

/* ------------------------------------------------------------------ weight layouts */
/* decoded level of element i of a packed vector of 8/4/2/1-bit values */
static double lvl(int bits, const unsigned char *w, size_t i)
{
  switch (bits) {
  case 8: return (double)(int8_t)w[i];
  case 4: return (double)((w[i / 2] >> (4 * (i % 2))) & 15) - 8.0;
  case 2: return (double)((w[i / 4] >> (2 * (i % 4))) & 3) - 2.0;
  default: return (w[i / 8] >> (i % 8)) & 1 ? 1.0 : -1.0;
  }
}

static size_t vec_bytes(int bits, size_t n)
{
  return bits == 8 ? n : (n + (size_t)(8 / bits) - 1) / (size_t)(8 / bits);
}

static size_t row_bytes(int bits, size_t k)
{
  return bits == 8 ? k : k / 2;
}

/* levels of an int8 [n x k] or int4 [n x k/2] matrix, as doubles [n x k] */
static double *decode_mat(int bits, const unsigned char *w, size_t n, size_t k)
{
  double *d = tu_dalloc(n * k);
  size_t rb = row_bytes(bits, k);
  for (size_t r = 0; r < n; r++)
    for (size_t j = 0; j < k; j++)
      d[r * k + j] = lvl(bits, w + r * rb, j);
  return d;
}

/* per-row scales for a layer with k inputs, so that outputs are O(1) */
static void rand_scales(tu_arr *s, int bits, size_t k)
{
  double lmax = bits == 8 ? 128.0 : 8.0;
  double *v = tu_dalloc(s->n);
  for (size_t i = 0; i < s->n; i++)
    v[i] = (tu_rand01() < 0.5 ? -2.0 : 2.0) * tu_uniform(0.5, 1.5) / (lmax * sqrt((double)(k ? k : 1)));
  tu_arr_set(s, v);
  free(v);
}

/* ------------------------------------------------------------------ activation quantization */
/* The integer path's activations, as lib/quant/qmatmul.c documents them, for
 * x holding f32 values: per chunk of 32 of a row, a = max |x|, d = fl(a/127),
 * level = rne(fl(x * fl(127/a))) clamped to +-127, value d * level; a chunk
 * with a NaN or inf: NaN. */
static void qact_exact_row(const double *x, size_t k, double *xh)
{
  for (size_t o = 0; o < k; o += QCHUNK) {
    size_t c = k - o < QCHUNK ? k - o : QCHUNK;
    float a = 0.0f;
    int bad = 0;
    for (size_t j = 0; j < c; j++) {
      float v = (float)x[o + j];
      if (!isfinite(v))
        bad = 1;
      else if (fabsf(v) > a)
        a = fabsf(v);
    }
    for (size_t j = 0; j < c; j++) {
      if (bad) {
        xh[o + j] = NAN;
      } else if (a == 0.0f) {
        xh[o + j] = 0.0;
      } else {
        volatile float id = 127.0f / a, d = a / 127.0f;
        volatile float t = (float)x[o + j] * id;
        float tt = t;
        if (tt > 127.0f)
          tt = 127.0f;
        if (tt < -127.0f)
          tt = -127.0f;
        xh[o + j] = (double)d * (double)nearbyintf(tt);
      }
    }
  }
}

/* the activations the library's product sees: quantized rows */
static double *act_for(const double *x, size_t m, size_t k)
{
  double *xh = tu_dalloc(m * k);
  if (!ref_exact)
    for (size_t i = 0; i < m; i++)
      qact_exact_row(x + i * k, k, xh + i * k);
  else
    memcpy(xh, x, m * k * sizeof *xh);
  return xh;
}

/* As qact_exact_row for an intermediate the library holds only within ex[j]
 * of x[j]: xh[j] is x quantized in double, eo[j] bounds |xh_lib - xh|. */
static void qact_approx_row(const double *x, const double *ex, size_t k, double *xh, double *eo)
{
  for (size_t o = 0; o < k; o += QCHUNK) {
    size_t c = k - o < QCHUNK ? k - o : QCHUNK;
    double a = 0.0, ea = 0.0;
    int bad = 0;
    for (size_t j = 0; j < c; j++) {
      if (!isfinite(x[o + j]))
        bad = 1;
      else if (fabs(x[o + j]) > a)
        a = fabs(x[o + j]);
      if (ex[o + j] > ea)
        ea = ex[o + j];
    }
    for (size_t j = 0; j < c; j++) {
      size_t i = o + j;
      if (bad) {
        xh[i] = NAN;
        eo[i] = 0.0;
        continue;
      }
      double t = a > 0 ? x[i] * 127.0 / a : 0.0, q = nearbyint(t);
      if (q > 127)
        q = 127;
      if (q < -127)
        q = -127;
      xh[i] = a / 127.0 * q;
      if (a > 2 * ea) {
        double win = 127.0 * (ex[i] + ea) / (a - ea) + 0x1p-20 * (fabs(t) + 1.0);
        if (win < 0.25) {
          double fr = fabs(t - floor(t) - 0.5);
          eo[i] = ea + 0x1p-22 * (a + ea) + (fr <= win ? (a + ea) / 127.0 * (1 + 0x1p-20) : 0.0);
          continue;
        }
      }
      /* generic: |xh_lib - x_lib| <= a_lib/254, |x_lib - x| <= ex, |x - xh| <= a/254 */
      eo[i] = ex[i] + (2 * a + ea) / 254.0 * (1 + 1e-4);
    }
  }
}

/* ------------------------------------------------------------------ double linear algebra */
/* y[m x n] = x[m x k] . (diag(s) W)^T, mag = sum |s w x| per output */
static void lin_q(const double *x, const double *W, const double *s, double *y, double *mag,
                  size_t m, size_t n, size_t k)
{
  for (size_t i = 0; i < m; i++)
    for (size_t r = 0; r < n; r++) {
      const double *xr = x + i * k, *wr = W + r * k;
      double acc = 0.0, am = 0.0;
      for (size_t j = 0; j < k; j++) {
        double p = wr[j] * xr[j];
        acc += p;
        am += fabs(p);
      }
      y[i * n + r] = s[r] * acc;
      if (mag)
        mag[i * n + r] = fabs(s[r]) * am;
    }
}

/* out[m x n] += sum_j |s w| e[j]: an input error through a linear layer */
static void lin_prop(const double *e, const double *W, const double *s, double *out, size_t m,
                     size_t n, size_t k)
{
  for (size_t i = 0; i < m; i++)
    for (size_t r = 0; r < n; r++) {
      const double *er = e + i * k, *wr = W + r * k;
      double acc = 0.0;
      for (size_t j = 0; j < k; j++)
        acc += fabs(wr[j]) * er[j];
      out[i * n + r] += fabs(s[r]) * acc;
    }
}

/* ------------------------------------------------------------------ comparisons */
static int cmp_arr(tu_check *c, tu_dtype dt, const void *p, size_t n, const double *ref,
                   const double *tol, const char *ctx, const char *what)
{
  for (size_t i = 0; i < n; i++)
    if (!tu_check_out(c, dt, tu_get(dt, p, i), ref[i], tol[i], "%s %s[%zu]", ctx, what, i))
      return 0;
  return 1;
}

/* fused output p vs composition output q, each within tf/tc of ref */
static int cmp_two(tu_check *c, tu_dtype dt, const void *p, const void *q, size_t n,
                   const double *ref, const double *tf, const double *tc, const char *ctx,
                   const char *what)
{
  for (size_t i = 0; i < n; i++) {
    double t = tf[i] + tc[i] + tu_out_rtol(dt) * fabs(ref[i]) + tu_out_atol(dt);
    if (!tu_check_out(c, dt, tu_get(dt, p, i), tu_get(dt, q, i), t, "%s %s[%zu] vs composition",
                      ctx, what, i))
      return 0;
  }
  return 1;
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

static gllmk_status call_gemv(tu_dtype dt, int bits, const void *w, size_t wb, const void *x,
                              float s, size_t n, float *r)
{
  switch (bits) {
  case 8: return TU_CALL(dt, gemv_q8, w, wb, x, s, n, r);
  case 4: return TU_CALL(dt, gemv_q4, w, wb, x, s, n, r);
  case 2: return TU_CALL(dt, gemv_q2, w, wb, x, s, n, r);
  default: return TU_CALL(dt, gemv_q1, w, wb, x, s, n, r);
  }
}

static gllmk_status call_gemm(tu_dtype dt, int bits, const void *w, size_t wb, const void *x,
                              void *y, const void *sc, size_t m, size_t n, size_t k)
{
  if (bits == 8)
    return TU_CALL(dt, gemm_q8, w, wb, x, y, sc, m, n, k);
  return TU_CALL(dt, gemm_q4, w, wb, x, y, sc, m, n, k);
}

static gllmk_status call_lrr(tu_dtype dt, int bits, const void *x, const void *w, size_t wb,
                             const void *sc, const void *res, const void *nw, void *out,
                             void *sum, size_t m, size_t n, size_t k, float eps)
{
  if (bits == 8)
    return TU_CALL(dt, fused_int8_linear_residual_rmsnorm, x, w, wb, sc, res, nw, out, sum, m, n,
                   k, eps);
  return TU_CALL(dt, fused_int4_linear_residual_rmsnorm, x, w, wb, sc, res, nw, out, sum, m, n, k,
                 eps);
}

/* ------------------------------------------------------------------ ISAs */
/* The double references cost more than the calls: each case computes its
 * reference once and runs the library on every runnable ISA, with one
 * tu_check (one TAP point) per ISA. */
static void checks_init(tu_check *c)
{
  for (int i = 0; i < tu_isa_count(); i++)
    tu_check_init(&c[i]);
}

/* ------------------------------------------------------------------ gemv_q8/q4/q2/q1 */
static void run_gemv(tu_check *c, tu_dtype dt, int bits, size_t n, size_t xoff, size_t woff,
                     float scale, size_t nan_at)
{
  size_t wb = vec_bytes(bits, n);
  tu_buf w;
  tu_buf_alloc(&w, wb, woff);
  tu_buf_random(&w);
  tu_arr x;
  arr_rand(&x, dt, n, xoff, -1, 1);
  if (nan_at < n) {
    x.v[nan_at] = NAN;
    tu_put(dt, x.p, nan_at, NAN);
    tu_arr_snapshot(&x);
  }
  double ref = 0.0, mag = 0.0;
  for (size_t i = 0; i < n; i++) {
    double p = lvl(bits, w.p, i) * x.v[i];
    ref += p;
    mag += fabs(p);
  }
  ref *= scale;
  double tol = tu_acc_eps(n) * mag * fabs(scale);
  float r = 12345.0f;
  gllmk_status st = call_gemv(dt, bits, w.p, wb, x.p, scale, n, &r);
  if (tu_check_status(c, st, GLLMK_OK, "gemv_q%d n=%zu", bits, n))
    tu_check_out(c, TU_F32, r, ref, tol, "gemv_q%d n=%zu scale=%g xoff=%zu woff=%zu nan_at=%zd",
                 bits, n, scale, xoff, woff, nan_at < n ? (ssize_t)nan_at : (ssize_t)-1);
  tu_check_input(c, &x, "x");
  tu_buf_check_input(c, &w, "w");
  tu_arr_free(&x);
  tu_buf_free(&w);
}

static void test_gemv(const char *isa, tu_dtype dt)
{
  static const float fixed[] = { 1.0f, -0.75f, 0.0f, 0x1p-15f, -3.5f };
  tu_check c;
  for (int bits = 8; bits >= 1; bits /= 2) {
    tu_check_init(&c);
    for (size_t n = 0; n <= TU_NMAX_SMALL; n++) {
      float s = n % 6 == 5 ? -(float)tu_uniform(1e-3, 2) : fixed[n % 6 < 5 ? n % 6 : 0];
      run_gemv(&c, dt, bits, n, n % 4, (n * 3 + 1) % 4, s, SIZE_MAX);
    }
    run_gemv(&c, dt, bits, 4096, 1, 3, 0.5f, SIZE_MAX);
    run_gemv(&c, dt, bits, 4096, 0, 0, -1.0f, SIZE_MAX);
    run_gemv(&c, dt, bits, 100003, 3, 1, -1.25f, SIZE_MAX);
    run_gemv(&c, dt, bits, 100003, 2, 2, 0.0f, SIZE_MAX);
    tu_check_done(&c, "gemv_q%d %s %s: n 0..130, 4096, 100003, odd offsets, scale 0/neg/tiny",
                  bits, tu_dtname(dt), isa);
  }
}

/* ------------------------------------------------------------------ gemm_q8 / gemm_q4 */
static void run_gemm(tu_check *c, tu_check *cdoc, tu_dtype dt, int bits, size_t m, size_t n,
                     size_t k, size_t off, double xlo, int zero_row)
{
  size_t wb = n * row_bytes(bits, k);
  tu_buf w;
  tu_buf_alloc(&w, wb, off % 4);
  tu_buf_random(&w);
  if (zero_row) {   /* row 0: every level 0 */
    memset(w.p, bits == 8 ? 0x00 : 0x88, row_bytes(bits, k));
    tu_buf_snapshot(&w);
  }
  tu_arr sc, x, y;
  tu_arr_alloc(&sc, TU_F32, n, (off + 1) % 4);
  rand_scales(&sc, bits, k);
  arr_rand(&x, dt, m * k, off + 2, xlo, 1);
  arr_out(&y, dt, m * n, off + 3);
  double *W = decode_mat(bits, w.p, n, k);
  double *xh = act_for(x.v, m, k);
  double *ref = tu_dalloc(m * n), *tol = tu_dalloc(m * n);
  lin_q(xh, W, sc.v, ref, tol, m, n, k);
  for (size_t i = 0; i < m * n; i++)
    tol[i] *= tu_acc_eps(k);
  char ctx[128];
  snprintf(ctx, sizeof ctx, "gemm_q%d m=%zu n=%zu k=%zu off=%zu%s", bits, m, n, k, off % 4,
           zero_row ? " row 0 zero" : "");
  double *ex = NULL, *dtol = NULL;
  if (cdoc) {
    /* the documented bound around the exact product */
    ex = tu_dalloc(m * n);
    dtol = tu_dalloc(m * n);
    lin_q(x.v, W, sc.v, ex, dtol, m, n, k);
    for (size_t i = 0; i < m; i++)
      for (size_t r = 0; r < n; r++) {
        double b = 0.0;
        for (size_t o = 0; o < k; o += QCHUNK) {
          size_t cn = k - o < QCHUNK ? k - o : QCHUNK;
          double a = 0.0, sw = 0.0;
          for (size_t j = 0; j < cn; j++) {
            a = fmax(a, fabs(x.v[i * k + o + j]));
            sw += fabs(W[r * k + o + j]);
          }
          b += a / 254.0 * sw;
        }
        dtol[i * n + r] = dtol[i * n + r] * tu_acc_eps(k) + b * fabs(sc.v[r]) * (1 + 1e-4);
      }
  }
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    tu_isa_set(ii);
    tu_arr_poison(&y);
    gllmk_status st = call_gemm(dt, bits, w.p, wb, x.p, y.p, sc.p, m, n, k);
    if (tu_check_status(&c[ii], st, GLLMK_OK, "%s", ctx)) {
      cmp_arr(&c[ii], dt, y.p, m * n, ref, tol, ctx, "y");
      if (ex)
        cmp_arr(&cdoc[ii], dt, y.p, m * n, ex, dtol, ctx, "y (documented bound)");
    }
    tu_check_input(&c[ii], &x, "x");
    tu_check_input(&c[ii], &sc, "scales");
    tu_buf_check_input(&c[ii], &w, "w");
    tu_check_guards(&c[ii], &y, "y");
  }
  free(ex);
  free(dtol);
  free(W);
  free(xh);
  free(ref);
  free(tol);
  tu_arr_free(&sc);
  tu_arr_free(&x);
  tu_arr_free(&y);
  tu_buf_free(&w);
}

static void test_gemm(tu_dtype dt)
{
  static const size_t ms[] = { 1, 2, 7, 15, 16, 17, 64 };
  static const size_t ns[] = { 1, 3, 17, 64 };
  static const size_t ks[] = { 2, 30, 256, 258, 1000, 33 };
  tu_check c[TU_MAX_ISA], cd[TU_MAX_ISA], cz[TU_MAX_ISA];
  for (int bits = 8; bits >= 4; bits -= 4) {
    checks_init(c);
    checks_init(cd);
    checks_init(cz);
    size_t off = 0;
    for (size_t mi = 0; mi < 7; mi++)
      for (size_t ni = 0; ni < 4; ni++)
        for (size_t ki = 0; ki < (bits == 8 ? 6u : 5u); ki++)
          run_gemm(c, cd, dt, bits, ms[mi], ns[ni], ks[ki], off++, -1.0, 0);
    run_gemm(c, cd, dt, bits, 1, 256, 4096, off++, -1.0, 0);
    run_gemm(c, cd, dt, bits, 20, 256, 4096, off++, -1.0, 0);
    /* activations of one sign (as after an activation function) */
    run_gemm(c, cd, dt, bits, 3, 64, 1000, off++, 0.0, 0);
    run_gemm(c, cd, dt, bits, 1, 32, 4096, off++, 0.0, 0);
    run_gemm(c, cd, dt, bits, 17, 32, 1000, off++, 0.0, 0);
    /* a row of zero weights: y = 0 exactly (the exact product and its bound are 0) */
    run_gemm(cz, cz, dt, bits, 1, 1, 2, off++, -1.0, 1);
    run_gemm(cz, cz, dt, bits, 7, 1, 256, off++, -1.0, 1);
    run_gemm(cz, cz, dt, bits, 1, 1, 4096, off++, 0.0, 1);
    run_gemm(cz, cz, dt, bits, 20, 1, 256, off++, -1.0, 1);
    for (int ii = 0; ii < tu_isa_count(); ii++) {
      tu_check_done(&c[ii], "gemm_q%d %s %s: m 1..64 x n 1..64 x k 2..1000, 1/20 x 256 x 4096; "
                    "vs the quantized-activation reference (decode GEMV and int8 GEMM)",
                    bits, tu_dtname(dt), tu_isa_name(ii));
      tu_check_done(&cd[ii], "gemm_q%d %s %s: within the documented int8-activation "
                    "bound of the exact product", bits, tu_dtname(dt), tu_isa_name(ii));
      tu_check_done(&cz[ii], "gemm_q%d %s %s: a row of zero weights gives 0 (m 1/7/20, k 2, "
                    "256, 4096)", bits, tu_dtname(dt), tu_isa_name(ii));
    }
  }
}

/* ------------------------------------------------------------------ fused_qkv_rope_q4 */
static void run_qkv(tu_check *cf, tu_check *cc, tu_dtype dt, size_t seq, size_t hidden,
                    size_t heads, size_t kvh, size_t hd, size_t rot, bool il, size_t pos,
                    size_t off)
{
  size_t nq = heads * hd, nk = kvh * hd, half = rot / 2, rows = (pos + seq) * half;
  size_t bq = nq * (hidden / 2), bk = nk * (hidden / 2);
  tu_arr x, sq, sk, sv, cs, sn, q, k, v, q2, k2, v2;
  tu_buf wq, wk, wv;
  arr_rand(&x, dt, seq * hidden, off, -1, 1);
  tu_buf_alloc(&wq, bq, off % 4);
  tu_buf_alloc(&wk, bk, (off + 1) % 4);
  tu_buf_alloc(&wv, bk, (off + 2) % 4);
  tu_buf_random(&wq);
  tu_buf_random(&wk);
  tu_buf_random(&wv);
  tu_arr_alloc(&sq, TU_F32, nq, off % 4);
  tu_arr_alloc(&sk, TU_F32, nk, (off + 1) % 4);
  tu_arr_alloc(&sv, TU_F32, nk, (off + 2) % 4);
  rand_scales(&sq, 4, hidden);
  rand_scales(&sk, 4, hidden);
  rand_scales(&sv, 4, hidden);
  tu_arr_alloc(&cs, dt, rows, off + 1);
  tu_arr_alloc(&sn, dt, rows, off + 3);
  {
    double *vc = tu_dalloc(rows), *vs = tu_dalloc(rows);
    for (size_t i = 0; i < rows; i++) {
      double th = tu_uniform(-4, 4);
      vc[i] = cos(th);
      vs[i] = sin(th);
    }
    tu_arr_set(&cs, vc);
    tu_arr_set(&sn, vs);
    free(vc);
    free(vs);
  }
  arr_out(&q, dt, seq * nq, off + 3);
  arr_out(&k, dt, seq * nk, off);
  arr_out(&v, dt, seq * nk, off + 1);
  arr_out(&q2, dt, seq * nq, off);
  arr_out(&k2, dt, seq * nk, off + 1);
  arr_out(&v2, dt, seq * nk, off + 2);

  /* reference */
  double *Wq = decode_mat(4, wq.p, nq, hidden), *Wk = decode_mat(4, wk.p, nk, hidden);
  double *Wv = decode_mat(4, wv.p, nk, hidden);
  double *xh = act_for(x.v, seq, hidden);
  double *pq = tu_dalloc(seq * nq), *eq = tu_dalloc(seq * nq), *rq = tu_dalloc(seq * nq);
  double *tq = tu_dalloc(seq * nq);
  double *pk = tu_dalloc(seq * nk), *ek = tu_dalloc(seq * nk), *rk = tu_dalloc(seq * nk);
  double *tk = tu_dalloc(seq * nk);
  double *rv = tu_dalloc(seq * nk), *tv = tu_dalloc(seq * nk);
  lin_q(xh, Wq, sq.v, pq, eq, seq, nq, hidden);
  lin_q(xh, Wk, sk.v, pk, ek, seq, nk, hidden);
  lin_q(xh, Wv, sv.v, rv, tv, seq, nk, hidden);
  for (size_t i = 0; i < seq * nq; i++)
    eq[i] = eq[i] * tu_acc_eps(hidden) + tu_out_rtol(dt) * fabs(pq[i]);
  for (size_t i = 0; i < seq * nk; i++) {
    ek[i] = ek[i] * tu_acc_eps(hidden) + tu_out_rtol(dt) * fabs(pk[i]);
    tv[i] *= tu_acc_eps(hidden);
  }
  memcpy(rq, pq, seq * nq * sizeof *rq);
  memcpy(rk, pk, seq * nk * sizeof *rk);
  ref_rope_with_pos(rq, cs.v, sn.v, seq, heads, hd, rot, il, pos);
  ref_rope_with_pos(rk, cs.v, sn.v, seq, kvh, hd, rot, il, pos);
  ref_rope_err(pq, eq, cs.v, sn.v, tq, seq, heads, hd, rot, il, pos);
  ref_rope_err(pk, ek, cs.v, sn.v, tk, seq, kvh, hd, rot, il, pos);

  char ctx[192];
  snprintf(ctx, sizeof ctx,
           "fused_qkv_rope_q4 seq=%zu hidden=%zu heads=%zu/%zu hd=%zu rot=%zu il=%d pos=%zu", seq,
           hidden, heads, kvh, hd, rot, (int)il, pos);
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    gllmk_status st;
    tu_isa_set(ii);
    tu_arr_poison(&q); tu_arr_poison(&k); tu_arr_poison(&v);
    tu_arr_poison(&q2); tu_arr_poison(&k2); tu_arr_poison(&v2);
    st = TU_CALL(dt, fused_qkv_rope_q4, x.p, wq.p, bq, sq.p, wk.p, bk, sk.p, wv.p, bk,
                              sv.p, cs.p, sn.p, q.p, k.p, v.p, seq, hidden, heads, kvh, hd, rot, il,
                              pos);
    int fok = tu_check_status(&cf[ii], st, GLLMK_OK, "%s", ctx);
    if (fok) {
      cmp_arr(&cf[ii], dt, q.p, seq * nq, rq, tq, ctx, "q");
      cmp_arr(&cf[ii], dt, k.p, seq * nk, rk, tk, ctx, "k");
      cmp_arr(&cf[ii], dt, v.p, seq * nk, rv, tv, ctx, "v");
    }
    tu_check_input(&cf[ii], &x, "x");
    tu_check_input(&cf[ii], &sq, "sq");
    tu_check_input(&cf[ii], &sk, "sk");
    tu_check_input(&cf[ii], &sv, "sv");
    tu_check_input(&cf[ii], &cs, "cos");
    tu_check_input(&cf[ii], &sn, "sin");
    tu_buf_check_input(&cf[ii], &wq, "wq");
    tu_buf_check_input(&cf[ii], &wk, "wk");
    tu_buf_check_input(&cf[ii], &wv, "wv");
    tu_check_guards(&cf[ii], &q, "q");
    tu_check_guards(&cf[ii], &k, "k");
    tu_check_guards(&cf[ii], &v, "v");

    /* the library's own composition: gemm_q4 x 3, rope_with_pos x 2 */
    st = TU_CALL(dt, gemm_q4, wq.p, bq, x.p, q2.p, sq.p, seq, nq, hidden);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, gemm_q4, wk.p, bk, x.p, k2.p, sk.p, seq, nk, hidden);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, gemm_q4, wv.p, bk, x.p, v2.p, sv.p, seq, nk, hidden);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, rope_with_pos, q2.p, cs.p, sn.p, seq, heads, hd, rot, il, pos);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, rope_with_pos, k2.p, cs.p, sn.p, seq, kvh, hd, rot, il, pos);
    if (tu_check_status(&cc[ii], st, GLLMK_OK, "%s: composition", ctx) && fok) {
      cmp_two(&cc[ii], dt, q.p, q2.p, seq * nq, rq, tq, tq, ctx, "q");
      cmp_two(&cc[ii], dt, k.p, k2.p, seq * nk, rk, tk, tk, ctx, "k");
      cmp_two(&cc[ii], dt, v.p, v2.p, seq * nk, rv, tv, tv, ctx, "v");
    }
  }

  free(Wq); free(Wk); free(Wv); free(xh);
  free(pq); free(eq); free(rq); free(tq);
  free(pk); free(ek); free(rk); free(tk);
  free(rv); free(tv);
  tu_arr_free(&x); tu_arr_free(&sq); tu_arr_free(&sk); tu_arr_free(&sv);
  tu_arr_free(&cs); tu_arr_free(&sn);
  tu_arr_free(&q); tu_arr_free(&k); tu_arr_free(&v);
  tu_arr_free(&q2); tu_arr_free(&k2); tu_arr_free(&v2);
  tu_buf_free(&wq); tu_buf_free(&wk); tu_buf_free(&wv);
}

static void test_qkv(tu_dtype dt)
{
  static const size_t seqs[] = { 1, 3, 20 };
  tu_check cf[TU_MAX_ISA], cc[TU_MAX_ISA];
  checks_init(cf);
  checks_init(cc);
  size_t off = 0;
  for (int g = 0; g < 2; g++)             /* GQA 8/2 with hidden 80; MQA 8/1 with hidden 136 */
    for (int ri = 0; ri < 2; ri++)
      for (int il = 0; il < 2; il++)
        for (int pi = 0; pi < 2; pi++)
          for (size_t si = 0; si < 3; si++)
            run_qkv(cf, cc, dt, seqs[si], g ? 136 : 80, 8, g ? 1 : 2, 64, ri ? 32 : 64, il,
                    pi ? 5 : 0, off++);
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    tu_check_done(&cf[ii], "fused_qkv_rope_q4 %s %s: GQA/MQA, head_dim 64, rotary 64/32, both "
                  "layouts, pos 0/5, seq 1/3/20 vs double composition", tu_dtname(dt), tu_isa_name(ii));
    tu_check_done(&cc[ii], "fused_qkv_rope_q4 %s %s: vs gemm_q4 + rope_with_pos", tu_dtname(dt),
                  tu_isa_name(ii));
  }
}

/* ------------------------------------------------------------------ fused_ffn_q4 */
enum { RES_SEP, RES_NULL, OUT_IS_RES, SUM_IS_RES };
static const char *const MODE_NAME[] = { "residual", "residual NULL", "out = residual",
                                         "sum_out = residual" };

/* out = res + (swiglu(xq.Wg^T, xq.Wu^T))q . Wd^T in double, and its bound;
 * rmid: relative rounding of every intermediate (0 for the fused op) */
static void ffn_ref(const double *x, const double *Wg, const double *sg, const double *Wu,
                    const double *su, const double *Wd, const double *sd, const double *res,
                    double *out, double *tol, size_t m, size_t hidden, size_t ffn, double rmid)
{
  size_t mf = m * ffn, mh = m * hidden;
  double *xh = act_for(x, m, hidden);
  double *g = tu_dalloc(mf), *u = tu_dalloc(mf), *eg = tu_dalloc(mf), *eu = tu_dalloc(mf);
  double *h = tu_dalloc(mf), *eh = tu_dalloc(mf), *hq = tu_dalloc(mf), *eo = tu_dalloc(mf);
  double *y = tu_dalloc(mh), *ey = tu_dalloc(mh);
  lin_q(xh, Wg, sg, g, eg, m, ffn, hidden);
  lin_q(xh, Wu, su, u, eu, m, ffn, hidden);
  for (size_t i = 0; i < mf; i++) {
    eg[i] = eg[i] * tu_acc_eps(hidden) + rmid * fabs(g[i]);
    eu[i] = eu[i] * tu_acc_eps(hidden) + rmid * fabs(u[i]);
    double sgl = ref_silu1(g[i]);
    h[i] = sgl * u[i];
    eh[i] = 1.1 * fabs(u[i]) * eg[i] + fabs(sgl) * eu[i] + eg[i] * eu[i] + 6 * 0x1p-23 * fabs(h[i])
            + rmid * fabs(h[i]);
  }
  if (!ref_exact) {
    for (size_t i = 0; i < m; i++)
      qact_approx_row(h + i * ffn, eh + i * ffn, ffn, hq + i * ffn, eo + i * ffn);
  } else {
    memcpy(hq, h, mf * sizeof *hq);
    memcpy(eo, eh, mf * sizeof *eo);
  }
  lin_q(hq, Wd, sd, y, ey, m, hidden, ffn);
  for (size_t i = 0; i < mh; i++)
    ey[i] *= tu_acc_eps(ffn);
  lin_prop(eo, Wd, sd, ey, m, hidden, ffn);
  for (size_t i = 0; i < mh; i++) {
    double r = res ? res[i] : 0.0;
    out[i] = r + y[i];
    tol[i] = ey[i] + rmid * fabs(y[i]) + 0x1p-23 * (fabs(r) + fabs(y[i]));
  }
  free(xh); free(g); free(u); free(eg); free(eu); free(h); free(eh); free(hq); free(eo);
  free(y); free(ey);
}

static void run_ffn(tu_check *cf, tu_check *cc, tu_dtype dt, size_t m, size_t hidden, size_t ffn,
                    int mode, size_t off)
{
  size_t bgu = ffn * (hidden / 2), bd = hidden * (ffn / 2), mh = m * hidden, mf = m * ffn;
  tu_arr x, sg, su, sd, res, o, g2, u2, h2, d2, o2;
  tu_buf wg, wu, wd;
  arr_rand(&x, dt, m * hidden, off, -1, 1);
  tu_buf_alloc(&wg, bgu, off % 4);
  tu_buf_alloc(&wu, bgu, (off + 1) % 4);
  tu_buf_alloc(&wd, bd, (off + 2) % 4);
  tu_buf_random(&wg);
  tu_buf_random(&wu);
  tu_buf_random(&wd);
  tu_arr_alloc(&sg, TU_F32, ffn, off % 4);
  tu_arr_alloc(&su, TU_F32, ffn, (off + 1) % 4);
  tu_arr_alloc(&sd, TU_F32, hidden, (off + 2) % 4);
  rand_scales(&sg, 4, hidden);
  rand_scales(&su, 4, hidden);
  rand_scales(&sd, 4, ffn);
  arr_rand(&res, dt, mh, off + 3, -1, 1);
  arr_out(&o, dt, mh, off + 1);
  arr_out(&g2, dt, mf, off);
  arr_out(&u2, dt, mf, off + 1);
  arr_out(&h2, dt, mf, off + 2);
  arr_out(&d2, dt, mh, off + 3);
  arr_out(&o2, dt, mh, off);

  double *Wg = decode_mat(4, wg.p, ffn, hidden), *Wu = decode_mat(4, wu.p, ffn, hidden);
  double *Wd = decode_mat(4, wd.p, hidden, ffn);
  const double *rres = mode == RES_NULL ? NULL : res.v;
  double *ref = tu_dalloc(mh), *tf = tu_dalloc(mh), *ref2 = tu_dalloc(mh), *tc = tu_dalloc(mh);
  ffn_ref(x.v, Wg, sg.v, Wu, su.v, Wd, sd.v, rres, ref, tf, m, hidden, ffn, 0.0);
  ffn_ref(x.v, Wg, sg.v, Wu, su.v, Wd, sd.v, rres, ref2, tc, m, hidden, ffn, tu_out_rtol(dt));
  {
    /* cross-check: without quantization the reference is ref.c's composition */
    {
      double *rx = tu_dalloc(mh), *tx = tu_dalloc(mh);
      ref_exact = 1;
      ffn_ref(x.v, Wg, sg.v, Wu, su.v, Wd, sd.v, rres, rx, tx, m, hidden, ffn, 0.0);
      ref_exact = 0;
      double *wgs = tu_dalloc(ffn * hidden), *wus = tu_dalloc(ffn * hidden);
      double *wds = tu_dalloc(hidden * ffn), *r3 = tu_dalloc(mh);
      for (size_t r = 0; r < ffn; r++)
        for (size_t j = 0; j < hidden; j++) {
          wgs[r * hidden + j] = sg.v[r] * Wg[r * hidden + j];
          wus[r * hidden + j] = su.v[r] * Wu[r * hidden + j];
        }
      for (size_t r = 0; r < hidden; r++)
        for (size_t j = 0; j < ffn; j++)
          wds[r * ffn + j] = sd.v[r] * Wd[r * ffn + j];
      ref_fused_ffn(x.v, wgs, wus, wds, rres, r3, m, hidden, ffn);
      for (size_t i = 0; i < mh; i++)
        if (fabs(r3[i] - rx[i]) > 1e-9 * (1 + fabs(r3[i])))
          bail_out("test bug: fused_ffn_q4 references disagree");
      free(wgs); free(wus); free(wds); free(r3); free(rx); free(tx);
    }
  }

  char ctx[160];
  snprintf(ctx, sizeof ctx, "fused_ffn_q4 m=%zu hidden=%zu ffn=%zu %s", m, hidden, ffn,
           MODE_NAME[mode]);
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    gllmk_status st;
    tu_isa_set(ii);
    tu_arr_set(&res, res.v);   /* restore (out may alias it) */
    tu_arr_poison(&o); tu_arr_poison(&g2); tu_arr_poison(&u2); tu_arr_poison(&h2);
    tu_arr_poison(&d2); tu_arr_poison(&o2);
    /* the library's composition first, while residual is pristine */
    st = TU_CALL(dt, gemm_q4, wg.p, bgu, x.p, g2.p, sg.p, m, ffn, hidden);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, gemm_q4, wu.p, bgu, x.p, u2.p, su.p, m, ffn, hidden);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, swiglu, g2.p, u2.p, h2.p, mf);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, gemm_q4, wd.p, bd, h2.p, mode == RES_NULL ? o2.p : d2.p, sd.p, m, hidden, ffn);
    if (st == GLLMK_OK && mode != RES_NULL)
      st = TU_CALL(dt, vec_add, d2.p, res.p, o2.p, mh);
    int cok = tu_check_status(&cc[ii], st, GLLMK_OK, "%s: composition", ctx);

    const void *pres = mode == RES_NULL ? NULL : res.p;
    void *pout = mode == OUT_IS_RES ? res.p : o.p;
    st = TU_CALL(dt, fused_ffn_q4, x.p, wg.p, bgu, sg.p, wu.p, bgu, su.p, wd.p, bd, sd.p, pres, pout,
                 m, hidden, ffn);
    if (tu_check_status(&cf[ii], st, GLLMK_OK, "%s", ctx)) {
      cmp_arr(&cf[ii], dt, pout, mh, ref, tf, ctx, "out");
      if (cok)
        cmp_two(&cc[ii], dt, pout, o2.p, mh, ref, tf, tc, ctx, "out");
    }
    if (mode != OUT_IS_RES)
      tu_check_input(&cf[ii], &res, "residual");
    else
      tu_check_true(&cf[ii], tu_arr_unchanged(&o), "%s: unused out written", ctx);
    tu_check_guards(&cf[ii], &res, "residual");
    tu_check_guards(&cf[ii], &o, "out");
    tu_check_input(&cf[ii], &x, "x");
    tu_check_input(&cf[ii], &sg, "s_gate");
    tu_check_input(&cf[ii], &su, "s_up");
    tu_check_input(&cf[ii], &sd, "s_down");
    tu_buf_check_input(&cf[ii], &wg, "w_gate");
    tu_buf_check_input(&cf[ii], &wu, "w_up");
    tu_buf_check_input(&cf[ii], &wd, "w_down");
  }

  free(Wg); free(Wu); free(Wd); free(ref); free(tf); free(ref2); free(tc);
  tu_arr_free(&x); tu_arr_free(&sg); tu_arr_free(&su); tu_arr_free(&sd); tu_arr_free(&res);
  tu_arr_free(&o); tu_arr_free(&g2); tu_arr_free(&u2); tu_arr_free(&h2); tu_arr_free(&d2);
  tu_arr_free(&o2);
  tu_buf_free(&wg); tu_buf_free(&wu); tu_buf_free(&wd);
}

static void test_ffn(tu_dtype dt)
{
  static const size_t ms[] = { 1, 4, 20 };
  static const size_t shapes[][2] = { { 64, 128 }, { 256, 512 }, { 72, 144 } };
  tu_check cf[TU_MAX_ISA], cc[TU_MAX_ISA];
  checks_init(cf);
  checks_init(cc);
  size_t off = 0;
  for (size_t mi = 0; mi < 3; mi++)
    for (size_t si = 0; si < 3; si++)
      for (int mode = RES_SEP; mode <= OUT_IS_RES; mode++)
        run_ffn(cf, cc, dt, ms[mi], shapes[si][0], shapes[si][1], mode, off++);
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    tu_check_done(&cf[ii], "fused_ffn_q4 %s %s: m 1/4/20, hidden x ffn 64x128, 256x512, 72x144, "
                  "residual / NULL / aliased by out, vs double composition", tu_dtname(dt),
                  tu_isa_name(ii));
    tu_check_done(&cc[ii], "fused_ffn_q4 %s %s: vs gemm_q4 + swiglu + gemm_q4 + vec_add",
                  tu_dtname(dt), tu_isa_name(ii));
  }
}

/* ------------------------------------------------------------------ int8/int4 linear + residual + rmsnorm */
/* s = xq.(diag(sc) W)^T + res, out = rms_norm(s) nw, with bounds; rmid as ffn_ref */
static void lrr_ref(const double *x, const double *W, const double *sc, const double *res,
                    const double *nw, double *s, double *es, double *out, double *tol, size_t m,
                    size_t n, size_t k, double eps, double rmid)
{
  double *xh = act_for(x, m, k);
  lin_q(xh, W, sc, s, es, m, n, k);
  for (size_t i = 0; i < m * n; i++) {
    double r = res ? res[i] : 0.0, l = s[i];
    s[i] = l + r;
    es[i] = es[i] * tu_acc_eps(k) + rmid * (fabs(l) + fabs(s[i])) + 0x1p-23 * (fabs(l) + fabs(r));
  }
  ref_rms_norm_err(s, es, nw, out, tol, m, n, eps);
  free(xh);
}

static void run_lrr(tu_check *cf, tu_check *cc, tu_dtype dt, int bits, size_t m, size_t n,
                    size_t k, int mode, int want_sum, size_t off)
{
  const float eps = 1e-5f;
  size_t wb = n * row_bytes(bits, k), mn = m * n;
  tu_arr x, sc, res, nw, o, so, y2, s2, o2;
  tu_buf w;
  arr_rand(&x, dt, m * k, off, -1, 1);
  tu_buf_alloc(&w, wb, (off + 1) % 4);
  tu_buf_random(&w);
  tu_arr_alloc(&sc, TU_F32, n, (off + 2) % 4);
  rand_scales(&sc, bits, k);
  arr_rand(&res, dt, mn, off + 3, -1, 1);
  arr_rand(&nw, dt, n, off, 0.5, 1.5);
  arr_out(&o, dt, mn, off + 1);
  arr_out(&so, dt, mn, off + 2);
  arr_out(&y2, dt, mn, off);
  arr_out(&s2, dt, mn, off + 1);
  arr_out(&o2, dt, mn, off + 2);

  double *W = decode_mat(bits, w.p, n, k);
  const double *rres = mode == RES_NULL ? NULL : res.v;
  double *s = tu_dalloc(mn), *es = tu_dalloc(mn), *ref = tu_dalloc(mn), *tf = tu_dalloc(mn);
  double *sC = tu_dalloc(mn), *esC = tu_dalloc(mn), *refC = tu_dalloc(mn), *tc = tu_dalloc(mn);
  lrr_ref(x.v, W, sc.v, rres, nw.v, s, es, ref, tf, m, n, k, eps, 0.0);
  lrr_ref(x.v, W, sc.v, rres, nw.v, sC, esC, refC, tc, m, n, k, eps, tu_out_rtol(dt));
  if (rres) {
    /* cross-check against ref.c's composition, without quantization */
    double *sx = tu_dalloc(mn), *esx = tu_dalloc(mn), *rx = tu_dalloc(mn), *tx = tu_dalloc(mn);
    ref_exact = 1;
    lrr_ref(x.v, W, sc.v, rres, nw.v, sx, esx, rx, tx, m, n, k, eps, 0.0);
    ref_exact = 0;
    double *ws = tu_dalloc(n * k), *r3 = tu_dalloc(mn), *s3 = tu_dalloc(mn);
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < k; j++)
        ws[r * k + j] = sc.v[r] * W[r * k + j];
    ref_fused_linear_residual_rmsnorm(x.v, ws, rres, nw.v, r3, s3, m, n, k, eps);
    for (size_t i = 0; i < mn; i++)
      if (fabs(r3[i] - rx[i]) > 1e-9 * (1 + fabs(r3[i])) || fabs(s3[i] - sx[i]) > 1e-9 * (1 + fabs(sx[i])))
        bail_out("test bug: linear_residual_rmsnorm references disagree");
    free(ws); free(r3); free(s3); free(sx); free(esx); free(rx); free(tx);
  }

  char ctx[192];
  snprintf(ctx, sizeof ctx, "fused_int%d_linear_residual_rmsnorm m=%zu n=%zu k=%zu %s sum_out=%s",
           bits, m, n, k, MODE_NAME[mode], want_sum ? "yes" : "NULL");
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    gllmk_status st;
    tu_isa_set(ii);
    tu_arr_set(&res, res.v);   /* restore (out / sum_out may alias it) */
    tu_arr_poison(&o); tu_arr_poison(&so); tu_arr_poison(&y2); tu_arr_poison(&s2);
    tu_arr_poison(&o2);
    /* composition first: gemm_q*, vec_add, rms_norm */
    st = call_gemm(dt, bits, w.p, wb, x.p, mode == RES_NULL ? s2.p : y2.p, sc.p, m, n, k);
    if (st == GLLMK_OK && mode != RES_NULL)
      st = TU_CALL(dt, vec_add, y2.p, res.p, s2.p, mn);
    if (st == GLLMK_OK)
      st = TU_CALL(dt, rms_norm, s2.p, nw.p, o2.p, m, n, eps);
    int cok = tu_check_status(&cc[ii], st, GLLMK_OK, "%s: composition", ctx);

    const void *pres = mode == RES_NULL ? NULL : res.p;
    void *pout = mode == OUT_IS_RES ? res.p : o.p;
    void *psum = !want_sum ? NULL : mode == SUM_IS_RES ? res.p : so.p;
    st = call_lrr(dt, bits, x.p, w.p, wb, sc.p, pres, nw.p, pout, psum, m, n, k, eps);
    if (tu_check_status(&cf[ii], st, GLLMK_OK, "%s", ctx)) {
      cmp_arr(&cf[ii], dt, pout, mn, ref, tf, ctx, "out");
      if (want_sum)
        cmp_arr(&cf[ii], dt, psum, mn, s, es, ctx, "sum_out");
      if (cok) {
        cmp_two(&cc[ii], dt, pout, o2.p, mn, ref, tf, tc, ctx, "out");
        if (want_sum)
          cmp_two(&cc[ii], dt, psum, s2.p, mn, s, es, esC, ctx, "sum_out");
      }
    }
    if (mode != OUT_IS_RES && !(mode == SUM_IS_RES && want_sum))
      tu_check_input(&cf[ii], &res, "residual");
    tu_check_guards(&cf[ii], &res, "residual");
    if (mode == OUT_IS_RES)
      tu_check_true(&cf[ii], tu_arr_unchanged(&o), "%s: unused out written", ctx);
    if (!(want_sum && mode != SUM_IS_RES))
      tu_check_true(&cf[ii], tu_arr_unchanged(&so), "%s: sum_out buffer written although not passed",
                    ctx);
    tu_check_guards(&cf[ii], &o, "out");
    tu_check_guards(&cf[ii], &so, "sum_out");
    tu_check_input(&cf[ii], &x, "x");
    tu_check_input(&cf[ii], &sc, "scales");
    tu_check_input(&cf[ii], &nw, "norm_w");
    tu_buf_check_input(&cf[ii], &w, "w");
  }

  free(W); free(s); free(es); free(ref); free(tf); free(sC); free(esC); free(refC); free(tc);
  tu_arr_free(&x); tu_arr_free(&sc); tu_arr_free(&res); tu_arr_free(&nw); tu_arr_free(&o);
  tu_arr_free(&so); tu_arr_free(&y2); tu_arr_free(&s2); tu_arr_free(&o2);
  tu_buf_free(&w);
}

static void test_lrr(tu_dtype dt)
{
  static const size_t ms[] = { 1, 4, 20 };
  static const size_t shapes[][2] = { { 64, 80 }, { 136, 256 }, { 33, 1000 } };
  static const int modes[][2] = { { RES_SEP, 1 }, { RES_SEP, 0 }, { RES_NULL, 1 },
                                  { RES_NULL, 0 }, { OUT_IS_RES, 0 }, { OUT_IS_RES, 1 },
                                  { SUM_IS_RES, 1 } };
  tu_check cf[TU_MAX_ISA], cc[TU_MAX_ISA];
  for (int bits = 8; bits >= 4; bits -= 4) {
    checks_init(cf);
    checks_init(cc);
    size_t off = 0;
    for (size_t mi = 0; mi < 3; mi++)
      for (size_t si = 0; si < 3; si++)
        for (size_t mo = 0; mo < 7; mo++)
          run_lrr(cf, cc, dt, bits, ms[mi], shapes[si][0], shapes[si][1], modes[mo][0],
                  modes[mo][1], off++);
    for (int ii = 0; ii < tu_isa_count(); ii++) {
      tu_check_done(&cf[ii], "fused_int%d_linear_residual_rmsnorm %s %s: m 1/4/20, sum_out NULL "
                    "/ separate / aliasing residual, out aliasing residual, residual NULL, vs "
                    "double composition", bits, tu_dtname(dt), tu_isa_name(ii));
      tu_check_done(&cc[ii], "fused_int%d_linear_residual_rmsnorm %s %s: vs gemm_q%d + vec_add + "
                    "rms_norm", bits, tu_dtname(dt), tu_isa_name(ii), bits);
    }
  }
}

/* ------------------------------------------------------------------ NaN activations */
/* rows [0, m) of an output with `per` values per row: row nan_row all NaN,
 * the others all finite */
static void check_nan_rows(tu_check *c, tu_dtype dt, const void *p, size_t m, size_t per,
                           size_t nan_row, const char *ctx, const char *what)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < per; j++) {
      double v = tu_get(dt, p, i * per + j);
      int good = i == nan_row ? isnan(v) : isfinite(v);
      if (!tu_check_true(c, good, "%s: %s[%zu][%zu] = %g, expected %s", ctx, what, i, j, v,
                         i == nan_row ? "NaN" : "a finite value"))
        return;
    }
}

static void set_nan(tu_arr *a, size_t i)
{
  tu_put(a->dt, a->p, i, NAN);
  a->v[i] = NAN;
  tu_arr_snapshot(a);
}

static void test_nan(const char *isa, tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  char ctx[160];
  static const size_t poss[] = { 0, 13, 31, 32, 63 };   /* positions in a row of 64 */

  /* gemv: NaN anywhere -> NaN */
  for (int bits = 8; bits >= 1; bits /= 2)
    for (size_t pi = 0; pi < 5; pi++) {
      size_t n = 64;
      tu_buf w;
      tu_buf_alloc(&w, vec_bytes(bits, n), 1);
      tu_buf_random(&w);
      tu_arr x;
      arr_rand(&x, dt, n, pi, -1, 1);
      set_nan(&x, poss[pi]);
      float r = 0.0f;
      gllmk_status st = call_gemv(dt, bits, w.p, w.n, x.p, 0.5f, n, &r);
      if (tu_check_status(&c, st, GLLMK_OK, "gemv_q%d NaN at %zu", bits, poss[pi]))
        tu_check_true(&c, isnan(r), "gemv_q%d n=64 NaN at x[%zu]: result %g, expected NaN", bits,
                      poss[pi], r);
      tu_arr_free(&x);
      tu_buf_free(&w);
    }

  /* gemm / fused ops: m = 3 (decode GEMV) and m = 17 (int8 GEMM), NaN in row 1 */
  static const size_t mrows[] = { 3, 17 };
  for (size_t mi = 0; mi < 2; mi++)
    for (size_t pi = 0; pi < 5; pi++) {
      size_t m = mrows[mi], K = 64, N = 40, p = poss[pi];
      for (int bits = 8; bits >= 4; bits -= 4) {
        tu_buf w;
        tu_buf_alloc(&w, N * row_bytes(bits, K), 0);
        tu_buf_random(&w);
        tu_arr sc, x, y, res, nw, o, so;
        tu_arr_alloc(&sc, TU_F32, N, 1);
        rand_scales(&sc, bits, K);
        arr_rand(&x, dt, m * K, 3, -1, 1);
        set_nan(&x, 1 * K + p);
        arr_out(&y, dt, m * N, 1);
        snprintf(ctx, sizeof ctx, "gemm_q%d m=%zu n=%zu k=%zu NaN at x[1][%zu]", bits, m, N, K, p);
        gllmk_status st = call_gemm(dt, bits, w.p, w.n, x.p, y.p, sc.p, m, N, K);
        if (tu_check_status(&c, st, GLLMK_OK, "%s", ctx))
          check_nan_rows(&c, dt, y.p, m, N, 1, ctx, "y");
        /* linear + residual + rmsnorm */
        arr_rand(&res, dt, m * N, 2, -1, 1);
        arr_rand(&nw, dt, N, 0, 0.5, 1.5);
        arr_out(&o, dt, m * N, 3);
        arr_out(&so, dt, m * N, 2);
        snprintf(ctx, sizeof ctx, "fused_int%d_linear_residual_rmsnorm m=%zu n=%zu k=%zu NaN at "
                 "x[1][%zu]", bits, m, N, K, p);
        st = call_lrr(dt, bits, x.p, w.p, w.n, sc.p, res.p, nw.p, o.p, so.p, m, N, K, 1e-5f);
        if (tu_check_status(&c, st, GLLMK_OK, "%s", ctx)) {
          check_nan_rows(&c, dt, o.p, m, N, 1, ctx, "out");
          check_nan_rows(&c, dt, so.p, m, N, 1, ctx, "sum_out");
        }
        tu_arr_free(&sc); tu_arr_free(&x); tu_arr_free(&y); tu_arr_free(&res);
        tu_arr_free(&nw); tu_arr_free(&o); tu_arr_free(&so);
        tu_buf_free(&w);
      }
      {
        /* fused_ffn_q4: hidden 64, ffn 96 */
        size_t H = 64, F = 96;
        tu_buf wg, wu, wd;
        tu_buf_alloc(&wg, F * H / 2, 0);
        tu_buf_alloc(&wu, F * H / 2, 1);
        tu_buf_alloc(&wd, H * F / 2, 2);
        tu_buf_random(&wg);
        tu_buf_random(&wu);
        tu_buf_random(&wd);
        tu_arr sg, su, sd, x, res, o;
        tu_arr_alloc(&sg, TU_F32, F, 0);
        tu_arr_alloc(&su, TU_F32, F, 1);
        tu_arr_alloc(&sd, TU_F32, H, 2);
        rand_scales(&sg, 4, H);
        rand_scales(&su, 4, H);
        rand_scales(&sd, 4, F);
        arr_rand(&x, dt, m * H, 1, -1, 1);
        set_nan(&x, 1 * H + p);
        arr_rand(&res, dt, m * H, 2, -1, 1);
        arr_out(&o, dt, m * H, 3);
        snprintf(ctx, sizeof ctx, "fused_ffn_q4 m=%zu hidden=%zu ffn=%zu NaN at x[1][%zu]", m, H, F,
                 p);
        gllmk_status st = TU_CALL(dt, fused_ffn_q4, x.p, wg.p, wg.n, sg.p, wu.p, wu.n, su.p, wd.p,
                                  wd.n, sd.p, res.p, o.p, m, H, F);
        if (tu_check_status(&c, st, GLLMK_OK, "%s", ctx))
          check_nan_rows(&c, dt, o.p, m, H, 1, ctx, "out");
        tu_arr_free(&sg); tu_arr_free(&su); tu_arr_free(&sd); tu_arr_free(&x);
        tu_arr_free(&res); tu_arr_free(&o);
        tu_buf_free(&wg); tu_buf_free(&wu); tu_buf_free(&wd);
      }
      {
        /* fused_qkv_rope_q4: hidden 64, heads 4/2, head_dim 16, rotary 16 */
        size_t H = 64, hd = 16, nq = 4 * hd, nk = 2 * hd, rows = (m + 2) * 8;
        tu_buf wq, wk, wv;
        tu_buf_alloc(&wq, nq * H / 2, 0);
        tu_buf_alloc(&wk, nk * H / 2, 1);
        tu_buf_alloc(&wv, nk * H / 2, 2);
        tu_buf_random(&wq);
        tu_buf_random(&wk);
        tu_buf_random(&wv);
        tu_arr sq, sk, sv, x, cs, sn, q, k, v;
        tu_arr_alloc(&sq, TU_F32, nq, 0);
        tu_arr_alloc(&sk, TU_F32, nk, 1);
        tu_arr_alloc(&sv, TU_F32, nk, 2);
        rand_scales(&sq, 4, H);
        rand_scales(&sk, 4, H);
        rand_scales(&sv, 4, H);
        arr_rand(&x, dt, m * H, 1, -1, 1);
        set_nan(&x, 1 * H + p);
        arr_rand(&cs, dt, rows, 1, -1, 1);
        arr_rand(&sn, dt, rows, 2, -1, 1);
        arr_out(&q, dt, m * nq, 1);
        arr_out(&k, dt, m * nk, 2);
        arr_out(&v, dt, m * nk, 3);
        snprintf(ctx, sizeof ctx, "fused_qkv_rope_q4 seq=%zu hidden=%zu NaN at x[1][%zu]", m, H, p);
        gllmk_status st = TU_CALL(dt, fused_qkv_rope_q4, x.p, wq.p, wq.n, sq.p, wk.p, wk.n, sk.p,
                                  wv.p, wv.n, sv.p, cs.p, sn.p, q.p, k.p, v.p, m, H, 4, 2, hd, hd,
                                  false, 2);
        if (tu_check_status(&c, st, GLLMK_OK, "%s", ctx)) {
          check_nan_rows(&c, dt, q.p, m, nq, 1, ctx, "q");
          check_nan_rows(&c, dt, k.p, m, nk, 1, ctx, "k");
          check_nan_rows(&c, dt, v.p, m, nk, 1, ctx, "v");
        }
        tu_arr_free(&sq); tu_arr_free(&sk); tu_arr_free(&sv); tu_arr_free(&x);
        tu_arr_free(&cs); tu_arr_free(&sn); tu_arr_free(&q); tu_arr_free(&k); tu_arr_free(&v);
        tu_buf_free(&wq); tu_buf_free(&wk); tu_buf_free(&wv);
      }
    }
  tu_check_done(&c, "NaN activations %s %s: NaN in the affected row (gemv: the result) at "
                "positions 0/13/31/32/63 of a row, m 3 and 17, other rows finite", tu_dtname(dt),
                isa);
}

/* ------------------------------------------------------------------ threads */
static int set_threads(int t)
{
  return gllmk_set_num_threads(t) == GLLMK_OK;
}

static void test_threads(const char *isa, tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  int saved = gllmk_get_num_threads();
  size_t es = tu_esize(dt);
  char ctx[160];

  /* gemm_q8/q4 and the linear + residual + rmsnorm: (m, n, k) */
  static const size_t gs[][3] = { { 3, 256, 2048 }, { 20, 200, 256 } };
  for (int bits = 8; bits >= 4; bits -= 4)
    for (size_t gi = 0; gi < 2; gi++) {
      size_t m = gs[gi][0], n = gs[gi][1], k = gs[gi][2], mn = m * n;
      tu_buf w;
      tu_buf_alloc(&w, n * row_bytes(bits, k), 1);
      tu_buf_random(&w);
      tu_arr sc, x, res, nw, y1, y2, o1, o2, s1, s2;
      tu_arr_alloc(&sc, TU_F32, n, 0);
      rand_scales(&sc, bits, k);
      arr_rand(&x, dt, m * k, 1, -1, 1);
      arr_rand(&res, dt, mn, 2, -1, 1);
      arr_rand(&nw, dt, n, 3, 0.5, 1.5);
      arr_out(&y1, dt, mn, 0); arr_out(&y2, dt, mn, 0);
      arr_out(&o1, dt, mn, 1); arr_out(&o2, dt, mn, 1);
      arr_out(&s1, dt, mn, 2); arr_out(&s2, dt, mn, 2);
      gllmk_status st[4];
      tu_check_true(&c, set_threads(1), "gllmk_set_num_threads(1)");
      st[0] = call_gemm(dt, bits, w.p, w.n, x.p, y1.p, sc.p, m, n, k);
      st[1] = call_lrr(dt, bits, x.p, w.p, w.n, sc.p, res.p, nw.p, o1.p, s1.p, m, n, k, 1e-5f);
      tu_check_true(&c, set_threads(2), "gllmk_set_num_threads(2)");
      st[2] = call_gemm(dt, bits, w.p, w.n, x.p, y2.p, sc.p, m, n, k);
      st[3] = call_lrr(dt, bits, x.p, w.p, w.n, sc.p, res.p, nw.p, o2.p, s2.p, m, n, k, 1e-5f);
      snprintf(ctx, sizeof ctx, "gemm_q%d / fused_int%d_linear_residual_rmsnorm m=%zu n=%zu k=%zu",
               bits, bits, m, n, k);
      for (int i = 0; i < 4; i++)
        tu_check_status(&c, st[i], GLLMK_OK, "%s call %d", ctx, i);
      tu_check_true(&c, !memcmp(y1.p, y2.p, mn * es), "%s: gemm differs on 1 and 2 threads", ctx);
      tu_check_true(&c, !memcmp(o1.p, o2.p, mn * es), "%s: out differs on 1 and 2 threads", ctx);
      tu_check_true(&c, !memcmp(s1.p, s2.p, mn * es), "%s: sum_out differs on 1 and 2 threads",
                    ctx);
      tu_arr_free(&sc); tu_arr_free(&x); tu_arr_free(&res); tu_arr_free(&nw);
      tu_arr_free(&y1); tu_arr_free(&y2); tu_arr_free(&o1); tu_arr_free(&o2);
      tu_arr_free(&s1); tu_arr_free(&s2);
      tu_buf_free(&w);
    }

  /* fused_ffn_q4: (m, hidden, ffn) */
  static const size_t fs[][3] = { { 4, 512, 512 }, { 20, 256, 256 } };
  for (size_t fi = 0; fi < 2; fi++) {
    size_t m = fs[fi][0], H = fs[fi][1], F = fs[fi][2];
    tu_buf wg, wu, wd;
    tu_buf_alloc(&wg, F * H / 2, 0);
    tu_buf_alloc(&wu, F * H / 2, 1);
    tu_buf_alloc(&wd, H * F / 2, 2);
    tu_buf_random(&wg);
    tu_buf_random(&wu);
    tu_buf_random(&wd);
    tu_arr sg, su, sd, x, res, o1, o2;
    tu_arr_alloc(&sg, TU_F32, F, 0);
    tu_arr_alloc(&su, TU_F32, F, 1);
    tu_arr_alloc(&sd, TU_F32, H, 2);
    rand_scales(&sg, 4, H);
    rand_scales(&su, 4, H);
    rand_scales(&sd, 4, F);
    arr_rand(&x, dt, m * H, 1, -1, 1);
    arr_rand(&res, dt, m * H, 2, -1, 1);
    arr_out(&o1, dt, m * H, 3);
    arr_out(&o2, dt, m * H, 3);
    gllmk_status s1, s2;
    set_threads(1);
    s1 = TU_CALL(dt, fused_ffn_q4, x.p, wg.p, wg.n, sg.p, wu.p, wu.n, su.p, wd.p, wd.n, sd.p,
                 res.p, o1.p, m, H, F);
    set_threads(2);
    s2 = TU_CALL(dt, fused_ffn_q4, x.p, wg.p, wg.n, sg.p, wu.p, wu.n, su.p, wd.p, wd.n, sd.p,
                 res.p, o2.p, m, H, F);
    snprintf(ctx, sizeof ctx, "fused_ffn_q4 m=%zu hidden=%zu ffn=%zu", m, H, F);
    tu_check_status(&c, s1, GLLMK_OK, "%s 1 thread", ctx);
    tu_check_status(&c, s2, GLLMK_OK, "%s 2 threads", ctx);
    tu_check_true(&c, !memcmp(o1.p, o2.p, m * H * es), "%s: out differs on 1 and 2 threads", ctx);
    tu_arr_free(&sg); tu_arr_free(&su); tu_arr_free(&sd); tu_arr_free(&x); tu_arr_free(&res);
    tu_arr_free(&o1); tu_arr_free(&o2);
    tu_buf_free(&wg); tu_buf_free(&wu); tu_buf_free(&wd);
  }

  /* fused_qkv_rope_q4: (seq, hidden), heads 8/2, head_dim 64, rotary 64 */
  static const size_t qs[][2] = { { 3, 1024 }, { 20, 256 } };
  for (size_t qi = 0; qi < 2; qi++) {
    size_t seq = qs[qi][0], H = qs[qi][1], hd = 64, nq = 8 * hd, nk = 2 * hd;
    size_t rows = (seq + 1) * hd / 2;
    tu_buf wq, wk, wv;
    tu_buf_alloc(&wq, nq * H / 2, 0);
    tu_buf_alloc(&wk, nk * H / 2, 1);
    tu_buf_alloc(&wv, nk * H / 2, 2);
    tu_buf_random(&wq);
    tu_buf_random(&wk);
    tu_buf_random(&wv);
    tu_arr sq, sk, sv, x, cs, sn, q[2], k[2], v[2];
    tu_arr_alloc(&sq, TU_F32, nq, 0);
    tu_arr_alloc(&sk, TU_F32, nk, 1);
    tu_arr_alloc(&sv, TU_F32, nk, 2);
    rand_scales(&sq, 4, H);
    rand_scales(&sk, 4, H);
    rand_scales(&sv, 4, H);
    arr_rand(&x, dt, seq * H, 1, -1, 1);
    arr_rand(&cs, dt, rows, 1, -1, 1);
    arr_rand(&sn, dt, rows, 2, -1, 1);
    gllmk_status st[2];
    for (int t = 0; t < 2; t++) {
      arr_out(&q[t], dt, seq * nq, 1);
      arr_out(&k[t], dt, seq * nk, 2);
      arr_out(&v[t], dt, seq * nk, 3);
      set_threads(t + 1);
      st[t] = TU_CALL(dt, fused_qkv_rope_q4, x.p, wq.p, wq.n, sq.p, wk.p, wk.n, sk.p, wv.p, wv.n,
                      sv.p, cs.p, sn.p, q[t].p, k[t].p, v[t].p, seq, H, 8, 2, hd, hd, true, 1);
    }
    snprintf(ctx, sizeof ctx, "fused_qkv_rope_q4 seq=%zu hidden=%zu", seq, H);
    tu_check_status(&c, st[0], GLLMK_OK, "%s 1 thread", ctx);
    tu_check_status(&c, st[1], GLLMK_OK, "%s 2 threads", ctx);
    tu_check_true(&c, !memcmp(q[0].p, q[1].p, seq * nq * es) &&
                  !memcmp(k[0].p, k[1].p, seq * nk * es) && !memcmp(v[0].p, v[1].p, seq * nk * es),
                  "%s: q/k/v differ on 1 and 2 threads", ctx);
    tu_arr_free(&sq); tu_arr_free(&sk); tu_arr_free(&sv); tu_arr_free(&x);
    tu_arr_free(&cs); tu_arr_free(&sn);
    for (int t = 0; t < 2; t++) {
      tu_arr_free(&q[t]);
      tu_arr_free(&k[t]);
      tu_arr_free(&v[t]);
    }
    tu_buf_free(&wq); tu_buf_free(&wk); tu_buf_free(&wv);
  }

  /* gemv (one vector: no threads, but it must not depend on them either) */
  for (int bits = 8; bits >= 1; bits /= 2) {
    size_t n = 100003;
    tu_buf w;
    tu_buf_alloc(&w, vec_bytes(bits, n), 3);
    tu_buf_random(&w);
    tu_arr x;
    arr_rand(&x, dt, n, 1, -1, 1);
    float r1 = 1.0f, r2 = 2.0f;
    set_threads(1);
    gllmk_status s1 = call_gemv(dt, bits, w.p, w.n, x.p, 0.75f, n, &r1);
    set_threads(2);
    gllmk_status s2 = call_gemv(dt, bits, w.p, w.n, x.p, 0.75f, n, &r2);
    tu_check_true(&c, s1 == GLLMK_OK && s2 == GLLMK_OK && !memcmp(&r1, &r2, sizeof r1),
                  "gemv_q%d n=%zu: %g on 1 thread, %g on 2", bits, n, r1, r2);
    tu_arr_free(&x);
    tu_buf_free(&w);
  }
  gllmk_set_num_threads(saved);
  tu_check_done(&c, "threads %s %s: every op bitwise the same on 1 and 2 threads", tu_dtname(dt),
                isa);
}

/* ------------------------------------------------------------------ bad input (forked) */
/* One fixture of small valid buffers per element type; each bad call runs in a
 * child process that reports its status and whether any buffer (data or
 * guards) changed, so that a missing check shows as a failure, not a crash. */
typedef struct bfx {
  tu_arr x, res, nw, cs, sn, sc, sc2, sc3, y, y2, y3, y4;
  tu_buf w, w2, w3, r;
} bfx;

static bfx FX;

static void fx_init(tu_dtype dt)
{
  arr_rand(&FX.x, dt, 512, 1, -1, 1);
  arr_rand(&FX.res, dt, 512, 2, -1, 1);
  arr_rand(&FX.nw, dt, 128, 3, 0.5, 1.5);
  arr_rand(&FX.cs, dt, 128, 1, -1, 1);
  arr_rand(&FX.sn, dt, 128, 2, -1, 1);
  tu_arr_alloc(&FX.sc, TU_F32, 128, 1);
  tu_arr_alloc(&FX.sc2, TU_F32, 128, 2);
  tu_arr_alloc(&FX.sc3, TU_F32, 128, 3);
  rand_scales(&FX.sc, 4, 8);
  rand_scales(&FX.sc2, 4, 8);
  rand_scales(&FX.sc3, 4, 8);
  arr_out(&FX.y, dt, 512, 1);
  arr_out(&FX.y2, dt, 512, 2);
  arr_out(&FX.y3, dt, 512, 3);
  arr_out(&FX.y4, dt, 512, 0);
  tu_buf_alloc(&FX.w, 1024, 1);
  tu_buf_alloc(&FX.w2, 1024, 2);
  tu_buf_alloc(&FX.w3, 1024, 3);
  tu_buf_random(&FX.w);
  tu_buf_random(&FX.w2);
  tu_buf_random(&FX.w3);
  tu_buf_alloc(&FX.r, sizeof(float), 0);
  memset(FX.r.p, TU_CANARY, FX.r.n);
  memcpy(FX.r.snap, FX.r.p, FX.r.n);
}

static void fx_free(void)
{
  tu_arr *as[] = { &FX.x, &FX.res, &FX.nw, &FX.cs, &FX.sn, &FX.sc, &FX.sc2, &FX.sc3,
                   &FX.y, &FX.y2, &FX.y3, &FX.y4 };
  for (size_t i = 0; i < sizeof as / sizeof *as; i++)
    tu_arr_free(as[i]);
  tu_buf_free(&FX.w);
  tu_buf_free(&FX.w2);
  tu_buf_free(&FX.w3);
  tu_buf_free(&FX.r);
}

static int fx_untouched(void)
{
  const tu_arr *as[] = { &FX.x, &FX.res, &FX.nw, &FX.cs, &FX.sn, &FX.sc, &FX.sc2, &FX.sc3,
                         &FX.y, &FX.y2, &FX.y3, &FX.y4 };
  for (size_t i = 0; i < sizeof as / sizeof *as; i++)
    if (!tu_arr_guards_ok(as[i]) || !tu_arr_unchanged(as[i]))
      return 0;
  const tu_buf *gs[] = { &FX.w, &FX.w2, &FX.w3, &FX.r };
  for (size_t i = 0; i < sizeof gs / sizeof *gs; i++)
    if (!tu_buf_guards_ok(gs[i]) || !tu_buf_unchanged(gs[i]))
      return 0;
  return 1;
}

#define EXPECT2(C, WANT, WANT2, DESC, EXPR)                                   \
  do {                                                                        \
    tu_iso m__;                                                               \
    TU_ISOLATE(m__, fx_untouched(), 0.0f, (EXPR));                            \
    tu_iso_check((C), &m__, (WANT), (WANT2), (DESC));                         \
  } while (0)
#define EXPECT(C, WANT, DESC, EXPR) EXPECT2(C, WANT, WANT, DESC, EXPR)
#define INVAL(DESC, EXPR) EXPECT(&c, GLLMK_E_INVAL, DESC, EXPR)
#define OVF(DESC, EXPR) EXPECT(&c, GLLMK_E_OVERFLOW, DESC, EXPR)

static const size_t HALF = SIZE_MAX / 2 + 1;   /* 2^63 on LP64: even, times 2 overflows */

static void bad_gemv(tu_dtype dt, int bits)
{
  tu_check c;
  tu_check_init(&c);
  const size_t n = 41, wb = vec_bytes(bits, n);
  const void *w = FX.w.p, *x = FX.x.p;
  float *r = (float *)(void *)FX.r.p;
  INVAL("w NULL", call_gemv(dt, bits, NULL, wb, x, 1.0f, n, r));
  INVAL("x NULL", call_gemv(dt, bits, w, wb, NULL, 1.0f, n, r));
  INVAL("result NULL", call_gemv(dt, bits, w, wb, x, 1.0f, n, NULL));
  INVAL("result NULL, n = 0", call_gemv(dt, bits, w, wb, x, 1.0f, 0, NULL));
  INVAL("w_bytes one short", call_gemv(dt, bits, w, wb - 1, x, 1.0f, n, r));
  INVAL("w_bytes 0", call_gemv(dt, bits, w, 0, x, 1.0f, n, r));
  INVAL("n = 1, w_bytes 0", call_gemv(dt, bits, w, 0, x, 1.0f, 1, r));
  /* n near SIZE_MAX with a 1-byte buffer: too short (or an overflow), never a read */
  static const size_t big[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 2, SIZE_MAX - 6, SIZE_MAX / 2 };
  for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
    char d[96];
    snprintf(d, sizeof d, "n = SIZE_MAX - %zu, w_bytes 1", SIZE_MAX - big[i]);
    EXPECT2(&c, GLLMK_E_INVAL, GLLMK_E_OVERFLOW, d, call_gemv(dt, bits, w, 1, x, 1.0f, big[i], r));
  }
  tu_check_done(&c, "gemv_q%d %s: NULL pointers, short w_bytes, huge n: right error, nothing "
                "touched", bits, tu_dtname(dt));
}

static void bad_gemm(tu_dtype dt, int bits)
{
  tu_check c;
  tu_check_init(&c);
  const size_t m = 2, n = 4, k = 8, wb = n * row_bytes(bits, k);
  const void *w = FX.w.p, *x = FX.x.p, *sc = FX.sc.p;
  void *y = FX.y.p;
  INVAL("w NULL", call_gemm(dt, bits, NULL, wb, x, y, sc, m, n, k));
  INVAL("x NULL", call_gemm(dt, bits, w, wb, NULL, y, sc, m, n, k));
  INVAL("y NULL", call_gemm(dt, bits, w, wb, x, NULL, sc, m, n, k));
  INVAL("scales NULL", call_gemm(dt, bits, w, wb, x, y, NULL, m, n, k));
  INVAL("w_bytes one short", call_gemm(dt, bits, w, wb - 1, x, y, sc, m, n, k));
  INVAL("w_bytes 0", call_gemm(dt, bits, w, 0, x, y, sc, m, n, k));
  INVAL("w_bytes one short, m = 20", call_gemm(dt, bits, w, wb - 1, x, y, sc, 20, n, k));
  if (bits == 4) {
    INVAL("k odd (7)", call_gemm(dt, bits, w, 1024, x, y, sc, m, n, 7));
    INVAL("k odd (1), m = 20", call_gemm(dt, bits, w, 1024, x, y, sc, 20, n, 1));
  }
  OVF("m * k overflows (m = 2^63)", call_gemm(dt, bits, w, wb, x, y, sc, HALF, n, k));
  OVF("m * n * sizeof(float) overflows (m = 2^62, k = 0)",
      call_gemm(dt, bits, w, wb, x, y, sc, HALF / 2, n, 0));
  OVF("n * row bytes overflows (n = 2^63)", call_gemm(dt, bits, w, SIZE_MAX, x, y, sc, 1, HALF, k));
  OVF("n * row bytes overflows (k = 2^63)", call_gemm(dt, bits, w, SIZE_MAX, x, y, sc, 1, n, HALF));
  OVF("m = n = k = 2^63", call_gemm(dt, bits, w, SIZE_MAX, x, y, sc, HALF, HALF, HALF));
  tu_check_done(&c, "gemm_q%d %s: NULL pointers, short w_bytes, odd k, size overflows: right "
                "error, nothing touched", bits, tu_dtname(dt));
}

/* valid call: seq 2, hidden 8, heads 4, kv_heads 2, head_dim 8, rotary 8, pos 1 */
#define QKV(X, WQ, BQ, SQ, WK, BK, SK, WV, BV, SV, CS, SN, Q, K, V, SEQ, HID, HE, KVH, HD, ROT, POS) \
  TU_CALL(dt, fused_qkv_rope_q4, X, WQ, BQ, SQ, WK, BK, SK, WV, BV, SV, CS, SN, Q, K, V, SEQ, HID,   \
          HE, KVH, HD, ROT, true, POS)
#define QKVS(SEQ, HID, HE, KVH, HD, ROT, POS)                                                        \
  QKV(x, wq, 512, sq, wk, 512, sk, wv, 512, sv, cs, sn, q, k, v, SEQ, HID, HE, KVH, HD, ROT, POS)

static void bad_qkv(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  const void *x = FX.x.p, *wq = FX.w.p, *wk = FX.w2.p, *wv = FX.w3.p;
  const void *sq = FX.sc.p, *sk = FX.sc2.p, *sv = FX.sc3.p, *cs = FX.cs.p, *sn = FX.sn.p;
  void *q = FX.y.p, *k = FX.y2.p, *v = FX.y3.p;
  const size_t bq = 32 * 4, bk = 16 * 4;
  INVAL("x NULL", QKV(NULL, wq, bq, sq, wk, bk, sk, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wq NULL", QKV(x, NULL, bq, sq, wk, bk, sk, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("sq NULL", QKV(x, wq, bq, NULL, wk, bk, sk, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wk NULL", QKV(x, wq, bq, sq, NULL, bk, sk, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("sk NULL", QKV(x, wq, bq, sq, wk, bk, NULL, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wv NULL", QKV(x, wq, bq, sq, wk, bk, sk, NULL, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("sv NULL", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk, NULL, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("cos NULL", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk, sv, NULL, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("sin NULL", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk, sv, cs, NULL, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("q NULL", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk, sv, cs, sn, NULL, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("k NULL", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk, sv, cs, sn, q, NULL, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("v NULL", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk, sv, cs, sn, q, k, NULL, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wq_bytes one short", QKV(x, wq, bq - 1, sq, wk, bk, sk, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wk_bytes one short", QKV(x, wq, bq, sq, wk, bk - 1, sk, wv, bk, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wv_bytes one short", QKV(x, wq, bq, sq, wk, bk, sk, wv, bk - 1, sv, cs, sn, q, k, v, 2, 8, 4, 2, 8, 8, 1));
  INVAL("wq_bytes one short, seq 20", QKV(x, wq, bq - 1, sq, wk, bk, sk, wv, bk, sv, cs, sn, q, k, v, 20, 8, 4, 2, 8, 8, 1));
  INVAL("hidden odd (7)", QKVS(2, 7, 4, 2, 8, 8, 1));
  INVAL("heads % kv_heads != 0 (4, 3)", QKVS(2, 8, 4, 3, 8, 8, 1));
  INVAL("kv_heads > heads (2, 4)", QKVS(2, 8, 2, 4, 8, 8, 1));
  INVAL("kv_heads == 0", QKVS(2, 8, 4, 0, 8, 8, 1));
  INVAL("rotary_dim odd (7)", QKVS(2, 8, 4, 2, 8, 7, 1));
  INVAL("rotary_dim > head_dim (10 > 8)", QKVS(2, 8, 4, 2, 8, 10, 1));
  OVF("seq * hidden overflows", QKVS(HALF, 8, 4, 2, 8, 8, 1));
  OVF("heads * head_dim overflows", QKVS(2, 8, HALF, 1, 8, 8, 1));
  OVF("kv_heads * head_dim overflows", QKVS(2, 8, HALF / 2, HALF / 2, 8, 8, 1));
  OVF("head_dim = 2^63 (heads * head_dim)", QKVS(2, 8, 4, 2, HALF, 8, 1));
  OVF("pos + seq overflows", QKVS(2, 8, 4, 2, 8, 8, SIZE_MAX - 1));
  OVF("(pos + seq) * rotary_dim / 2 overflows", QKVS(2, 8, 4, 2, 8, 8, HALF));
  tu_check_done(&c, "fused_qkv_rope_q4 %s: NULL pointers, short weights, odd hidden, bad head "
                "counts, bad rotary_dim, size overflows: right error, nothing touched",
                tu_dtname(dt));
}

#define FFN(X, WG, BG, SG, WU, BU, SU, WD, BD, SD, RES, OUT, M, H, F) \
  TU_CALL(dt, fused_ffn_q4, X, WG, BG, SG, WU, BU, SU, WD, BD, SD, RES, OUT, M, H, F)

static void bad_ffn(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  /* valid: m 2, hidden 8, ffn 16 */
  const void *x = FX.x.p, *wg = FX.w.p, *wu = FX.w2.p, *wd = FX.w3.p, *res = FX.res.p;
  const void *sg = FX.sc.p, *su = FX.sc2.p, *sd = FX.sc3.p;
  void *o = FX.y.p;
  const size_t b = 64;
  INVAL("x NULL", FFN(NULL, wg, b, sg, wu, b, su, wd, b, sd, res, o, 2, 8, 16));
  INVAL("w_gate NULL", FFN(x, NULL, b, sg, wu, b, su, wd, b, sd, res, o, 2, 8, 16));
  INVAL("s_gate NULL", FFN(x, wg, b, NULL, wu, b, su, wd, b, sd, res, o, 2, 8, 16));
  INVAL("w_up NULL", FFN(x, wg, b, sg, NULL, b, su, wd, b, sd, res, o, 2, 8, 16));
  INVAL("s_up NULL", FFN(x, wg, b, sg, wu, b, NULL, wd, b, sd, res, o, 2, 8, 16));
  INVAL("w_down NULL", FFN(x, wg, b, sg, wu, b, su, NULL, b, sd, res, o, 2, 8, 16));
  INVAL("s_down NULL", FFN(x, wg, b, sg, wu, b, su, wd, b, NULL, res, o, 2, 8, 16));
  INVAL("out NULL", FFN(x, wg, b, sg, wu, b, su, wd, b, sd, res, NULL, 2, 8, 16));
  INVAL("gate_bytes one short", FFN(x, wg, b - 1, sg, wu, b, su, wd, b, sd, res, o, 2, 8, 16));
  INVAL("up_bytes one short", FFN(x, wg, b, sg, wu, b - 1, su, wd, b, sd, res, o, 2, 8, 16));
  INVAL("down_bytes one short", FFN(x, wg, b, sg, wu, b, su, wd, b - 1, sd, res, o, 2, 8, 16));
  INVAL("down_bytes one short, m 20", FFN(x, wg, b, sg, wu, b, su, wd, b - 1, sd, res, o, 20, 8, 16));
  INVAL("hidden odd (9)", FFN(x, wg, 512, sg, wu, 512, su, wd, 512, sd, res, o, 2, 9, 16));
  INVAL("ffn odd (15)", FFN(x, wg, 512, sg, wu, 512, su, wd, 512, sd, res, o, 2, 8, 15));
  OVF("m * hidden overflows", FFN(x, wg, b, sg, wu, b, su, wd, b, sd, res, o, HALF, 8, 16));
  OVF("m * ffn overflows", FFN(x, wg, SIZE_MAX, sg, wu, SIZE_MAX, su, wd, SIZE_MAX, sd, res, o, 2, 8, HALF));
  OVF("ffn * hidden / 2 overflows (hidden 2^63)",
      FFN(x, wg, SIZE_MAX, sg, wu, SIZE_MAX, su, wd, SIZE_MAX, sd, res, o, 1, HALF, 16));
  tu_check_done(&c, "fused_ffn_q4 %s: NULL pointers, short weights, odd sizes, size overflows: "
                "right error, nothing touched", tu_dtname(dt));
}

static void bad_lrr(tu_dtype dt, int bits)
{
  tu_check c;
  tu_check_init(&c);
  const size_t m = 2, n = 4, k = 8, wb = n * row_bytes(bits, k);
  const void *x = FX.x.p, *w = FX.w.p, *sc = FX.sc.p, *res = FX.res.p, *nw = FX.nw.p;
  void *o = FX.y.p, *so = FX.y2.p;
  INVAL("x NULL", call_lrr(dt, bits, NULL, w, wb, sc, res, nw, o, so, m, n, k, 1e-5f));
  INVAL("w NULL", call_lrr(dt, bits, x, NULL, wb, sc, res, nw, o, so, m, n, k, 1e-5f));
  INVAL("scales NULL", call_lrr(dt, bits, x, w, wb, NULL, res, nw, o, so, m, n, k, 1e-5f));
  INVAL("norm_w NULL", call_lrr(dt, bits, x, w, wb, sc, res, NULL, o, so, m, n, k, 1e-5f));
  INVAL("out NULL", call_lrr(dt, bits, x, w, wb, sc, res, nw, NULL, so, m, n, k, 1e-5f));
  INVAL("w_bytes one short", call_lrr(dt, bits, x, w, wb - 1, sc, res, nw, o, so, m, n, k, 1e-5f));
  INVAL("w_bytes one short, m 20", call_lrr(dt, bits, x, w, wb - 1, sc, res, nw, o, so, 20, n, k, 1e-5f));
  INVAL("eps negative", call_lrr(dt, bits, x, w, wb, sc, res, nw, o, so, m, n, k, -1e-5f));
  INVAL("eps NaN", call_lrr(dt, bits, x, w, wb, sc, res, nw, o, so, m, n, k, NAN));
  INVAL("eps -inf", call_lrr(dt, bits, x, w, wb, sc, res, nw, o, so, m, n, k, -INFINITY));
  if (bits == 4)
    INVAL("k odd (7)", call_lrr(dt, bits, x, w, 512, sc, res, nw, o, so, m, n, 7, 1e-5f));
  OVF("m * k overflows", call_lrr(dt, bits, x, w, wb, sc, res, nw, o, so, HALF, n, k, 1e-5f));
  OVF("m * n * sizeof(float) overflows (k = 0)",
      call_lrr(dt, bits, x, w, wb, sc, res, nw, o, so, HALF / 2, n, 0, 1e-5f));
  OVF("n * row bytes overflows", call_lrr(dt, bits, x, w, SIZE_MAX, sc, res, nw, o, so, 1, HALF, k, 1e-5f));
  OVF("n * row bytes overflows (k = 2^63)",
      call_lrr(dt, bits, x, w, SIZE_MAX, sc, res, nw, o, so, 1, n, HALF, 1e-5f));
  tu_check_done(&c, "fused_int%d_linear_residual_rmsnorm %s: NULL pointers, short w_bytes, bad "
                "eps, odd k, size overflows: right error, nothing touched", bits, tu_dtname(dt));
}

/* ------------------------------------------------------------------ zero sizes (in process) */
static int all_zero(tu_dtype dt, const void *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (tu_get(dt, p, i) != 0.0)
      return 0;
  return 1;
}

static void zero_sizes(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  const void *x = FX.x.p, *w = FX.w.p, *w2 = FX.w2.p, *w3 = FX.w3.p, *sc = FX.sc.p;
  const void *sc2 = FX.sc2.p, *sc3 = FX.sc3.p, *res = FX.res.p, *nw = FX.nw.p;
  const void *cs = FX.cs.p, *sn = FX.sn.p;
  void *y = FX.y.p, *y2 = FX.y2.p, *y3 = FX.y3.p;
  gllmk_status st;
#define UNTOUCHED(what) tu_check_true(&c, fx_untouched(), "%s: GLLMK_OK but a buffer was written", what)

  for (int bits = 8; bits >= 1; bits /= 2) {
    float r = 7.0f;
    st = call_gemv(dt, bits, w, 0, x, 1.0f, 0, &r);
    tu_check_status(&c, st, GLLMK_OK, "gemv_q%d n = 0", bits);
    tu_check_true(&c, r == 0.0f, "gemv_q%d n = 0: result %g, expected 0", bits, r);
    r = 7.0f;
    st = call_gemv(dt, bits, NULL, 0, NULL, -2.0f, 0, &r);
    tu_check_status(&c, st, GLLMK_OK, "gemv_q%d n = 0, w and x NULL", bits);
    tu_check_true(&c, r == 0.0f, "gemv_q%d n = 0: result %g, expected 0", bits, r);
  }
  for (int bits = 8; bits >= 4; bits -= 4) {
    char d[96];
    snprintf(d, sizeof d, "gemm_q%d m = 0", bits);
    tu_check_status(&c, call_gemm(dt, bits, w, 64, x, y, sc, 0, 4, 8), GLLMK_OK, "%s", d);
    UNTOUCHED(d);
    snprintf(d, sizeof d, "gemm_q%d n = 0", bits);
    tu_check_status(&c, call_gemm(dt, bits, w, 0, x, y, sc, 2, 0, 8), GLLMK_OK, "%s", d);
    UNTOUCHED(d);
    snprintf(d, sizeof d, "gemm_q%d m = n = k = 0, all NULL", bits);
    tu_check_status(&c, call_gemm(dt, bits, NULL, 0, NULL, NULL, NULL, 0, 0, 0), GLLMK_OK, "%s", d);
    snprintf(d, sizeof d, "gemm_q%d m = 0, x and y NULL", bits);
    tu_check_status(&c, call_gemm(dt, bits, w, 64, NULL, NULL, sc, 0, 4, 8), GLLMK_OK, "%s", d);
    /* k = 0: Y = 0 */
    snprintf(d, sizeof d, "gemm_q%d k = 0 (m 2, n 4, m 20, n 3)", bits);
    tu_check_status(&c, call_gemm(dt, bits, NULL, 0, NULL, y, sc, 2, 4, 0), GLLMK_OK, "%s", d);
    tu_check_true(&c, all_zero(dt, y, 8), "%s: y is not zero", d);
    tu_check_status(&c, call_gemm(dt, bits, NULL, 0, NULL, y2, sc, 20, 3, 0), GLLMK_OK, "%s", d);
    tu_check_true(&c, all_zero(dt, y2, 60), "%s: y is not zero", d);
    tu_check_guards(&c, &FX.y, "y");
    tu_check_guards(&c, &FX.y2, "y");
    tu_arr_poison(&FX.y);
    tu_arr_poison(&FX.y2);
  }
  /* fused_qkv_rope_q4 */
  st = QKV(x, w, 512, sc, w2, 512, sc2, w3, 512, sc3, cs, sn, y, y2, y3, 0, 8, 4, 2, 8, 8, 1);
  tu_check_status(&c, st, GLLMK_OK, "fused_qkv_rope_q4 seq = 0");
  UNTOUCHED("fused_qkv_rope_q4 seq = 0");
  st = QKV(NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 4, 2, 0, 0, 0);
  tu_check_status(&c, st, GLLMK_OK, "fused_qkv_rope_q4 seq = hidden = head_dim = 0, all NULL");
  st = QKV(x, w, 512, sc, w2, 512, sc2, w3, 512, sc3, cs, sn, y, y2, y3, 2, 8, 4, 2, 0, 0, 1);
  tu_check_status(&c, st, GLLMK_OK, "fused_qkv_rope_q4 head_dim = 0");
  UNTOUCHED("fused_qkv_rope_q4 head_dim = 0");
  for (int xn = 0; xn < 2; xn++) {   /* x given, then x NULL (no element of x is needed) */
    st = QKV(xn ? NULL : x, NULL, 0, sc, NULL, 0, sc2, NULL, 0, sc3, cs, sn, y, y2, y3, 2, 0, 4, 2,
             8, 8, 1);
    tu_check_status(&c, st, GLLMK_OK, "fused_qkv_rope_q4 hidden = 0%s", xn ? ", x NULL" : "");
    tu_check_true(&c, all_zero(dt, y, 64) && all_zero(dt, y2, 32) && all_zero(dt, y3, 32),
                  "fused_qkv_rope_q4 hidden = 0%s: q/k/v not zero", xn ? ", x NULL" : "");
    tu_arr_poison(&FX.y);
    tu_arr_poison(&FX.y2);
    tu_arr_poison(&FX.y3);
  }
  tu_check_guards(&c, &FX.y, "q");
  tu_check_guards(&c, &FX.y2, "k");
  tu_check_guards(&c, &FX.y3, "v");
  tu_arr_poison(&FX.y);
  tu_arr_poison(&FX.y2);
  tu_arr_poison(&FX.y3);
  /* fused_ffn_q4 */
  st = FFN(x, w, 64, sc, w2, 64, sc2, w3, 64, sc3, res, y, 0, 8, 16);
  tu_check_status(&c, st, GLLMK_OK, "fused_ffn_q4 m = 0");
  UNTOUCHED("fused_ffn_q4 m = 0");
  st = FFN(x, w, 64, sc, w2, 64, sc2, w3, 64, sc3, res, y, 2, 0, 16);
  tu_check_status(&c, st, GLLMK_OK, "fused_ffn_q4 hidden = 0");
  UNTOUCHED("fused_ffn_q4 hidden = 0");
  st = FFN(NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, 0, 0);
  tu_check_status(&c, st, GLLMK_OK, "fused_ffn_q4 all sizes 0, all NULL");
  st = FFN(x, NULL, 0, sc, NULL, 0, sc2, NULL, 0, sc3, res, y, 2, 8, 0);
  tu_check_status(&c, st, GLLMK_OK, "fused_ffn_q4 ffn = 0");
  if (st == GLLMK_OK)
    for (size_t i = 0; i < 16; i++)
      if (!tu_check_out(&c, dt, tu_get(dt, y, i), FX.res.v[i], 0.0,
                        "fused_ffn_q4 ffn = 0: out = residual, [%zu]", i))
        break;
  st = FFN(x, NULL, 0, sc, NULL, 0, sc2, NULL, 0, sc3, NULL, y2, 2, 8, 0);
  tu_check_status(&c, st, GLLMK_OK, "fused_ffn_q4 ffn = 0, residual NULL");
  tu_check_true(&c, all_zero(dt, y2, 16), "fused_ffn_q4 ffn = 0, residual NULL: out not zero");
  tu_check_guards(&c, &FX.y, "out");
  tu_check_guards(&c, &FX.y2, "out");
  tu_arr_poison(&FX.y);
  tu_arr_poison(&FX.y2);
  /* linear + residual + rmsnorm */
  for (int bits = 8; bits >= 4; bits -= 4) {
    char d[96];
    snprintf(d, sizeof d, "fused_int%d_linear_residual_rmsnorm m = 0", bits);
    tu_check_status(&c, call_lrr(dt, bits, x, w, 64, sc, res, nw, y, y2, 0, 4, 8, 1e-5f), GLLMK_OK,
                    "%s", d);
    UNTOUCHED(d);
    snprintf(d, sizeof d, "fused_int%d_linear_residual_rmsnorm n = 0", bits);
    tu_check_status(&c, call_lrr(dt, bits, x, w, 0, sc, res, nw, y, y2, 2, 0, 8, 1e-5f), GLLMK_OK,
                    "%s", d);
    UNTOUCHED(d);
    snprintf(d, sizeof d, "fused_int%d_linear_residual_rmsnorm all 0, all NULL", bits);
    tu_check_status(&c, call_lrr(dt, bits, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 1e-5f),
                    GLLMK_OK, "%s", d);
    /* k = 0: sum_out = residual, out = rms_norm(residual); x given, then x (and w) NULL */
    for (int xn = 0; xn < 2; xn++) {
      snprintf(d, sizeof d, "fused_int%d_linear_residual_rmsnorm k = 0%s", bits,
               xn ? ", x and w NULL" : "");
      st = call_lrr(dt, bits, xn ? NULL : x, xn ? NULL : w, 0, sc, res, nw, y, y2, 2, 8, 0, 1e-5f);
      if (tu_check_status(&c, st, GLLMK_OK, "%s", d)) {
        double ro[16], tol[16], es[16] = { 0 };
        ref_rms_norm_err(FX.res.v, es, FX.nw.v, ro, tol, 2, 8, 1e-5f);
        cmp_arr(&c, dt, y, 16, ro, tol, d, "out");
        cmp_arr(&c, dt, y2, 16, FX.res.v, es, d, "sum_out");
      }
      snprintf(d, sizeof d, "fused_int%d_linear_residual_rmsnorm k = 0, residual NULL%s", bits,
               xn ? ", x and w NULL" : "");
      st = call_lrr(dt, bits, xn ? NULL : x, xn ? NULL : w, 0, sc, NULL, nw, y3, NULL, 2, 8, 0,
                    1e-5f);
      if (tu_check_status(&c, st, GLLMK_OK, "%s", d))
        tu_check_true(&c, all_zero(dt, y3, 16), "%s: out not zero", d);
      tu_check_guards(&c, &FX.y, "out");
      tu_check_guards(&c, &FX.y2, "sum_out");
      tu_check_guards(&c, &FX.y3, "out");
      tu_arr_poison(&FX.y);
      tu_arr_poison(&FX.y2);
      tu_arr_poison(&FX.y3);
    }
    tu_check_guards(&c, &FX.y, "out");
    tu_check_guards(&c, &FX.y2, "sum_out");
    tu_check_guards(&c, &FX.y3, "out");
    tu_arr_poison(&FX.y);
    tu_arr_poison(&FX.y2);
    tu_arr_poison(&FX.y3);
  }
#undef UNTOUCHED
  tu_check_done(&c, "zero sizes %s: GLLMK_OK, nothing written (k = 0 / ffn = 0 / hidden = 0: "
                "zeros or the residual)", tu_dtname(dt));
}

int main(void)
{
  tu_init();
  tu_isa_count(); /* the runnable ISAs, skip points for the others */
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    for (int ii = 0; ii < tu_isa_count(); ii++) {
      tu_isa_set(ii);
      test_gemv(tu_isa_name(ii), dt);
    }
    test_gemm(dt);
    test_qkv(dt);
    test_ffn(dt);
    test_lrr(dt);
    for (int ii = 0; ii < tu_isa_count(); ii++) {
      tu_isa_set(ii);
      test_nan(tu_isa_name(ii), dt);
      test_threads(tu_isa_name(ii), dt);
    }
    gllmk_cpu_set_isa("auto");
    /* argument checks do not depend on the ISA */
    fx_init(dt);
    for (int bits = 8; bits >= 1; bits /= 2)
      bad_gemv(dt, bits);
    bad_gemm(dt, 8);
    bad_gemm(dt, 4);
    bad_qkv(dt);
    bad_ffn(dt);
    bad_lrr(dt, 8);
    bad_lrr(dt, 4);
    zero_sizes(dt);
    fx_free();
  }
  return done_testing();
}
