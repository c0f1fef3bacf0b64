"""Reader for WordNet 3.0 data files (data.noun, data.verb, data.adj, data.adv).

A data line is `offset lex_filenum ss_type w_cnt(hex) word lex_id ...
p_cnt pointers... | gloss`; lines starting with two spaces are the licence
header. The gloss is a definition, then optional quoted examples.
"""
from __future__ import annotations

import os
from typing import Iterator

POS_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")


def synsets(wordnet_dir: str) -> Iterator[tuple]:
    """Yields (pos, [lemmas], gloss)."""
    for name in POS_FILES:
        path = os.path.join(wordnet_dir, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                if len(fields) < 4:
                    continue
                n = int(fields[3], 16)
                lemmas = [fields[4 + 2 * i] for i in range(n) if 4 + 2 * i < len(fields)]
                yield fields[2], lemmas, gloss.strip()


def glosses(wordnet_dir: str) -> Iterator[str]:
    for _pos, lemmas, gloss in synsets(wordnet_dir):
        if gloss:
            words = ", ".join(l.replace("_", " ") for l in lemmas[:3])
            yield f"{words}: {gloss}"


def synonyms(wordnet_dir: str) -> dict:
    """{word: sorted single-word synonyms}, for the synonym-substitution
    attack. Adjective satellites ('s') are folded into adjectives."""
    table: dict = {}
    for pos, lemmas, _gloss in synsets(wordnet_dir):
        pos = "a" if pos == "s" else pos
        words = sorted({l.split("(")[0].lower() for l in lemmas if "_" not in l and l.isalpha()})
        for w in words:
            others = [o for o in words if o != w]
            if others:
                table.setdefault(w, {}).setdefault(pos, set()).update(others)
    return {w: {p: sorted(s) for p, s in sorted(d.items())} for w, d in sorted(table.items())}
