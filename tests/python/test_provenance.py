"""telltale.provenance: parity with the CLI in both directions.

CLI -> Python: the provenance demo (docs/provenance-demo.sh, which drives the
CLI and an `openssl ts` TSA) writes keys, commitments, envelopes, a log and
an evidence bundle; Python verifies each and rejects tampered copies.
Python -> CLI: Python writes the same artefacts; `telltale verify`, `commit
verify`, `log verify-proof` and `log audit` accept them.
"""

import doctest
import hashlib
import json
import pathlib
import subprocess

import pytest

import telltale
from telltale import _core
from telltale import provenance as prov

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEME = "kgw:gamma=0.25,delta=2,h=1"


def run_cli(cli, *args, cwd=None, ok=True):
    p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if ok and p.returncode != 0:
        raise AssertionError(f"telltale {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


@pytest.fixture(scope="module")
def demo(cli_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("prov") / "demo"
    p = subprocess.run(["bash", str(ROOT / "docs" / "provenance-demo.sh"), cli_path, str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "RESULT: every link verified" in p.stdout
    return out


def canonical(obj):
    """Canonical JSON file text (sorted keys, no spaces, one newline), as the
    provenance files are written, so a tampered copy fails on its content."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def read(path):
    return pathlib.Path(path).read_text()


def test_doctests():
    result = doctest.testmod(prov, optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.attempted > 5 and result.failed == 0
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for cls in [_core.prov.PublicKey, _core.prov.SigningKey, _core.prov.Opening, _core.prov.TransparencyLog]:
        for test in finder.find(cls, cls.__name__, globs={}):
            runner.run(test)
    summary = runner.summarize(verbose=False)
    assert summary.attempted >= 4 and summary.failed == 0


def test_cli_artefacts_verify_in_python(demo, cli_path):
    log_key = prov.PublicKey.load(str(demo / "provider.vkey"))
    signer = prov.SigningKey.load(str(demo / "provider.sk"))
    assert signer.public_key == log_key and log_key.name == "log.telltale.example"

    commitments = prov.verify_statement(read(demo / "commitments.dsse"), log_key)
    assert commitments.predicate_type == prov.KEY_COMMITMENT_PREDICATE
    batch = prov.verify_statement(read(demo / "batch.dsse"), log_key)
    assert batch.predicate_type == prov.GENERATION_BATCH_PREDICATE
    assert batch.predicate["policy"] == {"do_not_train": "true"}

    opening = prov.Opening.load(str(demo / "acme.opening"))
    membership = prov.verify_membership(opening, read(demo / "members" / "acme.eu.json"))
    assert membership.commitment == opening.commitment
    assert opening.params["tenant"] == "acme" and opening.params["scheme"] == str(telltale.Scheme(SCHEME))
    assert opening.export_key() == telltale.Key.load(str(demo / "acme.key"))

    log = prov.TransparencyLog.open(str(demo / "log.db"))
    assert log.size == 2 and log.origin == "log.telltale.example"
    assert log.entry(0).decode() == read(demo / "commitments.dsse")
    log.audit(log_key)
    cp = prov.open_checkpoint(read(demo / "checkpoint.note"), log_key)
    assert cp.size == 2
    bundle = demo / "incl.json"
    run_cli(cli_path, "log", "prove", "--db", demo / "log.db", "--index", 1, "-o", bundle)
    incl = prov.verify_inclusion(read(bundle), log_key, previous=read(demo / "checkpoint.note"))
    assert incl.index == 1 and incl.entry.decode() == read(demo / "batch.dsse") and incl.checkpoint == cp

    # Passing the CLI binary's digest makes Python's report the CLI's, line for line.
    cli_digest = hashlib.sha256(pathlib.Path(cli_path).read_bytes()).hexdigest()
    report = prov.verify_evidence(read(demo / "evidence.json"), log_key=log_key, signer_key=log_key,
                                  tsa_ca_pem=read(demo / "tsa-ca.pem"), tool_sha256=cli_digest)
    assert report.all_verified, report.text
    links = {c.link.split(":")[0] for c in report.claims}
    assert any("timestamp" in c.link for c in report.claims), links
    cli = run_cli(cli_path, "evidence", "verify", demo / "evidence.json", "--log-key",
                  demo / "provider.vkey", "--signer-key", demo / "provider.vkey", "--tsa-ca", demo / "tsa-ca.pem")
    assert report.text.strip() == cli.stdout.strip()


def test_tampering_is_caught_like_the_cli(demo, tmp_path, cli_path):
    log_key = prov.PublicKey.load(str(demo / "provider.vkey"))
    env = json.loads(read(demo / "batch.dsse"))
    env["signatures"][0]["sig"] = ("A" if env["signatures"][0]["sig"][0] != "A" else "B") + env["signatures"][0]["sig"][1:]
    bad = tmp_path / "bad.dsse"
    bad.write_text(canonical(env))
    with pytest.raises(prov.VerificationError, match="signature"):
        prov.verify_statement(bad.read_text(), log_key)
    assert run_cli(cli_path, "verify", bad, "--key", demo / "provider.vkey", ok=False).returncode == 1

    other = prov.SigningKey.generate("log.telltale.example")
    with pytest.raises(prov.VerificationError):
        prov.verify_statement(read(demo / "batch.dsse"), other.public_key)

    ev = json.loads(read(demo / "evidence.json"))
    ev["timestamp"] = ev["timestamp"][:40] + ("A" if ev["timestamp"][40] != "A" else "B") + ev["timestamp"][41:]
    report = prov.verify_evidence(canonical(ev), log_key=log_key, signer_key=log_key,
                                  tsa_ca_pem=read(demo / "tsa-ca.pem"))
    assert not report.all_verified
    assert [c for c in report.claims if c.state == "failed" and c.link.startswith("timestamp")]


def test_python_artefacts_verify_with_cli(tmp_path, cli_path, key):
    sk_path = tmp_path / "provider.sk"
    signer = prov.SigningKey.generate("log.example.org")
    signer.save(str(sk_path))
    vkey = tmp_path / "provider.vkey"
    run_cli(cli_path, "key", "signing-pub", sk_path, "--format", "verifier", "-o", vkey)
    assert read(vkey).strip() == signer.public_key.verifier_key
    pem = tmp_path / "provider.pem"
    pem.write_text(signer.public_key.to_pem())

    # A statement signed in Python verifies with `telltale verify` (PEM key).
    subject = prov.Subject("served.txt", "sha256", "0f" * 32)
    env = tmp_path / "stmt.dsse"
    env.write_text(prov.sign_statement([subject], "https://example.org/custom/v1", {"n": 3, "s": "ü"}, signer))
    out = run_cli(cli_path, "verify", env, "--key", pem).stdout
    assert "verified: https://example.org/custom/v1" in out
    assert signer.public_key.fingerprint in out

    # Commitment opening and membership proof from Python; the CLI checks them.
    tok = "ab" * 32
    openings = [prov.commit(key.derive(tenant=t, region="eu", epoch="2026-11"), SCHEME, tok, tenant=t,
                            region="eu", epoch="2026-11") for t in ("acme", "globex", "initech")]
    proof = tmp_path / "member.json"
    proof.write_text(prov.prove_membership([o.commitment for o in openings], 2))
    opening_path = tmp_path / "initech.opening"
    openings[2].save(str(opening_path))
    out = run_cli(cli_path, "commit", "verify", opening_path, proof).stdout
    assert f"member 2 of 3, set root {prov.commitment_set_root([o.commitment for o in openings])}" in out
    openings[0].save(str(tmp_path / "acme.opening"))
    assert run_cli(cli_path, "commit", "verify", tmp_path / "acme.opening", proof, ok=False).returncode == 1
    exported = run_cli(cli_path, "commit", "export-key", opening_path, "-o", tmp_path / "k.key").stdout.strip()
    assert exported == openings[2].export_key().id == openings[2].key_id()

    # A log written from Python: the CLI audits it and verifies both proofs.
    db = tmp_path / "log.db"
    log = prov.TransparencyLog.create(str(db), "log.example.org")
    for i in range(5):
        assert log.append(f"entry {i}".encode()) == i
    first = log.checkpoint(signer)
    for i in range(5, 9):
        log.append(f"entry {i}")
    log.checkpoint(signer)
    run_cli(cli_path, "log", "audit", "--db", db, "--log-key", vkey)
    incl = tmp_path / "incl.json"
    incl.write_text(log.prove_inclusion(6))
    prev = tmp_path / "first.note"
    prev.write_text(first)
    out = run_cli(cli_path, "log", "verify-proof", incl, "--log-key", vkey, "--previous", prev).stdout
    assert "entry 6 is in the checkpoint of log.example.org at size 9" in out
    cons = tmp_path / "cons.json"
    cons.write_text(log.prove_consistency(5))
    assert "extends" in run_cli(cli_path, "log", "verify-proof", cons, "--log-key", vkey).stdout
    assert prov.verify_consistency(cons.read_text(), signer.public_key).size == 9
    # and a bundle from an older checkpoint fails the --previous rule in both
    old = tmp_path / "old.json"
    old.write_text(log.prove_inclusion(1, 5))
    newer = tmp_path / "new.note"
    newer.write_text(log.latest_checkpoint())
    assert run_cli(cli_path, "log", "verify-proof", old, "--log-key", vkey, "--previous", newer,
                   ok=False).returncode == 1
    with pytest.raises(prov.VerificationError, match="shrank"):
        prov.verify_inclusion(old.read_text(), signer.public_key, previous=newer.read_text())


def test_log_from_cli_appends_in_python(tmp_path, cli_path):
    sk = tmp_path / "l.sk"
    run_cli(cli_path, "key", "signing-gen", "--name", "cli.log", "-o", sk)
    db = tmp_path / "l.db"
    run_cli(cli_path, "log", "init", "--db", db, "--origin", "cli.log")
    (tmp_path / "a.txt").write_text("alpha\n")
    run_cli(cli_path, "log", "append", "--db", db, tmp_path / "a.txt")
    log = prov.TransparencyLog.open(str(db))
    assert log.append(b"beta\n") == 1
    log.checkpoint(prov.SigningKey.load(str(sk)))
    bundle = tmp_path / "b.json"
    run_cli(cli_path, "log", "prove", "--db", db, "--index", 0, "-o", bundle)
    assert prov.verify_inclusion(bundle.read_text(), prov.SigningKey.load(str(sk)).public_key).entry == b"alpha\n"


def test_errors_are_typed(tmp_path):
    with pytest.raises(telltale.NotFoundError):
        prov.SigningKey.load(str(tmp_path / "missing.sk"))
    with pytest.raises(telltale.InvalidArgumentError):
        prov.SigningKey.from_seed("x", b"short")
    with pytest.raises(telltale.InvalidArgumentError):
        prov.commit(telltale.Key.generate(), "kgw", "not-hex", tenant="t", region="r", epoch="e")
    with pytest.raises(prov.VerificationError):
        prov.verify_envelope("{}", prov.SigningKey.generate("a").public_key)
    with pytest.raises(prov.VerificationError):
        prov.verify_inclusion("not json", prov.SigningKey.generate("a").public_key)
    with pytest.raises(telltale.TelltaleError):
        prov.TransparencyLog.create(str(tmp_path), "o")  # a directory exists there
    assert issubclass(prov.VerificationError, ValueError)
