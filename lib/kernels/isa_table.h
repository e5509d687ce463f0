/* isa_table.h -- the immutable kernel table of the ISA being compiled:
 * const struct gllmk_kernels gllmk__kt_<ISA>, one entry per row of
 * kernels/kt_slots.h: the template's kernel, or the function the ISA's
 * overrides.def names for that slot (GLLMK_SLOT, instantiate.h).
 * SPDX-License-Identifier: MIT
 */
#define GLLMK_STR_(x) #x
#define GLLMK_STR(x) GLLMK_STR_(x)
#define GLLMK_TABLE_(isa) gllmk__kt_##isa
#define GLLMK_TABLE(isa) GLLMK_TABLE_(isa)
#define GLLMK_KT_CAT_(a, b) a##_##b
#define GLLMK_KT_CAT(a, b) GLLMK_KT_CAT_(a, b)

/* each slot's name and kernel, for gllmk-info --kernels; then the shared
 * template helpers an ISA may override too */
static const struct gllmk__kslot GLLMK_KNAME_(slots, kt, GLLMK_ISA)[] = {
#define S(member, slot, kernel) {GLLMK_STR(slot), GLLMK_STR(GLLMK_SLOT(slot, kernel)), GLLMK_OVERRIDDEN(slot)},
#include "kernels/kt_slots.h"
  S(helper, gemm_micro, gllmk__gemm_micro)
#undef S
};

const struct gllmk_kernels GLLMK_TABLE(GLLMK_ISA) = {
  .name = GLLMK_STR(GLLMK_ISA),
  .slots = GLLMK_KNAME_(slots, kt, GLLMK_ISA),
  .nslots = sizeof GLLMK_KNAME_(slots, kt, GLLMK_ISA) / sizeof GLLMK_KNAME_(slots, kt, GLLMK_ISA)[0],
#define S(member, slot, kernel) .member = GLLMK_SLOT(slot, kernel),
#include "kernels/kt_slots.h"
#undef S
};
