/* test_driver.c -- TAP test of the emulated driver libcuda.so.1, used as a client would use it
 * SPDX-License-Identifier: MIT
 *
 *   GLLMK_CUDA_DRIVER=tests/cudaemu/libcuda.so.1 \
 *   GLLMK_CUDAEMU_TEST_FATBIN=tests/cudaemu/test_kernels.fatbin  tests/cudaemu/test_driver
 *
 * The driver is dlopen'ed by path and every entry point resolved with the
 * GLLMK_CU_API X-macro, exactly as the backend does.  test_kernels.fatbin is
 * test_kernels.cu built by nvcc (SASS for sm_80 86 89 90 100 120, no PTX);
 * the same file compiled with -DGK_EMU is inside the driver library.
 * Without the fatbin, the module, launch and graph tests are skipped.
 * GLLMK_TEST_SEED seeds the fuzz loop; GLLMK_CUDAEMU_FUZZ_ITERS sets its
 * length (default 3000).
 *
 * Device configurations change between tests through the test hook
 * gk_emu_reset (back to before cuInit) and the GLLMK_CUDAEMU_* variables.
 * The red-zone test runs in a child process (this program, re-executed):
 * under AddressSanitizer the poisoned red zone makes ASan report the
 * kernel's store and end the child, else the driver reports it.
 */
#define _GNU_SOURCE
#define TAP_IMPLEMENTATION
#include "tap.h"
#include "cu.h"
#include "fatbin.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#  define TEST_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define TEST_ASAN 1
#  endif
#endif

/* ------------------------------------------------------------ the driver */

static struct {
#define GK_FIELD(fn, sym, args) CUresult (*fn) args;
  GLLMK_CU_API(GK_FIELD)
#undef GK_FIELD
} cu;
static const char *(*last_error)(void);
static int (*capture_alloc_attempts)(void);
static void (*emu_reset)(void);
static int (*race_checked)(const char *kernel);
static void *lib;

enum { FUNC_ATTR_BINARY_VERSION = 6, ATTR_UNKNOWN = 9999 };

/* ok() whose condition is evaluated before the description's arguments
 * (the order of a call's arguments is unspecified, and the descriptions
 * show values that the condition computes). */
#define CHECK(cond, ...)      \
  do {                        \
    int check_ = !!(cond);    \
    ok(check_, __VA_ARGS__);  \
  } while (0)

static const char *le(void) { return last_error ? last_error() : "?"; }

static int load_driver(void) {
  const char *path = getenv("GLLMK_CUDA_DRIVER");
  if (!path || !*path)
    bail_out("set GLLMK_CUDA_DRIVER to the emulated libcuda.so.1");
  lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!ok(lib != NULL, "dlopen %s", path))
    bail_out("%s", dlerror());
  int missing = 0;
#define GK_SYM(fn, sym, args)                          \
  if (!(*(void **)&cu.fn = dlsym(lib, sym))) {         \
    diag("missing %s", sym);                           \
    missing++;                                         \
  }
  GLLMK_CU_API(GK_SYM)
#undef GK_SYM
  *(void **)&last_error = dlsym(lib, "gk_emu_last_error");
  *(void **)&capture_alloc_attempts = dlsym(lib, "gk_emu_capture_alloc_attempts");
  *(void **)&emu_reset = dlsym(lib, "gk_emu_reset");
  *(void **)&race_checked = dlsym(lib, "gk_emu_race_checked");
  if (!ok(!missing && last_error && capture_alloc_attempts && emu_reset && race_checked,
          "every GLLMK_CU_API entry point and the gk_emu_* hooks resolve"))
    bail_out("%s is not the emulated driver (or lacks entry points)", path);
  ok(!dlsym(lib, "cuMemAlloc") && !dlsym(lib, "cuMemFree") && !dlsym(lib, "cuCtxCreate_v4") &&
         !dlsym(lib, "gk_emu_launch") && !dlsym(lib, "gk_emu_kernel_find") &&
         !dlsym(lib, "gk_fb_entries"),
     "no legacy unversioned names, no harness or parser symbols exported");
  return missing == 0;
}

/* The names of cu.h exist in NVIDIA's driver too: checked against the
 * toolkit's stub libcuda.so, which exports every real entry point. */
static void test_stub_names(void) {
  const char *stub = getenv("GLLMK_CUDA_STUB");
  if (!stub || !*stub)
    stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  void *h = dlopen(stub, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    skip("no toolkit stub driver at %s (GLLMK_CUDA_STUB)", stub);
    return;
  }
  int missing = 0;
#define GK_STUB(fn, sym, args)                       \
  if (!dlsym(h, sym)) {                              \
    diag("the stub driver has no %s", sym);          \
    missing++;                                       \
  }
  GLLMK_CU_API(GK_STUB)
#undef GK_STUB
  ok(!missing, "every GLLMK_CU_API name is exported by NVIDIA's stub driver too (%s)", stub);
  dlclose(h);
}

/* Back to "before cuInit" with these devices (NULL: unset) and memory. */
static CUresult configure(const char *devices, const char *mem) {
  if (devices)
    setenv("GLLMK_CUDAEMU_DEVICES", devices, 1);
  else
    unsetenv("GLLMK_CUDAEMU_DEVICES");
  if (mem)
    setenv("GLLMK_CUDAEMU_MEM", mem, 1);
  else
    unsetenv("GLLMK_CUDAEMU_MEM");
  emu_reset();
  return cu.Init(0);
}

/* configure, then retain device dev's primary context and make it current */
static CUcontext ctx_on(const char *devices, int dev) {
  CUcontext c = NULL;
  if (configure(devices, NULL) != CUDA_SUCCESS || cu.DevicePrimaryCtxRetain(&c, dev) ||
      cu.CtxSetCurrent(c))
    bail_out("cannot set up device %d of '%s': %s", dev, devices, le());
  return c;
}

/* ------------------------------------------------------------ test data */

static unsigned char *fatbin;
static size_t fatbin_size;
static gk_fb_entry fb_e[16];
static int fb_n;

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  *size = p ? (size_t)n : 0;
  return p;
}

static const gk_fb_entry *fb_elf(unsigned sm) {
  for (int i = 0; i < fb_n; i++)
    if (fb_e[i].kind == GK_FB_KIND_ELF && fb_e[i].sm == sm)
      return &fb_e[i];
  return NULL;
}

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

struct spec {
  int kind;
  unsigned sm;
  uint64_t flags;
  const unsigned char *payload;
  size_t size;
  unsigned patch_sm;   /* nonzero: rewrite the ELF's e_flags to this SM */
};

/* A fatbin with these entries (64-byte entry headers, as nvcc writes them
 * for sm_80 ... sm_90).  Free with free(). */
static unsigned char *make_fatbin(const struct spec *s, int n, size_t *size) {
  size_t total = 16;
  for (int i = 0; i < n; i++)
    total += 64 + s[i].size;
  unsigned char *p = calloc(1, total), *q = p + 16;
  put32(p, GK_FB_MAGIC);
  put16(p + 4, 1);
  put16(p + 6, 16);
  put64(p + 8, total - 16);
  for (int i = 0; i < n; i++) {
    put16(q, (unsigned)s[i].kind);
    put16(q + 2, 0x0101);
    put32(q + 4, 64);
    put64(q + 8, s[i].size);
    put16(q + 24, s[i].kind == GK_FB_KIND_PTX ? 0 : 8);
    put16(q + 26, s[i].kind == GK_FB_KIND_PTX ? 9 : 1);
    put32(q + 28, s[i].sm);
    put64(q + 40, s[i].flags);
    memcpy(q + 64, s[i].payload, s[i].size);
    if (s[i].patch_sm) {       /* CUDA 13 ELF ABI: the SM in e_flags bits 8-15 */
      uint32_t fl = (uint32_t)q[64 + 48] | (uint32_t)q[64 + 49] << 8 |
                    (uint32_t)q[64 + 50] << 16 | (uint32_t)q[64 + 51] << 24;
      put32(q + 64 + 48, (fl & ~0xff00u) | s[i].patch_sm << 8);
    }
    q += 64 + s[i].size;
  }
  *size = total;
  return p;
}

/* Loads image on the current context; returns the result and, on success,
 * the BINARY_VERSION of kernel gk_test_axpy (the chosen cubin's SM) in *sm. */
static CUresult load_sm(const void *image, int *sm) {
  CUmodule m;
  CUfunction f;
  *sm = 0;
  CUresult r = cu.ModuleLoadData(&m, image);
  if (r)
    return r;
  if (cu.ModuleGetFunction(&f, m, "gk_test_axpy") == CUDA_SUCCESS)
    cu.FuncGetAttribute(sm, FUNC_ATTR_BINARY_VERSION, f);
  cu.ModuleUnload(m);
  return r;
}

/* splitmix64 */
static uint64_t rng_state;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* ------------------------------------------------------- before cuInit */

static void test_uninitialized(void) {
  int v = 0;
  CUdeviceptr p;
  CUcontext c;
  emu_reset();
  CHECK(cu.DriverGetVersion(&v) == CUDA_SUCCESS && v == 13000, "cuDriverGetVersion before cuInit: %d", v);
  CHECK(cu.DeviceGetCount(&v) == CUDA_ERROR_NOT_INITIALIZED && cu.MemAlloc(&p, 16) == CUDA_ERROR_NOT_INITIALIZED &&
         cu.CtxGetCurrent(&c) == CUDA_ERROR_NOT_INITIALIZED &&
         cu.DevicePrimaryCtxRetain(&c, 0) == CUDA_ERROR_NOT_INITIALIZED,
     "calls before cuInit: CUDA_ERROR_NOT_INITIALIZED");
  CHECK(cu.Init(1) == CUDA_ERROR_INVALID_VALUE, "cuInit(1): CUDA_ERROR_INVALID_VALUE");
}

static void test_errors(void) {
  static const struct { CUresult code; const char *name; } codes[] = {
#define E(x) {x, #x}
    E(CUDA_SUCCESS), E(CUDA_ERROR_INVALID_VALUE), E(CUDA_ERROR_OUT_OF_MEMORY),
    E(CUDA_ERROR_NOT_INITIALIZED), E(CUDA_ERROR_STUB_LIBRARY), E(CUDA_ERROR_NO_DEVICE),
    E(CUDA_ERROR_INVALID_DEVICE), E(CUDA_ERROR_INVALID_IMAGE), E(CUDA_ERROR_INVALID_CONTEXT),
    E(CUDA_ERROR_NO_BINARY_FOR_GPU), E(CUDA_ERROR_INVALID_PTX), E(CUDA_ERROR_UNSUPPORTED_PTX_VERSION),
    E(CUDA_ERROR_INVALID_HANDLE), E(CUDA_ERROR_NOT_FOUND), E(CUDA_ERROR_NOT_READY),
    E(CUDA_ERROR_ILLEGAL_ADDRESS), E(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES), E(CUDA_ERROR_LAUNCH_FAILED),
    E(CUDA_ERROR_ILLEGAL_INSTRUCTION), E(CUDA_ERROR_MISALIGNED_ADDRESS),
    E(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED), E(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED),
    E(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD), E(CUDA_ERROR_UNKNOWN),
#undef E
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *s = NULL, *n = NULL;
    if (cu.GetErrorString(codes[i].code, &s) || !s || !*s || cu.GetErrorName(codes[i].code, &n) || !n ||
        strcmp(n, codes[i].name) != 0) {
      diag("%s: string %s, name %s", codes[i].name, s ? s : "NULL", n ? n : "NULL");
      bad++;
    }
  }
  CHECK(!bad, "cuGetErrorString and cuGetErrorName for every code of cu.h (before cuInit too)");
  const char *s = "x", *n = "x";
  CHECK(cu.GetErrorString(12345, &s) == CUDA_ERROR_INVALID_VALUE && !s &&
         cu.GetErrorName(12345, &n) == CUDA_ERROR_INVALID_VALUE && !n &&
         cu.GetErrorString(0, NULL) == CUDA_ERROR_INVALID_VALUE,
     "an unknown code or a NULL result: CUDA_ERROR_INVALID_VALUE");
}

/* ----------------------------------------------------------- devices */

static void test_devices(void) {
  int n = -1, v = 0;
  char name[64];
  size_t mem = 0;
  CUdevice d;

  CHECK(configure("none", NULL) == CUDA_ERROR_NO_DEVICE && configure("", NULL) == CUDA_ERROR_NO_DEVICE &&
         cu.DeviceGetCount(&n) == CUDA_ERROR_NOT_INITIALIZED,
     "GLLMK_CUDAEMU_DEVICES=none or empty: cuInit gives CUDA_ERROR_NO_DEVICE");
  CHECK(configure("9,x", NULL) == CUDA_ERROR_INVALID_VALUE && configure("9.0;8.6", NULL) == CUDA_ERROR_INVALID_VALUE,
     "a malformed GLLMK_CUDAEMU_DEVICES: CUDA_ERROR_INVALID_VALUE (%s)", le());
  CHECK(configure(NULL, NULL) == CUDA_SUCCESS && cu.DeviceGetCount(&n) == CUDA_SUCCESS && n == 1 &&
         cu.DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0) == CUDA_SUCCESS &&
         v == 9,
     "default: one device of compute capability 9.x");

  CHECK(configure("9.0, 8.6", NULL) == CUDA_SUCCESS && cu.DeviceGetCount(&n) == CUDA_SUCCESS && n == 2,
     "GLLMK_CUDAEMU_DEVICES=9.0,8.6: two devices");
  CHECK(cu.DeviceGet(&d, 1) == CUDA_SUCCESS && d == 1 && cu.DeviceGet(&d, 2) == CUDA_ERROR_INVALID_DEVICE &&
         cu.DeviceGet(&d, -1) == CUDA_ERROR_INVALID_DEVICE,
     "cuDeviceGet: ordinals 0..1, others CUDA_ERROR_INVALID_DEVICE");
  CHECK(cu.DeviceGetName(name, sizeof name, 0) == CUDA_SUCCESS &&
         strcmp(name, "gllmk emulated device (sm_90)") == 0 &&
         cu.DeviceGetName(name, sizeof name, 1) == CUDA_SUCCESS &&
         strcmp(name, "gllmk emulated device (sm_86)") == 0,
     "cuDeviceGetName: %s", name);
  CHECK(cu.DeviceGetName(name, 6, 0) == CUDA_SUCCESS && strcmp(name, "gllmk") == 0 &&
         cu.DeviceGetName(name, 0, 0) == CUDA_ERROR_INVALID_VALUE,
     "cuDeviceGetName truncates to len - 1");
  int mj = 0, mn = 0, tpb = 0, smem = 0, sms = 0;
  CHECK(!cu.DeviceGetAttribute(&mj, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 1) &&
         !cu.DeviceGetAttribute(&mn, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 1) && mj == 8 && mn == 6 &&
         !cu.DeviceGetAttribute(&tpb, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 1) && tpb == 1024 &&
         !cu.DeviceGetAttribute(&smem, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, 1) && smem == 49152 &&
         !cu.DeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 1) && sms > 0,
     "device 1: CC %d.%d, %d threads per block, %d bytes of shared memory, %d SMs", mj, mn, tpb, smem, sms);
  int l2 = 0, bus = 0, clk = 0;
  CHECK(!cu.DeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, 0) && l2 > 0 &&
         !cu.DeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, 0) && bus > 0 &&
         !cu.DeviceGetAttribute(&clk, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, 0) && clk > 0 &&
         cu.DeviceGetAttribute(&v, ATTR_UNKNOWN, 0) == CUDA_ERROR_INVALID_VALUE &&
         cu.DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 2) == CUDA_ERROR_INVALID_DEVICE,
     "memory attributes plausible; an unknown attribute or device refused");
  CHECK(cu.DeviceTotalMem(&mem, 0) == CUDA_SUCCESS && mem == (size_t)16 << 30, "16 GiB by default");

  static const struct { const char *cc; int optin; } optin[] = {
    {"8.0", 163 * 1024}, {"8.6", 99 * 1024}, {"8.9", 99 * 1024},
    {"9.0", 227 * 1024}, {"10.0", 227 * 1024}, {"12.0", 99 * 1024},
  };
  configure("8.0,8.6,8.9,9.0,10.0,12.0", NULL);
  int bad = 0;
  for (int i = 0; i < 6; i++)
    if (cu.DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, i) || v != optin[i].optin) {
      diag("%s: opt-in %d, expected %d", optin[i].cc, v, optin[i].optin);
      bad++;
    }
  CHECK(!bad, "opt-in shared memory per CC: 8.0 163 KiB, 8.6/8.9/12.0 99 KiB, 9.0/10.0 227 KiB");
}

/* ----------------------------------------------------------- contexts */

static void *thread_current(void *arg) {
  CUcontext c = (CUcontext)1;
  *(CUresult *)arg = cu.CtxGetCurrent(&c);
  return c;
}

static void test_contexts(void) {
  CUcontext c0, c1, got = NULL;
  CUdeviceptr p;
  configure("9.0,8.6", NULL);
  CHECK(cu.CtxGetCurrent(&got) == CUDA_SUCCESS && got == NULL &&
         cu.MemAlloc(&p, 16) == CUDA_ERROR_INVALID_CONTEXT,
     "no current context: cuMemAlloc gives CUDA_ERROR_INVALID_CONTEXT");
  CHECK(cu.CtxSetCurrent((CUcontext)&p) == CUDA_ERROR_INVALID_CONTEXT,
     "cuCtxSetCurrent of a bogus handle: CUDA_ERROR_INVALID_CONTEXT");
  CHECK(!cu.DevicePrimaryCtxRetain(&c0, 0) && !cu.DevicePrimaryCtxRetain(&c1, 1) && c0 && c1 && c0 != c1 &&
         !cu.CtxSetCurrent(c1) && !cu.CtxGetCurrent(&got) && got == c1,
     "primary contexts of two devices; cuCtxSetCurrent / cuCtxGetCurrent");
  CUcontext again;
  CHECK(!cu.DevicePrimaryCtxRetain(&again, 1) && again == c1, "a second retain gives the same context");
  pthread_t t;
  CUresult tr = -1;
  void *tc = NULL;
  pthread_create(&t, NULL, thread_current, &tr);
  pthread_join(t, &tc);
  CHECK(tr == CUDA_SUCCESS && tc == NULL, "the current context is per thread");
  CHECK(!cu.MemAlloc(&p, 64) && !cu.DevicePrimaryCtxRelease(1) && !cu.MemFree(p),
     "one release of two: the context stays active");
  CHECK(!cu.MemAlloc(&p, 64) && !cu.DevicePrimaryCtxRelease(1) &&
         cu.MemAlloc(&p, 64) == CUDA_ERROR_INVALID_CONTEXT,
     "released to 0: calls on it give CUDA_ERROR_INVALID_CONTEXT (its memory is freed)");
  CHECK(cu.DevicePrimaryCtxRelease(1) == CUDA_ERROR_INVALID_CONTEXT &&
         cu.DevicePrimaryCtxRelease(5) == CUDA_ERROR_INVALID_DEVICE &&
         cu.CtxSetCurrent(c1) == CUDA_ERROR_INVALID_CONTEXT,
     "release below 0, of a bad device, or set an inactive context: refused");
  size_t fr = 0, tot = 0;
  CHECK(!cu.DevicePrimaryCtxRetain(&c1, 1) && !cu.CtxSetCurrent(c1) && !cu.MemGetInfo(&fr, &tot) &&
         fr == tot,
     "retained again: active and empty (%zu of %zu bytes free)", fr, tot);
  cu.DevicePrimaryCtxRelease(1);
  cu.DevicePrimaryCtxRelease(0);
}

/* ------------------------------------------------------------- memory */

static void test_memory(void) {
  CUdeviceptr a, b, c2;
  size_t fr0 = 0, fr1 = 0, tot = 0;
  ctx_on("9.0", 0);
  CHECK(!cu.MemGetInfo(&fr0, &tot) && !cu.MemAlloc(&a, 1000) && !cu.MemAlloc(&b, 3000) &&
         !cu.MemGetInfo(&fr1, &tot) && fr0 - fr1 == 4000 && a % 256 == 0 && b % 256 == 0,
     "cuMemAlloc: 256-byte aligned, cuMemGetInfo counts the live bytes");
  CHECK(cu.MemAlloc(&c2, 0) == CUDA_ERROR_INVALID_VALUE && cu.MemAlloc(NULL, 8) == CUDA_ERROR_INVALID_VALUE,
     "cuMemAlloc of 0 bytes or to NULL: CUDA_ERROR_INVALID_VALUE");
  unsigned char h[3000], g[3000];
  for (int i = 0; i < 3000; i++)
    h[i] = (unsigned char)(i * 7 + 1);
  CHECK(!cu.MemcpyHtoDAsync(b, h, 3000, NULL) && !cu.MemcpyDtoDAsync(a, b + 100, 1000, NULL) &&
         !cu.MemsetD8Async(b, 0x5a, 10, NULL) && !cu.MemcpyDtoHAsync(g, b, 3000, NULL) &&
         !cu.StreamSynchronize(NULL) && g[9] == 0x5a && g[10] == h[10] && g[2999] == h[2999] &&
         !cu.MemcpyDtoHAsync(g, a, 1000, NULL) && memcmp(g, h + 100, 1000) == 0,
     "HtoD, DtoD, memset, DtoH");
  CHECK(cu.MemcpyHtoDAsync(a, h, 1001, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemcpyHtoDAsync(a + 1, h, 1000, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemcpyDtoHAsync(g, a - 1, 4, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemcpyDtoDAsync(a, b + 2500, 1000, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemsetD8Async(b + 2999, 0, 2, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemcpyHtoDAsync(0x1000, h, 4, NULL) == CUDA_ERROR_INVALID_VALUE,
     "every copy range must lie inside one live allocation (%s)", le());
  CHECK(cu.MemcpyHtoDAsync(a, (const void *)(uintptr_t)(b + 8), 16, NULL) == CUDA_ERROR_INVALID_VALUE &&
            cu.MemcpyDtoHAsync((void *)(uintptr_t)(b + 100), a, 16, NULL) == CUDA_ERROR_INVALID_VALUE,
        "a device pointer passed as the host side of a copy is refused (%s)", le());
  CHECK(!cu.MemcpyHtoDAsync(0, NULL, 0, NULL) && !cu.MemsetD8Async(0x10, 0, 0, NULL) &&
         cu.MemcpyHtoDAsync(a, NULL, 4, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemcpyDtoHAsync(NULL, a, 4, NULL) == CUDA_ERROR_INVALID_VALUE,
     "0-byte copies succeed; a NULL host pointer is refused");
  CHECK(cu.MemFree(a + 8) == CUDA_ERROR_INVALID_VALUE && !cu.MemFree(a) &&
         cu.MemFree(a) == CUDA_ERROR_INVALID_VALUE && cu.MemFree(0x1234) == CUDA_ERROR_INVALID_VALUE &&
         cu.MemcpyHtoDAsync(a, h, 4, NULL) == CUDA_ERROR_INVALID_VALUE,
     "cuMemFree of an inner, freed or unknown pointer: CUDA_ERROR_INVALID_VALUE; freed memory is not copyable");
  CHECK(!cu.MemFree(b) && !cu.MemGetInfo(&fr1, &tot) && fr1 == fr0, "all freed: cuMemGetInfo back to %zu", fr0);
  cu.DevicePrimaryCtxRelease(0);

  configure("9.0", "1M");
  CUcontext c;
  size_t total = 0;
  cu.DevicePrimaryCtxRetain(&c, 0);
  cu.CtxSetCurrent(c);
  CHECK(!cu.DeviceTotalMem(&total, 0) && total == 1 << 20 && !cu.MemAlloc(&a, 600 << 10) &&
         cu.MemAlloc(&b, 500 << 10) == CUDA_ERROR_OUT_OF_MEMORY && !cu.MemAlloc(&b, 400 << 10),
     "GLLMK_CUDAEMU_MEM=1M: a hard limit (CUDA_ERROR_OUT_OF_MEMORY)");
  cu.DevicePrimaryCtxRelease(0);
  CHECK(configure("9.0", "lots") == CUDA_ERROR_INVALID_VALUE, "a malformed GLLMK_CUDAEMU_MEM is refused");
}

/* ----------------------------------------------------------- fatbins */

static void test_parser(void) {
  int n = 0;
  char err[256];
  int rc = gk_fb_entries(fatbin, fatbin_size, fb_e, 16, &fb_n, err, sizeof err);
  int elf = 0, ptx = 0, comp = 0;
  for (int i = 0; i < fb_n; i++) {
    elf += fb_e[i].kind == GK_FB_KIND_ELF;
    ptx += fb_e[i].kind == GK_FB_KIND_PTX;
    comp += fb_e[i].compressed;
  }
  CHECK(rc == GK_FB_OK && fb_n == 6 && elf == 6 && !ptx && !comp && fb_elf(80) && fb_elf(86) && fb_elf(89) &&
         fb_elf(90) && fb_elf(100) && fb_elf(120),
     "test_kernels.fatbin: 6 uncompressed ELFs sm_80 86 89 90 100 120, no PTX (%s)", rc ? err : "ok");
  size_t sz;
  CHECK(gk_fb_image_size(fatbin, &sz, err, sizeof err) == GK_FB_OK && sz == fatbin_size,
     "the fatbin header declares the file's size");

  /* parameters as nvcc laid them out: 8-byte alignment of size_t and pointers,
   * the char packed after the float, the 12-byte struct 4-aligned */
  static const gk_fb_param want[7] = {{0, 8}, {8, 4}, {16, 8}, {24, 4}, {28, 1}, {32, 12}, {48, 8}};
  int bad = 0, shared_ok = 1;
  for (int i = 0; i < fb_n; i++) {
    gk_fb_cubin c;
    if (gk_fb_cubin_parse(fb_e[i].data, fb_e[i].size, &c, err, sizeof err) != GK_FB_OK) {
      diag("sm_%u: %s", fb_e[i].sm, err);
      bad++;
      gk_fb_cubin_free(&c);
      continue;
    }
    const gk_fb_kernel *k = gk_fb_cubin_kernel(&c, "gk_test_params");
    if (!k || k->nparams != 7 || k->param_bytes != 56 || memcmp(k->params, want, sizeof want) != 0 ||
        k->regs <= 0 || k->stack_bytes != 0 || c.sm != fb_e[i].sm) {
      diag("sm_%u: gk_test_params parsed wrong", fb_e[i].sm);
      bad++;
    }
    const gk_fb_kernel *r = gk_fb_cubin_kernel(&c, "gk_test_reduce");
    const gk_fb_kernel *x = gk_fb_cubin_kernel(&c, "gk_test_axpy");
    if (!r || !x || r->shared_bytes != 1024 || x->shared_bytes != 0 ||
        r->reserved_shared != (fb_e[i].sm >= 90 ? 1024u : 0u)) {
      diag("sm_%u: static shared memory %u / %u", fb_e[i].sm, r ? r->shared_bytes : 0, x ? x->shared_bytes : 0);
      shared_ok = 0;
    }
    if (c.nkernels != 10)
      bad++;
    n++;
    gk_fb_cubin_free(&c);
  }
  CHECK(!bad && n == 6, "every cubin: 10 kernels; gk_test_params(ptr, int, size_t, float, char, struct12, ptr) "
     "at offsets 0 8 16 24 28 32 48, 56 bytes; registers recorded, no stack frame");
  CHECK(shared_ok, "static shared memory: gk_test_reduce 1 KiB, gk_test_axpy none (sm_90+: the reserved KiB apart)");

  static const struct { int mj, mn; int sm; } sel[] = {
    {8, 0, 80}, {8, 6, 86}, {8, 7, 86}, {8, 9, 89}, {9, 0, 90}, {10, 0, 100}, {10, 3, 100},
    {12, 0, 120}, {12, 1, 120}, {7, 5, 0}, {11, 0, 0}, {13, 0, 0},
  };
  bad = 0;
  for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++) {
    int pick = -1;
    rc = gk_fb_select(fb_e, fb_n, sel[i].mj, sel[i].mn, &pick, err, sizeof err);
    int got = rc == GK_FB_OK ? (int)fb_e[pick].sm : 0;
    if (got != sel[i].sm || (rc != GK_FB_OK && rc != GK_FB_E_NOBINARY)) {
      diag("CC %d.%d: picked sm_%d, expected sm_%d", sel[i].mj, sel[i].mn, got, sel[i].sm);
      bad++;
    }
  }
  CHECK(!bad, "selection: exact SM, else the same major's highest lower minor; 7.5, 11.0, 13.0 get nothing");
}

static void test_module_selection(void) {
  int sm;
  CUmodule m;
  ctx_on("8.6", 0);
  CHECK(load_sm(fatbin, &sm) == CUDA_SUCCESS && sm == 86, "CC 8.6 device: cuModuleLoadData runs the sm_86 cubin (%d)", sm);
  ctx_on("8.7", 0);
  CHECK(load_sm(fatbin, &sm) == CUDA_SUCCESS && sm == 86, "CC 8.7 device: the sm_86 cubin (%d)", sm);
  ctx_on("10.3", 0);
  CHECK(load_sm(fatbin, &sm) == CUDA_SUCCESS && sm == 100, "CC 10.3 device: the sm_100 cubin (%d)", sm);
  ctx_on("7.5", 0);
  CUresult r = cu.ModuleLoadData(&m, fatbin);
  CHECK(r == CUDA_ERROR_NO_BINARY_FOR_GPU && strstr(le(), "sm_75"),
     "CC 7.5 device: CUDA_ERROR_NO_BINARY_FOR_GPU (%d: %s)", r, le());

  const gk_fb_entry *e80 = fb_elf(80), *e90 = fb_elf(90), *e86 = fb_elf(86);
  size_t sz;
  struct spec s1[2] = {{GK_FB_KIND_ELF, 80, 0x11, e80->data, e80->size, 0},
                       {GK_FB_KIND_ELF, 90, 0x11 | GK_FB_FLAG_ARCH_SPECIFIC, e90->data, e90->size, 0}};
  unsigned char *fb = make_fatbin(s1, 2, &sz);
  ctx_on("9.0", 0);
  CHECK(load_sm(fb, &sm) == CUDA_SUCCESS && sm == 90, "{sm_80, sm_90a} on CC 9.0: sm_90a runs on its exact CC");
  ctx_on("9.2", 0);
  r = cu.ModuleLoadData(&m, fb);
  CHECK(r == CUDA_ERROR_NO_BINARY_FOR_GPU, "{sm_80, sm_90a} on CC 9.2: no image, never another CC's "
     "arch-specific one or another major's (%s)", le());
  ctx_on("8.9", 0);
  CHECK(load_sm(fb, &sm) == CUDA_SUCCESS && sm == 80, "{sm_80, sm_90a} on CC 8.9: sm_80");
  free(fb);

  struct spec s2[2] = {{GK_FB_KIND_ELF, 80, 0x11, e80->data, e80->size, 0},
                       {GK_FB_KIND_ELF, 87, 0x11, e80->data, e80->size, 87}};
  fb = make_fatbin(s2, 2, &sz);
  CHECK(load_sm(fb, &sm) == CUDA_SUCCESS && sm == 87, "{sm_80, sm_87} on CC 8.9: sm_87, the highest lower minor");
  ctx_on("8.6", 0);
  CHECK(load_sm(fb, &sm) == CUDA_SUCCESS && sm == 80, "{sm_80, sm_87} on CC 8.6: sm_80 (sm_87 is a higher minor)");
  free(fb);

  static const unsigned char ptx[] = ".version 9.0\n.target sm_90\n.address_size 64\n";
  struct spec s3[1] = {{GK_FB_KIND_PTX, 90, 0x11, ptx, sizeof ptx, 0}};
  fb = make_fatbin(s3, 1, &sz);
  ctx_on("9.0", 0);
  r = cu.ModuleLoadData(&m, fb);
  CHECK(r == CUDA_ERROR_NO_BINARY_FOR_GPU && strstr(le(), "PTX"), "PTX only: not run here, and the error says so (%s)", le());
  free(fb);
  struct spec s4[1] = {{GK_FB_KIND_ELF, 90, 0x11 | GK_FB_FLAG_ZSTD, e90->data, 4096, 0}};
  fb = make_fatbin(s4, 1, &sz);
  put32(fb + 16 + 16, 4000);                                /* compressed size */
  r = cu.ModuleLoadData(&m, fb);
  CHECK(r == CUDA_ERROR_NO_BINARY_FOR_GPU && strstr(le(), "compressed"),
     "a compressed ELF: not run here, and the error says so (%s)", le());
  free(fb);

  ctx_on("8.6", 0);
  CHECK(load_sm(e86->data, &sm) == CUDA_SUCCESS && sm == 86, "a bare sm_86 cubin on CC 8.6");
  ctx_on("9.0", 0);
  CHECK(cu.ModuleLoadData(&m, e86->data) == CUDA_ERROR_NO_BINARY_FOR_GPU, "a bare sm_86 cubin on CC 9.0: 209");
  cu.DevicePrimaryCtxRelease(0);
}

/* Malformed images, one fault each: CUDA_ERROR_INVALID_IMAGE. */
static void test_malformed(void) {
  CUmodule m;
  size_t sz;
  const gk_fb_entry *e80 = fb_elf(80);
  struct spec s[1] = {{GK_FB_KIND_ELF, 80, 0x11, e80->data, e80->size, 0}};
  ctx_on("8.0", 0);
  CHECK(cu.ModuleLoadData(&m, NULL) == CUDA_ERROR_INVALID_VALUE && cu.ModuleLoadData(NULL, fatbin) == CUDA_ERROR_INVALID_VALUE,
     "cuModuleLoadData(NULL): CUDA_ERROR_INVALID_VALUE");
  static const unsigned char junk[64] = "this is not a fatbin, nor an ELF file, at all.";
  CHECK(cu.ModuleLoadData(&m, junk) == CUDA_ERROR_INVALID_IMAGE, "junk: CUDA_ERROR_INVALID_IMAGE (%s)", le());

  struct { const char *what; size_t off; int width; uint64_t value; } cases[] = {
    {"fatbin version 2", 4, 2, 2},
    {"fatbin header size 8", 6, 2, 8},
    {"entries shorter than an entry header", 8, 8, 40},
    {"entry header size 32", 16 + 4, 4, 32},
    {"entry header size past the end", 16 + 4, 4, 0x7fffffff},
    {"payload size 2^64 - 1", 16 + 8, 8, ~0ull},
    {"payload size one byte too many", 16 + 8, 8, 0},      /* value set below */
    {"arch 0", 16 + 28, 4, 0},
    {"entry arch differs from the ELF's", 16 + 28, 4, 86},
    {"ELF class 32", 16 + 64 + 4, 1, 1},
    {"ELF section table past the end", 16 + 64 + 40, 8, 1u << 20},
    {"ELF section table offset 2^64 - 64", 16 + 64 + 40, 8, ~0ull - 63},
    {"ELF section count 65535", 16 + 64 + 60, 2, 65535},
    {"ELF section entry size 32", 16 + 64 + 58, 2, 32},
    {"ELF name table index past the table", 16 + 64 + 62, 2, 4000},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unsigned char *fb = make_fatbin(s, 1, &sz);
    uint64_t v = cases[i].value;
    if (i == 6)
      v = e80->size + 1;
    for (int b = 0; b < cases[i].width; b++)
      fb[cases[i].off + (size_t)b] = (unsigned char)(v >> (8 * b));
    CUresult r = cu.ModuleLoadData(&m, fb);
    if (r != CUDA_ERROR_INVALID_IMAGE) {
      diag("%s: %d (%s)", cases[i].what, r, le());
      bad++;
      if (!r)
        cu.ModuleUnload(m);
    }
    free(fb);
  }
  CHECK(!bad, "%zu malformed fatbin headers and ELF headers: CUDA_ERROR_INVALID_IMAGE", sizeof cases / sizeof cases[0]);

  /* a cubin whose section contents are corrupt: every section's offset in turn */
  unsigned shnum = (unsigned)e80->data[60] | (unsigned)e80->data[61] << 8;
  uint64_t shoff = 0;
  for (int b = 0; b < 8; b++)
    shoff |= (uint64_t)e80->data[40 + b] << (8 * b);
  bad = 0;
  int tried = 0;
  for (unsigned i = 1; i < shnum; i++) {
    unsigned char *fb = make_fatbin(s, 1, &sz);
    unsigned char *sh = fb + 16 + 64 + shoff + (size_t)i * 64;
    unsigned type = sh[4];
    if (type == 8) {          /* NOBITS: its offset is not read */
      free(fb);
      continue;
    }
    put64(sh + 24, e80->size - 4);      /* offset near the end: the section runs past it */
    put64(sh + 32, 4096);
    CUresult r = cu.ModuleLoadData(&m, fb);
    tried++;
    if (r != CUDA_ERROR_INVALID_IMAGE) {
      diag("section %u moved past the end: %d", i, r);
      bad++;
      if (!r)
        cu.ModuleUnload(m);
    }
    free(fb);
  }
  CHECK(!bad && tried > 10, "each of %d sections made to run past the cubin: CUDA_ERROR_INVALID_IMAGE", tried);
  cu.DevicePrimaryCtxRelease(0);
}

/* An image at the very end of a mapping, followed by a PROT_NONE page. */
struct guarded { unsigned char *map, *p; size_t maplen; };
static int guarded_new(struct guarded *g, const unsigned char *src, size_t n, size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  g->maplen = (len + page - 1) / page * page + page;
  g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g->map == MAP_FAILED)
    return -1;
  mprotect(g->map + g->maplen - page, page, PROT_NONE);
  g->p = g->map + (g->maplen - page) - len;
  for (size_t i = 0; i < len; i++)
    g->p[i] = i < n ? src[i] : (unsigned char)rnd();
  return 0;
}
static void guarded_free(struct guarded *g) { munmap(g->map, g->maplen); }

static void test_fuzz(void) {
  const char *it = getenv("GLLMK_CUDAEMU_FUZZ_ITERS");
  int iters = it ? atoi(it) : 3000;
  int loaded = 0, refused = 0, other = 0;
  size_t sz;
  /* a small fatbin (two cubins) keeps each try cheap */
  const gk_fb_entry *e80 = fb_elf(80), *e90 = fb_elf(90);
  struct spec s[2] = {{GK_FB_KIND_ELF, 80, 0x11, e80->data, e80->size, 0},
                      {GK_FB_KIND_ELF, 90, 0x11, e90->data, e90->size, 0}};
  unsigned char *base = make_fatbin(s, 2, &sz);
  unsigned char *img = malloc(sz > fb_elf(86)->size ? sz : fb_elf(86)->size);
  uint64_t shoff = 0;
  for (int b = 0; b < 8; b++)
    shoff |= (uint64_t)e80->data[40 + b] << (8 * b);
  diag("fuzz: %d mutated images, seed %llu", iters, (unsigned long long)rng_state);
  ctx_on("8.6", 0);
  const gk_fb_entry *e86 = fb_elf(86);
  for (int i = 0; i < iters; i++) {
    memcpy(img, base, sz);
    size_t len = sz;
    int kind = (int)(rnd() % 7);
    if (kind == 6) {                     /* a bare cubin, mutated anywhere */
      memcpy(img, e86->data, e86->size);
      len = e86->size;
      for (int f = 1 + (int)(rnd() % 8); f > 0; f--)
        img[rnd() % (f & 1 ? 64 : len)] ^= (unsigned char)(1u << (rnd() & 7));
    }
    int flips = kind == 6 ? 0 : 1 + (int)(rnd() % 8);
    for (int f = 0; f < flips; f++) {
      size_t at;
      switch (kind) {
      case 0: at = rnd() % 160; break;                                /* fatbin + entry header + ELF header */
      case 1: at = 16 + 64 + shoff + rnd() % (e80->size - shoff); break; /* section and program headers */
      case 2: at = 16 + 64 + rnd() % 0x800; break;                      /* the first sections: names, symbols, .nv.info */
      default: at = rnd() % sz; break;
      }
      unsigned char v = (unsigned char)rnd();
      img[at] = (rnd() & 1) ? v : (unsigned char)(img[at] ^ (1u << (v & 7)));
    }
    if (kind == 5) {                     /* truncated: the header says less */
      len = 16 + rnd() % (sz - 16);
      put64(img + 8, len - 16);
    }
    /* the buffer ends where the (mutated) header says the image ends */
    size_t want = len;
    char err[128];
    if (gk_fb_image_size(img, &want, err, sizeof err) != GK_FB_OK)
      want = len;
    if (want > (8u << 20)) {             /* absurd but accepted size */
      if (kind == 6)
        continue;                        /* the driver would read that far */
      put64(img + 8, len - 16);          /* (the header size may be mutated too) */
      if (gk_fb_image_size(img, &want, err, sizeof err) != GK_FB_OK || want > (8u << 20))
        want = len;
    }
    struct guarded g = {NULL, NULL, 0};
    if (guarded_new(&g, img, len, want) < 0)
      bail_out("mmap: %s", strerror(errno));
    CUmodule m;
    CUresult r = cu.ModuleLoadData(&m, g.p);
    if (r == CUDA_SUCCESS) {
      CUfunction f;
      CUresult rf = cu.ModuleGetFunction(&f, m, "gk_test_axpy");
      if (rf && rf != CUDA_ERROR_NOT_FOUND && rf != CUDA_ERROR_INVALID_IMAGE)
        other++;
      cu.ModuleUnload(m);
      loaded++;
    } else if (r == CUDA_ERROR_INVALID_IMAGE || r == CUDA_ERROR_NO_BINARY_FOR_GPU) {
      refused++;
    } else {
      diag("try %d: %d (%s)", i, r, le());
      other++;
    }
    guarded_free(&g);
  }
  CHECK(!other, "fuzz: %d mutated or truncated fatbins and cubins: %d loaded, %d refused, no crash, no other error",
     iters, loaded, refused);
  free(img);
  free(base);
  cu.DevicePrimaryCtxRelease(0);
}

/* ----------------------------------------------------------- functions */

static CUmodule mod;
static CUfunction f_params, f_axpy, f_reduce, f_dyn, f_store, f_trap, f_barrier, f_race;

static CUresult getf(CUfunction *f, const char *name) { return cu.ModuleGetFunction(f, mod, name); }

static void load_test_module(const char *cc) {
  ctx_on(cc, 0);
  if (cu.ModuleLoadData(&mod, fatbin) || getf(&f_params, "gk_test_params") || getf(&f_axpy, "gk_test_axpy") ||
      getf(&f_reduce, "gk_test_reduce") || getf(&f_dyn, "gk_test_dyn_reverse") ||
      getf(&f_store, "gk_test_store") || getf(&f_trap, "gk_test_trap") ||
      getf(&f_barrier, "gk_test_barrier") || getf(&f_race, "gk_test_race"))
    bail_out("test module on %s: %s", cc, le());
}

static void test_functions(void) {
  CUfunction f;
  int v = -1;
  load_test_module("9.0");
  CHECK(getf(&f, "no_such_kernel") == CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction of an unknown name: CUDA_ERROR_NOT_FOUND");
  CUresult r = getf(&f, "gk_test_unregistered");
  CHECK(r == CUDA_ERROR_NOT_FOUND && strstr(le(), "not registered"),
     "a kernel in the cubin but not in the harness: CUDA_ERROR_NOT_FOUND (%s)", le());
  r = getf(&f, "gk_test_mismatch");
  CHECK(r == CUDA_ERROR_INVALID_IMAGE && strstr(le(), "gk_test_mismatch") && strstr(le(), "parameter 1"),
     "parameter sizes that differ between cubin and harness: CUDA_ERROR_INVALID_IMAGE (%s)", le());
  CHECK(cu.ModuleGetFunction(&f, (CUmodule)&v, "gk_test_axpy") == CUDA_ERROR_INVALID_HANDLE &&
         cu.ModuleGetFunction(&f, mod, NULL) == CUDA_ERROR_INVALID_VALUE,
     "a bogus module or a NULL name refused");

  int shared = -1, regs = -1, maxt = -1, maxdyn = -1;
  CHECK(!cu.FuncGetAttribute(&shared, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f_reduce) && shared == 1024 &&
         !cu.FuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f_axpy) && v == 0 &&
         !cu.FuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, f_reduce) && regs > 0 &&
         !cu.FuncGetAttribute(&maxt, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f_reduce) && maxt == 1024 &&
         !cu.FuncGetAttribute(&maxdyn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, f_reduce) &&
         maxdyn == 48 * 1024 - 1024,
     "cuFuncGetAttribute: static shared %d, %d registers, %d threads, %d dynamic bytes", shared, regs, maxt, maxdyn);
  CHECK(!cu.FuncSetAttribute(f_reduce, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 227 * 1024 - 1024) &&
         cu.FuncSetAttribute(f_reduce, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 227 * 1024 - 1023) ==
             CUDA_ERROR_INVALID_VALUE &&
         cu.FuncSetAttribute(f_reduce, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, -1) == CUDA_ERROR_INVALID_VALUE &&
         cu.FuncSetAttribute(f_reduce, CU_FUNC_ATTRIBUTE_NUM_REGS, 8) == CUDA_ERROR_INVALID_VALUE &&
         cu.FuncGetAttribute(&v, ATTR_UNKNOWN, f_reduce) == CUDA_ERROR_INVALID_VALUE &&
         cu.FuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, (CUfunction)&v) == CUDA_ERROR_INVALID_HANDLE,
     "cuFuncSetAttribute: dynamic shared memory up to 227 KiB - static on CC 9.0, nothing else");
  cu.DevicePrimaryCtxRelease(0);
  load_test_module("8.6");
  CHECK(!cu.FuncSetAttribute(f_dyn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 99 * 1024) &&
         cu.FuncSetAttribute(f_dyn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 99 * 1024 + 1) ==
             CUDA_ERROR_INVALID_VALUE &&
         !cu.FuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f_reduce) && v == 1024,
     "CC 8.6: opt-in up to 99 KiB");
  cu.DevicePrimaryCtxRelease(0);
}

/* ------------------------------------------------------------- launches */

struct s12 { int a; float b; int c; };

static uint32_t fbits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static CUresult launch1(CUfunction f, unsigned g, unsigned b, unsigned smem, CUstream s, void **args) {
  return cu.LaunchKernel(f, g, 1, 1, b, 1, 1, smem, s, args, NULL);
}

static void test_launches(const char *cc) {
  CUdeviceptr dout, din, dx, dy;
  load_test_module(cc);

  /* marshalling: every parameter comes back */
  int i = -7, in = 42;
  size_t z = 0x123456789abcdef0ull;
  float fl = 3.5f;
  char ch = -5;
  struct s12 st = {11, 2.25f, -13};
  unsigned out[9] = {0};
  cu.MemAlloc(&dout, sizeof out);
  cu.MemAlloc(&din, sizeof in);
  cu.MemcpyHtoDAsync(din, &in, sizeof in, NULL);
  void *args[] = {&dout, &i, &z, &fl, &ch, &st, &din};
  CUresult r = launch1(f_params, 1, 32, 0, NULL, args);
  cu.MemcpyDtoHAsync(out, dout, sizeof out, NULL);
  CHECK(!r && !cu.StreamSynchronize(NULL) && out[0] == (unsigned)-7 && out[1] == 0x9abcdef0u &&
         out[2] == 0x12345678u && out[3] == fbits(3.5f) && out[4] == (unsigned)-5 && out[5] == 11 &&
         out[6] == fbits(2.25f) && out[7] == (unsigned)-13 && out[8] == 42,
     "%s: parameters (pointer, int, size_t, float, char, 12-byte struct, pointer) arrive as the cubin lays them out", cc);

  /* axpy over a grid with a partial last block */
  enum { N = 1000 };
  float x[N], y[N], got[N];
  for (int k = 0; k < N; k++) {
    x[k] = (float)k;
    y[k] = (float)(2 * k + 1);
  }
  cu.MemAlloc(&dx, sizeof x);
  cu.MemAlloc(&dy, sizeof y);
  cu.MemcpyHtoDAsync(dx, x, sizeof x, NULL);
  cu.MemcpyHtoDAsync(dy, y, sizeof y, NULL);
  float a = 3.0f;
  int n = N;
  void *aargs[] = {&dy, &dx, &a, &n};
  r = launch1(f_axpy, (N + 255) / 256, 256, 0, NULL, aargs);
  cu.MemcpyDtoHAsync(got, dy, sizeof got, NULL);
  int bad = 0;
  for (int k = 0; k < N; k++)
    bad += got[k] != 3.0f * (float)k + (float)(2 * k + 1);
  CHECK(!r && !bad, "%s: axpy over 4 blocks of 256 threads", cc);

  /* a reduction with barriers and static shared memory */
  enum { B = 8, T = 256 };
  float rin[B * T], rout[B], want[B];
  CUdeviceptr drin, drout;
  for (int k = 0; k < B * T; k++)
    rin[k] = (float)((k * 7) % 13);
  for (int b = 0; b < B; b++) {
    want[b] = 0;
    for (int t = 0; t < T; t++)
      want[b] += rin[b * T + t];
  }
  cu.MemAlloc(&drin, sizeof rin);
  cu.MemAlloc(&drout, sizeof rout);
  cu.MemcpyHtoDAsync(drin, rin, sizeof rin, NULL);
  void *rargs[] = {&drout, &drin};
  r = launch1(f_reduce, B, T, 0, NULL, rargs);
  cu.MemcpyDtoHAsync(rout, drout, sizeof rout, NULL);
  CHECK(!r && !cu.CtxSynchronize() && memcmp(rout, want, sizeof want) == 0,
     "%s: block reduction with __syncthreads and static shared memory (%s)", cc, r ? le() : "ok");

  /* dynamic shared memory */
  int dn = 200;
  void *dargs[] = {&dy, &dx, &dn};
  r = launch1(f_dyn, 1, 256, (unsigned)dn * 4, NULL, dargs);
  cu.MemcpyDtoHAsync(got, dy, (size_t)dn * 4, NULL);
  bad = 0;
  for (int k = 0; k < dn; k++)
    bad += got[k] != x[dn - 1 - k];
  CHECK(!r && !bad, "%s: dynamic shared memory", cc);
  r = cu.FuncSetAttribute(f_dyn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 96 * 1024);
  CHECK(!r && !launch1(f_dyn, 1, 256, 96 * 1024, NULL, dargs) && !cu.StreamSynchronize(NULL),
     "%s: 96 KiB of dynamic shared memory after the opt-in", cc);

  /* refusals */
  CUstream bogus = (CUstream)&bad;
  CHECK(cu.LaunchKernel(f_axpy, 0, 1, 1, 32, 1, 1, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.LaunchKernel(f_axpy, 1, 65536, 1, 32, 1, 1, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.LaunchKernel(f_axpy, 1, 1, 65536, 32, 1, 1, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.LaunchKernel(f_axpy, 1, 1, 1, 0, 1, 1, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.LaunchKernel(f_axpy, 1, 1, 1, 1025, 1, 1, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.LaunchKernel(f_axpy, 1, 1, 1, 1, 1, 65, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE &&
         cu.LaunchKernel(f_axpy, 1, 1, 1, 32, 32, 2, 0, NULL, aargs, NULL) == CUDA_ERROR_INVALID_VALUE,
     "%s: grid 0 or y/z > 65535, block 0, > 1024 threads or z > 64: CUDA_ERROR_INVALID_VALUE", cc);
  CHECK(launch1(f_reduce, 1, 256, 47 * 1024 + 1, NULL, rargs) == CUDA_ERROR_INVALID_VALUE &&
         launch1(f_axpy, 1, 256, 48 * 1024 + 1, NULL, aargs) == CUDA_ERROR_INVALID_VALUE &&
         !launch1(f_axpy, 1, 256, 48 * 1024, NULL, aargs),
     "%s: static + dynamic shared memory above 48 KiB without the opt-in: CUDA_ERROR_INVALID_VALUE", cc);
  void *extra[] = {NULL};
  void *nullarg[] = {&dy, NULL, &a, &n};
  CHECK(cu.LaunchKernel(f_axpy, 1, 1, 1, 32, 1, 1, 0, NULL, aargs, extra) == CUDA_ERROR_INVALID_VALUE &&
         launch1(f_axpy, 1, 32, 0, NULL, NULL) == CUDA_ERROR_INVALID_VALUE &&
         launch1(f_axpy, 1, 32, 0, NULL, nullarg) == CUDA_ERROR_INVALID_VALUE &&
         launch1((CUfunction)&bad, 1, 32, 0, NULL, aargs) == CUDA_ERROR_INVALID_HANDLE &&
         launch1(f_axpy, 1, 32, 0, bogus, aargs) == CUDA_ERROR_INVALID_HANDLE,
     "%s: extra, missing parameters, a bogus function or stream: refused", cc);
  CHECK(!cu.StreamSynchronize(NULL), "%s: the refusals are not sticky", cc);
  cu.DevicePrimaryCtxRelease(0);
}

/* A fault: the launch succeeds, the next calls fail until the context is released. */
static void test_faults(void) {
  CUdeviceptr p;
  int one = 1;
  void *targs[] = {&one};
  load_test_module("9.0");
  CUresult r = launch1(f_trap, 1, 32, 0, NULL, targs);
  CUresult s1 = cu.StreamSynchronize(NULL), s2 = cu.MemAlloc(&p, 16);
  CHECK(r == CUDA_SUCCESS && s1 == CUDA_ERROR_ILLEGAL_INSTRUCTION && s2 == CUDA_ERROR_ILLEGAL_INSTRUCTION,
     "__trap: the launch returns success, later calls CUDA_ERROR_ILLEGAL_INSTRUCTION (%d %d %d)", r, s1, s2);
  const char *msg = le();
  CHECK(strstr(msg, "gk_test_trap") != NULL, "gk_emu_last_error names the kernel: %s", msg);
  CHECK(launch1(f_axpy, 1, 32, 0, NULL, targs) == CUDA_ERROR_ILLEGAL_INSTRUCTION &&
         cu.ModuleLoadData(&mod, fatbin) == CUDA_ERROR_ILLEGAL_INSTRUCTION,
     "sticky: launches and module loads fail too");
  cu.DevicePrimaryCtxRelease(0);
  load_test_module("9.0");
  CHECK(!cu.MemAlloc(&p, 16) && !cu.CtxSynchronize(), "released to refcount 0 and retained: the fault is gone");

  CUdeviceptr dout;
  cu.MemAlloc(&dout, 64 * sizeof(int));
  void *bargs[] = {&dout};
  r = launch1(f_barrier, 1, 64, 0, NULL, bargs);
  s1 = cu.CtxSynchronize();
  CHECK(!r && s1 == CUDA_ERROR_LAUNCH_FAILED, "a barrier not reached by every thread: CUDA_ERROR_LAUNCH_FAILED (%s)", le());
  cu.DevicePrimaryCtxRelease(0);
  if (!race_checked("gk_test_race")) {
    skip("test_kernels.cu is not compiled with the race instrumentation here (the ASan lane)");
    return;
  }
  load_test_module("9.0");
  cu.MemAlloc(&dout, 64 * sizeof(int));
  r = launch1(f_race, 1, 64, 0, NULL, bargs);
  s1 = cu.CtxSynchronize();
  CHECK(!r && s1 == CUDA_ERROR_LAUNCH_FAILED, "a shared-memory race: CUDA_ERROR_LAUNCH_FAILED (%s)", le());
  cu.DevicePrimaryCtxRelease(0);
}

/* The child: writes one byte past an allocation, then one before another.
 * Exit 0 when the driver reported both as sticky CUDA_ERROR_ILLEGAL_ADDRESS
 * naming the kernel and the allocation. */
static int redzone_child(void) {
  CUdeviceptr p;
  unsigned char v = 0x77;
  int n = 101;
  load_driver();
  load_test_module("9.0");
  cu.MemAlloc(&p, 100);
  void *args[] = {&p, &n, &v};
  CUresult r = launch1(f_store, 1, 1, 0, NULL, args);
  CUresult s = cu.StreamSynchronize(NULL);
  const char *m = le();
  fprintf(stderr, "child: launch %d, sync %d: %s\n", r, s, m);
  int ok1 = !r && s == CUDA_ERROR_ILLEGAL_ADDRESS && strstr(m, "gk_test_store") && strstr(m, "past the end") &&
            strstr(m, "100 bytes");
  cu.DevicePrimaryCtxRelease(0);
  load_test_module("9.0");
  cu.MemAlloc(&p, 100);
  CUdeviceptr q = p - 2;
  n = 1;
  void *args2[] = {&q, &n, &v};
  r = launch1(f_store, 1, 1, 0, NULL, args2);
  s = cu.CtxSynchronize();
  m = le();
  fprintf(stderr, "child: launch %d, sync %d: %s\n", r, s, m);
  int ok2 = !r && s == CUDA_ERROR_ILLEGAL_ADDRESS && strstr(m, "before the start");
  cu.DevicePrimaryCtxRelease(0);
  return ok1 && ok2 ? 0 : 3;
}

static void test_redzone(const char *self) {
  int fds[2];
  if (pipe(fds) < 0)
    bail_out("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execl("/proc/self/exe", self, "--redzone-child", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char buf[16384];
  size_t len = 0;
  ssize_t k;
  while ((k = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)k;
  buf[len] = 0;
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  int driver_caught = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  int asan_caught = strstr(buf, "AddressSanitizer") && strstr(buf, "use-after-poison");
  if (!driver_caught && !asan_caught)
    diag("child status %d, output: %.600s", st, buf);
#ifdef TEST_ASAN
  CHECK(asan_caught || driver_caught, "red zones (ASan build): a kernel's store past an allocation is %s",
     asan_caught ? "reported by AddressSanitizer (poisoned red zone)" : "a sticky CUDA_ERROR_ILLEGAL_ADDRESS");
#else
  (void)asan_caught;
  CHECK(driver_caught, "red zones: stores past the end and before the start of an allocation are a sticky "
     "CUDA_ERROR_ILLEGAL_ADDRESS naming kernel and allocation");
#endif
}

/* -------------------------------------------------------- streams, graphs */

struct end_args { CUstream s; CUgraph g; CUresult r; };
static void *end_other_thread(void *p) {
  struct end_args *e = p;
  CUcontext c;
  cu.DevicePrimaryCtxRetain(&c, 0);
  cu.CtxSetCurrent(c);
  e->r = cu.StreamEndCapture(e->s, &e->g);
  cu.DevicePrimaryCtxRelease(0);
  return NULL;
}

static void test_streams_graphs(void) {
  CUstream s, s2;
  CUgraph g = NULL;
  CUgraphExec e = NULL;
  CUdeviceptr dx, dy, dz, tmp;
  int st = -1;
  load_test_module("9.0");
  CHECK(!cu.StreamCreate(&s, CU_STREAM_NON_BLOCKING) && !cu.StreamCreate(&s2, CU_STREAM_DEFAULT) &&
         cu.StreamCreate(&s, 4) == CUDA_ERROR_INVALID_VALUE &&
         cu.StreamDestroy(NULL) == CUDA_ERROR_INVALID_HANDLE &&
         !cu.StreamIsCapturing(s, &st) && st == CU_STREAM_CAPTURE_STATUS_NONE,
     "cuStreamCreate / cuStreamIsCapturing; bad flags or the legacy stream refused");
  CHECK(cu.StreamBeginCapture(NULL, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED &&
         cu.StreamBeginCapture(s, 7) == CUDA_ERROR_INVALID_VALUE &&
         cu.StreamEndCapture(s, &g) != CUDA_SUCCESS,
     "capture of the legacy stream, a bad mode, or ending a capture never begun: refused");

  enum { N = 512 };
  float x[N], y[N], got[N];
  for (int k = 0; k < N; k++) {
    x[k] = (float)k;
    y[k] = 1.0f;
  }
  cu.MemAlloc(&dx, sizeof x);
  cu.MemAlloc(&dy, sizeof y);
  cu.MemAlloc(&dz, sizeof y);
  cu.MemcpyHtoDAsync(dx, x, sizeof x, s);
  cu.MemcpyHtoDAsync(dy, y, sizeof y, s);
  cu.StreamSynchronize(s);
  float a = 2.0f;
  int n = N;
  void *args[] = {&dy, &dx, &a, &n};
  int attempts0 = capture_alloc_attempts();

  /* record: memset z, axpy y += 2x, copy y -> z */
  CUresult r = cu.StreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL);
  CHECK(!r && !cu.StreamIsCapturing(s, &st) && st == CU_STREAM_CAPTURE_STATUS_ACTIVE, "capture begun");
  CHECK(!cu.MemsetD8Async(dz, 0, sizeof y, s) && !launch1(f_axpy, 2, 256, 0, s, args) &&
         !cu.MemcpyDtoDAsync(dz, dy, sizeof y, s),
     "memset, launch and device copy are recorded");
  CHECK(cu.StreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL) != CUDA_SUCCESS, "a second cuStreamBeginCapture is refused");
  CHECK(!cu.MemcpyDtoHAsync(got, dy, sizeof got, s2) && got[1] == 1.0f,
     "while capturing, nothing recorded has run");
  r = cu.StreamEndCapture(s, &g);
  CHECK(!r && g && !cu.StreamIsCapturing(s, &st) && st == CU_STREAM_CAPTURE_STATUS_NONE, "cuStreamEndCapture gives a graph");
  cu.MemcpyDtoHAsync(got, dy, sizeof got, s);
  CHECK(got[5] == 1.0f, "after the capture, still nothing has run");
  CHECK(!cu.GraphInstantiate(&e, g, 0) && cu.GraphInstantiate(&e, (CUgraph)&st, 0) == CUDA_ERROR_INVALID_HANDLE,
     "cuGraphInstantiateWithFlags");
  for (int k = 0; k < N; k++)
    x[k] = (float)(k % 17);                         /* new inputs, uploaded after the capture */
  cu.MemcpyHtoDAsync(dx, x, sizeof x, s);
  r = cu.GraphLaunch(e, s);
  cu.StreamSynchronize(s);
  float gz[N];
  cu.MemcpyDtoHAsync(got, dy, sizeof got, s);
  cu.MemcpyDtoHAsync(gz, dz, sizeof gz, s);
  int bad = 0;
  for (int k = 0; k < N; k++)
    bad += got[k] != 1.0f + 2.0f * (float)(k % 17) || gz[k] != got[k];
  CHECK(!r && !bad, "cuGraphLaunch replays memset, kernel and copy in order, with the inputs uploaded after capture");
  CHECK(!cu.GraphLaunch(e, NULL) && !cu.StreamSynchronize(NULL) && !cu.MemcpyDtoHAsync(got, dy, sizeof got, NULL) &&
         got[3] == 1.0f + 4.0f * 3.0f,
     "a second replay, on the legacy stream, computes again");
  CHECK(!cu.GraphDestroy(g) && !cu.GraphLaunch(e, s2) && !cu.StreamSynchronize(s2) &&
         cu.GraphDestroy(g) == CUDA_ERROR_INVALID_HANDLE,
     "the exec outlives its graph; a destroyed graph is an invalid handle");

  /* what a capture refuses */
  r = cu.StreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL);
  CUresult ra = cu.MemAlloc(&tmp, 64);
  CHECK(!r && ra == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED && capture_alloc_attempts() == attempts0 + 1 &&
         !cu.StreamIsCapturing(s, &st) && st == CU_STREAM_CAPTURE_STATUS_INVALIDATED,
     "cuMemAlloc during capture: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, counted, capture invalidated");
  CHECK(launch1(f_axpy, 2, 256, 0, s, args) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
     "work on an invalidated capture: CUDA_ERROR_STREAM_CAPTURE_INVALIDATED");
  g = (CUgraph)1;
  CHECK(cu.StreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED && g == NULL,
     "cuStreamEndCapture of it: CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, no graph");

  struct { const char *what; int op; } refused[] = {
    {"cuMemcpyHtoDAsync from pageable memory", 0}, {"cuMemcpyDtoHAsync to pageable memory", 1},
    {"cuStreamSynchronize", 2}, {"cuCtxSynchronize", 3}, {"cuMemFree", 4},
    {"work on the legacy stream (blocking capture)", 5},
    {"cuStreamSynchronize of another stream", 6},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    CUstream cs = refused[i].op == 5 ? s2 : s;         /* s2 is a blocking stream */
    cu.StreamBeginCapture(cs, CU_STREAM_CAPTURE_MODE_GLOBAL);
    switch (refused[i].op) {
    case 0: r = cu.MemcpyHtoDAsync(dx, x, 16, cs); break;
    case 1: r = cu.MemcpyDtoHAsync(got, dx, 16, cs); break;
    case 2: r = cu.StreamSynchronize(cs); break;
    case 3: r = cu.CtxSynchronize(); break;
    case 4: r = cu.MemFree(dz); break;
    case 5: r = cu.MemsetD8Async(dz, 0, 16, NULL); break;
    default: r = cu.StreamSynchronize(s2); break;
    }
    CUresult re = cu.StreamEndCapture(cs, &g);
    CHECK(r == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED && re == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
       "during capture, %s: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and the capture is invalidated", refused[i].what);
  }
  CHECK(capture_alloc_attempts() == attempts0 + 1, "only cuMemAlloc counts as an allocation attempt");

  /* end from another thread: refused in global mode */
  cu.StreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL);
  launch1(f_axpy, 2, 256, 0, s, args);
  struct end_args ea = {s, NULL, -1};
  pthread_t t;
  pthread_create(&t, NULL, end_other_thread, &ea);
  pthread_join(t, NULL);
  r = cu.StreamEndCapture(s, &g);
  CHECK(ea.r == CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD && !r && g,
     "cuStreamEndCapture from another thread: CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD");
  cu.GraphDestroy(g);

  /* a graph whose memset target was freed: a fault at replay */
  CUdeviceptr victim;
  CUgraphExec e2;
  cu.MemAlloc(&victim, 256);
  cu.StreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED);
  cu.MemsetD8Async(victim, 1, 256, s);
  cu.StreamEndCapture(s, &g);
  cu.GraphInstantiate(&e2, g, 0);
  cu.MemFree(victim);
  r = cu.GraphLaunch(e2, s);
  CUresult rs = cu.StreamSynchronize(s);
  CHECK(!r && rs == CUDA_ERROR_ILLEGAL_ADDRESS,
     "replaying a memset into freed memory: a sticky CUDA_ERROR_ILLEGAL_ADDRESS (%s)", le());
  cu.DevicePrimaryCtxRelease(0);

  load_test_module("9.0");
  CHECK(cu.GraphExecDestroy(e) == CUDA_ERROR_INVALID_HANDLE && cu.StreamDestroy(s) == CUDA_ERROR_INVALID_HANDLE,
     "after the context's release, its graphs and streams are gone");
  CHECK(!cu.StreamCreate(&s, 0) && !cu.StreamDestroy(s) && cu.StreamDestroy(s) == CUDA_ERROR_INVALID_HANDLE,
     "cuStreamDestroy; twice is an invalid handle");
  cu.DevicePrimaryCtxRelease(0);
}

/* ------------------------------------------------------------ threads */

static void *worker(void *arg) {
  CUcontext c;
  int *errs = arg;
  cu.DevicePrimaryCtxRetain(&c, 0);
  cu.CtxSetCurrent(c);
  for (int it = 0; it < 50; it++) {
    CUdeviceptr dx, dy;
    float x[64], y[64];
    for (int k = 0; k < 64; k++)
      x[k] = y[k] = (float)k;
    float a = 1.0f;
    int n = 64;
    void *args[] = {&dy, &dx, &a, &n};
    if (cu.MemAlloc(&dx, sizeof x) || cu.MemAlloc(&dy, sizeof y) || cu.MemcpyHtoDAsync(dx, x, sizeof x, NULL) ||
        cu.MemcpyHtoDAsync(dy, y, sizeof y, NULL) || launch1(f_axpy, 1, 64, 0, NULL, args) ||
        cu.MemcpyDtoHAsync(y, dy, sizeof y, NULL) || y[63] != 126.0f || cu.MemFree(dx) || cu.MemFree(dy))
      (*errs)++;
  }
  cu.DevicePrimaryCtxRelease(0);
  return NULL;
}

static void test_threads(void) {
  pthread_t t[4];
  int errs[4] = {0};
  load_test_module("9.0");
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, &errs[i]);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  CHECK(!errs[0] && !errs[1] && !errs[2] && !errs[3], "4 threads allocating, copying and launching at once");
  cu.DevicePrimaryCtxRelease(0);
}

int main(int argc, char **argv) {
  if (getenv("GLLMK_TEST_NO_CUDA")) {   /* .ci/run's reruns per CPU ISA */
    printf("1..0 # SKIP GLLMK_TEST_NO_CUDA is set\n");
    return 0;
  }
  const char *seed = getenv("GLLMK_TEST_SEED");
  rng_state = seed ? strtoull(seed, NULL, 0) : 0x5eedull;
  if (argc > 1 && strcmp(argv[1], "--redzone-child") == 0) {
    const char *path = getenv("GLLMK_CUDAEMU_TEST_FATBIN");
    fatbin = path ? read_file(path, &fatbin_size) : NULL;
    return fatbin ? redzone_child() : 4;
  }
  load_driver();
  test_stub_names();
  test_uninitialized();
  test_errors();
  test_devices();
  test_contexts();
  test_memory();

  const char *path = getenv("GLLMK_CUDAEMU_TEST_FATBIN");
  fatbin = path ? read_file(path, &fatbin_size) : NULL;
  if (!fatbin) {
    skip("GLLMK_CUDAEMU_TEST_FATBIN not set or unreadable (nvcc builds it): no module, launch or graph test");
  } else {
    test_parser();
    test_module_selection();
    test_malformed();
    test_fuzz();
    test_functions();
    test_launches("9.0");
    test_launches("8.6");
    test_faults();
    test_redzone(argv[0]);
    test_streams_graphs();
    test_threads();
  }
  free(fatbin);
  emu_reset();
  return done_testing();
}
