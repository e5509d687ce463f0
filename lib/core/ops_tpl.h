/* ops_tpl.h -- public wrappers of the Table A operators for one element type
 * SPDX-License-Identifier: MIT
 *
 * Instantiated by ops.c with T, TN and T_IS_F32 defined.  Each wrapper checks,
 * in this order: sizes whose products (in elements or bytes) overflow size_t
 * (GLLMK_E_OVERFLOW); shapes and scalar arguments (GLLMK_E_INVAL); NULL
 * pointers for buffers that are not empty, and result pointers (GLLMK_E_INVAL);
 * data-dependent indices (ids, page numbers: GLLMK_E_INVAL, checked before
 * anything is written); then whether a kernel table is active
 * (GLLMK_E_UNSUPPORTED).  Nothing is written when a check fails.
 */
#define K(name) (kt->TN.name)

/* ops that draw no workspace (a reduction's partial sums are on the stack) */
#define GLLMK_WS_NONE_N(op) size_t WSQ(op)(size_t n) { (void)n; return 0; }
#define GLLMK_WS_NONE_RN(op) size_t WSQ(op)(size_t rows, size_t n) { (void)rows, (void)n; return 0; }

/* n elements of T fit in memory arithmetic */
static inline int CL(bytes_ok)(size_t n) { size_t b; return gllmk__mul(n, sizeof(T), &b); }

/* ------------------------------------------------------------ reductions */
struct CL(red_ctx) {
  const struct gllmk_kernels *kt;
  int op;
  const T *a, *b;
  size_t n, chunk;
  float *part;
};

static float CL(red_one)(const struct gllmk_kernels *kt, int op, const T *a, const T *b, size_t n) {
  switch (op) {
  case RED_DOT: return K(dot)(n, a, b);
  case RED_SUM: return K(sum)(n, a);
  case RED_SUMSQ: return K(sumsq)(n, a);
  default: return K(max)(n, a);
  }
}

static void CL(red_run)(void *v, size_t c0, size_t c1) {
  struct CL(red_ctx) *c = v;
  for (size_t i = c0; i < c1; i++) {
    size_t off = i * c->chunk, len = c->n - off < c->chunk ? c->n - off : c->chunk;
    c->part[i] = CL(red_one)(c->kt, c->op, c->a + off, c->b ? c->b + off : NULL, len);
  }
}

static float CL(reduce)(const struct gllmk_kernels *kt, int op, const T *a, const T *b, size_t n) {
  if (n <= GLLMK_RED_CHUNK) return CL(red_one)(kt, op, a, b, n);
  size_t chunk = (n + GLLMK_RED_MAX_CHUNKS - 1) / GLLMK_RED_MAX_CHUNKS;
  if (chunk < GLLMK_RED_CHUNK) chunk = GLLMK_RED_CHUNK;
  chunk = (chunk + 63) & ~(size_t)63;
  float part[GLLMK_RED_MAX_CHUNKS];
  struct CL(red_ctx) c = {kt, op, a, b, n, chunk, part};
  size_t nc = (n + chunk - 1) / chunk;
  gllmk__parallel(nc, 1, 1, CL(red_run), &c);
  if (op == RED_MAX) {
    float m = part[0];
    for (size_t i = 1; i < nc; i++) m = (part[i] > m || part[i] != part[i]) && m == m ? part[i] : m;
    return m;
  }
  double s = 0.0;
  for (size_t i = 0; i < nc; i++) s += part[i];
  return (float)s;
}

GLLMK_WS_NONE_N(vec_dot)
GLLMK_WS_NONE_N(vec_sum)
GLLMK_WS_NONE_N(vec_sum_squares)
GLLMK_WS_NONE_N(vec_max)

gllmk_status GLLMK_PUB(vec_dot)(const T *a, const T *b, size_t n, float *result) {
  if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;
  if (!result || (n && (!a || !b))) return GLLMK_E_INVAL;
  GET_KT();
  *result = CL(reduce)(kt, RED_DOT, a, b, n);
  return GLLMK_OK;
}

gllmk_status GLLMK_PUB(vec_sum)(const T *x, size_t n, float *result) {
  if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;
  if (!result || (n && !x)) return GLLMK_E_INVAL;
  GET_KT();
  *result = CL(reduce)(kt, RED_SUM, x, NULL, n);
  return GLLMK_OK;
}

gllmk_status GLLMK_PUB(vec_sum_squares)(const T *x, size_t n, float *result) {
  if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;
  if (!result || (n && !x)) return GLLMK_E_INVAL;
  GET_KT();
  *result = CL(reduce)(kt, RED_SUMSQ, x, NULL, n);
  return GLLMK_OK;
}

gllmk_status GLLMK_PUB(vec_max)(const T *x, size_t n, float *result) {
  if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;
  if (!result || n == 0 || !x) return GLLMK_E_INVAL;
  GET_KT();
  *result = CL(reduce)(kt, RED_MAX, x, NULL, n);
  return GLLMK_OK;
}

/* ------------------------------------------------------------ elementwise */
struct CL(ew_ctx) {
  const struct gllmk_kernels *kt;
  int op;
  const T *a, *b;
  T *out;
  float s;
};

static void CL(ew_run)(void *v, size_t i0, size_t i1) {
  struct CL(ew_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  size_t n = i1 - i0;
  const T *a = c->a ? c->a + i0 : NULL, *b = c->b ? c->b + i0 : NULL;
  T *o = c->out + i0;
  switch (c->op) {
  case EW_ADD: K(add)(n, a, b, o); break;
  case EW_SUB: K(sub)(n, a, b, o); break;
  case EW_MUL: K(mul)(n, a, b, o); break;
  case EW_SCALE: K(scale)(n, o, c->s); break;
  case EW_AXPY: K(axpy)(n, o, c->s, a); break;
  case EW_SILU: K(silu)(n, a, o); break;
  case EW_GELU: K(gelu)(n, a, o); break;
  case EW_RELU: K(relu)(n, a, o); break;
  case EW_TANH: K(tanh)(n, a, o); break;
  case EW_EXP: K(exp)(n, a, o); break;
  case EW_SWIGLU: K(swiglu)(n, a, b, o); break;
  }
}

static void CL(ew)(const struct gllmk_kernels *kt, int op, const T *a, const T *b, T *out, float s,
                   size_t n) {
  struct CL(ew_ctx) c = {kt, op, a, b, out, s};
  gllmk__parallel(n, 1024, GLLMK_PAR_MIN_ELEMS, CL(ew_run), &c);
}

#define GLLMK_BINARY_OP(name, code)                                            \
  gllmk_status GLLMK_PUB(name)(const T *a, const T *b, T *out, size_t n) {     \
    if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;                             \
    if (n && (!a || !b || !out)) return GLLMK_E_INVAL;                         \
    GET_KT();                                                                  \
    CL(ew)(kt, code, a, b, out, 0.0f, n);                                      \
    return GLLMK_OK;                                                           \
  }
GLLMK_BINARY_OP(vec_add, EW_ADD)
GLLMK_BINARY_OP(vec_sub, EW_SUB)
GLLMK_BINARY_OP(vec_mul, EW_MUL)
GLLMK_BINARY_OP(swiglu, EW_SWIGLU)
#undef GLLMK_BINARY_OP

gllmk_status GLLMK_PUB(vec_scale)(T *x, float s, size_t n) {
  if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;
  if (n && !x) return GLLMK_E_INVAL;
  GET_KT();
  CL(ew)(kt, EW_SCALE, NULL, NULL, x, s, n);
  return GLLMK_OK;
}

gllmk_status GLLMK_PUB(vec_axpy)(T *y, float a, const T *x, size_t n) {
  if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;
  if (n && (!x || !y)) return GLLMK_E_INVAL;
  GET_KT();
  CL(ew)(kt, EW_AXPY, x, NULL, y, a, n);
  return GLLMK_OK;
}

#define GLLMK_UNARY_OP(name, code)                                             \
  gllmk_status GLLMK_PUB(name)(const T *x, T *out, size_t n) {                 \
    if (!CL(bytes_ok)(n)) return GLLMK_E_OVERFLOW;                             \
    if (n && (!x || !out)) return GLLMK_E_INVAL;                               \
    GET_KT();                                                                  \
    CL(ew)(kt, code, x, NULL, out, 0.0f, n);                                   \
    return GLLMK_OK;                                                           \
  }
GLLMK_UNARY_OP(silu, EW_SILU)
GLLMK_UNARY_OP(gelu, EW_GELU)
GLLMK_UNARY_OP(relu, EW_RELU)
GLLMK_UNARY_OP(tanh, EW_TANH)
GLLMK_UNARY_OP(exp, EW_EXP)
#undef GLLMK_UNARY_OP

GLLMK_WS_NONE_N(vec_add)
GLLMK_WS_NONE_N(vec_sub)
GLLMK_WS_NONE_N(vec_mul)
GLLMK_WS_NONE_N(swiglu)
GLLMK_WS_NONE_N(vec_scale)
GLLMK_WS_NONE_N(vec_axpy)
GLLMK_WS_NONE_N(silu)
GLLMK_WS_NONE_N(gelu)
GLLMK_WS_NONE_N(relu)
GLLMK_WS_NONE_N(tanh)
GLLMK_WS_NONE_N(exp)

/* ------------------------------------------------------------ matrix */
struct CL(mm_ctx) {
  const struct gllmk_kernels *kt;
  size_t m, n, k, lda, ldb, ldc;
  const T *A, *B;
  const float *P;           /* B's panels (a packed weight), or NULL */
  const float *bias;
  float *C;
  bool b_trans, by_rows;
  int nomem;
  size_t nr;                /* with P: columns per panel; a column split counts panels */
};

static void CL(mm_rows_small)(void *v, size_t j0, size_t j1) {   /* linear_rows over W rows */
  struct CL(mm_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  K(linear_rows)(c->m, j1 - j0, c->k, c->A, c->B + j0 * c->ldb, c->C + j0, c->ldc);
}

static void CL(mm_packed)(void *v, size_t b, size_t e) {
  struct CL(mm_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  float *ws = gllmk__scratch(GLLMK_SCRATCH_GEMM, GLLMK_GEMM_WS_FLOATS);
  if (!ws) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  if (c->by_rows)
    K(gemm)(e - b, c->n, c->k, c->A + b * c->lda, c->lda, c->B, c->ldb, c->b_trans, c->bias,
            c->C + b * c->ldc, c->ldc, ws);
  else
    K(gemm)(c->m, e - b, c->k, c->A, c->lda, c->b_trans ? c->B + b * c->ldb : c->B + b, c->ldb,
            c->b_trans, c->bias ? c->bias + b : NULL, c->C + b, c->ldc, ws);
}

static void CL(mm_panels)(void *v, size_t b, size_t e) {
  struct CL(mm_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  float *ws = gllmk__scratch(GLLMK_SCRATCH_GEMM, GLLMK_GEMM_WS_FLOATS);
  if (!ws) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  if (c->by_rows) {
    K(gemm_panels)(e - b, c->n, c->k, c->A + b * c->lda, c->lda, c->P, c->bias, c->C + b * c->ldc,
                   c->ldc, ws);
    return;
  }
  size_t j0 = b * c->nr, j1 = e * c->nr < c->n ? e * c->nr : c->n;
  K(gemm_panels)(c->m, j1 - j0, c->k, c->A, c->lda, c->P + j0 * c->k, c->bias ? c->bias + j0 : NULL,
                 c->C + j0, c->ldc, ws);
}

/* C = A . B with B given as the panels P of a packed weight: the packed GEMM
 * at every m (no linear_rows path), split by rows as mm_split does or by
 * whole panels.  Each element of C sums the same products in the same order
 * however the work is split, so the bits are those of the unpacked GEMM. */
static gllmk_status CL(matmul_panels)(const struct gllmk_kernels *kt, size_t m, size_t n, size_t k,
                                      const T *A, const float *P, const float *bias, float *C,
                                      size_t ldc) {
  size_t nr = K(gemm_nr)();
  double work = (double)m * (double)n * (double)k;
  struct CL(mm_ctx) c = {kt, m, n, k, k, 0, ldc, A, NULL, P, bias, C, true, m > n, 0, nr};
  size_t panels = (n + nr - 1) / nr;
  size_t count = c.by_rows ? m : panels;
  size_t grain = c.by_rows ? GLLMK_GEMM_ROW_GRAIN : (64 + nr - 1) / nr;
  gllmk__parallel(count, grain, work < 4e6 ? count : 1, CL(mm_panels), &c);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

/* C[m x n] (f32, row stride ldc) = A[m x k] . B (B [k x n], or W [n x k] when
 * b_trans, or the panels P of a packed weight when P is not NULL) + bias (f32
 * [n] or NULL), on up to gllmk__nthreads() threads, split as mm_split says
 * (mm_plan: its scratch).  GLLMK_E_NOMEM when a thread got no scratch; C is
 * then partly written. */
static gllmk_status CL(matmul)(const struct gllmk_kernels *kt, size_t m, size_t n, size_t k,
                               const T *A, const T *B, const float *P, bool b_trans,
                               const float *bias, float *C, size_t ldc) {
  if (m == 0 || n == 0) return GLLMK_OK;
  if (P) return CL(matmul_panels)(kt, m, n, k, A, P, bias, C, ldc);
  struct mm_split s = mm_split(m, n, k, b_trans, bias != NULL);
  struct CL(mm_ctx) c = {kt, m, n, k, k, b_trans ? k : n, ldc, A, B, NULL, bias, C, b_trans,
                         s.by_rows, 0, 0};
  if (!s.packed) {
    gllmk__parallel(s.count, s.grain, s.min_per_thread, CL(mm_rows_small), &c);
    return GLLMK_OK;
  }
  gllmk__parallel(s.count, s.grain, s.min_per_thread, CL(mm_packed), &c);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

#if !T_IS_F32
struct CL(rowcvt_ctx) { const struct gllmk_kernels *kt; const float *src; T *dst; size_t n; };
static void CL(rowcvt_run)(void *v, size_t r0, size_t r1) {
  struct CL(rowcvt_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  K(from_f32)((r1 - r0) * c->n, c->src + r0 * c->n, c->dst + r0 * c->n);
}
#endif

static int CL(gemm_sizes_ok)(size_t m, size_t n, size_t k) {
  size_t mk, kn, mn, bytes;
  return gllmk__mul(m, k, &mk) && gllmk__mul(k, n, &kn) && gllmk__mul(m, n, &mn) &&
         CL(bytes_ok)(mk) && CL(bytes_ok)(kn) && gllmk__mul(mn, sizeof(float), &bytes);
}

#if !T_IS_F32
/* f16/bf16: bytes of the f32 C [m x n] and bias [n]; false on overflow */
static int CL(gemm_cf_bytes)(size_t m, size_t n, bool bias, size_t *bytes) {
  size_t mn;
  return gllmk__mul(m, n, &mn) && gllmk__add(mn, bias ? n : 0, bytes) &&
         gllmk__mul(*bytes, sizeof(float), bytes);
}
#endif

/* B [k x n], or W [n x k] (b_trans, linear's layout): decode shapes of W
 * (m <= 8) stream its rows without a bias in the kernel (it is added after) */
static bool CL(bias_in_kernel)(bool b_trans, size_t m) { return !b_trans || m > 8; }

static struct gllmk__ws_plan *CL(gemm_plan)(struct gllmk__ws_plan *p, size_t m, size_t n, size_t k,
                                            bool b_trans, bool bias) {
  gllmk__ws_plan_init(p);
  if (m == 0 || n == 0) return p;
#if !T_IS_F32
  size_t cf;
  if (CL(gemm_cf_bytes)(m, n, bias, &cf)) gllmk__ws_plan_buf(p, cf);
  else p->overflow = true;
#endif
  mm_plan(p, m, n, k, b_trans, bias && CL(bias_in_kernel)(b_trans, m));
  return p;
}

size_t WSQ(gemm)(size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  return CL(gemm_sizes_ok)(m, n, k) ? gllmk__ws_query(CL(gemm_plan)(&p, m, n, k, false, false)) : 0;
}
size_t WSQ(gemm_bias)(size_t m, size_t n, size_t k) {
  struct gllmk__ws_plan p;
  return CL(gemm_sizes_ok)(m, n, k) ? gllmk__ws_query(CL(gemm_plan)(&p, m, n, k, false, true)) : 0;
}

/* B [k x n], W [n x k] (b_trans), or the panels P of a packed weight (B and
 * b_trans unused) */
static gllmk_status CL(gemm_common)(const T *A, const T *B, const float *P, bool b_trans,
                                    const T *bias, T *C, size_t m, size_t n, size_t k) {
  if (!CL(gemm_sizes_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  size_t mn = m * n;
  if ((m && k && !A) || (k && n && !B && !P) || (mn && !C))
    return GLLMK_E_INVAL;
  GET_KT();
  if (mn == 0) return GLLMK_OK;
  /* f32 C is written in place; f16/bf16 C is accumulated in f32 and rounded once */
#if T_IS_F32
  GLLMK_WS_BEGIN(CL(gemm_plan), m, n, k, b_trans, bias != NULL);
  float *Cf = C;
  const float *bf = bias;
#else
  size_t cf;
  if (!CL(gemm_cf_bytes)(m, n, bias != NULL, &cf)) return GLLMK_E_OVERFLOW;
  GLLMK_WS_BEGIN(CL(gemm_plan), m, n, k, b_trans, bias != NULL);
  float *Cf = gllmk__ws_alloc(cf);
  if (!Cf) return GLLMK_E_NOMEM;
  float *bf = NULL;
  if (bias) {
    bf = Cf + mn;
    K(to_f32)(n, bias, bf);
  }
#endif
  bool in_kernel = P || CL(bias_in_kernel)(b_trans, m);
  gllmk_status st = CL(matmul)(kt, m, n, k, A, B, P, b_trans, in_kernel ? bf : NULL, Cf, n);
  if (st == GLLMK_OK && bf && !in_kernel)
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) Cf[i * n + j] += bf[j];
#if !T_IS_F32
  if (st == GLLMK_OK) {
    struct CL(rowcvt_ctx) c = {kt, Cf, C, n};
    gllmk__parallel(m, 1, 16, CL(rowcvt_run), &c);
  }
  gllmk__ws_free(Cf);
#endif
  return st;
}

gllmk_status GLLMK_PUB(gemm)(const T *A, const T *B, T *C, size_t m, size_t n, size_t k) {
  return CL(gemm_common)(A, B, NULL, false, NULL, C, m, n, k);
}

gllmk_status GLLMK_PUB(gemm_bias)(const T *A, const T *B, const T *bias, T *C, size_t m, size_t n,
                                  size_t k) {
  if (!CL(gemm_sizes_ok)(m, n, k)) return GLLMK_E_OVERFLOW;
  if (m && n && !bias) return GLLMK_E_INVAL;
  return CL(gemm_common)(A, B, NULL, false, bias, C, m, n, k);
}

GLLMK_WS_NONE_RN(gemv)

struct CL(gemv_ctx) { const struct gllmk_kernels *kt; const T *A, *x; T *y; size_t n; };
static void CL(gemv_run)(void *v, size_t r0, size_t r1) {
  struct CL(gemv_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  K(gemv)(r1 - r0, c->n, c->A + r0 * c->n, c->x, c->y + r0);
}

gllmk_status GLLMK_PUB(gemv)(const T *A, const T *x, T *y, size_t m, size_t n) {
  size_t mn;
  if (!gllmk__mul(m, n, &mn) || !CL(bytes_ok)(mn) || !CL(bytes_ok)(m)) return GLLMK_E_OVERFLOW;
  if ((mn && (!A || !x)) || (m && !y)) return GLLMK_E_INVAL;
  GET_KT();
  struct CL(gemv_ctx) c = {kt, A, x, y, n};
  size_t min_rows = n ? GLLMK_PAR_MIN_ELEMS / n : m;
  gllmk__parallel(m, 4, min_rows ? min_rows : 1, CL(gemv_run), &c);
  return GLLMK_OK;
}

/* ------------------------------------------------------------ row-wise */
struct CL(row_ctx) {
  const struct gllmk_kernels *kt;
  int op;
  const T *x, *w, *b;
  T *out;
  size_t n;
  float eps;
};
static void CL(row_run)(void *v, size_t r0, size_t r1) {
  struct CL(row_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  for (size_t r = r0; r < r1; r++) {
    const T *x = c->x + r * c->n;
    T *o = c->out + r * c->n;
    if (c->op == ROW_SOFTMAX) K(softmax_row)(c->n, x, o);
    else if (c->op == ROW_RMS) K(rms_norm_row)(c->n, x, c->w, o, c->eps);
    else K(layer_norm_row)(c->n, x, c->w, c->b, o, c->eps);
  }
}

static gllmk_status CL(rows)(int op, const T *x, const T *w, const T *b, T *out, size_t rows,
                             size_t n, float eps) {
  size_t rn;
  if (!gllmk__mul(rows, n, &rn) || !CL(bytes_ok)(rn)) return GLLMK_E_OVERFLOW;
  if (op != ROW_SOFTMAX && !(eps >= 0.0f)) return GLLMK_E_INVAL;
  if (rn && (!x || !out || (op != ROW_SOFTMAX && !w) || (op == ROW_LAYER && !b)))
    return GLLMK_E_INVAL;
  GET_KT();
  if (rn == 0) return GLLMK_OK;
  struct CL(row_ctx) c = {kt, op, x, w, b, out, n, eps};
  size_t min_rows = GLLMK_PAR_MIN_ELEMS / 2 / n;
  gllmk__parallel(rows, 1, min_rows ? min_rows : 1, CL(row_run), &c);
  return GLLMK_OK;
}

GLLMK_WS_NONE_RN(softmax)
GLLMK_WS_NONE_RN(rms_norm)
GLLMK_WS_NONE_RN(layer_norm)

gllmk_status GLLMK_PUB(softmax)(const T *x, T *out, size_t rows, size_t n) {
  return CL(rows)(ROW_SOFTMAX, x, NULL, NULL, out, rows, n, 0.0f);
}
gllmk_status GLLMK_PUB(rms_norm)(const T *x, const T *w, T *out, size_t rows, size_t n, float eps) {
  return CL(rows)(ROW_RMS, x, w, NULL, out, rows, n, eps);
}
gllmk_status GLLMK_PUB(layer_norm)(const T *x, const T *gamma, const T *beta, T *out, size_t rows,
                                   size_t n, float eps) {
  return CL(rows)(ROW_LAYER, x, gamma, beta, out, rows, n, eps);
}

/* ------------------------------------------------------------ rope */
struct CL(rope_ctx) {
  const struct gllmk_kernels *kt;
  T *qk;
  const T *cs, *sn;
  size_t heads, hd, rd, pos;
  bool inter;
};
static void CL(rope_run)(void *v, size_t t0, size_t t1) {
  struct CL(rope_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  size_t half = c->rd / 2;
  for (size_t t = t0; t < t1; t++)
    K(rope_token)(c->qk + t * c->heads * c->hd, c->cs + (c->pos + t) * half,
                  c->sn + (c->pos + t) * half, c->heads, c->hd, c->rd, c->inter);
}

/* validation shared by rope, rope_with_pos and fused_qkv_rope's rope part */
static gllmk_status CL(rope_check)(size_t seq, size_t heads, size_t head_dim, size_t rotary_dim,
                                   size_t pos) {
  size_t x, rows;
  if (!gllmk__mul3(seq, heads, head_dim, &x) || !CL(bytes_ok)(x) || !gllmk__add(pos, seq, &rows) ||
      !gllmk__mul(rows, rotary_dim / 2, &x) || !CL(bytes_ok)(x))
    return GLLMK_E_OVERFLOW;
  if (rotary_dim % 2 || rotary_dim > head_dim) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static void CL(rope_apply)(const struct gllmk_kernels *kt, T *qk, const T *cs, const T *sn,
                           size_t seq, size_t heads, size_t hd, size_t rd, bool inter, size_t pos) {
  if (rd == 0 || heads == 0 || seq == 0) return;
  struct CL(rope_ctx) c = {kt, qk, cs, sn, heads, hd, rd, pos, inter};
  size_t per = heads * hd;
  size_t min_tok = GLLMK_PAR_MIN_ELEMS / 4 / per;
  gllmk__parallel(seq, 1, min_tok ? min_tok : 1, CL(rope_run), &c);
}

size_t WSQ(rope)(size_t seq, size_t heads, size_t head_dim, size_t rotary_dim, bool interleaved) {
  (void)seq, (void)heads, (void)head_dim, (void)rotary_dim, (void)interleaved;
  return 0;
}
size_t WSQ(rope_with_pos)(size_t seq, size_t heads, size_t head_dim, size_t rotary_dim,
                          bool interleaved, size_t pos) {
  (void)seq, (void)heads, (void)head_dim, (void)rotary_dim, (void)interleaved, (void)pos;
  return 0;
}

gllmk_status GLLMK_PUB(rope_with_pos)(T *qk, const T *cos, const T *sin, size_t seq, size_t heads,
                                      size_t head_dim, size_t rotary_dim, bool interleaved,
                                      size_t pos) {
  gllmk_status st = CL(rope_check)(seq, heads, head_dim, rotary_dim, pos);
  if (st != GLLMK_OK) return st;
  bool touches = seq && heads && rotary_dim;
  if (touches && (!qk || !cos || !sin)) return GLLMK_E_INVAL;
  GET_KT();
  CL(rope_apply)(kt, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, pos);
  return GLLMK_OK;
}

gllmk_status GLLMK_PUB(rope)(T *qk, const T *cos, const T *sin, size_t seq, size_t heads,
                             size_t head_dim, size_t rotary_dim, bool interleaved) {
  return GLLMK_PUB(rope_with_pos)(qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, 0);
}

/* ------------------------------------------------------------ embedding */
size_t WSQ(embedding_lookup)(size_t n_ids, size_t vocab, size_t hidden) {
  (void)n_ids, (void)vocab, (void)hidden;
  return 0;
}

gllmk_status GLLMK_PUB(embedding_lookup)(const uint32_t *ids, size_t n_ids, const T *table,
                                         size_t vocab, size_t hidden, T *out) {
  size_t x;
  if (!gllmk__mul(vocab, hidden, &x) || !CL(bytes_ok)(x) || !gllmk__mul(n_ids, hidden, &x) ||
      !CL(bytes_ok)(x))
    return GLLMK_E_OVERFLOW;
  if (n_ids && !ids) return GLLMK_E_INVAL;
  if (n_ids && hidden && (!table || !out)) return GLLMK_E_INVAL;
  for (size_t i = 0; i < n_ids; i++)
    if (ids[i] >= vocab) return GLLMK_E_INVAL;
  GET_KT();
  (void)kt;
  if (hidden)
    for (size_t i = 0; i < n_ids; i++)
      memcpy(out + i * hidden, table + (size_t)ids[i] * hidden, hidden * sizeof(T));
  return GLLMK_OK;
}

/* ------------------------------------------------------------ attention */
struct CL(attn_ctx) {
  const struct gllmk_kernels *kt;
  const struct gllmk__attn *a;
  size_t nqb, ws_floats;
  int nomem;
};
static void CL(attn_run)(void *v, size_t i0, size_t i1) {
  struct CL(attn_ctx) *c = v;
  const struct gllmk_kernels *kt = c->kt;
  float *ws = gllmk__scratch(GLLMK_SCRATCH_ATTN, c->ws_floats);
  if (!ws) { __atomic_store_n(&c->nomem, 1, __ATOMIC_RELAXED); return; }
  for (size_t i = i0; i < i1; i++) {
    size_t kvh = i / c->nqb, q0 = (i % c->nqb) * GLLMK_ATTN_QB;
    size_t q1 = q0 + GLLMK_ATTN_QB < c->a->q_len ? q0 + GLLMK_ATTN_QB : c->a->q_len;
    K(attention)(c->a, kvh, q0, q1, ws);
  }
}

/* a GLLMK_SCRATCH_ATTN region per thread of attn_split (shapes valid) */
static struct gllmk__ws_plan *CL(attn_plan)(struct gllmk__ws_plan *p, size_t q_len, size_t kv_len,
                                            size_t heads, size_t kv_heads, size_t head_dim) {
  gllmk__ws_plan_init(p);
  if (q_len == 0 || heads == 0 || head_dim == 0) return p;
  struct attn_split s = attn_split(q_len, kv_len, heads, kv_heads, head_dim);
  gllmk__ws_plan_slot(p, GLLMK_SCRATCH_ATTN, gllmk__attn_ws_floats(heads / kv_heads, head_dim),
                      gllmk__parallel_width(s.items, 1, s.min_per_thread));
  return p;
}

static gllmk_status CL(attn_run_all)(const struct gllmk_kernels *kt, const struct gllmk__attn *a) {
  if (a->q_len == 0 || a->heads == 0 || a->head_dim == 0) return GLLMK_OK;
  GLLMK_WS_BEGIN(CL(attn_plan), a->q_len, a->kv_len, a->heads, a->kv_heads, a->head_dim);
  struct attn_split s = attn_split(a->q_len, a->kv_len, a->heads, a->kv_heads, a->head_dim);
  struct CL(attn_ctx) c = {kt, a, s.nqb, gllmk__attn_ws_floats(a->heads / a->kv_heads, a->head_dim), 0};
  gllmk__parallel(s.items, 1, s.min_per_thread, CL(attn_run), &c);
  return c.nomem ? GLLMK_E_NOMEM : GLLMK_OK;
}

static gllmk_status CL(attn_shape)(size_t q_len, size_t kv_len, size_t heads, size_t kv_heads,
                                   size_t head_dim) {
  size_t x;
  if (!gllmk__mul3(q_len, heads, head_dim, &x) || !CL(bytes_ok)(x) ||
      !gllmk__mul3(kv_len, kv_heads, head_dim, &x) || !CL(bytes_ok)(x) ||
      !gllmk__mul(heads, head_dim, &x) || !gllmk__mul(x, 2 * GLLMK_ATTN_QB + 2, &x) ||
      !gllmk__mul(x, sizeof(float), &x))
    return GLLMK_E_OVERFLOW;
  if (kv_heads == 0 || heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* the shape checks of flash_attention_paged */
static gllmk_status CL(paged_shape)(size_t seq, size_t cache_len, size_t heads, size_t kv_heads,
                                    size_t head_dim, size_t page_size, size_t n_pages) {
  gllmk_status st = CL(attn_shape)(seq, cache_len, heads, kv_heads, head_dim);
  if (st != GLLMK_OK) return st;
  size_t x;
  if (!gllmk__mul3(n_pages, page_size, kv_heads, &x) || !gllmk__mul(x, head_dim, &x) ||
      !CL(bytes_ok)(x))
    return GLLMK_E_OVERFLOW;
  if (page_size == 0 || seq > cache_len || (cache_len && n_pages == 0)) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

size_t WSQ(flash_attention)(size_t q_len, size_t kv_len, size_t heads, size_t kv_heads,
                            size_t head_dim, bool causal) {
  (void)causal;
  struct gllmk__ws_plan p;
  if (CL(attn_shape)(q_len, kv_len, heads, kv_heads, head_dim) != GLLMK_OK) return 0;
  return gllmk__ws_query(CL(attn_plan)(&p, q_len, kv_len, heads, kv_heads, head_dim));
}

size_t WSQ(flash_attention_paged)(size_t seq, size_t cache_len, size_t heads, size_t kv_heads,
                                  size_t head_dim, size_t page_size, size_t n_pages) {
  struct gllmk__ws_plan p;
  if (CL(paged_shape)(seq, cache_len, heads, kv_heads, head_dim, page_size, n_pages) != GLLMK_OK)
    return 0;
  return gllmk__ws_query(CL(attn_plan)(&p, seq, cache_len, heads, kv_heads, head_dim));
}

gllmk_status GLLMK_PUB(flash_attention)(const T *q, const T *k, const T *v, T *out, size_t q_len,
                                        size_t kv_len, size_t heads, size_t kv_heads,
                                        size_t head_dim, float scale, bool causal) {
  gllmk_status st = CL(attn_shape)(q_len, kv_len, heads, kv_heads, head_dim);
  if (st != GLLMK_OK) return st;
  bool qn = q_len && head_dim, kn = kv_len && head_dim;
  if ((qn && (!q || !out)) || (qn && kn && (!k || !v))) return GLLMK_E_INVAL;
  GET_KT();
  struct gllmk__attn a = {q, k, v, out, NULL, kv_len ? kv_len : 1, q_len, kv_len, heads,
                          kv_heads, head_dim, scale, causal};
  return CL(attn_run_all)(kt, &a);
}

gllmk_status GLLMK_PUB(flash_attention_paged)(const T *q, const T *k_cache, const T *v_cache,
                                              const uint32_t *page_table, T *out, size_t seq,
                                              size_t cache_len, size_t heads, size_t kv_heads,
                                              size_t head_dim, size_t page_size, size_t n_pages,
                                              float scale) {
  gllmk_status st =
      CL(paged_shape)(seq, cache_len, heads, kv_heads, head_dim, page_size, n_pages);
  if (st != GLLMK_OK) return st;
  bool qn = seq && head_dim;
  if ((qn && (!q || !out)) || (cache_len && !page_table) || (qn && (!k_cache || !v_cache)))
    return GLLMK_E_INVAL;
  size_t used = (cache_len + page_size - 1) / page_size;
  for (size_t i = 0; i < used; i++)
    if (page_table[i] >= n_pages) return GLLMK_E_INVAL;
  GET_KT();
  struct gllmk__attn a = {q, k_cache, v_cache, out, page_table, page_size, seq, cache_len, heads,
                          kv_heads, head_dim, scale, true};
  return CL(attn_run_all)(kt, &a);
}

/* ------------------------------------------------------------ fused */
#include "core/fused_tpl.h"

/* ------------------------------------------------------------ model layer */
#include "core/l3_tpl.h"

#undef GLLMK_WS_NONE_N
#undef GLLMK_WS_NONE_RN
#undef K
