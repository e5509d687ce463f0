/* fatbin-ls.c -- list a fatbin's (or cubin's) images and each kernel's parameters and shared memory
 * SPDX-License-Identifier: MIT
 *
 *   fatbin-ls [--cc M.m ...] [--require sm_80,sm_86,...] [--no-ptx] FILE
 *
 * Prints one line per entry:
 *   entry 0: ELF sm_80 flags=0x11 bytes=20256
 * and, for each uncompressed ELF, one line per kernel:
 *   kernel gk_test_axpy sm_80 regs=10 shared=0 reserved=0 max_threads=0 params=4 param_bytes=24 [0:0+8 1:8+8 2:16+4 3:20+4]
 * (parameter ordinal:offset+size).  --cc M.m prints which entry the emulated
 * driver (and, by the documented rules, the real one) picks for a device of
 * that compute capability:  select sm_86: entry 1 (ELF sm_86)  or  select
 * sm_75: none (reason).  The checks exit with status 1 and a "FAIL: ..." line:
 * --require: an ELF (uncompressed) for each listed SM; --no-ptx: no PTX entry.
 * A malformed image exits with status 2.  Reuses fatbin.c, the reader of the
 * test driver, so the static checks and the driver agree on the layout.
 */
#include "fatbin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 256
#define MAX_CC 16

static unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap)
      break;
    unsigned char *nb = cap < GK_FB_MAX_IMAGE ? realloc(buf, cap * 2) : NULL;
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  if (ferror(f)) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = n;
  return buf;
}

static void usage(void) {
  fprintf(stderr, "usage: fatbin-ls [--cc M.m ...] [--require sm_XX,...] [--no-ptx] FILE\n");
  exit(2);
}

static void list_kernels(const gk_fb_entry *e) {
  gk_fb_cubin c;
  char err[256];
  if (gk_fb_cubin_parse(e->data, e->size, &c, err, sizeof err) != GK_FB_OK) {
    printf("  malformed cubin: %s\n", err);
    gk_fb_cubin_free(&c);
    return;
  }
  for (int i = 0; i < c.nkernels; i++) {
    const gk_fb_kernel *k = &c.kernels[i];
    printf("  kernel %s sm_%u%s regs=%d shared=%u reserved=%u max_threads=%u params=%d "
           "param_bytes=%u [", k->name, c.sm, c.arch_specific ? "a" : "", k->regs,
           k->shared_bytes, k->reserved_shared, k->max_threads, k->nparams, k->param_bytes);
    for (int j = 0; j < k->nparams; j++)
      printf("%s%d:%u+%u", j ? " " : "", j, k->params[j].offset, k->params[j].size);
    printf("]\n");
  }
  gk_fb_cubin_free(&c);
}

int main(int argc, char **argv) {
  const char *path = NULL, *require = NULL;
  int no_ptx = 0, ncc = 0, cc[MAX_CC][2];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--cc") == 0 && i + 1 < argc) {
      if (ncc == MAX_CC || sscanf(argv[++i], "%d.%d", &cc[ncc][0], &cc[ncc][1]) != 2)
        usage();
      ncc++;
    } else if (strcmp(argv[i], "--require") == 0 && i + 1 < argc) {
      require = argv[++i];
    } else if (strcmp(argv[i], "--no-ptx") == 0) {
      no_ptx = 1;
    } else if (argv[i][0] == '-' || path) {
      usage();
    } else {
      path = argv[i];
    }
  }
  if (!path)
    usage();
  size_t size;
  unsigned char *img = read_file(path, &size);
  if (!img) {
    perror(path);
    return 2;
  }
  static gk_fb_entry e[MAX_ENTRIES];
  char err[512];
  int n = 0, status = 0;
  size_t want;
  if (gk_fb_image_size(img, &want, err, sizeof err) != GK_FB_OK || want > size ||
      gk_fb_entries(img, want, e, MAX_ENTRIES, &n, err, sizeof err) != GK_FB_OK) {
    if (want > size && !err[0])
      snprintf(err, sizeof err, "image declares %zu bytes, the file has %zu", want, size);
    printf("%s: malformed: %s\n", path, err);
    free(img);
    return 2;
  }
  if (n > MAX_ENTRIES)
    n = MAX_ENTRIES;
  for (int i = 0; i < n; i++) {
    const char *kind = e[i].kind == GK_FB_KIND_ELF ? "ELF" : e[i].kind == GK_FB_KIND_PTX ? "PTX" : "other";
    printf("entry %d: %s sm_%u%s flags=0x%llx bytes=%zu%s\n", i, kind, e[i].sm,
           e[i].arch_specific ? "a" : "", (unsigned long long)e[i].flags, e[i].size,
           e[i].compressed ? " compressed" : "");
    if (e[i].kind == GK_FB_KIND_ELF && !e[i].compressed)
      list_kernels(&e[i]);
    if (no_ptx && e[i].kind == GK_FB_KIND_PTX) {
      printf("FAIL: entry %d is PTX (compute_%u)\n", i, e[i].sm);
      status = 1;
    }
  }
  for (int i = 0; i < ncc; i++) {
    int pick;
    if (gk_fb_select(e, n, cc[i][0], cc[i][1], &pick, err, sizeof err) == GK_FB_OK)
      printf("select sm_%d%d: entry %d (ELF sm_%u%s)\n", cc[i][0], cc[i][1], pick, e[pick].sm,
             e[pick].arch_specific ? "a" : "");
    else
      printf("select sm_%d%d: none (%s)\n", cc[i][0], cc[i][1], err);
  }
  if (require) {
    const char *s = require;
    while (*s) {
      unsigned sm;
      int used;
      if (sscanf(s, "sm_%u%n", &sm, &used) != 1) {
        fprintf(stderr, "fatbin-ls: bad --require list at '%s'\n", s);
        free(img);
        return 2;
      }
      int found = 0;
      for (int i = 0; i < n; i++)
        found |= e[i].kind == GK_FB_KIND_ELF && !e[i].compressed && e[i].sm == sm &&
                 !e[i].arch_specific;
      if (!found) {
        printf("FAIL: no uncompressed ELF for sm_%u\n", sm);
        status = 1;
      }
      s += used;
      if (*s == ',')
        s++;
    }
  }
  free(img);
  return status;
}
