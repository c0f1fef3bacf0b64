"""Radioactivity audits: was a suspect model trained on our watermarked text?

Method: Sander et al., "Watermarking Makes Language Models Radioactive"
(NeurIPS 2024); details, validity argument and formats in docs/audit.md.

Open-weights "reading mode" (any ``callable(input_ids) -> logits``, e.g. a
torch model): teacher-force texts through the suspect, take its top-1
prediction at every position, and score the tuple (previous h INPUT tokens,
predicted token) once per unique tuple::

    import telltale, telltale.audit as audit
    res = audit.open_model(model, texts, key, "kgw:gamma=0.25,delta=2,h=1",
                           tokenizer=tok, target_log10_p=-6)
    print(res.report())

Closed "API mode": query an OpenAI-compatible ``/v1/completions`` endpoint,
re-tokenize the outputs, exclude every tuple that occurs in the prompts,
score with global dedup::

    res = audit.api_model("http://127.0.0.1:8080", prompts, key, scheme, tokenizer=tok)

Every audit also scores the same tuples under ``control_keys`` fresh random
keys and reports them beside the result. A ``ContextSketch`` recorded at
generation time restricts scoring to contexts we are known to have emitted.

Command line (``python3 -m telltale.audit --help``)::

    python3 -m telltale.audit api  --endpoint URL --prompts FILE --tokenizer TOK --key KEY --scheme S
    python3 -m telltale.audit open --loader MODULE:FUNC [--loader-arg A] --texts FILE --key KEY --scheme S

Exit codes: 0 the best key is significant at --alpha, 1 it is not, 2 error
(bad input, or a server failure midway: the partial result is still printed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional, Sequence, Union

import numpy as np

from telltale._core import AuditScorer, ContextSketch, Key, TelltaleError

__all__ = ["AuditResult", "ContextSketch", "SketchRecorder", "api_model", "open_model", "score_texts", "main"]

KeyArg = Union[Key, Sequence[Key]]


def _keys(keys: KeyArg) -> List[Key]:
    if isinstance(keys, Key):
        return [keys]
    out = list(keys)
    if not out:
        raise ValueError("an audit needs at least one key")
    for k in out:
        if not isinstance(k, Key):
            raise TypeError(f"keys must be telltale.Key objects, got {type(k).__name__}")
    return out


@dataclass
class AuditResult:
    """What an audit found. ``keys`` holds one dict per real key, then one
    per control key (``control`` True): key_id, scored, score, expected, z,
    log10_p, holm_log10_p. ``best`` indexes the best real key (-1: nothing
    scored). ``sequential_log10_p`` is the best key's Holm log10 p times
    L(L+1) for L early-stopping looks (valid under optional stopping);
    ``tokens_to_target``/``texts_to_target``/``queries_to_target`` record when
    the best key's Holm p first reached ``target_log10_p`` (descriptive)."""

    mode: str
    scheme: str
    keys: List[dict]
    best: int
    counts: dict
    looks: int = 0
    sequential_log10_p: float = 0.0
    texts: int = 0                 # texts teacher-forced, or completions received
    tokens: int = 0                # input tokens processed (open) / output tokens received (api)
    queries: int = 0               # HTTP requests sent, retries included (api)
    stopped_early: bool = False
    target_log10_p: Optional[float] = None
    tokens_to_target: Optional[int] = None
    texts_to_target: Optional[int] = None
    queries_to_target: Optional[int] = None
    error: Optional[str] = None    # set when the run ended on an error; results so far are kept
    sketch: Optional[dict] = None
    outputs: List[str] = field(default_factory=list, repr=False)

    @property
    def partial(self) -> bool:
        return self.error is not None

    @property
    def best_key(self) -> Optional[dict]:
        return self.keys[self.best] if self.best >= 0 else None

    @property
    def log10_p(self) -> float:
        """The decision quantity: the best key's Holm-adjusted log10 p,
        times L(L+1) after L early-stopping looks (0 when none scored)."""
        if self.best < 0:
            return 0.0
        return self.sequential_log10_p if self.looks > 0 else self.keys[self.best]["holm_log10_p"]

    @property
    def controls(self) -> List[dict]:
        return [k for k in self.keys if k["control"]]

    def to_json(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "outputs"}
        d["log10_p"] = self.log10_p
        d["partial"] = self.partial
        return d

    def report(self) -> str:
        lines = [f"radioactivity audit ({self.mode} mode), scheme {self.scheme}"]
        c = self.counts
        lines.append(f"  texts {self.texts}, tokens {self.tokens}" +
                     (f", queries {self.queries}" if self.mode == "api" else "") +
                     f"; tuples offered {c['positions']}, scored {c['scored']} unique "
                     f"(duplicates {c['duplicate']}, excluded {c['excluded']}, filtered {c['filtered']}, "
                     f"no context {c['no_context']})")
        if self.sketch:
            lines.append(f"  sketch filter: {self.sketch['kind']}, {self.sketch['size']} contexts, "
                         f"false-positive rate {self.sketch['false_positive_rate']:.3g}, digest {self.sketch['digest']}")
        for i, k in enumerate(self.keys):
            tag = "control " if k["control"] else ("best    " if i == self.best else "key     ")
            lines.append(f"  {tag}{k['key_id']}  scored {k['scored']}  score {k['score']:.1f} "
                         f"(expected {k['expected']:.1f}, z {k['z']:+.2f})  log10 p {k['log10_p']:.2f}" +
                         ("" if k["control"] else f"  holm {k['holm_log10_p']:.2f}"))
        if self.looks:
            lines.append(f"  early stopping: {self.looks} looks, sequential log10 p {self.sequential_log10_p:.2f}"
                         + (" (stopped at target)" if self.stopped_early else ""))
        if self.target_log10_p is not None:
            if self.tokens_to_target is not None:
                lines.append(f"  reached log10 p <= {self.target_log10_p:g} after {self.texts_to_target} texts, "
                             f"{self.tokens_to_target} tokens" +
                             (f", {self.queries_to_target} queries" if self.queries_to_target is not None else ""))
            else:
                lines.append(f"  did not reach log10 p <= {self.target_log10_p:g}")
        if self.error:
            lines.append(f"  PARTIAL: stopped on error: {self.error}")
        return "\n".join(lines)


def _sketch_info(sketch: Optional[ContextSketch]) -> Optional[dict]:
    if sketch is None:
        return None
    return {"kind": sketch.kind, "size": sketch.size, "false_positive_rate": sketch.false_positive_rate,
            "digest": sketch.digest}


def _result(mode: str, scheme: str, scorer: AuditScorer, **kw: Any) -> AuditResult:
    s = scorer.scores()
    return AuditResult(mode=mode, scheme=str(scheme), keys=s["keys"], best=s["best"], counts=s["counts"],
                       looks=s["looks"], sequential_log10_p=s["sequential_log10_p"], **kw)


class _TargetTracker:
    """Remembers when the best real key's Holm p first reached the target."""

    def __init__(self, target: Optional[float]):
        self.target = target
        self.hit: Optional[tuple] = None

    def update(self, scorer: AuditScorer, texts: int, tokens: int, queries: Optional[int] = None) -> None:
        if self.target is None or self.hit is not None:
            return
        s = scorer.scores()
        if s["best"] >= 0 and s["keys"][s["best"]]["holm_log10_p"] <= self.target:
            self.hit = (texts, tokens, queries)


def _encode(tokenizer: Any, text: str) -> List[int]:
    if callable(tokenizer) and not hasattr(tokenizer, "encode"):
        ids = tokenizer(text)
    else:
        ids = tokenizer.encode(text)
    if isinstance(ids, tuple):  # telltale.Tokenizer returns (ids, offsets)
        ids = ids[0]
    return [int(i) for i in ids]


def _logits_2d(out: Any) -> np.ndarray:
    if hasattr(out, "logits"):
        out = out.logits
    if hasattr(out, "detach"):
        out = out.detach().float().cpu().numpy()
    a = np.asarray(out, dtype=np.float32)
    if a.ndim == 3:
        if a.shape[0] != 1:
            raise ValueError(f"model returned logits for {a.shape[0]} rows, expected 1")
        a = a[0]
    if a.ndim != 2:
        raise ValueError(f"model must return logits [1, T, V] or [T, V], got shape {a.shape}")
    return np.ascontiguousarray(a)


def open_model(model: Callable[[Any], Any], texts_or_ids: Iterable[Union[str, Sequence[int]]], keys: KeyArg,
               scheme: Any, *, tokenizer: Any = None, max_length: Optional[int] = None, bos_id: Optional[int] = None,
               sketch: Optional[ContextSketch] = None, control_keys: int = 1,
               target_log10_p: Optional[float] = None, early_stop: bool = False,
               ignore_ids: Sequence[int] = (), max_texts: Optional[int] = None) -> AuditResult:
    """Reading-mode audit of an open-weights model.

    ``model(input_ids)`` gets a LongTensor [1, T] (or, without torch, an int64
    numpy array) and returns logits [1, T, V] / [T, V] (an object with
    ``.logits`` works too). Strings are encoded with ``tokenizer``; ``bos_id``
    is prepended when given. Texts longer than ``max_length`` are cut into
    consecutive chunks (each chunk restarts the model's context, and its
    first h positions are context only). With ``early_stop`` the run stops
    once the sequential p reaches ``target_log10_p`` (looks at geometric
    checkpoints; look l is paid for with a factor l(l+1), see docs/audit.md).
    """
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    scorer = AuditScorer(_keys(keys), scheme, control_keys=control_keys, sketch=sketch,
                         ignore_ids=[int(i) for i in ignore_ids])
    tracker = _TargetTracker(target_log10_p)
    if early_stop and target_log10_p is None:
        raise ValueError("early_stop needs target_log10_p")
    n_texts = n_tokens = 0
    stopped = False
    for item in texts_or_ids:
        if max_texts is not None and n_texts >= max_texts:
            break
        if isinstance(item, str):
            if tokenizer is None:
                raise ValueError("texts given as strings need a tokenizer")
            ids = _encode(tokenizer, item)
        else:
            ids = [int(i) for i in item]
        if bos_id is not None:
            ids = [int(bos_id)] + ids
        step = max_length or len(ids) or 1
        for start in range(0, len(ids), step):
            chunk = ids[start:start + step]
            if len(chunk) < 2:
                continue
            inp = torch.tensor([chunk], dtype=torch.long) if torch is not None else np.asarray([chunk], np.int64)
            if torch is not None:
                with torch.no_grad():
                    out = model(inp)
            else:
                out = model(inp)
            logits = _logits_2d(out)
            if logits.shape[0] != len(chunk):
                raise ValueError(f"model returned {logits.shape[0]} logit rows for {len(chunk)} input tokens")
            scorer.add_logits(chunk, logits)
            n_tokens += len(chunk)
        n_texts += 1
        tracker.update(scorer, n_texts, n_tokens)
        if early_stop and scorer.look(target_log10_p):
            stopped = True
            break
    hit = tracker.hit or (None, None, None)
    return _result("open", scheme, scorer, texts=n_texts, tokens=n_tokens, stopped_early=stopped,
                   target_log10_p=target_log10_p, texts_to_target=hit[0], tokens_to_target=hit[1],
                   sketch=_sketch_info(sketch))


def score_texts(texts_or_ids: Iterable[Union[str, Sequence[int]]], keys: KeyArg, scheme: Any, *,
                tokenizer: Any = None, sketch: Optional[ContextSketch] = None, control_keys: int = 1,
                target_log10_p: Optional[float] = None) -> AuditResult:
    """Dataset-style audit in Python: every text's tuples with one global
    dedup, optional sketch filter, controls (the C++ `telltale audit
    dataset` does the same over files at scale)."""
    scorer = AuditScorer(_keys(keys), scheme, control_keys=control_keys, sketch=sketch)
    tracker = _TargetTracker(target_log10_p)
    n_texts = n_tokens = 0
    for item in texts_or_ids:
        ids = _encode(tokenizer, item) if isinstance(item, str) else [int(i) for i in item]
        scorer.add_sequence(ids, 0)
        n_texts += 1
        n_tokens += len(ids)
        tracker.update(scorer, n_texts, n_tokens)
    hit = tracker.hit or (None, None, None)
    return _result("dataset", scheme, scorer, texts=n_texts, tokens=n_tokens, target_log10_p=target_log10_p,
                   texts_to_target=hit[0], tokens_to_target=hit[1], sketch=_sketch_info(sketch))


class _Client:
    """OpenAI-compatible /v1/completions client on urllib: retries on
    timeouts, connection errors, 429 and 5xx with exponential backoff;
    other 4xx fail at once. ``rate_limit`` caps requests per second."""

    def __init__(self, endpoint: str, model: Optional[str], timeout: float, retries: int, backoff: float,
                 rate_limit: Optional[float], api_key: Optional[str]):
        url = endpoint.rstrip("/")
        if not url.endswith("/completions"):
            url += "/completions" if url.endswith("/v1") else "/v1/completions"
        self.url = url
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.interval = 1.0 / rate_limit if rate_limit else 0.0
        self.api_key = api_key
        self.last = 0.0
        self.requests = 0

    def complete(self, prompt: str, max_tokens: int, temperature: float, seed: Optional[int]) -> str:
        body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": temperature}
        if self.model:
            body["model"] = self.model
        if seed is not None:
            body["seed"] = seed
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_err = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            wait = self.last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last = time.monotonic()
            self.requests += 1
            req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    payload = json.loads(resp.read().decode("utf-8"))
                choices = payload.get("choices") if isinstance(payload, dict) else None
                if not choices or not isinstance(choices[0], dict) or not isinstance(choices[0].get("text"), str):
                    raise _Fatal(f"{self.url}: response has no choices[0].text")
                return choices[0]["text"]
            except urllib.error.HTTPError as e:
                last_err = f"{self.url}: HTTP {e.code} {e.reason}"
                if e.code != 429 and e.code < 500:
                    raise _Fatal(last_err) from None
            except (socket.timeout, TimeoutError):
                last_err = f"{self.url}: timed out after {self.timeout:g} s"
            except urllib.error.URLError as e:
                reason = e.reason
                last_err = (f"{self.url}: timed out after {self.timeout:g} s" if isinstance(reason, socket.timeout)
                            else f"{self.url}: {reason}")
            except (ValueError, UnicodeDecodeError) as e:
                last_err = f"{self.url}: response is not JSON ({e})"
            except (ConnectionError, OSError) as e:
                last_err = f"{self.url}: {e}"
        raise _Fatal(f"{last_err} (after {self.retries + 1} attempts)")


class _Fatal(Exception):
    pass


def api_model(endpoint: str, prompts: Iterable[str], keys: KeyArg, scheme: Any, *, tokenizer: Any,
              model: Optional[str] = None, max_tokens: int = 64, temperature: float = 0.8,
              seed: Optional[int] = 0, timeout: float = 30.0, retries: int = 2, backoff: float = 0.5,
              rate_limit: Optional[float] = None, api_key: Optional[str] = None,
              sketch: Optional[ContextSketch] = None, control_keys: int = 1,
              target_log10_p: Optional[float] = None, early_stop: bool = False,
              max_queries: Optional[int] = None, keep_outputs: bool = False) -> AuditResult:
    """Closed-model audit through an OpenAI-compatible completions endpoint.

    Each prompt is sent once (``seed`` + prompt index as the request seed
    when ``seed`` is not None). The completion is re-tokenized together
    with its prompt; only tuples after the prompt are scored, and every
    tuple that occurs in any prompt is excluded. A request that still fails
    after ``retries`` retries ends the run: the result so far is returned
    with ``error`` set (the CLI then exits 2).
    """
    if early_stop and target_log10_p is None:
        raise ValueError("early_stop needs target_log10_p")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    scorer = AuditScorer(_keys(keys), scheme, control_keys=control_keys, sketch=sketch)
    client = _Client(endpoint, model, timeout, retries, backoff, rate_limit, api_key)
    tracker = _TargetTracker(target_log10_p)
    n_texts = n_tokens = 0
    stopped = False
    error = None
    outputs: List[str] = []
    for i, prompt in enumerate(prompts):
        if max_queries is not None and client.requests >= max_queries:
            break
        try:
            text = client.complete(prompt, max_tokens, temperature, None if seed is None else seed + i)
        except _Fatal as e:
            error = str(e)
            break
        prompt_ids = _encode(tokenizer, prompt)
        full = _encode(tokenizer, prompt + text)
        # Re-tokenizing prompt + completion may merge tokens across the
        # boundary; the prompt part is the longest common prefix.
        p = 0
        while p < min(len(prompt_ids), len(full)) and prompt_ids[p] == full[p]:
            p += 1
        scorer.exclude(prompt_ids)
        scorer.add_sequence(full, p)
        n_texts += 1
        n_tokens += len(full) - p
        if keep_outputs:
            outputs.append(text)
        tracker.update(scorer, n_texts, n_tokens, client.requests)
        if early_stop and scorer.look(target_log10_p):
            stopped = True
            break
    hit = tracker.hit or (None, None, None)
    return _result("api", scheme, scorer, texts=n_texts, tokens=n_tokens, queries=client.requests,
                   stopped_early=stopped, target_log10_p=target_log10_p, texts_to_target=hit[0],
                   tokens_to_target=hit[1], queries_to_target=hit[2], error=error, sketch=_sketch_info(sketch),
                   outputs=outputs)


class SketchRecorder:
    """Generation-side helper: feed it what you generated, save one sketch
    per batch, reference its digest in the batch's provenance statement
    (``telltale sign generation-batch ... --policy context_sketch_sha256=<digest>``)."""

    def __init__(self, key: Key, scheme: Any, kind: str = "exact", expected_contexts: int = 1 << 20,
                 false_positive_rate: float = 1e-3):
        self.sketch = ContextSketch(key, scheme, kind=kind, expected_contexts=expected_contexts,
                                    false_positive_rate=false_positive_rate)

    def record(self, sequence: Sequence[int], prompt_tokens: int = 0) -> None:
        """``sequence`` = prompt ids + generated ids (pads stripped)."""
        self.sketch.record(np.asarray(sequence, dtype=np.int64), prompt_tokens)

    def record_batch(self, sequences: Iterable[Sequence[int]], prompt_lengths: Iterable[int]) -> None:
        for s, p in zip(sequences, prompt_lengths):
            self.record(s, p)

    def save(self, path: str) -> str:
        self.sketch.save(path)
        return self.sketch.digest


# ---------------------------------------------------------------- command line

def _load_tokenizer(path: str) -> Any:
    if path.endswith(".model"):
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor()
        if not sp.Load(path):
            raise ValueError(f"{path}: not a SentencePiece model")
        return lambda text: list(sp.EncodeAsIds(text))
    from telltale._core import Tokenizer
    return Tokenizer.load(path)


def _read_lines(path: str, what: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        if path.endswith((".jsonl", ".ndjson")):
            out = []
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                rec = json.loads(line)
                # "prompt" first, then "text", as `telltale audit model` reads them.
                field = "prompt" if isinstance(rec, dict) and "prompt" in rec else "text"
                if not isinstance(rec, dict) or not isinstance(rec.get(field), str):
                    raise ValueError(f"{path}:{n}: {what} record has no string 'prompt' or 'text' field")
                out.append(rec[field])
            return out
        return [line.rstrip("\n") for line in f if line.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m telltale.audit",
                                 description="Radioactivity audits of a suspect model (docs/audit.md).")
    sub = ap.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--key", action="append", required=True, help="key file (repeat for several tenants)")
    common.add_argument("--scheme", required=True)
    common.add_argument("--sketch", help="context sketch recorded at generation (supervised filter)")
    common.add_argument("--controls", type=int, default=1, help="fresh random control keys (default 1)")
    common.add_argument("--alpha", type=float, default=1e-6, help="significance level of the verdict")
    common.add_argument("--early-stop", action="store_true", help="stop once log10 p reaches log10(alpha)")
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    op = sub.add_parser("open", parents=[common], help="reading mode on an open-weights torch model")
    op.add_argument("--loader", required=True, help="MODULE:FUNC returning (model, tokenizer)")
    op.add_argument("--loader-arg", action="append", default=[], help="argument passed to the loader")
    op.add_argument("--texts", required=True, help="texts to teacher-force: one per line, or .jsonl 'text'")
    op.add_argument("--max-length", type=int, default=None)
    op.add_argument("--bos-id", type=int, default=None)
    apip = sub.add_parser("api", parents=[common], help="closed model behind an OpenAI-compatible endpoint")
    apip.add_argument("--endpoint", required=True)
    apip.add_argument("--prompts", required=True, help="one prompt per line, or .jsonl 'prompt'/'text'")
    apip.add_argument("--tokenizer", required=True, help="suspect's tokenizer (.model SentencePiece or telltale)")
    apip.add_argument("--model", default=None)
    apip.add_argument("--max-tokens", type=int, default=64)
    apip.add_argument("--temperature", type=float, default=0.8)
    apip.add_argument("--timeout", type=float, default=30.0)
    apip.add_argument("--retries", type=int, default=2)
    apip.add_argument("--backoff", type=float, default=0.5)
    apip.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    apip.add_argument("--max-queries", type=int, default=None)
    args = ap.parse_args(argv)
    try:
        if not 0 < args.alpha < 1:
            raise ValueError(f"--alpha must be in (0, 1), got {args.alpha}")
        keys = [Key.load(p) for p in args.key]
        sketch = ContextSketch.load(args.sketch, keys[0], args.scheme) if args.sketch else None
        target = math.log10(args.alpha)
        if args.mode == "open":
            mod_name, _, func = args.loader.partition(":")
            if not func:
                raise ValueError(f"--loader must be MODULE:FUNC, got {args.loader!r}")
            model, tok = getattr(importlib.import_module(mod_name), func)(*args.loader_arg)
            res = open_model(model, _read_lines(args.texts, "text"), keys, args.scheme, tokenizer=tok,
                             max_length=args.max_length, bos_id=args.bos_id, sketch=sketch,
                             control_keys=args.controls, target_log10_p=target, early_stop=args.early_stop)
        else:
            res = api_model(args.endpoint, _read_lines(args.prompts, "prompt"), keys, args.scheme,
                            tokenizer=_load_tokenizer(args.tokenizer), model=args.model,
                            max_tokens=args.max_tokens, temperature=args.temperature, timeout=args.timeout,
                            retries=args.retries, backoff=args.backoff, rate_limit=args.rate_limit,
                            sketch=sketch, control_keys=args.controls, target_log10_p=target,
                            early_stop=args.early_stop, max_queries=args.max_queries)
    except (TelltaleError, OSError, ValueError, TypeError, ImportError, AttributeError, RuntimeError) as e:
        print(f"telltale audit: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(res.to_json(), sort_keys=True) if args.json else res.report())
    if res.error:
        print(f"telltale audit: error: {res.error}", file=sys.stderr)
        return 2
    return 0 if res.best >= 0 and res.log10_p <= target else 1


if __name__ == "__main__":
    sys.exit(main())
