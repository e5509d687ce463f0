/* gllmk-info.c -- print what this gllmk build and this machine offer:
 * version, compiled and runnable CPU ISAs, detected CPU features, the active
 * ISA, threads, the CUDA devices and the backend that "auto" resolves to.
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* dladdr */
#include <gllmk.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the ISA rows of the library's list (lib/isa/isas.def), best first */
static const struct isa_row {
  const char *name, *arch, *what;
} isa_rows[] = {
#define GLLMK_ISA_ROW(name, NAME, arch, needs, what) {#name, #arch, what},
#include "isa/isas.def"
#undef GLLMK_ISA_ROW
};
#define N_ISAS (sizeof isa_rows / sizeof isa_rows[0])

static void usage(FILE *f, const char *prog)
{
  char isas[128] = "";
  for (size_t i = 0; i < N_ISAS; i++) {
    if (i) strncat(isas, "|", sizeof isas - strlen(isas) - 1);
    strncat(isas, isa_rows[i].name, sizeof isas - strlen(isas) - 1);
  }
  fprintf(f,
          "Usage: %s [--help] [--version] [--isas] [--kernels[=ISA]]\n"
          "Print the gllmk library version and file, the CPU ISAs compiled into it and which of\n"
          "them this machine can run, the detected CPU features, the active ISA, the\n"
          "thread count, the CUDA kernels' architectures and each CUDA device (name, compute\n"
          "capability, memory, driver version, whether the kernels cover it) and the backend\n"
          "that \"auto\" resolves to.\n"
          "\n"
          "  --isas     list every CPU ISA the library knows, best first (the dispatch\n"
          "             order), with its architecture and whether it is compiled in and\n"
          "             runnable here\n"
          "  --kernels[=ISA]  list each slot of the kernel table of the active ISA (or of\n"
          "             ISA): the slot, the function it holds, and \"by hand\" where that\n"
          "             is the ISA's own code (its overrides.def) instead of the template's\n"
          "\n"
          "Environment: GLLMK_CPU_ISA=%s forces the CPU ISA,\n"
          "GLLM_DEVICE=cpu|cuda|cuda:N picks the \"auto\" backend, OMP_NUM_THREADS\n"
          "sets the default thread count, GLLMK_CUDA_DRIVER=PATH loads another CUDA driver\n"
          "library than libcuda.so.1.\n",
          prog, isas);
}

static const char *env_or(const char *name, const char *dflt)
{
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout, argv[0]);
      return 0;
    }
    if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
      printf("gllmk-info (gllmk) %s\n", gllmk_version());
      return 0;
    }
    if (!strcmp(argv[i], "--isas")) {
      /* gllmk_cpu_isa_check: OK, UNSUPPORTED (not compiled in or not runnable) */
      const char *compiled = gllmk_cpu_isa_compiled();
      for (size_t r = 0; r < N_ISAS; r++) {
        size_t len = strlen(isa_rows[r].name);
        int in = 0;
        for (const char *p = compiled; (p = strstr(p, isa_rows[r].name)); p += len)
          if ((p == compiled || p[-1] == ' ') && (p[len] == ' ' || !p[len])) in = 1;
        printf("%-8s %-4s %-9s %-9s %s\n", isa_rows[r].name, isa_rows[r].arch,
               in ? "compiled" : "-",
               gllmk_cpu_isa_check(isa_rows[r].name) == GLLMK_OK ? "runnable" : "-", isa_rows[r].what);
      }
      return 0;
    }
    if (!strcmp(argv[i], "--kernels") || !strncmp(argv[i], "--kernels=", 10)) {
      const char *isa = argv[i][9] == '=' ? argv[i] + 10 : NULL;
      const char *slot, *kernel;
      bool by_hand;
      gllmk_status st = gllmk_cpu_kernel_slot(isa, 0, &slot, &kernel, &by_hand);
      if (st != GLLMK_OK) {
        fprintf(stderr, "%s: no kernel table for %s: %s\n", argv[0], isa ? isa : "the active ISA",
                gllmk_strerror(st));
        return 1;
      }
      printf("kernels of %s:\n", isa ? isa : gllmk_cpu_isa_name());
      for (size_t k = 0; gllmk_cpu_kernel_slot(isa, k, &slot, &kernel, &by_hand) == GLLMK_OK; k++)
        printf("  %-22s %s%s\n", slot, kernel, by_hand ? "  (by hand)" : "");
      return 0;
    }
    fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
    usage(stderr, argv[0]);
    return 2;
  }

  printf("gllmk version:       %s\n", gllmk_version());
  /* the file the dynamic linker loaded the library from (the installed
     package, a build tree, LD_LIBRARY_PATH...) */
  Dl_info dli;
  if (dladdr((const void *)gllmk_version, &dli) && dli.dli_fname)
    printf("library:             %s\n", dli.dli_fname);
  printf("compiled ISAs:       %s\n", gllmk_cpu_isa_compiled());
  const char *feat = gllmk_cpu_features();
  printf("CPU features:        %s\n", feat && *feat ? feat : "(none detected)");
  /* "sve_vl=BITS" in the features: the sve kernels use the largest power of
     two of lanes up to 512 bits of it */
  const char *vl = feat ? strstr(feat, "sve_vl=") : NULL;
  if (vl) {
    int bits = atoi(vl + 7);
    printf("SVE vector length:   %d bits (the sve kernels use %d)\n", bits,
           bits >= 512 ? 512 : bits >= 256 ? 256 : 128);
  }

  /* which compiled ISAs can run here */
  printf("runnable ISAs:      ");
  {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", gllmk_cpu_isa_compiled());
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      gllmk_status st = gllmk_cpu_isa_check(tok);
      if (st == GLLMK_OK)
        printf(" %s", tok);
      else
        printf(" %s(no: %s)", tok, gllmk_strerror(st));
    }
    printf("\n");
  }

  const char *env_isa = getenv("GLLMK_CPU_ISA");
  if (env_isa && !*env_isa)
    env_isa = NULL; /* the library ignores an empty value too */
  printf("active ISA:          %s%s%s%s\n", gllmk_cpu_isa_name(),
         env_isa ? " (GLLMK_CPU_ISA=" : " (best runnable)", env_isa ? env_isa : "",
         env_isa ? ")" : "");
  if (env_isa && gllmk_cpu_isa_check(env_isa) != GLLMK_OK)
    printf("                     warning: GLLMK_CPU_ISA=%s cannot run here (%s): every "
           "operator returns GLLMK_E_UNSUPPORTED\n",
           env_isa, gllmk_strerror(gllmk_cpu_isa_check(env_isa)));

  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  printf("threads:             %d (OpenMP: %s; online CPUs: %ld; OMP_NUM_THREADS=%s)\n",
         gllmk_get_num_threads(), gllmk_has_openmp() ? "yes" : "no, kernels run on the calling thread",
         ncpu, env_or("OMP_NUM_THREADS", "unset"));

  const char *archs = gllmk_cuda_archs();
  if (!archs || !*archs) {
    printf("CUDA kernels:        none (built without nvcc)\n");
  } else {
    printf("CUDA kernels:        %s\n", archs);
    int n = 0;
    gllmk_status cs = gllmk_cuda_device_count(&n);
    if (cs != GLLMK_OK)
      printf("CUDA devices:        none: %s\n", gllmk_backend_error_message());
    for (int d = 0; d < n; d++) {
      gllmk_cuda_device info;
      cs = gllmk_cuda_device_info(d, &info);
      if (cs != GLLMK_OK) {
        printf("cuda:%-2d              %s\n", d, gllmk_backend_error_message());
        continue;
      }
      printf("cuda:%-2d              %s, compute capability %d.%d, %d SMs, %.1f GiB, driver %d.%d, "
             "%s\n",
             d, info.name, info.cc_major, info.cc_minor, info.sm_count,
             (double)info.total_mem / (1024.0 * 1024 * 1024), info.driver_version / 1000,
             info.driver_version % 1000 / 10,
             info.kernels_cover ? "kernels cover it" : "NOT covered by the kernels");
    }
  }

  gllmk_backend *be = NULL;
  gllmk_status st = gllmk_backend_open("auto", &be);
  if (st == GLLMK_OK) {
    printf("backend \"auto\":      %s (GLLM_DEVICE=%s)\n", gllmk_backend_name(be),
           env_or("GLLM_DEVICE", "unset"));
    gllmk_backend_close(be);
  } else {
    printf("backend \"auto\":      unavailable: %s: %s (GLLM_DEVICE=%s)\n", gllmk_strerror(st),
           gllmk_backend_error_message(), env_or("GLLM_DEVICE", "unset"));
  }
  return 0;
}
