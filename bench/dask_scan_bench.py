#!/usr/bin/python3
"""Throughput of the Dask scan against the single-process scan, same corpus, same run.

    PYTHONPATH=build/python /usr/bin/python3 bench/dask_scan_bench.py build/cli/telltale [--docs N] [--reps R]

Rows: `telltale scan --threads 1` (the baseline), then telltale.dask.scan_dask
on a LocalCluster of 1 and of 2 single-threaded worker processes (cluster
start-up excluded, a fresh shard directory per run so nothing is reused),
and a re-run on an existing shard directory. Wall time is the median of R
runs; CPU is the sum of user+system time of the client and every worker
(getrusage of the processes, measured before and after). Ratios are against
the baseline measured in this run. The corpus is tests/dask/dask_corpus.py's.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "dask"))
import dask_corpus  # noqa: E402

from telltale import dask as tdask  # noqa: E402


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def worker_cpu(client) -> float:
    def usage():
        import resource as res
        r = res.getrusage(res.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    return sum(client.run(usage).values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--partition-bytes", type=int, default=200_000)
    args = ap.parse_args()
    corpus = dask_corpus.corpus_dir(args.docs)
    src = os.path.join(corpus, "corpus")
    keys = [os.path.join(corpus, "keys", t + ".key") for t in dask_corpus.TENANTS]
    tok = os.path.join(corpus, "chars.json")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(src) for f in fs)

    cmd = [args.cli, "scan", src, "--tokenizer", tok, "--scheme", dask_corpus.SCHEME, "--json", "--threads", "1"]
    for k in keys:
        cmd += ["--key", k]
    rows = []
    walls, cpus = [], []
    reference = None
    for _ in range(args.reps):
        c0, t0 = cpu_children(), time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_children() - c0)
        reference = out.splitlines()
    rows.append(("telltale scan --threads 1", statistics.median(walls), statistics.median(cpus)))

    from distributed import Client, LocalCluster

    spec = tdask.make_spec(keys, dask_corpus.SCHEME, tok)
    split = []
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            walls, cpus, client_cpus, merge_cpus = [], [], [], []
            for rep in range(args.reps + 1):
                shard_dir = tempfile.mkdtemp(prefix="tt-dask-bench-")
                w0, s0, t0 = worker_cpu(client), cpu_self(), time.perf_counter()
                res = tdask.scan_dask(client, src, spec, shard_dir=shard_dir, partition_bytes=args.partition_bytes,
                                      progress=False)
                m0 = cpu_self()
                got = list(res.records())
                merge = cpu_self() - m0
                wall = time.perf_counter() - t0
                client_cpu = cpu_self() - s0
                cpu = worker_cpu(client) - w0 + client_cpu
                if got != reference:
                    print("MISMATCH with telltale scan", file=sys.stderr)
                    return 1
                if rep > 0:  # the first run warms the workers (imports, tokenizer page cache)
                    walls.append(wall)
                    cpus.append(cpu)
                    client_cpus.append(client_cpu)
                    merge_cpus.append(merge)
                if rep == args.reps and workers == 2:
                    t0 = time.perf_counter()
                    again = list(tdask.scan_dask(client, src, spec, shard_dir=shard_dir,
                                                 partition_bytes=args.partition_bytes, progress=False).records())
                    reuse = time.perf_counter() - t0
                    assert again == reference
                shutil.rmtree(shard_dir, ignore_errors=True)
            rows.append(("dask, %d worker%s (%d partitions)" % (workers, "" if workers == 1 else "s", res.partitions),
                         statistics.median(walls), statistics.median(cpus)))
            split.append("dask, %d worker%s: CPU of workers %.2f s, of the client process %.2f s (LocalCluster's "
                         "scheduler runs there too), of which merging the shards %.2f s" % (
                             workers, "" if workers == 1 else "s", statistics.median(cpus) - statistics.median(client_cpus),
                             statistics.median(client_cpus), statistics.median(merge_cpus)))
    rows.append(("dask, 2 workers, all shards reused", reuse, float("nan")))

    base_wall, base_cpu = rows[0][1], rows[0][2]
    print("corpus: %d documents, %.2f MB in %s; machine: %d cores (load %.2f)" % (
        args.docs, size / 1e6, src, os.cpu_count(), os.getloadavg()[0]))
    print("| run | wall s | MB/s | wall / baseline | CPU s | CPU / baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, wall, cpu in rows:
        print("| %s | %.2f | %.2f | %.2fx | %s | %s |" % (
            name, wall, size / 1e6 / wall, wall / base_wall, "-" if cpu != cpu else "%.2f" % cpu,
            "-" if cpu != cpu else "%.2fx" % (cpu / base_cpu)))
    for line in split:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
