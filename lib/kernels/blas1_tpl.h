/* blas1_tpl.h -- BLAS-1 kernels and f32 conversion, written once on the primitives
 * SPDX-License-Identifier: MIT
 *
 * Any n (0 allowed), any alignment; nothing past n is read or written (tails go
 * through the partial load/store primitives, filled with the identity of the
 * operation).  Reductions keep four vector accumulators a0..a3 fed round-robin
 * by a 4-vector main loop, then a single-vector loop into a0, the tail into a1,
 * and combine as ((a0 + a1) + (a2 + a3)) before the horizontal reduction.
 * Elementwise outputs may alias their inputs exactly (each vector is loaded
 * before its store).
 */
#define L VF32_LANES

float GLLMK_KNAME(dot, TN)(size_t n, const T *a, const T *b) {
  vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 = vf32_fma(VLOAD(a + i), VLOAD(b + i), a0);
    a1 = vf32_fma(VLOAD(a + i + L), VLOAD(b + i + L), a1);
    a2 = vf32_fma(VLOAD(a + i + 2 * L), VLOAD(b + i + 2 * L), a2);
    a3 = vf32_fma(VLOAD(a + i + 3 * L), VLOAD(b + i + 3 * L), a3);
  }
  for (; i + L <= n; i += L) a0 = vf32_fma(VLOAD(a + i), VLOAD(b + i), a0);
  if (i < n) a1 = vf32_fma(VLOAD_N(a + i, n - i), VLOAD_N(b + i, n - i), a1);
  return vf32_reduce_add(vf32_add(vf32_add(a0, a1), vf32_add(a2, a3)));
}

float GLLMK_KNAME(sum, TN)(size_t n, const T *x) {
  vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 = vf32_add(a0, VLOAD(x + i));
    a1 = vf32_add(a1, VLOAD(x + i + L));
    a2 = vf32_add(a2, VLOAD(x + i + 2 * L));
    a3 = vf32_add(a3, VLOAD(x + i + 3 * L));
  }
  for (; i + L <= n; i += L) a0 = vf32_add(a0, VLOAD(x + i));
  if (i < n) a1 = vf32_add(a1, VLOAD_N(x + i, n - i));
  return vf32_reduce_add(vf32_add(vf32_add(a0, a1), vf32_add(a2, a3)));
}

float GLLMK_KNAME(sumsq, TN)(size_t n, const T *x) {
  vf32 a0 = vf32_zero(), a1 = vf32_zero(), a2 = vf32_zero(), a3 = vf32_zero();
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    vf32 x0 = VLOAD(x + i), x1 = VLOAD(x + i + L), x2 = VLOAD(x + i + 2 * L), x3 = VLOAD(x + i + 3 * L);
    a0 = vf32_fma(x0, x0, a0);
    a1 = vf32_fma(x1, x1, a1);
    a2 = vf32_fma(x2, x2, a2);
    a3 = vf32_fma(x3, x3, a3);
  }
  for (; i + L <= n; i += L) { vf32 v = VLOAD(x + i); a0 = vf32_fma(v, v, a0); }
  if (i < n) { vf32 v = VLOAD_N(x + i, n - i); a1 = vf32_fma(v, v, a1); }
  return vf32_reduce_add(vf32_add(vf32_add(a0, a1), vf32_add(a2, a3)));
}

/* n >= 1.  vf32_max drops a NaN in its first operand (x86 rule), so NaN is
 * tracked in a mask; the tail (< one vector) is scalar. */
float GLLMK_KNAME(max, TN)(size_t n, const T *x) {
  vf32 m0 = vf32_splat(-INFINITY), m1 = m0;
  vmask nan = vf32_isnan(vf32_zero());
  size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    vf32 v0 = VLOAD(x + i), v1 = VLOAD(x + i + L);
    nan = vmask_or(nan, vmask_or(vf32_isnan(v0), vf32_isnan(v1)));
    m0 = vf32_max(m0, v0);
    m1 = vf32_max(m1, v1);
  }
  for (; i + L <= n; i += L) {
    vf32 v = VLOAD(x + i);
    nan = vmask_or(nan, vf32_isnan(v));
    m0 = vf32_max(m0, v);
  }
  float m = vf32_reduce_max(vf32_max(m0, m1));
  int any_nan = vmask_any(nan);
  for (; i < n; i++) {
    float v = LOAD1(x + i);
    any_nan |= v != v;
    m = v > m ? v : m;
  }
  return any_nan ? NAN : m;
}

#define GLLMK_ELEMWISE2(op, expr)                                               \
  void GLLMK_KNAME(op, TN)(size_t n, const T *a, const T *b, T *out) {          \
    size_t i = 0;                                                               \
    for (; i + 2 * L <= n; i += 2 * L) {                                        \
      vf32 x0 = VLOAD(a + i), y0 = VLOAD(b + i);                                \
      vf32 x1 = VLOAD(a + i + L), y1 = VLOAD(b + i + L);                        \
      VSTORE(out + i, expr(x0, y0));                                            \
      VSTORE(out + i + L, expr(x1, y1));                                        \
    }                                                                           \
    for (; i < n; i += L) {                                                     \
      size_t r = n - i < L ? n - i : L;                                         \
      vf32 x0 = VLOAD_N(a + i, r), y0 = VLOAD_N(b + i, r);                      \
      VSTORE_N(out + i, r, expr(x0, y0));                                       \
    }                                                                           \
  }
GLLMK_ELEMWISE2(add, vf32_add)
GLLMK_ELEMWISE2(sub, vf32_sub)
GLLMK_ELEMWISE2(mul, vf32_mul)
#undef GLLMK_ELEMWISE2

void GLLMK_KNAME(scale, TN)(size_t n, T *x, float s) {
  vf32 vs = vf32_splat(s);
  size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    vf32 x0 = VLOAD(x + i), x1 = VLOAD(x + i + L);
    VSTORE(x + i, vf32_mul(x0, vs));
    VSTORE(x + i + L, vf32_mul(x1, vs));
  }
  for (; i < n; i += L) {
    size_t r = n - i < L ? n - i : L;
    VSTORE_N(x + i, r, vf32_mul(VLOAD_N(x + i, r), vs));
  }
}

void GLLMK_KNAME(axpy, TN)(size_t n, T *y, float a, const T *x) {
  vf32 va = vf32_splat(a);
  size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    vf32 x0 = VLOAD(x + i), x1 = VLOAD(x + i + L);
    vf32 y0 = VLOAD(y + i), y1 = VLOAD(y + i + L);
    VSTORE(y + i, vf32_fma(va, x0, y0));
    VSTORE(y + i + L, vf32_fma(va, x1, y1));
  }
  for (; i < n; i += L) {
    size_t r = n - i < L ? n - i : L;
    VSTORE_N(y + i, r, vf32_fma(va, VLOAD_N(x + i, r), VLOAD_N(y + i, r)));
  }
}

void GLLMK_KNAME(to_f32, TN)(size_t n, const T *x, float *out) {
  size_t i = 0;
  for (; i + L <= n; i += L) vf32_storeu(out + i, VLOAD(x + i));
  if (i < n) vf32_store_n(out + i, n - i, VLOAD_N(x + i, n - i));
}

void GLLMK_KNAME(from_f32, TN)(size_t n, const float *x, T *out) {
  size_t i = 0;
  for (; i + L <= n; i += L) VSTORE(out + i, vf32_loadu(x + i));
  if (i < n) VSTORE_N(out + i, n - i, vf32_load_n(x + i, n - i));
}

#undef L
