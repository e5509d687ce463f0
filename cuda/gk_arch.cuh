/* gk_arch.cuh -- the one header of architecture primitives for the CUDA kernels
 * SPDX-License-Identifier: MIT
 *
 * Every inline-PTX instruction the kernels use lives here, behind a small C++
 * function, and each has two implementations:
 *   - compiled by nvcc (the fatbin in libgllmk): the PTX instruction itself;
 *   - compiled by the host C++ compiler with -DGK_EMU (the execution harness of
 *     tests/cudaemu, which runs every kernel on the CPU in `make check`): an
 *     emulation that follows the PTX ISA manual, fragment layouts included.
 * Kernels include this header first and nothing else from CUDA.
 *
 * Conventions for kernels (the .cu files of cuda/):
 *   - a kernel is  extern "C" __global__ void gk_<op>_<dtype>(...)  and is
 *     followed by GK_EXPORT(gk_<op>_<dtype>); (with its semicolon): the harness
 *     finds it by name;
 *   - parameters are pointers, 32/64-bit integers, size_t and float;
 *   - static shared memory is declared with GK_SHARED(T, name, N) and dynamic
 *     shared memory with GK_DYN_SHARED(T, name), never with __shared__
 *     directly, so that the harness can give each block its own copy and
 *     check it for races;
 *   - f16 and bf16 elements are gk_half / gk_bf16 (16-bit storage): read them
 *     with gk_to_f32() (exact) and write them with gk_from_f32<T>(), which
 *     rounds to nearest-even as the CPU library does (lib/simd/fp16.h): every
 *     value that is not a NaN gives the CPU's bits (overflow to infinity, f16
 *     denormals exact), and a NaN gives a NaN.  A NaN's sign and payload are
 *     not part of the contract: the device's cvt gives its canonical NaN (as
 *     its f32 arithmetic does for any NaN result, so keeping the payload in
 *     the store alone would buy nothing, for about twice the SASS of an f16
 *     elementwise kernel), while the emulation keeps the CPU's.  Element I/O
 *     in 16-byte vectors, passes and reductions: gk_float.cuh.
 */
#ifndef GK_ARCH_CUH
#define GK_ARCH_CUH

struct gk_half { unsigned short x; };
struct gk_bf16 { unsigned short x; };

#if defined(GK_EMU)
/* ------------------------------------------------------------------ harness
 * tests/cudaemu/emu.h provides the CUDA built-ins (threadIdx, __syncthreads,
 * shuffles, votes, atomics, __global__, ...), GK_EXPORT, GK_SHARED and
 * GK_DYN_SHARED, and the emulated primitives below are defined here. */
#include "emu.h"

/* ---- element conversions (round to nearest-even on store), bit for bit as
 * lib/simd/fp16.h: NaN stays a quiet NaN with its sign and top payload bits
 * (the device gives a NaN too, but its canonical one), f16 overflow gives
 * infinity, f16 denormals are exact. */
namespace gk_emu {
static inline float h2f(unsigned short h) {
  unsigned sign = (unsigned)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return __uint_as_float(sign | 0x7f800000u | (m << 13) | (m ? 0x00400000u : 0u));
  if (e == 0) {
    if (m == 0) return __uint_as_float(sign);
    e = 113;                                    /* normalise the denormal */
    while (!(m & 0x400u)) { m <<= 1; e--; }
    return __uint_as_float(sign | (e << 23) | ((m & 0x3ffu) << 13));
  }
  return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
}
static inline unsigned short f2h(float f) {
  unsigned u = __float_as_uint(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (unsigned short)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  unsigned e = a >> 23;
  if (e >= 143) return (unsigned short)(sign | 0x7c00u);  /* >= 2^16, inf included */
  if (e < 113) {                                /* below 2^-14: f16 denormal or zero */
    if (e < 101) return (unsigned short)sign;   /* below 2^-26: rounds to zero */
    unsigned m = (a & 0x7fffffu) | 0x800000u, sh = 126 - e;   /* value = m * 2^-sh units of 2^-24 */
    unsigned r = m >> sh, rem = m & ((1u << sh) - 1), half = 1u << (sh - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    return (unsigned short)(sign | r);
  }
  unsigned h = ((e - 112) << 10) | ((a >> 13) & 0x3ffu), rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;   /* may carry into inf: right */
  return (unsigned short)(sign | h);
}
static inline unsigned short f2bf(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
  unsigned h = u >> 16, rem = u & 0xffffu;
  if (rem > 0x8000u || (rem == 0x8000u && (h & 1))) h++;
  return (unsigned short)h;
}
} /* namespace gk_emu */

GK_DEV float gk_to_f32(float v) { return v; }
GK_DEV float gk_to_f32(gk_half h) { return gk_emu::h2f(h.x); }
GK_DEV float gk_to_f32(gk_bf16 h) { return __uint_as_float((unsigned)h.x << 16); }

template <class T> GK_DEV T gk_from_f32(float v);
template <> inline float gk_from_f32<float>(float v) { return v; }
template <> inline gk_half gk_from_f32<gk_half>(float v) { gk_half h; h.x = gk_emu::f2h(v); return h; }
template <> inline gk_bf16 gk_from_f32<gk_bf16>(float v) { gk_bf16 h; h.x = gk_emu::f2bf(v); return h; }
GK_DEV unsigned gk_pack_half2(float lo, float hi) {
  return (unsigned)gk_emu::f2h(lo) | ((unsigned)gk_emu::f2h(hi) << 16);
}
GK_DEV unsigned gk_pack_bf162(float lo, float hi) {
  return (unsigned)gk_emu::f2bf(lo) | ((unsigned)gk_emu::f2bf(hi) << 16);
}

/* ---- integer and byte primitives */
GK_DEV int gk_dp4a(int a, int b, int c) {           /* c + sum of 4 s8*s8, wrapping */
  int s = 0;
  for (int i = 0; i < 4; i++)
    s += (int)(signed char)(unsigned char)((unsigned)a >> (8 * i)) *
         (int)(signed char)(unsigned char)((unsigned)b >> (8 * i));
  return (int)((unsigned)c + (unsigned)s);
}
/* prmt.b32 default mode: result byte i is byte (sel >> 4i) & 7 of {a (0-3), b (4-7)},
 * or that byte's sign bit replicated (0x00/0xff) when (sel >> 4i) & 8. */
GK_DEV unsigned gk_prmt(unsigned a, unsigned b, unsigned sel) {
  unsigned long long v = ((unsigned long long)b << 32) | a;
  unsigned r = 0;
  for (int i = 0; i < 4; i++) {
    unsigned s = (sel >> (4 * i)) & 0xfu, byte = (unsigned)(v >> (8 * (s & 7))) & 0xffu;
    if (s & 8) byte = (byte & 0x80u) ? 0xffu : 0u;
    r |= byte << (8 * i);
  }
  return r;
}

/* ---- 16-byte global loads through the read-only path (16-byte aligned);
 * the streaming one differs only in its caching, which is not modelled */
GK_DEV uint4 gk_ldg16(const void *p) {
  gk_emu::ldg_check(p, 16);
  uint4 v;
  memcpy(&v, p, 16);
  return v;
}
GK_DEV uint4 gk_ldg16_stream(const void *p) {
  gk_emu::ldg_check(p, 16);
  uint4 v;
  memcpy(&v, p, 16);
  return v;
}

/* ---- shared-memory address: the offset in the block's shared arena */
GK_DEV unsigned gk_smem_addr(const void *p) { return gk_emu::smem_addr(p); }

/* ---- asynchronous global -> shared copies: queued per thread, performed
 * (and checked as the issuing thread's shared-memory write) by the wait that
 * completes their group. */
GK_DEV void gk_cp_async16(void *smem, const void *gmem) { gk_emu::cp_async16(smem, gmem); }
GK_DEV void gk_cp_async_commit(void) { gk_emu::cp_async_commit(); }
template <int N> GK_DEV void gk_cp_async_wait(void) {
  static_assert(N >= 0, "cp.async.wait_group N >= 0");
  gk_emu::cp_async_wait(N);
}
GK_DEV void gk_cp_async_wait_all(void) { gk_emu::cp_async_wait(-1); }

/* ---- ldmatrix: warp-collective; lanes 0-7 / 0-15 / 0-31 give the row
 * addresses of matrices 0 / 0-1 / 0-3; lane i receives, of each matrix m,
 * row i/4, columns 2(i%4) and 2(i%4)+1 (.trans: rows 2(i%4), 2(i%4)+1 of
 * column i/4) in r[m], lower column (row) in the low half. */
GK_DEV void gk_ldmatrix_x1(unsigned r[1], const void *row) { gk_emu::ldmatrix(r, 1, 0, row); }
GK_DEV void gk_ldmatrix_x2(unsigned r[2], const void *row) { gk_emu::ldmatrix(r, 2, 0, row); }
GK_DEV void gk_ldmatrix_x4(unsigned r[4], const void *row) { gk_emu::ldmatrix(r, 4, 0, row); }
GK_DEV void gk_ldmatrix_x2_trans(unsigned r[2], const void *row) { gk_emu::ldmatrix(r, 2, 1, row); }
GK_DEV void gk_ldmatrix_x4_trans(unsigned r[4], const void *row) { gk_emu::ldmatrix(r, 4, 1, row); }

/* ---- warp-level matrix multiply-accumulate, D = A.B + C (A row, B col major),
 * warp-collective, fragments as the PTX ISA manual lays them out (g = lane/4,
 * t = lane%4):
 *   m16n8k16 f16/bf16: a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..], a[2] = A[g][2t+8..],
 *     a[3] = A[g+8][2t+8..]; b[0] = B[2t..2t+1][g], b[1] = B[2t+8..2t+9][g];
 *   m16n8k32 s8: a[0] = A[g][4t..4t+3], a[1] = A[g+8][4t..], a[2] = A[g][4t+16..],
 *     a[3] = A[g+8][4t+16..]; b[0] = B[4t..4t+3][g], b[1] = B[4t+16..4t+19][g];
 *   c/d: c[0..1] = C[g][2t..2t+1], c[2..3] = C[g+8][2t..2t+1].
 * The f32 sums are exact products added in double and rounded once (the
 * tensor cores' own rounding of long sums is not modelled); s8 wraps. */
GK_DEV void gk_mma_m16n8k16_f16(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  gk_emu::mma(gk_emu::MMA_F16, d, a, b, c);
}
GK_DEV void gk_mma_m16n8k16_bf16(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  gk_emu::mma(gk_emu::MMA_BF16, d, a, b, c);
}
GK_DEV void gk_mma_m16n8k32_s8(int d[4], const unsigned a[4], const unsigned b[2], const int c[4]) {
  gk_emu::mma(gk_emu::MMA_S8, d, a, b, c);
}

#else /* nvcc */
/* ------------------------------------------------------------------ device */
#define GK_EXPORT(fn)
#define GK_SHARED(T, name, N) __shared__ T name[N]
#define GK_DYN_SHARED(T, name) extern __shared__ __align__(16) T name[]
#define GK_DEV static __device__ __forceinline__

/* ---- element conversions (round to nearest-even on store; a NaN gives the
 * canonical NaN, see the conventions above) */
GK_DEV float gk_to_f32(float v) { return v; }
GK_DEV float gk_to_f32(gk_half h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.x));
  return f;
}
GK_DEV float gk_to_f32(gk_bf16 h) { return __uint_as_float((unsigned)h.x << 16); }

template <class T> GK_DEV T gk_from_f32(float v);
template <> __device__ __forceinline__ float gk_from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ gk_half gk_from_f32<gk_half>(float v) {
  gk_half h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.x) : "f"(v));
  return h;
}
template <> __device__ __forceinline__ gk_bf16 gk_from_f32<gk_bf16>(float v) {
  gk_bf16 h;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h.x) : "f"(v));
  return h;
}
/* two f32 to one packed f16x2 / bf16x2 register (lo in bits 0-15) */
GK_DEV unsigned gk_pack_half2(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
GK_DEV unsigned gk_pack_bf162(float lo, float hi) {
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

/* ---- integer and byte primitives */
GK_DEV int gk_dp4a(int a, int b, int c) {           /* c + sum of 4 s8*s8 */
  int d;
  asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}
GK_DEV unsigned gk_prmt(unsigned a, unsigned b, unsigned sel) {
  unsigned d;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(sel));
  return d;
}

/* ---- 16-byte global loads through the read-only path (16-byte aligned; the
 * memory must not be written while the kernel runs) */
GK_DEV uint4 gk_ldg16(const void *p) { return __ldg((const uint4 *)p); }
/* the same for data read once (a gemv's matrix): no L1 line is allocated for
 * it, so the stream does not evict from L1 what is reused (the gemv's x) */
GK_DEV uint4 gk_ldg16_stream(const void *p) {
  uint4 v;
  asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
  return v;
}

/* ---- shared-memory address as a 32-bit shared-window offset */
GK_DEV unsigned gk_smem_addr(const void *p) { return (unsigned)__cvta_generic_to_shared(p); }

/* ---- asynchronous global -> shared copies (sm_80+) */
GK_DEV void gk_cp_async16(void *smem, const void *gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(gk_smem_addr(smem)), "l"(gmem));
}
GK_DEV void gk_cp_async_commit(void) { asm volatile("cp.async.commit_group;"); }
template <int N> GK_DEV void gk_cp_async_wait(void) { asm volatile("cp.async.wait_group %0;" ::"n"(N)); }
GK_DEV void gk_cp_async_wait_all(void) { asm volatile("cp.async.wait_all;"); }

/* ---- ldmatrix: 8x8 b16 matrices from shared memory, one row address per lane */
GK_DEV void gk_ldmatrix_x1(unsigned r[1], const void *row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(r[0]) : "r"(gk_smem_addr(row)));
}
GK_DEV void gk_ldmatrix_x2(unsigned r[2], const void *row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];"
               : "=r"(r[0]), "=r"(r[1]) : "r"(gk_smem_addr(row)));
}
GK_DEV void gk_ldmatrix_x4(unsigned r[4], const void *row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(gk_smem_addr(row)));
}
GK_DEV void gk_ldmatrix_x2_trans(unsigned r[2], const void *row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];"
               : "=r"(r[0]), "=r"(r[1]) : "r"(gk_smem_addr(row)));
}
GK_DEV void gk_ldmatrix_x4_trans(unsigned r[4], const void *row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(gk_smem_addr(row)));
}

/* ---- warp-level matrix multiply-accumulate, D = A.B + C (A row, B col major) */
GK_DEV void gk_mma_m16n8k16_f16(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),
                 "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}
GK_DEV void gk_mma_m16n8k16_bf16(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),
                 "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
}
GK_DEV void gk_mma_m16n8k32_s8(int d[4], const unsigned a[4], const unsigned b[2], const int c[4]) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]),
                 "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]));
}
#endif /* GK_EMU */

#endif /* GK_ARCH_CUH */
