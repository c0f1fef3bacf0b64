"""Integration: the patched llama-server watermarks per tenant.

Starts the cached, patched llama-server (TT_LLAMA_SERVER) on 127.0.0.1 with
the reference LM's GGUF (TT_LLAMA_MODEL), 4 parallel slots and
libtelltale_llama.so (TT_LLAMA_LIB); sends concurrent requests for two
tenants plus opted-out ones through /completion and /v1/chat/completions,
streaming and not; re-tokenizes every returned text with
`telltale tokenize --tokenizer reflm.gguf` and runs `telltale detect` with
both tenant keys (TT_TELLTALE). Every 200-token watermarked completion must
be attributed to its tenant at p < 1e-6; opted-out ones must give p > 1e-3.
A second server (--tt-api-keys) takes the tenant from the bearer key: a
request whose "user" claims the other tenant is still attributed to the
key's tenant, an unknown key gets HTTP 401, a key-less request is served
anonymously (unwatermarked) because its policy allows it.
"""
import contextlib
import concurrent.futures
import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

# A bias scheme (first in the chain) and a sampling scheme (replacing dist).
# gumbel with h=1 is deterministic on one token of context and loops within
# 200 tokens (few distinct scored tuples); h=4 does not.
SCHEMES = ["kgw:gamma=0.25,delta=2,h=1", "gumbel:h=4"]
N_PREDICT = 200
PROMPTS = ["It is a truth universally acknowledged, that",
           "In the beginning God created",
           "The kernel uses two spaces and",
           "She walked into the room and"]


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this test through ctest (label slow)")
    if not os.path.exists(value):
        pytest.fail(f"{name}={value} does not exist (build the telltale_llama_cpp target)")
    return value


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port, path, body, timeout=300, api_key=None):
    headers = {"Content-Type": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def _text_of(path, stream, raw):
    chat = path.startswith("/v1/")
    if not stream:
        j = json.loads(raw)
        return (j["choices"][0]["message"]["content"] if chat else j["content"]), \
            (j["usage"]["completion_tokens"] if chat else j["tokens_predicted"])
    text, n = "", 0
    for line in raw.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        j = json.loads(line[len("data: "):])
        if chat:
            for c in j.get("choices", []):
                text += (c.get("delta") or {}).get("content") or ""
            if j.get("usage"):
                n = j["usage"]["completion_tokens"]
        else:
            text += j.get("content", "")
            if j.get("stop"):
                n = j.get("tokens_predicted", n)
    return text, n


@contextlib.contextmanager
def _run_server(scheme, work, policy_text, extra_args=()):
    exe, lib, model, cli = (_env(v) for v in ("TT_LLAMA_SERVER", "TT_LLAMA_LIB", "TT_LLAMA_MODEL", "TT_TELLTALE"))
    keys = work / "keys"
    keys.mkdir()
    # Tenant keys derived from one master key, as a provider would issue them.
    # The master key is fixed (SPEC 1.1 file format) rather than drawn by
    # keygen: the texts are fixed by seed 7 (byte-identical across runs on
    # one machine, concurrency included), so a fixed key makes the opted-out
    # texts' null p-values a fixed outcome instead of a fresh draw that
    # fails one run in a few hundred (4 checks at 1e-3: CI hit 10^-3.43
    # once). keygen has its own tests.
    master = work / "master.key"
    master.write_text("telltale-key v1\nkind master\nkey " +
                      hashlib.sha256(b"telltale llama.server test master").hexdigest() + "\n")
    master.chmod(0o600)
    for tenant in ("acme", "globex"):
        subprocess.run([cli, "key", "derive", str(work / "master.key"), "--tenant", tenant, "--region", "eu",
                        "--epoch", "2026-11", "-o", str(keys / f"{tenant}.key")], check=True, capture_output=True)
    policy = work / "policy"
    policy.write_text(policy_text)
    record = work / "records.jsonl"
    port = _free_port()
    log = open(work / "server.log", "w")
    proc = subprocess.Popen([exe, "-m", model, "--host", "127.0.0.1", "--port", str(port), "-np", "4",
                             "-c", "2048", "-t", "2", "--seed", "1",
                             "--tt-lib", lib, "--tt-scheme", scheme, "--tt-keys-dir", str(keys),
                             "--tt-policy", str(policy), "--tt-record", str(record), *extra_args],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-server exited with {proc.returncode}:\n{(work / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.time() > deadline:
                pytest.fail("llama-server did not become healthy in 120 s")
            time.sleep(0.3)
        yield {"port": port, "keys": keys, "record": record, "work": work, "cli": cli, "model": model,
               "scheme": scheme}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module", params=SCHEMES)
def server(request, tmp_path_factory):
    with _run_server(request.param, tmp_path_factory.mktemp("llama_server"),
                     "telltale-llama-policy v1\ndefault opt_out=deny\ntenant acme opt_out=allow\n") as s:
        yield s


API_KEYS = {"acme": "sk-acme-4f1c0a9e2b7d6c35", "globex": "sk-globex-77d2a1e09c4b8f61"}


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    """The API key decides the tenant; key-less requests are allowed (anonymous)."""
    work = tmp_path_factory.mktemp("llama_server_keys")
    api_keys = work / "api-keys"
    api_keys.write_text("telltale-llama-api-keys v1\n" + "".join(f"{k} {t}\n" for t, k in API_KEYS.items()))
    api_keys.chmod(0o600)
    with _run_server(SCHEMES[0], work, "telltale-llama-policy v1\nanonymous requests=allow\n",
                     ["--tt-api-keys", str(api_keys)]) as s:
        yield s


def _request(port, path, tenant, stream, watermark, prompt):
    body = {"user": tenant, "stream": stream, "n_predict": N_PREDICT, "ignore_eos": True, "seed": 7}
    if not watermark:
        body["tt_watermark"] = False
    if path.startswith("/v1/"):
        body["messages"] = [{"role": "user", "content": prompt}]
        body["max_tokens"] = N_PREDICT
        if stream:
            body["stream_options"] = {"include_usage": True}
    else:
        body["prompt"] = prompt
    status, raw = _post(port, path, body)
    assert status == 200, f"{path} {tenant} stream={stream}: HTTP {status}: {raw[:500]}"
    return _text_of(path, stream, raw)


def _detect(server, texts):
    """Re-tokenizes each text with the GGUF's tokenizer and detects with both keys."""
    files = []
    for i, t in enumerate(texts):
        p = server["work"] / f"text{i}.txt"
        p.write_text(t)
        files.append(str(p))
    tok = subprocess.run([server["cli"], "tokenize", "--tokenizer", server["model"], *files],
                         capture_output=True, text=True)
    assert tok.returncode == 0, tok.stderr
    ids = server["work"] / "ids.txt"
    ids.write_text(tok.stdout)
    det = subprocess.run([server["cli"], "detect", "--json", "--scheme", server["scheme"], "--tokens", str(ids),
                          "--key", str(server["keys"] / "acme.key"), "--key", str(server["keys"] / "globex.key")],
                         capture_output=True, text=True)
    assert det.returncode in (0, 1), det.stderr
    return [json.loads(line) for line in det.stdout.splitlines()]


def _key_id(server, tenant):
    r = subprocess.run([server["cli"], "key", "id", str(server["keys"] / f"{tenant}.key")],
                       capture_output=True, text=True, check=True)
    return r.stdout.split()[0]


def test_tenants_attributed_and_opt_outs_clean(server):
    jobs = []
    for path in ("/completion", "/v1/chat/completions"):
        for stream in (False, True):
            for k, tenant in enumerate(("acme", "globex")):
                jobs.append((path, tenant, stream, True, PROMPTS[(k + stream) % len(PROMPTS)]))
            jobs.append((path, "acme", stream, False, PROMPTS[(2 + stream) % len(PROMPTS)]))
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda j: _request(server["port"], *j), jobs))
    for job, (text, n) in zip(jobs, results):
        assert n == N_PREDICT, f"{job}: {n} tokens"
        assert text.strip(), f"{job}: empty text"
    reports = _detect(server, [t for t, _ in results])
    ids = {t: _key_id(server, t) for t in ("acme", "globex")}
    for (path, tenant, stream, watermark, _), rep in zip(jobs, reports):
        where = f"{path} tenant={tenant} stream={stream} watermark={watermark}"
        if watermark:
            assert rep["detected"] and rep["key_id"] == ids[tenant], f"{where}: {rep}"
            assert rep["log10_p"] < -6, f"{where}: {rep}"
        else:
            # The bound, on the p-value detect reports (Holm over
            # both keys, so one check per document, valid under the null).
            assert rep["log10_p"] > -3, f"{where}: {rep}"

    records = [json.loads(line) for line in server["record"].read_text().splitlines()]
    assert len(records) == len(jobs)
    for r in records:
        assert r["completion_tokens"] == N_PREDICT
        if r["watermarked"]:
            family = server["scheme"].split(":")[0]
            assert r["key_id"] == ids[r["tenant"]] and r["scheme"].startswith(family + ".v1:"), r
        else:
            assert r["tenant"] == "acme" and r["key_id"] == ""
    assert sum(not r["watermarked"] for r in records) == 4
    digests = {hashlib.sha256(t.encode("utf-8")).hexdigest() for t, _ in results}
    assert {r["response_sha256"] for r in records} == digests

    # The records feed the provenance component: sign acme's watermarked
    # responses as a generation batch.
    w, cli = server["work"], server["cli"]
    responses = w / "acme.responses"
    responses.write_text("".join(r["response_sha256"] + "\n" for r in records
                                 if r["tenant"] == "acme" and r["watermarked"]))
    with open(w / "provider.vkey", "w") as out:
        subprocess.run([cli, "key", "signing-gen", "--name", "log.example", "-o", str(w / "provider.sk")],
                       check=True, stdout=out)
    subprocess.run([cli, "commit", "create", "--key", str(server["keys"] / "acme.key"), "--scheme", server["scheme"],
                    "--tokenizer-digest", hashlib.sha256(open(server["model"], "rb").read()).hexdigest(),
                    "-o", str(w / "acme.opening")], check=True, capture_output=True)
    signed = subprocess.run([cli, "sign", "generation-batch", "--signing-key", str(w / "provider.sk"),
                             "--opening", str(w / "acme.opening"), "--model", "reflm",
                             "--start", "2026-11-01T00:00:00Z", "--end", "2026-11-02T00:00:00Z",
                             "--responses", str(responses), "-o", str(w / "batch.dsse")],
                            capture_output=True, text=True)
    assert signed.returncode == 0, signed.stderr
    assert (w / "batch.dsse").stat().st_size > 0


def test_refusals(server):
    port = server["port"]
    status, raw = _post(port, "/completion", {"user": "globex", "prompt": "x", "n_predict": 4, "tt_watermark": False})
    assert status == 400 and "may not opt out" in raw, raw
    status, raw = _post(port, "/completion", {"user": "initech", "prompt": "x", "n_predict": 4})
    assert status == 400 and "unknown tenant" in raw, raw
    status, raw = _post(port, "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 4})
    assert status == 400 and "no tenant" in raw, raw
    status, raw = _post(port, "/completion", {"user": "acme", "prompt": "x", "n_predict": 4, "tt_watermark": "no"})
    assert status == 400 and "tt_watermark" in raw, raw


def test_api_key_decides_the_tenant(keyed_server):
    port = keyed_server["port"]
    # (API key's tenant, "user" claim, path)
    jobs = [("acme", "globex", "/completion"), ("globex", None, "/v1/chat/completions"),
            ("acme", None, "/v1/chat/completions"), ("globex", "acme", "/completion")]

    def run(job):
        tenant, claim, path = job
        body = {"stream": False, "n_predict": N_PREDICT, "ignore_eos": True, "seed": 7}
        if claim is not None:
            body["user"] = claim
        if path.startswith("/v1/"):
            body["messages"] = [{"role": "user", "content": PROMPTS[len(tenant) % len(PROMPTS)]}]
            body["max_tokens"] = N_PREDICT
        else:
            body["prompt"] = PROMPTS[(len(tenant) + 1) % len(PROMPTS)]
        status, raw = _post(port, path, body, api_key=API_KEYS[tenant])
        assert status == 200, f"{job}: HTTP {status}: {raw[:500]}"
        return _text_of(path, False, raw)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))
    ids = {t: _key_id(keyed_server, t) for t in ("acme", "globex")}
    for job, rep in zip(jobs, _detect(keyed_server, [t for t, _ in results])):
        assert rep["detected"] and rep["key_id"] == ids[job[0]] and rep["log10_p"] < -6, f"{job}: {rep}"

    # Unknown keys are refused even when "user" names a real tenant.
    status, raw = _post(port, "/completion", {"user": "acme", "prompt": "x", "n_predict": 4},
                        api_key="sk-initech-000000000000")
    assert status == 401, raw
    err = json.loads(raw)["error"]
    assert err["type"] == "authentication_error" and "unknown API key" in err["message"], raw
    assert "sk-initech" not in raw
    # No key at all: this policy allows anonymous requests, served without
    # watermark and recorded with an empty tenant, whatever "user" claims.
    status, raw = _post(port, "/completion", {"user": "acme", "prompt": PROMPTS[0], "n_predict": N_PREDICT,
                                              "ignore_eos": True, "seed": 7})
    assert status == 200, raw
    anon_text, _ = _text_of("/completion", False, raw)
    assert _detect(keyed_server, [anon_text])[0]["log10_p"] > -3

    records = [json.loads(line) for line in keyed_server["record"].read_text().splitlines()]
    assert len(records) == len(jobs) + 1, records
    by_digest = {r["response_sha256"]: r for r in records}
    for (tenant, _, _), (text, _) in zip(jobs, results):
        r = by_digest[hashlib.sha256(text.encode("utf-8")).hexdigest()]
        assert r["tenant"] == tenant and r["watermarked"] and r["key_id"] == ids[tenant], r
    anon = by_digest[hashlib.sha256(anon_text.encode("utf-8")).hexdigest()]
    assert anon["tenant"] == "" and not anon["watermarked"] and anon["key_id"] == "", anon
