/* driver.c -- the test driver libcuda.so.1: the Driver API of cuda/cu.h on an emulated device
 * SPDX-License-Identifier: MIT
 *
 * Build (from the top of the source tree; one job, the harness and kernel
 * objects come from tests/cudaemu/harness.cc, its fiber .S files and every
 * every .cu file of cuda/ compiled with -DGK_EMU):
 *
 *   CFLAGS="-std=c11 -O2 -g -Wall -Wextra -Werror -fPIC"
 *   gcc $CFLAGS -fvisibility=hidden -Icuda -Itests/cudaemu -c tests/cudaemu/driver.c -o driver.o
 *   gcc $CFLAGS -fvisibility=hidden -Itests/cudaemu -c tests/cudaemu/fatbin.c -o fatbin.o
 *   g++ -std=c++17 -O2 -g -fPIC -DGK_EMU -Icuda -Itests/cudaemu \
 *       -x c++ -c tests/cudaemu/test_kernels.cu -o test_kernels_emu.o
 *   g++ -shared -o tests/cudaemu/libcuda.so.1 -Wl,-soname,libcuda.so.1 \
 *       -Wl,--version-script=tests/cudaemu/libcuda.map -Wl,-z,defs \
 *       driver.o fatbin.o test_kernels_emu.o HARNESS_AND_KERNEL_OBJECTS -lpthread
 *
 *   # the test (tests/cudaemu/test_driver.c says how it is run)
 *   nvcc -fatbin -O3 --threads 1 -gencode arch=compute_80,code=sm_80 \
 *       -gencode arch=compute_86,code=sm_86 -gencode arch=compute_89,code=sm_89 \
 *       -gencode arch=compute_90,code=sm_90 -gencode arch=compute_100,code=sm_100 \
 *       -gencode arch=compute_120,code=sm_120 -Icuda \
 *       -o tests/cudaemu/test_kernels.fatbin tests/cudaemu/test_kernels.cu
 *   gcc $CFLAGS -Icuda -Itests -Itests/cudaemu tests/cudaemu/test_driver.c \
 *       tests/cudaemu/fatbin.c -o tests/cudaemu/test_driver -ldl -lpthread
 *   gcc $CFLAGS tests/cudaemu/fatbin-ls.c tests/cudaemu/fatbin.c -o tests/cudaemu/fatbin-ls
 *
 * Under ASan+UBSan add -fsanitize=address,undefined to every compile and to
 * the link; the red zones are then also poisoned.
 *
 * What it emulates (see DESIGN.md section 6):
 *   devices     GLLMK_CUDAEMU_DEVICES="9.0,8.6" (compute capabilities; default
 *               "9.0"; "" or "none": no device), GLLMK_CUDAEMU_MEM=bytes (the
 *               memory of each device, a hard limit; default 16 GiB).
 *   modules     the real fatbin (fatbin.c) -> the cubin the driver would pick
 *               -> kernels, matched by name with the execution harness.
 *   launches    checked like the driver does, parameters marshalled at the
 *               cubin's offsets, run by gk_emu_launch at enqueue time.
 *   faults      asynchronous and sticky: the launch succeeds, the next call
 *               on the context returns the error, until the primary context
 *               is released to refcount 0.
 *   memory      host memory with 256-byte red zones, checked after every
 *               launch; ranges of copies checked against live allocations.
 *   streams     in order, executed at enqueue time; graphs recorded by
 *               stream capture and replayed.
 * GLLMK_CUDAEMU_LOG=1 prints every error it returns on stderr.
 * Test hooks (not CUDA): gk_emu_last_error, gk_emu_capture_alloc_attempts,
 * gk_emu_reset, gk_emu_race_checked.
 */
#include "cu.h"
#include "fatbin.h"
#include "harness.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#  define GK_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define GK_ASAN 1
#  endif
#endif
#ifdef GK_ASAN
#  include <sanitizer/asan_interface.h>
#  define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#  define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#  define POISON(p, n) ((void)(p), (void)(n))
#  define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define EXPORT __attribute__((visibility("default")))

/* The exported entry points: the names and parameter lists of cu.h's X-macro
 * (an asm label gives each its versioned symbol), so that a signature here
 * that differs from cu.h does not compile. */
#define GK_DECLARE(fn, sym, args) EXPORT CUresult emu_##fn args __asm__(sym);
GLLMK_CU_API(GK_DECLARE)
#undef GK_DECLARE

EXPORT const char *gk_emu_last_error(void);
EXPORT int gk_emu_capture_alloc_attempts(void);
EXPORT void gk_emu_reset(void);
EXPORT int gk_emu_race_checked(const char *kernel);

/* Not in cu.h, returned where the real driver does. */
enum {
  CUDA_ERROR_DEINITIALIZED_ = 4,
  CUDA_ERROR_ILLEGAL_STATE_ = 401,
  CUDA_ERROR_ASSERT_ = 710,
  CUDA_ERROR_NOT_SUPPORTED_ = 801,
  CUDA_ERROR_STREAM_CAPTURE_UNMATCHED_ = 902,
  CUDA_ERROR_STREAM_CAPTURE_IMPLICIT_ = 906,
};

/* Device attributes beyond cu.h's list (values of CUDA 13.0's cuda.h). */
enum {
  ATTR_MAX_BLOCK_DIM_X = 2, ATTR_MAX_BLOCK_DIM_Y = 3, ATTR_MAX_BLOCK_DIM_Z = 4,
  ATTR_MAX_GRID_DIM_X = 5, ATTR_MAX_GRID_DIM_Y = 6, ATTR_MAX_GRID_DIM_Z = 7,
  ATTR_TOTAL_CONSTANT_MEMORY = 9, ATTR_WARP_SIZE = 10, ATTR_MAX_REGISTERS_PER_BLOCK = 12,
  ATTR_CLOCK_RATE = 13, ATTR_MAX_THREADS_PER_MULTIPROCESSOR = 39,
  ATTR_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81, ATTR_MAX_REGISTERS_PER_MULTIPROCESSOR = 82,
  ATTR_RESERVED_SHARED_MEMORY_PER_BLOCK = 111,
};
enum { FUNC_ATTR_CONST_SIZE_BYTES = 2, FUNC_ATTR_LOCAL_SIZE_BYTES = 3, FUNC_ATTR_PTX_VERSION = 5,
       FUNC_ATTR_BINARY_VERSION = 6 };

enum {
  MAX_DEVICES = 16,
  REDZONE = 256,                 /* bytes before and (at least) after each allocation */
  ALLOC_ALIGN = 256,             /* cuMemAlloc's alignment */
  DEFAULT_SMEM = 48 * 1024,      /* launch limit without cuFuncSetAttribute */
  REGS_PER_SM = 64 * 1024,
  MAX_GRID_X = 0x7fffffff, MAX_GRID_YZ = 65535,
  MAX_BLOCK_XY = 1024, MAX_BLOCK_Z = 64, MAX_THREADS = 1024,
  CTX_MAGIC = 0x63747831, MOD_MAGIC = 0x6d6f6431,
};

#define DEFAULT_MEM ((size_t)16 << 30)
#define MSG_LEN 1024

/* ------------------------------------------------------------------ state */

/* What a device of one compute capability looks like. */
struct cc_info {
  int major, minor;
  int sms;
  int optin_smem;          /* largest shared memory per block with the opt-in */
  int smem_per_sm;
  int threads_per_sm;
  int clock_khz, mem_clock_khz, bus_width, l2_bytes;
};

static const struct cc_info cc_table[] = {
  {7, 5, 68, 64 * 1024, 64 * 1024, 1024, 1545000, 7000000, 352, 5632 * 1024},
  {8, 0, 108, 163 * 1024, 164 * 1024, 2048, 1410000, 1215000, 5120, 40 << 20},
  {8, 6, 84, 99 * 1024, 100 * 1024, 1536, 1740000, 7251000, 384, 6 << 20},
  {8, 7, 16, 163 * 1024, 164 * 1024, 1536, 1300000, 3200000, 256, 4 << 20},
  {8, 9, 128, 99 * 1024, 100 * 1024, 1536, 2520000, 10501000, 384, 72 << 20},
  {9, 0, 132, 227 * 1024, 228 * 1024, 2048, 1980000, 2619000, 5120, 50 << 20},
  {10, 0, 148, 227 * 1024, 228 * 1024, 2048, 1965000, 3996000, 8192, 126 << 20},
  {10, 3, 148, 227 * 1024, 228 * 1024, 2048, 1965000, 3996000, 8192, 126 << 20},
  {12, 0, 170, 99 * 1024, 100 * 1024, 1536, 2407000, 14001000, 512, 96 << 20},
  {12, 1, 48, 99 * 1024, 100 * 1024, 1536, 2418000, 4266000, 256, 24 << 20},
};

struct alloc {
  unsigned char *base;     /* what aligned_alloc returned */
  uintptr_t user;          /* the device pointer */
  size_t bytes;            /* as asked */
  size_t total;            /* red zone + rounded bytes + red zone */
  unsigned long long id;   /* 1, 2, ... in allocation order */
};

struct func {
  struct module *mod;
  const gk_fb_kernel *k;         /* in mod->cubin */
  const gk_emu_kernel *emu;      /* set by cuModuleGetFunction */
  int max_dyn_smem;              /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */
  int max_threads;               /* CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK */
  int bounded_by_regs;           /* max_threads comes from the register file */
};

struct module {
  unsigned magic;
  struct module *next;
  struct ctx *ctx;
  gk_fb_cubin cubin;
  struct func *funcs;
};

enum { NODE_KERNEL, NODE_COPY, NODE_MEMSET };
struct node {
  int type;
  struct func *f;
  unsigned grid[3], block[3], smem;
  unsigned char *params;         /* the parameter block, owned */
  CUdeviceptr dst, src;
  size_t bytes;
  unsigned char value;
};

struct graph {                   /* CUgraph and CUgraphExec alike */
  struct graph *next;
  struct ctx *ctx;
  int exec;                      /* 1 for a CUgraphExec */
  struct node *nodes;
  int n, cap;
};

struct stream {
  struct stream *next;
  struct ctx *ctx;
  unsigned flags;
  int capturing, invalidated, mode;
  pthread_t owner;
  struct graph *capture;
};

struct ctx {
  unsigned magic;
  int dev;
  int refcount;
  CUresult sticky;
  char sticky_msg[MSG_LEN];
  struct alloc *allocs;          /* sorted by user address */
  size_t nallocs, cap;
  size_t live_bytes;
  unsigned long long next_id;
  struct module *modules;
  struct stream *streams;
  struct graph *graphs;          /* graphs and execs */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;
static int ndevs;
static struct cc_info devs[MAX_DEVICES];
static struct ctx ctxs[MAX_DEVICES];
static size_t mem_total = DEFAULT_MEM;
static int log_errors;
static int capture_alloc_attempts;
static char last_err[MSG_LEN];
static _Thread_local struct ctx *current;
static _Thread_local char last_err_copy[MSG_LEN];

#define LOCK() pthread_mutex_lock(&lock)
#define UNLOCK() pthread_mutex_unlock(&lock)

/* Record why a call fails; returns code. */
static CUresult seterr(CUresult code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static CUresult seterr(CUresult code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_err, sizeof last_err, fmt, ap);
  va_end(ap);
  if (log_errors)
    fprintf(stderr, "cudaemu: error %d: %s\n", code, last_err);
  return code;
}

/* A fault of the device: sticky on the context. */
static void fault(struct ctx *c, CUresult code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fault(struct ctx *c, CUresult code, const char *fmt, ...) {
  if (c->sticky)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->sticky_msg, sizeof c->sticky_msg, fmt, ap);
  va_end(ap);
  c->sticky = code;
  snprintf(last_err, sizeof last_err, "%s", c->sticky_msg);
  if (log_errors)
    fprintf(stderr, "cudaemu: fault %d: %s\n", code, c->sticky_msg);
}

/* ------------------------------------------------------------ error names */

static const struct { CUresult code; const char *name, *text; } errors[] = {
  {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
  {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
  {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
  {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
  {CUDA_ERROR_DEINITIALIZED_, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
  {CUDA_ERROR_STUB_LIBRARY, "CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
  {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
  {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
  {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
  {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
  {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU",
   "no kernel image is available for execution on the device"},
  {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
  {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
   "the provided PTX was compiled with an unsupported toolchain."},
  {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
  {CUDA_ERROR_ILLEGAL_STATE_, "CUDA_ERROR_ILLEGAL_STATE",
   "the operation cannot be performed in the present state"},
  {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
  {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
  {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
  {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
   "too many resources requested for launch"},
  {CUDA_ERROR_ASSERT_, "CUDA_ERROR_ASSERT", "device-side assert triggered"},
  {CUDA_ERROR_ILLEGAL_INSTRUCTION, "CUDA_ERROR_ILLEGAL_INSTRUCTION",
   "an illegal instruction was encountered"},
  {CUDA_ERROR_MISALIGNED_ADDRESS, "CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"},
  {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
  {CUDA_ERROR_NOT_SUPPORTED_, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
  {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
   "operation not permitted when stream is capturing"},
  {CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
   "operation failed due to a previous error during capture"},
  {CUDA_ERROR_STREAM_CAPTURE_UNMATCHED_, "CUDA_ERROR_STREAM_CAPTURE_UNMATCHED",
   "capture was not ended in the same stream as it began"},
  {CUDA_ERROR_STREAM_CAPTURE_IMPLICIT_, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT",
   "operation would make the legacy stream depend on a capturing blocking stream"},
  {CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD",
   "attempt to terminate a thread-local capture sequence from another thread"},
  {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

static int error_index(CUresult e) {
  for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
    if (errors[i].code == e)
      return (int)i;
  return -1;
}

CUresult emu_GetErrorString(CUresult e, const char **s) {
  if (!s)
    return CUDA_ERROR_INVALID_VALUE;
  int i = error_index(e);
  *s = i < 0 ? NULL : errors[i].text;
  return i < 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CUresult emu_GetErrorName(CUresult e, const char **s) {
  if (!s)
    return CUDA_ERROR_INVALID_VALUE;
  int i = error_index(e);
  *s = i < 0 ? NULL : errors[i].name;
  return i < 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

/* -------------------------------------------------------- init and devices */

static int parse_devices(const char *s, char *why, size_t whylen) {
  ndevs = 0;
  if (!s)
    s = "9.0";
  while (*s == ' ')
    s++;
  if (!*s || strcmp(s, "none") == 0)
    return 0;
  while (*s) {
    int major = 0, minor = 0, nd = 0;
    while (*s == ' ')
      s++;
    while (*s >= '0' && *s <= '9' && nd < 3) {
      major = major * 10 + (*s++ - '0');
      nd++;
    }
    if (!nd || major < 1 || *s++ != '.' || *s < '0' || *s > '9') {
      snprintf(why, whylen, "GLLMK_CUDAEMU_DEVICES: expected a list of M.m compute capabilities");
      return -1;
    }
    minor = *s++ - '0';
    while (*s == ' ')
      s++;
    if (*s && *s != ',') {
      snprintf(why, whylen, "GLLMK_CUDAEMU_DEVICES: junk after %d.%d", major, minor);
      return -1;
    }
    if (*s == ',')
      s++;
    if (ndevs == MAX_DEVICES) {
      snprintf(why, whylen, "GLLMK_CUDAEMU_DEVICES: more than %d devices", MAX_DEVICES);
      return -1;
    }
    struct cc_info *d = &devs[ndevs++];
    const struct cc_info *t = NULL;
    for (size_t i = 0; i < sizeof cc_table / sizeof cc_table[0]; i++)
      if (cc_table[i].major == major && cc_table[i].minor == minor)
        t = &cc_table[i];
    if (t) {
      *d = *t;
    } else {                      /* a CC not in the table: plausible defaults */
      struct cc_info x = {major, minor, 80, major >= 9 ? 227 * 1024 : 99 * 1024,
                          major >= 9 ? 228 * 1024 : 100 * 1024, 1536, 1500000, 5000000, 384,
                          32 << 20};
      *d = x;
    }
  }
  return 0;
}

static int parse_mem(const char *s, size_t *out) {
  if (!s || !*s) {
    *out = DEFAULT_MEM;
    return 0;
  }
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  int shift = 0;
  if (*end == 'k' || *end == 'K')
    shift = 10;
  else if (*end == 'm' || *end == 'M')
    shift = 20;
  else if (*end == 'g' || *end == 'G')
    shift = 30;
  if (shift)
    end++;
  if (end == s || *end || v == 0 || v > (SIZE_MAX >> 2) >> shift)
    return -1;
  *out = (size_t)v << shift;
  return 0;
}

static void ctx_reset(struct ctx *c);

CUresult emu_Init(unsigned flags) {
  CUresult r = CUDA_SUCCESS;
  char why[256];
  LOCK();
  if (flags != 0) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuInit: flags must be 0");
  } else if (!initialized) {
    const char *l = getenv("GLLMK_CUDAEMU_LOG");
    log_errors = l && *l && strcmp(l, "0") != 0;
    if (parse_devices(getenv("GLLMK_CUDAEMU_DEVICES"), why, sizeof why) < 0) {
      r = seterr(CUDA_ERROR_INVALID_VALUE, "%s", why);
      ndevs = 0;
    } else if (parse_mem(getenv("GLLMK_CUDAEMU_MEM"), &mem_total) < 0) {
      r = seterr(CUDA_ERROR_INVALID_VALUE, "GLLMK_CUDAEMU_MEM: expected a number of bytes (k, M, G suffixes)");
      ndevs = 0;
    } else if (ndevs == 0) {
      r = seterr(CUDA_ERROR_NO_DEVICE, "no emulated device (GLLMK_CUDAEMU_DEVICES is empty)");
    } else {
      for (int i = 0; i < ndevs; i++) {
        memset(&ctxs[i], 0, sizeof ctxs[i]);
        ctxs[i].magic = CTX_MAGIC;
        ctxs[i].dev = i;
      }
      initialized = 1;
    }
  }
  UNLOCK();
  return r;
}

CUresult emu_DriverGetVersion(int *version) {
  if (!version)
    return CUDA_ERROR_INVALID_VALUE;
  *version = 13000;
  return CUDA_SUCCESS;
}

/* Checks for the device calls; returns the device or NULL with *r set. */
static const struct cc_info *device(CUdevice dev, CUresult *r) {
  if (!initialized) {
    *r = seterr(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called");
    return NULL;
  }
  if (dev < 0 || dev >= ndevs) {
    *r = seterr(CUDA_ERROR_INVALID_DEVICE, "device %d of %d", dev, ndevs);
    return NULL;
  }
  *r = CUDA_SUCCESS;
  return &devs[dev];
}

CUresult emu_DeviceGetCount(int *count) {
  CUresult r = CUDA_SUCCESS;
  LOCK();
  if (!initialized)
    r = seterr(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called");
  else if (!count)
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetCount: NULL");
  else
    *count = ndevs;
  UNLOCK();
  return r;
}

CUresult emu_DeviceGet(CUdevice *dev, int ordinal) {
  CUresult r;
  LOCK();
  if (device(ordinal, &r)) {
    if (!dev)
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDeviceGet: NULL");
    else
      *dev = ordinal;
  }
  UNLOCK();
  return r;
}

CUresult emu_DeviceGetName(char *name, int len, CUdevice dev) {
  CUresult r;
  LOCK();
  const struct cc_info *d = device(dev, &r);
  if (d) {
    if (!name || len <= 0)
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetName: no buffer");
    else
      snprintf(name, (size_t)len, "gllmk emulated device (sm_%d%d)", d->major, d->minor);
  }
  UNLOCK();
  return r;
}

static int device_attribute(const struct cc_info *d, int attrib, int *v) {
  switch (attrib) {
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = MAX_THREADS; break;
  case ATTR_MAX_BLOCK_DIM_X: case ATTR_MAX_BLOCK_DIM_Y: *v = MAX_BLOCK_XY; break;
  case ATTR_MAX_BLOCK_DIM_Z: *v = MAX_BLOCK_Z; break;
  case ATTR_MAX_GRID_DIM_X: *v = MAX_GRID_X; break;
  case ATTR_MAX_GRID_DIM_Y: case ATTR_MAX_GRID_DIM_Z: *v = MAX_GRID_YZ; break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = DEFAULT_SMEM; break;
  case ATTR_TOTAL_CONSTANT_MEMORY: *v = 64 * 1024; break;
  case ATTR_WARP_SIZE: *v = 32; break;
  case ATTR_MAX_REGISTERS_PER_BLOCK: case ATTR_MAX_REGISTERS_PER_MULTIPROCESSOR: *v = REGS_PER_SM; break;
  case ATTR_CLOCK_RATE: *v = d->clock_khz; break;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = d->sms; break;
  case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *v = d->mem_clock_khz; break;
  case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *v = d->bus_width; break;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *v = d->l2_bytes; break;
  case ATTR_MAX_THREADS_PER_MULTIPROCESSOR: *v = d->threads_per_sm; break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = d->major; break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = d->minor; break;
  case ATTR_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *v = d->smem_per_sm; break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = d->optin_smem; break;
  case ATTR_RESERVED_SHARED_MEMORY_PER_BLOCK: *v = d->major >= 8 ? 1024 : 0; break;
  default: return -1;
  }
  return 0;
}

CUresult emu_DeviceGetAttribute(int *v, int attrib, CUdevice dev) {
  CUresult r;
  LOCK();
  const struct cc_info *d = device(dev, &r);
  if (d) {
    if (!v)
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute: NULL");
    else if (device_attribute(d, attrib, v) < 0)
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute: attribute %d is not emulated", attrib);
  }
  UNLOCK();
  return r;
}

CUresult emu_DeviceTotalMem(size_t *bytes, CUdevice dev) {
  CUresult r;
  LOCK();
  if (device(dev, &r)) {
    if (!bytes)
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDeviceTotalMem: NULL");
    else
      *bytes = mem_total;
  }
  UNLOCK();
  return r;
}

/* --------------------------------------------------------------- contexts */

CUresult emu_DevicePrimaryCtxRetain(CUcontext *ctx, CUdevice dev) {
  CUresult r;
  LOCK();
  if (device(dev, &r)) {
    if (!ctx) {
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuDevicePrimaryCtxRetain: NULL");
    } else {
      ctxs[dev].refcount++;
      *ctx = (CUcontext)&ctxs[dev];
    }
  }
  UNLOCK();
  return r;
}

CUresult emu_DevicePrimaryCtxRelease(CUdevice dev) {
  CUresult r;
  LOCK();
  if (device(dev, &r)) {
    struct ctx *c = &ctxs[dev];
    if (c->refcount == 0)
      r = seterr(CUDA_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease: the primary context of "
                 "device %d is not retained", dev);
    else if (--c->refcount == 0)
      ctx_reset(c);
  }
  UNLOCK();
  return r;
}

/* The context of a handle, or NULL. */
static struct ctx *ctx_of(CUcontext h) {
  for (int i = 0; i < ndevs; i++)
    if ((struct ctx *)h == &ctxs[i])
      return &ctxs[i];
  return NULL;
}

CUresult emu_CtxSetCurrent(CUcontext ctx) {
  CUresult r = CUDA_SUCCESS;
  LOCK();
  if (!initialized) {
    r = seterr(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called");
  } else if (!ctx) {
    current = NULL;
  } else {
    struct ctx *c = ctx_of(ctx);
    if (!c || c->refcount == 0)
      r = seterr(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent: not an active context");
    else
      current = c;
  }
  UNLOCK();
  return r;
}

CUresult emu_CtxGetCurrent(CUcontext *ctx) {
  CUresult r = CUDA_SUCCESS;
  LOCK();
  if (!initialized)
    r = seterr(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called");
  else if (!ctx)
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuCtxGetCurrent: NULL");
  else
    *ctx = (CUcontext)current;
  UNLOCK();
  return r;
}

/* The checks of every call that works in the current context: initialized,
 * a current and active context, no sticky fault.  Call with the lock held. */
static CUresult enter(struct ctx **out) {
  struct ctx *c = current;
  *out = NULL;
  if (!initialized)
    return seterr(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called");
  if (!c)
    return seterr(CUDA_ERROR_INVALID_CONTEXT, "no current context (cuCtxSetCurrent)");
  if (c->refcount == 0)
    return seterr(CUDA_ERROR_INVALID_CONTEXT, "the current context was released");
  if (c->sticky)
    return seterr(c->sticky, "%s", c->sticky_msg);
  *out = c;
  return CUDA_SUCCESS;
}

/* ------------------------------------------------------------------ memory */

static unsigned char rz_byte(size_t i) { return (unsigned char)(0xc3 ^ (i * 37u) ^ (i >> 8)); }

static void rz_fill(unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = rz_byte(i);
}

/* Offset of the first corrupted byte of a red zone, or n. */
static size_t rz_check(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != rz_byte(i))
      return i;
  return n;
}

static size_t tail_size(const struct alloc *a) { return a->total - REDZONE - a->bytes; }

/* Nonzero when a's red zones are intact; else a description in why. */
static int alloc_intact(const struct alloc *a, char *why, size_t whylen) {
  unsigned char *head = a->base, *tail = (unsigned char *)a->user + a->bytes;
  size_t tn = tail_size(a);
  UNPOISON(head, REDZONE);
  UNPOISON(tail, tn);
  size_t h = rz_check(head, REDZONE), t = rz_check(tail, tn);
  POISON(head, REDZONE);
  POISON(tail, tn);
  if (h < REDZONE) {
    size_t last = REDZONE - 1;   /* the byte nearest to the allocation that differs */
    while (last > h && head[last] == rz_byte(last))
      last--;
    snprintf(why, whylen, "wrote before the start of allocation #%llu (0x%llx, %zu bytes): "
             "red zone bytes -%zu .. -%zu changed", a->id, (unsigned long long)a->user, a->bytes,
             REDZONE - h, REDZONE - last);
    return 0;
  }
  if (t < tn) {
    size_t last = tn - 1;
    while (last > t && tail[last] == rz_byte(last))
      last--;
    snprintf(why, whylen, "wrote past the end of allocation #%llu (0x%llx, %zu bytes): bytes "
             "+%zu .. +%zu after its end changed", a->id, (unsigned long long)a->user, a->bytes,
             t, last);
    return 0;
  }
  return 1;
}

/* Checks every allocation's red zones; a corruption is a sticky
 * CUDA_ERROR_ILLEGAL_ADDRESS blamed on `who` (a kernel name or a call). */
static void check_redzones(struct ctx *c, const char *who) {
  char why[512];
  for (size_t i = 0; i < c->nallocs && !c->sticky; i++)
    if (!alloc_intact(&c->allocs[i], why, sizeof why))
      fault(c, CUDA_ERROR_ILLEGAL_ADDRESS, "%s: %s", who, why);
}

static void alloc_release(struct alloc *a) {
  UNPOISON(a->base, a->total);
  free(a->base);
}

/* Index of the allocation holding address p, or -1. */
static long alloc_find(const struct ctx *c, uintptr_t p) {
  size_t lo = 0, hi = c->nallocs;
  while (lo < hi) {                    /* first allocation with user > p */
    size_t mid = lo + (hi - lo) / 2;
    if (c->allocs[mid].user <= p)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return -1;
  const struct alloc *a = &c->allocs[lo - 1];
  return p - a->user < a->bytes ? (long)(lo - 1) : -1;
}

/* CUDA_SUCCESS when [p, p + n) lies inside one live allocation. */
static CUresult check_range(const struct ctx *c, const char *call, const char *what, CUdeviceptr p,
                            size_t n) {
  long i = alloc_find(c, (uintptr_t)p);
  if (i < 0)
    return seterr(CUDA_ERROR_INVALID_VALUE, "%s: %s 0x%llx is not inside a live allocation", call,
                  what, (unsigned long long)p);
  const struct alloc *a = &c->allocs[i];
  if (n > a->bytes - (size_t)((uintptr_t)p - a->user))
    return seterr(CUDA_ERROR_INVALID_VALUE, "%s: %s range 0x%llx + %zu runs past the end of "
                  "allocation #%llu (0x%llx, %zu bytes)", call, what, (unsigned long long)p, n,
                  a->id, (unsigned long long)a->user, a->bytes);
  return CUDA_SUCCESS;
}

static int any_capture(const struct ctx *c) {
  for (const struct stream *s = c->streams; s; s = s->next)
    if (s->capturing)
      return 1;
  return 0;
}

/* An operation that may not run while a stream captures: every capture in
 * c is invalidated and the call fails. */
static CUresult refuse_in_capture(struct ctx *c, const char *call) {
  for (struct stream *s = c->streams; s; s = s->next)
    if (s->capturing)
      s->invalidated = 1;
  return seterr(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "%s while a stream is being captured "
                "(the capture is invalidated)", call);
}

CUresult emu_MemAlloc(CUdeviceptr *p, size_t bytes) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (r)
    goto out;
  if (any_capture(c)) {
    capture_alloc_attempts++;
    r = refuse_in_capture(c, "cuMemAlloc");
    goto out;
  }
  if (!p || bytes == 0) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc: %s", p ? "0 bytes" : "NULL");
    goto out;
  }
  if (bytes > mem_total - c->live_bytes || bytes > SIZE_MAX / 2) {
    r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc: %zu bytes, %zu of %zu free", bytes,
               mem_total - c->live_bytes, mem_total);
    goto out;
  }
  if (c->nallocs == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    struct alloc *na = realloc(c->allocs, cap * sizeof *na);
    if (!na) {
      r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc: host out of memory");
      goto out;
    }
    c->allocs = na;
    c->cap = cap;
  }
  size_t body = (bytes + ALLOC_ALIGN - 1) / ALLOC_ALIGN * ALLOC_ALIGN;
  struct alloc a = {NULL, 0, bytes, REDZONE + body + REDZONE, ++c->next_id};
  a.base = aligned_alloc(ALLOC_ALIGN, a.total);
  if (!a.base) {
    r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc: host out of memory for %zu bytes", bytes);
    goto out;
  }
  a.user = (uintptr_t)(a.base + REDZONE);
  memset(a.base + REDZONE, 0xff, bytes);      /* not zero: NaN in every float format */
  rz_fill(a.base, REDZONE);
  rz_fill(a.base + REDZONE + bytes, tail_size(&a));
  POISON(a.base, REDZONE);
  POISON(a.base + REDZONE + bytes, tail_size(&a));
  size_t i = c->nallocs;
  while (i > 0 && c->allocs[i - 1].user > a.user) {
    c->allocs[i] = c->allocs[i - 1];
    i--;
  }
  c->allocs[i] = a;
  c->nallocs++;
  c->live_bytes += bytes;
  *p = (CUdeviceptr)a.user;
out:
  UNLOCK();
  return r;
}

CUresult emu_MemFree(CUdeviceptr p) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (r)
    goto out;
  if (any_capture(c)) {
    r = refuse_in_capture(c, "cuMemFree");
    goto out;
  }
  long i = alloc_find(c, (uintptr_t)p);
  if (i < 0 || c->allocs[i].user != (uintptr_t)p) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuMemFree: 0x%llx is not a live allocation%s",
               (unsigned long long)p, i >= 0 ? " (it points inside one)" : "");
    goto out;
  }
  char why[512];
  if (!alloc_intact(&c->allocs[i], why, sizeof why)) {
    fault(c, CUDA_ERROR_ILLEGAL_ADDRESS, "found at cuMemFree: a kernel %s", why);
    r = c->sticky;
  }
  c->live_bytes -= c->allocs[i].bytes;
  alloc_release(&c->allocs[i]);
  memmove(&c->allocs[i], &c->allocs[i + 1], (c->nallocs - (size_t)i - 1) * sizeof c->allocs[0]);
  c->nallocs--;
out:
  UNLOCK();
  return r;
}

CUresult emu_MemGetInfo(size_t *free_bytes, size_t *total) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (!r && (!free_bytes || !total))
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuMemGetInfo: NULL");
  if (!r) {
    *free_bytes = mem_total - c->live_bytes;
    *total = mem_total;
  }
  UNLOCK();
  return r;
}

/* ----------------------------------------------------------------- streams */

/* The stream of a handle: NULL for the legacy stream (0, CU_STREAM_LEGACY,
 * CU_STREAM_PER_THREAD). */
static CUresult stream_of(struct ctx *c, CUstream h, struct stream **out, const char *call) {
  *out = NULL;
  if ((uintptr_t)h <= 2)
    return CUDA_SUCCESS;
  for (struct stream *s = c->streams; s; s = s->next)
    if (s == (struct stream *)h) {
      *out = s;
      return CUDA_SUCCESS;
    }
  return seterr(CUDA_ERROR_INVALID_HANDLE, "%s: not a stream of the current context", call);
}

/* What an operation on stream s must do about captures: 0 run it now, 1
 * record it into s's capture, or an error (the capture invalidated). */
static CUresult capture_state(struct ctx *c, struct stream *s, int recordable, const char *call,
                              int *record) {
  *record = 0;
  if (s && s->capturing) {
    if (s->invalidated)
      return seterr(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "%s: the capture of this stream was "
                    "invalidated by an earlier error", call);
    if (!recordable) {
      s->invalidated = 1;
      return seterr(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "%s cannot be captured (pageable host "
                    "memory or a synchronization): the capture is invalidated", call);
    }
    *record = 1;
    return CUDA_SUCCESS;
  }
  if (!s) {        /* the legacy stream waits for every blocking stream */
    int hit = 0;
    for (struct stream *o = c->streams; o; o = o->next)
      if (o->capturing && !(o->flags & CU_STREAM_NON_BLOCKING)) {
        o->invalidated = 1;
        hit = 1;
      }
    if (hit)
      return seterr(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "%s on the legacy stream while a "
                    "blocking stream is being captured (the capture is invalidated)", call);
  }
  return CUDA_SUCCESS;
}

static CUresult graph_add(struct graph *g, const struct node *n) {
  if (g->n == g->cap) {
    int cap = g->cap ? 2 * g->cap : 16;
    struct node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
    if (!nn)
      return seterr(CUDA_ERROR_OUT_OF_MEMORY, "graph: host out of memory");
    g->nodes = nn;
    g->cap = cap;
  }
  g->nodes[g->n++] = *n;
  return CUDA_SUCCESS;
}

static void graph_free(struct graph *g) {
  for (int i = 0; i < g->n; i++)
    free(g->nodes[i].params);
  free(g->nodes);
  free(g);
}

CUresult emu_StreamCreate(CUstream *s, unsigned flags) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (!r && (!s || (flags & ~(unsigned)CU_STREAM_NON_BLOCKING)))
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuStreamCreate: %s", s ? "unknown flags" : "NULL");
  if (!r) {
    struct stream *n = calloc(1, sizeof *n);
    if (!n) {
      r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuStreamCreate: host out of memory");
    } else {
      n->ctx = c;
      n->flags = flags;
      n->next = c->streams;
      c->streams = n;
      *s = (CUstream)n;
    }
  }
  UNLOCK();
  return r;
}

CUresult emu_StreamDestroy(CUstream h) {
  struct ctx *c;
  struct stream *s = NULL;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = stream_of(c, h, &s, "cuStreamDestroy");
  if (!r && !s)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy: the legacy stream");
  if (!r && s->capturing) {
    s->invalidated = 1;
    r = seterr(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamDestroy of a capturing stream");
  }
  if (!r) {
    for (struct stream **pp = &c->streams; *pp; pp = &(*pp)->next)
      if (*pp == s) {
        *pp = s->next;
        break;
      }
    free(s);
  }
  UNLOCK();
  return r;
}

/* Synchronizing: forbidden while any stream of the context captures (the
 * real driver forbids it for the captured stream, the legacy stream and,
 * in the global capture mode, as a "potentially unsafe" call elsewhere;
 * this is stricter for the relaxed mode).  A capture already invalidated
 * answers CUDA_ERROR_STREAM_CAPTURE_INVALIDATED for its own stream. */
static CUresult sync_checks(struct ctx *c, struct stream *s, const char *call) {
  if (s && s->capturing && s->invalidated)
    return seterr(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "%s: the capture of this stream was "
                  "invalidated by an earlier error", call);
  if (any_capture(c))
    return refuse_in_capture(c, call);
  check_redzones(c, call);
  return c->sticky ? seterr(c->sticky, "%s", c->sticky_msg) : CUDA_SUCCESS;
}

CUresult emu_StreamSynchronize(CUstream h) {
  struct ctx *c;
  struct stream *s;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = stream_of(c, h, &s, "cuStreamSynchronize");
  if (!r)
    r = sync_checks(c, s, "cuStreamSynchronize");
  UNLOCK();
  return r;
}

CUresult emu_CtxSynchronize(void) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = sync_checks(c, NULL, "cuCtxSynchronize");
  UNLOCK();
  return r;
}

CUresult emu_StreamBeginCapture(CUstream h, int mode) {
  struct ctx *c;
  struct stream *s;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = stream_of(c, h, &s, "cuStreamBeginCapture");
  if (r)
    goto out;
  if (!s) {
    r = seterr(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamBeginCapture: the legacy stream "
               "cannot be captured");
  } else if (mode != CU_STREAM_CAPTURE_MODE_GLOBAL && mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
             mode != CU_STREAM_CAPTURE_MODE_RELAXED) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuStreamBeginCapture: mode %d", mode);
  } else if (s->capturing) {
    r = seterr(CUDA_ERROR_ILLEGAL_STATE_, "cuStreamBeginCapture: the stream is already capturing");
  } else if (!(s->capture = calloc(1, sizeof *s->capture))) {
    r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuStreamBeginCapture: host out of memory");
  } else {
    s->capture->ctx = c;
    s->capturing = 1;
    s->invalidated = 0;
    s->mode = mode;
    s->owner = pthread_self();
  }
out:
  UNLOCK();
  return r;
}

CUresult emu_StreamEndCapture(CUstream h, CUgraph *g) {
  struct ctx *c;
  struct stream *s;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = stream_of(c, h, &s, "cuStreamEndCapture");
  if (r)
    goto out;
  if (!g) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuStreamEndCapture: NULL");
  } else if (!s || !s->capturing) {
    r = seterr(CUDA_ERROR_ILLEGAL_STATE_, "cuStreamEndCapture: the stream is not capturing");
  } else if (s->mode != CU_STREAM_CAPTURE_MODE_RELAXED && !pthread_equal(s->owner, pthread_self())) {
    r = seterr(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "cuStreamEndCapture: the capture was begun "
               "by another thread");
  } else {
    struct graph *gr = s->capture;
    s->capture = NULL;
    s->capturing = 0;
    *g = NULL;
    if (s->invalidated) {
      s->invalidated = 0;
      graph_free(gr);
      r = seterr(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "cuStreamEndCapture: the capture was "
                 "invalidated by an earlier error");
    } else {
      gr->next = c->graphs;
      c->graphs = gr;
      *g = (CUgraph)gr;
    }
  }
out:
  UNLOCK();
  return r;
}

CUresult emu_StreamIsCapturing(CUstream h, int *status) {
  struct ctx *c;
  struct stream *s;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = stream_of(c, h, &s, "cuStreamIsCapturing");
  if (!r && !status)
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuStreamIsCapturing: NULL");
  if (!r)
    *status = !s || !s->capturing ? CU_STREAM_CAPTURE_STATUS_NONE
              : s->invalidated    ? CU_STREAM_CAPTURE_STATUS_INVALIDATED
                                  : CU_STREAM_CAPTURE_STATUS_ACTIVE;
  UNLOCK();
  return r;
}

/* ------------------------------------------------------------------ copies */

enum { OP_HTOD, OP_DTOH, OP_DTOD, OP_MEMSET };

/* The four copies and sets: checks, then runs at once or records. */
static CUresult memop(int op, CUdeviceptr dst, CUdeviceptr src, void *hdst, const void *hsrc,
                      size_t n, unsigned char value, CUstream h, const char *call) {
  struct ctx *c;
  struct stream *s;
  int record;
  LOCK();
  CUresult r = enter(&c);
  if (!r)
    r = stream_of(c, h, &s, call);
  /* host memory here is pageable: copies from and to it are not captured */
  if (!r)
    r = capture_state(c, s, op == OP_DTOD || op == OP_MEMSET, call, &record);
  if (r || n == 0)
    goto out;
  if ((op == OP_HTOD && !hsrc) || (op == OP_DTOH && !hdst)) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "%s: NULL host pointer", call);
    goto out;
  }
  if (op != OP_DTOH && (r = check_range(c, call, "destination", dst, n)))
    goto out;
  if ((op == OP_DTOH || op == OP_DTOD) && (r = check_range(c, call, "source", src, n)))
    goto out;
  if (record) {
    struct node nd = {op == OP_DTOD ? NODE_COPY : NODE_MEMSET, NULL, {0, 0, 0}, {0, 0, 0}, 0,
                      NULL, dst, src, n, value};
    r = graph_add(s->capture, &nd);
  } else if (op == OP_HTOD) {
    memcpy((void *)(uintptr_t)dst, hsrc, n);
  } else if (op == OP_DTOH) {
    memcpy(hdst, (const void *)(uintptr_t)src, n);
  } else if (op == OP_DTOD) {
    memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
  } else {
    memset((void *)(uintptr_t)dst, value, n);
  }
out:
  UNLOCK();
  return r;
}

CUresult emu_MemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes, CUstream s) {
  return memop(OP_HTOD, dst, 0, NULL, src, bytes, 0, s, "cuMemcpyHtoDAsync");
}

CUresult emu_MemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes, CUstream s) {
  return memop(OP_DTOH, 0, src, dst, NULL, bytes, 0, s, "cuMemcpyDtoHAsync");
}

CUresult emu_MemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s) {
  return memop(OP_DTOD, dst, src, NULL, NULL, bytes, 0, s, "cuMemcpyDtoDAsync");
}

CUresult emu_MemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream s) {
  return memop(OP_MEMSET, dst, 0, NULL, NULL, n, v, s, "cuMemsetD8Async");
}

/* ----------------------------------------------------------------- modules */

static struct module *module_of(struct ctx *c, CUmodule h) {
  for (struct module *m = c->modules; m; m = m->next)
    if (m == (struct module *)h)
      return m;
  return NULL;
}

/* The function of a handle (a live module's function in context c), or NULL;
 * only pointers are compared, so a stale handle is never dereferenced. */
static struct func *func_of(struct ctx *c, CUfunction h) {
  uintptr_t p = (uintptr_t)h;
  for (struct module *m = c->modules; m; m = m->next) {
    uintptr_t lo = (uintptr_t)m->funcs, hi = lo + (size_t)m->cubin.nkernels * sizeof *m->funcs;
    if (m->funcs && p >= lo && p < hi && (p - lo) % sizeof *m->funcs == 0)
      return ((struct func *)h)->emu ? (struct func *)h : NULL;
  }
  return NULL;
}

static void module_free(struct module *m) {
  gk_fb_cubin_free(&m->cubin);
  free(m->funcs);
  m->magic = 0;
  free(m);
}

/* Threads per block that the register file allows at regs per thread
 * (registers are allocated per warp in units of 256). */
static int threads_for_regs(int regs) {
  if (regs <= 0)
    return MAX_THREADS;
  int per_warp = (regs * 32 + 255) / 256 * 256;
  int warps = REGS_PER_SM / per_warp;
  return warps * 32 < MAX_THREADS ? warps * 32 : MAX_THREADS;
}

CUresult emu_ModuleLoadData(CUmodule *mod, const void *image) {
  struct ctx *c;
  char why[512];
  gk_fb_entry *e = NULL;
  struct module *m = NULL;
  LOCK();
  CUresult r = enter(&c);
  if (r)
    goto out;
  if (!mod || !image) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuModuleLoadData: NULL");
    goto out;
  }
  const struct cc_info *d = &devs[c->dev];
  size_t size;
  int n, pick;
  if (gk_fb_image_size(image, &size, why, sizeof why) != GK_FB_OK ||
      gk_fb_entries(image, size, NULL, 0, &n, why, sizeof why) != GK_FB_OK) {
    r = seterr(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: %s", why);
    goto out;
  }
  if (!(e = calloc((size_t)n, sizeof *e)) || !(m = calloc(1, sizeof *m))) {
    r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuModuleLoadData: host out of memory");
    goto out;
  }
  gk_fb_entries(image, size, e, n, &n, why, sizeof why);
  if (gk_fb_select(e, n, d->major, d->minor, &pick, why, sizeof why) != GK_FB_OK) {
    r = seterr(CUDA_ERROR_NO_BINARY_FOR_GPU, "cuModuleLoadData: %s", why);
    goto out;
  }
  int rc = gk_fb_cubin_parse(e[pick].data, e[pick].size, &m->cubin, why, sizeof why);
  if (rc != GK_FB_OK) {
    r = seterr(rc == GK_FB_E_NOMEM ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_ERROR_INVALID_IMAGE,
               "cuModuleLoadData: the sm_%u cubin: %s", e[pick].sm, why);
    goto out;
  }
  if (m->cubin.nkernels &&
      !(m->funcs = calloc((size_t)m->cubin.nkernels, sizeof *m->funcs))) {
    r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuModuleLoadData: host out of memory");
    goto out;
  }
  for (int i = 0; i < m->cubin.nkernels; i++) {
    struct func *f = &m->funcs[i];
    const gk_fb_kernel *k = &m->cubin.kernels[i];
    f->mod = m;
    f->k = k;
    f->max_dyn_smem = k->shared_bytes < DEFAULT_SMEM ? DEFAULT_SMEM - (int)k->shared_bytes : 0;
    f->max_threads = threads_for_regs(k->regs);
    f->bounded_by_regs = f->max_threads < MAX_THREADS;
    if (k->max_threads && (int)k->max_threads < f->max_threads) {
      f->max_threads = (int)k->max_threads;
      f->bounded_by_regs = 0;
    }
  }
  m->magic = MOD_MAGIC;
  m->ctx = c;
  m->next = c->modules;
  c->modules = m;
  *mod = (CUmodule)m;
  m = NULL;
out:
  if (m)
    module_free(m);
  free(e);
  UNLOCK();
  return r;
}

CUresult emu_ModuleUnload(CUmodule h) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (!r) {
    struct module **pp = &c->modules;
    while (*pp && *pp != (struct module *)h)
      pp = &(*pp)->next;
    if (!*pp) {
      r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload: not a loaded module");
    } else {
      struct module *m = *pp;
      *pp = m->next;
      module_free(m);
    }
  }
  UNLOCK();
  return r;
}

CUresult emu_ModuleGetFunction(CUfunction *f, CUmodule h, const char *name) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  if (r)
    goto out;
  struct module *m = module_of(c, h);
  if (!m) {
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetFunction: not a loaded module");
    goto out;
  }
  if (!f || !name) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuModuleGetFunction: NULL");
    goto out;
  }
  int i = 0;
  while (i < m->cubin.nkernels && strcmp(m->cubin.kernels[i].name, name) != 0)
    i++;
  if (i == m->cubin.nkernels) {
    r = seterr(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction: no kernel %s in the sm_%u cubin", name,
               m->cubin.sm);
    goto out;
  }
  struct func *fn = &m->funcs[i];
  const gk_fb_kernel *k = fn->k;
  const gk_emu_kernel *emu = gk_emu_kernel_find(name);
  if (!emu) {
    r = seterr(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction: kernel %s is in the cubin but not "
               "registered with the execution harness (no GK_EXPORT, or its .cu is not compiled "
               "into the test driver)", name);
    goto out;
  }
  if (emu->nparams != k->nparams) {
    r = seterr(CUDA_ERROR_INVALID_IMAGE, "cuModuleGetFunction: kernel %s has %d parameters in "
               "the sm_%u cubin but %d in the harness", name, k->nparams, m->cubin.sm,
               emu->nparams);
    goto out;
  }
  for (int j = 0; j < k->nparams; j++) {
    unsigned al = emu->param_align[j] ? emu->param_align[j] : 1;
    if (emu->param_size[j] != k->params[j].size) {
      r = seterr(CUDA_ERROR_INVALID_IMAGE, "cuModuleGetFunction: kernel %s parameter %d is %u "
                 "bytes in the sm_%u cubin but %u in the harness", name, j, k->params[j].size,
                 m->cubin.sm, emu->param_size[j]);
      goto out;
    }
    if (k->params[j].offset % al) {
      r = seterr(CUDA_ERROR_INVALID_IMAGE, "cuModuleGetFunction: kernel %s parameter %d is at "
                 "offset %u in the sm_%u cubin, not a multiple of its alignment %u", name, j,
                 k->params[j].offset, m->cubin.sm, al);
      goto out;
    }
  }
  fn->emu = emu;
  *f = (CUfunction)fn;
out:
  UNLOCK();
  return r;
}

CUresult emu_FuncGetAttribute(int *v, int attrib, CUfunction h) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  struct func *f = r ? NULL : func_of(c, h);
  if (!r && !f)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuFuncGetAttribute: not a function of a loaded module");
  if (!r && !v)
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuFuncGetAttribute: NULL");
  if (r)
    goto out;
  switch (attrib) {
  case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = f->max_threads; break;
  case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *v = (int)f->k->shared_bytes; break;
  case FUNC_ATTR_CONST_SIZE_BYTES: *v = 0; break;
  case FUNC_ATTR_LOCAL_SIZE_BYTES: *v = 0; break;
  case CU_FUNC_ATTRIBUTE_NUM_REGS: *v = f->k->regs; break;
  case FUNC_ATTR_PTX_VERSION: *v = 0; break;
  case FUNC_ATTR_BINARY_VERSION: *v = (int)f->mod->cubin.sm; break;
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *v = f->max_dyn_smem; break;
  default:
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuFuncGetAttribute: attribute %d is not emulated", attrib);
  }
out:
  UNLOCK();
  return r;
}

CUresult emu_FuncSetAttribute(CUfunction h, int attrib, int v) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  struct func *f = r ? NULL : func_of(c, h);
  if (!r && !f)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuFuncSetAttribute: not a function of a loaded module");
  if (r)
    goto out;
  if (attrib != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuFuncSetAttribute: attribute %d is not settable here",
               attrib);
  } else {
    const struct cc_info *d = &devs[c->dev];
    if (v < 0 || (long long)v + f->k->shared_bytes > d->optin_smem)
      r = seterr(CUDA_ERROR_INVALID_VALUE, "cuFuncSetAttribute: %s: %d bytes of dynamic shared "
                 "memory + %u static > %d, the opt-in limit of sm_%d%d", f->k->name, v,
                 f->k->shared_bytes, d->optin_smem, d->major, d->minor);
    else
      f->max_dyn_smem = v;
  }
out:
  UNLOCK();
  return r;
}

/* ----------------------------------------------------------------- launches */

/* Runs a kernel now.  A fault of the kernel becomes the context's sticky
 * error; the return value is CUDA_SUCCESS then, or a non-sticky refusal. */
static CUresult run_kernel(struct ctx *c, struct func *f, const unsigned grid[3],
                           const unsigned block[3], unsigned smem, unsigned char *params) {
  void *small[32], **ptrs = small;
  char msg[MSG_LEN];
  if (f->k->nparams > 32 && !(ptrs = malloc((size_t)f->k->nparams * sizeof *ptrs)))
    return seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuLaunchKernel: host out of memory");
  for (int i = 0; i < f->k->nparams; i++)
    ptrs[i] = params + f->k->params[i].offset;
  msg[0] = 0;
  int rc = gk_emu_launch(f->emu, grid, block, smem, ptrs, msg, sizeof msg);
  if (ptrs != small)
    free(ptrs);
  switch (rc) {
  case GK_EMU_OK:
    check_redzones(c, f->k->name);
    return CUDA_SUCCESS;
  case GK_EMU_E_CONFIG:
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel: the harness refused: %s", msg);
  case GK_EMU_E_NOMEM:
    return seterr(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "cuLaunchKernel: the harness is out of "
                  "memory: %s", msg);
  case GK_EMU_E_BARRIER:
  case GK_EMU_E_RACE:
  case GK_EMU_E_WARP:
    fault(c, CUDA_ERROR_LAUNCH_FAILED, "%s", msg);
    break;
  case GK_EMU_E_TRAP:
    fault(c, strstr(msg, "assert") ? CUDA_ERROR_ASSERT_ : CUDA_ERROR_ILLEGAL_INSTRUCTION, "%s", msg);
    break;
  default:
    fault(c, CUDA_ERROR_UNKNOWN, "%s: the harness returned %d: %s", f->k->name, rc, msg);
    break;
  }
  check_redzones(c, f->k->name);
  return CUDA_SUCCESS;
}

/* The checks of the driver before a launch; then marshals the arguments
 * into a new parameter block laid out as the cubin says. */
static CUresult launch_prepare(struct func *f, const unsigned grid[3],
                               const unsigned block[3], unsigned smem, void **params, void **extra,
                               unsigned char **block_out) {
  const gk_fb_kernel *k = f->k;
  unsigned long long threads = (unsigned long long)block[0] * block[1] * block[2];
  *block_out = NULL;
  if (extra)
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): the extra argument is not "
                  "supported by the emulated driver (pass kernelParams)", k->name);
  if (!grid[0] || !grid[1] || !grid[2] || grid[0] > MAX_GRID_X || grid[1] > MAX_GRID_YZ ||
      grid[2] > MAX_GRID_YZ)
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): grid %ux%ux%u", k->name, grid[0],
                  grid[1], grid[2]);
  if (!block[0] || !block[1] || !block[2] || block[0] > MAX_BLOCK_XY || block[1] > MAX_BLOCK_XY ||
      block[2] > MAX_BLOCK_Z || threads > MAX_THREADS)
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): block %ux%ux%u", k->name,
                  block[0], block[1], block[2]);
  if (k->reqntid[0] && (block[0] != k->reqntid[0] || block[1] != k->reqntid[1] ||
                        block[2] != k->reqntid[2]))
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): block %ux%ux%u, the kernel "
                  "requires %ux%ux%u", k->name, block[0], block[1], block[2], k->reqntid[0],
                  k->reqntid[1], k->reqntid[2]);
  if (threads > (unsigned long long)f->max_threads)
    return seterr(f->bounded_by_regs ? CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES : CUDA_ERROR_INVALID_VALUE,
                  "cuLaunchKernel(%s): %llu threads per block, the kernel allows %d (%s)", k->name,
                  threads, f->max_threads, f->bounded_by_regs ? "registers" : "__launch_bounds__");
  if ((long long)smem > f->max_dyn_smem)
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): %u bytes of dynamic shared "
                  "memory + %u static; without cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) "
                  "the limit is %d dynamic", k->name, smem, k->shared_bytes, f->max_dyn_smem);
  if (k->nparams && !params)
    return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): kernelParams is NULL, the "
                  "kernel has %d parameters", k->name, k->nparams);
  unsigned char *buf = calloc(1, k->param_bytes + 16);
  if (!buf)
    return seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuLaunchKernel: host out of memory");
  for (int i = 0; i < k->nparams; i++) {
    if (!params[i]) {
      free(buf);
      return seterr(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): kernelParams[%d] is NULL",
                    k->name, i);
    }
    memcpy(buf + k->params[i].offset, params[i], k->params[i].size);
  }
  *block_out = buf;
  return CUDA_SUCCESS;
}

CUresult emu_LaunchKernel(CUfunction h, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                          unsigned by, unsigned bz, unsigned smem, CUstream hs, void **params,
                          void **extra) {
  struct ctx *c;
  struct stream *s;
  unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  unsigned char *buf = NULL;
  int record;
  LOCK();
  CUresult r = enter(&c);
  if (r)
    goto out;
  struct func *f = func_of(c, h);
  if (!f) {
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel: not a function of a loaded module "
               "of the current context");
    goto out;
  }
  if ((r = stream_of(c, hs, &s, "cuLaunchKernel")) ||
      (r = capture_state(c, s, 1, "cuLaunchKernel", &record)) ||
      (r = launch_prepare(f, grid, block, smem, params, extra, &buf)))
    goto out;
  if (record) {
    struct node nd = {NODE_KERNEL, f, {gx, gy, gz}, {bx, by, bz}, smem, buf, 0, 0, 0, 0};
    if (!(r = graph_add(s->capture, &nd)))
      buf = NULL;
  } else {
    r = run_kernel(c, f, grid, block, smem, buf);
  }
out:
  free(buf);
  UNLOCK();
  return r;
}

/* ------------------------------------------------------------------ graphs */

static struct graph *graph_of(struct ctx *c, void *h, int exec) {
  for (struct graph *g = c->graphs; g; g = g->next)
    if (g == (struct graph *)h && g->exec == exec)
      return g;
  return NULL;
}

static void graph_unlink(struct ctx *c, struct graph *g) {
  for (struct graph **pp = &c->graphs; *pp; pp = &(*pp)->next)
    if (*pp == g) {
      *pp = g->next;
      return;
    }
}

CUresult emu_GraphInstantiate(CUgraphExec *e, CUgraph h, unsigned long long flags) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  struct graph *g = r ? NULL : graph_of(c, h, 0);
  if (!r && !g)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuGraphInstantiate: not a graph of the current context");
  if (!r && (!e || (flags & ~15ull)))
    r = seterr(CUDA_ERROR_INVALID_VALUE, "cuGraphInstantiate: %s", e ? "unknown flags" : "NULL");
  if (r)
    goto out;
  struct graph *x = calloc(1, sizeof *x);
  if (!x) {
    r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuGraphInstantiate: host out of memory");
    goto out;
  }
  x->ctx = c;
  x->exec = 1;
  for (int i = 0; i < g->n && !r; i++) {
    struct node nd = g->nodes[i];
    if (nd.params) {
      size_t n = nd.f->k->param_bytes + 16;
      unsigned char *p = malloc(n);
      if (!p) {
        r = seterr(CUDA_ERROR_OUT_OF_MEMORY, "cuGraphInstantiate: host out of memory");
        break;
      }
      memcpy(p, nd.params, n);
      nd.params = p;
    }
    if ((r = graph_add(x, &nd)))
      free(nd.params);
  }
  if (r) {
    graph_free(x);
    goto out;
  }
  x->next = c->graphs;
  c->graphs = x;
  *e = (CUgraphExec)x;
out:
  UNLOCK();
  return r;
}

CUresult emu_GraphLaunch(CUgraphExec h, CUstream hs) {
  struct ctx *c;
  struct stream *s;
  int record;
  LOCK();
  CUresult r = enter(&c);
  struct graph *x = r ? NULL : graph_of(c, h, 1);
  if (!r && !x)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuGraphLaunch: not an instantiated graph of the "
               "current context");
  if (!r)
    r = stream_of(c, hs, &s, "cuGraphLaunch");
  if (!r)
    r = capture_state(c, s, 0, "cuGraphLaunch", &record);
  for (int i = 0; !r && !c->sticky && i < x->n; i++) {
    struct node *nd = &x->nodes[i];
    if (nd->type == NODE_KERNEL) {
      if (func_of(c, (CUfunction)nd->f) != nd->f) {
        r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuGraphLaunch: node %d's kernel was unloaded", i);
        break;
      }
      r = run_kernel(c, nd->f, nd->grid, nd->block, nd->smem, nd->params);
      continue;
    }
    char what[64];
    snprintf(what, sizeof what, "node %d's destination", i);
    if (check_range(c, "cuGraphLaunch", what, nd->dst, nd->bytes) ||
        (nd->type == NODE_COPY && check_range(c, "cuGraphLaunch", "a copy's source", nd->src, nd->bytes))) {
      fault(c, CUDA_ERROR_ILLEGAL_ADDRESS, "%s (freed since the capture?)", last_err);
      break;
    }
    if (nd->type == NODE_COPY)
      memmove((void *)(uintptr_t)nd->dst, (const void *)(uintptr_t)nd->src, nd->bytes);
    else
      memset((void *)(uintptr_t)nd->dst, nd->value, nd->bytes);
  }
  UNLOCK();
  return r;
}

CUresult emu_GraphExecDestroy(CUgraphExec h) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  struct graph *x = r ? NULL : graph_of(c, h, 1);
  if (!r && !x)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuGraphExecDestroy: not an instantiated graph");
  if (!r) {
    graph_unlink(c, x);
    graph_free(x);
  }
  UNLOCK();
  return r;
}

CUresult emu_GraphDestroy(CUgraph h) {
  struct ctx *c;
  LOCK();
  CUresult r = enter(&c);
  struct graph *g = r ? NULL : graph_of(c, h, 0);
  if (!r && !g)
    r = seterr(CUDA_ERROR_INVALID_HANDLE, "cuGraphDestroy: not a graph");
  if (!r) {
    graph_unlink(c, g);
    graph_free(g);
  }
  UNLOCK();
  return r;
}

/* ------------------------------------------------------ teardown and hooks */

/* The primary context's refcount dropped to 0: everything in it goes, and
 * so does a sticky fault. */
static void ctx_reset(struct ctx *c) {
  for (size_t i = 0; i < c->nallocs; i++)
    alloc_release(&c->allocs[i]);
  free(c->allocs);
  while (c->modules) {
    struct module *m = c->modules;
    c->modules = m->next;
    module_free(m);
  }
  while (c->streams) {
    struct stream *s = c->streams;
    c->streams = s->next;
    if (s->capture)
      graph_free(s->capture);
    free(s);
  }
  while (c->graphs) {
    struct graph *g = c->graphs;
    c->graphs = g->next;
    graph_free(g);
  }
  int dev = c->dev, refcount = c->refcount;
  memset(c, 0, sizeof *c);
  c->magic = CTX_MAGIC;
  c->dev = dev;
  c->refcount = refcount;
}

const char *gk_emu_last_error(void) {
  LOCK();
  memcpy(last_err_copy, last_err, sizeof last_err_copy);
  UNLOCK();
  return last_err_copy;
}

int gk_emu_capture_alloc_attempts(void) {
  LOCK();
  int n = capture_alloc_attempts;
  UNLOCK();
  return n;
}

/* Nonzero when the harness checks kernel `kernel` for shared-memory races
 * (its .cu compiled with the race instrumentation; not in the ASan lane). */
int gk_emu_race_checked(const char *kernel) {
  const gk_emu_kernel *k = kernel ? gk_emu_kernel_find(kernel) : NULL;
  return k && gk_emu_kernel_race_checked(k);
}

/* Back to the state before cuInit: every context is torn down, the next
 * cuInit reads the environment again, the harness's caches are freed.
 * Only for tests. */
void gk_emu_reset(void) {
  LOCK();
  for (int i = 0; i < ndevs; i++) {
    ctx_reset(&ctxs[i]);
    ctxs[i].refcount = 0;
  }
  initialized = 0;
  ndevs = 0;
  capture_alloc_attempts = 0;
  last_err[0] = 0;
  current = NULL;
  gk_emu_release();
  UNLOCK();
}
