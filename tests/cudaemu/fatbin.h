/* fatbin.h -- a strict reader of CUDA fatbins and cubins, without CUDA headers
 * SPDX-License-Identifier: MIT
 *
 * Used by the emulated driver (cuModuleLoadData) and by the fatbin-ls tool of
 * the static checks.  It reads untrusted bytes: every offset, size and count
 * is checked against the bytes the image declares before it is used, with
 * overflow-safe arithmetic, and a malformed image gives GK_FB_E_MALFORMED
 * and a one-line reason, never a read outside the image.
 *
 * Layouts (publicly reverse-engineered; every field below was checked on
 * fatbins and cubins built by nvcc 13.0 for sm_80 ... sm_120 and sm_90a).
 * All integers are little-endian.
 *
 * Fatbin: a 16-byte header, then entries back to back.
 *     0  u32 magic 0xBA55ED50      4  u16 version (1)   6  u16 header size (16)
 *     8  u64 bytes of entries that follow the header
 *   Entry header (at least 64 bytes; sm_100 and later write 112):
 *     0  u16 kind: 1 PTX, 2 ELF (others, e.g. LTO IR, are skipped)
 *     2  u16 (0x0101)              4  u32 entry header size
 *     8  u64 payload size (the payload follows the entry header)
 *    16  u32 compressed size (0 when not compressed)
 *    20  u32 offset of an options block inside the entry header, or 0
 *    24  u16 code version minor    26  u16 code version major
 *    28  u32 arch: 80, 86, 90, 100, 120 ...
 *    32  u32 name offset           36  u32 name length
 *    40  u64 flags: 0x1 64-bit, 0x10 Linux host, 0x2000 LZ4-compressed,
 *        0x8000 zstd-compressed, 0x100000 arch-specific (sm_90a)
 *    48  u64 (0)                   56  u64 uncompressed size (when compressed)
 *
 * Cubin: ELF64, little-endian, e_machine EM_CUDA (190).
 *   - Architecture in e_flags.  ABI version (e_ident[8]) 8, written by
 *     CUDA 13: the SM in bits 8-15, arch-specific flag 0x8.  Older ABI (7):
 *     the SM in bits 0-7, arch-specific flag 0x800.  nvcc 13.0 sets neither
 *     flag for sm_90a: it marks it in .nv.compat (attribute 9 = 1), which is
 *     read too.
 *   - A kernel is a global STT_FUNC symbol defined in section .text.<name>.
 *   - .nv.info.<name>: a list of attributes, each  u8 format, u8 attribute,
 *     then for format 4 (EIFMT_SVAL) a u16 length and that many bytes, else
 *     a u16 value.  Used here:
 *       0x17 EIATTR_KPARAM_INFO (SVAL, 12 bytes): u32 index, u16 ordinal,
 *            u16 offset, u32 (size << 18 | cbank << 12 | space << 8 | ...)
 *       0x0a EIATTR_PARAM_CBANK (SVAL): u32 symbol, u16 offset in bank 0,
 *            u16 size of the parameter block
 *       0x19 EIATTR_CBANK_PARAM_SIZE (HVAL): size of the parameter block
 *       0x05 EIATTR_MAX_THREADS (SVAL, 3 u32): __launch_bounds__ maximum
 *       0x10 EIATTR_REQNTID (SVAL, 3 u32): required block size
 *   - .nv.info (the whole cubin's): 0x2f EIATTR_REGCOUNT (SVAL: u32 symbol
 *     index, u32 registers) per kernel.
 *   - .nv.shared.<name> (NOBITS): the kernel's static shared memory.  In
 *     cubins for sm_90 and later (which have a .nv.shared.reserved.0
 *     section) nvcc 13.0 makes every kernel's section 1 KiB larger than its
 *     own variables (ptxas -v reports the smaller number): that first KiB is
 *     the block's system-reserved shared memory, reported apart here.
 */
#ifndef GK_EMU_FATBIN_H
#define GK_EMU_FATBIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  GK_FB_OK = 0,
  GK_FB_E_MALFORMED,   /* not a fatbin or cubin, or inconsistent */
  GK_FB_E_NOBINARY,    /* nothing this device can run */
  GK_FB_E_NOMEM
};

#define GK_FB_MAGIC 0xBA55ED50u
#define GK_FB_KIND_PTX 1
#define GK_FB_KIND_ELF 2
#define GK_FB_FLAG_LZ4 0x2000u
#define GK_FB_FLAG_ZSTD 0x8000u
#define GK_FB_FLAG_ARCH_SPECIFIC 0x100000u
/* Largest image accepted (a sanity bound: the real fatbins are a few MiB). */
#define GK_FB_MAX_IMAGE ((size_t)1 << 30)

/* One entry of a fatbin (or the one ELF of a bare cubin). */
typedef struct gk_fb_entry {
  int kind;                   /* GK_FB_KIND_PTX, GK_FB_KIND_ELF, or another */
  unsigned sm;                /* 10 * major + minor: 80, 86, 90, 100, ... */
  int arch_specific;          /* sm_90a-style: runs only on that exact CC */
  int compressed;             /* LZ4 or zstd: the payload is not the ELF/PTX */
  uint64_t flags;
  size_t offset;              /* of the payload, from the start of the image */
  size_t size;                /* payload bytes */
  const unsigned char *data;  /* the payload, inside the image */
} gk_fb_entry;

/* The number of bytes the image at p declares, reading only its first 16
 * (fatbin) or 64 (ELF) bytes: 16 + the entries' size for a fatbin, the end
 * of the section or program header table (whichever is last) for a cubin.
 * GK_FB_E_MALFORMED when p is neither or the size is absurd. */
int gk_fb_image_size(const void *p, size_t *size, char *err, size_t errlen);

/* The entries of the fatbin (or bare cubin) of size bytes at p, in order;
 * at most max are stored, *n is set to the count (which may exceed max). */
int gk_fb_entries(const void *p, size_t size, gk_fb_entry *e, int max, int *n,
                  char *err, size_t errlen);

/* Which entry the driver runs on a device of compute capability
 * major.minor: the ELF of that exact SM (an arch-specific one preferred),
 * else the plain ELF of the same major with the highest lower minor.  Never
 * another major, never an arch-specific ELF on another CC.  *pick is its
 * index; GK_FB_E_NOBINARY with the reason in err (also when the best ELF is
 * compressed or only PTX would do: neither can be run here). */
int gk_fb_select(const gk_fb_entry *e, int n, int major, int minor, int *pick,
                 char *err, size_t errlen);

/* ----------------------------------------------------------------- cubins */

typedef struct gk_fb_param {
  unsigned offset;   /* in the parameter block */
  unsigned size;
} gk_fb_param;

typedef struct gk_fb_kernel {
  char *name;
  int nparams;
  gk_fb_param *params;        /* by ordinal */
  unsigned param_bytes;       /* size of the parameter block */
  unsigned shared_bytes;      /* static shared memory of the kernel */
  unsigned reserved_shared;   /* system-reserved shared memory counted in its section */
  int regs;                   /* registers per thread, 0 when not recorded */
  unsigned max_threads;       /* __launch_bounds__ (product of the three), 0 if none */
  unsigned reqntid[3];        /* required block size, zeros if none */
} gk_fb_kernel;

typedef struct gk_fb_cubin {
  unsigned sm;
  int arch_specific;
  int abi_version;
  int nkernels;
  gk_fb_kernel *kernels;
} gk_fb_cubin;

/* Parse the cubin of size bytes at p (allocates; free with
 * gk_fb_cubin_free, also after an error). */
int gk_fb_cubin_parse(const void *p, size_t size, gk_fb_cubin *c, char *err, size_t errlen);
void gk_fb_cubin_free(gk_fb_cubin *c);
/* The kernel of that name, or NULL. */
const gk_fb_kernel *gk_fb_cubin_kernel(const gk_fb_cubin *c, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* GK_EMU_FATBIN_H */
