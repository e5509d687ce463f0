/* qmatmul_tpl.h -- the public quantized matmuls for one element type T
 * (included by qmatmul.c with T, TN, T_IS_F32 defined)
 * SPDX-License-Identifier: MIT
 */

/* X (T) -> f32, run, f32 -> Y (T) */
static gllmk_status QCL(run)(struct qmm *c, const T *x, T *y) {
  size_t m = c->m, n = c->n, k = c->p.k;
  if (m && k && !x) return GLLMK_E_INVAL;
  if (m && n && !y) return GLLMK_E_INVAL;
  if (m == 0 || n == 0) return GLLMK_OK;
#if T_IS_F32
  c->X = x;
  return qmm_run(c, y);
#else
  float *xf = malloc((m * k + m * n) * sizeof(float) + 64);
  if (!xf) return GLLMK_E_NOMEM;
  const struct gllmk_kernels *kt = c->kt;
  float *yf = xf + m * k;
  kt->TN.to_f32(m * k, x, xf);
  c->X = xf;
  gllmk_status st = qmm_run(c, yf);
  if (st == GLLMK_OK) kt->TN.from_f32(m * n, yf, y);
  free(xf);
  return st;
#endif
}

#define QGET_KT(c)                                   \
  struct qmm c = {0};                                \
  c.kt = gllmk__kernels();                           \
  if (!c.kt) return GLLMK_E_UNSUPPORTED

static gllmk_status QCL(gguf)(const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t, size_t m,
                              size_t n, size_t k) {
  QGET_KT(c);
  gllmk_status st = gguf_setup(&c, w, w_bytes, t, m, n, k);
  if (st != GLLMK_OK) return st;
  return QCL(run)(&c, x, y);
}

gllmk_status QPUB(fused_dequant_gemv)(const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t,
                                      size_t m, size_t n, size_t k) {
  return QCL(gguf)(w, w_bytes, x, y, t, m, n, k);
}

gllmk_status QPUB(kquant_matmul)(const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t,
                                 size_t m, size_t n, size_t k) {
  if (!gllmk__qinfo_of(t)) return GLLMK_E_UNSUPPORTED;
  if (!gllmk__qtype_is_kquant(t)) return GLLMK_E_INVAL;
  return QCL(gguf)(w, w_bytes, x, y, t, m, n, k);
}

gllmk_status QPUB(iq_matmul)(const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t, size_t m,
                             size_t n, size_t k) {
  if (!gllmk__qinfo_of(t)) return GLLMK_E_UNSUPPORTED;
  if (!gllmk__qtype_is_iq(t)) return GLLMK_E_INVAL;
  return QCL(gguf)(w, w_bytes, x, y, t, m, n, k);
}

gllmk_status QPUB(squeeze_matmul)(const void *w, size_t w_bytes, const T *x, T *y, size_t m, size_t n,
                                  size_t k) {
  return QCL(gguf)(w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}

gllmk_status QPUB(fused_squeeze_matmul)(const void *w, size_t w_bytes, const T *x, T *y, size_t m,
                                        size_t n, size_t k) {
  return QCL(gguf)(w, w_bytes, x, y, GLLMK_SQUEEZELLM, m, n, k);
}

gllmk_status QPUB(fused_iq1_s_matmul)(const void *w, size_t w_bytes, const T *x, T *y, size_t m,
                                      size_t n, size_t k) {
  return QCL(gguf)(w, w_bytes, x, y, GLLMK_IQ1_S, m, n, k);
}

gllmk_status QPUB(fused_iq2_xxs_matmul)(const void *w, size_t w_bytes, const T *x, T *y, size_t m,
                                        size_t n, size_t k) {
  return QCL(gguf)(w, w_bytes, x, y, GLLMK_IQ2_XXS, m, n, k);
}

gllmk_status QPUB(awq_matmul)(const uint8_t *packed, size_t packed_bytes, const uint8_t *zeros,
                              const gllmk_f16 *scales, const T *x, T *y, size_t m, size_t n, size_t k) {
  QGET_KT(c);
  gllmk_status st = gllmk__awq_setup(&c.p, packed, zeros, scales, n, k);
  if (st != GLLMK_OK) return st;
  size_t t;
  if (!gllmk__mul(m, k, &t) || !gllmk__mul3(m, n, sizeof(float), &t)) return GLLMK_E_OVERFLOW;
  if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
  c.qf = GLLMK_QF_EXTERNAL;
  c.qmv = c.kt->q.qmv_awq4;
  c.m = m, c.n = n;
  return QCL(run)(&c, x, y);
}

gllmk_status QPUB(fused_awq4_matmul)(const uint8_t *packed, size_t packed_bytes, const uint8_t *zeros,
                                     const gllmk_f16 *scales, const T *x, T *y, size_t m, size_t n,
                                     size_t k) {
  return QPUB(awq_matmul)(packed, packed_bytes, zeros, scales, x, y, m, n, k);
}

gllmk_status QPUB(gptq_matmul)(const uint8_t *packed, size_t packed_bytes, const int32_t *g_idx,
                               const gllmk_f16 *scales, size_t n_groups, const T *x, T *y, size_t m,
                               size_t n, size_t k) {
  QGET_KT(c);
  gllmk_status st = gllmk__gptq_setup(&c.p, packed, g_idx, scales, n_groups, n, k);
  if (st != GLLMK_OK) return st;
  size_t t;
  if (!gllmk__mul(m, k, &t) || !gllmk__mul3(m, n, sizeof(float), &t)) return GLLMK_E_OVERFLOW;
  if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
  c.qf = GLLMK_QF_EXTERNAL;
  c.m = m, c.n = n;
  int32_t *g16 = NULL;
  if (m && n && k && m < GLLMK_QGEMM_MIN_M) g16 = gptq_g16(g_idx, k);
  c.qmv = g16 ? c.kt->q.qmv_gptq4 : NULL;
  c.p.g16 = g16;
  st = QCL(run)(&c, x, y);
  free(g16);
  return st;
}

gllmk_status QPUB(fused_gptq4_matmul)(const uint8_t *packed, size_t packed_bytes, const int32_t *g_idx,
                                      const gllmk_f16 *scales, size_t n_groups, const T *x, T *y,
                                      size_t m, size_t n, size_t k) {
  return QPUB(gptq_matmul)(packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k);
}

#undef QGET_KT
