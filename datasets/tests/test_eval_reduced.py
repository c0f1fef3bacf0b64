"""The reduced evaluation asserts the issue's headline properties on the
reference LM: kgw gamma=0.25 delta=2 h=1 at T=0.7 reaches TPR >= 0.95 at an
empirical FPR of 1e-3 for 200 tokens, and the human-text FPR at alpha 1e-2
and 1e-3 (dedup on, fresh key per window) is within the one-sided 0.999
binomial bound for every scheme. Thresholds come from the null sample and
the binomial distribution; nothing is tuned. Needs PYTHONPATH=<build>/python.

The statistics helpers are checked first against direct computations, so a
broken bound or threshold cannot make the headline check pass vacuously."""
import json
import math
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.dirname(HERE)
sys.path.insert(0, DATASETS)

from eval import stats  # noqa: E402


def _binom_cdf(n, p, k):
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize("n,p", [(100, 0.01), (1000, 0.001), (10000, 0.01), (50, 0.3)])
def test_binom_upper_bound_is_the_0999_quantile(n, p):
    k = stats.binom_upper_bound(n, p, 0.999)
    assert _binom_cdf(n, p, k) >= 0.999
    assert k == 0 or _binom_cdf(n, p, k - 1) < 0.999


def _require_telltale():
    # A missing package is a failure, not a skip: ctest sets PYTHONPATH.
    try:
        import telltale  # noqa: F401
    except ImportError as e:
        pytest.fail(f"telltale is not importable ({e}); set PYTHONPATH=<build>/python")


def test_empirical_threshold_rejects_at_most_the_level():
    null = [-(i % 997) / 100.0 for i in range(5000)]
    for fpr in (1e-2, 1e-3):
        t = stats.empirical_threshold(null, fpr)
        assert stats.rate_below(null, t) <= fpr
    assert stats.empirical_threshold([-1.0, -2.0], 1e-3) == -2.0  # rejects nothing


def test_roc_auc():
    assert stats.roc_auc([3, 4], [1, 2]) == 1.0
    assert stats.roc_auc([1, 2], [3, 4]) == 0.0
    assert stats.roc_auc([1], [1]) == 0.5


def test_reduced_evaluation_headline(tmp_path):
    _require_telltale()
    proc = subprocess.run([sys.executable, os.path.join(DATASETS, "eval", "run_eval.py"), "--reduced",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=880)
    res = json.loads((tmp_path / "eval_reduced.json").read_text())
    assert (tmp_path / "eval_reduced.md").stat().st_size > 1000
    assert (tmp_path / "eval_reduced_tpr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert res["n_human"] >= 10000
    head = [r for r in res["schemes"] if r["spec"] == "kgw:gamma=0.25,delta=2,h=1"]
    assert len(head) == 1 and head[0]["n_wm"] >= 100
    e = head[0]["by_length"]["200"]
    assert e["tpr@0.001"] >= 0.95, e
    assert e["null_fpr_at_threshold@0.001"] <= 1e-3
    families = {r["scheme"].split(".")[0] for r in res["schemes"]}
    assert {"kgw", "unigram", "gumbel"} <= families
    for r in res["schemes"]:
        e = r["by_length"]["200"]
        for a in ("0.01", "0.001"):
            assert e[f"human_rejections@{a}"] <= e[f"human_bound@{a}"], (r["scheme"], a, e)
    assert all(c["ok"] for c in res["checks"]), res["checks"]
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
