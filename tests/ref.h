/* ref.h -- independent double-precision reference of the Table A operators
 * SPDX-License-Identifier: MIT
 *
 * Plain C, written from the contract in include/gllmk/ops.h and DESIGN.md
 * Table A only (no code shared with lib/).  Arguments mirror the public
 * functions, with every element array in double.  No validation: callers
 * pass consistent shapes.
 */
#ifndef GLLMK_TESTS_REF_H
#define GLLMK_TESTS_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BLAS-1 */
double ref_vec_dot(const double *a, const double *b, size_t n);
void ref_vec_add(const double *a, const double *b, double *out, size_t n);
void ref_vec_sub(const double *a, const double *b, double *out, size_t n);
void ref_vec_mul(const double *a, const double *b, double *out, size_t n);
void ref_vec_scale(double *x, double s, size_t n);
void ref_vec_axpy(double *y, double a, const double *x, size_t n);
double ref_vec_sum(const double *x, size_t n);
/** max; NaN if any element is NaN; n >= 1. */
double ref_vec_max(const double *x, size_t n);
double ref_vec_sum_squares(const double *x, size_t n);

/* BLAS-2/3 (row-major) */
void ref_gemv(const double *A, const double *x, double *y, size_t m, size_t n);
void ref_gemm(const double *A, const double *B, double *C, size_t m, size_t n, size_t k);
void ref_gemm_bias(const double *A, const double *B, const double *bias, double *C,
                   size_t m, size_t n, size_t k);
/** y[m x n] = x[m x k] . w[n x k]^T (a linear layer with W[out x in]). */
void ref_linear(const double *x, const double *w, double *y, size_t m, size_t n, size_t k);

/* activations, one element */
double ref_silu1(double x);
double ref_gelu1(double x);
double ref_relu1(double x);
double ref_tanh1(double x);
double ref_exp1(double x);
/* activations, arrays */
void ref_silu(const double *x, double *out, size_t n);
void ref_gelu(const double *x, double *out, size_t n);
void ref_relu(const double *x, double *out, size_t n);
void ref_tanh(const double *x, double *out, size_t n);
void ref_exp(const double *x, double *out, size_t n);
void ref_swiglu(const double *gate, const double *up, double *out, size_t n);

/* norms */
void ref_softmax(const double *x, double *out, size_t rows, size_t n);
void ref_rms_norm(const double *x, const double *w, double *out, size_t rows, size_t n,
                  double eps);
void ref_layer_norm(const double *x, const double *gamma, const double *beta, double *out,
                    size_t rows, size_t n, double eps);

/* position */
void ref_rope(double *qk, const double *cos, const double *sin, size_t seq, size_t heads,
              size_t head_dim, size_t rotary_dim, bool interleaved);
void ref_rope_with_pos(double *qk, const double *cos, const double *sin, size_t seq,
                       size_t heads, size_t head_dim, size_t rotary_dim, bool interleaved,
                       size_t pos);

/* lookup */
void ref_embedding_lookup(const uint32_t *ids, size_t n_ids, const double *table,
                          size_t vocab, size_t hidden, double *out);

/* attention */
void ref_flash_attention(const double *q, const double *k, const double *v, double *out,
                         size_t q_len, size_t kv_len, size_t heads, size_t kv_heads,
                         size_t head_dim, double scale, bool causal);
void ref_flash_attention_paged(const double *q, const double *k_cache, const double *v_cache,
                               const uint32_t *page_table, double *out, size_t seq,
                               size_t cache_len, size_t heads, size_t kv_heads,
                               size_t head_dim, size_t page_size, size_t n_pages,
                               double scale);

/* fused */
void ref_fused_qkv_rope(const double *x, const double *wq, const double *wk, const double *wv,
                        const double *cos, const double *sin, double *q, double *k, double *v,
                        size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                        size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos);
void ref_fused_gate_up_swiglu(const double *x, const double *w_gate, const double *w_up,
                              double *out, size_t m, size_t n, size_t k);
/** residual may be NULL (zero). */
void ref_fused_ffn(const double *x, const double *w_gate, const double *w_up,
                   const double *w_down, const double *residual, double *out, size_t m,
                   size_t hidden, size_t ffn);
/** sum_out may be NULL; residual may be NULL (zero). */
void ref_fused_ffn_rmsnorm(const double *x, const double *w_gate, const double *w_up,
                           const double *w_down, const double *residual, const double *norm_w,
                           double *out, double *sum_out, size_t m, size_t hidden, size_t ffn,
                           double eps);
void ref_fused_linear_residual_rmsnorm(const double *x, const double *w, const double *residual,
                                       const double *norm_w, double *out, double *sum_out,
                                       size_t m, size_t n, size_t k, double eps);
void ref_fused_linear_bias_residual_rmsnorm(const double *x, const double *w,
                                            const double *bias, const double *residual,
                                            const double *norm_w, double *out,
                                            double *sum_out, size_t m, size_t n, size_t k,
                                            double eps);

/* error bounds of the fused-op tests */
/** tol = the bound after rope (interleaved or not, table rows pos..) of pre,
 *  whose elements carry the errors err: |c| err_a + |s| err_b + 2^-22 (|a c| + |b s|). */
void ref_rope_err(const double *pre, const double *err, const double *cs, const double *sn,
                  double *tol, size_t seq, size_t heads, size_t hd, size_t rot, bool il,
                  size_t pos);
/** out = rms_norm(s) . w, and tol its bound from the errors es of s:
 *  |w| es / rms + |out| (rms(es) / rms + 1e-5 + 1e-6 sqrt(n)). */
void ref_rms_norm_err(const double *s, const double *es, const double *w, double *out,
                      double *tol, size_t m, size_t n, double eps);

#endif /* GLLMK_TESTS_REF_H */
