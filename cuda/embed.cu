/* embed.cu -- embedding lookup out[i x hidden] = table[ids[i] x hidden], ids in device memory
 * SPDX-License-Identifier: MIT
 *
 * The CPU function checks every id before writing anything.  The device does
 * the same, per launch: the rows are copied only when no id is >= vocab, and
 * when one is, out is left exactly as it was; no id is ever used to address
 * the table before it has been checked, so nothing is read or written out of
 * bounds whatever ids holds.  The check is either
 *   - inline (nflags == 0, for few ids): every block reads all ids and
 *     decides for itself (all blocks reach the same decision); or
 *   - a first kernel, gk_embedding_check_u32, whose block b writes
 *     flags[b] = 1 when some id of its share is >= vocab, else 0 (every
 *     word is written, so nothing needs clearing first); then every block of
 *     the copy reads the nflags words first.  flags live in the op's
 *     workspace.
 * The copy: blockDim.y rows per block, grid-stride over the rows, lanes
 * (blockDim.x) across a row in 16-byte units when vec is set (the host
 * checked that table, out and the row length are multiples of 16 bytes),
 * else element by element.
 */
#include "gk_arch.cuh"

namespace gk_embed {

/* nonzero in every thread of the block when some id of ids[first, n), taken
 * with a stride of `step` blocks of ids, is >= vocab; sm >= 32 ints */
__device__ __forceinline__ int any_bad_id(const unsigned *ids, size_t first, size_t step, size_t n,
                                          size_t vocab, int *sm) {
  unsigned nthr = blockDim.x * blockDim.y, tid = threadIdx.y * blockDim.x + threadIdx.x;
  int bad = 0;
  for (size_t k = first + tid; k < n; k += step) bad |= ids[k] >= vocab;
  bad = __any_sync(0xffffffffu, bad);
  if (tid % 32 == 0) sm[tid / 32] = bad;
  __syncthreads();
  int r = 0;
  for (unsigned w = 0; w < (nthr + 31) / 32; w++) r |= sm[w];
  return r;
}

template <class T>
__device__ __forceinline__ void lookup(const unsigned *ids, size_t n_ids, const T *table,
                                       size_t vocab, size_t hidden, T *out, const unsigned *flags,
                                       unsigned nflags, int vec, int *sm) {
  int bad = 0;
  if (nflags == 0) {
    bad = any_bad_id(ids, 0, (size_t)blockDim.x * blockDim.y, n_ids, vocab, sm);
  } else {
    for (unsigned i = 0; i < nflags; i++) bad |= flags[i] != 0;
  }
  if (bad) return;
  size_t step = (size_t)gridDim.x * blockDim.y;
  for (size_t r = (size_t)blockIdx.x * blockDim.y + threadIdx.y; r < n_ids; r += step) {
    size_t id = ids[r];
    if (id >= vocab) return;   /* unreachable after the check; keeps every access in bounds */
    if (vec) {
      size_t units = hidden * sizeof(T) / 16;
      const uint4 *src = (const uint4 *)(table + id * hidden);
      uint4 *dst = (uint4 *)(out + r * hidden);
      for (size_t u = threadIdx.x; u < units; u += blockDim.x) dst[u] = src[u];
    } else {
      const T *src = table + id * hidden;
      T *dst = out + r * hidden;
      for (size_t u = threadIdx.x; u < hidden; u += blockDim.x) dst[u] = src[u];
    }
  }
}

} /* namespace gk_embed */

/* flags[blockIdx.x] = 1 when some id of the block's share (grid-stride) is
 * >= vocab, else 0; blockDim.x a multiple of 32 */
extern "C" __global__ void gk_embedding_check_u32(const unsigned *ids, size_t n_ids, size_t vocab,
                                                  unsigned *flags) {
  using namespace gk_embed;
  GK_SHARED(int, sm, 32);
  size_t step = (size_t)gridDim.x * blockDim.x;
  int bad = any_bad_id(ids, (size_t)blockIdx.x * blockDim.x, step, n_ids, vocab, sm);
  if (threadIdx.x == 0) flags[blockIdx.x] = bad ? 1u : 0u;
}
GK_EXPORT(gk_embedding_check_u32);

/* blockDim.x * blockDim.y a multiple of 32 */
#define GK_EMBED_KERNEL(T, dt)                                                                   \
  extern "C" __global__ void gk_embedding_lookup_##dt(const unsigned *ids, size_t n_ids,         \
                                                      const T *table, size_t vocab,              \
                                                      size_t hidden, T *out,                     \
                                                      const unsigned *flags, unsigned nflags,    \
                                                      int vec) {                                 \
    using namespace gk_embed;                                                                    \
    GK_SHARED(int, sm, 32);                                                                      \
    lookup<T>(ids, n_ids, table, vocab, hidden, out, flags, nflags, vec, sm);                    \
  }                                                                                              \
  GK_EXPORT(gk_embedding_lookup_##dt);

GK_EMBED_KERNEL(float, f32)
GK_EMBED_KERNEL(gk_half, f16)
GK_EMBED_KERNEL(gk_bf16, bf16)
