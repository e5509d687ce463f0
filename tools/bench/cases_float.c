/* cases_float.c -- gllmk-bench: the float cases, their sizes and builders; one row each in specs[]
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

/* ================================================================ sizes */

struct bench_Z Z;

/* vec_dot "L2-resident": both vectors fill half of this core's L2 */
static size_t l2_dot_len(void)
{
  long l2 = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
  l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (l2 <= 0) l2 = 1L << 20;
  size_t n = (size_t)l2 / 16 / 1024 * 1024;
  return n < 16384 ? 16384 : n > 262144 ? 262144 : n;
}

void set_sizes(void)
{
  if (!opt.quick) {
    Z.big = 64 * MiB; Z.l1n = 4096; Z.l2n = l2_dot_len();
    Z.hidden = 4096; Z.ffn = 11008; Z.heads = 32; Z.kvh = 8; Z.hd = 128;
    Z.gemm_m1 = 512; Z.gemm_m2 = 128; Z.gemm_nk = 4096;
    Z.gemv_m1 = 4096; Z.gemv_m2 = 11008;
    Z.row = 4096; Z.rope_seq = 512; Z.attn_q = 512; Z.attn_kv = 512; Z.kv = 2048; Z.page = 16;
    Z.prefill = 128; Z.vocab = 32000; Z.n_ids = 512; Z.stream_min = 256 * MiB;
  } else {
    Z.big = 16 * MiB; Z.l1n = 4096; Z.l2n = l2_dot_len();
    Z.hidden = 1024; Z.ffn = 2816; Z.heads = 8; Z.kvh = 2; Z.hd = 128;
    Z.gemm_m1 = 128; Z.gemm_m2 = 32; Z.gemm_nk = 1024;
    Z.gemv_m1 = 1024; Z.gemv_m2 = 2816;
    Z.row = 4096; Z.rope_seq = 128; Z.attn_q = 128; Z.attn_kv = 128; Z.kv = 512; Z.page = 16;
    Z.prefill = 32; Z.vocab = 4096; Z.n_ids = 128; Z.stream_min = 0;
  }
}

/* ================================================================ cases */

void *c_alloc(bcase *c, size_t bytes)
{
  if (c->nbufs >= MAXBUF) die("internal: too many buffers");
  void *p = xalloc(bytes);
  c->bufs[c->nbufs++] = p;
  return p;
}
void *c_in(bcase *c, dtype t, size_t n, float lo, float hi)
{
  void *p = c_alloc(c, n * dt_size(t));
  fill_uniform(p, t, n, lo, hi, ++c->seed);
  return p;
}
void *c_out(bcase *c, dtype t, size_t n)
{
  void *p = c_alloc(c, n * dt_size(t));
  memset(p, 0, n * dt_size(t)); /* fault the pages in now, not while timing */
  return p;
}
static void c_chk(bcase *c, void *p, size_t n, dtype t)
{
  c->chk[c->nchk].p = p;
  c->chk[c->nchk].n = n;
  c->chk[c->nchk].t = t;
  c->nchk++;
}
static void c_save(bcase *c, void *p, size_t bytes)
{
  c->save_dst = p;
  c->save_bytes = bytes;
  c->save_copy = c_alloc(c, bytes);
  memcpy(c->save_copy, p, bytes);
}
void c_free(bcase *c)
{
  for (int i = 0; i < c->nbufs; i++) free(c->bufs[i]);
  c->nbufs = 0;
}
void c_reset(bcase *c)
{
  if (c->save_bytes) memcpy(c->save_dst, c->save_copy, c->save_bytes);
  c->toggle = 0;
  c->rot = 0;
}
static void *c_rotw(bcase *c)
{
  if (c->nrot <= 1) return c->w1;
  void *p = (char *)c->w1 + (size_t)c->rot * c->rot_bytes;
  c->rot = (c->rot + 1) % c->nrot;
  return p;
}
/* W [n x k] -> Wt [k x n] (f32), for compositions through gllmk_gemm */
void *c_transpose(bcase *c, const float *w, size_t n, size_t k)
{
  float *t = c_alloc(c, n * k * sizeof(float));
  const size_t B = 64;
  OMP_PARALLEL_FOR
  for (size_t i0 = 0; i0 < n; i0 += B)
    for (size_t j0 = 0; j0 < k; j0 += B)
      for (size_t i = i0; i < i0 + B && i < n; i++)
        for (size_t j = j0; j < j0 + B && j < k; j++) t[j * n + i] = w[i * k + j];
  return t;
}
static double sum_abs(const void *p, dtype t, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += fabs(get_el(p, t, i));
  return s;
}

#define DT3(c, fn, ...)                                                                     \
  ((c)->dt == DT_F32 ? fn##_f32(__VA_ARGS__) : (c)->dt == DT_F16 ? fn##_f16(__VA_ARGS__) \
                                                                 : fn##_bf16(__VA_ARGS__))

/* ---------------------------------------------------------------- BLAS-1 */

static gllmk_status r_vec_dot(bcase *c) { return DT3(c, gllmk_vec_dot, c->x, c->y, c->n, (float *)c->o1); }
static gllmk_status r_vec_add(bcase *c) { return DT3(c, gllmk_vec_add, c->x, c->y, c->o1, c->n); }
static gllmk_status r_vec_sub(bcase *c) { return DT3(c, gllmk_vec_sub, c->x, c->y, c->o1, c->n); }
static gllmk_status r_vec_mul(bcase *c) { return DT3(c, gllmk_vec_mul, c->x, c->y, c->o1, c->n); }
static gllmk_status r_vec_scale(bcase *c)
{ /* alternate s and 1/s so that repeated timing keeps the data in range */
  float s = c->toggle ? 1.0f / 0.75f : 0.75f;
  c->toggle ^= 1;
  return DT3(c, gllmk_vec_scale, c->x, s, c->n);
}
static gllmk_status r_vec_axpy(bcase *c)
{
  float a = c->toggle ? -0.5f : 0.5f;
  c->toggle ^= 1;
  return DT3(c, gllmk_vec_axpy, c->x, a, c->y, c->n);
}
static gllmk_status r_vec_sum(bcase *c) { return DT3(c, gllmk_vec_sum, c->x, c->n, (float *)c->o1); }
static gllmk_status r_vec_max(bcase *c) { return DT3(c, gllmk_vec_max, c->x, c->n, (float *)c->o1); }
static gllmk_status r_vec_sum_squares(bcase *c)
{
  return DT3(c, gllmk_vec_sum_squares, c->x, c->n, (float *)c->o1);
}
static gllmk_status r_ob_dot(bcase *c)
{
  *(float *)c->o1 = ob.sdot((int)c->n, c->x, 1, c->y, 1);
  return GLLMK_OK;
}

static void b_vec(bcase *c, const spec *s)
{
  const char *op = s->op;
  size_t es = dt_size(c->dt), n;
  char nb[32];
  int is_dot = !strcmp(op, "vec_dot");
  if (is_dot && s->var < 2) {
    n = s->var == 0 ? Z.l1n : Z.l2n;
    format_count(nb, sizeof nb, n);
    snprintf(c->shape, sizeof c->shape, "n=%s (%s)", nb, s->var == 0 ? "L1" : "L2");
    c->roof = ROOF_FMA;
  } else {
    n = Z.big / es;
    format_count(nb, sizeof nb, n);
    snprintf(c->shape, sizeof c->shape, "n=%s (%zu MiB/array)", nb, Z.big / MiB);
    c->roof = ROOF_MEM;
  }
  c->n = n;
  c->x = c_in(c, c->dt, n, -1, 1);
  double dn = (double)n, des = (double)es;
  if (is_dot) {
    c->y = c_in(c, c->dt, n, -1, 1);
    c->o1 = c_out(c, DT_F32, 16);
    c->run = r_vec_dot;
    c->flops = 2 * dn;
    c->bytes = 2 * dn * des;
    c_chk(c, c->o1, 1, DT_F32);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)get_el(c->x, c->dt, i) * get_el(c->y, c->dt, i));
    c->abs_scale = 1e-2 * s;
    if (c->dt == DT_F32) {
      c->openblas = r_ob_dot;
      c->openblas_name = "cblas_sdot";
    }
  } else if (!strcmp(op, "vec_add") || !strcmp(op, "vec_sub") || !strcmp(op, "vec_mul")) {
    c->y = c_in(c, c->dt, n, -1, 1);
    c->o1 = c_out(c, c->dt, n);
    c->run = op[4] == 'a' ? r_vec_add : op[4] == 's' ? r_vec_sub : r_vec_mul;
    c->flops = dn;
    c->bytes = 3 * dn * des;
    c_chk(c, c->o1, n, c->dt);
  } else if (!strcmp(op, "vec_scale")) {
    c_save(c, c->x, n * es);
    c->run = r_vec_scale;
    c->flops = dn;
    c->bytes = 2 * dn * des;
    c_chk(c, c->x, n, c->dt);
  } else if (!strcmp(op, "vec_axpy")) {
    c->y = c_in(c, c->dt, n, -1, 1);
    c_save(c, c->x, n * es);
    c->run = r_vec_axpy;
    c->flops = 2 * dn;
    c->bytes = 3 * dn * des;
    c_chk(c, c->x, n, c->dt);
  } else { /* reductions */
    c->o1 = c_out(c, DT_F32, 16);
    c_chk(c, c->o1, 1, DT_F32);
    c->bytes = dn * des;
    c->flops = dn;
    if (!strcmp(op, "vec_sum")) {
      c->run = r_vec_sum;
      c->abs_scale = 1e-2 * sum_abs(c->x, c->dt, n);
    } else if (!strcmp(op, "vec_max")) {
      c->run = r_vec_max;
    } else {
      c->run = r_vec_sum_squares;
      c->flops = 2 * dn;
      double s = 0;
      for (size_t i = 0; i < n; i++) {
        double v = get_el(c->x, c->dt, i);
        s += v * v;
      }
      c->abs_scale = 1e-2 * s;
    }
  }
}

/* ---------------------------------------------------------------- GEMV / GEMM */

static gllmk_status r_gemv(bcase *c) { return DT3(c, gllmk_gemv, c_rotw(c), c->x, c->o1, c->m, c->n); }
static gllmk_status r_ob_gemv(bcase *c)
{
  ob.sgemv(CblasRowMajor, CblasNoTrans, (int)c->m, (int)c->n, 1.0f, c_rotw(c), (int)c->n, c->x, 1, 0.0f,
           c->o1, 1);
  return GLLMK_OK;
}
static gllmk_status r_gemm(bcase *c) { return DT3(c, gllmk_gemm, c->x, c->w1, c->o1, c->m, c->n, c->k); }
static gllmk_status r_gemm_bias(bcase *c)
{
  return DT3(c, gllmk_gemm_bias, c->x, c->w1, c->bias, c->o1, c->m, c->n, c->k);
}
static gllmk_status r_ob_gemm(bcase *c)
{
  ob.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->m, (int)c->n, (int)c->k, 1.0f, c->x, (int)c->k,
           c->w1, (int)c->n, 0.0f, c->o1, (int)c->n);
  return GLLMK_OK;
}

static void b_gemv(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->m = s->var == 0 ? Z.gemv_m1 : Z.gemv_m2;
  c->n = Z.hidden;
  size_t wbytes = c->m * c->n * es;
  c->nrot = 1;
  if (Z.stream_min > wbytes) c->nrot = (int)((Z.stream_min + wbytes - 1) / wbytes);
  c->rot_bytes = (wbytes + 4095) / 4096 * 4096;
  c->w1 = c_alloc(c, c->rot_bytes * (size_t)c->nrot);
  fill_uniform(c->w1, c->dt, c->m * c->n, -1, 1, ++c->seed);
  for (int r = 1; r < c->nrot; r++) memcpy((char *)c->w1 + (size_t)r * c->rot_bytes, c->w1, wbytes);
  c->x = c_in(c, c->dt, c->n, -1, 1);
  c->o1 = c_out(c, c->dt, c->m);
  c->run = r_gemv;
  c->roof = ROOF_MEM;
  c->flops = 2.0 * (double)c->m * (double)c->n;
  c->bytes = ((double)c->m * (double)c->n + (double)c->n + (double)c->m) * (double)es;
  c_chk(c, c->o1, c->m, c->dt);
  if (c->nrot > 1)
    snprintf(c->shape, sizeof c->shape, "%zux%zu (%d copies)", c->m, c->n, c->nrot);
  else
    snprintf(c->shape, sizeof c->shape, "%zux%zu", c->m, c->n);
  if (c->dt == DT_F32) {
    c->openblas = r_ob_gemv;
    c->openblas_name = "cblas_sgemv";
  }
}

/* the tokens (rows) of a gemm or fused case: var 0..3 */
size_t case_seq(const spec *s)
{
  int gemm = !strncmp(s->op, "gemm", 4);
  switch (s->var) {
  case 0: return gemm ? Z.gemm_m1 : 1;
  case 1: return gemm ? Z.gemm_m2 : Z.prefill;
  case 2: return gemm ? 1 : opt.quick ? 4 : 16;
  default: return gemm ? (opt.quick ? 4 : 16) : opt.quick ? 64 : 512;
  }
}

void b_gemm(bcase *c, const spec *s)
{
  c->m = case_seq(s);
  c->n = c->k = Z.gemm_nk;
  c->x = c_in(c, c->dt, c->m * c->k, -1, 1);
  c->w1 = c_in(c, c->dt, c->k * c->n, -1, 1);
  c->o1 = c_out(c, c->dt, c->m * c->n);
  c->roof = ROOF_FMA;
  c->flops = 2.0 * (double)c->m * (double)c->n * (double)c->k;
  c->bytes = ((double)c->m * c->k + (double)c->k * c->n + (double)c->m * c->n) * (double)dt_size(c->dt);
  c_chk(c, c->o1, c->m * c->n, c->dt);
  snprintf(c->shape, sizeof c->shape, "%zux%zux%zu", c->m, c->n, c->k);
  if (!strcmp(s->op, "gemm_bias")) {
    c->bias = c_in(c, c->dt, c->n, -1, 1);
    c->run = r_gemm_bias;
  } else {
    c->run = r_gemm;
    if (c->dt == DT_F32) {
      c->openblas = r_ob_gemm;
      c->openblas_name = "cblas_sgemm";
    }
  }
}

/* ---------------------------------------------------------------- activations, norms */

static gllmk_status r_silu(bcase *c) { return DT3(c, gllmk_silu, c->x, c->o1, c->n); }
static gllmk_status r_gelu(bcase *c) { return DT3(c, gllmk_gelu, c->x, c->o1, c->n); }
static gllmk_status r_relu(bcase *c) { return DT3(c, gllmk_relu, c->x, c->o1, c->n); }
static gllmk_status r_tanh(bcase *c) { return DT3(c, gllmk_tanh, c->x, c->o1, c->n); }
static gllmk_status r_exp(bcase *c) { return DT3(c, gllmk_exp, c->x, c->o1, c->n); }
static gllmk_status r_swiglu(bcase *c) { return DT3(c, gllmk_swiglu, c->x, c->y, c->o1, c->n); }
static gllmk_status r_softmax(bcase *c) { return DT3(c, gllmk_softmax, c->x, c->o1, c->rows, c->n); }
static gllmk_status r_rms_norm(bcase *c)
{
  return DT3(c, gllmk_rms_norm, c->x, c->nw, c->o1, c->rows, c->n, c->eps);
}
static gllmk_status r_layer_norm(bcase *c)
{
  return DT3(c, gllmk_layer_norm, c->x, c->nw, c->nb, c->o1, c->rows, c->n, c->eps);
}

static void b_act(bcase *c, const spec *s)
{
  const char *op = s->op;
  size_t es = dt_size(c->dt);
  size_t n = Z.big / es;
  char nb[32];
  format_count(nb, sizeof nb, n);
  snprintf(c->shape, sizeof c->shape, "n=%s (%zu MiB/array)", nb, Z.big / MiB);
  float lo = -5, hi = 5;
  if (!strcmp(op, "exp")) lo = -10, hi = 10;
  if (!strcmp(op, "silu") || !strcmp(op, "swiglu")) lo = -8, hi = 8;
  c->n = n;
  c->x = c_in(c, c->dt, n, lo, hi);
  c->o1 = c_out(c, c->dt, n);
  c->roof = ROOF_MEM;
  c->bytes = 2.0 * (double)n * (double)es;
  c_chk(c, c->o1, n, c->dt);
  if (!strcmp(op, "silu")) c->run = r_silu;
  else if (!strcmp(op, "gelu")) c->run = r_gelu;
  else if (!strcmp(op, "relu")) c->run = r_relu;
  else if (!strcmp(op, "tanh")) c->run = r_tanh;
  else if (!strcmp(op, "exp")) c->run = r_exp;
  else {
    c->y = c_in(c, c->dt, n, -4, 4);
    c->run = r_swiglu;
    c->bytes = 3.0 * (double)n * (double)es;
  }
}

static void b_norm(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->n = Z.row;
  c->rows = Z.big / es / c->n;
  c->eps = 1e-6f;
  size_t tot = c->rows * c->n;
  snprintf(c->shape, sizeof c->shape, "%zu rows x %zu (%zu MiB)", c->rows, c->n, Z.big / MiB);
  c->roof = ROOF_MEM;
  c->bytes = (2.0 * (double)tot + (double)c->n) * (double)es;
  c->o1 = c_out(c, c->dt, tot);
  c_chk(c, c->o1, tot, c->dt);
  if (!strcmp(s->op, "softmax")) {
    c->x = c_in(c, c->dt, tot, -5, 5);
    c->run = r_softmax;
    c->bytes = 2.0 * (double)tot * (double)es;
  } else {
    c->x = c_in(c, c->dt, tot, -2, 2);
    c->nw = c_in(c, c->dt, c->n, 0.5f, 1.5f);
    if (!strcmp(s->op, "rms_norm")) {
      c->run = r_rms_norm;
    } else {
      c->nb = c_in(c, c->dt, c->n, -0.5f, 0.5f);
      c->run = r_layer_norm;
      c->bytes += (double)c->n * (double)es;
    }
  }
}

/* ---------------------------------------------------------------- rope, embedding */

static gllmk_status r_rope(bcase *c)
{
  return DT3(c, gllmk_rope, c->x, c->cs, c->sn, c->seq, c->heads, c->hd, c->rd, c->inter);
}
static gllmk_status r_rope_with_pos(bcase *c)
{
  return DT3(c, gllmk_rope_with_pos, c->x, c->cs, c->sn, c->seq, c->heads, c->hd, c->rd, c->inter, c->pos);
}

/* real rotary tables (rows x rd/2) so that repeated application stays bounded */
static void rope_tables(bcase *c, dtype t, size_t rows, size_t rd, void **cs, void **sn)
{
  size_t half = rd / 2;
  *cs = c_alloc(c, rows * half * dt_size(t));
  *sn = c_alloc(c, rows * half * dt_size(t));
  for (size_t p = 0; p < rows; p++)
    for (size_t i = 0; i < half; i++) {
      double th = (double)p * pow(10000.0, -2.0 * (double)i / (double)rd);
      set_el(*cs, t, p * half + i, (float)cos(th));
      set_el(*sn, t, p * half + i, (float)sin(th));
    }
}

static void b_rope(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->seq = Z.rope_seq;
  c->heads = Z.heads;
  c->hd = c->rd = Z.hd;
  int with_pos = !strcmp(s->op, "rope_with_pos");
  c->inter = s->var == 1;
  c->pos = with_pos ? Z.kv - c->seq : 0;
  size_t tot = c->seq * c->heads * c->hd;
  c->x = c_in(c, c->dt, tot, -1, 1);
  c_save(c, c->x, tot * es);
  rope_tables(c, c->dt, c->pos + c->seq, c->rd, &c->cs, &c->sn);
  c->run = with_pos ? r_rope_with_pos : r_rope;
  c->roof = ROOF_MEM;
  c->bytes = (2.0 * (double)tot + (double)c->seq * (double)c->rd) * (double)es;
  c_chk(c, c->x, tot, c->dt);
  int l = snprintf(c->shape, sizeof c->shape, "seq=%zu h=%zu d=%zu %s", c->seq, c->heads, c->hd,
                   c->inter ? "interleaved" : "split");
  if (with_pos) snprintf(c->shape + l, sizeof c->shape - (size_t)l, " pos=%zu", c->pos);
}

static gllmk_status r_embedding(bcase *c)
{
  return DT3(c, gllmk_embedding_lookup, c->ids, c->seq, c->w1, c->vocab, c->n, c->o1);
}

static void b_embedding(bcase *c, const spec *s)
{
  (void)s;
  size_t es = dt_size(c->dt);
  c->vocab = Z.vocab;
  c->n = Z.hidden;
  c->seq = Z.n_ids;
  c->w1 = c_in(c, c->dt, c->vocab * c->n, -1, 1);
  c->ids = c_alloc(c, c->seq * sizeof(uint32_t));
  uint64_t st = 42;
  for (size_t i = 0; i < c->seq; i++) c->ids[i] = (uint32_t)(splitmix(&st) % c->vocab);
  c->o1 = c_out(c, c->dt, c->seq * c->n);
  c->run = r_embedding;
  c->roof = ROOF_MEM;
  c->bytes = 2.0 * (double)c->seq * (double)c->n * (double)es + 4.0 * (double)c->seq;
  c_chk(c, c->o1, c->seq * c->n, c->dt);
  snprintf(c->shape, sizeof c->shape, "%zu ids, vocab=%zu h=%zu", c->seq, c->vocab, c->n);
}

/* ---------------------------------------------------------------- attention */

static gllmk_status r_flash(bcase *c)
{
  return DT3(c, gllmk_flash_attention, c->x, c->y, c->z, c->o1, c->seq, c->kv, c->heads, c->kvh, c->hd,
             c->scale, c->causal);
}
static gllmk_status r_paged(bcase *c)
{
  return DT3(c, gllmk_flash_attention_paged, c->x, c->y, c->z, c->ids, c->o1, c->seq, c->kv, c->heads,
             c->kvh, c->hd, c->page, c->npages, c->scale);
}
/* composition: gather the pages with embedding_lookup, then causal flash_attention */
static gllmk_status r_paged_compose(bcase *c)
{
  size_t row = c->kvh * c->hd, tokens = c->npages * c->page;
  gllmk_status st = DT3(c, gllmk_embedding_lookup, c->ids2, c->kv, c->y, tokens, row, c->t1);
  if (st == GLLMK_OK) st = DT3(c, gllmk_embedding_lookup, c->ids2, c->kv, c->z, tokens, row, c->t2);
  if (st == GLLMK_OK)
    st = DT3(c, gllmk_flash_attention, c->x, c->t1, c->t2, c->o1, c->seq, c->kv, c->heads, c->kvh, c->hd,
             c->scale, true);
  return st;
}

/* keys seen by all queries: causal aligns the last query with the last key */
static double attn_keys(size_t q, size_t kv, int causal)
{
  if (!causal) return (double)q * (double)kv;
  double s = 0;
  for (size_t i = 0; i < q; i++) {
    double seen = (double)i + (double)kv - (double)q + 1;
    s += seen < 0 ? 0 : seen > (double)kv ? (double)kv : seen;
  }
  return s;
}

static void b_flash(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->heads = Z.heads;
  c->kvh = Z.kvh;
  c->hd = Z.hd;
  c->scale = 1.0f / sqrtf((float)c->hd);
  if (s->var == 2) { /* decode */
    c->seq = 1;
    c->kv = Z.kv;
    c->causal = 1;
  } else {
    c->seq = Z.attn_q;
    c->kv = Z.attn_kv;
    c->causal = s->var == 1;
  }
  size_t qn = c->seq * c->heads * c->hd, kn = c->kv * c->kvh * c->hd;
  c->x = c_in(c, c->dt, qn, -1, 1);
  c->y = c_in(c, c->dt, kn, -1, 1);
  c->z = c_in(c, c->dt, kn, -1, 1);
  c->o1 = c_out(c, c->dt, qn);
  c->run = r_flash;
  c->flops = 4.0 * (double)c->heads * (double)c->hd * attn_keys(c->seq, c->kv, c->causal);
  c->bytes = (2.0 * (double)qn + 2.0 * (double)kn) * (double)es;
  c->roof = c->seq == 1 ? ROOF_MEM : ROOF_FMA;
  c_chk(c, c->o1, qn, c->dt);
  snprintf(c->shape, sizeof c->shape, "q=%zu kv=%zu h=%zu/%zu d=%zu%s", c->seq, c->kv, c->heads, c->kvh,
           c->hd, s->var == 2 ? " (decode)" : c->causal ? " causal" : "");
}

static void b_paged(bcase *c, const spec *s)
{
  size_t es = dt_size(c->dt);
  c->heads = Z.heads;
  c->kvh = Z.kvh;
  c->hd = Z.hd;
  c->scale = 1.0f / sqrtf((float)c->hd);
  c->seq = s->var == 0 ? 1 : Z.prefill;
  c->kv = Z.kv;
  c->page = Z.page;
  size_t used = (c->kv + c->page - 1) / c->page;
  c->npages = used + 8; /* a few pages that belong to nobody */
  size_t row = c->kvh * c->hd, qn = c->seq * c->heads * c->hd;
  c->x = c_in(c, c->dt, qn, -1, 1);
  c->y = c_in(c, c->dt, c->npages * c->page * row, -1, 1);
  c->z = c_in(c, c->dt, c->npages * c->page * row, -1, 1);
  c->o1 = c_out(c, c->dt, qn);
  /* page table: a random permutation of the physical pages */
  uint32_t *perm = c_alloc(c, c->npages * sizeof(uint32_t));
  for (size_t i = 0; i < c->npages; i++) perm[i] = (uint32_t)i;
  uint64_t st = 7;
  for (size_t i = c->npages - 1; i > 0; i--) {
    size_t j = (size_t)(splitmix(&st) % (i + 1));
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  c->ids = perm;
  c->ids2 = c_alloc(c, c->kv * sizeof(uint32_t));
  for (size_t t = 0; t < c->kv; t++) c->ids2[t] = (uint32_t)(perm[t / c->page] * c->page + t % c->page);
  c->t1 = c_out(c, c->dt, c->kv * row);
  c->t2 = c_out(c, c->dt, c->kv * row);
  c->run = r_paged;
  c->compose = r_paged_compose;
  c->compose_name = "2 embedding_lookup (gather) + flash_attention";
  c->flops = 4.0 * (double)c->heads * (double)c->hd * attn_keys(c->seq, c->kv, 1);
  c->bytes = (2.0 * (double)qn + 2.0 * (double)c->kv * (double)row) * (double)es + 4.0 * (double)used;
  c->roof = c->seq == 1 ? ROOF_MEM : ROOF_FMA;
  c_chk(c, c->o1, qn, c->dt);
  snprintf(c->shape, sizeof c->shape, "q=%zu cache=%zu page=%zu h=%zu/%zu d=%zu", c->seq, c->kv, c->page,
           c->heads, c->kvh, c->hd);
}

/* ---------------------------------------------------------------- fused (f32) */

/* out[m x n] = x[m x k] . W^T with W [n x k]: gemv for one row, else gemm with W^T [k x n] */
static gllmk_status lin(const float *x, const float *w, const float *wt, float *out, size_t m, size_t n,
                        size_t k)
{
  if (m == 1) return gllmk_gemv_f32(w, x, out, n, k);
  return gllmk_gemm_f32(x, wt, out, m, n, k);
}
#define TRY(e)                                  \
  do {                                          \
    gllmk_status st_ = (e);                     \
    if (st_ != GLLMK_OK) return st_;            \
  } while (0)

static gllmk_status r_qkv(bcase *c)
{
  return gllmk_fused_qkv_rope_f32(c->x, c->w1, c->w2, c->w3, c->cs, c->sn, c->o1, c->o2, c->o3, c->m, c->k,
                                  c->heads, c->kvh, c->hd, c->rd, c->inter, c->pos);
}
static gllmk_status r_qkv_compose(bcase *c)
{
  size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
  TRY(lin(c->x, c->w1, c->w1t, c->o1, c->m, qd, c->k));
  TRY(lin(c->x, c->w2, c->w2t, c->o2, c->m, kd, c->k));
  TRY(lin(c->x, c->w3, c->w3t, c->o3, c->m, kd, c->k));
  TRY(gllmk_rope_with_pos_f32(c->o1, c->cs, c->sn, c->m, c->heads, c->hd, c->rd, c->inter, c->pos));
  return gllmk_rope_with_pos_f32(c->o2, c->cs, c->sn, c->m, c->kvh, c->hd, c->rd, c->inter, c->pos);
}
static gllmk_status r_gate_up(bcase *c)
{
  return gllmk_fused_gate_up_swiglu_f32(c->x, c->w1, c->w2, c->o1, c->m, c->n, c->k);
}
static gllmk_status r_gate_up_compose(bcase *c)
{
  TRY(lin(c->x, c->w1, c->w1t, c->t1, c->m, c->n, c->k));
  TRY(lin(c->x, c->w2, c->w2t, c->t2, c->m, c->n, c->k));
  return gllmk_swiglu_f32(c->t1, c->t2, c->o1, c->m * c->n);
}
/* FFN: hidden = k, ffn = n */
static gllmk_status r_ffn(bcase *c)
{
  return gllmk_fused_ffn_f32(c->x, c->w1, c->w2, c->w3, c->res, c->o1, c->m, c->k, c->n);
}
static gllmk_status ffn_compose_body(bcase *c, float *sum)
{
  TRY(lin(c->x, c->w1, c->w1t, c->t1, c->m, c->n, c->k));
  TRY(lin(c->x, c->w2, c->w2t, c->t2, c->m, c->n, c->k));
  TRY(gllmk_swiglu_f32(c->t1, c->t2, c->t1, c->m * c->n));
  TRY(lin(c->t1, c->w3, c->w3t, c->t3, c->m, c->k, c->n));
  return gllmk_vec_add_f32(c->res, c->t3, sum, c->m * c->k);
}
static gllmk_status r_ffn_compose(bcase *c) { return ffn_compose_body(c, c->o1); }
static gllmk_status r_ffn_rms(bcase *c)
{
  return gllmk_fused_ffn_rmsnorm_f32(c->x, c->w1, c->w2, c->w3, c->res, c->nw, c->o1, c->o2, c->m, c->k, c->n,
                                     c->eps);
}
static gllmk_status r_ffn_rms_compose(bcase *c)
{
  TRY(ffn_compose_body(c, c->o2));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->k, c->eps);
}
static gllmk_status r_lin_rms(bcase *c)
{
  return gllmk_fused_linear_residual_rmsnorm_f32(c->x, c->w1, c->res, c->nw, c->o1, c->o2, c->m, c->n, c->k,
                                                 c->eps);
}
static gllmk_status r_lin_rms_compose(bcase *c)
{
  TRY(lin(c->x, c->w1, c->w1t, c->t1, c->m, c->n, c->k));
  TRY(gllmk_vec_add_f32(c->t1, c->res, c->o2, c->m * c->n));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->n, c->eps);
}
static gllmk_status r_linb_rms(bcase *c)
{
  return gllmk_fused_linear_bias_residual_rmsnorm_f32(c->x, c->w1, c->bias, c->res, c->nw, c->o1, c->o2, c->m,
                                                      c->n, c->k, c->eps);
}
static gllmk_status r_linb_rms_compose(bcase *c)
{
  if (c->m == 1) {
    TRY(gllmk_gemv_f32(c->w1, c->x, c->t1, c->n, c->k));
    TRY(gllmk_vec_add_f32(c->t1, c->bias, c->t1, c->n));
  } else {
    TRY(gllmk_gemm_bias_f32(c->x, c->w1t, c->bias, c->t1, c->m, c->n, c->k));
  }
  TRY(gllmk_vec_add_f32(c->t1, c->res, c->o2, c->m * c->n));
  return gllmk_rms_norm_f32(c->o2, c->nw, c->o1, c->m, c->n, c->eps);
}

static void *weight(bcase *c, size_t n, size_t k, void **wt)
{
  float a = 1.0f / sqrtf((float)k) * 1.7f; /* outputs of about unit size */
  void *w = c_in(c, DT_F32, n * k, -a, a);
  *wt = (c->m > 1 && !opt.no_compose) ? c_transpose(c, w, n, k) : NULL;
  return w;
}

void b_fused(bcase *c, const spec *s)
{
  const char *op = s->op;
  c->m = case_seq(s);
  c->eps = 1e-6f;
  c->roof = c->m == 1 ? ROOF_MEM : ROOF_FMA;
  double m = (double)c->m, wel = 0, act = 0;
  if (!strcmp(op, "fused_qkv_rope")) {
    c->k = Z.hidden;
    c->heads = Z.heads;
    c->kvh = Z.kvh;
    c->hd = c->rd = Z.hd;
    c->pos = Z.kv - c->m;
    size_t qd = c->heads * c->hd, kd = c->kvh * c->hd;
    c->x = c_in(c, DT_F32, c->m * c->k, -1, 1);
    c->w1 = weight(c, qd, c->k, &c->w1t);
    c->w2 = weight(c, kd, c->k, &c->w2t);
    c->w3 = weight(c, kd, c->k, &c->w3t);
    rope_tables(c, DT_F32, c->pos + c->m, c->rd, &c->cs, &c->sn);
    c->o1 = c_out(c, DT_F32, c->m * qd);
    c->o2 = c_out(c, DT_F32, c->m * kd);
    c->o3 = c_out(c, DT_F32, c->m * kd);
    c_chk(c, c->o1, c->m * qd, DT_F32);
    c_chk(c, c->o2, c->m * kd, DT_F32);
    c_chk(c, c->o3, c->m * kd, DT_F32);
    c->run = r_qkv;
    c->compose = r_qkv_compose;
    c->compose_name = c->m == 1 ? "3 gemv + 2 rope_with_pos" : "3 gemm + 2 rope_with_pos";
    wel = (double)(qd + 2 * kd) * (double)c->k;
    act = m * ((double)c->k + (double)(qd + 2 * kd) + (double)c->rd);
    c->flops = 2 * m * wel;
    snprintf(c->shape, sizeof c->shape, "seq=%zu h=%zu heads=%zu/%zu d=%zu", c->m, c->k, c->heads, c->kvh,
             c->hd);
  } else if (!strcmp(op, "fused_gate_up_swiglu") || !strcmp(op, "fused_ffn") ||
             !strcmp(op, "fused_ffn_rmsnorm")) {
    c->k = Z.hidden;
    c->n = Z.ffn;
    c->x = c_in(c, DT_F32, c->m * c->k, -1, 1);
    c->w1 = weight(c, c->n, c->k, &c->w1t);
    c->w2 = weight(c, c->n, c->k, &c->w2t);
    if (!opt.no_compose) {
      c->t1 = c_out(c, DT_F32, c->m * c->n);
      c->t2 = c_out(c, DT_F32, c->m * c->n);
    }
    snprintf(c->shape, sizeof c->shape, "seq=%zu h=%zu ffn=%zu", c->m, c->k, c->n);
    if (!strcmp(op, "fused_gate_up_swiglu")) {
      c->o1 = c_out(c, DT_F32, c->m * c->n);
      c_chk(c, c->o1, c->m * c->n, DT_F32);
      c->run = r_gate_up;
      c->compose = r_gate_up_compose;
      c->compose_name = c->m == 1 ? "2 gemv + swiglu" : "2 gemm + swiglu";
      wel = 2.0 * (double)c->n * (double)c->k;
      act = m * ((double)c->k + (double)c->n);
    } else {
      c->w3 = weight(c, c->k, c->n, &c->w3t);
      c->res = c_in(c, DT_F32, c->m * c->k, -1, 1);
      if (!opt.no_compose) c->t3 = c_out(c, DT_F32, c->m * c->k);
      c->o1 = c_out(c, DT_F32, c->m * c->k);
      c_chk(c, c->o1, c->m * c->k, DT_F32);
      wel = 3.0 * (double)c->n * (double)c->k;
      act = m * (3.0 * (double)c->k);
      if (!strcmp(op, "fused_ffn")) {
        c->run = r_ffn;
        c->compose = r_ffn_compose;
        c->compose_name = c->m == 1 ? "3 gemv + swiglu + vec_add" : "3 gemm + swiglu + vec_add";
      } else {
        c->nw = c_in(c, DT_F32, c->k, 0.5f, 1.5f);
        c->o2 = c_out(c, DT_F32, c->m * c->k);
        c_chk(c, c->o2, c->m * c->k, DT_F32);
        c->run = r_ffn_rms;
        c->compose = r_ffn_rms_compose;
        c->compose_name = c->m == 1 ? "3 gemv + swiglu + vec_add + rms_norm" : "3 gemm + swiglu + vec_add + rms_norm";
        act += m * (double)c->k;
      }
    }
    c->flops = 2 * m * wel;
  } else { /* fused_linear_[bias_]residual_rmsnorm: the attention output projection */
    int bias = strstr(op, "bias") != NULL;
    c->n = c->k = Z.hidden;
    c->x = c_in(c, DT_F32, c->m * c->k, -1, 1);
    c->w1 = weight(c, c->n, c->k, &c->w1t);
    c->res = c_in(c, DT_F32, c->m * c->n, -1, 1);
    c->nw = c_in(c, DT_F32, c->n, 0.5f, 1.5f);
    if (bias) c->bias = c_in(c, DT_F32, c->n, -0.5f, 0.5f);
    if (!opt.no_compose) c->t1 = c_out(c, DT_F32, c->m * c->n);
    c->o1 = c_out(c, DT_F32, c->m * c->n);
    c->o2 = c_out(c, DT_F32, c->m * c->n);
    c_chk(c, c->o1, c->m * c->n, DT_F32);
    c_chk(c, c->o2, c->m * c->n, DT_F32);
    c->run = bias ? r_linb_rms : r_lin_rms;
    c->compose = bias ? r_linb_rms_compose : r_lin_rms_compose;
    c->compose_name = bias ? (c->m == 1 ? "gemv + 2 vec_add + rms_norm" : "gemm_bias + vec_add + rms_norm")
                           : (c->m == 1 ? "gemv + vec_add + rms_norm" : "gemm + vec_add + rms_norm");
    wel = (double)c->n * (double)c->k;
    act = m * ((double)c->k + 4.0 * (double)c->n);
    c->flops = 2 * m * wel;
    snprintf(c->shape, sizeof c->shape, "seq=%zu n=%zu k=%zu", c->m, c->n, c->k);
  }
  c->bytes = (wel + act) * 4.0;
  if (opt.no_compose) c->compose = NULL;
}

/* ---------------------------------------------------------------- the list */

#define F32 DT_F32
#define F16 DT_F16
#define BF16 DT_BF16
const spec specs[] = {
  {"blas1", "vec_dot", F32, 0, b_vec}, {"blas1", "vec_dot", F32, 1, b_vec}, {"blas1", "vec_dot", F32, 2, b_vec},
  {"blas1", "vec_dot", F16, 0, b_vec}, {"blas1", "vec_dot", F16, 1, b_vec}, {"blas1", "vec_dot", F16, 2, b_vec},
  {"blas1", "vec_dot", BF16, 0, b_vec}, {"blas1", "vec_dot", BF16, 1, b_vec}, {"blas1", "vec_dot", BF16, 2, b_vec},
  {"blas1", "vec_add", F32, 0, b_vec}, {"blas1", "vec_sub", F32, 0, b_vec}, {"blas1", "vec_mul", F32, 0, b_vec},
  {"blas1", "vec_scale", F32, 0, b_vec}, {"blas1", "vec_axpy", F32, 0, b_vec},
  {"blas1", "vec_sum", F32, 0, b_vec}, {"blas1", "vec_max", F32, 0, b_vec},
  {"blas1", "vec_sum_squares", F32, 0, b_vec},
  {"gemv", "gemv", F32, 0, b_gemv}, {"gemv", "gemv", F32, 1, b_gemv},
  {"gemv", "gemv", F16, 0, b_gemv}, {"gemv", "gemv", BF16, 0, b_gemv},
  {"gemm", "gemm", F32, 0, b_gemm}, {"gemm", "gemm", F32, 1, b_gemm},
  {"gemm", "gemm", F16, 1, b_gemm}, {"gemm", "gemm", BF16, 1, b_gemm},
  {"gemm", "gemm_bias", F32, 1, b_gemm},
  {"activation", "silu", F32, 0, b_act}, {"activation", "gelu", F32, 0, b_act},
  {"activation", "tanh", F32, 0, b_act}, {"activation", "exp", F32, 0, b_act},
  {"activation", "relu", F32, 0, b_act}, {"activation", "swiglu", F32, 0, b_act},
  {"norm", "softmax", F32, 0, b_norm}, {"norm", "rms_norm", F32, 0, b_norm},
  {"norm", "rms_norm", F16, 0, b_norm}, {"norm", "rms_norm", BF16, 0, b_norm},
  {"norm", "layer_norm", F32, 0, b_norm},
  {"rope", "rope", F32, 0, b_rope}, {"rope", "rope", F32, 1, b_rope}, {"rope", "rope_with_pos", F32, 0, b_rope},
  {"embedding", "embedding_lookup", F32, 0, b_embedding},
  {"attention", "flash_attention", F32, 0, b_flash}, {"attention", "flash_attention", F32, 1, b_flash},
  {"attention", "flash_attention", F16, 0, b_flash}, {"attention", "flash_attention", BF16, 0, b_flash},
  {"attention", "flash_attention", F32, 2, b_flash},
  {"attention", "flash_attention_paged", F32, 0, b_paged},
  {"attention", "flash_attention_paged", F32, 1, b_paged},
  {"fused", "fused_qkv_rope", F32, 0, b_fused}, {"fused", "fused_qkv_rope", F32, 1, b_fused},
  {"fused", "fused_gate_up_swiglu", F32, 0, b_fused}, {"fused", "fused_gate_up_swiglu", F32, 1, b_fused},
  {"fused", "fused_ffn", F32, 0, b_fused}, {"fused", "fused_ffn", F32, 1, b_fused},
  {"fused", "fused_ffn_rmsnorm", F32, 0, b_fused}, {"fused", "fused_ffn_rmsnorm", F32, 1, b_fused},
  {"fused", "fused_linear_residual_rmsnorm", F32, 0, b_fused},
  {"fused", "fused_linear_residual_rmsnorm", F32, 1, b_fused},
  {"fused", "fused_linear_bias_residual_rmsnorm", F32, 0, b_fused},
  {"fused", "fused_linear_bias_residual_rmsnorm", F32, 1, b_fused},
  /* seq 16 and 512; then the same with weights packed once (cases_packed.c) */
#define FUSED_OPS(X, v)                                                                        \
  X("fused_qkv_rope", v) X("fused_gate_up_swiglu", v) X("fused_ffn", v) X("fused_ffn_rmsnorm", v) \
  X("fused_linear_residual_rmsnorm", v) X("fused_linear_bias_residual_rmsnorm", v)
#define UNPACKED(op, v) {"fused", op, F32, v, b_fused},
#define PACKED(op, v) {"packed", op "_packed", F32, v, b_packed},
  FUSED_OPS(UNPACKED, 2) FUSED_OPS(UNPACKED, 3)
  {"gemm", "gemm", F32, 2, b_gemm}, {"gemm", "gemm", F32, 3, b_gemm},
  {"packed", "gemm_packed", F32, 2, b_packed}, {"packed", "gemm_packed", F32, 3, b_packed},
  {"packed", "gemm_packed", F32, 1, b_packed}, {"packed", "gemm_packed", F32, 0, b_packed},
  FUSED_OPS(PACKED, 0) FUSED_OPS(PACKED, 2) FUSED_OPS(PACKED, 1) FUSED_OPS(PACKED, 3)
#undef UNPACKED
#undef PACKED
#undef FUSED_OPS
};
const int n_specs = (int)(sizeof specs / sizeof *specs);

/* what the variant of a case is, for --list */
const char *spec_label(const spec *s)
{
  static char b[96];
  const char *op = s->op;
  b[0] = 0;
  if (!strcmp(op, "vec_dot"))
    snprintf(b, sizeof b, "%s", s->var == 0 ? "L1-resident" : s->var == 1 ? "L2-resident" : "from DRAM");
  else if (!strcmp(op, "gemv"))
    snprintf(b, sizeof b, "%zu x %zu", s->var == 0 ? Z.gemv_m1 : Z.gemv_m2, Z.hidden);
  else if (!strncmp(op, "gemm", 4))
    snprintf(b, sizeof b, "m=%zu", case_seq(s));
  else if (!strncmp(op, "rope", 4))
    snprintf(b, sizeof b, "%s", s->var == 1 ? "interleaved pairs" : "split halves");
  else if (!strcmp(op, "flash_attention"))
    snprintf(b, sizeof b, "%s", s->var == 0 ? "prefill" : s->var == 1 ? "prefill, causal" : "decode");
  else if (!strcmp(op, "flash_attention_paged"))
    snprintf(b, sizeof b, "seq %zu", s->var == 0 ? (size_t)1 : Z.prefill);
  else if (!strncmp(op, "fused_", 6))
    snprintf(b, sizeof b, "seq %zu", case_seq(s));
  return b;
}

int spec_selected(const spec *s)
{
  if (opt.dtype_mask && !(opt.dtype_mask & (1 << s->dt))) return 0;
  if (opt.n_ops == 0) return 1;
  for (int i = 0; i < opt.n_ops; i++)
    if (strstr(s->op, opt.ops[i]) || !strcmp(s->group, opt.ops[i])) return 1;
  return 0;
}
