"""Hugging Face ``LogitsProcessor`` for telltale bias schemes (kgw, unigram).

``WatermarkLogitsProcessor`` follows the transformers protocol
``__call__(input_ids: LongTensor[B, T], scores: FloatTensor[B, V]) -> FloatTensor``
without importing transformers: pass it in a ``LogitsProcessorList`` or call
it from your own loop. Each step is one native call that biases ``scores``
in place and returns it: ``__call__`` itself is native (the class derives
from the extension type and defines no Python ``__call__``), so a step pays
no Python frame and no argument conversion. ``inspect.signature(proc.__call__)``
still has two parameters, which is what ``LogitsProcessorList`` checks.

Correctness under batching: every row's context is read from that row's own
tokens in ``input_ids``, so beam search (rows reorder between steps) needs no
state. Left padding is stripped per row, either from the prompt's attention
mask (exact) or by dropping leading ``pad_token_id`` tokens. Rows map to
prompts as ``row // num_beams`` (transformers expands each prompt into
``num_beams`` adjacent rows), which is how per-prompt tenant keys and pad
counts follow their rows.

>>> import torch, telltale
>>> from telltale.hf import WatermarkLogitsProcessor
>>> keys = [telltale.Key.generate(), telltale.Key.generate()]
>>> mask = torch.tensor([[0, 1, 1], [1, 1, 1]])
>>> proc = WatermarkLogitsProcessor(keys, "kgw:gamma=0.25,delta=2", attention_mask=mask)
>>> ids = torch.tensor([[0, 5, 6], [7, 8, 9]])
>>> scores = torch.zeros(2, 100)
>>> proc(ids, scores) is scores
True
>>> sorted(set(scores.flatten().tolist()))
[0.0, 2.0]
"""

from __future__ import annotations

import inspect
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from telltale import _core
from telltale._core import InvalidArgumentError, Key, Scheme, Watermarker

__all__ = ["WatermarkLogitsProcessor"]

KeyLike = Union[Key, Watermarker]


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor, on any device
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _leading_pad_counts(attention_mask: Any) -> List[int]:
    mask = _to_numpy(attention_mask)
    if mask.ndim != 2:
        raise InvalidArgumentError(f"attention_mask must be 2-D [batch, prompt_len], got {mask.ndim}-D")
    nonzero = mask != 0
    first = np.argmax(nonzero, axis=1)
    first[~nonzero.any(axis=1)] = mask.shape[1]
    return [int(v) for v in first]


class WatermarkLogitsProcessor(_core._BatchProcessor):
    """Watermarks every row of a generation batch, in place, in one native call.

    ``proc(input_ids, scores)`` biases ``scores`` ([B, V] float32/float16/
    bfloat16, CPU) in place from each row's own tokens in ``input_ids``
    ([B, T] int64/int32) and returns ``scores``.

    Args:
        keys: one key (every row), or one key per prompt (per-tenant keys);
            a prebuilt ``Watermarker`` may stand in for a key.
        scheme: a ``Scheme`` or spec string of a bias scheme.
        vocab_size: if > 0, ``scores.shape[1]`` must equal it and every
            token id must be below it.
        row_keys: for each prompt, an index into ``keys``; by default prompt
            i uses ``keys[i]`` (or ``keys[0]`` when a single key is given).
        attention_mask: the prompts' ``[B, T0]`` attention mask; its leading
            zeros give each prompt's left padding.
        pad_token_id: without a mask, leading tokens equal to this id are
            padding.
    """

    def __init__(
        self,
        keys: Union[KeyLike, Sequence[KeyLike]],
        scheme: Union[Scheme, str, None] = None,
        *,
        vocab_size: int = 0,
        row_keys: Optional[Sequence[int]] = None,
        attention_mask: Any = None,
        pad_token_id: Optional[int] = None,
    ) -> None:
        key_list = [keys] if isinstance(keys, (Key, Watermarker)) else list(keys)
        if not key_list:
            raise InvalidArgumentError("keys: at least one key is needed")
        self.watermarkers: List[Watermarker] = []
        for i, k in enumerate(key_list):
            if isinstance(k, Watermarker):
                self.watermarkers.append(k)
            elif isinstance(k, Key):
                if scheme is None:
                    raise InvalidArgumentError("scheme is required when keys are given as telltale.Key")
                self.watermarkers.append(Watermarker(k, scheme, vocab_size))
            else:
                raise InvalidArgumentError(f"keys[{i}] is a {type(k).__name__}, not a telltale.Key or Watermarker")
        self.vocab_size = vocab_size
        super().__init__(self.watermarkers, vocab_size)
        self.prompt_length: Optional[int] = None
        self.set_batch(row_keys=row_keys, attention_mask=attention_mask, pad_token_id=pad_token_id)

    def set_batch(
        self,
        *,
        row_keys: Optional[Sequence[int]] = None,
        attention_mask: Any = None,
        pad_token_id: Optional[int] = None,
    ) -> None:
        """Re-targets the processor at a new batch of prompts (keys are kept)."""
        if row_keys is None and len(self.watermarkers) > 1:
            row_keys = range(len(self.watermarkers))
        item_keys = [int(k) for k in row_keys] if row_keys is not None else []
        pads = _leading_pad_counts(attention_mask) if attention_mask is not None else []
        if attention_mask is not None:
            self.prompt_length = int(_to_numpy(attention_mask).shape[1])
        self.pad_counts = pads
        self.pad_token_id = pad_token_id
        self.configure(item_keys, pads, -1 if pad_token_id is None else int(pad_token_id))

    # __call__ is the extension type's tp_call; this signature documents it
    # for inspect.signature(proc).
    __signature__ = inspect.Signature(
        [inspect.Parameter("input_ids", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         inspect.Parameter("scores", inspect.Parameter.POSITIONAL_OR_KEYWORD)])

    def split_for_detection(self, sequences: Any, num_beams: int = 1) -> List[Tuple[np.ndarray, int]]:
        """Per returned row: (token ids without left padding, prompt token count).

        ``sequences`` is generate()'s ``[rows, T]`` output, rows = prompts x
        ``num_beams`` (1 when only the best beam of each prompt is returned).
        Trailing ``pad_token_id`` tokens (after EOS) are dropped too. Feed the
        pair to ``Detector.score(ids, prompt_tokens=n)``.
        """
        seq = _to_numpy(sequences)
        if seq.ndim != 2:
            raise InvalidArgumentError(f"sequences must be 2-D [rows, T], got {seq.ndim}-D")
        out = []
        for r in range(seq.shape[0]):
            row = seq[r]
            item = r // num_beams
            if self.pad_counts:
                start = self.pad_counts[item]
            elif self.pad_token_id is not None:
                start = int(np.argmax(row != self.pad_token_id)) if (row != self.pad_token_id).any() else len(row)
            else:
                start = 0
            end = len(row)
            if self.pad_token_id is not None:
                while end > start and row[end - 1] == self.pad_token_id:
                    end -= 1
            prompt = (self.prompt_length - start) if self.prompt_length is not None else 0
            out.append((np.ascontiguousarray(row[start:end], dtype=np.int64), max(prompt, 0)))
        return out
