/* gemm_micro_sve.h -- the GEMM micro-kernel of the sve ISA
 * SPDX-License-Identifier: MIT
 *
 * The template's micro-kernel keeps its tile in an array of vectors, which
 * sizeless SVE vectors cannot form; this one names its 8 x 3 accumulators.
 * Same contract (shared_tpl.h): packed panels a[p * 8 + i] and b[p * NR + j]
 * with NR = 3 L, C tile (+)= A B (+ bias), the mr x nr corner stored.  Each
 * step loads 3 B vectors and the 8 A values as two replicated quadwords
 * (ld1rqw), and multiplies by A lanes with the indexed fmla.  Partial tiles
 * need no tail code: the column predicates p0..p2 cover nr.
 */
#define GLLMK__SVE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

static inline void gllmk__gemm_micro_sve(size_t kc, const float *restrict a, const float *restrict b,
                                     const float *bias, float *c, size_t ldc, size_t mr, size_t nr,
                                     bool first) {
  const size_t L = gllmk__sve_lanes(), NR = 3 * L;
  const svbool_t pt = svptrue_b32(), pg = gllmk__sve_pg();
  const svbool_t p0 = svand_b_z(pt, pg, svwhilelt_b32_u64(0, nr));
  const svbool_t p1 = svand_b_z(pt, pg, svwhilelt_b32_u64(L, nr));
  const svbool_t p2 = svand_b_z(pt, pg, svwhilelt_b32_u64(2 * L, nr));
  svfloat32_t z = svdup_n_f32(0.0f);
  svfloat32_t b0 = bias ? svld1_f32(p0, bias) : z;
  svfloat32_t b1 = bias ? svld1_f32(p1, bias + L) : z;
  svfloat32_t b2 = bias ? svld1_f32(p2, bias + 2 * L) : z;
#define GLLMK__SVE_INIT(i) svfloat32_t c##i##0 = b0, c##i##1 = b1, c##i##2 = b2;
  GLLMK__SVE_ROWS(GLLMK__SVE_INIT)
#undef GLLMK__SVE_INIT
  for (size_t p = 0; p < kc; p++) {
    const float *bp = b + p * NR;
    svfloat32_t v0 = svld1_f32(pg, bp), v1 = svld1_f32(pg, bp + L), v2 = svld1_f32(pg, bp + 2 * L);
    svfloat32_t a03 = svld1rq_f32(pt, a + p * 8), a47 = svld1rq_f32(pt, a + p * 8 + 4);
#define GLLMK__SVE_FMA(i, aq, l)                \
    c##i##0 = svmla_lane_f32(c##i##0, v0, aq, l); \
    c##i##1 = svmla_lane_f32(c##i##1, v1, aq, l); \
    c##i##2 = svmla_lane_f32(c##i##2, v2, aq, l);
    GLLMK__SVE_FMA(0, a03, 0) GLLMK__SVE_FMA(1, a03, 1) GLLMK__SVE_FMA(2, a03, 2) GLLMK__SVE_FMA(3, a03, 3)
    GLLMK__SVE_FMA(4, a47, 0) GLLMK__SVE_FMA(5, a47, 1) GLLMK__SVE_FMA(6, a47, 2) GLLMK__SVE_FMA(7, a47, 3)
#undef GLLMK__SVE_FMA
  }
#define GLLMK__SVE_ST1(i, v, pv)                                      \
  {                                                                  \
    float *cp = c + (size_t)(i) * ldc + (v) * L;                     \
    svfloat32_t r = c##i##v;                                         \
    if (!first) r = svadd_f32_x(pt, r, svld1_f32(pv, cp));           \
    svst1_f32(pv, cp, r);                                            \
  }
#define GLLMK__SVE_STORE(i) \
  if (i < mr) { GLLMK__SVE_ST1(i, 0, p0) GLLMK__SVE_ST1(i, 1, p1) GLLMK__SVE_ST1(i, 2, p2) }
  GLLMK__SVE_ROWS(GLLMK__SVE_STORE)
#undef GLLMK__SVE_STORE
#undef GLLMK__SVE_ST1
}

#undef GLLMK__SVE_ROWS
