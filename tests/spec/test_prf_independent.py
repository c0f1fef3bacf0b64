"""An independent implementation of docs/SPEC.md in Python.

It recomputes every golden vector in tests/vectors/prf_v1.json from the
specification alone (hashlib for BLAKE2b, python3-cryptography for HKDF and
AES, exact rational arithmetic for the binomial tail, 60-digit decimals for
the Gamma tail), so the C++ code and the written spec cannot drift apart.
"""
import decimal
import fractions
import hashlib
import json
import math
import os
import pathlib
import struct
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "prf_v1.json").read_text())
M64 = (1 << 64) - 1


def hkdf(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def fmix64(k):
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & M64
    k ^= k >> 33
    return k


def left_hash(window):
    c = 0
    for y in window:
        c = fmix64(c ^ y)
    return c


def self_hash(previous, candidate):
    t = candidate
    return min([fmix64((t << 32) | t)] + [fmix64((y << 32) | t) for y in previous])


def parse_canonical(spec):
    head, _, params = spec.partition(":")
    family, version = head.split(".")
    kv = dict(item.split("=") for item in params.split(",")) if params else {}
    return family, version, kv


def gamma_q16(kv):
    return round(float(kv["gamma"]) * 65536)


def prf_identity(spec):
    family, version, kv = parse_canonical(spec)
    if family == "kgw":
        return f"kgw.{version}:gamma_q16={gamma_q16(kv)},h={kv['h']},seeding={kv['seeding']}"
    if family == "unigram":
        return f"unigram.{version}:gamma_q16={gamma_q16(kv)}"
    return f"gumbel.{version}:h={kv['h']}"


def slot_bits(spec):
    family, _, kv = parse_canonical(spec)
    if family == "gumbel":
        return 32
    g = gamma_q16(kv)
    tz = (g & -g).bit_length() - 1
    bits = 1
    while bits < 16 - tz:
        bits *= 2
    return bits


class Prf:
    def __init__(self, key, spec):
        self.key = hkdf(key, b"telltale/prf/v1", prf_identity(spec).encode(), 16)
        self.bits = slot_bits(spec)
        self.aes = Cipher(algorithms.AES(self.key), modes.ECB())

    def block(self, ctx, index):
        enc = self.aes.encryptor()
        return enc.update(struct.pack("<QII", ctx, index, 1)) + enc.finalize()

    def slot(self, ctx, token):
        per_block = 128 // self.bits
        block = int.from_bytes(self.block(ctx, token // per_block), "little")
        return (block >> (self.bits * (token % per_block))) & ((1 << self.bits) - 1)


def scoring_context(spec, tokens, i):
    family, _, kv = parse_canonical(spec)
    if family == "unigram":
        return 0
    h = int(kv["h"])
    if family == "kgw" and kv["seeding"] == "self":
        return self_hash(tokens[i - h + 1 : i], tokens[i]) if i >= h - 1 else None
    return left_hash(tokens[i - h : i]) if i >= h else None


def log10_binomial_tail(k, n, g):
    if k <= 0:
        return 0.0
    p = fractions.Fraction(g, 65536)
    tail = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))
    return math.log10(tail.numerator) - math.log10(tail.denominator)


def log10_gamma_tail(s, n):
    decimal.getcontext().prec = 60
    s = decimal.Decimal(s)
    term, total = decimal.Decimal(1), decimal.Decimal(1)
    for j in range(1, n):
        term = term * s / j
        total += term
    return float(((-s).exp() * total).log10())


KEY = bytes.fromhex(VECTORS["key_hex"])


def test_key_id_is_keyed_blake2b_128():
    got = hashlib.blake2b(b"telltale/key-id/v1", key=KEY, digest_size=16).hexdigest()
    assert got == VECTORS["key_id"]


def test_tenant_key_derivation():
    d = VECTORS["derive"]
    info = b"".join(len(x).to_bytes(4, "big") + x.encode() for x in (d["tenant"], d["region"], d["epoch"]))
    assert hkdf(KEY, b"telltale/tenant-key/v1", info, 32).hex() == d["key_hex"]


def test_context_hashes():
    for case in VECTORS["context_hashes"]:
        assert f"{left_hash(case['window']):016x}" == case["left"]
        assert f"{self_hash(case['window'], case['self_candidate']):016x}" == case["self"]


@pytest.mark.parametrize("case", VECTORS["schemes"], ids=lambda c: c["scheme"])
def test_scheme_vectors(case):
    spec = case["scheme"]
    assert prf_identity(spec) == case["prf_identity"]
    prf = Prf(KEY, spec)
    assert prf.key.hex() == case["prf_key_hex"]
    b = case["blocks"]
    ctx = int(b["ctx"], 16)
    blocks = b"".join(prf.block(ctx, b["first_block"] + i) for i in range(3))
    assert blocks.hex() == b["out_hex"]
    doc = VECTORS["document"]
    expected_positions = []
    for i in range(12):
        c = scoring_context(spec, doc, i)
        if c is not None:
            expected_positions.append({"pos": i, "ctx": f"{c:016x}", "slot": prf.slot(c, doc[i])})
    assert expected_positions == case["positions"]

    # Detection with context+token dedup, from the spec.
    family, _, kv = parse_canonical(spec)
    seen, values = set(), []
    for i, tok in enumerate(doc):
        c = scoring_context(spec, doc, i)
        if c is None or (c, tok) in seen:
            continue
        seen.add((c, tok))
        s = prf.slot(c, tok)
        if family == "gumbel":
            values.append(-math.log1p(-s / 2**32))
        else:
            threshold = gamma_q16(kv) >> (16 - prf.bits)
            values.append(1.0 if s < threshold else 0.0)
    det = case["detect"]
    assert det["scored"] == len(values)
    assert det["score"] == pytest.approx(sum(values), rel=1e-12)
    if family == "gumbel":
        want = log10_gamma_tail(sum(values), len(values))
    else:
        want = log10_binomial_tail(int(sum(values)), len(values), gamma_q16(kv))
    assert det["log10_p"] == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_committed_vectors_match_the_binary():
    binary = os.environ.get("TELLTALE_GOLDEN_BIN")
    if not binary:
        pytest.skip("TELLTALE_GOLDEN_BIN not set (run through ctest)")
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == VECTORS
