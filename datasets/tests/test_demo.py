"""The README's demo runs end to end on the reference LM and every verdict
is right: each watermarked completion is attributed to the tenant whose key
generated it, and no unwatermarked one is flagged (alpha 1e-6, Holm over two
keys). Needs PYTHONPATH=<build>/python (set by ctest)."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(os.path.dirname(HERE), "demo.py")


def _require_telltale():
    # A missing package is a failure, not a skip: ctest sets PYTHONPATH.
    try:
        import telltale  # noqa: F401
    except ImportError as e:
        pytest.fail(f"telltale is not importable ({e}); set PYTHONPATH=<build>/python")


def test_demo_verdicts(tmp_path):
    _require_telltale()
    out = tmp_path / "demo.json"
    proc = subprocess.run([sys.executable, DEMO, "--colour", "never", "--json", str(out)],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    res = data["results"]
    assert len(res) == 6
    wm = [r for r in res if r["truth"] is not None]
    plain = [r for r in res if r["truth"] is None]
    assert {r["truth"] for r in wm} == {"acme", "globex"}
    for r in wm:
        assert r["attributed"] == r["truth"], r
        assert r["log10_p"] < -6, r
    for r in plain:
        assert r["attributed"] is None, r
    # The readable report: one verdict line per text, highlighted spans
    # ([[...]] without a terminal) only in the detected texts.
    assert proc.stdout.count("WATERMARKED, tenant") == len(wm)
    assert proc.stdout.count("no watermark") == len(plain)
    assert proc.stdout.count("[[") >= len(wm)
    assert "\x1b[" not in proc.stdout
    assert "6/6 verdicts correct" in proc.stdout


def test_demo_rejects_bad_arguments():
    proc = subprocess.run([sys.executable, DEMO, "--tokens", "3"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--tokens" in proc.stderr
