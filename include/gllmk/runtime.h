/* gllmk/runtime.h -- version, status strings, CPU dispatch, threads, conversions
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_RUNTIME_H
#define GLLMK_RUNTIME_H

#include <gllmk/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The library version, "MAJOR.MINOR.PATCH". */
GLLMK_API const char *gllmk_version(void);

/** A static English description of a status code (never NULL). */
GLLMK_API const char *gllmk_strerror(gllmk_status status);

/**
 * Name of the CPU ISA whose kernels the library runs: one of "scalar",
 * "avx2", "avxvnni", "avx512", "vnni" on x86-64, "neon", "dotprod", "sve" on
 * aarch64.  The
 * first call of any function picks the best ISA that is compiled in and
 * that this CPU and OS can run, unless the environment variable
 * GLLMK_CPU_ISA names one; if that ISA is unknown, not
 * built or not runnable here, kernels are not run and every operator returns
 * GLLMK_E_UNSUPPORTED (the library never falls back silently or crashes).
 */
GLLMK_API const char *gllmk_cpu_isa_name(void);

/**
 * Switch the CPU ISA at run time: name is an ISA token or "auto" (the best
 * runnable one).  Returns GLLMK_E_INVAL for an unknown name and
 * GLLMK_E_UNSUPPORTED for an ISA that is not compiled in or that this CPU
 * cannot run; the active ISA is then unchanged.  Calls already running keep
 * the kernels they started with.
 */
GLLMK_API gllmk_status gllmk_cpu_set_isa(const char *name);

/** GLLMK_OK if the named ISA is compiled in and runnable here, else as gllmk_cpu_set_isa. */
GLLMK_API gllmk_status gllmk_cpu_isa_check(const char *name);

/** Space-separated ISA tokens compiled into this library, best last ("scalar avx2 avxvnni avx512 vnni"). */
GLLMK_API const char *gllmk_cpu_isa_compiled(void);

/**
 * Slot i of an ISA's kernel table (isa NULL: the active ISA): *slot its name
 * ("qmv_q4_k", "gemm_f16", ...; the last, "gemm_micro", is the GEMM
 * micro-kernel the gemm slots call), *kernel the function it holds, and
 * *by_hand (may be NULL) whether that is the ISA's own code, named by its
 * overrides.def, rather than the template's.  Iterate i from 0 until
 * GLLMK_E_INVAL.  GLLMK_E_INVAL also for a NULL slot or kernel or an unknown
 * ISA; GLLMK_E_UNSUPPORTED for an ISA not compiled in (or, with isa NULL,
 * when GLLMK_CPU_ISA left no active ISA).  Nothing is written on error.
 */
GLLMK_API gllmk_status gllmk_cpu_kernel_slot(const char *isa, size_t i, const char **slot,
                                             const char **kernel, bool *by_hand);

/**
 * Space-separated CPU features the dispatcher detected ("avx2 fma f16c avx512f ...";
 * on aarch64 "asimd asimddp sve sve_vl=BITS", BITS the SVE vector length).
 */
GLLMK_API const char *gllmk_cpu_features(void);

/**
 * Use at most n threads in the kernels (n >= 1); n == 0 restores the default,
 * the number of online CPUs (or OMP_NUM_THREADS when set).  Without OpenMP the
 * library is single-threaded and this only records n.
 */
GLLMK_API gllmk_status gllmk_set_num_threads(int n);
/** The number of threads kernels use. */
GLLMK_API int gllmk_get_num_threads(void);
/** Whether the library was built with OpenMP (1) or runs on the calling thread only (0). */
GLLMK_API int gllmk_has_openmp(void);

/** Conversions, round to nearest-even; NaN stays NaN, overflow gives infinity. */
GLLMK_API float gllmk_f16_to_f32(gllmk_f16 h);
GLLMK_API gllmk_f16 gllmk_f32_to_f16(float f);
GLLMK_API float gllmk_bf16_to_f32(gllmk_bf16 h);
GLLMK_API gllmk_bf16 gllmk_f32_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_RUNTIME_H */
