#!/usr/bin/env python3
# gen-gguf-testdata.py -- write tests/data/tiny-llama.gguf with gguf-py
# SPDX-License-Identifier: MIT
#
# A tiny llama-architecture GGUF file written by the `gguf` Python package
# (llama.cpp's gguf-py; `pip install gguf`), so that tests/test_gguf.c reads
# a file made by another writer than its own.  Everything is deterministic:
# the test hard-codes the same keys, values, shapes and element formulas.
# Tensors (gguf-py's shapes are numpy's, [rows, cols]; the file stores
# ne[0] = cols):
#   token_embd.weight       f32  [8, 32]   ((i * 32 + j) % 23 - 11) / 8
#   blk.0.attn_norm.weight  f32  [32]      1 + j / 64
#   blk.0.attn_q.weight     q8_0 [32, 32]  q / 16, q = ((i * 37 + j * 11) % 255) - 127,
#                                          and 127 at every j % 32 == 0 (so that each
#                                          block's scale is exactly 1/16)
#   output_norm.weight      f32  [32]      1 - j / 64
#   output.weight           f16  [8, 32]   ((i * 7 + j * 3) % 19 - 9) / 16
#
# Usage: tools/gen-gguf-testdata.py [OUTPUT]   (default tests/data/tiny-llama.gguf)

import os
import sys

import numpy as np
import gguf

N_VOCAB, N_EMBD = 8, 32


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "tiny-llama.gguf")
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("gllmk tiny llama")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(128)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(1)
    w.add_feed_forward_length(64)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_dimension_count(8)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(N_VOCAB)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<unk>", "<s>", "</s>", "\u2581a", "b", "\u2581\u00e9t\u00e9", "", "<0x0A>"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.5, -2.25, -3.0, -4.0, -1000.0])
    w.add_token_types([2, 3, 3, 1, 1, 1, 1, 6])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    i = np.arange(N_VOCAB)[:, None]
    j = np.arange(N_EMBD)[None, :]
    w.add_tensor("token_embd.weight", (((i * 32 + j) % 23 - 11) / 8).astype(np.float32))
    w.add_tensor("blk.0.attn_norm.weight", (1 + np.arange(N_EMBD) / 64).astype(np.float32))
    r = np.arange(N_EMBD)[:, None]
    q = ((r * 37 + j * 11) % 255) - 127
    q[:, ::32] = 127
    wq = (q / 16).astype(np.float32)
    qb = gguf.quants.quantize(wq, gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", qb, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("output_norm.weight", (1 - np.arange(N_EMBD) / 64).astype(np.float32))
    w.add_tensor("output.weight", (((i * 7 + j * 3) % 19 - 9) / 16).astype(np.float16))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{out}: {os.path.getsize(out)} bytes (gguf-py {gguf_version()})")


def gguf_version():
    try:
        from importlib.metadata import version
        return version("gguf")
    except Exception:  # noqa: BLE001 -- only for the message
        return "?"


if __name__ == "__main__":
    main()
