/* test_badinput.c -- every Table A function with bad arguments
 * SPDX-License-Identifier: MIT
 *
 * Each of the 96 gllmk_<op>_<f32|f16|bf16> functions is called with
 *  - a NULL pointer (each data pointer in turn) and non-zero sizes: GLLMK_E_INVAL
 *  - sizes whose product (or byte count) overflows size_t, with valid
 *    pointers: GLLMK_E_OVERFLOW
 *  - inconsistent shapes: heads % kv_heads != 0, kv_heads == 0, odd or too
 *    large rotary_dim, an id >= vocab, a page_table entry >= n_pages,
 *    seq > cache_len, page_size == 0, vec_max with n == 0, eps < 0 or NaN:
 *    GLLMK_E_INVAL
 *  - empty sizes with NULL pointers: GLLMK_OK (and a 0 result)
 * After an error no buffer may have been touched: every buffer (inputs and
 * outputs, 4096 elements each with canaries) and the scalar result are
 * compared with their state before the call.
 *
 * Every call runs in a forked child, so that a crash (or a hang: 20 s alarm)
 * is reported as a failure of that case instead of ending the program.
 * Last, a bad ISA name must be refused (GLLMK_E_INVAL or GLLMK_E_UNSUPPORTED)
 * without changing the active ISA.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB 10
#define BUF_N 4096
static tu_arr B[NB];
static uint32_t ids[16], pt[16], ids_snap[16], pt_snap[16];
#define P(i) (B[i].p)

static const size_t HALF = SIZE_MAX / 2;      /* times 3 (or 2 with esize) overflows */
static const size_t BIG = SIZE_MAX / 2 + 1;   /* times any element size overflows */

static tu_iso last;
static tu_check *C;

static int all_untouched(void)
{
  for (int i = 0; i < NB; i++)
    if (!tu_arr_unchanged(&B[i]) || !tu_arr_guards_ok(&B[i]))
      return 0;
  return !memcmp(ids, ids_snap, sizeof ids) && !memcmp(pt, pt_snap, sizeof pt);
}

/* Run EXPR in a child (inline if fork fails); R is the float result pointer. */
#define RUN(EXPR)                                                \
  do {                                                           \
    float r__ = 777.0f;                                          \
    TU_ISOLATE(last, all_untouched(), r__, (EXPR));              \
  } while (0)
#define R (&r__)

static void record(gllmk_status want, gllmk_status alt, const char *what, const char *desc)
{
  if (last.sig) {
    tu_check_true(C, 0, "%s %s: crashed (signal %d)", what, desc, last.sig);
    return;
  }
  if (last.lost) {
    tu_check_true(C, 0, "%s %s: child gave no answer", what, desc);
    return;
  }
  if (last.st != want && last.st != alt) {
    tu_check_status(C, last.st, want, "%s %s", what, desc);
    return;
  }
  tu_check_true(C, 1, "%s", desc);
  if (want != GLLMK_OK)
    tu_check_true(C, last.untouched && last.result == 777.0f,
                  "%s %s: returned %s but wrote to a buffer or the result", what, desc,
                  tu_status_name(last.st));
  else
    tu_check_true(C, last.untouched, "%s %s: empty call wrote to a buffer", what, desc);
}

static const char *cur_op;
#define EXPECT2(want, alt, desc, EXPR) do { RUN(EXPR); record(want, alt, cur_op, desc); } while (0)
#define EXPECT(want, desc, EXPR) EXPECT2(want, want, desc, EXPR)
#define INVAL(desc, EXPR) EXPECT(GLLMK_E_INVAL, desc, EXPR)
#define OVF(desc, EXPR) EXPECT(GLLMK_E_OVERFLOW, desc, EXPR)
#define OKAY(desc, EXPR) EXPECT(GLLMK_OK, desc, EXPR)

static void setup(tu_dtype dt)
{
  for (int i = 0; i < NB; i++) {
    tu_arr_alloc(&B[i], dt, BUF_N, (size_t)i % 4);
    tu_arr_uniform(&B[i], 0.1, 1);
  }
  for (int i = 0; i < 16; i++) {
    ids[i] = (uint32_t)(i % 4);
    pt[i] = (uint32_t)(i % 4);
  }
  memcpy(ids_snap, ids, sizeof ids);
  memcpy(pt_snap, pt, sizeof pt);
}

static void teardown(void)
{
  for (int i = 0; i < NB; i++)
    tu_arr_free(&B[i]);
}

static void done(tu_dtype dt, const char *kind)
{
  tu_check_done(C, "%s_%s: %s", cur_op, tu_dtname(dt), kind);
}

/* ------------------------------------------------------------------ BLAS-1 */
static void bad_blas1(tu_dtype dt)
{
  cur_op = "vec_dot";
  INVAL("a NULL", TU_CALL(dt, vec_dot, NULL, P(1), 5, R));
  INVAL("b NULL", TU_CALL(dt, vec_dot, P(0), NULL, 5, R));
  INVAL("result NULL", TU_CALL(dt, vec_dot, P(0), P(1), 5, NULL));
  INVAL("result NULL, n=0", TU_CALL(dt, vec_dot, NULL, NULL, 0, NULL));
  done(dt, "NULL pointers");
  OVF("n=2^63", TU_CALL(dt, vec_dot, P(0), P(1), BIG, R));
  OVF("n=SIZE_MAX", TU_CALL(dt, vec_dot, P(0), P(1), SIZE_MAX, R));
  done(dt, "size overflow");
  OKAY("n=0, a=b=NULL", TU_CALL(dt, vec_dot, NULL, NULL, 0, R));
  tu_check_true(C, last.result == 0.0f, "vec_dot n=0: result %g, expected 0", (double)last.result);
  done(dt, "n=0 with NULL data gives 0");

  static const char *bn[] = { "vec_add", "vec_sub", "vec_mul" };
  for (int op = 0; op < 3; op++) {
    cur_op = bn[op];
#define BIN(a, b, o, n)                                                           \
  (op == 0 ? TU_CALL(dt, vec_add, a, b, o, n) : op == 1 ? TU_CALL(dt, vec_sub, a, b, o, n) \
                                                          : TU_CALL(dt, vec_mul, a, b, o, n))
    INVAL("a NULL", BIN(NULL, P(1), P(2), 7));
    INVAL("b NULL", BIN(P(0), NULL, P(2), 7));
    INVAL("out NULL", BIN(P(0), P(1), NULL, 7));
    done(dt, "NULL pointers");
    OVF("n=2^63", BIN(P(0), P(1), P(2), BIG));
    OVF("n=SIZE_MAX", BIN(P(0), P(1), P(2), SIZE_MAX));
    done(dt, "size overflow");
    OKAY("n=0, all NULL", BIN(NULL, NULL, NULL, 0));
    done(dt, "n=0 with NULL data");
#undef BIN
  }

  cur_op = "vec_scale";
  INVAL("x NULL", TU_CALL(dt, vec_scale, NULL, 2.0f, 9));
  done(dt, "NULL pointers");
  OVF("n=2^63", TU_CALL(dt, vec_scale, P(0), 2.0f, BIG));
  done(dt, "size overflow");
  OKAY("n=0, x NULL", TU_CALL(dt, vec_scale, NULL, 2.0f, 0));
  done(dt, "n=0 with NULL data");

  cur_op = "vec_axpy";
  INVAL("y NULL", TU_CALL(dt, vec_axpy, NULL, 2.0f, P(1), 9));
  INVAL("x NULL", TU_CALL(dt, vec_axpy, P(0), 2.0f, NULL, 9));
  done(dt, "NULL pointers");
  OVF("n=2^63", TU_CALL(dt, vec_axpy, P(0), 2.0f, P(1), BIG));
  done(dt, "size overflow");
  OKAY("n=0, all NULL", TU_CALL(dt, vec_axpy, NULL, 2.0f, NULL, 0));
  done(dt, "n=0 with NULL data");

  static const char *rn[] = { "vec_sum", "vec_max", "vec_sum_squares" };
  for (int op = 0; op < 3; op++) {
    cur_op = rn[op];
#define RED(x, n, r)                                                          \
  (op == 0 ? TU_CALL(dt, vec_sum, x, n, r) : op == 1 ? TU_CALL(dt, vec_max, x, n, r) \
                                                     : TU_CALL(dt, vec_sum_squares, x, n, r))
    INVAL("x NULL", RED(NULL, 6, R));
    INVAL("result NULL", RED(P(0), 6, NULL));
    done(dt, "NULL pointers");
    OVF("n=2^63", RED(P(0), BIG, R));
    done(dt, "size overflow");
    if (op == 1) {
      INVAL("n=0", RED(P(0), 0, R));
      INVAL("n=0, x NULL", RED(NULL, 0, R));
      done(dt, "n == 0 is invalid");
    } else {
      OKAY("n=0, x NULL", RED(NULL, 0, R));
      tu_check_true(C, last.result == 0.0f, "%s n=0: result %g, expected 0", rn[op],
                    (double)last.result);
      done(dt, "n=0 with NULL data gives 0");
    }
#undef RED
  }
}

/* ------------------------------------------------------------------ BLAS-2/3 */
static void bad_blas23(tu_dtype dt)
{
  cur_op = "gemv";
  INVAL("A NULL", TU_CALL(dt, gemv, NULL, P(1), P(2), 4, 5));
  INVAL("x NULL", TU_CALL(dt, gemv, P(0), NULL, P(2), 4, 5));
  INVAL("y NULL", TU_CALL(dt, gemv, P(0), P(1), NULL, 4, 5));
  done(dt, "NULL pointers");
  OVF("m*n overflows (m=SIZE_MAX/2, n=3)", TU_CALL(dt, gemv, P(0), P(1), P(2), HALF, 3));
  OVF("m*n overflows (m=3, n=SIZE_MAX/2)", TU_CALL(dt, gemv, P(0), P(1), P(2), 3, HALF));
  OVF("m=2^63, n=1", TU_CALL(dt, gemv, P(0), P(1), P(2), BIG, 1));
  done(dt, "size overflow");
  OKAY("m=0, n=0, all NULL", TU_CALL(dt, gemv, NULL, NULL, NULL, 0, 0));
  done(dt, "empty with NULL data");

  for (int bias = 0; bias < 2; bias++) {
    cur_op = bias ? "gemm_bias" : "gemm";
#define GEMM(A, Bm, bi, Cm, m, n, k)                                           \
  (bias ? TU_CALL(dt, gemm_bias, A, Bm, bi, Cm, m, n, k) : TU_CALL(dt, gemm, A, Bm, Cm, m, n, k))
    INVAL("A NULL", GEMM(NULL, P(1), P(3), P(2), 4, 5, 6));
    INVAL("B NULL", GEMM(P(0), NULL, P(3), P(2), 4, 5, 6));
    INVAL("C NULL", GEMM(P(0), P(1), P(3), NULL, 4, 5, 6));
    if (bias)
      INVAL("bias NULL", GEMM(P(0), P(1), NULL, P(2), 4, 5, 6));
    done(dt, "NULL pointers");
    OVF("m*k overflows", GEMM(P(0), P(1), P(3), P(2), HALF, 2, 3));
    OVF("k*n overflows", GEMM(P(0), P(1), P(3), P(2), 2, 3, HALF));
    OVF("m*n overflows", GEMM(P(0), P(1), P(3), P(2), HALF, 3, 1));
    OVF("n=2^63", GEMM(P(0), P(1), P(3), P(2), 1, BIG, 1));
    done(dt, "size overflow");
    OKAY("m=n=k=0, all NULL", GEMM(NULL, NULL, NULL, NULL, 0, 0, 0));
    done(dt, "empty with NULL data");
#undef GEMM
  }
}

/* ------------------------------------------------------------------ activations */
static void bad_act(tu_dtype dt)
{
  static const char *un[] = { "silu", "gelu", "relu", "tanh", "exp" };
  for (int op = 0; op < 5; op++) {
    cur_op = un[op];
#define UN(x, o, n)                                                        \
  (op == 0 ? TU_CALL(dt, silu, x, o, n) : op == 1 ? TU_CALL(dt, gelu, x, o, n) \
   : op == 2 ? TU_CALL(dt, relu, x, o, n) : op == 3 ? TU_CALL(dt, tanh, x, o, n) \
   : TU_CALL(dt, exp, x, o, n))
    INVAL("x NULL", UN(NULL, P(1), 33));
    INVAL("out NULL", UN(P(0), NULL, 33));
    done(dt, "NULL pointers");
    OVF("n=2^63", UN(P(0), P(1), BIG));
    OVF("n=SIZE_MAX", UN(P(0), P(1), SIZE_MAX));
    done(dt, "size overflow");
    OKAY("n=0, all NULL", UN(NULL, NULL, 0));
    done(dt, "n=0 with NULL data");
#undef UN
  }
  cur_op = "swiglu";
  INVAL("gate NULL", TU_CALL(dt, swiglu, NULL, P(1), P(2), 33));
  INVAL("up NULL", TU_CALL(dt, swiglu, P(0), NULL, P(2), 33));
  INVAL("out NULL", TU_CALL(dt, swiglu, P(0), P(1), NULL, 33));
  done(dt, "NULL pointers");
  OVF("n=2^63", TU_CALL(dt, swiglu, P(0), P(1), P(2), BIG));
  done(dt, "size overflow");
  OKAY("n=0, all NULL", TU_CALL(dt, swiglu, NULL, NULL, NULL, 0));
  done(dt, "n=0 with NULL data");
}

/* ------------------------------------------------------------------ norms */
static void bad_norm(tu_dtype dt)
{
  cur_op = "softmax";
  INVAL("x NULL", TU_CALL(dt, softmax, NULL, P(1), 2, 8));
  INVAL("out NULL", TU_CALL(dt, softmax, P(0), NULL, 2, 8));
  done(dt, "NULL pointers");
  OVF("rows*n overflows", TU_CALL(dt, softmax, P(0), P(1), HALF, 3));
  OVF("rows*n overflows (n big)", TU_CALL(dt, softmax, P(0), P(1), 3, HALF));
  done(dt, "size overflow");
  OKAY("rows=0, all NULL", TU_CALL(dt, softmax, NULL, NULL, 0, 8));
  done(dt, "empty with NULL data");

  cur_op = "rms_norm";
  INVAL("x NULL", TU_CALL(dt, rms_norm, NULL, P(1), P(2), 2, 8, 1e-5f));
  INVAL("w NULL", TU_CALL(dt, rms_norm, P(0), NULL, P(2), 2, 8, 1e-5f));
  INVAL("out NULL", TU_CALL(dt, rms_norm, P(0), P(1), NULL, 2, 8, 1e-5f));
  done(dt, "NULL pointers");
  OVF("rows*n overflows", TU_CALL(dt, rms_norm, P(0), P(1), P(2), HALF, 3, 1e-5f));
  OVF("rows*n overflows (n big)", TU_CALL(dt, rms_norm, P(0), P(1), P(2), 3, HALF, 1e-5f));
  done(dt, "size overflow");
  INVAL("eps=-1e-5", TU_CALL(dt, rms_norm, P(0), P(1), P(2), 2, 8, -1e-5f));
  INVAL("eps=NaN", TU_CALL(dt, rms_norm, P(0), P(1), P(2), 2, 8, NAN));
  INVAL("eps=-inf", TU_CALL(dt, rms_norm, P(0), P(1), P(2), 2, 8, -INFINITY));
  done(dt, "negative or NaN eps");
  OKAY("rows=0, all NULL", TU_CALL(dt, rms_norm, NULL, NULL, NULL, 0, 0, 1e-5f));
  done(dt, "empty with NULL data");

  cur_op = "layer_norm";
  INVAL("x NULL", TU_CALL(dt, layer_norm, NULL, P(1), P(2), P(3), 2, 8, 1e-5f));
  INVAL("gamma NULL", TU_CALL(dt, layer_norm, P(0), NULL, P(2), P(3), 2, 8, 1e-5f));
  INVAL("beta NULL", TU_CALL(dt, layer_norm, P(0), P(1), NULL, P(3), 2, 8, 1e-5f));
  INVAL("out NULL", TU_CALL(dt, layer_norm, P(0), P(1), P(2), NULL, 2, 8, 1e-5f));
  done(dt, "NULL pointers");
  OVF("rows*n overflows", TU_CALL(dt, layer_norm, P(0), P(1), P(2), P(3), HALF, 3, 1e-5f));
  OVF("rows*n overflows (n big)", TU_CALL(dt, layer_norm, P(0), P(1), P(2), P(3), 3, HALF, 1e-5f));
  done(dt, "size overflow");
  INVAL("eps=-1", TU_CALL(dt, layer_norm, P(0), P(1), P(2), P(3), 2, 8, -1.0f));
  INVAL("eps=NaN", TU_CALL(dt, layer_norm, P(0), P(1), P(2), P(3), 2, 8, NAN));
  done(dt, "negative or NaN eps");
  OKAY("rows=0, all NULL", TU_CALL(dt, layer_norm, NULL, NULL, NULL, NULL, 0, 0, 1e-5f));
  done(dt, "empty with NULL data");
}

/* ------------------------------------------------------------------ rope */
static void bad_rope(tu_dtype dt)
{
  for (int wp = 0; wp < 2; wp++) {
    cur_op = wp ? "rope_with_pos" : "rope";
#define ROPE(qk, c, s, seq, h, hd, rd, pos)                                         \
  (wp ? TU_CALL(dt, rope_with_pos, qk, c, s, seq, h, hd, rd, false, pos)            \
      : TU_CALL(dt, rope, qk, c, s, seq, h, hd, rd, false))
    INVAL("qk NULL", ROPE(NULL, P(1), P(2), 3, 2, 8, 8, 1));
    INVAL("cos NULL", ROPE(P(0), NULL, P(2), 3, 2, 8, 8, 1));
    INVAL("sin NULL", ROPE(P(0), P(1), NULL, 3, 2, 8, 8, 1));
    done(dt, "NULL pointers");
    OVF("seq*heads*head_dim overflows", ROPE(P(0), P(1), P(2), HALF, 3, 8, 8, 0));
    OVF("heads*head_dim overflows", ROPE(P(0), P(1), P(2), 1, HALF, 4, 4, 0));
    OVF("head_dim=2^63", ROPE(P(0), P(1), P(2), 1, 1, BIG, 2, 0));
    if (wp) {
      EXPECT2(GLLMK_E_OVERFLOW, GLLMK_E_INVAL, "pos + seq wraps around",
              ROPE(P(0), P(1), P(2), 3, 2, 8, 8, SIZE_MAX - 1));
      OVF("(pos + seq) * rotary_dim/2 overflows", ROPE(P(0), P(1), P(2), 3, 2, 8, 8, HALF));
    }
    done(dt, "size overflow");
    INVAL("rotary_dim odd (7 of 8)", ROPE(P(0), P(1), P(2), 3, 2, 8, 7, 1));
    INVAL("rotary_dim odd (1 of 8)", ROPE(P(0), P(1), P(2), 3, 2, 8, 1, 1));
    INVAL("rotary_dim > head_dim (10 > 8)", ROPE(P(0), P(1), P(2), 3, 2, 8, 10, 1));
    INVAL("rotary_dim > head_dim (2 > 1)", ROPE(P(0), P(1), P(2), 3, 2, 1, 2, 1));
    done(dt, "invalid rotary_dim");
    OKAY("seq=0, all NULL", ROPE(NULL, NULL, NULL, 0, 2, 8, 8, 0));
    done(dt, "empty with NULL data");
#undef ROPE
  }
}

/* ------------------------------------------------------------------ embedding */
static void bad_embedding(tu_dtype dt)
{
  cur_op = "embedding_lookup";
  INVAL("ids NULL", TU_CALL(dt, embedding_lookup, NULL, 4, P(0), 4, 8, P(1)));
  INVAL("table NULL", TU_CALL(dt, embedding_lookup, ids, 4, NULL, 4, 8, P(1)));
  INVAL("out NULL", TU_CALL(dt, embedding_lookup, ids, 4, P(0), 4, 8, NULL));
  done(dt, "NULL pointers");
  OVF("n_ids*hidden overflows", TU_CALL(dt, embedding_lookup, ids, 4, P(0), 4, HALF, P(1)));
  OVF("vocab*hidden overflows", TU_CALL(dt, embedding_lookup, ids, 1, P(0), HALF, 3, P(1)));
  OVF("n_ids=2^63", TU_CALL(dt, embedding_lookup, ids, BIG, P(0), 4, 1, P(1)));
  done(dt, "size overflow");
  {
    uint32_t saved = ids[3];
    ids[3] = 4; /* == vocab */
    memcpy(ids_snap, ids, sizeof ids);
    INVAL("ids[3] == vocab", TU_CALL(dt, embedding_lookup, ids, 4, P(0), 4, 8, P(1)));
    ids[3] = UINT32_MAX;
    memcpy(ids_snap, ids, sizeof ids);
    INVAL("ids[3] == UINT32_MAX", TU_CALL(dt, embedding_lookup, ids, 4, P(0), 4, 8, P(1)));
    ids[3] = saved;
    memcpy(ids_snap, ids, sizeof ids);
    INVAL("vocab == 0", TU_CALL(dt, embedding_lookup, ids, 4, P(0), 0, 8, P(1)));
  }
  done(dt, "id >= vocab");
  OKAY("n_ids=0, all NULL", TU_CALL(dt, embedding_lookup, NULL, 0, NULL, 0, 8, NULL));
  done(dt, "empty with NULL data");
}

/* ------------------------------------------------------------------ attention */
static void bad_attention(tu_dtype dt)
{
  cur_op = "flash_attention";
#define FA(q, k, v, o, ql, kl, h, kh, d) TU_CALL(dt, flash_attention, q, k, v, o, ql, kl, h, kh, d, 0.3f, true)
  INVAL("q NULL", FA(NULL, P(1), P(2), P(3), 2, 3, 4, 2, 8));
  INVAL("k NULL", FA(P(0), NULL, P(2), P(3), 2, 3, 4, 2, 8));
  INVAL("v NULL", FA(P(0), P(1), NULL, P(3), 2, 3, 4, 2, 8));
  INVAL("out NULL", FA(P(0), P(1), P(2), NULL, 2, 3, 4, 2, 8));
  done(dt, "NULL pointers");
  OVF("q_len*heads*head_dim overflows", FA(P(0), P(1), P(2), P(3), HALF, 3, 4, 2, 8));
  OVF("kv_len*kv_heads*head_dim overflows", FA(P(0), P(1), P(2), P(3), 2, HALF, 4, 2, 8));
  OVF("head_dim=2^63", FA(P(0), P(1), P(2), P(3), 1, 1, 1, 1, BIG));
  done(dt, "size overflow");
  INVAL("heads mod kv_heads != 0 (4, 3)", FA(P(0), P(1), P(2), P(3), 2, 3, 4, 3, 8));
  INVAL("kv_heads > heads (2, 4)", FA(P(0), P(1), P(2), P(3), 2, 3, 2, 4, 8));
  INVAL("kv_heads == 0", FA(P(0), P(1), P(2), P(3), 2, 3, 4, 0, 8));
  done(dt, "invalid head counts");
  OKAY("q_len=kv_len=0, all NULL", FA(NULL, NULL, NULL, NULL, 0, 0, 4, 2, 8));
  done(dt, "empty with NULL data");
#undef FA

  cur_op = "flash_attention_paged";
  /* valid: seq 2 of cache_len 4, page_size 2 -> page_table {0,1,...}, n_pages 4 */
#define FP(q, kc, vc, p, o, seq, cl, h, kh, d, ps, np) \
  TU_CALL(dt, flash_attention_paged, q, kc, vc, p, o, seq, cl, h, kh, d, ps, np, 0.3f)
  INVAL("q NULL", FP(NULL, P(1), P(2), pt, P(3), 2, 4, 4, 2, 8, 2, 4));
  INVAL("k_cache NULL", FP(P(0), NULL, P(2), pt, P(3), 2, 4, 4, 2, 8, 2, 4));
  INVAL("v_cache NULL", FP(P(0), P(1), NULL, pt, P(3), 2, 4, 4, 2, 8, 2, 4));
  INVAL("page_table NULL", FP(P(0), P(1), P(2), NULL, P(3), 2, 4, 4, 2, 8, 2, 4));
  INVAL("out NULL", FP(P(0), P(1), P(2), pt, NULL, 2, 4, 4, 2, 8, 2, 4));
  done(dt, "NULL pointers");
  OVF("n_pages*page_size overflows", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 2, 8, 2, HALF));
  OVF("page_size*kv_heads*head_dim overflows", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 2, 8, HALF, 4));
  OVF("seq*heads*head_dim overflows", FP(P(0), P(1), P(2), pt, P(3), 2, 4, HALF, 1, 8, 2, 4));
  done(dt, "size overflow");
  {
    pt[1] = 4; /* == n_pages */
    memcpy(pt_snap, pt, sizeof pt);
    INVAL("page_table[1] == n_pages", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 2, 8, 2, 4));
    pt[1] = UINT32_MAX;
    memcpy(pt_snap, pt, sizeof pt);
    INVAL("page_table[1] == UINT32_MAX", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 2, 8, 2, 4));
    pt[1] = 1;
    memcpy(pt_snap, pt, sizeof pt);
  }
  INVAL("seq > cache_len", FP(P(0), P(1), P(2), pt, P(3), 5, 4, 4, 2, 8, 2, 4));
  INVAL("page_size == 0", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 2, 8, 0, 4));
  INVAL("heads mod kv_heads != 0", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 3, 8, 2, 4));
  INVAL("kv_heads == 0", FP(P(0), P(1), P(2), pt, P(3), 2, 4, 4, 0, 8, 2, 4));
  done(dt, "invalid shapes and page entries");
  OKAY("seq=cache_len=0, all NULL", FP(NULL, NULL, NULL, NULL, NULL, 0, 0, 4, 2, 8, 2, 0));
  done(dt, "empty with NULL data");
#undef FP
}

/* ------------------------------------------------------------------ fused */
static void bad_fused(tu_dtype dt)
{
  cur_op = "fused_qkv_rope";
  /* valid: seq 2, hidden 8, heads 4, kv_heads 2, head_dim 8, rotary 8, pos 1 */
#define QKV(x, wq, wk, wv, c, s, q, k, v, seq, hid, h, kh, hd, rd, pos) \
  TU_CALL(dt, fused_qkv_rope, x, wq, wk, wv, c, s, q, k, v, seq, hid, h, kh, hd, rd, false, pos)
#define QKVS(seq, hid, h, kh, hd, rd, pos) \
  QKV(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), seq, hid, h, kh, hd, rd, pos)
  INVAL("x NULL", QKV(NULL, P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("wq NULL", QKV(P(0), NULL, P(2), P(3), P(4), P(5), P(6), P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("wk NULL", QKV(P(0), P(1), NULL, P(3), P(4), P(5), P(6), P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("wv NULL", QKV(P(0), P(1), P(2), NULL, P(4), P(5), P(6), P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("cos NULL", QKV(P(0), P(1), P(2), P(3), NULL, P(5), P(6), P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("sin NULL", QKV(P(0), P(1), P(2), P(3), P(4), NULL, P(6), P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("q NULL", QKV(P(0), P(1), P(2), P(3), P(4), P(5), NULL, P(7), P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("k NULL", QKV(P(0), P(1), P(2), P(3), P(4), P(5), P(6), NULL, P(8), 2, 8, 4, 2, 8, 8, 1));
  INVAL("v NULL", QKV(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), NULL, 2, 8, 4, 2, 8, 8, 1));
  done(dt, "NULL pointers");
  OVF("seq*hidden overflows", QKVS(HALF, 8, 4, 2, 8, 8, 1));
  OVF("heads*head_dim*hidden overflows", QKVS(2, HALF, 4, 2, 8, 8, 1));
  OVF("kv_heads*head_dim overflows", QKVS(2, 8, HALF + 1, HALF + 1, 8, 8, 1));
  EXPECT2(GLLMK_E_OVERFLOW, GLLMK_E_INVAL, "pos + seq wraps around",
          QKVS(2, 8, 4, 2, 8, 8, SIZE_MAX - 1));
  done(dt, "size overflow");
  INVAL("heads mod kv_heads != 0", QKVS(2, 8, 4, 3, 8, 8, 1));
  INVAL("kv_heads == 0", QKVS(2, 8, 4, 0, 8, 8, 1));
  INVAL("rotary_dim odd", QKVS(2, 8, 4, 2, 8, 5, 1));
  INVAL("rotary_dim > head_dim", QKVS(2, 8, 4, 2, 8, 10, 1));
  done(dt, "invalid shapes");
#undef QKV
#undef QKVS

  cur_op = "fused_gate_up_swiglu";
#define GUS(x, g, u, o, m, n, k) TU_CALL(dt, fused_gate_up_swiglu, x, g, u, o, m, n, k)
  INVAL("x NULL", GUS(NULL, P(1), P(2), P(3), 3, 8, 5));
  INVAL("w_gate NULL", GUS(P(0), NULL, P(2), P(3), 3, 8, 5));
  INVAL("w_up NULL", GUS(P(0), P(1), NULL, P(3), 3, 8, 5));
  INVAL("out NULL", GUS(P(0), P(1), P(2), NULL, 3, 8, 5));
  done(dt, "NULL pointers");
  OVF("m*k overflows", GUS(P(0), P(1), P(2), P(3), HALF, 1, 3));
  OVF("n*k overflows", GUS(P(0), P(1), P(2), P(3), 1, HALF, 3));
  OVF("m*n overflows", GUS(P(0), P(1), P(2), P(3), HALF, 3, 1));
  done(dt, "size overflow");
  OKAY("m=0, all NULL", GUS(NULL, NULL, NULL, NULL, 0, 0, 0));
  done(dt, "empty with NULL data");
#undef GUS

  cur_op = "fused_ffn";
#define FFN(x, g, u, d, r, o, m, h, f) TU_CALL(dt, fused_ffn, x, g, u, d, r, o, m, h, f)
  INVAL("x NULL", FFN(NULL, P(1), P(2), P(3), P(4), P(5), 2, 8, 12));
  INVAL("w_gate NULL", FFN(P(0), NULL, P(2), P(3), P(4), P(5), 2, 8, 12));
  INVAL("w_up NULL", FFN(P(0), P(1), NULL, P(3), P(4), P(5), 2, 8, 12));
  INVAL("w_down NULL", FFN(P(0), P(1), P(2), NULL, P(4), P(5), 2, 8, 12));
  INVAL("out NULL", FFN(P(0), P(1), P(2), P(3), P(4), NULL, 2, 8, 12));
  done(dt, "NULL pointers");
  OVF("m*hidden overflows", FFN(P(0), P(1), P(2), P(3), P(4), P(5), HALF, 3, 2));
  OVF("ffn*hidden overflows", FFN(P(0), P(1), P(2), P(3), P(4), P(5), 1, 3, HALF));
  done(dt, "size overflow");
  OKAY("m=0, all NULL", FFN(NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0));
  done(dt, "empty with NULL data");
#undef FFN

  cur_op = "fused_ffn_rmsnorm";
#define FFR(x, g, u, d, r, w, o, s, m, h, f, e) \
  TU_CALL(dt, fused_ffn_rmsnorm, x, g, u, d, r, w, o, s, m, h, f, e)
  INVAL("x NULL", FFR(NULL, P(1), P(2), P(3), P(4), P(5), P(6), P(7), 2, 8, 12, 1e-5f));
  INVAL("w_gate NULL", FFR(P(0), NULL, P(2), P(3), P(4), P(5), P(6), P(7), 2, 8, 12, 1e-5f));
  INVAL("w_up NULL", FFR(P(0), P(1), NULL, P(3), P(4), P(5), P(6), P(7), 2, 8, 12, 1e-5f));
  INVAL("w_down NULL", FFR(P(0), P(1), P(2), NULL, P(4), P(5), P(6), P(7), 2, 8, 12, 1e-5f));
  INVAL("norm_w NULL", FFR(P(0), P(1), P(2), P(3), P(4), NULL, P(6), P(7), 2, 8, 12, 1e-5f));
  INVAL("out NULL", FFR(P(0), P(1), P(2), P(3), P(4), P(5), NULL, P(7), 2, 8, 12, 1e-5f));
  done(dt, "NULL pointers");
  OVF("m*hidden overflows", FFR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), HALF, 3, 2, 1e-5f));
  OVF("ffn*hidden overflows", FFR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), 1, 3, HALF, 1e-5f));
  done(dt, "size overflow");
  INVAL("eps < 0", FFR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), 2, 8, 12, -1e-5f));
  INVAL("eps NaN", FFR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), 2, 8, 12, NAN));
  done(dt, "negative or NaN eps");
#undef FFR

  for (int wb = 0; wb < 2; wb++) {
    cur_op = wb ? "fused_linear_bias_residual_rmsnorm" : "fused_linear_residual_rmsnorm";
#define LRR(x, w, b, r, nw, o, s, m, n, k, e)                                           \
  (wb ? TU_CALL(dt, fused_linear_bias_residual_rmsnorm, x, w, b, r, nw, o, s, m, n, k, e) \
      : TU_CALL(dt, fused_linear_residual_rmsnorm, x, w, r, nw, o, s, m, n, k, e))
    INVAL("x NULL", LRR(NULL, P(1), P(2), P(3), P(4), P(5), P(6), 2, 8, 5, 1e-5f));
    INVAL("w NULL", LRR(P(0), NULL, P(2), P(3), P(4), P(5), P(6), 2, 8, 5, 1e-5f));
    if (wb)
      INVAL("bias NULL", LRR(P(0), P(1), NULL, P(3), P(4), P(5), P(6), 2, 8, 5, 1e-5f));
    INVAL("norm_w NULL", LRR(P(0), P(1), P(2), P(3), NULL, P(5), P(6), 2, 8, 5, 1e-5f));
    INVAL("out NULL", LRR(P(0), P(1), P(2), P(3), P(4), NULL, P(6), 2, 8, 5, 1e-5f));
    done(dt, "NULL pointers");
    OVF("m*k overflows", LRR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), HALF, 1, 3, 1e-5f));
    OVF("n*k overflows", LRR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), 1, HALF, 3, 1e-5f));
    OVF("m*n overflows", LRR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), HALF, 3, 1, 1e-5f));
    done(dt, "size overflow");
    INVAL("eps < 0", LRR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), 2, 8, 5, -1.0f));
    INVAL("eps NaN", LRR(P(0), P(1), P(2), P(3), P(4), P(5), P(6), 2, 8, 5, NAN));
    done(dt, "negative or NaN eps");
#undef LRR
  }
}

/* ------------------------------------------------------------------ ISA */
static void bad_isa(void)
{
  tu_check c;
  tu_check_init(&c);
  C = &c;
  setup(TU_F32);
  cur_op = "gllmk_cpu_set_isa";
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
  const char *foreign = "neon";
#else
  const char *foreign = "avx512";
#endif
  char before[64];
  snprintf(before, sizeof before, "%s", gllmk_cpu_isa_name());
  gllmk_status st = gllmk_cpu_set_isa(foreign);
  ok(st == GLLMK_E_INVAL || st == GLLMK_E_UNSUPPORTED,
     "gllmk_cpu_set_isa(\"%s\") on this architecture: %s (INVAL or UNSUPPORTED)", foreign,
     tu_status_name(st));
  ok(strcmp(gllmk_cpu_isa_name(), before) == 0, "active ISA unchanged (%s, was %s)",
     gllmk_cpu_isa_name(), before);
  st = gllmk_cpu_isa_check(foreign);
  ok(st == GLLMK_E_INVAL || st == GLLMK_E_UNSUPPORTED, "gllmk_cpu_isa_check(\"%s\"): %s", foreign,
     tu_status_name(st));
  EXPECT(GLLMK_E_INVAL, "NULL name", gllmk_cpu_set_isa(NULL));
  EXPECT(GLLMK_E_INVAL, "empty name", gllmk_cpu_set_isa(""));
  EXPECT(GLLMK_E_INVAL, "unknown name", gllmk_cpu_set_isa("sse9000"));
  cur_op = "gllmk_cpu_isa_check";
  EXPECT(GLLMK_E_INVAL, "NULL name", gllmk_cpu_isa_check(NULL));
  EXPECT(GLLMK_E_INVAL, "unknown name", gllmk_cpu_isa_check("bogus"));
  tu_check_done(&c, "bad ISA names are refused without crashing");
  teardown();
  ok(strcmp(gllmk_cpu_isa_name(), before) == 0, "active ISA still %s", before);
  /* the library still works after the refusals */
  float a[5] = { 1, 2, 3, 4, 5 }, r = 0;
  st = gllmk_vec_dot_f32(a, a, 5, &r);
  ok(st == GLLMK_OK && r == 55.0f, "vec_dot_f32 works after bad ISA requests (%s, %g)",
     tu_status_name(st), (double)r);
}

static void per_dtype(tu_dtype dt, void *ctx)
{
  (void)ctx;
  tu_check c;
  tu_check_init(&c);
  C = &c;
  setup(dt);
  bad_blas1(dt);
  bad_blas23(dt);
  bad_act(dt);
  bad_norm(dt);
  bad_rope(dt);
  bad_embedding(dt);
  bad_attention(dt);
  bad_fused(dt);
  teardown();
}

int main(void)
{
  tu_init();
  tu_for_each_dtype(per_dtype, NULL);
  bad_isa();
  return done_testing();
}
