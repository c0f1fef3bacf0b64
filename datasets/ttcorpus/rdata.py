"""Reader for R's lazy-load databases (.rdb/.rdx) and serialized objects.

R is not installed on the build machines, so the janeaustenr novels are read
directly. Format facts (R Internals, "Serialization Formats" and
"Lazy loading"):
  * .rdx is one serialized object, either gzip-wrapped (saveRDS) or a 4-byte
    big-endian length followed by a zlib stream; it is a list with
    `variables` (name -> c(offset, length) into the .rdb) and `compressed`.
  * each .rdb record is a 4-byte big-endian uncompressed length, then for
    compression type 1 a zlib stream; for types 2/3 a one-byte tag
    ('Z' zlib, '2' bzip2, 'X' xz, '0' stored) precedes the payload.
  * a serialized object starts "X\\n" (XDR, big-endian), then version,
    writer and min-reader versions (and for version 3 the native encoding),
    then items whose 32-bit flags word carries the SEXP type in the low byte,
    is-object bit 8, has-attributes bit 9, has-tag bit 10 and levels >> 12.
Only the subset of SEXP types that data objects use is decoded; closures,
environments and the like are walked so the stream stays in sync, and
byte-code (which data never contains) is rejected with a clear error.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any


class RDataError(ValueError):
    """The bytes are not a serialization this reader understands."""


@dataclass
class RObject:
    """An R value: `sexptype`, its payload `value` and its attributes."""

    sexptype: int
    value: Any
    attributes: dict = field(default_factory=dict)


NA_STRING = None  # NA_character_ decodes to Python None.

_NILSXP, _SYMSXP, _LISTSXP, _CLOSXP, _ENVSXP, _PROMSXP, _LANGSXP = 0, 1, 2, 3, 4, 5, 6
_SPECIALSXP, _BUILTINSXP, _CHARSXP, _LGLSXP = 7, 8, 9, 10
_INTSXP, _REALSXP, _CPLXSXP, _STRSXP, _DOTSXP = 13, 14, 15, 16, 17
_VECSXP, _EXPRSXP, _BCODESXP, _EXTPTRSXP, _WEAKREFSXP, _RAWSXP, _S4SXP = 19, 20, 21, 22, 23, 24, 25
_REFSXP, _NILVALUE, _GLOBALENV, _UNBOUNDVALUE, _MISSINGARG = 255, 254, 253, 252, 251
_BASENAMESPACE, _NAMESPACESXP, _PACKAGESXP, _PERSISTSXP = 250, 249, 248, 247
_EMPTYENV, _BASEENV, _ATTRLANGSXP, _ATTRLISTSXP, _ALTREP = 242, 241, 240, 239, 238
_SPECIAL_MARKERS = {_GLOBALENV: "GlobalEnv", _UNBOUNDVALUE: "UnboundValue",
                    _MISSINGARG: "MissingArg", _BASENAMESPACE: "BaseNamespace",
                    _EMPTYENV: "EmptyEnv", _BASEENV: "BaseEnv"}


class _Reader:
    def __init__(self, data: bytes, where: str):
        self.data = data
        self.pos = 0
        self.where = where
        self.refs: list = []

    def fail(self, why: str) -> RDataError:
        return RDataError(f"{self.where}: byte {self.pos}: {why}")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"truncated: need {n} bytes, {len(self.data) - self.pos} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def length(self) -> int:
        n = self.int()
        if n == -1:  # long vector: two more words, upper then lower half
            hi, lo = struct.unpack(">II", self.take(8))
            n = (hi << 32) | lo
        if n < 0:
            raise self.fail(f"negative vector length {n}")
        return n

    def header(self) -> None:
        magic = self.take(2)
        if magic != b"X\n":
            raise self.fail(f"unsupported serialization format {magic!r} (only XDR 'X' is read)")
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader R version
        if version == 3:
            self.take(self.int())  # native encoding name
        elif version != 2:
            raise self.fail(f"unsupported serialization version {version}")

    def string_vec(self) -> list:
        if self.int() != 0:
            raise self.fail("string vector without leading zero")
        return [self.item() for _ in range(self.length())]

    def attrs_of(self, pairlist: Any) -> dict:
        out = {}
        node = pairlist
        while isinstance(node, RObject) and node.sexptype in (_LISTSXP, _ATTRLISTSXP):
            car, cdr, tag = node.value
            out[tag if isinstance(tag, str) else str(tag)] = car
            node = cdr
        return out

    def item(self) -> Any:
        flags = self.int()
        t = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        levels = flags >> 12
        if t == _NILVALUE or t == _NILSXP:
            return None
        if t in _SPECIAL_MARKERS:
            return RObject(t, _SPECIAL_MARKERS[t])
        if t == _REFSXP:
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            if not 1 <= idx <= len(self.refs):
                raise self.fail(f"reference {idx} out of range ({len(self.refs)} known)")
            return self.refs[idx - 1]
        if t == _PERSISTSXP:
            obj = RObject(t, self.string_vec())
            self.refs.append(obj)
            return obj
        if t == _SYMSXP:
            name = self.item()
            sym = name if isinstance(name, str) else str(name)
            self.refs.append(sym)
            return sym
        if t in (_PACKAGESXP, _NAMESPACESXP):
            obj = RObject(t, self.string_vec())
            self.refs.append(obj)
            return obj
        if t == _ENVSXP:
            self.int()  # locked flag
            env = RObject(t, {})
            self.refs.append(env)
            enclos, frame, hashtab, attrib = self.item(), self.item(), self.item(), self.item()
            env.value = {"enclos": enclos, "frame": frame, "hashtab": hashtab}
            env.attributes = self.attrs_of(attrib)
            return env
        if t in (_LISTSXP, _LANGSXP, _CLOSXP, _PROMSXP, _DOTSXP, _ATTRLANGSXP, _ATTRLISTSXP):
            return self.pairlist(flags)
        if t == _EXTPTRSXP:
            obj = RObject(t, None)
            self.refs.append(obj)
            obj.value = (self.item(), self.item())
        elif t == _WEAKREFSXP:
            obj = RObject(t, None)
            self.refs.append(obj)
        elif t in (_SPECIALSXP, _BUILTINSXP):
            obj = RObject(t, self.take(self.int()).decode("latin-1"))
        elif t == _CHARSXP:
            n = self.int()
            if n == -1:
                return NA_STRING
            raw = self.take(n)
            # levels bit 3 = UTF-8, bit 2 = latin-1, bit 6 = ASCII; native is UTF-8 here.
            return raw.decode("latin-1") if levels & 4 else raw.decode("utf-8", errors="replace")
        elif t in (_LGLSXP, _INTSXP):
            n = self.length()
            vals = list(struct.unpack(f">{n}i", self.take(4 * n)))
            obj = RObject(t, [None if v == -2147483648 else v for v in vals])
        elif t == _REALSXP:
            n = self.length()
            obj = RObject(t, list(struct.unpack(f">{n}d", self.take(8 * n))))
        elif t == _CPLXSXP:
            n = self.length()
            flat = struct.unpack(f">{2 * n}d", self.take(16 * n))
            obj = RObject(t, [complex(flat[i], flat[i + 1]) for i in range(0, 2 * n, 2)])
        elif t == _STRSXP:
            obj = RObject(t, [self.item() for _ in range(self.length())])
        elif t in (_VECSXP, _EXPRSXP):
            obj = RObject(t, [self.item() for _ in range(self.length())])
        elif t == _RAWSXP:
            obj = RObject(t, self.take(self.length()))
        elif t == _S4SXP:
            obj = RObject(t, None)
        elif t == _ALTREP:
            info, state, attrib = self.item(), self.item(), self.item()
            obj = _expand_altrep(info, state, self)
            obj.attributes = self.attrs_of(attrib)
            return obj
        elif t == _BCODESXP:
            raise self.fail("byte-code objects are not supported (data objects never contain them)")
        else:
            raise self.fail(f"unknown SEXP type {t}")
        if has_attr:
            obj.attributes = self.attrs_of(self.item())
        return obj

    def pairlist(self, flags: int) -> RObject:
        # Pairlists are read iteratively: data frames' attribute lists are
        # short, but a long call chain must not exhaust Python's stack.
        head = None
        prev = None
        while True:
            t = flags & 0xFF
            has_attr = bool(flags & (1 << 9)) or t in (_ATTRLANGSXP, _ATTRLISTSXP)
            has_tag = bool(flags & (1 << 10))
            attrib = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            node = RObject(t, [car, None, tag])
            if attrib is not None:
                node.attributes = self.attrs_of(attrib)
            if prev is None:
                head = node
            else:
                prev.value[1] = node
            prev = node
            # Peek at the cdr: continue the loop for a plain pairlist cell.
            nflags = self.int()
            nt = nflags & 0xFF
            if t in (_LISTSXP, _ATTRLISTSXP) and nt in (_LISTSXP, _ATTRLISTSXP):
                flags = nflags
                continue
            self.pos -= 4
            prev.value[1] = self.item()
            return head


def _expand_altrep(info: Any, state: Any, rd: _Reader) -> RObject:
    cls = None
    if isinstance(info, RObject) and info.sexptype == _LISTSXP:
        cls = info.value[0]
    if cls in ("compact_intseq", "compact_realseq") and isinstance(state, RObject):
        n, start, step = state.value[:3]
        n = int(n)
        seq = [start + i * step for i in range(n)]
        return RObject(_INTSXP if cls == "compact_intseq" else _REALSXP,
                       [int(v) for v in seq] if cls == "compact_intseq" else seq)
    if isinstance(cls, str) and cls.startswith("wrap_") and isinstance(state, RObject):
        inner = state.value[0]
        return inner if isinstance(inner, RObject) else RObject(_VECSXP, inner)
    if cls == "deferred_string" and isinstance(state, RObject):
        arg = state.value[0] if state.sexptype == _LISTSXP else state
        if isinstance(arg, RObject):
            return RObject(_STRSXP, [None if v is None else (str(int(v)) if float(v).is_integer() else repr(v))
                                     for v in arg.value])
    raise rd.fail(f"unsupported ALTREP class {cls!r}")


def unserialize(data: bytes, where: str = "<bytes>") -> Any:
    """Decodes one serialized R object (XDR format, versions 2 and 3)."""
    rd = _Reader(data, where)
    rd.header()
    return rd.item()


def _decompress_rds(blob: bytes, where: str) -> bytes:
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:3] == b"BZh":
        return bz2.decompress(blob)
    if blob[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(blob)
    if blob[:2] == b"X\n":
        return blob
    return _decompress_record(blob, 1, where)


def _decompress_record(rec: bytes, ctype: int, where: str) -> bytes:
    if len(rec) < 4:
        raise RDataError(f"{where}: record shorter than its 4-byte length header")
    want = struct.unpack(">I", rec[:4])[0]
    body = rec[4:]
    try:
        if ctype in (2, 3):
            tag, body = body[:1], body[1:]
            if tag == b"Z":
                out = zlib.decompress(body)
            elif tag == b"2":
                out = bz2.decompress(body)
            elif tag == b"X":
                out = lzma.decompress(body)
            elif tag == b"0":
                out = body
            else:
                raise RDataError(f"{where}: unknown compression tag {tag!r}")
        else:
            out = zlib.decompress(body)
    except (zlib.error, OSError, lzma.LZMAError) as e:
        raise RDataError(f"{where}: cannot decompress record: {e}") from e
    if len(out) != want:
        raise RDataError(f"{where}: record decompressed to {len(out)} bytes, header says {want}")
    return out


def _named_list(obj: Any) -> dict:
    if not isinstance(obj, RObject) or obj.sexptype != _VECSXP:
        raise RDataError("expected a named list")
    names = obj.attributes.get("names")
    if not isinstance(names, RObject):
        raise RDataError("list has no names attribute")
    return dict(zip(names.value, obj.value))


def read_lazyload_db(rdb_path: str, rdx_path: str) -> dict:
    """Returns {variable name: decoded R object} for a .rdb/.rdx pair."""
    with open(rdx_path, "rb") as f:
        index = _named_list(unserialize(_decompress_rds(f.read(), rdx_path), rdx_path))
    variables = _named_list(index["variables"])
    comp = index.get("compressed")
    ctype = 1
    if isinstance(comp, RObject) and comp.value:
        v = comp.value[0]
        ctype = int(v) if not isinstance(v, bool) else 1
    with open(rdb_path, "rb") as f:
        rdb = f.read()
    out = {}
    for name, loc in variables.items():
        off, ln = (int(x) for x in loc.value[:2])
        if off < 0 or off + ln > len(rdb):
            raise RDataError(f"{rdb_path}: variable {name!r} at {off}+{ln} lies outside the file")
        where = f"{rdb_path}[{name}]"
        out[name] = unserialize(_decompress_record(rdb[off:off + ln], ctype, where), where)
    return out
