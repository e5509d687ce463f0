#!/usr/bin/env python3
# gen-fuzz-model-seeds.py -- small valid model files for fuzz/fuzz_gguf's corpus
# SPDX-License-Identifier: MIT
#
# Writes fuzz/seeds-gguf/model-llama.gguf (llama: hidden 32, 1 layer, 2/1
# heads, ffn 32, vocab 16; matrices Q8_0 and f16, norms f32) and
# fuzz/seeds-gguf/model-bert.gguf (bert: hidden 32, 1 layer, 2 heads, ffn 32,
# vocab 16, 8 positions, mean pooling), each under fuzz_gguf's -max_len of
# 16384 bytes, so that the fuzzer starts from files the model loader accepts
# and mutates them.  Deterministic (numpy default_rng(7)).  Needs gguf, numpy.
#
# Usage: tools/gen-fuzz-model-seeds.py [OUTDIR]   (default fuzz/seeds-gguf)
import os, sys
import numpy as np
import gguf

H, FF, V = 32, 32, 16


def mat(rng, rows, cols, kind):
    w = (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)
    if kind == "q8_0":
        return gguf.quants.quantize(w, gguf.GGMLQuantizationType.Q8_0), gguf.GGMLQuantizationType.Q8_0
    return w.astype(np.float16), None


def add(w, name, arr_type):
    arr, qt = arr_type
    if qt is None:
        w.add_tensor(name, arr)
    else:
        w.add_tensor(name, arr, raw_dtype=qt)


def llama(path):
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(path, "llama")
    w.add_context_length(64)
    w.add_embedding_length(H)
    w.add_block_count(1)
    w.add_feed_forward_length(FF)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    add(w, "token_embd.weight", mat(rng, V, H, "q8_0"))
    w.add_tensor("output_norm.weight", np.ones(H, np.float32))
    w.add_tensor("blk.0.attn_norm.weight", np.ones(H, np.float32))
    add(w, "blk.0.attn_q.weight", mat(rng, H, H, "q8_0"))
    add(w, "blk.0.attn_k.weight", mat(rng, H // 2, H, "f16"))
    add(w, "blk.0.attn_v.weight", mat(rng, H // 2, H, "q8_0"))
    add(w, "blk.0.attn_output.weight", mat(rng, H, H, "q8_0"))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(H, np.float32))
    add(w, "blk.0.ffn_gate.weight", mat(rng, FF, H, "q8_0"))
    add(w, "blk.0.ffn_up.weight", mat(rng, FF, H, "q8_0"))
    add(w, "blk.0.ffn_down.weight", mat(rng, H, FF, "q8_0"))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bert(path):
    rng = np.random.default_rng(8)
    w = gguf.GGUFWriter(path, "bert")
    w.add_context_length(8)
    w.add_embedding_length(H)
    w.add_block_count(1)
    w.add_feed_forward_length(FF)
    w.add_head_count(2)
    w.add_layer_norm_eps(1e-12)
    w.add_pooling_type(gguf.PoolingType.MEAN)
    add(w, "token_embd.weight", mat(rng, V, H, "f16"))
    add(w, "position_embd.weight", mat(rng, 8, H, "f16"))
    add(w, "token_types.weight", mat(rng, 2, H, "f16"))
    for n in ("token_embd_norm", "blk.0.attn_output_norm", "blk.0.layer_output_norm"):
        w.add_tensor(n + ".weight", np.ones(H, np.float32))
        w.add_tensor(n + ".bias", np.zeros(H, np.float32))
    for n, r, c in (("attn_q", H, H), ("attn_k", H, H), ("attn_v", H, H), ("attn_output", H, H),
                    ("ffn_up", FF, H), ("ffn_down", H, FF)):
        add(w, "blk.0.%s.weight" % n, mat(rng, r, c, "q8_0"))
        w.add_tensor("blk.0.%s.bias" % n, (0.1 * rng.standard_normal(r)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fuzz", "seeds-gguf")
    llama(os.path.join(out, "model-llama.gguf"))
    bert(os.path.join(out, "model-bert.gguf"))


if __name__ == "__main__":
    main()
