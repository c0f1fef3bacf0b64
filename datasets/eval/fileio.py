"""Atomic file writes: every output of the demo and the evaluation is
written to a temporary file in the target directory, flushed, fsynced and
renamed over the target, so a crash never leaves a half-written table."""
from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, data) -> None:
    """Writes `data` (str or bytes) to `path` atomically."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates 0600; give the file the mode open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
