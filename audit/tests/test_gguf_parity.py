"""GGUF reading mode (`telltale audit model --gguf`, libllama) against the
Python reading mode (torch) on the reference LM: the same texts, chunked the
same way (--n-ctx 128 --overlap 0 = max_length 128).

  - top-1 predictions agree at >= 99% of positions, and every disagreement
    is a near-tie under torch (logit gap < 0.05: float noise of a different
    kernel, not a different model);
  - on the GGUF's own predictions the Python scorer gives the CLI's counts
    and statistics exactly;
  - windows with an overlap still offer every position exactly once.
ctest audit.gguf_parity (slow; a few seconds once the GGUF fixture exists).
"""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import torch

import gguf_common as gc

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
N_CTX = 128


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    import radio
    import telltale
    model, tok = radio.teacher()
    stream = radio.heldout_stream(tok)
    # 30 texts of 40..300 tokens (some span 2-3 windows); no last chunk of 1
    # token (Python skips those).
    rng = np.random.default_rng(3)
    texts, pos = [], 0
    while len(texts) < 30:
        n = int(rng.integers(40, 300))
        if n % N_CTX == 1:
            continue
        texts.append([tok.bos_id] + stream[pos:pos + n - 1])
        pos += n
    d = tmp_path_factory.mktemp("gguf_parity")
    key = telltale.Key.from_bytes(hashlib.sha256(b"telltale gguf parity test key").digest())
    key_path = str(d / "k.key")
    key.save(key_path)
    return dict(model=model, texts=texts, key=key, key_path=key_path,
                tokens=gc.write_tokens(str(d / "texts.tok"), texts), dir=d)


def torch_top1(model, texts):
    out = []
    with torch.no_grad():
        for t in texts:
            preds, gaps = [], []
            for s in range(0, len(t), N_CTX):
                chunk = t[s:s + N_CTX]
                logits = model(torch.tensor([chunk], dtype=torch.long))
                logits = getattr(logits, "logits", logits)[0].float()
                preds.append(torch.argmax(logits, dim=-1))
                gaps.append(logits)
            out.append((torch.cat(preds).tolist(), gaps))
    return out


def test_top1_agrees_with_torch_and_statistics_are_identical(setup):
    import telltale.audit as audit
    pred_path = str(setup["dir"] / "pred.jsonl")
    rc, j, err = gc.run_gguf(gc.reflm_gguf(), setup["key_path"], SCHEME, "--tokens", setup["tokens"], "--n-ctx",
                             str(N_CTX), "--overlap", "0", "--controls", "0", "--predictions", pred_path)
    assert rc in (0, 1), err
    assert j["mode"] == "gguf" and j["texts"] == len(setup["texts"]) and j["partial"] is False
    recs = gc.read_predictions(pred_path)
    assert [r["tokens"] for r in recs] == setup["texts"]
    assert all(len(r["predicted"]) == len(r["tokens"]) for r in recs)
    assert j["windows"] == sum((len(t) + N_CTX - 1) // N_CTX for t in setup["texts"])

    ref = torch_top1(setup["model"], setup["texts"])
    total = agree = 0
    worst_gap = 0.0
    for r, (tp, chunks) in zip(recs, ref):
        total += len(tp)
        for i, (g, t) in enumerate(zip(r["predicted"], tp)):
            if g == t:
                agree += 1
                continue
            row = chunks[i // N_CTX][i % N_CTX]
            worst_gap = max(worst_gap, float(row[t] - row[g]))
    assert agree / total >= 0.99, f"{agree}/{total} top-1 agree"
    assert worst_gap < 0.05, f"a disagreement is not a near-tie: torch logit gap {worst_gap}"
    print(f"top-1 agreement {agree}/{total}; largest torch gap at a disagreement {worst_gap:.2e}")

    # The CLI's statistics are the scorer's on exactly these predictions.
    sc = audit.AuditScorer([setup["key"]], SCHEME, control_keys=0)
    for r in recs:
        for s in range(0, len(r["tokens"]), N_CTX):
            sc.add_predictions(r["tokens"][s:s + N_CTX], r["predicted"][s:s + N_CTX], 0)
    py = sc.scores()
    assert j["unique_tuples"] == py["counts"]["scored"]
    assert j["excluded"] == py["counts"]["excluded"] and j["duplicate"] == py["counts"]["duplicate"]
    assert j["keys"][0]["score"] == py["keys"][0]["score"]
    assert j["keys"][0]["log10_p"] == pytest.approx(py["keys"][0]["log10_p"], rel=1e-12, abs=1e-12)

    # And the torch reading mode lands on nearly the same tuples.
    res = audit.open_model(setup["model"], setup["texts"], setup["key"], SCHEME, max_length=N_CTX, control_keys=0)
    assert abs(res.counts["scored"] - j["unique_tuples"]) <= 0.01 * j["unique_tuples"]


def test_overlapping_windows_offer_every_position_once(setup):
    pred_path = str(setup["dir"] / "pred-overlap.jsonl")
    rc, j, err = gc.run_gguf(gc.reflm_gguf(), setup["key_path"], SCHEME, "--tokens", setup["tokens"], "--n-ctx",
                             "64", "--overlap", "16", "--controls", "1", "--predictions", pred_path)
    assert rc in (0, 1), err
    recs = gc.read_predictions(pred_path)
    assert all(len(r["predicted"]) == len(r["tokens"]) for r in recs)
    # Windows of 64 advancing by 48 tokens.
    assert j["windows"] == sum(1 + max(0, -(-(len(t) - 64) // 48)) for t in setup["texts"])
    n_tokens = sum(len(t) for t in setup["texts"])
    assert j["tokens"] == n_tokens
    # h = 1: every position has a context (the input token itself), so each
    # is offered once and ends up in exactly one bucket.
    assert j["tuples_offered"] == n_tokens and j["no_context"] == 0
    assert j["unique_tuples"] + j["duplicate"] + j["excluded"] + j["filtered"] == n_tokens
    assert len(j["keys"]) == 2 and j["keys"][1]["control"]
