#!/usr/bin/python3
"""Watermark sampler throughput through libllama and through llama-server.

    /usr/bin/python3 bench/llama_bench.py --bench telltale_llama_bench --server llama-server \
        --lib libtelltale_llama.so --cli telltale --source <repo> [-n 128] [--rounds 7]

Models: the reference LM (exported to GGUF on first use) and a random-weight
model with the 128k Llama 3 vocabulary (bench/llama_random_gguf.py; with
--with-1b also one with the Llama 3.2 1B shape, libllama only). The
libllama part runs telltale_llama_bench. The server part starts the patched
llama-server once per model (one slot, --tt-scheme kgw) with a policy that
lets the bench tenant opt out, then runs paired rounds of a watermarked and an opted-out
request (the opted-out chain is exactly llama-server's stock chain; an A/A
control pairs two opted-out requests) and compares tokens per CPU-second of the server process (summed over its
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


def server_bench(a, model, scheme, work, aa=False):
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
        # Paired rounds: both requests back to back (order alternating), and
        # the ratio per round; the host's speed drifts over minutes, which a
        # ratio of requests 50-500 ms apart cancels. With aa=True both
        # requests are opted out (the A/A control: the noise floor).
        cpu = {True: [], False: []}
        ratios, wall_ratios = [], []
        for r in range(a.rounds):
            rate, wall = {}, {}
            for wm in ((False, True) if r % 2 == 0 else (True, False)):
                c0 = cpu_seconds(proc.pid)
                res = post(port, dict(body, tt_watermark=wm and not aa))
                c1 = cpu_seconds(proc.pid)
                assert res["tokens_predicted"] == a.n, res["tokens_predicted"]
                rate[wm] = a.n / (c1 - c0)
                wall[wm] = res["timings"]["predicted_per_second"]
                cpu[wm].append(rate[wm])
            ratios.append(rate[True] / rate[False])
            wall_ratios.append(wall[True] / wall[False])
        m = statistics.median
        q = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
        return m(cpu[False]), m(cpu[True]), m(ratios), (q[0], q[2]), m(wall_ratios)
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
    ap.add_argument("--with-1b", action="store_true",
                    help="also run libllama on a random model with the Llama 3.2 1B shape (1.3 GB, built once; "
                         "16 tokens x 3 rounds: ~150 ms per token)")
    a = ap.parse_args()
    py = "/usr/bin/python3"
    reflm = subprocess.run([py, os.path.join(a.source, "watermark", "llama", "tests", "ensure_reflm_gguf.py")],
                           check=True, capture_output=True, text=True).stdout.strip()
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    rnd = os.path.join(cache, "llama-bench", "random-llama3-vocab.gguf")
    if not os.path.exists(rnd):
        subprocess.run([py, os.path.join(a.source, "bench", "llama_random_gguf.py"), "--out", rnd], check=True)
    print(f"== libllama ({a.threads} thread(s), {a.n} tokens per run, {a.rounds} paired rounds)", flush=True)
    subprocess.run([a.bench, "--model", reflm, "--model", rnd, "-n", str(a.n), "--rounds", str(a.rounds),
                    "--threads", str(a.threads)], check=True)
    if a.with_1b:
        big = os.path.join(cache, "llama-bench", "random-llama3.2-1b-shape-q8_0.gguf")
        if not os.path.exists(big):
            subprocess.run([py, os.path.join(a.source, "bench", "llama_random_gguf.py"), "--shape", "llama3.2-1b",
                            "--out", big], check=True)
        print("== libllama, Llama 3.2 1B shape (random Q8_0 weights; 16 tokens per run, 3 rounds)", flush=True)
        subprocess.run([a.bench, "--model", big, "-n", "16", "--rounds", "3", "--threads", str(a.threads)],
                       check=True)
    print(f"== llama-server (1 slot, {a.n} tokens per request, {a.rounds} paired rounds; baseline = opted-out "
          "requests, i.e. the stock sampler chain; tok/CPU-s from the server's /proc schedstat; ratio = median "
          "of per-round ratios, loss IQR over rounds; wall ratio from the server's own timings)", flush=True)
    print(f"{'model':28} {'scheme':26} {'base tok/CPU-s':>14} {'wm tok/CPU-s':>14} {'ratio':>8} {'loss %':>8}"
          f" {'loss IQR %':>13} {'wall ratio':>10}")
    with tempfile.TemporaryDirectory() as work:
        for model in (reflm, rnd):
            for scheme, aa in (("kgw:gamma=0.25,delta=2,h=1", True), ("kgw:gamma=0.25,delta=2,h=1", False),
                               ("gumbel:h=1", False)):
                base, wm, ratio, (q1, q3), wall_ratio = server_bench(a, model, scheme, work, aa)
                label = "(A/A control: both opted out)" if aa else scheme
                iqr = f"{(1 - q3) * 100:.2f}..{(1 - q1) * 100:.2f}"
                print(f"{os.path.basename(model):28} {label:26} {base:14.1f} {wm:14.1f} {ratio:8.4f} "
                      f"{(1 - ratio) * 100:8.2f} {iqr:>13} {wall_ratio:10.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
