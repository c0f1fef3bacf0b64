"""SentencePiece BPE tokenizer of the reference LM (Llama conventions:
<unk>=0, <s>=1, </s>=2, 256 byte-fallback pieces, identity normalization,
digits split, whitespace kept) so llama.cpp's SPM tokenizer reproduces it."""
from __future__ import annotations

import sentencepiece as spm

# spm_train flags; train.py passes exactly these so the model is reproducible.
SPM_FLAGS = {
    "model_type": "bpe",
    "vocab_size": 4096,
    "byte_fallback": "true",
    "split_digits": "true",
    "normalization_rule_name": "identity",
    "remove_extra_whitespaces": "false",
    "add_dummy_prefix": "true",
    "allow_whitespace_only_pieces": "true",
    "character_coverage": "0.9995",
    "max_sentence_length": "16384",
    "unk_id": "0",
    "bos_id": "1",
    "eos_id": "2",
    "pad_id": "-1",
    "num_threads": "1",
    "input_sentence_size": "0",
    "shuffle_input_sentence": "false",
    "seed_sentencepiece_size": "200000",
    "minloglevel": "1",
}


class Tokenizer:
    """Thin wrapper: Encode/Decode plus the ids generation needs."""

    def __init__(self, model_path: str):
        self.path = model_path
        self.sp = spm.SentencePieceProcessor()
        if not self.sp.Load(model_path):
            raise OSError(f"{model_path}: not a SentencePiece model")
        self.bos_id = self.sp.bos_id()
        self.eos_id = self.sp.eos_id()
        self.unk_id = self.sp.unk_id()
        # No pad piece (Llama has none); padded slots are masked, and id 0
        # (<unk>) fills them.
        self.pad_id = 0

    @property
    def vocab_size(self) -> int:
        return self.sp.GetPieceSize()

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list:
        ids = list(self.sp.EncodeAsIds(text))
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def decode(self, ids) -> str:
        return self.sp.DecodeIds([int(i) for i in ids])

    def piece(self, i: int) -> str:
        return self.sp.IdToPiece(int(i))
