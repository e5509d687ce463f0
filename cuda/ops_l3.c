/* ops_l3.c -- the CUDA kv_store, tree_attention, sample and embedding_lookup_q: checks, plan, launch
 * SPDX-License-Identifier: MIT
 *
 * (linear is in cuda/ops_gemm.c, with the GEMM it shares.)
 *
 * gllmk__cu_<op>_<dt> check their arguments as the CPU functions do
 * (lib/core/l3_tpl.h, lib/core/sample_tpl.h), in the same order and with the
 * same codes, for everything the host can see: GLLMK_E_OVERFLOW for sizes
 * whose products overflow, GLLMK_E_INVAL for bad shapes and parameters and
 * for NULL where data is needed; then, as every op of this backend,
 * GLLMK_E_INVAL for a pointer not aligned to its element size or whose range
 * is not inside one buffer of be; then GLLMK_E_NOMEM when be's workspace is
 * smaller than the query says.  Nothing is queued when a check fails.
 *
 * The index arrays (page_table, seq, slot, ctx, extra_start, extra, recent,
 * rng) live on the device, so their entries cannot be checked at the call
 * without synchronizing: the op returns GLLMK_OK and the kernels check every
 * entry they use, never using a bad one as an address (cuda/l3.cu):
 *   - kv_store: when any token's seq, slot or page is out of range, nothing
 *     is written (as the CPU function writes nothing when it says
 *     GLLMK_E_INVAL);
 *   - tree_attention: a query whose entries are out of range (or that sees
 *     tokens while page_table, k_cache or v_cache is NULL) leaves its rows of
 *     out unchanged; the other queries are computed;
 *   - sample: recent ids outside [0, vocab) are ignored, as on the CPU;
 *   - embedding_lookup_q: when any id is >= vocab, nothing is written (the
 *     ids checked by every decoding block for up to 256 ids, else first by
 *     gk_embedding_check_u32 into flag words in the workspace, as
 *     cuda/ops_float.c's embedding_lookup does).
 * Ranges checked: kv_store's k, v over n tokens, the caches over n_pages
 * pages, the page table over n_seqs x max_pages, seq and slot over n;
 * tree_attention's q and out over n x heads x head_dim, the caches and page
 * table likewise (when not NULL), seq and ctx over n, extra_start over n + 1,
 * extra over n_extra; sample's logits over rows x vocab, ids over rows, rng
 * over 2 rows, recent over rows x window.
 *
 * Workspace: sample, vocab floats for each of its min(rows,
 * SAMPLE_MAX_BLOCKS) blocks (the row's p); embedding_lookup_q, a flag word
 * per check block beyond 256 ids; kv_store none; tree_attention, when it
 * splits the keys, the partials (below), else none.
 *
 * tree_attention's plan (tree_plan), from the shapes and the device's SM
 * count only: rb = min(heads / kv_heads, TREE_HEADS) query heads per block
 * (halved while the shared memory is beyond the device), chunks =
 * ceil(heads / kv_heads / rb), per = kv_heads x chunks blocks per query.
 * The one-block path (gk_tree_attn_<dt>, grid n x kv_heads x chunks) when
 * n x per >= SMs or the cache plus the extras (max_pages x page_size +
 * n_extra) holds fewer than 2 runs of TREE_SPLIT_MIN tokens.  Else the
 * split path: nsplit = min(floor(TREE_SPLIT_WAVES x SMs / (n x per)),
 * TREE_SPLIT_MAX, floor((max_pages x page_size + n_extra) / TREE_SPLIT_MIN))
 * (when >= 2) runs per (query, kv head, chunk): gk_tree_attn_split_<dt>
 * (grid n x kv_heads x chunks nsplit) writes one partial slot each, of 1 +
 * rb (head_dim + 2) floats (bad flag, max, sum, rb x head_dim
 * accumulators), then gk_tree_attn_reduce_<dt> (grid n x kv_heads x
 * chunks, rb x nsplit floats of shared memory) writes out.  The op needs n
 * x per x nsplit slots (<= TREE_SPLIT_WAVES x SMs); the workspace query
 * reports TREE_SPLIT_WAVES x SMs slots whenever one query would split, so
 * that the bytes for n cover every n' <= n (a model sizes its workspace
 * from a few n).
 * embedding_lookup_q's table range checked is vocab rows (what it reads).
 */
#include "cuda_internal.h"
#include "quant/qfcount.h"

#include <math.h>
#include <stdint.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t l3_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};

typedef enum gllmk__cu_kernel kid;

#define KV_THREADS 128            /* l3.cu GK_KV_THREADS */
#define TREE_THREADS 128          /* l3.cu GK_TREE_THREADS */
#define TREE_HEADS 8              /* query heads per block at most (a GQA group's chunk) */
#define TREE_TILE 32              /* keys per shared-memory tile at most */
#define TREE_SPLIT_WAVES 2        /* split blocks per SM the split aims at (at most) */
#define TREE_SPLIT_MAX 32         /* runs per (query, kv head, head chunk) at most */
#define TREE_SPLIT_MIN 128        /* visible tokens per run at least (4 tiles) */
#define SAMPLE_THREADS 256        /* l3.cu GK_SAMPLE_THREADS */
#define SAMPLE_MAX_BLOCKS 32      /* rows sampled at once (each block owns vocab floats) */
#define EMBQ_THREADS 64           /* embq.cu GK_EMBQ_THREADS: format blocks per work item */
#define EMBQ_SQLLM GLLMK_NQFMT     /* embq.cu GK_EMBQ_SQLLM: after qformats.def's rows */
#define EMBQ_BLOCKS_PER_SM 16     /* grid cap (grid-stride beyond) */
#define EMBQ_INLINE_IDS 256       /* up to this many ids, each decoding block checks them all */
#define EMBQ_CHECK_BLOCK 512      /* as cuda/ops_float.c's embedding_lookup: */
#define EMBQ_IDS_PER_CHECK 16384  /*   ids per gk_embedding_check_u32 block ... */
#define EMBQ_MAX_CHECKS 64        /*   ... up to this many blocks (flag words) */
#define MAX_GRID_X 0x7fffffffu
#define MAX_GRID_YZ 65535u

static const kid kv_kernels[3] = {GK_gk_kv_store_f32, GK_gk_kv_store_f16, GK_gk_kv_store_bf16};
static const kid tree_kernels[3] = {GK_gk_tree_attn_f32, GK_gk_tree_attn_f16, GK_gk_tree_attn_bf16};
static const kid tree_split_kernels[3] = {GK_gk_tree_attn_split_f32, GK_gk_tree_attn_split_f16,
                                          GK_gk_tree_attn_split_bf16};
static const kid tree_reduce_kernels[3] = {GK_gk_tree_attn_reduce_f32, GK_gk_tree_attn_reduce_f16,
                                           GK_gk_tree_attn_reduce_bf16};
static const kid sample_kernels[3] = {GK_gk_sample_f32, GK_gk_sample_f16, GK_gk_sample_bf16};
static const kid embq_kernels[3] = {GK_gk_embedding_lookup_q_f32, GK_gk_embedding_lookup_q_f16,
                                    GK_gk_embedding_lookup_q_bf16};

static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }

/* [p, p + bytes) inside a buffer of be and p aligned; empty ranges pass */
static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

static int bytes_ok(size_t n, size_t es) {
  size_t b;
  return gllmk__mul(n, es, &b);
}

/* ------------------------------------------------------------------ kv_store */
/* the CPU's cache_shape: *row = kv_heads * head_dim */
static gllmk_status cache_shape(size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages,
                                size_t n_seqs, size_t max_pages, size_t es, size_t *row) {
  size_t x;
  if (!gllmk__mul(kv_heads, head_dim, row) || !gllmk__mul3(n_pages, page_size, *row, &x) ||
      !bytes_ok(x, es) || !gllmk__mul3(n_seqs, max_pages, sizeof(uint32_t), &x) ||
      !gllmk__mul(max_pages, page_size, &x) || x > UINT32_MAX)
    return GLLMK_E_OVERFLOW;
  if (page_size == 0) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static gllmk_status cu_kv_store(gllmk_backend *be, int dt, const void *k, const void *v, void *kc,
                                void *vc, const uint32_t *pt, const uint32_t *seq,
                                const uint32_t *slot, size_t n, size_t kv_heads, size_t head_dim,
                                size_t page_size, size_t n_pages, size_t n_seqs,
                                size_t max_pages) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = l3_esize[dt], row, x;
  gllmk_status st =
      cache_shape(kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, es, &row);
  if (st != GLLMK_OK) return st;
  if (!gllmk__mul(n, row, &x) || !bytes_ok(x, es)) return GLLMK_E_OVERFLOW;
  if (n == 0 || row == 0) return GLLMK_OK;
  if (!k || !v || !kc || !vc || !pt || !seq || !slot) return GLLMK_E_INVAL;
  size_t cbytes = n_pages * page_size * row * es, u4 = sizeof(uint32_t);
  if (!owns(be, k, n * row * es, es) || !owns(be, v, n * row * es, es) || !owns(be, kc, cbytes, es) ||
      !owns(be, vc, cbytes, es) || !owns(be, pt, n_seqs * max_pages * u4, u4) ||
      !owns(be, seq, n * u4, u4) || !owns(be, slot, n * u4, u4))
    return GLLMK_E_INVAL;
  if (n > MAX_GRID_X) return GLLMK_E_INVAL;
  uintptr_t any = (uintptr_t)k | (uintptr_t)v | (uintptr_t)kc | (uintptr_t)vc;
  int vec = any % 16 == 0 && (row * es) % 16 == 0;
  void *args[] = {&k, &v, &kc, &vc, &pt, &seq, &slot, &n, &row, &page_size, &n_pages, &n_seqs,
                  &max_pages, &vec};
  return gllmk__cu_launch(be, kv_kernels[dt], (unsigned)n, 1, 1, KV_THREADS, 1, 1, 0, args);
}

static gllmk_status kv_workspace(const gllmk_backend *be, int dt, size_t n, size_t kv_heads,
                                 size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
                                 size_t max_pages, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  size_t es = l3_esize[dt], row, x;
  gllmk_status st =
      cache_shape(kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, es, &row);
  if (st != GLLMK_OK) return st;
  return gllmk__mul(n, row, &x) && bytes_ok(x, es) ? GLLMK_OK : GLLMK_E_OVERFLOW;
}

/* ------------------------------------------------------------------ tree_attention */
/* the CPU's tree_shape */
static gllmk_status tree_shape(size_t n, size_t heads, size_t kv_heads, size_t head_dim,
                               size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages,
                               size_t n_extra, size_t es) {
  size_t row, x;
  gllmk_status st =
      cache_shape(kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, es, &row);
  if (st != GLLMK_OK) return st;
  if (!gllmk__mul3(n, heads, head_dim, &x) || !bytes_ok(x, es) || !gllmk__mul(n, kv_heads, &x) ||
      !gllmk__add(n, 1, &x) || !gllmk__mul(x, sizeof(uint32_t), &x) ||
      !gllmk__mul(n_extra, sizeof(uint32_t), &x) || !gllmk__add(heads, kv_heads, &x) ||
      !gllmk__mul3(x, head_dim + 2, sizeof(float), &x))
    return GLLMK_E_OVERFLOW;
  if (kv_heads == 0 || heads == 0 || heads % kv_heads) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* floats of dynamic shared memory of a block of rb heads and tk-key tiles */
static size_t tree_smem(size_t rb, size_t tk, size_t d) {
  return (2 * rb * d + tk * (d | 1) + tk * d + rb * tk + 3 * rb) * sizeof(float);
}

/* the launch of a valid shape (n >= 1, d >= 1): rb heads per block, tk-key
 * tiles, chunks head chunks per kv head; nsplit runs of the visible tokens
 * per (query, kv head, chunk) (1: the one-block path); need: the workspace
 * bytes this n uses, cap: what the query reports (the most any n' <= n
 * uses); ok 0 when the shared memory or the grid is beyond the device */
struct tree_plan {
  size_t rb, tk, chunks, smem, nsplit, slot, need, cap;
  int ok;
};

static struct tree_plan tree_plan(const gllmk_backend *be, size_t n, size_t heads,
                                  size_t kv_heads, size_t d, size_t page_size, size_t max_pages,
                                  size_t n_extra) {
  struct tree_plan p;
  const struct gllmk__cu_dev *dev = gllmk__cu_device(be);
  size_t r = heads / kv_heads, lim = (size_t)dev->max_smem_optin;
  size_t sms = dev->sm_count > 0 ? (size_t)dev->sm_count : 1;
  p.rb = r < TREE_HEADS ? r : TREE_HEADS, p.tk = TREE_TILE;
  while (p.tk > 1 && tree_smem(p.rb, p.tk, d) > lim) p.tk /= 2;
  while (p.rb > 1 && tree_smem(p.rb, p.tk, d) > lim) p.rb = div_up(p.rb, 2);
  p.chunks = div_up(r, p.rb), p.smem = tree_smem(p.rb, p.tk, d);
  p.ok = p.smem <= lim && n <= MAX_GRID_X && kv_heads <= MAX_GRID_YZ && p.chunks <= MAX_GRID_YZ;
  p.slot = (1 + p.rb * (d + 2)) * sizeof(float);
  p.nsplit = 1, p.need = 0, p.cap = 0;
  /* split when one block per (query, kv head, chunk) leaves SMs idle and the
   * cache (plus the extras) holds at least two runs of TREE_SPLIT_MIN keys:
   * nsplit = the most runs such that all the blocks stay within
   * TREE_SPLIT_WAVES per SM, at most TREE_SPLIT_MAX, at most the runs the
   * longest possible context fills */
  size_t target = TREE_SPLIT_WAVES * sms, longest = max_pages * page_size + n_extra;
  size_t runs = longest / TREE_SPLIT_MIN, per = kv_heads * p.chunks;   /* blocks per query */
  if (!p.ok || runs < 2 || per >= sms) return p;
  p.cap = target * p.slot;   /* n' * per * nsplit(n') <= target for every n' */
  size_t b = n * per;
  if (b >= sms) return p;
  size_t ns = target / b;
  if (ns > TREE_SPLIT_MAX) ns = TREE_SPLIT_MAX;
  if (ns > runs) ns = runs;
  if (ns < 2 || p.chunks * ns > MAX_GRID_YZ) return p;
  p.nsplit = ns, p.need = b * ns * p.slot;
  return p;
}

static gllmk_status cu_tree(gllmk_backend *be, int dt, const void *q, const void *kc,
                            const void *vc, const uint32_t *pt, const uint32_t *seq,
                            const uint32_t *ctx, const uint32_t *xs, const uint32_t *xl, void *out,
                            size_t n, size_t heads, size_t kv_heads, size_t d, size_t page_size,
                            size_t n_pages, size_t n_seqs, size_t max_pages, size_t n_extra,
                            float scale) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = l3_esize[dt], u4 = sizeof(uint32_t);
  gllmk_status st =
      tree_shape(n, heads, kv_heads, d, page_size, n_pages, n_seqs, max_pages, n_extra, es);
  if (st != GLLMK_OK) return st;
  if (n == 0 || d == 0) return GLLMK_OK;
  if (!q || !out || !seq || !ctx || !xs || (n_extra && !xl)) return GLLMK_E_INVAL;
  size_t qbytes = n * heads * d * es, cbytes = n_pages * page_size * kv_heads * d * es;
  if (!owns(be, q, qbytes, es) || !owns(be, out, qbytes, es) ||
      (kc && !owns(be, kc, cbytes, es)) || (vc && !owns(be, vc, cbytes, es)) ||
      (pt && !owns(be, pt, n_seqs * max_pages * u4, u4)) || !owns(be, seq, n * u4, u4) ||
      !owns(be, ctx, n * u4, u4) || !owns(be, xs, (n + 1) * u4, u4) ||
      !owns(be, xl, n_extra * u4, u4))
    return GLLMK_E_INVAL;
  /* a NULL cache or table: the kernel finds every query that needs it bad */
  if (!kc || !vc) pt = NULL;
  struct tree_plan p = tree_plan(be, n, heads, kv_heads, d, page_size, max_pages, n_extra);
  if (!p.ok) return GLLMK_E_INVAL;
  float *part = NULL;
  if (p.nsplit > 1 && !(part = gllmk__be_workspace(be, p.need))) return GLLMK_E_NOMEM;
  unsigned urb = (unsigned)p.rb, utk = (unsigned)p.tk, uns = (unsigned)p.nsplit;
  unsigned cmin = TREE_SPLIT_MIN;
  if (p.nsplit == 1) {
    void *args[] = {&q, &kc, &vc, &pt, &seq, &ctx, &xs, &xl, &out, &heads, &kv_heads, &d,
                    &page_size, &n_pages, &n_seqs, &max_pages, &n_extra, &scale, &urb, &utk};
    return gllmk__cu_launch(be, tree_kernels[dt], (unsigned)n, (unsigned)kv_heads,
                            (unsigned)p.chunks, TREE_THREADS, 1, 1, (unsigned)p.smem, args);
  }
  void *args[] = {&q, &kc, &vc, &pt, &seq, &ctx, &xs, &xl, &part, &heads, &kv_heads, &d,
                  &page_size, &n_pages, &n_seqs, &max_pages, &n_extra, &scale, &urb, &utk,
                  &uns, &cmin};
  gllmk_status st2 = gllmk__cu_launch(be, tree_split_kernels[dt], (unsigned)n, (unsigned)kv_heads,
                                      (unsigned)(p.chunks * p.nsplit), TREE_THREADS, 1, 1,
                                      (unsigned)p.smem, args);
  if (st2 != GLLMK_OK) return st2;
  void *rargs[] = {&part, &out, &heads, &kv_heads, &d, &urb, &uns};
  return gllmk__cu_launch(be, tree_reduce_kernels[dt], (unsigned)n, (unsigned)kv_heads,
                          (unsigned)p.chunks, TREE_THREADS, 1, 1,
                          (unsigned)(p.rb * p.nsplit * sizeof(float)), rargs);
}

static gllmk_status tree_workspace(const gllmk_backend *be, int dt, size_t n, size_t heads,
                                   size_t kv_heads, size_t d, size_t page_size, size_t n_pages,
                                   size_t n_seqs, size_t max_pages, size_t n_extra,
                                   size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  gllmk_status st =
      tree_shape(n, heads, kv_heads, d, page_size, n_pages, n_seqs, max_pages, n_extra, l3_esize[dt]);
  if (st != GLLMK_OK || n == 0 || d == 0) return st;
  *bytes = tree_plan(be, n, heads, kv_heads, d, page_size, max_pages, n_extra).cap;
  return GLLMK_OK;
}

/* ------------------------------------------------------------------ sample */
/* the CPU's sample_shape (gllmk__sample_floats(vocab) = 3 vocab + 16, as there) */
static gllmk_status sample_shape(size_t rows, size_t vocab, size_t window, size_t es) {
  size_t x;
  if (!gllmk__mul(rows, vocab, &x) || !bytes_ok(x, es) || !gllmk__mul(rows, window, &x) ||
      !gllmk__mul(x, sizeof(int32_t), &x) || !gllmk__mul(3 * vocab + 16, 4, &x) ||
      vocab > INT32_MAX)
    return GLLMK_E_OVERFLOW;
  return GLLMK_OK;
}

static size_t sample_ws(size_t rows, size_t vocab) {
  return (rows < SAMPLE_MAX_BLOCKS ? rows : SAMPLE_MAX_BLOCKS) * vocab * sizeof(float);
}

static gllmk_status cu_sample(gllmk_backend *be, int dt, const void *logits, size_t rows,
                              size_t vocab, const int32_t *recent, size_t window, float penalty,
                              float temperature, size_t top_k, float top_p, float min_p,
                              uint64_t seed, const uint32_t *rng, int32_t *ids) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = l3_esize[dt];
  gllmk_status st = sample_shape(rows, vocab, window, es);
  if (st != GLLMK_OK) return st;
  if (rows == 0) return GLLMK_OK;
  if (vocab == 0 || !logits || !ids || !rng || (window && !recent)) return GLLMK_E_INVAL;
  if (!(penalty > 0.0f) || temperature != temperature || !(top_p > 0.0f) ||
      !(min_p >= 0.0f && min_p <= 1.0f) || penalty == (float)INFINITY)
    return GLLMK_E_INVAL;
  if (!owns(be, logits, rows * vocab * es, es) || !owns(be, ids, rows * sizeof(int32_t), 4) ||
      !owns(be, rng, 2 * rows * sizeof(uint32_t), 4) ||
      !owns(be, recent, rows * window * sizeof(int32_t), 4))
    return GLLMK_E_INVAL;
  float *ws = gllmk__be_workspace(be, sample_ws(rows, vocab));
  if (!ws) return GLLMK_E_NOMEM;
  unsigned grid = (unsigned)(rows < SAMPLE_MAX_BLOCKS ? rows : SAMPLE_MAX_BLOCKS);
  void *args[] = {&logits, &rows, &vocab, &recent, &window, &penalty, &temperature, &top_k,
                  &top_p, &min_p, &seed, &rng, &ids, &ws};
  return gllmk__cu_launch(be, sample_kernels[dt], grid, 1, 1, SAMPLE_THREADS, 1, 1, 0, args);
}

static gllmk_status sample_workspace(const gllmk_backend *be, int dt, size_t rows, size_t vocab,
                                     size_t window, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  gllmk_status st = sample_shape(rows, vocab, window, l3_esize[dt]);
  if (st == GLLMK_OK) *bytes = sample_ws(rows, vocab);
  return st;
}

/* ------------------------------------------------------------------ embedding_lookup_q */
/* cuda/embq.cu's format index: qformats.def's row, SqueezeLLM after them; -1: none */
static int embq_fmt(gllmk_qtype t) {
  static const gllmk_qtype rows[] = {
#define GLLMK_QFMT(tok, T, name, vpb, bpb, kind, dot, ...) GLLMK_##T,
#include "quant/qformats.def"
#undef GLLMK_QFMT
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    if (rows[i] == t) return (int)i;
  return t == GLLMK_SQUEEZELLM ? EMBQ_SQLLM : -1;
}

/* the CPU's embq_shape: *rb gets the bytes of a table row */
static gllmk_status embq_shape(size_t n_ids, size_t table_bytes, gllmk_qtype t, size_t vocab,
                               size_t hidden, size_t es, size_t *rb) {
  size_t bs = gllmk_qtype_block_size(t), x;
  if (bs == 0) return GLLMK_E_UNSUPPORTED;
  if (t == GLLMK_AWQ4 || t == GLLMK_GPTQ4) return GLLMK_E_UNSUPPORTED;
  if (!gllmk__mul3(n_ids, hidden, es, &x) || !gllmk__mul(hidden, sizeof(float), &x))
    return GLLMK_E_OVERFLOW;
  if (hidden % bs) return GLLMK_E_INVAL;
  *rb = gllmk_qtype_row_bytes(t, hidden);
  if (hidden && *rb == 0) return GLLMK_E_OVERFLOW;
  if (!gllmk__mul(vocab, *rb, &x)) return GLLMK_E_OVERFLOW;
  if (table_bytes < x) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* check blocks (flag words) for n_ids: 0, each decoding block checks them all */
static unsigned embq_checks(size_t n_ids) {
  if (n_ids <= EMBQ_INLINE_IDS) return 0;
  size_t g = div_up(n_ids, EMBQ_IDS_PER_CHECK);
  return g > EMBQ_MAX_CHECKS ? EMBQ_MAX_CHECKS : (unsigned)g;
}

static gllmk_status cu_embq(gllmk_backend *be, int dt, const uint32_t *ids, size_t n_ids,
                            const void *table, size_t table_bytes, gllmk_qtype t, size_t vocab,
                            size_t hidden, void *out) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = l3_esize[dt], rb;
  gllmk_status st = embq_shape(n_ids, table_bytes, t, vocab, hidden, es, &rb);
  if (st != GLLMK_OK) return st;
  if (n_ids == 0 || hidden == 0) return GLLMK_OK;
  if (!ids || !table || !out) return GLLMK_E_INVAL;
  if (vocab == 0) return GLLMK_E_INVAL;   /* every id is out of range */
  int fmt = embq_fmt(t);
  if (fmt < 0) return GLLMK_E_UNSUPPORTED;
  if (!owns(be, ids, n_ids * sizeof(uint32_t), sizeof(uint32_t)) || !owns(be, table, vocab * rb, 1) ||
      !owns(be, out, n_ids * hidden * es, es))
    return GLLMK_E_INVAL;
  unsigned nflags = embq_checks(n_ids);
  unsigned *flags = NULL;
  if (nflags) {
    flags = gllmk__be_workspace(be, nflags * sizeof(uint32_t));
    if (!flags) return GLLMK_E_NOMEM;
    void *cargs[] = {&ids, &n_ids, &vocab, &flags};
    st = gllmk__cu_launch(be, GK_gk_embedding_check_u32, nflags, 1, 1, EMBQ_CHECK_BLOCK, 1, 1, 0,
                          cargs);
    if (st != GLLMK_OK) return st;
  }
  size_t bs = gllmk_qtype_block_size(t), items = n_ids * div_up(hidden / bs, EMBQ_THREADS);
  size_t cap = (size_t)(gllmk__cu_device(be)->sm_count > 0 ? gllmk__cu_device(be)->sm_count : 1) *
               EMBQ_BLOCKS_PER_SM;
  unsigned grid = (unsigned)(items < cap ? items : cap);
  void *args[] = {&ids, &n_ids, &table, &rb, &fmt, &bs, &vocab, &hidden, &out, &flags, &nflags};
  return gllmk__cu_launch(be, embq_kernels[dt], grid, 1, 1, EMBQ_THREADS, 1, 1, 0, args);
}

static gllmk_status embq_workspace(const gllmk_backend *be, int dt, size_t n_ids,
                                   size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden,
                                   size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  size_t rb;
  gllmk_status st = embq_shape(n_ids, table_bytes, t, vocab, hidden, l3_esize[dt], &rb);
  if (st == GLLMK_OK && hidden) *bytes = embq_checks(n_ids) * sizeof(uint32_t);
  return st;
}

/* ------------------------------------------------------------------ entry points
 * (tools/gen-api.py wires the gllmk__cu_* functions defined at the start of
 * a line into the tables.) */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif


gllmk_status gllmk__cu_kv_store_f32(gllmk_backend *be, const float *k, const float *v, float *k_cache,
    float *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *slot, size_t n,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages) {
  return cu_kv_store(be, DT_F32, k, v, k_cache, v_cache, page_table, seq, slot, n, kv_heads, head_dim,
                     page_size, n_pages, n_seqs, max_pages);
}
gllmk_status gllmk__cu_kv_store_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t kv_heads,
    size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages,
    size_t *bytes) {
  return kv_workspace(be, DT_F32, n, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, bytes);
}
gllmk_status gllmk__cu_tree_attention_f32(gllmk_backend *be, const float *q, const float *k_cache,
    const float *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *ctx,
    const uint32_t *extra_start, const uint32_t *extra, float *out, size_t n, size_t heads,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages, size_t n_extra, float scale) {
  return cu_tree(be, DT_F32, q, k_cache, v_cache, page_table, seq, ctx, extra_start, extra, out, n,
                 heads, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, n_extra, scale);
}
gllmk_status gllmk__cu_tree_attention_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t heads,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages, size_t n_extra, size_t *bytes) {
  return tree_workspace(be, DT_F32, n, heads, kv_heads, head_dim, page_size, n_pages, n_seqs,
                        max_pages, n_extra, bytes);
}
gllmk_status gllmk__cu_sample_f32(gllmk_backend *be, const float *logits, size_t rows, size_t vocab,
    const int32_t *recent, size_t window, float repeat_penalty, float temperature, size_t top_k,
    float top_p, float min_p, uint64_t seed, const uint32_t *rng, int32_t *ids) {
  return cu_sample(be, DT_F32, logits, rows, vocab, recent, window, repeat_penalty, temperature,
                   top_k, top_p, min_p, seed, rng, ids);
}
gllmk_status gllmk__cu_sample_workspace_bytes_f32(gllmk_backend *be, size_t rows, size_t vocab,
    size_t window, size_t top_k, size_t *bytes) {
  (void)top_k;
  return sample_workspace(be, DT_F32, rows, vocab, window, bytes);
}

gllmk_status gllmk__cu_kv_store_f16(gllmk_backend *be, const gllmk_f16 *k, const gllmk_f16 *v, gllmk_f16 *k_cache,
    gllmk_f16 *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *slot, size_t n,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages) {
  return cu_kv_store(be, DT_F16, k, v, k_cache, v_cache, page_table, seq, slot, n, kv_heads, head_dim,
                     page_size, n_pages, n_seqs, max_pages);
}
gllmk_status gllmk__cu_kv_store_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t kv_heads,
    size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages,
    size_t *bytes) {
  return kv_workspace(be, DT_F16, n, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, bytes);
}
gllmk_status gllmk__cu_tree_attention_f16(gllmk_backend *be, const gllmk_f16 *q, const gllmk_f16 *k_cache,
    const gllmk_f16 *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *ctx,
    const uint32_t *extra_start, const uint32_t *extra, gllmk_f16 *out, size_t n, size_t heads,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages, size_t n_extra, float scale) {
  return cu_tree(be, DT_F16, q, k_cache, v_cache, page_table, seq, ctx, extra_start, extra, out, n,
                 heads, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, n_extra, scale);
}
gllmk_status gllmk__cu_tree_attention_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t heads,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages, size_t n_extra, size_t *bytes) {
  return tree_workspace(be, DT_F16, n, heads, kv_heads, head_dim, page_size, n_pages, n_seqs,
                        max_pages, n_extra, bytes);
}
gllmk_status gllmk__cu_sample_f16(gllmk_backend *be, const gllmk_f16 *logits, size_t rows, size_t vocab,
    const int32_t *recent, size_t window, float repeat_penalty, float temperature, size_t top_k,
    float top_p, float min_p, uint64_t seed, const uint32_t *rng, int32_t *ids) {
  return cu_sample(be, DT_F16, logits, rows, vocab, recent, window, repeat_penalty, temperature,
                   top_k, top_p, min_p, seed, rng, ids);
}
gllmk_status gllmk__cu_sample_workspace_bytes_f16(gllmk_backend *be, size_t rows, size_t vocab,
    size_t window, size_t top_k, size_t *bytes) {
  (void)top_k;
  return sample_workspace(be, DT_F16, rows, vocab, window, bytes);
}

gllmk_status gllmk__cu_kv_store_bf16(gllmk_backend *be, const gllmk_bf16 *k, const gllmk_bf16 *v, gllmk_bf16 *k_cache,
    gllmk_bf16 *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *slot, size_t n,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages) {
  return cu_kv_store(be, DT_BF16, k, v, k_cache, v_cache, page_table, seq, slot, n, kv_heads, head_dim,
                     page_size, n_pages, n_seqs, max_pages);
}
gllmk_status gllmk__cu_kv_store_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t kv_heads,
    size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs, size_t max_pages,
    size_t *bytes) {
  return kv_workspace(be, DT_BF16, n, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, bytes);
}
gllmk_status gllmk__cu_tree_attention_bf16(gllmk_backend *be, const gllmk_bf16 *q, const gllmk_bf16 *k_cache,
    const gllmk_bf16 *v_cache, const uint32_t *page_table, const uint32_t *seq, const uint32_t *ctx,
    const uint32_t *extra_start, const uint32_t *extra, gllmk_bf16 *out, size_t n, size_t heads,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages, size_t n_extra, float scale) {
  return cu_tree(be, DT_BF16, q, k_cache, v_cache, page_table, seq, ctx, extra_start, extra, out, n,
                 heads, kv_heads, head_dim, page_size, n_pages, n_seqs, max_pages, n_extra, scale);
}
gllmk_status gllmk__cu_tree_attention_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t heads,
    size_t kv_heads, size_t head_dim, size_t page_size, size_t n_pages, size_t n_seqs,
    size_t max_pages, size_t n_extra, size_t *bytes) {
  return tree_workspace(be, DT_BF16, n, heads, kv_heads, head_dim, page_size, n_pages, n_seqs,
                        max_pages, n_extra, bytes);
}
gllmk_status gllmk__cu_sample_bf16(gllmk_backend *be, const gllmk_bf16 *logits, size_t rows, size_t vocab,
    const int32_t *recent, size_t window, float repeat_penalty, float temperature, size_t top_k,
    float top_p, float min_p, uint64_t seed, const uint32_t *rng, int32_t *ids) {
  return cu_sample(be, DT_BF16, logits, rows, vocab, recent, window, repeat_penalty, temperature,
                   top_k, top_p, min_p, seed, rng, ids);
}
gllmk_status gllmk__cu_sample_workspace_bytes_bf16(gllmk_backend *be, size_t rows, size_t vocab,
    size_t window, size_t top_k, size_t *bytes) {
  (void)top_k;
  return sample_workspace(be, DT_BF16, rows, vocab, window, bytes);
}

gllmk_status gllmk__cu_embedding_lookup_q_f32(gllmk_backend *be, const uint32_t *ids, size_t n_ids,
    const void *table, size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, float *out) {
  return cu_embq(be, DT_F32, ids, n_ids, table, table_bytes, t, vocab, hidden, out);
}
gllmk_status gllmk__cu_embedding_lookup_q_workspace_bytes_f32(gllmk_backend *be, size_t n_ids,
    size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, size_t *bytes) {
  return embq_workspace(be, DT_F32, n_ids, table_bytes, t, vocab, hidden, bytes);
}

gllmk_status gllmk__cu_embedding_lookup_q_f16(gllmk_backend *be, const uint32_t *ids, size_t n_ids,
    const void *table, size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, gllmk_f16 *out) {
  return cu_embq(be, DT_F16, ids, n_ids, table, table_bytes, t, vocab, hidden, out);
}
gllmk_status gllmk__cu_embedding_lookup_q_workspace_bytes_f16(gllmk_backend *be, size_t n_ids,
    size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, size_t *bytes) {
  return embq_workspace(be, DT_F16, n_ids, table_bytes, t, vocab, hidden, bytes);
}

gllmk_status gllmk__cu_embedding_lookup_q_bf16(gllmk_backend *be, const uint32_t *ids, size_t n_ids,
    const void *table, size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, gllmk_bf16 *out) {
  return cu_embq(be, DT_BF16, ids, n_ids, table, table_bytes, t, vocab, hidden, out);
}
gllmk_status gllmk__cu_embedding_lookup_q_workspace_bytes_bf16(gllmk_backend *be, size_t n_ids,
    size_t table_bytes, gllmk_qtype t, size_t vocab, size_t hidden, size_t *bytes) {
  return embq_workspace(be, DT_BF16, n_ids, table_bytes, t, vocab, hidden, bytes);
}
