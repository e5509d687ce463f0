/* blocks.h -- the block layouts of the GGUF formats (ggml's, byte for byte)
 * and of SqueezeLLM, plus the activation blocks of the integer dot paths.
 * SPDX-License-Identifier: MIT
 *
 * Every struct is checked against ggml's block size below.
 */
#ifndef GLLMK_QUANT_BLOCKS_H
#define GLLMK_QUANT_BLOCKS_H

#include <stdint.h>

/* the qualifiers of the inline helpers here and in unpack.h: CUDA
 * (cuda/embq.cu) makes them device functions */
#ifndef GLLMK_QFN
#define GLLMK_QFN static inline
#endif
#ifndef GLLMK_QDEV
#define GLLMK_QDEV
#endif

#define QK4_0 32
#define QK8_0 32
#define QK_K 256
#define K_SCALE_SIZE 12

/* Multi-byte fields are byte arrays (little-endian; read them with
 * gllmk__rd16 / gllmk__rd32 / memcpy), so that every struct has alignment 1
 * and a block may start at any address. */
typedef struct { uint8_t d[2]; uint8_t qs[16]; } blk_q4_0;
typedef struct { uint8_t d[2], m[2]; uint8_t qs[16]; } blk_q4_1;
typedef struct { uint8_t d[2]; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_0;
typedef struct { uint8_t d[2], m[2]; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_1;
typedef struct { uint8_t d[2]; int8_t qs[32]; } blk_q8_0;

typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint8_t d[2], dmin[2]; } blk_q2_k;
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint8_t d[2]; } blk_q3_k;
typedef struct { uint8_t d[2], dmin[2]; uint8_t scales[12]; uint8_t qs[128]; } blk_q4_k;
typedef struct { uint8_t d[2], dmin[2]; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } blk_q5_k;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint8_t d[2]; } blk_q6_k;
/* d: f32; bsums: 16 x int16 */
typedef struct { uint8_t d[4]; int8_t qs[256]; uint8_t bsums[32]; } blk_q8_k;

/* qs: 32 x u16 */
typedef struct { uint8_t d[2]; uint8_t qs[64]; } blk_iq2_xxs;
typedef struct { uint8_t d[2]; uint8_t qs[64]; uint8_t scales[8]; } blk_iq2_xs;
typedef struct { uint8_t d[2]; uint8_t qs[64]; uint8_t qh[8]; uint8_t scales[8]; } blk_iq2_s;
typedef struct { uint8_t d[2]; uint8_t qs[96]; } blk_iq3_xxs;
typedef struct { uint8_t d[2]; uint8_t qs[64]; uint8_t qh[8]; uint8_t signs[32]; uint8_t scales[4]; } blk_iq3_s;
/* qh: 8 x u16 */
typedef struct { uint8_t d[2]; uint8_t qs[32]; uint8_t qh[16]; } blk_iq1_s;
/* scales: 4 x u16 (the f16 super-scale lives in their top nibbles) */
typedef struct { uint8_t qs[32]; uint8_t qh[16]; uint8_t scales[8]; } blk_iq1_m;
typedef struct { uint8_t d[2]; uint8_t qs[16]; } blk_iq4_nl;
/* MXFP4: e is an E8M0 exponent (the scale is 2^(e-127), stored halved as
 * 2^(e-128) with the doubled E2M1 levels); value j < 16 in the low nibble of
 * qs[j], value j + 16 in the high nibble */
typedef struct { uint8_t e; uint8_t qs[16]; } blk_mxfp4;
typedef struct { uint8_t d[2]; uint8_t scales_h[2]; uint8_t scales_l[4]; uint8_t qs[128]; } blk_iq4_xs;

/* SqueezeLLM (gllmk's definition): 8 f16 codebook entries, 256 3-bit codes */
typedef struct { uint8_t cb[16]; uint8_t qs[96]; } blk_sqllm;

GLLMK_QFN uint16_t gllmk__rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
GLLMK_QFN uint32_t gllmk__rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
GLLMK_QFN void gllmk__wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
GLLMK_QFN void gllmk__wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

#ifdef __cplusplus
#define GLLMK_BLK_CHECK(t, n) static_assert(sizeof(t) == (n), #t " must be " #n " bytes")
#else
#define GLLMK_BLK_CHECK(t, n) _Static_assert(sizeof(t) == (n), #t " must be " #n " bytes")
#endif
GLLMK_BLK_CHECK(blk_q4_0, 18);
GLLMK_BLK_CHECK(blk_q4_1, 20);
GLLMK_BLK_CHECK(blk_q5_0, 22);
GLLMK_BLK_CHECK(blk_q5_1, 24);
GLLMK_BLK_CHECK(blk_q8_0, 34);
GLLMK_BLK_CHECK(blk_q2_k, 84);
GLLMK_BLK_CHECK(blk_q3_k, 110);
GLLMK_BLK_CHECK(blk_q4_k, 144);
GLLMK_BLK_CHECK(blk_q5_k, 176);
GLLMK_BLK_CHECK(blk_q6_k, 210);
GLLMK_BLK_CHECK(blk_q8_k, 292);
GLLMK_BLK_CHECK(blk_iq2_xxs, 66);
GLLMK_BLK_CHECK(blk_iq2_xs, 74);
GLLMK_BLK_CHECK(blk_iq2_s, 82);
GLLMK_BLK_CHECK(blk_iq3_xxs, 98);
GLLMK_BLK_CHECK(blk_iq3_s, 110);
GLLMK_BLK_CHECK(blk_iq1_s, 50);
GLLMK_BLK_CHECK(blk_iq1_m, 56);
GLLMK_BLK_CHECK(blk_iq4_nl, 18);
GLLMK_BLK_CHECK(blk_mxfp4, 17);
GLLMK_BLK_CHECK(blk_iq4_xs, 136);
GLLMK_BLK_CHECK(blk_sqllm, 112);

/* K-quant 6-bit scale/min packing (q4_K, q5_K) */
GLLMK_QFN void gllmk__scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

#endif /* GLLMK_QUANT_BLOCKS_H */
