/* test_rope.c -- rope and rope_with_pos, both layouts, partial rotary_dim
 * SPDX-License-Identifier: MIT
 *
 * For every runnable ISA x f32/f16/bf16, against the double reference:
 * head_dim 2..128 (also odd ones: 3, 5, 20 with rotary_dim 10, whose half is
 * odd), rotary_dim = head_dim, < head_dim, 2 and 0, interleaved pairs
 * (2i, 2i+1) and split pairs (i, i + rotary_dim/2), seq/heads/pos variety,
 * unaligned pointers and a large (threaded) case.  Dimensions >= rotary_dim
 * must come back bit for bit.
 *
 * Tolerance per rotated element: 2^-22 * (|x_a cos| + |x_b sin|) (two f32
 * roundings, fma or not), plus the store to dt (f16 1e-3, bf16 8e-3).
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rcase {
  size_t seq, heads, head_dim, rotary_dim, pos;
  bool interleaved, with_pos, random_angles;
  size_t off;
} rcase;

static void run_rope(tu_check *c, tu_dtype dt, const rcase *k)
{
  size_t half = k->rotary_dim / 2, rows = k->pos + k->seq;
  size_t n = k->seq * k->heads * k->head_dim;
  tu_arr qk, cs, sn;
  tu_arr_alloc(&qk, dt, n, k->off % 4);
  tu_arr_alloc(&cs, dt, rows * half, (k->off + 1) % 4);
  tu_arr_alloc(&sn, dt, rows * half, (k->off + 2) % 4);
  tu_arr_uniform(&qk, -2, 2);
  double *vc = tu_dalloc(rows * half), *vs = tu_dalloc(rows * half);
  for (size_t t = 0; t < rows; t++)
    for (size_t i = 0; i < half; i++) {
      double th = k->random_angles ? tu_uniform(-7, 7)
                                   : (double)t * pow(10000.0, -2.0 * (double)i / (double)k->rotary_dim);
      vc[t * half + i] = cos(th);
      vs[t * half + i] = sin(th);
    }
  tu_arr_set(&cs, vc);
  tu_arr_set(&sn, vs);
  double *ref = tu_dalloc(n), *got = tu_dalloc(n);
  memcpy(ref, qk.v, n * sizeof *ref);
  ref_rope_with_pos(ref, cs.v, sn.v, k->seq, k->heads, k->head_dim, k->rotary_dim,
                    k->interleaved, k->pos);
  gllmk_status st;
  if (k->with_pos)
    st = TU_CALL(dt, rope_with_pos, qk.p, cs.p, sn.p, k->seq, k->heads, k->head_dim,
                 k->rotary_dim, k->interleaved, k->pos);
  else
    st = TU_CALL(dt, rope, qk.p, cs.p, sn.p, k->seq, k->heads, k->head_dim, k->rotary_dim,
                 k->interleaved);
  const char *nm = k->with_pos ? "rope_with_pos" : "rope";
  if (tu_check_status(c, st, GLLMK_OK, "%s seq=%zu heads=%zu head_dim=%zu rot=%zu il=%d pos=%zu",
                      nm, k->seq, k->heads, k->head_dim, k->rotary_dim, k->interleaved, k->pos)) {
    tu_arr_read(&qk, got);
    int bad = 0;
    for (size_t t = 0; t < k->seq && !bad; t++)
      for (size_t h = 0; h < k->heads && !bad; h++)
        for (size_t d = 0; d < k->head_dim && !bad; d++) {
          size_t idx = (t * k->heads + h) * k->head_dim + d;
          if (d >= k->rotary_dim) {
            bad = !tu_check_true(c, !memcmp((char *)qk.p + idx * tu_esize(dt),
                                            qk.snap + idx * tu_esize(dt), tu_esize(dt)),
                                 "%s head_dim=%zu rot=%zu: dim %zu >= rotary_dim changed", nm,
                                 k->head_dim, k->rotary_dim, d);
            continue;
          }
          /* partner of d and the table column */
          size_t i, da, db;
          if (k->interleaved) {
            i = d / 2;
            da = 2 * i;
            db = da + 1;
          } else {
            i = d % half;
            da = i;
            db = i + half;
          }
          size_t base = idx - d, row = (k->pos + t) * half + i;
          double tol = 0x1p-22 * (fabs(qk.v[base + da] * cs.v[row]) + fabs(qk.v[base + db] * sn.v[row]));
          bad = !tu_check_out(c, dt, got[idx], ref[idx], tol,
                              "%s seq=%zu heads=%zu head_dim=%zu rot=%zu il=%d pos=%zu t=%zu h=%zu d=%zu",
                              nm, k->seq, k->heads, k->head_dim, k->rotary_dim, k->interleaved,
                              k->pos, t, h, d);
        }
  }
  tu_check_guards(c, &qk, "qk");
  tu_check_input(c, &cs, "cos");
  tu_check_input(c, &sn, "sin");
  free(vc);
  free(vs);
  free(ref);
  free(got);
  tu_arr_free(&qk);
  tu_arr_free(&cs);
  tu_arr_free(&sn);
}

static void test_rope(const char *isa, tu_dtype dt, bool with_pos)
{
  static const size_t dims[][2] = {
    /* head_dim, rotary_dim */
    { 2, 2 }, { 3, 2 }, { 4, 4 }, { 4, 2 }, { 5, 4 }, { 6, 6 }, { 8, 8 }, { 8, 0 },
    { 16, 16 }, { 16, 8 }, { 20, 20 }, { 20, 10 }, { 32, 32 }, { 34, 34 }, { 64, 64 },
    { 64, 32 }, { 96, 96 }, { 128, 128 }, { 128, 64 }, { 130, 130 }, { 128, 2 },
  };
  static const size_t seqs[] = { 1, 3, 7 }, heads[] = { 1, 2, 5 }, poss[] = { 0, 1, 5, 17 };
  const char *nm = with_pos ? "rope_with_pos" : "rope", *dn = tu_dtname(dt);
  tu_check c;
  tu_check_init(&c);
  size_t idx = 0;
  for (int il = 0; il < 2; il++) {
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
      for (size_t si = 0; si < 3; si++)
        for (size_t hi = 0; hi < 3; hi++) {
          rcase k = { seqs[si], heads[hi], dims[di][0], dims[di][1],
                      with_pos ? poss[idx % 4] : 0, il != 0, with_pos, (idx % 3) == 2, idx };
          run_rope(&c, dt, &k);
          idx++;
        }
    tu_check_done(&c, "%s %s %s: %s, head_dim 2..130, partial rotary_dim, seq 1..7, heads 1..5%s",
                  nm, dn, isa, il ? "interleaved" : "split halves",
                  with_pos ? ", pos 0..17" : "");
  }
  {
    rcase big1 = { 64, 32, 128, 128, with_pos ? 3 : 0, false, with_pos, false, 1 };
    rcase big2 = { 64, 32, 128, 64, with_pos ? 100 : 0, true, with_pos, true, 2 };
    rcase big3 = { 1, 4096, 64, 64, with_pos ? 4095 : 0, false, with_pos, false, 3 };
    run_rope(&c, dt, &big1);
    run_rope(&c, dt, &big2);
    run_rope(&c, dt, &big3);
  }
  tu_check_done(&c, "%s %s %s: large (64x32x128, 1x4096x64)", nm, dn, isa);
  {
    /* seq == 0 or heads == 0: nothing to do (the buffers are empty) */
    gllmk_status st = with_pos ? TU_CALL(dt, rope_with_pos, NULL, NULL, NULL, 0, 4, 8, 8, false, 0)
                               : TU_CALL(dt, rope, NULL, NULL, NULL, 0, 4, 8, 8, false);
    tu_check_status(&c, st, GLLMK_OK, "%s seq=0 with NULL buffers", nm);
  }
  tu_check_done(&c, "%s %s %s: seq == 0", nm, dn, isa);
}

static void body(const char *isa, tu_dtype dt, void *ctx)
{
  (void)ctx;
  test_rope(isa, dt, false);
  test_rope(isa, dt, true);
}

int main(void)
{
  tu_init();
  tu_for_each_isa_dtype(body, NULL);
  return done_testing();
}
