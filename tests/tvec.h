/* tvec.h -- reader of the quantization test-vector files (GLLMKTV1)
 * SPDX-License-Identifier: MIT
 *
 * The format is described in ../shared/testvectors/README.md: a 128-byte
 * little-endian header, then sections (8-byte tag, u64 length, payload,
 * zero padding to 8 bytes).  tests/data/ holds reduced copies (fewer rows,
 * same layout) written by tools/gen-testdata.py.
 *
 * Usage
 *
 *   char *path = tv_find("q4_K", "quantized");      // full set, else tests/data
 *   tv_file *f = path ? tv_open(path) : NULL;        // NULL: diag() says why
 *   const tv_header *h = tv_hdr(f);                  // h->rows, h->cols, ...
 *   size_t len;
 *   const float *x = tv_section(f, "X", &len);       // len in bytes
 *   ...
 *   tv_close(f);
 *   free(path);
 *
 * tv_open() reads the whole file and checks the magic, version, header size,
 * kind, block geometry (cols a multiple of the block size, row_bytes =
 * cols / block_elems * block_bytes), that the sections are exactly the ones
 * README.md lists for the kind, in order, with the sizes the header implies
 * (optional ones may be empty), and that they tile the file to its end.
 * Section payloads are 8-byte aligned pointers into the file image (f32 and
 * f64 arrays can be read in place), valid until tv_close().  The host must be
 * little-endian (checked).
 */
#ifndef GLLMK_TESTS_TVEC_H
#define GLLMK_TESTS_TVEC_H

#include <stddef.h>
#include <stdint.h>

enum { TV_KIND_QUANTIZED = 1, TV_KIND_RANDOM = 2, TV_KIND_QUANTIZED_IMATRIX = 3 };
enum { TV_FLAG_IMATRIX = 1u << 0, TV_FLAG_VECDOT = 1u << 1 };

/** The header fields, decoded. */
typedef struct tv_header {
  uint32_t version;          /* 1 */
  uint32_t kind;             /* TV_KIND_* */
  char type_name[17];        /* ggml's spelling, e.g. "q4_K" */
  uint32_t type_id;          /* ggml type id = gllmk_qtype value */
  uint32_t block_elems;      /* 32 or 256 */
  uint32_t block_bytes;
  uint32_t rows;             /* R */
  uint32_t cols;             /* K */
  uint32_t row_bytes;        /* K / block_elems * block_bytes */
  char vdot_name[17];        /* "q8_0", "q8_1", "q8_K" or "" */
  uint32_t vdot_id;          /* 0xFFFFFFFF if none */
  uint32_t vdot_block_elems; /* 0 if none */
  uint32_t vdot_block_bytes; /* 0 if none */
  uint32_t flags;            /* TV_FLAG_* */
  uint64_t seed;
  uint32_t n_sections;
} tv_header;

typedef struct tv_file tv_file;

/** Read and check a file; NULL (with a diag() line) on any error. */
tv_file *tv_open(const char *path);
/** Free everything tv_open() allocated; NULL is fine. */
void tv_close(tv_file *f);
/** The header of an open file. */
const tv_header *tv_hdr(const tv_file *f);
/** The path the file was opened from. */
const char *tv_path(const tv_file *f);
/** Payload of the section with this tag ("X", "QBLOCKS", "DEQUANT", ...)
 *  and its length in bytes (*len may be NULL); NULL when the file has no
 *  such section.  An empty section gives a non-NULL pointer and *len = 0. */
const void *tv_section(const tv_file *f, const char *tag, size_t *len);

/** Locate "<type>.<case>.bin" (e.g. "q4_K", "quantized"): first in
 *  $GLLMK_TESTVECTORS when set, then in $top_srcdir/../shared/testvectors/
 *  (the full set, where the checkout has it), then $top_srcdir/tests/data/
 *  (the reduced copies); top_srcdir defaults to ".".  Returns a malloc'd
 *  path (free() it) and says with diag() which one was taken, or NULL (with
 *  a diag) when none exists. */
char *tv_find(const char *type_name, const char *case_name);

#endif /* GLLMK_TESTS_TVEC_H */
