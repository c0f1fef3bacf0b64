"""Watermarker.apply: zero-copy in place on numpy and torch, every dtype, batches, errors."""

import numpy as np
import pytest
import torch

import telltale

V = 1000
SPEC = "kgw:gamma=0.25,delta=2"


@pytest.fixture
def wm(key):
    return telltale.Watermarker(key, SPEC, vocab_size=V)


def expected_row(wm, ctx, base):
    out = np.array(base, dtype=np.float32, copy=True)
    mask, marked = wm.green_mask(ctx, V)
    if marked:
        out[mask] += 2.0
    return out


def test_numpy_view_is_modified_in_place(wm, rng):
    base = rng.normal(size=(4, V)).astype(np.float32)
    before = base.copy()
    view = base[2]  # a view into the caller's array
    result = wm.apply([5, 17], view)
    assert result is view
    assert np.shares_memory(view, base)
    np.testing.assert_array_equal(base[2], expected_row(wm, [5, 17], before[2]))
    np.testing.assert_array_equal(base[[0, 1, 3]], before[[0, 1, 3]])
    assert ((base[2] - before[2]) > 0).mean() == pytest.approx(0.25, abs=0.05)


def test_2d_view_with_row_stride_in_place(wm, rng):
    # rows of a wider array: row stride != vocab, vocabulary contiguous
    wide = rng.normal(size=(3, V + 24)).astype(np.float32)
    before = wide.copy()
    view = wide[:, :V]
    contexts = [[1], [2, 3], [4, 5, 6]]
    wm.apply(contexts, view)
    for r, ctx in enumerate(contexts):
        np.testing.assert_array_equal(wide[r, :V], expected_row(wm, ctx, before[r, :V]))
    np.testing.assert_array_equal(wide[:, V:], before[:, V:])


def test_batch_equals_rows_and_2d_context_array(wm, rng):
    logits = rng.normal(size=(5, V)).astype(np.float32)
    ctx = rng.integers(0, V, size=(5, 7))
    a = logits.copy()
    wm.apply(ctx, a)
    b = logits.copy()
    for r in range(5):
        wm.apply(ctx[r], b[r])
    np.testing.assert_array_equal(a, b)
    c = logits.copy()
    wm.apply([list(map(int, row)) for row in ctx], c)
    np.testing.assert_array_equal(a, c)


def test_torch_float32_in_place_and_same_as_numpy(wm, rng):
    logits = torch.from_numpy(rng.normal(size=(2, V)).astype(np.float32))
    ref = logits.numpy().copy()
    ctx = torch.tensor([[3, 4], [5, 6]])
    ptr = logits.data_ptr()
    out = wm.apply(ctx, logits)
    assert out is logits and logits.data_ptr() == ptr
    wm.apply(ctx.numpy(), ref)
    np.testing.assert_array_equal(logits.numpy(), ref)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_torch_half_types_round_like_torch(wm, rng, dtype):
    x = torch.from_numpy(rng.normal(size=(3, V)).astype(np.float32)).to(dtype)
    contexts = [[7], [8, 9], [10]]
    expect = x.clone().float()
    for r, ctx in enumerate(contexts):
        mask, _ = wm.green_mask(ctx, V)
        expect[r][torch.from_numpy(mask)] += 2.0
    expect = expect.to(dtype)  # float -> half rounding: nearest even, as the engine does
    wm.apply(contexts, x)
    assert torch.equal(x, expect)


class DLPackOnly:
    """A producer that exports nothing but __dlpack__ (exercises that path)."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __dlpack__(self, stream=None):
        return self.tensor.__dlpack__()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_generic_dlpack_producer_in_place(wm, rng, dtype):
    x = torch.from_numpy(rng.normal(size=(2, V)).astype(np.float32)).to(dtype)
    expect = x.clone()
    wm.apply([[1, 2], [3]], expect)
    wm.apply([[1, 2], [3]], DLPackOnly(x))
    assert torch.equal(x, expect)
    ids = DLPackOnly(torch.tensor([5, 6], dtype=torch.int32))
    y = torch.zeros(V)
    wm.apply(ids, y)
    assert torch.equal(y, torch.from_numpy(expected_row(wm, [5, 6], np.zeros(V, np.float32))))


def test_numpy_float16(wm, rng):
    x = rng.normal(size=V).astype(np.float16)
    expect = (x.astype(np.float32) + 2.0 * wm.green_mask([11], V)[0]).astype(np.float16)
    wm.apply(np.array([11], dtype=np.int32), x)
    np.testing.assert_array_equal(x, expect)


def test_sample_bias_scheme_is_seeded(wm, rng):
    logits = rng.normal(size=V).astype(np.float32)
    a = telltale.Sampler(wm, seed=3)
    b = telltale.Sampler(wm, seed=3)
    draws = [a.sample([1, 2], logits) for _ in range(20)]
    assert draws == [b.sample([1, 2], logits) for _ in range(20)]
    assert a.state == b.state and a.state != 3
    assert all(0 <= t < V for t in draws)
    assert wm.sample([1, 2], logits, seed=3) == draws[0]


def test_sample_gumbel_is_keyed_argmax(key, rng):
    g = telltale.Watermarker(key, "gumbel:h=1", vocab_size=V)
    logits = rng.normal(size=V).astype(np.float32)
    picks = {g.sample([t], logits, seed=s) for t in range(5) for s in range(3)}
    # deterministic per context (seed unused), different across contexts
    assert len({g.sample([4], logits, seed=s) for s in range(5)}) == 1
    assert len(picks) > 1


# --- errors -------------------------------------------------------------------


def test_bad_dtype(wm):
    with pytest.raises(telltale.InvalidArgumentError, match="dtype float64; expected float32, float16 or bfloat16"):
        wm.apply([1], np.zeros(V))
    with pytest.raises(telltale.InvalidArgumentError, match="dtype int64"):
        wm.apply([1], torch.zeros(V, dtype=torch.int64))
    with pytest.raises(telltale.InvalidArgumentError, match="token ids must be int32 or int64"):
        wm.apply(np.array([1.0]), np.zeros(V, np.float32))


def test_bad_shape(wm):
    with pytest.raises(telltale.InvalidArgumentError, match=r"1-D \[vocab\] or 2-D \[batch, vocab\], got 3-D"):
        wm.apply([1], np.zeros((2, 2, V), np.float32))
    with pytest.raises(telltale.InvalidArgumentError, match="has 3 rows but logits have 2"):
        wm.apply(np.zeros((3, 2), np.int64), np.zeros((2, V), np.float32))
    with pytest.raises(telltale.InvalidArgumentError, match="has 1 sequences but logits have 2 rows"):
        wm.apply([[1]], np.zeros((2, V), np.float32))


def test_non_contiguous(wm):
    x = np.zeros((2, 2 * V), np.float32)[:, ::2]
    with pytest.raises(telltale.InvalidArgumentError, match="not contiguous along the vocabulary"):
        wm.apply([[1], [2]], x)
    t = torch.zeros(2 * V)[::2]
    with pytest.raises(telltale.InvalidArgumentError, match="not contiguous"):
        wm.apply([1], t)
    with pytest.raises(telltale.InvalidArgumentError, match="not contiguous"):
        wm.apply([1], torch.zeros(V, 2).t()[0])


def test_wrong_vocab_size(wm):
    with pytest.raises(telltale.InvalidArgumentError, match="999 entries per row but the vocabulary size is 1000"):
        wm.apply([1], np.zeros(V - 1, np.float32))
    with pytest.raises(telltale.InvalidArgumentError, match=r"context_ids\[1\] = 1000 is not a token id in \[0, 1000\)"):
        wm.apply([1, V], np.zeros(V, np.float32))


def test_read_only_and_other_inputs(wm):
    x = np.zeros(V, np.float32)
    x.setflags(write=False)
    with pytest.raises(telltale.InvalidArgumentError, match="read-only"):
        wm.apply([1], x)
    with pytest.raises(telltale.InvalidArgumentError, match="expected a numpy array or a CPU torch tensor"):
        wm.apply([1], [0.0] * V)
    with pytest.raises(telltale.InvalidArgumentError, match="is negative|not a token id"):
        wm.apply([-1], np.zeros(V, np.float32))
    with pytest.raises(telltale.InvalidArgumentError, match="require"):
        wm.apply([1], torch.zeros(V, requires_grad=True))
