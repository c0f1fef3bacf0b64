"""The evaluation's text-level attacks (datasets/eval/attacks.py) on fixed
inputs: each edits what it says, at the fraction it says, and keeps the rest
of the text byte-identical. Pure Python; no model, corpora or telltale."""
import os
import random
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from eval import attacks  # noqa: E402

TEXT = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, must be "
        "in want of a wife.\n\nHowever little known the feelings or views of such a man may be on his first "
        "entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families.")
SYN = {"truth": {"n": ["verity", "accuracy"]}, "single": {"a": ["unmarried"], "n": ["one"]},
       "man": {"n": ["human"]}, "fortune": {"n": ["luck", "wealth"]}, "wife": {"n": ["spouse"]},
       "feelings": {"n": ["emotions"]}, "fixed": {"a": ["set"], "v": ["repaired"]},
       "minds": {"n": ["brains"]}, "families": {"n": ["households"]}, "good": {"a": ["beneficial"]}}


def _words(t):
    return re.findall(r"\S+", t)


def test_synonym_replaces_the_requested_fraction_with_listed_synonyms():
    out, content, k = attacks.synonym_substitute_text(TEXT, 0.3, SYN, random.Random(1))
    before, after = _words(TEXT), _words(out)
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    # Synonyms here are single words, so words stay aligned one to one.
    assert len(before) == len(after)
    assert k == len(changed) == round(0.3 * content)
    for a, b in changed:
        core = re.sub(r"[^A-Za-z]", "", a).lower()
        new = re.sub(r"[^A-Za-z]", "", b).lower()
        pool = {s for lst in SYN[core].values() for s in lst}
        assert new in pool, (a, b)
        assert a.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")[-1:] == \
            b.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")[-1:]  # punctuation kept
    assert re.sub(r"\S+", "w", out) == re.sub(r"\S+", "w", TEXT)  # whitespace untouched


def test_synonym_never_touches_stopwords_and_caps_at_replaceable_words():
    out, content, k = attacks.synonym_substitute_text(TEXT, 1.0, SYN, random.Random(2))
    for a, b in zip(_words(TEXT), _words(out)):
        if re.sub(r"[^A-Za-z]", "", a).lower() in attacks.STOPWORDS:
            assert a == b
    replaceable = sum(1 for w in _words(TEXT) if re.sub(r"[^A-Za-z]", "", w).lower() in SYN)
    assert k == replaceable < content


def test_homoglyph_zero_width_looks_the_same_after_normalization():
    out, n, k = attacks.homoglyph_zero_width_text(TEXT, 0.3, random.Random(3))
    assert n == len(_words(TEXT)) and k == round(0.3 * n)
    assert out != TEXT
    zw = sum(out.count(c) for c in attacks.ZERO_WIDTH)
    assert zw == k  # one invisible character per edited word
    back = {v: k_ for k_, v in attacks.HOMOGLYPHS.items()}
    restored = "".join(back.get(c, c) for c in out if c not in attacks.ZERO_WIDTH)
    assert restored == TEXT
    assert all(unicodedata.category(c) == "Cf" for c in attacks.ZERO_WIDTH)


def test_splice_inserts_at_a_word_boundary():
    rng = random.Random(4)
    for _ in range(20):
        out, at = attacks.splice_text("alpha beta gamma", "XX YY", rng)
        assert out[at:at + 5] == "XX YY"
        assert out.replace("XX YY", "").split() == ["alpha", "beta", "gamma"]


def test_token_attacks():
    rng = random.Random(5)
    ids = list(range(300, 500))
    sub = attacks.substitute_tokens(ids, 0.3, 4096, 259, rng)
    assert sum(a != b for a, b in zip(ids, sub)) <= 60 and all(259 <= t < 4096 for t in sub)
    assert attacks.truncate(ids, 0.75) == ids[:50]
