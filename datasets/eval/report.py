"""Writes an evaluation's results as JSON, Markdown tables and a PNG figure
(all atomically) into the output directory."""
from __future__ import annotations

import io
import json
import os

from eval.fileio import write_atomic


def _f(x, nd=3) -> str:
    if isinstance(x, float):
        if x != x:
            return "n/a"
        if x in (float("inf"), float("-inf")):
            return "inf" if x > 0 else "-inf"
        return f"{x:.{nd}f}"
    return str(x)


def markdown(r: dict) -> str:
    mode = r["mode"]
    out = [f"# Telltale evaluation on the reference LM ({mode} run)", ""]
    cmd = "--reduced " if mode == "reduced" else ""
    out += [f"Reproduce: `PYTHONPATH=build/python /usr/bin/python3 datasets/eval/run_eval.py {cmd}--out DIR` "
            f"(seed {r['seed']}). See `docs/eval.md` for the method.", ""]
    rt = r["runtime_seconds"]
    v = r["versions"]
    out += [f"- Generation: temperature {r['temperature']}, top-k off, top-p 1, 200 new tokens per prompt, "
            "held-out prompts of <= 24 tokens; each watermarked text under its own derived key.",
            f"- Null sample: {r['n_human']} human-text windows (human_windows.jsonl, all languages, "
            f"re-tokenized with the model tokenizer, first T tokens of 200-token windows) and {r['n_plain']} "
            "unwatermarked continuations; every null text is scored under a fresh derived key.",
            "- Empirical thresholds (FPR 1e-2, 1e-3) are quantiles of the null sample; nothing is tuned. "
            "TPR at 1e-6 uses the nominal threshold p <= 1e-6.",
            f"- Runtime {rt['total']} s (generation {rt['generation']} s, scoring {rt['scoring']} s, "
            f"human windows {rt['human_windows_load']} s) on 1 torch thread.",
            f"- Versions: telltale {v['telltale']} (git {v['git_commit'][:12]}), Python {v['python']}, "
            f"torch {v['torch']}, numpy {v['numpy']}, corpora build key `{str(v['corpora_manifest'])[:16]}`.",
            ""]
    out += ["## Headline checks", "", "| check | value | result |", "|---|---|---|"]
    for c in r["checks"]:
        out.append(f"| {c['name']} | {_f(c['value'])} | {'pass' if c['ok'] else 'FAIL'} |")
    out += ["", "## Detection power", "",
            "| scheme | n | T | TPR @ emp. FPR 1e-2 | TPR @ emp. FPR 1e-3 | TPR @ p<=1e-6 | ROC AUC | "
            "median log10 p |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in r["schemes"]:
        for L in r["lengths"]:
            e = row["by_length"][str(L)]
            out.append(f"| `{row['scheme']}` | {row['n_wm']} | {L} | {_f(e['tpr@0.01'])} | {_f(e['tpr@0.001'])} | "
                       f"{_f(e['tpr@1e-06(nominal)'])} | {_f(e['auc'], 4)} | {_f(e['wm_median_log10_p'], 1)} |")
    out += ["", "## False positives on human text (nominal alpha, fresh key per window)", "",
            "Rejections `p <= alpha` among the human windows; `bound` is the one-sided 0.999 binomial upper "
            "bound for a rate of exactly alpha. Dedup off is shown for T=200 only.", "",
            "| scheme | T | dedup on @1e-2 (bound) | dedup on @1e-3 (bound) | dedup off @1e-2 | dedup off @1e-3 | "
            "unwatermarked gens @1e-2 / @1e-3 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in r["schemes"]:
        for L in r["lengths"]:
            e = row["by_length"][str(L)]
            off2 = e.get("human_rejections_dedup_off@0.01", "")
            off3 = e.get("human_rejections_dedup_off@0.001", "")
            out.append(f"| `{row['scheme']}` | {L} | {e['human_rejections@0.01']} ({e['human_bound@0.01']}) | "
                       f"{e['human_rejections@0.001']} ({e['human_bound@0.001']}) | {off2} | {off3} | "
                       f"{e['plain_rejections@0.01']} / {e['plain_rejections@0.001']} of {r['n_plain']} |")
    out += ["", "## Diversity" + (" and quality" if "plain_reflm_bits_per_token" in r else ""), "",
            "| text | distinct-2 | distinct-3 |" + (" reference-LM bits/token |" if "plain_reflm_bits_per_token" in r
                                                     else ""),
            "|---|---:|---:|" + ("---:|" if "plain_reflm_bits_per_token" in r else "")]
    for row in r["schemes"]:
        q = f" {_f(row['reflm_bits_per_token'])} |" if "reflm_bits_per_token" in row else ""
        out.append(f"| `{row['scheme']}` | {_f(row['distinct_2'])} | {_f(row['distinct_3'])} |{q}")
    q = f" {_f(r['plain_reflm_bits_per_token'])} |" if "plain_reflm_bits_per_token" in r else ""
    out.append(f"| unwatermarked | {_f(r['plain_distinct_2'])} | n/a |{q}")
    if any("attacks" in row for row in r["schemes"]):
        out += ["", "## Robustness (T=200 before the attack; nominal thresholds)", "",
                "| scheme | attack | TPR @ p<=1e-3 | TPR @ p<=1e-6 | median log10 p |", "|---|---|---:|---:|---:|"]
        for row in r["schemes"]:
            for name, a in row.get("attacks", {}).items():
                out.append(f"| `{row['scheme']}` | {name} | {_f(a['tpr@1e-3(nominal)'])} | "
                           f"{_f(a['tpr@1e-6(nominal)'])} | {_f(a['median_log10_p'], 1)} |")
    out.append("")
    return "\n".join(out)


def figure(r: dict) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for row in r["schemes"]:
        Ls = r["lengths"]
        axes[0].plot(Ls, [row["by_length"][str(L)]["tpr@0.001"] for L in Ls], marker="o", label=row["spec"])
        axes[1].plot(Ls, [-row["by_length"][str(L)]["wm_median_log10_p"] for L in Ls], marker="o",
                     label=row["spec"])
    axes[0].set(xlabel="tokens T", ylabel="TPR at empirical FPR 1e-3", ylim=(0, 1.02),
                title="Detection power")
    axes[1].set(xlabel="tokens T", ylabel="median -log10 p (watermarked)", yscale="log",
                title="Evidence grows with length")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"reference LM, T=0.7, {r['mode']} run (seed {r['seed']})", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def write_all(r: dict, out_dir: str) -> None:
    base = os.path.join(out_dir, f"eval_{r['mode']}")
    write_atomic(base + ".json", json.dumps(r, indent=1, sort_keys=True) + "\n")
    write_atomic(base + ".md", markdown(r))
    write_atomic(base + "_tpr.png", figure(r))
