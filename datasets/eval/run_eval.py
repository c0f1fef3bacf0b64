#!/usr/bin/python3
"""Telltale evaluation on the reference LM: detection power, empirical false
positives on human text, and (full mode) robustness and quality.

    PYTHONPATH=build/python /usr/bin/python3 datasets/eval/run_eval.py --reduced --out DIR
    PYTHONPATH=build/python /usr/bin/python3 datasets/eval/run_eval.py --out docs/results

For each scheme: watermarked continuations of held-out prompts (T=200 new
tokens at temperature 0.7, batched, KV cache) are scored under their own
keys at lengths 25/50/100/200. The null sample is human-text windows
(human_windows.jsonl re-tokenized with the model's tokenizer) plus
unwatermarked continuations, each scored under a FRESH key (see
eval/harness.py for why). Empirical thresholds at FPR 1e-2 and 1e-3 are the
null sample's quantiles (derived, never tuned); TPR at 1e-6 uses the
nominal p-value threshold, as 1e-6 is beyond any feasible null sample.
Human-text FPR at the nominal alpha is checked against the one-sided 0.999
binomial bound, with dedup on (the default) and reported with dedup off.

Writes eval_<mode>.json, eval_<mode>.md and eval_<mode>_tpr.png into --out.
Exit status: 0 when the headline checks hold, 1 when one fails, 2 on bad
input.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.dirname(HERE)
sys.path.insert(0, DATASETS)

LENGTHS = (25, 50, 100, 200)
FPRS = (1e-2, 1e-3)
TEMPERATURE = 0.7
HEADLINE = "kgw:gamma=0.25,delta=2,h=1"

MODES = {
    "reduced": {
        "configs": [(HEADLINE, 160), ("unigram:gamma=0.5,delta=2", 64), ("gumbel:h=1", 64)],
        "plain": 96, "human": 10000, "attacks": False, "quality": False,
    },
    "full": {
        "configs": [(HEADLINE, 256), ("kgw:gamma=0.25,delta=1,h=1", 256), ("kgw:gamma=0.5,delta=2,h=1", 256),
                    ("kgw:gamma=0.25,delta=2,h=4", 256), ("unigram:gamma=0.5,delta=2", 256),
                    ("gumbel:h=1", 256), ("gumbel:h=4", 256)],
        "plain": 256, "human": 100000, "attacks": True, "quality": True,
    },
    # Every code path of the full run on a few texts (a minute or two), for
    # checking the harness itself; its numbers mean nothing.
    "smoke": {
        "configs": [(HEADLINE, 16), ("gumbel:h=1", 16)],
        "plain": 16, "human": 300, "attacks": True, "quality": True,
    },
}
ATTACKS = [("substitute", 0.1), ("substitute", 0.3), ("substitute", 0.5),
           ("delete_words", 0.1), ("delete_words", 0.3), ("truncate", 0.5), ("truncate", 0.75),
           ("synonym", 0.1), ("synonym", 0.3), ("homoglyph_zw", 0.3), ("regenerate", 16)]
# Copy-paste: a document of COPY_DOC_TOKENS tokens of which this fraction is
# one watermarked span, the rest English human prose; detected with the
# windowed search (smallest window MIN_WINDOW tokens).
COPY_FRACTIONS = (0.1, 0.25)
COPY_DOC_TOKENS = 400
MIN_WINDOW = 32
# Pure human documents scored with the windowed search under fresh keys:
# the windowed test's own false-positive check.
WINDOW_NULL_DOCS = 1000


def log(msg: str) -> None:
    print(f"[eval {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def corpora_dir() -> str:
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    return os.path.join(cache, "corpora")


def ensure_corpora(cdir: str) -> None:
    """A fresh clone has no corpora yet: build them (a no-op when cached)."""
    if os.path.exists(os.path.join(cdir, "human_windows.jsonl")):
        return
    log(f"{cdir} has no human_windows.jsonl: building corpora")
    subprocess.run([sys.executable, os.path.join(DATASETS, "build_corpora.py"), "--out", cdir], check=True)


def distinct_n(seqs: list, n: int) -> float:
    grams, total = set(), 0
    for s in seqs:
        for i in range(len(s) - n + 1):
            grams.add(tuple(s[i:i + n]))
            total += 1
    return len(grams) / total if total else float("nan")


def nominal_rejections(scores: list, alpha: float) -> int:
    lim = math.log10(alpha) + 1e-9  # p <= alpha, robust to the last ulp
    return sum(s <= lim for s in scores)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", DATASETS, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def gen_keys(master, canon: str, n: int) -> list:
    """The keys of a scheme's n watermarked texts (region names allow
    [A-Za-z0-9._:@/+-]: a digest of the canonical spec)."""
    from eval import harness
    purpose = "gen-" + hashlib.sha256(canon.encode()).hexdigest()[:16]
    return [harness.derive(master, f"g{i}", purpose) for i in range(n)]


def texts_cache_path(mode: str, seed: int) -> str:
    return os.path.join(os.path.dirname(corpora_dir()), "eval", f"{mode}-{seed}-generations.json")


def homoglyph_texts(tok, gens: list, seed: int) -> list:
    """The homoglyph_zw attack's texts exactly as run_attacks makes them."""
    from eval import attacks
    ai = [a for a, _ in ATTACKS].index("homoglyph_zw")
    rng = random.Random(seed * 1000 + 3 + ai)
    return [attacks.homoglyph_zero_width_text(tok.decode(g), ATTACKS[ai][1], rng)[0] for g in gens]


def scan_supplement(mode: str, seed: int, out_dir: str, telltale_cli) -> int:
    """Adds the `telltale scan` rows of the homoglyph attack to an existing
    run's results (eval_<mode>.json in out_dir), from the generations that
    run cached, and rewrites its tables: for a full run made before the
    scanner existed. Same keys, same attacked texts, same scoring."""
    import telltale
    from eval import report, scan_attack
    from reflm.tokenizer import Tokenizer
    t0 = time.time()
    path = os.path.join(out_dir, f"eval_{mode}.json")
    with open(path) as f:
        results = json.load(f)
    with open(texts_cache_path(mode, seed)) as f:
        cached = json.load(f)
    if results["seed"] != seed or cached["seed"] != seed:
        raise ValueError(f"{path}: seed {results['seed']} / cache seed {cached['seed']}, expected {seed}")
    cli, why = scan_attack.find_cli(telltale_cli)
    if not cli:
        raise RuntimeError(why)
    import reflm
    tok = Tokenizer(os.path.join(reflm.WEIGHTS_DIR, "tokenizer.model"))
    scan = (cli, scan_attack.ensure_gguf())
    from eval import harness
    master = harness.master_key(seed)
    for row in results["schemes"]:
        gens = cached["generations"][row["scheme"]]
        canon = str(telltale.Scheme(row["spec"]))
        keys = gen_keys(master, canon, len(gens))
        extra = run_scan_attack(scan, row["spec"], keys, [tok.decode(g) for g in gens], homoglyph_texts(tok, gens, seed))
        row["attacks"].update(extra)
        log(f"{canon}: through scan, normalized TPR@1e-3 {extra['homoglyph_zw_scan@0.3']['tpr@1e-3(nominal)']:.3f}")
    results["scan"] = {"cli": cli, "normalize": SCAN_NORMALIZE, "added_by": "--scan-supplement",
                       "seconds": round(time.time() - t0, 1)}
    report.write_all(results, out_dir)
    return 0


def load_oracle(cdir: str, oracle_dir, tok):
    """(model, metadata, cache key) of the quality judge. Called after all
    generation, so a first full run generates and scores while the oracle
    trains (ensure() waits on the training's lock)."""
    import reflm
    from reflm import oracle as oracle_mod
    if oracle_dir:
        o_model, o_tok = reflm.load(oracle_dir)
        o_meta, o_key = reflm.metadata(oracle_dir), "dir:" + os.path.abspath(oracle_dir)
    else:
        o_model, o_tok, o_meta = oracle_mod.load(cdir, log)
        o_key = oracle_mod.cache_key(cdir)
    if o_tok.vocab_size != tok.vocab_size or o_meta["files"]["tokenizer.model"] != \
            reflm.metadata()["files"]["tokenizer.model"]:
        raise RuntimeError("the oracle's tokenizer differs from the reference LM's")
    log(f"oracle {o_key}: {o_meta['parameters']} parameters, held-out "
        f"{o_meta['heldout']['bits_per_token']:.3f} bits/token")
    return o_model, o_meta, o_key


def evaluate(mode: str, seed: int, out_dir: str, oracle_dir: str = None, telltale_cli: str = None) -> dict:
    import numpy
    import torch
    import telltale
    import reflm
    from eval import attacks, harness, stats

    t_start = time.time()
    spec = MODES[mode]
    cdir = corpora_dir()
    ensure_corpora(cdir)
    model, tok = harness.load_model()
    master = harness.master_key(seed)
    n_wm_max = max(n for _, n in spec["configs"])
    prompts = harness.prompts_from_heldout(tok, cdir, n_wm_max + spec["plain"], seed)
    wm_prompts, plain_prompts = prompts[:n_wm_max], prompts[n_wm_max:]
    log(f"{mode}: {len(prompts)} held-out prompts, loading {spec['human']} human windows")
    t0 = time.time()
    human = harness.load_human_windows(tok, cdir, spec["human"], max(LENGTHS), seed)
    t_human_load = time.time() - t0

    t_oracle = 0.0
    all_gens = []
    gens_cache = {}
    synonyms = prose = scan = None
    results_scan = {}
    if spec["attacks"]:
        from eval import scan_attack
        cli, why = scan_attack.find_cli(telltale_cli)
        if cli:
            scan = (cli, scan_attack.ensure_gguf())
            results_scan = {"cli": cli, "normalize": SCAN_NORMALIZE}
            log(f"homoglyph attack also through {cli} scan --normalize {SCAN_NORMALIZE}")
        else:
            results_scan = {"skipped": why}
            log(f"homoglyph attack through telltale scan skipped: {why}")
        with open(os.path.join(cdir, "wordnet_synonyms.json"), encoding="utf-8") as f:
            synonyms = json.load(f)
        n_prose = max(max(n for _, n in spec["configs"]), WINDOW_NULL_DOCS)
        prose = harness.load_prose_ids(tok, cdir, n_prose, COPY_DOC_TOKENS, seed + 4)

    t0 = time.time()
    plain = harness.generate(model, tok, plain_prompts, None, None, max(LENGTHS), TEMPERATURE, seed + 1)
    t_gen = time.time() - t0
    log(f"{len(plain)} unwatermarked continuations in {t_gen:.0f} s")
    t0 = time.time()
    schemes = [s for s, _ in spec["configs"]]
    L_max = max(LENGTHS)
    hum_null = harness.score_null(master, "human", schemes, human, [0] * len(human), LENGTHS, L_max)
    pl_null = harness.score_null(master, "plain", schemes, [p + g for p, g in zip(plain_prompts, plain)],
                                 [len(p) for p in plain_prompts], LENGTHS, L_max)
    t_score = time.time() - t0
    log(f"null sample scored under fresh keys in {t_score:.0f} s")

    results = {"mode": mode, "seed": seed, "temperature": TEMPERATURE, "lengths": list(LENGTHS),
               "n_human": len(human), "n_plain": len(plain), "schemes": []}
    if spec["attacks"]:
        results["scan"] = results_scan
    for scheme, n_wm in spec["configs"]:
        canon = str(telltale.Scheme(scheme))
        # Region names allow [A-Za-z0-9._:@/+-]: a digest of the canonical spec.
        keys = gen_keys(master, canon, n_wm)
        t0 = time.time()
        gens = harness.generate(model, tok, wm_prompts[:n_wm], keys, scheme, max(LENGTHS), TEMPERATURE, seed + 2)
        t_g = time.time() - t0
        t_gen += t_g
        t0 = time.time()
        wm_det = harness.detectors(keys, scheme)
        row = {"scheme": canon, "spec": scheme, "n_wm": n_wm, "gen_seconds": round(t_g, 1), "by_length": {}}
        for L in LENGTHS:
            wm = harness.score_all(wm_det, [p + g[:L] for p, g in zip(wm_prompts, gens)],
                                   [len(p) for p in wm_prompts[:n_wm]])
            hum = hum_null[scheme]["on"][L]
            pl = pl_null[scheme]["on"][L]
            null = hum + pl
            entry = {"wm_median_log10_p": float(numpy.median(wm)),
                     "auc": stats.roc_auc([-x for x in wm], [-x for x in null])}
            for f in FPRS:
                tau = stats.empirical_threshold(null, f)
                entry[f"threshold_log10_p@{f:g}"] = tau
                entry[f"tpr@{f:g}"] = stats.rate_below(wm, tau)
                entry[f"null_fpr_at_threshold@{f:g}"] = stats.rate_below(null, tau)
            entry["tpr@1e-06(nominal)"] = nominal_rejections(wm, 1e-6) / len(wm)
            for a in FPRS:
                k = nominal_rejections(hum, a)
                entry[f"human_rejections@{a:g}"] = k
                entry[f"human_bound@{a:g}"] = stats.binom_upper_bound(len(hum), a, 0.999)
                entry[f"plain_rejections@{a:g}"] = nominal_rejections(pl, a)
            if L == max(LENGTHS):
                hum_nd = hum_null[scheme]["off"]
                for a in FPRS:
                    entry[f"human_rejections_dedup_off@{a:g}"] = nominal_rejections(hum_nd, a)
            row["by_length"][str(L)] = entry
        row["distinct_2"] = distinct_n(gens, 2)
        row["distinct_3"] = distinct_n(gens, 3)
        row["distinct_1"] = distinct_n(gens, 1)
        if spec["quality"]:
            from reflm.evaluate import continuation_bits
            row["reflm_bits_per_token"] = float(numpy.mean(continuation_bits(model, wm_prompts[:n_wm], gens)))
            all_gens.append((row, gens))  # oracle-scored after the loop
        if spec["attacks"]:
            gens_cache[canon] = gens
        if spec["attacks"]:
            t_a = time.time()
            row["attacks"] = run_attacks(model, tok, wm_det, wm_prompts[:n_wm], gens, synonyms, seed,
                                         scan, scheme, keys)
            row["copy_paste"] = run_copy_paste(tok, wm_det, gens, prose, seed)
            purpose_ws = "wsnull-" + hashlib.sha256(canon.encode()).hexdigest()[:16]
            ws_null = harness.score_windowed_null(master, purpose_ws, scheme, prose[:WINDOW_NULL_DOCS], MIN_WINDOW)
            row["window_null"] = {"docs": len(ws_null), "tokens": COPY_DOC_TOKENS}
            for a in FPRS:
                row["window_null"][f"rejections@{a:g}"] = nominal_rejections([w for _, w in ws_null], a)
                row["window_null"][f"whole_rejections@{a:g}"] = nominal_rejections([d for d, _ in ws_null], a)
                row["window_null"][f"bound@{a:g}"] = stats.binom_upper_bound(len(ws_null), a, 0.999)
            row["attack_seconds"] = round(time.time() - t_a, 1)
        t_s = time.time() - t0
        t_score += t_s
        e200 = row["by_length"][str(max(LENGTHS))]
        log(f"{canon}: {n_wm} generated in {t_g:.0f} s, scored in {t_s:.0f} s; T=200 TPR@1e-3 "
            f"{e200['tpr@0.001']:.3f}, human rejections @1e-3 {e200['human_rejections@0.001']}/{len(human)}")
        results["schemes"].append(row)
    if spec["quality"]:
        from reflm.evaluate import continuation_bits
        results["plain_reflm_bits_per_token"] = float(numpy.mean(continuation_bits(model, plain_prompts, plain)))
        t0 = time.time()
        oracle = load_oracle(cdir, oracle_dir, tok)
        t_oracle = time.time() - t0
        for row, gens in all_gens:
            ob = continuation_bits(oracle[0], wm_prompts[:row["n_wm"]], gens)
            row["oracle_bits_per_token"] = float(numpy.mean(ob))
            row["oracle_bits_per_token_sem"] = float(numpy.std(ob, ddof=1) / math.sqrt(len(ob)))
        ob = continuation_bits(oracle[0], plain_prompts, plain)
        results["plain_oracle_bits_per_token"] = float(numpy.mean(ob))
        results["plain_oracle_bits_per_token_sem"] = float(numpy.std(ob, ddof=1) / math.sqrt(len(ob)))
        o_meta = oracle[1]
        results["oracle"] = {"cache_key": oracle[2], "config": o_meta["config"], "parameters": o_meta["parameters"],
                             "train": {k: o_meta["train"][k] for k in ("steps", "batch", "seq", "lr", "seed",
                                                                       "train_tokens", "seconds")},
                             "heldout_bits_per_token": o_meta["heldout"]["bits_per_token"],
                             "reference_heldout_bits_per_token": reflm.metadata()["heldout"]["bits_per_token"],
                             "weights_sha256": o_meta["files"]["model.f16.pt"]}
    results["plain_distinct_1"] = distinct_n(plain, 1)
    results["plain_distinct_2"] = distinct_n(plain, 2)
    results["plain_distinct_3"] = distinct_n(plain, 3)
    if gens_cache:
        from eval.fileio import write_atomic
        write_atomic(texts_cache_path(mode, seed), json.dumps({"seed": seed, "generations": gens_cache}))
    results["checks"] = headline_checks(results)
    meta = reflm.metadata()
    results["versions"] = {"telltale": telltale.__version__, "git_commit": git_commit(),
                           "python": platform.python_version(), "torch": torch.__version__,
                           "numpy": numpy.__version__, "reflm_weights_sha256": meta["files"],
                           "corpora_manifest": _manifest_key(cdir)}
    results["runtime_seconds"] = {"total": round(time.time() - t_start, 1), "generation": round(t_gen, 1),
                                  "scoring": round(t_score, 1), "human_windows_load": round(t_human_load, 1),
                                  "oracle_load_or_train": round(t_oracle, 1),
                                  "attacks": round(sum(r.get("attack_seconds", 0.0) for r in results["schemes"]), 1)}
    from eval import report
    report.write_all(results, out_dir)
    return results


SCAN_NORMALIZE = "nfc,strip-invisible,confusables"


def run_scan_attack(scan, scheme: str, keys: list, clean: list, attacked: list) -> dict:
    """The homoglyph + zero-width texts through `telltale scan` (see
    eval/scan_attack.py): with its normalization, without it, and the clean
    continuations as the baseline. Only the continuation's text is scanned
    (no prompt), so its first token has no context."""
    import numpy
    from eval import scan_attack
    cli, gguf = scan
    out = {}
    for name, texts, norm in (("scan_clean", clean, SCAN_NORMALIZE),
                              ("homoglyph_zw_scan_none@0.3", attacked, "none"),
                              ("homoglyph_zw_scan@0.3", attacked, SCAN_NORMALIZE)):
        sc = scan_attack.scan_own_key_scores(cli, gguf, keys, scheme, texts, norm)
        out[name] = {"tpr@1e-3(nominal)": nominal_rejections(sc, 1e-3) / len(sc),
                     "tpr@1e-6(nominal)": nominal_rejections(sc, 1e-6) / len(sc),
                     "median_log10_p": float(numpy.median(sc)), "note": f"telltale scan --normalize {norm}"}
    return out


def run_attacks(model, tok, dets, prompts: list, gens: list, synonyms: dict, seed: int,
                scan=None, scheme: str = None, keys: list = None) -> dict:
    """Every ATTACKS entry on the watermarked continuations, scored under
    each text's own key with its prompt as context (prompt_tokens), at the
    nominal thresholds. Text-level attacks decode the continuation, edit
    the text and re-tokenize it with the model's tokenizer."""
    import numpy
    from eval import attacks, harness
    first_normal = 3 + 256  # <unk>, <s>, </s>, then 256 byte pieces
    out = {}
    for ai, (name, frac) in enumerate(ATTACKS):
        rng = random.Random(seed * 1000 + 3 + ai)
        extra = {}
        if name == "substitute":
            att = [attacks.substitute_tokens(g, frac, tok.vocab_size, first_normal, rng) for g in gens]
        elif name == "delete_words":
            att = [attacks.delete_words(tok, g, frac, rng) for g in gens]
        elif name == "truncate":
            att = [attacks.truncate(g, frac) for g in gens]
        elif name == "synonym":
            edited = [attacks.synonym_substitute_text(tok.decode(g), frac, synonyms, rng) for g in gens]
            att = [tok.encode(t) for t, _, _ in edited]
            content = sum(c for _, c, _ in edited)
            extra["replaced_fraction_of_content_words"] = sum(k for _, _, k in edited) / max(1, content)
        elif name == "homoglyph_zw":
            edited = [attacks.homoglyph_zero_width_text(tok.decode(g), frac, rng) for g in gens]
            att = [tok.encode(t) for t, _, _ in edited]
            extra["token_growth"] = sum(map(len, att)) / max(1, sum(map(len, gens)))
            hz_texts = [t for t, _, _ in edited]
            if hz_texts != homoglyph_texts(tok, gens, seed):  # what --scan-supplement rebuilds
                raise RuntimeError("homoglyph_texts() does not reproduce the homoglyph attack")
        elif name == "regenerate":
            keep = int(frac)
            new = harness.generate(model, tok, [p + g[:keep] for p, g in zip(prompts, gens)], None, None,
                                   max(LENGTHS) - keep, TEMPERATURE, seed * 1000 + 5 + ai)
            att = [g[:keep] + n for g, n in zip(gens, new)]
        else:
            raise ValueError(f"unknown attack {name}")
        sc = harness.score_all(dets, [p + a for p, a in zip(prompts, att)], [len(p) for p in prompts])
        out[f"{name}@{frac:g}"] = {"tpr@1e-3(nominal)": nominal_rejections(sc, 1e-3) / len(sc),
                                   "tpr@1e-6(nominal)": nominal_rejections(sc, 1e-6) / len(sc),
                                   "median_log10_p": float(numpy.median(sc)), **extra}
    if scan is not None:
        out.update(run_scan_attack(scan, scheme, keys, [tok.decode(g) for g in gens], hz_texts))
    return out


def run_copy_paste(tok, dets, gens: list, prose: list, seed: int) -> dict:
    """Copy-paste: text i = the decoded first round(f * COPY_DOC_TOKENS)
    watermarked tokens of generation i spliced at a random word boundary
    into the decoded first (COPY_DOC_TOKENS - that) tokens of English human
    prose document i, re-tokenized, scored under key i (no prompt) with the
    windowed search. Reports the best window's Bonferroni-corrected p and,
    for contrast, the whole-document p."""
    import numpy
    from eval import attacks, harness
    out = {}
    for fi, f in enumerate(COPY_FRACTIONS):
        rng = random.Random(seed * 1000 + 50 + fi)
        k = int(round(f * COPY_DOC_TOKENS))
        docs = []
        for g, h in zip(gens, prose):
            text, _ = attacks.splice_text(tok.decode(h[:COPY_DOC_TOKENS - k]), tok.decode(g[:k]), rng)
            docs.append(tok.encode(text))
        sc = harness.score_windowed(dets, docs, MIN_WINDOW)
        win, whole = [w for _, w in sc], [d for d, _ in sc]
        out[f"copy_paste@{f:g}"] = {
            "watermarked_tokens": k, "doc_tokens_mean": float(numpy.mean([len(d) for d in docs])),
            "window_tpr@1e-3": nominal_rejections(win, 1e-3) / len(win),
            "window_tpr@1e-6": nominal_rejections(win, 1e-6) / len(win),
            "window_median_log10_p_corrected": float(numpy.median(win)),
            "whole_tpr@1e-3": nominal_rejections(whole, 1e-3) / len(whole),
            "whole_median_log10_p": float(numpy.median(whole))}
    return out


def _manifest_key(cdir: str):
    try:
        with open(os.path.join(cdir, "manifest.json")) as f:
            m = json.load(f)
        return m.get("build_key") or m.get("key") or "present"
    except (OSError, ValueError):
        return "missing"


def headline_checks(results: dict) -> list:
    """The issue's 'must show' properties, each with its evidence."""
    checks = []
    L = str(max(LENGTHS))
    for row in results["schemes"]:
        e = row["by_length"][L]
        if row["spec"] == HEADLINE:
            checks.append({"name": f"{row['scheme']} TPR >= 0.95 at empirical FPR 1e-3, T=200",
                           "value": e["tpr@0.001"], "ok": e["tpr@0.001"] >= 0.95})
        for a in FPRS:
            k, bound = e[f"human_rejections@{a:g}"], e[f"human_bound@{a:g}"]
            checks.append({"name": f"{row['scheme']} human FPR at alpha={a:g} (dedup on, T=200) within the "
                                   f"one-sided 0.999 binomial bound", "value": f"{k}/{results['n_human']} <= {bound}",
                           "ok": k <= bound})
    return checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--reduced", action="store_true", help="the test command's run (a few minutes)")
    g.add_argument("--full", action="store_true", help="every scheme, >= 100k human windows, attacks (default)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(DATASETS), "docs", "results"),
                    help="output directory (default docs/results)")
    ap.add_argument("--seed", type=int, default=20261122)
    g.add_argument("--smoke", action="store_true",
                    help="every code path of the full run on a few texts (checks the harness; numbers meaningless)")
    ap.add_argument("--oracle-dir", default=None,
                    help="judge quality with the model in this weights directory instead of the cached oracle "
                         "(trained on first use)")
    ap.add_argument("--scan-supplement", action="store_true",
                    help="only add the `telltale scan` homoglyph rows to an existing run in --out (same mode and "
                         "seed), from the generations it cached")
    ap.add_argument("--telltale-cli", default=None,
                    help="telltale binary whose `scan --normalize` scores the homoglyph attack (default: "
                         "$TELLTALE_CLI, else found beside PYTHONPATH's build; skipped when absent)")
    args = ap.parse_args(argv)
    try:
        import telltale  # noqa: F401
    except ImportError as e:
        print(f"run_eval: cannot import telltale ({e}); build with -DTELLTALE_BUILD_PYTHON=ON and set "
              "PYTHONPATH=<build>/python", file=sys.stderr)
        return 2
    mode = "smoke" if args.smoke else "reduced" if args.reduced else "full"
    if args.scan_supplement:
        return scan_supplement(mode, args.seed, args.out, args.telltale_cli)
    res = evaluate(mode, args.seed, args.out, args.oracle_dir, args.telltale_cli)
    for c in res["checks"]:
        print(f"{'PASS' if c['ok'] else 'FAIL'}  {c['name']}: {c['value']}")
    print(f"total {res['runtime_seconds']['total']} s; results in {args.out}/eval_{mode}.md")
    return 0 if all(c["ok"] for c in res["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
