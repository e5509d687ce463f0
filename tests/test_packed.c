/* test_packed.c -- weights packed once (gllmk/packed.h)
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16:
 *  - gemm_packed and gemm_bias_packed are bit-identical to gemm and gemm_bias,
 *    for B packed from B [k x n] and from W = B^T [n x k], on shapes that are
 *    not multiples of any panel, span several KC slices of k, several MC
 *    blocks of m and more than one NC block of n, on 1 and 2 threads;
 *  - linear_packed is bit-identical to gemm_bias on B = W^T (both run the
 *    packed GEMM with the bias in the kernel, at every m);
 *  - each of the six fused ops with packed weights is bit-identical to the
 *    unpacked op on m > 8 rows, and, on m <= 8 rows (where the unpacked op
 *    takes its decode path), to the first m rows of the unpacked op on 12
 *    rows (each row of the packed GEMM depends on that row alone), on 1 and
 *    2 threads (150 rows: the packed ops split the rows across threads);
 *  - gllmk_packed_weight_query says what the weight was packed for;
 *  - nothing is written past the outputs (canary bytes), A is misaligned.
 * Then the errors: another ISA active (GLLMK_E_UNSUPPORTED), a wrong shape or
 * element type, NULLs, a misaligned or too small buffer, sizes that overflow,
 * a bad layout, and every byte of a corrupted header (GLLMK_E_INVAL); the
 * output is untouched on every error.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DT_CALL(dt, fn, ...)                                                    \
  ((dt) == TU_F32 ? fn##_f32(__VA_ARGS__) : (dt) == TU_F16 ? fn##_f16(__VA_ARGS__) \
                                                            : fn##_bf16(__VA_ARGS__))

/* a 64-byte aligned block of bytes, so that the tests control alignment */
static void *abuf(size_t bytes)
{
  void *p = aligned_alloc(64, bytes ? (bytes + 63) / 64 * 64 : 64);
  if (!p) bail_out("out of memory (%zu bytes)", bytes);
  return p;
}

/* n random elements of dt in [-1, 1) */
static void *rnd(tu_dtype dt, size_t n)
{
  void *p = tu_xmalloc(n ? n * tu_esize(dt) : 1);
  for (size_t i = 0; i < n; i++) tu_put(dt, p, i, tu_uniform(-1.0, 1.0));
  return p;
}

/* the transpose of B [k x n] */
static void *transpose(tu_dtype dt, const void *B, size_t k, size_t n)
{
  size_t es = tu_esize(dt);
  unsigned char *W = tu_xmalloc(n && k ? n * k * es : 1);
  for (size_t p = 0; p < k; p++)
    for (size_t j = 0; j < n; j++) memcpy(W + (j * k + p) * es, (const unsigned char *)B + (p * n + j) * es, es);
  return W;
}

/* a packed weight of w (layout), in a buffer of its own; NULL (and a failed
 * test) when packing fails */
static gllmk_packed_weight *pack(tu_dtype dt, const void *w, gllmk_pack_layout layout, size_t n,
                                 size_t k)
{
  size_t bytes = gllmk_packed_weight_bytes(n, k);
  if (bytes == 0) {
    ok(0, "gllmk_packed_weight_bytes(%zu, %zu) > 0", n, k);
    return NULL;
  }
  void *buf = abuf(bytes);
  gllmk_packed_weight *pw = NULL;
  gllmk_status st = DT_CALL(dt, gllmk_packed_weight_create, w, layout, n, k, buf, bytes, &pw);
  if (st != GLLMK_OK || pw != buf) {
    ok(0, "create %s (%zu x %zu, layout %d): %s", tu_dtname(dt), n, k, (int)layout,
       tu_status_name(st));
    free(buf);
    return NULL;
  }
  return pw;
}

static int same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

/* the bytes [used, total) of p still hold the fill byte v: nothing written past the output */
static int tail_ok(const void *p, size_t used, size_t total, int v)
{
  const unsigned char *b = p;
  for (size_t i = used; i < total; i++)
    if (b[i] != (unsigned char)v) return 0;
  return 1;
}

/* ------------------------------------------------------------ gemm, linear */
static void test_gemm(const char *isa, tu_dtype dt)
{
  static const size_t shapes[][3] = {   /* m, n, k */
    {1, 1, 1}, {3, 17, 5}, {7, 33, 300}, {20, 70, 513}, {150, 37, 260}, {9, 2100, 20},
    {64, 520, 300}, {300, 40, 400}, {5, 0, 7}, {4, 9, 0}};
  const char *dn = tu_dtname(dt);
  size_t es = tu_esize(dt);
  int bad = 0, cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    /* A one element past an allocation's start: not aligned to a vector */
    void *A0 = rnd(dt, m * k + 1), *B = rnd(dt, k * n), *bias = rnd(dt, n);
    const void *A = (const char *)A0 + es;
    void *W = transpose(dt, B, k, n);
    size_t cb = m * n * es + 64;   /* 64 canary bytes past C */
    void *C0 = tu_xmalloc(cb), *C1 = tu_xmalloc(cb), *C2 = tu_xmalloc(cb), *C3 = tu_xmalloc(cb);
    gllmk_packed_weight *pb = pack(dt, B, GLLMK_PACK_B_KN, n, k);
    gllmk_packed_weight *pwt = pack(dt, W, GLLMK_PACK_W_NK, n, k);
    if (!pb || !pwt) { bad++; goto next; }
    for (int threads = 1; threads <= 2; threads++) {
      gllmk_set_num_threads(threads);
      memset(C0, 0x55, cb), memset(C1, 0x66, cb), memset(C2, 0x77, cb);
      gllmk_status s0 = DT_CALL(dt, gllmk_gemm, A, B, C0, m, n, k);
      gllmk_status s1 = DT_CALL(dt, gllmk_gemm_packed, A, pb, C1, m, n, k);
      gllmk_status s2 = DT_CALL(dt, gllmk_gemm_packed, A, pwt, C2, m, n, k);
      cases++;
      if (s0 || s1 || s2 || !same(C0, C1, m * n * es) || !same(C0, C2, m * n * es) ||
          !tail_ok(C1, m * n * es, cb, 0x66) || !tail_ok(C2, m * n * es, cb, 0x77)) {
        if (bad++ < 5) diag("gemm_packed %s %s %zux%zux%zu threads %d: %s %s %s", dn, isa, m, n, k,
                            threads, tu_status_name(s0), tu_status_name(s1), tu_status_name(s2));
      }
      memset(C0, 0x55, cb), memset(C1, 0x66, cb), memset(C3, 0x77, cb);
      s0 = DT_CALL(dt, gllmk_gemm_bias, A, B, bias, C0, m, n, k);
      s1 = DT_CALL(dt, gllmk_gemm_bias_packed, A, pwt, bias, C1, m, n, k);
      /* linear on W: gemm_bias's bits at every m */
      s2 = DT_CALL(dt, gllmk_linear_packed, A, pwt, bias, C3, m, n, k);
      cases++;
      if (s0 || s1 || s2 || !same(C0, C1, m * n * es) || !same(C0, C3, m * n * es) ||
          !tail_ok(C1, m * n * es, cb, 0x66) || !tail_ok(C3, m * n * es, cb, 0x77)) {
        if (bad++ < 5) diag("gemm_bias/linear_packed %s %s %zux%zux%zu threads %d: %s %s %s", dn, isa,
                            m, n, k, threads, tu_status_name(s0), tu_status_name(s1),
                            tu_status_name(s2));
      }
    }
    gllmk_set_num_threads(0);
    /* query */
    gllmk_packed_weight_info info;
    gllmk_status sq = gllmk_packed_weight_query(pwt, &info);
    cases++;
    if (sq != GLLMK_OK || strcmp(info.isa, gllmk_cpu_isa_name()) != 0 || strcmp(info.dtype, dn) != 0 ||
        info.n != n || info.k != k || info.layout != GLLMK_PACK_W_NK || info.panel_cols == 0 ||
        info.bytes != gllmk_packed_weight_bytes(n, k)) {
      if (bad++ < 5) diag("query %s %s %zux%zu: %s isa %s dtype %s n %zu k %zu", dn, isa, n, k,
                          tu_status_name(sq), info.isa, info.dtype, info.n, info.k);
    }
  next:
    free(pb), free(pwt);
    free(A0), free(B), free(bias), free(W), free(C0), free(C1), free(C2), free(C3);
  }
  ok(bad == 0, "gemm/gemm_bias/linear packed %s %s: %d cases bit-identical to the unpacked ops "
     "(both layouts, 1 and 2 threads), query right", dn, isa, cases);
}

/* ------------------------------------------------------------ fused ops */
/* rows 0..m-1 of the unpacked op on M rows vs the packed op on m rows */
struct fused_case { size_t M, m; };
static const struct fused_case fcases[] = {{12, 12}, {12, 3}, {12, 1}, {40, 40}, {150, 150}};
#define NFC (sizeof fcases / sizeof fcases[0])

static void test_fused(const char *isa, tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  size_t es = tu_esize(dt);
  const float eps = 1e-5f;
  /* linear_(bias_)residual_rmsnorm and gate_up_swiglu: n, k */
  const size_t n = 45, k = 400;
  /* ffn */
  const size_t hid = 40, ffn = 150;
  /* qkv */
  const size_t qh = 150, heads = 4, kvh = 2, hd = 12, rot = 8, pos = 3;
  const size_t nq = heads * hd, nkv = kvh * hd, Mx = 150;

  void *w = rnd(dt, n * k), *w2 = rnd(dt, n * k), *bias = rnd(dt, n), *normw = rnd(dt, n);
  void *wg = rnd(dt, ffn * hid), *wu = rnd(dt, ffn * hid), *wd = rnd(dt, hid * ffn);
  void *nh = rnd(dt, hid);
  void *wq = rnd(dt, nq * qh), *wk = rnd(dt, nkv * qh), *wv = rnd(dt, nkv * qh);
  void *cs = rnd(dt, (Mx + pos) * rot / 2), *sn = rnd(dt, (Mx + pos) * rot / 2);
  void *x = rnd(dt, Mx * (k > ffn ? k : ffn)), *res = rnd(dt, Mx * (n > hid ? n : hid));
  gllmk_packed_weight *pw = pack(dt, w, GLLMK_PACK_W_NK, n, k);
  gllmk_packed_weight *pw2 = pack(dt, w2, GLLMK_PACK_W_NK, n, k);
  gllmk_packed_weight *pg = pack(dt, wg, GLLMK_PACK_W_NK, ffn, hid);
  gllmk_packed_weight *pu = pack(dt, wu, GLLMK_PACK_W_NK, ffn, hid);
  gllmk_packed_weight *pd = pack(dt, wd, GLLMK_PACK_W_NK, hid, ffn);
  gllmk_packed_weight *pq = pack(dt, wq, GLLMK_PACK_W_NK, nq, qh);
  gllmk_packed_weight *pk = pack(dt, wk, GLLMK_PACK_W_NK, nkv, qh);
  gllmk_packed_weight *pv = pack(dt, wv, GLLMK_PACK_W_NK, nkv, qh);
  size_t ob = Mx * (nq > n ? nq : n) * es + 64;
  void *o0 = tu_xmalloc(ob), *o1 = tu_xmalloc(ob), *s0 = tu_xmalloc(ob), *s1 = tu_xmalloc(ob);
  void *k0 = tu_xmalloc(ob), *k1 = tu_xmalloc(ob), *v0 = tu_xmalloc(ob), *v1 = tu_xmalloc(ob);
  int bad[6] = {0};
  if (!pw || !pw2 || !pg || !pu || !pd || !pq || !pk || !pv) {
    ok(0, "fused packed %s %s: weights packed", dn, isa);
    goto out;
  }
  for (size_t c = 0; c < 2 * NFC; c++) {
    size_t M = fcases[c % NFC].M, m = fcases[c % NFC].m;
    /* on 1 thread, then 2 (the packed ops split 150 rows across threads) */
    gllmk_set_num_threads(c < NFC ? 1 : 2);
    gllmk_status a, b;
#define RESET() memset(o0, 1, ob), memset(o1, 2, ob), memset(s0, 3, ob), memset(s1, 4, ob)
    RESET();
    a = DT_CALL(dt, gllmk_fused_linear_residual_rmsnorm, x, w, res, normw, o0, s0, M, n, k, eps);
    b = DT_CALL(dt, gllmk_fused_linear_residual_rmsnorm_packed, x, pw, res, normw, o1, s1, m, n, k, eps);
    if (a || b || !same(o0, o1, m * n * es) || !same(s0, s1, m * n * es) ||
        !tail_ok(o1, m * n * es, ob, 2) || !tail_ok(s1, m * n * es, ob, 4))
      if (bad[0]++ < 3) diag("linear_residual_rmsnorm %s %s M %zu m %zu: %s %s", dn, isa, M, m,
                             tu_status_name(a), tu_status_name(b));
    RESET();
    a = DT_CALL(dt, gllmk_fused_linear_bias_residual_rmsnorm, x, w, bias, res, normw, o0, s0, M, n, k, eps);
    b = DT_CALL(dt, gllmk_fused_linear_bias_residual_rmsnorm_packed, x, pw, bias, res, normw, o1, s1, m, n,
                k, eps);
    if (a || b || !same(o0, o1, m * n * es) || !same(s0, s1, m * n * es) ||
        !tail_ok(o1, m * n * es, ob, 2) || !tail_ok(s1, m * n * es, ob, 4))
      if (bad[1]++ < 3) diag("linear_bias_residual_rmsnorm %s %s M %zu m %zu: %s %s", dn, isa, M, m,
                             tu_status_name(a), tu_status_name(b));
    RESET();
    a = DT_CALL(dt, gllmk_fused_gate_up_swiglu, x, w, w2, o0, M, n, k);
    b = DT_CALL(dt, gllmk_fused_gate_up_swiglu_packed, x, pw, pw2, o1, m, n, k);
    if (a || b || !same(o0, o1, m * n * es) || !tail_ok(o1, m * n * es, ob, 2))
      if (bad[2]++ < 3) diag("gate_up_swiglu %s %s M %zu m %zu: %s %s", dn, isa, M, m,
                             tu_status_name(a), tu_status_name(b));
    RESET();
    a = DT_CALL(dt, gllmk_fused_ffn, x, wg, wu, wd, res, o0, M, hid, ffn);
    b = DT_CALL(dt, gllmk_fused_ffn_packed, x, pg, pu, pd, res, o1, m, hid, ffn);
    if (a || b || !same(o0, o1, m * hid * es) || !tail_ok(o1, m * hid * es, ob, 2))
      if (bad[3]++ < 3) diag("ffn %s %s M %zu m %zu: %s %s", dn, isa, M, m, tu_status_name(a),
                             tu_status_name(b));
    RESET();
    a = DT_CALL(dt, gllmk_fused_ffn_rmsnorm, x, wg, wu, wd, res, nh, o0, s0, M, hid, ffn, eps);
    b = DT_CALL(dt, gllmk_fused_ffn_rmsnorm_packed, x, pg, pu, pd, res, nh, o1, s1, m, hid, ffn, eps);
    if (a || b || !same(o0, o1, m * hid * es) || !same(s0, s1, m * hid * es) ||
        !tail_ok(o1, m * hid * es, ob, 2) || !tail_ok(s1, m * hid * es, ob, 4))
      if (bad[4]++ < 3) diag("ffn_rmsnorm %s %s M %zu m %zu: %s %s", dn, isa, M, m,
                             tu_status_name(a), tu_status_name(b));
    for (int il = 0; il <= 1; il++) {
      RESET();
      memset(k0, 5, ob), memset(k1, 6, ob), memset(v0, 7, ob), memset(v1, 8, ob);
      a = DT_CALL(dt, gllmk_fused_qkv_rope, x, wq, wk, wv, cs, sn, o0, k0, v0, M, qh, heads, kvh, hd, rot,
                  il, pos);
      b = DT_CALL(dt, gllmk_fused_qkv_rope_packed, x, pq, pk, pv, cs, sn, o1, k1, v1, m, qh, heads, kvh, hd,
                  rot, il, pos);
      if (a || b || !same(o0, o1, m * nq * es) || !same(k0, k1, m * nkv * es) ||
          !same(v0, v1, m * nkv * es) || !tail_ok(o1, m * nq * es, ob, 2) ||
          !tail_ok(k1, m * nkv * es, ob, 6) || !tail_ok(v1, m * nkv * es, ob, 8))
        if (bad[5]++ < 3) diag("qkv_rope %s %s M %zu m %zu interleaved %d: %s %s", dn, isa, M, m, il,
                               tu_status_name(a), tu_status_name(b));
    }
#undef RESET
  }
  gllmk_set_num_threads(0);
  static const char *const names[6] = {"fused_linear_residual_rmsnorm",
                                       "fused_linear_bias_residual_rmsnorm",
                                       "fused_gate_up_swiglu", "fused_ffn", "fused_ffn_rmsnorm",
                                       "fused_qkv_rope"};
  for (int i = 0; i < 6; i++)
    ok(bad[i] == 0, "%s_packed %s %s: bit-identical to the unpacked op (m 1, 3, 12, 40, 150; 1 and 2 threads)",
       names[i], dn, isa);
out:
  free(pw), free(pw2), free(pg), free(pu), free(pd), free(pq), free(pk), free(pv);
  free(w), free(w2), free(bias), free(normw), free(wg), free(wu), free(wd), free(nh);
  free(wq), free(wk), free(wv), free(cs), free(sn), free(x), free(res);
  free(o0), free(o1), free(s0), free(s1), free(k0), free(k1), free(v0), free(v1);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_gemm(isa, dt);
  test_fused(isa, dt);
}

/* ------------------------------------------------------------ errors */
static void test_errors(void)
{
  const size_t m = 5, n = 19, k = 23;
  float *A = rnd(TU_F32, m * k), *B = rnd(TU_F32, k * n), *bias = rnd(TU_F32, n);
  size_t bytes = gllmk_packed_weight_bytes(n, k);
  unsigned char *buf = abuf(bytes + 64);
  gllmk_packed_weight *pw = NULL;
  float C[5 * 19 + 1], Cs[5 * 19 + 1];
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) C[i] = Cs[i] = 12345.0f;
  gllmk_status st;

  /* create */
  st = gllmk_packed_weight_create_f32(B, GLLMK_PACK_B_KN, n, k, buf, bytes - 1, &pw);
  ok(st == GLLMK_E_INVAL && pw == NULL, "create: buffer one byte short: GLLMK_E_INVAL (%s)",
     tu_status_name(st));
  st = gllmk_packed_weight_create_f32(B, GLLMK_PACK_B_KN, n, k, buf + 4, bytes, &pw);
  ok(st == GLLMK_E_INVAL, "create: misaligned buffer: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_packed_weight_create_f32(NULL, GLLMK_PACK_B_KN, n, k, buf, bytes, &pw);
  ok(st == GLLMK_E_INVAL, "create: w NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_packed_weight_create_f32(B, GLLMK_PACK_B_KN, n, k, NULL, bytes, &pw);
  ok(st == GLLMK_E_INVAL, "create: buf NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_packed_weight_create_f32(B, GLLMK_PACK_B_KN, n, k, buf, bytes, NULL);
  ok(st == GLLMK_E_INVAL, "create: out NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_packed_weight_create_f32(B, (gllmk_pack_layout)2, n, k, buf, bytes, &pw);
  ok(st == GLLMK_E_INVAL, "create: unknown layout: GLLMK_E_INVAL (%s)", tu_status_name(st));
  ok(pw == NULL, "create wrote no handle on errors");
  ok(gllmk_packed_weight_bytes(SIZE_MAX, 2) == 0 && gllmk_packed_weight_bytes(2, SIZE_MAX / 4) == 0 &&
     gllmk_packed_weight_bytes(SIZE_MAX / 64, SIZE_MAX / 64) == 0,
     "gllmk_packed_weight_bytes: 0 when the size overflows");
  st = gllmk_packed_weight_create_f32(B, GLLMK_PACK_W_NK, SIZE_MAX / 2, 4, buf, bytes, &pw);
  ok(st == GLLMK_E_OVERFLOW, "create: n x k overflows: GLLMK_E_OVERFLOW (%s)", tu_status_name(st));
  st = gllmk_packed_weight_create_bf16((const gllmk_bf16 *)B, GLLMK_PACK_W_NK, SIZE_MAX / 8, 3, buf,
                                       bytes, &pw);
  ok(st == GLLMK_E_OVERFLOW, "create: panel bytes overflow: GLLMK_E_OVERFLOW (%s)", tu_status_name(st));
  ok(gllmk_packed_weight_bytes(0, 7) > 0 && gllmk_packed_weight_bytes(7, 0) > 0,
     "empty weights have a size (the header)");

  st = gllmk_packed_weight_create_f32(B, GLLMK_PACK_B_KN, n, k, buf, bytes, &pw);
  ok(st == GLLMK_OK && pw == (gllmk_packed_weight *)buf, "create f32 %zux%zu (%s)", n, k,
     tu_status_name(st));
  if (st != GLLMK_OK) goto out;

  /* wrong shape, element type, NULLs: C untouched */
  st = gllmk_gemm_packed_f32(A, pw, C, m, n + 1, k);
  ok(st == GLLMK_E_INVAL, "gemm_packed: n other than packed: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_gemm_packed_f32(A, pw, C, m, n, k - 1);
  ok(st == GLLMK_E_INVAL, "gemm_packed: k other than packed: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_gemm_packed_bf16((const gllmk_bf16 *)A, pw, (gllmk_bf16 *)C, m, n, k);
  ok(st == GLLMK_E_INVAL, "gemm_packed_bf16 on an f32 weight: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_fused_linear_residual_rmsnorm_packed_f16((const gllmk_f16 *)A, pw, NULL,
                                                      (const gllmk_f16 *)bias, (gllmk_f16 *)C, NULL,
                                                      m, n, k, 1e-5f);
  ok(st == GLLMK_E_INVAL, "fused_linear_residual_rmsnorm_packed_f16 on an f32 weight: GLLMK_E_INVAL (%s)",
     tu_status_name(st));
  st = gllmk_gemm_packed_f32(A, NULL, C, m, n, k);
  ok(st == GLLMK_E_INVAL, "gemm_packed: B NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_gemm_packed_f32(NULL, pw, C, m, n, k);
  ok(st == GLLMK_E_INVAL, "gemm_packed: A NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_gemm_bias_packed_f32(A, pw, NULL, C, m, n, k);
  ok(st == GLLMK_E_INVAL, "gemm_bias_packed: bias NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  st = gllmk_fused_gate_up_swiglu_packed_f32(A, pw, NULL, C, m, n, k);
  ok(st == GLLMK_E_INVAL, "fused_gate_up_swiglu_packed: w_up NULL: GLLMK_E_INVAL (%s)",
     tu_status_name(st));
  st = gllmk_fused_ffn_packed_f32(A, pw, pw, pw, NULL, C, m, n, k);
  ok(st == GLLMK_E_INVAL, "fused_ffn_packed: weights of the wrong shapes: GLLMK_E_INVAL (%s)",
     tu_status_name(st));
  st = gllmk_fused_qkv_rope_packed_f32(A, pw, pw, pw, bias, bias, C, C, C, m, k, SIZE_MAX / 2, 1, 4,
                                       0, false, 0);
  ok(st == GLLMK_E_OVERFLOW, "fused_qkv_rope_packed: heads x head_dim overflows: GLLMK_E_OVERFLOW (%s)",
     tu_status_name(st));
  st = gllmk_packed_weight_query(pw, NULL);
  ok(st == GLLMK_E_INVAL, "query: info NULL: GLLMK_E_INVAL (%s)", tu_status_name(st));
  ok(memcmp(C, Cs, sizeof C) == 0, "C untouched by the failed calls");

  /* every byte of the header's first 64 flipped: refused by the op and the query */
  int missed = 0;
  gllmk_packed_weight_info info;
  for (size_t i = 0; i < 64; i++) {
    buf[i] ^= 0x20;
    if (gllmk_gemm_packed_f32(A, pw, C, m, n, k) != GLLMK_E_INVAL ||
        gllmk_packed_weight_query(pw, &info) != GLLMK_E_INVAL)
      missed++;
    buf[i] ^= 0x20;
  }
  ok(missed == 0 && memcmp(C, Cs, sizeof C) == 0,
     "a corrupted header (each of its first 64 bytes) is GLLMK_E_INVAL, C untouched (%d missed)",
     missed);
  unsigned char *other = abuf(bytes);
  memset(other, 0, bytes);
  st = gllmk_gemm_packed_f32(A, (const gllmk_packed_weight *)other, C, m, n, k);
  ok(st == GLLMK_E_INVAL, "a buffer that was never packed: GLLMK_E_INVAL (%s)", tu_status_name(st));
  free(other);
  st = gllmk_gemm_packed_f32(A, pw, C, m, n, k);
  ok(st == GLLMK_OK, "the restored header works again (%s)", tu_status_name(st));

  /* another ISA */
  if (tu_isa_count() < 2) {
    skip("one runnable ISA: no other ISA to refuse a packed weight under");
  } else {
    char packed_for[32];
    snprintf(packed_for, sizeof packed_for, "%s", gllmk_cpu_isa_name());
    int refused = 1, tried = 0;
    for (int i = 0; i < tu_isa_count(); i++) {
      if (strcmp(tu_isa_name(i), packed_for) == 0) continue;
      tu_isa_set(i);
      for (size_t j = 0; j < sizeof C / sizeof C[0]; j++) C[j] = 12345.0f;
      st = gllmk_gemm_packed_f32(A, pw, C, m, n, k);
      gllmk_status st2 = gllmk_fused_linear_bias_residual_rmsnorm_packed_f32(A, pw, bias, NULL, bias, C,
                                                                             NULL, m, n, k, 1e-5f);
      tried++;
      if (st != GLLMK_E_UNSUPPORTED || st2 != GLLMK_E_UNSUPPORTED || memcmp(C, Cs, sizeof C) != 0) {
        refused = 0;
        diag("packed for %s, used under %s: %s %s", packed_for, tu_isa_name(i), tu_status_name(st),
             tu_status_name(st2));
      }
    }
    gllmk_cpu_set_isa(packed_for);
    ok(refused && tried > 0, "a weight packed for %s is GLLMK_E_UNSUPPORTED under the %d other ISAs, "
       "C untouched", packed_for, tried);
    st = gllmk_gemm_packed_f32(A, pw, C, m, n, k);
    ok(st == GLLMK_OK, "and works again under %s (%s)", packed_for, tu_status_name(st));
  }
out:
  gllmk_cpu_set_isa("auto");
  free(A), free(B), free(bias), free(buf);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  test_errors();
  return done_testing();
}
