/* main.c -- gllmk-bench: the options, the driver and the summary
 * SPDX-License-Identifier: MIT
 *
 * For every operator and shape: run it once with the scalar ISA and once with
 * the measured ISA and compare (OK / MISMATCH); then time it (median of
 * samples) and report GFLOP/s or GB/s, the fraction of this machine's
 * roofline (its own f32 FMA peak for compute-bound work, its own DRAM read
 * bandwidth for memory-bound work, both measured here per thread count unless
 * given), the speedup over the scalar ISA, OpenBLAS side by side when
 * libopenblas.so.0 can be dlopen()ed, and for the fused operators the same
 * computation composed from single gllmk calls.
 *
 * Uses only the public API.  Builds with or without OpenMP.
 * Exit status: 0 all checks OK, 1 a MISMATCH or an operator error, 2 usage.
 */
#include "bench.h"
#include "quant.h"

/* ================================================================ options */

struct bench_opt opt;
const char *const dt_names[3] = {"f32", "f16", "bf16"};

const char *prog = "gllmk-bench";

void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

/* ================================================================ main */

static void usage(FILE *f)
{
  fprintf(f,
          "Usage: %s [OPTION]...\n"
          "Check and time every gllmk operator at LLM sizes (hidden 4096, ffn 11008, 32/8 heads,\n"
          "head_dim 128, kv 2048): GFLOP/s or GB/s, %% of this machine's roofline, speedup over\n"
          "the scalar ISA, OpenBLAS side by side (dlopen'ed if installed), fused vs composed;\n"
          "and the quantized kernels per format (dequantize, decode GEMV with weights from DRAM,\n"
          "prefill GEMM) side by side with ggml (llama-cpp-python's libggml, dlopen'ed).\n"
          "\n"
          "  --isa=NAME[,NAME]   ISA(s) to measure: a token of gllmk_cpu_isa_compiled(), or\n"
          "                      'all' (every runnable one); default: $GLLMK_CPU_ISA or the best\n"
          "  --threads=N[,N]     thread counts to run (default 1)\n"
          "  --op=SUBSTR[,...]   only operators whose name contains SUBSTR, or a group name\n"
          "                      (blas1 gemv gemm activation norm rope embedding attention fused\n"
          "                      packed quant); the quantized kernels are quant_dequant, quant_decode and\n"
          "                      quant_prefill (--op=quant: all three); --op=model: whole-model\n"
          "                      prefill and decode against llama.cpp (run by default too); repeatable\n"
          "  --models=DIR        the model section's GGUF files (default $GLLMK_BENCH_MODELS, else\n"
          "                      ./bench-models; made there by tools/gen-bench-model.py when missing)\n"
          "  --qtype=NAME[,...]  quantized formats to run (q4_K, iq2_xxs, awq4, int8, ...; default all)\n"
          "  --dtype=T[,T]       only these element types (f32, f16, bf16)\n"
          "  --quick             small sizes and a short time budget (smoke test)\n"
          "  --samples=N         samples per measurement (default 5, --quick 3; quantized: 3)\n"
          "  --min-time=S        seconds per sample (default 0.1, --quick 0.01; quantized: 0.05)\n"
          "  --peak-gflops=X[,X] f32 FMA peak per thread count instead of measuring it\n"
          "                      (one value: scaled linearly to the other thread counts)\n"
          "  --bw-gbs=Y[,Y]      DRAM read bandwidth per thread count instead of measuring it\n"
          "  --csv=FILE          write one CSV row per op/shape/dtype/isa/threads\n"
          "  --json=FILE         the same as JSON, with the roofline\n"
          "  --no-openblas       do not load OpenBLAS\n"
          "  --no-compose        skip the fused-vs-composition timings\n"
          "  --no-ggml           do not load ggml\n"
          "  --ggml=DIR          load DIR/libggml-base.so and DIR/libggml-cpu.so (default: $GLLMK_GGML_DIR,\n"
          "                      the library search path, then llama-cpp-python's llama_cpp/lib)\n"
          "  --backend=NAME      cpu (default): the CPU section; cuda or cuda:N: the CUDA section\n"
          "                      alone (memory-bound ops vs the DRAM peak, GEMM in TFLOP/s, checked\n"
          "                      against the CPU backend, cuBLAS side by side); auto: the CPU\n"
          "                      section, then\n"
          "                      the CUDA one when a device opens (its --csv/--json: FILE-cuda.EXT)\n"
          "  --cublas=PATH       the libcublas to dlopen (default libcublas.so.13, then .12)\n"
          "  --no-cublas         do not load cuBLAS\n"
          "  --list              list the benchmark cases and exit\n"
          "  -q, --quiet         no progress lines on stderr\n"
          "  -h, --help          this help;  -V, --version  the version\n"
          "\n"
          "Exit status: 0 when every check is OK, 1 on a MISMATCH or an operator error, 2 on\n"
          "usage errors.\n",
          prog);
}

/* copies of option strings, which the parsed lists point into; freed at exit */
static char *owned[32];
static int n_owned;
static char *own_copy(const char *s)
{
  if (n_owned == (int)(sizeof owned / sizeof *owned)) die("too many options");
  char *p = strdup(s);
  if (!p) die("out of memory");
  return owned[n_owned++] = p;
}

static int split_list(char *s, const char **out, int max, const char *what)
{
  int n = 0;
  for (char *save = NULL, *t = strtok_r(s, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
    if (!*t) continue;
    if (n >= max) die("too many %s", what);
    out[n++] = t;
  }
  return n;
}

static double parse_pos(const char *s, const char *what)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0)) die("bad %s '%s'", what, s);
  return v;
}

static const char *argval(const char *arg, const char *name)
{
  size_t l = strlen(name);
  if (!strncmp(arg, name, l) && arg[l] == '=') return arg + l + 1;
  return NULL;
}

int main(int argc, char **argv)
{
  const char *isa_arg = NULL, *thr_arg = NULL;
  opt.samples = -1;
  opt.min_time = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
      printf("gllmk-bench (gllmk) %s\n", gllmk_version());
      return 0;
    } else if (!strcmp(a, "--quick")) {
      opt.quick = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      opt.quiet = 1;
    } else if (!strcmp(a, "--list")) {
      opt.list = 1;
    } else if (!strcmp(a, "--no-openblas")) {
      opt.no_openblas = 1;
    } else if (!strcmp(a, "--no-compose")) {
      opt.no_compose = 1;
    } else if (!strcmp(a, "--no-ggml")) {
      opt.no_ggml = 1;
    } else if ((v = argval(a, "--ggml"))) {
      opt.ggml_dir = v;
    } else if ((v = argval(a, "--qtype"))) {
      opt.n_qtypes += split_list(own_copy(v), opt.qtypes + opt.n_qtypes, 64 - opt.n_qtypes, "--qtype names");
    } else if ((v = argval(a, "--isa"))) {
      isa_arg = v;
    } else if ((v = argval(a, "--threads"))) {
      thr_arg = v;
      opt.threads_given = 1;
    } else if ((v = argval(a, "--op"))) {
      opt.n_ops += split_list(own_copy(v), opt.ops + opt.n_ops, 64 - opt.n_ops, "--op filters");
    } else if ((v = argval(a, "--dtype"))) {
      const char *d[8];
      int n = split_list(own_copy(v), d, 8, "dtypes");
      for (int j = 0; j < n; j++) {
        int k;
        for (k = 0; k < 3 && strcmp(d[j], dt_names[k]); k++) {}
        if (k == 3) die("unknown dtype '%s' (f32, f16, bf16)", d[j]);
        opt.dtype_mask |= 1 << k;
      }
    } else if ((v = argval(a, "--samples"))) {
      opt.samples = (int)parse_pos(v, "--samples");
    } else if ((v = argval(a, "--min-time"))) {
      opt.min_time = parse_pos(v, "--min-time");
    } else if ((v = argval(a, "--peak-gflops")) || (v = argval(a, "--bw-gbs"))) {
      const char *d[MAX_LIST];
      int n = split_list(own_copy(v), d, MAX_LIST, "values");
      int peak = a[2] == 'p';
      for (int j = 0; j < n; j++) (peak ? opt.peak : opt.bw)[j] = parse_pos(d[j], peak ? "--peak-gflops" : "--bw-gbs");
      *(peak ? &opt.n_peak : &opt.n_bw) = n;
    } else if ((v = argval(a, "--csv"))) {
      opt.csv = v;
    } else if ((v = argval(a, "--json"))) {
      opt.json = v;
    } else if ((v = argval(a, "--backend"))) {
      if (strcmp(v, "cpu") && strcmp(v, "auto") && strncmp(v, "cuda", 4))
        die("unknown backend '%s' (cpu, cuda, cuda:N or auto)", v);
      opt.backend = v;
    } else if ((v = argval(a, "--models"))) {
      opt.models = v;
    } else if ((v = argval(a, "--cublas"))) {
      opt.cublas = v;
    } else if (!strcmp(a, "--no-cublas")) {
      opt.cublas = "";
    } else {
      fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
      usage(stderr);
      return 2;
    }
  }
  int cuda_auto = opt.backend && !strcmp(opt.backend, "auto");
  int given_samples = opt.samples;
  double given_min_time = opt.min_time;
#define BENCH_CUDA(name, is_auto, list)                                                                     \
  bench_cuda(name, is_auto, opt.quick, opt.quiet, list, opt.ops, opt.n_ops, opt.dtype_mask, given_samples, \
             given_min_time, opt.cublas, opt.csv, opt.json)
  if (opt.backend && !strncmp(opt.backend, "cuda", 4)) {
    int rc = BENCH_CUDA(opt.backend, 0, opt.list);
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    return rc;
  }
  /* the quantized kernels: many formats, shorter budgets unless told */
  opt.qsamples = opt.samples > 0 ? opt.samples : 3;
  opt.qmin_time = opt.min_time > 0 ? opt.min_time : opt.quick ? 0.01 : 0.05;
  if (opt.samples < 0) opt.samples = opt.quick ? 3 : 5;
  if (opt.min_time < 0) opt.min_time = opt.quick ? 0.01 : 0.1;
  set_sizes();

  /* threads */
  if (thr_arg) {
    const char *d[MAX_LIST];
    opt.n_threads = split_list(own_copy(thr_arg), d, MAX_LIST, "thread counts");
    for (int j = 0; j < opt.n_threads; j++) {
      double t = parse_pos(d[j], "--threads");
      if (t != floor(t) || t > 64) die("bad thread count '%s'", d[j]);
      opt.threads[j] = (int)t;
    }
  }
  if (opt.n_threads == 0) opt.threads[opt.n_threads++] = 1;

  /* ISAs */
  static char compiled[256];
  snprintf(compiled, sizeof compiled, "%s", gllmk_cpu_isa_compiled());
  if (!isa_arg) {
    const char *env = getenv("GLLMK_CPU_ISA");
    if (env && *env) {
      isa_arg = env;
    } else {
      gllmk_cpu_set_isa("auto");
      isa_arg = gllmk_cpu_isa_name();
    }
  }
  if (!strcmp(isa_arg, "all")) {
    const char *d[MAX_LIST];
    int n = split_list(own_copy(compiled), d, MAX_LIST, "ISAs");
    for (int j = 0; j < n; j++)
      if (strcmp(d[j], "scalar") && isa_runnable(d[j])) opt.isas[opt.n_isas++] = d[j];
    if (opt.n_isas == 0) opt.isas[opt.n_isas++] = "scalar";
  } else {
    opt.n_isas = split_list(own_copy(isa_arg), opt.isas, MAX_LIST, "ISAs");
  }
  for (int j = 0; j < opt.n_isas; j++) {
    gllmk_status st = gllmk_cpu_isa_check(opt.isas[j]);
    if (st != GLLMK_OK)
      die("ISA '%s' cannot run here: %s (compiled: %s)", opt.isas[j], gllmk_strerror(st), compiled);
  }

  int total = 0;
  for (int i = 0; i < n_specs; i++) {
    if (!spec_selected(&specs[i])) continue;
    total++;
    int l = (int)strlen(specs[i].op);
    if (l > op_w) op_w = l;
  }
  for (int j = 0; j < opt.n_qtypes; j++) {
    int known = 0;
    for (int i = 0; i < NQF; i++) known |= !strcasecmp(opt.qtypes[j], qf_name(&qfmts[i]));
    if (!known) die("unknown --qtype '%s' (see --list --op=quant)", opt.qtypes[j]);
  }
  int qparts = quant_parts();
  int model_sel = opt.n_ops == 0;
  for (int j = 0; j < opt.n_ops; j++) model_sel |= !strcmp(opt.ops[j], "model");
  if (!opt.models) opt.models = getenv("GLLMK_BENCH_MODELS");
  if (!opt.models || !*opt.models) opt.models = "bench-models";
  if (opt.list && model_sel) printf("%-10s %-36s %-4s %s\n", "model", "llama-3.2-1b q4_k_m, f16", "-",
                                    "prefill 512 + decode 32, vs llama.cpp");
  if (model_sel && total == 0 && !qparts && !opt.list) {
    int rc = bench_model(opt.models, opt.quick, opt.quiet, opt.threads, opt.n_threads, opt.csv);
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    return rc;
  }
  if (opt.list) {
    for (int i = 0; i < n_specs; i++)
      if (spec_selected(&specs[i]))
        printf("%-10s %-36s %-4s %s\n", specs[i].group, specs[i].op, dt_names[specs[i].dt],
               spec_label(&specs[i]));
    quant_list(qparts);
    if (cuda_auto) BENCH_CUDA("auto", 1, 1);
    return 0;
  }
  if (total == 0 && !qparts) die("no operator matches the --op/--dtype filters (see --list)");

  printf("gllmk-bench %s: ISA %s", gllmk_version(), opt.isas[0]);
  for (int j = 1; j < opt.n_isas; j++) printf(",%s", opt.isas[j]);
  printf(" (compiled: %s), OpenMP: %s, threads:", compiled, gllmk_has_openmp() ? "yes" : "no");
  for (int j = 0; j < opt.n_threads; j++) printf(" %d", opt.threads[j]);
  printf("\nCPU features: %s\n", gllmk_cpu_features());
  int need_ob = 0;
  for (int i = 0; i < n_specs; i++)
    if (spec_selected(&specs[i]) && specs[i].dt == DT_F32 &&
        (!strcmp(specs[i].op, "vec_dot") || !strcmp(specs[i].op, "gemv") || !strcmp(specs[i].op, "gemm")))
      need_ob = 1;
  if (need_ob) {
    openblas_load();
    printf("OpenBLAS: %s\n", ob.desc);
  }
  if (total)
    printf("%s: %d cases x %d thread count(s); each time is the median of %d samples of >= %.3g s%s\n",
           opt.quick ? "quick mode" : "full mode", total, opt.n_threads, opt.samples, opt.min_time,
           opt.quick ? " (sizes reduced: not LLM sizes)" : "");
  if (qparts)
    printf("%s: the quantized kernels; each time is the median of %d samples of >= %.3g s%s\n",
           opt.quick ? "quick mode" : "full mode", opt.qsamples, opt.qmin_time,
           opt.quick ? " (sizes reduced: not LLM sizes)" : "");
  if (!gllmk_has_openmp() && (opt.n_threads > 1 || opt.threads[0] > 1))
    printf("note: gllmk was built without OpenMP, its kernels use one thread whatever --threads says\n");

#if BENCH_X86
  read_class = isa_runnable("avx512") ? 2 : isa_runnable("avx2") ? 1 : 0;
#endif
  int idx = 0;
  for (int ti = 0; ti < opt.n_threads && total > 0; ti++) {
    int T = opt.threads[ti];
    if (gllmk_set_num_threads(T) != GLLMK_OK) die("gllmk_set_num_threads(%d) failed", T);
    fflush(stdout);
    if (!opt.quiet) fprintf(stderr, "measuring the roofline on %d thread(s)...\n", T);
    measure_roofline(T, &roofs[ti]);
    if (n_roofs <= ti) n_roofs = ti + 1;
    print_roofline(&roofs[ti]);
    const char *last_group = NULL;
    for (int i = 0; i < n_specs; i++) {
      const spec *s = &specs[i];
      if (!spec_selected(s)) continue;
      if (!last_group || strcmp(last_group, s->group)) {
        print_header(s->group, T);
        last_group = s->group;
      }
      run_case(s, ti, ++idx, total * opt.n_threads);
    }
  }
  if (qparts) run_quant(qparts);
  if (bw_buf) free(bw_buf);

  /* summary */
  int met = 0, missed = 0;
  for (int i = 0; i < n_results; i++)
    if (results[i].target[0]) {
      if (strstr(results[i].target, "MISSED"))
        missed++;
      else
        met++;
    }
  n_fail = n_mismatch + n_error;
  printf("\n%d results: %d checks failed (%d mismatches, %d errors)", n_results, n_fail, n_mismatch, n_error);
  if (met + missed) printf("; targets met %d of %d", met, met + missed);
  printf("\n");
  if (missed) {
    printf("targets missed:\n");
    for (int i = 0; i < n_results; i++)
      if (strstr(results[i].target, "MISSED"))
        printf("  %s%s%s %s %s %s threads %d: %s\n", results[i].qtype, results[i].qtype[0] ? " " : "", results[i].op,
               results[i].shape, results[i].dtype, results[i].isa, results[i].threads, results[i].target);
  }
  if (opt.csv) write_csv(opt.csv);
  if (opt.json) write_json(opt.json);
  if (model_sel && bench_model(opt.models, opt.quick, opt.quiet, opt.threads, opt.n_threads, opt.csv) &&
      !n_fail)
    n_fail = 1;
  if (cuda_auto && BENCH_CUDA("auto", 1, 0) && !n_fail) n_fail = 1;
  free(results);
  for (int i = 0; i < n_owned; i++) free(owned[i]);
  if (ob.h) dlclose(ob.h);
  /* ggml's libraries stay loaded: ggml-cpu's OpenMP and static destructors may still run */
  return n_fail ? 1 : 0;
}
