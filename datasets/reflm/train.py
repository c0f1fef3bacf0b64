#!/usr/bin/python3
"""Trains the reference LM (and, with other flags, the larger oracle LM).

    /usr/bin/python3 datasets/reflm/train.py                 # reference model -> datasets/reflm/weights
    /usr/bin/python3 datasets/reflm/train.py --oracle        # oracle model -> $TELLTALE_CACHE_DIR/oracle

Deterministic: one CPU thread, fixed seeds, a fixed step count, data chosen
and ordered by keyed hashes of paragraph text (reflm/data.py). Needs the
corpora (`datasets/build_corpora.py`, run automatically when missing).
"""
from __future__ import annotations

import os

# One thread: reproducible reductions, and 2 threads are pathologically slow here.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

from reflm import data, evaluate  # noqa: E402
from reflm.model import LlamaConfig, LlamaModel  # noqa: E402
from reflm.tokenizer import SPM_FLAGS, Tokenizer  # noqa: E402

HELDOUT_SEQS = 64


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_atomic(path: str, blob: bytes) -> None:
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o644)
        f.write(blob)
    os.replace(tmp, path)


def take_chars(paragraphs: list, n: int) -> list:
    out, size = [], 0
    for p in paragraphs:
        if size >= n:
            break
        out.append(p)
        size += len(p)
    return out


def train_tokenizer(paragraphs: list, out_path: str) -> None:
    # Trained from an iterator into memory: with --input/--model_prefix the
    # model proto would embed temporary paths and differ run to run.
    import io
    buf = io.BytesIO()
    spm.SentencePieceTrainer.Train(sentence_iterator=iter([p.replace("\n", " ") for p in paragraphs]),
                                   model_writer=buf, **SPM_FLAGS)
    write_atomic(out_path, buf.getvalue())


def token_stream(tok: Tokenizer, paragraphs: list) -> torch.Tensor:
    ids = []
    for p in paragraphs:
        ids.append(tok.bos_id)
        ids.extend(tok.encode(p))
        ids.append(tok.eos_id)
    return torch.tensor(ids, dtype=torch.long)


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def main() -> int:
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default=os.path.join(cache, "corpora"))
    ap.add_argument("--out", default=None, help="weights directory")
    ap.add_argument("--oracle", action="store_true", help="train the larger oracle model (not committed)")
    ap.add_argument("--tokenizer", default=None, help="reuse this SentencePiece model instead of training one")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--sources", default=",".join(data.DEFAULT_SOURCES),
                    help="comma-separated corpora/sources/<name>.txt files to train on")
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dim", type=int, default=None)
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--heads", type=int, default=None)
    ap.add_argument("--ffn", type=int, default=None)
    ap.add_argument("--tokenizer-chars", type=int, default=6_000_000)
    ap.add_argument("--train-chars", type=int, default=12_000_000)
    args = ap.parse_args()
    if args.oracle:
        # The configuration reflm/oracle.py trains and caches (see ORACLE_TRAIN
        # there); `--out` defaults to a scratch directory, as the evaluation
        # keeps its own keyed cache.
        from reflm.oracle import ORACLE_TRAIN
        t = ORACLE_TRAIN
        defaults = dict(dim=t["dim"], layers=t["layers"], heads=t["heads"], ffn=t["ffn"], steps=t["steps"],
                        out=os.path.join(cache, "oracle", "manual"),
                        tokenizer=os.path.join(HERE, "weights", "tokenizer.model"))
    else:
        defaults = dict(dim=128, layers=4, heads=4, ffn=352, steps=600, out=os.path.join(HERE, "weights"),
                        tokenizer=None)
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    t0 = time.time()
    sources = [s for s in args.sources.split(",") if s]
    if not os.path.exists(os.path.join(args.corpora, "manifest.json")):
        subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "build_corpora.py"),
                        "--out", args.corpora], check=True)
    paths = data.source_files(args.corpora, sources)
    train_p, held_p = data.split([p for path in paths for p in data.read_paragraphs(path)])
    train_p = take_chars(train_p, args.train_chars)
    print(f"train: {len(train_p)} paragraphs, held-out pool: {len(held_p)}", flush=True)

    tok_path = os.path.join(args.out, "tokenizer.model")
    if args.tokenizer:
        if os.path.abspath(args.tokenizer) != os.path.abspath(tok_path):
            os.makedirs(args.out, exist_ok=True)
            shutil.copyfile(args.tokenizer, tok_path)
    else:
        train_tokenizer(take_chars(train_p, args.tokenizer_chars), tok_path)
    tok = Tokenizer(tok_path)
    print(f"tokenizer: {tok.vocab_size} pieces ({time.time() - t0:.0f}s)", flush=True)

    stream = token_stream(tok, train_p)
    need = HELDOUT_SEQS * (args.seq + 1)
    held_used, n = [], 0
    for p in held_p:
        held_used.append(p)
        n += len(tok.encode(p)) + 2
        if n >= need:
            break
    held_text = "\n\n".join(held_used) + "\n"
    write_atomic(os.path.join(args.out, "heldout.txt"), held_text.encode("utf-8"))
    held = evaluate.heldout_batches(tok, held_text, args.seq, HELDOUT_SEQS)
    print(f"train tokens: {len(stream)}, held-out tokens: {held.numel()} ({time.time() - t0:.0f}s)", flush=True)

    cfg = LlamaConfig(vocab_size=tok.vocab_size, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                      ffn_dim=args.ffn, max_seq_len=args.seq)
    model = LlamaModel(cfg)
    model.init_weights(torch.Generator().manual_seed(args.seed))
    decay = [p for n_, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n_, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    batch_gen = torch.Generator().manual_seed(args.seed + 1)
    t_train = time.time()
    model.train()
    for step in range(args.steps):
        starts = torch.randint(0, len(stream) - args.seq - 1, (args.batch,), generator=batch_gen)
        xb = torch.stack([stream[s:s + args.seq + 1] for s in starts.tolist()])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        logits = model(xb[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_size), xb[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == args.steps - 1:
            print(f"step {step:5d} loss {loss.item() / math.log(2):.3f} bits "
                  f"lr {opt.param_groups[0]['lr']:.2e} {time.time() - t_train:.0f}s", flush=True)
    train_seconds = time.time() - t_train

    weights = os.path.join(args.out, "model.f16.pt")
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    tmp = weights + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, weights)
    # Held-out loss is measured on the saved f16 weights, exactly as load() sees them.
    from reflm import load_model
    model = load_model(weights, cfg)
    bits = evaluate.bits_per_token(model, held)
    ent = {str(t): evaluate.sample_entropy(model, tok, evaluate.entropy_prompts(held_text), t, seed=args.seed)
           for t in (0.7, 0.8)}
    meta = {
        "format": "telltale-reflm-v1",
        "kind": "oracle" if args.oracle else "reference",
        "config": cfg.to_dict(),
        "parameters": model.num_parameters(),
        "train": {"steps": args.steps, "batch": args.batch, "seq": args.seq, "lr": args.lr,
                  "warmup": args.warmup, "seed": args.seed, "optimizer": "AdamW(0.9,0.95,wd=0.1)",
                  "schedule": "linear warmup, cosine to 10%", "train_chars": args.train_chars,
                  "train_tokens": int(len(stream)), "train_paragraphs": len(train_p),
                  "tokenizer_chars": args.tokenizer_chars, "spm_flags": SPM_FLAGS,
                  "seconds": round(train_seconds, 1), "threads": 1, "torch": torch.__version__},
        "corpus": {"sources": {os.path.basename(p): sha256_file(p) for p in paths},
                   "split": "reflm/data.py (1/64 held out by keyed hash)"},
        "heldout": {"file": "heldout.txt", "sha256": sha256_file(os.path.join(args.out, "heldout.txt")),
                    "sequences": HELDOUT_SEQS, "tokens_scored": int(held[:, 1:].numel()),
                    "bits_per_token": bits},
        "sample_entropy_bits_per_token": ent,
        "files": {"model.f16.pt": sha256_file(weights), "tokenizer.model": sha256_file(tok_path)},
    }
    write_atomic(os.path.join(args.out, "model.json"), json.dumps(meta, indent=1, sort_keys=True).encode() + b"\n")
    print(f"held-out {bits:.4f} bits/token; sample entropy {ent}; total {time.time() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
