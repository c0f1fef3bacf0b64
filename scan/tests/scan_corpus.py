#!/usr/bin/python3
"""Builds (once) and caches the test corpus of `telltale scan`'s end-to-end tests.

    PYTHONPATH=<build>/python /usr/bin/python3 scan/tests/scan_corpus.py [--print-dir]

Watermarked text comes from the reference LM (datasets/reflm) through the
real telltale.hf.WatermarkLogitsProcessor (kgw gamma=0.25 delta=2 h=1, T=0.7),
under two tenant keys derived from a fixed test master key; it is decoded to
text, so the scanner re-tokenizes it exactly as it would a stranger's text.
Unwatermarked documents are human text (paragraphs of datasets/sample/english.txt).

Files under $TELLTALE_CACHE_DIR/scan-corpus/<hash> (hash of this script, the
LM weights and the sample text), written into a temporary directory and
renamed into place, so a half-built corpus is never used:
  keys/acme.key, keys/globex.key   tenant keys (mode 0600)
  reflm.gguf                       the LM's GGUF export (the C++ tokenizer reads it)
  main.jsonl                       2,000 documents: per tenant LONG_PER_TENANT long and
                                   SHORT_PER_TENANT 20-token docs; the rest human text
  short.jsonl                      only 20-token docs: the short watermarked ones and
                                   20-word human snippets
  attacked.jsonl                   the long watermarked docs after homoglyph substitution
                                   and zero-width insertion into 30% of the words
  truth.json                       per file and line: tenant (or null) and new-token count
Generation takes a few minutes on one core the first time; later runs reuse it.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "datasets"))

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
TENANTS = ("acme", "globex")
MASTER = bytes(range(32))  # a fixed TEST key: the cached corpus must match the cached key files
TOTAL_DOCS = 2000
LONG_PER_TENANT = 60
LONG_TOKENS = 220
SHORT_PER_TENANT = 200
SHORT_TOKENS = 20
ATTACK_FRACTION = 0.30
# Latin letters and their Cyrillic/Greek look-alikes (the attacker's table).
HOMOGLYPHS = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": "\u043e", "p": "\u0440",
              "x": "\u0445", "y": "\u0443", "A": "\u0391", "B": "\u0392", "E": "\u0395", "H": "\u0397",
              "K": "\u039a", "M": "\u039c", "O": "\u039f", "P": "\u03a1", "T": "\u03a4", "X": "\u03a7"}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")


def cache_root() -> str:
    return os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")


def corpus_hash() -> str:
    import reflm
    h = hashlib.sha256()
    for path in (os.path.abspath(__file__), os.path.join(reflm.WEIGHTS_DIR, "model.f16.pt"),
                 os.path.join(reflm.WEIGHTS_DIR, "tokenizer.model"), os.path.join(reflm.WEIGHTS_DIR, "model.json"),
                 os.path.join(ROOT, "datasets", "sample", "english.txt")):
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def attack(text: str, rng: random.Random) -> str:
    """Homoglyph substitution and zero-width insertion into ATTACK_FRACTION of the words."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if not w or rng.random() >= ATTACK_FRACTION:
            continue
        chars = [HOMOGLYPHS.get(c, c) if rng.random() < 0.5 else c for c in w]
        pos = rng.randrange(len(chars) + 1)
        chars.insert(pos, rng.choice(ZERO_WIDTH))
        words[i] = "".join(chars)
    return " ".join(words)


def human_paragraphs() -> list:
    with open(os.path.join(ROOT, "datasets", "sample", "english.txt"), encoding="utf-8") as f:
        paras = [" ".join(p.split()) for p in f.read().split("\n\n")]
    return [p[:1500] for p in paras if len(p.split()) >= 8]


def generate(model, tok, prompts, keys, row_keys, tokens, seed):
    import torch
    import reflm
    from telltale.hf import WatermarkLogitsProcessor
    from demo import prompt_mask
    proc = WatermarkLogitsProcessor(keys, SCHEME, vocab_size=tok.vocab_size, row_keys=row_keys,
                                    attention_mask=prompt_mask(tok, prompts))
    out = reflm.generate(model, tok, prompts, seed=seed, logits_processor=proc, max_new_tokens=tokens,
                         min_new_tokens=tokens, temperature=0.7, top_k=0, top_p=1.0)
    return out.texts


def build(dest: str) -> None:
    import torch
    import reflm
    import telltale
    from reflm import gguf_export
    from demo import held_out_prompts
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model, tok = reflm.load()
    tmp = tempfile.mkdtemp(prefix=".scan-corpus-", dir=os.path.dirname(dest))
    try:
        os.makedirs(os.path.join(tmp, "keys"))
        master = telltale.Key.from_bytes(MASTER)
        keys = [master.derive(tenant=t, region="eu", epoch="2026-11") for t in TENANTS]
        for t, k in zip(TENANTS, keys):
            k.save(os.path.join(tmp, "keys", t + ".key"))
        gguf_export.export(reflm.WEIGHTS_DIR, os.path.join(tmp, "reflm.gguf"), "f32")

        n_long, n_short = LONG_PER_TENANT * len(TENANTS), SHORT_PER_TENANT * len(TENANTS)
        # 102 held-out prompts exist; rows that share one still sample different text.
        base = held_out_prompts(100)
        prompts = [base[i % len(base)] for i in range(n_long + n_short)]
        long_rows = [i % len(TENANTS) for i in range(n_long)]
        short_rows = [i % len(TENANTS) for i in range(n_short)]
        long_texts = generate(model, tok, prompts[:n_long], keys, long_rows, LONG_TOKENS, seed=11)
        short_texts = generate(model, tok, prompts[n_long:], keys, short_rows, SHORT_TOKENS, seed=12)

        human = human_paragraphs()
        n_human = TOTAL_DOCS - n_long - n_short
        if len(human) < n_human + n_short:
            raise RuntimeError(f"english.txt has {len(human)} paragraphs, need {n_human + n_short}")
        docs = [(t, TENANTS[r], LONG_TOKENS) for t, r in zip(long_texts, long_rows)]
        docs += [(t, TENANTS[r], SHORT_TOKENS) for t, r in zip(short_texts, short_rows)]
        docs += [(p, None, 0) for p in human[:n_human]]
        random.Random(5).shuffle(docs)
        short = [(t, TENANTS[r], SHORT_TOKENS) for t, r in zip(short_texts, short_rows)]
        short += [(" ".join(p.split()[:SHORT_TOKENS]), None, 0) for p in human[n_human:n_human + n_short]]
        random.Random(6).shuffle(short)
        rng = random.Random(7)
        attacked = [(attack(t, rng), TENANTS[r], LONG_TOKENS) for t, r in zip(long_texts, long_rows)]
        clean = [(t, TENANTS[r], LONG_TOKENS) for t, r in zip(long_texts, long_rows)]

        truth = {}
        for name, rows in (("main", docs), ("short", short), ("attacked", attacked), ("clean", clean)):
            with open(os.path.join(tmp, name + ".jsonl"), "w", encoding="utf-8") as f:
                for i, (text, tenant, n) in enumerate(rows):
                    f.write(json.dumps({"id": f"{name}-{i}", "text": text}, ensure_ascii=False) + "\n")
            truth[name] = [{"tenant": tenant, "new_tokens": n} for _, tenant, n in rows]
        truth["keys"] = {t: k.id for t, k in zip(TENANTS, keys)}
        truth["scheme"] = SCHEME
        with open(os.path.join(tmp, "truth.json"), "w", encoding="utf-8") as f:
            json.dump(truth, f)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure() -> str:
    """The cached corpus directory, built on first use."""
    root = os.path.join(cache_root(), "scan-corpus")
    os.makedirs(root, exist_ok=True)
    dest = os.path.join(root, corpus_hash())
    if not os.path.exists(os.path.join(dest, "truth.json")):
        build(dest)
    return dest


if __name__ == "__main__":
    print(ensure())
