/* gllmk.h -- gllmk, compute kernels for LLM inference: the umbrella header
 * SPDX-License-Identifier: MIT
 *
 * #include <gllmk.h> and link with `pkg-config --cflags --libs gllmk`.
 * Functions are gllmk_<op>_<f32|f16|bf16>; in C11 the gllmk_<op>() macros of
 * <gllmk/generic.h> pick the variant from the pointer type.  All matrices are
 * row-major and contiguous; weights follow W[out x in].  See gllmk(3).
 */
#ifndef GLLMK_H
#define GLLMK_H

#include <gllmk/types.h>
#include <gllmk/runtime.h>
#include <gllmk/ops.h>
#include <gllmk/quant.h>
#include <gllmk/quant_ops.h>
#include <gllmk/model_ops.h>
#include <gllmk/backend.h>
#include <gllmk/gguf.h>
#include <gllmk/model.h>
#include <gllmk/packed.h>
#include <gllmk/generic.h>

#endif /* GLLMK_H */
