/* kernels_vnni.c -- every kernel template instantiated for the vnni ISA:
 * the AVX-512 primitives with vpdpbusd for the integer dot products
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the vnni flags (AVX-512 F/BW/DQ/VL +
 * VNNI); it exports nothing but the kernel table gllmk__kt_vnni (hidden).
 * Integer dot products go through vf32_idot4 only: gcc 12 miscompiles plain-C
 * signed-int8 dot loops that it vectorises into vpdpbusd (the per-ISA tests
 * of the quantized kernels run on this object to prove it is not hit).
 */
#include <config.h>
#define GLLMK_ISA vnni
#define GLLMK_SIMD_VNNI 1
#include "simd/simd_avx512.h"
#include "isa/x86/qfast.h"
#include "isa/x86/overrides.def"
#include "kernels/instantiate.h"
