"""Reduced radioactivity experiment (ctest audit.radioactivity_reduced, label slow).

Students of the reference LM fine-tuned (60 AdamW steps, cached in
$TELLTALE_CACHE_DIR/radioactivity) on 100% watermarked and on 100% clean
teacher outputs (kgw gamma=0.25 delta=2 h=1):
  - 100% student: open mode and closed mode (real HTTP server on 127.0.0.1,
    driven through `python3 -m telltale.audit api`) give p < 1e-6;
  - clean student: p > 1e-3 in both modes;
  - wrong key on the 100% student: p > 1e-3;
  - a server that times out, and one that fails midway: results so far are
    kept and printed, exit code 2.
Thresholds are the issue's; keys and training are seeded, so the outcome is
deterministic except for the fresh control keys (each p > 1e-3 with
probability 0.999 under the null, asserted only loosely at 1e-6).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import experiment  # noqa: E402
import radio  # noqa: E402

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
P = experiment.REDUCED


@pytest.fixture(scope="module")
def students():
    return {f: experiment.student_config(P, SCHEME, f) for f in (1.0, 0.0)}


@pytest.fixture(scope="module")
def audit_texts():
    return radio.audit_texts(SCHEME, P["audit_texts"], P["new_tokens"], P["temperature"], P["seed"])


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    paths = {}
    for name, k in (("teacher", radio.teacher_key()), ("wrong", radio.wrong_key())):
        paths[name] = str(d / f"{name}.key")
        k.save(paths[name])
    return paths


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory):
    _, tok = radio.teacher()
    path = tmp_path_factory.mktemp("prompts") / "prompts.txt"
    path.write_text("\n".join(radio.text_prompts(tok, P["prompts"], P["seed"] + 5)) + "\n")
    return str(path)


def run_cli(url, prompt_file, key, *extra):
    tok = os.path.join(radio.reflm.WEIGHTS_DIR, "tokenizer.model")
    cmd = [sys.executable, "-m", "telltale.audit", "api", "--endpoint", url, "--prompts", prompt_file,
           "--tokenizer", tok, "--key", key, "--scheme", SCHEME, "--max-tokens", str(P["max_tokens"]),
           "--controls", "2", "--json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


def test_open_mode_watermarked_student_is_radioactive(students, audit_texts):
    model, _ = radio.student(students[1.0])
    res = radio.open_audit(model, audit_texts, SCHEME)
    assert res.log10_p < -6, res.report()
    assert all(c["log10_p"] > -6 for c in res.controls), res.report()
    wrong = radio.open_audit(model, audit_texts, SCHEME, key=radio.wrong_key())
    assert wrong.log10_p > -3, wrong.report()


def test_open_mode_clean_student_is_not(students, audit_texts):
    model, _ = radio.student(students[0.0])
    res = radio.open_audit(model, audit_texts, SCHEME)
    assert res.log10_p > -3, res.report()


def test_closed_mode_against_a_loopback_server(students, key_files, prompt_file):
    with experiment.Server(radio.student_path(students[1.0])) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        rc, out, err = run_cli(srv.url, prompt_file, key_files["teacher"])
        assert rc == 0, err
        assert out["log10_p"] < -6 and out["queries"] == P["prompts"] and out["error"] is None
        assert out["counts"]["scored"] > 0 and out["tokens_to_target"] is not None
        rc, out, err = run_cli(srv.url, prompt_file, key_files["wrong"])
        assert rc == 1, err
        assert out["log10_p"] > -3
    with experiment.Server(radio.student_path(students[0.0])) as srv:
        rc, out, err = run_cli(srv.url, prompt_file, key_files["teacher"])
        assert rc == 1, err
        assert out["log10_p"] > -3


def test_closed_mode_timeouts_keep_results_and_exit_2(students, key_files, prompt_file):
    with experiment.Server(radio.student_path(students[1.0]), "--delay", "3") as srv:
        rc, out, err = run_cli(srv.url, prompt_file, key_files["teacher"], "--timeout", "0.5", "--retries", "1",
                               "--backoff", "0.1")
    assert rc == 2
    assert "timed out" in err and "2 attempts" in err
    assert out["partial"] and out["texts"] == 0 and out["queries"] == 2


def test_closed_mode_server_failing_midway_keeps_results_and_exits_2(students, key_files, prompt_file):
    with experiment.Server(radio.student_path(students[1.0]), "--fail-after", "5") as srv:
        rc, out, err = run_cli(srv.url, prompt_file, key_files["teacher"], "--retries", "2", "--backoff", "0.05")
    assert rc == 2
    assert "HTTP 500" in err
    # Five completions were scored and kept; the sixth prompt used 1 + 2 retries.
    assert out["partial"] and out["texts"] == 5 and out["queries"] == 8
    assert out["counts"]["scored"] > 0 and out["keys"][0]["scored"] == out["counts"]["scored"]
