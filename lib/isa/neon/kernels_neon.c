/* kernels_neon.c -- every kernel template instantiated for the neon ISA
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the neon flags (-march=armv8-a); it
 * exports nothing but the kernel table gllmk__kt_neon (hidden visibility).
 */
#include <config.h>
#define GLLMK_ISA neon
#include "simd/simd_neon.h"
#include "kernels/instantiate.h"
