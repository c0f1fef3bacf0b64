"""Slow test: builds the corpora from Debian packages (apt-get download on
first use, cached under TELLTALE_CACHE_DIR) and checks outputs against the
manifest and the sizes the issue asks for. Run with TELLTALE_CACHE_DIR set."""
import hashlib
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "build_corpora.py")
sys.path.insert(0, os.path.dirname(HERE))

from ttcorpus import build, textutil  # noqa: E402

CACHE = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
OUT = os.path.join(CACHE, "corpora")


def _run():
    t = time.time()
    r = subprocess.run([sys.executable, SCRIPT, "--out", OUT, "--cache", CACHE], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return time.time() - t, r.stderr


def test_build_outputs_and_manifest():
    _run()
    with open(os.path.join(OUT, "manifest.json")) as f:
        man = json.load(f)
    assert man["format"] == build.FORMAT
    assert set(man["packages"]) == set(build.PACKAGES)
    for name, meta in man["packages"].items():
        assert re.fullmatch("[0-9a-f]{64}", meta["deb_sha256"]), name
        assert meta["license"]["summary"], name
    outs = man["outputs"]
    for rel, meta in outs.items():
        with open(os.path.join(OUT, rel), "rb") as f:
            data = f.read()
        assert len(data) == meta["bytes"], rel
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], rel
    assert outs["english.txt"]["bytes"] >= 45e6
    assert outs["chinese.txt"]["bytes"] >= 5e6
    assert outs["mixed.txt"]["bytes"] >= 4e6
    assert outs["human_windows.jsonl"]["windows"] >= 50000
    with open(os.path.join(OUT, "human_windows.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 97:
                continue
            w = json.loads(line)
            assert w["n_tokens"] >= build.WINDOW_TOKENS
            assert textutil.count_tokens(w["text"]) == w["n_tokens"]
    with open(os.path.join(OUT, "chinese.txt"), encoding="utf-8") as f:
        assert textutil.han_ratio(f.read(2_000_000)) > 0.5


def test_rerun_is_a_noop():
    _run()
    with open(os.path.join(OUT, "manifest.json"), "rb") as f:
        before = f.read()
    took, err = _run()
    assert "up to date" in err
    assert took < 10
    with open(os.path.join(OUT, "manifest.json"), "rb") as f:
        assert f.read() == before
