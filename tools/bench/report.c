/* report.c -- gllmk-bench: the results as CSV and JSON
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

/* ================================================================ CSV / JSON */

static void csv_num(FILE *f, double v)
{
  if (isfinite(v))
    fprintf(f, ",%.6g", v);
  else
    fprintf(f, ",");
}
static void json_num(FILE *f, const char *k, double v)
{
  if (isfinite(v))
    fprintf(f, ", \"%s\": %.6g", k, v);
  else
    fprintf(f, ", \"%s\": null", k);
}
static void json_str(FILE *f, const char *k, const char *v, int first)
{
  fprintf(f, "%s\"%s\": \"", first ? "" : ", ", k);
  for (const char *p = v ? v : ""; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if ((unsigned char)*p < 0x20)
      fprintf(f, " ");
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

void write_csv(const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    return;
  }
  fprintf(f, "group,op,shape,dtype,isa,threads,check,max_err,time_s,gflops,gbs,roof_kind,roof,pct_roof,"
             "scalar_time_s,speedup_vs_scalar,openblas_fn,openblas_check,openblas_time_s,openblas_gflops,"
             "openblas_gbs,vs_openblas,composition,composition_check,composition_time_s,fused_vs_composition,"
             "target,qtype,gvals,ggml_fn,ggml_check,ggml_time_s,ggml_gbs,ggml_gvals,vs_ggml,"
             "unpacked_time_s,packed_vs_unpacked\n");
  for (int i = 0; i < n_results; i++) {
    const result *r = &results[i];
    fprintf(f, "%s,%s,\"%s\",%s,%s,%d,%s", r->group, r->op, r->shape, r->dtype, r->isa, r->threads, r->check);
    csv_num(f, r->max_err);
    csv_num(f, r->t);
    csv_num(f, r->gflops);
    csv_num(f, r->gbs);
    fprintf(f, ",%s", r->roof_kind);
    csv_num(f, r->roof);
    csv_num(f, r->pct);
    csv_num(f, r->t_scalar);
    csv_num(f, r->speedup);
    fprintf(f, ",%s,%s", r->ob_name ? r->ob_name : "", r->ob_check);
    csv_num(f, r->t_ob);
    csv_num(f, r->ob_gflops);
    csv_num(f, r->ob_gbs);
    csv_num(f, r->vs_ob);
    fprintf(f, ",\"%s\",%s", r->comp_name ? r->comp_name : "", r->comp_check);
    csv_num(f, r->t_comp);
    csv_num(f, r->fused_speedup);
    fprintf(f, ",\"%s\",%s", r->target, r->qtype);
    csv_num(f, r->gvals);
    fprintf(f, ",%s,%s", r->ggml_name ? r->ggml_name : "", r->ggml_check);
    csv_num(f, r->t_ggml);
    csv_num(f, r->ggml_gbs);
    csv_num(f, r->ggml_gvals);
    csv_num(f, r->vs_ggml);
    csv_num(f, r->t_unp);
    csv_num(f, r->packed_speedup);
    fprintf(f, "\n");
  }
  fclose(f);
}

void write_json(const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
    return;
  }
  fprintf(f, "{");
  json_str(f, "gllmk_version", gllmk_version(), 1);
  json_str(f, "isa_compiled", gllmk_cpu_isa_compiled(), 0);
  json_str(f, "cpu_features", gllmk_cpu_features(), 0);
  fprintf(f, ", \"openmp\": %s, \"quick\": %s", gllmk_has_openmp() ? "true" : "false",
          opt.quick ? "true" : "false");
  json_str(f, "openblas", ob.tried ? ob.desc : "not used", 0);
  json_str(f, "ggml", gg.tried ? gg.desc : "not used", 0);
  fprintf(f, ",\n \"roofline\": [");
  for (int i = 0; i < n_roofs; i++) {
    const roofline *r = &roofs[i];
    fprintf(f, "%s\n  {\"threads\": %d", i ? "," : "", r->threads);
    json_num(f, "peak_gflops_scalar", r->peak[0]);
    json_num(f, "peak_gflops_avx2", r->peak[1]);
    json_num(f, "peak_gflops_avx512", r->peak[2]);
    json_num(f, "dram_read_gbs", r->bw);
    fprintf(f, ", \"given\": %s}", r->peak_given || r->bw_given ? "true" : "false");
  }
  fprintf(f, "],\n \"results\": [");
  for (int i = 0; i < n_results; i++) {
    const result *r = &results[i];
    fprintf(f, "%s\n  {", i ? "," : "");
    json_str(f, "group", r->group, 1);
    json_str(f, "op", r->op, 0);
    json_str(f, "shape", r->shape, 0);
    json_str(f, "dtype", r->dtype, 0);
    json_str(f, "isa", r->isa, 0);
    fprintf(f, ", \"threads\": %d", r->threads);
    json_str(f, "check", r->check, 0);
    json_num(f, "max_err", r->max_err);
    json_num(f, "time_s", r->t);
    json_num(f, "gflops", r->gflops);
    json_num(f, "gbs", r->gbs);
    json_str(f, "roof_kind", r->roof_kind, 0);
    json_num(f, "roof", r->roof);
    json_num(f, "pct_roof", r->pct);
    json_num(f, "scalar_time_s", r->t_scalar);
    json_num(f, "speedup_vs_scalar", r->speedup);
    if (r->ob_name) {
      json_str(f, "openblas_fn", r->ob_name, 0);
      json_str(f, "openblas_check", r->ob_check, 0);
    }
    json_num(f, "openblas_time_s", r->t_ob);
    json_num(f, "openblas_gflops", r->ob_gflops);
    json_num(f, "openblas_gbs", r->ob_gbs);
    json_num(f, "vs_openblas", r->vs_ob);
    if (r->comp_name) {
      json_str(f, "composition", r->comp_name, 0);
      json_str(f, "composition_check", r->comp_check, 0);
    }
    json_num(f, "composition_time_s", r->t_comp);
    json_num(f, "fused_vs_composition", r->fused_speedup);
    json_num(f, "unpacked_time_s", r->t_unp);
    json_num(f, "packed_vs_unpacked", r->packed_speedup);
    if (r->target[0]) json_str(f, "target", r->target, 0);
    if (r->qtype[0]) {
      json_str(f, "qtype", r->qtype, 0);
      json_num(f, "gvals", r->gvals);
    }
    if (r->ggml_name) {
      json_str(f, "ggml_fn", r->ggml_name, 0);
      json_str(f, "ggml_check", r->ggml_check, 0);
      json_num(f, "ggml_time_s", r->t_ggml);
      json_num(f, "ggml_gbs", r->ggml_gbs);
      json_num(f, "ggml_gvals", r->ggml_gvals);
      json_num(f, "vs_ggml", r->vs_ggml);
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n ]\n}\n");
  fclose(f);
}
