"""Keys, schemes, exception mapping and the runnable docstring examples."""

import doctest
import os
import stat

import pytest

import telltale
import telltale.hf
import telltale.vllm
from telltale import _core


def test_key_generate_save_load_roundtrip(tmp_path):
    k = telltale.Key.generate()
    path = str(tmp_path / "master.key")
    k.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = telltale.Key.load(path)
    assert loaded.id == k.id and loaded == k and loaded.kind == "master"


def test_key_derive_is_deterministic_and_distinct(tmp_path):
    master = telltale.Key.from_bytes(bytes(32))
    a = master.derive(tenant="acme", region="eu", epoch="1")
    b = master.derive(tenant="beta", region="eu", epoch="1")
    assert a.id == master.derive(tenant="acme", region="eu", epoch="1").id
    assert a.id != b.id != master.id
    assert (a.kind, a.parent_id, a.tenant, a.region, a.epoch) == ("derived", master.id, "acme", "eu", "1")
    path = str(tmp_path / "acme.key")
    a.save(path)
    again = telltale.Key.load(path)
    assert again.id == a.id and again.tenant == "acme" and again.parent_id == master.id
    with pytest.raises(telltale.InvalidArgumentError, match="derived key"):
        a.derive(tenant="x", region="y", epoch="z")


def test_key_file_permissions_and_missing(tmp_path):
    path = str(tmp_path / "k")
    telltale.Key.generate().save(path)
    os.chmod(path, 0o644)
    with pytest.raises(telltale.PermissionDeniedError, match="0644|chmod"):
        telltale.Key.load(path)
    with pytest.raises(telltale.NotFoundError):
        telltale.Key.load(str(tmp_path / "missing"))


def test_bad_key_bytes_and_labels():
    with pytest.raises(telltale.InvalidArgumentError, match="32 bytes"):
        telltale.Key.from_bytes(b"short")
    with pytest.raises(ValueError):
        telltale.Key.generate().derive(tenant="has space", region="r", epoch="e")


@pytest.mark.parametrize(
    "spec",
    [
        "kgw",
        "kgw:gamma=0.25,delta=2,h=1,seeding=left",
        "kgw:seeding=self,h=4,gamma=0.5,skip_repeat=true",
        "unigram:gamma=0.5,delta=1.5",
        "gumbel:h=2",
    ],
)
def test_scheme_roundtrip(spec):
    s = telltale.Scheme(spec)
    assert telltale.Scheme(str(s)) == s
    assert str(telltale.Scheme(str(s))) == str(s)
    assert hash(telltale.Scheme(str(s))) == hash(s)
    assert s != spec + "x" and telltale.Key.generate() != "key"


def test_scheme_errors_are_typed():
    with pytest.raises(telltale.InvalidArgumentError) as e:
        telltale.Scheme("kgw:gamma=2")
    assert isinstance(e.value, ValueError) and isinstance(e.value, telltale.TelltaleError)
    assert e.value.code == "INVALID_ARGUMENT"
    with pytest.raises(telltale.TelltaleError):
        telltale.Scheme("nosuchscheme")
    with pytest.raises(telltale.InvalidArgumentError, match="spec string"):
        telltale.Watermarker(telltale.Key.generate(), 42)


def test_one_exception_class_per_status_code():
    names = [
        "InvalidArgumentError", "NotFoundError", "PermissionDeniedError", "DataLossError",
        "FailedPreconditionError", "OutOfRangeError", "UnimplementedError", "InternalError",
        "CancelledError", "UnavailableError",
    ]
    codes = set()
    for n in names:
        cls = getattr(telltale, n)
        assert issubclass(cls, telltale.TelltaleError)
        codes.add(cls.code)
    assert len(codes) == len(names)
    assert issubclass(telltale.InvalidArgumentError, ValueError)


def test_sampling_scheme_has_no_apply(key):
    import numpy as np

    wm = telltale.Watermarker(key, "gumbel")
    with pytest.raises(telltale.FailedPreconditionError, match="sampling scheme"):
        wm.apply([1, 2], np.zeros(10, np.float32))


@pytest.mark.parametrize("module", [telltale, telltale.hf, telltale.vllm])
def test_module_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_native_docstring_examples():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    classes = [_core.Key, _core.Scheme, _core.Watermarker, _core.Sampler, _core.Detector, _core.Tokenizer]
    for cls in classes:
        for test in finder.find(cls, cls.__name__, globs={}):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 5 and result.failed == 0
