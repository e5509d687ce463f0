/* ops_float.c -- the CUDA backend's Table A float ops (f32, f16, bf16): checks, workspace, launch
 * SPDX-License-Identifier: MIT
 *
 * gllmk__cu_<op>_<dt>(be, <the arguments of gllmk_<op>_<dt>>) checks its
 * arguments as the CPU function does, in the same order and with the same
 * codes (lib/core/ops_tpl.h: GLLMK_E_OVERFLOW for sizes whose products
 * overflow, then GLLMK_E_INVAL for bad shapes or scalars and for NULL where
 * data is needed), then GLLMK_E_INVAL for an element pointer that is not
 * aligned to its element size or whose range is not inside one buffer of be
 * (gllmk__be_owns; empty ranges are always accepted), then GLLMK_E_NOMEM when
 * be's workspace is smaller than <op>_workspace_bytes says; only then does it
 * launch, and it returns the launch's status.  Nothing is queued when a check
 * fails, and nothing synchronizes.
 *
 * gllmk__cu_<op>_workspace_bytes_<dt>(be, <the op's size_t and bool
 * arguments>, &bytes) gives the workspace the op needs for those sizes (0 for
 * most); GLLMK_E_OVERFLOW for sizes the op itself would refuse so.  Ops and
 * queries refuse a NULL be or bytes with GLLMK_E_INVAL.
 *
 * Launch plans (the constants below match the kernels' own):
 *   elementwise  blocks of 256 over 16-byte vectors, up to 4 per thread and
 *                step, grid min(vectors / 256, 8 blocks per SM), grid-stride; a
 *                scalar head up to the first 16-byte boundary when all the
 *                pointers are congruent mod 16, else everything scalar.
 *   reductions   G = clamp(ceil(n / 2048), 1, 1024) blocks of 256, from n
 *                alone, so the sum's grouping (and result) does not depend
 *                on the device; G > 1 writes G partials to the workspace and
 *                a one-block kernel combines them (two launches).
 *   gemv         lanes per row from n, a warp per 32/lpr rows; rows split
 *                into segments (partials in the workspace + a final kernel)
 *                when there are fewer than 2048 row groups; depends on m, n
 *                and the alignment only.
 *   softmax, rms_norm, layer_norm  a warp per row when n <= 1024, else a
 *                block of 128..512 threads per row (by n); grid-stride over
 *                rows, at most 16 blocks per SM.  At most 32 rows longer than
 *                8192 (which would leave most SMs idle): every row cut into
 *                chunks of >= 1024 columns, as many as give about 512 blocks
 *                of 128 (a 32000-wide row: 31 chunks, 128000: 125), the
 *                chunks' partials in the workspace (softmax (max, sum),
 *                rms_norm the sum of squares, layer_norm (sum, centred sum of
 *                squares)), then a second kernel combines a row's partials in
 *                every block and writes the chunk; from rows and n only.
 *   rope         lanes across a row's rotary pairs, 256 / lanes rows per block.
 *   embedding_lookup  ids checked in the copy kernel itself (n_ids <= 256)
 *                or by a check kernel writing one flag word per block (at
 *                most 64) to the workspace; the copy then writes no row if
 *                any id >= vocab.
 *
 * Device-side ids (embedding_lookup): the op cannot see them without
 * synchronizing, so it returns GLLMK_OK at launch; on the device, when any id
 * is >= vocab, out is left entirely unchanged (as the CPU function leaves it
 * when it returns GLLMK_E_INVAL) and no memory outside ids, the table and out
 * is touched.  vocab == 0 with n_ids > 0 is GLLMK_E_INVAL at once (every id
 * is out of range).  With hidden == 0 nothing is launched and the ids are not
 * checked.
 */
#include "cuda_internal.h"

#include <stdint.h>
#include <string.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t gk_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};

typedef enum gllmk__cu_kernel kid;
/* the f32, f16 and bf16 kernels of one op */
#define K3(op) ((const kid[3]){GK_gk_##op##_f32, GK_gk_##op##_f16, GK_gk_##op##_bf16})

/* ------------------------------------------------------------------ launch constants */
#define EW_BLOCK 256              /* blas1.cu GK_EW_BLOCK, act.cu GK_ACT_BLOCK */
#define EW_BLOCKS_PER_SM 8        /* 2048 threads per SM when registers allow */
#define RED_BLOCK 256             /* threads of a reduction block: part of the fixed partition */
#define RED_ELEMS_PER_BLOCK 2048  /* elements per block before another block is added */
#define RED_MAX_BLOCKS 1024       /* partials combined by the final kernel */
#define GEMV_BLOCK 256            /* gemv.cu GK_GEMV_BLOCK */
#define GEMV_UNROLL 4             /* GK_GEMV_UNROLL */
#define GEMV_SPLIT_BELOW 2048     /* split rows when there are fewer row groups (warps) than this */
#define GEMV_TARGET_WARPS 4096    /* ... into enough segments for about this many warps */
#define GEMV_MAX_SEG ((size_t)1 << 30) /* columns of a segment: gemv.cu's offsets are 32-bit */
#define NORM_WARP_MAX_N 1024      /* rows up to this length get a warp each */
#define NORM_MAX_THREADS 512      /* threads of a block per row */
#define NORM_UNROLL 2             /* norm.cu GK_NORM_UNROLL */
#define ROWS_BLOCKS_PER_SM 16     /* grid cap of the row-wise kernels (grid-stride beyond) */
#define SPLIT_ROWS 32             /* row-wise ops of at most this many rows ... */
#define SPLIT_MIN_N 8193          /* ... of at least this many columns: a block per chunk */
#define SPLIT_BLOCKS 512          /* chunks enough for about this many blocks in all ... */
#define SPLIT_MIN_CHUNK 1024      /* ... of at least this many columns (8 elements per thread) */
#define SPLIT_ALIGN 8             /* chunk lengths are multiples of this: whole 16-byte vectors */
#define SPLIT_BLOCK 128           /* threads of a chunk's block */
#define EMB_INLINE_IDS 256        /* up to this many ids, each copy block checks them all */
#define EMB_CHECK_BLOCK 512       /* threads of a gk_embedding_check_u32 block */
#define EMB_IDS_PER_CHECK 16384   /* ids per check block ... */
#define EMB_MAX_CHECKS 64         /* ... up to this many blocks (flag words) */

/* ------------------------------------------------------------------ helpers */
static size_t min_z(size_t a, size_t b) { return a < b ? a : b; }
static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }
static unsigned pow2_at_least(size_t v) {   /* smallest power of two >= v (v <= 2^31) */
  unsigned p = 1;
  while (p < v) p <<= 1;
  return p;
}

/* [p, p + bytes) inside a buffer of be and p aligned to the element size;
 * empty ranges always pass */
static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

/* elements before the first 16-byte boundary of p0 when p0, p1 and p2 are
 * congruent mod 16 (so one split suits them all), else n: all scalar */
static size_t vec_head(size_t n, size_t es, const void *p0, const void *p1, const void *p2) {
  uintptr_t a = (uintptr_t)p0;
  if (((a ^ (uintptr_t)p1) | (a ^ (uintptr_t)p2)) & 15) return n;
  size_t head = (16 - (a & 15)) % 16 / es;
  return min_z(head, n);
}

/* blocks of `block` threads for `items` thread-items, at most per_sm per SM */
static unsigned grid_for(const gllmk_backend *be, size_t items, unsigned block, unsigned per_sm) {
  size_t cap = (size_t)gllmk__cu_device(be)->sm_count * per_sm;
  size_t g = min_z(div_up(items, block), cap ? cap : per_sm);
  return g ? (unsigned)g : 1u;
}

/* the workspace for bytes (NULL when bytes == 0) */
static gllmk_status workspace(gllmk_backend *be, size_t bytes, void **ws) {
  *ws = NULL;
  if (bytes == 0) return GLLMK_OK;
  *ws = gllmk__be_workspace(be, bytes);
  return *ws ? GLLMK_OK : GLLMK_E_NOMEM;
}

static gllmk_status launch1d(gllmk_backend *be, kid k, unsigned grid, unsigned block, void **args) {
  return gllmk__cu_launch(be, k, grid, 1, 1, block, 1, 1, 0, args);
}

static gllmk_status launch2d(gllmk_backend *be, kid k, unsigned gx, unsigned gy, unsigned block,
                             void **args) {
  return gllmk__cu_launch(be, k, gx, gy, 1, block, 1, 1, 0, args);
}

/* Workspace queries: each begins with query_args (be and bytes given, *bytes = 0) */
static gllmk_status query_args(const gllmk_backend *be, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return GLLMK_OK;
}

/* the query of an op without a workspace over n elements */
static gllmk_status no_workspace(const gllmk_backend *be, size_t n, size_t es, size_t *bytes) {
  size_t b;
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  return gllmk__mul(n, es, &b) ? GLLMK_OK : GLLMK_E_OVERFLOW;
}

/* ------------------------------------------------------------------ elementwise */
/* the checks of an op over n elements of es bytes at each of p[0..np):
 * GLLMK_E_OVERFLOW, then GLLMK_E_INVAL for a NULL (n > 0) or a range outside be */
static gllmk_status ew_check(const gllmk_backend *be, size_t n, size_t es, int np,
                             const void *const *p) {
  size_t bytes;
  if (!be) return GLLMK_E_INVAL;
  if (!gllmk__mul(n, es, &bytes)) return GLLMK_E_OVERFLOW;
  for (int i = 0; i < np; i++)
    if ((n && !p[i]) || !owns(be, p[i], bytes, es)) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

/* the grid of an elementwise kernel over n elements split at head */
static unsigned ew_grid(const gllmk_backend *be, size_t n, size_t es, size_t head) {
  size_t nv = (n - head) / (16 / es), ns = n - nv * (16 / es);
  size_t items = nv > ns ? nv : ns;   /* a vector per thread until the grid is full */
  return grid_for(be, items, EW_BLOCK, EW_BLOCKS_PER_SM);
}

/* out = f(a, b): kernel (a, b, out, n, head) */
static gllmk_status cu_binary(gllmk_backend *be, int dt, const kid *k, const void *a,
                              const void *b, void *out, size_t n) {
  size_t es = gk_esize[dt];
  gllmk_status st = ew_check(be, n, es, 3, (const void *[]){a, b, out});
  if (st != GLLMK_OK) return st;
  return gllmk__cuk_binary(be, k[dt], es, a, b, out, n);
}

/* the launch of a checked binary elementwise op, for the fused ops */
gllmk_status gllmk__cuk_binary(gllmk_backend *be, enum gllmk__cu_kernel k, size_t es,
                               const void *a, const void *b, void *out, size_t n) {
  if (n == 0) return GLLMK_OK;
  size_t head = vec_head(n, es, a, b, out);
  void *args[] = {&a, &b, &out, &n, &head};
  return launch1d(be, k, ew_grid(be, n, es, head), EW_BLOCK, args);
}

/* out = f(x): kernel (x, out, n, head) */
static gllmk_status cu_unary(gllmk_backend *be, int dt, const kid *k, const void *x, void *out,
                             size_t n) {
  size_t es = gk_esize[dt];
  gllmk_status st = ew_check(be, n, es, 2, (const void *[]){x, out});
  if (st != GLLMK_OK || n == 0) return st;
  size_t head = vec_head(n, es, x, x, out);
  void *args[] = {&x, &out, &n, &head};
  return launch1d(be, k[dt], ew_grid(be, n, es, head), EW_BLOCK, args);
}

static gllmk_status cu_scale(gllmk_backend *be, int dt, void *x, float s, size_t n) {
  size_t es = gk_esize[dt];
  gllmk_status st = ew_check(be, n, es, 1, (const void *[]){x});
  if (st != GLLMK_OK || n == 0) return st;
  size_t head = vec_head(n, es, x, x, x);
  void *args[] = {&x, &s, &n, &head};
  return launch1d(be, K3(vec_scale)[dt], ew_grid(be, n, es, head), EW_BLOCK, args);
}

static gllmk_status cu_axpy(gllmk_backend *be, int dt, void *y, float a, const void *x, size_t n) {
  size_t es = gk_esize[dt];
  gllmk_status st = ew_check(be, n, es, 2, (const void *[]){y, x});
  if (st != GLLMK_OK || n == 0) return st;
  size_t head = vec_head(n, es, y, x, y);
  void *args[] = {&y, &a, &x, &n, &head};
  return launch1d(be, K3(vec_axpy)[dt], ew_grid(be, n, es, head), EW_BLOCK, args);
}

/* ------------------------------------------------------------------ reductions */
static unsigned red_blocks(size_t n) {
  size_t g = div_up(n, RED_ELEMS_PER_BLOCK);
  return g < 1 ? 1u : g > RED_MAX_BLOCKS ? RED_MAX_BLOCKS : (unsigned)g;
}

static gllmk_status red_workspace(const gllmk_backend *be, size_t n, size_t es, size_t *bytes) {
  gllmk_status st = no_workspace(be, n, es, bytes);
  if (st == GLLMK_OK && red_blocks(n) > 1) *bytes = red_blocks(n) * sizeof(float);
  return st;
}

/* two: a two-input kernel (a, b, n, head, dst), else (x, n, head, dst) */
static gllmk_status red_launch(gllmk_backend *be, kid k, kid final, const void *a, const void *b,
                               int two, size_t n, size_t es, float *result) {
  unsigned g = red_blocks(n);
  void *ws;
  gllmk_status st = workspace(be, g > 1 ? g * sizeof(float) : 0, &ws);
  if (st != GLLMK_OK) return st;
  size_t head = vec_head(n, es, a, two ? b : a, a);
  float *dst = g > 1 ? (float *)ws : result;
  void *args2[] = {&a, &b, &n, &head, &dst};
  void *args1[] = {&a, &n, &head, &dst};
  st = launch1d(be, k, g, RED_BLOCK, two ? args2 : args1);
  if (st != GLLMK_OK || g == 1) return st;
  void *fargs[] = {&dst, &g, &result};
  return launch1d(be, final, 1, RED_BLOCK, fargs);
}

static gllmk_status cu_reduce(gllmk_backend *be, int dt, const kid *k, int is_max, const void *a,
                              const void *b, int two, size_t n, float *result) {
  size_t es = gk_esize[dt];
  gllmk_status st = ew_check(be, n, es, two ? 2 : 1, (const void *[]){a, b});
  if (st != GLLMK_OK) return st;
  if (!result || (is_max && n == 0) || !owns(be, result, sizeof(float), sizeof(float)))
    return GLLMK_E_INVAL;
  kid final = is_max ? GK_gk_vec_max_final_f32 : GK_gk_vec_sum_final_f32;
  return red_launch(be, k[dt], final, a, b, two, n, es, result);
}

/* ------------------------------------------------------------------ gemv */
struct gemv_plan {
  unsigned lpr, split;   /* lanes per row (power of two <= 32); segments per row */
  size_t seg;            /* columns per segment */
};

/* from m, n and the element size only */
static struct gemv_plan gemv_plan(size_t m, size_t n, size_t es) {
  struct gemv_plan p = {32, 1, n};
  size_t v = 16 / es, nvr = n / v;
  while (p.lpr > 1 && 2 * (size_t)p.lpr > nvr) p.lpr /= 2;
  size_t groups = div_up(m, 32 / p.lpr);
  size_t min_seg = 32 * v * GEMV_UNROLL;   /* a whole step of a warp's loads */
  if (groups < GEMV_SPLIT_BELOW && n >= 2 * min_seg) {
    size_t split = min_z(div_up(GEMV_TARGET_WARPS, groups), n / min_seg);
    p.seg = div_up(div_up(n, split), v) * v;
    p.split = (unsigned)div_up(n, p.seg);
  }
  if (p.seg > GEMV_MAX_SEG) {
    size_t split = div_up(n, GEMV_MAX_SEG);
    p.seg = div_up(div_up(n, split), v) * v;
    p.split = (unsigned)div_up(n, p.seg);
  }
  return p;
}

static gllmk_status gemv_sizes(size_t m, size_t n, size_t es) {
  size_t mn, b;
  if (!gllmk__mul(m, n, &mn) || !gllmk__mul(mn, es, &b) || !gllmk__mul(m, es, &b))
    return GLLMK_E_OVERFLOW;
  return GLLMK_OK;
}

static gllmk_status gemv_workspace(const gllmk_backend *be, size_t m, size_t n, size_t es,
                                   size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st == GLLMK_OK) st = gemv_sizes(m, n, es);
  if (st != GLLMK_OK) return st;
  struct gemv_plan p = gemv_plan(m, n, es);
  if (p.split > 1) *bytes = m * p.split * sizeof(float);
  return GLLMK_OK;
}

static gllmk_status cu_gemv(gllmk_backend *be, int dt, const void *A, const void *x, void *y,
                            size_t m, size_t n) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt];
  gllmk_status st = gemv_sizes(m, n, es);
  if (st != GLLMK_OK) return st;
  size_t mn = m * n;
  if ((mn && (!A || !x)) || (m && !y)) return GLLMK_E_INVAL;
  if (!owns(be, A, mn * es, es) || !owns(be, x, mn ? n * es : 0, es) || !owns(be, y, m * es, es))
    return GLLMK_E_INVAL;
  if (m == 0) return GLLMK_OK;
  struct gemv_plan p = gemv_plan(m, n, es);
  size_t items = div_up(m, 32 / p.lpr) * p.split;   /* warps */
  size_t blocks = div_up(items, GEMV_BLOCK / 32);
  if (blocks > 0x7fffffff) return GLLMK_E_INVAL;
  void *ws;
  st = workspace(be, p.split > 1 ? m * p.split * sizeof(float) : 0, &ws);
  if (st != GLLMK_OK) return st;
  float *part = ws;
  int xvec = ((uintptr_t)A & 15) == ((uintptr_t)x & 15) && n * es % 16 == 0;
  void *args[] = {&A, &x, &y, &part, &m, &n, &p.lpr, &p.split, &p.seg, &xvec};
  st = launch1d(be, K3(gemv)[dt], (unsigned)blocks, GEMV_BLOCK, args);
  if (st != GLLMK_OK || p.split == 1) return st;
  void *fargs[] = {&part, &y, &m, &p.split};
  return launch1d(be, K3(gemv_final)[dt], grid_for(be, m, 256, ROWS_BLOCKS_PER_SM), 256, fargs);
}

/* ------------------------------------------------------------------ row-wise */
enum { ROW_SOFTMAX, ROW_RMS, ROW_LAYER };
/* floats per chunk of the split path's partials (norm.cu) */
static const size_t row_parts[3] = {2, 1, 2};

/* the split path: nch chunks of `chunk` columns per row; nch = 0 when rows
 * x n takes the one-pass kernels.  From rows and n only. */
struct row_split {
  size_t nch, chunk;
};
static struct row_split row_split(size_t rows, size_t n) {
  struct row_split sp = {0, 0};
  if (rows == 0 || rows > SPLIT_ROWS || n < SPLIT_MIN_N) return sp;
  size_t nch = min_z(div_up(SPLIT_BLOCKS, rows), n / SPLIT_MIN_CHUNK);
  sp.chunk = div_up(div_up(n, nch), SPLIT_ALIGN) * SPLIT_ALIGN;
  sp.nch = div_up(n, sp.chunk);
  return sp;
}

static gllmk_status rows_workspace(const gllmk_backend *be, int op, size_t rows, size_t n,
                                   size_t es, size_t *bytes) {
  size_t rn;
  gllmk_status st = query_args(be, bytes);
  if (st != GLLMK_OK) return st;
  if (!gllmk__mul(rows, n, &rn) || !gllmk__mul(rn, es, &rn)) return GLLMK_E_OVERFLOW;
  *bytes = rows * row_split(rows, n).nch * row_parts[op] * sizeof(float);
  return GLLMK_OK;
}

/* the split path: <op>_stats, then <op>_apply, each a block per (chunk, row) */
static gllmk_status rows_split_launch(gllmk_backend *be, int dt, int op, const void *x,
                                      const void *w, const void *b, void *out, size_t rows,
                                      size_t n, float eps, struct row_split sp) {
  void *ws;
  gllmk_status st = workspace(be, rows * sp.nch * row_parts[op] * sizeof(float), &ws);
  if (st != GLLMK_OK) return st;
  float *part = ws;
  unsigned gx = (unsigned)sp.nch, gy = (unsigned)rows;
  kid stats = op == ROW_SOFTMAX ? K3(softmax_stats)[dt]
              : op == ROW_RMS   ? K3(rms_norm_stats)[dt]
                                : K3(layer_norm_stats)[dt];
  void *sargs[] = {&x, &n, &sp.chunk, &part};
  st = launch2d(be, stats, gx, gy, SPLIT_BLOCK, sargs);
  if (st != GLLMK_OK) return st;
  if (op == ROW_SOFTMAX) {
    void *args[] = {&x, &out, &n, &sp.chunk, &part};
    return launch2d(be, K3(softmax_apply)[dt], gx, gy, SPLIT_BLOCK, args);
  }
  if (op == ROW_RMS) {
    void *args[] = {&x, &w, &out, &n, &sp.chunk, &eps, &part};
    return launch2d(be, K3(rms_norm_apply)[dt], gx, gy, SPLIT_BLOCK, args);
  }
  void *args[] = {&x, &w, &b, &out, &n, &sp.chunk, &eps, &part};
  return launch2d(be, K3(layer_norm_apply)[dt], gx, gy, SPLIT_BLOCK, args);
}

static gllmk_status cu_rows(gllmk_backend *be, int dt, int op, const void *x, const void *w,
                            const void *b, void *out, size_t rows, size_t n, float eps) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt], rn, bytes;
  if (!gllmk__mul(rows, n, &rn) || !gllmk__mul(rn, es, &bytes)) return GLLMK_E_OVERFLOW;
  if (op != ROW_SOFTMAX && !(eps >= 0.0f)) return GLLMK_E_INVAL;
  if (rn && (!x || !out || (op != ROW_SOFTMAX && !w) || (op == ROW_LAYER && !b)))
    return GLLMK_E_INVAL;
  if (!owns(be, x, bytes, es) || !owns(be, out, bytes, es)) return GLLMK_E_INVAL;
  size_t wbytes = rn ? n * es : 0;
  if ((op != ROW_SOFTMAX && !owns(be, w, wbytes, es)) ||
      (op == ROW_LAYER && !owns(be, b, wbytes, es)))
    return GLLMK_E_INVAL;
  if (rn == 0) return GLLMK_OK;
  struct row_split sp = row_split(rows, n);
  if (sp.nch) return rows_split_launch(be, dt, op, x, w, b, out, rows, n, eps, sp);
  int warp_rows = n <= NORM_WARP_MAX_N;
  unsigned block, grid;
  if (warp_rows) {
    block = 256;
    grid = grid_for(be, rows, block / 32, ROWS_BLOCKS_PER_SM);
  } else {
    size_t per = div_up(n, (16 / es) * NORM_UNROLL);
    block = per > NORM_MAX_THREADS ? NORM_MAX_THREADS : pow2_at_least(per);
    if (block < 128) block = 128;
    grid = grid_for(be, rows, 1, ROWS_BLOCKS_PER_SM);
  }
  if (op == ROW_SOFTMAX) {
    void *args[] = {&x, &out, &rows, &n, &warp_rows};
    return launch1d(be, K3(softmax)[dt], grid, block, args);
  }
  if (op == ROW_RMS) {
    void *args[] = {&x, &w, &out, &rows, &n, &eps, &warp_rows};
    return launch1d(be, K3(rms_norm)[dt], grid, block, args);
  }
  void *args[] = {&x, &w, &b, &out, &rows, &n, &eps, &warp_rows};
  return launch1d(be, K3(layer_norm)[dt], grid, block, args);
}

/* ------------------------------------------------------------------ rope */
static gllmk_status rope_check(size_t seq, size_t heads, size_t head_dim, size_t rotary_dim,
                               size_t pos, size_t es) {
  size_t x, rows;
  if (!gllmk__mul3(seq, heads, head_dim, &x) || !gllmk__mul(x, es, &x) ||
      !gllmk__add(pos, seq, &rows) || !gllmk__mul(rows, rotary_dim / 2, &x) ||
      !gllmk__mul(x, es, &x))
    return GLLMK_E_OVERFLOW;
  if (rotary_dim % 2 || rotary_dim > head_dim) return GLLMK_E_INVAL;
  return GLLMK_OK;
}

static gllmk_status rope_workspace(const gllmk_backend *be, size_t seq, size_t heads,
                                   size_t head_dim, size_t rotary_dim, size_t pos, size_t es,
                                   size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  return st != GLLMK_OK ? st : rope_check(seq, heads, head_dim, rotary_dim, pos, es);
}

static gllmk_status cu_rope(gllmk_backend *be, int dt, void *qk, const void *cs, const void *sn,
                            size_t seq, size_t heads, size_t head_dim, size_t rotary_dim,
                            bool interleaved, size_t pos) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt];
  gllmk_status st = rope_check(seq, heads, head_dim, rotary_dim, pos, es);
  if (st != GLLMK_OK) return st;
  bool touches = seq && heads && rotary_dim;
  if (!touches) return GLLMK_OK;
  if (!qk || !cs || !sn) return GLLMK_E_INVAL;
  size_t half = rotary_dim / 2, tab = (pos + seq) * half * es;
  if (!owns(be, qk, seq * heads * head_dim * es, es) || !owns(be, cs, tab, es) ||
      !owns(be, sn, tab, es))
    return GLLMK_E_INVAL;
  unsigned bx = half >= 64 ? 64 : pow2_at_least(half), by = 256 / bx;
  size_t rows = seq * heads;
  unsigned grid = grid_for(be, rows, by, ROWS_BLOCKS_PER_SM);
  int inter = interleaved;
  void *args[] = {&qk, &cs, &sn, &seq, &heads, &head_dim, &half, &inter, &pos};
  return gllmk__cu_launch(be, K3(rope)[dt], grid, 1, 1, bx, by, 1, 0, args);
}

/* ------------------------------------------------------------------ embedding */
static gllmk_status emb_sizes(size_t n_ids, size_t vocab, size_t hidden, size_t es) {
  size_t x;
  if (!gllmk__mul(vocab, hidden, &x) || !gllmk__mul(x, es, &x) || !gllmk__mul(n_ids, hidden, &x) ||
      !gllmk__mul(x, es, &x) || !gllmk__mul(n_ids, sizeof(uint32_t), &x))
    return GLLMK_E_OVERFLOW;
  return GLLMK_OK;
}

/* check blocks (= flag words) for n_ids; 0: the copy checks the ids itself */
static unsigned emb_checks(size_t n_ids) {
  if (n_ids <= EMB_INLINE_IDS) return 0;
  size_t g = div_up(n_ids, EMB_IDS_PER_CHECK);
  return g > EMB_MAX_CHECKS ? EMB_MAX_CHECKS : (unsigned)g;
}

static gllmk_status emb_workspace(const gllmk_backend *be, size_t n_ids, size_t vocab,
                                  size_t hidden, size_t es, size_t *bytes) {
  gllmk_status st = query_args(be, bytes);
  if (st == GLLMK_OK) st = emb_sizes(n_ids, vocab, hidden, es);
  if (st == GLLMK_OK && hidden) *bytes = emb_checks(n_ids) * sizeof(uint32_t);
  return st;
}

static gllmk_status cu_embedding(gllmk_backend *be, int dt, const uint32_t *ids, size_t n_ids,
                                 const void *table, size_t vocab, size_t hidden, void *out) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt];
  gllmk_status st = emb_sizes(n_ids, vocab, hidden, es);
  if (st != GLLMK_OK) return st;
  if (n_ids && !ids) return GLLMK_E_INVAL;
  if (n_ids && hidden && (!table || !out)) return GLLMK_E_INVAL;
  if (n_ids && vocab == 0) return GLLMK_E_INVAL;   /* every id is out of range */
  if (!owns(be, ids, n_ids * sizeof(uint32_t), sizeof(uint32_t))) return GLLMK_E_INVAL;
  if (n_ids && hidden &&
      (!owns(be, table, vocab * hidden * es, es) || !owns(be, out, n_ids * hidden * es, es)))
    return GLLMK_E_INVAL;
  if (n_ids == 0 || hidden == 0) return GLLMK_OK;
  unsigned nflags = emb_checks(n_ids);
  void *ws;
  st = workspace(be, nflags * sizeof(uint32_t), &ws);
  if (st != GLLMK_OK) return st;
  uint32_t *flags = ws;
  if (nflags) {
    void *cargs[] = {&ids, &n_ids, &vocab, &flags};
    st = launch1d(be, GK_gk_embedding_check_u32, nflags, EMB_CHECK_BLOCK, cargs);
    if (st != GLLMK_OK) return st;
  }
  int vec = (uintptr_t)table % 16 == 0 && (uintptr_t)out % 16 == 0 && hidden * es % 16 == 0;
  size_t units = vec ? hidden * es / 16 : hidden;
  /* 256 threads in all (whole warps, for the inline check's votes) */
  unsigned bx = units >= 128 ? 128 : pow2_at_least(units), by = 256 / bx;
  unsigned grid = grid_for(be, n_ids, by, ROWS_BLOCKS_PER_SM);
  void *args[] = {&ids, &n_ids, &table, &vocab, &hidden, &out, &flags, &nflags, &vec};
  return gllmk__cu_launch(be, K3(embedding_lookup)[dt], grid, 1, 1, bx, by, 1, 0, args);
}

/* ------------------------------------------------------------------ entry points
 * One definition per op and element type, written out (tools/gen-api.py
 * fills the backend's tables with the gllmk__cu_* functions it finds defined
 * at the start of a line here, and with GLLMK_E_UNSUPPORTED for the rest).
 * cuda_ops.h, generated on main, declares them all (hidden). */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif

/* f32 */
gllmk_status gllmk__cu_vec_dot_f32(gllmk_backend *be, const float *a, const float *b, size_t n,
                                   float *result) {
  return cu_reduce(be, DT_F32, K3(vec_dot), 0, a, b, 1, n, result);
}
gllmk_status gllmk__cu_vec_dot_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_add_f32(gllmk_backend *be, const float *a, const float *b, float *out,
                                   size_t n) {
  return cu_binary(be, DT_F32, K3(vec_add), a, b, out, n);
}
gllmk_status gllmk__cu_vec_add_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_sub_f32(gllmk_backend *be, const float *a, const float *b, float *out,
                                   size_t n) {
  return cu_binary(be, DT_F32, K3(vec_sub), a, b, out, n);
}
gllmk_status gllmk__cu_vec_sub_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_mul_f32(gllmk_backend *be, const float *a, const float *b, float *out,
                                   size_t n) {
  return cu_binary(be, DT_F32, K3(vec_mul), a, b, out, n);
}
gllmk_status gllmk__cu_vec_mul_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_scale_f32(gllmk_backend *be, float *x, float s, size_t n) {
  return cu_scale(be, DT_F32, x, s, n);
}
gllmk_status gllmk__cu_vec_scale_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_axpy_f32(gllmk_backend *be, float *y, float a, const float *x,
                                    size_t n) {
  return cu_axpy(be, DT_F32, y, a, x, n);
}
gllmk_status gllmk__cu_vec_axpy_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_sum_f32(gllmk_backend *be, const float *x, size_t n, float *result) {
  return cu_reduce(be, DT_F32, K3(vec_sum), 0, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_sum_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_max_f32(gllmk_backend *be, const float *x, size_t n, float *result) {
  return cu_reduce(be, DT_F32, K3(vec_max), 1, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_max_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_vec_sum_squares_f32(gllmk_backend *be, const float *x, size_t n,
                                           float *result) {
  return cu_reduce(be, DT_F32, K3(vec_sum_squares), 0, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_sum_squares_workspace_bytes_f32(gllmk_backend *be, size_t n,
                                                           size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_gemv_f32(gllmk_backend *be, const float *A, const float *x, float *y,
                                size_t m, size_t n) {
  return cu_gemv(be, DT_F32, A, x, y, m, n);
}
gllmk_status gllmk__cu_gemv_workspace_bytes_f32(gllmk_backend *be, size_t m, size_t n,
                                                size_t *bytes) {
  return gemv_workspace(be, m, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_silu_f32(gllmk_backend *be, const float *x, float *out, size_t n) {
  return cu_unary(be, DT_F32, K3(silu), x, out, n);
}
gllmk_status gllmk__cu_silu_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_gelu_f32(gllmk_backend *be, const float *x, float *out, size_t n) {
  return cu_unary(be, DT_F32, K3(gelu), x, out, n);
}
gllmk_status gllmk__cu_gelu_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_relu_f32(gllmk_backend *be, const float *x, float *out, size_t n) {
  return cu_unary(be, DT_F32, K3(relu), x, out, n);
}
gllmk_status gllmk__cu_relu_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_tanh_f32(gllmk_backend *be, const float *x, float *out, size_t n) {
  return cu_unary(be, DT_F32, K3(tanh), x, out, n);
}
gllmk_status gllmk__cu_tanh_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_exp_f32(gllmk_backend *be, const float *x, float *out, size_t n) {
  return cu_unary(be, DT_F32, K3(exp), x, out, n);
}
gllmk_status gllmk__cu_exp_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_swiglu_f32(gllmk_backend *be, const float *gate, const float *up, float *out,
                                  size_t n) {
  return cu_binary(be, DT_F32, K3(swiglu), gate, up, out, n);
}
gllmk_status gllmk__cu_swiglu_workspace_bytes_f32(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_softmax_f32(gllmk_backend *be, const float *x, float *out, size_t rows,
                                   size_t n) {
  return cu_rows(be, DT_F32, ROW_SOFTMAX, x, NULL, NULL, out, rows, n, 0.0f);
}
gllmk_status gllmk__cu_softmax_workspace_bytes_f32(gllmk_backend *be, size_t rows, size_t n,
                                                   size_t *bytes) {
  return rows_workspace(be, ROW_SOFTMAX, rows, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_rms_norm_f32(gllmk_backend *be, const float *x, const float *w, float *out,
                                    size_t rows, size_t n, float eps) {
  return cu_rows(be, DT_F32, ROW_RMS, x, w, NULL, out, rows, n, eps);
}
gllmk_status gllmk__cu_rms_norm_workspace_bytes_f32(gllmk_backend *be, size_t rows, size_t n,
                                                    size_t *bytes) {
  return rows_workspace(be, ROW_RMS, rows, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_layer_norm_f32(gllmk_backend *be, const float *x, const float *gamma,
                                      const float *beta, float *out, size_t rows, size_t n,
                                      float eps) {
  return cu_rows(be, DT_F32, ROW_LAYER, x, gamma, beta, out, rows, n, eps);
}
gllmk_status gllmk__cu_layer_norm_workspace_bytes_f32(gllmk_backend *be, size_t rows, size_t n,
                                                      size_t *bytes) {
  return rows_workspace(be, ROW_LAYER, rows, n, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_rope_f32(gllmk_backend *be, float *qk, const float *cos, const float *sin,
                                size_t seq, size_t heads, size_t head_dim, size_t rotary_dim,
                                bool interleaved) {
  return cu_rope(be, DT_F32, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, 0);
}
gllmk_status gllmk__cu_rope_workspace_bytes_f32(gllmk_backend *be, size_t seq, size_t heads,
                                                size_t head_dim, size_t rotary_dim,
                                                bool interleaved, size_t *bytes) {
  (void)interleaved;
  return rope_workspace(be, seq, heads, head_dim, rotary_dim, 0, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_rope_with_pos_f32(gllmk_backend *be, float *qk, const float *cos,
                                         const float *sin, size_t seq, size_t heads,
                                         size_t head_dim, size_t rotary_dim, bool interleaved,
                                         size_t pos) {
  return cu_rope(be, DT_F32, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, pos);
}
gllmk_status gllmk__cu_rope_with_pos_workspace_bytes_f32(gllmk_backend *be, size_t seq,
                                                         size_t heads, size_t head_dim,
                                                         size_t rotary_dim, bool interleaved,
                                                         size_t pos, size_t *bytes) {
  (void)interleaved;
  return rope_workspace(be, seq, heads, head_dim, rotary_dim, pos, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_embedding_lookup_f32(gllmk_backend *be, const uint32_t *ids, size_t n_ids,
                                            const float *table, size_t vocab, size_t hidden,
                                            float *out) {
  return cu_embedding(be, DT_F32, ids, n_ids, table, vocab, hidden, out);
}
gllmk_status gllmk__cu_embedding_lookup_workspace_bytes_f32(gllmk_backend *be, size_t n_ids,
                                                            size_t vocab, size_t hidden,
                                                            size_t *bytes) {
  return emb_workspace(be, n_ids, vocab, hidden, gk_esize[DT_F32], bytes);
}

/* f16 */
gllmk_status gllmk__cu_vec_dot_f16(gllmk_backend *be, const gllmk_f16 *a, const gllmk_f16 *b,
                                   size_t n, float *result) {
  return cu_reduce(be, DT_F16, K3(vec_dot), 0, a, b, 1, n, result);
}
gllmk_status gllmk__cu_vec_dot_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_add_f16(gllmk_backend *be, const gllmk_f16 *a, const gllmk_f16 *b,
                                   gllmk_f16 *out, size_t n) {
  return cu_binary(be, DT_F16, K3(vec_add), a, b, out, n);
}
gllmk_status gllmk__cu_vec_add_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_sub_f16(gllmk_backend *be, const gllmk_f16 *a, const gllmk_f16 *b,
                                   gllmk_f16 *out, size_t n) {
  return cu_binary(be, DT_F16, K3(vec_sub), a, b, out, n);
}
gllmk_status gllmk__cu_vec_sub_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_mul_f16(gllmk_backend *be, const gllmk_f16 *a, const gllmk_f16 *b,
                                   gllmk_f16 *out, size_t n) {
  return cu_binary(be, DT_F16, K3(vec_mul), a, b, out, n);
}
gllmk_status gllmk__cu_vec_mul_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_scale_f16(gllmk_backend *be, gllmk_f16 *x, float s, size_t n) {
  return cu_scale(be, DT_F16, x, s, n);
}
gllmk_status gllmk__cu_vec_scale_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_axpy_f16(gllmk_backend *be, gllmk_f16 *y, float a, const gllmk_f16 *x,
                                    size_t n) {
  return cu_axpy(be, DT_F16, y, a, x, n);
}
gllmk_status gllmk__cu_vec_axpy_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_sum_f16(gllmk_backend *be, const gllmk_f16 *x, size_t n, float *result) {
  return cu_reduce(be, DT_F16, K3(vec_sum), 0, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_sum_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_max_f16(gllmk_backend *be, const gllmk_f16 *x, size_t n, float *result) {
  return cu_reduce(be, DT_F16, K3(vec_max), 1, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_max_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_vec_sum_squares_f16(gllmk_backend *be, const gllmk_f16 *x, size_t n,
                                           float *result) {
  return cu_reduce(be, DT_F16, K3(vec_sum_squares), 0, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_sum_squares_workspace_bytes_f16(gllmk_backend *be, size_t n,
                                                           size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_gemv_f16(gllmk_backend *be, const gllmk_f16 *A, const gllmk_f16 *x,
                                gllmk_f16 *y, size_t m, size_t n) {
  return cu_gemv(be, DT_F16, A, x, y, m, n);
}
gllmk_status gllmk__cu_gemv_workspace_bytes_f16(gllmk_backend *be, size_t m, size_t n,
                                                size_t *bytes) {
  return gemv_workspace(be, m, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_silu_f16(gllmk_backend *be, const gllmk_f16 *x, gllmk_f16 *out, size_t n) {
  return cu_unary(be, DT_F16, K3(silu), x, out, n);
}
gllmk_status gllmk__cu_silu_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_gelu_f16(gllmk_backend *be, const gllmk_f16 *x, gllmk_f16 *out, size_t n) {
  return cu_unary(be, DT_F16, K3(gelu), x, out, n);
}
gllmk_status gllmk__cu_gelu_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_relu_f16(gllmk_backend *be, const gllmk_f16 *x, gllmk_f16 *out, size_t n) {
  return cu_unary(be, DT_F16, K3(relu), x, out, n);
}
gllmk_status gllmk__cu_relu_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_tanh_f16(gllmk_backend *be, const gllmk_f16 *x, gllmk_f16 *out, size_t n) {
  return cu_unary(be, DT_F16, K3(tanh), x, out, n);
}
gllmk_status gllmk__cu_tanh_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_exp_f16(gllmk_backend *be, const gllmk_f16 *x, gllmk_f16 *out, size_t n) {
  return cu_unary(be, DT_F16, K3(exp), x, out, n);
}
gllmk_status gllmk__cu_exp_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_swiglu_f16(gllmk_backend *be, const gllmk_f16 *gate, const gllmk_f16 *up,
                                  gllmk_f16 *out, size_t n) {
  return cu_binary(be, DT_F16, K3(swiglu), gate, up, out, n);
}
gllmk_status gllmk__cu_swiglu_workspace_bytes_f16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_softmax_f16(gllmk_backend *be, const gllmk_f16 *x, gllmk_f16 *out,
                                   size_t rows, size_t n) {
  return cu_rows(be, DT_F16, ROW_SOFTMAX, x, NULL, NULL, out, rows, n, 0.0f);
}
gllmk_status gllmk__cu_softmax_workspace_bytes_f16(gllmk_backend *be, size_t rows, size_t n,
                                                   size_t *bytes) {
  return rows_workspace(be, ROW_SOFTMAX, rows, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_rms_norm_f16(gllmk_backend *be, const gllmk_f16 *x, const gllmk_f16 *w,
                                    gllmk_f16 *out, size_t rows, size_t n, float eps) {
  return cu_rows(be, DT_F16, ROW_RMS, x, w, NULL, out, rows, n, eps);
}
gllmk_status gllmk__cu_rms_norm_workspace_bytes_f16(gllmk_backend *be, size_t rows, size_t n,
                                                    size_t *bytes) {
  return rows_workspace(be, ROW_RMS, rows, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_layer_norm_f16(gllmk_backend *be, const gllmk_f16 *x, const gllmk_f16 *gamma,
                                      const gllmk_f16 *beta, gllmk_f16 *out, size_t rows, size_t n,
                                      float eps) {
  return cu_rows(be, DT_F16, ROW_LAYER, x, gamma, beta, out, rows, n, eps);
}
gllmk_status gllmk__cu_layer_norm_workspace_bytes_f16(gllmk_backend *be, size_t rows, size_t n,
                                                      size_t *bytes) {
  return rows_workspace(be, ROW_LAYER, rows, n, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_rope_f16(gllmk_backend *be, gllmk_f16 *qk, const gllmk_f16 *cos,
                                const gllmk_f16 *sin, size_t seq, size_t heads, size_t head_dim,
                                size_t rotary_dim, bool interleaved) {
  return cu_rope(be, DT_F16, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, 0);
}
gllmk_status gllmk__cu_rope_workspace_bytes_f16(gllmk_backend *be, size_t seq, size_t heads,
                                                size_t head_dim, size_t rotary_dim,
                                                bool interleaved, size_t *bytes) {
  (void)interleaved;
  return rope_workspace(be, seq, heads, head_dim, rotary_dim, 0, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_rope_with_pos_f16(gllmk_backend *be, gllmk_f16 *qk, const gllmk_f16 *cos,
                                         const gllmk_f16 *sin, size_t seq, size_t heads,
                                         size_t head_dim, size_t rotary_dim, bool interleaved,
                                         size_t pos) {
  return cu_rope(be, DT_F16, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, pos);
}
gllmk_status gllmk__cu_rope_with_pos_workspace_bytes_f16(gllmk_backend *be, size_t seq,
                                                         size_t heads, size_t head_dim,
                                                         size_t rotary_dim, bool interleaved,
                                                         size_t pos, size_t *bytes) {
  (void)interleaved;
  return rope_workspace(be, seq, heads, head_dim, rotary_dim, pos, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_embedding_lookup_f16(gllmk_backend *be, const uint32_t *ids, size_t n_ids,
                                            const gllmk_f16 *table, size_t vocab, size_t hidden,
                                            gllmk_f16 *out) {
  return cu_embedding(be, DT_F16, ids, n_ids, table, vocab, hidden, out);
}
gllmk_status gllmk__cu_embedding_lookup_workspace_bytes_f16(gllmk_backend *be, size_t n_ids,
                                                            size_t vocab, size_t hidden,
                                                            size_t *bytes) {
  return emb_workspace(be, n_ids, vocab, hidden, gk_esize[DT_F16], bytes);
}

/* bf16 */
gllmk_status gllmk__cu_vec_dot_bf16(gllmk_backend *be, const gllmk_bf16 *a, const gllmk_bf16 *b,
                                    size_t n, float *result) {
  return cu_reduce(be, DT_BF16, K3(vec_dot), 0, a, b, 1, n, result);
}
gllmk_status gllmk__cu_vec_dot_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_add_bf16(gllmk_backend *be, const gllmk_bf16 *a, const gllmk_bf16 *b,
                                    gllmk_bf16 *out, size_t n) {
  return cu_binary(be, DT_BF16, K3(vec_add), a, b, out, n);
}
gllmk_status gllmk__cu_vec_add_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_sub_bf16(gllmk_backend *be, const gllmk_bf16 *a, const gllmk_bf16 *b,
                                    gllmk_bf16 *out, size_t n) {
  return cu_binary(be, DT_BF16, K3(vec_sub), a, b, out, n);
}
gllmk_status gllmk__cu_vec_sub_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_mul_bf16(gllmk_backend *be, const gllmk_bf16 *a, const gllmk_bf16 *b,
                                    gllmk_bf16 *out, size_t n) {
  return cu_binary(be, DT_BF16, K3(vec_mul), a, b, out, n);
}
gllmk_status gllmk__cu_vec_mul_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_scale_bf16(gllmk_backend *be, gllmk_bf16 *x, float s, size_t n) {
  return cu_scale(be, DT_BF16, x, s, n);
}
gllmk_status gllmk__cu_vec_scale_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_axpy_bf16(gllmk_backend *be, gllmk_bf16 *y, float a, const gllmk_bf16 *x,
                                     size_t n) {
  return cu_axpy(be, DT_BF16, y, a, x, n);
}
gllmk_status gllmk__cu_vec_axpy_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_sum_bf16(gllmk_backend *be, const gllmk_bf16 *x, size_t n,
                                    float *result) {
  return cu_reduce(be, DT_BF16, K3(vec_sum), 0, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_sum_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_max_bf16(gllmk_backend *be, const gllmk_bf16 *x, size_t n,
                                    float *result) {
  return cu_reduce(be, DT_BF16, K3(vec_max), 1, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_max_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_vec_sum_squares_bf16(gllmk_backend *be, const gllmk_bf16 *x, size_t n,
                                            float *result) {
  return cu_reduce(be, DT_BF16, K3(vec_sum_squares), 0, x, NULL, 0, n, result);
}
gllmk_status gllmk__cu_vec_sum_squares_workspace_bytes_bf16(gllmk_backend *be, size_t n,
                                                            size_t *bytes) {
  return red_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_gemv_bf16(gllmk_backend *be, const gllmk_bf16 *A, const gllmk_bf16 *x,
                                 gllmk_bf16 *y, size_t m, size_t n) {
  return cu_gemv(be, DT_BF16, A, x, y, m, n);
}
gllmk_status gllmk__cu_gemv_workspace_bytes_bf16(gllmk_backend *be, size_t m, size_t n,
                                                 size_t *bytes) {
  return gemv_workspace(be, m, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_silu_bf16(gllmk_backend *be, const gllmk_bf16 *x, gllmk_bf16 *out,
                                 size_t n) {
  return cu_unary(be, DT_BF16, K3(silu), x, out, n);
}
gllmk_status gllmk__cu_silu_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_gelu_bf16(gllmk_backend *be, const gllmk_bf16 *x, gllmk_bf16 *out,
                                 size_t n) {
  return cu_unary(be, DT_BF16, K3(gelu), x, out, n);
}
gllmk_status gllmk__cu_gelu_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_relu_bf16(gllmk_backend *be, const gllmk_bf16 *x, gllmk_bf16 *out,
                                 size_t n) {
  return cu_unary(be, DT_BF16, K3(relu), x, out, n);
}
gllmk_status gllmk__cu_relu_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_tanh_bf16(gllmk_backend *be, const gllmk_bf16 *x, gllmk_bf16 *out,
                                 size_t n) {
  return cu_unary(be, DT_BF16, K3(tanh), x, out, n);
}
gllmk_status gllmk__cu_tanh_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_exp_bf16(gllmk_backend *be, const gllmk_bf16 *x, gllmk_bf16 *out, size_t n) {
  return cu_unary(be, DT_BF16, K3(exp), x, out, n);
}
gllmk_status gllmk__cu_exp_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_swiglu_bf16(gllmk_backend *be, const gllmk_bf16 *gate, const gllmk_bf16 *up,
                                   gllmk_bf16 *out, size_t n) {
  return cu_binary(be, DT_BF16, K3(swiglu), gate, up, out, n);
}
gllmk_status gllmk__cu_swiglu_workspace_bytes_bf16(gllmk_backend *be, size_t n, size_t *bytes) {
  return no_workspace(be, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_softmax_bf16(gllmk_backend *be, const gllmk_bf16 *x, gllmk_bf16 *out,
                                    size_t rows, size_t n) {
  return cu_rows(be, DT_BF16, ROW_SOFTMAX, x, NULL, NULL, out, rows, n, 0.0f);
}
gllmk_status gllmk__cu_softmax_workspace_bytes_bf16(gllmk_backend *be, size_t rows, size_t n,
                                                    size_t *bytes) {
  return rows_workspace(be, ROW_SOFTMAX, rows, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_rms_norm_bf16(gllmk_backend *be, const gllmk_bf16 *x, const gllmk_bf16 *w,
                                     gllmk_bf16 *out, size_t rows, size_t n, float eps) {
  return cu_rows(be, DT_BF16, ROW_RMS, x, w, NULL, out, rows, n, eps);
}
gllmk_status gllmk__cu_rms_norm_workspace_bytes_bf16(gllmk_backend *be, size_t rows, size_t n,
                                                     size_t *bytes) {
  return rows_workspace(be, ROW_RMS, rows, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_layer_norm_bf16(gllmk_backend *be, const gllmk_bf16 *x,
                                       const gllmk_bf16 *gamma, const gllmk_bf16 *beta,
                                       gllmk_bf16 *out, size_t rows, size_t n, float eps) {
  return cu_rows(be, DT_BF16, ROW_LAYER, x, gamma, beta, out, rows, n, eps);
}
gllmk_status gllmk__cu_layer_norm_workspace_bytes_bf16(gllmk_backend *be, size_t rows, size_t n,
                                                       size_t *bytes) {
  return rows_workspace(be, ROW_LAYER, rows, n, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_rope_bf16(gllmk_backend *be, gllmk_bf16 *qk, const gllmk_bf16 *cos,
                                 const gllmk_bf16 *sin, size_t seq, size_t heads, size_t head_dim,
                                 size_t rotary_dim, bool interleaved) {
  return cu_rope(be, DT_BF16, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, 0);
}
gllmk_status gllmk__cu_rope_workspace_bytes_bf16(gllmk_backend *be, size_t seq, size_t heads,
                                                 size_t head_dim, size_t rotary_dim,
                                                 bool interleaved, size_t *bytes) {
  (void)interleaved;
  return rope_workspace(be, seq, heads, head_dim, rotary_dim, 0, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_rope_with_pos_bf16(gllmk_backend *be, gllmk_bf16 *qk, const gllmk_bf16 *cos,
                                          const gllmk_bf16 *sin, size_t seq, size_t heads,
                                          size_t head_dim, size_t rotary_dim, bool interleaved,
                                          size_t pos) {
  return cu_rope(be, DT_BF16, qk, cos, sin, seq, heads, head_dim, rotary_dim, interleaved, pos);
}
gllmk_status gllmk__cu_rope_with_pos_workspace_bytes_bf16(gllmk_backend *be, size_t seq,
                                                          size_t heads, size_t head_dim,
                                                          size_t rotary_dim, bool interleaved,
                                                          size_t pos, size_t *bytes) {
  (void)interleaved;
  return rope_workspace(be, seq, heads, head_dim, rotary_dim, pos, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_embedding_lookup_bf16(gllmk_backend *be, const uint32_t *ids, size_t n_ids,
                                             const gllmk_bf16 *table, size_t vocab, size_t hidden,
                                             gllmk_bf16 *out) {
  return cu_embedding(be, DT_BF16, ids, n_ids, table, vocab, hidden, out);
}
gllmk_status gllmk__cu_embedding_lookup_workspace_bytes_bf16(gllmk_backend *be, size_t n_ids,
                                                             size_t vocab, size_t hidden,
                                                             size_t *bytes) {
  return emb_workspace(be, n_ids, vocab, hidden, gk_esize[DT_BF16], bytes);
}
