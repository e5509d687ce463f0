/* instantiate.h -- every kernel template, for f32, f16 and bf16, on the ISA
 * whose primitive header the including translation unit chose.  Then the
 * ISA's kernel table.  Included once per lib/isa/<isa>/kernels_<isa>.c, after
 * #define GLLMK_ISA <token> and #include "simd/simd_<isa>.h".
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
