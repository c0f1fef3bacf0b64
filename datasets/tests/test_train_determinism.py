"""Slow: two short training runs from the same corpora give byte-identical
tokenizer and weights (the full run differs only in its step count)."""
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(os.path.dirname(HERE), "reflm", "train.py")
CACHE = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_training_is_deterministic(tmp_path):
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        r = subprocess.run([sys.executable, TRAIN, "--corpora", os.path.join(CACHE, "corpora"), "--out", str(out),
                            "--steps", "6", "--train-chars", "600000", "--tokenizer-chars", "400000"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        digests.append((_sha(out / "tokenizer.model"), _sha(out / "model.f16.pt"), _sha(out / "heldout.txt")))
    assert digests[0] == digests[1]
