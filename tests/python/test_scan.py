"""telltale.scan: per-document and corpus results, parity with `telltale scan --json`."""

import json
import subprocess

import numpy as np
import pytest

import telltale
from telltale import _core

pytestmark = pytest.mark.skipif(not hasattr(_core, "_scan"), reason="this build has no scan component")

CHARS = [chr(c) for c in range(32, 127)]  # one token per printable ASCII character
SCHEME = "kgw:gamma=0.25,delta=2,h=1"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    spec = {"model": {"type": "BPE", "vocab": {c: i for i, c in enumerate(CHARS)}, "merges": []}}
    path = tmp_path_factory.mktemp("scan") / "tokenizer.json"
    path.write_text(json.dumps(spec))
    return str(path)


def generate(wm, n, seed):
    rng = np.random.default_rng(seed)
    sampler = telltale.Sampler(wm, seed=seed)
    ids = [int(rng.integers(len(CHARS)))]
    for _ in range(n - 1):
        logits = rng.normal(scale=1.5, size=len(CHARS)).astype(np.float32)
        ids.append(sampler.sample(ids, logits))
    return "".join(CHARS[i] for i in ids)


@pytest.fixture(scope="module")
def corpus(tokenizer, tmp_path_factory):
    master = telltale.Key.from_bytes(bytes(range(32)))
    keys = [master.derive(tenant=t, region="eu", epoch="2026-11") for t in ("acme", "globex")]
    rng = np.random.default_rng(7)
    docs = []
    for i in range(6):
        wm = telltale.Watermarker(keys[i % 2], SCHEME, vocab_size=len(CHARS))
        docs.append({"text": generate(wm, 300, 100 + i), "truth": i % 2})
    for _ in range(4):
        docs.append({"text": "".join(rng.choice(CHARS, 300)), "truth": -1})
    docs.append({"text": None, "truth": -1})  # skipped
    d = tmp_path_factory.mktemp("scan")
    path = d / "docs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in docs) + "{broken json\n")
    return keys, docs, path


def test_results_and_cli_parity(corpus, tokenizer, cli_path, tmp_path):
    keys, docs, path = corpus
    res = telltale.scan(str(path), keys, SCHEME, tokenizer, format="jsonl", threads=2, window=True)
    s = res.summary
    assert s.items == len(docs) + 1 and s.skipped == 1 and s.failed == 1
    assert res.keys[0][1] == "acme" and res.keys[1][1] == "globex"
    scanned = [d for d in res.documents if d.kind == "document"]
    assert len(scanned) == len(docs) - 1
    for d, truth in zip(scanned, [x["truth"] for x in docs]):
        if truth >= 0:
            assert d.detected and d.best_key == truth and d.log10_p < -6, d
        else:
            assert not d.detected
    assert res.documents[-1].kind == "error" and "JSON" in res.documents[-1].reason.upper()
    assert s.corpus_detected and s.corpus.documents == len(docs) - 1

    # The CLI with the same arguments prints the same records, byte for byte.
    key_files = []
    for i, k in enumerate(keys):
        f = tmp_path / f"k{i}.key"
        k.save(str(f))
        key_files += ["--key", str(f)]
    p = subprocess.run([cli_path, "scan", str(path), "--tokenizer", tokenizer, *key_files, "--scheme", SCHEME,
                        "--format", "jsonl", "--threads", "1", "--window", "--json", "--no-progress"],
                       capture_output=True, text=True)
    assert p.returncode == 2, p.stderr  # an error record makes the exit code 2
    assert p.stdout.splitlines() == res.json_records
    # and the structured values are those of the records
    for d, line in zip(res.documents, res.json_records[1:]):
        rec = json.loads(line)
        assert rec["data"]["index"] == d.index
        if d.kind == "document":
            assert rec["data"].get("tokens") == d.tokens and rec["data"].get("detected") == d.detected


def test_scan_errors(corpus, tokenizer, tmp_path):
    keys, _, path = corpus
    with pytest.raises(telltale.InvalidArgumentError):
        telltale.scan(str(path), keys, SCHEME, tokenizer, alpha=2.0)
    with pytest.raises(telltale.InvalidArgumentError):
        telltale.scan(str(path), [], SCHEME, tokenizer)
    with pytest.raises(telltale.TelltaleError):
        telltale.scan(str(path), keys, SCHEME, str(tmp_path / "missing.json"))
    with pytest.raises(telltale.InvalidArgumentError):
        telltale.scan(str(path), keys, SCHEME, tokenizer, names=["only-one"])
