"""``telltale.dask``: the forensic scan of ``telltale scan``, spread over a Dask cluster.

The answer is the single-machine answer: the same ``--json`` records byte for
byte (per-document results in input order, the corpus-wide counts, p-values
and attribution), whatever the number of workers, their speed, or how many
of them die on the way. docs/dask.md explains the design; in short:

1. **Partitioning** (on the client): the scan's own input walker lists the
   inputs in scan order; every file is a partition, and an uncompressed
   lines/JSONL file larger than ``partition_bytes`` is cut into line-aligned
   byte ranges. Compressed files, CSV/TSV and whole-file text go one per task.
2. **Per partition** (on a worker, ``_core._scan_partition``): the native
   scan writes the partition's exact item records to a JSONL shard and
   returns the partition's de-duplicated corpus tuples (12-byte records
   sorted by fingerprint). The shard (records, tuples, manifest written last)
   is named by a hash of (path, byte range, file size and mtime, scan
   configuration): a retry or a re-run finds it and does not scan again.
3. **Exact corpus statistic**: the tuple arrays are cut by fingerprint top
   byte into ``buckets`` pieces and shuffled through Dask; one task per
   bucket takes the union, de-duplicates and scores it with CorpusTest's own
   code (``_core._corpus_reduce``), and the client combines the 256
   per-partition sums in the order CorpusTest does (``_core._scan_finish``).
4. **Merge**: the client streams the shards in input order, shifting each
   record's ``index`` (and ``line`` for byte ranges) by the items and lines
   before it.

Key files, the tokenizer, the inputs and ``shard_dir`` must be readable at
the same paths on the client and every worker (a shared file system).
Thread-safety: ``scan_dask`` may be called from one thread per client.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from telltale import _core

__all__ = ["DaskScan", "Partition", "ScanSpec", "TUPLE_DTYPE", "plan_partitions", "scan_dask", "main"]

#: One unique corpus tuple as the native code stores it (docs/spec/scan.md).
TUPLE_DTYPE = np.dtype([("fp", "<u8"), ("token", "<u4")])
SHARD_VERSION = 1
DEFAULT_PARTITION_BYTES = 64 << 20
DEFAULT_BUCKETS = 16

_COMPRESSED_SUFFIXES = (".gz", ".gzip", ".zst", ".zstd", ".xz")


@dataclass(frozen=True)
class ScanSpec:
    """Everything a worker needs to scan a partition the way the client would.

    ``keys`` are key-file paths and ``names`` their labels in the records
    (``key_names`` computes them as ``telltale scan`` does); ``key_ids`` pin
    the key material into the shard names. ``threads`` is per task."""

    keys: Tuple[str, ...]
    names: Tuple[str, ...]
    key_ids: Tuple[str, ...]
    scheme: str
    tokenizer: str
    format: str = "auto"
    field: str = "text"
    normalize: str = ""
    alpha: float = 1e-3
    window: bool = False
    min_window: int = 32
    max_document_bytes: int = 64 << 20
    threads: int = 1

    def digest(self) -> str:
        """Hash of everything that changes a record (not ``threads``, not key paths)."""
        d = asdict(self)
        del d["threads"], d["keys"]
        st = os.stat(self.tokenizer)
        d["tokenizer"] = [os.path.abspath(self.tokenizer), st.st_size, st.st_mtime_ns]
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def load_keys(self) -> List[_core.Key]:
        return [_core.Key.load(p) for p in self.keys]


def key_names(paths: Sequence[str], keys: Sequence[_core.Key]) -> List[str]:
    """The label ``telltale scan`` gives each key: a derived key's tenant, else
    the file name without its last extension."""
    names = []
    for p, k in zip(paths, keys):
        if k.kind == "derived":
            names.append(k.tenant)
            continue
        base = os.path.basename(p)
        dot = base.rfind(".")
        names.append(base if dot <= 0 else base[:dot])
    return names


def make_spec(key_paths: Sequence[str], scheme: str, tokenizer: str, *, names: Optional[Sequence[str]] = None,
              **options) -> ScanSpec:
    """A ScanSpec from key files (loaded here once to name and pin them)."""
    keys = [_core.Key.load(p) for p in key_paths]
    if not keys:
        raise _core.InvalidArgumentError("scan: give at least one key")
    labels = list(names) if names is not None else key_names(key_paths, keys)
    canonical = str(_core.Scheme(scheme))
    return ScanSpec(keys=tuple(os.path.abspath(p) for p in key_paths), names=tuple(labels),
                    key_ids=tuple(k.id for k in keys), scheme=canonical, tokenizer=os.path.abspath(tokenizer),
                    **options)


@dataclass(frozen=True)
class Partition:
    """A file, or bytes [begin, end) of one cut on line boundaries."""

    path: bytes
    begin: int
    end: int  # -1: to the end of the file
    size: int
    mtime_ns: int

    @property
    def ranged(self) -> bool:
        return self.begin != 0 or self.end != -1

    def pid(self, spec_digest: str) -> str:
        h = hashlib.sha256()
        for part in (os.path.abspath(self.path), str(self.begin).encode(), str(self.end).encode(),
                     str(self.size).encode(), str(self.mtime_ns).encode(), spec_digest.encode()):
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)
        return h.hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    """A walker-level item that is not read (missing file, loop, socket): one record."""

    kind: str  # "skipped" or "error"
    path: bytes
    reason: str


def _resolved_format(fmt: str, path: bytes) -> str:
    # The same rule as scan/input/document_source.cc FormatFromName.
    if fmt != "auto":
        return fmt
    name = os.fsdecode(path).lower()
    for z in _COMPRESSED_SUFFIXES:
        if name.endswith(z):
            name = name[: -len(z)]
            break
    if name.endswith(".jsonl") or name.endswith(".ndjson"):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".tsv"):
        return "tsv"
    return "text"


def _is_compressed(head: bytes) -> bool:
    # Magic bytes, as scan/input/byte_reader.cc decides.
    return (head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd"
            or (len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18")
            or head[:6] == b"\xfd7zXZ\x00")


def _line_cuts(path: bytes, size: int, target: int) -> List[int]:
    """Range starts: 0, then the offset just past the first newline at or
    after every ``target`` bytes (so every range holds whole lines)."""
    cuts = [0]
    with open(path, "rb") as f:
        pos = target
        while pos < size:
            f.seek(pos)
            cut = -1
            while cut < 0:
                chunk = f.read(1 << 16)
                if not chunk:
                    return cuts
                nl = chunk.find(b"\n")
                if nl >= 0:
                    cut = f.tell() - len(chunk) + nl + 1
            if cut >= size:
                return cuts
            cuts.append(cut)
            pos = cut + target
    return cuts


def plan_partitions(paths: Sequence[str], fmt: str = "auto", *, include: Sequence[str] = (),
                    exclude: Sequence[str] = (), partition_bytes: int = DEFAULT_PARTITION_BYTES
                    ) -> List[Union[Partition, Entry]]:
    """The scan's inputs in scan order, cut into partitions.

    Raises InvalidArgumentError for stdin ("-"), which cannot be distributed."""
    if partition_bytes < 1:
        raise _core.InvalidArgumentError("partition_bytes must be >= 1")
    plan: List[Union[Partition, Entry]] = []
    for kind, path, reason, size in _core._scan_inputs(list(paths), list(include), list(exclude)):
        if kind == "stdin":
            raise _core.InvalidArgumentError("dask scan: stdin ('-') cannot be distributed; give files")
        if kind in ("skipped", "error"):
            plan.append(Entry(kind, path, reason))
            continue
        try:
            st = os.stat(path)
            with open(path, "rb") as f:
                head = f.read(6)
        except OSError:
            # Unreadable now: one partition, and the worker's native reader
            # reports it exactly as the single-machine scan would.
            plan.append(Partition(path, 0, -1, 0, 0))
            continue
        splittable = (_resolved_format(fmt, path) in ("jsonl", "lines") and os.path.isfile(path)
                      and not _is_compressed(head) and st.st_size > partition_bytes)
        if not splittable:
            plan.append(Partition(path, 0, -1, st.st_size, st.st_mtime_ns))
            continue
        cuts = _line_cuts(path, st.st_size, partition_bytes)
        for i, b in enumerate(cuts):
            e = cuts[i + 1] if i + 1 < len(cuts) else -1
            plan.append(Partition(path, b, e, st.st_size, st.st_mtime_ns))
    return plan


# ---------------------------------------------------------------------------
# Worker side


def _write_atomically(path: str, data: bytes) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _count_newlines(path: bytes, begin: int, end: int) -> int:
    n = 0
    with open(path, "rb") as f:
        f.seek(begin)
        left = end - begin if end >= 0 else None
        while left is None or left > 0:
            chunk = f.read(1 << 22 if left is None else min(1 << 22, left))
            if not chunk:
                break
            n += chunk.count(b"\n")
            if left is not None:
                left -= len(chunk)
    return n


def shard_paths(shard_dir: str, pid: str) -> Tuple[str, str, str]:
    """(records .jsonl, tuples .tuples, manifest .json); the manifest marks completion."""
    base = os.path.join(shard_dir, pid)
    return base + ".jsonl", base + ".tuples", base + ".json"


def _load_shard(shard_dir: str, pid: str) -> Optional[Tuple[dict, np.ndarray]]:
    rec_path, tup_path, man_path = shard_paths(shard_dir, pid)
    try:
        with open(man_path, "rb") as f:
            meta = json.loads(f.read())
        if (meta.get("version") != SHARD_VERSION or meta.get("pid") != pid
                or os.path.getsize(rec_path) != meta["records_bytes"]
                or os.path.getsize(tup_path) != 12 * meta["tuples"]):
            return None
        tuples = np.fromfile(tup_path, dtype=np.uint8)
    except (OSError, ValueError, KeyError):
        return None
    return meta, tuples


def _split_buckets(tuples: np.ndarray, buckets: int) -> List[np.ndarray]:
    """Cuts the sorted uint8 record array into contiguous per-bucket slices
    (bucket = top fingerprint byte * buckets // 256), vectorised."""
    fp = tuples.view(TUPLE_DTYPE)["fp"]
    bucket_of = (fp >> np.uint64(56)).astype(np.int64) * buckets // 256
    bounds = np.searchsorted(bucket_of, np.arange(buckets + 1), side="left")
    return [tuples[12 * bounds[b]: 12 * bounds[b + 1]] for b in range(buckets)]


def run_partition(spec: ScanSpec, part: Partition, pid: str, shard_dir: str, buckets: int
                  ) -> Tuple[dict, List[np.ndarray]]:
    """Scans one partition (or finds its completed shard ``pid``, computed by
    the client as ``part.pid(spec.digest())``): (manifest, bucket slices)."""
    loaded = _load_shard(shard_dir, pid)
    if loaded is None:
        body, counts, tuples = _core._scan_partition(
            part.path, part.begin, part.end if part.end >= 0 else 2**64 - 1, spec.load_keys(), list(spec.names),
            spec.scheme, spec.tokenizer, spec.format, spec.field, spec.normalize, spec.alpha, spec.threads,
            spec.window, spec.min_window, spec.max_document_bytes)
        rec_path, tup_path, man_path = shard_paths(shard_dir, pid)
        _write_atomically(rec_path, body)
        _write_atomically(tup_path, tuples.tobytes())
        meta = {
            "version": SHARD_VERSION,
            "pid": pid,
            "path_b64": base64.b64encode(part.path).decode(),
            "begin": part.begin,
            "end": part.end,
            "lines": _count_newlines(part.path, part.begin, part.end) if part.ranged else 0,
            "records_bytes": len(body),
            "tuples": len(tuples) // 12,
            "counts": counts,
            "host": os.uname().nodename,
            "pid_os": os.getpid(),
        }
        _write_atomically(man_path, json.dumps(meta, sort_keys=True).encode())
    else:
        meta, tuples = loaded
    return meta, _split_buckets(tuples, buckets)


def _meta_of(result: Tuple[dict, List[np.ndarray]]) -> dict:
    return result[0]


def _piece_of(result: Tuple[dict, List[np.ndarray]], bucket: int) -> np.ndarray:
    return result[1][bucket]


def reduce_bucket(spec: ScanSpec, *pieces: np.ndarray) -> Tuple[List[int], List[int], List[List[float]]]:
    """Union, dedup and score of one bucket: (partition ids, unique counts, per-key sums)."""
    arr = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8)
    return _core._corpus_reduce(arr, spec.load_keys(), spec.scheme)


# ---------------------------------------------------------------------------
# Client side

_INDEX = re.compile(r'"index":(\d+)')
_LINE = re.compile(r'"line":(\d+)')


def _relocate(record: str, index_base: int, line_base: int) -> str:
    """Shifts a partition-local record to its global index and line.

    Records are nlohmann::json dumps with sorted keys; string values escape
    their quotes, so the first unescaped ``"index":`` and ``"line":`` are the
    record's own fields (docs/spec/dask.md)."""
    m = _INDEX.search(record)
    if m is None:
        raise _core.InternalError("dask scan: shard record without an index: " + record[:80])
    record = record[:m.start(1)] + str(int(m.group(1)) + index_base) + record[m.end(1):]
    if line_base:
        m = _LINE.search(record)
        if m is not None and m.group(1) != "0":
            record = record[:m.start(1)] + str(int(m.group(1)) + line_base) + record[m.end(1):]
    return record


@dataclass
class DaskScan:
    """The outcome of scan_dask. ``records()`` streams the ``--json`` lines."""

    begin_record: str
    summary_record: str
    counts: dict
    corpus: dict
    partitions: int
    shard_dir: str
    # In input order: ("record", rendered walker entry, 0, 0) or ("shard", pid, index base, line base).
    _layout: List[Tuple[str, str, int, int]] = field(default_factory=list, repr=False)

    def records(self) -> Iterator[str]:
        yield self.begin_record
        for what, item, index_base, line_base in self._layout:
            if what == "record":
                yield item
                continue
            rec_path, _, _ = shard_paths(self.shard_dir, item)
            with open(rec_path, "r", encoding="utf-8", newline="\n") as f:
                for line in f:
                    yield _relocate(line.rstrip("\n"), index_base, line_base)
        yield self.summary_record

    @property
    def exit_code(self) -> int:
        """As ``telltale scan``: 2 errors, 0 detected, 1 nothing found."""
        if self.counts["failed"] > 0:
            return 2
        return 0 if self.counts["detected"] > 0 or self.corpus["detected"] else 1


class _StderrProgressBar:
    """Dask's TextProgressBar, drawn on stderr so --json on stdout stays clean."""

    @staticmethod
    def run(futures) -> None:
        from distributed.diagnostics.progressbar import TextProgressBar

        class Bar(TextProgressBar):
            def _draw_bar(self, remaining, all, **kwargs):
                frac = (1 - remaining / all) if all else 1.0
                sys.stderr.write("\r[%-40s] | %3d%% of %d tasks | %.1fs" % (
                    "#" * int(40 * frac), int(100 * frac), all, self.elapsed))
                sys.stderr.flush()

            def _draw_stop(self, **kwargs):
                sys.stderr.write("\33[2K\r")
                sys.stderr.flush()

        Bar(futures, complete=True)


def scan_dask(client, paths: Union[str, Sequence[str]], spec: ScanSpec, *, shard_dir: str,
              include: Sequence[str] = (), exclude: Sequence[str] = (),
              partition_bytes: int = DEFAULT_PARTITION_BYTES, buckets: int = DEFAULT_BUCKETS,
              progress: Optional[bool] = None, on_submitted=None) -> DaskScan:
    """Runs the scan on ``client`` (a distributed.Client). ``progress``: draw
    Dask's progress bar on stderr (default: when stderr is a terminal).
    ``on_submitted(futures)`` is called with the map tasks' futures as soon
    as they are submitted, before the tasks that depend on them (tests use it
    to kill a worker mid-run, which needs partitions still left to run)."""
    from distributed import wait

    path_list = [paths] if isinstance(paths, str) else list(paths)
    if not 1 <= buckets <= 256:
        raise _core.InvalidArgumentError("buckets must lie in [1, 256]")
    os.makedirs(shard_dir, exist_ok=True)
    plan = plan_partitions(path_list, spec.format, include=include, exclude=exclude,
                           partition_bytes=partition_bytes)
    digest = spec.digest()
    parts = [p for p in plan if isinstance(p, Partition)]
    pids = [p.pid(digest) for p in parts]
    maps = [client.submit(run_partition, spec, p, pid, shard_dir, buckets, key="telltale-scan-" + pid)
            for p, pid in zip(parts, pids)]
    if on_submitted is not None:
        on_submitted(maps)
    metas = [client.submit(_meta_of, m, key="telltale-meta-" + pid) for m, pid in zip(maps, pids)]
    run_tag = hashlib.sha256("".join(pids).encode() + digest.encode()).hexdigest()[:16]
    reduces = []
    for b in range(buckets):
        pieces = [client.submit(_piece_of, m, b, key="telltale-piece-%s-%d-%d" % (pid, buckets, b))
                  for m, pid in zip(maps, pids)]
        reduces.append(client.submit(reduce_bucket, spec, *pieces, key="telltale-bucket-%s-%d" % (run_tag, b)))
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        _StderrProgressBar.run(maps + reduces)
    wait(metas + reduces)
    meta_values = client.gather(metas)
    reduce_values = client.gather(reduces)

    k = len(spec.keys)
    part_unique = [0] * 256
    part_sums = [[0.0] * k for _ in range(256)]
    for ids, unique, sums in reduce_values:
        for p, u, s in zip(ids, unique, sums):
            part_unique[p] = u
            part_sums[p] = list(s)

    counts = {"items": 0, "documents": 0, "skipped": 0, "failed": 0, "detected": 0, "bytes": 0,
              "input_bytes": 0, "tokens": 0, "detected_per_key": [0] * k, "partial": False, "stop_reason": "",
              "corpus_documents": 0, "tokens_seen": 0}
    layout: List[Tuple[str, str, int, int]] = []
    meta_iter = iter(meta_values)
    line_base: Dict[bytes, int] = {}
    for item in plan:
        if isinstance(item, Entry):
            layout.append(("record", _core._scan_entry_record(item.kind, counts["items"], item.path, item.reason), 0, 0))
            counts["items"] += 1
            counts["skipped" if item.kind == "skipped" else "failed"] += 1
            continue
        meta = next(meta_iter)
        c = meta["counts"]
        base_line = line_base.get(item.path, 0) if item.ranged else 0
        layout.append(("shard", meta["pid"], counts["items"], base_line))
        if item.ranged:
            line_base[item.path] = base_line + meta["lines"]
        for name in ("items", "documents", "skipped", "failed", "detected", "bytes", "input_bytes", "tokens",
                     "corpus_documents", "tokens_seen"):
            counts[name] += c[name]
        counts["detected_per_key"] = [a + b for a, b in zip(counts["detected_per_key"], c["detected_per_key"])]
        if c["partial"] and not counts["partial"]:
            counts["partial"], counts["stop_reason"] = True, c["stop_reason"]
    corpus, begin, summary = _core._scan_finish(
        spec.load_keys(), list(spec.names), spec.scheme, spec.tokenizer, spec.normalize, spec.alpha, spec.window,
        spec.min_window, path_list, counts, part_unique, part_sums)
    return DaskScan(begin_record=begin, summary_record=summary, counts=counts, corpus=corpus,
                    partitions=len(parts), shard_dir=shard_dir, _layout=layout)


# ---------------------------------------------------------------------------
# Command line: `telltale scan --dask ADDRESS ...` execs this module.

_UNSUPPORTED = ("--csv", "--html", "--json-text", "--top", "--spill-dir", "--memory")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="telltale scan --dask", description="telltale scan on a Dask cluster")
    p.add_argument("paths", nargs="*")
    p.add_argument("--dask", required=True, metavar="ADDRESS", help="scheduler address, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--key", action="append", default=[])
    p.add_argument("--keys-dir", default="")
    p.add_argument("--scheme", required=True)
    p.add_argument("--format", default="auto")
    p.add_argument("--lines", action="store_true")
    p.add_argument("--field", default="text")
    p.add_argument("--include", action="append", default=[])
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--normalize", default="")
    p.add_argument("--alpha", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1, help="native threads per task (default 1)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--window", action="store_true")
    p.add_argument("--min-window", type=int, default=32)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--max-document-bytes", type=int, default=64 << 20)
    p.add_argument("--shard-dir", default="", help="shared directory for shards (default: a private temp dir)")
    p.add_argument("--partition-bytes", type=int, default=DEFAULT_PARTITION_BYTES)
    p.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS)
    return p


class _UsageError(Exception):
    pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in and args_in[0] == "scan":
        args_in = args_in[1:]
    for a in args_in:
        if a.split("=", 1)[0] in _UNSUPPORTED:
            print("telltale: scan --dask: %s is not supported with --dask (use --json)" % a.split("=", 1)[0],
                  file=sys.stderr)
            return 2
    parser = _parser()

    def fail(message):
        raise _UsageError(message)

    parser.error = fail  # type: ignore[assignment]
    try:
        args = parser.parse_args(args_in)
        if not args.paths:
            raise _UsageError("give at least one path")
        if "-" in args.paths:
            raise _UsageError("stdin ('-') cannot be distributed; give files")
        if args.threads < 1:
            raise _UsageError("--threads must be >= 1")
        key_paths = list(args.key)
        if args.keys_dir:
            try:
                names = sorted(n for n in os.listdir(args.keys_dir) if not n.startswith("."))
            except OSError as e:
                raise _UsageError("--keys-dir %s: cannot open directory (%s)" % (args.keys_dir, e.strerror))
            found = [os.path.join(args.keys_dir, n) for n in names if os.path.isfile(os.path.join(args.keys_dir, n))]
            if not found:
                raise _UsageError("--keys-dir %s: no key files" % args.keys_dir)
            key_paths += found
        if not key_paths:
            raise _UsageError("give --key FILE or --keys-dir DIR")
        spec = make_spec(key_paths, args.scheme, args.tokenizer, format="lines" if args.lines else args.format,
                         field=args.field, normalize=args.normalize, alpha=args.alpha, window=args.window,
                         min_window=args.min_window, max_document_bytes=args.max_document_bytes,
                         threads=args.threads)
    except _UsageError as e:
        print("telltale: scan --dask: %s" % e, file=sys.stderr)
        return 2
    except _core.TelltaleError as e:
        print("telltale: scan --dask: %s" % e, file=sys.stderr)
        return 2
    try:
        from distributed import Client
    except ImportError as e:
        print("telltale: scan --dask: the Dask client is missing (%s); install python3-distributed" % e,
              file=sys.stderr)
        return 2
    private = not args.shard_dir
    shard_dir = args.shard_dir or tempfile.mkdtemp(prefix="telltale-dask-")
    t0 = time.monotonic()
    try:
        with Client(args.dask, timeout="10s") as client:
            res = scan_dask(client, args.paths, spec, shard_dir=shard_dir, include=args.include,
                            exclude=args.exclude, partition_bytes=args.partition_bytes, buckets=args.buckets,
                            progress=False if args.no_progress else None)
            out = sys.stdout
            if args.json:
                for r in res.records():
                    out.write(r)
                    out.write("\n")
                out.flush()
    except _core.TelltaleError as e:
        print("telltale: scan --dask: %s" % e, file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001  (Dask re-raises task failures as their own types)
        print("telltale: scan --dask: %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""),
              file=sys.stderr)
        return 2
    finally:
        if private:
            import shutil

            shutil.rmtree(shard_dir, ignore_errors=True)
    c, corpus = res.counts, res.corpus
    best = corpus["keys"][corpus["best_key"]] if corpus["best_key"] >= 0 else None
    text = ("telltale scan --dask: %d items, %d documents, %d detected, %d skipped, %d errors; %d partitions, "
            "%.1fs\ncorpus: %d unique tuples of %d; best key %s log10 p (Holm) %.6g: %s\n" % (
                c["items"], c["documents"], c["detected"], c["skipped"], c["failed"], res.partitions,
                time.monotonic() - t0, corpus["unique_tuples"], corpus["tokens_seen"],
                spec.names[corpus["best_key"]] if best else "-", best["holm_log10_p"] if best else 0.0,
                "DETECTED" if corpus["detected"] else "not detected"))
    (sys.stderr if args.json else sys.stdout).write(text)
    if c["failed"]:
        print("telltale: scan finished with %d error%s (see the error records)" % (
            c["failed"], "" if c["failed"] == 1 else "s"), file=sys.stderr)
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
