/* gllmk/quant.h -- quantization formats: metadata, dequantizers, quantizers,
 * and repacking of AutoAWQ / AutoGPTQ checkpoints (DESIGN.md §5 Table B)
 * SPDX-License-Identifier: MIT
 *
 * Formats
 *  - The GGUF block formats (legacy Q4_0 ... Q8_0, the K-quants, the IQ
 *    formats) are ggml's block layouts bit for bit, and the enum values are
 *    ggml's type ids, so a GGUF tensor's type field can be cast directly.  A
 *    row of k values is k / block_size consecutive blocks; k must be a
 *    multiple of the block size.  Decoding gives exactly ggml's values.
 *  - GLLMK_AWQ4: a weight matrix [n x k] is three arrays: packed nibbles
 *    uint8[n x k/2] (element j of a row in byte j/2, low nibble first), zero
 *    points uint8[n x ceil(k/256)] (the nibbles of the k/128 groups of a row,
 *    same packing; an odd count leaves the last high nibble unused) and
 *    scales gllmk_f16[n x k/128]; w = (q - z) * s.  k must be a multiple of
 *    128.
 *  - GLLMK_GPTQ4: packed nibbles as AWQ4, g_idx int32[k] (the group of each
 *    input column, so act-order checkpoints work) and scales
 *    gllmk_f16[n x n_groups]; w = (q - 8) * s[g_idx[j]].  k must be even.
 *  - GLLMK_SQUEEZELLM: blocks of 256 values, 112 bytes each: 8 f16 codebook
 *    entries (16 bytes), then 256 3-bit codes packed little-endian (code i in
 *    bits 3i..3i+2 of the 96-byte stream); w = codebook[code].
 *
 * Special values: scales are decoded as IEEE says (an inf or NaN scale gives
 * inf/NaN outputs, never an error or a crash).
 */
#ifndef GLLMK_QUANT_H
#define GLLMK_QUANT_H

#include <gllmk/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Quantization formats.  The GGUF ones carry ggml's type ids. */
typedef enum gllmk_qtype {
  GLLMK_Q4_0 = 2,
  GLLMK_Q4_1 = 3,
  GLLMK_Q5_0 = 6,
  GLLMK_Q5_1 = 7,
  GLLMK_Q8_0 = 8,
  GLLMK_Q2_K = 10,
  GLLMK_Q3_K = 11,
  GLLMK_Q4_K = 12,
  GLLMK_Q5_K = 13,
  GLLMK_Q6_K = 14,
  GLLMK_Q8_K = 15,
  GLLMK_IQ2_XXS = 16,
  GLLMK_IQ2_XS = 17,
  GLLMK_IQ3_XXS = 18,
  GLLMK_IQ1_S = 19,
  GLLMK_IQ4_NL = 20,
  GLLMK_IQ3_S = 21,
  GLLMK_IQ2_S = 22,
  GLLMK_IQ4_XS = 23,
  GLLMK_IQ1_M = 29,
  GLLMK_MXFP4 = 39,
  GLLMK_AWQ4 = 200,
  GLLMK_GPTQ4 = 201,
  GLLMK_SQUEEZELLM = 202
} gllmk_qtype;

/* ------------------------------------------------------------------ metadata */

/** ggml's spelling ("q4_K", "iq2_xxs", "q8_0", ...; "awq4", "gptq4",
 *  "squeezellm"), or NULL for a value that is not a gllmk_qtype. */
GLLMK_API const char *gllmk_qtype_name(gllmk_qtype t);
/** Values per block (32, 128 or 256); 0 for an unknown type. */
GLLMK_API size_t gllmk_qtype_block_size(gllmk_qtype t);
/** Bytes per block; 0 for an unknown type.  For AWQ4 / GPTQ4 this counts the
 *  packed codes only (64 bytes per 128 values); zeros, scales and g_idx are
 *  separate arrays. */
GLLMK_API size_t gllmk_qtype_block_bytes(gllmk_qtype t);
/** Bits per weight of the block data (block_bytes * 8 / block_size, e.g.
 *  4.5 for Q4_K, 4.0 for AWQ4 and GPTQ4); 0 for an unknown type. */
GLLMK_API double gllmk_qtype_bits(gllmk_qtype t);
/** Bytes of one row of k values, or 0 when t is unknown, k is not a multiple
 *  of the block size, or the size overflows. */
GLLMK_API size_t gllmk_qtype_row_bytes(gllmk_qtype t, size_t k);
/** Parse a format name, case-insensitively (ggml's spellings and the names
 *  above; also "awq", "gptq", "squeeze" and "squeeze_llm").  GLLMK_E_INVAL
 *  for NULL arguments, GLLMK_E_UNSUPPORTED for a name that is not a format
 *  gllmk knows. */
GLLMK_API gllmk_status gllmk_qtype_from_name(const char *name, gllmk_qtype *out);

/* ------------------------------------------------------------------ dequantization */

/** Decode n values (a whole number of blocks) of the self-contained formats
 *  (all but AWQ4 and GPTQ4, which return GLLMK_E_UNSUPPORTED: use
 *  gllmk_dequant_awq4 / gllmk_dequant_gptq4).  src holds src_bytes bytes,
 *  at least n / block_size blocks; GLLMK_E_INVAL if fewer, or if n is not a
 *  multiple of the block size; GLLMK_E_UNSUPPORTED for an unknown type. */
GLLMK_API gllmk_status gllmk_dequantize(gllmk_qtype t, const void *src, size_t src_bytes,
                                        float *out, size_t n);

/* Per format: decode n values (n a multiple of the block size) from the
 * n / block_size blocks at src. */
GLLMK_API gllmk_status gllmk_dequant_q4_0(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q4_1(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q5_0(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q5_1(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q8_0(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q2_k(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q3_k(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q4_k(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q5_k(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q6_k(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_q8_k(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq1_s(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq1_m(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq2_xxs(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq2_xs(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq2_s(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq3_xxs(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq3_s(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq4_nl(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_iq4_xs(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_mxfp4(const void *src, float *out, size_t n);
GLLMK_API gllmk_status gllmk_dequant_squeezellm(const void *src, float *out, size_t n);
/** Decode an AWQ4 matrix [n x k] (layout above) into out[n x k]. */
GLLMK_API gllmk_status gllmk_dequant_awq4(const uint8_t *packed, const uint8_t *zeros,
                                          const gllmk_f16 *scales, float *out, size_t n, size_t k);
/** Decode a GPTQ4 matrix [n x k] into out[n x k]; every g_idx[j] must be
 *  < n_groups (else GLLMK_E_INVAL, nothing written). */
GLLMK_API gllmk_status gllmk_dequant_gptq4(const uint8_t *packed, const int32_t *g_idx,
                                           const gllmk_f16 *scales, size_t n_groups,
                                           float *out, size_t n, size_t k);

/* ------------------------------------------------------------------ quantization */

/** Quantize n values (a multiple of the block size) of src into
 *  n / block_size blocks at dst (dst_bytes must hold them: GLLMK_E_INVAL
 *  otherwise).  These are reference quantizers without an importance matrix:
 *  where ggml's reference quantizer needs none, they write ggml's bytes.
 *  Supported: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K ... Q6_K, Q8_K, IQ4_NL,
 *  IQ4_XS, MXFP4 and SQUEEZELLM; other types return GLLMK_E_UNSUPPORTED (AWQ4 and
 *  GPTQ4 have gllmk_quant_awq4 / gllmk_quant_gptq4).  Non-finite inputs give
 *  GLLMK_E_INVAL. */
GLLMK_API gllmk_status gllmk_quantize(gllmk_qtype t, const float *src, size_t n,
                                      void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q4_0(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q4_1(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q5_0(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q5_1(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q8_0(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q2_k(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q3_k(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q4_k(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q5_k(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q6_k(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_q8_k(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_iq4_nl(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_iq4_xs(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_mxfp4(const float *src, size_t n, void *dst, size_t dst_bytes);
GLLMK_API gllmk_status gllmk_quant_squeezellm(const float *src, size_t n, void *dst, size_t dst_bytes);
/** Quantize w[n x k] (k a multiple of 128) to AWQ4: per row and group of 128,
 *  asymmetric min/max to 0..15 (the range always includes 0; the f16 scale
 *  is rounded up, so no code saturates and every error is at most s/2;
 *  scales beyond the f16 range are capped at 65504). */
GLLMK_API gllmk_status gllmk_quant_awq4(const float *w, size_t n, size_t k, uint8_t *packed,
                                        uint8_t *zeros, gllmk_f16 *scales);
/** Quantize w[n x k] (k even, a multiple of group_size) to GPTQ4,
 *  symmetric round-to-nearest per group of group_size consecutive columns
 *  (scale max|w| / 7, rounded up to f16); writes g_idx[k] (j / group_size)
 *  and scales[n x k/group_size]. */
GLLMK_API gllmk_status gllmk_quant_gptq4(const float *w, size_t n, size_t k, size_t group_size,
                                         uint8_t *packed, int32_t *g_idx, gllmk_f16 *scales);

/* ------------------------------------------------------------------ repacking */

/** AutoAWQ (GEMM layout) to AWQ4, for a layer with n outputs and k inputs.
 *  qweight int32[k x n/8] and qzeros int32[k/128 x n/8] hold 8 nibbles per
 *  int32 in AutoAWQ's interleaved order (0, 2, 4, 6, 1, 3, 5, 7); scales
 *  f16[k/128 x n].  Group size must be 128 (else GLLMK_E_UNSUPPORTED), k a
 *  multiple of 128 and n of 8.  Writes packed[n x k/2], zeros[n x ceil(k/256)]
 *  and scales_out[n x k/128]. */
GLLMK_API gllmk_status gllmk_repack_awq(const int32_t *qweight, const int32_t *qzeros,
                                        const gllmk_f16 *scales, size_t n, size_t k,
                                        size_t group_size, uint8_t *packed, uint8_t *zeros,
                                        gllmk_f16 *scales_out);
/** AutoGPTQ to GPTQ4.  qweight int32[k/8 x n] (8 consecutive input rows per
 *  int32, nibble i = row 8r + i), qzeros int32[n_groups x n/8] (sequential
 *  nibbles), scales f16[n_groups x n], g_idx int32[k] (may be NULL: group
 *  j / (k / n_groups)).  zero_offset is 1 for checkpoints in the original
 *  GPTQ format, which stores zero - 1 (AutoGPTQ "gptq"), 0 for "gptq_v2".
 *  GPTQ4 is symmetric: every zero point must be 8 (else GLLMK_E_UNSUPPORTED,
 *  nothing written).  Writes packed[n x k/2], g_idx_out[k] and
 *  scales_out[n x n_groups].  k and n must be multiples of 8.  GLLMK_E_INVAL
 *  for zero_offset other than 0 or 1, n_groups = 0 with k > 0, a NULL g_idx
 *  with k not a multiple of n_groups, or a g_idx entry out of range (checked
 *  before the zero points). */
GLLMK_API gllmk_status gllmk_repack_gptq(const int32_t *qweight, const int32_t *qzeros,
                                         const gllmk_f16 *scales, const int32_t *g_idx,
                                         size_t n, size_t k, size_t n_groups, int zero_offset,
                                         uint8_t *packed, int32_t *g_idx_out,
                                         gllmk_f16 *scales_out);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_QUANT_H */
