/* ops_gemm.c -- the CUDA backend's gemm, gemm_bias and linear (f32, f16, bf16): checks, plan, launch
 * SPDX-License-Identifier: MIT
 *
 * gllmk__cu_linear_<dt>(be, x, w, bias, y, m, n, k): y = x . w^T (+ bias)
 * with w [n x k], checked as gllmk_linear_<dt> (lib/core/l3_tpl.h): as gemm,
 * with bias optional (NULL: none).  m <= 8 (decode) runs cuda/l3.cu's
 * gk_linear_gemv_<dt> (one warp per row of w, 8 per block); larger m the
 * NT form of the GEMM below (gemm.cu), with the same plan as gemm.
 *
 * gllmk__cu_gemm_<dt>(be, A, B, C, m, n, k) and gllmk__cu_gemm_bias_<dt>(be,
 * A, B, bias, C, m, n, k) check their arguments as gllmk_gemm_<dt> and
 * gllmk_gemm_bias_<dt> do (lib/core/ops_tpl.h), in the same order and with
 * the same codes:
 *   - GLLMK_E_OVERFLOW when m*k, k*n or m*n overflow, or m*k or k*n elements
 *     or m*n floats do not fit size_t in bytes;
 *   - (gemm_bias) GLLMK_E_INVAL for a NULL bias when m and n are nonzero;
 *   - GLLMK_E_INVAL for NULL A (m, k nonzero), B (k, n nonzero) or C (m, n
 *     nonzero);
 *   - (f16, bf16, m*n nonzero) GLLMK_E_OVERFLOW when the CPU function's f32
 *     copy of C (and of the bias) would not fit size_t in bytes;
 * then, as every op of this backend (cuda/ops_float.c), GLLMK_E_INVAL for a
 * pointer not aligned to its element size or whose range (A m*k, B k*n, C
 * m*n elements, bias n when m and n are nonzero) is not inside one buffer of
 * be.  No workspace (the queries say 0 bytes, or GLLMK_E_OVERFLOW for sizes
 * the op refuses so).  m == 0 or n == 0 launches nothing; k == 0 writes C =
 * 0 (+ bias).  C must not overlap A, B or bias (not checked, as on the CPU).
 *
 * Plan (cuda/gemm.cu has the kernels): the 128 x 128 block tile when it
 * gives at least one block per SM, else the 64 x 64 one (more blocks for
 * small m x n).  f16/bf16: 128 threads; 128 x 128 with 4 pipeline stages
 * (64 KiB of dynamic shared memory) when the device lets a block have twice
 * that with the opt-in (so two blocks fit an SM: sm_80, sm_90, sm_100), else
 * 3 (48 KiB: sm_86, sm_89, sm_120); 64 x 64 with 4 stages (32 KiB).
 * f32: 256 threads and static shared memory.  Flags from the alignment
 * (gemm.cu).  The result does not depend on the plan (see gemm.cu).
 */
#include "cuda_internal.h"

#include <stdint.h>

enum { DT_F32, DT_F16, DT_BF16 };
static const size_t gk_esize[3] = {sizeof(float), sizeof(gllmk_f16), sizeof(gllmk_bf16)};

typedef enum gllmk__cu_kernel kid;

/* cuda/gemm.cu's constants */
#define GEMM_AVEC 1u
#define GEMM_BVEC 2u
#define GEMM_CVEC 4u
#define GEMM_BIG 128                 /* block tiles */
#define GEMM_SMALL 64
#define GEMM_TC_THREADS 128          /* f16/bf16, both tiles: 4 warps */
#define GEMM_F32_THREADS 256         /* f32, both tiles */
#define GEMM_TC_BK 32
#define GEMM_STAGE_BYTES(bm, bn) ((unsigned)(((bm) + (bn)) * GEMM_TC_BK * 2))
#define GEMM_MAX_BLOCKS 0x7fffffffu
#define LINEAR_GEMV_MAXM 8           /* cuda/l3.cu GK_LIN_MAXM: linear's decode kernel up to here */
#define LINEAR_GEMV_WARPS 8          /* l3.cu GK_LIN_WARPS: W rows per block, one per warp */

static size_t div_up(size_t a, size_t b) { return a / b + (a % b != 0); }

/* [p, p + bytes) inside a buffer of be and p aligned to the element size;
 * empty ranges always pass */
static int owns(const gllmk_backend *be, const void *p, size_t bytes, size_t align) {
  if (bytes == 0) return 1;
  return (uintptr_t)p % align == 0 && gllmk__be_owns(be, p, bytes);
}

/* lib/core/ops_tpl.h's gemm_sizes_ok */
static int sizes_ok(size_t m, size_t n, size_t k, size_t es) {
  size_t mk, kn, mn, b;
  return gllmk__mul(m, k, &mk) && gllmk__mul(k, n, &kn) && gllmk__mul(m, n, &mn) &&
         gllmk__mul(mk, es, &b) && gllmk__mul(kn, es, &b) && gllmk__mul(mn, sizeof(float), &b);
}

static gllmk_status gemm_workspace(const gllmk_backend *be, size_t m, size_t n, size_t k,
                                   size_t es, size_t *bytes) {
  if (!be || !bytes) return GLLMK_E_INVAL;
  *bytes = 0;
  return sizes_ok(m, n, k, es) ? GLLMK_OK : GLLMK_E_OVERFLOW;
}

static gllmk_status gemm_launch(gllmk_backend *be, int dt, const void *A, const void *B,
                                const void *bias, void *C, size_t m, size_t n, size_t k, int nt);

/* with_bias: 1, bias required (gemm_bias); 0, none (gemm); -1, optional
 * (linear).  nt: B is W [n x k] (linear), else [k x n]. */
static gllmk_status cu_gemm(gllmk_backend *be, int dt, const void *A, const void *B,
                            const void *bias, int with_bias, void *C, size_t m, size_t n,
                            size_t k, int nt) {
  if (!be) return GLLMK_E_INVAL;
  size_t es = gk_esize[dt];
  if (!sizes_ok(m, n, k, es)) return GLLMK_E_OVERFLOW;
  size_t mn = m * n;
  if (with_bias == 1 && mn && !bias) return GLLMK_E_INVAL;
  if (with_bias < 0) with_bias = bias != NULL;
  if ((m && k && !A) || (k && n && !B) || (mn && !C)) return GLLMK_E_INVAL;
  if (mn && dt != DT_F32) {   /* the CPU function's f32 C (+ bias): (mn [+ n]) floats */
    size_t cf;
    if (!gllmk__add(mn, with_bias ? n : 0, &cf) || !gllmk__mul(cf, sizeof(float), &cf))
      return GLLMK_E_OVERFLOW;
  }
  if (!owns(be, A, m * k * es, es) || !owns(be, B, k * n * es, es) || !owns(be, C, mn * es, es) ||
      (with_bias && !owns(be, bias, mn ? n * es : 0, es)))
    return GLLMK_E_INVAL;
  if (mn == 0) return GLLMK_OK;
  return gemm_launch(be, dt, A, B, with_bias ? bias : NULL, C, m, n, k, nt);
}

/* the launch of a checked product (m, n nonzero) */
static gllmk_status gemm_launch(gllmk_backend *be, int dt, const void *A, const void *B,
                                const void *bias, void *C, size_t m, size_t n, size_t k, int nt) {
  size_t es = gk_esize[dt];
  if (nt && m <= LINEAR_GEMV_MAXM) {   /* decode: stream W's rows */
    size_t blocks = div_up(n, LINEAR_GEMV_WARPS);
    if (blocks > GEMM_MAX_BLOCKS) return GLLMK_E_INVAL;
    int vec = (uintptr_t)A % 16 == 0 && (uintptr_t)B % 16 == 0 && (k * es) % 16 == 0;
    static const kid gv[3] = {GK_gk_linear_gemv_f32, GK_gk_linear_gemv_f16, GK_gk_linear_gemv_bf16};
    void *args[] = {&A, &B, &bias, &C, &m, &n, &k, &vec};
    return gllmk__cu_launch(be, gv[dt], (unsigned)blocks, 1, 1, LINEAR_GEMV_WARPS * 32, 1, 1, 0,
                            args);
  }

  const struct gllmk__cu_dev *dev = gllmk__cu_device(be);
  size_t sms = dev->sm_count > 0 ? (size_t)dev->sm_count : 1;
  int big = div_up(m, GEMM_BIG) * div_up(n, GEMM_BIG) >= sms;
  size_t bt = big ? GEMM_BIG : GEMM_SMALL, tiles = div_up(m, bt) * div_up(n, bt);
  if (tiles > GEMM_MAX_BLOCKS) return GLLMK_E_INVAL;
  unsigned grid = (unsigned)tiles, flags = 0;
  uintptr_t a = (uintptr_t)A, b = (uintptr_t)B, c = (uintptr_t)C;
  if (dt == DT_F32) {
    if (a % 16 == 0 && k % 4 == 0) flags |= GEMM_AVEC;
    if (b % 16 == 0 && (nt ? k : n) % 4 == 0) flags |= GEMM_BVEC;
    if (c % 16 == 0 && n % 4 == 0) flags |= GEMM_CVEC;
    void *args[] = {&A, &B, &bias, &C, &m, &n, &k, &flags};
    kid kf = nt ? (big ? GK_gk_gemm_nt_128_f32 : GK_gk_gemm_nt_64_f32)
                : (big ? GK_gk_gemm_128_f32 : GK_gk_gemm_64_f32);
    return gllmk__cu_launch(be, kf, grid, 1, 1, GEMM_F32_THREADS, 1, 1, 0, args);
  }
  if (a % 16 == 0 && k % 8 == 0) flags |= GEMM_AVEC;
  if (b % 16 == 0 && (nt ? k : n) % 8 == 0) flags |= GEMM_BVEC;
  if (c % 4 == 0 && n % 2 == 0) flags |= GEMM_CVEC;
  int stages = 4;
  unsigned stage_bytes = GEMM_STAGE_BYTES(bt, bt);
  if (big && (size_t)dev->max_smem_optin < 2 * (size_t)(4 * stage_bytes)) stages = 3;
  static const kid tc[2][2][2] = {   /* [nt][bf16][big] */
    {{GK_gk_gemm_64_f16, GK_gk_gemm_128_f16}, {GK_gk_gemm_64_bf16, GK_gk_gemm_128_bf16}},
    {{GK_gk_gemm_nt_64_f16, GK_gk_gemm_nt_128_f16}, {GK_gk_gemm_nt_64_bf16, GK_gk_gemm_nt_128_bf16}},
  };
  kid kern = tc[nt != 0][dt == DT_BF16][big];
  void *args[] = {&A, &B, &bias, &C, &m, &n, &k, &flags, &stages};
  return gllmk__cu_launch(be, kern, grid, 1, 1, GEMM_TC_THREADS, 1, 1,
                          (unsigned)stages * stage_bytes, args);
}

/* linear's launch for the fused ops (cuda/ops_fused.c), which check first */
gllmk_status gllmk__cuk_linear(gllmk_backend *be, int dt, const void *x, const void *w,
                               const void *bias, void *y, size_t m, size_t n, size_t k) {
  if (m == 0 || n == 0) return GLLMK_OK;
  return gemm_launch(be, dt, x, w, bias, y, m, n, k, 1);
}

/* ------------------------------------------------------------------ entry points
 * (tools/gen-api.py puts the gllmk__cu_* functions defined at the start of a
 * line here into the backend's tables; cuda_ops.h declares them.) */
#if defined(__has_include)
#if __has_include("cuda_ops.h")
#include "cuda_ops.h"
#endif
#endif

gllmk_status gllmk__cu_gemm_f32(gllmk_backend *be, const float *A, const float *B, float *C,
                                size_t m, size_t n, size_t k) {
  return cu_gemm(be, DT_F32, A, B, NULL, 0, C, m, n, k, 0);
}
gllmk_status gllmk__cu_gemm_workspace_bytes_f32(gllmk_backend *be, size_t m, size_t n, size_t k,
                                                size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_gemm_bias_f32(gllmk_backend *be, const float *A, const float *B,
                                     const float *bias, float *C, size_t m, size_t n, size_t k) {
  return cu_gemm(be, DT_F32, A, B, bias, 1, C, m, n, k, 0);
}
gllmk_status gllmk__cu_gemm_bias_workspace_bytes_f32(gllmk_backend *be, size_t m, size_t n,
                                                     size_t k, size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_F32], bytes);
}

gllmk_status gllmk__cu_gemm_f16(gllmk_backend *be, const gllmk_f16 *A, const gllmk_f16 *B,
                                gllmk_f16 *C, size_t m, size_t n, size_t k) {
  return cu_gemm(be, DT_F16, A, B, NULL, 0, C, m, n, k, 0);
}
gllmk_status gllmk__cu_gemm_workspace_bytes_f16(gllmk_backend *be, size_t m, size_t n, size_t k,
                                                size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_gemm_bias_f16(gllmk_backend *be, const gllmk_f16 *A, const gllmk_f16 *B,
                                     const gllmk_f16 *bias, gllmk_f16 *C, size_t m, size_t n,
                                     size_t k) {
  return cu_gemm(be, DT_F16, A, B, bias, 1, C, m, n, k, 0);
}
gllmk_status gllmk__cu_gemm_bias_workspace_bytes_f16(gllmk_backend *be, size_t m, size_t n,
                                                     size_t k, size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_F16], bytes);
}

gllmk_status gllmk__cu_gemm_bf16(gllmk_backend *be, const gllmk_bf16 *A, const gllmk_bf16 *B,
                                 gllmk_bf16 *C, size_t m, size_t n, size_t k) {
  return cu_gemm(be, DT_BF16, A, B, NULL, 0, C, m, n, k, 0);
}
gllmk_status gllmk__cu_gemm_workspace_bytes_bf16(gllmk_backend *be, size_t m, size_t n, size_t k,
                                                 size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_BF16], bytes);
}
gllmk_status gllmk__cu_gemm_bias_bf16(gllmk_backend *be, const gllmk_bf16 *A, const gllmk_bf16 *B,
                                      const gllmk_bf16 *bias, gllmk_bf16 *C, size_t m, size_t n,
                                      size_t k) {
  return cu_gemm(be, DT_BF16, A, B, bias, 1, C, m, n, k, 0);
}
gllmk_status gllmk__cu_gemm_bias_workspace_bytes_bf16(gllmk_backend *be, size_t m, size_t n,
                                                      size_t k, size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_BF16], bytes);
}

/* linear: y = x . W^T (+ bias), W [n x k]; checks as gllmk_linear_<dt>
 * (lib/core/l3_tpl.h: gemm's, with bias optional) */
gllmk_status gllmk__cu_linear_f32(gllmk_backend *be, const float *x, const float *w,
                                  const float *bias, float *y, size_t m, size_t n, size_t k) {
  return cu_gemm(be, DT_F32, x, w, bias, -1, y, m, n, k, 1);
}
gllmk_status gllmk__cu_linear_workspace_bytes_f32(gllmk_backend *be, size_t m, size_t n, size_t k,
                                                  size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_F32], bytes);
}
gllmk_status gllmk__cu_linear_f16(gllmk_backend *be, const gllmk_f16 *x, const gllmk_f16 *w,
                                  const gllmk_f16 *bias, gllmk_f16 *y, size_t m, size_t n,
                                  size_t k) {
  return cu_gemm(be, DT_F16, x, w, bias, -1, y, m, n, k, 1);
}
gllmk_status gllmk__cu_linear_workspace_bytes_f16(gllmk_backend *be, size_t m, size_t n, size_t k,
                                                  size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_F16], bytes);
}
gllmk_status gllmk__cu_linear_bf16(gllmk_backend *be, const gllmk_bf16 *x, const gllmk_bf16 *w,
                                   const gllmk_bf16 *bias, gllmk_bf16 *y, size_t m, size_t n,
                                   size_t k) {
  return cu_gemm(be, DT_BF16, x, w, bias, -1, y, m, n, k, 1);
}
gllmk_status gllmk__cu_linear_workspace_bytes_bf16(gllmk_backend *be, size_t m, size_t n, size_t k,
                                                   size_t *bytes) {
  return gemm_workspace(be, m, n, k, gk_esize[DT_BF16], bytes);
}
