/* test_cuda_gemm.c -- the CUDA backend's gemm and gemm_bias against the double reference
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (one TAP skip when it says
 * GLLMK_E_NO_DEVICE, unless GLLMK_TEST_REQUIRE_CUDA=1; GLLMK_TEST_NO_CUDA
 * skips everything; in `make check` the emulated driver runs every kernel in
 * the execution harness), and for f32/f16/bf16, gemm and gemm_bias:
 *  - m, n, k from 1 to a few hundred around the block tiles (64, 128) and
 *    the k-tile (32; f32 8 and 16): 1, 3, 17, 64, 65, 127, 130, 257 and
 *    primes; every operand at element offsets that make it 16-byte aligned
 *    or not, so that the cp.async fast path (aligned rows) and the
 *    element-by-element edge path both run, for A and B independently;
 *  - the 128 x 128 block tile (m x n with at least one tile per SM of the
 *    device), aligned and not;
 *  - the plan does not change the result: the first rows of a large product
 *    (128 x 128 tiles) equal, bit for bit, the product of those rows alone
 *    (64 x 64 tiles);
 *  - k == 0 (C = 0 or the bias, A and B NULL), m == 0 and n == 0 (nothing
 *    written), NaN in A and -inf in B propagating;
 *  - the workspace query (0 bytes; GLLMK_E_OVERFLOW for sizes that
 *    overflow), bad input (foreign, host, misaligned and past-the-end
 *    pointers, NULLs, overflow, no backend): the CPU function's error codes,
 *    nothing written;
 *  - a graph of gemm_bias and gemm recorded once and replayed on new inputs;
 *  - on the emulated driver, which this test asks for a second device, sm_86
 *    (less shared memory per block: the 128 x 128 tiles take the 3-stage
 *    ring), the 128 x 128 tiles there too.
 * Inputs and outputs live in device buffers that mirror a tu_arr whole
 * (guards included), so the guards and the inputs are checked after each op.
 * Tolerance per element as test_blas23.c: tu_acc_eps(k) * sum_l |A_il B_lj|
 * (+ |bias_j|), plus the final rounding to the element type.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* setenv */
#endif
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gllmk_backend *be;
static int sm_count = 1;

/* one op of the table of dt, on be */
#define OPS(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(be)->op(be, __VA_ARGS__)                             \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(be)->op(be, __VA_ARGS__)                             \
                    : gllmk_backend_ops_bf16(be)->op(be, __VA_ARGS__))

static gllmk_status gemm_call(tu_dtype dt, int with_bias, const void *A, const void *B,
                              const void *bias, void *C, size_t m, size_t n, size_t k)
{
  return with_bias ? OPS(dt, gemm_bias, A, B, bias, C, m, n, k) : OPS(dt, gemm, A, B, C, m, n, k);
}

/* ------------------------------------------------------------------ device mirrors */

/* ------------------------------------------------------------------ one product */
/* element offsets of A, B, bias and C: packed as 4 bits each (offset mode
 * ALIGNED: all 0, so that every operand is 16-byte aligned) */
#define ALIGNED 0u
static size_t off_of(unsigned offs, int i) { return (offs >> (4 * i)) & 15u; }

/* C = A.B (+ bias) on the device for random A, B, bias (or with NaN in A and
 * -inf in B when specials), checked against the reference; returns the bits
 * of C in *out (m*n elements of dt, malloc'ed) when out is given */
static void gemm_run(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, unsigned offs,
                     int with_bias, int specials, const tu_arr *use_A, const tu_arr *use_B,
                     void **out)
{
  tu_arr A, B, bias, C;
  size_t es = tu_esize(dt), mn = m * n;
  const char *nm = with_bias ? "gemm_bias" : "gemm";
  size_t bytes = 1;
  tu_check_status(c, with_bias ? OPS(dt, gemm_bias_workspace_bytes, m, n, k, &bytes)
                               : OPS(dt, gemm_workspace_bytes, m, n, k, &bytes),
                  GLLMK_OK, "%s workspace query", nm);
  tu_check_true(c, bytes == 0, "%s m=%zu n=%zu k=%zu: workspace %zu bytes", nm, m, n, k, bytes);
  tu_arr_alloc(&A, dt, m * k, off_of(offs, 0));
  tu_arr_alloc(&B, dt, k * n, off_of(offs, 1));
  tu_arr_alloc(&bias, dt, n, off_of(offs, 2));
  tu_arr_alloc(&C, dt, mn, off_of(offs, 3));
  if (use_A) tu_arr_set(&A, use_A->v);
  else tu_arr_uniform(&A, -1, 1);
  if (use_B) tu_arr_set(&B, use_B->v);
  else tu_arr_uniform(&B, -1, 1);
  tu_arr_uniform(&bias, -2, 2);
  if (specials && m > 1 && n > 1 && k) {
    double *va = tu_dalloc(m * k), *vb = tu_dalloc(k * n);
    memcpy(va, A.v, m * k * sizeof *va);
    memcpy(vb, B.v, k * n * sizeof *vb);
    va[(m - 1) * k + k / 2] = NAN;       /* row m-1 of C is NaN */
    vb[(k - 1) * n + n / 3] = -INFINITY; /* column n/3 of C is +-inf */
    tu_arr_set(&A, va);
    tu_arr_set(&B, vb);
    free(va);
    free(vb);
  }
  tu_arr_poison(&C);
  tu_dv dA, dB, db, dC;
  tu_dv_up(be, &dA, &A);
  tu_dv_up(be, &dB, &B);
  tu_dv_up(be, &db, &bias);
  tu_dv_up(be, &dC, &C);
  gllmk_status st = gemm_call(dt, with_bias, dA.p, dB.p, db.p, dC.p, m, n, k);
  if (tu_check_status(c, st, GLLMK_OK, "%s %s m=%zu n=%zu k=%zu offsets %x", nm, tu_dtname(dt), m,
                      n, k, offs)) {
    tu_dv_down(&dA);
    tu_dv_down(&dB);
    tu_dv_down(&db);
    tu_dv_down(&dC);
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
    tu_arr_read(&C, got);
    for (size_t i = 0; i < mn; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], tu_acc_eps(k) * mag[i],
                        "%s %s m=%zu n=%zu k=%zu offsets %x: C[%zu][%zu]", nm, tu_dtname(dt), m, n,
                        k, offs, i / n, i % n))
        break;
    tu_check_input(c, &A, "A");
    tu_check_input(c, &B, "B");
    tu_check_input(c, &bias, "bias");
    tu_check_guards(c, &C, "C");
    if (out) {
      *out = tu_xmalloc(mn * es + 1);
      memcpy(*out, C.p, mn * es);
    }
    free(ref);
    free(mag);
    free(got);
    free(aA);
    free(aB);
    free(ab);
  } else if (out) {
    *out = NULL;
  }
  tu_dv_free(&dA);
  tu_dv_free(&dB);
  tu_dv_free(&db);
  tu_dv_free(&dC);
  tu_arr_free(&A);
  tu_arr_free(&B);
  tu_arr_free(&bias);
  tu_arr_free(&C);
}

/* the offsets of case i: every few cases all aligned, else a mix (A, B, bias, C) */
static unsigned offsets(size_t i)
{
  static const unsigned mix[] = { ALIGNED, 0x1357, 0x0100, 0x2010, 0x0001, 0x3333, 0x0030, 0x1000 };
  return mix[i % (sizeof mix / sizeof mix[0])];
}

static void test_shapes(tu_dtype dt, int with_bias)
{
  static const size_t ms[] = { 1, 3, 17, 64, 65 };
  static const size_t ns[] = { 1, 8, 17, 64, 130 };
  static const size_t ks[] = { 1, 16, 33, 64 };
  const char *nm = with_bias ? "gemm_bias" : "gemm", *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
    for (size_t j = 0; j < sizeof ns / sizeof *ns; j++)
      for (size_t l = 0; l < sizeof ks / sizeof *ks; l++, idx++)
        gemm_run(&c, dt, ms[i], ns[j], ks[l], offsets(idx), with_bias, 0, NULL, NULL, NULL);
  tu_check_done(&c, "%s %s: m 1..65 x n 1..130 x k 1..64, aligned and not", nm, dn);

  tu_check_init(&c);
  static const size_t big[][3] = {
    { 127, 130, 257 }, { 257, 127, 40 }, { 130, 257, 64 }, { 1, 257, 259 }, { 200, 3, 131 },
    { 128, 128, 128 }, { 96, 136, 72 },
  };
  for (size_t i = 0; i < sizeof big / sizeof *big; i++)
    for (int al = 0; al < 2; al++)
      gemm_run(&c, dt, big[i][0], big[i][1], big[i][2], al ? offsets(i + 1) : ALIGNED, with_bias, 0,
               NULL, NULL, NULL);
  tu_check_done(&c, "%s %s: up to 257 x 257 x 259 (primes, tile edges), aligned and not", nm, dn);

  /* k == 0: C = 0 (+ bias); A and B are empty and may be NULL */
  tu_check_init(&c);
  {
    size_t m = 3, n = 19;
    tu_arr C, bias;
    tu_arr_alloc(&C, dt, m * n, 1);
    tu_arr_alloc(&bias, dt, n, 2);
    tu_arr_uniform(&bias, -2, 2);
    tu_arr_poison(&C);
    tu_dv dC, db;
    tu_dv_up(be, &dC, &C);
    tu_dv_up(be, &db, &bias);
    gllmk_status st = gemm_call(dt, with_bias, NULL, NULL, db.p, dC.p, m, n, 0);
    if (tu_check_status(&c, st, GLLMK_OK, "%s m=3 n=19 k=0", nm)) {
      tu_dv_down(&dC);
      for (size_t i = 0; i < m * n; i++)
        tu_check_true(&c, tu_get(dt, C.p, i) == (with_bias ? bias.v[i % n] : 0.0),
                      "%s k=0: C[%zu] = %g, expected %g", nm, i, tu_get(dt, C.p, i),
                      with_bias ? bias.v[i % n] : 0.0);
    }
    tu_check_guards(&c, &C, "C (k=0)");
    tu_dv_free(&dC);
    tu_dv_free(&db);
    tu_arr_free(&C);
    tu_arr_free(&bias);
  }
  /* m == 0 or n == 0: nothing to write */
  gemm_run(&c, dt, 0, 5, 4, ALIGNED, with_bias, 0, NULL, NULL, NULL);
  gemm_run(&c, dt, 5, 0, 4, 0x1111, with_bias, 0, NULL, NULL, NULL);
  gemm_run(&c, dt, 0, 0, 0, ALIGNED, with_bias, 0, NULL, NULL, NULL);
  tu_check_done(&c, "%s %s: empty shapes (k == 0, m == 0, n == 0)", nm, dn);

  tu_check_init(&c);
  for (size_t m = 2; m <= 20; m += 9)
    for (size_t n = 2; n <= 40; n += 19)
      gemm_run(&c, dt, m, n, 9 + m, (m + n) % 2 ? ALIGNED : 0x1230, with_bias, 1, NULL, NULL, NULL);
  gemm_run(&c, dt, 70, 72, 64, ALIGNED, with_bias, 1, NULL, NULL, NULL);
  tu_check_done(&c, "%s %s: NaN in A and -inf in B propagate", nm, dn);
}

/* the 128 x 128 block tile: at least one tile per SM; and the first rows of
 * that product alone (64 x 64 tiles) give the same bits */
static void test_big_tile(tu_dtype dt)
{
  size_t r = 1;
  while (r * r < (size_t)sm_count) r++;
  size_t m = 128 * r, n = 128 * ((sm_count + r - 1) / r), k = 72;
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  tu_arr A, B, A0;
  tu_arr_alloc(&A, dt, m * k, 0);
  tu_arr_alloc(&B, dt, k * n, 0);
  tu_arr_uniform(&A, -1, 1);
  tu_arr_uniform(&B, -1, 1);
  void *big = NULL, *part = NULL;
  gemm_run(&c, dt, m, n, k, ALIGNED, 1, 0, &A, &B, &big);
  size_t rows = 5;   /* the first rows alone: (5/64) x (n/64) tiles < one per SM */
  tu_arr_alloc(&A0, dt, rows * k, 0);
  double *v = tu_dalloc(rows * k);
  memcpy(v, A.v, rows * k * sizeof *v);
  tu_arr_set(&A0, v);
  free(v);
  /* the bias is random per run: compare gemm (no bias) instead */
  free(big);
  big = NULL;
  gemm_run(&c, dt, m, n, k, ALIGNED, 0, 0, &A, &B, &big);
  gemm_run(&c, dt, rows, n, k, ALIGNED, 0, 0, &A0, &B, &part);
  if (big && part)
    tu_check_true(&c, !memcmp(big, part, rows * n * tu_esize(dt)),
                  "%s: rows 0..%zu of %zu x %zu x %zu differ from the %zu-row product", dn, rows - 1,
                  m, n, k, rows);
  free(big);
  free(part);
  tu_check_done(&c, "gemm %s: 128 x 128 tiles (%zu x %zu x %zu, %d SMs); the same bits as 64 x 64 tiles",
                dn, m, n, k, sm_count);

  tu_check_init(&c);
  gemm_run(&c, dt, m + 3, n - 5, 37, 0x1111, 1, 0, NULL, NULL, NULL);
  tu_check_done(&c, "gemm_bias %s: 128 x 128 tiles, unaligned (%zu x %zu x 37)", dn, m + 3, n - 5);
  tu_arr_free(&A);
  tu_arr_free(&B);
  tu_arr_free(&A0);
}

/* the 128 x 128 tiles with a 3-stage ring: on a device whose blocks get less
 * than 128 KiB of shared memory (sm_86: the emulated driver's second device
 * here; skipped when there is none) */
static void test_three_stages(void)
{
  gllmk_cuda_device info;
  int ord = -1;
  for (int i = 0; i < 8 && ord < 0; i++)
    if (gllmk_cuda_device_info(i, &info) == GLLMK_OK && info.kernels_cover &&
        ((info.cc_major == 8 && info.cc_minor != 0) || info.cc_major == 12))
      ord = i;
  if (ord < 0) {
    skip("no sm_86/89/120 device: the 3-stage ring of the 128 x 128 tiles is not run");
    return;
  }
  char name[16];
  snprintf(name, sizeof name, "cuda:%d", ord);
  gllmk_backend *keep = be;
  if (gllmk_backend_open(name, &be) != GLLMK_OK)
    bail_out("gllmk_backend_open(\"%s\")", name);
  size_t r = 1;
  while (r * r < (size_t)info.sm_count) r++;
  size_t m = 128 * r, n = 128 * ((info.sm_count + r - 1) / r);
  tu_check c;
  tu_check_init(&c);
  gemm_run(&c, TU_F16, m, n, 136, ALIGNED, 1, 0, NULL, NULL, NULL);
  gemm_run(&c, TU_BF16, m - 1, n + 8, 72, 0x0100, 0, 0, NULL, NULL, NULL);
  tu_check_done(&c, "%s (sm_%d%d, %d SMs): 128 x 128 tiles, 3 stages (%zu x %zu x 136 f16, "
                    "%zu x %zu x 72 bf16)", name, info.cc_major, info.cc_minor, info.sm_count, m, n,
                m - 1, n + 8);
  gllmk_backend_close(be);
  be = keep;
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
  void *p = p0, *q = q0, *o = p0 + 2048;   /* an output that overlaps nothing */
  const size_t big = SIZE_MAX / 2 + 1, half = (size_t)1 << (sizeof(size_t) * 4);

#define EXPECT(want, call)                                                                       \
  do {                                                                                           \
    gllmk_status st_ = (call);                                                                   \
    tu_check_status(&c, st_, want, "%s", #call);                                                 \
  } while (0)

  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    size_t es = tu_esize(dt), ws = 1;
    for (int wb = 0; wb < 2; wb++) {
      /* a pointer into another backend's buffer, a host pointer */
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, q, p, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, q, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p, p, q, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p, p, (void *)snap, 4, 4, 4));
      /* ranges past the end of the buffer */
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p0 + bytes - 8 * es, p, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p0 + bytes - 8 * es, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p, p, p0 + bytes - 8 * es, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p, p, o, bytes / es / 8 + 1, 8, 8));
      /* misaligned element pointers */
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p0 + 1, p, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p0 + 1, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p, p, p0 + 2049, 4, 4, 4));
      /* NULL where data is needed */
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, NULL, p, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, NULL, p, o, 4, 4, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, p, p, p, NULL, 4, 4, 4));
      /* sizes whose products overflow: before anything else */
      EXPECT(GLLMK_E_OVERFLOW, gemm_call(dt, wb, p, p, p, o, big, 4, 4));
      EXPECT(GLLMK_E_OVERFLOW, gemm_call(dt, wb, NULL, NULL, NULL, NULL, 4, big, 4));
      EXPECT(GLLMK_E_OVERFLOW, gemm_call(dt, wb, p, p, p, o, half, half, 0));
      EXPECT(GLLMK_E_OVERFLOW, gemm_call(dt, wb, p, p, p, o, 1, 2, big));
      /* the empty cases are fine, NULL included */
      EXPECT(GLLMK_OK, gemm_call(dt, wb, NULL, p, NULL, NULL, 0, 5, 4));
      EXPECT(GLLMK_OK, gemm_call(dt, wb, p, NULL, NULL, NULL, 5, 0, 4));
      EXPECT(GLLMK_OK, gemm_call(dt, wb, NULL, NULL, NULL, NULL, 0, 0, 3));
      /* ... but B is needed when k and n are nonzero, A when m and k are */
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, NULL, NULL, NULL, NULL, 0, 5, 4));
      EXPECT(GLLMK_E_INVAL, gemm_call(dt, wb, NULL, NULL, NULL, NULL, 5, 0, 4));
    }
    /* gemm_bias: bias NULL (m and n nonzero), past the end, foreign, misaligned */
    EXPECT(GLLMK_E_INVAL, gemm_call(dt, 1, p, p, NULL, o, 4, 4, 4));
    EXPECT(GLLMK_E_INVAL, gemm_call(dt, 1, NULL, NULL, NULL, o, 4, 4, 0));
    EXPECT(GLLMK_E_INVAL, gemm_call(dt, 1, p, p, p0 + bytes - 2 * es, o, 4, 4, 4));
    EXPECT(GLLMK_E_INVAL, gemm_call(dt, 1, p, p, q, o, 4, 4, 4));
    EXPECT(GLLMK_E_INVAL, gemm_call(dt, 1, p, p, p0 + 1, o, 4, 4, 4));
    /* the bias NULL check comes before the one of A: same code, and overflow first */
    EXPECT(GLLMK_E_OVERFLOW, gemm_call(dt, 1, p, p, NULL, o, big, 4, 4));
    /* workspace queries */
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, gemm_workspace_bytes, big, 4, 4, &ws));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, gemm_bias_workspace_bytes, 4, 4, big, &ws));
    EXPECT(GLLMK_OK, OPS(dt, gemm_workspace_bytes, 4096, 4096, 4096, &ws));
    tu_check_true(&c, ws == 0, "%s gemm needs no workspace (%zu)", tu_dtname(dt), ws);
  }
  /* no backend */
  {
    size_t need = 0;
    const gllmk_ops_f16 *o16 = gllmk_backend_ops_f16(be);
    EXPECT(GLLMK_E_INVAL, o16->gemm(NULL, p, p, o, 4, 4, 4));
    EXPECT(GLLMK_E_INVAL, o16->gemm_bias(NULL, p, p, p, o, 4, 4, 4));
    EXPECT(GLLMK_E_INVAL, o16->gemm_workspace_bytes(NULL, 4, 4, 4, &need));
    EXPECT(GLLMK_E_INVAL, o16->gemm_bias_workspace_bytes(be, 4, 4, 4, NULL));
  }
#undef EXPECT
  gllmk_backend_synchronize(be);
  gllmk_buffer_download(buf, 0, now, bytes);
  tu_check_true(&c, !memcmp(now, snap, bytes), "a refused call wrote to the buffer");
  gllmk_buffer_download(obuf, 0, now, bytes);
  tu_check_true(&c, !memcmp(now, snap, bytes), "a refused call wrote to the other backend's buffer");
  tu_check_done(&c, "bad input: foreign and host pointers, ranges past the end, misalignment, NULL, "
                    "overflow, no backend: the CPU's codes, nothing written");
  free(snap);
  free(now);
  gllmk_buffer_free(buf);
  gllmk_buffer_free(obuf);
  gllmk_backend_close(other);
}

/* ------------------------------------------------------------------ graphs */
/* recorded: H = gemm_bias(X, W1, b) (bf16); Y = gemm(X32, W32) (f32, unaligned
 * k); replayed twice on new X and X32 */
static void test_graph(void)
{
  const size_t m = 33, n = 72, k = 40, k2 = 21;
  tu_check c;
  tu_check_init(&c);
  tu_arr X, W, b, H, X2, W2, Y;
  tu_arr_alloc(&X, TU_BF16, m * k, 0);
  tu_arr_alloc(&W, TU_BF16, k * n, 0);
  tu_arr_alloc(&b, TU_BF16, n, 0);
  tu_arr_alloc(&H, TU_BF16, m * n, 0);
  tu_arr_alloc(&X2, TU_F32, m * k2, 1);
  tu_arr_alloc(&W2, TU_F32, k2 * n, 0);
  tu_arr_alloc(&Y, TU_F32, m * n, 3);
  tu_arr_uniform(&W, -1, 1);
  tu_arr_uniform(&b, -1, 1);
  tu_arr_uniform(&W2, -1, 1);
  tu_dv dX, dW, db, dH, dX2, dW2, dY;
  tu_dv_up(be, &dX, &X);
  tu_dv_up(be, &dW, &W);
  tu_dv_up(be, &db, &b);
  tu_dv_up(be, &dH, &H);
  tu_dv_up(be, &dX2, &X2);
  tu_dv_up(be, &dW2, &W2);
  tu_dv_up(be, &dY, &Y);

  gllmk_graph *graph = NULL;
  tu_check_status(&c, gllmk_graph_begin(be), GLLMK_OK, "gllmk_graph_begin");
  tu_check_status(&c, gllmk_backend_ops_bf16(be)->gemm_bias(be, dX.p, dW.p, db.p, dH.p, m, n, k),
                  GLLMK_OK, "gemm_bias bf16 (recorded)");
  tu_check_status(&c, gllmk_backend_ops_f32(be)->gemm(be, dX2.p, dW2.p, dY.p, m, n, k2), GLLMK_OK,
                  "gemm f32 (recorded)");
  tu_check_status(&c, gllmk_graph_end(be, &graph), GLLMK_OK, "gllmk_graph_end");
  tu_check_done(&c, "graph: gemm_bias and gemm recorded");

  for (int round = 0; round < 2 && graph; round++) {
    tu_check_init(&c);
    tu_arr_uniform(&X, -2, 2);
    tu_arr_uniform(&X2, -2, 2);
    tu_dv_reup(&dX);
    tu_dv_reup(&dX2);
    tu_check_status(&c, gllmk_graph_launch(graph), GLLMK_OK, "gllmk_graph_launch");
    tu_dv_down(&dH);
    tu_dv_down(&dY);
    double *ref = tu_dalloc(m * n), *mag = tu_dalloc(m * n), *got = tu_dalloc(m * n);
    double *aa = tu_dalloc(m * k), *ab = tu_dalloc(k * n), *abias = tu_dalloc(n);
    tu_dabs(X.v, aa, m * k);
    tu_dabs(W.v, ab, k * n);
    tu_dabs(b.v, abias, n);
    ref_gemm_bias(X.v, W.v, b.v, ref, m, n, k);
    ref_gemm_bias(aa, ab, abias, mag, m, n, k);
    tu_arr_read(&H, got);
    for (size_t i = 0; i < m * n; i++)
      if (!tu_check_out(&c, TU_BF16, got[i], ref[i], tu_acc_eps(k) * mag[i], "graph H[%zu]", i))
        break;
    free(aa);
    free(ab);
    aa = tu_dalloc(m * k2);
    ab = tu_dalloc(k2 * n);
    tu_dabs(X2.v, aa, m * k2);
    tu_dabs(W2.v, ab, k2 * n);
    ref_gemm(X2.v, W2.v, ref, m, n, k2);
    ref_gemm(aa, ab, mag, m, n, k2);
    tu_arr_read(&Y, got);
    for (size_t i = 0; i < m * n; i++)
      if (!tu_check_out(&c, TU_F32, got[i], ref[i], tu_acc_eps(k2) * mag[i], "graph Y[%zu]", i))
        break;
    tu_check_guards(&c, &H, "H");
    tu_check_guards(&c, &Y, "Y");
    free(ref);
    free(mag);
    free(got);
    free(aa);
    free(ab);
    free(abias);
    tu_check_done(&c, "graph: replay %d on new inputs", round + 1);
  }
  gllmk_graph_free(graph);
  tu_dv_free(&dX);
  tu_dv_free(&dW);
  tu_dv_free(&db);
  tu_dv_free(&dH);
  tu_dv_free(&dX2);
  tu_dv_free(&dW2);
  tu_dv_free(&dY);
  tu_arr_free(&X);
  tu_arr_free(&W);
  tu_arr_free(&b);
  tu_arr_free(&H);
  tu_arr_free(&X2);
  tu_arr_free(&W2);
  tu_arr_free(&Y);
}

int main(void)
{
  /* the emulated driver (tests/cudaemu): an sm_86 device besides the default
   * sm_90 one, for test_three_stages; a real driver ignores the variable */
  if (!getenv("GLLMK_CUDAEMU_DEVICES"))
    setenv("GLLMK_CUDAEMU_DEVICES", "9.0,8.6", 1);
  if (!tu_cuda_open(&be)) return 0;
  const char *bn = gllmk_backend_name(be);
  gllmk_cuda_device info;
  if (gllmk_cuda_device_info(!strncmp(bn, "cuda:", 5) ? atoi(bn + 5) : 0, &info) == GLLMK_OK &&
      info.sm_count > 0)
    sm_count = info.sm_count;
  diag("backend %s, %d SMs", bn, sm_count);
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    test_shapes(dt, 0);
    test_shapes(dt, 1);
    test_big_tile(dt);
  }
  test_three_stages();
  test_bad_input();
  test_graph();
  gllmk_backend_close(be);
  return done_testing();
}
