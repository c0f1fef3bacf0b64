"""Slow: exports the reference LM to GGUF with llama.cpp's gguf-py, builds
libllama (CPU) in the cache, and checks that llama.cpp tokenizes like
SentencePiece and gives the same next-token logits as torch."""
import os
import subprocess
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
torch.set_num_threads(1)

import reflm  # noqa: E402
from reflm import gguf_export, llama_src  # noqa: E402

PROMPTS = ["It is a truth universally acknowledged, that a single man",
           "In the beginning God created the heaven and the earth.",
           "The kernel uses  two spaces\tand a tab; 12345 digits and caf\u00e9.",
           "中文 and emoji \U0001F600 use byte fallback"]


@pytest.fixture(scope="module")
def probe():
    cache = llama_src.cache_dir()
    src = llama_src.ensure_source()
    build = llama_src.ensure_libllama(src)
    exe = os.path.join(cache, "reflm", "llama_logits")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    c = os.path.join(os.path.dirname(HERE), "reflm", "llama_logits.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(c):
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", c, "-o", exe,
                        "-I", os.path.join(src, "include"), "-I", os.path.join(src, "ggml", "include"),
                        "-L", os.path.join(build, "bin"), "-lllama", "-lggml", "-lggml-base",
                        f"-Wl,-rpath,{os.path.join(build, 'bin')}"], check=True)
    return exe


def _run(exe, gguf, prompts):
    r = subprocess.run([exe, gguf], input="\n".join(prompts) + "\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = []
    for line in r.stdout.strip().split("\n"):
        left, right = line.split(" | ")
        toks = [int(x) for x in left.split()[1:]]
        vals = right.split()
        rows.append((toks, torch.tensor([float(x) for x in vals[1:]])))
    return rows


@pytest.mark.parametrize("dtype,tol", [("f32", 2e-3), ("f16", 1e-2)])
def test_llama_cpp_matches_torch(probe, tmp_path, dtype, tol):
    gguf = gguf_export.export(reflm.WEIGHTS_DIR, str(tmp_path / f"reflm-{dtype}.gguf"), dtype)
    model, tok = reflm.load()
    for prompt, (toks, logits) in zip(PROMPTS, _run(probe, gguf, PROMPTS)):
        assert toks == tok.encode(prompt, bos=True), prompt
        ref = model(torch.tensor([toks]))[0, -1]
        assert logits.shape == ref.shape
        assert (logits - ref).abs().max().item() < tol, prompt
        assert int(logits.argmax()) == int(ref.argmax())


def test_gguf_metadata_readable(tmp_path):
    gguf = llama_src.import_gguf()
    path = gguf_export.export(reflm.WEIGHTS_DIR, str(tmp_path / "m.gguf"), "f32")
    r = gguf.GGUFReader(path)
    fields = r.fields
    assert bytes(fields["general.architecture"].parts[-1]).decode() == "llama"
    assert bytes(fields["tokenizer.ggml.model"].parts[-1]).decode() == "llama"
    types = [int(fields["tokenizer.ggml.token_type"].parts[i][0]) for i in fields["tokenizer.ggml.token_type"].data]
    assert types[:3] == [2, 3, 3] and types.count(6) == 256
    assert "output.weight" not in {t.name for t in r.tensors}
