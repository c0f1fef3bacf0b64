"""Batched sampling with pluggable logits processors.

`processor(input_ids: LongTensor[B, T], scores: FloatTensor[B, V]) -> FloatTensor`
is the Hugging Face LogitsProcessor protocol. As in transformers' `generate`,
processors see the raw next-token logits (and the full left-padded
sequence, prompt included) before temperature, top-k and top-p are applied;
a sampling scheme can return a row that is -inf everywhere but one token.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import torch

Processor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class GenerationOutput:
    sequences: torch.Tensor       # [B, P + N] left-padded prompt + generated ids (pad after EOS)
    attention_mask: torch.Tensor  # [B, P + N] 1 for real tokens
    prompt_length: int            # P, the padded prompt width
    new_tokens: list              # per row: generated ids, EOS excluded
    texts: list                   # per row: decoded generated text


def _filter_top_k_top_p(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    if top_k and top_k > 0 and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and 0.0 < top_p < 1.0:
        sorted_logits, idx = torch.sort(logits, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the mass before it already reaches top_p (the
        # most likely token is always kept).
        drop = (probs.cumsum(dim=-1) - probs) >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, idx, sorted_logits)
    return logits


def _as_processors(p: Union[None, Processor, Sequence[Processor]]) -> list:
    if p is None:
        return []
    if callable(p):
        return [p]
    return list(p)


@torch.no_grad()
def generate(model, tokenizer, prompts: Sequence, max_new_tokens: int = 50, temperature: float = 0.7,
             top_k: int = 0, top_p: float = 1.0, seed: int = 0,
             logits_processor: Union[None, Processor, Sequence[Processor]] = None,
             min_new_tokens: int = 0, stop_at_eos: bool = True, add_bos: bool = True) -> GenerationOutput:
    """Samples continuations for a batch of prompts (strings or id lists).

    Prompts are left-padded to a common width. temperature == 0 means greedy.
    The RNG is a private torch.Generator seeded with `seed`, so results do
    not depend on global RNG state. EOS is suppressed until
    `min_new_tokens`; rows that hit EOS are padded afterwards and stop
    changing. When a sequence outgrows the model context the last
    `max_seq_len` tokens are re-encoded (RoPE is relative, so this is a
    sliding window).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if not prompts:
        raise ValueError("prompts is empty")
    procs = _as_processors(logits_processor)
    rows = []
    for p in prompts:
        ids = tokenizer.encode(p, bos=add_bos) if isinstance(p, str) else [int(x) for x in p]
        if not ids:
            ids = [tokenizer.bos_id]
        rows.append(ids)
    b = len(rows)
    width = max(len(r) for r in rows)
    ids = torch.full((b, width), tokenizer.pad_id, dtype=torch.long)
    mask = torch.zeros((b, width), dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
        mask[i, width - len(r):] = True
    gen = torch.Generator().manual_seed(int(seed))
    ctx = model.cfg.max_seq_len
    finished = torch.zeros(b, dtype=torch.bool)
    new_tokens = [[] for _ in range(b)]
    caches = None
    step_ids, step_mask, past_mask = ids, mask, None
    for step in range(max_new_tokens):
        if caches is not None and mask.shape[1] > ctx:
            caches = None  # slide: re-encode the last ctx tokens below
        if caches is None:
            caches = [{} for _ in range(model.cfg.n_layers)]
            step_ids, step_mask, past_mask = ids[:, -ctx:], mask[:, -ctx:], None
        logits = model(step_ids, step_mask, caches=caches, past_mask=past_mask)[:, -1, :]
        scores = logits.clone()
        if step < min_new_tokens or not stop_at_eos:
            scores[:, tokenizer.eos_id] = float("-inf")
        for proc in procs:
            out = proc(ids, scores)
            scores = out if out is not None else scores
        if temperature == 0:
            nxt = scores.argmax(dim=-1)
        else:
            filt = _filter_top_k_top_p(scores / temperature, top_k, top_p)
            probs = torch.softmax(filt, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=gen).squeeze(1)
        nxt = torch.where(finished, torch.full_like(nxt, tokenizer.pad_id), nxt)
        for i in range(b):
            if not finished[i]:
                if stop_at_eos and int(nxt[i]) == tokenizer.eos_id:
                    finished[i] = True
                else:
                    new_tokens[i].append(int(nxt[i]))
        real = ~finished | (nxt == tokenizer.eos_id)
        past_mask = torch.cat([past_mask, step_mask], dim=1) if past_mask is not None else step_mask
        ids = torch.cat([ids, nxt.unsqueeze(1)], dim=1)
        mask = torch.cat([mask, real.unsqueeze(1)], dim=1)
        step_ids, step_mask = nxt.unsqueeze(1), real.unsqueeze(1)
        if bool(finished.all()):
            break
    texts = [tokenizer.decode(t) for t in new_tokens]
    return GenerationOutput(ids, mask, width, new_tokens, texts)
