"""HTML to paragraphs for Sphinx (linux-doc, python docs) and Publican
(debian-handbook) output.

A regex tag scanner is used instead of html.parser: it is several times
faster on the ~180 MB of documentation HTML and these generators emit
well-formed markup. Text is collected between block-level tags; `<pre>`
content is kept verbatim as code; navigation, sidebars, scripts and
permalink anchors are skipped with depth counting so nested divs are
handled.
"""
from __future__ import annotations

import html
import re
from typing import Iterator

from . import textutil

_TOKEN = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|[^<]+|<", re.S)
_BLOCK = frozenset("p div li dd dt h1 h2 h3 h4 h5 h6 td th tr table blockquote ul ol dl section "
                   "article header footer title br hr figcaption caption tbody thead".split())
_SKIP_TAGS = frozenset("script style nav head noscript svg button select form".split())
_SKIP_CLASS = re.compile(r'class="[^"]*\b(?:sphinxsidebar|related|footer|headerlink|toc|navheader|'
                         r'navfooter|docnav|breadcrumb|highlight-none\s+notranslate-skip|indexterm|'
                         r'rst-versions|wy-nav-side|wy-breadcrumbs|searchbox|copyright|legalnotice)\b')
_VOID = frozenset("br hr img meta link input area base col embed source track wbr".split())


def blocks(markup: str) -> Iterator[tuple]:
    """Yields ("text", paragraph) and ("code", preformatted block)."""
    buf: list = []
    skip_tag = None
    skip_depth = 0
    pre_depth = 0
    pre_buf: list = []
    for m in _TOKEN.finditer(markup):
        tok = m.group(0)
        name = m.group(2)
        if name is None:
            if tok.startswith("<!--"):
                continue
            if skip_tag is None:
                (pre_buf if pre_depth else buf).append(tok)
            continue
        name = name.lower()
        closing = m.group(1) == "/"
        attrs = m.group(3) or ""
        self_closing = attrs.endswith("/") or name in _VOID
        if skip_tag is not None:
            if name == skip_tag and not self_closing:
                skip_depth += -1 if closing else 1
                if skip_depth == 0:
                    skip_tag = None
            continue
        if not closing and not self_closing and (name in _SKIP_TAGS or _SKIP_CLASS.search(attrs)):
            skip_tag, skip_depth = name, 1
            continue
        if name == "pre":
            if not closing:
                if pre_depth == 0:
                    yield from _flush(buf)
                pre_depth += 1
            elif pre_depth:
                pre_depth -= 1
                if pre_depth == 0:
                    code = html.unescape("".join(pre_buf)).strip("\n")
                    pre_buf = []
                    if code.strip():
                        yield ("code", code)
            continue
        if pre_depth:
            continue
        if name in _BLOCK:
            yield from _flush(buf)
    yield from _flush(buf)


def _flush(buf: list) -> Iterator[tuple]:
    if buf:
        text = textutil.clean_inline(html.unescape("".join(buf)).replace("\u00b6", ""))
        buf.clear()
        if text:
            yield ("text", text)


def main_region(markup: str) -> str:
    """The part of a page holding the document body, when it can be found."""
    m = re.search(r'<div[^>]*role="main"[^>]*>', markup)
    if m:
        return markup[m.end():]
    m = re.search(r"<body\b[^>]*>", markup)
    return markup[m.end():] if m else markup


def file_blocks(path: str) -> list:
    with open(path, "rb") as f:
        raw = f.read()
    return list(blocks(main_region(raw.decode("utf-8", errors="replace"))))
