"""Shared helpers of the GGUF reading-mode tests (audit/tests/test_gguf_*.py):
where the CLI and the reference LM's GGUF are, token files, running
`telltale audit model --gguf`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import List, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "datasets"))
sys.path.insert(0, os.path.join(ROOT, "datasets", "radioactivity"))

CLI = os.environ.get("TELLTALE_CLI", "")


def cache_dir() -> str:
    return os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")


def reflm_gguf() -> str:
    return os.environ.get("TT_LLAMA_MODEL") or os.path.join(cache_dir(), "reflm", "reflm.gguf")


def write_tokens(path: str, texts: Sequence[Sequence[int]]) -> str:
    with open(path, "w") as f:
        for t in texts:
            f.write(" ".join(str(int(i)) for i in t) + "\n")
    return path


def run_gguf(gguf: str, key: str, scheme: str, *extra: str, timeout: float = 600) -> Tuple[int, dict, str]:
    cmd = [CLI, "audit", "model", "--gguf", gguf, "--key", key, "--scheme", scheme, "--json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


def read_predictions(path: str) -> List[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
