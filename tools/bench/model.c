/* bench_model.c -- gllmk-bench's model section (--op=model): whole-model
 * prefill and decode, gllmk against llama.cpp on the same GGUF file
 * SPDX-License-Identifier: MIT
 *
 * The files are synthetic models of a real shape (tools/gen-bench-model.py:
 * Llama-3.2-1B, hidden 2048, 16 layers, 32/8 heads, ffn 8192, vocab 128256,
 * in f16 and in llama.cpp's Q4_K_M mix; --quick: a tiny shape), found in
 * --models=DIR (default $GLLMK_BENCH_MODELS, else ./bench-models) and made
 * there by the script when missing and Python can (gguf, llama-cpp-python).
 *
 * Per file and thread count: prefill of P tokens (512; --quick 64) into an
 * empty cache and D decode steps (32; --quick 8) of one token, greedy,
 * sampled on the backend; the median of 3 runs.  llama.cpp runs the same
 * token ids with the same thread count through llama-cpp-python (a Python
 * child process: llama_decode of one batch of P tokens, then D batches of
 * one token, n_batch = n_ubatch = P, f16 KV cache, its defaults otherwise).
 * Memory: what gllmk holds on the backend after load (weights, activations
 * and inputs, KV cache, workspace) and the growth of the process's resident
 * set over the decode steps (0: nothing is allocated per step).
 */
#define _GNU_SOURCE
#include <gllmk.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int bench_model(const char *dir, int quick, int quiet, const int *threads, int n_threads,
                const char *csv);

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static size_t rss_bytes(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, res = 0;
  if (f) {
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
      res = 0;
    fclose(f);
  }
  return res * (size_t)sysconf(_SC_PAGESIZE);
}

static int exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* gllmk: prefill P tokens, then D decode steps; medians of 3 runs */
static int run_gllmk(const char *path, int threads, const int32_t *tok, size_t P, size_t D,
                     double *pre, double *dec, size_t mem[5])
{
  gllmk_backend *be = NULL;
  gllmk_model *m = NULL;
  gllmk_kv_cache *kv = NULL;
  gllmk_set_num_threads(threads);
  gllmk_model_params mp = { .max_batch = P, .max_rows = 1 };
  gllmk_status st = gllmk_backend_open("cpu", &be);
  if (st == GLLMK_OK)
    st = gllmk_model_load_gguf(be, path, &mp, &m);
  if (st == GLLMK_OK)
    st = gllmk_kv_cache_create(m, 1, P + D + 1, 16, 0, &kv);
  if (st != GLLMK_OK) {
    fprintf(stderr, "gllmk-bench: %s: %s (%s)\n", path, gllmk_strerror(st), gllmk_model_error_message());
    gllmk_kv_cache_free(kv);
    gllmk_model_free(m);
    gllmk_backend_close(be);
    return -1;
  }
  gllmk_batch_entry *b = malloc(P * sizeof *b);
  double tp[3], td[3];
  gllmk_sampling sp = { 0.0f, 0, 1.0f, 0.0f, 1.0f, 0, 0 };
  size_t rss0 = 0, rss1 = 0;
  for (int r = 0; r < 3 && st == GLLMK_OK; r++) {
    gllmk_kv_cache_drop(kv, 0);
    for (size_t i = 0; i < P; i++)
      b[i] = (gllmk_batch_entry){ tok[i], (int32_t)i, 0, GLLMK_PARENT_NONE };
    int32_t last = (int32_t)P - 1, zero = 0, id = 0;
    double t0 = now();
    st = gllmk_model_forward(m, kv, b, P, &last, 1);
    if (st == GLLMK_OK)
      st = gllmk_model_sample(m, kv, &sp, &id);
    double t1 = now();
    if (r == 2)
      rss0 = rss_bytes();
    for (size_t k = 0; k < D && st == GLLMK_OK; k++) {
      gllmk_batch_entry e = { id, (int32_t)(P + k), 0, GLLMK_PARENT_NONE };
      st = gllmk_model_forward(m, kv, &e, 1, &zero, 1);
      if (st == GLLMK_OK)
        st = gllmk_model_sample(m, kv, &sp, &id);
    }
    double t2 = now();
    if (r == 2)
      rss1 = rss_bytes();
    tp[r] = t1 - t0, td[r] = t2 - t1;
  }
  if (st == GLLMK_OK) {
    qsort(tp, 3, sizeof *tp, cmp_dbl);
    qsort(td, 3, sizeof *td, cmp_dbl);
    *pre = P / tp[1];
    *dec = D / td[1];
    gllmk_model_memory(m, &mem[0], &mem[1]);
    mem[2] = gllmk_kv_cache_bytes(kv);
    mem[3] = gllmk_backend_workspace_size(be);
    mem[4] = rss1 > rss0 ? rss1 - rss0 : 0;
  } else {
    fprintf(stderr, "gllmk-bench: %s: %s (%s)\n", path, gllmk_strerror(st), gllmk_model_error_message());
  }
  free(b);
  gllmk_kv_cache_free(kv);
  gllmk_model_free(m);
  gllmk_backend_close(be);
  return st == GLLMK_OK ? 0 : -1;
}

/* llama.cpp through llama-cpp-python, the same measurement */
static int run_llamacpp(const char *path, int threads, const int32_t *tok, size_t P, size_t D,
                        double *pre, double *dec, char *version, size_t vlen)
{
  char ids[8192], cmd[8192 + 8192 + 1024];
  size_t o = 0;
  for (size_t i = 0; i < P && o + 16 < sizeof ids; i++)
    o += (size_t)snprintf(ids + o, sizeof ids - o, "%s%d", i ? "," : "", tok[i]);
  snprintf(cmd, sizeof cmd,
           "python3 -c \"\n"
           "import sys, time, importlib.metadata as md, numpy as np\n"
           "import llama_cpp as L\n"
           "toks = [%s]\n"
           "llm = L.Llama(model_path='%s', n_ctx=%zu, n_batch=%zu, n_ubatch=%zu, n_threads=%d,\n"
           "              n_threads_batch=%d, n_gpu_layers=0, verbose=False)\n"
           "V = llm.n_vocab()\n"
           "def top(): return int(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(V,)).argmax())\n"
           "tp, td = [], []\n"
           "for r in range(3):\n"
           "    llm.reset()\n"
           "    t0 = time.time(); llm.eval(toks); t1 = time.time()\n"
           "    t = top()\n"
           "    for k in range(%zu):\n"
           "        llm.eval([t]); t = top()\n"
           "    t2 = time.time(); tp.append(t1 - t0); td.append(t2 - t1)\n"
           "tp.sort(); td.sort()\n"
           "print('%%f %%f %%s' %% (%zu / tp[1], %zu / td[1], md.version('llama-cpp-python')))\n"
           "\" 2>/dev/null",
           ids, path, P + D + 8, P, P, threads, threads, D, P, D);
  FILE *f = popen(cmd, "r");
  if (!f)
    return -1;
  char line[256] = "";
  char *got = fgets(line, sizeof line, f);
  int rc = pclose(f);
  char ver[64] = "";
  if (!got || rc != 0 || sscanf(line, "%lf %lf %63s", pre, dec, ver) != 3)
    return -1;
  snprintf(version, vlen, "%s", ver);
  return 0;
}

int bench_model(const char *dir, int quick, int quiet, const int *threads, int n_threads,
                const char *csv)
{
  const char *shape = quick ? "tiny" : "llama-3.2-1b";
  static const char *const fmts[] = { "q4_k_m", "f16" };
  size_t P = quick ? 64 : 512, D = quick ? 8 : 32;
  char path[2][4096];
  int have = 0;
  for (int i = 0; i < 2; i++) {
    snprintf(path[i], sizeof path[i], "%s/%s-%s.gguf", dir, shape, fmts[i]);
    have += exists(path[i]);
  }
  if (have < 2) {
    const char *src = getenv("GLLMK_SRCDIR");
#ifdef GLLMK_SRCDIR_DEFAULT
    if (!src)
      src = GLLMK_SRCDIR_DEFAULT;
#endif
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/gen-bench-model.py' '%s' --shape %s --formats f16,q4_k_m >/dev/null",
             src ? src : ".", dir, shape);
    if (!quiet)
      fprintf(stderr, "gllmk-bench: making the %s models in %s (tools/gen-bench-model.py)\n", shape, dir);
    if (system(cmd) != 0 || !exists(path[0]) || !exists(path[1])) {
      printf("\nmodel: no %s models in %s, and tools/gen-bench-model.py could not make them\n"
             "(it needs the Python packages gguf, numpy and llama-cpp-python): skipped\n", shape, dir);
      return 0;
    }
  }
  FILE *cf = csv ? fopen(csv, "a") : NULL;
  printf("\nmodel: %s shape, prefill %zu tokens into an empty cache, then %zu decode steps "
         "(greedy, sampled on the backend);\n       median of 3 runs; llama.cpp through "
         "llama-cpp-python on the same file and threads\n", shape, P, D);
  printf("%-26s %3s %12s %12s %7s %12s %12s %7s\n", "file", "thr", "prefill t/s", "llama.cpp", "ratio",
         "decode t/s", "llama.cpp", "ratio");
  int32_t *tok = malloc(P * sizeof *tok);
  uint64_t s = 12345;
  for (size_t i = 0; i < P; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    tok[i] = 3 + (int32_t)((s >> 33) % (quick ? 4000 : 128000));
  }
  int rc = 0;
  char ver[64] = "";
  for (int f = 0; f < 2; f++)
    for (int t = 0; t < n_threads; t++) {
      double gp = 0, gd = 0, lp = 0, ld = 0;
      size_t mem[5] = { 0 };
      if (!quiet)
        fprintf(stderr, "gllmk-bench: model %s, %d thread(s)\n", fmts[f], threads[t]);
      if (run_gllmk(path[f], threads[t], tok, P, D, &gp, &gd, mem) != 0) {
        rc = 1;
        continue;
      }
      int have_lc = run_llamacpp(path[f], threads[t], tok, P, D, &lp, &ld, ver, sizeof ver) == 0;
      const char *name = strrchr(path[f], '/') ? strrchr(path[f], '/') + 1 : path[f];
      if (have_lc)
        printf("%-26s %3d %12.2f %12.2f %6.2fx %12.2f %12.2f %6.2fx\n", name, threads[t], gp, lp,
               gp / lp, gd, ld, gd / ld);
      else
        printf("%-26s %3d %12.2f %12s %7s %12.2f %12s %7s\n", name, threads[t], gp, "-", "-", gd, "-", "-");
      printf("%-26s     memory: weights %.1f MiB, activations+inputs %.1f MiB, KV cache %.1f MiB, "
             "workspace %.1f MiB; RSS growth over the decode steps %zu bytes\n", "", mem[0] / 1048576.0,
             mem[1] / 1048576.0, mem[2] / 1048576.0, mem[3] / 1048576.0, mem[4]);
      if (cf)
        fprintf(cf, "model,%s,%d,%zu,%zu,%.3f,%.3f,%.3f,%.3f\n", name, threads[t], P, D, gp,
                have_lc ? lp : 0.0, gd, have_lc ? ld : 0.0);
    }
  printf("llama.cpp: %s\n", ver[0] ? ver : "not found (pip install llama-cpp-python)");
  if (cf)
    fclose(cf);
  free(tok);
  return rc;
}
