"""Reference LM: committed weights reproduce the recorded held-out loss, and
generate() honours the LogitsProcessor protocol, left padding and seeds."""
import hashlib
import json
import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
torch.set_num_threads(1)

import reflm  # noqa: E402
from reflm import evaluate  # noqa: E402

W = reflm.WEIGHTS_DIR


@pytest.fixture(scope="module")
def lm():
    return reflm.load()


def test_files_match_recorded_sha256():
    meta = reflm.metadata()
    for name, digest in list(meta["files"].items()) + [("heldout.txt", meta["heldout"]["sha256"])]:
        with open(os.path.join(W, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, name


def test_architecture_and_size(lm):
    model, tok = lm
    cfg = model.cfg
    assert (cfg.dim, cfg.n_layers, cfg.vocab_size) == (128, 4, 4096)
    assert 1.2e6 < model.num_parameters() < 1.6e6
    assert tok.vocab_size == 4096 and tok.bos_id == 1 and tok.eos_id == 2
    assert all(tok.sp.IsByte(i) for i in range(3, 259))


def test_heldout_loss_reproduces(lm):
    model, tok = lm
    meta = reflm.metadata()
    with open(os.path.join(W, "heldout.txt"), encoding="utf-8") as f:
        text = f.read()
    rows = evaluate.heldout_batches(tok, text, meta["train"]["seq"], meta["heldout"]["sequences"])
    bits = evaluate.bits_per_token(model, rows)
    assert bits == pytest.approx(meta["heldout"]["bits_per_token"], abs=2e-3)
    # A trained model, not noise: far below the 12 bits of a uniform guess.
    assert bits < 7.0


def test_tokenizer_roundtrips_any_text(lm):
    _, tok = lm
    for s in ["It is a truth universally acknowledged.", "  two  spaces\tand tab", "中文 😀 12345", "é\u0301"]:
        assert tok.decode(tok.encode(s)) == s


def test_seeded_sampling_is_deterministic(lm):
    model, tok = lm
    a = reflm.generate(model, tok, ["It is a truth"], max_new_tokens=20, seed=3)
    b = reflm.generate(model, tok, ["It is a truth"], max_new_tokens=20, seed=3)
    c = reflm.generate(model, tok, ["It is a truth"], max_new_tokens=20, seed=4)
    assert a.new_tokens == b.new_tokens
    assert a.new_tokens != c.new_tokens


def test_left_padded_batch_matches_single_rows_greedy(lm):
    model, tok = lm
    prompts = ["In the beginning", "The kernel uses a simple lock to protect the list of", "She"]
    batch = reflm.generate(model, tok, prompts, max_new_tokens=30, temperature=0, stop_at_eos=False)
    for i, p in enumerate(prompts):
        single = reflm.generate(model, tok, [p], max_new_tokens=30, temperature=0, stop_at_eos=False)
        assert batch.new_tokens[i] == single.new_tokens[0], p
    assert batch.sequences.shape == (3, batch.prompt_length + 30)
    assert not bool(batch.attention_mask[0, 0])  # shortest prompt is left-padded


def test_processor_protocol_shapes_and_effect(lm):
    model, tok = lm
    seen = []
    banned = torch.tensor([tok.encode("the")[0], tok.encode(" the")[-1]])

    def proc(input_ids, scores):
        assert input_ids.dtype == torch.long and scores.dtype == torch.float32
        assert input_ids.shape[0] == scores.shape[0] == 2 and scores.shape[1] == tok.vocab_size
        seen.append(input_ids.shape[1])
        scores[:, banned] = float("-inf")
        return scores

    out = reflm.generate(model, tok, ["Once upon a time", "And the"], max_new_tokens=25, seed=1,
                         logits_processor=proc, stop_at_eos=False)
    assert seen == list(range(seen[0], seen[0] + 25))
    for row in out.new_tokens:
        assert not set(row) & set(banned.tolist())


def test_one_hot_processor_forces_tokens(lm):
    model, tok = lm
    target = tok.encode(" telltale")

    def force(input_ids, scores):
        step = input_ids.shape[1] - force.start
        out = torch.full_like(scores, float("-inf"))
        out[:, target[step % len(target)]] = 0.0
        return out

    force.start = len(tok.encode("x", bos=True))
    out = reflm.generate(model, tok, ["x"], max_new_tokens=len(target), seed=0, logits_processor=[force])
    assert out.new_tokens[0] == target


def test_min_new_tokens_and_eos(lm):
    model, tok = lm

    def eos_now(input_ids, scores):
        scores[:, tok.eos_id] = 1e9
        return scores

    out = reflm.generate(model, tok, ["Hello"], max_new_tokens=10, logits_processor=eos_now, min_new_tokens=0)
    assert out.new_tokens == [[]]
    # EOS is masked before processors run while min_new_tokens is not reached.
    out = reflm.generate(model, tok, ["Hello"], max_new_tokens=10, min_new_tokens=10, seed=2)
    assert len(out.new_tokens[0]) == 10 and tok.eos_id not in out.new_tokens[0]


def test_top_k_one_is_greedy(lm):
    model, tok = lm
    g = reflm.generate(model, tok, ["The Lord said"], max_new_tokens=15, temperature=0, stop_at_eos=False)
    k = reflm.generate(model, tok, ["The Lord said"], max_new_tokens=15, temperature=0.8, top_k=1, seed=9,
                       stop_at_eos=False)
    p = reflm.generate(model, tok, ["The Lord said"], max_new_tokens=15, temperature=0.8, top_p=1e-6, seed=9,
                       stop_at_eos=False)
    assert g.new_tokens == k.new_tokens == p.new_tokens


def test_long_generation_slides_past_context(lm):
    model, tok = lm
    out = reflm.generate(model, tok, ["It was"], max_new_tokens=model.cfg.max_seq_len + 20, seed=5,
                         stop_at_eos=False)
    assert len(out.new_tokens[0]) == model.cfg.max_seq_len + 20


def test_bad_arguments(lm):
    model, tok = lm
    with pytest.raises(ValueError, match="temperature"):
        reflm.generate(model, tok, ["a"], temperature=-1)
    with pytest.raises(ValueError, match="prompts"):
        reflm.generate(model, tok, [])
    with pytest.raises(ValueError, match="exceeds the model context"):
        model(torch.zeros(1, model.cfg.max_seq_len + 1, dtype=torch.long))


def test_sampling_entropy_reproduces_and_is_in_band(lm):
    model, tok = lm
    meta = reflm.metadata()
    with open(os.path.join(W, "heldout.txt"), encoding="utf-8") as f:
        prompts = evaluate.entropy_prompts(f.read())
    live = evaluate.sample_entropy(model, tok, prompts, 0.7, seed=meta["train"]["seed"])
    rec = meta["sample_entropy_bits_per_token"]
    assert live == pytest.approx(rec["0.7"], abs=1e-3)
    # Enough randomness per token for a watermark, far from both greedy
    # (0 bits) and a uniform guess (12 bits); hotter sampling is more random.
    assert 3.5 <= rec["0.7"] <= 5.0
    assert rec["0.8"] > rec["0.7"]


def test_continuation_bits_matches_direct_scoring(lm):
    model, tok = lm
    prompts = [tok.encode("It is a truth", bos=True), tok.encode("In the beginning God", bos=True)]
    conts = [tok.encode(" universally acknowledged"), tok.encode(" created the heaven and the earth")]
    got = evaluate.continuation_bits(model, prompts, conts)
    for p, c, g in zip(prompts, conts, got):
        ids = torch.tensor([p + c])
        logp = torch.log_softmax(model(ids[:, :-1])[0], -1)
        want = -sum(float(logp[len(p) - 1 + k, c[k]]) for k in range(len(c))) / len(c) / 0.6931471805599453
        assert g == pytest.approx(want, abs=1e-4)
    # Real text is more likely than shuffled tokens of the same text.
    shuffled = [list(reversed(c)) for c in conts]
    assert sum(got) < sum(evaluate.continuation_bits(model, prompts, shuffled))
    with pytest.raises(ValueError, match="empty continuation"):
        evaluate.continuation_bits(model, prompts[:1], [[]])


def test_token_windows_on_sample(lm):
    _, tok = lm
    from reflm import data
    with open(os.path.join(os.path.dirname(HERE), "sample", "english.txt"), encoding="utf-8") as f:
        paras = f.read().rstrip("\n").split("\n\n")[:400]
    wins = list(data.token_windows(tok, paras, 50))
    assert wins and all(len(w) == 50 for w in wins)
    total = sum(len(tok.encode(p)) // 50 for p in paras)
    assert len(wins) == total
    with pytest.raises(ValueError):
        list(data.token_windows(tok, paras, 0))
