/* kernels_avx2.c -- every kernel template instantiated for the avx2 ISA
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the avx2 flags (lib/Makefile.am); it
 * exports nothing but the kernel table gllmk__kt_avx2 (hidden visibility).
 */
#include <config.h>
#define GLLMK_ISA avx2
#include "simd/simd_avx2.h"
#include "isa/x86/qfast.h"
#include "isa/x86/overrides.def"
#include "kernels/instantiate.h"
