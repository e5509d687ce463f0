/* harness.h -- the execution harness: CUDA kernels compiled for the host, run on the CPU
 * SPDX-License-Identifier: MIT
 *
 * The kernels of cuda/ are compiled a second time by the host C++ compiler
 * with -DGK_EMU (gk_arch.cuh then includes emu.h).  Each kernel's GK_EXPORT
 * registers it here by name with an invoker that unpacks a cuLaunchKernel-style
 * parameter array.  gk_emu_launch runs a grid: one fiber per CUDA thread,
 * a block's fibers on one OS thread with the block's own shared memory.
 *
 * Test-only (tests/cudaemu, never installed).  C API, so that the test
 * driver (a C file) can use it.
 */
#ifndef GK_EMU_HARNESS_H
#define GK_EMU_HARNESS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*gk_emu_invoke_fn)(void **params);

typedef struct gk_emu_kernel {
  const char *name;              /* the extern "C" name, e.g. "gk_vec_add_f32" */
  gk_emu_invoke_fn invoke;       /* calls the kernel with *(T_i *)params[i] */
  int nparams;
  const unsigned *param_size;    /* sizeof each parameter, nparams entries */
  const unsigned *param_align;   /* alignof each parameter */
} gk_emu_kernel;

/* The registered kernel of that name, or NULL. */
const gk_emu_kernel *gk_emu_kernel_find(const char *name);
/* Number of registered kernels and the i-th one (for listings). */
int gk_emu_kernel_count(void);
const gk_emu_kernel *gk_emu_kernel_at(int i);

/* Outcome of a launch. */
enum {
  GK_EMU_OK = 0,
  GK_EMU_E_CONFIG,        /* bad grid/block dimensions or shared memory size */
  GK_EMU_E_BARRIER,       /* a barrier not reached by every thread of the block */
  GK_EMU_E_RACE,          /* shared memory touched by two threads between barriers, one a write */
  GK_EMU_E_WARP,          /* a warp primitive whose mask omits the caller or whose lanes diverged */
  GK_EMU_E_TRAP,          /* __trap(), a failed device assert */
  GK_EMU_E_NOMEM,         /* the harness could not allocate stacks or shared memory */
};

typedef struct gk_emu_options {
  unsigned long long seed;   /* 0: round-robin order; else a seeded shuffle of
                                the fibers' scheduling order at each switch */
  int race_check;            /* nonzero: check shared memory for races */
} gk_emu_options;

/* Defaults come from the environment: GLLMK_CUDAEMU_SEED (number),
 * GLLMK_CUDAEMU_RACECHECK (0 or 1, default 1). */
void gk_emu_get_options(gk_emu_options *o);
void gk_emu_set_options(const gk_emu_options *o);

/* Run kernel k on grid[3] blocks of block[3] threads with dyn_smem bytes of
 * dynamic shared memory.  params as for cuLaunchKernel (params[i] points at
 * the i-th argument's bytes).  Returns GK_EMU_OK or a GK_EMU_E_* code, with a
 * one-line description in msg (kernel name, block and thread, what happened). */
int gk_emu_launch(const gk_emu_kernel *k, const unsigned grid[3], const unsigned block[3],
                  size_t dyn_smem, void **params, char *msg, size_t msglen);

/* ---- additions (tests/cudaemu/harness.cc) ---- */

/* Shared memory limits of a launch: static GK_SHARED arrays at most
 * GK_EMU_SMEM_STATIC_MAX bytes (as nvcc's 48 KiB), static plus dynamic at
 * most GK_EMU_SMEM_MAX (227 KiB, the sm_90 opt-in maximum; the driver applies
 * the device's own, smaller limits before it launches). */
#define GK_EMU_SMEM_STATIC_MAX (48u * 1024u)
#define GK_EMU_SMEM_MAX (227u * 1024u)

/* Nonzero when race_check works for kernel k: its translation unit was
 * compiled with the race instrumentation (-fsanitize=thread, see harness.cc)
 * and the harness has the hooks.  Otherwise race_check is a no-op for k (the
 * ASan lane), and a test that needs it should SKIP. */
int gk_emu_kernel_race_checked(const gk_emu_kernel *k);
/* Nonzero when the harness itself provides the race hooks. */
int gk_emu_race_check_available(void);

/* Stack size of each fiber (CUDA thread) in bytes; 0 restores the default
 * (64 KiB, 256 KiB under ASan, or GLLMK_CUDAEMU_STACK_KB). */
void gk_emu_set_stack_size(size_t bytes);

/* Free the harness's cached stacks and buffers (kept between launches). */
void gk_emu_release(void);

#ifdef __cplusplus
}
#endif
#endif /* GK_EMU_HARNESS_H */
