/* bench.h -- what the parts of gllmk-bench in tools/bench/ share
 * SPDX-License-Identifier: MIT
 *
 * gllmk-bench's CPU section is split by job: main.c (options, the driver),
 * util.c, roofline.c (this machine's FMA peak and DRAM bandwidth),
 * peers_openblas.c and peers_ggml.c (the libraries side by side, dlopen'ed),
 * cases_float.c (the float cases, one row each in specs[]), cases_packed.c (the
 * same with weights packed once: gllmk/packed.h), run.c (check,
 * time and print one case), quant.c, cases_quant.c and quant_report.c (the
 * quantized kernels, quant.h), report.c (CSV and JSON).  The CUDA section
 * (cuda.c, cuda_cases.c, cuda.h) and the model section (model.c) keep their
 * own helpers and are entered through bench_cuda() and bench_model().
 */
#ifndef GLLMK_BENCH_H
#define GLLMK_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <gllmk.h>

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#define OMP_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#else
#define OMP_PARALLEL_FOR
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define BENCH_X86 1
#include <immintrin.h>
#else
#define BENCH_X86 0
#endif

#define MiB ((size_t)1 << 20)

typedef enum { DT_F32, DT_F16, DT_BF16 } dtype;
extern const char *const dt_names[3]; /* main.c */
static inline size_t dt_size(dtype t) { return t == DT_F32 ? 4 : 2; }

#define MAX_LIST 16
struct bench_opt {
  int quick, quiet, list, no_openblas, no_compose, no_ggml, threads_given;
  const char *ops[64];
  int n_ops;
  int dtype_mask; /* bit per dtype; 0 = all */
  const char *isas[MAX_LIST];
  int n_isas;
  int threads[MAX_LIST];
  int n_threads;
  double peak[MAX_LIST], bw[MAX_LIST];
  int n_peak, n_bw;
  double min_time; /* seconds per sample */
  int samples;
  double qmin_time; /* the same for the quantized kernels */
  int qsamples;
  const char *csv, *json;
  const char *ggml_dir;       /* --ggml=DIR */
  const char *qtypes[64];     /* --qtype filter */
  int n_qtypes;
  const char *backend;        /* --backend: cpu (default), cuda[:N], auto */
  const char *cublas;         /* --cublas=PATH; "" after --no-cublas */
  const char *models;         /* --models=DIR: the model section's GGUF files */
};
extern struct bench_opt opt;

/* the model section, model.c */
int bench_model(const char *dir, int quick, int quiet, const int *threads, int n_threads,
                const char *csv);

/* the CUDA section, cuda.c */
int bench_cuda(const char *backend, int is_auto, int quick, int quiet, int list, const char *const *ops,
               int n_ops, int dtype_mask, int samples, double min_time, const char *cublas, const char *csv,
               const char *json);

static inline uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline float get_el(const void *p, dtype t, size_t i)
{
  switch (t) {
  case DT_F32: return ((const float *)p)[i];
  case DT_F16: return gllmk_f16_to_f32(((const gllmk_f16 *)p)[i]);
  default: return gllmk_bf16_to_f32(((const gllmk_bf16 *)p)[i]);
  }
}

static inline void set_el(void *p, dtype t, size_t i, float v)
{
  switch (t) {
  case DT_F32: ((float *)p)[i] = v; break;
  case DT_F16: ((gllmk_f16 *)p)[i] = gllmk_f32_to_f16(v); break;
  default: ((gllmk_bf16 *)p)[i] = gllmk_f32_to_bf16(v); break;
  }
}

typedef struct {
  int threads;
  double peak[3]; /* GFLOP/s per class; NaN when not runnable */
  double bw;      /* GB/s */
  int bw_streams; /* streams per thread of the best read kernel */
  int peak_given, bw_given;
} roofline;

enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };
struct bench_ob {
  int tried, ok;
  void *h;
  void (*sgemm)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                float *, int);
  void (*sgemv)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
  float (*sdot)(int, const float *, int, const float *, int);
  void (*set_threads)(int);
  char *(*get_config)(void);
  char *(*get_corename)(void);
  char desc[256];
};
extern struct bench_ob ob;

struct bench_Z {
  size_t big;        /* bytes per array, streaming ops */
  size_t l1n, l2n;   /* vec_dot L1 / L2 resident lengths */
  size_t hidden, ffn, heads, kvh, hd;
  size_t gemm_m1, gemm_m2, gemm_nk;
  size_t gemv_m1, gemv_m2;
  size_t row;        /* softmax / norm row length */
  size_t rope_seq, attn_q, attn_kv, kv, page, prefill;
  size_t vocab, n_ids;
  size_t stream_min; /* rotate GEMV weight copies up to this many bytes */
};
extern struct bench_Z Z;

enum { ROOF_FMA, ROOF_MEM };
typedef struct bcase bcase;
typedef gllmk_status (*run_fn)(bcase *);
struct spec;

#define MAXBUF 32
#define MAXCHK 3
struct bcase {
  const struct spec *sp;
  char shape[96];
  dtype dt;
  int roof;
  double flops, bytes;
  void *bufs[MAXBUF];
  int nbufs;
  uint64_t seed;
  /* operands; meaning per operator, see the builders */
  void *x, *y, *z, *w1, *w2, *w3, *bias, *res, *nw, *nb, *cs, *sn;
  void *o1, *o2, *o3, *t1, *t2, *t3, *w1t, *w2t, *w3t;
  uint32_t *ids, *ids2;
  size_t m, n, k, rows, seq, kv, heads, kvh, hd, rd, pos, page, npages, vocab;
  float eps, scale;
  int causal, inter, toggle;
  /* streamed weights: nrot identical copies, rot_bytes apart, from w1 */
  size_t rot_bytes;
  int nrot, rot;
  /* an in-place operand, restored before every checked run */
  void *save_dst, *save_copy;
  size_t save_bytes;
  /* outputs compared against the scalar ISA */
  struct { void *p; size_t n; dtype t; } chk[MAXCHK];
  int nchk;
  double abs_scale;
  run_fn run, compose, openblas;
  const char *compose_name, *openblas_name;
  /* packed cases (cases_packed.c): the unpacked op, timed side by side, and
   * the packed weights, packed again when the active ISA changes */
  run_fn unpacked;
  const char *unpacked_name;
  int npk;
  void *pk[3];
  const float *pk_src[3];
  size_t pk_n[3], pk_k[3], pk_cap[3];
  int pk_b_layout;
  char pk_isa[24];
};

typedef struct spec {
  const char *group, *op;
  dtype dt;
  int var;
  void (*build)(bcase *c, const struct spec *s);
} spec;

typedef struct {
  const char *group, *op, *dtype;
  char shape[96], isa[16], check[40], target[48];
  const char *roof_kind;
  int threads;
  double max_err, t, gflops, gbs, roof, pct;
  double t_scalar, speedup;
  double t_ob, ob_gflops, ob_gbs, vs_ob;
  char ob_check[24];
  double t_comp, comp_gflops, comp_gbs, fused_speedup;
  char comp_check[24];
  double t_unp, unp_gflops, packed_speedup;   /* packed cases: the unpacked op */
  const char *unp_name;
  const char *comp_name, *ob_name;
  /* quantized kernels: the format, G values/s, ggml side by side */
  char qtype[16], ggml_check[24];
  const char *ggml_name;
  double gvals, t_ggml, ggml_gbs, ggml_gvals, vs_ggml;
} result;

typedef void (*gg_to_float_t)(const void *x, float *y, int64_t k);
typedef void (*gg_from_float_t)(const float *x, void *y, int64_t k);
typedef void (*gg_vec_dot_t)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by,
                             int nrc);
struct gg_traits { /* struct ggml_type_traits */
  const char *type_name;
  int64_t blck_size;
  int64_t blck_size_interleave;
  size_t type_size;
  bool is_quantized;
  gg_to_float_t to_float;
  gg_from_float_t from_float_ref;
};
struct gg_traits_cpu { /* struct ggml_type_traits_cpu */
  gg_from_float_t from_float;
  gg_vec_dot_t vec_dot;
  int vec_dot_type; /* enum ggml_type */
  int64_t nrows;
};
enum { GG_Q4_0 = 2, GG_Q8_0 = 8, GG_Q8_1 = 9, GG_Q8_K = 15 };

struct gg_init_params { /* struct ggml_init_params */
  size_t mem_size;
  void *mem_buffer;
  bool no_alloc;
};
struct bench_gg {
  int tried, ok;
  void *hb, *hc;
  const struct gg_traits *(*traits)(int);
  const struct gg_traits_cpu *(*traits_cpu)(int);
  const char *(*type_name)(int); /* ggml_type_name: "NONE" past GGML_TYPE_COUNT, where traits assert */
  /* ggml_mul_mat through a graph (gg_mm_*): all set, or mm_ok = 0 */
  int mm_ok;
  void *(*init)(struct gg_init_params);
  void (*free)(void *ctx);
  void *(*new_tensor_2d)(void *ctx, int type, int64_t ne0, int64_t ne1);
  void *(*mul_mat)(void *ctx, void *a, void *b);
  void *(*new_graph)(void *ctx);
  void (*build_forward_expand)(void *graph, void *t);
  void *(*get_data)(const void *t);
  size_t (*tensor_overhead)(void), (*graph_overhead)(void);
  int (*compute_with_ctx)(void *ctx, void *graph, int n_threads); /* enum ggml_status: 0 success */
  char desc[1024], dir[512];
};
extern struct bench_gg gg;
/* whether the loaded ggml has type t under this name (a ggml older than the
 * type, e.g. one without MXFP4, would abort in ggml_get_type_traits) */
int gg_has(int t, const char *name);

/* ---------------------------------------------------------------- main.c */
extern const char *prog;
void die(const char *fmt, ...);

/* ---------------------------------------------------------------- util.c */
double now(void);
double median(double *v, int n);
void *xalloc(size_t bytes);
void fill_uniform(void *p, dtype t, size_t n, float lo, float hi, uint64_t seed);
void format_time(char *buf, size_t len, double t);
void format_count(char *buf, size_t len, size_t n);
int isa_runnable(const char *name);
int isa_class(const char *isa);
extern const char *const class_names[3]; /* roofline class -> ISA token */

/* ---------------------------------------------------------------- roofline.c */
/* [0, opt.n_threads): the --threads list, measured by the main loop; then
 * the other thread counts the quantized section needs */
extern roofline roofs[2 * MAX_LIST];
extern int n_roofs;
extern int read_class; /* best vector width for the read kernel */
extern float *bw_buf;  /* the bandwidth buffer, freed by main */
void measure_roofline(int T, roofline *r);
void print_roofline(const roofline *r);

/* ---------------------------------------------------------------- peers_openblas.c */
int openblas_load(void);

/* ---------------------------------------------------------------- cases_float.c */
extern const spec specs[];
extern const int n_specs;
void set_sizes(void);
void c_free(bcase *c);
void c_reset(bcase *c);
const char *spec_label(const spec *s);
int spec_selected(const spec *s);
size_t case_seq(const spec *s);
void *c_alloc(bcase *c, size_t bytes);
void *c_in(bcase *c, dtype t, size_t n, float lo, float hi);
void *c_out(bcase *c, dtype t, size_t n);
void *c_transpose(bcase *c, const float *w, size_t n, size_t k);
void b_gemm(bcase *c, const spec *s);
void b_fused(bcase *c, const spec *s);

/* ---------------------------------------------------------------- cases_packed.c */
void b_packed(bcase *c, const spec *s);

/* ---------------------------------------------------------------- run.c */
extern result *results;
extern int n_results, n_fail, n_mismatch, n_error;
extern int op_w, shape_w; /* column widths */
result *new_result(void);
void fmt_num(char *buf, size_t n, double v, const char *f);
void print_header(const char *group, int T);
void run_case(const spec *s, int ti, int idx, int total);

/* ---------------------------------------------------------------- peers_ggml.c */
int gg_load(void);
/* ggml_mul_mat side by side: Y [m x n] = X [m x k] . W^T, W n rows of ggml
 * type t, rb bytes each (GGUF layout), through a one-node graph computed on
 * T threads (the prefill GEMM llama.cpp runs on the CPU) */
typedef struct {
  void *ctx, *graph, *y, *work;
  size_t work_bytes, n, m;
} gg_mm;
int gg_mm_init(gg_mm *mm, int t, const void *w, size_t rb, size_t n, size_t k, const float *x, size_t m);
int gg_mm_run(gg_mm *mm, int T); /* 0: done */
const float *gg_mm_y(const gg_mm *mm);
void gg_mm_free(gg_mm *mm);

/* ---------------------------------------------------------------- report.c */
void write_csv(const char *path);
void write_json(const char *path);

#endif /* GLLMK_BENCH_H */
