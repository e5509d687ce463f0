/* rope_tpl.h -- rotary position embedding of one token, all heads, in place
 * SPDX-License-Identifier: MIT
 *
 * x [heads x head_dim]; cos/sin [rotary_dim/2] (this token's row).  Pair i is
 * (i, i + rotary_dim/2) (NeoX layout, vectorised over i) or, when interleaved,
 * (2i, 2i+1) (GPT-J layout): there the pairs sit inside one vector, and
 *   x' = x * (c0 c0 c1 c1 ..) + swap_pairs(x) * (-s0 s0 -s1 s1 ..)
 * with the two tables expanded for GLLMK_ROPE_CHUNK dims at a time (scalar
 * loop on the one-lane ISA).
 *   x'_a = x_a cos_i - x_b sin_i,   x'_b = x_b cos_i + x_a sin_i
 * Dimensions rotary_dim..head_dim-1 are left untouched.
 */
#define L VF32_LANES

void GLLMK_KNAME(rope_token, TN)(T *x, const T *cs, const T *sn, size_t heads, size_t head_dim,
                                 size_t rotary_dim, bool interleaved) {
  size_t half = rotary_dim / 2;
  if (interleaved && VF32_LANES > 1) {
    float cd[GLLMK_ROPE_CHUNK], sa[GLLMK_ROPE_CHUNK];
    for (size_t d0 = 0; d0 < rotary_dim; d0 += GLLMK_ROPE_CHUNK) {
      size_t dn = rotary_dim - d0 < GLLMK_ROPE_CHUNK ? rotary_dim - d0 : GLLMK_ROPE_CHUNK;
      for (size_t i = 0; i < dn / 2; i++) {
        float c = LOAD1(cs + d0 / 2 + i), s = LOAD1(sn + d0 / 2 + i);
        cd[2 * i] = cd[2 * i + 1] = c;
        sa[2 * i] = -s;
        sa[2 * i + 1] = s;
      }
      for (size_t h = 0; h < heads; h++) {
        T *xh = x + h * head_dim + d0;
        for (size_t i = 0; i < dn; i += L) {
          size_t r = dn - i < L ? dn - i : L;     /* even: dn and L are */
          vf32 v = VLOAD_N(xh + i, r);
          vf32 y = vf32_fma(v, vf32_loadu(cd + i), vf32_mul(vf32_swap_pairs(v), vf32_loadu(sa + i)));
          VSTORE_N(xh + i, r, y);
        }
      }
    }
    return;
  }
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
