/* rope_tpl.h -- rotary position embedding of one token, all heads, in place
 * SPDX-License-Identifier: MIT
 *
 * x [heads x head_dim]; cos/sin [rotary_dim/2] (this token's row).  Pair i is
 * (i, i + rotary_dim/2) (NeoX layout, vectorised over i) or, when interleaved,
 * (2i, 2i+1) (GPT-J layout, scalar loop: the pairs sit inside one vector).
 *   x'_a = x_a cos_i - x_b sin_i,   x'_b = x_b cos_i + x_a sin_i
 * Dimensions rotary_dim..head_dim-1 are left untouched.
 */
#define L VF32_LANES

void GLLMK_KNAME(rope_token, TN)(T *x, const T *cs, const T *sn, size_t heads, size_t head_dim,
                                 size_t rotary_dim, bool interleaved) {
  size_t half = rotary_dim / 2;
  for (size_t h = 0; h < heads; h++) {
    T *xh = x + h * head_dim;
    if (interleaved) {
      for (size_t i = 0; i < half; i++) {
        float c = LOAD1(cs + i), s = LOAD1(sn + i);
        float a = LOAD1(xh + 2 * i), b = LOAD1(xh + 2 * i + 1);
        STORE1(xh + 2 * i, a * c - b * s);
        STORE1(xh + 2 * i + 1, b * c + a * s);
      }
      continue;
    }
    for (size_t i = 0; i < half; i += L) {
      size_t r = half - i < L ? half - i : L;
      vf32 c = VLOAD_N(cs + i, r), s = VLOAD_N(sn + i, r);
      vf32 a = VLOAD_N(xh + i, r), b = VLOAD_N(xh + half + i, r);
      VSTORE_N(xh + i, r, vf32_sub(vf32_mul(a, c), vf32_mul(b, s)));
      VSTORE_N(xh + half + i, r, vf32_fma(b, c, vf32_mul(a, s)));
    }
  }
}

#undef L
