/* model.c -- gllmk_model and gllmk_kv_cache: decoder models on a backend
 * SPDX-License-Identifier: MIT
 *
 * Everything runs through the backend's f32 op table (gllmk_ops_f32), so a
 * model runs wherever those ops are implemented.  One forward pass:
 *
 *   x = embed(ids)
 *   per layer:  xn = rms_norm(x);  q, k, v = xn . Wq/Wk/Wv^T (+ bias)
 *               [qwen3: rms_norm per head of q and k]
 *               rope(q), rope(k) with the cos/sin rows of each entry's
 *               position (gathered from the model's tables)
 *               kv_store(k, v) at each entry's slot
 *               a = tree_attention(q) over each entry's visible set
 *               x += a . Wo^T
 *               xn = rms_norm(x);  x += (silu(xn . Wg^T) * (xn . Wu^T)) . Wd^T
 *   logits = rms_norm(x[rows]) . Wout^T
 *
 * The host works out, before anything runs, each entry's slot, its visible
 * set (ctx tokens of its sequence plus the slots of its tree ancestors) and
 * the pages the batch needs; a bad batch is refused then, with nothing
 * changed.  The per-step inputs go up in one upload; with a decode-sized
 * batch the ops are recorded once as a graph and replayed.
 */
#include "core/internal.h"
#include <gllmk/model.h>
#include <gllmk/gguf.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char model_message[320];

static gllmk_status fail(gllmk_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(model_message, sizeof model_message, fmt, ap);
  va_end(ap);
  return st;
}

const char *gllmk_model_error_message(void) { return model_message; }

/* the largest repetition window gllmk_model_sample takes */
#define MAX_WINDOW 1024
/* batches of at most this many entries are recorded as a graph and replayed */
#define GRAPH_MAX_BATCH 8

/* ------------------------------------------------------------------ structures */

/* a weight inside the model's buffer: f32 (qt 0) or a GGUF block format */
struct wt {
  size_t off, bytes;
  gllmk_qtype qt;    /* 0: f32 */
  size_t rows, cols;
  bool present;
  /* AWQ4: zero points at zoff, f16 scales at soff; GPTQ4: g_idx at zoff,
   * scales [rows x groups] at soff */
  size_t zoff, soff, groups;
};

struct layer {
  struct wt attn_norm, wq, wk, wv, wo, bq, bk, bv, qn, kn, ffn_norm, wg, wu, wd;
  /* bert: output and FFN biases, the post-LayerNorms (weight, bias) */
  struct wt bo, bu, bd, ano_w, ano_b, lno_w, lno_b;
};

/* one entry of the last forward, kept for sampling and commit */
struct entry {
  int32_t token, pos, seq, parent;
  uint32_t slot, ctx;
  bool node;
};

struct gllmk_model {
  gllmk_backend *be;
  const gllmk_ops_f32 *o;
  gllmk_model_config cfg;
  size_t max_batch, max_rows, max_extra, n_ctx;   /* n_ctx: rows of the rope tables */
  size_t qd, kd, half;                            /* heads*head_dim, kv_heads*head_dim, rotary/2 */
  bool interleaved;
  gllmk_buffer *w;                                /* weights + rope tables */
  size_t w_bytes;
  struct wt tok, out_norm, out, rcos, rsin;
  /* bert: position and token-type embeddings, their LayerNorm, the
   * classifier head, and hidden values of 1/sqrt(hidden) (L2 normalisation
   * is rms_norm with these weights) */
  struct wt pos, typ, en_w, en_b, cls_w, cls_b, clo_w, clo_b, invh;
  struct layer *L;
  gllmk_buffer *a;                                /* activations */
  size_t a_bytes;
  size_t x, xn, q, k, v, att, g, u, t, ones, bt, cs, sn, hr, hn, lg, pw;   /* offsets in a */
  gllmk_buffer *in;                               /* per-step inputs (32-bit) */
  size_t in_bytes;
  size_t i_ids, i_pos, i_seq, i_slot, i_ctx, i_xs, i_extra, i_rows, i_rng, i_recent, i_out;
  uint32_t *h_in;                                 /* host staging of the inputs */
  size_t ws_model;                                /* workspace the model's ops need */
  /* the last forward */
  struct entry *ent, *ent_next;       /* ent_next: the batch being checked */
  size_t n_ent;
  int32_t *rows;
  size_t n_rows;
  gllmk_kv_cache *last_kv;
  /* the graph of the last decode-sized batch */
  gllmk_graph *graph;
  gllmk_kv_cache *g_kv;
  size_t g_n, g_rows, g_extra;
  int n_caches;
  gllmk_model *next;                  /* the list of live models (models_lock) */
};

/* every live model: growing a backend's workspace must first drop the graphs
 * of every model on that backend (the backend refuses while one exists) */
static pthread_mutex_t models_lock = PTHREAD_MUTEX_INITIALIZER;
static gllmk_model *models;

struct gllmk_kv_cache {
  gllmk_model *m;
  size_t n_seqs, max_tokens, page_size, n_pages, max_pages, row;   /* row: kv_heads * head_dim */
  gllmk_buffer *buf;                  /* per layer K then V, then the page table */
  size_t layer_bytes, pt_off, bytes;
  uint32_t *pt;                       /* host copy [n_seqs x max_pages]; n_pages = unmapped */
  uint32_t *free_pages;
  size_t n_free;
  size_t *len;
  size_t *mapped;                     /* pages mapped per sequence */
  int32_t *tokens;                    /* [n_seqs x max_tokens] committed tokens */
  uint64_t *gen;                      /* per sequence: the forward that last wrote its nodes */
  uint64_t fwd;                       /* forwards so far */
  bool pt_dirty;
  size_t *s_lin, *s_nodes, *s_top;    /* forward's per-sequence scratch (zero between calls) */
};

static inline float *fptr(gllmk_buffer *b, size_t off) {
  return (float *)((char *)gllmk_buffer_data(b) + off);
}
static inline uint32_t *uptr(gllmk_buffer *b, size_t off) {
  return (uint32_t *)((char *)gllmk_buffer_data(b) + off);
}
static inline void *vptr(gllmk_buffer *b, size_t off) { return (char *)gllmk_buffer_data(b) + off; }

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

/* ------------------------------------------------------------------ config */

static gllmk_status check_config(gllmk_model_config *c) {
  if (c->arch != GLLMK_ARCH_LLAMA && c->arch != GLLMK_ARCH_QWEN2 && c->arch != GLLMK_ARCH_QWEN3 &&
      c->arch != GLLMK_ARCH_BERT)
    return fail(GLLMK_E_UNSUPPORTED, "unknown architecture %d", (int)c->arch);
  if (c->arch == GLLMK_ARCH_BERT) {
    if (!c->kv_heads) c->kv_heads = c->heads;
    if (!c->type_vocab) c->type_vocab = 2;
    if (!c->pooling) c->pooling = GLLMK_POOL_MEAN;
    if (c->pooling != GLLMK_POOL_MEAN && c->pooling != GLLMK_POOL_CLS && c->pooling != GLLMK_POOL_RANK)
      return fail(GLLMK_E_UNSUPPORTED, "pooling %d (gllmk has mean, cls and rank)", (int)c->pooling);
    if (c->kv_heads != c->heads) return fail(GLLMK_E_INVAL, "bert: kv_heads must equal heads");
    if (c->type_vocab > INT32_MAX) return fail(GLLMK_E_OVERFLOW, "type_vocab too large");
    if (!c->context) c->context = 512;
  }
  if (!c->vocab || !c->hidden || !c->layers || !c->heads || !c->kv_heads || !c->ffn)
    return fail(GLLMK_E_INVAL, "vocab, hidden, layers, heads, kv_heads and ffn must be > 0");
  if (c->heads % c->kv_heads)
    return fail(GLLMK_E_INVAL, "heads (%zu) is not a multiple of kv_heads (%zu)", c->heads, c->kv_heads);
  if (!c->head_dim) {
    if (c->hidden % c->heads) return fail(GLLMK_E_INVAL, "hidden is not a multiple of heads");
    c->head_dim = c->hidden / c->heads;
  }
  if (!c->rotary_dim) c->rotary_dim = c->head_dim;
  if (c->rotary_dim > c->head_dim || c->rotary_dim % 2)
    return fail(GLLMK_E_INVAL, "rotary_dim %zu: must be even and <= head_dim %zu", c->rotary_dim,
                c->head_dim);
  if (c->vocab > INT32_MAX || c->hidden > (1u << 24) || c->ffn > (1u << 26) || c->layers > 4096 ||
      c->heads > 4096 || c->head_dim > 4096)
    return fail(GLLMK_E_OVERFLOW, "a dimension of the config is too large");
  if (!c->context) c->context = 4096;
  if (c->context > INT32_MAX) return fail(GLLMK_E_OVERFLOW, "context too large");
  if (!(c->norm_eps >= 0.0f) || !isfinite(c->norm_eps))
    return fail(GLLMK_E_INVAL, "norm_eps must be finite and >= 0");
  if (c->rope_theta == 0.0f) c->rope_theta = 10000.0f;
  if (!(c->rope_theta > 0.0f) || !isfinite(c->rope_theta))
    return fail(GLLMK_E_INVAL, "rope_theta must be positive");
  if (c->rope_scale_factor != 0.0f &&
      (!(c->rope_scale_factor > 0.0f) || !isfinite(c->rope_scale_factor) ||
       !(c->rope_low_freq > 0.0f) || !(c->rope_high_freq > c->rope_low_freq) ||
       !c->rope_orig_context))
    return fail(GLLMK_E_INVAL, "llama-3 rope scaling needs factor > 0, 0 < low_freq < "
                "high_freq and the original context");
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ tensors */

static const gllmk_model_tensor *find(const gllmk_model_tensor *t, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (t[i].name && strcmp(t[i].name, name) == 0) return &t[i];
  return NULL;
}

/* a tensor's place in the weight buffer: matrix (rows x cols, any format)
 * or vector (cols, stored f32) */
static gllmk_status plan_tensor(const gllmk_model_tensor *t, const char *name, size_t rows,
                                size_t cols, bool matrix, struct wt *w, size_t *off) {
  if (!t->data && t->bytes) return fail(GLLMK_E_INVAL, "%s: no data", name);
  if (t->ne[0] != cols || t->ne[1] != (matrix ? rows : 1))
    return fail(GLLMK_E_INVAL, "%s: shape [%llu x %llu], expected [%zu x %zu]", name,
                (unsigned long long)t->ne[1], (unsigned long long)t->ne[0], matrix ? rows : 1,
                cols);
  size_t need, store;
  w->rows = matrix ? rows : 1;
  w->cols = cols;
  w->qt = (gllmk_qtype)0;
  if (t->type == GLLMK_GGUF_TENSOR_F32 || t->type == GLLMK_GGUF_TENSOR_F16 ||
      t->type == GLLMK_GGUF_TENSOR_BF16) {
    size_t es = t->type == GLLMK_GGUF_TENSOR_F32 ? 4 : 2;
    if (!gllmk__mul3(w->rows, cols, es, &need) || !gllmk__mul3(w->rows, cols, 4, &store))
      return fail(GLLMK_E_OVERFLOW, "%s: too large", name);
  } else {
    gllmk_qtype q = (gllmk_qtype)t->type;
    bool side = q == GLLMK_AWQ4 || q == GLLMK_GPTQ4;   /* the rest: plan_side */
    if (!matrix || (t->type >= 200 && !side) || gllmk_qtype_block_size(q) == 0)
      return fail(GLLMK_E_INVAL, "%s: type %u is not one gllmk computes with here", name,
                  (unsigned)t->type);
    size_t rb = gllmk_qtype_row_bytes(q, cols);
    if (!rb) return fail(GLLMK_E_INVAL, "%s: row of %zu values is not whole %s blocks", name, cols,
                         gllmk_qtype_name(q));
    if (!gllmk__mul(rows, rb, &need)) return fail(GLLMK_E_OVERFLOW, "%s: too large", name);
    store = need;
    w->qt = q;
  }
  if (t->bytes < need)
    return fail(GLLMK_E_INVAL, "%s: %zu bytes, its shape needs %zu", name, t->bytes, need);
  w->bytes = store;
  w->off = *off;
  w->present = true;
  if (!gllmk__add(*off, align64(store), off)) return fail(GLLMK_E_OVERFLOW, "weights too large");
  return GLLMK_OK;
}

/* copy a planned tensor into the weight buffer, widening f16/bf16 to f32 */
/* AWQ4 / GPTQ4 matrices: their side arrays, tensors "<base>.awq_zeros" (raw
 * bytes [rows x ceil(cols/256)]) and "<base>.awq_scales" (f16 [rows x
 * cols/128]), or "<base>.gptq_g_idx" (int32 [cols], ggml type 26) and
 * "<base>.gptq_scales" (f16 [rows x groups]); base is the name less
 * ".weight".  *z, *sc get them. */
static gllmk_status plan_side(const gllmk_model_tensor *tensors, size_t n_tensors, const char *name,
                              struct wt *w, size_t *off, const gllmk_model_tensor **z,
                              const gllmk_model_tensor **sc) {
  char base[64], zn[80], sn[80];
  size_t bl = strlen(name) > 7 ? strlen(name) - 7 : 0;   /* less ".weight" */
  snprintf(base, sizeof base, "%.*s", (int)bl, name);
  bool awq = w->qt == GLLMK_AWQ4;
  snprintf(zn, sizeof zn, "%s.%s", base, awq ? "awq_zeros" : "gptq_g_idx");
  snprintf(sn, sizeof sn, "%s.%s", base, awq ? "awq_scales" : "gptq_scales");
  *z = find(tensors, n_tensors, zn);
  *sc = find(tensors, n_tensors, sn);
  if (!*z || !*sc) return fail(GLLMK_E_INVAL, "%s: %s needs %s and %s", name,
                               awq ? "AWQ4" : "GPTQ4", zn, sn);
  size_t zb, sb, n = w->rows, k = w->cols;
  if (awq) {
    w->groups = k / 128;
    if (!gllmk__mul(n, (k + 255) / 256, &zb) || !gllmk__mul3(n, w->groups, 2, &sb))
      return fail(GLLMK_E_OVERFLOW, "%s: too large", name);
    if ((*sc)->type != GLLMK_GGUF_TENSOR_F16 || (*sc)->ne[0] != w->groups || (*sc)->ne[1] != n)
      return fail(GLLMK_E_INVAL, "%s: f16 [%zu x %zu] expected", sn, n, w->groups);
  } else {
    w->groups = (*sc)->ne[0];
    if ((*z)->type != 26 || (*z)->ne[0] != k || (*z)->ne[1] != 1)
      return fail(GLLMK_E_INVAL, "%s: int32 [%zu] expected", zn, k);
    if ((*sc)->type != GLLMK_GGUF_TENSOR_F16 || (*sc)->ne[1] != n || w->groups == 0 ||
        w->groups > k || !gllmk__mul3(n, w->groups, 2, &sb))
      return fail(GLLMK_E_INVAL, "%s: f16 [%zu x groups] expected", sn, n);
    zb = k * 4;
    const unsigned char *gi = (*z)->data;
    for (size_t j = 0; gi && (*z)->bytes >= zb && j < k; j++) {
      int32_t g;
      memcpy(&g, gi + 4 * j, 4);
      if (g < 0 || (size_t)g >= w->groups)
        return fail(GLLMK_E_INVAL, "%s: entry %zu (%d) is not a group of %zu", zn, j, (int)g, w->groups);
    }
  }
  if ((*z)->bytes < zb || !(*z)->data || (*sc)->bytes < sb || !(*sc)->data)
    return fail(GLLMK_E_INVAL, "%s or %s: too short", zn, sn);
  w->zoff = *off;
  *off += align64(zb);
  w->soff = *off;
  *off += align64(sb);
  return GLLMK_OK;
}

static gllmk_status upload_side(gllmk_buffer *b, const struct wt *w, const gllmk_model_tensor *z,
                                const gllmk_model_tensor *sc) {
  size_t zb = w->qt == GLLMK_AWQ4 ? w->rows * ((w->cols + 255) / 256) : w->cols * 4;
  gllmk_status st = gllmk_buffer_upload(b, w->zoff, z->data, zb);
  if (st == GLLMK_OK) st = gllmk_buffer_upload(b, w->soff, sc->data, w->rows * w->groups * 2);
  return st;
}

static gllmk_status upload_tensor(gllmk_buffer *b, const gllmk_model_tensor *t, const struct wt *w) {
  if (w->qt || t->type == GLLMK_GGUF_TENSOR_F32)
    return gllmk_buffer_upload(b, w->off, t->data, w->bytes);
  size_t n = w->rows * w->cols, chunk = 1 << 16;
  float *tmp = malloc((n < chunk ? n : chunk) * sizeof *tmp);
  if (!tmp) return GLLMK_E_NOMEM;
  const uint16_t *src = t->data;
  gllmk_status st = GLLMK_OK;
  for (size_t i = 0; i < n && st == GLLMK_OK; i += chunk) {
    size_t c = n - i < chunk ? n - i : chunk;
    for (size_t j = 0; j < c; j++) {
      uint16_t h;
      memcpy(&h, src + i + j, 2);
      tmp[j] = t->type == GLLMK_GGUF_TENSOR_F16 ? gllmk_f16_to_f32((gllmk_f16){h})
                                                  : gllmk_bf16_to_f32((gllmk_bf16){h});
    }
    st = gllmk_buffer_upload(b, w->off + i * 4, tmp, c * 4);
  }
  free(tmp);
  return st;
}

/* ------------------------------------------------------------------ rope tables */

/* cos/sin [n_ctx x half] of position p, frequency i: p * theta^(-2i/rotary)
 * divided by div[i] (llama.cpp's rope_freqs, or the llama-3 scaling) */
static gllmk_status upload_rope(gllmk_model *m, const float *freq_div) {
  const gllmk_model_config *c = &m->cfg;
  size_t half = m->half, n = m->n_ctx;
  double *freq = malloc(half * sizeof *freq);
  float *cs = malloc(half * sizeof *cs), *sn = malloc(half * sizeof *sn);
  gllmk_status st = GLLMK_OK;
  if (!freq || !cs || !sn) st = GLLMK_E_NOMEM;
  for (size_t i = 0; st == GLLMK_OK && i < half; i++) {
    double f = pow((double)c->rope_theta, -2.0 * (double)i / (double)c->rotary_dim);
    if (freq_div) {
      f /= (double)freq_div[i];
    } else if (c->rope_scale_factor != 0.0f) {
      double orig = (double)c->rope_orig_context, lf = c->rope_low_freq, hf = c->rope_high_freq;
      double wavelen = 2.0 * M_PI / f;
      if (wavelen > orig / lf) {
        f /= c->rope_scale_factor;
      } else if (wavelen >= orig / hf) {
        double smooth = (orig / wavelen - lf) / (hf - lf);
        f = (1.0 - smooth) * f / c->rope_scale_factor + smooth * f;
      }
    }
    freq[i] = f;
  }
  for (size_t p = 0; st == GLLMK_OK && p < n; p++) {
    for (size_t i = 0; i < half; i++) {
      double a = (double)p * freq[i];
      cs[i] = (float)cos(a);
      sn[i] = (float)sin(a);
    }
    st = gllmk_buffer_upload(m->w, m->rcos.off + p * half * 4, cs, half * 4);
    if (st == GLLMK_OK) st = gllmk_buffer_upload(m->w, m->rsin.off + p * half * 4, sn, half * 4);
  }
  free(freq), free(cs), free(sn);
  return st;
}

/* ------------------------------------------------------------------ workspace */

/* the most any op of a forward pass of up to max_batch entries can draw */
static gllmk_status model_ws(gllmk_model *m, size_t *out) {
  const gllmk_ops_f32 *o = m->o;
  const gllmk_model_config *c = &m->cfg;
  gllmk_backend *be = m->be;
  size_t best = 0, b;
  size_t ms[6] = {1, 8, 9, 16, m->max_batch, m->max_rows};
  gllmk_status st = GLLMK_OK;
#define NEED(call)                                 \
  do {                                             \
    b = 0;                                         \
    gllmk_status s_ = (call);                      \
    if (s_ != GLLMK_OK) st = s_;                   \
    if (b > best) best = b;                        \
  } while (0)
  for (int i = 0; i < 6; i++) {
    size_t n = ms[i];
    if (n > m->max_batch) continue;
    for (size_t l = 0; l < c->layers; l++) {
      const struct layer *Ll = &m->L[l];
      const struct wt *lw[7] = {&Ll->wq, &Ll->wk, &Ll->wv, &Ll->wo, &Ll->wg, &Ll->wu, &Ll->wd};
      for (int j = 0; j < 7; j++) {
        const struct wt *w = lw[j];
        if (w->qt == GLLMK_AWQ4) NEED(o->awq_matmul_workspace_bytes(be, w->bytes, n, w->rows, w->cols, &b));
        else if (w->qt == GLLMK_GPTQ4)
          NEED(o->gptq_matmul_workspace_bytes(be, w->bytes, w->groups, n, w->rows, w->cols, &b));
        else if (w->qt) NEED(o->fused_dequant_gemv_workspace_bytes(be, w->bytes, w->qt, n, w->rows, w->cols, &b));
        else NEED(o->linear_workspace_bytes(be, n, w->rows, w->cols, &b));
      }
    }
    if (n <= m->max_rows) {
      if (m->out.qt == GLLMK_AWQ4)
        NEED(o->awq_matmul_workspace_bytes(be, m->out.bytes, n, m->out.rows, m->out.cols, &b));
      else if (m->out.qt == GLLMK_GPTQ4)
        NEED(o->gptq_matmul_workspace_bytes(be, m->out.bytes, m->out.groups, n, m->out.rows, m->out.cols, &b));
      else if (m->out.qt) NEED(o->fused_dequant_gemv_workspace_bytes(be, m->out.bytes, m->out.qt, n, m->out.rows, m->out.cols, &b));
      else NEED(o->linear_workspace_bytes(be, n, m->out.rows, m->out.cols, &b));
      NEED(o->embedding_lookup_workspace_bytes(be, n, m->max_batch, c->hidden, &b));
      NEED(o->rms_norm_workspace_bytes(be, n, c->hidden, &b));
    }
    NEED(o->linear_workspace_bytes(be, n, m->qd > m->kd ? m->qd : m->kd, 1, &b));
    NEED(o->vec_add_workspace_bytes(be, n * (m->qd > c->hidden ? m->qd : c->hidden), &b));
    NEED(o->vec_add_workspace_bytes(be, n * c->ffn, &b));
    NEED(o->rms_norm_workspace_bytes(be, n, c->hidden, &b));
    NEED(o->rms_norm_workspace_bytes(be, n * c->heads, c->head_dim, &b));
    NEED(o->embedding_lookup_workspace_bytes(be, n, m->n_ctx, m->half, &b));
    if (m->tok.qt) NEED(o->embedding_lookup_q_workspace_bytes(be, n, m->tok.bytes, m->tok.qt, c->vocab, c->hidden, &b));
    else NEED(o->embedding_lookup_workspace_bytes(be, n, c->vocab, c->hidden, &b));
    NEED(o->rope_workspace_bytes(be, n, c->heads, c->head_dim, c->rotary_dim, m->interleaved, &b));
    NEED(o->swiglu_workspace_bytes(be, n * c->ffn, &b));
  }
  NEED(o->sample_workspace_bytes(be, m->max_rows, c->vocab, MAX_WINDOW, 0, &b));
  if (c->arch == GLLMK_ARCH_BERT) {
    size_t N = m->max_batch, R = m->max_rows;
    NEED(o->layer_norm_workspace_bytes(be, N, c->hidden, &b));
    NEED(o->gelu_workspace_bytes(be, N * c->ffn, &b));
    NEED(o->tanh_workspace_bytes(be, R * c->hidden, &b));
    NEED(o->embedding_lookup_workspace_bytes(be, N, c->context, c->hidden, &b));
    NEED(o->embedding_lookup_workspace_bytes(be, N, c->type_vocab, c->hidden, &b));
    NEED(o->embedding_lookup_workspace_bytes(be, R, N, c->hidden, &b));
    NEED(o->rms_norm_workspace_bytes(be, R, c->hidden, &b));
    for (size_t n = 1; n <= N; n = n < N && 2 * n > N ? N : 2 * n) {
      NEED(o->flash_attention_workspace_bytes(be, n, n, c->heads, c->heads, c->head_dim, false, &b));
      NEED(o->gemm_workspace_bytes(be, 1, c->hidden, n, &b));
    }
    const struct wt *hw[2] = {&m->cls_w, &m->clo_w};
    for (int j = 0; j < 2; j++)
      if (hw[j]->present) {
        if (hw[j]->qt)
          NEED(o->fused_dequant_gemv_workspace_bytes(be, hw[j]->bytes, hw[j]->qt, R, hw[j]->rows, hw[j]->cols, &b));
        else
          NEED(o->linear_workspace_bytes(be, R, hw[j]->rows, hw[j]->cols, &b));
      }
  }
#undef NEED
  *out = best;
  return st;
}

static gllmk_status kv_ws(gllmk_kv_cache *kv, size_t *out) {
  gllmk_model *m = kv->m;
  const gllmk_model_config *c = &m->cfg;
  size_t best = 0, b = 0;
  size_t ns[4] = {1, 8, 16, m->max_batch};
  for (int i = 0; i < 4; i++) {
    size_t n = ns[i] < m->max_batch ? ns[i] : m->max_batch;
    gllmk_status st = m->o->tree_attention_workspace_bytes(
        m->be, n, c->heads, c->kv_heads, c->head_dim, kv->page_size, kv->n_pages, kv->n_seqs,
        kv->max_pages, m->max_extra, &b);
    if (st != GLLMK_OK) return st;
    if (b > best) best = b;
    st = m->o->kv_store_workspace_bytes(m->be, n, c->kv_heads, c->head_dim, kv->page_size,
                                        kv->n_pages, kv->n_seqs, kv->max_pages, &b);
    if (st != GLLMK_OK) return st;
    if (b > best) best = b;
  }
  *out = best;
  return GLLMK_OK;
}

static void drop_graph(gllmk_model *m) {
  gllmk_graph_free(m->graph);
  m->graph = NULL;
  m->g_kv = NULL;
}

/* grow the backend's workspace to bytes (the graphs of every model on that
 * backend, recorded with the old one, go; they are recorded again) */
static gllmk_status reserve(gllmk_model *m, size_t bytes) {
  if (gllmk_backend_workspace_size(m->be) >= bytes) return GLLMK_OK;
  drop_graph(m);
  pthread_mutex_lock(&models_lock);
  for (gllmk_model *o = models; o; o = o->next)
    if (o->be == m->be) drop_graph(o);
  pthread_mutex_unlock(&models_lock);
  return gllmk_backend_reserve_workspace(m->be, bytes);
}

static void unlist(gllmk_model *m) {
  pthread_mutex_lock(&models_lock);
  for (gllmk_model **p = &models; *p; p = &(*p)->next)
    if (*p == m) {
      *p = m->next;
      break;
    }
  pthread_mutex_unlock(&models_lock);
}

/* ------------------------------------------------------------------ create */

void gllmk_model_free(gllmk_model *m) {
  if (!m) return;
  unlist(m);
  drop_graph(m);
  gllmk_buffer_free(m->w);
  gllmk_buffer_free(m->a);
  gllmk_buffer_free(m->in);
  free(m->L);
  free(m->h_in);
  free(m->ent);
  free(m->ent_next);
  free(m->rows);
  free(m);
}

const gllmk_model_config *gllmk_model_get_config(const gllmk_model *m) { return m ? &m->cfg : NULL; }

gllmk_status gllmk_model_memory(const gllmk_model *m, size_t *weight_bytes, size_t *activation_bytes) {
  if (!m) return GLLMK_E_INVAL;
  if (weight_bytes) *weight_bytes = m->w_bytes;
  if (activation_bytes) *activation_bytes = m->a_bytes + m->in_bytes;
  return GLLMK_OK;
}

/* lay out the activation and input buffers */
static gllmk_status plan_buffers(gllmk_model *m) {
  const gllmk_model_config *c = &m->cfg;
  size_t N = m->max_batch, R = m->max_rows, H = c->hidden, off = 0, x;
  size_t wide = H > m->qd ? H : m->qd;
  struct { size_t *at; size_t a, b; } fl[] = {
      {&m->x, N, H},        {&m->xn, N, H},         {&m->q, N, m->qd},  {&m->k, N, m->kd},
      {&m->v, N, m->kd},    {&m->att, N, m->qd},    {&m->g, N, c->ffn}, {&m->u, N, c->ffn},
      {&m->t, N, wide},     {&m->ones, N, 1},       {&m->bt, N, wide},  {&m->cs, N, m->half},
      {&m->sn, N, m->half}, {&m->hr, R, H},         {&m->hn, R, H},
      {&m->lg, R, c->arch == GLLMK_ARCH_BERT ? H : c->vocab},   {&m->pw, N, 1},
  };
  for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
    *fl[i].at = off;
    if (!gllmk__mul3(fl[i].a, fl[i].b, 4, &x) || !gllmk__add(off, align64(x), &off))
      return fail(GLLMK_E_OVERFLOW, "activations too large for max_batch %zu", N);
  }
  m->a_bytes = off;
  off = 0;
  struct { size_t *at; size_t n; } in[] = {
      {&m->i_ids, N},   {&m->i_pos, N},         {&m->i_seq, N},          {&m->i_slot, N},
      {&m->i_ctx, N},   {&m->i_xs, N + 1},      {&m->i_extra, m->max_extra},
      {&m->i_rows, R},  {&m->i_rng, 2 * R},     {&m->i_recent, R * MAX_WINDOW}, {&m->i_out, R},
  };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    *in[i].at = off;
    if (!gllmk__mul(in[i].n, 4, &x) || !gllmk__add(off, align64(x), &off))
      return fail(GLLMK_E_OVERFLOW, "inputs too large");
  }
  m->in_bytes = off;
  return GLLMK_OK;
}

gllmk_status gllmk_model_create(gllmk_backend *be, const gllmk_model_config *cfg,
                                const gllmk_model_tensor *tensors, size_t n_tensors,
                                const gllmk_model_params *params, gllmk_model **out) {
  model_message[0] = 0;
  if (out) *out = NULL;
  if (!be || !cfg || !out || (n_tensors && !tensors))
    return fail(GLLMK_E_INVAL, "NULL backend, config, tensors or output");
  gllmk_model *m = calloc(1, sizeof *m);
  if (!m) return fail(GLLMK_E_NOMEM, "out of memory");
  gllmk_status st;
  m->be = be;
  m->o = gllmk_backend_ops_f32(be);
  m->cfg = *cfg;
  pthread_mutex_lock(&models_lock);
  m->next = models;
  models = m;
  pthread_mutex_unlock(&models_lock);
  if ((st = check_config(&m->cfg)) != GLLMK_OK) goto out;
  const gllmk_model_config *c = &m->cfg;
  m->max_batch = params && params->max_batch ? params->max_batch : 512;
  m->max_rows = params && params->max_rows ? params->max_rows : m->max_batch;
  m->max_extra = params && params->max_extra ? params->max_extra : 16 * m->max_batch;
  if (m->max_batch > (1u << 20) || m->max_rows > m->max_batch || m->max_extra > (1u << 28)) {
    st = fail(GLLMK_E_INVAL, "max_batch (%zu) at most 2^20, max_rows (%zu) at most max_batch, "
              "max_extra (%zu) at most 2^28", m->max_batch, m->max_rows, m->max_extra);
    goto out;
  }
  m->n_ctx = c->context < 32768 ? c->context : 32768;
  if (params && params->max_context && params->max_context < m->n_ctx &&
      c->arch != GLLMK_ARCH_BERT)
    m->n_ctx = params->max_context;
  m->qd = c->heads * c->head_dim;
  m->kd = c->kv_heads * c->head_dim;
  m->half = c->rotary_dim / 2;
  m->interleaved = c->arch == GLLMK_ARCH_LLAMA;   /* llama.cpp's NORM rope; qwen: NEOX */
  m->L = calloc(c->layers, sizeof *m->L);
  if (!m->L) { st = fail(GLLMK_E_NOMEM, "out of memory"); goto out; }

  /* plan the weight buffer */
  size_t off = 0;
  struct req { const char *name; struct wt *w; size_t rows, cols; bool matrix, optional; };
  char (*names)[64] = calloc(c->layers * 16 + 16, 64);
  struct req *rq = calloc(c->layers * 16 + 16, sizeof *rq);
  const gllmk_model_tensor **src = calloc(c->layers * 16 + 16, sizeof *src);
  const gllmk_model_tensor **sz = calloc(c->layers * 16 + 16, sizeof *sz);
  const gllmk_model_tensor **ss = calloc(c->layers * 16 + 16, sizeof *ss);
  size_t nr = 0;
  if (!names || !rq || !src || !sz || !ss) { st = fail(GLLMK_E_NOMEM, "out of memory"); goto out_plan; }
#define REQ(nm, wp, r, cl, mat, opt)                                   \
  do {                                                                 \
    snprintf(names[nr], 64, "%s", nm);                                 \
    rq[nr] = (struct req){names[nr], wp, r, cl, mat, opt};             \
    nr++;                                                              \
  } while (0)
  REQ("token_embd.weight", &m->tok, c->vocab, c->hidden, true, false);
  if (c->arch == GLLMK_ARCH_BERT) {
    bool rank = c->pooling == GLLMK_POOL_RANK;
    REQ("position_embd.weight", &m->pos, c->context, c->hidden, true, false);
    REQ("token_types.weight", &m->typ, c->type_vocab, c->hidden, true, false);
    REQ("token_embd_norm.weight", &m->en_w, 1, c->hidden, false, false);
    REQ("token_embd_norm.bias", &m->en_b, 1, c->hidden, false, false);
    REQ("cls.weight", &m->cls_w, c->hidden, c->hidden, true, !rank);
    REQ("cls.bias", &m->cls_b, 1, c->hidden, false, !rank);
    const gllmk_model_tensor *co = find(tensors, n_tensors, "cls.output.weight");
    size_t n_cls = co && co->ne[1] ? (size_t)co->ne[1] : 1;
    if (n_cls > c->hidden) n_cls = 1;   /* refused by the shape check */
    REQ("cls.output.weight", &m->clo_w, n_cls, c->hidden, true, !rank);
    REQ("cls.output.bias", &m->clo_b, 1, n_cls, false, !rank);
  } else {
    REQ("output_norm.weight", &m->out_norm, 1, c->hidden, false, false);
    REQ("output.weight", &m->out, c->vocab, c->hidden, true, true);
  }
  for (size_t l = 0; l < c->layers; l++) {
    struct layer *L = &m->L[l];
    char b[64];
#define LREQ(suffix, wp, r, cl, mat, opt)                              \
    do {                                                               \
      snprintf(b, sizeof b, "blk.%zu.%s", l, suffix);                  \
      REQ(b, wp, r, cl, mat, opt);                                     \
    } while (0)
    if (c->arch == GLLMK_ARCH_BERT) {
      LREQ("attn_q.weight", &L->wq, m->qd, c->hidden, true, false);
      LREQ("attn_k.weight", &L->wk, m->kd, c->hidden, true, false);
      LREQ("attn_v.weight", &L->wv, m->kd, c->hidden, true, false);
      LREQ("attn_q.bias", &L->bq, 1, m->qd, false, false);
      LREQ("attn_k.bias", &L->bk, 1, m->kd, false, false);
      LREQ("attn_v.bias", &L->bv, 1, m->kd, false, false);
      LREQ("attn_output.weight", &L->wo, c->hidden, m->qd, true, false);
      LREQ("attn_output.bias", &L->bo, 1, c->hidden, false, false);
      LREQ("attn_output_norm.weight", &L->ano_w, 1, c->hidden, false, false);
      LREQ("attn_output_norm.bias", &L->ano_b, 1, c->hidden, false, false);
      LREQ("ffn_up.weight", &L->wu, c->ffn, c->hidden, true, false);
      LREQ("ffn_up.bias", &L->bu, 1, c->ffn, false, false);
      LREQ("ffn_down.weight", &L->wd, c->hidden, c->ffn, true, false);
      LREQ("ffn_down.bias", &L->bd, 1, c->hidden, false, false);
      LREQ("layer_output_norm.weight", &L->lno_w, 1, c->hidden, false, false);
      LREQ("layer_output_norm.bias", &L->lno_b, 1, c->hidden, false, false);
      continue;
    }
    LREQ("attn_norm.weight", &L->attn_norm, 1, c->hidden, false, false);
    LREQ("attn_q.weight", &L->wq, m->qd, c->hidden, true, false);
    LREQ("attn_k.weight", &L->wk, m->kd, c->hidden, true, false);
    LREQ("attn_v.weight", &L->wv, m->kd, c->hidden, true, false);
    LREQ("attn_output.weight", &L->wo, c->hidden, m->qd, true, false);
    LREQ("ffn_norm.weight", &L->ffn_norm, 1, c->hidden, false, false);
    LREQ("ffn_gate.weight", &L->wg, c->ffn, c->hidden, true, false);
    LREQ("ffn_up.weight", &L->wu, c->ffn, c->hidden, true, false);
    LREQ("ffn_down.weight", &L->wd, c->hidden, c->ffn, true, false);
    bool qwen2 = c->arch == GLLMK_ARCH_QWEN2, qwen3 = c->arch == GLLMK_ARCH_QWEN3;
    /* biases: required by qwen2, taken when present otherwise */
    LREQ("attn_q.bias", &L->bq, 1, m->qd, false, !qwen2);
    LREQ("attn_k.bias", &L->bk, 1, m->kd, false, !qwen2);
    LREQ("attn_v.bias", &L->bv, 1, m->kd, false, !qwen2);
    if (qwen3) {
      LREQ("attn_q_norm.weight", &L->qn, 1, c->head_dim, false, false);
      LREQ("attn_k_norm.weight", &L->kn, 1, c->head_dim, false, false);
    }
#undef LREQ
  }
#undef REQ
  for (size_t i = 0; i < nr; i++) {
    src[i] = find(tensors, n_tensors, rq[i].name);
    if (!src[i]) {
      if (rq[i].optional) continue;
      st = fail(GLLMK_E_INVAL, "tensor %s is missing", rq[i].name);
      goto out_plan;
    }
    if ((st = plan_tensor(src[i], rq[i].name, rq[i].rows, rq[i].cols, rq[i].matrix, rq[i].w, &off)) != GLLMK_OK)
      goto out_plan;
    if (rq[i].w->qt == GLLMK_AWQ4 || rq[i].w->qt == GLLMK_GPTQ4) {
      if (rq[i].w == &m->tok) {   /* a gather needs a self-contained format */
        st = fail(GLLMK_E_INVAL, "%s: AWQ4/GPTQ4 embeddings are not supported", rq[i].name);
        goto out_plan;
      }
      if ((st = plan_side(tensors, n_tensors, rq[i].name, rq[i].w, &off, &sz[i], &ss[i])) != GLLMK_OK)
        goto out_plan;
    }
  }
  /* rope_freqs.weight: per-frequency divisors (llama-3 scaling as llama.cpp stores it) */
  const gllmk_model_tensor *rf = find(tensors, n_tensors, "rope_freqs.weight");
  float *div = NULL;
  if (rf) {
    if (rf->type != GLLMK_GGUF_TENSOR_F32 || rf->ne[0] != m->half || rf->ne[1] != 1 ||
        rf->bytes < m->half * 4 || !rf->data) {
      st = fail(GLLMK_E_INVAL, "rope_freqs.weight: expected %zu f32 values", m->half);
      goto out_plan;
    }
    div = malloc(m->half * sizeof *div);
    if (!div) { st = fail(GLLMK_E_NOMEM, "out of memory"); goto out_plan; }
    memcpy(div, rf->data, m->half * 4);
    for (size_t i = 0; i < m->half; i++)
      if (!(div[i] > 0.0f) || !isfinite(div[i])) {
        st = fail(GLLMK_E_INVAL, "rope_freqs.weight: value %zu is not positive", i);
        goto out_div;
      }
  }
  bool bert = c->arch == GLLMK_ARCH_BERT;
  size_t ropen = bert ? 0 : m->n_ctx;   /* encoders: absolute positions, no rope tables */
  m->rcos = (struct wt){.off = off, .bytes = ropen * m->half * 4, .rows = ropen, .cols = m->half,
                        .present = true};
  off += align64(m->rcos.bytes);
  m->rsin = (struct wt){.off = off, .bytes = ropen * m->half * 4, .rows = ropen, .cols = m->half,
                        .present = true};
  off += align64(m->rsin.bytes);
  if (bert) {
    m->invh = (struct wt){.off = off, .bytes = c->hidden * 4, .rows = 1, .cols = c->hidden,
                          .present = true};
    off += align64(m->invh.bytes);
  }
  if (!m->out.present) m->out = m->tok;   /* tied output embedding */
  m->w_bytes = off;
  if ((st = gllmk_buffer_alloc(be, off, &m->w)) != GLLMK_OK) {
    fail(st, "cannot allocate %zu bytes of weights on %s", off, gllmk_backend_name(be));
    goto out_div;
  }
  for (size_t i = 0; i < nr; i++)
    if (src[i] && ((st = upload_tensor(m->w, src[i], rq[i].w)) != GLLMK_OK ||
                   (sz[i] && (st = upload_side(m->w, rq[i].w, sz[i], ss[i])) != GLLMK_OK))) {
      fail(st, "uploading %s failed", rq[i].name);
      goto out_div;
    }
  if (!bert && (st = upload_rope(m, div)) != GLLMK_OK) {
    fail(st, "uploading the rope tables failed");
    goto out_div;
  }
  if (bert) {
    float *iv = malloc(c->hidden * sizeof *iv);
    if (!iv) { st = fail(GLLMK_E_NOMEM, "out of memory"); goto out_div; }
    for (size_t i = 0; i < c->hidden; i++) iv[i] = (float)(1.0 / sqrt((double)c->hidden));
    st = gllmk_buffer_upload(m->w, m->invh.off, iv, c->hidden * 4);
    free(iv);
    if (st != GLLMK_OK) goto out_div;
  }

  /* activations, inputs, workspace */
  if ((st = plan_buffers(m)) != GLLMK_OK) goto out_div;
  if ((st = gllmk_buffer_alloc(be, m->a_bytes, &m->a)) != GLLMK_OK ||
      (st = gllmk_buffer_alloc(be, m->in_bytes, &m->in)) != GLLMK_OK) {
    fail(st, "cannot allocate the activations (%zu + %zu bytes)", m->a_bytes, m->in_bytes);
    goto out_div;
  }
  m->h_in = malloc(m->in_bytes);
  m->ent = malloc(m->max_batch * sizeof *m->ent);
  m->ent_next = malloc(m->max_batch * sizeof *m->ent);
  m->rows = malloc(m->max_rows * sizeof *m->rows);
  if (!m->h_in || !m->ent || !m->ent_next || !m->rows) { st = fail(GLLMK_E_NOMEM, "out of memory"); goto out_div; }
  {
    float *ones = malloc(m->max_batch * sizeof *ones);
    if (!ones) { st = fail(GLLMK_E_NOMEM, "out of memory"); goto out_div; }
    for (size_t i = 0; i < m->max_batch; i++) ones[i] = 1.0f;
    st = gllmk_buffer_upload(m->a, m->ones, ones, m->max_batch * 4);
    free(ones);
    if (st != GLLMK_OK) goto out_div;
  }
  if ((st = model_ws(m, &m->ws_model)) != GLLMK_OK) {
    fail(st, "backend %s cannot run this model (%s)", gllmk_backend_name(be), gllmk_strerror(st));
    goto out_div;
  }
  if ((st = reserve(m, m->ws_model)) != GLLMK_OK) {
    fail(st, "cannot reserve a workspace of %zu bytes", m->ws_model);
    goto out_div;
  }
  st = gllmk_backend_synchronize(be);
out_div:
  free(div);
out_plan:
  free(names), free(rq), free(src), free(sz), free(ss);
out:
  if (st != GLLMK_OK) {
    if (!model_message[0]) fail(st, "%s", gllmk_strerror(st));
    gllmk_model_free(m);
    return st;
  }
  *out = m;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ KV cache */

void gllmk_kv_cache_free(gllmk_kv_cache *kv) {
  if (!kv) return;
  if (kv->m) {
    if (kv->m->g_kv == kv) drop_graph(kv->m);
    if (kv->m->last_kv == kv) kv->m->last_kv = NULL, kv->m->n_rows = 0;
    kv->m->n_caches--;
  }
  gllmk_buffer_free(kv->buf);
  free(kv->pt), free(kv->free_pages), free(kv->len), free(kv->mapped), free(kv->tokens);
  free(kv->gen), free(kv->s_lin), free(kv->s_nodes), free(kv->s_top);
  free(kv);
}

size_t gllmk_kv_cache_bytes(const gllmk_kv_cache *kv) { return kv ? kv->bytes : 0; }

size_t gllmk_kv_cache_seq_len(const gllmk_kv_cache *kv, size_t seq) {
  return kv && seq < kv->n_seqs ? kv->len[seq] : 0;
}

gllmk_status gllmk_kv_cache_create(gllmk_model *m, size_t n_seqs, size_t max_tokens,
                                   size_t page_size, size_t n_pages, gllmk_kv_cache **out) {
  model_message[0] = 0;
  if (out) *out = NULL;
  if (!m || !out) return fail(GLLMK_E_INVAL, "NULL model or output");
  if (m->cfg.arch == GLLMK_ARCH_BERT)
    return fail(GLLMK_E_UNSUPPORTED, "an encoder has no KV cache: use gllmk_model_embed");
  if (!n_seqs || !max_tokens || !page_size)
    return fail(GLLMK_E_INVAL, "n_seqs, max_tokens and page_size must be > 0");
  if (n_seqs > INT32_MAX || max_tokens > INT32_MAX || page_size > max_tokens + page_size)
    return fail(GLLMK_E_OVERFLOW, "n_seqs or max_tokens too large");
  size_t max_pages = (max_tokens + page_size - 1) / page_size, x;
  if (!n_pages && !gllmk__mul(n_seqs, max_pages, &n_pages))
    return fail(GLLMK_E_OVERFLOW, "too many pages");
  if (n_pages >= UINT32_MAX) return fail(GLLMK_E_OVERFLOW, "too many pages");
  gllmk_kv_cache *kv = calloc(1, sizeof *kv);
  if (!kv) return fail(GLLMK_E_NOMEM, "out of memory");
  kv->m = m;
  m->n_caches++;
  kv->n_seqs = n_seqs, kv->max_tokens = max_tokens, kv->page_size = page_size;
  kv->n_pages = n_pages, kv->max_pages = max_pages, kv->row = m->kd;
  gllmk_status st = GLLMK_OK;
  size_t pt_n;
  if (!gllmk__mul(n_seqs, max_pages, &pt_n) || !gllmk__mul3(n_pages, page_size, kv->row * 4, &x) ||
      !gllmk__mul(align64(x), 2 * m->cfg.layers, &kv->pt_off) ||
      !gllmk__add(kv->pt_off, pt_n * 4, &kv->bytes) || !gllmk__mul(n_seqs, max_tokens, &x)) {
    st = fail(GLLMK_E_OVERFLOW, "the cache does not fit in size_t");
    goto out;
  }
  kv->layer_bytes = align64(n_pages * page_size * kv->row * 4);
  kv->pt = malloc(pt_n * sizeof *kv->pt);
  kv->free_pages = malloc(n_pages * sizeof *kv->free_pages);
  kv->len = calloc(n_seqs, sizeof *kv->len);
  kv->mapped = calloc(n_seqs, sizeof *kv->mapped);
  kv->gen = calloc(n_seqs, sizeof *kv->gen);
  kv->tokens = malloc(x * sizeof *kv->tokens);
  kv->s_lin = calloc(n_seqs, sizeof *kv->s_lin);
  kv->s_nodes = calloc(n_seqs, sizeof *kv->s_nodes);
  kv->s_top = calloc(n_seqs, sizeof *kv->s_top);
  if (!kv->pt || !kv->free_pages || !kv->len || !kv->mapped || !kv->gen || !kv->tokens ||
      !kv->s_lin || !kv->s_nodes || !kv->s_top) {
    st = fail(GLLMK_E_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < pt_n; i++) kv->pt[i] = (uint32_t)n_pages;
  for (size_t i = 0; i < n_pages; i++) kv->free_pages[i] = (uint32_t)(n_pages - 1 - i);
  kv->n_free = n_pages;
  if ((st = gllmk_buffer_alloc(m->be, kv->bytes, &kv->buf)) != GLLMK_OK) {
    fail(st, "cannot allocate %zu bytes of KV cache", kv->bytes);
    goto out;
  }
  if ((st = gllmk_buffer_upload(kv->buf, kv->pt_off, kv->pt, pt_n * 4)) != GLLMK_OK) goto out;
  size_t ws;
  if ((st = kv_ws(kv, &ws)) != GLLMK_OK) {
    fail(st, "backend %s cannot run attention over this cache", gllmk_backend_name(m->be));
    goto out;
  }
  if ((st = reserve(m, ws > m->ws_model ? ws : m->ws_model)) != GLLMK_OK) {
    fail(st, "cannot reserve a workspace of %zu bytes", ws);
    goto out;
  }
out:
  if (st != GLLMK_OK) {
    gllmk_kv_cache_free(kv);
    return st;
  }
  *out = kv;
  return GLLMK_OK;
}

/* map pages so that sequence s holds slots 0 .. upto-1 (the caller checked
 * that enough pages are free) */
static void map_pages(gllmk_kv_cache *kv, size_t s, size_t upto) {
  size_t need = (upto + kv->page_size - 1) / kv->page_size;
  while (kv->mapped[s] < need) {
    kv->pt[s * kv->max_pages + kv->mapped[s]] = kv->free_pages[--kv->n_free];
    kv->mapped[s]++;
    kv->pt_dirty = true;
  }
}

static void unmap_pages(gllmk_kv_cache *kv, size_t s, size_t upto) {
  size_t need = (upto + kv->page_size - 1) / kv->page_size;
  while (kv->mapped[s] > need) {
    uint32_t *e = &kv->pt[s * kv->max_pages + --kv->mapped[s]];
    kv->free_pages[kv->n_free++] = *e;
    *e = (uint32_t)kv->n_pages;
    kv->pt_dirty = true;
  }
}

static gllmk_status sync_pt(gllmk_kv_cache *kv) {
  if (!kv->pt_dirty) return GLLMK_OK;
  gllmk_status st = gllmk_buffer_upload(kv->buf, kv->pt_off, kv->pt, kv->n_seqs * kv->max_pages * 4);
  if (st == GLLMK_OK) kv->pt_dirty = false;
  return st;
}

gllmk_status gllmk_kv_cache_truncate(gllmk_kv_cache *kv, size_t seq, size_t len) {
  if (!kv || seq >= kv->n_seqs) return GLLMK_E_INVAL;
  if (len < kv->len[seq]) kv->len[seq] = len;
  kv->gen[seq] = 0;   /* the nodes of the last forward are gone */
  unmap_pages(kv, seq, kv->len[seq]);
  return sync_pt(kv);
}

gllmk_status gllmk_kv_cache_drop(gllmk_kv_cache *kv, size_t seq) {
  return gllmk_kv_cache_truncate(kv, seq, 0);
}

/* byte offset of sequence s's slot t in a layer's K (or V) region */
static size_t slot_off(const gllmk_kv_cache *kv, size_t s, size_t t) {
  size_t page = kv->pt[s * kv->max_pages + t / kv->page_size];
  return (page * kv->page_size + t % kv->page_size) * kv->row * 4;
}

gllmk_status gllmk_kv_cache_commit(gllmk_kv_cache *kv, size_t seq, const int32_t *path, size_t n) {
  if (!kv || seq >= kv->n_seqs || (n && !path)) return GLLMK_E_INVAL;
  if (n == 0) return GLLMK_OK;
  gllmk_model *m = kv->m;
  /* the nodes must be those of this sequence's last forward, still there */
  if (m->last_kv != kv || kv->gen[seq] == 0 || kv->gen[seq] != kv->fwd) return GLLMK_E_INVAL;
  size_t len = kv->len[seq];
  if (len + n > kv->max_tokens) return GLLMK_E_INVAL;
  for (size_t i = 0; i < n; i++) {
    if (path[i] < 0 || (size_t)path[i] >= m->n_ent) return GLLMK_E_INVAL;
    const struct entry *e = &m->ent[path[i]];
    if (!e->node || (size_t)e->seq != seq) return GLLMK_E_INVAL;
    if (i == 0) {
      /* its parent is the sequence's last token: the cache's end, or an
       * ordinary entry at len - 1 */
      if (e->parent >= 0 && (m->ent[e->parent].node || m->ent[e->parent].slot + 1 != len))
        return GLLMK_E_INVAL;
      if (e->parent < 0 && e->ctx != len) return GLLMK_E_INVAL;
    } else if (e->parent != path[i - 1]) {
      return GLLMK_E_INVAL;
    }
  }
  gllmk_status st = GLLMK_OK;
  for (size_t i = 0; i < n && st == GLLMK_OK; i++) {
    const struct entry *e = &m->ent[path[i]];
    if (e->slot == len + i) continue;
    size_t so = slot_off(kv, seq, e->slot), d = slot_off(kv, seq, len + i);
    for (size_t l = 0; l < 2 * m->cfg.layers && st == GLLMK_OK; l++)
      st = gllmk_buffer_copy(kv->buf, l * kv->layer_bytes + d, kv->buf, l * kv->layer_bytes + so,
                             kv->row * 4);
  }
  if (st != GLLMK_OK) return st;
  for (size_t i = 0; i < n; i++) kv->tokens[seq * kv->max_tokens + len + i] = m->ent[path[i]].token;
  kv->len[seq] = len + n;
  kv->gen[seq] = 0;   /* the other nodes' slots may now be overwritten */
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ forward */

/* y[rows x w->rows] = x . W^T (+ bias) */
static gllmk_status lin(gllmk_model *m, const struct wt *w, const struct wt *bias, const float *x,
                        float *y, size_t rows) {
  const gllmk_ops_f32 *o = m->o;
  const float *b = bias && bias->present ? fptr(m->w, bias->off) : NULL;
  if (!w->qt) return o->linear(m->be, x, fptr(m->w, w->off), b, y, rows, w->rows, w->cols);
  gllmk_status st;
  if (w->qt == GLLMK_AWQ4)
    st = o->awq_matmul(m->be, vptr(m->w, w->off), w->bytes, vptr(m->w, w->zoff), vptr(m->w, w->soff),
                       x, y, rows, w->rows, w->cols);
  else if (w->qt == GLLMK_GPTQ4)
    st = o->gptq_matmul(m->be, vptr(m->w, w->off), w->bytes, vptr(m->w, w->zoff),
                        vptr(m->w, w->soff), w->groups, x, y, rows, w->rows, w->cols);
  else
    st = o->fused_dequant_gemv(m->be, vptr(m->w, w->off), w->bytes, x, y, w->qt, rows, w->rows,
                               w->cols);
  if (st != GLLMK_OK || !b) return st;
  /* bias rows: ones[rows x 1] . bias[n x 1]^T, added */
  float *bt = fptr(m->a, m->bt);
  st = o->linear(m->be, fptr(m->a, m->ones), b, NULL, bt, rows, w->rows, 1);
  if (st == GLLMK_OK) st = o->vec_add(m->be, y, bt, y, rows * w->rows);
  return st;
}

#define TRY(call)                             \
  do {                                        \
    gllmk_status s_ = (call);                 \
    if (s_ != GLLMK_OK) return s_;            \
  } while (0)

/* queue the pass for n entries whose inputs are in m->in.  prefill_seq >= 0:
 * every entry is an ordinary token of that sequence, which then holds
 * cache_len tokens: the blocked causal attention over its page-table row
 * (flash_attention_paged) replaces tree_attention (its lengths are
 * arguments, so graphs do not take this path) */
static gllmk_status run_pass(gllmk_model *m, gllmk_kv_cache *kv, size_t n, size_t n_rows,
                             size_t n_extra, long prefill_seq, size_t cache_len) {
  const gllmk_ops_f32 *o = m->o;
  const gllmk_model_config *c = &m->cfg;
  gllmk_backend *be = m->be;
  size_t H = c->hidden;
  float *x = fptr(m->a, m->x), *xn = fptr(m->a, m->xn), *q = fptr(m->a, m->q);
  float *k = fptr(m->a, m->k), *v = fptr(m->a, m->v), *att = fptr(m->a, m->att);
  float *g = fptr(m->a, m->g), *u = fptr(m->a, m->u), *t = fptr(m->a, m->t);
  float *cs = fptr(m->a, m->cs), *sn = fptr(m->a, m->sn);
  const uint32_t *ids = uptr(m->in, m->i_ids), *pos = uptr(m->in, m->i_pos);
  const uint32_t *seq = uptr(m->in, m->i_seq), *slot = uptr(m->in, m->i_slot);
  const uint32_t *ctx = uptr(m->in, m->i_ctx), *xs = uptr(m->in, m->i_xs);
  const uint32_t *extra = uptr(m->in, m->i_extra);
  const uint32_t *pt = uptr(kv->buf, kv->pt_off);
  float eps = c->norm_eps, scale = (float)(1.0 / sqrt((double)c->head_dim));
  if (m->tok.qt)
    TRY(o->embedding_lookup_q(be, ids, n, vptr(m->w, m->tok.off), m->tok.bytes, m->tok.qt,
                              c->vocab, H, x));
  else
    TRY(o->embedding_lookup(be, ids, n, fptr(m->w, m->tok.off), c->vocab, H, x));
  TRY(o->embedding_lookup(be, pos, n, fptr(m->w, m->rcos.off), m->n_ctx, m->half, cs));
  TRY(o->embedding_lookup(be, pos, n, fptr(m->w, m->rsin.off), m->n_ctx, m->half, sn));
  for (size_t l = 0; l < c->layers; l++) {
    const struct layer *L = &m->L[l];
    float *kc = fptr(kv->buf, 2 * l * kv->layer_bytes);
    float *vc = fptr(kv->buf, (2 * l + 1) * kv->layer_bytes);
    TRY(o->rms_norm(be, x, fptr(m->w, L->attn_norm.off), xn, n, H, eps));
    TRY(lin(m, &L->wq, &L->bq, xn, q, n));
    TRY(lin(m, &L->wk, &L->bk, xn, k, n));
    TRY(lin(m, &L->wv, &L->bv, xn, v, n));
    if (L->qn.present) {
      TRY(o->rms_norm(be, q, fptr(m->w, L->qn.off), q, n * c->heads, c->head_dim, eps));
      TRY(o->rms_norm(be, k, fptr(m->w, L->kn.off), k, n * c->kv_heads, c->head_dim, eps));
    }
    TRY(o->rope(be, q, cs, sn, n, c->heads, c->head_dim, c->rotary_dim, m->interleaved));
    TRY(o->rope(be, k, cs, sn, n, c->kv_heads, c->head_dim, c->rotary_dim, m->interleaved));
    TRY(o->kv_store(be, k, v, kc, vc, pt, seq, slot, n, c->kv_heads, c->head_dim, kv->page_size,
                    kv->n_pages, kv->n_seqs, kv->max_pages));
    if (prefill_seq >= 0)
      TRY(o->flash_attention_paged(be, q, kc, vc, pt + (size_t)prefill_seq * kv->max_pages, att, n,
                                   cache_len, c->heads, c->kv_heads, c->head_dim, kv->page_size,
                                   kv->n_pages, scale));
    else
      TRY(o->tree_attention(be, q, kc, vc, pt, seq, ctx, xs, extra, att, n, c->heads,
                            c->kv_heads, c->head_dim, kv->page_size, kv->n_pages, kv->n_seqs,
                            kv->max_pages, n_extra, scale));
    TRY(lin(m, &L->wo, NULL, att, t, n));
    TRY(o->vec_add(be, x, t, x, n * H));
    TRY(o->rms_norm(be, x, fptr(m->w, L->ffn_norm.off), xn, n, H, eps));
    TRY(lin(m, &L->wg, NULL, xn, g, n));
    TRY(lin(m, &L->wu, NULL, xn, u, n));
    TRY(o->swiglu(be, g, u, g, n * c->ffn));
    TRY(lin(m, &L->wd, NULL, g, t, n));
    TRY(o->vec_add(be, x, t, x, n * H));
  }
  if (n_rows) {
    float *hr = fptr(m->a, m->hr), *hn = fptr(m->a, m->hn);
    TRY(o->embedding_lookup(be, uptr(m->in, m->i_rows), n_rows, x, n, H, hr));
    TRY(o->rms_norm(be, hr, fptr(m->w, m->out_norm.off), hn, n_rows, H, eps));
    TRY(lin(m, &m->out, NULL, hn, fptr(m->a, m->lg), n_rows));
  }
  return GLLMK_OK;
}

static gllmk_status bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(model_message, sizeof model_message, fmt, ap);
  va_end(ap);
  return GLLMK_E_INVAL;
}

/* check a batch and stage its inputs in m->h_in; nothing of kv changes.
 * *n_extra gets the extra slots; kv->s_lin/s_nodes/s_top are left set for
 * the batch's sequences (the caller clears them) */
static gllmk_status stage(gllmk_model *m, gllmk_kv_cache *kv, const gllmk_batch_entry *b, size_t n,
                          const int32_t *rows, size_t n_rows, size_t *n_extra) {
  uint32_t *h = m->h_in;
  uint32_t *ids = h + m->i_ids / 4, *pos = h + m->i_pos / 4, *seq = h + m->i_seq / 4;
  uint32_t *slot = h + m->i_slot / 4, *ctx = h + m->i_ctx / 4, *xs = h + m->i_xs / 4;
  uint32_t *xl = h + m->i_extra / 4, *rw = h + m->i_rows / 4;
  size_t nx = 0;
  for (size_t i = 0; i < n; i++) {
    const gllmk_batch_entry *e = &b[i];
    if (e->token < 0 || (size_t)e->token >= m->cfg.vocab)
      return bad("entry %zu: token %d is not in 0..%zu", i, e->token, m->cfg.vocab - 1);
    if (e->seq < 0 || (size_t)e->seq >= kv->n_seqs)
      return bad("entry %zu: sequence %d is not in 0..%zu", i, e->seq, kv->n_seqs - 1);
    size_t s = (size_t)e->seq, L = kv->len[s];
    struct entry *E = &m->ent_next[i];
    *E = (struct entry){e->token, e->pos, e->seq, e->parent, 0, 0, e->parent != GLLMK_PARENT_NONE};
    size_t ppos;
    xs[i] = (uint32_t)nx;
    if (e->parent == GLLMK_PARENT_NONE) {
      if (kv->s_nodes[s])
        return bad("entry %zu: an ordinary entry of sequence %zu after its tree nodes", i, s);
      E->slot = (uint32_t)(L + kv->s_lin[s]++);
      if ((size_t)e->pos != E->slot)
        return bad("entry %zu: position %d, sequence %zu expects %u", i, e->pos, s, E->slot);
      E->ctx = E->slot + 1;
    } else {
      size_t base = L + kv->s_lin[s];
      E->slot = (uint32_t)(base + kv->s_nodes[s]++);
      if (e->parent == GLLMK_PARENT_CACHE) {
        if (base == 0) return bad("entry %zu: sequence %zu has no token to be the parent", i, s);
        ppos = base - 1;
        E->ctx = (uint32_t)base;
      } else {
        if (e->parent < 0 || (size_t)e->parent >= i || b[e->parent].seq != e->seq)
          return bad("entry %zu: parent %d is not an earlier entry of sequence %zu", i, e->parent, s);
        const struct entry *P = &m->ent_next[e->parent];
        ppos = (size_t)P->pos;
        if (P->node) {
          E->ctx = P->ctx;
          size_t a = xs[e->parent], z = xs[e->parent + 1];
          /* the parent's extras are its ancestors then itself: copy them */
          if (nx + (z - a) + 1 > m->max_extra)
            return bad("the tree has more than max_extra (%zu) ancestor slots", m->max_extra);
          for (size_t j = a; j < z; j++) xl[nx++] = xl[j];
        } else {
          E->ctx = P->slot + 1;
        }
      }
      if ((size_t)e->pos != ppos + 1)
        return bad("entry %zu: position %d, its parent's is %zu", i, e->pos, ppos);
      if (nx + 1 > m->max_extra)
        return bad("the tree has more than max_extra (%zu) ancestor slots", m->max_extra);
      xl[nx++] = E->slot;
    }
    if (E->slot >= kv->max_tokens)
      return bad("entry %zu: sequence %zu is full (%zu tokens)", i, s, kv->max_tokens);
    if ((size_t)e->pos >= m->n_ctx)
      return bad("entry %zu: position %d beyond the model's %zu", i, e->pos, m->n_ctx);
    if (E->slot + 1 > kv->s_top[s]) kv->s_top[s] = E->slot + 1;
    ids[i] = (uint32_t)e->token, pos[i] = (uint32_t)e->pos, seq[i] = (uint32_t)s;
    slot[i] = E->slot, ctx[i] = E->ctx;
  }
  xs[n] = (uint32_t)nx;
  size_t pages = 0;
  for (size_t i = 0; i < n; i++) {
    size_t s = (size_t)b[i].seq;
    if (kv->s_top[s] == 0) continue;
    size_t need = (kv->s_top[s] + kv->page_size - 1) / kv->page_size;
    if (need > kv->mapped[s]) pages += need - kv->mapped[s];
    kv->s_top[s] = 0;   /* counted once */
  }
  if (pages > kv->n_free)
    return bad("the cache has %zu free pages, the batch needs %zu", kv->n_free, pages);
  for (size_t r = 0; r < n_rows; r++) {
    if (rows[r] < 0 || (size_t)rows[r] >= n)
      return bad("row %zu: entry %d is not in the batch", r, rows[r]);
    rw[r] = (uint32_t)rows[r];
  }
  *n_extra = nx;
  return GLLMK_OK;
}

gllmk_status gllmk_model_forward(gllmk_model *m, gllmk_kv_cache *kv, const gllmk_batch_entry *batch,
                                 size_t n, const int32_t *rows, size_t n_rows) {
  model_message[0] = 0;
  if (!m || !kv || kv->m != m || !batch || (n_rows && !rows))
    return bad("NULL model, cache, batch or rows, or a cache of another model");
  if (m->cfg.arch == GLLMK_ARCH_BERT)
    return fail(GLLMK_E_UNSUPPORTED, "an encoder: use gllmk_model_embed or gllmk_model_rerank");
  if (n == 0 || n > m->max_batch) return bad("%zu entries: 1 .. max_batch (%zu)", n, m->max_batch);
  if (n_rows > m->max_rows) return bad("%zu rows: at most max_rows (%zu)", n_rows, m->max_rows);
  size_t n_extra = 0;
  gllmk_status st = stage(m, kv, batch, n, rows, n_rows, &n_extra);
  for (size_t i = 0; i < n; i++)
    if (batch[i].seq >= 0 && (size_t)batch[i].seq < kv->n_seqs) {
      size_t s = (size_t)batch[i].seq;
      kv->s_lin[s] = kv->s_nodes[s] = kv->s_top[s] = 0;
    }
  if (st != GLLMK_OK) return st;

  /* accepted: the cache takes the batch */
  struct entry *t = m->ent;
  m->ent = m->ent_next, m->ent_next = t;
  m->n_ent = n;
  memcpy(m->rows, rows, n_rows * sizeof *rows);
  m->n_rows = n_rows;
  m->last_kv = kv;
  kv->fwd++;
  for (size_t i = 0; i < n; i++) {
    const struct entry *E = &m->ent[i];
    size_t s = (size_t)E->seq;
    map_pages(kv, s, E->slot + 1);
    kv->gen[s] = kv->fwd;
    if (!E->node) {
      kv->tokens[s * kv->max_tokens + E->slot] = E->token;
      kv->len[s] = E->slot + 1;
    }
  }
  if ((st = sync_pt(kv)) != GLLMK_OK) return st;
  /* the inputs: ids .. rows in one upload */
  if ((st = gllmk_buffer_upload(m->in, 0, m->h_in, m->i_rng)) != GLLMK_OK) return st;
  if (n > GRAPH_MAX_BATCH) {
    /* one sequence's ordinary tokens (a prefill): blocked causal attention */
    long one = m->ent[0].seq;
    for (size_t i = 0; i < n && one >= 0; i++)
      if (m->ent[i].node || m->ent[i].seq != one) one = -1;
    return run_pass(m, kv, n, n_rows, n_extra, one, one >= 0 ? kv->len[one] : 0);
  }
  if (!m->graph || m->g_kv != kv || m->g_n != n || m->g_rows != n_rows || m->g_extra != n_extra) {
    drop_graph(m);
    if ((st = gllmk_graph_begin(m->be)) != GLLMK_OK) return st;
    st = run_pass(m, kv, n, n_rows, n_extra, -1, 0);
    gllmk_graph *g = NULL;
    gllmk_status st2 = gllmk_graph_end(m->be, &g);
    if (st == GLLMK_OK) st = st2;
    if (st != GLLMK_OK) {
      gllmk_graph_free(g);
      return st;
    }
    m->graph = g, m->g_kv = kv, m->g_n = n, m->g_rows = n_rows, m->g_extra = n_extra;
  }
  return gllmk_graph_launch(m->graph);
}

gllmk_buffer *gllmk_model_logits(gllmk_model *m) { return m ? m->a : NULL; }

gllmk_status gllmk_model_read_logits(gllmk_model *m, size_t row0, size_t n, float *dst) {
  if (!m || (n && !dst) || row0 > m->n_rows || n > m->n_rows - row0) return GLLMK_E_INVAL;
  size_t V = m->cfg.vocab;
  return gllmk_buffer_download(m->a, m->lg + row0 * V * 4, dst, n * V * 4);
}

/* ------------------------------------------------------------------ sampling */

/* the last w tokens of entry i's lineage, newest first, -1 padded: its tree
 * ancestors, then its sequence's committed tokens below them */
static void lineage(const gllmk_model *m, const gllmk_kv_cache *kv, size_t i, int32_t *out, size_t w) {
  size_t k = 0, upto;
  const struct entry *e = &m->ent[i];
  for (;;) {
    if (!e->node) {                       /* an ordinary entry: its token is in the history */
      upto = (size_t)e->slot + 1;
      break;
    }
    if (k < w) out[k++] = e->token;
    if (e->parent == GLLMK_PARENT_CACHE) {
      upto = e->ctx;
      break;
    }
    e = &m->ent[e->parent];
  }
  const int32_t *hist = kv->tokens + (size_t)e->seq * kv->max_tokens;
  while (k < w && upto > 0) out[k++] = hist[--upto];
  while (k < w) out[k++] = -1;
}

gllmk_status gllmk_model_sample(gllmk_model *m, gllmk_kv_cache *kv, const gllmk_sampling *sp,
                                int32_t *ids) {
  if (!m || !kv || !sp || (m->n_rows && !ids)) return GLLMK_E_INVAL;
  if (kv != m->last_kv) return bad("the cache is not the one of the last forward");
  if (sp->repeat_window > MAX_WINDOW) return bad("repeat_window at most %d", MAX_WINDOW);
  size_t R = m->n_rows, W = sp->repeat_penalty != 1.0f ? sp->repeat_window : 0;
  if (R == 0) return GLLMK_OK;
  uint32_t *rng = m->h_in + m->i_rng / 4;
  int32_t *recent = (int32_t *)(m->h_in + m->i_recent / 4);
  for (size_t r = 0; r < R; r++) {
    const struct entry *e = &m->ent[m->rows[r]];
    rng[2 * r] = (uint32_t)e->pos + 1;
    rng[2 * r + 1] = (uint32_t)e->seq;
    if (W) lineage(m, kv, (size_t)m->rows[r], recent + r * W, W);
  }
  gllmk_status st = gllmk_buffer_upload(m->in, m->i_rng, rng, 2 * R * 4);
  if (st == GLLMK_OK && W) st = gllmk_buffer_upload(m->in, m->i_recent, recent, R * W * 4);
  if (st != GLLMK_OK) return st;
  int32_t *dev_ids = (int32_t *)uptr(m->in, m->i_out);
  size_t need;
  st = m->o->sample_workspace_bytes(m->be, R, m->cfg.vocab, W, sp->top_k, &need);
  if (st == GLLMK_OK) st = reserve(m, need);
  if (st == GLLMK_OK)
    st = m->o->sample(m->be, fptr(m->a, m->lg), R, m->cfg.vocab,
                      W ? (const int32_t *)uptr(m->in, m->i_recent) : NULL, W, sp->repeat_penalty,
                      sp->temperature, sp->top_k, sp->top_p, sp->min_p, sp->seed,
                      uptr(m->in, m->i_rng), dev_ids);
  if (st == GLLMK_OK) st = gllmk_buffer_download(m->in, m->i_out, ids, R * 4);
  return st;
}

/* ------------------------------------------------------------------ GGUF */

static gllmk_status meta_u64(const gllmk_gguf *g, const char *arch, const char *key, bool required,
                             size_t *out) {
  char k[128];
  uint64_t v;
  snprintf(k, sizeof k, "%s.%s", arch, key);
  gllmk_status st = gllmk_gguf_get_u64(g, k, &v);
  if (st == GLLMK_E_NOT_FOUND && !required) return GLLMK_OK;
  if (st != GLLMK_OK)
    return fail(st == GLLMK_E_NOT_FOUND ? GLLMK_E_INVAL : st, "metadata %s: %s", k,
                st == GLLMK_E_NOT_FOUND ? "missing" : "not an unsigned integer that fits");
  if (v > SIZE_MAX / 2) return fail(GLLMK_E_OVERFLOW, "metadata %s: %llu is too large", k,
                                    (unsigned long long)v);
  *out = (size_t)v;
  return GLLMK_OK;
}

static gllmk_status meta_f32(const gllmk_gguf *g, const char *arch, const char *key, float *out) {
  char k[128];
  double v;
  snprintf(k, sizeof k, "%s.%s", arch, key);
  gllmk_status st = gllmk_gguf_get_f64(g, k, &v);
  if (st == GLLMK_E_NOT_FOUND) return GLLMK_OK;
  if (st != GLLMK_OK) return fail(GLLMK_E_INVAL, "metadata %s: not a number", k);
  *out = (float)v;
  return GLLMK_OK;
}

gllmk_status gllmk_model_load_gguf(gllmk_backend *be, const char *path,
                                   const gllmk_model_params *params, gllmk_model **out) {
  model_message[0] = 0;
  if (out) *out = NULL;
  if (!be || !path || !out) return fail(GLLMK_E_INVAL, "NULL backend, path or output");
  gllmk_gguf *g = NULL;
  gllmk_status st = gllmk_gguf_open(path, &g);
  if (st != GLLMK_OK) return fail(st, "%s: %s", path, gllmk_gguf_error_message());
  gllmk_model_config c;
  memset(&c, 0, sizeof c);
  gllmk_model_tensor *t = NULL;
  const char *arch = gllmk_gguf_arch(g);
  if (!arch) {
    st = fail(GLLMK_E_INVAL, "%s: no general.architecture", path);
    goto out;
  }
  if (!strcmp(arch, "llama") || !strcmp(arch, "mistral")) c.arch = GLLMK_ARCH_LLAMA;
  else if (!strcmp(arch, "qwen2")) c.arch = GLLMK_ARCH_QWEN2;
  else if (!strcmp(arch, "qwen3")) c.arch = GLLMK_ARCH_QWEN3;
  else if (!strcmp(arch, "bert")) c.arch = GLLMK_ARCH_BERT;
  else {
    st = fail(GLLMK_E_UNSUPPORTED, "%s: architecture \"%.64s\" (gllmk runs llama, mistral, qwen2, "
              "qwen3, bert)", path, arch);
    goto out;
  }
  c.norm_eps = 1e-5f;
  if ((st = meta_u64(g, arch, "embedding_length", true, &c.hidden)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "block_count", true, &c.layers)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "feed_forward_length", true, &c.ffn)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "attention.head_count", true, &c.heads)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "context_length", false, &c.context)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "attention.key_length", false, &c.head_dim)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "rope.dimension_count", false, &c.rotary_dim)) != GLLMK_OK ||
      (st = meta_u64(g, arch, "vocab_size", false, &c.vocab)) != GLLMK_OK ||
      (st = meta_f32(g, arch, "attention.layer_norm_rms_epsilon", &c.norm_eps)) != GLLMK_OK ||
      (st = meta_f32(g, arch, "rope.freq_base", &c.rope_theta)) != GLLMK_OK)
    goto out;
  c.kv_heads = c.heads;
  if ((st = meta_u64(g, arch, "attention.head_count_kv", false, &c.kv_heads)) != GLLMK_OK) goto out;
  if (c.arch == GLLMK_ARCH_BERT) {
    size_t pool = GLLMK_POOL_MEAN;
    c.norm_eps = 1e-12f;
    if ((st = meta_f32(g, arch, "attention.layer_norm_epsilon", &c.norm_eps)) != GLLMK_OK ||
        (st = meta_u64(g, arch, "pooling_type", false, &pool)) != GLLMK_OK)
      goto out;
    c.pooling = (gllmk_pooling)(pool > 64 ? 64 : pool);   /* an unknown one is refused */
  }
  size_t nt = gllmk_gguf_tensor_count(g);
  t = calloc(nt ? nt : 1, sizeof *t);
  if (!t) {
    st = fail(GLLMK_E_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < nt; i++) {
    gllmk_gguf_tensor gt;
    if ((st = gllmk_gguf_tensor_info(g, i, &gt)) != GLLMK_OK) goto out;
    t[i].name = gt.name;
    t[i].type = gt.type;
    t[i].data = gt.data;
    t[i].bytes = gt.bytes;
    /* 1-D and 2-D only; anything else gets a shape no slot has */
    bool flat = gt.ne[2] == 1 && gt.ne[3] == 1;
    t[i].ne[0] = flat ? gt.ne[0] : 0;
    t[i].ne[1] = flat ? gt.ne[1] : 0;
    if (!strcmp(gt.name, "token_embd.weight") && !c.vocab && flat) c.vocab = (size_t)gt.ne[1];
    if (!strcmp(gt.name, "token_types.weight") && flat && gt.ne[1] <= INT32_MAX)
      c.type_vocab = (size_t)gt.ne[1];
  }
  st = gllmk_model_create(be, &c, t, nt, params, out);
  if (st != GLLMK_OK) {
    char msg[sizeof model_message];
    snprintf(msg, sizeof msg, "%s", model_message);
    fail(st, "%s: %s", path, msg);
  }
out:
  free(t);
  gllmk_gguf_close(g);
  return st;
}

/* ------------------------------------------------------------------ encoders */

/* run n sequences through a bert model; leaves the final states in m->x
 * (the queue holds the work: the caller downloads) */
static gllmk_status encode(gllmk_model *m, const int32_t *tokens, const int32_t *types,
                           const size_t *lens, size_t n, size_t *total) {
  const gllmk_model_config *c = &m->cfg;
  if (c->arch != GLLMK_ARCH_BERT)
    return fail(GLLMK_E_UNSUPPORTED, "a decoder: encoders (bert) only");
  if (n == 0) return GLLMK_OK;
  if (!tokens || !lens) return bad("NULL tokens or lengths");
  if (n > m->max_rows) return bad("%zu sequences: at most max_rows (%zu)", n, m->max_rows);
  size_t N = 0;
  for (size_t i = 0; i < n; i++) {
    if (lens[i] == 0) return bad("sequence %zu is empty", i);
    if (lens[i] > c->context) return bad("sequence %zu: %zu tokens, the model has %zu positions", i, lens[i], c->context);
    if (lens[i] > m->max_batch - N) return bad("%zu tokens in all: more than max_batch (%zu)", N + lens[i], m->max_batch);
    N += lens[i];
  }
  uint32_t *h = m->h_in, *ids = h + m->i_ids / 4, *pos = h + m->i_pos / 4, *typ = h + m->i_seq / 4;
  uint32_t *first = h + m->i_rows / 4;
  float *pw = (float *)(h + m->i_ctx / 4);   /* host staging of the pooling weights */
  for (size_t i = 0, t = 0; i < n; i++) {
    first[i] = (uint32_t)t;
    for (size_t j = 0; j < lens[i]; j++, t++) {
      if (tokens[t] < 0 || (size_t)tokens[t] >= c->vocab)
        return bad("sequence %zu, token %zu: %d is not in 0..%zu", i, j, tokens[t], c->vocab - 1);
      if (types && (types[t] < 0 || (size_t)types[t] >= c->type_vocab))
        return bad("sequence %zu, token %zu: type %d is not in 0..%zu", i, j, types[t], c->type_vocab - 1);
      ids[t] = (uint32_t)tokens[t], pos[t] = (uint32_t)j, typ[t] = types ? (uint32_t)types[t] : 0;
      pw[t] = 1.0f / (float)lens[i];
    }
  }
  gllmk_status st;
  drop_graph(m);
  if ((st = gllmk_buffer_upload(m->in, 0, m->h_in, m->i_rng)) != GLLMK_OK) return st;
  if ((st = gllmk_buffer_upload(m->a, m->pw, pw, N * 4)) != GLLMK_OK) return st;
  const gllmk_ops_f32 *o = m->o;
  gllmk_backend *be = m->be;
  size_t H = c->hidden, hd = c->head_dim;
  float *x = fptr(m->a, m->x), *q = fptr(m->a, m->q), *k = fptr(m->a, m->k), *v = fptr(m->a, m->v);
  float *att = fptr(m->a, m->att), *g = fptr(m->a, m->g), *t = fptr(m->a, m->t);
  float eps = c->norm_eps, scale = (float)(1.0 / sqrt((double)hd));
#define WT(x_) fptr(m->w, (x_).off)
  if (m->tok.qt)
    TRY(o->embedding_lookup_q(be, uptr(m->in, m->i_ids), N, vptr(m->w, m->tok.off), m->tok.bytes,
                              m->tok.qt, c->vocab, H, x));
  else
    TRY(o->embedding_lookup(be, uptr(m->in, m->i_ids), N, WT(m->tok), c->vocab, H, x));
  TRY(o->embedding_lookup(be, uptr(m->in, m->i_pos), N, WT(m->pos), c->context, H, t));
  TRY(o->vec_add(be, x, t, x, N * H));
  TRY(o->embedding_lookup(be, uptr(m->in, m->i_seq), N, WT(m->typ), c->type_vocab, H, t));
  TRY(o->vec_add(be, x, t, x, N * H));
  TRY(o->layer_norm(be, x, WT(m->en_w), WT(m->en_b), x, N, H, eps));
  for (size_t l = 0; l < c->layers; l++) {
    const struct layer *L = &m->L[l];
    TRY(lin(m, &L->wq, &L->bq, x, q, N));
    TRY(lin(m, &L->wk, &L->bk, x, k, N));
    TRY(lin(m, &L->wv, &L->bv, x, v, N));
    for (size_t i = 0, s0 = 0; i < n; s0 += lens[i++])
      TRY(o->flash_attention(be, q + s0 * m->qd, k + s0 * m->kd, v + s0 * m->kd, att + s0 * m->qd,
                             lens[i], lens[i], c->heads, c->heads, hd, scale, false));
    TRY(lin(m, &L->wo, &L->bo, att, t, N));
    TRY(o->vec_add(be, x, t, x, N * H));
    TRY(o->layer_norm(be, x, WT(L->ano_w), WT(L->ano_b), x, N, H, eps));
    TRY(lin(m, &L->wu, &L->bu, x, g, N));
    TRY(o->gelu(be, g, g, N * c->ffn));
    TRY(lin(m, &L->wd, &L->bd, g, t, N));
    TRY(o->vec_add(be, x, t, x, N * H));
    TRY(o->layer_norm(be, x, WT(L->lno_w), WT(L->lno_b), x, N, H, eps));
  }
  *total = N;
  return GLLMK_OK;
}

gllmk_status gllmk_model_embed(gllmk_model *m, const int32_t *tokens, const int32_t *types,
                               const size_t *lens, size_t n, bool normalize, float *out) {
  model_message[0] = 0;
  if (!m || (n && !out)) return bad("NULL model or output");
  size_t N = 0;
  gllmk_status st = encode(m, tokens, types, lens, n, &N);
  if (st != GLLMK_OK || n == 0) return st;
  const gllmk_ops_f32 *o = m->o;
  size_t H = m->cfg.hidden;
  float *x = fptr(m->a, m->x), *hr = fptr(m->a, m->hr), *pw = fptr(m->a, m->pw);
  if (m->cfg.pooling == GLLMK_POOL_MEAN) {
    for (size_t i = 0, s0 = 0; i < n; s0 += lens[i++])   /* (1/len, ..., 1/len) . X */
      TRY(o->gemm(m->be, pw + s0, x + s0 * H, hr + i * H, 1, H, lens[i]));
  } else {
    TRY(o->embedding_lookup(m->be, uptr(m->in, m->i_rows), n, x, N, H, hr));
  }
  if (normalize)   /* x / sqrt(sum x^2): rms_norm with weights 1/sqrt(H) */
    TRY(o->rms_norm(m->be, hr, fptr(m->w, m->invh.off), hr, n, H, 1e-30f));
  return gllmk_buffer_download(m->a, m->hr, out, n * H * 4);
}

gllmk_status gllmk_model_rerank(gllmk_model *m, const int32_t *tokens, const int32_t *types,
                                const size_t *lens, size_t n, float *out) {
  model_message[0] = 0;
  if (!m || (n && !out)) return bad("NULL model or output");
  if (m->cfg.arch != GLLMK_ARCH_BERT || !m->clo_w.present)
    return fail(GLLMK_E_UNSUPPORTED, "the model has no classifier head (cls.output.weight)");
  size_t N = 0;
  gllmk_status st = encode(m, tokens, types, lens, n, &N);
  if (st != GLLMK_OK || n == 0) return st;
  const gllmk_ops_f32 *o = m->o;
  size_t H = m->cfg.hidden, nc = m->clo_w.rows;
  float *x = fptr(m->a, m->x), *hr = fptr(m->a, m->hr), *hn = fptr(m->a, m->hn);
  float *sc = fptr(m->a, m->lg);
  TRY(o->embedding_lookup(m->be, uptr(m->in, m->i_rows), n, x, N, H, hr));   /* first tokens */
  TRY(lin(m, &m->cls_w, &m->cls_b, hr, hn, n));
  TRY(o->tanh(m->be, hn, hn, n * H));
  TRY(lin(m, &m->clo_w, &m->clo_b, hn, sc, n));
  for (size_t i = 0; i < n && st == GLLMK_OK; i++)   /* the first output of each row */
    st = gllmk_buffer_download(m->a, m->lg + i * nc * 4, out + i, 4);
  return st;
}
#undef WT
