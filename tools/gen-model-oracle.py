#!/usr/bin/env python3
# gen-model-oracle.py -- llama.cpp oracle data for the model-level (L3) tests
# SPDX-License-Identifier: MIT
#
# Writes tests/data/models/: small random-weight GGUF v3 models of the llama,
# qwen2 and qwen3 architectures (llama.cpp's tensor names and metadata), the
# logits llama.cpp computes for them, a MANIFEST and a README.  `make check`
# compares gllmk against these files offline.
#
#   gen-model-oracle.py [--outdir DIR]        make everything (needs `gguf`,
#                                             `numpy` and `llama-cpp-python`)
#   gen-model-oracle.py --check [--outdir DIR]
#                                             read every .gguf back with
#                                             gguf-py's GGUFReader, run the
#                                             numpy reference forward pass below
#                                             and compare it with the stored
#                                             llama.cpp logits (fails on an f32
#                                             model off by more than 1e-3 of the
#                                             logits' spread; the others are
#                                             reported only)
#
# How the files are made
# ----------------------
# * The f32 models are written here with gguf-py (GGUFWriter), from weights
#   drawn with numpy's default_rng(seed): embeddings N(0, 1) (N(0, 1/16) for
#   the tied model, whose embeddings are also its output matrix), every matrix
#   N(0, 1/fan_in) (the output matrix N(0, 4/fan_in), for a wider logit
#   spread), RMSNorm weights 1 + N(0, 0.1^2), qwen2 q/k/v biases N(0, 0.2^2).
#   qwen3's attn_q / attn_k are N(0, 0.003^2/fan_in): its per-head q/k RMSNorm
#   takes the scale away again, and with mean(q^2) ~ 1e-5 next to eps 1e-6 a
#   wrong eps, or eps outside the square root, shows in the logits (eps x 10
#   moves them by 15% of their spread).  Norm weights, biases and rope_freqs
#   are 1-D f32, as llama.cpp has them.  A minimal SentencePiece vocabulary
#   (tokenizer.ggml.model "llama": <unk>, <s>, </s>, then byte tokens
#   <0x00>..) makes llama.cpp load the files; no text is ever tokenized.
# * Every other format is made from an f32 file by llama.cpp itself,
#   llama_cpp.llama_model_quantize (nthread 1, no imatrix), with ftype
#   MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_Q4_K_M or MOSTLY_Q6_K.  llama.cpp keeps 1-D
#   tensors f32 and picks the per-tensor types itself: Q4_K_M (one layer)
#   gives Q4_K for token_embd, attn_q, attn_k, attn_output, ffn_gate and
#   ffn_up, and Q6_K for output, attn_v and ffn_down; Q6_K, Q8_0 and F16 give
#   that type to every matrix, token_embd and output included.  The MANIFEST
#   lists the types each file holds (llama.cpp also reorders the tensors:
#   output, token_embd, then the blocks).  So llama-f16 and llama-q8_0 hold the
#   weights of llama-f32, qwen3-q8_0 those of qwen3-f32; the K-quant models
#   come from f32 files of a larger shape (rows a multiple of 256) that are not
#   kept.
# * The logits come from llama-cpp-python (llama.cpp's C API through ctypes):
#   one context per model, n_ctx 64, n_batch = n_ubatch = 64, one thread, CPU
#   only, flash attention off and an f32 KV cache (type_k = type_v = f32, so
#   that an f32 model is f32 end to end).  The prompt (n_prompt token ids from
#   default_rng(seed)) is decoded in one batch at positions pos0 ..
#   pos0+n_prompt-1 (pos0 = 0 for every model; the MANIFEST keeps the field)
#   with logits for every row; then n_gen greedy steps, one
#   token each: gen[k] = argmax(row n_prompt-1+k) (numpy's argmax: the lowest
#   id on a tie) is decoded at position pos0+n_prompt+k and gives row
#   n_prompt+k.  <name>.logits is raw little-endian f32, rows x vocab, row
#   major: the prompt rows, then one row per generated token.
# * The activations are rounded by llama.cpp's CPU matmul to the weights'
#   "vec_dot_type": f16 for f16 weights, Q8_0 blocks of 32 for Q8_0 weights,
#   Q8_K blocks of 256 for Q4_K and Q6_K weights (f32 stays f32).  A
#   comparison of a quantized model against a reference that keeps the
#   activations in f32 needs a bound for that; --check prints how far the
#   numpy pass on the dequantized weights lands from llama.cpp per file, once
#   with f32 activations (0.3e-3 of the spread for f16, 0.8e-2 to 1.5e-2 for
#   Q8_0 / Q4_K_M / Q6_K) and once rounding them as llama.cpp does (the
#   rounding below, in round_q8_0 / round_q8_k: 1e-7, i.e. exact, until an
#   activation lies within ~1e-4 of a step from a rounding tie, where
#   llama.cpp's f32 value and numpy's f64 one round apart; from that row on
#   they differ by one rounding step, about as much as with f32 activations).
#     f16:  round to nearest even (F16C)
#     Q8_0: per 32: amax = max |x|, q = rint(x * (127/amax)) (nearest even),
#           d = fp16(amax/127), value q*d
#     Q8_K: per 256: m = the x of largest |x| (signed), iscale = -127/m,
#           q = min(127, rint(iscale * x)), d = 1/iscale (f32), value q*d
#
# The forward pass llama.cpp computes (what --check implements in float64,
# and what gllmk must compute) -- x is [T, n_embd], one row per token:
#
#   x = token_embd[tokens]                    (no scaling of the embeddings)
#   per layer l (blk.l.*):
#     h = rmsnorm(x) * attn_norm              rmsnorm(v) = v / sqrt(mean(v^2) + eps),
#                                             eps = <arch>.attention.layer_norm_rms_epsilon
#                                             (1e-5 here for llama, 1e-6 for qwen2/qwen3)
#     q = h @ attn_q^T (+ attn_q.bias)        qwen2 only: q, k and v biases
#     k = h @ attn_k^T (+ attn_k.bias)
#     v = h @ attn_v^T (+ attn_v.bias)
#     q, k, v reshaped to [T, heads, head_dim], head-major: q[t, h, d] = q[t, h*head_dim + d]
#     qwen3 only: q = rmsnorm(q) * attn_q_norm, k = rmsnorm(k) * attn_k_norm,
#       per head over head_dim (the norm weights have head_dim elements, the
#       same eps), AFTER the projection and BEFORE RoPE
#     RoPE on q and k (see below); v is not rotated
#     attention per head h with kv head h / (n_head / n_head_kv) (consecutive
#       q heads share a kv head), scale 1/sqrt(head_dim), causal over
#       positions (a row sees every cached row whose position is <= its own),
#       softmax in f32
#     x = x + attn_out @ attn_output^T        attn_out [T, n_head*head_dim], head-major
#     h = rmsnorm(x) * ffn_norm
#     x = x + (silu(h @ ffn_gate^T) * (h @ ffn_up^T)) @ ffn_down^T
#   logits = (rmsnorm(x) * output_norm) @ output^T,
#     output = token_embd when the file has no output.weight (tied)
#
# head_dim = <arch>.attention.key_length when present (qwen3 here: 32 with
# n_embd 64 and 4 heads, so head_dim != n_embd/n_head), else n_embd / n_head.
# The RoPE dimension count is head_dim (rope.dimension_count is written and
# equals head_dim).  Matrices are stored as llama.cpp has them: gguf ne[0] is
# the input dimension, so in numpy's [rows, cols] a matrix is [out, in] and
# y = x @ W^T.
#
# RoPE, for a row at position p, n_dims = head_dim, pairs i = 0 .. n_dims/2-1:
#   theta_i = p * base^(-2i/n_dims) / f_i,   base = <arch>.rope.freq_base,
#   f_i = rope_freqs.weight[i] when the file has that tensor (llama-3 scaling),
#   else 1 (llama.cpp divides the angle by the factor: ggml_rope_ext's
#   freq_factors; no YaRN, freq_scale 1, attn_factor 1)
#   llama (rope type NORM, adjacent pairs):  (x[2i], x[2i+1])
#   qwen2, qwen3 (rope type NEOX, halves):    (x[i], x[i + n_dims/2])
#   each pair (a, b) -> (a cos theta_i - b sin theta_i, a sin theta_i + b cos theta_i)
#   (ggml computes the angle in f32 as p * theta_scale^i with theta_scale =
#   powf(base, -2/n_dims), multiplied up pair by pair, then cosf / sinf; the
#   f64 reference differs from it by ~1e-7 of the logits' spread here.)
# The llama GGUF layout is the NORM one because llama.cpp's HF converter
# permutes the rows of attn_q / attn_k for llama; random weights written
# straight into GGUF need no permutation, and the C code must use adjacent
# pairs for llama and the halves for qwen2 / qwen3.  The rope type comes from
# the architecture, not from any metadata key.
#
# llama-3 frequency factors (llama-rope3-f32): llama.cpp reads them from the
# 1-D f32 tensor rope_freqs.weight [head_dim/2] (one tensor for all layers)
# and needs no rope.scaling.* key; this file has none, as llama.cpp's HF
# converter writes none for rope_type "llama3".  An implementation applies
# whatever factors the tensor holds: theta_i = p * base^(-2i/n_dims) / f_i.
# They are computed with the converter's llama-3 formula, factor 8,
# low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings L:
#   freq_i = base^(-2i/head_dim), wavelen_i = 2 pi / freq_i
#   wavelen_i < L/4 -> f_i = 1;  wavelen_i > L/1 -> f_i = 8;
#   else s = (L/wavelen_i - 1) / (4 - 1), f_i = 1 / ((1 - s)/8 + s)
# Llama 3 has L = 8192; here L = 64 and base 10000, giving
# f = 1, 1.294, 7.667, 8, 8, 8, 8, 8.  With L = 8192 only pairs of wavelength
# > 2048 would be scaled, and those turn by < 0.05 rad over the 18 positions
# of the test: leaving the factors out would change the logits by 1e-3 of
# their spread, under the tolerance.  With L = 64 it changes them by 10%.
# (RoPE attention depends only on position differences, so starting the
# prompt at a large position does not help.)
#
# How sensitive the data is (each mistake, made in the numpy reference, moves
# the logits by this fraction of their spread): rope pairing swapped 0.23 to
# 0.27; q head h on kv head h % n_head_kv instead of h / group 0.5; no
# freq factors 0.10; no qwen3 q/k norm 0.39; no qwen2 biases 0.33; qwen3 eps
# x 10 0.15 (llama: eps x 10 only 7e-5, its activations are O(1)).
#
# The tied model (llama-tied-f32) repeats its generated tokens: with tied
# embeddings the fed token's own embedding in the residual favours itself
# (most seeds give one token six times; this seed gives two tokens).  The
# logits of every row differ all the same, and they are what the test
# compares.

import argparse
import ctypes
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "data", "models")

N_PROMPT, N_GEN, N_CTX = 12, 6, 64
CHECK_TOL = 1e-3     # f32 models: max |numpy - llama.cpp| / (max - min of the row)

# Shapes.  "small": f32 / f16 / Q8_0 (rows a multiple of 32); "kq": Q4_K_M and
# Q6_K (every matrix row a multiple of 256).
SMALL = dict(n_embd=64, n_layer=2, n_head=4, n_head_kv=2, head_dim=16, n_ff=96, n_vocab=128)
SMALL_QWEN3 = dict(SMALL, n_head_kv=1, head_dim=32)    # GQA 4:1, head_dim != n_embd/n_head
SMALL_1L = dict(SMALL, n_layer=1)
KQ = dict(n_embd=256, n_layer=1, n_head=4, n_head_kv=2, head_dim=64, n_ff=256, n_vocab=256)

# Base f32 models: name -> (arch, shape, seed, options).  keep: written to the
# output directory (else only used as the source of quantized files).
BASES = {
    "llama-f32":       ("llama", SMALL, 1001, dict(keep=True)),
    "qwen2-f32":       ("qwen2", SMALL, 1002, dict(keep=True)),
    "qwen3-f32":       ("qwen3", SMALL_QWEN3, 1003, dict(keep=True, qk_gain=0.003)),
    "llama-rope3-f32": ("llama", SMALL_1L, 1004, dict(keep=True, rope3=True)),
    "llama-tied-f32":  ("llama", SMALL_1L, 1018, dict(keep=True, tied=True, embd_std=0.25)),
    "llama-kq-f32":    ("llama", KQ, 1006, dict(keep=False)),
    "qwen2-kq-f32":    ("qwen2", KQ, 1007, dict(keep=False)),
}

# Derived files: name -> (base, llama_ftype name)
DERIVED = {
    "llama-f16":    ("llama-f32", "MOSTLY_F16"),
    "llama-q8_0":   ("llama-f32", "MOSTLY_Q8_0"),
    "llama-q4_k_m": ("llama-kq-f32", "MOSTLY_Q4_K_M"),
    "llama-q6_k":   ("llama-kq-f32", "MOSTLY_Q6_K"),
    "qwen2-q4_k_m": ("qwen2-kq-f32", "MOSTLY_Q4_K_M"),
    "qwen3-q8_0":   ("qwen3-f32", "MOSTLY_Q8_0"),
}

ORDER = ["llama-f32", "llama-f16", "llama-q8_0", "llama-q4_k_m", "llama-q6_k",
         "qwen2-f32", "qwen2-q4_k_m", "qwen3-f32", "qwen3-q8_0",
         "llama-rope3-f32", "llama-tied-f32"]

FORMAT = {"f32": "f32", "f16": "f16", "q8_0": "Q8_0", "q4_k_m": "Q4_K_M", "q6_k": "Q6_K"}

RMS_EPS = {"llama": 1e-5, "qwen2": 1e-6, "qwen3": 1e-6}
ROPE_BASE = {"llama": 10000.0, "qwen2": 1000000.0, "qwen3": 1000000.0}
ROPE3_BASE = 10000.0
ROPE3_ORIG = 64          # original_max_position_embeddings (8192 in Llama 3; see the header)


# ---------------------------------------------------------------- weights

def llama3_freq_factors(base, head_dim, factor=8.0, low=1.0, high=4.0, orig=8192):
    out = []
    for i in range(head_dim // 2):
        freq = 1.0 / (base ** (2 * i / head_dim))
        wavelen = 2 * math.pi / freq
        if wavelen < orig / high:
            out.append(1.0)
        elif wavelen > orig / low:
            out.append(factor)
        else:
            s = (orig / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - s) / factor + s))
    return np.array(out, dtype=np.float32)


def make_weights(arch, shape, seed, opts):
    rng = np.random.default_rng(seed)
    d, hd, nh, nkv, ff, V = (shape[k] for k in ("n_embd", "head_dim", "n_head", "n_head_kv", "n_ff", "n_vocab"))

    def mat(rows, cols, gain=1.0):
        return (rng.standard_normal((rows, cols)) * gain / math.sqrt(cols)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    t = {}
    t["token_embd.weight"] = (opts.get("embd_std", 1.0) * rng.standard_normal((V, d))).astype(np.float32)
    if opts.get("rope3"):
        t["rope_freqs.weight"] = llama3_freq_factors(ROPE3_BASE, hd, orig=ROPE3_ORIG)
    for l in range(shape["n_layer"]):
        p = f"blk.{l}."
        t[p + "attn_norm.weight"] = norm(d)
        t[p + "attn_q.weight"] = mat(nh * hd, d, gain=opts.get("qk_gain", 1.0))
        t[p + "attn_k.weight"] = mat(nkv * hd, d, gain=opts.get("qk_gain", 1.0))
        t[p + "attn_v.weight"] = mat(nkv * hd, d)
        if arch == "qwen2":
            t[p + "attn_q.bias"] = (0.2 * rng.standard_normal(nh * hd)).astype(np.float32)
            t[p + "attn_k.bias"] = (0.2 * rng.standard_normal(nkv * hd)).astype(np.float32)
            t[p + "attn_v.bias"] = (0.2 * rng.standard_normal(nkv * hd)).astype(np.float32)
        if arch == "qwen3":
            t[p + "attn_q_norm.weight"] = norm(hd)
            t[p + "attn_k_norm.weight"] = norm(hd)
        t[p + "attn_output.weight"] = mat(d, nh * hd)
        t[p + "ffn_norm.weight"] = norm(d)
        t[p + "ffn_gate.weight"] = mat(ff, d)
        t[p + "ffn_up.weight"] = mat(ff, d)
        t[p + "ffn_down.weight"] = mat(d, ff)
    t["output_norm.weight"] = norm(d)
    if not opts.get("tied"):
        t["output.weight"] = mat(V, d, gain=2.0)
    return t


def write_f32_gguf(path, name, arch, shape, opts, tensors):
    d, hd, nh, V = shape["n_embd"], shape["head_dim"], shape["n_head"], shape["n_vocab"]
    w = gguf.GGUFWriter(path, arch)
    w.add_name(f"gllmk oracle {name}")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_context_length(131072 if opts.get("rope3") else 4096)
    w.add_embedding_length(d)
    w.add_block_count(shape["n_layer"])
    w.add_feed_forward_length(shape["n_ff"])
    w.add_head_count(nh)
    w.add_head_count_kv(shape["n_head_kv"])
    if hd != d // nh:
        w.add_key_length(hd)
        w.add_value_length(hd)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(ROPE3_BASE if opts.get("rope3") else ROPE_BASE[arch])
    w.add_layer_norm_rms_eps(RMS_EPS[arch])
    w.add_vocab_size(V)
    # A minimal SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, then
    # byte tokens <0x00>...  llama.cpp loads it as is; nothing is tokenized.
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(V - 3)]
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores([0.0] * V)
    w.add_token_types([2, 3, 3] + [6] * (V - 3))
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
    for k, v in tensors.items():
        w.add_tensor(k, v)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------- llama.cpp

def lc():
    import llama_cpp
    return llama_cpp


def quantize(src, dst, ftype_name):
    L = lc()
    p = L.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = getattr(L, "LLAMA_FTYPE_" + ftype_name)
    rc = L.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize {dst} {ftype_name}: rc {rc}")


def run_llama(path, prompt, n_gen, pos0):
    """Prefill prompt, then n_gen greedy single-token steps; returns (logits [rows, V], gen ids)."""
    L = lc()
    llm = L.Llama(model_path=path, n_ctx=N_CTX, n_batch=N_CTX, n_ubatch=N_CTX, n_threads=1,
                  n_threads_batch=1, logits_all=True, seed=1234, flash_attn=False,
                  type_k=L.GGML_TYPE_F32, type_v=L.GGML_TYPE_F32, n_gpu_layers=0,
                  verbose=False)
    V = llm.n_vocab()
    ctx = llm.ctx

    def decode(tokens, pos):
        b = L.llama_batch_init(len(tokens), 0, 1)
        try:
            for i, tok in enumerate(tokens):
                b.token[i] = tok
                b.pos[i] = pos + i
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = 0
                b.logits[i] = 1
            b.n_tokens = len(tokens)
            rc = L.llama_decode(ctx, b)
            if rc != 0:
                raise RuntimeError(f"llama_decode {path}: rc {rc}")
            rows = []
            for i in range(len(tokens)):
                ptr = L.llama_get_logits_ith(ctx, i)
                rows.append(np.ctypeslib.as_array(ptr, shape=(V,)).astype(np.float32).copy())
            return rows
        finally:
            L.llama_batch_free(b)

    rows = decode(prompt, pos0)
    gen = []
    for k in range(n_gen):
        tok = int(np.argmax(rows[-1]))
        gen.append(tok)
        rows += decode([tok], pos0 + len(prompt) + k)
    llm.close()
    return np.stack(rows), gen


def versions():
    from importlib.metadata import version
    out = {}
    for pkg in ("gguf", "llama-cpp-python", "numpy"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 -- for the README only
            out[pkg] = "?"
    try:
        import llama_cpp
        libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
        g = ctypes.CDLL(os.path.join(libdir, "libggml-base.so"))
        g.ggml_version.restype = g.ggml_commit.restype = ctypes.c_char_p
        out["ggml"] = f"{g.ggml_version().decode()} (commit {g.ggml_commit().decode()})"
        lib = ctypes.CDLL(os.path.join(libdir, "libllama.so"))
        lib.llama_version.restype = ctypes.c_char_p
        out["libllama"] = lib.llama_version().decode()
        sysinfo = llama_cpp.llama_print_system_info().decode().strip().removeprefix("CPU : ").rstrip(" |")
        out["cpu"] = sysinfo
    except Exception:  # noqa: BLE001
        pass
    return out


# ---------------------------------------------------------------- reading back

def read_model(path):
    """GGUFReader -> (arch, hparams dict, tensors as float64 [rows, cols] numpy, types)."""
    r = gguf.GGUFReader(path)

    def kv(key, default=None):
        f = r.fields.get(key)
        return default if f is None else f.contents()

    arch = kv("general.architecture")
    hp = dict(
        arch=arch,
        n_embd=kv(f"{arch}.embedding_length"),
        n_layer=kv(f"{arch}.block_count"),
        n_ff=kv(f"{arch}.feed_forward_length"),
        n_head=kv(f"{arch}.attention.head_count"),
        n_head_kv=kv(f"{arch}.attention.head_count_kv"),
        eps=kv(f"{arch}.attention.layer_norm_rms_epsilon"),
        base=kv(f"{arch}.rope.freq_base"),
        n_vocab=len(kv("tokenizer.ggml.tokens")),
    )
    hp["head_dim"] = kv(f"{arch}.attention.key_length", hp["n_embd"] // hp["n_head"])
    hp["n_rot"] = kv(f"{arch}.rope.dimension_count", hp["head_dim"])
    W, types = {}, {}
    for t in r.tensors:
        types[t.name] = t.tensor_type.name
        a = gguf.quants.dequantize(t.data, t.tensor_type)
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        W[t.name] = np.asarray(a, dtype=np.float64).reshape(shape)
    return hp, W, types


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, base, n_rot, neox, ff):
    # x [T, H, hd]
    half = n_rot // 2
    i = np.arange(half)
    inv = base ** (-2.0 * i / n_rot) / ff
    ang = pos[:, None] * inv[None, :]                  # [T, half]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    y = x.copy()
    if neox:
        a, b = x[..., :half], x[..., half:n_rot]
        y[..., :half] = a * c - b * s
        y[..., half:n_rot] = a * s + b * c
    else:
        a, b = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        y[..., 0:n_rot:2] = a * c - b * s
        y[..., 1:n_rot:2] = a * s + b * c
    return y


def round_q8_0(x):
    # ggml's x86 quantize_row_q8_0: blocks of 32, id = 127/amax, q = round
    # half to even (x * id), d = fp16(amax/127); dequantized q * d.
    s = x.shape
    b = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        iscale = np.where(amax > 0, np.float32(127.0) / amax, np.float32(0.0)).astype(np.float32)
    q = np.rint(b * iscale)
    d = (amax / np.float32(127.0)).astype(np.float16).astype(np.float64)
    return (q * d).reshape(s)


def round_q8_k(x):
    # ggml's quantize_row_q8_K_ref: blocks of 256, max = the element of largest
    # magnitude (signed), iscale = -127/max, q = min(127, round half to even
    # (iscale * x)), d = 1/iscale (f32); dequantized q * d.
    s = x.shape
    b = x.astype(np.float32).reshape(-1, 256)
    idx = np.argmax(np.abs(b), axis=1)
    mx = b[np.arange(b.shape[0]), idx][:, None]
    out = np.zeros_like(b, dtype=np.float64)
    nz = mx[:, 0] != 0
    iscale = (np.float32(-127.0) / mx[nz]).astype(np.float32)
    q = np.minimum(127, np.rint(b[nz] * iscale))
    out[nz] = q * (np.float32(1.0) / iscale).astype(np.float64)
    return out.reshape(s)


# the format llama.cpp's CPU matmul rounds the activations to, per weight type
ACT_ROUND = {
    "F32": None, "F16": lambda x: x.astype(np.float16).astype(np.float64),
    "Q8_0": round_q8_0, "Q4_0": round_q8_0, "Q5_0": round_q8_0,
    "Q2_K": round_q8_k, "Q3_K": round_q8_k, "Q4_K": round_q8_k, "Q5_K": round_q8_k, "Q6_K": round_q8_k,
}


def reference_forward(hp, W, tokens, pos0, types=None):
    """float64 forward pass.  types: emulate llama.cpp's rounding of each
    matmul's activations to the weight's vec_dot_type (None: keep f32)."""
    arch, eps = hp["arch"], hp["eps"]

    def mm(x, name):
        if types is not None:
            f = ACT_ROUND[types[name]]
            if f is not None:
                x = f(x)
        return x @ W[name].T

    nh, nkv, hd = hp["n_head"], hp["n_head_kv"], hp["head_dim"]
    T = len(tokens)
    pos = np.arange(pos0, pos0 + T, dtype=np.float64)
    neox = arch in ("qwen2", "qwen3")
    ff = W.get("rope_freqs.weight", np.ones(hp["n_rot"] // 2))
    x = W["token_embd.weight"][np.asarray(tokens)]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(hp["n_layer"]):
        p = f"blk.{l}."
        h = rmsnorm(x, W[p + "attn_norm.weight"], eps)
        q = mm(h, p + "attn_q.weight")
        k = mm(h, p + "attn_k.weight")
        v = mm(h, p + "attn_v.weight")
        if p + "attn_q.bias" in W:
            q = q + W[p + "attn_q.bias"]
            k = k + W[p + "attn_k.bias"]
            v = v + W[p + "attn_v.bias"]
        q = q.reshape(T, nh, hd)
        k = k.reshape(T, nkv, hd)
        v = v.reshape(T, nkv, hd)
        if p + "attn_q_norm.weight" in W:
            q = rmsnorm(q, W[p + "attn_q_norm.weight"], eps)
            k = rmsnorm(k, W[p + "attn_k_norm.weight"], eps)
        q = rope(q, pos, hp["base"], hp["n_rot"], neox, ff)
        k = rope(k, pos, hp["base"], hp["n_rot"], neox, ff)
        out = np.empty((T, nh, hd))
        g = nh // nkv
        for hh in range(nh):
            s = q[:, hh, :] @ k[:, hh // g, :].T / math.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, hh, :] = s @ v[:, hh // g, :]
        x = x + mm(out.reshape(T, nh * hd), p + "attn_output.weight")
        h = rmsnorm(x, W[p + "ffn_norm.weight"], eps)
        gt = mm(h, p + "ffn_gate.weight")
        up = mm(h, p + "ffn_up.weight")
        x = x + mm(gt / (1.0 + np.exp(-gt)) * up, p + "ffn_down.weight")
    x = rmsnorm(x, W["output_norm.weight"], eps)
    return mm(x, "output.weight" if "output.weight" in W else "token_embd.weight")


# ---------------------------------------------------------------- manifest

def parse_manifest(path):
    models = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = dict(kv.split("=", 1) for kv in line.split())
            models.append(m)
    return models


def type_summary(types):
    counts = {}
    for ty in types.values():
        counts[ty] = counts.get(ty, 0) + 1
    return ",".join(f"{k}:{v}" for k, v in sorted(counts.items()))


def min_top2_gap(logits):
    s = np.sort(logits, axis=1)
    return float(np.min(s[:, -1] - s[:, -2]))


# ---------------------------------------------------------------- main

def generate(outdir):
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gllmk-oracle-")
    try:
        paths, meta = {}, {}
        for name, (arch, shape, seed, opts) in BASES.items():
            path = os.path.join(outdir if opts["keep"] else tmp, name + ".gguf")
            write_f32_gguf(path, name, arch, shape, opts, make_weights(arch, shape, seed, opts))
            paths[name] = path
            meta[name] = (arch, shape, seed, opts, "f32", None)
        for name, (base, ftype) in DERIVED.items():
            path = os.path.join(outdir, name + ".gguf")
            quantize(paths[base], path, ftype)
            paths[name] = path
            arch, shape, seed, opts, _, _ = meta[base]
            meta[name] = (arch, shape, seed, opts, name.split("-", 1)[1], ftype)

        lines = []
        for name in ORDER:
            arch, shape, seed, opts, fmt, ftype = meta[name]
            pos0 = opts.get("pos0", 0)
            prompt = [int(t) for t in np.random.default_rng(seed + 77).integers(3, shape["n_vocab"], N_PROMPT)]
            logits, gen = run_llama(paths[name], prompt, N_GEN, pos0)
            logits.astype("<f4").tofile(os.path.join(outdir, name + ".logits"))
            _, _, types = read_model(paths[name])
            how = "gguf-py" if ftype is None else f"llama_model_quantize({os.path.basename(paths[DERIVED[name][0]])[:-5]},{ftype})"
            lines.append(" ".join([
                f"name={name}", f"file={name}.gguf", f"logits={name}.logits", f"arch={arch}",
                f"format={FORMAT[fmt]}", f"vocab={shape['n_vocab']}", f"n_embd={shape['n_embd']}",
                f"n_layer={shape['n_layer']}", f"n_head={shape['n_head']}", f"n_head_kv={shape['n_head_kv']}",
                f"head_dim={shape['head_dim']}", f"n_ff={shape['n_ff']}",
                f"tied={1 if opts.get('tied') else 0}", f"rope_freqs={1 if opts.get('rope3') else 0}",
                f"pos0={pos0}", f"n_prompt={N_PROMPT}", f"n_gen={N_GEN}", f"rows={logits.shape[0]}",
                "prompt=" + ",".join(map(str, prompt)), "generated=" + ",".join(map(str, gen)),
                f"spread={float(np.max(logits.max(1) - logits.min(1))):.4f}",
                f"min_top2_gap={min_top2_gap(logits):.6f}",
                f"types={type_summary(types)}", f"made_by={how}",
            ]))
            print(f"{name}: {os.path.getsize(paths[name])} bytes, generated {gen}")

        with open(os.path.join(outdir, "MANIFEST"), "w") as f:
            f.write("# gllmk model oracle (tools/gen-model-oracle.py): one model per line, key=value fields.\n"
                    "# logits: raw little-endian f32, rows x vocab: n_prompt prompt rows, then n_gen rows;\n"
                    "# the prompt sits at positions pos0.., generated[k] = argmax(row n_prompt-1+k) is fed at\n"
                    "# position pos0+n_prompt+k and gives row n_prompt+k.  spread: the largest max-min of a row;\n"
                    "# min_top2_gap: the smallest top-1 minus top-2 logit over the rows.  types: tensor format:count.\n")
            for ln in lines:
                f.write(ln + "\n")
        write_readme(outdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_readme(outdir):
    v = versions()
    text = f"""gllmk model oracle data (issue 14: llama.cpp comparison of the L3 model API)

Made by tools/gen-model-oracle.py; its header describes the weights, the
formats, the way llama.cpp was run and the forward pass exactly.  Regenerate
with
    python3 tools/gen-model-oracle.py            (needs gguf, numpy, llama-cpp-python)
and check with
    python3 tools/gen-model-oracle.py --check    (gguf + numpy only)
which compares a float64 numpy forward pass on the weights read back with
gguf-py's GGUFReader against the stored llama.cpp logits.

Files, per model (MANIFEST lists them with shapes, token ids and tensor types):
    <name>.gguf    GGUF v3, random weights, llama.cpp tensor names and metadata
    <name>.logits  raw little-endian f32, rows x vocab: the logits llama.cpp
                   (CPU, 1 thread, f32 KV cache, no flash attention) gives for
                   the prompt rows and then each greedy decode step

Models (12 prompt tokens at positions 0..11, then 6 greedy steps: 18 rows):
    llama-f32, llama-f16, llama-q8_0     llama, n_embd 64, 2 layers, 4/2 heads, head_dim 16,
                                         n_ff 96, vocab 128 (f16 and Q8_0 are llama-f32's weights)
    llama-q4_k_m, llama-q6_k             llama, n_embd 256, 1 layer, 4/2 heads, head_dim 64,
                                         n_ff 256, vocab 256 (one f32 source, not kept)
    qwen2-f32                            qwen2 (q/k/v biases), the small llama shape
    qwen2-q4_k_m                         qwen2, the K-quant shape
    qwen3-f32, qwen3-q8_0                qwen3 (per-head q/k RMSNorm), the small shape with
                                         4/1 heads and head_dim 32 (attention.key_length,
                                         != n_embd/n_head)
    llama-rope3-f32                      llama, 1 layer, with llama-3 frequency factors
                                         (rope_freqs.weight; base 10000, original context 64
                                         so that the factors matter over 18 positions)
    llama-tied-f32                       llama, 1 layer, without output.weight (tied to
                                         token_embd)

Formats other than f32 were made by llama.cpp's own quantizer
(llama_model_quantize through llama-cpp-python, nthread 1, no imatrix) from
the f32 files.  llama.cpp rounds the activations of a matmul to f16 (f16
weights), Q8_0 (Q8_0 weights) or Q8_K (K-quant weights); --check shows the
numpy reference matching llama.cpp to ~1e-7 of the logits' spread for every
f32 model, and for the quantized ones once it rounds the activations the same
way (with f32 activations: 3e-4 of the spread for f16, ~1e-2 for the others).

Versions:
    gguf (gguf-py)      {v.get('gguf')}
    llama-cpp-python    {v.get('llama-cpp-python')}
    libllama            {v.get('libllama', '?')}
    ggml                {v.get('ggml', '?')}
    numpy               {v.get('numpy')}
    CPU (x86-64)        {v.get('cpu', '?')}
The logits of the quantized files depend on the CPU's code path (AVX2,
AVX-512, repacked weights) only through the order of f32 sums (~1e-7 of the
spread).
"""
    with open(os.path.join(outdir, "README"), "w") as f:
        f.write(text)


def check(outdir):
    models = parse_manifest(os.path.join(outdir, "MANIFEST"))
    bad = 0
    for m in models:
        hp, W, types = read_model(os.path.join(outdir, m["file"]))
        V, rows = int(m["vocab"]), int(m["rows"])
        lc_logits = np.fromfile(os.path.join(outdir, m["logits"]), dtype="<f4").reshape(rows, V).astype(np.float64)
        prompt = [int(t) for t in m["prompt"].split(",")]
        gen = [int(t) for t in m["generated"].split(",")]
        ref = reference_forward(hp, W, prompt + gen, int(m["pos0"]))
        spread = lc_logits.max(axis=1) - lc_logits.min(axis=1)
        err = np.max(np.abs(ref - lc_logits), axis=1) / spread
        agree = np.mean(np.argmax(ref, axis=1) == np.argmax(lc_logits, axis=1))
        greedy_ok = all(int(np.argmax(lc_logits[int(m["n_prompt"]) - 1 + k])) == g for k, g in enumerate(gen))
        strict = m["format"] == "f32"
        emu = ""
        if not strict:
            ref2 = reference_forward(hp, W, prompt + gen, int(m["pos0"]), types)
            err2 = np.max(np.abs(ref2 - lc_logits), axis=1) / spread
            agree2 = np.mean(np.argmax(ref2, axis=1) == np.argmax(lc_logits, axis=1))
            emu = (f"\n{'':16s} {'':6s} {'':7s} same, activations rounded as llama.cpp does: "
                   f"{err2.max():.3e} (max abs {np.max(np.abs(ref2 - lc_logits)):.3e}) argmax agree {agree2 * 100:.1f}%")
        ok = (err.max() <= CHECK_TOL and agree == 1.0) if strict else True
        ok = ok and greedy_ok
        bad += not ok
        print(f"{m['name']:16s} {m['arch']:6s} {m['format']:7s} max|numpy-llama.cpp|/spread {err.max():.3e} "
              f"(max abs {np.max(np.abs(ref - lc_logits)):.3e}) argmax agree {agree * 100:.1f}%"
              f"{'' if strict else ' [info: numpy on dequantized weights, f32 activations]'}"
              f"{'' if ok else '  FAIL'}{emu}")
    print("check:", "OK" if bad == 0 else f"{bad} FAILED")
    return 0 if bad == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--outdir", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    outdir = os.path.normpath(a.outdir)
    if a.check:
        sys.exit(check(outdir))
    generate(outdir)
    sys.exit(check(outdir))


if __name__ == "__main__":
    main()
