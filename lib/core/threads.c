/* threads.c -- thread count, the parallel-range helper and per-thread scratch
 * SPDX-License-Identifier: MIT
 *
 * Kernels are single-threaded; the public wrappers split their work here.
 * With OpenMP (AC_OPENMP) a range runs on up to gllmk_set_num_threads()
 * threads of the OpenMP pool; without it everything runs on the caller.
 */
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int nthreads_set;            /* 0: default */

gllmk_status gllmk_set_num_threads(int n) {
  if (n < 0) return GLLMK_E_INVAL;
  __atomic_store_n(&nthreads_set, n, __ATOMIC_RELAXED);
  return GLLMK_OK;
}

int gllmk__nthreads(void) {
  const struct gllmk__ws *ws = gllmk__ws_cur;
  if (ws) return ws->nthreads;          /* fixed while an op draws from a workspace */
  int n = __atomic_load_n(&nthreads_set, __ATOMIC_RELAXED);
  if (n > 0) return n;
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int gllmk_get_num_threads(void) { return gllmk__nthreads(); }

int gllmk_has_openmp(void) {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}

/* the split of gllmk__parallel on nthreads threads */
static inline size_t par_width(size_t count, size_t grain, size_t min_per_thread, size_t nt) {
  size_t units = (count + grain - 1) / grain;
  if (min_per_thread && count / min_per_thread < nt) nt = count / min_per_thread;
  if (nt > units) nt = units;
  return nt ? nt : 1;
}

size_t gllmk__parallel_width(size_t count, size_t grain, size_t min_per_thread) {
  if (count == 0) return 0;
#ifdef _OPENMP
  return par_width(count, grain ? grain : 1, min_per_thread, (size_t)gllmk__nthreads());
#else
  (void)grain, (void)min_per_thread;
  return 1;
#endif
}

void gllmk__parallel(size_t count, size_t grain, size_t min_per_thread, gllmk__range_fn fn,
                     void *ctx) {
  if (count == 0) return;
#ifdef _OPENMP
  if (grain == 0) grain = 1;
  size_t nt = par_width(count, grain, min_per_thread, (size_t)gllmk__nthreads());
  if (nt > 1 && !omp_in_parallel()) {
    size_t units = (count + grain - 1) / grain;
    /* the caller's workspace context, for the range: thread t takes region t
     * of each scratch slot (t < nt, the width the op planned with) */
    struct gllmk__ws *ws = gllmk__ws_cur;
#pragma omp parallel num_threads((int)nt)
    {
      size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
      size_t u0 = units * t / T, u1 = units * (t + 1) / T;
      size_t b = u0 * grain, e = u1 * grain < count ? u1 * grain : count;
      struct gllmk__ws *ws0 = NULL;
      unsigned tid0 = 0;
      if (ws) {
        ws0 = gllmk__ws_cur, tid0 = gllmk__ws_tid;
        gllmk__ws_cur = ws, gllmk__ws_tid = (unsigned)t;
      }
      if (b < e) fn(ctx, b, e);
      if (ws) gllmk__ws_cur = ws0, gllmk__ws_tid = tid0;
    }
    return;
  }
#else
  (void)grain, (void)min_per_thread;
#endif
  fn(ctx, 0, count);
}

/* ---- per-thread scratch, freed at thread exit */
struct scratch { float *p[GLLMK_SCRATCH_SLOTS]; size_t n[GLLMK_SCRATCH_SLOTS]; };
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_free(void *v) {
  struct scratch *s = v;
  for (int i = 0; i < GLLMK_SCRATCH_SLOTS; i++) free(s->p[i]);
  free(s);
}
static void scratch_init(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0; }

float *gllmk__scratch(int slot, size_t floats) {
  const struct gllmk__ws *ws = gllmk__ws_cur;
  if (ws) {
    unsigned t = gllmk__ws_tid;
    if (floats > ws->slot[slot].floats || t >= ws->slot[slot].regions) return NULL;
    return (float *)(ws->slot[slot].p + t * ws->slot[slot].stride);
  }
  pthread_once(&scratch_once, scratch_init);
  if (!scratch_key_ok) return NULL;
  struct scratch *s = pthread_getspecific(scratch_key);
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s || pthread_setspecific(scratch_key, s) != 0) { free(s); return NULL; }
  }
  if (s->n[slot] < floats) {
    if (floats > SIZE_MAX / sizeof(float) - 16) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, floats * sizeof(float)) != 0) return NULL;
    free(s->p[slot]);
    s->p[slot] = p;
    s->n[slot] = floats;
  }
  return s->p[slot];
}
