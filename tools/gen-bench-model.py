#!/usr/bin/env python3
# gen-bench-model.py -- synthetic GGUF models of a real model's shape, for
# gllmk-bench's model rows (gllmk against llama.cpp on the same file)
# SPDX-License-Identifier: MIT
#
#   gen-bench-model.py OUTDIR [--shape llama-3.2-1b|tiny] [--formats f16,q4_k_m]
#
# Writes OUTDIR/<shape>-f16.gguf with random weights (gguf-py), and every
# other format from it with llama.cpp's own quantizer
# (llama_cpp.llama_model_quantize: MOSTLY_Q4_K_M gives the mixed Q4_K / Q6_K
# file llama.cpp users run).  Existing files are kept.  Needs the Python
# packages gguf and numpy, and llama-cpp-python for the quantized formats.
#
# Shapes:
#   llama-3.2-1b  hidden 2048, 16 layers, 32 / 8 heads (head_dim 64), ffn
#                 8192, vocab 128256, rope theta 500000, tied output (as the
#                 real model): 1.24 G parameters, 2.5 GB in f16, 0.8 GB Q4_K_M
#   tiny          hidden 256, 2 layers, 8 / 2 heads, ffn 512, vocab 4096:
#                 seconds to make, for --quick runs
# The weights are N(0, 1/fan_in) (norms 1 + N(0, 0.01)): the speed of a
# forward pass does not depend on them.
import argparse, ctypes, math, os, sys

SHAPES = {
    "llama-3.2-1b": dict(hidden=2048, layers=16, heads=32, kv_heads=8, ffn=8192, vocab=128256,
                         theta=500000.0, context=131072),
    "tiny": dict(hidden=256, layers=2, heads=8, kv_heads=2, ffn=512, vocab=4096, theta=10000.0,
                 context=4096),
}


def write_f16(path, shape):
    import numpy as np, gguf
    s = SHAPES[shape]
    rng = np.random.default_rng(1)
    d, hd = s["hidden"], s["hidden"] // s["heads"]
    w = gguf.GGUFWriter(path + ".tmp", "llama")
    w.add_name("gllmk bench " + shape)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_context_length(s["context"])
    w.add_embedding_length(d)
    w.add_block_count(s["layers"])
    w.add_feed_forward_length(s["ffn"])
    w.add_head_count(s["heads"])
    w.add_head_count_kv(s["kv_heads"])
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(s["theta"])
    w.add_layer_norm_rms_eps(1e-5)
    V = s["vocab"]
    w.add_vocab_size(V)
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    toks += ["t%d" % i for i in range(V - len(toks))]
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores([0.0] * V)
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (V - 259))
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols), dtype=np.float32) / math.sqrt(cols)).astype(np.float16)

    def norm(n):
        return (1.0 + 0.01 * rng.standard_normal(n)).astype(np.float32)

    w.add_tensor("token_embd.weight", rng.standard_normal((V, d), dtype=np.float32).astype(np.float16))
    for l in range(s["layers"]):
        p = "blk.%d." % l
        w.add_tensor(p + "attn_norm.weight", norm(d))
        w.add_tensor(p + "attn_q.weight", mat(s["heads"] * hd, d))
        w.add_tensor(p + "attn_k.weight", mat(s["kv_heads"] * hd, d))
        w.add_tensor(p + "attn_v.weight", mat(s["kv_heads"] * hd, d))
        w.add_tensor(p + "attn_output.weight", mat(d, s["heads"] * hd))
        w.add_tensor(p + "ffn_norm.weight", norm(d))
        w.add_tensor(p + "ffn_gate.weight", mat(s["ffn"], d))
        w.add_tensor(p + "ffn_up.weight", mat(s["ffn"], d))
        w.add_tensor(p + "ffn_down.weight", mat(d, s["ffn"]))
    w.add_tensor("output_norm.weight", norm(d))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(path + ".tmp", path)


def quantize(src, dst, ftype):
    import llama_cpp as L
    p = L.llama_model_quantize_default_params()
    p.nthread = os.cpu_count() or 1
    p.ftype = getattr(L, "LLAMA_FTYPE_MOSTLY_" + ftype.upper())
    if L.llama_model_quantize(src.encode(), (dst + ".tmp").encode(), ctypes.byref(p)) != 0:
        sys.exit("gen-bench-model.py: llama_model_quantize %s failed" % dst)
    os.replace(dst + ".tmp", dst)


def main():
    ap = argparse.ArgumentParser(description="synthetic GGUF models for gllmk-bench")
    ap.add_argument("outdir")
    ap.add_argument("--shape", default="llama-3.2-1b", choices=sorted(SHAPES))
    ap.add_argument("--formats", default="f16,q4_k_m")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    f16 = os.path.join(a.outdir, a.shape + "-f16.gguf")
    if not os.path.exists(f16):
        write_f16(f16, a.shape)
    for f in a.formats.split(","):
        out = os.path.join(a.outdir, "%s-%s.gguf" % (a.shape, f))
        if f != "f16" and not os.path.exists(out):
            quantize(f16, out, {"q4_k_m": "Q4_K_M", "q8_0": "Q8_0", "q6_k": "Q6_K"}.get(f, f))
        print(out)


if __name__ == "__main__":
    main()
