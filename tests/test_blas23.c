/* test_blas23.c -- gemv, gemm, gemm_bias
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, against the double reference: many
 * shapes around vector widths and micro-tile edges (1..65), large/threaded
 * shapes, unaligned pointers, the empty cases (k == 0 gives zeros / the bias;
 * m or n == 0 writes nothing), and NaN/inf propagation.
 *
 * Tolerance per output element: tu_acc_eps(k) * sum_l |A_il B_lj| (+ |bias_j|)
 * i.e. (1e-6*sqrt(k) + 2^-22) relative to the sum of the magnitudes of the
 * terms, plus the final store to dt (f16 1e-3, bf16 8e-3 relative).
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ gemv */
static void run_gemv(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t off, int specials)
{
  tu_arr A, x, y;
  tu_arr_alloc(&A, dt, m * n, off % 4);
  tu_arr_alloc(&x, dt, n, (off + 1) % 4);
  tu_arr_alloc(&y, dt, m, (off + 2) % 4);
  tu_arr_uniform(&A, -1, 1);
  tu_arr_uniform(&x, -1, 1);
  if (specials && m && n) {
    /* NaN in row 0 of A; +inf in x[n-1] (affects every row, sign of A) */
    double *va = tu_dalloc(m * n), *vx = tu_dalloc(n);
    memcpy(va, A.v, m * n * sizeof *va);
    memcpy(vx, x.v, n * sizeof *vx);
    va[n / 2] = NAN;
    if (m > 1)
      vx[n - 1] = INFINITY;
    tu_arr_set(&A, va);
    tu_arr_set(&x, vx);
    free(va);
    free(vx);
  }
  tu_arr_poison(&y);
  double *ref = tu_dalloc(m), *mag = tu_dalloc(m), *got = tu_dalloc(m);
  double *aA = tu_dalloc(m * n), *ax = tu_dalloc(n);
  ref_gemv(A.v, x.v, ref, m, n);
  tu_dabs(A.v, aA, m * n);
  tu_dabs(x.v, ax, n);
  ref_gemv(aA, ax, mag, m, n);
  gllmk_status st = TU_CALL(dt, gemv, A.p, x.p, y.p, m, n);
  if (tu_check_status(c, st, GLLMK_OK, "gemv m=%zu n=%zu", m, n)) {
    tu_arr_read(&y, got);
    for (size_t i = 0; i < m; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], tu_acc_eps(n) * mag[i], "gemv m=%zu n=%zu y[%zu]",
                        m, n, i))
        break;
  }
  tu_check_input(c, &A, "A");
  tu_check_input(c, &x, "x");
  tu_check_guards(c, &y, "y");
  free(ref);
  free(mag);
  free(got);
  free(aA);
  free(ax);
  tu_arr_free(&A);
  tu_arr_free(&x);
  tu_arr_free(&y);
}

static void test_gemv(const char *isa, tu_dtype dt)
{
  static const size_t ms[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100 };
  static const size_t ns[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 130 };
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++)
      run_gemv(&c, dt, ms[i], ns[j], idx++, 0);
  tu_check_done(&c, "gemv %s %s: m in 1..100, n in 1..130, unaligned", dn, isa);

  run_gemv(&c, dt, 300, 4099, 1, 0);
  run_gemv(&c, dt, 4099, 33, 2, 0);
  run_gemv(&c, dt, 1, 65537, 3, 0);
  tu_check_done(&c, "gemv %s %s: large (300x4099, 4099x33, 1x65537)", dn, isa);

  /* empty shapes: n == 0 gives zeros (A, x may be NULL), m == 0 writes nothing */
  {
    tu_arr y;
    tu_arr_alloc(&y, dt, 5, 1);
    tu_arr_poison(&y);
    gllmk_status st = TU_CALL(dt, gemv, NULL, NULL, y.p, 5, 0);
    if (tu_check_status(&c, st, GLLMK_OK, "gemv m=5 n=0"))
      for (size_t i = 0; i < 5; i++)
        tu_check_true(&c, tu_get(dt, y.p, i) == 0.0, "gemv n=0: y[%zu] = %g, expected 0", i,
                      tu_get(dt, y.p, i));
    tu_check_guards(&c, &y, "y");
    tu_arr_free(&y);
    tu_arr A, x;
    tu_arr_alloc(&A, dt, 0, 0);
    tu_arr_alloc(&x, dt, 7, 0);
    tu_arr_uniform(&x, -1, 1);
    tu_arr_alloc(&y, dt, 0, 0);
    st = TU_CALL(dt, gemv, A.p, x.p, y.p, 0, 7);
    tu_check_status(&c, st, GLLMK_OK, "gemv m=0 n=7");
    tu_check_guards(&c, &y, "y (m=0)");
    tu_check_guards(&c, &A, "A (m=0)");
    tu_arr_free(&A);
    tu_arr_free(&x);
    tu_arr_free(&y);
  }
  tu_check_done(&c, "gemv %s %s: empty shapes (n == 0 gives zeros, m == 0 writes nothing)", dn,
                isa);

  for (size_t n = 1; n <= 40; n += 13)
    for (size_t m = 2; m <= 18; m += 8)
      run_gemv(&c, dt, m, n, m + n, 1);
  tu_check_done(&c, "gemv %s %s: NaN and inf propagate", dn, isa);
}

/* ------------------------------------------------------------------ gemm */
static void run_gemm(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, size_t off,
                     int with_bias, int specials)
{
  tu_arr A, B, bias, C;
  tu_arr_alloc(&A, dt, m * k, off % 4);
  tu_arr_alloc(&B, dt, k * n, (off + 1) % 4);
  tu_arr_alloc(&bias, dt, n, (off + 3) % 4);
  tu_arr_alloc(&C, dt, m * n, (off + 2) % 4);
  tu_arr_uniform(&A, -1, 1);
  tu_arr_uniform(&B, -1, 1);
  tu_arr_uniform(&bias, -2, 2);
  if (specials && m > 1 && n > 1 && k) {
    double *va = tu_dalloc(m * k), *vb = tu_dalloc(k * n);
    memcpy(va, A.v, m * k * sizeof *va);
    memcpy(vb, B.v, k * n * sizeof *vb);
    va[(m - 1) * k + k / 2] = NAN;   /* row m-1 of C is NaN */
    vb[(k - 1) * n + n / 3] = -INFINITY; /* column n/3 of C is +-inf */
    tu_arr_set(&A, va);
    tu_arr_set(&B, vb);
    free(va);
    free(vb);
  }
  tu_arr_poison(&C);
  size_t mn = m * n;
  double *ref = tu_dalloc(mn), *mag = tu_dalloc(mn), *got = tu_dalloc(mn);
  double *aA = tu_dalloc(m * k), *aB = tu_dalloc(k * n), *ab = tu_dalloc(n);
  tu_dabs(A.v, aA, m * k);
  tu_dabs(B.v, aB, k * n);
  tu_dabs(bias.v, ab, n);
  if (with_bias) {
    ref_gemm_bias(A.v, B.v, bias.v, ref, m, n, k);
    ref_gemm_bias(aA, aB, ab, mag, m, n, k);
  } else {
    ref_gemm(A.v, B.v, ref, m, n, k);
    ref_gemm(aA, aB, mag, m, n, k);
  }
  const char *nm = with_bias ? "gemm_bias" : "gemm";
  gllmk_status st = with_bias ? TU_CALL(dt, gemm_bias, A.p, B.p, bias.p, C.p, m, n, k)
                              : TU_CALL(dt, gemm, A.p, B.p, C.p, m, n, k);
  if (tu_check_status(c, st, GLLMK_OK, "%s m=%zu n=%zu k=%zu", nm, m, n, k)) {
    tu_arr_read(&C, got);
    for (size_t i = 0; i < mn; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], tu_acc_eps(k) * mag[i],
                        "%s m=%zu n=%zu k=%zu C[%zu][%zu]", nm, m, n, k, i / n, i % n))
        break;
  }
  tu_check_input(c, &A, "A");
  tu_check_input(c, &B, "B");
  tu_check_input(c, &bias, "bias");
  tu_check_guards(c, &C, "C");
  free(ref);
  free(mag);
  free(got);
  free(aA);
  free(aB);
  free(ab);
  tu_arr_free(&A);
  tu_arr_free(&B);
  tu_arr_free(&bias);
  tu_arr_free(&C);
}

static void test_gemm(const char *isa, tu_dtype dt, int with_bias)
{
  static const size_t ms[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 31, 33 };
  static const size_t ns[] = { 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65 };
  static const size_t ks[] = { 1, 2, 3, 7, 8, 15, 16, 17, 33, 64 };
  const char *nm = with_bias ? "gemm_bias" : "gemm", *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
    for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++)
      for (size_t l = 0; l < sizeof ks / sizeof ks[0]; l++) {
        /* the bias variant shares the kernels: a third of the grid suffices */
        if (with_bias && (idx % 3))
          { idx++; continue; }
        run_gemm(&c, dt, ms[i], ns[j], ks[l], idx++, with_bias, 0);
      }
  tu_check_done(&c, "%s %s %s: m 1..33 x n 1..65 x k 1..64, unaligned", nm, dn, isa);

  run_gemm(&c, dt, 128, 128, 128, 0, with_bias, 0);
  run_gemm(&c, dt, 130, 257, 67, 1, with_bias, 0);
  run_gemm(&c, dt, 1, 1031, 259, 2, with_bias, 0);
  run_gemm(&c, dt, 200, 3, 513, 3, with_bias, 0);
  /* more columns than one B block (2048) holds, not a multiple of any NR */
  run_gemm(&c, dt, 3, 2101, 300, 4, with_bias, 0);
  tu_check_done(&c, "%s %s %s: large (128^3, 130x257x67, 1x1031x259, 200x3x513, 3x2101x300)", nm, dn,
                isa);

  /* k == 0: C = 0 (+ bias); A and B are empty and may be NULL */
  {
    size_t m = 3, n = 19;
    tu_arr C, bias;
    tu_arr_alloc(&C, dt, m * n, 1);
    tu_arr_alloc(&bias, dt, n, 2);
    tu_arr_uniform(&bias, -2, 2);
    tu_arr_poison(&C);
    gllmk_status st = with_bias ? TU_CALL(dt, gemm_bias, NULL, NULL, bias.p, C.p, m, n, 0)
                                : TU_CALL(dt, gemm, NULL, NULL, C.p, m, n, 0);
    if (tu_check_status(&c, st, GLLMK_OK, "%s m=3 n=19 k=0", nm))
      for (size_t i = 0; i < m * n; i++)
        tu_check_true(&c, tu_get(dt, C.p, i) == (with_bias ? bias.v[i % n] : 0.0),
                      "%s k=0: C[%zu] = %g, expected %g", nm, i, tu_get(dt, C.p, i),
                      with_bias ? bias.v[i % n] : 0.0);
    tu_check_guards(&c, &C, "C (k=0)");
    tu_arr_free(&C);
    tu_arr_free(&bias);
  }
  /* m == 0 or n == 0: nothing to write */
  run_gemm(&c, dt, 0, 5, 4, 0, with_bias, 0);
  run_gemm(&c, dt, 5, 0, 4, 1, with_bias, 0);
  run_gemm(&c, dt, 0, 0, 0, 2, with_bias, 0);
  tu_check_done(&c, "%s %s %s: empty shapes (k == 0, m == 0, n == 0)", nm, dn, isa);

  for (size_t m = 2; m <= 20; m += 9)
    for (size_t n = 2; n <= 40; n += 19)
      run_gemm(&c, dt, m, n, 9 + m, m + n, with_bias, 1);
  tu_check_done(&c, "%s %s %s: NaN in A and -inf in B propagate", nm, dn, isa);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_gemv(isa, dt);
  test_gemm(isa, dt, 0);
  test_gemm(isa, dt, 1);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
