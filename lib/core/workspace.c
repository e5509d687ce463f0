/* workspace.c -- CPU ops drawing their scratch from a backend's workspace
 * SPDX-License-Identifier: MIT
 *
 * Layout of a context while an op runs, from base + used at gllmk__ws_enter
 * (rounded up to 64 bytes) on, in the order the op draws it:
 *   gllmk__ws_begin: for each scratch slot the op uses (GEMM, ATTN, QTILE),
 *     regions x stride bytes, stride = the region's floats * 4 rounded up to
 *     64 bytes; region t belongs to thread index t of gllmk__parallel (the
 *     caller is index 0), so threads never share a cache line;
 *   then the op's buffers, one gllmk__ws_alloc each, in call order, each
 *   rounded up to 64 bytes.
 * Every block is a multiple of 64 bytes, so the total does not depend on the
 * order in which threads draw, and gllmk__ws_plan_total() is the op's exact
 * draw.  Nothing is given back before the context is left: the backend
 * starts each op with used = 0.
 */
#include "internal.h"
#include <stdlib.h>

_Thread_local struct gllmk__ws *gllmk__ws_cur;
_Thread_local unsigned gllmk__ws_tid;

#define WS_ALIGN ((size_t)64)

static size_t ws_round(size_t bytes) {
  return bytes > SIZE_MAX - (WS_ALIGN - 1) ? SIZE_MAX : (bytes + WS_ALIGN - 1) & ~(WS_ALIGN - 1);
}

void gllmk__ws_enter(struct gllmk__ws *ws) {
  ws->nthreads = gllmk__nthreads();     /* before ws is current: the caller's count */
  if (ws->used > ws->size) ws->used = ws->size;
  size_t pad = (size_t)(-((uintptr_t)ws->base + ws->used)) & (WS_ALIGN - 1);
  ws->used = pad > ws->size - ws->used ? ws->size : ws->used + pad;
  for (int s = 0; s < GLLMK_SCRATCH_SLOTS; s++) {
    ws->slot[s].p = NULL;
    ws->slot[s].floats = ws->slot[s].stride = ws->slot[s].regions = 0;
  }
  ws->prev = gllmk__ws_cur;
  ws->prev_tid = gllmk__ws_tid;
  gllmk__ws_cur = ws;
  gllmk__ws_tid = 0;
}

void gllmk__ws_leave(void) {
  struct gllmk__ws *ws = gllmk__ws_cur;
  if (!ws) return;
  gllmk__ws_cur = ws->prev;
  gllmk__ws_tid = ws->prev_tid;
}

/* bytes (a multiple of 64) from ws, or NULL */
static void *ws_bump(struct gllmk__ws *ws, size_t bytes) {
  static _Alignas(64) char empty[64];   /* what a 0-byte draw points at */
  if (bytes == 0) return empty;
  size_t u = __atomic_load_n(&ws->used, __ATOMIC_RELAXED);
  do {
    if (bytes > ws->size - u) return NULL;
  } while (!__atomic_compare_exchange_n(&ws->used, &u, u + bytes, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED));
  return (char *)ws->base + u;
}

void *gllmk__ws_alloc(size_t bytes) {
  struct gllmk__ws *ws = gllmk__ws_cur;
  if (!ws) return malloc(bytes);
  size_t r = ws_round(bytes);
  return r == SIZE_MAX ? NULL : ws_bump(ws, r);
}

void gllmk__ws_free(void *p) {
  if (!gllmk__ws_cur) free(p);
}

size_t gllmk__ws_plan_total(const struct gllmk__ws_plan *p) {
  if (p->overflow) return SIZE_MAX;
  size_t total = p->bytes;
  for (int s = 0; s < GLLMK_SCRATCH_SLOTS; s++) {
    size_t stride, block;
    if (p->regions[s] == 0) continue;
    if (!gllmk__mul(p->floats[s], sizeof(float), &stride) || (stride = ws_round(stride)) == SIZE_MAX ||
        !gllmk__mul(p->regions[s], stride, &block) || !gllmk__add(total, block, &total))
      return SIZE_MAX;
  }
  return total;
}

gllmk_status gllmk__ws_begin(const struct gllmk__ws_plan *p) {
  struct gllmk__ws *ws = gllmk__ws_cur;
  if (!ws) return GLLMK_OK;
  size_t total = gllmk__ws_plan_total(p);
  if (total == SIZE_MAX || total > ws->size - ws->used) return GLLMK_E_NOMEM;
  for (int s = 0; s < GLLMK_SCRATCH_SLOTS; s++) {
    if (p->regions[s] == 0) continue;
    size_t stride = ws_round(p->floats[s] * sizeof(float));   /* checked by the total */
    char *blk = ws_bump(ws, p->regions[s] * stride);
    if (!blk) return GLLMK_E_NOMEM;     /* another thread drew from ws meanwhile */
    ws->slot[s].p = blk;
    ws->slot[s].floats = p->floats[s];
    ws->slot[s].stride = stride;
    ws->slot[s].regions = p->regions[s];
  }
  return GLLMK_OK;
}
