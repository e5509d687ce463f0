/* test_embedding.c -- embedding_lookup
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16: out[i] = table[ids[i]] must be an
 * exact copy (bit for bit for every non-NaN value, including -0 and
 * subnormals; NaN stays NaN), for hidden sizes 1..130, repeated ids, the
 * last id, unaligned pointers and a large (threaded) case.  An id >= vocab
 * anywhere in ids is GLLMK_E_INVAL with nothing written.  Tolerance: exact.
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void run_emb(tu_check *c, tu_dtype dt, size_t n_ids, size_t vocab, size_t hidden,
                    size_t off, int specials)
{
  size_t es = tu_esize(dt);
  tu_arr table, out;
  tu_arr_alloc(&table, dt, vocab * hidden, off % 4);
  tu_arr_alloc(&out, dt, n_ids * hidden, (off + 1) % 4);
  tu_arr_uniform(&table, -3, 3);
  if (specials) {
    static const double sv[] = { -0.0, 0.0, INFINITY, -INFINITY, NAN, 1e-40, 5.9604645e-08,
                                 -3e38, 65504.0 };
    double *v = tu_dalloc(vocab * hidden);
    memcpy(v, table.v, vocab * hidden * sizeof *v);
    for (size_t i = 0; i < vocab * hidden; i += 2)
      v[i] = sv[(i / 2) % (sizeof sv / sizeof sv[0])];
    tu_arr_set(&table, v);
    free(v);
  }
  tu_arr_poison(&out);
  uint32_t *ids = tu_xmalloc((n_ids ? n_ids : 1) * sizeof *ids);
  for (size_t i = 0; i < n_ids; i++)
    ids[i] = (uint32_t)tu_rand_below(vocab);
  if (n_ids > 1) {
    ids[0] = (uint32_t)(vocab - 1); /* the last row */
    ids[n_ids - 1] = ids[n_ids / 2]; /* a repeat */
  }
  uint32_t *ids_copy = tu_xmalloc((n_ids ? n_ids : 1) * sizeof *ids);
  memcpy(ids_copy, ids, n_ids * sizeof *ids);
  gllmk_status st = TU_CALL(dt, embedding_lookup, ids, n_ids, table.p, vocab, hidden, out.p);
  if (tu_check_status(c, st, GLLMK_OK, "embedding_lookup n_ids=%zu vocab=%zu hidden=%zu", n_ids,
                      vocab, hidden)) {
    int bad = 0;
    for (size_t i = 0; i < n_ids && !bad; i++)
      for (size_t h = 0; h < hidden && !bad; h++) {
        const unsigned char *g = (const unsigned char *)out.p + (i * hidden + h) * es;
        const unsigned char *w = table.snap + ((size_t)ids[i] * hidden + h) * es;
        double gv = tu_get(dt, out.p, i * hidden + h);
        double wv = table.v[(size_t)ids[i] * hidden + h];
        int same = isnan(wv) ? isnan(gv) : !memcmp(g, w, es);
        bad = !tu_check_true(c, same,
                             "embedding_lookup hidden=%zu: out[%zu][%zu] = %.9g, table[%u][%zu] = %.9g",
                             hidden, i, h, gv, ids[i], h, wv);
      }
  }
  tu_check_true(c, !memcmp(ids, ids_copy, n_ids * sizeof *ids), "embedding_lookup: ids modified");
  tu_check_input(c, &table, "table");
  tu_check_guards(c, &out, "out");
  free(ids);
  free(ids_copy);
  tu_arr_free(&table);
  tu_arr_free(&out);
}

static void run_bad_id(tu_check *c, tu_dtype dt, size_t n_ids, size_t vocab, size_t hidden,
                       size_t bad_pos, uint32_t bad_id)
{
  tu_arr table, out;
  tu_arr_alloc(&table, dt, vocab * hidden, 1);
  tu_arr_alloc(&out, dt, n_ids * hidden, 3);
  tu_arr_uniform(&table, -3, 3);
  tu_arr_poison(&out);
  uint32_t *ids = tu_xmalloc(n_ids * sizeof *ids);
  for (size_t i = 0; i < n_ids; i++)
    ids[i] = (uint32_t)tu_rand_below(vocab);
  ids[bad_pos] = bad_id;
  gllmk_status st = TU_CALL(dt, embedding_lookup, ids, n_ids, table.p, vocab, hidden, out.p);
  tu_check_status(c, st, GLLMK_E_INVAL, "embedding_lookup id %u >= vocab %zu at %zu of %zu",
                  bad_id, vocab, bad_pos, n_ids);
  tu_check_true(c, tu_arr_unchanged(&out),
                "embedding_lookup: out written although id %u at %zu is out of range", bad_id,
                bad_pos);
  tu_check_guards(c, &out, "out");
  free(ids);
  tu_arr_free(&table);
  tu_arr_free(&out);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  const char *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  static const size_t vocabs[] = { 1, 7, 100 }, nids[] = { 0, 1, 5, 33 };
  size_t idx = 0;
  for (size_t hidden = 1; hidden <= TU_NMAX_SMALL; hidden += (hidden < 40 ? 1 : 9))
    for (size_t v = 0; v < 3; v++)
      for (size_t n = 0; n < 4; n++)
        run_emb(&c, dt, nids[n], vocabs[v], hidden, idx++, 0);
  tu_check_done(&c, "embedding_lookup %s %s: hidden 1..130, vocab 1..100, n_ids 0..33, unaligned",
                dn, isa);

  for (size_t hidden = 1; hidden <= 70; hidden += 23)
    run_emb(&c, dt, 17, 9, hidden, hidden, 1);
  tu_check_done(&c, "embedding_lookup %s %s: exact copy of -0, inf, NaN, subnormals", dn, isa);

  run_emb(&c, dt, 1000, 5000, 128, 1, 0);
  run_emb(&c, dt, 3, 7, 4099, 2, 0);
  run_emb(&c, dt, 200, 300, 1031, 3, 0);
  tu_check_done(&c, "embedding_lookup %s %s: large (1000x128, 3x4099, 200x1031)", dn, isa);

  run_bad_id(&c, dt, 1, 10, 8, 0, 10);
  run_bad_id(&c, dt, 20, 10, 8, 19, 10);      /* the last id: earlier rows valid */
  run_bad_id(&c, dt, 20, 10, 33, 7, UINT32_MAX);
  run_bad_id(&c, dt, 5, 1, 3, 4, 1);
  tu_check_done(&c, "embedding_lookup %s %s: id >= vocab is GLLMK_E_INVAL, out untouched", dn,
                isa);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
