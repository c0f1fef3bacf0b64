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
    cmd = {"reduced": "--reduced ", "smoke": "--smoke "}.get(mode, "")
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
            f"human windows {rt['human_windows_load']} s"
            + (f", oracle load/training {rt['oracle_load_or_train']} s" if "oracle_load_or_train" in rt else "")
            + (f", attacks {rt['attacks']} s" if rt.get("attacks") else "") + ") on 1 torch thread.",
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
    out += _quality(r)
    if any("attacks" in row for row in r["schemes"]):
        out += _robustness(r)
    out.append("")
    return "\n".join(out)


def _quality(r: dict) -> list:
    has_o = "plain_oracle_bits_per_token" in r
    out = ["", "## Diversity" + (" and quality" if has_o else ""), ""]
    if has_o:
        o = r["oracle"]
        c = o["config"]
        out += [f"Oracle: the reference architecture at d{c['dim']} x {c['n_layers']} layers ({o['parameters']} "
                f"parameters), {o['train']['steps']} steps of {o['train']['batch']} x {o['train']['seq']} tokens "
                f"(seed {o['train']['seed']}, {o['train']['seconds']} s), held-out "
                f"{_f(o['heldout_bits_per_token'])} bits/token against the reference LM's "
                f"{_f(o['reference_heldout_bits_per_token'])}; cached as `oracle/{o['cache_key']}`. Oracle "
                "bits/token is the mean over texts of each continuation's bits/token given its prompt "
                "(perplexity = 2^bits; +- one standard error); delta is against the unwatermarked "
                "continuations. Distinct-n is over all texts of a row (compare within this table only).", ""]
    head = "| text | n | distinct-1 | distinct-2 | distinct-3 |"
    rule = "|---|---:|---:|---:|---:|"
    if "plain_reflm_bits_per_token" in r:
        head += " reference-LM bits/token |"
        rule += "---:|"
    if has_o:
        head += " oracle bits/token | oracle PPL | delta bits vs unwatermarked |"
        rule += "---:|---:|---:|"
    out += [head, rule]

    def cells(d1, d2, d3, rb, ob, sem, n):
        line = f" {n} | {_f(d1)} | {_f(d2)} | {_f(d3)} |"
        if "plain_reflm_bits_per_token" in r:
            line += f" {_f(rb)} |"
        if has_o:
            line += (f" {_f(ob)} +- {_f(sem)} | {_f(2 ** ob, 1)} | "
                     f"{ob - r['plain_oracle_bits_per_token']:+.3f} |")
        return line
    for row in r["schemes"]:
        out.append(f"| `{row['scheme']}` |" + cells(row.get("distinct_1", float("nan")), row["distinct_2"],
                                                    row["distinct_3"], row.get("reflm_bits_per_token"),
                                                    row.get("oracle_bits_per_token"),
                                                    row.get("oracle_bits_per_token_sem"), row["n_wm"]))
    out.append("| unwatermarked |" + cells(r.get("plain_distinct_1", float("nan")), r["plain_distinct_2"],
                                          r.get("plain_distinct_3", float("nan")),
                                          r.get("plain_reflm_bits_per_token"), r.get("plain_oracle_bits_per_token"),
                                          r.get("plain_oracle_bits_per_token_sem"), r["n_plain"]))
    return out


ATTACK_NOTES = {
    "substitute": "random token substitution (fraction of tokens)",
    "delete_words": "word deletion (fraction of words; re-tokenized)",
    "truncate": "truncation (fraction removed from the end)",
    "synonym": "WordNet synonym substitution (fraction of content words; re-tokenized)",
    "homoglyph_zw": "homoglyph + zero-width insertion (fraction of words), raw tokenization",
    "homoglyph_zw_scan_none": "the same texts through `telltale scan --normalize none` (continuation only)",
    "homoglyph_zw_scan": "the same texts through `telltale scan --normalize nfc,strip-invisible,confusables` "
                         "(continuation only)",
    "scan_clean": "the unattacked continuations through `telltale scan` with that normalization",
    "regenerate": "re-generation by the unwatermarked LM after the first N watermarked tokens",
}


_ATTACK_ORDER = ("substitute", "delete_words", "truncate", "synonym", "homoglyph_zw", "scan_clean",
                 "homoglyph_zw_scan_none", "homoglyph_zw_scan", "regenerate")


def attack_names(attacks: dict) -> list:
    """Attack names in a fixed order (family, then parameter): the JSON
    stores them with sorted keys, and tables must not depend on that."""
    def key(name):
        fam, _, param = name.partition("@")
        rank = _ATTACK_ORDER.index(fam) if fam in _ATTACK_ORDER else len(_ATTACK_ORDER)
        try:
            return rank, fam, float(param)
        except ValueError:
            return rank, fam, 0.0
    return sorted(attacks, key=key)


def _robustness(r: dict) -> list:
    out = ["", "## Robustness (T=200 before the attack; nominal thresholds, each text under its own key)", "",
           "Attacks: " + "; ".join(f"`{k}` = {v}" for k, v in ATTACK_NOTES.items()
                                   if any(a.split("@")[0] == k for row in r["schemes"]
                                          for a in row.get("attacks", {}))) + ".", ""]
    sc = r.get("scan", {})
    if "cli" in sc:
        how = (f", added to this run by `run_eval.py --scan-supplement` from its cached generations "
               f"({sc.get('seconds', '?')} s)") if sc.get("added_by") else ""
        out += [f"The `*_scan*` rows: `telltale scan --normalize {sc['normalize']}` (and `none`) on the "
                f"continuation text, tokenized by the scanner with the reference LM's GGUF vocabulary, each text's "
                f"log10 p under its own key{how}.", ""]
    if "skipped" in sc:
        out += [f"The homoglyph attack was scored by raw tokenization only: `telltale scan` was not used "
                f"({r['scan']['skipped']}).", ""]
    out += [
           "| scheme | attack | TPR @ p<=1e-3 | TPR @ p<=1e-6 | median log10 p | note |",
           "|---|---|---:|---:|---:|---|"]
    for row in r["schemes"]:
        for name in attack_names(row.get("attacks", {})):
            a = row["attacks"][name]
            note = ""
            if "replaced_fraction_of_content_words" in a:
                note = f"{a['replaced_fraction_of_content_words']:.3f} of content words replaced"
            elif "token_growth" in a:
                note = f"{a['token_growth']:.2f}x tokens"
            elif "note" in a:
                note = a["note"]
            out.append(f"| `{row['scheme']}` | {name} | {_f(a['tpr@1e-3(nominal)'])} | "
                       f"{_f(a['tpr@1e-6(nominal)'])} | {_f(a['median_log10_p'], 1)} | {note} |")
    if any("copy_paste" in row for row in r["schemes"]):
        out += ["", "### Copy-paste into human text (windowed search)", "",
                "One watermarked span (the first k generated tokens) spliced at a random word boundary into "
                "English human prose, about 400 tokens in all; scored with `window_search=True, min_window=32` "
                "under the text's key. Window p is the best window's Bonferroni-corrected p "
                "(detect/window_search.h); whole is the plain whole-document test. The last columns are the "
                "windowed test on 1000 pure human documents of the same length, each under a fresh key "
                "(rejections at p<=1e-2 / 1e-3, one-sided 0.999 binomial bound in parentheses).", "",
                "| scheme | attack | k | window TPR @1e-3 | window TPR @1e-6 | median window log10 p | "
                "whole TPR @1e-3 | median whole log10 p | human windowed FPR @1e-2 | @1e-3 |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in r["schemes"]:
            wn = row.get("window_null", {})
            for name, a in row.get("copy_paste", {}).items():
                out.append(f"| `{row['scheme']}` | {name} | {a['watermarked_tokens']} | {_f(a['window_tpr@1e-3'])} | "
                           f"{_f(a['window_tpr@1e-6'])} | {_f(a['window_median_log10_p_corrected'], 1)} | "
                           f"{_f(a['whole_tpr@1e-3'])} | {_f(a['whole_median_log10_p'], 1)} | "
                           f"{wn.get('rejections@0.01', '')}/{wn.get('docs', '')} ({wn.get('bound@0.01', '')}) | "
                           f"{wn.get('rejections@0.001', '')}/{wn.get('docs', '')} ({wn.get('bound@0.001', '')}) |")
    return out


def robustness_figure(r: dict) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [row for row in r["schemes"] if "attacks" in row]
    names = [n for n in attack_names(rows[0]["attacks"]) if not n.startswith("scan_clean")] + \
        sorted(rows[0].get("copy_paste", {}))
    fig, ax = plt.subplots(figsize=(12, 5.5))
    width = 0.8 / len(rows)
    for j, row in enumerate(rows):
        vals = [row["attacks"][n]["tpr@1e-3(nominal)"] if n in row["attacks"]
                else row["copy_paste"][n]["window_tpr@1e-3"] for n in names]
        ax.bar([i + j * width for i in range(len(names))], vals, width, label=row["spec"])
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))])
    ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
    ax.set(ylabel="TPR at p <= 1e-3", ylim=(0, 1.02),
           title="Robustness (copy-paste: windowed search, corrected p)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.32))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


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
    if any("attacks" in row for row in r["schemes"]):
        write_atomic(base + "_robustness.png", robustness_figure(r))
