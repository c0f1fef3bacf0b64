"""telltale.audit: context sketches, reading mode on toy models, and the
closed-mode client against an in-process OpenAI-compatible stub server
(retries, timeouts, failures midway, rate limit, prompt exclusion)."""
from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import telltale
import telltale.audit as audit

SCHEME = "kgw:gamma=0.25,delta=2,h=1"
V = 512


def fixed_key(label: str) -> telltale.Key:
    return telltale.Key.from_bytes(hashlib.sha256(label.encode()).digest())


KEY = fixed_key("audit-test-key")
OTHER = fixed_key("audit-test-other")


def watermarked_text(key, n, seed, scheme=SCHEME):
    """Tokens sampled from a flat distribution biased by the watermark."""
    wm = telltale.Watermarker(key, scheme, V)
    rng = np.random.default_rng(seed)
    ids = [int(rng.integers(V))]
    for _ in range(n - 1):
        logits = np.zeros(V, dtype=np.float32)
        wm.apply(ids, logits)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(V, p=p / p.sum())))
    return ids


class GreenModel:
    """A 'radioactive' model: its top-1 after context c is a green token of
    c under `key` (a model that learned the green lists perfectly)."""

    def __init__(self, key, scheme=SCHEME):
        self.wm = telltale.Watermarker(key, scheme, V)
        self.calls = 0

    def __call__(self, input_ids):
        self.calls += 1
        ids = np.asarray(input_ids)[0]
        out = np.zeros((len(ids), V), dtype=np.float32)
        for j in range(len(ids)):
            mask, _ = self.wm.green_mask([int(t) for t in ids[:j + 1]], V)
            greens = np.flatnonzero(mask)
            out[j, greens[(int(ids[j]) * 7) % len(greens)]] = 1.0
        return out[None]


class CleanModel:
    """Top-1 is a fixed function of the previous token, independent of any key."""

    def __call__(self, input_ids):
        ids = np.asarray(input_ids)[0]
        out = np.zeros((len(ids), V), dtype=np.float32)
        out[np.arange(len(ids)), (ids * 31 + 5) % V] = 1.0
        return out[None]


def test_open_mode_detects_a_radioactive_model_and_not_a_clean_one():
    texts = [watermarked_text(KEY, 80, s) for s in range(6)]
    res = audit.open_model(GreenModel(KEY), texts, KEY, SCHEME, control_keys=3, target_log10_p=-6)
    assert res.mode == "open" and res.texts == 6 and res.tokens == 480
    assert res.log10_p < -6 and res.best == 0
    assert len(res.controls) == 3 and all(c["log10_p"] > -6 for c in res.controls)
    assert res.tokens_to_target is not None and res.tokens_to_target <= 480
    assert "control" in res.report() and "best" in res.report()
    clean = audit.open_model(CleanModel(), texts, KEY, SCHEME)
    assert clean.log10_p > -3
    wrong = audit.open_model(GreenModel(KEY), texts, OTHER, SCHEME)
    assert wrong.log10_p > -3


def test_open_mode_multi_key_attribution_and_early_stop():
    texts = [watermarked_text(OTHER, 80, s) for s in range(40)]
    model = GreenModel(OTHER)
    res = audit.open_model(model, texts, [KEY, OTHER], SCHEME, target_log10_p=-6, early_stop=True)
    assert res.best == 1 and res.keys[1]["key_id"] == OTHER.id
    assert res.stopped_early and res.texts < 40 and model.calls == res.texts
    assert res.looks >= 1
    assert res.log10_p == pytest.approx(res.keys[1]["holm_log10_p"] + np.log10(res.looks * (res.looks + 1)))


def test_open_mode_long_texts_are_chunked_and_strings_need_a_tokenizer():
    text = watermarked_text(KEY, 200, 3)
    res = audit.open_model(GreenModel(KEY), [text], KEY, SCHEME, max_length=64)
    assert res.tokens == 200
    with pytest.raises(ValueError, match="tokenizer"):
        audit.open_model(CleanModel(), ["some text"], KEY, SCHEME)
    res = audit.open_model(CleanModel(), ["a b c"], KEY, SCHEME, tokenizer=lambda s: [ord(c) % V for c in s])
    assert res.tokens == 5
    with pytest.raises(ValueError, match="logit rows"):
        audit.open_model(lambda ids: np.zeros((1, 3, V), np.float32), [[1, 2, 3, 4]], KEY, SCHEME)
    with pytest.raises(telltale.InvalidArgumentError):
        audit.open_model(CleanModel(), [[1, -2, 3]], KEY, SCHEME)


def test_sketch_round_trip_and_filter(tmp_path):
    ours = [watermarked_text(KEY, 60, s, "kgw:gamma=0.25,delta=2,h=2") for s in range(4)]
    rec = audit.SketchRecorder(KEY, "kgw:gamma=0.25,delta=2,h=2")
    rec.record_batch(ours, [0] * len(ours))
    path = str(tmp_path / "batch.ttsk")
    digest = rec.save(path)
    assert digest == hashlib.sha256(open(path, "rb").read()).hexdigest()
    sk = telltale.audit.ContextSketch.load(path, KEY, "kgw:gamma=0.25,delta=2,h=2")
    assert sk.size == rec.sketch.size and sk.digest == digest and sk.kind == "exact"
    with pytest.raises(telltale.FailedPreconditionError, match="key"):
        telltale.audit.ContextSketch.load(path, OTHER, "kgw:gamma=0.25,delta=2,h=2")
    rng = np.random.default_rng(9)
    theirs = [list(map(int, rng.integers(0, V, 400))) for _ in range(5)]
    plain = audit.score_texts(theirs + ours, KEY, "kgw:gamma=0.25,delta=2,h=2")
    filt = audit.score_texts(theirs + ours, KEY, "kgw:gamma=0.25,delta=2,h=2", sketch=sk)
    assert filt.counts["filtered"] > 1500 and filt.log10_p < plain.log10_p
    assert filt.sketch["digest"] == digest
    bloom = telltale.audit.ContextSketch(KEY, "kgw:gamma=0.25,delta=2,h=2", kind="bloom", expected_contexts=1000,
                                         false_positive_rate=0.01)
    assert bloom.kind == "bloom" and bloom.false_positive_rate == 0.0
    with pytest.raises(telltale.InvalidArgumentError):
        telltale.audit.ContextSketch(KEY, "unigram")
    with pytest.raises(telltale.InvalidArgumentError):
        telltale.audit.ContextSketch(KEY, SCHEME, kind="cuckoo")


# ---------------------------------------------------------------- closed mode

class Stub:
    """OpenAI-compatible stub on 127.0.0.1. `reply(prompt, n)` returns the
    completion text for request n (1-based), or an int HTTP status, or a
    float: seconds to sleep before answering 'x'."""

    def __init__(self, reply):
        self.requests = []
        stub = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append((time.monotonic(), self.path, body))
                r = reply(body["prompt"], len(stub.requests))
                if isinstance(r, float):
                    time.sleep(r)
                    r = "x"
                if isinstance(r, int):
                    self.send_response(r)
                    self.end_headers()
                    return
                data = json.dumps({"choices": [{"text": r}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def char_tok(s):
    return [ord(c) % V for c in s]


def wm_string(key, n, seed):
    return "".join(chr(t if t >= 32 else t + 256) for t in watermarked_text(key, n, seed))


@pytest.fixture
def stub_factory():
    made = []

    def make(reply):
        s = Stub(reply)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_api_mode_scores_completions_and_excludes_prompt_tuples(stub_factory):
    outs = {f"p{i}": wm_string(KEY, 120, 100 + i) for i in range(8)}
    stub = stub_factory(lambda prompt, n: outs[prompt])
    res = audit.api_model(stub.url, list(outs), KEY, SCHEME, tokenizer=char_tok, max_tokens=50,
                          target_log10_p=-6, control_keys=2)
    assert res.error is None and res.queries == 8 and res.texts == 8
    assert res.log10_p < -6 and all(c["log10_p"] > -6 for c in res.controls)
    assert res.queries_to_target is not None and res.queries_to_target <= 8
    assert stub.requests[0][1] == "/v1/completions"
    assert stub.requests[0][2]["max_tokens"] == 50 and stub.requests[3][2]["seed"] == 3
    # A clean model that parrots watermarked prompts: every tuple is excluded.
    prompts = [wm_string(KEY, 120, 200 + i) for i in range(6)]
    parrot = stub_factory(lambda prompt, n: prompt)
    res = audit.api_model(parrot.url, prompts, KEY, SCHEME, tokenizer=char_tok)
    assert res.counts["excluded"] > 500 and res.log10_p > -3


def test_api_mode_retries_then_keeps_partial_results(stub_factory):
    outs = [wm_string(KEY, 60, i) for i in range(10)]
    stub = stub_factory(lambda prompt, n: outs[n - 1] if n <= 4 else 503)
    res = audit.api_model(stub.url, [f"q{i}" for i in range(10)], KEY, SCHEME, tokenizer=char_tok, retries=2,
                          backoff=0.01)
    assert res.partial and "HTTP 503" in res.error and "3 attempts" in res.error
    assert res.texts == 4 and res.queries == 7 and res.counts["scored"] > 0
    # 4xx is not retried.
    bad = stub_factory(lambda prompt, n: 400)
    res = audit.api_model(bad.url, ["a", "b"], KEY, SCHEME, tokenizer=char_tok, retries=3)
    assert res.partial and res.queries == 1 and "HTTP 400" in res.error


def test_api_mode_timeout_and_transient_recovery(stub_factory):
    slow = stub_factory(lambda prompt, n: 1.0)
    res = audit.api_model(slow.url, ["a"], KEY, SCHEME, tokenizer=char_tok, timeout=0.2, retries=1, backoff=0.01)
    assert res.partial and "timed out" in res.error and res.queries == 2
    # One transient 500, then success: retried and complete.
    flaky = stub_factory(lambda prompt, n: 500 if n == 1 else "abcdef")
    res = audit.api_model(flaky.url, ["a"], KEY, SCHEME, tokenizer=char_tok, retries=1, backoff=0.01)
    assert res.error is None and res.queries == 2 and res.texts == 1


def test_api_mode_rate_limit_spaces_requests(stub_factory):
    stub = stub_factory(lambda prompt, n: "abc")
    audit.api_model(stub.url, ["a", "b", "c", "d"], KEY, SCHEME, tokenizer=char_tok, rate_limit=10)
    times = [t for t, _, _ in stub.requests]
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.08


def test_api_mode_unreachable_endpoint_is_an_error_not_a_crash():
    res = audit.api_model("http://127.0.0.1:9", ["a"], KEY, SCHEME, tokenizer=char_tok, retries=0, timeout=2)
    assert res.partial and res.texts == 0 and res.queries == 1


def test_cli_reports_errors_with_exit_2(tmp_path, capsys):
    assert audit.main(["api", "--endpoint", "http://127.0.0.1:9", "--prompts", str(tmp_path / "missing.txt"),
                       "--tokenizer", "x.model", "--key", str(tmp_path / "k"), "--scheme", SCHEME]) == 2
    assert "telltale audit: error:" in capsys.readouterr().err
    key = tmp_path / "k.key"
    KEY.save(str(key))
    prompts = tmp_path / "p.txt"
    prompts.write_text("a\nb\n")
    assert audit.main(["api", "--endpoint", "http://127.0.0.1:9", "--prompts", str(prompts), "--tokenizer",
                       str(tmp_path / "nope.model"), "--key", str(key), "--scheme", SCHEME]) == 2
    assert audit.main(["open", "--loader", "nomodule", "--texts", str(prompts), "--key", str(key), "--scheme",
                       SCHEME]) == 2
    assert "MODULE:FUNC" in capsys.readouterr().err
