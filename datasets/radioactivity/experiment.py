#!/usr/bin/python3
"""Radioactivity experiment (issue 8): are students fine-tuned on a share of
watermarked teacher outputs detectably "radioactive"?

    nice -n 10 /usr/bin/python3 datasets/radioactivity/experiment.py [--reduced] [--out results.json]

Needs the telltale package (PYTHONPATH=<build>/python). For every scheme:
the teacher (reference LM) generates a watermarked pool and a clean pool;
students (reference-LM weights fine-tuned for a fixed number of steps) see
0/1/5/10/100% watermarked texts; each student is audited in

  dataset mode  its own fine-tuning mix, global dedup (with/without sketch)
  open mode     reading mode on fresh watermarked teacher texts (with/without sketch)
  closed mode   completions from an OpenAI-compatible server on 127.0.0.1
                around the student, prompts' tuples excluded

under the teacher key, a wrong key, and two fresh control keys per audit.
Prints a markdown table and writes every number to --out (JSON, atomic).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import radio  # noqa: E402

FULL = dict(schemes=["kgw:gamma=0.25,delta=2,h=1", "kgw:gamma=0.25,delta=2,h=4", "unigram:gamma=0.25,delta=2",
                     "gumbel:h=1"],
            fractions=[0.0, 0.01, 0.05, 0.10, 1.0], texts=800, steps=150, batch=8, lr=2e-3, new_tokens=96,
            temperature=0.8, audit_texts=200, prompts=48, max_tokens=64, seed=7)
REDUCED = dict(schemes=["kgw:gamma=0.25,delta=2,h=1"], fractions=[0.0, 1.0], texts=400, steps=60, batch=8,
               lr=2e-3, new_tokens=96, temperature=0.8, audit_texts=100, prompts=32, max_tokens=64, seed=7)


def student_config(p: dict, scheme: str, fraction: float) -> radio.StudentConfig:
    return radio.StudentConfig(scheme, fraction, p["texts"], p["steps"], p["batch"], p["lr"], p["seed"],
                               p["new_tokens"], p["temperature"])


class Server:
    """server.py around one student on an ephemeral loopback port."""

    def __init__(self, weights: str, *extra: str):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--weights", weights,
                                      "--port", "0", *extra], stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.close()
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = "http://" + line.split()[-1]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def summary(res) -> dict:
    best = res.best_key
    ctrl = [k["log10_p"] for k in res.controls]
    return {"log10_p": res.log10_p if best else 0.0, "scored": best["scored"] if best else 0,
            "z": best["z"] if best else 0.0, "controls_log10_p": ctrl, "texts": res.texts, "tokens": res.tokens,
            "queries": res.queries, "tokens_to_1e-6": res.tokens_to_target, "texts_to_1e-6": res.texts_to_target,
            "queries_to_1e-6": res.queries_to_target, "counts": res.counts, "error": res.error}


def closed_audit(url: str, prompts, scheme: str, key, p: dict):
    import telltale.audit as audit
    _, tok = radio.teacher()
    return audit.api_model(url, prompts, key, scheme, tokenizer=tok, max_tokens=p["max_tokens"],
                           temperature=p["temperature"], seed=p["seed"], timeout=60, retries=1, control_keys=2,
                           target_log10_p=-6.0)


def run(p: dict, log=print) -> dict:
    import telltale
    t0 = time.time()
    key, wrong = radio.teacher_key(), radio.wrong_key()
    _, tok = radio.teacher()
    prompts = radio.text_prompts(tok, p["prompts"], p["seed"] + 5)
    out = {"params": p, "rows": []}
    for scheme in p["schemes"]:
        has_sketch = not telltale.Scheme(scheme).family == "unigram"
        audit_texts = radio.audit_texts(scheme, p["audit_texts"], p["new_tokens"], p["temperature"], p["seed"])
        sketch = None
        if has_sketch:
            pool = radio.corpus(radio.CorpusConfig(scheme, p["texts"], p["new_tokens"], p["temperature"],
                                                   p["seed"] + 1))
            sketch = radio.record_sketch(pool, scheme)
            extra = radio.corpus(radio.CorpusConfig(scheme, p["audit_texts"], p["new_tokens"], p["temperature"],
                                                    p["seed"] + 1000))
            for pr, o in zip(extra["prompts"], extra["outputs"]):
                sketch.record(pr + o, len(pr))
        for frac in p["fractions"]:
            cfg = student_config(p, scheme, frac)
            ts = time.time()
            model, _ = radio.student(cfg)
            train_s = time.time() - ts
            row = {"scheme": scheme, "fraction": frac, "train_seconds": round(train_s, 1)}
            mix = radio.mix(cfg)
            row["dataset"] = summary(radio.dataset_audit(mix, scheme))
            row["dataset_wrong_key"] = summary(radio.dataset_audit(mix, scheme, key=wrong))
            if sketch is not None:
                row["dataset_sketch"] = summary(radio.dataset_audit(mix, scheme, sketch=sketch))
            row["open"] = summary(radio.open_audit(model, audit_texts, scheme))
            row["open_wrong_key"] = summary(radio.open_audit(model, audit_texts, scheme, key=wrong))
            if sketch is not None:
                row["open_sketch"] = summary(radio.open_audit(model, audit_texts, scheme, sketch=sketch))
            with Server(radio.student_path(cfg)) as srv:
                row["closed"] = summary(closed_audit(srv.url, prompts, scheme, key, p))
            row["seconds"] = round(time.time() - ts, 1)
            out["rows"].append(row)
            log(f"{scheme} {frac:>5.0%}: dataset {row['dataset']['log10_p']:.1f} open {row['open']['log10_p']:.1f} "
                f"(wrong key {row['open_wrong_key']['log10_p']:.1f}) closed {row['closed']['log10_p']:.1f} "
                f"[{row['seconds']:.0f}s, total {time.time() - t0:.0f}s]")
    out["seconds"] = round(time.time() - t0, 1)
    return out


def served_pool(p: dict, fresh_texts: int = 1000, log=print) -> dict:
    """Open mode on the texts we actually served: the whole watermarked pool
    (p["texts"] teacher outputs), of which each student saw only its
    fraction. Sander et al.'s setting: the auditor knows what it generated,
    not what was trained on. Also fresh texts, more of them, for contrast."""
    out = {"params": p, "rows": []}
    t0 = time.time()
    for scheme in p["schemes"]:
        pool = radio.corpus(radio.CorpusConfig(scheme, p["texts"], p["new_tokens"], p["temperature"], p["seed"] + 1))
        served = [pr + o for pr, o in zip(pool["prompts"], pool["outputs"])]
        fresh = radio.audit_texts(scheme, fresh_texts, p["new_tokens"], p["temperature"], p["seed"] + 50) \
            if fresh_texts else []
        for frac in p["fractions"]:
            model, _ = radio.student(student_config(p, scheme, frac))
            row = {"scheme": scheme, "fraction": frac}
            row["served"] = summary(radio.open_audit(model, served, scheme))
            row["served_wrong_key"] = summary(radio.open_audit(model, served, scheme, key=radio.wrong_key()))
            if fresh:
                row["fresh"] = summary(radio.open_audit(model, fresh, scheme))
            out["rows"].append(row)
            log(f"{scheme} {frac:>5.0%}: served pool log10 p {row['served']['log10_p']:.1f} (tokens to 1e-6 "
                f"{row['served']['tokens_to_1e-6']}, wrong key {row['served_wrong_key']['log10_p']:.1f})"
                + (f", {len(fresh)} fresh texts {row['fresh']['log10_p']:.1f}" if fresh else "")
                + f" [{time.time() - t0:.0f}s]")
    out["seconds"] = round(time.time() - t0, 1)
    return out


def fmt_p(x: float) -> str:
    if x >= -0.005:
        return "1"
    return f"1e{x:.1f}" if x > -1000 else f"1e{x:.0f}"


def needed(s: dict, what: str):
    """First crossing of 1e-6, shown only when the final p is below it too
    (a first crossing alone is not a test result)."""
    return s[f"{what}_to_1e-6"] if s["log10_p"] <= -6 and s[f"{what}_to_1e-6"] else "-"


def served_table(out: dict) -> str:
    lines = ["| scheme | wm % | open on served pool | tokens to 1e-6 | wrong key | controls (min) | fresh texts |",
             "|---|---|---|---|---|---|---|"]
    for r in out["rows"]:
        s = r["served"]
        ctrl = min(s["controls_log10_p"] + r["served_wrong_key"]["controls_log10_p"])
        fresh = f"{fmt_p(r['fresh']['log10_p'])} ({r['fresh']['texts']} texts)" if "fresh" in r else "-"
        lines.append(f"| {r['scheme']} | {r['fraction'] * 100:g} | {fmt_p(s['log10_p'])} | {needed(s, 'tokens')} | "
                     f"{fmt_p(r['served_wrong_key']['log10_p'])} | {fmt_p(ctrl)} | {fresh} |")
    return "\n".join(lines)


def table(out: dict) -> str:
    lines = ["| scheme | wm % | dataset | dataset+sketch | open | open+sketch | open tokens to 1e-6 | closed "
             "(queries, tokens to 1e-6) | wrong key (dataset / open) | controls (min) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in out["rows"]:
        ctrl = min(min(r[m]["controls_log10_p"]) for m in ("dataset", "open", "closed"))
        ds = r.get("dataset_sketch")
        os_ = r.get("open_sketch")
        c = r["closed"]
        lines.append(
            f"| {r['scheme']} | {r['fraction'] * 100:g} | {fmt_p(r['dataset']['log10_p'])} | "
            f"{fmt_p(ds['log10_p']) if ds else 'n/a'} | {fmt_p(r['open']['log10_p'])} | "
            f"{fmt_p(os_['log10_p']) if os_ else 'n/a'} | {needed(r['open'], 'tokens')} | "
            f"{fmt_p(c['log10_p'])} ({needed(c, 'queries')}, {needed(c, 'tokens')}) | "
            f"{fmt_p(r['dataset_wrong_key']['log10_p'])} / {fmt_p(r['open_wrong_key']['log10_p'])} | {fmt_p(ctrl)} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reduced", action="store_true")
    ap.add_argument("--out", default=None, help="results JSON (default: the cache dir)")
    ap.add_argument("--served", action="store_true",
                    help="open mode on the whole served watermarked pool and on 1000 fresh texts (cached students)")
    args = ap.parse_args()
    p = REDUCED if args.reduced else FULL
    if args.served:
        out = served_pool(p, log=lambda s: print(s, flush=True))
        path = args.out or os.path.join(radio.cache_dir(), "served.json")
        radio.write_atomic(path, json.dumps(out, indent=1).encode() + b"\n")
        print(served_table(out))
        print(f"total {out['seconds']:.0f} s; results in {path}")
        return 0
    out = run(p, log=lambda s: print(s, flush=True))
    path = args.out or os.path.join(radio.cache_dir(), "results-reduced.json" if args.reduced else "results.json")
    radio.write_atomic(path, json.dumps(out, indent=1).encode() + b"\n")
    print(table(out))
    print(f"total {out['seconds']:.0f} s; results in {path}")
    return 0 if all(math.isfinite(r["open"]["log10_p"]) for r in out["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
