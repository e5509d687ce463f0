/* packed_tpl.h -- the ops that take packed weights, for one element type T
 * SPDX-License-Identifier: MIT
 *
 * Instantiated by ops.c after ops_tpl.h, whose static bodies they share: each
 * checks its packed weights (gllmk__pw_panels: the header, the ISA, the
 * element type and the shape the op expects), then runs the unpacked op's
 * body with the panels in place of W (CL(matmul) with P).
 */
#define PW_DT _Generic((T *)0, gllmk_f16 *: GLLMK__PW_F16, gllmk_bf16 *: GLLMK__PW_BF16, \
                       default: GLLMK__PW_F32)
/* P = the panels of pw, packed (n, k), or return the error */
#define PW_GET(P, pw, n, k)                                                   \
  const float *P = NULL;                                                      \
  do {                                                                        \
    gllmk_status pwst_ = gllmk__pw_panels(pw, PW_DT, n, k, kt, &P);           \
    if (pwst_ != GLLMK_OK) return pwst_;                                      \
  } while (0)
#define PREF(P) ((struct CL(wref)){NULL, (P)})

gllmk_status GLLMK_PUB(gemm_packed)(const T *A, const gllmk_packed_weight *B, T *C, size_t m,
                                    size_t n, size_t k) {
  GET_KT();
  PW_GET(P, B, n, k);
  return CL(gemm_common)(A, NULL, P, false, NULL, C, m, n, k);
}

gllmk_status GLLMK_PUB(gemm_bias_packed)(const T *A, const gllmk_packed_weight *B, const T *bias,
                                         T *C, size_t m, size_t n, size_t k) {
  GET_KT();
  PW_GET(P, B, n, k);
  if (!CL(gemm_sizes_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  if (m && n && !bias) return GLLMK_E_INVAL;
  return CL(gemm_common)(A, NULL, P, false, bias, C, m, n, k);
}

gllmk_status GLLMK_PUB(linear_packed)(const T *x, const gllmk_packed_weight *w, const T *bias, T *y,
                                      size_t m, size_t n, size_t k) {
  GET_KT();
  PW_GET(P, w, n, k);
  return CL(gemm_common)(x, NULL, P, true, bias, y, m, n, k);
}

gllmk_status GLLMK_PUB(fused_gate_up_swiglu_packed)(const T *x, const gllmk_packed_weight *w_gate,
                                                    const gllmk_packed_weight *w_up, T *out,
                                                    size_t m, size_t n, size_t k) {
  GET_KT();
  PW_GET(G, w_gate, n, k);
  PW_GET(U, w_up, n, k);
  return CL(gus)(x, PREF(G), PREF(U), out, m, n, k);
}

gllmk_status GLLMK_PUB(fused_ffn_packed)(const T *x, const gllmk_packed_weight *w_gate,
                                         const gllmk_packed_weight *w_up,
                                         const gllmk_packed_weight *w_down, const T *residual,
                                         T *out, size_t m, size_t hidden, size_t ffn) {
  GET_KT();
  PW_GET(G, w_gate, ffn, hidden);
  PW_GET(U, w_up, ffn, hidden);
  PW_GET(D, w_down, hidden, ffn);
  return CL(ffn)(x, PREF(G), PREF(U), PREF(D), residual, NULL, out, NULL, m, hidden, ffn, 0.0f, 0);
}

gllmk_status GLLMK_PUB(fused_ffn_rmsnorm_packed)(const T *x, const gllmk_packed_weight *w_gate,
                                                 const gllmk_packed_weight *w_up,
                                                 const gllmk_packed_weight *w_down,
                                                 const T *residual, const T *norm_w, T *out,
                                                 T *sum_out, size_t m, size_t hidden, size_t ffn,
                                                 float eps) {
  GET_KT();
  PW_GET(G, w_gate, ffn, hidden);
  PW_GET(U, w_up, ffn, hidden);
  PW_GET(D, w_down, hidden, ffn);
  return CL(ffn)(x, PREF(G), PREF(U), PREF(D), residual, norm_w, out, sum_out, m, hidden, ffn,
                 eps, 1);
}

gllmk_status GLLMK_PUB(fused_linear_residual_rmsnorm_packed)(const T *x,
                                                             const gllmk_packed_weight *w,
                                                             const T *residual, const T *norm_w,
                                                             T *out, T *sum_out, size_t m,
                                                             size_t n, size_t k, float eps) {
  GET_KT();
  PW_GET(P, w, n, k);
  return CL(linear_norm)(x, PREF(P), NULL, false, residual, norm_w, out, sum_out, m, n, k, eps);
}

gllmk_status GLLMK_PUB(fused_linear_bias_residual_rmsnorm_packed)(
    const T *x, const gllmk_packed_weight *w, const T *bias, const T *residual, const T *norm_w,
    T *out, T *sum_out, size_t m, size_t n, size_t k, float eps) {
  GET_KT();
  PW_GET(P, w, n, k);
  return CL(linear_norm)(x, PREF(P), bias, true, residual, norm_w, out, sum_out, m, n, k, eps);
}

gllmk_status GLLMK_PUB(fused_qkv_rope_packed)(const T *x, const gllmk_packed_weight *wq,
                                              const gllmk_packed_weight *wk,
                                              const gllmk_packed_weight *wv, const T *cos,
                                              const T *sin, T *q, T *k, T *v, size_t seq,
                                              size_t hidden, size_t heads, size_t kv_heads,
                                              size_t head_dim, size_t rotary_dim,
                                              bool interleaved, size_t pos) {
  size_t nq, nkv;
  if (!gllmk__mul(heads, head_dim, &nq) || !gllmk__mul(kv_heads, head_dim, &nkv))
    return GLLMK_E_OVERFLOW;
  GET_KT();
  PW_GET(Q, wq, nq, hidden);
  PW_GET(K_, wk, nkv, hidden);
  PW_GET(V, wv, nkv, hidden);
  return CL(qkv)(x, PREF(Q), PREF(K_), PREF(V), cos, sin, q, k, v, seq, hidden, heads, kv_heads,
                 head_dim, rotary_dim, interleaved, pos);
}

#undef PW_DT
#undef PW_GET
#undef PREF
