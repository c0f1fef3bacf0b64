"""Deterministic train / held-out split of the English corpus for the LM.

A paragraph's split and order depend only on its text (keyed BLAKE2b), never
on file order or RNG state, so the same corpus gives the same split on any
machine. 1 in 64 paragraphs is held out.
"""
from __future__ import annotations

import hashlib
import os

HELDOUT_BUCKETS = 64
SPLIT_KEY = b"telltale-reflm-split-v1"


def _h(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16, key=SPLIT_KEY).digest()


def read_paragraphs(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        return [p for p in f.read().split("\n\n") if p.strip()]


def split(paragraphs: list) -> tuple:
    """Returns (train, heldout), each sorted by keyed hash (a fixed shuffle)."""
    keyed = sorted((_h(p), p) for p in paragraphs)
    train = [p for h, p in keyed if h[0] % HELDOUT_BUCKETS != 0]
    held = [p for h, p in keyed if h[0] % HELDOUT_BUCKETS == 0]
    return train, held


# Literary and plain-prose sources; the technical ones (Linux and Python
# docs, dictionary definitions) make a 1.3M-parameter model much worse at
# the prose that watermarking demos and evaluations generate.
DEFAULT_SOURCES = ("austen", "kjv", "web", "fortunes", "handbook-en")


def source_files(corpora_dir: str, names) -> list:
    paths = [os.path.join(corpora_dir, "sources", n + ".txt") for n in names]
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p} missing: run /usr/bin/python3 datasets/build_corpora.py first")
    return paths


def heldout_paragraphs(corpora_dir: str, names=DEFAULT_SOURCES) -> list:
    """The held-out pool of the reference LM's training sources: prompts
    for evaluation come from here, never from training text."""
    return split([p for path in source_files(corpora_dir, names) for p in read_paragraphs(path)])[1]


def token_windows(tokenizer, texts, length: int):
    """Cuts each text into non-overlapping windows of exactly `length`
    reference-tokenizer ids (a short tail is dropped; windows never span two
    texts). For false-positive tests at length T: feed it the `text` fields
    of human_windows.jsonl. Yields lists of ids."""
    if length <= 0:
        raise ValueError(f"window length must be positive, got {length}")
    for text in texts:
        ids = tokenizer.encode(text)
        for start in range(0, len(ids) - length + 1, length):
            yield ids[start:start + length]
