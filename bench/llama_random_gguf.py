#!/usr/bin/python3
"""Writes a random-weight llama GGUF with the 128k Llama 3 vocabulary.

    /usr/bin/python3 bench/llama_random_gguf.py [--out FILE] [--dim 256] [--layers 2] [--seed 1]
    /usr/bin/python3 bench/llama_random_gguf.py --shape llama3.2-1b --out FILE

The vocabulary (tokens, types, merges, BOS/EOS, pre-tokenizer "llama-bpe")
is copied from llama.cpp's vocab-only models/ggml-vocab-llama-bpe.gguf in
the pinned source (datasets/reflm/llama_src.py fetches it); the weights are
N(0, 0.02) with unit norms, small enough for CPU. It exists so that the
benchmark measures the sampler on a realistic 128,256-token vocabulary.
The default shape (dim 256, 2 layers) is the cheapest model that has that
vocabulary, i.e. the worst case for the sampler's relative cost; the
llama3.2-1b shape (dim 2048, 16 layers, FFN 8192, 32 heads, 8 KV heads, tied
embeddings, Q8_0 weights: about 1.3 GB) has the per-token cost of the
smallest production model with this vocabulary.
Default output: $TELLTALE_CACHE_DIR/llama-bench/random-llama3-vocab.gguf.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "datasets", "reflm"))

import llama_src  # noqa: E402


def _string_array(field) -> list:
    return [bytes(field.parts[i]) for i in field.data]


SHAPES = {
    # name: (dim, layers, ffn, heads, kv_heads, weight type)
    "tiny": (256, 2, 768, 4, 4, "f16"),
    "llama3.2-1b": (2048, 16, 8192, 32, 8, "q8_0"),
}


def write(out: str, dim: int, layers: int, seed: int, ffn: int = 0, n_head: int = 0, n_kv: int = 0,
          wtype: str = "f16") -> str:
    src = llama_src.ensure_source()
    gguf = llama_src.import_gguf(src)
    vocab = gguf.GGUFReader(os.path.join(src, "models", "ggml-vocab-llama-bpe.gguf"))
    f = vocab.fields
    tokens = _string_array(f["tokenizer.ggml.tokens"])
    types = [int(f["tokenizer.ggml.token_type"].parts[i][0]) for i in f["tokenizer.ggml.token_type"].data]
    merges = _string_array(f["tokenizer.ggml.merges"])
    n_vocab = len(tokens)
    n_head = n_head or max(1, dim // 64)
    n_kv = n_kv or n_head
    ffn = ffn or dim * 3
    head_dim = dim // n_head
    rng = np.random.default_rng(seed)
    qtype = gguf.GGMLQuantizationType.Q8_0 if wtype == "q8_0" else gguf.GGMLQuantizationType.F16

    def randn(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    def add_weight(name, rows, cols):
        # One matrix at a time in float32 (the largest, the embeddings of the
        # 1B shape, is 1 GB); the writer keeps only the converted copies.
        data = randn(rows, cols)
        if qtype == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, data.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)

    tmp = out + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name("telltale-random-llama3-vocab")
    w.add_context_length(4096)
    w.add_embedding_length(dim)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(7 if qtype == gguf.GGMLQuantizationType.Q8_0 else 1)  # mostly q8_0 / f16
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(int(f["tokenizer.ggml.bos_token_id"].parts[-1][0]))
    w.add_eos_token_id(int(f["tokenizer.ggml.eos_token_id"].parts[-1][0]))
    add_weight("token_embd.weight", n_vocab, dim)  # tied: also the output layer
    w.add_tensor("output_norm.weight", np.ones(dim, dtype=np.float32))
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(dim, dtype=np.float32))
        add_weight(p + "attn_q.weight", dim, dim)
        add_weight(p + "attn_k.weight", n_kv * head_dim, dim)
        add_weight(p + "attn_v.weight", n_kv * head_dim, dim)
        add_weight(p + "attn_output.weight", dim, dim)
        w.add_tensor(p + "ffn_norm.weight", np.ones(dim, dtype=np.float32))
        add_weight(p + "ffn_gate.weight", ffn, dim)
        add_weight(p + "ffn_up.weight", ffn, dim)
        add_weight(p + "ffn_down.weight", dim, ffn)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(llama_src.cache_dir(), "llama-bench", "random-llama3-vocab.gguf"))
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=sorted(SHAPES), help="a preset shape (overrides --dim and --layers)")
    a = ap.parse_args()
    if a.dim < 64 or a.dim % 64 or a.layers < 1:
        print("llama_random_gguf: --dim must be a positive multiple of 64 and --layers >= 1", file=sys.stderr)
        return 2
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if a.shape:
        dim, layers, ffn, heads, kv, wtype = SHAPES[a.shape]
        print(write(a.out, dim, layers, a.seed, ffn, heads, kv, wtype))
    else:
        print(write(a.out, a.dim, a.layers, a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
