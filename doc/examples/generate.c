/* generate.c -- load a GGUF model, prefill a prompt, decode with sampling
 * SPDX-License-Identifier: MIT
 *
 * The model-level API in full: the weights go to the backend once, the KV
 * cache is allocated once, and each decode step moves one token id up and
 * one token id down; the logits stay on the backend and are sampled there.
 *
 *   generate MODEL.gguf [ID,ID,... [N [TEMPERATURE [SEED]]]]
 *
 * prints the N generated ids (default 16, greedy when TEMPERATURE is 0, the
 * default), comma-separated.  The backend is "auto": CUDA when a device is
 * there (and has the ops), else the CPU.
 *
 * Build (installed library):
 *   cc generate.c $(pkg-config --cflags --libs gllmk) -o generate
 */
#include <gllmk.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                      \
  do {                                                                                   \
    gllmk_status st_ = (call);                                                           \
    if (st_ != GLLMK_OK) {                                                               \
      fprintf(stderr, "%s: %s (%s)\n", #call, gllmk_strerror(st_), gllmk_model_error_message()); \
      return 1;                                                                          \
    }                                                                                    \
  } while (0)

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: generate MODEL.gguf [ID,ID,... [N [TEMPERATURE [SEED]]]]\n");
    return 2;
  }
  const char *prompt_text = argc > 2 ? argv[2] : "1,2,3,4";
  size_t n_predict = argc > 3 ? strtoul(argv[3], NULL, 10) : 16;
  gllmk_sampling sp = { 0.0f, 40, 0.95f, 0.05f, 1.0f, 0, 0 };   /* top-k 40, top-p 0.95, min-p 0.05 */
  if (argc > 4)
    sp.temperature = strtof(argv[4], NULL);
  if (argc > 5)
    sp.seed = strtoull(argv[5], NULL, 10);

  /* the prompt: token ids (tokenizing is the caller's job) */
  int32_t prompt[512];
  size_t n = 0;
  for (char *p = (char *)prompt_text; *p && n < 512; p += *p == ',') {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) {
      fprintf(stderr, "not a token id list: %s\n", prompt_text);
      return 2;
    }
    prompt[n++] = (int32_t)v;
    p = end;
  }

  gllmk_backend *be;
  gllmk_model *model;
  gllmk_kv_cache *kv;
  gllmk_model_params params = { .max_batch = 512 };   /* up to 512 tokens a forward pass */
  CHECK(gllmk_backend_open("auto", &be));
  gllmk_status st = gllmk_model_load_gguf(be, argv[1], &params, &model);
  if (st == GLLMK_E_UNSUPPORTED && strcmp(gllmk_backend_name(be), "cpu") != 0) {
    /* a backend without every op the model needs: run it on the CPU */
    fprintf(stderr, "%s: %s; using the CPU\n", gllmk_backend_name(be), gllmk_model_error_message());
    gllmk_backend_close(be);
    CHECK(gllmk_backend_open("cpu", &be));
    st = gllmk_model_load_gguf(be, argv[1], &params, &model);
  }
  CHECK(st);
  /* one sequence of up to prompt + n_predict tokens, pages of 16 */
  CHECK(gllmk_kv_cache_create(model, 1, n + n_predict, 16, 0, &kv));

  /* prefill: the whole prompt in one batch; logits of its last token only */
  gllmk_batch_entry batch[512];
  for (size_t i = 0; i < n; i++)
    batch[i] = (gllmk_batch_entry){ prompt[i], (int32_t)i, 0, GLLMK_PARENT_NONE };
  int32_t last = (int32_t)n - 1, zero = 0, token;
  CHECK(gllmk_model_forward(model, kv, batch, n, &last, 1));
  CHECK(gllmk_model_sample(model, kv, &sp, &token));

  /* decode: one token at a time (replayed from a recorded graph) */
  for (size_t k = 0; k < n_predict; k++) {
    printf("%s%d", k ? "," : "", token);
    if (k + 1 == n_predict)
      break;
    gllmk_batch_entry e = { token, (int32_t)(n + k), 0, GLLMK_PARENT_NONE };
    CHECK(gllmk_model_forward(model, kv, &e, 1, &zero, 1));
    CHECK(gllmk_model_sample(model, kv, &sp, &token));
  }
  printf("\n");

  gllmk_kv_cache_free(kv);
  gllmk_model_free(model);
  gllmk_backend_close(be);
  return 0;
}
