/* test_cuda_attention.c -- the CUDA backend's flash_attention and flash_attention_paged
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (one TAP skip when it says
 * GLLMK_E_NO_DEVICE, unless GLLMK_TEST_REQUIRE_CUDA=1; in `make check` it
 * runs on the emulated driver, every kernel in the execution harness) and,
 * for f32/f16/bf16 through gllmk_backend_ops_<dt>(be), compares with the
 * double reference of tests/ref.c:
 *  - flash_attention: head_dim 64, 80, 96, 128, 256 (the tensor-core tiles),
 *    72 (zero-padded to 80), 33 (odd: element loads), 300 (over 256: the
 *    FFMA kernel's column chunks, f16/bf16 included); GQA ratios 1, 4, 8
 *    (MQA); causal and not; q_len 1, 7 and 64 against kv_len 1 to 300 (a
 *    selection: within a tile, at and around tile edges, split over blocks
 *    or not); rows that see no key (exact zeros); kv_len 0; unaligned
 *    pointers; large logits and a negative scale; the split path with many
 *    splits (q_len 1, kv_len 1000);
 *  - flash_attention_paged: page sizes 1, 3, 16, shuffled page tables with
 *    spare pages, NaN in every unused page and in the unused tail slots,
 *    seq 1, 7 and cache_len, GQA; the table checked inline and by the check
 *    kernel (600 entries); a bad page id (>= n_pages) leaves out unchanged,
 *    with and without splits, through either check;
 *  - bad input: the CPU functions' codes (overflow, shapes, NULL), then
 *    pointers outside this backend's buffers (another backend's, a host
 *    pointer, a range past a buffer's end, a cache smaller than its
 *    n_pages, a page table shorter than its entries), misaligned elements,
 *    a too small workspace: the error, nothing written;
 *  - a graph: flash_attention (split over blocks) and flash_attention_paged
 *    recorded once, replayed twice on new inputs and a new page table.
 * Inputs and outputs live in device buffers mirroring a tu_arr whole, guards
 * included (checked after each call, as the inputs are).
 *
 * Tolerance per output element, with mag = sum_j p_j |v_j| (the reference
 * weights) and se the f32 error bound of a score (as test_attention.c):
 *   (2e-5 + 1e-6 sqrt(kv_len) + 2 se + 2 u) mag, plus the store to dt,
 * where u is the rounding of P to the element type before P V on the
 * tensor cores (2^-11 f16, 2^-8 bf16; 0 for f32 and head_dim > 256).
 */
#include "testutil.h"
#include "ref.h"

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
#define WS(dt, op, ...) OPS(dt, op##_workspace_bytes, __VA_ARGS__)

/* workspace reserved once for every call of this test */
#define WS_RESERVED ((size_t)4 << 20)

/* ------------------------------------------------------------------ device mirrors */

/* a device copy of n uint32 (no guards) */
static void *u32_up(gllmk_buffer **b, const uint32_t *v, size_t n)
{
  size_t bytes = (n ? n : 1) * sizeof *v;
  if (gllmk_buffer_alloc(be, bytes, b) != GLLMK_OK || gllmk_buffer_upload(*b, 0, v, n * sizeof *v) != GLLMK_OK)
    bail_out("page table buffer");
  return gllmk_buffer_data(*b);
}

/* ------------------------------------------------------------------ tolerance */
/* rounding of P before P V: the tensor-core kernels (f16/bf16, head_dim <= 256) */
static double p_round(tu_dtype dt, size_t d)
{
  if (dt == TU_F32 || d > 256)
    return 0;
  return dt == TU_F16 ? 0x1p-11 : 0x1p-8;
}

/* tol[(t*heads + h)*d + dd] for contiguous q/k/v (test_attention.c's, plus P's rounding) */
static void attn_tol(tu_dtype dt, const double *q, const double *k, const double *v, double *tol,
                     size_t q_len, size_t kv_len, size_t heads, size_t kv_heads, size_t d,
                     double scale, bool causal)
{
  size_t n = q_len * heads * d;
  double *av = tu_dalloc(kv_len * kv_heads * d + 1), *mag = tu_dalloc(n + 1);
  tu_dabs(v, av, kv_len * kv_heads * d);
  ref_flash_attention(q, k, av, mag, q_len, kv_len, heads, kv_heads, d, scale, causal);
  size_t group = heads / kv_heads;
  double pu = p_round(dt, d);
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
        tol[i] = (2e-5 + 1e-6 * sqrt((double)kv_len) + 2 * se + 2 * pu) * mag[i];
      }
    }
  free(av);
  free(mag);
}

static size_t visible(size_t t, size_t q_len, size_t kv_len, bool causal)
{
  if (!causal)
    return kv_len;
  long long last = (long long)t + (long long)kv_len - (long long)q_len;
  return last < 0 ? 0 : (size_t)last + 1 > kv_len ? kv_len : (size_t)last + 1;
}

/* the workspace query said no more than what is reserved */
static void check_ws(tu_check *c, gllmk_status st, size_t bytes, const char *what)
{
  tu_check_status(c, st, GLLMK_OK, "%s workspace query", what);
  tu_check_true(c, bytes <= WS_RESERVED, "%s workspace %zu > reserved", what, bytes);
}

/* ------------------------------------------------------------------ flash_attention */
typedef struct acase {
  size_t q_len, kv_len, heads, kv_heads, d;
  bool causal;
  double scale, range;
  size_t off;   /* element offsets off, off+1, ... (mod 4) of q, k, v, out; 0: all aligned */
} acase;

static void run_attn(tu_check *c, tu_dtype dt, const acase *a)
{
  size_t nq = a->q_len * a->heads * a->d, nk = a->kv_len * a->kv_heads * a->d;
  size_t o0 = a->off ? a->off % 4 : 0, o1 = a->off ? (a->off + 1) % 4 : 0;
  size_t o2 = a->off ? (a->off + 2) % 4 : 0, o3 = a->off ? (a->off + 3) % 4 : 0;
  tu_arr q, k, v, o;
  tu_arr_alloc(&q, dt, nq, o0);
  tu_arr_alloc(&k, dt, nk, o1);
  tu_arr_alloc(&v, dt, nk, o2);
  tu_arr_alloc(&o, dt, nq, o3);
  tu_arr_uniform(&q, -a->range, a->range);
  tu_arr_uniform(&k, -a->range, a->range);
  tu_arr_uniform(&v, -2, 2);
  tu_arr_poison(&o);
  float scale = (float)a->scale;
  tu_dv dq, dk, dvv, dout;
  tu_dv_up(be, &dq, &q);
  tu_dv_up(be, &dk, &k);
  tu_dv_up(be, &dvv, &v);
  tu_dv_up(be, &dout, &o);
  size_t need = 0;
  gllmk_status st = WS(dt, flash_attention, a->q_len, a->kv_len, a->heads, a->kv_heads, a->d,
                       a->causal, &need);
  check_ws(c, st, need, "flash_attention");
  st = OPS(dt, flash_attention, dq.p, dk.p, dvv.p, dout.p, a->q_len, a->kv_len, a->heads,
           a->kv_heads, a->d, scale, a->causal);
  if (tu_check_status(c, st, GLLMK_OK, "flash_attention q=%zu kv=%zu heads=%zu/%zu d=%zu causal=%d",
                      a->q_len, a->kv_len, a->heads, a->kv_heads, a->d, a->causal)) {
    double *ref = tu_dalloc(nq + 1), *tol = tu_dalloc(nq + 1), *got = tu_dalloc(nq + 1);
    ref_flash_attention(q.v, k.v, v.v, ref, a->q_len, a->kv_len, a->heads, a->kv_heads, a->d,
                        scale, a->causal);
    attn_tol(dt, q.v, k.v, v.v, tol, a->q_len, a->kv_len, a->heads, a->kv_heads, a->d, scale,
             a->causal);
    tu_dv_down(&dout);
    tu_dv_down(&dq);
    tu_dv_down(&dk);
    tu_dv_down(&dvv);
    tu_arr_read(&o, got);
    int bad = 0;
    for (size_t t = 0; t < a->q_len && !bad; t++) {
      size_t nvis = visible(t, a->q_len, a->kv_len, a->causal);
      for (size_t i = t * a->heads * a->d; i < (t + 1) * a->heads * a->d && !bad; i++) {
        if (!nvis)
          bad = !tu_check_true(c, got[i] == 0.0,
                               "flash_attention q=%zu kv=%zu causal: query %zu sees no key, out = %g",
                               a->q_len, a->kv_len, t, got[i]);
        else
          bad = !tu_check_out(c, dt, got[i], ref[i], tol[i],
                              "flash_attention q=%zu kv=%zu heads=%zu/%zu d=%zu causal=%d scale=%g off=%zu "
                              "t=%zu h=%zu d=%zu",
                              a->q_len, a->kv_len, a->heads, a->kv_heads, a->d, a->causal, a->scale,
                              a->off, t, (i / a->d) % a->heads, i % a->d);
      }
    }
    free(ref);
    free(tol);
    free(got);
  }
  tu_check_input(c, &q, "q");
  tu_check_input(c, &k, "k");
  tu_check_input(c, &v, "v");
  tu_check_guards(c, &o, "out");
  tu_dv_free(&dq);
  tu_dv_free(&dk);
  tu_dv_free(&dvv);
  tu_dv_free(&dout);
  tu_arr_free(&q);
  tu_arr_free(&k);
  tu_arr_free(&v);
  tu_arr_free(&o);
}

static void test_flash(tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  size_t idx = 1;

  /* q_len x kv_len x GQA x causal at head_dim 64: one tile, tile edges, splits */
  static const size_t lens[][2] = {
    { 1, 1 },   { 1, 5 },    { 1, 63 },   { 1, 64 },   { 1, 129 },  { 1, 257 },  { 1, 300 },
    { 7, 3 },   { 7, 7 },    { 7, 64 },   { 7, 65 },   { 7, 128 },  { 7, 130 },  { 7, 300 },
    { 64, 1 },  { 64, 20 },  { 64, 64 },  { 64, 65 },  { 64, 130 }, { 64, 300 },
  };
  static const size_t gqa[][2] = { { 2, 2 }, { 8, 2 }, { 8, 1 } };
  tu_check_init(&c);
  for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
    for (size_t g = 0; g < 3; g++)
      for (int causal = 0; causal < 2; causal++) {
        /* the biggest shapes for one GQA ratio only */
        if (lens[l][0] == 64 && lens[l][1] >= 130 && g != 1)
          continue;
        acase a = { lens[l][0], lens[l][1], gqa[g][0], gqa[g][1], 64, causal != 0, 0.125, 1.0, 0 };
        run_attn(&c, dt, &a);
      }
  tu_check_done(&c, "flash_attention %s: head_dim 64, GQA 1/4/8, causal and not, q_len 1/7/64 x "
                "kv_len 1..300 (rows that see no key are 0)", dn);

  /* every tile width, padded and odd head_dims, over 256 */
  static const size_t dims[] = { 80, 96, 128, 256, 72, 33, 300 };
  tu_check_init(&c);
  for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
    size_t d = dims[di];
    double sc = 1.0 / sqrt((double)d);
    acase a1 = { 7, 70, 4, 1, d, true, sc, 1.0, 0 };
    acase a2 = { 1, 150, 2, 2, d, false, sc, 1.0, 0 };
    acase a3 = { 20, 33, 2, 1, d, false, sc, 1.0, 0 };
    run_attn(&c, dt, &a1);
    run_attn(&c, dt, &a2);
    if (d != 300)
      run_attn(&c, dt, &a3);
  }
  {
    /* several row tiles and key tiles at the LLM head_dims, causal */
    acase b1 = { 64, 130, 8, 2, 128, true, 1.0 / sqrt(128.0), 1.0, 0 };
    acase b2 = { 40, 100, 4, 2, 256, true, 1.0 / 16, 1.0, 0 };
    acase b3 = { 33, 200, 2, 1, 96, false, 0.1, 1.0, 0 };
    run_attn(&c, dt, &b1);
    run_attn(&c, dt, &b2);
    run_attn(&c, dt, &b3);
  }
  tu_check_done(&c, "flash_attention %s: head_dim 80, 96, 128, 256, 72 (padded), 33 (odd), 300 (> 256); "
                "several row and key tiles at 96, 128, 256", dn);

  /* unaligned pointers (element loads), large logits, negative scale, many splits, kv_len 0 */
  tu_check_init(&c);
  for (int causal = 0; causal < 2; causal++) {
    acase u1 = { 7, 70, 4, 2, 64, causal != 0, 0.125, 1.0, idx++ };
    acase u2 = { 3, 40, 2, 1, 128, causal != 0, 0.1, 1.0, idx++ };
    acase l1 = { 9, 100, 4, 2, 64, causal != 0, 10.0, 3.0, 0 };
    acase l2 = { 1, 100, 2, 1, 32, causal != 0, 30.0, 2.0, 0 };
    acase l3 = { 6, 24, 2, 2, 8, causal != 0, -1.5, 4.0, 0 };
    acase e1 = { 3, 0, 4, 2, 16, causal != 0, 0.25, 1.0, 0 };
    run_attn(&c, dt, &u1);
    run_attn(&c, dt, &u2);
    run_attn(&c, dt, &l1);
    run_attn(&c, dt, &l2);
    run_attn(&c, dt, &l3);
    run_attn(&c, dt, &e1);
  }
  {
    acase s1 = { 1, 1000, 4, 4, 64, false, 0.125, 1.0, 0 };
    acase s2 = { 2, 1000, 8, 1, 128, true, 0.09, 1.0, 0 };
    run_attn(&c, dt, &s1);
    run_attn(&c, dt, &s2);
    gllmk_status st = OPS(dt, flash_attention, NULL, NULL, NULL, NULL, 0, 0, 4, 2, 16, 0.25f, true);
    tu_check_status(&c, st, GLLMK_OK, "flash_attention with q_len == kv_len == 0 and NULL buffers");
  }
  tu_check_done(&c, "flash_attention %s: unaligned pointers, large logits (scale 10, 30), negative "
                "scale, kv_len 0, q_len 1 and 2 over 1000 keys (many splits)", dn);
}

/* ------------------------------------------------------------------ paged */
typedef struct pcase {
  size_t seq, cache_len, heads, kv_heads, d, page_size, spare, off;
  long bad_at;   /* >= 0: page_table[bad_at] = n_pages + 5 (out must stay unchanged) */
} pcase;

static void run_paged(tu_check *c, tu_dtype dt, const pcase *p)
{
  size_t npt = (p->cache_len + p->page_size - 1) / p->page_size;
  size_t n_pages = npt + p->spare;
  size_t tok = p->kv_heads * p->d;
  size_t nc = n_pages * p->page_size * tok, nq = p->seq * p->heads * p->d;
  float scale = (float)(1.0 / sqrt((double)p->d));
  uint32_t *perm = tu_xmalloc((n_pages ? n_pages : 1) * sizeof *perm);
  tu_permutation_u32(perm, n_pages);
  /* the table: the first npt pages of a permutation; NaN everywhere else */
  double *vk = tu_dalloc(nc + 1), *vv = tu_dalloc(nc + 1);
  for (size_t i = 0; i < nc; i++)
    vk[i] = vv[i] = NAN;
  for (size_t t = 0; t < p->cache_len; t++) {
    size_t base = ((size_t)perm[t / p->page_size] * p->page_size + t % p->page_size) * tok;
    for (size_t i = 0; i < tok; i++) {
      vk[base + i] = tu_uniform(-1, 1);
      vv[base + i] = tu_uniform(-2, 2);
    }
  }
  size_t off = p->off;
  tu_arr q, kc, vc, o;
  tu_arr_alloc(&q, dt, nq, off ? off % 4 : 0);
  tu_arr_alloc(&kc, dt, nc, off ? (off + 1) % 4 : 0);
  tu_arr_alloc(&vc, dt, nc, off ? (off + 2) % 4 : 0);
  tu_arr_alloc(&o, dt, nq, off ? (off + 3) % 4 : 0);
  tu_arr_set(&kc, vk);
  tu_arr_set(&vc, vv);
  tu_arr_uniform(&q, -1, 1);
  tu_arr_poison(&o);
  uint32_t *pt = tu_xmalloc((npt ? npt : 1) * sizeof *pt);
  memcpy(pt, perm, npt * sizeof *pt);
  if (p->bad_at >= 0)
    pt[p->bad_at] = (uint32_t)n_pages + 5;
  tu_dv dq, dk, dvv, dout;
  gllmk_buffer *ptb;
  tu_dv_up(be, &dq, &q);
  tu_dv_up(be, &dk, &kc);
  tu_dv_up(be, &dvv, &vc);
  tu_dv_up(be, &dout, &o);
  const uint32_t *dpt = u32_up(&ptb, pt, npt);
  size_t need = 0;
  gllmk_status st = WS(dt, flash_attention_paged, p->seq, p->cache_len, p->heads, p->kv_heads, p->d,
                       p->page_size, n_pages, &need);
  check_ws(c, st, need, "flash_attention_paged");
  st = OPS(dt, flash_attention_paged, dq.p, dk.p, dvv.p, dpt, dout.p, p->seq, p->cache_len, p->heads,
           p->kv_heads, p->d, p->page_size, n_pages, scale);
  if (tu_check_status(c, st, GLLMK_OK,
                      "flash_attention_paged seq=%zu cache=%zu heads=%zu/%zu d=%zu page=%zu pages=%zu",
                      p->seq, p->cache_len, p->heads, p->kv_heads, p->d, p->page_size, n_pages)) {
    tu_dv_down(&dout);
    tu_dv_down(&dq);
    tu_dv_down(&dk);
    tu_dv_down(&dvv);
    if (p->bad_at >= 0) {
      tu_check_true(c, tu_arr_unchanged(&o),
                    "flash_attention_paged seq=%zu cache=%zu page=%zu: page id %zu >= n_pages at "
                    "entry %ld of %zu, out written", p->seq, p->cache_len, p->page_size,
                    (size_t)pt[p->bad_at], p->bad_at, npt);
    } else {
      double *gk = tu_dalloc(p->cache_len * tok + 1), *gv = tu_dalloc(p->cache_len * tok + 1);
      for (size_t t = 0; t < p->cache_len; t++) {
        size_t base = ((size_t)perm[t / p->page_size] * p->page_size + t % p->page_size) * tok;
        memcpy(gk + t * tok, kc.v + base, tok * sizeof *gk);
        memcpy(gv + t * tok, vc.v + base, tok * sizeof *gv);
      }
      double *ref = tu_dalloc(nq + 1), *tol = tu_dalloc(nq + 1), *got = tu_dalloc(nq + 1);
      ref_flash_attention_paged(q.v, kc.v, vc.v, perm, ref, p->seq, p->cache_len, p->heads,
                                p->kv_heads, p->d, p->page_size, n_pages, scale);
      attn_tol(dt, q.v, gk, gv, tol, p->seq, p->cache_len, p->heads, p->kv_heads, p->d, scale, true);
      tu_arr_read(&o, got);
      for (size_t i = 0; i < nq; i++)
        if (!tu_check_out(c, dt, got[i], ref[i], tol[i],
                          "flash_attention_paged seq=%zu cache=%zu heads=%zu/%zu d=%zu page=%zu "
                          "t=%zu h=%zu d=%zu",
                          p->seq, p->cache_len, p->heads, p->kv_heads, p->d, p->page_size,
                          i / (p->heads * p->d), (i / p->d) % p->heads, i % p->d))
          break;
      free(gk);
      free(gv);
      free(ref);
      free(tol);
      free(got);
    }
  }
  tu_check_input(c, &q, "q");
  tu_check_input(c, &kc, "k_cache");
  tu_check_input(c, &vc, "v_cache");
  tu_check_guards(c, &o, "out");
  gllmk_buffer_free(ptb);
  tu_dv_free(&dq);
  tu_dv_free(&dk);
  tu_dv_free(&dvv);
  tu_dv_free(&dout);
  free(perm);
  free(pt);
  free(vk);
  free(vv);
  tu_arr_free(&q);
  tu_arr_free(&kc);
  tu_arr_free(&vc);
  tu_arr_free(&o);
}

static void test_paged(tu_dtype dt)
{
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  static const size_t pages[] = { 1, 3, 16 };
  static const size_t caches[] = { 1, 17, 140 };
  static const size_t gqa[][2] = { { 4, 4 }, { 8, 2 }, { 8, 1 } };
  size_t idx = 0;
  for (size_t pi = 0; pi < 3; pi++)
    for (size_t ci = 0; ci < 3; ci++) {
      size_t cl = caches[ci];
      size_t seqs[3] = { 1, cl > 7 ? 7 : cl, cl > 64 ? 64 : cl };
      for (int s = 0; s < 3; s++) {
        if (s && seqs[s] == seqs[s - 1])
          continue;
        size_t g = idx % 3, d = idx % 4 == 3 ? 33 : 64;
        pcase p = { seqs[s], cl, gqa[g][0], gqa[g][1], d, pages[pi], 1 + idx % 3, idx % 5 == 4 ? idx : 0, -1 };
        run_paged(&c, dt, &p);
        idx++;
      }
    }
  {
    pcase big = { 7, 300, 8, 2, 128, 16, 3, 0, -1 };
    pcase kern = { 1, 600, 4, 1, 64, 1, 4, 0, -1 };   /* 600 entries: the check kernel */
    run_paged(&c, dt, &big);
    run_paged(&c, dt, &kern);
  }
  tu_check_done(&c, "flash_attention_paged %s: page_size 1/3/16, shuffled tables, NaN in unused pages "
                "and slots, seq 1/7/64, GQA/MQA, head_dim 64/33/128, 600-entry table", dn);

  /* a page id >= n_pages: out unchanged, whichever check and with or without splits */
  tu_check_init(&c);
  {
    pcase b1 = { 1, 40, 4, 2, 64, 4, 2, 0, 9 };        /* inline check, one block */
    pcase b2 = { 1, 600, 4, 1, 64, 1, 2, 0, 599 };     /* check kernel, splits */
    pcase b3 = { 64, 300, 2, 2, 64, 16, 1, 0, 0 };     /* inline check, splits */
    pcase b4 = { 64, 64, 8, 1, 64, 1, 1, 0, 63 };      /* inline check, several blocks */
    run_paged(&c, dt, &b1);
    run_paged(&c, dt, &b2);
    run_paged(&c, dt, &b3);
    run_paged(&c, dt, &b4);
  }
  tu_check_done(&c, "flash_attention_paged %s: a page id >= n_pages leaves out unchanged", dn);
}

/* ------------------------------------------------------------------ bad input */
static void test_bad_input(void)
{
  tu_check c;
  tu_check_init(&c);
  gllmk_backend *other;
  gllmk_buffer *buf, *obuf;
  const size_t bytes = 8192;
  if (gllmk_backend_open("cuda", &other) != GLLMK_OK)
    bail_out("second cuda backend");
  if (gllmk_buffer_alloc(be, bytes, &buf) != GLLMK_OK || gllmk_buffer_alloc(other, bytes, &obuf) != GLLMK_OK)
    bail_out("buffers for the bad-input tests");
  unsigned char *snap = tu_xmalloc(bytes), *now = tu_xmalloc(bytes);
  for (size_t i = 0; i < bytes; i++)
    snap[i] = (unsigned char)(i * 37 + 11);
  /* the first 64 bytes: a page table of small ids */
  for (size_t i = 0; i < 64; i++)
    snap[i] = (i % 4) ? 0 : (unsigned char)(i / 4 % 3);
  gllmk_buffer_upload(buf, 0, snap, bytes);
  gllmk_buffer_upload(obuf, 0, snap, bytes);
  unsigned char *p0 = gllmk_buffer_data(buf), *q0 = gllmk_buffer_data(obuf);
  void *p = p0 + 256, *o = p0 + 4096, *q = q0 + 256;
  const uint32_t *pt = (const uint32_t *)(void *)p0;
  const size_t big = SIZE_MAX / 2 + 1;

#define EXPECT(want, call)                                                                       \
  do {                                                                                           \
    gllmk_status st_ = (call);                                                                   \
    tu_check_status(&c, st_, want, "%s", #call);                                                 \
  } while (0)

  for (int di = 0; di < TU_NDTYPES; di++) {
    tu_dtype dt = (tu_dtype)di;
    size_t es = tu_esize(dt), d = 16;
    /* the CPU functions' codes first: overflow, then shapes, then NULL */
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, flash_attention, p, p, p, o, big, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, flash_attention, p, p, p, o, 2, big, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, flash_attention, p, p, p, o, 0, 0, big / 8, 1, 64, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, p, o, 2, 4, 3, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, p, o, 2, 4, 2, 0, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, p, o, 0, 4, 0, 1, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, NULL, p, p, o, 2, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, p, NULL, 2, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, NULL, p, o, 2, 4, 2, 2, d, 1.0f, true));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, NULL, o, 2, 4, 2, 2, d, 1.0f, true));
    EXPECT(GLLMK_E_OVERFLOW, OPS(dt, flash_attention_paged, p, p, p, pt, o, 1, 4, 2, 2, d, 4, big, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, pt, o, 5, 4, 2, 2, d, 4, 2, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, pt, o, 1, 4, 2, 2, d, 0, 2, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, pt, o, 1, 4, 2, 2, d, 4, 0, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, NULL, o, 1, 4, 2, 2, d, 4, 2, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, NULL, p, pt, o, 1, 4, 2, 2, d, 4, 2, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, pt, o, 1, 4, 3, 2, d, 4, 2, 1.0f));
    /* pointers outside this backend's buffers */
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, q, p, p, o, 2, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, q, o, 2, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, p, (void *)snap, 2, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, (void *)(p0 + bytes - 4 * 2 * d * es + es), p, o, 2, 4, 2,
                              2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, p, p, p, (void *)(p0 + bytes - 2 * 2 * d * es + es), 2, 4, 2,
                              2, d, 1.0f, false));
    /* the caches over their whole n_pages: 64 pages of 4 x 2 x 16 do not fit after p */
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, pt, o, 1, 4, 2, 2, d, 4, 64, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, q, pt, o, 1, 4, 2, 2, d, 4, 2, 1.0f));
    /* a page table of 3 entries whose last lies past the buffer's end */
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, (const uint32_t *)(void *)(p0 + bytes - 8),
                              o, 1, 12, 2, 2, d, 4, 2, 1.0f));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, (const uint32_t *)(void *)q0, o, 1, 4,
                              2, 2, d, 4, 2, 1.0f));
    /* misaligned elements */
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention, (void *)(p0 + 257), p, p, o, 2, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, OPS(dt, flash_attention_paged, p, p, p, (const uint32_t *)(void *)(p0 + 2), o, 1,
                              4, 2, 2, d, 4, 2, 1.0f));
    /* the empty cases are fine, NULL included */
    EXPECT(GLLMK_OK, OPS(dt, flash_attention, NULL, NULL, NULL, NULL, 0, 4, 2, 2, d, 1.0f, false));
    EXPECT(GLLMK_OK, OPS(dt, flash_attention, p, NULL, NULL, o, 2, 0, 2, 2, 0, 1.0f, false));
    EXPECT(GLLMK_OK, OPS(dt, flash_attention_paged, NULL, NULL, NULL, pt, NULL, 0, 4, 2, 2, d, 4, 2, 1.0f));
    EXPECT(GLLMK_OK, OPS(dt, flash_attention_paged, NULL, NULL, NULL, NULL, NULL, 0, 0, 2, 2, d, 4, 0, 1.0f));
  }
  {
    size_t need = 0;
    const gllmk_ops_f16 *o16 = gllmk_backend_ops_f16(be);
    EXPECT(GLLMK_E_INVAL, o16->flash_attention(NULL, p, p, p, o, 1, 1, 1, 1, 8, 1.0f, false));
    EXPECT(GLLMK_E_INVAL, o16->flash_attention_workspace_bytes(NULL, 1, 1, 1, 1, 8, false, &need));
    EXPECT(GLLMK_E_INVAL, o16->flash_attention_workspace_bytes(be, 1, 1, 1, 1, 8, false, NULL));
    EXPECT(GLLMK_E_INVAL, o16->flash_attention_workspace_bytes(be, 1, 1, 3, 2, 8, false, &need));
    EXPECT(GLLMK_E_OVERFLOW, o16->flash_attention_paged_workspace_bytes(be, 1, 4, 2, 2, 8, 4, big, &need));
  }
  gllmk_backend_synchronize(be);
  gllmk_buffer_download(buf, 0, now, bytes);
  tu_check_true(&c, !memcmp(now, snap, bytes), "a refused call wrote to the buffer");
  gllmk_buffer_download(obuf, 0, now, bytes);
  tu_check_true(&c, !memcmp(now, snap, bytes), "a refused call wrote to the other backend's buffer");
  tu_check_done(&c, "bad input: the CPU's codes, foreign and host pointers, ranges past the end, "
                    "caches and tables beyond their buffers, misalignment: the error, nothing written");

  /* a workspace smaller than the query asks for: GLLMK_E_NOMEM before anything runs */
  {
    const size_t ql = 1, kl = 2000, h = 2, dd = 64;
    size_t need = 0;
    gllmk_buffer *b2;
    tu_check_init(&c);
    tu_check_status(&c, gllmk_backend_ops_f16(other)->flash_attention_workspace_bytes(other, ql, kl, h, h, dd,
                                                                                      false, &need),
                    GLLMK_OK, "flash_attention workspace query");
    tu_check_true(&c, need > 0, "flash_attention q_len 1 over %zu keys splits (workspace %zu)", kl, need);
    size_t kvb = kl * h * dd * 2, qb = ql * h * dd * 2;
    if (gllmk_buffer_alloc(other, 2 * kvb + 2 * qb, &b2) != GLLMK_OK)
      bail_out("buffer");
    unsigned char *x = gllmk_buffer_data(b2);
    gllmk_status st = gllmk_backend_ops_f16(other)->flash_attention(other, (void *)x, (void *)(x + qb),
                                                                    (void *)(x + qb + kvb),
                                                                    (void *)(x + qb + 2 * kvb), ql, kl, h,
                                                                    h, dd, 0.125f, false);
    if (st == GLLMK_OK) {
      skip("the backend has a default workspace of %zu bytes or more", need);
    } else {
      tu_check_status(&c, st, GLLMK_E_NOMEM, "flash_attention without a workspace");
      tu_check_status(&c, gllmk_backend_reserve_workspace(other, need), GLLMK_OK, "reserve");
      tu_check_status(&c, gllmk_backend_ops_f16(other)->flash_attention(other, (void *)x, (void *)(x + qb),
                                                                        (void *)(x + qb + kvb),
                                                                        (void *)(x + qb + 2 * kvb), ql, kl,
                                                                        h, h, dd, 0.125f, false),
                      GLLMK_OK, "flash_attention with the workspace");
      tu_check_done(&c, "workspace too small: GLLMK_E_NOMEM; enough after reserving the query's size");
    }
    gllmk_backend_synchronize(other);
    gllmk_buffer_free(b2);
  }
#undef EXPECT
  free(snap);
  free(now);
  gllmk_buffer_free(buf);
  gllmk_buffer_free(obuf);
  gllmk_backend_close(other);
}

/* ------------------------------------------------------------------ graph */
/* recorded: flash_attention (bf16, q_len 2 over 500 keys: split over blocks,
 * causal, GQA 4) and flash_attention_paged (f16, seq 3 of 50, page 4), both
 * head_dim 128: kernels with more than 48 KiB of dynamic shared memory */
static void test_graph(void)
{
  const size_t ql = 2, kl = 500, h = 8, kvh = 2, d = 128;
  const size_t seq = 3, cl = 50, ps = 4, npt = (cl + ps - 1) / ps, np = npt + 3, ph = 4, pkvh = 2;
  tu_check c;
  tu_check_init(&c);
  tu_arr q, k, v, o, pq, kc, vc, po;
  tu_arr_alloc(&q, TU_BF16, ql * h * d, 0);
  tu_arr_alloc(&k, TU_BF16, kl * kvh * d, 0);
  tu_arr_alloc(&v, TU_BF16, kl * kvh * d, 0);
  tu_arr_alloc(&o, TU_BF16, ql * h * d, 0);
  tu_arr_alloc(&pq, TU_F16, seq * ph * d, 0);
  tu_arr_alloc(&kc, TU_F16, np * ps * pkvh * d, 0);
  tu_arr_alloc(&vc, TU_F16, np * ps * pkvh * d, 0);
  tu_arr_alloc(&po, TU_F16, seq * ph * d, 0);
  uint32_t pt[16];
  tu_dv dq, dk, dvv, dout, dpq, dkc, dvc, dpo;
  gllmk_buffer *ptb;
  tu_dv_up(be, &dq, &q);
  tu_dv_up(be, &dk, &k);
  tu_dv_up(be, &dvv, &v);
  tu_dv_up(be, &dout, &o);
  tu_dv_up(be, &dpq, &pq);
  tu_dv_up(be, &dkc, &kc);
  tu_dv_up(be, &dvc, &vc);
  tu_dv_up(be, &dpo, &po);
  memset(pt, 0, sizeof pt);
  const uint32_t *dpt = u32_up(&ptb, pt, npt);

  gllmk_graph *graph = NULL;
  tu_check_status(&c, gllmk_graph_begin(be), GLLMK_OK, "gllmk_graph_begin");
  tu_check_status(&c, gllmk_backend_ops_bf16(be)->flash_attention(be, dq.p, dk.p, dvv.p, dout.p, ql, kl, h,
                                                                  kvh, d, 0.125f, true),
                  GLLMK_OK, "flash_attention (recorded)");
  tu_check_status(&c, gllmk_backend_ops_f16(be)->flash_attention_paged(be, dpq.p, dkc.p, dvc.p, dpt, dpo.p,
                                                                       seq, cl, ph, pkvh, d, ps, np, 0.125f),
                  GLLMK_OK, "flash_attention_paged (recorded)");
  tu_check_status(&c, gllmk_graph_end(be, &graph), GLLMK_OK, "gllmk_graph_end");
  tu_check_done(&c, "graph: flash_attention and flash_attention_paged recorded");

  for (int round = 0; round < 2 && graph; round++) {
    tu_check_init(&c);
    tu_arr_uniform(&q, -1, 1);
    tu_arr_uniform(&k, -1, 1);
    tu_arr_uniform(&v, -2, 2);
    tu_arr_uniform(&pq, -1, 1);
    tu_arr_uniform(&kc, -1, 1);
    tu_arr_uniform(&vc, -2, 2);
    uint32_t perm[16];
    tu_permutation_u32(perm, np);
    memcpy(pt, perm, npt * sizeof *pt);
    gllmk_buffer_upload(dq.buf, 0, q.mem, q.mem_bytes);
    gllmk_buffer_upload(dk.buf, 0, k.mem, k.mem_bytes);
    gllmk_buffer_upload(dvv.buf, 0, v.mem, v.mem_bytes);
    gllmk_buffer_upload(dpq.buf, 0, pq.mem, pq.mem_bytes);
    gllmk_buffer_upload(dkc.buf, 0, kc.mem, kc.mem_bytes);
    gllmk_buffer_upload(dvc.buf, 0, vc.mem, vc.mem_bytes);
    gllmk_buffer_upload(ptb, 0, pt, npt * sizeof *pt);
    tu_check_status(&c, gllmk_graph_launch(graph), GLLMK_OK, "gllmk_graph_launch");
    tu_dv_down(&dout);
    tu_dv_down(&dpo);
    size_t n1 = ql * h * d, n2 = seq * ph * d;
    double *ref = tu_dalloc(n1), *tol = tu_dalloc(n1), *got = tu_dalloc(n1);
    ref_flash_attention(q.v, k.v, v.v, ref, ql, kl, h, kvh, d, 0.125, true);
    attn_tol(TU_BF16, q.v, k.v, v.v, tol, ql, kl, h, kvh, d, 0.125, true);
    tu_arr_read(&o, got);
    for (size_t i = 0; i < n1; i++)
      if (!tu_check_out(&c, TU_BF16, got[i], ref[i], tol[i], "graph flash_attention [%zu]", i))
        break;
    free(ref);
    free(tol);
    free(got);
    double *gk = tu_dalloc(cl * pkvh * d), *gv = tu_dalloc(cl * pkvh * d);
    size_t tok = pkvh * d;
    for (size_t t = 0; t < cl; t++) {
      size_t base = ((size_t)pt[t / ps] * ps + t % ps) * tok;
      memcpy(gk + t * tok, kc.v + base, tok * sizeof *gk);
      memcpy(gv + t * tok, vc.v + base, tok * sizeof *gv);
    }
    ref = tu_dalloc(n2), tol = tu_dalloc(n2), got = tu_dalloc(n2);
    ref_flash_attention_paged(pq.v, kc.v, vc.v, pt, ref, seq, cl, ph, pkvh, d, ps, np, 0.125);
    attn_tol(TU_F16, pq.v, gk, gv, tol, seq, cl, ph, pkvh, d, 0.125, true);
    tu_arr_read(&po, got);
    for (size_t i = 0; i < n2; i++)
      if (!tu_check_out(&c, TU_F16, got[i], ref[i], tol[i], "graph flash_attention_paged [%zu]", i))
        break;
    tu_check_guards(&c, &o, "out");
    tu_check_guards(&c, &po, "paged out");
    free(ref);
    free(tol);
    free(got);
    free(gk);
    free(gv);
    tu_check_done(&c, "graph: replay %d on new inputs and a new page table", round + 1);
  }
  gllmk_graph_free(graph);
  gllmk_buffer_free(ptb);
  tu_dv_free(&dq);
  tu_dv_free(&dk);
  tu_dv_free(&dvv);
  tu_dv_free(&dout);
  tu_dv_free(&dpq);
  tu_dv_free(&dkc);
  tu_dv_free(&dvc);
  tu_dv_free(&dpo);
  tu_arr_free(&q);
  tu_arr_free(&k);
  tu_arr_free(&v);
  tu_arr_free(&o);
  tu_arr_free(&pq);
  tu_arr_free(&kc);
  tu_arr_free(&vc);
  tu_arr_free(&po);
}

int main(void)
{
  if (!tu_cuda_open(&be)) return 0;
  diag("backend %s", gllmk_backend_name(be));
  if (gllmk_backend_reserve_workspace(be, WS_RESERVED) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu)", WS_RESERVED);
  for (int d = 0; d < TU_NDTYPES; d++) {
    clock_t t0 = clock();
    test_flash((tu_dtype)d);
    test_paged((tu_dtype)d);
    diag("%s: %.1f s", tu_dtname((tu_dtype)d), (double)(clock() - t0) / CLOCKS_PER_SEC);
  }
  test_bad_input();
  test_graph();
  gllmk_backend_close(be);
  return done_testing();
}
