/* cuda_cases.c -- gllmk-bench's CUDA cases: one row per operator and shape, and their operands
 * SPDX-License-Identifier: MIT
 */
#include "cuda.h"

const char *const dtn[5] = {"f32", "f16", "bf16", "u32", "q4_K"};

const struct cuda_op OP[NOPS] = {
  {"vec_add", "blas1", NULL, NULL},          {"vec_scale", "blas1", "cublasSscal", NULL},
  {"vec_axpy", "blas1", "cublasSaxpy", NULL}, {"vec_dot", "blas1", "cublasSdot", NULL},
  {"vec_sum", "blas1", NULL, NULL},           {"vec_max", "blas1", NULL, NULL},
  {"gemv", "gemv", "cublasSgemv", "cublasGemmEx"},
  {"silu", "activation", NULL, NULL},        {"gelu", "activation", NULL, NULL},
  {"swiglu", "activation", NULL, NULL},      {"softmax", "norm", NULL, NULL},
  {"rms_norm", "norm", NULL, NULL},          {"layer_norm", "norm", NULL, NULL},
  {"rope", "rope", NULL, NULL},              {"embedding_lookup", "embedding", NULL, NULL},
  {"gemm", "gemm", "cublasGemmEx", "cublasGemmEx"}, {"gemm_bias", "gemm", NULL, NULL},
  {"flash_attention", "attention", NULL, NULL}, {"flash_attention_paged", "attention", NULL, NULL},
  {"fused_dequant_gemv", "quant_decode", NULL, NULL}, {"linear", "quant_decode", NULL, NULL},
  {"fused_dequant_gemv", "quant_prefill", NULL, NULL},
};

/* m x n x k of the gemm rows (quick: qm x qn x qk, odd sizes for the edge paths) */
static const struct { size_t m, n, k, qm, qn, qk; } GEMM_SHAPE[] = {
  {4096, 4096, 4096, 64, 64, 64},   {512, 4096, 4096, 33, 72, 40}, {512, 11008, 4096, 16, 130, 24},
  {512, 4096, 11008, 8, 24, 200},   {16, 4096, 4096, 3, 17, 33},   {512, 4096, 4096, 40, 48, 32},
};
const crow ROWS[] = {
  {VEC_ADD, BIG, 0, QBIG, 0, NULL, 0},      {VEC_SCALE, BIG, 0, QBIG, 0, NULL, 0},
  {VEC_AXPY, BIG, 0, QBIG, 0, NULL, 0},     {VEC_DOT, BIG, 0, QBIG, 0, NULL, 0},
  {VEC_SUM, BIG, 0, QBIG, 0, NULL, 0},      {VEC_MAX, BIG, 0, QBIG, 0, NULL, 0},
  {GEMV, 4096, 4096, 64, 256, "q/o proj", 0},       {GEMV, 11008, 4096, 176, 256, "gate/up", 0},
  {GEMV, 4096, 11008, 64, 704, "down", 0},          {GEMV, 32000, 4096, 500, 256, "lm head", 0},
  {GEMV, 1024, 4096, 16, 256, "k/v proj, small m", 0},
  {SILU, BIG, 0, QBIG, 0, NULL, 0},         {GELU, BIG, 0, QBIG, 0, NULL, 0},
  {SWIGLU, BIG, 0, QBIG, 0, NULL, 0},
  {SOFTMAX, 0, 4096, 2, 4096, NULL, 0},     {SOFTMAX, 0, 32000, 1, 32000, NULL, 0},
  {RMS_NORM, 0, 4096, 2, 4096, NULL, 0},    {RMS_NORM, 0, 32000, 1, 32000, NULL, 0},
  {LAYER_NORM, 0, 4096, 2, 4096, NULL, 0},  {LAYER_NORM, 0, 32000, 1, 32000, NULL, 0},
  {ROPE, 1, 32, 1, 4, "decode", 0},         {ROPE, 16, 32, 2, 4, NULL, 0},
  {ROPE, 128, 32, 4, 4, NULL, 0},           {ROPE, 512, 32, 8, 4, "prefill", 0},
  {EMBED, 512, 4096, 8, 256, NULL, 0},
  {GEMM, 0, 0, 0, 0, "square", 0},          {GEMM, 1, 0, 1, 0, "prefill 512: q/o proj", 0},
  {GEMM, 2, 0, 2, 0, "gate/up", 0},         {GEMM, 3, 0, 3, 0, "down", 0},
  {GEMM, 4, 0, 4, 0, "16 tokens", 0},       {GEMM_BIAS, 5, 0, 5, 0, "q/o proj + bias", 0},
  {ATTN, 4096, 4096, 128, 128, "prefill", 0},  {ATTN, 4096, 4096, 128, 128, "prefill", 0},
  {ATTN, 4096, 4096, 64, 256, "prefill", 0},   {ATTN, 2048, 2048, 64, 64, "prefill", 0},
  {ATTN, 1, 4096, 1, 512, "decode", 0},        {ATTN, 1, 32768, 1, 2048, "decode", 0},
  {ATTN_PAGED, 1, 4096, 1, 512, "decode", 0},  {ATTN_PAGED, 512, 4096, 16, 256, "chunked prefill", 0},
  /* issue 15's quantized kernels at decode (m = 1) and prefill (m = 512) */
  {Q4K_GEMV, 4096, 4096, 64, 256, "q/o proj", 0},       {Q4K_GEMV, 11008, 4096, 176, 512, "gate/up", 0},
  {LINEAR_GEMV, 4096, 4096, 64, 256, "q/o proj", 1 << DT_BF16},
  {LINEAR_GEMV, 11008, 4096, 176, 512, "gate/up", 1 << DT_BF16},
  {Q4K_GEMM, 4096, 4096, 72, 256, "q/o proj", 0},       {Q4K_GEMM, 11008, 4096, 130, 512, "gate/up", 0},
};
/* the attention rows' heads, kv_heads, head_dim and causal, in their order in ROWS */
static const struct { size_t heads, kv_heads, hd; int causal; } ATT[] = {
  {32, 8, 128, 1}, {32, 8, 128, 0}, {32, 32, 64, 1}, {16, 8, 256, 1},
  {32, 8, 128, 1}, {32, 8, 128, 1}, {32, 8, 128, 1}, {32, 8, 128, 1},
};
#define NROWS ((int)(sizeof ROWS / sizeof *ROWS))
const int n_rows = NROWS;

/* --op and --dtype; the quant_* groups also match --op=quant and a part of
 * their name, as the CPU section's quant_dequant, quant_decode, quant_prefill */
int case_selected(const crow *r, int dt)
{
  int op = r->op;
  if (r->dts && !(r->dts & (1 << dt))) return 0;
  if (O.dtype_mask && !(O.dtype_mask & (1 << dt))) return 0;
  if (O.n_ops == 0) return 1;
  for (int i = 0; i < O.n_ops; i++) {
    if (strstr(OP[op].name, O.ops[i]) || !strcmp(OP[op].group, O.ops[i])) return 1;
    if (!strncmp(OP[op].group, "quant_", 6) && (!strcmp(O.ops[i], "quant") || strstr(OP[op].group, O.ops[i])))
      return 1;
  }
  return 0;
}

static void opd(ccase *c, int t, int io, int rot, size_t n, float lo, float hi)
{
  c->o[c->nopd++] = (operand){t, io, rot, n, lo, hi, 0};
}

/* the operands in the order of the op's arguments, the shape and the bytes */
void build(ccase *c, const crow *r, int dt)
{
  memset(c, 0, sizeof *c);
  c->row = r;
  c->op = r->op;
  c->dt = dt;
  size_t a = O.quick ? r->qa : r->a, b = O.quick ? r->qb : r->b, E = esz(dt);
  double e = (double)E;
  int op = r->op;
  switch (op) {
  case GEMV:
    c->m = a, c->n = b;
    opd(c, dt, IN, 1, a * b, -1, 1);
    opd(c, dt, IN, 0, b, -1, 1);
    opd(c, dt, OUT, 0, a, 0, 0);
    c->bytes = e * ((double)a * (double)b + (double)a + (double)b);
    snprintf(c->shape, sizeof c->shape, "%zu x %zu (%s)", a, b, r->what);
    break;
  case SOFTMAX: case RMS_NORM: case LAYER_NORM:
    c->n = b;
    c->rows = a ? a : BIG / (b * E);
    opd(c, dt, IN, 1, c->rows * b, op == SOFTMAX ? -8 : -2, op == SOFTMAX ? 8 : 2);
    if (op != SOFTMAX) opd(c, dt, IN, 0, b, 0.5f, 1.5f);
    if (op == LAYER_NORM) opd(c, dt, IN, 0, b, -0.5f, 0.5f);
    opd(c, dt, OUT, 1, c->rows * b, 0, 0);
    c->bytes = e * (2.0 * (double)(c->rows * b) + (double)((size_t)(c->nopd - 2) * b));
    snprintf(c->shape, sizeof c->shape, "%zu x %zu", c->rows, b);
    break;
  case ROPE:
    c->seq = a, c->heads = b, c->hd = 128;
    opd(c, dt, INOUT, 1, a * b * 128, -1, 1);
    opd(c, dt, IN, 0, a * 64, 0, 0);
    opd(c, dt, IN, 0, a * 64, 0, 0);
    c->o[1].trig = 1, c->o[2].trig = 2; /* true rotations: repeated calls keep the data in range */
    c->bytes = e * (2.0 * (double)(a * b * 128) + 2.0 * (double)(a * 64));
    snprintf(c->shape, sizeof c->shape, "seq %zu x %zu heads x 128%s%s", a, b, r->what ? ", " : "",
             r->what ? r->what : "");
    break;
  case GEMM: case GEMM_BIAS: {
    size_t k = O.quick ? GEMM_SHAPE[a].qk : GEMM_SHAPE[a].k;
    b = O.quick ? GEMM_SHAPE[a].qn : GEMM_SHAPE[a].n;
    a = O.quick ? GEMM_SHAPE[a].qm : GEMM_SHAPE[a].m;
    c->m = a, c->n = b, c->k = k;
    opd(c, dt, IN, 0, a * k, -1, 1);
    opd(c, dt, IN, 0, k * b, -1, 1);
    if (op == GEMM_BIAS) opd(c, dt, IN, 0, b, -1, 1);
    opd(c, dt, OUT, 0, a * b, 0, 0);
    c->bytes = e * ((double)a * (double)k + (double)k * (double)b + (double)a * (double)b +
                    (op == GEMM_BIAS ? (double)b : 0.0));
    c->flops = 2.0 * (double)a * (double)b * (double)k;
    snprintf(c->shape, sizeof c->shape, "%zu x %zu x %zu (%s)", a, b, k, r->what);
    break;
  }
  case ATTN: case ATTN_PAGED: {
    int ai = 0;
    for (const crow *x = ROWS; x < r; x++) ai += x->op == ATTN || x->op == ATTN_PAGED;
    size_t h = ATT[ai].heads, kh = ATT[ai].kv_heads, d = ATT[ai].hd, page = 16;
    if (O.quick) {   /* 4 query heads, the same GQA ratio where it fits */
      size_t g = h / kh;
      h = 4, kh = g >= 4 ? 1 : 4 / g;
    }
    c->q_len = a, c->kv_len = b, c->heads = h, c->kv_heads = kh, c->hd = d;
    c->causal = op == ATTN_PAGED || ATT[ai].causal;
    c->page = page, c->n_pages = (b + page - 1) / page;
    size_t kvn = (op == ATTN_PAGED ? c->n_pages * page : b) * kh * d;
    opd(c, dt, IN, 0, a * h * d, -1, 1);
    opd(c, dt, IN, 1, kvn, -1, 1);
    opd(c, dt, IN, 1, kvn, -1, 1);
    if (op == ATTN_PAGED) opd(c, DT_U32, IN, 0, c->n_pages, 0, (float)c->n_pages);
    opd(c, dt, OUT, 0, a * h * d, 0, 0);
    double vis = 0; /* (query, key) pairs */
    for (size_t t = 0; t < a; t++) {
      size_t e = !c->causal ? b : t + 1 + b > a ? t + 1 + b - a : 0;
      vis += (double)(e < b ? e : b);
    }
    c->flops = 4.0 * vis * (double)h * (double)d;
    c->bytes = e * (2.0 * (double)(a * h * d) + 2.0 * (double)(b * kh * d)) +
               (op == ATTN_PAGED ? 4.0 * (double)c->n_pages : 0);
    snprintf(c->shape, sizeof c->shape, "%s%zu x %zu, %zu/%zu x %zu%s", op == ATTN_PAGED ? "pg " : "", a, b, h,
             kh, d, c->causal ? " causal" : "");
    break;
  }
  case Q4K_GEMV: case LINEAR_GEMV: case Q4K_GEMM: {
    size_t m = op == Q4K_GEMM ? (O.quick ? 32 : 512) : 1;
    double wb = op == LINEAR_GEMV ? e * (double)a * (double)b
                                  : (double)gllmk_qtype_row_bytes(GLLMK_Q4_K, b) * (double)a;
    c->m = m, c->n = a, c->k = b;
    opd(c, op == LINEAR_GEMV ? dt : DT_Q4K, IN, 1, a * b, -1, 1);
    opd(c, dt, IN, 0, m * b, -1, 1);
    opd(c, dt, OUT, 0, m * a, 0, 0);
    if (op == Q4K_GEMM) {
      c->bytes = wb + e * ((double)(m * b) + (double)(m * a));
      c->flops = 2.0 * (double)m * (double)a * (double)b;
    } else {
      c->bytes = wb; /* the weights' bytes: what bounds a decode GEMV */
    }
    snprintf(c->shape, sizeof c->shape, "%zu x %zu x %zu, %s W (%s)", m, a, b,
             op == LINEAR_GEMV ? dtn[dt] : "Q4_K", r->what);
    break;
  }
  case EMBED:
    c->n_ids = a, c->n = b, c->vocab = O.quick ? 512 : 32000;
    opd(c, DT_U32, IN, 1, a, 0, (float)c->vocab);
    opd(c, dt, IN, 0, c->vocab * b, -1, 1);
    opd(c, dt, OUT, 1, a * b, 0, 0);
    c->bytes = 4.0 * (double)a + 2.0 * e * (double)(a * b);
    snprintf(c->shape, sizeof c->shape, "%zu ids, %zu x %zu table", a, c->vocab, b);
    break;
  default: { /* blas1 and activations: arrays of a bytes */
    size_t n = c->n = a / E;
    int scalar = op == VEC_DOT || op == VEC_SUM || op == VEC_MAX;
    int nin = op == VEC_ADD || op == VEC_DOT || op == SWIGLU || op == VEC_AXPY ? 2 : 1;
    opd(c, dt, op == VEC_SCALE || op == VEC_AXPY ? INOUT : IN, 1, n, -1, 1);
    if (nin == 2) opd(c, dt, IN, 1, n, -1, 1);
    if (scalar)
      opd(c, DT_F32, OUT, 1, 1, 0, 0);
    else if (op != VEC_SCALE && op != VEC_AXPY)
      opd(c, dt, OUT, 1, n, 0, 0);
    /* reads of the inputs and writes of the outputs; in place counts both */
    c->bytes = scalar ? (double)nin * e * (double)n + 4 : (double)(nin + 1) * e * (double)n;
    if (a >= MiB)
      snprintf(c->shape, sizeof c->shape, "n=%zuM (%zu MiB/array)", n / MiB, a / MiB);
    else
      snprintf(c->shape, sizeof c->shape, "n=%zu (%zu KiB/array)", n, a / KiB);
  }
  }
}
