/* run.c -- gllmk-bench: check, time and print one float case (the results table)
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

/* ================================================================ measuring */

static double tolerance(dtype t) { return t == DT_F32 ? 1e-3 : t == DT_F16 ? 1e-2 : 5e-2; }

/* max over elements of |got - ref| / (|ref| + mean|ref| + abs_scale); INFINITY on NaN/Inf disagreement */
static double compare(const void *got, const void *ref, size_t n, dtype t, double abs_scale)
{
  double mean = 0;
  size_t fin = 0;
  for (size_t i = 0; i < n; i++) {
    float r = get_el(ref, t, i);
    if (isfinite(r)) {
      mean += fabs(r);
      fin++;
    }
  }
  mean = fin ? mean / (double)fin : 0;
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    float a = get_el(got, t, i), r = get_el(ref, t, i);
    if (isnan(a) || isnan(r)) {
      if (!(isnan(a) && isnan(r))) return INFINITY;
      continue;
    }
    if (isinf(a) || isinf(r)) {
      if (a != r) return INFINITY;
      continue;
    }
    double e = fabs((double)a - (double)r) / (fabs((double)r) + mean + abs_scale + 1e-30);
    if (e > worst) worst = e;
  }
  return worst;
}

/* run fn on fresh inputs and compare all checked outputs with refs; returns max error, or -1 on status error */
static double check_run(bcase *c, run_fn fn, void **refs, gllmk_status *st)
{
  c_reset(c);
  *st = fn(c);
  if (*st != GLLMK_OK) return -1;
  double worst = 0;
  for (int i = 0; i < c->nchk; i++) {
    double e = compare(c->chk[i].p, refs[i], c->chk[i].n, c->chk[i].t, c->abs_scale);
    if (e > worst) worst = e;
  }
  return worst;
}

/* median per-call seconds of `samples` samples of >= min_time each */
static double time_fn(bcase *c, run_fn fn, double min_time, int samples, double first, gllmk_status *st)
{
  *st = GLLMK_OK;
  double t1 = first;
  if (!(t1 > 0)) {
    double a = now();
    *st = fn(c);
    t1 = now() - a;
    if (*st != GLLMK_OK) return NAN;
  }
  long reps = 1;
  if (t1 < min_time) {
    /* calibrate with batches: the first call may be slower than the rest */
    double bt = t1;
    while (bt < min_time / 8 && reps < (1L << 40)) {
      reps *= 2;
      double a = now();
      for (long r = 0; r < reps; r++) fn(c);
      bt = now() - a;
    }
    reps = (long)ceil((double)reps * min_time / bt);
    if (reps < 1) reps = 1;
  }
  double v[64];
  if (samples > 64) samples = 64;
  if (samples < 1) samples = 1;
  for (int i = 0; i < samples; i++) {
    int bad = 0;
    double a = now();
    for (long r = 0; r < reps; r++) bad |= fn(c) != GLLMK_OK;
    v[i] = (now() - a) / (double)reps;
    if (bad) *st = fn(c);
  }
  return median(v, samples);
}

/* ================================================================ results */

result *results;
int n_results, cap_results, n_fail, n_mismatch, n_error;

result *new_result(void)
{
  if (n_results == cap_results) {
    cap_results = cap_results ? 2 * cap_results : 64;
    results = realloc(results, (size_t)cap_results * sizeof *results);
    if (!results) die("out of memory");
  }
  result *r = &results[n_results++];
  memset(r, 0, sizeof *r);
  r->t = r->gflops = r->gbs = r->pct = r->t_scalar = r->speedup = r->max_err = NAN;
  r->t_ob = r->ob_gflops = r->ob_gbs = r->vs_ob = NAN;
  r->t_comp = r->comp_gflops = r->comp_gbs = r->fused_speedup = NAN;
  r->t_unp = r->unp_gflops = r->packed_speedup = NAN;
  r->gvals = r->t_ggml = r->ggml_gbs = r->ggml_gvals = r->vs_ggml = NAN;
  return r;
}

int op_w = 16, shape_w = 36;

void fmt_num(char *buf, size_t n, double v, const char *f)
{
  if (isfinite(v) && v > 0)
    snprintf(buf, n, f, v);
  else
    snprintf(buf, n, "-");
}

void print_header(const char *group, int T)
{
  printf("\n## %s  (threads %d, isa", group, T);
  for (int j = 0; j < opt.n_isas; j++) printf("%s%s", j ? "," : " ", opt.isas[j]);
  printf(")\n");
  printf("%-*s  %-*s %-4s %-7s %-9s %10s %9s %9s %12s %10s %8s\n", op_w, "op", shape_w, "shape", "type", "isa",
         "check", "time", "GFLOP/s", "GB/s", "% roofline", "scalar", "speedup");
  fflush(stdout);
}

static void print_result(const result *r)
{
  char t[24], g[24], b[24], p[32], ts[24], sp[24];
  format_time(t, sizeof t, r->t);
  fmt_num(g, sizeof g, r->gflops, "%.2f");
  fmt_num(b, sizeof b, r->gbs, "%.2f");
  if (isfinite(r->pct))
    snprintf(p, sizeof p, "%.1f%% %s", r->pct, r->roof_kind);
  else
    snprintf(p, sizeof p, "-");
  format_time(ts, sizeof ts, r->t_scalar);
  fmt_num(sp, sizeof sp, r->speedup, "%.1fx");
  printf("%-*s  %-*s %-4s %-7s %-9s %10s %9s %9s %12s %10s %8s\n", op_w, r->op, shape_w, r->shape, r->dtype,
         r->isa, r->check, t, g, b, p, ts, sp);
  /* sub-rows: the name spans the op, shape, type and isa columns */
  int span = op_w + 2 + shape_w + 1 + 4 + 1 + 7;
  char name[160];
  if (r->comp_name) {
    format_time(t, sizeof t, r->t_comp);
    fmt_num(g, sizeof g, r->comp_gflops, "%.2f");
    fmt_num(b, sizeof b, r->comp_gbs, "%.2f");
    fmt_num(sp, sizeof sp, r->fused_speedup, "%.2fx");
    snprintf(name, sizeof name, "  composition: %s", r->comp_name);
    printf("%-*s %-9s %10s %9s %9s   fused speedup %s\n", span, name, r->comp_check, t, g, b, sp);
  }
  if (r->unp_name) {
    format_time(t, sizeof t, r->t_unp);
    fmt_num(g, sizeof g, r->unp_gflops, "%.2f");
    fmt_num(sp, sizeof sp, r->packed_speedup, "%.2fx");
    snprintf(name, sizeof name, "  unpacked: %.*s", (int)(strlen(r->unp_name) - strlen("_packed")),
             r->unp_name);
    printf("%-*s %-9s %10s %9s %9s   packed speedup %s\n", span, name, "", t, g, "", sp);
  }
  if (r->ob_name) {
    format_time(t, sizeof t, r->t_ob);
    fmt_num(g, sizeof g, r->ob_gflops, "%.2f");
    fmt_num(b, sizeof b, r->ob_gbs, "%.2f");
    fmt_num(sp, sizeof sp, r->vs_ob, "%.2fx");
    snprintf(name, sizeof name, "  OpenBLAS %s", r->ob_name);
    printf("%-*s %-9s %10s %9s %9s   gllmk/OpenBLAS %s\n", span, name, r->ob_check, t, g, b, sp);
  }
  if (r->target[0]) printf("%-*s  target: %s\n", op_w, "", r->target);
  fflush(stdout);
}

/* the targets and DESIGN's fused rule (a fused op is not slower than
 * its composition; 10% allowed for noise), informational */
static void set_target(result *r, const bcase *c)
{
  const char *op = c->sp->op;
  if (!strcmp(op, "gemm_packed")) {
    if (isfinite(r->vs_ob) && c->m >= 128)
      snprintf(r->target, sizeof r->target, ">= 1.1x OpenBLAS: %s", r->vs_ob >= 1.1 ? "met" : "MISSED");
    return;
  }
  if (!strncmp(op, "fused_", 6)) {
    if (isfinite(r->fused_speedup))
      snprintf(r->target, sizeof r->target, "not slower than the composition: %s",
               r->fused_speedup >= 0.9 ? "met" : "MISSED");
    return;
  }
  if (r->threads != 1 || !strcmp(r->isa, "scalar") || !isfinite(r->t)) return;
  if (!strcmp(op, "vec_dot") && c->dt == DT_F32 && c->sp->var < 2) {
    double want = isa_class(r->isa) == 2 ? 10 : 6;
    snprintf(r->target, sizeof r->target, "speedup >= %.0fx vs scalar: %s", want,
             r->speedup >= want ? "met" : "MISSED");
  } else if (c->roof == ROOF_MEM && c->dt == DT_F32 && Z.big >= 64 * MiB &&
             (!strcmp(c->sp->group, "blas1") || !strcmp(c->sp->group, "activation") ||
              !strcmp(c->sp->group, "norm"))) {
    snprintf(r->target, sizeof r->target, ">= 70%% of DRAM bandwidth: %s", r->pct >= 70 ? "met" : "MISSED");
  } else if (!strcmp(op, "gemm") && c->dt == DT_F32 && c->m == 512 && c->n == 4096 && c->k == 4096) {
    snprintf(r->target, sizeof r->target, ">= 50%% of FMA peak: %s", r->pct >= 50 ? "met" : "MISSED");
  }
}

static void fill_rates(const bcase *c, double t, double *gflops, double *gbs)
{
  *gflops = c->flops > 0 && t > 0 ? c->flops / t * 1e-9 : NAN;
  *gbs = c->bytes > 0 && t > 0 ? c->bytes / t * 1e-9 : NAN;
}

/* ================================================================ one case */

void run_case(const spec *s, int ti, int idx, int total)
{
  int T = opt.threads[ti];
  const roofline *rf = &roofs[ti];
  double mt = opt.min_time;
  int ns = opt.samples;
  bcase c;
  memset(&c, 0, sizeof c);
  c.sp = s;
  c.dt = s->dt;
  c.seed = (uint64_t)(s - specs) * 1000 + 1;
  int tty = isatty(2);
  if (!opt.quiet && tty) {
    fprintf(stderr, "\r\033[K[%d/%d] %s %s (threads %d): preparing data...", idx, total, s->op, dt_names[s->dt], T);
    fflush(stderr);
  }
  s->build(&c, s);
  if (!opt.quiet) {
    fprintf(stderr, "%s[%d/%d] %s %s %s (threads %d) ...%s", tty ? "\r\033[K" : "", idx, total, s->op, c.shape,
            dt_names[s->dt], T, tty ? "" : "\n");
    fflush(stderr);
  }
  if (c.compose && opt.no_compose) c.compose = NULL;
  if (c.openblas && !openblas_load()) c.openblas = NULL;

  /* 1. reference: the scalar ISA */
  void *refs[MAXCHK] = {0};
  gllmk_status st;
  double t_scalar_first = NAN, t_scalar = NAN;
  int ref_ok = 0;
  if (gllmk_cpu_set_isa("scalar") == GLLMK_OK) {
    c_reset(&c);
    double a = now();
    st = c.run(&c);
    t_scalar_first = now() - a;
    if (st == GLLMK_OK) {
      ref_ok = 1;
      for (int i = 0; i < c.nchk; i++) {
        size_t b = c.chk[i].n * dt_size(c.chk[i].t);
        refs[i] = xalloc(b);
        memcpy(refs[i], c.chk[i].p, b);
      }
      /* scalar timing with a smaller budget; one call is enough for the slow ones */
      double single = opt.quick ? 0.05 : 0.25;
      if (t_scalar_first >= single)
        t_scalar = t_scalar_first;
      else
        t_scalar = time_fn(&c, c.run, mt / 2, ns > 3 ? 3 : ns, 0, &st);
    } else {
      fprintf(stderr, "%s: %s %s %s: scalar ISA returned %s\n", prog, s->op, c.shape, dt_names[c.dt],
              gllmk_strerror(st));
    }
  }

  int first = n_results;
  for (int ii = 0; ii < opt.n_isas; ii++) {
    const char *isa = opt.isas[ii];
    result *r = new_result();
    r->group = s->group;
    r->op = s->op;
    r->dtype = dt_names[c.dt];
    snprintf(r->shape, sizeof r->shape, "%s", c.shape);
    snprintf(r->isa, sizeof r->isa, "%s", isa);
    r->threads = T;
    r->roof_kind = c.roof == ROOF_FMA ? "fma" : "dram";
    r->roof = c.roof == ROOF_FMA ? rf->peak[isa_class(isa)] : rf->bw;
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    if (!ref_ok) {
      snprintf(r->check, sizeof r->check, "ERROR");
      n_error++;
    } else {
      double e = check_run(&c, c.run, refs, &st);
      r->max_err = e;
      if (st != GLLMK_OK) {
        snprintf(r->check, sizeof r->check, "ERROR");
        fprintf(stderr, "%s: %s %s %s isa %s: %s\n", prog, s->op, c.shape, dt_names[c.dt], isa,
                gllmk_strerror(st));
        n_error++;
      } else if (e <= tolerance(c.dt)) {
        snprintf(r->check, sizeof r->check, "OK");
      } else {
        snprintf(r->check, sizeof r->check, "MISMATCH");
        fprintf(stderr, "%s: MISMATCH %s %s %s isa %s: max relative error %.3g (tolerance %.3g)\n", prog, s->op,
                c.shape, dt_names[c.dt], isa, e, tolerance(c.dt));
        n_mismatch++;
      }
    }
    if (!strcmp(r->check, "OK")) {
      r->t = time_fn(&c, c.run, mt, ns, 0, &st);
      if (st != GLLMK_OK) {
        snprintf(r->check, sizeof r->check, "ERROR");
        n_error++;
      }
      fill_rates(&c, r->t, &r->gflops, &r->gbs);
      double v = c.roof == ROOF_FMA ? r->gflops : r->gbs;
      r->pct = 100.0 * v / r->roof;
      if (!strcmp(isa, "scalar")) t_scalar = r->t;
      r->t_scalar = t_scalar;
      r->speedup = t_scalar / r->t;
      if (c.compose) {
        r->comp_name = c.compose_name;
        gllmk_status cs;
        double e = check_run(&c, c.compose, refs, &cs);
        if (cs != GLLMK_OK)
          snprintf(r->comp_check, sizeof r->comp_check, "ERROR");
        else
          snprintf(r->comp_check, sizeof r->comp_check, "%s", e <= tolerance(c.dt) ? "OK" : "MISMATCH");
        if (cs != GLLMK_OK || e > tolerance(c.dt)) {
          fprintf(stderr, "%s: %s %s: the composition %s disagrees with the scalar fused op (%s, error %.3g)\n",
                  prog, s->op, c.shape, c.compose_name, cs != GLLMK_OK ? gllmk_strerror(cs) : "values", e);
          n_mismatch++;
        } else {
          r->t_comp = time_fn(&c, c.compose, mt, ns, 0, &cs);
          fill_rates(&c, r->t_comp, &r->comp_gflops, &r->comp_gbs);
          r->fused_speedup = r->t_comp / r->t;
        }
      }
      if (c.unpacked) {
        gllmk_status us;
        r->unp_name = c.unpacked_name;
        r->t_unp = time_fn(&c, c.unpacked, mt, ns, 0, &us);
        if (us == GLLMK_OK) {
          fill_rates(&c, r->t_unp, &r->unp_gflops, &(double){0});
          r->packed_speedup = r->t_unp / r->t;
        }
      }
    }
  }

  /* OpenBLAS does not depend on the gllmk ISA: measure it once, last, so that
   * its worker threads (which spin for a while after a call) do not disturb
   * the gllmk timings */
  if (c.openblas && ref_ok) {
    gllmk_status ob_st = GLLMK_OK;
    if (ob.set_threads) ob.set_threads(T);
    double ob_err = check_run(&c, c.openblas, refs, &ob_st);
    double t_ob = time_fn(&c, c.openblas, mt, ns, 0, &ob_st);
    for (int i = first; i < n_results; i++) {
      result *r = &results[i];
      r->ob_name = c.openblas_name;
      snprintf(r->ob_check, sizeof r->ob_check, "%s", ob_err <= tolerance(c.dt) ? "OK" : "MISMATCH");
      r->t_ob = t_ob;
      fill_rates(&c, t_ob, &r->ob_gflops, &r->ob_gbs);
      r->vs_ob = t_ob / r->t;
    }
  }
  if (!opt.quiet && tty) fprintf(stderr, "\r\033[K");
  for (int i = first; i < n_results; i++) {
    set_target(&results[i], &c);
    print_result(&results[i]);
  }
  for (int i = 0; i < c.nchk; i++) free(refs[i]);
  c_free(&c);
}
