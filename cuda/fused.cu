/* fused.cu -- the epilogue kernels of the fused transformer-block ops
 * SPDX-License-Identifier: MIT
 *
 * The six fused ops of Table A (cuda/ops_fused.c) run their products on the
 * GEMM kernels of linear (gemm.cu's NT tensor-core / FFMA kernels, l3.cu's
 * decode GEMV) and finish with one of these kernels, so that what the
 * composition does in two or three launches (and round trips through
 * memory) takes one:
 *
 * gk_add_rms_norm_<dt>(y, residual, w, out, sum_out, rows, n, eps, vec): per row
 *   of y [rows x n], s = y + residual (residual may be NULL: s = y), in f32;
 *   sum_out = s (rounded once, when sum_out is not NULL); out = s * (1 /
 *   sqrt(sum s^2 / n + eps)) * w, from the unrounded s, as the CPU's
 *   residual_rms_norm_row (lib/kernels/norm_tpl.h) does.  One block per row
 *   (grid-stride over the rows); thread t takes elements t, t + blockDim.x,
 *   ... in both passes: pass 1 sums s^2 (fmaf, element order per thread),
 *   the block reduction (gk_block_reduce: warps by shuffle butterfly, then the
 *   warps in order) makes the sum deterministic; pass 2 recomputes s from y
 *   and residual (L1/L2 hits) and stores sum_out, then out.  With vec (the
 *   host's: every row of every array starts 16-byte aligned) a thread takes
 *   the 16-byte vectors t, t + blockDim.x, ... of the row, then the elements
 *   past the last whole vector, in both passes.  Each element is
 *   read and written by one thread only, after its last read, so out and
 *   sum_out may alias residual (and each other: out wins); y must not
 *   overlap them.  blockDim.x is a multiple of 32, at most
 *   GK_FUSED_NORM_MAX_THREADS.
 *
 * gk_rope_qk_<dt>(q, k, cs, sn, seq, heads, kv_heads, head_dim, half, inter,
 *   pos): rope.cu's rotation, with the same arithmetic, on q [seq x heads x
 *   head_dim] and k [seq x kv_heads x head_dim] in one launch: rows (token,
 *   head) 0 .. seq*heads - 1 are q's, the next seq*kv_heads k's.  Lanes
 *   (blockDim.x) across a row's pairs, blockDim.y rows per block, grid-stride.
 *
 * gk_gate_up_gemv_<dt>(x, wg, wu, out, m, n, k, vec): decode (m <=
 *   GK_FUSED_GU_MAXM) out[m x n] = swiglu(x wg^T, x wu^T) in one launch.  As
 *   l3.cu's linear GEMV (one warp per output column j, GK_FUSED_GU_WARPS per
 *   block; 16-byte vectors of W when vec: W and x 16-byte aligned and k *
 *   sizeof(T) a multiple of 16; one f32 accumulator per row of x per lane,
 *   fmaf in the same order; a shuffle butterfly), but the warp streams row j
 *   of both wg and wu, so x is read once for both.  The two sums are rounded
 *   to T (as linear stores them) before silu(g) * u (act.cu's), so that the
 *   result is, bit for bit, that of linear, linear and swiglu.
 */
#include "gk_float.cuh"

/* Most threads of a gk_add_rms_norm block (cuda/ops_fused.c: FUSED_NORM_MAX_THREADS). */
#define GK_FUSED_NORM_MAX_THREADS 512
/* rows of x the decode gate/up GEMV takes: l3.cu's GK_LIN_MAXM (linear's own
 * decode bound), so that the same shapes take the one-launch path */
#define GK_FUSED_GU_MAXM 8
/* output columns (warps) per block: 256 threads */
#define GK_FUSED_GU_WARPS 8
/* 16-byte vectors of each W in flight per lane: two W rows at once, so half
 * of linear's GK_LIN_UNROLL * 2 */
#define GK_FUSED_GU_UNROLL 1

namespace gk_fused {

/* ------------------------------------------------------------------ residual + RMSNorm */
template <class T>
__device__ __forceinline__ void add_rms_norm(const T *y, const T *residual, const T *w, T *out,
                                             T *sum_out, size_t rows, size_t n, float eps,
                                             int vec) {
  const int V = gk_vec<T>::N;
  GK_SHARED(float, red, GK_FUSED_NORM_MAX_THREADS / 32);
  size_t nv = vec ? n / V : 0;   /* whole 16-byte vectors of a row, then elements */
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *yr = y + r * n, *rr = residual ? residual + r * n : NULL;
    float acc = 0.0f;
    for (size_t v = threadIdx.x; v < nv; v += blockDim.x) {
      float a[V], b[V];
      gk_unpack(gk_ldg16((const uint4 *)yr + v), a, yr);
      if (rr) gk_unpack(((const uint4 *)rr)[v], b, yr);   /* plain loads: out may alias it */
#pragma unroll
      for (int e = 0; e < V; e++) {
        float s = rr ? a[e] + b[e] : a[e];
        acc = fmaf(s, s, acc);
      }
    }
    for (size_t i = nv * V + threadIdx.x; i < n; i += blockDim.x) {
      float s = gk_ld1(yr + i);
      if (rr) s = s + gk_ld1(rr + i);
      acc = fmaf(s, s, acc);
    }
    float ss = gk_block_reduce(acc, red, gk_op_sum());
    float rs = 1.0f / sqrtf(ss / (float)n + eps);
    T *o = out + r * n, *so = sum_out ? sum_out + r * n : NULL;
    for (size_t v = threadIdx.x; v < nv; v += blockDim.x) {
      float a[V], b[V], wv[V];
      gk_unpack(gk_ldg16((const uint4 *)yr + v), a, yr);
      if (rr) gk_unpack(((const uint4 *)rr)[v], b, yr);
      gk_unpack(gk_ldg16((const uint4 *)w + v), wv, yr);
#pragma unroll
      for (int e = 0; e < V; e++) {
        a[e] = rr ? a[e] + b[e] : a[e];
        b[e] = a[e] * rs * wv[e];
      }
      if (so) ((uint4 *)so)[v] = gk_pack(a, yr);
      ((uint4 *)o)[v] = gk_pack(b, yr);
    }
    for (size_t i = nv * V + threadIdx.x; i < n; i += blockDim.x) {
      float s = gk_ld1(yr + i);
      if (rr) s = s + gk_ld1(rr + i);
      float wi = gk_ld1(w + i);
      if (so) gk_st1(so + i, s);
      gk_st1(o + i, s * rs * wi);
    }
  }
}

/* ------------------------------------------------------------------ rope on q and k */
template <class T>
__device__ __forceinline__ void rope_qk(T *q, T *k, const T *cs, const T *sn, size_t seq,
                                        size_t heads, size_t kv_heads, size_t head_dim, size_t half,
                                        int inter, size_t pos) {
  size_t rq = seq * heads, rows = rq + seq * kv_heads, step = (size_t)gridDim.x * blockDim.y;
  for (size_t r = (size_t)blockIdx.x * blockDim.y + threadIdx.y; r < rows; r += step) {
    size_t t;
    T *x;
    if (r < rq) {
      t = r / heads;
      x = q + r * head_dim;
    } else {
      t = (r - rq) / kv_heads;
      x = k + (r - rq) * head_dim;
    }
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

/* ------------------------------------------------------------------ decode gate/up + swiglu */
template <class T>
__device__ __forceinline__ void gate_up_gemv(const T *x, const T *Wg, const T *Wu, T *out,
                                             size_t m, size_t n, size_t k, int vec) {
  const int V = gk_vec<T>::N, U = GK_FUSED_GU_UNROLL;
  unsigned lane = threadIdx.x % 32;
  size_t j = (size_t)blockIdx.x * GK_FUSED_GU_WARPS + threadIdx.x / 32;
  if (j >= n) return;   /* whole warps */
  const T *wg = Wg + j * k, *wu = Wu + j * k;
  float ag[GK_FUSED_GU_MAXM], au[GK_FUSED_GU_MAXM];
#pragma unroll
  for (int i = 0; i < GK_FUSED_GU_MAXM; i++) ag[i] = au[i] = 0.0f;
  size_t kv = 0;
  if (vec) {
    size_t nv = k / V;
    const uint4 *gv = (const uint4 *)wg, *uv = (const uint4 *)wu;
    for (size_t v0 = lane; v0 < nv; v0 += (size_t)U * 32) {
      uint4 rg[U], ru[U];
#pragma unroll
      for (int u = 0; u < U; u++)
        if (v0 + u * 32 < nv) {
          rg[u] = gk_ldg16_stream(gv + v0 + u * 32);
          ru[u] = gk_ldg16_stream(uv + v0 + u * 32);
        }
#pragma unroll
      for (int u = 0; u < U; u++) {
        size_t v = v0 + u * 32;
        if (v < nv) {
          float fg[V], fu[V];
          gk_unpack(rg[u], fg, wg);
          gk_unpack(ru[u], fu, wg);
#pragma unroll
          for (int i = 0; i < GK_FUSED_GU_MAXM; i++) {
            if ((size_t)i < m) {
              float fx[V];
              gk_unpack(gk_ldg16((const uint4 *)(x + i * k) + v), fx, wg);
#pragma unroll
              for (int e = 0; e < V; e++) {
                ag[i] = fmaf(fg[e], fx[e], ag[i]);
                au[i] = fmaf(fu[e], fx[e], au[i]);
              }
            }
          }
        }
      }
    }
    kv = nv * V;
  }
  for (size_t c = kv + lane; c < k; c += 32) {
    float fg = gk_ld1(wg + c), fu = gk_ld1(wu + c);
#pragma unroll
    for (int i = 0; i < GK_FUSED_GU_MAXM; i++)
      if ((size_t)i < m) {
        float fx = gk_ld1(x + i * k + c);
        ag[i] = fmaf(fg, fx, ag[i]);
        au[i] = fmaf(fu, fx, au[i]);
      }
  }
#pragma unroll
  for (int i = 0; i < GK_FUSED_GU_MAXM; i++) {
    if ((size_t)i >= m) break;
    float g = ag[i], u = au[i];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      g += __shfl_xor_sync(0xffffffffu, g, o);
      u += __shfl_xor_sync(0xffffffffu, u, o);
    }
    if (lane == 0) {
      float gr = gk_to_f32(gk_from_f32<T>(g)), ur = gk_to_f32(gk_from_f32<T>(u));
      gk_st1(out + i * n + j, gk_act::gk_silu(gr) * ur);
    }
  }
}

} /* namespace gk_fused */

#define GK_FUSED_KERNELS(T, dt)                                                                  \
  extern "C" __global__ void __launch_bounds__(GK_FUSED_NORM_MAX_THREADS, 1)                     \
  gk_add_rms_norm_##dt(const T *y, const T *residual, const T *w, T *out, T *sum_out,            \
                       size_t rows, size_t n, float eps, int vec) {                              \
    gk_fused::add_rms_norm<T>(y, residual, w, out, sum_out, rows, n, eps, vec);                  \
  }                                                                                              \
  GK_EXPORT(gk_add_rms_norm_##dt);                                                               \
  extern "C" __global__ void gk_rope_qk_##dt(T *q, T *k, const T *cs, const T *sn, size_t seq,   \
                                             size_t heads, size_t kv_heads, size_t head_dim,      \
                                             size_t half, int inter, size_t pos) {               \
    gk_fused::rope_qk<T>(q, k, cs, sn, seq, heads, kv_heads, head_dim, half, inter, pos);        \
  }                                                                                              \
  GK_EXPORT(gk_rope_qk_##dt);                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_FUSED_GU_WARPS * 32, 1)                        \
  gk_gate_up_gemv_##dt(const T *x, const T *wg, const T *wu, T *out, size_t m, size_t n,         \
                       size_t k, int vec) {                                                      \
    gk_fused::gate_up_gemv<T>(x, wg, wu, out, m, n, k, vec);                                     \
  }                                                                                              \
  GK_EXPORT(gk_gate_up_gemv_##dt);

GK_FUSED_KERNELS(float, f32)
GK_FUSED_KERNELS(gk_half, f16)
GK_FUSED_KERNELS(gk_bf16, bf16)
