"""A tiny torch language model with fixed random weights, for generation tests.

The next-token distribution depends on the last two tokens and has about
3.5 bits of entropy, like a real LM's on prose. Stands in for the reference
LM until datasets/reflm is committed.
"""

import torch

VOCAB = 512


class ToyLM(torch.nn.Module):
    def __init__(self, vocab: int = VOCAB, width: int = 64, scale: float = 0.65, seed: int = 1234) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.e1 = torch.randn(vocab, width, generator=g)
        self.e2 = torch.randn(vocab, width, generator=g)
        self.out = torch.randn(width, vocab, generator=g) * scale
        self.vocab = vocab

    @torch.no_grad()
    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """[B, T] token ids (T >= 2) -> [B, V] next-token logits."""
        h = torch.tanh(self.e1[input_ids[:, -1]] + 0.5 * self.e2[input_ids[:, -2]])
        return h @ self.out


def left_pad(prompts, pad_id):
    """Left-pads prompts into ([B, T0] ids, [B, T0] attention mask)."""
    t0 = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), t0), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), t0), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, t0 - len(p):] = torch.tensor(p)
        mask[i, t0 - len(p):] = 1
    return ids, mask


def sample_loop(model, ids, new_tokens, processor=None, seed=0):
    """Multinomial sampling loop in the style of transformers' generate()."""
    gen = torch.Generator().manual_seed(seed)
    for _ in range(new_tokens):
        scores = model(ids)
        if processor is not None:
            scores = processor(ids, scores)
        nxt = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=gen)
        ids = torch.cat([ids, nxt], dim=1)
    return ids


def beam_search(model, ids, num_beams, new_tokens, processor=None):
    """Beam search as in transformers: processors see log-probs of every
    beam row; rows are reordered by the surviving beams after each step.
    Returns the best beam per prompt and whether rows were ever reordered."""
    batch = ids.shape[0]
    ids = ids.repeat_interleave(num_beams, dim=0)
    beam_scores = torch.zeros(batch, num_beams)
    beam_scores[:, 1:] = -1e9
    reordered = False
    for _ in range(new_tokens):
        logp = torch.log_softmax(model(ids), dim=-1)
        if processor is not None:
            logp = processor(ids, logp)
        cand = (logp + beam_scores.view(-1, 1)).view(batch, -1)
        top, idx = cand.topk(num_beams, dim=1)
        beam = idx // model.vocab
        tok = idx % model.vocab
        rows = (torch.arange(batch).view(-1, 1) * num_beams + beam).view(-1)
        reordered |= not torch.equal(rows, torch.arange(batch * num_beams))
        ids = torch.cat([ids[rows], tok.view(-1, 1)], dim=1)
        beam_scores = top
    return ids.view(batch, num_beams, -1)[:, 0], reordered
