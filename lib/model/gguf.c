/* gguf.c -- a strict GGUF reader: validate the whole file, then index it
 * SPDX-License-Identifier: MIT
 *
 * Layout (versions 2 and 3; all integers little-endian):
 *   "GGUF" u32 version, u64 tensor_count, u64 kv_count
 *   kv_count x  { string key, u32 type, value }
 *   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset }
 *   padding to the alignment, then the data section (tensor offsets are
 *   relative to its start)
 * string = u64 length + bytes; array = u32 element type, u64 count, elements.
 *
 * Trust: nothing from the file is used before it is checked against the
 * bytes that remain.  A count is compared with what the rest of the file
 * could hold (each element takes at least its minimal encoded size), and
 * every record, string and offset table grows as its bytes are parsed
 * (doubling), never to a size a count asks for: memory stays within a small
 * multiple of the metadata actually read.  Every read goes through rd_*
 * below, which check the remaining length first.  Errors give a status and a message
 * naming the byte offset (thread-local, gllmk_gguf_error_message).
 *
 * What is kept: the key-value and tensor records (file offsets, types,
 * counts), one arena with a NUL-terminated copy of every string, and for
 * each string array the arena offsets of its elements.  Keys and names are
 * looked up by binary search in sorted index arrays, which also find the
 * duplicates.
 */
#include "core/internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define GGUF_HAVE_MMAP 1
#endif

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 64        /* ggml's GGML_MAX_NAME: names are shorter */
#define GGUF_NTYPES 13          /* value types 0..12 */
/* the smallest encodings: a key-value pair (1-byte key, u8 value) and a
 * tensor info (1-byte name, no dimension) */
#define GGUF_MIN_KV (8 + 1 + 4 + 1)
#define GGUF_MIN_TENSOR (8 + 1 + 4 + 4 + 8)

/* ------------------------------------------------------------ ggml's tensor types */
enum { TT_UNKNOWN = 0, TT_SUPPORTED, TT_UNSUPPORTED, TT_REMOVED };
static const struct ggml_type {
  const char *name;
  unsigned char kind;
  unsigned short block;         /* values per block */
  unsigned short bytes;         /* bytes per block */
} ggml_types[] = {
  [0] = {"f32", TT_SUPPORTED, 1, 4},
  [1] = {"f16", TT_SUPPORTED, 1, 2},
  [2] = {"q4_0", TT_SUPPORTED, 32, 18},
  [3] = {"q4_1", TT_SUPPORTED, 32, 20},
  [4] = {"q4_2", TT_REMOVED, 0, 0},
  [5] = {"q4_3", TT_REMOVED, 0, 0},
  [6] = {"q5_0", TT_SUPPORTED, 32, 22},
  [7] = {"q5_1", TT_SUPPORTED, 32, 24},
  [8] = {"q8_0", TT_SUPPORTED, 32, 34},
  /* ggml's block_q8_1 (two f16, 32 int8); gguf-py's table still says 40 */
  [9] = {"q8_1", TT_UNSUPPORTED, 32, 36},
  [10] = {"q2_K", TT_SUPPORTED, 256, 84},
  [11] = {"q3_K", TT_SUPPORTED, 256, 110},
  [12] = {"q4_K", TT_SUPPORTED, 256, 144},
  [13] = {"q5_K", TT_SUPPORTED, 256, 176},
  [14] = {"q6_K", TT_SUPPORTED, 256, 210},
  [15] = {"q8_K", TT_SUPPORTED, 256, 292},
  [16] = {"iq2_xxs", TT_SUPPORTED, 256, 66},
  [17] = {"iq2_xs", TT_SUPPORTED, 256, 74},
  [18] = {"iq3_xxs", TT_SUPPORTED, 256, 98},
  [19] = {"iq1_s", TT_SUPPORTED, 256, 50},
  [20] = {"iq4_nl", TT_SUPPORTED, 32, 18},
  [21] = {"iq3_s", TT_SUPPORTED, 256, 110},
  [22] = {"iq2_s", TT_SUPPORTED, 256, 82},
  [23] = {"iq4_xs", TT_SUPPORTED, 256, 136},
  [24] = {"i8", TT_UNSUPPORTED, 1, 1},
  [25] = {"i16", TT_UNSUPPORTED, 1, 2},
  [26] = {"i32", TT_UNSUPPORTED, 1, 4},
  [27] = {"i64", TT_UNSUPPORTED, 1, 8},
  [28] = {"f64", TT_UNSUPPORTED, 1, 8},
  [29] = {"iq1_m", TT_SUPPORTED, 256, 56},
  [30] = {"bf16", TT_SUPPORTED, 1, 2},
  [31] = {"q4_0_4x4", TT_REMOVED, 0, 0},
  [32] = {"q4_0_4x8", TT_REMOVED, 0, 0},
  [33] = {"q4_0_8x8", TT_REMOVED, 0, 0},
  [34] = {"tq1_0", TT_UNSUPPORTED, 256, 54},
  [35] = {"tq2_0", TT_UNSUPPORTED, 256, 66},
  [36] = {"iq4_nl_4x4", TT_REMOVED, 0, 0},
  [37] = {"iq4_nl_4x8", TT_REMOVED, 0, 0},
  [38] = {"iq4_nl_8x8", TT_REMOVED, 0, 0},
  [39] = {"mxfp4", TT_SUPPORTED, 32, 17},
  [40] = {"nvfp4", TT_UNSUPPORTED, 64, 36},
  [41] = {"q1_0", TT_UNSUPPORTED, 128, 18},
};
#define NGGML_TYPES (sizeof ggml_types / sizeof ggml_types[0])

const char *gllmk_gguf_tensor_type_name(uint32_t type) {
  return type < NGGML_TYPES ? ggml_types[type].name : NULL;
}

static const char *const value_type_names[GGUF_NTYPES] = {
  "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array",
  "uint64", "int64", "float64",
};
/* encoded bytes of a scalar of each type (0: string, array) */
static const unsigned char value_type_size[GGUF_NTYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* ------------------------------------------------------------ the handle */
struct kv {
  size_t key;                   /* arena offset */
  size_t key_pos;               /* file offset of the key (for messages) */
  uint32_t type, elem;          /* elem: arrays only */
  size_t count;                 /* arrays: elements */
  size_t val;                   /* file offset of the value / of an array's first element */
  size_t str, str_len;          /* strings: arena offset, length; string arrays: first index in soff */
};

struct tensor {
  gllmk_gguf_tensor pub;        /* name resolved once the arena is final */
  size_t name;                  /* arena offset */
  size_t pos;                   /* file offset of the tensor info (for messages) */
  size_t offset_pos;            /* file offset of its offset field */
};

struct entry {                  /* a sorted index: key or name, and its position */
  const char *s;
  size_t i;
};

struct gllmk_gguf {
  const uint8_t *base;
  size_t size;
  bool mapped;
  uint32_t version;
  size_t alignment, data_offset;
  size_t n_kv, n_tensors;
  struct kv *kv;
  struct tensor *t;
  struct entry *kv_index, *t_index;
  char *arena;
  size_t arena_len, arena_cap;
  size_t *soff;                 /* per string array: count + 1 arena offsets */
  size_t soff_len, soff_cap;
  const char *arch;
};

/* ------------------------------------------------------------ messages */
static _Thread_local char gguf_message[320];

const char *gllmk_gguf_error_message(void) { return gguf_message; }

__attribute__((format(printf, 3, 4)))
static gllmk_status fail(gllmk_status st, size_t at, const char *fmt, ...) {
  int n = snprintf(gguf_message, sizeof gguf_message, "at byte %zu: ", at);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof gguf_message) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gguf_message + n, sizeof gguf_message - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return st;
}

/* ------------------------------------------------------------ bounded reads */
typedef struct rd {
  const uint8_t *p;
  size_t size, pos;
} rd;

static size_t rd_left(const rd *r) { return r->size - r->pos; }

static gllmk_status rd_need(const rd *r, size_t n, const char *what) {
  if (rd_left(r) < n)
    return fail(GLLMK_E_INVAL, r->pos, "%s needs %zu bytes, but the file ends %zu bytes later", what, n,
                rd_left(r));
  return GLLMK_OK;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static gllmk_status rd_u32(rd *r, uint32_t *v, const char *what) {
  gllmk_status st = rd_need(r, 4, what);
  if (st) return st;
  *v = le32(r->p + r->pos);
  r->pos += 4;
  return GLLMK_OK;
}

static gllmk_status rd_u64(rd *r, uint64_t *v, const char *what) {
  gllmk_status st = rd_need(r, 8, what);
  if (st) return st;
  *v = le64(r->p + r->pos);
  r->pos += 8;
  return GLLMK_OK;
}

/* ------------------------------------------------------------ building the index */
static gllmk_status arena_add(gllmk_gguf *g, const uint8_t *s, size_t len, size_t *off) {
  /* len <= the file's size, so len + 1 cannot overflow unless the file fills
   * the address space; check anyway */
  if (len >= SIZE_MAX - g->arena_len) return fail(GLLMK_E_OVERFLOW, 0, "strings too large");
  size_t need = g->arena_len + len + 1;
  if (need > g->arena_cap) {
    size_t cap = g->arena_cap ? g->arena_cap : 4096;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *a = realloc(g->arena, cap);
    if (!a) return fail(GLLMK_E_NOMEM, 0, "out of memory for %zu bytes of strings", cap);
    g->arena = a;
    g->arena_cap = cap;
  }
  if (len) memcpy(g->arena + g->arena_len, s, len);
  g->arena[g->arena_len + len] = '\0';
  *off = g->arena_len;
  g->arena_len = need;
  return GLLMK_OK;
}

/* room for element n of an array of *cap elements of size bytes (zeroed) */
static gllmk_status grow(void **a, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return GLLMK_OK;
  size_t c = *cap ? *cap * 2 : 16;
  if (c > SIZE_MAX / size) return fail(GLLMK_E_OVERFLOW, 0, "too many records");
  void *p = realloc(*a, c * size);
  if (!p) return fail(GLLMK_E_NOMEM, 0, "out of memory for %zu records", c);
  memset((char *)p + *cap * size, 0, (c - *cap) * size);
  *a = p;
  *cap = c;
  return GLLMK_OK;
}

static gllmk_status soff_reserve(gllmk_gguf *g, size_t n) {
  if (n > SIZE_MAX / sizeof *g->soff - g->soff_len) return fail(GLLMK_E_OVERFLOW, 0, "too many strings");
  size_t need = g->soff_len + n;
  if (need <= g->soff_cap) return GLLMK_OK;
  size_t cap = g->soff_cap ? g->soff_cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / sizeof *g->soff / 2 ? need : cap * 2;
  size_t *s = realloc(g->soff, cap * sizeof *s);
  if (!s) return fail(GLLMK_E_NOMEM, 0, "out of memory for %zu string offsets", cap);
  g->soff = s;
  g->soff_cap = cap;
  return GLLMK_OK;
}

/* a string: u64 length, then the bytes; copied into the arena */
static gllmk_status rd_string(gllmk_gguf *g, rd *r, const char *what, size_t *off, size_t *len) {
  size_t at = r->pos;
  uint64_t n;
  gllmk_status st = rd_u64(r, &n, what);
  if (st) return st;
  if (n > rd_left(r))
    return fail(GLLMK_E_INVAL, at, "%s of %llu bytes runs past the end of the file (%zu bytes left)", what,
                (unsigned long long)n, rd_left(r));
  st = arena_add(g, r->p + r->pos, (size_t)n, off);
  if (st) return st;
  *len = (size_t)n;
  r->pos += (size_t)n;
  return GLLMK_OK;
}

/* a key or a tensor name: non-empty, no NUL byte, shorter than max (0: no limit) */
static gllmk_status rd_name(gllmk_gguf *g, rd *r, const char *what, size_t max, size_t *off) {
  size_t at = r->pos, len;
  gllmk_status st = rd_string(g, r, what, off, &len);
  if (st) return st;
  if (len == 0) return fail(GLLMK_E_INVAL, at, "empty %s", what);
  if (memchr(g->arena + *off, '\0', len)) return fail(GLLMK_E_INVAL, at, "%s contains a NUL byte", what);
  if (max && len >= max)
    return fail(GLLMK_E_INVAL, at, "%s \"%.40s...\" is %zu bytes long (at most %zu)", what, g->arena + *off,
                len, max - 1);
  return GLLMK_OK;
}

static gllmk_status check_bools(const rd *r, size_t count, const char *key) {
  for (size_t i = 0; i < count; i++)
    if (r->p[r->pos + i] > 1)
      return fail(GLLMK_E_INVAL, r->pos + i, "key \"%.64s\": bool value %u (must be 0 or 1)", key,
                  (unsigned)r->p[r->pos + i]);
  return GLLMK_OK;
}

static gllmk_status parse_kv(gllmk_gguf *g, rd *r, struct kv *kv) {
  kv->key_pos = r->pos;
  gllmk_status st = rd_name(g, r, "key", 0, &kv->key);
  if (st) return st;
  const char *key = g->arena + kv->key;
  size_t at = r->pos;
  if ((st = rd_u32(r, &kv->type, "value type"))) return st;
  if (kv->type >= GGUF_NTYPES)
    return fail(GLLMK_E_INVAL, at, "key \"%.64s\" has unknown value type %u", key, (unsigned)kv->type);
  kv->val = r->pos;
  if (kv->type == GLLMK_GGUF_STRING) return rd_string(g, r, "string value", &kv->str, &kv->str_len);
  if (kv->type != GLLMK_GGUF_ARRAY) {
    if ((st = rd_need(r, value_type_size[kv->type], value_type_names[kv->type]))) return st;
    if (kv->type == GLLMK_GGUF_BOOL && (st = check_bools(r, 1, key))) return st;
    r->pos += value_type_size[kv->type];
    return GLLMK_OK;
  }
  /* an array */
  at = r->pos;
  if ((st = rd_u32(r, &kv->elem, "array element type"))) return st;
  if (kv->elem == GLLMK_GGUF_ARRAY)
    return fail(GLLMK_E_UNSUPPORTED, at, "key \"%.64s\" is an array of arrays (not supported)", key);
  if (kv->elem >= GGUF_NTYPES)
    return fail(GLLMK_E_INVAL, at, "key \"%.64s\": array of unknown type %u", key, (unsigned)kv->elem);
  at = r->pos;
  uint64_t count;
  if ((st = rd_u64(r, &count, "array length"))) return st;
  size_t esize = kv->elem == GLLMK_GGUF_STRING ? 8 : value_type_size[kv->elem];
  if (count > rd_left(r) / esize)
    return fail(GLLMK_E_INVAL, at, "key \"%.64s\": %llu %s elements cannot fit in the %zu bytes left", key,
                (unsigned long long)count, value_type_names[kv->elem], rd_left(r));
  kv->count = (size_t)count;
  kv->val = r->pos;
  if (kv->elem != GLLMK_GGUF_STRING) {
    if (kv->elem == GLLMK_GGUF_BOOL && (st = check_bools(r, kv->count, key))) return st;
    r->pos += kv->count * esize;
    return GLLMK_OK;
  }
  /* count + 1 offsets, appended one by one (nothing else is appended meanwhile) */
  kv->str = g->soff_len;
  for (size_t i = 0; i < kv->count; i++) {
    size_t len, off;
    if ((st = rd_string(g, r, "array string", &off, &len)) || (st = soff_reserve(g, 1))) return st;
    g->soff[g->soff_len++] = off;
  }
  if ((st = soff_reserve(g, 1))) return st;
  g->soff[g->soff_len++] = g->arena_len;
  return GLLMK_OK;
}

/* the bytes of a tensor: whole blocks per row, rows = ne[1] * ne[2] * ne[3] */
static gllmk_status tensor_bytes(struct tensor *t, const struct ggml_type *tt, size_t at) {
  gllmk_gguf_tensor *p = &t->pub;
  uint64_t n = 1;
  for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++)
    if (p->ne[d] && n > (uint64_t)INT64_MAX / p->ne[d])
      return fail(GLLMK_E_OVERFLOW, at, "tensor \"%s\": the element count overflows int64", p->name);
    else
      n *= p->ne[d];
  p->n_elements = n;
  if (p->ne[0] % tt->block)
    return fail(GLLMK_E_INVAL, at, "tensor \"%s\": ne[0] = %llu is not a multiple of %s's block of %u", p->name,
                (unsigned long long)p->ne[0], tt->name, (unsigned)tt->block);
  if (p->ne[0] > SIZE_MAX) return fail(GLLMK_E_OVERFLOW, at, "tensor \"%s\": ne[0] too large", p->name);
  size_t row;
  if (p->supported && tt->block > 1) {
    row = gllmk_qtype_row_bytes((gllmk_qtype)p->type, (size_t)p->ne[0]);
    if (!row && p->ne[0]) return fail(GLLMK_E_OVERFLOW, at, "tensor \"%s\": the row size overflows", p->name);
  } else if (__builtin_mul_overflow((size_t)p->ne[0] / tt->block, (size_t)tt->bytes, &row)) {
    return fail(GLLMK_E_OVERFLOW, at, "tensor \"%s\": the row size overflows", p->name);
  }
  size_t bytes = row;
  for (uint32_t d = 1; d < GGUF_MAX_DIMS; d++)
    if (p->ne[d] > SIZE_MAX || __builtin_mul_overflow(bytes, (size_t)p->ne[d], &bytes))
      return fail(GLLMK_E_OVERFLOW, at, "tensor \"%s\": the byte size overflows size_t", p->name);
  p->bytes = bytes;
  return GLLMK_OK;
}

static gllmk_status parse_tensor(gllmk_gguf *g, rd *r, struct tensor *t) {
  gllmk_gguf_tensor *p = &t->pub;
  t->pos = r->pos;
  gllmk_status st = rd_name(g, r, "tensor name", GGUF_MAX_NAME, &t->name);
  if (st) return st;
  p->name = g->arena + t->name;   /* for messages; the arena may still move */
  size_t at = r->pos;
  if ((st = rd_u32(r, &p->n_dims, "tensor dimension count"))) return st;
  if (p->n_dims > GGUF_MAX_DIMS)
    return fail(GLLMK_E_INVAL, at, "tensor \"%s\" has %u dimensions (at most %d)", p->name,
                (unsigned)p->n_dims, GGUF_MAX_DIMS);
  for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) p->ne[d] = 1;
  for (uint32_t d = 0; d < p->n_dims; d++) {
    at = r->pos;
    if ((st = rd_u64(r, &p->ne[d], "tensor dimension"))) return st;
    if (p->ne[d] > (uint64_t)INT64_MAX)
      return fail(GLLMK_E_INVAL, at, "tensor \"%s\": ne[%u] = %llu is negative as int64", p->name, (unsigned)d,
                  (unsigned long long)p->ne[d]);
  }
  at = r->pos;
  if ((st = rd_u32(r, &p->type, "tensor type"))) return st;
  const struct ggml_type *tt = p->type < NGGML_TYPES ? &ggml_types[p->type] : NULL;
  if (!tt || tt->kind == TT_UNKNOWN)
    return fail(GLLMK_E_UNSUPPORTED, at, "tensor \"%s\" has unknown type %u", p->name, (unsigned)p->type);
  if (tt->kind == TT_REMOVED)
    return fail(GLLMK_E_UNSUPPORTED, at, "tensor \"%s\" has type %u (%s), which ggml has removed", p->name,
                (unsigned)p->type, tt->name);
  p->supported = tt->kind == TT_SUPPORTED;
  t->offset_pos = r->pos;
  uint64_t off;
  if ((st = rd_u64(r, &off, "tensor data offset"))) return st;
  if ((st = tensor_bytes(t, tt, t->pos))) return st;
  if (off > g->size)
    return fail(GLLMK_E_INVAL, t->offset_pos, "tensor \"%s\": data offset %llu is past the end of the file",
                p->name, (unsigned long long)off);
  p->offset = (size_t)off;
  return GLLMK_OK;
}

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const struct entry *)a)->s, ((const struct entry *)b)->s);
}

static int tensor_offset_cmp(const void *a, const void *b) {
  const struct tensor *x = *(const struct tensor *const *)a, *y = *(const struct tensor *const *)b;
  if (x->pub.offset != y->pub.offset) return x->pub.offset < y->pub.offset ? -1 : 1;
  return x->pub.bytes < y->pub.bytes ? -1 : x->pub.bytes > y->pub.bytes;
}

static const struct entry *lookup(const struct entry *index, size_t n, const char *s) {
  struct entry k = {s, 0};
  return n ? bsearch(&k, index, n, sizeof k, entry_cmp) : NULL;
}

/* sorted indices of keys and names; a duplicate is an error */
static gllmk_status build_indices(gllmk_gguf *g) {
  g->kv_index = malloc((g->n_kv ? g->n_kv : 1) * sizeof *g->kv_index);
  g->t_index = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *g->t_index);
  if (!g->kv_index || !g->t_index) return fail(GLLMK_E_NOMEM, 0, "out of memory for the index");
  for (size_t i = 0; i < g->n_kv; i++) g->kv_index[i] = (struct entry){g->arena + g->kv[i].key, i};
  for (size_t i = 0; i < g->n_tensors; i++) {
    g->t[i].pub.name = g->arena + g->t[i].name;
    g->t_index[i] = (struct entry){g->t[i].pub.name, i};
  }
  qsort(g->kv_index, g->n_kv, sizeof *g->kv_index, entry_cmp);
  qsort(g->t_index, g->n_tensors, sizeof *g->t_index, entry_cmp);
  for (size_t i = 1; i < g->n_kv; i++)
    if (!strcmp(g->kv_index[i - 1].s, g->kv_index[i].s)) {
      size_t a = g->kv_index[i - 1].i, b = g->kv_index[i].i;
      return fail(GLLMK_E_INVAL, g->kv[a > b ? a : b].key_pos, "duplicate key \"%.64s\"", g->kv_index[i].s);
    }
  for (size_t i = 1; i < g->n_tensors; i++)
    if (!strcmp(g->t_index[i - 1].s, g->t_index[i].s)) {
      size_t a = g->t_index[i - 1].i, b = g->t_index[i].i;
      return fail(GLLMK_E_INVAL, g->t[a > b ? a : b].pos, "duplicate tensor name \"%s\"", g->t_index[i].s);
    }
  return GLLMK_OK;
}

static gllmk_status read_alignment(gllmk_gguf *g) {
  g->alignment = GGUF_DEFAULT_ALIGNMENT;
  const struct entry *e = lookup(g->kv_index, g->n_kv, "general.alignment");
  if (!e) return GLLMK_OK;
  const struct kv *kv = &g->kv[e->i];
  if (kv->type != GLLMK_GGUF_UINT32)
    return fail(GLLMK_E_INVAL, kv->key_pos, "general.alignment is a %s (must be a uint32)",
                value_type_names[kv->type]);
  uint32_t a = le32(g->base + kv->val);
  if (a == 0 || (a & (a - 1)))
    return fail(GLLMK_E_INVAL, kv->val, "general.alignment = %u is not a power of two", (unsigned)a);
  g->alignment = a;
  return GLLMK_OK;
}

/* the data section, and each tensor's data inside it, aligned, not overlapping */
static gllmk_status place_tensors(gllmk_gguf *g, size_t infos_end) {
  size_t a = g->alignment;
  if (infos_end > SIZE_MAX - (a - 1))
    return fail(GLLMK_E_OVERFLOW, infos_end, "the data offset overflows");
  g->data_offset = (infos_end + a - 1) & ~(a - 1);
  size_t data_size = g->size > g->data_offset ? g->size - g->data_offset : 0;
  for (size_t i = 0; i < g->n_tensors; i++) {
    gllmk_gguf_tensor *p = &g->t[i].pub;
    if (p->offset % a)
      return fail(GLLMK_E_INVAL, g->t[i].offset_pos, "tensor \"%s\": data offset %zu is not a multiple of the alignment %zu",
                  p->name, p->offset, a);
    if (p->offset > data_size || p->bytes > data_size - p->offset)
      return fail(GLLMK_E_INVAL, g->t[i].offset_pos,
                  "tensor \"%s\": %zu bytes at data offset %zu run past the end of the data section "
                  "(%zu bytes from byte %zu)", p->name, p->bytes, p->offset, data_size, g->data_offset);
    p->file_offset = g->data_offset + p->offset;
    p->data = p->bytes ? g->base + p->file_offset : NULL;
  }
  if (g->n_tensors < 2) return GLLMK_OK;
  struct tensor **by = malloc(g->n_tensors * sizeof *by);
  if (!by) return fail(GLLMK_E_NOMEM, 0, "out of memory for the tensor index");
  for (size_t i = 0; i < g->n_tensors; i++) by[i] = &g->t[i];
  qsort(by, g->n_tensors, sizeof *by, tensor_offset_cmp);
  gllmk_status st = GLLMK_OK;
  const struct tensor *prev = NULL;   /* the non-empty tensor that ends last so far */
  for (size_t i = 0; i < g->n_tensors && !st; i++) {
    const struct tensor *t = by[i];
    if (!t->pub.bytes) continue;
    if (prev && prev->pub.offset + prev->pub.bytes > t->pub.offset)
      st = fail(GLLMK_E_INVAL, t->offset_pos,
                "tensor \"%s\" (%zu bytes at data offset %zu) overlaps tensor \"%s\" (%zu bytes at %zu)",
                t->pub.name, t->pub.bytes, t->pub.offset, prev->pub.name, prev->pub.bytes, prev->pub.offset);
    if (!prev || t->pub.offset + t->pub.bytes > prev->pub.offset + prev->pub.bytes) prev = t;
  }
  free(by);
  return st;
}

static void release(gllmk_gguf *g) {
  free(g->kv);
  free(g->t);
  free(g->kv_index);
  free(g->t_index);
  free(g->arena);
  free(g->soff);
#ifdef GGUF_HAVE_MMAP
  if (g->mapped) munmap((void *)(uintptr_t)g->base, g->size);
#endif
  free(g);
}

static gllmk_status parse(gllmk_gguf *g) {
  rd r = {g->base, g->size, 0};
  gllmk_status st;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return fail(GLLMK_E_UNSUPPORTED, 0, "GGUF files are read on little-endian hosts only");
#endif
  if ((st = rd_need(&r, 4, "the magic"))) return st;
  if (memcmp(g->base, GGUF_MAGIC, 4))
    return fail(GLLMK_E_INVAL, 0, "not a GGUF file (magic %02x %02x %02x %02x)", g->base[0], g->base[1],
                g->base[2], g->base[3]);
  r.pos = 4;
  uint32_t v;
  if ((st = rd_u32(&r, &v, "the version"))) return st;
  if (v == 1)
    return fail(GLLMK_E_UNSUPPORTED, 4, "GGUF version 1 (32-bit counts) is not supported: convert the file "
                "with a current llama.cpp");
  uint32_t swapped = __builtin_bswap32(v);
  if (v > 0xffff && swapped >= 1 && swapped <= 3)
    return fail(GLLMK_E_UNSUPPORTED, 4, "big-endian GGUF file (version %u): not supported", (unsigned)swapped);
  if (v != 2 && v != 3)
    return fail(GLLMK_E_UNSUPPORTED, 4, "GGUF version %u is not supported (2 and 3 are)", (unsigned)v);
  g->version = v;
  uint64_t nt, nkv;
  if ((st = rd_u64(&r, &nt, "the tensor count")) || (st = rd_u64(&r, &nkv, "the key-value count"))) return st;
  if (nkv > rd_left(&r) / GGUF_MIN_KV)
    return fail(GLLMK_E_INVAL, 16, "%llu key-value pairs cannot fit in the %zu bytes left", (unsigned long long)nkv,
                rd_left(&r));
  if (nt > rd_left(&r) / GGUF_MIN_TENSOR || nkv * GGUF_MIN_KV + nt * GGUF_MIN_TENSOR > rd_left(&r))
    return fail(GLLMK_E_INVAL, 8, "%llu tensor infos and %llu key-value pairs cannot fit in the %zu bytes left",
                (unsigned long long)nt, (unsigned long long)nkv, rd_left(&r));
  /* the records grow as they are parsed: memory follows the bytes read, not the counts */
  size_t cap = 0;
  for (g->n_kv = 0; g->n_kv < (size_t)nkv; g->n_kv++) {
    if ((st = grow((void **)&g->kv, &cap, g->n_kv, sizeof *g->kv))) return st;
    if ((st = parse_kv(g, &r, &g->kv[g->n_kv]))) return st;
  }
  cap = 0;
  for (g->n_tensors = 0; g->n_tensors < (size_t)nt; g->n_tensors++) {
    if ((st = grow((void **)&g->t, &cap, g->n_tensors, sizeof *g->t))) return st;
    if ((st = parse_tensor(g, &r, &g->t[g->n_tensors]))) return st;
  }
  if ((st = build_indices(g)) || (st = read_alignment(g)) || (st = place_tensors(g, r.pos))) return st;
  const struct entry *e = lookup(g->kv_index, g->n_kv, "general.architecture");
  if (e && g->kv[e->i].type == GLLMK_GGUF_STRING) g->arch = g->arena + g->kv[e->i].str;
  return GLLMK_OK;
}

static gllmk_status open_image(const void *data, size_t bytes, bool mapped, gllmk_gguf **out) {
  gllmk_gguf *g = calloc(1, sizeof *g);
  if (!g) {
#ifdef GGUF_HAVE_MMAP
    if (mapped) munmap((void *)(uintptr_t)data, bytes);
#endif
    return fail(GLLMK_E_NOMEM, 0, "out of memory");
  }
  g->base = data;
  g->size = bytes;
  g->mapped = mapped;
  gllmk_status st = parse(g);
  if (st) {
    release(g);
    return st;
  }
  gguf_message[0] = '\0';
  *out = g;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_open_memory(const void *data, size_t bytes, gllmk_gguf **out) {
  if (out) *out = NULL;
  if (!out || (!data && bytes)) return fail(GLLMK_E_INVAL, 0, "NULL argument");
  if (!data) return fail(GLLMK_E_INVAL, 0, "the magic needs 4 bytes, but the file ends 0 bytes later");
  return open_image(data, bytes, false, out);
}

gllmk_status gllmk_gguf_open(const char *path, gllmk_gguf **out) {
  if (out) *out = NULL;
  if (!path || !out) return fail(GLLMK_E_INVAL, 0, "NULL argument");
#ifdef GGUF_HAVE_MMAP
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(GLLMK_E_INVAL, 0, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return fail(GLLMK_E_INVAL, 0, "cannot stat %s: %s", path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return fail(GLLMK_E_INVAL, 0, "%s is not a regular file", path);
  }
  if (sb.st_size <= 0) {
    close(fd);
    return fail(GLLMK_E_INVAL, 0, "%s is empty", path);
  }
  if ((uintmax_t)sb.st_size > SIZE_MAX) {
    close(fd);
    return fail(GLLMK_E_OVERFLOW, 0, "%s is too large to map", path);
  }
  size_t size = (size_t)sb.st_size;
  void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  close(fd);
  if (p == MAP_FAILED)
    return fail(e == ENOMEM ? GLLMK_E_NOMEM : GLLMK_E_INVAL, 0, "cannot map %s: %s", path, strerror(e));
  return open_image(p, size, true, out);
#else
  (void)path;
  return fail(GLLMK_E_UNSUPPORTED, 0, "no mmap on this system: use gllmk_gguf_open_memory");
#endif
}

void gllmk_gguf_close(gllmk_gguf *g) {
  if (g) release(g);
}

/* ------------------------------------------------------------ accessors */
uint32_t gllmk_gguf_version(const gllmk_gguf *g) { return g ? g->version : 0; }
size_t gllmk_gguf_alignment(const gllmk_gguf *g) { return g ? g->alignment : 0; }
size_t gllmk_gguf_data_offset(const gllmk_gguf *g) { return g ? g->data_offset : 0; }
const char *gllmk_gguf_arch(const gllmk_gguf *g) { return g ? g->arch : NULL; }
size_t gllmk_gguf_kv_count(const gllmk_gguf *g) { return g ? g->n_kv : 0; }
size_t gllmk_gguf_tensor_count(const gllmk_gguf *g) { return g ? g->n_tensors : 0; }

gllmk_status gllmk_gguf_kv(const gllmk_gguf *g, size_t i, const char **key, gllmk_gguf_type *type) {
  if (!g || i >= g->n_kv) return GLLMK_E_INVAL;
  if (key) *key = g->arena + g->kv[i].key;
  if (type) *type = (gllmk_gguf_type)g->kv[i].type;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_find_key(const gllmk_gguf *g, const char *key, size_t *index) {
  if (!g || !key) return GLLMK_E_INVAL;
  const struct entry *e = lookup(g->kv_index, g->n_kv, key);
  if (!e) return GLLMK_E_NOT_FOUND;
  if (index) *index = e->i;
  return GLLMK_OK;
}

static gllmk_status find(const gllmk_gguf *g, const char *key, const void *out, const struct kv **kv) {
  if (!g || !key || !out) return GLLMK_E_INVAL;
  const struct entry *e = lookup(g->kv_index, g->n_kv, key);
  if (!e) return GLLMK_E_NOT_FOUND;
  *kv = &g->kv[e->i];
  return GLLMK_OK;
}

/* an integer value as sign and magnitude; false for other types */
static bool int_value(const gllmk_gguf *g, const struct kv *kv, bool *neg, uint64_t *mag) {
  const uint8_t *p = g->base + kv->val;
  int64_t s;
  switch (kv->type) {
  case GLLMK_GGUF_UINT8: *neg = false; *mag = p[0]; return true;
  case GLLMK_GGUF_UINT16: *neg = false; *mag = (uint64_t)p[0] | (uint64_t)p[1] << 8; return true;
  case GLLMK_GGUF_UINT32: *neg = false; *mag = le32(p); return true;
  case GLLMK_GGUF_UINT64: *neg = false; *mag = le64(p); return true;
  case GLLMK_GGUF_INT8: s = (int8_t)p[0]; break;
  case GLLMK_GGUF_INT16: s = (int16_t)(uint16_t)((unsigned)p[0] | (unsigned)p[1] << 8); break;
  case GLLMK_GGUF_INT32: s = (int32_t)le32(p); break;
  case GLLMK_GGUF_INT64: s = (int64_t)le64(p); break;
  default: return false;
  }
  *neg = s < 0;
  *mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
  return true;
}

gllmk_status gllmk_gguf_get_u64(const gllmk_gguf *g, const char *key, uint64_t *out) {
  const struct kv *kv;
  gllmk_status st = find(g, key, out, &kv);
  if (st) return st;
  bool neg;
  uint64_t m;
  if (!int_value(g, kv, &neg, &m)) return GLLMK_E_INVAL;
  if (neg) return GLLMK_E_OVERFLOW;
  *out = m;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_get_i64(const gllmk_gguf *g, const char *key, int64_t *out) {
  const struct kv *kv;
  gllmk_status st = find(g, key, out, &kv);
  if (st) return st;
  bool neg;
  uint64_t m;
  if (!int_value(g, kv, &neg, &m)) return GLLMK_E_INVAL;
  if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX) return GLLMK_E_OVERFLOW;
  *out = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_get_f64(const gllmk_gguf *g, const char *key, double *out) {
  const struct kv *kv;
  gllmk_status st = find(g, key, out, &kv);
  if (st) return st;
  const uint8_t *p = g->base + kv->val;
  if (kv->type == GLLMK_GGUF_FLOAT32) {
    uint32_t b = le32(p);
    float f;
    memcpy(&f, &b, sizeof f);
    *out = f;
    return GLLMK_OK;
  }
  if (kv->type == GLLMK_GGUF_FLOAT64) {
    uint64_t b = le64(p);
    memcpy(out, &b, sizeof *out);
    return GLLMK_OK;
  }
  bool neg;
  uint64_t m;
  if (!int_value(g, kv, &neg, &m)) return GLLMK_E_INVAL;
  /* exact when m has at most 53 significant bits */
  uint64_t t = m;
  while (t > ((uint64_t)1 << 53) && !(t & 1)) t >>= 1;
  if (t > ((uint64_t)1 << 53)) return GLLMK_E_OVERFLOW;
  *out = neg ? -(double)m : (double)m;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_get_bool(const gllmk_gguf *g, const char *key, bool *out) {
  const struct kv *kv;
  gllmk_status st = find(g, key, out, &kv);
  if (st) return st;
  if (kv->type != GLLMK_GGUF_BOOL) return GLLMK_E_INVAL;
  *out = g->base[kv->val] != 0;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_get_string(const gllmk_gguf *g, const char *key, const char **out, size_t *len) {
  const struct kv *kv;
  gllmk_status st = find(g, key, out, &kv);
  if (st) return st;
  if (kv->type != GLLMK_GGUF_STRING) return GLLMK_E_INVAL;
  *out = g->arena + kv->str;
  if (len) *len = kv->str_len;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_get_array(const gllmk_gguf *g, const char *key, gllmk_gguf_type *elem_type,
                                  size_t *count, const void **data) {
  const struct kv *kv;
  gllmk_status st = find(g, key, g, &kv);   /* every output is optional */
  if (st) return st;
  if (kv->type != GLLMK_GGUF_ARRAY) return GLLMK_E_INVAL;
  if (elem_type) *elem_type = (gllmk_gguf_type)kv->elem;
  if (count) *count = kv->count;
  if (data) *data = kv->elem == GLLMK_GGUF_STRING || !kv->count ? NULL : g->base + kv->val;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_get_array_string(const gllmk_gguf *g, const char *key, size_t i, const char **out,
                                         size_t *len) {
  const struct kv *kv;
  gllmk_status st = find(g, key, out, &kv);
  if (st) return st;
  if (kv->type != GLLMK_GGUF_ARRAY || kv->elem != GLLMK_GGUF_STRING || i >= kv->count) return GLLMK_E_INVAL;
  size_t a = g->soff[kv->str + i], b = g->soff[kv->str + i + 1];
  *out = g->arena + a;
  if (len) *len = b - a - 1;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_tensor_info(const gllmk_gguf *g, size_t i, gllmk_gguf_tensor *out) {
  if (!g || !out || i >= g->n_tensors) return GLLMK_E_INVAL;
  *out = g->t[i].pub;
  return GLLMK_OK;
}

gllmk_status gllmk_gguf_find_tensor(const gllmk_gguf *g, const char *name, size_t *index,
                                    gllmk_gguf_tensor *out) {
  if (!g || !name) return GLLMK_E_INVAL;
  const struct entry *e = lookup(g->t_index, g->n_tensors, name);
  if (!e) return GLLMK_E_NOT_FOUND;
  if (index) *index = e->i;
  if (out) *out = g->t[e->i].pub;
  return GLLMK_OK;
}
