/* fused_tpl.h -- the six fused floating-point ops (included by ops_tpl.h)
 * SPDX-License-Identifier: MIT
 *
 * Each fused op runs its matmuls (X.W^T, with W in the LLM layout [out x in])
 * into f32 intermediates and applies its epilogue (swiglu, residual add,
 * RMSNorm, rope) to blocks of up to GLLMK_FUSED_MB rows, so no intermediate
 * is rounded to T except where the composition's next matmul consumes T (the
 * swiglu output in fused_ffn), and W is packed once per call for prefill
 * shapes.  Decode shapes (m <= 8) stream W once through the linear_rows
 * kernel.  A weight is a struct wref: W's rows, or the panels of a packed
 * weight (packed_tpl.h), which every m multiplies with the packed GEMM and
 * whose blocks block_rows splits by rows across threads.
 *
 * Workspace: each op's <op>_plan lists what it draws (its f32 block buffers,
 * sized by the same helpers as the allocation, and the GEMM scratch of its
 * matmuls); the WSQ(<op>) queries return its total.
 */
#ifndef GLLMK_FUSED_MB
#define GLLMK_FUSED_MB 512
#endif
#ifndef GLLMK_FUSED_ROWS
#define GLLMK_FUSED_ROWS(m) ((m) < GLLMK_FUSED_MB ? (m) : (size_t)GLLMK_FUSED_MB)  /* rows per block */
#endif

/* a weight: W [n x k] rows, or (p set) the panels of a packed weight */
struct CL(wref) { const T *w; const float *p; };
#define WNULL(r) (!(r).w && !(r).p)
#define WREF(x) ((struct CL(wref)){(x), NULL})

struct CL(epi_ctx) {
  const struct gllmk_kernels *kt;
  float *Y;                 /* [rows x n] f32 */
  const T *bias, *residual, *w;
  T *out, *sum_out;
  size_t n;
  float eps;
  int mode;                 /* 0: residual add then store, 1: residual(+bias) + rmsnorm */
  float *tmp;               /* per-call scratch for mode 0: n floats per row */
};

static void CL(epi_run)(void *v, size_t r0, size_t r1) {
  struct CL(epi_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  size_t n = c->n;
  for (size_t r = r0; r < r1; r++) {
    float *y = c->Y + r * n;
    const T *res = c->residual ? c->residual + r * n : NULL;
    if (c->mode == 1) {
      K(residual_rms_norm_row)(n, y, c->bias, res, c->w, c->out + r * n,
                               c->sum_out ? c->sum_out + r * n : NULL, c->eps);
    } else {
      if (res) {
        float *t = c->tmp + r * n;
        K(to_f32)(n, res, t);
        kt->f32.add(n, y, t, y);
      }
      K(from_f32)(n, y, c->out + r * n);
    }
  }
}

static void CL(epilogue)(struct CL(epi_ctx) *c, size_t rows) {
  size_t min_rows = GLLMK_PAR_MIN_ELEMS / 4 / (c->n ? c->n : 1);
  gllmk__parallel(rows, 1, min_rows ? min_rows : 1, CL(epi_run), c);
}

struct CL(swi_ctx) { const struct gllmk_kernels *kt; const float *g, *u; T *out; };
static void CL(swi_run)(void *v, size_t i0, size_t i1) {
  struct CL(swi_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  K(swiglu_f32in)(i1 - i0, c->g + i0, c->u + i0, c->out + i0);
}
static void CL(swiglu_block)(const struct gllmk_kernels *kt, size_t count, const float *g,
                             const float *u, T *out) {
  struct CL(swi_ctx) c = {kt, g, u, out};
  gllmk__parallel(count, 1024, GLLMK_PAR_MIN_ELEMS, CL(swi_run), &c);
}

/* Run fn(ctx, 0, rows) over the rows of a block.  With packed weights and
 * enough work, split the rows across threads instead, each thread running
 * the op's whole sequence (its matmuls, then its epilogue) on its own rows:
 * the nested parallel calls inside run on that thread, the panels are shared
 * read-only, and each row's product is still in that thread's cache when its
 * epilogue reads it.  (Unpacked, each thread would pack all of W again, so
 * those split each matmul and epilogue instead.)  The bits do not change:
 * every row is computed the same way however the rows are split. */
static void CL(block_rows)(bool packed, size_t rows, double work, gllmk__range_fn fn, void *ctx) {
  if (packed && rows >= 2 * GLLMK_GEMM_ROW_GRAIN && work >= 4e6)
    gllmk__parallel(rows, GLLMK_GEMM_ROW_GRAIN, GLLMK_GEMM_ROW_GRAIN, fn, ctx);
  else
    fn(ctx, 0, rows);
}

static int CL(gus_sizes_ok)(size_t m, size_t n, size_t k) {
  size_t t;
  return gllmk__mul(m, k, &t) && CL(bytes_ok)(t) && gllmk__mul(n, k, &t) && CL(bytes_ok)(t) &&
         gllmk__mul3(m, n, 2 * sizeof(float), &t);
}
/* f32: the gate product goes straight into out, and swiglu runs in place;
 * else G and U [mb x n] f32 */
static size_t CL(gus_bytes)(size_t mb, size_t n) { return mb * n * (T_IS_F32 ? 1 : 2) * sizeof(float); }

static struct gllmk__ws_plan *CL(gus_plan)(struct gllmk__ws_plan *p, size_t m, size_t n, size_t k) {
  gllmk__ws_plan_init(p);
  if (m == 0 || n == 0) return p;
  size_t mb = GLLMK_FUSED_ROWS(m);
  gllmk__ws_plan_buf(p, CL(gus_bytes)(mb, n));
  mm_plan_blocks(p, m, mb, n, k);
  return p;
}

size_t WSQ(fused_gate_up_swiglu)(size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  return CL(gus_sizes_ok)(m, n, k) ? gllmk__ws_query(CL(gus_plan)(&p, m, n, k)) : 0;
}

/* rows [a, b) of a block of fused_gate_up_swiglu (x, G, U, out at its first row) */
struct CL(gus_ctx) {
  const struct gllmk_kernels *kt;
  const T *x;
  struct CL(wref) wg, wu;
  float *G, *U;
  T *out;
  size_t n, k;
  int nomem;
};
static void CL(gus_rows)(void *v, size_t a, size_t b) {
  struct CL(gus_ctx) *c = v;
  size_t n = c->n, k = c->k, rows = b - a;
  const T *x = c->x + a * k;
  if (CL(matmul)(c->kt, rows, n, k, x, c->wg.w, c->wg.p, true, NULL, c->G + a * n, n) != GLLMK_OK ||
      CL(matmul)(c->kt, rows, n, k, x, c->wu.w, c->wu.p, true, NULL, c->U + a * n, n) != GLLMK_OK) {
    __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED);
    return;
  }
  CL(swiglu_block)(c->kt, rows * n, c->G + a * n, c->U + a * n, c->out + a * n);
}

/* out[m x n] = silu(x Wg^T) * (x Wu^T) */
static gllmk_status CL(gus)(const T *x, struct CL(wref) w_gate, struct CL(wref) w_up, T *out,
                            size_t m, size_t n, size_t k) {
  if (!CL(gus_sizes_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  if ((m && k && !x) || (n && k && (WNULL(w_gate) || WNULL(w_up))) || (m && n && !out))
    return GLLMK_E_INVAL;
  GET_KT();
  if (m == 0 || n == 0) return GLLMK_OK;
  size_t mb = GLLMK_FUSED_ROWS(m);
  GLLMK_WS_BEGIN(CL(gus_plan), m, n, k);
  float *buf = gllmk__ws_alloc(CL(gus_bytes)(mb, n));
  if (!buf) return GLLMK_E_NOMEM;
  struct CL(gus_ctx) c = {kt, NULL, w_gate, w_up, NULL, NULL, NULL, n, k, 0};
  for (size_t r0 = 0; r0 < m && !c.nomem; r0 += mb) {
    size_t rows = m - r0 < mb ? m - r0 : mb;
#if T_IS_F32
    c.G = out + r0 * n, c.U = buf;
#else
    c.G = buf, c.U = buf + mb * n;
#endif
    c.x = x + r0 * k, c.out = out + r0 * n;
    CL(block_rows)(w_gate.p != NULL, rows, 2.0 * (double)rows * (double)n * (double)k,
                   CL(gus_rows), &c);
  }
  gllmk__ws_free(buf);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

gllmk_status GLLMK_PUB(fused_gate_up_swiglu)(const T *x, const T *w_gate, const T *w_up, T *out,
                                             size_t m, size_t n, size_t k) {
  return CL(gus)(x, WREF(w_gate), WREF(w_up), out, m, n, k);
}

static int CL(ffn_sizes_ok)(size_t m, size_t hidden, size_t ffn) {
  size_t t;
  return gllmk__mul(m, hidden, &t) && CL(bytes_ok)(t) && gllmk__mul(ffn, hidden, &t) &&
         CL(bytes_ok)(t) && gllmk__mul3(m, ffn, 2 * sizeof(float) + sizeof(T), &t) &&
         gllmk__mul3(m, hidden, 2 * sizeof(float), &t);
}
/* G, U [mb x ffn] f32; Y, tmp [mb x hidden] f32; H [mb x ffn] T, in one
 * buffer; false when the sum overflows (each term fits after ffn_sizes_ok) */
static int CL(ffn_bytes)(size_t mb, size_t hidden, size_t ffn, size_t *bytes) {
  return gllmk__add(mb * ffn * (2 * sizeof(float) + sizeof(T)), mb * hidden * 2 * sizeof(float),
                    bytes);
}

static struct gllmk__ws_plan *CL(ffn_plan)(struct gllmk__ws_plan *p, size_t m, size_t hidden,
                                           size_t ffn) {
  gllmk__ws_plan_init(p);
  if (m == 0 || hidden == 0) return p;
  size_t mb = GLLMK_FUSED_ROWS(m), bytes;
  if (CL(ffn_bytes)(mb, hidden, ffn, &bytes)) gllmk__ws_plan_buf(p, bytes);
  else p->overflow = true;
  if (ffn) mm_plan_blocks(p, m, mb, ffn, hidden);   /* gate, up */
  mm_plan_blocks(p, m, mb, hidden, ffn);            /* down */
  return p;
}

size_t WSQ(fused_ffn)(size_t m, size_t hidden, size_t ffn) {
  struct gllmk__ws_plan p;
  return CL(ffn_sizes_ok)(m, hidden, ffn) ? gllmk__ws_query(CL(ffn_plan)(&p, m, hidden, ffn)) : 0;
}
size_t WSQ(fused_ffn_rmsnorm)(size_t m, size_t hidden, size_t ffn) {
  return WSQ(fused_ffn)(m, hidden, ffn);
}

/* rows [a, b) of a block of the FFN (x, residual, out, sum_out, Y at its
 * first row; G, U, H, tmp: the block's scratch) */
struct CL(ffn_ctx) {
  const struct gllmk_kernels *kt;
  const T *x;
  struct CL(wref) wg, wu, wd;
  const T *residual, *norm_w;
  T *out, *sum_out;
  float *G, *U, *Y, *tmp;
  T *H;
  size_t hidden, ffn;
  float eps;
  int mode, nomem;
};
static void CL(ffn_rows)(void *v, size_t a, size_t b) {
  struct CL(ffn_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  size_t hidden = c->hidden, ffn = c->ffn, rows = b - a;
  const T *x = c->x + a * hidden;
  float *G = c->G + a * ffn, *U = c->U + a * ffn, *Y = c->Y + a * hidden;
  T *H = c->H + a * ffn;
  if (ffn) {
    if (CL(matmul)(kt, rows, ffn, hidden, x, c->wg.w, c->wg.p, true, NULL, G, ffn) != GLLMK_OK ||
        CL(matmul)(kt, rows, ffn, hidden, x, c->wu.w, c->wu.p, true, NULL, U, ffn) != GLLMK_OK)
      goto nomem;
    CL(swiglu_block)(kt, rows * ffn, G, U, H);
  }
  if (CL(matmul)(kt, rows, hidden, ffn, H, c->wd.w, c->wd.p, true, NULL, Y, hidden) != GLLMK_OK)
    goto nomem;
  struct CL(epi_ctx) e = {kt, Y, NULL, c->residual ? c->residual + a * hidden : NULL, c->norm_w,
                          c->out + a * hidden, c->sum_out ? c->sum_out + a * hidden : NULL, hidden,
                          c->eps, c->mode, c->tmp + a * hidden};
  CL(epilogue)(&e, rows);
  return;
nomem:
  __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED);
}

/* the FFN body shared by fused_ffn and fused_ffn_rmsnorm */
static gllmk_status CL(ffn)(const T *x, struct CL(wref) w_gate, struct CL(wref) w_up,
                            struct CL(wref) w_down,
                            const T *residual, const T *norm_w, T *out, T *sum_out, size_t m,
                            size_t hidden, size_t ffn, float eps, int mode) {
  if (!CL(ffn_sizes_ok)(m, hidden, ffn)) return GLLMK_E_OVERFLOW;
  if (mode == 1 && !(eps >= 0.0f)) return GLLMK_E_INVAL;
  bool mh = m && hidden;
  if ((mh && (!x || !out)) || (mh && ffn && (WNULL(w_gate) || WNULL(w_up) || WNULL(w_down))) ||
      (mode == 1 && mh && !norm_w))
    return GLLMK_E_INVAL;
  GET_KT();
  if (!mh) return GLLMK_OK;
  size_t mb = GLLMK_FUSED_ROWS(m);
  size_t gu = mb * ffn, yh = mb * hidden, bytes;
  if (!CL(ffn_bytes)(mb, hidden, ffn, &bytes)) return GLLMK_E_OVERFLOW;
  GLLMK_WS_BEGIN(CL(ffn_plan), m, hidden, ffn);
  float *G = gllmk__ws_alloc(bytes);
  if (!G) return GLLMK_E_NOMEM;
  float *U = G + gu, *Y = U + gu, *tmp = Y + yh;
  T *H = (T *)(tmp + yh);
  struct CL(ffn_ctx) c = {kt, NULL, w_gate, w_up, w_down, NULL, norm_w, NULL, NULL,
                          G, U, NULL, tmp, H, hidden, ffn, eps, mode, 0};
  for (size_t r0 = 0; r0 < m && !c.nomem; r0 += mb) {
    size_t rows = m - r0 < mb ? m - r0 : mb;
    c.x = x + r0 * hidden;
    c.residual = residual ? residual + r0 * hidden : NULL;
    c.out = out + r0 * hidden;
    c.sum_out = sum_out ? sum_out + r0 * hidden : NULL;
    /* f32: the down projection goes straight into out unless out is the
     * residual it still has to add (the epilogue reads before it writes) */
    c.Y = Y;
#if T_IS_F32
    if (out != residual) c.Y = out + r0 * hidden;
#endif
    CL(block_rows)(w_down.p != NULL, rows, 6.0 * (double)rows * (double)hidden * (double)ffn,
                   CL(ffn_rows), &c);
  }
  gllmk__ws_free(G);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

gllmk_status GLLMK_PUB(fused_ffn)(const T *x, const T *w_gate, const T *w_up, const T *w_down,
                                  const T *residual, T *out, size_t m, size_t hidden, size_t ffn) {
  return CL(ffn)(x, WREF(w_gate), WREF(w_up), WREF(w_down), residual, NULL, out, NULL, m, hidden,
                 ffn, 0.0f, 0);
}

gllmk_status GLLMK_PUB(fused_ffn_rmsnorm)(const T *x, const T *w_gate, const T *w_up,
                                          const T *w_down, const T *residual, const T *norm_w,
                                          T *out, T *sum_out, size_t m, size_t hidden, size_t ffn,
                                          float eps) {
  return CL(ffn)(x, WREF(w_gate), WREF(w_up), WREF(w_down), residual, norm_w, out, sum_out, m,
                 hidden, ffn, eps, 1);
}

static int CL(ln_sizes_ok)(size_t m, size_t n, size_t k) {
  size_t t;
  return gllmk__mul(m, k, &t) && CL(bytes_ok)(t) && gllmk__mul(n, k, &t) && CL(bytes_ok)(t) &&
         gllmk__mul3(m, n, sizeof(float), &t) && CL(bytes_ok)(m * n);
}
/* Y [mb x n] f32, the product before the epilogue */
static size_t CL(ln_bytes)(size_t mb, size_t n) { return mb * n * sizeof(float); }

/* f32 draws Y only when out aliases residual (a pointer the shape does not
 * tell), but reserves it always: the op needs exactly what the query says */
static struct gllmk__ws_plan *CL(ln_plan)(struct gllmk__ws_plan *p, size_t m, size_t n, size_t k) {
  gllmk__ws_plan_init(p);
  if (m == 0 || n == 0) return p;
  size_t mb = GLLMK_FUSED_ROWS(m);
  gllmk__ws_plan_buf(p, CL(ln_bytes)(mb, n));
  mm_plan_blocks(p, m, mb, n, k);
  return p;
}

size_t WSQ(fused_linear_residual_rmsnorm)(size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  return CL(ln_sizes_ok)(m, n, k) ? gllmk__ws_query(CL(ln_plan)(&p, m, n, k)) : 0;
}
size_t WSQ(fused_linear_bias_residual_rmsnorm)(size_t m, size_t n, size_t k) {
  return WSQ(fused_linear_residual_rmsnorm)(m, n, k);
}

/* rows [a, b) of a block of linear_norm (x, residual, out, sum_out, Y at its first row) */
struct CL(ln_ctx) {
  const struct gllmk_kernels *kt;
  const T *x;
  struct CL(wref) w;
  const T *bias, *residual, *norm_w;
  T *out, *sum_out;
  float *Y;
  size_t n, k;
  float eps;
  int nomem;
};
static void CL(ln_rows)(void *v, size_t a, size_t b) {
  struct CL(ln_ctx) *c = v;
  size_t n = c->n, rows = b - a;
  if (CL(matmul)(c->kt, rows, n, c->k, c->x + a * c->k, c->w.w, c->w.p, true, NULL, c->Y + a * n,
                 n) != GLLMK_OK) {
    __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED);
    return;
  }
  struct CL(epi_ctx) e = {c->kt, c->Y + a * n, c->bias, c->residual ? c->residual + a * n : NULL,
                          c->norm_w, c->out + a * n, c->sum_out ? c->sum_out + a * n : NULL, n,
                          c->eps, 1, NULL};
  CL(epilogue)(&e, rows);
}

static gllmk_status CL(linear_norm)(const T *x, struct CL(wref) w, const T *bias, bool need_bias,
                                    const T *residual, const T *norm_w, T *out, T *sum_out,
                                    size_t m, size_t n, size_t k, float eps) {
  if (!CL(ln_sizes_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  if (!(eps >= 0.0f)) return GLLMK_E_INVAL;
  bool mn = m && n;
  if ((mn && k && (!x || WNULL(w))) || (mn && (!out || !norm_w)) || (mn && need_bias && !bias))
    return GLLMK_E_INVAL;
  GET_KT();
  if (!mn) return GLLMK_OK;
  size_t mb = GLLMK_FUSED_ROWS(m);
  GLLMK_WS_BEGIN(CL(ln_plan), m, n, k);
  /* f32: X.W^T goes straight into out (the epilogue reads each element before
   * it rewrites it) unless out is the residual it still has to add */
#if T_IS_F32
  bool direct = out != residual;
#else
  bool direct = false;
#endif
  float *Y = direct ? NULL : gllmk__ws_alloc(CL(ln_bytes)(mb, n));
  if (!direct && !Y) return GLLMK_E_NOMEM;
  struct CL(ln_ctx) c = {kt, NULL, w, bias, NULL, norm_w, NULL, NULL, NULL, n, k, eps, 0};
  for (size_t r0 = 0; r0 < m && !c.nomem; r0 += mb) {
    size_t rows = m - r0 < mb ? m - r0 : mb;
#if T_IS_F32
    c.Y = direct ? out + r0 * n : Y;
#else
    c.Y = Y;
#endif
    c.x = x + r0 * k;
    c.residual = residual ? residual + r0 * n : NULL;
    c.out = out + r0 * n;
    c.sum_out = sum_out ? sum_out + r0 * n : NULL;
    CL(block_rows)(w.p != NULL, rows, 2.0 * (double)rows * (double)n * (double)k, CL(ln_rows), &c);
  }
  gllmk__ws_free(Y);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

gllmk_status GLLMK_PUB(fused_linear_residual_rmsnorm)(const T *x, const T *w, const T *residual,
                                                      const T *norm_w, T *out, T *sum_out,
                                                      size_t m, size_t n, size_t k, float eps) {
  return CL(linear_norm)(x, WREF(w), NULL, false, residual, norm_w, out, sum_out, m, n, k, eps);
}

gllmk_status GLLMK_PUB(fused_linear_bias_residual_rmsnorm)(const T *x, const T *w, const T *bias,
                                                           const T *residual, const T *norm_w,
                                                           T *out, T *sum_out, size_t m, size_t n,
                                                           size_t k, float eps) {
  return CL(linear_norm)(x, WREF(w), bias, true, residual, norm_w, out, sum_out, m, n, k, eps);
}

/* y[rows x n] (T) = x W^T, through f32 scratch unless T is f32 */
static gllmk_status CL(linear_to_T)(const struct gllmk_kernels *kt, size_t rows, size_t n, size_t k,
                                    const T *x, struct CL(wref) w, T *y, float *scratch) {
#if T_IS_F32
  (void)scratch;
  return CL(matmul)(kt, rows, n, k, x, w.w, w.p, true, NULL, y, n);
#else
  gllmk_status st = CL(matmul)(kt, rows, n, k, x, w.w, w.p, true, NULL, scratch, n);
  if (st == GLLMK_OK) {
    struct CL(rowcvt_ctx) c = {kt, scratch, y, n};
    gllmk__parallel(rows, 1, 16, CL(rowcvt_run), &c);
  }
  return st;
#endif
}

/* the shape checks of fused_qkv_rope */
static gllmk_status CL(qkv_shape)(size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                                  size_t head_dim, size_t rotary_dim, size_t pos) {
  size_t nq, nkv, t;
  if (!gllmk__mul(heads, head_dim, &nq) || !gllmk__mul(kv_heads, head_dim, &nkv) ||
      !gllmk__mul(seq, hidden, &t) || !CL(bytes_ok)(t) || !gllmk__mul(nq, hidden, &t) ||
      !CL(bytes_ok)(t) || !gllmk__mul(nkv, hidden, &t) || !CL(bytes_ok)(t) ||
      !gllmk__mul3(seq, nq, sizeof(float), &t) || !gllmk__mul3(seq, nkv, sizeof(float), &t))
    return GLLMK_E_OVERFLOW;
  gllmk_status st = CL(rope_check)(seq, heads, head_dim, rotary_dim, pos);
  if (st != GLLMK_OK) return st;
  if (heads == 0 || kv_heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}
#if !T_IS_F32
/* f16/bf16: one projection of a block [mb x nq] in f32 before rounding */
static size_t CL(qkv_bytes)(size_t mb, size_t nq) { return mb * nq * sizeof(float); }
#endif

static struct gllmk__ws_plan *CL(qkv_plan)(struct gllmk__ws_plan *p, size_t seq, size_t hidden,
                                           size_t heads, size_t kv_heads, size_t head_dim) {
  gllmk__ws_plan_init(p);
  if (seq == 0 || head_dim == 0) return p;
  size_t mb = GLLMK_FUSED_ROWS(seq), nq = heads * head_dim, nkv = kv_heads * head_dim;
#if !T_IS_F32
  gllmk__ws_plan_buf(p, CL(qkv_bytes)(mb, nq));
#endif
  mm_plan_blocks(p, seq, mb, nq, hidden);
  mm_plan_blocks(p, seq, mb, nkv, hidden);
  return p;
}

size_t WSQ(fused_qkv_rope)(size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                           size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos) {
  (void)interleaved;
  struct gllmk__ws_plan p;
  if (CL(qkv_shape)(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos) != GLLMK_OK) return 0;
  return gllmk__ws_query(CL(qkv_plan)(&p, seq, hidden, heads, kv_heads, head_dim));
}

/* rows [a, b) of a block of fused_qkv_rope (x, q, k, v at its first row,
 * pos its first position; scratch: [rows x nq] f32 for f16/bf16) */
struct CL(qkv_ctx) {
  const struct gllmk_kernels *kt;
  const T *x;
  struct CL(wref) wq, wk, wv;
  const T *cos, *sin;
  T *q, *k, *v;
  float *scratch;
  size_t hidden, heads, kv_heads, head_dim, rotary_dim, pos;
  bool interleaved;
  int nomem;
};
static void CL(qkv_rows)(void *vc, size_t a, size_t b) {
  struct CL(qkv_ctx) *c = vc;
  const struct gllmk_kernels *kt = c->kt;
  size_t nq = c->heads * c->head_dim, nkv = c->kv_heads * c->head_dim, rows = b - a;
  const T *x = c->x + a * c->hidden;
  T *q = c->q + a * nq, *k = c->k + a * nkv, *v = c->v + a * nkv;
  float *scratch = c->scratch ? c->scratch + a * nq : NULL;
  if (CL(linear_to_T)(kt, rows, nq, c->hidden, x, c->wq, q, scratch) != GLLMK_OK ||
      CL(linear_to_T)(kt, rows, nkv, c->hidden, x, c->wk, k, scratch) != GLLMK_OK ||
      CL(linear_to_T)(kt, rows, nkv, c->hidden, x, c->wv, v, scratch) != GLLMK_OK) {
    __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED);
    return;
  }
  CL(rope_apply)(kt, q, c->cos, c->sin, rows, c->heads, c->head_dim, c->rotary_dim, c->interleaved,
                 c->pos + a);
  CL(rope_apply)(kt, k, c->cos, c->sin, rows, c->kv_heads, c->head_dim, c->rotary_dim,
                 c->interleaved, c->pos + a);
}

static gllmk_status CL(qkv)(const T *x, struct CL(wref) wq, struct CL(wref) wk,
                            struct CL(wref) wv, const T *cos, const T *sin, T *q, T *k, T *v,
                            size_t seq, size_t hidden, size_t heads, size_t kv_heads,
                            size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos) {
  gllmk_status st = CL(qkv_shape)(seq, hidden, heads, kv_heads, head_dim, rotary_dim, pos);
  if (st != GLLMK_OK) return st;
  size_t nq = heads * head_dim, nkv = kv_heads * head_dim;
  bool any = seq && head_dim;
  if (any && (!q || !k || !v)) return GLLMK_E_INVAL;
  if (any && hidden && (!x || WNULL(wq) || WNULL(wk) || WNULL(wv))) return GLLMK_E_INVAL;
  if (any && rotary_dim && (!cos || !sin)) return GLLMK_E_INVAL;
  GET_KT();
  if (!any) return GLLMK_OK;
  size_t mb = GLLMK_FUSED_ROWS(seq);
  GLLMK_WS_BEGIN(CL(qkv_plan), seq, hidden, heads, kv_heads, head_dim);
  float *scratch = NULL;
#if !T_IS_F32
  scratch = gllmk__ws_alloc(CL(qkv_bytes)(mb, nq));
  if (!scratch) return GLLMK_E_NOMEM;
#endif
  struct CL(qkv_ctx) c = {kt, NULL, wq, wk, wv, cos, sin, NULL, NULL, NULL, scratch, hidden, heads,
                          kv_heads, head_dim, rotary_dim, 0, interleaved, 0};
  for (size_t r0 = 0; r0 < seq && !c.nomem; r0 += mb) {
    size_t rows = seq - r0 < mb ? seq - r0 : mb;
    c.x = x + r0 * hidden;
    c.q = q + r0 * nq, c.k = k + r0 * nkv, c.v = v + r0 * nkv;
    c.pos = pos + r0;
    CL(block_rows)(wq.p != NULL, rows, 2.0 * (double)rows * (double)(nq + 2 * nkv) * (double)hidden,
                   CL(qkv_rows), &c);
  }
  gllmk__ws_free(scratch);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

gllmk_status GLLMK_PUB(fused_qkv_rope)(const T *x, const T *wq, const T *wk, const T *wv,
                                       const T *cos, const T *sin, T *q, T *k, T *v, size_t seq,
                                       size_t hidden, size_t heads, size_t kv_heads,
                                       size_t head_dim, size_t rotary_dim, bool interleaved,
                                       size_t pos) {
  return CL(qkv)(x, WREF(wq), WREF(wk), WREF(wv), cos, sin, q, k, v, seq, hidden, heads, kv_heads,
                 head_dim, rotary_dim, interleaved, pos);
}
