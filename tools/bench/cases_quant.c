/* cases_quant.c -- gllmk-bench: the three parts of the quantized section (dequantize, decode GEMV, prefill GEMM)
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"
#include "quant.h"

/* ---------------------------------------------------------------- part 1: dequantize */

void q_dequant(int fi, int idx, int cnt)
{
  const qfmt *f = &qfmts[fi];
  const char *name = qf_name(f);
  qlayout L = q_layout(f, QS.k);
  size_t n = QS.n_deq, k = QS.k, sub = QSUB < n ? QSUB : n;
  double mt = opt.qmin_time, vals = (double)n * (double)k, bytes = (double)n * q_rowbytes(&L);
  int ns = opt.qsamples;
  gllmk_status st;
  qggml *g = &qgg[fi];
  q_progress("quant dequant", idx, cnt, name, "preparing");
  q_prepare(&L, n, 1000 + (uint64_t)fi);

  /* reference: the scalar ISA (else the first measured ISA), one thread */
  gllmk_set_num_threads(1);
  double t_scalar = NAN;
  int ref_ok = 0;
  if (gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]) == GLLMK_OK) {
    st = q_deq(&L, 0, sub, Q.ref);
    ref_ok = st == GLLMK_OK;
    if (ref_ok && scalar_ok()) {
      qjob j = q_job(&L, sub, 1, 1, 1);
      q_progress("quant dequant", idx, cnt, name, "scalar ISA");
      t_scalar = qtime(r_deq_rows, &j, mt / 4, 3, &st) * (double)n / (double)sub;
    }
  }
  /* ggml: to_float must give the same bits */
  g->ok = 0;
  if (f->kind == QK_GGUF && gg.ok) {
    const struct gg_traits *tr = gg_has(f->t, name) ? gg.traits(f->t) : NULL;
    if (!tr || !tr->type_name || strcmp(tr->type_name, name) ||
        tr->blck_size != (int64_t)gllmk_qtype_block_size((gllmk_qtype)f->t) ||
        tr->type_size != gllmk_qtype_block_bytes((gllmk_qtype)f->t)) {
      snprintf(g->chk, sizeof g->chk, "ggml's type traits differ from gllmk's format");
    } else if (!tr->to_float) {
      snprintf(g->chk, sizeof g->chk, "no to_float in ggml");
    } else if (ref_ok) {
      g->to_float = tr->to_float;
      for (size_t r = 0; r < sub; r++) tr->to_float(Q.w + r * L.rb, Q.tmp + r * k, (int64_t)k);
      size_t d = count_diff(Q.tmp, Q.ref, sub * k);
      if (d)
        snprintf(g->chk, sizeof g->chk, "to_float MISMATCH (%zu of %zu values)", d, sub * k);
      else
        snprintf(g->chk, sizeof g->chk, "OK");
      g->ok = d == 0;
    }
    if (!g->ok && strcmp(g->chk, "no to_float in ggml"))
      fprintf(stderr, "%s: ggml %s: %s: ggml numbers not reported for it\n", prog, name, g->chk);
  }

  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    gllmk_set_num_threads(1);
    st = q_deq(&L, 0, sub, Q.tmp);
    if (!ref_ok || st != GLLMK_OK) {
      snprintf(R->deq_chk, sizeof R->deq_chk, "ERROR");
    } else {
      size_t d = count_diff(Q.tmp, Q.ref, sub * k);
      if (d)
        snprintf(R->deq_chk, sizeof R->deq_chk, "MISMATCH");
      else
        snprintf(R->deq_chk, sizeof R->deq_chk, "OK");
      if (d)
        fprintf(stderr, "%s: MISMATCH %s %s isa %s: %zu of %zu values differ from the scalar ISA\n", prog,
                qf_deq_name(f), name, isa, d, sub * k);
    }
    R->deq_scalar = t_scalar;
    for (int ti = 0; ti < n_qthr; ti++) {
      int T = qthr[ti];
      char what[64];
      snprintf(what, sizeof what, "rows, %s, %d thread(s)", isa, T);
      q_progress("quant dequant", idx, cnt, name, what);
      qjob j = q_job(&L, n, 1, T, 1);
      gllmk_set_num_threads(1); /* the rows are split here */
      R->deq_rows[ti] = qtime(r_deq_rows, &j, mt, ns, &st);
      if (st != GLLMK_OK) snprintf(R->deq_chk, sizeof R->deq_chk, "ERROR");
      snprintf(what, sizeof what, "whole matrix, %s, %d thread(s)", isa, T);
      q_progress("quant dequant", idx, cnt, name, what);
      gllmk_set_num_threads(T);
      R->deq_whole[ti] = qtime(r_deq_whole, &j, mt, ns, &st);
      if (st != GLLMK_OK) snprintf(R->deq_chk, sizeof R->deq_chk, "ERROR");
      else if (ref_ok && count_diff(Q.whole, Q.ref, sub * k)) {
        snprintf(R->deq_chk, sizeof R->deq_chk, "MISMATCH");
        fprintf(stderr, "%s: MISMATCH %s %s isa %s, whole matrix on %d threads: differs from the scalar ISA\n",
                prog, qf_deq_name(f), name, isa, T);
      }
    }
    q_count_check(R->deq_chk);
  }
  if (g->ok) {
    q_progress("quant dequant", idx, cnt, name, "ggml to_float");
    qjob j = q_job(&L, n, 1, 1, 1);
    j.to_float = g->to_float;
    g->tofloat = qtime(r_gg_rows, &j, mt, ns, &st);
  }

  /* result rows */
  char shape[96];
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    for (int ti = 0; ti < n_qthr; ti++) {
      int T = qthr[ti];
      for (int whole = 0; whole < 2; whole++) {
        snprintf(shape, sizeof shape, whole ? "%zux%zu, one call" : "%zux%zu, row by row", n, k);
        result *r = q_result(f, whole ? "dequantize" : "dequantize_rows", shape, opt.isas[ii], T);
        snprintf(r->check, sizeof r->check, "%s", R->deq_chk);
        r->t = whole ? R->deq_whole[ti] : R->deq_rows[ti];
        r->gbs = bytes / r->t * 1e-9;
        r->gvals = vals / r->t * 1e-9;
        if (!whole && T == 1) {
          r->t_scalar = R->deq_scalar;
          r->speedup = R->deq_scalar / r->t;
          if (g->ok) {
            r->ggml_name = "to_float";
            snprintf(r->ggml_check, sizeof r->ggml_check, "OK");
            r->t_ggml = g->tofloat;
            r->ggml_gbs = bytes / g->tofloat * 1e-9;
            r->ggml_gvals = vals / g->tofloat * 1e-9;
            r->vs_ggml = g->tofloat / r->t;
            if (strcmp(opt.isas[ii], "scalar") && !opt.quick)
              snprintf(r->target, sizeof r->target, ">= 10x ggml to_float: %s", r->vs_ggml >= 10 ? "met" : "MISSED");
          }
        }
      }
    }
  }
  q_progress_done();
}

/* ---------------------------------------------------------------- part 2: decode GEMV */

void q_decode(int fi, int idx, int cnt)
{
  const qfmt *f = &qfmts[fi];
  const char *name = qf_name(f);
  qlayout L = q_layout(f, QS.k);
  size_t k = QS.k, chk = QCHK;
  double mt = opt.qmin_time;
  int ns = opt.qsamples;
  gllmk_status st;
  qggml *g = &qgg[fi];
  size_t rows = QSUB;
  for (int s = 0; s < 2; s++)
    if ((size_t)QS.nrot[fi][s] * QS.n_dec[s] > rows) rows = (size_t)QS.nrot[fi][s] * QS.n_dec[s];
  q_progress("quant decode", idx, cnt, name, "preparing the weight copies");
  q_prepare(&L, rows, 2000 + (uint64_t)fi);

  /* exact products of the first rows, from the scalar ISA's decoding */
  gllmk_set_num_threads(1);
  double t_scalar = NAN;
  int ref_ok = gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]) == GLLMK_OK &&
               q_deq(&L, 0, chk, Q.ref) == GLLMK_OK;
  /* SqueezeLLM and GPTQ4 with groups changing inside 16 columns are dotted in f32 */
  if (ref_ok) q_exact(Q.ref, Q.x, 1, chk, k, f->kind == QK_SQUEEZE ? 0 : 32, Q.bd);
  double scalar_err = NAN;
  if (ref_ok && scalar_ok()) {
    st = q_mm(&L, 0, Q.x, Q.y2, 1, chk);
    scalar_err = st == GLLMK_OK ? q_err(Q.y2, chk, Q.bd) : INFINITY;
    q_progress("quant decode", idx, cnt, name, "scalar ISA");
    qjob j = q_job(&L, QSUB, 1, 1, 1);
    t_scalar = qtime(r_qmm, &j, mt / 4, 3, &st) * (double)QS.n_dec[0] / (double)QSUB;
  }

  /* ggml vec_dot: x quantized to the vec_dot_type once, outside the timing */
  g->dot_ok = 0;
  if (g->ok) {
    const struct gg_traits_cpu *tc = gg.traits_cpu(f->t);
    g->vec_dot = tc ? tc->vec_dot : NULL;
    if (g->vec_dot) {
      g->vdt = tc->vec_dot_type;
      const struct gg_traits *tv = gg.traits(g->vdt);
      const struct gg_traits_cpu *tcv = gg.traits_cpu(g->vdt);
      g->from_float = tcv ? tcv->from_float : NULL;
      if (!tv || !g->from_float || (g->vdt != GG_Q8_0 && g->vdt != GG_Q8_1 && g->vdt != GG_Q8_K)) {
        snprintf(g->chk, sizeof g->chk, "unexpected vec_dot_type %d", g->vdt);
        g->vec_dot = NULL;
      } else {
        g->vdt_block = (size_t)tv->blck_size;
        g->from_float(Q.x, Q.yq, (int64_t)k);
        qjob j = q_job(&L, chk, 1, 1, 1);
        j.vec_dot = g->vec_dot;
        j.y = Q.tmp;
        r_gg_dot(&j);
        /* within the bound of its own activation quantization (blocks of vdt_block) */
        q_exact(Q.ref, Q.x, 1, chk, k, g->vdt_block, Q.bd2);
        g->dot_err = q_err(Q.tmp, chk, Q.bd2);
        g->dot_ok = g->dot_err <= 1.0;
        if (!g->dot_ok) {
          snprintf(g->chk, sizeof g->chk, "vec_dot off (err/bound %.3g)", g->dot_err);
          fprintf(stderr, "%s: ggml %s: vec_dot error %.3g x its bound: ggml vec_dot not reported\n", prog, name,
                  g->dot_err);
        }
      }
    } else {
      snprintf(g->chk, sizeof g->chk, "no vec_dot");
    }
  }

  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    R->dec_scalar = t_scalar;
    R->dec_err = 0;
    snprintf(R->dec_chk, sizeof R->dec_chk, ref_ok ? "OK" : "ERROR");
    for (int ti = 0; ti < n_qthr && ref_ok; ti++) { /* the bound, on every thread count */
      gllmk_set_num_threads(qthr[ti]);
      st = q_mm(&L, 0, Q.x, Q.y, 1, chk);
      double e = st == GLLMK_OK ? q_err(Q.y, chk, Q.bd) : INFINITY;
      if (st != GLLMK_OK)
        snprintf(R->dec_chk, sizeof R->dec_chk, "ERROR");
      else if (e > 1 && strcmp(R->dec_chk, "ERROR"))
        snprintf(R->dec_chk, sizeof R->dec_chk, "BOUND");
      if (e > R->dec_err) R->dec_err = e;
    }
    if (!strcmp(R->dec_chk, "BOUND"))
      fprintf(stderr, "%s: %s %s isa %s: error %.3g x the bound of int8 activations (scalar ISA: %.3g)\n", prog,
              qf_matmul_name(f), name, isa, R->dec_err, scalar_err);
    q_count_check(R->dec_chk);
    char what[64];
    snprintf(what, sizeof what, "hot, %s, 1 thread", isa);
    q_progress("quant decode", idx, cnt, name, what);
    gllmk_set_num_threads(1);
    qjob j = q_job(&L, QS.n_dec[0], 1, 1, 1);
    R->dec_hot = qtime(r_qmm, &j, mt, ns, &st);
    for (int s = 0; s < 2; s++)
      for (int ti = 0; ti < n_qthr; ti++) {
        snprintf(what, sizeof what, "%zux%zu, %d copies, %s, %d thread(s)", QS.n_dec[s], k, QS.nrot[fi][s], isa,
                 qthr[ti]);
        q_progress("quant decode", idx, cnt, name, what);
        gllmk_set_num_threads(qthr[ti]);
        j = q_job(&L, QS.n_dec[s], 1, 1, QS.nrot[fi][s]);
        R->dec[s][ti] = qtime(r_qmm, &j, mt, ns, &st);
        if (st != GLLMK_OK) snprintf(R->dec_chk, sizeof R->dec_chk, "ERROR");
      }
  }
  if (g->dot_ok) {
    q_progress("quant decode", idx, cnt, name, "ggml vec_dot");
    qjob j = q_job(&L, QS.n_dec[0], 1, 1, 1);
    j.vec_dot = g->vec_dot;
    j.y = Q.tmp;
    g->hot = qtime(r_gg_dot, &j, mt, ns, &st);
    j = q_job(&L, QS.n_dec[0], 1, 1, QS.nrot[fi][0]);
    j.vec_dot = g->vec_dot;
    j.y = Q.tmp;
    g->cold = qtime(r_gg_dot, &j, mt, ns, &st);
  }

  /* result rows */
  int ok_targets = !opt.quick && Q.rot > 0;
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    for (int s = -1; s < 2; s++)
      for (int ti = 0; ti < n_qthr; ti++) {
        int T = qthr[ti];
        if (s < 0 && T != 1) continue;
        size_t n = QS.n_dec[s < 0 ? 0 : s];
        char shape[96];
        if (s < 0)
          snprintf(shape, sizeof shape, "1x%zux%zu hot", n, k);
        else
          snprintf(shape, sizeof shape, "1x%zux%zu, %d copies (%.0f MiB)", n, k, QS.nrot[fi][s],
                   QS.nrot[fi][s] * (double)n * q_rowbytes(&L) / (double)MiB);
        result *r = q_result(f, qf_matmul_name(f), shape, isa, T);
        double bytes = (double)n * q_rowbytes(&L);
        snprintf(r->check, sizeof r->check, "%s", R->dec_chk);
        r->max_err = R->dec_err;
        r->t = s < 0 ? R->dec_hot : R->dec[s][ti];
        r->gbs = bytes / r->t * 1e-9;
        r->gflops = 2.0 * (double)n * (double)k / r->t * 1e-9;
        r->roof_kind = "dram";
        r->roof = roof_for(T)->bw;
        r->pct = 100.0 * r->gbs / r->roof;
        if (s < 0) {
          r->t_scalar = R->dec_scalar;
          r->speedup = R->dec_scalar / r->t;
        }
        if (s <= 0 && T == 1 && g->dot_ok) {
          r->ggml_name = "vec_dot";
          snprintf(r->ggml_check, sizeof r->ggml_check, "OK");
          r->t_ggml = s < 0 ? g->hot : g->cold;
          r->ggml_gbs = bytes / r->t_ggml * 1e-9;
          r->vs_ggml = r->t_ggml / r->t;
        }
        if (ok_targets && s == 0 && strcmp(isa, "scalar")) {
          double bits = q_bits(&L);
          if (bits >= 4 && T == qthr[n_qthr - 1] && T > 1)
            snprintf(r->target, sizeof r->target, ">= 90%% of DRAM bandwidth: %s", r->pct >= 90 ? "met" : "MISSED");
          else if (bits < 4 && f->kind == QK_GGUF && f->t >= GLLMK_IQ2_XXS && T == 1 && g->dot_ok)
            snprintf(r->target, sizeof r->target, ">= 2x ggml vec_dot: %s", r->vs_ggml >= 2 ? "met" : "MISSED");
        }
      }
  }
  q_progress_done();
}

/* ---------------------------------------------------------------- part 3: prefill GEMM */

/* ggml_mul_mat on the same weights and activations (the GGUF formats whose
 * to_float ggml decodes as gllmk does): checked on the first QCHK rows of W
 * against the bound of its activation quantization, then timed at both m
 * on every thread count */
static void q_prefill_ggml(int fi, int idx, int cnt, const qlayout *L)
{
  const qfmt *f = &qfmts[fi];
  qggml *g = &qgg[fi];
  size_t k = QS.k, n = QS.n_pre, chk = QCHK, m0 = QS.m_pre[0];
  for (int mi = 0; mi < 2; mi++)
    for (int ti = 0; ti < MAX_LIST; ti++) g->pre[mi][ti] = NAN;
  g->pre_err = NAN;
  snprintf(g->pre_chk, sizeof g->pre_chk, "-");
  if (f->kind != QK_GGUF || !gg.ok || !gg.mm_ok || !g->ok) return;
  const struct gg_traits_cpu *tc = gg.traits_cpu(f->t);
  const struct gg_traits *tv = tc ? gg.traits(tc->vec_dot_type) : NULL;
  if (!tv) return;
  q_exact(Q.ref, Q.x, m0, chk, k, (size_t)tv->blck_size, Q.bd2);
  for (int mi = 0; mi < 2; mi++) {
    size_t m = QS.m_pre[mi];
    gg_mm mm;
    if (!gg_mm_init(&mm, f->t, Q.w, L->rb, n, k, Q.x, m)) {
      snprintf(g->pre_chk, sizeof g->pre_chk, "ERROR");
      return;
    }
    if (mi == 0) {
      const float *y = gg_mm_y(&mm);
      int st = gg_mm_run(&mm, qthr[n_qthr - 1]);
      for (size_t i = 0; i < m0 && st == 0; i++)
        for (size_t r = 0; r < chk; r++) Q.tmp[i * chk + r] = y[i * n + r];
      g->pre_err = st == 0 ? q_err(Q.tmp, m0 * chk, Q.bd2) : INFINITY;
      snprintf(g->pre_chk, sizeof g->pre_chk, g->pre_err <= 1 ? "OK" : "BOUND");
      if (g->pre_err > 1)
        fprintf(stderr, "%s: ggml_mul_mat %s: error %.3g x its bound: not reported\n", prog, qf_name(f),
                g->pre_err);
    }
    for (int ti = 0; ti < n_qthr && !strcmp(g->pre_chk, "OK"); ti++) {
      if (mi == 1 && ti != n_qthr - 1) continue; /* as gllmk: the larger m on the most threads */
      char what[64];
      snprintf(what, sizeof what, "ggml_mul_mat m=%zu, %d thread(s)", m, qthr[ti]);
      q_progress("quant prefill", idx, cnt, qf_name(f), what);
      qjob j = q_job(L, n, m, qthr[ti], 1);
      j.yq = &mm;
      gllmk_status st;
      g->pre[mi][ti] = qtime(r_gg_mm, &j, opt.qmin_time, opt.qsamples, &st);
      if (st != GLLMK_OK) g->pre[mi][ti] = NAN;
    }
    gg_mm_free(&mm);
  }
}

void q_prefill(int fi, int idx, int cnt)
{
  const qfmt *f = &qfmts[fi];
  const char *name = qf_name(f);
  qlayout L = q_layout(f, QS.k);
  size_t k = QS.k, n = QS.n_pre, chk = QCHK, m0 = QS.m_pre[0];
  double mt = opt.qmin_time;
  int ns = opt.qsamples;
  gllmk_status st;
  q_progress("quant prefill", idx, cnt, name, "preparing");
  q_prepare(&L, n > QSUB ? n : QSUB, 3000 + (uint64_t)fi);

  gllmk_set_num_threads(1);
  double t_scalar = NAN;
  int ref_ok = gllmk_cpu_set_isa(scalar_ok() ? "scalar" : opt.isas[0]) == GLLMK_OK &&
               q_deq(&L, 0, chk, Q.ref) == GLLMK_OK;
  /* the int8 GEMM quantizes the activations as the decode path does; SqueezeLLM (and
   * GPTQ4 with groups changing inside 16 columns) take the f32 GEMM: exact products */
  if (ref_ok) q_exact(Q.ref, Q.x, m0, chk, k, f->kind == QK_SQUEEZE ? 0 : 32, Q.bd);
  if (ref_ok && scalar_ok()) {
    q_progress("quant prefill", idx, cnt, name, "scalar ISA");
    qjob j = q_job(&L, QSUB_PRE, m0, 1, 1);
    t_scalar = qtime(r_qmm, &j, mt / 4, 1, &st) * (double)n / (double)QSUB_PRE;
  }
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    if (gllmk_cpu_set_isa(isa) != GLLMK_OK) die("cannot select ISA %s", isa);
    R->pre_scalar = t_scalar;
    R->pre_err = 0;
    snprintf(R->pre_chk, sizeof R->pre_chk, ref_ok ? "OK" : "ERROR");
    for (int ti = 0; ti < n_qthr && ref_ok; ti++) {
      gllmk_set_num_threads(qthr[ti]);
      st = q_mm(&L, 0, Q.x, Q.y, m0, chk);
      double e = st == GLLMK_OK ? q_err(Q.y, m0 * chk, Q.bd) : INFINITY;
      if (st != GLLMK_OK)
        snprintf(R->pre_chk, sizeof R->pre_chk, "ERROR");
      else if (e > 1 && strcmp(R->pre_chk, "ERROR"))
        snprintf(R->pre_chk, sizeof R->pre_chk, "BOUND");
      if (e > R->pre_err) R->pre_err = e;
    }
    if (!strcmp(R->pre_chk, "BOUND"))
      fprintf(stderr, "%s: %s %s m=%zu isa %s: error %.3g x 1e-4 of sum |w x|\n", prog, qf_matmul_name(f), name, m0,
              isa, R->pre_err);
    q_count_check(R->pre_chk);
    for (int mi = 0; mi < 2; mi++)
      for (int ti = 0; ti < n_qthr; ti++) {
        char what[64];
        if (mi == 1 && ti != n_qthr - 1) continue; /* the larger m: only on the most threads (time) */
        snprintf(what, sizeof what, "m=%zu, %s, %d thread(s)", QS.m_pre[mi], isa, qthr[ti]);
        q_progress("quant prefill", idx, cnt, name, what);
        gllmk_set_num_threads(qthr[ti]);
        qjob j = q_job(&L, n, QS.m_pre[mi], 1, 1);
        R->pre[mi][ti] = qtime(r_qmm, &j, mt, ns, &st);
        if (st != GLLMK_OK) snprintf(R->pre_chk, sizeof R->pre_chk, "ERROR");
      }
  }
  q_prefill_ggml(fi, idx, cnt, &L);
  const qggml *g = &qgg[fi];
  for (int ii = 0; ii < opt.n_isas; ii++) {
    qres *R = &qres_[fi][ii];
    const char *isa = opt.isas[ii];
    for (int mi = 0; mi < 2; mi++)
      for (int ti = 0; ti < n_qthr; ti++) {
        int T = qthr[ti];
        char shape[96];
        size_t m = QS.m_pre[mi];
        if (!isfinite(R->pre[mi][ti])) continue;
        snprintf(shape, sizeof shape, "%zux%zux%zu", m, n, k);
        result *r = q_result(f, qf_matmul_name(f), shape, isa, T);
        snprintf(r->check, sizeof r->check, "%s", R->pre_chk);
        r->max_err = R->pre_err;
        r->t = R->pre[mi][ti];
        r->gflops = 2.0 * (double)m * (double)n * (double)k / r->t * 1e-9;
        r->gbs = (double)n * q_rowbytes(&L) / r->t * 1e-9;
        r->roof_kind = "fma";
        r->roof = roof_for(T)->peak[isa_class(isa)];
        r->pct = 100.0 * r->gflops / r->roof;
        if (mi == 0 && T == 1) {
          r->t_scalar = R->pre_scalar;
          r->speedup = R->pre_scalar / r->t;
        }
        if (isfinite(g->pre[mi][ti])) {
          r->ggml_name = "ggml_mul_mat";
          snprintf(r->ggml_check, sizeof r->ggml_check, "%s", g->pre_chk);
          r->t_ggml = g->pre[mi][ti];
          r->vs_ggml = r->t_ggml / r->t;
          if (f->t == GLLMK_Q4_K || f->t == GLLMK_Q8_0 || f->t == GLLMK_Q6_K || f->t == GLLMK_IQ4_XS)
            snprintf(r->target, sizeof r->target, ">= 2x ggml_mul_mat: %s", r->vs_ggml >= 2 ? "met" : "MISSED");
        }
      }
  }
  q_progress_done();
}
