/* gllmk/backend.h -- backends (CPU now, CUDA later), device buffers, op tables
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_BACKEND_H
#define GLLMK_BACKEND_H

#include <gllmk/types.h>
#include <gllmk/backend_ops.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gllmk_backend gllmk_backend;
typedef struct gllmk_buffer gllmk_buffer;

/**
 * Open a backend: "cpu", "cuda" or "cuda:N", or "auto" (or NULL).  "auto"
 * honours the environment variable GLLM_DEVICE (cpu | cuda | cuda:N) and
 * otherwise picks CUDA when a driver and device are present, else the CPU.
 * A named backend that is not available is GLLMK_E_NO_DEVICE (never a silent
 * fallback); an unknown name is GLLMK_E_INVAL.
 */
GLLMK_API gllmk_status gllmk_backend_open(const char *name, gllmk_backend **out);
/** Close a backend (NULL is ignored).  Buffers must be freed before. */
GLLMK_API void gllmk_backend_close(gllmk_backend *be);
/** "cpu", "cuda:0", ... */
GLLMK_API const char *gllmk_backend_name(const gllmk_backend *be);
/** Wait until every operation queued on the backend has finished. */
GLLMK_API gllmk_status gllmk_backend_synchronize(gllmk_backend *be);
/** The raw driver error code behind the last GLLMK_E_DEVICE of this backend (0 if none). */
GLLMK_API int gllmk_backend_device_error(const gllmk_backend *be);

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
/** Copy bytes from the buffer at offset into host memory (range checked). */
GLLMK_API gllmk_status gllmk_buffer_download(const gllmk_buffer *buf, size_t offset, void *dst, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_BACKEND_H */
