"""Reader for SWORD zText Bible modules (ot.* / nt.* triples).

Format (SWORD's zVerse driver): `.bzs` holds one 12-byte little-endian
record per compressed block (offset, compressed size, uncompressed size) into
`.bzz`, whose blocks are zlib streams (CompressType=ZIP). `.bzv` holds one
10-byte record per verse slot in versification order (block number uint32,
offset inside the uncompressed block uint32, size uint16). Slots for module,
testament, book and chapter headings are mostly empty or carry only markup,
which is what lets chapters be recovered as paragraphs without a
versification table.
"""
from __future__ import annotations

import html
import os
import re
import struct
import zlib
from typing import Iterator

_NOTE = re.compile(r"<note\b[^>]*>.*?</note>|<title\b[^>]*>.*?</title>", re.S)
_TAG = re.compile(r"<[^>]*>")
_WS = re.compile(r"\s+")
# OSIS paragraph markers: the WEB marks them with milestones, the KJV with pilcrows.
_PARA_MARK = re.compile(r'<div\b[^>]*\bsID="[^"]*"[^>]*type="(?:x-p|paragraph)"|<div\b[^>]*type="(?:x-p|paragraph)"[^>]*\bsID=|\u00b6')


class SwordError(ValueError):
    pass


def _verses(moddir: str, testament: str) -> Iterator[str]:
    base = os.path.join(moddir, testament)
    if not os.path.exists(base + ".bzs"):
        return
    with open(base + ".bzs", "rb") as f:
        bzs = f.read()
    with open(base + ".bzz", "rb") as f:
        bzz = f.read()
    with open(base + ".bzv", "rb") as f:
        bzv = f.read()
    if len(bzs) % 12 or len(bzv) % 10:
        raise SwordError(f"{base}: index sizes {len(bzs)}/{len(bzv)} are not multiples of 12/10")
    cached_block = -1
    raw = b""
    for i in range(0, len(bzv), 10):
        block, start, size = struct.unpack_from("<IIH", bzv, i)
        if size == 0:
            yield ""
            continue
        if block != cached_block:
            if 12 * block + 12 > len(bzs):
                raise SwordError(f"{base}.bzv: verse {i // 10} names block {block}, file has {len(bzs) // 12}")
            off, csize, usize = struct.unpack_from("<III", bzs, 12 * block)
            try:
                raw = zlib.decompress(bzz[off:off + csize])
            except zlib.error as e:
                raise SwordError(f"{base}.bzz: block {block}: {e}") from e
            if len(raw) != usize:
                raise SwordError(f"{base}.bzz: block {block} is {len(raw)} bytes, index says {usize}")
            cached_block = block
        yield raw[start:start + size].decode("utf-8", errors="replace")


def paragraphs(moddir: str, max_words: int = 220) -> Iterator[str]:
    """Yields paragraphs: OSIS paragraph marks and chapter breaks split them,
    and runs longer than `max_words` are split at verse boundaries so that no
    paragraph is a whole long chapter."""
    cur: list = []
    words = 0
    for testament in ("ot", "nt"):
        for verse in _verses(moddir, testament):
            marked = bool(_PARA_MARK.search(verse))
            text = _TAG.sub("", _NOTE.sub(" ", verse))
            text = _WS.sub(" ", html.unescape(text)).replace("\u00b6", "").strip()
            if (not text or marked) and cur:
                yield " ".join(cur)
                cur, words = [], 0
            if text:
                cur.append(text)
                words += text.count(" ") + 1
                if words >= max_words:
                    yield " ".join(cur)
                    cur, words = [], 0
        if cur:
            yield " ".join(cur)
            cur, words = [], 0
