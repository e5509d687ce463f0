/* quant_report.c -- gllmk-bench: the quantized section's tables and its driver
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"
#include "quant.h"

/* ---------------------------------------------------------------- tables */

static void pcol(int w, const char *f, double v)
{
  char b[32];
  fmt_num(b, sizeof b, v, f);
  printf(" %*s", w, b);
}

static double gv(double vals, double t) { return vals / t * 1e-9; }

static void q_print_dequant(int ii, const int *sel, int nsel)
{
  size_t n = QS.n_deq, k = QS.k;
  double vals = (double)n * (double)k;
  printf("\n## quant: dequantize %zux%zu to f32 (isa %s): G values/s\n", n, k, opt.isas[ii]);
  printf("   rows: row by row into one %zu KiB buffer, T threads splitting the rows; whole: one call on T library\n"
         "   threads; ggml: to_float per row, 1 thread; GB/s: quantized bytes read; scalar: the scalar ISA on %d rows\n",
         k * 4 / 1024, QSUB);
  printf("%-10s %6s %-8s |%8s %7s %8s %8s |", "format", "bits/w", "check", "rows 1T", "GB/s", "ggml", "vs ggml");
  for (int ti = 1; ti < n_qthr; ti++) printf("  rows %dT", qthr[ti]);
  printf(" |");
  for (int ti = 0; ti < n_qthr; ti++) printf(" whole %dT", qthr[ti]);
  printf(" | %8s %8s\n", "scalar", "speedup");
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    if (!qf_has_deq(f)) continue;
    qlayout L = q_layout(f, k);
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    double t1 = R->deq_rows[0], tg = g->ok ? g->tofloat : NAN;
    printf("%-10s %6.3f %-8s |", qf_name(f), q_bits(&L), R->deq_chk);
    pcol(8, "%.3f", gv(vals, t1));
    pcol(7, "%.2f", (double)n * q_rowbytes(&L) / t1 * 1e-9);
    pcol(8, "%.3f", gv(vals, tg));
    pcol(8, "%.1fx", tg / t1);
    printf(" |");
    for (int ti = 1; ti < n_qthr; ti++) pcol(8, "%.3f", gv(vals, R->deq_rows[ti]));
    printf(" |");
    for (int ti = 0; ti < n_qthr; ti++) pcol(8, "%.3f", gv(vals, R->deq_whole[ti]));
    printf(" |");
    pcol(8, "%.3f", gv(vals, R->deq_scalar));
    pcol(8, "%.1fx", R->deq_scalar / t1);
    printf("\n");
  }
  fflush(stdout);
}

static void q_print_decode(int ii, const int *sel, int nsel)
{
  size_t k = QS.k;
  int TT = qthr[n_qthr - 1];
  printf("\n## quant: decode GEMV y[1 x n] = x . W^T, k=%zu (isa %s): GB/s of weight bytes (codes, scales, zeros)\n", k,
         opt.isas[ii]);
  if (Q.rot)
    printf("   hot: one matrix again and again; cold: rotating over copies that span >= %zu MiB (LLC %zu MiB);\n",
           Q.rot / MiB, Q.llc / MiB);
  else
    printf("   hot: one matrix again and again; cold: the same (--quick: no copies, weights in cache);\n");
  printf("   ggml: vec_dot per row, 1 thread, x quantized to its vec_dot_type beforehand; %%DRAM and ms at %d threads;\n"
         "   err: max |y - exact| / bound (int8 activations per 32); scalar: the scalar ISA on %d rows, hot;\n"
         "   W %zux%zu first, then %zux%zu\n",
         TT, QSUB, QS.n_dec[0], k, QS.n_dec[1], k);
  printf("%-10s %6s %-6s %5s | %7s %7s %6s | %7s %7s %6s |", "format", "bits/w", "check", "err", "hot 1T", "ggml",
         "vs", "cold 1T", "ggml", "vs");
  for (int ti = 1; ti < n_qthr; ti++) printf(" cold %dT", qthr[ti]);
  printf(" %6s %7s |", "%DRAM", "ms");
  char hdr[48];
  for (int ti = 0; ti < n_qthr; ti++) {
    snprintf(hdr, sizeof hdr, "%zu %dT", QS.n_dec[1], qthr[ti]);
    printf(" %8s", hdr);
  }
  printf(" %6s %7s | %7s\n", "%DRAM", "ms", "speedup");
  const roofline *rf = roof_for(TT);
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    qlayout L = q_layout(f, k);
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    double b0 = (double)QS.n_dec[0] * q_rowbytes(&L), b1 = (double)QS.n_dec[1] * q_rowbytes(&L);
    double gh = g->dot_ok ? g->hot : NAN, gc = g->dot_ok ? g->cold : NAN;
    printf("%-10s %6.3f %-6s", qf_name(f), q_bits(&L), R->dec_chk);
    pcol(5, "%.2f", R->dec_err > 0 ? R->dec_err : NAN);
    printf(" |");
    pcol(7, "%.2f", b0 / R->dec_hot * 1e-9);
    pcol(7, "%.2f", b0 / gh * 1e-9);
    pcol(6, "%.2fx", gh / R->dec_hot);
    printf(" |");
    pcol(7, "%.2f", b0 / R->dec[0][0] * 1e-9);
    pcol(7, "%.2f", b0 / gc * 1e-9);
    pcol(6, "%.2fx", gc / R->dec[0][0]);
    printf(" |");
    for (int ti = 1; ti < n_qthr; ti++) pcol(7, "%.2f", b0 / R->dec[0][ti] * 1e-9);
    pcol(6, "%.0f%%", 100.0 * b0 / R->dec[0][n_qthr - 1] * 1e-9 / rf->bw);
    pcol(7, "%.3f", R->dec[0][n_qthr - 1] * 1e3);
    printf(" |");
    for (int ti = 0; ti < n_qthr; ti++) pcol(8, "%.2f", b1 / R->dec[1][ti] * 1e-9);
    pcol(6, "%.0f%%", 100.0 * b1 / R->dec[1][n_qthr - 1] * 1e-9 / rf->bw);
    pcol(7, "%.3f", R->dec[1][n_qthr - 1] * 1e3);
    printf(" |");
    pcol(7, "%.1fx", R->dec_scalar / R->dec_hot);
    printf("\n");
  }
  fflush(stdout);
}

static void q_print_prefill(int ii, const int *sel, int nsel)
{
  size_t k = QS.k, n = QS.n_pre;
  int TT = qthr[n_qthr - 1];
  const roofline *rf = roof_for(TT);
  int cls = isa_class(opt.isas[ii]);
  printf("\n## quant: prefill GEMM Y[m x %zu] = X . W^T, k=%zu, weights hot (isa %s): GFLOP/s = 2 m n k / time\n", n, k,
         opt.isas[ii]);
  printf("   %%peak: of the %s f32 FMA peak on %d threads (%.1f GFLOP/s); err: max |y - exact| / (1e-4 sum |w x|);\n"
         "   scalar: the scalar ISA on %d rows, m=%zu; m=%zu on %d threads only;\n"
         "   ggml: ggml_mul_mat through a one-node graph on %d threads, GFLOP/s, and gllmk's speed over it\n",
         class_names[cls], TT, rf->peak[cls], QSUB_PRE, QS.m_pre[0], QS.m_pre[1], TT, TT);
  printf("%-10s %-6s %5s |", "format", "check", "err");
  for (int mi = 0; mi < 2; mi++) {
    for (int ti = mi ? n_qthr - 1 : 0; ti < n_qthr; ti++) printf(" m=%zu %dT", QS.m_pre[mi], qthr[ti]);
    printf(" %5s |", "%peak");
  }
  printf(" %7s %7s |", "scalar", "speedup");
  char g0[24], g1[24];
  snprintf(g0, sizeof g0, "ggml m=%zu", QS.m_pre[0]);
  snprintf(g1, sizeof g1, "ggml m=%zu", QS.m_pre[1]);
  printf(" %-6s %11s %6s %11s %6s\n", "ggml", g0, "ratio", g1, "ratio");
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    printf("%-10s %-6s", qf_name(f), R->pre_chk);
    pcol(5, "%.2f", R->pre_err > 0 ? R->pre_err : NAN);
    printf(" |");
    for (int mi = 0; mi < 2; mi++) {
      double fl = 2.0 * (double)QS.m_pre[mi] * (double)n * (double)k * 1e-9;
      char hdr[32];
      for (int ti = mi ? n_qthr - 1 : 0; ti < n_qthr; ti++) {
        int w = snprintf(hdr, sizeof hdr, " m=%zu %dT", QS.m_pre[mi], qthr[ti]) - 1;
        pcol(w, "%.1f", fl / R->pre[mi][ti]);
      }
      pcol(5, "%.0f%%", 100.0 * fl / R->pre[mi][n_qthr - 1] / rf->peak[cls]);
      printf(" |");
    }
    double fl0 = 2.0 * (double)QS.m_pre[0] * (double)n * (double)k * 1e-9;
    pcol(7, "%.2f", fl0 / R->pre_scalar);
    pcol(7, "%.1fx", R->pre_scalar / R->pre[0][0]);
    /* ggml_mul_mat on the most threads: GFLOP/s, and gllmk's speed over it */
    printf(" | %-6s", f->kind == QK_GGUF ? g->pre_chk : "-");
    for (int mi = 0; mi < 2; mi++) {
      double fl = 2.0 * (double)QS.m_pre[mi] * (double)n * (double)k * 1e-9;
      pcol(11, "%.1f", fl / g->pre[mi][n_qthr - 1]);
      pcol(6, "%.2fx", g->pre[mi][n_qthr - 1] / R->pre[mi][n_qthr - 1]);
    }
    printf("\n");
  }
  fflush(stdout);
}

/* the summary the issue asks for: one row per format */
static void q_print_summary(int ii, const int *sel, int nsel, int parts)
{
  size_t k = QS.k;
  int TT = qthr[n_qthr - 1], last = n_qthr - 1;
  const roofline *rf = roof_for(TT);
  double vals = (double)QS.n_deq * (double)k;
  printf("\n## quant summary (isa %s; ggml 1 thread; decode %zux%zu %s; prefill %zux%zu weights, %d threads)\n",
         opt.isas[ii], QS.n_dec[0], k, Q.rot ? "cold (weights from DRAM)" : "hot (--quick)", QS.n_pre, k, TT);
  char d2[32], pf[32];
  snprintf(d2, sizeof d2, "decode %dT", TT);
  snprintf(pf, sizeof pf, "prefill GFLOP/s %dT", TT);
  printf("| %-10s | %6s | %-27s | %-27s | %-15s | %-20s |\n", "format", "bits/w", "dequant Gval/s, 1 thread",
         "decode GB/s, 1 thread", d2, pf);
  char m0[24], m1[24];
  snprintf(m0, sizeof m0, "m=%zu", QS.m_pre[0]);
  snprintf(m1, sizeof m1, "m=%zu", QS.m_pre[1]);
  printf("| %-10s | %6s | %8s %8s %9s | %8s %8s %9s | %6s %8s | %9s %10s |\n", "", "", "ours", "ggml", "ratio", "ours",
         "ggml", "ratio", "GB/s", "% DRAM", m0, m1);
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    const qfmt *f = &qfmts[fi];
    qlayout L = q_layout(f, k);
    const qres *R = &qres_[fi][ii];
    const qggml *g = &qgg[fi];
    double b0 = (double)QS.n_dec[0] * q_rowbytes(&L);
    printf("| %-10s | %6.3f |", qf_name(f), q_bits(&L));
    if ((parts & 1) && qf_has_deq(f)) {
      double tg = g->ok ? g->tofloat : NAN;
      pcol(8, "%.3f", gv(vals, R->deq_rows[0]));
      pcol(8, "%.3f", gv(vals, tg));
      pcol(9, "%.1fx", tg / R->deq_rows[0]);
    } else {
      printf(" %8s %8s %9s", "-", "-", "-");
    }
    printf(" |");
    if (parts & 2) {
      double gc = g->dot_ok ? g->cold : NAN;
      pcol(8, "%.2f", b0 / R->dec[0][0] * 1e-9);
      pcol(8, "%.2f", b0 / gc * 1e-9);
      pcol(9, "%.2fx", gc / R->dec[0][0]);
      printf(" |");
      pcol(6, "%.2f", b0 / R->dec[0][last] * 1e-9);
      pcol(8, "%.0f%%", 100.0 * b0 / R->dec[0][last] * 1e-9 / rf->bw);
    } else {
      printf(" %8s %8s %9s | %6s %8s", "-", "-", "-", "-", "-");
    }
    printf(" |");
    if (parts & 4) {
      double fl = 2.0 * (double)QS.n_pre * (double)k * 1e-9;
      pcol(9, "%.1f", fl * (double)QS.m_pre[0] / R->pre[0][last]);
      pcol(10, "%.1f", fl * (double)QS.m_pre[1] / R->pre[1][last]);
    } else {
      printf(" %9s %10s", "-", "-");
    }
    printf(" |\n");
  }
  fflush(stdout);
}

/* ---------------------------------------------------------------- driver */

/* bytes of the last-level cache: the largest cache of cpu0 in /sys (what the
 * kernel reports; glibc's sysconf can count an AMD L3 once per sharing
 * thread), else sysconf */
static size_t llc_bytes(void)
{
  size_t best = 0;
  for (int i = 0; i < 8; i++) {
    char p[96];
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    FILE *f = fopen(p, "r");
    if (!f) continue;
    unsigned long x = 0;
    char u = 0;
    if (fscanf(f, "%lu%c", &x, &u) >= 1) {
      size_t b = x;
      if (u == 'K') b <<= 10;
      else if (u == 'M') b <<= 20;
      if (b > best) best = b;
    }
    fclose(f);
  }
  if (best) return best;
  long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
  v = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
  return v > 0 ? (size_t)v : 0;
}

void quant_list(int parts)
{
  for (int j = 0; j < 3; j++) {
    if (!(parts & (1 << j))) continue;
    for (int i = 0; i < NQF; i++) {
      const qfmt *f = &qfmts[i];
      if (!qf_selected(f) || (j == 0 && !qf_has_deq(f))) continue;
      const char *what = j == 0 ? "gllmk_dequantize / dequant_* vs ggml to_float"
                         : j == 1 ? "m=1 GEMV, weights from DRAM, vs ggml vec_dot"
                                  : "m=128 and 512 GEMM";
      printf("%-10s %-36s %-4s %-10s %s\n", "quant", qparts_names[j], "f32", qf_name(f), what);
    }
  }
}

void run_quant(int parts)
{
  /* thread counts: 1 (ggml is timed on one), and --threads, else 2 */
  n_qthr = 0;
  qthr[n_qthr++] = 1;
  if (opt.threads_given) {
    for (int j = 0; j < opt.n_threads; j++) {
      int dup = 0;
      for (int i = 0; i < n_qthr; i++) dup |= qthr[i] == opt.threads[j];
      if (!dup && n_qthr < MAX_LIST) qthr[n_qthr++] = opt.threads[j];
    }
  } else {
    qthr[n_qthr++] = 2;
  }
  for (int i = 1; i < n_qthr; i++) /* ascending */
    for (int j = i; j > 0 && qthr[j - 1] > qthr[j]; j--) {
      int t = qthr[j];
      qthr[j] = qthr[j - 1];
      qthr[j - 1] = t;
    }
  int maxT = qthr[n_qthr - 1];

  QS.k = Z.hidden;
  QS.n_deq = QS.n_pre = Z.gemm_nk;
  QS.n_dec[0] = Z.gemv_m1;
  QS.n_dec[1] = Z.gemv_m2;
  QS.m_pre[0] = Z.gemm_m2;
  QS.m_pre[1] = Z.gemm_m1;
  Q.llc = llc_bytes();
  Q.rot = 0;
  if (!opt.quick) {
    Q.rot = 256 * MiB;
    if (4 * Q.llc > Q.rot) Q.rot = 4 * Q.llc;
  }

  int sel[NQF], nsel = 0;
  for (int i = 0; i < NQF; i++)
    if (qf_selected(&qfmts[i])) sel[nsel++] = i;
  gg_load(); /* ggml is compared on every part (prefill: ggml_mul_mat) */
  printf("\n# Quantized kernels: %d format(s), parts:%s%s%s; threads", nsel, parts & 1 ? " dequantize" : "",
         parts & 2 ? " decode" : "", parts & 4 ? " prefill" : "");
  for (int i = 0; i < n_qthr; i++) printf(" %d", qthr[i]);
  printf("; LLC %zu MiB", Q.llc / MiB);
  if (Q.rot) printf(", decode weights rotate over >= %zu MiB", Q.rot / MiB);
  printf("\nggml: %s\n", gg.tried ? gg.desc : "not used");
  fflush(stdout);

  /* rooflines first: they use a 512 MiB buffer, freed before the weights are made */
  for (int i = 0; i < n_qthr; i++) roof_for(qthr[i]);
  if (bw_buf) {
    free(bw_buf);
    bw_buf = NULL;
  }

  /* the arenas */
  size_t k = QS.k, wcap = 0, zcap = 0, scap = 0;
  for (int s = 0; s < nsel; s++) {
    int fi = sel[s];
    qlayout L = q_layout(&qfmts[fi], k);
    size_t rows = QS.n_deq > QS.n_pre ? QS.n_deq : QS.n_pre;
    if (rows < QSUB) rows = QSUB;
    for (int d = 0; d < 2; d++) {
      double mb = (double)QS.n_dec[d] * q_rowbytes(&L);
      int nrot = 1;
      if ((parts & 2) && (double)Q.rot > mb) nrot = (int)ceil((double)Q.rot / mb);
      QS.nrot[fi][d] = nrot;
      if ((parts & 2) && (size_t)nrot * QS.n_dec[d] > rows) rows = (size_t)nrot * QS.n_dec[d];
    }
    if (rows * L.rb > wcap) wcap = rows * L.rb;
    if (rows * L.zb > zcap) zcap = rows * L.zb;
    if (rows * L.sb > scap) scap = rows * L.sb;
  }
  if (!opt.quiet) fprintf(stderr, "quant: making %.0f MiB of random weights...\n", (double)(wcap + zcap + scap) / MiB);
  Q.w = xalloc(wcap + 64);
  fill_bytes(Q.w, wcap, 0x5eed);
  Q.z = xalloc(zcap + 64);
  fill_bytes(Q.z, zcap, 0x5eee);
  Q.s = xalloc(scap + 64);
  memset(Q.s, 0, scap);
  Q.gidx = xalloc(k * sizeof(int32_t));
  size_t mmax = QS.m_pre[1] > QS.m_pre[0] ? QS.m_pre[1] : QS.m_pre[0];
  Q.x = xalloc(mmax * k * sizeof(float));
  fill_uniform(Q.x, DT_F32, mmax * k, -1, 1, 0x0ac7);
  size_t ny = mmax * QS.n_pre;
  if (QS.n_dec[1] > ny) ny = QS.n_dec[1];
  if (QS.n_dec[0] > ny) ny = QS.n_dec[0];
  Q.y = xalloc(ny * sizeof(float));
  Q.y2 = xalloc(ny * sizeof(float));
  memset(Q.y, 0, ny * sizeof(float));
  memset(Q.y2, 0, ny * sizeof(float));
  Q.whole = NULL;
  if (parts & 1) {
    Q.whole = xalloc(QS.n_deq * k * sizeof(float));
    memset(Q.whole, 0, QS.n_deq * k * sizeof(float));
  }
  Q.ref = xalloc(QSUB * k * sizeof(float));
  Q.tmp = xalloc((QSUB * k > QS.n_dec[1] ? QSUB * k : QS.n_dec[1]) * sizeof(float));
  Q.yq = xalloc(2 * k + 64);
  size_t ne = QS.m_pre[0] * QCHK;
  Q.ex = xalloc(ne * sizeof(double));
  Q.ab = xalloc(ne * sizeof(double));
  Q.bd = xalloc(ne * sizeof(double));
  Q.bd2 = xalloc(ne * sizeof(double));
  for (int t = 0; t < maxT && t < MAX_LIST; t++) Q.rowbuf[t] = xalloc(k * sizeof(float));
  uint64_t st = 0x5ca1e;
  for (int i = 0; i < 256; i++) {
    double u = -12.0 * (double)(splitmix(&st) >> 11) * (1.0 / 9007199254740992.0);
    float v = (float)exp2(u);
    if (splitmix(&st) & 1) v = -v;
    Q.sc16[i] = gllmk_f32_to_f16(v).bits;
  }
  memset(qres_, 0, sizeof qres_);
  memset(qgg, 0, sizeof qgg);
  for (int i = 0; i < NQF; i++)
    for (int ii = 0; ii < MAX_LIST; ii++) {
      qres *R = &qres_[i][ii];
      R->deq_scalar = R->dec_hot = R->dec_scalar = R->pre_scalar = NAN;
      for (int t = 0; t < MAX_LIST; t++) {
        R->deq_rows[t] = R->deq_whole[t] = R->dec[0][t] = R->dec[1][t] = R->pre[0][t] = R->pre[1][t] = NAN;
      }
    }

  int ndeq = 0;
  for (int s = 0; s < nsel; s++) ndeq += qf_has_deq(&qfmts[sel[s]]);
  double t0 = now();
  if (parts & 1) {
    for (int s = 0, i = 0; s < nsel; s++)
      if (qf_has_deq(&qfmts[sel[s]])) q_dequant(sel[s], ++i, ndeq);
    for (int ii = 0; ii < opt.n_isas; ii++) q_print_dequant(ii, sel, nsel);
  } else if (parts & 6) { /* the ggml check of to_float runs with the dequantize part */
    for (int s = 0; s < nsel; s++) {
      const qfmt *f = &qfmts[sel[s]];
      qggml *g = &qgg[sel[s]];
      if (f->kind != QK_GGUF || !gg.ok) continue;
      qlayout L = q_layout(f, k);
      const struct gg_traits *tr = gg_has(f->t, qf_name(f)) ? gg.traits(f->t) : NULL;
      q_prepare(&L, QSUB, 1000 + (uint64_t)sel[s]);
      gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]);
      gllmk_set_num_threads(1);
      if (!tr || !tr->type_name || strcmp(tr->type_name, qf_name(f)) || !tr->to_float ||
          tr->type_size != gllmk_qtype_block_bytes((gllmk_qtype)f->t) || q_deq(&L, 0, QSUB, Q.ref) != GLLMK_OK) {
        snprintf(g->chk, sizeof g->chk, "no usable to_float");
        continue;
      }
      for (size_t r = 0; r < QSUB; r++) tr->to_float(Q.w + r * L.rb, Q.tmp + r * k, (int64_t)k);
      g->ok = count_diff(Q.tmp, Q.ref, QSUB * k) == 0;
      if (!g->ok) fprintf(stderr, "%s: ggml %s: to_float differs from gllmk: ggml not reported\n", prog, qf_name(f));
    }
  }
  if (parts & 2) {
    for (int s = 0; s < nsel; s++) q_decode(sel[s], s + 1, nsel);
    for (int ii = 0; ii < opt.n_isas; ii++) q_print_decode(ii, sel, nsel);
  }
  if (parts & 4) {
    for (int s = 0; s < nsel; s++) q_prefill(sel[s], s + 1, nsel);
    for (int ii = 0; ii < opt.n_isas; ii++) q_print_prefill(ii, sel, nsel);
  }
  for (int ii = 0; ii < opt.n_isas; ii++) q_print_summary(ii, sel, nsel, parts);
  printf("(quantized kernels: %.0f s)\n", now() - t0);

  free(Q.w);
  free(Q.z);
  free(Q.s);
  free(Q.gidx);
  free(Q.x);
  free(Q.y);
  free(Q.y2);
  free(Q.whole);
  free(Q.ref);
  free(Q.tmp);
  free(Q.yq);
  free(Q.ex);
  free(Q.ab);
  free(Q.bd);
  free(Q.bd2);
  for (int t = 0; t < MAX_LIST; t++) {
    free(Q.rowbuf[t]);
    Q.rowbuf[t] = NULL;
  }
}
