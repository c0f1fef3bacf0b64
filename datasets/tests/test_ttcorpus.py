"""Fast tests of the corpus readers on synthetic inputs and on the frozen
sample; they never touch apt."""
import gzip
import hashlib
import json
import os
import struct
import sys
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from ttcorpus import build, dictd, fortunes, htmltext, mixed, rdata, sword, textutil, troff  # noqa: E402

SAMPLE = os.path.join(os.path.dirname(HERE), "sample")


# --- R serialization -------------------------------------------------------

def _xdr_int(v):
    return struct.pack(">i", v)


def _charsxp(s):
    b = s.encode()
    return _xdr_int(9 | (8 << 12)) + _xdr_int(len(b)) + b


def _strsxp(items, names_attr=None):
    out = _xdr_int(16 | ((1 << 9) if names_attr else 0)) + _xdr_int(len(items))
    for s in items:
        out += _xdr_int(9) + _xdr_int(-1) if s is None else _charsxp(s)
    return out


def _named(tag_items, vec_type, payloads):
    """VECSXP/INTSXP with a names attribute pairlist."""
    body = _xdr_int(vec_type | (1 << 9)) + _xdr_int(len(payloads)) + b"".join(payloads)
    names = _strsxp(tag_items)
    # attribute pairlist: LISTSXP with tag "names"
    attr = _xdr_int(2 | (1 << 10)) + _xdr_int(1) + _charsxp("names") + names + _xdr_int(254)
    return body + attr


def _header(version=3):
    h = b"X\n" + _xdr_int(version) + _xdr_int(0x040200) + _xdr_int(0x030500)
    if version == 3:
        h += _xdr_int(5) + b"UTF-8"
    return h


def _intsxp(vals):
    return _xdr_int(13) + _xdr_int(len(vals)) + b"".join(_xdr_int(v) for v in vals)


def test_unserialize_character_vector_with_na_and_utf8():
    obj = rdata.unserialize(_header(2) + _strsxp(["It is a truth", None, "naïve"]))
    assert obj.sexptype == 16
    assert obj.value == ["It is a truth", None, "naïve"]


def test_lazyload_db_roundtrip(tmp_path):
    novels = {"emma": ["EMMA", "", "Emma Woodhouse, handsome,"], "persuasion": ["Persuasion"]}
    rdb = b""
    locs = {}
    for name, lines in novels.items():
        ser = _header() + _strsxp(lines)
        rec = struct.pack(">I", len(ser)) + zlib.compress(ser)
        locs[name] = (len(rdb), len(rec))
        rdb += rec
    variables = _named(list(locs), 19, [_intsxp(list(v)) for v in locs.values()])
    compressed = _xdr_int(10) + _xdr_int(1) + _xdr_int(1)
    index = _named(["variables", "references", "compressed"], 19,
                   [variables, _xdr_int(19) + _xdr_int(0), compressed])
    (tmp_path / "Rdata.rdb").write_bytes(rdb)
    (tmp_path / "Rdata.rdx").write_bytes(gzip.compress(_header() + index))
    db = rdata.read_lazyload_db(str(tmp_path / "Rdata.rdb"), str(tmp_path / "Rdata.rdx"))
    assert {k: v.value for k, v in db.items()} == novels


def test_truncated_serialization_names_position():
    with pytest.raises(rdata.RDataError, match="truncated"):
        rdata.unserialize(_header(2) + _xdr_int(16) + _xdr_int(3) + _charsxp("only one"))


def test_unknown_format_rejected():
    with pytest.raises(rdata.RDataError, match="only XDR"):
        rdata.unserialize(b"A\n1\n")


# --- SWORD zText -----------------------------------------------------------

def test_sword_module_paragraphs(tmp_path):
    verses = ["", '<chapter osisID="Gen.1" sID="Gen.1"/>',
              '<div sID="p1" type="x-p"/>In the <w lemma="x">beginning</w> God created.<note>a note</note>',
              "And the earth was void.", '<div sID="p2" type="x-p"/>And God said, Let there be light.']
    blocks = [verses[:3], verses[3:]]
    bzs = bzv = bzz = b""
    for bi, blk in enumerate(blocks):
        raw = b""
        for v in blk:
            b = v.encode()
            bzv += struct.pack("<IIH", bi, len(raw), len(b))
            raw += b
        comp = zlib.compress(raw)
        bzs += struct.pack("<III", len(bzz), len(comp), len(raw))
        bzz += comp
    for ext, data in ((".bzs", bzs), (".bzv", bzv), (".bzz", bzz)):
        (tmp_path / ("ot" + ext)).write_bytes(data)
    paras = list(sword.paragraphs(str(tmp_path)))
    assert paras == ["In the beginning God created. And the earth was void.",
                     "And God said, Let there be light."]


def test_sword_bad_index_size(tmp_path):
    for ext, data in ((".bzs", b"\0" * 11), (".bzv", b""), (".bzz", b"")):
        (tmp_path / ("ot" + ext)).write_bytes(data)
    with pytest.raises(sword.SwordError, match="multiples"):
        list(sword.paragraphs(str(tmp_path)))


# --- fortunes, dictd, troff, HTML --------------------------------------------

def test_fortune_entries_and_cjk_join(tmp_path):
    p = tmp_path / "f"
    p.write_text("First line\n  wrapped here.\n%\n\x1b[32m《静夜思》\x1b[m\n床前明月光，\n疑是地上霜。\n%\n")
    assert list(fortunes.paragraphs(str(p))) == ["First line wrapped here.", "《静夜思》 床前明月光， 疑是地上霜。"]
    assert list(fortunes.paragraphs(str(p), cjk=True))[1] == "《静夜思》床前明月光，疑是地上霜。"


def test_dictd_reader(tmp_path):
    body = b"Calf \\Calf\\, n.\n\n   1. The young of the cow. [1913 Webster]\n   More text here.\n"
    (tmp_path / "d.dict.dz").write_bytes(gzip.compress(b"junk" + body))
    b64 = lambda n: "".join(dictd._B64[(n >> s) & 63] for s in (12, 6, 0)).lstrip("A") or "A"  # noqa: E731
    (tmp_path / "d.index").write_text(f"calf\t{b64(4)}\t{b64(len(body))}\n")
    paras = list(dictd.paragraphs(str(tmp_path / "d.index"), str(tmp_path / "d.dict.dz")))
    assert paras == ["Calf \\Calf\\, n.", "1. The young of the cow. More text here."]
    (tmp_path / "d.index").write_text("calf\tA!\tB\n")
    with pytest.raises(dictd.DictdError, match="bad base64"):
        list(dictd.paragraphs(str(tmp_path / "d.index"), str(tmp_path / "d.dict.dz")))


def test_troff_paragraphs(tmp_path):
    src = ('.TH LS 1\n.SH 名称\nls \\- 列出目录内容\n.SH 描述\n列出\n文件的信息。\\" comment\n'
           '.B \\-a\n不忽略以 \\fB.\\fP 开头的项\n')
    p = tmp_path / "ls.1.gz"
    p.write_bytes(gzip.compress(src.encode()))
    assert list(troff.paragraphs(str(p))) == ["名称", "ls - 列出目录内容", "描述",
                                              "列出文件的信息。 -a 不忽略以 . 开头的项"]


def test_html_blocks_skip_navigation_and_keep_code():
    page = ('<div class="sphinxsidebar"><div><p>Navigation</p></div></div>'
            '<div role="main"><h1>Title<a class="headerlink" href="#">¶</a></h1>'
            '<p>Some &amp; <em>text</em>\n across lines.</p><script>var x;</script>'
            '<pre><span>&gt;&gt;&gt; x = 1\n</span>\n&gt;&gt;&gt; y</pre><div class="para">Last</div></div>')
    blocks = list(htmltext.blocks(htmltext.main_region(page)))
    assert blocks == [("text", "Title"), ("text", "Some & text across lines."),
                      ("code", ">>> x = 1\n\n>>> y"), ("text", "Last")]


# --- text utilities, windows, mixed ------------------------------------------

def test_count_tokens():
    assert textutil.count_tokens("Hello,  world!") == 2
    assert textutil.count_tokens("床前明月光 ok") == 6
    assert textutil.count_tokens("") == 0


def test_dedup_key_ignores_case_space_punctuation():
    assert textutil.dedup_key("Hello, World!") == textutil.dedup_key("hello world")
    assert textutil.dedup_key("Hello World") != textutil.dedup_key("Hello Word")


def _sample(name):
    with open(os.path.join(SAMPLE, name), encoding="utf-8") as f:
        return f.read()


def test_windows_on_sample_have_200_tokens():
    paras = _sample("english.txt").rstrip("\n").split("\n\n")
    wins = list(build.make_windows(paras))
    assert len(wins) > 500
    for text, n in wins:
        assert n >= build.WINDOW_TOKENS
        assert n == textutil.count_tokens(text)


def test_mixed_is_deterministic_and_splits_on_blank_lines():
    pools = {"zh": ["中文段落。"], "ru": ["Русский текст."], "de": ["Grüße aus Köln."],
             "es": ["¿Qué tal?"], "it": ["Perché no?"], "en": ["Plain English."],
             "code": ["def f(x):\n\n    return x\n"]}
    a = mixed.generate(pools, 20000, 3)
    assert a == mixed.generate(pools, 20000, 3)
    assert a != mixed.generate(pools, 20000, 4)
    paras = a.rstrip("\n").split("\n\n")
    assert all(p and p == p.strip() for p in paras)
    assert len(a.encode()) >= 20000


def test_sample_matches_its_manifest_and_sizes():
    with open(os.path.join(SAMPLE, "manifest.json")) as f:
        man = json.load(f)
    for name, meta in man["files"].items():
        with open(os.path.join(SAMPLE, name), "rb") as f:
            data = f.read()
        assert len(data) == meta["bytes"]
        assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    assert 0.9e6 <= man["files"]["english.txt"]["bytes"] <= 1.2e6
    assert 0.45e6 <= man["files"]["chinese.txt"]["bytes"] <= 0.6e6
    zh = _sample("chinese.txt")
    assert textutil.han_ratio(zh) > 0.5


def test_sample_mixed_covers_every_required_script():
    text = _sample("mixed.txt")
    checks = {"han": "[\u4e00-\u9fff]", "cyrillic": "[\u0400-\u04ff]", "german": "[äöüß]",
              "spanish": "[ñ¿¡]", "emoji_zwj": "\u200d", "flag": "[\U0001F1E6-\U0001F1FF]{2}",
              "long_spaces": "[ \t\u00a0\u3000\u2003]{100,}", "long_digits": "[0-9]{200,}",
              "code": r"(?:struct|return|#include|\{$)"}
    import re
    for name, pat in checks.items():
        assert re.search(pat, text, re.M), name
