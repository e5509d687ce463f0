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
 * Conventions for kernels (cuda/*.cu):
 *   - a kernel is  extern "C" __global__ void gk_<op>_<dtype>(...)  and is
 *     followed by GK_EXPORT(gk_<op>_<dtype>); the harness finds it by name;
 *   - parameters are pointers, 32/64-bit integers, size_t and float;
 *   - static shared memory is declared with GK_SHARED(T, name, N) and dynamic
 *     shared memory with GK_DYN_SHARED(T, name), never with __shared__
 *     directly, so that the harness can give each block its own copy and
 *     check it for races;
 *   - f16 and bf16 elements are gk_half / gk_bf16 (16-bit storage): read them
 *     with gk_to_f32() and write them with gk_from_f32<T>(), which rounds to
 *     nearest-even exactly as the CPU library does.
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

#else /* nvcc */
/* ------------------------------------------------------------------ device */
#define GK_EXPORT(fn)
#define GK_SHARED(T, name, N) __shared__ T name[N]
#define GK_DYN_SHARED(T, name) extern __shared__ __align__(16) T name[]
#define GK_DEV static __device__ __forceinline__

/* ---- element conversions (round to nearest-even on store) */
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

/* ---- 16-byte global load through the read-only path */
GK_DEV uint4 gk_ldg16(const void *p) { return __ldg((const uint4 *)p); }

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
