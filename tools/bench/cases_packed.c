/* cases_packed.c -- gllmk-bench: gemm and the fused ops with weights packed once
 * SPDX-License-Identifier: MIT
 *
 * A packed case is built as its unpacked case (b_gemm, b_fused: the same
 * data), then its weights are packed (gllmk/packed.h) for the ISA being
 * measured, again whenever the ISA changes (the scalar reference, then
 * each --isa); the packing is not timed.  Its rows: the packed op; the
 * composition from the same packed weights (linear_packed + the unfused
 * ops); the unpacked op; OpenBLAS (cblas_sgemm with W transposed in the
 * call, + the same unfused gllmk ops).
 */
#include "bench.h"

#define TRY(e)                                  \
  do {                                          \
    gllmk_status st_ = (e);                     \
    if (st_ != GLLMK_OK) return st_;            \
  } while (0)

/* the packed weights for the active ISA */
static gllmk_status pk_ensure(bcase *c)
{
  const char *isa = gllmk_cpu_isa_name();
  if (!strcmp(c->pk_isa, isa)) return GLLMK_OK;
  for (int i = 0; i < c->npk; i++) {
    size_t bytes = gllmk_packed_weight_bytes(c->pk_n[i], c->pk_k[i]);
    if (bytes == 0) return GLLMK_E_OVERFLOW;
    if (bytes > c->pk_cap[i]) {
      c->pk[i] = c_alloc(c, bytes);
      c->pk_cap[i] = bytes;
    }
    gllmk_packed_weight *pw;
    TRY(gllmk_packed_weight_create_f32(c->pk_src[i], c->pk_b_layout ? GLLMK_PACK_B_KN : GLLMK_PACK_W_NK,
                                       c->pk_n[i], c->pk_k[i], c->pk[i], bytes, &pw));
  }
  snprintf(c->pk_isa, sizeof c->pk_isa, "%s", isa);
  return GLLMK_OK;
}
#define PK(i) ((const gllmk_packed_weight *)c->pk[i])

/* out[m x n] = x . W^T for W [n x k], through OpenBLAS */
static void ob_lin(const float *x, const float *w, float *out, size_t m, size_t n, size_t k)
{
  ob.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, x, (int)k, w, (int)k,
           0.0f, out, (int)n);
}

/* ---- gemm */
static gllmk_status p_gemm(bcase *c)
{
  TRY(pk_ensure(c));
  return gllmk_gemm_packed_f32(c->x, PK(0), c->o1, c->m, c->n, c->k);
}
static gllmk_status p_gemm_ob(bcase *c)
{
  ob.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->m, (int)c->n, (int)c->k, 1.0f, c->x,
           (int)c->k, c->w1, (int)c->n, 0.0f, c->o1, (int)c->n);
  return GLLMK_OK;
}

/* ---- fused_qkv_rope */
static gllmk_status p_qkv(bcase *c)
{
  TRY(pk_ensure(c));
  return gllmk_fused_qkv_rope_packed_f32(c->x, PK(0), PK(1), PK(2), c->cs, c->sn, c->o1, c->o2, c->o3, c->m,
                                         c->k, c->heads, c->kvh, c->hd, c->rd, c->inter, c->pos);
}
static gllmk_status qkv_rope(bcase *c)
{
  TRY(gllmk_rope_with_pos_f32(c->o1, c->cs, c->sn, c->m, c->heads, c->hd, c->rd, c->inter, c->pos));
  return gllmk_rope_with_pos_f32(c->o2, c->cs, c->sn, c->m, c->kvh, c->hd, c->rd, c->inter, c->pos);
}
static gllmk_status p_qkv_compose(bcase *c)
{
  size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
  TRY(pk_ensure(c));
  TRY(gllmk_linear_packed_f32(c->x, PK(0), NULL, c->o1, c->m, qd, c->k));
  TRY(gllmk_linear_packed_f32(c->x, PK(1), NULL, c->o2, c->m, kd, c->k));
  TRY(gllmk_linear_packed_f32(c->x, PK(2), NULL, c->o3, c->m, kd, c->k));
  return qkv_rope(c);
}
static gllmk_status p_qkv_ob(bcase *c)
{
  size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
  ob_lin(c->x, c->w1, c->o1, c->m, qd, c->k);
  ob_lin(c->x, c->w2, c->o2, c->m, kd, c->k);
  ob_lin(c->x, c->w3, c->o3, c->m, kd, c->k);
  return qkv_rope(c);
}

/* ---- fused_gate_up_swiglu (n = ffn, k = hidden) */
static gllmk_status p_gate_up(bcase *c)
{
  TRY(pk_ensure(c));
  return gllmk_fused_gate_up_swiglu_packed_f32(c->x, PK(0), PK(1), c->o1, c->m, c->n, c->k);
}
static gllmk_status p_gate_up_compose(bcase *c)
{
  TRY(pk_ensure(c));
  TRY(gllmk_linear_packed_f32(c->x, PK(0), NULL, c->t1, c->m, c->n, c->k));
  TRY(gllmk_linear_packed_f32(c->x, PK(1), NULL, c->t2, c->m, c->n, c->k));
  return gllmk_swiglu_f32(c->t1, c->t2, c->o1, c->m * c->n);
}
static gllmk_status p_gate_up_ob(bcase *c)
{
  ob_lin(c->x, c->w1, c->t1, c->m, c->n, c->k);
  ob_lin(c->x, c->w2, c->t2, c->m, c->n, c->k);
  return gllmk_swiglu_f32(c->t1, c->t2, c->o1, c->m * c->n);
}

/* ---- fused_ffn, fused_ffn_rmsnorm (hidden = k, ffn = n) */
static gllmk_status p_ffn(bcase *c)
{
  TRY(pk_ensure(c));
  return gllmk_fused_ffn_packed_f32(c->x, PK(0), PK(1), PK(2), c->res, c->o1, c->m, c->k, c->n);
}
static gllmk_status p_ffn_rms(bcase *c)
{
  TRY(pk_ensure(c));
  return gllmk_fused_ffn_rmsnorm_packed_f32(c->x, PK(0), PK(1), PK(2), c->res, c->nw, c->o1, c->o2, c->m, c->k,
                                            c->n, c->eps);
}
/* the FFN's composition into sum; packed weights, or OpenBLAS */
static gllmk_status ffn_body(bcase *c, float *sum, int use_ob)
{
  if (use_ob) {
    ob_lin(c->x, c->w1, c->t1, c->m, c->n, c->k);
    ob_lin(c->x, c->w2, c->t2, c->m, c->n, c->k);
  } else {
    TRY(pk_ensure(c));
    TRY(gllmk_linear_packed_f32(c->x, PK(0), NULL, c->t1, c->m, c->n, c->k));
    TRY(gllmk_linear_packed_f32(c->x, PK(1), NULL, c->t2, c->m, c->n, c->k));
  }
  TRY(gllmk_swiglu_f32(c->t1, c->t2, c->t1, c->m * c->n));
  if (use_ob)
    ob_lin(c->t1, c->w3, c->t3, c->m, c->k, c->n);
  else
    TRY(gllmk_linear_packed_f32(c->t1, PK(2), NULL, c->t3, c->m, c->k, c->n));
  return gllmk_vec_add_f32(c->res, c->t3, sum, c->m * c->k);
}
static gllmk_status p_ffn_compose(bcase *c) { return ffn_body(c, c->o1, 0); }
static gllmk_status p_ffn_ob(bcase *c) { return ffn_body(c, c->o1, 1); }
static gllmk_status p_ffn_rms_compose(bcase *c)
{
  TRY(ffn_body(c, c->o2, 0));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->k, c->eps);
}
static gllmk_status p_ffn_rms_ob(bcase *c)
{
  TRY(ffn_body(c, c->o2, 1));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->k, c->eps);
}

/* ---- fused_linear_[bias_]residual_rmsnorm */
static gllmk_status p_lin_rms(bcase *c)
{
  TRY(pk_ensure(c));
  if (c->bias)
    return gllmk_fused_linear_bias_residual_rmsnorm_packed_f32(c->x, PK(0), c->bias, c->res, c->nw, c->o1,
                                                               c->o2, c->m, c->n, c->k, c->eps);
  return gllmk_fused_linear_residual_rmsnorm_packed_f32(c->x, PK(0), c->res, c->nw, c->o1, c->o2, c->m, c->n,
                                                        c->k, c->eps);
}
static gllmk_status lin_rms_tail(bcase *c)
{
  TRY(gllmk_vec_add_f32(c->t1, c->res, c->o2, c->m * c->n));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->n, c->eps);
}
static gllmk_status p_lin_rms_compose(bcase *c)
{
  TRY(pk_ensure(c));
  TRY(gllmk_linear_packed_f32(c->x, PK(0), c->bias, c->t1, c->m, c->n, c->k));
  return lin_rms_tail(c);
}
static gllmk_status p_lin_rms_ob(bcase *c)
{
  ob_lin(c->x, c->w1, c->t1, c->m, c->n, c->k);
  float *t1 = c->t1;
  if (c->bias)
    for (size_t i = 0; i < c->m; i++) TRY(gllmk_vec_add_f32(t1 + i * c->n, c->bias, t1 + i * c->n, c->n));
  return lin_rms_tail(c);
}

/* pk weight i: W [n x k] (or B [k x n] for gemm) */
static void pk_add(bcase *c, const void *w, size_t n, size_t k)
{
  c->pk_src[c->npk] = w;
  c->pk_n[c->npk] = n;
  c->pk_k[c->npk] = k;
  c->npk++;
}

void b_packed(bcase *c, const spec *s)
{
  /* the unpacked case: its data, its run as the "unpacked" row */
  char base[64];
  size_t len = strlen(s->op) - strlen("_packed");
  snprintf(base, sizeof base, "%.*s", (int)len, s->op);
  spec u = *s;
  u.op = base;
  int gemm = !strcmp(base, "gemm");
  /* the compositions need their scratch: build as if composing */
  int no_compose = opt.no_compose;
  opt.no_compose = 0;
  if (gemm)
    b_gemm(c, &u);
  else
    b_fused(c, &u);
  opt.no_compose = no_compose;
  c->unpacked = c->run;
  c->unpacked_name = s->op;
  c->compose = NULL;
  c->openblas = NULL;
  c->openblas_name = "cblas_sgemm";
  c->pk_isa[0] = 0;
  if (gemm) {
    c->pk_b_layout = 1;
    pk_add(c, c->w1, c->n, c->k);
    c->run = p_gemm;
    c->openblas = p_gemm_ob;
  } else if (!strcmp(base, "fused_qkv_rope")) {
    size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
    pk_add(c, c->w1, qd, c->k);
    pk_add(c, c->w2, kd, c->k);
    pk_add(c, c->w3, kd, c->k);
    c->run = p_qkv;
    c->compose = p_qkv_compose;
    c->compose_name = "3 linear_packed + 2 rope_with_pos";
    c->openblas = p_qkv_ob;
    c->openblas_name = "3 sgemm + 2 rope_with_pos";
  } else if (!strcmp(base, "fused_gate_up_swiglu")) {
    pk_add(c, c->w1, c->n, c->k);
    pk_add(c, c->w2, c->n, c->k);
    c->run = p_gate_up;
    c->compose = p_gate_up_compose;
    c->compose_name = "2 linear_packed + swiglu";
    c->openblas = p_gate_up_ob;
    c->openblas_name = "2 sgemm + swiglu";
  } else if (!strncmp(base, "fused_ffn", 9)) {
    int rms = !strcmp(base, "fused_ffn_rmsnorm");
    pk_add(c, c->w1, c->n, c->k);
    pk_add(c, c->w2, c->n, c->k);
    pk_add(c, c->w3, c->k, c->n);
    c->run = rms ? p_ffn_rms : p_ffn;
    c->compose = rms ? p_ffn_rms_compose : p_ffn_compose;
    c->compose_name = rms ? "3 linear_packed + swiglu + vec_add + rms_norm" : "3 linear_packed + swiglu + vec_add";
    c->openblas = rms ? p_ffn_rms_ob : p_ffn_ob;
    c->openblas_name = rms ? "3 sgemm + swiglu + vec_add + rms_norm" : "3 sgemm + swiglu + vec_add";
  } else {
    pk_add(c, c->w1, c->n, c->k);
    c->run = p_lin_rms;
    c->compose = p_lin_rms_compose;
    c->compose_name = c->bias ? "linear_packed (bias) + vec_add + rms_norm" : "linear_packed + vec_add + rms_norm";
    c->openblas = p_lin_rms_ob;
    c->openblas_name = c->bias ? "sgemm + 2 vec_add + rms_norm" : "sgemm + vec_add + rms_norm";
  }
  if (opt.no_compose) c->compose = NULL;
}
