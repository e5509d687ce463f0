/* test_model.c -- gllmk_model and gllmk_kv_cache on the CPU backend
 * SPDX-License-Identifier: MIT
 *
 *  - Random llama, qwen2 (biases), qwen3 (q/k norms, head_dim != hidden /
 *    heads) models with GQA, and llama-3 rope scaling: prefill logits of
 *    every position against a double-precision forward pass written here
 *    (1e-4 of the row's logit spread), then decode steps one token at a time
 *    (the replayed graph) against the same reference.
 *  - f16 and bf16 weights (widened at load) equal the f32 model of the
 *    rounded weights; Q8_0 / Q4_K weights within the int8-activation bound.
 *  - Several sequences in one batch give the logits of separate runs.
 *  - Token trees: random trees (depth up to 6, branching up to 4) over a
 *    cached prefix; every node's logits equal those of decoding its
 *    root-to-node path linearly in another sequence; after committing a
 *    random path, decoding continues exactly as after the linear decode.
 *  - Sampling: greedy = argmax of the downloaded logits; a seed gives the
 *    same tokens with 1 and 2 threads, and for a position decoded alone or
 *    as a tree node.
 *  - Bad batches (token out of range, a bad parent, a position gap, a full
 *    cache, a sequence out of range) are refused and the cache is
 *    unchanged: decoding afterwards equals decoding without them.
 *  - truncate rolls back a draft: decoding after it equals the first time.
 *  - bert encoders (mean, CLS, rank) against a double reference.
 *  - AWQ4 / GPTQ4 matrices with their side arrays.
 *  - Two models on one backend.
 *  - On the CUDA backend when one opens (make check: the emulated driver):
 *    prefill, replayed decode steps and a tree equal the CPU backend's;
 *    the quantized, AWQ4 and GPTQ4 models within the same bound of the f32
 *    model as on the CPU; bert embeddings and rerank scores = the CPU's.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ random models */
typedef struct tmodel {
  gllmk_model_config c;
  size_t nt;
  gllmk_model_tensor t[256];
  char names[256][64];
  float *data[256];
  float *rope_div;   /* optional rope_freqs */
} tmodel;

static float *add_t(tmodel *m, const char *name, size_t rows, size_t cols, double lo, double hi)
{
  size_t i = m->nt++;
  snprintf(m->names[i], 64, "%s", name);
  float *d = tu_xmalloc(rows * cols * sizeof *d);
  for (size_t j = 0; j < rows * cols; j++)
    d[j] = (float)tu_uniform(lo, hi);
  m->data[i] = d;
  m->t[i] = (gllmk_model_tensor){ m->names[i], 0, { cols, rows }, d, rows * cols * 4 };
  return d;
}

static const float *get_t(const tmodel *m, const char *name)
{
  for (size_t i = 0; i < m->nt; i++)
    if (!strcmp(m->names[i], name))
      return m->data[i];
  return NULL;
}

static void make_model(tmodel *m, gllmk_arch arch, size_t vocab, size_t hidden, size_t layers,
                       size_t heads, size_t kv_heads, size_t head_dim, size_t ffn, int tied,
                       int llama3)
{
  memset(m, 0, sizeof *m);
  gllmk_model_config *c = &m->c;
  c->arch = arch, c->vocab = vocab, c->hidden = hidden, c->layers = layers, c->heads = heads;
  c->kv_heads = kv_heads, c->head_dim = head_dim, c->ffn = ffn, c->context = 256;
  c->norm_eps = 1e-5f, c->rope_theta = llama3 ? 500000.0f : 10000.0f;
  if (llama3) {
    c->rope_scale_factor = 8, c->rope_low_freq = 1, c->rope_high_freq = 4;
    c->rope_orig_context = 64;
  }
  size_t hd = head_dim ? head_dim : hidden / heads, qd = heads * hd, kd = kv_heads * hd;
  char b[64];
  add_t(m, "token_embd.weight", vocab, hidden, -1, 1);
  add_t(m, "output_norm.weight", 1, hidden, 0.8, 1.2);
  if (!tied)
    add_t(m, "output.weight", vocab, hidden, -2 / sqrt((double)hidden), 2 / sqrt((double)hidden));
  for (size_t l = 0; l < layers; l++) {
#define T(suffix, r, cl, lo, hi) (snprintf(b, 64, "blk.%zu." suffix, l), add_t(m, b, r, cl, lo, hi))
    double sh = 1.7 / sqrt((double)hidden), sq = 1.7 / sqrt((double)qd), sf = 1.7 / sqrt((double)ffn);
    T("attn_norm.weight", 1, hidden, 0.8, 1.2);
    T("attn_q.weight", qd, hidden, -sh, sh);
    T("attn_k.weight", kd, hidden, -sh, sh);
    T("attn_v.weight", kd, hidden, -sh, sh);
    T("attn_output.weight", hidden, qd, -sq, sq);
    T("ffn_norm.weight", 1, hidden, 0.8, 1.2);
    T("ffn_gate.weight", ffn, hidden, -sh, sh);
    T("ffn_up.weight", ffn, hidden, -sh, sh);
    T("ffn_down.weight", hidden, ffn, -sf, sf);
    if (arch == GLLMK_ARCH_QWEN2) {
      T("attn_q.bias", 1, qd, -0.5, 0.5);
      T("attn_k.bias", 1, kd, -0.5, 0.5);
      T("attn_v.bias", 1, kd, -0.5, 0.5);
    }
    if (arch == GLLMK_ARCH_QWEN3) {
      T("attn_q_norm.weight", 1, hd, 0.8, 1.2);
      T("attn_k_norm.weight", 1, hd, 0.8, 1.2);
    }
#undef T
  }
}

static void free_model(tmodel *m)
{
  for (size_t i = 0; i < m->nt; i++)
    free(m->data[i]);
}

/* ------------------------------------------------------------------ reference */
static void rmsnorm(const double *x, const float *w, double *out, size_t n, double eps)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i] * x[i];
  double r = 1 / sqrt(s / n + eps);
  for (size_t i = 0; i < n; i++)
    out[i] = x[i] * r * w[i];
}

static void matvec(const float *W, const double *x, double *y, size_t rows, size_t cols)
{
  for (size_t i = 0; i < rows; i++) {
    double s = 0;
    for (size_t j = 0; j < cols; j++)
      s += (double)W[i * cols + j] * x[j];
    y[i] = s;
  }
}

static double rope_freq(const gllmk_model_config *c, size_t i, size_t rot)
{
  double f = pow(c->rope_theta, -2.0 * i / rot);
  if (c->rope_scale_factor != 0) {
    double orig = c->rope_orig_context, wl = 2 * M_PI / f;
    if (wl > orig / c->rope_low_freq)
      f /= c->rope_scale_factor;
    else if (wl >= orig / c->rope_high_freq) {
      double sm = (orig / wl - c->rope_low_freq) / (c->rope_high_freq - c->rope_low_freq);
      f = (1 - sm) * f / c->rope_scale_factor + sm * f;
    }
  }
  return f;
}

static void rope1(const gllmk_model_config *c, double *v, size_t hd, size_t pos)
{
  size_t rot = hd, half = rot / 2;
  bool inter = c->arch == GLLMK_ARCH_LLAMA;
  for (size_t i = 0; i < half; i++) {
    double a = pos * rope_freq(c, i, rot), cs = cos(a), sn = sin(a);
    size_t i0 = inter ? 2 * i : i, i1 = inter ? 2 * i + 1 : i + half;
    double x0 = v[i0], x1 = v[i1];
    v[i0] = x0 * cs - x1 * sn;
    v[i1] = x0 * sn + x1 * cs;
  }
}

/* logits [T x vocab] of a sequence of T tokens at positions 0..T-1 */
static void ref_forward(const tmodel *m, const int32_t *tok, size_t T, double *logits)
{
  const gllmk_model_config *c = &m->c;
  size_t H = c->hidden, hd = c->head_dim ? c->head_dim : H / c->heads;
  size_t qd = c->heads * hd, kd = c->kv_heads * hd, F = c->ffn, V = c->vocab;
  double *x = tu_dalloc(T * H), *xn = tu_dalloc(H), *q = tu_dalloc(T * qd);
  double *k = tu_dalloc(T * kd), *v = tu_dalloc(T * kd), *att = tu_dalloc(qd), *o = tu_dalloc(H);
  double *g = tu_dalloc(F), *u = tu_dalloc(F), *p = tu_dalloc(T);
  const float *emb = get_t(m, "token_embd.weight");
  for (size_t t = 0; t < T; t++)
    for (size_t j = 0; j < H; j++)
      x[t * H + j] = emb[tok[t] * H + j];
  char b[64];
  for (size_t l = 0; l < c->layers; l++) {
#define G(suffix) (snprintf(b, 64, "blk.%zu." suffix, l), get_t(m, b))
    for (size_t t = 0; t < T; t++) {
      rmsnorm(x + t * H, G("attn_norm.weight"), xn, H, c->norm_eps);
      matvec(G("attn_q.weight"), xn, q + t * qd, qd, H);
      matvec(G("attn_k.weight"), xn, k + t * kd, kd, H);
      matvec(G("attn_v.weight"), xn, v + t * kd, kd, H);
      if (G("attn_q.bias")) {
        const float *bq = G("attn_q.bias"), *bk = G("attn_k.bias"), *bv = G("attn_v.bias");
        for (size_t j = 0; j < qd; j++)
          q[t * qd + j] += bq[j];
        for (size_t j = 0; j < kd; j++)
          k[t * kd + j] += bk[j], v[t * kd + j] += bv[j];
      }
      for (size_t h = 0; h < c->heads; h++) {
        if (G("attn_q_norm.weight"))
          rmsnorm(q + t * qd + h * hd, G("attn_q_norm.weight"), q + t * qd + h * hd, hd, c->norm_eps);
        rope1(c, q + t * qd + h * hd, hd, t);
      }
      for (size_t h = 0; h < c->kv_heads; h++) {
        if (G("attn_k_norm.weight"))
          rmsnorm(k + t * kd + h * hd, G("attn_k_norm.weight"), k + t * kd + h * hd, hd, c->norm_eps);
        rope1(c, k + t * kd + h * hd, hd, t);
      }
    }
    for (size_t t = 0; t < T; t++) {
      for (size_t h = 0; h < c->heads; h++) {
        size_t kh = h / (c->heads / c->kv_heads);
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j <= t; j++) {
          double s = 0;
          for (size_t e = 0; e < hd; e++)
            s += q[t * qd + h * hd + e] * k[j * kd + kh * hd + e];
          p[j] = s / sqrt((double)hd);
          if (p[j] > mx)
            mx = p[j];
        }
        for (size_t j = 0; j <= t; j++)
          sum += p[j] = exp(p[j] - mx);
        for (size_t e = 0; e < hd; e++) {
          double a = 0;
          for (size_t j = 0; j <= t; j++)
            a += p[j] * v[j * kd + kh * hd + e];
          att[h * hd + e] = a / sum;
        }
      }
      matvec(G("attn_output.weight"), att, o, H, qd);
      for (size_t j = 0; j < H; j++)
        x[t * H + j] += o[j];
      rmsnorm(x + t * H, G("ffn_norm.weight"), xn, H, c->norm_eps);
      matvec(G("ffn_gate.weight"), xn, g, F, H);
      matvec(G("ffn_up.weight"), xn, u, F, H);
      for (size_t j = 0; j < F; j++)
        g[j] = g[j] / (1 + exp(-g[j])) * u[j];
      matvec(G("ffn_down.weight"), g, o, H, F);
      for (size_t j = 0; j < H; j++)
        x[t * H + j] += o[j];
    }
#undef G
  }
  const float *wout = get_t(m, "output.weight") ? get_t(m, "output.weight") : emb;
  for (size_t t = 0; t < T; t++) {
    rmsnorm(x + t * H, get_t(m, "output_norm.weight"), xn, H, c->norm_eps);
    matvec(wout, xn, logits + t * V, V, H);
  }
  free(x), free(xn), free(q), free(k), free(v), free(att), free(o), free(g), free(u), free(p);
}

/* max |a - b| over a row, relative to the reference row's spread */
static double row_err(const float *got, const double *ref, size_t V)
{
  double lo = INFINITY, hi = -INFINITY, e = 0;
  for (size_t j = 0; j < V; j++) {
    lo = ref[j] < lo ? ref[j] : lo;
    hi = ref[j] > hi ? ref[j] : hi;
    double d = fabs(got[j] - ref[j]);
    e = d > e || d != d ? d : e;
  }
  return e / (hi - lo);
}

static double row_err_f(const float *got, const float *ref, size_t V)
{
  double *r = tu_dalloc(V);
  for (size_t j = 0; j < V; j++)
    r[j] = ref[j];
  double e = row_err(got, r, V);
  free(r);
  return e;
}

/* ------------------------------------------------------------------ helpers */
static gllmk_backend *be;

static gllmk_status fwd_linear(gllmk_model *md, gllmk_kv_cache *kv, int32_t seq, const int32_t *tok,
                               size_t n, size_t pos0, int all_rows)
{
  gllmk_batch_entry b[64];
  int32_t rows[64];
  for (size_t i = 0; i < n; i++) {
    b[i] = (gllmk_batch_entry){ tok[i], (int32_t)(pos0 + i), seq, GLLMK_PARENT_NONE };
    rows[i] = (int32_t)i;
  }
  return all_rows ? gllmk_model_forward(md, kv, b, n, rows, n)
                  : gllmk_model_forward(md, kv, b, n, rows + n - 1, 1);
}

/* ------------------------------------------------------------------ tests */
static void test_reference(const char *what, gllmk_arch arch, size_t hd, int tied, int llama3)
{
  tmodel tm;
  make_model(&tm, arch, 96, 48, 2, 4, 2, hd, 80, tied, llama3);
  gllmk_model *md = NULL;
  gllmk_model_params mp = { .max_batch = 32 };
  gllmk_status st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_OK, "%s: created (%s)", what, st ? gllmk_model_error_message() : "ok");
  if (st != GLLMK_OK) {
    free_model(&tm);
    return;
  }
  gllmk_kv_cache *kv = NULL;
  st = gllmk_kv_cache_create(md, 2, 40, 4, 0, &kv);
  ok(st == GLLMK_OK, "%s: cache (%s)", what, st ? gllmk_model_error_message() : "ok");
  enum { P = 13, D = 6 };
  int32_t tok[P + D];
  for (size_t i = 0; i < P + D; i++)
    tok[i] = (int32_t)tu_rand_below(96);
  double *ref = tu_dalloc((P + D) * 96);
  ref_forward(&tm, tok, P + D, ref);
  float *lg = tu_xmalloc(P * 96 * sizeof *lg);
  double worst = 0;
  st = fwd_linear(md, kv, 1, tok, P, 0, 1);
  if (st == GLLMK_OK)
    st = gllmk_model_read_logits(md, 0, P, lg);
  for (size_t t = 0; st == GLLMK_OK && t < P; t++) {
    double e = row_err(lg + t * 96, ref + t * 96, 96);
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "%s: prefill of %d tokens = reference (max err %.2e of the spread)",
     what, P, worst);
  worst = 0;
  for (size_t t = P; st == GLLMK_OK && t < P + D; t++) {
    st = fwd_linear(md, kv, 1, tok + t, 1, t, 0);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(md, 0, 1, lg);
    double e = st == GLLMK_OK ? row_err(lg, ref + t * 96, 96) : 1;
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "%s: %d decode steps (graph replay) = reference (max err %.2e)",
     what, D, worst);
  ok(gllmk_kv_cache_seq_len(kv, 1) == P + D && gllmk_kv_cache_seq_len(kv, 0) == 0,
     "%s: sequence lengths", what);
  gllmk_kv_cache_free(kv);
  gllmk_model_free(md);
  free(ref), free(lg);
  free_model(&tm);
}

/* a random tree of nt nodes over sequence seq's cache: entries b[first ..];
 * root nodes get parent root_parent (an ordinary entry, or PARENT_CACHE) */
typedef struct tree {
  gllmk_batch_entry b[48];
  int depth[48], kids[48];
  size_t n;
} tree;

static void make_tree(tree *t, size_t first, size_t nt, int32_t seq, int32_t root_parent,
                      int32_t root_pos, size_t vocab)
{
  int root_kids = 0;
  for (size_t i = first; i < first + nt; i++) {
    for (;;) {
      size_t pick = tu_rand_below(i - first + 1);   /* == i - first: a root */
      if (pick == i - first) {
        if (root_kids >= 4)
          continue;
        root_kids++;
        t->b[i] = (gllmk_batch_entry){ (int32_t)tu_rand_below(vocab), root_pos, seq, root_parent };
        t->depth[i] = 1;
      } else {
        size_t p = first + pick;
        if (t->depth[p] >= 6 || t->kids[p] >= 4)
          continue;
        t->kids[p]++;
        t->b[i] = (gllmk_batch_entry){ (int32_t)tu_rand_below(vocab), t->b[p].pos + 1, seq, (int32_t)p };
        t->depth[i] = t->depth[p] + 1;
      }
      t->kids[i] = 0;
      break;
    }
  }
  t->n = first + nt;
}

/* the tokens of node i's path from its root, into out; returns the count */
static size_t node_path(const tree *t, size_t i, int32_t *out, int32_t *idx)
{
  size_t n = 0;
  int32_t stack[16];
  for (int32_t j = (int32_t)i; j >= 0 && t->b[j].parent != GLLMK_PARENT_NONE;
       j = t->b[j].parent < 0 ? -1 : t->b[j].parent)
    stack[n++] = j;
  for (size_t k = 0; k < n; k++) {
    out[k] = t->b[stack[n - 1 - k]].token;
    if (idx)
      idx[k] = stack[n - 1 - k];
  }
  return n;
}

static void test_trees(void)
{
  tmodel tm;
  make_model(&tm, GLLMK_ARCH_QWEN2, 64, 32, 2, 4, 2, 0, 48, 0, 0);
  gllmk_model *md = NULL;
  gllmk_model_params mp = { .max_batch = 48 };
  gllmk_kv_cache *kv = NULL;
  gllmk_status st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_create(md, 3, 80, 4, 0, &kv);
  ok(st == GLLMK_OK, "trees: model and cache (%s)", gllmk_model_error_message());
  if (st != GLLMK_OK)
    return;
  size_t V = 64;
  float *lg = tu_xmalloc(48 * V * sizeof *lg), *rl = tu_xmalloc(64 * V * sizeof *rl);
  int bad_logits = 0, bad_commit = 0, bad_status = 0, bad_sample = 0;
  double worst = 0;
  for (int round = 0; round < 8; round++) {
    /* a cached prefix on sequence 0 */
    size_t P = 3 + tu_rand_below(10);
    int32_t pre[64];
    for (size_t i = 0; i < P; i++)
      pre[i] = (int32_t)tu_rand_below(V);
    gllmk_kv_cache_drop(kv, 0);
    st = fwd_linear(md, kv, 0, pre, P, 0, 0);
    /* variant: roots under an ordinary entry of the batch, or under the cache */
    tree t;
    memset(&t, 0, sizeof t);
    size_t first = 0;
    int32_t root_parent = GLLMK_PARENT_CACHE, root_pos = (int32_t)P;
    if (round % 2) {
      pre[P] = (int32_t)tu_rand_below(V);
      t.b[0] = (gllmk_batch_entry){ pre[P], (int32_t)P, 0, GLLMK_PARENT_NONE };
      first = 1, root_parent = 0, root_pos = (int32_t)P + 1, P++;
    }
    make_tree(&t, first, 4 + tu_rand_below(20), 0, root_parent, root_pos, V);
    int32_t rows[48];
    for (size_t i = 0; i < t.n; i++)
      rows[i] = (int32_t)i;
    if (st == GLLMK_OK)
      st = gllmk_model_forward(md, kv, t.b, t.n, rows, t.n);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(md, 0, t.n, lg);
    if (st != GLLMK_OK) {
      bad_status++;
      diag("round %d: %s (%s)", round, gllmk_strerror(st), gllmk_model_error_message());
      continue;
    }
    gllmk_sampling sp = { 1.0f, 0, 1.0f, 0.0f, 1.0f, 0, 77 };
    int32_t tree_ids[48];
    st = gllmk_model_sample(md, kv, &sp, tree_ids);
    bad_status += st != GLLMK_OK;
    /* every node against its path decoded linearly on sequence 1 */
    for (size_t i = first; i < t.n; i++) {
      int32_t seqtok[64];
      memcpy(seqtok, pre, P * sizeof *seqtok);
      size_t np = node_path(&t, i, seqtok + P, NULL);
      gllmk_kv_cache_drop(kv, 1);
      st = fwd_linear(md, kv, 1, seqtok, P + np, 0, 0);
      if (st == GLLMK_OK)
        st = gllmk_model_read_logits(md, 0, 1, rl);
      if (st != GLLMK_OK) {
        bad_status++;
        continue;
      }
      double e = row_err_f(lg + i * V, rl, V);
      worst = e > worst ? e : worst;
      bad_logits += e > 1e-5;
    }
    /* commit a random leaf's path, then decode one more token on both */
    size_t leaf = first + tu_rand_below(t.n - first);
    int32_t path_tok[16], path_idx[16];
    size_t np = node_path(&t, leaf, path_tok, path_idx);
    /* the tree's forward is no longer the last one (sequence 1 ran since):
     * the commit must be refused; redo the tree forward first */
    st = gllmk_kv_cache_commit(kv, 0, path_idx, np);
    bad_commit += st != GLLMK_E_INVAL;
    st = gllmk_kv_cache_truncate(kv, 0, P - (round % 2));
    if (st == GLLMK_OK)
      st = gllmk_model_forward(md, kv, t.b, t.n, rows, t.n);
    if (st == GLLMK_OK) {
      /* a bad batch in between loses nothing */
      gllmk_batch_entry badb = { (int32_t)V, (int32_t)P, 0, GLLMK_PARENT_NONE };
      bad_status += gllmk_model_forward(md, kv, &badb, 1, rows, 1) != GLLMK_E_INVAL;
      int32_t bad_path[2] = { path_idx[0], path_idx[0] };
      bad_commit += gllmk_kv_cache_commit(kv, 0, bad_path, 2) != GLLMK_E_INVAL;
      st = gllmk_kv_cache_commit(kv, 0, path_idx, np);
    }
    bad_commit += st != GLLMK_OK || gllmk_kv_cache_seq_len(kv, 0) != P + np;
    int32_t next = (int32_t)tu_rand_below(V);
    st = fwd_linear(md, kv, 0, &next, 1, P + np, 0);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(md, 0, 1, lg);
    int32_t seqtok[64];
    memcpy(seqtok, pre, P * sizeof *seqtok);
    memcpy(seqtok + P, path_tok, np * sizeof *seqtok);
    seqtok[P + np] = next;
    gllmk_kv_cache_drop(kv, 1);
    if (st == GLLMK_OK)
      st = fwd_linear(md, kv, 1, seqtok, P + np + 1, 0, 0);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(md, 0, 1, rl);
    bad_commit += st != GLLMK_OK || row_err_f(lg, rl, V) > 1e-5;
    /* the leaf's sampled token, drawn again for the same position of
     * sequence 0 decoded linearly */
    gllmk_kv_cache_truncate(kv, 0, P);
    st = fwd_linear(md, kv, 0, path_tok, np, P, 0);
    int32_t lin_id = -1;
    if (st == GLLMK_OK)
      st = gllmk_model_sample(md, kv, &sp, &lin_id);
    bad_sample += st != GLLMK_OK || lin_id != tree_ids[leaf];
  }
  ok(bad_status == 0, "trees: every forward, sample and reference run succeeded");
  ok(bad_logits == 0, "trees: 8 random trees (depth <= 6, branching <= 4): every node = its path "
     "decoded linearly (max err %.2e of the spread)", worst);
  ok(bad_commit == 0, "trees: commit of a random path, then decoding = the linear decode; stale "
     "and broken paths refused");
  ok(bad_sample == 0, "trees: a node's sampled token = the same position's decoded linearly");
  gllmk_kv_cache_free(kv);
  gllmk_model_free(md);
  free(lg), free(rl);
  free_model(&tm);
}

static void test_batch_and_bad(void)
{
  tmodel tm;
  make_model(&tm, GLLMK_ARCH_LLAMA, 80, 32, 2, 4, 1, 0, 64, 1, 0);
  gllmk_model *md = NULL;
  gllmk_model_params mp = { .max_batch = 32 };
  gllmk_kv_cache *kv = NULL;
  gllmk_status st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_create(md, 3, 24, 5, 10, &kv);   /* 10 pages of 5: not all full at once */
  ok(st == GLLMK_OK, "batch: model and cache (%s)", gllmk_model_error_message());
  if (st != GLLMK_OK)
    return;
  size_t V = 80;
  int32_t a[12], b2[12];
  for (int i = 0; i < 12; i++)
    a[i] = (int32_t)tu_rand_below(V), b2[i] = (int32_t)tu_rand_below(V);
  double *ra = tu_dalloc(12 * V), *rb = tu_dalloc(12 * V);
  ref_forward(&tm, a, 12, ra);
  ref_forward(&tm, b2, 12, rb);
  /* 7 of a (seq 0) and 5 of b (seq 2) interleaved in one batch */
  gllmk_batch_entry bt[12];
  int32_t rows[12];
  size_t ia = 0, ib = 0;
  for (size_t i = 0; i < 12; i++) {
    int take_a = ia < 7 && (ib >= 5 || tu_rand_below(2));
    bt[i] = take_a ? (gllmk_batch_entry){ a[ia], (int32_t)ia, 0, -1 }
                   : (gllmk_batch_entry){ b2[ib], (int32_t)ib, 2, -1 };
    take_a ? ia++ : ib++;
    rows[i] = (int32_t)i;
  }
  float *lg = tu_xmalloc(12 * V * sizeof *lg);
  st = gllmk_model_forward(md, kv, bt, 12, rows, 12);
  if (st == GLLMK_OK)
    st = gllmk_model_read_logits(md, 0, 12, lg);
  double worst = 0;
  for (size_t i = 0; st == GLLMK_OK && i < 12; i++) {
    const double *r = (bt[i].seq == 0 ? ra : rb) + bt[i].pos * V;
    double e = row_err(lg + i * V, r, V);
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "two sequences interleaved in one batch = separate references "
     "(max err %.2e)", worst);
  /* greedy = argmax */
  gllmk_sampling gs = { 0.0f, 0, 1.0f, 0.0f, 1.0f, 0, 1 };
  int32_t ids[12];
  st = gllmk_model_sample(md, kv, &gs, ids);
  int greedy_ok = st == GLLMK_OK;
  for (size_t i = 0; greedy_ok && i < 12; i++) {
    size_t best = 0;
    for (size_t j = 1; j < V; j++)
      if (lg[i * V + j] > lg[i * V + best])
        best = j;
    greedy_ok = ids[i] == (int32_t)best;
  }
  ok(greedy_ok, "greedy sampling = argmax of every row");
  /* the same draws with 1 and 2 threads */
  gllmk_sampling rs = { 0.9f, 20, 0.95f, 0.02f, 1.3f, 8, 4242 };
  int32_t id2[12], id1[12];
  st = gllmk_model_sample(md, kv, &rs, id2);
  int nt = gllmk_get_num_threads();
  gllmk_set_num_threads(1);
  gllmk_status st1 = gllmk_model_sample(md, kv, &rs, id1);
  gllmk_set_num_threads(nt);
  ok(st == GLLMK_OK && st1 == GLLMK_OK && !memcmp(id1, id2, sizeof id1),
     "sampling with penalty, top-k, top-p, min-p: the same ids on 1 and %d threads", nt);

  /* bad batches: refused, nothing changes */
  size_t l0 = gllmk_kv_cache_seq_len(kv, 0), l2 = gllmk_kv_cache_seq_len(kv, 2);
  gllmk_batch_entry bads[][2] = {
    { { (int32_t)V, 7, 0, -1 }, { 1, 8, 0, -1 } },      /* token out of range */
    { { -1, 7, 0, -1 }, { 1, 8, 0, -1 } },              /* negative token */
    { { 1, 7, 0, -1 }, { 1, 9, 0, -1 } },               /* a position gap */
    { { 1, 6, 0, -1 }, { 1, 7, 0, -1 } },               /* a position already cached */
    { { 1, 7, 0, -1 }, { 1, 8, 0, 1 } },                /* parent: itself */
    { { 1, 7, 0, -1 }, { 1, 8, 0, 5 } },                /* parent: a later entry */
    { { 1, 5, 2, -1 }, { 1, 8, 0, 0 } },                /* parent of another sequence */
    { { 1, 7, 0, -1 }, { 1, 9, 0, 0 } },                /* node position not parent + 1 */
    { { 1, 7, 0, -3 }, { 1, 8, 0, -1 } },               /* parent -3 */
    { { 1, 7, 3, -1 }, { 1, 8, 0, -1 } },               /* sequence out of range */
    { { 1, 7, 0, GLLMK_PARENT_CACHE }, { 1, 8, 0, -1 } }, /* ordinary after a node */
    { { 1, 0, 1, GLLMK_PARENT_CACHE }, { 1, 1, 1, 0 } },  /* empty sequence has no parent token */
  };
  int refused = 0;
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    int32_t r2[2] = { 0, 1 };
    st = gllmk_model_forward(md, kv, bads[i], 2, r2, 2);
    refused += st == GLLMK_E_INVAL;
    if (st != GLLMK_E_INVAL)
      diag("bad batch %zu: %s", i, gllmk_strerror(st));
  }
  /* a full cache: 18 more tokens for sequence 0 (24 max) */
  gllmk_batch_entry full[18];
  for (int i = 0; i < 18; i++)
    full[i] = (gllmk_batch_entry){ 1, 7 + i, 0, -1 };
  refused += gllmk_model_forward(md, kv, full, 18, rows, 1) == GLLMK_E_INVAL;
  /* out of pages: sequences 0 and 2 hold 2 + 1 pages of 10; sequence 1 can
   * take 7 pages (35 tokens) but max_tokens is 24 -> 5 pages; then seq 0 +
   * seq 2 growing past the rest is refused */
  gllmk_batch_entry fill[24];
  for (int i = 0; i < 24; i++)
    fill[i] = (gllmk_batch_entry){ 2, i, 1, -1 };
  st = gllmk_model_forward(md, kv, fill, 24, rows, 1);   /* 5 pages: 2 left */
  ok(st == GLLMK_OK, "a third sequence fills its 24 tokens (%s)", gllmk_model_error_message());
  gllmk_batch_entry grow[12];
  for (int i = 0; i < 12; i++)
    grow[i] = (gllmk_batch_entry){ 3, 7 + i, 0, -1 };      /* seq 0 to 19 tokens: 2 more pages */
  grow[11] = (gllmk_batch_entry){ 3, 5, 2, -1 };            /* seq 2 to 6 tokens: 1 more page */
  refused += gllmk_model_forward(md, kv, grow, 12, rows, 1) == GLLMK_E_INVAL;
  ok(refused == (int)(sizeof bads / sizeof bads[0]) + 2,
     "bad batches refused (%d): bad token, position gap or repeat, bad parent, bad sequence, "
     "order, full sequence, no free page", refused);
  ok(gllmk_kv_cache_seq_len(kv, 0) == l0 && gllmk_kv_cache_seq_len(kv, 2) == l2,
     "the refused batches left the lengths alone");
  /* decoding continues as if nothing happened: a[7..11] on seq 0 */
  st = gllmk_kv_cache_drop(kv, 1);
  for (size_t t = 7; st == GLLMK_OK && t < 12; t++) {
    st = fwd_linear(md, kv, 0, a + t, 1, t, 0);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(md, 0, 1, lg);
    double e = st == GLLMK_OK ? row_err(lg, ra + t * V, V) : 1;
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "then decoding = the reference (max err %.2e)", worst);
  /* a draft rolled back with truncate */
  gllmk_batch_entry draft[3] = { { 5, 12, 0, -1 }, { 6, 13, 0, -1 }, { 7, 14, 0, -1 } };
  st = gllmk_model_forward(md, kv, draft, 3, rows, 1);
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_truncate(kv, 0, 9);
  ok(st == GLLMK_OK && gllmk_kv_cache_seq_len(kv, 0) == 9, "truncate a 3-token draft and 3 more");
  worst = 0;
  for (size_t t = 9; st == GLLMK_OK && t < 12; t++) {
    st = fwd_linear(md, kv, 0, a + t, 1, t, 0);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(md, 0, 1, lg);
    double e = st == GLLMK_OK ? row_err(lg, ra + t * V, V) : 1;
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "decoding after truncate = the reference (max err %.2e)", worst);
  gllmk_kv_cache_free(kv);
  gllmk_model_free(md);
  free(ra), free(rb), free(lg);
  free_model(&tm);
}

/* the same model with its matrices in another format: fmt 1 f16, 30 bf16,
 * or a gllmk_qtype; ref gets the weights as the model sees them */
static void test_formats(void)
{
  /* CUDA too when a backend opens (make check: the emulated driver) */
  const char *no = getenv("GLLMK_TEST_NO_CUDA");
  gllmk_backend *cu = NULL;
  if (!(no && *no) && gllmk_backend_open("cuda", &cu) != GLLMK_OK)
    cu = NULL;
  static const struct { uint32_t type; const char *name; double tol; } fm[] = {
    { 1, "f16", 0 }, { 30, "bf16", 0 }, { GLLMK_Q8_0, "q8_0", 1e-2 }, { GLLMK_Q4_K, "q4_K", 1e-2 },
    { GLLMK_Q6_K, "q6_K", 1e-2 }, { GLLMK_AWQ4, "awq4", 1e-2 }, { GLLMK_GPTQ4, "gptq4", 1e-2 },
  };
  for (size_t f = 0; f < sizeof fm / sizeof fm[0]; f++) {
    tmodel tm;
    make_model(&tm, GLLMK_ARCH_LLAMA, 64, 256, 1, 4, 2, 0, 256, 0, 0);
    gllmk_model_tensor qt[256];
    void *owned[256] = { 0 };
    char side_names[256][64];
    memcpy(qt, tm.t, tm.nt * sizeof *qt);
    size_t nq = tm.nt, base_nt = tm.nt;
    int prep_ok = 1;
    for (size_t i = 0; i < base_nt; i++) {
      size_t rows = tm.t[i].ne[1], cols = tm.t[i].ne[0], n = rows * cols;
      if (rows == 1)
        continue;   /* vectors stay f32 */
      float *w = tm.data[i];
      if (fm[f].type == 1 || fm[f].type == 30) {
        uint16_t *h = tu_xmalloc(n * 2);
        for (size_t j = 0; j < n; j++) {
          if (fm[f].type == 1) {
            h[j] = gllmk_f32_to_f16(w[j]).bits;
            w[j] = gllmk_f16_to_f32((gllmk_f16){ h[j] });
          } else {
            h[j] = gllmk_f32_to_bf16(w[j]).bits;
            w[j] = gllmk_bf16_to_f32((gllmk_bf16){ h[j] });
          }
        }
        qt[i].type = fm[f].type, qt[i].data = h, qt[i].bytes = n * 2;
        owned[i] = h;
      } else if (fm[f].type == GLLMK_AWQ4 || fm[f].type == GLLMK_GPTQ4) {
        if (!strcmp(tm.names[i], "token_embd.weight"))
          continue;   /* embeddings stay f32 (AWQ/GPTQ checkpoints keep them in f16) */
        int awq = fm[f].type == GLLMK_AWQ4;
        size_t groups = cols / 128, zb = awq ? rows * ((cols + 255) / 256) : cols * 4;
        uint8_t *packed = tu_xmalloc(rows * cols / 2);
        void *z = tu_xmalloc(zb);
        gllmk_f16 *sc = tu_xmalloc(rows * groups * 2);
        if (awq)
          prep_ok &= gllmk_quant_awq4(w, rows, cols, packed, z, sc) == GLLMK_OK &&
                     gllmk_dequant_awq4(packed, z, sc, w, rows, cols) == GLLMK_OK;
        else
          prep_ok &= gllmk_quant_gptq4(w, rows, cols, 128, packed, z, sc) == GLLMK_OK &&
                     gllmk_dequant_gptq4(packed, z, sc, groups, w, rows, cols) == GLLMK_OK;
        qt[i].type = fm[f].type, qt[i].data = packed, qt[i].bytes = rows * cols / 2;
        owned[i] = packed;
        size_t bl = strlen(tm.names[i]) - 7;
        snprintf(side_names[nq], 64, "%.*s.%s", (int)bl, tm.names[i], awq ? "awq_zeros" : "gptq_g_idx");
        qt[nq] = (gllmk_model_tensor){ side_names[nq], awq ? 0u : 26u, { awq ? zb : cols, 1 }, z, zb };
        owned[nq++] = z;
        snprintf(side_names[nq], 64, "%.*s.%s", (int)bl, tm.names[i], awq ? "awq_scales" : "gptq_scales");
        qt[nq] = (gllmk_model_tensor){ side_names[nq], 1, { groups, rows }, sc, rows * groups * 2 };
        owned[nq++] = sc;
      } else {
        gllmk_qtype t = (gllmk_qtype)fm[f].type;
        size_t bytes = gllmk_qtype_row_bytes(t, cols) * rows;
        void *q = tu_xmalloc(bytes);
        prep_ok &= gllmk_quantize(t, w, n, q, bytes) == GLLMK_OK &&
                   gllmk_dequantize(t, q, bytes, w, n) == GLLMK_OK;
        qt[i].type = fm[f].type, qt[i].data = q, qt[i].bytes = bytes;
        owned[i] = q;
      }
    }
    gllmk_model *md = NULL, *mref = NULL;
    gllmk_kv_cache *kv = NULL, *kvr = NULL;
    gllmk_model_params mp = { .max_batch = 32 };
    gllmk_status st = gllmk_model_create(be, &tm.c, qt, nq, &mp, &md);
    if (st == GLLMK_OK)
      st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &mref);
    if (st == GLLMK_OK)
      st = gllmk_kv_cache_create(md, 1, 32, 16, 0, &kv);
    if (st == GLLMK_OK)
      st = gllmk_kv_cache_create(mref, 1, 32, 16, 0, &kvr);
    int32_t tok[20];
    for (int i = 0; i < 20; i++)
      tok[i] = (int32_t)tu_rand_below(64);
    float *a = tu_xmalloc(20 * 64 * 4), *r = tu_xmalloc(20 * 64 * 4), *refall = tu_xmalloc(20 * 64 * 4);
    double worst = 0;
    /* prefill of 16 (the f32 path of quantized weights), then 4 decode steps (int8 activations) */
    for (int phase = 0; phase < 5 && st == GLLMK_OK; phase++) {
      size_t p0 = phase ? 15 + phase : 0, n = phase ? 1 : 16;
      st = fwd_linear(md, kv, 0, tok + p0, n, p0, 1);
      if (st == GLLMK_OK)
        st = fwd_linear(mref, kvr, 0, tok + p0, n, p0, 1);
      if (st == GLLMK_OK)
        st = gllmk_model_read_logits(md, 0, n, a);
      if (st == GLLMK_OK)
        st = gllmk_model_read_logits(mref, 0, n, r);
      for (size_t t = 0; st == GLLMK_OK && t < n; t++) {
        double e = row_err_f(a + t * 64, r + t * 64, 64);
        worst = e > worst ? e : worst;
      }
      if (st == GLLMK_OK)
        memcpy(refall + p0 * 64, r, n * 64 * sizeof(float));
    }
    /* the same model on CUDA (the emulated driver in make check): the
     * device's decode GEMV (int8 activations, dp4a) and its prefill (W
     * decoded in the workspace + GEMM) against the same reference */
    if (cu && fm[f].tol != 0 && st == GLLMK_OK) {
      gllmk_model *mg = NULL;
      gllmk_kv_cache *kg = NULL;
      double wg = 0;
      gllmk_status sg = gllmk_model_create(cu, &tm.c, qt, nq, &mp, &mg);
      if (sg == GLLMK_OK)
        sg = gllmk_kv_cache_create(mg, 1, 32, 16, 0, &kg);
      for (int phase = 0; phase < 5 && sg == GLLMK_OK; phase++) {
        size_t p0 = phase ? 15 + phase : 0, n = phase ? 1 : 16;
        sg = fwd_linear(mg, kg, 0, tok + p0, n, p0, 1);
        if (sg == GLLMK_OK)
          sg = gllmk_model_read_logits(mg, 0, n, a);
        for (size_t t = 0; sg == GLLMK_OK && t < n; t++) {
          double e = row_err_f(a + t * 64, refall + (p0 + t) * 64, 64);
          wg = e > wg ? e : wg;
        }
      }
      ok(sg == GLLMK_OK && wg < fm[f].tol, "cuda: %s matrices: prefill and decode within %.0e of the "
         "spread of the f32 model (max %.2e; %s)", fm[f].name, fm[f].tol, wg,
         sg == GLLMK_OK ? "ok" : gllmk_model_error_message());
      gllmk_kv_cache_free(kg);
      gllmk_model_free(mg);
    }
    if (fm[f].type == GLLMK_AWQ4 || fm[f].type == GLLMK_GPTQ4) {
      /* the side arrays: one missing, or (GPTQ4) a group index out of range */
      gllmk_model *bad = NULL;
      gllmk_status s1 = gllmk_model_create(be, &tm.c, qt, nq - 1, &mp, &bad);
      int gptq = fm[f].type == GLLMK_GPTQ4;
      int32_t *gi = gptq ? (int32_t *)qt[base_nt].data : NULL, keep = gptq ? gi[3] : 0;
      if (gptq)
        gi[3] = 1000;
      gllmk_model *bad2 = NULL;
      gllmk_status s2 = fm[f].type == GLLMK_GPTQ4 ? gllmk_model_create(be, &tm.c, qt, nq, &mp, &bad2)
                                                 : GLLMK_E_INVAL;
      if (gptq)
        gi[3] = keep;
      ok(s1 == GLLMK_E_INVAL && !bad && s2 == GLLMK_E_INVAL && !bad2,
         "%s: a missing side array or a bad group index is refused (%s)", fm[f].name,
         gllmk_model_error_message());
    }
    if (fm[f].tol == 0)
      ok(prep_ok && st == GLLMK_OK && worst == 0,
         "%s matrices (widened at load) = the f32 model of the same values, bit for bit (%.2e)",
         fm[f].name, worst);
    else
      ok(prep_ok && st == GLLMK_OK && worst < fm[f].tol,
         "%s matrices: prefill and decode within %.0e of the spread of the f32 model of the "
         "decoded weights (max %.2e; int8 activations for decode)", fm[f].name, fm[f].tol, worst);
    if (st != GLLMK_OK)
      diag("%s: %s", gllmk_strerror(st), gllmk_model_error_message());
    gllmk_kv_cache_free(kv);
    gllmk_kv_cache_free(kvr);
    gllmk_model_free(md);
    gllmk_model_free(mref);
    for (size_t i = 0; i < nq; i++)
      free(owned[i]);
    free(a), free(r), free(refall);
    free_model(&tm);
  }
  if (cu)
    gllmk_backend_close(cu);
}

static void test_bad_models(void)
{
  tmodel tm;
  make_model(&tm, GLLMK_ARCH_QWEN3, 32, 32, 1, 4, 2, 8, 32, 0, 0);
  gllmk_model *md = NULL;
  gllmk_model_params mp = { .max_batch = 8 };
  gllmk_status st;
  /* missing tensor */
  tm.nt--;
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_INVAL && md == NULL && strstr(gllmk_model_error_message(), "attn_k_norm"),
     "a missing tensor is named (%s)", gllmk_model_error_message());
  tm.nt++;
  /* wrong shape */
  tm.t[3].ne[0]++;
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_INVAL && md == NULL, "a wrong shape is refused (%s)", gllmk_model_error_message());
  tm.t[3].ne[0]--;
  /* too few bytes */
  tm.t[3].bytes -= 4;
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_INVAL && md == NULL, "a short tensor is refused (%s)", gllmk_model_error_message());
  tm.t[3].bytes += 4;
  /* unsupported type for a vector, unknown type for a matrix */
  tm.t[1].type = GLLMK_Q8_0;
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_INVAL && md == NULL, "a quantized norm is refused (%s)", gllmk_model_error_message());
  tm.t[1].type = 0;
  tm.t[3].type = 24;   /* ggml's i8 */
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_INVAL && md == NULL, "an i8 matrix is refused (%s)", gllmk_model_error_message());
  tm.t[3].type = 0;
  gllmk_model_config c = tm.c;
  c.kv_heads = 3;
  st = gllmk_model_create(be, &c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_INVAL && md == NULL, "heads %% kv_heads != 0 is refused (%s)", gllmk_model_error_message());
  c = tm.c;
  c.arch = (gllmk_arch)9;
  st = gllmk_model_create(be, &c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_E_UNSUPPORTED && md == NULL, "an unknown architecture is refused");
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
  ok(st == GLLMK_OK, "the fixed model loads");
  size_t wb = 0, ab = 0;
  gllmk_model_memory(md, &wb, &ab);
  ok(wb > 0 && ab > 0, "memory: %zu bytes of weights, %zu of activations and inputs", wb, ab);
  gllmk_kv_cache *kv = NULL;
  ok(gllmk_kv_cache_create(md, 0, 8, 4, 0, &kv) == GLLMK_E_INVAL && !kv, "a cache of 0 sequences is refused");
  ok(gllmk_kv_cache_create(md, 1, 8, 0, 0, &kv) == GLLMK_E_INVAL && !kv, "page size 0 is refused");
  ok(gllmk_kv_cache_create(md, SIZE_MAX / 2, SIZE_MAX / 2, 1, 0, &kv) != GLLMK_OK && !kv,
     "a cache whose size overflows is refused");
  gllmk_model_free(md);
  ok(gllmk_model_load_gguf(be, "/nonexistent.gguf", NULL, &md) == GLLMK_E_INVAL && !md,
     "a missing GGUF file (%s)", gllmk_model_error_message());
  free_model(&tm);
}

/* ------------------------------------------------------------------ bert */
static void layernorm(const double *x, const float *w, const float *b, double *out, size_t n,
                      double eps)
{
  double mu = 0, var = 0;
  for (size_t i = 0; i < n; i++)
    mu += x[i];
  mu /= n;
  for (size_t i = 0; i < n; i++)
    var += (x[i] - mu) * (x[i] - mu);
  var /= n;
  double r = 1 / sqrt(var + eps);
  for (size_t i = 0; i < n; i++)
    out[i] = (x[i] - mu) * r * w[i] + b[i];
}

static void make_bert(tmodel *m, size_t vocab, size_t hidden, size_t layers, size_t heads,
                      size_t ffn, size_t ctx, gllmk_pooling pool)
{
  memset(m, 0, sizeof *m);
  gllmk_model_config *c = &m->c;
  c->arch = GLLMK_ARCH_BERT, c->vocab = vocab, c->hidden = hidden, c->layers = layers;
  c->heads = heads, c->ffn = ffn, c->context = ctx, c->norm_eps = 1e-12f, c->type_vocab = 2;
  c->pooling = pool;
  double sh = 1.7 / sqrt((double)hidden), sf = 1.7 / sqrt((double)ffn);
  add_t(m, "token_embd.weight", vocab, hidden, -1, 1);
  add_t(m, "position_embd.weight", ctx, hidden, -0.5, 0.5);
  add_t(m, "token_types.weight", 2, hidden, -0.5, 0.5);
  add_t(m, "token_embd_norm.weight", 1, hidden, 0.8, 1.2);
  add_t(m, "token_embd_norm.bias", 1, hidden, -0.1, 0.1);
  char b[64];
  for (size_t l = 0; l < layers; l++) {
#define T(suffix, r, cl, lo, hi) (snprintf(b, 64, "blk.%zu." suffix, l), add_t(m, b, r, cl, lo, hi))
    T("attn_q.weight", hidden, hidden, -sh, sh);
    T("attn_q.bias", 1, hidden, -0.2, 0.2);
    T("attn_k.weight", hidden, hidden, -sh, sh);
    T("attn_k.bias", 1, hidden, -0.2, 0.2);
    T("attn_v.weight", hidden, hidden, -sh, sh);
    T("attn_v.bias", 1, hidden, -0.2, 0.2);
    T("attn_output.weight", hidden, hidden, -sh, sh);
    T("attn_output.bias", 1, hidden, -0.2, 0.2);
    T("attn_output_norm.weight", 1, hidden, 0.8, 1.2);
    T("attn_output_norm.bias", 1, hidden, -0.1, 0.1);
    T("ffn_up.weight", ffn, hidden, -sh, sh);
    T("ffn_up.bias", 1, ffn, -0.2, 0.2);
    T("ffn_down.weight", hidden, ffn, -sf, sf);
    T("ffn_down.bias", 1, hidden, -0.2, 0.2);
    T("layer_output_norm.weight", 1, hidden, 0.8, 1.2);
    T("layer_output_norm.bias", 1, hidden, -0.1, 0.1);
#undef T
  }
  if (pool == GLLMK_POOL_RANK) {
    add_t(m, "cls.weight", hidden, hidden, -sh, sh);
    add_t(m, "cls.bias", 1, hidden, -0.2, 0.2);
    add_t(m, "cls.output.weight", 1, hidden, -sh, sh);
    add_t(m, "cls.output.bias", 1, 1, -0.2, 0.2);
  }
}

/* the final states [T x hidden] of one sequence */
static void ref_bert(const tmodel *m, const int32_t *tok, const int32_t *typ, size_t T, double *x)
{
  const gllmk_model_config *c = &m->c;
  size_t H = c->hidden, hd = H / c->heads, F = c->ffn;
  double *q = tu_dalloc(T * H), *k = tu_dalloc(T * H), *v = tu_dalloc(T * H), *a = tu_dalloc(T * H);
  double *o = tu_dalloc(H), *g = tu_dalloc(F), *p = tu_dalloc(T);
  const float *e = get_t(m, "token_embd.weight"), *pe = get_t(m, "position_embd.weight");
  const float *te = get_t(m, "token_types.weight");
  for (size_t t = 0; t < T; t++) {
    for (size_t j = 0; j < H; j++)
      x[t * H + j] = (double)e[tok[t] * H + j] + pe[t * H + j] + te[(typ ? typ[t] : 0) * H + j];
    layernorm(x + t * H, get_t(m, "token_embd_norm.weight"), get_t(m, "token_embd_norm.bias"),
              x + t * H, H, c->norm_eps);
  }
  char b[64];
  for (size_t l = 0; l < c->layers; l++) {
#define G(suffix) (snprintf(b, 64, "blk.%zu." suffix, l), get_t(m, b))
    for (size_t t = 0; t < T; t++) {
      matvec(G("attn_q.weight"), x + t * H, q + t * H, H, H);
      matvec(G("attn_k.weight"), x + t * H, k + t * H, H, H);
      matvec(G("attn_v.weight"), x + t * H, v + t * H, H, H);
      for (size_t j = 0; j < H; j++) {
        q[t * H + j] += G("attn_q.bias")[j];
        k[t * H + j] += G("attn_k.bias")[j];
        v[t * H + j] += G("attn_v.bias")[j];
      }
    }
    for (size_t t = 0; t < T; t++)
      for (size_t h = 0; h < c->heads; h++) {
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < T; j++) {
          double s = 0;
          for (size_t d = 0; d < hd; d++)
            s += q[t * H + h * hd + d] * k[j * H + h * hd + d];
          p[j] = s / sqrt((double)hd);
          mx = p[j] > mx ? p[j] : mx;
        }
        for (size_t j = 0; j < T; j++)
          sum += p[j] = exp(p[j] - mx);
        for (size_t d = 0; d < hd; d++) {
          double acc = 0;
          for (size_t j = 0; j < T; j++)
            acc += p[j] * v[j * H + h * hd + d];
          a[t * H + h * hd + d] = acc / sum;
        }
      }
    for (size_t t = 0; t < T; t++) {
      matvec(G("attn_output.weight"), a + t * H, o, H, H);
      for (size_t j = 0; j < H; j++)
        x[t * H + j] += o[j] + G("attn_output.bias")[j];
      layernorm(x + t * H, G("attn_output_norm.weight"), G("attn_output_norm.bias"), x + t * H, H,
                c->norm_eps);
      matvec(G("ffn_up.weight"), x + t * H, g, F, H);
      for (size_t j = 0; j < F; j++) {
        double z = g[j] + G("ffn_up.bias")[j];
        g[j] = 0.5 * z * (1 + erf(z / sqrt(2.0)));
      }
      matvec(G("ffn_down.weight"), g, o, H, F);
      for (size_t j = 0; j < H; j++)
        x[t * H + j] += o[j] + G("ffn_down.bias")[j];
      layernorm(x + t * H, G("layer_output_norm.weight"), G("layer_output_norm.bias"), x + t * H, H,
                c->norm_eps);
    }
#undef G
  }
  free(q), free(k), free(v), free(a), free(o), free(g), free(p);
}

static void test_bert(void)
{
  enum { V = 50, H = 32, NS = 4 };
  static const gllmk_pooling pools[] = { GLLMK_POOL_MEAN, GLLMK_POOL_CLS, GLLMK_POOL_RANK };
  static const char *const pnames[] = { "mean", "cls", "rank" };
  for (int pi = 0; pi < 3; pi++) {
    tmodel tm;
    make_bert(&tm, V, H, 2, 4, 48, 20, pools[pi]);
    gllmk_model *md = NULL;
    gllmk_model_params mp = { .max_batch = 40, .max_rows = 8 };
    gllmk_status st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &md);
    ok(st == GLLMK_OK, "bert %s: created (%s)", pnames[pi], gllmk_model_error_message());
    if (st != GLLMK_OK) {
      free_model(&tm);
      continue;
    }
    size_t lens[NS] = { 1, 7, 12, 5 }, total = 25;
    int32_t tok[25], typ[25];
    for (size_t i = 0; i < total; i++)
      tok[i] = (int32_t)tu_rand_below(V), typ[i] = (int32_t)tu_rand_below(2);
    double *x = tu_dalloc(20 * H);
    float out[NS * H];
    double worst = 0;
    if (pools[pi] == GLLMK_POOL_RANK) {
      float sc[NS];
      st = gllmk_model_rerank(md, tok, typ, lens, NS, sc);
      for (size_t i = 0, s0 = 0; st == GLLMK_OK && i < NS; s0 += lens[i++]) {
        ref_bert(&tm, tok + s0, typ + s0, lens[i], x);
        double hcls[H], r = get_t(&tm, "cls.output.bias")[0];
        matvec(get_t(&tm, "cls.weight"), x, hcls, H, H);
        for (size_t j = 0; j < H; j++)
          r += get_t(&tm, "cls.output.weight")[j] * tanh(hcls[j] + get_t(&tm, "cls.bias")[j]);
        double e = fabs(sc[i] - r) / (1 + fabs(r));
        worst = e > worst ? e : worst;
      }
      ok(st == GLLMK_OK && worst < 1e-4, "bert rank: cross-encoder scores of 4 sequences (token "
         "types 0/1) = reference (max err %.2e)", worst);
    } else {
      for (int norm = 0; norm < 2; norm++) {
        worst = 0;
        st = gllmk_model_embed(md, tok, typ, lens, NS, norm, out);
        for (size_t i = 0, s0 = 0; st == GLLMK_OK && i < NS; s0 += lens[i++]) {
          ref_bert(&tm, tok + s0, typ + s0, lens[i], x);
          double pooled[H], nn = 0;
          for (size_t j = 0; j < H; j++) {
            pooled[j] = 0;
            if (pools[pi] == GLLMK_POOL_CLS)
              pooled[j] = x[j];
            else
              for (size_t t = 0; t < lens[i]; t++)
                pooled[j] += x[t * H + j] / lens[i];
            nn += pooled[j] * pooled[j];
          }
          for (size_t j = 0; j < H; j++) {
            double r = norm ? pooled[j] / sqrt(nn) : pooled[j];
            double e = fabs(out[i * H + j] - r) / (norm ? 1 : 1 + fabs(r));
            worst = e > worst ? e : worst;
          }
        }
        ok(st == GLLMK_OK && worst < 1e-5, "bert %s: embeddings of 4 sequences (1..12 tokens, token "
           "types), %s = reference (max err %.2e)", pnames[pi], norm ? "L2-normalised" : "raw", worst);
      }
    }
    /* bad input */
    size_t one = 1, big = 21, zero = 0;
    int32_t badt = V, badty = 2;
    int refused = 0;
    refused += gllmk_model_embed(md, &badt, NULL, &one, 1, true, out) == GLLMK_E_INVAL;
    refused += gllmk_model_embed(md, tok, &badty, &one, 1, true, out) == GLLMK_E_INVAL;
    refused += gllmk_model_embed(md, tok, NULL, &zero, 1, true, out) == GLLMK_E_INVAL;
    refused += gllmk_model_embed(md, tok, NULL, &big, 1, true, out) == GLLMK_E_INVAL;
    size_t many[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    refused += gllmk_model_embed(md, tok, NULL, many, 9, true, out) == GLLMK_E_INVAL;
    gllmk_kv_cache *kv = NULL;
    refused += gllmk_kv_cache_create(md, 1, 8, 4, 0, &kv) == GLLMK_E_UNSUPPORTED;
    ok(refused == 6, "bert %s: bad token, bad type, empty or too long sequence, too many sequences, "
       "a KV cache: refused (%d)", pnames[pi], refused);
    if (pools[pi] != GLLMK_POOL_RANK) {
      float sc;
      ok(gllmk_model_rerank(md, tok, NULL, &one, 1, &sc) == GLLMK_E_UNSUPPORTED,
         "bert %s: no classifier head, no rerank", pnames[pi]);
    }
    /* the same encoder on CUDA (make check: the emulated driver) = the CPU */
    const char *no = getenv("GLLMK_TEST_NO_CUDA");
    gllmk_backend *cu = NULL;
    if (!(no && *no) && gllmk_backend_open("cuda", &cu) == GLLMK_OK) {
      gllmk_model *mg = NULL;
      float oc[NS * H], og[NS * H];
      size_t nout = pools[pi] == GLLMK_POOL_RANK ? NS : NS * H;
      st = gllmk_model_create(cu, &tm.c, tm.t, tm.nt, &mp, &mg);
      if (st == GLLMK_OK)
        st = pools[pi] == GLLMK_POOL_RANK ? gllmk_model_rerank(md, tok, typ, lens, NS, oc)
                                          : gllmk_model_embed(md, tok, typ, lens, NS, true, oc);
      if (st == GLLMK_OK)
        st = pools[pi] == GLLMK_POOL_RANK ? gllmk_model_rerank(mg, tok, typ, lens, NS, og)
                                          : gllmk_model_embed(mg, tok, typ, lens, NS, true, og);
      worst = 0;
      for (size_t i = 0; st == GLLMK_OK && i < nout; i++) {
        double e = fabs((double)og[i] - oc[i]) / (1 + fabs((double)oc[i]));
        worst = e > worst ? e : worst;
      }
      ok(st == GLLMK_OK && worst < 1e-5, "cuda: bert %s = the CPU backend (max err %.2e; %s)",
         pnames[pi], worst, st == GLLMK_OK ? "ok" : gllmk_model_error_message());
      gllmk_model_free(mg);
      gllmk_backend_close(cu);
    }
    free(x);
    gllmk_model_free(md);
    free_model(&tm);
  }
}

/* two models on one backend: the second one's larger workspace must not
 * break the first one's recorded decode graph */
static void test_two_models(void)
{
  tmodel ta, tb;
  make_model(&ta, GLLMK_ARCH_LLAMA, 40, 32, 1, 4, 2, 0, 48, 0, 0);
  make_model(&tb, GLLMK_ARCH_QWEN3, 300, 128, 1, 8, 2, 32, 512, 0, 0);
  gllmk_model *a = NULL, *b = NULL;
  gllmk_kv_cache *ka = NULL, *kb = NULL;
  gllmk_model_params pa = { .max_batch = 8 }, pb = { .max_batch = 256 };
  int32_t tok[10];
  for (int i = 0; i < 10; i++)
    tok[i] = (int32_t)tu_rand_below(40);
  double *ref = tu_dalloc(10 * 40);
  ref_forward(&ta, tok, 10, ref);
  float lg[40];
  double worst = 0;
  gllmk_status st = gllmk_model_create(be, &ta.c, ta.t, ta.nt, &pa, &a);
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_create(a, 1, 16, 4, 0, &ka);
  for (size_t t = 0; st == GLLMK_OK && t < 10; t++) {
    if (t == 5) {   /* a decode graph of a exists: a larger model arrives */
      st = gllmk_model_create(be, &tb.c, tb.t, tb.nt, &pb, &b);
      if (st == GLLMK_OK)
        st = gllmk_kv_cache_create(b, 2, 300, 16, 0, &kb);
      if (st != GLLMK_OK)
        break;
    }
    st = fwd_linear(a, ka, 0, tok + t, 1, t, 0);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(a, 0, 1, lg);
    double e = st == GLLMK_OK ? row_err(lg, ref + t * 40, 40) : 1;
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "two models on one backend: the second's larger workspace "
     "(its create) does not break the first's decode graph (max err %.2e; %s)", worst,
     gllmk_model_error_message());
  gllmk_kv_cache_free(ka);
  gllmk_kv_cache_free(kb);
  gllmk_model_free(a);
  gllmk_model_free(b);
  free(ref);
  free_model(&ta);
  free_model(&tb);
}

/* the same model on the CUDA backend (in make check: the emulated driver,
 * every kernel run on the CPU): prefill (blocked attention), decode steps
 * (tree attention, recorded as a graph and replayed), a token tree; logits
 * against the CPU backend's, sampled ids equal */
static void test_cuda(void)
{
  const char *no = getenv("GLLMK_TEST_NO_CUDA");
  gllmk_backend *cu = NULL;
  gllmk_status st = no && *no ? GLLMK_E_NO_DEVICE : gllmk_backend_open("cuda", &cu);
  if (st != GLLMK_OK) {
    skip("cuda backend: %s", no && *no ? "GLLMK_TEST_NO_CUDA" : gllmk_strerror(st));
    return;
  }
  tmodel tm;
  make_model(&tm, GLLMK_ARCH_QWEN2, 64, 32, 2, 4, 2, 0, 48, 0, 0);
  gllmk_model *mc = NULL, *mg = NULL;
  gllmk_kv_cache *kc = NULL, *kg = NULL;
  gllmk_model_params mp = { .max_batch = 24 };
  st = gllmk_model_create(be, &tm.c, tm.t, tm.nt, &mp, &mc);
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_create(mc, 2, 40, 4, 0, &kc);
  if (st != GLLMK_OK) {
    ok(0, "cuda: the CPU model (%s)", gllmk_model_error_message());
    gllmk_backend_close(cu);
    free_model(&tm);
    return;
  }
  st = gllmk_model_create(cu, &tm.c, tm.t, tm.nt, &mp, &mg);
  if (st == GLLMK_E_UNSUPPORTED) {
    skip("cuda backend: %s", gllmk_model_error_message());
    gllmk_kv_cache_free(kc);
    gllmk_model_free(mc);
    gllmk_backend_close(cu);
    free_model(&tm);
    return;
  }
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_create(mg, 2, 40, 4, 0, &kg);
  ok(st == GLLMK_OK, "cuda: model and cache on %s (%s)", gllmk_backend_name(cu),
     gllmk_model_error_message());
  float lc[24 * 64], lg[24 * 64];
  double worst = 0;
  int same_ids = 1;
  gllmk_sampling sp = { .temperature = 0.9f, .top_k = 20, .top_p = 0.95f, .repeat_penalty = 1.1f,
                        .repeat_window = 8, .seed = 5 };
  int32_t tok[20];
  for (int i = 0; i < 20; i++)
    tok[i] = (int32_t)tu_rand_below(64);
  /* prefill 12 (eager), then 6 decode steps (graph), on both */
  for (int step = 0; step < 7 && st == GLLMK_OK; step++) {
    size_t p0 = step ? 11 + step : 0, n = step ? 1 : 12;
    int32_t idc[12], idg[12];
    st = fwd_linear(mc, kc, 1, tok + p0, n, p0, 1);
    if (st == GLLMK_OK) st = fwd_linear(mg, kg, 1, tok + p0, n, p0, 1);
    if (st == GLLMK_OK) st = gllmk_model_read_logits(mc, 0, n, lc);
    if (st == GLLMK_OK) st = gllmk_model_read_logits(mg, 0, n, lg);
    if (st == GLLMK_OK) st = gllmk_model_sample(mc, kc, &sp, idc);
    if (st == GLLMK_OK) st = gllmk_model_sample(mg, kg, &sp, idg);
    for (size_t r = 0; st == GLLMK_OK && r < n; r++) {
      double e = row_err_f(lg + r * 64, lc + r * 64, 64);
      worst = e > worst ? e : worst;
      same_ids &= idc[r] == idg[r];
    }
  }
  ok(st == GLLMK_OK && worst < 1e-4 && same_ids, "cuda: prefill of 12 and 6 replayed decode steps "
     "= the CPU backend (max err %.2e of the spread), the same sampled ids (%s)", worst,
     st == GLLMK_OK ? "ok" : gllmk_model_error_message());
  /* a token tree over sequence 1's cache, on both */
  tree t;
  memset(&t, 0, sizeof t);
  make_tree(&t, 0, 10, 1, GLLMK_PARENT_CACHE, 18, 64);
  int32_t rows[48];
  for (size_t i = 0; i < t.n; i++)
    rows[i] = (int32_t)i;
  worst = 0;
  if (st == GLLMK_OK) st = gllmk_model_forward(mc, kc, t.b, t.n, rows, t.n);
  if (st == GLLMK_OK) st = gllmk_model_forward(mg, kg, t.b, t.n, rows, t.n);
  if (st == GLLMK_OK) st = gllmk_model_read_logits(mc, 0, t.n, lc);
  if (st == GLLMK_OK) st = gllmk_model_read_logits(mg, 0, t.n, lg);
  for (size_t r = 0; st == GLLMK_OK && r < t.n; r++) {
    double e = row_err_f(lg + r * 64, lc + r * 64, 64);
    worst = e > worst ? e : worst;
  }
  ok(st == GLLMK_OK && worst < 1e-4, "cuda: a 10-node token tree = the CPU backend (max err %.2e)",
     worst);
  gllmk_kv_cache_free(kc);
  gllmk_kv_cache_free(kg);
  gllmk_model_free(mc);
  gllmk_model_free(mg);
  gllmk_backend_close(cu);
  free_model(&tm);
}

int main(void)
{
  tu_init();
  gllmk_status st = gllmk_backend_open("cpu", &be);
  if (st != GLLMK_OK) {
    printf("Bail out! cpu backend: %s\n", gllmk_strerror(st));
    return 1;
  }
  test_reference("llama", GLLMK_ARCH_LLAMA, 0, 0, 0);
  test_reference("llama tied, llama-3 rope", GLLMK_ARCH_LLAMA, 0, 1, 1);
  test_reference("qwen2", GLLMK_ARCH_QWEN2, 0, 0, 0);
  test_reference("qwen3 head_dim 16", GLLMK_ARCH_QWEN3, 16, 0, 0);
  test_trees();
  test_batch_and_bad();
  test_formats();
  test_bad_models();
  test_bert();
  test_two_models();
  test_cuda();
  gllmk_backend_close(be);
  return done_testing();
}
