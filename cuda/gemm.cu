/* gemm.cu -- C[m x n] = A[m x k] . B[k x n] (+ bias[n] on every row), row-major
 * SPDX-License-Identifier: MIT
 *
 * Each kernel also comes in an NT form (gk_gemm_nt_*: a template flag, BT)
 * that reads B as W [n x k], the LLM layout of linear: C = A . W^T.  What
 * changes is only how B reaches the registers: a W tile (BN rows of n, 32 of
 * k) is stored in shared memory exactly as an A tile is (rows of 4 chunks,
 * swizzle (row / 2) % 4) and loaded with ldmatrix.x4 *without* .trans (the
 * rows of W are the columns of the mma's B operand: matrix j of the x4 is
 * n8 tile j / 2, k half j % 2); the f32 kernels store W transposed, padded
 * as A.  BVEC then means W 16-byte aligned and k a multiple of the vector.
 *
 * Two kernel families, each in a large and a small block tile; the host
 * (cuda/ops_gemm.c) picks the tile from m, n and the device's SM count, and
 * the flags from the alignment.  Every output element is one block's sum
 * over k in increasing k-tile order with f32 accumulators, plus the bias,
 * rounded once to T: the result does not depend on the tile chosen (the
 * tensor-core kernels' sums are the mma instruction's, the same in both
 * tiles; the FFMA kernels' sums are fmaf in increasing k in both, up to the
 * sign of a zero sum, which the zero padding of a partial k-tile makes +0).
 *
 * f16 / bf16: tensor cores (gk_gemm_128_<dt>, gk_gemm_64_<dt>).
 *   Block tile BM x BN x 32 with 4 warps as 2 x 2: 128 x 128 (warp tile
 *   64 x 64: 4 x 8 mma tiles, 128 f32 accumulators per thread) or 64 x 64
 *   (warp tile 32 x 32).  Per k-step of 16 a warp loads its A fragments with
 *   ldmatrix.x4 (16 x 16 each) and its B fragments with ldmatrix.x4.trans (B
 *   is [k x n] row-major in shared memory, so the transposing load gives the
 *   mma's column-major B: two n8 tiles per x4), then issues (WM/16) x (WN/8)
 *   mma.sync m16n8k16 with f32 accumulators.  The fragments are double
 *   buffered in registers: those of the next k-step (the next k-tile's
 *   first, across the barrier) are loaded before this step's mma.
 *   Global -> shared: a `stages`-deep ring (3 or 4, a kernel parameter: the
 *   host picks 4 when two 128 x 128 blocks still fit an SM's shared memory)
 *   of cp.async 16-byte copies, one commit group per k-tile, wait_group
 *   stages - 2 and one __syncthreads per k-tile; the copies of tile
 *   kt + stages - 1 are issued at the start of tile kt, into the stage of
 *   tile kt - 1.  Each thread copies BM*32/8/128 chunks of A and as many of
 *   B per k-tile (4 for 128 x 128, 2 for 64 x 64).
 *   Shared layout, in 16-byte chunks (8 elements), XOR-swizzled so that both
 *   the cp.async stores and the ldmatrix row reads (8 rows of 16 bytes each)
 *   are free of bank conflicts: an A row (32 elements = 4 chunks, 64 bytes)
 *   holds chunk c at c ^ ((row / 2) % 4); a B row (BN elements = BN/8 chunks)
 *   holds chunk c at c ^ (row % 8).
 *   Edges: with flag AVEC (A 16-byte aligned and k % 8 == 0) a chunk of A is
 *   either wholly inside the matrix (cp.async) or wholly outside (zeros
 *   stored); likewise BVEC (B aligned, n % 8 == 0) for B.  Without the flag
 *   the chunk is loaded element by element with bounds checks (zero fill)
 *   and stored to shared memory by the thread (synchronous, correct for any
 *   alignment and any m, n, k).
 *   Epilogue: each thread's accumulators (rows g and g + 8, columns 2t, 2t+1
 *   of every m16n8 tile) + bias, rounded once (gk_from_f32), stored as one
 *   32-bit pair when CVEC (C 4-byte aligned and n even), else per element.
 *
 * f32: exact f32 FFMA, no TF32 (gk_gemm_128_f32, gk_gemm_64_f32).
 *   256 threads as 16 x 16, each with a TM x TN register tile (8 x 8 for the
 *   128 x 128 x 8 block tile, 4 x 4 for 64 x 64 x 16) made of 4 x 4 pieces 64
 *   rows / columns apart; A is stored transposed in shared memory ([k][m],
 *   rows padded by 4 floats), B as is ([k][n]), so that each k step reads
 *   float4s of both.  Two shared buffers: the next k-tile is loaded into
 *   registers (one 16-byte chunk of A and one of B per thread, or element by
 *   element with bounds checks without AVEC / BVEC: A 16-byte aligned and
 *   k % 4 == 0, B aligned and n % 4 == 0) while the current one is
 *   multiplied, then stored to the other buffer; one __syncthreads per
 *   k-tile.  Stores of C in float4 with CVEC (C aligned, n % 4 == 0).
 *
 * Blocks: a 1-D grid over the tiles, numbered in groups of GK_GEMM_GROUP
 * tile rows (consecutive blocks share B's columns and A's rows in L2).
 * k == 0: C = 0 (+ bias).  C must not overlap A, B or bias.
 */
#include "gk_float.cuh"

#include <stdint.h>

/* flags (cuda/ops_gemm.c computes them from the pointers and the shape) */
#define GK_GEMM_AVEC 1u   /* A's rows are whole 16-byte chunks, 16-byte aligned */
#define GK_GEMM_BVEC 2u   /* B's rows likewise */
#define GK_GEMM_CVEC 4u   /* C: pairs (f16/bf16: 4-byte aligned, n even) or float4 (f32) */
/* tile rows per raster group */
#define GK_GEMM_GROUP 8

/* cuda/qmatmul.cu: values v .. v + 7 (v % 8 == 0) of the Q4_K block at blk,
 * decoded as gk_dequant does and rounded to T, as one 16-byte chunk */
template <class T> __device__ __forceinline__ uint4 gk_q4k_chunk(const uint8_t *blk, unsigned v);

namespace gk_gemm {

/* ------------------------------------------------------------------ helpers */
/* the block's tile (tm, tn) of tiles_m x tiles_n, grouped raster */
__device__ __forceinline__ void tile_of(unsigned pid, unsigned tiles_m, unsigned tiles_n,
                                        unsigned &tm, unsigned &tn) {
  unsigned long long in_group = (unsigned long long)GK_GEMM_GROUP * tiles_n;   /* may pass 2^32 */
  unsigned first = (unsigned)(pid / in_group) * GK_GEMM_GROUP;
  unsigned rows = tiles_m - first < GK_GEMM_GROUP ? tiles_m - first : GK_GEMM_GROUP;
  unsigned r = (unsigned)(pid % in_group);
  tm = first + r % rows;
  tn = r / rows;
}

__device__ __forceinline__ void mma16(float d[4], const unsigned a[4], const unsigned b[2], gk_half) {
  gk_mma_m16n8k16_f16(d, a, b, d);
}
__device__ __forceinline__ void mma16(float d[4], const unsigned a[4], const unsigned b[2], gk_bf16) {
  gk_mma_m16n8k16_bf16(d, a, b, d);
}
__device__ __forceinline__ unsigned pack2(float lo, float hi, gk_half) { return gk_pack_half2(lo, hi); }
__device__ __forceinline__ unsigned pack2(float lo, float hi, gk_bf16) { return gk_pack_bf162(lo, hi); }

/* ------------------------------------------------------------------ tensor cores */
/* BM x BN block tile, BK = 32, WGM x WGN warps; f16 / bf16.  Q4K (with BT):
 * B is W [n x k] in Q4_K blocks (cuda/qmatmul.cu's fused prefill), each
 * 8-value chunk decoded into shared memory by gk_q4k_chunk */
template <class T, int BM, int BN, int WGM, int WGN, bool BT = false, bool Q4K = false> struct hmma {
  enum {
    BK = 32, KK = BK / 16,       /* k-steps of a k-tile (even: see run) */
    NT = WGM * WGN * 32,         /* threads */
    WM = BM / WGM, WN = BN / WGN, /* warp tile */
    MI = WM / 16, NI = WN / 8,   /* m16 and n8 tiles of a warp */
    ACH = BM * BK / 8,           /* 16-byte chunks of an A tile */
    BCH = BK * BN / 8,           /* ... of a B tile */
    BROW = BT ? 4 : BN / 8,      /* chunks of a B row ([k][n]: BN / 8; BT, [n][k]: 4) */
    STAGE = ACH + BCH,           /* chunks of a stage */
    ALD = ACH / NT, BLD = BCH / NT  /* chunks each thread copies per k-tile */
  };
  static_assert(ACH % NT == 0 && BCH % NT == 0, "whole chunks per thread");
  static_assert(NI % 2 == 0 && (BT || BROW >= 8), "x4 loads two n8 tiles; B swizzle over 8 chunks");

  /* chunk index (16-byte units) of A's row r, chunk c; of B's row r, chunk c */
  static __device__ __forceinline__ unsigned a_at(unsigned r, unsigned c) {
    return r * 4 + (c ^ ((r >> 1) & 3));
  }
  static __device__ __forceinline__ unsigned b_at(unsigned r, unsigned c) {
    return BT ? ACH + r * 4 + (c ^ ((r >> 1) & 3)) : ACH + r * BROW + (c ^ (r & 7));
  }

  /* The global -> shared copies of one thread, k-tile after k-tile.  Thread
   * t copies the A chunks (row t/4 + i*NT/4, chunk t%4) and the B chunks (row
   * t/BROW + i*NT/BROW, chunk t%BROW), i < ALD / BLD: one chunk column per
   * thread, rows a whole number of swizzle periods apart, so that chunk i's
   * shared offset is chunk 0's plus a constant and its global address chunk
   * 0's plus i row steps. */
  enum { ARS = NT / 4, BRS = NT / BROW };   /* rows between a thread's chunks */
  static_assert(ARS % 8 == 0 && BRS % 8 == 0, "the swizzle repeats every 8 rows");
  struct loader {
    const T *ga, *gb;       /* chunk 0 of the next k-tile, in A and in B */
    size_t astep, bstep;    /* elements between chunks i and i + 1 (ARS rows of A, BRS of B) */
    size_t krem;            /* k - the next tile's first k */
    unsigned sa, sb;        /* shared offsets (chunks) of chunk 0 in a stage */
    unsigned amask;         /* bit i: A chunk i's row is < m */
    unsigned bcols;         /* columns of the B chunk inside the matrix (0..8); BT: bit i, B
                               chunk i's row (an n) is < n */
    unsigned ac, br;        /* the A chunk's column (k / 8), the B chunk 0's row */
    const uint8_t *qw;      /* Q4K: W's blocks, rows of qrb bytes; ... */
    size_t qrb, k0, qrow0;  /* ... the next tile's first k; B chunk 0's row of W */
  };

  static __device__ __forceinline__ void loader_init(loader &L, const T *A, const T *B, size_t m,
                                                     size_t n, size_t k, size_t row0, size_t col0) {
    unsigned t = threadIdx.x, ar = t / 4, bc = t % BROW;
    L.ac = t % 4;
    L.br = t / BROW;
    L.ga = A + (row0 + ar) * k + L.ac * 8;
    size_t bcol = col0 + bc * 8;
    L.gb = Q4K ? B : BT ? B + (col0 + L.br) * k + L.ac * 8 : B + (size_t)L.br * n + bcol;
    L.qw = (const uint8_t *)B;
    L.qrb = k / 256 * 144;
    L.k0 = 0;
    L.qrow0 = col0 + L.br;
    L.astep = (size_t)ARS * k;
    L.bstep = BT ? (size_t)BRS * k : (size_t)BRS * n;
    L.krem = k;
    L.sa = a_at(ar, L.ac);
    L.sb = b_at(L.br, bc);
    L.amask = 0;
#pragma unroll
    for (int i = 0; i < ALD; i++)
      if (row0 + ar + (size_t)i * ARS < m) L.amask |= 1u << i;
    L.bcols = bcol < n ? (n - bcol < 8 ? (unsigned)(n - bcol) : 8u) : 0u;
    if (BT) {
      L.bcols = 0;
#pragma unroll
      for (int i = 0; i < BLD; i++)
        if (col0 + L.br + (size_t)i * BRS < n) L.bcols |= 1u << i;
    }
  }

  /* 8 elements at s16[0 .. cols) (zeros beyond, and everywhere when !row) as a chunk */
  static __device__ __forceinline__ uint4 chunk8(const unsigned short *s16, bool row, unsigned cols) {
    unsigned h[8];
#pragma unroll
    for (int e = 0; e < 8; e++) h[e] = row && (unsigned)e < cols ? s16[e] : 0u;
    return make_uint4(h[0] | h[1] << 16, h[2] | h[3] << 16, h[4] | h[5] << 16, h[6] | h[7] << 16);
  }

  /* the next k-tile of A and B into the stage at sm (krem > 0) */
  static __device__ __forceinline__ void load(uint4 *sm, loader &L, size_t n, unsigned flags) {
    unsigned kt = L.krem < BK ? (unsigned)L.krem : (unsigned)BK;   /* k inside the tile */
    unsigned acols = kt > L.ac * 8 ? (kt - L.ac * 8 < 8 ? kt - L.ac * 8 : 8u) : 0u;
    if (flags & GK_GEMM_AVEC) {   /* acols is 0 or 8 */
#pragma unroll
      for (int i = 0; i < ALD; i++) {
        uint4 *dst = sm + L.sa + i * ARS * 4;
        if (((L.amask >> i) & 1) && acols) gk_cp_async16(dst, L.ga + i * L.astep);
        else *dst = make_uint4(0, 0, 0, 0);
      }
    } else {
#pragma unroll
      for (int i = 0; i < ALD; i++)
        sm[L.sa + i * ARS * 4] =
            chunk8((const unsigned short *)(L.ga + i * L.astep), (L.amask >> i) & 1, acols);
    }
    if (Q4K) {   /* Q4_K rows of W: k % 256 == 0, so a k-tile is whole */
      size_t kk = L.k0 + L.ac * 8;
#pragma unroll
      for (int i = 0; i < BLD; i++)
        sm[L.sb + i * BRS * 4] =
            (L.bcols >> i) & 1
                ? gk_q4k_chunk<T>(L.qw + (L.qrow0 + (size_t)i * BRS) * L.qrb + kk / 256 * 144,
                                  (unsigned)(kk % 256))
                : make_uint4(0, 0, 0, 0);
    } else if (BT) {   /* rows of W [n x k], loaded as A's */
      if (flags & GK_GEMM_BVEC) {
#pragma unroll
        for (int i = 0; i < BLD; i++) {
          uint4 *dst = sm + L.sb + i * BRS * 4;
          if (((L.bcols >> i) & 1) && acols) gk_cp_async16(dst, L.gb + i * L.bstep);
          else *dst = make_uint4(0, 0, 0, 0);
        }
      } else {
#pragma unroll
        for (int i = 0; i < BLD; i++)
          sm[L.sb + i * BRS * 4] =
              chunk8((const unsigned short *)(L.gb + i * L.bstep), (L.bcols >> i) & 1, acols);
      }
    } else if (flags & GK_GEMM_BVEC) {   /* bcols is 0 or 8 */
#pragma unroll
      for (int i = 0; i < BLD; i++) {
        uint4 *dst = sm + L.sb + i * BRS * BROW;
        if (L.br + i * BRS < kt && L.bcols) gk_cp_async16(dst, L.gb + i * L.bstep);
        else *dst = make_uint4(0, 0, 0, 0);
      }
    } else {
#pragma unroll
      for (int i = 0; i < BLD; i++)
        sm[L.sb + i * BRS * BROW] =
            chunk8((const unsigned short *)(L.gb + i * L.bstep), L.br + i * BRS < kt, L.bcols);
    }
    L.ga += BK;
    if (!Q4K) L.gb += BT ? (size_t)BK : (size_t)BK * n;
    L.k0 += BK;
    L.krem -= kt;
  }

  /* the fragments of k-step kk (16 deep) of the stage at sm: A with
   * ldmatrix.x4 (rows 0-15, k 0-7 / 8-15 as a[0..3]), B with ldmatrix.x4.trans
   * (k 0-7 / 8-15 of two n8 tiles) */
  static __device__ __forceinline__ void frags(const uint4 *sm, int kk, unsigned (&af)[MI][4],
                                               unsigned (&bfr)[NI][2], unsigned wm, unsigned wn,
                                               unsigned lane) {
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
      gk_ldmatrix_x4(af[mi], sm + a_at(wm * WM + mi * 16 + (lane & 15), kk * 2 + (lane >> 4)));
#pragma unroll
    for (int nj = 0; nj < NI / 2; nj++) {
      unsigned j = lane >> 3, r[4];
      if (BT)   /* W's rows are the mma's B columns: no transpose (matrix j: n8 tile j >> 1, k half j & 1) */
        gk_ldmatrix_x4(r, sm + b_at(wn * WN + nj * 16 + (j >> 1) * 8 + (lane & 7), kk * 2 + (j & 1)));
      else
        gk_ldmatrix_x4_trans(r, sm + b_at(kk * 16 + (j & 1) * 8 + (lane & 7),
                                          (wn * WN + nj * 16) / 8 + (j >> 1)));
      bfr[2 * nj][0] = r[0];
      bfr[2 * nj][1] = r[1];
      bfr[2 * nj + 1][0] = r[2];
      bfr[2 * nj + 1][1] = r[3];
    }
  }

  static __device__ __forceinline__ void mmas(float (&acc)[MI][NI][4], const unsigned (&af)[MI][4],
                                              const unsigned (&bfr)[NI][2]) {
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
      for (int ni = 0; ni < NI; ni++) mma16(acc[mi][ni], af[mi], bfr[ni], T());
  }

  /* wait until at most stages - 2 commit groups are in flight (3 or 4 stages) */
  static __device__ __forceinline__ void wait_ring(int stages) {
    if (stages >= 4) gk_cp_async_wait<2>();
    else gk_cp_async_wait<1>();
  }

  static __device__ __forceinline__ void run(const T *A, const T *B, const T *bias, T *C, size_t m,
                                             size_t n, size_t k, unsigned flags, int stages) {
    GK_DYN_SHARED(uint4, smem);
    unsigned tiles_m = (unsigned)((m + BM - 1) / BM), tiles_n = (unsigned)((n + BN - 1) / BN), tm, tn;
    tile_of(blockIdx.x, tiles_m, tiles_n, tm, tn);
    size_t row0 = (size_t)tm * BM, col0 = (size_t)tn * BN, KT = (k + BK - 1) / BK;
    unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32, wm = warp / WGN, wn = warp % WGN;

    float acc[MI][NI][4];
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
      for (int ni = 0; ni < NI; ni++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[mi][ni][e] = 0.0f;

    /* the ring: tiles 0 .. stages-2 in flight, one commit group each */
    loader L = loader();
    if (KT > 0) loader_init(L, A, B, m, n, k, row0, col0);   /* (A, B may be NULL when k == 0) */
    for (int s = 0; s < stages - 1; s++) {
      if ((size_t)s < KT) load(smem + s * STAGE, L, n, flags);
      gk_cp_async_commit();
    }
    wait_ring(stages);   /* tile 0 has landed ... */
    __syncthreads();     /* ... for every thread */
    /* fragments double-buffered in registers: those of the next k-step are
     * loaded before the mma of this one */
    unsigned af[2][MI][4], bfr[2][NI][2];
    int rs = 0, ws = stages - 1;   /* the stages of tile kt and of tile kt + stages - 1 */
    if (KT > 0) frags(smem, 0, af[0], bfr[0], wm, wn, lane);
    for (size_t kt = 0; kt < KT; kt++) {
      /* tile kt + stages - 1 into the stage of tile kt - 1, which every warp
       * has finished reading (the barrier of the last k-step of tile kt - 1) */
      if (kt + stages - 1 < KT) load(smem + ws * STAGE, L, n, flags);
      gk_cp_async_commit();
#pragma unroll
      for (int kk = 0; kk < KK; kk++) {
        if (kk == KK - 1) {
          wait_ring(stages);   /* tile kt + 1 has landed ... */
          __syncthreads();     /* ... for every thread, and every warp has its fragments of tile kt */
          rs = rs + 1 == stages ? 0 : rs + 1;
          ws = ws + 1 == stages ? 0 : ws + 1;
          if (kt + 1 < KT) frags(smem + rs * STAGE, 0, af[0], bfr[0], wm, wn, lane);
        } else {
          frags(smem + rs * STAGE, kk + 1, af[(kk + 1) & 1], bfr[(kk + 1) & 1], wm, wn, lane);
        }
        mmas(acc, af[kk & 1], bfr[kk & 1]);
      }
    }
    gk_cp_async_wait_all();   /* (only empty groups remain) */

    /* epilogue */
    unsigned g = lane / 4, t = lane % 4;
#pragma unroll
    for (int ni = 0; ni < NI; ni++) {
      size_t col = col0 + wn * WN + ni * 8 + 2 * t;
      if (col >= n) continue;
      bool two = col + 1 < n;
      float b0 = 0.0f, b1 = 0.0f;
      if (bias) {
        b0 = gk_ld1(bias + col);
        if (two) b1 = gk_ld1(bias + col + 1);
      }
#pragma unroll
      for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
          size_t row = row0 + wm * WM + mi * 16 + g + 8 * h;
          if (row >= m) continue;
          float v0 = acc[mi][ni][2 * h], v1 = acc[mi][ni][2 * h + 1];
          if (bias) {
            v0 += b0;
            v1 += b1;
          }
          T *p = C + row * n + col;
          if (two && (flags & GK_GEMM_CVEC)) {
            *(unsigned *)p = pack2(v0, v1, T());
          } else {
            gk_st1(p, v0);
            if (two) gk_st1(p + 1, v1);
          }
        }
    }
  }
};

/* ------------------------------------------------------------------ f32 FFMA */
/* BM x BN x BK block tile, 256 threads as 16 x 16, TM x TN per thread */
template <int BM, int BN, int BK, int TM, int TN, bool BT = false> struct sgemm {
  enum {
    NT = 256, TX = BN / TN, TY = BM / TM,
    AP = BM + 4,            /* row of transposed A in shared memory (floats) */
    BP = BT ? BN + 4 : BN,  /* row of B ([k][n]; BT: W transposed, padded as A) */
    GM = TM / 4, GN = TN / 4, /* 4 x 4 pieces of a thread's tile ... */
    SM_ = BM / GM, SN = BN / GN /* ... this many rows / columns apart */
  };
  static_assert(TX * TY == NT, "256 threads");
  static_assert(BM * BK / 4 == NT && BK * BN / 4 == NT, "one 16-byte chunk of A and of B per thread");

  /* one chunk of A (row r of the tile, k columns 4q..4q+3) and of B into registers */
  static __device__ __forceinline__ void fetch(float (&ra)[4], float (&rb)[4], const float *A,
                                               const float *B, size_t m, size_t n, size_t k,
                                               size_t row0, size_t col0, size_t kt,
                                               unsigned flags) {
    unsigned tid = threadIdx.x;
    {
      unsigned r = tid / (BK / 4), q = tid % (BK / 4);
      size_t gr = row0 + r, gc = kt * BK + q * 4;
      if (flags & GK_GEMM_AVEC) {
        float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        if (gr < m && gc < k) {
          uint4 u = gk_ldg16(A + gr * k + gc);
          v = make_float4(__uint_as_float(u.x), __uint_as_float(u.y), __uint_as_float(u.z),
                          __uint_as_float(u.w));
        }
        ra[0] = v.x, ra[1] = v.y, ra[2] = v.z, ra[3] = v.w;
      } else {
#pragma unroll
        for (int e = 0; e < 4; e++) ra[e] = gr < m && gc + e < k ? A[gr * k + gc + e] : 0.0f;
      }
    }
    if (BT) {   /* W [n x k]: row col0 + r, k columns 4q..4q+3, as A */
      unsigned r = tid / (BK / 4), q = tid % (BK / 4);
      size_t gr = col0 + r, gc = kt * BK + q * 4;
      if (flags & GK_GEMM_BVEC) {
        float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        if (gr < n && gc < k) {
          uint4 u = gk_ldg16(B + gr * k + gc);
          v = make_float4(__uint_as_float(u.x), __uint_as_float(u.y), __uint_as_float(u.z),
                          __uint_as_float(u.w));
        }
        rb[0] = v.x, rb[1] = v.y, rb[2] = v.z, rb[3] = v.w;
      } else {
#pragma unroll
        for (int e = 0; e < 4; e++) rb[e] = gr < n && gc + e < k ? B[gr * k + gc + e] : 0.0f;
      }
    } else {
      unsigned r = tid / (BN / 4), q = tid % (BN / 4);
      size_t gr = kt * BK + r, gc = col0 + q * 4;
      if (flags & GK_GEMM_BVEC) {
        float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        if (gr < k && gc < n) {
          uint4 u = gk_ldg16(B + gr * n + gc);
          v = make_float4(__uint_as_float(u.x), __uint_as_float(u.y), __uint_as_float(u.z),
                          __uint_as_float(u.w));
        }
        rb[0] = v.x, rb[1] = v.y, rb[2] = v.z, rb[3] = v.w;
      } else {
#pragma unroll
        for (int e = 0; e < 4; e++) rb[e] = gr < k && gc + e < n ? B[gr * n + gc + e] : 0.0f;
      }
    }
  }

  /* the registers into buffer (As, Bs): A transposed */
  static __device__ __forceinline__ void store(float *As, float *Bs, const float (&ra)[4],
                                               const float (&rb)[4]) {
    unsigned tid = threadIdx.x;
    unsigned r = tid / (BK / 4), q = tid % (BK / 4);
#pragma unroll
    for (int e = 0; e < 4; e++) As[(q * 4 + e) * AP + r] = ra[e];
    if (BT) {
#pragma unroll
      for (int e = 0; e < 4; e++) Bs[(q * 4 + e) * BP + r] = rb[e];
    } else {
      unsigned kr = tid / (BN / 4), nq = tid % (BN / 4);
      *(float4 *)(Bs + kr * BN + nq * 4) = make_float4(rb[0], rb[1], rb[2], rb[3]);
    }
  }

  static __device__ __forceinline__ void run(const float *A, const float *B, const float *bias,
                                             float *C, size_t m, size_t n, size_t k,
                                             unsigned flags) {
    GK_SHARED(float4, As4, 2 * BK * AP / 4);   /* float4: 16-byte aligned rows */
    GK_SHARED(float4, Bs4, 2 * BK * BP / 4);
    float *As = (float *)As4, *Bs = (float *)Bs4;
    unsigned tiles_m = (unsigned)((m + BM - 1) / BM), tiles_n = (unsigned)((n + BN - 1) / BN), tm, tn;
    tile_of(blockIdx.x, tiles_m, tiles_n, tm, tn);
    size_t row0 = (size_t)tm * BM, col0 = (size_t)tn * BN, KT = (k + BK - 1) / BK;
    unsigned tx = threadIdx.x % TX, ty = threadIdx.x / TX;

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
      for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;

    float ra[4], rb[4];
    if (KT > 0) {
      fetch(ra, rb, A, B, m, n, k, row0, col0, 0, flags);
      store(As, Bs, ra, rb);
      __syncthreads();
    }
    for (size_t kt = 0; kt < KT; kt++) {
      unsigned cur = (unsigned)(kt & 1);
      bool more = kt + 1 < KT;
      if (more) fetch(ra, rb, A, B, m, n, k, row0, col0, kt + 1, flags);
      const float *as = As + cur * BK * AP, *bs = Bs + cur * BK * BP;
#pragma unroll
      for (int kk = 0; kk < BK; kk++) {
        float a[TM], b[TN];
#pragma unroll
        for (int gi = 0; gi < GM; gi++) {
          float4 v = *(const float4 *)(as + kk * AP + gi * SM_ + ty * 4);
          a[gi * 4] = v.x, a[gi * 4 + 1] = v.y, a[gi * 4 + 2] = v.z, a[gi * 4 + 3] = v.w;
        }
#pragma unroll
        for (int gj = 0; gj < GN; gj++) {
          float4 v = *(const float4 *)(bs + kk * BP + gj * SN + tx * 4);
          b[gj * 4] = v.x, b[gj * 4 + 1] = v.y, b[gj * 4 + 2] = v.z, b[gj * 4 + 3] = v.w;
        }
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
          for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
      if (more) store(As + (cur ^ 1) * BK * AP, Bs + (cur ^ 1) * BK * BP, ra, rb);
      __syncthreads();
    }

    /* epilogue: 4 x 4 pieces, rows ty*4 + gi*SM_ + i, columns tx*4 + gj*SN + j */
#pragma unroll
    for (int gj = 0; gj < GN; gj++) {
      size_t col = col0 + gj * SN + tx * 4;
      if (col >= n) continue;
      float bv[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      if (bias) {
#pragma unroll
        for (int j = 0; j < 4; j++) bv[j] = col + j < n ? bias[col + j] : 0.0f;
      }
#pragma unroll
      for (int gi = 0; gi < GM; gi++)
#pragma unroll
        for (int i = 0; i < 4; i++) {
          size_t row = row0 + gi * SM_ + ty * 4 + i;
          if (row >= m) continue;
          float v[4];
#pragma unroll
          for (int j = 0; j < 4; j++) v[j] = bias ? acc[gi * 4 + i][gj * 4 + j] + bv[j] : acc[gi * 4 + i][gj * 4 + j];
          float *p = C + row * n + col;
          if (flags & GK_GEMM_CVEC) {
            *(float4 *)p = make_float4(v[0], v[1], v[2], v[3]);
          } else {
#pragma unroll
            for (int j = 0; j < 4; j++)
              if (col + j < n) p[j] = v[j];
          }
        }
    }
  }
};

} /* namespace gk_gemm */

/* Threads per block and block tiles (cuda/ops_gemm.c launches them so). */
#define GK_GEMM_TC_THREADS 128      /* f16/bf16, both tiles: 4 warps */
#define GK_GEMM_F32_THREADS 256     /* f32, both tiles: 8 warps */

#define GK_GEMM_HMMA_KERNELS(T, dt)                                                              \
  extern "C" __global__ void __launch_bounds__(GK_GEMM_TC_THREADS, 2)                            \
  gk_gemm_128_##dt(const T *A, const T *B, const T *bias, T *C, size_t m, size_t n, size_t k,    \
                   unsigned flags, int stages) {                                                 \
    gk_gemm::hmma<T, 128, 128, 2, 2>::run(A, B, bias, C, m, n, k, flags, stages);                \
  }                                                                                              \
  GK_EXPORT(gk_gemm_128_##dt);                                                                   \
  extern "C" __global__ void __launch_bounds__(GK_GEMM_TC_THREADS, 4)                            \
  gk_gemm_64_##dt(const T *A, const T *B, const T *bias, T *C, size_t m, size_t n, size_t k,     \
                  unsigned flags, int stages) {                                                  \
    gk_gemm::hmma<T, 64, 64, 2, 2>::run(A, B, bias, C, m, n, k, flags, stages);                  \
  }                                                                                              \
  GK_EXPORT(gk_gemm_64_##dt);                                                                    \
  extern "C" __global__ void __launch_bounds__(GK_GEMM_TC_THREADS, 2)                            \
  gk_gemm_nt_128_##dt(const T *A, const T *B, const T *bias, T *C, size_t m, size_t n, size_t k, \
                      unsigned flags, int stages) {                                              \
    gk_gemm::hmma<T, 128, 128, 2, 2, true>::run(A, B, bias, C, m, n, k, flags, stages);          \
  }                                                                                              \
  GK_EXPORT(gk_gemm_nt_128_##dt);                                                                \
  extern "C" __global__ void __launch_bounds__(GK_GEMM_TC_THREADS, 4)                            \
  gk_gemm_nt_64_##dt(const T *A, const T *B, const T *bias, T *C, size_t m, size_t n, size_t k,  \
                     unsigned flags, int stages) {                                               \
    gk_gemm::hmma<T, 64, 64, 2, 2, true>::run(A, B, bias, C, m, n, k, flags, stages);            \
  }                                                                                              \
  GK_EXPORT(gk_gemm_nt_64_##dt);

/* two blocks per SM (128 registers) on every architecture but sm_120, whose
 * ptxas then spills the 8x8 accumulators: one block there */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 1200
#define GK_GEMM_F32_128_MINB 1
#else
#define GK_GEMM_F32_128_MINB 2
#endif
extern "C" __global__ void __launch_bounds__(GK_GEMM_F32_THREADS, GK_GEMM_F32_128_MINB)
gk_gemm_128_f32(const float *A, const float *B, const float *bias, float *C, size_t m, size_t n,
                size_t k, unsigned flags) {
  gk_gemm::sgemm<128, 128, 8, 8, 8>::run(A, B, bias, C, m, n, k, flags);
}
GK_EXPORT(gk_gemm_128_f32);
extern "C" __global__ void __launch_bounds__(GK_GEMM_F32_THREADS, 3)
gk_gemm_64_f32(const float *A, const float *B, const float *bias, float *C, size_t m, size_t n,
               size_t k, unsigned flags) {
  gk_gemm::sgemm<64, 64, 16, 4, 4>::run(A, B, bias, C, m, n, k, flags);
}
GK_EXPORT(gk_gemm_64_f32);
extern "C" __global__ void __launch_bounds__(GK_GEMM_F32_THREADS, GK_GEMM_F32_128_MINB)
gk_gemm_nt_128_f32(const float *A, const float *B, const float *bias, float *C, size_t m,
                   size_t n, size_t k, unsigned flags) {
  gk_gemm::sgemm<128, 128, 8, 8, 8, true>::run(A, B, bias, C, m, n, k, flags);
}
GK_EXPORT(gk_gemm_nt_128_f32);
extern "C" __global__ void __launch_bounds__(GK_GEMM_F32_THREADS, 3)
gk_gemm_nt_64_f32(const float *A, const float *B, const float *bias, float *C, size_t m,
                  size_t n, size_t k, unsigned flags) {
  gk_gemm::sgemm<64, 64, 16, 4, 4, true>::run(A, B, bias, C, m, n, k, flags);
}
GK_EXPORT(gk_gemm_nt_64_f32);
GK_GEMM_HMMA_KERNELS(gk_half, f16)
GK_GEMM_HMMA_KERNELS(gk_bf16, bf16)
