/* ops.c -- the public Table A operators: validation, then the active ISA's
 * kernels, split across threads.  ops_tpl.h is instantiated for f32, f16, bf16.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
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

#define GLLMK_DTYPE_TPL "core/ops_tpl.h"
#include "core/each_dtype.h"
