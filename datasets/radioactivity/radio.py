"""Radioactivity experiment building blocks (issue 8), shared by
experiment.py, server.py and the reduced ctest.

Teacher: the committed reference LM (datasets/reflm). It generates a
watermarked corpus under the teacher key and a clean corpus (same prompts'
distribution, no watermark). Students: the reference LM's own weights,
fine-tuned for a fixed number of AdamW steps on a mix of the two corpora.
Everything expensive (corpora, students) is cached under
$TELLTALE_CACHE_DIR/radioactivity, keyed by a SHA-256 of its full
configuration (and of the teacher weights), so reruns are fast.

All runs use one torch thread (CPU is shared; reductions stay reproducible).
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.dirname(HERE)
if DATASETS not in sys.path:
    sys.path.insert(0, DATASETS)

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import reflm  # noqa: E402

torch.set_num_threads(1)

PROMPT_TOKENS = 8


def cache_dir() -> str:
    base = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    d = os.path.join(base, "radioactivity")
    os.makedirs(d, exist_ok=True)
    return d


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:24]


def _teacher_digest() -> str:
    return reflm.metadata()["files"]["model.f16.pt"]


def write_atomic(path: str, blob: bytes) -> None:
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def teacher_key():
    import telltale
    return telltale.Key.from_bytes(hashlib.sha256(b"telltale-radioactivity-teacher-v1").digest())


def wrong_key():
    import telltale
    return telltale.Key.from_bytes(hashlib.sha256(b"telltale-radioactivity-wrong-v1").digest())


_TEACHER = None


def teacher():
    """(model, tokenizer) of the committed reference LM, loaded once."""
    global _TEACHER
    if _TEACHER is None:
        _TEACHER = reflm.load()
    return _TEACHER


def heldout_stream(tok) -> List[int]:
    with open(os.path.join(reflm.WEIGHTS_DIR, "heldout.txt"), encoding="utf-8") as f:
        paras = [p for p in f.read().split("\n\n") if p.strip()]
    ids: List[int] = []
    for p in paras:
        ids.extend(tok.encode(p))
    return ids


def prompts(tok, n: int, seed: int) -> List[List[int]]:
    """n prompts: BOS + PROMPT_TOKENS ids cut at seeded random offsets of
    the reference LM's held-out text (never its training text)."""
    stream = heldout_stream(tok)
    rng = random.Random(seed)
    return [[tok.bos_id] + stream[s:s + PROMPT_TOKENS]
            for s in (rng.randrange(0, len(stream) - PROMPT_TOKENS) for _ in range(n))]


def text_prompts(tok, n: int, seed: int, words: int = 6) -> List[str]:
    """n plain-text prompts (the first `words` words of held-out sentences
    at seeded offsets) for the closed-mode queries."""
    with open(os.path.join(reflm.WEIGHTS_DIR, "heldout.txt"), encoding="utf-8") as f:
        toks = f.read().split()
    rng = random.Random(seed)
    return [" ".join(toks[s:s + words]) for s in (rng.randrange(0, len(toks) - words) for _ in range(n))]


@dataclass(frozen=True)
class CorpusConfig:
    scheme: Optional[str]   # None: clean
    texts: int
    new_tokens: int
    temperature: float
    seed: int


def corpus(cfg: CorpusConfig, batch: int = 32) -> dict:
    """{"prompts": [[ids]], "outputs": [[ids]]}: cached teacher generations.
    The watermarked ones use teacher_key()."""
    path = os.path.join(cache_dir(), "corpus-" + _digest({"cfg": asdict(cfg), "teacher": _teacher_digest(),
                                                        "v": 1}) + ".json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    import telltale
    from telltale.hf import WatermarkLogitsProcessor
    model, tok = teacher()
    ps = prompts(tok, cfg.texts, cfg.seed)
    outs: List[List[int]] = []
    key = teacher_key()
    for b0 in range(0, len(ps), batch):
        chunk = ps[b0:b0 + batch]
        proc = None
        if cfg.scheme is not None:
            if telltale.Scheme(cfg.scheme).is_sampling:
                proc = _GumbelProcessor(key, cfg.scheme, tok.vocab_size, cfg.temperature, cfg.seed * 7919 + b0,
                                        len(chunk))
            else:
                # Prompts have equal length, so no padding to strip.
                proc = WatermarkLogitsProcessor([key] * len(chunk), cfg.scheme, vocab_size=tok.vocab_size)
        out = reflm.generate(model, tok, chunk, max_new_tokens=cfg.new_tokens, min_new_tokens=cfg.new_tokens,
                             temperature=cfg.temperature, seed=cfg.seed + b0, logits_processor=proc,
                             stop_at_eos=False)
        outs.extend([list(map(int, t)) for t in out.new_tokens])
    data = {"prompts": ps, "outputs": outs, "config": asdict(cfg)}
    write_atomic(path, json.dumps(data).encode())
    return data


class _GumbelProcessor:
    """Sampling schemes through the HF protocol: telltale.Sampler draws each
    row's token (applying the temperature itself); the row becomes -inf
    everywhere else, and generate()'s own temperature then changes nothing."""

    def __init__(self, key, scheme: str, vocab: int, temperature: float, seed: int, rows: int):
        import telltale
        self.samplers = [telltale.Sampler(telltale.Watermarker(key, scheme, vocab), seed=seed + i,
                                          temperature=temperature) for i in range(rows)]

    def __call__(self, input_ids, scores):
        out = torch.full_like(scores, float("-inf"))
        ids = input_ids.numpy()
        for r, s in enumerate(self.samplers):
            out[r, s.sample(ids[r], scores[r].contiguous().numpy())] = 0.0
        return out


def record_sketch(data: dict, scheme: str, kind: str = "exact"):
    """The generation-side record of a watermarked corpus."""
    from telltale.audit import SketchRecorder
    rec = SketchRecorder(teacher_key(), scheme, kind=kind,
                         expected_contexts=max(1, sum(len(o) for o in data["outputs"])))
    for p, o in zip(data["prompts"], data["outputs"]):
        rec.record(p + o, len(p))
    return rec.sketch


@dataclass(frozen=True)
class StudentConfig:
    scheme: str
    fraction: float       # watermarked share of the fine-tuning texts
    texts: int            # fine-tuning texts in total
    steps: int
    batch: int
    lr: float
    seed: int
    new_tokens: int
    temperature: float
    init: str = "reflm"   # fine-tuned from the reference LM's weights


def mix(cfg: StudentConfig) -> List[List[int]]:
    """The fine-tuning texts: round(fraction * texts) watermarked teacher
    generations, the rest clean ones (distinct prompts), shuffled."""
    n_wm = int(round(cfg.fraction * cfg.texts))
    wm = corpus(CorpusConfig(cfg.scheme, cfg.texts, cfg.new_tokens, cfg.temperature, cfg.seed + 1)) if n_wm else None
    clean = corpus(CorpusConfig(None, cfg.texts, cfg.new_tokens, cfg.temperature, cfg.seed + 2)) \
        if n_wm < cfg.texts else None
    seqs = []
    if wm:
        seqs += [p + o for p, o in zip(wm["prompts"][:n_wm], wm["outputs"][:n_wm])]
    if clean:
        seqs += [p + o for p, o in zip(clean["prompts"][:cfg.texts - n_wm], clean["outputs"][:cfg.texts - n_wm])]
    random.Random(cfg.seed).shuffle(seqs)
    return seqs


def student(cfg: StudentConfig):
    """(model, tokenizer): the cached fine-tuned student, trained on first use."""
    _, tok = teacher()
    path = os.path.join(cache_dir(), "student-" + _digest({"cfg": asdict(cfg), "teacher": _teacher_digest(),
                                                          "v": 1}) + ".pt")
    meta = reflm.metadata()
    lcfg = reflm.LlamaConfig(**meta["config"])
    if not os.path.exists(path):
        seqs = mix(cfg)
        model = reflm.load_model(os.path.join(reflm.WEIGHTS_DIR, "model.f16.pt"), lcfg)
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.0)
        gen = torch.Generator().manual_seed(cfg.seed)
        width = min(len(s) for s in seqs)
        data = torch.tensor([s[:width] for s in seqs], dtype=torch.long)
        for step in range(cfg.steps):
            idx = torch.randint(0, len(seqs), (cfg.batch,), generator=gen)
            xb = data[idx]
            logits = model(xb[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, lcfg.vocab_size), xb[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        model.eval()
        buf = tempfile.NamedTemporaryFile(dir=cache_dir(), prefix=".tmp-", suffix=".pt", delete=False)
        buf.close()
        try:
            torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, buf.name)
            os.replace(buf.name, path)
        except BaseException:
            if os.path.exists(buf.name):
                os.unlink(buf.name)
            raise
    state = torch.load(path, map_location="cpu")
    model = reflm.LlamaModel(lcfg)
    model.load_state_dict(state)
    model.eval()
    return model, tok


def student_path(cfg: StudentConfig) -> str:
    student(cfg)
    return os.path.join(cache_dir(), "student-" + _digest({"cfg": asdict(cfg), "teacher": _teacher_digest(),
                                                          "v": 1}) + ".pt")


def audit_texts(scheme: str, n: int, new_tokens: int, temperature: float, seed: int) -> List[List[int]]:
    """Fresh watermarked teacher texts (prompt + output) that no student saw:
    the inputs teacher-forced in reading mode."""
    data = corpus(CorpusConfig(scheme, n, new_tokens, temperature, seed + 1000))
    return [p + o for p, o in zip(data["prompts"], data["outputs"])]


def open_audit(model, texts: Sequence[Sequence[int]], scheme: str, key=None, sketch=None, controls: int = 2,
               target_log10_p: float = -6.0):
    import telltale.audit as audit
    return audit.open_model(model, texts, key or teacher_key(), scheme, sketch=sketch, control_keys=controls,
                            target_log10_p=target_log10_p)


def dataset_audit(seqs: Sequence[Sequence[int]], scheme: str, key=None, sketch=None, controls: int = 2,
                  target_log10_p: float = -6.0):
    import telltale.audit as audit
    return audit.score_texts(seqs, key or teacher_key(), scheme, sketch=sketch, control_keys=controls,
                             target_log10_p=target_log10_p)


def np_ids(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)
