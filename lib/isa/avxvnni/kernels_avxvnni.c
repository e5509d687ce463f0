/* kernels_avxvnni.c -- every kernel template instantiated for the avxvnni
 * ISA: the AVX2 primitives with the VEX-encoded vpdpbusd (AVX-VNNI) for the
 * integer dot products
 * SPDX-License-Identifier: MIT
 *
 * The only translation unit built with the avxvnni flags (AVX2 + FMA + F16C
 * + AVX-VNNI): Intel cores from Alder Lake on, AMD Zen 5 (which the vnni ISA
 * serves better where its AVX-512 is enabled).  It exports nothing but the
 * kernel table gllmk__kt_avxvnni (hidden).  As in the vnni unit, integer dot
 * products go through the primitives only (gcc 12 miscompiles plain-C
 * signed-int8 dot loops that it vectorises into vpdpbusd).
 */
#include <config.h>
#define GLLMK_ISA avxvnni
#define GLLMK_SIMD_AVXVNNI 1
#include "simd/simd_avx2.h"
#include "isa/x86/qfast.h"
#include "isa/x86/overrides.def"
#include "kernels/instantiate.h"
