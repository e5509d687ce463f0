/* gemm_tpl.h -- packed GEMM: C (+)= A . B or A . B^T, f32 accumulation
 * SPDX-License-Identifier: MIT
 *
 * Goto/BLIS blocking: for each NC-column block of B and KC-deep slice of k,
 * B is packed (converted to f32) into NR-column micro-panels; for each
 * MC-row block of A, A is packed into MR-row micro-panels; the micro-kernel
 * then keeps an MR x NR tile of C in MR*NRV vector registers while it streams
 * one A and one B micro-panel from L1/L2 (shared_tpl.h's gllmk__gemm_micro,
 * or the ISA's own: GLLMK_OVR_gemm_micro).  MR and NRV come from the ISA's
 * primitive header (AVX-512 12x32, AVX2 6x16, scalar 4x4).
 *
 *   A [m x k] with row stride lda.  B [k x n] with row stride ldb, or, when
 *   b_trans, B^T given as W [n x k] with row stride ldb (the LLM weight layout).
 *   C [m x n] f32 with row stride ldc: C = AB + bias, bias [n] f32 or NULL (zero),
 *   which initialises the accumulators of the first k block.
 *   ws: GLLMK_GEMM_WS_FLOATS floats of scratch, any alignment (A block, B block,
 *   one row of KC floats).
 * Edge tiles are computed whole on zero-padded panels and stored partially.
 */
#define L VF32_LANES
#define MR GLLMK_GEMM_MR
#define NRV GLLMK_GEMM_NRV
#define NR (NRV * L)



/* Bp[panel][p][NR] for columns j0..j0+nc, depth p0..p0+kc, zero padded. */
static void GLLMK_LOCAL(gemm_pack_b)(size_t kc, size_t nc, const T *B, size_t ldb, bool b_trans,
                                     size_t p0, size_t j0, float *Bp) {
  if (!b_trans) {
    /* row by row, so that B is read in long sequential runs */
    for (size_t p = 0; p < kc; p++) {
      const T *src = B + (p0 + p) * ldb + j0;
      for (size_t jr = 0; jr < nc; jr += NR) {
        size_t nr = nc - jr < NR ? nc - jr : NR;
        float *dst = Bp + jr * kc + p * NR;
        for (size_t v = 0; v < NRV; v++) {
          size_t c = v * L < nr ? (nr - v * L < L ? nr - v * L : L) : 0;
          vf32_storeu(dst + v * L, c == L ? VLOAD(src + jr + v * L) : VLOAD_N(src + jr + v * L, c));
        }
      }
    }
    return;
  }
  /* W rows are columns of B: L x L blocks of L rows of W, transposed in
   * registers (f16/bf16 rows are widened into a small f32 tile first).  A
   * panel reads NR rows at once, more streams than the hardware prefetchers
   * follow, so the next panel's rows are prefetched line by line while this
   * one is packed. */
  float tile[VF32_MAX_LANES * VF32_MAX_LANES] = {0};
  for (size_t jr = 0; jr < nc; jr += NR) {
    size_t nr = nc - jr < NR ? nc - jr : NR;
    float *dst = Bp + jr * kc;
    for (size_t v = 0; v < NRV; v++) {
      size_t rv = v * L < nr ? (nr - v * L < L ? nr - v * L : L) : 0;
      const T *w0 = B + (j0 + jr + v * L) * ldb + p0;
      /* the same rows of the next panel, fetched while this one is packed */
      const T *wn = jr + NR + v * L + L <= nc ? w0 + NR * ldb : NULL;
      for (size_t q = 0; q < kc; q += L) {
        size_t pc = kc - q < L ? kc - q : L;
        if (wn)
          for (size_t t = 0; t < rv; t++) vf32_prefetch(wn + t * ldb + q);
        if (sizeof(T) == sizeof(float)) {
          vf32_transpose_tile(dst + q * NR + v * L, NR, (const float *)(const void *)(w0 + q), ldb, rv, pc);
          continue;
        }
        for (size_t t = 0; t < rv; t++) {
          const T *src = w0 + t * ldb + q;
          vf32_storeu(tile + t * L, pc == L ? VLOAD(src) : VLOAD_N(src, pc));
        }
        vf32_transpose_tile(dst + q * NR + v * L, NR, tile, L, rv, pc);
      }
    }
  }
}

/* Ap[panel][p][MR] for rows i0..i0+mc, depth p0..p0+kc, zero padded. */
static void GLLMK_LOCAL(gemm_pack_a)(size_t mc, size_t kc, const T *A, size_t lda, size_t i0,
                                     size_t p0, float *Ap, float *row) {
  for (size_t ir = 0; ir < mc; ir += MR) {
    size_t mr = mc - ir < MR ? mc - ir : MR;
    float *dst = Ap + ir * kc;
    for (size_t i = 0; i < MR; i++) {
      if (i >= mr) {
        for (size_t p = 0; p < kc; p++) dst[p * MR + i] = 0.0f;
        continue;
      }
      GLLMK_KNAME(to_f32, TN)(kc, A + (i0 + ir + i) * lda + p0, row);
      for (size_t p = 0; p < kc; p++) dst[p * MR + i] = row[p];
    }
  }
}

/* The micro-kernels over one packed block: C[mc x nc] (+)= Ap[mc x kc] times
 * the B panels at Bp + jr * bstride (jr = 0, NR, ...); bias (f32 [nc] or
 * NULL) initialises the accumulators when first.  Shared by gemm and
 * gemm_panels, so both sum in the same order. */
static inline void GLLMK_LOCAL(gemm_block)(size_t mc, size_t nc, size_t kc, const float *Ap,
                                           const float *Bp, size_t bstride, const float *bias,
                                           float *C, size_t ldc, bool first) {
  for (size_t jr = 0; jr < nc; jr += NR) {
    size_t nr = nc - jr < NR ? nc - jr : NR;
    for (size_t ir = 0; ir < mc; ir += MR) {
      size_t mr = mc - ir < MR ? mc - ir : MR;
      const float *bj = first && bias ? bias + jr : NULL;
      if (GLLMK_GEMM_IS_FEW(mr))
        gllmk__gemm_few(mr, kc, Ap + ir * kc, Bp + jr * bstride, bj, C + ir * ldc + jr, ldc, nr,
                        first);
      else
        GLLMK_SLOT(gemm_micro, gllmk__gemm_micro)(kc, Ap + ir * kc, Bp + jr * bstride, bj,
                                                  C + ir * ldc + jr, ldc, mr, nr, first);
    }
  }
}

/* k = 0: C = bias (or zero) row by row */
static void GLLMK_LOCAL(gemm_k0)(size_t m, size_t n, const float *bias, float *C, size_t ldc) {
  for (size_t i = 0; i < m; i++) {
    if (bias) memcpy(C + i * ldc, bias, n * sizeof(float));
    else memset(C + i * ldc, 0, n * sizeof(float));
  }
}

void GLLMK_KNAME(gemm, TN)(size_t m, size_t n, size_t k, const T *A, size_t lda, const T *B,
                           size_t ldb, bool b_trans, const float *bias, float *C, size_t ldc,
                           float *ws) {
  if (k == 0) {
    GLLMK_LOCAL(gemm_k0)(m, n, bias, C, ldc);
    return;
  }
  float *Ap = ws;
  float *Bp = Ap + (size_t)GLLMK_GEMM_KC * GLLMK_GEMM_MC_ROWS;
  float *row = Bp + (size_t)GLLMK_GEMM_KC * GLLMK_GEMM_NC;
  /* whole NR-column panels in the B block, so that the zero-padded last
   * panel stays inside it */
  const size_t ncb = GLLMK_GEMM_NC - GLLMK_GEMM_NC % NR;
  for (size_t jc = 0; jc < n; jc += ncb) {
    size_t nc = n - jc < ncb ? n - jc : ncb;
    for (size_t pc = 0; pc < k; pc += GLLMK_GEMM_KC) {
      size_t kc = k - pc < GLLMK_GEMM_KC ? k - pc : GLLMK_GEMM_KC;
      bool first = pc == 0;
      GLLMK_LOCAL(gemm_pack_b)(kc, nc, B, ldb, b_trans, pc, jc, Bp);
      for (size_t ic = 0; ic < m; ic += GLLMK_GEMM_MC_ROWS) {
        size_t mc = m - ic < GLLMK_GEMM_MC_ROWS ? m - ic : GLLMK_GEMM_MC_ROWS;
        GLLMK_LOCAL(gemm_pack_a)(mc, kc, A, lda, ic, pc, Ap, row);
        GLLMK_LOCAL(gemm_block)(mc, nc, kc, Ap, Bp, kc, bias ? bias + jc : NULL,
                                C + ic * ldc + jc, ldc, first);
      }
    }
  }
}

/* NR, the columns of one B micro-panel: the geometry of gemm_panels' P */
size_t GLLMK_KNAME(gemm_nr, TN)(void) { return NR; }

/* P = B packed once for gemm_panels: for each panel of NR columns (the last
 * one zero padded), its k rows of NR floats, P[panel][p][NR].  This call
 * writes the panels of columns j0..j0+nc (j0 a multiple of NR) at P + j0 k,
 * so that threads can pack disjoint ranges. */
void GLLMK_KNAME(gemm_pack_panels, TN)(size_t nc, size_t k, const T *B, size_t ldb, bool b_trans,
                                       size_t j0, float *P) {
  if (nc && k) GLLMK_LOCAL(gemm_pack_b)(k, nc, B, ldb, b_trans, 0, j0, P + j0 * k);
}

/* As gemm, with B already packed into P (gemm_pack_panels, P at column 0 of
 * this call, a panel boundary): the same KC slices of k, the same
 * micro-kernel and the same order of accumulation, hence the same bits.  B
 * is not repacked, so A is packed once per KC x MC block for all n columns.
 * ws: at least KC * (MC_ROWS + NC + 1) floats (GLLMK_GEMM_WS_FLOATS). */
void GLLMK_KNAME(gemm_panels, TN)(size_t m, size_t n, size_t k, const T *A, size_t lda,
                                  const float *P, const float *bias, float *C, size_t ldc,
                                  float *ws) {
  if (k == 0) {
    GLLMK_LOCAL(gemm_k0)(m, n, bias, C, ldc);
    return;
  }
  float *Ap = ws;
  /* Few rows (decode): A packed whole, then panel by panel through all of
   * k, so that each panel is read once, front to back, as W's rows would be
   * (slice by slice, the reads would jump by a panel's k NR floats).  The
   * same slices in the same order for each element: the same bits. */
  size_t mpad = (m + MR - 1) / MR * MR;
  if (mpad <= GLLMK_GEMM_MC_ROWS &&
      mpad * k + GLLMK_GEMM_KC <= (size_t)GLLMK_GEMM_KC * (GLLMK_GEMM_MC_ROWS + GLLMK_GEMM_NC)) {
    float *row = Ap + mpad * k;
    for (size_t pc = 0; pc < k; pc += GLLMK_GEMM_KC) {
      size_t kc = k - pc < GLLMK_GEMM_KC ? k - pc : GLLMK_GEMM_KC;
      GLLMK_LOCAL(gemm_pack_a)(m, kc, A, lda, 0, pc, Ap + pc * mpad, row);
    }
    for (size_t jr = 0; jr < n; jr += NR) {
      size_t nr = n - jr < NR ? n - jr : NR;
      for (size_t pc = 0; pc < k; pc += GLLMK_GEMM_KC) {
        size_t kc = k - pc < GLLMK_GEMM_KC ? k - pc : GLLMK_GEMM_KC;
        GLLMK_LOCAL(gemm_block)(m, nr, kc, Ap + pc * mpad, P + jr * k + pc * NR, k,
                                bias ? bias + jr : NULL, C + jr, ldc, pc == 0);
      }
    }
    return;
  }
  float *row = Ap + (size_t)GLLMK_GEMM_KC * GLLMK_GEMM_MC_ROWS;
  for (size_t pc = 0; pc < k; pc += GLLMK_GEMM_KC) {
    size_t kc = k - pc < GLLMK_GEMM_KC ? k - pc : GLLMK_GEMM_KC;
    for (size_t ic = 0; ic < m; ic += GLLMK_GEMM_MC_ROWS) {
      size_t mc = m - ic < GLLMK_GEMM_MC_ROWS ? m - ic : GLLMK_GEMM_MC_ROWS;
      GLLMK_LOCAL(gemm_pack_a)(mc, kc, A, lda, ic, pc, Ap, row);
      GLLMK_LOCAL(gemm_block)(mc, n, kc, Ap, P + pc * NR, k, bias, C + ic * ldc, ldc, pc == 0);
    }
  }
}

#undef L
#undef MR
#undef NRV
#undef NR
