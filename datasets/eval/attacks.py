"""Robustness attacks on generated token ids (full mode). Each takes the
generated ids and a seeded random.Random and returns the attacked ids that
a detector would see; text-level attacks decode, edit and re-tokenize with
the model's tokenizer (what a stranger holding only the text would do).

Text-level edits keep the text's whitespace: words are the maximal runs of
non-space characters (`_WORD`), and only their inside is changed."""
from __future__ import annotations

import random
import re

_WORD = re.compile(r"\S+")
# A word's alphabetic core, with any leading/trailing punctuation kept apart.
_CORE = re.compile(r"^([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)$")

# Function words are not "content words": replacing them is not a synonym
# attack (WordNet lists e.g. "a" as a noun meaning adenine or ampere).
STOPWORDS = frozenset("""
a an the and or but nor so yet for of to in on at by with from into onto upon over under about above below
after before since until while as than then though although because if unless whether which who whom whose
what when where why how that this these those there here it its he him his she her hers they them their theirs
we us our ours you your yours i me my mine is am are was were be been being do does did done doing have has had
having shall should will would may might must can could not no nay yea all any both each few more most other
some such only own same too very just also again ever even still thus unto thee thou thy thine ye hath doth
said one two three out up down off away
""".split())

# Latin letters and Cyrillic/Greek look-alikes (each pair renders identically
# in common fonts; Unicode confusables data maps the right side back).
HOMOGLYPHS = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": "\u043e", "p": "\u0440",
              "x": "\u0445", "y": "\u0443", "s": "\u0455", "j": "\u0458", "A": "\u0410", "B": "\u0412",
              "C": "\u0421", "E": "\u0415", "H": "\u041d", "K": "\u041a", "M": "\u041c", "O": "\u041e",
              "P": "\u0420", "T": "\u0422", "X": "\u0425", "Y": "\u03a5"}
# Zero-width space, non-joiner, joiner and word joiner: all
# Default_Ignorable_Code_Point, invisible when rendered.
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")


def substitute_tokens(ids: list, fraction: float, vocab_size: int, first_normal_id: int,
                      rng: random.Random) -> list:
    """Replaces round(fraction * len) positions, chosen uniformly without
    replacement, by uniform random non-special ids."""
    out = list(ids)
    k = int(round(fraction * len(out)))
    for i in rng.sample(range(len(out)), k):
        out[i] = rng.randrange(first_normal_id, vocab_size)
    return out


def delete_words(tok, ids: list, fraction: float, rng: random.Random) -> list:
    """Deletes round(fraction * words) whitespace-separated words of the
    decoded text and re-tokenizes."""
    words = tok.decode(ids).split()
    k = int(round(fraction * len(words)))
    drop = set(rng.sample(range(len(words)), k))
    return tok.encode(" ".join(w for i, w in enumerate(words) if i not in drop))


def truncate(ids: list, fraction: float) -> list:
    """Keeps the first (1 - fraction) of the tokens."""
    return list(ids[:max(1, int(round(len(ids) * (1.0 - fraction))))])


def _edit_words(text: str, edit) -> str:
    """Rebuilds `text` with edit(index, word) applied to every word (None
    keeps it), leaving all whitespace as it was."""
    out, last = [], 0
    for i, m in enumerate(_WORD.finditer(text)):
        out.append(text[last:m.start()])
        new = edit(i, m.group())
        out.append(m.group() if new is None else new)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def synonym_substitute_text(text: str, fraction: float, synonyms: dict, rng: random.Random) -> tuple:
    """Replaces round(fraction * content words) content words by a WordNet
    synonym. A content word is an alphabetic word (punctuation around it
    kept) that is not a stopword; only those WordNet lists with a
    single-word synonym can be replaced, so when fewer are replaceable than
    the target, all replaceable ones are. The synonym is drawn uniformly
    from the union of the word's synsets over all parts of speech (the
    attack does not tag POS). Returns (text, content words, replaced)."""
    words = [m.group() for m in _WORD.finditer(text)]
    content, replaceable = [], []
    for i, w in enumerate(words):
        m = _CORE.match(w)
        if not m or m.group(2).lower() in STOPWORDS or len(m.group(2)) < 2:
            continue
        content.append(i)
        entry = synonyms.get(m.group(2).lower())
        if entry:
            replaceable.append(i)
    k = min(len(replaceable), int(round(fraction * len(content))))
    chosen = set(rng.sample(replaceable, k))

    def edit(i, w):
        if i not in chosen:
            return None
        pre, core, post = _CORE.match(w).groups()
        pool = sorted({s for lst in synonyms[core.lower()].values() for s in lst})
        return pre + _match_case(core, rng.choice(pool)) + post
    return _edit_words(text, edit), len(content), k


def homoglyph_zero_width_text(text: str, fraction: float, rng: random.Random) -> tuple:
    """Disguises round(fraction * words) words chosen uniformly: each gets
    one letter replaced by its Cyrillic/Greek homoglyph (a letter chosen
    uniformly among those HOMOGLYPHS covers) and one zero-width character
    inserted at a uniform interior position (appended when the word has one
    character). The text looks unchanged. Returns (text, words, edited)."""
    n = len(_WORD.findall(text))
    k = int(round(fraction * n))
    chosen = set(rng.sample(range(n), k))

    def edit(i, w):
        if i not in chosen:
            return None
        letters = [j for j, ch in enumerate(w) if ch in HOMOGLYPHS]
        if letters:
            j = rng.choice(letters)
            w = w[:j] + HOMOGLYPHS[w[j]] + w[j + 1:]
        pos = rng.randrange(1, len(w)) if len(w) > 1 else 1
        return w[:pos] + rng.choice(ZERO_WIDTH) + w[pos:]
    return _edit_words(text, edit), n, k


def splice_text(human: str, inserted: str, rng: random.Random) -> tuple:
    """Inserts `inserted` into `human` at a uniformly chosen word boundary
    (start and end included), separated by single spaces. Returns
    (text, character offset of the insertion)."""
    bounds = [0] + [m.end() for m in _WORD.finditer(human)]
    at = rng.choice(bounds)
    left, right = human[:at].rstrip(), human[at:].lstrip()
    parts = [p for p in (left, inserted.strip(), right) if p]
    return " ".join(parts), len(left) + (1 if left else 0)
