/* backend.c -- layer 1: backends and their buffers (the CPU backend; CUDA later)
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum backend_kind { BACKEND_CPU };

struct gllmk_backend {
  enum backend_kind kind;
  char name[16];
  int device_error;
};

struct gllmk_buffer {
  gllmk_backend *be;
  size_t size;
  void *data;
};

/* "cuda" or "cuda:N": 1 well formed, 0 not a cuda name, -1 malformed */
static int parse_cuda(const char *name) {
  if (strncasecmp(name, "cuda", 4) != 0) return 0;
  if (name[4] == 0) return 1;
  if (name[4] != ':' || name[5] == 0) return -1;
  for (const char *p = name + 5; *p; p++)
    if (*p < '0' || *p > '9') return -1;
  return 1;
}

gllmk_status gllmk_backend_open(const char *name, gllmk_backend **out) {
  if (!out) return GLLMK_E_INVAL;
  *out = NULL;
  int from_auto = !name || strcasecmp(name, "auto") == 0;
  if (from_auto) {
    const char *env = getenv("GLLM_DEVICE");
    name = env && *env ? env : "auto";
  }
  if (strcasecmp(name, "auto") != 0 && strcasecmp(name, "cpu") != 0) {
    int c = parse_cuda(name);
    if (c <= 0) return GLLMK_E_INVAL;
    return GLLMK_E_NO_DEVICE;            /* this build has no CUDA backend */
  }
  gllmk_backend *be = calloc(1, sizeof *be);
  if (!be) return GLLMK_E_NOMEM;
  be->kind = BACKEND_CPU;
  strcpy(be->name, "cpu");
  *out = be;
  return GLLMK_OK;
}

void gllmk_backend_close(gllmk_backend *be) { free(be); }

const char *gllmk_backend_name(const gllmk_backend *be) { return be ? be->name : "none"; }

gllmk_status gllmk_backend_synchronize(gllmk_backend *be) {
  return be ? GLLMK_OK : GLLMK_E_INVAL;   /* CPU calls complete before they return */
}

int gllmk_backend_device_error(const gllmk_backend *be) { return be ? be->device_error : 0; }

const gllmk_ops_f32 *gllmk_backend_ops_f32(const gllmk_backend *be) {
  return be ? &gllmk__cpu_ops_f32 : NULL;
}
const gllmk_ops_f16 *gllmk_backend_ops_f16(const gllmk_backend *be) {
  return be ? &gllmk__cpu_ops_f16 : NULL;
}
const gllmk_ops_bf16 *gllmk_backend_ops_bf16(const gllmk_backend *be) {
  return be ? &gllmk__cpu_ops_bf16 : NULL;
}

gllmk_status gllmk_buffer_alloc(gllmk_backend *be, size_t bytes, gllmk_buffer **out) {
  if (!out) return GLLMK_E_INVAL;
  *out = NULL;
  if (!be || bytes == 0) return GLLMK_E_INVAL;
  if (bytes > SIZE_MAX - 64) return GLLMK_E_OVERFLOW;
  gllmk_buffer *b = calloc(1, sizeof *b);
  if (!b) return GLLMK_E_NOMEM;
  if (posix_memalign(&b->data, 64, (bytes + 63) & ~(size_t)63) != 0) {
    free(b);
    return GLLMK_E_NOMEM;
  }
  b->be = be;
  b->size = bytes;
  *out = b;
  return GLLMK_OK;
}

void gllmk_buffer_free(gllmk_buffer *buf) {
  if (!buf) return;
  free(buf->data);
  free(buf);
}

size_t gllmk_buffer_size(const gllmk_buffer *buf) { return buf ? buf->size : 0; }

void *gllmk_buffer_data(gllmk_buffer *buf) { return buf ? buf->data : NULL; }

static gllmk_status range_ok(const gllmk_buffer *buf, size_t offset, const void *p, size_t bytes) {
  size_t end;
  if (!buf || (!p && bytes)) return GLLMK_E_INVAL;
  if (!gllmk__add(offset, bytes, &end)) return GLLMK_E_OVERFLOW;
  return end <= buf->size ? GLLMK_OK : GLLMK_E_INVAL;
}

gllmk_status gllmk_buffer_upload(gllmk_buffer *buf, size_t offset, const void *src, size_t bytes) {
  gllmk_status st = range_ok(buf, offset, src, bytes);
  if (st == GLLMK_OK && bytes) memcpy((char *)buf->data + offset, src, bytes);
  return st;
}

gllmk_status gllmk_buffer_download(const gllmk_buffer *buf, size_t offset, void *dst, size_t bytes) {
  gllmk_status st = range_ok(buf, offset, dst, bytes);
  if (st == GLLMK_OK && bytes) memcpy(dst, (const char *)buf->data + offset, bytes);
  return st;
}
