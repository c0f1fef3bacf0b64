"""man(7)/troff source to paragraphs, for the Chinese manual pages.

Request lines (starting with '.' or "'") either break paragraphs (.SH .SS
.PP .TP ...) or carry inline text (.B .I .BR ...); escapes are removed or
mapped. Wrapped CJK lines are joined without spaces.
"""
from __future__ import annotations

import gzip
import re
import shlex
from typing import Iterator

from . import textutil

_BREAK = frozenset("SH SS PP P LP TP IP HP TH sp br RS RE nf fi bp ne in ti TQ SY YS EX EE UR UE MT ME".split())
_INLINE = frozenset("B I R SM SB BI BR IB IR RB RI".split())
_NAMED = {"em": "\u2014", "en": "\u2013", "bu": "\u2022", "lq": "\u201c", "rq": "\u201d", "aq": "'",
          "dq": '"', "hy": "-", "mi": "-", "co": "\u00a9", "rg": "\u00ae", "tm": "\u2122",
          "oq": "\u2018", "cq": "\u2019", "ga": "`", "aa": "\u00b4", "ti": "~", "ha": "^", "rs": "\\",
          "pl": "+", "mu": "\u00d7", "di": "\u00f7", "+-": "\u00b1", "<=": "\u2264", ">=": "\u2265",
          "->": "\u2192", "<-": "\u2190", "de": "\u00b0"}
_ESC = re.compile(r"\\(?:f(?:\[[^\]]*\]|\(..|.)|\((..)|\[([^\]]*)\]|s[+-]?\d+|\*(?:\(..|\[[^\]]*\]|.)|"
                  r"n(?:\(..|\[[^\]]*\]|.)|[-e&c|^ 0~%:/,dut'`\"]|.)")


def _unescape(line: str) -> str:
    cut = line.find('\\"')
    if cut >= 0:
        line = line[:cut]

    def sub(m: re.Match) -> str:
        tok = m.group(0)
        name = m.group(1) or m.group(2)
        if name is not None:
            return _NAMED.get(name, "")
        if tok in ("\\-", "\\~", "\\ ", "\\0"):
            return "-" if tok == "\\-" else " "
        if tok == "\\e":
            return "\\"
        if tok in ("\\'", "\\`"):
            return tok[1]
        return ""

    return _ESC.sub(sub, line)


def paragraphs(path: str) -> Iterator[str]:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    lines: list = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            req = parts[0] if parts else ""
            if req in _INLINE and len(parts) > 1:
                try:
                    args = shlex.split(parts[1], posix=True)
                except ValueError:
                    args = parts[1].split()
                lines.append(_unescape(("" if req.startswith(("B", "I", "R")) and len(req) > 1 else " ")
                                       .join(args)))
                continue
            if req in _BREAK or not req or req.startswith("\\"):
                para = textutil.clean_inline(textutil.join_cjk_lines(lines))
                lines = []
                if para:
                    yield para
                arg = _unescape(parts[1]).strip().strip('"') if len(parts) > 1 else ""
                if req in ("SH", "SS") and arg:
                    yield textutil.clean_inline(arg)  # headings are paragraphs of their own
                elif req == "IP" and arg:
                    lines.append(arg.split('"')[0] if arg.startswith('"') else arg.split()[0])
            continue
        lines.append(_unescape(line))
    para = textutil.clean_inline(textutil.join_cjk_lines(lines))
    if para:
        yield para
