/* ops_attention.c -- the CUDA flash_attention and flash_attention_paged: checks, plan, launch
 * SPDX-License-Identifier: MIT
 *
 * gllmk__cu_flash_attention_<dt> and gllmk__cu_flash_attention_paged_<dt>
 * check their arguments as the CPU functions do, in the same order and with
 * the same codes (lib/core/ops_tpl.h: GLLMK_E_OVERFLOW for sizes whose
 * products overflow, the CPU's workspace product included, then
 * GLLMK_E_INVAL for bad shapes and for NULL where data is needed), then
 * GLLMK_E_INVAL for an element pointer that is not aligned to its element
 * size or whose range is not inside one buffer of be (q and out over q_len x
 * heads x head_dim, k and v over kv_len x kv_heads x head_dim, the caches
 * over their whole extent n_pages x page_size x kv_heads x head_dim, the
 * page table over its ceil(cache_len / page_size) entries), then
 * GLLMK_E_NOMEM when be's workspace is smaller than the query says; only
 * then do they launch.  Nothing is queued when a check fails.
 *
 * The page table lives on the device, so its entries cannot be checked at
 * the call without synchronizing: the op returns GLLMK_OK, and when an entry
 * it uses is >= n_pages, out is left entirely unchanged (as the CPU function
 * leaves it when it returns GLLMK_E_INVAL) and no memory outside q, the
 * caches' n_pages pages, the table, the workspace and out is read or
 * written (a bad entry is never used as an address).  The entries are
 * checked by the kernel that writes out (every block reads them all when
 * there are at most ATTN_PT_INLINE), or by one gk_embedding_check_u32 launch
 * first (one flag word per block of it, in the workspace).  With seq == 0
 * (or head_dim == 0) nothing is launched and the table is not read; the CPU
 * function still checks it.
 *
 * Plan (cuda/attention.cu has the kernels), from the shapes only, so that
 * the workspace query and the results do not depend on the device:
 *   f16/bf16, head_dim <= 256: the tensor-core kernel of the smallest tile
 *     D >= head_dim of 64, 80, 96, 128, 256 (smaller head_dims are zero-
 *     padded to 64), 64 rows x 64 keys per tile (32 keys for 256);
 *   f32, or head_dim > 256: the FFMA kernel of DC = 64, 96, 128 or 256
 *     columns, 32 rows x 32 keys (16 for 256); head_dim > 256 runs
 *     ceil(head_dim / 256) column chunks (grid z).
 *   Rows are q_len x (heads / kv_heads) per kv head.  With fewer blocks than
 *   ATTN_SPLIT_TARGET and at least two chunks of 2 tiles of keys, the keys
 *   are split over blocks (flash-decoding): nsplit chunks of a multiple of
 *   the tile, f32 partials (d + 2 floats per row and split) in the
 *   workspace, then gk_flash_attn_reduce_<dt>.
 */
#include "cuda_internal.h"
#include "kernels/kernels.h"   /* GLLMK_ATTN_QB: the CPU's workspace product, checked alike */

#include <stdint.h>
#include <string.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t at_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};

typedef enum gllmk__cu_kernel kid;

#define ATTN_THREADS 128          /* attention.cu GK_ATTN_THREADS */
#define ATTN_MAX_SPLITS 256       /* attention.cu GK_ATTN_MAX_SPLITS */
#define ATTN_SPLIT_TARGET 256     /* split the keys while there are fewer blocks than this */
#define ATTN_PT_INLINE 512        /* page-table entries each writing block checks itself */
#define ATTN_CHECK_BLOCK 512      /* threads of a gk_embedding_check_u32 block */
#define ATTN_IDS_PER_CHECK 16384  /* entries per check block ... */
#define ATTN_MAX_CHECKS 64        /* ... up to this many blocks (flag words) */
#define ATTN_FLAG_BYTES 256       /* the flags' part of the workspace (64 words) */
#define ATTN_REDUCE_PER_SM 16     /* grid cap of the reduce (grid-stride beyond) */

static const unsigned tc_dims[5] = {64, 80, 96, 128, 256};
static const kid tc_kernels[2][5] = {
  {GK_gk_flash_attn_f16_d64, GK_gk_flash_attn_f16_d80, GK_gk_flash_attn_f16_d96,
   GK_gk_flash_attn_f16_d128, GK_gk_flash_attn_f16_d256},
  {GK_gk_flash_attn_bf16_d64, GK_gk_flash_attn_bf16_d80, GK_gk_flash_attn_bf16_d96,
   GK_gk_flash_attn_bf16_d128, GK_gk_flash_attn_bf16_d256},
};
static const kid ff_f32_kernels[4] = {GK_gk_flash_attn_ffma_f32_d64, GK_gk_flash_attn_ffma_f32_d96,
                                      GK_gk_flash_attn_ffma_f32_d128, GK_gk_flash_attn_ffma_f32_d256};
static const kid reduce_kernels[3] = {GK_gk_flash_attn_reduce_f32, GK_gk_flash_attn_reduce_f16,
                                      GK_gk_flash_attn_reduce_bf16};

static size_t min_z(size_t a, size_t b) { return a < b ? a : b; }
static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }

/* [p, p + bytes) inside a buffer of be and p aligned; empty ranges pass */
static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

/* ------------------------------------------------------------------ shapes */
/* the CPU's attn_shape (lib/core/ops_tpl.h) */
static gllmk_status attn_shape(size_t q_len, size_t kv_len, size_t heads, size_t kv_heads,
                               size_t d, size_t es) {
  size_t x;
  if (!gllmk__mul3(q_len, heads, d, &x) || !gllmk__mul(x, es, &x) ||
      !gllmk__mul3(kv_len, kv_heads, d, &x) || !gllmk__mul(x, es, &x) ||
      !gllmk__mul(heads, d, &x) || !gllmk__mul(x, 2 * GLLMK_ATTN_QB + 2, &x) ||
      !gllmk__mul(x, sizeof(float), &x))
    return GLLMK_E_OVERFLOW;
  if (kv_heads == 0 || heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* the CPU's paged_shape */
static gllmk_status paged_shape(size_t seq, size_t cache_len, size_t heads, size_t kv_heads,
                                size_t d, size_t page_size, size_t n_pages, size_t es) {
  gllmk_status st = attn_shape(seq, cache_len, heads, kv_heads, d, es);
  if (st != GLLMK_OK) return st;
  size_t x;
  if (!gllmk__mul3(n_pages, page_size, kv_heads, &x) || !gllmk__mul(x, d, &x) ||
      !gllmk__mul(x, es, &x))
    return GLLMK_E_OVERFLOW;
  if (page_size == 0 || seq > cache_len || (cache_len && n_pages == 0)) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ plan */
struct attn_plan {
  kid k;                 /* the attention kernel */
  unsigned bq, bk;       /* rows and keys of a tile */
  unsigned smem;         /* dynamic shared memory of k */
  size_t row_tiles;      /* tiles of rows per kv head */
  size_t nch;            /* FFMA column chunks (grid z) */
  unsigned nsplit;       /* key splits (1: out written directly) */
  size_t chunk;          /* keys per split */
  unsigned nflags;       /* page-table check blocks (0: inline) */
  size_t ws_part, ws;    /* bytes of the partials and of the whole workspace */
};

/* shapes valid (attn_shape); pt_entries: the used page-table entries (0: contiguous) */
static struct attn_plan attn_plan(int dt, size_t q_len, size_t kv_len, size_t heads,
                                  size_t kv_heads, size_t d, size_t pt_entries) {
  struct attn_plan p;
  memset(&p, 0, sizeof p);
  size_t rows = q_len * (heads / kv_heads), R = q_len * heads;
  if (dt != DT_F32 && d <= 256) {
    int i = 0;
    while (tc_dims[i] < d) i++;
    unsigned D = tc_dims[i];
    p.k = tc_kernels[dt - 1][i];
    p.bq = 64;
    p.bk = D == 256 ? 32 : 64;
    /* 2 stages of K and V, 16-bit; Q in the second K stage for D <= 128 */
    p.smem = ((D == 256 ? p.bq : 0) + 4 * p.bk) * (D + 8) * 2;
    p.nch = 1;
  } else {
    unsigned nj = d <= 64 ? 2 : d <= 96 ? 3 : d <= 128 ? 4 : 8, dc = 32 * nj;
    p.k = dt == DT_F32   ? ff_f32_kernels[nj == 8 ? 3 : nj - 2]
          : dt == DT_F16 ? GK_gk_flash_attn_ffma_f16_d256
                         : GK_gk_flash_attn_ffma_bf16_d256;
    p.bq = 32;
    p.bk = nj <= 4 ? 32 : 16;
    p.smem = ((p.bq + 2 * p.bk) * (dc + 4) + p.bq * (p.bk + 1)) * 4;   /* Q, K, V, P in f32 */
    p.nch = d > dc ? div_up(d, dc) : 1;
  }
  p.row_tiles = div_up(rows, p.bq);
  p.nsplit = 1;
  p.chunk = kv_len;
  size_t base = p.row_tiles * kv_heads * p.nch, min_chunk = 2 * (size_t)p.bk;
  if (base < ATTN_SPLIT_TARGET && kv_len >= 2 * min_chunk) {
    size_t ns = min_z(min_z(div_up(ATTN_SPLIT_TARGET, base), kv_len / min_chunk), ATTN_MAX_SPLITS);
    size_t chunk = div_up(div_up(kv_len, ns), p.bk) * p.bk, x;
    ns = div_up(kv_len, chunk);
    if (ns > 1 && gllmk__mul3(ns, R, d + 2, &x) && gllmk__mul(x, sizeof(float), &x)) {
      p.nsplit = (unsigned)ns;
      p.chunk = chunk;
      p.ws_part = x;
    }
  }
  if (pt_entries > ATTN_PT_INLINE)
    p.nflags = (unsigned)min_z(div_up(pt_entries, ATTN_IDS_PER_CHECK), ATTN_MAX_CHECKS);
  p.ws = (p.nflags ? ATTN_FLAG_BYTES : 0) + p.ws_part;
  return p;
}

/* ------------------------------------------------------------------ launch */
/* everything checked; q_len, heads and d > 0 */
static gllmk_status attn_launch(gllmk_backend *be, int dt, const void *q, const void *k,
                                const void *v, const uint32_t *pt, void *out, size_t q_len,
                                size_t kv_len, size_t heads, size_t kv_heads, size_t d,
                                size_t page_size, size_t n_pages, float scale, bool causal) {
  size_t entries = pt ? div_up(kv_len, page_size) : 0;
  struct attn_plan p = attn_plan(dt, q_len, kv_len, heads, kv_heads, d, entries);
  size_t gx = p.row_tiles * kv_heads;
  /* beyond the grid's limits or the device's shared memory: refused before
   * anything is queued (every sm_80+ device has the 101376 bytes of the
   * largest kernel) */
  if (gx > 0x7fffffff || p.nch > 65535 || p.smem > (unsigned)gllmk__cu_device(be)->max_smem_optin)
    return GLLMK_E_INVAL;
  void *ws = NULL;
  if (p.ws) {
    ws = gllmk__be_workspace(be, p.ws);
    if (!ws) return GLLMK_E_NOMEM;
  }
  const unsigned *flags = p.nflags ? (const unsigned *)ws : NULL;
  float *part = p.nsplit > 1 ? (float *)((unsigned char *)ws + (p.nflags ? ATTN_FLAG_BYTES : 0)) : NULL;
  gllmk_status st;
  if (p.nflags) {
    const unsigned *ids = pt;
    unsigned *fl = (unsigned *)ws;
    void *cargs[] = {&ids, &entries, &n_pages, &fl};
    st = gllmk__cu_launch(be, GK_gk_embedding_check_u32, p.nflags, 1, 1, ATTN_CHECK_BLOCK, 1, 1, 0,
                          cargs);
    if (st != GLLMK_OK) return st;
  }
  /* 16-byte copies: every base 16-byte aligned and rows whole 16-byte units
   * (f16/bf16 beyond 256 take the FFMA kernel, which converts elements) */
  size_t align = dt == DT_F32 ? 4 : 8;
  uintptr_t any = (uintptr_t)q | (uintptr_t)k | (uintptr_t)v | (uintptr_t)out;
  int vec = dt == DT_F32 || d <= 256 ? (any % 16 == 0 && d % align == 0) : 0;
  unsigned nflags = p.nflags, row_tiles = (unsigned)p.row_tiles, nsplit = p.nsplit;
  float sl = (float)((double)scale * 1.4426950408889634);
  int icausal = causal;
  if (!pt) page_size = 1, n_pages = 0;
  void *args[] = {&q, &k, &v, &out, &part, &pt, &flags, &nflags, &q_len, &kv_len, &heads,
                  &kv_heads, &d, &page_size, &n_pages, &p.chunk, &row_tiles, &nsplit, &sl,
                  &icausal, &vec};
  st = gllmk__cu_launch(be, p.k, (unsigned)gx, p.nsplit, (unsigned)p.nch, ATTN_THREADS, 1, 1, p.smem,
                        args);
  if (st != GLLMK_OK || p.nsplit == 1) return st;
  size_t R = q_len * heads, cap = (size_t)gllmk__cu_device(be)->sm_count * ATTN_REDUCE_PER_SM;
  size_t g = min_z(div_up(R, ATTN_THREADS / 32), cap ? cap : ATTN_REDUCE_PER_SM);
  return gllmk__cu_launch(be, reduce_kernels[dt], (unsigned)g, 1, 1, ATTN_THREADS, 1, 1, 0, args);
}

static gllmk_status query_args(const gllmk_backend *be, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return GLLMK_OK;
}

static gllmk_status attn_workspace(const gllmk_backend *be, int dt, size_t q_len, size_t kv_len,
                                   size_t heads, size_t kv_heads, size_t d, size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st == GLLMK_OK) st = attn_shape(q_len, kv_len, heads, kv_heads, d, at_esize[dt]);
  if (st != GLLMK_OK || q_len == 0 || d == 0) return st;
  *bytes = attn_plan(dt, q_len, kv_len, heads, kv_heads, d, 0).ws;
  return GLLMK_OK;
}

static gllmk_status paged_workspace(const gllmk_backend *be, int dt, size_t seq, size_t cache_len,
                                    size_t heads, size_t kv_heads, size_t d, size_t page_size,
                                    size_t n_pages, size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st == GLLMK_OK)
    st = paged_shape(seq, cache_len, heads, kv_heads, d, page_size, n_pages, at_esize[dt]);
  if (st != GLLMK_OK || seq == 0 || d == 0) return st;
  *bytes = attn_plan(dt, seq, cache_len, heads, kv_heads, d, div_up(cache_len, page_size)).ws;
  return GLLMK_OK;
}

static gllmk_status cu_attention(gllmk_backend *be, int dt, const void *q, const void *k,
                                 const void *v, void *out, size_t q_len, size_t kv_len,
                                 size_t heads, size_t kv_heads, size_t d, float scale,
                                 bool causal) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = at_esize[dt];
  gllmk_status st = attn_shape(q_len, kv_len, heads, kv_heads, d, es);
  if (st != GLLMK_OK) return st;
  bool qn = q_len && d, kn = kv_len && d;
  if ((qn && (!q || !out)) || (qn && kn && (!k || !v))) return GLLMK_E_INVAL;
  size_t qbytes = q_len * heads * d * es, kbytes = qn ? kv_len * kv_heads * d * es : 0;
  if (!owns(be, q, qbytes, es) || !owns(be, out, qbytes, es) || !owns(be, k, kbytes, es) ||
      !owns(be, v, kbytes, es))
    return GLLMK_E_INVAL;
  if (!qn) return GLLMK_OK;
  return attn_launch(be, dt, q, k, v, NULL, out, q_len, kv_len, heads, kv_heads, d, 1, 0, scale,
                     causal);
}

static gllmk_status cu_paged(gllmk_backend *be, int dt, const void *q, const void *kc,
                             const void *vc, const uint32_t *pt, void *out, size_t seq,
                             size_t cache_len, size_t heads, size_t kv_heads, size_t d,
                             size_t page_size, size_t n_pages, float scale) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = at_esize[dt];
  gllmk_status st = paged_shape(seq, cache_len, heads, kv_heads, d, page_size, n_pages, es);
  if (st != GLLMK_OK) return st;
  bool qn = seq && d;
  if ((qn && (!q || !out)) || (cache_len && !pt) || (qn && (!kc || !vc))) return GLLMK_E_INVAL;
  size_t qbytes = seq * heads * d * es, cbytes = qn ? n_pages * page_size * kv_heads * d * es : 0;
  size_t entries = div_up(cache_len, page_size);
  if (!owns(be, q, qbytes, es) || !owns(be, out, qbytes, es) || !owns(be, kc, cbytes, es) ||
      !owns(be, vc, cbytes, es) || !owns(be, pt, qn ? entries * sizeof(uint32_t) : 0, sizeof(uint32_t)))
    return GLLMK_E_INVAL;
  if (!qn) return GLLMK_OK;
  return attn_launch(be, dt, q, kc, vc, cache_len ? pt : NULL, out, seq, cache_len, heads, kv_heads,
                     d, page_size, n_pages, scale, true);
}

/* ------------------------------------------------------------------ entry points
 * One definition per op and element type (tools/gen-api.py wires the
 * gllmk__cu_* functions defined at the start of a line into the tables). */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif

gllmk_status gllmk__cu_flash_attention_f32(gllmk_backend *be, const float *q, const float *k,
                                           const float *v, float *out, size_t q_len,
                                           size_t kv_len, size_t heads, size_t kv_heads,
                                           size_t head_dim, float scale, bool causal) {
  return cu_attention(be, DT_F32, q, k, v, out, q_len, kv_len, heads, kv_heads, head_dim, scale,
                      causal);
}
gllmk_status gllmk__cu_flash_attention_workspace_bytes_f32(gllmk_backend *be, size_t q_len,
                                                           size_t kv_len, size_t heads,
                                                           size_t kv_heads, size_t head_dim,
                                                           bool causal, size_t *bytes) {
  (void)causal;
  return attn_workspace(be, DT_F32, q_len, kv_len, heads, kv_heads, head_dim, bytes);
}
gllmk_status gllmk__cu_flash_attention_paged_f32(gllmk_backend *be, const float *q,
                                                 const float *k_cache, const float *v_cache,
                                                 const uint32_t *page_table, float *out,
                                                 size_t seq, size_t cache_len, size_t heads,
                                                 size_t kv_heads, size_t head_dim,
                                                 size_t page_size, size_t n_pages, float scale) {
  return cu_paged(be, DT_F32, q, k_cache, v_cache, page_table, out, seq, cache_len, heads,
                  kv_heads, head_dim, page_size, n_pages, scale);
}
gllmk_status gllmk__cu_flash_attention_paged_workspace_bytes_f32(gllmk_backend *be, size_t seq,
                                                                 size_t cache_len, size_t heads,
                                                                 size_t kv_heads, size_t head_dim,
                                                                 size_t page_size, size_t n_pages,
                                                                 size_t *bytes) {
  return paged_workspace(be, DT_F32, seq, cache_len, heads, kv_heads, head_dim, page_size, n_pages,
                         bytes);
}

gllmk_status gllmk__cu_flash_attention_f16(gllmk_backend *be, const gllmk_f16 *q,
                                           const gllmk_f16 *k, const gllmk_f16 *v, gllmk_f16 *out,
                                           size_t q_len, size_t kv_len, size_t heads,
                                           size_t kv_heads, size_t head_dim, float scale,
                                           bool causal) {
  return cu_attention(be, DT_F16, q, k, v, out, q_len, kv_len, heads, kv_heads, head_dim, scale,
                      causal);
}
gllmk_status gllmk__cu_flash_attention_workspace_bytes_f16(gllmk_backend *be, size_t q_len,
                                                           size_t kv_len, size_t heads,
                                                           size_t kv_heads, size_t head_dim,
                                                           bool causal, size_t *bytes) {
  (void)causal;
  return attn_workspace(be, DT_F16, q_len, kv_len, heads, kv_heads, head_dim, bytes);
}
gllmk_status gllmk__cu_flash_attention_paged_f16(gllmk_backend *be, const gllmk_f16 *q,
                                                 const gllmk_f16 *k_cache,
                                                 const gllmk_f16 *v_cache,
                                                 const uint32_t *page_table, gllmk_f16 *out,
                                                 size_t seq, size_t cache_len, size_t heads,
                                                 size_t kv_heads, size_t head_dim,
                                                 size_t page_size, size_t n_pages, float scale) {
  return cu_paged(be, DT_F16, q, k_cache, v_cache, page_table, out, seq, cache_len, heads,
                  kv_heads, head_dim, page_size, n_pages, scale);
}
gllmk_status gllmk__cu_flash_attention_paged_workspace_bytes_f16(gllmk_backend *be, size_t seq,
                                                                 size_t cache_len, size_t heads,
                                                                 size_t kv_heads, size_t head_dim,
                                                                 size_t page_size, size_t n_pages,
                                                                 size_t *bytes) {
  return paged_workspace(be, DT_F16, seq, cache_len, heads, kv_heads, head_dim, page_size, n_pages,
                         bytes);
}

gllmk_status gllmk__cu_flash_attention_bf16(gllmk_backend *be, const gllmk_bf16 *q,
                                            const gllmk_bf16 *k, const gllmk_bf16 *v,
                                            gllmk_bf16 *out, size_t q_len, size_t kv_len,
                                            size_t heads, size_t kv_heads, size_t head_dim,
                                            float scale, bool causal) {
  return cu_attention(be, DT_BF16, q, k, v, out, q_len, kv_len, heads, kv_heads, head_dim, scale,
                      causal);
}
gllmk_status gllmk__cu_flash_attention_workspace_bytes_bf16(gllmk_backend *be, size_t q_len,
                                                            size_t kv_len, size_t heads,
                                                            size_t kv_heads, size_t head_dim,
                                                            bool causal, size_t *bytes) {
  (void)causal;
  return attn_workspace(be, DT_BF16, q_len, kv_len, heads, kv_heads, head_dim, bytes);
}
gllmk_status gllmk__cu_flash_attention_paged_bf16(gllmk_backend *be, const gllmk_bf16 *q,
                                                  const gllmk_bf16 *k_cache,
                                                  const gllmk_bf16 *v_cache,
                                                  const uint32_t *page_table, gllmk_bf16 *out,
                                                  size_t seq, size_t cache_len, size_t heads,
                                                  size_t kv_heads, size_t head_dim,
                                                  size_t page_size, size_t n_pages, float scale) {
  return cu_paged(be, DT_BF16, q, k_cache, v_cache, page_table, out, seq, cache_len, heads,
                  kv_heads, head_dim, page_size, n_pages, scale);
}
gllmk_status gllmk__cu_flash_attention_paged_workspace_bytes_bf16(gllmk_backend *be, size_t seq,
                                                                  size_t cache_len, size_t heads,
                                                                  size_t kv_heads,
                                                                  size_t head_dim,
                                                                  size_t page_size,
                                                                  size_t n_pages, size_t *bytes) {
  return paged_workspace(be, DT_BF16, seq, cache_len, heads, kv_heads, head_dim, page_size, n_pages,
                         bytes);
}
