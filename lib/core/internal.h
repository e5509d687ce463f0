/* internal.h -- what the ISA-free core shares between its files
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_INTERNAL_H
#define GLLMK_INTERNAL_H

#include <config.h>
#include <gllmk.h>
#include "kernels/kernels.h"
#include <pthread.h>
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
/* per-thread grow-only scratch, slot 0..GLLMK_SCRATCH_SLOTS-1; NULL when out of memory */
enum { GLLMK_SCRATCH_GEMM, GLLMK_SCRATCH_ATTN, GLLMK_SCRATCH_QTILE, GLLMK_SCRATCH_SLOTS };
GLLMK_HIDDEN float *gllmk__scratch(int slot, size_t floats);

struct gllmk__ws;                  /* workspace.c */

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

/* kernel tables, one per compiled ISA */
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_scalar;
#ifdef GLLMK_HAVE_AVX2
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_avx2;
#endif
#ifdef GLLMK_HAVE_AVX512
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_avx512;
#endif
#ifdef GLLMK_HAVE_VNNI
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_vnni;
#endif
#ifdef GLLMK_HAVE_NEON
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_neon;
#endif
#ifdef GLLMK_HAVE_DOTPROD
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_dotprod;
#endif
#ifdef GLLMK_HAVE_SVE
extern GLLMK_HIDDEN const struct gllmk_kernels gllmk__kt_sve;
#endif

/* size arithmetic: false on overflow */
static inline int gllmk__mul(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline int gllmk__mul3(size_t a, size_t b, size_t c, size_t *r) {
  size_t t;
  return gllmk__mul(a, b, &t) && gllmk__mul(t, c, r);
}
static inline int gllmk__add(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

#endif /* GLLMK_INTERNAL_H */
