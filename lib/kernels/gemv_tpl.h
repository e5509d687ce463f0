/* gemv_tpl.h -- matrix-vector kernels: four rows share each load of x
 * SPDX-License-Identifier: MIT
 *
 * GLLMK_LOCAL(dot4) computes four dot products of length k between x and the
 * rows r0..r3 (any alignment, any k): two vector accumulators per row, the
 * tail through the zero-filled partial load.  Four rows at once keep four DRAM
 * streams in flight, which a single stream cannot saturate on this class of CPU.
 */
#define L VF32_LANES

static inline void GLLMK_LOCAL(dot4)(size_t k, const T *x, const T *r0, const T *r1,
                                     const T *r2, const T *r3, float out[4]) {
  vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
  vf32 b0 = vf32_zero(), b1 = vf32_zero(), b2 = vf32_zero(), b3 = vf32_zero();
  size_t p = 0;
  for (; p + 2 * L <= k; p += 2 * L) {
    vf32 x0 = VLOAD(x + p), x1 = VLOAD(x + p + L);
    a0 = vf32_fma(VLOAD(r0 + p), x0, a0);
    a1 = vf32_fma(VLOAD(r1 + p), x0, a1);
    a2 = vf32_fma(VLOAD(r2 + p), x0, a2);
    a3 = vf32_fma(VLOAD(r3 + p), x0, a3);
    b0 = vf32_fma(VLOAD(r0 + p + L), x1, b0);
    b1 = vf32_fma(VLOAD(r1 + p + L), x1, b1);
    b2 = vf32_fma(VLOAD(r2 + p + L), x1, b2);
    b3 = vf32_fma(VLOAD(r3 + p + L), x1, b3);
  }
  for (; p < k; p += L) {
    size_t r = k - p < L ? k - p : L;
    vf32 x0 = VLOAD_N(x + p, r);
    a0 = vf32_fma(VLOAD_N(r0 + p, r), x0, a0);
    a1 = vf32_fma(VLOAD_N(r1 + p, r), x0, a1);
    a2 = vf32_fma(VLOAD_N(r2 + p, r), x0, a2);
    a3 = vf32_fma(VLOAD_N(r3 + p, r), x0, a3);
  }
  out[0] = vf32_reduce_add(vf32_add(a0, b0));
  out[1] = vf32_reduce_add(vf32_add(a1, b1));
  out[2] = vf32_reduce_add(vf32_add(a2, b2));
  out[3] = vf32_reduce_add(vf32_add(a3, b3));
}

/* y[i] = A[i,:] . x for i < m; A row-major [m x n]. */
void GLLMK_KNAME(gemv, TN)(size_t m, size_t n, const T *A, const T *x, T *y) {
  size_t i = 0;
  float d[4];
  for (; i + 4 <= m; i += 4) {
    const T *r = A + i * n;
    GLLMK_LOCAL(dot4)(n, x, r, r + n, r + 2 * n, r + 3 * n, d);
    STORE1(y + i, d[0]);
    STORE1(y + i + 1, d[1]);
    STORE1(y + i + 2, d[2]);
    STORE1(y + i + 3, d[3]);
  }
  for (; i < m; i++) STORE1(y + i, GLLMK_KNAME(dot, TN)(n, A + i * n, x));
}

/* Y[i*ldy + j] = X[i,:] . W[j,:] for i < m, j < n; X [m x k], W [n x k].
 * For the few-token shapes (decode) where packing W would cost more than it saves. */
void GLLMK_KNAME(linear_rows, TN)(size_t m, size_t n, size_t k, const T *X, const T *W,
                                  float *Y, size_t ldy) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const T *w = W + j * k;
    for (size_t i = 0; i < m; i++)
      GLLMK_LOCAL(dot4)(k, X + i * k, w, w + k, w + 2 * k, w + 3 * k, Y + i * ldy + j);
  }
  for (; j < n; j++)
    for (size_t i = 0; i < m; i++) Y[i * ldy + j] = GLLMK_KNAME(dot, TN)(k, X + i * k, W + j * k);
}

#undef L
