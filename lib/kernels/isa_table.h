/* isa_table.h -- the immutable kernel table of the ISA being compiled:
 * const struct gllmk_kernels gllmk__kt_<ISA>, filled from kernels.def.
 * SPDX-License-Identifier: MIT
 */
#define GLLMK_STR_(x) #x
#define GLLMK_STR(x) GLLMK_STR_(x)
#define GLLMK_TABLE_(isa) gllmk__kt_##isa
#define GLLMK_TABLE(isa) GLLMK_TABLE_(isa)

/* GLLMK_QMV_OVERRIDES re-initialises entries on purpose */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const struct gllmk_kernels GLLMK_TABLE(GLLMK_ISA) = {
  .name = GLLMK_STR(GLLMK_ISA),
  .q = {
    .dequant = {
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot) GLLMK_KNAME_(dequant_##fmt, q, GLLMK_ISA),
#include "quant/qformats.def"
#undef GLLMK_QFMT
    },
    .dequant_squeezellm = GLLMK_KNAME_(dequant_squeezellm, q, GLLMK_ISA),
    .qmv = {
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot) GLLMK_KNAME_(qmv_##fmt, q, GLLMK_ISA),
#include "quant/qformats.def"
#undef GLLMK_QFMT
#ifdef GLLMK_QMV_OVERRIDES
      /* the ISA's hand-written kernels replace the template's (isa/x86/qfast.h) */
      GLLMK_QMV_OVERRIDES
#endif
    },
    .qmv_awq4 = GLLMK_KNAME_(qmv_awq4, q, GLLMK_ISA),
    .qmv_gptq4 = GLLMK_KNAME_(qmv_gptq4, q, GLLMK_ISA),
    .qmv_i8 = GLLMK_KNAME_(qmv_i8, q, GLLMK_ISA),
    .qmv_i4 = GLLMK_KNAME_(qmv_i4, q, GLLMK_ISA),
    .fmv_sqllm = GLLMK_KNAME_(fmv_sqllm, q, GLLMK_ISA),
    .fmv_gptq4 = GLLMK_KNAME_(fmv_gptq4, q, GLLMK_ISA),
    .xdeq = {
      [GLLMK_XF_AWQ4] = GLLMK_KNAME_(xdeq_awq4, q, GLLMK_ISA),
      [GLLMK_XF_GPTQ4] = GLLMK_KNAME_(xdeq_gptq4, q, GLLMK_ISA),
      [GLLMK_XF_SQLLM] = GLLMK_KNAME_(xdeq_sqllm, q, GLLMK_ISA),
      [GLLMK_XF_I8] = GLLMK_KNAME_(xdeq_i8, q, GLLMK_ISA),
      [GLLMK_XF_I4] = GLLMK_KNAME_(xdeq_i4, q, GLLMK_ISA),
    },
    .gidx_scan = GLLMK_KNAME_(gidx_scan, q, GLLMK_ISA),
    .dot_i8f32 = GLLMK_KNAME_(dot_i8f32, q, GLLMK_ISA),
    .quant_act = GLLMK_KNAME_(quant_act, q, GLLMK_ISA),
  },
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
#pragma GCC diagnostic pop
