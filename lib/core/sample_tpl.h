/* sample_tpl.h -- gllmk_sample_*: a token id per row of logits, on the
 * backend (included by l3_tpl.h for one element type T).
 * SPDX-License-Identifier: MIT
 *
 * For row r (the order is the definition; the CUDA kernels follow it):
 *  1. z = logits[r] in f32; a NaN counts as -inf.
 *  2. Repetition penalty: each distinct id t of recent[r * window ...] with
 *     0 <= t < vocab gets z[t] / penalty when z[t] > 0, else z[t] * penalty.
 *  3. temperature <= 0, or top_k == 1: the id of the largest z (the lowest
 *     such id; 0 when every z is -inf).
 *  4. Otherwise p[j] = exp((z[j] - max z) / temperature).  The candidates in
 *     the order (p descending, id ascending): top_k > 0 keeps the first top_k;
 *     top_p < 1 keeps the shortest prefix of those whose sum reaches top_p of
 *     their total; min_p > 0 drops p[j] < min_p (max p is 1).
 *  5. u = Philox4x32-10(key seed, counter (rng[2r], rng[2r+1], 0, 0)), top 24
 *     bits, in [0, 1); the id is the first kept j, in ascending id order,
 *     whose running sum of p exceeds u times the sum of the kept p (both
 *     sums in double, so that another summation order, as on CUDA, gives
 *     the same id unless u is within ~1e-15 of a boundary).
 * The same seed and counters give the same ids whatever the thread count; on
 * another backend too, unless u falls within rounding of a boundary.
 */
#ifndef GLLMK_SAMPLE_SHARED
#define GLLMK_SAMPLE_SHARED
#include "core/philox.h"

struct gllmk__cand { float p; uint32_t id; };

static int gllmk__cand_cmp(const void *a, const void *b) {   /* p desc, id asc */
  const struct gllmk__cand *x = a, *y = b;
  if (x->p != y->p) return x->p > y->p ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}
static int gllmk__cand_id_cmp(const void *a, const void *b) {
  const struct gllmk__cand *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

struct gllmk__sample_args {
  size_t vocab, window, top_k;
  const int32_t *recent;
  float penalty, temperature, top_p, min_p;
  uint64_t seed;
  const uint32_t *rng;
};

/* floats of scratch a row needs: z, then the candidates */
static size_t gllmk__sample_floats(size_t vocab) { return 3 * vocab + 16; }

/* steps 2-5 on z[vocab] (step 1 done by the caller); cand has vocab entries */
static int32_t gllmk__sample_row(const struct gllmk__sample_args *a, size_t r, float *z,
                                 struct gllmk__cand *cand) {
  size_t V = a->vocab;
  if (a->window && a->penalty != 1.0f) {
    const int32_t *rec = a->recent + r * a->window;
    for (size_t w = 0; w < a->window; w++) {
      int32_t t = rec[w];
      if (t < 0 || (size_t)t >= V) continue;
      bool seen = false;
      for (size_t u = 0; u < w && !seen; u++) seen = rec[u] == t;
      if (seen) continue;
      z[t] = z[t] > 0.0f ? z[t] / a->penalty : z[t] * a->penalty;
    }
  }
  size_t best = 0;
  for (size_t j = 1; j < V; j++)
    if (z[j] > z[best]) best = j;
  if (a->temperature <= 0.0f || a->top_k == 1 || z[best] == -INFINITY) return (int32_t)best;
  float zmax = z[best], inv_t = 1.0f / a->temperature;
  for (size_t j = 0; j < V; j++) z[j] = expf((z[j] - zmax) * inv_t);   /* p[j], max 1 */
  size_t nk = 0;
  bool by_id = true;
  size_t top_k = a->top_k && a->top_k < V ? a->top_k : 0;
  if (top_k || a->top_p < 1.0f) {
    double total = 0.0;
    for (size_t j = 0; j < V; j++)
      if (z[j] > 0.0f) total += z[j];
    /* the candidates p >= c form a prefix of the sorted order: lower c until
     * it holds top_k of them and the top_p mass, then sort just those */
    for (float c = 1e-3f;; c *= (1.0f / 256.0f)) {
      if (c < 1e-37f) c = 0.0f;
      double mass = 0.0;
      nk = 0;
      for (size_t j = 0; j < V; j++)
        if (z[j] >= c && z[j] > 0.0f) cand[nk].p = z[j], cand[nk].id = (uint32_t)j, nk++, mass += z[j];
      if (c == 0.0f || ((!top_k || nk >= top_k) && (a->top_p >= 1.0f || mass >= a->top_p * total)))
        break;
    }
    qsort(cand, nk, sizeof *cand, gllmk__cand_cmp);
    if (top_k && nk > top_k) nk = top_k;
    if (a->top_p < 1.0f) {
      /* their total: without top_k, every candidate's (cand holds only
       * those above c, which hold the top_p mass of it) */
      double kept = 0.0, sum = 0.0;
      if (top_k)
        for (size_t j = 0; j < nk; j++) kept += cand[j].p;
      else
        kept = total;
      size_t j = 0;
      while (j < nk) {
        sum += cand[j++].p;
        if (sum >= a->top_p * kept) break;
      }
      nk = j;
    }
    by_id = false;
  } else {
    for (size_t j = 0; j < V; j++)
      if (z[j] > 0.0f) cand[nk].p = z[j], cand[nk].id = (uint32_t)j, nk++;
  }
  if (a->min_p > 0.0f) {
    size_t o = 0;
    for (size_t j = 0; j < nk; j++)
      if (cand[j].p >= a->min_p) cand[o++] = cand[j];
    nk = o;
  }
  if (nk == 0) return (int32_t)best;
  if (!by_id) qsort(cand, nk, sizeof *cand, gllmk__cand_id_cmp);
  double mass = 0.0;   /* double: the same draw whatever the order of the sums */
  for (size_t j = 0; j < nk; j++) mass += cand[j].p;
  double u = (double)gllmk__philox_uniform(a->seed, a->rng[2 * r], a->rng[2 * r + 1]) * mass,
         run = 0.0;
  for (size_t j = 0; j < nk; j++) {
    run += cand[j].p;
    if (u < run) return (int32_t)cand[j].id;
  }
  return (int32_t)cand[nk - 1].id;
}
#endif /* GLLMK_SAMPLE_SHARED */

struct CL(sample_ctx) {
  const struct gllmk_kernels *kt;
  const struct gllmk__sample_args *a;
  const T *logits;
  int32_t *ids;
  int nomem;
};

static void CL(sample_run)(void *v, size_t r0, size_t r1) {
  struct CL(sample_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  size_t V = c->a->vocab;
  float *z = gllmk__scratch(GLLMK_SCRATCH_GEMM, gllmk__sample_floats(V));
  if (!z) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  struct gllmk__cand *cand = (struct gllmk__cand *)(z + V + (V & 1));
  for (size_t r = r0; r < r1; r++) {
    K(to_f32)(V, c->logits + r * V, z);
    for (size_t j = 0; j < V; j++)
      if (z[j] != z[j]) z[j] = -INFINITY;
    c->ids[r] = gllmk__sample_row(c->a, r, z, cand);
  }
}

static gllmk_status CL(sample_shape)(size_t rows, size_t vocab, size_t window) {
  size_t x;
  if (!gllmk__mul(rows, vocab, &x) || !CL(bytes_ok)(x) || !gllmk__mul(rows, window, &x) ||
      !gllmk__mul(x, sizeof(int32_t), &x) || !gllmk__mul(gllmk__sample_floats(vocab), 4, &x) ||
      vocab > INT32_MAX)
    return GLLMK_E_OVERFLOW;
  return GLLMK_OK;
}

static struct gllmk__ws_plan *CL(sample_plan)(struct gllmk__ws_plan *p, size_t rows, size_t vocab) {
  gllmk__ws_plan_init(p);
  if (rows == 0 || vocab == 0) return p;
  gllmk__ws_plan_slot(p, GLLMK_SCRATCH_GEMM, gllmk__sample_floats(vocab),
                      gllmk__parallel_width(rows, 1, 1));
  return p;
}

size_t WSQ(sample)(size_t rows, size_t vocab, size_t window, size_t top_k) {
  (void)top_k;
  struct gllmk__ws_plan p;
  if (CL(sample_shape)(rows, vocab, window) != GLLMK_OK) return 0;
  return gllmk__ws_query(CL(sample_plan)(&p, rows, vocab));
}

gllmk_status GLLMK_PUB(sample)(const T *logits, size_t rows, size_t vocab, const int32_t *recent,
                               size_t window, float repeat_penalty, float temperature,
                               size_t top_k, float top_p, float min_p, uint64_t seed,
                               const uint32_t *rng, int32_t *ids) {
  gllmk_status st = CL(sample_shape)(rows, vocab, window);
  if (st != GLLMK_OK) return st;
  if (rows == 0) return GLLMK_OK;
  if (vocab == 0 || !logits || !ids || !rng || (window && !recent)) return GLLMK_E_INVAL;
  if (!(repeat_penalty > 0.0f) || temperature != temperature || !(top_p > 0.0f) ||
      !(min_p >= 0.0f && min_p <= 1.0f) || isinf(repeat_penalty))
    return GLLMK_E_INVAL;
  GET_KT();
  GLLMK_WS_BEGIN(CL(sample_plan), rows, vocab);
  struct gllmk__sample_args a = {vocab, window, top_k, recent, repeat_penalty, temperature,
                                 top_p, min_p, seed, rng};
  struct CL(sample_ctx) c = {kt, &a, logits, ids, 0};
  gllmk__parallel(rows, 1, 1, CL(sample_run), &c);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}
