/* kernels_sve.c -- every kernel template instantiated for the sve ISA
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the SVE flags
 * (-march=armv8.2-a+sve); vector-length agnostic, so one object serves
 * every SVE width.  Exports only the table gllmk__kt_sve.
 */
#include <config.h>
#include <stdbool.h>
#define GLLMK_ISA sve
#include "simd/simd_sve.h"
#include "isa/sve/gemm_micro_sve.h"
#include "isa/sve/overrides.def"
#include "kernels/instantiate.h"
