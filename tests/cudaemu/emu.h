/* emu.h -- the CUDA built-ins for kernels compiled by the host C++ compiler (GK_EMU)
 * SPDX-License-Identifier: MIT
 *
 * cuda/gk_arch.cuh includes this header when GK_EMU is defined; kernels never
 * include it themselves.  It gives a .cu file, compiled with
 *   g++ -std=c++17 -DGK_EMU -Icuda -Itests/cudaemu -x c++ file.cu
 * what nvcc would give it: the qualifiers (__global__, __device__, ...),
 * threadIdx/blockIdx/blockDim/gridDim, the vector types, barriers, warp
 * shuffles and votes, atomics, the device math functions, and the gllmk
 * conventions GK_EXPORT, GK_SHARED and GK_DYN_SHARED.  Everything that has to
 * know about fibers, warps or shared memory is a call into the harness
 * (tests/cudaemu/harness.cc); the rest is inline here.
 *
 * Contract with the harness (all of it internal, hidden visibility):
 *   - gk_emu::g_cur points at the running CUDA thread (a fiber) while a kernel
 *     runs; threadIdx reads it, so it is valid only inside a kernel;
 *   - blocks of one launch run one after another on the launching OS thread,
 *     and launches are serialised, so blockIdx/blockDim/gridDim are plain
 *     globals;
 *   - every function below that synchronises (barriers, warp collectives,
 *     atomics) is a switch point: other fibers of the block may run there.
 *
 * Race instrumentation: a kernel translation unit compiled with
 * -fsanitize=thread (and linked WITHOUT libtsan) calls the harness's own
 * __tsan_read/__tsan_write hooks on every memory access; GK_EXPORT records
 * that in the registry (gk_emu_kernel_race_checked).  See harness.cc.
 */
#ifndef GK_EMU_EMU_H
#define GK_EMU_EMU_H

#if !defined(__cplusplus) || __cplusplus < 201703L
#  error "emu.h (GK_EMU) needs C++17"
#endif

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <type_traits>
#include <utility>

#include "harness.h"

/* ------------------------------------------------------------ configuration */
#if defined(__SANITIZE_THREAD__)
#  define GK_EMU_TSAN_INSTR 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define GK_EMU_TSAN_INSTR 1
#  endif
#endif
#ifndef GK_EMU_TSAN_INSTR
#  define GK_EMU_TSAN_INSTR 0
#endif

#define GK_EMU_HIDDEN __attribute__((visibility("hidden")))
#define GK_EMU_CAT2(a, b) a##b
#define GK_EMU_CAT(a, b) GK_EMU_CAT2(a, b)

/* ------------------------------------------------------------ qualifiers */
#define __global__
#define __device__
#define __host__
#define __constant__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
/* Kernels declare shared memory with GK_SHARED / GK_DYN_SHARED (gk_arch.cuh);
 * a bare __shared__ would be one copy for all blocks, invisible to the race
 * check, so it does not compile here. */
#define __shared__ __shared___is_not_supported_use_GK_SHARED_or_GK_DYN_SHARED
#define GK_DEV static inline

/* ------------------------------------------------------------ vector types */
struct uint3 { unsigned x, y, z; };
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define GK_EMU_VEC2(T, N, A) \
  struct __attribute__((aligned(A))) N { T x, y; }; \
  static inline N make_##N(T x, T y) { N v; v.x = x; v.y = y; return v; }
#define GK_EMU_VEC3(T, N) \
  struct N { T x, y, z; }; \
  static inline N make_##N(T x, T y, T z) { N v; v.x = x; v.y = y; v.z = z; return v; }
#define GK_EMU_VEC4(T, N, A) \
  struct __attribute__((aligned(A))) N { T x, y, z, w; }; \
  static inline N make_##N(T x, T y, T z, T w) { N v; v.x = x; v.y = y; v.z = z; v.w = w; return v; }

GK_EMU_VEC2(signed char, char2, 2)
GK_EMU_VEC2(unsigned char, uchar2, 2)
GK_EMU_VEC4(signed char, char4, 4)
GK_EMU_VEC4(unsigned char, uchar4, 4)
GK_EMU_VEC2(short, short2, 4)
GK_EMU_VEC2(unsigned short, ushort2, 4)
GK_EMU_VEC4(short, short4, 8)
GK_EMU_VEC4(unsigned short, ushort4, 8)
GK_EMU_VEC2(int, int2, 8)
GK_EMU_VEC3(int, int3)
GK_EMU_VEC4(int, int4, 16)
GK_EMU_VEC2(unsigned, uint2, 8)
GK_EMU_VEC4(unsigned, uint4, 16)
GK_EMU_VEC2(float, float2, 8)
GK_EMU_VEC3(float, float3)
GK_EMU_VEC4(float, float4, 16)
GK_EMU_VEC2(long long, longlong2, 16)
GK_EMU_VEC2(unsigned long long, ulonglong2, 16)
GK_EMU_VEC2(double, double2, 16)
static inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { uint3 v; v.x = x; v.y = y; v.z = z; return v; }
#undef GK_EMU_VEC2
#undef GK_EMU_VEC3
#undef GK_EMU_VEC4

static constexpr int warpSize = 32;

/* ------------------------------------------------------------ the harness side */
namespace gk_emu {

/* The running CUDA thread.  The harness's fiber record starts with this. */
struct thread_ctx {
  uint3 tid;         /* threadIdx */
  unsigned linear;   /* x + y*bx + z*bx*by */
  unsigned warp;     /* linear / 32 */
  unsigned lane;     /* linear % 32 */
};

extern GK_EMU_HIDDEN thread_ctx *g_cur;
extern GK_EMU_HIDDEN uint3 g_block_idx;
extern GK_EMU_HIDDEN dim3 g_block_dim, g_grid_dim;
extern GK_EMU_HIDDEN unsigned long long g_block_gen;  /* changes with every block run */
extern GK_EMU_HIDDEN unsigned char *g_smem;           /* the block's shared arena */

static inline const uint3 &tid() { return g_cur->tid; }

/* barriers: op 0 plain, 1 or, 2 and, 3 count */
GK_EMU_HIDDEN int barrier(int op, int pred, const char *file, int line);

/* warp collectives (switch points) */
enum { SHFL_IDX, SHFL_UP, SHFL_DOWN, SHFL_XOR };
enum { VOTE_ANY, VOTE_ALL, VOTE_BALLOT, RED_ADD, RED_MIN, RED_MAX, RED_SMIN, RED_SMAX,
       RED_AND, RED_OR, RED_XOR, MATCH_ANY, MATCH_ALL };
GK_EMU_HIDDEN void syncwarp(unsigned mask);
GK_EMU_HIDDEN unsigned long long shfl(unsigned mask, unsigned long long v, int mode, int arg,
                                      int width, int bytes);
GK_EMU_HIDDEN unsigned long long vote(unsigned mask, int op, unsigned long long v, int *pred);
GK_EMU_HIDDEN unsigned activemask();

/* atomics (switch points); value and result as raw bits */
enum { AT_ADD, AT_SUB, AT_EXCH, AT_MIN, AT_MAX, AT_INC, AT_DEC, AT_CAS, AT_AND, AT_OR, AT_XOR };
enum { AT_I32, AT_U32, AT_I64, AT_U64, AT_F32, AT_F64, AT_U16 };
GK_EMU_HIDDEN unsigned long long atomic(void *p, int op, int type, unsigned long long v,
                                        unsigned long long cmp);

[[noreturn]] GK_EMU_HIDDEN void trap(const char *what, const char *file, int line);

/* shared memory */
struct smem_key { unsigned long long gen; size_t off; };
GK_EMU_HIDDEN void *smem_alloc(smem_key *k, size_t size, size_t align, const char *name);
static inline void *smem_static(smem_key *k, size_t size, size_t align, const char *name) {
  if (k->gen == g_block_gen) return g_smem + k->off;
  return smem_alloc(k, size, align, name);
}
GK_EMU_HIDDEN void *smem_dyn();

/* the emulated architecture primitives of gk_arch.cuh */
GK_EMU_HIDDEN unsigned smem_addr(const void *p);
GK_EMU_HIDDEN void ldg_check(const void *p, unsigned bytes);
GK_EMU_HIDDEN void cp_async16(void *smem, const void *gmem);
GK_EMU_HIDDEN void cp_async_commit();
GK_EMU_HIDDEN void cp_async_wait(int n);   /* n < 0: wait_all */
GK_EMU_HIDDEN void ldmatrix(unsigned *r, int num, int trans, const void *row);
enum { MMA_F16, MMA_BF16, MMA_S8 };
GK_EMU_HIDDEN void mma(int kind, void *d, const unsigned *a, const unsigned *b, const void *c);

/* kernel registry */
struct kernel_node {
  gk_emu_kernel k;
  int race_instr;        /* the TU was compiled with -fsanitize=thread */
  kernel_node *next;
  kernel_node(const char *name, gk_emu_invoke_fn fn, int n, const unsigned *sz,
              const unsigned *al, int instr);
};

template <class T> static inline T load_param(void *p) {
  static_assert(std::is_trivially_copyable<T>::value, "kernel parameters must be trivially copyable");
  T v;
  memcpy(static_cast<void *>(&v), p, sizeof v);
  return v;
}

template <auto F> struct invoker;
template <class... A, void (*F)(A...)> struct invoker<F> {
  static constexpr int n = (int)sizeof...(A);
  static constexpr unsigned size[sizeof...(A) + 1] = {(unsigned)sizeof(A)..., 0u};
  static constexpr unsigned align[sizeof...(A) + 1] = {(unsigned)alignof(A)..., 0u};
  template <size_t... I> static void call_(void **p, std::index_sequence<I...>) {
    (void)p;
    F(load_param<std::remove_cv_t<A>>(p[I])...);
  }
  static void call(void **p) { call_(p, std::index_sequence_for<A...>{}); }
};

} /* namespace gk_emu */

/* Register kernel fn (an extern "C" function defined above) by name. */
#define GK_EXPORT(fn) \
  static ::gk_emu::kernel_node GK_EMU_CAT(gk_emu_node_, fn)( \
      #fn, &::gk_emu::invoker<&fn>::call, ::gk_emu::invoker<&fn>::n, \
      ::gk_emu::invoker<&fn>::size, ::gk_emu::invoker<&fn>::align, GK_EMU_TSAN_INSTR)

/* Static shared memory: one array per block at one address for all its
 * threads (inside a function body only). */
#define GK_SHARED(T, name, N) \
  static ::gk_emu::smem_key GK_EMU_CAT(gk_emu_key_, name); \
  T(&name)[N] = *reinterpret_cast<T(*)[N]>(::gk_emu::smem_static( \
      &GK_EMU_CAT(gk_emu_key_, name), sizeof(T) * (N), alignof(T), #name))
/* Dynamic shared memory (the launch's dyn_smem bytes, 16-byte aligned). */
#define GK_DYN_SHARED(T, name) T *const name = static_cast<T *>(::gk_emu::smem_dyn())

/* ------------------------------------------------------------ built-in variables */
#define threadIdx (::gk_emu::tid())
#define blockIdx (static_cast<const uint3 &>(::gk_emu::g_block_idx))
#define blockDim (static_cast<const dim3 &>(::gk_emu::g_block_dim))
#define gridDim (static_cast<const dim3 &>(::gk_emu::g_grid_dim))

/* ------------------------------------------------------------ barriers */
#define __syncthreads() ((void)::gk_emu::barrier(0, 0, __FILE__, __LINE__))
#define __syncthreads_or(p) ::gk_emu::barrier(1, (p) != 0, __FILE__, __LINE__)
#define __syncthreads_and(p) ::gk_emu::barrier(2, (p) != 0, __FILE__, __LINE__)
#define __syncthreads_count(p) ::gk_emu::barrier(3, (p) != 0, __FILE__, __LINE__)
/* Everything runs on one OS thread, in program order per fiber. */
static inline void __threadfence() { __asm__ __volatile__("" ::: "memory"); }
static inline void __threadfence_block() { __asm__ __volatile__("" ::: "memory"); }
static inline void __threadfence_system() { __asm__ __volatile__("" ::: "memory"); }
#define __trap() ::gk_emu::trap("__trap()", __FILE__, __LINE__)

/* device assert: reported as GK_EMU_E_TRAP, never abort() */
#undef assert
#ifdef NDEBUG
#  define assert(e) ((void)0)
#else
#  define assert(e) ((e) ? (void)0 : ::gk_emu::trap("assertion failed: " #e, __FILE__, __LINE__))
#endif

/* ------------------------------------------------------------ warp primitives */
static inline void __syncwarp(unsigned mask = 0xffffffffu) { ::gk_emu::syncwarp(mask); }
static inline unsigned __activemask() { return ::gk_emu::activemask(); }
static inline unsigned __ballot_sync(unsigned mask, int pred) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::VOTE_BALLOT, pred != 0, nullptr);
}
static inline int __any_sync(unsigned mask, int pred) {
  return (int)::gk_emu::vote(mask, ::gk_emu::VOTE_ANY, pred != 0, nullptr);
}
static inline int __all_sync(unsigned mask, int pred) {
  return (int)::gk_emu::vote(mask, ::gk_emu::VOTE_ALL, pred != 0, nullptr);
}
static inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::RED_ADD, v, nullptr);
}
static inline unsigned __reduce_min_sync(unsigned mask, unsigned v) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::RED_MIN, v, nullptr);
}
static inline unsigned __reduce_max_sync(unsigned mask, unsigned v) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::RED_MAX, v, nullptr);
}
static inline int __reduce_add_sync(unsigned mask, int v) {
  return (int)(unsigned)::gk_emu::vote(mask, ::gk_emu::RED_ADD, (unsigned)v, nullptr);
}
static inline int __reduce_min_sync(unsigned mask, int v) {
  return (int)(unsigned)::gk_emu::vote(mask, ::gk_emu::RED_SMIN, (unsigned)v, nullptr);
}
static inline int __reduce_max_sync(unsigned mask, int v) {
  return (int)(unsigned)::gk_emu::vote(mask, ::gk_emu::RED_SMAX, (unsigned)v, nullptr);
}
static inline unsigned __reduce_and_sync(unsigned mask, unsigned v) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::RED_AND, v, nullptr);
}
static inline unsigned __reduce_or_sync(unsigned mask, unsigned v) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::RED_OR, v, nullptr);
}
static inline unsigned __reduce_xor_sync(unsigned mask, unsigned v) {
  return (unsigned)::gk_emu::vote(mask, ::gk_emu::RED_XOR, v, nullptr);
}

namespace gk_emu {
template <class T> static inline unsigned long long to_bits(T v) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "32- or 64-bit values only");
  unsigned long long u = 0;
  if (sizeof(T) == 4) {
    unsigned w;
    memcpy(&w, &v, 4);
    u = w;
  } else {
    memcpy(&u, &v, 8);
  }
  return u;
}
template <class T> static inline T from_bits(unsigned long long u) {
  T v;
  if (sizeof(T) == 4) {
    unsigned w = (unsigned)u;
    memcpy(&v, &w, 4);
  } else {
    memcpy(&v, &u, 8);
  }
  return v;
}
template <class T> static inline T shfl_t(unsigned mask, T v, int mode, int arg, int width) {
  return from_bits<T>(shfl(mask, to_bits(v), mode, arg, width, (int)sizeof(T)));
}
template <class T> static inline unsigned match_any(unsigned mask, T v) {
  return (unsigned)vote(mask, MATCH_ANY, to_bits(v), nullptr);
}
template <class T> static inline unsigned match_all(unsigned mask, T v, int *pred) {
  return (unsigned)vote(mask, MATCH_ALL, to_bits(v), pred);
}
} /* namespace gk_emu */

#define GK_EMU_SHFL(T) \
  static inline T __shfl_sync(unsigned mask, T v, int src, int width = warpSize) { \
    return ::gk_emu::shfl_t<T>(mask, v, ::gk_emu::SHFL_IDX, src, width); \
  } \
  static inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = warpSize) { \
    return ::gk_emu::shfl_t<T>(mask, v, ::gk_emu::SHFL_UP, (int)d, width); \
  } \
  static inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = warpSize) { \
    return ::gk_emu::shfl_t<T>(mask, v, ::gk_emu::SHFL_DOWN, (int)d, width); \
  } \
  static inline T __shfl_xor_sync(unsigned mask, T v, int lm, int width = warpSize) { \
    return ::gk_emu::shfl_t<T>(mask, v, ::gk_emu::SHFL_XOR, lm, width); \
  } \
  static inline unsigned __match_any_sync(unsigned mask, T v) { return ::gk_emu::match_any(mask, v); } \
  static inline unsigned __match_all_sync(unsigned mask, T v, int *pred) { \
    return ::gk_emu::match_all(mask, v, pred); \
  }
GK_EMU_SHFL(int)
GK_EMU_SHFL(unsigned)
GK_EMU_SHFL(long)
GK_EMU_SHFL(unsigned long)
GK_EMU_SHFL(long long)
GK_EMU_SHFL(unsigned long long)
GK_EMU_SHFL(float)
GK_EMU_SHFL(double)
#undef GK_EMU_SHFL

/* ------------------------------------------------------------ atomics */
namespace gk_emu {
template <class T> struct at_type;
template <> struct at_type<int> { static constexpr int v = AT_I32; };
template <> struct at_type<unsigned> { static constexpr int v = AT_U32; };
template <> struct at_type<long long> { static constexpr int v = AT_I64; };
template <> struct at_type<unsigned long long> { static constexpr int v = AT_U64; };
template <> struct at_type<float> { static constexpr int v = AT_F32; };
template <> struct at_type<double> { static constexpr int v = AT_F64; };
template <class T> static inline T at(T *p, int op, T v, T cmp = T()) {
  unsigned long long r = atomic(p, op, at_type<T>::v, to_bits(v), to_bits(cmp));
  return from_bits<T>(r);
}
} /* namespace gk_emu */
#define GK_EMU_AT(name, op, T) \
  static inline T name(T *p, T v) { return ::gk_emu::at<T>(p, ::gk_emu::op, v); }
GK_EMU_AT(atomicAdd, AT_ADD, int)
GK_EMU_AT(atomicAdd, AT_ADD, unsigned)
GK_EMU_AT(atomicAdd, AT_ADD, unsigned long long)
GK_EMU_AT(atomicAdd, AT_ADD, float)
GK_EMU_AT(atomicAdd, AT_ADD, double)
GK_EMU_AT(atomicSub, AT_SUB, int)
GK_EMU_AT(atomicSub, AT_SUB, unsigned)
GK_EMU_AT(atomicExch, AT_EXCH, int)
GK_EMU_AT(atomicExch, AT_EXCH, unsigned)
GK_EMU_AT(atomicExch, AT_EXCH, unsigned long long)
GK_EMU_AT(atomicExch, AT_EXCH, float)
GK_EMU_AT(atomicMin, AT_MIN, int)
GK_EMU_AT(atomicMin, AT_MIN, unsigned)
GK_EMU_AT(atomicMin, AT_MIN, long long)
GK_EMU_AT(atomicMin, AT_MIN, unsigned long long)
GK_EMU_AT(atomicMax, AT_MAX, int)
GK_EMU_AT(atomicMax, AT_MAX, unsigned)
GK_EMU_AT(atomicMax, AT_MAX, long long)
GK_EMU_AT(atomicMax, AT_MAX, unsigned long long)
GK_EMU_AT(atomicInc, AT_INC, unsigned)
GK_EMU_AT(atomicDec, AT_DEC, unsigned)
GK_EMU_AT(atomicAnd, AT_AND, int)
GK_EMU_AT(atomicAnd, AT_AND, unsigned)
GK_EMU_AT(atomicAnd, AT_AND, unsigned long long)
GK_EMU_AT(atomicOr, AT_OR, int)
GK_EMU_AT(atomicOr, AT_OR, unsigned)
GK_EMU_AT(atomicOr, AT_OR, unsigned long long)
GK_EMU_AT(atomicXor, AT_XOR, int)
GK_EMU_AT(atomicXor, AT_XOR, unsigned)
GK_EMU_AT(atomicXor, AT_XOR, unsigned long long)
#undef GK_EMU_AT
static inline int atomicCAS(int *p, int cmp, int v) { return ::gk_emu::at<int>(p, ::gk_emu::AT_CAS, v, cmp); }
static inline unsigned atomicCAS(unsigned *p, unsigned cmp, unsigned v) {
  return ::gk_emu::at<unsigned>(p, ::gk_emu::AT_CAS, v, cmp);
}
static inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long cmp,
                                           unsigned long long v) {
  return ::gk_emu::at<unsigned long long>(p, ::gk_emu::AT_CAS, v, cmp);
}
static inline unsigned short atomicCAS(unsigned short *p, unsigned short cmp, unsigned short v) {
  return (unsigned short)::gk_emu::atomic(p, ::gk_emu::AT_CAS, ::gk_emu::AT_U16, v, cmp);
}

/* ------------------------------------------------------------ loads, bit casts */
template <class T> static inline T __ldg(const T *p) { return *p; }
static inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static inline int __float_as_int(float f) { int u; memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
static inline long long __double_as_longlong(double d) { long long u; memcpy(&u, &d, 8); return u; }
static inline double __longlong_as_double(long long u) { double d; memcpy(&d, &u, 8); return d; }

/* ------------------------------------------------------------ integer intrinsics */
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
static inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  return (x >> 16) | (x << 16);
}
static inline unsigned long long __brevll(unsigned long long x) {
  return ((unsigned long long)__brev((unsigned)x) << 32) | __brev((unsigned)(x >> 32));
}
/* result byte i = byte (s >> 4i) & 7 of {x (bytes 0-3), y (bytes 4-7)} */
static inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; i++) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
static inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (sh & 31)) >> 32);
}
static inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (sh > 32 ? 32 : sh)) >> 32);
}
static inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (sh & 31));
}
static inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (sh > 32 ? 32 : sh));
}
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned __umulhi(unsigned a, unsigned b) {
  return (unsigned)(((unsigned long long)a * b) >> 32);
}
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static inline int __mul24(int a, int b) {   /* low 32 bits of the product of the low 24 bits */
  long long x = (long long)(int)((unsigned)a << 8) / 256, y = (long long)(int)((unsigned)b << 8) / 256;
  return (int)(unsigned)(unsigned long long)(x * y);
}
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
static inline unsigned __sad(int a, int b, unsigned c) { return c + (unsigned)(a > b ? (long long)a - b : (long long)b - a); }
static inline unsigned __usad(unsigned a, unsigned b, unsigned c) { return c + (a > b ? a - b : b - a); }

/* min/max as CUDA has them: mixed signed/unsigned integers compare unsigned,
 * floating point as fminf/fmaxf. */
template <class A, class B,
          class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
static inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point<C>::value) return fmin((C)a, (C)b);
  else return (C)a < (C)b ? (C)a : (C)b;
}
template <class A, class B,
          class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
static inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point<C>::value) return fmax((C)a, (C)b);
  else return (C)a > (C)b ? (C)a : (C)b;
}

/* ------------------------------------------------------------ float intrinsics */
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
/* glibc's math.h declares these names for itself: macros, not functions */
#define __expf(x) expf(x)
#define __exp10f(x) powf(10.0f, (x))
#define __logf(x) logf(x)
#define __log2f(x) log2f(x)
#define __log10f(x) log10f(x)
#define __powf(x, y) powf((x), (y))
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
#define __tanf(x) tanf(x)
#define __sincosf(x, s, c) (*(s) = sinf(x), *(c) = cosf(x), (void)0)
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }

namespace gk_emu {
/* float to integer as the hardware does it: NaN -> 0, saturate out of range */
static inline long long f2i(double r, double lo, double hi) {
  if (r != r) return 0;
  if (r <= lo) return (long long)lo;
  if (r >= hi) return (long long)hi;
  return (long long)r;
}
} /* namespace gk_emu */
static inline int __float2int_rn(float x) { return (int)::gk_emu::f2i(nearbyint((double)x), -2147483648.0, 2147483647.0); }
static inline int __float2int_rz(float x) { return (int)::gk_emu::f2i(trunc((double)x), -2147483648.0, 2147483647.0); }
static inline int __float2int_rd(float x) { return (int)::gk_emu::f2i(floor((double)x), -2147483648.0, 2147483647.0); }
static inline int __float2int_ru(float x) { return (int)::gk_emu::f2i(ceil((double)x), -2147483648.0, 2147483647.0); }
static inline unsigned __float2uint_rn(float x) { return (unsigned)::gk_emu::f2i(nearbyint((double)x), 0.0, 4294967295.0); }
static inline unsigned __float2uint_rz(float x) { return (unsigned)::gk_emu::f2i(trunc((double)x), 0.0, 4294967295.0); }
static inline float __int2float_rn(int x) { return (float)x; }
static inline float __uint2float_rn(unsigned x) { return (float)x; }

#endif /* GK_EMU_EMU_H */
