/* cuda_internal.h -- what the CUDA backend's C files share
 * SPDX-License-Identifier: MIT
 *
 * cuda/backend.c owns the driver (dlopen'd libcuda.so.1), the device, its
 * primary context, the stream, the module loaded from the embedded fatbin,
 * buffers, the workspace and graphs.  cuda/ops_*.c implement the backend's
 * operator tables: each op validates every argument (shapes as the CPU
 * function does, then that every pointer range lies inside one buffer of
 * this backend), returns the error before any launch, and then launches its
 * kernels with gllmk__cu_launch.
 */
#ifndef GLLMK_CUDA_INTERNAL_H
#define GLLMK_CUDA_INTERNAL_H

#include "core/internal.h"
#include "cu.h"

/* Kernel ids: cuda/kernels.def lists every kernel of the fatbin as
 * GK_KERNEL(name); the backend resolves them all when it opens. */
enum gllmk__cu_kernel {
#define GK_KERNEL(name) GK_##name,
#include "kernels.def"
#undef GK_KERNEL
  GK_NKERNELS
};

/* What the ops need to know about the device. */
struct gllmk__cu_dev {
  int cc_major, cc_minor;      /* compute capability */
  int sm_count;                /* multiprocessors */
  int max_threads_per_block;
  int max_smem_per_block;      /* default limit of a launch, bytes */
  int max_smem_optin;          /* with cuFuncSetAttribute, bytes */
  size_t total_mem;
};
GLLMK_HIDDEN const struct gllmk__cu_dev *gllmk__cu_device(const gllmk_backend *be);

/* Queue kernel `kernel` on the backend's stream (captured into the graph
 * while one is being recorded).  args as for cuLaunchKernel.  Returns
 * GLLMK_OK, GLLMK_E_INVAL for a launch configuration the device refuses,
 * or GLLMK_E_DEVICE (the driver's code kept for gllmk_backend_device_error). */
GLLMK_HIDDEN gllmk_status gllmk__cu_launch(gllmk_backend *be, enum gllmk__cu_kernel kernel,
                                           unsigned gx, unsigned gy, unsigned gz,
                                           unsigned bx, unsigned by, unsigned bz,
                                           unsigned smem_bytes, void **args);

/* Nonzero when [p, p + bytes) lies inside one live buffer of be.  bytes == 0
 * is always accepted (p may then be anything, NULL included). */
GLLMK_HIDDEN int gllmk__be_owns(const gllmk_backend *be, const void *p, size_t bytes);

/* The device address of be's workspace when it holds at least bytes, else
 * NULL (the op then returns GLLMK_E_NOMEM before launching anything). */
GLLMK_HIDDEN void *gllmk__be_workspace(gllmk_backend *be, size_t bytes);

/* cuda/ops_gemm.c: C[m x n] = A . B (nt: A . B^T, B [n x k]) + bias (NULL:
 * none) on be's stream, dt 0/1/2 = f32/f16/bf16, arguments already checked
 * (the ops that compose the GEMM with other kernels, on workspace memory) */
GLLMK_HIDDEN gllmk_status gllmk__cu_gemm_run(gllmk_backend *be, int dt, const void *A, const void *B,
                                             const void *bias, void *C, size_t m, size_t n,
                                             size_t k, int nt);

#endif /* GLLMK_CUDA_INTERNAL_H */
