/* attention_tpl.h -- flash attention (one pass, online softmax) over contiguous or paged K/V
 * SPDX-License-Identifier: MIT
 *
 * One call handles kv head kvh and query positions q0..q1-1 (at most
 * GLLMK_ATTN_QB) for every query head of kvh's GQA group, so each K/V block
 * is converted and read once for QB x group rows.  Per block of BK keys:
 *   Kt = K_block^T (f32, d x BK)                    packed once per block
 *   S  = (scale q) Kt                                 vectorised over keys
 *   m' = max(m, max S);  P = e^(S - m');  l = l e^(m - m') + sum P
 *   O  = O e^(m - m') + P V                           vectorised over d
 * and finally out = O / l (a query that sees no key gets zeros).  Causal:
 * query i sees keys j <= i + kv_len - q_len.  Memory: the workspace of
 * gllmk__attn_ws_floats(), independent of kv_len.
 */
#define L VF32_LANES
#define BK GLLMK_ATTN_BK

static inline const T *GLLMK_LOCAL(attn_row)(const struct gllmk__attn *a, const T *base,
                                             size_t j, size_t kvh) {
  size_t slot = a->page_table
      ? (size_t)a->page_table[j / a->page_size] * a->page_size + j % a->page_size : j;
  return base + (slot * a->kv_heads + kvh) * a->head_dim;
}

void GLLMK_KNAME(attention, TN)(const struct gllmk__attn *a, size_t kvh, size_t q0, size_t q1,
                                float *ws) {
  const size_t d = a->head_dim, g = a->heads / a->kv_heads, rows = (q1 - q0) * g;
  const T *q = (const T *)a->q, *kb = (const T *)a->k, *vb = (const T *)a->v;
  T *out = (T *)a->out;
  float *Q = ws, *O = Q + rows * d, *S = O + rows * d, *Kt = S + rows * BK;
  float *M = Kt + (size_t)BK * d, *Lsum = M + rows, *Alpha = Lsum + rows, *Nb = Alpha + rows;
  float *Ks = Nb + rows;
  const size_t ldk = d + 16;                       /* staged K rows, padded against aliasing */
  /* last key (exclusive) each row may see; causal offset kv_len - q_len may be negative */
  size_t lim[GLLMK_ATTN_QB];
  size_t jmax = 0;
  for (size_t t = q0; t < q1; t++) {
    size_t e = a->kv_len;
    if (a->causal) {
      /* keys j with j <= t + kv_len - q_len, i.e. j < t + 1 + kv_len - q_len */
      e = t + 1 + a->kv_len >= a->q_len ? t + 1 + a->kv_len - a->q_len : 0;
      if (e > a->kv_len) e = a->kv_len;
    }
    lim[t - q0] = e;
    if (e > jmax) jmax = e;
  }
  vf32 vscale = vf32_splat(a->scale);
  for (size_t r = 0; r < rows; r++) {
    size_t t = q0 + r / g, h = kvh * g + r % g;
    const T *qr = q + (t * a->heads + h) * d;
    float *Qr = Q + r * d;
    GLLMK_KNAME(to_f32, TN)(d, qr, Qr);
    for (size_t p = 0; p < d; p += L) {
      size_t c = d - p < L ? d - p : L;
      vf32_store_n(Qr + p, c, vf32_mul(vf32_load_n(Qr + p, c), vscale));
    }
    memset(O + r * d, 0, d * sizeof(float));
    M[r] = -INFINITY;
    Lsum[r] = 0.0f;
  }
  for (size_t j0 = 0; j0 < jmax; j0 += BK) {
    size_t bk = jmax - j0 < BK ? jmax - j0 : BK;
    const T *vrow[BK];
    for (size_t jj = 0; jj < bk; jj++) vrow[jj] = GLLMK_LOCAL(attn_row)(a, vb, j0 + jj, kvh);
    /* Kt = K_block^T: stage the rows as f32, then transpose L x L blocks */
    for (size_t jj = 0; jj < BK; jj++) {
      if (jj < bk) GLLMK_KNAME(to_f32, TN)(d, GLLMK_LOCAL(attn_row)(a, kb, j0 + jj, kvh), Ks + jj * ldk);
      else memset(Ks + jj * ldk, 0, d * sizeof(float));
    }
    for (size_t jj = 0; jj < BK; jj += L)
      for (size_t p = 0; p < d; p += L)
        vf32_transpose_tile(Kt + p * BK + jj, BK, Ks + jj * ldk + p, ldk, L, d - p < L ? d - p : L);
    /* S = Q Kt for two rows and 4 L keys at a time (4 L divides BK for
     * every L <= 16): 8 accumulators share each Kt load */
    for (size_t r = 0; r < rows; r += 2) {
      const float *Q0 = Q + r * d, *Q1 = r + 1 < rows ? Q0 + d : Q0;
      for (size_t j = 0; j < BK; j += 4 * L) {
        vf32 s00 = vf32_zero(), s01 = s00, s02 = s00, s03 = s00;
        vf32 s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (size_t p = 0; p < d; p++) {
          vf32 a0 = vf32_splat(Q0[p]), a1 = vf32_splat(Q1[p]);
          const float *kt = Kt + p * BK + j;
          vf32 k0 = vf32_loadu(kt), k1 = vf32_loadu(kt + L);
          vf32 k2 = vf32_loadu(kt + 2 * L), k3 = vf32_loadu(kt + 3 * L);
          s00 = vf32_fma(a0, k0, s00), s01 = vf32_fma(a0, k1, s01);
          s02 = vf32_fma(a0, k2, s02), s03 = vf32_fma(a0, k3, s03);
          s10 = vf32_fma(a1, k0, s10), s11 = vf32_fma(a1, k1, s11);
          s12 = vf32_fma(a1, k2, s12), s13 = vf32_fma(a1, k3, s13);
        }
        float *S0 = S + r * BK + j;
        vf32_storeu(S0, s00), vf32_storeu(S0 + L, s01);
        vf32_storeu(S0 + 2 * L, s02), vf32_storeu(S0 + 3 * L, s03);
        if (r + 1 < rows) {
          float *S1 = S0 + BK;
          vf32_storeu(S1, s10), vf32_storeu(S1 + L, s11);
          vf32_storeu(S1 + 2 * L, s12), vf32_storeu(S1 + 3 * L, s13);
        }
      }
    }
    /* online softmax of each row's scores: P (in S), alpha = e^(m - m') and
     * the number of keys nb the row sees in this block (0: nothing to add) */
    for (size_t r = 0; r < rows; r++) {
      size_t e = lim[r / g];
      Nb[r] = 0.0f;
      if (e <= j0) continue;                        /* this row sees no key of the block */
      size_t nb = e - j0 < bk ? e - j0 : bk;
      float *Sr = S + r * BK;
      float mb = GLLMK_KNAME_(max, f32, GLLMK_ISA)(nb, Sr);
      float mnew = mb > M[r] ? mb : M[r];
      if (mb != mb) mnew = mb;                      /* NaN scores poison the row, as in the reference */
      if (mnew == -INFINITY) continue;              /* every score so far is -inf */
      float alpha = M[r] == -INFINITY ? 0.0f : expf(M[r] - mnew);
      vf32 vm = vf32_splat(mnew), ps = vf32_zero();
      size_t jj = 0;
      for (; jj + L <= nb; jj += L) {
        vf32 pv = vf32_exp(vf32_sub(vf32_loadu(Sr + jj), vm));
        ps = vf32_add(ps, pv);
        vf32_storeu(Sr + jj, pv);
      }
      if (jj < nb) {
        vf32 pv = vf32_exp(vf32_sub(vf32_load_n_or(Sr + jj, nb - jj, -INFINITY), vm));
        ps = vf32_add(ps, pv);
        vf32_store_n(Sr + jj, nb - jj, pv);
      }
      Lsum[r] = Lsum[r] * alpha + vf32_reduce_add(ps);
      M[r] = mnew;
      Alpha[r] = alpha;
      Nb[r] = (float)nb;
    }
    /* O = alpha O + P V, two rows with the same keys at a time (they share
     * each V load), four vectors of d per step so that eight independent
     * accumulators hide the FMA latency; then single vectors and tails */
    for (size_t r = 0; r < rows;) {
      size_t nb = (size_t)Nb[r];
      if (nb == 0) { r++; continue; }
      bool two = r + 1 < rows && (size_t)Nb[r + 1] == nb;
      size_t r1 = two ? r + 1 : r;
      const float *P0 = S + r * BK, *P1 = S + r1 * BK;
      float *O0 = O + r * d, *O1 = O + r1 * d;
      vf32 va0 = vf32_splat(Alpha[r]), va1 = vf32_splat(Alpha[r1]);
      size_t p = 0;
      for (; p + 4 * L <= d; p += 4 * L) {
        float *A0 = O0 + p, *A1 = O1 + p;
        vf32 o00 = vf32_mul(vf32_loadu(A0), va0), o01 = vf32_mul(vf32_loadu(A0 + L), va0);
        vf32 o02 = vf32_mul(vf32_loadu(A0 + 2 * L), va0), o03 = vf32_mul(vf32_loadu(A0 + 3 * L), va0);
        vf32 o10 = vf32_mul(vf32_loadu(A1), va1), o11 = vf32_mul(vf32_loadu(A1 + L), va1);
        vf32 o12 = vf32_mul(vf32_loadu(A1 + 2 * L), va1), o13 = vf32_mul(vf32_loadu(A1 + 3 * L), va1);
        for (size_t k = 0; k < nb; k++) {
          vf32 w0 = vf32_splat(P0[k]), w1 = vf32_splat(P1[k]);
          const T *vr = vrow[k] + p;
          vf32 v0 = VLOAD(vr), v1 = VLOAD(vr + L), v2 = VLOAD(vr + 2 * L), v3 = VLOAD(vr + 3 * L);
          o00 = vf32_fma(w0, v0, o00), o01 = vf32_fma(w0, v1, o01);
          o02 = vf32_fma(w0, v2, o02), o03 = vf32_fma(w0, v3, o03);
          o10 = vf32_fma(w1, v0, o10), o11 = vf32_fma(w1, v1, o11);
          o12 = vf32_fma(w1, v2, o12), o13 = vf32_fma(w1, v3, o13);
        }
        vf32_storeu(A0, o00), vf32_storeu(A0 + L, o01);
        vf32_storeu(A0 + 2 * L, o02), vf32_storeu(A0 + 3 * L, o03);
        if (two) {
          vf32_storeu(A1, o10), vf32_storeu(A1 + L, o11);
          vf32_storeu(A1 + 2 * L, o12), vf32_storeu(A1 + 3 * L, o13);
        }
      }
      for (; p < d; p += L) {
        size_t c = d - p < L ? d - p : L;
        vf32 o0 = vf32_mul(vf32_load_n(O0 + p, c), va0), o1 = vf32_mul(vf32_load_n(O1 + p, c), va1);
        for (size_t k = 0; k < nb; k++) {
          vf32 vv = VLOAD_N(vrow[k] + p, c);
          o0 = vf32_fma(vf32_splat(P0[k]), vv, o0);
          o1 = vf32_fma(vf32_splat(P1[k]), vv, o1);
        }
        vf32_store_n(O0 + p, c, o0);
        if (two) vf32_store_n(O1 + p, c, o1);
      }
      r += two ? 2 : 1;
    }
  }
  for (size_t r = 0; r < rows; r++) {
    size_t t = q0 + r / g, h = kvh * g + r % g;
    T *orow = out + (t * a->heads + h) * d;
    float *Or = O + r * d;
    /* no key seen: l = 0 and O = 0, so zeros; NaN scores: l is NaN and so is the row */
    float ls = Lsum[r];
    vf32 inv = vf32_splat(ls > 0.0f ? 1.0f / ls : ls == 0.0f ? 0.0f : NAN);
    for (size_t p = 0; p < d; p += L) {
      size_t c = d - p < L ? d - p : L;
      VSTORE_N(orow + p, c, vf32_mul(vf32_load_n(Or + p, c), inv));
    }
  }
}

#undef L
#undef BK
