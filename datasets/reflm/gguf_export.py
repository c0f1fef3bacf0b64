#!/usr/bin/python3
"""Exports the reference LM to GGUF with llama.cpp's own gguf-py.

    /usr/bin/python3 datasets/reflm/gguf_export.py [--weights DIR] [--out FILE] [--dtype f32|f16]

Writes the llama architecture metadata, the SentencePiece vocabulary
(tokenizer.ggml.model = "llama": pieces, scores and token types including
the 256 byte-fallback tokens) and the tensors under llama.cpp's names. The
q/k projections are permuted from rotate-half to llama.cpp's rope pairing,
as convert_hf_to_gguf.py does for Hugging Face Llama checkpoints. The
output head is tied, so no `output.weight` is written (llama.cpp then reuses
`token_embd.weight`). Default dtype f32 is the exact upcast of the f16
weights, so llama.cpp's logits can be compared with torch's tightly.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

from reflm import llama_src  # noqa: E402

TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6


def permute_rope(w: np.ndarray, n_head: int) -> np.ndarray:
    """Rotate-half (first half / second half of each head) to adjacent pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def vocab_arrays(tokenizer_model: str) -> tuple:
    sp = spm.SentencePieceProcessor()
    if not sp.Load(tokenizer_model):
        raise OSError(f"{tokenizer_model}: not a SentencePiece model")
    tokens, scores, types = [], [], []
    for i in range(sp.GetPieceSize()):
        tokens.append(sp.IdToPiece(i).encode("utf-8"))
        scores.append(float(sp.GetScore(i)))
        if sp.IsUnknown(i):
            types.append(TOKEN_UNKNOWN)
        elif sp.IsControl(i):
            types.append(TOKEN_CONTROL)
        elif sp.IsByte(i):
            types.append(TOKEN_BYTE)
        elif sp.IsUnused(i):
            types.append(TOKEN_UNUSED)
        else:
            types.append(TOKEN_NORMAL)
    return tokens, scores, types, sp


def export(weights_dir: str, out_path: str, dtype: str = "f32") -> str:
    with open(os.path.join(weights_dir, "model.json")) as f:
        meta = json.load(f)
    state = torch.load(os.path.join(weights_dir, "model.f16.pt"), map_location="cpu")
    return export_state(state, meta, os.path.join(weights_dir, "tokenizer.model"), out_path, dtype)


def export_state(state: dict, meta: dict, tokenizer_model: str, out_path: str, dtype: str = "f32") -> str:
    """Exports a state dict of the reference LM's architecture (the committed
    weights, or a fine-tuned student of it) with `meta`'s config."""
    if dtype not in ("f32", "f16"):
        raise ValueError(f"dtype must be f32 or f16, got {dtype!r}")
    gguf = llama_src.import_gguf()
    cfg = meta["config"]
    tokens, scores, types, sp = vocab_arrays(tokenizer_model)
    if len(tokens) != cfg["vocab_size"]:
        raise ValueError(f"tokenizer has {len(tokens)} pieces, model {cfg['vocab_size']}")

    tmp = out_path + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name(f"telltale-reflm-{meta.get('kind', 'reference')}")
    w.add_context_length(cfg["max_seq_len"])
    w.add_embedding_length(cfg["dim"])
    w.add_block_count(cfg["n_layers"])
    w.add_feed_forward_length(cfg["ffn_dim"])
    w.add_head_count(cfg["n_heads"])
    w.add_head_count_kv(cfg["n_heads"])
    w.add_layer_norm_rms_eps(cfg["norm_eps"])
    w.add_rope_dimension_count(cfg["dim"] // cfg["n_heads"])
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_vocab_size(cfg["vocab_size"])
    w.add_file_type(0 if dtype == "f32" else 1)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)

    def put(name: str, t: torch.Tensor, matrix: bool) -> None:
        arr = t.float().numpy()
        if matrix and dtype == "f16":
            arr = arr.astype(np.float16)
        w.add_tensor(name, np.ascontiguousarray(arr))

    put("token_embd.weight", state["tok_embeddings.weight"], True)
    for i in range(cfg["n_layers"]):
        p = f"layers.{i}."
        put(f"blk.{i}.attn_norm.weight", state[p + "attention_norm.weight"], False)
        put(f"blk.{i}.attn_q.weight", torch.from_numpy(permute_rope(state[p + "attention.wq.weight"].float().numpy(),
                                                                    cfg["n_heads"])), True)
        put(f"blk.{i}.attn_k.weight", torch.from_numpy(permute_rope(state[p + "attention.wk.weight"].float().numpy(),
                                                                    cfg["n_heads"])), True)
        put(f"blk.{i}.attn_v.weight", state[p + "attention.wv.weight"], True)
        put(f"blk.{i}.attn_output.weight", state[p + "attention.wo.weight"], True)
        put(f"blk.{i}.ffn_norm.weight", state[p + "ffn_norm.weight"], False)
        put(f"blk.{i}.ffn_gate.weight", state[p + "feed_forward.w1.weight"], True)
        put(f"blk.{i}.ffn_up.weight", state[p + "feed_forward.w3.weight"], True)
        put(f"blk.{i}.ffn_down.weight", state[p + "feed_forward.w2.weight"], True)
    put("output_norm.weight", state["norm.weight"], False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out_path)
    return out_path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default=os.path.join(HERE, "weights"))
    ap.add_argument("--out", default=os.path.join(llama_src.cache_dir(), "reflm", "reflm.gguf"))
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16"])
    args = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    try:
        print(export(args.weights, args.out, args.dtype))
    except (OSError, ValueError, KeyError, llama_src.LlamaSourceError) as e:
        print(f"gguf_export: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
