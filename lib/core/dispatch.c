/* dispatch.c -- layer 2: pick the kernel table of the best runnable ISA, once
 * SPDX-License-Identifier: MIT
 *
 * The tables are immutable; one pointer is published with pthread_once on the
 * first call of any function (no init call), and gllmk_cpu_set_isa swaps it
 * atomically.  GLLMK_CPU_ISA forces a tier; one this build or CPU cannot run
 * leaves no table, so operators return GLLMK_E_UNSUPPORTED instead of
 * crashing or silently running something else.
 */
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tier {
  const char *name;
  unsigned needs;                       /* GLLMK_CPU_* bits */
  const struct gllmk_kernels *kt;       /* NULL: not compiled in */
};

/* every row of isa/isas.def, best first; kt is NULL for the ones this build
 * did not compile (other architectures, --disable-<isa>, a compiler without
 * the flags): known names that are never runnable */
static const struct tier tiers[] = {
#define GLLMK_ISA_ROW(name, NAME, arch, needs, what) \
  {#name, needs, GLLMK_ENABLED(GLLMK_HAVE_##NAME) ? &gllmk__kt_##name : NULL},
#include "isa/isas.def"
#undef GLLMK_ISA_ROW
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned cpu_features;
static const struct gllmk_kernels *active;   /* atomic access */
static const struct gllmk_kernels *best;
static char compiled[128];

static const struct tier *find_tier(const char *name) {
  for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++)
    if (strcasecmp(name, tiers[i].name) == 0) return &tiers[i];
  return NULL;
}

static int runnable(const struct tier *t) {
  return t && t->kt && (cpu_features & t->needs) == t->needs;
}

static void init(void) {
  cpu_features = gllmk__cpu_detect();
  best = &gllmk__kt_scalar;
  for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++)
    if (runnable(&tiers[i])) { best = tiers[i].kt; break; }
  compiled[0] = 0;
  for (size_t i = sizeof tiers / sizeof tiers[0]; i-- > 0;)
    if (tiers[i].kt) {
      if (compiled[0]) strcat(compiled, " ");
      strcat(compiled, tiers[i].name);
    }
  const struct gllmk_kernels *pick = best;
  const char *env = getenv("GLLMK_CPU_ISA");
  if (env && *env && strcasecmp(env, "auto") != 0) {
    const struct tier *t = find_tier(env);
    pick = runnable(t) ? t->kt : NULL;
  }
  __atomic_store_n(&active, pick, __ATOMIC_RELEASE);
}

const struct gllmk_kernels *gllmk__kernels(void) {
  pthread_once(&once, init);
  return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

const char *gllmk_cpu_isa_name(void) {
  const struct gllmk_kernels *kt = gllmk__kernels();
  return kt ? kt->name : "none";
}

gllmk_status gllmk_cpu_isa_check(const char *name) {
  pthread_once(&once, init);
  if (!name) return GLLMK_E_INVAL;
  if (strcasecmp(name, "auto") == 0) return GLLMK_OK;
  if (!find_tier(name)) return GLLMK_E_INVAL;
  return runnable(find_tier(name)) ? GLLMK_OK : GLLMK_E_UNSUPPORTED;
}

gllmk_status gllmk_cpu_set_isa(const char *name) {
  gllmk_status st = gllmk_cpu_isa_check(name);
  if (st != GLLMK_OK) return st;
  const struct gllmk_kernels *kt = strcasecmp(name, "auto") == 0 ? best : find_tier(name)->kt;
  __atomic_store_n(&active, kt, __ATOMIC_RELEASE);
  return GLLMK_OK;
}

const char *gllmk_cpu_isa_compiled(void) {
  pthread_once(&once, init);
  return compiled;
}

const char *gllmk_cpu_features(void) {
  pthread_once(&once, init);
  return gllmk__cpu_feature_string();
}

gllmk_status gllmk_cpu_kernel_slot(const char *isa, size_t i, const char **slot, const char **kernel,
                                   bool *by_hand) {
  pthread_once(&once, init);
  if (!slot || !kernel) return GLLMK_E_INVAL;
  const struct gllmk_kernels *kt = __atomic_load_n(&active, __ATOMIC_ACQUIRE);
  if (isa) {
    const struct tier *t = find_tier(isa);
    if (!t) return GLLMK_E_INVAL;
    kt = t->kt;
  }
  if (!kt) return GLLMK_E_UNSUPPORTED;
  if (i >= kt->nslots) return GLLMK_E_INVAL;
  *slot = kt->slots[i].slot;
  *kernel = kt->slots[i].kernel;
  if (by_hand) *by_hand = kt->slots[i].by_hand != 0;
  return GLLMK_OK;
}
