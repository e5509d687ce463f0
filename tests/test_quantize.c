/* test_quantize.c -- the quantizers and repackers of <gllmk/quant.h>
 * SPDX-License-Identifier: MIT
 *
 *  1. ggml's test vectors (tvec.h; the full set when the checkout has it,
 *     else the reduced copies in tests/data): for every GGUF format gllmk
 *     quantizes, the X rows quantize to ggml's QBLOCKS byte for byte
 *     (ggml's reference quantizers without an importance matrix; the count
 *     of differing blocks is printed), through gllmk_quantize and through
 *     gllmk_quant_<fmt>, into an unaligned buffer with canaries; and the round
 *     trip gllmk_quantize -> gllmk_dequantize is no worse (RMSE against X)
 *     than ggml's own DEQUANT.  Missing or invalid vector files fail (the
 *     reduced copies are part of the tree and the tarball).
 *  2. Blocks of zeros decode to zeros in every format, blocks of subnormal
 *     values to values of at most 2e-38.
 *  3. SqueezeLLM on seeded data: codebook finite and ascending, every value
 *     coded to its nearest f16 centroid, distortion no worse than either
 *     codebook k-means starts from (quantiles, uniform grid; up to the f16
 *     rounding of the result); blocks of at most 8 distinct
 *     f16 values come back exactly; gllmk_dequant_squeezellm agrees with
 *     the test's own decoder.
 *  4. AWQ4 / GPTQ4 on seeded data (with all-zero, constant, one-signed,
 *     tiny and subnormal groups): the scale is the smallest f16 >= range/15
 *     (AWQ4, range = max(max,0) - min(min,0)) or >= amax/7 (GPTQ4), so no
 *     code saturates and every |w - decoded| <= s/2 (the derivation is in
 *     quantize.c); zero points in 0..15, the unused last nibble 0, g_idx =
 *     j / group_size; gllmk_dequant_awq4 / _gptq4 agree exactly with the
 *     test's decoder.
 *  5. Repacking: AutoAWQ and AutoGPTQ checkpoints are packed here from known
 *     integers the way those libraries pack them (AutoAWQ: nibble i of an
 *     int32 = column 8c + {0,2,4,6,1,3,5,7}[i]; AutoGPTQ: nibble i of
 *     qweight[r][c] = input row 8r + i, zeros sequential and stored minus one
 *     in the "gptq" format), repacked, and every nibble, zero, scale and
 *     g_idx entry is checked, with an act-order (permuted) g_idx, g_idx NULL,
 *     zero_offset 1 and 0; a zero point other than 8 is refused
 *     (GLLMK_E_UNSUPPORTED) with nothing written.
 *  6. Bad input: NULL pointers, sizes not a multiple of the block, dst too
 *     small, size overflow, NaN / inf inputs, unknown or unsupported types;
 *     every output keeps its canary bytes.
 */
#include "testutil.h"
#include "tvec.h"
#include <gllmk/quant.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef gllmk_status (*quant_fn)(const float *, size_t, void *, size_t);

typedef struct fmt {
  const char *name;    /* ggml's spelling (test-vector file names) */
  gllmk_qtype t;
  quant_fn fn;
  size_t bs, bb;       /* values and bytes per block */
} fmt;

/* the rows of lib/quant/qformats.def with a reference quantizer (quant Q),
 * then SqueezeLLM */
#define TQ_Q(tok, QT, name, bs, bb) { name, GLLMK_##QT, gllmk_quant_##tok, bs, bb },
#define TQ_N(tok, QT, name, bs, bb)
static const fmt FMTS[] = {
#define GLLMK_QFMT(tok, QT, name, bs, bb, kind, dot, fam, sc, d_off, m_off, quant) \
  TQ_##quant(tok, QT, name, bs, bb)
#include "quant/qformats.def"
#undef GLLMK_QFMT
  { "squeezellm", GLLMK_SQUEEZELLM, gllmk_quant_squeezellm, 256, 112 },
};
#define N_FMTS (sizeof FMTS / sizeof FMTS[0])
#define N_GGML_FMTS (N_FMTS - 1) /* all but SqueezeLLM have ggml test vectors */

/* typed views of the bytes of a tu_buf (scales, group indices) */
#define BUF_F16(b) ((gllmk_f16 *)(void *)(b).p)
#define BUF_I32(b) ((int32_t *)(void *)(b).p)

/* ------------------------------------------------------------------ data */
static double randn(void)
{
  double u = tu_rand01(), v = tu_rand01();
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* like the test vectors' X: a per-row scale, normal values, rare outliers */
static void fill_weights(float *w, size_t rows, size_t k)
{
  for (size_t r = 0; r < rows; r++) {
    double s = exp(tu_uniform(log(0.02), log(2.0)));
    for (size_t j = 0; j < k; j++) {
      double v = s * randn();
      if (tu_rand01() < 0.004) v *= tu_uniform(6, 20);
      w[r * k + j] = (float)v;
    }
  }
}

static double f16v(uint16_t bits)
{
  gllmk_f16 h = { bits };
  return gllmk_f16_to_f32(h);
}

static double rmse(const float *a, const float *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - (double)b[i];
    s += d * d;
  }
  return n ? sqrt(s / (double)n) : 0;
}

/* the smallest f16 >= v (v >= 0), by search over the positive bit patterns */
static uint16_t f16_at_least(double v)
{
  unsigned lo = 0, hi = 0x7bff;
  if (v <= 0) return 0;
  if (v > f16v(0x7bff)) return 0x7bff;
  while (lo < hi) {
    unsigned mid = (lo + hi) / 2;
    if (f16v((uint16_t)mid) >= v) hi = mid;
    else lo = mid + 1;
  }
  return (uint16_t)lo;
}

/* ================================================================== 1. test vectors */
static void test_vectors(const fmt *f)
{
  char *path = tv_find(f->name, "quantized");
  tv_file *tv = path ? tv_open(path) : NULL;
  free(path);
  if (!tv) {
    /* tests/data is part of the tree and of the tarball: missing is an error */
    ok(0, "%s: test vectors found and valid", f->name);
    ok(0, "%s: test vectors found and valid", f->name);
    return;
  }
  const tv_header *h = tv_hdr(tv);
  size_t lx, lq, ld;
  const float *x = tv_section(tv, "X", &lx);
  const unsigned char *qref = tv_section(tv, "QBLOCKS", &lq);
  const float *dref = tv_section(tv, "DEQUANT", &ld);
  const size_t n = (size_t)h->rows * h->cols, nb = n / f->bs;
  tu_check c;
  tu_check_init(&c);

  tu_check_true(&c, h->type_id == (uint32_t)f->t && h->block_bytes == f->bb &&
                        h->block_elems == f->bs && lq == nb * f->bb,
                "%s: header does not describe this format", f->name);
  if (c.fails) {
    tu_check_done(&c, "%s: test-vector header", f->name);
    skip("%s: bad test-vector file", f->name);
    tv_close(tv);
    return;
  }

  /* through gllmk_quantize, at offset 0; through gllmk_quant_<fmt>, at offset 3 */
  tu_buf q0, q3;
  tu_buf_alloc(&q0, lq, 0);
  tu_buf_alloc(&q3, lq, 3);
  tu_check_status(&c, gllmk_quantize(f->t, x, n, q0.p, lq), GLLMK_OK, "%s: gllmk_quantize", f->name);
  tu_check_status(&c, f->fn(x, n, q3.p, lq), GLLMK_OK, "%s: gllmk_quant_%s", f->name, f->name);
  tu_check_true(&c, tu_buf_guards_ok(&q0) && tu_buf_guards_ok(&q3), "%s: canary overwritten",
                f->name);
  tu_check_true(&c, !memcmp(q0.p, q3.p, lq), "%s: gllmk_quantize and gllmk_quant_%s differ",
                f->name, f->name);
  size_t bad = 0, first = 0;
  for (size_t b = 0; b < nb; b++)
    if (memcmp((unsigned char *)q0.p + b * f->bb, qref + b * f->bb, f->bb) && !bad++)
      first = b;
  tu_check_true(&c, bad == 0, "%s: %zu of %zu blocks differ from ggml's (first: block %zu)",
                f->name, bad, nb, first);
  tu_check_done(&c, "%s: quantize(X) == ggml's QBLOCKS byte for byte (%zu blocks, %zu differ)",
                f->name, nb, bad);

  /* round trip: no worse than ggml's own blocks */
  float *y = tu_xmalloc(n * sizeof *y);
  gllmk_status st = gllmk_dequantize(f->t, q0.p, lq, y, n);
  tu_check_status(&c, st, GLLMK_OK, "%s: gllmk_dequantize", f->name);
  if (st == GLLMK_OK) {
    double ours = rmse(x, y, n), ggml = rmse(x, dref, n);
    diag("%s: round-trip RMSE %.6g, ggml's %.6g (over %zu values)", f->name, ours, ggml, n);
    tu_check_true(&c, ours <= ggml * (1 + 1e-9), "%s: RMSE %.9g worse than ggml's %.9g",
                  f->name, ours, ggml);
  }
  tu_check_done(&c, "%s: round trip RMSE vs X <= ggml's", f->name);
  free(y);
  tu_buf_free(&q0);
  tu_buf_free(&q3);
  tv_close(tv);
}

/* ================================================================== 2. zeros */
static void test_zeros(void)
{
  tu_check c;
  tu_check_init(&c);
  const size_t n = 512;
  float *x = tu_xmalloc(n * sizeof *x), *y = tu_xmalloc(n * sizeof *y);
  unsigned char *q = tu_xmalloc(4096);
  /* pass 0: zeros (one -0); pass 1: subnormal values, whose inverse block
   * scales overflow to inf in ggml's legacy quantizers */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t j = 0; j < n; j++) x[j] = pass ? (float)(tu_uniform(-1, 1) * 1e-38) : 0.0f;
    x[5] = pass ? -0x1p-149f : -0.0f;
    for (size_t i = 0; i < N_FMTS; i++) {
      const fmt *f = &FMTS[i];
      size_t bytes = n / f->bs * f->bb;
      if (!tu_check_status(&c, gllmk_quantize(f->t, x, n, q, bytes), GLLMK_OK, "%s", f->name))
        continue;
      if (!tu_check_status(&c, gllmk_dequantize(f->t, q, bytes, y, n), GLLMK_OK, "%s dequant",
                           f->name))
        continue;
      int good = 1;
      for (size_t j = 0; j < n; j++) good &= pass ? fabsf(y[j]) <= 2e-38f : y[j] == 0;
      tu_check_true(&c, good, "%s: %s", f->name,
                    pass ? "subnormal inputs do not decode to values <= 2e-38"
                         : "zeros do not decode to zeros");
    }
  }
  tu_check_done(&c, "every format: zeros decode to zeros, subnormal blocks to tiny values");
  free(x);
  free(y);
  free(q);
}

/* ================================================================== 3. SqueezeLLM */
#define SQ_BS 256
#define SQ_BB 112

static void sq_decode_block(const unsigned char *b, double cb[8], unsigned code[SQ_BS])
{
  for (int j = 0; j < 8; j++) cb[j] = f16v((uint16_t)(b[2 * j] | b[2 * j + 1] << 8));
  const unsigned char *qs = b + 16;
  for (unsigned i = 0; i < SQ_BS; i++) {
    unsigned bit = 3 * i, v = qs[bit / 8] >> (bit % 8);
    if (bit % 8 > 5) v |= (unsigned)qs[bit / 8 + 1] << (8 - bit % 8);
    code[i] = v & 7;
  }
}

static int cmp_f(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* squared error of coding x to the nearest entry of cb */
static double sq_distortion(const float *x, const double *cb)
{
  double s = 0;
  for (int i = 0; i < SQ_BS; i++) {
    double best = INFINITY;
    for (int j = 0; j < 8; j++) {
      double d = fabs(x[i] - cb[j]);
      if (d < best) best = d;
    }
    s += best * best;
  }
  return s;
}

/* checks of one quantized block against its input; returns the distortion */
static double sq_check_block(tu_check *c, const float *x, const unsigned char *b, const float *dec,
                             const char *what)
{
  double cb[8];
  unsigned code[SQ_BS];
  sq_decode_block(b, cb, code);
  int fin = 1, asc = 1;
  for (int j = 0; j < 8; j++) fin &= isfinite(cb[j]) != 0;
  for (int j = 1; j < 8; j++) asc &= cb[j - 1] <= cb[j];
  tu_check_true(c, fin && asc, "%s: codebook not finite and ascending", what);
  int nearest = 1, same = 1;
  double dist = 0;
  for (int i = 0; i < SQ_BS; i++) {
    double e = fabs(x[i] - cb[code[i]]);
    for (int j = 0; j < 8; j++) nearest &= e <= fabs(x[i] - cb[j]);
    same &= dec[i] == (float)cb[code[i]];
    dist += e * e;
  }
  tu_check_true(c, nearest, "%s: a value is not coded to its nearest centroid", what);
  tu_check_true(c, same, "%s: gllmk_dequant_squeezellm disagrees with the codes", what);
  return dist;
}

static void test_squeezellm(void)
{
  tu_check c;
  tu_check_init(&c);
  const size_t nblk = 24, n = nblk * SQ_BS;
  float *x = tu_xmalloc(n * sizeof *x), *y = tu_xmalloc(n * sizeof *y);
  tu_buf q;
  tu_buf_alloc(&q, nblk * SQ_BB, 1);

  /* seeded data: weights-like rows, and uniform blocks */
  fill_weights(x, nblk / 2, 2 * SQ_BS);
  for (size_t i = n / 2; i < n; i++) x[i] = (float)tu_uniform(-1, 1);
  tu_check_status(&c, gllmk_quant_squeezellm(x, n, q.p, q.n), GLLMK_OK, "squeezellm");
  tu_check_true(&c, tu_buf_guards_ok(&q), "squeezellm: canary overwritten");
  tu_check_status(&c, gllmk_dequant_squeezellm(q.p, y, n), GLLMK_OK, "dequant_squeezellm");
  double worst_ratio = 0, worst_unif = 0;
  for (size_t b = 0; b < nblk; b++) {
    const float *xb = x + b * SQ_BS;
    char what[64];
    snprintf(what, sizeof what, "block %zu", b);
    double dist = sq_check_block(&c, xb, (unsigned char *)q.p + b * SQ_BB, y + b * SQ_BS, what);
    /* the two codebooks k-means starts from: the quantiles (i + 1/2)/8,
     * and a uniform grid on [min, max]; Lloyd only lowers the error, and
     * the f16 rounding of the final centroids (2^-11 relative) may add
     * up to 256 (amax 2^-11)^2 */
    float s[SQ_BS];
    double cb0[8], ug[8];
    memcpy(s, xb, sizeof s);
    qsort(s, SQ_BS, sizeof s[0], cmp_f);
    double lo = s[0], hi = s[SQ_BS - 1], amax = fmax(fabs(lo), fabs(hi));
    for (int j = 0; j < 8; j++) {
      cb0[j] = s[(2 * j + 1) * 16];
      ug[j] = lo + (hi - lo) * (j + 0.5) / 8;
    }
    double d0 = sq_distortion(xb, cb0), du = sq_distortion(xb, ug), start = fmin(d0, du);
    tu_check_true(&c, dist <= start * (1 + 1e-3) + 256 * pow(amax * 0x1p-11, 2),
                  "%s: distortion %.6g above the starts' %.6g (quantiles) and %.6g (uniform)",
                  what, dist, d0, du);
    if (d0 > 0 && dist / d0 > worst_ratio) worst_ratio = dist / d0;
    if (du > 0 && dist / du > worst_unif) worst_unif = dist / du;
  }
  diag("squeezellm: distortion / quantile start <= %.3f, / uniform grid <= %.3f", worst_ratio,
       worst_unif);
  tu_check_done(&c, "squeezellm: nearest f16 centroid, distortion below both k-means starts");

  /* at most 8 distinct f16 values per block: exact, with skewed counts */
  for (size_t b = 0; b < nblk; b++) {
    int nd = 1 + (int)(b % 8);
    float vals[8];
    for (int j = 0; j < nd; j++)
      vals[j] = gllmk_f16_to_f32(gllmk_f32_to_f16((float)(randn() * exp(tu_uniform(-8, 3)))));
    for (int i = 0; i < SQ_BS; i++) {
      /* value 0 takes about 3/4 of the block, the others share the rest */
      int j = (nd == 1 || tu_rand01() < 0.75) ? 0 : 1 + (int)tu_rand_below((size_t)nd - 1);
      x[b * SQ_BS + i] = vals[j];
    }
    for (int j = 0; j < nd; j++) x[b * SQ_BS + (size_t)j] = vals[j]; /* each one present */
  }
  tu_buf_snapshot(&q);
  tu_check_status(&c, gllmk_quant_squeezellm(x, n, q.p, q.n), GLLMK_OK, "squeezellm");
  tu_check_status(&c, gllmk_dequant_squeezellm(q.p, y, n), GLLMK_OK, "dequant_squeezellm");
  size_t inexact = 0;
  for (size_t i = 0; i < n; i++) inexact += x[i] != y[i];
  tu_check_true(&c, inexact == 0, "%zu values not reproduced", inexact);
  tu_check_done(&c, "squeezellm: blocks of at most 8 distinct f16 values come back exactly");

  /* extremes: tiny, subnormal and large (saturated at 65504) values */
  for (size_t i = 0; i < SQ_BS; i++) {
    x[i] = (float)(randn() * 1e-6);
    x[SQ_BS + i] = (float)(tu_uniform(-1, 1) * 1e-38);
    x[2 * SQ_BS + i] = (float)(tu_uniform(-1, 1) * 1e6);
  }
  tu_check_status(&c, gllmk_quant_squeezellm(x, 3 * SQ_BS, q.p, q.n), GLLMK_OK, "squeezellm");
  tu_check_status(&c, gllmk_dequant_squeezellm(q.p, y, 3 * SQ_BS), GLLMK_OK, "dequant");
  int fin = 1;
  for (size_t i = 0; i < 3 * SQ_BS; i++) fin &= isfinite(y[i]) != 0;
  tu_check_true(&c, fin, "non-finite decoded value");
  for (int b = 0; b < 2; b++)
    sq_check_block(&c, x + b * SQ_BS, (unsigned char *)q.p + b * SQ_BB, y + b * SQ_BS,
                   b ? "subnormal block" : "tiny block");
  tu_check_done(&c, "squeezellm: tiny, subnormal and huge blocks stay finite and nearest");

  tu_buf_free(&q);
  free(x);
  free(y);
}

/* ================================================================== 4. AWQ4 / GPTQ4 */

/* special groups: group g of row r gets pattern (r * groups + g) % 8 */
static void special_group(float *x, size_t len, int pattern)
{
  for (size_t j = 0; j < len; j++) {
    double v = randn();
    switch (pattern) {
    case 0: x[j] = 0; break;                                  /* all zero */
    case 1: x[j] = 0.75f; break;                              /* constant */
    case 2: x[j] = (float)(1 + fabs(v)); break;               /* all positive */
    case 3: x[j] = (float)(-2 - fabs(v)); break;              /* all negative */
    case 4: x[j] = (float)(v * 1e-6); break;                  /* tiny: subnormal scales */
    case 5: x[j] = (float)(v * 1e-40); break;                 /* subnormal inputs */
    case 6: x[j] = (float)(v * 3000); break;                  /* large */
    default: break;                                           /* ordinary */
    }
  }
}

static void test_awq4(void)
{
  tu_check c;
  tu_check_init(&c);
  const size_t n = 9, k = 384, ng = k / 128, zb = (ng + 1) / 2;
  float *w = tu_xmalloc(n * k * sizeof *w), *y = tu_xmalloc(n * k * sizeof *y);
  fill_weights(w, n, k);
  for (size_t r = 0; r < n; r++)
    for (size_t g = 0; g < ng; g++) special_group(w + r * k + g * 128, 128, (int)((r * ng + g) % 8));
  tu_buf P, Z, S;
  tu_buf_alloc(&P, n * k / 2, 1);
  tu_buf_alloc(&Z, n * zb, 3);
  tu_buf_alloc(&S, n * ng * 2, 2);
  tu_check_status(&c, gllmk_quant_awq4(w, n, k, P.p, Z.p, BUF_F16(S)), GLLMK_OK, "quant_awq4");
  tu_check_true(&c, tu_buf_guards_ok(&P) && tu_buf_guards_ok(&Z) && tu_buf_guards_ok(&S),
                "canary overwritten");
  tu_check_status(&c, gllmk_dequant_awq4(P.p, Z.p, BUF_F16(S), y, n, k), GLLMK_OK, "dequant_awq4");
  const uint8_t *pk = P.p, *zr = Z.p;
  const unsigned char *sb = S.p;
  double worst = 0;
  for (size_t r = 0; r < n; r++) {
    if (ng % 2) tu_check_true(&c, (zr[r * zb + zb - 1] >> 4) == 0, "row %zu: unused zero nibble", r);
    for (size_t g = 0; g < ng; g++) {
      const float *x = w + r * k + g * 128;
      double mn = 0, mx = 0;
      for (int j = 0; j < 128; j++) {
        if (x[j] < mn) mn = x[j];
        if (x[j] > mx) mx = x[j];
      }
      uint16_t sbits = (uint16_t)(sb[2 * (r * ng + g)] | sb[2 * (r * ng + g) + 1] << 8);
      double s = f16v(sbits);
      unsigned z = tu_nib(zr + r * zb, g);
      tu_check_true(&c, sbits == f16_at_least((mx - mn) / 15),
                    "row %zu group %zu: scale 0x%04x, expected the smallest f16 >= %.9g", r, g,
                    (unsigned)sbits, (mx - mn) / 15);
      for (int j = 0; j < 128; j++) {
        size_t col = g * 128 + (size_t)j;
        unsigned q = tu_nib(pk + r * (k / 2), col);
        double dec = ((double)q - z) * s;
        double err = fabs(x[j] - dec);
        tu_check_true(&c, err <= 0.5 * s * (1 + 0x1p-20),
                      "row %zu col %zu: |%.9g - %.9g| > s/2 = %.9g", r, col, (double)x[j], dec,
                      0.5 * s);
        tu_check_true(&c, y[r * k + col] == (float)dec,
                      "row %zu col %zu: gllmk_dequant_awq4 %.9g, expected %.9g", r, col,
                      (double)y[r * k + col], dec);
        if (s > 0 && err / s > worst) worst = err / s;
      }
    }
  }
  diag("awq4: max |w - decoded| / s = %.6f (bound 0.5)", worst);
  tu_check_done(&c, "awq4: s = smallest f16 >= range/15, |w - (q - z) s| <= s/2, dequant agrees");
  tu_buf_free(&P);
  tu_buf_free(&Z);
  tu_buf_free(&S);
  free(w);
  free(y);
}

static void test_gptq4(size_t n, size_t k, size_t gs)
{
  tu_check c;
  tu_check_init(&c);
  const size_t ng = k / gs;
  float *w = tu_xmalloc(n * k * sizeof *w), *y = tu_xmalloc(n * k * sizeof *y);
  fill_weights(w, n, k);
  for (size_t r = 0; r < n; r++)
    for (size_t g = 0; g < ng; g++) special_group(w + r * k + g * gs, gs, (int)((r * ng + g) % 8));
  tu_buf P, G, S;
  tu_buf_alloc(&P, n * k / 2, 1);
  tu_buf_alloc(&G, k * 4, 0);
  tu_buf_alloc(&S, n * ng * 2, 2);
  tu_check_status(&c, gllmk_quant_gptq4(w, n, k, gs, P.p, BUF_I32(G), BUF_F16(S)), GLLMK_OK,
                  "quant_gptq4");
  tu_check_true(&c, tu_buf_guards_ok(&P) && tu_buf_guards_ok(&G) && tu_buf_guards_ok(&S),
                "canary overwritten");
  tu_check_status(&c, gllmk_dequant_gptq4(P.p, BUF_I32(G), BUF_F16(S), ng, y, n, k), GLLMK_OK,
                  "dequant_gptq4");
  int32_t *gi = BUF_I32(G);
  int gok = 1;
  for (size_t j = 0; j < k; j++) gok &= gi[j] == (int32_t)(j / gs);
  tu_check_true(&c, gok, "g_idx is not j / group_size");
  const uint8_t *pk = P.p;
  const unsigned char *sb = S.p;
  double worst = 0;
  for (size_t r = 0; r < n; r++)
    for (size_t g = 0; g < ng; g++) {
      const float *x = w + r * k + g * gs;
      double amax = 0;
      for (size_t j = 0; j < gs; j++) amax = fmax(amax, fabs(x[j]));
      uint16_t sbits = (uint16_t)(sb[2 * (r * ng + g)] | sb[2 * (r * ng + g) + 1] << 8);
      double s = f16v(sbits);
      tu_check_true(&c, sbits == f16_at_least(amax / 7),
                    "row %zu group %zu: scale 0x%04x, expected the smallest f16 >= %.9g", r, g,
                    (unsigned)sbits, amax / 7);
      for (size_t j = 0; j < gs; j++) {
        size_t col = g * gs + j;
        double dec = ((double)tu_nib(pk + r * (k / 2), col) - 8) * s;
        double err = fabs(x[j] - dec);
        tu_check_true(&c, err <= 0.5 * s * (1 + 0x1p-20) || (s == 0 && err == 0),
                      "row %zu col %zu: |%.9g - %.9g| > s/2 = %.9g", r, col, (double)x[j], dec,
                      0.5 * s);
        tu_check_true(&c, y[r * k + col] == (float)dec,
                      "row %zu col %zu: gllmk_dequant_gptq4 %.9g, expected %.9g", r, col,
                      (double)y[r * k + col], dec);
        if (s > 0 && err / s > worst) worst = err / s;
      }
    }
  diag("gptq4 (group %zu): max |w - decoded| / s = %.6f (bound 0.5)", gs, worst);
  tu_check_done(&c, "gptq4 %zux%zu group %zu: s = smallest f16 >= amax/7, |w - (q-8) s| <= s/2, "
                "g_idx = j/gs, dequant agrees", n, k, gs);
  tu_buf_free(&P);
  tu_buf_free(&G);
  tu_buf_free(&S);
  free(w);
  free(y);
}

/* ================================================================== 5. repacking */

/* AutoAWQ (awq/modules/linear/gemm.py, WQLinear_GEMM.from_linear): for each
 * block of 8 output columns, qweight_col |= intweight[:, col*8 + order[i]]
 * << (4 i), order = AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7}; qzeros alike. */
static const int AWQ_ORDER[8] = { 0, 2, 4, 6, 1, 3, 5, 7 };

static void test_repack_awq(void)
{
  tu_check c;
  tu_check_init(&c);
  const size_t n = 24, k = 384, ng = k / 128, nw = n / 8, zb = (ng + 1) / 2;
  uint8_t *q = tu_xmalloc(n * k), *z = tu_xmalloc(n * ng);       /* [n][k], [n][ng] */
  uint16_t *s = tu_xmalloc(n * ng * 2);                          /* [n][ng] */
  int32_t *qweight = calloc(k * nw, 4), *qzeros = calloc(ng * nw, 4);
  gllmk_f16 *scales = tu_xmalloc(ng * n * sizeof *scales);        /* [ng][n] */
  for (size_t i = 0; i < n * k; i++) q[i] = (uint8_t)tu_rand_below(16);
  for (size_t i = 0; i < n * ng; i++) {
    z[i] = (uint8_t)tu_rand_below(16);
    s[i] = gllmk_f32_to_f16((float)tu_uniform(1e-4, 0.1)).bits;
  }
  /* pack as AutoAWQ does; intweight is [k][n] (the transposed weight) */
  for (size_t j = 0; j < k; j++)
    for (size_t cb = 0; cb < nw; cb++) {
      uint32_t v = 0;
      for (int i = 0; i < 8; i++) v |= (uint32_t)q[(cb * 8 + (size_t)AWQ_ORDER[i]) * k + j] << (4 * i);
      qweight[j * nw + cb] = (int32_t)v;
    }
  for (size_t g = 0; g < ng; g++) {
    for (size_t cb = 0; cb < nw; cb++) {
      uint32_t v = 0;
      for (int i = 0; i < 8; i++) v |= (uint32_t)z[(cb * 8 + (size_t)AWQ_ORDER[i]) * ng + g] << (4 * i);
      qzeros[g * nw + cb] = (int32_t)v;
    }
    for (size_t col = 0; col < n; col++) scales[g * n + col].bits = s[col * ng + g];
  }

  tu_buf P, Z, S;
  tu_buf_alloc(&P, n * k / 2, 1);
  tu_buf_alloc(&Z, n * zb, 0);
  tu_buf_alloc(&S, n * ng * 2, 2);
  tu_check_status(&c, gllmk_repack_awq(qweight, qzeros, scales, n, k, 128, P.p, Z.p, BUF_F16(S)),
                  GLLMK_OK, "repack_awq");
  tu_check_true(&c, tu_buf_guards_ok(&P) && tu_buf_guards_ok(&Z) && tu_buf_guards_ok(&S),
                "canary overwritten");
  const uint8_t *pk = P.p, *zr = Z.p;
  const gllmk_f16 *so = BUF_F16(S);
  size_t badq = 0, badz = 0, bads = 0;
  for (size_t col = 0; col < n; col++) {
    for (size_t j = 0; j < k; j++) badq += tu_nib(pk + col * (k / 2), j) != q[col * k + j];
    for (size_t g = 0; g < ng; g++) {
      badz += tu_nib(zr + col * zb, g) != z[col * ng + g];
      bads += so[col * ng + g].bits != s[col * ng + g];
    }
    if (ng % 2) badz += (zr[col * zb + zb - 1] >> 4) != 0;
  }
  tu_check_true(&c, !badq && !badz && !bads, "%zu nibbles, %zu zeros, %zu scales wrong", badq,
                badz, bads);
  /* and the result decodes to (q - z) * s */
  float *y = tu_xmalloc(n * k * sizeof *y);
  if (tu_check_status(&c, gllmk_dequant_awq4(P.p, Z.p, BUF_F16(S), y, n, k), GLLMK_OK, "dequant_awq4")) {
    size_t bad = 0;
    for (size_t col = 0; col < n; col++)
      for (size_t j = 0; j < k; j++)
        bad += y[col * k + j] !=
               (float)(((int)q[col * k + j] - (int)z[col * ng + j / 128]) * f16v(s[col * ng + j / 128]));
    tu_check_true(&c, bad == 0, "%zu decoded values differ from (q - z) * s", bad);
  }
  tu_check_done(&c, "repack_awq: AutoAWQ order {0,2,4,6,1,3,5,7}, every nibble, zero and scale");

  /* a group size other than 128 is refused, nothing written */
  tu_buf_snapshot(&P);
  tu_buf_snapshot(&Z);
  tu_buf_snapshot(&S);
  tu_check_status(&c, gllmk_repack_awq(qweight, qzeros, scales, n, k, 64, P.p, Z.p, BUF_F16(S)),
                  GLLMK_E_UNSUPPORTED, "group size 64");
  tu_check_true(&c, tu_buf_untouched(&P) && tu_buf_untouched(&Z) && tu_buf_untouched(&S),
                "output written");
  tu_check_done(&c, "repack_awq: group size 64 -> GLLMK_E_UNSUPPORTED, nothing written");
  tu_buf_free(&P);
  tu_buf_free(&Z);
  tu_buf_free(&S);
  free(q);
  free(z);
  free(s);
  free(qweight);
  free(qzeros);
  free(scales);
  free(y);
}

/* AutoGPTQ (auto_gptq/nn_modules/qlinear, QuantLinear.pack): intweight is
 * [k][n]; qweight[r] |= intweight[8r + i] << (4 i); zeros -= 1 ("gptq"),
 * then qzeros[:, col] |= zeros[:, 8 col + i] << (4 i). */
static void gptq_pack(const uint8_t *q, size_t n, size_t k, int32_t *qweight)
{
  for (size_t r = 0; r < k / 8; r++)
    for (size_t col = 0; col < n; col++) {
      uint32_t v = 0;
      for (int i = 0; i < 8; i++) v |= (uint32_t)q[col * k + 8 * r + (size_t)i] << (4 * i);
      qweight[r * n + col] = (int32_t)v;
    }
}

static void gptq_zeros(int32_t *qzeros, size_t ng, size_t n, unsigned stored)
{
  for (size_t g = 0; g < ng; g++)
    for (size_t cb = 0; cb < n / 8; cb++) {
      uint32_t v = 0;
      for (int i = 0; i < 8; i++) v |= (uint32_t)stored << (4 * i);
      qzeros[g * (n / 8) + cb] = (int32_t)v;
    }
}

static void test_repack_gptq(void)
{
  tu_check c;
  tu_check_init(&c);
  const size_t n = 16, k = 256, ng = 4, gs = k / ng;
  uint8_t *q = tu_xmalloc(n * k);
  int32_t *qweight = tu_xmalloc(k / 8 * n * 4), *qzeros = tu_xmalloc(ng * n / 8 * 4);
  int32_t *g_idx = tu_xmalloc(k * 4);
  gllmk_f16 *scales = tu_xmalloc(ng * n * sizeof *scales);
  uint32_t perm[256];
  for (size_t i = 0; i < n * k; i++) q[i] = (uint8_t)tu_rand_below(16);
  for (size_t i = 0; i < ng * n; i++) scales[i] = gllmk_f32_to_f16((float)tu_uniform(1e-4, 0.1));
  /* act order: column j belongs to group perm[j] / gs */
  tu_permutation_u32(perm, k);
  for (size_t j = 0; j < k; j++) g_idx[j] = (int32_t)(perm[j] / gs);
  gptq_pack(q, n, k, qweight);

  tu_buf P, G, S;
  tu_buf_alloc(&P, n * k / 2, 1);
  tu_buf_alloc(&G, k * 4, 0);
  tu_buf_alloc(&S, n * ng * 2, 2);
  float *y = tu_xmalloc(n * k * sizeof *y);
  for (int zo = 1; zo >= 0; zo--)
    for (int with_gidx = 1; with_gidx >= 0; with_gidx--) {
      gptq_zeros(qzeros, ng, n, 8u - (unsigned)zo);
      memset(P.p, TU_CANARY, P.n);
      memset(G.p, TU_CANARY, G.n);
      memset(S.p, TU_CANARY, S.n);
      const int32_t *gin = with_gidx ? g_idx : NULL;
      gllmk_status st = gllmk_repack_gptq(qweight, qzeros, scales, gin, n, k, ng, zo, P.p,
                                          BUF_I32(G), BUF_F16(S));
      if (!tu_check_status(&c, st, GLLMK_OK, "repack_gptq zero_offset %d g_idx %s", zo,
                           with_gidx ? "act-order" : "NULL"))
        continue;
      tu_check_true(&c, tu_buf_guards_ok(&P) && tu_buf_guards_ok(&G) && tu_buf_guards_ok(&S),
                    "canary overwritten");
      const uint8_t *pk = P.p;
      const int32_t *go = BUF_I32(G);
      const gllmk_f16 *so = BUF_F16(S);
      size_t badq = 0, badg = 0, bads = 0;
      for (size_t col = 0; col < n; col++) {
        for (size_t j = 0; j < k; j++) badq += tu_nib(pk + col * (k / 2), j) != q[col * k + j];
        for (size_t g = 0; g < ng; g++) bads += so[col * ng + g].bits != scales[g * n + col].bits;
      }
      for (size_t j = 0; j < k; j++) badg += go[j] != (with_gidx ? g_idx[j] : (int32_t)(j / gs));
      tu_check_true(&c, !badq && !badg && !bads,
                    "zero_offset %d, g_idx %s: %zu nibbles, %zu g_idx, %zu scales wrong", zo,
                    with_gidx ? "act-order" : "NULL", badq, badg, bads);
      if (tu_check_status(&c, gllmk_dequant_gptq4(P.p, BUF_I32(G), BUF_F16(S), ng, y, n, k), GLLMK_OK,
                          "dequant_gptq4")) {
        size_t bad = 0;
        for (size_t col = 0; col < n; col++)
          for (size_t j = 0; j < k; j++)
            bad += y[col * k + j] !=
                   (float)(((int)q[col * k + j] - 8) * f16v(scales[(size_t)go[j] * n + col].bits));
        tu_check_true(&c, bad == 0, "%zu decoded values differ from (q - 8) * s[g_idx]", bad);
      }
    }
  tu_check_done(&c, "repack_gptq: nibbles, act-order and NULL g_idx, scales; zero_offset 1 and 0");

  /* refusals: a zero point other than 8, nothing written */
  tu_buf_snapshot(&P);
  tu_buf_snapshot(&G);
  tu_buf_snapshot(&S);
  struct { unsigned stored; int zo; gllmk_status want; const char *what; } rej[] = {
    { 7, 0, GLLMK_E_UNSUPPORTED, "zero 7 (v2)" },
    { 8, 1, GLLMK_E_UNSUPPORTED, "zero 9 (stored 8, gptq)" },
    { 3, 1, GLLMK_E_UNSUPPORTED, "zero 4 (stored 3, gptq)" },
    { 7, 2, GLLMK_E_INVAL, "zero_offset 2" },
    { 7, -1, GLLMK_E_INVAL, "zero_offset -1" },
  };
  for (size_t i = 0; i < sizeof rej / sizeof rej[0]; i++) {
    gptq_zeros(qzeros, ng, n, rej[i].stored);
    tu_check_status(&c,
                    gllmk_repack_gptq(qweight, qzeros, scales, g_idx, n, k, ng, rej[i].zo, P.p,
                                      BUF_I32(G), BUF_F16(S)),
                    rej[i].want, "%s", rej[i].what);
    tu_check_true(&c, tu_buf_untouched(&P) && tu_buf_untouched(&G) && tu_buf_untouched(&S),
                  "%s: output written", rej[i].what);
  }
  /* one odd zero point in the last word */
  gptq_zeros(qzeros, ng, n, 7);
  qzeros[ng * n / 8 - 1] ^= (int32_t)(0x3u << 28);
  tu_check_status(&c,
                  gllmk_repack_gptq(qweight, qzeros, scales, g_idx, n, k, ng, 1, P.p, BUF_I32(G),
                                    BUF_F16(S)),
                  GLLMK_E_UNSUPPORTED, "one zero point 5 in the last column");
  tu_check_true(&c, tu_buf_untouched(&P) && tu_buf_untouched(&G) && tu_buf_untouched(&S),
                "output written");
  tu_check_done(&c, "repack_gptq: zero points != 8 -> GLLMK_E_UNSUPPORTED, nothing written");

  /* g_idx out of range, and NULL g_idx with k not a multiple of n_groups */
  gptq_zeros(qzeros, ng, n, 7);
  int32_t keep = g_idx[17];
  int32_t badv[] = { -1, (int32_t)ng, INT32_MAX };
  for (size_t i = 0; i < 3; i++) {
    g_idx[17] = badv[i];
    tu_check_status(&c,
                    gllmk_repack_gptq(qweight, qzeros, scales, g_idx, n, k, ng, 1, P.p, BUF_I32(G),
                                      BUF_F16(S)),
                    GLLMK_E_INVAL, "g_idx %d", (int)badv[i]);
    tu_check_true(&c, tu_buf_untouched(&P) && tu_buf_untouched(&G) && tu_buf_untouched(&S),
                  "output written");
  }
  g_idx[17] = keep;
  tu_check_status(&c,
                  gllmk_repack_gptq(qweight, qzeros, scales, NULL, n, k, 3, 1, P.p, BUF_I32(G),
                                    BUF_F16(S)),
                  GLLMK_E_INVAL, "NULL g_idx, k %% n_groups != 0");
  tu_check_true(&c, tu_buf_untouched(&P) && tu_buf_untouched(&G) && tu_buf_untouched(&S),
                "output written");
  tu_check_done(&c, "repack_gptq: g_idx out of range -> GLLMK_E_INVAL, nothing written");

  tu_buf_free(&P);
  tu_buf_free(&G);
  tu_buf_free(&S);
  free(q);
  free(qweight);
  free(qzeros);
  free(g_idx);
  free(scales);
  free(y);
}

/* ================================================================== 6. bad input */
static void test_bad_block_quant(const fmt *f)
{
  tu_check c;
  tu_check_init(&c);
  const size_t nb = 4, n = nb * f->bs, need = nb * f->bb;
  float *x = tu_xmalloc((n + 256) * sizeof *x);
  fill_weights(x, 1, n + 256);
  tu_buf d;
  tu_buf_alloc(&d, need + 64, 1);
  tu_buf_snapshot(&d);
#define EXPECT(call, want, ...)                                                   \
  do {                                                                            \
    tu_check_status(&c, (call), (want), __VA_ARGS__);                             \
    tu_check_true(&c, tu_buf_untouched(&d), "%s: output written", f->name);           \
  } while (0)
  for (int via = 0; via < 2; via++) {
#define Q(src, nn, dst, db) (via ? f->fn((src), (nn), (dst), (db)) : gllmk_quantize(f->t, (src), (nn), (dst), (db)))
    const char *how = via ? "gllmk_quant_<fmt>" : "gllmk_quantize";
    EXPECT(Q(NULL, n, d.p, need), GLLMK_E_INVAL, "%s %s: NULL src", how, f->name);
    EXPECT(Q(x, n, NULL, need), GLLMK_E_INVAL, "%s %s: NULL dst", how, f->name);
    EXPECT(Q(x, n, d.p, need - 1), GLLMK_E_INVAL, "%s %s: dst_bytes one short", how, f->name);
    EXPECT(Q(x, n, d.p, 0), GLLMK_E_INVAL, "%s %s: dst_bytes 0", how, f->name);
    EXPECT(Q(x, n - 1, d.p, need), GLLMK_E_INVAL, "%s %s: n - 1", how, f->name);
    EXPECT(Q(x, n + 1, d.p, need + 64), GLLMK_E_INVAL, "%s %s: n + 1", how, f->name);
    if (f->bs > 32) EXPECT(Q(x, 32, d.p, need), GLLMK_E_INVAL, "%s %s: n = 32", how, f->name);
    EXPECT(Q(NULL, 0, NULL, 0), GLLMK_OK, "%s %s: n = 0 with NULL pointers", how, f->name);
    EXPECT(Q(x, 0, d.p, 0), GLLMK_OK, "%s %s: n = 0", how, f->name);
    /* size overflow where a block is larger than its values (q8_0, q8_K),
     * else a dst_bytes that cannot be enough */
    size_t huge = SIZE_MAX - SIZE_MAX % f->bs;
    EXPECT(Q(x, huge, d.p, f->bb > f->bs ? SIZE_MAX : need),
           f->bb > f->bs ? GLLMK_E_OVERFLOW : GLLMK_E_INVAL,
           "%s %s: n = %zu", how, f->name, huge);
    static const float bad[] = { NAN, INFINITY, -INFINITY };
    for (int b = 0; b < 3; b++)
      for (size_t pos = 0; pos < n; pos += n - 1) {
        float keep = x[pos];
        x[pos] = bad[b];
        EXPECT(Q(x, n, d.p, need), GLLMK_E_INVAL, "%s %s: %g at %zu", how, f->name, (double)bad[b], pos);
        x[pos] = keep;
      }
#undef Q
  }
#undef EXPECT
  tu_check_done(&c, "%s: bad input -> the right error, nothing written", f->name);
  tu_buf_free(&d);
  free(x);
}

static void test_bad_types(void)
{
  tu_check c;
  tu_check_init(&c);
  float x[256] = { 0 };
  tu_buf d;
  tu_buf_alloc(&d, 4096, 0);
  tu_buf_snapshot(&d);
  /* not formats, and the formats without a gllmk_quantize path: the rows of
   * qformats.def with no reference quantizer (quant N), AWQ4 and GPTQ4 */
#define TQ_NONE_Q(QT)
#define TQ_NONE_N(QT) GLLMK_##QT,
  const int types[] = { 0, 1, 4, 9, 24, 199, 203, 999, -1,
#define GLLMK_QFMT(tok, QT, name, bs, bb, kind, dot, fam, sc, d_off, m_off, quant) TQ_NONE_##quant(QT)
#include "quant/qformats.def"
#undef GLLMK_QFMT
                        GLLMK_AWQ4, GLLMK_GPTQ4 };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    tu_check_status(&c, gllmk_quantize((gllmk_qtype)types[i], x, 256, d.p, d.n),
                    GLLMK_E_UNSUPPORTED, "gllmk_quantize type %d", types[i]);
    tu_check_true(&c, tu_buf_untouched(&d), "type %d: output written", types[i]);
  }
  tu_check_done(&c, "gllmk_quantize: unknown and unsupported types -> GLLMK_E_UNSUPPORTED");
  tu_buf_free(&d);
}

static void test_bad_awq_gptq(void)
{
  tu_check c;
  tu_check_init(&c);
  const size_t n = 8, k = 256, big = SIZE_MAX / 2 + 1;
  float *w = tu_xmalloc(n * k * sizeof *w);
  fill_weights(w, n, k);
  int32_t *qw = calloc(k * n, 4), *qz = calloc(k * n, 4), *gi = calloc(k, 4);
  gllmk_f16 *sc = calloc(k * n, 2);
  for (size_t i = 0; i < k * n; i++) qz[i] = 0x77777777;
  tu_buf A, B, C;
  tu_buf_alloc(&A, n * k, 0);
  tu_buf_alloc(&B, n * k * 4, 0);
  tu_buf_alloc(&C, n * k * 2, 0);
  tu_buf_snapshot(&A);
  tu_buf_snapshot(&B);
  tu_buf_snapshot(&C);
#define UNTOUCHED() (tu_buf_untouched(&A) && tu_buf_untouched(&B) && tu_buf_untouched(&C))
#define EXPECT(call, want, ...)                                                   \
  do {                                                                            \
    tu_check_status(&c, (call), (want), __VA_ARGS__);                             \
    tu_check_true(&c, UNTOUCHED(), "output written");                             \
  } while (0)
  uint8_t *a = A.p, *b = B.p;
  gllmk_f16 *cs = BUF_F16(C);
  int32_t *bi = BUF_I32(B);

  /* quant_awq4 */
  EXPECT(gllmk_quant_awq4(NULL, n, k, a, b, cs), GLLMK_E_INVAL, "awq4 NULL w");
  EXPECT(gllmk_quant_awq4(w, n, k, NULL, b, cs), GLLMK_E_INVAL, "awq4 NULL packed");
  EXPECT(gllmk_quant_awq4(w, n, k, a, NULL, cs), GLLMK_E_INVAL, "awq4 NULL zeros");
  EXPECT(gllmk_quant_awq4(w, n, k, a, b, NULL), GLLMK_E_INVAL, "awq4 NULL scales");
  EXPECT(gllmk_quant_awq4(w, n, 192, a, b, cs), GLLMK_E_INVAL, "awq4 k = 192");
  EXPECT(gllmk_quant_awq4(w, big, 256, a, b, cs), GLLMK_E_OVERFLOW, "awq4 n*k overflows");
  EXPECT(gllmk_quant_awq4(NULL, 0, k, NULL, NULL, NULL), GLLMK_OK, "awq4 n = 0");
  w[300] = NAN;
  EXPECT(gllmk_quant_awq4(w, n, k, a, b, cs), GLLMK_E_INVAL, "awq4 NaN");
  w[300] = -INFINITY;
  EXPECT(gllmk_quant_awq4(w, n, k, a, b, cs), GLLMK_E_INVAL, "awq4 -inf");
  w[300] = 0.5f;

  /* quant_gptq4 */
  EXPECT(gllmk_quant_gptq4(NULL, n, k, 128, a, bi, cs), GLLMK_E_INVAL, "gptq4 NULL w");
  EXPECT(gllmk_quant_gptq4(w, n, k, 128, NULL, bi, cs), GLLMK_E_INVAL, "gptq4 NULL packed");
  EXPECT(gllmk_quant_gptq4(w, n, k, 128, a, NULL, cs), GLLMK_E_INVAL, "gptq4 NULL g_idx");
  EXPECT(gllmk_quant_gptq4(w, n, k, 128, a, bi, NULL), GLLMK_E_INVAL, "gptq4 NULL scales");
  EXPECT(gllmk_quant_gptq4(w, n, k, 0, a, bi, cs), GLLMK_E_INVAL, "gptq4 group 0");
  EXPECT(gllmk_quant_gptq4(w, n, 255, 255, a, bi, cs), GLLMK_E_INVAL, "gptq4 k odd");
  EXPECT(gllmk_quant_gptq4(w, n, k, 96, a, bi, cs), GLLMK_E_INVAL, "gptq4 k %% group");
  EXPECT(gllmk_quant_gptq4(w, big, 256, 128, a, bi, cs), GLLMK_E_OVERFLOW, "gptq4 overflow");
  w[5] = INFINITY;
  EXPECT(gllmk_quant_gptq4(w, n, k, 128, a, bi, cs), GLLMK_E_INVAL, "gptq4 inf");
  w[5] = 0.5f;

  /* repack_awq */
  EXPECT(gllmk_repack_awq(NULL, qz, sc, n, k, 128, a, b, cs), GLLMK_E_INVAL, "awq NULL qweight");
  EXPECT(gllmk_repack_awq(qw, NULL, sc, n, k, 128, a, b, cs), GLLMK_E_INVAL, "awq NULL qzeros");
  EXPECT(gllmk_repack_awq(qw, qz, NULL, n, k, 128, a, b, cs), GLLMK_E_INVAL, "awq NULL scales");
  EXPECT(gllmk_repack_awq(qw, qz, sc, n, k, 128, NULL, b, cs), GLLMK_E_INVAL, "awq NULL packed");
  EXPECT(gllmk_repack_awq(qw, qz, sc, n, k, 128, a, NULL, cs), GLLMK_E_INVAL, "awq NULL zeros");
  EXPECT(gllmk_repack_awq(qw, qz, sc, n, k, 128, a, b, NULL), GLLMK_E_INVAL, "awq NULL scales_out");
  EXPECT(gllmk_repack_awq(qw, qz, sc, n, k, 32, a, b, cs), GLLMK_E_UNSUPPORTED, "awq group 32");
  EXPECT(gllmk_repack_awq(qw, qz, sc, n, 192, 128, a, b, cs), GLLMK_E_INVAL, "awq k = 192");
  EXPECT(gllmk_repack_awq(qw, qz, sc, 12, k, 128, a, b, cs), GLLMK_E_INVAL, "awq n = 12");
  EXPECT(gllmk_repack_awq(qw, qz, sc, big, 256, 128, a, b, cs), GLLMK_E_OVERFLOW, "awq overflow");
  EXPECT(gllmk_repack_awq(NULL, NULL, NULL, 0, 0, 128, NULL, NULL, NULL), GLLMK_OK, "awq empty");

  /* repack_gptq (zeros stored 7: valid with zero_offset 1) */
  EXPECT(gllmk_repack_gptq(NULL, qz, sc, gi, n, k, 2, 1, a, bi, cs), GLLMK_E_INVAL, "gptq NULL qweight");
  EXPECT(gllmk_repack_gptq(qw, NULL, sc, gi, n, k, 2, 1, a, bi, cs), GLLMK_E_INVAL, "gptq NULL qzeros");
  EXPECT(gllmk_repack_gptq(qw, qz, NULL, gi, n, k, 2, 1, a, bi, cs), GLLMK_E_INVAL, "gptq NULL scales");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, n, k, 2, 1, NULL, bi, cs), GLLMK_E_INVAL, "gptq NULL packed");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, n, k, 2, 1, a, NULL, cs), GLLMK_E_INVAL, "gptq NULL g_idx_out");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, n, k, 2, 1, a, bi, NULL), GLLMK_E_INVAL, "gptq NULL scales_out");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, n, 252, 2, 1, a, bi, cs), GLLMK_E_INVAL, "gptq k = 252");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, 12, k, 2, 1, a, bi, cs), GLLMK_E_INVAL, "gptq n = 12");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, n, k, 0, 1, a, bi, cs), GLLMK_E_INVAL, "gptq n_groups 0");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, big, 256, 2, 1, a, bi, cs), GLLMK_E_OVERFLOW, "gptq overflow");
  EXPECT(gllmk_repack_gptq(qw, qz, sc, gi, 8, 8, big, 1, a, bi, cs), GLLMK_E_OVERFLOW,
         "gptq n_groups * n overflows");
  EXPECT(gllmk_repack_gptq(NULL, NULL, NULL, NULL, 0, 0, 0, 1, NULL, NULL, NULL), GLLMK_OK, "gptq empty");
#undef EXPECT
#undef UNTOUCHED
  tu_check_done(&c, "awq4 / gptq4 quantizers and repackers: bad input -> the right error, nothing written");
  tu_buf_free(&A);
  tu_buf_free(&B);
  tu_buf_free(&C);
  free(w);
  free(qw);
  free(qz);
  free(gi);
  free(sc);
}

int main(void)
{
  tu_init();
  for (size_t i = 0; i < N_GGML_FMTS; i++) test_vectors(&FMTS[i]);
  test_zeros();
  test_squeezellm();
  test_awq4();
  test_gptq4(6, 512, 128);
  test_gptq4(5, 96, 32);
  test_repack_awq();
  test_repack_gptq();
  for (size_t i = 0; i < N_FMTS; i++) test_bad_block_quant(&FMTS[i]);
  test_bad_types();
  test_bad_awq_gptq();
  return done_testing();
}
