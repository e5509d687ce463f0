/* test_dequant.c -- dequantization (Table B) and the QuantType metadata
 * SPDX-License-Identifier: MIT
 *
 *  - GGUF formats: for the 21 types (mxfp4's vectors written by gguf-py) and each test-vector case (quantized,
 *    quantized-imatrix where it exists, random), on every runnable ISA,
 *    gllmk_dequantize() and gllmk_dequant_<fmt>() of QBLOCKS equal DEQUANT
 *    bit for bit (uint32 patterns compared; the count of differing values
 *    and the first are reported).  Also from an odd-address copy of QBLOCKS
 *    into an output with canaries, block counts 1..17 (tails of the 8-block
 *    grouping of the 32-value formats), and a decode large enough to be
 *    split across 2 and 3 threads, with a tail that is not a multiple of 8.
 *  - Metadata: name / block size / block bytes / bits / row bytes of the 24
 *    types against DESIGN.md §5 and the vector headers, gllmk_qtype_from_name
 *    (ggml spellings in any case; unknown names, NULL), unknown values.
 *  - SqueezeLLM, AWQ4, GPTQ4: arrays built from known codes, codebooks,
 *    zeros, scales and g_idx (sequential, permuted groups, per-column act
 *    order), decoded bit for bit against the independent decoder below.
 *  - Special scales: f16 (or q8_K f32) scales of +-inf and NaN decode as
 *    IEEE multiplication says (inf * 0 = NaN), subnormal scales exactly;
 *    the same for the second scale field (min / dmin) of the offset formats
 *    and for SqueezeLLM codebooks and AWQ4 / GPTQ4 scales.  MXFP4's E8M0
 *    byte: the subnormal scales (e = 0, 1) and the ones whose top levels
 *    overflow to inf (e = 253..255), as ggml's 2^(e-128) times the level.
 *  - Bad input: each call runs in a forked child (a crash or hang is a
 *    failure, not the end of the program) and must return the right status
 *    without writing to any buffer (canaries and snapshots).
 *
 * The expected values of the special-scale checks come from decoding the
 * same block with scale 1 (and min 0), then with scale 0 and min 1: every
 * value is d * c + dmin * o with c and o exact, so the result for any scale
 * D (and min M) is the f32 rounding of D * c + M * o, computed here in
 * double.
 */
#include "testutil.h"
#include "tvec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ formats */
enum { SC_F16 = 0, SC_F32 = 1, SC_IQ1M = 2, SC_E8M0 = 3 };

typedef gllmk_status (*deq_fn)(const void *src, float *out, size_t n);

typedef struct fmt {
  const char *name;   /* ggml's spelling = file name */
  gllmk_qtype t;
  size_t bs, bb;
  deq_fn deq;
  int sc_kind;        /* SC_* */
  int d_off;          /* offset of the scale d */
  int m_off;          /* offset of the f16 min / dmin, -1 if none */
} fmt;

/* the rows of lib/quant/qformats.def */
static const fmt FMTS[] = {
#define GLLMK_QFMT(tok, QT, name, bs, bb, kind, dot, fam, sc, d_off, m_off, quant) \
  { name, GLLMK_##QT, bs, bb, gllmk_dequant_##tok, SC_##sc, d_off, m_off },
#include "quant/qformats.def"
#undef GLLMK_QFMT
};
#define NFMT ((int)(sizeof FMTS / sizeof FMTS[0]))

static const char *CASES[] = { "quantized", "quantized-imatrix", "random" };
#define NCASE 3

/* ------------------------------------------------------------------ helpers */
static uint32_t fbits(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float bitsf(uint32_t u)
{
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* Bitwise comparison (a NaN expected matches any NaN).  Records one check
 * in c; on mismatch prints the count and the first difference. */
static int zero_sign_free; /* set: +0 and -0 compare equal */
static int cmp_exact(tu_check *c, const float *got, const float *exp, size_t n, const char *what)
{
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++) {
    int same = isnan(exp[i]) ? isnan(got[i]) : fbits(got[i]) == fbits(exp[i]);
    if (!same && zero_sign_free && exp[i] == 0.0f && got[i] == 0.0f) same = 1;
    if (!same && bad++ == 0) first = i;
  }
  if (!bad)
    return tu_check_true(c, 1, "%s", what);
  return tu_check_true(c, 0, "%s: %zu of %zu values differ; first [%zu]: got %.9g (0x%08x), "
                       "expected %.9g (0x%08x)", what, bad, n, first, (double)got[first],
                       (unsigned)fbits(got[first]), (double)exp[first], (unsigned)fbits(exp[first]));
}

/* Output array of n floats with canaries, data offset off floats. */
static void out_alloc(tu_arr *a, size_t n, size_t off)
{
  tu_arr_alloc(a, TU_F32, n, off);
  tu_arr_poison(a);
}

/* ------------------------------------------------------------------ forked calls */
/* Watched memory: the child checks that none of it changed. */
static tu_iso last;
#define RUN(EXPR) TU_ISOLATE(last, tu_watched_unchanged(), 0.0f, (EXPR))

static tu_check *BC;
#define EXPECT(want, desc, EXPR) do { RUN(EXPR); tu_iso_check(BC, &last, want, want, desc); } while (0)

/* ------------------------------------------------------------------ metadata */
/* ggml's values, written out here as an oracle of their own (not expanded
 * from qformats.def, which the library's answers come from) */
typedef struct meta { gllmk_qtype t; const char *name; size_t bs, bb; } meta;
static const meta METAS[] = {
  { GLLMK_Q4_0, "q4_0", 32, 18 },       { GLLMK_Q4_1, "q4_1", 32, 20 },
  { GLLMK_Q5_0, "q5_0", 32, 22 },       { GLLMK_Q5_1, "q5_1", 32, 24 },
  { GLLMK_Q8_0, "q8_0", 32, 34 },       { GLLMK_Q2_K, "q2_K", 256, 84 },
  { GLLMK_Q3_K, "q3_K", 256, 110 },     { GLLMK_Q4_K, "q4_K", 256, 144 },
  { GLLMK_Q5_K, "q5_K", 256, 176 },     { GLLMK_Q6_K, "q6_K", 256, 210 },
  { GLLMK_Q8_K, "q8_K", 256, 292 },     { GLLMK_IQ1_S, "iq1_s", 256, 50 },
  { GLLMK_IQ1_M, "iq1_m", 256, 56 },    { GLLMK_IQ2_XXS, "iq2_xxs", 256, 66 },
  { GLLMK_IQ2_XS, "iq2_xs", 256, 74 },  { GLLMK_IQ2_S, "iq2_s", 256, 82 },
  { GLLMK_IQ3_XXS, "iq3_xxs", 256, 98 }, { GLLMK_IQ3_S, "iq3_s", 256, 110 },
  { GLLMK_IQ4_NL, "iq4_nl", 32, 18 },   { GLLMK_IQ4_XS, "iq4_xs", 256, 136 },
  { GLLMK_MXFP4, "mxfp4", 32, 17 },
  { GLLMK_AWQ4, "awq4", 128, 64 },      { GLLMK_GPTQ4, "gptq4", 128, 64 },
  { GLLMK_SQUEEZELLM, "squeezellm", 256, 112 },
};
#define NMETA ((int)(sizeof METAS / sizeof METAS[0]))

/* ggml type ids of the 20 GGUF formats (= enum values), from the README */
static const struct { const char *name; unsigned id; } GGML_IDS[] = {
  { "q4_0", 2 }, { "q4_1", 3 }, { "q5_0", 6 }, { "q5_1", 7 }, { "q8_0", 8 }, { "q2_K", 10 },
  { "q3_K", 11 }, { "q4_K", 12 }, { "q5_K", 13 }, { "q6_K", 14 }, { "q8_K", 15 },
  { "iq2_xxs", 16 }, { "iq2_xs", 17 }, { "iq3_xxs", 18 }, { "iq1_s", 19 }, { "iq4_nl", 20 },
  { "iq3_s", 21 }, { "iq2_s", 22 }, { "iq4_xs", 23 }, { "iq1_m", 29 }, { "mxfp4", 39 },
};

static void mixcase(const char *s, char *out, int mode)
{
  size_t i = 0;
  for (; s[i]; i++) {
    char ch = s[i];
    int up = mode == 1 || (mode == 2 && (i % 2 == 0));
    if (mode == 0) ch = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    else if (up && ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
    else if (!up && ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
    out[i] = ch;
  }
  out[i] = 0;
}

static void test_metadata(void)
{
  tu_check c;
  tu_check_init(&c);
  for (int i = 0; i < NMETA; i++) {
    const meta *m = &METAS[i];
    const char *nm = gllmk_qtype_name(m->t);
    tu_check_true(&c, nm && !strcmp(nm, m->name), "qtype_name(%d) = %s, expected %s", (int)m->t,
                  nm ? nm : "NULL", m->name);
    tu_check_true(&c, gllmk_qtype_block_size(m->t) == m->bs, "block_size(%s) = %zu, expected %zu",
                  m->name, gllmk_qtype_block_size(m->t), m->bs);
    tu_check_true(&c, gllmk_qtype_block_bytes(m->t) == m->bb, "block_bytes(%s) = %zu, expected %zu",
                  m->name, gllmk_qtype_block_bytes(m->t), m->bb);
    double bits = (double)m->bb * 8.0 / (double)m->bs;
    tu_check_true(&c, gllmk_qtype_bits(m->t) == bits, "bits(%s) = %g, expected %g", m->name,
                  gllmk_qtype_bits(m->t), bits);
    static const size_t mult[] = { 0, 1, 2, 3, 7, 32, 1000 };
    for (size_t j = 0; j < sizeof mult / sizeof mult[0]; j++) {
      size_t k = mult[j] * m->bs;
      tu_check_true(&c, gllmk_qtype_row_bytes(m->t, k) == mult[j] * m->bb,
                    "row_bytes(%s, %zu) = %zu, expected %zu", m->name, k,
                    gllmk_qtype_row_bytes(m->t, k), mult[j] * m->bb);
    }
    static const size_t bad_k[] = { 1, 2, 16, 31, 33, 127, 129, 255, 257 };
    for (size_t j = 0; j < sizeof bad_k / sizeof bad_k[0]; j++) {
      size_t k = bad_k[j];
      if (k % m->bs == 0) continue;
      tu_check_true(&c, gllmk_qtype_row_bytes(m->t, k) == 0, "row_bytes(%s, %zu) = %zu, expected 0",
                    m->name, k, gllmk_qtype_row_bytes(m->t, k));
      tu_check_true(&c, gllmk_qtype_row_bytes(m->t, k + 4 * m->bs) == 0,
                    "row_bytes(%s, %zu) = %zu, expected 0", m->name, k + 4 * m->bs,
                    gllmk_qtype_row_bytes(m->t, k + 4 * m->bs));
    }
    /* the largest multiple of the block: 0 exactly when the product overflows */
    size_t kmax = SIZE_MAX - SIZE_MAX % m->bs, prod;
    int ovf = __builtin_mul_overflow(kmax / m->bs, m->bb, &prod);
    tu_check_true(&c, gllmk_qtype_row_bytes(m->t, kmax) == (ovf ? 0 : prod),
                  "row_bytes(%s, %zu) = %zu, expected %zu", m->name, kmax,
                  gllmk_qtype_row_bytes(m->t, kmax), ovf ? (size_t)0 : prod);
  }
  tu_check_done(&c, "qtype name, block_size, block_bytes, bits, row_bytes of the 24 types (DESIGN 5)");

  /* GGUF ids against the README's table (the enum values are ggml's ids) */
  for (size_t i = 0; i < sizeof GGML_IDS / sizeof GGML_IDS[0]; i++) {
    gllmk_qtype t;
    gllmk_status st = gllmk_qtype_from_name(GGML_IDS[i].name, &t);
    if (tu_check_status(&c, st, GLLMK_OK, "from_name(%s)", GGML_IDS[i].name))
      tu_check_true(&c, (unsigned)t == GGML_IDS[i].id, "from_name(%s) = %d, ggml id %u",
                    GGML_IDS[i].name, (int)t, GGML_IDS[i].id);
  }
  tu_check_done(&c, "GGUF qtype values are ggml's type ids");

  for (int i = 0; i < NMETA; i++) {
    char buf[64];
    for (int mode = 0; mode < 4; mode++) {
      if (mode == 3) snprintf(buf, sizeof buf, "%s", METAS[i].name);
      else mixcase(METAS[i].name, buf, mode);
      gllmk_qtype t = (gllmk_qtype)12345;
      gllmk_status st = gllmk_qtype_from_name(buf, &t);
      if (tu_check_status(&c, st, GLLMK_OK, "from_name(\"%s\")", buf))
        tu_check_true(&c, t == METAS[i].t, "from_name(\"%s\") = %d, expected %d", buf, (int)t,
                      (int)METAS[i].t);
    }
  }
  static const struct { const char *s; gllmk_qtype t; } spell[] = {
    { "Q4_K", GLLMK_Q4_K }, { "iq2_XXS", GLLMK_IQ2_XXS }, { "q8_0", GLLMK_Q8_0 },
    { "Q4_k", GLLMK_Q4_K }, { "IQ4_nl", GLLMK_IQ4_NL }, { "Q6_K", GLLMK_Q6_K },
    { "iQ1_M", GLLMK_IQ1_M }, { "AWQ4", GLLMK_AWQ4 }, { "GPTQ4", GLLMK_GPTQ4 },
    { "SqueezeLLM", GLLMK_SQUEEZELLM },
  };
  for (size_t i = 0; i < sizeof spell / sizeof spell[0]; i++) {
    gllmk_qtype t = (gllmk_qtype)12345;
    gllmk_status st = gllmk_qtype_from_name(spell[i].s, &t);
    if (tu_check_status(&c, st, GLLMK_OK, "from_name(\"%s\")", spell[i].s))
      tu_check_true(&c, t == spell[i].t, "from_name(\"%s\") = %d, expected %d", spell[i].s, (int)t,
                    (int)spell[i].t);
  }
  tu_check_done(&c, "qtype_from_name: ggml spellings in lower, upper and mixed case");

  static const char *unknown[] = { "", "q4", "q4_k_m", "Q4_K_M", "q4_0 ", " q4_0", "q4_0\n",
                                   "f16", "f32", "bf16", "q8_1", "iq2_xxxs", "iq2", "q4_2",
                                   "q4-0", "awq", "gptq", "q" };
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    /* "awq" and "gptq" are accepted aliases in the implementation; the
     * contract only lists the full names, so either answer is fine there */
    gllmk_qtype t = (gllmk_qtype)12345;
    gllmk_status st = gllmk_qtype_from_name(unknown[i], &t);
    if (!strcmp(unknown[i], "awq") || !strcmp(unknown[i], "gptq")) {
      tu_check_true(&c, st == GLLMK_E_UNSUPPORTED ||
                            (st == GLLMK_OK && t == (unknown[i][0] == 'a' ? GLLMK_AWQ4 : GLLMK_GPTQ4)),
                    "from_name(\"%s\"): %s", unknown[i], tu_status_name(st));
      continue;
    }
    tu_check_status(&c, st, GLLMK_E_UNSUPPORTED, "from_name(\"%s\")", unknown[i]);
  }
  {
    gllmk_qtype t;
    tu_check_status(&c, gllmk_qtype_from_name(NULL, &t), GLLMK_E_INVAL, "from_name(NULL, &t)");
    tu_check_status(&c, gllmk_qtype_from_name("q4_K", NULL), GLLMK_E_INVAL,
                    "from_name(\"q4_K\", NULL)");
    tu_check_status(&c, gllmk_qtype_from_name(NULL, NULL), GLLMK_E_INVAL, "from_name(NULL, NULL)");
  }
  tu_check_done(&c, "qtype_from_name: unknown names UNSUPPORTED, NULL INVAL");

  static const int bad_t[] = { 0, 1, 4, 5, 9, 24, 25, 28, 30, 40, 199, 203, 255, 999, -1, 100000 };
  for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++) {
    gllmk_qtype t = (gllmk_qtype)bad_t[i];
    tu_check_true(&c, gllmk_qtype_name(t) == NULL, "qtype_name(%d) = %s, expected NULL", bad_t[i],
                  gllmk_qtype_name(t));
    tu_check_true(&c, gllmk_qtype_block_size(t) == 0, "block_size(%d) != 0", bad_t[i]);
    tu_check_true(&c, gllmk_qtype_block_bytes(t) == 0, "block_bytes(%d) != 0", bad_t[i]);
    tu_check_true(&c, gllmk_qtype_bits(t) == 0.0, "bits(%d) != 0", bad_t[i]);
    tu_check_true(&c, gllmk_qtype_row_bytes(t, 256) == 0, "row_bytes(%d, 256) != 0", bad_t[i]);
    tu_check_true(&c, gllmk_qtype_row_bytes(t, 0) == 0, "row_bytes(%d, 0) != 0", bad_t[i]);
  }
  tu_check_done(&c, "unknown qtype values (0, 1, 4, 5, 9, 24..30, 199, 203, 999, -1, ...): NULL / 0");
}

/* ------------------------------------------------------------------ vectors */
typedef struct fdata {
  tv_file *tv[NCASE];
  /* the large threaded decode: blocks cycled from the random case */
  size_t big_nb;
  unsigned char *big_src;
  float *big_exp;
} fdata;
static fdata FD[NFMT];

static void check_header(tu_check *c, const fmt *f, const char *cs, const tv_header *h)
{
  tu_check_true(c, !strcmp(h->type_name, f->name), "%s.%s: header type %s", f->name, cs,
                h->type_name);
  tu_check_true(c, h->type_id == (uint32_t)f->t, "%s.%s: header id %u, enum %d", f->name, cs,
                (unsigned)h->type_id, (int)f->t);
  tu_check_true(c, h->block_elems == gllmk_qtype_block_size(f->t) &&
                       h->block_bytes == gllmk_qtype_block_bytes(f->t),
                "%s.%s: header block %u/%u, library %zu/%zu", f->name, cs,
                (unsigned)h->block_elems, (unsigned)h->block_bytes, gllmk_qtype_block_size(f->t),
                gllmk_qtype_block_bytes(f->t));
  tu_check_true(c, h->row_bytes == gllmk_qtype_row_bytes(f->t, h->cols),
                "%s.%s: header row_bytes %u, library %zu", f->name, cs, (unsigned)h->row_bytes,
                gllmk_qtype_row_bytes(f->t, h->cols));
  const char *nm = gllmk_qtype_name(f->t);
  tu_check_true(c, nm && !strcmp(nm, h->type_name), "%s.%s: qtype_name %s", f->name, cs,
                nm ? nm : "NULL");
  gllmk_qtype t;
  tu_check_true(c, gllmk_qtype_from_name(h->type_name, &t) == GLLMK_OK && t == f->t,
                "%s.%s: from_name(header name)", f->name, cs);
}

static void load_vectors(void)
{
  tu_check c;
  tu_check_init(&c);
  for (int i = 0; i < NFMT; i++) {
    const fmt *f = &FMTS[i];
    for (int cs = 0; cs < NCASE; cs++) {
      int optional = cs == 1 && (f->t == GLLMK_Q8_0 || f->t == GLLMK_Q8_K || f->t == GLLMK_MXFP4);
      char *path = tv_find(f->name, CASES[cs]);
      FD[i].tv[cs] = path ? tv_open(path) : NULL;
      free(path);
      if (!FD[i].tv[cs]) {
        if (!optional)
          tu_check_true(&c, 0, "%s.%s: test vectors missing or unreadable", f->name, CASES[cs]);
        continue;
      }
      tu_check_true(&c, !optional, "%s.%s: unexpected file (README: no imatrix case)", f->name,
                    CASES[cs]);
      check_header(&c, f, CASES[cs], tv_hdr(FD[i].tv[cs]));
    }
    /* the large decode, from the random case */
    tv_file *r = FD[i].tv[2];
    if (r) {
      size_t qlen, dlen;
      const unsigned char *qb = tv_section(r, "QBLOCKS", &qlen);
      const float *dq = tv_section(r, "DEQUANT", &dlen);
      size_t nsrc = qlen / f->bb;
      /* enough blocks for 3 threads of GLLMK's 2^17-value minimum, and a
       * tail that is not a multiple of 8 blocks */
      size_t nb = ((size_t)3 << 17) / f->bs + 5 + 8 * 17;
      FD[i].big_nb = nb;
      FD[i].big_src = tu_xmalloc(nb * f->bb);
      FD[i].big_exp = tu_xmalloc(nb * f->bs * sizeof(float));
      for (size_t b = 0; b < nb; b++) {
        size_t s = (b * 7 + b / nsrc) % nsrc;
        memcpy(FD[i].big_src + b * f->bb, qb + s * f->bb, f->bb);
        memcpy(FD[i].big_exp + b * f->bs, dq + s * f->bs, f->bs * sizeof(float));
      }
      (void)dlen;
    }
  }
  tu_check_done(&c, "test vectors: 60 files found, headers agree with the library's metadata");
}

static void vec_case(tu_check *c, const fmt *f, tv_file *tv, const char *cs, const char *isa)
{
  const tv_header *h = tv_hdr(tv);
  size_t qlen, dlen;
  const unsigned char *qb = tv_section(tv, "QBLOCKS", &qlen);
  const float *dq = tv_section(tv, "DEQUANT", &dlen);
  size_t nv = (size_t)h->rows * h->cols, nb = nv / f->bs;
  char what[1024];
  if (!qb || !dq || dlen != nv * sizeof(float) || qlen != nb * f->bb) {
    tu_check_true(c, 0, "%s.%s: bad sections", f->name, cs);
    return;
  }
  tu_arr out;
  tu_buf src;

  /* 1. gllmk_dequantize straight from the file image (8-byte aligned) */
  out_alloc(&out, nv, 0);
  snprintf(what, sizeof what, "%s.%s %s: gllmk_dequantize", f->name, cs, isa);
  if (tu_check_status(c, gllmk_dequantize(f->t, qb, qlen, out.p, nv), GLLMK_OK, "%s", what))
    cmp_exact(c, out.p, dq, nv, what);
  tu_check_guards(c, &out, what);
  tu_arr_free(&out);

  /* 2. the per-format function, source at an odd address, output offset 3 */
  tu_buf_alloc(&src, qlen, 1);
  memcpy(src.p, qb, qlen);
  out_alloc(&out, nv, 3);
  snprintf(what, sizeof what, "%s.%s %s: gllmk_dequant_%s (odd src)", f->name, cs, isa, f->name);
  if (tu_check_status(c, f->deq(src.p, out.p, nv), GLLMK_OK, "%s", what))
    cmp_exact(c, out.p, dq, nv, what);
  tu_check_guards(c, &out, what);
  tu_check_true(c, tu_buf_guards_ok(&src) && !memcmp(src.p, qb, qlen), "%s: source modified", what);

  /* 3. gllmk_dequantize, odd source, exact src_bytes */
  tu_arr_poison(&out);
  snprintf(what, sizeof what, "%s.%s %s: gllmk_dequantize (odd src)", f->name, cs, isa);
  if (tu_check_status(c, gllmk_dequantize(f->t, src.p, qlen, out.p, nv), GLLMK_OK, "%s", what))
    cmp_exact(c, out.p, dq, nv, what);
  tu_check_guards(c, &out, what);
  tu_arr_free(&out);

  /* 4. block counts 1..17 from varying start blocks, odd source */
  for (size_t b = 1; b <= 17 && b <= nb; b++) {
    size_t s0 = (b * 5) % (nb - b + 1);
    tu_arr o2;
    out_alloc(&o2, b * f->bs, b % 4);
    snprintf(what, sizeof what, "%s.%s %s: %zu blocks from block %zu", f->name, cs, isa, b, s0);
    if (tu_check_status(c, f->deq(src.p + s0 * f->bb, o2.p, b * f->bs), GLLMK_OK, "%s", what))
      cmp_exact(c, o2.p, dq + s0 * f->bs, b * f->bs, what);
    tu_arr_poison(&o2);
    if (tu_check_status(c, gllmk_dequantize(f->t, src.p + s0 * f->bb, b * f->bb, o2.p, b * f->bs),
                        GLLMK_OK, "%s (gllmk_dequantize)", what))
      cmp_exact(c, o2.p, dq + s0 * f->bs, b * f->bs, what);
    tu_check_guards(c, &o2, what);
    tu_arr_free(&o2);
  }
  tu_buf_free(&src);
}

static void test_vectors(int fi, int ii)
{
  const fmt *f = &FMTS[fi];
  const char *isa = tu_isa_name(ii);
  tu_check c;
  tu_check_init(&c);
  int ncases = 0;
  for (int cs = 0; cs < NCASE; cs++) {
    if (!FD[fi].tv[cs]) continue;
    vec_case(&c, f, FD[fi].tv[cs], CASES[cs], isa);
    ncases++;
  }
  tu_check_done(&c, "%s %s: %d vector cases decode bit-exact (aligned, odd src, 1..17 blocks)",
                f->name, isa, ncases);

  /* the large decode on 1, 2 and 3 threads */
  if (FD[fi].big_src) {
    size_t nb = FD[fi].big_nb, nv = nb * f->bs;
    static const int thr[] = { 2, 3, 1 };
    for (int t = 0; t < 3; t++) {
      gllmk_set_num_threads(thr[t]);
      tu_arr out;
      out_alloc(&out, nv, 1);
      char what[1024];
      snprintf(what, sizeof what, "%s %s: %zu blocks on %d threads", f->name, isa, nb, thr[t]);
      gllmk_status st = t == 1 ? f->deq(FD[fi].big_src, out.p, nv)
                               : gllmk_dequantize(f->t, FD[fi].big_src, nb * f->bb, out.p, nv);
      if (tu_check_status(&c, st, GLLMK_OK, "%s", what))
        cmp_exact(&c, out.p, FD[fi].big_exp, nv, what);
      tu_check_guards(&c, &out, what);
      tu_arr_free(&out);
    }
    gllmk_set_num_threads(0);
    tu_check_done(&c, "%s %s: %zu blocks (tail %zu mod 8) on 1, 2, 3 threads bit-exact", f->name,
                  isa, nb, nb % 8);
  }
}

/* ------------------------------------------------------------------ special scales */
static void set_scale(const fmt *f, unsigned char *blk, uint32_t bits)
{
  switch (f->sc_kind) {
  case SC_F16: tu_wr16(blk + f->d_off, (uint16_t)bits); break;
  case SC_F32: tu_wr32(blk + f->d_off, bits); break;
  case SC_E8M0: blk[f->d_off] = (unsigned char)bits; break;
  case SC_IQ1M:
    for (int w = 0; w < 4; w++) {
      uint16_t v = tu_rd16(blk + f->d_off + 2 * w);
      v = (uint16_t)((v & 0x0FFF) | (((bits >> (4 * w)) & 0xF) << 12));
      tu_wr16(blk + f->d_off + 2 * w, v);
    }
    break;
  }
}
static double scale_value(const fmt *f, uint32_t bits)
{
  if (f->sc_kind == SC_E8M0) return ldexp(1.0, (int)bits - 128); /* ggml_e8m0_to_fp32_half */
  return f->sc_kind == SC_F32 ? (double)bitsf(bits) : tu_h2d((uint16_t)bits);
}

#define SPB 8 /* blocks per special-value decode */

static void decode_blocks(tu_check *c, const fmt *f, const unsigned char *src, float *out,
                          const char *what)
{
  tu_check_status(c, gllmk_dequantize(f->t, src, SPB * f->bb, out, SPB * f->bs), GLLMK_OK, "%s",
                  what);
}

static void test_special_scales(int fi, int ii)
{
  const fmt *f = &FMTS[fi];
  const char *isa = tu_isa_name(ii);
  tu_check c;
  tu_check_init(&c);
  tv_file *r = FD[fi].tv[2];
  if (!r) {
    skip("%s %s: special scales (no random vectors)", f->name, isa);
    return;
  }
  const unsigned char *qb = tv_section(r, "QBLOCKS", NULL);
  size_t nv = SPB * f->bs;
  unsigned char *blk = tu_xmalloc(SPB * f->bb);
  memcpy(blk, qb, SPB * f->bb);
  float *cv = tu_xmalloc(nv * sizeof(float)), *ov = tu_xmalloc(nv * sizeof(float));
  float *exp = tu_xmalloc(nv * sizeof(float));
  const uint32_t one = f->sc_kind == SC_F32 ? 0x3F800000u : f->sc_kind == SC_E8M0 ? 128u : 0x3C00u;

  /* c: scale 1, min 0; o: scale 0, min 1 */
  for (int b = 0; b < SPB; b++) {
    set_scale(f, blk + b * f->bb, one);
    if (f->m_off >= 0) tu_wr16(blk + b * f->bb + f->m_off, 0);
  }
  decode_blocks(&c, f, blk, cv, "scale 1");
  for (size_t i = 0; i < nv; i++)
    if (!tu_check_true(&c, isfinite(cv[i]), "%s %s: scale 1 gives non-finite value [%zu]", f->name,
                       isa, i))
      break;
  if (f->m_off >= 0) {
    for (int b = 0; b < SPB; b++) {
      set_scale(f, blk + b * f->bb, 0);
      tu_wr16(blk + b * f->bb + f->m_off, 0x3C00);
    }
    decode_blocks(&c, f, blk, ov, "scale 0, min 1");
  }

  static const uint32_t f16_specials[] = { 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x0001,
                                           0x8001, 0x0155, 0x03FF, 0x83FF, 0x0400, 0x8000 };
  static const uint32_t f32_specials[] = { 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u,
                                           0x7F800001u, 0x00000001u, 0x80000001u, 0x00000155u,
                                           0x007FFFFFu, 0x807FFFFFu, 0x00800000u, 0x80000000u,
                                           0x33800000u /* 2^-24 */ };
  /* E8M0: the subnormal scales 2^-128, 2^-127, the overflowing 2^125..2^127 */
  static const uint32_t e8m0_specials[] = { 0, 1, 2, 127, 129, 252, 253, 254, 255 };
  const uint32_t *sp = f->sc_kind == SC_F32 ? f32_specials : f->sc_kind == SC_E8M0 ? e8m0_specials : f16_specials;
  size_t nsp = f->sc_kind == SC_F32 ? sizeof f32_specials / 4
               : f->sc_kind == SC_E8M0 ? sizeof e8m0_specials / 4 : sizeof f16_specials / 4;
  tu_arr out;
  out_alloc(&out, nv, 1);
  zero_sign_free = 1; /* the c / o model does not fix the sign of a zero result */
  for (int which = 0; which < (f->m_off >= 0 ? 2 : 1); which++) {
    for (size_t s = 0; s < nsp; s++) {
      if (which == 1 && s >= sizeof f16_specials / 4) break;
      uint32_t bits = sp[s];
      double D, M;
      for (int b = 0; b < SPB; b++) {
        /* which 0: d special, min 0; which 1: d = 1, min special */
        set_scale(f, blk + b * f->bb, which ? one : bits);
        if (f->m_off >= 0) tu_wr16(blk + b * f->bb + f->m_off, which ? (uint16_t)bits : 0);
      }
      D = which ? 1.0 : scale_value(f, bits);
      M = which ? tu_h2d((uint16_t)bits) : 0.0;
      for (size_t i = 0; i < nv; i++) {
        double v = D * (double)cv[i];
        if (f->m_off >= 0 && which) v += M * (double)ov[i];
        exp[i] = (float)v;
      }
      tu_arr_poison(&out);
      char what[1024];
      snprintf(what, sizeof what, "%s %s: %s = 0x%0*x", f->name, isa, which ? "min" : "scale",
               f->sc_kind == SC_F32 && !which ? 8 : 4, (unsigned)bits);
      decode_blocks(&c, f, blk, out.p, what);
      cmp_exact(&c, out.p, exp, nv, what);
      tu_check_guards(&c, &out, what);
      /* the per-format entry too */
      tu_arr_poison(&out);
      tu_check_status(&c, f->deq(blk, out.p, nv), GLLMK_OK, "%s (per-format)", what);
      cmp_exact(&c, out.p, exp, nv, what);
    }
  }
  zero_sign_free = 0;
  tu_arr_free(&out);
  tu_check_done(&c, "%s %s: inf / NaN / subnormal / -0 %s decode as IEEE says", f->name, isa,
                f->m_off >= 0 ? "scales and mins" : "scales");
  free(blk);
  free(cv);
  free(ov);
  free(exp);
}

/* ------------------------------------------------------------------ external formats */
/* random f16 bit pattern: finite, or (with specials) sometimes inf / NaN /
 * subnormal / zero */
static uint16_t rand_f16(int specials)
{
  if (specials) {
    switch (tu_rand_below(12)) {
    case 0: return 0x7C00;
    case 1: return 0xFC00;
    case 2: return 0x7E00;
    case 3: return (uint16_t)(tu_rand_below(1024) | (tu_rand_below(2) << 15)); /* subnormal / 0 */
    default: break;
    }
  }
  uint16_t e = (uint16_t)(1 + tu_rand_below(30));
  return (uint16_t)((tu_rand_below(2) << 15) | (e << 10) | tu_rand_below(1024));
}

/* independent decoders */
static void ref_squeeze(const unsigned char *src, float *out, size_t nb)
{
  for (size_t b = 0; b < nb; b++) {
    const unsigned char *blk = src + 112 * b;
    for (size_t i = 0; i < 256; i++) {
      unsigned code = 0;
      for (int t = 0; t < 3; t++) {
        size_t bit = 3 * i + (size_t)t;
        code |= (unsigned)((blk[16 + bit / 8] >> (bit % 8)) & 1) << t;
      }
      out[256 * b + i] = (float)tu_h2d(tu_rd16(blk + 2 * code));
    }
  }
}

static void ref_awq(const unsigned char *packed, const unsigned char *zeros, const gllmk_f16 *sc,
                    float *out, size_t n, size_t k)
{
  size_t ng = k / 128, zb = (ng + 1) / 2;
  for (size_t r = 0; r < n; r++)
    for (size_t j = 0; j < k; j++) {
      size_t g = j / 128;
      int q = (int)tu_nib(packed + r * (k / 2), j), z = (int)tu_nib(zeros + r * zb, g);
      out[r * k + j] = (float)((double)(q - z) * tu_h2d(sc[r * ng + g].bits));
    }
}

static void ref_gptq(const unsigned char *packed, const int32_t *g_idx, const gllmk_f16 *sc,
                     size_t ng, float *out, size_t n, size_t k)
{
  for (size_t r = 0; r < n; r++)
    for (size_t j = 0; j < k; j++) {
      int q = (int)tu_nib(packed + r * (k / 2), j);
      out[r * k + j] = (float)((double)(q - 8) * tu_h2d(sc[r * ng + (size_t)g_idx[j]].bits));
    }
}

static void test_squeeze(int ii)
{
  const char *isa = tu_isa_name(ii);
  static const size_t nbs[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 1100 };
  tu_check c;
  tu_check_init(&c);
  for (size_t t = 0; t < sizeof nbs / sizeof nbs[0]; t++) {
    size_t nb = nbs[t], nv = 256 * nb;
    tu_buf src;
    tu_buf_alloc(&src, 112 * nb, (int)(t % 2));
    tu_fill_random(src.p, 112 * nb);
    for (size_t b = 0; b < nb; b++)
      for (int e = 0; e < 8; e++) tu_wr16(src.p + 112 * b + 2 * e, rand_f16(t % 3 == 1));
    float *exp = tu_xmalloc(nv * sizeof(float));
    ref_squeeze(src.p, exp, nb);
    tu_arr out;
    out_alloc(&out, nv, t % 4);
    char what[1024];
    snprintf(what, sizeof what, "squeezellm %s: %zu blocks", isa, nb);
    if (tu_check_status(&c, gllmk_dequant_squeezellm(src.p, out.p, nv), GLLMK_OK, "%s", what))
      cmp_exact(&c, out.p, exp, nv, what);
    tu_check_guards(&c, &out, what);
    tu_arr_poison(&out);
    if (tu_check_status(&c, gllmk_dequantize(GLLMK_SQUEEZELLM, src.p, 112 * nb, out.p, nv),
                        GLLMK_OK, "%s (gllmk_dequantize)", what))
      cmp_exact(&c, out.p, exp, nv, what);
    tu_check_guards(&c, &out, what);
    tu_check_true(&c, tu_buf_guards_ok(&src), "%s: source guards", what);
    tu_arr_free(&out);
    tu_buf_free(&src);
    free(exp);
  }
  /* a hand-built block: codebook 0.5*e - 1.75, codes i % 8, then 7 - i % 8 */
  {
    unsigned char blk[112];
    memset(blk, 0, sizeof blk);
    for (int e = 0; e < 8; e++) {
      float v = 0.5f * (float)e - 1.75f;
      gllmk_f16 h = gllmk_f32_to_f16(v);
      tu_wr16(blk + 2 * e, h.bits);
    }
    for (size_t i = 0; i < 256; i++) {
      unsigned code = i < 128 ? (unsigned)(i % 8) : (unsigned)(7 - i % 8);
      for (int t = 0; t < 3; t++)
        if (code >> t & 1) blk[16 + (3 * i + (size_t)t) / 8] |= (unsigned char)(1u << ((3 * i + (size_t)t) % 8));
    }
    float out[256];
    tu_check_status(&c, gllmk_dequant_squeezellm(blk, out, 256), GLLMK_OK, "hand-built block");
    for (size_t i = 0; i < 256; i++) {
      unsigned code = i < 128 ? (unsigned)(i % 8) : (unsigned)(7 - i % 8);
      if (!tu_check_true(&c, out[i] == 0.5f * (float)code - 1.75f,
                         "squeezellm %s hand-built: [%zu] = %g, expected %g", isa, i,
                         (double)out[i], 0.5 * code - 1.75))
        break;
    }
  }
  tu_check_done(&c, "squeezellm %s: 1..1100 blocks, special codebook entries, bit-exact", isa);
}

static void test_awq(int ii)
{
  const char *isa = tu_isa_name(ii);
  static const struct { size_t n, k; } sh[] = {
    { 1, 128 }, { 1, 256 }, { 3, 384 }, { 2, 640 }, { 5, 1024 }, { 17, 384 }, { 7, 1152 },
    { 300, 1152 }, { 1, 4096 },
  };
  tu_check c;
  tu_check_init(&c);
  for (size_t t = 0; t < sizeof sh / sizeof sh[0]; t++) {
    size_t n = sh[t].n, k = sh[t].k, ng = k / 128, zb = (ng + 1) / 2;
    tu_buf pk, zr, sc;
    tu_buf_alloc(&pk, n * k / 2, 0);
    tu_buf_alloc(&zr, n * zb, 1);
    tu_buf_alloc(&sc, n * ng * 2, 0);
    tu_fill_random(pk.p, pk.n);
    tu_fill_random(zr.p, zr.n); /* the unused high nibble of an odd count is random too */
    for (size_t i = 0; i < n * ng; i++) tu_wr16(sc.p + 2 * i, rand_f16(t % 2));
    float *exp = tu_xmalloc(n * k * sizeof(float));
    ref_awq(pk.p, zr.p, (const gllmk_f16 *)sc.p, exp, n, k);
    tu_arr out;
    out_alloc(&out, n * k, t % 4);
    char what[1024];
    snprintf(what, sizeof what, "awq4 %s: n=%zu k=%zu", isa, n, k);
    if (tu_check_status(&c, gllmk_dequant_awq4(pk.p, zr.p, (const gllmk_f16 *)sc.p, out.p, n, k),
                        GLLMK_OK, "%s", what))
      cmp_exact(&c, out.p, exp, n * k, what);
    tu_check_guards(&c, &out, what);
    tu_check_true(&c, tu_buf_guards_ok(&pk) && tu_buf_guards_ok(&zr) && tu_buf_guards_ok(&sc),
                  "%s: input guards",
                  what);
    tu_arr_free(&out);
    tu_buf_free(&pk);
    tu_buf_free(&zr);
    tu_buf_free(&sc);
    free(exp);
  }
  /* hand-built: row r, column j: q = (j + r) % 16, zero of group g = (g + 3r) % 16, scale 2^-g */
  {
    size_t n = 3, k = 384, ng = 3, zb = 2;
    unsigned char pk[3 * 192], zr[3 * 2];
    gllmk_f16 sc[9];
    memset(pk, 0, sizeof pk);
    memset(zr, 0, sizeof zr);
    for (size_t r = 0; r < n; r++) {
      for (size_t j = 0; j < k; j++) pk[r * 192 + j / 2] |= (unsigned char)(((j + r) % 16) << (4 * (j % 2)));
      for (size_t g = 0; g < ng; g++) {
        zr[r * zb + g / 2] |= (unsigned char)(((g + 3 * r) % 16) << (4 * (g % 2)));
        sc[r * ng + g] = gllmk_f32_to_f16(ldexpf(1.0f, -(int)g));
      }
    }
    float out[3 * 384];
    tu_check_status(&c, gllmk_dequant_awq4(pk, zr, sc, out, n, k), GLLMK_OK, "awq hand-built");
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < k; j++) {
        size_t g = j / 128;
        float e = (float)((int)((j + r) % 16) - (int)((g + 3 * r) % 16)) * ldexpf(1.0f, -(int)g);
        if (!tu_check_true(&c, out[r * k + j] == e, "awq4 %s hand-built [%zu][%zu] = %g, expected %g",
                           isa, r, j, (double)out[r * k + j], (double)e)) {
          r = n;
          break;
        }
      }
  }
  tu_check_done(&c, "awq4 %s: k 128..4096 incl. odd group counts (384, 640, 1152), special scales",
                isa);
}

static void test_gptq(int ii)
{
  const char *isa = tu_isa_name(ii);
  /* mode 0: j / gs; 1: perm[j / gs] (permuted groups); 2: random per column
   * (act order); 3: random with unused groups (n_groups larger) */
  static const struct { size_t n, k, gs; int mode; } sh[] = {
    { 1, 2, 2, 0 },     { 2, 34, 16, 2 },  { 1, 128, 128, 0 }, { 3, 256, 128, 0 },
    { 3, 256, 32, 1 },  { 4, 384, 128, 1 }, { 5, 256, 64, 2 },  { 2, 1024, 128, 2 },
    { 7, 130, 10, 3 },  { 300, 1024, 128, 1 }, { 257, 768, 32, 2 },
  };
  tu_check c;
  tu_check_init(&c);
  for (size_t t = 0; t < sizeof sh / sizeof sh[0]; t++) {
    size_t n = sh[t].n, k = sh[t].k, gs = sh[t].gs, ng = (k + gs - 1) / gs;
    if (sh[t].mode == 3) ng += 5;
    tu_buf pk, sc;
    tu_buf_alloc(&pk, n * k / 2, 1);
    tu_buf_alloc(&sc, n * ng * 2, 0);
    int32_t *g = tu_xmalloc(k * sizeof *g);
    uint32_t *perm = tu_xmalloc(ng * sizeof *perm);
    tu_permutation_u32(perm, ng);
    for (size_t j = 0; j < k; j++) {
      switch (sh[t].mode) {
      case 0: g[j] = (int32_t)(j / gs); break;
      case 1: g[j] = (int32_t)perm[j / gs]; break;
      default: g[j] = (int32_t)tu_rand_below(ng); break;
      }
    }
    tu_fill_random(pk.p, pk.n);
    for (size_t i = 0; i < n * ng; i++) tu_wr16(sc.p + 2 * i, rand_f16(t % 2));
    float *exp = tu_xmalloc(n * k * sizeof(float));
    ref_gptq(pk.p, g, (const gllmk_f16 *)sc.p, ng, exp, n, k);
    tu_arr out;
    out_alloc(&out, n * k, t % 4);
    char what[1024];
    snprintf(what, sizeof what, "gptq4 %s: n=%zu k=%zu groups=%zu g_idx mode %d", isa, n, k, ng,
             sh[t].mode);
    if (tu_check_status(&c, gllmk_dequant_gptq4(pk.p, g, (const gllmk_f16 *)sc.p, ng, out.p, n, k),
                        GLLMK_OK, "%s", what))
      cmp_exact(&c, out.p, exp, n * k, what);
    tu_check_guards(&c, &out, what);
    tu_check_true(&c, tu_buf_guards_ok(&pk) && tu_buf_guards_ok(&sc), "%s: input guards", what);
    tu_arr_free(&out);
    tu_buf_free(&pk);
    tu_buf_free(&sc);
    free(g);
    free(perm);
    free(exp);
  }
  /* hand-built act order: k = 256, 2 groups, g_idx alternates 1, 0; q = j % 16;
   * scales row r: group 0 = 1, group 1 = -0.25 * (r + 1) */
  {
    size_t n = 2, k = 256;
    unsigned char pk[2 * 128];
    int32_t g[256];
    gllmk_f16 sc[4];
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < k; j += 2) pk[r * 128 + j / 2] = (unsigned char)((j % 16) | ((j + 1) % 16) << 4);
    for (size_t j = 0; j < k; j++) g[j] = (int32_t)((j + 1) % 2);
    for (size_t r = 0; r < n; r++) {
      sc[2 * r] = gllmk_f32_to_f16(1.0f);
      sc[2 * r + 1] = gllmk_f32_to_f16(-0.25f * (float)(r + 1));
    }
    float out[512];
    tu_check_status(&c, gllmk_dequant_gptq4(pk, g, sc, 2, out, n, k), GLLMK_OK, "gptq hand-built");
    for (size_t r = 0; r < n; r++)
      for (size_t j = 0; j < k; j++) {
        float s = g[j] ? -0.25f * (float)(r + 1) : 1.0f;
        float e = (float)((int)(j % 16) - 8) * s;
        if (!tu_check_true(&c, out[r * k + j] == e, "gptq4 %s hand-built [%zu][%zu] = %g, expected %g",
                           isa, r, j, (double)out[r * k + j], (double)e)) {
          r = n;
          break;
        }
      }
  }
  tu_check_done(&c, "gptq4 %s: sequential, permuted-group and act-order g_idx, k 2..1024, bit-exact",
                isa);
}

/* ------------------------------------------------------------------ bad input */
static void test_bad_input(void)
{
  tu_check c;
  tu_check_init(&c);
  BC = &c;
  char d[1024];
  for (int fi = 0; fi < NFMT + 1; fi++) {
    /* NFMT: SqueezeLLM */
    const fmt sq = { "squeezellm", GLLMK_SQUEEZELLM, 256, 112, gllmk_dequant_squeezellm, SC_F16, 0, -1 };
    const fmt *f = fi < NFMT ? &FMTS[fi] : &sq;
    size_t nb = 4, nv = nb * f->bs;
    tu_buf src;
    tu_arr out;
    tu_buf_alloc(&src, nb * f->bb, 1);
    tu_fill_random(src.p, src.n);
    out_alloc(&out, nv, 1);
    tu_watch_clear();
    tu_watch(src.mem, src.mem_bytes);
    tu_watch(out.mem, out.mem_bytes);
    const char *nm = f->name;
#define E(want, DESC, EXPR) do { snprintf(d, sizeof d, "%s: %s", nm, DESC); EXPECT(want, d, EXPR); } while (0)
    E(GLLMK_E_INVAL, "deq src NULL", f->deq(NULL, out.p, nv));
    E(GLLMK_E_INVAL, "deq out NULL", f->deq(src.p, NULL, nv));
    E(GLLMK_E_INVAL, "deq n = 1", f->deq(src.p, out.p, 1));
    E(GLLMK_E_INVAL, "deq n = bs/2", f->deq(src.p, out.p, f->bs / 2));
    E(GLLMK_E_INVAL, "deq n = bs+1", f->deq(src.p, out.p, f->bs + 1));
    E(GLLMK_E_INVAL, "deq n = 4bs-1", f->deq(src.p, out.p, nv - 1));
    E(GLLMK_OK, "deq n = 0, NULL pointers", f->deq(NULL, NULL, 0));
    E(GLLMK_E_INVAL, "dequantize src NULL", gllmk_dequantize(f->t, NULL, src.n, out.p, nv));
    E(GLLMK_E_INVAL, "dequantize out NULL", gllmk_dequantize(f->t, src.p, src.n, NULL, nv));
    E(GLLMK_E_INVAL, "dequantize src_bytes one short",
      gllmk_dequantize(f->t, src.p, src.n - 1, out.p, nv));
    E(GLLMK_E_INVAL, "dequantize src_bytes 0", gllmk_dequantize(f->t, src.p, 0, out.p, nv));
    E(GLLMK_E_INVAL, "dequantize 1 block, src_bytes bb-1",
      gllmk_dequantize(f->t, src.p, f->bb - 1, out.p, f->bs));
    E(GLLMK_E_INVAL, "dequantize n = bs+1", gllmk_dequantize(f->t, src.p, src.n, out.p, f->bs + 1));
    E(GLLMK_E_INVAL, "dequantize n = 4bs-1", gllmk_dequantize(f->t, src.p, src.n, out.p, nv - 1));
    E(GLLMK_OK, "dequantize n = 0, NULL pointers", gllmk_dequantize(f->t, NULL, 0, NULL, 0));
    size_t nmax = SIZE_MAX - SIZE_MAX % f->bs;
    E(GLLMK_E_OVERFLOW, "deq n = SIZE_MAX rounded to a block", f->deq(src.p, out.p, nmax));
    E(GLLMK_E_OVERFLOW, "dequantize n = SIZE_MAX rounded, src_bytes = SIZE_MAX",
      gllmk_dequantize(f->t, src.p, SIZE_MAX, out.p, nmax));
    size_t nhalf = (SIZE_MAX / 4 + 1) + f->bs - (SIZE_MAX / 4 + 1) % f->bs; /* n * 4 overflows */
    E(GLLMK_E_OVERFLOW, "deq n = 2^62 rounded up to a block", f->deq(src.p, out.p, nhalf));
#undef E
    tu_buf_free(&src);
    tu_arr_free(&out);
    tu_check_done(&c, "%s: NULL, n not a block multiple, short src_bytes, overflow, n = 0", nm);
  }

  /* types gllmk_dequantize does not decode */
  {
    tu_buf src;
    tu_arr out;
    tu_buf_alloc(&src, 4096, 1);
    tu_fill_random(src.p, src.n);
    out_alloc(&out, 1024, 1);
    tu_watch_clear();
    tu_watch(src.mem, src.mem_bytes);
    tu_watch(out.mem, out.mem_bytes);
    EXPECT(GLLMK_E_UNSUPPORTED, "dequantize AWQ4", gllmk_dequantize(GLLMK_AWQ4, src.p, 4096, out.p, 1024));
    EXPECT(GLLMK_E_UNSUPPORTED, "dequantize GPTQ4", gllmk_dequantize(GLLMK_GPTQ4, src.p, 4096, out.p, 1024));
    static const int bad_t[] = { 0, 1, 4, 5, 9, 24, 30, 199, 203, 999, -1 };
    for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++) {
      snprintf(d, sizeof d, "dequantize qtype %d", bad_t[i]);
      EXPECT(GLLMK_E_UNSUPPORTED, d, gllmk_dequantize((gllmk_qtype)bad_t[i], src.p, 4096, out.p, 256));
    }
    tu_buf_free(&src);
    tu_arr_free(&out);
    tu_check_done(&c, "gllmk_dequantize: AWQ4, GPTQ4 and unknown qtypes are UNSUPPORTED");
  }

  /* AWQ4 */
  {
    size_t n = 3, k = 384;
    tu_buf pk, zr, sc;
    tu_arr out;
    tu_buf_alloc(&pk, n * k / 2, 0);
    tu_buf_alloc(&zr, n * 2, 0);
    tu_buf_alloc(&sc, n * 3 * 2, 0);
    tu_fill_random(pk.p, pk.n);
    tu_fill_random(zr.p, zr.n);
    for (size_t i = 0; i < n * 3; i++) tu_wr16(sc.p + 2 * i, 0x3C00);
    out_alloc(&out, n * k, 1);
    tu_watch_clear();
    tu_watch(pk.mem, pk.mem_bytes);
    tu_watch(zr.mem, zr.mem_bytes);
    tu_watch(sc.mem, sc.mem_bytes);
    tu_watch(out.mem, out.mem_bytes);
    const gllmk_f16 *S = (const gllmk_f16 *)sc.p;
    EXPECT(GLLMK_E_INVAL, "awq4 packed NULL", gllmk_dequant_awq4(NULL, zr.p, S, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "awq4 zeros NULL", gllmk_dequant_awq4(pk.p, NULL, S, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "awq4 scales NULL", gllmk_dequant_awq4(pk.p, zr.p, NULL, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "awq4 out NULL", gllmk_dequant_awq4(pk.p, zr.p, S, NULL, n, k));
    EXPECT(GLLMK_E_INVAL, "awq4 k = 64", gllmk_dequant_awq4(pk.p, zr.p, S, out.p, n, 64));
    EXPECT(GLLMK_E_INVAL, "awq4 k = 200", gllmk_dequant_awq4(pk.p, zr.p, S, out.p, 2, 200));
    EXPECT(GLLMK_E_INVAL, "awq4 k = 383", gllmk_dequant_awq4(pk.p, zr.p, S, out.p, 1, 383));
    EXPECT(GLLMK_OK, "awq4 n = 0, NULL", gllmk_dequant_awq4(NULL, NULL, NULL, NULL, 0, 128));
    EXPECT(GLLMK_OK, "awq4 k = 0, NULL", gllmk_dequant_awq4(NULL, NULL, NULL, NULL, 5, 0));
    EXPECT(GLLMK_E_OVERFLOW, "awq4 n * k overflows",
           gllmk_dequant_awq4(pk.p, zr.p, S, out.p, SIZE_MAX / 64, 128));
    EXPECT(GLLMK_E_OVERFLOW, "awq4 n * k * 4 overflows",
           gllmk_dequant_awq4(pk.p, zr.p, S, out.p, 1, SIZE_MAX - SIZE_MAX % 128));
    EXPECT(GLLMK_E_OVERFLOW, "awq4 n * k * 4 overflows (n = 2^56)",
           gllmk_dequant_awq4(pk.p, zr.p, S, out.p, (size_t)1 << 56, 128));
    tu_buf_free(&pk);
    tu_buf_free(&zr);
    tu_buf_free(&sc);
    tu_arr_free(&out);
    tu_check_done(&c, "gllmk_dequant_awq4: NULL, k not a multiple of 128, overflow, empty");
  }

  /* GPTQ4 */
  {
    size_t n = 3, k = 256, ng = 2;
    tu_buf pk, sc;
    tu_arr out;
    tu_buf_alloc(&pk, n * k / 2, 0);
    tu_buf_alloc(&sc, n * ng * 2, 0);
    tu_fill_random(pk.p, pk.n);
    for (size_t i = 0; i < n * ng; i++) tu_wr16(sc.p + 2 * i, 0x3C00);
    int32_t *g = tu_xmalloc(k * sizeof *g);
    for (size_t j = 0; j < k; j++) g[j] = (int32_t)(j / 128);
    out_alloc(&out, n * k, 1);
    tu_watch_clear();
    tu_watch(pk.mem, pk.mem_bytes);
    tu_watch(sc.mem, sc.mem_bytes);
    tu_watch(g, k * sizeof *g);
    tu_watch(out.mem, out.mem_bytes);
    const gllmk_f16 *S = (const gllmk_f16 *)sc.p;
    EXPECT(GLLMK_E_INVAL, "gptq4 packed NULL", gllmk_dequant_gptq4(NULL, g, S, ng, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "gptq4 g_idx NULL", gllmk_dequant_gptq4(pk.p, NULL, S, ng, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "gptq4 scales NULL", gllmk_dequant_gptq4(pk.p, g, NULL, ng, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "gptq4 out NULL", gllmk_dequant_gptq4(pk.p, g, S, ng, NULL, n, k));
    EXPECT(GLLMK_E_INVAL, "gptq4 k odd", gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, n, 255));
    EXPECT(GLLMK_E_INVAL, "gptq4 n_groups 0", gllmk_dequant_gptq4(pk.p, g, S, 0, out.p, n, k));
    EXPECT(GLLMK_E_INVAL, "gptq4 g_idx = n_groups (all)",
           gllmk_dequant_gptq4(pk.p, g, S, 1, out.p, n, k));
    static const size_t pos[] = { 0, 1, 100, 255 };
    for (size_t i = 0; i < 4; i++) {
      int32_t save = g[pos[i]];
      g[pos[i]] = -1;
      tu_watch_clear();
      tu_watch(pk.mem, pk.mem_bytes);
      tu_watch(out.mem, out.mem_bytes);
      snprintf(d, sizeof d, "gptq4 g_idx[%zu] = -1", pos[i]);
      EXPECT(GLLMK_E_INVAL, d, gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, n, k));
      g[pos[i]] = (int32_t)ng;
      snprintf(d, sizeof d, "gptq4 g_idx[%zu] = n_groups", pos[i]);
      EXPECT(GLLMK_E_INVAL, d, gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, n, k));
      g[pos[i]] = INT32_MIN;
      snprintf(d, sizeof d, "gptq4 g_idx[%zu] = INT32_MIN", pos[i]);
      EXPECT(GLLMK_E_INVAL, d, gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, n, k));
      g[pos[i]] = save;
    }
    tu_watch_clear();
    tu_watch(pk.mem, pk.mem_bytes);
    tu_watch(out.mem, out.mem_bytes);
    tu_watch(g, k * sizeof *g);
    EXPECT(GLLMK_OK, "gptq4 n = 0, NULL", gllmk_dequant_gptq4(NULL, NULL, NULL, 0, NULL, 0, 256));
    EXPECT(GLLMK_OK, "gptq4 k = 0, NULL", gllmk_dequant_gptq4(NULL, NULL, NULL, 0, NULL, 4, 0));
    EXPECT(GLLMK_E_OVERFLOW, "gptq4 n * k overflows",
           gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, SIZE_MAX / 128, k));
    EXPECT(GLLMK_E_OVERFLOW, "gptq4 n * n_groups overflows",
           gllmk_dequant_gptq4(pk.p, g, S, SIZE_MAX / 2, out.p, 3, k));
    EXPECT(GLLMK_E_OVERFLOW, "gptq4 n * k * 4 overflows (n = 2^56)",
           gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, (size_t)1 << 56, k));
    EXPECT(GLLMK_E_OVERFLOW, "gptq4 k * 4 overflows (n = 1, k = SIZE_MAX - 1)",
           gllmk_dequant_gptq4(pk.p, g, S, ng, out.p, 1, SIZE_MAX - 1));
    free(g);
    tu_buf_free(&pk);
    tu_buf_free(&sc);
    tu_arr_free(&out);
    tu_check_done(&c, "gllmk_dequant_gptq4: NULL, odd k, g_idx out of range, overflow, empty");
  }
  tu_watch_clear();
}

/* ------------------------------------------------------------------ main */
int main(void)
{
  tu_init();
  test_metadata();
  /* forked calls before any OpenMP team exists */
  test_bad_input();
  tu_isa_count(); /* the runnable ISAs, skip points for the others */
  load_vectors();
  for (int ii = 0; ii < tu_isa_count(); ii++) {
    tu_isa_set(ii);
    for (int fi = 0; fi < NFMT; fi++) {
      test_vectors(fi, ii);
      test_special_scales(fi, ii);
    }
    test_squeeze(ii);
    test_awq(ii);
    test_gptq(ii);
  }
  gllmk_cpu_set_isa("auto");
  for (int fi = 0; fi < NFMT; fi++) {
    for (int cs = 0; cs < NCASE; cs++) tv_close(FD[fi].tv[cs]);
    free(FD[fi].big_src);
    free(FD[fi].big_exp);
  }
  return done_testing();
}
