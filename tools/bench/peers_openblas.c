/* peers_openblas.c -- gllmk-bench: OpenBLAS side by side (dlopen, never linked)
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

/* ================================================================ OpenBLAS (dlopen, never linked) */

struct bench_ob ob;

int openblas_load(void)
{
  if (ob.tried) return ob.ok;
  ob.tried = 1;
  if (opt.no_openblas) {
    snprintf(ob.desc, sizeof ob.desc, "disabled (--no-openblas)");
    return 0;
  }
  const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
  for (size_t i = 0; i < sizeof names / sizeof *names && !ob.h; i++)
    ob.h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!ob.h) {
    snprintf(ob.desc, sizeof ob.desc, "not found (libopenblas.so.0), comparison skipped");
    return 0;
  }
  *(void **)&ob.sgemm = dlsym(ob.h, "cblas_sgemm");
  *(void **)&ob.sgemv = dlsym(ob.h, "cblas_sgemv");
  *(void **)&ob.sdot = dlsym(ob.h, "cblas_sdot");
  *(void **)&ob.set_threads = dlsym(ob.h, "openblas_set_num_threads");
  *(void **)&ob.get_config = dlsym(ob.h, "openblas_get_config");
  *(void **)&ob.get_corename = dlsym(ob.h, "openblas_get_corename");
  if (!ob.sgemm || !ob.sgemv || !ob.sdot) {
    snprintf(ob.desc, sizeof ob.desc, "libopenblas.so.0 lacks cblas_sgemm/sgemv/sdot, comparison skipped");
    return 0;
  }
  snprintf(ob.desc, sizeof ob.desc, "%s%s%s", ob.get_config ? ob.get_config() : "libopenblas.so.0",
           ob.get_corename ? ", core " : "", ob.get_corename ? ob.get_corename() : "");
  ob.ok = 1;
  return 1;
}
