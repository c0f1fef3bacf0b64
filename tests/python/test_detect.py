"""Detector results: bit-identical to `telltale detect --json`, batch = single,
attribution, per-token arrays."""

import hashlib
import json
import math
import subprocess

import numpy as np
import pytest

import telltale

SCHEMES = [
    "kgw:gamma=0.25,delta=2,h=1",
    "kgw:gamma=0.5,h=2,seeding=self",
    "unigram:gamma=0.5,delta=2",
    "gumbel:h=1",
]
V = 2000


def make_docs(key, spec, rng):
    """Mixed documents: watermarked (bias or gumbel sampling), random, with repeats."""
    scheme = telltale.Scheme(spec)
    wm = telltale.Watermarker(key, scheme)
    docs = []
    for d in range(6):
        ids = [int(t) for t in rng.integers(0, V, 4)]
        n = int(rng.integers(20, 150))
        for _ in range(n):
            logits = (rng.normal(size=V) * 2).astype(np.float32)
            if d % 3 == 2:  # unwatermarked
                ids.append(int(rng.integers(0, V)))
            elif scheme.is_sampling:
                ids.append(wm.sample(ids, logits, seed=int(rng.integers(1 << 62))))
            else:
                ids.append(int(np.argmax(wm.apply(ids, logits) + rng.gumbel(size=V))))
        if d == 4:
            ids = ids + ids[4:40]  # repeats exercise dedup
        docs.append(ids)
    docs.append([7])  # nothing scoreable
    return docs


def run_cli(cli_path, key_paths, spec, docs, tmp_path, extra=()):
    tokens = tmp_path / "docs.txt"
    tokens.write_text("".join(" ".join(map(str, d)) + "\n" for d in docs))
    cmd = [cli_path, "detect", "--json", "--scheme", spec, "--tokens", str(tokens), *extra]
    for p in key_paths:
        cmd += ["--key", p]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def same(a, b):
    """Bit-identical floats (NaN == NaN)."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@pytest.mark.parametrize("spec", SCHEMES)
def test_parity_with_cli_single_key(spec, key, rng, tmp_path, cli_path):
    key_path = str(tmp_path / "k.key")
    key.save(key_path)
    docs = make_docs(key, spec, rng)
    cli = run_cli(cli_path, [key_path], spec, docs, tmp_path, ["--prompt-tokens", "4", "--per-token"])
    det = telltale.Detector(key, spec)
    py = det.score_batch(docs, prompt_tokens=4)
    assert len(cli) == len(docs) == len(py)
    detected_any = False
    for c, p, doc in zip(cli, py, docs):
        assert c["scheme"] == p.scheme == str(telltale.Scheme(spec))
        assert c["key_id"] == p.key_id == key.id
        assert (c["tokens"], c["scored"]) == (p.tokens, p.scored) == (len(doc), p.scored)
        for field in ("score", "expected", "z"):
            assert same(c[field], getattr(p, field)), (field, c[field], getattr(p, field))
        assert same(c["log10_p_raw"], p.log10_p)
        a = telltale.attribute([det], doc, prompt_tokens=4)
        assert same(c["log10_p"], a.holm_log10_p[0]) and same(c["p_value"], a.holm_p_values[0])
        assert c["detected"] == a.detected() == p.detected()
        assert c["token_mask"] == p.token_mask.tolist()
        assert all(
            (cs is None and math.isnan(ps)) or cs == ps for cs, ps in zip(c["token_scores"], p.token_scores.tolist())
        )
        detected_any |= p.detected()
    assert detected_any


def test_parity_with_cli_multi_key_and_window(rng, tmp_path, cli_path):
    spec = SCHEMES[0]
    master = telltale.Key.from_bytes(hashlib.sha256(b"telltale python detect test master").digest())
    keys = [master.derive(tenant=f"t{i}", region="r", epoch="e") for i in range(3)]
    paths = []
    for i, k in enumerate(keys):
        paths.append(str(tmp_path / f"t{i}.key"))
        k.save(paths[-1])
    docs = make_docs(keys[1], spec, rng)
    # a partly watermarked document: random prefix, then marked text
    docs.append([int(t) for t in rng.integers(0, V, 300)] + docs[0])
    extra = ["--window", "--min-window", "16", "--dedup", "context+token", "--ignore-ids", "3,5"]
    cli = run_cli(cli_path, paths, spec, docs, tmp_path, extra)
    dets = [telltale.Detector(k, spec) for k in keys]
    for c, doc in zip(cli, docs):
        a = telltale.attribute(dets, doc, window_search=True, min_window=16, ignore_ids=[3, 5])
        best = a.per_key[a.best]
        assert c["key_id"] == a.best_key_id
        assert same(c["log10_p"], a.holm_log10_p[a.best]) and same(c["log10_p_raw"], best.log10_p)
        assert [k["key_id"] for k in c["keys"]] == [k.id for k in keys]
        for ck, pk, ph in zip(c["keys"], a.per_key, a.holm_log10_p):
            assert same(ck["log10_p"], pk.log10_p) and same(ck["log10_p_holm"], ph)
        assert c["detected"] == a.detected()
        if best.window is not None:
            w = c["window"]
            assert (w["begin"], w["end"], w["scored"], w["windows_tested"]) == (
                best.window.begin, best.window.end, best.window.scored, best.window.windows_tested)
            assert same(w["log10_p_corrected"], best.window.log10_p_corrected)
            assert best.spans.tolist() == [[best.window.begin, best.window.end]]
    assert cli[-1]["detected"] and cli[-1]["key_id"] == keys[1].id


def test_score_inputs_agree(key, rng):
    det = telltale.Detector(key, "kgw:gamma=0.25")
    ids = rng.integers(0, V, 300)
    ref = det.score(ids)
    for form in (ids.astype(np.int32), ids.tolist(), tuple(ids.tolist()), ids[::1].copy()):
        r = det.score(form)
        assert (r.scored, r.score, r.log10_p) == (ref.scored, ref.score, ref.log10_p)
    import torch

    r = det.score(torch.from_numpy(ids))
    assert r.log10_p == ref.log10_p
    strided = np.stack([ids, ids], axis=1)[:, 0]  # non-contiguous int64 view
    assert det.score(strided).log10_p == ref.log10_p


def test_score_batch_matches_score_and_threads(key, rng):
    det = telltale.Detector(key, "kgw:gamma=0.25")
    seqs = [rng.integers(0, V, int(n)) for n in rng.integers(1, 200, 20)]
    one = [det.score(s) for s in seqs]
    for threads in (1, 2):
        many = det.score_batch(seqs, threads=threads)
        assert [(m.scored, m.log10_p) for m in many] == [(o.scored, o.log10_p) for o in one]


def test_per_token_arrays(key):
    det = telltale.Detector(key, "kgw:gamma=0.25")
    ids = [1, 2, 3, 2, 3, 9, 3]
    r = det.score(ids, prompt_tokens=1, ignore_ids=[9])
    assert r.token_mask.dtype == np.int8 and r.token_scores.dtype == np.float32
    assert r.token_mask.shape == (7,) and r.token_mask[0] == -1 and r.token_mask[5] == -2
    assert r.token_mask[4] == -3  # (2, 3) repeated: deduplicated
    assert np.isnan(r.token_scores[0]) and not r.token_mask.flags.writeable
    assert r.scored == int((r.token_mask >= 0).sum())
    assert r.spans.shape == (0, 2) and r.window is None
    del det
    m = r.token_mask
    del r
    assert m.tolist()[0] == -1  # the array keeps its result alive


def test_detect_errors(key):
    det = telltale.Detector(key, "kgw")
    with pytest.raises(telltale.InvalidArgumentError, match="not a token id"):
        det.score([1, -2, 3])
    with pytest.raises(telltale.InvalidArgumentError, match="dedup mode"):
        det.score([1, 2], dedup="bogus")
    with pytest.raises(telltale.InvalidArgumentError, match="prompt length"):
        det.score([1, 2], prompt_tokens=-1)
    with pytest.raises(telltale.InvalidArgumentError, match=r"sequences\[1\]"):
        det.score_batch([[1, 2], [1, -1]])
    with pytest.raises(telltale.InvalidArgumentError, match="at least one key"):
        telltale.attribute([], [1, 2])
    with pytest.raises(telltale.InvalidArgumentError, match="must be 1-D"):
        det.score(np.zeros((2, 2), np.int64))
