/* backend.c -- the CUDA backend: the Driver API through dlopen, the device's
 * primary context, one module from the embedded fatbin, a stream, graphs
 * SPDX-License-Identifier: MIT
 *
 * Nothing of CUDA is linked: libcuda.so.1 (or the library named by
 * GLLMK_CUDA_DRIVER, read with secure_getenv) is loaded on the first CUDA
 * open, and the entry points of cu.h are resolved by their exported,
 * versioned names.  Every call first makes the backend's context current on
 * the calling thread, so a backend can be used from any thread.
 */
#define _GNU_SOURCE 1           /* secure_getenv */
#include "cuda_internal.h"
#include "cuda_ops.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the embedded fatbin (cuda/fatbin.S) */
extern GLLMK_HIDDEN const unsigned char gllmk__cuda_fatbin[];
extern GLLMK_HIDDEN const size_t gllmk__cuda_fatbin_size;

static const char *const kernel_names[GK_NKERNELS + 1] = {
#define GK_KERNEL(name) #name,
#include "kernels.def"
#undef GK_KERNEL
  NULL
};

/* ------------------------------------------------------------ the driver */
static struct {
#define GK_CU_FIELD(field, sym, args) CUresult (*field) args;
  GLLMK_CU_API(GK_CU_FIELD)
#undef GK_CU_FIELD
} cu;

static pthread_once_t cu_once = PTHREAD_ONCE_INIT;
static gllmk_status cu_status;           /* of loading and cuInit */
static char cu_message[256];
static int cu_version;                   /* cuDriverGetVersion */

static const char *cu_errname(CUresult r) {
  const char *s = NULL;
  if (cu.GetErrorName && cu.GetErrorName(r, &s) == CUDA_SUCCESS && s) return s;
  return "unknown error";
}

static void cu_load(void) {
  const char *path = secure_getenv("GLLMK_CUDA_DRIVER");
  if (!path || !*path) path = "libcuda.so.1";
  cu_status = GLLMK_E_NO_DEVICE;
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(cu_message, sizeof cu_message, "no CUDA driver: %s", dlerror());
    return;
  }
#define GK_CU_SYM(field, sym, args)                                                   \
  if (!(*(void **)&cu.field = dlsym(h, sym))) {                                       \
    snprintf(cu_message, sizeof cu_message, "the CUDA driver %s has no %s (too old?)", \
             path, sym);                                                              \
    memset(&cu, 0, sizeof cu);                                                        \
    dlclose(h);                                                                       \
    return;                                                                           \
  }
  GLLMK_CU_API(GK_CU_SYM)
#undef GK_CU_SYM
  CUresult r = cu.Init(0);
  if (r == CUDA_ERROR_STUB_LIBRARY) {
    snprintf(cu_message, sizeof cu_message,
             "%s is the CUDA toolkit's stub library, not a driver: no GPU driver is installed",
             path);
    return;
  }
  if (r == CUDA_ERROR_NO_DEVICE) {
    snprintf(cu_message, sizeof cu_message, "the CUDA driver found no device");
    return;
  }
  if (r != CUDA_SUCCESS) {
    snprintf(cu_message, sizeof cu_message, "cuInit failed: %s (CUresult %d)", cu_errname(r), r);
    return;
  }
  if (cu.DriverGetVersion(&cu_version) != CUDA_SUCCESS) cu_version = 0;
  if (cu_version < 13000) {
    snprintf(cu_message, sizeof cu_message,
             "the CUDA driver supports CUDA %d.%d; gllmk's kernels were built with CUDA 13.0 and "
             "need a driver for 13.0 or newer (580+)",
             cu_version / 1000, cu_version % 1000 / 10);
    cu_status = GLLMK_E_UNSUPPORTED;
    return;
  }
  cu_status = GLLMK_OK;
}

static gllmk_status cu_ready(void) {
  pthread_once(&cu_once, cu_load);
  if (cu_status != GLLMK_OK) gllmk__backend_set_message("%s", cu_message);
  return cu_status;
}

/* ------------------------------------------------------------ architectures */
const char *gllmk_cuda_archs(void) { return GLLMK_CUDA_ARCH_NAMES; }

/* whether the fatbin has SASS that a device of this capability runs: the
 * same major and a minor not above the device's */
static bool archs_cover(int major, int minor) {
  const char *p = GLLMK_CUDA_ARCH_NAMES;
  while ((p = strstr(p, "sm_")) != NULL) {
    int v = atoi(p + 3);
    if (v / 10 == major && v % 10 <= minor) return true;
    p += 3;
  }
  return false;
}

gllmk_status gllmk_cuda_device_count(int *count) {
  if (!count) return GLLMK_E_INVAL;
  *count = 0;
  gllmk_status st = cu_ready();
  if (st != GLLMK_OK) return st;
  int n = 0;
  CUresult r = cu.DeviceGetCount(&n);
  if (r != CUDA_SUCCESS || n <= 0) {
    gllmk__backend_set_message("the CUDA driver found no device");
    return GLLMK_E_NO_DEVICE;
  }
  *count = n;
  return GLLMK_OK;
}

static gllmk_status device_props(int ordinal, CUdevice *dev, struct gllmk__cu_dev *d, char *name,
                                 int namelen) {
  int n = 0;
  if (cu.DeviceGetCount(&n) != CUDA_SUCCESS) n = 0;
  if (ordinal < 0 || ordinal >= n) {
    gllmk__backend_set_message("no CUDA device %d (the driver found %d)", ordinal, n);
    return GLLMK_E_NO_DEVICE;
  }
  CUresult r = cu.DeviceGet(dev, ordinal);
  int v[6] = {0};
  static const int attr[6] = {
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN};
  for (int i = 0; i < 6 && r == CUDA_SUCCESS; i++) r = cu.DeviceGetAttribute(&v[i], attr[i], *dev);
  if (r == CUDA_SUCCESS) r = cu.DeviceTotalMem(&d->total_mem, *dev);
  if (r == CUDA_SUCCESS && name) r = cu.DeviceGetName(name, namelen, *dev);
  if (r != CUDA_SUCCESS) {
    gllmk__backend_set_message("CUDA device %d: %s (CUresult %d)", ordinal, cu_errname(r), r);
    return GLLMK_E_DEVICE;
  }
  d->cc_major = v[0];
  d->cc_minor = v[1];
  d->sm_count = v[2];
  d->max_threads_per_block = v[3];
  d->max_smem_per_block = v[4];
  d->max_smem_optin = v[5];
  return GLLMK_OK;
}

gllmk_status gllmk_cuda_device_info(int ordinal, gllmk_cuda_device *info) {
  if (!info) return GLLMK_E_INVAL;
  memset(info, 0, sizeof *info);
  gllmk_status st = cu_ready();
  if (st != GLLMK_OK) return st;
  CUdevice dev;
  struct gllmk__cu_dev d;
  st = device_props(ordinal, &dev, &d, info->name, (int)sizeof info->name);
  if (st != GLLMK_OK) return st;
  info->name[sizeof info->name - 1] = 0;
  info->cc_major = d.cc_major;
  info->cc_minor = d.cc_minor;
  info->sm_count = d.sm_count;
  info->total_mem = d.total_mem;
  info->driver_version = cu_version;
  info->kernels_cover = archs_cover(d.cc_major, d.cc_minor);
  /* optional attributes, each on its own: a driver that refuses one (the
   * memory clock is deprecated in CUDA 13) leaves its field 0 = unknown */
  int clock_khz = 0, bus_bits = 0, l2 = 0;
  if (cu.DeviceGetAttribute(&clock_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, dev) != CUDA_SUCCESS)
    clock_khz = 0;
  if (cu.DeviceGetAttribute(&bus_bits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, dev) != CUDA_SUCCESS)
    bus_bits = 0;
  if (cu.DeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev) != CUDA_SUCCESS) l2 = 0;
  if (clock_khz > 0 && bus_bits > 0)
    info->mem_bandwidth_gbs = 2.0 * (double)clock_khz * 1e3 * ((double)bus_bits / 8.0) * 1e-9;
  info->l2_cache_bytes = l2 > 0 ? (size_t)l2 : 0;
  return GLLMK_OK;
}

/* ------------------------------------------------------------ the backend */
struct cuda_be {
  CUdevice dev;
  CUcontext ctx;
  CUmodule mod;
  CUstream own, cur;               /* the backend's stream; the one ops go to */
  struct gllmk__cu_dev info;
  CUfunction fn[GK_NKERNELS + 1];
  unsigned max_dyn_smem[GK_NKERNELS + 1];   /* the opt-in limit less static shared */
};

struct cuda_graph {
  CUgraph graph;
  CUgraphExec exec;
};

static struct cuda_be *CB(const gllmk_backend *be) { return be->priv; }

static CUdeviceptr DP(const void *p) { return (CUdeviceptr)(uintptr_t)p; }

/* a driver error: keep the raw code, say GLLMK_E_DEVICE */
static gllmk_status fail(gllmk_backend *be, CUresult r) {
  be->device_error = r;
  return GLLMK_E_DEVICE;
}

static gllmk_status cur_ctx(gllmk_backend *be) {
  CUresult r = cu.CtxSetCurrent(CB(be)->ctx);
  return r == CUDA_SUCCESS ? GLLMK_OK : fail(be, r);
}

#define CALL(be, expr)                               \
  do {                                               \
    gllmk_status st_ = cur_ctx(be);                  \
    if (st_ != GLLMK_OK) return st_;                 \
    CUresult r_ = (expr);                            \
    if (r_ != CUDA_SUCCESS) return fail((be), r_);   \
  } while (0)

const struct gllmk__cu_dev *gllmk__cu_device(const gllmk_backend *be) { return &CB(be)->info; }

gllmk_status gllmk__cu_launch(gllmk_backend *be, enum gllmk__cu_kernel kernel, unsigned gx,
                              unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                              unsigned smem_bytes, void **args) {
  struct cuda_be *c = CB(be);
  if ((unsigned)kernel >= GK_NKERNELS || !gx || !gy || !gz || !bx || !by || !bz) return GLLMK_E_INVAL;
  if ((unsigned long long)bx * by * bz > (unsigned)c->info.max_threads_per_block ||
      smem_bytes > c->max_dyn_smem[kernel])
    return GLLMK_E_INVAL;
  gllmk_status st = cur_ctx(be);
  if (st != GLLMK_OK) return st;
  CUresult r = cu.LaunchKernel(c->fn[kernel], gx, gy, gz, bx, by, bz, smem_bytes, c->cur, args, NULL);
  if (r == CUDA_ERROR_INVALID_VALUE) return GLLMK_E_INVAL;
  return r == CUDA_SUCCESS ? GLLMK_OK : fail(be, r);
}

static gllmk_status cuda_mem_alloc(gllmk_backend *be, size_t bytes, void **p) {
  CUdeviceptr d = 0;
  gllmk_status st = cur_ctx(be);
  if (st != GLLMK_OK) return st;
  /* round up so that 16-byte vector loads of a buffer's tail stay inside it */
  CUresult r = cu.MemAlloc(&d, (bytes + 255) & ~(size_t)255);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) return GLLMK_E_NOMEM;
  if (r != CUDA_SUCCESS) return fail(be, r);
  *p = (void *)(uintptr_t)d;
  return GLLMK_OK;
}

static void cuda_mem_free(gllmk_backend *be, void *p) {
  if (cur_ctx(be) == GLLMK_OK) cu.MemFree(DP(p));
}

static gllmk_status cuda_upload(gllmk_backend *be, void *dst, const void *src, size_t bytes) {
  CALL(be, cu.MemcpyHtoDAsync(DP(dst), src, bytes, CB(be)->cur));
  return GLLMK_OK;
}

static gllmk_status cuda_download(gllmk_backend *be, void *dst, const void *src, size_t bytes) {
  CALL(be, cu.MemcpyDtoHAsync(dst, DP(src), bytes, CB(be)->cur));
  CALL(be, cu.StreamSynchronize(CB(be)->cur));
  return GLLMK_OK;
}

static gllmk_status cuda_copy(gllmk_backend *be, void *dst, const void *src, size_t bytes) {
  CALL(be, cu.MemcpyDtoDAsync(DP(dst), DP(src), bytes, CB(be)->cur));
  return GLLMK_OK;
}

static gllmk_status cuda_synchronize(gllmk_backend *be) {
  CALL(be, cu.StreamSynchronize(CB(be)->cur));
  return GLLMK_OK;
}

static gllmk_status cuda_set_stream(gllmk_backend *be, void *stream) {
  struct cuda_be *c = CB(be);
  if (c->cur != c->own || stream) {
    /* the work queued so far finishes before the switch */
    CALL(be, cu.StreamSynchronize(c->cur));
  }
  c->cur = stream ? (CUstream)stream : c->own;
  return GLLMK_OK;
}

static void *cuda_stream(const gllmk_backend *be) { return CB(be)->cur; }

static gllmk_status cuda_graph_begin(gllmk_backend *be) {
  CALL(be, cu.StreamBeginCapture(CB(be)->cur, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
  return GLLMK_OK;
}

static gllmk_status cuda_graph_end(gllmk_backend *be, void **graph) {
  struct cuda_graph *g = calloc(1, sizeof *g);
  gllmk_status st = cur_ctx(be);
  if (st != GLLMK_OK) {
    free(g);
    return st;
  }
  CUgraph tmp = NULL;
  CUresult r = cu.StreamEndCapture(CB(be)->cur, g ? &g->graph : &tmp);
  if (!g) {                      /* the capture is over either way */
    if (r == CUDA_SUCCESS && tmp) cu.GraphDestroy(tmp);
    return GLLMK_E_NOMEM;
  }
  if (r == CUDA_SUCCESS) r = cu.GraphInstantiate(&g->exec, g->graph, 0);
  if (r != CUDA_SUCCESS) {
    if (g->graph) cu.GraphDestroy(g->graph);
    free(g);
    return fail(be, r);
  }
  *graph = g;
  return GLLMK_OK;
}

static gllmk_status cuda_graph_launch(gllmk_backend *be, void *graph) {
  CALL(be, cu.GraphLaunch(((struct cuda_graph *)graph)->exec, CB(be)->cur));
  return GLLMK_OK;
}

static void cuda_graph_free(gllmk_backend *be, void *graph) {
  struct cuda_graph *g = graph;
  if (cur_ctx(be) == GLLMK_OK) {
    cu.GraphExecDestroy(g->exec);
    cu.GraphDestroy(g->graph);
  }
  free(g);
}

static void cuda_close(gllmk_backend *be) {
  struct cuda_be *c = CB(be);
  if (cur_ctx(be) == GLLMK_OK) {
    cu.StreamSynchronize(c->own);
    cu.StreamDestroy(c->own);
    cu.ModuleUnload(c->mod);
  }
  cu.DevicePrimaryCtxRelease(c->dev);
  free(c);
}

extern GLLMK_HIDDEN const gllmk_ops_f32 gllmk__cuda_ops_f32;
extern GLLMK_HIDDEN const gllmk_ops_f16 gllmk__cuda_ops_f16;
extern GLLMK_HIDDEN const gllmk_ops_bf16 gllmk__cuda_ops_bf16;

static const struct gllmk__backend_impl cuda_impl = {
  .close = cuda_close,
  .mem_alloc = cuda_mem_alloc,
  .mem_free = cuda_mem_free,
  .upload = cuda_upload,
  .download = cuda_download,
  .copy = cuda_copy,
  .synchronize = cuda_synchronize,
  .set_stream = cuda_set_stream,
  .stream = cuda_stream,
  .graph_begin = cuda_graph_begin,
  .graph_end = cuda_graph_end,
  .graph_launch = cuda_graph_launch,
  .graph_free = cuda_graph_free,
  .ops_f32 = &gllmk__cuda_ops_f32,
  .ops_f16 = &gllmk__cuda_ops_f16,
  .ops_bf16 = &gllmk__cuda_ops_bf16,
};

gllmk_status gllmk__cuda_open(gllmk_backend *be, int ordinal) {
  gllmk_status st = cu_ready();
  if (st != GLLMK_OK) return st;
  struct cuda_be *c = calloc(1, sizeof *c);
  if (!c) return GLLMK_E_NOMEM;
  char name[256] = "";
  st = device_props(ordinal, &c->dev, &c->info, name, (int)sizeof name);
  if (st != GLLMK_OK) {
    free(c);
    return st;
  }
  name[sizeof name - 1] = 0;
  CUresult r = cu.DevicePrimaryCtxRetain(&c->ctx, c->dev);
  if (r != CUDA_SUCCESS) {
    gllmk__backend_set_message("CUDA device %d: no primary context: %s (CUresult %d)", ordinal,
                               cu_errname(r), r);
    free(c);
    be->device_error = r;
    return GLLMK_E_DEVICE;
  }
  const char *what = "cuCtxSetCurrent";
  r = cu.CtxSetCurrent(c->ctx);
  if (r == CUDA_SUCCESS) {
    what = "loading the embedded kernels";
    r = cu.ModuleLoadData(&c->mod, gllmk__cuda_fatbin);
  }
  if (r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_INVALID_PTX ||
      r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
    gllmk__backend_set_message("CUDA device %d (%s) has compute capability %d.%d; this build of "
                               "gllmk has kernels for %s only (configure GLLMK_CUDA_ARCHS)",
                               ordinal, name, c->info.cc_major, c->info.cc_minor,
                               GLLMK_CUDA_ARCH_NAMES);
    cu.DevicePrimaryCtxRelease(c->dev);
    free(c);
    return GLLMK_E_UNSUPPORTED;
  }
  /* every function now: lazy loading would otherwise load them during a
   * capture; and each may take the device's whole opt-in shared memory, set
   * here once rather than by a launch (which may be captured) */
  for (int k = 0; k < GK_NKERNELS && r == CUDA_SUCCESS; k++) {
    int stat = 0;
    what = kernel_names[k];
    r = cu.ModuleGetFunction(&c->fn[k], c->mod, kernel_names[k]);
    if (r == CUDA_SUCCESS) r = cu.FuncGetAttribute(&stat, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, c->fn[k]);
    int dyn = c->info.max_smem_per_block > stat ? c->info.max_smem_per_block - stat : 0;
    int optin = c->info.max_smem_optin > stat ? c->info.max_smem_optin - stat : 0;
    if (r == CUDA_SUCCESS && optin > dyn) {
      r = cu.FuncSetAttribute(c->fn[k], CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, optin);
      dyn = optin;
    }
    c->max_dyn_smem[k] = (unsigned)dyn;
  }
  if (r == CUDA_SUCCESS) {
    what = "cuStreamCreate";
    r = cu.StreamCreate(&c->own, CU_STREAM_NON_BLOCKING);
  }
  if (r != CUDA_SUCCESS) {
    gllmk__backend_set_message("CUDA device %d (%s): %s: %s (CUresult %d)", ordinal, name, what,
                               cu_errname(r), r);
    if (c->mod) cu.ModuleUnload(c->mod);
    cu.DevicePrimaryCtxRelease(c->dev);
    free(c);
    be->device_error = r;
    return GLLMK_E_DEVICE;
  }
  c->cur = c->own;
  be->priv = c;
  be->impl = &cuda_impl;
  snprintf(be->name, sizeof be->name, "cuda:%d", ordinal > 99999 ? 99999 : ordinal);
  return GLLMK_OK;
}
