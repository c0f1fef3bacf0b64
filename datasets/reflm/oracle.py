"""The oracle LM: a larger, longer-trained model of the reference LM's
architecture that judges the quality of generated text (papers score
watermarked text with a larger LM's perplexity; here the larger LM must be
trained on two CPU cores, so it is modestly larger).

It is never committed. `ensure()` returns its weights directory under
$TELLTALE_CACHE_DIR/oracle/<key>, training it first when absent (under
`nice -n 10`, one thread, fixed seeds and step count, so a retraining gives
the same weights). <key> is a digest of everything that determines the
weights: the training configuration below (ORACLE_TRAIN), the sha256 of the
reference tokenizer it shares, and the sha256 of every training-source file
(the corpora manifest's view of the data). A change to the training CODE
(train.py, model.py, data.py) that changes the weights must bump
ORACLE_FORMAT, which is part of the key.

Concurrency: a training holds an exclusive flock on <key>.lock and writes
into a temporary directory renamed into place when complete, so a second
caller waits and then reuses the finished model, and an interrupted
training leaves nothing that looks finished.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import WEIGHTS_DIR, data

ORACLE_FORMAT = "telltale-oracle-v1"

# d192 x 6 layers (3.4M parameters, 2.6x the reference LM) for 700 steps of
# 8 x 256 tokens (1.4M tokens, 1.2x the reference LM's): about 12-15 min on
# one core. A d256 x 6 model costs ~2.5x more per step, so within the same
# budget it would see fewer tokens than the reference LM and judge worse.
ORACLE_TRAIN = {
    "dim": 192, "layers": 6, "heads": 6, "ffn": 512,
    "steps": 700, "batch": 8, "seq": 256, "lr": 0.004, "warmup": 40, "seed": 4321,
    "train_chars": 16_000_000, "sources": list(data.DEFAULT_SOURCES),
}


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_root() -> str:
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    return os.path.join(cache, "oracle")


def key_material(corpora_dir: str) -> dict:
    """Everything that determines the oracle's weights (see module doc)."""
    paths = data.source_files(corpora_dir, ORACLE_TRAIN["sources"])
    return {"format": ORACLE_FORMAT, "train": ORACLE_TRAIN,
            "tokenizer_sha256": _sha256_file(os.path.join(WEIGHTS_DIR, "tokenizer.model")),
            "sources_sha256": {os.path.basename(p): _sha256_file(p) for p in paths}}


def cache_key(corpora_dir: str) -> str:
    blob = json.dumps(key_material(corpora_dir), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def _train_command(out_dir: str, corpora_dir: str) -> list:
    t = ORACLE_TRAIN
    here = os.path.dirname(os.path.abspath(__file__))
    return ["nice", "-n", "10", sys.executable, os.path.join(here, "train.py"), "--oracle",
            "--corpora", corpora_dir, "--out", out_dir,
            "--tokenizer", os.path.join(WEIGHTS_DIR, "tokenizer.model"),
            "--dim", str(t["dim"]), "--layers", str(t["layers"]), "--heads", str(t["heads"]),
            "--ffn", str(t["ffn"]), "--steps", str(t["steps"]), "--batch", str(t["batch"]),
            "--seq", str(t["seq"]), "--lr", str(t["lr"]), "--warmup", str(t["warmup"]),
            "--seed", str(t["seed"]), "--train-chars", str(t["train_chars"]),
            "--sources", ",".join(t["sources"])]


def ensure(corpora_dir: str, log=print) -> str:
    """Returns the oracle's weights directory, training it when absent.
    Raises RuntimeError (with the log's path) when the training fails."""
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    key = cache_key(corpora_dir)
    final = os.path.join(root, key)
    done = os.path.join(final, "model.json")
    if os.path.exists(done):
        return final
    with open(os.path.join(root, key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be training it
        if os.path.exists(done):
            return final
        tmp = tempfile.mkdtemp(prefix=f".{key}.", dir=root)
        log_path = os.path.join(root, key + ".log")
        log(f"oracle {key} absent: training it (log {log_path}, ~15 min on one core)")
        t0 = time.time()
        try:
            with open(log_path, "w") as lf:
                lf.write(json.dumps(key_material(corpora_dir), sort_keys=True) + "\n")
                lf.flush()
                rc = subprocess.run(_train_command(tmp, corpora_dir), stdout=lf, stderr=subprocess.STDOUT).returncode
            if rc != 0:
                raise RuntimeError(f"oracle training failed with exit status {rc}; see {log_path}")
            with open(os.path.join(tmp, "key.json"), "w") as kf:
                json.dump({"key": key, "material": key_material(corpora_dir)}, kf, indent=1, sort_keys=True)
            if os.path.isdir(final):  # an incomplete leftover (no model.json)
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log(f"oracle {key} trained in {time.time() - t0:.0f} s")
    return final


def load(corpora_dir: str, log=print) -> tuple:
    """(model, tokenizer, metadata) of the oracle, training it if needed."""
    from . import load as load_dir, metadata
    d = ensure(corpora_dir, log)
    model, tok = load_dir(d)
    return model, tok, metadata(d)
