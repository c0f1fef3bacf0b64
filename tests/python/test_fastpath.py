"""The processors' hot path: native __call__, TensorImpl reads of torch
tensors, and every check kept on that path."""

import inspect

import numpy as np
import pytest
import torch

import telltale
from telltale import _core
from telltale.hf import WatermarkLogitsProcessor
from telltale.vllm import WatermarkLogitsProcessor as RequestProcessor

V = 1000
SPEC = "kgw:gamma=0.25,delta=2"


@pytest.fixture
def wm(key):
    return telltale.Watermarker(key, SPEC, vocab_size=V)


def reference(wm, ids, scores):
    """Row-by-row Watermarker.apply on numpy copies: the attribute-free path."""
    out = scores.detach().float().numpy().copy()
    for r in range(ids.shape[0]):
        wm.apply(ids[r].numpy().astype(np.int64), out[r])
    return out


def test_tensor_impl_reader_is_active_when_built():
    # Built with libtorch headers (CMake found them): torch tensors must be
    # read through the TensorImpl once torch is imported.
    assert _core._torch_fast_path() == _core._torch_view_built


def test_call_is_native_and_protocol_compatible(wm):
    proc = WatermarkLogitsProcessor(wm)
    assert "__call__" not in WatermarkLogitsProcessor.__dict__
    assert type(proc).__call__ is _core._BatchProcessor.__call__
    # transformers' LogitsProcessorList passes (input_ids, scores) when
    # signature(proc.__call__) has at most two parameters.
    assert len(inspect.signature(proc.__call__).parameters) <= 2
    assert list(inspect.signature(proc).parameters) == ["input_ids", "scores"]
    ids = torch.randint(0, V, (2, 5))
    a, b = torch.randn(2, V), None
    b = a.clone()
    assert proc(ids, a) is a
    assert proc(input_ids=ids, scores=b) is b
    assert torch.equal(a, b)
    with pytest.raises(TypeError):
        proc(ids)
    with pytest.raises(TypeError):
        proc(ids, a, a)
    req = RequestProcessor(wm)
    assert list(inspect.signature(req).parameters) == ["prompt_token_ids", "output_token_ids", "logits"]


def test_uninitialised_subclass_is_refused(wm):
    class Broken(WatermarkLogitsProcessor):
        def __init__(self):  # forgets super().__init__
            pass

    with pytest.raises(TypeError, match="__init__"):
        Broken()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_views_with_offsets_and_row_padding(wm, dtype):
    g = torch.Generator().manual_seed(5)
    big = torch.randn(6, V + 40, generator=g).to(dtype)
    before = big.clone()
    scores = big[2:5, 16:16 + V]  # storage offset, row stride V + 40
    ids_big = torch.randint(0, V, (5, 9), generator=g)
    ids = ids_big[1:4, 2:]  # int64 view with offset and row stride 9
    expected = reference(wm, ids, scores)
    WatermarkLogitsProcessor(wm, vocab_size=V)(ids, scores)
    np.testing.assert_array_equal(scores.float().numpy(), torch.tensor(expected).to(dtype).float().numpy())
    untouched = torch.ones_like(big, dtype=torch.bool)
    untouched[2:5, 16:16 + V] = False
    assert torch.equal(big[untouched], before[untouched])


def test_int32_ids_and_single_column(wm):
    ids = torch.randint(0, V, (3, 4), dtype=torch.int32)
    scores = torch.randn(3, V)
    expected = reference(wm, ids.long(), scores)
    WatermarkLogitsProcessor(wm)(ids, scores)
    np.testing.assert_array_equal(scores.numpy(), expected)


def test_subclass_tensor_takes_the_attribute_path(wm):
    class Mine(torch.Tensor):
        pass

    scores = torch.randn(2, V)
    ids = torch.randint(0, V, (2, 3))
    expected = reference(wm, ids, scores)
    sub = scores.as_subclass(Mine)
    WatermarkLogitsProcessor(wm)(ids, sub)
    np.testing.assert_array_equal(scores.numpy(), expected)


@pytest.mark.parametrize("proc_kind", ["hf", "vllm"])
def test_every_check_still_applies(wm, proc_kind):
    def call(scores, ids=None):
        if proc_kind == "hf":
            ids = torch.randint(0, V, (scores.shape[0] if scores.dim() == 2 else 1, 3)) if ids is None else ids
            return WatermarkLogitsProcessor(wm, vocab_size=V)(ids, scores)
        return RequestProcessor(wm, vocab_size=V)([1, 2], [3], scores)

    row = (2, V) if proc_kind == "hf" else (V,)
    with pytest.raises(telltale.InvalidArgumentError, match="dtype float64"):
        call(torch.zeros(row, dtype=torch.float64))
    with pytest.raises(telltale.InvalidArgumentError, match="int32"):
        call(torch.zeros(row, dtype=torch.int32))
    with pytest.raises(telltale.InvalidArgumentError, match="require grad"):
        call(torch.zeros(row, requires_grad=True))
    with pytest.raises(telltale.InvalidArgumentError, match="negated"):
        call(torch.zeros(row)._neg_view())
    with pytest.raises(telltale.InvalidArgumentError, match="no memory"):
        call(torch._efficientzerotensor(row))
    with pytest.raises(telltale.InvalidArgumentError, match="live on meta"):
        call(torch.zeros(row, device="meta"))
    with pytest.raises(telltale.InvalidArgumentError, match="vocabulary size is 1000"):
        call(torch.zeros(row[:-1] + (V + 1,)))
    with pytest.raises(telltale.InvalidArgumentError, match="not contiguous"):
        call(torch.zeros(row[:-1] + (2 * V,))[..., ::2])
    if proc_kind == "hf":
        with pytest.raises(telltale.InvalidArgumentError, match="2-D"):
            call(torch.zeros(V))
        with pytest.raises(telltale.InvalidArgumentError, match="rows"):
            call(torch.zeros(2, V), ids=torch.zeros(3, 4, dtype=torch.long))
        with pytest.raises(telltale.InvalidArgumentError, match="float32"):
            call(torch.zeros(2, V), ids=torch.zeros(2, 4, dtype=torch.float32))
        with pytest.raises(telltale.InvalidArgumentError, match="not a token id"):
            call(torch.zeros(2, V), ids=torch.full((2, 4), V, dtype=torch.long))
    else:
        with pytest.raises(telltale.InvalidArgumentError, match="1-D"):
            call(torch.zeros(2, V))


def test_batch_above_gil_threshold_matches_rows(wm):
    rows = _core._release_gil_elements // V + 2  # this step releases the GIL
    g = torch.Generator().manual_seed(9)
    scores = torch.randn(rows, V, generator=g)
    ids = torch.randint(0, V, (rows, 4), generator=g)
    expected = reference(wm, ids, scores)
    WatermarkLogitsProcessor(wm)(ids, scores)
    np.testing.assert_array_equal(scores.numpy(), expected)



def progress_during_calls(proc, rows, calls=20):
    """How many of `calls` steps let another Python thread run. The other
    thread hands the GIL back after every increment and the switch interval
    is 1 s, so it can only run while a step has released the GIL."""
    import sys
    import threading
    import time

    v = 128256
    scores = torch.zeros(rows, v)
    ids = torch.randint(0, v, (rows, 4))
    box, done, deltas = [0], threading.Event(), []

    def spin():
        while not done.is_set():
            box[0] += 1
            time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    t = threading.Thread(target=spin)
    t.start()
    try:
        for _ in range(calls):
            before = box[0]
            proc(ids, scores)
            deltas.append(box[0] - before)
    finally:
        done.set()
        t.join()
        sys.setswitchinterval(old)
    return sum(d > 0 for d in deltas)


def test_gil_released_for_long_steps_only():
    w = telltale.Watermarker(telltale.Key.from_bytes(bytes(32)), SPEC)
    proc = WatermarkLogitsProcessor(w)
    assert 64 * 128256 >= _core._release_gil_elements > 2 * 128256
    assert progress_during_calls(proc, 64) > 0  # ~1 ms steps: another thread runs meanwhile
    assert progress_during_calls(proc, 1) == 0  # ~8 us steps keep the GIL
