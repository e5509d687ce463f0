/* testutil.h -- shared helpers of the gllmk TAP tests: seeded RNG, guarded
 * (canary-protected) arrays in f32/f16/bf16 and byte buffers, little-endian
 * fields of packed blocks, tolerance checks, ISA and precision loops.
 * SPDX-License-Identifier: MIT
 *
 * Conventions
 *  - Test data is generated in double, rounded to the element type (through
 *    the public gllmk_f32_to_f16 / gllmk_f32_to_bf16), and the rounded value
 *    is what the double reference (ref.h) sees.
 *  - A tu_arr is a heap block: 64 guard bytes, `off` elements of padding (to
 *    make the data pointer unaligned on purpose), n elements, 64 guard bytes.
 *    Everything but the n elements is filled with TU_CANARY and checked with
 *    tu_arr_guards_ok() after each call.
 *  - Tolerances: tu_check_out() accepts |got - ref| <= tol + rtol_out(dt)*|ref|
 *    + atol_out(dt), where tol is the caller's bound for the f32 arithmetic
 *    and rtol_out/atol_out cover the final rounding to the element type.
 *    NaN matches NaN, an infinity matches the same infinity, and a reference
 *    beyond the element type's largest finite value (after rounding) expects
 *    an infinity of the same sign.
 */
#ifndef GLLMK_TESTS_TESTUTIL_H
#define GLLMK_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <gllmk.h>
#include "tap.h"

/* ------------------------------------------------------------------ dtypes */
typedef enum tu_dtype { TU_F32 = 0, TU_F16 = 1, TU_BF16 = 2 } tu_dtype;
#define TU_NDTYPES 3

const char *tu_dtname(tu_dtype dt);
size_t tu_esize(tu_dtype dt);

/** The CPU backend every TU_CALL goes through when the environment variable
 *  GLLMK_TEST_BACKEND=cpu is set (tu_init opens it and reserves a workspace),
 *  so that the same tests check the backend tables; NULL otherwise. */
extern gllmk_backend *tu_be;

/** Call gllmk_<op>_<dt>(...), or the op of the CPU backend's table when tu_be
 *  is set.  Element pointers must be passed as void * (or const void *) so
 *  that every branch type-checks. */
#define TU_CALL(dt, op, ...)                                                          \
  (tu_be ? ((dt) == TU_F32   ? gllmk_backend_ops_f32(tu_be)->op(tu_be, __VA_ARGS__)   \
            : (dt) == TU_F16 ? gllmk_backend_ops_f16(tu_be)->op(tu_be, __VA_ARGS__)   \
                             : gllmk_backend_ops_bf16(tu_be)->op(tu_be, __VA_ARGS__)) \
         : (dt) == TU_F32 ? gllmk_##op##_f32(__VA_ARGS__)                             \
         : (dt) == TU_F16 ? gllmk_##op##_f16(__VA_ARGS__)                             \
                          : gllmk_##op##_bf16(__VA_ARGS__))

/** The value v after a round trip through element type dt (RNE). */
double tu_round_dt(tu_dtype dt, double v);
/** Element i of an array of type dt, widened. */
double tu_get(tu_dtype dt, const void *p, size_t i);
/** Store v (rounded to f32, then to dt) as element i. */
void tu_put(tu_dtype dt, void *p, size_t i, double v);
/** dst[i] = widened src[i]. */
void tu_decode(tu_dtype dt, double *dst, const void *src, size_t n);

/* ------------------------------------------------------------------ RNG */
/** Seed from GLLMK_TEST_SEED (or a fixed default), print it and the CPU/ISA
 *  configuration with diag().  Call once at the start of main. */
void tu_init(void);
/** Same, but prints nothing about the library (makes no library call). */
void tu_init_seed_only(void);
/* The start of a CUDA test program: tu_init_seed_only() and *be = the
 * "cuda" backend, then 1; or 0 after printing the plan of a skipped test,
 * when GLLMK_TEST_NO_CUDA is set (.ci/run's reruns per CPU ISA) or there is
 * no device (a bail-out instead when GLLMK_TEST_REQUIRE_CUDA=1, as
 * tools/gpu-check sets).  Any other failure to open bails out. */
int tu_cuda_open(gllmk_backend **be);
uint64_t tu_seed(void);
uint64_t tu_rand_u64(void);
/** Uniform in [0, 1). */
double tu_rand01(void);
/** Uniform in [lo, hi). */
double tu_uniform(double lo, double hi);
/** Uniform integer in [0, n). */
size_t tu_rand_below(size_t n);
/** Random permutation of 0..n-1. */
void tu_permutation_u32(uint32_t *p, size_t n);

/* ------------------------------------------------------------------ memory */
void *tu_xmalloc(size_t bytes);
/** n doubles, zeroed. */
double *tu_dalloc(size_t n);
/** out[i] = |x[i]| (out may be x). */
void tu_dabs(const double *x, double *out, size_t n);
/** n doubles uniform in [lo, hi) (free()). */
double *tu_random_vec(size_t n, double lo, double hi);
/** n random bytes. */
void tu_fill_random(void *p, size_t n);

/* ------------------------------------------------------------------ bytes */
/** Little-endian 16- and 32-bit fields of packed blocks. */
uint16_t tu_rd16(const unsigned char *p);
void tu_wr16(unsigned char *p, uint16_t v);
void tu_wr32(unsigned char *p, uint32_t v);
/** IEEE binary16 bits to double, written from the standard (not the
 *  library's conversion, which the tests check). */
double tu_h2d(uint16_t h);
/** 4-bit element j of a packed vector, the low nibble first. */
unsigned tu_nib(const unsigned char *p, size_t j);

/* ------------------------------------------------------------------ guarded arrays */
#define TU_CANARY 0xA5u
#define TU_GUARD_BYTES 64

typedef struct tu_arr {
  tu_dtype dt;
  size_t n;             /* elements */
  size_t off;           /* padding elements before the data */
  unsigned char *mem;   /* the allocation (64-byte aligned) */
  size_t mem_bytes;
  void *p;              /* data pointer: mem + TU_GUARD_BYTES + off * esize */
  double *v;            /* n values as stored (rounded to dt), for the reference */
  unsigned char *snap;  /* copy of the data bytes at the last set/snapshot */
} tu_arr;

/** Allocate; the data is poisoned with TU_CANARY bytes and v is zero. */
void tu_arr_alloc(tu_arr *a, tu_dtype dt, size_t n, size_t off);
void tu_arr_free(tu_arr *a);
/** Fill with uniform random values in [lo, hi), rounded to dt. */
void tu_arr_uniform(tu_arr *a, double lo, double hi);
/** Fill from vals (n values, rounded to dt). */
void tu_arr_set(tu_arr *a, const double *vals);
/** Fill the data with TU_CANARY bytes (for outputs); v keeps its values. */
void tu_arr_poison(tu_arr *a);
/** Remember the current data bytes for tu_arr_unchanged(). */
void tu_arr_snapshot(tu_arr *a);
/** dst[i] = current element i (widened). */
void tu_arr_read(const tu_arr *a, double *dst);
/** 1 if every byte outside the data is still TU_CANARY. */
int tu_arr_guards_ok(const tu_arr *a);
/** 1 if the data bytes equal the last snapshot (set/uniform/poison). */
int tu_arr_unchanged(const tu_arr *a);
/** Point a second array view at the same memory (for aliasing tests):
 *  dst shares mem/p with src; free only src. */
void tu_arr_alias(tu_arr *dst, const tu_arr *src);

/* A device mirror of a tu_arr for the CUDA tests: a buffer of the backend
 * holding a copy of the array's whole allocation, guards included; p is the
 * device address of the array's data.  Bails out on any failure. */
typedef struct tu_dv {
  gllmk_backend *be;
  gllmk_buffer *buf;
  void *p;
  tu_arr *a;
} tu_dv;
/** Allocate on be and upload a's allocation. */
void tu_dv_up(gllmk_backend *be, tu_dv *d, tu_arr *a);
/** Upload the host copy again (after the host data changed). */
void tu_dv_reup(tu_dv *d);
/** Synchronize the backend, then download the device copy into the tu_arr. */
void tu_dv_down(tu_dv *d);
/** Free the buffer; *d is zeroed. */
void tu_dv_free(tu_dv *d);

/* Device copies of plain host memory for the CUDA tests: buffers of a
 * pool, freed together.  Each bails out on failure. */
/** A buffer of bytes (+ 16 spare) on be, holding src when not NULL: its device address. */
void *tu_dev(gllmk_backend *be, const void *src, size_t bytes);
/** The same with the data off bytes into the buffer: the address of the data. */
void *tu_dev_at(gllmk_backend *be, const void *src, size_t bytes, size_t off);
/** Upload bytes of src to the device address d (inside a pool buffer). */
void tu_dev_up(void *d, const void *src, size_t bytes);
/** Synchronize be, then download bytes at the device address d into dst. */
void tu_dev_down(gllmk_backend *be, void *dst, const void *d, size_t bytes);
/** Synchronize be and free every pool buffer. */
void tu_dev_free_all(gllmk_backend *be);

/* ------------------------------------------------------------------ guarded byte buffers */
/* Packed quantized blocks and other raw bytes: TU_GUARD_BYTES of TU_CANARY
 * on both sides (at least; the allocation is rounded up to 64 bytes), the
 * data `off` bytes past a 64-byte boundary (off = 1: an odd address).  The
 * data starts as canary bytes too, and snap is a copy of it as of the last
 * tu_buf_snapshot() (done by alloc and random). */
typedef struct tu_buf {
  unsigned char *mem;   /* the allocation (64-byte aligned) */
  size_t mem_bytes;
  unsigned char *p;     /* data: mem + TU_GUARD_BYTES + off */
  size_t n, off;        /* data bytes, offset */
  unsigned char *snap;  /* the data at the last snapshot */
} tu_buf;

void tu_buf_alloc(tu_buf *b, size_t n, size_t off);
void tu_buf_free(tu_buf *b);
/** Random data bytes, then a snapshot. */
void tu_buf_random(tu_buf *b);
void tu_buf_snapshot(tu_buf *b);
/** 1 if every byte outside the data is still TU_CANARY. */
int tu_buf_guards_ok(const tu_buf *b);
/** 1 if the data equals the last snapshot. */
int tu_buf_unchanged(const tu_buf *b);
/** Guards intact and the data as at the last snapshot. */
int tu_buf_untouched(const tu_buf *b);
struct tu_check;
/** Record both conditions for a const input (two checks). */
void tu_buf_check_input(struct tu_check *c, const tu_buf *b, const char *what);

/* ------------------------------------------------------------------ checks */
/** Relative rounding bound of one store to dt: 2^-23, 1e-3, 8e-3. */
double tu_out_rtol(tu_dtype dt);
/** Absolute bound near zero of one store to dt (subnormal spacing). */
double tu_out_atol(tu_dtype dt);
/** Relative error bound of an f32 accumulation of n terms, relative to the
 *  sum of the magnitudes of the terms: 1e-6*sqrt(n) + 2^-22. */
double tu_acc_eps(size_t n);

/** Does got match ref within tol (+ rounding to dt, overflow aware)? */
int tu_match(tu_dtype dt, double got, double ref, double tol);

typedef struct tu_check {
  long fails;
  long count;
  int shown;
} tu_check;

#define TU_SHOW_MAX 4

void tu_check_init(tu_check *c);
/** Compare one output element; on mismatch print (at most TU_SHOW_MAX per
 *  check) the location described by fmt. */
int tu_check_out(tu_check *c, tu_dtype dt, double got, double ref, double tol,
                 const char *fmt, ...) TAP_PRINTF(6, 7);
/** Record a condition. */
int tu_check_true(tu_check *c, int cond, const char *fmt, ...) TAP_PRINTF(3, 4);
/** Record the status of a call that must succeed. */
int tu_check_status(tu_check *c, gllmk_status got, gllmk_status want,
                    const char *fmt, ...) TAP_PRINTF(4, 5);
/** Guards and (for inputs) unchanged data. */
int tu_check_guards(tu_check *c, const tu_arr *a, const char *what);
int tu_check_input(tu_check *c, const tu_arr *a, const char *what);
/** Emit one TAP point: ok when no failure was recorded. */
int tu_check_done(tu_check *c, const char *fmt, ...) TAP_PRINTF(2, 3);

/** "GLLMK_OK", "GLLMK_E_INVAL", ... */
const char *tu_status_name(gllmk_status s);

/* ------------------------------------------------------------------ isolated calls */
/* Bad-input tests run each call in a forked child, so that a crash is a
 * failed check rather than the end of the test program.  The child reports
 * the status, whether the caller's buffers are untouched (evaluated in the
 * child, after the call) and a float result. */
typedef struct tu_iso {
  gllmk_status st;
  int untouched;
  float result;
  int sig;       /* signal that ended the child, 0 if none */
  int lost;      /* the child gave no answer */
} tu_iso;

/** Flush stdio, open a pipe and fork: 0 in the child (which gets a 20 s
 *  alarm), the child's pid in the parent, < 0 when that failed. */
long tu_iso_start(int fds[2]);
/** In the child: send the outcome and _exit(0). */
void tu_iso_send(int fd, gllmk_status st, int untouched, float result) __attribute__((noreturn));
/** In the parent: wait for the child and return its outcome. */
tu_iso tu_iso_collect(long pid, int fds[2]);

/** out = the outcome of EXPR run in a child (inline when fork fails);
 *  UNTOUCHED and RESULT are evaluated after EXPR, in the same process. */
#define TU_ISOLATE(out, UNTOUCHED, RESULT, EXPR)                 \
  do {                                                          \
    int fds__[2];                                               \
    long pid__ = tu_iso_start(fds__);                           \
    if (pid__ == 0) {                                           \
      gllmk_status st__ = (EXPR);                               \
      tu_iso_send(fds__[1], st__, (UNTOUCHED), (RESULT));       \
    } else if (pid__ < 0) {                                     \
      (out).st = (EXPR);                                        \
      (out).untouched = (UNTOUCHED);                            \
      (out).result = (RESULT);                                  \
      (out).sig = (out).lost = 0;                               \
    } else {                                                    \
      (out) = tu_iso_collect(pid__, fds__);                     \
    }                                                           \
  } while (0)

/** Record the outcome of an isolated call in c as one check: it fails when
 *  the child crashed or gave no answer, or returned neither want nor alt
 *  (pass alt = want for one status), or wrote to a watched buffer (what
 *  UNTOUCHED said).  Returns 1 when the check passed. */
int tu_iso_check(tu_check *c, const tu_iso *o, gllmk_status want, gllmk_status alt, const char *desc);

/* Raw buffers watched for writes: a snapshot at tu_watch(), compared by
 * tu_watched_unchanged(); tu_watch_clear() forgets them all. */
void tu_watch(const void *p, size_t n);
int tu_watched_unchanged(void);
void tu_watch_clear(void);

/* ------------------------------------------------------------------ loops */
typedef void (*tu_isa_body)(const char *isa, void *ctx);
typedef void (*tu_isa_dt_body)(const char *isa, tu_dtype dt, void *ctx);
typedef void (*tu_dt_body)(tu_dtype dt, void *ctx);

/** For every token of gllmk_cpu_isa_compiled(): skip("cpu lacks ...") when
 *  gllmk_cpu_isa_check() refuses it, else gllmk_cpu_set_isa() it and run
 *  fn.  Restores "auto" at the end. */
void tu_for_each_isa(tu_isa_body fn, void *ctx);
/** fn(dt) for f32, f16 and bf16. */
void tu_for_each_dtype(tu_dt_body fn, void *ctx);
/** Both loops: every runnable ISA x every precision. */
void tu_for_each_isa_dtype(tu_isa_dt_body fn, void *ctx);

/* Tests that compute a reference once and run it on every ISA keep the
 * list: the ISAs tu_for_each_isa runs (its skip points are printed by the
 * first call), at most TU_MAX_ISA. */
#define TU_MAX_ISA 16
/** The number of ISAs in the list (collected on the first call; bails out
 *  when there is none). */
int tu_isa_count(void);
/** Name of ISA i of the list. */
const char *tu_isa_name(int i);
/** gllmk_cpu_set_isa(ISA i); bails out if that fails. */
void tu_isa_set(int i);

/** Lengths 0..TU_NMAX_SMALL are tested exhaustively by the vector tests. */
#define TU_NMAX_SMALL 130

#endif /* GLLMK_TESTS_TESTUTIL_H */
