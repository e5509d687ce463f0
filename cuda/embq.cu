/* embq.cu -- embedding_lookup_q: rows of a quantized table (GGUF block formats, SqueezeLLM)
 * SPDX-License-Identifier: MIT
 *
 * out[i x hidden] = row ids[i] of the table, decoded exactly as
 * gllmk_dequantize does on the CPU: the block decoders are the CPU's own
 * (lib/quant/unpack.h, compiled here as device functions; the IQ grids of
 * lib/quant/iq_tables.c in device memory), and a value is, as in
 * lib/kernels/quant_tpl.h, q * (d * isc) - dmin * imn with each product and
 * the difference rounded once (__fmul_rn, __fsub_rn: no contraction into an
 * FMA), then rounded once to T.  SqueezeLLM: the f16 codebook entry of the
 * 3-bit code.
 *
 * One thread decodes one block of the format (32 or 256 values) into its
 * own GK_EMBQ_THREADS-th of the block's shared memory (int8 levels and the
 * scales: no local memory) and writes its values.  Work items are (row,
 * chunk of GK_EMBQ_THREADS format blocks), grid-stride.  The ids are checked
 * as embed.cu does (inline for few ids, else by gk_embedding_check_u32 into
 * flags): when one is >= vocab nothing is written.
 */
#include "gk_float.cuh"

#include <stdint.h>
#include <string.h>

/* the CPU's decoders as device code */
#define GLLMK_QFN static __device__ __forceinline__
#define GLLMK_QDEV __device__
#define GLLMK_IQ_HIDDEN __device__
#define GLLMK_IQ_DEF __device__
#define restrict __restrict__
GLLMK_QFN float sf32_from_f16(uint16_t h) {
  gk_half x = {h};
  return gk_to_f32(x);
}
GLLMK_QFN void vi8_nib16_lut(const uint8_t *s, int8_t *lo, int8_t *hi, const int8_t *lut) {
  for (int j = 0; j < 16; j++) lo[j] = lut[s[j] & 15], hi[j] = lut[s[j] >> 4];
}
#include "simd/fp16.h"                        /* (host functions) ... */
#define gllmk__h2f(h) sf32_from_f16(h)         /* ... unpack.h's f16 loads on the device */
#include "../lib/quant/unpack.h"
#include "../lib/quant/iq_tables.c"
#undef gllmk__h2f
#undef restrict

#define GK_EMBQ_THREADS 64   /* format blocks per work item: 64 x 256 int8 levels = 16 KiB */
#include "../lib/quant/qfcount.h"
#define GK_EMBQ_SQLLM GLLMK_NQFMT  /* the format index of SqueezeLLM (before it: qformats.def's rows) */

namespace gk_embq {

struct slot {
  int8_t q[256];
  gllmk__qblk s;
};

/* decode format block blk of format fmt into sl; its values per block */
__device__ __forceinline__ void decode(int fmt, const uint8_t *blk, slot &sl) {
  int i = 0;
#define GLLMK_QFMT(tok, T, name, vpb, bpb, kind, dot, ...)                                            \
  if (fmt == i) {                                                                                \
    gllmk__unpack_##tok(blk, sl.q, &sl.s);                                                       \
    return;                                                                                      \
  }                                                                                              \
  i++;
#include "../lib/quant/qformats.def"
#undef GLLMK_QFMT
}

template <class T>
__device__ __forceinline__ void embq(const uint32_t *ids, size_t n_ids, const uint8_t *table,
                                     size_t rb, int fmt, size_t bs, size_t vocab, size_t hidden,
                                     T *out, const unsigned *flags, unsigned nflags) {
  GK_SHARED(slot, slots, GK_EMBQ_THREADS);
  unsigned tid = threadIdx.x;
  int bad = 0;
  if (nflags == 0) {
    for (size_t k = tid; k < n_ids; k += blockDim.x) bad |= ids[k] >= vocab;
    bad = __syncthreads_or(bad);
  } else {
    for (unsigned i = 0; i < nflags; i++) bad |= flags[i] != 0;
  }
  if (bad) return;
  size_t bpr = hidden / bs, chunks = (bpr + GK_EMBQ_THREADS - 1) / GK_EMBQ_THREADS;
  size_t bbytes = rb / bpr;
  slot &sl = slots[tid];
  for (size_t item = blockIdx.x; item < n_ids * chunks; item += gridDim.x) {
    size_t r = item / chunks, fb = item % chunks * GK_EMBQ_THREADS + tid;
    size_t id = ids[r];
    if (id >= vocab || fb >= bpr) continue;   /* (ids checked above) */
    const uint8_t *blk = table + id * rb + fb * bbytes;
    T *o = out + r * hidden + fb * bs;
    if (fmt == GK_EMBQ_SQLLM) {   /* 8 f16 entries, then 256 3-bit codes, little-endian */
      for (int j = 0; j < 256; j++) {
        unsigned b = 3u * j, w = blk[16 + b / 8];
        if ((b & 7) > 5) w |= (unsigned)blk[16 + b / 8 + 1] << 8;
        gk_st1(o + j, gllmk__ldh(blk + 2 * ((w >> (b & 7)) & 7)));
      }
      continue;
    }
    decode(fmt, blk, sl);
    for (size_t j = 0; j < bs; j++) {
      size_t g = j / 16;
      float wsc = __fmul_rn(sl.s.d, (float)sl.s.isc[g]);
      float v = __fmul_rn((float)sl.q[j], wsc);
      if (sl.s.has_min) v = __fsub_rn(v, __fmul_rn(sl.s.dmin, (float)sl.s.imn[g]));
      gk_st1(o + j, v);
    }
  }
}

} /* namespace gk_embq */

#define GK_EMBQ_KERNEL(T, dt)                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_EMBQ_THREADS)                                  \
  gk_embedding_lookup_q_##dt(const uint32_t *ids, size_t n_ids, const uint8_t *table, size_t rb, \
                             int fmt, size_t bs, size_t vocab, size_t hidden, T *out,            \
                             const unsigned *flags, unsigned nflags) {                           \
    gk_embq::embq<T>(ids, n_ids, table, rb, fmt, bs, vocab, hidden, out, flags, nflags);         \
  }                                                                                              \
  GK_EXPORT(gk_embedding_lookup_q_##dt);

GK_EMBQ_KERNEL(float, f32)
GK_EMBQ_KERNEL(gk_half, f16)
GK_EMBQ_KERNEL(gk_bf16, bf16)
