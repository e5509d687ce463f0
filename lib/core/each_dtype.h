/* each_dtype.h -- include the core template GLLMK_DTYPE_TPL (a quoted header
 * name) once per element type, with T, TN and T_IS_F32 defined around it.
 * No include guard: included once per template.
 * SPDX-License-Identifier: MIT
 */
#define T float
#define TN f32
#define T_IS_F32 1
#include GLLMK_DTYPE_TPL
#undef T
#undef TN
#undef T_IS_F32

#define T gllmk_f16
#define TN f16
#define T_IS_F32 0
#include GLLMK_DTYPE_TPL
#undef T
#undef TN
#undef T_IS_F32

#define T gllmk_bf16
#define TN bf16
#define T_IS_F32 0
#include GLLMK_DTYPE_TPL
#undef T
#undef TN
#undef T_IS_F32

#undef GLLMK_DTYPE_TPL
