/* templates.h -- every kernel template, for the element type elem_<TN>.h set
 * (included by instantiate.h once per element type; no include guard)
 * SPDX-License-Identifier: MIT
 */
#include "kernels/blas1_tpl.h"
#include "kernels/gemv_tpl.h"
#include "kernels/gemm_tpl.h"
#include "kernels/act_tpl.h"
#include "kernels/norm_tpl.h"
#include "kernels/rope_tpl.h"
#include "kernels/attention_tpl.h"
