/* ref.c -- independent double-precision reference of the Table A operators
 * SPDX-License-Identifier: MIT
 *
 * Straightforward loops in double, written from ops.h / DESIGN.md Table A.
 * Accuracy is far better than any f32 kernel, so the tests can treat these
 * values as exact (special cases, e.g. silu(-inf) and the GELU tail, are
 * computed so that they do not lose precision in double either).
 */
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n doubles (at least one, so that n == 0 is not a failure); aborts on OOM */
static double *ref_alloc(size_t n)
{
  double *p = malloc((n ? n : 1) * sizeof *p);
  if (!p)
    abort();
  return p;
}

/* ------------------------------------------------------------------ BLAS-1 */
double ref_vec_dot(const double *a, const double *b, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

void ref_vec_add(const double *a, const double *b, double *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] + b[i];
}

void ref_vec_sub(const double *a, const double *b, double *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] - b[i];
}

void ref_vec_mul(const double *a, const double *b, double *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] * b[i];
}

void ref_vec_scale(double *x, double s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = s * x[i];
}

void ref_vec_axpy(double *y, double a, const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = y[i] + a * x[i];
}

double ref_vec_sum(const double *x, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  return s;
}

double ref_vec_max(const double *x, size_t n)
{
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (isnan(x[i]))
      return NAN;
    if (x[i] > m)
      m = x[i];
  }
  return m;
}

double ref_vec_sum_squares(const double *x, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += x[i] * x[i];
  return s;
}

/* ------------------------------------------------------------------ BLAS-2/3 */
void ref_gemv(const double *A, const double *x, double *y, size_t m, size_t n)
{
  for (size_t i = 0; i < m; i++)
    y[i] = ref_vec_dot(A + i * n, x, n);
}

void ref_gemm(const double *A, const double *B, double *C, size_t m, size_t n, size_t k)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0.0;
      for (size_t l = 0; l < k; l++)
        s += A[i * k + l] * B[l * n + j];
      C[i * n + j] = s;
    }
}

void ref_gemm_bias(const double *A, const double *B, const double *bias, double *C,
                   size_t m, size_t n, size_t k)
{
  ref_gemm(A, B, C, m, n, k);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      C[i * n + j] += bias[j];
}

void ref_linear(const double *x, const double *w, double *y, size_t m, size_t n, size_t k)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      y[i * n + j] = ref_vec_dot(x + i * k, w + j * k, k);
}

/* ------------------------------------------------------------------ activations */
double ref_silu1(double x)
{
  if (isnan(x))
    return x;
  if (x == -INFINITY)
    return -0.0;
  if (x < 0) {
    /* x * e^x / (1 + e^x): no overflow of e^-x for large |x| */
    double e = exp(x);
    return x * e / (1.0 + e);
  }
  return x / (1.0 + exp(-x));
}

double ref_gelu1(double x)
{
  if (isnan(x))
    return x;
  if (x == -INFINITY)
    return -0.0;
  if (x == INFINITY)
    return INFINITY;
  /* x/2 * (1 + erf(x/sqrt2)) == x/2 * erfc(-x/sqrt2): no cancellation for x < 0 */
  return 0.5 * x * erfc(-x / sqrt(2.0));
}

double ref_relu1(double x)
{
  if (isnan(x))
    return x;
  return x > 0 ? x : 0.0;
}

double ref_tanh1(double x) { return tanh(x); }
double ref_exp1(double x) { return exp(x); }

#define REF_MAP(name, f)                                  \
  void name(const double *x, double *out, size_t n)       \
  {                                                       \
    for (size_t i = 0; i < n; i++)                        \
      out[i] = f(x[i]);                                   \
  }
REF_MAP(ref_silu, ref_silu1)
REF_MAP(ref_gelu, ref_gelu1)
REF_MAP(ref_relu, ref_relu1)
REF_MAP(ref_tanh, ref_tanh1)
REF_MAP(ref_exp, ref_exp1)
#undef REF_MAP

void ref_swiglu(const double *gate, const double *up, double *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = ref_silu1(gate[i]) * up[i];
}

/* ------------------------------------------------------------------ norms */
void ref_softmax(const double *x, double *out, size_t rows, size_t n)
{
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * n;
    double *o = out + r * n;
    double m = n ? ref_vec_max(xr, n) : 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
      s += exp(xr[i] - m);
    for (size_t i = 0; i < n; i++)
      o[i] = exp(xr[i] - m) / s;
  }
}

void ref_rms_norm(const double *x, const double *w, double *out, size_t rows, size_t n,
                  double eps)
{
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * n;
    double ms = n ? ref_vec_sum_squares(xr, n) / (double)n : 0.0;
    double inv = 1.0 / sqrt(ms + eps);
    for (size_t i = 0; i < n; i++)
      out[r * n + i] = xr[i] * inv * w[i];
  }
}

void ref_layer_norm(const double *x, const double *gamma, const double *beta, double *out,
                    size_t rows, size_t n, double eps)
{
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * n;
    if (!n)
      continue;
    double mu = ref_vec_sum(xr, n) / (double)n;
    double var = 0.0;
    for (size_t i = 0; i < n; i++)
      var += (xr[i] - mu) * (xr[i] - mu);
    var /= (double)n; /* biased */
    double inv = 1.0 / sqrt(var + eps);
    for (size_t i = 0; i < n; i++)
      out[r * n + i] = (xr[i] - mu) * inv * gamma[i] + beta[i];
  }
}

/* ------------------------------------------------------------------ position */
void ref_rope_with_pos(double *qk, const double *cos, const double *sin, size_t seq,
                       size_t heads, size_t head_dim, size_t rotary_dim, bool interleaved,
                       size_t pos)
{
  size_t half = rotary_dim / 2;
  for (size_t t = 0; t < seq; t++) {
    const double *c = cos + (pos + t) * half;
    const double *s = sin + (pos + t) * half;
    for (size_t h = 0; h < heads; h++) {
      double *x = qk + (t * heads + h) * head_dim;
      for (size_t i = 0; i < half; i++) {
        size_t ia = interleaved ? 2 * i : i;
        size_t ib = interleaved ? 2 * i + 1 : i + half;
        double a = x[ia], b = x[ib];
        x[ia] = a * c[i] - b * s[i];
        x[ib] = b * c[i] + a * s[i];
      }
    }
  }
}

void ref_rope(double *qk, const double *cos, const double *sin, size_t seq, size_t heads,
              size_t head_dim, size_t rotary_dim, bool interleaved)
{
  ref_rope_with_pos(qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, 0);
}

/* ------------------------------------------------------------------ lookup */
void ref_embedding_lookup(const uint32_t *ids, size_t n_ids, const double *table,
                          size_t vocab, size_t hidden, double *out)
{
  (void)vocab;
  for (size_t i = 0; i < n_ids; i++)
    memcpy(out + i * hidden, table + (size_t)ids[i] * hidden, hidden * sizeof *out);
}

/* ------------------------------------------------------------------ attention */
void ref_flash_attention(const double *q, const double *k, const double *v, double *out,
                         size_t q_len, size_t kv_len, size_t heads, size_t kv_heads,
                         size_t head_dim, double scale, bool causal)
{
  size_t group = heads / kv_heads;
  double *s = ref_alloc(kv_len);
  for (size_t t = 0; t < q_len; t++) {
    /* number of keys query t sees */
    size_t nvis = kv_len;
    if (causal) {
      long long last = (long long)t + (long long)kv_len - (long long)q_len;
      nvis = last < 0 ? 0 : (size_t)last + 1;
      if (nvis > kv_len)
        nvis = kv_len;
    }
    for (size_t h = 0; h < heads; h++) {
      size_t kh = h / group;
      const double *qv = q + (t * heads + h) * head_dim;
      double *o = out + (t * heads + h) * head_dim;
      for (size_t d = 0; d < head_dim; d++)
        o[d] = 0.0;
      if (!nvis)
        continue;
      double m = -INFINITY;
      for (size_t j = 0; j < nvis; j++) {
        s[j] = scale * ref_vec_dot(qv, k + (j * kv_heads + kh) * head_dim, head_dim);
        if (s[j] > m)
          m = s[j];
      }
      double sum = 0.0;
      for (size_t j = 0; j < nvis; j++) {
        s[j] = exp(s[j] - m);
        sum += s[j];
      }
      for (size_t j = 0; j < nvis; j++) {
        const double *vv = v + (j * kv_heads + kh) * head_dim;
        double p = s[j] / sum;
        for (size_t d = 0; d < head_dim; d++)
          o[d] += p * vv[d];
      }
    }
  }
  free(s);
}

void ref_flash_attention_paged(const double *q, const double *k_cache, const double *v_cache,
                               const uint32_t *page_table, double *out, size_t seq,
                               size_t cache_len, size_t heads, size_t kv_heads,
                               size_t head_dim, size_t page_size, size_t n_pages,
                               double scale)
{
  size_t tok = kv_heads * head_dim;
  double *k = ref_alloc(cache_len * tok);
  double *v = ref_alloc(cache_len * tok);
  (void)n_pages;
  for (size_t t = 0; t < cache_len; t++) {
    size_t page = page_table[t / page_size], slot = t % page_size;
    size_t src = (page * page_size + slot) * tok;
    memcpy(k + t * tok, k_cache + src, tok * sizeof *k);
    memcpy(v + t * tok, v_cache + src, tok * sizeof *v);
  }
  ref_flash_attention(q, k, v, out, seq, cache_len, heads, kv_heads, head_dim, scale, true);
  free(k);
  free(v);
}

/* ------------------------------------------------------------------ fused */
void ref_fused_qkv_rope(const double *x, const double *wq, const double *wk, const double *wv,
                        const double *cos, const double *sin, double *q, double *k, double *v,
                        size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                        size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos)
{
  ref_linear(x, wq, q, seq, heads * head_dim, hidden);
  ref_linear(x, wk, k, seq, kv_heads * head_dim, hidden);
  ref_linear(x, wv, v, seq, kv_heads * head_dim, hidden);
  ref_rope_with_pos(q, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, pos);
  ref_rope_with_pos(k, cos, sin, seq, kv_heads, head_dim, rotary_dim, interleaved, pos);
}

void ref_fused_gate_up_swiglu(const double *x, const double *w_gate, const double *w_up,
                              double *out, size_t m, size_t n, size_t k)
{
  double *g = ref_alloc(m * n);
  double *u = ref_alloc(m * n);
  ref_linear(x, w_gate, g, m, n, k);
  ref_linear(x, w_up, u, m, n, k);
  ref_swiglu(g, u, out, m * n);
  free(g);
  free(u);
}

void ref_fused_ffn(const double *x, const double *w_gate, const double *w_up,
                   const double *w_down, const double *residual, double *out, size_t m,
                   size_t hidden, size_t ffn)
{
  double *h = ref_alloc(m * ffn);
  double *y = ref_alloc(m * hidden);
  ref_fused_gate_up_swiglu(x, w_gate, w_up, h, m, ffn, hidden);
  ref_linear(h, w_down, y, m, hidden, ffn);
  for (size_t i = 0; i < m * hidden; i++)
    out[i] = (residual ? residual[i] : 0.0) + y[i];
  free(h);
  free(y);
}

void ref_fused_ffn_rmsnorm(const double *x, const double *w_gate, const double *w_up,
                           const double *w_down, const double *residual, const double *norm_w,
                           double *out, double *sum_out, size_t m, size_t hidden, size_t ffn,
                           double eps)
{
  double *s = ref_alloc(m * hidden);
  ref_fused_ffn(x, w_gate, w_up, w_down, residual, s, m, hidden, ffn);
  ref_rms_norm(s, norm_w, out, m, hidden, eps);
  if (sum_out)
    memcpy(sum_out, s, m * hidden * sizeof *s);
  free(s);
}

void ref_fused_linear_residual_rmsnorm(const double *x, const double *w, const double *residual,
                                       const double *norm_w, double *out, double *sum_out,
                                       size_t m, size_t n, size_t k, double eps)
{
  ref_fused_linear_bias_residual_rmsnorm(x, w, NULL, residual, norm_w, out, sum_out, m, n, k,
                                         eps);
}

void ref_fused_linear_bias_residual_rmsnorm(const double *x, const double *w,
                                            const double *bias, const double *residual,
                                            const double *norm_w, double *out,
                                            double *sum_out, size_t m, size_t n, size_t k,
                                            double eps)
{
  double *s = ref_alloc(m * n);
  ref_linear(x, w, s, m, n, k);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      s[i * n + j] += (bias ? bias[j] : 0.0) + (residual ? residual[i * n + j] : 0.0);
  ref_rms_norm(s, norm_w, out, m, n, eps);
  if (sum_out)
    memcpy(sum_out, s, m * n * sizeof *s);
  free(s);
}

/* ------------------------------------------------------------------ error bounds
 * Propagation of a known error bound through rope and rms_norm, shared by the
 * tests of the fused ops (test_fused.c, test_qops.c). */

void ref_rope_err(const double *pre, const double *err, const double *cs, const double *sn,
                  double *tol, size_t seq, size_t heads, size_t hd, size_t rot, bool il,
                  size_t pos)
{
  size_t half = rot / 2;
  for (size_t t = 0; t < seq; t++)
    for (size_t h = 0; h < heads; h++) {
      size_t base = (t * heads + h) * hd;
      for (size_t d = 0; d < hd; d++)
        tol[base + d] = err[base + d];
      for (size_t i = 0; i < half; i++) {
        size_t ia = base + (il ? 2 * i : i), ib = base + (il ? 2 * i + 1 : i + half);
        double c = cs[(pos + t) * half + i], s = sn[(pos + t) * half + i];
        double a = pre[ia], b = pre[ib];
        tol[ia] = fabs(c) * err[ia] + fabs(s) * err[ib] + 0x1p-22 * (fabs(a * c) + fabs(b * s));
        tol[ib] = fabs(c) * err[ib] + fabs(s) * err[ia] + 0x1p-22 * (fabs(b * c) + fabs(a * s));
      }
    }
}

void ref_rms_norm_err(const double *s, const double *es, const double *w, double *out, double *tol,
                      size_t m, size_t n, double eps)
{
  ref_rms_norm(s, w, out, m, n, eps);
  for (size_t r = 0; r < m; r++) {
    double ss = 0, se = 0;
    for (size_t i = 0; i < n; i++) {
      ss += s[r * n + i] * s[r * n + i];
      se += es[r * n + i] * es[r * n + i];
    }
    double rms = sqrt(ss / (double)n + eps), erms = sqrt(se / (double)n);
    for (size_t i = 0; i < n; i++)
      tol[r * n + i] = fabs(w[i]) * es[r * n + i] / rms
                       + fabs(out[r * n + i]) * (erms / rms + 1e-5 + 1e-6 * sqrt((double)n));
  }
}
