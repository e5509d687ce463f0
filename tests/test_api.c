/* test_api.c -- runtime and backend API: version, status strings, CPU ISA
 * dispatch, threads, f16/bf16 conversions, backends, buffers, op tables and
 * the C11 _Generic front ends
 * SPDX-License-Identifier: MIT
 *
 * The GLLMK_CPU_ISA environment variable is read once, at the first call, so
 * it is tested by re-executing this program (/proc/self/exe) with the
 * variable set: "--child-isa" prints what the child sees.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* sched_getaffinity, CPU_COUNT */
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "testutil.h"

#include <errno.h>
#include <sched.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int has_token(const char *list, const char *tok)
{
  size_t n = strlen(tok);
  for (const char *p = list; p && *p;) {
    while (*p == ' ')
      p++;
    const char *e = strchr(p, ' ');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !strncmp(p, tok, n))
      return 1;
    p += len;
  }
  return 0;
}

/* ------------------------------------------------------------------ version, strerror */
static void test_version(void)
{
  const char *v = gllmk_version();
  int a, b, c, len = 0;
  ok(v && sscanf(v, "%d.%d.%d%n", &a, &b, &c, &len) == 3 && v[len] == '\0',
     "gllmk_version() is MAJOR.MINOR.PATCH (%s)", v ? v : "NULL");
#ifdef PACKAGE_VERSION
  ok(v && !strcmp(v, PACKAGE_VERSION), "gllmk_version() matches configure (%s)", PACKAGE_VERSION);
#endif
}

static void test_strerror(void)
{
  static const gllmk_status all[] = { GLLMK_OK, GLLMK_E_INVAL, GLLMK_E_OVERFLOW,
                                      GLLMK_E_UNSUPPORTED, GLLMK_E_NO_DEVICE, GLLMK_E_DEVICE,
                                      GLLMK_E_NOMEM, GLLMK_E_NOT_FOUND };
  size_t n = sizeof all / sizeof all[0];
  int good = 1, distinct = 1;
  for (size_t i = 0; i < n; i++) {
    const char *s = gllmk_strerror(all[i]);
    if (!s || !*s) {
      good = 0;
      diag("gllmk_strerror(%s) is %s", tu_status_name(all[i]), s ? "empty" : "NULL");
      continue;
    }
    for (size_t j = 0; j < i; j++) {
      const char *t = gllmk_strerror(all[j]);
      if (t && !strcmp(s, t)) {
        distinct = 0;
        diag("gllmk_strerror(%s) == gllmk_strerror(%s) == \"%s\"", tu_status_name(all[i]),
             tu_status_name(all[j]), s);
      }
    }
  }
  ok(good, "gllmk_strerror() gives a non-empty string for every status");
  ok(distinct, "gllmk_strerror() strings are distinct");
  ok(GLLMK_OK == 0 && GLLMK_E_INVAL < 0 && GLLMK_E_OVERFLOW < 0 && GLLMK_E_UNSUPPORTED < 0 &&
         GLLMK_E_NO_DEVICE < 0 && GLLMK_E_DEVICE < 0 && GLLMK_E_NOMEM < 0 &&
         GLLMK_E_NOT_FOUND < 0,
     "GLLMK_OK is 0 and errors are negative");
  static const int unknown[] = { 1, -8, -1000, INT_MIN, INT_MAX };
  good = 1;
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *s = gllmk_strerror((gllmk_status)unknown[i]);
    good &= s != NULL && *s != '\0';
  }
  ok(good, "gllmk_strerror() of unknown codes is a non-empty string");
}

/* ------------------------------------------------------------------ ISA */
static void test_isa(void)
{
  const char *compiled = gllmk_cpu_isa_compiled();
  const char *name = gllmk_cpu_isa_name();
  const char *feat = gllmk_cpu_features();
  ok(compiled && *compiled, "gllmk_cpu_isa_compiled() = \"%s\"", compiled ? compiled : "NULL");
  ok(compiled && !strncmp(compiled, "scalar", 6) && (compiled[6] == ' ' || !compiled[6]),
     "the scalar ISA is always compiled in, listed first");
  ok(name && compiled && has_token(compiled, name), "gllmk_cpu_isa_name() = %s is compiled in",
     name ? name : "NULL");
  ok(feat != NULL, "gllmk_cpu_features() = \"%s\"", feat ? feat : "NULL");
  ok(gllmk_cpu_isa_check("scalar") == GLLMK_OK, "scalar is runnable");

  /* every compiled token: check and set agree; the name follows */
  char list[256];
  snprintf(list, sizeof list, "%s", compiled ? compiled : "");
  char best[32] = "";
  int agree = 1, follows = 1;
  char *save = NULL;
  for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    gllmk_status c = gllmk_cpu_isa_check(t);
    gllmk_status s = gllmk_cpu_set_isa(t);
    if (c != s || (c != GLLMK_OK && c != GLLMK_E_UNSUPPORTED)) {
      agree = 0;
      diag("%s: check %s, set %s", t, tu_status_name(c), tu_status_name(s));
    }
    if (s == GLLMK_OK) {
      snprintf(best, sizeof best, "%s", t);
      if (strcmp(gllmk_cpu_isa_name(), t)) {
        follows = 0;
        diag("set_isa(%s) but isa_name() = %s", t, gllmk_cpu_isa_name());
      }
    }
  }
  ok(agree, "gllmk_cpu_isa_check and gllmk_cpu_set_isa agree on every compiled ISA");
  ok(follows, "gllmk_cpu_isa_name() reports the ISA just set");
  ok(gllmk_cpu_set_isa("auto") == GLLMK_OK && !strcmp(gllmk_cpu_isa_name(), best),
     "set_isa(\"auto\") picks the best runnable ISA (%s, expected %s)", gllmk_cpu_isa_name(), best);

  /* unknown names: INVAL, ISA unchanged */
  gllmk_cpu_set_isa("scalar");
  ok(gllmk_cpu_isa_check("bogus") == GLLMK_E_INVAL, "isa_check(\"bogus\") is GLLMK_E_INVAL");
  ok(gllmk_cpu_set_isa("bogus") == GLLMK_E_INVAL, "set_isa(\"bogus\") is GLLMK_E_INVAL");
  ok(!strcmp(gllmk_cpu_isa_name(), "scalar"), "a refused set_isa leaves the ISA unchanged (%s)",
     gllmk_cpu_isa_name());
#if defined(__x86_64__)
  static const char *foreign[] = { "neon", "dotprod", "sve" };
#else
  static const char *foreign[] = { "avx2", "avxvnni", "vnni" };
#endif
  int refused = 1;
  for (int i = 0; i < 3; i++) {
    gllmk_status s = gllmk_cpu_set_isa(foreign[i]);
    refused &= s == GLLMK_E_UNSUPPORTED || s == GLLMK_E_INVAL;
    if (s != GLLMK_E_UNSUPPORTED && s != GLLMK_E_INVAL)
      diag("set_isa(%s) = %s", foreign[i], tu_status_name(s));
  }
  ok(refused && !strcmp(gllmk_cpu_isa_name(), "scalar"),
     "ISAs of another architecture are refused (UNSUPPORTED or INVAL), ISA unchanged");
  gllmk_cpu_set_isa("auto");

  /* the kernel tables' slots (gllmk_cpu_kernel_slot, gllmk-info --kernels):
   * every compiled ISA lists the same slots in the same order, names unique
   * and non-empty, the last the GEMM micro-kernel; the template's kernels are
   * named gllmk__<slot-ish>__<isa>; by hand exactly where overrides.def says */
  {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", compiled);
    size_t n_scalar = 0, bad = 0, isas = 0;
    const char *first_slots[512];
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      const char *slot, *kernel;
      bool hand;
      size_t n = 0, n_hand = 0;
      char suffix[32];
      snprintf(suffix, sizeof suffix, "__%s", tok);
      while (gllmk_cpu_kernel_slot(tok, n, &slot, &kernel, &hand) == GLLMK_OK) {
        size_t kl = strlen(kernel), sl = strlen(suffix);
        int named = !hand ? kl > sl && !strcmp(kernel + kl - sl, suffix) && !strncmp(kernel, "gllmk__", 7)
                          : kl > 0;
        if (!strcmp(slot, "gemm_micro")) named = kl > 0;   /* a helper, not per ISA */
        if (!*slot || !named) bad++;
        if (isas == 0 && n < 512) first_slots[n] = slot;
        else if (n >= n_scalar || (n < 512 && strcmp(first_slots[n], slot))) bad++;
        for (size_t j = 0; j < n && j < 512 && isas == 0; j++)
          if (!strcmp(first_slots[j], slot)) bad++;
        n_hand += hand;
        n++;
      }
      if (isas == 0) n_scalar = n;
      if (n != n_scalar || n < 100 || strcmp(slot, "gemm_micro")) bad++;
      /* x86 ISAs carry the hand-written decode GEMV (isa/x86/qfast.h), sve its
       * own GEMM micro-kernel; scalar, neon and dotprod only templates */
      int x86 = !strcmp(tok, "avx2") || !strcmp(tok, "avxvnni") || !strcmp(tok, "avx512") ||
                !strcmp(tok, "vnni");
      size_t want = x86 ? 20 : !strcmp(tok, "sve") ? 1 : 0;
      if (n_hand != want) {
        bad++;
        diag("%s: %zu slots by hand, expected %zu", tok, n_hand, want);
      }
      isas++;
    }
    ok(bad == 0 && isas > 0 && n_scalar > 100,
       "gllmk_cpu_kernel_slot: %zu ISAs list the same %zu slots, named, by hand where overrides.def says",
       isas, n_scalar);
    const char *slot = "unchanged", *kernel = "unchanged";
    bool hand = true;
    int refused = gllmk_cpu_kernel_slot("bogus", 0, &slot, &kernel, &hand) == GLLMK_E_INVAL &&
                  gllmk_cpu_kernel_slot(NULL, 0, NULL, &kernel, &hand) == GLLMK_E_INVAL &&
                  gllmk_cpu_kernel_slot(NULL, 0, &slot, NULL, &hand) == GLLMK_E_INVAL &&
                  gllmk_cpu_kernel_slot("scalar", n_scalar, &slot, &kernel, &hand) == GLLMK_E_INVAL &&
                  gllmk_cpu_kernel_slot("scalar", (size_t)-1, &slot, &kernel, &hand) == GLLMK_E_INVAL;
#if defined(__x86_64__)
    refused = refused && gllmk_cpu_kernel_slot("sve", 0, &slot, &kernel, &hand) == GLLMK_E_UNSUPPORTED;
#elif defined(__aarch64__)
    refused = refused && gllmk_cpu_kernel_slot("avx2", 0, &slot, &kernel, &hand) == GLLMK_E_UNSUPPORTED;
#endif
    ok(refused && !strcmp(slot, "unchanged") && !strcmp(kernel, "unchanged") && hand,
       "gllmk_cpu_kernel_slot refuses a bad ISA, NULL outputs, a slot past the end and a foreign ISA, "
       "writing nothing");
    int scalar_ok = gllmk_cpu_kernel_slot("scalar", 0, &slot, &kernel, NULL) == GLLMK_OK;
    ok(scalar_ok && !strcmp(slot, "dequant_q4_0") && !strcmp(kernel, "gllmk__dequant_q4_0_q__scalar"),
       "slot 0 of scalar is dequant_q4_0 = gllmk__dequant_q4_0_q__scalar, by_hand may be NULL (%s = %s)",
       slot, kernel);
  }

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
  /* cross-check the dispatcher with the compiler's own CPU detection (which
   * also checks that the OS enabled the AVX / AVX-512 state) */
  __builtin_cpu_init();
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
  int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (has_token(compiled, "avx2"))
    ok((gllmk_cpu_isa_check("avx2") == GLLMK_OK) == avx2,
       "avx2 runnable (%s) iff the CPU has AVX2+FMA+F16C (%d)",
       tu_status_name(gllmk_cpu_isa_check("avx2")), avx2);
  else
    skip("avx2 not compiled in");
  int avxvnni = avx2 && __builtin_cpu_supports("avxvnni");
  if (has_token(compiled, "avxvnni"))
    ok((gllmk_cpu_isa_check("avxvnni") == GLLMK_OK) == avxvnni,
       "avxvnni runnable (%s) iff the CPU has AVX2+FMA+F16C+AVX-VNNI (%d)",
       tu_status_name(gllmk_cpu_isa_check("avxvnni")), avxvnni);
  else
    skip("avxvnni not compiled in");
  if (has_token(compiled, "avx512"))
    ok((gllmk_cpu_isa_check("avx512") == GLLMK_OK) == avx512,
       "avx512 runnable (%s) iff the CPU has AVX-512 F/BW/DQ/VL (%d)",
       tu_status_name(gllmk_cpu_isa_check("avx512")), avx512);
  else
    skip("avx512 not compiled in");
  ok(!avx2 || (has_token(feat, "avx2") && has_token(feat, "fma") && has_token(feat, "f16c")),
     "gllmk_cpu_features() lists avx2 fma f16c when the CPU has them");
  ok(!avx512 || has_token(feat, "avx512f"), "gllmk_cpu_features() lists avx512f when present");
#else
  skip("no compiler CPU detection to cross-check with");
#endif
}

/* ------------------------------------------------------------------ GLLMK_CPU_ISA (child) */
static int child_isa_main(void)
{
  float a[4] = { 1, 2, 3, 4 }, r = 777.0f;
  gllmk_status s1 = gllmk_vec_dot_f32(a, a, 4, &r);
  gllmk_bf16 A[4], C[4];
  for (int i = 0; i < 4; i++) {
    A[i] = gllmk_f32_to_bf16((float)i);
    C[i].bits = 0xA5A5;
  }
  gllmk_status s2 = gllmk_gemm_bf16(A, A, C, 2, 2, 2);
  const char *nm = gllmk_cpu_isa_name();
  printf("%s %d %d %g %d\n", nm ? nm : "(null)", (int)s1, (int)s2, (double)r,
         C[0].bits == 0xA5A5 && C[3].bits == 0xA5A5);
  fflush(stdout);
  return 0;
}

/* run this program with GLLMK_CPU_ISA=isa and --child-isa; 0 if it could not */
static int run_child(const char *isa, char *buf, size_t len)
{
  int fds[2];
  fflush(stdout);
  if (access("/proc/self/exe", X_OK) || pipe(fds))
    return 0;
  pid_t pid = fork();
  if (pid < 0)
    return 0;
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    setenv("GLLMK_CPU_ISA", isa, 1);
    execl("/proc/self/exe", "test_api", "--child-isa", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t got = 0;
  ssize_t n;
  while (got + 1 < len && (n = read(fds[0], buf + got, len - 1 - got)) > 0)
    got += (size_t)n;
  buf[got] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  close(fds[0]);
  int ws;
  waitpid(pid, &ws, 0);
  return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && got > 0;
}

static void test_env_isa(void)
{
  char buf[256], name[64];
  int s1, s2, untouched;
  double r;
  if (!run_child("scalar", buf, sizeof buf)) {
    skip("cannot re-execute /proc/self/exe");
    skip("cannot re-execute /proc/self/exe");
    skip("cannot re-execute /proc/self/exe");
    return;
  }
  ok(sscanf(buf, "%63s %d %d %lf %d", name, &s1, &s2, &r, &untouched) == 5 &&
         !strcmp(name, "scalar") && s1 == GLLMK_OK && s2 == GLLMK_OK && r == 30.0,
     "GLLMK_CPU_ISA=scalar: isa %s, ops work (%s)", name, buf);

  /* the best runnable ISA */
  gllmk_cpu_set_isa("auto");
  char best[64];
  snprintf(best, sizeof best, "%s", gllmk_cpu_isa_name());
  int okk = run_child(best, buf, sizeof buf) &&
            sscanf(buf, "%63s %d %d %lf %d", name, &s1, &s2, &r, &untouched) == 5;
  ok(okk && !strcmp(name, best) && s1 == GLLMK_OK && r == 30.0, "GLLMK_CPU_ISA=%s: isa %s (%s)",
     best, okk ? name : "?", buf);

  static const char *bad[] = { "bogus",
#if defined(__x86_64__)
                               "neon"
#else
                               "avx512"
#endif
  };
  for (int i = 0; i < 2; i++) {
    okk = run_child(bad[i], buf, sizeof buf) &&
          sscanf(buf, "%63s %d %d %lf %d", name, &s1, &s2, &r, &untouched) == 5;
    ok(okk && s1 == GLLMK_E_UNSUPPORTED && s2 == GLLMK_E_UNSUPPORTED && r == 777.0 && untouched,
       "GLLMK_CPU_ISA=%s: operators return GLLMK_E_UNSUPPORTED and write nothing (%s)", bad[i],
       okk ? buf : "child failed");
  }
}

/* ------------------------------------------------------------------ threads */
static void test_threads(void)
{
  int omp = gllmk_has_openmp();
#ifdef GLLMK_TEST_OPENMP_CFLAGS
  /* configure's OpenMP flags (empty without OpenMP) built the library */
  ok(omp == (GLLMK_TEST_OPENMP_CFLAGS[0] != '\0'),
     "gllmk_has_openmp() = %d agrees with configure (OPENMP_CFLAGS \"%s\")", omp, GLLMK_TEST_OPENMP_CFLAGS);
#else
  ok(omp == 0 || omp == 1, "gllmk_has_openmp() = %d", omp);
#endif
  ok(gllmk_get_num_threads() >= 1, "default thread count %d >= 1", gllmk_get_num_threads());
  ok(gllmk_set_num_threads(1) == GLLMK_OK && gllmk_get_num_threads() == 1, "set_num_threads(1)");
  gllmk_status s = gllmk_set_num_threads(3);
  int got = gllmk_get_num_threads();
  ok(s == GLLMK_OK && (omp ? got == 3 : (got == 1 || got == 3)),
     "set_num_threads(3): get = %d (openmp %d)", got, omp);
  s = gllmk_set_num_threads(-1);
  ok(s == GLLMK_E_INVAL && gllmk_get_num_threads() == got,
     "set_num_threads(-1) is GLLMK_E_INVAL and changes nothing (%s)", tu_status_name(s));
  s = gllmk_set_num_threads(0);
  got = gllmk_get_num_threads();
  long cpus = sysconf(_SC_NPROCESSORS_ONLN), usable = cpus;
#ifdef CPU_COUNT
  {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      usable = CPU_COUNT(&set); /* an OpenMP runtime may count these instead */
  }
#endif
  const char *omp_env = getenv("OMP_NUM_THREADS");
  char *end = NULL;
  long want = omp_env ? strtol(omp_env, &end, 10) : 0;
  if (omp && !omp_env)
    ok(s == GLLMK_OK && (got == cpus || got == usable),
       "set_num_threads(0) restores the default: %d (online cpus %ld, usable %ld)", got, cpus,
       usable);
  else if (omp && want > 0 && end && *end == '\0')
    ok(s == GLLMK_OK && got == want, "set_num_threads(0) restores OMP_NUM_THREADS=%ld: %d", want,
       got);
  else
    ok(s == GLLMK_OK && got >= 1, "set_num_threads(0) restores the default: %d", got);
}

/* ------------------------------------------------------------------ conversions */
static double ref_f16_decode(uint16_t h)
{
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 0)
    v = ldexp(m, -24);
  else if (e == 31)
    v = m ? NAN : INFINITY;
  else
    v = ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

/* nearest f16 (ties to even) of a finite or infinite non-NaN float */
static uint16_t ref_f16_encode(float f)
{
  uint16_t sign = signbit(f) ? 0x8000 : 0;
  double v = fabs((double)f);
  if (v >= 65520.0)
    return sign | 0x7c00;
  if (v == 0)
    return sign;
  int e;
  frexp(v, &e);
  int lead = e - 1 < -14 ? -14 : e - 1;
  double q = ldexp(1.0, lead - 10);
  double k = nearbyint(v / q); /* exact quotient; default rounding is to nearest even */
  double r = k * q;
  if (r == 0)
    return sign;
  if (r < ldexp(1.0, -14))
    return sign | (uint16_t)(r / ldexp(1.0, -24));
  frexp(r, &e);
  int ex = e - 1;
  uint16_t mant = (uint16_t)((r / ldexp(1.0, ex) - 1.0) * 1024.0);
  return sign | (uint16_t)((ex + 15) << 10) | mant;
}

static uint16_t ref_bf16_encode(float f)
{
  uint32_t x;
  memcpy(&x, &f, 4);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

static float bits_f32(uint32_t x)
{
  float f;
  memcpy(&f, &x, 4);
  return f;
}

static uint32_t f32_bits(float f)
{
  uint32_t x;
  memcpy(&x, &f, 4);
  return x;
}

static int f16_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
static int bf16_is_nan(uint16_t h) { return (h & 0x7f80) == 0x7f80 && (h & 0x7f); }

static void test_conversions(void)
{
  tu_check c;
  tu_check_init(&c);
  /* every f16: decode exactly, encode back to the same bits */
  for (uint32_t h = 0; h < 65536; h++) {
    gllmk_f16 x = { (uint16_t)h };
    float f = gllmk_f16_to_f32(x);
    double want = ref_f16_decode((uint16_t)h);
    if (isnan(want)) {
      tu_check_true(&c, isnan(f), "f16_to_f32(0x%04x) = %g, expected NaN", h, (double)f);
      tu_check_true(&c, f16_is_nan(gllmk_f32_to_f16(f).bits), "f32_to_f16(NaN from 0x%04x) not NaN", h);
    } else {
      tu_check_true(&c, f == want && !signbit(f) == !signbit(want),
                    "f16_to_f32(0x%04x) = %.9g, expected %.9g", h, (double)f, want);
      tu_check_true(&c, gllmk_f32_to_f16(f).bits == h, "f32_to_f16(f16_to_f32(0x%04x)) = 0x%04x", h,
                    gllmk_f32_to_f16(f).bits);
    }
  }
  tu_check_done(&c, "f16: all 65536 values decode exactly and round trip");

  for (uint32_t h = 0; h < 65536; h++) {
    gllmk_bf16 x = { (uint16_t)h };
    float f = gllmk_bf16_to_f32(x);
    if (bf16_is_nan((uint16_t)h)) {
      tu_check_true(&c, isnan(f), "bf16_to_f32(0x%04x) not NaN", h);
      tu_check_true(&c, bf16_is_nan(gllmk_f32_to_bf16(f).bits), "f32_to_bf16(NaN from 0x%04x) not NaN",
                    h);
    } else {
      tu_check_true(&c, f32_bits(f) == h << 16, "bf16_to_f32(0x%04x) = 0x%08x", h, f32_bits(f));
      tu_check_true(&c, gllmk_f32_to_bf16(f).bits == h, "f32_to_bf16(bf16_to_f32(0x%04x)) = 0x%04x",
                    h, gllmk_f32_to_bf16(f).bits);
    }
  }
  tu_check_done(&c, "bf16: all 65536 values decode exactly and round trip");

  /* rounding of arbitrary floats: every f16 midpoint (ties to even) and its
   * neighbours, then random bit patterns */
  for (uint32_t h = 0; h < 0x7c00; h++) {
    double lo = ref_f16_decode((uint16_t)h), hi = ref_f16_decode((uint16_t)(h + 1));
    float mid = (float)((lo + hi) / 2); /* exact: 12 significant bits */
    float cand[3] = { mid, nextafterf(mid, -INFINITY), nextafterf(mid, INFINITY) };
    for (int k = 0; k < 3; k++)
      for (int s = 0; s < 2; s++) {
        float f = s ? -cand[k] : cand[k];
        uint16_t g = gllmk_f32_to_f16(f).bits, w = ref_f16_encode(f);
        tu_check_true(&c, g == w, "f32_to_f16(%.9g = 0x%08x) = 0x%04x, expected 0x%04x", (double)f,
                      f32_bits(f), g, w);
      }
  }
  for (int i = 0; i < 400000; i++) {
    float f = bits_f32((uint32_t)tu_rand_u64());
    uint16_t g = gllmk_f32_to_f16(f).bits;
    if (isnan(f))
      tu_check_true(&c, f16_is_nan(g), "f32_to_f16(NaN 0x%08x) = 0x%04x, not NaN", f32_bits(f), g);
    else
      tu_check_true(&c, g == ref_f16_encode(f), "f32_to_f16(%.9g = 0x%08x) = 0x%04x, expected 0x%04x",
                    (double)f, f32_bits(f), g, ref_f16_encode(f));
    /* values in the f16 range are the interesting ones */
    float v = (float)ldexp(tu_uniform(-1, 1), (int)tu_rand_below(40) - 26);
    g = gllmk_f32_to_f16(v).bits;
    tu_check_true(&c, g == ref_f16_encode(v), "f32_to_f16(%.9g = 0x%08x) = 0x%04x, expected 0x%04x",
                  (double)v, f32_bits(v), g, ref_f16_encode(v));
  }
  tu_check_done(&c, "f32_to_f16 rounds to nearest even (all midpoints, random values)");

  for (int i = 0; i < 400000; i++) {
    float f = bits_f32((uint32_t)tu_rand_u64());
    if (i < 65536) /* every tie pattern of the low half */
      f = bits_f32((f32_bits(f) & 0xffff0000u) | (uint32_t)(i & 1 ? 0x8000 : 0x7fff + (i & 2)));
    uint16_t g = gllmk_f32_to_bf16(f).bits;
    if (isnan(f))
      tu_check_true(&c, bf16_is_nan(g), "f32_to_bf16(NaN 0x%08x) = 0x%04x, not NaN", f32_bits(f), g);
    else
      tu_check_true(&c, g == ref_bf16_encode(f), "f32_to_bf16(0x%08x) = 0x%04x, expected 0x%04x",
                    f32_bits(f), g, ref_bf16_encode(f));
  }
  tu_check_done(&c, "f32_to_bf16 rounds to nearest even (random values, ties)");

  /* named special values */
  struct { float f; uint16_t h, b; } sv[] = {
    { 0.0f, 0x0000, 0x0000 },
    { -0.0f, 0x8000, 0x8000 },
    { 1.0f, 0x3c00, 0x3f80 },
    { -2.0f, 0xc000, 0xc000 },
    { INFINITY, 0x7c00, 0x7f80 },
    { -INFINITY, 0xfc00, 0xff80 },
    { 65504.0f, 0x7bff, 0x4780 },
    { 65519.996f, 0x7bff, 0x4780 },
    { 65520.0f, 0x7c00, 0x4780 },
    { 1e6f, 0x7c00, 0x4974 },
    { -1e6f, 0xfc00, 0xc974 },
    { 0x1p-24f, 0x0001, 0x3380 },
    { 0x1p-25f, 0x0000, 0x3300 },           /* tie between 0 and 2^-24: even is 0 */
    { 0x1.8p-25f, 0x0001, 0x3340 },
    { 0x1p-26f, 0x0000, 0x3280 },
    { 0x1p-14f, 0x0400, 0x3880 },           /* smallest normal f16 */
    { 0x1.ffcp-15f, 0x0400, 0x3880 },       /* tie: rounds up into the normal range */
    { 1.0f + 0x1p-11f, 0x3c00, 0x3f80 },    /* f16 tie: even */
    { 1.0f + 0x3p-11f, 0x3c02, 0x3f80 },    /* f16 tie: even (up) */
    { 1.0f + 0x1p-8f, 0x3c04, 0x3f80 },     /* bf16 tie: even (down) */
    { 1.0f + 0x3p-8f, 0x3c0c, 0x3f82 },     /* bf16 tie: even (up) */
    { FLT_MAX, 0x7c00, 0x7f80 },            /* bf16 rounds up to infinity */
    { -FLT_MAX, 0xfc00, 0xff80 },
    { 0x1.fep127f, 0x7c00, 0x7f7f },        /* largest finite bf16 */
    { 1e-40f, 0x0000, 0x0001 },             /* f32 subnormal: 0 in f16, subnormal bf16 */
    { -1e-45f, 0x8000, 0x8000 },
  };
  int good = 1;
  for (size_t i = 0; i < sizeof sv / sizeof sv[0]; i++) {
    uint16_t h = gllmk_f32_to_f16(sv[i].f).bits, b = gllmk_f32_to_bf16(sv[i].f).bits;
    /* the bf16 column of rows with bf16-unrepresentable values holds the RNE result */
    uint16_t bw = ref_bf16_encode(sv[i].f);
    if (h != sv[i].h || b != bw) {
      good = 0;
      diag("%.9g (0x%08x): f16 0x%04x (expected 0x%04x), bf16 0x%04x (expected 0x%04x)",
           (double)sv[i].f, f32_bits(sv[i].f), h, sv[i].h, b, bw);
    }
    if (sv[i].b != bw)
      diag("test table: bf16 of %.9g listed as 0x%04x, RNE gives 0x%04x", (double)sv[i].f,
           sv[i].b, bw);
  }
  ok(good, "f16/bf16 conversion of named special values (+-0, +-inf, max, overflow, subnormals, ties)");

  /* NaNs whose payload is only in the low bits must stay NaN (truncation
   * would make them infinities) */
  static const uint32_t nans[] = { 0x7f800001u, 0xff800001u, 0x7f801fffu, 0x7fc00000u, 0xffffffffu,
                                   0x7f800100u };
  good = 1;
  for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
    float f = bits_f32(nans[i]);
    uint16_t h = gllmk_f32_to_f16(f).bits, b = gllmk_f32_to_bf16(f).bits;
    if (!f16_is_nan(h) || !bf16_is_nan(b)) {
      good = 0;
      diag("NaN 0x%08x: f16 0x%04x, bf16 0x%04x", nans[i], h, b);
    }
  }
  ok(good, "every NaN (signalling, low-bit payloads, negative) converts to NaN");
}

/* ------------------------------------------------------------------ backends */
static int have_cuda = 0;

static void test_backend_open(void)
{
  gllmk_backend *be = NULL;
  gllmk_status s = gllmk_backend_open("cpu", &be);
  ok(s == GLLMK_OK && be, "backend_open(\"cpu\") (%s)", tu_status_name(s));
  if (be) {
    const char *n = gllmk_backend_name(be);
    ok(n && !strcmp(n, "cpu"), "backend_name = %s", n ? n : "NULL");
    ok(gllmk_backend_synchronize(be) == GLLMK_OK, "backend_synchronize(cpu) is GLLMK_OK");
    ok(gllmk_backend_device_error(be) == 0, "backend_device_error(cpu) is 0");
    gllmk_backend_close(be);
  }

  be = NULL;
  s = gllmk_backend_open("cuda", &be);
  have_cuda = s == GLLMK_OK;
  ok(s == GLLMK_OK || s == GLLMK_E_NO_DEVICE,
     "backend_open(\"cuda\") is GLLMK_OK or GLLMK_E_NO_DEVICE (%s)", tu_status_name(s));
  if (be) {
    const char *n = gllmk_backend_name(be);
    ok(n && !strncmp(n, "cuda", 4), "cuda backend name %s", n ? n : "NULL");
    gllmk_backend_close(be);
  } else {
    diag("no CUDA backend here: CUDA-specific checks expect GLLMK_E_NO_DEVICE");
  }
  be = NULL;
  s = gllmk_backend_open("cuda:0", &be);
  ok(s == (have_cuda ? GLLMK_OK : GLLMK_E_NO_DEVICE), "backend_open(\"cuda:0\") (%s)",
     tu_status_name(s));
  gllmk_backend_close(be);
  be = NULL;
  s = gllmk_backend_open("cuda:99999", &be);
  ok(s == GLLMK_E_NO_DEVICE, "backend_open(\"cuda:99999\") is GLLMK_E_NO_DEVICE (%s)",
     tu_status_name(s));
  gllmk_backend_close(be);

  const char *saved = getenv("GLLM_DEVICE");
  char *saved_copy = saved ? strdup(saved) : NULL;
  unsetenv("GLLM_DEVICE");
  static const char *autos[] = { "auto", NULL };
  for (int i = 0; i < 2; i++) {
    be = NULL;
    s = gllmk_backend_open(autos[i], &be);
    const char *n = be ? gllmk_backend_name(be) : NULL;
    ok(s == GLLMK_OK && n && !strcmp(n, have_cuda ? n : "cpu") &&
           (have_cuda ? !strncmp(n, "cuda", 4) : 1),
       "backend_open(%s) picks %s (%s, %s)", autos[i] ? "\"auto\"" : "NULL",
       have_cuda ? "cuda" : "cpu", tu_status_name(s), n ? n : "-");
    gllmk_backend_close(be);
  }

  be = (gllmk_backend *)&s; /* must not be used on failure */
  s = gllmk_backend_open("bogus", &be);
  ok(s == GLLMK_E_INVAL, "backend_open(\"bogus\") is GLLMK_E_INVAL (%s)", tu_status_name(s));
  s = gllmk_backend_open("", &be);
  ok(s == GLLMK_E_INVAL, "backend_open(\"\") is GLLMK_E_INVAL (%s)", tu_status_name(s));
  s = gllmk_backend_open("cpu", NULL);
  ok(s == GLLMK_E_INVAL, "backend_open(\"cpu\", NULL) is GLLMK_E_INVAL (%s)", tu_status_name(s));

  /* GLLM_DEVICE steers "auto" */
  setenv("GLLM_DEVICE", "cpu", 1);
  be = NULL;
  s = gllmk_backend_open("auto", &be);
  ok(s == GLLMK_OK && be && !strcmp(gllmk_backend_name(be), "cpu"),
     "GLLM_DEVICE=cpu: auto opens the cpu backend (%s)", tu_status_name(s));
  gllmk_backend_close(be);
  setenv("GLLM_DEVICE", "cuda", 1);
  be = NULL;
  s = gllmk_backend_open("auto", &be);
  ok(have_cuda ? (s == GLLMK_OK && be && !strncmp(gllmk_backend_name(be), "cuda", 4))
               : s == GLLMK_E_NO_DEVICE,
     "GLLM_DEVICE=cuda: auto opens cuda or fails with GLLMK_E_NO_DEVICE, no silent fallback (%s)",
     tu_status_name(s));
  gllmk_backend_close(be);
  setenv("GLLM_DEVICE", "cuda:99999", 1);
  be = NULL;
  s = gllmk_backend_open(NULL, &be);
  ok(s == GLLMK_E_NO_DEVICE, "GLLM_DEVICE=cuda:99999: NULL (auto) is GLLMK_E_NO_DEVICE (%s)",
     tu_status_name(s));
  gllmk_backend_close(be);
  setenv("GLLM_DEVICE", "bogus", 1);
  be = NULL;
  s = gllmk_backend_open("auto", &be);
  ok(s == GLLMK_E_INVAL, "GLLM_DEVICE=bogus: auto is GLLMK_E_INVAL (%s)", tu_status_name(s));
  gllmk_backend_close(be);
  setenv("GLLM_DEVICE", "cuda", 1);
  be = NULL;
  s = gllmk_backend_open("cpu", &be);
  ok(s == GLLMK_OK && be && !strcmp(gllmk_backend_name(be), "cpu"),
     "an explicit \"cpu\" ignores GLLM_DEVICE (%s)", tu_status_name(s));
  gllmk_backend_close(be);
  if (saved_copy) {
    setenv("GLLM_DEVICE", saved_copy, 1);
    free(saved_copy);
  } else {
    unsetenv("GLLM_DEVICE");
  }

  /* NULL is ignored: an open backend, its buffer and the thread's message of
   * the last failed open are as they were */
  {
    static const unsigned char pat[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    unsigned char back[8] = { 0 };
    gllmk_backend *cpu = NULL, *none = NULL;
    gllmk_buffer *buf = NULL;
    gllmk_status s1 = gllmk_backend_open("cpu", &cpu);
    gllmk_status s2 = cpu ? gllmk_buffer_alloc(cpu, sizeof pat, &buf) : GLLMK_E_INVAL;
    gllmk_status s3 = buf ? gllmk_buffer_upload(buf, 0, pat, sizeof pat) : GLLMK_E_INVAL;
    s = gllmk_backend_open("cuda:99999", &none);   /* leaves a message */
    char *msg = strdup(gllmk_backend_error_message());
    gllmk_backend_close(NULL);
    gllmk_buffer_free(NULL);
    gllmk_status s4 = buf ? gllmk_buffer_download(buf, 0, back, sizeof back) : GLLMK_E_INVAL;
    ok(s1 == GLLMK_OK && s2 == GLLMK_OK && s3 == GLLMK_OK && s4 == GLLMK_OK && s != GLLMK_OK &&
       !memcmp(back, pat, sizeof pat) && gllmk_buffer_size(buf) == sizeof pat && msg && *msg &&
       !strcmp(gllmk_backend_error_message(), msg) && gllmk_backend_synchronize(cpu) == GLLMK_OK,
       "backend_close(NULL) and buffer_free(NULL) leave an open backend, its buffer and the "
       "open error message as they were (%s %s %s %s)", tu_status_name(s1), tu_status_name(s2),
       tu_status_name(s3), tu_status_name(s4));
    free(msg);
    gllmk_buffer_free(buf);
    gllmk_backend_close(cpu);
  }
  ok(gllmk_backend_synchronize(NULL) == GLLMK_E_INVAL, "backend_synchronize(NULL) is GLLMK_E_INVAL");
}

#define OPS_MEMBERS(X)                                                                      \
  X(vec_dot) X(vec_add) X(vec_sub) X(vec_mul) X(vec_scale) X(vec_axpy) X(vec_sum) X(vec_max) \
  X(vec_sum_squares) X(gemv) X(gemm) X(gemm_bias) X(silu) X(gelu) X(relu) X(tanh) X(exp)    \
  X(swiglu) X(softmax) X(rms_norm) X(layer_norm) X(rope) X(rope_with_pos)                   \
  X(embedding_lookup) X(flash_attention) X(flash_attention_paged) X(fused_qkv_rope)         \
  X(fused_gate_up_swiglu) X(fused_ffn) X(fused_ffn_rmsnorm) X(fused_linear_residual_rmsnorm) \
  X(fused_linear_bias_residual_rmsnorm)

static void test_buffers(void)
{
  gllmk_backend *be = NULL;
  if (gllmk_backend_open("cpu", &be) != GLLMK_OK || !be) {
    ok(0, "open the cpu backend for the buffer tests");
    return;
  }
  gllmk_buffer *b = NULL;
  gllmk_status s;
  ok(gllmk_buffer_alloc(be, 0, &b) == GLLMK_E_INVAL, "buffer_alloc(0 bytes) is GLLMK_E_INVAL");
  ok(gllmk_buffer_alloc(NULL, 64, &b) == GLLMK_E_INVAL, "buffer_alloc(NULL backend) is GLLMK_E_INVAL");
  ok(gllmk_buffer_alloc(be, 64, NULL) == GLLMK_E_INVAL, "buffer_alloc(out NULL) is GLLMK_E_INVAL");
  b = NULL;
  s = gllmk_buffer_alloc(be, SIZE_MAX, &b);
  ok(s == GLLMK_E_NOMEM || s == GLLMK_E_OVERFLOW, "buffer_alloc(SIZE_MAX) is NOMEM or OVERFLOW (%s)",
     tu_status_name(s));
  if (s == GLLMK_OK)
    gllmk_buffer_free(b);

  b = NULL;
  s = gllmk_buffer_alloc(be, 1000, &b);
  ok(s == GLLMK_OK && b, "buffer_alloc(1000) (%s)", tu_status_name(s));
  if (!b) {
    gllmk_backend_close(be);
    return;
  }
  ok(gllmk_buffer_size(b) == 1000, "buffer_size = %zu", gllmk_buffer_size(b));
  void *d = gllmk_buffer_data(b);
  ok(d && ((uintptr_t)d % 64) == 0, "buffer_data is 64-byte aligned (%p)", d);
  unsigned char src[1000], dst[1000];
  for (int i = 0; i < 1000; i++)
    src[i] = (unsigned char)(i * 7 + 3);
  memset(dst, 0x5a, sizeof dst);
  ok(gllmk_buffer_upload(b, 0, src, 1000) == GLLMK_OK &&
         gllmk_buffer_download(b, 0, dst, 1000) == GLLMK_OK && !memcmp(src, dst, 1000),
     "upload then download 1000 bytes round trips");
  memset(dst, 0x5a, sizeof dst);
  ok(gllmk_buffer_upload(b, 500, src, 100) == GLLMK_OK &&
         gllmk_buffer_download(b, 500, dst, 100) == GLLMK_OK && !memcmp(src, dst, 100) &&
         gllmk_buffer_download(b, 0, dst, 1000) == GLLMK_OK && !memcmp(dst + 500, src, 100) &&
         !memcmp(dst + 600, src + 600, 400) && !memcmp(dst, src, 500),
     "ranged upload/download at offset 500");

  unsigned char pat[16];
  memset(pat, 0x5a, sizeof pat);
  memset(dst, 0x5a, sizeof dst);
  s = gllmk_buffer_upload(b, 999, src, 2);
  ok(s == GLLMK_E_INVAL, "upload past the end is GLLMK_E_INVAL (%s)", tu_status_name(s));
  s = gllmk_buffer_upload(b, 1001, src, 1);
  ok(s == GLLMK_E_INVAL, "upload at offset > size is GLLMK_E_INVAL (%s)", tu_status_name(s));
  s = gllmk_buffer_upload(b, SIZE_MAX, src, 2);
  ok(s == GLLMK_E_INVAL || s == GLLMK_E_OVERFLOW, "upload with offset+bytes wrapping is refused (%s)",
     tu_status_name(s));
  s = gllmk_buffer_download(b, 990, dst, 11);
  ok(s == GLLMK_E_INVAL && !memcmp(dst, pat, 16),
     "download past the end is GLLMK_E_INVAL and writes nothing (%s)", tu_status_name(s));
  s = gllmk_buffer_download(b, SIZE_MAX - 1, dst, 4);
  ok((s == GLLMK_E_INVAL || s == GLLMK_E_OVERFLOW) && !memcmp(dst, pat, 16),
     "download with offset+bytes wrapping is refused (%s)", tu_status_name(s));
  ok(gllmk_buffer_upload(b, 0, NULL, 8) == GLLMK_E_INVAL, "upload from NULL is GLLMK_E_INVAL");
  ok(gllmk_buffer_download(b, 0, NULL, 8) == GLLMK_E_INVAL, "download to NULL is GLLMK_E_INVAL");
  ok(gllmk_buffer_upload(NULL, 0, src, 8) == GLLMK_E_INVAL, "upload to a NULL buffer is GLLMK_E_INVAL");
  ok(gllmk_buffer_download(NULL, 0, dst, 8) == GLLMK_E_INVAL,
     "download from a NULL buffer is GLLMK_E_INVAL");
  ok(gllmk_buffer_upload(b, 10, src, 0) == GLLMK_OK && gllmk_buffer_download(b, 1000, dst, 0) == GLLMK_OK,
     "zero-byte transfers inside the buffer are GLLMK_OK");
  gllmk_buffer_free(b);

  /* op tables */
  const gllmk_ops_f32 *o32 = gllmk_backend_ops_f32(be);
  const gllmk_ops_f16 *o16 = gllmk_backend_ops_f16(be);
  const gllmk_ops_bf16 *ob16 = gllmk_backend_ops_bf16(be);
  ok(o32 && o16 && ob16, "backend op tables for f32, f16, bf16 exist");
  if (o32 && o16 && ob16) {
    int all = 1;
#define CHECK_MEMBER(m)                                          \
  if (!o32->m || !o16->m || !ob16->m) {                          \
    all = 0;                                                     \
    diag("op table member %s is NULL", #m);                      \
  }
    OPS_MEMBERS(CHECK_MEMBER)
#undef CHECK_MEMBER
    ok(all, "every member of the three op tables is set");

    /* vec_add through the f32 table on buffer memory */
    size_t n = 37;
    gllmk_buffer *ba = NULL, *bb = NULL, *bo = NULL;
    if (gllmk_buffer_alloc(be, n * 4, &ba) == GLLMK_OK &&
        gllmk_buffer_alloc(be, n * 4, &bb) == GLLMK_OK &&
        gllmk_buffer_alloc(be, n * 4, &bo) == GLLMK_OK) {
      float a[37], bv[37], out[37];
      for (size_t i = 0; i < n; i++) {
        a[i] = (float)i;
        bv[i] = 0.5f * (float)i - 3;
      }
      gllmk_buffer_upload(ba, 0, a, n * 4);
      gllmk_buffer_upload(bb, 0, bv, n * 4);
      s = o32->vec_add(be, gllmk_buffer_data(ba), gllmk_buffer_data(bb), gllmk_buffer_data(bo), n);
      gllmk_backend_synchronize(be);
      gllmk_buffer_download(bo, 0, out, n * 4);
      int good = s == GLLMK_OK;
      for (size_t i = 0; i < n; i++)
        good &= out[i] == a[i] + bv[i];
      ok(good, "ops_f32->vec_add on buffer memory (%s)", tu_status_name(s));

      /* vec_dot through the f16 table: the result goes to backend memory */
      gllmk_f16 h[37];
      for (size_t i = 0; i < n; i++)
        h[i] = gllmk_f32_to_f16((float)(i % 5));
      gllmk_buffer_upload(ba, 0, h, n * 2);
      float r = -1;
      s = o16->vec_dot(be, gllmk_buffer_data(ba), gllmk_buffer_data(ba), n,
                       (float *)gllmk_buffer_data(bo) + 3);
      gllmk_buffer_download(bo, 3 * sizeof(float), &r, sizeof r);
      float want = 0;
      for (size_t i = 0; i < n; i++)
        want += (float)((i % 5) * (i % 5));
      ok(s == GLLMK_OK && r == want, "ops_f16->vec_dot on buffer memory: %g (expected %g)",
         (double)r, (double)want);

      /* an error through the table: same validation */
      s = ob16->vec_add(be, NULL, gllmk_buffer_data(bb), gllmk_buffer_data(bo), n);
      ok(s == GLLMK_E_INVAL, "ops_bf16->vec_add(NULL, ...) is GLLMK_E_INVAL (%s)", tu_status_name(s));
    } else {
      ok(0, "allocate buffers for the op-table calls");
    }
    gllmk_buffer_free(ba);
    gllmk_buffer_free(bb);
    gllmk_buffer_free(bo);
  }
  gllmk_backend_close(be);
}

/* ------------------------------------------------------------------ _Generic */
static void test_generic(void)
{
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
  float fa[20], fb[20], r = 0;
  gllmk_f16 ha[20], hb[20];
  gllmk_bf16 ba[20], bb[20];
  float want = 0;
  for (int i = 0; i < 20; i++) {
    fa[i] = (float)(i - 7);
    fb[i] = (float)(i % 3) + 0.5f;
    ha[i] = gllmk_f32_to_f16(fa[i]);
    hb[i] = gllmk_f32_to_f16(fb[i]);
    ba[i] = gllmk_f32_to_bf16(fa[i]);
    bb[i] = gllmk_f32_to_bf16(fb[i]);
    want += fa[i] * fb[i];
  }
  gllmk_status s = gllmk_vec_dot(fa, fb, 20, &r);
  ok(s == GLLMK_OK && r == want, "gllmk_vec_dot(float *) = %g (expected %g)", (double)r, (double)want);
  const float *cfa = fa, *cfb = fb;
  r = 0;
  s = gllmk_vec_dot(cfa, cfb, 20, &r);
  ok(s == GLLMK_OK && r == want, "gllmk_vec_dot(const float *) = %g", (double)r);
  r = 0;
  s = gllmk_vec_dot(ha, hb, 20, &r);
  ok(s == GLLMK_OK && r == want, "gllmk_vec_dot(gllmk_f16 *) = %g", (double)r);
  const gllmk_f16 *cha = ha;
  r = 0;
  s = gllmk_vec_dot(cha, hb, 20, &r);
  ok(s == GLLMK_OK && r == want, "gllmk_vec_dot(const gllmk_f16 *) = %g", (double)r);
  r = 0;
  s = gllmk_vec_dot(ba, bb, 20, &r);
  ok(s == GLLMK_OK && r == want, "gllmk_vec_dot(gllmk_bf16 *) = %g", (double)r);

  gllmk_f16 ho[20];
  gllmk_bf16 bo[20];
  int good = gllmk_vec_add(ha, hb, ho, 20) == GLLMK_OK && gllmk_vec_add(ba, bb, bo, 20) == GLLMK_OK;
  for (int i = 0; i < 20; i++)
    good &= gllmk_f16_to_f32(ho[i]) == fa[i] + fb[i] && gllmk_bf16_to_f32(bo[i]) == fa[i] + fb[i];
  ok(good, "gllmk_vec_add() picks the f16 and bf16 variants");
  float fmax = 0;
  good = gllmk_vec_max(bb, 20, &fmax) == GLLMK_OK && fmax == 2.5f;
  ok(good, "gllmk_vec_max(gllmk_bf16 *) = %g", (double)fmax);
#else
  skip("not compiled as C11");
#endif
}

int main(int argc, char **argv)
{
  if (argc > 1 && !strcmp(argv[1], "--child-isa"))
    return child_isa_main();
  tu_init();
  test_version();
  test_strerror();
  test_isa();
  test_env_isa();
  test_threads();
  test_conversions();
  test_backend_open();
  test_buffers();
  test_generic();
  return done_testing();
}
