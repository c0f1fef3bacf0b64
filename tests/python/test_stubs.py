"""Every name the bindings register has a stub in _core.pyi, and every public
name of telltale.provenance has one in provenance.pyi (py.typed ships both)."""

import pathlib
import re

import telltale
import telltale.provenance
from telltale import _core

PKG = pathlib.Path(telltale.__file__).parent
SRC = pathlib.Path(__file__).resolve().parents[2] / "python" / "src"


def stubbed(stub, name):
    return re.search(rf"^\s*(class|def) {re.escape(name)}\b|^{re.escape(name)}\s*:", stub, re.M) is not None


def registered_names():
    """Top-level names registered on the module by every binding source
    (names of components left out of this build are skipped by the caller)."""
    names = set()
    for f in SRC.glob("bind_*.cc"):
        text = f.read_text()
        names |= set(re.findall(r'py::class_<[^;]*?>\(m, "(\w+)"', text, re.S))
        names |= set(re.findall(r'\bm\.def\(\s*"(\w+)"', text))
        names |= set(re.findall(r'\bm\.attr\("(\w+)"\)', text))
    return names


def test_core_stubs_cover_the_bindings():
    stub = (PKG / "_core.pyi").read_text()
    names = {n for n in registered_names() if hasattr(_core, n)}
    assert len(names) >= 12
    missing = sorted(n for n in names if not stubbed(stub, n))
    assert not missing, missing
    assert (PKG / "py.typed").exists()


def test_provenance_stubs_cover_the_module():
    stub = (PKG / "provenance.pyi").read_text()
    missing = [n for n in telltale.provenance.__all__ if not stubbed(stub, n)]
    assert not missing, missing
