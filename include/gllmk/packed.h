/* gllmk/packed.h -- weights packed once: the CPU GEMM panels of a weight,
 * made at load time and reused by every call
 * SPDX-License-Identifier: MIT
 *
 * Every gemm, linear and fused op packs its right operand (B [k x n], or W
 * [n x k] in the LLM layout, read as B = W^T) into the micro-kernel's panels
 * of f32 columns on each call.  An engine that calls the same layer thousands
 * of times packs it once instead:
 *
 *   size_t bytes = gllmk_packed_weight_bytes(n, k);
 *   void *buf = aligned_alloc(GLLMK_PACKED_WEIGHT_ALIGN, round_up(bytes, 64));
 *   gllmk_packed_weight *pw;
 *   gllmk_packed_weight_create_bf16(w, GLLMK_PACK_W_NK, n, k, buf, bytes, &pw);
 *   gllmk_fused_linear_residual_rmsnorm_packed_bf16(x, pw, residual, norm_w, out, NULL,
 *                                                   m, n, k, eps);
 *
 * The choice: variants, not a weight descriptor.  Each op that takes a float
 * weight has a gllmk_<op>_packed_<dtype> variant with the same arguments in
 * the same order, every weight pointer replaced by a const
 * gllmk_packed_weight *.  A packed weight stands for the right operand B [k x
 * n] of the product, whatever layout it was packed from: n is the product's
 * columns (the op's output features), k its depth.  For the fused ops these
 * are the (n, k) of each W [n x k] of the unpacked op (w_down of the FFN is
 * n = hidden, k = ffn).
 *
 * The object lives in a caller buffer (aligned to GLLMK_PACKED_WEIGHT_ALIGN,
 * at least gllmk_packed_weight_bytes(n, k) long): a header (magic, version,
 * the ISA, element type, shape and panel geometry, and a checksum of these)
 * followed by the panels.  Nothing is allocated, so there is nothing to free:
 * the caller frees the buffer.  The header is validated on every use:
 *  - a NULL, corrupted or foreign header, an element type other than the
 *    op's, or an (n, k) other than the op's: GLLMK_E_INVAL;
 *  - a weight packed for another ISA than the active one (gllmk_cpu_set_isa,
 *    GLLMK_CPU_ISA): GLLMK_E_UNSUPPORTED, never wrong results.  Repack it.
 * The panels themselves are not checksummed.
 *
 * Results: gemm_packed and gemm_bias_packed are bit-identical to gemm and
 * gemm_bias on the same B, at every shape and thread count.  linear and the
 * fused ops run the packed GEMM at every m, so they are bit-identical to the
 * unpacked call whenever that one runs the packed GEMM too (m > 8 rows); at
 * decode shapes (m <= 8) the unpacked call streams W's rows through dot
 * products instead, and the two agree within rounding, not bitwise.
 * The panels are f32 for every element type, so a packed f16/bf16 weight
 * takes twice the bytes of the weight.  CPU only: these functions take host
 * pointers and are not in the backend tables.
 */
#ifndef GLLMK_PACKED_H
#define GLLMK_PACKED_H

#include <gllmk/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A packed weight: opaque, it lives at the start of the caller's buffer. */
typedef struct gllmk_packed_weight gllmk_packed_weight;

/** The alignment in bytes a packed weight's buffer must have. */
#define GLLMK_PACKED_WEIGHT_ALIGN 64

/** The layout of the matrix a packed weight is made from. */
typedef enum gllmk_pack_layout {
  GLLMK_PACK_W_NK = 0,   /**< W [n x k], the LLM layout of linear and the fused ops (B = W^T) */
  GLLMK_PACK_B_KN = 1    /**< B [k x n], the right operand of gemm and gemm_bias */
} gllmk_pack_layout;

/** What a packed weight was packed for (gllmk_packed_weight_query). */
typedef struct gllmk_packed_weight_info {
  char isa[24];               /**< the ISA, as gllmk_cpu_isa_name() said when it was packed */
  char dtype[8];              /**< "f32", "f16" or "bf16": the ops it serves */
  gllmk_pack_layout layout;   /**< the layout it was packed from */
  size_t n, k;                /**< columns and depth of B [k x n] */
  size_t panel_cols;          /**< columns per panel (the micro-kernel's NR) */
  size_t bytes;               /**< bytes of the buffer it uses, header included */
} gllmk_packed_weight_info;

/** Bytes of the buffer a packed weight of B [k x n] needs on the active ISA (the same for
 *  every element type); 0 when that overflows size_t or no ISA is active. */
GLLMK_API size_t gllmk_packed_weight_bytes(size_t n, size_t k);

/** Pack w (W [n x k] or B [k x n], as layout says) for the active ISA into buf, which is
 *  GLLMK_PACKED_WEIGHT_ALIGN-aligned and buf_bytes >= gllmk_packed_weight_bytes(n, k) long;
 *  *out = the packed weight (at buf).  GLLMK_E_INVAL for NULLs, a misaligned or too small
 *  buffer or an unknown layout; GLLMK_E_OVERFLOW when the size overflows. */
GLLMK_API gllmk_status gllmk_packed_weight_create_f32(const float *w, gllmk_pack_layout layout, size_t n, size_t k, void *buf, size_t buf_bytes, gllmk_packed_weight **out);
GLLMK_API gllmk_status gllmk_packed_weight_create_f16(const gllmk_f16 *w, gllmk_pack_layout layout, size_t n, size_t k, void *buf, size_t buf_bytes, gllmk_packed_weight **out);
GLLMK_API gllmk_status gllmk_packed_weight_create_bf16(const gllmk_bf16 *w, gllmk_pack_layout layout, size_t n, size_t k, void *buf, size_t buf_bytes, gllmk_packed_weight **out);

/** What pw was packed for; GLLMK_E_INVAL when pw or info is NULL or pw's header is not valid.
 *  It does not check the active ISA: compare info->isa with gllmk_cpu_isa_name(). */
GLLMK_API gllmk_status gllmk_packed_weight_query(const gllmk_packed_weight *pw, gllmk_packed_weight_info *info);

/** As gllmk_gemm_*: C[m x n] = A[m x k] . B, B packed (n, k); bit-identical to gllmk_gemm_*. */
GLLMK_API gllmk_status gllmk_gemm_packed_f32(const float *A, const gllmk_packed_weight *B, float *C, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_gemm_packed_f16(const gllmk_f16 *A, const gllmk_packed_weight *B, gllmk_f16 *C, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_gemm_packed_bf16(const gllmk_bf16 *A, const gllmk_packed_weight *B, gllmk_bf16 *C, size_t m, size_t n, size_t k);

/** As gllmk_gemm_bias_*: C = A . B + bias[n]; bit-identical to gllmk_gemm_bias_*. */
GLLMK_API gllmk_status gllmk_gemm_bias_packed_f32(const float *A, const gllmk_packed_weight *B, const float *bias, float *C, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_gemm_bias_packed_f16(const gllmk_f16 *A, const gllmk_packed_weight *B, const gllmk_f16 *bias, gllmk_f16 *C, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_gemm_bias_packed_bf16(const gllmk_bf16 *A, const gllmk_packed_weight *B, const gllmk_bf16 *bias, gllmk_bf16 *C, size_t m, size_t n, size_t k);

/** As gllmk_linear_*: y = x . W^T (+ bias[n] unless bias is NULL), w packed (n, k). */
GLLMK_API gllmk_status gllmk_linear_packed_f32(const float *x, const gllmk_packed_weight *w, const float *bias, float *y, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_linear_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *w, const gllmk_f16 *bias, gllmk_f16 *y, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_linear_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *w, const gllmk_bf16 *bias, gllmk_bf16 *y, size_t m, size_t n, size_t k);

/** As gllmk_fused_qkv_rope_*: wq packed (heads*head_dim, hidden), wk and wv (kv_heads*head_dim, hidden). */
GLLMK_API gllmk_status gllmk_fused_qkv_rope_packed_f32(const float *x, const gllmk_packed_weight *wq, const gllmk_packed_weight *wk, const gllmk_packed_weight *wv, const float *cos, const float *sin, float *q, float *k, float *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos);
GLLMK_API gllmk_status gllmk_fused_qkv_rope_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *wq, const gllmk_packed_weight *wk, const gllmk_packed_weight *wv, const gllmk_f16 *cos, const gllmk_f16 *sin, gllmk_f16 *q, gllmk_f16 *k, gllmk_f16 *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos);
GLLMK_API gllmk_status gllmk_fused_qkv_rope_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *wq, const gllmk_packed_weight *wk, const gllmk_packed_weight *wv, const gllmk_bf16 *cos, const gllmk_bf16 *sin, gllmk_bf16 *q, gllmk_bf16 *k, gllmk_bf16 *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos);

/** As gllmk_fused_gate_up_swiglu_*: w_gate, w_up packed (n, k). */
GLLMK_API gllmk_status gllmk_fused_gate_up_swiglu_packed_f32(const float *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, float *out, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_fused_gate_up_swiglu_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, gllmk_f16 *out, size_t m, size_t n, size_t k);
GLLMK_API gllmk_status gllmk_fused_gate_up_swiglu_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, gllmk_bf16 *out, size_t m, size_t n, size_t k);

/** As gllmk_fused_ffn_*: w_gate, w_up packed (ffn, hidden), w_down (hidden, ffn). */
GLLMK_API gllmk_status gllmk_fused_ffn_packed_f32(const float *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, const gllmk_packed_weight *w_down, const float *residual, float *out, size_t m, size_t hidden, size_t ffn);
GLLMK_API gllmk_status gllmk_fused_ffn_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, const gllmk_packed_weight *w_down, const gllmk_f16 *residual, gllmk_f16 *out, size_t m, size_t hidden, size_t ffn);
GLLMK_API gllmk_status gllmk_fused_ffn_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, const gllmk_packed_weight *w_down, const gllmk_bf16 *residual, gllmk_bf16 *out, size_t m, size_t hidden, size_t ffn);

/** As gllmk_fused_ffn_rmsnorm_*: w_gate, w_up packed (ffn, hidden), w_down (hidden, ffn). */
GLLMK_API gllmk_status gllmk_fused_ffn_rmsnorm_packed_f32(const float *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, const gllmk_packed_weight *w_down, const float *residual, const float *norm_w, float *out, float *sum_out, size_t m, size_t hidden, size_t ffn, float eps);
GLLMK_API gllmk_status gllmk_fused_ffn_rmsnorm_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, const gllmk_packed_weight *w_down, const gllmk_f16 *residual, const gllmk_f16 *norm_w, gllmk_f16 *out, gllmk_f16 *sum_out, size_t m, size_t hidden, size_t ffn, float eps);
GLLMK_API gllmk_status gllmk_fused_ffn_rmsnorm_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *w_gate, const gllmk_packed_weight *w_up, const gllmk_packed_weight *w_down, const gllmk_bf16 *residual, const gllmk_bf16 *norm_w, gllmk_bf16 *out, gllmk_bf16 *sum_out, size_t m, size_t hidden, size_t ffn, float eps);

/** As gllmk_fused_linear_residual_rmsnorm_*: w packed (n, k). */
GLLMK_API gllmk_status gllmk_fused_linear_residual_rmsnorm_packed_f32(const float *x, const gllmk_packed_weight *w, const float *residual, const float *norm_w, float *out, float *sum_out, size_t m, size_t n, size_t k, float eps);
GLLMK_API gllmk_status gllmk_fused_linear_residual_rmsnorm_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *w, const gllmk_f16 *residual, const gllmk_f16 *norm_w, gllmk_f16 *out, gllmk_f16 *sum_out, size_t m, size_t n, size_t k, float eps);
GLLMK_API gllmk_status gllmk_fused_linear_residual_rmsnorm_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *w, const gllmk_bf16 *residual, const gllmk_bf16 *norm_w, gllmk_bf16 *out, gllmk_bf16 *sum_out, size_t m, size_t n, size_t k, float eps);

/** As gllmk_fused_linear_bias_residual_rmsnorm_*: w packed (n, k). */
GLLMK_API gllmk_status gllmk_fused_linear_bias_residual_rmsnorm_packed_f32(const float *x, const gllmk_packed_weight *w, const float *bias, const float *residual, const float *norm_w, float *out, float *sum_out, size_t m, size_t n, size_t k, float eps);
GLLMK_API gllmk_status gllmk_fused_linear_bias_residual_rmsnorm_packed_f16(const gllmk_f16 *x, const gllmk_packed_weight *w, const gllmk_f16 *bias, const gllmk_f16 *residual, const gllmk_f16 *norm_w, gllmk_f16 *out, gllmk_f16 *sum_out, size_t m, size_t n, size_t k, float eps);
GLLMK_API gllmk_status gllmk_fused_linear_bias_residual_rmsnorm_packed_bf16(const gllmk_bf16 *x, const gllmk_packed_weight *w, const gllmk_bf16 *bias, const gllmk_bf16 *residual, const gllmk_bf16 *norm_w, gllmk_bf16 *out, gllmk_bf16 *sum_out, size_t m, size_t n, size_t k, float eps);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_PACKED_H */
