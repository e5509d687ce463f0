/* qmatmul_tpl.h -- the public quantized matmuls for one element type T
 * (included by qmatmul.c with T, TN, T_IS_F32 defined)
 * SPDX-License-Identifier: MIT
 */

/* x and y are there where the shape needs them */
static gllmk_status QCL(io_check)(size_t m, size_t n, size_t k, const T *x, const T *y) {
  if (m && k && !x) return GLLMK_E_INVAL;
  if (m && n && !y) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* what QCL(run) draws: f16/bf16 X and Y in f32, and qmm_run's scratch */
static struct gllmk__ws_plan *QCL(run_plan)(struct gllmk__ws_plan *p, bool int_path, size_t m,
                                            size_t n, size_t k) {
  gllmk__ws_plan_init(p);
  if (m == 0 || n == 0) return p;
#if !T_IS_F32
  gllmk__ws_plan_buf(p, run_bytes(m, n, k));
#endif
  qmm_plan(p, int_path, m, n, k);
  return p;
}

/* X (T) -> f32, run, f32 -> Y (T); x and y checked (QCL(io_check)) and the
 * workspace reserved (QCL(run_plan)) by the caller */
static gllmk_status QCL(run)(struct qmm *c, const T *x, T *y) {
  size_t m = c->m, n = c->n, k = c->p.k;
  if (m == 0 || n == 0) return GLLMK_OK;
#if T_IS_F32
  (void)k;
  c->X = x;
  return qmm_run(c, y);
#else
  float *xf = gllmk__ws_alloc(run_bytes(m, n, k));
  if (!xf) return GLLMK_E_NOMEM;
  const struct gllmk_kernels *kt = c->kt;
  float *yf = xf + m * k;
  kt->TN.to_f32(m * k, x, xf);
  c->X = xf;
  gllmk_status st = qmm_run(c, yf);
  if (st == GLLMK_OK) kt->TN.from_f32(m * n, yf, y);
  gllmk__ws_free(xf);
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
  if (st == GLLMK_OK) st = QCL(io_check)(m, n, k, x, y);
  if (st != GLLMK_OK) return st;
  GLLMK_WS_BEGIN(QCL(run_plan), c.qmv != NULL, m, n, k);
  return QCL(run)(&c, x, y);
}

/* the GGUF family's query; family 1: kquant_matmul's formats, 2: iq_matmul's */
static size_t QCL(gguf_ws)(int family, size_t w_bytes, gllmk_qtype t, size_t m, size_t n, size_t k) {
  const gllmk__qinfo *qi;
  size_t rb;
  struct gllmk__ws_plan p;
  if ((family == 1 && !gllmk__qtype_is_kquant(t)) || (family == 2 && !gllmk__qtype_is_iq(t)) ||
      gguf_shape(t, w_bytes, m, n, k, &qi, &rb) != GLLMK_OK)
    return 0;
  return gllmk__ws_query(QCL(run_plan)(&p, qi->qf >= 0, m, n, k));   /* SqueezeLLM: float path */
}

size_t WSQ(fused_dequant_gemv)(size_t w_bytes, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(0, w_bytes, t, m, n, k);
}
size_t WSQ(kquant_matmul)(size_t w_bytes, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(1, w_bytes, t, m, n, k);
}
size_t WSQ(iq_matmul)(size_t w_bytes, gllmk_qtype t, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(2, w_bytes, t, m, n, k);
}
size_t WSQ(squeeze_matmul)(size_t w_bytes, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(0, w_bytes, GLLMK_SQUEEZELLM, m, n, k);
}
size_t WSQ(fused_squeeze_matmul)(size_t w_bytes, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(0, w_bytes, GLLMK_SQUEEZELLM, m, n, k);
}
size_t WSQ(fused_iq1_s_matmul)(size_t w_bytes, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(0, w_bytes, GLLMK_IQ1_S, m, n, k);
}
size_t WSQ(fused_iq2_xxs_matmul)(size_t w_bytes, size_t m, size_t n, size_t k) {
  return QCL(gguf_ws)(0, w_bytes, GLLMK_IQ2_XXS, m, n, k);
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

/* the activation sizes of the AWQ4, GPTQ4 and int8/int4 matmuls */
static int QCL(mk_mn_ok)(size_t m, size_t n, size_t k) {
  size_t t;
  return gllmk__mul3(m, k, sizeof(float), &t) && gllmk__mul3(m, n, sizeof(float), &t);
}

gllmk_status QPUB(awq_matmul)(const uint8_t *packed, size_t packed_bytes, const uint8_t *zeros,
                              const gllmk_f16 *scales, const T *x, T *y, size_t m, size_t n, size_t k) {
  QGET_KT(c);
  if (!QCL(mk_mn_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  gllmk_status st = gllmk__awq_setup(&c.p, packed, zeros, scales, n, k);
  if (st != GLLMK_OK) return st;
  if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
  if ((st = QCL(io_check)(m, n, k, x, y)) != GLLMK_OK) return st;
  GLLMK_WS_BEGIN(QCL(run_plan), true, m, n, k);
  c.qf = GLLMK_QF_EXTERNAL;
  c.qmv = c.kt->q.qmv_awq4;
  c.qgemm = c.kt->q.qgemm_awq4;
  c.m = m, c.n = n;
  return QCL(run)(&c, x, y);
}

size_t WSQ(awq_matmul)(size_t packed_bytes, size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  if (!QCL(mk_mn_ok)(m, n, k) || awq_shape(n, k) != GLLMK_OK || packed_bytes < n * (k / 2)) return 0;
  return gllmk__ws_query(QCL(run_plan)(&p, true, m, n, k));
}
size_t WSQ(fused_awq4_matmul)(size_t packed_bytes, size_t m, size_t n, size_t k) {
  return WSQ(awq_matmul)(packed_bytes, m, n, k);
}

gllmk_status QPUB(fused_awq4_matmul)(const uint8_t *packed, size_t packed_bytes, const uint8_t *zeros,
                                     const gllmk_f16 *scales, const T *x, T *y, size_t m, size_t n,
                                     size_t k) {
  return QPUB(awq_matmul)(packed, packed_bytes, zeros, scales, x, y, m, n, k);
}

/* GPTQ4 takes the integer path (and a copy of g_idx per 16 columns, on the
 * heap when it does not fit the stack) when g_idx is constant over every 16
 * columns, which only the data tells: the plan covers both paths */
static struct gllmk__ws_plan *QCL(gptq_plan)(struct gllmk__ws_plan *p, size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan f;
  QCL(run_plan)(&f, false, m, n, k);
  QCL(run_plan)(p, true, m, n, k);
  if (m && n) gllmk__ws_plan_buf(p, g16_bytes(k));
  if (f.bytes > p->bytes) p->bytes = f.bytes;
  for (int s = 0; s < GLLMK_SCRATCH_SLOTS; s++) gllmk__ws_plan_slot(p, s, f.floats[s], f.regions[s]);
  p->overflow |= f.overflow;
  return p;
}

size_t WSQ(gptq_matmul)(size_t packed_bytes, size_t n_groups, size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  if (!QCL(mk_mn_ok)(m, n, k) || gptq_shape(n_groups, n, k) != GLLMK_OK ||
      (n && k && n_groups == 0) || packed_bytes < n * (k / 2))
    return 0;
  return gllmk__ws_query(QCL(gptq_plan)(&p, m, n, k));
}
size_t WSQ(fused_gptq4_matmul)(size_t packed_bytes, size_t n_groups, size_t m, size_t n, size_t k) {
  return WSQ(gptq_matmul)(packed_bytes, n_groups, m, n, k);
}

gllmk_status QPUB(gptq_matmul)(const uint8_t *packed, size_t packed_bytes, const int32_t *g_idx,
                               const gllmk_f16 *scales, size_t n_groups, const T *x, T *y, size_t m,
                               size_t n, size_t k) {
  QGET_KT(c);
  if (!QCL(mk_mn_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  gllmk_status st = gllmk__gptq_setup(&c.p, packed, g_idx, scales, n_groups, n, k);
  if (st != GLLMK_OK) return st;
  if (packed_bytes < n * (k / 2)) return GLLMK_E_INVAL;
  if ((st = QCL(io_check)(m, n, k, x, y)) != GLLMK_OK) return st;
  GLLMK_WS_BEGIN(QCL(gptq_plan), m, n, k);
  c.qf = GLLMK_QF_EXTERNAL;
  c.m = m, c.n = n;
  /* the integer path needs the group constant over every 16 columns; its
   * kernel reads the group of each 16 from g16 */
  c.qmv = c.p.g_c16 ? c.kt->q.qmv_gptq4 : NULL;
  c.qgemm = c.p.g_c16 ? c.kt->q.qgemm_gptq4 : NULL;
  c.fmv = c.kt->q.fmv_gptq4;
  int32_t g16s[GLLMK_GPTQ_G16_STACK], *g16 = g16s;
  if (c.p.g_c16 && m && n) {
    if (g16_bytes(k) && !(g16 = gllmk__ws_alloc(g16_bytes(k)))) return GLLMK_E_NOMEM;
    for (size_t j = 0; j < k / 16; j++) g16[j] = g_idx[16 * j];
    c.p.g16 = g16;
  }
  st = QCL(run)(&c, x, y);
  if (g16 != g16s) gllmk__ws_free(g16);
  return st;
}

gllmk_status QPUB(fused_gptq4_matmul)(const uint8_t *packed, size_t packed_bytes, const int32_t *g_idx,
                                      const gllmk_f16 *scales, size_t n_groups, const T *x, T *y,
                                      size_t m, size_t n, size_t k) {
  return QPUB(gptq_matmul)(packed, packed_bytes, g_idx, scales, n_groups, x, y, m, n, k);
}


/* ------------------------------------------------------------------ Table C: int8/4/2/1 vectors */

/* *result = scale * sum lv(i) * x[i], lv the decoded level of element i;
 * chunks of GLLMK_QV_CHUNK in a fixed order (no threads: one vector) */
#define GLLMK_QV_CHUNK 1024
static gllmk_status QCL(qvec)(int bits, const void *w, size_t w_bytes, const T *x, float scale, size_t n,
                              float *result) {
  if (!result) return GLLMK_E_INVAL;
  size_t per = (size_t)(8 / bits), need = n / per + (n % per != 0);
  if (w_bytes < need) return GLLMK_E_INVAL;
  if (n && (!w || !x)) return GLLMK_E_INVAL;
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  const uint8_t *wb = (const uint8_t *)w;
  int8_t q[GLLMK_QV_CHUNK];
  float xf[GLLMK_QV_CHUNK];
  float acc = 0.0f;
  for (size_t i0 = 0; i0 < n; i0 += GLLMK_QV_CHUNK) {
    size_t c = n - i0 < GLLMK_QV_CHUNK ? n - i0 : GLLMK_QV_CHUNK;
    for (size_t j = 0; j < c; j++) {
      size_t i = i0 + j;
      switch (bits) {
      case 8: q[j] = (int8_t)wb[i]; break;
      case 4: q[j] = (int8_t)(((wb[i / 2] >> (4 * (i % 2))) & 0xF) - 8); break;
      case 2: q[j] = (int8_t)(((wb[i / 4] >> (2 * (i % 4))) & 3) - 2); break;
      default: q[j] = (wb[i / 8] >> (i % 8)) & 1 ? 1 : -1; break;
      }
    }
#if T_IS_F32
    acc += kt->q.dot_i8f32(q, x + i0, c);
#else
    kt->TN.to_f32(c, x + i0, xf);
    acc += kt->q.dot_i8f32(q, xf, c);
#endif
  }
  (void)xf;
  *result = scale * acc;
  return GLLMK_OK;
}

size_t WSQ(gemv_q8)(size_t w_bytes, size_t n) { (void)w_bytes, (void)n; return 0; }
size_t WSQ(gemv_q4)(size_t w_bytes, size_t n) { (void)w_bytes, (void)n; return 0; }
size_t WSQ(gemv_q2)(size_t w_bytes, size_t n) { (void)w_bytes, (void)n; return 0; }
size_t WSQ(gemv_q1)(size_t w_bytes, size_t n) { (void)w_bytes, (void)n; return 0; }

gllmk_status QPUB(gemv_q8)(const int8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result) {
  return QCL(qvec)(8, w, w_bytes, x, scale, n, result);
}
gllmk_status QPUB(gemv_q4)(const uint8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result) {
  return QCL(qvec)(4, w, w_bytes, x, scale, n, result);
}
gllmk_status QPUB(gemv_q2)(const uint8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result) {
  return QCL(qvec)(2, w, w_bytes, x, scale, n, result);
}
gllmk_status QPUB(gemv_q1)(const uint8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result) {
  return QCL(qvec)(1, w, w_bytes, x, scale, n, result);
}

/* ------------------------------------------------------------------ Table C: int8/int4 matrices */

static gllmk_status QCL(intw_mm)(int bits, const void *w, size_t w_bytes, const T *x, T *y,
                                 const float *scales, size_t m, size_t n, size_t k) {
  QGET_KT(c);
  if (!QCL(mk_mn_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  gllmk_status st = intw_setup(&c.p, bits, w, w_bytes, scales, n, k);
  if (st == GLLMK_OK) st = QCL(io_check)(m, n, k, x, y);
  if (st != GLLMK_OK) return st;
  GLLMK_WS_BEGIN(QCL(run_plan), true, m, n, k);
  c.qf = GLLMK_QF_EXTERNAL;
  c.qmv = bits == 8 ? c.kt->q.qmv_i8 : c.kt->q.qmv_i4;
  c.qgemm = bits == 8 ? c.kt->q.qgemm_i8 : c.kt->q.qgemm_i4;
  c.m = m, c.n = n;
  return QCL(run)(&c, x, y);
}

static size_t QCL(intw_ws)(int bits, size_t w_bytes, size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  if (!QCL(mk_mn_ok)(m, n, k) || intw_shape(bits, w_bytes, n, k) != GLLMK_OK) return 0;
  return gllmk__ws_query(QCL(run_plan)(&p, true, m, n, k));
}
size_t WSQ(gemm_q8)(size_t w_bytes, size_t m, size_t n, size_t k) { return QCL(intw_ws)(8, w_bytes, m, n, k); }
size_t WSQ(gemm_q4)(size_t w_bytes, size_t m, size_t n, size_t k) { return QCL(intw_ws)(4, w_bytes, m, n, k); }

gllmk_status QPUB(gemm_q8)(const int8_t *w, size_t w_bytes, const T *x, T *y, const float *scales, size_t m,
                           size_t n, size_t k) {
  return QCL(intw_mm)(8, w, w_bytes, x, y, scales, m, n, k);
}
gllmk_status QPUB(gemm_q4)(const uint8_t *w, size_t w_bytes, const T *x, T *y, const float *scales,
                           size_t m, size_t n, size_t k) {
  return QCL(intw_mm)(4, w, w_bytes, x, y, scales, m, n, k);
}

/* ------------------------------------------------------------------ Table D */

/* Yf[m x n] (f32) = Xf[m x k] (f32) . W^T for int8 / int4 rows */
static gllmk_status QCL(intw_f32)(const struct gllmk_kernels *kt, int bits, const void *w, size_t w_bytes,
                                  const float *scales, const float *X, float *Y, size_t m, size_t n,
                                  size_t k) {
  struct qmm c = {0};
  c.kt = kt;
  gllmk_status st = intw_setup(&c.p, bits, w, w_bytes, scales, n, k);
  if (st != GLLMK_OK) return st;
  c.qf = GLLMK_QF_EXTERNAL;
  c.qmv = bits == 8 ? kt->q.qmv_i8 : kt->q.qmv_i4;
  c.qgemm = bits == 8 ? kt->q.qgemm_i8 : kt->q.qgemm_i4;
  c.m = m, c.n = n;
  c.X = X;
  return qmm_run(&c, Y);
}

/* what QCL(xf32) draws */
static void QCL(xf32_plan)(struct gllmk__ws_plan *p, size_t count) {
#if T_IS_F32
  (void)p, (void)count;
#else
  if (count) gllmk__ws_plan_buf(p, xf_bytes(count));
#endif
}

/* x (T) [m x k] as f32: a copy, or x itself for f32 */
static const float *QCL(xf32)(const struct gllmk_kernels *kt, const T *x, size_t count, float **own) {
  static const float none[1];
  *own = NULL;
  if (count == 0) return none;   /* x may be NULL then */
#if T_IS_F32
  (void)kt, (void)count;
  return x;
#else
  float *b = gllmk__ws_alloc(xf_bytes(count));
  if (b) kt->TN.to_f32(count, x, b);
  *own = b;
  return b;
#endif
}

static int QCL(lrr_sizes_ok)(size_t m, size_t n, size_t k) {
  size_t t;
  return gllmk__mul(m, k, &t) && gllmk__mul3(m, n, sizeof(float), &t);
}
/* the f32 product [m x n] */
static size_t QCL(lrr_bytes)(size_t m, size_t n) { return m * n * sizeof(float) + 64; }

static struct gllmk__ws_plan *QCL(lrr_plan)(struct gllmk__ws_plan *p, size_t m, size_t n, size_t k) {
  gllmk__ws_plan_init(p);
  if (m == 0 || n == 0) return p;
  gllmk__ws_plan_buf(p, QCL(lrr_bytes)(m, n));
  QCL(xf32_plan)(p, m * k);
  qmm_plan(p, true, m, n, k);
  return p;
}

static size_t QCL(lrr_ws)(int bits, size_t w_bytes, size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  if (!QCL(lrr_sizes_ok)(m, n, k) || intw_shape(bits, w_bytes, n, k) != GLLMK_OK) return 0;
  return gllmk__ws_query(QCL(lrr_plan)(&p, m, n, k));
}
size_t WSQ(fused_int8_linear_residual_rmsnorm)(size_t w_bytes, size_t m, size_t n, size_t k) {
  return QCL(lrr_ws)(8, w_bytes, m, n, k);
}
size_t WSQ(fused_int4_linear_residual_rmsnorm)(size_t w_bytes, size_t m, size_t n, size_t k) {
  return QCL(lrr_ws)(4, w_bytes, m, n, k);
}

/* s = x . w^T + residual; out = rms_norm(s) * norm_w; sum_out = s (unless NULL) */
static gllmk_status QCL(int_lrr)(int bits, const T *x, const void *w, size_t w_bytes, const float *scales,
                                 const T *residual, const T *norm_w, T *out, T *sum_out, size_t m, size_t n,
                                 size_t k, float eps) {
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  if (!QCL(lrr_sizes_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  if (!(eps >= 0.0f)) return GLLMK_E_INVAL;
  struct gllmk__qmv probe;
  gllmk_status st = intw_setup(&probe, bits, w, w_bytes, scales, n, k);
  if (st != GLLMK_OK) return st;
  if (m && n && (!out || !norm_w)) return GLLMK_E_INVAL;
  if (m && k && !x) return GLLMK_E_INVAL;
  if (m == 0 || n == 0) return GLLMK_OK;
  GLLMK_WS_BEGIN(QCL(lrr_plan), m, n, k);
  float *own, *acc = gllmk__ws_alloc(QCL(lrr_bytes)(m, n));
  if (!acc) return GLLMK_E_NOMEM;
  const float *xf = QCL(xf32)(kt, x, m * k, &own);
  if (!xf) { gllmk__ws_free(acc); return GLLMK_E_NOMEM; }
  st = QCL(intw_f32)(kt, bits, w, w_bytes, scales, xf, acc, m, n, k);
  gllmk__ws_free(own);
  if (st == GLLMK_OK)
    for (size_t i = 0; i < m; i++)
      kt->TN.residual_rms_norm_row(n, acc + i * n, NULL, residual ? residual + i * n : NULL, norm_w,
                                   out + i * n, sum_out ? sum_out + i * n : NULL, eps);
  gllmk__ws_free(acc);
  return st;
}

gllmk_status QPUB(fused_int8_linear_residual_rmsnorm)(const T *x, const int8_t *w, size_t w_bytes,
                                                      const float *scales, const T *residual, const T *norm_w,
                                                      T *out, T *sum_out, size_t m, size_t n, size_t k,
                                                      float eps) {
  return QCL(int_lrr)(8, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k, eps);
}
gllmk_status QPUB(fused_int4_linear_residual_rmsnorm)(const T *x, const uint8_t *w, size_t w_bytes,
                                                      const float *scales, const T *residual, const T *norm_w,
                                                      T *out, T *sum_out, size_t m, size_t n, size_t k,
                                                      float eps) {
  return QCL(int_lrr)(4, x, w, w_bytes, scales, residual, norm_w, out, sum_out, m, n, k, eps);
}

static int QCL(ffnq4_sizes_ok)(size_t m, size_t hidden, size_t ffn) {
  size_t t;
  return gllmk__mul(m, hidden, &t) && gllmk__mul3(m, ffn, 2 * sizeof(float), &t);
}
/* g, u [m x ffn], d [m x hidden] and one residual row, f32 */
static size_t QCL(ffnq4_bytes)(size_t m, size_t hidden, size_t ffn) {
  return (2 * m * ffn + m * hidden + hidden) * sizeof(float) + 64;
}

static struct gllmk__ws_plan *QCL(ffnq4_plan)(struct gllmk__ws_plan *p, size_t m, size_t hidden,
                                              size_t ffn) {
  gllmk__ws_plan_init(p);
  if (m == 0 || hidden == 0) return p;
  gllmk__ws_plan_buf(p, QCL(ffnq4_bytes)(m, hidden, ffn));
  QCL(xf32_plan)(p, m * hidden);
  qmm_plan(p, true, m, ffn, hidden);   /* gate */
  qmm_plan(p, true, m, ffn, hidden);   /* up */
  qmm_plan(p, true, m, hidden, ffn);   /* down */
  return p;
}

size_t WSQ(fused_ffn_q4)(size_t gate_bytes, size_t up_bytes, size_t down_bytes, size_t m, size_t hidden,
                         size_t ffn) {
  struct gllmk__ws_plan p;
  if (!QCL(ffnq4_sizes_ok)(m, hidden, ffn) || intw_shape(4, gate_bytes, ffn, hidden) != GLLMK_OK ||
      intw_shape(4, up_bytes, ffn, hidden) != GLLMK_OK || intw_shape(4, down_bytes, hidden, ffn) != GLLMK_OK)
    return 0;
  return gllmk__ws_query(QCL(ffnq4_plan)(&p, m, hidden, ffn));
}

/* out = residual + (silu(x . w_gate^T) * (x . w_up^T)) . w_down^T, int4 weights */
gllmk_status QPUB(fused_ffn_q4)(const T *x, const uint8_t *w_gate, size_t gate_bytes, const float *s_gate,
                                const uint8_t *w_up, size_t up_bytes, const float *s_up, const uint8_t *w_down,
                                size_t down_bytes, const float *s_down, const T *residual, T *out, size_t m,
                                size_t hidden, size_t ffn) {
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  if (!QCL(ffnq4_sizes_ok)(m, hidden, ffn)) return GLLMK_E_OVERFLOW;
  struct gllmk__qmv probe;
  gllmk_status st;
  if ((st = intw_setup(&probe, 4, w_gate, gate_bytes, s_gate, ffn, hidden)) != GLLMK_OK ||
      (st = intw_setup(&probe, 4, w_up, up_bytes, s_up, ffn, hidden)) != GLLMK_OK ||
      (st = intw_setup(&probe, 4, w_down, down_bytes, s_down, hidden, ffn)) != GLLMK_OK)
    return st;
  if (m && hidden && (!x || !out)) return GLLMK_E_INVAL;
  if (m == 0 || hidden == 0) return GLLMK_OK;
  GLLMK_WS_BEGIN(QCL(ffnq4_plan), m, hidden, ffn);
  float *own, *buf = gllmk__ws_alloc(QCL(ffnq4_bytes)(m, hidden, ffn));
  if (!buf) return GLLMK_E_NOMEM;
  float *g = buf, *u = buf + m * ffn, *d = buf + 2 * m * ffn;
  const float *xf = QCL(xf32)(kt, x, m * hidden, &own);
  if (!xf) { gllmk__ws_free(buf); return GLLMK_E_NOMEM; }
  st = QCL(intw_f32)(kt, 4, w_gate, gate_bytes, s_gate, xf, g, m, ffn, hidden);
  if (st == GLLMK_OK) st = QCL(intw_f32)(kt, 4, w_up, up_bytes, s_up, xf, u, m, ffn, hidden);
  gllmk__ws_free(own);
  if (st == GLLMK_OK) {
    kt->f32.swiglu(m * ffn, g, u, g);
    st = QCL(intw_f32)(kt, 4, w_down, down_bytes, s_down, g, d, m, hidden, ffn);
  }
  if (st == GLLMK_OK) {
    if (residual) {
      float *r = d + m * hidden;   /* one residual row as f32 */
      for (size_t i = 0; i < m; i++) {
#if T_IS_F32
        (void)r;
        kt->f32.add(hidden, d + i * hidden, residual + i * hidden, d + i * hidden);
#else
        kt->TN.to_f32(hidden, residual + i * hidden, r);
        kt->f32.add(hidden, d + i * hidden, r, d + i * hidden);
#endif
      }
    }
    kt->TN.from_f32(m * hidden, d, out);
  }
  gllmk__ws_free(buf);
  return st;
}

/* the shape checks of fused_qkv_rope_q4 (those of its weights: intw_shape) */
static gllmk_status QCL(qkvq4_shape)(size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                                     size_t head_dim, size_t rotary_dim, size_t pos) {
  size_t nq, nkv, nkv2, tot, t, rows;
  if (!gllmk__mul(heads, head_dim, &nq) || !gllmk__mul(kv_heads, head_dim, &nkv) ||
      !gllmk__mul(seq, hidden, &t) || !gllmk__mul(nkv, 2, &nkv2) || !gllmk__add(nq, nkv2, &tot) ||
      !gllmk__mul3(seq, tot, sizeof(float), &t) || !gllmk__add(pos, seq, &rows) ||
      !gllmk__mul(rows, rotary_dim / 2, &t))
    return GLLMK_E_OVERFLOW;
  if (rotary_dim % 2 || rotary_dim > head_dim) return GLLMK_E_INVAL;
  if (heads == 0 || kv_heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}
/* q, k, v [seq x (nq + 2 nkv)] f32 */
static size_t QCL(qkvq4_bytes)(size_t seq, size_t nq, size_t nkv) {
  return seq * (nq + 2 * nkv) * sizeof(float) + 64;
}

static struct gllmk__ws_plan *QCL(qkvq4_plan)(struct gllmk__ws_plan *p, size_t seq, size_t hidden,
                                              size_t heads, size_t kv_heads, size_t head_dim) {
  gllmk__ws_plan_init(p);
  if (seq == 0 || head_dim == 0) return p;
  size_t nq = heads * head_dim, nkv = kv_heads * head_dim;
  gllmk__ws_plan_buf(p, QCL(qkvq4_bytes)(seq, nq, nkv));
  QCL(xf32_plan)(p, seq * hidden);
  qmm_plan(p, true, seq, nq, hidden);
  qmm_plan(p, true, seq, nkv, hidden);
  qmm_plan(p, true, seq, nkv, hidden);
  return p;
}

size_t WSQ(fused_qkv_rope_q4)(size_t wq_bytes, size_t wk_bytes, size_t wv_bytes, size_t seq, size_t hidden,
                              size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim,
                              bool interleaved, size_t pos) {
  (void)interleaved;
  struct gllmk__ws_plan p;
  if (QCL(qkvq4_shape)(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos) != GLLMK_OK ||
      intw_shape(4, wq_bytes, heads * head_dim, hidden) != GLLMK_OK ||
      intw_shape(4, wk_bytes, kv_heads * head_dim, hidden) != GLLMK_OK ||
      intw_shape(4, wv_bytes, kv_heads * head_dim, hidden) != GLLMK_OK)
    return 0;
  return gllmk__ws_query(QCL(qkvq4_plan)(&p, seq, hidden, heads, kv_heads, head_dim));
}

/* q/k/v = x . W^T with int4 weights, then rope on q and k (rows pos.. of cos/sin) */
gllmk_status QPUB(fused_qkv_rope_q4)(const T *x, const uint8_t *wq, size_t wq_bytes, const float *sq,
                                     const uint8_t *wk, size_t wk_bytes, const float *sk, const uint8_t *wv,
                                     size_t wv_bytes, const float *sv, const T *cos, const T *sin, T *q, T *k,
                                     T *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                                     size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos) {
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  gllmk_status st = QCL(qkvq4_shape)(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos);
  if (st != GLLMK_OK) return st;
  size_t nq = heads * head_dim, nkv = kv_heads * head_dim;
  struct gllmk__qmv probe;
  if ((st = intw_setup(&probe, 4, wq, wq_bytes, sq, nq, hidden)) != GLLMK_OK ||
      (st = intw_setup(&probe, 4, wk, wk_bytes, sk, nkv, hidden)) != GLLMK_OK ||
      (st = intw_setup(&probe, 4, wv, wv_bytes, sv, nkv, hidden)) != GLLMK_OK)
    return st;
  int any = seq && head_dim;
  if (any && (!q || !k || !v)) return GLLMK_E_INVAL;
  if (any && hidden && !x) return GLLMK_E_INVAL;
  if (any && rotary_dim && (!cos || !sin)) return GLLMK_E_INVAL;
  if (!any) return GLLMK_OK;
  GLLMK_WS_BEGIN(QCL(qkvq4_plan), seq, hidden, heads, kv_heads, head_dim);
  float *own, *buf = gllmk__ws_alloc(QCL(qkvq4_bytes)(seq, nq, nkv));
  if (!buf) return GLLMK_E_NOMEM;
  float *fq = buf, *fk = buf + seq * nq, *fv = fk + seq * nkv;
  const float *xf = QCL(xf32)(kt, x, seq * hidden, &own);
  if (!xf) { gllmk__ws_free(buf); return GLLMK_E_NOMEM; }
  st = QCL(intw_f32)(kt, 4, wq, wq_bytes, sq, xf, fq, seq, nq, hidden);
  if (st == GLLMK_OK) st = QCL(intw_f32)(kt, 4, wk, wk_bytes, sk, xf, fk, seq, nkv, hidden);
  if (st == GLLMK_OK) st = QCL(intw_f32)(kt, 4, wv, wv_bytes, sv, xf, fv, seq, nkv, hidden);
  gllmk__ws_free(own);
  if (st == GLLMK_OK) {
    kt->TN.from_f32(seq * nq, fq, q);
    kt->TN.from_f32(seq * nkv, fk, k);
    kt->TN.from_f32(seq * nkv, fv, v);
    if (rotary_dim)
      for (size_t s = 0; s < seq; s++) {
        const T *cs = cos + (pos + s) * (rotary_dim / 2), *sn = sin + (pos + s) * (rotary_dim / 2);
        kt->TN.rope_token(q + s * nq, cs, sn, heads, head_dim, rotary_dim, interleaved);
        kt->TN.rope_token(k + s * nkv, cs, sn, kv_heads, head_dim, rotary_dim, interleaved);
      }
  }
  gllmk__ws_free(buf);
  return st;
}

#undef QGET_KT

/* ------------------------------------------------------------------ embedding_lookup_q */

/* *rb gets the bytes of one table row */
static gllmk_status QCL(embq_shape)(size_t n_ids, size_t table_bytes, gllmk_qtype t, size_t vocab,
                                    size_t hidden, size_t *rb) {
  size_t bs = gllmk_qtype_block_size(t), x;
  if (bs == 0) return GLLMK_E_UNSUPPORTED;
  if (t == GLLMK_AWQ4 || t == GLLMK_GPTQ4) return GLLMK_E_UNSUPPORTED;
  if (!gllmk__mul3(n_ids, hidden, sizeof(T), &x) || !gllmk__mul(hidden, sizeof(float), &x))
    return GLLMK_E_OVERFLOW;
  if (hidden % bs) return GLLMK_E_INVAL;
  *rb = gllmk_qtype_row_bytes(t, hidden);
  if (hidden && *rb == 0) return GLLMK_E_OVERFLOW;
  if (!gllmk__mul(vocab, *rb, &x)) return GLLMK_E_OVERFLOW;
  if (table_bytes < x) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static struct gllmk__ws_plan *QCL(embq_plan)(struct gllmk__ws_plan *p, size_t n_ids, size_t hidden) {
  gllmk__ws_plan_init(p);
#if !T_IS_F32
  if (n_ids && hidden)
    gllmk__ws_plan_slot(p, GLLMK_SCRATCH_QTILE, hidden, gllmk__parallel_width(n_ids, 1, 1));
#else
  (void)n_ids, (void)hidden;
#endif
  return p;
}

size_t WSQ(embedding_lookup_q)(size_t n_ids, size_t table_bytes, gllmk_qtype t, size_t vocab,
                               size_t hidden) {
  size_t rb;
  struct gllmk__ws_plan p;
  if (QCL(embq_shape)(n_ids, table_bytes, t, vocab, hidden, &rb) != GLLMK_OK) return 0;
  return gllmk__ws_query(QCL(embq_plan)(&p, n_ids, hidden));
}

struct QCL(embq_ctx) {
  const struct gllmk_kernels *kt;
  const uint32_t *ids;
  const uint8_t *table;
  gllmk_qtype t;
  size_t hidden, rb;
  T *out;
  int err;
};

static void QCL(embq_run)(void *v, size_t i0, size_t i1) {
  struct QCL(embq_ctx) *c = v;
#if T_IS_F32
  for (size_t i = i0; i < i1; i++)
    if (gllmk_dequantize(c->t, c->table + (size_t)c->ids[i] * c->rb, c->rb, c->out + i * c->hidden,
                         c->hidden) != GLLMK_OK)
      __atomic_store_n(&c->err, 1, __ATOMIC_RELAXED);
#else
  float *row = gllmk__scratch(GLLMK_SCRATCH_QTILE, c->hidden);
  if (!row) { __atomic_store_n(&c->err, 2, __ATOMIC_RELAXED); return; }
  for (size_t i = i0; i < i1; i++) {
    if (gllmk_dequantize(c->t, c->table + (size_t)c->ids[i] * c->rb, c->rb, row, c->hidden) !=
        GLLMK_OK)
      __atomic_store_n(&c->err, 1, __ATOMIC_RELAXED);
    c->kt->TN.from_f32(c->hidden, row, c->out + i * c->hidden);
  }
#endif
}

gllmk_status QPUB(embedding_lookup_q)(const uint32_t *ids, size_t n_ids, const void *table,
                                      size_t table_bytes, gllmk_qtype t, size_t vocab,
                                      size_t hidden, T *out) {
  size_t rb;
  gllmk_status st = QCL(embq_shape)(n_ids, table_bytes, t, vocab, hidden, &rb);
  if (st != GLLMK_OK) return st;
  if (n_ids == 0 || hidden == 0) return GLLMK_OK;
  if (!ids || !table || !out) return GLLMK_E_INVAL;
  for (size_t i = 0; i < n_ids; i++)
    if (ids[i] >= vocab) return GLLMK_E_INVAL;
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  GLLMK_WS_BEGIN(QCL(embq_plan), n_ids, hidden);
  struct QCL(embq_ctx) e = {kt, ids, table, t, hidden, rb, out, 0};
  gllmk__parallel(n_ids, 1, (n_ids * hidden < 65536) ? n_ids : 1, QCL(embq_run), &e);
  return e.err == 2 ? GLLMK_E_NOMEM : e.err ? GLLMK_E_INVAL : GLLMK_OK;
}

/* ------------------------------------------------------------------ dequantize */
/* gllmk_dequantize's values rounded once to T: f16 / bf16 in chunks of
 * GLLMK_DEQ_CHUNK values (whole blocks of every format) through the stack */
#define GLLMK_DEQ_CHUNK 1024

size_t WSQ(dequantize)(size_t src_bytes, gllmk_qtype t, size_t n) {
  (void)src_bytes, (void)t, (void)n;
  return 0;
}

gllmk_status QPUB(dequantize)(const void *src, size_t src_bytes, gllmk_qtype t, T *out, size_t n) {
#if T_IS_F32
  return gllmk_dequantize(t, src, src_bytes, out, n);
#else
  /* gllmk_dequantize's checks, in its order (with out of T) */
  const gllmk__qinfo *qi = gllmk__qinfo_of(t);
  size_t need, nb;
  if (!qi) return GLLMK_E_UNSUPPORTED;
  if (t == GLLMK_AWQ4 || t == GLLMK_GPTQ4) return GLLMK_E_UNSUPPORTED;
  if (n % qi->block_size) return GLLMK_E_INVAL;
  if (!gllmk__mul(n / qi->block_size, qi->block_bytes, &need)) return GLLMK_E_OVERFLOW;
  if (src_bytes < need) return GLLMK_E_INVAL;
  if (!gllmk__mul(n, sizeof(float), &nb)) return GLLMK_E_OVERFLOW;
  if (n == 0) return GLLMK_OK;
  if (!src || !out) return GLLMK_E_INVAL;
  const struct gllmk_kernels *kt = gllmk__kernels();
  if (!kt) return GLLMK_E_UNSUPPORTED;
  float buf[GLLMK_DEQ_CHUNK];
  const uint8_t *s = (const uint8_t *)src;
  size_t per = GLLMK_DEQ_CHUNK / qi->block_size * qi->block_bytes;   /* bytes of a chunk */
  for (size_t i = 0; i < n; i += GLLMK_DEQ_CHUNK, s += per) {
    size_t c = n - i < GLLMK_DEQ_CHUNK ? n - i : GLLMK_DEQ_CHUNK;
    gllmk_status st = gllmk_dequantize(t, s, c / qi->block_size * qi->block_bytes, buf, c);
    if (st != GLLMK_OK) return st;
    kt->TN.from_f32(c, buf, out + i);
  }
  return GLLMK_OK;
#endif
}
#undef GLLMK_DEQ_CHUNK
