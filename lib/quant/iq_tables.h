/* iq_tables.h -- the IQ lookup tables (iq_tables.c, generated)
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_IQ_TABLES_H
#define GLLMK_IQ_TABLES_H

#include <stdint.h>

/* CUDA (cuda/embq.cu) defines both as __device__ to compile the tables
 * into device memory */
#ifndef GLLMK_IQ_HIDDEN
#define GLLMK_IQ_HIDDEN __attribute__((visibility("hidden")))
#endif
#ifndef GLLMK_IQ_DEF   /* qualifier of the definitions (iq_tables.c) */
#define GLLMK_IQ_DEF
#endif

/* 7-bit sign index -> 8 sign bits (bit 7 = parity) */
extern GLLMK_IQ_HIDDEN const uint8_t gllmk__ksigns_iq2xs[128];
/* the same as byte masks: byte j = 0xFF when bit j of ksigns_iq2xs[i] is set */
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__ksigns64[128];
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__iq2xxs_grid[256];
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__iq2xs_grid[512];
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__iq2s_grid[1024];
extern GLLMK_IQ_HIDDEN const uint32_t gllmk__iq3xxs_grid[256];
extern GLLMK_IQ_HIDDEN const uint32_t gllmk__iq3s_grid[512];
/* signed int8 coordinates in {-1, 0, 1} */
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__iq1s_grid[2048];
extern GLLMK_IQ_HIDDEN const int8_t gllmk__kvalues_iq4nl[16];
/* byte j of entry i = 0xFF when bit j of i is set (derived by the generator) */
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__signmask8[256];
/* iq1_m levels 8 g + 9 + delta, delta = -1 where bit 11 of i is set, else +1
 * (derived by the generator; the x86 decode GEMV reads them) */
extern GLLMK_IQ_HIDDEN const uint64_t gllmk__iq1m_lv[4096];

#endif /* GLLMK_IQ_TABLES_H */
