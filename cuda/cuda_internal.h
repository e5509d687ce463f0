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

/* Launches without checks, for ops built from other ops' kernels (cuda/
 * ops_fused.c), which check everything first and pass pointers that may lie
 * in the workspace.  dt: 0 f32, 1 f16, 2 bf16; es its element size. */
/* linear's plan and launch: y[m x n] = x[m x k] . w^T (+ bias), w [n x k]
 * (cuda/ops_gemm.c); nothing for m == 0 or n == 0 */
GLLMK_HIDDEN gllmk_status gllmk__cuk_linear(gllmk_backend *be, int dt, const void *x,
                                            const void *w, const void *bias, void *y, size_t m,
                                            size_t n, size_t k);
/* a binary elementwise kernel (vec_add, swiglu, ...: kernel (a, b, out, n,
 * head)) with its plan (cuda/ops_float.c); nothing for n == 0 */
GLLMK_HIDDEN gllmk_status gllmk__cuk_binary(gllmk_backend *be, enum gllmk__cu_kernel k, size_t es,
                                            const void *a, const void *b, void *out, size_t n);

/* cuda/fused.cu's epilogues (cuda/ops_fused.c): out, sum_out (may be NULL)
 * = add_rms_norm(y + residual (may be NULL)) . w over rows x n, both
 * nonzero; rope on q [seq x heads x head_dim] and k [seq x kv_heads x
 * head_dim] in place, the first 2 half dims of each head (half > 0), table
 * rows pos.. of cs / sn [.. x half] */
GLLMK_HIDDEN gllmk_status gllmk__cuk_add_rms_norm(gllmk_backend *be, int dt, const void *y,
                                                  const void *residual, const void *w, void *out,
                                                  void *sum_out, size_t rows, size_t n, float eps);
GLLMK_HIDDEN gllmk_status gllmk__cuk_rope_qk(gllmk_backend *be, int dt, void *q, void *k,
                                             const void *cs, const void *sn, size_t seq,
                                             size_t heads, size_t kv_heads, size_t head_dim,
                                             size_t half, bool interleaved, size_t pos);

/* int8 (bits 8) / int4 rows with f32 scales (gemm_q8 / gemm_q4's W):
 * y[m x n] = x . W^T, checked by the caller, using the workspace region
 * [ws, ws + ws_bytes) (cuda/ops_quant.c).  gllmk__cuk_intw_ws gives the bytes
 * it asks for; with less (but at least 64 W rows' panel) the prefill takes
 * smaller panels, below that it is GLLMK_E_NOMEM. */
GLLMK_HIDDEN size_t gllmk__cuk_intw_ws(int dt, int bits, size_t m, size_t n, size_t k);
GLLMK_HIDDEN gllmk_status gllmk__cuk_intw(gllmk_backend *be, int dt, int bits, const void *w,
                                          const float *scales, const void *x, void *y, size_t m,
                                          size_t n, size_t k, void *ws, size_t ws_bytes);

#endif /* GLLMK_CUDA_INTERNAL_H */
