"""Scale-out scanning on Dask (issue 10): the same answers as `telltale scan`.

Every test compares the distributed `--json` stream with the single-machine
CLI's, line for line: per-document records (index, line, every number), the
summary's counts, the corpus test's unique tuples, p-values and best key.
The corpus (tests/dask/dask_corpus.py) has 20,000 generated documents in five
files (one gzip, one large JSONL split into byte ranges) plus error inputs.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import telltale
from telltale import dask as tdask

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dask_corpus  # noqa: E402

PARTITION_BYTES = 200_000  # cuts a.jsonl (~0.6 MB) into byte ranges


def cli():
    path = os.environ.get("TELLTALE_CLI")
    if not path or not os.path.exists(path):
        pytest.fail("set TELLTALE_CLI to the telltale binary (ctest does)")
    return path


@pytest.fixture(scope="module")
def corpus():
    return dask_corpus.corpus_dir(20000)


def keys(corpus):
    return [os.path.join(corpus, "keys", t + ".key") for t in dask_corpus.TENANTS]


@pytest.fixture(scope="module")
def reference(corpus):
    """The single-machine `telltale scan --json` lines."""
    cmd = [cli(), "scan", os.path.join(corpus, "corpus"), "--tokenizer", os.path.join(corpus, "chars.json"),
           "--scheme", dask_corpus.SCHEME, "--json", "--threads", "2"]
    for k in keys(corpus):
        cmd += ["--key", k]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr  # the corpus holds error inputs on purpose
    return r.stdout.splitlines()


def spec(corpus):
    return tdask.make_spec(keys(corpus), dask_corpus.SCHEME, os.path.join(corpus, "chars.json"))


def check_same(reference, got):
    assert len(got) == len(reference)
    items = [json.loads(x) for x in got[1:-1]]
    assert [i["data"]["index"] for i in items] == list(range(len(items)))  # none lost, none twice
    for a, b in zip(reference, got):
        assert a == b
    summary = json.loads(got[-1])["data"]
    assert summary["documents"] >= 20000
    assert summary["failed"] >= 4
    assert summary["corpus"]["detected"]
    assert summary["detected"] > 0


def test_reference_is_meaningful(reference):
    summary = json.loads(reference[-1])["data"]
    errors = [json.loads(x)["data"] for x in reference if json.loads(x)["type"] == "error"]
    assert any("truncated gzip" in e["reason"] for e in errors)
    assert any(e["source"].endswith("e.jsonl") and e["line"] == 3 for e in errors)
    # Both tenants are found, document by document and corpus-wide.
    per_key = {k["key_id"]: k["detected"] for k in summary["detected_per_key"]}
    assert all(v > 100 for v in per_key.values()), per_key
    assert max(k["log10_p"] for k in summary["corpus"]["keys"]) < -50


def test_partitioning_cuts_large_jsonl_on_lines(corpus):
    plan = tdask.plan_partitions([os.path.join(corpus, "corpus")], partition_bytes=PARTITION_BYTES)
    parts = [p for p in plan if isinstance(p, tdask.Partition)]
    a = [p for p in parts if p.path.endswith(b"/a.jsonl")]
    assert len(a) >= 3
    data = open(a[0].path, "rb").read()
    for p in a[1:]:
        assert data[p.begin - 1: p.begin] == b"\n"
    gz = [p for p in parts if p.path.endswith(b".gz")]
    assert gz and all(not p.ranged for p in gz)
    assert [os.path.basename(p.path) for p in parts][-1] == b"z-truncated.jsonl.gz"


def test_same_answers_two_workers_and_shards_reused(corpus, reference, tmp_path, capsys):
    from distributed import Client, LocalCluster

    shard_dir = str(tmp_path / "shards")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        res = tdask.scan_dask(client, os.path.join(corpus, "corpus"), spec(corpus), shard_dir=shard_dir,
                              partition_bytes=PARTITION_BYTES, buckets=8)
        got = list(res.records())
        check_same(reference, got)
        assert res.partitions >= 7
        assert res.exit_code == 2
        manifests = sorted(f for f in os.listdir(shard_dir) if f.endswith(".json"))
        assert len(manifests) == res.partitions
        hosts = {json.load(open(os.path.join(shard_dir, m)))["pid_os"] for m in manifests}
        assert len(hosts) == 2  # both workers scanned
        before = {f: os.stat(os.path.join(shard_dir, f)).st_mtime_ns for f in os.listdir(shard_dir)}
        # A re-run (the first run's futures are released; another bucket count)
        # finds every shard complete and rewrites nothing.
        again = tdask.scan_dask(client, os.path.join(corpus, "corpus"), spec(corpus), shard_dir=shard_dir,
                                partition_bytes=PARTITION_BYTES, buckets=3, progress=True)
        assert list(again.records()) == got
        assert "100% of" in capsys.readouterr().err  # Dask's progress bar, drawn on stderr
        after = {f: os.stat(os.path.join(shard_dir, f)).st_mtime_ns for f in os.listdir(shard_dir)}
        assert after == before


def test_worker_killed_mid_run(corpus, reference, tmp_path):
    from distributed import Client, LocalCluster, wait

    # On a loaded machine every partition can finish before the client's
    # thread gets to the kill; such an attempt proves nothing about losing
    # work, so it is repeated (still checked), and one must be mid-run.
    attempts = []
    for attempt in range(3):
        shard_dir = str(tmp_path / ("shards%d" % attempt))
        killed = {}
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            pids = client.run(os.getpid)  # asked before the run, so the kill follows the first result at once

            def kill_one(maps):
                # Wait until the first partition is done, then SIGKILL a worker process
                # that is busy: its results and its running task are lost.
                wait(maps, return_when="FIRST_COMPLETED")
                processing = client.processing()
                victim = max(pids, key=lambda w: len(processing.get(w, ())))
                killed.update(done=sum(f.done() for f in maps), total=len(maps), pid=pids[victim])
                os.kill(pids[victim], signal.SIGKILL)

            res = tdask.scan_dask(client, os.path.join(corpus, "corpus"), spec(corpus), shard_dir=shard_dir,
                                  partition_bytes=PARTITION_BYTES // 8, buckets=8, on_submitted=kill_one)
            got = list(res.records())
        check_same(reference, got)
        attempts.append(killed)
        if killed and killed["done"] < killed["total"]:
            break
    assert attempts[-1] and attempts[-1]["done"] < attempts[-1]["total"], attempts  # really mid-run


def test_cli_forwarding_and_errors(corpus, reference, tmp_path):
    from distributed import LocalCluster

    base = [cli(), "scan", os.path.join(corpus, "corpus"), "--tokenizer", os.path.join(corpus, "chars.json"),
            "--scheme", dask_corpus.SCHEME]
    for k in keys(corpus):
        base += ["--key", k]
    env = dict(os.environ)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        r = subprocess.run(base + ["--json", "--dask", cluster.scheduler_address, "--partition-bytes",
                                   str(PARTITION_BYTES), "--shard-dir", str(tmp_path / "s")],
                           capture_output=True, text=True, timeout=600, env=env)
        assert r.returncode == 2, r.stderr
        assert r.stdout.splitlines() == reference
        r = subprocess.run(base + ["--json", "--dask", cluster.scheduler_address, "--csv", "x.csv"],
                           capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 2 and "--csv is not supported with --dask" in r.stderr
    r = subprocess.run(base + ["--dask", "tcp://127.0.0.1:1"], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 2 and "telltale: scan --dask:" in r.stderr


def test_byte_ranges_with_tricky_lines_match_cli(corpus, tmp_path):
    """Small byte ranges over a lines file and a JSONL file whose texts hold
    `"index":` / `"line":` look-alikes, blank lines and CRLF: the re-indexed
    records still equal the CLI's (in-process cluster: fast)."""
    from distributed import Client, LocalCluster

    d = tmp_path / "in"
    d.mkdir()
    rows = []
    for i in range(40):
        text = 'abc "index":%d,"line":%d \\"index\\":7 ok' % (i * 3, i) if i % 5 == 0 else "hello world %d" % i
        rows.append('{"text": %s}' % json_string(text) if i % 7 else "")
    (d / "a.jsonl").write_text("\r\n".join(rows) + "\n")
    (d / "b.txt").write_text("".join(("line %d of the lines file\n" % i) if i % 4 else "\n" for i in range(60)))
    tok = os.path.join(corpus, "chars.json")
    base = ["--tokenizer", tok, "--scheme", dask_corpus.SCHEME]
    for k in keys(corpus):
        base += ["--key", k]
    for fmt in ("auto", "lines"):
        r = subprocess.run([cli(), "scan", str(d), "--json", "--format", fmt] + base, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode in (0, 1, 2), r.stderr
        with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            s = tdask.make_spec(keys(corpus), dask_corpus.SCHEME, tok, format=fmt)
            res = tdask.scan_dask(client, str(d), s, shard_dir=str(tmp_path / ("s-" + fmt)), partition_bytes=97)
            assert res.partitions > 10
            assert list(res.records()) == r.stdout.splitlines()


def json_string(s):
    return json.dumps(s)
