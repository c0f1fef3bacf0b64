"""``telltale.scan``: forensic detection over suspect corpora from Python.

The same pipeline as ``telltale scan`` (docs/scan.md): input readers (text,
lines, JSONL, CSV/TSV, compressed files, directories with globs),
normalization, tokenization, per-key detection with Holm attribution, and
the corpus-wide test over de-duplicated tuples. ``ScanResult.json_records``
are the exact lines ``telltale scan --json`` prints for the same arguments
(rendered by the same C++ code), and every per-document value is the one in
those records.

Example (``tok`` is a tokenizer file, ``keys`` are tenant keys)::

    res = telltale.scan(["corpus/"], keys, "kgw:gamma=0.25,delta=2,h=1", tok,
                        format="jsonl", field="text", threads=2)
    res.summary.detected, res.summary.corpus.keys[0].log10_p
    [d for d in res.documents if d.detected]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

from telltale import _core
from telltale._core import Key, Scheme

__all__ = ["CorpusKey", "CorpusResult", "DocumentResult", "ScanResult", "ScanSummary", "Window", "scan"]


@dataclass(frozen=True)
class Window:
    begin: int
    end: int
    scored: int
    windows_tested: int
    score: float
    log10_p: float
    log10_p_corrected: float


@dataclass(frozen=True)
class DocumentResult:
    """One input item, in input order. ``kind`` is "document", "skipped" or
    "error" (``reason`` says why). For documents, ``log10_p`` is the best
    key's Holm-adjusted value, ``keys[i]`` is (raw, Holm) log10 p of key i,
    and ``spans`` are byte ranges of the original text."""

    kind: str
    index: int
    source: str
    line: int
    reason: str
    input_bytes: int
    bytes: int
    tokens: int
    scored: int
    score: float
    expected: float
    z: float
    log10_p: float
    log10_p_raw: float
    decision_log10_p: float
    detected: bool
    best_key: int
    keys: List[Tuple[float, float]]
    window: Optional[Window]
    spans: List[Tuple[int, int]]


@dataclass(frozen=True)
class CorpusKey:
    key_id: str
    scored: int
    score: float
    p_value: float
    log10_p: float
    holm_p: float
    holm_log10_p: float


@dataclass(frozen=True)
class CorpusResult:
    """The corpus-wide test over unique (context, token) tuples of all documents."""

    documents: int
    tokens_seen: int
    unique_tuples: int
    best_key: int
    keys: List[CorpusKey]


@dataclass(frozen=True)
class ScanSummary:
    items: int
    documents: int
    skipped: int
    failed: int
    detected: int
    bytes: int
    input_bytes: int
    tokens: int
    detected_per_key: List[int]
    corpus_detected: bool
    partial: bool
    stop_reason: str
    seconds: float
    corpus: CorpusResult


@dataclass(frozen=True)
class ScanResult:
    documents: List[DocumentResult]
    summary: ScanSummary
    keys: List[Tuple[str, str]]  # (key id, name) in key order
    json_records: List[str]  # `telltale scan --json` output lines, without newlines


def scan(
    paths: Union[str, Sequence[str]],
    keys: Union[Key, Sequence[Key]],
    scheme: Union[Scheme, str],
    tokenizer: str,
    *,
    names: Optional[Sequence[str]] = None,
    format: str = "auto",
    field: str = "text",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    normalize: str = "",
    alpha: float = 1e-3,
    threads: int = 1,
    window: bool = False,
    min_window: int = 32,
    spill_dir: str = "",
    memory_bytes: int = 1 << 30,
    max_document_bytes: int = 64 << 20,
) -> ScanResult:
    """Scans files and directories (``"-"`` is stdin) for the keys' watermark.

    Arguments mirror ``telltale scan``: ``tokenizer`` is a tokenizer.json,
    tiktoken rank file or GGUF path; ``names`` label the keys in the records
    (default: a derived key's tenant, else ``key<i>``); ``normalize`` is a
    ``--normalize`` spec ("" = default). Per-document problems become error
    records; bad arguments raise ``InvalidArgumentError``/``NotFoundError``.
    The GIL is released for the whole scan.
    """
    path_list = [paths] if isinstance(paths, str) else list(paths)
    key_list = [keys] if isinstance(keys, Key) else list(keys)
    docs, summary, records, key_info = _core._scan(
        path_list, key_list, scheme, tokenizer, list(names) if names is not None else [], format, field,
        list(include), list(exclude), normalize, alpha, threads, window, min_window, spill_dir, memory_bytes,
        max_document_bytes)
    documents = []
    for d in docs:
        w = d.pop("window")
        documents.append(DocumentResult(window=Window(**w) if w is not None else None, **d))
    corpus = summary.pop("corpus")
    corpus_keys = [CorpusKey(**k) for k in corpus.pop("keys")]
    return ScanResult(
        documents=documents,
        summary=ScanSummary(corpus=CorpusResult(keys=corpus_keys, **corpus), **summary),
        keys=[tuple(k) for k in key_info],
        json_records=list(records),
    )
