/* rope.cu -- rotary position embedding in place on qk[seq x heads x head_dim]
 * SPDX-License-Identifier: MIT
 *
 * Token t uses row pos + t of cos/sin [* x rotary_dim/2] (rope is pos = 0).
 * Pair i < half = rotary_dim/2 of a head is (2i, 2i+1) when interleaved, else
 * (i, i + half); dimensions rotary_dim..head_dim-1 are not touched:
 *   a' = a cos_i - b sin_i,   b' = b cos_i + a sin_i
 * rounded as a' = fma(a, c, b * -s), b' = fma(b, c, a s), which is what the
 * CPU's vector ISAs do for interleaved pairs (for the other layout they
 * round a c - b s without the fusion: a difference of an ulp or so).
 *
 * A block is blockDim.x lanes over the pairs of blockDim.y (token, head)
 * rows; grid-stride over the rows.  Consecutive lanes take consecutive pairs,
 * so the loads of a warp are contiguous (pairs of 2-byte or 4-byte elements,
 * which stays correct for any head_dim and pointer offset).  Each pair is
 * read and written by one thread: no ordering between threads is needed.
 */
#include "gk_float.cuh"

namespace gk_rope {

template <class T>
__device__ __forceinline__ void rope(T *qk, const T *cs, const T *sn, size_t seq, size_t heads,
                                     size_t head_dim, size_t half, int inter, size_t pos) {
  size_t rows = seq * heads, step = (size_t)gridDim.x * blockDim.y;
  for (size_t r = (size_t)blockIdx.x * blockDim.y + threadIdx.y; r < rows; r += step) {
    size_t t = r / heads;
    T *x = qk + r * head_dim;
    const T *c = cs + (pos + t) * half, *s = sn + (pos + t) * half;
    for (size_t i = threadIdx.x; i < half; i += blockDim.x) {
      float ci = gk_ld1(c + i), si = gk_ld1(s + i);
      T *pa = inter ? x + 2 * i : x + i, *pb = inter ? x + 2 * i + 1 : x + i + half;
      float a = gk_ld1(pa), b = gk_ld1(pb);
      float na = fmaf(a, ci, b * -si);
      float nb = fmaf(b, ci, a * si);
      gk_st1(pa, na);
      gk_st1(pb, nb);
    }
  }
}

} /* namespace gk_rope */

#define GK_ROPE_KERNEL(T, dt)                                                                    \
  extern "C" __global__ void gk_rope_##dt(T *qk, const T *cs, const T *sn, size_t seq,           \
                                          size_t heads, size_t head_dim, size_t half, int inter,  \
                                          size_t pos) {                                          \
    using namespace gk_rope;                                                                     \
    rope<T>(qk, cs, sn, seq, heads, head_dim, half, inter, pos);                                 \
  }                                                                                              \
  GK_EXPORT(gk_rope_##dt);

GK_ROPE_KERNEL(float, f32)
GK_ROPE_KERNEL(gk_half, f16)
GK_ROPE_KERNEL(gk_bf16, bf16)
