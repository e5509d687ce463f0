/* cu.h -- the part of the CUDA Driver API that gllmk uses, declared here
 * SPDX-License-Identifier: MIT
 *
 * libgllmk never includes cuda.h and never links libcuda: the CUDA backend
 * dlopens libcuda.so.1 on first use and resolves the entry points below by
 * their exported, versioned names (cuMemAlloc_v2, not the legacy 32-bit
 * cuMemAlloc, which the driver also exports).  The test driver of
 * tests/cudaemu implements the same list with the same names.
 *
 * Types and constants have the values of CUDA 13.0's cuda.h.
 */
#ifndef GLLMK_CU_H
#define GLLMK_CU_H

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_STUB_LIBRARY = 34,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_NOT_READY = 600,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
  CUDA_ERROR_LAUNCH_FAILED = 719,
  CUDA_ERROR_ILLEGAL_INSTRUCTION = 715,
  CUDA_ERROR_MISALIGNED_ADDRESS = 716,
  CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
  CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
  CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
  CUDA_ERROR_UNKNOWN = 999,
};

/* cuDeviceGetAttribute */
enum {
  CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8,
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36,
  CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37,
  CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};
/* cuFuncSetAttribute / cuFuncGetAttribute */
enum {
  CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0,
  CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1,
  CU_FUNC_ATTRIBUTE_NUM_REGS = 4,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};
/* cuStreamCreate flags, cuStreamBeginCapture modes */
enum { CU_STREAM_DEFAULT = 0, CU_STREAM_NON_BLOCKING = 1 };
enum { CU_STREAM_CAPTURE_MODE_GLOBAL = 0, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
       CU_STREAM_CAPTURE_MODE_RELAXED = 2 };
/* cuStreamIsCapturing */
enum { CU_STREAM_CAPTURE_STATUS_NONE = 0, CU_STREAM_CAPTURE_STATUS_ACTIVE = 1,
       CU_STREAM_CAPTURE_STATUS_INVALIDATED = 2 };

/* X(field, exported symbol, return-less parameter list).  Every entry point
 * returns CUresult. */
#define GLLMK_CU_API(X)                                                                   \
  X(Init, "cuInit", (unsigned flags))                                                     \
  X(DriverGetVersion, "cuDriverGetVersion", (int *version))                               \
  X(GetErrorString, "cuGetErrorString", (CUresult e, const char **s))                     \
  X(GetErrorName, "cuGetErrorName", (CUresult e, const char **s))                         \
  X(DeviceGetCount, "cuDeviceGetCount", (int *count))                                     \
  X(DeviceGet, "cuDeviceGet", (CUdevice *dev, int ordinal))                               \
  X(DeviceGetName, "cuDeviceGetName", (char *name, int len, CUdevice dev))                \
  X(DeviceGetAttribute, "cuDeviceGetAttribute", (int *v, int attrib, CUdevice dev))       \
  X(DeviceTotalMem, "cuDeviceTotalMem_v2", (size_t *bytes, CUdevice dev))                 \
  X(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *ctx, CUdevice dev))   \
  X(DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice dev))              \
  X(CtxSetCurrent, "cuCtxSetCurrent", (CUcontext ctx))                                    \
  X(CtxGetCurrent, "cuCtxGetCurrent", (CUcontext *ctx))                                   \
  X(CtxSynchronize, "cuCtxSynchronize", (void))                                           \
  X(MemGetInfo, "cuMemGetInfo_v2", (size_t *free_bytes, size_t *total))                   \
  X(ModuleLoadData, "cuModuleLoadData", (CUmodule *mod, const void *image))               \
  X(ModuleUnload, "cuModuleUnload", (CUmodule mod))                                       \
  X(ModuleGetFunction, "cuModuleGetFunction", (CUfunction *f, CUmodule mod, const char *name)) \
  X(FuncGetAttribute, "cuFuncGetAttribute", (int *v, int attrib, CUfunction f))           \
  X(FuncSetAttribute, "cuFuncSetAttribute", (CUfunction f, int attrib, int v))            \
  X(MemAlloc, "cuMemAlloc_v2", (CUdeviceptr *p, size_t bytes))                            \
  X(MemFree, "cuMemFree_v2", (CUdeviceptr p))                                             \
  X(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", (CUdeviceptr dst, const void *src, size_t bytes, CUstream s)) \
  X(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", (void *dst, CUdeviceptr src, size_t bytes, CUstream s))       \
  X(MemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", (CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s)) \
  X(MemsetD8Async, "cuMemsetD8Async", (CUdeviceptr dst, unsigned char v, size_t n, CUstream s))             \
  X(StreamCreate, "cuStreamCreate", (CUstream *s, unsigned flags))                        \
  X(StreamDestroy, "cuStreamDestroy_v2", (CUstream s))                                    \
  X(StreamSynchronize, "cuStreamSynchronize", (CUstream s))                               \
  X(StreamBeginCapture, "cuStreamBeginCapture_v2", (CUstream s, int mode))                \
  X(StreamEndCapture, "cuStreamEndCapture", (CUstream s, CUgraph *g))                     \
  X(StreamIsCapturing, "cuStreamIsCapturing", (CUstream s, int *status))                  \
  X(GraphInstantiate, "cuGraphInstantiateWithFlags", (CUgraphExec *e, CUgraph g, unsigned long long flags)) \
  X(GraphLaunch, "cuGraphLaunch", (CUgraphExec e, CUstream s))                            \
  X(GraphExecDestroy, "cuGraphExecDestroy", (CUgraphExec e))                              \
  X(GraphDestroy, "cuGraphDestroy", (CUgraph g))                                          \
  X(LaunchKernel, "cuLaunchKernel",                                                       \
    (CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,       \
     unsigned bz, unsigned smem, CUstream s, void **params, void **extra))

#endif /* GLLMK_CU_H */
