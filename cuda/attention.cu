/* attention.cu -- flash attention (FlashAttention-2 style) over contiguous or paged K/V
 * SPDX-License-Identifier: MIT
 *
 * out[t][h] = softmax_j(scale q[t][h] . k[j][h / group]) v[j][h / group] for the
 * keys j that query t sees (causal: j < t + 1 + kv_len - q_len; a query that
 * sees no key gets zeros), group = heads / kv_heads.
 *
 * Rows.  The rows of a kv head are the q_len x group pairs (t, head of the
 * group), packed r = t * group + (h % group), so that every K/V tile a block
 * stages serves all the query heads of its GQA group (a decode step with
 * group 8 fills half an m16 tile with one position).  A block takes BQ
 * consecutive rows of one kv head: blockIdx.x = kvh * row_tiles + (row_tiles
 * - 1 - tile), the last rows (causal: the most keys) first.
 *
 * Splits (flash-decoding).  blockIdx.y is the split: keys [s chunk, (s+1)
 * chunk) of kv_len.  With part == NULL there is one split and the block
 * writes out; otherwise it writes, per row, its unnormalised f32 output
 * (part_o[s][orow][d]) and its running max and sum (part_ml[s][orow][2]) to
 * the workspace, and gk_flash_attn_reduce_<dt> combines the splits.  orow =
 * t * heads + h, the row of out.  A block never loads a key no row of it sees
 * (keys >= the limit of its last row, or >= kv_len).
 *
 * Online softmax, per row, in f32 registers: x = S * scale * log2(e) (-inf
 * where masked), m' = max(m, max x) (a NaN score does not enter the max but
 * poisons the row through its p); p = 2^(x - m') (with m' = -inf, 0 is used,
 * so that a row that has seen nothing stays at 0), l = l 2^(m - m') + sum p,
 * O = O 2^(m - m') + P V; finally out = O / l, rounded once to the element
 * type (l = 0: zeros).  Each thread keeps its own partial l and the lanes of
 * a row add them at the end.
 *
 * Kernels:
 *   gk_flash_attn_<f16|bf16>_d<D>  (D = 64, 80, 96, 128, 256): tensor cores.
 *     4 warps, BQ = 64 rows (16 per warp), BK = 64 keys (32 for D = 256).
 *     Shared memory: K and V [2 stages][BK][D+8], and Q [64][D+8] of its
 *     own for D = 256 only; for D <= 128, Q is read once into registers and
 *     is staged in the second K stage, which tile 1 takes after that (16
 *     bytes of padding per row: ldmatrix's 8 row addresses hit 8 different
 *     groups of 4 banks).  Tiles are staged with cp.async, the next K/V
 *     tile's copies issued before the current tile is computed (double
 *     buffering).  S = Q K^T with mma.m16n8k16 (f32 accumulators; A = Q from
 *     ldmatrix.x4, kept in registers for D <= 128; B = K from ldmatrix.x4;
 *     warps whose 16 rows are all padding only load), the online softmax on
 *     the accumulator fragments (row max/sum over the 4 lanes of a quad with
 *     shuffles), P rounded to the element type and reused as the A fragments
 *     of O += P V (B = V from ldmatrix.x4.trans).  The output is normalised,
 *     rounded, staged in the warp's own Q rows and written in 16-byte units.
 *     A head_dim d < D is zero-padded (columns >= d are neither loaded nor
 *     stored).  vec (host: q, k, v, out 16-byte aligned and d % 8 == 0):
 *     16-byte cp.async copies; else element loads through registers.
 *     Rounding P to f16/bf16 (as FlashAttention-2 does) adds at most
 *     u * sum_j p_j |v_j| / l to an output (u = 2^-11 f16, 2^-8 bf16).
 *   gk_flash_attn_ffma_<f32|f16|bf16>_d<DC>  (DC = 64, 96, 128, 256): FFMA,
 *     exact f32 products of the inputs.  4 warps, BQ = 32 rows, BK = 32 keys
 *     (16 for DC = 256); thread (ty, tx) = (tid / 8, tid % 8) computes S for
 *     rows 2ty, 2ty+1 and keys tx + 8j from float4 reads of Q and K in shared
 *     memory (f32, rows padded by 4 floats), exchanges P through shared memory
 *     (rows private to the warp) and accumulates O for columns 4tx + 32j.
 *     For d <= DC, V's copy is issued before S is computed and the next K
 *     tile's before P V (cp.async for f32 when vec: pointers 16-byte aligned
 *     and d % 4 == 0).  For d > DC (only DC = 256; the f16/bf16 kernels are
 *     for d > 256 only), S is summed over chunks of DC columns of Q and K
 *     staged in turn, and blockIdx.z picks the DC output columns.
 *   gk_flash_attn_reduce_<dt>: a warp per output row combines the splits.
 *
 * Masked keys contribute p = 0 exactly, but a tile's V rows are multiplied
 * by the P of every row: an infinity or NaN in V at a key some row of the
 * tile does not see still reaches that row (0 * inf), as in every tensor-core
 * flash attention.  Keys >= kv_len, and pages beyond those of the table, are
 * never read.
 *
 * Paged K/V (pt != NULL): key j lives in page pt[j / page_size] at slot j %
 * page_size.  Page ids are read on the device; an id >= n_pages is never used
 * to address the caches (its rows read as zeros), and then out is left
 * unchanged: the kernel that writes out (this one without splits, the reduce
 * with them) first checks every used entry of the table, either itself
 * (nflags == 0: every block reads them all) or through the flag words a
 * gk_embedding_check_u32 launch wrote (nflags of them, nonzero: a bad id).
 */
#include "gk_float.cuh"

#define GK_ATTN_THREADS 128

namespace gk_attn {

enum { THREADS = GK_ATTN_THREADS };

/* the arguments every attention kernel takes (see the kernel macros) */
struct args {
  const void *q, *k, *v;
  void *out;
  float *part;
  const unsigned *pt, *flags;
  unsigned nflags;
  size_t q_len, kv_len, heads, kv_heads, d, page_size, n_pages, chunk;
  unsigned row_tiles, nsplit;
  float sl;
  int causal, vec;
};

/* ------------------------------------------------------------------ rows and keys */
/* the keys [0, lim) query t sees */
__device__ __forceinline__ size_t lim_of(const args &a, size_t t) {
  if (!a.causal) return a.kv_len;
  size_t e = t + 1 + a.kv_len;   /* t < q_len: e - q_len <= kv_len */
  return e > a.q_len ? e - a.q_len : 0;
}

/* the block's place: kv head, first row, split and its keys [ks, ke) that
 * some row of the block sees */
struct blk {
  size_t kvh, group, rows, r0, ks, ke, R;
  unsigned s;
};
__device__ __forceinline__ blk block_of(const args &a, int BQ) {
  blk b;
  b.group = a.heads / a.kv_heads;
  b.rows = a.q_len * b.group;
  b.R = a.q_len * a.heads;
  b.kvh = blockIdx.x / a.row_tiles;
  /* the last rows (causal: the most keys) first, for a shorter tail */
  b.r0 = (size_t)(a.row_tiles - 1 - blockIdx.x % a.row_tiles) * (size_t)BQ;
  b.s = blockIdx.y;
  b.ks = (size_t)b.s * a.chunk;
  size_t end = b.r0 + (size_t)BQ < b.rows ? b.r0 + (size_t)BQ : b.rows;
  size_t hi = lim_of(a, (end - 1) / b.group);
  size_t ke = b.ks + a.chunk < a.kv_len ? b.ks + a.chunk : a.kv_len;
  b.ke = ke < hi ? ke : hi;
  return b;
}

/* the row of out (and of q) of packed row r < rows */
__device__ __forceinline__ size_t orow_of(const args &a, const blk &b, size_t r) {
  return (r / b.group) * a.heads + b.kvh * b.group + r % b.group;
}

/* key limit of packed row r (0 for padding rows) */
__device__ __forceinline__ size_t row_lim(const args &a, const blk &b, size_t r) {
  return r < b.rows ? lim_of(a, r / b.group) : 0;
}

/* keys of [k0, k0 + BK) below lim, as a count in [0, BK] */
__device__ __forceinline__ int rel_lim(size_t lim, size_t k0, int BK) {
  size_t r = lim > k0 ? lim - k0 : 0;
  return r < (size_t)BK ? (int)r : BK;
}

/* no row (a key past the block's keys, a page id >= n_pages) */
#define GK_ATTN_NO_ROW (~(size_t)0)

/* the element offset of key j's K and V rows (j < kv_len) for kv head kvh,
 * GK_ATTN_NO_ROW for a page id >= n_pages (32-bit division when it suffices) */
__device__ __forceinline__ size_t kv_off(const args &a, size_t kvh, size_t j) {
  size_t slot = j;
  if (a.pt) {
    size_t pg, in;
    if ((a.kv_len | a.page_size) >> 32) {
      pg = j / a.page_size, in = j % a.page_size;
    } else {
      unsigned j32 = (unsigned)j, ps = (unsigned)a.page_size, p32 = j32 / ps;
      pg = p32, in = j32 - p32 * ps;
    }
    unsigned id = a.pt[pg];
    if (id >= a.n_pages) return GK_ATTN_NO_ROW;
    slot = (size_t)id * a.page_size + in;
  }
  return (slot * a.kv_heads + kvh) * a.d;
}

/* K or V row of key j (j < kv_len) for kv head kvh; NULL for a page id >= n_pages */
template <class T>
__device__ __forceinline__ const T *kv_row(const args &a, const T *base, size_t kvh, size_t j) {
  size_t off = kv_off(a, kvh, j);
  return off == GK_ATTN_NO_ROW ? nullptr : base + off;
}

/* whether the page table holds an id >= n_pages, in every thread of the
 * block (all of them call it) */
__device__ __forceinline__ bool pt_bad(const args &a) {
  if (!a.pt) return false;
  int bad = 0;
  if (a.nflags) {
    for (unsigned i = 0; i < a.nflags; i++) bad |= a.flags[i] != 0;
    return bad != 0;
  }
  size_t entries = a.kv_len / a.page_size + (a.kv_len % a.page_size != 0);
  for (size_t i = threadIdx.x; i < entries; i += THREADS) bad |= a.pt[i] >= a.n_pages;
  return __syncthreads_or(bad) != 0;
}

/* the f32 partial of row orow (unnormalised output and (m, l)) */
__device__ __forceinline__ float *part_o(const args &a, const blk &b, size_t orow) {
  return a.part + ((size_t)b.s * b.R + orow) * a.d;
}
__device__ __forceinline__ float *part_ml(const args &a, const blk &b, size_t orow) {
  return a.part + (size_t)a.nsplit * b.R * a.d + ((size_t)b.s * b.R + orow) * 2;
}

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

/* 16-byte shared-memory stores */
__device__ __forceinline__ void st_zero16(void *p) { *(uint4 *)p = make_uint4(0u, 0u, 0u, 0u); }

/* ------------------------------------------------------------------ tensor-core kernel */
template <class T> __device__ __forceinline__ unsigned pack2(float lo, float hi);
template <> __device__ __forceinline__ unsigned pack2<gk_half>(float lo, float hi) {
  return gk_pack_half2(lo, hi);
}
template <> __device__ __forceinline__ unsigned pack2<gk_bf16>(float lo, float hi) {
  return gk_pack_bf162(lo, hi);
}
/* c += A B on the tensor cores */
template <class T>
__device__ __forceinline__ void mma(float c[4], const unsigned a[4], const unsigned b[2]);
template <>
__device__ __forceinline__ void mma<gk_half>(float c[4], const unsigned a[4], const unsigned b[2]) {
  gk_mma_m16n8k16_f16(c, a, b, c);
}
template <>
__device__ __forceinline__ void mma<gk_bf16>(float c[4], const unsigned a[4], const unsigned b[2]) {
  gk_mma_m16n8k16_bf16(c, a, b, c);
}

/* 8 16-bit elements from src[col..] (those >= d zero) to p: cp.async when
 * vec (the copies are the caller's to commit), else element loads */
template <class T>
__device__ __forceinline__ void tc_copy8(unsigned short *p, const T *src, size_t col, const args &a) {
  if (a.vec) {
    gk_cp_async16(p, src + col);
    return;
  }
  unsigned h[4];
#pragma unroll
  for (int e = 0; e < 4; e++) {
    unsigned lo = col + 2 * e < a.d ? src[col + 2 * e].x : 0u;
    unsigned hi = col + 2 * e + 1 < a.d ? src[col + 2 * e + 1].x : 0u;
    h[e] = lo | hi << 16;
  }
  *(uint4 *)p = make_uint4(h[0], h[1], h[2], h[3]);
}

/* Rows [0, NR) of one or two tiles of 16-bit elements into d0 and d1 [NR][D
 * + 8] (d1 NULL: one): row r from s0 + off(r) and s1 + off(r) (off(r) ==
 * GK_ATTN_NO_ROW: zeros), columns >= d zero.  K and V share their offsets
 * (and page-table reads). */
template <class T, int D, int NR, class F>
__device__ __forceinline__ void tc_load(unsigned short *d0, const T *s0, unsigned short *d1,
                                        const T *s1, const args &a, F off) {
  constexpr int CH = D / 8, LD = D + 8;
  for (int i = threadIdx.x; i < NR * CH; i += THREADS) {
    int r = i / CH, c = i - r * CH;
    size_t o = off(r), col = (size_t)c * 8;
    unsigned short *p0 = d0 + r * LD + c * 8, *p1 = d1 ? d1 + r * LD + c * 8 : nullptr;
    if (o != GK_ATTN_NO_ROW && col < a.d) {
      tc_copy8(p0, s0 + o, col, a);
      if (p1) tc_copy8(p1, s1 + o, col, a);
    } else {
      st_zero16(p0);
      if (p1) st_zero16(p1);
    }
  }
}

template <class T, int D, int BK>
__device__ __forceinline__ void tc_attention(const args &a) {
  constexpr int BQ = 64, LD = D + 8, KD = D / 16, NT = BK / 8, ND = D / 8;
  constexpr bool QREG = D <= 128;
  GK_DYN_SHARED(uint4, smem);
  /* Q has its own rows for D = 256 (read at every tile); for D <= 128 it is
   * read once, into registers, and lives in the second K stage (BK = BQ) */
  unsigned short *Ks = (unsigned short *)smem, *Vs = Ks + 2 * BK * LD;
  unsigned short *Qs = QREG ? Ks + BK * LD : Vs + 2 * BK * LD;
  const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5, g = lane >> 2, t4 = lane & 3;

  if (!a.part && pt_bad(a)) return;
  const blk b = block_of(a, BQ);
  const T *q = (const T *)a.q, *kb = (const T *)a.k, *vb = (const T *)a.v;
  const int ntiles = b.ke > b.ks ? (int)((b.ke - b.ks + BK - 1) / BK) : 0;
  /* this thread's two rows (g and g + 8 of its warp) */
  const size_t ra = b.r0 + (size_t)(w * 16 + g), rb = ra + 8;
  const size_t lima = row_lim(a, b, ra), limb = row_lim(a, b, rb);

  auto load_kv = [&](int stage, size_t k0) {
    tc_load<T, D, BK>(Ks + stage * BK * LD, kb, Vs + stage * BK * LD, vb, a, [&](int r) {
      size_t j = k0 + (size_t)r;
      return j < b.ke ? kv_off(a, b.kvh, j) : GK_ATTN_NO_ROW;
    });
  };

  float o[ND][4];
#pragma unroll
  for (int n = 0; n < ND; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m[2] = {neg_inf(), neg_inf()}, l[2] = {0.0f, 0.0f};
  unsigned qf[QREG ? KD : 1][4];

  if (ntiles > 0) {
    tc_load<T, D, BQ>(Qs, q, nullptr, q, a, [&](int r) {
      size_t rr = b.r0 + (size_t)r;
      return rr < b.rows ? orow_of(a, b, rr) * a.d : GK_ATTN_NO_ROW;
    });
    load_kv(0, b.ks);
    gk_cp_async_commit();
  }
  /* warps whose rows are all padding (decode: q_len x group < 64) only load */
  const bool active = b.r0 + (size_t)(w * 16) < b.rows;
  const unsigned short *Qw = Qs + (w * 16 + (lane & 15)) * LD + (lane >> 4) * 8;
  for (int it = 0; it < ntiles; it++) {
    const size_t k0 = b.ks + (size_t)it * BK;
    if (QREG && it == 0) {
      /* Q and tile 0 in; Q to registers, then its rows take tile 1 */
      gk_cp_async_wait<0>();
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < (QREG ? KD : 1); kk++) gk_ldmatrix_x4(qf[kk], Qw + kk * 16);
      __syncthreads();
      if (ntiles > 1) load_kv(1, k0 + BK);
      gk_cp_async_commit();
    } else {
      if (it + 1 < ntiles) load_kv((it + 1) & 1, k0 + BK);
      gk_cp_async_commit();   /* possibly empty: wait<1> below then means "tile it" */
      gk_cp_async_wait<1>();
      __syncthreads();
    }
    const unsigned short *Kt = Ks + (it & 1) * BK * LD, *Vt = Vs + (it & 1) * BK * LD;
    if (active) {
      /* S = Q K^T: NT n-tiles of 8 keys */
      float s[NT][4];
#pragma unroll
      for (int n = 0; n < NT; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < KD; kk++) {
        unsigned qa[4];
        if (QREG) {
          qa[0] = qf[QREG ? kk : 0][0], qa[1] = qf[QREG ? kk : 0][1];
          qa[2] = qf[QREG ? kk : 0][2], qa[3] = qf[QREG ? kk : 0][3];
        } else {
          gk_ldmatrix_x4(qa, Qw + kk * 16);
        }
#pragma unroll
        for (int np = 0; np < NT / 2; np++) {
          unsigned kf[4];
          gk_ldmatrix_x4(kf, Kt + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * LD + kk * 16 +
                                 ((lane >> 3) & 1) * 8);
          mma<T>(s[2 * np], qa, kf);
          mma<T>(s[2 * np + 1], qa, kf + 2);
        }
      }

      /* online softmax of rows g (e = 0, 1) and g + 8 (e = 2, 3) */
      const bool masked = k0 + BK > (lima < limb ? lima : limb);
      const int rla = rel_lim(lima, k0, BK), rlb = rel_lim(limb, k0, BK);
      float mx[2] = {m[0], m[1]};
#pragma unroll
      for (int n = 0; n < NT; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
          float x = s[n][e] * a.sl;
          if (masked && n * 8 + 2 * t4 + (e & 1) >= (e < 2 ? rla : rlb)) x = neg_inf();
          s[n][e] = x;
          mx[e >> 1] = fmaxf(mx[e >> 1], x);
        }
      float mu[2], alpha[2], ls[2] = {0.0f, 0.0f};
#pragma unroll
      for (int i = 0; i < 2; i++) {
        mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
        mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
        mu[i] = mx[i] == neg_inf() ? 0.0f : mx[i];
        alpha[i] = exp2f(m[i] - mu[i]);
        m[i] = mx[i];
      }
#pragma unroll
      for (int n = 0; n < NT; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
          float p = exp2f(s[n][e] - mu[e >> 1]);
          s[n][e] = p;
          ls[e >> 1] += p;
        }
#pragma unroll
      for (int i = 0; i < 2; i++) l[i] = l[i] * alpha[i] + ls[i];
#pragma unroll
      for (int n = 0; n < ND; n++) {
        o[n][0] *= alpha[0], o[n][1] *= alpha[0];
        o[n][2] *= alpha[1], o[n][3] *= alpha[1];
      }

      /* O += P V: P (rounded to T) as the A fragments, 16 keys at a time */
#pragma unroll
      for (int kk = 0; kk < BK / 16; kk++) {
        unsigned pa[4];
        pa[0] = pack2<T>(s[2 * kk][0], s[2 * kk][1]);
        pa[1] = pack2<T>(s[2 * kk][2], s[2 * kk][3]);
        pa[2] = pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        pa[3] = pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3]);
        const unsigned short *vr = Vt + (kk * 16 + (lane & 15)) * LD + (lane >> 4) * 8;
#pragma unroll
        for (int dp = 0; dp < D / 16; dp++) {
          unsigned vf[4];
          gk_ldmatrix_x4_trans(vf, vr + dp * 16);
          mma<T>(o[2 * dp], pa, vf);
          mma<T>(o[2 * dp + 1], pa, vf + 2);
        }
      }
    }
    __syncthreads();   /* stage it & 1 is free for tile it + 2 */
  }

  /* the sums of the quads' lanes */
#pragma unroll
  for (int i = 0; i < 2; i++) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
  }
  if (a.part) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
      size_t r = i ? rb : ra;
      if (r >= b.rows) continue;
      size_t orow = orow_of(a, b, r);
      if (t4 == 0) {
        float *ml = part_ml(a, b, orow);
        ml[0] = m[i];
        ml[1] = l[i];
      }
      float *po = part_o(a, b, orow);
#pragma unroll
      for (int n = 0; n < ND; n++) {
        size_t c = (size_t)(n * 8 + 2 * t4);
        if (c < a.d) po[c] = o[n][2 * i];
        if (c + 1 < a.d) po[c + 1] = o[n][2 * i + 1];
      }
    }
    return;
  }
  /* normalise, round, stage in the warp's own rows of Qs (every copy has
   * landed and every warp is past the loop's last barrier), then 16-byte
   * stores */
  float inv[2];
#pragma unroll
  for (int i = 0; i < 2; i++) inv[i] = l[i] == 0.0f ? 0.0f : 1.0f / l[i];
  unsigned short *Ow = Qs + (w * 16) * LD;
#pragma unroll
  for (int n = 0; n < ND; n++) {
    *(unsigned *)(Ow + g * LD + n * 8 + 2 * t4) = pack2<T>(o[n][0] * inv[0], o[n][1] * inv[0]);
    *(unsigned *)(Ow + (g + 8) * LD + n * 8 + 2 * t4) =
        pack2<T>(o[n][2] * inv[1], o[n][3] * inv[1]);
  }
  __syncwarp();
  T *out = (T *)a.out;
  for (int i = lane; i < 16 * ND; i += 32) {
    int rr = i / ND, c = i - rr * ND;
    size_t r = b.r0 + (size_t)(w * 16 + rr), col = (size_t)c * 8;
    if (r >= b.rows || col >= a.d) continue;
    T *dst = out + orow_of(a, b, r) * a.d + col;
    const unsigned short *srow = Ow + rr * LD + c * 8;
    if (a.vec) {
      *(uint4 *)dst = *(const uint4 *)srow;
    } else {
      for (int e = 0; e < 8 && col + e < a.d; e++) dst[e].x = srow[e];
    }
  }
}

/* ------------------------------------------------------------------ FFMA kernel */
/* Rows [0, nr) x columns [col0, col0 + W) of a tile into dst [nr][W + 4] as
 * f32: row r from rowp(r) (NULL: zeros), columns >= d zero.  cp.async when
 * vec (f32 only; the copies are the caller's to commit and wait). */
template <class T, int W, class F>
__device__ __forceinline__ void ff_load(float *dst, int nr, size_t col0, const args &a, F rowp) {
  constexpr int CH = W / 4, LD = W + 4;
  for (int i = threadIdx.x; i < nr * CH; i += THREADS) {
    int r = i / CH, c = i - r * CH;
    const T *src = rowp(r);
    float *p = dst + r * LD + c * 4;
    size_t col = col0 + (size_t)c * 4;
    if (src && col < a.d) {
      if (a.vec) {
        gk_cp_async16(p, src + col);
      } else {
        float v[4];
#pragma unroll
        for (int e = 0; e < 4; e++) v[e] = col + e < a.d ? gk_to_f32(src[col + e]) : 0.0f;
        *(float4 *)p = make_float4(v[0], v[1], v[2], v[3]);
      }
    } else {
      st_zero16(p);
    }
  }
}

template <class T, int NJ>
__device__ __forceinline__ void ff_attention(const args &a) {
  constexpr int BQ = 32, BK = NJ <= 4 ? 32 : 16, DC = 32 * NJ, LD = DC + 4, KT = BK / 8;
  constexpr int PL = BK + 1;
  GK_DYN_SHARED(uint4, smem);
  float *Qs = (float *)smem, *Ks = Qs + BQ * LD, *Vs = Ks + BK * LD, *Ps = Vs + BK * LD;
  const int tid = threadIdx.x, ty = tid >> 3, tx = tid & 7;

  if (!a.part && pt_bad(a)) return;
  const blk b = block_of(a, BQ);
  const T *q = (const T *)a.q, *kb = (const T *)a.k, *vb = (const T *)a.v;
  const int ntiles = b.ke > b.ks ? (int)((b.ke - b.ks + BK - 1) / BK) : 0;
  const size_t nch = (a.d + DC - 1) / DC, oc = blockIdx.z, ocol = oc * DC;
  const size_t ra = b.r0 + (size_t)(2 * ty), rb = ra + 1;
  const size_t lima = row_lim(a, b, ra), limb = row_lim(a, b, rb);

  auto qrow = [&](int r) -> const T * {
    size_t rr = b.r0 + (size_t)r;
    return rr < b.rows ? q + orow_of(a, b, rr) * a.d : nullptr;
  };
  auto load_k = [&](size_t k0, size_t col0) {
    ff_load<T, DC>(Ks, BK, col0, a, [&](int r) -> const T * {
      size_t j = k0 + (size_t)r;
      return j < b.ke ? kv_row(a, kb, b.kvh, j) : nullptr;
    });
  };
  auto load_v = [&](size_t k0) {
    ff_load<T, DC>(Vs, BK, ocol, a, [&](int r) -> const T * {
      size_t j = k0 + (size_t)r;
      return j < b.ke ? kv_row(a, vb, b.kvh, j) : nullptr;
    });
  };
  /* s += Q K^T over the staged columns [0, w) (w a multiple of 4) */
  auto qk = [&](float (&s)[2][KT], int wcols) {
    const float *q0 = Qs + (2 * ty) * LD, *q1 = q0 + LD, *k = Ks + tx * LD;
#pragma unroll 2
    for (int p = 0; p < wcols; p += 4) {
      float4 a0 = *(const float4 *)(q0 + p), a1 = *(const float4 *)(q1 + p);
#pragma unroll
      for (int j = 0; j < KT; j++) {
        float4 kv = *(const float4 *)(k + 8 * j * LD + p);
        s[0][j] = fmaf(a0.x, kv.x, s[0][j]);
        s[0][j] = fmaf(a0.y, kv.y, s[0][j]);
        s[0][j] = fmaf(a0.z, kv.z, s[0][j]);
        s[0][j] = fmaf(a0.w, kv.w, s[0][j]);
        s[1][j] = fmaf(a1.x, kv.x, s[1][j]);
        s[1][j] = fmaf(a1.y, kv.y, s[1][j]);
        s[1][j] = fmaf(a1.z, kv.z, s[1][j]);
        s[1][j] = fmaf(a1.w, kv.w, s[1][j]);
      }
    }
  };

  float o[2][NJ][4];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < NJ; j++) o[i][j][0] = o[i][j][1] = o[i][j][2] = o[i][j][3] = 0.0f;
  float m[2] = {neg_inf(), neg_inf()}, l[2] = {0.0f, 0.0f};

  /* the online softmax of the tile at k0 (s holds the raw scores), P to Ps */
  auto softmax = [&](float (&s)[2][KT], size_t k0) {
    const bool masked = k0 + BK > (lima < limb ? lima : limb);
    const int rl[2] = {rel_lim(lima, k0, BK), rel_lim(limb, k0, BK)};
#pragma unroll
    for (int i = 0; i < 2; i++) {
      float mx = m[i];
#pragma unroll
      for (int j = 0; j < KT; j++) {
        float x = s[i][j] * a.sl;
        if (masked && tx + 8 * j >= rl[i]) x = neg_inf();
        s[i][j] = x;
        mx = fmaxf(mx, x);
      }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
      float mu = mx == neg_inf() ? 0.0f : mx, alpha = exp2f(m[i] - mu), ls = 0.0f;
      m[i] = mx;
      float *pr = Ps + (2 * ty + i) * PL + tx;
#pragma unroll
      for (int j = 0; j < KT; j++) {
        float p = exp2f(s[i][j] - mu);
        pr[8 * j] = p;
        ls += p;
      }
      l[i] = l[i] * alpha + ls;
#pragma unroll
      for (int j = 0; j < NJ; j++) {
        o[i][j][0] *= alpha, o[i][j][1] *= alpha;
        o[i][j][2] *= alpha, o[i][j][3] *= alpha;
      }
    }
  };
  /* O += P V (Ps rows of this warp, Vs) */
  auto pv = [&]() {
    const float *p0 = Ps + (2 * ty) * PL, *p1 = p0 + PL, *vr = Vs + tx * 4;
#pragma unroll 4
    for (int kk = 0; kk < BK; kk++) {
      float w0 = p0[kk], w1 = p1[kk];
#pragma unroll
      for (int j = 0; j < NJ; j++) {
        float4 vv = *(const float4 *)(vr + kk * LD + 32 * j);
        o[0][j][0] = fmaf(w0, vv.x, o[0][j][0]);
        o[0][j][1] = fmaf(w0, vv.y, o[0][j][1]);
        o[0][j][2] = fmaf(w0, vv.z, o[0][j][2]);
        o[0][j][3] = fmaf(w0, vv.w, o[0][j][3]);
        o[1][j][0] = fmaf(w1, vv.x, o[1][j][0]);
        o[1][j][1] = fmaf(w1, vv.y, o[1][j][1]);
        o[1][j][2] = fmaf(w1, vv.z, o[1][j][2]);
        o[1][j][3] = fmaf(w1, vv.w, o[1][j][3]);
      }
    }
  };

  const int wq = (int)((a.d < (size_t)DC ? a.d : (size_t)DC) + 3) / 4 * 4;
  if (ntiles > 0 && nch == 1) {
    /* the whole Q tile stays; V's copy overlaps S, the next K's overlaps P V */
    ff_load<T, DC>(Qs, BQ, 0, a, qrow);
    load_k(b.ks, 0);
    gk_cp_async_commit();
    for (int it = 0; it < ntiles; it++) {
      const size_t k0 = b.ks + (size_t)it * BK;
      gk_cp_async_wait_all();
      __syncthreads();   /* K tile it in; every thread done with the last P V */
      load_v(k0);
      gk_cp_async_commit();
      float s[2][KT] = {};
      qk(s, wq);
      softmax(s, k0);
      gk_cp_async_wait_all();
      __syncthreads();   /* V tile it in; every thread done with Ks */
      if (it + 1 < ntiles) load_k(k0 + BK, 0);
      gk_cp_async_commit();
      pv();
    }
  } else {
    /* d > DC: S over the column chunks of Q and K in turn */
    for (int it = 0; it < ntiles; it++) {
      const size_t k0 = b.ks + (size_t)it * BK;
      float s[2][KT] = {};
      for (size_t c = 0; c < nch; c++) {
        __syncthreads();   /* every thread done with the previous chunk (and P V) */
        ff_load<T, DC>(Qs, BQ, c * DC, a, qrow);
        load_k(k0, c * DC);
        gk_cp_async_commit();
        gk_cp_async_wait_all();
        __syncthreads();
        size_t left = a.d - c * DC;
        qk(s, (int)((left < (size_t)DC ? left : (size_t)DC) + 3) / 4 * 4);
      }
      softmax(s, k0);
      __syncthreads();   /* every thread done with Vs (and Ps written) */
      load_v(k0);
      gk_cp_async_commit();
      gk_cp_async_wait_all();
      __syncthreads();
      pv();
    }
  }

#pragma unroll
  for (int i = 0; i < 2; i++) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 4);
  }
  T *out = (T *)a.out;
  const bool vec4 = a.vec && sizeof(T) == 4;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    size_t r = i ? rb : ra;
    if (r >= b.rows) continue;
    size_t orow = orow_of(a, b, r);
    float inv = l[i] == 0.0f ? 0.0f : 1.0f / l[i];
    float *po = nullptr;
    if (a.part) {
      po = part_o(a, b, orow);
      if (oc == 0 && tx == 0) {
        float *ml = part_ml(a, b, orow);
        ml[0] = m[i];
        ml[1] = l[i];
      }
    }
#pragma unroll
    for (int j = 0; j < NJ; j++) {
      size_t col = ocol + (size_t)(32 * j + 4 * tx);
      if (col >= a.d) continue;
      if (po) {
        for (int e = 0; e < 4 && col + e < a.d; e++) po[col + e] = o[i][j][e];
      } else if (vec4) {
        *(float4 *)(out + orow * a.d + col) =
            make_float4(o[i][j][0] * inv, o[i][j][1] * inv, o[i][j][2] * inv, o[i][j][3] * inv);
      } else {
        for (int e = 0; e < 4 && col + e < a.d; e++)
          out[orow * a.d + col + e] = gk_from_f32<T>(o[i][j][e] * inv);
      }
    }
  }
}

/* ------------------------------------------------------------------ split reduce */
/* Most splits the reduce takes (cuda/ops_attention.c: ATTN_MAX_SPLITS). */
#define GK_ATTN_MAX_SPLITS 256

template <class T>
__device__ __forceinline__ void reduce(const args &a, float *wsm) {
  if (pt_bad(a)) return;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const size_t R = a.q_len * a.heads, d = a.d;
  const unsigned ns = a.nsplit;
  const float *ml = a.part + (size_t)ns * R * d;
  float *wt = wsm + w * GK_ATTN_MAX_SPLITS;
  T *out = (T *)a.out;
  for (size_t row = (size_t)blockIdx.x * (THREADS / 32) + w; row < R;
       row += (size_t)gridDim.x * (THREADS / 32)) {
    float mx = neg_inf();
    for (unsigned s = lane; s < ns; s += 32) mx = fmaxf(mx, ml[((size_t)s * R + row) * 2]);
    mx = gk_warp_reduce(mx, gk_op_max());
    float mu = mx == neg_inf() ? 0.0f : mx, lsum = 0.0f;
    for (unsigned s = lane; s < ns; s += 32) {
      const float *e = ml + ((size_t)s * R + row) * 2;
      float f = exp2f(e[0] - mu);
      wt[s] = f;
      lsum += e[1] * f;
    }
    lsum = gk_warp_reduce(lsum, gk_op_sum());
    __syncwarp();
    float inv = lsum == 0.0f ? 0.0f : 1.0f / lsum;
    for (size_t c = lane; c < d; c += 32) {
      float acc = 0.0f;
      for (unsigned s = 0; s < ns; s++)
        acc = fmaf(wt[s], a.part[((size_t)s * R + row) * d + c], acc);
      out[row * d + c] = gk_from_f32<T>(acc * inv);
    }
    __syncwarp();   /* wt is rewritten for the next row */
  }
}

} /* namespace gk_attn */

/* ------------------------------------------------------------------ kernels
 * Every attention kernel takes the same parameters (cuda/ops_attention.c). */
#define GK_ATTN_PARAMS(T)                                                                        \
  const T *q, const T *k, const T *v, T *out, float *part, const unsigned *pt,                   \
      const unsigned *flags, unsigned nflags, size_t q_len, size_t kv_len, size_t heads,         \
      size_t kv_heads, size_t d, size_t page_size, size_t n_pages, size_t chunk,                 \
      unsigned row_tiles, unsigned nsplit, float sl, int causal, int vec
#define GK_ATTN_ARGS                                                                             \
  gk_attn::args a = {q,         k,     v,     out,       part,      pt,        flags,          \
                     nflags,    q_len, kv_len, heads,    kv_heads,  d,         page_size,      \
                     n_pages,   chunk, row_tiles, nsplit, sl,       causal,    vec}

#define GK_ATTN_TC_KERNEL(T, dt, D, BK, MINB)                                                    \
  extern "C" __global__ void __launch_bounds__(GK_ATTN_THREADS, MINB)                            \
      gk_flash_attn_##dt##_d##D(GK_ATTN_PARAMS(T)) {                                             \
    GK_ATTN_ARGS;                                                                                \
    gk_attn::tc_attention<T, D, BK>(a);                                                          \
  }                                                                                              \
  GK_EXPORT(gk_flash_attn_##dt##_d##D);

/* MINB: blocks per SM that ptxas must allow (an explicit register budget:
 * without one, ptxas for sm_120 aims at full occupancy and spills) */
#define GK_ATTN_FF_KERNEL(T, dt, D, MINB)                                                        \
  extern "C" __global__ void __launch_bounds__(GK_ATTN_THREADS, MINB)                            \
      gk_flash_attn_ffma_##dt##_d##D(GK_ATTN_PARAMS(T)) {                                        \
    GK_ATTN_ARGS;                                                                                \
    gk_attn::ff_attention<T, D / 32>(a);                                                         \
  }                                                                                              \
  GK_EXPORT(gk_flash_attn_ffma_##dt##_d##D);

#define GK_ATTN_REDUCE_KERNEL(T, dt)                                                             \
  extern "C" __global__ void __launch_bounds__(GK_ATTN_THREADS, 8)                               \
      gk_flash_attn_reduce_##dt(GK_ATTN_PARAMS(T)) {                                             \
    GK_ATTN_ARGS;                                                                                \
    GK_SHARED(float, wsm, GK_ATTN_MAX_SPLITS *(GK_ATTN_THREADS / 32));                           \
    gk_attn::reduce<T>(a, wsm);                                                                  \
  }                                                                                              \
  GK_EXPORT(gk_flash_attn_reduce_##dt);

GK_ATTN_TC_KERNEL(gk_half, f16, 64, 64, 3)
GK_ATTN_TC_KERNEL(gk_half, f16, 80, 64, 3)
GK_ATTN_TC_KERNEL(gk_half, f16, 96, 64, 3)
GK_ATTN_TC_KERNEL(gk_half, f16, 128, 64, 2)
GK_ATTN_TC_KERNEL(gk_half, f16, 256, 32, 2)
GK_ATTN_TC_KERNEL(gk_bf16, bf16, 64, 64, 3)
GK_ATTN_TC_KERNEL(gk_bf16, bf16, 80, 64, 3)
GK_ATTN_TC_KERNEL(gk_bf16, bf16, 96, 64, 3)
GK_ATTN_TC_KERNEL(gk_bf16, bf16, 128, 64, 2)
GK_ATTN_TC_KERNEL(gk_bf16, bf16, 256, 32, 2)

GK_ATTN_FF_KERNEL(float, f32, 64, 4)
GK_ATTN_FF_KERNEL(float, f32, 96, 4)
GK_ATTN_FF_KERNEL(float, f32, 128, 3)
GK_ATTN_FF_KERNEL(float, f32, 256, 2)
GK_ATTN_FF_KERNEL(gk_half, f16, 256, 2)
GK_ATTN_FF_KERNEL(gk_bf16, bf16, 256, 2)

GK_ATTN_REDUCE_KERNEL(float, f32)
GK_ATTN_REDUCE_KERNEL(gk_half, f16)
GK_ATTN_REDUCE_KERNEL(gk_bf16, bf16)
