/* l3.cu -- the model-layer operators: linear's decode GEMV, kv_store, tree_attention, sample
 * SPDX-License-Identifier: MIT
 *
 * The CPU functions (lib/core/l3_tpl.h, lib/core/sample_tpl.h) define the
 * semantics; cuda/ops_l3.c and cuda/ops_gemm.c check the arguments and
 * launch these kernels.  Index arrays (page table, seq, slot, ctx, extra)
 * live on the device: the kernels check every entry they use and never turn
 * a bad one into an address (what each kernel then writes is said below).
 *
 * gk_linear_gemv_<dt>: y[m x n] = x[m x k] . W^T (+ bias) for m <= GK_LIN_MAXM
 *   (decode).  One warp per W row (output column j), GK_LIN_WARPS rows per
 *   block: the warp streams W's row in 16-byte vectors (when vec: W and x
 *   16-byte aligned, k * sizeof(T) a multiple of 16; else element by
 *   element), each lane keeps one f32 accumulator per row of x (x is read
 *   through the read-only path: L1 keeps it for the block's other warps),
 *   the lanes combine with a butterfly of shuffles, lane 0 adds the bias and
 *   rounds once.
 *
 * gk_kv_store_<dt>: one block per token i; k[i], v[i] (kv_heads * head_dim
 *   elements) to the slot the page table gives for (seq[i], slot[i]).  Every
 *   block first checks every token's entry (seq < n_seqs, slot < max_pages *
 *   page_size, page < n_pages): when one is bad, no block writes anything
 *   (the CPU function's GLLMK_E_INVAL, which writes nothing; here the call
 *   has returned GLLMK_OK).  When two tokens go to the same cache slot the
 *   later one wins, as on the CPU (a block whose slot a later token also
 *   writes stores nothing).  O(n) checks per block: n is a step's tokens.
 *
 * gk_tree_attn_<dt>: flash-decoding style, one block per (query token i,
 *   kv head g, chunk of GQA heads): the block's query heads (at most rb of
 *   the group) in shared memory as f32, keys and values streamed through
 *   shared memory in tiles of tk tokens (f32), the scores of a tile (rb x
 *   tk, one thread per score, dot in f32 over head_dim) then an online
 *   softmax per head in f32 (tile max, rescale by e^(m_old - m_new)) and the
 *   rescaled accumulators acc[h][e] (one thread per element).  Visible
 *   tokens: the sequence's 0 .. ctx[i]-1, then extra[extra_start[i] ..
 *   extra_start[i+1]).  A query whose entries are bad (seq >= n_seqs, ctx >
 *   max_pages * page_size, extra_start not increasing or > n_extra, a page >=
 *   n_pages, an extra token out of range; or any visible token while
 *   page_table is NULL, as the host makes it when a cache is) leaves its
 *   out rows unchanged.
 *   Dynamic shared memory, floats: rb*d (Q) + rb*d (acc) + tk*(d|1) (K, rows
 *   of odd stride) + tk*d (V) + rb*tk (scores) + 3*rb (max, sum, rescale).
 *
 * gk_tree_attn_split_<dt>, gk_tree_attn_reduce_<dt>: the same with each
 *   query's visible tokens split (flash-decoding) when the host finds too
 *   few blocks for the SMs (cuda/ops_l3.c has the rule): grid z is head
 *   chunk x nsplit, the split block sp takes the sp-th run of cw visible
 *   tokens, cw = ceil(nvis / nsplit) rounded up to whole tiles and at least
 *   cmin (runs past nvis are empty; the extras, after the context, fall in
 *   the last runs), checks only that run's entries and writes an f32
 *   partial to the workspace: a bad flag, the running max and sum per head
 *   and the unnormalised accumulators.  The reduce (one block per (query,
 *   kv head, head chunk)) leaves the query's rows when any run flagged it,
 *   else rescales each run by e^(m_s - M) and adds the runs in order 0 ..
 *   nsplit-1: the values depend only on the inputs and nsplit.
 *
 * gk_sample_<dt>: one block per row (grid-stride over rows: each block owns
 *   vocab floats of the workspace for p), the steps of sample_tpl.h in its
 *   order: f32 logits with NaN as -inf; the repetition penalty (one thread
 *   per recent id, skipping an id seen earlier in the window); the argmax
 *   (lowest id on ties); for a draw p[j] = e^((z[j] - max) / T), rounded from
 *   a double e^x as the CPU's expf is (correctly rounded but in very rare
 *   cases).  The candidates are those with p > 0 in the order (p
 *   descending, id ascending); instead of sorting, the kept sets are
 *   thresholds in that order, found by bisection on p's bits (p >= 0, so
 *   its bits order like its value) with fixed-order block reductions:
 *     top_k: the largest key Tk with count(key >= Tk) >= top_k, then the id
 *       of the (top_k - count(key > Tk))-th candidate with key Tk in id
 *       order (a block scan): kept = key > Tk, or key == Tk and id <= that;
 *     top_p: over the top-k set, total in double, the largest key Tp whose
 *       mass(key >= Tp) >= top_p * total; within Tp's ties the count that
 *       reaches it, and that tie's id by a scan;
 *     min_p: p >= min_p.
 *   The draw: u = Philox (lib/core/philox.h) times the kept mass (double),
 *   and the first kept id in id order whose running sum (double, a block
 *   scan) exceeds u; the last kept id when rounding leaves none.  The sums
 *   are in double in another order than the CPU's, so an id differs only
 *   when u is within ~1e-15 relative of a boundary.
 */
#include "gk_float.cuh"
#include "../lib/core/philox.h"

/* ------------------------------------------------------------------ linear (decode) */
#define GK_LIN_MAXM 8     /* rows of x the GEMV takes (one accumulator each per lane) */
#define GK_LIN_WARPS 8    /* W rows (warps) per block: 256 threads */
#define GK_LIN_UNROLL 2   /* 16-byte vectors of W in flight per lane */

namespace gk_l3 {

template <class T>
__device__ __forceinline__ void linear_gemv(const T *x, const T *W, const T *bias, T *y, size_t m,
                                            size_t n, size_t k, int vec) {
  const int V = gk_vec<T>::N, U = GK_LIN_UNROLL;
  unsigned lane = threadIdx.x % 32;
  size_t j = (size_t)blockIdx.x * GK_LIN_WARPS + threadIdx.x / 32;
  if (j >= n) return;   /* whole warps */
  const T *w = W + j * k;
  float acc[GK_LIN_MAXM];
#pragma unroll
  for (int i = 0; i < GK_LIN_MAXM; i++) acc[i] = 0.0f;
  size_t kv = 0;
  if (vec) {
    size_t nv = k / V;
    const uint4 *wv = (const uint4 *)w;
    for (size_t v0 = lane; v0 < nv; v0 += (size_t)U * 32) {
      uint4 rw[U];
#pragma unroll
      for (int u = 0; u < U; u++)
        if (v0 + u * 32 < nv) rw[u] = gk_ldg16_stream(wv + v0 + u * 32);
#pragma unroll
      for (int u = 0; u < U; u++) {
        size_t v = v0 + u * 32;
        if (v < nv) {
          float fw[V];
          gk_unpack(rw[u], fw, w);
#pragma unroll
          for (int i = 0; i < GK_LIN_MAXM; i++) {
            if ((size_t)i < m) {
              float fx[V];
              gk_unpack(gk_ldg16((const uint4 *)(x + i * k) + v), fx, w);
#pragma unroll
              for (int e = 0; e < V; e++) acc[i] = fmaf(fw[e], fx[e], acc[i]);
            }
          }
        }
      }
    }
    kv = nv * V;
  }
  for (size_t c = kv + lane; c < k; c += 32) {
    float fw = gk_ld1(w + c);
#pragma unroll
    for (int i = 0; i < GK_LIN_MAXM; i++)
      if ((size_t)i < m) acc[i] = fmaf(fw, gk_ld1(x + i * k + c), acc[i]);
  }
  float b = bias ? gk_ld1(bias + j) : 0.0f;
#pragma unroll
  for (int i = 0; i < GK_LIN_MAXM; i++) {
    if ((size_t)i >= m) break;
    float r = acc[i];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) r += __shfl_xor_sync(0xffffffffu, r, o);
    if (lane == 0) gk_st1(y + i * n + j, bias ? r + b : r);
  }
}

/* ------------------------------------------------------------------ kv_store */
#define GK_KV_THREADS 128

/* the cache row (page * page_size + slot % page_size) of token (s, t), or
 * ~0 when an entry is out of range */
__device__ __forceinline__ size_t kv_at(const uint32_t *pt, size_t s, size_t t, size_t page_size,
                                        size_t n_pages, size_t n_seqs, size_t max_pages) {
  if (s >= n_seqs || t >= max_pages * page_size) return ~(size_t)0;
  uint32_t pg = pt[s * max_pages + t / page_size];
  if (pg >= n_pages) return ~(size_t)0;
  return (size_t)pg * page_size + t % page_size;
}

template <class T>
__device__ __forceinline__ void kv_store(const T *k, const T *v, T *kc, T *vc, const uint32_t *pt,
                                         const uint32_t *seq, const uint32_t *slot, size_t n,
                                         size_t row, size_t page_size, size_t n_pages,
                                         size_t n_seqs, size_t max_pages, int vec) {
  size_t i = blockIdx.x;
  size_t at = kv_at(pt, seq[i], slot[i], page_size, n_pages, n_seqs, max_pages);
  bool skip = false;
  for (size_t j = threadIdx.x; j < n; j += blockDim.x) {
    size_t aj = j == i ? at : kv_at(pt, seq[j], slot[j], page_size, n_pages, n_seqs, max_pages);
    if (aj == ~(size_t)0 || (j > i && aj == at)) skip = true;
  }
  if (__syncthreads_or(skip)) return;
  const T *ks = k + i * row, *vs = v + i * row;
  T *kd = kc + at * row, *vd = vc + at * row;
  if (vec) {   /* rows whole 16-byte vectors, every base aligned */
    size_t nv = row * sizeof(T) / 16;
    for (size_t c = threadIdx.x; c < nv; c += blockDim.x) {
      ((uint4 *)kd)[c] = gk_ldg16((const uint4 *)ks + c);
      ((uint4 *)vd)[c] = gk_ldg16((const uint4 *)vs + c);
    }
  } else {
    for (size_t c = threadIdx.x; c < row; c += blockDim.x) {
      kd[c] = ks[c];
      vd[c] = vs[c];
    }
  }
}

/* ------------------------------------------------------------------ tree attention */
#define GK_TREE_THREADS 128

/* One (query i, kv head g, head chunk) over the visible tokens [jb, je) of
 * the query (its context, then its extras).  SPLIT false: the block takes
 * them all and writes out.  SPLIT true: grid z is chunk * nsplit + split sp,
 * the block takes the sp-th run of cw tokens (cw: ceil(nvis / nsplit)
 * rounded up to whole tiles, at least cmin; the runs past nvis are empty)
 * and writes its partial into part's slot (i, g, chunk, sp) of sf floats:
 * [0] 1 when the query is bad, [1, 1 + rb) the running max, [1 + rb, 1 +
 * 2 rb) the sum, then rb x d unnormalised accumulators (all f32). */
template <class T, bool SPLIT>
__device__ __forceinline__ void tree_attn(const T *q, const T *kc, const T *vc, const uint32_t *pt,
                                          const uint32_t *seq, const uint32_t *ctx,
                                          const uint32_t *xs, const uint32_t *xl, T *out,
                                          size_t heads, size_t kv_heads, size_t d,
                                          size_t page_size, size_t n_pages, size_t n_seqs,
                                          size_t max_pages, size_t n_extra, float scale,
                                          unsigned rb, unsigned tk, unsigned nsplit,
                                          unsigned cmin, float *part) {
  GK_DYN_SHARED(float, sm);
  size_t i = blockIdx.x, g = blockIdx.y, r = heads / kv_heads;
  unsigned chunk = SPLIT ? blockIdx.z / nsplit : blockIdx.z, sp = SPLIT ? blockIdx.z % nsplit : 0;
  size_t h0 = (size_t)chunk * rb;
  unsigned nh = (unsigned)(r - h0 < rb ? r - h0 : rb);   /* this block's heads */
  unsigned tid = threadIdx.x, nt = blockDim.x;
  size_t kp = d | 1;   /* K's row stride: odd, so the threads of a score step (one key each) use
                          different banks */
  float *qs = sm, *acc = qs + (size_t)rb * d, *ks = acc + (size_t)rb * d, *vs = ks + (size_t)tk * kp;
  float *ss = vs + (size_t)tk * d, *mx = ss + rb * tk, *lsum = mx + rb, *alpha = lsum + rb;
  float *slot = SPLIT ? part + (((i * kv_heads + g) * (gridDim.z / nsplit) + chunk) * nsplit + sp) *
                               (1 + (size_t)rb * (d + 2))
                      : NULL;

  /* the query's entries (split: those of this block's run; the reduce
   * leaves the query when any run of it is bad, as one block would) */
  size_t s = seq[i], nctx = ctx[i], x0 = xs[i], x1 = xs[i + 1], tokens = max_pages * page_size;
  bool bad = s >= n_seqs || nctx > tokens || x0 > x1 || x1 > n_extra;
  if (!pt && (nctx || x1 > x0)) bad = true;   /* no table (or no caches: the host passes none) */
  size_t nvis = bad ? 0 : nctx + (x1 - x0), jb = 0, je = nvis;
  if (SPLIT && !bad) {
    size_t cw = (nvis + nsplit - 1) / nsplit;
    cw = (cw + tk - 1) / tk * tk;
    if (cw < cmin) cw = cmin;
    jb = (size_t)sp * cw < nvis ? (size_t)sp * cw : nvis;
    je = nvis - jb < cw ? nvis : jb + cw;
  }
  if (!bad) {
    size_t ce = je < nctx ? je : nctx;   /* context tokens [jb, ce), extras [xb, je) */
    size_t p0 = jb < ce ? jb / page_size : 0, p1 = jb < ce ? (ce - 1) / page_size + 1 : 0;
    for (size_t p = p0 + tid; p < p1; p += nt)
      if (pt[s * max_pages + p] >= n_pages) bad = true;
    size_t xb = jb > nctx ? jb : nctx;
    for (size_t e = x0 + (xb - nctx) + tid; e < x0 + (je > nctx ? je - nctx : 0); e += nt) {
      size_t t = xl[e];
      if (t >= tokens || pt[s * max_pages + t / page_size] >= n_pages) bad = true;
    }
  }
  if (__syncthreads_or(bad)) {
    if (SPLIT && tid == 0) slot[0] = 1.0f;
    return;
  }

  size_t row = kv_heads * d;
  const T *qi = q + (i * heads + g * r + h0) * d;
  for (size_t e = tid; e < (size_t)nh * d; e += nt) {
    qs[e] = gk_ld1(qi + e);
    acc[e] = 0.0f;
  }
  for (unsigned h = tid; h < nh; h += nt) mx[h] = -INFINITY, lsum[h] = 0.0f;
  for (size_t j0 = jb; j0 < je; j0 += tk) {
    unsigned nj = (unsigned)(je - j0 < tk ? je - j0 : tk);
    __syncthreads();   /* the previous tile's readers are done */
    for (size_t e = tid; e < (size_t)nj * d; e += nt) {
      size_t jj = j0 + e / d, t = jj < nctx ? jj : xl[x0 + jj - nctx];
      size_t at = ((size_t)pt[s * max_pages + t / page_size] * page_size + t % page_size) * row +
                  g * d + e % d;
      ks[e / d * kp + e % d] = gk_ld1(kc + at);
      vs[e] = gk_ld1(vc + at);
    }
    __syncthreads();
    for (unsigned e = tid; e < nh * nj; e += nt) {
      unsigned h = e / nj, jj = e % nj;
      const float *a = qs + (size_t)h * d, *b = ks + (size_t)jj * kp;
      float dot = 0.0f;
      for (size_t c = 0; c < d; c++) dot = fmaf(a[c], b[c], dot);
      ss[h * tk + jj] = scale * dot;
    }
    __syncthreads();
    for (unsigned h = tid; h < nh; h += nt) {   /* online softmax, per head */
      float m0 = mx[h], m1 = m0;
      for (unsigned jj = 0; jj < nj; jj++) m1 = fmaxf(m1, ss[h * tk + jj]);
      float al = m1 == -INFINITY ? 1.0f : expf(m0 - m1), l = lsum[h] * al;
      for (unsigned jj = 0; jj < nj; jj++) {
        float p = m1 == -INFINITY ? 0.0f : expf(ss[h * tk + jj] - m1);
        ss[h * tk + jj] = p;
        l += p;
      }
      mx[h] = m1;
      lsum[h] = l;
      alpha[h] = al;
    }
    __syncthreads();
    for (size_t e = tid; e < (size_t)nh * d; e += nt) {
      size_t h = e / d, c = e % d;
      float a = acc[e] * alpha[h];
      for (unsigned jj = 0; jj < nj; jj++) a = fmaf(ss[h * tk + jj], vs[(size_t)jj * d + c], a);
      acc[e] = a;
    }
  }
  __syncthreads();
  if (SPLIT) {   /* the partial: flag, max, sum, accumulators (rows past nh unused) */
    if (tid == 0) slot[0] = 0.0f;
    for (unsigned h = tid; h < nh; h += nt) slot[1 + h] = mx[h], slot[1 + rb + h] = lsum[h];
    float *sa = slot + 1 + 2 * (size_t)rb;
    for (size_t e = tid; e < (size_t)nh * d; e += nt) sa[e] = acc[e];
    return;
  }
  T *o = out + (i * heads + g * r + h0) * d;
  for (size_t e = tid; e < (size_t)nh * d; e += nt) {
    float l = lsum[e / d];
    gk_st1(o + e, l > 0.0f ? acc[e] * (1.0f / l) : 0.0f);
  }
}

/* The partials of (query i, kv head g, head chunk z) into out: nothing
 * when a split found the query bad; else per head M = max m_s, L = sum l_s
 * e^(m_s - M), out = sum acc_s e^(m_s - M) (1 / L) (zeros when L is 0),
 * the splits summed in order 0 .. nsplit-1.  Dynamic shared memory: rb x
 * nsplit floats (each split's weight e^(m_s - M) (1 / L) per head). */
template <class T>
__device__ __forceinline__ void tree_reduce(const float *part, T *out, size_t heads,
                                            size_t kv_heads, size_t d, unsigned rb,
                                            unsigned nsplit) {
  GK_DYN_SHARED(float, w);
  size_t i = blockIdx.x, g = blockIdx.y, r = heads / kv_heads, h0 = (size_t)blockIdx.z * rb;
  unsigned nh = (unsigned)(r - h0 < rb ? r - h0 : rb), tid = threadIdx.x, nt = blockDim.x;
  size_t sf = 1 + (size_t)rb * (d + 2);
  const float *p0 = part + ((i * kv_heads + g) * gridDim.z + blockIdx.z) * nsplit * sf;
  bool bad = false;
  for (unsigned sp = tid; sp < nsplit; sp += nt)
    if (p0[sp * sf] != 0.0f) bad = true;
  if (__syncthreads_or(bad)) return;
  for (unsigned h = tid; h < nh; h += nt) {
    float M = -INFINITY, L = 0.0f;
    for (unsigned sp = 0; sp < nsplit; sp++) M = fmaxf(M, p0[sp * sf + 1 + h]);
    for (unsigned sp = 0; sp < nsplit; sp++) {
      float ls = p0[sp * sf + 1 + rb + h];   /* 0: an empty run (NaN stays, as in one block) */
      if (ls != 0.0f) L += ls * expf(p0[sp * sf + 1 + h] - M);
    }
    float inv = L != 0.0f ? 1.0f / L : 0.0f;
    for (unsigned sp = 0; sp < nsplit; sp++) {
      float ls = p0[sp * sf + 1 + rb + h];
      w[h * nsplit + sp] = ls != 0.0f ? expf(p0[sp * sf + 1 + h] - M) * inv : 0.0f;
    }
  }
  __syncthreads();
  T *o = out + (i * heads + g * r + h0) * d;
  for (size_t e = tid; e < (size_t)nh * d; e += nt) {
    size_t h = e / d;
    float a = 0.0f;
    for (unsigned sp = 0; sp < nsplit; sp++) {
      float ws = w[h * nsplit + sp];
      if (ws != 0.0f) a = fmaf(p0[sp * sf + 1 + 2 * (size_t)rb + e], ws, a);
    }
    gk_st1(o + e, a);
  }
}

/* ------------------------------------------------------------------ sample */
/* e^x in double, inline: libdevice's exp() has an out-of-line slow path
 * whose call spills on sm_100.  k = round(x / ln 2), r = x - k ln 2 (two
 * parts, |r| <= 0.35), e^r by its Taylor series to r^13 (truncation below
 * 2^-58 relative), then 2^k; within a few ulps of e^x, so that rounding to
 * float gives expf's correctly rounded value as exp() did.  NaN stays NaN,
 * x < -746 (and -inf) gives 0, x > 710 gives inf. */
__device__ __forceinline__ double gk_exp_d(double x) {
  if (x != x) return x;
  if (x < -746.0) return 0.0;
  if (x > 710.0) return __longlong_as_double(0x7ff0000000000000LL);
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  double k = rint(x * 1.44269504088896338700e+00);
  double r = fma(-k, ln2_lo, fma(-k, ln2_hi, x));
  double p = 1.0 / 6227020800.0;                 /* 1/13! */
  p = fma(p, r, 1.0 / 479001600.0);
  p = fma(p, r, 1.0 / 39916800.0);
  p = fma(p, r, 1.0 / 3628800.0);
  p = fma(p, r, 1.0 / 362880.0);
  p = fma(p, r, 1.0 / 40320.0);
  p = fma(p, r, 1.0 / 5040.0);
  p = fma(p, r, 1.0 / 720.0);
  p = fma(p, r, 1.0 / 120.0);
  p = fma(p, r, 1.0 / 24.0);
  p = fma(p, r, 1.0 / 6.0);
  p = fma(p, r, 0.5);
  p = fma(p, r, 1.0);
  p = fma(p, r, 1.0);
  return scalbn(p, (int)k);   /* k down to -1077: a subnormal result */
}

#define GK_SAMPLE_THREADS 256
#define GK_SAMPLE_WARPS (GK_SAMPLE_THREADS / 32)

/* block-wide reductions in a fixed order; red holds GK_SAMPLE_WARPS slots */
struct sample_smem {
  double dred[GK_SAMPLE_WARPS];
  unsigned ured[GK_SAMPLE_WARPS];
  float fred[GK_SAMPLE_WARPS];
  unsigned ired[GK_SAMPLE_WARPS];
  unsigned found;
  int pad;
};

__device__ __forceinline__ double block_sum_d(double v, sample_smem &S) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if (threadIdx.x % 32 == 0) S.dred[threadIdx.x / 32] = v;
  __syncthreads();
  double r = S.dred[0];
  for (int w = 1; w < GK_SAMPLE_WARPS; w++) r += S.dred[w];
  return r;
}

__device__ __forceinline__ unsigned block_sum_u(unsigned v, sample_smem &S) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if (threadIdx.x % 32 == 0) S.ured[threadIdx.x / 32] = v;
  __syncthreads();
  unsigned r = 0;
  for (int w = 0; w < GK_SAMPLE_WARPS; w++) r += S.ured[w];
  return r;
}

/* the largest value and the lowest id holding it */
__device__ __forceinline__ void block_argmax(float &v, unsigned &id, sample_smem &S) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    float v2 = __shfl_xor_sync(0xffffffffu, v, o);
    unsigned i2 = __shfl_xor_sync(0xffffffffu, id, o);
    if (v2 > v || (v2 == v && i2 < id)) v = v2, id = i2;
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) S.fred[threadIdx.x / 32] = v, S.ired[threadIdx.x / 32] = id;
  __syncthreads();
  v = S.fred[0], id = S.ired[0];
  for (int w = 1; w < GK_SAMPLE_WARPS; w++)
    if (S.fred[w] > v || (S.fred[w] == v && S.ired[w] < id)) v = S.fred[w], id = S.ired[w];
}

/* the selection state of a row: candidate j is kept when p > 0 and (p, j)
 * comes before both thresholds in the order (p descending, id ascending):
 * key > tkey, or key == tkey and id <= tid_ (a threshold with tkey 0 keeps
 * every candidate) */
struct sel {
  unsigned kkey, kid;   /* top-k threshold */
  unsigned pkey, pid;   /* top-p threshold */
  float min_p;
};

__device__ __forceinline__ bool before(unsigned key, unsigned id, unsigned tkey, unsigned tid_) {
  return key > tkey || (key == tkey && id <= tid_);
}

__device__ __forceinline__ bool kept(const sel &L, float p, unsigned id, bool use_p) {
  if (!(p > 0.0f)) return false;
  unsigned key = __float_as_uint(p);
  if (!before(key, id, L.kkey, L.kid)) return false;
  if (use_p && (!before(key, id, L.pkey, L.pid) || p < L.min_p)) return false;
  return true;
}

/* the id of the need-th (1-based) j in id order with key(p[j]) == key and
 * in the top-k set (need >= 1, and there are that many): a block scan */
__device__ __forceinline__ unsigned nth_tie(const float *p, size_t V, unsigned key, size_t need,
                                            const sel &L, sample_smem &S) {
  unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  size_t base = 0;   /* ties before this chunk */
  if (threadIdx.x == 0) S.found = ~0u;
  for (size_t c0 = 0; c0 < V; c0 += GK_SAMPLE_THREADS) {
    size_t j = c0 + threadIdx.x;
    bool f = false;
    if (j < V) {
      float pj = p[j];
      f = pj > 0.0f && __float_as_uint(pj) == key && before(key, (unsigned)j, L.kkey, L.kid);
    }
    unsigned bal = __ballot_sync(0xffffffffu, f);
    __syncthreads();   /* (S.ured's last readers, and S.found's writer at the start) */
    if (lane == 0) S.ured[warp] = __popc(bal);
    __syncthreads();
    size_t before_w = base, total = base;
    for (unsigned w = 0; w < GK_SAMPLE_WARPS; w++) {
      if (w < warp) before_w += S.ured[w];
      total += S.ured[w];
    }
    size_t rank = before_w + __popc(bal & ((1u << lane) - 1u)) + 1;
    if (f && rank == need) S.found = (unsigned)j;
    base = total;
    if (total >= need) break;   /* the same in every thread */
  }
  __syncthreads();
  return S.found;
}

/* count and mass (double) of the kept candidates (top-k set only) with key >= t */
__device__ __forceinline__ void count_mass(const float *p, size_t V, unsigned t, const sel &L,
                                           bool mass, unsigned &cnt, double &sum,
                                           sample_smem &S) {
  unsigned c = 0;
  double m = 0.0;
  for (size_t j = threadIdx.x; j < V; j += GK_SAMPLE_THREADS) {
    float pj = p[j];
    if (kept(L, pj, (unsigned)j, false) && __float_as_uint(pj) >= t) {
      c++;
      if (mass) m += (double)pj;
    }
  }
  cnt = block_sum_u(c, S);
  sum = mass ? block_sum_d(m, S) : 0.0;
}

template <class T>
__device__ __forceinline__ void sample(const T *logits, size_t rows, size_t V,
                                       const int32_t *recent, size_t window, float penalty,
                                       float temperature, size_t top_k, float top_p, float min_p,
                                       uint64_t seed, const uint32_t *rng, int32_t *ids,
                                       float *ws) {
  GK_SHARED(sample_smem, Sa, 1);
  sample_smem &S = Sa[0];
  float *z = ws + (size_t)blockIdx.x * V;
  const unsigned KEY_ONE = 0x3f800000u;   /* bits of 1.0f: p <= 1 */
  for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *lg = logits + r * V;
    __syncthreads();   /* the previous row's readers of z are done */
    for (size_t j = threadIdx.x; j < V; j += GK_SAMPLE_THREADS) {
      float v = gk_ld1(lg + j);
      z[j] = v != v ? -INFINITY : v;
    }
    __syncthreads();
    if (window && penalty != 1.0f) {
      const int32_t *rec = recent + r * window;
      for (size_t w = threadIdx.x; w < window; w += GK_SAMPLE_THREADS) {
        int32_t t = rec[w];
        if (t < 0 || (size_t)t >= V) continue;
        bool seen = false;
        for (size_t u = 0; u < w && !seen; u++) seen = rec[u] == t;
        if (seen) continue;
        z[t] = z[t] > 0.0f ? z[t] / penalty : z[t] * penalty;
      }
      __syncthreads();
    }
    /* argmax, lowest id */
    float bv = -INFINITY;
    unsigned bi = ~0u;
    for (size_t j = threadIdx.x; j < V; j += GK_SAMPLE_THREADS)
      if (bi == ~0u || z[j] > bv) bv = z[j], bi = (unsigned)j;
    block_argmax(bv, bi, S);
    if (temperature <= 0.0f || top_k == 1 || bv == -INFINITY) {
      if (threadIdx.x == 0) ids[r] = (int32_t)bi;
      continue;
    }
    float inv_t = 1.0f / temperature;
    __syncthreads();
    for (size_t j = threadIdx.x; j < V; j += GK_SAMPLE_THREADS)
      z[j] = (float)gk_exp_d((double)((z[j] - bv) * inv_t));   /* p[j]: expf's value */
    __syncthreads();
    sel L;
    L.kkey = 0, L.kid = ~0u, L.pkey = 0, L.pid = ~0u, L.min_p = min_p;
    size_t tk = top_k && top_k < V ? top_k : 0;
    unsigned cnt;
    double mass;
    if (tk) {
      count_mass(z, V, 1, L, false, cnt, mass, S);
      if (cnt > tk) {   /* else every candidate is kept */
        unsigned lo = 1, hi = KEY_ONE + 1;   /* count(>= lo) >= tk > count(>= hi) */
        while (hi - lo > 1) {
          unsigned mid = lo + (hi - lo) / 2;
          count_mass(z, V, mid, L, false, cnt, mass, S);
          if (cnt >= tk) lo = mid;
          else hi = mid;
        }
        count_mass(z, V, lo + 1, L, false, cnt, mass, S);   /* strictly above */
        unsigned id = nth_tie(z, V, lo, tk - cnt, L, S);
        L.kkey = lo, L.kid = id;
      }
    }
    if (top_p < 1.0f) {
      double total;
      count_mass(z, V, 1, L, true, cnt, total, S);
      double target = (double)top_p * total;
      unsigned lo = 1, hi = KEY_ONE + 1;   /* mass(>= lo) >= target > mass(>= hi) */
      while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        count_mass(z, V, mid, L, true, cnt, mass, S);
        if (mass >= target) lo = mid;
        else hi = mid;
      }
      double above;
      unsigned nabove, nall;
      count_mass(z, V, lo + 1, L, true, nabove, above, S);
      count_mass(z, V, lo, L, true, nall, mass, S);
      size_t ties = nall - nabove, need = 1;
      if (ties > 1) {   /* the ties added one at a time (the CPU's order) until target */
        double pt = (double)__uint_as_float(lo), sum = above + pt;
        while (need < ties && sum < target) sum += pt, need++;
      }
      L.pkey = lo;
      L.pid = ties ? nth_tie(z, V, lo, need, L, S) : ~0u;
    }
    /* the kept mass, the last kept id, then the draw by a scan in id order */
    const bool use_p = true;
    double m = 0.0;
    unsigned last = 0, any = 0;
    for (size_t j = threadIdx.x; j < V; j += GK_SAMPLE_THREADS)
      if (kept(L, z[j], (unsigned)j, use_p)) m += (double)z[j], last = (unsigned)j, any = 1;
    mass = block_sum_d(m, S);
    float lv = any ? 1.0f : -INFINITY;
    unsigned lid = ~0u - last;   /* the largest id: the lowest ~id */
    block_argmax(lv, lid, S);
    if (lv == -INFINITY) {   /* nothing kept */
      if (threadIdx.x == 0) ids[r] = (int32_t)bi;
      continue;
    }
    last = ~0u - lid;
    double u = (double)gllmk__philox_uniform(seed, rng[2 * r], rng[2 * r + 1]) * mass;
    unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    double run = 0.0;   /* the sum before this chunk */
    if (threadIdx.x == 0) S.found = ~0u;
    for (size_t c0 = 0; c0 < V; c0 += GK_SAMPLE_THREADS) {
      size_t j = c0 + threadIdx.x;
      double v = j < V && kept(L, z[j], (unsigned)j, use_p) ? (double)z[j] : 0.0;
      double inc = v;   /* inclusive warp scan */
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        double t = __shfl_up_sync(0xffffffffu, inc, o);
        if ((int)lane >= o) inc += t;
      }
      __syncthreads();
      if (lane == 31) S.dred[warp] = inc;
      __syncthreads();
      double pre = run, tot = run;
      for (unsigned w = 0; w < GK_SAMPLE_WARPS; w++) {
        if (w < warp) pre += S.dred[w];
        tot += S.dred[w];
      }
      bool hit = v > 0.0 && u < pre + inc;
      unsigned bal = __ballot_sync(0xffffffffu, hit);
      __syncthreads();
      if (lane == 0) S.ured[warp] = bal;
      __syncthreads();
      int done = 0;
      for (unsigned w = 0; w < GK_SAMPLE_WARPS && !done; w++)
        if (S.ured[w]) {
          done = 1;
          if (threadIdx.x == 0) S.found = (unsigned)(c0 + w * 32 + __ffs((int)S.ured[w]) - 1);
        }
      run = tot;
      if (done) break;
    }
    __syncthreads();
    if (threadIdx.x == 0) ids[r] = (int32_t)(S.found != ~0u ? S.found : last);
  }
}

} /* namespace gk_l3 */

#define GK_L3_KERNELS(T, dt)                                                                     \
  extern "C" __global__ void __launch_bounds__(GK_LIN_WARPS * 32)                                \
  gk_linear_gemv_##dt(const T *x, const T *W, const T *bias, T *y, size_t m, size_t n, size_t k, \
                      int vec) {                                                                 \
    gk_l3::linear_gemv<T>(x, W, bias, y, m, n, k, vec);                                          \
  }                                                                                              \
  GK_EXPORT(gk_linear_gemv_##dt);                                                                \
  extern "C" __global__ void __launch_bounds__(GK_KV_THREADS)                                    \
  gk_kv_store_##dt(const T *k, const T *v, T *kc, T *vc, const uint32_t *pt,                     \
                   const uint32_t *seq, const uint32_t *slot, size_t n, size_t row,              \
                   size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages, int vec) { \
    gk_l3::kv_store<T>(k, v, kc, vc, pt, seq, slot, n, row, page_size, n_pages, n_seqs,          \
                       max_pages, vec);                                                          \
  }                                                                                              \
  GK_EXPORT(gk_kv_store_##dt);                                                                   \
  extern "C" __global__ void __launch_bounds__(GK_TREE_THREADS)                                  \
  gk_tree_attn_##dt(const T *q, const T *kc, const T *vc, const uint32_t *pt,                    \
                    const uint32_t *seq, const uint32_t *ctx, const uint32_t *xs,                \
                    const uint32_t *xl, T *out, size_t heads, size_t kv_heads, size_t d,         \
                    size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages,           \
                    size_t n_extra, float scale, unsigned rb, unsigned tk) {                     \
    gk_l3::tree_attn<T, false>(q, kc, vc, pt, seq, ctx, xs, xl, out, heads, kv_heads, d,         \
                               page_size, n_pages, n_seqs, max_pages, n_extra, scale, rb, tk, 1, \
                               0, NULL);                                                         \
  }                                                                                              \
  GK_EXPORT(gk_tree_attn_##dt);                                                                  \
  extern "C" __global__ void __launch_bounds__(GK_TREE_THREADS)                                  \
  gk_tree_attn_split_##dt(const T *q, const T *kc, const T *vc, const uint32_t *pt,              \
                          const uint32_t *seq, const uint32_t *ctx, const uint32_t *xs,          \
                          const uint32_t *xl, float *part, size_t heads, size_t kv_heads,        \
                          size_t d, size_t page_size, size_t n_pages, size_t n_seqs,             \
                          size_t max_pages, size_t n_extra, float scale, unsigned rb,            \
                          unsigned tk, unsigned nsplit, unsigned cmin) {                         \
    gk_l3::tree_attn<T, true>(q, kc, vc, pt, seq, ctx, xs, xl, (T *)NULL, heads, kv_heads, d,    \
                              page_size, n_pages, n_seqs, max_pages, n_extra, scale, rb, tk,     \
                              nsplit, cmin, part);                                               \
  }                                                                                              \
  GK_EXPORT(gk_tree_attn_split_##dt);                                                            \
  extern "C" __global__ void __launch_bounds__(GK_TREE_THREADS)                                  \
  gk_tree_attn_reduce_##dt(const float *part, T *out, size_t heads, size_t kv_heads, size_t d,   \
                           unsigned rb, unsigned nsplit) {                                       \
    gk_l3::tree_reduce<T>(part, out, heads, kv_heads, d, rb, nsplit);                            \
  }                                                                                              \
  GK_EXPORT(gk_tree_attn_reduce_##dt);                                                           \
  extern "C" __global__ void __launch_bounds__(GK_SAMPLE_THREADS, 1)                             \
  gk_sample_##dt(const T *logits, size_t rows, size_t vocab, const int32_t *recent,              \
                 size_t window, float penalty, float temperature, size_t top_k, float top_p,     \
                 float min_p, uint64_t seed, const uint32_t *rng, int32_t *ids, float *ws) {     \
    gk_l3::sample<T>(logits, rows, vocab, recent, window, penalty, temperature, top_k, top_p,    \
                     min_p, seed, rng, ids, ws);                                                 \
  }                                                                                              \
  GK_EXPORT(gk_sample_##dt);

GK_L3_KERNELS(float, f32)
GK_L3_KERNELS(gk_half, f16)
GK_L3_KERNELS(gk_bf16, bf16)
