/* gemv.cu -- y[m] = A[m x n] . x[n], A row-major: the decode shape, bandwidth bound
 * SPDX-License-Identifier: MIT
 *
 * A group of `lpr` lanes of one warp (lanes per row: 1, 2, ... 32, chosen by
 * the host from n) computes one row over one segment of its columns; a warp
 * holds 32/lpr such groups, for consecutive rows.  When the rows alone would
 * not give the GPU enough warps (m small), the host splits every row into
 * `split` segments of `seg` columns: warp item w is (row group w / split,
 * segment w % split), each group writes its partial sum to
 * part[row * split + segment], and gk_gemv_final_<dt> adds a row's partials
 * in segment order and rounds once.  Without a split the group writes y
 * directly.  The partition depends on m, n and the alignment of A and x only,
 * so results do not depend on the device.
 *
 * A segment has at most 2^30 columns (the host splits longer rows), so the
 * offsets inside one are 32-bit.
 * Loads: A through the read-only path in 16-byte vectors without allocating
 * in L1 (gk_ldg16_stream: every element of A is read once), GK_GEMV_UNROLL per
 * lane and step (all issued before the first FMA), after a scalar head that
 * reaches the row segment's first 16-byte boundary; a scalar tail.  When
 * xvec is set (the host checked that A and x are congruent mod 16 and that a
 * row is a whole number of 16-byte vectors) x is read in the same vectors as
 * A, through gk_ldg16 (L1 keeps it for the next rows); otherwise element by
 * element (it stays in L1 too).  Each lane keeps one
 * accumulator per unroll slot, combined as (a0 + a1) + (a2 + a3) + scalar;
 * the group combines its lanes with a butterfly of shuffles.
 * y must not overlap A or x.
 */
#include "gk_float.cuh"

/* Threads per block (cuda/ops_float.c launches them so): 8 warps. */
#define GK_GEMV_BLOCK 256
/* 16-byte vectors of A per lane and step: 64 bytes of A in flight per lane. */
#define GK_GEMV_UNROLL 4
/* Blocks per SM the register budget must allow (at most 64 registers): 32
 * warps per SM, so that a 4096-row matrix (one warp per row) is one wave on
 * a 132-SM GPU. */
#define GK_GEMV_MIN_BLOCKS 4

namespace gk_gemv {

/* the dot product of one row segment (len <= 2^30 elements: 32-bit offsets),
 * this lane's share (lane `sub` of a group of lpr); x read in vectors when XV */
template <class T, bool XV>
__device__ __forceinline__ float row_dot(const T *a, const T *xs, unsigned len, unsigned sub,
                                         unsigned lpr) {
  const int V = gk_vec<T>::N, U = GK_GEMV_UNROLL;
  gk_split<unsigned> g = gk_split_of(a, len, true);
  float acc[U], sacc = 0.0f;
#pragma unroll
  for (int u = 0; u < U; u++) acc[u] = 0.0f;
  for (unsigned k = sub; k < g.ns; k += lpr) {
    unsigned i = g.at(k);
    sacc = fmaf(gk_ld1(a + i), gk_ld1(xs + i), sacc);
  }
  const uint4 *av = (const uint4 *)(a + g.head) + sub, *xv = (const uint4 *)(xs + g.head) + sub;
  const T *xe = xs + g.head + (size_t)sub * V;   /* x of the lane's first vector (scalar x) */
  for (unsigned v0 = sub; v0 < g.nv; v0 += U * lpr) {
    uint4 ra[U], rx[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
      if (v0 + u * lpr < g.nv) {
        ra[u] = gk_ldg16_stream(av + u * lpr);
        if (XV) rx[u] = gk_ldg16(xv + u * lpr);
      }
    }
#pragma unroll
    for (int u = 0; u < U; u++) {
      if (v0 + u * lpr < g.nv) {
        float fa[V], fx[V];
        gk_unpack(ra[u], fa, a);
        if (XV) {
          gk_unpack(rx[u], fx, a);
        } else {
#pragma unroll
          for (int j = 0; j < V; j++) fx[j] = gk_ld1(xe + u * lpr * V + j);
        }
#pragma unroll
        for (int j = 0; j < V; j++) acc[u] = fmaf(fa[j], fx[j], acc[u]);
      }
    }
    av += U * lpr;
    xv += U * lpr;
    xe += (size_t)U * lpr * V;
  }
  static_assert(GK_GEMV_UNROLL == 4, "the combination below has four accumulators");
  return (acc[0] + acc[1]) + (acc[2] + acc[3]) + sacc;
}

template <class T>
__device__ __forceinline__ void gemv(const T *A, const T *x, T *y, float *part, size_t m, size_t n,
                                     unsigned lpr, unsigned split, size_t seg, int xvec) {
  unsigned lane = threadIdx.x % 32, sub = lane % lpr;
  size_t w = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  size_t rpw = 32 / lpr, groups = (m + rpw - 1) / rpw;
  if (w >= groups * split) return;   /* whole warps only */
  size_t row = w / split * rpw + lane / lpr, s = w % split;
  bool active = row < m;
  float r = 0.0f;
  if (active) {
    size_t c0 = s * seg, c1 = c0 + seg < n ? c0 + seg : n;
    unsigned len = c1 > c0 ? (unsigned)(c1 - c0) : 0;
    const T *a = A + row * n + c0;
    r = xvec ? row_dot<T, true>(a, x + c0, len, sub, lpr)
             : row_dot<T, false>(a, x + c0, len, sub, lpr);
  }
  for (unsigned o = lpr / 2; o > 0; o >>= 1) r += __shfl_xor_sync(0xffffffffu, r, o);
  if (active && sub == 0) {
    if (split == 1) gk_st1(y + row, r);
    else part[row * split + s] = r;
  }
}

/* y[row] = sum of part[row * split + 0 .. split-1], in order, rounded once */
template <class T>
__device__ __forceinline__ void gemv_final(const float *part, T *y, size_t m, unsigned split) {
  size_t nt = (size_t)gridDim.x * blockDim.x;
  for (size_t row = (size_t)blockIdx.x * blockDim.x + threadIdx.x; row < m; row += nt) {
    const float *p = part + row * split;
    float r = p[0];
    for (unsigned k = 1; k < split; k++) r += p[k];
    gk_st1(y + row, r);
  }
}

} /* namespace gk_gemv */

#define GK_GEMV_KERNELS(T, dt)                                                                   \
  extern "C" __global__ void __launch_bounds__(GK_GEMV_BLOCK, GK_GEMV_MIN_BLOCKS)                \
  gk_gemv_##dt(const T *A, const T *x, T *y, float *part, size_t m, size_t n, unsigned lpr,      \
               unsigned split, size_t seg, int xvec) {                                           \
    using namespace gk_gemv;                                                                     \
    gemv<T>(A, x, y, part, m, n, lpr, split, seg, xvec);                                         \
  }                                                                                              \
  GK_EXPORT(gk_gemv_##dt);                                                                       \
  extern "C" __global__ void gk_gemv_final_##dt(const float *part, T *y, size_t m,               \
                                                unsigned split) {                                \
    using namespace gk_gemv;                                                                     \
    gemv_final<T>(part, y, m, split);                                                            \
  }                                                                                              \
  GK_EXPORT(gk_gemv_final_##dt);

GK_GEMV_KERNELS(float, f32)
GK_GEMV_KERNELS(gk_half, f16)
GK_GEMV_KERNELS(gk_bf16, bf16)
