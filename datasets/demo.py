#!/usr/bin/python3
"""Telltale end to end on the committed reference LM.

    PYTHONPATH=build/python /usr/bin/python3 datasets/demo.py

A fresh master key is generated and two tenant keys are derived from it.
The reference LM (datasets/reflm) writes a few completions of held-out
prompts watermarked under each tenant's key (kgw gamma=0.25 delta=2 h=1,
through telltale.hf.WatermarkLogitsProcessor, temperature 0.7) and a few
without a watermark. Each completion is then treated as text from an
unknown source: its decoded string is re-tokenized with the model's own
tokenizer and tested against both tenant keys (Holm-adjusted attribution).
For each text the demo prints the verdict, the tenant, log10 p and the text
with its green (watermark-carrying) tokens highlighted: ANSI colours on a
terminal, [[...]] markers otherwise.

Nothing is cached and no corpus is needed: prompts come from the model's
committed held-out paragraphs (datasets/reflm/weights/heldout.txt). Runs in
a few seconds on one core. `--json FILE` also writes the verdicts for tests.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import reflm  # noqa: E402
from reflm.data import read_paragraphs  # noqa: E402

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
TENANTS = ("acme", "globex")
ALPHA = 1e-6  # detection threshold (family-wise over the two tenant keys)
PROMPT_WORDS = 8

GREEN = "\x1b[1;32m"
DIM = "\x1b[2m"
BOLD = "\x1b[1m"
RED = "\x1b[1;31m"
RESET = "\x1b[0m"


def held_out_prompts(n: int) -> list:
    """The first words of n held-out paragraphs, spread over the file."""
    paras = read_paragraphs(os.path.join(reflm.WEIGHTS_DIR, "heldout.txt"))
    paras = [p for p in paras if len(p.split()) >= 3 * PROMPT_WORDS]
    if len(paras) < n:
        raise RuntimeError(f"heldout.txt has only {len(paras)} usable paragraphs, need {n}")
    step = len(paras) // n
    return [" ".join(paras[i * step].split()[:PROMPT_WORDS]) for i in range(n)]


def prompt_mask(tok, prompts: list) -> torch.Tensor:
    """The [B, P] attention mask reflm.generate builds for these prompts
    (left padding, BOS added), which the processor needs to find each row's
    first real token."""
    lens = [len(tok.encode(p, bos=True)) for p in prompts]
    width = max(lens)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, n in enumerate(lens):
        mask[i, width - n:] = 1
    return mask


def token_char_ends(tok, ids: list, text: str) -> list:
    """End offset in `text` of each token. Prefix decodes that end inside a
    byte-fallback character do not match the text; such tokens end where
    the previous one did (the character is credited to the token that
    completes it)."""
    ends, last = [], 0
    for i in range(len(ids)):
        prefix = tok.decode(ids[:i + 1])
        if len(prefix) >= last and text.startswith(prefix):
            last = len(prefix)
        ends.append(last)
    if ends:
        ends[-1] = len(text)
    return ends


def render(tok, ids: list, text: str, mask, colour: bool) -> str:
    """`text` with runs of green tokens (mask == 1) highlighted."""
    if mask is None:
        return text
    ends = token_char_ends(tok, ids, text)
    out, start, in_green = [], 0, False
    for i, end in enumerate(ends):
        green = int(mask[i]) == 1
        if green != in_green:
            out.append((GREEN if green else RESET) if colour else ("[[" if green else "]]"))
            in_green = green
        out.append(text[start:end])
        start = end
    if in_green:
        out.append(RESET if colour else "]]")
    return "".join(out)


def run(args) -> list:
    import telltale
    from telltale.hf import WatermarkLogitsProcessor

    torch.set_num_threads(1)
    t0 = time.time()
    model, tok = reflm.load()
    master = telltale.Key.generate()
    keys = [master.derive(tenant=t, region="eu", epoch="2026-11") for t in TENANTS]
    detectors = [telltale.Detector(k, SCHEME) for k in keys]

    n_wm = args.per_tenant * len(TENANTS)
    prompts = held_out_prompts(n_wm + args.plain)
    wm_prompts, plain_prompts = prompts[:n_wm], prompts[n_wm:]
    row_keys = [i % len(TENANTS) for i in range(n_wm)]
    proc = WatermarkLogitsProcessor(keys, SCHEME, vocab_size=tok.vocab_size, row_keys=row_keys,
                                    attention_mask=prompt_mask(tok, wm_prompts))
    common = dict(max_new_tokens=args.tokens, min_new_tokens=args.tokens, temperature=0.7,
                  top_k=0, top_p=1.0)
    wm_out = reflm.generate(model, tok, wm_prompts, seed=args.seed, logits_processor=proc, **common)
    plain_out = reflm.generate(model, tok, plain_prompts, seed=args.seed + 1, **common)
    gen_s = time.time() - t0

    items = [(p, t, TENANTS[k]) for p, t, k in zip(wm_prompts, wm_out.texts, row_keys)]
    items += [(p, t, None) for p, t in zip(plain_prompts, plain_out.texts)]
    colour = args.colour == "always" or (args.colour == "auto" and sys.stdout.isatty()
                                         and os.environ.get("NO_COLOR") is None)
    print(f"master key {master.id} (fresh); tenant keys: "
          + ", ".join(f"{t}={k.id[:12]}" for t, k in zip(TENANTS, keys)))
    print(f"scheme {telltale.Scheme(SCHEME)}; {len(items)} completions of {args.tokens} tokens at T=0.7; "
          f"verdict at alpha={ALPHA:g} over {len(keys)} keys (Holm)\n")
    results = []
    for n, (prompt, text, truth) in enumerate(items, 1):
        ids = tok.encode(text)  # the text as a stranger would see it
        att = telltale.attribute(detectors, ids)
        who = att.attributed(alpha=ALPHA)
        tenant = TENANTS[who] if who is not None else None
        best = att.per_key[att.best]
        log10_p = float(att.decision_log10_p)
        if tenant is not None:
            verdict = f"WATERMARKED, tenant {tenant}"
        else:
            verdict = "no watermark"
        ok = tenant == truth
        head = f"[{n}] {verdict}  log10 p = {log10_p:.1f}  " \
               f"(green {int(best.score)}/{best.scored} scored, expected {best.expected:.0f})"
        truth_s = f"truth: {'watermarked by ' + truth if truth else 'unwatermarked'}"
        if colour:
            head = (BOLD if tenant else DIM) + head + RESET + "  " + ("" if ok else RED + "WRONG " + RESET) + truth_s
        else:
            head = head + "  " + ("" if ok else "WRONG ") + truth_s
        print(head)
        shown = render(tok, ids, text, best.token_mask if tenant is not None else None, colour)
        print(f"    {DIM if colour else ''}{prompt}{RESET if colour else ''} ... {shown}\n")
        results.append({"prompt": prompt, "text": text, "truth": truth, "attributed": tenant,
                        "log10_p": log10_p, "green": int(best.score), "scored": int(best.scored),
                        "correct": ok})
    n_ok = sum(r["correct"] for r in results)
    print(f"{n_ok}/{len(results)} verdicts correct; generation {gen_s:.1f} s, total {time.time() - t0:.1f} s")
    if args.json:
        sys.path.insert(0, HERE)
        from eval.fileio import write_atomic
        write_atomic(args.json, json.dumps({"scheme": SCHEME, "alpha": ALPHA, "tokens": args.tokens,
                                            "results": results}, indent=1) + "\n")
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-tenant", type=int, default=2, help="watermarked completions per tenant (2)")
    ap.add_argument("--plain", type=int, default=2, help="unwatermarked completions (2)")
    ap.add_argument("--tokens", type=int, default=120, help="tokens per completion (120)")
    ap.add_argument("--seed", type=int, default=7, help="sampling seed (the key is always fresh)")
    ap.add_argument("--colour", "--color", choices=("auto", "always", "never"), default="auto")
    ap.add_argument("--json", metavar="FILE", help="also write the verdicts as JSON")
    args = ap.parse_args(argv)
    if args.per_tenant < 1 or args.plain < 0 or args.tokens < 16:
        ap.error("need --per-tenant >= 1, --plain >= 0, --tokens >= 16")
    try:
        import telltale  # noqa: F401
    except ImportError as e:
        print(f"demo: cannot import telltale ({e}); build it with -DTELLTALE_BUILD_PYTHON=ON "
              "and set PYTHONPATH=<build>/python", file=sys.stderr)
        return 2
    results = run(args)
    return 0 if all(r["correct"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
