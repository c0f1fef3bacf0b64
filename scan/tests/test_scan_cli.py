"""`telltale scan` CLI behaviour that needs no language model: bad input
(error records, continuation, counts, exit 2), SIGINT (partial summary, exit
130), byte-identical JSON/CSV for any thread count, atomic output files.

Runs against $TELLTALE_BIN with the small byte-level tokenizer from
tokenize/testdata and two fixed keys."""
import gzip
import hashlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("TELLTALE_BIN", os.path.join(ROOT, "build", "cli", "telltale"))
TOKENIZER = os.path.join(ROOT, "tokenize", "testdata", "byte_level.json")
SCHEME = "kgw:gamma=0.25,delta=2,h=1"
WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards quietly hex "
         "jovial bankers at dawn and nobody minds").split()


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    out = []
    for name in ("acme", "globex"):
        # Fixed keys (SPEC 1.1 file format) rather than keygen: the texts are
        # fixed by their seeds, so every verdict below is a fixed outcome
        # instead of a fresh null draw. keygen has its own tests (tests/cli).
        path = d / f"{name}.key"
        path.write_text("telltale-key v1\nkind master\nkey " +
                        hashlib.sha256(f"telltale scan cli test {name}".encode()).hexdigest() + "\n")
        path.chmod(0o600)
        out.append(str(path))
    return out


def scan(args, keys, scheme=SCHEME, **kw):
    cmd = [BIN, "scan", "--tokenizer", TOKENIZER, "--scheme", scheme, "--no-progress"]
    for k in keys:
        cmd += ["--key", k]
    return subprocess.run(cmd + args, capture_output=True, **kw)


def records(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines()]


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    rng = random.Random(1)
    with open(d / "a_good.jsonl", "w") as f:
        for i in range(5):
            f.write(json.dumps({"text": text(rng, 40)}) + "\n")
    with open(d / "b_broken.jsonl", "w") as f:
        f.write(json.dumps({"text": text(rng, 30)}) + "\n")
        f.write('{"text": "unterminated\n')                       # line 2: broken JSON
        f.write(json.dumps({"body": "no text field"}) + "\n")      # line 3: missing field
        f.write(json.dumps({"text": text(rng, 30)}) + "\n")        # line 4: good again
    data = gzip.compress(("\n".join(json.dumps({"text": text(rng, 50)}) for _ in range(200)) + "\n").encode())
    with open(d / "c_truncated.jsonl.gz", "wb") as f:
        f.write(data[: len(data) // 2])
    with open(d / "d_junk.jsonl", "wb") as f:
        f.write(bytes(random.Random(2).randrange(256) for _ in range(3000)))
    open(d / "e_empty.txt", "w").close()
    with open(d / "f_invalid_utf8.txt", "wb") as f:
        f.write(b"valid words then \xff\xfe bad bytes " + text(rng, 20).encode())
    return d


def test_bad_input_error_records_counts_and_exit_2(bad_corpus, keys, tmp_path):
    csv = tmp_path / "out.csv"
    r = scan([str(bad_corpus), "--json", "--threads", "2", "--csv", str(csv)], keys)
    assert r.returncode == 2, r.stderr
    recs = records(r.stdout)
    assert recs[0]["type"] == "begin" and recs[-1]["type"] == "summary"
    errors = [x["data"] for x in recs if x["type"] == "error"]
    docs = [x["data"] for x in recs if x["type"] == "document"]
    summary = recs[-1]["data"]
    # Every error names the file, the line and why.
    by_file = {}
    for e in errors:
        assert e["reason"], e
        by_file.setdefault(os.path.basename(e["source"]), []).append(e)
    assert sorted(e["line"] for e in by_file["b_broken.jsonl"]) == [2, 3]
    assert "c_truncated.jsonl.gz" in by_file
    assert "d_junk.jsonl" in by_file
    # Scanning continued after each error: the good line after the broken ones and the files after.
    scanned = [d for d in docs if d["status"] == "scanned"]
    assert any(os.path.basename(d["source"]) == "b_broken.jsonl" and d["line"] == 4 for d in scanned)
    assert any(os.path.basename(d["source"]) == "f_invalid_utf8.txt" for d in scanned)
    # The good prefix of the truncated gzip was scanned before the error.
    assert any(os.path.basename(d["source"]) == "c_truncated.jsonl.gz" for d in scanned)
    skipped = [d for d in docs if d["status"] == "skipped"]
    assert any(os.path.basename(d["source"]) == "e_empty.txt" for d in skipped)
    # Counts: nothing silently dropped.
    assert summary["documents"] == len(scanned)
    assert summary["skipped"] == len(skipped)
    assert summary["failed"] == len(errors) > 0
    assert summary["items"] == len(scanned) + len(skipped) + len(errors)
    assert summary["partial"] is False
    # Output in input order, indices consecutive.
    idx = [x["data"]["index"] for x in recs if x["type"] in ("document", "error")]
    assert idx == list(range(len(idx)))
    assert b"error" in r.stderr
    rows = csv.read_text().splitlines()
    assert len(rows) == 1 + summary["items"]


def test_threads_give_byte_identical_output(bad_corpus, keys, tmp_path):
    outs = []
    for threads in ("1", "2", "3"):
        csv = tmp_path / f"t{threads}.csv"
        html = tmp_path / f"t{threads}.html"
        r = scan([str(bad_corpus), "--json", "--json-text", "--threads", threads, "--csv", str(csv),
                  "--html", str(html)], keys)
        assert r.returncode == 2
        outs.append((r.stdout, csv.read_bytes(), html.read_bytes()))
    assert outs[0] == outs[1] == outs[2]


def test_invalid_utf8_text_is_carried_as_base64(bad_corpus, keys):
    r = scan([str(bad_corpus / "f_invalid_utf8.txt"), "--json", "--json-text"], keys)
    doc = [x["data"] for x in records(r.stdout) if x["type"] == "document"][0]
    assert "text" not in doc
    import base64
    raw = base64.b64decode(doc["text_base64"])
    assert raw == (bad_corpus / "f_invalid_utf8.txt").read_bytes()


def long_scan_command(keys, tmp_path):
    """A --json scan of 300,000 lines: long enough to be interrupted mid-way."""
    big = tmp_path / "big.txt"
    line = text(random.Random(3), 30)
    with open(big, "w") as f:
        for i in range(300000):
            f.write(f"{i} {line}\n")
    return [BIN, "scan", "--tokenizer", TOKENIZER, "--scheme", SCHEME, "--no-progress", "--lines", "--json",
            "--threads", "1", "--key", keys[0], str(big)]


def test_sigint_gives_partial_summary(keys, tmp_path):
    cmd = long_scan_command(keys, tmp_path)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()  # begin
    second = p.stdout.readline()  # first document: the scan is under way
    assert json.loads(first)["type"] == "begin" and json.loads(second)["type"] == "document"
    p.send_signal(signal.SIGINT)
    rest = p.stdout.read()  # the pipe's buffered remainder, then EOF at exit
    err = p.stderr.read()
    p.wait(timeout=120)
    assert p.returncode == 130, err
    recs = [json.loads(first), json.loads(second)] + records(rest)
    summary = recs[-1]
    assert summary["type"] == "summary"
    assert summary["data"]["partial"] is True
    assert summary["data"]["corpus"]["partial"] is True
    docs = [x for x in recs if x["type"] == "document"]
    assert 0 < summary["data"]["documents"] == len(docs) < 300000


def test_sigint_while_stdout_is_blocked_still_gives_partial_summary(keys, tmp_path):
    # The emitter (the main thread) blocks writing to stdout when the reader
    # of its output falls behind (`| less`), and the signal lands on it.
    # Without SA_RESTART that write failed with EINTR: "cannot write to
    # stdout", exit 2, no summary (likely a rare flake of the test above,
    # where a pipe write that had already copied some bytes returns them).
    # A SOCK_SEQPACKET socket as stdout makes every write all or nothing, so
    # the blocked write has surely copied nothing when the signal comes.
    if platform.machine() != "x86_64":
        pytest.skip("the check of the blocked write reads x86-64 syscall numbers")
    cmd = long_scan_command(keys, tmp_path)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours:
        p = subprocess.Popen(cmd, stdout=theirs, stderr=subprocess.PIPE)
        theirs.close()
        def main_thread_syscall():
            with open(f"/proc/{p.pid}/task/{p.pid}/syscall") as f:
                return f.read().split()[0]

        deadline = time.time() + 60
        while main_thread_syscall() != "1":  # 1: write
            assert time.time() < deadline and p.poll() is None, "the emitter never blocked on stdout"
            time.sleep(0.01)
        p.send_signal(signal.SIGINT)
        out = b""
        while chunk := ours.recv(1 << 20):
            out += chunk
    with p.stderr:
        err = p.stderr.read()
    p.wait(timeout=120)
    assert p.returncode == 130, err
    recs = records(out)
    assert recs[0]["type"] == "begin"
    assert recs[-1]["type"] == "summary" and recs[-1]["data"]["partial"] is True
    assert 0 < recs[-1]["data"]["documents"] == len([x for x in recs if x["type"] == "document"]) < 300000


def test_bad_arguments_exit_2(keys, tmp_path):
    r = scan([str(tmp_path), "--alpha", "2"], keys)
    assert r.returncode == 2 and b"alpha" in r.stderr
    r = scan([str(tmp_path), "--normalize", "bogus"], keys)
    assert r.returncode == 2
    r = scan([str(tmp_path / "missing.txt"), "--memory", "12Q"], keys)
    assert r.returncode == 2 and b"memory" in r.stderr


def test_html_and_csv_written_atomically_and_no_temp_left(bad_corpus, keys, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    r = scan([str(bad_corpus / "a_good.jsonl"), "--csv", str(out / "r.csv"), "--html", str(out / "r.html")], keys)
    assert r.returncode in (0, 1), r.stderr
    assert sorted(os.listdir(out)) == ["r.csv", "r.html"]
    assert b"documents read" in r.stdout


def test_window_spans_locate_each_marked_region(keys):
    """Two watermarked stretches inside clean text come back as two spans,
    each on its own stretch (docs/scan.md, Spans). h=4, because with h=1 over a
    19-letter alphabet the second stretch would repeat the first one's
    (context, token) tuples, which dedup rightly scores once."""
    scheme = "kgw:gamma=0.25,delta=2,h=4"
    telltale = pytest.importorskip("telltale", reason="needs the Python package (TELLTALE_BUILD_PYTHON=ON)")
    tok = telltale.Tokenizer.load(TOKENIZER)
    wm = telltale.Watermarker(telltale.Key.load(keys[0]), scheme, vocab_size=tok.vocab_size)
    alphabet = "abcfgijkmnpqstuvxyz"  # letters no merge of the test tokenizer touches: one token each
    ids = {c: int(tok.encode(c)[0][0]) for c in alphabet}
    rng = random.Random(5)
    doc, regions = "", []
    for part in ("clean", "marked", "clean", "marked", "clean"):
        if part == "marked":
            start = len(doc)
            for _ in range(150):
                green, _ = wm.green_mask([ids[c] for c in doc[-4:]], tok.vocab_size)
                doc += rng.choice([c for c in alphabet if green[ids[c]]] or alphabet)  # rarely none is green
            regions.append((start, len(doc)))
        else:
            doc += "".join(rng.choice(alphabet) for _ in range(400))
    assert list(tok.encode(doc)[0]) == [ids[c] for c in doc]
    r = scan(["-", "--lines", "--window", "--json", "--alpha", "1e-3"], keys, scheme, input=(doc + "\n").encode())
    assert r.returncode == 0, r.stderr
    rec = [x for x in records(r.stdout) if x["type"] == "document"][0]["data"]
    assert rec["detected"] and rec["key_id"] == telltale.Key.load(keys[0]).id
    spans = [(s["begin"], s["end"]) for s in rec["spans"]]
    assert len(spans) == 2, spans
    slack = 40  # a smallest window (32 tokens) may reach past a region's edge
    for (b, e), (rb, re_) in zip(spans, regions):
        assert rb - slack <= b < re_ and rb < e <= re_ + slack, (spans, regions)


def test_spans_do_not_depend_on_the_html_report(keys, tmp_path):
    """Without --html the keys are scored without per-token marks and a
    detected document is scored again under its best key for its span; the
    records must equal those of a run that kept the marks (--html)."""
    scheme = "kgw:gamma=0.25,delta=2,h=4"
    telltale = pytest.importorskip("telltale", reason="needs the Python package (TELLTALE_BUILD_PYTHON=ON)")
    tok = telltale.Tokenizer.load(TOKENIZER)
    alphabet = "abcfgijkmnpqstuvxyz"  # one token each (see the test above)
    ids = {c: int(tok.encode(c)[0][0]) for c in alphabet}
    rng = random.Random(9)
    lines = []
    for key_index, shape in ((0, "marked"), (1, "marked"), (None, "clean"), (1, "middle")):
        doc = "".join(rng.choice(alphabet) for _ in range(120 if shape == "middle" else 0))
        if key_index is not None:
            wm = telltale.Watermarker(telltale.Key.load(keys[key_index]), scheme, vocab_size=tok.vocab_size)
            for _ in range(200):
                green, _ = wm.green_mask([ids[c] for c in doc[-4:]], tok.vocab_size)
                doc += rng.choice([c for c in alphabet if green[ids[c]]] or alphabet)
        doc += "".join(rng.choice(alphabet) for _ in range(120 if shape != "marked" else 0))
        lines.append(doc)
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n")
    plain = scan([str(corpus), "--lines", "--json"], keys, scheme)
    with_html = scan([str(corpus), "--lines", "--json", "--html", str(tmp_path / "r.html")], keys, scheme)
    assert plain.returncode == 0 and with_html.returncode == 0, (plain.stderr, with_html.stderr)
    assert plain.stdout == with_html.stdout
    docs = [x["data"] for x in records(plain.stdout) if x["type"] == "document"]
    assert [d["detected"] for d in docs] == [True, True, False, True]
    assert all(d["spans"] for d in docs if d["detected"])
