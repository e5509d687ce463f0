/* act_tpl.h -- elementwise activations on the vector math of simd_math.h
 * SPDX-License-Identifier: MIT
 *
 * Any n, any alignment; out may alias the input(s) exactly.  Two vectors per
 * step in the body, the tail through the partial load/store primitives.
 */
#define L VF32_LANES

#define GLLMK_UNARY(op, f)                                                      \
  void GLLMK_KNAME(op, TN)(size_t n, const T *x, T *out) {                      \
    size_t i = 0;                                                               \
    for (; i + 2 * L <= n; i += 2 * L) {                                        \
      vf32 x0 = VLOAD(x + i), x1 = VLOAD(x + i + L);                            \
      VSTORE(out + i, f(x0));                                                   \
      VSTORE(out + i + L, f(x1));                                               \
    }                                                                           \
    for (; i < n; i += L) {                                                     \
      size_t r = n - i < L ? n - i : L;                                         \
      VSTORE_N(out + i, r, f(VLOAD_N(x + i, r)));                               \
    }                                                                           \
  }
GLLMK_UNARY(silu, vf32_silu)
GLLMK_UNARY(gelu, vf32_gelu)
GLLMK_UNARY(relu, gllmk__vrelu)
GLLMK_UNARY(tanh, vf32_tanh)
GLLMK_UNARY(exp, vf32_exp)
#undef GLLMK_UNARY

void GLLMK_KNAME(swiglu, TN)(size_t n, const T *gate, const T *up, T *out) {
  size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    vf32 g0 = VLOAD(gate + i), g1 = VLOAD(gate + i + L);
    vf32 u0 = VLOAD(up + i), u1 = VLOAD(up + i + L);
    VSTORE(out + i, gllmk__vswiglu(g0, u0));
    VSTORE(out + i + L, gllmk__vswiglu(g1, u1));
  }
  for (; i < n; i += L) {
    size_t r = n - i < L ? n - i : L;
    VSTORE_N(out + i, r, gllmk__vswiglu(VLOAD_N(gate + i, r), VLOAD_N(up + i, r)));
  }
}

/* swiglu of f32 intermediates (fused ops), result in T */
void GLLMK_KNAME(swiglu_f32in, TN)(size_t n, const float *gate, const float *up, T *out) {
  size_t i = 0;
  for (; i + L <= n; i += L)
    VSTORE(out + i, gllmk__vswiglu(vf32_loadu(gate + i), vf32_loadu(up + i)));
  if (i < n)
    VSTORE_N(out + i, n - i, gllmk__vswiglu(vf32_load_n(gate + i, n - i), vf32_load_n(up + i, n - i)));
}

#undef L
