/* test_cuda_l3.c -- the CUDA backend's linear, kv_store, tree_attention, sample, embedding_lookup_q
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (one TAP skip when it says
 * GLLMK_E_NO_DEVICE, unless GLLMK_TEST_REQUIRE_CUDA=1; in `make check` it
 * runs on the emulated driver, every kernel in the execution harness) and,
 * for f32/f16/bf16 through gllmk_backend_ops_<dt>(be), compares with the CPU
 * functions (gllmk_<op>_<dt>) on the same inputs:
 *  - linear: m 1..8 (the decode GEMV) and larger (the NT GEMM, both block
 *    tiles), odd n and k, k = 0, with and without bias, aligned and
 *    misaligned pointers (16-byte vector paths and element paths), the
 *    128 x 128 tiles (one per SM at least); within
 *    2e-5 of sum |x w| plus one rounding to the element type;
 *  - kv_store: odd and vector-sized rows, shuffled page tables, two tokens
 *    to one slot (the later wins): the caches bit for bit; a bad seq, slot
 *    or page in the device arrays: OK and the caches unchanged (the CPU says
 *    GLLMK_E_INVAL and writes nothing);
 *  - tree_attention: GQA ratios 1, 2, 8, 12 (two head chunks), head_dim 5,
 *    16, 64, page sizes 1, 4, contexts with extra (tree) tokens, a query
 *    that sees nothing (zeros); within 2e-5 max|v| plus one rounding; a
 *    query with a bad entry leaves its rows unchanged, the others computed;
 *  - sample: the same ids as the CPU on every row for vocab 1, 7, 1000 and
 *    50000 (and 262144 in f32: top_p, top_k + top_p, everything), greedy, temperature, top_k (with ties: few distinct logits),
 *    top_p, min_p, their combinations, the repetition penalty (duplicate,
 *    negative and out-of-range recent ids), NaN logits and rows of NaN, a
 *    denormal temperature (p NaN), min_p 1, top_p > 1 and top_k = vocab;
 *  - embedding_lookup_q: the CPU's bits (NaN: any NaN) for the 20 GGUF
 *    formats (quantized by gllmk_quantize, random blocks where there is no
 *    quantizer) and SqueezeLLM, 7 ids checked inline and 300 by the check
 *    kernel; an id >= vocab in the device array: OK and out unchanged;
 *  - bad input: the CPU functions' codes for the same arguments, and
 *    GLLMK_E_INVAL for pointers outside the backend's buffers;
 *  - a graph: a decode step (linear, kv_store, tree_attention, sample)
 *    recorded once and replayed on new inputs.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gllmk_backend *be;

#define OPS(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(be)->op(be, __VA_ARGS__)                             \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(be)->op(be, __VA_ARGS__)                             \
                    : gllmk_backend_ops_bf16(be)->op(be, __VA_ARGS__))
#define CPU(dt, op, ...)                                                                         \
  ((dt) == TU_F32 ? gllmk_##op##_f32(__VA_ARGS__)                                                \
   : (dt) == TU_F16 ? gllmk_##op##_f16(__VA_ARGS__)                                              \
                    : gllmk_##op##_bf16(__VA_ARGS__))

#define WS_RESERVED ((size_t)16 << 20)

/* ------------------------------------------------------------------ device copies: tu_dev_* */

/* n random elements of dt in [lo, hi] */
static void *rand_arr(tu_dtype dt, size_t n, double lo, double hi)
{
  void *p = tu_xmalloc(n * tu_esize(dt) + 1);
  for (size_t i = 0; i < n; i++)
    tu_put(dt, p, i, tu_uniform(lo, hi));
  return p;
}

/* one rounding to dt at |v| */
static double ulp_dt(tu_dtype dt, double v)
{
  double e = dt == TU_F32 ? 0x1p-23 : dt == TU_F16 ? 0x1p-10 : 0x1p-7;
  return e * fabs(v) + (dt == TU_F16 ? 0x1p-24 : 0);
}

/* ------------------------------------------------------------------ linear */
static int sm_count = 1;

/* the 128 x 128 tiles of the NT GEMM: at least one tile per SM; k 40
 * (16-byte chunks) with bias, k 37 (element loads) without */
static void test_linear_big(tu_dtype dt)
{
  size_t r = 1, es = tu_esize(dt);
  while (r * r < (size_t)sm_count)
    r++;
  size_t m = 128 * r, n = 128 * ((sm_count + r - 1) / r);
  tu_check c;
  tu_check_init(&c);
  for (int var = 0; var < 2; var++) {
    size_t k = var ? 37 : 40;
    void *x = rand_arr(dt, m * k, -1, 1), *w = rand_arr(dt, n * k, -1, 1), *b = rand_arr(dt, n, -1, 1);
    void *y = tu_xmalloc(m * n * es), *yg = tu_xmalloc(m * n * es);
    const void *bias = var ? NULL : b;
    tu_check_status(&c, CPU(dt, linear, x, w, bias, y, m, n, k), GLLMK_OK, "cpu linear");
    void *dx = tu_dev_at(be, x, m * k * es, 0), *dw = tu_dev_at(be, w, n * k * es, 0), *dy = tu_dev_at(be, NULL, m * n * es, 0);
    void *db = var ? NULL : tu_dev_at(be, b, n * es, 0);
    tu_check_status(&c, OPS(dt, linear, dx, dw, db, dy, m, n, k), GLLMK_OK, "linear %zux%zux%zu", m, n, k);
    tu_dev_down(be, yg, dy, m * n * es);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double sa = bias ? fabs(tu_get(dt, b, j)) : 0;
        for (size_t e = 0; e < k; e++)
          sa += fabs(tu_get(dt, x, i * k + e) * tu_get(dt, w, j * k + e));
        double ref = tu_get(dt, y, i * n + j), got = tu_get(dt, yg, i * n + j);
        tu_check_out(&c, dt, got, ref, 2e-5 * sa + ulp_dt(dt, ref) + 1e-30, "linear %zux%zux%zu y[%zu][%zu]",
                     m, n, k, i, j);
      }
    tu_dev_free_all(be);
    free(x), free(w), free(b), free(y), free(yg);
  }
  tu_check_done(&c, "%s linear: 128 x 128 tiles (%zu x %zu, %d SMs), k 40 with bias and 37 without",
                tu_dtname(dt), m, n, sm_count);
}

static void test_linear(tu_dtype dt)
{
  static const size_t shapes[][3] = {
    {1, 1, 1}, {1, 37, 64}, {2, 9, 33}, {5, 40, 8}, {8, 17, 100}, {3, 5, 0},
    {9, 33, 70}, {20, 70, 45}, {64, 64, 64}, {33, 130, 24}, {140, 20, 17},
  };
  size_t es = tu_esize(dt);
  tu_check c;
  tu_check_init(&c);
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int var = 0; var < 3; var++) {   /* 0: aligned + bias, 1: misaligned + bias, 2: no bias */
      size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], off = var == 1 ? es : 0;
      void *x = rand_arr(dt, m * k, -1, 1), *w = rand_arr(dt, n * k, -1, 1);
      void *b = rand_arr(dt, n, -1, 1);
      void *y = tu_xmalloc(m * n * es + 1), *yg = tu_xmalloc(m * n * es + 1);
      const void *bias = var == 2 ? NULL : b;
      gllmk_status st = CPU(dt, linear, x, w, bias, y, m, n, k);
      if (!tu_check_status(&c, st, GLLMK_OK, "cpu linear"))
        continue;
      void *dx = tu_dev_at(be, x, m * k * es, off), *dw = tu_dev_at(be, w, n * k * es, off);
      void *db = var == 2 ? NULL : tu_dev_at(be, b, n * es, off), *dy = tu_dev_at(be, NULL, m * n * es, off);
      st = OPS(dt, linear, dx, dw, db, dy, m, n, k);
      tu_check_status(&c, st, GLLMK_OK, "linear %zux%zux%zu var %d", m, n, k, var);
      tu_dev_down(be, yg, dy, m * n * es);
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
          double sa = bias ? fabs(tu_get(dt, b, j)) : 0;
          for (size_t e = 0; e < k; e++)
            sa += fabs(tu_get(dt, x, i * k + e) * tu_get(dt, w, j * k + e));
          double ref = tu_get(dt, y, i * n + j), got = tu_get(dt, yg, i * n + j);
          double tol = 2e-5 * sa + ulp_dt(dt, ref) + 1e-30;
          tu_check_out(&c, dt, got, ref, tol, "linear %zux%zux%zu var %d y[%zu][%zu]", m, n, k,
                       var, i, j);
        }
      tu_dev_free_all(be);
      free(x), free(w), free(b), free(y), free(yg);
    }
  tu_check_done(&c, "%s linear: decode GEMV and NT GEMM against the CPU", tu_dtname(dt));
  test_linear_big(dt);
}

/* ------------------------------------------------------------------ kv_store */
static void test_kv_store(tu_dtype dt)
{
  size_t es = tu_esize(dt);
  for (int cse = 0; cse < 2; cse++) {
    size_t kvh = 2, d = cse ? 8 : 5, ps = cse ? 4 : 3, np = 7, ns = 2, mp = 3, row = kvh * d;
    size_t n = 6, cel = np * ps * row;
    tu_check c;
    tu_check_init(&c);
    uint32_t pt[6], seq[6], slot[6], perm[7];
    tu_permutation_u32(perm, np);
    for (size_t i = 0; i < ns * mp; i++)
      pt[i] = perm[i];
    for (size_t i = 0; i < n; i++) {
      seq[i] = (uint32_t)(i % ns);
      slot[i] = (uint32_t)tu_rand_below(mp * ps);
    }
    seq[5] = seq[2], slot[5] = slot[2];   /* two tokens to one slot: the later wins */
    void *k = rand_arr(dt, n * row, -2, 2), *v = rand_arr(dt, n * row, -2, 2);
    void *kc = rand_arr(dt, cel, -9, 9), *vc = rand_arr(dt, cel, -9, 9);
    void *kc0 = tu_xmalloc(cel * es), *vc0 = tu_xmalloc(cel * es);
    memcpy(kc0, kc, cel * es), memcpy(vc0, vc, cel * es);
    void *dk = tu_dev_at(be, k, n * row * es, 0), *dv = tu_dev_at(be, v, n * row * es, 0);
    void *dkc = tu_dev_at(be, kc, cel * es, 0), *dvc = tu_dev_at(be, vc, cel * es, 0);
    uint32_t *dpt = tu_dev_at(be, pt, sizeof pt, 0), *dseq = tu_dev_at(be, seq, sizeof seq, 0), *dslot = tu_dev_at(be, slot, sizeof slot, 0);
    gllmk_status st = CPU(dt, kv_store, k, v, kc, vc, pt, seq, slot, n, kvh, d, ps, np, ns, mp);
    tu_check_status(&c, st, GLLMK_OK, "cpu kv_store");
    st = OPS(dt, kv_store, dk, dv, dkc, dvc, dpt, dseq, dslot, n, kvh, d, ps, np, ns, mp);
    tu_check_status(&c, st, GLLMK_OK, "kv_store");
    void *g = tu_xmalloc(cel * es);
    tu_dev_down(be, g, dkc, cel * es);
    tu_check_true(&c, !memcmp(g, kc, cel * es), "kv_store: k_cache bit for bit");
    tu_dev_down(be, g, dvc, cel * es);
    tu_check_true(&c, !memcmp(g, vc, cel * es), "kv_store: v_cache bit for bit");
    /* bad entries in the device arrays: nothing written */
    for (int bad = 0; bad < 3; bad++) {
      uint32_t s2[6], l2[6], p2[6];
      memcpy(s2, seq, sizeof s2), memcpy(l2, slot, sizeof l2), memcpy(p2, pt, sizeof p2);
      if (bad == 0) s2[3] = (uint32_t)ns;
      if (bad == 1) l2[4] = (uint32_t)(mp * ps);
      if (bad == 2) p2[seq[1] * mp + slot[1] / ps] = (uint32_t)np;
      tu_dev_up(dkc, kc0, cel * es), tu_dev_up(dvc, vc0, cel * es);
      tu_dev_up(dseq, s2, sizeof s2), tu_dev_up(dslot, l2, sizeof l2), tu_dev_up(dpt, p2, sizeof p2);
      memcpy(kc, kc0, cel * es);
      st = CPU(dt, kv_store, k, v, kc, vc, p2, s2, l2, n, kvh, d, ps, np, ns, mp);
      tu_check_status(&c, st, GLLMK_E_INVAL, "cpu kv_store bad %d", bad);
      st = OPS(dt, kv_store, dk, dv, dkc, dvc, dpt, dseq, dslot, n, kvh, d, ps, np, ns, mp);
      tu_check_status(&c, st, GLLMK_OK, "kv_store bad %d (device arrays)", bad);
      tu_dev_down(be, g, dkc, cel * es);
      tu_check_true(&c, !memcmp(g, kc0, cel * es), "kv_store bad %d: k_cache unchanged", bad);
      tu_dev_down(be, g, dvc, cel * es);
      tu_check_true(&c, !memcmp(g, vc0, cel * es), "kv_store bad %d: v_cache unchanged", bad);
    }
    tu_dev_free_all(be);
    free(k), free(v), free(kc), free(vc), free(kc0), free(vc0), free(g);
    tu_check_done(&c, "%s kv_store: head_dim %zu, page_size %zu", tu_dtname(dt), d, ps);
  }
}

/* ------------------------------------------------------------------ tree_attention */
static int same_elem(tu_dtype dt, const void *a, const void *b, size_t i);

static void test_tree(tu_dtype dt)
{
  static const size_t cfg[][4] = {   /* heads, kv_heads, head_dim, page_size */
    {2, 2, 16, 4}, {4, 2, 5, 1}, {8, 1, 64, 4}, {12, 1, 16, 4}, {6, 3, 33, 4},
  };
  size_t es = tu_esize(dt);
  for (size_t ci = 0; ci < sizeof cfg / sizeof *cfg; ci++) {
    size_t heads = cfg[ci][0], kvh = cfg[ci][1], d = cfg[ci][2], ps = cfg[ci][3];
    size_t ns = 2, mp = ps == 1 ? 24 : 6, np = ns * mp + 2, tokens = mp * ps, n = 5;
    size_t cel = np * ps * kvh * d;
    float scale = 1.0f / sqrtf((float)d);
    tu_check c;
    tu_check_init(&c);
    uint32_t *pt = tu_xmalloc(ns * mp * 4), *perm = tu_xmalloc(np * 4);
    tu_permutation_u32(perm, np);
    for (size_t i = 0; i < ns * mp; i++)
      pt[i] = perm[i];
    uint32_t seq[5], ctx[5], xs[6], xl[20];
    size_t nx = 0;
    for (size_t i = 0; i < n; i++) {
      seq[i] = (uint32_t)(i % ns);
      ctx[i] = (uint32_t)tu_rand_below(tokens - 3);
      xs[i] = (uint32_t)nx;
      size_t e = i == 2 ? 0 : tu_rand_below(4);
      for (size_t j = 0; j < e; j++)
        xl[nx++] = (uint32_t)(ctx[i] + tu_rand_below(tokens - ctx[i]));
    }
    ctx[2] = 0;   /* sees nothing */
    ctx[4] = (uint32_t)tokens - 1;
    xs[n] = (uint32_t)nx;
    void *q = rand_arr(dt, n * heads * d, -1, 1), *kc = rand_arr(dt, cel, -2, 2);
    void *vc = rand_arr(dt, cel, -1, 1), *o = tu_xmalloc(n * heads * d * es);
    void *og = tu_xmalloc(n * heads * d * es), *o0 = rand_arr(dt, n * heads * d, -7, 7);
    gllmk_status st = CPU(dt, tree_attention, q, kc, vc, pt, seq, ctx, xs, xl, o, n, heads, kvh, d,
                          ps, np, ns, mp, nx, scale);
    tu_check_status(&c, st, GLLMK_OK, "cpu tree_attention");
    void *dq = tu_dev_at(be, q, n * heads * d * es, 0), *dkc = tu_dev_at(be, kc, cel * es, 0), *dvc = tu_dev_at(be, vc, cel * es, 0);
    void *dpt = tu_dev_at(be, pt, ns * mp * 4, 0), *dseq = tu_dev_at(be, seq, sizeof seq, 0), *dctx = tu_dev_at(be, ctx, sizeof ctx, 0);
    void *dxs = tu_dev_at(be, xs, sizeof xs, 0), *dxl = tu_dev_at(be, xl, nx * 4, 0);
    void *dout = tu_dev_at(be, o0, n * heads * d * es, 0);
    for (int bad = 0; bad < 3; bad++) {
      uint32_t s2[5], c2[5], x2[20];
      memcpy(s2, seq, sizeof s2), memcpy(c2, ctx, sizeof c2), memcpy(x2, xl, sizeof x2);
      size_t bq = bad == 0 ? n : bad == 1 ? 1 : 3;   /* the bad query (n: none) */
      if (bad == 1) s2[1] = (uint32_t)ns;
      if (bad == 2) {
        if (xs[4] > xs[3]) x2[xs[3]] = (uint32_t)tokens;
        else c2[3] = (uint32_t)tokens + 1;
      }
      tu_dev_up(dseq, s2, sizeof s2), tu_dev_up(dctx, c2, sizeof c2), tu_dev_up(dxl, x2, nx * 4);
      tu_dev_up(dout, o0, n * heads * d * es);
      st = OPS(dt, tree_attention, dq, dkc, dvc, dpt, dseq, dctx, dxs, dxl, dout, n, heads, kvh, d,
               ps, np, ns, mp, nx, scale);
      tu_check_status(&c, st, GLLMK_OK, "tree_attention bad %d", bad);
      tu_dev_down(be, og, dout, n * heads * d * es);
      for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < heads * d; e++) {
          size_t at = i * heads * d + e;
          double ref = i == bq ? tu_get(dt, o0, at) : tu_get(dt, o, at);
          double got = tu_get(dt, og, at);
          tu_check_out(&c, dt, got, ref, i == bq ? 0 : 2e-5 + ulp_dt(dt, ref), "tree %zu/%zu d %zu bad %d: q %zu e %zu",
                       heads, kvh, d, bad, i, e);
        }
    }
    /* NULL caches: the queries that see tokens unchanged, those that see nothing zeros */
    tu_dev_up(dseq, seq, sizeof seq), tu_dev_up(dctx, ctx, sizeof ctx), tu_dev_up(dxl, xl, nx * 4);
    tu_dev_up(dout, o0, n * heads * d * es);
    st = OPS(dt, tree_attention, dq, NULL, NULL, dpt, dseq, dctx, dxs, dxl, dout, n, heads, kvh, d, ps,
             np, ns, mp, nx, scale);
    tu_check_status(&c, st, GLLMK_OK, "tree_attention: NULL caches");
    tu_dev_down(be, og, dout, n * heads * d * es);
    for (size_t i = 0; i < n; i++) {
      int same = 1, sees = ctx[i] || xs[i + 1] > xs[i];
      for (size_t e = 0; e < heads * d; e++)
        same &= !sees ? tu_get(dt, og, i * heads * d + e) == 0 : same_elem(dt, og, o0, i * heads * d + e);
      tu_check_true(&c, same, "tree_attention, NULL caches: query %zu %s", i, sees ? "unchanged" : "zeros");
    }
    tu_dev_free_all(be);
    free(pt), free(perm), free(q), free(kc), free(vc), free(o), free(og), free(o0);
    tu_check_done(&c, "%s tree_attention: heads %zu kv_heads %zu head_dim %zu page_size %zu",
                  tu_dtname(dt), heads, kvh, d, ps);
  }
}

/* ------------------------------------------------------------------ tree_attention, split keys */
/* Long contexts: few (query, kv head) blocks, so the op splits each query's
 * visible tokens over blocks (partials in the workspace, then a reduce).
 * Each case: the CPU's values for every query; a bad entry in one run of
 * one query leaves that query unchanged (the others computed). */
struct tsplit {
  size_t heads, kvh, d, ps, mp, n;
  uint32_t ctx[4], nx[4], sq[4];   /* per query: context, extras, sequence */
  int bad;                         /* 1: a bad page inside query 0's context, 2: a bad extra of
                                      query n-1 */
};

static const struct tsplit tsplits[3] = {
  /* GQA 1, head_dim 64: one query, 8 runs (two empty) */
  {8, 8, 64, 16, 64, 1, {700}, {0}, {0}, 1},
  /* GQA 4, head_dim 128: a short and two long queries of two sequences, extras */
  {16, 4, 128, 16, 80, 3, {300, 1100, 1100}, {0, 2, 3}, {1, 0, 0}, 1},
  /* GQA 8, head_dim 64: a tree of 4 nodes over a 1500-token context */
  {8, 1, 64, 8, 200, 4, {1500, 1500, 1500, 1500}, {0, 1, 2, 3}, {0, 0, 0, 0}, 2},
};

/* runs the case's op (its tensors built from the seed state) and checks it */
static void tree_split_case(tu_dtype dt, const struct tsplit *t)
{
  size_t heads = t->heads, kvh = t->kvh, d = t->d, ps = t->ps, mp = t->mp, n = t->n;
  size_t ns = 2, np = ns * mp + 2, tokens = mp * ps, cel = np * ps * kvh * d, es = tu_esize(dt);
  size_t qn = n * heads * d;
  float scale = 1.0f / sqrtf((float)d);
  tu_check c;
  tu_check_init(&c);
  uint32_t *pt = tu_xmalloc(ns * mp * 4), *perm = tu_xmalloc(np * 4);
  tu_permutation_u32(perm, np);   /* shuffled pages */
  for (size_t i = 0; i < ns * mp; i++)
    pt[i] = perm[i];
  uint32_t xs[5], xl[16];
  size_t nx = 0;
  for (size_t i = 0; i < n; i++) {
    xs[i] = (uint32_t)nx;
    for (size_t j = 0; j < t->nx[i]; j++)   /* the ancestors' slots, after the context */
      xl[nx++] = (uint32_t)(t->ctx[i] + j);
  }
  xs[n] = (uint32_t)nx;
  size_t ws = 0;
  gllmk_status st = OPS(dt, tree_attention_workspace_bytes, n, heads, kvh, d, ps, np, ns, mp, nx, &ws);
  tu_check_status(&c, st, GLLMK_OK, "workspace query");
  tu_check_true(&c, ws > 0, "workspace for the partials: %zu bytes", ws);
  void *q = rand_arr(dt, qn, -1, 1), *kc = rand_arr(dt, cel, -2, 2), *vc = rand_arr(dt, cel, -1, 1);
  void *o = tu_xmalloc(qn * es), *og = tu_xmalloc(qn * es), *o0 = rand_arr(dt, qn, -7, 7);
  st = CPU(dt, tree_attention, q, kc, vc, pt, t->sq, t->ctx, xs, xl, o, n, heads, kvh, d, ps, np, ns,
           mp, nx, scale);
  tu_check_status(&c, st, GLLMK_OK, "cpu tree_attention");
  void *dq = tu_dev_at(be, q, qn * es, 0), *dkc = tu_dev_at(be, kc, cel * es, 0), *dvc = tu_dev_at(be, vc, cel * es, 0);
  void *dpt = tu_dev_at(be, pt, ns * mp * 4, 0), *dseq = tu_dev_at(be, t->sq, n * 4, 0), *dctx = tu_dev_at(be, t->ctx, n * 4, 0);
  void *dxs = tu_dev_at(be, xs, (n + 1) * 4, 0), *dxl = tu_dev_at(be, xl, nx * 4 + 4, 0), *dout = tu_dev_at(be, o0, qn * es, 0);
  for (int bad = 0; bad < 2; bad++) {
    size_t bq = !bad ? n : t->bad == 1 ? 0 : n - 1;   /* the bad query (n: none) */
    if (bad && t->bad == 1) {   /* a page in the middle of query 0's context */
      uint32_t pb = (uint32_t)np;
      tu_dev_up((uint32_t *)dpt + t->sq[0] * mp + t->ctx[0] / ps / 2, &pb, 4);
    }
    if (bad && t->bad == 2) {   /* query n-1's last extra */
      uint32_t xb = (uint32_t)tokens;
      tu_dev_up((uint32_t *)dxl + nx - 1, &xb, 4);
    }
    tu_dev_up(dout, o0, qn * es);
    st = OPS(dt, tree_attention, dq, dkc, dvc, dpt, dseq, dctx, dxs, dxl, dout, n, heads, kvh, d, ps, np,
             ns, mp, nx, scale);
    tu_check_status(&c, st, GLLMK_OK, "tree_attention bad %d", bad);
    tu_dev_down(be, og, dout, qn * es);
    for (size_t i = 0; i < n; i++)
      for (size_t e = 0; e < heads * d; e++) {
        size_t at = i * heads * d + e;
        double ref = i == bq ? tu_get(dt, o0, at) : tu_get(dt, o, at);
        tu_check_out(&c, dt, tu_get(dt, og, at), ref, i == bq ? 0 : 2e-5 + ulp_dt(dt, ref),
                     "split bad %d: q %zu e %zu", bad, i, e);
      }
  }
  tu_dev_free_all(be);
  free(pt), free(perm), free(q), free(kc), free(vc), free(o), free(og), free(o0);
  tu_check_done(&c, "%s tree_attention, split keys: heads %zu kv_heads %zu head_dim %zu, contexts %u..%u",
                tu_dtname(dt), heads, kvh, d, t->ctx[0], t->ctx[n - 1]);
}

/* every case; with f32 also: the one-block path (enough queries that
 * every SM has a block) agrees with the split one, and the workspace: none
 * reserved is GLLMK_E_NOMEM with out unchanged, the query's bytes suffice */
static void test_tree_split(tu_dtype dt)
{
  for (size_t i = 0; i < sizeof tsplits / sizeof *tsplits; i++)
    tree_split_case(dt, &tsplits[i]);
  if (dt != TU_F32)
    return;
  size_t heads = 8, kvh = 8, d = 64, ps = 16, mp = 40, np = mp + 1, cel = np * ps * kvh * d;
  size_t nb = (size_t)sm_count / kvh + 1, qn = nb * heads * d, tokens = mp * ps;
  float scale = 0.125f;
  tu_check c;
  tu_check_init(&c);
  uint32_t *pt = tu_xmalloc(mp * 4), *perm = tu_xmalloc(np * 4), *seq = tu_xmalloc(nb * 4);
  uint32_t *ctx = tu_xmalloc(nb * 4), *xs = tu_xmalloc((nb + 1) * 4);
  tu_permutation_u32(perm, np);
  for (size_t i = 0; i < mp; i++)
    pt[i] = perm[i];
  for (size_t i = 0; i < nb; i++)   /* query 0 sees 600 tokens, the others nothing */
    seq[i] = 0, ctx[i] = i ? 0 : (uint32_t)tokens - 40, xs[i] = 0;
  xs[nb] = 0;
  float *q = rand_arr(TU_F32, qn, -1, 1), *kc = rand_arr(TU_F32, cel, -2, 2);
  float *vc = rand_arr(TU_F32, cel, -1, 1), *o1 = tu_xmalloc(qn * 4), *on = tu_xmalloc(qn * 4);
  float *o0 = rand_arr(TU_F32, qn, -7, 7);
  void *dq = tu_dev_at(be, q, qn * 4, 0), *dkc = tu_dev_at(be, kc, cel * 4, 0), *dvc = tu_dev_at(be, vc, cel * 4, 0);
  void *dpt = tu_dev_at(be, pt, mp * 4, 0), *dseq = tu_dev_at(be, seq, nb * 4, 0), *dctx = tu_dev_at(be, ctx, nb * 4, 0);
  void *dxs = tu_dev_at(be, xs, (nb + 1) * 4, 0), *dout = tu_dev_at(be, NULL, qn * 4, 0);
  const gllmk_ops_f32 *o = gllmk_backend_ops_f32(be);
  size_t w1 = 0, wn = 0;
  tu_check_status(&c, o->tree_attention_workspace_bytes(be, 1, heads, kvh, d, ps, np, 1, mp, 0, &w1),
                  GLLMK_OK, "workspace query, 1 query");
  tu_check_status(&c, o->tree_attention_workspace_bytes(be, nb, heads, kvh, d, ps, np, 1, mp, 0, &wn),
                  GLLMK_OK, "workspace query, %zu queries", nb);
  tu_check_true(&c, w1 > 0 && wn == w1, "workspace: %zu bytes for 1 query, %zu for %zu", w1, wn, nb);
  tu_check_status(&c, o->tree_attention(be, dq, dkc, dvc, dpt, dseq, dctx, dxs, NULL, dout, 1, heads, kvh, d,
                                        ps, np, 1, mp, 0, scale),
                  GLLMK_OK, "tree_attention, 1 query (split)");
  tu_dev_down(be, o1, dout, heads * d * 4);
  tu_check_status(&c, o->tree_attention(be, dq, dkc, dvc, dpt, dseq, dctx, dxs, NULL, dout, nb, heads, kvh,
                                        d, ps, np, 1, mp, 0, scale),
                  GLLMK_OK, "tree_attention, %zu queries (one block each)", nb);
  tu_dev_down(be, on, dout, qn * 4);
  double worst = 0;
  for (size_t e = 0; e < heads * d; e++) {
    double err = fabs((double)o1[e] - on[e]);
    worst = err > worst ? err : worst;
  }
  tu_check_true(&c, worst <= 2e-5, "split and one-block paths within %.3g", worst);
  int zeros = 1;
  for (size_t e = heads * d; e < qn; e++)
    zeros &= on[e] == 0.0f;
  tu_check_true(&c, zeros, "queries that see nothing: zeros");

  /* a backend with no workspace: GLLMK_E_NOMEM, out unchanged; then the query's bytes */
  gllmk_backend *small;
  if (gllmk_backend_open("cuda", &small) == GLLMK_OK) {
    gllmk_buffer *b;
    size_t oq = 0, okc = qn * 4, ovc = okc + cel * 4, opt = ovc + cel * 4, oin = opt + mp * 4;
    size_t oout = oin + 3 * 16, total = oout + heads * d * 4;
    if (gllmk_buffer_alloc(small, total, &b) == GLLMK_OK) {
      char *p = gllmk_buffer_data(b);
      uint32_t idx[3] = {0, (uint32_t)tokens - 40, 0}, xs1[4] = {0, 0, 0, 0};
      gllmk_buffer_upload(b, oq, q, heads * d * 4);
      gllmk_buffer_upload(b, okc, kc, cel * 4);
      gllmk_buffer_upload(b, ovc, vc, cel * 4);
      gllmk_buffer_upload(b, opt, pt, mp * 4);
      gllmk_buffer_upload(b, oin, &idx[0], 4), gllmk_buffer_upload(b, oin + 16, &idx[1], 4);
      gllmk_buffer_upload(b, oin + 32, xs1, 16);
      gllmk_buffer_upload(b, oout, o0, heads * d * 4);
      const gllmk_ops_f32 *so = gllmk_backend_ops_f32(small);
      gllmk_status st = so->tree_attention(small, (float *)(p + oq), (float *)(p + okc), (float *)(p + ovc),
                                           (uint32_t *)(p + opt), (uint32_t *)(p + oin),
                                           (uint32_t *)(p + oin + 16), (uint32_t *)(p + oin + 32), NULL,
                                           (float *)(p + oout), 1, heads, kvh, d, ps, np, 1, mp, 0, scale);
      tu_check_status(&c, st, GLLMK_E_NOMEM, "tree_attention (split): no workspace");
      gllmk_backend_synchronize(small);
      gllmk_buffer_download(b, oout, on, heads * d * 4);
      tu_check_true(&c, !memcmp(on, o0, heads * d * 4), "no workspace: out unchanged");
      tu_check_status(&c, gllmk_backend_reserve_workspace(small, w1), GLLMK_OK, "reserve %zu", w1);
      st = so->tree_attention(small, (float *)(p + oq), (float *)(p + okc), (float *)(p + ovc),
                              (uint32_t *)(p + opt), (uint32_t *)(p + oin), (uint32_t *)(p + oin + 16),
                              (uint32_t *)(p + oin + 32), NULL, (float *)(p + oout), 1, heads, kvh, d, ps,
                              np, 1, mp, 0, scale);
      tu_check_status(&c, st, GLLMK_OK, "tree_attention (split): the query's workspace");
      gllmk_backend_synchronize(small);
      gllmk_buffer_download(b, oout, on, heads * d * 4);
      tu_check_true(&c, !memcmp(on, o1, heads * d * 4), "the query's workspace: the same values");
      gllmk_buffer_free(b);
    }
    gllmk_backend_close(small);
  }
  tu_dev_free_all(be);
  free(pt), free(perm), free(seq), free(ctx), free(xs), free(q), free(kc), free(vc), free(o1), free(on),
      free(o0);
  tu_check_done(&c, "f32 tree_attention: split and one-block paths agree, workspace too small");
}

/* ------------------------------------------------------------------ sample */
struct scase {
  float temp;
  size_t top_k;
  float top_p, min_p, penalty;
  size_t window;
  int ties;   /* logits from few values */
};

static void test_sample(tu_dtype dt)
{
  static const struct scase cs[] = {
    {0.0f, 0, 1.0f, 0.0f, 1.0f, 0, 0},    {1.0f, 1, 1.0f, 0.0f, 1.0f, 0, 0},
    {0.8f, 0, 1.0f, 0.0f, 1.0f, 0, 0},    {1.0f, 40, 1.0f, 0.0f, 1.0f, 0, 0},
    {1.2f, 0, 0.9f, 0.0f, 1.0f, 0, 0},    {0.7f, 50, 0.8f, 0.0f, 1.0f, 0, 0},
    {1.0f, 0, 1.0f, 0.05f, 1.0f, 0, 0},   {0.9f, 30, 0.95f, 0.02f, 1.3f, 8, 0},
    {1.5f, 5, 1.0f, 0.0f, 1.0f, 0, 1},    {1.0f, 0, 0.5f, 0.0f, 1.0f, 0, 1},
    {2.0f, 3, 0.7f, 0.1f, 0.8f, 6, 1},    {1.0f, 100000, 0.99f, 0.0f, 1.0f, 0, 0},
    {1e-45f, 0, 1.0f, 0.0f, 1.0f, 0, 0},  {1.0f, 0, 1.0f, 1.0f, 1.0f, 0, 1},
    {1.0f, 7, 1.5f, 0.0f, 1.0f, 0, 0},
  };
  static const size_t vocabs[] = {1, 7, 1000, 50000, 262144};
  size_t es = tu_esize(dt);
  for (size_t vi = 0; vi < 5; vi++) {
    if (vi == 4 && dt != TU_F32)   /* 256K: f32 only (emulator time) */
      continue;
    /* rows: vocab 7 takes 34 (beyond the 32 blocks: blocks take a second
     * row), vocab 1 only 4 (every id is 0); emulator time is per row */
    size_t V = vocabs[vi], W = 8;
    size_t R = V > 50000 ? 2 : V >= 50000 ? 4 : V >= 1000 ? 32 : V > 1 ? 34 : 4;
    tu_check c;
    tu_check_init(&c);
    int mism = 0;
    for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++) {
      if (V == 50000 && (ci % 2 || ci > 11) && ci != 11)   /* emulator time: half of the cases */
        continue;
      if (V > 50000 && ci != 4 && ci != 5 && ci != 7)   /* top_p, top_k + top_p, all */
        continue;
      const struct scase *s = &cs[ci];
      void *lg = tu_xmalloc(R * V * es + 1);
      for (size_t i = 0; i < R * V; i++)
        tu_put(dt, lg, i, s->ties ? (double)tu_rand_below(4) : 3.0 * tu_uniform(-1, 1));
      if (V > 7)
        tu_put(dt, lg, 5, NAN);   /* row 0 */
      if (R > 1 && V <= 1000)     /* row 1: all NaN (-inf): id 0 */
        for (size_t j = 0; j < V; j++)
          tu_put(dt, lg, V + j, NAN);
      int32_t *rec = tu_xmalloc(R * W * 4 + 4);
      for (size_t i = 0; i < R * W; i++)
        rec[i] = (int32_t)tu_rand_below(V + 2) - 1;   /* -1 and vocab: ignored */
      if (R * W > 3)
        rec[3] = rec[1];   /* a duplicate */
      uint32_t *rng = tu_xmalloc(R * 8);
      for (size_t i = 0; i < 2 * R; i++)
        rng[i] = (uint32_t)tu_rand_u64();
      uint64_t seed = tu_rand_u64();
      int32_t *ids = tu_xmalloc(R * 4), *idg = tu_xmalloc(R * 4);
      const int32_t *recent = s->window ? rec : NULL;
      gllmk_status st = CPU(dt, sample, lg, R, V, recent, s->window, s->penalty, s->temp, s->top_k,
                            s->top_p, s->min_p, seed, rng, ids);
      tu_check_status(&c, st, GLLMK_OK, "cpu sample");
      void *dlg = tu_dev_at(be, lg, R * V * es, 0), *drec = s->window ? tu_dev_at(be, rec, R * W * 4, 0) : NULL;
      void *drng = tu_dev_at(be, rng, R * 8, 0), *dids = tu_dev_at(be, NULL, R * 4, 0);
      size_t need = 0;
      st = OPS(dt, sample_workspace_bytes, R, V, s->window, s->top_k, &need);
      tu_check_true(&c, st == GLLMK_OK && need <= WS_RESERVED, "sample workspace %zu", need);
      st = OPS(dt, sample, dlg, R, V, drec, s->window, s->penalty, s->temp, s->top_k, s->top_p,
               s->min_p, seed, drng, dids);
      tu_check_status(&c, st, GLLMK_OK, "sample V %zu case %zu", V, ci);
      tu_dev_down(be, idg, dids, R * 4);
      for (size_t r = 0; r < R; r++)
        if (ids[r] != idg[r]) {
          if (mism++ < 10)
            diag("%s sample V %zu case %zu row %zu: cuda %d cpu %d", tu_dtname(dt), V, ci, r,
                 idg[r], ids[r]);
          tu_check_true(&c, 0, "sample ids");
        }
      tu_dev_free_all(be);
      free(lg), free(rec), free(rng), free(ids), free(idg);
    }
    tu_check_done(&c, "%s sample: vocab %zu, the CPU's ids on every row", tu_dtname(dt), V);
  }
}

/* ------------------------------------------------------------------ embedding_lookup_q */
/* element i of a and b: the same bits, or both NaN */
static int same_elem(tu_dtype dt, const void *a, const void *b, size_t i)
{
  size_t es = tu_esize(dt);
  if (!memcmp((const char *)a + i * es, (const char *)b + i * es, es))
    return 1;
  return isnan(tu_get(dt, a, i)) && isnan(tu_get(dt, b, i));
}

static void test_embq(tu_dtype dt)
{
  static const gllmk_qtype fmts[] = {
#define GLLMK_QFMT(tok, QT, ...) GLLMK_##QT,
#include "quant/qformats.def"
#undef GLLMK_QFMT
    GLLMK_SQUEEZELLM,
  };
  size_t es = tu_esize(dt), vocab = 5, hidden = 512;
  tu_check c;
  tu_check_init(&c);
  for (size_t f = 0; f < sizeof fmts / sizeof *fmts; f++) {
    gllmk_qtype t = fmts[f];
    size_t rb = gllmk_qtype_row_bytes(t, hidden), tb = vocab * rb;
    unsigned char *tab = tu_xmalloc(tb);
    float *src = tu_xmalloc(vocab * hidden * sizeof(float));
    for (size_t i = 0; i < vocab * hidden; i++)
      src[i] = (float)tu_uniform(-2, 2);
    int quantized = gllmk_quantize(t, src, vocab * hidden, tab, tb) == GLLMK_OK;
    if (!quantized)   /* no quantizer (IQ1/2/3): random blocks */
      tu_fill_random(tab, tb);
    for (int big = 0; big < 2; big++) {
      size_t n = big ? 300 : 7;   /* 300: the ids checked by a kernel of their own */
      if (big && t != GLLMK_Q4_K && t != GLLMK_IQ2_XS)
        continue;
      uint32_t *ids = tu_xmalloc(n * 4);
      for (size_t i = 0; i < n; i++)
        ids[i] = (uint32_t)tu_rand_below(vocab);
      void *o = tu_xmalloc(n * hidden * es), *og = tu_xmalloc(n * hidden * es);
      void *o0 = rand_arr(dt, n * hidden, -1, 1);
      gllmk_status st = CPU(dt, embedding_lookup_q, ids, n, tab, tb, t, vocab, hidden, o);
      tu_check_status(&c, st, GLLMK_OK, "cpu embedding_lookup_q %s", gllmk_qtype_name(t));
      uint32_t *dids = tu_dev_at(be, ids, n * 4, 0);
      void *dtab = tu_dev_at(be, tab, tb, 1), *dout = tu_dev_at(be, o0, n * hidden * es, 0);   /* (table unaligned) */
      size_t need = 0;
      st = OPS(dt, embedding_lookup_q_workspace_bytes, n, tb, t, vocab, hidden, &need);
      tu_check_true(&c, st == GLLMK_OK && need <= WS_RESERVED, "embedding_lookup_q workspace %zu", need);
      st = OPS(dt, embedding_lookup_q, dids, n, dtab, tb, t, vocab, hidden, dout);
      tu_check_status(&c, st, GLLMK_OK, "embedding_lookup_q %s", gllmk_qtype_name(t));
      tu_dev_down(be, og, dout, n * hidden * es);
      size_t bad = 0;
      for (size_t i = 0; i < n * hidden; i++)
        if (!same_elem(dt, og, o, i) && bad++ < 5)
          diag("%s embedding_lookup_q %s: element %zu: cuda %.9g cpu %.9g", tu_dtname(dt),
               gllmk_qtype_name(t), i, tu_get(dt, og, i), tu_get(dt, o, i));
      tu_check_true(&c, bad == 0, "embedding_lookup_q %s (%s): %zu elements differ", gllmk_qtype_name(t),
                    quantized ? "quantized" : "random blocks", bad);
      /* an id >= vocab in the device array: OK, nothing written */
      ids[n / 2] = (uint32_t)vocab;
      tu_dev_up(dids, ids, n * 4);
      tu_dev_up(dout, o0, n * hidden * es);
      st = OPS(dt, embedding_lookup_q, dids, n, dtab, tb, t, vocab, hidden, dout);
      tu_check_status(&c, st, GLLMK_OK, "embedding_lookup_q %s, bad id", gllmk_qtype_name(t));
      tu_dev_down(be, og, dout, n * hidden * es);
      tu_check_true(&c, !memcmp(og, o0, n * hidden * es), "embedding_lookup_q %s, bad id: out unchanged",
                    gllmk_qtype_name(t));
      tu_check_status(&c, CPU(dt, embedding_lookup_q, ids, n, tab, tb, t, vocab, hidden, o), GLLMK_E_INVAL,
                      "cpu embedding_lookup_q, bad id");
      tu_dev_free_all(be);
      free(ids), free(o), free(og), free(o0);
    }
    free(tab), free(src);
  }
  tu_check_done(&c, "%s embedding_lookup_q: the CPU's bits for the 20 GGUF formats and SqueezeLLM; bad ids",
                tu_dtname(dt));
}

/* ------------------------------------------------------------------ bad input */
static void test_bad_input(void)
{
  tu_check c;
  tu_check_init(&c);
  tu_dtype dt = TU_F16;
  size_t es = 2, big = SIZE_MAX / 2;
  static unsigned char hostbuf[64];
  void *host = hostbuf;
  void *d = tu_dev_at(be, NULL, 4096, 0);
  uint32_t *u = tu_dev_at(be, NULL, 256, 0);
  int32_t *ids = tu_dev_at(be, NULL, 64, 0);
  struct { gllmk_status cpu, cu; const char *what; } r[48];
  int nr = 0;
#define BOTH(what_, cpucall, cucall) (r[nr].cpu = (cpucall), r[nr].cu = (cucall), r[nr++].what = (what_))
  BOTH("linear overflow", CPU(dt, linear, host, host, NULL, host, big, big, 2),
       OPS(dt, linear, d, d, NULL, d, big, big, 2));
  BOTH("linear NULL x", CPU(dt, linear, NULL, host, NULL, host, 2, 2, 2),
       OPS(dt, linear, NULL, d, NULL, d, 2, 2, 2));
  BOTH("linear NULL w", CPU(dt, linear, host, NULL, NULL, host, 2, 2, 2),
       OPS(dt, linear, d, NULL, NULL, d, 2, 2, 2));
  BOTH("linear NULL y", CPU(dt, linear, host, host, NULL, NULL, 2, 2, 2),
       OPS(dt, linear, d, d, NULL, NULL, 2, 2, 2));
  BOTH("linear m 0", CPU(dt, linear, NULL, host, NULL, NULL, 0, 2, 2),
       OPS(dt, linear, NULL, d, NULL, NULL, 0, 2, 2));
  BOTH("kv_store page_size 0", CPU(dt, kv_store, host, host, host, host, u, u, u, 1, 1, 4, 0, 2, 1, 1),
       OPS(dt, kv_store, d, d, d, d, u, u, u, 1, 1, 4, 0, 2, 1, 1));
  BOTH("kv_store overflow", CPU(dt, kv_store, host, host, host, host, u, u, u, 1, big, 4, 2, 2, 1, 1),
       OPS(dt, kv_store, d, d, d, d, u, u, u, 1, big, 4, 2, 2, 1, 1));
  BOTH("kv_store table overflow", CPU(dt, kv_store, host, host, host, host, u, u, u, 1, 1, 4, 1 << 20, 2, 1, 1 << 13),
       OPS(dt, kv_store, d, d, d, d, u, u, u, 1, 1, 4, 1 << 20, 2, 1, 1 << 13));
  BOTH("kv_store NULL k", CPU(dt, kv_store, NULL, host, host, host, u, u, u, 1, 1, 4, 2, 2, 1, 1),
       OPS(dt, kv_store, NULL, d, d, d, u, u, u, 1, 1, 4, 2, 2, 1, 1));
  BOTH("kv_store NULL table", CPU(dt, kv_store, host, host, host, host, NULL, u, u, 1, 1, 4, 2, 2, 1, 1),
       OPS(dt, kv_store, d, d, d, d, NULL, u, u, 1, 1, 4, 2, 2, 1, 1));
  BOTH("tree heads % kv_heads", CPU(dt, tree_attention, host, host, host, u, u, u, u, u, host, 1, 3, 2, 4, 2, 2, 1, 1, 0, 1.0f),
       OPS(dt, tree_attention, d, d, d, u, u, u, u, u, d, 1, 3, 2, 4, 2, 2, 1, 1, 0, 1.0f));
  BOTH("tree kv_heads 0", CPU(dt, tree_attention, host, host, host, u, u, u, u, u, host, 1, 3, 0, 4, 2, 2, 1, 1, 0, 1.0f),
       OPS(dt, tree_attention, d, d, d, u, u, u, u, u, d, 1, 3, 0, 4, 2, 2, 1, 1, 0, 1.0f));
  BOTH("tree overflow", CPU(dt, tree_attention, host, host, host, u, u, u, u, u, host, big, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f),
       OPS(dt, tree_attention, d, d, d, u, u, u, u, u, d, big, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f));
  BOTH("tree NULL q", CPU(dt, tree_attention, NULL, host, host, u, u, u, u, u, host, 1, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f),
       OPS(dt, tree_attention, NULL, d, d, u, u, u, u, u, d, 1, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f));
  BOTH("tree NULL extra_start", CPU(dt, tree_attention, host, host, host, u, u, u, NULL, u, host, 1, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f),
       OPS(dt, tree_attention, d, d, d, u, u, u, NULL, u, d, 1, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f));
  BOTH("tree NULL extra", CPU(dt, tree_attention, host, host, host, u, u, u, u, NULL, host, 1, 2, 2, 4, 2, 2, 1, 1, 3, 1.0f),
       OPS(dt, tree_attention, d, d, d, u, u, u, u, NULL, d, 1, 2, 2, 4, 2, 2, 1, 1, 3, 1.0f));
  BOTH("tree n 0", CPU(dt, tree_attention, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f),
       OPS(dt, tree_attention, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f));
  uint32_t hrng[4] = {0};
  int32_t hids[2];
  BOTH("sample vocab 0", CPU(dt, sample, host, 1, 0, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 0, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample NaN temperature", CPU(dt, sample, host, 1, 4, NULL, 0, 1.0f, NAN, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 4, NULL, 0, 1.0f, NAN, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample penalty 0", CPU(dt, sample, host, 1, 4, NULL, 0, 0.0f, 1.0f, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 4, NULL, 0, 0.0f, 1.0f, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample penalty inf", CPU(dt, sample, host, 1, 4, NULL, 0, INFINITY, 1.0f, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 4, NULL, 0, INFINITY, 1.0f, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample top_p 0", CPU(dt, sample, host, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 0.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 0.0f, 0.0f, 1, u, ids));
  BOTH("sample min_p > 1", CPU(dt, sample, host, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 1.5f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 1.5f, 1, u, ids));
  BOTH("sample no rng", CPU(dt, sample, host, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, NULL, hids),
       OPS(dt, sample, d, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, NULL, ids));
  BOTH("sample window without recent", CPU(dt, sample, host, 1, 4, NULL, 3, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, 4, NULL, 3, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample overflow", CPU(dt, sample, host, big, big, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, big, big, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample vocab > INT32_MAX", CPU(dt, sample, host, 1, (size_t)INT32_MAX + 1, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, hrng, hids),
       OPS(dt, sample, d, 1, (size_t)INT32_MAX + 1, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, u, ids));
  BOTH("sample rows 0", CPU(dt, sample, NULL, 0, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, NULL, NULL),
       OPS(dt, sample, NULL, 0, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, NULL, NULL));
  static unsigned char qtab[4096];
  void *dq = tu_dev_at(be, NULL, 4096, 0);
  BOTH("embedding_lookup_q AWQ4", CPU(dt, embedding_lookup_q, hrng, 1, qtab, 4096, GLLMK_AWQ4, 2, 256, host),
       OPS(dt, embedding_lookup_q, u, 1, dq, 4096, GLLMK_AWQ4, 2, 256, d));
  BOTH("embedding_lookup_q not a format", CPU(dt, embedding_lookup_q, hrng, 1, qtab, 4096, (gllmk_qtype)77, 2, 256, host),
       OPS(dt, embedding_lookup_q, u, 1, dq, 4096, (gllmk_qtype)77, 2, 256, d));
  BOTH("embedding_lookup_q hidden % block", CPU(dt, embedding_lookup_q, hrng, 1, qtab, 4096, GLLMK_Q4_K, 2, 100, host),
       OPS(dt, embedding_lookup_q, u, 1, dq, 4096, GLLMK_Q4_K, 2, 100, d));
  BOTH("embedding_lookup_q short table", CPU(dt, embedding_lookup_q, hrng, 1, qtab, 100, GLLMK_Q4_K, 2, 256, host),
       OPS(dt, embedding_lookup_q, u, 1, dq, 100, GLLMK_Q4_K, 2, 256, d));
  BOTH("embedding_lookup_q NULL ids", CPU(dt, embedding_lookup_q, NULL, 1, qtab, 4096, GLLMK_Q4_K, 2, 256, host),
       OPS(dt, embedding_lookup_q, NULL, 1, dq, 4096, GLLMK_Q4_K, 2, 256, d));
  BOTH("embedding_lookup_q overflow", CPU(dt, embedding_lookup_q, hrng, big, qtab, 4096, GLLMK_Q4_K, 2, 256, host),
       OPS(dt, embedding_lookup_q, u, big, dq, 4096, GLLMK_Q4_K, 2, 256, d));
#undef BOTH
  for (int i = 0; i < nr; i++)
    tu_check_true(&c, r[i].cpu == r[i].cu, "%s: cpu %s, cuda %s", r[i].what, tu_status_name(r[i].cpu),
                  tu_status_name(r[i].cu));
  /* pointers outside the backend's buffers, misaligned elements */
  tu_check_status(&c, OPS(dt, linear, host, d, NULL, d, 2, 2, 2), GLLMK_E_INVAL, "linear: host x");
  tu_check_status(&c, OPS(dt, linear, d, d, (void *)((char *)d + 1), d, 2, 2, 2), GLLMK_E_INVAL, "linear: odd bias");
  tu_check_status(&c, OPS(dt, linear, d, (void *)((char *)d + 4096 + 16 - es), NULL, d, 2, 2, 2), GLLMK_E_INVAL,
                  "linear: w past its buffer");
  tu_check_status(&c, OPS(dt, kv_store, d, d, d, d, (uint32_t *)host, u, u, 1, 1, 4, 2, 2, 1, 1),
                  GLLMK_E_INVAL, "kv_store: host page table");
  tu_check_status(&c, OPS(dt, kv_store, d, d, d, d, u, u, u, 1, 1, 4096, 2, 2, 1, 1), GLLMK_E_INVAL,
                  "kv_store: caches past their buffer");
  tu_check_status(&c, OPS(dt, tree_attention, d, d, d, u, u, u, (uint32_t *)host, u, d, 1, 2, 2, 4, 2, 2, 1, 1, 0, 1.0f),
                  GLLMK_E_INVAL, "tree_attention: host extra_start");
  tu_check_status(&c, OPS(dt, embedding_lookup_q, u, 1, hostbuf, 64, GLLMK_Q4_0, 2, 32, d), GLLMK_E_INVAL,
                  "embedding_lookup_q: host table");
  tu_check_status(&c, OPS(dt, sample, d, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, (uint32_t *)hostbuf, ids),
                  GLLMK_E_INVAL, "sample: host rng");
  tu_check_status(&c, OPS(dt, sample, d, 1, 4, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, u, (int32_t *)((char *)ids + 2)),
                  GLLMK_E_INVAL, "sample: misaligned ids");
  /* too small a workspace: NOMEM, nothing queued */
  gllmk_backend *small;
  if (gllmk_backend_open("cuda", &small) == GLLMK_OK) {
    gllmk_buffer *b;
    if (gllmk_buffer_alloc(small, 4096, &b) == GLLMK_OK) {
      void *p = gllmk_buffer_data(b);
      gllmk_status st = gllmk_backend_ops_f16(small)->sample(small, p, 2, 100, NULL, 0, 1.0f, 1.0f, 0,
                                                             1.0f, 0.0f, 1, p, (int32_t *)((char *)p + 1024));
      tu_check_status(&c, st, GLLMK_E_NOMEM, "sample: no workspace");
      gllmk_buffer_free(b);
    }
    gllmk_backend_close(small);
  }
  tu_dev_free_all(be);
  tu_check_done(&c, "bad input: the CPU's codes, foreign and misaligned pointers, workspace");
}

/* ------------------------------------------------------------------ graph */
static void test_graph(void)
{
  tu_dtype dt = TU_BF16;
  size_t es = 2, hid = 24, heads = 4, kvh = 2, d = 6, row = kvh * d, ps = 4, np = 6, mp = 3;
  size_t V = 300, nq = heads * d;   /* linear: x[1 x hid] -> q, k, v [1 x (nq + 2 row)] */
  size_t nout = nq + 2 * row, cel = np * ps * row;
  tu_check c;
  tu_check_init(&c);
  uint32_t pt[3] = {4, 1, 5}, seq[1] = {0}, xs[2] = {0, 0};
  void *w = rand_arr(dt, nout * hid, -0.5, 0.5), *lw = rand_arr(dt, V * nq, -0.5, 0.5);
  void *kc = rand_arr(dt, cel, -1, 1), *vc = rand_arr(dt, cel, -1, 1);
  void *dw = tu_dev_at(be, w, nout * hid * es, 0), *dlw = tu_dev_at(be, lw, V * nq * es, 0);
  void *dx = tu_dev_at(be, NULL, hid * es, 0), *dqkv = tu_dev_at(be, NULL, nout * es, 0), *dattn = tu_dev_at(be, NULL, nq * es, 0);
  void *dlg = tu_dev_at(be, NULL, V * es, 0), *dkc = tu_dev_at(be, kc, cel * es, 0), *dvc = tu_dev_at(be, vc, cel * es, 0);
  uint32_t *dpt = tu_dev_at(be, pt, sizeof pt, 0), *dseq = tu_dev_at(be, seq, 4, 0), *dslot = tu_dev_at(be, NULL, 4, 0);
  uint32_t *dctx = tu_dev_at(be, NULL, 4, 0), *dxs = tu_dev_at(be, xs, 8, 0), *drng = tu_dev_at(be, NULL, 8, 0);
  int32_t *dids = tu_dev_at(be, NULL, 4, 0);
  char *dq = dqkv, *dk = dq + nq * es, *dvv = dk + row * es;
  gllmk_graph *g = NULL;
  const gllmk_ops_bf16 *o = gllmk_backend_ops_bf16(be);
  tu_check_status(&c, gllmk_graph_begin(be), GLLMK_OK, "graph_begin");
  o->linear(be, dx, dw, NULL, dqkv, 1, nout, hid);
  o->kv_store(be, (void *)dk, (void *)dvv, dkc, dvc, dpt, dseq, dslot, 1, kvh, d, ps, np, 1, mp);
  o->tree_attention(be, (void *)dq, dkc, dvc, dpt, dseq, dctx, dxs, NULL, dattn, 1, heads, kvh, d, ps,
                    np, 1, mp, 0, 0.5f);
  o->linear(be, dattn, dlw, NULL, dlg, 1, V, nq);
  o->sample(be, dlg, 1, V, NULL, 0, 1.0f, 0.9f, 20, 0.95f, 0.0f, 77, drng, dids);
  tu_check_status(&c, gllmk_graph_end(be, &g), GLLMK_OK, "graph_end");
  for (int step = 0; step < 3; step++) {
    void *x = rand_arr(dt, hid, -1, 1);
    uint32_t sl = (uint32_t)(step + 2), cx = sl + 1, rng[2] = {(uint32_t)step, 9};
    tu_dev_up(dx, x, hid * es), tu_dev_up(dslot, &sl, 4), tu_dev_up(dctx, &cx, 4), tu_dev_up(drng, rng, 8);
    tu_check_status(&c, gllmk_graph_launch(g), GLLMK_OK, "graph_launch %d", step);
    /* the same step on the CPU */
    void *qkv = tu_xmalloc(nout * es), *att = tu_xmalloc(nq * es), *lg = tu_xmalloc(V * es);
    int32_t id, idg;
    gllmk_linear_bf16(x, w, NULL, qkv, 1, nout, hid);
    char *q = qkv, *k = q + nq * es, *v = k + row * es;
    gllmk_kv_store_bf16((void *)k, (void *)v, kc, vc, pt, seq, &sl, 1, kvh, d, ps, np, 1, mp);
    gllmk_tree_attention_bf16((void *)q, kc, vc, pt, seq, &cx, xs, NULL, att, 1, heads, kvh, d, ps, np, 1,
                              mp, 0, 0.5f);
    gllmk_linear_bf16(att, lw, NULL, lg, 1, V, nq);
    gllmk_sample_bf16(lg, 1, V, NULL, 0, 1.0f, 0.9f, 20, 0.95f, 0.0f, 77, rng, &id);
    void *lgg = tu_xmalloc(V * es);
    tu_dev_down(be, lgg, dlg, V * es);
    tu_dev_down(be, &idg, dids, 4);
    double worst = 0;
    for (size_t j = 0; j < V; j++) {
      double e = fabs(tu_get(dt, lgg, j) - tu_get(dt, lg, j)) / (0.05 + fabs(tu_get(dt, lg, j)));
      worst = e > worst ? e : worst;
    }
    tu_check_true(&c, worst < 0.05, "graph step %d: logits within %.3g", step, worst);
    int same = 1;
    for (size_t j = 0; j < V; j++)
      same &= tu_get(dt, lgg, j) == tu_get(dt, lg, j);
    if (same)
      tu_check_true(&c, id == idg, "graph step %d: id cuda %d cpu %d", step, idg, id);
    else
      diag("graph step %d: logits differ by rounding, ids cuda %d cpu %d", step, idg, id);
    free(x), free(qkv), free(att), free(lg), free(lgg);
  }
  gllmk_graph_free(g);
  tu_dev_free_all(be);
  free(w), free(lw), free(kc), free(vc);
  tu_check_done(&c, "graph: a decode step (linear, kv_store, tree_attention, sample) replayed");
}

int main(void)
{
  if (!tu_cuda_open(&be)) return 0;
  const char *bn = gllmk_backend_name(be);
  gllmk_cuda_device info;
  if (gllmk_cuda_device_info(!strncmp(bn, "cuda:", 5) ? atoi(bn + 5) : 0, &info) == GLLMK_OK &&
      info.sm_count > 0)
    sm_count = info.sm_count;
  diag("backend %s, %d SMs", bn, sm_count);
  if (gllmk_backend_reserve_workspace(be, WS_RESERVED) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu)", WS_RESERVED);
  for (int d = 0; d < TU_NDTYPES; d++) {
    clock_t t0 = clock(), t1, t2;
    test_linear((tu_dtype)d);
    t1 = clock();
    test_kv_store((tu_dtype)d);
    test_tree((tu_dtype)d);
    test_tree_split((tu_dtype)d);
    t2 = clock();
    test_sample((tu_dtype)d);
    test_embq((tu_dtype)d);
    diag("%s: %.1f s (linear %.1f, kv_store + tree_attention %.1f, sample + embedding_lookup_q %.1f)", tu_dtname((tu_dtype)d),
         (double)(clock() - t0) / CLOCKS_PER_SEC, (double)(t1 - t0) / CLOCKS_PER_SEC,
         (double)(t2 - t1) / CLOCKS_PER_SEC, (double)(clock() - t2) / CLOCKS_PER_SEC);
  }
  test_bad_input();
  test_graph();
  gllmk_backend_close(be);
  return done_testing();
}
