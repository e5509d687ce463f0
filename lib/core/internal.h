/* internal.h -- what the ISA-free core shares between its files
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_INTERNAL_H
#define GLLMK_INTERNAL_H

#include <config.h>
#include <gllmk.h>
#include "kernels/kernels.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define GLLMK_HIDDEN __attribute__((visibility("hidden")))

#ifdef GLLMK_ENABLE_DEBUG
#include <assert.h>
#define GLLMK_DEBUG_ASSERT(c) assert(c)
#else
#define GLLMK_DEBUG_ASSERT(c) ((void)0)
#endif

/* cpu.c: detected feature bits */
enum {
  GLLMK_CPU_AVX2 = 1u << 0,     /* AVX2 + FMA + F16C, YMM state enabled by the OS */
  GLLMK_CPU_AVX512 = 1u << 1,   /* AVX-512 F/BW/DQ/VL, ZMM and opmask state enabled */
  GLLMK_CPU_VNNI = 1u << 2,     /* AVX-512 VNNI on top of GLLMK_CPU_AVX512 */
  GLLMK_CPU_NEON = 1u << 3,     /* AArch64 Advanced SIMD (HWCAP_ASIMD) */
  GLLMK_CPU_DOTPROD = 1u << 4,  /* sdot/udot (HWCAP_ASIMDDP) */
  GLLMK_CPU_SVE = 1u << 5,      /* Scalable Vector Extension (HWCAP_SVE) */
  GLLMK_CPU_AVXVNNI = 1u << 6,  /* AVX-VNNI (VEX vpdpbusd) on top of GLLMK_CPU_AVX2 */
};
GLLMK_HIDDEN unsigned gllmk__cpu_detect(void);
GLLMK_HIDDEN const char *gllmk__cpu_feature_string(void);

/* dispatch.c: the active kernel table, or NULL when GLLMK_CPU_ISA named an
 * ISA that cannot run (every operator then returns GLLMK_E_UNSUPPORTED) */
GLLMK_HIDDEN const struct gllmk_kernels *gllmk__kernels(void);

/* threads.c */
GLLMK_HIDDEN int gllmk__nthreads(void);
/* fn(ctx, begin, end) over [0, count) split in contiguous ranges whose
 * boundaries are multiples of grain, on up to gllmk__nthreads() threads, and
 * only when count >= 2 * min_per_thread */
typedef void (*gllmk__range_fn)(void *ctx, size_t begin, size_t end);
GLLMK_HIDDEN void gllmk__parallel(size_t count, size_t grain, size_t min_per_thread,
                                  gllmk__range_fn fn, void *ctx);
/* the number of threads gllmk__parallel(count, grain, min_per_thread) splits
 * the range over, ignoring that a call nested in a parallel region runs on its
 * caller: an upper bound of the thread indices that run fn (0 when count is 0) */
GLLMK_HIDDEN size_t gllmk__parallel_width(size_t count, size_t grain, size_t min_per_thread);
/* per-thread scratch, slot 0..GLLMK_SCRATCH_SLOTS-1; NULL when out of memory.
 * Without a workspace context: grow-only buffers kept per thread.  With one:
 * the region of this thread that gllmk__ws_begin carved for the slot (NULL
 * when it carved none that large for this thread). */
enum { GLLMK_SCRATCH_GEMM, GLLMK_SCRATCH_ATTN, GLLMK_SCRATCH_QTILE, GLLMK_SCRATCH_SLOTS };
GLLMK_HIDDEN float *gllmk__scratch(int slot, size_t floats);

/* ---- workspace.c: ops drawing their scratch from a backend's workspace
 *
 * gllmk__ws_enter(ws) makes ws the calling thread's context until
 * gllmk__ws_leave(); gllmk__parallel hands it to its worker threads for the
 * range.  With a context, an op:
 *  - plans what it draws (a struct gllmk__ws_plan built by the same size
 *    helpers as the allocations) and calls gllmk__ws_begin, which returns
 *    GLLMK_E_NOMEM before the op does anything when the rest of the
 *    workspace is smaller, and carves each scratch slot's per-thread regions;
 *  - gets its buffers from gllmk__ws_alloc: a 64-byte-aligned bump allocation
 *    (thread safe; gllmk__ws_free does nothing), NULL when it does not fit.
 * Without a context gllmk__ws_alloc/free are malloc/free and gllmk__ws_begin
 * does nothing: direct calls pay one thread-local load per allocation.
 *
 * The sizes (lib/core/cpu_ws.h) assume a 64-byte-aligned base; an unaligned
 * base loses its first bytes up to the next multiple of 64. */
struct gllmk__ws {
  void *base;
  size_t size, used;            /* bytes; [base + used, base + size) is free */
  /* set by gllmk__ws_enter */
  struct gllmk__ws *prev;       /* the context it replaced, and that context's thread index */
  unsigned prev_tid;
  int nthreads;                 /* gllmk__nthreads() while the context is current */
  struct {
    char *p;                    /* regions * stride bytes: region t at p + t * stride */
    size_t floats, stride, regions;
  } slot[GLLMK_SCRATCH_SLOTS];
};

/* what an op draws: op-level buffers (each rounded up to 64 bytes) and, per
 * scratch slot, the floats of one region and how many threads use one */
struct gllmk__ws_plan {
  size_t bytes;
  size_t floats[GLLMK_SCRATCH_SLOTS];
  size_t regions[GLLMK_SCRATCH_SLOTS];
  bool overflow;
};

GLLMK_HIDDEN void gllmk__ws_enter(struct gllmk__ws *ws);
GLLMK_HIDDEN void gllmk__ws_leave(void);
GLLMK_HIDDEN void *gllmk__ws_alloc(size_t bytes);
GLLMK_HIDDEN void gllmk__ws_free(void *p);
GLLMK_HIDDEN gllmk_status gllmk__ws_begin(const struct gllmk__ws_plan *p);
/* the plan's bytes in all, SIZE_MAX when that overflows */
GLLMK_HIDDEN size_t gllmk__ws_plan_total(const struct gllmk__ws_plan *p);
/* the context of this thread (NULL: none) and this thread's index in it.
 * glibc keeps static TLS to spare for libraries loaded later, so these can
 * be initial-exec there: one %fs-relative load instead of __tls_get_addr */
#if defined(__GLIBC__)
#define GLLMK_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define GLLMK_TLS_FAST
#endif
extern GLLMK_HIDDEN GLLMK_TLS_FAST _Thread_local struct gllmk__ws *gllmk__ws_cur;
extern GLLMK_HIDDEN GLLMK_TLS_FAST _Thread_local unsigned gllmk__ws_tid;

static inline bool gllmk__ws_active(void) { return gllmk__ws_cur != NULL; }
static inline struct gllmk__ws_plan *gllmk__ws_plan_init(struct gllmk__ws_plan *p) {
  *p = (struct gllmk__ws_plan){0};
  return p;
}
/* a buffer of bytes drawn with gllmk__ws_alloc */
static inline void gllmk__ws_plan_buf(struct gllmk__ws_plan *p, size_t bytes) {
  if (bytes > SIZE_MAX - 63 || __builtin_add_overflow(p->bytes, (bytes + 63) & ~(size_t)63, &p->bytes))
    p->overflow = true;
}
/* regions threads that each take gllmk__scratch(slot, floats) */
static inline void gllmk__ws_plan_slot(struct gllmk__ws_plan *p, int slot, size_t floats, size_t regions) {
  if (regions == 0) return;
  if (floats > p->floats[slot]) p->floats[slot] = floats;
  if (regions > p->regions[slot]) p->regions[slot] = regions;
}
/* a cpu_ws.h query: the plan's total, 0 when it overflows */
static inline size_t gllmk__ws_query(const struct gllmk__ws_plan *p) {
  size_t t = gllmk__ws_plan_total(p);
  return t == SIZE_MAX ? 0 : t;
}
/* in an op, once its arguments are validated and before it does anything:
 * with a context, plan what it draws and reserve it, or return GLLMK_E_NOMEM.
 * plan(struct gllmk__ws_plan *, args...) returns its first argument. */
#define GLLMK_WS_BEGIN(plan, ...)                                         \
  do {                                                                    \
    if (gllmk__ws_active()) {                                             \
      struct gllmk__ws_plan wsp__;                                        \
      gllmk_status wsst__ = gllmk__ws_begin(plan(&wsp__, __VA_ARGS__));   \
      if (wsst__ != GLLMK_OK) return wsst__;                              \
    }                                                                     \
  } while (0)

/* ---- backends (backend.c): the part every backend shares, and what one
 * backend kind provides.  Device memory is addressed by void *: host
 * addresses on the CPU, CUdeviceptr values on CUDA. */
struct gllmk__backend_impl {
  void (*close)(gllmk_backend *be);
  gllmk_status (*mem_alloc)(gllmk_backend *be, size_t bytes, void **p);
  void (*mem_free)(gllmk_backend *be, void *p);
  gllmk_status (*upload)(gllmk_backend *be, void *dst, const void *src, size_t bytes);
  gllmk_status (*download)(gllmk_backend *be, void *dst, const void *src, size_t bytes);
  gllmk_status (*copy)(gllmk_backend *be, void *dst, const void *src, size_t bytes);
  gllmk_status (*synchronize)(gllmk_backend *be);
  gllmk_status (*set_stream)(gllmk_backend *be, void *stream);
  void *(*stream)(const gllmk_backend *be);
  gllmk_status (*graph_begin)(gllmk_backend *be);
  gllmk_status (*graph_end)(gllmk_backend *be, void **graph);
  gllmk_status (*graph_launch)(gllmk_backend *be, void *graph);
  void (*graph_free)(gllmk_backend *be, void *graph);
  const gllmk_ops_f32 *ops_f32;
  const gllmk_ops_f16 *ops_f16;
  const gllmk_ops_bf16 *ops_bf16;
};

struct gllmk__span { uintptr_t lo, hi; };     /* [lo, hi) of one buffer */

/* a recorded CPU call: the op's arguments follow the header */
struct gllmk__rec {
  struct gllmk__rec *next;
  gllmk_status (*play)(gllmk_backend *be, const struct gllmk__rec *r);
};

struct gllmk_backend {
  const struct gllmk__backend_impl *impl;
  char name[24];
  int device_error;             /* raw driver code of the last GLLMK_E_DEVICE */
  bool recording;               /* between graph_begin and graph_end */
  int graphs;                   /* graphs alive: the workspace must not move */
  pthread_mutex_t lock;         /* the buffer list; the CPU ops' workspace */
  struct gllmk__span *spans;    /* live buffers, sorted by lo */
  size_t nspans, capspans;
  void *ws;                     /* the workspace (device memory) */
  size_t ws_size;
  struct gllmk__rec *rec_head, **rec_tail;  /* CPU: the calls being recorded */
  void *priv;                   /* the backend kind's own state */
};

/* backend.c */
GLLMK_HIDDEN void gllmk__backend_set_message(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
GLLMK_HIDDEN int gllmk__be_owns(const gllmk_backend *be, const void *p, size_t bytes);
GLLMK_HIDDEN void *gllmk__be_workspace(gllmk_backend *be, size_t bytes);
/* CPU ops (cpu_ops.c): recording, and the workspace of one op: _get locks
 * the backend and gives its workspace when it holds need bytes (else
 * GLLMK_E_NOMEM, unlocked); _put unlocks. */
static inline bool gllmk__cpu_recording(const gllmk_backend *be) { return be->recording; }
GLLMK_HIDDEN void *gllmk__cpu_record(gllmk_backend *be, size_t bytes,
                                     gllmk_status (*play)(gllmk_backend *, const struct gllmk__rec *));
GLLMK_HIDDEN gllmk_status gllmk__cpu_ws_get(gllmk_backend *be, size_t need, struct gllmk__ws **ws);
GLLMK_HIDDEN void gllmk__cpu_ws_put(gllmk_backend *be);
#ifdef GLLMK_HAVE_CUDA
/* cuda/backend.c */
GLLMK_HIDDEN gllmk_status gllmk__cuda_open(gllmk_backend *be, int ordinal);
#endif

/* cpu_ops.c: the CPU backend's tables (generated) */
extern GLLMK_HIDDEN const gllmk_ops_f32 gllmk__cpu_ops_f32;
extern GLLMK_HIDDEN const gllmk_ops_f16 gllmk__cpu_ops_f16;
extern GLLMK_HIDDEN const gllmk_ops_bf16 gllmk__cpu_ops_bf16;

/* kernel tables, one per row of isa/isas.def; only the ones configure
 * compiled are defined (GLLMK_HAVE_<NAME> in config.h; scalar always) */
#define GLLMK_HAVE_SCALAR 1
#define GLLMK_ISA_ROW(name, NAME, arch, needs, what) \
  extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_##name;
#include "isa/isas.def"
#undef GLLMK_ISA_ROW

/* GLLMK_ENABLED(M): 1 when the macro M is defined to 1, else 0, as an
 * expression the preprocessor and constant folding both see (Linux's
 * IS_ENABLED): lets a row of a .def list test its own config macro */
#define GLLMK__PH_1 0,
#define GLLMK__SECOND(a, b, ...) b
#define GLLMK__ENABLED3(junk) GLLMK__SECOND(junk 1, 0, ~)
#define GLLMK__ENABLED2(v) GLLMK__ENABLED3(GLLMK__PH_##v)
#define GLLMK_ENABLED(m) GLLMK__ENABLED2(m)

/* size arithmetic: false on overflow */
static inline int gllmk__mul(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline int gllmk__mul3(size_t a, size_t b, size_t c, size_t *r) {
  size_t t;
  return gllmk__mul(a, b, &t) && gllmk__mul(t, c, r);
}
static inline int gllmk__add(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

#endif /* GLLMK_INTERNAL_H */
