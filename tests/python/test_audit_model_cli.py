"""`telltale audit model` (C++ closed API mode, libcurl) against an
in-process OpenAI-compatible stub: parity with telltale.audit.api_model on
the same completions and tokenizer, failures midway and timeouts (results
kept, exit 2), rate limit, bad input."""
from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

import telltale
import telltale.audit as audit
from test_audit import KEY, SCHEME, Stub

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOK = os.path.join(ROOT, "tokenize", "testdata", "byte_level.json")


@pytest.fixture(scope="module")
def has_model(cli_path):
    proc = subprocess.run([cli_path, "audit", "model", "--help"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("telltale audit model is built only with libcurl")


@pytest.fixture
def files(tmp_path):
    key = tmp_path / "k.key"
    KEY.save(str(key))
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"prompt number {i} says\n" for i in range(8)))
    return str(key), str(prompts)


@pytest.fixture
def stubs():
    made = []

    def make(reply):
        made.append(Stub(reply))
        return made[-1]

    yield make
    for s in made:
        s.close()


def completions():
    rng = np.random.default_rng(5)
    words = ["alpha", "beta", "gamma", "delta", "hello", "world", "abc", "cab", "bead", "dab"]
    return [" ".join(rng.choice(words, 30)) for _ in range(8)]


def run(cli_path, key, prompts, url, *extra):
    proc = subprocess.run([cli_path, "audit", "model", "--endpoint", url, "--prompts", prompts, "--tokenizer", TOK,
                           "--key", key, "--scheme", SCHEME, "--json", "--controls", "0", *extra],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc.stderr


def test_parity_with_the_python_api_mode(cli_path, has_model, files, stubs):
    key, prompts = files
    outs = completions()
    stub = stubs(lambda prompt, n: outs[n - 1] if n <= len(outs) else "x")
    rc, j, err = run(cli_path, key, prompts, stub.url, "--max-tokens", "30")
    assert rc in (0, 1), err
    assert j["queries"] == 8 and j["texts"] == 8 and not j["partial"]
    assert [b["max_tokens"] for _, _, b in stub.requests] == [30] * 8
    assert [b["seed"] for _, _, b in stub.requests] == list(range(8))
    stub2 = stubs(lambda prompt, n: outs[n - 1])
    with open(prompts) as f:
        plist = [line.rstrip("\n") for line in f]
    py = audit.api_model(stub2.url, plist, KEY, SCHEME, tokenizer=telltale.Tokenizer.load(TOK), control_keys=0)
    assert j["unique_tuples"] == py.counts["scored"] and j["excluded"] == py.counts["excluded"]
    assert j["keys"][0]["score"] == py.keys[0]["score"]
    assert j["keys"][0]["log10_p"] == pytest.approx(py.keys[0]["log10_p"], rel=1e-12)


def test_server_failing_midway_keeps_results_and_exits_2(cli_path, has_model, files, stubs):
    key, prompts = files
    outs = completions()
    stub = stubs(lambda prompt, n: outs[n - 1] if n <= 3 else 500)
    rc, j, err = run(cli_path, key, prompts, stub.url, "--retries", "2", "--backoff", "0.01")
    assert rc == 2
    assert "HTTP 500" in err and "3 attempts" in err and "3 completions" in err
    assert j["partial"] and j["texts"] == 3 and j["queries"] == 6 and j["unique_tuples"] > 0


def test_timeouts_are_retried_then_reported(cli_path, has_model, files, stubs):
    key, prompts = files
    stub = stubs(lambda prompt, n: 1.0)
    rc, j, err = run(cli_path, key, prompts, stub.url, "--timeout", "0.2", "--retries", "1", "--backoff", "0.01")
    assert rc == 2 and "timed out" in err and "2 attempts" in err
    assert j["partial"] and j["texts"] == 0 and j["queries"] == 2


def test_rate_limit_and_bad_input(cli_path, has_model, files, stubs, tmp_path):
    key, prompts = files
    stub = stubs(lambda prompt, n: "abc")
    rc, j, err = run(cli_path, key, prompts, stub.url, "--rate-limit", "10", "--max-queries", "4")
    assert rc in (0, 1), err
    times = [t for t, _, _ in stub.requests]
    assert len(times) == 4 and min(b - a for a, b in zip(times, times[1:])) >= 0.08
    rc, _, err = run(cli_path, key, prompts, "ftp://x")
    assert rc == 2 and "http://" in err
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"prompt": 3}\n')
    rc, _, err = run(cli_path, key, str(bad), stub.url)
    assert rc == 2 and "p.jsonl:1" in err
