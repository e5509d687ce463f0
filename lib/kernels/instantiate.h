/* instantiate.h -- every kernel template, for f32, f16 and bf16, on the ISA
 * whose primitive header the including translation unit chose.  Then the
 * ISA's kernel table.  Included once per lib/isa/<isa>/kernels_<isa>.c, after
 * #define GLLMK_ISA <token>, #include "simd/simd_<isa>.h" and the ISA's
 * hand-written kernels with their overrides.def, if it has any.
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>
#include "kernels/kernels.h"
#include "simd/fp16.h"
#include "simd/simd_math.h"

#define GLLMK_KNAME__(op, tn, isa) gllmk__##op##_##tn##__##isa
#define GLLMK_KNAME_(op, tn, isa) GLLMK_KNAME__(op, tn, isa)
/* gllmk__<op>_<TN>__<ISA> */
#define GLLMK_KNAME(op, tn) GLLMK_KNAME_(op, tn, GLLMK_ISA)
/* a helper local to one instantiation */
#define GLLMK_LOCAL(op) GLLMK_KNAME_(op, TN, GLLMK_ISA)

/* The one override mechanism.  An ISA unit may include, before this file,
 * its overrides.def: lines "#define GLLMK_OVR_<slot> GLLMK_BY_HAND(fn)" for
 * the slots of kernels/kt_slots.h (qmv_q4_k, gemm_f16, ...) or the shared
 * helpers of shared_tpl.h (gemm_micro) it writes by hand.
 *   GLLMK_SLOT(slot, template_fn)   fn where overridden, else template_fn
 *   GLLMK_OVERRIDDEN(slot)          1 where overridden, else 0
 *   #ifndef GLLMK_OVR_<slot>        what a shared helper tests to step aside
 * (the preprocessor's argument-shifting trick: GLLMK_BY_HAND(fn) expands to
 * "~, fn", which moves fn into the place that is picked) */
#define GLLMK_BY_HAND(fn) ~, fn
#define GLLMK__KT_2ND(a, b, ...) b
#define GLLMK__KT_2ND_(...) GLLMK__KT_2ND(__VA_ARGS__)
#define GLLMK__KT_3RD(a, b, c, ...) c
#define GLLMK__KT_3RD_(...) GLLMK__KT_3RD(__VA_ARGS__)
#define GLLMK__SLOT(slot, fn) GLLMK__KT_2ND_(GLLMK_OVR_##slot, fn, ~)
#define GLLMK_SLOT(slot, fn) GLLMK__SLOT(slot, fn)
#define GLLMK__OVERRIDDEN(slot) GLLMK__KT_3RD_(GLLMK_OVR_##slot, 1, 0, ~)
#define GLLMK_OVERRIDDEN(slot) GLLMK__OVERRIDDEN(slot)

/* the helpers every element type shares (the GEMM micro-kernel, ...) */
#include "kernels/shared_tpl.h"

#include "kernels/elem_f32.h"
#include "kernels/templates.h"
#include "kernels/elem_undef.h"

#include "kernels/elem_f16.h"
#include "kernels/templates.h"
#include "kernels/elem_undef.h"

#include "kernels/elem_bf16.h"
#include "kernels/templates.h"
#include "kernels/elem_undef.h"

#include "kernels/quant_tpl.h"

#include "kernels/isa_table.h"
