/* fuzz_gguf.c -- libFuzzer target: arbitrary bytes into the GGUF reader.
 * SPDX-License-Identifier: MIT
 *
 * The input is the file.  gllmk_gguf_open_memory must refuse it with a
 * status and a message, or accept it; then every accessor is walked: each
 * pair by index and by key through every typed getter, every array element
 * (the numeric ones byte by byte, each string of a string array), every
 * tensor by index and by name, and every byte of every tensor's data.  The
 * supported block formats are also decoded (small tensors).  libFuzzer's
 * buffer has exactly the input's size, so ASan sees any read past it.
 * Checked on top of "no crash, no sanitizer report, no leak":
 *  - a refusal leaves *out NULL and a message "at byte N: ..." with N within
 *    the input; an acceptance leaves the message empty;
 *  - what the accessors return agrees with itself (lookups give back the
 *    index, string lengths match, tensor data lies inside the input at
 *    data_offset + offset, aligned, sizes agree with gllmk_qtype_row_bytes,
 *    non-empty tensors do not overlap);
 *  - gllmk_dequantize accepts every supported block-format tensor as it is.
 * An accepted file of a model architecture then goes to the model loader
 * (gllmk_model_load_gguf on the CPU backend, through a memfd): it must load
 * or refuse with a status and a message; a loaded decoder runs a forward
 * pass of two tokens and samples, an encoder embeds them.
 * Built with --enable-fuzz (clang -fsanitize=fuzzer); .ci/run runs it with
 * the seeds of fuzz/seeds-gguf and tests/data/tiny-llama.gguf.
 */
#define _GNU_SOURCE
#include <gllmk.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_gguf: %s\n", what);
  abort();
}

static volatile uint8_t sink;

static void touch(const void *p, size_t n)
{
  const volatile uint8_t *b = p;
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++)
    s ^= b[i];
  sink ^= s;
}

static const size_t value_size[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static void walk_kv(const gllmk_gguf *g, size_t i)
{
  const char *key;
  gllmk_gguf_type type;
  size_t idx = SIZE_MAX;
  if (gllmk_gguf_kv(g, i, &key, &type) != GLLMK_OK) fail("kv(i) refused an index below kv_count");
  if (!key || !*key) fail("empty key");
  if ((unsigned)type > GLLMK_GGUF_FLOAT64) fail("unknown value type accepted");
  if (gllmk_gguf_find_key(g, key, &idx) != GLLMK_OK || idx != i) fail("find_key does not give the index back");
  uint64_t u;
  int64_t s;
  double d;
  bool b;
  const char *str;
  size_t len;
  gllmk_status su = gllmk_gguf_get_u64(g, key, &u), si = gllmk_gguf_get_i64(g, key, &s);
  gllmk_status sd = gllmk_gguf_get_f64(g, key, &d), sb = gllmk_gguf_get_bool(g, key, &b);
  gllmk_status ss = gllmk_gguf_get_string(g, key, &str, &len);
  bool is_int = type <= GLLMK_GGUF_INT32 || type == GLLMK_GGUF_UINT64 || type == GLLMK_GGUF_INT64;
  if (is_int ? (su == GLLMK_E_INVAL || si == GLLMK_E_INVAL || sd == GLLMK_E_INVAL)
             : (su != GLLMK_E_INVAL || si != GLLMK_E_INVAL))
    fail("integer getters disagree with the value type");
  if (su == GLLMK_OK && si == GLLMK_OK && (int64_t)u != s) fail("get_u64 and get_i64 disagree");
  if ((sb == GLLMK_OK) != (type == GLLMK_GGUF_BOOL)) fail("get_bool disagrees with the value type");
  if ((ss == GLLMK_OK) != (type == GLLMK_GGUF_STRING)) fail("get_string disagrees with the value type");
  if (ss == GLLMK_OK) {
    if (str[len] != '\0') fail("string not NUL-terminated");
    touch(str, len);
  }
  gllmk_gguf_type et;
  size_t count;
  const void *data;
  gllmk_status sa = gllmk_gguf_get_array(g, key, &et, &count, &data);
  if ((sa == GLLMK_OK) != (type == GLLMK_GGUF_ARRAY)) fail("get_array disagrees with the value type");
  if (sa != GLLMK_OK) return;
  if ((unsigned)et > GLLMK_GGUF_FLOAT64 || et == GLLMK_GGUF_ARRAY) fail("bad array element type accepted");
  if (et == GLLMK_GGUF_STRING) {
    if (data) fail("a string array has a data pointer");
    for (size_t j = 0; j < count; j++) {
      if (gllmk_gguf_get_array_string(g, key, j, &str, &len) != GLLMK_OK) fail("array string refused");
      if (str[len] != '\0') fail("array string not NUL-terminated");
      touch(str, len);
    }
    if (gllmk_gguf_get_array_string(g, key, count, &str, &len) != GLLMK_E_INVAL) fail("array string past the end");
  } else {
    if (count && !data) fail("no data pointer for a numeric array");
    touch(data, count * value_size[et]);
    if (et == GLLMK_GGUF_BOOL)
      for (size_t j = 0; j < count; j++)
        if (((const uint8_t *)data)[j] > 1) fail("bool array element other than 0 or 1");
  }
}

static void walk_tensors(const gllmk_gguf *g, const uint8_t *base, size_t size)
{
  size_t n = gllmk_gguf_tensor_count(g), align = gllmk_gguf_alignment(g), doff = gllmk_gguf_data_offset(g);
  if (!align || (align & (align - 1)) || doff % align) fail("bad alignment or data offset");
  gllmk_gguf_tensor *all = malloc((n ? n : 1) * sizeof *all);
  for (size_t i = 0; i < n; i++) {
    gllmk_gguf_tensor t, u;
    size_t idx = SIZE_MAX;
    if (gllmk_gguf_tensor_info(g, i, &t) != GLLMK_OK) fail("tensor_info refused an index below tensor_count");
    if (gllmk_gguf_find_tensor(g, t.name, &idx, &u) != GLLMK_OK || idx != i || u.data != t.data)
      fail("find_tensor does not give the tensor back");
    size_t nl = strlen(t.name);
    if (nl == 0 || nl >= 64) fail("bad tensor name length");
    if (t.n_dims > 4) fail("more than 4 dimensions");
    uint64_t ne = 1;
    for (int d = 0; d < 4; d++) {
      if (d >= (int)t.n_dims && t.ne[d] != 1) fail("ne past n_dims is not 1");
      ne *= t.ne[d];
    }
    if (ne != t.n_elements) fail("n_elements is not the product of ne");
    if (t.offset % align || t.file_offset != doff + t.offset) fail("tensor offset");
    if (t.bytes) {
      if (t.file_offset > size || t.bytes > size - t.file_offset) fail("tensor data outside the input");
      if ((const uint8_t *)t.data != base + t.file_offset) fail("tensor data pointer");
      touch(t.data, t.bytes);
    } else if (t.data) {
      fail("a data pointer for 0 bytes");
    }
    if (t.supported && t.type != 0 && t.type != 1 && t.type != 30) {
      size_t row = gllmk_qtype_row_bytes((gllmk_qtype)t.type, (size_t)t.ne[0]);
      if (row * (t.ne[1] * t.ne[2] * t.ne[3]) != t.bytes) fail("bytes differ from gllmk_qtype_row_bytes");
      if (t.bytes && t.n_elements <= 4096) {
        float *out = malloc(t.n_elements * sizeof *out);
        if (gllmk_dequantize((gllmk_qtype)t.type, t.data, t.bytes, out, (size_t)t.n_elements) != GLLMK_OK)
          fail("gllmk_dequantize refuses a tensor the reader accepted");
        free(out);
      }
    } else if (t.supported) {
      if (t.bytes != t.n_elements * (t.type == 0 ? 4 : 2)) fail("bytes of an f32/f16/bf16 tensor");
    }
    if (!gllmk_gguf_tensor_type_name(t.type)) fail("no type name for an accepted type");
    all[i] = t;
  }
  /* non-empty tensors do not overlap (quadratic: inputs are small) */
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (all[i].bytes && all[j].bytes && all[i].offset < all[j].offset + all[j].bytes &&
          all[j].offset < all[i].offset + all[i].bytes)
        fail("overlapping tensors accepted");
  free(all);
}

static gllmk_backend *cpu;

/* the file as a model: loads or is refused with a message; what loads runs */
static void load_model(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz-gguf", 0);
  if (fd < 0) return;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (!cpu && gllmk_backend_open("cpu", &cpu) != GLLMK_OK) fail("no cpu backend");
  gllmk_model_params mp = { .max_batch = 4, .max_context = 64 };
  gllmk_model *m = (gllmk_model *)&mp;
  gllmk_status st = gllmk_model_load_gguf(cpu, path, &mp, &m);
  close(fd);
  if (st != GLLMK_OK) {
    if (m != NULL || !gllmk_model_error_message()[0]) fail("a refused model without NULL and a message");
    return;
  }
  const gllmk_model_config *c = gllmk_model_get_config(m);
  int32_t tok[2] = { 0, (int32_t)(c->vocab > 1) };
  if (c->arch == GLLMK_ARCH_BERT) {
    size_t len = c->context >= 2 ? 2 : 1;
    float *out = malloc(c->hidden * sizeof *out);
    if (out && gllmk_model_embed(m, tok, NULL, &len, 1, true, out) != GLLMK_OK) fail("embed");
    free(out);
  } else {
    gllmk_kv_cache *kv = NULL;
    if (gllmk_kv_cache_create(m, 1, 4, 2, 0, &kv) != GLLMK_OK) fail("a KV cache for a loaded model");
    gllmk_batch_entry b[2] = { { tok[0], 0, 0, GLLMK_PARENT_NONE }, { tok[1], 1, 0, GLLMK_PARENT_NONE } };
    int32_t row = 1, id;
    size_t n = c->context >= 2 ? 2 : 1;
    gllmk_sampling sp = { .temperature = 1.0f, .top_p = 1.0f, .repeat_penalty = 1.0f, .seed = 1 };
    row = (int32_t)n - 1;
    st = gllmk_model_forward(m, kv, b, n, &row, 1);
    if (st == GLLMK_OK) st = gllmk_model_sample(m, kv, &sp, &id);
    if (st != GLLMK_OK) fail("a forward pass of a loaded model");
    if (id < 0 || (size_t)id >= c->vocab) fail("a sampled id outside the vocabulary");
    gllmk_kv_cache_free(kv);
  }
  gllmk_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  gllmk_gguf *g = (gllmk_gguf *)&g;
  gllmk_status st = gllmk_gguf_open_memory(data, size, &g);
  const char *msg = gllmk_gguf_error_message();
  if (st != GLLMK_OK) {
    unsigned long long at;
    if (g != NULL) fail("a refused open left *out set");
    if (sscanf(msg, "at byte %llu: ", &at) != 1 || at > size) fail("a refusal without a proper message");
    if (st != GLLMK_E_INVAL && st != GLLMK_E_UNSUPPORTED && st != GLLMK_E_OVERFLOW && st != GLLMK_E_NOMEM)
      fail("unexpected status");
    return 0;
  }
  if (!g || msg[0]) fail("an accepted open without a handle, or with a message");
  uint32_t v = gllmk_gguf_version(g);
  if (v != 2 && v != 3) fail("version");
  for (size_t i = 0; i < gllmk_gguf_kv_count(g); i++) walk_kv(g, i);
  const char *arch = gllmk_gguf_arch(g), *s;
  if (arch && (gllmk_gguf_get_string(g, "general.architecture", &s, NULL) != GLLMK_OK || s != arch))
    fail("gllmk_gguf_arch");
  walk_tensors(g, data, size);
  bool model = arch && (!strcmp(arch, "llama") || !strcmp(arch, "mistral") || !strcmp(arch, "qwen2") ||
                        !strcmp(arch, "qwen3") || !strcmp(arch, "bert"));
  gllmk_gguf_close(g);
  if (model) load_model(data, size);
  return 0;
}
