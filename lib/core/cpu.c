/* cpu.c -- CPU feature detection (x86-64: CPUID + XGETBV; AArch64 Linux:
 * HWCAP, and prctl for the SVE vector length), no ISA flags
 * SPDX-License-Identifier: MIT
 *
 * An ISA counts only when the CPU has it *and* the OS saves its register
 * state (XCR0), as zlib-ng's x86_features.c and libsodium's runtime.c do.
 */
#include "internal.h"
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));   /* encoded, no -mxsave needed */
  return ((uint64_t)hi << 32) | lo;
}

static char feature_str[256];

unsigned gllmk__cpu_detect(void) {
  unsigned a, b, c, d, f = 0;
  char *s = feature_str;
  size_t left = sizeof feature_str;
  *s = 0;
#define ADD(name, cond) do { if (cond) { int w_ = snprintf(s, left, "%s%s", s == feature_str ? "" : " ", name); \
      if (w_ > 0 && (size_t)w_ < left) { s += w_; left -= (size_t)w_; } } } while (0)
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int sse42 = (c >> 20) & 1, fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
      f16c = (c >> 29) & 1;
  ADD("sse4.2", sse42);
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  int os_ymm = (xcr0 & 0x6) == 0x6;
  int os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
  ADD("avx", avx && os_ymm);
  ADD("fma", fma);
  ADD("f16c", f16c);
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_max(0, 0) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    b7 = b; c7 = c; d7 = d;
    if (a >= 1) { __cpuid_count(7, 1, a, b, c, d); a71 = a; }
  }
  int avx2 = (b7 >> 5) & 1, avx512f = (b7 >> 16) & 1, avx512dq = (b7 >> 17) & 1,
      avx512bw = (b7 >> 30) & 1, avx512vl = (b7 >> 31) & 1, vnni = (c7 >> 11) & 1,
      bf16 = (a71 >> 5) & 1, fp16 = (d7 >> 23) & 1, amx = (d7 >> 24) & 1,
      avxvnni = (a71 >> 4) & 1;   /* CPUID.(EAX=7,ECX=1):EAX[4] */
  ADD("avx2", avx2);
  ADD("avx512f", avx512f);
  ADD("avx512bw", avx512bw);
  ADD("avx512dq", avx512dq);
  ADD("avx512vl", avx512vl);
  ADD("avx512vnni", vnni);
  ADD("avxvnni", avxvnni);
  ADD("avx512bf16", bf16);
  ADD("avx512fp16", fp16);
  ADD("amx-tile", amx);
  ADD("os-ymm", os_ymm);
  ADD("os-zmm", os_zmm);
#undef ADD
  if (avx && os_ymm && avx2 && fma && f16c) f |= GLLMK_CPU_AVX2;
  if ((f & GLLMK_CPU_AVX2) && os_zmm && avx512f && avx512dq && avx512bw && avx512vl)
    f |= GLLMK_CPU_AVX512;
  if ((f & GLLMK_CPU_AVX512) && vnni) f |= GLLMK_CPU_VNNI;
  if ((f & GLLMK_CPU_AVX2) && avxvnni) f |= GLLMK_CPU_AVXVNNI;
  return f;
}

const char *gllmk__cpu_feature_string(void) { return feature_str; }

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>   /* getauxval; bits/hwcap.h: HWCAP_ASIMD, HWCAP_ASIMDDP, HWCAP_SVE */
#include <sys/prctl.h>

#ifndef PR_SVE_GET_VL
#define PR_SVE_GET_VL 51
#endif
#ifndef PR_SVE_VL_LEN_MASK
#define PR_SVE_VL_LEN_MASK 0xffff
#endif

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif

static char feature_str[128];

/* the kernel's HWCAP bits: what the CPU has and the kernel lets user space use */
unsigned gllmk__cpu_detect(void) {
  unsigned long hw = getauxval(AT_HWCAP);
  unsigned f = 0;
  feature_str[0] = 0;
  if (hw & HWCAP_ASIMD) {
    f |= GLLMK_CPU_NEON;
    strcat(feature_str, "asimd");
    if (hw & HWCAP_ASIMDDP) {
      f |= GLLMK_CPU_DOTPROD;
      strcat(feature_str, " asimddp");
    }
  }
  if (hw & HWCAP_SVE) {
    f |= GLLMK_CPU_SVE;
    strcat(feature_str, feature_str[0] ? " sve" : "sve");
    /* this thread's vector length in bytes (the kernels' svcntb()) */
    int vl = prctl(PR_SVE_GET_VL);
    if (vl > 0) {
      char t[32];
      snprintf(t, sizeof t, " sve_vl=%d", (vl & PR_SVE_VL_LEN_MASK) * 8);
      strcat(feature_str, t);
    }
  }
  return f;
}

const char *gllmk__cpu_feature_string(void) { return feature_str; }

#else /* neither x86 nor AArch64 Linux */

unsigned gllmk__cpu_detect(void) { return 0; }
const char *gllmk__cpu_feature_string(void) { return ""; }

#endif
