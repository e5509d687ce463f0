/* gllmk/types.h -- element types, status codes and export macro
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_TYPES_H
#define GLLMK_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(GLLMK_BUILDING)
#  define GLLMK_API __declspec(dllexport)
#elif defined(__GNUC__) && defined(GLLMK_BUILDING)
#  define GLLMK_API __attribute__((visibility("default")))
#else
#  define GLLMK_API
#endif

/** IEEE 754 binary16, stored as its bit pattern. */
typedef struct gllmk_f16 { uint16_t bits; } gllmk_f16;
/** bfloat16 (the upper half of an IEEE binary32), stored as its bit pattern. */
typedef struct gllmk_bf16 { uint16_t bits; } gllmk_bf16;

/** Result of every gllmk call that can fail.  GLLMK_OK is 0, errors are negative. */
typedef enum gllmk_status {
  GLLMK_OK = 0,
  GLLMK_E_INVAL = -1,       /**< invalid argument (NULL pointer, bad shape, index out of range) */
  GLLMK_E_OVERFLOW = -2,    /**< a size or product of sizes does not fit in size_t */
  GLLMK_E_UNSUPPORTED = -3, /**< operation, format or ISA not available in this build or on this CPU */
  GLLMK_E_NO_DEVICE = -4,   /**< the requested backend or device is not present */
  GLLMK_E_DEVICE = -5,      /**< a device driver call failed (see gllmk_backend_device_error) */
  GLLMK_E_NOMEM = -6,       /**< memory allocation failed */
  GLLMK_E_NOT_FOUND = -7    /**< no such key or name (GGUF metadata and tensors) */
} gllmk_status;

#endif /* GLLMK_TYPES_H */
