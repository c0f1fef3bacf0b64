"""vLLM-style per-request logits processors.

vLLM (V0 API) calls a per-request processor as
``fn(prompt_token_ids, output_token_ids, logits) -> logits`` once per step.
``WatermarkLogitsProcessor`` keeps the request's context in native memory and
extends it with the new output tokens only, so a step costs one native call
that reads one new token and biases ``logits`` in place; ``__call__`` is the
extension type's own (no Python frame). ``inspect.signature(proc)`` reports
the three parameters vLLM looks for. If the output is not
an extension of what it saw (preemption, recomputation), it rebuilds the
context from the arguments. vLLM is not imported.

Create one processor per request (they are stateful), e.g. with
``WatermarkProcessorFactory``:

>>> import torch, telltale
>>> from telltale.vllm import WatermarkProcessorFactory
>>> master = telltale.Key.generate()
>>> factory = WatermarkProcessorFactory(master, "kgw:gamma=0.25,delta=2", vocab_size=100)
>>> proc = factory.for_tenant("acme", region="eu", epoch="2026-11")
>>> logits = torch.zeros(100)
>>> proc([1, 2, 3], [4], logits) is logits
True
>>> proc.context_length
4
"""

from __future__ import annotations

import inspect
from typing import Dict, Tuple, Union

from telltale import _core
from telltale._core import Key, Scheme, Watermarker

__all__ = ["WatermarkLogitsProcessor", "WatermarkProcessorFactory"]


class WatermarkLogitsProcessor(_core._RequestProcessor):
    """One request's watermarking processor (state held natively)."""

    def __init__(self, watermarker: Watermarker, vocab_size: int = 0) -> None:
        super().__init__(watermarker, vocab_size)
        self.watermarker = watermarker

    # __call__(prompt_token_ids, output_token_ids, logits) -> logits is the
    # extension type's tp_call; vLLM counts these parameters.
    __signature__ = inspect.Signature(
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
         for name in ("prompt_token_ids", "output_token_ids", "logits")])


class WatermarkProcessorFactory:
    """Builds per-request processors for one master key and scheme.

    Tenant keys are derived once (HKDF) and cached; each request gets a fresh
    processor so no state leaks between requests.
    """

    def __init__(self, key: Key, scheme: Union[Scheme, str], vocab_size: int = 0) -> None:
        self.key = key
        self.scheme = scheme if isinstance(scheme, Scheme) else Scheme(scheme)
        self.vocab_size = vocab_size
        self._default = Watermarker(key, self.scheme, vocab_size)
        self._tenants: Dict[Tuple[str, str, str], Watermarker] = {}

    def __call__(self) -> WatermarkLogitsProcessor:
        """A processor under the factory's own key."""
        return WatermarkLogitsProcessor(self._default, self.vocab_size)

    def for_tenant(self, tenant: str, *, region: str, epoch: str) -> WatermarkLogitsProcessor:
        """A processor under the tenant key derived from the master key."""
        labels = (tenant, region, epoch)
        wm = self._tenants.get(labels)
        if wm is None:
            sub = self.key.derive(tenant=tenant, region=region, epoch=epoch)
            wm = Watermarker(sub, self.scheme, self.vocab_size)
            self._tenants[labels] = wm
        return WatermarkLogitsProcessor(wm, self.vocab_size)
