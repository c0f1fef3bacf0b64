"""A Llama-layout decoder-only transformer small enough to train on 2 CPU cores.

Layout follows Llama exactly so that llama.cpp can run the same weights
after GGUF export: pre-norm RMSNorm, rotary position embeddings (rotate-half
pairing; the exporter permutes q/k to llama.cpp's interleaved pairing),
SwiGLU feed-forward, no biases, final RMSNorm, output head tied to the token
embedding. Attention takes an explicit `attention_mask` (1 = real token) so
left-padded batches work; positions are counted per row over real tokens.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int = 4096
    dim: int = 128
    n_layers: int = 4
    n_heads: int = 4
    ffn_dim: int = 352
    max_seq_len: int = 256
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope_tables(cfg: LlamaConfig, positions: torch.Tensor) -> tuple:
    """cos/sin of shape [B, T, head_dim] for integer positions [B, T]."""
    half = cfg.head_dim // 2
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, half, dtype=torch.float32) / half))
    ang = positions.float().unsqueeze(-1) * inv  # [B, T, half]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos(), ang.sin()


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    # x: [B, H, T, D]; cos/sin: [B, T, D]
    return x * cos.unsqueeze(1) + _rotate_half(x) * sin.unsqueeze(1)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.wq = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wo = nn.Linear(cfg.dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, mask, cache: Optional[dict]):
        b, t, _ = x.shape
        h, d = self.cfg.n_heads, self.cfg.head_dim
        q = self.wq(x).view(b, t, h, d).transpose(1, 2)
        k = self.wk(x).view(b, t, h, d).transpose(1, 2)
        v = self.wv(x).view(b, t, h, d).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        att = att.masked_fill(~mask.unsqueeze(1), float("-inf"))
        att = torch.softmax(att.float(), dim=-1).type_as(q)
        # A fully masked query row (a left-pad position) gives NaN; zero it.
        att = torch.nan_to_num(att, nan=0.0)
        out = (att @ v).transpose(1, 2).reshape(b, t, h * d)
        return self.wo(out)


class FeedForward(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.w1 = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)  # gate
        self.w3 = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)  # up
        self.w2 = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)  # down

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.feed_forward = FeedForward(cfg)

    def forward(self, x, cos, sin, mask, cache):
        x = x + self.attention(self.attention_norm(x), cos, sin, mask, cache)
        return x + self.feed_forward(self.ffn_norm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)

    def init_weights(self, generator: torch.Generator) -> None:
        std = 0.02
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            else:
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=generator) * std)
            if name.endswith(("wo.weight", "w2.weight")):
                with torch.no_grad():
                    p.mul_(1.0 / math.sqrt(2 * self.cfg.n_layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                caches: Optional[list] = None, past_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Returns logits [B, T, V] (float32).

        input_ids: [B, T]. attention_mask: [B, T] for these tokens (1 real,
        0 pad); defaults to all ones. With `caches` (one dict per layer,
        filled in place) this call's keys/values are appended, and
        `past_mask` [B, P] describes the cached positions.
        """
        b, t = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones(b, t, dtype=torch.bool)
        attention_mask = attention_mask.bool()
        full = attention_mask if past_mask is None else torch.cat([past_mask.bool(), attention_mask], dim=1)
        p = full.shape[1] - t
        if full.shape[1] > self.cfg.max_seq_len:
            raise ValueError(f"sequence length {full.shape[1]} exceeds the model context {self.cfg.max_seq_len}")
        positions = (full.long().cumsum(dim=1) - 1).clamp(min=0)[:, p:]
        cos, sin = rope_tables(self.cfg, positions)
        causal = torch.ones(t, p + t, dtype=torch.bool).tril(diagonal=p)
        mask = causal.unsqueeze(0) & full.unsqueeze(1)  # [B, T, P+T]
        x = self.tok_embeddings(input_ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, None if caches is None else caches[i])
        x = self.norm(x)
        return (x @ self.tok_embeddings.weight.t()).float()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
