/* kernels_scalar.c -- every kernel template instantiated for the scalar ISA
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the scalar flags (lib/Makefile.am); it
 * exports nothing but the kernel table gllmk__kt_scalar (hidden visibility).
 */
#include <config.h>
#define GLLMK_ISA scalar
#include "simd/simd_scalar.h"
#include "kernels/instantiate.h"
