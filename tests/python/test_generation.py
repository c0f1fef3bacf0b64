"""Real generation loops: batch 8 with left padding and per-row tenant keys,
beam search with 4 beams, and the vLLM-style per-request processor."""

import numpy as np
import pytest
import torch

import telltale
from telltale.hf import WatermarkLogitsProcessor
from telltale.vllm import WatermarkProcessorFactory
from toylm import ToyLM, beam_search, left_pad, sample_loop

SPEC = "kgw:gamma=0.25,delta=2,h=1"
PAD = 0


@pytest.fixture(scope="module")
def model():
    return ToyLM()


@pytest.fixture(scope="module")
def tenants():
    master = telltale.Key.from_bytes(bytes(range(100, 132)))
    return [master.derive(tenant=f"tenant{i}", region="eu", epoch="2026-11") for i in range(8)]


def prompts_of(n, seed):
    rng = np.random.default_rng(seed)
    return [[int(t) for t in rng.integers(1, 512, size=int(rng.integers(2, 12)))] for _ in range(n)]


def test_model_entropy_is_realistic(model):
    ids = torch.randint(1, 512, (500, 2), generator=torch.Generator().manual_seed(0))
    p = torch.softmax(model(ids), -1)
    bits = -(p * torch.log2(p)).sum(-1).mean().item()
    assert 3.0 < bits < 4.5


def test_batch8_left_padding_tenant_attribution(model, tenants):
    prompts = prompts_of(8, seed=1)
    ids, mask = left_pad(prompts, PAD)
    assert (mask == 0).any()  # padding is really exercised
    proc = WatermarkLogitsProcessor(tenants, SPEC, vocab_size=512, attention_mask=mask, pad_token_id=PAD)
    out = sample_loop(model, ids, 200, proc, seed=7)
    detectors = [telltale.Detector(k, SPEC) for k in tenants]
    rows = proc.split_for_detection(out)
    for i, (seq, n_prompt) in enumerate(rows):
        assert n_prompt == len(prompts[i]) and len(seq) == len(prompts[i]) + 200
        att = telltale.attribute(detectors, seq, prompt_tokens=n_prompt)
        own = att.per_key[i]
        assert own.p_value < 1e-6, (i, own)
        assert att.best == i and att.best_key_id == tenants[i].id
        assert att.attributed(1e-6) == i
        assert att.holm_p_values[i] < 1e-6
    # the same loop without the processor is not detected under any key
    plain = sample_loop(model, ids, 200, None, seed=7)
    for i, (seq, n_prompt) in enumerate(proc.split_for_detection(plain)):
        att = telltale.attribute(detectors, seq, prompt_tokens=n_prompt)
        assert att.attributed(1e-6) is None


@pytest.mark.parametrize("spec", ["kgw:gamma=0.25,delta=2,h=3,skip_repeat=true", "kgw:seeding=self,h=4,gamma=0.5"])
@pytest.mark.parametrize("mode", ["mask", "pad_id"])
def test_left_padding_matches_unpadded_rows(spec, mode, tenants):
    # Schemes whose context reaches into the padding (h > prompt, skip_repeat
    # scanning the whole context) would differ if pads leaked into it.
    prompts = [[5], [6, 6], [7, 8, 9, 10, 11, 12], [5, 5, 5]]
    ids, mask = left_pad(prompts, PAD)
    kwargs = {"attention_mask": mask} if mode == "mask" else {"pad_token_id": PAD}
    keys = tenants[:4]
    proc = WatermarkLogitsProcessor(keys, spec, **kwargs)
    scores = torch.randn(4, 512, generator=torch.Generator().manual_seed(3))
    ref = scores.clone()
    proc(ids, scores)
    for i, p in enumerate(prompts):
        wm = telltale.Watermarker(keys[i], spec)
        wm.apply(p, ref[i])
    assert torch.equal(scores, ref)


def test_beam_search_best_beam_detected(model, tenants):
    prompts = prompts_of(2, seed=5)
    ids, mask = left_pad(prompts, PAD)
    keys = tenants[:2]
    proc = WatermarkLogitsProcessor(keys, SPEC, attention_mask=mask)
    best, reordered = beam_search(model, ids, num_beams=4, new_tokens=200, processor=proc)
    assert reordered  # rows really moved between beams
    detectors = [telltale.Detector(k, SPEC) for k in keys]
    for i, (seq, n_prompt) in enumerate(proc.split_for_detection(best)):
        att = telltale.attribute(detectors, seq, prompt_tokens=n_prompt)
        assert att.per_key[i].p_value < 1e-6, att.per_key[i]
        assert att.best == i


def test_beam_rows_get_their_own_prompt_key(tenants):
    # rows = prompts x beams: row r belongs to prompt r // beams
    keys = tenants[:2]
    ids = torch.tensor([[1, 2], [1, 3], [4, 5], [4, 6]])
    proc = WatermarkLogitsProcessor(keys, SPEC, row_keys=[1, 0])
    scores = torch.zeros(4, 512)
    proc(ids, scores)
    for r in range(4):
        expect = torch.zeros(512)
        telltale.Watermarker(keys[[1, 0][r // 2]], SPEC).apply(ids[r].tolist(), expect)
        assert torch.equal(scores[r], expect)
    with pytest.raises(telltale.InvalidArgumentError, match="not a multiple of the 2 configured prompts"):
        proc(ids[:3], torch.zeros(3, 512))


def test_processor_errors(tenants):
    proc = WatermarkLogitsProcessor(tenants[0], SPEC, vocab_size=512)
    with pytest.raises(telltale.InvalidArgumentError, match="scores have 512|but the vocabulary size is 512"):
        proc(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 500))
    with pytest.raises(telltale.InvalidArgumentError, match="input_ids have dtype float32"):
        proc(torch.zeros(2, 3), torch.zeros(2, 512))
    with pytest.raises(telltale.InvalidArgumentError, match="input_ids have 3 rows but scores have 2"):
        proc(torch.zeros(3, 3, dtype=torch.long), torch.zeros(2, 512))
    with pytest.raises(telltale.InvalidArgumentError, match="sampling scheme"):
        WatermarkLogitsProcessor(tenants[0], "gumbel")


def test_vllm_request_processor(model, tenants):
    master = telltale.Key.from_bytes(bytes(range(100, 132)))
    factory = WatermarkProcessorFactory(master, SPEC, vocab_size=512)
    proc = factory.for_tenant("tenant3", region="eu", epoch="2026-11")
    assert proc.watermarker.key_id == tenants[3].id
    prompt = [17, 23, 99]
    out = []
    gen = torch.Generator().manual_seed(11)
    for _ in range(200):
        ctx = torch.tensor([prompt + out])
        logits = model(ctx)[0].contiguous()
        expect = logits.clone()
        telltale.Watermarker(tenants[3], SPEC).apply(prompt + out, expect)
        got = proc(prompt, out, logits)
        assert got is logits and torch.equal(got, expect)
        out.append(int(torch.multinomial(torch.softmax(got, -1), 1, generator=gen)))
    assert proc.context_length == len(prompt) + len(out) - 1
    det = telltale.Detector(tenants[3], SPEC).score(prompt + out, prompt_tokens=len(prompt))
    assert det.p_value < 1e-6
    # preemption: the output restarts shorter and different; state is rebuilt
    logits = torch.zeros(512)
    proc(prompt, [5], logits)
    expect = torch.zeros(512)
    telltale.Watermarker(tenants[3], SPEC).apply(prompt + [5], expect)
    assert torch.equal(logits, expect) and proc.context_length == 4
