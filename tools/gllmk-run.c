/* gllmk-run.c -- run a GGUF model with gllmk: prefill a prompt of token ids,
 * decode with sampling, print the ids and the speed
 * SPDX-License-Identifier: MIT
 *
 * Its options are meant to stay stable, so that anyone can compare gllmk
 * with another implementation on the same file (see gllmk-run(1)).
 */
#include <gllmk.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* s: token ids separated by ',' (and, with several, sequences by ';'):
 * 0, or 1 for a bad list, 2 for an empty one, 3 out of memory; the caller
 * frees *ids and *lens either way */
static int parse_tokens(const char *s, int several, int32_t **ids, size_t *np, size_t **lens,
                        size_t *nseq)
{
  size_t cap = 0, lcap = 0;
  *np = 0, *nseq = 1;
  for (const char *p = s; *p;) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || v < 0 || v > INT32_MAX || (*end && *end != ',' && *end != ';') ||
        (*end == ';' && !several))
      return 1;
    if (*np == cap) {
      int32_t *t = realloc(*ids, (cap = cap ? 2 * cap : 16) * sizeof *t);
      if (!t)
        return 3;
      *ids = t;
    }
    if (*nseq > lcap) {
      size_t old = lcap;
      size_t *t = realloc(*lens, (lcap = lcap ? 2 * lcap : 4) * sizeof *t);
      if (!t)
        return 3;
      memset(t + old, 0, (lcap - old) * sizeof *t);
      *lens = t;
    }
    (*ids)[(*np)++] = (int32_t)v;
    (*lens)[*nseq - 1]++;
    if (*end == ';' && end[1])
      ++*nseq;
    p = *end ? end + 1 : end;
  }
  return *np ? 0 : 2;
}

static void usage(FILE *f)
{
  fprintf(f,
          "Usage: gllmk-run --model FILE.gguf --tokens 1,2,3 [OPTION]...\n"
          "Prefill a prompt of token ids, decode with sampling, print the generated\n"
          "ids, then the prefill and decode speed.\n\n"
          "  --model FILE        a GGUF model (llama, mistral, qwen2, qwen3)\n"
          "  --backend NAME      cpu, cuda, cuda:N or auto (default auto)\n"
          "  --threads N         CPU threads (default: the library's)\n"
          "  --tokens LIST       the prompt: comma-separated token ids (--embed: several\n"
          "                      sequences separated by ';')\n"
          "  --n-predict N       tokens to generate (default 16)\n"
          "  --temperature T     0 or less: greedy (default 0)\n"
          "  --top-k N           0: off (default 0)\n"
          "  --top-p P           1: off (default 1)\n"
          "  --min-p P           0: off (default 0)\n"
          "  --repeat-penalty R  1: off (default 1)\n"
          "  --repeat-last-n N   tokens the penalty looks back over (default 64)\n"
          "  --seed N            the sampler's seed (default 0)\n"
          "  --batch N           largest prefill batch (default 512)\n"
          "  --dump-logits FILE  write raw little-endian f32 logits, one row of vocab\n"
          "                      values per prompt token, then per generated token\n"
          "  --embed             for encoders (bert): print each sequence's pooled,\n"
          "                      L2-normalised vector on a line of its own\n"
          "  --quiet             print only the generated ids\n"
          "  --help              this text\n");
}

static int parse_size(const char *s, size_t *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-')
    return -1;
  *out = (size_t)v;
  return 0;
}

static int parse_float(const char *s, float *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end)
    return -1;
  *out = (float)v;
  return 0;
}

int main(int argc, char **argv)
{
  const char *model_path = NULL, *backend = "auto", *tokens = NULL, *dump = NULL;
  size_t n_predict = 16, threads = 0, batch = 512, window = 64;
  gllmk_sampling sp = { 0.0f, 0, 1.0f, 0.0f, 1.0f, 0, 0 };
  int embed = 0, quiet = 0;
  enum { O_MODEL = 256, O_BACKEND, O_THREADS, O_TOKENS, O_NPRED, O_TEMP, O_TOPK, O_TOPP, O_MINP,
         O_PEN, O_LASTN, O_SEED, O_BATCH, O_DUMP, O_EMBED, O_QUIET, O_HELP };
  static const struct option opts[] = {
    { "model", required_argument, 0, O_MODEL },     { "backend", required_argument, 0, O_BACKEND },
    { "threads", required_argument, 0, O_THREADS }, { "tokens", required_argument, 0, O_TOKENS },
    { "n-predict", required_argument, 0, O_NPRED }, { "temperature", required_argument, 0, O_TEMP },
    { "top-k", required_argument, 0, O_TOPK },      { "top-p", required_argument, 0, O_TOPP },
    { "min-p", required_argument, 0, O_MINP },      { "repeat-penalty", required_argument, 0, O_PEN },
    { "repeat-last-n", required_argument, 0, O_LASTN }, { "seed", required_argument, 0, O_SEED },
    { "batch", required_argument, 0, O_BATCH },     { "dump-logits", required_argument, 0, O_DUMP },
    { "embed", no_argument, 0, O_EMBED },           { "quiet", no_argument, 0, O_QUIET },
    { "help", no_argument, 0, O_HELP },             { 0, 0, 0, 0 },
  };
  int c;
  size_t seed = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case O_MODEL: model_path = optarg; break;
    case O_BACKEND: backend = optarg; break;
    case O_THREADS: bad = parse_size(optarg, &threads) || threads == 0 || threads > 4096; break;
    case O_TOKENS: tokens = optarg; break;
    case O_NPRED: bad = parse_size(optarg, &n_predict); break;
    case O_TEMP: bad = parse_float(optarg, &sp.temperature); break;
    case O_TOPK: bad = parse_size(optarg, &sp.top_k); break;
    case O_TOPP: bad = parse_float(optarg, &sp.top_p); break;
    case O_MINP: bad = parse_float(optarg, &sp.min_p); break;
    case O_PEN: bad = parse_float(optarg, &sp.repeat_penalty); break;
    case O_LASTN: bad = parse_size(optarg, &window) || window > 1024; break;
    case O_SEED: bad = parse_size(optarg, &seed); break;
    case O_BATCH: bad = parse_size(optarg, &batch) || batch == 0 || batch > (1u << 20); break;
    case O_DUMP: dump = optarg; break;
    case O_EMBED: embed = 1; break;
    case O_QUIET: quiet = 1; break;
    case O_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
    if (bad) {
      fprintf(stderr, "gllmk-run: bad value for --%s: %s\n", opts[c - O_MODEL].name, optarg);
      return 2;
    }
  }
  sp.seed = seed;
  sp.repeat_window = window;
  if (optind < argc || !model_path || !tokens) {
    fprintf(stderr, "gllmk-run: %s\n", optind < argc ? "unexpected arguments" : "--model and --tokens are required");
    usage(stderr);
    return 2;
  }
  /* the prompt: token ids; with --embed, several sequences separated by ';' */
  size_t np = 0, nseq = 0;
  int32_t *ids = NULL;
  size_t *lens = NULL;
  int prc = parse_tokens(tokens, 1, &ids, &np, &lens, &nseq);
  if (prc) {
    fprintf(stderr, "gllmk-run: --tokens: %s: %s\n", prc == 1 ? "not a list of token ids" : prc == 2
            ? "an empty prompt" : "out of memory", tokens);
    free(ids), free(lens);
    return 2;
  }
  if (threads && gllmk_set_num_threads((int)threads) != GLLMK_OK)
    fprintf(stderr, "gllmk-run: --threads %zu: not taken (built without threads?)\n", threads);

  gllmk_backend *be = NULL;
  gllmk_status st = gllmk_backend_open(backend, &be);
  if (st != GLLMK_OK) {
    fprintf(stderr, "gllmk-run: backend %s: %s (%s)\n", backend, gllmk_strerror(st),
            gllmk_backend_error_message());
    free(ids), free(lens);
    return 1;
  }
  gllmk_model *m = NULL;
  gllmk_model_params mp = { .max_batch = batch, .max_rows = dump || embed ? batch : 1 };
  double t0 = now();
  st = gllmk_model_load_gguf(be, model_path, &mp, &m);
  if (st == GLLMK_E_UNSUPPORTED && !strcmp(backend, "auto") && strcmp(gllmk_backend_name(be), "cpu")) {
    /* auto picked a device whose backend lacks an op the model needs */
    fprintf(stderr, "gllmk-run: %s: %s; running on the CPU\n", gllmk_backend_name(be),
            gllmk_model_error_message());
    gllmk_backend_close(be);
    st = gllmk_backend_open("cpu", &be);
    if (st == GLLMK_OK)
      st = gllmk_model_load_gguf(be, model_path, &mp, &m);
  }
  if (st != GLLMK_OK) {
    fprintf(stderr, "gllmk-run: %s (%s)\n", gllmk_model_error_message(), gllmk_strerror(st));
    gllmk_backend_close(be);
    free(ids), free(lens);
    return 1;
  }
  double t_load = now() - t0;
  const gllmk_model_config *cfg = gllmk_model_get_config(m);
  if (nseq > 1 && !embed && cfg->arch != GLLMK_ARCH_BERT) {
    fprintf(stderr, "gllmk-run: --tokens: several sequences (';') are for encoders (--embed)\n");
    gllmk_model_free(m);
    gllmk_backend_close(be);
    free(ids), free(lens);
    return 2;
  }
  if (embed || cfg->arch == GLLMK_ARCH_BERT) {
    /* encoders: the pooled, L2-normalised vector of each sequence, one line each */
    int rc = 0;
    float *vec = malloc(nseq * cfg->hidden * sizeof *vec);
    t0 = now();
    st = !vec ? GLLMK_E_NOMEM
         : cfg->arch != GLLMK_ARCH_BERT ? GLLMK_E_UNSUPPORTED
                                         : gllmk_model_embed(m, ids, NULL, lens, nseq, true, vec);
    double t_embed = now() - t0;
    if (st != GLLMK_OK) {
      fprintf(stderr, "gllmk-run: --embed: %s (%s)\n", gllmk_strerror(st),
              cfg->arch != GLLMK_ARCH_BERT ? "the model is a decoder, not an encoder (bert)"
                                           : gllmk_model_error_message());
      rc = 1;
    } else {
      for (size_t i = 0; i < nseq; i++)
        for (size_t j = 0; j < cfg->hidden; j++)
          printf("%.9g%c", vec[i * cfg->hidden + j], j + 1 < cfg->hidden ? ' ' : '\n');
      if (!quiet)
        fprintf(stderr, "embed: %zu sequences, %zu tokens in %.3f s: %.2f tokens/s\n", nseq, np,
                t_embed, np / t_embed);
    }
    free(vec), free(ids), free(lens);
    gllmk_model_free(m);
    gllmk_backend_close(be);
    return rc;
  }
  size_t V = cfg->vocab, total = np + n_predict + 1;
  gllmk_kv_cache *kv = NULL;
  st = gllmk_kv_cache_create(m, 1, total, 16, 0, &kv);
  if (st != GLLMK_OK) {
    fprintf(stderr, "gllmk-run: KV cache: %s (%s)\n", gllmk_model_error_message(), gllmk_strerror(st));
    gllmk_model_free(m);
    gllmk_backend_close(be);
    free(ids), free(lens);
    return 1;
  }
  FILE *df = NULL;
  float *rowbuf = NULL;
  gllmk_batch_entry *b = malloc(batch * sizeof *b);
  int32_t *rows = malloc(batch * sizeof *rows), *gen = malloc((n_predict + 1) * sizeof *gen);
  int32_t *sids = malloc(batch * sizeof *sids);
  int rc = 0;
  if (dump && (!(df = fopen(dump, "wb")) || !(rowbuf = malloc(batch * V * sizeof *rowbuf)))) {
    fprintf(stderr, "gllmk-run: --dump-logits %s: %s\n", dump, strerror(errno));
    st = GLLMK_E_INVAL;
    rc = 1;
  } else if (!b || !rows || !gen || !sids) {
    fprintf(stderr, "gllmk-run: out of memory\n");
    st = GLLMK_E_NOMEM;
    rc = 1;
  }
  /* prefill, max batch entries at a time; the last chunk's last row samples */
  t0 = now();
  for (size_t p0 = 0; p0 < np && st == GLLMK_OK; p0 += batch) {
    size_t n = np - p0 < batch ? np - p0 : batch;
    for (size_t i = 0; i < n; i++) {
      b[i] = (gllmk_batch_entry){ ids[p0 + i], (int32_t)(p0 + i), 0, GLLMK_PARENT_NONE };
      rows[i] = (int32_t)i;
    }
    bool last = p0 + n == np;
    size_t nr = df ? n : last ? 1 : 0;
    st = gllmk_model_forward(m, kv, b, n, df ? rows : rows + n - 1, nr);
    if (st == GLLMK_OK && df) {
      st = gllmk_model_read_logits(m, 0, n, rowbuf);
      if (st == GLLMK_OK && fwrite(rowbuf, sizeof *rowbuf, n * V, df) != n * V)
        st = GLLMK_E_INVAL;
    }
    if (st == GLLMK_OK && last && n_predict) {
      /* every row's draw depends on its position only: sampling all the rows
       * dumped gives the last one's token as sampling it alone would */
      st = gllmk_model_sample(m, kv, &sp, sids);
      gen[0] = sids[nr - 1];
    }
  }
  if (st == GLLMK_OK && !n_predict)
    st = gllmk_backend_synchronize(be);
  double t_prefill = now() - t0;
  /* decode */
  t0 = now();
  size_t done = 0;
  for (size_t k = 0; k < n_predict && st == GLLMK_OK; k++) {
    b[0] = (gllmk_batch_entry){ gen[k], (int32_t)(np + k), 0, GLLMK_PARENT_NONE };
    rows[0] = 0;
    st = gllmk_model_forward(m, kv, b, 1, rows, 1);
    if (st == GLLMK_OK && df) {
      st = gllmk_model_read_logits(m, 0, 1, rowbuf);
      if (st == GLLMK_OK && fwrite(rowbuf, sizeof *rowbuf, V, df) != V)
        st = GLLMK_E_INVAL;
    }
    if (st == GLLMK_OK && k + 1 < n_predict)
      st = gllmk_model_sample(m, kv, &sp, gen + k + 1);
    done++;
  }
  if (st == GLLMK_OK)
    st = gllmk_backend_synchronize(be);
  double t_decode = now() - t0;
  if (st != GLLMK_OK) {
    if (!rc)
      fprintf(stderr, "gllmk-run: %s (%s)\n", gllmk_strerror(st), gllmk_model_error_message());
    rc = 1;
  } else {
    for (size_t k = 0; k < n_predict; k++)
      printf("%s%d", k ? "," : "", gen[k]);
    printf("\n");
    if (!quiet) {
      size_t wb = 0, ab = 0;
      gllmk_model_memory(m, &wb, &ab);
      printf("model: %s, %zu layers, hidden %zu, vocab %zu, on %s; loaded in %.2f s\n", model_path,
             cfg->layers, cfg->hidden, V, gllmk_backend_name(be), t_load);
      printf("memory: weights %zu bytes, activations %zu, KV cache %zu, workspace %zu\n", wb, ab,
             gllmk_kv_cache_bytes(kv), gllmk_backend_workspace_size(be));
      printf("prefill: %zu tokens in %.3f s: %.2f tokens/s\n", np, t_prefill, np / t_prefill);
      printf("decode: %zu tokens in %.3f s: %.2f tokens/s\n", done, t_decode,
             done ? done / t_decode : 0.0);
    }
  }
  if (df && fclose(df) != 0) {
    fprintf(stderr, "gllmk-run: --dump-logits %s: %s\n", dump, strerror(errno));
    rc = 1;
  }
  free(rowbuf), free(b), free(rows), free(gen), free(sids), free(ids), free(lens);
  gllmk_kv_cache_free(kv);
  gllmk_model_free(m);
  gllmk_backend_close(be);
  return rc;
}
