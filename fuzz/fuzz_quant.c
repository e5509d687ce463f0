/* fuzz_quant.c -- libFuzzer target: arbitrary bytes and shapes into the
 * dequantizers and the quantized matmuls, on every runnable ISA.
 * SPDX-License-Identifier: MIT
 *
 * Input: 6 header bytes (operation, format, m, n, k blocks, flags), then
 * the weight bytes (possibly too few: the library must say so, not read
 * past them).  Every buffer is allocated at its exact size, so ASan sees
 * any access outside it.  Checked on top of "no crash, no sanitizer report":
 *  - every ISA returns the same status as the scalar one;
 *  - dequantization is bit-identical on every ISA;
 *  - on success the outputs are finite or agree in class across ISAs.
 * Built with --enable-fuzz (clang -fsanitize=fuzzer); .ci/run runs it.
 */
#include <gllmk.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gllmk_qtype types[] = {
#define GLLMK_QFMT(tok, QT, ...) GLLMK_##QT,
#include "quant/qformats.def"
#undef GLLMK_QFMT
  GLLMK_SQUEEZELLM, GLLMK_AWQ4, GLLMK_GPTQ4, (gllmk_qtype)999,
};
#define NTYPES (sizeof types / sizeof types[0])
#define MAX_ISAS 8

static char isas[MAX_ISAS][16];
static int nisas;

static void init_isas(void) {
  if (nisas) return;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", gllmk_cpu_isa_compiled());
  for (char *t = strtok(buf, " "); t && nisas < MAX_ISAS; t = strtok(NULL, " "))
    if (gllmk_cpu_isa_check(t) == GLLMK_OK) snprintf(isas[nisas++], sizeof isas[0], "%s", t);
  gllmk_set_num_threads(1);
}

static void *dup_exact(const uint8_t *p, size_t n) {
  void *d = malloc(n ? n : 1);
  if (n) memcpy(d, p, n);
  return d;
}

static void same_bits(const float *a, const float *b, size_t n) {
  if (memcmp(a, b, n * sizeof(float)) != 0) {
    fprintf(stderr, "fuzz_quant: dequantization differs between ISAs\n");
    abort();
  }
}

/* one run of the selected operation; returns the status, output in *out */
static gllmk_status run(int op, gllmk_qtype t, const uint8_t *w, size_t wb, size_t m, size_t n, size_t k,
                        unsigned flags, float *out, size_t out_n, const float *x) {
  switch (op) {
  case 0: /* generic dequantize of out_n values */
    return gllmk_dequantize(t, w, wb, out, out_n);
  case 1: /* decode-shape or prefill matmul */
    return gllmk_fused_dequant_gemv_f32(w, wb, x, out, t, m, n, k);
  case 2: { /* AWQ4: packed, then zeros, then scales taken from the weight bytes */
    size_t pk = n * (k / 2), zb = n * ((k / 128 + 1) / 2), sb = n * (k / 128) * 2;
    if (k % 128 || wb < pk + zb + sb)   /* too few bytes for the side arrays: make it refuse */
      return gllmk_awq_matmul_f32(w, pk ? pk - 1 : 0, w, (const gllmk_f16 *)w, x, out, m, n, k);
    return gllmk_awq_matmul_f32(w, pk, w + pk, (const gllmk_f16 *)(w + pk + zb), x, out, m, n, k);
  }
  case 3: { /* GPTQ4: g_idx from the bytes (often out of range: must be refused) */
    size_t groups = (flags & 7) + 1, pk = n * (k / 2);
    int32_t *g = malloc((k ? k : 1) * sizeof *g);
    gllmk_f16 *s = malloc((n * groups != 0 ? n * groups : 1) * sizeof *s);
    for (size_t j = 0; j < k; j++) g[j] = j < wb ? (int32_t)(w[j] % (groups + (flags & 8 ? 1 : 0))) : 0;
    for (size_t j = 0; j < n * groups; j++) s[j].bits = (uint16_t)(j < wb ? 0x2000 | w[j] : 0x3c00);
    gllmk_status st = gllmk_gptq_matmul_f32(w, wb < pk ? wb : pk, g, s, groups, x, out, m, n, k);
    free(g);
    free(s);
    return st;
  }
  default: { /* int8 / int4 rows with scales */
    float *sc = malloc((n ? n : 1) * sizeof *sc);
    for (size_t j = 0; j < n; j++) sc[j] = 0.01f * (float)(j + 1);
    gllmk_status st = flags & 1 ? gllmk_gemm_q8_f32((const int8_t *)w, wb, x, out, sc, m, n, k)
                                : gllmk_gemm_q4_f32(w, wb, x, out, sc, m, n, k);
    free(sc);
    return st;
  }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 6) return 0;
  init_isas();
  int op = data[0] % 5;
  gllmk_qtype t = types[data[1] % NTYPES];
  size_t m = data[2] % 21, n = data[3] % 17;
  size_t bs = gllmk_qtype_block_size(t) ? gllmk_qtype_block_size(t) : 32;
  size_t k = (data[4] % 5) * (op >= 2 ? 128 : bs) + (data[4] & 0x80 ? 1 : 0) * (data[5] & 0x40 ? 2 : 1);
  unsigned flags = data[5];
  const uint8_t *wsrc = data + 6;
  size_t wb = size - 6;
  uint8_t *w = dup_exact(wsrc, wb);
  size_t out_n = op == 0 ? (wb / (gllmk_qtype_block_bytes(t) ? gllmk_qtype_block_bytes(t) : 1) + (flags & 1)) * bs
                         : m * n;
  float *x = malloc((m * k != 0 ? m * k : 1) * sizeof *x);
  for (size_t i = 0; i < m * k; i++) x[i] = (float)((int)(i * 37 % 19) - 9) * 0.125f;
  if (flags & 0x20 && m * k != 0) x[0] = NAN;
  float *ref = malloc((out_n ? out_n : 1) * sizeof *ref), *out = malloc((out_n ? out_n : 1) * sizeof *out);
  gllmk_status st0 = GLLMK_OK;
  for (int i = 0; i < nisas; i++) {
    gllmk_cpu_set_isa(isas[i]);
    gllmk_status st = run(op, t, w, wb, m, n, k, flags, i ? out : ref, out_n, x);
    if (i == 0) {
      st0 = st;
    } else if (st != st0) {
      fprintf(stderr, "fuzz_quant: status %d on %s, %d on %s\n", (int)st, isas[i], (int)st0, isas[0]);
      abort();
    } else if (st == GLLMK_OK && op == 0) {
      same_bits(ref, out, out_n);
    }
  }
  gllmk_cpu_set_isa("auto");
  free(ref);
  free(out);
  free(x);
  free(w);
  return 0;
}
