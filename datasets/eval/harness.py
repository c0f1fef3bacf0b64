"""Generation, null samples and scoring for the evaluation.

Keys. Every key is derived from one master key made from the run's seed
(`Key.from_bytes(sha256(seed))`), so a run is reproducible; the results do
not depend on which master is used because every p-value is valid over
the key.

Why a fresh key per null text. A p-value is valid per document over the
random key (docs/STATISTICS.md, "One key, many documents"). Human windows
scored under ONE fixed key share n-grams, hence PRF values: if a frequent
bigram happens to be green under that key, every window containing it
gains, so per-window rejections under a single key are dependent and their
count is not Binomial(n, alpha). Scoring window i under its own key
`master.derive(tenant="w<i>")` makes the windows' p-values independent, so
the rejection count is Binomial(n, <= alpha) and the one-sided binomial
bound is a real test of calibration.
"""
from __future__ import annotations

import hashlib
import json
import os
import random

import numpy
import torch

import reflm
from reflm.data import heldout_paragraphs, token_windows

PROMPT_TOKENS = 24  # prompt (after BOS) + 200 new tokens fit the 256 context


def master_key(seed: int):
    import telltale
    return telltale.Key.from_bytes(hashlib.sha256(f"telltale-eval-master-{seed}".encode()).digest())


def derive(master, tenant: str, purpose: str):
    return master.derive(tenant=tenant, region=purpose, epoch="eval")


def prompts_from_heldout(tok, corpora_dir: str, n: int, seed: int) -> list:
    """n prompt id lists (<= PROMPT_TOKENS ids each, BOS added) cut from the
    start of distinct held-out paragraphs of the LM's own sources."""
    paras = [p for p in heldout_paragraphs(corpora_dir) if len(p.split()) >= 8]
    random.Random(seed).shuffle(paras)
    if len(paras) < n:
        raise RuntimeError(f"only {len(paras)} held-out paragraphs, need {n}")
    return [[tok.bos_id] + tok.encode(p)[:PROMPT_TOKENS] for p in paras[:n]]


class GumbelProcessor:
    """HF-protocol processor for sampling schemes: each row's next token is
    drawn by telltale.Sampler (which applies the temperature itself) and
    the row is returned as -inf everywhere but that token."""

    def __init__(self, keys, scheme: str, vocab_size: int, pad_counts, temperature: float, seed: int):
        import telltale
        self.samplers = [telltale.Sampler(telltale.Watermarker(k, scheme, vocab_size), seed=seed + i,
                                          temperature=temperature) for i, k in enumerate(keys)]
        self.pad_counts = list(pad_counts)

    def __call__(self, input_ids, scores):
        out = torch.full_like(scores, float("-inf"))
        ids = input_ids.numpy()
        for r, sampler in enumerate(self.samplers):
            row = scores[r].contiguous()
            t = sampler.sample(ids[r, self.pad_counts[r]:], row.numpy())
            out[r, t] = 0.0
        return out


def _mask_and_pads(prompts: list):
    width = max(len(p) for p in prompts)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    pads = []
    for i, p in enumerate(prompts):
        mask[i, width - len(p):] = 1
        pads.append(width - len(p))
    return mask, pads


def generate(model, tok, prompts: list, keys, scheme, tokens: int, temperature: float, seed: int,
             batch: int = 32) -> list:
    """Returns one id list per prompt: the `tokens` new ids (EOS masked, so
    every row has exactly `tokens`). keys[i] watermarks prompt i under
    `scheme`; scheme None means unwatermarked."""
    from telltale.hf import WatermarkLogitsProcessor
    import telltale
    outs = []
    for b0 in range(0, len(prompts), batch):
        chunk = prompts[b0:b0 + batch]
        proc = None
        if scheme is not None:
            mask, pads = _mask_and_pads(chunk)
            kchunk = keys[b0:b0 + batch]
            if telltale.Scheme(scheme).is_sampling:
                proc = GumbelProcessor(kchunk, scheme, tok.vocab_size, pads, temperature, seed * 7919 + b0)
            else:
                proc = WatermarkLogitsProcessor(kchunk, scheme, vocab_size=tok.vocab_size, attention_mask=mask)
        out = reflm.generate(model, tok, chunk, max_new_tokens=tokens, min_new_tokens=tokens,
                             temperature=temperature, top_k=0, top_p=1.0, seed=seed + b0,
                             logits_processor=proc, stop_at_eos=False)
        outs.extend(out.new_tokens)
    return outs


def load_human_windows(tok, corpora_dir: str, n: int, length: int, seed: int) -> list:
    """n windows of exactly `length` reference-tokenizer ids from
    human_windows.jsonl (all languages and sources), records taken in a
    seeded random order so a reduced run still covers every source."""
    path = os.path.join(corpora_dir, "human_windows.jsonl")
    with open(path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    random.Random(seed).shuffle(texts)
    out = []
    for w in token_windows(tok, texts, length):
        # int32 arrays: a fifth of the memory of int lists at 100k windows,
        # and the detector borrows them without a copy.
        out.append(numpy.asarray(w, dtype=numpy.int32))
        if len(out) >= n:
            break
    if len(out) < n:
        raise RuntimeError(f"{path}: only {len(out)} windows of {length} tokens, need {n}")
    return out


def detectors(keys, scheme: str) -> list:
    """One Detector per key. Keys and detectors live in guarded memory
    (sodium_malloc: guard pages, mlock), so only a few thousand may exist at
    once; null samples use score_null instead."""
    import telltale
    return [telltale.Detector(k, scheme) for k in keys]


def score_all(dets, seqs: list, prompt_lens, dedup: str = "context+token") -> list:
    """log10 p of sequence i under dets[i] (its own generation key)."""
    return [float(d.score(ids, prompt_tokens=int(n), dedup=dedup, per_token=False).log10_p)
            for d, ids, n in zip(dets, seqs, prompt_lens)]


def score_null(master, purpose: str, schemes: list, seqs: list, prompt_lens, lengths,
               dedup_off_length: int) -> dict:
    """Scores null text i under its own fresh key derive(master, "w<i>",
    purpose) (see the module docstring), for every scheme, at every length
    (the prompt plus the first L new tokens), with dedup on, and with dedup
    off at `dedup_off_length`. The key and its detectors are dropped before
    the next text, so the number of guarded allocations stays constant.
    Returns {scheme: {"on": {L: [log10 p]}, "off": [log10 p]}}."""
    import telltale
    out = {s: {"on": {L: [] for L in lengths}, "off": []} for s in schemes}
    for i, (ids, n) in enumerate(zip(seqs, prompt_lens)):
        key = derive(master, f"w{i}", purpose)
        n = int(n)
        for s in schemes:
            d = telltale.Detector(key, s)
            for L in lengths:
                out[s]["on"][L].append(float(d.score(ids[:n + L], prompt_tokens=n, per_token=False).log10_p))
            out[s]["off"].append(float(d.score(ids[:n + dedup_off_length], prompt_tokens=n, dedup="none",
                                               per_token=False).log10_p))
            del d
        del key
    return out


def load_model():
    torch.set_num_threads(1)
    return reflm.load()


PROSE_SOURCES = ("austen", "web", "kjv", "fortunes", "handbook-en")


def load_prose_ids(tok, corpora_dir: str, n: int, length: int, seed: int) -> list:
    """n id lists of exactly `length` reference-tokenizer ids of English
    prose (human_windows.jsonl records of PROSE_SOURCES in a seeded order,
    consecutive records joined by a blank line until long enough), for the
    copy-paste attack's human text. Uses its own seed, so the documents are
    a different sample from the null windows."""
    path = os.path.join(corpora_dir, "human_windows.jsonl")
    with open(path, encoding="utf-8") as f:
        texts = [r["text"] for r in map(json.loads, filter(str.strip, f)) if r.get("source") in PROSE_SOURCES]
    random.Random(seed).shuffle(texts)
    out, cur = [], []
    for t in texts:
        cur.extend(tok.encode(t if not cur else "\n\n" + t))
        if len(cur) >= length:
            out.append(cur[:length])
            cur = []
            if len(out) >= n:
                return out
    raise RuntimeError(f"{path}: only {len(out)} English prose documents of {length} tokens, need {n}")


def score_windowed(dets, seqs: list, min_window: int) -> list:
    """(whole-document log10 p, best window's corrected log10 p) of
    sequence i under dets[i], window search on (detect/window_search.h:
    windows of min_window * 2^j tokens, Bonferroni over the fixed window
    count). No scored token gives (0.0, 0.0), i.e. p = 1."""
    out = []
    for d, ids in zip(dets, seqs):
        r = d.score(ids, window_search=True, min_window=min_window, per_token=False)
        w = r.window
        out.append((float(r.log10_p), float(w.log10_p_corrected) if w is not None else 0.0))
    return out


def score_windowed_null(master, purpose: str, scheme: str, seqs: list, min_window: int) -> list:
    """score_windowed for null texts, text i under a fresh key (as score_null)."""
    import telltale
    out = []
    for i, ids in enumerate(seqs):
        key = derive(master, f"w{i}", purpose)
        d = telltale.Detector(key, scheme)
        out.extend(score_windowed([d], [ids], min_window))
        del d, key
    return out
