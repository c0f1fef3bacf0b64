#!/usr/bin/python3
"""Prints the GGUF rows of docs/results/radioactivity.md: the reduced
students (cached; trained on first use) exported to GGUF and audited with
`telltale audit model --gguf`, beside the torch reading mode on the same
students and texts.

    PYTHONPATH=build/python TELLTALE_CLI=build/cli/telltale \\
        /usr/bin/python3 datasets/radioactivity/gguf_reduced.py
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "audit", "tests"))

import gguf_common as gc  # noqa: E402
import test_gguf_radioactivity as gr  # noqa: E402

import experiment  # noqa: E402
import radio  # noqa: E402


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    if not gc.CLI:
        print("gguf_reduced: set TELLTALE_CLI to the telltale executable", file=sys.stderr)
        return 2
    p, scheme = experiment.REDUCED, gr.SCHEME
    texts = radio.audit_texts(scheme, p["audit_texts"], p["new_tokens"], p["temperature"], p["seed"])
    with tempfile.TemporaryDirectory() as d:
        tok = gc.write_tokens(os.path.join(d, "audit.tok"), texts)
        keys = {"teacher": (os.path.join(d, "t.key"), radio.teacher_key()),
                "wrong": (os.path.join(d, "w.key"), radio.wrong_key())}
        for path, k in keys.values():
            k.save(path)
        print("| student | key | GGUF log10 p | torch log10 p | unique tuples (GGUF / torch) | GGUF exit | "
              "controls (GGUF) | tokens to 1e-6 | GGUF CPU s |")
        for fraction in (1.0, 0.0):
            gguf = gr.student_gguf(fraction)
            model, _ = radio.student(experiment.student_config(p, scheme, fraction))
            for name, (path, key) in keys.items():
                c0 = child_cpu()
                rc, j, err = gc.run_gguf(gguf, path, scheme, "--tokens", tok, "--controls", "2")
                cpu = child_cpu() - c0
                if rc == 2:
                    print(err, file=sys.stderr)
                    return 2
                res = radio.open_audit(model, texts, scheme, key=key)
                ctl = ", ".join(f"{k['log10_p']:.2f}" for k in j["keys"] if k["control"])
                print(f"| {fraction:.0%} watermarked | {name} | {j['log10_p']:.2f} | {res.log10_p:.2f} | "
                      f"{j['unique_tuples']} / {res.counts['scored']} | {rc} | {ctl} | "
                      f"{j['tokens_to_target'] or '-'} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
