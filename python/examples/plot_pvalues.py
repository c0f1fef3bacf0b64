#!/usr/bin/env python3
"""Plots detection p-value against text length, watermarked vs unwatermarked.

A stand-in LM with fixed random weights (Zipf-like next-token logits with
about 3.5 bits of entropy) generates N sequences with the kgw watermark and N
without. For every prefix length the script scores the prefix with
telltale.Detector and plots the median and inter-quartile band of -log10 p.
The PNG is written atomically (temporary file, then rename).

Usage:
  PYTHONPATH=build-py/python /usr/bin/python3 python/examples/plot_pvalues.py -o pvalues.png
"""

import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import telltale  # noqa: E402

VOCAB = 4096


def make_lm(seed):
    """Next-token logits as a function of the previous token: a random
    permutation of a Zipf profile per context, so entropy is ~3.5 bits."""
    rng = np.random.default_rng(seed)
    profile = (-1.1 * np.log(np.arange(1, VOCAB + 1))).astype(np.float32)
    perms = [rng.permutation(VOCAB) for _ in range(64)]

    def logits(prev):
        out = np.empty(VOCAB, np.float32)
        out[perms[prev % 64]] = profile
        return out

    return logits


def generate(lm, wm, length, rng):
    ids = [int(rng.integers(VOCAB))]
    for _ in range(length):
        logits = lm(ids[-1])
        if wm is not None:
            wm.apply(ids, logits)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(VOCAB, p=p / p.sum())))
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default="pvalues.png")
    ap.add_argument("--scheme", default="kgw:gamma=0.25,delta=2,h=1")
    ap.add_argument("-n", "--sequences", type=int, default=20)
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    key = telltale.Key.generate()
    wm = telltale.Watermarker(key, args.scheme, vocab_size=VOCAB)
    det = telltale.Detector(key, args.scheme)
    lm = make_lm(args.seed)
    lengths = np.unique(np.linspace(5, args.length, 40).astype(int))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, marker, color in (("watermarked", wm, "tab:red"), ("unwatermarked", None, "tab:blue")):
        curves = []
        for _ in range(args.sequences):
            ids = generate(lm, marker, args.length, rng)
            # prefix i covers the prompt token plus i generated tokens
            scores = det.score_batch([ids[: n + 1] for n in lengths], prompt_tokens=1, per_token=False)
            curves.append([-r.log10_p for r in scores])
        c = np.array(curves)
        q25, q50, q75 = np.percentile(c, [25, 50, 75], axis=0)
        ax.plot(lengths, q50, color=color, label=f"{label} (median of {args.sequences})")
        ax.fill_between(lengths, q25, q75, color=color, alpha=0.2)
    ax.axhline(6, color="gray", linestyle="--", linewidth=1, label="p = 1e-6")
    ax.set_xlabel("generated tokens")
    ax.set_ylabel("-log10 p-value")
    ax.set_title(f"telltale detection: {telltale.Scheme(args.scheme)}")
    ax.legend(loc="upper left")
    fig.tight_layout()
    out_dir = os.path.dirname(os.path.abspath(args.output))
    fd, tmp = tempfile.mkstemp(prefix=".plot_pvalues.", suffix=".png", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=120)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.output)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
