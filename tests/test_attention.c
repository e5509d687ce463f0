/* test_attention.c -- flash_attention and flash_attention_paged
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, against the double reference:
 *  - flash_attention: GQA ratios 1, 2, 4 and MQA (kv_heads == 1), causal and
 *    not, q_len < kv_len, q_len == kv_len, q_len > kv_len (causal rows that
 *    see no key must be exactly 0), kv_len == 0, head_dim 1, 3, 16, 20, 64,
 *    128, large logits (online-softmax rescaling), unaligned pointers.
 *  - flash_attention_paged: page sizes 1, 3, 16, shuffled page tables with
 *    spare pages, seq < cache_len and seq == cache_len, GQA/MQA.  Spare pages
 *    and the unused tail slots of the last page hold NaN: they must not leak
 *    into the result.
 *
 * Tolerance per output element (t, h, d), with S = sum_j p_j |v_jd| (the
 * reference weights) and se = tu_acc_eps(head_dim) * max_j scale*sum|q k_j|
 * (the f32 error bound of a score):
 *   (2e-5 + 1e-6*sqrt(kv_len) + 2*se) * S, plus the store to dt.
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* tol[(t*heads + h)*d + dd] for contiguous q/k/v (causal visibility as ref) */
static void attn_tol(const double *q, const double *k, const double *v, double *tol,
                     size_t q_len, size_t kv_len, size_t heads, size_t kv_heads, size_t d,
                     double scale, bool causal)
{
  size_t n = q_len * heads * d;
  double *av = tu_dalloc(kv_len * kv_heads * d), *mag = tu_dalloc(n);
  tu_dabs(v, av, kv_len * kv_heads * d);
  ref_flash_attention(q, k, av, mag, q_len, kv_len, heads, kv_heads, d, scale, causal);
  size_t group = heads / kv_heads;
  for (size_t t = 0; t < q_len; t++)
    for (size_t h = 0; h < heads; h++) {
      double se = 0;
      for (size_t j = 0; j < kv_len; j++) {
        double s = 0;
        const double *qv = q + (t * heads + h) * d, *kv = k + (j * kv_heads + h / group) * d;
        for (size_t l = 0; l < d; l++)
          s += fabs(qv[l] * kv[l]);
        if (fabs(scale) * s > se)
          se = fabs(scale) * s;
      }
      se *= tu_acc_eps(d);
      for (size_t l = 0; l < d; l++) {
        size_t i = (t * heads + h) * d + l;
        tol[i] = (2e-5 + 1e-6 * sqrt((double)kv_len) + 2 * se) * mag[i];
      }
    }
  free(av);
  free(mag);
}

/* number of keys query t sees */
static size_t visible(size_t t, size_t q_len, size_t kv_len, bool causal)
{
  if (!causal)
    return kv_len;
  long long last = (long long)t + (long long)kv_len - (long long)q_len;
  return last < 0 ? 0 : (size_t)last + 1 > kv_len ? kv_len : (size_t)last + 1;
}

typedef struct acase {
  size_t q_len, kv_len, heads, kv_heads, d;
  bool causal;
  double scale, range;
  size_t off;
  int null_kv; /* pass NULL k/v (only with kv_len == 0) */
} acase;

static void run_attn(tu_check *c, tu_dtype dt, const acase *a)
{
  size_t nq = a->q_len * a->heads * a->d, nk = a->kv_len * a->kv_heads * a->d;
  tu_arr q, k, v, o;
  tu_arr_alloc(&q, dt, nq, a->off % 4);
  tu_arr_alloc(&k, dt, nk, (a->off + 1) % 4);
  tu_arr_alloc(&v, dt, nk, (a->off + 2) % 4);
  tu_arr_alloc(&o, dt, nq, (a->off + 3) % 4);
  tu_arr_uniform(&q, -a->range, a->range);
  tu_arr_uniform(&k, -a->range, a->range);
  tu_arr_uniform(&v, -2, 2);
  tu_arr_poison(&o);
  float scale = (float)a->scale;
  double *ref = tu_dalloc(nq), *tol = tu_dalloc(nq), *got = tu_dalloc(nq);
  ref_flash_attention(q.v, k.v, v.v, ref, a->q_len, a->kv_len, a->heads, a->kv_heads, a->d,
                      scale, a->causal);
  attn_tol(q.v, k.v, v.v, tol, a->q_len, a->kv_len, a->heads, a->kv_heads, a->d, scale,
           a->causal);
  gllmk_status st = TU_CALL(dt, flash_attention, q.p, a->null_kv ? NULL : k.p,
                            a->null_kv ? NULL : v.p, o.p, a->q_len, a->kv_len, a->heads,
                            a->kv_heads, a->d, scale, a->causal);
  if (tu_check_status(c, st, GLLMK_OK, "flash_attention q=%zu kv=%zu heads=%zu/%zu d=%zu causal=%d",
                      a->q_len, a->kv_len, a->heads, a->kv_heads, a->d, a->causal)) {
    tu_arr_read(&o, got);
    int bad = 0;
    for (size_t t = 0; t < a->q_len && !bad; t++) {
      size_t nv = visible(t, a->q_len, a->kv_len, a->causal);
      for (size_t i = t * a->heads * a->d; i < (t + 1) * a->heads * a->d && !bad; i++) {
        if (!nv)
          bad = !tu_check_true(c, got[i] == 0.0,
                               "flash_attention q=%zu kv=%zu causal: query %zu sees no key, out = %g, expected 0",
                               a->q_len, a->kv_len, t, got[i]);
        else
          bad = !tu_check_out(c, dt, got[i], ref[i], tol[i],
                              "flash_attention q=%zu kv=%zu heads=%zu/%zu d=%zu causal=%d scale=%g t=%zu h=%zu d=%zu",
                              a->q_len, a->kv_len, a->heads, a->kv_heads, a->d, a->causal,
                              a->scale, t, (i / a->d) % a->heads, i % a->d);
      }
    }
  }
  tu_check_input(c, &q, "q");
  tu_check_input(c, &k, "k");
  tu_check_input(c, &v, "v");
  tu_check_guards(c, &o, "out");
  free(ref);
  free(tol);
  free(got);
  tu_arr_free(&q);
  tu_arr_free(&k);
  tu_arr_free(&v);
  tu_arr_free(&o);
}

static void test_flash(const char *isa, tu_dtype dt)
{
  static const size_t dims[] = { 1, 3, 16, 20, 64, 128 };
  static const size_t gqa[][2] = { { 1, 1 }, { 4, 4 }, { 4, 2 }, { 8, 2 }, { 4, 1 }, { 8, 1 } };
  static const size_t lens[][2] = { { 1, 1 }, { 1, 37 }, { 5, 5 }, { 4, 19 }, { 19, 4 },
                                    { 16, 16 }, { 7, 33 }, { 33, 7 } };
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
    for (size_t g = 0; g < sizeof gqa / sizeof gqa[0]; g++)
      for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
        for (int causal = 0; causal < 2; causal++) {
          /* the biggest shapes only for half of the GQA configs */
          if (dims[di] == 128 && (g % 2))
            continue;
          acase a = { lens[l][0], lens[l][1], gqa[g][0], gqa[g][1], dims[di], causal != 0,
                      1.0 / sqrt((double)dims[di]), 1.0, idx++, 0 };
          run_attn(&c, dt, &a);
        }
    tu_check_done(&c, "flash_attention %s %s: head_dim %zu, GQA 1/2/4 and MQA, causal and not, "
                  "q_len <, =, > kv_len", dn, isa, dims[di]);
  }

  /* large logits: the running max changes a lot (online rescaling) */
  for (int causal = 0; causal < 2; causal++) {
    acase a1 = { 9, 40, 4, 2, 64, causal != 0, 10.0, 3.0, 1, 0 };
    acase a2 = { 1, 100, 2, 1, 32, causal != 0, 30.0, 2.0, 2, 0 };
    acase a3 = { 6, 24, 2, 2, 8, causal != 0, -1.5, 4.0, 3, 0 };
    run_attn(&c, dt, &a1);
    run_attn(&c, dt, &a2);
    run_attn(&c, dt, &a3);
  }
  tu_check_done(&c, "flash_attention %s %s: large logits (scale 10 and 30), negative scale", dn,
                isa);

  {
    acase big = { 64, 96, 8, 2, 64, true, 0.125, 1.0, 1, 0 };
    acase big2 = { 1, 1024, 8, 8, 128, false, 1.0 / sqrt(128.0), 1.0, 2, 0 };
    run_attn(&c, dt, &big);
    run_attn(&c, dt, &big2);
  }
  tu_check_done(&c, "flash_attention %s %s: large (64x96x8/2x64 causal, 1x1024x8x128)", dn, isa);

  for (int causal = 0; causal < 2; causal++) {
    acase e1 = { 3, 0, 4, 2, 16, causal != 0, 0.25, 1.0, 1, 0 };
    acase e2 = { 3, 0, 4, 2, 16, causal != 0, 0.25, 1.0, 2, 1 };
    run_attn(&c, dt, &e1);
    run_attn(&c, dt, &e2);
  }
  {
    gllmk_status st = TU_CALL(dt, flash_attention, NULL, NULL, NULL, NULL, 0, 0, 4, 2, 16, 0.25f,
                              true);
    tu_check_status(&c, st, GLLMK_OK, "flash_attention with q_len == kv_len == 0 and NULL buffers");
  }
  tu_check_done(&c, "flash_attention %s %s: kv_len == 0 gives zeros, q_len == 0", dn, isa);
}

/* ------------------------------------------------------------------ paged */
typedef struct pcase {
  size_t seq, cache_len, heads, kv_heads, d, page_size;
  size_t spare, off;
} pcase;

static void run_paged(tu_check *c, tu_dtype dt, const pcase *p)
{
  size_t npt = (p->cache_len + p->page_size - 1) / p->page_size;
  size_t n_pages = npt + p->spare;
  size_t tok = p->kv_heads * p->d;
  size_t nc = n_pages * p->page_size * tok, nq = p->seq * p->heads * p->d;
  float scale = (float)(1.0 / sqrt((double)p->d));
  uint32_t *perm = tu_xmalloc(n_pages * sizeof *perm);
  tu_permutation_u32(perm, n_pages);
  /* page_table = first npt pages of a permutation; NaN everywhere else */
  double *vk = tu_dalloc(nc), *vv = tu_dalloc(nc);
  for (size_t i = 0; i < nc; i++)
    vk[i] = vv[i] = NAN;
  double *gk = tu_dalloc(p->cache_len * tok), *gv = tu_dalloc(p->cache_len * tok);
  tu_arr q, kc, vc, o;
  tu_arr_alloc(&q, dt, nq, p->off % 4);
  tu_arr_alloc(&kc, dt, nc, (p->off + 1) % 4);
  tu_arr_alloc(&vc, dt, nc, (p->off + 2) % 4);
  tu_arr_alloc(&o, dt, nq, (p->off + 3) % 4);
  for (size_t t = 0; t < p->cache_len; t++) {
    size_t base = ((size_t)perm[t / p->page_size] * p->page_size + t % p->page_size) * tok;
    for (size_t i = 0; i < tok; i++) {
      vk[base + i] = tu_uniform(-1, 1);
      vv[base + i] = tu_uniform(-2, 2);
    }
  }
  tu_arr_set(&kc, vk);
  tu_arr_set(&vc, vv);
  tu_arr_uniform(&q, -1, 1);
  tu_arr_poison(&o);
  for (size_t t = 0; t < p->cache_len; t++) {
    size_t base = ((size_t)perm[t / p->page_size] * p->page_size + t % p->page_size) * tok;
    memcpy(gk + t * tok, kc.v + base, tok * sizeof *gk);
    memcpy(gv + t * tok, vc.v + base, tok * sizeof *gv);
  }
  double *ref = tu_dalloc(nq), *tol = tu_dalloc(nq), *got = tu_dalloc(nq);
  ref_flash_attention_paged(q.v, kc.v, vc.v, perm, ref, p->seq, p->cache_len, p->heads,
                            p->kv_heads, p->d, p->page_size, n_pages, scale);
  attn_tol(q.v, gk, gv, tol, p->seq, p->cache_len, p->heads, p->kv_heads, p->d, scale, true);
  uint32_t *pt = tu_xmalloc((npt ? npt : 1) * sizeof *pt);
  memcpy(pt, perm, npt * sizeof *pt);
  gllmk_status st = TU_CALL(dt, flash_attention_paged, q.p, kc.p, vc.p, pt, o.p, p->seq,
                            p->cache_len, p->heads, p->kv_heads, p->d, p->page_size, n_pages,
                            scale);
  if (tu_check_status(c, st, GLLMK_OK,
                      "flash_attention_paged seq=%zu cache=%zu heads=%zu/%zu d=%zu page=%zu pages=%zu",
                      p->seq, p->cache_len, p->heads, p->kv_heads, p->d, p->page_size, n_pages)) {
    tu_arr_read(&o, got);
    for (size_t i = 0; i < nq; i++)
      if (!tu_check_out(c, dt, got[i], ref[i], tol[i],
                        "flash_attention_paged seq=%zu cache=%zu heads=%zu/%zu d=%zu page=%zu t=%zu h=%zu d=%zu",
                        p->seq, p->cache_len, p->heads, p->kv_heads, p->d, p->page_size,
                        i / (p->heads * p->d), (i / p->d) % p->heads, i % p->d))
        break;
  }
  tu_check_true(c, !memcmp(pt, perm, npt * sizeof *pt), "flash_attention_paged: page_table modified");
  tu_check_input(c, &q, "q");
  tu_check_input(c, &kc, "k_cache");
  tu_check_input(c, &vc, "v_cache");
  tu_check_guards(c, &o, "out");
  free(perm);
  free(pt);
  free(vk);
  free(vv);
  free(gk);
  free(gv);
  free(ref);
  free(tol);
  free(got);
  tu_arr_free(&q);
  tu_arr_free(&kc);
  tu_arr_free(&vc);
  tu_arr_free(&o);
}

static void test_paged(const char *isa, tu_dtype dt)
{
  static const size_t pages[] = { 1, 3, 16 };
  static const size_t caches[] = { 1, 5, 16, 17, 40 };
  static const size_t gqa[][2] = { { 4, 4 }, { 4, 2 }, { 8, 1 } };
  static const size_t dims[] = { 3, 20, 64 };
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (size_t pi = 0; pi < 3; pi++) {
    for (size_t ci = 0; ci < sizeof caches / sizeof caches[0]; ci++)
      for (size_t g = 0; g < 3; g++)
        for (size_t di = 0; di < 3; di++) {
          size_t cl = caches[ci];
          size_t seqs[3] = { 1, cl > 4 ? 4 : cl, cl };
          for (int s = 0; s < 3; s++) {
            if (s && seqs[s] == seqs[s - 1])
              continue;
            pcase p = { seqs[s], cl, gqa[g][0], gqa[g][1], dims[di], pages[pi], 1 + idx % 3, idx };
            run_paged(&c, dt, &p);
            idx++;
          }
        }
    tu_check_done(&c, "flash_attention_paged %s %s: page_size %zu, shuffled tables, NaN in unused "
                  "slots, seq 1/4/cache_len, GQA/MQA", dn, isa, pages[pi]);
  }
  {
    pcase big = { 16, 300, 8, 2, 64, 16, 5, 1 };
    run_paged(&c, dt, &big);
  }
  tu_check_done(&c, "flash_attention_paged %s %s: large (seq 16 of 300, page 16)", dn, isa);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_flash(isa, dt);
  test_paged(isa, dt);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
