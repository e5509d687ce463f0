/* internal.h -- what the ISA-free core shares between its files
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_INTERNAL_H
#define GLLMK_INTERNAL_H

#include <config.h>
#include <gllmk.h>
#include "kernels/kernels.h"

#define GLLMK_HIDDEN __attribute__((visibility("hidden")))

#ifdef GLLMK_ENABLE_DEBUG
#include <assert.h>
#define GLLMK_DEBUG_ASSERT(c) assert(c)
#else
#define GLLMK_DEBUG_ASSERT(c) ((void)0)
#endif

/* cpu.c: detected feature bits */
enum {
  GLLMK_CPU_AVX2 = 1u << 0,     /* AVX2 + FMA + F16C, YMM state enabled by the OS */
  GLLMK_CPU_AVX512 = 1u << 1,   /* AVX-512 F/BW/DQ/VL, ZMM and opmask state enabled */
  GLLMK_CPU_VNNI = 1u << 2,     /* AVX-512 VNNI on top of GLLMK_CPU_AVX512 */
  GLLMK_CPU_NEON = 1u << 3,     /* AArch64 Advanced SIMD (HWCAP_ASIMD) */
  GLLMK_CPU_DOTPROD = 1u << 4,  /* sdot/udot (HWCAP_ASIMDDP) */
  GLLMK_CPU_SVE = 1u << 5,      /* Scalable Vector Extension (HWCAP_SVE) */
};
GLLMK_HIDDEN unsigned gllmk__cpu_detect(void);
GLLMK_HIDDEN const char *gllmk__cpu_feature_string(void);

/* dispatch.c: the active kernel table, or NULL when GLLMK_CPU_ISA named an
 * ISA that cannot run (every operator then returns GLLMK_E_UNSUPPORTED) */
GLLMK_HIDDEN const struct gllmk_kernels *gllmk__kernels(void);

/* threads.c */
GLLMK_HIDDEN int gllmk__nthreads(void);
/* fn(ctx, begin, end) over [0, count) split in contiguous ranges whose
 * boundaries are multiples of grain, on up to gllmk__nthreads() threads, and
 * only when count >= 2 * min_per_thread */
typedef void (*gllmk__range_fn)(void *ctx, size_t begin, size_t end);
GLLMK_HIDDEN void gllmk__parallel(size_t count, size_t grain, size_t min_per_thread,
                                  gllmk__range_fn fn, void *ctx);
/* per-thread grow-only scratch, slot 0..GLLMK_SCRATCH_SLOTS-1; NULL when out of memory */
enum { GLLMK_SCRATCH_GEMM, GLLMK_SCRATCH_ATTN, GLLMK_SCRATCH_QTILE, GLLMK_SCRATCH_SLOTS };
GLLMK_HIDDEN float *gllmk__scratch(int slot, size_t floats);

/* cpu_ops.c: the CPU backend's tables (generated) */
extern GLLMK_HIDDEN const gllmk_ops_f32 gllmk__cpu_ops_f32;
extern GLLMK_HIDDEN const gllmk_ops_f16 gllmk__cpu_ops_f16;
extern GLLMK_HIDDEN const gllmk_ops_bf16 gllmk__cpu_ops_bf16;

/* kernel tables, one per compiled ISA */
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_scalar;
#ifdef GLLMK_HAVE_AVX2
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_avx2;
#endif
#ifdef GLLMK_HAVE_AVX512
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_avx512;
#endif
#ifdef GLLMK_HAVE_VNNI
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_vnni;
#endif
#ifdef GLLMK_HAVE_NEON
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_neon;
#endif
#ifdef GLLMK_HAVE_DOTPROD
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_dotprod;
#endif
#ifdef GLLMK_HAVE_SVE
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_sve;
#endif

/* size arithmetic: false on overflow */
static inline int gllmk__mul(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline int gllmk__mul3(size_t a, size_t b, size_t c, size_t *r) {
  size_t t;
  return gllmk__mul(a, b, &t) && gllmk__mul(t, c, r);
}
static inline int gllmk__add(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

#endif /* GLLMK_INTERNAL_H */
