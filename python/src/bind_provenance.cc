// Provenance bindings (crypto/provenance): signing keys, key commitments
// and membership proofs, DSSE envelopes over in-toto statements, the
// transparency log with signed checkpoints and proofs, and evidence bundle
// verification. The pure-Python module telltale.provenance wraps these with
// typed helpers; everything here produces and reads exactly the bytes the
// `telltale` CLI does (the tests cross-check both ways).
//
// Ownership: SigningKey and commitment openings keep secrets in libsodium
// guarded memory; Python only ever sees public values unless it asks for the
// opened key explicitly (Opening.export_key).
// Thread-safety: a TransparencyLog object wraps one SQLite connection; use
// it from one thread at a time. Everything else is immutable or stateless.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "crypto/provenance/commitment.h"
#include "crypto/provenance/dsse.h"
#include "crypto/provenance/evidence.h"
#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/predicates.h"
#include "crypto/provenance/public_key.h"
#include "crypto/provenance/sha256.h"
#include "crypto/provenance/signing_key.h"
#include "crypto/provenance/statement.h"
#include "crypto/provenance/transparency_log.h"
#include "errors.h"

namespace telltale::python {
namespace {

namespace py = pybind11;
namespace pv = telltale::provenance;

std::string Bytes(py::handle b, const char* what) {
  if (PyBytes_Check(b.ptr())) return std::string(py::bytes(py::reinterpret_borrow<py::bytes>(b)));
  if (PyByteArray_Check(b.ptr())) {
    return std::string(PyByteArray_AS_STRING(b.ptr()), static_cast<size_t>(PyByteArray_GET_SIZE(b.ptr())));
  }
  if (PyUnicode_Check(b.ptr())) return b.cast<std::string>();  // UTF-8
  ThrowInvalid(std::string(what) + ": expected bytes or str, got " +
               std::string(py::str(b.get_type().attr("__name__"))));
}

pv::Hash HashArg(const std::string& hex, const char* what) { return ValueOrThrow(pv::ParseHashHex(hex, what)); }

py::object JsonToPython(const pv::Json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

pv::Json JsonFromPython(py::handle obj, const char* what) {
  const std::string text = py::str(py::module_::import("json").attr("dumps")(obj, py::arg("ensure_ascii") = false));
  return ValueOrThrow(pv::ParseJsonStrict(text, what));
}

py::dict CheckpointDict(const pv::Checkpoint& c) {
  py::dict d;
  d["origin"] = c.origin;
  d["size"] = c.size;
  d["root"] = pv::HashHex(c.root);
  d["extensions"] = c.extensions;
  return d;
}

py::dict StatementDict(const pv::Statement& s) {
  py::list subjects;
  for (const pv::Subject& x : s.subjects) {
    py::dict d;
    d["name"] = x.name;
    d["algorithm"] = x.algorithm;
    d["digest"] = x.digest;
    subjects.append(d);
  }
  py::dict d;
  d["subjects"] = subjects;
  d["predicate_type"] = s.predicate_type;
  d["predicate"] = JsonToPython(s.predicate);
  return d;
}

// The checks `telltale verify` makes on a verified envelope's statement:
// in-toto payload type, a well-formed statement and, for telltale's own
// predicate types, a strictly valid predicate.
pv::Statement CheckStatement(const pv::DsseEnvelope& env) {
  if (env.payload_type != pv::kInTotoPayloadType) ThrowInvalid("envelope: payloadType is not in-toto");
  pv::Statement st = ValueOrThrow(pv::ParseStatement(env.payload));
  Status pred = Status::Ok();
  if (st.predicate_type == pv::kKeyCommitmentPredicate) {
    pred = pv::KeyCommitmentPredicate::FromStatement(st).status();
  } else if (st.predicate_type == pv::kGenerationBatchPredicate) {
    pred = pv::GenerationBatchPredicate::FromStatement(st).status();
  } else if (st.predicate_type == pv::kDetectionReportPredicate) {
    pred = pv::DetectionReportPredicate::FromStatement(st).status();
  }
  ThrowIfError(pred);
  return st;
}

pv::PublicKey PublicKeyArg(py::handle h) { return h.cast<const pv::PublicKey&>(); }

void RegisterKeysAndSignatures(py::module_& m) {
  py::class_<pv::PublicKey>(m, "PublicKey", R"doc(
An Ed25519 verification key with its signer name (for signed notes).

>>> from telltale import _core
>>> sk = _core.prov.SigningKey.from_seed("log.example", bytes(32))
>>> pk = sk.public_key
>>> pk == _core.prov.PublicKey.from_verifier(pk.verifier_key)
True
>>> pk.fingerprint.startswith("ed25519:")
True
)doc")
      .def_static(
          "load", [](const std::string& path, const std::string& name) { return ValueOrThrow(pv::LoadPublicKeyFile(path, name)); },
          py::arg("path"), py::arg("name") = "", "Reads a PEM public key or a verifier-key file.")
      .def_static(
          "from_verifier", [](const std::string& text) { return ValueOrThrow(pv::ParseVerifierKey(text)); },
          py::arg("text"), "Parses a C2SP verifier key (name+hex8+base64).")
      .def_static(
          "from_pem", [](const std::string& pem, const std::string& name) { return ValueOrThrow(pv::PublicKeyFromPem(pem, name)); },
          py::arg("pem"), py::arg("name") = "")
      .def_readonly("name", &pv::PublicKey::name)
      .def_property_readonly("raw", [](const pv::PublicKey& k) { return py::bytes(pv::AsChars(k.bytes)); })
      .def_property_readonly("verifier_key", [](const pv::PublicKey& k) {
        if (k.name.empty()) ThrowInvalid("a verifier key needs a signer name; this key has none");
        return k.VerifierKey();
      })
      .def_property_readonly("fingerprint", &pv::PublicKey::Fingerprint)
      .def("to_pem", [](const pv::PublicKey& k) { return ValueOrThrow(k.ToPem()); })
      .def(
          "verify",
          [](const pv::PublicKey& k, py::handle message, py::handle signature) {
            const std::string msg = Bytes(message, "message"), sig = Bytes(signature, "signature");
            return pv::VerifyEd25519(k, pv::AsByteSpan(msg), pv::AsByteSpan(sig));
          },
          py::arg("message"), py::arg("signature"), "True when `signature` is this key's Ed25519 signature of `message`.")
      .def("__eq__", [](const pv::PublicKey& a, const pv::PublicKey& b) { return a == b; })
      .def("__hash__", [](const pv::PublicKey& k) { return py::hash(py::bytes(pv::AsChars(k.bytes))); })
      .def("__repr__", [](const pv::PublicKey& k) { return "<telltale PublicKey " + k.name + " " + k.Fingerprint() + ">"; });

  py::class_<pv::SigningKey>(m, "SigningKey", R"doc(
An Ed25519 signing key (secret in guarded memory) with its signer name.

>>> from telltale import _core
>>> sk = _core.prov.SigningKey.from_seed("log.example", bytes(range(32)))
>>> sig = sk.sign(b"hello")
>>> sk.public_key.verify(b"hello", sig), sk.public_key.verify(b"hellO", sig)
(True, False)
)doc")
      .def_static(
          "generate", [](const std::string& name) { return ValueOrThrow(pv::SigningKey::Generate(name)); },
          py::arg("name"))
      .def_static(
          "from_seed",
          [](const std::string& name, py::handle seed) {
            const std::string s = Bytes(seed, "seed");
            return ValueOrThrow(pv::SigningKey::FromSeed(name, pv::AsByteSpan(s)));
          },
          py::arg("name"), py::arg("seed"), "Deterministic key from a 32-byte seed.")
      .def_static(
          "load", [](const std::string& path) { return ValueOrThrow(pv::LoadSigningKeyFile(path)); }, py::arg("path"),
          "Reads a key written by `telltale key signing-gen` or save().")
      .def(
          "save", [](const pv::SigningKey& k, const std::string& path) { ThrowIfError(k.Save(path)); }, py::arg("path"),
          "Writes the key file (mode 0600, atomically).")
      .def_property_readonly("name", &pv::SigningKey::name)
      .def_property_readonly("public_key", [](const pv::SigningKey& k) { return k.public_key(); })
      .def(
          "sign",
          [](const pv::SigningKey& k, py::handle message) {
            const std::string msg = Bytes(message, "message");
            const auto sig = k.Sign(pv::AsByteSpan(msg));
            return py::bytes(pv::AsChars(sig));
          },
          py::arg("message"), "Detached Ed25519 signature (64 bytes).")
      .def("__repr__", [](const pv::SigningKey& k) {
        return "<telltale SigningKey " + k.name() + " " + k.public_key().Fingerprint() + ">";
      });
}

void RegisterDsse(py::module_& m) {
  m.attr("IN_TOTO_PAYLOAD_TYPE") = pv::kInTotoPayloadType;
  m.attr("KEY_COMMITMENT_PREDICATE") = pv::kKeyCommitmentPredicate;
  m.attr("GENERATION_BATCH_PREDICATE") = pv::kGenerationBatchPredicate;
  m.attr("DETECTION_REPORT_PREDICATE") = pv::kDetectionReportPredicate;
  m.def(
      "dsse_sign",
      [](const std::string& payload_type, py::handle payload, const pv::SigningKey& key) {
        const std::string body = Bytes(payload, "payload");
        return ValueOrThrow(pv::SignEnvelope(payload_type, body, key).Serialize());
      },
      py::arg("payload_type"), py::arg("payload"), py::arg("key"),
      "Signs `payload` as a DSSE envelope; returns the envelope file text (canonical JSON + newline).");
  m.def(
      "dsse_verify",
      [](const std::string& envelope, py::handle key) {
        const pv::DsseEnvelope env = ValueOrThrow(pv::ParseEnvelope(envelope));
        ThrowIfError(pv::VerifyEnvelope(env, PublicKeyArg(key)));
        return py::make_tuple(env.payload_type, py::bytes(env.payload));
      },
      py::arg("envelope"), py::arg("key"), "Verifies a DSSE envelope's signature; returns (payload_type, payload).");
  m.def(
      "statement_sign",
      [](const std::vector<std::tuple<std::string, std::string, std::string>>& subjects, const std::string& predicate_type,
         py::handle predicate, const pv::SigningKey& key) {
        pv::Statement st;
        for (const auto& [name, algorithm, digest] : subjects) st.subjects.push_back({name, algorithm, digest});
        st.predicate_type = predicate_type;
        st.predicate = JsonFromPython(predicate, "predicate");
        const std::string payload = ValueOrThrow(pv::SerializeStatement(st));
        return ValueOrThrow(pv::SignEnvelope(pv::kInTotoPayloadType, payload, key).Serialize());
      },
      py::arg("subjects"), py::arg("predicate_type"), py::arg("predicate"), py::arg("key"),
      "Signs an in-toto v1 statement; subjects are (name, algorithm, hex digest). Returns the envelope text.");
  m.def(
      "statement_verify",
      [](const std::string& envelope, py::handle key) {
        const pv::DsseEnvelope env = ValueOrThrow(pv::ParseEnvelope(envelope));
        ThrowIfError(pv::VerifyEnvelope(env, PublicKeyArg(key)));
        py::dict d = StatementDict(CheckStatement(env));
        d["payload"] = py::bytes(env.payload);
        return d;
      },
      py::arg("envelope"), py::arg("key"),
      "What `telltale verify` checks: signature, in-toto statement, telltale predicates. Returns the statement.");
  m.def(
      "sign_detection_report",
      [](const std::string& report_text, uint64_t line, const pv::SigningKey& key, const std::string& tool_version,
         const std::string& tool_sha256) {
        return ValueOrThrow(
            pv::SignDetectionReport(report_text, line, key, tool_version, HashArg(tool_sha256, "tool_sha256")));
      },
      py::arg("report_text"), py::arg("line"), py::arg("key"), py::arg("tool_version"), py::arg("tool_sha256"));
}

// A commitment opening: the committed key and parameters (secret).
struct PyOpening {
  pv::CommitmentOpening opening;
};

void RegisterCommitments(py::module_& m) {
  py::class_<PyOpening, std::shared_ptr<PyOpening>>(m, "Opening", R"doc(
A salted commitment to a watermark key, scheme and tokenizer (the opening
is secret: it holds the key).

>>> import telltale
>>> from telltale import _core
>>> key = telltale.Key.from_bytes(bytes(range(32)))
>>> o = _core.prov.Opening.create(key, "kgw:gamma=0.25,delta=2", "ab" * 32, "acme", "eu", "2026-11")
>>> len(o.commitment), o.params["tenant"]
(64, 'acme')
)doc")
      .def_static(
          "create",
          [](const PyKey& key, py::handle scheme, const std::string& tokenizer_digest, const std::string& tenant,
             const std::string& region, const std::string& epoch) {
            pv::CommitmentParams p{ToScheme(scheme).ToString(), tokenizer_digest, tenant, region, epoch};
            auto copy = ValueOrThrow(SecretKey::FromBytes(key.file.key.bytes()));
            return std::make_shared<PyOpening>(PyOpening{ValueOrThrow(pv::CreateOpening(p, std::move(copy)))});
          },
          py::arg("key"), py::arg("scheme"), py::arg("tokenizer_digest"), py::arg("tenant"), py::arg("region"),
          py::arg("epoch"))
      .def_static(
          "load", [](const std::string& path) { return std::make_shared<PyOpening>(PyOpening{ValueOrThrow(pv::LoadOpeningFile(path))}); },
          py::arg("path"))
      .def(
          "save", [](const PyOpening& o, const std::string& path) { ThrowIfError(pv::SaveOpeningFile(o.opening, path)); },
          py::arg("path"), "Writes the opening file (mode 0600, atomically), as `telltale commit create` does.")
      .def_property_readonly("commitment", [](const PyOpening& o) { return pv::HashHex(pv::ComputeCommitment(o.opening)); })
      .def_property_readonly("params",
                             [](const PyOpening& o) {
                               const pv::CommitmentParams& p = o.opening.params;
                               py::dict d;
                               d["scheme"] = p.scheme;
                               d["tokenizer_digest"] = p.tokenizer_digest;
                               d["tenant"] = p.tenant;
                               d["region"] = p.region;
                               d["epoch"] = p.epoch;
                               return d;
                             })
      .def("key_id", [](const PyOpening& o) { return o.opening.key.KeyId(); })
      .def(
          "export_key",
          [](const PyOpening& o) {
            auto copy = ValueOrThrow(SecretKey::FromBytes(o.opening.key.bytes()));
            return std::make_shared<PyKey>(PyKey{KeyFile{KeyFile::Kind::kMaster, {}, {}, std::move(copy)}});
          },
          "The committed key, to re-run detection (as `telltale commit export-key`).");

  m.def(
      "commitment_set_root",
      [](const std::vector<std::string>& commitments) {
        std::vector<pv::Hash> hs;
        for (const auto& c : commitments) hs.push_back(HashArg(c, "commitment"));
        return pv::HashHex(pv::CommitmentSetRoot(hs));
      },
      py::arg("commitments"));
  m.def(
      "prove_membership",
      [](const std::vector<std::string>& commitments, uint64_t index) {
        std::vector<pv::Hash> hs;
        for (const auto& c : commitments) hs.push_back(HashArg(c, "commitment"));
        const pv::CommitmentMembership mm = ValueOrThrow(pv::ProveMembership(hs, index));
        return ValueOrThrow(pv::ToCanonicalFile(pv::MembershipToJson(mm)));
      },
      py::arg("commitments"), py::arg("index"), "A membership proof file's text, as `telltale commit publish` writes.");
  m.def(
      "verify_membership",
      [](const PyOpening& o, const std::string& membership_text) {
        const pv::Hash c = pv::ComputeCommitment(o.opening);
        const pv::Json j = ValueOrThrow(pv::ParseCanonicalFile(membership_text, "membership file"));
        const pv::CommitmentMembership mm = ValueOrThrow(pv::MembershipFromJson(j));
        if (mm.commitment != c) {
          ThrowInvalid("opening: recomputed commitment " + pv::HashHex(c) + " is not " + pv::HashHex(mm.commitment));
        }
        ThrowIfError(pv::VerifyMembership(mm));
        py::dict d;
        d["commitment"] = pv::HashHex(c);
        d["index"] = mm.index;
        d["size"] = mm.size;
        d["root"] = pv::HashHex(mm.root);
        return d;
      },
      py::arg("opening"), py::arg("membership_text"), "What `telltale commit verify` checks; returns the membership facts.");
}

void RegisterLog(py::module_& m) {
  py::class_<pv::TransparencyLog>(m, "TransparencyLog", R"doc(
An append-only RFC 6962 log in SQLite with signed-note checkpoints; the same
file format as `telltale log`.

>>> import os, tempfile
>>> from telltale import _core
>>> d = tempfile.mkdtemp()
>>> log = _core.prov.TransparencyLog.create(os.path.join(d, "log.db"), "log.example")
>>> log.append(b"first"), log.append(b"second"), log.size
(0, 1, 2)
>>> sk = _core.prov.SigningKey.from_seed("log.example", bytes(32))
>>> note = log.checkpoint(sk)
>>> _core.prov.verify_inclusion(log.prove_inclusion(1), sk.public_key)["size"]
2
)doc")
      .def_static(
          "create",
          [](const std::string& path, const std::string& origin) { return ValueOrThrow(pv::TransparencyLog::Create(path, origin)); },
          py::arg("path"), py::arg("origin"))
      .def_static(
          "open", [](const std::string& path) { return ValueOrThrow(pv::TransparencyLog::Open(path)); }, py::arg("path"))
      .def_property_readonly("origin", &pv::TransparencyLog::origin)
      .def_property_readonly("size", [](pv::TransparencyLog& l) { return ValueOrThrow(l.Size()); })
      .def(
          "append",
          [](pv::TransparencyLog& l, py::handle data) {
            const std::string d = Bytes(data, "entry");
            py::gil_scoped_release nogil;  // fsync
            return ValueOrThrow(l.Append(d));
          },
          py::arg("data"), "Durably appends one entry; returns its index.")
      .def(
          "entry", [](pv::TransparencyLog& l, uint64_t index) { return py::bytes(ValueOrThrow(l.Entry(index))); },
          py::arg("index"))
      .def(
          "checkpoint", [](pv::TransparencyLog& l, const pv::SigningKey& key) { return ValueOrThrow(l.SignCheckpoint(key)).note; },
          py::arg("key"), "Signs and stores a checkpoint of the current tree; returns the signed note.")
      .def("latest_checkpoint", [](pv::TransparencyLog& l) { return ValueOrThrow(l.LatestCheckpoint()).note; })
      .def(
          "prove_inclusion",
          [](pv::TransparencyLog& l, uint64_t index, std::optional<uint64_t> size) {
            const uint64_t n = size ? *size : ValueOrThrow(l.LatestCheckpoint()).size;
            return ValueOrThrow(pv::ToCanonicalFile(ValueOrThrow(pv::ProveInclusion(l, index, n)).ToJson()));
          },
          py::arg("index"), py::arg("size") = py::none(),
          "Inclusion bundle text (as `telltale log prove`) against the checkpoint at `size` (default: latest).")
      .def(
          "prove_consistency",
          [](pv::TransparencyLog& l, uint64_t old_size, std::optional<uint64_t> new_size) {
            const uint64_t n = new_size ? *new_size : ValueOrThrow(l.LatestCheckpoint()).size;
            return ValueOrThrow(pv::ToCanonicalFile(ValueOrThrow(pv::ProveConsistency(l, old_size, n)).ToJson()));
          },
          py::arg("old_size"), py::arg("new_size") = py::none(), "Consistency bundle text (as `telltale log consistency`).")
      .def(
          "audit", [](pv::TransparencyLog& l, py::handle key) { ThrowIfError(l.Audit(PublicKeyArg(key))); }, py::arg("key"),
          "Full audit (as `telltale log audit`); raises on the first problem.");

  m.def(
      "verify_inclusion",
      [](const std::string& bundle, py::handle key) {
        const pv::Json j = ValueOrThrow(pv::ParseCanonicalFile(bundle, "proof bundle"));
        const pv::InclusionBundle b = ValueOrThrow(pv::InclusionBundle::FromJson(j));
        py::dict d = CheckpointDict(ValueOrThrow(pv::VerifyInclusionBundle(b, PublicKeyArg(key))));
        d["index"] = b.index;
        d["entry"] = py::bytes(b.entry);
        return d;
      },
      py::arg("bundle"), py::arg("key"), "Verifies an inclusion bundle offline; returns the checkpoint, index and entry.");
  m.def(
      "verify_consistency",
      [](const std::string& bundle, py::handle key) {
        const pv::Json j = ValueOrThrow(pv::ParseCanonicalFile(bundle, "proof bundle"));
        const pv::ConsistencyBundle b = ValueOrThrow(pv::ConsistencyBundle::FromJson(j));
        return CheckpointDict(ValueOrThrow(pv::VerifyConsistencyBundle(b, PublicKeyArg(key))));
      },
      py::arg("bundle"), py::arg("key"), "Verifies a consistency bundle offline; returns the newer checkpoint.");
  m.def(
      "open_checkpoint",
      [](const std::string& note, py::handle key) { return CheckpointDict(ValueOrThrow(pv::OpenSignedCheckpoint(note, PublicKeyArg(key)))); },
      py::arg("note"), py::arg("key"), "Verifies a signed checkpoint note; returns its body.");
}

void RegisterEvidence(py::module_& m) {
  m.def(
      "verify_evidence",
      [](const std::string& bundle, std::optional<pv::PublicKey> log_key, std::optional<pv::PublicKey> signer_key,
         std::optional<std::string> tsa_ca_pem, std::optional<std::string> tool_sha256) {
        pv::TrustAnchors trust;
        trust.log_key = std::move(log_key);
        trust.signer_key = std::move(signer_key);
        trust.tsa_ca_pem = std::move(tsa_ca_pem);
        if (tool_sha256) trust.tool_sha256 = HashArg(*tool_sha256, "tool_sha256");
        pv::EvidenceReport report;
        {
          py::gil_scoped_release nogil;
          report = pv::VerifyEvidence(bundle, trust);
        }
        py::list claims;
        for (const pv::Claim& c : report.claims) {
          const char* state = c.state == pv::Claim::State::kVerified ? "verified"
                              : c.state == pv::Claim::State::kFailed ? "failed"
                                                                      : "info";
          claims.append(py::make_tuple(c.link, state, c.text));
        }
        return py::make_tuple(report.AllVerified(), claims, report.ToText());
      },
      py::arg("bundle"), py::arg("log_key") = py::none(), py::arg("signer_key") = py::none(),
      py::arg("tsa_ca_pem") = py::none(), py::arg("tool_sha256") = py::none(),
      "Checks every link of an evidence bundle; returns (all_verified, [(link, state, text)], report text).");
}

}  // namespace

void RegisterProvenance(py::module_& m) {
  py::module_ prov = m.def_submodule("prov", "Provenance: commitments, DSSE, transparency log, evidence (native).");
  RegisterKeysAndSignatures(prov);
  RegisterDsse(prov);
  RegisterCommitments(prov);
  RegisterLog(prov);
  RegisterEvidence(prov);
}

}  // namespace telltale::python
