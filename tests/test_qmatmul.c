/* test_qmatmul.c -- quantized matmuls (Tables C and D): Y[m x n] = X[m x k] . W^T
 * SPDX-License-Identifier: MIT
 *
 * Every op of gllmk/quant_ops.h (fused_dequant_gemv, kquant_matmul,
 * iq_matmul, awq_matmul, gptq_matmul, squeeze_matmul and the fused_*
 * specialisations) x f32/f16/bf16 x every runnable ISA, against a double
 * reference computed here: the weights decoded by gllmk_dequantize (checked
 * bit for bit against ggml's vectors by test_dequant) or, for AWQ4 / GPTQ4,
 * by the decoder below; the activations as rounded to the element type.
 *
 * Weights are random bytes with sane scales, independent of the quantizers:
 * every scale field of a GGUF block (offsets from the test-vector README)
 * becomes +-2^u, u uniform in [-8, 0] (q8_K: f32 d, and its bsums recomputed;
 * iq1_m: the four nibbles of its super-scale); SqueezeLLM codebooks are
 * random f16 values in [-1, 1]; AWQ4 / GPTQ4 arrays are built directly
 * (random codes and zeros, f16 scales in +-[2^-8, 1]; GPTQ g_idx sequential,
 * permuted groups or act-order: random per column).
 *
 * Shapes: m = 1, 2, 7, 16, 64; k = 1..4 blocks (32..128 and 288 for the
 * 32-value formats, 256..1024 for the 256-value ones, 128..1024 for AWQ4 /
 * GPTQ4 plus a few odd GPTQ widths); n = 1, 3, 17, 64; one LLM-like size per
 * family (m = 1 and m = 20, n = 256, k = 4096), also run on 1, 2 and 3
 * threads.
 *
 * Tolerance per output element (|got - ref| <= tol + the rounding of the
 * store to f16/bf16, tu_match):
 *  - the integer paths (lib/quant/qmatmul.c: the decode GEMV for m < 16,
 *    the int8 GEMM from m = 16 on): activations quantized to
 *    int8 per chunk of 32 with a = max |x| over the chunk, an error of at
 *    most a/254 per value: tol = sum over chunks (a/254) * sum |w| over the
 *    chunk (times 1.001 for the f32 rounding of the scales), plus
 *    1e-5 * sum |w x|.
 *    Besides, the same outputs against the product with the activations
 *    replaced as qmatmul.c documents, (a/127) * round(127 x / a), within
 *    (1e-5 + tu_acc_eps(k/32)) * sum |w xq| plus one step where 127 x / a is
 *    within 1e-3 of a tie (every decode shape, and the GEMM shapes up to
 *    2^22 multiply-adds): much tighter than the bound, so that a wrong
 *    weight in an integer-path kernel is caught even at k = 4096.
 *  - the formats with no integer form (SqueezeLLM, GPTQ4 whose group
 *    changes inside 16 columns, as qmatmul.c documents: f32 GEMV, and decode
 *    + f32 GEMM from m = 16 on): tol = tu_acc_eps(k) * sum |w x|.
 *  - Tiny activation chunks (max |x| below 127 / FLT_MAX, f32 and f16
 *    subnormals) and all-zero chunks: the documented bound; zero rows give 0.
 * Also: both paths agree on the same rows; fused_* variants and the family
 * ops give bitwise the same outputs as their generic op; the integer path is
 * bitwise independent of the thread count; NaN / inf activations give
 * NaN / inf in the affected rows only (the f32 path exactly as IEEE says);
 * bad arguments (in forked children, buffers watched) give the right status
 * and touch nothing.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_M_GEMM 16 /* from this many rows on: the GEMM paths (int8 or f32) */

/* ------------------------------------------------------------------ formats */
enum { SC_F16 = 0, SC_F32 = 1, SC_IQ1M = 2, SC_E8M0 = 3 };
enum { K_GGUF_KQ = 0, K_GGUF_IQ, K_SQ, K_AWQ, K_GPTQ_INT, K_GPTQ_ACT };

typedef struct fmt {
  const char *name;
  gllmk_qtype t;
  size_t bs, bb;
  int kind;       /* K_* */
  int sc_kind;    /* SC_*, GGUF only */
  int d_off, m_off;
} fmt;

/* the GGUF formats are the rows of lib/quant/qformats.def */
static const fmt FMTS[] = {
#define GLLMK_QFMT(tok, QT, name, bs, bb, kind, dot, fam, sc, d_off, m_off, quant) \
  { name, GLLMK_##QT, bs, bb, K_GGUF_##fam, SC_##sc, d_off, m_off },
#include "quant/qformats.def"
#undef GLLMK_QFMT
  { "squeezellm", GLLMK_SQUEEZELLM, 256, 112, K_SQ, 0, 0, -1 },
  { "awq4", GLLMK_AWQ4, 128, 64, K_AWQ, 0, 0, -1 },
  { "gptq4 (g_idx constant per 16 columns)", GLLMK_GPTQ4, 128, 64, K_GPTQ_INT, 0, 0, -1 },
  { "gptq4 (act order)", GLLMK_GPTQ4, 128, 64, K_GPTQ_ACT, 0, 0, -1 },
};
#define NFMT ((int)(sizeof FMTS / sizeof FMTS[0]))

/* ops */
enum { OP_FDG = 0, OP_KQ, OP_IQ, OP_SQ, OP_FIQ1S, OP_FIQ2XXS, OP_FSQ, OP_AWQ, OP_FAWQ, OP_GPTQ,
       OP_FGPTQ, N_OPS };
static const char *OP_NAMES[N_OPS] = {
  "fused_dequant_gemv", "kquant_matmul", "iq_matmul", "squeeze_matmul", "fused_iq1_s_matmul",
  "fused_iq2_xxs_matmul", "fused_squeeze_matmul", "awq_matmul", "fused_awq4_matmul",
  "gptq_matmul", "fused_gptq4_matmul",
};

/* the ops that take format f; ops[0] is the generic one the others must equal */
static int ops_of(const fmt *f, int *ops)
{
  int n = 0;
  switch (f->kind) {
  case K_GGUF_KQ: ops[n++] = OP_FDG; ops[n++] = OP_KQ; break;
  case K_GGUF_IQ:
    ops[n++] = OP_IQ;
    ops[n++] = OP_FDG;
    if (f->t == GLLMK_IQ1_S) ops[n++] = OP_FIQ1S;
    if (f->t == GLLMK_IQ2_XXS) ops[n++] = OP_FIQ2XXS;
    break;
  case K_SQ: ops[n++] = OP_SQ; ops[n++] = OP_FDG; ops[n++] = OP_FSQ; break;
  case K_AWQ: ops[n++] = OP_AWQ; ops[n++] = OP_FAWQ; break;
  default: ops[n++] = OP_GPTQ; ops[n++] = OP_FGPTQ; break;
  }
  return n;
}

/* ------------------------------------------------------------------ helpers */
/* f16 bits of +-2^u, u uniform integer in [-8, 0] */
static uint16_t pow2_f16(void)
{
  int u = -(int)tu_rand_below(9);
  return (uint16_t)((tu_rand_below(2) << 15) | (uint16_t)((15 + u) << 10));
}
/* f16 bits of a value in +-[2^-8, 1] */
static uint16_t scale_f16(int allow_neg)
{
  double v = ldexp(1.0 + tu_rand01(), -1 - (int)tu_rand_below(8));
  if (allow_neg && tu_rand_below(2)) v = -v;
  return gllmk_f32_to_f16((float)v).bits;
}

/* ------------------------------------------------------------------ weights */
typedef struct wts {
  const fmt *f;
  size_t n, k;
  tu_buf w;            /* GGUF / SqueezeLLM blocks, AWQ4 / GPTQ4 packed */
  tu_buf zeros, scales; /* AWQ4 zeros and scales, GPTQ4 scales */
  int32_t *g_idx;      /* GPTQ4 */
  size_t n_groups;
  unsigned char *snap; /* copy of everything the op reads, to check it is unchanged */
  size_t snap_len;
  double *wd;          /* decoded [n x k] */
} wts;

static void set_gguf_scales(const fmt *f, unsigned char *blk)
{
  switch (f->sc_kind) {
  case SC_F16:
    tu_wr16(blk + f->d_off, pow2_f16());
    if (f->m_off >= 0) tu_wr16(blk + f->m_off, pow2_f16());
    break;
  case SC_F32: {
    float d = gllmk_f16_to_f32((gllmk_f16){ pow2_f16() });
    memcpy(blk, &d, 4);
    const int8_t *qs = (const int8_t *)(blk + 4);
    for (int g = 0; g < 16; g++) {
      int s = 0;
      for (int j = 0; j < 16; j++) s += qs[16 * g + j];
      tu_wr16(blk + 260 + 2 * g, (uint16_t)(int16_t)s);
    }
    break;
  }
  case SC_E8M0: /* 2^(e-128) in [2^-8, 1], as pow2_f16's magnitudes */
    blk[f->d_off] = (unsigned char)(128 - tu_rand_below(9));
    break;
  case SC_IQ1M: {
    uint16_t h = pow2_f16();
    for (int w = 0; w < 4; w++) {
      uint16_t v = tu_rd16(blk + f->d_off + 2 * w);
      tu_wr16(blk + f->d_off + 2 * w, (uint16_t)((v & 0x0FFF) | (((h >> (4 * w)) & 0xF) << 12)));
    }
    break;
  }
  }
}

/* g_idx of a GPTQ4 matrix of width k: K_GPTQ_INT with groups of gs columns
 * (gs a multiple of 16) in a random order when permute; K_GPTQ_ACT random
 * per column over n_groups */
static void make_gidx(wts *W, size_t gs, int permute)
{
  size_t k = W->k;
  W->g_idx = tu_xmalloc((k ? k : 1) * sizeof(int32_t));
  if (W->f->kind == K_GPTQ_INT) {
    W->n_groups = (k + gs - 1) / gs;
    uint32_t *perm = tu_xmalloc((W->n_groups + 1) * sizeof *perm);
    tu_permutation_u32(perm, W->n_groups);
    for (size_t j = 0; j < k; j++) W->g_idx[j] = (int32_t)(permute ? perm[j / gs] : j / gs);
    free(perm);
  } else {
    W->n_groups = k / 128 > 1 ? k / 128 : 2;
    for (size_t j = 0; j < k; j++) W->g_idx[j] = (int32_t)tu_rand_below(W->n_groups);
    /* make sure the group changes inside the first 16 columns */
    W->g_idx[0] = 0;
    if (k > 1) W->g_idx[1] = 1;
  }
}

static void make_weights(wts *W, const fmt *f, size_t n, size_t k, int odd, size_t gptq_gs,
                         int gptq_perm)
{
  memset(W, 0, sizeof *W);
  W->f = f;
  W->n = n;
  W->k = k;
  W->wd = tu_dalloc(n * k);
  if (f->kind <= K_SQ) {
    size_t nb = n * (k / f->bs), bytes = nb * f->bb;
    tu_buf_alloc(&W->w, bytes, odd);
    tu_fill_random(W->w.p, bytes);
    for (size_t b = 0; b < nb; b++) {
      unsigned char *blk = W->w.p + b * f->bb;
      if (f->kind == K_SQ)
        for (int e = 0; e < 8; e++)
          tu_wr16(blk + 2 * e, gllmk_f32_to_f16((float)tu_uniform(-1, 1)).bits);
      else
        set_gguf_scales(f, blk);
    }
    float *wf = tu_xmalloc((n * k > 0 ? n * k : 1) * sizeof(float));
    gllmk_status st = gllmk_dequantize(f->t, W->w.p, bytes, wf, n * k);
    if (st != GLLMK_OK) bail_out("gllmk_dequantize(%s) failed: %s", f->name, tu_status_name(st));
    for (size_t i = 0; i < n * k; i++) W->wd[i] = wf[i];
    free(wf);
    W->snap_len = bytes;
  } else {
    tu_buf_alloc(&W->w, n * k / 2, odd);
    tu_fill_random(W->w.p, W->w.n);
    if (f->kind == K_AWQ) {
      size_t ng = k / 128, zb = (ng + 1) / 2;
      W->n_groups = ng;
      tu_buf_alloc(&W->zeros, n * zb, !odd);
      tu_fill_random(W->zeros.p, W->zeros.n);
      tu_buf_alloc(&W->scales, n * ng * 2, 0);
      for (size_t i = 0; i < n * ng; i++) tu_wr16(W->scales.p + 2 * i, scale_f16(0));
      for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < k; j++) {
          size_t g = j / 128;
          int q = (int)tu_nib(W->w.p + r * (k / 2), j), z = (int)tu_nib(W->zeros.p + r * zb, g);
          W->wd[r * k + j] = (double)(q - z) * tu_h2d(tu_rd16(W->scales.p + 2 * (r * ng + g)));
        }
    } else {
      make_gidx(W, gptq_gs, gptq_perm);
      size_t ng = W->n_groups;
      tu_buf_alloc(&W->scales, n * ng * 2, 0);
      for (size_t i = 0; i < n * ng; i++) tu_wr16(W->scales.p + 2 * i, scale_f16(1));
      for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < k; j++) {
          int q = (int)tu_nib(W->w.p + r * (k / 2), j);
          size_t g = (size_t)W->g_idx[j];
          W->wd[r * k + j] = (double)(q - 8) * tu_h2d(tu_rd16(W->scales.p + 2 * (r * ng + g)));
        }
    }
    W->snap_len = W->w.n;
  }
  W->snap = tu_xmalloc(W->snap_len ? W->snap_len : 1);
  memcpy(W->snap, W->w.p, W->snap_len);
}

static int weights_unchanged(const wts *W)
{
  int ok = tu_buf_guards_ok(&W->w) && !memcmp(W->snap, W->w.p, W->snap_len);
  if (W->zeros.mem) ok = ok && tu_buf_guards_ok(&W->zeros);
  if (W->scales.mem) ok = ok && tu_buf_guards_ok(&W->scales);
  return ok;
}

static void free_weights(wts *W)
{
  tu_buf_free(&W->w);
  if (W->zeros.mem) tu_buf_free(&W->zeros);
  if (W->scales.mem) tu_buf_free(&W->scales);
  free(W->g_idx);
  free(W->snap);
  free(W->wd);
}

static size_t wbytes(const wts *W) { return W->w.n; }

/* call op on W with activations x (m rows), output y; w_bytes given */
static gllmk_status call_op_wb(int op, tu_dtype dt, const wts *W, size_t w_bytes, const void *x,
                               void *y, size_t m)
{
  const void *w = W->w.p;
  size_t n = W->n, k = W->k;
  gllmk_qtype t = W->f->t;
  const uint8_t *pk = W->w.p, *zr = W->zeros.p;
  const gllmk_f16 *sc = (const gllmk_f16 *)W->scales.p;
  switch (op) {
  case OP_FDG: return TU_CALL(dt, fused_dequant_gemv, w, w_bytes, x, y, t, m, n, k);
  case OP_KQ: return TU_CALL(dt, kquant_matmul, w, w_bytes, x, y, t, m, n, k);
  case OP_IQ: return TU_CALL(dt, iq_matmul, w, w_bytes, x, y, t, m, n, k);
  case OP_SQ: return TU_CALL(dt, squeeze_matmul, w, w_bytes, x, y, m, n, k);
  case OP_FIQ1S: return TU_CALL(dt, fused_iq1_s_matmul, w, w_bytes, x, y, m, n, k);
  case OP_FIQ2XXS: return TU_CALL(dt, fused_iq2_xxs_matmul, w, w_bytes, x, y, m, n, k);
  case OP_FSQ: return TU_CALL(dt, fused_squeeze_matmul, w, w_bytes, x, y, m, n, k);
  case OP_AWQ: return TU_CALL(dt, awq_matmul, pk, w_bytes, zr, sc, x, y, m, n, k);
  case OP_FAWQ: return TU_CALL(dt, fused_awq4_matmul, pk, w_bytes, zr, sc, x, y, m, n, k);
  case OP_GPTQ: return TU_CALL(dt, gptq_matmul, pk, w_bytes, W->g_idx, sc, W->n_groups, x, y, m, n, k);
  case OP_FGPTQ:
    return TU_CALL(dt, fused_gptq4_matmul, pk, w_bytes, W->g_idx, sc, W->n_groups, x, y, m, n, k);
  }
  return GLLMK_E_INVAL;
}
static gllmk_status call_op(int op, tu_dtype dt, const wts *W, const void *x, void *y, size_t m)
{
  return call_op_wb(op, dt, W, wbytes(W), x, y, m);
}

/* ------------------------------------------------------------------ reference */
/* does the m < 16 path of this matrix quantize the activations? */
static int int_path(const wts *W)
{
  if (W->f->kind == K_SQ || W->f->kind == K_GPTQ_ACT) return 0;
  if (W->f->kind == K_GPTQ_INT) {
    if (W->k % 16) return 0;
    for (size_t j = 0; j < W->k; j += 16)
      for (size_t i = 1; i < 16; i++)
        if (W->g_idx[j + i] != W->g_idx[j]) return 0;
  }
  return 1;
}

typedef struct refd {
  size_t m, n;
  double *ref, *tol_i, *tol_f; /* [m x n]: value, integer-path and f32-path tolerance */
  /* integer path, m < 16: the product with the activations replaced as
   * qmatmul.c documents, (a / 127) * round(127 x / a) per chunk of 32 (a in
   * f32, 127 / a and the product rounded to f32, ties to even, clamped to
   * +-127), and its tolerance: f32 accumulation over the chunks plus, where
   * 127 x / a is within 1e-3 of a tie, one step (a / 127) |w| (an
   * implementation may round ties or compute 127 x / a differently).  NULL
   * when a chunk is non-finite or tiny (a < 2^-60). */
  double *ref_q, *tol_q;
} refd;

static void ref_compute(refd *R, const wts *W, const double *x, size_t m)
{
  size_t n = W->n, k = W->k, nc = (k + 31) / 32;
  R->m = m;
  R->n = n;
  R->ref = tu_dalloc(m * n);
  R->tol_i = tu_dalloc(m * n);
  R->tol_f = tu_dalloc(m * n);
  R->ref_q = R->tol_q = NULL;
  double *amax = tu_dalloc(m * nc), *S = tu_dalloc(n * nc);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < k; j++) {
      double a = fabs(x[i * k + j]);
      if (!(a <= amax[i * nc + j / 32])) amax[i * nc + j / 32] = a;
    }
  for (size_t o = 0; o < n; o++)
    for (size_t j = 0; j < k; j++) S[o * nc + j / 32] += fabs(W->wd[o * k + j]);
  for (size_t i = 0; i < m; i++) {
    const double *xi = x + i * k;
    for (size_t o = 0; o < n; o++) {
      const double *wo = W->wd + o * k;
      double s = 0, mag = 0, act = 0;
      for (size_t j = 0; j < k; j++) {
        double p = xi[j] * wo[j];
        s += p;
        mag += fabs(p);
      }
      for (size_t c = 0; c < nc; c++) act += amax[i * nc + c] * S[o * nc + c];
      R->ref[i * n + o] = s;
      R->tol_f[i * n + o] = tu_acc_eps(k) * mag;
      R->tol_i[i * n + o] = 1.001 * act / 254.0 + 1e-5 * mag;
    }
  }
  /* the tight model: every decode shape, and the GEMM shapes up to 2^22
   * multiply-adds (the grid's; the LLM size's m = 20 costs too much in double) */
  int model = m < MIN_M_GEMM || (double)m * (double)n * (double)k <= 0x1p22;
  for (size_t i = 0; i < m * nc && model; i++)
    if (!isfinite(amax[i]) || (amax[i] != 0 && amax[i] < 0x1p-60)) model = 0;
  if (model) {
    double *xq = tu_dalloc(m * k), *tie = tu_dalloc(m * k);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < k; j++) {
        float a = (float)amax[i * nc + j / 32];
        if (a == 0.0f) continue;
        float d = a / 127.0f, id = 127.0f / a, t = (float)x[i * k + j] * id;
        double q = nearbyint((double)t);
        q = q > 127 ? 127 : q < -127 ? -127 : q;
        xq[i * k + j] = (double)d * q;
        double fr = fabs((double)t - floor((double)t) - 0.5);
        if (fr < 1e-3 && fabs((double)t) < 127) tie[i * k + j] = d;
      }
    R->ref_q = tu_dalloc(m * n);
    R->tol_q = tu_dalloc(m * n);
    for (size_t i = 0; i < m; i++)
      for (size_t o = 0; o < n; o++) {
        const double *wo = W->wd + o * k, *xi = xq + i * k, *ti = tie + i * k;
        double s = 0, mag = 0, tt = 0;
        for (size_t j = 0; j < k; j++) {
          s += xi[j] * wo[j];
          mag += fabs(xi[j] * wo[j]);
          tt += ti[j] * fabs(wo[j]);
        }
        R->ref_q[i * n + o] = s;
        R->tol_q[i * n + o] = (1e-5 + tu_acc_eps(nc)) * mag + 1.001 * tt;
      }
    free(xq);
    free(tie);
  }
  free(amax);
  free(S);
}
static void ref_free(refd *R)
{
  free(R->ref);
  free(R->tol_i);
  free(R->tol_f);
  free(R->ref_q);
  free(R->tol_q);
}

/* activation values: set 0 for f32 (any f32), set 1 for f16 and bf16
 * (values exact in both: bf16 values with exponent >= -14, or 0); about
 * one in 50 is an outlier (x 8) so that chunk scales vary */
static void make_x(double *v, size_t len, int set)
{
  for (size_t i = 0; i < len; i++) {
    double u = tu_uniform(-1, 1);
    if (tu_rand_below(50) == 0) u *= 8;
    if (set == 0) v[i] = (float)u;
    else {
      double b = tu_round_dt(TU_BF16, u);
      v[i] = fabs(b) < 0x1p-14 ? 0.0 : b;
    }
  }
}

/* ------------------------------------------------------------------ checking one call */
typedef struct ctxs {
  tu_check *c;
  const char *isa;
  tu_dtype dt;
} ctxs;

/* the largest |error| / tolerance seen: f32 path, integer path against the
 * documented bound, integer path against the quantization model */
static double worst[3][TU_NDTYPES];

/* compare y (m x n of dt) with R; integer tolerance if ipath */
static int check_y(tu_check *c, tu_dtype dt, const void *y, const refd *R, size_t m, int ipath,
                   const char *what)
{
  size_t n = R->n;
  for (size_t i = 0; i < m; i++)
    for (size_t o = 0; o < n; o++) {
      double got = tu_get(dt, y, i * n + o), ref = R->ref[i * n + o];
      double tol = ipath ? R->tol_i[i * n + o] : R->tol_f[i * n + o];
      double t = tol + tu_out_rtol(dt) * fabs(ref) + tu_out_atol(dt);
      if (isfinite(got) && isfinite(ref) && t > 0 && fabs(got - ref) / t > worst[ipath][dt])
        worst[ipath][dt] = fabs(got - ref) / t;
      if (!tu_check_out(c, dt, got, ref, tol, "%s y[%zu][%zu]", what, i, o)) return 0;
      if (ipath && R->ref_q) {
        double rq = R->ref_q[i * n + o], tq = R->tol_q[i * n + o];
        double t2 = tq + tu_out_rtol(dt) * fabs(rq) + tu_out_atol(dt);
        if (isfinite(got) && fabs(got - rq) / t2 > worst[2][dt]) worst[2][dt] = fabs(got - rq) / t2;
        if (!tu_check_out(c, dt, got, rq, tq, "%s y[%zu][%zu] vs the int8-activation model", what,
                          i, o))
          return 0;
      }
    }
  return 1;
}

static const char *path_name(int ipath) { return ipath ? "int8 path" : "f32 path"; }

/* run every op of the format on (W, x) for one dtype and ISA, check them and
 * that they agree bitwise; returns the output of the first op (malloc'd) */
static void run_ops(tu_check *c, const char *isa, tu_dtype dt, const wts *W, const tu_arr *x,
                    const refd *R, size_t m, unsigned char **first_out)
{
  int ops[4], nops = ops_of(W->f, ops);
  size_t n = W->n, es = tu_esize(dt);
  int ipath = int_path(W);
  unsigned char *y0 = tu_xmalloc(m * n * es + 1);
  for (int o = 0; o < nops; o++) {
    tu_arr y;
    tu_arr_alloc(&y, dt, m * n, (size_t)(o + m) % 4);
    tu_arr_poison(&y);
    char what[1024];
    snprintf(what, sizeof what, "%s %s %s %s m=%zu n=%zu k=%zu (%s)", OP_NAMES[ops[o]], W->f->name,
             tu_dtname(dt), isa, m, n, W->k, path_name(ipath));
    gllmk_status st = call_op(ops[o], dt, W, x->p, y.p, m);
    if (tu_check_status(c, st, GLLMK_OK, "%s", what)) {
      if (o == 0) {
        check_y(c, dt, y.p, R, m, ipath, what);
        memcpy(y0, y.p, m * n * es);
      } else {
        tu_check_true(c, !memcmp(y0, y.p, m * n * es), "%s: output differs from %s's (bitwise)",
                      what, OP_NAMES[ops[0]]);
      }
    }
    tu_check_guards(c, &y, what);
    tu_check_input(c, x, what);
    tu_check_true(c, weights_unchanged(W), "%s: weights modified or guards overwritten", what);
    tu_arr_free(&y);
  }
  if (first_out) *first_out = y0;
  else free(y0);
}

/* ------------------------------------------------------------------ the shape grid */
static const size_t MS[] = { 1, 2, 7, 16, 64 };
static const size_t NS[] = { 1, 3, 17, 64 };
#define NMS (sizeof MS / sizeof MS[0])
#define NNS (sizeof NS / sizeof NS[0])

static size_t ks_of(const fmt *f, size_t *ks)
{
  size_t nk = 0;
  switch (f->kind) {
  case K_AWQ:
    ks[nk++] = 128; ks[nk++] = 384; ks[nk++] = 512; ks[nk++] = 1024;
    break;
  case K_GPTQ_INT:
    ks[nk++] = 256; ks[nk++] = 512; ks[nk++] = 768; ks[nk++] = 1024; ks[nk++] = 48;
    break;
  case K_GPTQ_ACT:
    ks[nk++] = 256; ks[nk++] = 512; ks[nk++] = 768; ks[nk++] = 1024; ks[nk++] = 34;
    break;
  default:
    for (size_t b = 1; b <= 4; b++) ks[nk++] = b * f->bs;
    if (f->bs == 32) ks[nk++] = 9 * 32; /* more than one 256-value unit, a partial one */
    break;
  }
  return nk;
}

/* per (format): checks per dtype x ISA */
static tu_check CHK[TU_NDTYPES][TU_MAX_ISA];

/* consistency of the two paths: rows of the m = 16 (f32 path) result against
 * the same rows run alone (m = 1, and rows 0..6 as m = 7) */
static void check_paths(tu_check *c, const char *isa, tu_dtype dt, const wts *W, const tu_arr *x,
                        const refd *R, const unsigned char *y16)
{
  size_t n = W->n, k = W->k, es = tu_esize(dt);
  int ops[4];
  ops_of(W->f, ops);
  int ipath = int_path(W);
  static const size_t rows[][2] = { { 0, 1 }, { 15, 1 }, { 0, 7 } };
  for (size_t r = 0; r < 3; r++) {
    size_t i0 = rows[r][0], mm = rows[r][1];
    tu_arr xs, y;
    tu_arr_alloc(&xs, dt, mm * k, 1);
    memcpy(xs.p, (const unsigned char *)x->p + i0 * k * es, mm * k * es);
    tu_arr_snapshot(&xs);
    tu_arr_alloc(&y, dt, mm * n, 2);
    tu_arr_poison(&y);
    char what[1024];
    snprintf(what, sizeof what, "%s %s %s %s: rows %zu..%zu alone vs m=16", OP_NAMES[ops[0]],
             W->f->name, tu_dtname(dt), isa, i0, i0 + mm - 1);
    if (tu_check_status(c, call_op(ops[0], dt, W, xs.p, y.p, mm), GLLMK_OK, "%s", what))
      for (size_t i = 0; i < mm; i++)
        for (size_t o = 0; o < n; o++) {
          size_t e = (i0 + i) * n + o;
          double a = tu_get(dt, y.p, i * n + o), b = tu_get(dt, y16, e);
          double tol = (ipath ? R->tol_i[e] : R->tol_f[e]) + R->tol_f[e] +
                       tu_out_rtol(dt) * fabs(R->ref[e]) + tu_out_atol(dt);
          if (!tu_check_out(c, dt, a, b, tol, "%s: y[%zu][%zu] (small-m path) vs %.9g (m=16)",
                            what, i0 + i, o, b))
            i = mm;
        }
    tu_check_guards(c, &y, what);
    tu_arr_free(&xs);
    tu_arr_free(&y);
  }
}

static void test_grid(int fi)
{
  const fmt *f = &FMTS[fi];
  size_t ks[8], nk = ks_of(f, ks);
  for (int d = 0; d < TU_NDTYPES; d++)
    for (int i = 0; i < tu_isa_count(); i++) tu_check_init(&CHK[d][i]);
  size_t idx = 0;
  for (size_t a = 0; a < nk; a++)
    for (size_t b = 0; b < NNS; b++) {
      size_t k = ks[a], n = NS[b];
      wts W;
      /* GPTQ int path: groups of 128 (or 16 for narrow k), permuted every other shape */
      make_weights(&W, f, n, k, (int)(idx % 2), k % 128 ? 16 : (idx % 3 == 2 ? 32 : 128),
                   (int)(idx % 2));
      for (size_t mi = 0; mi < NMS; mi++, idx++) {
        size_t m = MS[mi];
        for (int set = 0; set < 2; set++) {
          double *xv = tu_dalloc(m * k);
          make_x(xv, m * k, set);
          refd R;
          ref_compute(&R, &W, xv, m);
          for (int d = set == 0 ? 0 : 1; d < (set == 0 ? 1 : 3); d++) {
            tu_dtype dt = (tu_dtype)d;
            tu_arr x;
            tu_arr_alloc(&x, dt, m * k, (idx + 1) % 4);
            tu_arr_set(&x, xv);
            if (!tu_check_true(&CHK[d][0], !memcmp(x.v, xv, m * k * sizeof *xv),
                               "test bug: activations not exact in %s", tu_dtname(dt)))
              bail_out("activation set %d is not exact in %s", set, tu_dtname(dt));
            for (int ii = 0; ii < tu_isa_count(); ii++) {
              tu_isa_set(ii);
              unsigned char *y0 = NULL;
              run_ops(&CHK[d][ii], tu_isa_name(ii), dt, &W, &x, &R, m, &y0);
              if (m == 16 && n == 17) check_paths(&CHK[d][ii], tu_isa_name(ii), dt, &W, &x, &R, y0);
              free(y0);
            }
            tu_arr_free(&x);
          }
          ref_free(&R);
          free(xv);
        }
      }
      free_weights(&W);
    }
  char ksd[64] = "";
  for (size_t a = 0; a < nk; a++)
    snprintf(ksd + strlen(ksd), sizeof ksd - strlen(ksd), "%s%zu", a ? "," : "", ks[a]);
  int ops[4], nops = ops_of(f, ops);
  char opd[160] = "";
  for (int o = 0; o < nops; o++)
    snprintf(opd + strlen(opd), sizeof opd - strlen(opd), "%s%s", o ? " = " : "", OP_NAMES[ops[o]]);
  for (int d = 0; d < TU_NDTYPES; d++)
    for (int i = 0; i < tu_isa_count(); i++)
      tu_check_done(&CHK[d][i], "%s %s %s: %s; m 1,2,7,16,64 x n 1,3,17,64 x k %s; both paths agree",
                    f->name, tu_dtname((tu_dtype)d), tu_isa_name(i), opd, ksd);
}

/* ------------------------------------------------------------------ LLM-like size and threads */
static void test_llm(int fi)
{
  const fmt *f = &FMTS[fi];
  size_t n = 256, k = 4096, m = 20;
  wts W;
  make_weights(&W, f, n, k, 1, 128, 1);
  int ops[4];
  ops_of(f, ops);
  for (int set = 0; set < 2; set++) {
    double *xv = tu_dalloc(m * k);
    make_x(xv, m * k, set);
    refd R;
    ref_compute(&R, &W, xv, m);
    for (int d = set == 0 ? 0 : 1; d < (set == 0 ? 1 : 3); d++) {
      tu_dtype dt = (tu_dtype)d;
      size_t es = tu_esize(dt);
      tu_arr x;
      tu_arr_alloc(&x, dt, m * k, 3);
      tu_arr_set(&x, xv);
      for (int ii = 0; ii < tu_isa_count(); ii++) {
        tu_isa_set(ii);
        tu_check c;
        tu_check_init(&c);
        for (size_t mm = 1; mm <= m; mm += m - 1) {
          int ipath = int_path(&W);
          unsigned char *y1 = NULL;
          static const int thr[] = { 1, 2, 3 };
          for (int t = 0; t < 3; t++) {
            gllmk_set_num_threads(thr[t]);
            tu_arr y;
            tu_arr_alloc(&y, dt, mm * n, 1);
            tu_arr_poison(&y);
            char what[1024];
            snprintf(what, sizeof what, "%s %s %s %s m=%zu n=%zu k=%zu, %d threads (%s)",
                     OP_NAMES[ops[0]], f->name, tu_dtname(dt), tu_isa_name(ii), mm, n, k, thr[t],
                     path_name(ipath));
            if (tu_check_status(&c, call_op(ops[0], dt, &W, x.p, y.p, mm), GLLMK_OK, "%s", what)) {
              check_y(&c, dt, y.p, &R, mm, ipath, what);
              if (t == 0) {
                y1 = tu_xmalloc(mm * n * es);
                memcpy(y1, y.p, mm * n * es);
              } else if (ipath) {
                tu_check_true(&c, !memcmp(y1, y.p, mm * n * es),
                              "%s: differs from the 1-thread result (integer path, bitwise)", what);
              } else if (memcmp(y1, y.p, mm * n * es)) {
                diag("note: %s: not bitwise equal to the 1-thread result (within tolerance)", what);
              }
            }
            tu_check_guards(&c, &y, what);
            tu_arr_free(&y);
          }
          gllmk_set_num_threads(0);
          free(y1);
        }
        tu_check_input(&c, &x, "x");
        tu_check_done(&c, "%s %s %s: LLM size m=1 and m=20, n=256, k=4096 on 1, 2, 3 threads",
                      f->name, tu_dtname(dt), tu_isa_name(ii));
      }
      tu_arr_free(&x);
    }
    ref_free(&R);
    free(xv);
  }
  free_weights(&W);
}

/* ------------------------------------------------------------------ NaN / inf activations */
static void test_specials(int fi)
{
  const fmt *f = &FMTS[fi];
  size_t n = 5, k = f->kind >= K_AWQ ? 256 : 2 * f->bs;
  wts W;
  make_weights(&W, f, n, k, 0, 128, 0);
  int ops[4];
  ops_of(f, ops);
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    for (int ii = 0; ii < tu_isa_count(); ii++) {
      tu_isa_set(ii);
      tu_check c;
      tu_check_init(&c);
      static const size_t mset[] = { 4, 17 };
      for (size_t q = 0; q < 2; q++) {
        size_t m = mset[q];
        double *xv = tu_dalloc(m * k);
        make_x(xv, m * k, 1);
        xv[1 * k + 5] = NAN;              /* row 1: NaN */
        xv[2 * k + k - 1] = INFINITY;     /* row 2: +inf */
        xv[3 * k + 0] = -INFINITY;        /* row 3: -inf and NaN in another chunk */
        xv[3 * k + k / 2] = NAN;
        refd R;
        ref_compute(&R, &W, xv, m);
        tu_arr x, y;
        tu_arr_alloc(&x, dt, m * k, 1);
        tu_arr_set(&x, xv);
        tu_arr_alloc(&y, dt, m * n, 3);
        int ipath = int_path(&W);
        for (int o = 0; o < 2; o++) {
          tu_arr_poison(&y);
          char what[1024];
          snprintf(what, sizeof what, "%s %s %s %s m=%zu (%s)", OP_NAMES[ops[o]], f->name,
                   tu_dtname(dt), tu_isa_name(ii), m, path_name(ipath));
          if (!tu_check_status(&c, call_op(ops[o], dt, &W, x.p, y.p, m), GLLMK_OK, "%s", what))
            continue;
          for (size_t i = 0; i < m; i++)
            for (size_t oo = 0; oo < n; oo++) {
              double got = tu_get(dt, y.p, i * n + oo), ref = R.ref[i * n + oo];
              if (i >= 1 && i <= 3 && ipath) {
                /* the integer path may turn a chunk with inf into NaN */
                tu_check_true(&c, !isfinite(got), "%s: y[%zu][%zu] = %g, expected NaN or inf", what,
                              i, oo, got);
              } else {
                tu_check_out(&c, dt, got, ref, ipath ? R.tol_i[i * n + oo] : R.tol_f[i * n + oo],
                             "%s: y[%zu][%zu]", what, i, oo);
              }
            }
          tu_check_guards(&c, &y, what);
        }
        tu_arr_free(&x);
        tu_arr_free(&y);
        ref_free(&R);
        free(xv);
      }
      tu_check_done(&c, "%s %s %s: NaN / inf activations give NaN / inf in their rows only",
                    f->name, tu_dtname(dt), tu_isa_name(ii));
    }
  }
  free_weights(&W);
}

/* ------------------------------------------------------------------ tiny activations */
/* Chunks whose max |x| is tiny: below 127 / FLT_MAX (where 127 / max
 * overflows f32), f32 subnormals, f16 subnormals; zeros next to them, a
 * chunk of zeros.  The documented bound still applies. */
static void test_tiny(int fi)
{
  const fmt *f = &FMTS[fi];
  size_t n = 5, k = f->kind >= K_AWQ ? 256 : 2 * f->bs;
  wts W;
  make_weights(&W, f, n, k, 1, 128, 0);
  int ops[4];
  ops_of(f, ops);
  static const size_t mset[] = { 5, 17 };
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    /* tiny magnitudes representable in dt */
    double T[3];
    if (dt == TU_F16) {
      T[0] = 0x1p-24; T[1] = 0x1p-20; T[2] = 0x1.8p-14;
    } else {
      T[0] = 1e-38; T[1] = 0x1p-130; T[2] = 3e-37;
    }
    refd R[2];
    tu_arr x[2], y[2];
    for (size_t q = 0; q < 2; q++) {
      size_t m = mset[q];
      double *xv = tu_dalloc(m * k);
      make_x(xv, m * k, 1);
      for (size_t j = 0; j < k; j++) {
        xv[0 * k + j] = j == 3 ? T[0] : 0.0;                                  /* one tiny value */
        xv[1 * k + j] = tu_round_dt(dt, T[j % 3] * (j % 2 ? -1 : 1));         /* all tiny */
        xv[3 * k + j] = 0.0;                                                  /* all zero */
      }
      for (size_t j = 32; j < 64 && j < k; j++) xv[2 * k + j] = j == 40 ? -T[2] : 0.0; /* one chunk */
      for (size_t i = 0; i < m * k; i++) xv[i] = tu_round_dt(dt, xv[i]);
      ref_compute(&R[q], &W, xv, m);
      tu_arr_alloc(&x[q], dt, m * k, 2);
      tu_arr_set(&x[q], xv);
      tu_arr_alloc(&y[q], dt, m * n, 1);
      free(xv);
    }
    for (int ii = 0; ii < tu_isa_count(); ii++) {
      tu_isa_set(ii);
      tu_check c;
      tu_check_init(&c);
      for (size_t q = 0; q < 2; q++) {
        size_t m = mset[q];
        int ipath = int_path(&W);
        tu_arr_poison(&y[q]);
        char what[1024];
        snprintf(what, sizeof what, "%s %s %s %s m=%zu (%s), tiny activations", OP_NAMES[ops[0]],
                 f->name, tu_dtname(dt), tu_isa_name(ii), m, path_name(ipath));
        if (tu_check_status(&c, call_op(ops[0], dt, &W, x[q].p, y[q].p, m), GLLMK_OK, "%s", what)) {
          check_y(&c, dt, y[q].p, &R[q], m, ipath, what);
          for (size_t o = 0; o < n; o++)
            tu_check_true(&c, tu_get(dt, y[q].p, 3 * n + o) == 0.0, "%s: zero row gives %g", what,
                          tu_get(dt, y[q].p, 3 * n + o));
        }
        tu_check_guards(&c, &y[q], what);
      }
      tu_check_done(&c, "%s %s %s: tiny / subnormal / zero activation chunks, m=5 and m=17",
                    f->name, tu_dtname(dt), tu_isa_name(ii));
    }
    for (size_t q = 0; q < 2; q++) {
      tu_arr_free(&x[q]);
      tu_arr_free(&y[q]);
      ref_free(&R[q]);
    }
  }
  free_weights(&W);
}

/* ------------------------------------------------------------------ k = 0 */
static void test_k0(void)
{
  tu_check c;
  tu_check_init(&c);
  for (int d = 0; d < TU_NDTYPES; d++) {
    tu_dtype dt = (tu_dtype)d;
    for (int fi = 0; fi < NFMT; fi++) {
      const fmt *f = &FMTS[fi];
      wts W;
      make_weights(&W, f, 3, 0, 0, 16, 0);
      int ops[4], nops = ops_of(f, ops);
      for (int o = 0; o < nops; o++) {
        tu_arr y;
        tu_arr_alloc(&y, dt, 2 * 3, 1);
        tu_arr_poison(&y);
        gllmk_status st = call_op(ops[o], dt, &W, NULL, y.p, 2);
        if (tu_check_status(&c, st, GLLMK_OK, "%s %s %s m=2 n=3 k=0", OP_NAMES[ops[o]], f->name,
                            tu_dtname(dt)))
          for (size_t i = 0; i < 6; i++)
            tu_check_true(&c, tu_get(dt, y.p, i) == 0.0, "%s %s %s k=0: y[%zu] = %g, expected 0",
                          OP_NAMES[ops[o]], f->name, tu_dtname(dt), i, tu_get(dt, y.p, i));
        tu_check_guards(&c, &y, "y (k=0)");
        tu_arr_free(&y);
      }
      free_weights(&W);
    }
  }
  tu_check_done(&c, "k = 0 (m, n > 0; x NULL): every op gives zeros");
}

/* ------------------------------------------------------------------ bad input (forked) */
static tu_iso last;
#define RUN(EXPR) TU_ISOLATE(last, tu_watched_unchanged(), 0.0f, (EXPR))

static tu_check *BC;
#define EXPECT2(want, alt, EXPR) do { RUN(EXPR); tu_iso_check(BC, &last, want, alt, d); } while (0)
#define EXPECT(want, EXPR) EXPECT2(want, want, EXPR)

/* the generic GGUF-style call with every argument explicit */
static gllmk_status gcall(int op, tu_dtype dt, const void *w, size_t wb, const void *x, void *y,
                          gllmk_qtype t, size_t m, size_t n, size_t k)
{
  switch (op) {
  case OP_FDG: return TU_CALL(dt, fused_dequant_gemv, w, wb, x, y, t, m, n, k);
  case OP_KQ: return TU_CALL(dt, kquant_matmul, w, wb, x, y, t, m, n, k);
  case OP_IQ: return TU_CALL(dt, iq_matmul, w, wb, x, y, t, m, n, k);
  case OP_SQ: return TU_CALL(dt, squeeze_matmul, w, wb, x, y, m, n, k);
  case OP_FIQ1S: return TU_CALL(dt, fused_iq1_s_matmul, w, wb, x, y, m, n, k);
  case OP_FIQ2XXS: return TU_CALL(dt, fused_iq2_xxs_matmul, w, wb, x, y, m, n, k);
  case OP_FSQ: return TU_CALL(dt, fused_squeeze_matmul, w, wb, x, y, m, n, k);
  }
  return GLLMK_E_INVAL;
}

static const fmt *find_fmt(gllmk_qtype t, int kind)
{
  for (int i = 0; i < NFMT; i++)
    if (FMTS[i].t == t && (kind < 0 || FMTS[i].kind == kind)) return &FMTS[i];
  return NULL;
}

static void bad_gguf(tu_dtype dt)
{
  char d[1024];
  tu_check c;
  tu_check_init(&c);
  BC = &c;
  /* (op, qtype) pairs that are valid */
  static const struct { int op; gllmk_qtype t; } pairs[] = {
    { OP_FDG, GLLMK_Q4_0 }, { OP_FDG, GLLMK_Q4_K }, { OP_FDG, GLLMK_IQ2_XXS },
    { OP_FDG, GLLMK_SQUEEZELLM }, { OP_KQ, GLLMK_Q8_0 }, { OP_KQ, GLLMK_Q6_K },
    { OP_IQ, GLLMK_IQ4_NL }, { OP_IQ, GLLMK_IQ3_S }, { OP_SQ, GLLMK_SQUEEZELLM },
    { OP_FIQ1S, GLLMK_IQ1_S }, { OP_FIQ2XXS, GLLMK_IQ2_XXS }, { OP_FSQ, GLLMK_SQUEEZELLM },
  };
  size_t m = 3, n = 5;
  for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
    int op = pairs[p].op;
    gllmk_qtype t = pairs[p].t;
    const fmt *f = find_fmt(t, -1);
    size_t k = 2 * f->bs, wb = n * (k / f->bs) * f->bb;
    wts W;
    make_weights(&W, f, n, k, 1, 128, 0);
    tu_arr x, y;
    tu_arr_alloc(&x, dt, m * k, 1);
    tu_arr_uniform(&x, -1, 1);
    tu_arr_alloc(&y, dt, m * n, 1);
    tu_arr_poison(&y);
    tu_watch_clear();
    tu_watch(W.w.mem, W.w.mem_bytes);
    tu_watch(x.mem, x.mem_bytes);
    tu_watch(y.mem, y.mem_bytes);
    const void *w = W.w.p;
    const char *on = OP_NAMES[op], *fn = f->name, *dn = tu_dtname(dt);
#define D(...) snprintf(d, sizeof d, __VA_ARGS__)
    D("%s_%s %s: w NULL", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, NULL, wb, x.p, y.p, t, m, n, k));
    D("%s_%s %s: x NULL", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb, NULL, y.p, t, m, n, k));
    D("%s_%s %s: y NULL", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb, x.p, NULL, t, m, n, k));
    D("%s_%s %s: w_bytes one short", on, dn, fn);
    EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb - 1, x.p, y.p, t, m, n, k));
    D("%s_%s %s: w_bytes 0", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, 0, x.p, y.p, t, m, n, k));
    D("%s_%s %s: w_bytes one short, m=1 (integer path)", on, dn, fn);
    EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb - 1, x.p, y.p, t, 1, n, k));
    D("%s_%s %s: k = bs/2", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb, x.p, y.p, t, m, n, f->bs / 2));
    D("%s_%s %s: k = bs+16", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb, x.p, y.p, t, m, n, f->bs + 16));
    D("%s_%s %s: k = 2bs-1", on, dn, fn); EXPECT(GLLMK_E_INVAL, gcall(op, dt, w, wb, x.p, y.p, t, m, n, k - 1));
    D("%s_%s %s: m = 0", on, dn, fn); EXPECT(GLLMK_OK, gcall(op, dt, w, wb, x.p, y.p, t, 0, n, k));
    D("%s_%s %s: m = 0, x = y = NULL", on, dn, fn); EXPECT(GLLMK_OK, gcall(op, dt, w, wb, NULL, NULL, t, 0, n, k));
    D("%s_%s %s: n = 0", on, dn, fn); EXPECT(GLLMK_OK, gcall(op, dt, w, wb, x.p, y.p, t, m, 0, k));
    D("%s_%s %s: n = 0, w = y = NULL, w_bytes 0", on, dn, fn);
    EXPECT(GLLMK_OK, gcall(op, dt, NULL, 0, x.p, NULL, t, m, 0, k));
    D("%s_%s %s: m = n = 0, all NULL", on, dn, fn); EXPECT(GLLMK_OK, gcall(op, dt, NULL, 0, NULL, NULL, t, 0, 0, k));
    D("%s_%s %s: m * k overflows", on, dn, fn);
    EXPECT(GLLMK_E_OVERFLOW, gcall(op, dt, w, SIZE_MAX, x.p, y.p, t, SIZE_MAX / 64 + 1, n, k));
    D("%s_%s %s: n * row bytes overflows", on, dn, fn);
    EXPECT(GLLMK_E_OVERFLOW, gcall(op, dt, w, SIZE_MAX, x.p, y.p, t, m, SIZE_MAX / 4, k));
    D("%s_%s %s: m * n * 4 overflows", on, dn, fn);
    EXPECT(GLLMK_E_OVERFLOW, gcall(op, dt, w, SIZE_MAX, x.p, y.p, t, (size_t)1 << 33, (size_t)1 << 31, k));
    D("%s_%s %s: k * element size overflows (m = n = 1, k = SIZE_MAX rounded to a block)", on, dn, fn);
    EXPECT(GLLMK_E_OVERFLOW, gcall(op, dt, w, SIZE_MAX, x.p, y.p, t, 1, 1, SIZE_MAX - SIZE_MAX % f->bs));
    free_weights(&W);
    tu_arr_free(&x);
    tu_arr_free(&y);
    tu_check_done(&c, "%s_%s %s: NULL, short w_bytes, k not a block multiple, m/n = 0, overflow",
                  on, dn, fn);
  }

  /* qtype checks of the generic ops */
  {
    tu_buf w;
    tu_buf_alloc(&w, 8192, 0);
    tu_fill_random(w.p, w.n);
    tu_arr x, y;
    tu_arr_alloc(&x, dt, 2 * 256, 1);
    tu_arr_uniform(&x, -1, 1);
    tu_arr_alloc(&y, dt, 2 * 2, 1);
    tu_arr_poison(&y);
    tu_watch_clear();
    tu_watch(w.mem, w.mem_bytes);
    tu_watch(x.mem, x.mem_bytes);
    tu_watch(y.mem, y.mem_bytes);
    const char *dn = tu_dtname(dt);
    for (int fi = 0; fi < NFMT; fi++) {
      const fmt *f = &FMTS[fi];
      if (fi > 0 && FMTS[fi - 1].t == f->t) continue;
      int is_k = f->kind == K_GGUF_KQ, is_iq = f->kind == K_GGUF_IQ;
      if (!is_k) {
        D("kquant_matmul_%s with %s", dn, f->name);
        EXPECT(GLLMK_E_INVAL, gcall(OP_KQ, dt, w.p, w.n, x.p, y.p, f->t, 2, 2, 256));
      }
      if (!is_iq) {
        D("iq_matmul_%s with %s", dn, f->name);
        EXPECT(GLLMK_E_INVAL, gcall(OP_IQ, dt, w.p, w.n, x.p, y.p, f->t, 2, 2, 256));
      }
      if (f->kind == K_AWQ || f->kind == K_GPTQ_INT) {
        /* not self-contained: UNSUPPORTED as in gllmk_dequantize (INVAL accepted) */
        D("fused_dequant_gemv_%s with %s", dn, f->name);
        EXPECT2(GLLMK_E_UNSUPPORTED, GLLMK_E_INVAL,
                gcall(OP_FDG, dt, w.p, w.n, x.p, y.p, f->t, 2, 2, 256));
      }
    }
    static const int bad_t[] = { 0, 1, 4, 5, 9, 24, 30, 199, 203, 999, -1 };
    for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++) {
      static const int gops[] = { OP_FDG, OP_KQ, OP_IQ };
      for (int o = 0; o < 3; o++) {
        D("%s_%s with qtype %d", OP_NAMES[gops[o]], dn, bad_t[i]);
        EXPECT(GLLMK_E_UNSUPPORTED,
               gcall(gops[o], dt, w.p, w.n, x.p, y.p, (gllmk_qtype)bad_t[i], 2, 2, 256));
      }
    }
    tu_buf_free(&w);
    tu_arr_free(&x);
    tu_arr_free(&y);
    tu_check_done(&c, "%s: kquant_matmul rejects IQ / external types, iq_matmul K types (INVAL); "
                  "unknown qtypes UNSUPPORTED", dn);
  }
}

static void bad_external(tu_dtype dt)
{
  char d[1024];
  tu_check c;
  tu_check_init(&c);
  BC = &c;
  const char *dn = tu_dtname(dt);
  size_t m = 3, n = 4, k = 384;
  for (int fused = 0; fused < 2; fused++) {
    /* AWQ4 */
    wts W;
    make_weights(&W, find_fmt(GLLMK_AWQ4, K_AWQ), n, k, 1, 128, 0);
    tu_arr x, y;
    tu_arr_alloc(&x, dt, m * k, 1);
    tu_arr_uniform(&x, -1, 1);
    tu_arr_alloc(&y, dt, m * n, 1);
    tu_arr_poison(&y);
    tu_watch_clear();
    tu_watch(W.w.mem, W.w.mem_bytes);
    tu_watch(W.zeros.mem, W.zeros.mem_bytes);
    tu_watch(W.scales.mem, W.scales.mem_bytes);
    tu_watch(x.mem, x.mem_bytes);
    tu_watch(y.mem, y.mem_bytes);
    const uint8_t *pk = W.w.p, *zr = W.zeros.p;
    const gllmk_f16 *sc = (const gllmk_f16 *)W.scales.p;
    size_t pb = W.w.n;
    const char *on = fused ? "fused_awq4_matmul" : "awq_matmul";
#define AWQ(PK, PB, ZR, SC, X, Y, M, N, K)                                            \
  (fused ? TU_CALL(dt, fused_awq4_matmul, PK, PB, ZR, SC, X, Y, M, N, K)              \
         : TU_CALL(dt, awq_matmul, PK, PB, ZR, SC, X, Y, M, N, K))
    D("%s_%s: packed NULL", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(NULL, pb, zr, sc, x.p, y.p, m, n, k));
    D("%s_%s: zeros NULL", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb, NULL, sc, x.p, y.p, m, n, k));
    D("%s_%s: scales NULL", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb, zr, NULL, x.p, y.p, m, n, k));
    D("%s_%s: x NULL", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb, zr, sc, NULL, y.p, m, n, k));
    D("%s_%s: y NULL", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb, zr, sc, x.p, NULL, m, n, k));
    D("%s_%s: packed_bytes one short", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb - 1, zr, sc, x.p, y.p, m, n, k));
    D("%s_%s: packed_bytes one short, m = 1", on, dn);
    EXPECT(GLLMK_E_INVAL, AWQ(pk, pb - 1, zr, sc, x.p, y.p, 1, n, k));
    D("%s_%s: k = 64", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb, zr, sc, x.p, y.p, m, n, 64));
    D("%s_%s: k = 200", on, dn); EXPECT(GLLMK_E_INVAL, AWQ(pk, pb, zr, sc, x.p, y.p, m, n, 200));
    D("%s_%s: m = 0", on, dn); EXPECT(GLLMK_OK, AWQ(pk, pb, zr, sc, x.p, y.p, 0, n, k));
    D("%s_%s: m = 0, x = y = NULL", on, dn); EXPECT(GLLMK_OK, AWQ(pk, pb, zr, sc, NULL, NULL, 0, n, k));
    D("%s_%s: n = 0", on, dn); EXPECT(GLLMK_OK, AWQ(pk, pb, zr, sc, x.p, y.p, m, 0, k));
    D("%s_%s: n = 0, weights and y NULL", on, dn); EXPECT(GLLMK_OK, AWQ(NULL, 0, NULL, NULL, x.p, NULL, m, 0, k));
    D("%s_%s: n * k overflows", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, AWQ(pk, SIZE_MAX, zr, sc, x.p, y.p, m, SIZE_MAX / 128, k));
    D("%s_%s: m * k overflows", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, AWQ(pk, SIZE_MAX, zr, sc, x.p, y.p, SIZE_MAX / 128, n, k));
    D("%s_%s: m * n * 4 overflows", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, AWQ(pk, SIZE_MAX, zr, sc, x.p, y.p, (size_t)1 << 40, (size_t)1 << 23, 128));
    D("%s_%s: k * element size overflows (m = n = 1, k = SIZE_MAX rounded to 128)", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, AWQ(pk, SIZE_MAX, zr, sc, x.p, y.p, 1, 1, SIZE_MAX - SIZE_MAX % 128));
#undef AWQ
    free_weights(&W);
    tu_arr_free(&y);
    tu_check_done(&c, "%s_%s: NULL, short packed_bytes, k not a multiple of 128, m/n = 0, overflow",
                  on, dn);

    /* GPTQ4 */
    make_weights(&W, find_fmt(GLLMK_GPTQ4, K_GPTQ_INT), n, k, 0, 128, 1);
    tu_arr_alloc(&y, dt, m * n, 1);
    tu_arr_poison(&y);
    tu_watch_clear();
    tu_watch(W.w.mem, W.w.mem_bytes);
    tu_watch(W.scales.mem, W.scales.mem_bytes);
    tu_watch(x.mem, x.mem_bytes);
    tu_watch(y.mem, y.mem_bytes);
    pk = W.w.p;
    sc = (const gllmk_f16 *)W.scales.p;
    pb = W.w.n;
    int32_t *g = W.g_idx;
    size_t ng = W.n_groups;
    on = fused ? "fused_gptq4_matmul" : "gptq_matmul";
#define GPTQ(PK, PB, G, SC, NG, X, Y, M, N, K)                                          \
  (fused ? TU_CALL(dt, fused_gptq4_matmul, PK, PB, G, SC, NG, X, Y, M, N, K)            \
         : TU_CALL(dt, gptq_matmul, PK, PB, G, SC, NG, X, Y, M, N, K))
    D("%s_%s: packed NULL", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(NULL, pb, g, sc, ng, x.p, y.p, m, n, k));
    D("%s_%s: g_idx NULL", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, NULL, sc, ng, x.p, y.p, m, n, k));
    D("%s_%s: scales NULL", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, NULL, ng, x.p, y.p, m, n, k));
    D("%s_%s: x NULL", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, sc, ng, NULL, y.p, m, n, k));
    D("%s_%s: y NULL", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, sc, ng, x.p, NULL, m, n, k));
    D("%s_%s: packed_bytes one short", on, dn);
    EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb - 1, g, sc, ng, x.p, y.p, m, n, k));
    D("%s_%s: k odd", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, sc, ng, x.p, y.p, m, n, k - 1));
    D("%s_%s: n_groups 0", on, dn); EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, sc, 0, x.p, y.p, m, n, k));
    static const size_t pos[] = { 0, 17, 383 };
    for (size_t i = 0; i < 3; i++) {
      int32_t save = g[pos[i]];
      static const int32_t badv[] = { -1, INT32_MIN, 0 /* = n_groups below */ };
      for (int b = 0; b < 3; b++) {
        g[pos[i]] = b == 2 ? (int32_t)ng : badv[b];
        D("%s_%s: g_idx[%zu] = %d", on, dn, pos[i], (int)g[pos[i]]);
        EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, sc, ng, x.p, y.p, m, n, k));
        D("%s_%s: g_idx[%zu] = %d, m = 1", on, dn, pos[i], (int)g[pos[i]]);
        EXPECT(GLLMK_E_INVAL, GPTQ(pk, pb, g, sc, ng, x.p, y.p, 1, n, k));
      }
      g[pos[i]] = save;
    }
    D("%s_%s: m = 0", on, dn); EXPECT(GLLMK_OK, GPTQ(pk, pb, g, sc, ng, x.p, y.p, 0, n, k));
    D("%s_%s: n = 0, weights and y NULL", on, dn);
    EXPECT(GLLMK_OK, GPTQ(NULL, 0, g, NULL, ng, x.p, NULL, m, 0, k));
    D("%s_%s: n * k overflows", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, GPTQ(pk, SIZE_MAX, g, sc, ng, x.p, y.p, m, SIZE_MAX / 128, k));
    D("%s_%s: m * n * 4 overflows", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, GPTQ(pk, SIZE_MAX, g, sc, ng, x.p, y.p, (size_t)1 << 40, (size_t)1 << 23, k));
    D("%s_%s: k * element size overflows (m = n = 1, k = SIZE_MAX - 1)", on, dn);
    EXPECT(GLLMK_E_OVERFLOW, GPTQ(pk, SIZE_MAX, g, sc, ng, x.p, y.p, 1, 1, SIZE_MAX - 1));
#undef GPTQ
    free_weights(&W);
    tu_arr_free(&x);
    tu_arr_free(&y);
    tu_check_done(&c, "%s_%s: NULL, short packed_bytes, odd k, g_idx out of range, m/n = 0, overflow",
                  on, dn);
  }
}
#undef D

/* ------------------------------------------------------------------ main */
int main(void)
{
  tu_init();
  /* forked calls first, before any OpenMP team exists */
  for (int d = 0; d < TU_NDTYPES; d++) {
    bad_gguf((tu_dtype)d);
    bad_external((tu_dtype)d);
  }
  tu_watch_clear();
  test_k0();
  tu_isa_count(); /* the runnable ISAs, skip points for the others */
  for (int fi = 0; fi < NFMT; fi++) {
    test_grid(fi);
    test_specials(fi);
    test_tiny(fi);
  }
  /* one LLM-like size per family */
  static const struct { gllmk_qtype t; int kind; } llm[] = {
    { GLLMK_Q4_0, K_GGUF_KQ }, { GLLMK_Q4_K, K_GGUF_KQ }, { GLLMK_IQ2_XXS, K_GGUF_IQ },
    { GLLMK_IQ4_NL, K_GGUF_IQ }, { GLLMK_SQUEEZELLM, K_SQ }, { GLLMK_AWQ4, K_AWQ },
    { GLLMK_GPTQ4, K_GPTQ_INT }, { GLLMK_GPTQ4, K_GPTQ_ACT },
  };
  for (size_t i = 0; i < sizeof llm / sizeof llm[0]; i++)
    test_llm((int)(find_fmt(llm[i].t, llm[i].kind) - FMTS));
  gllmk_cpu_set_isa("auto");
  for (int d = 0; d < TU_NDTYPES; d++)
    diag("largest |error| / tolerance, %s: f32 path %.3g; int8 path: documented bound %.3g, "
         "int8-activation model %.3g", tu_dtname((tu_dtype)d), worst[0][d], worst[1][d], worst[2][d]);
  return done_testing();
}
