/* peers_ggml.c -- gllmk-bench: ggml side by side (llama-cpp-python's libggml, dlopen, never linked)
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

/* ================================================================ ggml (dlopen, never linked)
 *
 * ggml as llama-cpp-python builds and bundles it (libggml-base.so with the
 * type traits and to_float, libggml-cpu.so with vec_dot and the activation
 * quantizers).  The two structs in bench.h are ggml's, field for field, as in
 * ggml.h / ggml-cpu.h of ggml 0.25.3 (llama-cpp-python 0.3.36); gg_load
 * checks them against gllmk's block sizes and names before using them. */

struct bench_gg gg;

static int gg_open(const char *dir)
{
  char pb[600], pc[600];
  snprintf(pb, sizeof pb, "%s%slibggml-base.so", dir ? dir : "", dir ? "/" : "");
  snprintf(pc, sizeof pc, "%s%slibggml-cpu.so", dir ? dir : "", dir ? "/" : "");
  void *hb = dlopen(pb, RTLD_NOW | RTLD_LOCAL);
  if (!hb) return 0;
  void *hc = dlopen(pc, RTLD_NOW | RTLD_LOCAL);
  if (!hc) {
    dlclose(hb);
    return 0;
  }
  gg.hb = hb;
  gg.hc = hc;
  snprintf(gg.dir, sizeof gg.dir, "%s", dir ? dir : "(dynamic linker search path)");
  return 1;
}

static void chomp(char *s)
{
  size_t l = strlen(s);
  while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ')) s[--l] = 0;
}

/* where pip put llama-cpp-python (its libraries are in llama_cpp/lib), and its version */
static int gg_python(char *ver, size_t vlen)
{
  const char *py = getenv("PYTHON");
  char cmd[1024], dir[512] = "";
  snprintf(cmd, sizeof cmd,
           "%s -c \"import importlib.util as u, importlib.metadata as m, os; "
           "s = u.find_spec('llama_cpp'); print(os.path.dirname(s.origin)); "
           "print(m.version('llama-cpp-python'))\" 2>/dev/null",
           py && *py ? py : "python3");
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (!p) return 0;
  if (!fgets(dir, sizeof dir, p)) dir[0] = 0;
  if (!fgets(ver, (int)vlen, p)) ver[0] = 0;
  pclose(p);
  chomp(dir);
  chomp(ver);
  if (!dir[0]) return 0;
  char sub[600];
  snprintf(sub, sizeof sub, "%s/lib", dir);
  return gg_open(sub) || gg_open(dir);
}

int gg_load(void)
{
  if (gg.tried) return gg.ok;
  gg.tried = 1;
  if (opt.no_ggml) {
    snprintf(gg.desc, sizeof gg.desc, "disabled (--no-ggml)");
    return 0;
  }
  char ver[128] = "";
  const char *env = getenv("GLLMK_GGML_DIR");
  int found = 0;
  if (opt.ggml_dir) {
    found = gg_open(opt.ggml_dir);
  } else {
    if (env && *env) found = gg_open(env);
    if (!found) found = gg_open(NULL);
    if (!found) found = gg_python(ver, sizeof ver);
  }
  if (!found) {
    snprintf(gg.desc, sizeof gg.desc, "not found (pip install llama-cpp-python)");
    return 0;
  }
  void (*cpu_init)(void);
  const char *(*version)(void), *(*commit)(void);
  *(void **)&gg.traits = dlsym(gg.hb, "ggml_get_type_traits");
  *(void **)&gg.traits_cpu = dlsym(gg.hc, "ggml_get_type_traits_cpu");
  *(void **)&gg.type_name = dlsym(gg.hb, "ggml_type_name");
  *(void **)&cpu_init = dlsym(gg.hc, "ggml_cpu_init");
  *(void **)&version = dlsym(gg.hb, "ggml_version");
  *(void **)&commit = dlsym(gg.hb, "ggml_commit");
  if (!gg.traits || !gg.traits_cpu) {
    snprintf(gg.desc, sizeof gg.desc, "%s lacks ggml_get_type_traits / ggml_get_type_traits_cpu, comparison skipped",
             gg.dir);
    return 0;
  }
  if (cpu_init) cpu_init();
  *(void **)&gg.init = dlsym(gg.hb, "ggml_init");
  *(void **)&gg.free = dlsym(gg.hb, "ggml_free");
  *(void **)&gg.new_tensor_2d = dlsym(gg.hb, "ggml_new_tensor_2d");
  *(void **)&gg.mul_mat = dlsym(gg.hb, "ggml_mul_mat");
  *(void **)&gg.new_graph = dlsym(gg.hb, "ggml_new_graph");
  *(void **)&gg.build_forward_expand = dlsym(gg.hb, "ggml_build_forward_expand");
  *(void **)&gg.get_data = dlsym(gg.hb, "ggml_get_data");
  *(void **)&gg.tensor_overhead = dlsym(gg.hb, "ggml_tensor_overhead");
  *(void **)&gg.graph_overhead = dlsym(gg.hb, "ggml_graph_overhead");
  *(void **)&gg.compute_with_ctx = dlsym(gg.hc, "ggml_graph_compute_with_ctx");
  gg.mm_ok = gg.init && gg.free && gg.new_tensor_2d && gg.mul_mat && gg.new_graph && gg.build_forward_expand &&
             gg.get_data && gg.tensor_overhead && gg.graph_overhead && gg.compute_with_ctx;
  /* the struct layouts: q4_0 is 32 values in 18 bytes, named "q4_0", dotted with q8_0 */
  const struct gg_traits *t = gg.traits(GG_Q4_0);
  const struct gg_traits_cpu *tc = gg.traits_cpu(GG_Q4_0);
  if (!t || t->blck_size != 32 || t->type_size != 18 || !t->type_name || strcmp(t->type_name, "q4_0") ||
      !t->to_float || !tc || !tc->vec_dot || tc->vec_dot_type != GG_Q8_0) {
    snprintf(gg.desc, sizeof gg.desc,
             "%s: struct ggml_type_traits[_cpu] differ from the layout this bench declares (ggml 0.25), "
             "comparison skipped", gg.dir);
    return 0;
  }
  snprintf(gg.desc, sizeof gg.desc, "ggml %s (commit %s)%s%s, %s/libggml-{base,cpu}.so%s",
           version ? version() : "?", commit ? commit() : "?", ver[0] ? ", llama-cpp-python " : "", ver, gg.dir,
           cpu_init ? "" : " (no ggml_cpu_init)");
  gg.ok = 1;
  return 1;
}

int gg_has(int t, const char *name)
{
  const char *nm = gg.type_name ? gg.type_name(t) : name;
  return nm && !strcmp(nm, name);
}

/* ---------------------------------------------------------------- ggml_mul_mat
 *
 * One context holds W, X and the graph Y = mul_mat(W, X); every run computes
 * it in a second context laid over a buffer allocated once (ggml takes the
 * work buffer, the activations converted to the vec_dot type, from that
 * context), so nothing is allocated while timing. */

#define GG_F32 0

int gg_mm_init(gg_mm *mm, int t, const void *w, size_t rb, size_t n, size_t k, const float *x, size_t m)
{
  memset(mm, 0, sizeof *mm);
  if (!gg.ok || !gg.mm_ok) return 0;
  size_t bytes = n * rb + m * k * sizeof(float) + m * n * sizeof(float) + 3 * gg.tensor_overhead() +
                 gg.graph_overhead() + (1 << 20);
  mm->ctx = gg.init((struct gg_init_params){bytes, NULL, false});
  if (!mm->ctx) return 0;
  void *tw = gg.new_tensor_2d(mm->ctx, t, (int64_t)k, (int64_t)n);
  void *tx = gg.new_tensor_2d(mm->ctx, GG_F32, (int64_t)k, (int64_t)m);
  if (!tw || !tx) {
    gg_mm_free(mm);
    return 0;
  }
  memcpy(gg.get_data(tw), w, n * rb);
  memcpy(gg.get_data(tx), x, m * k * sizeof(float));
  mm->y = gg.mul_mat(mm->ctx, tw, tx);
  mm->graph = mm->y ? gg.new_graph(mm->ctx) : NULL;
  if (!mm->graph) {
    gg_mm_free(mm);
    return 0;
  }
  gg.build_forward_expand(mm->graph, mm->y);
  /* the work buffer: X in the vec_dot type (at most 4 bytes a value), a
   * cache line per thread, the context's own objects */
  mm->work_bytes = m * k * sizeof(float) + (MAX_LIST + 64) * 64 * 64 + (1 << 20);
  mm->work = xalloc(mm->work_bytes);
  mm->n = n;
  mm->m = m;
  return 1;
}

int gg_mm_run(gg_mm *mm, int T)
{
  void *wctx = gg.init((struct gg_init_params){mm->work_bytes, mm->work, false});
  if (!wctx) return -1;
  int st = gg.compute_with_ctx(wctx, mm->graph, T);
  gg.free(wctx);
  return st;
}

const float *gg_mm_y(const gg_mm *mm) { return mm->y ? (const float *)gg.get_data(mm->y) : NULL; }

void gg_mm_free(gg_mm *mm)
{
  if (mm->ctx) gg.free(mm->ctx);
  free(mm->work);
  memset(mm, 0, sizeof *mm);
}
