"""Bad input to `telltale audit model --gguf`: every case a one-line error
and exit code 2. A build without libllama must say so (TT_AUDIT_GGUF=0).
ctest audit.gguf_errors (cli; seconds)."""
from __future__ import annotations

import os
import subprocess

import pytest

import gguf_common as gc

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
HAVE = os.environ.get("TT_AUDIT_GGUF") == "1"


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    import telltale
    p = str(tmp_path_factory.mktemp("k") / "k.key")
    telltale.Key.generate().save(p)
    return p


def fails(*args: str) -> str:
    proc = subprocess.run([gc.CLI, "audit", "model", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert err and "\n" not in err, f"not one line: {proc.stderr!r}"
    assert proc.stdout == ""
    return err


def test_without_libllama_gguf_is_refused(key, tmp_path):
    if HAVE:
        pytest.skip("this build has libllama")
    err = fails("--gguf", str(tmp_path / "m.gguf"), "--tokens", "-", "--key", key, "--scheme", SCHEME)
    assert "without libllama" in err


@pytest.mark.skipif(not HAVE, reason="built without libllama")
class TestWithLibllama:
    def test_missing_and_non_gguf_files(self, key, tmp_path):
        toks = gc.write_tokens(str(tmp_path / "t.tok"), [[1, 2, 3]])
        err = fails("--gguf", str(tmp_path / "nope.gguf"), "--tokens", toks, "--key", key, "--scheme", SCHEME)
        assert "nope.gguf" in err and "cannot open GGUF model" in err
        bad = tmp_path / "bad.gguf"
        bad.write_bytes(b"not a model at all")
        err = fails("--gguf", str(bad), "--tokens", toks, "--key", key, "--scheme", SCHEME)
        assert "not a GGUF file" in err

    def test_truncated_gguf(self, key, tmp_path):
        with open(gc.reflm_gguf(), "rb") as f:
            head = f.read(100_000)
        cut = tmp_path / "cut.gguf"
        cut.write_bytes(head)
        toks = gc.write_tokens(str(tmp_path / "t.tok"), [[1, 2, 3]])
        err = fails("--gguf", str(cut), "--tokens", toks, "--key", key, "--scheme", SCHEME)
        assert "cut.gguf" in err and "libllama cannot load" in err

    def test_vocab_mismatch_names_the_token(self, key, tmp_path):
        toks = gc.write_tokens(str(tmp_path / "t.tok"), [[5, 6, 7, 8], [5, 6, 4096, 8]])
        err = fails("--gguf", gc.reflm_gguf(), "--tokens", toks, "--key", key, "--scheme", SCHEME)
        assert "document 2" in err and "token id 4096 at position 2" in err and "[0, 4096)" in err

    def test_empty_inputs(self, key, tmp_path):
        empty = tmp_path / "empty.txt"
        empty.write_text("\n\n")
        err = fails("--gguf", gc.reflm_gguf(), "--texts", str(empty), "--key", key, "--scheme", SCHEME)
        assert "no texts" in err
        err = fails("--gguf", gc.reflm_gguf(), "--tokens", str(empty), "--key", key, "--scheme", SCHEME)
        assert "no documents" in err
        one = gc.write_tokens(str(tmp_path / "one.tok"), [[5, 6, 7], [9]])
        err = fails("--gguf", gc.reflm_gguf(), "--tokens", one, "--key", key, "--scheme", SCHEME)
        assert "document 2" in err and "at least 2" in err

    def test_mode_options_are_checked(self, key, tmp_path):
        toks = gc.write_tokens(str(tmp_path / "t.tok"), [[1, 2, 3]])
        base = ["--key", key, "--scheme", SCHEME]
        assert "exactly one of --endpoint" in fails("--gguf", gc.reflm_gguf(), "--endpoint", "http://127.0.0.1:9",
                                                    "--tokens", toks, *base)
        assert "exactly one of --texts" in fails("--gguf", gc.reflm_gguf(), *base)
        assert "belong to API mode" in fails("--gguf", gc.reflm_gguf(), "--tokens", toks, "--prompts", toks, *base)
        assert "--overlap" in fails("--gguf", gc.reflm_gguf(), "--tokens", toks, "--n-ctx", "8", "--overlap", "8",
                                    *base)

    def test_text_input_uses_the_gguf_vocabulary(self, key, tmp_path):
        texts = tmp_path / "t.txt"
        texts.write_text("It is a truth universally acknowledged, that a single man\nThe quick brown fox\n")
        proc = subprocess.run([gc.CLI, "audit", "model", "--gguf", gc.reflm_gguf(), "--texts", str(texts), "--key",
                               key, "--scheme", SCHEME, "--json", "--predictions", str(tmp_path / "p.jsonl")],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        recs = gc.read_predictions(str(tmp_path / "p.jsonl"))
        assert len(recs) == 2 and all(r["tokens"][0] == 1 for r in recs)  # the GGUF asks for BOS (id 1)
