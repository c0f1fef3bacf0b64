"""Tokenizer bindings: ids with byte offsets into the original text."""

import json

import pytest

import telltale

SPEC = {
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, " ": 3, "é": 4, "<eos>": 5}, "merges": ["a b"]},
    "added_tokens": [{"content": "<eos>", "id": 5, "special": True}],
}


@pytest.fixture
def tok():
    return telltale.Tokenizer.from_json(json.dumps(SPEC))


def test_encode_offsets_are_bytes_of_the_original(tok):
    text = "é ab<eos>"
    ids, offsets = tok.encode(text)
    assert ids.tolist() == [4, 3, 2, 5]
    raw = text.encode()
    assert [raw[b:e] for b, e in offsets.tolist()] == ["é".encode(), b" ", b"ab", b"<eos>"]
    assert tok.decode(ids) == raw and tok.decode(ids, skip_special=True) == "é ab".encode()


def test_encode_batch_matches_encode(tok):
    texts = ["ab", "a b", b"ba", "ab" * 50]
    batch = tok.encode_batch(texts, threads=2)
    for t, (ids, offsets) in zip(texts, batch):
        one_ids, one_offsets = tok.encode(t)
        assert ids.tolist() == one_ids.tolist() and offsets.tolist() == one_offsets.tolist()


def test_tokenizer_errors(tok, tmp_path):
    with pytest.raises(telltale.InvalidArgumentError, match="tokenizer.json"):
        telltale.Tokenizer.from_json("{not json")
    with pytest.raises(telltale.TelltaleError):
        telltale.Tokenizer.load(str(tmp_path / "missing.json"))
    with pytest.raises(telltale.InvalidArgumentError, match="str or bytes"):
        tok.encode(3)
    with pytest.raises(telltale.TelltaleError):
        tok.decode([99])
