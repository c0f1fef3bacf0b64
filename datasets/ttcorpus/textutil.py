"""Paragraph cleaning, language tests, dedup keys and token counting.

Token counting (used for the >= 200-token false-positive windows) is
tokenizer-free on purpose, so that windows do not change when a tokenizer
does: every CJK ideograph, kana or Hangul syllable counts as one token, and
every maximal run of other non-space characters counts as one token. For
English this is the whitespace word count; the reference LM's SentencePiece
tokenizer always yields at least as many tokens as words (~1.3x), so a window
of >= 200 counted tokens is >= 200 reference-tokenizer tokens as well.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

_CJK_RANGES = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
               "\U00020000-\U0002fa1f")
_TOKEN = re.compile(f"[{_CJK_RANGES}]|[^\\s{_CJK_RANGES}]+")
_CJK = re.compile(f"[{_CJK_RANGES}]")
# Joining wrapped lines also treats CJK punctuation and full-width forms as CJK.
_CJK_JOIN = re.compile(f"[{_CJK_RANGES}\u3000-\u303f\uff00-\uffef]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_WS = re.compile(r"\s+")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def count_tokens(text: str) -> int:
    return sum(1 for _ in _TOKEN.finditer(text))


def han_ratio(text: str) -> float:
    s = _WS.sub("", text)
    return len(_HAN.findall(s)) / len(s) if s else 0.0


def latin_ratio(text: str) -> float:
    s = _WS.sub("", text)
    return len(_LATIN_LETTER.findall(s)) / len(s) if s else 0.0


def cyrillic_ratio(text: str) -> float:
    s = _WS.sub("", text)
    return len(_CYRILLIC.findall(s)) / len(s) if s else 0.0


def clean_inline(text: str) -> str:
    """One paragraph on one line: NFC, no ANSI colour codes or control
    characters, whitespace runs collapsed to one space."""
    text = _ANSI.sub("", text)
    text = _CTRL.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", text).strip()


def join_cjk_lines(lines: list) -> str:
    """Joins wrapped lines: no space between two CJK characters (Chinese
    wraps mid-sentence without spaces), one space otherwise."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and not (_CJK_JOIN.match(out[-1]) and _CJK_JOIN.match(line[0])):
            out += " "
        out += line
    return out


def dedup_key(text: str) -> bytes:
    """Paragraphs equal up to case, whitespace and punctuation are duplicates
    (fortunes-min repeats fortunes; docs repeat boilerplate)."""
    norm = "".join(ch for ch in text.casefold() if ch.isalnum())
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest()


def is_english_prose(text: str, min_words: int = 8) -> bool:
    words = text.split()
    if len(words) < min_words:
        return False
    if latin_ratio(text) < 0.6:
        return False
    # Reject code-like lines: many symbols per word.
    symbols = sum(1 for ch in text if ch in "{}[]<>=;_|\\/$#@*`")
    return symbols <= len(words) * 0.15


def is_chinese(text: str, min_chars: int = 12, min_ratio: float = 0.3) -> bool:
    s = _WS.sub("", text)
    return len(s) >= min_chars and han_ratio(text) >= min_ratio
