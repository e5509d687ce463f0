/* layout_kernels.cu -- warp-level kernels that expose the mma/ldmatrix fragment layouts (test_cuda_layout)
 * SPDX-License-Identifier: MIT
 *
 * Compiled twice, like test_kernels.cu:
 *   - by nvcc into layout_kernels.fatbin (SASS for sm_80 86 89 90 100 120, no
 *     PTX), which tests/test_cuda_layout loads with cuModuleLoadData through
 *     whatever driver GLLMK_CUDA_DRIVER names;
 *   - by the host C++ compiler with -DGK_EMU (layout_kernels_emu.cc) into the
 *     emulated libcuda.so.1, where the primitives of gk_arch.cuh are the
 *     harness's emulation.
 * So the same test, with the same references, checks the emulation against
 * the PTX ISA manual in `make check` and the hardware against it on a GPU.
 *
 * Every kernel is launched as one block of one warp (32 threads).  None of
 * them computes a fragment layout itself: registers go out raw, indexed by
 * lane and register number, and come in raw (c, and the a/b registers of the
 * "raw" modes); the test maps them with the PTX ISA's tables.  The only
 * layout knowledge here is the standard ldmatrix addressing of a GEMM (which
 * lane points at which 16-byte row), the part a kernel writes itself.
 */
#include "gk_arch.cuh"

/* ---------------------------------------------------------------- ldmatrix
 * pool: GK_LAYOUT_POOL_ROWS rows of 16 bytes (8 b16 elements), copied to
 * shared memory; lane l gives the address of pool row rowmap[l] (32 entries)
 * to each of ldmatrix x1, x2, x4, x2.trans and x4.trans, in that order, and
 * stores the registers it gets at out[l * 13 + ...]:
 *   [0] x1 r0   [1..2] x2 r0-r1   [3..6] x4 r0-r3
 *   [7..8] x2.trans r0-r1   [9..12] x4.trans r0-r3. */
#define GK_LAYOUT_POOL_ROWS 48
#define GK_LAYOUT_LDM_WORDS 13

extern "C" __global__ void gk_layout_ldmatrix(unsigned *out, const unsigned *pool, const int *rowmap)
{
  GK_SHARED(uint4, rows, GK_LAYOUT_POOL_ROWS);
  unsigned lane = threadIdx.x;
  unsigned *w = (unsigned *)rows;
  for (unsigned i = lane; i < 4 * GK_LAYOUT_POOL_ROWS; i += 32)
    w[i] = pool[i];
  __syncthreads();
  const void *p = &rows[rowmap[lane]];
  unsigned *o = out + lane * GK_LAYOUT_LDM_WORDS;
  unsigned r[4];
  gk_ldmatrix_x1(r, p);
  o[0] = r[0];
  gk_ldmatrix_x2(r, p);
  o[1] = r[0];
  o[2] = r[1];
  gk_ldmatrix_x4(r, p);
  o[3] = r[0];
  o[4] = r[1];
  o[5] = r[2];
  o[6] = r[3];
  gk_ldmatrix_x2_trans(r, p);
  o[7] = r[0];
  o[8] = r[1];
  gk_ldmatrix_x4_trans(r, p);
  o[9] = r[0];
  o[10] = r[1];
  o[11] = r[2];
  o[12] = r[3];
}
GK_EXPORT(gk_layout_ldmatrix);

/* ---------------------------------------------------------------- mma
 * The operand tiles, as 16-byte chunks, staged into shared memory with
 * cp.async (one group, waited for, then a barrier) as a GEMM main loop does:
 *   A   16 rows of 32 bytes (16 f16/bf16 or 32 s8, row-major), smem row
 *       stride 48 bytes (padded);
 *   B   bmode 0: N-major, 8 rows (n) of 32 bytes (k = 0..15 b16 or 0..31 s8),
 *       smem row stride 48 bytes;
 *       bmode 1 (b16 only): K-major, 16 rows (k) of 16 bytes (n = 0..7), smem
 *       row stride 32 bytes.
 * Then the fragments are loaded as real GEMMs load them:
 *   A: ldmatrix.x4, lane l -> row l % 16, bytes 16 * (l / 16) of that row
 *      (matrices: rows 0-7 / 8-15 of the first 16 bytes, then of the second);
 *   B bmode 0: ldmatrix.x2, lane l -> row l % 8, bytes 16 * ((l / 8) % 2);
 *   B bmode 1: ldmatrix.x2.trans, lane l -> row (k) l % 16.
 * (Lanes 16-31 of x2 give addresses that ldmatrix ignores, valid ones.) */
#define GK_LAYOUT_MODE_LDM_B 0    /* B by ldmatrix.x2 of the N-major copy */
#define GK_LAYOUT_MODE_LDM_BT 1   /* B by ldmatrix.x2.trans of the K-major copy */
#define GK_LAYOUT_MODE_RAW 2      /* a and b registers given raw */

GK_DEV void gk_layout_tiles(unsigned a[4], unsigned b[2], const unsigned char *ga,
                            const unsigned char *gb, int bmode)
{
  GK_SHARED(uint4, sa, 16 * 3);
  GK_SHARED(uint4, sb, 16 * 2);
  unsigned lane = threadIdx.x;
  /* 32 chunks of A, one per lane; 16 of B, on lanes 0-15 */
  gk_cp_async16(&sa[(lane / 2) * 3 + lane % 2], ga + 16 * lane);
  if (lane < 16) {
    if (bmode == GK_LAYOUT_MODE_LDM_B)
      gk_cp_async16(&sb[(lane / 2) * 3 + lane % 2], gb + 16 * lane);
    else
      gk_cp_async16(&sb[lane * 2], gb + 16 * lane);
  }
  gk_cp_async_commit();
  gk_cp_async_wait<0>();
  __syncthreads();
  gk_ldmatrix_x4(a, &sa[(lane % 16) * 3 + lane / 16]);
  if (bmode == GK_LAYOUT_MODE_LDM_B)
    gk_ldmatrix_x2(b, &sb[(lane % 8) * 3 + (lane / 8) % 2]);
  else
    gk_ldmatrix_x2_trans(b, &sb[(lane % 16) * 2]);
}

/* D = A.B + C with mma.m16n8k16, f16 (kind 0) or bf16 (kind 1) inputs, f32
 * accumulation.  c: 4 words per lane (c[l * 4 + i] is register c_i of lane
 * l); raw (bmode 2): 6 words per lane, a0-a3 then b0-b1.  Out, per lane:
 * regs[l * 6 + ...] the a0-a3, b0-b1 given to mma, d[l * 4 + i] register d_i. */
extern "C" __global__ void gk_layout_mma_b16(unsigned *regs, float *d, const unsigned short *ga,
                                             const unsigned short *gb, const float *c,
                                             const unsigned *raw, int kind, int bmode)
{
  unsigned lane = threadIdx.x;
  unsigned a[4], b[2];
  float cr[4], dr[4];
  if (bmode == GK_LAYOUT_MODE_RAW) {
    for (int i = 0; i < 4; i++)
      a[i] = raw[lane * 6 + i];
    b[0] = raw[lane * 6 + 4];
    b[1] = raw[lane * 6 + 5];
  } else {
    gk_layout_tiles(a, b, (const unsigned char *)ga, (const unsigned char *)gb, bmode);
  }
  for (int i = 0; i < 4; i++)
    cr[i] = c[lane * 4 + i];
  if (kind == 0)
    gk_mma_m16n8k16_f16(dr, a, b, cr);
  else
    gk_mma_m16n8k16_bf16(dr, a, b, cr);
  for (int i = 0; i < 4; i++) {
    regs[lane * 6 + i] = a[i];
    d[lane * 4 + i] = dr[i];
  }
  regs[lane * 6 + 4] = b[0];
  regs[lane * 6 + 5] = b[1];
}
GK_EXPORT(gk_layout_mma_b16);

/* D = A.B + C with mma.m16n8k32 s8 -> s32 (no .satfinite); the operands as
 * gk_layout_mma_b16's (bmode 0 or 2: 8-bit data goes through ldmatrix as b16
 * pairs, N-major B only, as int8 GEMMs do). */
extern "C" __global__ void gk_layout_mma_s8(unsigned *regs, int *d, const signed char *ga,
                                            const signed char *gb, const int *c,
                                            const unsigned *raw, int bmode)
{
  unsigned lane = threadIdx.x;
  unsigned a[4], b[2];
  int cr[4], dr[4];
  if (bmode == GK_LAYOUT_MODE_RAW) {
    for (int i = 0; i < 4; i++)
      a[i] = raw[lane * 6 + i];
    b[0] = raw[lane * 6 + 4];
    b[1] = raw[lane * 6 + 5];
  } else {
    gk_layout_tiles(a, b, (const unsigned char *)ga, (const unsigned char *)gb, GK_LAYOUT_MODE_LDM_B);
  }
  for (int i = 0; i < 4; i++)
    cr[i] = c[lane * 4 + i];
  gk_mma_m16n8k32_s8(dr, a, b, cr);
  for (int i = 0; i < 4; i++) {
    regs[lane * 6 + i] = a[i];
    d[lane * 4 + i] = dr[i];
  }
  regs[lane * 6 + 4] = b[0];
  regs[lane * 6 + 5] = b[1];
}
GK_EXPORT(gk_layout_mma_s8);

/* ---------------------------------------------------------------- cp.async
 * src: GK_LAYOUT_CP_CHUNKS chunks of 16 bytes in global memory; perm: for
 * each shared chunk i, the source chunk perm[i] (so sources are scattered).
 * Lane l owns shared chunks g * 64 + 2l and g * 64 + 2l + 1 of group g = 0,
 * 1, 2; the three groups are committed one after the other, then
 *   wait_group 2 -> lane l copies its group-0 chunks to out[g0 ...],
 *   wait_group 1 -> its group-1 chunks,  wait_group 0 -> its group-2 chunks
 * (each read only what the wait guarantees has landed, from its own copies);
 * after a barrier every lane copies chunks of other lanes (i = l + 32 j) to
 * out[192 + i]; after a second barrier lane l copies its group-0 chunks
 * again, from the source chunks perm[192 + ...], uncommitted, waits with
 * wait_all and reads them back to out[384 + ...].  out: 576 chunks. */
#define GK_LAYOUT_CP_CHUNKS 192

GK_DEV void gk_layout_chunk_copy(uint4 *dst, const uint4 *src)
{
  unsigned *d = (unsigned *)dst;
  const unsigned *s = (const unsigned *)src;
  d[0] = s[0];
  d[1] = s[1];
  d[2] = s[2];
  d[3] = s[3];
}

extern "C" __global__ void gk_layout_cp_async(uint4 *out, const uint4 *src, const int *perm)
{
  GK_SHARED(uint4, buf, GK_LAYOUT_CP_CHUNKS);
  unsigned lane = threadIdx.x;
  for (int g = 0; g < 3; g++) {
    for (int j = 0; j < 2; j++) {
      int i = g * 64 + 2 * (int)lane + j;
      gk_cp_async16(&buf[i], &src[perm[i]]);
    }
    gk_cp_async_commit();
  }
  for (int g = 0; g < 3; g++) {
    if (g == 0)
      gk_cp_async_wait<2>();
    else if (g == 1)
      gk_cp_async_wait<1>();
    else
      gk_cp_async_wait<0>();
    for (int j = 0; j < 2; j++) {
      int i = g * 64 + 2 * (int)lane + j;
      gk_layout_chunk_copy(&out[i], &buf[i]);
    }
  }
  __syncthreads();
  for (int i = (int)lane; i < GK_LAYOUT_CP_CHUNKS; i += 32)
    gk_layout_chunk_copy(&out[GK_LAYOUT_CP_CHUNKS + i], &buf[i]);
  __syncthreads();
  for (int j = 0; j < 2; j++) {
    int i = 2 * (int)lane + j;
    gk_cp_async16(&buf[i], &src[perm[GK_LAYOUT_CP_CHUNKS + i]]);
  }
  gk_cp_async_wait_all();
  for (int j = 0; j < 2; j++) {
    int i = 2 * (int)lane + j;
    gk_layout_chunk_copy(&out[2 * GK_LAYOUT_CP_CHUNKS + i], &buf[i]);
  }
}
GK_EXPORT(gk_layout_cp_async);

/* ---------------------------------------------------------------- dp4a, prmt
 * Case i (i < n, any lane count): dp[i] = dp4a.s32.s32(in[3i], in[3i+1],
 * in[3i+2]) and pm[i] = prmt.b32(pin[3i], pin[3i+1], pin[3i+2]). */
extern "C" __global__ void gk_layout_int_ops(int *dp, unsigned *pm, const int *in, const unsigned *pin,
                                             int n)
{
  for (int i = (int)threadIdx.x; i < n; i += (int)blockDim.x) {
    dp[i] = gk_dp4a(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
    pm[i] = gk_prmt(pin[3 * i], pin[3 * i + 1], pin[3 * i + 2]);
  }
}
GK_EXPORT(gk_layout_int_ops);
