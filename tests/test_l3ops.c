/* test_l3ops.c -- the model layer's operators: linear, kv_store,
 * tree_attention, sample, embedding_lookup_q
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16:
 *  - linear: y = x w^T + bias against the double reference, m from 1 (decode,
 *    the streaming path) to 33, with and without bias, unaligned pointers.
 *  - kv_store: tokens of several sequences land in the pages their page-table
 *    rows name (shuffled pages, page sizes 1, 3, 16), exactly, and nothing
 *    else of the cache changes.
 *  - tree_attention: each query against ref_flash_attention over the rows it
 *    sees (its sequence's first ctx tokens, then its extra slots), GQA/MQA,
 *    queries that see nothing get zeros; NaN in every slot no query sees.
 *  - sample: greedy is the argmax (lowest id on ties) and ignores the seed;
 *    a chi-square test of 20000 draws against the exact renormalised
 *    distribution for temperature, top-k, top-p, min-p and their mix;
 *    excluded tokens never drawn; the repetition penalty; the same ids with 1
 *    and 2 threads.
 *  - embedding_lookup_q: rows equal gllmk_dequantize's (rounded to T) for
 *    Q8_0, Q4_K, Q6_K, IQ4_XS.
 *  - bad input: out-of-range sequences, slots, pages, ids, extra slots; bad
 *    sampling parameters; nothing written.
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ linear */
static void run_linear(tu_check *c, tu_dtype dt, size_t m, size_t n, size_t k, int with_bias,
                       size_t off)
{
  tu_arr x, w, b, y;
  tu_arr_alloc(&x, dt, m * k, off % 4);
  tu_arr_alloc(&w, dt, n * k, (off + 1) % 4);
  tu_arr_alloc(&b, dt, n, (off + 2) % 4);
  tu_arr_alloc(&y, dt, m * n, (off + 3) % 4);
  tu_arr_uniform(&x, -1, 1);
  tu_arr_uniform(&w, -1, 1);
  tu_arr_uniform(&b, -1, 1);
  tu_arr_poison(&y);
  gllmk_status st = TU_CALL(dt, linear, x.p, w.p, with_bias ? b.p : NULL, y.p, m, n, k);
  if (tu_check_status(c, st, GLLMK_OK, "linear m=%zu n=%zu k=%zu bias=%d", m, n, k, with_bias)) {
    double *got = tu_dalloc(m * n);
    tu_arr_read(&y, got);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double s = with_bias ? b.v[j] : 0, mag = with_bias ? fabs(b.v[j]) : 0;
        for (size_t l = 0; l < k; l++) {
          s += x.v[i * k + l] * w.v[j * k + l];
          mag += fabs(x.v[i * k + l] * w.v[j * k + l]);
        }
        if (!tu_check_out(c, dt, got[i * n + j], s, tu_acc_eps(k + 1) * mag,
                          "linear m=%zu n=%zu k=%zu bias=%d y[%zu][%zu]", m, n, k, with_bias, i, j))
          break;
      }
    free(got);
  }
  tu_check_input(c, &x, "x");
  tu_check_input(c, &w, "w");
  tu_check_input(c, &b, "bias");
  tu_check_guards(c, &y, "y");
  tu_arr_free(&x);
  tu_arr_free(&w);
  tu_arr_free(&b);
  tu_arr_free(&y);
}

static void test_linear(const char *isa, tu_dtype dt)
{
  static const size_t ms[] = { 1, 2, 3, 8, 9, 33 }, ns[] = { 1, 7, 64, 130 }, ks[] = { 1, 17, 64 };
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (size_t a = 0; a < 6; a++)
    for (size_t b = 0; b < 4; b++)
      for (size_t d = 0; d < 3; d++)
        for (int bias = 0; bias < 2; bias++)
          run_linear(&c, dt, ms[a], ns[b], ks[d], bias, idx++);
  float wdummy[25] = { 0 };
  gllmk_status st = TU_CALL(dt, linear, NULL, (const void *)wdummy, NULL, NULL, 0, 5, 5);
  tu_check_status(&c, st, GLLMK_OK, "linear m=0 with NULL x and y");
  st = TU_CALL(dt, linear, NULL, NULL, NULL, NULL, 2, 5, 5);
  tu_check_status(&c, st, GLLMK_E_INVAL, "linear m=2 with NULL buffers");
  st = TU_CALL(dt, linear, NULL, NULL, NULL, NULL, SIZE_MAX, SIZE_MAX, 2);
  tu_check_status(&c, st, GLLMK_E_OVERFLOW, "linear m*n overflows");
  tu_check_done(&c, "linear %s %s: m 1..33 (decode and GEMM paths), bias or not", tu_dtname(dt), isa);
}

/* ------------------------------------------------------------------ paged cache */
typedef struct kvcase {
  size_t n_seqs, max_pages, page_size, kv_heads, heads, d;
} kvcase;

/* the cache: n_pages = n_seqs * max_pages + 2 spare pages, rows of the page
 * table a shuffled partition; *perm_out the table */
static void test_tree_case(tu_check *c, tu_dtype dt, const kvcase *p, size_t idx)
{
  size_t n_pages = p->n_seqs * p->max_pages + 2, row = p->kv_heads * p->d;
  size_t cap = p->max_pages * p->page_size, nc = n_pages * p->page_size * row;
  uint32_t *perm = tu_xmalloc(n_pages * sizeof *perm);
  tu_permutation_u32(perm, n_pages);
  uint32_t *pt = tu_xmalloc(p->n_seqs * p->max_pages * sizeof *pt);
  memcpy(pt, perm, p->n_seqs * p->max_pages * sizeof *pt);
  /* per sequence a length len[s] <= cap; store them all in one kv_store */
  size_t *len = tu_xmalloc(p->n_seqs * sizeof *len), total = 0;
  for (size_t s = 0; s < p->n_seqs; s++) {
    len[s] = 1 + tu_rand_below(cap);
    total += len[s];
  }
  uint32_t *seq = tu_xmalloc(total * sizeof *seq), *slot = tu_xmalloc(total * sizeof *slot);
  /* interleave the sequences in a random order of tokens */
  size_t *perm_tok = tu_xmalloc(total * sizeof *perm_tok), t = 0;
  for (size_t s = 0; s < p->n_seqs; s++)
    for (size_t j = 0; j < len[s]; j++, t++) {
      seq[t] = (uint32_t)s;
      slot[t] = (uint32_t)j;
    }
  for (size_t i = total; i > 1; i--) {
    size_t j = tu_rand_below(i);
    uint32_t a = seq[i - 1], b = slot[i - 1];
    seq[i - 1] = seq[j], slot[i - 1] = slot[j];
    seq[j] = a, slot[j] = b;
  }
  free(perm_tok);
  tu_arr k, v, kc, vc;
  tu_arr_alloc(&k, dt, total * row, idx % 4);
  tu_arr_alloc(&v, dt, total * row, (idx + 1) % 4);
  tu_arr_alloc(&kc, dt, nc, (idx + 2) % 4);
  tu_arr_alloc(&vc, dt, nc, (idx + 3) % 4);
  tu_arr_uniform(&k, -1, 1);
  tu_arr_uniform(&v, -2, 2);
  double *nan = tu_dalloc(nc);
  for (size_t i = 0; i < nc; i++)
    nan[i] = NAN;
  tu_arr_set(&kc, nan);
  tu_arr_set(&vc, nan);
  gllmk_status st = TU_CALL(dt, kv_store, k.p, v.p, kc.p, vc.p, pt, seq, slot, total, p->kv_heads,
                            p->d, p->page_size, n_pages, p->n_seqs, p->max_pages);
  tu_check_status(c, st, GLLMK_OK, "kv_store %zu tokens of %zu seqs, page %zu", total, p->n_seqs,
                  p->page_size);
  double *kv = tu_dalloc(nc), *vv = tu_dalloc(nc);
  tu_arr_read(&kc, kv);
  tu_arr_read(&vc, vv);
  /* expected cache: NaN except the stored tokens */
  double *ek = tu_dalloc(nc), *ev = tu_dalloc(nc);
  memcpy(ek, nan, nc * sizeof *ek);
  memcpy(ev, nan, nc * sizeof *ev);
  for (size_t i = 0; i < total; i++) {
    size_t at = ((size_t)pt[seq[i] * p->max_pages + slot[i] / p->page_size] * p->page_size +
                 slot[i] % p->page_size) * row;
    memcpy(ek + at, k.v + i * row, row * sizeof *ek);
    memcpy(ev + at, v.v + i * row, row * sizeof *ev);
  }
  int same = 1;
  for (size_t i = 0; i < nc && same; i++)
    same = (isnan(ek[i]) ? isnan(kv[i]) : kv[i] == ek[i]) &&
           (isnan(ev[i]) ? isnan(vv[i]) : vv[i] == ev[i]);
  tu_check_true(c, same, "kv_store %zu tokens, page %zu: the cache holds exactly the stored rows",
                total, p->page_size);
  tu_check_guards(c, &kc, "k_cache");
  tu_check_guards(c, &vc, "v_cache");

  /* queries: each of a random sequence, ctx <= len, extras = a random subset
   * of the slots ctx .. len-1 in a random order */
  size_t nq = 1 + tu_rand_below(9);
  uint32_t *qs = tu_xmalloc(nq * sizeof *qs), *ctx = tu_xmalloc(nq * sizeof *ctx);
  uint32_t *xs = tu_xmalloc((nq + 1) * sizeof *xs), *xl = tu_xmalloc(nq * cap * sizeof *xl + 4);
  size_t nx = 0;
  for (size_t i = 0; i < nq; i++) {
    size_t s = tu_rand_below(p->n_seqs);
    qs[i] = (uint32_t)s;
    ctx[i] = (uint32_t)(i == 0 ? 0 : tu_rand_below(len[s] + 1));
    xs[i] = (uint32_t)nx;
    for (size_t j = ctx[i]; j < len[s]; j++)
      if (tu_rand_below(3))
        xl[nx++] = (uint32_t)j;
    for (size_t j = nx; j > xs[i] + 1; j--) {
      size_t r = xs[i] + tu_rand_below(j - xs[i]);
      uint32_t a = xl[j - 1];
      xl[j - 1] = xl[r], xl[r] = a;
    }
    if (i == 0 && p->n_seqs > 1)   /* query 0 sees nothing */
      nx = xs[0];
  }
  xs[nq] = (uint32_t)nx;
  size_t qn = nq * p->heads * p->d;
  tu_arr q, o;
  tu_arr_alloc(&q, dt, qn, idx % 3);
  tu_arr_alloc(&o, dt, qn, (idx + 1) % 3);
  tu_arr_uniform(&q, -1, 1);
  tu_arr_poison(&o);
  float scale = (float)(1.0 / sqrt((double)p->d));
  st = TU_CALL(dt, tree_attention, q.p, kc.p, vc.p, pt, qs, ctx, xs, xl, o.p, nq, p->heads,
               p->kv_heads, p->d, p->page_size, n_pages, p->n_seqs, p->max_pages, nx, scale);
  if (tu_check_status(c, st, GLLMK_OK, "tree_attention %zu queries heads %zu/%zu d %zu page %zu",
                      nq, p->heads, p->kv_heads, p->d, p->page_size)) {
    double *got = tu_dalloc(qn), *ref = tu_dalloc(p->heads * p->d), *mag = tu_dalloc(p->heads * p->d);
    double *gk = tu_dalloc(cap * row), *gv = tu_dalloc(cap * row), *av = tu_dalloc(cap * row);
    tu_arr_read(&o, got);
    for (size_t i = 0; i < nq; i++) {
      size_t nvis = 0;
      for (size_t j = 0; j < ctx[i] + (xs[i + 1] - xs[i]); j++, nvis++) {
        size_t tk = j < ctx[i] ? j : xl[xs[i] + j - ctx[i]];
        size_t at = ((size_t)pt[qs[i] * p->max_pages + tk / p->page_size] * p->page_size +
                     tk % p->page_size) * row;
        memcpy(gk + j * row, kv + at, row * sizeof *gk);
        memcpy(gv + j * row, vv + at, row * sizeof *gv);
      }
      const double *qi = q.v + i * p->heads * p->d;
      ref_flash_attention(qi, gk, gv, ref, 1, nvis, p->heads, p->kv_heads, p->d, scale, false);
      tu_dabs(gv, av, nvis * row);
      ref_flash_attention(qi, gk, av, mag, 1, nvis, p->heads, p->kv_heads, p->d, scale, false);
      for (size_t e = 0; e < p->heads * p->d; e++) {
        double gotv = got[i * p->heads * p->d + e];
        int ok = nvis ? tu_check_out(c, dt, gotv, ref[e], (1e-5 * sqrt((double)nvis + 1) + 1e-5 * p->d) * (mag[e] + 1e-3),
                                     "tree_attention query %zu (seq %u, ctx %u, %u extra) e %zu",
                                     i, qs[i], ctx[i], xs[i + 1] - xs[i], e)
                      : tu_check_true(c, gotv == 0.0, "tree_attention query %zu sees nothing: %g",
                                      i, gotv);
        if (!ok)
          break;
      }
    }
    free(got), free(ref), free(mag), free(gk), free(gv), free(av);
  }
  tu_check_input(c, &q, "q");
  tu_check_guards(c, &o, "out");
  tu_check_guards(c, &kc, "k_cache");

  /* bad input: nothing written */
  tu_arr_snapshot(&kc);
  tu_arr_snapshot(&o);
  uint32_t bad_seq = (uint32_t)p->n_seqs, bad_slot = (uint32_t)cap, one = 0;
  st = TU_CALL(dt, kv_store, k.p, v.p, kc.p, vc.p, pt, &bad_seq, slot, 1, p->kv_heads, p->d,
               p->page_size, n_pages, p->n_seqs, p->max_pages);
  tu_check_status(c, st, GLLMK_E_INVAL, "kv_store: seq >= n_seqs");
  st = TU_CALL(dt, kv_store, k.p, v.p, kc.p, vc.p, pt, &one, &bad_slot, 1, p->kv_heads, p->d,
               p->page_size, n_pages, p->n_seqs, p->max_pages);
  tu_check_status(c, st, GLLMK_E_INVAL, "kv_store: slot beyond the page table row");
  uint32_t save = pt[0];
  pt[0] = (uint32_t)n_pages;
  st = TU_CALL(dt, kv_store, k.p, v.p, kc.p, vc.p, pt, &one, &one, 1, p->kv_heads, p->d,
               p->page_size, n_pages, p->n_seqs, p->max_pages);
  tu_check_status(c, st, GLLMK_E_INVAL, "kv_store: page >= n_pages");
  uint32_t c1 = 1, xs2[2] = { 0, 0 };
  st = TU_CALL(dt, tree_attention, q.p, kc.p, vc.p, pt, &one, &c1, xs2, xl, o.p, 1, p->heads,
               p->kv_heads, p->d, p->page_size, n_pages, p->n_seqs, p->max_pages, nx, scale);
  tu_check_status(c, st, GLLMK_E_INVAL, "tree_attention: page >= n_pages");
  pt[0] = save;
  uint32_t xs3[2] = { 0, 1 }, badx = (uint32_t)cap, bigctx = (uint32_t)cap + 1;
  st = TU_CALL(dt, tree_attention, q.p, kc.p, vc.p, pt, &one, &one, xs3, &badx, o.p, 1, p->heads,
               p->kv_heads, p->d, p->page_size, n_pages, p->n_seqs, p->max_pages, 1, scale);
  tu_check_status(c, st, GLLMK_E_INVAL, "tree_attention: extra slot beyond the table row");
  st = TU_CALL(dt, tree_attention, q.p, kc.p, vc.p, pt, &one, &bigctx, xs2, xl, o.p, 1, p->heads,
               p->kv_heads, p->d, p->page_size, n_pages, p->n_seqs, p->max_pages, 0, scale);
  tu_check_status(c, st, GLLMK_E_INVAL, "tree_attention: ctx beyond the table row");
  uint32_t xs4[2] = { 1, 0 };
  st = TU_CALL(dt, tree_attention, q.p, kc.p, vc.p, pt, &one, &one, xs4, xl, o.p, 1, p->heads,
               p->kv_heads, p->d, p->page_size, n_pages, p->n_seqs, p->max_pages, nx, scale);
  tu_check_status(c, st, GLLMK_E_INVAL, "tree_attention: extra_start decreasing");
  st = TU_CALL(dt, tree_attention, q.p, kc.p, vc.p, pt, &bad_seq, &one, xs2, xl, o.p, 1, p->heads,
               p->kv_heads, p->d, p->page_size, n_pages, p->n_seqs, p->max_pages, nx, scale);
  tu_check_status(c, st, GLLMK_E_INVAL, "tree_attention: seq >= n_seqs");
  tu_check_true(c, tu_arr_unchanged(&kc) && tu_arr_unchanged(&o), "bad calls wrote nothing");

  free(perm), free(pt), free(len), free(seq), free(slot), free(nan), free(kv), free(vv);
  free(ek), free(ev), free(qs), free(ctx), free(xs), free(xl);
  tu_arr_free(&k), tu_arr_free(&v), tu_arr_free(&kc), tu_arr_free(&vc);
  tu_arr_free(&q), tu_arr_free(&o);
}

static void test_tree(const char *isa, tu_dtype dt)
{
  static const kvcase cases[] = {
    { 1, 4, 1, 1, 1, 3 },   { 2, 3, 3, 2, 4, 16 },  { 3, 2, 16, 2, 8, 20 },
    { 4, 5, 3, 1, 4, 64 },  { 2, 2, 16, 4, 4, 32 }, { 3, 8, 1, 2, 2, 8 },
  };
  tu_check c;
  tu_check_init(&c);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int rep = 0; rep < 3; rep++)
      test_tree_case(&c, dt, &cases[i], i * 3 + rep);
  tu_check_done(&c, "kv_store + tree_attention %s %s: paged, shuffled pages, GQA/MQA, random visible "
                "sets, bad input", tu_dtname(dt), isa);
}

/* ------------------------------------------------------------------ sampling */
/* the exact distribution sample_tpl.h defines (steps 2 and 4) over z[V] */
static void sample_dist(const double *z0, size_t V, double temp, size_t top_k, double top_p,
                        double min_p, double *prob)
{
  double zmax = -INFINITY;
  for (size_t j = 0; j < V; j++)
    if (z0[j] > zmax)
      zmax = z0[j];
  double *p = tu_dalloc(V);
  size_t *ord = tu_xmalloc(V * sizeof *ord);
  for (size_t j = 0; j < V; j++) {
    p[j] = exp((z0[j] - zmax) / temp);
    ord[j] = j;
  }
  for (size_t a = 1; a < V; a++)   /* p desc, id asc */
    for (size_t b = a; b > 0 && (p[ord[b]] > p[ord[b - 1]] ||
                                 (p[ord[b]] == p[ord[b - 1]] && ord[b] < ord[b - 1])); b--) {
      size_t t = ord[b];
      ord[b] = ord[b - 1], ord[b - 1] = t;
    }
  size_t nk = top_k && top_k < V ? top_k : V;
  if (top_p < 1) {
    double kept = 0, s = 0;
    for (size_t j = 0; j < nk; j++)
      kept += p[ord[j]];
    size_t j = 0;
    while (j < nk) {
      s += p[ord[j++]];
      if (s >= top_p * kept)
        break;
    }
    nk = j;
  }
  double mass = 0;
  for (size_t j = 0; j < V; j++)
    prob[j] = 0;
  for (size_t j = 0; j < nk; j++)
    if (p[ord[j]] >= min_p) {
      prob[ord[j]] = p[ord[j]];
      mass += p[ord[j]];
    }
  for (size_t j = 0; j < V; j++)
    prob[j] /= mass;
  free(p);
  free(ord);
}

/* chi-square critical values at p = 0.001 for 1..15 degrees of freedom */
static const double chi2_crit[] = { 0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12,
                                    27.88, 29.59, 31.26, 32.91, 34.53, 36.12, 37.70 };

static void test_sample(const char *isa, tu_dtype dt)
{
  /* the sampler is scalar code on every ISA but the conversion of its
   * logits: the chi-square test (20000 draws) on the first ISA of each
   * precision, 2000 draws (exclusions, threads) on the others */
  static int sampled[TU_NDTYPES];
  enum { V = 12, RMAX = 20000 };
  const size_t R = sampled[dt]++ ? 2000 : RMAX;
  const int chi_test = R == RMAX;
  /* logits exactly representable in bf16 */
  static const double z[V] = { 1.5, -0.5, 2.0, 0.25, 2.0, -3.0, 0.75, 1.0, -1.0, 0.5, 1.75, -8.0 };
  tu_check c;
  tu_check_init(&c);
  tu_arr lg;
  tu_arr_alloc(&lg, dt, (size_t)R * V, 1);
  double *vals = tu_dalloc((size_t)R * V);
  for (size_t r = 0; r < R; r++)
    memcpy(vals + r * V, z, sizeof z);
  tu_arr_set(&lg, vals);
  uint32_t *rng = tu_xmalloc(2 * R * sizeof *rng);
  for (size_t r = 0; r < R; r++)
    rng[2 * r] = (uint32_t)r, rng[2 * r + 1] = 7;
  int32_t *ids = tu_xmalloc(R * sizeof *ids), *ids2 = tu_xmalloc(R * sizeof *ids2);

  /* greedy: the lowest id of the largest logit (2 and 4 tie) */
  gllmk_status st = TU_CALL(dt, sample, lg.p, 3, V, NULL, 0, 1.0f, 0.0f, 0, 1.0f, 0.0f, 99, rng, ids);
  tu_check_true(&c, st == GLLMK_OK && ids[0] == 2 && ids[1] == 2 && ids[2] == 2,
                "greedy (temperature 0) = argmax, lowest id on ties: %d", ids[0]);
  st = TU_CALL(dt, sample, lg.p, 3, V, NULL, 0, 1.0f, 1.0f, 1, 1.0f, 0.0f, 5, rng, ids);
  tu_check_true(&c, st == GLLMK_OK && ids[0] == 2, "greedy (top_k 1) = argmax: %d", ids[0]);
  /* repetition penalty: 2 and 4 penalised (4 twice in the window: once) */
  int32_t recent[4] = { 4, 2, 4, -1 };
  st = TU_CALL(dt, sample, lg.p, 1, V, recent, 4, 2.0f, 0.0f, 0, 1.0f, 0.0f, 5, rng, ids);
  tu_check_true(&c, st == GLLMK_OK && ids[0] == 10, "repetition penalty 2 over {4, 2}: %d (want 10)",
                ids[0]);

  struct { double temp; size_t top_k; double top_p, min_p; } sc[] = {
    { 1.0, 0, 1.0, 0.0 }, { 0.7, 0, 1.0, 0.0 }, { 1.3, 5, 1.0, 0.0 }, { 1.0, 0, 0.8, 0.0 },
    { 1.0, 0, 1.0, 0.2 }, { 0.9, 6, 0.9, 0.1 }, { 2.0, 3, 1.0, 0.0 },
  };
  for (size_t s = 0; s < sizeof sc / sizeof sc[0]; s++) {
    double prob[V];
    sample_dist(z, V, sc[s].temp, sc[s].top_k, sc[s].top_p, sc[s].min_p, prob);
    st = TU_CALL(dt, sample, lg.p, R, V, NULL, 0, 1.0f, (float)sc[s].temp, sc[s].top_k,
                 (float)sc[s].top_p, (float)sc[s].min_p, 1234 + s, rng, ids);
    if (!tu_check_status(&c, st, GLLMK_OK, "sample temp %g top_k %zu top_p %g min_p %g", sc[s].temp,
                         sc[s].top_k, sc[s].top_p, sc[s].min_p))
      continue;
    long cnt[V] = { 0 };
    int excluded = 0;
    for (size_t r = 0; r < R; r++) {
      if (ids[r] < 0 || ids[r] >= V || prob[ids[r]] == 0)
        excluded++;
      else
        cnt[ids[r]]++;
    }
    double chi = 0;
    int df = -1;
    for (size_t j = 0; j < V; j++)
      if (prob[j] > 0) {
        double e = prob[j] * R;
        chi += (cnt[j] - e) * (cnt[j] - e) / e;
        df++;
      }
    tu_check_true(&c, excluded == 0, "sample temp %g top_k %zu top_p %g min_p %g: %d draws of "
                  "excluded tokens", sc[s].temp, sc[s].top_k, sc[s].top_p, sc[s].min_p, excluded);
    tu_check_true(&c, !chi_test || df < 1 || chi < chi2_crit[df], "sample temp %g top_k %zu top_p %g min_p %g: "
                  "chi-square %.2f, %d dof (p=0.001 bound %.2f)", sc[s].temp, sc[s].top_k,
                  sc[s].top_p, sc[s].min_p, chi, df, df >= 1 ? chi2_crit[df] : 0.0);
    if (s == 5) {   /* the same ids on one thread */
      int nt = gllmk_get_num_threads();
      gllmk_set_num_threads(1);
      st = TU_CALL(dt, sample, lg.p, R, V, NULL, 0, 1.0f, (float)sc[s].temp, sc[s].top_k,
                   (float)sc[s].top_p, (float)sc[s].min_p, 1234 + s, rng, ids2);
      gllmk_set_num_threads(nt);
      tu_check_true(&c, st == GLLMK_OK && memcmp(ids, ids2, R * sizeof *ids) == 0,
                    "sample: the same ids on 1 thread as on %d", nt);
    }
  }
  /* bad input */
  memset(ids, 0x55, 4 * sizeof *ids);
  memcpy(ids2, ids, 4 * sizeof *ids);
  st = TU_CALL(dt, sample, lg.p, 1, 0, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, rng, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: vocab 0");
  st = TU_CALL(dt, sample, lg.p, 1, V, NULL, 0, 1.0f, NAN, 0, 1.0f, 0.0f, 1, rng, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: NaN temperature");
  st = TU_CALL(dt, sample, lg.p, 1, V, NULL, 0, 0.0f, 1.0f, 0, 1.0f, 0.0f, 1, rng, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: penalty 0");
  st = TU_CALL(dt, sample, lg.p, 1, V, NULL, 0, 1.0f, 1.0f, 0, 0.0f, 0.0f, 1, rng, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: top_p 0");
  st = TU_CALL(dt, sample, lg.p, 1, V, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 1.5f, 1, rng, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: min_p > 1");
  st = TU_CALL(dt, sample, lg.p, 1, V, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, NULL, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: no rng counters");
  st = TU_CALL(dt, sample, lg.p, 1, V, NULL, 3, 1.0f, 1.0f, 0, 1.0f, 0.0f, 1, rng, ids);
  tu_check_status(&c, st, GLLMK_E_INVAL, "sample: window without recent ids");
  tu_check_true(&c, memcmp(ids, ids2, 4 * sizeof *ids) == 0, "sample: bad calls wrote nothing");
  /* NaN and -inf logits: never drawn */
  {
    double zz[V];
    memcpy(zz, z, sizeof z);
    zz[2] = NAN, zz[4] = -INFINITY;
    for (size_t r = 0; r < 2000; r++)
      memcpy(vals + r * V, zz, sizeof zz);
    tu_arr_set(&lg, vals);
    st = TU_CALL(dt, sample, lg.p, 2000, V, NULL, 0, 1.0f, 1.0f, 0, 1.0f, 0.0f, 3, rng, ids);
    int bad = st != GLLMK_OK;
    for (size_t r = 0; r < 2000 && !bad; r++)
      bad = ids[r] == 2 || ids[r] == 4 || ids[r] < 0 || ids[r] >= V;
    tu_check_true(&c, !bad, "sample: NaN and -inf logits are never drawn");
  }
  tu_check_done(&c, "sample %s %s: greedy, penalty, %s of temperature/top-k/top-p/min-p, "
                "threads, bad input", tu_dtname(dt), isa,
                chi_test ? "chi-square" : "exclusions (the chi-square runs on the first ISA)");
  tu_arr_free(&lg);
  free(vals), free(rng), free(ids), free(ids2);
}

/* ------------------------------------------------------------------ embedding_lookup_q */
static void test_embq(const char *isa, tu_dtype dt)
{
  static const gllmk_qtype ts[] = { GLLMK_Q8_0, GLLMK_Q4_K, GLLMK_Q6_K, GLLMK_IQ4_XS };
  enum { VOC = 9, H = 512, NI = 7 };
  tu_check c;
  tu_check_init(&c);
  for (size_t ti = 0; ti < 4; ti++) {
    gllmk_qtype t = ts[ti];
    size_t rb = gllmk_qtype_row_bytes(t, H), tb = rb * VOC;
    unsigned char *table = tu_xmalloc(tb);
    float *src = tu_xmalloc(VOC * H * sizeof *src), *dq = tu_xmalloc(VOC * H * sizeof *dq);
    for (size_t i = 0; i < VOC * H; i++)
      src[i] = (float)tu_uniform(-1, 1);
    gllmk_status st = gllmk_quantize(t, src, VOC * H, table, tb);
    st = st == GLLMK_OK ? gllmk_dequantize(t, table, tb, dq, VOC * H) : st;
    tu_check_status(&c, st, GLLMK_OK, "quantize/dequantize %s", gllmk_qtype_name(t));
    uint32_t ids[NI] = { 3, 0, 8, 3, 5, 1, 7 };
    tu_arr o;
    tu_arr_alloc(&o, dt, NI * H, ti % 4);
    tu_arr_poison(&o);
    st = TU_CALL(dt, embedding_lookup_q, ids, NI, table, tb, t, VOC, H, o.p);
    if (tu_check_status(&c, st, GLLMK_OK, "embedding_lookup_q %s", gllmk_qtype_name(t))) {
      double *got = tu_dalloc(NI * H);
      tu_arr_read(&o, got);
      int same = 1;
      for (size_t i = 0; i < NI && same; i++)
        for (size_t j = 0; j < H && same; j++)
          same = got[i * H + j] == tu_round_dt(dt, dq[ids[i] * H + j]);
      tu_check_true(&c, same, "embedding_lookup_q %s: rows equal gllmk_dequantize's",
                    gllmk_qtype_name(t));
      free(got);
    }
    tu_check_guards(&c, &o, "out");
    tu_arr_snapshot(&o);
    uint32_t bad[2] = { 1, VOC };
    st = TU_CALL(dt, embedding_lookup_q, bad, 2, table, tb, t, VOC, H, o.p);
    tu_check_status(&c, st, GLLMK_E_INVAL, "embedding_lookup_q: id >= vocab");
    st = TU_CALL(dt, embedding_lookup_q, ids, NI, table, tb - 1, t, VOC, H, o.p);
    tu_check_status(&c, st, GLLMK_E_INVAL, "embedding_lookup_q: table too short");
    st = TU_CALL(dt, embedding_lookup_q, ids, NI, table, tb, t, VOC, H - 16, o.p);
    tu_check_status(&c, st, GLLMK_E_INVAL, "embedding_lookup_q: hidden not a multiple of the block");
    st = TU_CALL(dt, embedding_lookup_q, ids, NI, table, tb, GLLMK_AWQ4, VOC, H, o.p);
    tu_check_status(&c, st, GLLMK_E_UNSUPPORTED, "embedding_lookup_q: AWQ4");
    st = TU_CALL(dt, embedding_lookup_q, ids, NI, table, tb, (gllmk_qtype)77, VOC, H, o.p);
    tu_check_status(&c, st, GLLMK_E_UNSUPPORTED, "embedding_lookup_q: unknown type");
    tu_check_true(&c, tu_arr_unchanged(&o), "embedding_lookup_q: bad calls wrote nothing");
    tu_arr_free(&o);
    free(table), free(src), free(dq);
  }
  tu_check_done(&c, "embedding_lookup_q %s %s: Q8_0, Q4_K, Q6_K, IQ4_XS rows, bad input",
                tu_dtname(dt), isa);
}

/* ------------------------------------------------------------------ dequantize */
/* gllmk_dequantize_<dt>: gllmk_dequantize's values rounded once; bad input */
static void test_dequantize(const char *isa, tu_dtype dt)
{
  static const gllmk_qtype ts[] = { GLLMK_Q4_0, GLLMK_Q8_0, GLLMK_Q4_K, GLLMK_Q6_K, GLLMK_IQ4_XS,
                                    GLLMK_SQUEEZELLM };
  enum { N = 5 * 1024 + 512 };   /* several of the f16/bf16 path's chunks and a partial one */
  tu_check c;
  tu_check_init(&c);
  for (size_t ti = 0; ti < sizeof ts / sizeof *ts; ti++) {
    gllmk_qtype t = ts[ti];
    size_t nb = gllmk_qtype_row_bytes(t, N);
    unsigned char *q = tu_xmalloc(nb);
    float *src = tu_xmalloc(N * sizeof *src), *dq = tu_xmalloc(N * sizeof *dq);
    for (size_t i = 0; i < N; i++)
      src[i] = (float)tu_uniform(-3, 3);
    gllmk_status st = gllmk_quantize(t, src, N, q, nb);
    st = st == GLLMK_OK ? gllmk_dequantize(t, q, nb, dq, N) : st;
    tu_check_status(&c, st, GLLMK_OK, "quantize/dequantize %s", gllmk_qtype_name(t));
    tu_arr o;
    tu_arr_alloc(&o, dt, N, ti % 4);
    tu_arr_poison(&o);
    st = TU_CALL(dt, dequantize, q, nb, t, o.p, N);
    if (tu_check_status(&c, st, GLLMK_OK, "dequantize %s", gllmk_qtype_name(t))) {
      double *got = tu_dalloc(N);
      tu_arr_read(&o, got);
      size_t bad = 0;
      for (size_t i = 0; i < N; i++)
        bad += got[i] != tu_round_dt(dt, dq[i]);
      tu_check_true(&c, bad == 0, "dequantize %s: %zu values differ from gllmk_dequantize's, rounded",
                    gllmk_qtype_name(t), bad);
      free(got);
    }
    tu_check_guards(&c, &o, "out");
    tu_arr_snapshot(&o);
    tu_check_status(&c, TU_CALL(dt, dequantize, q, nb - 1, t, o.p, N), GLLMK_E_INVAL, "src too short");
    tu_check_status(&c, TU_CALL(dt, dequantize, q, nb, t, o.p, N - 16), GLLMK_E_INVAL,
                    "n not whole blocks");
    tu_check_status(&c, TU_CALL(dt, dequantize, NULL, nb, t, o.p, N), GLLMK_E_INVAL, "NULL src");
    tu_check_status(&c, TU_CALL(dt, dequantize, q, nb, GLLMK_GPTQ4, o.p, N), GLLMK_E_UNSUPPORTED, "GPTQ4");
    tu_check_status(&c, TU_CALL(dt, dequantize, q, nb, (gllmk_qtype)77, o.p, N), GLLMK_E_UNSUPPORTED,
                    "unknown type");
    tu_check_status(&c, TU_CALL(dt, dequantize, NULL, 0, t, NULL, 0), GLLMK_OK, "n 0");
    tu_check_true(&c, tu_arr_unchanged(&o), "dequantize: bad calls wrote nothing");
    tu_arr_free(&o);
    free(q), free(src), free(dq);
  }
  tu_check_done(&c, "dequantize %s %s: Q4_0, Q8_0, Q4_K, Q6_K, IQ4_XS, SqueezeLLM; bad input",
                tu_dtname(dt), isa);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_linear(isa, dt);
  test_tree(isa, dt);
  test_sample(isa, dt);
  test_embq(isa, dt);
  test_dequantize(isa, dt);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
