/* test_workspace.c -- CPU ops run through the backend draw their scratch
 * from its workspace, exactly as much as the query says
 * SPDX-License-Identifier: MIT
 *
 * For every operator of the backend tables (Tables A, C and D) x f32/f16/bf16,
 * on 1 and 2 threads, at several shapes per op (m = 1; decode and prefill
 * paths; fused ops over several blocks of GLLMK_FUSED_MB rows; shapes large
 * enough to take the threaded paths), with valid random inputs:
 *  - the query gives q bytes;
 *  - the op run with a workspace of exactly q bytes succeeds and leaves the
 *    same bytes as the direct call (gllmk_<op>_<dt>), in its outputs and
 *    everywhere around them;
 *  - when q > 0, the op run with a workspace 64 bytes short (or none, when q
 *    <= 64) returns GLLMK_E_NOMEM and leaves every byte as it was.
 * Each op call takes its buffers from one arena (64-byte-aligned pieces with
 * canary gaps), so "the same bytes" covers every output and its
 * surroundings.  Every op of tests/table_a_symbols.txt and
 * tests/table_cd_symbols.txt must have a case here, and invalid shapes must
 * query 0 bytes.  WS_VERBOSE=1 prints every query.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xaligned(size_t bytes)
{
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) bail_out("out of memory");
  return p;
}

/* ------------------------------------------------------------------ the backend */
/* Each run opens a CPU backend of its own, whose workspace is exactly the
 * size under test (a workspace never shrinks); the queries go to another. */
static gllmk_backend *q_be;      /* answers the queries */
static gllmk_backend *run_be;    /* runs the op being tested */

#define BE_TABLE_CALL(be, dt, member, ...)                                    \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(be)->member(be, __VA_ARGS__)      \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(be)->member(be, __VA_ARGS__)      \
                    : gllmk_backend_ops_bf16(be)->member(be, __VA_ARGS__))
#define BE_CALL(dt, op, ...) BE_TABLE_CALL(run_be, dt, op, __VA_ARGS__)
#define QUERY(c, op, ...)                                                     \
  do {                                                                        \
    if ((c)->mode == M_SIZE) {                                                \
      size_t qb__ = (size_t)-1;                                               \
      (c)->qst = BE_TABLE_CALL(q_be, (c)->dt, op##_workspace_bytes, __VA_ARGS__, &qb__); \
      (c)->q = qb__;                                                          \
    }                                                                         \
  } while (0)

/* ------------------------------------------------------------------ cases */
enum { M_SIZE, M_FILL, M_DIRECT, M_BACKEND };

typedef struct tc {
  tu_dtype dt;
  int mode, variant, nvar;
  char *base;                    /* where the arena's pointers point (NULL: M_SIZE) */
  size_t off;                    /* next free offset */
  size_t q;                      /* the query (M_SIZE) */
  gllmk_status qst;              /* and its status */
  gllmk_status st;               /* the run's status */
  void (*fn)(struct tc *c);      /* the case */
  char desc[160];
} tc;

#define GAP 64
static size_t up64(size_t x) { return (x + 63) & ~(size_t)63; }

static void *carve(tc *c, size_t bytes)
{
  size_t o = c->off;
  c->off = up64(o + bytes) + GAP;
  return c->base ? c->base + o : NULL;
}

/* inputs, filled with random values in M_FILL (uniform in [-1, 1) unless
 * said otherwise) */
static void *in_T(tc *c, size_t n)
{
  void *p = carve(c, n * tu_esize(c->dt));
  if (c->mode == M_FILL)
    for (size_t i = 0; i < n; i++) tu_put(c->dt, p, i, tu_uniform(-1, 1));
  return p;
}
static void *in_Tpos(tc *c, size_t n)   /* norm weights: in [0.5, 1.5) */
{
  void *p = carve(c, n * tu_esize(c->dt));
  if (c->mode == M_FILL)
    for (size_t i = 0; i < n; i++) tu_put(c->dt, p, i, tu_uniform(0.5, 1.5));
  return p;
}
static float *in_f32(tc *c, size_t n, double lo, double hi)
{
  float *p = carve(c, n * sizeof(float));
  if (c->mode == M_FILL)
    for (size_t i = 0; i < n; i++) p[i] = (float)tu_uniform(lo, hi);
  return p;
}
static void *in_bytes(tc *c, size_t n)
{
  unsigned char *p = carve(c, n);
  if (c->mode == M_FILL)
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)tu_rand_u64();
  return p;
}
static uint32_t *in_u32(tc *c, size_t n, size_t below)
{
  uint32_t *p = carve(c, n * sizeof(uint32_t));
  if (c->mode == M_FILL)
    for (size_t i = 0; i < n; i++) p[i] = (uint32_t)tu_rand_below(below);
  return p;
}
/* outputs keep the arena's canary bytes */
static void *out_T(tc *c, size_t n) { return carve(c, n * tu_esize(c->dt)); }
static float *out_f32(tc *c, size_t n) { return carve(c, n * sizeof(float)); }

/* n x k weights of a GGUF / SqueezeLLM format: quantized from random values,
 * or (formats without a quantizer) random bytes with an f16 scale 1/16 at
 * the start of each block */
static void *in_q(tc *c, gllmk_qtype t, size_t n, size_t k, size_t *bytes)
{
  *bytes = n * gllmk_qtype_row_bytes(t, k);
  unsigned char *p = carve(c, *bytes);
  if (c->mode != M_FILL) return p;
  float *w = tu_xmalloc(n * k * sizeof(float) + 4);
  for (size_t i = 0; i < n * k; i++) w[i] = (float)tu_uniform(-1, 1);
  if (gllmk_quantize(t, w, n * k, p, *bytes) != GLLMK_OK) {
    size_t bb = gllmk_qtype_block_bytes(t);
    gllmk_f16 d = gllmk_f32_to_f16(0.0625f);
    for (size_t i = 0; i < *bytes; i++) p[i] = (unsigned char)tu_rand_u64();
    for (size_t b = 0; b + bb <= *bytes; b += bb) memcpy(p + b, &d, sizeof d);
  }
  free(w);
  return p;
}

/* the variant's shape: row v of a table of S dims */
#define SHAPE(c, tab)                                                          \
  do {                                                                         \
    (c)->nvar = (int)(sizeof(tab) / sizeof((tab)[0]));                         \
    if ((c)->variant >= (c)->nvar) return;                                     \
  } while (0)
#define V(tab, i) ((tab)[c->variant][i])

/* the direct call, gllmk_<op>_<dt>, whatever GLLMK_TEST_BACKEND says */
#define PUB_CALL(dt, op, ...)                                                  \
  ((dt) == TU_F32   ? gllmk_##op##_f32(__VA_ARGS__)                            \
   : (dt) == TU_F16 ? gllmk_##op##_f16(__VA_ARGS__)                            \
                    : gllmk_##op##_bf16(__VA_ARGS__))
#define RUN(c, op, ...)                                                        \
  do {                                                                         \
    if ((c)->mode == M_DIRECT) (c)->st = PUB_CALL((c)->dt, op, __VA_ARGS__);   \
    else if ((c)->mode == M_BACKEND) (c)->st = BE_CALL((c)->dt, op, __VA_ARGS__); \
  } while (0)
#define DESC(c, ...) snprintf((c)->desc, sizeof (c)->desc, __VA_ARGS__)

/* ------------------------------------------------------------------ Table A */
static const size_t N_VEC[][1] = { { 1 }, { 1000 }, { 150001 } };

static void c_reduce(tc *c, int which)
{
  SHAPE(c, N_VEC);
  size_t n = V(N_VEC, 0);
  DESC(c, "n=%zu", n);
  void *a = in_T(c, n), *b = in_T(c, n);
  float *r = out_f32(c, 1);
  switch (which) {
  case 0: QUERY(c, vec_dot, n); RUN(c, vec_dot, a, b, n, r); break;
  case 1: QUERY(c, vec_sum, n); RUN(c, vec_sum, a, n, r); break;
  case 2: QUERY(c, vec_max, n); RUN(c, vec_max, a, n, r); break;
  default: QUERY(c, vec_sum_squares, n); RUN(c, vec_sum_squares, a, n, r); break;
  }
}
static void c_vec_dot(tc *c) { c_reduce(c, 0); }
static void c_vec_sum(tc *c) { c_reduce(c, 1); }
static void c_vec_max(tc *c) { c_reduce(c, 2); }
static void c_vec_sum_squares(tc *c) { c_reduce(c, 3); }

#define BINARY_CASE(op)                                                        \
  static void c_##op(tc *c)                                                    \
  {                                                                            \
    SHAPE(c, N_VEC);                                                           \
    size_t n = V(N_VEC, 0);                                                    \
    DESC(c, "n=%zu", n);                                                       \
    void *a = in_T(c, n), *b = in_T(c, n), *o = out_T(c, n);                   \
    QUERY(c, op, n);                                                           \
    RUN(c, op, a, b, o, n);                                                    \
  }
BINARY_CASE(vec_add)
BINARY_CASE(vec_sub)
BINARY_CASE(vec_mul)
BINARY_CASE(swiglu)

#define UNARY_CASE(op)                                                         \
  static void c_##op(tc *c)                                                    \
  {                                                                            \
    SHAPE(c, N_VEC);                                                           \
    size_t n = V(N_VEC, 0);                                                    \
    DESC(c, "n=%zu", n);                                                       \
    void *a = in_T(c, n), *o = out_T(c, n);                                    \
    QUERY(c, op, n);                                                           \
    RUN(c, op, a, o, n);                                                       \
  }
UNARY_CASE(silu)
UNARY_CASE(gelu)
UNARY_CASE(relu)
UNARY_CASE(tanh)
UNARY_CASE(exp)

static void c_vec_scale(tc *c)
{
  SHAPE(c, N_VEC);
  size_t n = V(N_VEC, 0);
  DESC(c, "n=%zu", n);
  void *x = in_T(c, n);
  QUERY(c, vec_scale, n);
  RUN(c, vec_scale, x, 0.75f, n);
}
static void c_vec_axpy(tc *c)
{
  SHAPE(c, N_VEC);
  size_t n = V(N_VEC, 0);
  DESC(c, "n=%zu", n);
  void *y = in_T(c, n), *x = in_T(c, n);
  QUERY(c, vec_axpy, n);
  RUN(c, vec_axpy, y, -0.5f, x, n);
}

static void c_gemv(tc *c)
{
  static const size_t S[][2] = { { 1, 1 }, { 7, 33 }, { 300, 512 } };
  SHAPE(c, S);
  size_t m = V(S, 0), n = V(S, 1);
  DESC(c, "m=%zu n=%zu", m, n);
  void *A = in_T(c, m * n), *x = in_T(c, n), *y = out_T(c, m);
  QUERY(c, gemv, m, n);
  RUN(c, gemv, A, x, y, m, n);
}

/* gemm: 160^3 and 600 x 96 x 80 pass the threaded-path threshold (4e6) */
static const size_t S_GEMM[][3] = { { 1, 1, 1 }, { 1, 64, 32 }, { 37, 45, 29 },
                                    { 160, 160, 160 }, { 600, 96, 80 } };
static void c_gemm(tc *c)
{
  SHAPE(c, S_GEMM);
  size_t m = V(S_GEMM, 0), n = V(S_GEMM, 1), k = V(S_GEMM, 2);
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  void *A = in_T(c, m * k), *B = in_T(c, k * n), *C = out_T(c, m * n);
  QUERY(c, gemm, m, n, k);
  RUN(c, gemm, A, B, C, m, n, k);
}
static void c_gemm_bias(tc *c)
{
  SHAPE(c, S_GEMM);
  size_t m = V(S_GEMM, 0), n = V(S_GEMM, 1), k = V(S_GEMM, 2);
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  void *A = in_T(c, m * k), *B = in_T(c, k * n), *bias = in_T(c, n), *C = out_T(c, m * n);
  QUERY(c, gemm_bias, m, n, k);
  RUN(c, gemm_bias, A, B, bias, C, m, n, k);
}

static const size_t S_ROWS[][2] = { { 1, 1 }, { 3, 100 }, { 300, 512 } };
static void c_softmax(tc *c)
{
  SHAPE(c, S_ROWS);
  size_t r = V(S_ROWS, 0), n = V(S_ROWS, 1);
  DESC(c, "rows=%zu n=%zu", r, n);
  void *x = in_T(c, r * n), *o = out_T(c, r * n);
  QUERY(c, softmax, r, n);
  RUN(c, softmax, x, o, r, n);
}
static void c_rms_norm(tc *c)
{
  SHAPE(c, S_ROWS);
  size_t r = V(S_ROWS, 0), n = V(S_ROWS, 1);
  DESC(c, "rows=%zu n=%zu", r, n);
  void *x = in_T(c, r * n), *w = in_Tpos(c, n), *o = out_T(c, r * n);
  QUERY(c, rms_norm, r, n);
  RUN(c, rms_norm, x, w, o, r, n, 1e-5f);
}
static void c_layer_norm(tc *c)
{
  SHAPE(c, S_ROWS);
  size_t r = V(S_ROWS, 0), n = V(S_ROWS, 1);
  DESC(c, "rows=%zu n=%zu", r, n);
  void *x = in_T(c, r * n), *g = in_Tpos(c, n), *b = in_T(c, n), *o = out_T(c, r * n);
  QUERY(c, layer_norm, r, n);
  RUN(c, layer_norm, x, g, b, o, r, n, 1e-5f);
}

/* seq, heads, head_dim, rotary_dim, interleaved, pos */
static const size_t S_ROPE[][6] = { { 1, 1, 2, 2, 0, 0 }, { 5, 3, 16, 8, 1, 4 },
                                    { 256, 8, 64, 64, 0, 7 } };
static void c_rope_any(tc *c, bool with_pos)
{
  SHAPE(c, S_ROPE);
  size_t seq = V(S_ROPE, 0), h = V(S_ROPE, 1), d = V(S_ROPE, 2), rd = V(S_ROPE, 3);
  bool il = V(S_ROPE, 4) != 0;
  size_t pos = with_pos ? V(S_ROPE, 5) : 0;
  DESC(c, "seq=%zu heads=%zu head_dim=%zu rotary=%zu interleaved=%d pos=%zu", seq, h, d, rd, il,
       pos);
  void *qk = in_T(c, seq * h * d), *cs = in_T(c, (pos + seq) * rd / 2),
       *sn = in_T(c, (pos + seq) * rd / 2);
  if (with_pos) {
    QUERY(c, rope_with_pos, seq, h, d, rd, il, pos);
    RUN(c, rope_with_pos, qk, cs, sn, seq, h, d, rd, il, pos);
  } else {
    QUERY(c, rope, seq, h, d, rd, il);
    RUN(c, rope, qk, cs, sn, seq, h, d, rd, il);
  }
}
static void c_rope(tc *c) { c_rope_any(c, false); }
static void c_rope_with_pos(tc *c) { c_rope_any(c, true); }

static void c_embedding_lookup(tc *c)
{
  static const size_t S[][3] = { { 1, 1, 1 }, { 17, 50, 24 } };
  SHAPE(c, S);
  size_t ni = V(S, 0), vocab = V(S, 1), hidden = V(S, 2);
  DESC(c, "n_ids=%zu vocab=%zu hidden=%zu", ni, vocab, hidden);
  uint32_t *ids = in_u32(c, ni, vocab);
  void *table = in_T(c, vocab * hidden), *o = out_T(c, ni * hidden);
  QUERY(c, embedding_lookup, ni, vocab, hidden);
  RUN(c, embedding_lookup, ids, ni, table, vocab, hidden, o);
}

/* q_len, kv_len, heads, kv_heads, head_dim, causal: the last passes the
 * threaded-path threshold (1e6) */
static void c_flash_attention(tc *c)
{
  static const size_t S[][6] = { { 1, 5, 2, 1, 8, 0 }, { 33, 40, 4, 2, 16, 1 },
                                 { 32, 128, 4, 2, 64, 0 }, { 48, 96, 8, 8, 32, 1 } };
  SHAPE(c, S);
  size_t ql = V(S, 0), kl = V(S, 1), h = V(S, 2), kh = V(S, 3), d = V(S, 4);
  bool causal = V(S, 5) != 0;
  DESC(c, "q_len=%zu kv_len=%zu heads=%zu kv_heads=%zu head_dim=%zu causal=%d", ql, kl, h, kh, d,
       causal);
  void *q = in_T(c, ql * h * d), *k = in_T(c, kl * kh * d), *v = in_T(c, kl * kh * d),
       *o = out_T(c, ql * h * d);
  QUERY(c, flash_attention, ql, kl, h, kh, d, causal);
  RUN(c, flash_attention, q, k, v, o, ql, kl, h, kh, d, 0.125f, causal);
}
static void c_flash_attention_paged(tc *c)
{
  /* seq, cache_len, heads, kv_heads, head_dim, page_size, n_pages */
  static const size_t S[][7] = { { 1, 7, 2, 1, 8, 4, 3 }, { 32, 128, 4, 2, 64, 16, 10 } };
  SHAPE(c, S);
  size_t seq = V(S, 0), cl = V(S, 1), h = V(S, 2), kh = V(S, 3), d = V(S, 4), ps = V(S, 5),
         np = V(S, 6);
  DESC(c, "seq=%zu cache_len=%zu heads=%zu kv_heads=%zu head_dim=%zu page=%zu pages=%zu", seq, cl,
       h, kh, d, ps, np);
  void *q = in_T(c, seq * h * d), *kc = in_T(c, np * ps * kh * d), *vc = in_T(c, np * ps * kh * d);
  uint32_t *pt = in_u32(c, (cl + ps - 1) / ps, np);
  void *o = out_T(c, seq * h * d);
  QUERY(c, flash_attention_paged, seq, cl, h, kh, d, ps, np);
  RUN(c, flash_attention_paged, q, kc, vc, pt, o, seq, cl, h, kh, d, ps, np, 0.125f);
}

/* fused: m = 1100 takes three blocks of GLLMK_FUSED_MB (512) rows, with 96
 * x 96 weights the full blocks on the threaded GEMM path (work >= 4e6) and
 * the last one not; 64 x 256 x 256 is one threaded block */
static void c_fused_qkv_rope(tc *c)
{
  /* seq, hidden, heads, kv_heads, head_dim, rotary_dim, interleaved, pos */
  static const size_t S[][8] = { { 1, 32, 4, 2, 8, 8, 0, 3 }, { 20, 64, 4, 2, 16, 8, 1, 0 },
                                 { 1100, 16, 2, 1, 8, 8, 0, 2 }, { 1100, 96, 6, 3, 16, 16, 1, 0 },
                                 { 64, 256, 8, 4, 32, 32, 0, 0 } };
  SHAPE(c, S);
  size_t seq = V(S, 0), hid = V(S, 1), h = V(S, 2), kh = V(S, 3), d = V(S, 4), rd = V(S, 5),
         pos = V(S, 7);
  bool il = V(S, 6) != 0;
  DESC(c, "seq=%zu hidden=%zu heads=%zu kv_heads=%zu head_dim=%zu rotary=%zu", seq, hid, h, kh, d,
       rd);
  size_t nq = h * d, nkv = kh * d;
  void *x = in_T(c, seq * hid), *wq = in_T(c, nq * hid), *wk = in_T(c, nkv * hid),
       *wv = in_T(c, nkv * hid), *cs = in_T(c, (pos + seq) * rd / 2),
       *sn = in_T(c, (pos + seq) * rd / 2);
  void *q = out_T(c, seq * nq), *k = out_T(c, seq * nkv), *v = out_T(c, seq * nkv);
  QUERY(c, fused_qkv_rope, seq, hid, h, kh, d, rd, il, pos);
  RUN(c, fused_qkv_rope, x, wq, wk, wv, cs, sn, q, k, v, seq, hid, h, kh, d, rd, il, pos);
}

static const size_t S_FUSED[][3] = { { 1, 16, 8 }, { 9, 40, 24 }, { 1100, 8, 12 },
                                     { 1100, 96, 96 }, { 64, 256, 256 } };
static void c_fused_gate_up_swiglu(tc *c)
{
  SHAPE(c, S_FUSED);
  size_t m = V(S_FUSED, 0), n = V(S_FUSED, 1), k = V(S_FUSED, 2);
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  void *x = in_T(c, m * k), *wg = in_T(c, n * k), *wu = in_T(c, n * k), *o = out_T(c, m * n);
  QUERY(c, fused_gate_up_swiglu, m, n, k);
  RUN(c, fused_gate_up_swiglu, x, wg, wu, o, m, n, k);
}

/* m, hidden, ffn, residual */
static const size_t S_FFN[][4] = { { 1, 8, 16, 1 }, { 9, 24, 40, 0 }, { 1100, 8, 12, 1 },
                                   { 1100, 96, 96, 0 }, { 64, 256, 256, 1 } };
static void c_fused_ffn(tc *c)
{
  SHAPE(c, S_FFN);
  size_t m = V(S_FFN, 0), hid = V(S_FFN, 1), ffn = V(S_FFN, 2);
  bool res = V(S_FFN, 3) != 0;
  DESC(c, "m=%zu hidden=%zu ffn=%zu residual=%d", m, hid, ffn, res);
  void *x = in_T(c, m * hid), *wg = in_T(c, ffn * hid), *wu = in_T(c, ffn * hid),
       *wd = in_T(c, hid * ffn), *r = res ? in_T(c, m * hid) : NULL, *o = out_T(c, m * hid);
  QUERY(c, fused_ffn, m, hid, ffn);
  RUN(c, fused_ffn, x, wg, wu, wd, r, o, m, hid, ffn);
}
static void c_fused_ffn_rmsnorm(tc *c)
{
  SHAPE(c, S_FFN);
  size_t m = V(S_FFN, 0), hid = V(S_FFN, 1), ffn = V(S_FFN, 2);
  bool res = V(S_FFN, 3) != 0;
  DESC(c, "m=%zu hidden=%zu ffn=%zu residual=%d", m, hid, ffn, res);
  void *x = in_T(c, m * hid), *wg = in_T(c, ffn * hid), *wu = in_T(c, ffn * hid),
       *wd = in_T(c, hid * ffn), *r = res ? in_T(c, m * hid) : NULL, *nw = in_Tpos(c, hid),
       *o = out_T(c, m * hid), *so = out_T(c, m * hid);
  QUERY(c, fused_ffn_rmsnorm, m, hid, ffn);
  RUN(c, fused_ffn_rmsnorm, x, wg, wu, wd, r, nw, o, so, m, hid, ffn, 1e-5f);
}

/* m, n, k, out aliases residual (f32 then needs its Y block) */
static const size_t S_LN[][4] = { { 1, 16, 8, 0 }, { 9, 40, 24, 1 }, { 1100, 8, 12, 0 },
                                  { 1100, 96, 96, 1 }, { 64, 256, 256, 0 } };
static void c_linear_norm(tc *c, bool bias)
{
  SHAPE(c, S_LN);
  size_t m = V(S_LN, 0), n = V(S_LN, 1), k = V(S_LN, 2);
  bool alias = V(S_LN, 3) != 0;
  DESC(c, "m=%zu n=%zu k=%zu out=residual:%d", m, n, k, alias);
  void *x = in_T(c, m * k), *w = in_T(c, n * k), *b = bias ? in_T(c, n) : NULL,
       *r = in_T(c, m * n), *nw = in_Tpos(c, n), *o = alias ? r : out_T(c, m * n),
       *so = out_T(c, m * n);
  if (bias) {
    QUERY(c, fused_linear_bias_residual_rmsnorm, m, n, k);
    RUN(c, fused_linear_bias_residual_rmsnorm, x, w, b, r, nw, o, so, m, n, k, 1e-5f);
  } else {
    QUERY(c, fused_linear_residual_rmsnorm, m, n, k);
    RUN(c, fused_linear_residual_rmsnorm, x, w, r, nw, o, so, m, n, k, 1e-5f);
  }
}
static void c_fused_linear_residual_rmsnorm(tc *c) { c_linear_norm(c, false); }
static void c_fused_linear_bias_residual_rmsnorm(tc *c) { c_linear_norm(c, true); }

/* ------------------------------------------------------------------ Tables C and D */
/* m, n, k, format: m < 16 takes the decode path, m >= 16 the GEMM path
 * (threaded when n spans several tiles) */
enum { F_GENERIC, F_KQUANT, F_IQ, F_SQ, F_IQ1S, F_IQ2XXS };
static const size_t S_QMM[][3] = { { 1, 5, 256 }, { 7, 33, 512 }, { 20, 300, 256 } };

static gllmk_qtype q_format(int fam, int variant)
{
  static const gllmk_qtype G[] = { GLLMK_Q4_0, GLLMK_Q4_K, GLLMK_SQUEEZELLM };
  static const gllmk_qtype KQ[] = { GLLMK_Q8_0, GLLMK_Q6_K, GLLMK_Q5_1 };
  static const gllmk_qtype IQ[] = { GLLMK_IQ4_NL, GLLMK_IQ2_XXS, GLLMK_IQ4_XS };
  switch (fam) {
  case F_GENERIC: return G[variant % 3];
  case F_KQUANT: return KQ[variant % 3];
  case F_IQ: return IQ[variant % 3];
  case F_SQ: return GLLMK_SQUEEZELLM;
  case F_IQ1S: return GLLMK_IQ1_S;
  default: return GLLMK_IQ2_XXS;
  }
}

static void c_gguf(tc *c, int fam)
{
  SHAPE(c, S_QMM);
  size_t m = V(S_QMM, 0), n = V(S_QMM, 1), k = V(S_QMM, 2), wb;
  gllmk_qtype t = q_format(fam, c->variant);
  DESC(c, "%s m=%zu n=%zu k=%zu", gllmk_qtype_name(t), m, n, k);
  void *w = in_q(c, t, n, k, &wb), *x = in_T(c, m * k), *y = out_T(c, m * n);
  switch (fam) {
  case F_GENERIC:
    QUERY(c, fused_dequant_gemv, wb, t, m, n, k);
    RUN(c, fused_dequant_gemv, w, wb, x, y, t, m, n, k);
    break;
  case F_KQUANT:
    QUERY(c, kquant_matmul, wb, t, m, n, k);
    RUN(c, kquant_matmul, w, wb, x, y, t, m, n, k);
    break;
  case F_IQ:
    QUERY(c, iq_matmul, wb, t, m, n, k);
    RUN(c, iq_matmul, w, wb, x, y, t, m, n, k);
    break;
  case F_SQ:
    QUERY(c, squeeze_matmul, wb, m, n, k);
    RUN(c, squeeze_matmul, w, wb, x, y, m, n, k);
    break;
  case F_IQ1S:
    QUERY(c, fused_iq1_s_matmul, wb, m, n, k);
    RUN(c, fused_iq1_s_matmul, w, wb, x, y, m, n, k);
    break;
  default:
    QUERY(c, fused_iq2_xxs_matmul, wb, m, n, k);
    RUN(c, fused_iq2_xxs_matmul, w, wb, x, y, m, n, k);
    break;
  }
}
static void c_fused_dequant_gemv(tc *c) { c_gguf(c, F_GENERIC); }
static void c_kquant_matmul(tc *c) { c_gguf(c, F_KQUANT); }
static void c_iq_matmul(tc *c) { c_gguf(c, F_IQ); }
static void c_squeeze_matmul(tc *c) { c_gguf(c, F_SQ); }
static void c_fused_iq1_s_matmul(tc *c) { c_gguf(c, F_IQ1S); }
static void c_fused_iq2_xxs_matmul(tc *c) { c_gguf(c, F_IQ2XXS); }
static void c_fused_squeeze_matmul(tc *c)
{
  SHAPE(c, S_QMM);
  size_t m = V(S_QMM, 0), n = V(S_QMM, 1), k = V(S_QMM, 2), wb;
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  void *w = in_q(c, GLLMK_SQUEEZELLM, n, k, &wb), *x = in_T(c, m * k), *y = out_T(c, m * n);
  QUERY(c, fused_squeeze_matmul, wb, m, n, k);
  RUN(c, fused_squeeze_matmul, w, wb, x, y, m, n, k);
}

static void c_awq(tc *c, bool fused)
{
  SHAPE(c, S_QMM);
  size_t m = V(S_QMM, 0), n = V(S_QMM, 1), k = V(S_QMM, 2);
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  size_t pb = n * k / 2;
  uint8_t *packed = carve(c, pb), *zeros = carve(c, n * ((k / 128 + 1) / 2));
  gllmk_f16 *scales = carve(c, n * (k / 128) * sizeof(gllmk_f16));
  if (c->mode == M_FILL) {
    float *w = tu_xmalloc(n * k * sizeof(float));
    for (size_t i = 0; i < n * k; i++) w[i] = (float)tu_uniform(-1, 1);
    if (gllmk_quant_awq4(w, n, k, packed, zeros, scales) != GLLMK_OK) bail_out("quant_awq4");
    free(w);
  }
  void *x = in_T(c, m * k), *y = out_T(c, m * n);
  if (fused) {
    QUERY(c, fused_awq4_matmul, pb, m, n, k);
    RUN(c, fused_awq4_matmul, packed, pb, zeros, scales, x, y, m, n, k);
  } else {
    QUERY(c, awq_matmul, pb, m, n, k);
    RUN(c, awq_matmul, packed, pb, zeros, scales, x, y, m, n, k);
  }
}
static void c_awq_matmul(tc *c) { c_awq(c, false); }
static void c_fused_awq4_matmul(tc *c) { c_awq(c, true); }

/* m, n, k, group size, act order (g_idx permuted: no integer path); k =
 * 16512 puts g_idx per 16 columns on the heap */
static void c_gptq(tc *c, bool fused)
{
  static const size_t S[][5] = { { 1, 5, 256, 32, 0 }, { 7, 33, 512, 128, 1 },
                                 { 20, 300, 256, 64, 0 }, { 20, 40, 256, 64, 1 },
                                 { 1, 3, 16512, 128, 0 } };
  SHAPE(c, S);
  size_t m = V(S, 0), n = V(S, 1), k = V(S, 2), gs = V(S, 3), ng = k / gs;
  bool act = V(S, 4) != 0;
  DESC(c, "m=%zu n=%zu k=%zu group=%zu act_order=%d", m, n, k, gs, act);
  size_t pb = n * k / 2;
  uint8_t *packed = carve(c, pb);
  int32_t *g_idx = carve(c, k * sizeof(int32_t));
  gllmk_f16 *scales = carve(c, n * ng * sizeof(gllmk_f16));
  if (c->mode == M_FILL) {
    float *w = tu_xmalloc(n * k * sizeof(float));
    for (size_t i = 0; i < n * k; i++) w[i] = (float)tu_uniform(-1, 1);
    if (gllmk_quant_gptq4(w, n, k, gs, packed, g_idx, scales) != GLLMK_OK) bail_out("quant_gptq4");
    if (act)
      for (size_t j = 0; j < k; j++) g_idx[j] = (int32_t)tu_rand_below(ng);
    free(w);
  }
  void *x = in_T(c, m * k), *y = out_T(c, m * n);
  if (fused) {
    QUERY(c, fused_gptq4_matmul, pb, ng, m, n, k);
    RUN(c, fused_gptq4_matmul, packed, pb, g_idx, scales, ng, x, y, m, n, k);
  } else {
    QUERY(c, gptq_matmul, pb, ng, m, n, k);
    RUN(c, gptq_matmul, packed, pb, g_idx, scales, ng, x, y, m, n, k);
  }
}
static void c_gptq_matmul(tc *c) { c_gptq(c, false); }
static void c_fused_gptq4_matmul(tc *c) { c_gptq(c, true); }

static void c_gemv_qn(tc *c, int bits)
{
  static const size_t S[][1] = { { 1 }, { 3001 } };
  SHAPE(c, S);
  size_t n = V(S, 0), wb = (n * (size_t)bits + 7) / 8;
  DESC(c, "n=%zu", n);
  void *w = in_bytes(c, wb), *x = in_T(c, n);
  float *r = out_f32(c, 1);
  switch (bits) {
  case 8: QUERY(c, gemv_q8, wb, n); RUN(c, gemv_q8, w, wb, x, 0.5f, n, r); break;
  case 4: QUERY(c, gemv_q4, wb, n); RUN(c, gemv_q4, w, wb, x, 0.5f, n, r); break;
  case 2: QUERY(c, gemv_q2, wb, n); RUN(c, gemv_q2, w, wb, x, 0.5f, n, r); break;
  default: QUERY(c, gemv_q1, wb, n); RUN(c, gemv_q1, w, wb, x, 0.5f, n, r); break;
  }
}
static void c_gemv_q8(tc *c) { c_gemv_qn(c, 8); }
static void c_gemv_q4(tc *c) { c_gemv_qn(c, 4); }
static void c_gemv_q2(tc *c) { c_gemv_qn(c, 2); }
static void c_gemv_q1(tc *c) { c_gemv_qn(c, 1); }

static const size_t S_INTW[][3] = { { 1, 5, 64 }, { 7, 33, 100 }, { 20, 300, 256 },
                                    { 40, 24, 2000 } };
static void c_gemm_qn(tc *c, int bits)
{
  SHAPE(c, S_INTW);
  size_t m = V(S_INTW, 0), n = V(S_INTW, 1), k = V(S_INTW, 2), wb = n * (bits == 8 ? k : k / 2);
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  void *w = in_bytes(c, wb), *x = in_T(c, m * k), *y = out_T(c, m * n);
  float *sc = in_f32(c, n, 0.001, 0.01);
  if (bits == 8) {
    QUERY(c, gemm_q8, wb, m, n, k);
    RUN(c, gemm_q8, w, wb, x, y, sc, m, n, k);
  } else {
    QUERY(c, gemm_q4, wb, m, n, k);
    RUN(c, gemm_q4, w, wb, x, y, sc, m, n, k);
  }
}
static void c_gemm_q8(tc *c) { c_gemm_qn(c, 8); }
static void c_gemm_q4(tc *c) { c_gemm_qn(c, 4); }

static void c_fused_qkv_rope_q4(tc *c)
{
  /* seq, hidden, heads, kv_heads, head_dim, rotary_dim, interleaved, pos */
  static const size_t S[][8] = { { 1, 32, 4, 2, 8, 8, 0, 3 }, { 20, 64, 4, 2, 16, 8, 1, 0 },
                                 { 40, 256, 16, 8, 32, 16, 0, 1 } };
  SHAPE(c, S);
  size_t seq = V(S, 0), hid = V(S, 1), h = V(S, 2), kh = V(S, 3), d = V(S, 4), rd = V(S, 5),
         pos = V(S, 7);
  bool il = V(S, 6) != 0;
  DESC(c, "seq=%zu hidden=%zu heads=%zu kv_heads=%zu head_dim=%zu rotary=%zu", seq, hid, h, kh, d,
       rd);
  size_t nq = h * d, nkv = kh * d, bq = nq * hid / 2, bkv = nkv * hid / 2;
  void *x = in_T(c, seq * hid), *wq = in_bytes(c, bq), *wk = in_bytes(c, bkv),
       *wv = in_bytes(c, bkv);
  float *sq = in_f32(c, nq, 0.001, 0.01), *sk = in_f32(c, nkv, 0.001, 0.01),
        *sv = in_f32(c, nkv, 0.001, 0.01);
  void *cs = in_T(c, (pos + seq) * rd / 2), *sn = in_T(c, (pos + seq) * rd / 2);
  void *q = out_T(c, seq * nq), *k = out_T(c, seq * nkv), *v = out_T(c, seq * nkv);
  QUERY(c, fused_qkv_rope_q4, bq, bkv, bkv, seq, hid, h, kh, d, rd, il, pos);
  RUN(c, fused_qkv_rope_q4, x, wq, bq, sq, wk, bkv, sk, wv, bkv, sv, cs, sn, q, k, v, seq, hid, h,
      kh, d, rd, il, pos);
}

static void c_fused_ffn_q4(tc *c)
{
  /* m, hidden, ffn, residual */
  static const size_t S[][4] = { { 1, 8, 16, 1 }, { 9, 24, 40, 0 }, { 20, 256, 300, 1 } };
  SHAPE(c, S);
  size_t m = V(S, 0), hid = V(S, 1), ffn = V(S, 2);
  bool res = V(S, 3) != 0;
  DESC(c, "m=%zu hidden=%zu ffn=%zu residual=%d", m, hid, ffn, res);
  size_t bgu = ffn * hid / 2, bd = hid * ffn / 2;
  void *x = in_T(c, m * hid), *wg = in_bytes(c, bgu), *wu = in_bytes(c, bgu), *wd = in_bytes(c, bd);
  float *sg = in_f32(c, ffn, 0.001, 0.01), *su = in_f32(c, ffn, 0.001, 0.01),
        *sd = in_f32(c, hid, 0.001, 0.01);
  void *r = res ? in_T(c, m * hid) : NULL, *o = out_T(c, m * hid);
  QUERY(c, fused_ffn_q4, bgu, bgu, bd, m, hid, ffn);
  RUN(c, fused_ffn_q4, x, wg, bgu, sg, wu, bgu, su, wd, bd, sd, r, o, m, hid, ffn);
}

static void c_int_lrr(tc *c, int bits)
{
  SHAPE(c, S_INTW);
  size_t m = V(S_INTW, 0), n = V(S_INTW, 1), k = V(S_INTW, 2), wb = n * (bits == 8 ? k : k / 2);
  DESC(c, "m=%zu n=%zu k=%zu", m, n, k);
  void *x = in_T(c, m * k), *w = in_bytes(c, wb);
  float *sc = in_f32(c, n, 0.001, 0.01);
  void *r = in_T(c, m * n), *nw = in_Tpos(c, n), *o = out_T(c, m * n), *so = out_T(c, m * n);
  if (bits == 8) {
    QUERY(c, fused_int8_linear_residual_rmsnorm, wb, m, n, k);
    RUN(c, fused_int8_linear_residual_rmsnorm, x, w, wb, sc, r, nw, o, so, m, n, k, 1e-5f);
  } else {
    QUERY(c, fused_int4_linear_residual_rmsnorm, wb, m, n, k);
    RUN(c, fused_int4_linear_residual_rmsnorm, x, w, wb, sc, r, nw, o, so, m, n, k, 1e-5f);
  }
}
static void c_fused_int8_linear_residual_rmsnorm(tc *c) { c_int_lrr(c, 8); }
static void c_fused_int4_linear_residual_rmsnorm(tc *c) { c_int_lrr(c, 4); }

/* ------------------------------------------------------------------ the op list */
typedef void (*case_fn)(tc *c);
static const struct { const char *name; case_fn fn; } CASES[] = {
#define C(op) { #op, c_##op }
  C(vec_dot), C(vec_add), C(vec_sub), C(vec_mul), C(vec_scale), C(vec_axpy), C(vec_sum),
  C(vec_max), C(vec_sum_squares), C(gemv), C(gemm), C(gemm_bias), C(silu), C(gelu), C(relu),
  C(tanh), C(exp), C(swiglu), C(softmax), C(rms_norm), C(layer_norm), C(rope), C(rope_with_pos),
  C(embedding_lookup), C(flash_attention), C(flash_attention_paged), C(fused_qkv_rope),
  C(fused_gate_up_swiglu), C(fused_ffn), C(fused_ffn_rmsnorm), C(fused_linear_residual_rmsnorm),
  C(fused_linear_bias_residual_rmsnorm),
  C(fused_dequant_gemv), C(kquant_matmul), C(iq_matmul), C(awq_matmul), C(gptq_matmul),
  C(squeeze_matmul), C(fused_iq1_s_matmul), C(fused_iq2_xxs_matmul), C(fused_awq4_matmul),
  C(fused_gptq4_matmul), C(fused_squeeze_matmul), C(gemv_q8), C(gemv_q4), C(gemv_q2), C(gemv_q1),
  C(gemm_q8), C(gemm_q4), C(fused_qkv_rope_q4), C(fused_ffn_q4),
  C(fused_int8_linear_residual_rmsnorm), C(fused_int4_linear_residual_rmsnorm),
#undef C
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

/* every op of the symbol lists has a case */
static void check_coverage(void)
{
  const char *top = getenv("top_srcdir");
  static const char *lists[] = { "tests/table_a_symbols.txt", "tests/table_cd_symbols.txt" };
  int missing = 0, seen = 0;
  for (int l = 0; l < 2; l++) {
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/%s", top ? top : ".", lists[l]);
    FILE *f = fopen(path, "r");
    if (!f) {
      skip("no %s (top_srcdir unset)", lists[l]);
      continue;
    }
    while (fgets(line, sizeof line, f)) {
      line[strcspn(line, "\r\n")] = 0;
      size_t len = strlen(line);
      const char *sfx = len > 4 && !strcmp(line + len - 4, "_f16")   ? "_f16"
                        : len > 4 && !strcmp(line + len - 4, "_f32") ? "_f32"
                        : len > 5 && !strcmp(line + len - 5, "_bf16") ? "_bf16" : NULL;
      if (strncmp(line, "gllmk_", 6) || !sfx) continue;
      line[len - strlen(sfx)] = 0;
      int found = 0;
      for (int i = 0; i < NCASES; i++) found |= !strcmp(CASES[i].name, line + 6);
      if (!found) {
        diag("no case for %s", line);
        missing++;
      }
      seen++;
    }
    fclose(f);
  }
  if (seen) ok(missing == 0 && seen == 3 * NCASES, "every table op has a case (%d functions, %d ops)",
               seen, NCASES);
}

/* the queries of invalid shapes: 0 (or an error), as the op then returns
 * its own error without drawing anything */
static void check_invalid_queries(void)
{
  int bad = 0;
  for (int d = 0; d < TU_NDTYPES; d++) {
    tc cc = { 0 }, *c = &cc;
    c->dt = (tu_dtype)d, c->mode = M_SIZE;
#define EXPECT_NONE(what)                                                      \
  do {                                                                         \
    if (c->qst == GLLMK_OK && c->q != 0) {                                     \
      diag("%s_%s: %s gives %zu", #what, tu_dtname(c->dt), "an invalid shape", c->q); \
      bad++;                                                                   \
    }                                                                          \
  } while (0)
    const size_t big = (size_t)-1 / 2, wb = (size_t)1 << 20;
    QUERY(c, gemm, big, 4, 4); EXPECT_NONE(gemm);
    QUERY(c, gemm_bias, 4, big, big); EXPECT_NONE(gemm_bias);
    QUERY(c, flash_attention, 16, 16, 2, 0, 8, false); EXPECT_NONE(flash_attention);
    QUERY(c, flash_attention, 16, 16, 3, 2, 8, true); EXPECT_NONE(flash_attention);
    QUERY(c, flash_attention_paged, 8, 4, 2, 1, 8, 4, 1); EXPECT_NONE(flash_attention_paged);
    QUERY(c, flash_attention_paged, 4, 8, 2, 1, 8, 0, 4); EXPECT_NONE(flash_attention_paged);
    QUERY(c, fused_qkv_rope, 16, 32, 4, 2, 8, 9, false, 0); EXPECT_NONE(fused_qkv_rope);
    QUERY(c, fused_qkv_rope, 16, 32, 4, 3, 8, 8, false, 0); EXPECT_NONE(fused_qkv_rope);
    QUERY(c, fused_gate_up_swiglu, big, big, 2); EXPECT_NONE(fused_gate_up_swiglu);
    QUERY(c, fused_ffn, big, 4, 4); EXPECT_NONE(fused_ffn);
    QUERY(c, fused_ffn_rmsnorm, 4, big, big); EXPECT_NONE(fused_ffn_rmsnorm);
    QUERY(c, fused_linear_residual_rmsnorm, big, big, 1); EXPECT_NONE(fused_linear_residual_rmsnorm);
    QUERY(c, fused_linear_bias_residual_rmsnorm, 2, big, big);
    EXPECT_NONE(fused_linear_bias_residual_rmsnorm);
    QUERY(c, fused_dequant_gemv, wb, GLLMK_Q4_0, 20, 4, 33); EXPECT_NONE(fused_dequant_gemv);
    QUERY(c, fused_dequant_gemv, 10, GLLMK_Q4_0, 20, 4, 32); EXPECT_NONE(fused_dequant_gemv);
    QUERY(c, fused_dequant_gemv, wb, GLLMK_AWQ4, 20, 4, 128); EXPECT_NONE(fused_dequant_gemv);
    QUERY(c, fused_dequant_gemv, wb, (gllmk_qtype)77, 20, 4, 256); EXPECT_NONE(fused_dequant_gemv);
    QUERY(c, kquant_matmul, wb, GLLMK_IQ4_NL, 20, 4, 32); EXPECT_NONE(kquant_matmul);
    QUERY(c, iq_matmul, wb, GLLMK_Q4_0, 20, 4, 32); EXPECT_NONE(iq_matmul);
    QUERY(c, squeeze_matmul, wb, 20, 4, 100); EXPECT_NONE(squeeze_matmul);
    QUERY(c, fused_iq1_s_matmul, 1, 20, 4, 256); EXPECT_NONE(fused_iq1_s_matmul);
    QUERY(c, fused_iq2_xxs_matmul, wb, 20, 4, 255); EXPECT_NONE(fused_iq2_xxs_matmul);
    QUERY(c, fused_squeeze_matmul, 1, 20, 4, 256); EXPECT_NONE(fused_squeeze_matmul);
    QUERY(c, awq_matmul, wb, 20, 4, 100); EXPECT_NONE(awq_matmul);
    QUERY(c, fused_awq4_matmul, 1, 20, 4, 128); EXPECT_NONE(fused_awq4_matmul);
    QUERY(c, gptq_matmul, wb, 0, 20, 4, 128); EXPECT_NONE(gptq_matmul);
    QUERY(c, fused_gptq4_matmul, wb, 2, 20, 4, 127); EXPECT_NONE(fused_gptq4_matmul);
    QUERY(c, gemm_q8, 10, 20, 4, 128); EXPECT_NONE(gemm_q8);
    QUERY(c, gemm_q4, wb, 20, 4, 127); EXPECT_NONE(gemm_q4);
    QUERY(c, fused_qkv_rope_q4, wb, wb, wb, 16, 32, 4, 2, 8, 10, false, 0);
    EXPECT_NONE(fused_qkv_rope_q4);
    QUERY(c, fused_qkv_rope_q4, wb, 1, wb, 16, 32, 4, 2, 8, 8, false, 0);
    EXPECT_NONE(fused_qkv_rope_q4);
    QUERY(c, fused_ffn_q4, wb, wb, 1, 20, 32, 32); EXPECT_NONE(fused_ffn_q4);
    QUERY(c, fused_int8_linear_residual_rmsnorm, 1, 20, 4, 32);
    EXPECT_NONE(fused_int8_linear_residual_rmsnorm);
    QUERY(c, fused_int4_linear_residual_rmsnorm, wb, 20, 4, 31);
    EXPECT_NONE(fused_int4_linear_residual_rmsnorm);
#undef EXPECT_NONE
  }
  ok(bad == 0, "invalid shapes (overflow, bad GQA or rotary, short weights, wrong format, "
     "misaligned k) query 0 bytes");
}

/* ------------------------------------------------------------------ driver */
typedef struct stats {
  int runs, fails;
} stats;

static void fail(stats *s, const char *op, const tc *c, const char *what)
{
  if (s->fails++ < 4) diag("%s_%s %s: %s", op, tu_dtname(c->dt), c->desc, what);
}

/* run c's op on a copy of init (bytes) through the backend with ws_bytes of
 * workspace, into out */
static void be_run(tc *c, size_t ws_bytes, const unsigned char *init, unsigned char *out,
                   size_t bytes)
{
  gllmk_buffer *buf = NULL;
  gllmk_status st;
  c->st = 1;
  memcpy(out, init, bytes);
  if ((st = gllmk_backend_open("cpu", &run_be)) != GLLMK_OK) bail_out("backend_open(cpu): %s",
                                                                     tu_status_name(st));
  if (ws_bytes && (st = gllmk_backend_reserve_workspace(run_be, ws_bytes)) != GLLMK_OK)
    bail_out("reserve_workspace(%zu): %s", ws_bytes, tu_status_name(st));
  if (gllmk_backend_workspace_size(run_be) != ws_bytes)
    bail_out("reserve_workspace(%zu) gave %zu bytes", ws_bytes,
             gllmk_backend_workspace_size(run_be));
  if ((st = gllmk_buffer_alloc(run_be, bytes, &buf)) != GLLMK_OK ||
      (st = gllmk_buffer_upload(buf, 0, init, bytes)) != GLLMK_OK)
    bail_out("buffer of %zu bytes: %s", bytes, tu_status_name(st));
  c->mode = M_BACKEND, c->base = gllmk_buffer_data(buf), c->off = 0;
  c->fn(c);
  if (c->st == GLLMK_OK && (st = gllmk_backend_synchronize(run_be)) != GLLMK_OK) c->st = st;
  if ((st = gllmk_buffer_download(buf, 0, out, bytes)) != GLLMK_OK)
    bail_out("download: %s", tu_status_name(st));
  gllmk_buffer_free(buf);
  gllmk_backend_close(run_be);
  run_be = NULL;
}

/* one shape of c->fn: the query, the direct call, the runs with exactly the
 * query and 64 bytes less */
static void run_variant(const char *op, tc *c, stats *s)
{
  /* sizes and query */
  c->mode = M_SIZE, c->base = NULL, c->off = 0, c->q = (size_t)-1;
  c->desc[0] = 0;
  c->fn(c);
  if (c->variant >= c->nvar) return;
  size_t bytes = c->off;
  s->runs++;
  if (c->qst != GLLMK_OK) {
    fail(s, op, c, "the query failed");
    return;
  }
  if (getenv("WS_VERBOSE")) diag("%s_%s %s: q=%zu", op, tu_dtname(c->dt), c->desc, c->q);
  unsigned char *init = xaligned(bytes), *want = xaligned(bytes), *got = xaligned(bytes);
  memset(init, TU_CANARY, bytes);
  c->mode = M_FILL, c->base = (char *)init, c->off = 0;
  c->fn(c);
  /* the direct call */
  memcpy(want, init, bytes);
  c->mode = M_DIRECT, c->base = (char *)want, c->off = 0, c->st = 1;
  c->fn(c);
  gllmk_status st_direct = c->st;
  if (st_direct != GLLMK_OK) fail(s, op, c, tu_status_name(st_direct));
  /* exactly the query */
  be_run(c, c->q, init, got, bytes);
  if (c->st != st_direct) {
    char b[96];
    snprintf(b, sizeof b, "workspace of %zu: %s", c->q, tu_status_name(c->st));
    fail(s, op, c, b);
  } else if (memcmp(got, want, bytes)) {
    fail(s, op, c, "different bytes through the workspace");
  }
  /* 64 bytes short */
  if (c->q > 0) {
    size_t shortq = c->q > 64 ? c->q - 64 : 0;
    be_run(c, shortq, init, got, bytes);
    if (c->st != GLLMK_E_NOMEM) {
      char b[96];
      snprintf(b, sizeof b, "workspace of %zu < %zu: %s", shortq, c->q, tu_status_name(c->st));
      fail(s, op, c, b);
    } else if (memcmp(got, init, bytes)) {
      fail(s, op, c, "GLLMK_E_NOMEM but bytes changed");
    }
  }
  free(init), free(want), free(got);
}

int main(void)
{
  tu_init();
  gllmk_status st = gllmk_backend_open("cpu", &q_be);
  if (st != GLLMK_OK) bail_out("backend_open(cpu): %s", tu_status_name(st));
  check_coverage();
  check_invalid_queries();
  int nts[] = { 1, 2 };
  for (int ti = 0; ti < 2; ti++) {
    if (gllmk_set_num_threads(nts[ti]) != GLLMK_OK) bail_out("set_num_threads");
    for (int i = 0; i < NCASES; i++)
      for (int d = 0; d < TU_NDTYPES; d++) {
        tc c = { 0 };
        stats s = { 0, 0 };
        c.dt = (tu_dtype)d;
        c.fn = CASES[i].fn;
        for (c.variant = 0;; c.variant++) {
          run_variant(CASES[i].name, &c, &s);
          if (c.variant + 1 >= c.nvar) break;
        }
        ok(s.fails == 0, "%s_%s, %d thread(s): %d shapes, exact workspace = direct call, one "
           "cache line less = GLLMK_E_NOMEM, nothing written", CASES[i].name, tu_dtname(c.dt),
           nts[ti], s.runs);
      }
  }
  gllmk_set_num_threads(0);
  gllmk_backend_close(q_be);
  return done_testing();
}
