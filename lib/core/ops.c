/* ops.c -- the public Table A operators: validation, then the active ISA's
 * kernels, split across threads.  ops_tpl.h is instantiated for f32, f16, bf16.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "cpu_ws.h"
#include "packed.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GLLMK_PUB__(op, tn) gllmk_##op##_##tn
#define GLLMK_PUB_(op, tn) GLLMK_PUB__(op, tn)
#define GLLMK_PUB(op) GLLMK_PUB_(op, TN)          /* gllmk_<op>_<TN> */
#define GLLMK_CL__(name, tn) gllmk__core_##name##_##tn
#define GLLMK_CL_(name, tn) GLLMK_CL__(name, tn)
#define CL(name) GLLMK_CL_(name, TN)              /* a core helper of this element type */

/* elementwise ops: a thread gets at least this many elements */
#define GLLMK_PAR_MIN_ELEMS ((size_t)1 << 16)
/* reductions sum fixed chunks in a fixed order, so results do not depend on
 * the thread count */
#define GLLMK_RED_CHUNK ((size_t)1 << 16)
#define GLLMK_RED_MAX_CHUNKS 1024

/* the kernel table, or GLLMK_E_UNSUPPORTED when GLLMK_CPU_ISA forced an ISA
 * that cannot run here */
#define GET_KT()                                          \
  const struct gllmk_kernels *kt = gllmk__kernels();      \
  if (!kt) return GLLMK_E_UNSUPPORTED

enum { RED_DOT, RED_SUM, RED_SUMSQ, RED_MAX };
enum { EW_ADD, EW_SUB, EW_MUL, EW_SCALE, EW_AXPY, EW_SILU, EW_GELU, EW_RELU, EW_TANH, EW_EXP,
       EW_SWIGLU };
enum { ROW_SOFTMAX, ROW_RMS, ROW_LAYER };

/* the workspace query of an op for this element type: gllmk__cpu_ws_<op>_<TN> */
#define GLLMK_WSQ__(op, tn) gllmk__cpu_ws_##op##_##tn
#define GLLMK_WSQ_(op, tn) GLLMK_WSQ__(op, tn)
#define WSQ(op) GLLMK_WSQ_(op, TN)

/* How a matmul C[m x n] = A[m x k] . B (W^T when b_trans) is split across
 * threads: decode shapes stream W through linear_rows over its rows (no
 * scratch); everything else packs on every thread, over C's rows or
 * columns, with a GLLMK_SCRATCH_GEMM region each. */
struct mm_split {
  bool packed, by_rows;
  size_t count, grain, min_per_thread;   /* the gllmk__parallel arguments */
};
static inline __attribute__((always_inline)) struct mm_split mm_split(size_t m, size_t n, size_t k,
                                                                     bool b_trans, bool bias) {
  double work = (double)m * (double)n * (double)k;
  struct mm_split s = {0};
  if (b_trans && m <= 8 && !bias && k > 0) {
    s.count = n, s.grain = 16, s.min_per_thread = work < 1e6 ? n : 64;
    return s;
  }
  s.packed = true;
  s.by_rows = m > n;
  s.count = s.by_rows ? m : n;
  s.grain = s.by_rows ? GLLMK_GEMM_ROW_GRAIN : 64;
  s.min_per_thread = work < 4e6 ? s.count : 1;
  return s;
}
/* what one such matmul draws */
static void mm_plan(struct gllmk__ws_plan *p, size_t m, size_t n, size_t k, bool b_trans,
                    bool bias) {
  if (m == 0 || n == 0) return;
  struct mm_split s = mm_split(m, n, k, b_trans, bias);
  if (s.packed)
    gllmk__ws_plan_slot(p, GLLMK_SCRATCH_GEMM, GLLMK_GEMM_WS_FLOATS,
                        gllmk__parallel_width(s.count, s.grain, s.min_per_thread));
}
/* the X.W^T matmuls of a fused op over m rows in blocks of mb (the last one
 * m % mb rows) */
static void mm_plan_blocks(struct gllmk__ws_plan *p, size_t m, size_t mb, size_t n, size_t k) {
  if (m == 0) return;
  mm_plan(p, mb, n, k, true, false);
  if (m % mb) mm_plan(p, m % mb, n, k, true, false);
}

/* How attention is split: one item per (kv head, block of GLLMK_ATTN_QB
 * queries), a GLLMK_SCRATCH_ATTN region per thread */
struct attn_split { size_t nqb, items, min_per_thread; };
static struct attn_split attn_split(size_t q_len, size_t kv_len, size_t heads, size_t kv_heads,
                                    size_t head_dim) {
  struct attn_split s;
  double work = (double)q_len * (double)kv_len * (double)heads * (double)head_dim;
  s.nqb = (q_len + GLLMK_ATTN_QB - 1) / GLLMK_ATTN_QB;
  s.items = kv_heads * s.nqb;
  s.min_per_thread = work < 1e6 ? s.items : 1;
  return s;
}

#define GLLMK_DTYPE_TPL "core/ops_tpl.h"
#include "core/each_dtype.h"

/* the ops that take packed weights share the static bodies above */
#define GLLMK_DTYPE_TPL "core/packed_tpl.h"
#include "core/each_dtype.h"
