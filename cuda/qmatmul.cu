/* qmatmul.cu -- Tables B-D on the device: dequantize, and Y = X . W^T with quantized W
 * SPDX-License-Identifier: MIT
 *
 * Included after embq.cu (one translation unit: kernels.cu), whose
 * gk_embq::decode is the CPU's block decoder (lib/quant/unpack.h) as device
 * code: every GGUF format (qformats.def's rows) decodes to int8 levels q,
 * integer sub-scales isc / imn per 16 values and float d / dmin.
 *
 * gk_dequant_<dt>: the values of nblk format blocks, decoded exactly as
 * gllmk_dequantize (q * (d * isc) - dmin * imn, each product and the
 * difference rounded once, no FMA contraction), rounded once to T.  One
 * thread per format block (its levels in its own slice of shared memory),
 * grid-stride.  SqueezeLLM: the f16 codebook entry of the 3-bit code.
 * gk_xdequant_<dt>: rows [r0, r0 + rows) of the formats with side arrays
 * (AWQ4, GPTQ4, int8 / int4 rows with an f32 scale per row), one thread per
 * 8 values, (q - z) * s as one product as on the CPU (lib/kernels/quant_tpl.h).
 * These feed the prefill path (cuda/ops_quant.c): W decoded to T in the
 * workspace, panel by panel, then the GEMM of cuda/gemm.cu (tensor cores
 * for f16 / bf16, exact f32 FFMA for f32).
 *
 * The decode path (m < 16 activation rows), after ggml-cuda's mmvq:
 *  - gk_qact_<dt>: activations to int8 per chunk of 32 (one warp per chunk):
 *    a = max |x|, dx = a / 127, q = round(x * 127 / a) (so |x - dx q| <=
 *    a / 254, the bound of gllmk/quant_ops.h), and the sum of q per 16
 *    values (for the formats with a min).  A NaN or infinity in a chunk makes
 *    its dx NaN, so every row using it is NaN, as on the CPU.
 *  - gk_qmv_<dt>: a warp handles 32 / tpr rows at a time, tpr = the power of
 *    two >= the row's format blocks (at most 32); lane l of a row takes
 *    blocks l, l + tpr, ...  A lane decodes a block into its own slot of
 *    shared memory (GK_QMV_THREADS slots: no local memory, no sharing), then
 *    per chunk of 32 values and activation row i:
 *        acc_i += dx_i * (d isc_a <q_a, qx_a> + d isc_b <q_b, qx_b>
 *                         - dmin (imn_a S_a + imn_b S_b))
 *    with the 16-value integer dot products on dp4a (int4 loads of the
 *    activations, int loads of the levels) and S the sums of qx.  The lanes of
 *    a row are summed with xor shuffles (a fixed order: the result depends
 *    on the shape only) and the row's first lane writes y[i][row], rounded
 *    once to T.  Weight bytes: each lane reads its block's bytes through L1;
 *    a warp's blocks are adjacent, so a row is read once, in whole lines.
 *  - gk_qmvf_<dt>: the formats without an integer form (SqueezeLLM, AWQ4,
 *    GPTQ4, int8 / int4 rows): the same warp layout over units of 32 values,
 *    decoded to f32 and dotted with the f32 activations (no rounding of x).
 *    GPTQ4's g_idx was checked on the device beforehand (gk_qgidx_check sets
 *    a flag word in the workspace; with a bad index nothing is written).
 *
 * gk_qgemv_<n>_<dt> (Table C gemv_q8/q4/q2/q1): one block, a fixed-order
 * sum, scale * sum written as one float in device memory.
 */
#define GK_QMV_THREADS 128       /* 4 warps; a slot each: 128 x 332 bytes of shared memory */
#define GK_QMV_MAXM 16           /* activation rows of the decode path (m < 16) */
#define GK_DEQ_THREADS 64        /* gk_dequant: blocks per thread block (64 slots) */
#define GK_XDEQ_THREADS 256
#define GK_QGEMV_THREADS 512

/* formats with side arrays (ops_quant.c: XF_*) */
#define GK_XF_AWQ4 0
#define GK_XF_GPTQ4 1
#define GK_XF_SQLLM 2
#define GK_XF_I8 3
#define GK_XF_I4 4

namespace gk_qmm {

/* value j (< 256) of a SqueezeLLM block: the f16 entry of its 3-bit code */
__device__ __forceinline__ float sqllm(const uint8_t *blk, unsigned j) {
  unsigned b = 3u * j, w = blk[16 + b / 8];
  if ((b & 7) > 5) w |= (unsigned)blk[16 + b / 8 + 1] << 8;
  return gllmk__ldh(blk + 2 * ((w >> (b & 7)) & 7));
}

/* ------------------------------------------------------------------ dequantize */
template <class T>
__device__ __forceinline__ void dequant(const uint8_t *src, size_t nblk, int fmt, size_t bs,
                                        size_t bb, T *out) {
  GK_SHARED(gk_embq::slot, slots, GK_DEQ_THREADS);
  gk_embq::slot &sl = slots[threadIdx.x];
  for (size_t b = (size_t)blockIdx.x * blockDim.x + threadIdx.x; b < nblk;
       b += (size_t)gridDim.x * blockDim.x) {
    const uint8_t *blk = src + b * bb;
    T *o = out + b * bs;
    if (fmt == GK_EMBQ_SQLLM) {
      for (unsigned j = 0; j < 256; j++) gk_st1(o + j, sqllm(blk, j));
      continue;
    }
    gk_embq::decode(fmt, blk, sl);
    for (size_t j = 0; j < bs; j++) {
      size_t g = j / 16;
      float wsc = __fmul_rn(sl.s.d, (float)sl.s.isc[g]);
      float v = __fmul_rn((float)sl.q[j], wsc);
      if (sl.s.has_min) v = __fsub_rn(v, __fmul_rn(sl.s.dmin, (float)sl.s.imn[g]));
      gk_st1(o + j, v);
    }
  }
}

/* the side-array formats: what one call describes */
struct xw {
  const uint8_t *w;        /* rows of rb bytes */
  size_t rb, k;
  const uint8_t *zeros;    /* AWQ4: nibbles, zb bytes a row */
  size_t zb;
  const void *scales;      /* AWQ4 / GPTQ4: f16 [n x groups]; I8 / I4: f32 [n] */
  size_t groups;
  const int32_t *g_idx;    /* GPTQ4 */
  int xf;
};

/* values c .. c + nv - 1 of row r (c % 8 == 0, 0 < nv <= 8, c + nv <= k) in f32,
 * zeros after them */
template <int XF>
__device__ __forceinline__ void xvals(const xw &p, size_t r, size_t c, int nv, float v[8]) {
  const uint8_t *row = p.w + r * p.rb;
#pragma unroll
  for (int j = 0; j < 8; j++) v[j] = 0.0f;
  if (XF == GK_XF_I8) {
    float s = ((const float *)p.scales)[r];
#pragma unroll
    for (int j = 0; j < 8; j++)
      if (j < nv) v[j] = __fmul_rn((float)(int8_t)row[c + j], s);
    return;
  }
  if (XF == GK_XF_SQLLM) {
    /* 8 codes from c (c % 8 == 0): the 3 bytes from bit 3 (c % 256) */
    const uint8_t *blk = row + c / 256 * 112, *cb = blk + 16 + 3 * (c % 256) / 8;
    unsigned w = cb[0] | (unsigned)cb[1] << 8 | (unsigned)cb[2] << 16;
#pragma unroll
    for (int j = 0; j < 8; j++)
      if (j < nv) v[j] = gllmk__ldh(blk + 2 * ((w >> (3 * j)) & 7));
    return;
  }
  int q[8];
#pragma unroll
  for (int j = 0; j < 4; j++) {
    unsigned b = 2 * j < nv ? row[c / 2 + j] : 0u;
    q[2 * j] = (int)(b & 15), q[2 * j + 1] = (int)(b >> 4);
  }
  const uint16_t *sc = (const uint16_t *)p.scales;
  if (XF == GK_XF_I4) {
    float s = ((const float *)p.scales)[r];
#pragma unroll
    for (int j = 0; j < 8; j++)
      if (j < nv) v[j] = __fmul_rn((float)(q[j] - 8), s);
  } else if (XF == GK_XF_AWQ4) {
    size_t g = c / 128;
    int z = (p.zeros[r * p.zb + g / 2] >> (4 * (g & 1))) & 15;
    float s = gllmk__ldh((const uint8_t *)(sc + r * p.groups + g));
#pragma unroll
    for (int j = 0; j < 8; j++)
      if (j < nv) v[j] = __fmul_rn((float)(q[j] - z), s);
  } else {   /* GPTQ4 */
#pragma unroll
    for (int j = 0; j < 8; j++)
      if (j < nv) {
      float s = gllmk__ldh((const uint8_t *)(sc + r * p.groups + p.g_idx[c + j]));
      v[j] = __fmul_rn((float)(q[j] - 8), s);
    }
  }
}

/* rows [r0, r0 + rows) of a side-array matrix to T, row-major [rows x k];
 * flag: GPTQ4's g_idx check (nonzero: write nothing) */
template <class T>
__device__ __forceinline__ void xdequant(xw p, size_t r0, size_t rows, T *out, const unsigned *flag) {
  if (flag && *flag) return;
  size_t per = (p.k + 7) / 8, items = rows * per;
  for (size_t it = (size_t)blockIdx.x * blockDim.x + threadIdx.x; it < items;
       it += (size_t)gridDim.x * blockDim.x) {
    size_t r = it / per, c = it % per * 8;
    int nv = p.k - c < 8 ? (int)(p.k - c) : 8;
    float v[8];
    switch (p.xf) {
    case GK_XF_AWQ4: xvals<GK_XF_AWQ4>(p, r0 + r, c, nv, v); break;
    case GK_XF_GPTQ4: xvals<GK_XF_GPTQ4>(p, r0 + r, c, nv, v); break;
    case GK_XF_SQLLM: xvals<GK_XF_SQLLM>(p, r0 + r, c, nv, v); break;
    case GK_XF_I8: xvals<GK_XF_I8>(p, r0 + r, c, nv, v); break;
    default: xvals<GK_XF_I4>(p, r0 + r, c, nv, v); break;
    }
    T *o = out + r * p.k + c;
#pragma unroll
    for (int j = 0; j < 8; j++)
      if (j < nv) gk_st1(o + j, v[j]);
  }
}

/* ------------------------------------------------------------------ activations */
/* x [m x k] (k % 32 == 0) -> qx int8 [m x k], dx [m x k/32], s16 [m x k/16] */
template <class T>
__device__ __forceinline__ void qact(const T *x, size_t chunks, int8_t *qx, float *dx, int *s16) {
  unsigned lane = threadIdx.x & 31;
  size_t w = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  size_t nw = ((size_t)gridDim.x * blockDim.x) >> 5;
  for (size_t c = w; c < chunks; c += nw) {
    float v = gk_ld1(x + c * 32 + lane);
    int bad = __any_sync(0xffffffffu, !(fabsf(v) <= 3.402823466e38f));   /* NaN or inf */
    float a = fabsf(v);
    for (int o = 16; o; o >>= 1) a = fmaxf(a, __shfl_xor_sync(0xffffffffu, a, o));
    int q = 0;
    if (!bad && a > 0.0f) {
      q = __float2int_rn(v * (127.0f / a));
      q = q > 127 ? 127 : q < -127 ? -127 : q;
    }
    qx[c * 32 + lane] = (int8_t)q;
    int s = q;
    for (int o = 8; o; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);   /* within 16 lanes */
    if ((lane & 15) == 0) s16[c * 2 + lane / 16] = s;
    if (lane == 0) dx[c] = bad ? __int_as_float(0x7fc00000) : a / 127.0f;
  }
}

/* the lanes of a row (tpr of them, aligned) sum their accumulators; the
 * row's first lane writes y[i * n + row] */
template <class T, int MAXM = GK_QMV_MAXM>
__device__ __forceinline__ void row_out(float acc[GK_QMV_MAXM], unsigned tpr, unsigned lane,
                                        size_t row, size_t n, size_t m, T *y, bool live) {
#pragma unroll
  for (int i = 0; i < MAXM; i++) {
    for (unsigned o = tpr / 2; o; o >>= 1) acc[i] += __shfl_xor_sync(0xffffffffu, acc[i], o);
    if (live && (size_t)i < m && lane % tpr == 0) gk_st1(y + (size_t)i * n + row, acc[i]);
  }
}

/* ------------------------------------------------------------------ decode GEMV, integer */
template <class T>
__device__ __forceinline__ void qmv(const uint8_t *w, size_t rb, int fmt, size_t bs, size_t bb,
                                    size_t m, size_t n, size_t k, const int8_t *qx,
                                    const float *dx, const int *s16, T *y) {
  GK_SHARED(gk_embq::slot, slots, GK_QMV_THREADS);
  gk_embq::slot &sl = slots[threadIdx.x];
  unsigned lane = threadIdx.x & 31;
  size_t bpr = k / bs;
  unsigned tpr = 1;
  while (tpr < 32 && tpr < bpr) tpr *= 2;
  unsigned rpw = 32 / tpr;   /* rows per warp pass */
  size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  size_t nw = ((size_t)gridDim.x * blockDim.x) >> 5;
  size_t kc = k / 32;
  for (size_t r0 = warp * rpw; r0 < n; r0 += nw * rpw) {   /* warp-uniform */
    size_t row = r0 + lane / tpr;
    bool live = row < n;
    float acc[GK_QMV_MAXM];
#pragma unroll
    for (int i = 0; i < GK_QMV_MAXM; i++) acc[i] = 0.0f;
    for (size_t b = lane % tpr; live && b < bpr; b += tpr) {
      gk_embq::decode(fmt, w + row * rb + b * bb, sl);
      for (size_t cc = 0; cc < bs / 32; cc++) {
        size_t ch = b * (bs / 32) + cc;   /* chunk of the row */
        float wa = sl.s.d * (float)sl.s.isc[2 * cc], wb = sl.s.d * (float)sl.s.isc[2 * cc + 1];
        float ma = 0.0f, mb = 0.0f;
        if (sl.s.has_min) ma = sl.s.dmin * (float)sl.s.imn[2 * cc], mb = sl.s.dmin * (float)sl.s.imn[2 * cc + 1];
        const int *qw = (const int *)(sl.q + cc * 32);
        int w4[8];
#pragma unroll
        for (int j = 0; j < 8; j++) w4[j] = qw[j];
#pragma unroll
        for (int i = 0; i < GK_QMV_MAXM; i++) {
          if ((size_t)i >= m) break;
          const int8_t *xr = qx + (size_t)i * k + ch * 32;
          uint4 x0 = *(const uint4 *)xr, x1 = *(const uint4 *)(xr + 16);
          int ia = gk_dp4a(w4[0], (int)x0.x, 0);
          ia = gk_dp4a(w4[1], (int)x0.y, ia);
          ia = gk_dp4a(w4[2], (int)x0.z, ia);
          ia = gk_dp4a(w4[3], (int)x0.w, ia);
          int ib = gk_dp4a(w4[4], (int)x1.x, 0);
          ib = gk_dp4a(w4[5], (int)x1.y, ib);
          ib = gk_dp4a(w4[6], (int)x1.z, ib);
          ib = gk_dp4a(w4[7], (int)x1.w, ib);
          float t = wa * (float)ia + wb * (float)ib;
          if (sl.s.has_min) {
            const int *s = s16 + (size_t)i * (k / 16) + 2 * ch;
            t -= ma * (float)s[0] + mb * (float)s[1];
          }
          acc[i] += dx[(size_t)i * kc + ch] * t;
        }
      }
    }
    row_out(acc, tpr, lane, row, n, m, y, live);
  }
}

/* ------------------------------------------------------------------ decode GEMV, Q4_K */
/* Q4_K (the format of most weights of a Q4_K_M file), rows 16-byte aligned:
 * a warp per row, 8 lanes per 144-byte block (4 blocks per warp step).  Lane
 * s of a block loads the block's 16-byte head (d, dmin, the 12 scale bytes:
 * one request for its 8 lanes) and 16 bytes of qs: nibbles of sub-blocks 2j
 * (low) and 2j + 1 (high), j = s / 2, values 64 j + 16 (s % 2) .. + 15 and
 * 32 later.  Its activations: two 16-byte int8 loads per row of x, the
 * chunks' dx and the 16-value sums; 8 dp4a per row of x.  The 32 lanes are
 * summed with xor shuffles (a fixed order); lane 0 writes y.  A second
 * instance for one row of x (decode of one sequence) keeps one accumulator:
 * fewer registers, more warps in flight. */
__device__ __forceinline__ void q4k_scale_min(const unsigned sc3[3], unsigned sb, int &sc, int &mn) {
  /* scales[12] as 3 little-endian words; shifts, no indexing (registers only) */
  unsigned sh = 8 * (sb & 3), b0 = (sc3[0] >> sh) & 0xFF, b1 = (sc3[1] >> sh) & 0xFF;
  if (sb < 4) {
    sc = (int)(b0 & 63), mn = (int)(b1 & 63);
  } else {
    unsigned b2 = (sc3[2] >> sh) & 0xFF;
    sc = (int)((b2 & 0xF) | ((b0 >> 6) << 4));
    mn = (int)((b2 >> 4) | ((b1 >> 6) << 4));
  }
}

template <class T, int MAXM>
__device__ __forceinline__ void qmv_q4k(const uint8_t *w, size_t rb, size_t m, size_t n, size_t k,
                                        const int8_t *qx, const float *dx, const int *s16, T *y) {
  unsigned lane = threadIdx.x & 31, sl = lane & 7, j = sl / 2, half = sl % 2;
  size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  size_t nw = ((size_t)gridDim.x * blockDim.x) >> 5;
  size_t bpr = k / 256, kc = k / 32, k16 = k / 16;
  for (size_t row = warp; row < n; row += nw) {   /* warp-uniform */
    float acc[GK_QMV_MAXM];   /* (MAXM of them used: the rest stay 0) */
#pragma unroll
    for (int i = 0; i < GK_QMV_MAXM; i++) acc[i] = 0.0f;
    const uint8_t *wr = w + row * rb;
    for (size_t b = lane / 8; b < bpr; b += 4) {
      const uint8_t *blk = wr + b * 144;
      uint4 h = gk_ldg16(blk), qv = gk_ldg16(blk + 16 + 16 * sl);
      unsigned sc3[3] = {h.y, h.z, h.w};
      int sc0, mn0, sc1, mn1;
      q4k_scale_min(sc3, 2 * j, sc0, mn0);
      q4k_scale_min(sc3, 2 * j + 1, sc1, mn1);
      gk_half hd = {(unsigned short)(h.x & 0xFFFF)}, hm = {(unsigned short)(h.x >> 16)};
      float d = gk_to_f32(hd), dmin = gk_to_f32(hm);
      float w0 = d * (float)sc0, w1 = d * (float)sc1, m0 = dmin * (float)mn0, m1 = dmin * (float)mn1;
      int lo[4] = {(int)(qv.x & 0x0F0F0F0Fu), (int)(qv.y & 0x0F0F0F0Fu), (int)(qv.z & 0x0F0F0F0Fu),
                   (int)(qv.w & 0x0F0F0F0Fu)};
      int hi[4] = {(int)((qv.x >> 4) & 0x0F0F0F0Fu), (int)((qv.y >> 4) & 0x0F0F0F0Fu),
                   (int)((qv.z >> 4) & 0x0F0F0F0Fu), (int)((qv.w >> 4) & 0x0F0F0F0Fu)};
      size_t c0 = b * 8 + 2 * j;   /* the chunks of 32 of sub-blocks 2j and 2j + 1 */
#pragma unroll
      for (int i = 0; i < MAXM; i++) {
        if ((size_t)i >= m) break;
        const int8_t *xr = qx + (size_t)i * k + b * 256 + 64 * j + 16 * half;
        uint4 xa = *(const uint4 *)xr, xb = *(const uint4 *)(xr + 32);
        int ia = gk_dp4a(lo[0], (int)xa.x, 0);
        ia = gk_dp4a(lo[1], (int)xa.y, ia);
        ia = gk_dp4a(lo[2], (int)xa.z, ia);
        ia = gk_dp4a(lo[3], (int)xa.w, ia);
        int ib = gk_dp4a(hi[0], (int)xb.x, 0);
        ib = gk_dp4a(hi[1], (int)xb.y, ib);
        ib = gk_dp4a(hi[2], (int)xb.z, ib);
        ib = gk_dp4a(hi[3], (int)xb.w, ib);
        const int *s = s16 + (size_t)i * k16 + 2 * c0 + half;
        const float *dxr = dx + (size_t)i * kc + c0;
        acc[i] += dxr[0] * (w0 * (float)ia - m0 * (float)s[0]) + dxr[1] * (w1 * (float)ib - m1 * (float)s[2]);
      }
    }
    row_out<T, MAXM>(acc, 32, lane, row, n, m, y, true);
  }
}

/* ------------------------------------------------------------------ decode GEMV, float */
template <class T, int XF>
__device__ __forceinline__ void qmvf_t(const xw &p, size_t m, size_t n, const T *x, T *y) {
  unsigned lane = threadIdx.x & 31;
  size_t k = p.k, units = (k + 31) / 32;
  unsigned tpr = 1;
  while (tpr < 32 && tpr < units) tpr *= 2;
  unsigned rpw = 32 / tpr;
  size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  size_t nw = ((size_t)gridDim.x * blockDim.x) >> 5;
  for (size_t r0 = warp * rpw; r0 < n; r0 += nw * rpw) {
    size_t row = r0 + lane / tpr;
    bool live = row < n;
    float acc[GK_QMV_MAXM];
#pragma unroll
    for (int i = 0; i < GK_QMV_MAXM; i++) acc[i] = 0.0f;
    for (size_t u = lane % tpr; live && u < units; u += tpr) {
      for (int h = 0; h < 4; h++) {
        float v[8];
        size_t c = u * 32 + 8 * h;
        if (c >= k) break;
        int nv = k - c < 8 ? (int)(k - c) : 8;
        xvals<XF>(p, row, c, nv, v);
#pragma unroll
        for (int i = 0; i < GK_QMV_MAXM; i++) {
          if ((size_t)i >= m) break;
          const T *xr = x + (size_t)i * k + c;
          float s = acc[i];
#pragma unroll
          for (int j = 0; j < 8; j++)
            if (j < nv) s = fmaf(v[j], gk_ld1(xr + j), s);
          acc[i] = s;
        }
      }
    }
    row_out(acc, tpr, lane, row, n, m, y, live);
  }
}

/* GPTQ4: *flag = some g_idx[j] (j < k) outside [0, groups); one block */
__device__ __forceinline__ void gidx_check(const int32_t *g_idx, size_t k, size_t groups,
                                           unsigned *flag) {
  int bad = 0;
  for (size_t j = threadIdx.x; j < k; j += blockDim.x)
    bad |= g_idx[j] < 0 || (size_t)g_idx[j] >= groups;
  bad = __syncthreads_or(bad);
  if (threadIdx.x == 0) *flag = bad != 0;
}

/* ------------------------------------------------------------------ Table C gemv_q<bits> */
/* *result = scale * sum w_i x_i (w's values: q8 int8; q4 q - 8; q2 q - 2; q1 +-1) */
template <class T, int BITS>
__device__ __forceinline__ void qgemv(const uint8_t *w, const T *x, float scale, size_t n,
                                      float *result) {
  GK_SHARED(float, part, GK_QGEMV_THREADS);
  float s = 0.0f;
  for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
    int q;
    if (BITS == 8) {
      q = (int8_t)w[i];
    } else {
      unsigned per = 8 / BITS, v = (w[i / per] >> (BITS * (i % per))) & ((1u << BITS) - 1);
      q = BITS == 4 ? (int)v - 8 : BITS == 2 ? (int)v - 2 : (v ? 1 : -1);
    }
    s = fmaf((float)q, gk_ld1(x + i), s);
  }
  part[threadIdx.x] = s;
  __syncthreads();
  for (unsigned o = blockDim.x / 2; o; o >>= 1) {
    if (threadIdx.x < o) part[threadIdx.x] += part[threadIdx.x + o];
    __syncthreads();
  }
  if (threadIdx.x == 0) *result = scale * part[0];
}

/* out[rows x ld_out] columns [0, cols) = in [rows x cols] (the prefill's panels);
 * nothing when *flag is set (GPTQ4's bad g_idx) */
template <class T>
__device__ __forceinline__ void copy_cols(const T *in, size_t rows, size_t cols, T *out,
                                          size_t ld_out, const unsigned *flag) {
  if (flag && *flag) return;
  size_t total = rows * cols;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (size_t)gridDim.x * blockDim.x)
    out[i / cols * ld_out + i % cols] = in[i];
}

} /* namespace gk_qmm */

/* gemm.cu's fused Q4_K prefill: values v .. v + 7 of a Q4_K block (v % 8 ==
 * 0: one sub-block's nibbles, low for even sub-blocks), each q (d sc) - dmin
 * mn with the products and the difference rounded once, as gk_dequant, then
 * rounded to T: W's tile in shared memory has gk_dequant's bits */
template <class T> __device__ __forceinline__ uint4 gk_q4k_chunk(const uint8_t *blk, unsigned v) {
  unsigned sb = v / 32, j = sb / 2, l = v % 32;
  uint4 h = gk_ldg16(blk);
  uint2 q = *(const uint2 *)(blk + 16 + 32 * j + l);
  unsigned sc3[3] = {h.y, h.z, h.w};
  int sc, mn;
  gk_qmm::q4k_scale_min(sc3, sb, sc, mn);
  gk_half hd = {(unsigned short)(h.x & 0xFFFF)}, hm = {(unsigned short)(h.x >> 16)};
  float wsc = __fmul_rn(gk_to_f32(hd), (float)sc), wmn = __fmul_rn(gk_to_f32(hm), (float)mn);
  unsigned out[4];
#pragma unroll
  for (int e = 0; e < 8; e += 2) {
    unsigned b0 = ((e < 4 ? q.x : q.y) >> (8 * (e % 4))) & 0xFF;
    unsigned b1 = ((e < 4 ? q.x : q.y) >> (8 * (e % 4 + 1))) & 0xFF;
    unsigned q0 = sb & 1 ? b0 >> 4 : b0 & 15, q1 = sb & 1 ? b1 >> 4 : b1 & 15;
    float v0 = __fsub_rn(__fmul_rn((float)q0, wsc), wmn), v1 = __fsub_rn(__fmul_rn((float)q1, wsc), wmn);
    out[e / 2] = (unsigned)gk_from_f32<T>(v0).x | (unsigned)gk_from_f32<T>(v1).x << 16;
  }
  return make_uint4(out[0], out[1], out[2], out[3]);
}

#define GK_QGEMM_Q4K_KERNELS(T, dt)                                                              \
  extern "C" __global__ void __launch_bounds__(128, 2)                                           \
  gk_qgemm_q4k_128_##dt(const T *A, const uint8_t *W, T *C, size_t m, size_t n, size_t k,        \
                        unsigned flags, int stages) {                                            \
    gk_gemm::hmma<T, 128, 128, 2, 2, true, true>::run(A, (const T *)W, NULL, C, m, n, k, flags,  \
                                                       stages);                                  \
  }                                                                                              \
  GK_EXPORT(gk_qgemm_q4k_128_##dt);                                                              \
  extern "C" __global__ void __launch_bounds__(128, 4)                                           \
  gk_qgemm_q4k_64_##dt(const T *A, const uint8_t *W, T *C, size_t m, size_t n, size_t k,         \
                       unsigned flags, int stages) {                                             \
    gk_gemm::hmma<T, 64, 64, 2, 2, true, true>::run(A, (const T *)W, NULL, C, m, n, k, flags,    \
                                                     stages);                                    \
  }                                                                                              \
  GK_EXPORT(gk_qgemm_q4k_64_##dt);

GK_QGEMM_Q4K_KERNELS(gk_half, f16)
GK_QGEMM_Q4K_KERNELS(gk_bf16, bf16)

/* the float-path GEMV, one kernel per format (one format's decode per body) */
#define GK_QMVF_KERNEL(T, dt, fname, XF)                                                         \
  extern "C" __global__ void __launch_bounds__(GK_QMV_THREADS, 1)                                \
  gk_qmvf_##fname##_##dt(const uint8_t *w, size_t rb, size_t k, const uint8_t *zeros, size_t zb, \
                         const void *scales, size_t groups, const int32_t *g_idx, size_t m,      \
                         size_t n, const T *x, T *y, const unsigned *flag) {                     \
    gk_qmm::xw p = {w, rb, k, zeros, zb, scales, groups, g_idx, XF};                             \
    if (flag && *flag) return;                                                                   \
    gk_qmm::qmvf_t<T, XF>(p, m, n, x, y);                                                        \
  }                                                                                              \
  GK_EXPORT(gk_qmvf_##fname##_##dt);

#define GK_QMM_KERNELS(T, dt)                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_DEQ_THREADS)                                   \
  gk_dequant_##dt(const uint8_t *src, size_t nblk, int fmt, size_t bs, size_t bb, T *out) {      \
    gk_qmm::dequant<T>(src, nblk, fmt, bs, bb, out);                                             \
  }                                                                                              \
  GK_EXPORT(gk_dequant_##dt);                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_XDEQ_THREADS)                                  \
  gk_xdequant_##dt(const uint8_t *w, size_t rb, size_t k, const uint8_t *zeros, size_t zb,      \
                   const void *scales, size_t groups, const int32_t *g_idx, int xf, size_t r0,   \
                   size_t rows, T *out, const unsigned *flag) {                                  \
    gk_qmm::xw p = {w, rb, k, zeros, zb, scales, groups, g_idx, xf};                             \
    gk_qmm::xdequant<T>(p, r0, rows, out, flag);                                                 \
  }                                                                                              \
  GK_EXPORT(gk_xdequant_##dt);                                                                   \
  extern "C" __global__ void __launch_bounds__(256)                                              \
  gk_qact_##dt(const T *x, size_t chunks, int8_t *qx, float *dx, int *s16) {                     \
    gk_qmm::qact<T>(x, chunks, qx, dx, s16);                                                     \
  }                                                                                              \
  GK_EXPORT(gk_qact_##dt);                                                                       \
  extern "C" __global__ void __launch_bounds__(GK_QMV_THREADS)                                   \
  gk_qmv_##dt(const uint8_t *w, size_t rb, int fmt, size_t bs, size_t bb, size_t m, size_t n,   \
              size_t k, const int8_t *qx, const float *dx, const int *s16, T *y) {               \
    gk_qmm::qmv<T>(w, rb, fmt, bs, bb, m, n, k, qx, dx, s16, y);                                 \
  }                                                                                              \
  GK_EXPORT(gk_qmv_##dt);                                                                        \
  extern "C" __global__ void __launch_bounds__(GK_QMV_THREADS)                                   \
  gk_qmv_q4k_##dt(const uint8_t *w, size_t rb, size_t m, size_t n, size_t k, const int8_t *qx,   \
                  const float *dx, const int *s16, T *y) {                                       \
    gk_qmm::qmv_q4k<T, GK_QMV_MAXM>(w, rb, m, n, k, qx, dx, s16, y);                             \
  }                                                                                              \
  GK_EXPORT(gk_qmv_q4k_##dt);                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_QMV_THREADS)                                   \
  gk_qmv_q4k_m1_##dt(const uint8_t *w, size_t rb, size_t m, size_t n, size_t k,                  \
                     const int8_t *qx, const float *dx, const int *s16, T *y) {                  \
    gk_qmm::qmv_q4k<T, 1>(w, rb, m, n, k, qx, dx, s16, y);                                       \
  }                                                                                              \
  GK_EXPORT(gk_qmv_q4k_m1_##dt);                                                                 \
  GK_QMVF_KERNEL(T, dt, awq4, GK_XF_AWQ4)                                                        \
  GK_QMVF_KERNEL(T, dt, gptq4, GK_XF_GPTQ4)                                                      \
  GK_QMVF_KERNEL(T, dt, sqllm, GK_XF_SQLLM)                                                      \
  GK_QMVF_KERNEL(T, dt, i8, GK_XF_I8)                                                            \
  GK_QMVF_KERNEL(T, dt, i4, GK_XF_I4)                                                            \
  extern "C" __global__ void __launch_bounds__(GK_QGEMV_THREADS)                                 \
  gk_qgemv8_##dt(const uint8_t *w, const T *x, float scale, size_t n, float *result) {          \
    gk_qmm::qgemv<T, 8>(w, x, scale, n, result);                                                 \
  }                                                                                              \
  GK_EXPORT(gk_qgemv8_##dt);                                                                     \
  extern "C" __global__ void __launch_bounds__(GK_QGEMV_THREADS)                                 \
  gk_qgemv4_##dt(const uint8_t *w, const T *x, float scale, size_t n, float *result) {          \
    gk_qmm::qgemv<T, 4>(w, x, scale, n, result);                                                 \
  }                                                                                              \
  GK_EXPORT(gk_qgemv4_##dt);                                                                     \
  extern "C" __global__ void __launch_bounds__(GK_QGEMV_THREADS)                                 \
  gk_qgemv2_##dt(const uint8_t *w, const T *x, float scale, size_t n, float *result) {          \
    gk_qmm::qgemv<T, 2>(w, x, scale, n, result);                                                 \
  }                                                                                              \
  GK_EXPORT(gk_qgemv2_##dt);                                                                     \
  extern "C" __global__ void __launch_bounds__(GK_QGEMV_THREADS)                                 \
  gk_qgemv1_##dt(const uint8_t *w, const T *x, float scale, size_t n, float *result) {          \
    gk_qmm::qgemv<T, 1>(w, x, scale, n, result);                                                 \
  }                                                                                              \
  GK_EXPORT(gk_qgemv1_##dt);                                                                     \
  extern "C" __global__ void __launch_bounds__(256)                                              \
  gk_copy_cols_##dt(const T *in, size_t rows, size_t cols, T *out, size_t ld_out,                \
                    const unsigned *flag) {                                                      \
    gk_qmm::copy_cols<T>(in, rows, cols, out, ld_out, flag);                                     \
  }                                                                                              \
  GK_EXPORT(gk_copy_cols_##dt);

GK_QMM_KERNELS(float, f32)
GK_QMM_KERNELS(gk_half, f16)
GK_QMM_KERNELS(gk_bf16, bf16)

extern "C" __global__ void __launch_bounds__(256)
gk_qgidx_check(const int32_t *g_idx, size_t k, size_t groups, unsigned *flag) {
  gk_qmm::gidx_check(g_idx, k, groups, flag);
}
GK_EXPORT(gk_qgidx_check);
