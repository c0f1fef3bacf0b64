#!/usr/bin/python3
"""ctest fixture: makes sure $TELLTALE_CACHE_DIR/reflm/reflm.gguf exists.

Exports the committed reference LM with datasets/reflm/gguf_export.py (which
fetches llama.cpp's gguf-py from npm on first use) only when the file is
missing or was exported from other weights (a sidecar <gguf>.source holds
the SHA-256 of weights/model.json, which pins every weight file's hash);
prints the path.
"""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "datasets"))



def main() -> int:
    weights = os.path.join(ROOT, "datasets", "reflm", "weights")
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    out = os.environ.get("TT_LLAMA_MODEL") or os.path.join(cache, "reflm", "reflm.gguf")
    with open(os.path.join(weights, "model.json"), "rb") as f:
        source = hashlib.sha256(f.read()).hexdigest() + " f32\n"
    sidecar = out + ".source"
    have = open(sidecar).read() if os.path.exists(sidecar) else ""
    if not os.path.exists(out) or have != source:
        # Imported only here: the reflm package loads torch (seconds).
        from reflm import gguf_export  # noqa: E402
        os.makedirs(os.path.dirname(out), exist_ok=True)
        gguf_export.export(weights, out, "f32")
        with open(sidecar + ".tmp", "w") as f:
            f.write(source)
        os.replace(sidecar + ".tmp", sidecar)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
