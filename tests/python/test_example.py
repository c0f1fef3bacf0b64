"""The plotting example runs and writes a PNG."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_plot_pvalues_writes_png(tmp_path):
    out = tmp_path / "p.png"
    script = os.path.join(ROOT, "python", "examples", "plot_pvalues.py")
    proc = subprocess.run([sys.executable, script, "-o", str(out), "-n", "3", "--length", "60"],
                          capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".plot_pvalues.")]
