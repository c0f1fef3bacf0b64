"""End-to-end tests of the telltale CLI: exit codes, JSON output, errors."""
import hashlib
import json
import math
import os
import pathlib
import stat
import subprocess

import pytest

BIN = os.environ.get("TELLTALE_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "cli" / "telltale"))
SPEC = "kgw:gamma=0.25,delta=2,h=1"


def run(*args, stdin=None):
    return subprocess.run([BIN, *map(str, args)], input=stdin, capture_output=True, text=True)


def assert_one_line_error(result, *parts):
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("telltale: error: "), result.stderr
    for part in parts:
        assert part in lines[0], (part, result.stderr)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    r = run("keygen", "-o", d / "generated.key")
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((d / "generated.key").stat().st_mode) == 0o600
    # The tenants derive from a fixed master (SPEC 1.1 file format), not the
    # generated one: the documents are fixed by their seeds, so a fixed key
    # makes every p-value below a fixed outcome rather than a fresh draw.
    master = d / "master.key"
    master.write_text("telltale-key v1\nkind master\nkey " +
                      hashlib.sha256(b"telltale cli test master").hexdigest() + "\n")
    master.chmod(0o600)
    out = {"master": master}
    for tenant in ("acme", "globex"):
        path = d / f"{tenant}.key"
        r = run("key", "derive", master, "--tenant", tenant, "--region", "eu", "--epoch", "2026-11", "-o", path)
        assert r.returncode == 0, r.stderr
        out[tenant] = path
    return out


@pytest.fixture(scope="module")
def corpus(keys, tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    files = {}
    for name, extra in (("acme", ["--key", keys["acme"], "--scheme", SPEC]),
                        ("globex", ["--key", keys["globex"], "--scheme", SPEC, "--seed", "2"]),
                        ("plain", ["--plain", "--seed", "3"])):
        path = d / f"{name}.txt"
        r = run("generate", *extra, "--count", "20", "--length", "200", "-o", path)
        assert r.returncode == 0, r.stderr
        files[name] = path
    return files


def test_key_id_is_stable_and_derived_keys_differ(keys):
    ids = {name: run("key", "id", path).stdout.strip() for name, path in keys.items()}
    assert all(len(v) == 32 for v in ids.values())
    assert len(set(ids.values())) == 3
    assert run("key", "id", keys["acme"]).stdout.strip() == ids["acme"]
    text = keys["acme"].read_text()
    assert "tenant acme" in text and "parent " + ids["master"] in text


def test_detect_attributes_each_document_to_its_tenant(keys, corpus):
    for tenant in ("acme", "globex"):
        r = run("detect", "--key", keys["acme"], "--key", keys["globex"], "--scheme", SPEC,
                "--tokens", corpus[tenant], "--json")
        assert r.returncode == 0, r.stderr
        docs = [json.loads(line) for line in r.stdout.splitlines()]
        assert len(docs) == 20
        want = run("key", "id", keys[tenant]).stdout.strip()
        for d in docs:
            for field in ("scored", "score", "p_value", "log10_p", "z", "detected", "key_id"):
                assert field in d
            assert d["detected"] and d["key_id"] == want and d["log10_p"] < -6
            assert len(d["keys"]) == 2


def test_plain_text_is_not_detected_and_exits_1(keys, corpus):
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", corpus["plain"], "--json")
    assert r.returncode == 1, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(docs) == 20 and not any(d["detected"] for d in docs)


def test_text_report_and_stdin(keys, corpus):
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", "-", stdin=corpus["acme"].read_text())
    assert r.returncode == 0
    assert "20 of 20 documents detected" in r.stdout


def test_window_search_in_json(keys, corpus):
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", corpus["acme"], "--json", "--window")
    d = json.loads(r.stdout.splitlines()[0])
    assert d["window"]["windows_tested"] >= 1
    assert "token_mask" not in d
    # A detected watermarked document has a span, inside or around its decisive window.
    assert d["detected"] and d["spans"], d
    w = d["window"]
    assert any(s["begin"] < w["end"] and w["begin"] < s["end"] for s in d["spans"]), d
    assert all(s["log10_p_corrected"] <= math.log10(1e-6) for s in d["spans"])
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", corpus["acme"], "--json", "--per-token")
    d = json.loads(r.stdout.splitlines()[0])
    assert len(d["token_mask"]) == d["tokens"] == len(d["token_scores"])
    assert sum(m in (0, 1) for m in d["token_mask"]) == d["scored"]


def test_malformed_spec(keys, corpus):
    r = run("detect", "--key", keys["acme"], "--scheme", "kgw:gamma=7", "--tokens", corpus["acme"])
    assert_one_line_error(r, "scheme spec 'kgw:gamma=7'", "gamma=7 must lie in (0, 1)")


def test_malformed_token_file(keys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n4 five 6\n")
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", bad)
    assert_one_line_error(r, f"{bad}:2", "column 3", "'five' is not a token id")
    bad.write_text('{"tokens": [1, 2, -3]}\n')
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", bad)
    assert_one_line_error(r, f"{bad}:1", "tokens[2] = -3")


def test_key_file_errors(keys, tmp_path):
    loose = tmp_path / "loose.key"
    loose.write_text(keys["acme"].read_text())
    loose.chmod(0o644)
    r = run("key", "id", loose)
    assert_one_line_error(r, "mode 0644", "chmod 600")
    r = run("key", "id", tmp_path / "missing.key")
    assert_one_line_error(r, "missing.key", "No such file")
    junk = tmp_path / "junk.key"
    junk.write_text("not a key\n")
    junk.chmod(0o600)
    r = run("key", "id", junk)
    assert_one_line_error(r, "not a Telltale key file")
    r = run("key", "derive", keys["acme"], "--tenant", "x", "--region", "y", "--epoch", "z", "-o", tmp_path / "k")
    assert_one_line_error(r, "holds a derived key")
    r = run("key", "derive", keys["master"], "--tenant", "bad tenant", "--region", "y", "--epoch", "z", "-o", tmp_path / "k")
    assert_one_line_error(r, "tenant 'bad tenant'")


def test_usage_errors_exit_2(keys):
    assert run("detect", "--scheme", SPEC).returncode == 2
    assert run("no-such-command").returncode == 2
    r = run("detect", "--key", keys["acme"], "--scheme", SPEC, "--tokens", "/dev/null", "--alpha", "2")
    assert_one_line_error(r, "--alpha must lie in (0, 1)")
