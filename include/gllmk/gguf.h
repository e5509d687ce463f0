/* gllmk/gguf.h -- a strict reader of GGUF files (llama.cpp's model format)
 * SPDX-License-Identifier: MIT
 *
 * A GGUF file is untrusted input.  gllmk_gguf_open checks the whole file
 * before it returns a handle: every count, string, value type, dimension,
 * tensor type, offset and size is validated against the file's length, so
 * that nothing the accessors below return points outside the file; memory
 * grows with the metadata actually read, never to a size a count asks for.  A
 * refused file gives a status and, from gllmk_gguf_error_message(), the
 * reason with the byte offset where the reader found it.
 *
 * Accepted: GGUF versions 2 and 3, little-endian, on a little-endian host.
 * Refused with GLLMK_E_UNSUPPORTED: version 1 (32-bit counts), big-endian
 * files, other versions, arrays of arrays, tensor types ggml has removed or
 * that gllmk does not know.  Refused with GLLMK_E_INVAL: everything
 * malformed (bad magic, truncation, counts or lengths past the end, unknown
 * value types, bool bytes other than 0 and 1, empty keys or keys containing
 * NUL, duplicate keys or tensor names, general.alignment not a power of two
 * of type uint32, tensor names of 64 bytes or more, more than 4 dimensions,
 * ne[0] not a multiple of the block size, tensor data outside the data
 * section, unaligned or overlapping).  GLLMK_E_OVERFLOW: a tensor's element
 * count or byte size does not fit in int64 / size_t.
 *
 * A handle is immutable: every accessor may be called from several threads
 * at once.  Strings (keys, tensor names, string values) are copies owned by
 * the handle, NUL-terminated, with their length (a string value may contain
 * NUL bytes: the length is authoritative).  Tensor data and numeric arrays
 * point into the file (the mapping or the caller's memory); numeric array
 * data is packed little-endian and may be unaligned: read it with memcpy.
 *
 * Missing keys and tensor names are GLLMK_E_NOT_FOUND, which no other
 * failure of these functions returns.
 */
#ifndef GLLMK_GGUF_H
#define GLLMK_GGUF_H

#include <gllmk/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gllmk_gguf gllmk_gguf;

/** Metadata value types (GGUF's ids). */
typedef enum gllmk_gguf_type {
  GLLMK_GGUF_UINT8 = 0,
  GLLMK_GGUF_INT8 = 1,
  GLLMK_GGUF_UINT16 = 2,
  GLLMK_GGUF_INT16 = 3,
  GLLMK_GGUF_UINT32 = 4,
  GLLMK_GGUF_INT32 = 5,
  GLLMK_GGUF_FLOAT32 = 6,
  GLLMK_GGUF_BOOL = 7,
  GLLMK_GGUF_STRING = 8,
  GLLMK_GGUF_ARRAY = 9,
  GLLMK_GGUF_UINT64 = 10,
  GLLMK_GGUF_INT64 = 11,
  GLLMK_GGUF_FLOAT64 = 12
} gllmk_gguf_type;

/** Tensor types that are not block formats (ggml's type ids).  The GGUF
 *  block formats carry their gllmk_qtype value (GLLMK_Q4_0 = 2 ...
 *  GLLMK_IQ1_M = 29), which is ggml's id too. */
enum {
  GLLMK_GGUF_TENSOR_F32 = 0,
  GLLMK_GGUF_TENSOR_F16 = 1,
  GLLMK_GGUF_TENSOR_BF16 = 30
};

/** One tensor of a GGUF file, as gllmk_gguf_tensor_info reports it. */
typedef struct gllmk_gguf_tensor {
  const char *name;     /**< NUL-terminated, owned by the handle; 1..63 bytes */
  uint32_t type;        /**< ggml's type id: GLLMK_GGUF_TENSOR_F32/F16/BF16 or a gllmk_qtype */
  bool supported;       /**< type is f32, f16, bf16 or a GGUF block format gllmk computes with;
                             false for the other types ggml still has (i8, i16, i32, i64, f64,
                             q8_1, tq1_0, tq2_0, mxfp4, nvfp4, q1_0) */
  uint32_t n_dims;      /**< 0..4 (0: one element) */
  uint64_t ne[4];       /**< elements per dimension, ne[0] the contiguous one; 1 past n_dims */
  uint64_t n_elements;  /**< ne[0] * ne[1] * ne[2] * ne[3] */
  size_t bytes;         /**< the data's size: rows of gllmk_qtype_row_bytes(type, ne[0]) */
  size_t offset;        /**< from the start of the data section (a multiple of the alignment) */
  size_t file_offset;   /**< from the start of the file */
  const void *data;     /**< the data inside the file; NULL when bytes is 0 */
} gllmk_gguf_tensor;

/* ------------------------------------------------------------------ opening */

/**
 * Map the file at path (read-only) and validate
 * it.  *out is set to the handle, or to NULL on failure.  GLLMK_E_INVAL also
 * for a file that cannot be opened, is not a regular file or is empty (the
 * message gives the system's reason), GLLMK_E_NOMEM when the index cannot be
 * allocated.  A file truncated by someone else while mapped raises SIGBUS on
 * access, as with any mapping.
 */
GLLMK_API gllmk_status gllmk_gguf_open(const char *path, gllmk_gguf **out);
/** Validate the GGUF image data[0..bytes) and index it, as gllmk_gguf_open.
 *  The memory is borrowed: the caller keeps it alive and unchanged until
 *  gllmk_gguf_close.  Any alignment of data is accepted (tensor data is then
 *  aligned relative to data only). */
GLLMK_API gllmk_status gllmk_gguf_open_memory(const void *data, size_t bytes, gllmk_gguf **out);
/** Unmap and free (NULL is ignored).  Every pointer the handle gave is then invalid. */
GLLMK_API void gllmk_gguf_close(gllmk_gguf *g);
/** Why the last gllmk_gguf_open or gllmk_gguf_open_memory of this thread
 *  failed, starting with the byte offset ("at byte 24: ..."); "" after a
 *  success.  Never NULL. */
GLLMK_API const char *gllmk_gguf_error_message(void);

/** The file's version (2 or 3); 0 for NULL. */
GLLMK_API uint32_t gllmk_gguf_version(const gllmk_gguf *g);
/** The data alignment (general.alignment, default 32); 0 for NULL. */
GLLMK_API size_t gllmk_gguf_alignment(const gllmk_gguf *g);
/** The offset of the data section in the file (the end of the tensor
 *  infos, rounded up to the alignment); 0 for NULL. */
GLLMK_API size_t gllmk_gguf_data_offset(const gllmk_gguf *g);
/** general.architecture ("llama", ...), or NULL when the key is absent or
 *  not a string. */
GLLMK_API const char *gllmk_gguf_arch(const gllmk_gguf *g);

/* ------------------------------------------------------------------ metadata */

/** The number of key-value pairs; 0 for NULL. */
GLLMK_API size_t gllmk_gguf_kv_count(const gllmk_gguf *g);
/** The key and value type of pair i (in file order); either output may be
 *  NULL.  GLLMK_E_INVAL when i >= gllmk_gguf_kv_count(g). */
GLLMK_API gllmk_status gllmk_gguf_kv(const gllmk_gguf *g, size_t i, const char **key,
                                     gllmk_gguf_type *type);
/** The index of key in file order (keys are unique): GLLMK_E_NOT_FOUND when
 *  absent.  index may be NULL (a presence test). */
GLLMK_API gllmk_status gllmk_gguf_find_key(const gllmk_gguf *g, const char *key, size_t *index);

/*
 * Typed getters.  GLLMK_E_NOT_FOUND when key is absent, GLLMK_E_INVAL when
 * its value has another type (or an argument is NULL).  Conversions:
 *  - u64, i64: any integer type (u8 ... i64), when the value fits; else
 *    GLLMK_E_OVERFLOW.  bool and floats are other types.
 *  - f64: float32, float64, and integers whose value a double holds exactly
 *    (else GLLMK_E_OVERFLOW).
 *  - bool: bool only.  string: string only; len may be NULL.
 * Nothing is written on failure.
 */
GLLMK_API gllmk_status gllmk_gguf_get_u64(const gllmk_gguf *g, const char *key, uint64_t *out);
GLLMK_API gllmk_status gllmk_gguf_get_i64(const gllmk_gguf *g, const char *key, int64_t *out);
GLLMK_API gllmk_status gllmk_gguf_get_f64(const gllmk_gguf *g, const char *key, double *out);
GLLMK_API gllmk_status gllmk_gguf_get_bool(const gllmk_gguf *g, const char *key, bool *out);
GLLMK_API gllmk_status gllmk_gguf_get_string(const gllmk_gguf *g, const char *key, const char **out,
                                             size_t *len);
/**
 * An array: its element type (never GLLMK_GGUF_ARRAY: nested arrays are
 * refused at open), its element count and, for numeric and bool elements,
 * the packed little-endian elements inside the file (possibly unaligned;
 * NULL for string arrays and empty arrays).  Any output may be NULL.
 * GLLMK_E_NOT_FOUND, or GLLMK_E_INVAL when the value is not an array.
 */
GLLMK_API gllmk_status gllmk_gguf_get_array(const gllmk_gguf *g, const char *key,
                                            gllmk_gguf_type *elem_type, size_t *count,
                                            const void **data);
/** Element i of a string array (NUL-terminated, owned by the handle; len may
 *  be NULL).  GLLMK_E_NOT_FOUND, or GLLMK_E_INVAL when the value is not an
 *  array of strings or i is out of range. */
GLLMK_API gllmk_status gllmk_gguf_get_array_string(const gllmk_gguf *g, const char *key, size_t i,
                                                   const char **out, size_t *len);

/* ------------------------------------------------------------------ tensors */

/** The number of tensors; 0 for NULL. */
GLLMK_API size_t gllmk_gguf_tensor_count(const gllmk_gguf *g);
/** Tensor i (in file order).  GLLMK_E_INVAL when i is out of range. */
GLLMK_API gllmk_status gllmk_gguf_tensor_info(const gllmk_gguf *g, size_t i, gllmk_gguf_tensor *out);
/** The tensor called name (names are unique): GLLMK_E_NOT_FOUND when there
 *  is none.  index (its position in file order) and out may be NULL. */
GLLMK_API gllmk_status gllmk_gguf_find_tensor(const gllmk_gguf *g, const char *name, size_t *index,
                                              gllmk_gguf_tensor *out);
/** ggml's name of a tensor type id ("f32", "bf16", "q4_K", "i32", "mxfp4",
 *  ...), also for the removed ones ("q4_2", "q4_0_4x4", ...); NULL for an
 *  id ggml never had. */
GLLMK_API const char *gllmk_gguf_tensor_type_name(uint32_t type);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_GGUF_H */
