/* harness.cc -- the execution harness: CUDA kernels run on the CPU, one fiber per thread
 * SPDX-License-Identifier: MIT
 *
 * Build (the lead's automake rules do the same; paths from the source root):
 *
 *   harness objects, never with -fsanitize=thread:
 *     c++ -std=c++17 -O1 -fPIC -Icuda -Itests/cudaemu -c tests/cudaemu/harness.cc
 *     cc  -fPIC -c tests/cudaemu/fiber_x86_64.S       (fiber_aarch64.S on aarch64)
 *   kernel objects (each cuda/<family>.cu; -x c++ because of the .cu suffix):
 *     g++     -std=c++17 -O1 -fPIC -DGK_EMU -Icuda -Itests/cudaemu -x c++ \
 *             -fsanitize=thread --param=tsan-instrument-func-entry-exit=0 -c cuda/X.cu
 *     clang++ ... -fsanitize=thread -mllvm -tsan-instrument-func-entry-exit=false ...
 *     Leave out the two tsan flags where the race check cannot be had (an
 *     -fsanitize=address build: the sanitizers do not combine); race_check is
 *     then a no-op for those kernels and gk_emu_kernel_race_checked() says 0.
 *   link WITHOUT -fsanitize=thread (no libtsan: this file provides the hooks):
 *     c++ -shared -o libcuda.so.1 driver.o harness.o fiber_x86_64.o X.o ... -lpthread
 *   The ASan+UBSan lane adds -fsanitize=address,undefined to every compile and
 *   to the link, as usual; the fibers tell ASan about their stacks.
 *
 * Design.
 *   - Each CUDA thread is a fiber with its own mmap'd stack (guard page below,
 *     64 KiB by default, 256 KiB under ASan, GLLMK_CUDAEMU_STACK_KB or
 *     gk_emu_set_stack_size).  A block's fibers run on the launching OS thread;
 *     blocks run one after another; launches are serialised by a mutex.  The
 *     context switch is fiber_<arch>.S (callee-saved registers and sp only).
 *   - Scheduling: a ready queue.  seed 0 pops it in FIFO order (round-robin);
 *     any other seed pops a random entry (splitmix64), so every switch point
 *     picks a random runnable fiber.  Switch points: __syncthreads*, every warp
 *     collective, every atomic, and thread exit.
 *   - __syncthreads: all threads of the block must arrive at the same call
 *     site (file and line) with the same variant; a thread that exits, or waits
 *     at another barrier, while others wait is GK_EMU_E_BARRIER.
 *   - Warp collectives: every participating lane deposits a request (on its own
 *     stack) and blocks; when all non-exited lanes named in the mask have
 *     arrived with the same operation and mask, the last one computes every
 *     lane's result and makes them all runnable.  A mask that omits the caller,
 *     lanes that meet with different operations or masks, a lane named in the
 *     mask that is waiting at __syncthreads, and mma/ldmatrix without the full
 *     warp are GK_EMU_E_WARP.  As in the PTX ISA, exited lanes named in a mask
 *     do not take part (a shuffle from such a lane returns all ones bits).
 *   - Whenever no fiber is runnable but some are alive, the block is
 *     deadlocked: the error says who waits where.  After any error every
 *     started fiber is resumed once with a kill flag and siglongjmp's back to
 *     its entry, so it leaves through the normal exit path (ASan's fake stacks
 *     freed); the stacks are kept in a pool for the next launch.
 *   - Shared memory: one arena per launch, dynamic part first, then the static
 *     GK_SHARED arrays, carved on first use in each block (16-byte aligned,
 *     with poisoned redzones under ASan) and filled with 0xff bytes, as are the
 *     dynamic bytes at every block start (uninitialised shared memory reads as
 *     NaN / all ones, not as the previous block's data).
 *
 * Race check (options.race_check, for kernels whose TU was compiled with
 * -fsanitize=thread): the compiler calls __tsan_readN/__tsan_writeN before
 * every memory access; those hooks, defined below, test whether the address
 * lies in the running block's arena (one subtraction and compare, so global
 * memory costs a call and a branch) and otherwise keep shadow state per byte
 * of shared memory for the current barrier interval (epoch): the last writer,
 * the set of readers and the set of atomic updaters.  A write ordered after
 * nothing by another thread's read/write, or a read of another thread's
 * write, in the same interval is GK_EMU_E_RACE, except between lanes of one
 * warp ordered by a warp collective both took part in (per-warp generation
 * counters: one for full-warp collectives, one per lane pair for partial
 * masks).  Atomics do not race with atomics.  Limits: accesses the compiler
 * does not instrument are not seen (calls to libc memcpy/memset with a
 * variable size under gcc; clang turns struct copies into memcpy calls too);
 * readers are kept as one lane set per interval, so after a partial-mask
 * collective a write may be reported although each reader was ordered.
 */
#define GK_EMU 1
#include "gk_arch.cuh"

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#  define GK_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define GK_ASAN 1
#  endif
#endif
#ifndef GK_ASAN
#  define GK_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#  define GK_REAL_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define GK_REAL_TSAN 1
#  endif
#endif
#ifndef GK_REAL_TSAN
#  define GK_REAL_TSAN 0   /* 1: this file is built for the real TSan runtime: no hooks */
#endif

#if GK_ASAN
#  include <sanitizer/asan_interface.h>
#  include <sanitizer/common_interface_defs.h>
#endif
#if GK_REAL_TSAN
#  include <sanitizer/tsan_interface.h>
#endif

#if !defined(__x86_64__) && !defined(__aarch64__)
#  error "the harness has a fiber switch for x86-64 and aarch64 only"
#endif

extern "C" {
GK_EMU_HIDDEN void gk_emu_fiber_switch(void **save_sp, void *new_sp);
GK_EMU_HIDDEN void gk_emu_fiber_start(void);
}

/* ================================================================ globals read by emu.h */
namespace gk_emu {
GK_EMU_HIDDEN thread_ctx *g_cur;
GK_EMU_HIDDEN uint3 g_block_idx;
GK_EMU_HIDDEN dim3 g_block_dim, g_grid_dim;
GK_EMU_HIDDEN unsigned long long g_block_gen = 1;
GK_EMU_HIDDEN unsigned char *g_smem;
} /* namespace gk_emu */

namespace {
using namespace gk_emu;

/* ================================================================ data */
enum { ST_READY, ST_BAR, ST_WARP, ST_EXITED };
enum { K_SYNCWARP, K_SHFL, K_VOTE, K_LDMATRIX, K_MMA };
enum { NONE_WARP = 0xfe, MANY_WARPS = 0xff };
enum { RA_READ, RA_WRITE, RA_ATOMIC };

constexpr size_t STATIC_SMEM_MAX = GK_EMU_SMEM_STATIC_MAX;
constexpr size_t REDZONE = GK_ASAN ? 32 : 0;
constexpr int CP_MAX = 64;            /* pending cp.async per thread before the oldest lands */
constexpr int NALLOC_MAX = 64;        /* static arrays named in messages */

struct ctx {                          /* a switchable context: a fiber or the launching thread */
  void *sp;
  void *fake;                         /* ASan fake stack while switched out */
  const void *lo;                     /* stack bounds, for ASan */
  size_t size;
  void *tsan;                         /* real-TSan fiber */
};

struct warp_req {                     /* one lane's part of a warp collective (on its stack) */
  int kind, op, width, bytes;
  unsigned mask;
  int arg;
  unsigned long long val, out;
  int pred;
  const void *p0, *p1, *p2;
  void *pout;
};

struct cp_ent { unsigned char *dst; const unsigned char *src; unsigned group; };

struct fiber : thread_ctx {
  ctx c;
  unsigned char *stk_lo, *stk_hi;     /* usable stack */
  int state;
  bool started;
  const char *bar_file;
  int bar_line, bar_op, bar_res;
  warp_req *req;
  unsigned cp_open;                   /* id of the group cp.async adds to */
  int ncp;
  cp_ent cp[CP_MAX];
  sigjmp_buf kill;
};

struct warp {
  unsigned exist, exited, waiting, at_bar;
  unsigned gen, fullgen;              /* race check: collective generations */
  fiber *lane[32];
};

struct shadow_set { unsigned char warp; unsigned short some, other; unsigned mask, gen; };
struct shadow {                       /* per byte of shared memory */
  unsigned epoch;
  unsigned short w;                   /* writer linear id + 1, 0 none */
  unsigned wg;                        /* writer's warp generation at the write */
  shadow_set r, a;                    /* readers, atomic updaters */
};

struct smem_name { const char *name; size_t off, size; };

struct stack_map { unsigned char *map; size_t len; };

struct launch_state {
  const kernel_node *node;
  void **params;
  unsigned nthreads, nwarps;
  fiber *fibers;                      /* pooled, fiber_cap entries */
  unsigned fiber_cap;
  warp warps[32];
  fiber **rq;                         /* ready queue, ring of nthreads */
  unsigned rq_head, rq_n;
  unsigned long long rng;
  bool seeded, killing;
  ctx main;
  ctx *last_from;
  int err;
  char msg[640];
  /* barrier */
  unsigned bar_count, n_exited;
  const char *bar_file;
  int bar_line, bar_op, bar_acc;
  fiber *bar_first, *first_exited;
  unsigned live;
  /* shared memory */
  unsigned char *arena;
  size_t arena_cap, arena_alloc;      /* usable bytes; bytes allocated */
  size_t dyn, static_base, static_top, static_bytes;
  smem_name names[NALLOC_MAX];
  int nnames;
  /* race check */
  bool race;
  shadow *sh;
  size_t sh_cap;
  unsigned epoch;
  unsigned (*pairgen)[32][32];
  size_t pairgen_cap;
};

launch_state L;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
stack_map *g_stacks;
unsigned g_nstacks;
size_t g_stack_size;                   /* usable bytes per stack, 0 = default */
gk_emu_options g_opts;
bool g_opts_init;
kernel_node *g_kernels;
int g_nkernels;

/* the range the race hooks check: [g_race_lo, g_race_lo + g_race_len) */
GK_EMU_HIDDEN uintptr_t g_race_lo;
GK_EMU_HIDDEN size_t g_race_len;

/* ================================================================ small helpers */
inline fiber *cur() {
  if (__builtin_expect(!g_cur, 0)) {
    fprintf(stderr, "gk_emu: a device function was called outside a kernel launch\n");
    abort();
  }
  return static_cast<fiber *>(g_cur);
}

unsigned long long splitmix(unsigned long long *s) {
  unsigned long long z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

const char *kname() { return L.node ? L.node->k.name : "?"; }

/* Record the first error of the launch: "kernel: block (x,y,z) thread (x,y,z): what". */
__attribute__((format(printf, 3, 4))) void set_err(int code, const fiber *f, const char *fmt, ...) {
  if (L.err) return;
  L.err = code;
  int n = snprintf(L.msg, sizeof L.msg, "%s: block (%u,%u,%u)", kname(), g_block_idx.x,
                   g_block_idx.y, g_block_idx.z);
  if (f && n >= 0 && (size_t)n < sizeof L.msg)
    n += snprintf(L.msg + n, sizeof L.msg - n, " thread (%u,%u,%u)", f->tid.x, f->tid.y, f->tid.z);
  if (n >= 0 && (size_t)n + 2 < sizeof L.msg) {
    L.msg[n++] = ':';
    L.msg[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L.msg + n, sizeof L.msg - n, fmt, ap);
    va_end(ap);
  }
}

/* thread (x,y,z) of a linear id, for messages */
struct tname { char s[40]; };
tname thr(unsigned linear) {
  tname t;
  unsigned bx = g_block_dim.x, by = g_block_dim.y;
  snprintf(t.s, sizeof t.s, "(%u,%u,%u)", linear % bx, linear / bx % by, linear / (bx * by));
  return t;
}

/* ================================================================ context switching */
#if GK_ASAN
void after_switch(void *fake) {
  const void *lo;
  size_t size;
  __sanitizer_finish_switch_fiber(fake, &lo, &size);
  if (L.last_from == &L.main) {       /* learn the launching thread's stack */
    L.main.lo = lo;
    L.main.size = size;
  }
}
#else
inline void after_switch(void *) {}
#endif

/* Switch from context `from` to `to` (to_f: its fiber, NULL for the launching
 * thread).  exiting: `from` is a fiber that never runs again. */
inline void sw(ctx *from, ctx *to, fiber *to_f, bool exiting) {
  g_cur = to_f;
  if (to_f) to_f->started = true;
  L.last_from = from;
#if GK_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &from->fake, to->lo, to->size);
#else
  (void)exiting;
#endif
#if GK_REAL_TSAN
  __tsan_switch_to_fiber(to->tsan, 0);
#endif
  gk_emu_fiber_switch(&from->sp, to->sp);
  after_switch(from->fake);
}

/* After a fiber is resumed: a killed launch unwinds it to its entry. */
inline void resume_check(fiber *f) {
  if (__builtin_expect(L.killing, 0)) siglongjmp(f->kill, 1);
}

void rq_push(fiber *f) {
  L.rq[(L.rq_head + L.rq_n++) % L.nthreads] = f;
}

fiber *rq_pop() {
  if (!L.rq_n) return nullptr;
  if (L.seeded && L.rq_n > 1) {
    unsigned i = (unsigned)(splitmix(&L.rng) % L.rq_n);
    unsigned a = L.rq_head, b = (L.rq_head + i) % L.nthreads;
    fiber *t = L.rq[a];
    L.rq[a] = L.rq[b];
    L.rq[b] = t;
  }
  fiber *f = L.rq[L.rq_head];
  L.rq_head = (L.rq_head + 1) % L.nthreads;
  L.rq_n--;
  return f;
}

/* The running fiber leaves for good or until killed: back to the launcher. */
[[noreturn]] void die(fiber *f) {
  sw(&f->c, &L.main, nullptr, false);
  siglongjmp(f->kill, 1);             /* only a kill resumes a dead fiber */
}

const char *req_name(const warp_req *r) {
  static const char *const shfl[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
                                     "__shfl_xor_sync"};
  static const char *const vote[] = {"__any_sync", "__all_sync", "__ballot_sync",
                                     "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync",
                                     "__reduce_min_sync", "__reduce_max_sync", "__reduce_and_sync",
                                     "__reduce_or_sync", "__reduce_xor_sync", "__match_any_sync",
                                     "__match_all_sync"};
  switch (r->kind) {
  case K_SYNCWARP: return "__syncwarp";
  case K_SHFL: return shfl[r->op & 3];
  case K_VOTE: return vote[r->op];
  case K_LDMATRIX: return "ldmatrix";
  default: return "mma";
  }
}

/* No fiber can run but some are alive: say why, back to the launcher. */
[[noreturn]] void deadlock(fiber *f) {
  for (unsigned i = 0; i < L.nthreads && !L.err; i++) {
    fiber *g = &L.fibers[i];
    if (g->state != ST_WARP) continue;
    warp &w = L.warps[g->warp];
    unsigned miss = g->req->mask & w.exist & ~w.exited & ~w.waiting;
    const char *why = "";
    unsigned l = miss ? (unsigned)__builtin_ctz(miss) : 0;
    if (miss && (w.at_bar >> l & 1)) why = " waits at __syncthreads";
    else if (miss) why = " never arrives";
    set_err(GK_EMU_E_WARP, g, "deadlock: %s (mask 0x%08x) can never complete: lane %u%s", req_name(g->req),
            g->req->mask, l, why);
  }
  if (!L.err) {
    fiber *g = L.bar_first;
    set_err(GK_EMU_E_BARRIER, g, "deadlock: __syncthreads at %s:%d reached by %u of %u threads",
            L.bar_file ? L.bar_file : "?", L.bar_line, L.bar_count, L.nthreads);
  }
  if (f->state == ST_EXITED) {
    sw(&f->c, &L.main, nullptr, true);
    abort();
  }
  die(f);
}

/* f has blocked (its state says on what): run another fiber. */
void yield_blocked(fiber *f) {
  fiber *n = rq_pop();
  if (!n) deadlock(f);
  sw(&f->c, &n->c, n, false);
  resume_check(f);
}

/* A switch point: f stays runnable, another may run first. */
void yield_ready(fiber *f) {
  rq_push(f);
  fiber *n = rq_pop();
  if (n == f) return;
  sw(&f->c, &n->c, n, false);
  resume_check(f);
}

/* ================================================================ race check */
inline bool ordered_lane(unsigned warp_i, unsigned lane, unsigned gen, const fiber *f) {
  const warp &w = L.warps[warp_i];
  if (w.fullgen > gen) return true;
  return L.pairgen[warp_i][lane][f->lane] > gen;
}

/* Are all accesses of set s, other than f's own, ordered before f?  On
 * failure *who is one of the others (linear id + 1). */
bool ordered_set(const shadow_set &s, const fiber *f, unsigned *who) {
  if (s.warp == NONE_WARP) return true;
  if (s.warp == MANY_WARPS) {
    unsigned a = s.some - 1u;
    *who = (a / 32 != f->warp) ? s.some : s.other;
    return false;
  }
  if (s.warp != f->warp) {
    *who = s.some;
    return false;
  }
  unsigned others = s.mask & ~(1u << f->lane);
  if (!others) return true;
  if (L.warps[f->warp].fullgen > s.gen) return true;
  for (unsigned m = others; m; m &= m - 1) {
    unsigned l = (unsigned)__builtin_ctz(m);
    if (!ordered_lane(f->warp, l, s.gen, f)) {
      *who = f->warp * 32 + l + 1;
      return false;
    }
  }
  return true;
}

void set_add(shadow_set &s, const fiber *f, unsigned gen) {
  unsigned me = f->linear + 1;
  if (s.warp == NONE_WARP) {
    s.warp = (unsigned char)f->warp;
    s.mask = 1u << f->lane;
    s.gen = gen;
    s.some = (unsigned short)me;
  } else if (s.warp == f->warp) {
    if (L.warps[f->warp].fullgen > s.gen) {   /* earlier ones precede every lane now */
      s.mask = 1u << f->lane;
      s.some = (unsigned short)me;
    } else {
      s.mask |= 1u << f->lane;
    }
    s.gen = gen;
  } else if (s.warp != MANY_WARPS) {
    s.warp = MANY_WARPS;
    s.other = (unsigned short)me;
  }
}

const char *smem_where(size_t off, char *buf, size_t len) {
  for (int i = 0; i < L.nnames; i++)
    if (off >= L.names[i].off && off < L.names[i].off + L.names[i].size) {
      snprintf(buf, len, "'%s' byte %zu", L.names[i].name, off - L.names[i].off);
      return buf;
    }
  if (off < L.dyn) snprintf(buf, len, "dynamic shared memory byte %zu", off);
  else snprintf(buf, len, "unallocated shared memory (arena byte %zu)", off);
  return buf;
}

[[noreturn]] void race(fiber *f, size_t off, int kind, unsigned other, int okind, const void *pc) {
  static const char *const verb[] = {"read", "written", "atomically updated"};
  static const char *const now[] = {"reads", "writes", "atomically updates"};
  char where[96], pcs[128] = "";
  Dl_info di;
  if (pc && dladdr(pc, &di) && di.dli_fname) {
    if (di.dli_sname)
      snprintf(pcs, sizeof pcs, " at %s+0x%lx", di.dli_sname,
               (unsigned long)((const char *)pc - (const char *)di.dli_saddr));
    else
      snprintf(pcs, sizeof pcs, " at %s+0x%lx", di.dli_fname,
               (unsigned long)((const char *)pc - (const char *)di.dli_fbase));
  }
  set_err(GK_EMU_E_RACE, f,
          "shared-memory race on %s: %s by thread %s, and this thread %s it%s with no barrier between",
          smem_where(off, where, sizeof where), verb[okind], thr(other - 1).s, now[kind], pcs);
  die(cur());                         /* f may be another lane (ldmatrix) */
}

void race_byte(fiber *f, size_t off, int kind, const void *pc) {
  shadow &s = L.sh[off];
  if (s.epoch != L.epoch) {
    s.epoch = L.epoch;
    s.w = 0;
    s.r.warp = s.a.warp = NONE_WARP;
  }
  unsigned me = f->linear + 1, gen = L.warps[f->warp].gen, who = 0;
  if (s.w && s.w != me) {
    unsigned wl = s.w - 1u;
    if (wl / 32 != f->warp || !ordered_lane(wl / 32, wl % 32, s.wg, f)) race(f, off, kind, s.w, RA_WRITE, pc);
  }
  if (kind != RA_READ && !ordered_set(s.r, f, &who)) race(f, off, kind, who, RA_READ, pc);
  if (kind != RA_ATOMIC && !ordered_set(s.a, f, &who)) race(f, off, kind, who, RA_ATOMIC, pc);
  switch (kind) {
  case RA_READ: set_add(s.r, f, gen); break;
  case RA_ATOMIC: set_add(s.a, f, gen); break;
  default:
    s.w = (unsigned short)me;
    s.wg = gen;
    s.r.warp = s.a.warp = NONE_WARP;
  }
}

/* A shared-memory access by fiber f (when the check is on). */
void race_access(fiber *f, size_t off, size_t n, int kind, const void *pc) {
  if (!L.race) return;
  if (off >= L.arena_cap) return;
  if (n > L.arena_cap - off) n = L.arena_cap - off;
  for (size_t i = 0; i < n; i++) race_byte(f, off + i, kind, pc);
}

/* from the hooks: the address is inside the arena (off < g_race_len) */
__attribute__((noinline, unused)) void race_hook(size_t off, size_t n, int kind, const void *pc) {
  if (!g_cur) return;
  race_access(static_cast<fiber *>(g_cur), off, n, kind, pc);
}

void collective_done_gen(warp &w, unsigned part, unsigned wi) {
  unsigned g = ++w.gen;
  if (!L.race) return;
  if (part == (w.exist & ~w.exited)) {
    w.fullgen = g;
    return;
  }
  for (unsigned m = part; m; m &= m - 1) {
    unsigned i = (unsigned)__builtin_ctz(m);
    for (unsigned m2 = part; m2; m2 &= m2 - 1) L.pairgen[wi][i][__builtin_ctz(m2)] = g;
  }
}

/* ================================================================ shared memory helpers */
bool in_arena(const void *p, size_t n) {
  uintptr_t a = (uintptr_t)p, lo = (uintptr_t)L.arena;
  return L.arena && a >= lo && a - lo <= L.arena_cap && n <= L.arena_cap - (a - lo);
}

void smem_poison(size_t off, size_t n) {
#if GK_ASAN
  if (n) ASAN_POISON_MEMORY_REGION(L.arena + off, n);
#else
  (void)off, (void)n;
#endif
}
void smem_unpoison(size_t off, size_t n) {
#if GK_ASAN
  if (n) ASAN_UNPOISON_MEMORY_REGION(L.arena + off, n);
#else
  (void)off, (void)n;
#endif
}

/* ================================================================ cp.async */
void cp_land(fiber *f, const cp_ent &e) {
  race_access(f, (size_t)(e.dst - L.arena), 16, RA_WRITE, nullptr);
  memcpy(e.dst, e.src, 16);
}

/* complete the entries of groups < limit (all when limit is ~0u) */
void cp_complete(fiber *f, unsigned limit) {
  int k = 0;
  for (int i = 0; i < f->ncp; i++) {
    if (f->cp[i].group < limit || limit == ~0u) cp_land(f, f->cp[i]);
    else f->cp[k++] = f->cp[i];
  }
  f->ncp = k;
}

/* ================================================================ warp collectives */
bool req_compatible(const warp_req *a, const warp_req *b) {
  return a->kind == b->kind && a->op == b->op && a->mask == b->mask && a->width == b->width &&
         a->bytes == b->bytes;
}

void do_ldmatrix(warp &w, unsigned wi) {
  const warp_req *r0 = w.lane[0]->req;
  int num = r0->op & 7, trans = r0->op >> 3;
  unsigned short m[4][8][8];
  for (int mi = 0; mi < num; mi++)
    for (int row = 0; row < 8; row++) {
      fiber *src = w.lane[mi * 8 + row];
      const unsigned char *p = (const unsigned char *)src->req->p0;
      if (!in_arena(p, 16) || ((uintptr_t)p & 15)) {
        set_err(GK_EMU_E_TRAP, src, "ldmatrix: row address %p (matrix %d row %d) is not 16-byte aligned shared memory",
                (const void *)p, mi, row);
        return;
      }
      race_access(src, (size_t)(p - L.arena), 16, RA_READ, nullptr);
      memcpy(m[mi][row], p, 16);
    }
  (void)wi;
  for (unsigned i = 0; i < 32; i++) {
    unsigned *out = (unsigned *)w.lane[i]->req->pout;
    unsigned a = i / 4, b = 2 * (i % 4);
    for (int mi = 0; mi < num; mi++)
      out[mi] = trans ? (unsigned)m[mi][b][a] | ((unsigned)m[mi][b + 1][a] << 16)
                      : (unsigned)m[mi][a][b] | ((unsigned)m[mi][a][b + 1] << 16);
  }
}

float half_of(unsigned reg, int hi, int bf) {
  unsigned short h = (unsigned short)(hi ? reg >> 16 : reg & 0xffffu);
  return bf ? __uint_as_float((unsigned)h << 16) : h2f(h);
}

void do_mma(warp &w) {
  int kind = w.lane[0]->req->op;
  if (kind == MMA_S8) {
    int A[16][32], B[32][8];
    for (unsigned i = 0; i < 32; i++) {
      const unsigned *a = (const unsigned *)w.lane[i]->req->p0, *b = (const unsigned *)w.lane[i]->req->p1;
      unsigned g = i / 4, t = i % 4;
      for (int k = 0; k < 4; k++) {
        A[g][4 * t + k] = (signed char)(a[0] >> (8 * k));
        A[g + 8][4 * t + k] = (signed char)(a[1] >> (8 * k));
        A[g][4 * t + 16 + k] = (signed char)(a[2] >> (8 * k));
        A[g + 8][4 * t + 16 + k] = (signed char)(a[3] >> (8 * k));
        B[4 * t + k][g] = (signed char)(b[0] >> (8 * k));
        B[4 * t + 16 + k][g] = (signed char)(b[1] >> (8 * k));
      }
    }
    for (unsigned i = 0; i < 32; i++) {
      const int *c = (const int *)w.lane[i]->req->p2;
      int d[4];
      unsigned g = i / 4, t = i % 4;
      for (int e = 0; e < 4; e++) {
        unsigned row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
        int s = 0;
        for (int k = 0; k < 32; k++) s += A[row][k] * B[k][col];   /* |s| <= 2^19 */
        d[e] = (int)((unsigned)c[e] + (unsigned)s);
      }
      memcpy(w.lane[i]->req->pout, d, sizeof d);
    }
    return;
  }
  int bf = kind == MMA_BF16;
  float A[16][16], B[16][8];
  for (unsigned i = 0; i < 32; i++) {
    const unsigned *a = (const unsigned *)w.lane[i]->req->p0, *b = (const unsigned *)w.lane[i]->req->p1;
    unsigned g = i / 4, t = i % 4;
    for (int h = 0; h < 2; h++) {
      A[g][2 * t + h] = half_of(a[0], h, bf);
      A[g + 8][2 * t + h] = half_of(a[1], h, bf);
      A[g][2 * t + 8 + h] = half_of(a[2], h, bf);
      A[g + 8][2 * t + 8 + h] = half_of(a[3], h, bf);
      B[2 * t + h][g] = half_of(b[0], h, bf);
      B[2 * t + 8 + h][g] = half_of(b[1], h, bf);
    }
  }
  for (unsigned i = 0; i < 32; i++) {
    const float *c = (const float *)w.lane[i]->req->p2;
    float d[4];
    unsigned g = i / 4, t = i % 4;
    for (int e = 0; e < 4; e++) {
      unsigned row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
      double s = c[e];
      for (int k = 0; k < 16; k++) s += (double)A[row][k] * (double)B[k][col];
      d[e] = (float)s;
    }
    memcpy(w.lane[i]->req->pout, d, sizeof d);
  }
}

/* All participants `part` of warp w have arrived: compute every result. */
void complete(warp &w, unsigned wi, unsigned part, fiber *running) {
  const warp_req *r0 = w.lane[__builtin_ctz(part)]->req;
  switch (r0->kind) {
  case K_SHFL: {
    unsigned wd = (unsigned)r0->width;
    for (unsigned m = part; m; m &= m - 1) {
      unsigned i = (unsigned)__builtin_ctz(m), base = i & ~(wd - 1), top = base + wd - 1;
      warp_req *r = w.lane[i]->req;
      int j = (int)i;
      unsigned b = (unsigned)r->arg & 31u;
      switch (r->op) {
      case SHFL_IDX: j = (int)(base | (b & (wd - 1))); break;
      case SHFL_UP: j = (int)i - (int)b; if (j < (int)base) j = (int)i; break;
      case SHFL_DOWN: j = (int)(i + b); if (j > (int)top) j = (int)i; break;
      default: j = (int)(i ^ b); if (j > (int)top) j = (int)i; break;
      }
      r->out = (part >> j & 1) ? w.lane[j]->req->val : ~0ull;   /* not taking part: undefined */
    }
    break;
  }
  case K_VOTE: {
    unsigned ballot = 0, umin = ~0u, umax = 0, sum = 0, band = ~0u, bor = 0, bxor = 0;
    int smin = 0x7fffffff, smax = (int)0x80000000;
    bool alleq = true;
    unsigned long long v0 = r0->val;
    for (unsigned m = part; m; m &= m - 1) {
      unsigned i = (unsigned)__builtin_ctz(m);
      unsigned long long v = w.lane[i]->req->val;
      unsigned u = (unsigned)v;
      if (v) ballot |= 1u << i;
      sum += u;
      umin = u < umin ? u : umin;
      umax = u > umax ? u : umax;
      smin = (int)u < smin ? (int)u : smin;
      smax = (int)u > smax ? (int)u : smax;
      band &= u;
      bor |= u;
      bxor ^= u;
      alleq = alleq && v == v0;
    }
    for (unsigned m = part; m; m &= m - 1) {
      unsigned i = (unsigned)__builtin_ctz(m);
      warp_req *r = w.lane[i]->req;
      switch (r->op) {
      case VOTE_ANY: r->out = ballot != 0; break;
      case VOTE_ALL: r->out = ballot == part; break;
      case VOTE_BALLOT: r->out = ballot; break;
      case RED_ADD: r->out = sum; break;
      case RED_MIN: r->out = umin; break;
      case RED_MAX: r->out = umax; break;
      case RED_SMIN: r->out = (unsigned)smin; break;
      case RED_SMAX: r->out = (unsigned)smax; break;
      case RED_AND: r->out = band; break;
      case RED_OR: r->out = bor; break;
      case RED_XOR: r->out = bxor; break;
      case MATCH_ANY: {
        unsigned mm = 0;
        for (unsigned m2 = part; m2; m2 &= m2 - 1)
          if (w.lane[__builtin_ctz(m2)]->req->val == r->val) mm |= 1u << __builtin_ctz(m2);
        r->out = mm;
        break;
      }
      default: r->out = alleq ? part : 0; r->pred = alleq; break;
      }
    }
    break;
  }
  case K_LDMATRIX: do_ldmatrix(w, wi); break;
  case K_MMA: do_mma(w); break;
  default: break;
  }
  collective_done_gen(w, part, wi);
  w.waiting &= ~part;
  for (unsigned m = part; m; m &= m - 1) {
    fiber *g = w.lane[__builtin_ctz(m)];
    g->state = ST_READY;
    if (g != running) rq_push(g);
  }
}

/* The lanes a collective with this mask waits for. */
inline unsigned needed(const warp &w, const warp_req *r) {
  return r->mask & w.exist & ~w.exited;
}

/* A lane of w left (exited): collectives that waited for it may be complete. */
void warp_lane_gone(warp &w, unsigned wi) {
  while (w.waiting) {
    const warp_req *r = w.lane[__builtin_ctz(w.waiting)]->req;
    unsigned need = needed(w, r);
    if (r->kind == K_LDMATRIX || r->kind == K_MMA) {
      set_err(GK_EMU_E_WARP, w.lane[__builtin_ctz(w.waiting)],
              "%s needs every lane of the warp, but a lane exited", req_name(r));
      return;
    }
    if ((w.waiting & need) != need || !need) return;
    complete(w, wi, need, nullptr);
  }
}

void collective(warp_req *r) {
  fiber *f = cur();
  warp &w = L.warps[f->warp];
  unsigned bit = 1u << f->lane;
  if (!(r->mask & bit)) {
    set_err(GK_EMU_E_WARP, f, "%s with mask 0x%08x, which omits the calling lane %u", req_name(r), r->mask,
            f->lane);
    die(f);
  }
  if (r->kind == K_SHFL && (r->width < 1 || r->width > 32 || (r->width & (r->width - 1)))) {
    set_err(GK_EMU_E_WARP, f, "%s with width %d (not a power of 2 up to 32)", req_name(r), r->width);
    die(f);
  }
  if ((r->kind == K_LDMATRIX || r->kind == K_MMA) && (w.exist != ~0u || w.exited)) {
    set_err(GK_EMU_E_WARP, f, "%s needs all 32 lanes of the warp (block of %u threads%s)", req_name(r),
            L.nthreads, w.exited ? ", a lane exited" : "");
    die(f);
  }
  for (unsigned m = w.waiting; m; m &= m - 1) {
    unsigned l = (unsigned)__builtin_ctz(m);
    const warp_req *q = w.lane[l]->req;
    /* lanes that name each other wait for each other: they must meet at the
     * same operation with the same mask (one that names a lane busy with a
     * collective of another mask simply waits for it to come) */
    if ((q->mask & bit) && (r->mask >> l & 1) && !req_compatible(q, r)) {
      set_err(GK_EMU_E_WARP, f,
              "lanes meet at different warp operations: lane %u at %s (mask 0x%08x), lane %u at %s (mask 0x%08x)",
              f->lane, req_name(r), r->mask, l, req_name(q), q->mask);
      die(f);
    }
  }
  if (unsigned b = needed(w, r) & w.at_bar) {
    unsigned l = (unsigned)__builtin_ctz(b);
    set_err(GK_EMU_E_WARP, f, "%s (mask 0x%08x) names lane %u, which waits at __syncthreads at %s:%d",
            req_name(r), r->mask, l, w.lane[l]->bar_file, w.lane[l]->bar_line);
    die(f);
  }
  f->req = r;
  f->state = ST_WARP;
  w.waiting |= bit;
  unsigned need = needed(w, r);
  if ((w.waiting & need) == need) {
    complete(w, f->warp, need, f);
    if (L.err) die(f);
    yield_ready(f);
  } else {
    yield_blocked(f);
  }
}

/* ================================================================ fibers */
void fiber_exit(fiber *f) {
  if (!L.killing && !L.err) cp_complete(f, ~0u);
  f->state = ST_EXITED;
  L.live--;
  L.n_exited++;
  warp &w = L.warps[f->warp];
  w.exited |= 1u << f->lane;
  if (!L.first_exited) L.first_exited = f;
  fiber *next = nullptr;
  if (!L.killing && !L.err) {
    if (L.bar_count)
      set_err(GK_EMU_E_BARRIER, f, "exited while %u thread(s) wait at __syncthreads at %s:%d (first: thread %s)",
              L.bar_count, L.bar_file, L.bar_line, thr(L.bar_first->linear).s);
    else
      warp_lane_gone(w, f->warp);
    if (!L.err) {
      next = rq_pop();
      if (!next && L.live) deadlock(f);
    }
  }
  sw(&f->c, next ? &next->c : &L.main, next, true);
  abort();                            /* an exited fiber is never resumed */
}

} /* namespace */

extern "C" GK_EMU_HIDDEN void gk_emu_fiber_main(void *arg);
extern "C" void gk_emu_fiber_main(void *arg) {
  fiber *f = static_cast<fiber *>(arg);
  after_switch(nullptr);
  if (sigsetjmp(f->kill, 0) == 0 && !L.killing) L.node->k.invoke(L.params);
  fiber_exit(f);
}

namespace {

void *stack_init(fiber *f) {
  uintptr_t top = (uintptr_t)f->stk_hi & ~(uintptr_t)15;
#if defined(__x86_64__)
  void **sp = (void **)(top - 72);    /* 8 mod 16: after 6 pops and ret, rsp is 16-aligned */
  sp[0] = nullptr;                    /* r15 */
  sp[1] = nullptr;                    /* r14 */
  sp[2] = (void *)&gk_emu_fiber_main; /* r13 */
  sp[3] = f;                          /* r12 */
  sp[4] = nullptr;                    /* rbx */
  sp[5] = nullptr;                    /* rbp */
  sp[6] = (void *)&gk_emu_fiber_start;
  sp[7] = nullptr;
  sp[8] = nullptr;
#else
  void **sp = (void **)(top - 160);
  memset(sp, 0, 160);
  sp[0] = f;                          /* x19 */
  sp[1] = (void *)&gk_emu_fiber_main; /* x20 */
  sp[10] = nullptr;                   /* x29 */
  sp[11] = (void *)&gk_emu_fiber_start; /* x30 */
#endif
  return sp;
}

size_t page_size() {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096;
}

size_t stack_bytes() {
  if (g_stack_size) return g_stack_size;
  size_t kb = GK_ASAN ? 256 : 64;
  if (const char *e = getenv("GLLMK_CUDAEMU_STACK_KB")) {
    long v = strtol(e, nullptr, 10);
    if (v >= 16 && v <= 65536) kb = (size_t)v;
  }
  return kb * 1024;
}

void stacks_free() {
  for (unsigned i = 0; i < g_nstacks; i++) munmap(g_stacks[i].map, g_stacks[i].len);
  free(g_stacks);
  g_stacks = nullptr;
  g_nstacks = 0;
}

/* n stacks of the configured size */
bool stacks_get(unsigned n) {
  size_t pg = page_size(), len = (stack_bytes() + pg - 1) / pg * pg + pg;
  if (g_nstacks && g_stacks[0].len != len) stacks_free();
  if (n <= g_nstacks) return true;
  stack_map *s = (stack_map *)realloc(g_stacks, n * sizeof *s);
  if (!s) return false;
  g_stacks = s;
  for (; g_nstacks < n; g_nstacks++) {
    void *m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    if (mprotect(m, pg, PROT_NONE) != 0) {   /* guard page below the stack */
      munmap(m, len);
      return false;
    }
    g_stacks[g_nstacks].map = (unsigned char *)m;
    g_stacks[g_nstacks].len = len;
  }
  return true;
}

bool fibers_get(unsigned n) {
  if (n <= L.fiber_cap) return true;
  fiber *f = (fiber *)realloc((void *)L.fibers, n * sizeof(fiber));
  if (!f) return false;
  L.fibers = f;
  memset((void *)(f + L.fiber_cap), 0, (n - L.fiber_cap) * sizeof(fiber));
#if GK_REAL_TSAN
  for (unsigned i = L.fiber_cap; i < n; i++) f[i].c.tsan = __tsan_create_fiber(0);
#endif
  L.fiber_cap = n;
  fiber **rq = (fiber **)realloc(L.rq, n * sizeof *rq);
  if (!rq) return false;
  L.rq = rq;
  return true;
}

bool arena_get(size_t dyn) {
  size_t cap = ((dyn + 15) & ~(size_t)15) + STATIC_SMEM_MAX + (GK_ASAN ? NALLOC_MAX * REDZONE + 4096 : 0);
  if (cap <= L.arena_alloc) {
    L.arena_cap = cap;
    return true;
  }
  if (L.arena) {
    smem_unpoison(0, L.arena_alloc);
    free(L.arena);
  }
  L.arena_alloc = 0;
  L.arena = nullptr;
  void *p = nullptr;
  if (posix_memalign(&p, 4096, cap)) return false;
  L.arena = (unsigned char *)p;
  L.arena_alloc = L.arena_cap = cap;
  return true;
}

bool race_get(unsigned nwarps) {
  if (L.arena_cap > L.sh_cap) {
    free(L.sh);
    L.sh = (shadow *)calloc(L.arena_cap, sizeof(shadow));
    L.sh_cap = L.sh ? L.arena_cap : 0;
    if (!L.sh) return false;
  }
  if (nwarps > L.pairgen_cap) {
    free(L.pairgen);
    L.pairgen = (unsigned(*)[32][32])calloc(nwarps, sizeof *L.pairgen);
    L.pairgen_cap = L.pairgen ? nwarps : 0;
    if (!L.pairgen) return false;
  }
  memset(L.pairgen, 0, nwarps * sizeof *L.pairgen);
  return true;
}

unsigned next_epoch() {
  if (++L.epoch == 0) {               /* wrapped: forget everything */
    if (L.sh) memset((void *)L.sh, 0, L.sh_cap * sizeof(shadow));
    L.epoch = 1;
  }
  return L.epoch;
}

void run_block(unsigned bx, unsigned by, unsigned bz) {
  g_block_idx = make_uint3(bx, by, bz);
  g_block_gen++;
  L.bar_count = 0;
  L.bar_file = nullptr;
  L.bar_line = 0;
  L.bar_first = L.first_exited = nullptr;
  L.n_exited = 0;
  L.live = L.nthreads;
  next_epoch();
  /* shared memory: fresh contents for the block */
  L.static_top = L.static_base;
  L.static_bytes = 0;
  L.nnames = 0;
  smem_unpoison(0, L.arena_cap);
  memset(L.arena, 0xff, L.dyn);
  smem_poison(L.dyn, L.arena_cap - L.dyn);
  for (unsigned i = 0; i < L.nwarps; i++) {
    warp &w = L.warps[i];
    w.exited = w.waiting = w.at_bar = 0;
  }
  L.rq_head = L.rq_n = 0;
  for (unsigned i = 0; i < L.nthreads; i++) {
    fiber *f = &L.fibers[i];
#if GK_ASAN
    /* frames left live by the last exit or kill keep their redzones poisoned */
    unsigned char *lo = f->c.sp && (unsigned char *)f->c.sp - 512 > f->stk_lo ? (unsigned char *)f->c.sp - 512 : f->stk_lo;
    if (f->started && f->c.sp) ASAN_UNPOISON_MEMORY_REGION(lo, (size_t)(f->stk_hi - lo));
    f->c.fake = nullptr;
#endif
    f->state = ST_READY;
    f->started = false;
    f->req = nullptr;
    f->ncp = 0;
    f->cp_open = 0;
    f->c.sp = stack_init(f);
    rq_push(f);
  }
  fiber *first = rq_pop();
  sw(&L.main, &first->c, first, false);
  if (L.err) {                        /* unwind every fiber that is still alive */
    L.killing = true;
    for (unsigned i = 0; i < L.nthreads; i++) {
      fiber *f = &L.fibers[i];
      if (f->started && f->state != ST_EXITED) sw(&L.main, &f->c, f, false);
    }
    L.killing = false;
  }
}

void opts_init() {
  if (g_opts_init) return;
  g_opts_init = true;
  g_opts.seed = 0;
  g_opts.race_check = 1;
  if (const char *e = getenv("GLLMK_CUDAEMU_SEED")) g_opts.seed = strtoull(e, nullptr, 0);
  if (const char *e = getenv("GLLMK_CUDAEMU_RACECHECK")) g_opts.race_check = atoi(e) != 0;
}

const kernel_node *node_of(const gk_emu_kernel *k) {
  return reinterpret_cast<const kernel_node *>(reinterpret_cast<const char *>(k) - offsetof(kernel_node, k));
}

} /* namespace */

/* ================================================================ the device API of emu.h */
namespace gk_emu {

kernel_node::kernel_node(const char *name, gk_emu_invoke_fn fn, int n, const unsigned *sz,
                         const unsigned *al, int instr) {
  k.name = name;
  k.invoke = fn;
  k.nparams = n;
  k.param_size = sz;
  k.param_align = al;
  race_instr = instr;
  next = g_kernels;                   /* static init: single-threaded */
  g_kernels = this;
  g_nkernels++;
}

int barrier(int op, int pred, const char *file, int line) {
  fiber *f = cur();
  static const char *const names[] = {"__syncthreads", "__syncthreads_or", "__syncthreads_and",
                                      "__syncthreads_count"};
  if (L.n_exited) {
    set_err(GK_EMU_E_BARRIER, f, "%s at %s:%d can never complete: thread %s has exited", names[op], file, line,
            thr(L.first_exited->linear).s);
    die(f);
  }
  warp &w = L.warps[f->warp];
  for (unsigned m = w.waiting; m; m &= m - 1) {
    unsigned l = (unsigned)__builtin_ctz(m);
    const warp_req *q = w.lane[l]->req;
    if (needed(w, q) >> f->lane & 1) {
      set_err(GK_EMU_E_WARP, w.lane[l], "%s (mask 0x%08x) names lane %u, which went to %s at %s:%d", req_name(q),
              q->mask, f->lane, names[op], file, line);
      die(f);
    }
  }
  if (L.bar_count && (L.bar_line != line || L.bar_op != op || (L.bar_file != file && strcmp(L.bar_file, file)))) {
    set_err(GK_EMU_E_BARRIER, f, "%s at %s:%d while thread %s waits at %s at %s:%d", names[op], file, line,
            thr(L.bar_first->linear).s, names[L.bar_op], L.bar_file, L.bar_line);
    die(f);
  }
  if (!L.bar_count) {
    L.bar_file = file;
    L.bar_line = line;
    L.bar_op = op;
    L.bar_first = f;
    L.bar_acc = op == 2 ? 1 : 0;
  }
  switch (op) {
  case 1: L.bar_acc |= pred; break;
  case 2: L.bar_acc &= pred; break;
  case 3: L.bar_acc += pred; break;
  default: break;
  }
  f->bar_file = file;
  f->bar_line = line;
  f->state = ST_BAR;
  w.at_bar |= 1u << f->lane;
  if (++L.bar_count < L.nthreads) {
    yield_blocked(f);
    return f->bar_res;
  }
  /* the last one: release the block */
  L.bar_count = 0;
  L.bar_file = nullptr;
  next_epoch();
  for (unsigned i = 0; i < L.nwarps; i++) L.warps[i].at_bar = 0;
  for (unsigned i = 0; i < L.nthreads; i++) {
    fiber *g = &L.fibers[i];
    g->state = ST_READY;
    g->bar_res = L.bar_acc;
    if (g != f) rq_push(g);
  }
  yield_ready(f);
  return f->bar_res;
}

void syncwarp(unsigned mask) {
  warp_req r = {};
  r.kind = K_SYNCWARP;
  r.mask = mask;
  collective(&r);
}

unsigned long long shfl(unsigned mask, unsigned long long v, int mode, int arg, int width, int bytes) {
  warp_req r = {};
  r.kind = K_SHFL;
  r.op = mode;
  r.mask = mask;
  r.val = v;
  r.arg = arg;
  r.width = width;
  r.bytes = bytes;
  collective(&r);
  return bytes == 4 ? (r.out & 0xffffffffu) : r.out;
}

unsigned long long vote(unsigned mask, int op, unsigned long long v, int *pred) {
  warp_req r = {};
  r.kind = K_VOTE;
  r.op = op;
  r.mask = mask;
  r.val = v;
  collective(&r);
  if (pred) *pred = r.pred;
  return r.out;
}

unsigned activemask() {
  fiber *f = cur();
  const warp &w = L.warps[f->warp];
  return w.exist & ~w.exited;
}

unsigned long long atomic(void *p, int op, int type, unsigned long long v, unsigned long long cmp) {
  fiber *f = cur();
  static const unsigned char sizes[] = {4, 4, 8, 8, 4, 8, 2};
  unsigned n = sizes[type];
  if ((uintptr_t)p & (n - 1)) {
    set_err(GK_EMU_E_TRAP, f, "atomic on misaligned address %p", p);
    die(f);
  }
  yield_ready(f);
  uintptr_t off = (uintptr_t)p - (uintptr_t)L.arena;
  if (L.race && off < L.arena_cap) race_access(f, off, n, RA_ATOMIC, __builtin_return_address(0));
  unsigned long long old = 0;
  memcpy(&old, p, n);                 /* little-endian: low bytes */
  unsigned long long nv = old;
  switch (type) {
  case AT_F32: {
    float a = from_bits<float>(old), b = from_bits<float>(v);
    if (op == AT_ADD) nv = to_bits(a + b);
    else if (op == AT_EXCH) nv = v;
    break;
  }
  case AT_F64: {
    double a = from_bits<double>(old), b = from_bits<double>(v);
    if (op == AT_ADD) nv = to_bits(a + b);
    else if (op == AT_EXCH) nv = v;
    break;
  }
  default: {
    bool sgn = type == AT_I32 || type == AT_I64;
    unsigned long long mask = n == 8 ? ~0ull : (1ull << (8 * n)) - 1;
    long long so = n == 4 ? (long long)(int)(unsigned)old : (long long)old;
    long long sv = n == 4 ? (long long)(int)(unsigned)v : (long long)v;
    switch (op) {
    case AT_ADD: nv = old + v; break;
    case AT_SUB: nv = old - v; break;
    case AT_EXCH: nv = v; break;
    case AT_MIN: nv = sgn ? (so < sv ? old : v) : (old < v ? old : v); break;
    case AT_MAX: nv = sgn ? (so > sv ? old : v) : (old > v ? old : v); break;
    case AT_INC: nv = old >= v ? 0 : old + 1; break;
    case AT_DEC: nv = (old == 0 || old > v) ? v : old - 1; break;
    case AT_CAS: nv = old == (cmp & mask) ? v : old; break;
    case AT_AND: nv = old & v; break;
    case AT_OR: nv = old | v; break;
    case AT_XOR: nv = old ^ v; break;
    default: break;
    }
    nv &= mask;
    break;
  }
  }
  memcpy(p, &nv, n);
  return old;
}

void trap(const char *what, const char *file, int line) {
  if (!g_cur) {
    fprintf(stderr, "gk_emu: %s at %s:%d outside a kernel launch\n", what, file ? file : "?", line);
    abort();
  }
  fiber *f = cur();
  if (file) set_err(GK_EMU_E_TRAP, f, "%s at %s:%d", what, file, line);
  else set_err(GK_EMU_E_TRAP, f, "%s", what);
  die(f);
}

void *smem_alloc(smem_key *k, size_t size, size_t align, const char *name) {
  fiber *f = cur();
  if (align < 16) align = 16;
  size_t off = (L.static_top + align - 1) & ~(align - 1);
  if (L.static_bytes + size > STATIC_SMEM_MAX || off + size > L.arena_cap ||
      L.dyn + L.static_bytes + size > GK_EMU_SMEM_MAX) {
    set_err(GK_EMU_E_CONFIG, f,
            "shared array '%s' (%zu bytes) does not fit: %zu bytes of static shared memory already, at most %u "
            "static and %u in all (with %zu dynamic)",
            name, size, L.static_bytes, (unsigned)STATIC_SMEM_MAX, (unsigned)GK_EMU_SMEM_MAX, L.dyn);
    die(f);
  }
  k->gen = g_block_gen;
  k->off = off;
  L.static_top = off + size + REDZONE;
  L.static_bytes += size;
  if (L.nnames < NALLOC_MAX) L.names[L.nnames++] = smem_name{name, off, size};
  smem_unpoison(off, size);
  memset(L.arena + off, 0xff, size);
  return L.arena + off;
}

void *smem_dyn() { return L.arena; }

unsigned smem_addr(const void *p) {
  if (!in_arena(p, 0)) {
    fiber *f = cur();
    set_err(GK_EMU_E_TRAP, f, "gk_smem_addr(%p): not a shared-memory address", p);
    die(f);
  }
  return (unsigned)((const unsigned char *)p - L.arena);
}

void ldg_check(const void *p, unsigned bytes) {
  if ((uintptr_t)p & (bytes - 1)) {
    fiber *f = cur();
    set_err(GK_EMU_E_TRAP, f, "misaligned %u-byte global load from %p", bytes, p);
    die(f);
  }
}

void cp_async16(void *smem, const void *gmem) {
  fiber *f = cur();
  if (!in_arena(smem, 16) || ((uintptr_t)smem & 15) || ((uintptr_t)gmem & 15)) {
    set_err(GK_EMU_E_TRAP, f, "cp.async 16 bytes %p -> %p: needs 16-byte aligned global source and shared destination",
            gmem, smem);
    die(f);
  }
  if (f->ncp == CP_MAX) {             /* copies may land any time: the oldest does now */
    cp_land(f, f->cp[0]);
    memmove(f->cp, f->cp + 1, (CP_MAX - 1) * sizeof f->cp[0]);
    f->ncp--;
  }
  f->cp[f->ncp++] = cp_ent{(unsigned char *)smem, (const unsigned char *)gmem, f->cp_open};
}

void cp_async_commit() { cur()->cp_open++; }

void cp_async_wait(int n) {
  fiber *f = cur();
  if (n < 0) cp_complete(f, ~0u);
  else if (f->cp_open > (unsigned)n) cp_complete(f, f->cp_open - (unsigned)n);
}

void ldmatrix(unsigned *r, int num, int trans, const void *row) {
  warp_req q = {};
  q.kind = K_LDMATRIX;
  q.op = num | (trans << 3);
  q.mask = ~0u;
  q.p0 = row;
  q.pout = r;
  collective(&q);
}

void mma(int kind, void *d, const unsigned *a, const unsigned *b, const void *c) {
  warp_req q = {};
  q.kind = K_MMA;
  q.op = kind;
  q.mask = ~0u;
  q.p0 = a;
  q.p1 = b;
  q.p2 = c;
  q.pout = d;
  collective(&q);
}

} /* namespace gk_emu */

/* ================================================================ the C API */
extern "C" {

const gk_emu_kernel *gk_emu_kernel_find(const char *name) {
  for (kernel_node *n = g_kernels; n; n = n->next)
    if (strcmp(n->k.name, name) == 0) return &n->k;
  return nullptr;
}

int gk_emu_kernel_count(void) { return g_nkernels; }

const gk_emu_kernel *gk_emu_kernel_at(int i) {
  if (i < 0 || i >= g_nkernels) return nullptr;
  kernel_node *n = g_kernels;
  for (int j = 0; n && j < g_nkernels - 1 - i; j++) n = n->next;   /* list is newest first */
  return n ? &n->k : nullptr;
}

int gk_emu_race_check_available(void) { return !GK_REAL_TSAN; }

int gk_emu_kernel_race_checked(const gk_emu_kernel *k) {
  return k && node_of(k)->race_instr && !GK_REAL_TSAN;
}

void gk_emu_get_options(gk_emu_options *o) {
  pthread_mutex_lock(&g_lock);
  opts_init();
  *o = g_opts;
  pthread_mutex_unlock(&g_lock);
}

void gk_emu_set_options(const gk_emu_options *o) {
  pthread_mutex_lock(&g_lock);
  opts_init();
  g_opts = *o;
  pthread_mutex_unlock(&g_lock);
}

void gk_emu_set_stack_size(size_t bytes) {
  pthread_mutex_lock(&g_lock);
  g_stack_size = bytes ? (bytes < 16384 ? 16384 : bytes) : 0;
  pthread_mutex_unlock(&g_lock);
}

void gk_emu_release(void) {
  pthread_mutex_lock(&g_lock);
  stacks_free();
#if GK_REAL_TSAN
  for (unsigned i = 0; i < L.fiber_cap; i++) __tsan_destroy_fiber(L.fibers[i].c.tsan);
#endif
  free((void *)L.fibers);
  free(L.rq);
  if (L.arena) smem_unpoison(0, L.arena_alloc);
  free(L.arena);
  free(L.sh);
  free(L.pairgen);
  L = launch_state();
  pthread_mutex_unlock(&g_lock);
}

static int launch_fail(int code, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int launch_fail(int code, char *msg, size_t msglen, const char *fmt, ...) {
  if (msg && msglen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
  }
  return code;
}

int gk_emu_launch(const gk_emu_kernel *k, const unsigned grid[3], const unsigned block[3], size_t dyn_smem,
                  void **params, char *msg, size_t msglen) {
  if (msg && msglen) msg[0] = '\0';
  if (!k || !grid || !block) return launch_fail(GK_EMU_E_CONFIG, msg, msglen, "gk_emu_launch: no kernel or dimensions");
  const char *name = k->name;
  unsigned long long nt = (unsigned long long)block[0] * block[1] * block[2];
  if (!grid[0] || !grid[1] || !grid[2] || !block[0] || !block[1] || !block[2])
    return launch_fail(GK_EMU_E_CONFIG, msg, msglen, "%s: zero grid or block dimension: grid (%u,%u,%u) block (%u,%u,%u)",
                       name, grid[0], grid[1], grid[2], block[0], block[1], block[2]);
  if (block[0] > 1024 || block[1] > 1024 || block[2] > 64 || nt > 1024)
    return launch_fail(GK_EMU_E_CONFIG, msg, msglen,
                       "%s: block (%u,%u,%u): at most 1024 threads, x and y <= 1024, z <= 64", name, block[0],
                       block[1], block[2]);
  if (grid[0] > 0x7fffffffu || grid[1] > 65535 || grid[2] > 65535)
    return launch_fail(GK_EMU_E_CONFIG, msg, msglen, "%s: grid (%u,%u,%u): x <= 2^31-1, y and z <= 65535", name,
                       grid[0], grid[1], grid[2]);
  if (dyn_smem > GK_EMU_SMEM_MAX)
    return launch_fail(GK_EMU_E_CONFIG, msg, msglen, "%s: %zu bytes of dynamic shared memory, at most %u", name,
                       dyn_smem, (unsigned)GK_EMU_SMEM_MAX);
  if (k->nparams > 0 && !params)
    return launch_fail(GK_EMU_E_CONFIG, msg, msglen, "%s: %d parameters but no parameter array", name, k->nparams);

  pthread_mutex_lock(&g_lock);
  opts_init();
#if !GK_REAL_TSAN
  static bool warned;
  if (!warned && dlsym(RTLD_DEFAULT, "__tsan_init")) {   /* ours are hidden: this is libtsan */
    warned = true;
    fprintf(stderr, "gk_emu: libtsan is loaded although the harness has its own __tsan hooks: "
                    "link the kernel objects without -fsanitize=thread (see harness.cc)\n");
  }
#endif
  unsigned n = (unsigned)nt;
  const kernel_node *node = node_of(k);
  bool race = g_opts.race_check && node->race_instr && !GK_REAL_TSAN;
  if (!fibers_get(n) || !stacks_get(n) || !arena_get(dyn_smem) ||
      (race && !race_get((n + 31) / 32))) {
    pthread_mutex_unlock(&g_lock);
    return launch_fail(GK_EMU_E_NOMEM, msg, msglen, "%s: out of memory for %u fiber stacks and shared memory",
                       name, n);
  }
  L.node = node;
  L.params = params;
  L.nthreads = n;
  L.nwarps = (n + 31) / 32;
  L.err = 0;
  L.msg[0] = '\0';
  L.killing = false;
  L.seeded = g_opts.seed != 0;
  L.rng = g_opts.seed;
  L.dyn = dyn_smem;
  L.static_base = (dyn_smem + 15) & ~(size_t)15;
  L.race = race;
  L.main = ctx();
#if GK_REAL_TSAN
  L.main.tsan = __tsan_get_current_fiber();
#endif
  g_block_dim = dim3(block[0], block[1], block[2]);
  g_grid_dim = dim3(grid[0], grid[1], grid[2]);
  g_smem = L.arena;
  for (unsigned i = 0; i < L.nwarps; i++) {
    warp &w = L.warps[i];
    w = warp();
    unsigned lanes = n - i * 32 < 32 ? n - i * 32 : 32;
    w.exist = lanes == 32 ? ~0u : (1u << lanes) - 1;
  }
  for (unsigned i = 0; i < n; i++) {
    fiber *f = &L.fibers[i];
    f->tid = make_uint3(i % block[0], i / block[0] % block[1], i / (block[0] * block[1]));
    f->linear = i;
    f->warp = i / 32;
    f->lane = i % 32;
    f->stk_lo = g_stacks[i].map + page_size();   /* above the guard page */
    f->stk_hi = g_stacks[i].map + g_stacks[i].len;
    f->c.lo = f->stk_lo;
    f->c.size = (size_t)(f->stk_hi - f->stk_lo);
    L.warps[f->warp].lane[f->lane] = f;
  }
  if (race) {
    g_race_lo = (uintptr_t)L.arena;
    g_race_len = L.arena_cap;
  }
  for (unsigned z = 0; z < grid[2] && !L.err; z++)
    for (unsigned y = 0; y < grid[1] && !L.err; y++)
      for (unsigned x = 0; x < grid[0] && !L.err; x++) run_block(x, y, z);
  g_race_len = 0;
  g_cur = nullptr;
  int err = L.err;
  if (err && msg && msglen) snprintf(msg, msglen, "%s", L.msg);
  L.node = nullptr;
  L.params = nullptr;
  pthread_mutex_unlock(&g_lock);
  return err;
}

} /* extern "C" */

/* ================================================================ race hooks (gcc/clang -fsanitize=thread) */
#if !GK_REAL_TSAN
#define GK_HOOK(n, kind) \
  do { \
    size_t o_ = (uintptr_t)(p) - g_race_lo; \
    if (__builtin_expect(o_ < g_race_len, 0)) race_hook(o_, n, kind, __builtin_return_address(0)); \
  } while (0)

extern "C" {
#define GK_HOOKS(N) \
  GK_EMU_HIDDEN void __tsan_read##N(void *p) { GK_HOOK(N, RA_READ); } \
  GK_EMU_HIDDEN void __tsan_write##N(void *p) { GK_HOOK(N, RA_WRITE); } \
  GK_EMU_HIDDEN void __tsan_unaligned_read##N(void *p) { GK_HOOK(N, RA_READ); } \
  GK_EMU_HIDDEN void __tsan_unaligned_write##N(void *p) { GK_HOOK(N, RA_WRITE); } \
  GK_EMU_HIDDEN void __tsan_volatile_read##N(void *p) { GK_HOOK(N, RA_READ); } \
  GK_EMU_HIDDEN void __tsan_volatile_write##N(void *p) { GK_HOOK(N, RA_WRITE); } \
  GK_EMU_HIDDEN void __tsan_unaligned_volatile_read##N(void *p) { GK_HOOK(N, RA_READ); } \
  GK_EMU_HIDDEN void __tsan_unaligned_volatile_write##N(void *p) { GK_HOOK(N, RA_WRITE); } \
  GK_EMU_HIDDEN void __tsan_read##N##_pc(void *p, void *) { GK_HOOK(N, RA_READ); } \
  GK_EMU_HIDDEN void __tsan_write##N##_pc(void *p, void *) { GK_HOOK(N, RA_WRITE); }
GK_HOOKS(1)
GK_HOOKS(2)
GK_HOOKS(4)
GK_HOOKS(8)
GK_HOOKS(16)
#undef GK_HOOKS
GK_EMU_HIDDEN void __tsan_read_range(void *p, size_t n) { GK_HOOK(n, RA_READ); }
GK_EMU_HIDDEN void __tsan_write_range(void *p, size_t n) { GK_HOOK(n, RA_WRITE); }
GK_EMU_HIDDEN void __tsan_init(void) {}
GK_EMU_HIDDEN void __tsan_func_entry(void *) {}
GK_EMU_HIDDEN void __tsan_func_exit(void) {}
GK_EMU_HIDDEN void __tsan_vptr_update(void **, void *) {}
GK_EMU_HIDDEN void __tsan_vptr_read(void **) {}
GK_EMU_HIDDEN void __tsan_ignore_thread_begin(void) {}
GK_EMU_HIDDEN void __tsan_ignore_thread_end(void) {}
GK_EMU_HIDDEN void __tsan_atomic_thread_fence(int) {}
GK_EMU_HIDDEN void __tsan_atomic_signal_fence(int) {}
GK_EMU_HIDDEN void *__tsan_memcpy(void *d, const void *p, size_t n) {
  GK_HOOK(n, RA_READ);
  {
    void *q = d;
    size_t o_ = (uintptr_t)q - g_race_lo;
    if (o_ < g_race_len) race_hook(o_, n, RA_WRITE, __builtin_return_address(0));
  }
  return memcpy(d, p, n);
}
GK_EMU_HIDDEN void *__tsan_memmove(void *d, const void *p, size_t n) {
  GK_HOOK(n, RA_READ);
  size_t o_ = (uintptr_t)d - g_race_lo;
  if (o_ < g_race_len) race_hook(o_, n, RA_WRITE, __builtin_return_address(0));
  return memmove(d, p, n);
}
GK_EMU_HIDDEN void *__tsan_memset(void *p, int c, size_t n) {
  GK_HOOK(n, RA_WRITE);
  return memset(p, c, n);
}
} /* extern "C" */
#endif /* !GK_REAL_TSAN */
