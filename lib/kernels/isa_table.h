/* isa_table.h -- the immutable kernel table of the ISA being compiled:
 * const struct gllmk_kernels gllmk__kt_<ISA>, filled from kernels.def.
 * SPDX-License-Identifier: MIT
 */
#define GLLMK_STR_(x) #x
#define GLLMK_STR(x) GLLMK_STR_(x)
#define GLLMK_TABLE_(isa) gllmk__kt_##isa
#define GLLMK_TABLE(isa) GLLMK_TABLE_(isa)

const struct gllmk_kernels GLLMK_TABLE(GLLMK_ISA) = {
  .name = GLLMK_STR(GLLMK_ISA),
#define GLLMK_KERNEL(name, ret, params) .name = GLLMK_KNAME_(name, TN, GLLMK_ISA),
#define TN f32
  .f32 = {
#include "kernels/kernels.def"
  },
#undef TN
#define TN f16
  .f16 = {
#include "kernels/kernels.def"
  },
#undef TN
#define TN bf16
  .bf16 = {
#include "kernels/kernels.def"
  },
#undef TN
#undef GLLMK_KERNEL
};
