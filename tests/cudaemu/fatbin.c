/* fatbin.c -- a strict reader of CUDA fatbins and cubins (see fatbin.h for the layouts)
 * SPDX-License-Identifier: MIT
 *
 * Every read goes through rd16/rd32/rd64 on a (pointer, size) pair after a
 * bounds check written as "off <= size && n <= size - off", which cannot
 * overflow.  Nothing here trusts a count or an offset it has not checked.
 */
#include "fatbin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ helpers */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* [off, off + n) lies inside [0, size) */
static int in_range(size_t size, uint64_t off, uint64_t n) { return off <= size && n <= size - off; }

static unsigned rd16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static const unsigned char elf_magic[4] = {0x7f, 'E', 'L', 'F'};

enum {
  EHDR_SIZE = 64, SHDR_SIZE = 64, PHDR_SIZE = 56, SYM_SIZE = 24,
  EM_CUDA = 190,
  SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8,
  STT_FUNC = 2, STB_LOCAL = 0,
  SHN_LORESERVE = 0xff00,
  EIFMT_SVAL = 4,
  EIATTR_MAX_THREADS = 0x05, EIATTR_PARAM_CBANK = 0x0a, EIATTR_REQNTID = 0x10,
  EIATTR_KPARAM_INFO = 0x17, EIATTR_CBANK_PARAM_SIZE = 0x19, EIATTR_REGCOUNT = 0x2f,
  NVCOMPAT_ARCH_SPECIFIC = 9,
  MAX_PARAMS = 8192,            /* 32764 bytes of parameters at 4 bytes each, rounded up */
  MAX_PARAM_BYTES = 32764,      /* CUDA 12.1+ limit of a kernel's parameter block */
  RESERVED_SHARED = 1024        /* system-reserved shared memory per block, CC >= 8.0 */
};

/* The ELF's architecture from its header; 0 when it is not a CUDA ELF. */
static unsigned elf_sm(const unsigned char *p, size_t size, int *arch_specific, int *abi) {
  if (size < EHDR_SIZE || memcmp(p, elf_magic, 4) != 0 || p[4] != 2 || p[5] != 1 ||
      rd16(p + 18) != EM_CUDA)
    return 0;
  uint32_t fl = rd32(p + 48);
  *abi = p[8];
  if (p[8] >= 8) {
    *arch_specific = (fl & 0x8) != 0;
    return (fl >> 8) & 0xff;
  }
  *arch_specific = (fl & 0x800) != 0;
  return fl & 0xff;
}

/* ----------------------------------------------------------------- fatbins */

int gk_fb_image_size(const void *image, size_t *size, char *err, size_t errlen) {
  const unsigned char *p = image;
  if (!p)
    return fail(err, errlen, GK_FB_E_MALFORMED, "no image (NULL)");
  if (rd32(p) == GK_FB_MAGIC) {
    unsigned hsz = rd16(p + 6);
    uint64_t body = rd64(p + 8);
    if (hsz < 16)
      return fail(err, errlen, GK_FB_E_MALFORMED, "fatbin header size %u < 16", hsz);
    if (body > GK_FB_MAX_IMAGE - hsz)
      return fail(err, errlen, GK_FB_E_MALFORMED, "fatbin declares %llu bytes (too large)",
                  (unsigned long long)body);
    *size = hsz + (size_t)body;
    return GK_FB_OK;
  }
  if (memcmp(p, elf_magic, 4) == 0) {
    /* the first 4 bytes matched: the rest of the 64-byte header is read */
    if (p[4] != 2 || p[5] != 1)
      return fail(err, errlen, GK_FB_E_MALFORMED, "ELF image is not 64-bit little-endian");
    uint64_t shoff = rd64(p + 40), phoff = rd64(p + 32);
    uint64_t sh_end = shoff + (uint64_t)rd16(p + 60) * rd16(p + 58);
    uint64_t ph_end = phoff + (uint64_t)rd16(p + 56) * rd16(p + 54);
    if (shoff > GK_FB_MAX_IMAGE || phoff > GK_FB_MAX_IMAGE)
      return fail(err, errlen, GK_FB_E_MALFORMED, "ELF header table offsets too large");
    uint64_t end = sh_end > ph_end ? sh_end : ph_end;
    if (end < EHDR_SIZE)
      end = EHDR_SIZE;
    if (end > GK_FB_MAX_IMAGE)
      return fail(err, errlen, GK_FB_E_MALFORMED, "ELF image too large");
    *size = (size_t)end;
    return GK_FB_OK;
  }
  return fail(err, errlen, GK_FB_E_MALFORMED,
              "neither a fatbin (magic 0x%08x) nor an ELF cubin", GK_FB_MAGIC);
}

int gk_fb_entries(const void *image, size_t size, gk_fb_entry *e, int max, int *n, char *err,
                  size_t errlen) {
  const unsigned char *p = image;
  int count = 0;
  *n = 0;
  if (!p || size < 4)
    return fail(err, errlen, GK_FB_E_MALFORMED, "image too short (%zu bytes)", size);
  if (memcmp(p, elf_magic, 4) == 0) {        /* a bare cubin: one entry */
    int as = 0, abi = 0;
    unsigned sm = elf_sm(p, size, &as, &abi);
    if (!sm)
      return fail(err, errlen, GK_FB_E_MALFORMED, "ELF image is not a 64-bit CUDA cubin");
    /* the whole cubin is validated here, and its .nv.compat read */
    gk_fb_cubin c;
    int rc = gk_fb_cubin_parse(p, size, &c, err, errlen);
    as = c.arch_specific;
    gk_fb_cubin_free(&c);
    if (rc != GK_FB_OK)
      return rc;
    if (max > 0) {
      memset(&e[0], 0, sizeof e[0]);
      e[0].kind = GK_FB_KIND_ELF;
      e[0].sm = sm;
      e[0].arch_specific = as;
      e[0].size = size;
      e[0].data = p;
    }
    *n = 1;
    return GK_FB_OK;
  }
  if (size < 16 || rd32(p) != GK_FB_MAGIC)
    return fail(err, errlen, GK_FB_E_MALFORMED, "not a fatbin (magic 0x%08x expected)", GK_FB_MAGIC);
  unsigned version = rd16(p + 4), hsz = rd16(p + 6);
  uint64_t body = rd64(p + 8);
  if (version != 1)
    return fail(err, errlen, GK_FB_E_MALFORMED, "fatbin version %u (1 expected)", version);
  if (hsz < 16 || !in_range(size, hsz, body))
    return fail(err, errlen, GK_FB_E_MALFORMED,
                "fatbin header (size %u) declares %llu bytes of entries, image has %zu", hsz,
                (unsigned long long)body, size);
  size_t q = hsz, end = hsz + (size_t)body;
  while (q < end) {
    if (!in_range(end, q, 64))
      return fail(err, errlen, GK_FB_E_MALFORMED,
                  "fatbin entry at offset %zu: header runs past the end (%zu)", q, end);
    const unsigned char *h = p + q;
    unsigned kind = rd16(h);
    uint32_t ehsz = rd32(h + 4);
    uint64_t psz = rd64(h + 8);
    uint32_t csz = rd32(h + 16);
    uint32_t sm = rd32(h + 28);
    uint64_t flags = rd64(h + 40);
    if (ehsz < 64 || !in_range(end, q, ehsz))
      return fail(err, errlen, GK_FB_E_MALFORMED,
                  "fatbin entry at offset %zu: header size %u out of range", q, (unsigned)ehsz);
    if (!in_range(end, q + ehsz, psz))
      return fail(err, errlen, GK_FB_E_MALFORMED,
                  "fatbin entry at offset %zu: payload of %llu bytes runs past the end (%zu)", q,
                  (unsigned long long)psz, end);
    if (sm == 0 || sm > 255)
      return fail(err, errlen, GK_FB_E_MALFORMED, "fatbin entry at offset %zu: arch %u", q,
                  (unsigned)sm);
    int compressed = (flags & (GK_FB_FLAG_LZ4 | GK_FB_FLAG_ZSTD)) || csz != 0;
    if (compressed && csz > psz)
      return fail(err, errlen, GK_FB_E_MALFORMED,
                  "fatbin entry at offset %zu: compressed size %u > payload %llu", q,
                  (unsigned)csz, (unsigned long long)psz);
    size_t data = q + ehsz;
    if (kind == GK_FB_KIND_ELF && !compressed) {
      int as = 0, abi = 0;
      unsigned esm = elf_sm(p + data, (size_t)psz, &as, &abi);
      if (!esm)
        return fail(err, errlen, GK_FB_E_MALFORMED,
                    "fatbin ELF entry for sm_%u at offset %zu is not a CUDA cubin", (unsigned)sm,
                    q);
      if (esm != sm)
        return fail(err, errlen, GK_FB_E_MALFORMED,
                    "fatbin entry says sm_%u but its ELF is sm_%u", (unsigned)sm, esm);
      if (as)
        flags |= GK_FB_FLAG_ARCH_SPECIFIC;
    }
    if (count < max) {
      gk_fb_entry *x = &e[count];
      memset(x, 0, sizeof *x);
      x->kind = (int)kind;
      x->sm = sm;
      x->arch_specific = (flags & GK_FB_FLAG_ARCH_SPECIFIC) != 0;
      x->compressed = compressed;
      x->flags = flags;
      x->offset = data;
      x->size = (size_t)psz;
      x->data = p + data;
    }
    count++;
    q = data + (size_t)psz;
  }
  *n = count;
  return GK_FB_OK;
}

static const char *kind_name(int kind) {
  return kind == GK_FB_KIND_ELF ? "ELF" : kind == GK_FB_KIND_PTX ? "PTX" : "non-executable";
}

int gk_fb_select(const gk_fb_entry *e, int n, int major, int minor, int *pick, char *err,
                 size_t errlen) {
  unsigned want = (unsigned)(major * 10 + minor);
  int best = -1, ptx = -1;
  *pick = -1;
  for (int i = 0; i < n; i++) {
    const gk_fb_entry *x = &e[i];
    if (x->kind == GK_FB_KIND_PTX && x->sm <= want)
      ptx = i;
    if (x->kind != GK_FB_KIND_ELF || x->sm / 10 != (unsigned)major || x->sm > want)
      continue;
    if (x->arch_specific && x->sm != want)
      continue;
    if (best < 0 || x->sm > e[best].sm ||
        (x->sm == e[best].sm && x->arch_specific && !e[best].arch_specific))
      best = i;
  }
  if (best >= 0 && e[best].compressed)
    return fail(err, errlen, GK_FB_E_NOBINARY,
                "the sm_%u%s ELF for this sm_%d%d device is %s-compressed: the emulated driver "
                "does not decompress (build the fatbin without -compress-all)",
                e[best].sm, e[best].arch_specific ? "a" : "",
                major, minor, (e[best].flags & GK_FB_FLAG_ZSTD) ? "zstd" : "LZ4");
  if (best >= 0) {
    *pick = best;
    return GK_FB_OK;
  }
  if (ptx >= 0)
    return fail(err, errlen, GK_FB_E_NOBINARY,
                "no SASS for sm_%d%d, only PTX (compute_%u) that the real driver would JIT: the "
                "emulated driver runs SASS-only images", major, minor, e[ptx].sm);
  char have[256];
  size_t len = 0;
  have[0] = 0;
  for (int i = 0; i < n && len < sizeof have - 32; i++) {
    int k = snprintf(have + len, sizeof have - len, "%s%s sm_%u%s", len ? "," : "",
                     kind_name(e[i].kind), e[i].sm, e[i].arch_specific ? "a" : "");
    if (k > 0)
      len += (size_t)k;
  }
  return fail(err, errlen, GK_FB_E_NOBINARY, "no image for sm_%d%d (the image has:%s)", major,
              minor, n ? have : " nothing");
}

/* ------------------------------------------------------------------ cubins */

struct elf {
  const unsigned char *p;
  size_t size;
  unsigned shnum;
  const unsigned char *sh;      /* section header table */
  const unsigned char *shstr;   /* section name string table */
  size_t shstr_size;
  char *err;
  size_t errlen;
};

static const unsigned char *shdr(const struct elf *f, unsigned i) { return f->sh + (size_t)i * SHDR_SIZE; }
static uint32_t sh_type(const struct elf *f, unsigned i) { return rd32(shdr(f, i) + 4); }
static uint64_t sh_offset(const struct elf *f, unsigned i) { return rd64(shdr(f, i) + 24); }
static uint64_t sh_size(const struct elf *f, unsigned i) { return rd64(shdr(f, i) + 32); }
static uint32_t sh_link(const struct elf *f, unsigned i) { return rd32(shdr(f, i) + 40); }

/* NUL-terminated string at off of a string table, or NULL. */
static const char *str_at(const unsigned char *tab, size_t tabsize, uint64_t off) {
  if (off >= tabsize || !memchr(tab + off, 0, tabsize - (size_t)off))
    return NULL;
  return (const char *)tab + off;
}

static const char *sh_name(const struct elf *f, unsigned i) {
  return str_at(f->shstr, f->shstr_size, rd32(shdr(f, i)));
}

static unsigned find_section(const struct elf *f, const char *prefix, const char *name) {
  size_t pl = strlen(prefix);
  for (unsigned i = 1; i < f->shnum; i++) {
    const char *s = sh_name(f, i);
    if (s && strncmp(s, prefix, pl) == 0 && strcmp(s + pl, name) == 0)
      return i;
  }
  return 0;
}

/* Walks the attribute records of an .nv.info-format section.  Returns 1 and
 * fills *fmt, *attr, *val, *vlen (the value bytes) for the next record, 0 at
 * the end, -1 when a record runs past the section. */
struct nvinfo_it { const unsigned char *p; size_t size, pos; };
static int nvinfo_next(struct nvinfo_it *it, unsigned *fmt, unsigned *attr,
                       const unsigned char **val, size_t *vlen) {
  if (it->pos == it->size)
    return 0;
  if (!in_range(it->size, it->pos, 4))
    return -1;
  const unsigned char *r = it->p + it->pos;
  *fmt = r[0];
  *attr = r[1];
  if (*fmt == EIFMT_SVAL) {
    size_t len = rd16(r + 2);
    if (!in_range(it->size, it->pos + 4, len))
      return -1;
    *val = r + 4;
    *vlen = len;
    it->pos += 4 + len;
  } else if (*fmt >= 1 && *fmt <= 3) {
    *val = r + 2;
    *vlen = 2;
    it->pos += 4;
  } else {
    return -1;
  }
  return 1;
}

static int section_bytes(const struct elf *f, unsigned i, const unsigned char **p, size_t *n) {
  if (sh_type(f, i) == SHT_NOBITS) {
    *p = NULL;
    *n = 0;
    return 1;
  }
  *p = f->p + sh_offset(f, i);   /* checked for every section in gk_fb_cubin_parse */
  *n = (size_t)sh_size(f, i);
  return 1;
}

static int parse_kernel_info(const struct elf *f, unsigned sec, gk_fb_kernel *k) {
  const unsigned char *p, *val;
  size_t n, vlen;
  unsigned fmt, attr;
  unsigned cbank_size = 0, cbank_param = 0;
  int have_cbank_size = 0, have_cbank_param = 0;
  section_bytes(f, sec, &p, &n);
  struct nvinfo_it it = {p, n, 0};
  int r;
  /* first pass: count the parameters */
  int np = 0;
  while ((r = nvinfo_next(&it, &fmt, &attr, &val, &vlen)) > 0) {
    if (attr == EIATTR_KPARAM_INFO) {
      if (fmt != EIFMT_SVAL || vlen < 12)
        return fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: KPARAM_INFO record of %zu bytes",
                    k->name, vlen);
      unsigned ord = rd16(val + 4);
      if (ord >= MAX_PARAMS)
        return fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameter ordinal %u", k->name, ord);
      if ((int)ord + 1 > np)
        np = (int)ord + 1;
    }
  }
  if (r < 0)
    return fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: .nv.info record runs past its section",
                k->name);
  if (np) {
    k->params = calloc((size_t)np, sizeof *k->params);
    if (!k->params)
      return fail(f->err, f->errlen, GK_FB_E_NOMEM, "out of memory");
  }
  k->nparams = np;
  unsigned char *got = np ? calloc((size_t)np, 1) : NULL;
  if (np && !got)
    return fail(f->err, f->errlen, GK_FB_E_NOMEM, "out of memory");
  it.pos = 0;
  int rc = GK_FB_OK;
  while (rc == GK_FB_OK && nvinfo_next(&it, &fmt, &attr, &val, &vlen) > 0) {
    switch (attr) {
    case EIATTR_KPARAM_INFO: {
      unsigned ord = rd16(val + 4), off = rd16(val + 6), size = rd32(val + 8) >> 18;
      if (got[ord])
        rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameter %u declared twice",
                  k->name, ord);
      else if (size == 0)
        rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameter %u of size 0", k->name, ord);
      got[ord] = 1;
      k->params[ord].offset = off;
      k->params[ord].size = size;
      break;
    }
    case EIATTR_CBANK_PARAM_SIZE:
      if (fmt == EIFMT_SVAL) {
        rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: CBANK_PARAM_SIZE format", k->name);
      } else {
        cbank_size = rd16(val);
        have_cbank_size = 1;
      }
      break;
    case EIATTR_PARAM_CBANK:
      if (fmt != EIFMT_SVAL || vlen < 8)
        rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: PARAM_CBANK record", k->name);
      else {
        cbank_param = rd16(val + 6);
        have_cbank_param = 1;
      }
      break;
    case EIATTR_MAX_THREADS:
    case EIATTR_REQNTID:
      if (fmt != EIFMT_SVAL || vlen < 12) {
        rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: launch bounds record", k->name);
      } else {
        uint64_t t = (uint64_t)rd32(val) * rd32(val + 4) * rd32(val + 8);
        if (t == 0 || t > 1024 || rd32(val) > 1024 || rd32(val + 4) > 1024 || rd32(val + 8) > 64)
          rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: launch bounds %ux%ux%u", k->name,
                    (unsigned)rd32(val), (unsigned)rd32(val + 4), (unsigned)rd32(val + 8));
        else if (attr == EIATTR_MAX_THREADS)
          k->max_threads = (unsigned)t;
        else
          for (int d = 0; d < 3; d++)
            k->reqntid[d] = rd32(val + 4 * d);
      }
      break;
    default:
      break;
    }
  }
  /* the parameter block: every ordinal present, inside the block, no overlap */
  unsigned total = have_cbank_size ? cbank_size : have_cbank_param ? cbank_param : 0;
  if (rc == GK_FB_OK && have_cbank_size && have_cbank_param && cbank_size != cbank_param)
    rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED,
              "%s: parameter block of %u bytes (CBANK_PARAM_SIZE) and %u (PARAM_CBANK)", k->name,
              cbank_size, cbank_param);
  if (rc == GK_FB_OK && total > MAX_PARAM_BYTES)
    rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameter block of %u bytes", k->name,
              total);
  for (int i = 0; rc == GK_FB_OK && i < np; i++) {
    const gk_fb_param *a = &k->params[i];
    if (!got[i])
      rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameter %d missing", k->name, i);
    else if (!have_cbank_size && !have_cbank_param)
      rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameters but no parameter block size",
                k->name);
    else if ((uint64_t)a->offset + a->size > total)
      rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED,
                "%s: parameter %d (offset %u, %u bytes) outside the %u-byte block", k->name, i,
                a->offset, a->size, total);
    for (int j = 0; rc == GK_FB_OK && j < i; j++) {
      const gk_fb_param *b = &k->params[j];
      if (a->offset < b->offset + b->size && b->offset < a->offset + a->size)
        rc = fail(f->err, f->errlen, GK_FB_E_MALFORMED, "%s: parameters %d and %d overlap",
                  k->name, j, i);
    }
  }
  k->param_bytes = total;
  free(got);
  return rc;
}

int gk_fb_cubin_parse(const void *image, size_t size, gk_fb_cubin *c, char *err, size_t errlen) {
  const unsigned char *p = image;
  struct elf f = {p, size, 0, NULL, NULL, 0, err, errlen};
  memset(c, 0, sizeof *c);
  if (!p || size < EHDR_SIZE)
    return fail(err, errlen, GK_FB_E_MALFORMED, "cubin too short (%zu bytes)", size);
  c->sm = elf_sm(p, size, &c->arch_specific, &c->abi_version);
  if (!c->sm)
    return fail(err, errlen, GK_FB_E_MALFORMED, "not a 64-bit little-endian CUDA ELF");
  uint64_t shoff = rd64(p + 40);
  unsigned shentsize = rd16(p + 58), shnum = rd16(p + 60), shstrndx = rd16(p + 62);
  if (shentsize != SHDR_SIZE || shnum == 0 || shoff < EHDR_SIZE ||
      !in_range(size, shoff, (uint64_t)shnum * SHDR_SIZE))
    return fail(err, errlen, GK_FB_E_MALFORMED,
                "cubin section table (offset %llu, %u entries of %u bytes) outside the %zu-byte image",
                (unsigned long long)shoff, shnum, shentsize, size);
  f.shnum = shnum;
  f.sh = p + shoff;
  /* every section's bytes inside the image */
  for (unsigned i = 1; i < shnum; i++)
    if (sh_type(&f, i) != SHT_NOBITS && !in_range(size, sh_offset(&f, i), sh_size(&f, i)))
      return fail(err, errlen, GK_FB_E_MALFORMED, "cubin section %u outside the image", i);
  if (shstrndx == 0 || shstrndx >= shnum || sh_type(&f, shstrndx) != SHT_STRTAB)
    return fail(err, errlen, GK_FB_E_MALFORMED, "cubin has no section name table");
  f.shstr = p + sh_offset(&f, shstrndx);
  f.shstr_size = (size_t)sh_size(&f, shstrndx);

  /* .nv.compat attribute 9: arch-specific (nvcc 13.0 marks sm_90a here) */
  unsigned compat = find_section(&f, ".nv.compat", "");
  if (compat && sh_type(&f, compat) != SHT_NOBITS) {
    const unsigned char *val;
    size_t vlen;
    unsigned fmt, attr;
    struct nvinfo_it it = {p + sh_offset(&f, compat), (size_t)sh_size(&f, compat), 0};
    int r;
    while ((r = nvinfo_next(&it, &fmt, &attr, &val, &vlen)) > 0)
      if (attr == NVCOMPAT_ARCH_SPECIFIC && fmt != EIFMT_SVAL && rd16(val) != 0)
        c->arch_specific = 1;
    if (r < 0)
      return fail(err, errlen, GK_FB_E_MALFORMED, ".nv.compat record runs past its section");
  }

  /* the symbol table */
  unsigned symtab = 0;
  for (unsigned i = 1; i < shnum; i++)
    if (sh_type(&f, i) == SHT_SYMTAB) {
      if (symtab)
        return fail(err, errlen, GK_FB_E_MALFORMED, "cubin has two symbol tables");
      symtab = i;
    }
  if (!symtab)
    return fail(err, errlen, GK_FB_E_MALFORMED, "cubin has no symbol table");
  unsigned strsec = sh_link(&f, symtab);
  if (rd64(shdr(&f, symtab) + 56) != SYM_SIZE || sh_size(&f, symtab) % SYM_SIZE ||
      strsec == 0 || strsec >= shnum || sh_type(&f, strsec) != SHT_STRTAB)
    return fail(err, errlen, GK_FB_E_MALFORMED, "cubin symbol table malformed");
  const unsigned char *syms = p + sh_offset(&f, symtab);
  size_t nsyms = (size_t)(sh_size(&f, symtab) / SYM_SIZE);
  const unsigned char *strs = p + sh_offset(&f, strsec);
  size_t strs_size = (size_t)sh_size(&f, strsec);
  int has_reserved_shared = find_section(&f, ".nv.shared.reserved.", "0") != 0;

  /* kernels: global functions defined in .text.<name> */
  size_t nk = 0;
  for (size_t s = 1; s < nsyms; s++) {
    const unsigned char *y = syms + s * SYM_SIZE;
    if ((y[4] & 0xf) == STT_FUNC && (y[4] >> 4) != STB_LOCAL)
      nk++;
  }
  if (nk) {
    c->kernels = calloc(nk, sizeof *c->kernels);
    if (!c->kernels)
      return fail(err, errlen, GK_FB_E_NOMEM, "out of memory");
  }
  unsigned info = find_section(&f, ".nv.info", "");
  for (size_t s = 1; s < nsyms; s++) {
    const unsigned char *y = syms + s * SYM_SIZE;
    if ((y[4] & 0xf) != STT_FUNC || (y[4] >> 4) == STB_LOCAL)
      continue;
    const char *name = str_at(strs, strs_size, rd32(y));
    unsigned shndx = rd16(y + 6);
    if (!name || !*name)
      return fail(err, errlen, GK_FB_E_MALFORMED, "cubin symbol %zu has a bad name", s);
    if (shndx == 0 || shndx >= SHN_LORESERVE)
      continue;                                   /* undefined: not a kernel here */
    if (shndx >= shnum)
      return fail(err, errlen, GK_FB_E_MALFORMED, "symbol %s: section %u of %u", name, shndx, shnum);
    const char *sec = sh_name(&f, shndx);
    if (!sec || strncmp(sec, ".text.", 6) != 0 || strcmp(sec + 6, name) != 0)
      continue;                                   /* not an entry function */
    for (int j = 0; j < c->nkernels; j++)
      if (strcmp(c->kernels[j].name, name) == 0)
        return fail(err, errlen, GK_FB_E_MALFORMED, "kernel %s defined twice", name);
    gk_fb_kernel *k = &c->kernels[c->nkernels++];
    k->name = dupstr(name);
    if (!k->name)
      return fail(err, errlen, GK_FB_E_NOMEM, "out of memory");
    unsigned ki = find_section(&f, ".nv.info.", name);
    if (ki) {
      int rc = parse_kernel_info(&f, ki, k);
      if (rc != GK_FB_OK)
        return rc;
    }
    unsigned sh = find_section(&f, ".nv.shared.", name);
    if (sh) {
      uint64_t bytes = sh_size(&f, sh);
      if (bytes > (1u << 20))
        return fail(err, errlen, GK_FB_E_MALFORMED, "%s: %llu bytes of static shared memory",
                    name, (unsigned long long)bytes);
      if (has_reserved_shared && bytes >= RESERVED_SHARED) {
        k->reserved_shared = RESERVED_SHARED;
        bytes -= RESERVED_SHARED;
      }
      k->shared_bytes = (unsigned)bytes;
    }
    /* registers: EIATTR_REGCOUNT of the whole cubin's .nv.info */
    if (info && sh_type(&f, info) != SHT_NOBITS) {
      const unsigned char *val;
      size_t vlen;
      unsigned fmt, attr;
      struct nvinfo_it it = {p + sh_offset(&f, info), (size_t)sh_size(&f, info), 0};
      int r;
      while ((r = nvinfo_next(&it, &fmt, &attr, &val, &vlen)) > 0)
        if (attr == EIATTR_REGCOUNT && fmt == EIFMT_SVAL && vlen >= 8 && rd32(val) == s) {
          uint32_t regs = rd32(val + 4);
          if (regs > 255)
            return fail(err, errlen, GK_FB_E_MALFORMED, "%s: %u registers", name, (unsigned)regs);
          k->regs = (int)regs;
        }
      if (r < 0)
        return fail(err, errlen, GK_FB_E_MALFORMED, ".nv.info record runs past its section");
    }
  }
  return GK_FB_OK;
}

void gk_fb_cubin_free(gk_fb_cubin *c) {
  for (int i = 0; i < c->nkernels; i++) {
    free(c->kernels[i].name);
    free(c->kernels[i].params);
  }
  free(c->kernels);
  memset(c, 0, sizeof *c);
}

const gk_fb_kernel *gk_fb_cubin_kernel(const gk_fb_cubin *c, const char *name) {
  for (int i = 0; i < c->nkernels; i++)
    if (strcmp(c->kernels[i].name, name) == 0)
      return &c->kernels[i];
  return NULL;
}
