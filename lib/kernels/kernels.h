/* kernels.h -- the per-ISA kernel tables (layer 2 of the dispatch)
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_KERNELS_H
#define GLLMK_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gllmk/types.h>

/* GEMM blocking shared by the template and the workspace sizing in the core */
#define GLLMK_GEMM_KC 256
#define GLLMK_GEMM_MC_ROWS 144    /* multiple of every MR (4, 6, 8, 12) */
#define GLLMK_GEMM_NC 2048        /* the template rounds it down to whole NR panels */
#define GLLMK_GEMM_ROW_GRAIN 24     /* row splits across threads: a multiple of every MR */
/* floats of workspace one gemm kernel call needs: A block, B block, one row */
#define GLLMK_GEMM_WS_FLOATS ((size_t)GLLMK_GEMM_KC * (GLLMK_GEMM_MC_ROWS + GLLMK_GEMM_NC + 1) + 64)

/* attention tiling: QB query positions x all heads of a GQA group per tile, BK keys per step */
#define GLLMK_ATTN_QB 16
#define GLLMK_ATTN_BK 64

/* One attention problem, type-erased (element type chosen by the kernel). */
struct gllmk__attn {
  const void *q, *k, *v;
  void *out;
  const uint32_t *page_table; /* NULL: contiguous k/v [kv_len x kv_heads x d] */
  size_t page_size;
  size_t q_len, kv_len, heads, kv_heads, head_dim;
  float scale;
  bool causal;
};

/* floats of workspace one attention kernel call needs */
static inline size_t gllmk__attn_ws_floats(size_t group, size_t d) {
  size_t rows = (size_t)GLLMK_ATTN_QB * group;
  return rows * d * 2 + rows * GLLMK_ATTN_BK + (size_t)GLLMK_ATTN_BK * d + rows * 4 +
         (size_t)GLLMK_ATTN_BK * (d + 16) + 64;
}

#define GLLMK_KERNEL(name, ret, params) ret (*name) params;
#define T float
struct gllmk__kt_f32 {
#include "kernels/kernels.def"
};
#undef T
#define T gllmk_f16
struct gllmk__kt_f16 {
#include "kernels/kernels.def"
};
#undef T
#define T gllmk_bf16
struct gllmk__kt_bf16 {
#include "kernels/kernels.def"
};
#undef T
#undef GLLMK_KERNEL

/* ---- quantized kernels (quant_tpl.h): element-type independent */

/* the GGUF block formats, in qformats.def order */
enum {
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) GLLMK_QF_##fmt,
#include "quant/qformats.def"
#undef GLLMK_QFMT
  GLLMK_NQF
};

/* The formats that struct gllmk__qmv describes with side arrays (no GGUF
 * kernel index): AWQ4, GPTQ4, SqueezeLLM rows, int8 and int4 rows with one
 * f32 scale per row (gemm_q8 / gemm_q4): X(token, NAME) per format, GLLMK_XF_NAME
 * its index, xdeq_<token> its row decoder's slot (kernels/kt_slots.h) */
#define GLLMK_XFMTS(X) X(awq4, AWQ4) X(gptq4, GPTQ4) X(sqllm, SQLLM) X(i8, I8) X(i4, I4)
enum {
#define GLLMK_XF_ENUM(tok, NAME) GLLMK_XF_##NAME,
  GLLMK_XFMTS(GLLMK_XF_ENUM)
#undef GLLMK_XF_ENUM
  GLLMK_NXF
};

/* One quantized GEMV problem: y[i * ldy + r] = <row r of W, activation i>
 * for rows [r0, r1) and i < m.  Rows are `units` units of 256 values. */
struct gllmk__qmv {
  const uint8_t *w;
  size_t row_bytes, unit_bytes, k, units;
  int xfmt;                    /* GLLMK_XF_<fmt> for the row decoders xdeq (AWQ4, GPTQ4, SqueezeLLM, int rows) */
  /* AWQ4 / GPTQ4 side arrays */
  const uint8_t *zeros;
  size_t zero_bytes;
  const void *scales;          /* AWQ4/GPTQ4: f16 [rows x n_groups]; int8/int4 rows: f32 [rows] */
  size_t n_groups;
  const int32_t *g_idx;        /* GPTQ4: group of each column */
  int g_c16;                   /* GPTQ4: k % 16 == 0 and g_idx constant over every 16 columns
                                * (the integer path; the group of 16 columns j.. is g_idx[j]) */
  const int32_t *g16;          /* GPTQ4 integer GEMV (g_c16): g_idx[16 j] for j < k / 16 */
  /* activations: m rows, act_stride values apart, units * 256 each (zero padded) */
  size_t m, act_stride;
  const int8_t *qs;            /* integer path: levels */
  const float *dx16, *xb16;    /* integer path: [m x units*16] scale and scale * sum per 16 */
  const float *xf;             /* float path: the activations */
  float *y;
  size_t ldy;
};

/* the int8 GEMM's decoded unit (kernels/quant_tpl.h), and the most W rows a
 * qgemm call decodes at once */
#define GLLMK_QG_UNIT_BYTES 448
#define GLLMK_QG_NT 64

struct gllmk__kt_q {
  void (*dequant[GLLMK_NQF])(const void *src, float *out, size_t nblocks);
  void (*dequant_squeezellm)(const void *src, float *out, size_t nblocks);
  void (*qmv[GLLMK_NQF])(const struct gllmk__qmv *p, size_t r0, size_t r1);
  void (*qmv_awq4)(const struct gllmk__qmv *p, size_t r0, size_t r1);
  void (*qmv_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1);
  void (*qmv_i8)(const struct gllmk__qmv *p, size_t r0, size_t r1);
  void (*qmv_i4)(const struct gllmk__qmv *p, size_t r0, size_t r1);
  /* the int8 GEMM (prefill): rows [r0, r1) of W, r1 - r0 <= GLLMK_QG_NT,
   * decoded into tile (r1 - r0) * units * GLLMK_QG_UNIT_BYTES bytes, 64-byte
   * aligned) and multiplied with the p->m activation rows, which
   * qgemm_act has put in its layout (kernels/quant_tpl.h) */
  void (*qgemm[GLLMK_NQF])(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile);
  void (*qgemm_awq4)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile);
  void (*qgemm_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile);
  void (*qgemm_i8)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile);
  void (*qgemm_i4)(const struct gllmk__qmv *p, size_t r0, size_t r1, void *tile);
  void (*qgemm_act)(int8_t *qs, size_t units);
  /* the float-activation GEMV (p->xf) of the formats without an integer
   * form: SqueezeLLM, GPTQ4 whose groups change inside 16 columns */
  void (*fmv_sqllm)(const struct gllmk__qmv *p, size_t r0, size_t r1);
  void (*fmv_gptq4)(const struct gllmk__qmv *p, size_t r0, size_t r1);
  /* rows [r0, r1) of the matrix p describes (format p->xfmt) to f32: row r
   * at out + (r - r0) * p->k */
  void (*xdeq[GLLMK_NXF])(const struct gllmk__qmv *p, size_t r0, size_t r1, float *out);
  /* GPTQ4 g_idx[k], k > 0: bit 0 = an entry outside [0, n_groups), bit 1 =
   * k % 16 == 0 and constant over every 16 columns */
  int (*gidx_scan)(const int32_t *g_idx, size_t k, size_t n_groups);
  float (*dot_i8f32)(const int8_t *q, const float *x, size_t n);
  void (*quant_act)(const float *x, size_t k, int8_t *qs, float *dx16, float *xb16);
};

/* one slot of a kernel table (kernels/kt_slots.h) and the function it holds */
struct gllmk__kslot {
  const char *slot, *kernel;
  int by_hand;                /* named by the ISA's overrides.def */
};

struct gllmk_kernels {
  const char *name;           /* ISA token */
  const struct gllmk__kslot *slots;   /* every slot, for gllmk_cpu_isa_kernel */
  size_t nslots;
  struct gllmk__kt_q q;
  struct gllmk__kt_f32 f32;
  struct gllmk__kt_f16 f16;
  struct gllmk__kt_bf16 bf16;
};

#endif /* GLLMK_KERNELS_H */
