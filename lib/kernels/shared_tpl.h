/* shared_tpl.h -- the helpers every dtype instantiation of the templates
 * shares: element-type free, so defined once per ISA unit (instantiate.h
 * includes this before the first templates.h)
 * SPDX-License-Identifier: MIT
 */

/* the interleaved-pairs RoPE expands its cos/sin tables this many dims at a
 * time (rope_tpl.h): a multiple of every LANES */
#define GLLMK_ROPE_CHUNK 128

/* activations (act_tpl.h) */
/* relu: vf32_max returns its second operand when either is NaN, so NaN passes */
static inline vf32 gllmk__vrelu(vf32 x) { return vf32_max(vf32_zero(), x); }
static inline vf32 gllmk__vswiglu(vf32 g, vf32 u) { return vf32_mul(vf32_silu(g), u); }

/* norms (norm_tpl.h) */
/* lanes r..LANES-1 of v replaced by fill (row tails) */
static inline vf32 gllmk__fill_tail(vf32 v, size_t r, float fill) {
  float t[VF32_MAX_LANES];
  vf32_storeu(t, v);
  for (size_t j = r; j < VF32_LANES; j++) t[j] = fill;
  return vf32_loadu(t);
}

/* The GEMM micro-kernel (gemm_tpl.h): MR x NR tile of C (+)= the packed A
 * micro-panel a[p * MR + i] times the packed B micro-panel b[p * NR + j]
 * (+ bias on the first k block); the mr x nr corner is stored.  It works on
 * packed f32 panels only, so it is element-type free.  An ISA whose vectors
 * cannot form the template's arrays (sve) provides its own through
 * GLLMK_OVR_gemm_micro. */
#ifndef GLLMK_OVR_gemm_micro
#define L VF32_LANES
#define MR GLLMK_GEMM_MR
#define NRV GLLMK_GEMM_NRV
#define NR (NRV * L)
static inline void gllmk__gemm_micro(size_t kc, const float *restrict a, const float *restrict b,
                                     const float *bias, float *c, size_t ldc, size_t mr, size_t nr,
                                     bool first) {
  vf32 acc[MR][NRV], b0[NRV];
#pragma GCC unroll 4
  for (int v = 0; v < NRV; v++) {
    size_t cols = (size_t)v * L < nr ? (nr - v * L < L ? nr - v * L : L) : 0;
    b0[v] = bias ? vf32_load_n(bias + v * L, cols) : vf32_zero();
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NRV; v++) acc[i][v] = b0[v];
  for (size_t p = 0; p < kc; p++) {
    vf32 bv[NRV];
#pragma GCC unroll 4
    for (int v = 0; v < NRV; v++) bv[v] = vf32_loadu(b + p * NR + v * L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      vf32 ai = vf32_splat(a[p * MR + i]);
#pragma GCC unroll 4
      for (int v = 0; v < NRV; v++) acc[i][v] = vf32_fma(ai, bv[v], acc[i][v]);
    }
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NRV; v++) {
        float *cp = c + (size_t)i * ldc + v * L;
        vf32_storeu(cp, first ? acc[i][v] : vf32_add(acc[i][v], vf32_loadu(cp)));
      }
    return;
  }
  for (size_t i = 0; i < mr; i++)
    for (size_t v = 0; v < NRV && v * L < nr; v++) {
      size_t cols = nr - v * L < L ? nr - v * L : L;
      float *cp = c + i * ldc + v * L;
      vf32 r = acc[i][v];
      if (!first) r = vf32_add(r, vf32_load_n(cp, cols));
      vf32_store_n(cp, cols, r);
    }
}
#undef L
#undef MR
#undef NRV
#undef NR
#endif

/* the few-row GEMM micro-kernel (gemm_tpl.h's gemm_block): every ISA
 * whose vectors can form arrays, whatever its gllmk__gemm_micro */
#if !defined(GLLMK_SIMD_VLA)
#define L VF32_LANES
#define MR GLLMK_GEMM_MR
#define NRV GLLMK_GEMM_NRV
#define NR (NRV * L)
/* The micro-kernel for a tile of R <= 4 rows (R a constant once inlined):
 * the same arithmetic per element as gllmk__gemm_micro (accumulators set to
 * the bias or zero, one fma per p in order, added to C unless first), so the
 * same bits, without the MR - R rows of padding that gllmk__gemm_micro
 * multiplies too: decode shapes (m = 1) and the last rows of m.  a is a
 * packed A micro-panel (stride MR).  Not on VLA ISAs, whose vectors cannot
 * form arrays (they keep gllmk__gemm_micro). */
#define GLLMK_GEMM_FEW 4
static inline __attribute__((always_inline)) void
gllmk__gemm_few_r(int R, size_t kc, const float *restrict a, const float *restrict b,
                  const float *bias, float *c, size_t ldc, size_t nr, bool first) {
  vf32 acc[GLLMK_GEMM_FEW][NRV], b0[NRV];
#pragma GCC unroll 4
  for (int v = 0; v < NRV; v++) {
    size_t cols = (size_t)v * L < nr ? (nr - v * L < L ? nr - v * L : L) : 0;
    b0[v] = bias ? vf32_load_n(bias + v * L, cols) : vf32_zero();
  }
#pragma GCC unroll 4
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NRV; v++) acc[i][v] = b0[v];
  for (size_t p = 0; p < kc; p++) {
    vf32 bv[NRV];
#pragma GCC unroll 4
    for (int v = 0; v < NRV; v++) bv[v] = vf32_loadu(b + p * NR + v * L);
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
      vf32 ai = vf32_splat(a[p * MR + i]);
#pragma GCC unroll 4
      for (int v = 0; v < NRV; v++) acc[i][v] = vf32_fma(ai, bv[v], acc[i][v]);
    }
  }
  if (nr == NR) {
#pragma GCC unroll 4
    for (int i = 0; i < R; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NRV; v++) {
        float *cp = c + (size_t)i * ldc + v * L;
        vf32_storeu(cp, first ? acc[i][v] : vf32_add(acc[i][v], vf32_loadu(cp)));
      }
    return;
  }
  for (int i = 0; i < R; i++)
    for (size_t v = 0; v < NRV && v * L < nr; v++) {
      size_t cols = nr - v * L < L ? nr - v * L : L;
      float *cp = c + (size_t)i * ldc + v * L;
      vf32 r = acc[i][v];
      if (!first) r = vf32_add(r, vf32_load_n(cp, cols));
      vf32_store_n(cp, cols, r);
    }
}
/* mr < MR and mr <= GLLMK_GEMM_FEW rows */
static inline void gllmk__gemm_few(size_t mr, size_t kc, const float *restrict a,
                                   const float *restrict b, const float *bias, float *c,
                                   size_t ldc, size_t nr, bool first) {
  switch (mr) {
  case 1: gllmk__gemm_few_r(1, kc, a, b, bias, c, ldc, nr, first); break;
  case 2: gllmk__gemm_few_r(2, kc, a, b, bias, c, ldc, nr, first); break;
  case 3: gllmk__gemm_few_r(3, kc, a, b, bias, c, ldc, nr, first); break;
  default: gllmk__gemm_few_r(4, kc, a, b, bias, c, ldc, nr, first); break;
  }
}
#define GLLMK_GEMM_IS_FEW(mr) ((mr) < GLLMK_GEMM_MR && (mr) <= GLLMK_GEMM_FEW)
#undef L
#undef MR
#undef NRV
#undef NR
#else
#define GLLMK_GEMM_IS_FEW(mr) 0
#define gllmk__gemm_few(mr, kc, a, b, bias, c, ldc, nr, first) ((void)0)
#endif
