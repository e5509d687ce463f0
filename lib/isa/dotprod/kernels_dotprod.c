/* kernels_dotprod.c -- every kernel template instantiated for the dotprod ISA
 * SPDX-License-Identifier: MIT
 *
 * The neon primitive layer with its int8 dot products on sdot
 * (-march=armv8.2-a+dotprod); exports only the table gllmk__kt_dotprod.
 */
#include <config.h>
#define GLLMK_ISA dotprod
#define GLLMK_SIMD_DOTPROD 1
#include "simd/simd_neon.h"
#include "kernels/instantiate.h"
