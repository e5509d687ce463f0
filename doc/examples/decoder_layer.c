/* decoder_layer.c -- one transformer decoder layer through gllmk's public API
 * SPDX-License-Identifier: MIT
 *
 * A small Llama-shaped layer (RMSNorm, rotary embeddings, grouped-query
 * attention, SwiGLU feed-forward) with seeded random weights, run the way an
 * inference engine would run it with gllmk:
 *
 *   embedding_lookup -> rms_norm -> fused_qkv_rope (K/V into a cache)
 *     -> flash_attention (causal, GQA)
 *     -> fused_linear_residual_rmsnorm (output projection + residual +
 *        post-attention RMSNorm; sum_out keeps the residual stream)
 *     -> fused_ffn (gate/up, SwiGLU, down projection + residual)
 *
 * Five prompt tokens are already in the KV cache; the layer processes seven
 * new ones (positions 5..11), whose queries attend to all twelve keys.
 *
 * Then it checks itself:
 *  1. f32: every fused stage against the same stage composed of plain ops
 *     (gemm, rope, gemm + softmax attention, vec_add, rms_norm, swiglu), fed
 *     the same inputs, within a rounding-error bound derived below.
 *  2. Q4_K: every projection matrix is quantized with gllmk_quantize(); the
 *     layer runs again with the projections done by the quantized kernels
 *     (gllmk_kquant_matmul_f32, gllmk_fused_dequant_gemv_f32), and each of
 *     those products is compared with the f32 GEMM of the same input and the
 *     gllmk_dequantize()d weights, within the int8-activation error bound of
 *     <gllmk/quant_ops.h>.
 * It prints one line per comparison and exits 0 when all pass, 1 otherwise
 * (or on any error status, after printing gllmk_strerror()).
 *
 * Build (installed library):
 *   cc -std=c11 -O2 decoder_layer.c $(pkg-config --cflags --libs gllmk) -lm
 * Try GLLMK_CPU_ISA=scalar|avx2|avx512|vnni to run another ISA's kernels.
 */
#include <gllmk.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ shapes */

#define HIDDEN 256                  /* model width */
#define HEADS 4                     /* query heads */
#define KV_HEADS 2                  /* key/value heads: 2 query heads share each (GQA) */
#define HEAD_DIM 64
#define Q_DIM (HEADS * HEAD_DIM)    /* 256 */
#define KV_DIM (KV_HEADS * HEAD_DIM) /* 128 */
#define FFN 768                     /* Q4_K rows hold multiples of 256 values: every
                                       k (HIDDEN, Q_DIM, FFN) is one */
#define VOCAB 1000
#define N_PAST 5                    /* tokens already in the KV cache */
#define SEQ 7                       /* new tokens run through the layer */
#define N_CTX (N_PAST + SEQ)        /* keys the last query sees */
#define ROPE_THETA 10000.0
#define EPS 1e-5f                   /* RMSNorm epsilon */

static const float SCALE = 0.125f;  /* attention scale 1/sqrt(HEAD_DIM) */

/* ------------------------------------------------------------------ errors and memory */

/* Every gllmk call returns a status: on failure say which call and why, exit 1. */
#define CHECK(call)                                                                    \
  do {                                                                                 \
    gllmk_status st_ = (call);                                                         \
    if (st_ != GLLMK_OK) {                                                             \
      fflush(stdout);                                                                  \
      fprintf(stderr, "decoder_layer: %s failed: %s\n", #call, gllmk_strerror(st_));   \
      exit(1);                                                                         \
    }                                                                                  \
  } while (0)

/* Zeroed memory; every block is remembered and freed by free_all() at the end
 * (this keeps the example free of bookkeeping). */
static void *blocks[1024];
static size_t n_blocks;
static void *xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  if (!p || n_blocks == sizeof blocks / sizeof blocks[0]) {
    fprintf(stderr, "decoder_layer: out of memory\n");
    exit(1);
  }
  return blocks[n_blocks++] = p;
}
#define FALLOC(n) ((float *)xcalloc((n), sizeof(float)))
#define DALLOC(n) ((double *)xcalloc((n), sizeof(double)))
static void free_all(void)
{
  while (n_blocks) free(blocks[--n_blocks]);
}

/* Seeded random numbers (splitmix64): uniform in [-1, 1). */
static uint64_t rng = 20240607;
static float frand(void)
{
  uint64_t z = (rng += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  return (float)(z >> 40) * 0x1p-23f - 1.0f;
}

/* ------------------------------------------------------------------ the model */

enum { WQ, WK, WV, WO, WGATE, WUP, WDOWN, N_PROJ };

/* The result of comparing two arrays (see accumulate()). */
typedef struct stats {
  double max_err, max_ref, worst; /* max |err|, max |ref|, max err / tol */
  size_t bad;                     /* elements out of tolerance */
} stats;

typedef struct proj {
  const char *name;
  size_t n, k;          /* W [n x k]: n outputs, k inputs (gllmk's W[out x in]) */
  float *w;             /* f32 weights */
  float *wt;            /* W^T [k x n]: gllmk_gemm_f32 computes A[m x k] . B[k x n] */
  void *q4;             /* the Q4_K blocks of W (n rows of k/256 blocks) */
  size_t q4_bytes;
  float *dq, *dqt;      /* gllmk_dequantize(q4) and its transpose */
  int generic;          /* run with gllmk_fused_dequant_gemv_f32 (else kquant_matmul) */
  stats st, st_model;   /* the Q4_K checks (a) and (b), over all calls */
} proj;

typedef struct model {
  float *embed;                 /* [VOCAB x HIDDEN] */
  float *attn_norm, *ffn_norm;  /* RMSNorm weights [HIDDEN] */
  proj p[N_PROJ];
  float *cos, *sin;             /* rotary tables [N_CTX x HEAD_DIM/2] */
} model;

/* The activations of one run of the layer over the SEQ new tokens. */
typedef struct acts {
  float *q;       /* queries after rope [SEQ x HEADS x HEAD_DIM] */
  float *kc, *vc; /* KV cache [N_CTX x KV_HEADS x HEAD_DIM]: keys after rope, values */
  float *attn;    /* attention output [SEQ x Q_DIM] */
  float *h1;      /* residual stream after attention [SEQ x HIDDEN] */
  float *x2;      /* rms_norm(h1): the FFN input [SEQ x HIDDEN] */
  float *out;     /* layer output, h1 + ffn(x2) [SEQ x HIDDEN] */
} acts;

static void transpose(const float *w, float *wt, size_t n, size_t k)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k; j++) wt[j * n + i] = w[i * k + j];
}

static void init_proj(proj *p, const char *name, size_t n, size_t k, int generic)
{
  /* uniform in +-sqrt(3/k): outputs of about unit variance for unit inputs */
  float a = sqrtf(3.0f / (float)k);
  p->name = name;
  p->n = n;
  p->k = k;
  p->generic = generic;
  p->w = FALLOC(n * k);
  p->wt = FALLOC(n * k);
  for (size_t i = 0; i < n * k; i++) p->w[i] = a * frand();
  transpose(p->w, p->wt, n, k);
}

static void init_model(model *M)
{
  M->embed = FALLOC((size_t)VOCAB * HIDDEN);
  for (size_t i = 0; i < (size_t)VOCAB * HIDDEN; i++) M->embed[i] = frand();
  M->attn_norm = FALLOC(HIDDEN);
  M->ffn_norm = FALLOC(HIDDEN);
  for (size_t i = 0; i < HIDDEN; i++) {
    M->attn_norm[i] = 1.0f + 0.25f * frand();
    M->ffn_norm[i] = 1.0f + 0.25f * frand();
  }
  init_proj(&M->p[WQ], "q_proj", Q_DIM, HIDDEN, 0);
  init_proj(&M->p[WK], "k_proj", KV_DIM, HIDDEN, 0);
  init_proj(&M->p[WV], "v_proj", KV_DIM, HIDDEN, 0);
  init_proj(&M->p[WO], "o_proj", HIDDEN, Q_DIM, 0);
  init_proj(&M->p[WGATE], "gate_proj", FFN, HIDDEN, 1);
  init_proj(&M->p[WUP], "up_proj", FFN, HIDDEN, 1);
  init_proj(&M->p[WDOWN], "down_proj", HIDDEN, FFN, 1);

  /* rotary tables: row p, column i holds cos/sin(p * theta^(-2i/HEAD_DIM)) */
  M->cos = FALLOC(N_CTX * HEAD_DIM / 2);
  M->sin = FALLOC(N_CTX * HEAD_DIM / 2);
  for (size_t p = 0; p < N_CTX; p++)
    for (size_t i = 0; i < HEAD_DIM / 2; i++) {
      double ang = (double)p * pow(ROPE_THETA, -2.0 * (double)i / HEAD_DIM);
      M->cos[p * HEAD_DIM / 2 + i] = (float)cos(ang);
      M->sin[p * HEAD_DIM / 2 + i] = (float)sin(ang);
    }
}

/* Q4_K: quantize every projection, and decode it back to f32. */
static void quantize_model(model *M)
{
  for (int i = 0; i < N_PROJ; i++) {
    proj *p = &M->p[i];
    size_t row = gllmk_qtype_row_bytes(GLLMK_Q4_K, p->k);
    if (row == 0) {
      fprintf(stderr, "decoder_layer: %s: k = %zu is not a multiple of 256\n", p->name, p->k);
      exit(1);
    }
    p->q4_bytes = p->n * row;
    p->q4 = xcalloc(p->q4_bytes, 1);
    /* rows are whole blocks, so the matrix quantizes as one run of n*k values */
    CHECK(gllmk_quantize(GLLMK_Q4_K, p->w, p->n * p->k, p->q4, p->q4_bytes));
    p->dq = FALLOC(p->n * p->k);
    p->dqt = FALLOC(p->n * p->k);
    CHECK(gllmk_dequantize(GLLMK_Q4_K, p->q4, p->q4_bytes, p->dq, p->n * p->k));
    transpose(p->dq, p->dqt, p->n, p->k);
  }
}

static void alloc_acts(acts *a)
{
  a->q = FALLOC(SEQ * Q_DIM);
  a->kc = FALLOC(N_CTX * KV_DIM);
  a->vc = FALLOC(N_CTX * KV_DIM);
  a->attn = FALLOC(SEQ * Q_DIM);
  a->h1 = FALLOC(SEQ * HIDDEN);
  a->x2 = FALLOC(SEQ * HIDDEN);
  a->out = FALLOC(SEQ * HIDDEN);
}

/* ------------------------------------------------------------------ the layer, fused f32 ops */

/* h: embeddings of all N_CTX tokens; xn = rms_norm(h).  W: the projection
 * weights to use (the f32 ones, or the dequantized Q4_K ones). */
static void layer_fused(const model *M, const float *const W[N_PROJ], const float *h,
                        const float *xn, acts *a)
{
  /* The prompt (positions 0..N_PAST-1) went through this layer earlier; all
   * that the new tokens need from it is its keys and values, in the cache.
   * fused_qkv_rope projects and rotates them (the queries are not needed). */
  float *q_prompt = FALLOC(N_PAST * Q_DIM);
  CHECK(gllmk_fused_qkv_rope_f32(xn, W[WQ], W[WK], W[WV], M->cos, M->sin, q_prompt, a->kc,
                                 a->vc, N_PAST, HIDDEN, HEADS, KV_HEADS, HEAD_DIM,
                                 HEAD_DIM /* rotary_dim */, false /* (i, i+32) pairs */,
                                 0 /* pos */));

  /* The new tokens: queries, and keys/values appended to the cache; rope
   * uses rows N_PAST.. of the tables. */
  CHECK(gllmk_fused_qkv_rope_f32(xn + N_PAST * HIDDEN, W[WQ], W[WK], W[WV], M->cos, M->sin,
                                 a->q, a->kc + N_PAST * KV_DIM, a->vc + N_PAST * KV_DIM, SEQ,
                                 HIDDEN, HEADS, KV_HEADS, HEAD_DIM, HEAD_DIM, false, N_PAST));

  /* Causal GQA attention over the whole cache: query t (position N_PAST+t)
   * sees keys 0..N_PAST+t; query head h reads kv head h / (HEADS/KV_HEADS). */
  CHECK(gllmk_flash_attention_f32(a->q, a->kc, a->vc, a->attn, SEQ, N_CTX, HEADS, KV_HEADS,
                                  HEAD_DIM, SCALE, true));

  /* h1 = h + attn . Wo^T (the residual stream, via sum_out) and
   * x2 = rms_norm(h1, ffn_norm) in one pass. */
  CHECK(gllmk_fused_linear_residual_rmsnorm_f32(a->attn, W[WO], h + N_PAST * HIDDEN,
                                                M->ffn_norm, a->x2, a->h1, SEQ, HIDDEN, Q_DIM,
                                                EPS));

  /* out = h1 + (silu(x2 . Wg^T) * (x2 . Wu^T)) . Wd^T */
  CHECK(gllmk_fused_ffn_f32(a->x2, W[WGATE], W[WUP], W[WDOWN], a->h1, a->out, SEQ, HIDDEN,
                            FFN));
}

/* ------------------------------------------------------------------ error bounds */

/* Rounding model.  u = 2^-24 is the unit roundoff of f32.  An f32 sum of n
 * products (in any order, with or without FMA) is within
 * gamma(n) * sum |a_i b_i| of the exact sum, gamma(n) = n u / (1 - n u)
 * (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).  The two
 * results compared were computed from the same inputs by two different
 * sequences of roundings, so each comparison allows the sum of the two
 * paths' bounds.  Elementwise functions that are not correctly rounded are
 * allowed a few ulp (1 ulp <= 2u relative): */
#define U 0x1p-24
#define EXP_ERR (8 * U)  /* e^x inside the softmaxes: 4 ulp */
#define SILU_ERR (16 * U) /* silu(g) * u: 8 ulp */
#define SILU_LIP 1.1     /* |silu'(x)| <= 1.0999 */

static double gamma_n(double n) { return n * U / (1 - n * U); }

/* |x| as doubles */
static double *abs_d(const float *x, size_t n)
{
  double *r = DALLOC(n);
  for (size_t i = 0; i < n; i++) r[i] = fabs((double)x[i]);
  return r;
}

/* mag[m x n] = ax[m x k] . |W|^T for W [n x k], ax >= 0: the sum |x w| that
 * bounds the rounding of x . W^T */
static double *absprod(const double *ax, const float *w, size_t m, size_t n, size_t k)
{
  double *mag = DALLOC(m * n);
  for (size_t i = 0; i < m; i++)
    for (size_t o = 0; o < n; o++) {
      double s = 0;
      for (size_t j = 0; j < k; j++) s += ax[i * k + j] * fabs((double)w[o * k + j]);
      mag[i * n + o] = s;
    }
  return mag;
}

/* RMSNorm of a row of n, out_i = x_i w_i / sqrt(sum x^2 / n + eps), in f32:
 * the sum of squares (positive terms) is within gamma(n) relative, the
 * division by n, + eps and sqrt add a rounding each (sqrt halves the
 * relative error of its argument), then the reciprocal and the products by x
 * and w: relative error of out at most */
static double rmsnorm_rel(size_t n) { return (gamma_n((double)n) + 2 * U) / 2 + 8 * U; }

/* Tolerances of q or k after rope, rows [rows x heads x HEAD_DIM] from x
 * [rows x HIDDEN] . W^T at positions 0..rows-1.  Rope pairs dims (i, i+32)
 * of a head: y_i = c p_i -+ s p_pair, where each projection p has error
 * <= gamma(k) mag; rope adds <= 2 roundings on |c p_i| + |s p_pair| <= the
 * same magnitudes.  Both paths: 2 gamma(k + 2) (|c| mag_i + |s| mag_pair). */
static double *rope_tol(const model *M, const float *x, const proj *p, size_t rows, size_t heads)
{
  double *ax = abs_d(x, rows * p->k), *mag = absprod(ax, p->w, rows, p->n, p->k);
  double *tol = DALLOC(rows * p->n);
  size_t half = HEAD_DIM / 2;
  for (size_t t = 0; t < rows; t++)
    for (size_t h = 0; h < heads; h++)
      for (size_t i = 0; i < HEAD_DIM; i++) {
        size_t e = (t * heads + h) * HEAD_DIM, pair = i < half ? i + half : i - half;
        double c = fabs((double)M->cos[t * half + i % half]);
        double s = fabs((double)M->sin[t * half + i % half]);
        tol[e + i] = 2 * gamma_n((double)p->k + 2) * (c * mag[e + i] + s * mag[e + pair]);
      }
  return tol;
}

/* ------------------------------------------------------------------ comparisons */

static int n_fail; /* failed comparisons */

/* Fold the comparison of got with ref into st: an element passes when
 * |got - ref| <= tol (a NaN fails). */
static void accumulate(stats *st, const float *got, const float *ref, const double *tol, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - (double)ref[i]);
    if (!(e <= tol[i])) st->bad++;
    if (!(e <= st->max_err)) st->max_err = e;
    if (fabs((double)ref[i]) > st->max_ref) st->max_ref = fabs((double)ref[i]);
    double r = e == 0 ? 0 : tol[i] > 0 ? e / tol[i] : INFINITY;
    if (!(r <= st->worst)) st->worst = r;
  }
}

/* One line: max |err|, max |err| / max |ref| and the worst err / tol (below
 * 1 passes). */
static void report(const char *what, const stats *st)
{
  printf("  %-40s max|err| %.1e (rel %.1e)  err/tol %.1e  %s\n", what, st->max_err,
         st->max_ref > 0 ? st->max_err / st->max_ref : st->max_err, st->worst,
         st->bad ? "FAIL" : "ok");
  if (st->bad) n_fail++;
}

static void compare(const char *what, const float *got, const float *ref, const double *tol,
                    size_t n)
{
  stats st = {0, 0, 0, 0};
  accumulate(&st, got, ref, tol, n);
  report(what, &st);
}

/* ------------------------------------------------------------------ 1. f32: fused vs composed */

/* Reference attention from plain ops, one head at a time:
 * S = scale * Q_h K_g^T (gemm, vec_scale), softmax over the keys each query
 * sees (the rest weigh 0), O_h = P V_g (gemm). */
static void attention_composed(const float *q, const float *kc, const float *vc, float *out)
{
  float Qh[SEQ * HEAD_DIM], Kt[HEAD_DIM * N_CTX], Vg[N_CTX * HEAD_DIM];
  float S[SEQ * N_CTX], Oh[SEQ * HEAD_DIM];
  for (size_t h = 0; h < HEADS; h++) {
    size_t g = h / (HEADS / KV_HEADS);
    for (size_t t = 0; t < SEQ; t++)
      memcpy(Qh + t * HEAD_DIM, q + (t * HEADS + h) * HEAD_DIM, HEAD_DIM * sizeof(float));
    for (size_t j = 0; j < N_CTX; j++)
      for (size_t l = 0; l < HEAD_DIM; l++) {
        Kt[l * N_CTX + j] = kc[(j * KV_HEADS + g) * HEAD_DIM + l];
        Vg[j * HEAD_DIM + l] = vc[(j * KV_HEADS + g) * HEAD_DIM + l];
      }
    CHECK(gllmk_gemm_f32(Qh, Kt, S, SEQ, N_CTX, HEAD_DIM));
    CHECK(gllmk_vec_scale_f32(S, SCALE, SEQ * N_CTX));
    for (size_t t = 0; t < SEQ; t++) {
      size_t vis = N_PAST + t + 1; /* query at position N_PAST+t sees keys 0..N_PAST+t */
      CHECK(gllmk_softmax_f32(S + t * N_CTX, S + t * N_CTX, 1, vis));
      for (size_t j = vis; j < N_CTX; j++) S[t * N_CTX + j] = 0.0f;
    }
    CHECK(gllmk_gemm_f32(S, Vg, Oh, SEQ, HEAD_DIM, N_CTX));
    for (size_t t = 0; t < SEQ; t++)
      memcpy(out + (t * HEADS + h) * HEAD_DIM, Oh + t * HEAD_DIM, HEAD_DIM * sizeof(float));
  }
}

/* Attention tolerance.  For query t, head h (vis keys): a score is a dot
 * product of HEAD_DIM, then scaled and max-subtracted: error
 * delta <= gamma(HEAD_DIM + 4) * scale * max_j sum |q k_j|.  Scores off by
 * <= delta change each softmax weight p_j by a factor within e^(+-2 delta);
 * the exps (and the online-softmax rescalings, up to one per key) add
 * (2 vis + 2) (EXP_ERR + 2u), the normalising sum gamma(vis) and the
 * division u: |p'_j - p_j| <= ep p_j.  The output sum_j p'_j v_j adds
 * gamma(vis) sum p'_j |v_j|, and sum p'_j <= 1 + ep; so per path
 *   |err| <= (ep + gamma(vis) (1 + ep)) max_j |v_jl|,  twice that here. */
static double *attention_tol(const float *q, const float *kc, const float *vc)
{
  double *tol = DALLOC(SEQ * Q_DIM);
  for (size_t t = 0; t < SEQ; t++)
    for (size_t h = 0; h < HEADS; h++) {
      size_t g = h / (HEADS / KV_HEADS), vis = N_PAST + t + 1;
      const float *qv = q + (t * HEADS + h) * HEAD_DIM;
      double qk = 0;
      for (size_t j = 0; j < vis; j++) {
        double s = 0;
        for (size_t l = 0; l < HEAD_DIM; l++)
          s += fabs((double)qv[l] * kc[(j * KV_HEADS + g) * HEAD_DIM + l]);
        if (s > qk) qk = s;
      }
      double delta = gamma_n(HEAD_DIM + 4) * SCALE * qk;
      double ep = expm1(2 * delta) + (2 * (double)vis + 2) * (EXP_ERR + 2 * U) +
                  gamma_n((double)vis) + U;
      for (size_t l = 0; l < HEAD_DIM; l++) {
        double vmax = 0;
        for (size_t j = 0; j < vis; j++) {
          double v = fabs((double)vc[(j * KV_HEADS + g) * HEAD_DIM + l]);
          if (v > vmax) vmax = v;
        }
        tol[(t * HEADS + h) * HEAD_DIM + l] = 2 * (ep + gamma_n((double)vis) * (1 + ep)) * vmax;
      }
    }
  return tol;
}

/* Each fused stage against its composition of plain ops, fed the inputs the
 * fused path used (so that each bound covers one stage's rounding only). */
static void check_f32(const model *M, const uint32_t *ids, const float *h, const float *xn,
                      const acts *a)
{
  const proj *P = M->p;
  const float *h_new = h + N_PAST * HIDDEN; /* residual input of the new tokens */

  /* embedding_lookup copies rows: exact */
  float *emb = FALLOC(N_CTX * HIDDEN);
  for (size_t t = 0; t < N_CTX; t++)
    memcpy(emb + t * HIDDEN, M->embed + (size_t)ids[t] * HIDDEN, HIDDEN * sizeof(float));
  compare("embedding_lookup [12 x 256] (exact)", h, emb, DALLOC(N_CTX * HIDDEN), N_CTX * HIDDEN);

  /* fused_qkv_rope == gemm with W^T, then rope (all N_CTX rows from
   * position 0: this also checks the pos argument of the fused calls) */
  float *qr = FALLOC(N_CTX * Q_DIM), *kr = FALLOC(N_CTX * KV_DIM), *vr = FALLOC(N_CTX * KV_DIM);
  CHECK(gllmk_gemm_f32(xn, P[WQ].wt, qr, N_CTX, Q_DIM, HIDDEN));
  CHECK(gllmk_gemm_f32(xn, P[WK].wt, kr, N_CTX, KV_DIM, HIDDEN));
  CHECK(gllmk_gemm_f32(xn, P[WV].wt, vr, N_CTX, KV_DIM, HIDDEN));
  CHECK(gllmk_rope_f32(qr, M->cos, M->sin, N_CTX, HEADS, HEAD_DIM, HEAD_DIM, false));
  CHECK(gllmk_rope_f32(kr, M->cos, M->sin, N_CTX, KV_HEADS, HEAD_DIM, HEAD_DIM, false));
  double *tq = rope_tol(M, xn, &P[WQ], N_CTX, HEADS);
  double *tk = rope_tol(M, xn, &P[WK], N_CTX, KV_HEADS);
  double *tv = absprod(abs_d(xn, N_CTX * HIDDEN), P[WV].w, N_CTX, KV_DIM, HIDDEN);
  for (size_t i = 0; i < N_CTX * KV_DIM; i++) tv[i] *= 2 * gamma_n(HIDDEN);
  compare("fused_qkv_rope q [7 x 4 x 64]", a->q, qr + N_PAST * Q_DIM, tq + N_PAST * Q_DIM,
          SEQ * Q_DIM);
  compare("fused_qkv_rope k cache [12 x 2 x 64]", a->kc, kr, tk, N_CTX * KV_DIM);
  compare("fused_qkv_rope v cache [12 x 2 x 64]", a->vc, vr, tv, N_CTX * KV_DIM);

  /* flash_attention == gemm + softmax + gemm per head */
  float *ar = FALLOC(SEQ * Q_DIM);
  attention_composed(a->q, a->kc, a->vc, ar);
  compare("flash_attention [7 x 4 x 64], 12 keys", a->attn, ar,
          attention_tol(a->q, a->kc, a->vc), SEQ * Q_DIM);

  /* fused_linear_residual_rmsnorm == gemm, vec_add, rms_norm */
  float *o = FALLOC(SEQ * HIDDEN), *s = FALLOC(SEQ * HIDDEN), *x2 = FALLOC(SEQ * HIDDEN);
  CHECK(gllmk_gemm_f32(a->attn, P[WO].wt, o, SEQ, HIDDEN, Q_DIM));
  CHECK(gllmk_vec_add_f32(o, h_new, s, SEQ * HIDDEN));
  CHECK(gllmk_rms_norm_f32(s, M->ffn_norm, x2, SEQ, HIDDEN, EPS));
  /* s = attn . Wo^T + h: per path gamma(k + 1) (sum |attn wo| + |h|) */
  double *ds = absprod(abs_d(a->attn, SEQ * Q_DIM), P[WO].w, SEQ, HIDDEN, Q_DIM);
  for (size_t i = 0; i < SEQ * HIDDEN; i++)
    ds[i] = 2 * gamma_n(Q_DIM + 1) * (ds[i] + fabs((double)h_new[i]));
  compare("fused_linear_residual_rmsnorm sum_out", a->h1, s, ds, SEQ * HIDDEN);
  /* x2: the two paths normalise sums a (fused) and b (composed) with
   * |a_i - b_i| <= ds_i.  rms(x) = sqrt(mean x^2 + eps) is 1-Lipschitz in
   * the norm ||x||/sqrt(n), so |rms(a) - rms(b)| <= R = rms of ds, and
   *   |w_i a_i / rms(a) - w_i b_i / rms(b)| <= (|w_i| ds_i + |x2_i| R) / rms(b)
   * plus each path's own RMSNorm rounding, rmsnorm_rel() |x2_i|. */
  double *tn = DALLOC(SEQ * HIDDEN);
  for (size_t t = 0; t < SEQ; t++) {
    double ss = 0, dd = 0;
    for (size_t i = 0; i < HIDDEN; i++) {
      ss += (double)s[t * HIDDEN + i] * s[t * HIDDEN + i];
      dd += ds[t * HIDDEN + i] * ds[t * HIDDEN + i];
    }
    double rb = sqrt(ss / HIDDEN + EPS), R = sqrt(dd / HIDDEN);
    for (size_t i = 0; i < HIDDEN; i++) {
      size_t e = t * HIDDEN + i;
      double xa = fabs((double)a->x2[e]);
      tn[e] = (fabs((double)M->ffn_norm[i]) * ds[e] + xa * R) / rb +
              rmsnorm_rel(HIDDEN) * (xa + fabs((double)x2[e]));
    }
  }
  compare("fused_linear_residual_rmsnorm out", a->x2, x2, tn, SEQ * HIDDEN);

  /* fused_ffn == gemm (gate), gemm (up), swiglu, gemm (down), vec_add */
  float *g = FALLOC(SEQ * FFN), *u = FALLOC(SEQ * FFN), *z = FALLOC(SEQ * FFN);
  float *d = FALLOC(SEQ * HIDDEN), *out = FALLOC(SEQ * HIDDEN);
  CHECK(gllmk_gemm_f32(a->x2, P[WGATE].wt, g, SEQ, FFN, HIDDEN));
  CHECK(gllmk_gemm_f32(a->x2, P[WUP].wt, u, SEQ, FFN, HIDDEN));
  CHECK(gllmk_swiglu_f32(g, u, z, SEQ * FFN));
  CHECK(gllmk_gemm_f32(z, P[WDOWN].wt, d, SEQ, HIDDEN, FFN));
  CHECK(gllmk_vec_add_f32(d, a->h1, out, SEQ * HIDDEN));
  /* Per path: gate and up within eg, eu = gamma(HIDDEN) sum |x2 w|; then
   *   ez = 1.1 eg (|u| + eu) + |silu(g)| eu + SILU_ERR |z|
   * (silu is 1.1-Lipschitz); the down projection and the residual add
   *   gamma(FFN + 1) (sum |z wd| + |h1|) + sum ez |wd|.
   * Magnitudes are taken at the composed path's values; what that leaves
   * out is second order (~1e-9 relative). */
  double *ax2 = abs_d(a->x2, SEQ * HIDDEN);
  double *eg = absprod(ax2, P[WGATE].w, SEQ, FFN, HIDDEN);
  double *eu = absprod(ax2, P[WUP].w, SEQ, FFN, HIDDEN);
  double *ez = DALLOC(SEQ * FFN);
  for (size_t i = 0; i < SEQ * FFN; i++) {
    double gi = g[i], sg = fabs(gi / (1 + exp(-gi)));
    eg[i] *= gamma_n(HIDDEN);
    eu[i] *= gamma_n(HIDDEN);
    ez[i] = SILU_LIP * eg[i] * (fabs((double)u[i]) + eu[i]) + sg * eu[i] +
            SILU_ERR * fabs((double)z[i]);
  }
  double *mz = absprod(abs_d(z, SEQ * FFN), P[WDOWN].w, SEQ, HIDDEN, FFN);
  double *pz = absprod(ez, P[WDOWN].w, SEQ, HIDDEN, FFN);
  double *tf = DALLOC(SEQ * HIDDEN);
  for (size_t i = 0; i < SEQ * HIDDEN; i++)
    tf[i] = 2 * (gamma_n(FFN + 1) * (mz[i] + fabs((double)a->h1[i])) + pz[i]);
  compare("fused_ffn out [7 x 256]", a->out, out, tf, SEQ * HIDDEN);
}

/* ------------------------------------------------------------------ 2. Q4_K weights */

/* Two checks of y = x . W^T computed by the Q4_K kernels, both against
 * the f32 GEMM with the dequantized weights Wd.  With m < 16 rows (here 5
 * and 7) <gllmk/quant_ops.h> says the kernels quantize x to int8 per chunk
 * of 32 values: with a = max |x| over the chunk, x becomes
 * x' = (a/127) round(127 x / a), which moves it by at most a/254; the
 * integer dot products are exact, and only the per-block scalings and the
 * sums of the block results are rounded in f32.
 *
 * (a) The documented bound, against x . Wd^T:
 *       |y - x . Wd^T| <= sum over chunks (a / 254) sum_chunk |w|
 *     plus the f32 rounding: gamma(k) sum |w x| for the GEMM compared with,
 *     and gamma(k) sum |w x'| <= gamma(k) sum |w| (|x| + a/254) for the
 *     kernel (it rounds O(k/32) scalings and sums of terms no larger than a
 *     few |w x'| each: well inside gamma(k)).
 * (b) The rounding model itself, against x' . Wd^T: the f32 rounding only,
 *     (2 gamma(k) + 2u) sum |w x'| (2u: x' as rounded here to f32 and as
 *     the kernel scales it may differ by that much), plus one step (a/127) |w| for each value whose
 *     127 x / a lies within 1e-4 of a rounding tie (two ways of computing
 *     it in f32 differ by far less, but may round to different sides).
 *     Much tighter than (a): a single wrong weight shows here. */
static void q4k_check(proj *p, const float *x, const float *y, size_t m)
{
  size_t n = p->n, k = p->k;
  float *xq = FALLOC(m * k), *ref = FALLOC(m * n), *ref_q = FALLOC(m * n);
  double *amax = DALLOC(m * k), *tie = DALLOC(m * k); /* a and tie slack per value */
  double *tol = DALLOC(m * n), *tol_q = DALLOC(m * n);

  /* x' as documented */
  for (size_t i = 0; i < m; i++)
    for (size_t c = 0; c < k; c += 32) {
      double a = 0;
      for (size_t j = c; j < c + 32; j++)
        if (fabs((double)x[i * k + j]) > a) a = fabs((double)x[i * k + j]);
      for (size_t j = c; j < c + 32; j++) {
        size_t e = i * k + j;
        double t = a > 0 ? 127 * (double)x[e] / a : 0;
        amax[e] = a;
        xq[e] = (float)(a / 127 * nearbyint(t));
        tie[e] = fabs(t - floor(t) - 0.5) < 1e-4 ? a / 127 : 0;
      }
    }
  CHECK(gllmk_gemm_f32(x, p->dqt, ref, m, n, k));
  CHECK(gllmk_gemm_f32(xq, p->dqt, ref_q, m, n, k));

  for (size_t i = 0; i < m; i++)
    for (size_t o = 0; o < n; o++) {
      const float *w = p->dq + o * k;
      double bound = 0, mag = 0, mag_q = 0, slack = 0;
      for (size_t j = 0; j < k; j++) {
        size_t e = i * k + j;
        double aw = fabs((double)w[j]);
        bound += amax[e] / 254 * aw;
        mag += aw * (2 * fabs((double)x[e]) + amax[e] / 254);
        mag_q += aw * fabs((double)xq[e]);
        slack += aw * tie[e];
      }
      tol[i * n + o] = bound + gamma_n((double)k) * mag;
      tol_q[i * n + o] = (2 * gamma_n((double)k) + 2 * U) * mag_q + slack;
    }
  accumulate(&p->st, y, ref, tol, m * n);
  accumulate(&p->st_model, y, ref_q, tol_q, m * n);
}

/* y[m x n] = x[m x k] . W^T with the Q4_K weights (then checked) */
static void qlinear(proj *p, const float *x, size_t m, float *y)
{
  if (p->generic) /* the generic entry: any self-contained format */
    CHECK(gllmk_fused_dequant_gemv_f32(p->q4, p->q4_bytes, x, y, GLLMK_Q4_K, m, p->n, p->k));
  else /* the K-quant family entry; same results */
    CHECK(gllmk_kquant_matmul_f32(p->q4, p->q4_bytes, x, y, GLLMK_Q4_K, m, p->n, p->k));
  q4k_check(p, x, y, m);
}

/* The layer with Q4_K projections.  No fused op takes Q4_K blocks, so the
 * steps between the projections are the plain ops. */
static void layer_q4k(model *M, const float *h, const float *xn, acts *a)
{
  proj *P = M->p;
  const float *xn_new = xn + N_PAST * HIDDEN;
  float *k_new = a->kc + N_PAST * KV_DIM, *v_new = a->vc + N_PAST * KV_DIM;

  /* the prompt's keys (rotated from position 0) and values, into the cache */
  qlinear(&P[WK], xn, N_PAST, a->kc);
  qlinear(&P[WV], xn, N_PAST, a->vc);
  CHECK(gllmk_rope_with_pos_f32(a->kc, M->cos, M->sin, N_PAST, KV_HEADS, HEAD_DIM, HEAD_DIM,
                                false, 0));
  /* the new tokens: queries, keys and values, rotated from position N_PAST */
  qlinear(&P[WQ], xn_new, SEQ, a->q);
  qlinear(&P[WK], xn_new, SEQ, k_new);
  qlinear(&P[WV], xn_new, SEQ, v_new);
  CHECK(gllmk_rope_with_pos_f32(a->q, M->cos, M->sin, SEQ, HEADS, HEAD_DIM, HEAD_DIM, false,
                                N_PAST));
  CHECK(gllmk_rope_with_pos_f32(k_new, M->cos, M->sin, SEQ, KV_HEADS, HEAD_DIM, HEAD_DIM, false,
                                N_PAST));

  CHECK(gllmk_flash_attention_f32(a->q, a->kc, a->vc, a->attn, SEQ, N_CTX, HEADS, KV_HEADS,
                                  HEAD_DIM, SCALE, true));

  float *o = FALLOC(SEQ * HIDDEN);
  qlinear(&P[WO], a->attn, SEQ, o);
  CHECK(gllmk_vec_add_f32(o, h + N_PAST * HIDDEN, a->h1, SEQ * HIDDEN));
  CHECK(gllmk_rms_norm_f32(a->h1, M->ffn_norm, a->x2, SEQ, HIDDEN, EPS));

  float *g = FALLOC(SEQ * FFN), *u = FALLOC(SEQ * FFN), *d = FALLOC(SEQ * HIDDEN);
  qlinear(&P[WGATE], a->x2, SEQ, g);
  qlinear(&P[WUP], a->x2, SEQ, u);
  CHECK(gllmk_swiglu_f32(g, u, g, SEQ * FFN));
  qlinear(&P[WDOWN], g, SEQ, d);
  CHECK(gllmk_vec_add_f32(d, a->h1, a->out, SEQ * HIDDEN));
}

/* sqrt(sum (a - b)^2 / sum b^2) */
static double rel_rms(const float *a, const float *b, size_t n)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    den += (double)b[i] * b[i];
  }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* ------------------------------------------------------------------ main */

int main(void)
{
  /* the first gllmk call picks the ISA (or GLLMK_CPU_ISA's) */
  printf("gllmk %s, ISA %s (compiled in: %s), %d thread(s)\n", gllmk_version(),
         gllmk_cpu_isa_name(), gllmk_cpu_isa_compiled(), gllmk_get_num_threads());
  printf("layer: hidden %d, %d query / %d kv heads x %d, ffn %d, vocab %d; "
         "%d cached + %d new tokens\n",
         HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB, N_PAST, SEQ);

  model M;
  memset(&M, 0, sizeof M);
  init_model(&M);
  uint32_t ids[N_CTX];
  for (size_t t = 0; t < N_CTX; t++)
    ids[t] = (uint32_t)((frand() + 1.0f) * 0.5f * VOCAB) % VOCAB;

  /* token embeddings and the input RMSNorm of all N_CTX tokens */
  float *h = FALLOC(N_CTX * HIDDEN), *xn = FALLOC(N_CTX * HIDDEN);
  CHECK(gllmk_embedding_lookup_f32(ids, N_CTX, M.embed, VOCAB, HIDDEN, h));
  CHECK(gllmk_rms_norm_f32(h, M.attn_norm, xn, N_CTX, HIDDEN, EPS));

  /* 1. f32 weights, fused ops */
  const float *W[N_PROJ];
  for (int i = 0; i < N_PROJ; i++) W[i] = M.p[i].w;
  acts F;
  alloc_acts(&F);
  layer_fused(&M, W, h, xn, &F);
  printf("f32: fused ops vs plain-op compositions (rounding bounds):\n");
  check_f32(&M, ids, h, xn, &F);

  /* 2. Q4_K weights, quantized kernels */
  quantize_model(&M);
  acts Q;
  alloc_acts(&Q);
  layer_q4k(&M, h, xn, &Q);
  printf("Q4_K (%.1f bits/weight) kernels, int8 activations, vs f32 GEMM on the dequantized\n"
         "weights; err/tol for (a) the quant_ops.h bound, (b) its rounding model:\n",
         gllmk_qtype_bits(GLLMK_Q4_K));
  for (int i = 0; i < N_PROJ; i++) {
    const proj *p = &M.p[i];
    char what[64];
    snprintf(what, sizeof what, "%s [%zu x %zu] %s", p->name, p->n, p->k,
             p->generic ? "fused_dequant_gemv" : "kquant_matmul");
    int bad = p->st.bad || p->st_model.bad;
    printf("  %-40s max|err| %.1e (rel %.1e)  err/tol (a) %.1e (b) %.1e  %s\n", what,
           p->st.max_err, p->st.max_err / p->st.max_ref, p->st.worst, p->st_model.worst,
           bad ? "FAIL" : "ok");
    n_fail += bad;
  }

  /* For information: how far the whole layer moves.  The f32 fused layer on
   * the dequantized weights differs from the Q4_K run only by the int8
   * rounding of the activations; on the original weights, also by the
   * quantization of the weights. */
  acts D;
  alloc_acts(&D);
  for (int i = 0; i < N_PROJ; i++) W[i] = M.p[i].dq;
  layer_fused(&M, W, h, xn, &D);
  printf("  layer output, relative RMS difference (info): %.1e vs f32 on dequantized weights, "
         "%.1e vs f32 weights\n",
         rel_rms(Q.out, D.out, SEQ * HIDDEN), rel_rms(Q.out, F.out, SEQ * HIDDEN));

  printf("%s: %d comparison(s) failed\n", n_fail ? "FAIL" : "PASS", n_fail);
  free_all();
  return n_fail ? 1 : 0;
}
