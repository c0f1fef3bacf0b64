"""Telltale's reference language model (issue 7).

    import sys; sys.path.insert(0, "datasets")
    import reflm
    model, tok = reflm.load()
    out = reflm.generate(model, tok, ["It is a truth"], max_new_tokens=40, seed=1)
    print(out.texts[0])

`load()` reads the committed f16 weights (weights/model.f16.pt) and
SentencePiece model (weights/tokenizer.model); computation is float32.
"""
from __future__ import annotations

import json
import os

import torch

from .generate import GenerationOutput, generate  # noqa: F401
from .model import LlamaConfig, LlamaModel  # noqa: F401
from .tokenizer import Tokenizer  # noqa: F401

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


def load_model(weights_path: str, config: LlamaConfig) -> LlamaModel:
    state = torch.load(weights_path, map_location="cpu")
    if not isinstance(state, dict):
        raise ValueError(f"{weights_path}: expected a state dict")
    model = LlamaModel(config)
    missing = set(model.state_dict()) - set(state)
    extra = set(state) - set(model.state_dict())
    if missing or extra:
        raise ValueError(f"{weights_path}: missing tensors {sorted(missing)}, unexpected {sorted(extra)}")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    return model


def load(weights_dir: str = WEIGHTS_DIR) -> tuple:
    """Returns (model, tokenizer) from a weights directory holding
    model.json, model.f16.pt and tokenizer.model."""
    with open(os.path.join(weights_dir, "model.json")) as f:
        meta = json.load(f)
    cfg = LlamaConfig(**meta["config"])
    tok = Tokenizer(os.path.join(weights_dir, "tokenizer.model"))
    if tok.vocab_size != cfg.vocab_size:
        raise ValueError(f"{weights_dir}: tokenizer has {tok.vocab_size} pieces, model expects {cfg.vocab_size}")
    return load_model(os.path.join(weights_dir, "model.f16.pt"), cfg), tok


def metadata(weights_dir: str = WEIGHTS_DIR) -> dict:
    with open(os.path.join(weights_dir, "model.json")) as f:
        return json.load(f)
