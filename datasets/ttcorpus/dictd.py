"""Reader for dictd databases (.index + .dict.dz).

`.dict.dz` is a dictzip file, i.e. a gzip stream with random-access extra
fields, so plain gzip decompresses all of it. Each `.index` line is
`headword TAB offset TAB length`, the numbers in dictd's base64 alphabet.
"""
from __future__ import annotations

import gzip
import re
from typing import Iterator

from . import textutil

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64V = {c: i for i, c in enumerate(_B64)}
# GCIDE marks each sense's source like "[1913 Webster]" or "[Webster 1913 Suppl.]".
_SOURCE = re.compile(r"\[(?:[^\]]*(?:Webster|WordNet|PJC|Century|Chambers)[^\]]*)\]")


class DictdError(ValueError):
    pass


def _b64(s: str, where: str) -> int:
    v = 0
    for c in s:
        if c not in _B64V:
            raise DictdError(f"{where}: bad base64 digit {c!r} in {s!r}")
        v = v * 64 + _B64V[c]
    return v


def entries(index_path: str, dict_path: str) -> Iterator[tuple]:
    with gzip.open(dict_path, "rb") as f:
        data = f.read()
    seen = set()
    with open(index_path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                raise DictdError(f"{index_path}:{lineno}: expected 3 tab-separated fields")
            head = parts[0]
            off = _b64(parts[1], f"{index_path}:{lineno}")
            ln = _b64(parts[2], f"{index_path}:{lineno}")
            if head.startswith("00-database") or (off, ln) in seen:
                continue
            seen.add((off, ln))
            if off + ln > len(data):
                raise DictdError(f"{index_path}:{lineno}: entry {head!r} runs past the end of {dict_path}")
            yield head, data[off:off + ln].decode("utf-8", errors="replace")


def paragraphs(index_path: str, dict_path: str) -> Iterator[str]:
    """Definition paragraphs: blocks between blank lines, the headword
    pronunciation line dropped, source tags removed."""
    for _head, body in entries(index_path, dict_path):
        block: list = []
        for line in body.split("\n") + [""]:
            if line.strip():
                block.append(line.strip())
                continue
            if block:
                text = textutil.clean_inline(_SOURCE.sub("", " ".join(block)))
                block = []
                if text:
                    yield text
