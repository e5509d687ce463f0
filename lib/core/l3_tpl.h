/* l3_tpl.h -- the operators the model layer is built from: linear (X . W^T in
 * the LLM layout), kv_store and tree_attention over a paged KV cache, and
 * sample.  Included by ops_tpl.h for one element type T.
 * SPDX-License-Identifier: MIT
 */

/* ------------------------------------------------------------ linear */

size_t WSQ(linear)(size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  /* the larger of the plans with and without bias */
  if (!CL(gemm_sizes_ok)(m, n, k)) return 0;
  size_t a = gllmk__ws_query(CL(gemm_plan)(&p, m, n, k, true, true));
  size_t b = gllmk__ws_query(CL(gemm_plan)(&p, m, n, k, true, false));
  return a > b ? a : b;
}

/* gemm_bias with W [n x k] (ops_tpl.h) */
gllmk_status GLLMK_PUB(linear)(const T *x, const T *w, const T *bias, T *y, size_t m, size_t n,
                               size_t k) {
  return CL(gemm_common)(x, w, NULL, true, bias, y, m, n, k);
}

/* ------------------------------------------------------------ paged KV cache */

/* sizes of the caches [n_pages x page_size x kv_heads x head_dim] and the
 * page table [n_seqs x max_pages]; *row gets kv_heads * head_dim */
static gllmk_status CL(cache_shape)(size_t kv_heads, size_t head_dim, size_t page_size,
                                    size_t n_pages, size_t n_seqs, size_t max_pages, size_t *row) {
  size_t x;
  if (!gllmk__mul(kv_heads, head_dim, row) || !gllmk__mul3(n_pages, page_size, *row, &x) ||
      !CL(bytes_ok)(x) || !gllmk__mul3(n_seqs, max_pages, sizeof(uint32_t), &x) ||
      !gllmk__mul(max_pages, page_size, &x) || x > UINT32_MAX)
    return GLLMK_E_OVERFLOW;
  if (page_size == 0) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* logical token t of page-table row r is there (t < max_pages * page_size) */
static inline bool CL(token_ok)(const uint32_t *page_table, size_t r, size_t t, size_t page_size,
                                size_t n_pages, size_t max_pages) {
  return t < max_pages * page_size && page_table[r * max_pages + t / page_size] < n_pages;
}

static inline size_t CL(token_at)(const uint32_t *page_table, size_t r, size_t t, size_t page_size,
                                  size_t max_pages) {
  return (size_t)page_table[r * max_pages + t / page_size] * page_size + t % page_size;
}

size_t WSQ(kv_store)(size_t n, size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages,
                     size_t n_seqs, size_t max_pages) {
  (void)n, (void)kv_heads, (void)head_dim, (void)page_size, (void)n_pages, (void)n_seqs;
  (void)max_pages;
  return 0;
}

gllmk_status GLLMK_PUB(kv_store)(const T *k, const T *v, T *k_cache, T *v_cache,
                                 const uint32_t *page_table, const uint32_t *seq,
                                 const uint32_t *slot, size_t n, size_t kv_heads, size_t head_dim,
                                 size_t page_size, size_t n_pages, size_t n_seqs,
                                 size_t max_pages) {
  size_t row, x;
  gllmk_status st =
      CL(cache_shape)(kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, &row);
  if (st != GLLMK_OK) return st;
  if (!gllmk__mul(n, row, &x) || !CL(bytes_ok)(x)) return GLLMK_E_OVERFLOW;
  if (n == 0 || row == 0) return GLLMK_OK;
  if (!k || !v || !k_cache || !v_cache || !page_table || !seq || !slot) return GLLMK_E_INVAL;
  for (size_t i = 0; i < n; i++)
    if (seq[i] >= n_seqs ||
        !CL(token_ok)(page_table, seq[i], slot[i], page_size, n_pages, max_pages))
      return GLLMK_E_INVAL;
  GET_KT();
  (void)kt;
  for (size_t i = 0; i < n; i++) {
    size_t at = CL(token_at)(page_table, seq[i], slot[i], page_size, max_pages) * row;
    memmove(k_cache + at, k + i * row, row * sizeof(T));
    memmove(v_cache + at, v + i * row, row * sizeof(T));
  }
  return GLLMK_OK;
}

/* ------------------------------------------------------------ tree attention */
struct CL(tree_ctx) {
  const struct gllmk_kernels *kt;
  const T *q, *kc, *vc;
  const uint32_t *pt, *seq, *ctx, *xs, *x;
  T *out;
  size_t heads, kv_heads, head_dim, page_size, max_pages;
  float scale;
  int nomem;
};

static size_t CL(tree_floats)(size_t heads, size_t kv_heads, size_t head_dim) {
  return (heads / kv_heads + 1) * head_dim + 2 * (heads / kv_heads);
}

/* one query token i, the query heads of kv head g */
static void CL(tree_one)(const struct CL(tree_ctx) *c, size_t i, size_t g, float *ws) {
  const struct gllmk_kernels *kt = c->kt;
  size_t r = c->heads / c->kv_heads, d = c->head_dim, row = c->kv_heads * d;
  float *acc = ws, *vf = acc + r * d, *mx = vf + d, *l = mx + r;
  for (size_t h = 0; h < r; h++) mx[h] = -INFINITY, l[h] = 0.0f;
  memset(acc, 0, r * d * sizeof(float));
  const T *qi = c->q + (i * c->heads + g * r) * d;
  size_t nctx = c->ctx[i], x0 = c->xs[i], nx = c->xs[i + 1] - x0;
  for (size_t j = 0; j < nctx + nx; j++) {
    size_t t = j < nctx ? j : c->x[x0 + j - nctx];
    size_t at = CL(token_at)(c->pt, c->seq[i], t, c->page_size, c->max_pages) * row + g * d;
    const T *kr = c->kc + at, *vr = c->vc + at;
#if T_IS_F32
    const float *vv = vr;
    (void)vf;
#else
    K(to_f32)(d, vr, vf);
    const float *vv = vf;
#endif
    for (size_t h = 0; h < r; h++) {
      float s = c->scale * K(dot)(d, qi + h * d, kr);
      float *a = acc + h * d;
      if (s > mx[h]) {
        float alpha = expf(mx[h] - s);   /* 0 on the first key */
        for (size_t e = 0; e < d; e++) a[e] *= alpha;
        l[h] *= alpha;
        mx[h] = s;
      }
      float p = expf(s - mx[h]);
      l[h] += p;
      for (size_t e = 0; e < d; e++) a[e] += p * vv[e];
    }
  }
  for (size_t h = 0; h < r; h++) {
    float *a = acc + h * d, inv = l[h] > 0.0f ? 1.0f / l[h] : 0.0f;
    for (size_t e = 0; e < d; e++) a[e] *= inv;
  }
  K(from_f32)(r * d, acc, c->out + (i * c->heads + g * r) * d);
}

static void CL(tree_run)(void *v, size_t i0, size_t i1) {
  struct CL(tree_ctx) *c = v;
  float *ws = gllmk__scratch(GLLMK_SCRATCH_ATTN, CL(tree_floats)(c->heads, c->kv_heads, c->head_dim));
  if (!ws) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  for (size_t it = i0; it < i1; it++) CL(tree_one)(c, it / c->kv_heads, it % c->kv_heads, ws);
}

static gllmk_status CL(tree_shape)(size_t n, size_t heads, size_t kv_heads, size_t head_dim,
                                   size_t page_size, size_t n_pages, size_t n_seqs,
                                   size_t max_pages, size_t n_extra) {
  size_t row, x;
  gllmk_status st =
      CL(cache_shape)(kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, &row);
  if (st != GLLMK_OK) return st;
  if (!gllmk__mul3(n, heads, head_dim, &x) || !CL(bytes_ok)(x) || !gllmk__mul(n, kv_heads, &x) ||
      !gllmk__add(n, 1, &x) || !gllmk__mul(x, sizeof(uint32_t), &x) ||
      !gllmk__mul(n_extra, sizeof(uint32_t), &x) || !gllmk__add(heads, kv_heads, &x) ||
      !gllmk__mul3(x, head_dim + 2, sizeof(float), &x))
    return GLLMK_E_OVERFLOW;
  if (kv_heads == 0 || heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static struct gllmk__ws_plan *CL(tree_plan)(struct gllmk__ws_plan *p, size_t n, size_t heads,
                                            size_t kv_heads, size_t head_dim) {
  gllmk__ws_plan_init(p);
  if (n == 0 || head_dim == 0) return p;
  gllmk__ws_plan_slot(p, GLLMK_SCRATCH_ATTN, CL(tree_floats)(heads, kv_heads, head_dim),
                      gllmk__parallel_width(n * kv_heads, 1, 1));
  return p;
}

size_t WSQ(tree_attention)(size_t n, size_t heads, size_t kv_heads, size_t head_dim,
                           size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages,
                           size_t n_extra) {
  struct gllmk__ws_plan p;
  if (CL(tree_shape)(n, heads, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages,
                     n_extra) != GLLMK_OK)
    return 0;
  return gllmk__ws_query(CL(tree_plan)(&p, n, heads, kv_heads, head_dim));
}

gllmk_status GLLMK_PUB(tree_attention)(const T *q, const T *k_cache, const T *v_cache,
                                       const uint32_t *page_table, const uint32_t *seq,
                                       const uint32_t *ctx, const uint32_t *extra_start,
                                       const uint32_t *extra, T *out, size_t n, size_t heads,
                                       size_t kv_heads, size_t head_dim, size_t page_size,
                                       size_t n_pages, size_t n_seqs, size_t max_pages,
                                       size_t n_extra, float scale) {
  gllmk_status st = CL(tree_shape)(n, heads, kv_heads, head_dim, page_size, n_pages, n_seqs,
                                   max_pages, n_extra);
  if (st != GLLMK_OK) return st;
  if (n == 0 || head_dim == 0) return GLLMK_OK;
  if (!q || !out || !seq || !ctx || !extra_start || (n_extra && !extra)) return GLLMK_E_INVAL;
  size_t tokens = max_pages * page_size;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    size_t a = extra_start[i], b = extra_start[i + 1];
    if (seq[i] >= n_seqs || ctx[i] > tokens || a > b || b > n_extra) return GLLMK_E_INVAL;
    if (ctx[i] || b > a) any = true;
    if (ctx[i] && !page_table) return GLLMK_E_INVAL;
    for (size_t p = 0; ctx[i] && p <= (ctx[i] - 1) / page_size; p++)
      if (page_table[seq[i] * max_pages + p] >= n_pages) return GLLMK_E_INVAL;
    for (size_t j = a; j < b; j++)
      if (!page_table ||
          !CL(token_ok)(page_table, seq[i], extra[j], page_size, n_pages, max_pages))
        return GLLMK_E_INVAL;
  }
  if (any && (!k_cache || !v_cache)) return GLLMK_E_INVAL;
  GET_KT();
  GLLMK_WS_BEGIN(CL(tree_plan), n, heads, kv_heads, head_dim);
  struct CL(tree_ctx) c = {kt,       q,      k_cache,   v_cache, page_table, seq,
                           ctx,      extra_start, extra, out,  heads,      kv_heads,
                           head_dim, page_size,   max_pages, scale, 0};
  double work = (double)n * (double)heads * (double)head_dim * (double)(tokens < 4096 ? tokens : 4096);
  gllmk__parallel(n * kv_heads, 1, work < 1e6 ? n * kv_heads : 1, CL(tree_run), &c);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

/* ------------------------------------------------------------ sampling */
#include "core/sample_tpl.h"
