/* util.c -- gllmk-bench: clock, median, buffers, random data, number formats, ISA classes
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

/* ================================================================ utilities */

double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double median(double *v, int n)
{
  if (n <= 0) return NAN;
  qsort(v, (size_t)n, sizeof *v, cmp_dbl);
  return (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* 64-byte aligned; big buffers 2 MiB aligned with transparent huge pages requested */
void *xalloc(size_t bytes)
{
  size_t align = bytes >= 4 * MiB ? 2 * MiB : 64;
  size_t sz = (bytes + align - 1) / align * align;
  void *p = NULL;
  if (sz == 0) sz = align;
  if (posix_memalign(&p, align, sz) != 0 || !p) die("out of memory (%zu bytes)", bytes);
#ifdef MADV_HUGEPAGE
  if (align > 64) madvise(p, sz, MADV_HUGEPAGE);
#endif
  return p;
}

/* uniform random in [lo, hi); deterministic per (seed, block) whatever the thread count */
void fill_uniform(void *p, dtype t, size_t n, float lo, float hi, uint64_t seed)
{
  const size_t B = 65536;
  size_t nblk = (n + B - 1) / B;
  OMP_PARALLEL_FOR
  for (size_t blk = 0; blk < nblk; blk++) {
    uint64_t s = seed * 0x100000001b3ull + blk * 0x9e3779b1ull;
    size_t i1 = (blk + 1) * B < n ? (blk + 1) * B : n;
    for (size_t i = blk * B; i < i1; i++) {
      float u = (float)(splitmix(&s) >> 40) * (1.0f / 16777216.0f);
      set_el(p, t, i, lo + (hi - lo) * u);
    }
  }
}

void format_time(char *buf, size_t len, double t)
{
  if (!(t > 0) || !isfinite(t))
    snprintf(buf, len, "-");
  else if (t < 1e-6)
    snprintf(buf, len, "%.1f ns", t * 1e9);
  else if (t < 1e-3)
    snprintf(buf, len, "%.2f us", t * 1e6);
  else if (t < 1)
    snprintf(buf, len, "%.2f ms", t * 1e3);
  else
    snprintf(buf, len, "%.2f s", t);
}

void format_count(char *buf, size_t len, size_t n)
{
  if (n >= MiB && n % MiB == 0)
    snprintf(buf, len, "%zuM", n / MiB);
  else if (n >= 1024 && n % 1024 == 0)
    snprintf(buf, len, "%zuK", n / 1024);
  else
    snprintf(buf, len, "%zu", n);
}

/* ================================================================ ISA names */

int isa_runnable(const char *name) { return gllmk_cpu_isa_check(name) == GLLMK_OK; }

/* roofline class of a library ISA token: 0 scalar/baseline, 1 256-bit FMA, 2 512-bit FMA */
int isa_class(const char *isa)
{
  if (!strncmp(isa, "avx512", 6) || !strcmp(isa, "vnni")) return 2; /* vnni: AVX-512 + VNNI */
  if (!strncmp(isa, "avx", 3)) return 1;
  return 0;
}
const char *const class_names[] = {"scalar", "avx2", "avx512"};
