#!/usr/bin/python3
"""Watermark sampler throughput through libllama and through llama-server.

    /usr/bin/python3 bench/llama_bench.py --bench telltale_llama_bench --server llama-server \
        --lib libtelltale_llama.so --cli telltale --source <repo> [-n 128] [--rounds 7]

Models: the reference LM (exported to GGUF on first use) and a random-weight
model with the 128k Llama 3 vocabulary (bench/llama_random_gguf.py). The
libllama part runs telltale_llama_bench. The server part starts the patched
llama-server once per model (one slot, --tt-scheme kgw) with a policy that
lets the bench tenant opt out, then alternates watermarked and opted-out
requests (the opted-out chain is exactly llama-server's stock chain) and
compares tokens per CPU-second of the server process (summed over its
threads from /proc/<pid>/task/*/schedstat, so other load on a shared
machine does not count), next to the server-reported wall-clock speed.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def cpu_seconds(pid):
    """CPU time of every thread of the process, in seconds (ns resolution)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just exited
    return total * 1e-9


def server_bench(a, model, scheme, work):
    keys = os.path.join(work, "keys")
    os.makedirs(keys, exist_ok=True)
    key = os.path.join(keys, "bench.key")
    if not os.path.exists(key):
        subprocess.run([a.cli, "keygen", "-o", key], check=True, capture_output=True)
    policy = os.path.join(work, "policy")
    with open(policy, "w") as f:
        f.write("telltale-llama-policy v1\ntenant bench opt_out=allow\n")
    port = free_port()
    log = open(os.path.join(work, "server.log"), "w")
    proc = subprocess.Popen([a.server, "-m", model, "--host", "127.0.0.1", "--port", str(port), "-np", "1",
                             "-c", str(a.n + 256), "-t", str(a.threads), "--tt-lib", a.lib, "--tt-scheme", scheme,
                             "--tt-keys-dir", keys, "--tt-policy", policy], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while True:
            if proc.poll() is not None:
                sys.exit(f"llama_bench: llama-server exited with {proc.returncode}; see {work}/server.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("llama_bench: llama-server did not start")
            time.sleep(0.3)
        body = {"user": "bench", "prompt": "It is a truth universally acknowledged, that", "n_predict": a.n,
                "ignore_eos": True, "cache_prompt": False, "seed": 1}
        post(port, body)  # warm-up
        cpu = {True: [], False: []}
        wall = {True: [], False: []}
        for r in range(a.rounds):
            for wm in ((False, True) if r % 2 == 0 else (True, False)):
                c0 = cpu_seconds(proc.pid)
                res = post(port, dict(body, tt_watermark=wm))
                c1 = cpu_seconds(proc.pid)
                assert res["tokens_predicted"] == a.n, res["tokens_predicted"]
                cpu[wm].append(a.n / (c1 - c0))
                wall[wm].append(res["timings"]["predicted_per_second"])
        m = statistics.median
        return m(cpu[False]), m(cpu[True]), m(wall[False]), m(wall[True])
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("--bench", "--server", "--lib", "--cli", "--source"):
        ap.add_argument(name, required=True)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    py = "/usr/bin/python3"
    reflm = subprocess.run([py, os.path.join(a.source, "watermark", "llama", "tests", "ensure_reflm_gguf.py")],
                           check=True, capture_output=True, text=True).stdout.strip()
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    rnd = os.path.join(cache, "llama-bench", "random-llama3-vocab.gguf")
    if not os.path.exists(rnd):
        subprocess.run([py, os.path.join(a.source, "bench", "llama_random_gguf.py"), "--out", rnd], check=True)
    print(f"== libllama ({a.threads} thread(s), {a.n} tokens per run, median of {a.rounds})", flush=True)
    subprocess.run([a.bench, "--model", reflm, "--model", rnd, "-n", str(a.n), "--rounds", str(a.rounds),
                    "--threads", str(a.threads)], check=True)
    print(f"== llama-server (1 slot, {a.n} tokens per request, median of {a.rounds}; baseline = opted-out "
          "requests, i.e. the stock sampler chain; tok/CPU-s from the server's /proc schedstat, "
          "wall tok/s as the server reports it)", flush=True)
    print(f"{'model':28} {'scheme':26} {'base tok/CPU-s':>14} {'wm tok/CPU-s':>14} {'ratio':>8} {'loss %':>8}"
          f" {'wall ratio':>10}")
    with tempfile.TemporaryDirectory() as work:
        for model in (reflm, rnd):
            for scheme in ("kgw:gamma=0.25,delta=2,h=1", "gumbel:h=1"):
                base, wm, wall_base, wall_wm = server_bench(a, model, scheme, work)
                print(f"{os.path.basename(model):28} {scheme:26} {base:14.1f} {wm:14.1f} {wm / base:8.4f} "
                      f"{(1 - wm / base) * 100:8.2f} {wall_wm / wall_base:10.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
