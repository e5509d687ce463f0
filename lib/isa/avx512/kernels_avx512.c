/* kernels_avx512.c -- every kernel template instantiated for the avx512 ISA
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the avx512 flags (lib/Makefile.am); it
 * exports nothing but the kernel table gllmk__kt_avx512 (hidden visibility).
 */
#include <config.h>
#define GLLMK_ISA avx512
#include "simd/simd_avx512.h"
#include "isa/x86/qfast.h"
#include "isa/x86/overrides.def"
#include "kernels/instantiate.h"
