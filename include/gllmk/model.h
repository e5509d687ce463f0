/* gllmk/model.h -- the model level (DESIGN 9): weights uploaded once, a paged
 * KV cache, forward passes over batches and token trees, sampling on the
 * backend
 * SPDX-License-Identifier: MIT
 *
 * A gllmk_model holds a transformer's weights in one buffer of a backend
 * (uploaded once) and the activations of batches of up to max_batch entries;
 * a gllmk_kv_cache holds the keys and values of several sequences in pages
 * of that backend's memory.  Creating them allocates everything: a forward
 * pass, sampling and the cache operations allocate nothing (the backend's
 * workspace is reserved at creation for the largest batch).  On the CPU
 * backend every op of a pass runs on the library's threads
 * (gllmk_set_num_threads); on CUDA a decode step is recorded once as a graph
 * and replayed.
 *
 * Decoder families: llama (and mistral), qwen2 (q/k/v biases), qwen3
 * (per-head q/k RMSNorm), with RoPE (rope_theta, the llama-3 frequency
 * scaling), GQA, SwiGLU, RMSNorm and tied or separate output embeddings.
 * Encoder family: bert (absolute positions, token types, post-LayerNorm,
 * GELU), for sentence embeddings (gllmk_model_embed) and cross-encoder
 * scores (gllmk_model_rerank); encoders have no KV cache.
 * Activations, the KV cache and logits are f32.  Weight matrices stay in
 * their format: f32, any GGUF block format (multiplied through
 * gllmk_fused_dequant_gemv: int8 activations for decode batches below 16
 * rows, f32 above), AWQ4 or GPTQ4 (gllmk_awq_matmul / gllmk_gptq_matmul);
 * f16 and bf16 matrices are widened to f32 at load, and norms and biases
 * are always f32.
 *
 * Batches.  Entry i of a batch is (token, pos, seq, parent):
 *  - parent == GLLMK_PARENT_NONE (-1): an ordinary token.  It is appended to
 *    sequence seq (its keys and values stay in the cache) and attends to the
 *    sequence's cache, itself included.  The ordinary entries of one
 *    sequence must have the positions len, len + 1, ... in batch order (len:
 *    the sequence's length before the batch).  Several sequences may be
 *    mixed in one batch.
 *  - parent >= 0: a token-tree node, the child of the earlier entry parent
 *    of the same sequence (an ordinary entry or another node); its position
 *    is its parent's plus one.
 *  - parent == GLLMK_PARENT_CACHE (-2): a tree node whose parent is the last
 *    token of the sequence's cache (position len, after the batch's ordinary
 *    entries of that sequence: there must be none after it).
 *    A node attends to the sequence's cache up to its root's parent and to
 *    its ancestors in the tree and itself, and to nothing else.  Its keys and
 *    values go to a slot of its own, past the sequence's length; they stay
 *    there until the next forward of that sequence, and gllmk_kv_cache_commit
 *    moves an accepted path into the sequence.
 * A bad batch (a token >= vocab, a sequence out of range, a parent that is
 * not an earlier entry of the same sequence, a position out of order, a
 * cache or batch with no room) returns an error and changes nothing.
 *
 * Threads: a model and its caches are used by one thread at a time, and so
 * are the models that share a backend (a draft and a target model: creating
 * one may grow the backend's workspace, which drops the others' recorded
 * graphs; they are recorded again on their next step).
 */
#ifndef GLLMK_MODEL_H
#define GLLMK_MODEL_H

#include <gllmk/types.h>
#include <gllmk/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gllmk_model gllmk_model;
typedef struct gllmk_kv_cache gllmk_kv_cache;

/** Model families. */
typedef enum gllmk_arch {
  GLLMK_ARCH_LLAMA = 0,   /**< llama, mistral */
  GLLMK_ARCH_QWEN2 = 1,   /**< llama + q/k/v biases, NEOX rotation */
  GLLMK_ARCH_QWEN3 = 2,   /**< llama + per-head q/k RMSNorm, NEOX rotation */
  GLLMK_ARCH_BERT = 3     /**< encoder: absolute positions, token types, post-LayerNorm, GELU */
} gllmk_arch;

/** How an encoder turns its token states into one vector (llama.cpp's ids). */
typedef enum gllmk_pooling {
  GLLMK_POOL_MEAN = 1,    /**< the mean over the sequence's tokens */
  GLLMK_POOL_CLS = 2,     /**< the first token's state */
  GLLMK_POOL_RANK = 4     /**< cross-encoder: the classifier head on the first token */
} gllmk_pooling;

/** A decoder's shape and constants. */
typedef struct gllmk_model_config {
  gllmk_arch arch;
  size_t vocab;          /**< token ids 0 .. vocab-1 */
  size_t hidden;         /**< embedding width */
  size_t layers;
  size_t heads;          /**< query heads */
  size_t kv_heads;       /**< key/value heads (heads % kv_heads == 0) */
  size_t head_dim;       /**< 0: hidden / heads */
  size_t ffn;            /**< feed-forward width */
  size_t rotary_dim;     /**< rotated dims per head; 0: head_dim */
  size_t context;        /**< largest position + 1 the model takes */
  float norm_eps;        /**< RMSNorm epsilon */
  float rope_theta;      /**< RoPE base (10000 if 0) */
  /* llama-3 frequency scaling; off when rope_scale_factor is 0: frequency i
   * (theta^(-2i/rotary_dim)) is divided by a factor between 1 (wavelength
   * below orig/high_freq) and rope_scale_factor (above orig/low_freq),
   * blended in between, as Meta's reference and llama.cpp compute it */
  float rope_scale_factor, rope_low_freq, rope_high_freq;
  size_t rope_orig_context;
  /* encoders (bert): norm_eps is the LayerNorm epsilon, context the number
   * of position embeddings */
  size_t type_vocab;     /**< token types (rows of token_types.weight); 0: 2 */
  gllmk_pooling pooling; /**< 0: mean */
} gllmk_model_config;

/** How a model is set up on its backend. */
typedef struct gllmk_model_params {
  size_t max_batch;      /**< largest batch of entries per forward (0: 512) */
  size_t max_rows;       /**< largest number of logits rows per forward (0: max_batch) */
  size_t max_extra;      /**< ancestor slots of tree nodes per forward, all nodes together
                              (0: 16 * max_batch) */
  size_t max_context;    /**< decoders: positions the rope tables hold (0: the model's
                              context, at most 32768) */
} gllmk_model_params;

/** One tensor handed to gllmk_model_create, by llama.cpp's name
 *  ("token_embd.weight", "blk.3.attn_q.weight", ...). */
typedef struct gllmk_model_tensor {
  const char *name;
  uint32_t type;         /**< GLLMK_GGUF_TENSOR_F32 / F16 / BF16 (0, 1, 30) or a GGUF gllmk_qtype */
  uint64_t ne[2];        /**< ne[0] the row length (contiguous), ne[1] the rows (1 for vectors) */
  const void *data;
  size_t bytes;
} gllmk_model_tensor;

/**
 * Upload a model to backend be: config plus tensors (copied; the caller's
 * memory can go afterwards).  Tensors: token_embd.weight [vocab x hidden],
 * output_norm.weight, output.weight (absent: tied to token_embd),
 * rope_freqs.weight (optional: llama.cpp's per-frequency divisors, used
 * instead of rope_scale_factor), and per layer N blk.N.attn_norm.weight,
 * blk.N.attn_q/k/v/output.weight, blk.N.ffn_norm.weight,
 * blk.N.ffn_gate/up/down.weight, plus blk.N.attn_q/k/v.bias (qwen2) and
 * blk.N.attn_q_norm/attn_k_norm.weight (qwen3).  A missing tensor, a shape
 * that does not match the config or a type gllmk cannot compute with is
 * GLLMK_E_INVAL (gllmk_model_error_message() names it); tensors it does not
 * use are ignored.  An AWQ4 or GPTQ4 matrix "<base>.weight" (type 200 or
 * 201, packed nibbles [rows x cols/2]) comes with its side arrays as tensors
 * "<base>.awq_zeros" (bytes [rows x ceil(cols/256)]) and "<base>.awq_scales"
 * (f16 [rows x cols/128]), or "<base>.gptq_g_idx" (int32, ggml type 26,
 * [cols]) and "<base>.gptq_scales" (f16 [rows x groups]) (gllmk/quant.h
 * has the layouts and gllmk_repack_awq / gllmk_repack_gptq the conversion
 * from AutoAWQ / AutoGPTQ checkpoints); embeddings must not be AWQ4/GPTQ4.
 */
GLLMK_API gllmk_status gllmk_model_create(gllmk_backend *be, const gllmk_model_config *cfg,
                                          const gllmk_model_tensor *tensors, size_t n_tensors,
                                          const gllmk_model_params *params, gllmk_model **out);
/** Load a GGUF file (v2, v3) of the llama, mistral, qwen2, qwen3 or bert
 *  architecture: its metadata gives the config, its tensors the weights.
 *  bert tensors: token_embd, position_embd, token_types, token_embd_norm
 *  (weight, bias), per layer attn_q/k/v/output (weight, bias),
 *  attn_output_norm, ffn_up, ffn_down, layer_output_norm (weight, bias);
 *  for GLLMK_POOL_RANK also cls (weight, bias) and cls.output (weight,
 *  bias). */
GLLMK_API gllmk_status gllmk_model_load_gguf(gllmk_backend *be, const char *path,
                                             const gllmk_model_params *params, gllmk_model **out);
/** Why the last create/load of this thread failed ("" after a success). */
GLLMK_API const char *gllmk_model_error_message(void);
/** Free a model (NULL is ignored); its caches must be freed first. */
GLLMK_API void gllmk_model_free(gllmk_model *m);
/** The model's config (after defaults are filled in). */
GLLMK_API const gllmk_model_config *gllmk_model_get_config(const gllmk_model *m);
/** Backend memory the model holds: weights, and activations + inputs + logits. */
GLLMK_API gllmk_status gllmk_model_memory(const gllmk_model *m, size_t *weight_bytes,
                                          size_t *activation_bytes);

/**
 * A paged KV cache for model m: n_seqs sequences of up to max_tokens tokens
 * each (tree slots included), in n_pages pages of page_size tokens shared by
 * all sequences (0: enough for every sequence to be full).  Pages go to a
 * sequence as it grows and come back when it is truncated or dropped.
 */
GLLMK_API gllmk_status gllmk_kv_cache_create(gllmk_model *m, size_t n_seqs, size_t max_tokens,
                                             size_t page_size, size_t n_pages,
                                             gllmk_kv_cache **out);
GLLMK_API void gllmk_kv_cache_free(gllmk_kv_cache *kv);
/** Tokens committed in sequence seq (its next position); 0 for a bad seq. */
GLLMK_API size_t gllmk_kv_cache_seq_len(const gllmk_kv_cache *kv, size_t seq);
/** Roll sequence seq back to its first len tokens (len >= the length: nothing). */
GLLMK_API gllmk_status gllmk_kv_cache_truncate(gllmk_kv_cache *kv, size_t seq, size_t len);
/** Empty sequence seq and give back its pages. */
GLLMK_API gllmk_status gllmk_kv_cache_drop(gllmk_kv_cache *kv, size_t seq);
/**
 * Accept a path of tree nodes of the last forward of sequence seq: path[0 ..
 * n) are batch indices, path[0] a node whose parent was ordinary or the
 * cache, each next one a child of the one before.  Their keys and values
 * move into the sequence's linear cache (positions len, len + 1, ...), as if
 * they had been decoded one by one.  A bad path changes nothing.
 */
GLLMK_API gllmk_status gllmk_kv_cache_commit(gllmk_kv_cache *kv, size_t seq, const int32_t *path,
                                             size_t n);
/** Bytes of backend memory the cache holds (keys, values, page table). */
GLLMK_API size_t gllmk_kv_cache_bytes(const gllmk_kv_cache *kv);

#define GLLMK_PARENT_NONE (-1)
#define GLLMK_PARENT_CACHE (-2)

/** One entry of a batch (see above). */
typedef struct gllmk_batch_entry {
  int32_t token;
  int32_t pos;
  int32_t seq;
  int32_t parent;
} gllmk_batch_entry;

/**
 * Run the model on n entries with cache kv (of this model), and leave the
 * logits of the entries rows[0 .. n_rows) (batch indices) in a backend
 * buffer of the model: row r at gllmk_model_logits() + r * vocab floats.
 */
GLLMK_API gllmk_status gllmk_model_forward(gllmk_model *m, gllmk_kv_cache *kv,
                                           const gllmk_batch_entry *batch, size_t n,
                                           const int32_t *rows, size_t n_rows);
/** The buffer the last forward left its logits in ([n_rows x vocab] f32). */
GLLMK_API gllmk_buffer *gllmk_model_logits(gllmk_model *m);
/** Download logits rows [row0, row0 + n) of the last forward into dst. */
GLLMK_API gllmk_status gllmk_model_read_logits(gllmk_model *m, size_t row0, size_t n, float *dst);

/** Sampling parameters (see gllmk_sample_f32(3) for the exact order). */
typedef struct gllmk_sampling {
  float temperature;     /**< <= 0: greedy */
  size_t top_k;          /**< 0: off */
  float top_p;           /**< 1: off */
  float min_p;           /**< 0: off */
  float repeat_penalty;  /**< 1: off */
  size_t repeat_window;  /**< the last tokens of the row's sequence (and tree path) penalised */
  uint64_t seed;
} gllmk_sampling;

/**
 * Sample a token for every logits row of the last forward, on the backend;
 * ids[n_rows] come back (4 bytes a row).  The draw of a row uses counter
 * (pos + 1, seq) of its entry: the same seed gives the same tokens on every
 * backend and thread count, and the same tokens whether a position was
 * decoded alone, in a batch or as a tree node.
 */
GLLMK_API gllmk_status gllmk_model_sample(gllmk_model *m, gllmk_kv_cache *kv,
                                          const gllmk_sampling *s, int32_t *ids);

/**
 * Encoders: run n sequences (tokens[] holds them one after another, lens[i]
 * tokens each, at most max_batch in all; types[] their token types, or NULL
 * for all 0) and write out[n x hidden] (host memory): each sequence's pooled
 * state (the model's pooling, mean or CLS), L2-normalised when normalize is
 * true (as sentence-transformers' Normalize).  A decoder is
 * GLLMK_E_UNSUPPORTED.
 */
GLLMK_API gllmk_status gllmk_model_embed(gllmk_model *m, const int32_t *tokens,
                                         const int32_t *types, const size_t *lens, size_t n,
                                         bool normalize, float *out);
/**
 * Cross-encoders (bert with GLLMK_POOL_RANK: a query and a document in one
 * sequence, told apart by their token types): out[n] gets each sequence's
 * score, the first output of the classifier head (cls.output . tanh(cls .
 * first token's state)).  GLLMK_E_UNSUPPORTED for a model without the head.
 */
GLLMK_API gllmk_status gllmk_model_rerank(gllmk_model *m, const int32_t *tokens,
                                          const int32_t *types, const size_t *lens, size_t n,
                                          float *out);

#ifdef __cplusplus
}
#endif
#endif /* GLLMK_MODEL_H */
