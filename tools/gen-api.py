#!/usr/bin/env python3
# gen-api.py -- generate the Table A API headers from one list of operators
# SPDX-License-Identifier: MIT
#
# Writes include/gllmk/ops.h (declarations + docs), include/gllmk/generic.h
# (C11 _Generic macros), include/gllmk/backend_ops.h (per-precision function
# tables) and lib/core/cpu_ops.c (the CPU backend's tables), and the other
# files listed at the end.  Run by hand after editing OPS; the outputs are
# committed, and .ci/run's "generated" step checks that they are what this
# script writes.  Usage: tools/gen-api.py [SRCDIR [OUTDIR]]: reads
# SRCDIR/cuda/ops_*.c, writes into OUTDIR (default SRCDIR, the checkout).
import os, re, sys

# (name, doc, params).  In params "T" is the element type; "sel" marks the
# argument _Generic selects on (the first T pointer when not given).
OPS = [
 ("vec_dot", "Dot product: *result = sum(a[i] * b[i]), accumulated in f32 (0 when n == 0).",
  "const T *a, const T *b, size_t n, float *result"),
 ("vec_add", "Elementwise out[i] = a[i] + b[i]; out may alias a or b.",
  "const T *a, const T *b, T *out, size_t n"),
 ("vec_sub", "Elementwise out[i] = a[i] - b[i]; out may alias a or b.",
  "const T *a, const T *b, T *out, size_t n"),
 ("vec_mul", "Elementwise out[i] = a[i] * b[i]; out may alias a or b.",
  "const T *a, const T *b, T *out, size_t n"),
 ("vec_scale", "In place x[i] = s * x[i].",
  "T *x, float s, size_t n"),
 ("vec_axpy", "In place y[i] = y[i] + a * x[i]; x must not overlap y unless x == y.",
  "T *y, float a, const T *x, size_t n"),
 ("vec_sum", "*result = sum(x[i]) (0 when n == 0).",
  "const T *x, size_t n, float *result"),
 ("vec_max", "*result = max(x[i]); NaN if any element is NaN; n must be >= 1.",
  "const T *x, size_t n, float *result"),
 ("vec_sum_squares", "*result = sum(x[i]^2) (0 when n == 0).",
  "const T *x, size_t n, float *result"),
 ("gemv", "y[m] = A[m x n] . x[n], A row-major.",
  "const T *A, const T *x, T *y, size_t m, size_t n"),
 ("gemm", "C[m x n] = A[m x k] . B[k x n], all row-major; C must not overlap A or B.",
  "const T *A, const T *B, T *C, size_t m, size_t n, size_t k"),
 ("gemm_bias", "C[m x n] = A[m x k] . B[k x n] + bias[n] on every row.",
  "const T *A, const T *B, const T *bias, T *C, size_t m, size_t n, size_t k"),
 ("silu", "out[i] = x[i] * sigmoid(x[i]); out may alias x.",
  "const T *x, T *out, size_t n"),
 ("gelu", "Exact GELU: out[i] = x[i]/2 * (1 + erf(x[i]/sqrt(2))); out may alias x.",
  "const T *x, T *out, size_t n"),
 ("relu", "out[i] = max(0, x[i]) (NaN stays NaN); out may alias x.",
  "const T *x, T *out, size_t n"),
 ("tanh", "out[i] = tanh(x[i]); out may alias x.",
  "const T *x, T *out, size_t n"),
 ("exp", "out[i] = e^x[i] (overflow gives +inf, underflow 0 or a denormal); out may alias x.",
  "const T *x, T *out, size_t n"),
 ("swiglu", "out[i] = silu(gate[i]) * up[i]; out may alias gate or up.",
  "const T *gate, const T *up, T *out, size_t n"),
 ("softmax", "Row-wise softmax of x[rows x n], max-subtracted; out may alias x.",
  "const T *x, T *out, size_t rows, size_t n"),
 ("rms_norm", "out = x / sqrt(mean(x^2) + eps) * w per row of x[rows x n]; w[n]; out may alias x.",
  "const T *x, const T *w, T *out, size_t rows, size_t n, float eps"),
 ("layer_norm", "out = (x - mean) / sqrt(var + eps) * gamma + beta per row; out may alias x.",
  "const T *x, const T *gamma, const T *beta, T *out, size_t rows, size_t n, float eps"),
 ("rope", "Rotary embedding in place on qk[seq x heads x head_dim] with cos/sin[seq x rotary_dim/2]:"
  " the first rotary_dim dims of each head are rotated, as pairs (2i, 2i+1) when interleaved,"
  " else (i, i + rotary_dim/2).  rotary_dim must be even and <= head_dim.",
  "T *qk, const T *cos, const T *sin, size_t seq, size_t heads, size_t head_dim, size_t rotary_dim, bool interleaved"),
 ("rope_with_pos", "As gllmk_rope_*, but token t uses row pos + t of cos/sin (which must hold pos + seq rows).",
  "T *qk, const T *cos, const T *sin, size_t seq, size_t heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos"),
 ("embedding_lookup", "out[i x hidden] = table[ids[i] x hidden]; an id >= vocab is GLLMK_E_INVAL (nothing written).",
  "const uint32_t *ids, size_t n_ids, const T *sel:table, size_t vocab, size_t hidden, T *out"),
 ("flash_attention", "out = softmax(scale . q k^T) v, one pass with online softmax.  q/out [q_len x heads x head_dim],"
  " k/v [kv_len x kv_heads x head_dim]; heads %% kv_heads == 0 (GQA/MQA: query head h reads kv head"
  " h / (heads/kv_heads)); causal aligns the last query with the last key (query i sees keys"
  " <= i + kv_len - q_len; a query that sees no key gets zeros).  out must not overlap the inputs.",
  "const T *q, const T *k, const T *v, T *out, size_t q_len, size_t kv_len, size_t heads, size_t kv_heads, size_t head_dim, float scale, bool causal"),
 ("flash_attention_paged", "Causal attention of the last seq of cache_len tokens over a paged KV cache."
  "  k_cache/v_cache [n_pages x page_size x kv_heads x head_dim]; logical token t lives in page"
  " page_table[t / page_size] at slot t %% page_size; page_table has ceil(cache_len / page_size)"
  " entries, each < n_pages.  q/out [seq x heads x head_dim].",
  "const T *q, const T *k_cache, const T *v_cache, const uint32_t *page_table, T *out, size_t seq, size_t cache_len, size_t heads, size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, float scale"),
 ("fused_qkv_rope", "q = x.wq^T, k = x.wk^T, v = x.wv^T, then rope (rows pos..pos+seq-1 of cos/sin) on q and k."
  "  x [seq x hidden]; wq [heads*head_dim x hidden]; wk, wv [kv_heads*head_dim x hidden];"
  " q [seq x heads x head_dim]; k, v [seq x kv_heads x head_dim].",
  "const T *x, const T *wq, const T *wk, const T *wv, const T *cos, const T *sin, T *q, T *k, T *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos"),
 ("fused_gate_up_swiglu", "out[m x n] = silu(x.w_gate^T) * (x.w_up^T); x [m x k], w_gate/w_up [n x k].",
  "const T *x, const T *w_gate, const T *w_up, T *out, size_t m, size_t n, size_t k"),
 ("fused_ffn", "out = residual + (silu(x.w_gate^T) * (x.w_up^T)).w_down^T; x, residual, out [m x hidden];"
  " w_gate/w_up [ffn x hidden]; w_down [hidden x ffn].  residual may be NULL (zero) and out may alias it.",
  "const T *x, const T *w_gate, const T *w_up, const T *w_down, const T *residual, T *out, size_t m, size_t hidden, size_t ffn"),
 ("fused_ffn_rmsnorm", "s = residual + ffn(x) (as gllmk_fused_ffn_*), out = rms_norm(s, norm_w, eps); s is written to"
  " sum_out unless it is NULL.  out and sum_out may alias residual.",
  "const T *x, const T *w_gate, const T *w_up, const T *w_down, const T *residual, const T *norm_w, T *out, T *sum_out, size_t m, size_t hidden, size_t ffn, float eps"),
 ("fused_linear_residual_rmsnorm", "s = x.w^T + residual, out = rms_norm(s, norm_w, eps); x [m x k], w [n x k],"
  " residual/out/sum_out [m x n]; s is written to sum_out unless NULL.  out and sum_out may alias residual.",
  "const T *x, const T *w, const T *residual, const T *norm_w, T *out, T *sum_out, size_t m, size_t n, size_t k, float eps"),
 ("fused_linear_bias_residual_rmsnorm", "s = x.w^T + bias + residual, out = rms_norm(s, norm_w, eps); bias [n];"
  " otherwise as gllmk_fused_linear_residual_rmsnorm_*.",
  "const T *x, const T *w, const T *bias, const T *residual, const T *norm_w, T *out, T *sum_out, size_t m, size_t n, size_t k, float eps"),
]

# Tables C and D: quantized weights, activations and outputs of element type T.
# Quantized-weight arguments are followed by their byte count.
QOPS = [
 ("fused_dequant_gemv", "y[m x n] = x[m x k] . W^T for W [n x k] in any self-contained format t (GGUF block formats and"
  " SQUEEZELLM; AWQ4/GPTQ4, whose side arrays do not fit this signature, give GLLMK_E_UNSUPPORTED: use their own functions): rows of k / block_size blocks, w_bytes >= n rows."
  "  x is quantized to int8 per 32 values and the dot products are integer (the error"
  " bound is at the top of this header): a GEMV under 16 rows of x, an int8 GEMM from 16 on; SQUEEZELLM multiplies in f32.",
  "const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t, size_t m, size_t n, size_t k"),
 ("kquant_matmul", "As gllmk_fused_dequant_gemv_*, for the K-quants and legacy GGUF formats (Q2_K..Q8_K, Q4_0..Q8_0);"
  " another known format is GLLMK_E_INVAL.",
  "const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t, size_t m, size_t n, size_t k"),
 ("iq_matmul", "As gllmk_fused_dequant_gemv_*, for the IQ formats (IQ1_S..IQ4_XS) and MXFP4; another known format is GLLMK_E_INVAL.",
  "const void *w, size_t w_bytes, const T *x, T *y, gllmk_qtype t, size_t m, size_t n, size_t k"),
 ("awq_matmul", "y[m x n] = x[m x k] . W^T for an AWQ4 matrix W [n x k] (packed, zeros, scales as in gllmk/quant.h);"
  " packed_bytes >= n * k / 2.",
  "const uint8_t *packed, size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("gptq_matmul", "y[m x n] = x[m x k] . W^T for a GPTQ4 matrix W [n x k] (packed, g_idx[k] < n_groups,"
  " scales [n x n_groups]); packed_bytes >= n * k / 2.",
  "const uint8_t *packed, size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("squeeze_matmul", "y[m x n] = x[m x k] . W^T for a SqueezeLLM matrix W [n x k] (k a multiple of 256).",
  "const void *w, size_t w_bytes, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("fused_iq1_s_matmul", "gllmk_iq_matmul_* specialised to IQ1_S; same results.",
  "const void *w, size_t w_bytes, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("fused_iq2_xxs_matmul", "gllmk_iq_matmul_* specialised to IQ2_XXS; same results.",
  "const void *w, size_t w_bytes, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("fused_awq4_matmul", "gllmk_awq_matmul_*; same results.",
  "const uint8_t *packed, size_t packed_bytes, const uint8_t *zeros, const gllmk_f16 *scales, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("fused_gptq4_matmul", "gllmk_gptq_matmul_*; same results.",
  "const uint8_t *packed, size_t packed_bytes, const int32_t *g_idx, const gllmk_f16 *scales, size_t n_groups, const T *x, T *y, size_t m, size_t n, size_t k"),
 ("fused_squeeze_matmul", "gllmk_squeeze_matmul_*; same results.",
  "const void *w, size_t w_bytes, const T *x, T *y, size_t m, size_t n, size_t k"),
]

# The operators the model layer (gllmk/model.h, DESIGN 9) is built from:
# declared in gllmk/model_ops.h, in the backend tables after Tables C and D.
MOPS = [
 ("linear", "y[m x n] = x[m x k] . w^T + bias for w [n x k] (the LLM layout); bias [n] may be NULL.",
  "const T *x, const T *w, const T *bias, T *y, size_t m, size_t n, size_t k"),
 ("kv_store", "Writes n tokens' K and V rows into a paged KV cache: k_cache/v_cache [n_pages x page_size x"
  " kv_heads x head_dim]; page_table [n_seqs x max_pages] (row s maps sequence s's logical token t to"
  " page page_table[s * max_pages + t / page_size], slot t %% page_size); token i of k/v [n x kv_heads x"
  " head_dim] goes to logical token slot[i] of sequence seq[i].  A seq >= n_seqs, a slot >= max_pages *"
  " page_size or a page >= n_pages is GLLMK_E_INVAL (nothing written).",
  "const T *k, const T *v, T *k_cache, T *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *slot, size_t n, size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages"),
 ("tree_attention", "Attention of n query tokens over a paged KV cache (layout as gllmk_kv_store_*) with an"
  " explicit visible set: query i (q/out [n x heads x head_dim]) of sequence seq[i] sees that sequence's"
  " logical tokens 0 .. ctx[i]-1 and the tokens extra[extra_start[i] .. extra_start[i+1]) (extra_start has"
  " n + 1 entries, <= n_extra), in that order, with online softmax; a query that sees nothing gets zeros."
  "  heads %% kv_heads == 0 (GQA).  This is the token-tree mask: a node sees its sequence's cache and its"
  " ancestors' slots.",
  "const T *q, const T *k_cache, const T *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *ctx, const uint32_t *extra_start, const uint32_t *extra, T *out, size_t n, size_t heads, size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages, size_t n_extra, float scale"),
 ("sample", "One token id per row of logits [rows x vocab] into ids[rows]: a repetition penalty (> 0; 1 is off)"
  " over the ids recent[r * window ..] (negative ids ignored), then greedy (temperature <= 0 or top_k == 1)"
  " or temperature, top_k (0 off), top_p (1 off), min_p (0 off) and a draw with Philox4x32-10 keyed by seed,"
  " counter (rng[2r], rng[2r+1]).  The same arguments give the same ids on every thread count (the exact"
  " order of the steps is in lib/core/sample_tpl.h and gllmk_sample(3)).",
  "const T *logits, size_t rows, size_t vocab, const int32_t *recent, size_t window, float repeat_penalty, float temperature, size_t top_k, float top_p, float min_p, uint64_t seed, const uint32_t *rng, int32_t *ids"),
 ("dequantize", "out[n] = the n values of src in quantized format t (src_bytes >= n / block size blocks;"
  " n a multiple of the block size), decoded bit for bit as gllmk_dequantize does and rounded once to T."
  "  AWQ4 and GPTQ4 (side arrays) are GLLMK_E_UNSUPPORTED, as in gllmk_dequantize.",
  "const void *src, size_t src_bytes, gllmk_qtype t, T *out, size_t n"),
 ("embedding_lookup_q", "out[i x hidden] = row ids[i] of table [vocab x hidden] in quantized format t"
  " (table_bytes >= vocab rows; hidden a multiple of the block size), decoded as gllmk_dequantize does;"
  " an id >= vocab is GLLMK_E_INVAL (nothing written).  AWQ4 and GPTQ4 are GLLMK_E_UNSUPPORTED.",
  "const uint32_t *ids, size_t n_ids, const void *table, size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, T *out"),
]
QOPS += [
 ("gemv_q8", "*result = scale * sum(w[i] * x[i]) for int8 w[n] (w_bytes >= n); exact f32 products.",
  "const int8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result"),
 ("gemv_q4", "As gllmk_gemv_q8_*, w packed 4-bit (element i in byte i/2, low nibble first), values q - 8; w_bytes >= ceil(n/2).",
  "const uint8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result"),
 ("gemv_q2", "As gllmk_gemv_q8_*, w packed 2-bit (element i in bits 2(i%4) of byte i/4), values q - 2; w_bytes >= ceil(n/4).",
  "const uint8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result"),
 ("gemv_q1", "As gllmk_gemv_q8_*, w packed 1-bit (element i in bit i%8 of byte i/8), values +1 (bit set) or -1; w_bytes >= ceil(n/8).",
  "const uint8_t *w, size_t w_bytes, const T *x, float scale, size_t n, float *result"),
 ("gemm_q8", "y[m x n] = x[m x k] . (diag(scales) . W)^T for int8 W [n x k] (w_bytes >= n * k), scales f32 [n].",
  "const int8_t *w, size_t w_bytes, const T *x, T *y, const float *scales, size_t m, size_t n, size_t k"),
 ("gemm_q4", "As gllmk_gemm_q8_*, W packed 4-bit [n x k/2] (k even; low nibble first), values q - 8.",
  "const uint8_t *w, size_t w_bytes, const T *x, T *y, const float *scales, size_t m, size_t n, size_t k"),
 ("fused_qkv_rope_q4", "As gllmk_fused_qkv_rope_* with int4 weights (gllmk_gemm_q4_* layout) and f32 per-row scales:"
  " wq [heads*head_dim x hidden/2] with sq, wk/wv [kv_heads*head_dim x hidden/2] with sk/sv.",
  "const T *x, const uint8_t *wq, size_t wq_bytes, const float *sq, const uint8_t *wk, size_t wk_bytes, const float *sk, const uint8_t *wv, size_t wv_bytes, const float *sv, const T *cos, const T *sin, T *q, T *k, T *v, size_t seq, size_t hidden, size_t heads, size_t kv_heads, size_t head_dim, size_t rotary_dim, bool interleaved, size_t pos"),
 ("fused_ffn_q4", "As gllmk_fused_ffn_* with int4 weights and f32 per-row scales: w_gate/w_up [ffn x hidden/2],"
  " w_down [hidden x ffn/2].  residual may be NULL and out may alias it.",
  "const T *x, const uint8_t *w_gate, size_t gate_bytes, const float *s_gate, const uint8_t *w_up, size_t up_bytes, const float *s_up, const uint8_t *w_down, size_t down_bytes, const float *s_down, const T *residual, T *out, size_t m, size_t hidden, size_t ffn"),
 ("fused_int8_linear_residual_rmsnorm", "s = x . (diag(scales) W)^T + residual, out = rms_norm(s, norm_w, eps), s to sum_out"
  " unless NULL; W int8 [n x k].  residual may be NULL; out and sum_out may alias residual.",
  "const T *x, const int8_t *w, size_t w_bytes, const float *scales, const T *residual, const T *norm_w, T *out, T *sum_out, size_t m, size_t n, size_t k, float eps"),
 ("fused_int4_linear_residual_rmsnorm", "As gllmk_fused_int8_linear_residual_rmsnorm_* with W packed 4-bit [n x k/2].",
  "const T *x, const uint8_t *w, size_t w_bytes, const float *scales, const T *residual, const T *norm_w, T *out, T *sum_out, size_t m, size_t n, size_t k, float eps"),
]
ALL = OPS + QOPS + MOPS
# ops without a C11 _Generic front end: gllmk_dequantize is the f32
# function of gllmk/quant.h (another argument order), which a macro would hide
NO_GENERIC = ("dequantize",)

TYPES = [("f32", "float"), ("f16", "gllmk_f16"), ("bf16", "gllmk_bf16")]

def params(spec, ctype):
    out, sel = [], None
    for p in spec.split(", "):
        p = p.strip()
        if "sel:" in p:
            p = p.replace("sel:", ""); sel = p.split()[-1].lstrip("*")
        name = p.split()[-1].lstrip("*")
        if sel is None and "T *" in p: sel = name
        out.append((p.replace("T *", ctype + " *"), name))
    return out, sel

BANNER = "do not edit: generated by tools/gen-api.py from its OPS list"

def decls(ops):
    L = []
    for name, doc, spec in ops:
        L.append("/** " + doc.replace("%%", "%") + " */")
        for tn, ct in TYPES:
            ps, _ = params(spec, ct)
            L.append("GLLMK_API gllmk_status gllmk_%s_%s(%s);" % (name, tn, ", ".join(p for p, _ in ps)))
        L.append("")
    return L

def quant_ops_h():
    L = ["/* gllmk/quant_ops.h -- Tables C and D: matmuls with quantized weights, f32/f16/bf16 activations",
         " * SPDX-License-Identifier: MIT", " * " + BANNER + ".", " *",
         " * Arguments are validated as in gllmk/ops.h; besides, a weight buffer shorter",
         " * than the shape needs, k not a multiple of the format's block size, or an",
         " * index out of range is GLLMK_E_INVAL, and a value that is not a gllmk_qtype",
         " * GLLMK_E_UNSUPPORTED.  Accumulation is f32; see gllmk/quant.h for formats.", " *",
         " * Accuracy.  The activations are quantized to int8 per chunk of 32 values,",
         " * as ggml's Q8_0 / Q8_K paths do, and the dot products are integer (the",
         " * decode GEMV under 16 activation rows, the int8 GEMM from 16 on): a value x of a",
         " * chunk whose largest magnitude is a becomes (a/127) * round(127 x / a), so",
         " *     |y - exact| <= sum over chunks (a_chunk / 254) * sum_chunk |w|",
         " * plus the f32 rounding of the sums (exact = the product of the decoded",
         " * weights and the unrounded activations).  The gemv_q* vector ops multiply",
         " * in f32 without that rounding, and so do the formats with no integer form",
         " * (SqueezeLLM, GPTQ4 whose g_idx changes inside 16 columns: the error of an",
         " * f32 dot product).  A NaN or infinity in a chunk makes the rows that use it",
         " * NaN on the integer path.", " */",
         "#ifndef GLLMK_QUANT_OPS_H", "#define GLLMK_QUANT_OPS_H", "", "#include <gllmk/types.h>",
         "#include <gllmk/quant.h>", "",
         "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    L += decls(QOPS)
    L += ["#ifdef __cplusplus", "}", "#endif", "#endif /* GLLMK_QUANT_OPS_H */", ""]
    return "\n".join(L)

def model_ops_h():
    L = ["/* gllmk/model_ops.h -- the operators of the model layer (linear, paged KV", " * cache, tree attention, sampling), f32/f16/bf16",
         " * SPDX-License-Identifier: MIT", " * " + BANNER + ".", " *",
         " * gllmk/model.h runs models with these through a backend's tables (every",
         " * one is in gllmk_ops_<dtype>); they are public so that an engine with its",
         " * own model code can use them too.  Arguments are validated as in",
         " * gllmk/ops.h; an index out of range (a token id, a sequence, a slot, a page)",
         " * is GLLMK_E_INVAL with nothing written.", " */",
         "#ifndef GLLMK_MODEL_OPS_H", "#define GLLMK_MODEL_OPS_H", "", "#include <gllmk/types.h>",
         "#include <gllmk/quant.h>", "",
         "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    L += decls(MOPS)
    L += ["#ifdef __cplusplus", "}", "#endif", "#endif /* GLLMK_MODEL_OPS_H */", ""]
    return "\n".join(L)

def ops_h():
    L = ["/* gllmk/ops.h -- Table A floating-point operators, f32/f16/bf16", " * SPDX-License-Identifier: MIT",
         " * " + BANNER + ".", " *",
         " * Every function validates its arguments and returns GLLMK_OK or a negative",
         " * gllmk_status without touching memory when an argument is bad: a NULL",
         " * pointer where data is needed (NULL is accepted when the size makes the",
         " * buffer empty), sizes whose products overflow size_t (GLLMK_E_OVERFLOW), and",
         " * inconsistent shapes (GLLMK_E_INVAL).  Arithmetic is f32; f16/bf16 inputs",
         " * are widened on load and results rounded to nearest-even on store.", " */",
         "#ifndef GLLMK_OPS_H", "#define GLLMK_OPS_H", "", "#include <gllmk/types.h>", "",
         "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    for name, doc, spec in OPS:
        L.append("/** " + doc.replace("%%", "%") + " */")
        for tn, ct in TYPES:
            ps, _ = params(spec, ct)
            L.append("GLLMK_API gllmk_status gllmk_%s_%s(%s);" % (name, tn, ", ".join(p for p, _ in ps)))
        L.append("")
    L += ["#ifdef __cplusplus", "}", "#endif", "#endif /* GLLMK_OPS_H */", ""]
    return "\n".join(L)

def generic_h():
    L = ["/* gllmk/generic.h -- C11 _Generic front ends: gllmk_<op>(...) picks the", " * _f32/_f16/_bf16 variant from the element pointer type at compile time.",
         " * SPDX-License-Identifier: MIT", " * " + BANNER + ".", " */",
         "#ifndef GLLMK_GENERIC_H", "#define GLLMK_GENERIC_H", "",
         "#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L", "",
         "#define GLLMK__GENERIC(op, p) _Generic((p), \\",
         "    float *: gllmk_##op##_f32, const float *: gllmk_##op##_f32, \\",
         "    gllmk_f16 *: gllmk_##op##_f16, const gllmk_f16 *: gllmk_##op##_f16, \\",
         "    gllmk_bf16 *: gllmk_##op##_bf16, const gllmk_bf16 *: gllmk_##op##_bf16)", ""]
    for name, doc, spec in ALL:
        if name in NO_GENERIC:
            continue
        ps, sel = params(spec, "T")
        names = [n for _, n in ps]
        L.append("#define gllmk_%s(%s) GLLMK__GENERIC(%s, %s)(%s)" % (name, ", ".join(names), name, sel, ", ".join(names)))
    L += ["", "#endif /* C11 */", "#endif /* GLLMK_GENERIC_H */", ""]
    return "\n".join(L)

def shape_params(spec, ctype):
    """The (decl, name) pairs of an op's size_t, bool and gllmk_qtype parameters:
    what its workspace query takes."""
    ps, _ = params(spec, ctype)
    return [(p, n) for p, n in ps if "*" not in p and p.split()[0] in ("size_t", "bool", "gllmk_qtype")]

def backend_ops_h():
    L = ["/* gllmk/backend_ops.h -- per-precision operator tables a backend implements", " * SPDX-License-Identifier: MIT",
         " * " + BANNER + ".", " *",
         " * Each op member has the signature of the gllmk_<op>_<dtype> function with",
         " * the backend first: it is queued on that backend (in order; nothing waits",
         " * for it unless gllmk_backend_synchronize or a download does).  Every",
         " * pointer, scalar results (float *result) included, is an address inside a",
         " * buffer of that backend (gllmk_buffer_data() plus an offset).  Arguments are",
         " * validated as by the CPU function, before anything is queued; a backend",
         " * that does not implement an op returns GLLMK_E_UNSUPPORTED.", " *",
         " * No op allocates.  Its scratch comes from the backend's workspace",
         " * (gllmk_backend_reserve_workspace): <op>_workspace_bytes(be, <the op's",
         " * size_t, bool and gllmk_qtype arguments>, &bytes) says how much the op",
         " * needs for that shape, and an op whose workspace is smaller returns",
         " * GLLMK_E_NOMEM before doing anything.", " */",
         "#ifndef GLLMK_BACKEND_OPS_H", "#define GLLMK_BACKEND_OPS_H", "", "#include <gllmk/types.h>",
         "#include <gllmk/quant.h>", "",
         "typedef struct gllmk_backend gllmk_backend;", ""]
    for tn, ct in TYPES:
        L.append("/** Table A, C and D operators on %s elements. */" % ct)
        L.append("typedef struct gllmk_ops_%s {" % tn)
        for name, doc, spec in ALL:
            ps, _ = params(spec, ct)
            L.append("  gllmk_status (*%s)(gllmk_backend *be, %s);" % (name, ", ".join(p for p, _ in ps)))
        for name, doc, spec in ALL:
            sp = shape_params(spec, ct)
            L.append("  gllmk_status (*%s_workspace_bytes)(gllmk_backend *be, %ssize_t *bytes);"
                     % (name, "".join(p + ", " for p, _ in sp)))
        L.append("} gllmk_ops_%s;" % tn)
        L.append("")
    L += ["#endif /* GLLMK_BACKEND_OPS_H */", ""]
    return "\n".join(L)

def cpu_ops_c():
    """The CPU backend's tables.  Each op records itself while a graph is being
    recorded; otherwise it runs the public function inside the backend's
    workspace (lib/core/cpu_ws.h gives each op's size)."""
    L = ["/* cpu_ops.c -- the CPU backend's operator tables: the public functions, run",
         " * inside the backend's workspace, or recorded into the graph being built",
         " * SPDX-License-Identifier: MIT", " * " + BANNER + ".", " */",
         '#include "internal.h"', '#include "cpu_ws.h"', ""]
    for tn, ct in TYPES:
        for name, doc, spec in ALL:
            ps, _ = params(spec, ct)
            sp = shape_params(spec, ct)
            fn = "%s_%s" % (name, tn)
            decl = ", ".join(p for p, _ in ps)
            names = ", ".join(n for _, n in ps)
            L.append("struct rec_%s {" % fn)
            L.append("  struct gllmk__rec hdr;")
            for p, n in ps:
                L.append("  %s;" % p)
            L.append("};")
            L.append("static gllmk_status run_%s(gllmk_backend *be, %s) {" % (fn, decl))
            L.append("  struct gllmk__ws *ws;")
            L.append("  gllmk_status st = gllmk__cpu_ws_get(be, gllmk__cpu_ws_%s(%s), &ws);"
                     % (fn, ", ".join(n for _, n in sp)))
            L.append("  if (st != GLLMK_OK) return st;")
            L.append("  gllmk__ws_enter(ws);")
            L.append("  st = gllmk_%s(%s);" % (fn, names))
            L.append("  gllmk__ws_leave();")
            L.append("  gllmk__cpu_ws_put(be);")
            L.append("  return st;")
            L.append("}")
            L.append("static gllmk_status play_%s(gllmk_backend *be, const struct gllmk__rec *h) {" % fn)
            L.append("  const struct rec_%s *r = (const struct rec_%s *)h;" % (fn, fn))
            L.append("  return run_%s(be, %s);" % (fn, ", ".join("r->" + n for _, n in ps)))
            L.append("}")
            L.append("static gllmk_status cpu_%s(gllmk_backend *be, %s) {" % (fn, decl))
            L.append("  if (!be) return GLLMK_E_INVAL;")
            L.append("  if (gllmk__cpu_recording(be)) {")
            L.append("    struct rec_%s *r = gllmk__cpu_record(be, sizeof *r, play_%s);" % (fn, fn))
            L.append("    if (!r) return GLLMK_E_NOMEM;")
            for p, n in ps:
                L.append("    r->%s = %s;" % (n, n))
            L.append("    return GLLMK_OK;")
            L.append("  }")
            L.append("  return run_%s(be, %s);" % (fn, names))
            L.append("}")
            L.append("static gllmk_status cpu_%s_workspace_bytes(gllmk_backend *be, %ssize_t *bytes) {"
                     % (fn, "".join(p + ", " for p, _ in sp)))
            L.append("  if (!be || !bytes) return GLLMK_E_INVAL;")
            L.append("  *bytes = gllmk__cpu_ws_%s(%s);" % (fn, ", ".join(n for _, n in sp)))
            L.append("  return GLLMK_OK;")
            L.append("}")
            L.append("")
        L.append("const gllmk_ops_%s gllmk__cpu_ops_%s = {" % (tn, tn))
        for name, doc, spec in ALL:
            L.append("  .%s = cpu_%s_%s," % (name, name, tn))
        for name, doc, spec in ALL:
            L.append("  .%s_workspace_bytes = cpu_%s_%s_workspace_bytes," % (name, name, tn))
        L.append("};")
        L.append("")
    return "\n".join(L)

def cuda_ops_c(top):
    """The CUDA backend's tables: gllmk__cu_<op>_<dtype> where cuda/ops_*.c
    defines it, else an op that says GLLMK_E_UNSUPPORTED; the workspace query
    gllmk__cu_<op>_workspace_bytes_<dtype> where defined, else 0 bytes."""
    import glob
    src = ""
    for f in sorted(glob.glob(os.path.join(top, "cuda", "ops_*.c"))):
        src += open(f).read()
    have = set(re.findall(r"^gllmk_status\s+(gllmk__cu_\w+)\s*\(", src, re.M))
    L = ["/* cuda_ops.c -- the CUDA backend's operator tables", " * SPDX-License-Identifier: MIT",
         " * " + BANNER + " and the functions cuda/ops_*.c define.", " */",
         '#include "cuda_internal.h"', '#include "cuda_ops.h"', ""]
    H = ["/* cuda_ops.h -- the CUDA backend's op functions (cuda/ops_*.c)", " * SPDX-License-Identifier: MIT",
         " * " + BANNER + ".", " */", "#ifndef GLLMK_CUDA_OPS_H", "#define GLLMK_CUDA_OPS_H", "",
         '#include "cuda_internal.h"', ""]
    for tn, ct in TYPES:
        for name, doc, spec in ALL:
            ps, _ = params(spec, ct)
            sp = shape_params(spec, ct)
            fn = "%s_%s" % (name, tn)
            decl = ", ".join(p for p, _ in ps)
            wsdecl = "".join(p + ", " for p, _ in sp)
            H.append("GLLMK_HIDDEN gllmk_status gllmk__cu_%s(gllmk_backend *be, %s);" % (fn, decl))
            H.append("GLLMK_HIDDEN gllmk_status gllmk__cu_%s_workspace_bytes_%s(gllmk_backend *be, %ssize_t *bytes);"
                     % (name, tn, wsdecl))
            if "gllmk__cu_" + fn not in have:
                L.append("static gllmk_status no_%s(gllmk_backend *be, %s) {" % (fn, decl))
                L.append("  (void)be;")
                for _, n in ps:
                    L.append("  (void)%s;" % n)
                L.append("  return GLLMK_E_UNSUPPORTED;")
                L.append("}")
                L.append("static gllmk_status no_%s_workspace_bytes(gllmk_backend *be, %ssize_t *bytes) {" % (fn, wsdecl))
                for _, n in sp:
                    L.append("  (void)%s;" % n)
                L.append("  if (!be || !bytes) return GLLMK_E_INVAL;")
                L.append("  *bytes = 0;")
                L.append("  return GLLMK_E_UNSUPPORTED;")
                L.append("}")
            elif "gllmk__cu_%s_workspace_bytes_%s" % (name, tn) not in have:
                L.append("static gllmk_status zero_%s_workspace_bytes(gllmk_backend *be, %ssize_t *bytes) {" % (fn, wsdecl))
                for _, n in sp:
                    L.append("  (void)%s;" % n)
                L.append("  if (!be || !bytes) return GLLMK_E_INVAL;")
                L.append("  *bytes = 0;")
                L.append("  return GLLMK_OK;")
                L.append("}")
        L.append("")
        L.append("const gllmk_ops_%s gllmk__cuda_ops_%s = {" % (tn, tn))
        for name, doc, spec in ALL:
            fn = "%s_%s" % (name, tn)
            L.append("  .%s = %s," % (name, ("gllmk__cu_" + fn) if "gllmk__cu_" + fn in have else "no_" + fn))
        for name, doc, spec in ALL:
            fn = "%s_%s" % (name, tn)
            if "gllmk__cu_" + fn not in have:
                w = "no_%s_workspace_bytes" % fn
            elif "gllmk__cu_%s_workspace_bytes_%s" % (name, tn) in have:
                w = "gllmk__cu_%s_workspace_bytes_%s" % (name, tn)
            else:
                w = "zero_%s_workspace_bytes" % fn
            L.append("  .%s_workspace_bytes = %s," % (name, w))
        L.append("};")
        L.append("")
    H += ["", "#endif /* GLLMK_CUDA_OPS_H */", ""]
    return "\n".join(L), "\n".join(H)

def cpu_ws_h():
    """Declarations of the per-op workspace sizes of the CPU backend."""
    L = ["/* cpu_ws.h -- the workspace bytes each CPU op draws when it runs through the",
         " * CPU backend (0 for an invalid shape: the op then returns its own error)",
         " * SPDX-License-Identifier: MIT", " * " + BANNER + ".", " */",
         "#ifndef GLLMK_CPU_WS_H", "#define GLLMK_CPU_WS_H", "", '#include "internal.h"', ""]
    for tn, ct in TYPES:
        for name, doc, spec in ALL:
            sp = shape_params(spec, ct)
            L.append("GLLMK_HIDDEN size_t gllmk__cpu_ws_%s_%s(%s);" % (name, tn, ", ".join(p for p, _ in sp) or "void"))
    L += ["", "#endif /* GLLMK_CPU_WS_H */", ""]
    return "\n".join(L)

def operators_md():
    L = ["# gllmk operators (Table A)", "", "<!-- " + BANNER + " -->", "",
         "Every operator exists as `gllmk_<op>_f32`, `_f16` and `_bf16` (T = `float`, `gllmk_f16`,",
         "`gllmk_bf16`), returns `gllmk_status`, and validates its arguments before touching memory",
         "(see `include/gllmk/ops.h`). In C11, `gllmk_<op>(...)` picks the variant from the pointer type.",
         "Matrices are row-major and contiguous; weights are W[out x in]. Arithmetic is f32.", ""]
    for name, doc, spec in ALL:
        if name == MOPS[0][0]:
            L += ["# Model-level operators", "",
                  "Declared in `include/gllmk/model_ops.h`: what `gllmk/model.h` runs models with.", ""]
        if name == QOPS[0][0]:
            L += ["# Quantized matmuls (Tables C and D)", "",
                  "Declared in `include/gllmk/quant_ops.h`; formats in `include/gllmk/quant.h`.", ""]
        ps, _ = params(spec, "T")
        L.append("## `%s`" % name)
        L.append("")
        L.append("```c")
        L.append("gllmk_status gllmk_%s_<dtype>(%s);" % (name, ", ".join(p for p, _ in ps)))
        L.append("```")
        L.append("")
        L.append(doc.replace("%%", "%"))
        L.append("")
    return "\n".join(L)

def symbols_txt(ops):
    return "".join("gllmk_%s_%s\n" % (n, tn) for n, _, _ in ops for tn, _ in TYPES)

if __name__ == "__main__":
    if len(sys.argv) > 3:
        sys.exit("usage: gen-api.py [SRCDIR [OUTDIR]]")
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    # OUTDIR (default SRCDIR): where the files go, under the same relative paths
    # (.ci/run writes them into an empty directory and compares)
    outdir = sys.argv[2] if len(sys.argv) > 2 else top
    for path, text in [("include/gllmk/ops.h", ops_h()), ("include/gllmk/generic.h", generic_h()),
                       ("include/gllmk/backend_ops.h", backend_ops_h()), ("lib/core/cpu_ops.c", cpu_ops_c()),
                       ("lib/core/cpu_ws.h", cpu_ws_h()),
                       ("cuda/cuda_ops.c", cuda_ops_c(top)[0]), ("cuda/cuda_ops.h", cuda_ops_c(top)[1]),
                       ("tests/table_a_symbols.txt", symbols_txt(OPS)),
                       ("tests/table_cd_symbols.txt", symbols_txt(QOPS)),
                       ("include/gllmk/model_ops.h", model_ops_h()),
                       ("include/gllmk/quant_ops.h", quant_ops_h()),
                       ("doc/operators.md", operators_md())]:
        out = os.path.join(outdir, path)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
    print("%d operators, %d functions" % (len(ALL), 3 * len(ALL)))
