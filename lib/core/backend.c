/* backend.c -- layer 1: backends, their buffers, workspaces and graphs
 * SPDX-License-Identifier: MIT
 *
 * What every backend shares lives here: opening by name, the buffer list
 * (every op checks that its pointers lie inside buffers of its backend), the
 * workspace, the recording state and the public entry points.  A backend
 * kind provides a struct gllmk__backend_impl: the CPU one is below, the CUDA
 * one is cuda/backend.c.
 */
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct gllmk_buffer {
  gllmk_backend *be;
  size_t size;
  void *data;
};

struct gllmk_graph {
  gllmk_backend *be;
  void *impl;
};

/* ------------------------------------------------------------ messages */
static _Thread_local char open_message[256];

void gllmk__backend_set_message(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(open_message, sizeof open_message, fmt, ap);
  va_end(ap);
}

const char *gllmk_backend_error_message(void) { return open_message; }

/* ------------------------------------------------------------ the CPU backend */
static gllmk_status cpu_mem_alloc(gllmk_backend *be, size_t bytes, void **p) {
  (void)be;
  if (bytes > SIZE_MAX - 64) return GLLMK_E_OVERFLOW;
  return posix_memalign(p, 64, (bytes + 63) & ~(size_t)63) == 0 ? GLLMK_OK : GLLMK_E_NOMEM;
}
static void cpu_mem_free(gllmk_backend *be, void *p) {
  (void)be;
  free(p);
}
static gllmk_status cpu_memcpy(gllmk_backend *be, void *dst, const void *src, size_t bytes) {
  (void)be;
  memcpy(dst, src, bytes);
  return GLLMK_OK;
}
static gllmk_status cpu_synchronize(gllmk_backend *be) {
  (void)be;
  return GLLMK_OK;            /* CPU calls complete before they return */
}
static gllmk_status cpu_set_stream(gllmk_backend *be, void *stream) {
  (void)be;
  return stream ? GLLMK_E_UNSUPPORTED : GLLMK_OK;
}
static void *cpu_stream(const gllmk_backend *be) {
  (void)be;
  return NULL;
}

static void rec_free_list(struct gllmk__rec *r) {
  while (r) {
    struct gllmk__rec *next = r->next;
    free(r);
    r = next;
  }
}

void *gllmk__cpu_record(gllmk_backend *be, size_t bytes,
                        gllmk_status (*play)(gllmk_backend *, const struct gllmk__rec *)) {
  struct gllmk__rec *r = calloc(1, bytes);
  if (!r) return NULL;
  r->play = play;
  *be->rec_tail = r;
  be->rec_tail = &r->next;
  return r;
}

static gllmk_status cpu_graph_begin(gllmk_backend *be) {
  be->rec_head = NULL;
  be->rec_tail = &be->rec_head;
  return GLLMK_OK;
}
static gllmk_status cpu_graph_end(gllmk_backend *be, void **graph) {
  *graph = be->rec_head;
  be->rec_head = NULL;
  be->rec_tail = &be->rec_head;
  return GLLMK_OK;
}
static gllmk_status cpu_graph_launch(gllmk_backend *be, void *graph) {
  for (const struct gllmk__rec *r = graph; r; r = r->next) {
    gllmk_status st = r->play(be, r);
    if (st != GLLMK_OK) return st;
  }
  return GLLMK_OK;
}
static void cpu_graph_free(gllmk_backend *be, void *graph) {
  (void)be;
  rec_free_list(graph);
}

/* a recorded buffer copy */
struct rec_copy {
  struct gllmk__rec hdr;
  void *dst;
  const void *src;
  size_t bytes;
};
static gllmk_status play_copy(gllmk_backend *be, const struct gllmk__rec *h) {
  const struct rec_copy *r = (const struct rec_copy *)h;
  return be->impl->copy(be, r->dst, r->src, r->bytes);
}

gllmk_status gllmk__cpu_ws_get(gllmk_backend *be, size_t need, struct gllmk__ws **ws) {
  pthread_mutex_lock(&be->lock);
  if (need > be->ws_size) {
    pthread_mutex_unlock(&be->lock);
    return GLLMK_E_NOMEM;
  }
  struct gllmk__ws *w = be->priv;
  w->base = be->ws;
  w->size = be->ws_size;
  w->used = 0;
  *ws = w;
  return GLLMK_OK;
}

void gllmk__cpu_ws_put(gllmk_backend *be) { pthread_mutex_unlock(&be->lock); }

static void cpu_close(gllmk_backend *be) { free(be->priv); }

static const struct gllmk__backend_impl cpu_impl = {
  .close = cpu_close,
  .mem_alloc = cpu_mem_alloc,
  .mem_free = cpu_mem_free,
  .upload = cpu_memcpy,
  .download = cpu_memcpy,
  .copy = cpu_memcpy,
  .synchronize = cpu_synchronize,
  .set_stream = cpu_set_stream,
  .stream = cpu_stream,
  .graph_begin = cpu_graph_begin,
  .graph_end = cpu_graph_end,
  .graph_launch = cpu_graph_launch,
  .graph_free = cpu_graph_free,
  .ops_f32 = &gllmk__cpu_ops_f32,
  .ops_f16 = &gllmk__cpu_ops_f16,
  .ops_bf16 = &gllmk__cpu_ops_bf16,
};

/* ------------------------------------------------------------ opening */
/* "cuda" (ordinal 0) or "cuda:N": 1 well formed, 0 not a cuda name, -1 malformed */
static int parse_cuda(const char *name, int *ordinal) {
  if (strncasecmp(name, "cuda", 4) != 0) return 0;
  *ordinal = 0;
  if (name[4] == 0) return 1;
  if (name[4] != ':' || name[5] == 0) return -1;
  long v = 0;
  for (const char *p = name + 5; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > 1000000) v = 1000000;   /* no such device; keeps the number in range */
  }
  *ordinal = (int)v;
  return 1;
}

static gllmk_backend *backend_new(void) {
  gllmk_backend *be = calloc(1, sizeof *be);
  if (!be) return NULL;
  if (pthread_mutex_init(&be->lock, NULL) != 0) {
    free(be);
    return NULL;
  }
  be->rec_tail = &be->rec_head;
  return be;
}

static void backend_delete(gllmk_backend *be) {
  pthread_mutex_destroy(&be->lock);
  free(be->spans);
  free(be);
}

gllmk_status gllmk_backend_open(const char *name, gllmk_backend **out) {
  if (!out) return GLLMK_E_INVAL;
  *out = NULL;
  open_message[0] = 0;
  bool automatic = !name || strcasecmp(name, "auto") == 0;
  if (automatic) {
    const char *env = getenv("GLLM_DEVICE");
    if (env && *env && strcasecmp(env, "auto") != 0) {
      name = env;
      automatic = false;
    }
  }
  int ordinal = 0, cuda = 0;
  if (automatic) {
    cuda = 1;
  } else if (strcasecmp(name, "cpu") != 0) {
    cuda = parse_cuda(name, &ordinal);
    if (cuda <= 0) {
      gllmk__backend_set_message("unknown backend name \"%s\" (cpu, cuda, cuda:N or auto)", name);
      return GLLMK_E_INVAL;
    }
  }
  gllmk_backend *be = backend_new();
  if (!be) return GLLMK_E_NOMEM;
  if (cuda) {
#ifdef GLLMK_HAVE_CUDA
    gllmk_status st = gllmk__cuda_open(be, ordinal);
    /* "auto": the first device the kernels cover */
    int count = 0;
    if (automatic && st == GLLMK_E_UNSUPPORTED && gllmk_cuda_device_count(&count) == GLLMK_OK)
      for (int d = 1; d < count && st == GLLMK_E_UNSUPPORTED; d++) st = gllmk__cuda_open(be, d);
#else
    gllmk_status st = GLLMK_E_NO_DEVICE;
    gllmk__backend_set_message("this build of gllmk has no CUDA backend (configured without nvcc)");
#endif
    if (st == GLLMK_OK) {
      *out = be;
      return GLLMK_OK;
    }
    /* "auto" falls back to the CPU only when there is no usable device at
     * all; a named device never falls back */
    if (!automatic || st == GLLMK_E_NOMEM) {
      backend_delete(be);
      return st;
    }
  }
  be->priv = calloc(1, sizeof(struct gllmk__ws));
  if (!be->priv) {
    backend_delete(be);
    return GLLMK_E_NOMEM;
  }
  be->impl = &cpu_impl;
  strcpy(be->name, "cpu");
  open_message[0] = 0;
  *out = be;
  return GLLMK_OK;
}

void gllmk_backend_close(gllmk_backend *be) {
  if (!be) return;
  if (be->recording) {             /* a recording left open is dropped */
    void *g = NULL;
    if (be->impl->graph_end(be, &g) == GLLMK_OK && g) be->impl->graph_free(be, g);
    be->recording = false;
  }
  be->impl->synchronize(be);
  if (be->ws) be->impl->mem_free(be, be->ws);
  be->impl->close(be);
  backend_delete(be);
}

const char *gllmk_backend_name(const gllmk_backend *be) { return be ? be->name : "none"; }

gllmk_status gllmk_backend_synchronize(gllmk_backend *be) {
  if (!be || be->recording) return GLLMK_E_INVAL;
  return be->impl->synchronize(be);
}

int gllmk_backend_device_error(const gllmk_backend *be) { return be ? be->device_error : 0; }

gllmk_status gllmk_backend_set_stream(gllmk_backend *be, void *stream) {
  if (!be || be->recording) return GLLMK_E_INVAL;
  return be->impl->set_stream(be, stream);
}

void *gllmk_backend_stream(const gllmk_backend *be) { return be ? be->impl->stream(be) : NULL; }

const gllmk_ops_f32 *gllmk_backend_ops_f32(const gllmk_backend *be) { return be ? be->impl->ops_f32 : NULL; }
const gllmk_ops_f16 *gllmk_backend_ops_f16(const gllmk_backend *be) { return be ? be->impl->ops_f16 : NULL; }
const gllmk_ops_bf16 *gllmk_backend_ops_bf16(const gllmk_backend *be) { return be ? be->impl->ops_bf16 : NULL; }

/* ------------------------------------------------------------ buffer list */
/* index of the first span with lo > p */
static size_t span_upper(const gllmk_backend *be, uintptr_t p) {
  size_t lo = 0, hi = be->nspans;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (be->spans[mid].lo <= p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static gllmk_status span_add(gllmk_backend *be, uintptr_t lo, size_t bytes) {
  if (be->nspans == be->capspans) {
    size_t cap = be->capspans ? 2 * be->capspans : 16;
    struct gllmk__span *s = realloc(be->spans, cap * sizeof *s);
    if (!s) return GLLMK_E_NOMEM;
    be->spans = s;
    be->capspans = cap;
  }
  size_t i = span_upper(be, lo);
  memmove(be->spans + i + 1, be->spans + i, (be->nspans - i) * sizeof *be->spans);
  be->spans[i].lo = lo;
  be->spans[i].hi = lo + bytes;
  be->nspans++;
  return GLLMK_OK;
}

static void span_remove(gllmk_backend *be, uintptr_t lo) {
  size_t i = span_upper(be, lo);
  if (i == 0 || be->spans[i - 1].lo != lo) return;
  i--;
  memmove(be->spans + i, be->spans + i + 1, (be->nspans - i - 1) * sizeof *be->spans);
  be->nspans--;
}

int gllmk__be_owns(const gllmk_backend *be, const void *p, size_t bytes) {
  if (bytes == 0) return 1;
  if (!be || !p) return 0;
  uintptr_t a = (uintptr_t)p, end;
  if (__builtin_add_overflow(a, bytes, &end)) return 0;
  gllmk_backend *m = (gllmk_backend *)be;
  pthread_mutex_lock(&m->lock);
  size_t i = span_upper(be, a);
  int ok = i > 0 && be->spans[i - 1].hi >= end;
  pthread_mutex_unlock(&m->lock);
  return ok;
}

/* ------------------------------------------------------------ buffers */
gllmk_status gllmk_buffer_alloc(gllmk_backend *be, size_t bytes, gllmk_buffer **out) {
  if (!out) return GLLMK_E_INVAL;
  *out = NULL;
  if (!be || bytes == 0 || be->recording) return GLLMK_E_INVAL;
  if (bytes > SIZE_MAX - 64) return GLLMK_E_OVERFLOW;
  gllmk_buffer *b = calloc(1, sizeof *b);
  if (!b) return GLLMK_E_NOMEM;
  gllmk_status st = be->impl->mem_alloc(be, bytes, &b->data);
  if (st != GLLMK_OK) {
    free(b);
    return st;
  }
  pthread_mutex_lock(&be->lock);
  st = span_add(be, (uintptr_t)b->data, bytes);
  pthread_mutex_unlock(&be->lock);
  if (st != GLLMK_OK) {
    be->impl->mem_free(be, b->data);
    free(b);
    return st;
  }
  b->be = be;
  b->size = bytes;
  *out = b;
  return GLLMK_OK;
}

void gllmk_buffer_free(gllmk_buffer *buf) {
  if (!buf) return;
  gllmk_backend *be = buf->be;
  pthread_mutex_lock(&be->lock);
  span_remove(be, (uintptr_t)buf->data);
  pthread_mutex_unlock(&be->lock);
  be->impl->mem_free(be, buf->data);
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
  if (st != GLLMK_OK) return st;
  if (buf->be->recording) return GLLMK_E_INVAL;
  if (!bytes) return GLLMK_OK;
  return buf->be->impl->upload(buf->be, (char *)buf->data + offset, src, bytes);
}

gllmk_status gllmk_buffer_download(const gllmk_buffer *buf, size_t offset, void *dst, size_t bytes) {
  gllmk_status st = range_ok(buf, offset, dst, bytes);
  if (st != GLLMK_OK) return st;
  if (buf->be->recording) return GLLMK_E_INVAL;
  if (!bytes) return GLLMK_OK;
  return buf->be->impl->download(buf->be, dst, (const char *)buf->data + offset, bytes);
}

gllmk_status gllmk_buffer_copy(gllmk_buffer *dst, size_t dst_offset, const gllmk_buffer *src,
                               size_t src_offset, size_t bytes) {
  if (!dst || !src || dst->be != src->be) return GLLMK_E_INVAL;
  size_t dend, send;
  if (!gllmk__add(dst_offset, bytes, &dend) || !gllmk__add(src_offset, bytes, &send))
    return GLLMK_E_OVERFLOW;
  if (dend > dst->size || send > src->size) return GLLMK_E_INVAL;
  if (dst == src && dst_offset < send && src_offset < dend && bytes) return GLLMK_E_INVAL;
  if (!bytes) return GLLMK_OK;
  gllmk_backend *be = dst->be;
  void *d = (char *)dst->data + dst_offset;
  const void *s = (const char *)src->data + src_offset;
  if (be->recording && be->impl == &cpu_impl) {
    struct rec_copy *r = gllmk__cpu_record(be, sizeof *r, play_copy);
    if (!r) return GLLMK_E_NOMEM;
    r->dst = d;
    r->src = s;
    r->bytes = bytes;
    return GLLMK_OK;
  }
  return be->impl->copy(be, d, s, bytes);
}

/* ------------------------------------------------------------ workspace */
gllmk_status gllmk_backend_reserve_workspace(gllmk_backend *be, size_t bytes) {
  if (!be || be->recording) return GLLMK_E_INVAL;
  if (bytes <= be->ws_size) return GLLMK_OK;
  if (be->graphs) return GLLMK_E_INVAL;        /* recorded graphs hold the old address */
  gllmk_status st = be->impl->synchronize(be);
  if (st != GLLMK_OK) return st;
  void *p = NULL;
  st = be->impl->mem_alloc(be, bytes, &p);
  if (st != GLLMK_OK) return st;
  pthread_mutex_lock(&be->lock);
  void *old = be->ws;
  be->ws = p;
  be->ws_size = bytes;
  pthread_mutex_unlock(&be->lock);
  if (old) be->impl->mem_free(be, old);
  return GLLMK_OK;
}

size_t gllmk_backend_workspace_size(const gllmk_backend *be) { return be ? be->ws_size : 0; }

void *gllmk__be_workspace(gllmk_backend *be, size_t bytes) {
  return be && be->ws && bytes <= be->ws_size ? be->ws : NULL;
}

/* ------------------------------------------------------------ graphs */
gllmk_status gllmk_graph_begin(gllmk_backend *be) {
  if (!be || be->recording) return GLLMK_E_INVAL;
  gllmk_status st = be->impl->graph_begin(be);
  if (st == GLLMK_OK) be->recording = true;
  return st;
}

gllmk_status gllmk_graph_end(gllmk_backend *be, gllmk_graph **out) {
  if (out) *out = NULL;
  if (!be || !out || !be->recording) return GLLMK_E_INVAL;
  gllmk_graph *g = calloc(1, sizeof *g);
  void *impl = NULL;
  gllmk_status st = be->impl->graph_end(be, &impl);
  be->recording = false;
  if (st != GLLMK_OK || !g) {
    if (st == GLLMK_OK) be->impl->graph_free(be, impl);
    free(g);
    return st != GLLMK_OK ? st : GLLMK_E_NOMEM;
  }
  g->be = be;
  g->impl = impl;
  be->graphs++;
  *out = g;
  return GLLMK_OK;
}

gllmk_status gllmk_graph_launch(gllmk_graph *g) {
  if (!g || g->be->recording) return GLLMK_E_INVAL;
  return g->be->impl->graph_launch(g->be, g->impl);
}

void gllmk_graph_free(gllmk_graph *g) {
  if (!g) return;
  g->be->impl->graph_free(g->be, g->impl);
  g->be->graphs--;
  free(g);
}

/* ------------------------------------------------------------ builds without CUDA */
#ifndef GLLMK_HAVE_CUDA
gllmk_status gllmk_cuda_device_count(int *count) {
  if (!count) return GLLMK_E_INVAL;
  *count = 0;
  gllmk__backend_set_message("this build of gllmk has no CUDA backend (configured without nvcc)");
  return GLLMK_E_NO_DEVICE;
}

gllmk_status gllmk_cuda_device_info(int ordinal, gllmk_cuda_device *info) {
  (void)ordinal;
  if (!info) return GLLMK_E_INVAL;
  memset(info, 0, sizeof *info);     /* mem_bandwidth_gbs, l2_cache_bytes: 0 = unknown */
  gllmk__backend_set_message("this build of gllmk has no CUDA backend (configured without nvcc)");
  return GLLMK_E_NO_DEVICE;
}

const char *gllmk_cuda_archs(void) { return ""; }
#endif
