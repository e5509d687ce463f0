/* quant.h -- what the quantized-kernel parts of gllmk-bench share (quant.c,
 * cases_quant.c, quant_report.c)
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_BENCH_QUANT_H
#define GLLMK_BENCH_QUANT_H

#include "bench.h"
#include "quant/qfcount.h"

/* entries of qfmts[]: the GGUF rows of lib/quant/qformats.def, SqueezeLLM,
 * AWQ4, GPTQ4, int4 and int8 (quant.c checks) */
#define NQF (GLLMK_NQFMT + 5)

enum { QK_GGUF, QK_SQUEEZE, QK_AWQ, QK_GPTQ, QK_INT4, QK_INT8 };
typedef struct {
  int t; /* gllmk_qtype; 0 for int4 / int8 */
  int kind;
} qfmt;

/* bytes per row of one format, k values */
typedef struct {
  const qfmt *f;
  size_t k;
  size_t rb; /* codes (the GGUF blocks; AWQ4/GPTQ4/int4 nibbles; int8) */
  size_t zb; /* AWQ4 zero points */
  size_t sb; /* scales: AWQ4/GPTQ4 one f16 per group of 128, int4/int8 one f32 */
  size_t ng; /* AWQ4/GPTQ4 groups */
} qlayout;

/* The weights: arenas of rows (codes, zero points, scales); matrix i of n
 * rows starts at row i * n, so that copies rotate through the arenas. */
struct bench_Q {
  uint8_t *w, *z, *s;
  size_t w_cap, z_cap, s_cap; /* bytes */
  int32_t *gidx;              /* GPTQ4 g_idx[k] */
  float *x;                   /* activations [m x k] */
  float *y, *y2, *whole, *ref, *tmp;
  void *yq;                   /* ggml: x in the vec_dot_type */
  double *ex, *ab, *bd, *bd2; /* exact products, sum |w x|, allowed errors (gllmk, ggml) */
  float *rowbuf[MAX_LIST];    /* one row per thread */
  uint16_t sc16[256];         /* f16 bits of +-2^u, u in [-12, 0] */
  size_t rot, llc;            /* bytes the decode copies span at least; last-level cache */
};
extern struct bench_Q Q;

typedef struct qjob {
  const qlayout *L;
  size_t n, m; /* rows of W, rows of x */
  int T;       /* threads splitting the rows of a row-by-row decoder */
  int nrot, rot;
  const float *x;
  float *y;
  const void *yq;
  gg_to_float_t to_float;
  gg_vec_dot_t vec_dot;
  gllmk_status st[MAX_LIST];
} qjob;

typedef gllmk_status (*qfn)(void *);

#define QCHK 64  /* rows checked against exact products */
#define QSUB 256 /* rows the scalar ISA is timed on */

typedef struct {
  double deq_rows[MAX_LIST], deq_whole[MAX_LIST], deq_scalar; /* seconds per matrix */
  char deq_chk[40];
  double dec_hot, dec[2][MAX_LIST], dec_scalar, dec_err;
  char dec_chk[40];
  double pre[2][MAX_LIST], pre_scalar, pre_err;
  char pre_chk[40];
} qres;

typedef struct {
  int ok;          /* to_float equals gllmk's decoding bit for bit */
  int dot_ok;      /* vec_dot within the bound of its activation quantization */
  char chk[128];
  double tofloat, hot, cold, dot_err; /* seconds per matrix */
  gg_to_float_t to_float;
  gg_vec_dot_t vec_dot;
  gg_from_float_t from_float;
  int vdt;
  size_t vdt_block;
  /* prefill: ggml_mul_mat (gg_mm), seconds per m x n x k product, and its
   * error against the bound of its activation quantization */
  double pre[2][MAX_LIST], pre_err;
  char pre_chk[40];
} qggml;

struct bench_QS {
  size_t k, n_deq, n_dec[2], n_pre, m_pre[2];
  int nrot[NQF][2];
};
extern struct bench_QS QS;

#define QSUB_PRE 32 /* rows the scalar ISA is timed on (prefill) */

/* ---------------------------------------------------------------- quant.c */
extern const qfmt qfmts[NQF];
extern const char *const qparts_names[3]; /* the three parts, for --op and --list */
extern qres qres_[NQF][MAX_LIST];         /* per format and ISA */
extern qggml qgg[NQF];
extern int qthr[MAX_LIST], n_qthr;
const char *qf_name(const qfmt *f);
int qf_has_deq(const qfmt *f);
const char *qf_matmul_name(const qfmt *f);
const char *qf_deq_name(const qfmt *f);
int qf_selected(const qfmt *f);
int quant_parts(void);
qlayout q_layout(const qfmt *f, size_t k);
double q_rowbytes(const qlayout *L);
double q_bits(const qlayout *L);
void q_prepare(const qlayout *L, size_t rows, uint64_t seed);
void fill_bytes(uint8_t *p, size_t n, uint64_t seed);
gllmk_status q_mm(const qlayout *L, size_t r0, const float *x, float *y, size_t m, size_t n);
gllmk_status q_deq(const qlayout *L, size_t r0, size_t n, float *out);
gllmk_status r_deq_rows(void *v);
gllmk_status r_gg_rows(void *v);
gllmk_status r_deq_whole(void *v);
gllmk_status r_qmm(void *v);
gllmk_status r_gg_dot(void *v);
gllmk_status r_gg_mm(void *v);
qjob q_job(const qlayout *L, size_t n, size_t m, int T, int nrot);
double qtime(qfn fn, void *ctx, double min_time, int samples, gllmk_status *st);
void q_exact(const float *wd, const float *X, size_t m, size_t n, size_t k, size_t chunk, double *bdo);
double q_err(const float *y, size_t cnt, const double *bd);
size_t count_diff(const float *a, const float *b, size_t n);
void q_progress(const char *part, int i, int n, const char *name, const char *what);
void q_progress_done(void);
const roofline *roof_for(int T);
int scalar_ok(void);
result *q_result(const qfmt *f, const char *op, const char *shape, const char *isa, int T);
void q_count_check(const char *chk);

/* ---------------------------------------------------------------- cases_quant.c */
void q_dequant(int fi, int idx, int cnt);
void q_decode(int fi, int idx, int cnt);
void q_prefill(int fi, int idx, int cnt);

/* ---------------------------------------------------------------- quant_report.c */
void quant_list(int parts);
void run_quant(int parts);

#endif /* GLLMK_BENCH_QUANT_H */
