/* test_cuda_layout.c -- mma/ldmatrix fragment layouts, cp.async, dp4a, prmt vs the PTX ISA, emulated or on a GPU
 * SPDX-License-Identifier: MIT
 *
 *   GLLMK_CUDA_DRIVER=tests/cudaemu/.libs/libcuda.so.1 tests/test_cuda_layout   (make check)
 *   GLLMK_CUDA_DRIVER=libcuda.so.1 GLLMK_TEST_REQUIRE_CUDA=1 tests/test_cuda_layout   (a GPU)
 *
 * The driver (GLLMK_CUDA_DRIVER, default libcuda.so.1) is dlopen'ed and its
 * entry points resolved with cu.h's GLLMK_CU_API X-macro, as the backend
 * does; device 0's primary context runs the kernels of
 * tests/cudaemu/layout_kernels.cu, loaded from layout_kernels.fatbin
 * (GLLMK_CUDA_LAYOUT_FATBIN, default $top_builddir/tests/cudaemu/...; SASS
 * for sm_80 86 89 90 100 120).  In `make check` the driver is the emulated
 * one, so this checks the emulation of gk_arch.cuh against the PTX ISA
 * manual; on a GPU the same binary checks the hardware against the same
 * references, so that both passing means the emulation and the hardware agree.
 * No driver, no device, or no fatbin: the whole program is one TAP skip,
 * unless GLLMK_TEST_REQUIRE_CUDA=1, which makes it a failure.
 *
 * The references are written here in plain C, independently of the
 * emulator: the fragment tables of the PTX ISA (which lane and register, and
 * which bits of it, hold which (row, col) of which matrix), transcribed in
 * the manual's own terms, and plain matrix products.  The kernels never
 * compute a fragment layout: they dump registers raw, per lane, and take C
 * (and, in the raw modes, A and B) registers raw; only the GEMM-style
 * ldmatrix addressing (which lane points at which row) is theirs.  For each
 * seed (GLLMK_TEST_SEED, then GLLMK_LAYOUT_SEEDS seeds, default 4):
 *  - ldmatrix .x1 .x2 .x4 .x2.trans .x4.trans of 8x8 b16 matrices whose rows
 *    are scattered over a pool of 48 shared rows (every element a distinct
 *    16-bit code, so a wrong element is named by where it came from);
 *  - mma.m16n8k16 f16 and bf16, A by ldmatrix.x4 and B by ldmatrix.x2 of an
 *    N-major copy and by ldmatrix.x2.trans of a K-major copy, tiles staged by
 *    cp.async: the a/b registers against the mma fragment tables, and D
 *    against A.B + C; A holds the integers -128..127 and B -64..63 (each
 *    once, shuffled), C integers below 2^17, each scaled by a power of two,
 *    so every partial sum is exact in f32 and D must match bit for bit
 *    whatever the tensor core's summation order;
 *  - the same mma with a/b registers built here from the tables (mma alone);
 *  - a rounding-sensitive mma (random f16/bf16 mantissas over 2^-6..2^6 /
 *    2^-8..2^8, random f32 C, some with near-total cancellation): the
 *    tensor cores' f32 accumulation order and intermediate rounding are not
 *    specified, so D is compared with the exact sum within
 *    2^-17 * (|c| + sum |a_k b_k|), 64 units of f32 precision of the sum of
 *    magnitudes (Fasi, Higham, Mikaitis and Pranesh, "Numerical behavior of
 *    NVIDIA tensor cores", 2021, measured on V100, T4 and A100 exact products
 *    and truncated alignment costing a few units per block of 4-8 products;
 *    any fragment or product-rounding error is far larger); the largest
 *    error seen is printed, as a fraction of that bound and in ulps of D;
 *  - mma.m16n8k32 s8 -> s32: A and B through ldmatrix as b16 pairs (N-major
 *    B, as int8 GEMMs do), then raw registers with values over the whole s8
 *    range, then extreme values with C near the int32 limits, where (no
 *    .satfinite) D wraps modulo 2^32;
 *  - cp.async 16-byte copies from scattered sources in three commit groups,
 *    each read after the wait_group that guarantees it, then across lanes
 *    after a barrier, then wait_all of uncommitted copies;
 *  - dp4a.s32.s32 and prmt.b32 (default mode) over edge bytes (0, 1, 0x7f,
 *    0x80, 0x81, 0xfe, 0xff), accumulators at the int32 limits (wrapping),
 *    every selector nibble, known answers and random words.
 * A failure names the first mismatching lane, register, bits and element,
 * and what the mismatching value is where the data makes that decidable.
 */
#define _GNU_SOURCE
#define TAP_IMPLEMENTATION
#include "tap.h"
#include "cu.h"

#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ok() whose condition is evaluated before the description's arguments */
#define CHECK(cond, ...)     \
  do {                       \
    int check_ = !!(cond);   \
    ok(check_, __VA_ARGS__); \
  } while (0)

/* ================================================================ the PTX ISA's tables
 * Transcribed from the PTX ISA manual (sections "ldmatrix" and "Matrix
 * fragments for mma.m16n8k16 with floating point type" / "... for
 * mma.m16n8k32"), in its terms. */

/* ldmatrix.sync.aligned.m8n8.{x1,x2,x4}{,.trans}.b16: the eight row
 * addresses of matrix m come from lanes 8m .. 8m+7 (row j from lane 8m + j),
 * and matrix m lands in destination register r[m].  Each lane receives two
 * b16 elements of each matrix, the first in bits 0-15: lane l gets row l/4,
 * columns 2(l%4) and 2(l%4)+1 ("a group of four consecutive threads loads a
 * row").  With .trans the matrix is read column-major: lane l gets column
 * l/4, rows 2(l%4) and 2(l%4)+1, of the rows as stored. */
static void ptx_ldmatrix(int trans, int lane, int half, int *row, int *col) {
  int r = lane / 4, c = 2 * (lane % 4) + half;
  *row = trans ? c : r;
  *col = trans ? r : c;
}

/* mma.m16n8k16 .f16/.bf16: groupID = %laneid >> 2, threadID_in_group =
 * %laneid % 4.  A (16x16) is a0..a7 in four .f16x2/.bf16x2 registers: ai is
 * in register i/2, bits 16*(i%2) (a0 in the low half of the first). */
static void ptx_m16n8k16_a(int lane, int i, int *row, int *col) {
  int groupID = lane >> 2, threadID_in_group = lane % 4;
  *row = (i < 2 || (i >= 4 && i < 6)) ? groupID : groupID + 8;
  *col = i < 4 ? threadID_in_group * 2 + (i & 0x1) : threadID_in_group * 2 + (i & 0x1) + 8;
}
/* B (16x8) is b0..b3 in two registers, bi in register i/2, bits 16*(i%2). */
static void ptx_m16n8k16_b(int lane, int i, int *row, int *col) {
  int groupID = lane >> 2, threadID_in_group = lane % 4;
  *row = i < 2 ? threadID_in_group * 2 + (i & 0x1) : threadID_in_group * 2 + (i & 0x1) + 8;
  *col = groupID;
}
/* C and D (16x8, .f32 or .s32) are c0..c3, one per register, for both shapes. */
static void ptx_m16n8_cd(int lane, int i, int *row, int *col) {
  int groupID = lane >> 2, threadID_in_group = lane % 4;
  *row = i < 2 ? groupID : groupID + 8;
  *col = threadID_in_group * 2 + (i & 0x1);
}
/* mma.m16n8k32 .s8: A (16x32) is a0..a15 in four .s8x4 registers, ai in
 * register i/4, bits 8*(i%4). */
static void ptx_m16n8k32_a(int lane, int i, int *row, int *col) {
  int groupID = lane >> 2, threadID_in_group = lane % 4;
  *row = ((i >= 0 && i < 4) || (i >= 8 && i < 12)) ? groupID : groupID + 8;
  *col = i < 8 ? threadID_in_group * 4 + (i & 0x3) : threadID_in_group * 4 + (i & 0x3) + 16;
}
/* B (32x8) is b0..b7 in two registers, bi in register i/4, bits 8*(i%4). */
static void ptx_m16n8k32_b(int lane, int i, int *row, int *col) {
  int groupID = lane >> 2, threadID_in_group = lane % 4;
  *row = i < 4 ? threadID_in_group * 4 + (i & 0x3) : threadID_in_group * 4 + (i & 0x3) + 16;
  *col = groupID;
}

typedef void (*frag_fn)(int lane, int i, int *row, int *col);

/* Each table places every element of its matrix exactly once (guards the
 * transcription against typos). */
static int table_is_bijection(frag_fn f, int per_lane, int rows, int cols) {
  int seen[32 * 32] = {0};
  for (int l = 0; l < 32; l++)
    for (int i = 0; i < per_lane; i++) {
      int r, c;
      f(l, i, &r, &c);
      if (r < 0 || r >= rows || c < 0 || c >= cols || seen[r * cols + c]++)
        return 0;
    }
  return 1;
}
static void ldm_plain(int l, int i, int *r, int *c) { ptx_ldmatrix(0, l, i, r, c); }
static void ldm_trans(int l, int i, int *r, int *c) { ptx_ldmatrix(1, l, i, r, c); }

/* ================================================================ numbers */

static uint64_t rng;
static uint64_t next64(void) {   /* splitmix64 */
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint32_t next32(void) { return (uint32_t)(next64() >> 32); }
static int irand(int n) { return (int)(next64() % (uint64_t)n); }   /* 0 .. n-1 */
static void shuffle(int *v, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = irand(i + 1), t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
}

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* IEEE binary16 -> double, every encoding */
static double f16_value(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0x1f) return m ? NAN : s * INFINITY;
  if (e == 0) return s * ldexp(m, -24);
  return s * ldexp(m | 0x400, e - 25);
}
static double bf16_value(uint16_t h) { return (double)bitsf((uint32_t)h << 16); }
static double b16_value(int bf, uint16_t h) { return bf ? bf16_value(h) : f16_value(h); }

/* k * 2^e as f16 or bf16, which must be exact (|k| < 256, normal range) */
static uint16_t b16_exact(int bf, int k, int e) {
  double v = ldexp(k, e);
  uint16_t h;
  if (bf) {
    h = (uint16_t)(fbits((float)v) >> 16);
  } else if (k == 0) {
    h = 0;
  } else {
    int ex;
    double m = frexp(fabs(v), &ex);            /* v = m 2^ex, m in [0.5, 1) */
    h = (uint16_t)((v < 0 ? 0x8000 : 0) | ((ex - 1 + 15) << 10) | ((int)ldexp(m, 11) & 0x3ff));
  }
  if (b16_value(bf, h) != v)
    bail_out("internal: %d * 2^%d is not exact in %s", k, e, bf ? "bf16" : "f16");
  return h;
}

/* ================================================================ the driver */

static struct {
#define GK_FIELD(fn, sym, args) CUresult (*fn) args;
  GLLMK_CU_API(GK_FIELD)
#undef GK_FIELD
} cu;
static const char *(*emu_last_error)(void);   /* the emulated driver's test hooks, if any */
static int (*emu_race_checked)(const char *kernel);
static CUdevice dev;
static CUcontext ctx;
static CUmodule mod;
static CUfunction f_ldm, f_mma_b16, f_mma_s8, f_cp, f_int;

static const char *errname(CUresult r) {
  const char *s = NULL;
  if (cu.GetErrorName && cu.GetErrorName(r, &s) == CUDA_SUCCESS && s) return s;
  return "?";
}
static const char *emu_detail(void) {
  const char *s = emu_last_error ? emu_last_error() : NULL;
  return s ? s : "";
}

/* Nothing to run on: one TAP skip for the whole program, or a failure when
 * GLLMK_TEST_REQUIRE_CUDA=1. */
static void no_device(const char *fmt, ...) TAP_PRINTF(1, 2);
static void no_device(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if (*p == '#' || *p == '\n') *p = ' ';
  const char *req = getenv("GLLMK_TEST_REQUIRE_CUDA");
  if (req && strcmp(req, "1") == 0)
    bail_out("GLLMK_TEST_REQUIRE_CUDA=1, but %s", msg);
  printf("1..0 # SKIP %s\n", msg);
  exit(0);
}

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *p = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (p = malloc((size_t)n)) != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  *size = p ? (size_t)n : 0;
  return p;
}

static void open_device(void) {
  const char *path = getenv("GLLMK_CUDA_DRIVER");
  if (!path || !*path) path = "libcuda.so.1";
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) no_device("no CUDA driver: %s", dlerror());
#define GK_SYM(fn, sym, args) \
  if (!(*(void **)&cu.fn = dlsym(lib, sym))) no_device("the CUDA driver %s has no %s (too old?)", path, sym);
  GLLMK_CU_API(GK_SYM)
#undef GK_SYM
  *(void **)&emu_last_error = dlsym(lib, "gk_emu_last_error");
  *(void **)&emu_race_checked = dlsym(lib, "gk_emu_race_checked");
  CUresult r = cu.Init(0);
  if (r == CUDA_ERROR_STUB_LIBRARY) no_device("%s is the toolkit's stub library, not a driver", path);
  if (r != CUDA_SUCCESS) no_device("cuInit: %s (%d)", errname(r), r);
  int n = 0, version = 0, major = 0, minor = 0;
  if (cu.DeviceGetCount(&n) != CUDA_SUCCESS || n <= 0) no_device("the CUDA driver found no device");
  char name[256] = "?";
  if (cu.DeviceGet(&dev, 0) || cu.DeviceGetName(name, sizeof name, dev) ||
      cu.DeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) ||
      cu.DeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev))
    bail_out("cannot query device 0 %s", emu_detail());
  cu.DriverGetVersion(&version);
  diag("driver %s (CUDA %d.%d%s), device 0: %s, compute capability %d.%d", path, version / 1000,
       version % 1000 / 10, emu_last_error ? ", the emulated driver" : "", name, major, minor);
  if ((r = cu.DevicePrimaryCtxRetain(&ctx, dev)) || (r = cu.CtxSetCurrent(ctx)))
    bail_out("device 0's primary context: %s %s", errname(r), emu_detail());

  const char *fb = getenv("GLLMK_CUDA_LAYOUT_FATBIN");
  char buf[4096];
  if (!fb || !*fb) {
    const char *top = getenv("top_builddir");
    snprintf(buf, sizeof buf, "%s/tests/cudaemu/layout_kernels.fatbin", top && *top ? top : ".");
    fb = buf;
  }
  size_t size;
  unsigned char *image = read_file(fb, &size);
  if (!image) no_device("no fatbin at %s (GLLMK_CUDA_LAYOUT_FATBIN; make check builds it)", fb);
  r = cu.ModuleLoadData(&mod, image);
  free(image);
  if (r == CUDA_ERROR_NO_BINARY_FOR_GPU)
    no_device("%s has no SASS for compute capability %d.%d", fb, major, minor);
  if (r) bail_out("cuModuleLoadData(%s): %s %s", fb, errname(r), emu_detail());
  if ((r = cu.ModuleGetFunction(&f_ldm, mod, "gk_layout_ldmatrix")) ||
      (r = cu.ModuleGetFunction(&f_mma_b16, mod, "gk_layout_mma_b16")) ||
      (r = cu.ModuleGetFunction(&f_mma_s8, mod, "gk_layout_mma_s8")) ||
      (r = cu.ModuleGetFunction(&f_cp, mod, "gk_layout_cp_async")) ||
      (r = cu.ModuleGetFunction(&f_int, mod, "gk_layout_int_ops")))
    bail_out("cuModuleGetFunction: %s %s", errname(r), emu_detail());
  if (emu_race_checked)
    diag("the emulated driver %s the layout kernels for shared-memory races",
         emu_race_checked("gk_layout_mma_b16") ? "checks" : "does not check (the ASan lane)");
}

static void close_device(void) {
  cu.ModuleUnload(mod);
  cu.DevicePrimaryCtxRelease(dev);
}

/* device buffers: up to 8 live at once, freed by dev_free_all */
static CUdeviceptr live[8];
static int nlive;
static CUdeviceptr dev_buf(const void *host, size_t bytes) {
  CUdeviceptr p;
  CUresult r = cu.MemAlloc(&p, bytes);
  if (!r) r = host ? cu.MemcpyHtoDAsync(p, host, bytes, NULL) : cu.MemsetD8Async(p, 0x5a, bytes, NULL);
  if (r || nlive == 8) bail_out("device buffer of %zu bytes: %s %s", bytes, errname(r), emu_detail());
  return live[nlive++] = p;
}
static void dev_free_all(void) {
  while (nlive) cu.MemFree(live[--nlive]);
}
static void dev_get(void *host, CUdeviceptr p, size_t bytes) {
  CUresult r = cu.MemcpyDtoHAsync(host, p, bytes, NULL);
  if (!r) r = cu.CtxSynchronize();
  if (r) bail_out("copy back: %s %s", errname(r), emu_detail());
}
/* one block of one warp; a fault leaves the context unusable: bail out */
static void run(CUfunction f, const char *what, void **args) {
  CUresult r = cu.LaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL);
  if (!r) r = cu.CtxSynchronize();
  if (r) bail_out("%s: %s %s", what, errname(r), emu_detail());
}

/* ================================================================ ldmatrix */

#define POOL_ROWS 48     /* GK_LAYOUT_POOL_ROWS */
#define LDM_WORDS 13     /* GK_LAYOUT_LDM_WORDS */

static const struct { const char *name; int num, trans, off; } ldm_var[5] = {
  {"ldmatrix.x1", 1, 0, 0}, {"ldmatrix.x2", 2, 0, 1}, {"ldmatrix.x4", 4, 0, 3},
  {"ldmatrix.x2.trans", 2, 1, 7}, {"ldmatrix.x4.trans", 4, 1, 9},
};

static void test_ldmatrix(void) {
  uint16_t pool[POOL_ROWS][8];
  uint16_t key = (uint16_t)next32();
  for (int i = 0; i < POOL_ROWS * 8; i++)   /* distinct codes: odd multiplier, xor */
    pool[i / 8][i % 8] = (uint16_t)((unsigned)i * 0x9e37u) ^ key;
  int rows[POOL_ROWS], rowmap[32];
  for (int i = 0; i < POOL_ROWS; i++) rows[i] = i;
  shuffle(rows, POOL_ROWS);
  memcpy(rowmap, rows, sizeof rowmap);

  uint32_t out[32 * LDM_WORDS];
  CUdeviceptr dout = dev_buf(NULL, sizeof out), dpool = dev_buf(pool, sizeof pool),
              dmap = dev_buf(rowmap, sizeof rowmap);
  void *args[] = {&dout, &dpool, &dmap};
  run(f_ldm, "gk_layout_ldmatrix", args);
  dev_get(out, dout, sizeof out);
  dev_free_all();

  for (int v = 0; v < 5; v++) {
    int bad = 0;
    char first[400] = "";
    for (int lane = 0; lane < 32; lane++)
      for (int m = 0; m < ldm_var[v].num; m++)
        for (int h = 0; h < 2; h++) {
          int row, col;
          ptx_ldmatrix(ldm_var[v].trans, lane, h, &row, &col);
          int prow = rowmap[8 * m + row];
          uint16_t want = pool[prow][col];
          uint16_t got = (uint16_t)(out[lane * LDM_WORDS + ldm_var[v].off + m] >> (16 * h));
          if (got == want) continue;
          if (!bad++) {
            char from[160] = "not in the pool";
            for (int i = 0; i < POOL_ROWS * 8; i++)
              if (pool[i / 8][i % 8] == got) {
                int j;
                for (j = 0; j < 32 && rowmap[j] != i / 8; j++) {}
                if (j < 32)
                  snprintf(from, sizeof from, "col %d of the row of lane %d, pool row %d", i % 8, j, i / 8);
                else
                  snprintf(from, sizeof from, "col %d of pool row %d, no lane's row", i % 8, i / 8);
                break;
              }
            snprintf(first, sizeof first,
                     ": first mismatch lane %d r%d bits %d-%d = 0x%04x (%s), expected 0x%04x = matrix %d "
                     "row %d col %d (col %d of the row of lane %d)",
                     lane, m, 16 * h, 16 * h + 15, got, from, want, m, row, col, col, 8 * m + row);
          }
        }
    CHECK(!bad, "%s: every lane's registers as the PTX ISA lays them out (%d of %d halves differ%s)",
          ldm_var[v].name, bad, 32 * ldm_var[v].num * 2, first);
  }
}

/* ================================================================ mma f16 / bf16 */

#define MODE_LDM_B 0
#define MODE_LDM_BT 1
#define MODE_RAW 2

/* check the registers a lane holds against a table: regs[l*6 + reg0 + ...] */
static int check_frag(const char *what, const uint32_t *regs, int reg0, frag_fn f, int per_lane,
                      int bits, const uint16_t *m16, const int8_t *m8, int cols, char *msg, size_t len) {
  int bad = 0, per_reg = 32 / bits;
  msg[0] = 0;
  for (int lane = 0; lane < 32; lane++)
    for (int i = 0; i < per_lane; i++) {
      int row, col;
      f(lane, i, &row, &col);
      uint32_t mask = bits == 16 ? 0xffffu : 0xffu;
      uint32_t got = (regs[lane * 6 + reg0 + i / per_reg] >> (bits * (i % per_reg))) & mask;
      uint32_t want = bits == 16 ? m16[row * cols + col] : (uint8_t)m8[row * cols + col];
      if (got == want) continue;
      if (!bad++) {
        char from[64] = "";
        if (m16)   /* the b16 test matrices hold distinct values */
          for (int k = 0; k < 16 * cols; k++)
            if (m16[k] == got) {
              snprintf(from, sizeof from, " = %s[%d][%d]", what, k / cols, k % cols);
              break;
            }
        snprintf(msg, len, ": first mismatch lane %d %c%d (%s element %d) bits %d-%d = 0x%0*x%s, expected "
                 "%s[%d][%d] = 0x%0*x",
                 lane, what[0] == 'A' ? 'a' : 'b', i / per_reg, what[0] == 'A' ? "a" : "b", i,
                 bits * (i % per_reg), bits * (i % per_reg) + bits - 1, bits / 4, got, from, what, row,
                 col, bits / 4, want);
      }
    }
  return bad;
}

/* d registers (f32 dreg or s32 ireg, 4 per lane) against the reference D
 * (16x8): exact, or within tol[row][col]; worst (with tol): the largest
 * error as a fraction of tol, and in units of the last place of the f32 D */
static int check_d(const float *dreg, const int32_t *ireg, const double *ref, const double *tol, char *msg,
                   size_t len, double *worst) {
  int bad = 0;
  msg[0] = 0;
  if (worst) worst[0] = worst[1] = 0;
  for (int lane = 0; lane < 32; lane++)
    for (int i = 0; i < 4; i++) {
      int row, col;
      ptx_m16n8_cd(lane, i, &row, &col);
      double want = ref[row * 8 + col], got = dreg ? (double)dreg[lane * 4 + i] : (double)ireg[lane * 4 + i];
      int good;
      if (tol) {
        double err = fabs(got - want);
        good = err <= tol[row * 8 + col];
        if (worst && tol[row * 8 + col] > 0 && err / tol[row * 8 + col] > worst[0])
          worst[0] = err / tol[row * 8 + col];
        if (worst && want != 0) {   /* in units of the last place of the f32 result */
          int ex;
          frexp(want, &ex);
          if (err / ldexp(1.0, ex - 24) > worst[1]) worst[1] = err / ldexp(1.0, ex - 24);
        }
      } else {
        good = got == want;
      }
      if (good) continue;
      if (!bad++) {
        /* where does the value belong, if anywhere? */
        char from[64] = "";
        for (int k = 0; k < 128; k++)
          if (ref[k] == got) {
            snprintf(from, sizeof from, " (the value of D[%d][%d])", k / 8, k % 8);
            break;
          }
        if (dreg)
          snprintf(msg, len, ": first mismatch lane %d d%d = %.9g%s, expected D[%d][%d] = %.9g, within %.3g", lane,
                   i, got, from, row, col, want, tol ? tol[row * 8 + col] : 0.0);
        else
          snprintf(msg, len, ": first mismatch lane %d d%d = %d (0x%08x)%s, expected D[%d][%d] = %d (0x%08x)",
                   lane, i, ireg[lane * 4 + i], (unsigned)ireg[lane * 4 + i], from, row, col, (int)want,
                   (unsigned)(int)want);
      }
    }
  return bad;
}

/* runs gk_layout_mma_b16 and copies back the registers and D */
static void mma_b16_run(int bf, int mode, const uint16_t *A, const uint16_t *B, const float *C,
                        const uint32_t *raw, uint32_t *regs, float *d) {
  uint16_t Bup[128];
  for (int k = 0; k < 16; k++)
    for (int n = 0; n < 8; n++) {
      if (mode == MODE_LDM_B) Bup[n * 16 + k] = B[k * 8 + n];   /* N-major: 8 rows of k */
      else Bup[k * 8 + n] = B[k * 8 + n];                        /* K-major: 16 rows of n */
    }
  float craw[128];
  for (int lane = 0; lane < 32; lane++)
    for (int i = 0; i < 4; i++) {
      int row, col;
      ptx_m16n8_cd(lane, i, &row, &col);
      craw[lane * 4 + i] = C[row * 8 + col];
    }
  uint32_t zero[192] = {0};
  CUdeviceptr dregs = dev_buf(NULL, 192 * 4), dd = dev_buf(NULL, 128 * 4), da = dev_buf(A, 256 * 2),
              db = dev_buf(Bup, 128 * 2), dc = dev_buf(craw, sizeof craw),
              dr = dev_buf(raw ? raw : zero, 192 * 4);
  int kind = bf, bmode = mode;
  void *args[] = {&dregs, &dd, &da, &db, &dc, &dr, &kind, &bmode};
  run(f_mma_b16, "gk_layout_mma_b16", args);
  dev_get(regs, dregs, 192 * 4);
  dev_get(d, dd, 128 * 4);
  dev_free_all();
}

/* a/b registers from the tables */
static void b16_raw_regs(const uint16_t *A, const uint16_t *B, uint32_t *raw) {
  memset(raw, 0, 192 * 4);
  for (int lane = 0; lane < 32; lane++) {
    for (int i = 0; i < 8; i++) {
      int row, col;
      ptx_m16n8k16_a(lane, i, &row, &col);
      raw[lane * 6 + i / 2] |= (uint32_t)A[row * 16 + col] << (16 * (i % 2));
    }
    for (int i = 0; i < 4; i++) {
      int row, col;
      ptx_m16n8k16_b(lane, i, &row, &col);
      raw[lane * 6 + 4 + i / 2] |= (uint32_t)B[row * 8 + col] << (16 * (i % 2));
    }
  }
}

/* D = A.B + C in double (exact for the exact cases), and the tolerance */
static void b16_ref(int bf, const uint16_t *A, const uint16_t *B, const float *C, double *ref, double *tol) {
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      double s = C[m * 8 + n], mag = fabs(C[m * 8 + n]);
      for (int k = 0; k < 16; k++) {
        double p = b16_value(bf, A[m * 16 + k]) * b16_value(bf, B[k * 8 + n]);
        s += p;
        mag += fabs(p);
      }
      ref[m * 8 + n] = s;
      if (tol) tol[m * 8 + n] = ldexp(mag, -17);
    }
}

static void test_mma_b16(int bf) {
  const char *ty = bf ? "bf16" : "f16";
  uint16_t A[256], B[128];
  float C[128];
  int vals[256];
  char msg[400];
  /* exact: A a permutation of -128..127 times 2^ea, B of -64..63 times 2^eb,
   * C integers times 2^(ea+eb) below 2^17: every partial sum is exact */
  int ea = -6 + irand(7), eb = -4 + irand(6);
  for (int i = 0; i < 256; i++) vals[i] = i - 128;
  shuffle(vals, 256);
  for (int i = 0; i < 256; i++) A[i] = b16_exact(bf, vals[i], ea);
  for (int i = 0; i < 128; i++) vals[i] = i - 64;
  shuffle(vals, 128);
  for (int i = 0; i < 128; i++) B[i] = b16_exact(bf, vals[i], eb);
  for (int i = 0; i < 128; i++) C[i] = (float)ldexp((double)(irand(1 << 18) - (1 << 17)), ea + eb);
  double ref[128];
  b16_ref(bf, A, B, C, ref, NULL);

  uint32_t regs[192], raw[192];
  float d[128];
  static const char *bname[2] = {"ldmatrix.x2 of N-major B", "ldmatrix.x2.trans of K-major B"};
  for (int mode = MODE_LDM_B; mode <= MODE_LDM_BT; mode++) {
    mma_b16_run(bf, mode, A, B, C, NULL, regs, d);
    int bad;
    if (mode == MODE_LDM_B) {
      bad = check_frag("A", regs, 0, ptx_m16n8k16_a, 8, 16, A, NULL, 16, msg, sizeof msg);
      CHECK(!bad, "mma.m16n8k16 %s: a registers from ldmatrix.x4 (cp.async-staged A) match the PTX A "
            "fragment (%d of 256 differ%s)", ty, bad, msg);
    }
    bad = check_frag("B", regs, 4, ptx_m16n8k16_b, 4, 16, B, NULL, 8, msg, sizeof msg);
    CHECK(!bad, "mma.m16n8k16 %s: b registers from %s match the PTX B fragment (%d of 128 differ%s)", ty,
          bname[mode], bad, msg);
    bad = check_d(d, NULL, ref, NULL, msg, sizeof msg, NULL);
    CHECK(!bad, "mma.m16n8k16 %s, B by %s: D = A.B + C exactly, 2^%d and 2^%d scales (%d of 128 differ%s)",
          ty, bname[mode], ea, eb, bad, msg);
  }
  b16_raw_regs(A, B, raw);
  mma_b16_run(bf, MODE_RAW, A, B, C, raw, regs, d);
  int bad = check_d(d, NULL, ref, NULL, msg, sizeof msg, NULL);
  CHECK(!bad, "mma.m16n8k16 %s, a/b registers built from the PTX tables: D = A.B + C exactly (%d of 128 "
        "differ%s)", ty, bad, msg);

  /* rounding-sensitive: random mantissas, exponents over 2^-6..2^6 (f16) or
   * 2^-8..2^8 (bf16); C random, a quarter of it cancelling the products */
  for (int i = 0; i < 256 + 128; i++) {
    uint16_t s = (uint16_t)(next32() & 0x8000u), h;
    if (bf) h = s | (uint16_t)((127 - 8 + irand(17)) << 7) | (uint16_t)(next32() & 0x7f);
    else h = s | (uint16_t)((15 - 6 + irand(13)) << 10) | (uint16_t)(next32() & 0x3ff);
    if (i < 256) A[i] = h;
    else B[i - 256] = h;
  }
  for (int i = 0; i < 128; i++)
    C[i] = bitsf((next32() & 0x80000000u) | ((uint32_t)(127 - 2 + irand(9)) << 23) | (next32() & 0x7fffffu));
  b16_ref(bf, A, B, C, ref, NULL);
  for (int i = 0; i < 128; i += 4)   /* cancellation: c = -(the products' sum) + a little */
    C[i] = (float)(-(ref[i] - C[i]) + ldexp((double)(int)(next32() % 2001) - 1000, -20));
  double tol[128], worst[2];
  b16_ref(bf, A, B, C, ref, tol);
  b16_raw_regs(A, B, raw);
  mma_b16_run(bf, MODE_RAW, A, B, C, raw, regs, d);
  bad = check_d(d, NULL, ref, tol, msg, sizeof msg, worst);
  CHECK(!bad, "mma.m16n8k16 %s, rounding-sensitive values: |D - exact| <= 2^-17 (|c| + sum |a b|), largest "
        "error %.3g of that bound, %.3g ulp of D (%d of 128 outside%s)", ty, worst[0], worst[1], bad, msg);
}

/* ================================================================ mma s8 */

static void mma_s8_run(int mode, const int8_t *A, const int8_t *B, const int32_t *C, const uint32_t *raw,
                       uint32_t *regs, int32_t *d) {
  int8_t Bt[256];
  for (int k = 0; k < 32; k++)
    for (int n = 0; n < 8; n++) Bt[n * 32 + k] = B[k * 8 + n];   /* N-major: 8 rows of 32 k */
  int32_t craw[128];
  for (int lane = 0; lane < 32; lane++)
    for (int i = 0; i < 4; i++) {
      int row, col;
      ptx_m16n8_cd(lane, i, &row, &col);
      craw[lane * 4 + i] = C[row * 8 + col];
    }
  uint32_t zero[192] = {0};
  CUdeviceptr dregs = dev_buf(NULL, 192 * 4), dd = dev_buf(NULL, 128 * 4), da = dev_buf(A, 512),
              db = dev_buf(Bt, 256), dc = dev_buf(craw, sizeof craw), dr = dev_buf(raw ? raw : zero, 192 * 4);
  int bmode = mode;
  void *args[] = {&dregs, &dd, &da, &db, &dc, &dr, &bmode};
  run(f_mma_s8, "gk_layout_mma_s8", args);
  dev_get(regs, dregs, 192 * 4);
  dev_get(d, dd, 128 * 4);
  dev_free_all();
}

static void s8_raw_regs(const int8_t *A, const int8_t *B, uint32_t *raw) {
  memset(raw, 0, 192 * 4);
  for (int lane = 0; lane < 32; lane++) {
    for (int i = 0; i < 16; i++) {
      int row, col;
      ptx_m16n8k32_a(lane, i, &row, &col);
      raw[lane * 6 + i / 4] |= (uint32_t)(uint8_t)A[row * 32 + col] << (8 * (i % 4));
    }
    for (int i = 0; i < 8; i++) {
      int row, col;
      ptx_m16n8k32_b(lane, i, &row, &col);
      raw[lane * 6 + 4 + i / 4] |= (uint32_t)(uint8_t)B[row * 8 + col] << (8 * (i % 4));
    }
  }
}

/* D = A.B + C modulo 2^32, as int32 values in double */
static void s8_ref(const int8_t *A, const int8_t *B, const int32_t *C, double *ref) {
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      int64_t s = C[m * 8 + n];
      for (int k = 0; k < 32; k++) s += (int64_t)A[m * 32 + k] * B[k * 8 + n];
      uint32_t w = (uint32_t)(uint64_t)s;
      ref[m * 8 + n] = w >= 0x80000000u ? (double)w - 4294967296.0 : (double)w;
    }
}

static void test_mma_s8(void) {
  int8_t A[512], B[256];
  int32_t C[128], d[128];
  uint32_t regs[192], raw[192];
  double ref[128];
  char msg[400];
  static const int8_t edge[] = {-128, -127, -1, 0, 1, 126, 127};
  for (int i = 0; i < 512; i++) A[i] = (int8_t)(i % 5 == 0 ? edge[irand(7)] : (int)(next32() & 0xff) - 128);
  for (int i = 0; i < 256; i++) B[i] = (int8_t)(i % 5 == 1 ? edge[irand(7)] : (int)(next32() & 0xff) - 128);
  for (int i = 0; i < 128; i++) C[i] = (int32_t)(next32() % 2000001u) - 1000000;
  s8_ref(A, B, C, ref);

  mma_s8_run(MODE_LDM_B, A, B, C, NULL, regs, d);
  int bad = check_frag("A", regs, 0, ptx_m16n8k32_a, 16, 8, NULL, A, 32, msg, sizeof msg);
  CHECK(!bad, "mma.m16n8k32 s8: a registers from ldmatrix.x4 of 8-bit data (b16 pairs) match the PTX A "
        "fragment (%d of 512 differ%s)", bad, msg);
  bad = check_frag("B", regs, 4, ptx_m16n8k32_b, 8, 8, NULL, B, 8, msg, sizeof msg);
  CHECK(!bad, "mma.m16n8k32 s8: b registers from ldmatrix.x2 of N-major B match the PTX B fragment (%d of "
        "256 differ%s)", bad, msg);
  bad = check_d(NULL, d, ref, NULL, msg, sizeof msg, NULL);
  CHECK(!bad, "mma.m16n8k32 s8, ldmatrix operands: D = A.B + C exactly (%d of 128 differ%s)", bad, msg);

  s8_raw_regs(A, B, raw);
  mma_s8_run(MODE_RAW, A, B, C, raw, regs, d);
  bad = check_d(NULL, d, ref, NULL, msg, sizeof msg, NULL);
  CHECK(!bad, "mma.m16n8k32 s8, a/b registers built from the PTX tables: D = A.B + C exactly (%d of 128 "
        "differ%s)", bad, msg);

  /* extremes: products of +-128 and 127, sums up to +-2^19, C at the int32
   * limits: without .satfinite the s32 result wraps */
  for (int i = 0; i < 512; i++) A[i] = (int8_t)((next32() & 1) ? -128 : 127);
  for (int i = 0; i < 256; i++) B[i] = (int8_t)((next32() & 1) ? -128 : (next32() & 1) ? 127 : -127);
  for (int i = 0; i < 128; i++) {
    uint32_t off = next32() % 131072u;
    C[i] = (i & 1) ? (int32_t)(INT32_MAX - (int32_t)off) : (int32_t)(INT32_MIN + (int32_t)off);
  }
  s8_ref(A, B, C, ref);
  int wraps = 0;
  for (int m = 0; m < 16; m++)
    for (int n = 0; n < 8; n++) {
      int64_t s = C[m * 8 + n];
      for (int k = 0; k < 32; k++) s += (int64_t)A[m * 32 + k] * B[k * 8 + n];
      wraps += s > INT32_MAX || s < INT32_MIN;
    }
  s8_raw_regs(A, B, raw);
  mma_s8_run(MODE_RAW, A, B, C, raw, regs, d);
  bad = check_d(NULL, d, ref, NULL, msg, sizeof msg, NULL);
  CHECK(!bad, "mma.m16n8k32 s8, extreme values and C at the int32 limits: D = A.B + C modulo 2^32 (%d of 128 "
        "wrap; %d of 128 differ%s)", wraps, bad, msg);
}

/* ================================================================ cp.async */

#define CP_CHUNKS 192    /* GK_LAYOUT_CP_CHUNKS */
#define CP_SRC 256

static void test_cp_async(void) {
  uint32_t src[CP_SRC][4], out[3 * CP_CHUNKS][4];
  int perm[CP_SRC];
  uint32_t key = next32();
  for (int k = 0; k < CP_SRC; k++)
    for (int w = 0; w < 4; w++) src[k][w] = ((uint32_t)(k * 4 + w) * 0x9e3779b1u) ^ key;   /* distinct */
  for (int k = 0; k < CP_SRC; k++) perm[k] = k;
  shuffle(perm, CP_SRC);
  CUdeviceptr dout = dev_buf(NULL, sizeof out), dsrc = dev_buf(src, sizeof src), dperm = dev_buf(perm, sizeof perm);
  void *args[] = {&dout, &dsrc, &dperm};
  run(f_cp, "gk_layout_cp_async", args);
  dev_get(out, dout, sizeof out);
  dev_free_all();
  int bad = 0;
  char msg[400] = "";
  for (int i = 0; i < 2 * CP_CHUNKS + 64; i++) {
    int s = i < CP_CHUNKS ? perm[i] : i < 2 * CP_CHUNKS ? perm[i - CP_CHUNKS] : perm[CP_CHUNKS + i - 2 * CP_CHUNKS];
    for (int w = 0; w < 4; w++) {
      if (out[i][w] == src[s][w]) continue;
      if (!bad++) {
        int c = i < 2 * CP_CHUNKS ? i % CP_CHUNKS : i - 2 * CP_CHUNKS;
        char where[160], from[80] = "not from the source";
        if (i < CP_CHUNKS)
          snprintf(where, sizeof where, "shared chunk %d, lane %d's, group %d, read by it after wait_group %d", c,
                   (c % 64) / 2, c / 64, 2 - c / 64);
        else if (i < 2 * CP_CHUNKS)
          snprintf(where, sizeof where, "shared chunk %d, lane %d's, read by lane %d after wait_group 0 and a "
                   "barrier", c, (c % 64) / 2, c % 32);
        else
          snprintf(where, sizeof where, "shared chunk %d, lane %d's uncommitted copy, read after wait_all", c, c / 2);
        for (int k = 0; k < CP_SRC * 4; k++)
          if (src[k / 4][k % 4] == out[i][w]) {
            snprintf(from, sizeof from, "word %d of source chunk %d", k % 4, k / 4);
            break;
          }
        snprintf(msg, sizeof msg, ": first mismatch %s, word %d = 0x%08x (%s), expected word %d of source chunk %d",
                 where, w, out[i][w], from, w, s);
      }
    }
  }
  CHECK(!bad, "cp.async 16-byte copies in commit groups, wait_group 2/1/0, wait_all (%d of %d words differ%s)",
        bad, (2 * CP_CHUNKS + 64) * 4, msg);
}

/* ================================================================ dp4a, prmt */

#define INT_CASES 256

/* dp4a.s32.s32 d, a, b, c: d = c + sum of the four products of the
 * sign-extended bytes of a and b, in 32-bit (wrapping) arithmetic */
static int32_t ref_dp4a(int32_t a, int32_t b, int32_t c) {
  int64_t s = c;
  for (int i = 0; i < 4; i++)
    s += (int64_t)(int8_t)(uint8_t)((uint32_t)a >> (8 * i)) * (int8_t)(uint8_t)((uint32_t)b >> (8 * i));
  return (int32_t)(uint32_t)(uint64_t)s;
}
/* prmt.b32 d, a, b, c (default mode): bytes 0-3 of {b, a} are a's, 4-7
 * b's; result byte i is byte c[4i+2 .. 4i] of them, or, when bit 4i+3 of c
 * is set, that byte's sign bit replicated over 8 bits */
static uint32_t ref_prmt(uint32_t a, uint32_t b, uint32_t c) {
  uint8_t v[8];
  for (int i = 0; i < 4; i++) {
    v[i] = (uint8_t)(a >> (8 * i));
    v[4 + i] = (uint8_t)(b >> (8 * i));
  }
  uint32_t d = 0;
  for (int i = 0; i < 4; i++) {
    unsigned sel = (c >> (4 * i)) & 0xf;
    uint8_t byte = v[sel & 7];
    if (sel & 8) byte = (byte & 0x80) ? 0xff : 0x00;
    d |= (uint32_t)byte << (8 * i);
  }
  return d;
}

static void test_int_ops(void) {
  /* known answers, worked out by hand from the PTX ISA's definitions */
  static const struct { int32_t a, b, c, d; } dk[] = {
    {(int32_t)0x80808080, (int32_t)0x80808080, 0, 65536},          /* 4 * (-128)^2 */
    {0x7f7f7f7f, (int32_t)0x80808080, 0, -65024},                    /* 4 * 127 * -128 */
    {(int32_t)0xffffffff, 0x01010101, 5, 1},                         /* 4 * -1 + 5 */
    {0x01020304, 0x05060708, INT32_MAX, INT32_MIN + 69},             /* 70 past INT32_MAX: wraps */
    {(int32_t)0x80808080, 0x7f7f7f7f, INT32_MIN, INT32_MAX - 65023}, /* -65024 below INT32_MIN */
    {0x00ff0081, 0x7f010080, -7, -7 + (-1) * 1 + (-127) * (-128)},
  };
  static const struct { uint32_t a, b, c, d; } pk[] = {
    {0x33221100, 0x77665544, 0x3210, 0x33221100},
    {0x33221100, 0x77665544, 0x7654, 0x77665544},
    {0x33221100, 0x77665544, 0x0123, 0x00112233},
    {0x33221100, 0x77665544, 0xffff4567, 0x44556677},   /* selector bits 16-31 ignored */
    {0x00008000, 0x7f000000, 0x9f19, 0xff0080ff},   /* sign of a.1, a.1, sign of b.3, sign of a.1 */
    {0x807f0100, 0xff01fe00, 0x89ab, 0x000000ff},   /* signs of a.3 a.2 a.1 a.0 */
    {0x807f0100, 0xff01fe00, 0xcdef, 0x00ff00ff},   /* signs of b.3 b.2 b.1 b.0 */
  };
  int32_t din[3 * INT_CASES], dref[INT_CASES], dout[INT_CASES];
  uint32_t pin[3 * INT_CASES], pref[INT_CASES], pout[INT_CASES];
  static const uint8_t eb[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff};
  static const int32_t ec[] = {0, 1, -1, INT32_MAX, INT32_MIN, INT32_MAX - 65535, INT32_MIN + 65535};
  int nd = (int)(sizeof dk / sizeof dk[0]), np = (int)(sizeof pk / sizeof pk[0]);
  for (int i = 0; i < INT_CASES; i++) {
    uint32_t w[4];
    for (int j = 0; j < 4; j++) {
      w[j] = 0;
      for (int k = 0; k < 4; k++) w[j] |= (uint32_t)(i % 3 == 2 ? (uint8_t)next32() : eb[irand(7)]) << (8 * k);
    }
    if (i < nd) {
      din[3 * i] = dk[i].a;
      din[3 * i + 1] = dk[i].b;
      din[3 * i + 2] = dk[i].c;
    } else {
      din[3 * i] = (int32_t)w[0];
      din[3 * i + 1] = (int32_t)w[1];
      din[3 * i + 2] = i % 2 ? ec[irand(7)] : (int32_t)next32();
    }
    if (i < np) {
      pin[3 * i] = pk[i].a;
      pin[3 * i + 1] = pk[i].b;
      pin[3 * i + 2] = pk[i].c;
    } else {
      pin[3 * i] = w[2];
      pin[3 * i + 1] = w[3];
      /* every nibble 0-15 in every position across the cases, random high bits */
      uint32_t s = next32() & 0xffff0000u;
      for (int k = 0; k < 4; k++) s |= (uint32_t)((i + 5 * k + (i / 16)) & 0xf) << (4 * k);
      pin[3 * i + 2] = s;
    }
    dref[i] = ref_dp4a(din[3 * i], din[3 * i + 1], din[3 * i + 2]);
    pref[i] = ref_prmt(pin[3 * i], pin[3 * i + 1], pin[3 * i + 2]);
  }
  int kbad = 0;
  for (int i = 0; i < nd; i++) kbad += dref[i] != dk[i].d;
  for (int i = 0; i < np; i++) kbad += pref[i] != pk[i].d;
  if (kbad) bail_out("internal: the plain C dp4a/prmt references disagree with %d known answers", kbad);

  int n = INT_CASES;
  CUdeviceptr ddp = dev_buf(NULL, sizeof dout), dpm = dev_buf(NULL, sizeof pout), ddin = dev_buf(din, sizeof din),
              dpin = dev_buf(pin, sizeof pin);
  void *args[] = {&ddp, &dpm, &ddin, &dpin, &n};
  run(f_int, "gk_layout_int_ops", args);
  dev_get(dout, ddp, sizeof dout);
  dev_get(pout, dpm, sizeof pout);
  dev_free_all();
  int bad = 0;
  char msg[300] = "";
  for (int i = 0; i < n; i++)
    if (dout[i] != dref[i] && !bad++)
      snprintf(msg, sizeof msg, ": first mismatch case %d (lane %d): dp4a(0x%08x, 0x%08x, %d) = %d, expected %d", i,
               i % 32, (unsigned)din[3 * i], (unsigned)din[3 * i + 1], din[3 * i + 2], dout[i], dref[i]);
  CHECK(!bad, "dp4a.s32.s32 over edge bytes, the int32 limits and known answers (%d of %d differ%s)", bad, n, msg);
  bad = 0;
  msg[0] = 0;
  for (int i = 0; i < n; i++)
    if (pout[i] != pref[i] && !bad++)
      snprintf(msg, sizeof msg, ": first mismatch case %d (lane %d): prmt(0x%08x, 0x%08x, 0x%08x) = 0x%08x, expected "
               "0x%08x", i, i % 32, pin[3 * i], pin[3 * i + 1], pin[3 * i + 2], pout[i], pref[i]);
  CHECK(!bad, "prmt.b32 over edge bytes, every selector nibble and known answers (%d of %d differ%s)", bad, n, msg);
}

/* ================================================================ main */

int main(void) {
  if (getenv("GLLMK_TEST_NO_CUDA")) {   /* .ci/run's reruns per CPU ISA */
    printf("1..0 # SKIP GLLMK_TEST_NO_CUDA is set\n");
    return 0;
  }
  open_device();
  CHECK(table_is_bijection(ldm_plain, 2, 8, 8) && table_is_bijection(ldm_trans, 2, 8, 8) &&
            table_is_bijection(ptx_m16n8k16_a, 8, 16, 16) && table_is_bijection(ptx_m16n8k16_b, 4, 16, 8) &&
            table_is_bijection(ptx_m16n8_cd, 4, 16, 8) && table_is_bijection(ptx_m16n8k32_a, 16, 16, 32) &&
            table_is_bijection(ptx_m16n8k32_b, 8, 32, 8),
        "the transcribed PTX fragment tables place every matrix element exactly once");

  const char *s = getenv("GLLMK_TEST_SEED"), *ns = getenv("GLLMK_LAYOUT_SEEDS");
  uint64_t seed = s && *s ? strtoull(s, NULL, 0) : 0x1a70c7ull;
  int nseeds = ns && *ns ? atoi(ns) : 4;
  if (nseeds < 1) nseeds = 1;
  diag("seeds %llu .. %llu (GLLMK_TEST_SEED, GLLMK_LAYOUT_SEEDS)", (unsigned long long)seed,
       (unsigned long long)(seed + (uint64_t)nseeds - 1));
  for (int k = 0; k < nseeds; k++) {
    rng = seed + (uint64_t)k;
    next64();
    diag("seed %llu", (unsigned long long)(seed + (uint64_t)k));
    test_ldmatrix();
    test_mma_b16(0);
    test_mma_b16(1);
    test_mma_s8();
    test_cp_async();
    test_int_ops();
  }
  close_device();
  return done_testing();
}
