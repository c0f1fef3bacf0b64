"""Robustness attacks on generated token ids (full mode). Each takes the
generated ids and a seeded random.Random and returns the attacked ids that
a detector would see; text-level attacks decode, edit and re-tokenize with
the model's tokenizer (what a stranger holding only the text would do)."""
from __future__ import annotations

import random


def substitute_tokens(ids: list, fraction: float, vocab_size: int, first_normal_id: int,
                      rng: random.Random) -> list:
    """Replaces round(fraction * len) positions, chosen uniformly without
    replacement, by uniform random non-special ids."""
    out = list(ids)
    k = int(round(fraction * len(out)))
    for i in rng.sample(range(len(out)), k):
        out[i] = rng.randrange(first_normal_id, vocab_size)
    return out


def delete_words(tok, ids: list, fraction: float, rng: random.Random) -> list:
    """Deletes round(fraction * words) whitespace-separated words of the
    decoded text and re-tokenizes."""
    words = tok.decode(ids).split()
    k = int(round(fraction * len(words)))
    drop = set(rng.sample(range(len(words)), k))
    return tok.encode(" ".join(w for i, w in enumerate(words) if i not in drop))


def truncate(ids: list, fraction: float) -> list:
    """Keeps the first (1 - fraction) of the tokens."""
    return list(ids[:max(1, int(round(len(ids) * (1.0 - fraction))))])
