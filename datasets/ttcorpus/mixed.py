"""Deterministic mixed-script stress text for tokenizer conformance tests.

Paragraphs interleave Chinese, Russian, German, Spanish, Italian and English
prose with code, emoji (including ZWJ sequences, skin tones, flags and
keycaps), long whitespace runs and long digit runs. Paragraphs are separated
by exactly one empty line; an empty line inside a code block is replaced by a
line of spaces so the separator stays unambiguous (and the whitespace run is
itself a useful case).
"""
from __future__ import annotations

import random

EMOJI = [
    "\U0001F600", "\U0001F602", "\U0001F914", "\U0001F680", "\U0001F30D", "\u2764\ufe0f", "\U0001F44D",
    "\U0001F44D\U0001F3FD", "\U0001F469\u200d\U0001F4BB", "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466",
    "\U0001F3F3\ufe0f\u200d\U0001F308", "\U0001F1E9\U0001F1EA", "\U0001F1E8\U0001F1F3", "\U0001F1F7\U0001F1FA",
    "\U0001F1EE\U0001F1F9", "\U0001F1EA\U0001F1F8", "1\ufe0f\u20e3", "#\ufe0f\u20e3", "\U0001F9D1\U0001F3FF\u200d\U0001F680",
    "\u263a", "\u2603\ufe0f", "\U0001F4A9", "\U0001F525", "\U0001F9EA", "\U0001FAE0", "\U0001F47B", "\u2728",
]
WHITESPACE_UNITS = [" ", "\t", "\u00a0", "\u3000", "\u2003", " \t"]
DIGITS = ["0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",
          "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"]


def _emoji_run(rng: random.Random) -> str:
    return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 24)))


def _whitespace_run(rng: random.Random) -> str:
    unit = rng.choice(WHITESPACE_UNITS)
    n = rng.choice([rng.randint(2, 16), rng.randint(16, 128), rng.randint(128, 600)])
    return unit * (n // len(unit) or 1)


def _digit_run(rng: random.Random) -> str:
    alphabet = DIGITS[0] if rng.random() < 0.8 else rng.choice(DIGITS[1:])
    n = rng.choice([rng.randint(8, 40), rng.randint(40, 300), rng.randint(300, 1500)])
    return "".join(rng.choice(alphabet) for _ in range(n))


def _code(block: str) -> str:
    return "\n".join(line if line.strip() else "    " for line in block.rstrip("\n").split("\n"))


def generate(pools: dict, target_bytes: int, seed: int) -> str:
    """pools: {"zh"|"ru"|"de"|"es"|"it"|"en"|"code": [paragraphs]}; empty
    pools are skipped. Returns text of at least target_bytes UTF-8 bytes."""
    rng = random.Random(seed)
    kinds = [k for k in ("zh", "ru", "de", "es", "it", "en", "code") if pools.get(k)]
    if not kinds:
        raise ValueError("mixed corpus: every text pool is empty")
    weights = {"zh": 4, "ru": 3, "de": 3, "es": 3, "it": 3, "en": 2, "code": 3}
    specials = [("emoji", 3), ("space", 2), ("digits", 2)]
    choices = [k for k in kinds for _ in range(weights[k])] + [s for s, w in specials for _ in range(w)]
    paras = []
    size = 0
    while size < target_bytes:
        segs = []
        for _ in range(rng.randint(2, 7)):
            kind = rng.choice(choices)
            if kind == "emoji":
                seg = _emoji_run(rng)
            elif kind == "space":
                seg = _whitespace_run(rng)
            elif kind == "digits":
                seg = _digit_run(rng)
            elif kind == "code":
                seg = _code(rng.choice(pools["code"]))
            else:
                seg = rng.choice(pools[kind])
                if len(seg) > 600:
                    start = rng.randrange(0, len(seg) - 400)
                    seg = seg[start:start + rng.randint(200, 400)]
            segs.append(seg)
        out = segs[0]
        for seg in segs[1:]:
            out += rng.choice([" ", " ", "", "\n", "\t", "  ", "\u3000"]) + seg
        # A paragraph never starts or ends with whitespace and never holds an
        # empty line, so "\n\n" splits the file back into exactly these.
        lines = [ln if ln.strip() or i in (0,) else " " for i, ln in enumerate(out.split("\n"))]
        out = "\n".join(lines).strip()
        if not out:
            continue
        paras.append(out)
        size += len(out.encode("utf-8")) + 2
    return "\n\n".join(paras) + "\n"
