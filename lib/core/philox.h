/* philox.h -- Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", SC'11), the counter-based generator of gllmk's sampling.  The
 * same function on every backend: the CUDA kernels include this header too.
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_PHILOX_H
#define GLLMK_PHILOX_H

#include <stdint.h>

#if defined(__CUDACC__)
#define GLLMK_PHILOX_FN static __host__ __device__ __forceinline__
#else
#define GLLMK_PHILOX_FN static inline
#endif

/* the first 32-bit word of Philox4x32-10 with key (seed low, seed high) and
 * counter (ctr, stream, 0, 0) */
GLLMK_PHILOX_FN uint32_t gllmk__philox(uint64_t seed, uint32_t ctr, uint32_t stream) {
  uint32_t c0 = ctr, c1 = stream, c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c0;
}

/* a uniform float in [0, 1): the top 24 bits of that word */
GLLMK_PHILOX_FN float gllmk__philox_uniform(uint64_t seed, uint32_t ctr, uint32_t stream) {
  return (float)(gllmk__philox(seed, ctr, stream) >> 8) * (1.0f / 16777216.0f);
}

#endif /* GLLMK_PHILOX_H */
