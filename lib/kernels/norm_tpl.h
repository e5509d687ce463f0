/* norm_tpl.h -- row-wise softmax, RMSNorm, LayerNorm and the fused residual+RMSNorm epilogue
 * SPDX-License-Identifier: MIT
 *
 * One row of n >= 1 elements per call; out may alias x.  Passes over the row:
 * softmax 3 (max; exp and sum, storing e^(x-max); scale), rms_norm 2,
 * layer_norm 3 (mean; centred variance, which is exact for rows with a large
 * mean where E[x^2]-E[x]^2 is not; normalise).  Sums use the blas1 kernels'
 * accumulator tree.
 */
#define L VF32_LANES

void GLLMK_KNAME(softmax_row, TN)(size_t n, const T *x, T *out) {
  float mx = GLLMK_KNAME(max, TN)(n, x);
  vf32 vm = vf32_splat(mx), s0 = vf32_zero(), s1 = vf32_zero();
  size_t i = 0;
  /* pass 2 writes e^(x - max) to out (rounded to T: pass 3 re-reads it, as the
   * unfused composition would) */
  for (; i + 2 * L <= n; i += 2 * L) {   /* two independent exp chains per step */
    vf32 e0 = vf32_exp(vf32_sub(VLOAD(x + i), vm));
    vf32 e1 = vf32_exp(vf32_sub(VLOAD(x + i + L), vm));
    s0 = vf32_add(s0, e0);
    s1 = vf32_add(s1, e1);
    VSTORE(out + i, e0);
    VSTORE(out + i + L, e1);
  }
  for (; i + L <= n; i += L) {
    vf32 e = vf32_exp(vf32_sub(VLOAD(x + i), vm));
    s0 = vf32_add(s0, e);
    VSTORE(out + i, e);
  }
  if (i < n) {   /* lanes past the row are -inf, so e^(x-max) adds 0 there */
    vf32 e = vf32_exp(vf32_sub(gllmk__fill_tail(VLOAD_N(x + i, n - i), n - i, -INFINITY), vm));
    s1 = vf32_add(s1, e);
    VSTORE_N(out + i, n - i, e);
  }
  float sum = vf32_reduce_add(vf32_add(s0, s1));
  vf32 inv = vf32_splat(1.0f / sum);
  for (i = 0; i + L <= n; i += L) VSTORE(out + i, vf32_mul(VLOAD(out + i), inv));
  if (i < n) VSTORE_N(out + i, n - i, vf32_mul(VLOAD_N(out + i, n - i), inv));
}

void GLLMK_KNAME(rms_norm_row, TN)(size_t n, const T *x, const T *w, T *out, float eps) {
  float ss = GLLMK_KNAME(sumsq, TN)(n, x);
  vf32 r = vf32_splat(1.0f / sqrtf(ss / (float)n + eps));
  size_t i = 0;
  for (; i + L <= n; i += L) VSTORE(out + i, vf32_mul(vf32_mul(VLOAD(x + i), r), VLOAD(w + i)));
  if (i < n)
    VSTORE_N(out + i, n - i, vf32_mul(vf32_mul(VLOAD_N(x + i, n - i), r), VLOAD_N(w + i, n - i)));
}

void GLLMK_KNAME(layer_norm_row, TN)(size_t n, const T *x, const T *g, const T *b, T *out,
                                     float eps) {
  float mean = GLLMK_KNAME(sum, TN)(n, x) / (float)n;
  vf32 vm = vf32_splat(mean), a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {   /* four chains hide the FMA latency */
    vf32 d0 = vf32_sub(VLOAD(x + i), vm), d1 = vf32_sub(VLOAD(x + i + L), vm);
    vf32 d2 = vf32_sub(VLOAD(x + i + 2 * L), vm), d3 = vf32_sub(VLOAD(x + i + 3 * L), vm);
    a0 = vf32_fma(d0, d0, a0);
    a1 = vf32_fma(d1, d1, a1);
    a2 = vf32_fma(d2, d2, a2);
    a3 = vf32_fma(d3, d3, a3);
  }
  for (; i + L <= n; i += L) {
    vf32 d = vf32_sub(VLOAD(x + i), vm);
    a0 = vf32_fma(d, d, a0);
  }
  if (i < n) {
    /* zero-filled lanes would contribute mean^2: fill the tail with the mean */
    vf32 d = vf32_sub(gllmk__fill_tail(VLOAD_N(x + i, n - i), n - i, mean), vm);
    a1 = vf32_fma(d, d, a1);
  }
  float var = vf32_reduce_add(vf32_add(vf32_add(a0, a1), vf32_add(a2, a3))) / (float)n;
  float rs = 1.0f / sqrtf(var + eps);
  vf32 vr = vf32_splat(rs);
  for (i = 0; i + L <= n; i += L) {
    vf32 y = vf32_mul(vf32_sub(VLOAD(x + i), vm), vr);
    VSTORE(out + i, vf32_fma(y, VLOAD(g + i), VLOAD(b + i)));
  }
  if (i < n) {
    size_t r = n - i;
    vf32 y = vf32_mul(vf32_sub(VLOAD_N(x + i, r), vm), vr);
    VSTORE_N(out + i, r, vf32_fma(y, VLOAD_N(g + i, r), VLOAD_N(b + i, r)));
  }
}

/* s = acc + bias + residual (bias, residual may be NULL); sum_out = s (if not
 * NULL); out = rms_norm(s) * w.  acc is f32 scratch and receives s. */
void GLLMK_KNAME(residual_rms_norm_row, TN)(size_t n, const float *acc_in, const T *bias,
                                            const T *residual, const T *w, T *out, T *sum_out,
                                            float eps) {
  float *acc = (float *)acc_in;
  vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero();
  size_t i = 0;
  for (; i < n; i += L) {
    size_t r = n - i < L ? n - i : L;
    vf32 s = r == L ? vf32_loadu(acc + i) : vf32_load_n(acc + i, r);
    if (bias) s = vf32_add(s, r == L ? VLOAD(bias + i) : VLOAD_N(bias + i, r));
    if (residual) s = vf32_add(s, r == L ? VLOAD(residual + i) : VLOAD_N(residual + i, r));
    if (r == L) {
      vf32_storeu(acc + i, s);
      if ((i / L) & 1) a1 = vf32_fma(s, s, a1);
      else a0 = vf32_fma(s, s, a0);
    } else {
      vf32_store_n(acc + i, r, s);
      a2 = vf32_fma(s, s, a2);
    }
  }
  float ss = vf32_reduce_add(vf32_add(vf32_add(a0, a1), a2));
  vf32 rs = vf32_splat(1.0f / sqrtf(ss / (float)n + eps));
  for (i = 0; i < n; i += L) {
    size_t r = n - i < L ? n - i : L;
    vf32 s = vf32_load_n(acc + i, r);
    if (sum_out) VSTORE_N(sum_out + i, r, s);
    VSTORE_N(out + i, r, vf32_mul(vf32_mul(s, rs), VLOAD_N(w + i, r)));
  }
}

#undef L
