/* test_kernels.cu -- kernels of known signatures for test_driver (the emulated libcuda.so.1)
 * SPDX-License-Identifier: MIT
 *
 * Compiled twice, like the kernels of cuda/:
 *   - by nvcc into test_kernels.fatbin (SASS for sm_80 86 89 90 100 120, no
 *     PTX), which test_driver loads with cuModuleLoadData;
 *   - by the host C++ compiler with -DGK_EMU into the test driver library,
 *     where GK_EXPORT registers each kernel with the execution harness.
 * The parameter lists are chosen to exercise the driver's marshalling: the
 * cubin's EIATTR_KPARAM_INFO gives each parameter's offset and size, and the
 * driver must copy cuLaunchKernel's arguments to exactly those places.
 *
 * Two kernels exist on purpose only on one side:
 *   gk_test_unregistered   in the cubin, never registered with the harness;
 *   gk_test_mismatch       its registered (GK_EMU) signature differs from the
 *                          cubin's (a long long where the cubin has an int).
 */
#include "gk_arch.cuh"

/* 12 bytes, 4-byte aligned: passed by value. */
struct gk_test_s12 {
  int a;
  float b;
  int c;
};

/* Threads per block of gk_test_reduce, and its static shared memory. */
#define GK_TEST_REDUCE_THREADS 256

/* Writes every parameter back, so that the test can see what the kernel got.
 * Layout in the cubin: out@0, i@8, z@16, f@24, c@28, s@32 (12 bytes),
 * in@48; 56 bytes in all.
 * out[0..]: i, z (2 words, low first), f bits, c, s.a, s.b bits, s.c, *in. */
extern "C" __global__ void gk_test_params(unsigned *out, int i, size_t z, float f, char c,
                                          gk_test_s12 s, const int *in)
{
  if (threadIdx.x != 0 || blockIdx.x != 0)
    return;
  union { float f; unsigned u; } fu, su;
  fu.f = f;
  su.f = s.b;
  out[0] = (unsigned)i;
  out[1] = (unsigned)(z & 0xffffffffu);
  out[2] = (unsigned)((unsigned long long)z >> 32);
  out[3] = fu.u;
  out[4] = (unsigned)(int)c;
  out[5] = (unsigned)s.a;
  out[6] = su.u;
  out[7] = (unsigned)s.c;
  out[8] = (unsigned)*in;
}
GK_EXPORT(gk_test_params);

/* y[i] = a * x[i] + y[i] for i < n, one element per thread of a 1-D grid. */
extern "C" __global__ void gk_test_axpy(float *y, const float *x, float a, int n)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    y[i] = a * x[i] + y[i];
}
GK_EXPORT(gk_test_axpy);

/* out[blockIdx.x] = sum of in[blockIdx.x * 256 .. + 256), with a block of
 * exactly GK_TEST_REDUCE_THREADS threads and 1 KiB of static shared memory. */
extern "C" __global__ void gk_test_reduce(float *out, const float *in)
{
  GK_SHARED(float, buf, GK_TEST_REDUCE_THREADS);
  unsigned t = threadIdx.x;
  buf[t] = in[blockIdx.x * GK_TEST_REDUCE_THREADS + t];
  __syncthreads();
  for (unsigned h = GK_TEST_REDUCE_THREADS / 2; h > 0; h /= 2) {
    if (t < h)
      buf[t] += buf[t + h];
    __syncthreads();
  }
  if (t == 0)
    out[blockIdx.x] = buf[0];
}
GK_EXPORT(gk_test_reduce);

/* Reverses n floats of one block through dynamic shared memory (n <= blockDim.x). */
extern "C" __global__ void gk_test_dyn_reverse(float *out, const float *in, int n)
{
  GK_DYN_SHARED(float, tmp);
  int t = threadIdx.x;
  if (t < n)
    tmp[t] = in[t];
  __syncthreads();
  if (t < n)
    out[t] = tmp[n - 1 - t];
}
GK_EXPORT(gk_test_dyn_reverse);

/* Writes p[0 .. n) with one thread: used with n past the end of the
 * allocation, to hit the driver's red zone. */
extern "C" __global__ void gk_test_store(unsigned char *p, int n, unsigned char v)
{
  if (threadIdx.x == 0 && blockIdx.x == 0)
    for (int i = 0; i < n; i++)
      p[i] = v;
}
GK_EXPORT(gk_test_store);

/* Thread 0 traps when flag is nonzero. */
extern "C" __global__ void gk_test_trap(int flag)
{
  if (flag && threadIdx.x == 0)
    __trap();
}
GK_EXPORT(gk_test_trap);

/* Only the even threads reach the barrier: the harness reports it. */
extern "C" __global__ void gk_test_barrier(int *out)
{
  if ((threadIdx.x & 1) == 0)
    __syncthreads();
  out[threadIdx.x] = 1;
}
GK_EXPORT(gk_test_barrier);

/* Every thread writes the same shared word with no barrier: a race. */
extern "C" __global__ void gk_test_race(int *out)
{
  GK_SHARED(int, w, 1);
  w[0] = threadIdx.x;
  out[threadIdx.x] = w[0];
}
GK_EXPORT(gk_test_race);

/* In the cubin only (see the top of the file). */
extern "C" __global__ void gk_test_unregistered(int *out)
{
  out[threadIdx.x] = 7;
}

#ifdef GK_EMU
extern "C" __global__ void gk_test_mismatch(int *out, long long v)
#else
extern "C" __global__ void gk_test_mismatch(int *out, int v)
#endif
{
  out[threadIdx.x] = (int)v;
}
GK_EXPORT(gk_test_mismatch);
