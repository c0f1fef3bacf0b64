#!/usr/bin/python3
"""A minimal OpenAI-compatible completions server around a torch model of
the reference-LM architecture, for closed-mode audits on loopback.

    /usr/bin/python3 datasets/radioactivity/server.py --weights STUDENT.pt [--port 0]

POST /v1/completions {"prompt": str, "max_tokens": int, "temperature": float,
"seed": int} -> {"object": "text_completion", "choices": [{"text": ..., "index": 0,
"finish_reason": "length"}], "usage": {...}}. It binds 127.0.0.1 only and
prints "listening on 127.0.0.1:PORT" once ready.

Fault injection for tests: --fail-after N answers HTTP 500 to every request
after the first N; --delay S sleeps S seconds before answering (timeouts).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import radio  # noqa: E402
import reflm  # noqa: E402
import torch  # noqa: E402


def load(weights: str):
    _, tok = radio.teacher()
    if weights == "teacher":
        return radio.teacher()[0], tok
    cfg = reflm.LlamaConfig(**reflm.metadata()["config"])
    model = reflm.LlamaModel(cfg)
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.eval()
    return model, tok


def make_handler(model, tok, fail_after: int, delay: float):
    lock = threading.Lock()
    state = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet: tests read stdout
            pass

        def _send(self, code: int, obj: dict) -> None:
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            with lock:
                state["requests"] += 1
                n = state["requests"]
            if delay > 0:
                time.sleep(delay)
            if fail_after >= 0 and n > fail_after:
                self._send(500, {"error": {"message": "injected failure"}})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                req = json.loads(self.rfile.read(length).decode("utf-8"))
                prompt = req["prompt"]
                if not isinstance(prompt, str):
                    raise ValueError("prompt must be a string")
                max_tokens = int(req.get("max_tokens", 16))
                temperature = float(req.get("temperature", 1.0))
                seed = int(req.get("seed", 0))
                if not 1 <= max_tokens <= 1024:
                    raise ValueError("max_tokens must be in [1, 1024]")
            except (ValueError, KeyError, TypeError) as e:
                self._send(400, {"error": {"message": f"bad request: {e}"}})
                return
            with lock:  # one generation at a time: the model is not shared safely
                ids = tok.encode(prompt, bos=True)[-(model.cfg.max_seq_len - max_tokens):]
                out = reflm.generate(model, tok, [ids], max_new_tokens=max_tokens, min_new_tokens=max_tokens,
                                     temperature=temperature, seed=seed, stop_at_eos=False)
            new = out.new_tokens[0]
            self._send(200, {"object": "text_completion", "model": "radioactivity-student",
                             "choices": [{"index": 0, "text": out.texts[0], "finish_reason": "length"}],
                             "usage": {"prompt_tokens": len(ids), "completion_tokens": len(new),
                                       "total_tokens": len(ids) + len(new)}})

    return Handler


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True, help="student state dict (.pt), or 'teacher'")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fail-after", type=int, default=-1)
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args()
    model, tok = load(args.weights)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model, tok, args.fail_after, args.delay))
    srv.daemon_threads = True
    print(f"listening on 127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
