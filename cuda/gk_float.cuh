/* gk_float.cuh -- the element layer of the float kernels: f32/f16/bf16 I/O, passes, reductions
 * SPDX-License-Identifier: MIT
 *
 * What every float family (blas1.cu, act.cu, gemv.cu, norm.cu, rope.cu)
 * shares, so that each of them holds only its operator's logic.  Built on
 * gk_arch.cuh's primitives, with no inline PTX of its own: the execution
 * harness (-DGK_EMU) compiles it unchanged.
 *
 * Elements.  T is float, gk_half or gk_bf16.  Values live in registers as
 * f32: widened exactly on load (gk_to_f32) and narrowed on store by
 * gk_from_f32<T> (round to nearest-even, gk_arch.cuh), one element at a time
 * (gk_ld1, gk_st1) or 16 bytes at a time (gk_unpack, gk_pack: gk_vec<T>::N
 * elements, the low address in the low bits).
 *
 * Ranges.  A gk_split cuts [0, n) into a scalar head up to the first 16-byte
 * boundary, nv whole 16-byte vectors and a scalar tail; scalar element k
 * (k < ns = head + tail length) is numbered head first (gk_split::at).  The
 * split comes either from the host (`head`, the same for all the pointers,
 * which it checked are congruent mod 16; head = n makes everything scalar)
 * or from a pointer (gk_split_of).  Vector accesses never touch an element
 * outside [0, n).
 *
 * Passes.  gk_sweep is the loop of every elementwise kernel and of every pass
 * over a row: thread `rank` of `size` takes scalar elements k = rank,
 * rank + size, ... and then vectors v = rank, rank + size, ..., U vectors per
 * step with all the loads of a step issued before its first store.  Every
 * element is read and then written by the same thread, so the output may
 * alias an input exactly (not partly).  gk_elementwise is the grid-wide form.
 *
 * Reductions.  Fixed order, no atomics: a warp combines its lanes with a
 * butterfly of shuffles (offsets 16, 8, 4, 2, 1; every lane gets the same
 * value), a block its warps in warp order.  The operators are the sum and a
 * max that propagates NaN (gk_max_nan).
 *
 * Math.  gk_exp is the CPU library's e^x (lib/simd/simd_math.h, vf32_exp)
 * for one lane, shared by the activations and softmax so that both give the
 * CPU's bits.
 */
#ifndef GK_FLOAT_CUH
#define GK_FLOAT_CUH

#include "gk_arch.cuh"

#ifndef __launch_bounds__   /* nvcc and the harness define it; another host compiler may not */
#define __launch_bounds__(...)
#endif

/* ------------------------------------------------------------------ elements */
/* elements of T in a 16-byte vector */
template <class T> struct gk_vec { enum { N = 16 / sizeof(T) }; };

template <class T> GK_DEV float gk_ld1(const T *p) { return gk_to_f32(*p); }
template <class T> GK_DEV void gk_st1(T *p, float v) { *p = gk_from_f32<T>(v); }

/* the elements of 16 raw bytes as f32 (the last argument only names T) */
GK_DEV void gk_unpack(uint4 u, float *v, const float *) {
  v[0] = __uint_as_float(u.x);
  v[1] = __uint_as_float(u.y);
  v[2] = __uint_as_float(u.z);
  v[3] = __uint_as_float(u.w);
}
template <class H> GK_DEV void gk_unpack(uint4 u, float *v, const H *) {
  const unsigned w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int j = 0; j < 4; j++) {
    H lo = {(unsigned short)(w[j] & 0xffffu)}, hi = {(unsigned short)(w[j] >> 16)};
    v[2 * j] = gk_to_f32(lo);
    v[2 * j + 1] = gk_to_f32(hi);
  }
}

/* f32 values rounded to T, as 16 raw bytes */
GK_DEV uint4 gk_pack(const float *v, const float *) {
  uint4 u;
  u.x = __float_as_uint(v[0]);
  u.y = __float_as_uint(v[1]);
  u.z = __float_as_uint(v[2]);
  u.w = __float_as_uint(v[3]);
  return u;
}
template <class H> GK_DEV unsigned gk_pack2(float lo, float hi) {
  return (unsigned)gk_from_f32<H>(lo).x | (unsigned)gk_from_f32<H>(hi).x << 16;
}
template <class H> GK_DEV uint4 gk_pack(const float *v, const H *) {
  uint4 u;
  u.x = gk_pack2<H>(v[0], v[1]);
  u.y = gk_pack2<H>(v[2], v[3]);
  u.z = gk_pack2<H>(v[4], v[5]);
  u.w = gk_pack2<H>(v[6], v[7]);
  return u;
}

/* ------------------------------------------------------------------ ranges */
/* [0, n) as a scalar head, nv 16-byte vectors from element head, a scalar
 * tail from element `tail`; ns scalar elements in all.  I is the index type
 * (size_t, or unsigned where the range is known to be shorter than 2^32). */
template <class I> struct gk_split {
  I head, nv, tail, ns;
  /* scalar element k < ns: the head's first, then the tail's */
  __device__ __forceinline__ I at(I k) const { return k < head ? k : tail + (k - head); }
};

/* the split with the host's head (head <= n; head = n: all scalar) */
template <class T, class I> GK_DEV gk_split<I> gk_split_head(I n, I head) {
  gk_split<I> g;
  g.head = head;
  g.nv = (n - head) / (I)gk_vec<T>::N;
  g.tail = head + g.nv * (I)gk_vec<T>::N;
  g.ns = head + (n - g.tail);
  return g;
}

/* the split of p[0, n): vectors from p's first 16-byte boundary when vec,
 * else all scalar */
template <class T, class I> GK_DEV gk_split<I> gk_split_of(const T *p, I n, bool vec) {
  I mis = (I)((size_t)p & 15);
  I head = !vec ? n : mis ? (I)((16 - mis) / sizeof(T)) : 0;
  return gk_split_head<T, I>(n, head < n ? head : n);
}

/* whether a and b are congruent mod 16 (so one split suits both) */
GK_DEV bool gk_congruent(const void *a, const void *b) {
  return (((size_t)a ^ (size_t)b) & 15) == 0;
}

/* ------------------------------------------------------------------ passes */
/* For every element i of g: r = f(u, p0[i], p1[i], p2[i]) (the inputs
 * beyond the first NIN read as 0; u is the unroll slot 0..U-1 of a vector's
 * elements and U for the scalar ones, so that a reduction can keep one
 * accumulator per slot), stored to o[i] when STORE.  Thread rank of size;
 * see the header comment for the order. */
template <int U, int NIN, bool STORE, class T, class F>
GK_DEV void gk_sweep(const T *p0, const T *p1, const T *p2, T *o, const gk_split<size_t> &g,
                     size_t rank, size_t size, F &&f) {
  const int V = gk_vec<T>::N;
  for (size_t k = rank; k < g.ns; k += size) {
    size_t i = g.at(k);
    float r = f(U, gk_ld1(p0 + i), NIN > 1 ? gk_ld1(p1 + i) : 0.0f,
                NIN > 2 ? gk_ld1(p2 + i) : 0.0f);
    if (STORE) gk_st1(o + i, r);
  }
  const uint4 *v0p = (const uint4 *)(p0 + g.head), *v1p = (const uint4 *)(p1 + g.head);
  const uint4 *v2p = (const uint4 *)(p2 + g.head);
  uint4 *vo = (uint4 *)(o + g.head);
  for (size_t v0 = rank; v0 < g.nv; v0 += (size_t)U * size) {
    uint4 r0[U], r1[U], r2[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
      size_t v = v0 + (size_t)u * size;
      if (v < g.nv) {
        r0[u] = v0p[v];
        if (NIN > 1) r1[u] = v1p[v];
        if (NIN > 2) r2[u] = v2p[v];
      }
    }
#pragma unroll
    for (int u = 0; u < U; u++) {
      size_t v = v0 + (size_t)u * size;
      if (v < g.nv) {
        float a[V], b[V], c[V];
        gk_unpack(r0[u], a, p0);
        if (NIN > 1) gk_unpack(r1[u], b, p0);
        if (NIN > 2) gk_unpack(r2[u], c, p0);
#pragma unroll
        for (int j = 0; j < V; j++)
          a[j] = f(u, a[j], NIN > 1 ? b[j] : 0.0f, NIN > 2 ? c[j] : 0.0f);
        if (STORE) vo[v] = gk_pack(a, p0);
      }
    }
  }
}

/* out[i] = f(a[i], b[i]) for i < n (b read only when B) over the whole grid:
 * global thread g takes scalars and vectors g, g + threads, ...  head is the
 * host's (see gk_split_head). */
template <int U, bool B, class T, class F>
GK_DEV void gk_elementwise(const T *a, const T *b, T *out, size_t n, size_t head, F f) {
  gk_split<size_t> g = gk_split_head<T, size_t>(n, head);
  size_t nt = (size_t)gridDim.x * blockDim.x;
  size_t rank = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  gk_sweep<U, B ? 2 : 1, true>(a, b, b, out, g, rank, nt,
                               [&](int, float x, float y, float) { return f(x, y); });
}

/* ------------------------------------------------------------------ reductions */
/* max that keeps a NaN of either side */
GK_DEV float gk_max_nan(float m, float v) { return (v > m || v != v) ? v : m; }

struct gk_op_sum {
  __device__ __forceinline__ static float identity() { return 0.0f; }
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};
struct gk_op_max {   /* NaN-propagating */
  __device__ __forceinline__ static float identity() { return __int_as_float(0xff800000); }
  __device__ __forceinline__ float operator()(float a, float b) const { return gk_max_nan(a, b); }
};

/* the warp's value in every lane (all 32 lanes take part) */
template <class Op> GK_DEV float gk_warp_reduce(float v, Op op) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/* the block's value in every thread: blockDim = (a multiple of 32, 1, 1);
 * sm holds >= blockDim.x / 32 floats.  It begins with a barrier, so that
 * one sm serves consecutive reductions. */
template <class Op> GK_DEV float gk_block_reduce(float v, float *sm, Op op) {
  v = gk_warp_reduce(v, op);
  __syncthreads();   /* the previous reduction's readers are done with sm */
  if (threadIdx.x % 32 == 0) sm[threadIdx.x / 32] = v;
  __syncthreads();
  float r = sm[0];
  for (unsigned w = 1; w < blockDim.x / 32; w++) r = op(r, sm[w]);
  return r;
}

/* ------------------------------------------------------------------ math */
/* 2^n for integral n in [-127, 128] (0 otherwise: NaN inputs, whose result is NaN anyway) */
GK_DEV float gk_pow2i(float n) {
  int i = n >= -127.0f && n <= 128.0f ? (int)n : 0;
  return __int_as_float((i + 127) << 23);
}

/* e^(x + l) for x in [-104, 89], |l| <= 8 (simd_math.h's gllmk__vexp_reduced):
 * Cephes range reduction, degree-6 polynomial, 2^n in two factors */
GK_DEV float gk_exp_reduced(float x, float l, bool has_l) {
  float n = rintf((has_l ? x + l : x) * 1.44269504088896341f);
  float r = fmaf(n, -0.693359375f, x);
  r = fmaf(n, 2.12194440e-4f, r);
  if (has_l) r = r + l;
  float p = 1.9875691500e-4f;
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  float y = fmaf(p, r * r, r) + 1.0f;
  float n1 = rintf(n * 0.5f);
  return y * gk_pow2i(n1) * gk_pow2i(n - n1);
}

/* e^x: x > 88.72 -> +inf, x < -103.97 -> 0, denormal results kept, NaN -> NaN */
GK_DEV float gk_exp(float x) {
  float c = x > -104.0f ? x : -104.0f;   /* the CPU's max/min: NaN clamps to -104 here */
  c = c < 89.0f ? c : 89.0f;
  float y = gk_exp_reduced(c, 0.0f, false);
  return x != x ? x : y;
}

#endif /* GK_FLOAT_CUH */
