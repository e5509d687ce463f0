/* kt_slots.h -- every slot of an ISA's kernel table, one S(member, slot,
 * template kernel) row each (included twice by isa_table.h: once for the
 * table, once for the names gllmk-info --kernels prints; no include guard)
 * SPDX-License-Identifier: MIT
 *
 *   member  the struct gllmk_kernels member (a designator: q.qmv[GLLMK_QF_q4_k])
 *   slot    its name, the <slot> of an overrides.def line GLLMK_OVR_<slot>
 *           (q4_k's decode GEMV is qmv_q4_k; the f16 gemm is gemm_f16)
 *   kernel  the template's kernel, which the slot holds unless overridden
 */
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) \
  S(q.dequant[GLLMK_QF_##fmt], dequant_##fmt, GLLMK_KNAME_(dequant_##fmt, q, GLLMK_ISA))
#include "quant/qformats.def"
#undef GLLMK_QFMT
S(q.dequant_squeezellm, dequant_squeezellm, GLLMK_KNAME_(dequant_squeezellm, q, GLLMK_ISA))
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) \
  S(q.qmv[GLLMK_QF_##fmt], qmv_##fmt, GLLMK_KNAME_(qmv_##fmt, q, GLLMK_ISA))
#include "quant/qformats.def"
#undef GLLMK_QFMT
S(q.qmv_awq4, qmv_awq4, GLLMK_KNAME_(qmv_awq4, q, GLLMK_ISA))
S(q.qmv_gptq4, qmv_gptq4, GLLMK_KNAME_(qmv_gptq4, q, GLLMK_ISA))
S(q.qmv_i8, qmv_i8, GLLMK_KNAME_(qmv_i8, q, GLLMK_ISA))
S(q.qmv_i4, qmv_i4, GLLMK_KNAME_(qmv_i4, q, GLLMK_ISA))
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) \
  S(q.qgemm[GLLMK_QF_##fmt], qgemm_##fmt, GLLMK_KNAME_(qgemm_##fmt, q, GLLMK_ISA))
#include "quant/qformats.def"
#undef GLLMK_QFMT
S(q.qgemm_awq4, qgemm_awq4, GLLMK_KNAME_(qgemm_awq4, q, GLLMK_ISA))
S(q.qgemm_gptq4, qgemm_gptq4, GLLMK_KNAME_(qgemm_gptq4, q, GLLMK_ISA))
S(q.qgemm_i8, qgemm_i8, GLLMK_KNAME_(qgemm_i8, q, GLLMK_ISA))
S(q.qgemm_i4, qgemm_i4, GLLMK_KNAME_(qgemm_i4, q, GLLMK_ISA))
S(q.qgemm_act, qgemm_act, GLLMK_KNAME_(qgemm_act, q, GLLMK_ISA))
S(q.fmv_sqllm, fmv_sqllm, GLLMK_KNAME_(fmv_sqllm, q, GLLMK_ISA))
S(q.fmv_gptq4, fmv_gptq4, GLLMK_KNAME_(fmv_gptq4, q, GLLMK_ISA))
#define GLLMK_XF_SLOT(tok, NAME) S(q.xdeq[GLLMK_XF_##NAME], xdeq_##tok, GLLMK_KNAME_(xdeq_##tok, q, GLLMK_ISA))
GLLMK_XFMTS(GLLMK_XF_SLOT)
#undef GLLMK_XF_SLOT
S(q.gidx_scan, gidx_scan, GLLMK_KNAME_(gidx_scan, q, GLLMK_ISA))
S(q.dot_i8f32, dot_i8f32, GLLMK_KNAME_(dot_i8f32, q, GLLMK_ISA))
S(q.quant_act, quant_act, GLLMK_KNAME_(quant_act, q, GLLMK_ISA))
#define GLLMK_KERNEL(name, ret, params) S(TN.name, GLLMK_KT_CAT(name, TN), GLLMK_KNAME_(name, TN, GLLMK_ISA))
#define TN f32
#include "kernels/kernels.def"
#undef TN
#define TN f16
#include "kernels/kernels.def"
#undef TN
#define TN bf16
#include "kernels/kernels.def"
#undef TN
#undef GLLMK_KERNEL
