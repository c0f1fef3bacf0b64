"""Builds the human corpora from Debian packages. See docs/datasets.md.

Pipeline: resolve candidate versions with apt-cache -> `apt-get download`
into <cache>/debs (sha256-checked against apt's index) -> `dpkg-deb -x` into
<cache>/unpacked -> per-source paragraph extraction -> dedup -> outputs and
manifest. The build key hashes the package versions and this package's
source, so a rebuild with unchanged inputs only re-checks the outputs.
"""
from __future__ import annotations

import glob
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Iterator

from . import dictd, fortunes, htmltext, mixed, rdata, sword, textutil, troff, wordnet

FORMAT = "telltale-corpora-v1"
WINDOW_TOKENS = 200
MIXED_BYTES = 4_400_000
MIXED_SEED = 20261122

# Licence summaries, checked by hand against each package's copyright file
# (whose License: fields and sha256 are recorded in the manifest as well).
PACKAGES = {
    "r-cran-janeaustenr": "novels: public domain; R package: MIT",
    "sword-text-kjv": "public domain (module packaging GPL-2+)",
    "sword-text-web": "public domain (module packaging GPL-2+)",
    "fortunes": "BSD-4-clause-UC (fortune-mod); texts: quotations, various",
    "fortunes-min": "BSD-4-clause-UC (fortune-mod); texts: quotations, various",
    "dict-gcide": "GPL-2+ (GNU Collaborative International Dictionary of English)",
    "wordnet-base": "WordNet 3.0 licence (BSD-like)",
    "linux-doc-6.1": "GPL-2",
    "python3.11-doc": "PSF-2.0",
    "debian-handbook": "GPL-2+ or CC-BY-SA-3.0",
    "manpages-zh": "GFDL-1.2+ (translations); individual pages vary",
    "fortunes-zh": "GPL-3+ (classical poems themselves are public domain)",
    "fortunes-de": "GPL-2+",
    "fortunes-ru": "GPL-2+",
    "fortunes-es": "GPL-2+",
    "fortunes-it": "GPL-2+ (fortune-it); quotations various",
}

LANG_FILES = {"en": "english.txt", "zh": "chinese.txt", "de": "german.txt", "ru": "russian.txt",
              "es": "spanish.txt", "it": "italian.txt"}


class BuildError(RuntimeError):
    pass


def _log(msg: str) -> None:
    print(f"build_corpora: {msg}", file=sys.stderr, flush=True)


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: str, data: bytes) -> None:
    d = os.path.dirname(path) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def code_hash() -> str:
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for p in sorted(glob.glob(os.path.join(here, "*.py"))):
        h.update(os.path.basename(p).encode() + b"\0")
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def apt_candidates(names: list) -> dict:
    """{name: {"version", "filename", "sha256", "size"}} from apt's index."""
    try:
        out = subprocess.run(["apt-cache", "show", "--no-all-versions"] + names, check=True,
                             capture_output=True, text=True).stdout
    except FileNotFoundError as e:
        raise BuildError("apt-cache not found: the corpora are built from Debian packages") from e
    except subprocess.CalledProcessError as e:
        raise BuildError(f"apt-cache show failed ({e.stderr.strip()}); run `apt-get update` first") from e
    info = {}
    for stanza in out.strip().split("\n\n"):
        fields = {}
        for line in stanza.split("\n"):
            if line and not line.startswith(" ") and ":" in line:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        if fields.get("Package") in names and fields["Package"] not in info:
            info[fields["Package"]] = {"version": fields["Version"],
                                       # apt-get download names files name_version_arch.deb with the
                                       # epoch colon escaped, unlike the pool Filename.
                                       "filename": "{}_{}_{}.deb".format(fields["Package"],
                                                   fields["Version"].replace(":", "%3a"),
                                                   fields.get("Architecture", "all")),
                                       "sha256": fields.get("SHA256", ""), "size": int(fields.get("Size", 0))}
    missing = [n for n in names if n not in info]
    if missing:
        raise BuildError(f"apt does not know {', '.join(missing)}; run `apt-get update` (Debian 12 main)")
    return info


def fetch(names: list, info: dict, cache: str) -> dict:
    """Downloads missing .debs, verifies them, unpacks each once. Returns
    {name: unpacked root}."""
    debs = os.path.join(cache, "debs")
    unpacked = os.path.join(cache, "unpacked")
    os.makedirs(debs, exist_ok=True)
    os.makedirs(unpacked, exist_ok=True)
    want = [n for n in names if not os.path.exists(os.path.join(debs, info[n]["filename"]))]
    if want:
        _log(f"apt-get download {' '.join(want)}")
        r = subprocess.run(["apt-get", "download", "-q"] + [f"{n}={info[n]['version']}" for n in want],
                           cwd=debs, capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(f"apt-get download failed: {r.stderr.strip().splitlines()[-1:]}")
    roots = {}
    for n in names:
        deb = os.path.join(debs, info[n]["filename"])
        if not os.path.exists(deb):
            raise BuildError(f"{deb}: missing after apt-get download")
        digest = _sha256_file(deb)
        if info[n]["sha256"] and digest != info[n]["sha256"]:
            os.unlink(deb)
            raise BuildError(f"{deb}: sha256 {digest} does not match apt's {info[n]['sha256']}; deleted, rerun")
        info[n]["deb_sha256"] = digest
        info[n]["deb_bytes"] = os.path.getsize(deb)
        root = os.path.join(unpacked, info[n]["filename"][:-4])
        if not os.path.exists(os.path.join(root, ".telltale-unpacked")):
            tmp = tempfile.mkdtemp(prefix=".tmp-", dir=unpacked)
            subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
            with open(os.path.join(tmp, ".telltale-unpacked"), "w") as f:
                f.write(digest + "\n")
            if os.path.exists(root):
                shutil.rmtree(root)
            os.replace(tmp, root)
        roots[n] = root
    return roots


def copyright_info(root: str, name: str) -> dict:
    path = os.path.join(root, "usr/share/doc", name, "copyright")
    if not os.path.exists(path):
        return {"summary": PACKAGES[name], "copyright_file": None}
    with open(path, "rb") as f:
        raw = f.read()
    fields = sorted({ln.split(":", 1)[1].strip() for ln in raw.decode("utf-8", "replace").split("\n")
                     if ln.startswith("License:") and ln.split(":", 1)[1].strip()
                     and len(ln) < 80})
    return {"summary": PACKAGES[name], "license_fields": fields,
            "copyright_file": f"/usr/share/doc/{name}/copyright",
            "copyright_sha256": hashlib.sha256(raw).hexdigest()}


# ----------------------------------------------------------------------------
# Sources: (name, package, lang, extractor(root) -> iterator of paragraphs)

def _austen(root: str) -> Iterator[str]:
    d = os.path.join(root, "usr/lib/R/site-library/janeaustenr/data")
    db = rdata.read_lazyload_db(os.path.join(d, "Rdata.rdb"), os.path.join(d, "Rdata.rdx"))
    for book in sorted(db):
        lines = db[book].value
        cur: list = []
        for line in lines + [""]:
            if line:
                cur.append(line.strip())
            elif cur:
                yield textutil.clean_inline(" ".join(cur))
                cur = []


def _sword(module: str) -> Callable:
    def run(root: str) -> Iterator[str]:
        return sword.paragraphs(os.path.join(root, "usr/share/sword/modules/texts/ztext", module))
    return run


def _fortune_dir(sub: str, cjk: bool = False) -> Callable:
    def run(root: str) -> Iterator[str]:
        base = os.path.join(root, "usr/share/games/fortunes", sub)
        for path in fortunes.files(base):
            if sub == "" and os.path.dirname(path) != base.rstrip("/"):
                continue  # a language subdirectory of another package
            yield from fortunes.paragraphs(path, cjk=cjk)
    return run


def _gcide(root: str) -> Iterator[str]:
    d = os.path.join(root, "usr/share/dictd")
    return dictd.paragraphs(os.path.join(d, "gcide.index"), os.path.join(d, "gcide.dict.dz"))


def _wordnet(root: str) -> Iterator[str]:
    return wordnet.glosses(os.path.join(root, "usr/share/wordnet"))


def _manpages_zh(root: str) -> Iterator[str]:
    for sub in ("zh_CN", "zh_TW"):
        for path in sorted(glob.glob(os.path.join(root, "usr/share/man", sub, "man*", "*.gz"))):
            if not os.path.islink(path):
                yield from troff.paragraphs(path)


def _html_files(base: str, include: str = "", exclude: tuple = ()) -> list:
    out = []
    for d, dirs, names in os.walk(os.path.join(base, include)):
        dirs.sort()
        rel = os.path.relpath(d, base)
        dirs[:] = [x for x in dirs if not x.startswith("_") and os.path.join(rel, x).lstrip("./") not in exclude]
        for n in sorted(names):
            if n.endswith(".html") and n not in ("genindex.html", "search.html", "py-modindex.html") \
                    and not n.startswith("genindex-") and not os.path.islink(os.path.join(d, n)):
                out.append(os.path.join(d, n))
    return out


class HtmlSource:
    """HTML sources are parsed in a worker pool; the other sources are cheap."""

    def __init__(self, sub: str, include: str = "", exclude: tuple = ()):
        self.sub, self.include, self.exclude = sub, include, exclude

    def files(self, root: str) -> list:
        return _html_files(os.path.join(root, self.sub), self.include, self.exclude)


LINUX_HTML = "usr/share/doc/linux-doc-6.1/html"
PY_HTML = "usr/share/doc/python3.11/html"
HB_HTML = "usr/share/doc/debian-handbook/html"

SOURCES = [
    ("austen", "r-cran-janeaustenr", "en", _austen),
    ("kjv", "sword-text-kjv", "en", _sword("engKJV2006eb")),
    ("web", "sword-text-web", "en", _sword("engWEB2015eb")),
    ("fortunes", "fortunes", "en", _fortune_dir("")),
    ("fortunes-min", "fortunes-min", "en", _fortune_dir("")),
    ("gcide", "dict-gcide", "en", _gcide),
    ("wordnet", "wordnet-base", "en", _wordnet),
    ("handbook-en", "debian-handbook", "en", HtmlSource(HB_HTML, "en-US")),
    ("python-doc", "python3.11-doc", "en", HtmlSource(PY_HTML)),
    ("linux-doc", "linux-doc-6.1", "en", HtmlSource(LINUX_HTML, "", ("translations",))),
    ("fortunes-zh", "fortunes-zh", "zh", _fortune_dir("", cjk=True)),
    ("manpages-zh", "manpages-zh", "zh", _manpages_zh),
    ("linux-doc-zh_CN", "linux-doc-6.1", "zh", HtmlSource(LINUX_HTML, "translations/zh_CN")),
    ("linux-doc-zh_TW", "linux-doc-6.1", "zh", HtmlSource(LINUX_HTML, "translations/zh_TW")),
    ("handbook-zh-CN", "debian-handbook", "zh", HtmlSource(HB_HTML, "zh-CN")),
    ("handbook-zh-TW", "debian-handbook", "zh", HtmlSource(HB_HTML, "zh-TW")),
    ("fortunes-de", "fortunes-de", "de", _fortune_dir("de")),
    ("handbook-de", "debian-handbook", "de", HtmlSource(HB_HTML, "de-DE")),
    ("fortunes-ru", "fortunes-ru", "ru", _fortune_dir("ru")),
    ("handbook-ru", "debian-handbook", "ru", HtmlSource(HB_HTML, "ru-RU")),
    ("fortunes-es", "fortunes-es", "es", _fortune_dir("es")),
    ("handbook-es", "debian-handbook", "es", HtmlSource(HB_HTML, "es-ES")),
    ("fortunes-it", "fortunes-it", "it", _fortune_dir("it")),
    ("linux-doc-it_IT", "linux-doc-6.1", "it", HtmlSource(LINUX_HTML, "translations/it_IT")),
    ("handbook-it", "debian-handbook", "it", HtmlSource(HB_HTML, "it-IT")),
]

# Sources whose paragraphs are too short to be prose on their own; they are
# used only through the >= 200-token windows (and the mixed pools).
WINDOW_ONLY = {"wordnet"}


def keep(lang: str, text: str) -> bool:
    if lang == "en":
        return textutil.is_english_prose(text)
    if lang == "zh":
        return textutil.is_chinese(text)
    words = text.split()
    if len(words) < 4:
        return False
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 0.6 * len(text.replace(" ", ""))


def make_windows(paragraphs: list, min_tokens: int = WINDOW_TOKENS) -> Iterator[tuple]:
    """Consecutive paragraphs joined (by blank lines) until the window holds
    >= min_tokens tokens (textutil.count_tokens). A trailing short rest is
    dropped. Yields (text, n_tokens)."""
    cur: list = []
    n = 0
    for p in paragraphs:
        cur.append(p)
        n += textutil.count_tokens(p)
        if n >= min_tokens:
            yield "\n\n".join(cur), n
            cur, n = [], 0


def _parse_html(path: str) -> list:
    try:
        return htmltext.file_blocks(path)
    except OSError as e:
        raise BuildError(f"{path}: {e}") from e


def extract_all(roots: dict, jobs: int) -> tuple:
    """Returns ({source: [paragraphs]}, {source: [code blocks]})."""
    paras: dict = {}
    code: dict = {}
    html_jobs = []
    for name, pkg, _lang, ex in SOURCES:
        if isinstance(ex, HtmlSource):
            html_jobs.append((name, ex.files(roots[pkg])))
    flat = [(name, f) for name, files in html_jobs for f in files]
    results: dict = {}
    if flat:
        with multiprocessing.Pool(jobs) as pool:
            for (name, _f), blocks in zip(flat, pool.imap(_parse_html, [f for _n, f in flat], chunksize=8)):
                r = results.setdefault(name, ([], []))
                for kind, text in blocks:
                    (r[0] if kind == "text" else r[1]).append(text)
    for name, pkg, _lang, ex in SOURCES:
        t0 = time.time()
        if isinstance(ex, HtmlSource):
            paras[name], code[name] = results.get(name, ([], []))
        else:
            paras[name] = list(ex(roots[pkg]))
            code[name] = []
        _log(f"{name}: {len(paras[name])} raw paragraphs ({time.time() - t0:.1f}s)")
    return paras, code


def build(out_dir: str, cache: str, jobs: int = 2, force: bool = False) -> dict:
    t_start = time.time()
    names = sorted(PACKAGES)
    info = apt_candidates(names)
    key_src = json.dumps({"format": FORMAT, "code": code_hash(),
                          "packages": {n: info[n]["version"] for n in names}}, sort_keys=True)
    build_key = hashlib.sha256(key_src.encode()).hexdigest()
    manifest_path = os.path.join(out_dir, "manifest.json")
    if not force and os.path.exists(manifest_path):
        try:
            with open(manifest_path) as f:
                old = json.load(f)
            if old.get("build_key") == build_key and all(
                    os.path.exists(os.path.join(out_dir, p)) and os.path.getsize(os.path.join(out_dir, p)) == o["bytes"]
                    for p, o in old["outputs"].items()):
                _log(f"up to date ({out_dir}, key {build_key[:12]})")
                return old
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable manifest: rebuild
    roots = fetch(names, info, cache)
    paras, code = extract_all(roots, jobs)

    seen: set = set()
    kept: dict = {}
    stats: dict = {}
    for name, pkg, lang, _ex in SOURCES:
        out = []
        for p in paras[name]:
            if not keep(lang, p):
                continue
            k = textutil.dedup_key(p)
            if k in seen:
                continue
            seen.add(k)
            out.append(p)
        kept[name] = out
        stats[name] = {"package": pkg, "lang": lang, "raw_paragraphs": len(paras[name]),
                       "paragraphs": len(out), "bytes": sum(len(p.encode()) + 2 for p in out),
                       "in_lang_file": name not in WINDOW_ONLY}

    outputs: dict = {}

    def emit(rel: str, data: bytes, **extra) -> None:
        write_atomic(os.path.join(out_dir, rel), data)
        outputs[rel] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), **extra}

    for name, _pkg, lang, _ex in SOURCES:
        emit(f"sources/{name}.txt", ("\n\n".join(kept[name]) + "\n").encode(), paragraphs=len(kept[name]))
    for lang, fname in LANG_FILES.items():
        ps = [p for name, _pkg, l, _ex in SOURCES if l == lang and name not in WINDOW_ONLY for p in kept[name]]
        emit(fname, ("\n\n".join(ps) + "\n").encode(), paragraphs=len(ps), lang=lang)

    windows = []
    for name, _pkg, lang, _ex in SOURCES:
        for i, (text, n) in enumerate(make_windows(kept[name])):
            windows.append(json.dumps({"id": f"{name}/{i}", "source": name, "lang": lang,
                                       "n_tokens": n, "text": text}, ensure_ascii=False))
    emit("human_windows.jsonl", ("\n".join(windows) + "\n").encode(), windows=len(windows),
         min_tokens=WINDOW_TOKENS, token_count="textutil.count_tokens: CJK char = 1 token, other non-space run = 1 token")

    pools = {lang: [p for name, _pkg, l, _ex in SOURCES if l == lang for p in kept[name]]
             for lang in ("zh", "ru", "de", "es", "it")}
    pools["en"] = kept["austen"] + kept["handbook-en"]
    pools["code"] = [c for name in ("python-doc", "linux-doc") for c in code[name]
                     if 20 <= len(c) <= 1500][:20000]
    emit("code_blocks.jsonl", "".join(
        json.dumps({"source": name, "code": c}, ensure_ascii=False) + "\n"
        for name in ("python-doc", "linux-doc") for c in code[name] if 20 <= len(c) <= 1500).encode())
    emit("mixed.txt", mixed.generate(pools, MIXED_BYTES, MIXED_SEED).encode(), seed=MIXED_SEED)

    syn = wordnet.synonyms(os.path.join(roots["wordnet-base"], "usr/share/wordnet"))
    emit("wordnet_synonyms.json", json.dumps(syn, ensure_ascii=False, separators=(",", ":")).encode(),
         words=len(syn))

    manifest = {
        "format": FORMAT,
        "build_key": build_key,
        "code_sha256": code_hash(),
        "built_with": f"python {sys.version.split()[0]}",
        "build_seconds": round(time.time() - t_start, 1),
        "packages": {n: {"version": info[n]["version"], "deb": info[n]["filename"],
                         "deb_sha256": info[n]["deb_sha256"], "deb_bytes": info[n]["deb_bytes"],
                         "license": copyright_info(roots[n], n)} for n in names},
        "sources": stats,
        "outputs": outputs,
    }
    emit_manifest = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    write_atomic(manifest_path, emit_manifest)
    _log(f"wrote {out_dir} in {manifest['build_seconds']}s: "
         + ", ".join(f"{k} {v['bytes'] / 1e6:.1f} MB" for k, v in outputs.items() if "/" not in k))
    return manifest
