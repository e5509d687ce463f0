/* gllmk/backend.h -- backends (CPU, CUDA), device buffers, op tables, workspaces, graphs
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_BACKEND_H
#define GLLMK_BACKEND_H

#include <gllmk/types.h>
#include <gllmk/backend_ops.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gllmk_buffer gllmk_buffer;
typedef struct gllmk_graph gllmk_graph;

/**
 * Open a backend: "cpu", "cuda" or "cuda:N", or "auto" (or NULL).  "auto"
 * honours the environment variable GLLM_DEVICE (cpu | cuda | cuda:N) and
 * otherwise picks the first CUDA device the embedded kernels cover when a
 * driver is present, else the CPU.
 * A named backend that is not available is GLLMK_E_NO_DEVICE (never a silent
 * fallback), and gllmk_backend_error_message() then says why (no driver, the
 * toolkit's stub driver, no device, no such device); an unknown name is
 * GLLMK_E_INVAL.  A device whose compute capability the embedded kernels do
 * not cover is GLLMK_E_UNSUPPORTED (the message names it).
 *
 * CUDA: the driver (libcuda.so.1, or the library named by the environment
 * variable GLLMK_CUDA_DRIVER) is loaded on the first CUDA open; the backend
 * uses the device's primary context and a stream of its own.
 */
GLLMK_API gllmk_status gllmk_backend_open(const char *name, gllmk_backend **out);
/** Why the last gllmk_backend_open of this thread failed ("" after a success). */
GLLMK_API const char *gllmk_backend_error_message(void);
/** Close a backend (NULL is ignored): waits for its queued work, frees its
 * workspace.  Buffers and graphs must be freed before. */
GLLMK_API void gllmk_backend_close(gllmk_backend *be);
/** "cpu", "cuda:0", ... */
GLLMK_API const char *gllmk_backend_name(const gllmk_backend *be);
/** Wait until every operation queued on the backend has finished.  An error
 * the device reported since the last call is returned here as GLLMK_E_DEVICE. */
GLLMK_API gllmk_status gllmk_backend_synchronize(gllmk_backend *be);
/** The raw driver error code behind the last GLLMK_E_DEVICE of this backend (0 if none). */
GLLMK_API int gllmk_backend_device_error(const gllmk_backend *be);

/**
 * Queue the backend's work on the caller's stream: a CUstream of the
 * backend's device (its primary context), for engines that own their
 * streams; NULL goes back to the backend's own stream.  The caller keeps
 * ownership and must not destroy it while the backend uses it.  The CPU
 * backend accepts only NULL (GLLMK_E_UNSUPPORTED otherwise).  Not while a
 * graph is being recorded (GLLMK_E_INVAL).
 */
GLLMK_API gllmk_status gllmk_backend_set_stream(gllmk_backend *be, void *stream);
/** The stream the backend queues on (its own unless set_stream gave one; NULL on the CPU). */
GLLMK_API void *gllmk_backend_stream(const gllmk_backend *be);

/**
 * Make the backend's workspace at least bytes long (it never shrinks).  Ops
 * draw their scratch from it and never allocate: size it once from the
 * <op>_workspace_bytes queries of the op tables (the largest of the shapes an
 * engine will run), before recording graphs.  Growing it moves it, so it
 * frees queued work first (it synchronizes) and is refused (GLLMK_E_INVAL)
 * while a graph is being recorded or any graph of this backend exists that
 * was recorded with the old workspace.
 */
GLLMK_API gllmk_status gllmk_backend_reserve_workspace(gllmk_backend *be, size_t bytes);
/** The workspace's size in bytes (0 before the first reserve). */
GLLMK_API size_t gllmk_backend_workspace_size(const gllmk_backend *be);

/** The backend's operator tables; their pointers are gllmk_buffer_data() addresses. */
GLLMK_API const gllmk_ops_f32 *gllmk_backend_ops_f32(const gllmk_backend *be);
GLLMK_API const gllmk_ops_f16 *gllmk_backend_ops_f16(const gllmk_backend *be);
GLLMK_API const gllmk_ops_bf16 *gllmk_backend_ops_bf16(const gllmk_backend *be);

/** Allocate bytes (> 0) of backend memory, 64-byte aligned. */
GLLMK_API gllmk_status gllmk_buffer_alloc(gllmk_backend *be, size_t bytes, gllmk_buffer **out);
/** Free a buffer (NULL is ignored). */
GLLMK_API void gllmk_buffer_free(gllmk_buffer *buf);
/** The buffer's size in bytes. */
GLLMK_API size_t gllmk_buffer_size(const gllmk_buffer *buf);
/** The buffer's address on its backend: pass it (plus offsets) to the backend's ops. */
GLLMK_API void *gllmk_buffer_data(gllmk_buffer *buf);
/** Copy bytes from host memory into the buffer at offset (range checked). */
GLLMK_API gllmk_status gllmk_buffer_upload(gllmk_buffer *buf, size_t offset, const void *src, size_t bytes);
/** Copy bytes from the buffer at offset into host memory (range checked).
 * Waits for the work queued before it. */
GLLMK_API gllmk_status gllmk_buffer_download(const gllmk_buffer *buf, size_t offset, void *dst, size_t bytes);
/** Copy bytes between two buffers of one backend (ranges checked; they may
 * be the same buffer if the ranges do not overlap).  Queued like an op, and
 * recorded into the graph being built. */
GLLMK_API gllmk_status gllmk_buffer_copy(gllmk_buffer *dst, size_t dst_offset, const gllmk_buffer *src,
                                         size_t src_offset, size_t bytes);

/**
 * Graphs.  gllmk_graph_begin(be) starts recording: the backend's ops and
 * buffer copies are then recorded, not run, until gllmk_graph_end(be, &g).
 * gllmk_graph_launch(g) replays them in order on the backend, with the
 * current contents of the buffers; a graph can be launched any number of
 * times.  CUDA: stream capture and an instantiated CUDA graph; CPU: the
 * recorded calls, replayed.  Uploads, downloads, allocations, synchronize and
 * reserve_workspace are refused (GLLMK_E_INVAL) while recording.  Errors of
 * the recorded ops that only the run can find are returned by launch.
 */
GLLMK_API gllmk_status gllmk_graph_begin(gllmk_backend *be);
GLLMK_API gllmk_status gllmk_graph_end(gllmk_backend *be, gllmk_graph **out);
GLLMK_API gllmk_status gllmk_graph_launch(gllmk_graph *g);
/** Free a graph (NULL is ignored). */
GLLMK_API void gllmk_graph_free(gllmk_graph *g);

/** One CUDA device, as gllmk_cuda_device_info reports it. */
typedef struct gllmk_cuda_device {
  char name[256];
  int cc_major, cc_minor;        /* compute capability */
  int sm_count;                  /* multiprocessors */
  size_t total_mem;              /* bytes */
  int driver_version;            /* cuDriverGetVersion: 13000 = 13.0 */
  bool kernels_cover;            /* the embedded kernels have SASS for it */
  /* theoretical DRAM bandwidth in GB/s (10^9 bytes/s): memory clock x bus
   * width x 2 (double data rate), from the driver's attributes; 0 = unknown
   * (a driver that does not report them) */
  double mem_bandwidth_gbs;
  size_t l2_cache_bytes;         /* L2 cache size; 0 = unknown */
} gllmk_cuda_device;
/** The number of CUDA devices (loads the driver); GLLMK_E_NO_DEVICE with
 * gllmk_backend_error_message() when there is no driver or no device, or
 * this build has no CUDA backend. */
GLLMK_API gllmk_status gllmk_cuda_device_count(int *count);
GLLMK_API gllmk_status gllmk_cuda_device_info(int ordinal, gllmk_cuda_device *info);
/** The architectures the embedded kernels were built for, e.g. "sm_80 sm_86
 * sm_89 sm_90 sm_100 sm_120", or "" in a build without CUDA. */
GLLMK_API const char *gllmk_cuda_archs(void);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_BACKEND_H */
