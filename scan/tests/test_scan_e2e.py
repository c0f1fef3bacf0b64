"""End to end: `telltale scan` on text written by the reference LM under two
tenant keys, mixed with human text (corpus built once and cached by
scan_corpus.py), re-tokenized by the C++ tokenizer from the LM's GGUF export.

Checks (issue 4, "Must show"):
  - 2,000 documents: every watermarked document of >= 200 tokens is attributed
    to the right tenant; the false-positive rate on the human documents at
    --alpha 0.001 stays within its binomial bound; the corpus test detects.
  - short.jsonl (every watermarked document 20 tokens): corpus test p < 1e-12
    for both tenant keys.
  - homoglyph + zero-width attack on 30% of the words: p < 1e-6 for every
    200-token document with normalization on; with --normalize none the same
    test visibly fails (sanity check of the attack).
  - --threads 1 and 2 give byte-identical JSON.
  - the HTML report renders in headless Chromium (screenshot + DOM).
"""
import json
import math
import os
import shutil
import subprocess
import sys
import zlib
import struct

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scan_corpus  # noqa: E402

BIN = os.environ.get("TELLTALE_BIN")
ALPHA = 0.001


@pytest.fixture(scope="module")
def corpus():
    assert BIN and os.path.exists(BIN), "set TELLTALE_BIN to the telltale executable"
    return scan_corpus.ensure()


def scan(corpus, name, *extra):
    cmd = [BIN, "scan", os.path.join(corpus, name), "--tokenizer", os.path.join(corpus, "reflm.gguf"),
           "--scheme", scan_corpus.SCHEME, "--keys-dir", os.path.join(corpus, "keys"), "--no-progress",
           "--alpha", str(ALPHA)] + list(extra)
    return subprocess.run(cmd, capture_output=True)


def parse(r):
    recs = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert recs[0]["type"] == "begin" and recs[-1]["type"] == "summary"
    return [x["data"] for x in recs if x["type"] == "document"], recs[-1]["data"], recs[0]["data"]


def truth(corpus, name):
    with open(os.path.join(corpus, "truth.json")) as f:
        return json.load(f)[name]


def binom_upper_quantile(n, p, level):
    """Smallest k with P(Bin(n, p) > k) <= level."""
    cdf, k = 0.0, 0
    while True:
        cdf += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
        if 1 - cdf <= level:
            return k
        k += 1


def test_attribution_fpr_and_corpus(corpus):
    r = scan(corpus, "main.jsonl", "--json", "--threads", "2")
    assert r.returncode == 0, r.stderr
    docs, summary, begin = parse(r)
    t = truth(corpus, "main")
    assert len(docs) == len(t) == 2000
    assert summary["documents"] == 2000 and summary["failed"] == 0 and summary["skipped"] == 0
    names = {k["key_id"]: k["name"] for k in begin["keys"]}
    long_wm = [(d, x) for d, x in zip(docs, t) if x["tenant"] and d["tokens"] >= 200]
    assert len(long_wm) >= 100
    wrong = [(d["index"], d["decision_log10_p"], names.get(d.get("key_id")), x["tenant"])
             for d, x in long_wm if not d["detected"] or names[d["key_id"]] != x["tenant"]]
    assert not wrong, wrong
    human = [d for d, x in zip(docs, t) if x["tenant"] is None]
    fp = sum(d["detected"] for d in human)
    bound = binom_upper_quantile(len(human), ALPHA, 1e-3)
    print(f"human docs {len(human)}: {fp} false positives at alpha={ALPHA} (bound {bound})")
    assert fp <= bound
    assert summary["corpus"]["detected"] is True


def test_corpus_test_on_20_token_documents(corpus):
    r = scan(corpus, "short.jsonl", "--json")
    assert r.returncode == 0, r.stderr
    docs, summary, begin = parse(r)
    t = truth(corpus, "short")
    wm = [d for d, x in zip(docs, t) if x["tenant"]]
    assert len(wm) >= 300 and all(x["new_tokens"] == 20 for x in t if x["tenant"])
    keys = summary["corpus"]["keys"]
    print("corpus log10 p (Holm):", [k["log10_p_holm"] for k in keys],
          f"; single documents detected: {sum(d['detected'] for d in wm)}/{len(wm)}")
    for k in keys:  # both tenants wrote part of this corpus
        assert k["log10_p_holm"] < -12
    # The corpus test sees what single documents cannot.
    assert max(k["log10_p_holm"] for k in keys) < min(d["decision_log10_p"] for d in wm) - 6


def test_homoglyph_zero_width_attack(corpus):
    on, _, _ = parse(scan(corpus, "attacked.jsonl", "--json"))
    off, _, _ = parse(scan(corpus, "attacked.jsonl", "--json", "--normalize", "none"))
    t = truth(corpus, "attacked")
    with open(os.path.join(corpus, "attacked.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    assert any("\u200b" in x for x in texts) and any("\u0430" in x for x in texts)  # the attack is there
    long_on = [d for d in on if d["tokens"] >= 200]
    assert len(long_on) == len(t)
    weak = [(d["index"], d["decision_log10_p"]) for d in long_on if not d["decision_log10_p"] < -6]
    assert not weak, weak
    # Sanity check of the test itself: without normalization the attack bites.
    failing_off = sum(not d["decision_log10_p"] < -6 for d in off)
    med_on = sorted(d["decision_log10_p"] for d in on)[len(on) // 2]
    med_off = sorted(d["decision_log10_p"] for d in off)[len(off) // 2]
    print(f"attack: median log10 p {med_on:.1f} normalized vs {med_off:.1f} with --normalize none; "
          f"{failing_off}/{len(off)} docs above 1e-6 without normalization")
    assert failing_off >= len(off) // 20
    assert med_off > med_on / 2


def test_thread_count_invariance(corpus):
    a = scan(corpus, "main.jsonl", "--json", "--json-text", "--threads", "1")
    b = scan(corpus, "main.jsonl", "--json", "--json-text", "--threads", "2")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def test_html_report_renders_in_chromium(corpus, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (.ci/packages/scan.txt)"
    html = tmp_path / "report.html"
    r = scan(corpus, "main.jsonl", "--html", str(html), "--threads", "2")
    assert r.returncode == 0, r.stderr
    text = html.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "<script" not in text
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", html.as_uri()], capture_output=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    d = dom.stdout.decode()
    assert 'id="verdict"' in d and "WATERMARKED under" in d
    assert 'id="p-histogram"' in d and 'id="qq-plot"' in d
    assert d.count('class="bar"') == 20 and d.count('class="pt"') > 100
    assert d.count('class="g"') > 100  # green tokens of the top documents
    shot = tmp_path / "shot.png"
    s = subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1200,1000", html.as_uri()],
                       capture_output=True, timeout=120)
    assert s.returncode == 0 and shot.exists(), s.stderr[-2000:]
    w, h, bpp, rows = png_pixels(str(shot))
    assert (w, h) == (1200, 1000)
    colours = {rows[y][x * bpp:x * bpp + 3] for y in range(0, h, 4) for x in range(0, w, 4)}
    assert len(colours) > 20, "blank screenshot"
    # The verdict box (red tint) rendered near the top.
    red = sum(1 for y in range(0, 250, 2) for x in range(0, w, 4)
              if rows[y][x * bpp] > 240 and 200 < rows[y][x * bpp + 1] < 240 and rows[y][x * bpp + 2] < 240)
    assert red > 500, red
    # The plots: histogram bars (#4a6fa5 / #c0392b) and QQ points somewhere below.
    plot_px = sum(1 for y in range(0, h, 2) for x in range(0, w, 2)
                  if rows[y][x * bpp:x * bpp + 3] in (b"\x4a\x6f\xa5", b"\xc0\x39\x2b"))
    assert plot_px > 200, plot_px
