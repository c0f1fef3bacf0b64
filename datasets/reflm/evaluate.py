"""Held-out loss and sampling entropy of a reference LM."""
from __future__ import annotations

import math

import torch

from .generate import _filter_top_k_top_p


def heldout_batches(tok, text: str, seq: int, n_seqs: int) -> torch.Tensor:
    """[n_seqs, seq + 1] token rows cut from the held-out text (paragraphs
    framed by <s> ... </s>, as in training)."""
    ids = []
    for p in text.rstrip("\n").split("\n\n"):
        ids.append(tok.bos_id)
        ids.extend(tok.encode(p))
        ids.append(tok.eos_id)
    need = n_seqs * (seq + 1)
    if len(ids) < need:
        raise ValueError(f"held-out text gives {len(ids)} tokens, need {need}")
    return torch.tensor(ids[:need], dtype=torch.long).view(n_seqs, seq + 1)


@torch.no_grad()
def bits_per_token(model, rows: torch.Tensor, batch: int = 8) -> float:
    total, count = 0.0, 0
    for i in range(0, rows.shape[0], batch):
        xb = rows[i:i + batch]
        logits = model(xb[:, :-1])
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1),
                                                reduction="sum")
        total += float(nll)
        count += xb[:, 1:].numel()
    return total / count / math.log(2)


def entropy_prompts(heldout_text: str, n: int = 8) -> list:
    """The prompts sample_entropy uses: the last n held-out paragraphs."""
    return heldout_text.rstrip("\n").split("\n\n")[-n:]


@torch.no_grad()
def sample_entropy(model, tok, prompts: list, temperature: float, seed: int, new_tokens: int = 64) -> float:
    """Mean entropy (bits) of the temperature-scaled next-token distribution
    along sampled continuations: how much randomness a watermark can use."""
    gen = torch.Generator().manual_seed(seed)
    ents = []
    for p in prompts:
        ids = tok.encode(p, bos=True)[:64]
        for _ in range(new_tokens):
            logits = model(torch.tensor([ids[-model.cfg.max_seq_len:]]))[0, -1]
            logp = torch.log_softmax(_filter_top_k_top_p((logits / temperature).unsqueeze(0), 0, 1.0)[0], -1)
            ents.append(float(-(logp.exp() * logp).sum()) / math.log(2))
            ids.append(int(torch.multinomial(logp.exp(), 1, generator=gen)))
    return round(sum(ents) / len(ents), 4)


@torch.no_grad()
def continuation_bits(model, prompts: list, continuations: list, batch: int = 8) -> list:
    """Mean bits/token of each continuation given its prompt (token id
    lists), as the oracle scores generated text; perplexity = 2 ** bits.
    Sequences longer than the context keep their last max_seq_len tokens.
    Rows are right-padded; only continuation positions are scored."""
    if len(prompts) != len(continuations):
        raise ValueError(f"{len(prompts)} prompts but {len(continuations)} continuations")
    out = []
    ctx = model.cfg.max_seq_len
    for i in range(0, len(prompts), batch):
        rows, spans = [], []
        for p, c in zip(prompts[i:i + batch], continuations[i:i + batch]):
            if not c:
                raise ValueError(f"row {len(out) + len(rows)}: empty continuation")
            seq = (list(p) + list(c))[-(ctx + 1):]
            rows.append(seq)
            spans.append(min(len(c), len(seq) - 1))
        width = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.bool)
        for j, r in enumerate(rows):
            ids[j, :len(r)] = torch.tensor(r)
            mask[j, :len(r)] = True
        logp = torch.log_softmax(model(ids[:, :-1], mask[:, :-1]), dim=-1)
        tok_lp = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        for j, r in enumerate(rows):
            n = spans[j]
            out.append(float(-tok_lp[j, len(r) - 1 - n:len(r) - 1].sum()) / n / math.log(2))
    return out
