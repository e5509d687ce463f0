/* status.c -- gllmk_strerror and gllmk_version
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

const char *gllmk_version(void) { return PACKAGE_VERSION; }

const char *gllmk_strerror(gllmk_status status) {
  switch (status) {
  case GLLMK_OK: return "success";
  case GLLMK_E_INVAL: return "invalid argument";
  case GLLMK_E_OVERFLOW: return "size or product of sizes too large";
  case GLLMK_E_UNSUPPORTED: return "operation, format or ISA not supported here";
  case GLLMK_E_NO_DEVICE: return "backend or device not available";
  case GLLMK_E_DEVICE: return "device driver error";
  case GLLMK_E_NOMEM: return "out of memory";
  case GLLMK_E_NOT_FOUND: return "no such key or name";
  }
  return "unknown status";
}
