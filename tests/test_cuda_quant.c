/* test_cuda_quant.c -- the CUDA backend's quantized matmuls (Table C) against a double reference
 * SPDX-License-Identifier: MIT
 *
 * Opens gllmk_backend_open("cuda") (one TAP skip without a device; in `make
 * check` the emulated driver runs every kernel in the execution harness) and,
 * for f32/f16/bf16 through gllmk_backend_ops_<dt>(be):
 *  - fused_dequant_gemv for the 20 GGUF formats and SqueezeLLM (quantized
 *    from random values where gllmk has a quantizer, else random blocks with
 *    sane scales), m = 1, 7 (the int8 decode path) and 16, 33 (decode to T +
 *    GEMM), k of several format blocks, n = 19; kquant_matmul / iq_matmul and
 *    the fused_<fmt> aliases give the same bits;
 *  - awq_matmul, gptq_matmul (act-order g_idx, an odd number of groups),
 *    gemm_q8 (odd k), gemm_q4, at m = 1, 7, 16, 33; a GPTQ4 g_idx out of range
 *    leaves Y unchanged;
 *  - gemv_q8/q4/q2/q1: the float result in device memory;
 *  - dequantize: the ggml test vectors (the quantized and random cases of the
 *    20 GGUF formats; tests/data holds reduced copies) and SqueezeLLM, bit
 *    for bit gllmk_dequantize_<dt> on the CPU, and ggml's DEQUANT for f32;
 *  - several prefill panels (a small workspace reserved), GLLMK_E_NOMEM below
 *    the smallest, and bad arguments (the CPU's status, nothing written).
 * Reference: W decoded on the host (gllmk_dequantize, bit-exact with ggml by
 * test_dequant; AWQ4 / GPTQ4 / int rows by their definitions), X as rounded
 * to the element type, products in double.  Tolerance per element, as in
 * test_qmatmul.c: the decode path's bound of gllmk/quant_ops.h, sum over
 * chunks of 32 of (max |x| / 254) * sum |w| (times 1.001), plus
 * tu_acc_eps(k) * sum |w x|; prefill: tu_acc_eps(k) * sum |w x|, plus for
 * f16 / bf16 the rounding of each weight to T (2^-11 / 2^-8 of sum |w x|);
 * then the store's rounding to T (tu_check_out).
 */
#include "testutil.h"
#include "tvec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gllmk_backend *be;

#define OPS(dt, op, ...)                                                                         \
  ((dt) == TU_F32   ? gllmk_backend_ops_f32(be)->op(be, __VA_ARGS__)                             \
   : (dt) == TU_F16 ? gllmk_backend_ops_f16(be)->op(be, __VA_ARGS__)                             \
                    : gllmk_backend_ops_bf16(be)->op(be, __VA_ARGS__))
#define CPU(dt, op, ...)                                                                         \
  ((dt) == TU_F32 ? gllmk_##op##_f32(__VA_ARGS__)                                                \
   : (dt) == TU_F16 ? gllmk_##op##_f16(__VA_ARGS__)                                              \
                    : gllmk_##op##_bf16(__VA_ARGS__))

#define WS_RESERVED ((size_t)4 << 20)

/* ------------------------------------------------------------------ device copies: tu_dev_* */

/* ------------------------------------------------------------------ reference */
/* x [m x k] random in [-1, 1], as dt (host bytes) and as doubles */
static void *make_x(tu_dtype dt, size_t m, size_t k, double **xd)
{
  void *x = tu_xmalloc(m * k * tu_esize(dt) + 1);
  *xd = tu_dalloc(m * k + 1);
  for (size_t i = 0; i < m * k; i++) {
    tu_put(dt, x, i, tu_uniform(-1, 1));
    (*xd)[i] = tu_get(dt, x, i);
  }
  return x;
}

/* y (dt, device result downloaded) against W [n x k] (doubles) and x */
static void check_y(tu_check *c, tu_dtype dt, const void *y, const double *w, const double *x,
                    size_t m, size_t n, size_t k, const char *what)
{
  size_t bad = 0;
  double wr = m >= 16 ? (dt == TU_F16 ? 0x1p-11 : dt == TU_BF16 ? 0x1p-8 : 0) : 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      const double *wj = w + j * k, *xi = x + i * k;
      double ref = 0, mag = 0, qb = 0;
      for (size_t t = 0; t < k; t++) {
        ref += wj[t] * xi[t];
        mag += fabs(wj[t] * xi[t]);
      }
      if (m < 16)
        for (size_t c0 = 0; c0 < k; c0 += 32) {
          double a = 0, sw = 0;
          for (size_t t = c0; t < c0 + 32 && t < k; t++) {
            a = fmax(a, fabs(xi[t]));
            sw += fabs(wj[t]);
          }
          qb += a / 254 * sw * 1.001;
        }
      double tol = qb + (tu_acc_eps(k) + wr) * mag;
      double got = tu_get(dt, y, i * n + j);
      if (!tu_check_out(c, dt, got, ref, tol, "%s: y[%zu][%zu]", what, i, j) && ++bad > 3)
        return;
    }
}

/* ------------------------------------------------------------------ GGUF formats */
static const gllmk_qtype FMTS[] = {
#define GLLMK_QFMT(tok, QT, ...) GLLMK_##QT,
#include "quant/qformats.def"
#undef GLLMK_QFMT
  GLLMK_SQUEEZELLM,
};
#define NFMTS (sizeof FMTS / sizeof *FMTS)

/* n rows of k values in format t: quantized random values, or random blocks
 * whose f16 scale fields are small powers of two (the formats without a
 * quantizer: IQ1/2/3; their scale is the block's first f16) */
static unsigned char *make_w(gllmk_qtype t, size_t n, size_t k, double **wd)
{
  size_t rb = gllmk_qtype_row_bytes(t, k), bs = gllmk_qtype_block_size(t);
  size_t bb = gllmk_qtype_block_bytes(t);
  unsigned char *w = tu_xmalloc(n * rb + 1);
  float *src = tu_xmalloc(n * k * sizeof(float) + 4);
  for (size_t i = 0; i < n * k; i++)
    src[i] = (float)tu_uniform(-1, 1);
  if (gllmk_quantize(t, src, n * k, w, n * rb) != GLLMK_OK) {
    tu_fill_random(w, n * rb);
    for (size_t b = 0; b < n * k / bs; b++) {   /* d = 2^-(4..11) */
      uint16_t d = (uint16_t)((15 - 4 - tu_rand_below(8)) << 10);
      if (t == GLLMK_IQ1_M) {   /* d in the top nibbles of the four u16 scales (bytes 48..55) */
        unsigned char *sc = w + b * bb + 48;
        for (int j = 0; j < 4; j++)
          tu_wr16(sc + 2 * j, (uint16_t)((tu_rd16(sc + 2 * j) & 0x0fff) | (((d >> (4 * j)) & 15) << 12)));
      } else {
        tu_wr16(w + b * bb, d);
      }
    }
  }
  float *dq = tu_xmalloc(n * k * sizeof(float) + 4);
  if (gllmk_dequantize(t, w, n * rb, dq, n * k) != GLLMK_OK)
    bail_out("gllmk_dequantize %s", gllmk_qtype_name(t));
  *wd = tu_dalloc(n * k + 1);
  for (size_t i = 0; i < n * k; i++)
    (*wd)[i] = dq[i];
  free(src), free(dq);
  return w;
}

static void test_gguf(tu_dtype dt)
{
  static const size_t MS[] = {1, 7, 16, 33};
  size_t es = tu_esize(dt), n = 19;
  tu_check c;
  tu_check_init(&c);
  for (size_t f = 0; f < NFMTS; f++) {
    gllmk_qtype t = FMTS[f];
    size_t bs = gllmk_qtype_block_size(t), k = bs == 32 ? 320 : 512, rb = gllmk_qtype_row_bytes(t, k);
    double *wd, *xd;
    unsigned char *w = make_w(t, n, k, &wd);
    unsigned char *dw = tu_dev(be, w, n * rb);
    for (size_t mi = 0; mi < sizeof MS / sizeof *MS; mi++) {
      size_t m = MS[mi];
      if (t == GLLMK_Q4_K && m == 7)
        m = 15;   /* Q4_K's own kernel with 15 rows of x */
      if (m == 33 && f % 4 != (size_t)dt && t != GLLMK_Q4_K)   /* the second prefill shape for some */
        continue;
      void *x = make_x(dt, m, k, &xd), *y = tu_xmalloc(m * n * es), *y2 = tu_xmalloc(m * n * es);
      void *dx = tu_dev(be, x, m * k * es), *dy = tu_dev(be, NULL, m * n * es);
      size_t need = 0;
      gllmk_status st = OPS(dt, fused_dequant_gemv_workspace_bytes, n * rb, t, m, n, k, &need);
      tu_check_true(&c, st == GLLMK_OK && need <= WS_RESERVED, "%s workspace %zu", gllmk_qtype_name(t), need);
      st = OPS(dt, fused_dequant_gemv, dw, n * rb, dx, dy, t, m, n, k);
      tu_check_status(&c, st, GLLMK_OK, "fused_dequant_gemv %s m %zu", gllmk_qtype_name(t), m);
      tu_dev_down(be, y, dy, m * n * es);
      char what[96];
      snprintf(what, sizeof what, "%s fused_dequant_gemv %s m %zu", tu_dtname(dt), gllmk_qtype_name(t), m);
      check_y(&c, dt, y, wd, xd, m, n, k, what);
      if (t == GLLMK_Q4_K) {   /* unaligned rows: the generic kernel, the panels, not Q4_K's own */
        unsigned char *dwu = tu_dev_at(be, w, n * rb, 4);
        st = OPS(dt, fused_dequant_gemv, dwu, n * rb, dx, dy, t, m, n, k);
        tu_dev_down(be, y2, dy, m * n * es);
        snprintf(what, sizeof what, "%s fused_dequant_gemv q4_K unaligned m %zu", tu_dtname(dt), m);
        tu_check_status(&c, st, GLLMK_OK, "%s", what);
        check_y(&c, dt, y2, wd, xd, m, n, k, what);
        if (m >= 16 && dt != TU_F32)   /* W decoded in the GEMM's shared memory = in panels */
          tu_check_true(&c, !memcmp(y, y2, m * n * es), "%s: the fused Q4_K GEMM's bits", what);
      }
      /* the family op and the fused alias: the same bits */
      if (m == 7 || m == 16) {
        if (t == GLLMK_SQUEEZELLM)
          st = OPS(dt, squeeze_matmul, dw, n * rb, dx, dy, m, n, k);
        else if (t == GLLMK_IQ1_S)
          st = OPS(dt, fused_iq1_s_matmul, dw, n * rb, dx, dy, m, n, k);
        else if (t == GLLMK_IQ2_XXS)
          st = OPS(dt, fused_iq2_xxs_matmul, dw, n * rb, dx, dy, m, n, k);
        else if (gllmk_qtype_name(t)[0] == 'i' || t == GLLMK_MXFP4)   /* MXFP4: the IQ family */
          st = OPS(dt, iq_matmul, dw, n * rb, dx, dy, t, m, n, k);
        else
          st = OPS(dt, kquant_matmul, dw, n * rb, dx, dy, t, m, n, k);
        tu_dev_down(be, y2, dy, m * n * es);
        tu_check_true(&c, st == GLLMK_OK && !memcmp(y, y2, m * n * es), "%s family op: same bits",
                      gllmk_qtype_name(t));
      }
      tu_dev_free_all(be);
      dw = tu_dev(be, w, n * rb);
      free(x), free(xd), free(y), free(y2);
    }
    /* the wrong family */
    void *dv = dw;
    gllmk_status st = gllmk_qtype_name(t)[0] == 'i' || t == GLLMK_MXFP4 || t == GLLMK_SQUEEZELLM
                          ? OPS(dt, kquant_matmul, dw, n * rb, dv, dv, t, 1, n, k)
                          : OPS(dt, iq_matmul, dw, n * rb, dv, dv, t, 1, n, k);
    tu_check_status(&c, st, GLLMK_E_INVAL, "%s in the other family", gllmk_qtype_name(t));
    tu_dev_free_all(be);
    free(w), free(wd);
  }
  tu_check_done(&c, "%s fused_dequant_gemv, kquant_matmul, iq_matmul: 21 GGUF formats and SqueezeLLM, m 1 7 16 33",
                tu_dtname(dt));
}

/* ------------------------------------------------------------------ dequantize */
/* element i of a and b: the same bits, or both NaN */
static int same_elem(tu_dtype dt, const void *a, const void *b, size_t i)
{
  size_t es = tu_esize(dt);
  if (!memcmp((const char *)a + i * es, (const char *)b + i * es, es))
    return 1;
  return isnan(tu_get(dt, a, i)) && isnan(tu_get(dt, b, i));
}

/* The ggml test vectors (QBLOCKS of the quantized and random cases) and
 * random SqueezeLLM blocks: f32 equals ggml's DEQUANT bit for bit, every
 * type equals gllmk_dequantize_<dt> on the CPU bit for bit */
static void test_dequantize(tu_dtype dt)
{
  static const char *CASES[] = {"quantized", "random"};
  size_t es = tu_esize(dt), files = 0;
  tu_check c;
  tu_check_init(&c);
  for (size_t f = 0; f < NFMTS; f++) {
    gllmk_qtype t = FMTS[f];
    for (int cs = 0; cs < 2; cs++) {
      tv_file *tv = NULL;
      const unsigned char *qb;
      const float *dq = NULL;
      size_t qlen, n, bs = gllmk_qtype_block_size(t), bb = gllmk_qtype_block_bytes(t);
      unsigned char *own = NULL;
      if (t == GLLMK_SQUEEZELLM) {   /* no ggml vectors: random bytes */
        if (cs)
          continue;
        qlen = 7 * bb;
        qb = own = tu_xmalloc(qlen);
        tu_fill_random(own, qlen);
      } else {
        char *path = tv_find(gllmk_qtype_name(t), CASES[cs]);
        tv = path ? tv_open(path) : NULL;
        free(path);
        if (!tu_check_true(&c, tv != NULL, "%s.%s: test vectors", gllmk_qtype_name(t), CASES[cs]))
          continue;
        files++;
        qb = tv_section(tv, "QBLOCKS", &qlen);
        dq = tv_section(tv, "DEQUANT", NULL);
      }
      n = qlen / bb * bs;
      void *cpu = tu_xmalloc(n * es + 1), *got = tu_xmalloc(n * es + 1);
      gllmk_status st = dt == TU_F32   ? gllmk_dequantize_f32(qb, qlen, t, cpu, n)
                        : dt == TU_F16 ? gllmk_dequantize_f16(qb, qlen, t, cpu, n)
                                       : gllmk_dequantize_bf16(qb, qlen, t, cpu, n);
      tu_check_status(&c, st, GLLMK_OK, "cpu dequantize %s", gllmk_qtype_name(t));
      void *dsrc = tu_dev(be, qb, qlen), *dout = tu_dev(be, NULL, n * es);
      st = OPS(dt, dequantize, dsrc, qlen, t, dout, n);
      tu_check_status(&c, st, GLLMK_OK, "dequantize %s.%s", gllmk_qtype_name(t), CASES[cs]);
      tu_dev_down(be, got, dout, n * es);
      size_t bad = 0, badv = 0;
      for (size_t i = 0; i < n; i++) {
        if (!same_elem(dt, got, cpu, i) && bad++ < 3)
          diag("%s dequantize %s.%s: value %zu: cuda %.9g cpu %.9g", tu_dtname(dt), gllmk_qtype_name(t),
               CASES[cs], i, tu_get(dt, got, i), tu_get(dt, cpu, i));
        if (dq && dt == TU_F32 && memcmp((const float *)got + i, dq + i, 4) &&
            !(isnan(dq[i]) && isnan(((const float *)got)[i])))
          badv++;
      }
      tu_check_true(&c, bad == 0, "%s.%s: %zu of %zu values differ from the CPU's", gllmk_qtype_name(t),
                    CASES[cs], bad, n);
      tu_check_true(&c, badv == 0, "%s.%s: %zu values differ from ggml's DEQUANT", gllmk_qtype_name(t),
                    CASES[cs], badv);
      tu_dev_free_all(be);
      free(cpu), free(got), free(own);
      tv_close(tv);
    }
  }
  /* bad input: the CPU's statuses */
  void *d = tu_dev(be, NULL, 4096);
  static unsigned char host[4096];
  tu_check_status(&c, OPS(dt, dequantize, d, 4096, GLLMK_AWQ4, d, 256),
                  CPU(dt, dequantize, host, 4096, GLLMK_AWQ4, (void *)host, 256), "dequantize AWQ4");
  tu_check_status(&c, OPS(dt, dequantize, d, 4096, GLLMK_Q4_K, d, 100),
                  CPU(dt, dequantize, host, 4096, GLLMK_Q4_K, (void *)host, 100), "dequantize n %% 256");
  tu_check_status(&c, OPS(dt, dequantize, d, 10, GLLMK_Q4_K, d, 256),
                  CPU(dt, dequantize, host, 10, GLLMK_Q4_K, (void *)host, 256), "dequantize src short");
  tu_check_status(&c, OPS(dt, dequantize, d, 4096, (gllmk_qtype)999, d, 256),
                  CPU(dt, dequantize, host, 4096, (gllmk_qtype)999, (void *)host, 256), "dequantize not a type");
  tu_check_status(&c, OPS(dt, dequantize, d, 4096, GLLMK_Q8_0, d, 3072), GLLMK_E_INVAL,
                  "dequantize out past its buffer");
  tu_dev_free_all(be);
  tu_check_done(&c, "%s dequantize: %zu ggml vector files and SqueezeLLM, the CPU's bits%s", tu_dtname(dt),
                files, dt == TU_F32 ? " and ggml's" : "");
}

/* ------------------------------------------------------------------ side-array formats */
static uint16_t f16_pow2(int e) { return (uint16_t)((15 + e) << 10); }

static void test_external(tu_dtype dt)
{
  static const size_t MS[] = {1, 7, 16, 33};
  size_t es = tu_esize(dt), n = 21;
  tu_check c;
  tu_check_init(&c);
  for (int kind = 0; kind < 4; kind++) {   /* AWQ4, GPTQ4, int8, int4 */
    size_t k = kind == 0 ? 384 : kind == 1 ? 200 : kind == 2 ? 37 : 38, ng = kind == 1 ? 3 : k / 128;
    size_t pb = kind == 2 ? n * k : n * (k / 2);
    unsigned char *pk = tu_xmalloc(pb), *zr = tu_xmalloc(n * ((ng + 1) / 2) + 1);
    uint16_t *sc = tu_xmalloc(n * ng * 2 + 2);
    float *fs = tu_xmalloc(n * sizeof(float));
    int32_t *gi = tu_xmalloc(k * 4);
    tu_fill_random(pk, pb);
    tu_fill_random(zr, n * ((ng + 1) / 2) + 1);
    for (size_t i = 0; i < n * ng; i++)
      sc[i] = f16_pow2(-(int)tu_rand_below(6)) | (uint16_t)(tu_rand_below(2) << 15);
    for (size_t i = 0; i < n; i++)
      fs[i] = (float)tu_uniform(0.01, 0.1);
    for (size_t j = 0; j < k; j++)
      gi[j] = (int32_t)tu_rand_below(ng);   /* act-order */
    double *wd = tu_dalloc(n * k + 1);
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < k; j++) {
        double v;
        if (kind == 2) {
          v = (double)(int8_t)pk[r * k + j] * fs[r];
        } else {
          int q = (int)tu_nib(pk + r * (k / 2), j);
          if (kind == 0) {
            size_t g = j / 128;
            int z = (int)tu_nib(zr + r * ((ng + 1) / 2), g);
            v = (q - z) * tu_h2d(sc[r * ng + g]);
          } else if (kind == 1) {
            v = (q - 8) * tu_h2d(sc[r * ng + (size_t)gi[j]]);
          } else {
            v = (q - 8) * (double)fs[r];
          }
        }
        wd[r * k + j] = v;
      }
    static const char *names[] = {"awq_matmul", "gptq_matmul", "gemm_q8", "gemm_q4"};
    for (size_t mi = 0; mi < sizeof MS / sizeof *MS; mi++) {
      size_t m = MS[mi];
      double *xd;
      void *x = make_x(dt, m, k, &xd), *y = tu_xmalloc(m * n * es), *y0 = tu_xmalloc(m * n * es);
      unsigned char *dpk = tu_dev(be, pk, pb), *dzr = tu_dev(be, zr, n * ((ng + 1) / 2) + 1);
      gllmk_f16 *dsc = tu_dev(be, sc, n * ng * 2);
      float *dfs = tu_dev(be, fs, n * sizeof(float));
      int32_t *dgi = tu_dev(be, gi, k * 4);
      void *dx = tu_dev(be, x, m * k * es), *dy = tu_dev(be, NULL, m * n * es);
      gllmk_status st;
      size_t need = 0;
      if (kind == 0) {
        OPS(dt, awq_matmul_workspace_bytes, pb, m, n, k, &need);
        st = OPS(dt, awq_matmul, dpk, pb, dzr, dsc, dx, dy, m, n, k);
      } else if (kind == 1) {
        OPS(dt, gptq_matmul_workspace_bytes, pb, ng, m, n, k, &need);
        st = OPS(dt, gptq_matmul, dpk, pb, dgi, dsc, ng, dx, dy, m, n, k);
      } else if (kind == 2) {
        OPS(dt, gemm_q8_workspace_bytes, pb, m, n, k, &need);
        st = OPS(dt, gemm_q8, (const int8_t *)dpk, pb, dx, dy, dfs, m, n, k);
      } else {
        OPS(dt, gemm_q4_workspace_bytes, pb, m, n, k, &need);
        st = OPS(dt, gemm_q4, dpk, pb, dx, dy, dfs, m, n, k);
      }
      tu_check_true(&c, need <= WS_RESERVED, "%s workspace %zu", names[kind], need);
      tu_check_status(&c, st, GLLMK_OK, "%s m %zu", names[kind], m);
      tu_dev_down(be, y, dy, m * n * es);
      char what[64];
      snprintf(what, sizeof what, "%s %s m %zu", tu_dtname(dt), names[kind], m);
      /* the float path (m < 16) has no int8 rounding of x: the prefill bound
       * without the weight rounding applies, which check_y's decode bound
       * includes */
      check_y(&c, dt, y, wd, xd, m, n, k, what);
      if (kind == 1 && (m == 1 || m == 16)) {   /* a g_idx out of range: Y unchanged */
        int32_t bad = (int32_t)ng;
        tu_dev_up((int32_t *)dgi + k / 2, &bad, 4);
        for (size_t i = 0; i < m * n; i++)
          tu_put(dt, y0, i, 7.0);
        tu_dev_up(dy, y0, m * n * es);
        st = OPS(dt, gptq_matmul, dpk, pb, dgi, dsc, ng, dx, dy, m, n, k);
        tu_dev_down(be, y, dy, m * n * es);
        tu_check_true(&c, st == GLLMK_OK && !memcmp(y, y0, m * n * es), "gptq bad g_idx, m %zu: Y unchanged", m);
      }
      tu_dev_free_all(be);
      free(x), free(xd), free(y), free(y0);
    }
    free(pk), free(zr), free(sc), free(fs), free(gi), free(wd);
  }
  tu_check_done(&c, "%s awq_matmul, gptq_matmul (act order), gemm_q8, gemm_q4: m 1 7 16 33", tu_dtname(dt));
}

/* ------------------------------------------------------------------ gemv_q8/q4/q2/q1 */
static void test_qvec(tu_dtype dt)
{
  static const size_t NS[] = {1, 37, 1000};
  size_t es = tu_esize(dt);
  tu_check c;
  tu_check_init(&c);
  for (int bi = 0; bi < 4; bi++) {
    int bits = 8 >> bi;
    for (size_t ni = 0; ni < 3; ni++) {
      size_t n = NS[ni], wb = (n * (size_t)bits + 7) / 8;
      double *xd;
      unsigned char *w = tu_xmalloc(wb);
      tu_fill_random(w, wb);
      void *x = make_x(dt, 1, n, &xd);
      unsigned char *dw = tu_dev(be, w, wb);
      void *dx = tu_dev(be, x, n * es);
      float *dr = tu_dev(be, NULL, sizeof(float)), got = 0;
      float scale = 0.37f;
      gllmk_status st = bits == 8 ? OPS(dt, gemv_q8, (const int8_t *)dw, wb, dx, scale, n, dr)
                        : bits == 4 ? OPS(dt, gemv_q4, dw, wb, dx, scale, n, dr)
                        : bits == 2 ? OPS(dt, gemv_q2, dw, wb, dx, scale, n, dr)
                                    : OPS(dt, gemv_q1, dw, wb, dx, scale, n, dr);
      tu_dev_down(be, &got, dr, sizeof got);
      double ref = 0, mag = 0;
      for (size_t i = 0; i < n; i++) {
        int q;
        if (bits == 8)
          q = (int8_t)w[i];
        else {
          unsigned per = 8u / (unsigned)bits, v = (w[i / per] >> ((unsigned)bits * (i % per))) & ((1u << bits) - 1);
          q = bits == 4 ? (int)v - 8 : bits == 2 ? (int)v - 2 : (v ? 1 : -1);
        }
        ref += q * xd[i];
        mag += fabs(q * xd[i]);
      }
      ref *= scale, mag *= scale;
      tu_check_status(&c, st, GLLMK_OK, "gemv_q%d n %zu", bits, n);
      tu_check_true(&c, fabs(got - ref) <= tu_acc_eps(n) * mag + 1e-30, "gemv_q%d n %zu: %.9g vs %.9g",
                    bits, n, got, ref);
      tu_dev_free_all(be);
      free(w), free(x), free(xd);
    }
  }
  tu_check_done(&c, "%s gemv_q8, gemv_q4, gemv_q2, gemv_q1: n 1 37 1000", tu_dtname(dt));
}

/* ------------------------------------------------------------------ panels, workspace, bad input */
static void test_panels(void)
{
  tu_check c;
  tu_check_init(&c);
  tu_dtype dt = TU_F16;
  gllmk_qtype t = GLLMK_Q8_0;   /* (aligned Q4_K would take the fused GEMM: no panels) */
  size_t m = 16, n = 200, k = 256, rb = gllmk_qtype_row_bytes(t, k), es = 2;
  double *wd, *xd;
  unsigned char *w = make_w(t, n, k, &wd);
  void *x = make_x(dt, m, k, &xd), *y = tu_xmalloc(m * n * es), *y0 = tu_xmalloc(m * n * es);
  size_t need = 0;
  OPS(dt, fused_dequant_gemv_workspace_bytes, n * rb, t, m, n, k, &need);
  tu_check_true(&c, need >= n * k * es, "one panel asked for: %zu bytes", need);
  /* (the workspace only grows: from 8 bytes up to 64-row panels) */
  size_t small = 64 * k * es + m * 64 * es;   /* W 64 x 256 f16, Y 16 x 64 */
  unsigned char *dw = tu_dev(be, w, n * rb);
  void *dx = tu_dev(be, x, m * k * es), *dy = tu_dev(be, NULL, m * n * es);
  for (size_t i = 0; i < m * n; i++)
    tu_put(dt, y0, i, 3.0);
  tu_dev_up(dy, y0, m * n * es);
  if (gllmk_backend_reserve_workspace(be, 8) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace");
  gllmk_status st = OPS(dt, fused_dequant_gemv, dw, n * rb, dx, dy, t, 2, n, k);
  tu_check_status(&c, st, GLLMK_E_NOMEM, "decode path, 8 bytes of workspace");
  if (gllmk_backend_reserve_workspace(be, small - 16) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace");
  st = OPS(dt, fused_dequant_gemv, dw, n * rb, dx, dy, t, m, n, k);
  tu_check_status(&c, st, GLLMK_E_NOMEM, "workspace below one 64-row panel");
  tu_dev_down(be, y, dy, m * n * es);
  tu_check_true(&c, !memcmp(y, y0, m * n * es), "GLLMK_E_NOMEM: Y untouched");
  if (gllmk_backend_reserve_workspace(be, small) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace");
  st = OPS(dt, fused_dequant_gemv, dw, n * rb, dx, dy, t, m, n, k);
  tu_check_status(&c, st, GLLMK_OK, "four panels");
  tu_dev_down(be, y, dy, m * n * es);
  check_y(&c, dt, y, wd, xd, m, n, k, "f16 q8_0 m 16 in 64-row panels");
  tu_dev_free_all(be);
  free(w), free(wd), free(x), free(xd), free(y), free(y0);
  tu_check_done(&c, "prefill in 64-row panels; GLLMK_E_NOMEM below the smallest panel");
}

static void test_bad_input(void)
{
  tu_check c;
  tu_check_init(&c);
  tu_dtype dt = TU_F32;
  size_t big = SIZE_MAX / 2;
  static unsigned char hostbuf[4096];
  void *host = hostbuf;
  void *d = tu_dev(be, NULL, 4096);
  struct { gllmk_status cpu, cu; const char *what; } r[32];
  int nr = 0;
#define BOTH(what_, cpucall, cucall) (r[nr].cpu = (cpucall), r[nr].cu = (cucall), r[nr++].what = (what_))
  BOTH("not a qtype", CPU(dt, fused_dequant_gemv, host, 4096, host, host, (gllmk_qtype)999, 1, 1, 256),
       OPS(dt, fused_dequant_gemv, d, 4096, d, d, (gllmk_qtype)999, 1, 1, 256));
  BOTH("AWQ4 in fused_dequant_gemv", CPU(dt, fused_dequant_gemv, host, 4096, host, host, GLLMK_AWQ4, 1, 1, 256),
       OPS(dt, fused_dequant_gemv, d, 4096, d, d, GLLMK_AWQ4, 1, 1, 256));
  BOTH("k not whole blocks", CPU(dt, fused_dequant_gemv, host, 4096, host, host, GLLMK_Q4_K, 1, 1, 100),
       OPS(dt, fused_dequant_gemv, d, 4096, d, d, GLLMK_Q4_K, 1, 1, 100));
  BOTH("w too short", CPU(dt, fused_dequant_gemv, host, 100, host, host, GLLMK_Q4_K, 1, 1, 256),
       OPS(dt, fused_dequant_gemv, d, 100, d, d, GLLMK_Q4_K, 1, 1, 256));
  BOTH("overflow", CPU(dt, fused_dequant_gemv, host, 4096, host, host, GLLMK_Q8_0, big, big, 32),
       OPS(dt, fused_dequant_gemv, d, 4096, d, d, GLLMK_Q8_0, big, big, 32));
  BOTH("NULL x", CPU(dt, fused_dequant_gemv, host, 4096, NULL, host, GLLMK_Q4_K, 1, 1, 256),
       OPS(dt, fused_dequant_gemv, d, 4096, NULL, d, GLLMK_Q4_K, 1, 1, 256));
  BOTH("NULL w", CPU(dt, fused_dequant_gemv, NULL, 4096, host, host, GLLMK_Q4_K, 1, 1, 256),
       OPS(dt, fused_dequant_gemv, NULL, 4096, d, d, GLLMK_Q4_K, 1, 1, 256));
  BOTH("kquant with IQ2_XS", CPU(dt, kquant_matmul, host, 4096, host, host, GLLMK_IQ2_XS, 1, 1, 256),
       OPS(dt, kquant_matmul, d, 4096, d, d, GLLMK_IQ2_XS, 1, 1, 256));
  BOTH("awq k % 128", CPU(dt, awq_matmul, host, 4096, host, host, host, host, 1, 1, 100),
       OPS(dt, awq_matmul, d, 4096, d, d, d, d, 1, 1, 100));
  BOTH("awq NULL zeros", CPU(dt, awq_matmul, host, 4096, NULL, host, host, host, 1, 1, 128),
       OPS(dt, awq_matmul, d, 4096, NULL, d, d, d, 1, 1, 128));
  BOTH("gptq k odd", CPU(dt, gptq_matmul, host, 4096, host, host, 1, host, host, 1, 1, 7),
       OPS(dt, gptq_matmul, d, 4096, d, d, 1, d, d, 1, 1, 7));
  BOTH("gptq 0 groups", CPU(dt, gptq_matmul, host, 4096, host, host, 0, host, host, 1, 1, 8),
       OPS(dt, gptq_matmul, d, 4096, d, d, 0, d, d, 1, 1, 8));
  BOTH("gemm_q4 k odd", CPU(dt, gemm_q4, host, 4096, host, host, host, 1, 1, 7),
       OPS(dt, gemm_q4, d, 4096, d, d, d, 1, 1, 7));
  BOTH("gemm_q8 NULL scales", CPU(dt, gemm_q8, host, 4096, host, host, NULL, 1, 1, 7),
       OPS(dt, gemm_q8, d, 4096, d, d, NULL, 1, 1, 7));
  BOTH("gemv_q4 NULL result", CPU(dt, gemv_q4, host, 4096, host, 1.0f, 8, NULL),
       OPS(dt, gemv_q4, d, 4096, d, 1.0f, 8, NULL));
  BOTH("gemv_q2 w short", CPU(dt, gemv_q2, host, 1, host, 1.0f, 8, (float *)host),
       OPS(dt, gemv_q2, d, 1, d, 1.0f, 8, d));
#undef BOTH
  for (int i = 0; i < nr; i++)
    tu_check_status(&c, r[i].cu, r[i].cpu, "%s: the CPU's status", r[i].what);
  /* host pointers and ranges past a buffer: GLLMK_E_INVAL */
  tu_check_status(&c, OPS(dt, fused_dequant_gemv, host, 4096, d, d, GLLMK_Q4_K, 1, 1, 256), GLLMK_E_INVAL,
                  "host weights");
  tu_check_status(&c, OPS(dt, fused_dequant_gemv, d, 4096, d, d, GLLMK_Q8_0, 2, 200, 32), GLLMK_E_INVAL,
                  "y past its buffer");
  tu_check_status(&c, OPS(dt, gemv_q8, (const int8_t *)d, 8192, d, 1.0f, 8192, d), GLLMK_E_INVAL,
                  "gemv_q8 past the buffer");
  tu_dev_free_all(be);
  tu_check_done(&c, "bad input: the CPU's statuses; host pointers and ranges outside buffers");
}

int main(void)
{
  if (!tu_cuda_open(&be)) return 0;
  test_panels();   /* (first: it grows the workspace from 8 bytes) */
  if (gllmk_backend_reserve_workspace(be, WS_RESERVED) != GLLMK_OK)
    bail_out("gllmk_backend_reserve_workspace(%zu)", WS_RESERVED);
  for (int d = 0; d < TU_NDTYPES; d++) {
    test_dequantize((tu_dtype)d);
    test_gguf((tu_dtype)d);
    test_external((tu_dtype)d);
    test_qvec((tu_dtype)d);
  }
  test_bad_input();
  gllmk_backend_close(be);
  return done_testing();
}
