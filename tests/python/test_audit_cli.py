"""`telltale audit dataset` (C++ CLI on scan's CorpusTest): multi-key
attribution, sketch filter, controls, JSON, exit codes, and parity of its
counts and p-values with the Python audit API on the same corpus."""
from __future__ import annotations

import hashlib
import json
import subprocess

import numpy as np
import pytest

import telltale
import telltale.audit as audit

SCHEME = "kgw:gamma=0.25,delta=2,h=2"
V = 400


def fixed_key(label):
    return telltale.Key.from_bytes(hashlib.sha256(label.encode()).digest())


def sample(key, n, seed):
    wm = telltale.Watermarker(key, SCHEME, V) if key is not None else None
    rng = np.random.default_rng(seed)
    ids = [int(rng.integers(V)), int(rng.integers(V))]
    for _ in range(n - 2):
        logits = np.zeros(V, dtype=np.float32)
        if wm is not None:
            wm.apply(ids, logits)
        p = np.exp(logits)
        ids.append(int(rng.choice(V, p=p / p.sum())))
    return ids


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit_cli")
    ours, other = fixed_key("cli-ours"), fixed_key("cli-other")
    ours.save(str(d / "ours.key"))
    other.save(str(d / "other.key"))
    marked = [sample(ours, 60, s) for s in range(6)]
    clean = [sample(None, 60, 100 + s) for s in range(150)]
    docs = clean[:75] + marked + clean[75:]
    (d / "mix.tok").write_text("".join(" ".join(map(str, x)) + "\n" for x in docs))
    rec = audit.SketchRecorder(ours, SCHEME)
    rec.record_batch(marked, [0] * len(marked))
    rec.save(str(d / "batch.ttsk"))
    return d, ours, docs


def run(cli_path, *args):
    proc = subprocess.run([cli_path, "audit", "dataset", *args], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def has_audit(cli_path):
    proc = subprocess.run([cli_path, "audit", "--help"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("telltale audit is built only with scan's CorpusTest in the build")


def test_dataset_sketch_filter_attribution_and_parity(cli_path, has_audit, corpus):
    d, ours, docs = corpus
    base = ["--scheme", SCHEME, "--tokens", str(d / "mix.tok"), "--json", "--controls", "2"]
    rc, out, err = run(cli_path, "--key", str(d / "other.key"), "--key", str(d / "ours.key"),
                       "--sketch", str(d / "batch.ttsk"), *base)
    assert rc == 0, err
    j = json.loads(out)
    assert j["detected"] and j["best_key"] == ours.id and j["documents"] == len(docs)
    assert [k["control"] for k in j["keys"]] == [False, False, True, True]
    assert j["log10_p"] < -6 and all(k["log10_p"] > -6 for k in j["keys"] if k["control"])
    assert j["sketch"]["kind"] == "exact" and len(j["sketch"]["digest"]) == 64
    # The same unique tuples and green count as the Python scorer.
    sk = telltale.audit.ContextSketch.load(str(d / "batch.ttsk"), ours, SCHEME)
    py = audit.score_texts(docs, ours, SCHEME, sketch=sk, control_keys=0)
    assert j["unique_tuples"] == py.counts["scored"]
    assert j["keys"][1]["score"] == py.keys[0]["score"]
    assert j["keys"][1]["log10_p"] == pytest.approx(py.keys[0]["log10_p"], rel=1e-12)
    # Without the sketch, 4% marked documents are diluted by the clean ones.
    rc, out, _ = run(cli_path, "--key", str(d / "ours.key"), *base)
    assert json.loads(out)["log10_p"] > j["log10_p"]


def test_dataset_not_detected_and_errors(cli_path, has_audit, corpus, tmp_path):
    d, _, _ = corpus
    rc, out, _ = run(cli_path, "--key", str(d / "other.key"), "--scheme", SCHEME, "--tokens", str(d / "mix.tok"))
    assert rc == 1 and "not detected" in out and "control" in out
    bad = tmp_path / "bad.tok"
    bad.write_text("1 2 3\n4 -5\n")
    rc, _, err = run(cli_path, "--key", str(d / "ours.key"), "--scheme", SCHEME, "--tokens", str(bad))
    assert rc == 2 and "bad.tok:2" in err
    rc, _, err = run(cli_path, "--key", str(d / "other.key"), "--scheme", SCHEME, "--tokens", str(d / "mix.tok"),
                     "--sketch", str(d / "batch.ttsk"))
    assert rc == 2 and "recorded" in err
    rc, _, err = run(cli_path, "--key", str(d / "ours.key"), "--scheme", "kgw:h=3", "--tokens", str(d / "mix.tok"),
                     "--sketch", str(d / "batch.ttsk"))
    assert rc == 2 and "scheme" in err
    rc, _, err = run(cli_path, "--key", str(d / "ours.key"), "--scheme", SCHEME, "--tokens", str(d / "mix.tok"),
                     "--alpha", "2")
    assert rc == 2 and "--alpha" in err
