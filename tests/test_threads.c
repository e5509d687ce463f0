/* test_threads.c -- thread safety and thread-count independence
 * SPDX-License-Identifier: MIT
 *
 *  1. Eight pthreads make the library's *first* calls at the same moment
 *     (vec_dot_f32, cpu_isa_name, cpu_isa_compiled, gemm_f32 and a vec_dot
 *     long enough for the threaded path): the lazy dispatch init must be
 *     race-free, every thread must see the same ISA and exact results.  This
 *     runs before anything else in main, so it really is the first use.
 *  2. Reentrancy: eight threads run gemm / flash_attention concurrently on
 *     their own data while another thread keeps switching the ISA.
 *  3. gllmk_set_num_threads(1), (2) and (3) give the same results (within the
 *     reference tolerance, also compared with each other) for gemm, gemv,
 *     flash_attention, vec_dot, vec_sum, softmax and rms_norm at sizes that
 *     take the threaded paths.
 * Tolerances as in the per-op tests: tu_acc_eps(k) * sum|terms| for
 * reductions/matmul, (2e-5 + 1e-6 sqrt(kv) + 2 se) * sum p|v| for attention,
 * 1e-5 + 1e-6 sqrt(n) relative for softmax/rms_norm, + the store to dt.
 */
#include "testutil.h"
#include "ref.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 8
#define NDOT 1000
#define NBIG 70001

static float da[NBIG], db[NBIG];

typedef struct first_res {
  int id;
  gllmk_status st_dot, st_big, st_gemm;
  float dot, big;
  float C[4];
  const char *name_ptr;
  char name[32];
  char compiled[64];
} first_res;

static pthread_barrier_t barrier;

static void *first_call(void *arg)
{
  first_res *r = arg;
  const float A[4] = { 1, 2, 3, 4 }, B[4] = { 5, 6, 7, 8 };
  pthread_barrier_wait(&barrier);
  switch (r->id % 4) {
  case 0:
    r->st_dot = gllmk_vec_dot_f32(da, db, NDOT, &r->dot);
    r->name_ptr = gllmk_cpu_isa_name();
    break;
  case 1:
    r->name_ptr = gllmk_cpu_isa_name();
    r->st_dot = gllmk_vec_dot_f32(da, db, NDOT, &r->dot);
    break;
  case 2:
    snprintf(r->compiled, sizeof r->compiled, "%s", gllmk_cpu_isa_compiled());
    r->st_gemm = gllmk_gemm_f32(A, B, r->C, 2, 2, 2);
    r->st_dot = gllmk_vec_dot_f32(da, db, NDOT, &r->dot);
    r->name_ptr = gllmk_cpu_isa_name();
    break;
  default:
    r->st_big = gllmk_vec_dot_f32(da, db, NBIG, &r->big);
    r->st_dot = gllmk_vec_dot_f32(da, db, NDOT, &r->dot);
    r->name_ptr = gllmk_cpu_isa_name();
    break;
  }
  if (r->id % 4 != 2)
    r->st_gemm = gllmk_gemm_f32(A, B, r->C, 2, 2, 2);
  if (r->id % 4 != 3)
    r->st_big = gllmk_vec_dot_f32(da, db, NBIG, &r->big);
  if (!r->compiled[0])
    snprintf(r->compiled, sizeof r->compiled, "%s", gllmk_cpu_isa_compiled());
  snprintf(r->name, sizeof r->name, "%s", r->name_ptr ? r->name_ptr : "(null)");
  return NULL;
}

static void test_first_calls(void)
{
  /* small integers: every order of summation gives the exact result */
  double want = 0, want_big = 0;
  for (int i = 0; i < NBIG; i++) {
    da[i] = (float)(i % 7 - 3);
    db[i] = (float)(i % 5 - 2);
    if (i < NDOT)
      want += (double)da[i] * db[i];
    want_big += (double)da[i] * db[i];
  }
  first_res res[NTHREADS];
  pthread_t th[NTHREADS];
  memset(res, 0, sizeof res);
  pthread_barrier_init(&barrier, NULL, NTHREADS);
  int started = 0;
  for (int i = 0; i < NTHREADS; i++) {
    res[i].id = i;
    if (pthread_create(&th[i], NULL, first_call, &res[i]) == 0)
      started++;
    else
      break;
  }
  if (started < NTHREADS)
    bail_out("could not start %d threads", NTHREADS);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&barrier);

  /* now the TAP output (the library was first used by the threads) */
  tu_init_seed_only();
  int st_ok = 1, exact = 1, same_name = 1, same_compiled = 1, gemm_ok = 1;
  for (int i = 0; i < NTHREADS; i++) {
    st_ok &= res[i].st_dot == GLLMK_OK && res[i].st_big == GLLMK_OK && res[i].st_gemm == GLLMK_OK;
    if (res[i].dot != want || res[i].big != want_big) {
      exact = 0;
      diag("thread %d: dot %g (expected %g), big %g (expected %g)", i, (double)res[i].dot, want,
           (double)res[i].big, want_big);
    }
    gemm_ok &= res[i].C[0] == 19 && res[i].C[1] == 22 && res[i].C[2] == 43 && res[i].C[3] == 50;
    if (strcmp(res[i].name, res[0].name)) {
      same_name = 0;
      diag("thread %d sees isa %s, thread 0 %s", i, res[i].name, res[0].name);
    }
    same_compiled &= !strcmp(res[i].compiled, res[0].compiled);
  }
  ok(st_ok, "%d concurrent first calls all return GLLMK_OK", NTHREADS);
  ok(exact, "concurrent first vec_dot_f32 calls (n=%d and n=%d) are exact", NDOT, NBIG);
  ok(gemm_ok, "concurrent first gemm_f32 calls are exact");
  ok(same_name && strcmp(res[0].name, "(null)") != 0, "every thread sees the same ISA (%s)",
     res[0].name);
  ok(same_compiled, "every thread sees the same compiled ISA list (%s)", res[0].compiled);
  ok(!strcmp(gllmk_cpu_isa_name(), res[0].name), "the main thread sees the same ISA (%s)",
     gllmk_cpu_isa_name());
}

/* ------------------------------------------------------------------ shared checks */
typedef struct gemm_case {
  tu_dtype dt;
  size_t m, n, k;
  tu_arr A, B, C;
  double *ref, *tol;
} gemm_case;

static void gemm_case_init(gemm_case *g, tu_dtype dt, size_t m, size_t n, size_t k)
{
  g->dt = dt;
  g->m = m;
  g->n = n;
  g->k = k;
  tu_arr_alloc(&g->A, dt, m * k, 1);
  tu_arr_alloc(&g->B, dt, k * n, 2);
  tu_arr_alloc(&g->C, dt, m * n, 3);
  tu_arr_uniform(&g->A, -1, 1);
  tu_arr_uniform(&g->B, -1, 1);
  g->ref = tu_dalloc(m * n);
  g->tol = tu_dalloc(m * n);
  double *aA = tu_dalloc(m * k), *aB = tu_dalloc(k * n);
  tu_dabs(g->A.v, aA, m * k);
  tu_dabs(g->B.v, aB, k * n);
  ref_gemm(g->A.v, g->B.v, g->ref, m, n, k);
  ref_gemm(aA, aB, g->tol, m, n, k);
  for (size_t i = 0; i < m * n; i++)
    g->tol[i] *= tu_acc_eps(k);
  free(aA);
  free(aB);
}

static void gemm_case_free(gemm_case *g)
{
  tu_arr_free(&g->A);
  tu_arr_free(&g->B);
  tu_arr_free(&g->C);
  free(g->ref);
  free(g->tol);
}

/* run and compare with the reference; returns the number of mismatches */
static long gemm_case_run(gemm_case *g, tu_check *c, double *out)
{
  long before = c->fails;
  tu_arr_poison(&g->C);
  gllmk_status st = TU_CALL(g->dt, gemm, g->A.p, g->B.p, g->C.p, g->m, g->n, g->k);
  if (tu_check_status(c, st, GLLMK_OK, "gemm %s %zux%zux%zu", tu_dtname(g->dt), g->m, g->n, g->k)) {
    double *got = out ? out : tu_dalloc(g->m * g->n);
    tu_arr_read(&g->C, got);
    for (size_t i = 0; i < g->m * g->n; i++)
      if (!tu_check_out(c, g->dt, got[i], g->ref[i], g->tol[i], "gemm %s C[%zu]",
                        tu_dtname(g->dt), i))
        break;
    if (!out)
      free(got);
  }
  tu_check_guards(c, &g->C, "C");
  return c->fails - before;
}

/* ------------------------------------------------------------------ reentrancy */
typedef struct worker {
  int id;
  int iters;
  long fails;
  tu_check chk;
} worker;

static volatile int stop_switching;
static gemm_case shared_cases[NTHREADS];

static void *gemm_worker(void *arg)
{
  worker *w = arg;
  tu_check_init(&w->chk);
  for (int it = 0; it < w->iters; it++)
    w->fails += gemm_case_run(&shared_cases[w->id], &w->chk, NULL);
  return NULL;
}

static void *isa_switcher(void *arg)
{
  (void)arg;
  char list[128];
  snprintf(list, sizeof list, "%s", gllmk_cpu_isa_compiled());
  const char *toks[8];
  int nt = 0;
  char *save = NULL;
  for (char *t = strtok_r(list, " ", &save); t && nt < 8; t = strtok_r(NULL, " ", &save))
    if (gllmk_cpu_isa_check(t) == GLLMK_OK)
      toks[nt++] = t;
  for (int i = 0; !stop_switching; i++)
    gllmk_cpu_set_isa(toks[i % nt]);
  return NULL;
}

static void test_reentrancy(void)
{
  /* each worker checks its own gemm; data generation is single-threaded */
  for (int i = 0; i < NTHREADS; i++)
    gemm_case_init(&shared_cases[i], (tu_dtype)(i % 3), 33 + (size_t)i, 47, 29 + (size_t)i);
  gllmk_set_num_threads(2);
  worker w[NTHREADS];
  pthread_t th[NTHREADS], sw;
  stop_switching = 0;
  int have_switcher = pthread_create(&sw, NULL, isa_switcher, NULL) == 0;
  for (int i = 0; i < NTHREADS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].id = i;
    w[i].iters = 25;
    if (pthread_create(&th[i], NULL, gemm_worker, &w[i]))
      bail_out("pthread_create failed");
  }
  long fails = 0, count = 0;
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    fails += w[i].fails;
    count += w[i].chk.count;
  }
  stop_switching = 1;
  if (have_switcher)
    pthread_join(sw, NULL);
  gllmk_cpu_set_isa("auto");
  gllmk_set_num_threads(0);
  ok(fails == 0 && count > 0,
     "%d threads x 25 gemm (f32/f16/bf16) while another thread switches the ISA: %ld mismatches",
     NTHREADS, fails);
  for (int i = 0; i < NTHREADS; i++)
    gemm_case_free(&shared_cases[i]);
}

/* ------------------------------------------------------------------ thread counts */
static const int counts[] = { 1, 2, 3 };
#define NCOUNTS 3

/* compare runs with different thread counts with each other (2 x tol) */
static void cross(tu_check *c, tu_dtype dt, double *const got[NCOUNTS], const double *ref,
                  const double *tol, size_t n, const char *what)
{
  int identical = 1;
  for (int t = 1; t < NCOUNTS; t++)
    for (size_t i = 0; i < n; i++) {
      double lim = 2 * (tol[i] + tu_out_rtol(dt) * fabs(ref[i]) + tu_out_atol(dt));
      if (!(got[t][i] == got[0][i] || (isnan(got[t][i]) && isnan(got[0][i]))))
        identical = 0;
      if (!tu_check_true(c, fabs(got[t][i] - got[0][i]) <= lim || (isnan(got[t][i]) && isnan(got[0][i])),
                         "%s %s: %d threads give %.9g, 1 thread %.9g at [%zu]", what, tu_dtname(dt),
                         counts[t], got[t][i], got[0][i], i))
        break;
    }
  diag("%s %s: results with 1, 2, 3 threads are %s", what, tu_dtname(dt),
       identical ? "bitwise identical" : "within tolerance (not bitwise identical)");
}

static void thread_counts_gemm(tu_dtype dt)
{
  tu_check c;
  tu_check_init(&c);
  gemm_case g;
  gemm_case_init(&g, dt, 160, 144, 200);
  double *got[NCOUNTS];
  for (int t = 0; t < NCOUNTS; t++) {
    got[t] = tu_dalloc(g.m * g.n);
    gllmk_set_num_threads(counts[t]);
    gemm_case_run(&g, &c, got[t]);
  }
  cross(&c, dt, got, g.ref, g.tol, g.m * g.n, "gemm 160x144x200");
  for (int t = 0; t < NCOUNTS; t++)
    free(got[t]);
  gemm_case_free(&g);
  gllmk_set_num_threads(0);
  tu_check_done(&c, "gemm %s 160x144x200 with 1, 2, 3 threads", tu_dtname(dt));
}

static void thread_counts_gemv(tu_dtype dt)
{
  size_t m = 700, n = 513;
  tu_check c;
  tu_check_init(&c);
  tu_arr A, x, y;
  tu_arr_alloc(&A, dt, m * n, 0);
  tu_arr_alloc(&x, dt, n, 1);
  tu_arr_alloc(&y, dt, m, 2);
  tu_arr_uniform(&A, -1, 1);
  tu_arr_uniform(&x, -1, 1);
  double *ref = tu_dalloc(m), *tol = tu_dalloc(m), *aA = tu_dalloc(m * n), *ax = tu_dalloc(n);
  ref_gemv(A.v, x.v, ref, m, n);
  tu_dabs(A.v, aA, m * n);
  tu_dabs(x.v, ax, n);
  ref_gemv(aA, ax, tol, m, n);
  for (size_t i = 0; i < m; i++)
    tol[i] *= tu_acc_eps(n);
  double *got[NCOUNTS];
  for (int t = 0; t < NCOUNTS; t++) {
    got[t] = tu_dalloc(m);
    gllmk_set_num_threads(counts[t]);
    tu_arr_poison(&y);
    gllmk_status st = TU_CALL(dt, gemv, A.p, x.p, y.p, m, n);
    tu_check_status(&c, st, GLLMK_OK, "gemv threads=%d", counts[t]);
    tu_arr_read(&y, got[t]);
    for (size_t i = 0; i < m; i++)
      if (!tu_check_out(&c, dt, got[t][i], ref[i], tol[i], "gemv threads=%d y[%zu]", counts[t], i))
        break;
    tu_check_guards(&c, &y, "y");
  }
  cross(&c, dt, got, ref, tol, m, "gemv 700x513");
  for (int t = 0; t < NCOUNTS; t++)
    free(got[t]);
  free(ref);
  free(tol);
  free(aA);
  free(ax);
  tu_arr_free(&A);
  tu_arr_free(&x);
  tu_arr_free(&y);
  gllmk_set_num_threads(0);
  tu_check_done(&c, "gemv %s 700x513 with 1, 2, 3 threads", tu_dtname(dt));
}

static void thread_counts_attention(tu_dtype dt)
{
  size_t ql = 48, kl = 80, h = 8, kh = 2, d = 64;
  float scale = 0.125f;
  size_t nq = ql * h * d, nk = kl * kh * d;
  tu_check c;
  tu_check_init(&c);
  tu_arr q, k, v, o;
  tu_arr_alloc(&q, dt, nq, 0);
  tu_arr_alloc(&k, dt, nk, 1);
  tu_arr_alloc(&v, dt, nk, 2);
  tu_arr_alloc(&o, dt, nq, 3);
  tu_arr_uniform(&q, -1, 1);
  tu_arr_uniform(&k, -1, 1);
  tu_arr_uniform(&v, -2, 2);
  double *ref = tu_dalloc(nq), *tol = tu_dalloc(nq), *av = tu_dalloc(nk);
  ref_flash_attention(q.v, k.v, v.v, ref, ql, kl, h, kh, d, scale, true);
  tu_dabs(v.v, av, nk);
  ref_flash_attention(q.v, k.v, av, tol, ql, kl, h, kh, d, scale, true);
  /* scores are at most scale * d = 8 here: se <= tu_acc_eps(d) * 8 */
  for (size_t i = 0; i < nq; i++)
    tol[i] *= 2e-5 + 1e-6 * sqrt((double)kl) + 2 * 8 * tu_acc_eps(d);
  double *got[NCOUNTS];
  for (int t = 0; t < NCOUNTS; t++) {
    got[t] = tu_dalloc(nq);
    gllmk_set_num_threads(counts[t]);
    tu_arr_poison(&o);
    gllmk_status st = TU_CALL(dt, flash_attention, q.p, k.p, v.p, o.p, ql, kl, h, kh, d, scale, true);
    tu_check_status(&c, st, GLLMK_OK, "flash_attention threads=%d", counts[t]);
    tu_arr_read(&o, got[t]);
    for (size_t i = 0; i < nq; i++)
      if (!tu_check_out(&c, dt, got[t][i], ref[i], tol[i], "flash_attention threads=%d [%zu]",
                        counts[t], i))
        break;
    tu_check_guards(&c, &o, "out");
  }
  cross(&c, dt, got, ref, tol, nq, "flash_attention 48x80 heads 8/2 d 64 causal");
  for (int t = 0; t < NCOUNTS; t++)
    free(got[t]);
  free(ref);
  free(tol);
  free(av);
  tu_arr_free(&q);
  tu_arr_free(&k);
  tu_arr_free(&v);
  tu_arr_free(&o);
  gllmk_set_num_threads(0);
  tu_check_done(&c, "flash_attention %s with 1, 2, 3 threads", tu_dtname(dt));
}

static void thread_counts_vec(tu_dtype dt)
{
  size_t n = 200003;
  tu_check c;
  tu_check_init(&c);
  tu_arr a, b;
  tu_arr_alloc(&a, dt, n, 1);
  tu_arr_alloc(&b, dt, n, 2);
  tu_arr_uniform(&a, -1, 1);
  tu_arr_uniform(&b, -1, 1);
  double dref = ref_vec_dot(a.v, b.v, n), sref = ref_vec_sum(a.v, n), dmag = 0, smag = 0;
  for (size_t i = 0; i < n; i++) {
    dmag += fabs(a.v[i] * b.v[i]);
    smag += fabs(a.v[i]);
  }
  double dtol = tu_acc_eps(n) * dmag, stol = tu_acc_eps(n) * smag;
  double *gd[NCOUNTS], *gs[NCOUNTS];
  for (int t = 0; t < NCOUNTS; t++) {
    gd[t] = tu_dalloc(1);
    gs[t] = tu_dalloc(1);
    gllmk_set_num_threads(counts[t]);
    float r1 = 0, r2 = 0;
    gllmk_status s1 = TU_CALL(dt, vec_dot, a.p, b.p, n, &r1);
    gllmk_status s2 = TU_CALL(dt, vec_sum, a.p, n, &r2);
    tu_check_status(&c, s1, GLLMK_OK, "vec_dot threads=%d", counts[t]);
    tu_check_status(&c, s2, GLLMK_OK, "vec_sum threads=%d", counts[t]);
    tu_check_out(&c, TU_F32, r1, dref, dtol, "vec_dot n=%zu threads=%d", n, counts[t]);
    tu_check_out(&c, TU_F32, r2, sref, stol, "vec_sum n=%zu threads=%d", n, counts[t]);
    gd[t][0] = r1;
    gs[t][0] = r2;
  }
  char what[64];
  snprintf(what, sizeof what, "vec_dot n=200003 (%s data)", tu_dtname(dt));
  cross(&c, TU_F32, gd, &dref, &dtol, 1, what);
  snprintf(what, sizeof what, "vec_sum n=200003 (%s data)", tu_dtname(dt));
  cross(&c, TU_F32, gs, &sref, &stol, 1, what);
  for (int t = 0; t < NCOUNTS; t++) {
    free(gd[t]);
    free(gs[t]);
  }
  tu_arr_free(&a);
  tu_arr_free(&b);
  gllmk_set_num_threads(0);
  tu_check_done(&c, "vec_dot, vec_sum %s n=200003 with 1, 2, 3 threads", tu_dtname(dt));
}

static void thread_counts_rows(tu_dtype dt)
{
  size_t rows = 96, n = 1500;
  double rt = 1e-5 + 1e-6 * sqrt((double)n);
  tu_check c;
  tu_check_init(&c);
  tu_arr x, w, o;
  tu_arr_alloc(&x, dt, rows * n, 1);
  tu_arr_alloc(&w, dt, n, 2);
  tu_arr_alloc(&o, dt, rows * n, 3);
  tu_arr_uniform(&x, -4, 4);
  tu_arr_uniform(&w, -1, 1);
  double *rs = tu_dalloc(rows * n), *rr = tu_dalloc(rows * n);
  double *ts = tu_dalloc(rows * n), *tr = tu_dalloc(rows * n);
  ref_softmax(x.v, rs, rows, n);
  ref_rms_norm(x.v, w.v, rr, rows, n, 1e-6f);
  for (size_t i = 0; i < rows * n; i++) {
    ts[i] = rt * fabs(rs[i]) + 1e-37;
    tr[i] = rt * fabs(rr[i]);
  }
  double *gs[NCOUNTS], *gr[NCOUNTS];
  for (int t = 0; t < NCOUNTS; t++) {
    gs[t] = tu_dalloc(rows * n);
    gr[t] = tu_dalloc(rows * n);
    gllmk_set_num_threads(counts[t]);
    tu_arr_poison(&o);
    gllmk_status st = TU_CALL(dt, softmax, x.p, o.p, rows, n);
    tu_check_status(&c, st, GLLMK_OK, "softmax threads=%d", counts[t]);
    tu_arr_read(&o, gs[t]);
    tu_arr_poison(&o);
    st = TU_CALL(dt, rms_norm, x.p, w.p, o.p, rows, n, 1e-6f);
    tu_check_status(&c, st, GLLMK_OK, "rms_norm threads=%d", counts[t]);
    tu_arr_read(&o, gr[t]);
    for (size_t i = 0; i < rows * n; i++)
      if (!tu_check_out(&c, dt, gs[t][i], rs[i], ts[i], "softmax threads=%d [%zu]", counts[t], i))
        break;
    for (size_t i = 0; i < rows * n; i++)
      if (!tu_check_out(&c, dt, gr[t][i], rr[i], tr[i], "rms_norm threads=%d [%zu]", counts[t], i))
        break;
    tu_check_guards(&c, &o, "out");
  }
  cross(&c, dt, gs, rs, ts, rows * n, "softmax 96x1500");
  cross(&c, dt, gr, rr, tr, rows * n, "rms_norm 96x1500");
  for (int t = 0; t < NCOUNTS; t++) {
    free(gs[t]);
    free(gr[t]);
  }
  free(rs);
  free(rr);
  free(ts);
  free(tr);
  tu_arr_free(&x);
  tu_arr_free(&w);
  tu_arr_free(&o);
  gllmk_set_num_threads(0);
  tu_check_done(&c, "softmax, rms_norm %s 96x1500 with 1, 2, 3 threads", tu_dtname(dt));
}

static void thread_counts(tu_dtype dt, void *ctx)
{
  (void)ctx;
  thread_counts_gemm(dt);
  thread_counts_gemv(dt);
  thread_counts_attention(dt);
  thread_counts_vec(dt);
  thread_counts_rows(dt);
}

int main(void)
{
  test_first_calls(); /* must be the first use of the library */
  diag("isa %s, compiled [%s], threads %d, openmp %d", gllmk_cpu_isa_name(),
       gllmk_cpu_isa_compiled(), gllmk_get_num_threads(), gllmk_has_openmp());
  if (!gllmk_has_openmp())
    diag("built without OpenMP: thread counts are recorded but kernels run on the caller");
  int okc = 1;
  for (int t = 0; t < NCOUNTS; t++)
    okc &= gllmk_set_num_threads(counts[t]) == GLLMK_OK &&
           (!gllmk_has_openmp() || gllmk_get_num_threads() == counts[t]);
  gllmk_set_num_threads(0);
  ok(okc, "set_num_threads(1/2/3) accepted and reported back");
  test_reentrancy();
  tu_for_each_dtype(thread_counts, NULL);
  return done_testing();
}
