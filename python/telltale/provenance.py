"""Provenance: key commitments, signed in-toto statements, a transparency log
and evidence bundles, byte-compatible with the ``telltale`` CLI
(``telltale commit|sign|verify|log|evidence``; docs/provenance.md).

Everything a file would hold is passed as text or bytes, so Python and the
CLI interoperate through files: an envelope signed here verifies with
``telltale verify`` and the other way round.

Failed verifications raise :class:`VerificationError` (a ``TelltaleError``
and a ``ValueError``) with the reason; bad arguments raise the usual typed
errors (``InvalidArgumentError``, ``NotFoundError``, ...).

>>> import telltale
>>> from telltale import provenance as prov
>>> signer = prov.SigningKey.from_seed("provider.example", bytes(32))
>>> env = prov.sign_statement([prov.Subject("report.jsonl", "sha256", "ab" * 32)],
...                           "https://example.com/predicate/v1", {"ok": True}, signer)
>>> st = prov.verify_statement(env, signer.public_key)
>>> st.subjects[0].name, st.predicate
('report.jsonl', {'ok': True})
>>> other = prov.SigningKey.from_seed("provider.example", bytes(range(32)))
>>> prov.verify_statement(env, other.public_key)
Traceback (most recent call last):
...
telltale.provenance.VerificationError: ...
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar, Union

from telltale import _core
from telltale._core import Key, Scheme, TelltaleError

try:
    _prov = _core.prov
except AttributeError as e:  # pragma: no cover - a build without crypto/provenance
    raise ImportError("telltale.provenance: this build of telltale._core has no provenance component") from e

SigningKey = _prov.SigningKey
PublicKey = _prov.PublicKey
Opening = _prov.Opening
TransparencyLog = _prov.TransparencyLog

IN_TOTO_PAYLOAD_TYPE: str = _prov.IN_TOTO_PAYLOAD_TYPE
KEY_COMMITMENT_PREDICATE: str = _prov.KEY_COMMITMENT_PREDICATE
GENERATION_BATCH_PREDICATE: str = _prov.GENERATION_BATCH_PREDICATE
DETECTION_REPORT_PREDICATE: str = _prov.DETECTION_REPORT_PREDICATE

__all__ = [
    "Checkpoint",
    "Claim",
    "DETECTION_REPORT_PREDICATE",
    "EvidenceReport",
    "GENERATION_BATCH_PREDICATE",
    "IN_TOTO_PAYLOAD_TYPE",
    "InclusionResult",
    "KEY_COMMITMENT_PREDICATE",
    "Membership",
    "Opening",
    "PublicKey",
    "SigningKey",
    "Statement",
    "Subject",
    "TransparencyLog",
    "VerificationError",
    "commit",
    "commitment_set_root",
    "open_checkpoint",
    "prove_membership",
    "sign_envelope",
    "sign_statement",
    "verify_consistency",
    "verify_envelope",
    "verify_evidence",
    "verify_inclusion",
    "verify_membership",
    "verify_statement",
]


class VerificationError(TelltaleError, ValueError):
    """A signature, proof, commitment or evidence link did not verify."""

    code = "VERIFICATION_FAILED"


_F = TypeVar("_F", bound=Callable[..., Any])


def _verifying(fn: _F) -> _F:
    """Turns the native layer's errors from a verification into VerificationError."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VerificationError:
            raise
        except TelltaleError as e:
            raise VerificationError(str(e)) from e

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Subject:
    """An in-toto subject: ``algorithm`` is "sha256" for file bytes or
    "rfc6962-sha256" for Merkle roots; ``digest`` is lower-case hex."""

    name: str
    algorithm: str
    digest: str


@dataclass(frozen=True)
class Statement:
    """A verified in-toto v1 statement and the exact payload bytes signed."""

    subjects: List[Subject]
    predicate_type: str
    predicate: Any
    payload: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A verified signed-note checkpoint of a transparency log."""

    origin: str
    size: int
    root: str
    extensions: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class InclusionResult:
    """A verified inclusion proof: the entry, its index and the checkpoint."""

    index: int
    entry: bytes
    checkpoint: Checkpoint


@dataclass(frozen=True)
class Membership:
    """A verified commitment-set membership."""

    commitment: str
    index: int
    size: int
    root: str


@dataclass(frozen=True)
class Claim:
    link: str
    state: str  # "verified", "failed" or "info"
    text: str


@dataclass(frozen=True)
class EvidenceReport:
    """Per-link results of an evidence bundle check (``telltale evidence verify``)."""

    all_verified: bool
    claims: List[Claim]
    text: str


def _checkpoint(d: dict) -> Checkpoint:
    return Checkpoint(d["origin"], int(d["size"]), d["root"], list(d["extensions"]))


def commit(
    key: Key,
    scheme: Union[Scheme, str],
    tokenizer_digest: str,
    *,
    tenant: str,
    region: str,
    epoch: str,
) -> Opening:
    """A fresh salted commitment to ``key`` with its scheme (stored canonically),
    tokenizer digest (hex SHA-256) and labels (as ``telltale commit create``:
    for a derived key, its own tenant/region/epoch); ``opening.commitment`` is
    public, the opening itself is secret (save it with ``opening.save(path)``).

    >>> import telltale
    >>> from telltale import provenance as prov
    >>> o = prov.commit(telltale.Key.from_bytes(bytes(32)), "kgw:gamma=0.25", "00" * 32, tenant="acme", region="eu", epoch="2026-11")
    >>> o.params["scheme"].startswith("kgw"), len(o.commitment)
    (True, 64)
    """
    return Opening.create(key, scheme, tokenizer_digest, tenant, region, epoch)


def commitment_set_root(commitments: Sequence[str]) -> str:
    """The Merkle root (hex) of an epoch's commitment set, in the given order."""
    return _prov.commitment_set_root(list(commitments))


def prove_membership(commitments: Sequence[str], index: int) -> str:
    """The membership-proof file text for ``commitments[index]``."""
    return _prov.prove_membership(list(commitments), index)


@_verifying
def verify_membership(opening: Opening, membership: str) -> Membership:
    """Checks that ``opening`` recomputes the commitment in ``membership`` (a
    membership file's text) and that it belongs to the set root.

    >>> import telltale
    >>> from telltale import provenance as prov
    >>> a = prov.commit(telltale.Key.from_bytes(bytes(32)), "kgw", "00" * 32, tenant="a", region="eu", epoch="e1")
    >>> b = prov.commit(telltale.Key.from_bytes(bytes(range(32))), "kgw", "00" * 32, tenant="b", region="eu", epoch="e1")
    >>> proof = prov.prove_membership([a.commitment, b.commitment], 1)
    >>> prov.verify_membership(b, proof).index
    1
    >>> prov.verify_membership(a, proof)
    Traceback (most recent call last):
    ...
    telltale.provenance.VerificationError: opening: recomputed commitment ...
    """
    d = _prov.verify_membership(opening, membership)
    return Membership(d["commitment"], int(d["index"]), int(d["size"]), d["root"])


def sign_envelope(payload_type: str, payload: Union[bytes, str], key: SigningKey) -> str:
    """A DSSE envelope (file text) over arbitrary ``payload``."""
    return _prov.dsse_sign(payload_type, payload, key)


@_verifying
def verify_envelope(envelope: str, key: PublicKey) -> Tuple[str, bytes]:
    """Verifies a DSSE envelope's signature; returns (payload_type, payload)."""
    payload_type, payload = _prov.dsse_verify(envelope, key)
    return payload_type, payload


def sign_statement(
    subjects: Sequence[Subject],
    predicate_type: str,
    predicate: Any,
    key: SigningKey,
) -> str:
    """Signs an in-toto v1 statement (canonical JSON) as a DSSE envelope and
    returns the envelope text, as ``telltale sign`` writes it."""
    return _prov.statement_sign([(s.name, s.algorithm, s.digest) for s in subjects], predicate_type, predicate, key)


@_verifying
def verify_statement(envelope: str, key: PublicKey) -> Statement:
    """What ``telltale verify ENVELOPE --key PUB`` checks: the signature, an
    in-toto statement and, for telltale's predicate types, a valid predicate."""
    d = _prov.statement_verify(envelope, key)
    subjects = [Subject(s["name"], s["algorithm"], s["digest"]) for s in d["subjects"]]
    return Statement(subjects, d["predicate_type"], d["predicate"], d["payload"])


@_verifying
def verify_inclusion(bundle: str, log_key: PublicKey, previous: Optional[str] = None) -> InclusionResult:
    """Verifies an inclusion bundle (``telltale log prove`` output) offline.
    ``previous``, a checkpoint note seen earlier, must not be larger or a fork,
    as with ``telltale log verify-proof --previous``."""
    d = _prov.verify_inclusion(bundle, log_key)
    cp = _checkpoint(d)
    if previous is not None:
        prev = _checkpoint(_prov.open_checkpoint(previous, log_key))
        if prev.size > cp.size:
            raise VerificationError(f"checkpoint: the tree shrank from {prev.size} to {cp.size} entries")
        if prev.size == cp.size and prev.root != cp.root:
            raise VerificationError("checkpoint: same size as the previous checkpoint with a different root (fork)")
    return InclusionResult(int(d["index"]), d["entry"], cp)


@_verifying
def verify_consistency(bundle: str, log_key: PublicKey) -> Checkpoint:
    """Verifies a consistency bundle (``telltale log consistency`` output);
    returns the newer checkpoint."""
    return _checkpoint(_prov.verify_consistency(bundle, log_key))


@_verifying
def open_checkpoint(note: str, log_key: PublicKey) -> Checkpoint:
    """Verifies a signed checkpoint note and returns its body."""
    return _checkpoint(_prov.open_checkpoint(note, log_key))


def verify_evidence(
    bundle: str,
    *,
    log_key: Optional[PublicKey] = None,
    signer_key: Optional[PublicKey] = None,
    tsa_ca_pem: Optional[str] = None,
    tool_sha256: Optional[str] = None,
) -> EvidenceReport:
    """Checks every link of an evidence bundle (``telltale evidence build``
    output), as ``telltale evidence verify`` does. Trust anchors passed in pin
    the keys; keys taken from the bundle itself are reported as unpinned.
    Never raises for a bad bundle: it reports every link, so read
    ``all_verified`` and the claims."""
    ok, claims, text = _prov.verify_evidence(bundle, log_key, signer_key, tsa_ca_pem, tool_sha256)
    return EvidenceReport(bool(ok), [Claim(*c) for c in claims], text)
