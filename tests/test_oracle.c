/* test_oracle.c -- gllmk's models against llama.cpp on the same GGUF files
 * SPDX-License-Identifier: MIT
 *
 * tests/data/models holds small random-weight GGUF models (llama, qwen2,
 * qwen3; f32, f16, Q8_0, Q4_K_M, Q6_K; llama-3 rope factors; tied output)
 * and the logits llama.cpp gave for them (tools/gen-model-oracle.py, which
 * ran llama-cpp-python; see tests/data/models/README).  Each model is loaded
 * with gllmk_model_load_gguf on the CPU backend, the prompt is prefilled
 * (logits of every row) and llama.cpp's generated tokens are decoded one at
 * a time; every row is compared with llama.cpp's.
 *
 * Bounds, relative to the spread (max - min) of llama.cpp's row:
 *  - f32 weights: 1e-3 (both sides compute in f32; what differs is the order
 *    of the sums, ~1e-7 measured).
 *  - f16 weights: 1e-3 (llama.cpp rounds the activations of an f16 matmul to
 *    f16, gllmk keeps f32: 2^-11 relative per value; 3.5e-4 measured).
 *  - Q8_0, Q4_K, Q6_K weights: 4e-2.  Both sides quantize the activations of
 *    decode-sized matmuls to int8, llama.cpp per 32 (Q8_0) or per 256 (Q8_K)
 *    values and gllmk per 32: each rounding moves a value by at most a/254
 *    (a: its block's largest magnitude), i.e. a relative error of ~2^-8 per
 *    matmul input on each side, compounded over 7 matmuls a layer and
 *    amplified by the attention softmax; the weights are bit-identical.  The
 *    generator's numpy reference measured 1.5e-2 between f32 activations and
 *    llama.cpp's; the bound leaves a factor ~2 for gllmk's own rounding.
 * The argmax must agree on at least 99% of the rows over all models, and on
 * every row of the f32 models.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *field(const char *line, const char *key, char *out, size_t n)
{
  size_t kl = strlen(key);
  for (const char *p = line; (p = strstr(p, key)) != NULL; p += kl) {
    if ((p == line || p[-1] == ' ') && p[kl] == '=') {
      p += kl + 1;
      size_t i = 0;
      while (p[i] && p[i] != ' ' && p[i] != '\n' && i + 1 < n) {
        out[i] = p[i];
        i++;
      }
      out[i] = 0;
      return out;
    }
  }
  out[0] = 0;
  return NULL;
}

static size_t parse_ids(const char *s, int32_t *ids, size_t max)
{
  size_t n = 0;
  while (*s && n < max) {
    ids[n++] = (int32_t)strtol(s, (char **)&s, 10);
    if (*s == ',')
      s++;
  }
  return n;
}

static float *read_logits(const char *path, size_t n)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  float *d = malloc(n * sizeof *d);
  size_t got = d ? fread(d, sizeof *d, n, f) : 0;
  fclose(f);
  if (got != n) {
    free(d);
    return NULL;
  }
  return d;   /* little-endian f32, as the test machines are */
}

static size_t argmax(const float *x, size_t n)
{
  size_t b = 0;
  for (size_t j = 1; j < n; j++)
    if (x[j] > x[b])
      b = j;
  return b;
}

int main(void)
{
  tu_init_seed_only();
  const char *top = getenv("top_srcdir");
  char dir[1024], path[1400], line[8192];
  snprintf(dir, sizeof dir, "%s/tests/data/models", top ? top : ".");
  snprintf(path, sizeof path, "%s/MANIFEST", dir);
  FILE *mf = fopen(path, "r");
  if (!mf) {
    printf("Bail out! cannot open %s\n", path);
    return 1;
  }
  gllmk_backend *be = NULL;
  if (gllmk_backend_open("cpu", &be) != GLLMK_OK) {
    printf("Bail out! no cpu backend\n");
    return 1;
  }
  size_t rows_all = 0, agree_all = 0, models = 0;
  while (fgets(line, sizeof line, mf)) {
    if (line[0] == '#' || line[0] == '\n')
      continue;
    char name[128], file[256], lfile[256], fmt[32], buf[2048];
    field(line, "name", name, sizeof name);
    field(line, "file", file, sizeof file);
    field(line, "logits", lfile, sizeof lfile);
    field(line, "format", fmt, sizeof fmt);
    size_t V = (size_t)atol(field(line, "vocab", buf, sizeof buf) ? buf : "0");
    size_t np = (size_t)atol(field(line, "n_prompt", buf, sizeof buf) ? buf : "0");
    size_t ng = (size_t)atol(field(line, "n_gen", buf, sizeof buf) ? buf : "0");
    size_t pos0 = (size_t)atol(field(line, "pos0", buf, sizeof buf) ? buf : "0");
    int32_t prompt[256], gen[256];
    if (np != parse_ids(field(line, "prompt", buf, sizeof buf) ? buf : "", prompt, 256) ||
        ng != parse_ids(field(line, "generated", buf, sizeof buf) ? buf : "", gen, 256) ||
        !V || !np || np + ng > 256) {
      ok(0, "%s: a malformed MANIFEST line", name);
      continue;
    }
    int is_float = !strcmp(fmt, "f32") || !strcmp(fmt, "f16");
    double bound = is_float ? 1e-3 : 4e-2;
    models++;
    snprintf(path, sizeof path, "%s/%s", dir, lfile);
    float *ref = read_logits(path, (np + ng) * V);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    gllmk_model *m = NULL;
    gllmk_kv_cache *kv = NULL;
    gllmk_model_params mp = { .max_batch = 64 };
    gllmk_status st = ref ? gllmk_model_load_gguf(be, path, &mp, &m) : GLLMK_E_INVAL;
    if (st == GLLMK_OK)
      st = gllmk_kv_cache_create(m, 1, pos0 + np + ng + 1, 16, 0, &kv);
    if (st != GLLMK_OK) {
      ok(0, "%s: load (%s: %s)", name, gllmk_strerror(st), gllmk_model_error_message());
      free(ref);
      gllmk_model_free(m);
      continue;
    }
    if (pos0) {   /* tools/gen-model-oracle.py starts every prompt at 0 */
      ok(0, "%s: pos0 %zu: the test feeds prompts from position 0", name, pos0);
      gllmk_kv_cache_free(kv);
      gllmk_model_free(m);
      free(ref);
      continue;
    }
    float *lg = tu_xmalloc((np + ng) * V * sizeof *lg);
    gllmk_batch_entry b[256];
    int32_t rows[256];
    for (size_t i = 0; i < np; i++) {
      b[i] = (gllmk_batch_entry){ prompt[i], (int32_t)i, 0, GLLMK_PARENT_NONE };
      rows[i] = (int32_t)i;
    }
    st = gllmk_model_forward(m, kv, b, np, rows, np);
    if (st == GLLMK_OK)
      st = gllmk_model_read_logits(m, 0, np, lg);
    for (size_t k = 0; k < ng && st == GLLMK_OK; k++) {
      gllmk_batch_entry e = { gen[k], (int32_t)(np + k), 0, GLLMK_PARENT_NONE };
      int32_t r0 = 0;
      st = gllmk_model_forward(m, kv, &e, 1, &r0, 1);
      if (st == GLLMK_OK)
        st = gllmk_model_read_logits(m, 0, 1, lg + (np + k) * V);
    }
    double worst = 0;
    size_t agree = 0, n = np + ng;
    for (size_t r = 0; st == GLLMK_OK && r < n; r++) {
      const float *a = lg + r * V, *o = ref + r * V;
      double lo = INFINITY, hi = -INFINITY, e = 0;
      for (size_t j = 0; j < V; j++) {
        lo = o[j] < lo ? o[j] : lo;
        hi = o[j] > hi ? o[j] : hi;
        double d = fabs((double)a[j] - o[j]);
        e = d > e || d != d ? d : e;
      }
      e /= hi - lo;
      worst = e > worst ? e : worst;
      agree += argmax(a, V) == argmax(o, V);
    }
    rows_all += n, agree_all += agree;
    ok(st == GLLMK_OK && worst <= bound && (!is_float || agree == n),
       "%s (%s): %zu prefill + %zu decode rows vs llama.cpp: max |diff| %.2e of the spread "
       "(bound %.0e), argmax %zu/%zu", name, fmt, np, ng, worst, bound, agree, n);
    if (st != GLLMK_OK)
      diag("%s: %s", gllmk_strerror(st), gllmk_model_error_message());
    free(lg);
    free(ref);
    gllmk_kv_cache_free(kv);
    gllmk_model_free(m);
  }
  fclose(mf);
  ok(models >= 11, "%zu models in the MANIFEST", models);
  ok(agree_all * 100 >= rows_all * 99, "argmax agrees with llama.cpp on %zu of %zu rows (>= 99%%)",
     agree_all, rows_all);
  gllmk_backend_close(be);
  return done_testing();
}
