"""Reader for fortune(6) databases: entries separated by lines holding '%'.

The `.dat` files are strfile indexes and `.u8` files are symlinks to the text,
so only plain files with neither suffix are read. Files are UTF-8 in Debian
12; a file that is not is decoded as latin-1 rather than dropped.
"""
from __future__ import annotations

import os
from typing import Iterator

from . import textutil


def files(root: str) -> list:
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        # Offensive fortunes ("off/") are excluded from every corpus.
        dirs[:] = [x for x in dirs if x != "off"]
        for n in sorted(names):
            p = os.path.join(d, n)
            if n.endswith((".dat", ".u8")) or os.path.islink(p) or not os.path.isfile(p):
                continue
            out.append(p)
    return out


def entries(path: str) -> Iterator[str]:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    cur: list = []
    for line in text.split("\n"):
        if line.strip() == "%":
            if cur:
                yield "\n".join(cur).strip("\n")
            cur = []
        else:
            cur.append(line.rstrip())
    if any(x.strip() for x in cur):
        yield "\n".join(cur).strip("\n")


def paragraphs(path: str, cjk: bool = False) -> Iterator[str]:
    """One paragraph per fortune, its wrapped lines joined."""
    for e in entries(path):
        lines = [textutil.clean_inline(x) for x in e.split("\n")]
        text = textutil.join_cjk_lines(lines) if cjk else " ".join(x for x in lines if x)
        text = textutil.clean_inline(text)
        if text:
            yield text
