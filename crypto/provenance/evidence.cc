#include "crypto/provenance/evidence.h"

#include <sodium.h>

#include "common/base64.h"
#include "crypto/provenance/dsse.h"
#include "crypto/provenance/json_fields.h"
#include "crypto/provenance/log_proof.h"
#include "crypto/provenance/predicates.h"
#include "crypto/provenance/statement.h"
#include "crypto/provenance/timestamp.h"

namespace telltale::provenance {
namespace {

constexpr char kEvidenceType[] = "telltale-evidence/v1";

// A DSSE envelope signed by `key`, holding an in-toto statement.
StatusOr<Statement> OpenStatementEnvelope(std::string_view envelope_text, const PublicKey& key) {
  TT_ASSIGN_OR_RETURN(DsseEnvelope env, ParseEnvelope(envelope_text));
  if (env.payload_type != kInTotoPayloadType) {
    return Status::InvalidArgument("envelope: payloadType '" + env.payload_type + "' is not " + kInTotoPayloadType);
  }
  TT_RETURN_IF_ERROR(VerifyEnvelope(env, key));
  return ParseStatement(env.payload);
}

class ClaimList {
 public:
  void Ok(const std::string& link, const std::string& text) { add(link, Claim::State::kVerified, text); }
  void Fail(const std::string& link, const std::string& text) { add(link, Claim::State::kFailed, text); }
  void Info(const std::string& link, const std::string& text) { add(link, Claim::State::kInfo, text); }
  // Records `s` as verified (with `text`) or failed (with its message).
  bool Check(const std::string& link, const Status& s, const std::string& text) {
    if (s.ok()) Ok(link, text);
    else Fail(link, s.message());
    return s.ok();
  }
  EvidenceReport Take() { return std::move(report_); }

 private:
  void add(const std::string& link, Claim::State st, const std::string& text) { report_.claims.push_back({link, st, text}); }
  EvidenceReport report_;
};

std::string Short(const Hash& h) { return HashHex(h).substr(0, 16); }

}  // namespace

bool EvidenceReport::AllVerified() const {
  for (const Claim& c : claims) {
    if (c.state == Claim::State::kFailed) return false;
  }
  return !claims.empty();
}

std::string EvidenceReport::ToText() const {
  std::string out;
  for (const Claim& c : claims) {
    const char* mark = c.state == Claim::State::kVerified ? "[verified]" : c.state == Claim::State::kFailed ? "[FAILED]  " : "[info]    ";
    out += std::string(mark) + " " + c.link + ": " + c.text + "\n";
  }
  out += AllVerified() ? "RESULT: every link verified\n" : "RESULT: verification FAILED\n";
  return out;
}

StatusOr<Json> ReportLine(const std::string& report_text, uint64_t line) {
  size_t start = 0;
  for (uint64_t i = 0; i < line; ++i) {
    size_t nl = report_text.find('\n', start);
    if (nl == std::string::npos) return Status::OutOfRange("detection report: has no line " + std::to_string(line));
    start = nl + 1;
  }
  size_t end = report_text.find('\n', start);
  std::string_view text = std::string_view(report_text).substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (text.empty()) return Status::OutOfRange("detection report: line " + std::to_string(line) + " is empty");
  return ParseJsonStrict(text, "detection report line " + std::to_string(line));
}

StatusOr<std::string> SignDetectionReport(const std::string& report_text, uint64_t line, const SigningKey& key,
                                          const std::string& tool_version, const Hash& tool_sha256) {
  TT_ASSIGN_OR_RETURN(Json j, ReportLine(report_text, line));
  TT_ASSIGN_OR_RETURN(DetectionReportPredicate p, DetectionReportPredicate::FromDetectJson(j));
  p.report_line = line;
  p.tool_version = tool_version;
  p.tool_sha256 = tool_sha256;
  p.report_sha256 = Sha256Of(report_text);
  TT_ASSIGN_OR_RETURN(std::string payload, SerializeStatement(p.ToStatement()));
  return SignEnvelope(kInTotoPayloadType, payload, key).Serialize();
}

StatusOr<std::string> BuildEvidence(const EvidenceInputs& in) {
  if (in.opening == nullptr || in.log == nullptr || in.signer == nullptr) {
    return Status::InvalidArgument("evidence: opening, log and signer are required");
  }
  TT_ASSIGN_OR_RETURN(Checkpoint ts_cp, OpenSignedCheckpoint(in.timestamped_checkpoint, in.log_key));
  TT_ASSIGN_OR_RETURN(InclusionBundle commitment, ProveInclusion(*in.log, in.commitment_entry, ts_cp.size));
  if (commitment.checkpoint != in.timestamped_checkpoint) {
    return Status::FailedPrecondition("evidence: the log's checkpoint of size " + std::to_string(ts_cp.size) +
                                      " differs from the time-stamped checkpoint file");
  }
  TT_ASSIGN_OR_RETURN(ConsistencyBundle consistency, ProveConsistency(*in.log, ts_cp.size, 0));
  Json batch = nullptr;
  if (in.batch_entry.has_value()) {
    TT_ASSIGN_OR_RETURN(InclusionBundle b, ProveInclusion(*in.log, *in.batch_entry, 0));
    batch = b.ToJson();
  }
  TT_ASSIGN_OR_RETURN(std::string report_env, SignDetectionReport(in.report_text, in.report_line, *in.signer,
                                                                  in.tool_version, in.tool_sha256));
  TT_ASSIGN_OR_RETURN(Json opening, OpeningToJson(*in.opening));
  Json bundle = {{"type", kEvidenceType},
                 {"keys",
                  {{"log", in.log_key.VerifierKey()},
                   {"signer", in.signer->public_key().VerifierKey()},
                   {"tsa_ca", in.tsa_ca_pem}}},
                 {"opening", opening},
                 {"membership", MembershipToJson(in.membership)},
                 {"commitment", commitment.ToJson()},
                 {"timestamp", Base64Encode(in.timestamp_der)},
                 {"consistency", consistency.ToJson()},
                 {"batch", batch},
                 {"report", {{"text", in.report_text}, {"envelope", report_env}}}};
  return ToCanonicalFile(bundle);
}

EvidenceReport VerifyEvidence(std::string_view bundle_text, const TrustAnchors& trust) {
  ClaimList claims;
  StatusOr<Json> parsed = ParseCanonicalFile(bundle_text, "evidence bundle");
  Status shape = parsed.ok() ? ExpectMembers(*parsed, {"type", "keys", "opening", "membership", "commitment", "timestamp",
                                                       "consistency", "batch", "report"}, "evidence bundle")
                             : parsed.status();
  if (shape.ok()) {
    StatusOr<std::string> type = GetString(*parsed, "type", "evidence bundle");
    if (!type.ok()) shape = type.status();
    else if (*type != kEvidenceType) shape = Status::Unimplemented("evidence bundle: type '" + *type + "' is not " + kEvidenceType);
  }
  if (shape.ok()) shape = ExpectMembers((*parsed)["keys"], {"log", "signer", "tsa_ca"}, "evidence bundle.keys");
  if (!claims.Check("bundle", shape, "well-formed telltale-evidence/v1 bundle")) return claims.Take();
  const Json& b = *parsed;

  // Trust anchors: pinned by the caller, or (reported as such) the bundle's.
  auto anchor = [&](const char* link, const char* field, const std::optional<PublicKey>& pinned) -> std::optional<PublicKey> {
    StatusOr<std::string> text = GetString(b["keys"], field, "evidence bundle.keys");
    StatusOr<PublicKey> embedded = text.ok() ? ParseVerifierKey(*text) : StatusOr<PublicKey>(text.status());
    if (!embedded.ok()) {
      claims.Fail(link, embedded.status().message());
      return std::nullopt;
    }
    if (pinned.has_value()) {
      if (!(*pinned == *embedded) || (!pinned->name.empty() && pinned->name != embedded->name)) {
        claims.Fail(link, "bundle key " + embedded->VerifierKey() + " is not the pinned key " + pinned->VerifierKey());
        return std::nullopt;
      }
      claims.Ok(link, "pinned key " + embedded->VerifierKey());
    } else {
      claims.Info(link, "UNPINNED key taken from the bundle: " + embedded->VerifierKey() + " (" +
                            embedded->Fingerprint() + "); compare it with the published key");
    }
    return *embedded;
  };
  std::optional<PublicKey> log_key = anchor("log key", "log", trust.log_key);
  std::optional<PublicKey> signer = anchor("signer key", "signer", trust.signer_key);
  std::string tsa_ca;
  {
    StatusOr<std::string> embedded = GetString(b["keys"], "tsa_ca", "evidence bundle.keys");
    if (!embedded.ok()) {
      claims.Fail("TSA CA", embedded.status().message());
    } else if (trust.tsa_ca_pem.has_value()) {
      if (*trust.tsa_ca_pem != *embedded) claims.Fail("TSA CA", "bundle TSA CA differs from the pinned CA certificate");
      else claims.Ok("TSA CA", "pinned CA certificate (sha256 " + Short(Sha256Of(*embedded)) + "...)");
      tsa_ca = *trust.tsa_ca_pem;
    } else {
      claims.Info("TSA CA", "UNPINNED CA certificate taken from the bundle (sha256 " + Short(Sha256Of(*embedded)) + "...)");
      tsa_ca = *embedded;
    }
  }

  // 1. The opening recomputes the commitment.
  StatusOr<CommitmentOpening> opening = OpeningFromJson(b["opening"]);
  std::optional<Hash> commitment;
  if (!opening.ok()) {
    claims.Fail("opening", opening.status().message());
  } else {
    commitment = ComputeCommitment(*opening);
    claims.Info("opening", "tenant " + opening->params.tenant + ", region " + opening->params.region + ", epoch " +
                               opening->params.epoch + ", scheme " + opening->params.scheme + ", key id " +
                               opening->key.KeyId());
  }

  // 2. The commitment is a member of its epoch's commitment set.
  StatusOr<CommitmentMembership> membership = MembershipFromJson(b["membership"]);
  if (!membership.ok()) {
    claims.Fail("membership", membership.status().message());
  } else if (commitment.has_value() && membership->commitment != *commitment) {
    claims.Fail("opening", "recomputed commitment " + HashHex(*commitment) + " differs from the committed " +
                               HashHex(membership->commitment));
  } else {
    if (commitment.has_value()) {
      claims.Ok("opening", "key, salt and parameters recompute commitment " + HashHex(*commitment));
    }
    claims.Check("membership", VerifyMembership(*membership),
                 "commitment is member " + std::to_string(membership->index) + " of a set of " +
                     std::to_string(membership->size) + " with root " + Short(membership->root) + "...");
  }

  // 3-4. The key-commitment statement is signed and logged in the
  // time-stamped checkpoint.
  StatusOr<InclusionBundle> cinc = InclusionBundle::FromJson(b["commitment"]);
  std::optional<Checkpoint> ts_cp;
  if (!cinc.ok()) {
    claims.Fail("commitment statement", cinc.status().message());
  } else {
    if (signer.has_value()) {
      StatusOr<Statement> st = OpenStatementEnvelope(cinc->entry, *signer);
      StatusOr<KeyCommitmentPredicate> kc =
          st.ok() ? KeyCommitmentPredicate::FromStatement(*st) : StatusOr<KeyCommitmentPredicate>(st.status());
      if (!kc.ok()) {
        claims.Fail("commitment statement", kc.status().message());
      } else if (membership.ok() && (kc->set_root != membership->root || kc->set_size != membership->size)) {
        claims.Fail("commitment statement", "signed set root/size differ from the membership proof's");
      } else if (opening.ok() && kc->epoch != opening->params.epoch) {
        claims.Fail("commitment statement", "signed epoch '" + kc->epoch + "' differs from the opening's");
      } else {
        claims.Ok("commitment statement", "key-commitment statement for epoch " + kc->epoch + " (set root " +
                                              Short(kc->set_root) + "...) signed by " + signer->name);
      }
    }
    if (log_key.has_value()) {
      StatusOr<Checkpoint> cp = VerifyInclusionBundle(*cinc, *log_key);
      if (claims.Check("log inclusion", cp.status(),
                       cp.ok() ? "statement is entry " + std::to_string(cinc->index) + " of log " + cp->origin +
                                     " in the signed checkpoint of size " + std::to_string(cp->size)
                               : "")) {
        ts_cp = *cp;
      }
    }
  }

  // 5. The TSA time-stamped that checkpoint.
  StatusOr<std::string> tsr64 = GetString(b, "timestamp", "evidence bundle");
  StatusOr<std::string> tsr = tsr64.ok() ? Base64Decode(*tsr64, "evidence bundle.timestamp") : StatusOr<std::string>(tsr64.status());
  std::string ts_time;
  if (!tsr.ok()) {
    claims.Fail("timestamp", tsr.status().message());
  } else if (cinc.ok()) {
    StatusOr<TimestampInfo> info = VerifyTimestamp(*tsr, AsByteSpan(cinc->checkpoint), tsa_ca);
    if (claims.Check("timestamp", info.status(),
                     info.ok() ? "RFC 3161 token from " + info->tsa_subject + " covers that checkpoint at " +
                                     info->gen_time + " (serial " + info->serial + ")"
                               : "")) {
      ts_time = info->gen_time;
    }
  }

  // 6. The log stayed append-only from that checkpoint to the latest.
  StatusOr<ConsistencyBundle> cons = ConsistencyBundle::FromJson(b["consistency"]);
  std::optional<Checkpoint> latest;
  if (!cons.ok()) {
    claims.Fail("consistency", cons.status().message());
  } else if (log_key.has_value()) {
    if (cinc.ok() && cons->old_checkpoint != cinc->checkpoint) {
      claims.Fail("consistency", "old checkpoint is not the time-stamped checkpoint");
    } else {
      StatusOr<Checkpoint> cp = VerifyConsistencyBundle(*cons, *log_key);
      if (claims.Check("consistency", cp.status(),
                       cp.ok() ? "the time-stamped checkpoint is a prefix of the checkpoint of size " +
                                     std::to_string(cp->size)
                               : "")) {
        latest = *cp;
      }
    }
  }

  // 7. Optional generation batch, logged in the latest checkpoint.
  if (!b["batch"].is_null()) {
    StatusOr<InclusionBundle> binc = InclusionBundle::FromJson(b["batch"]);
    if (!binc.ok()) {
      claims.Fail("generation batch", binc.status().message());
    } else {
      if (log_key.has_value()) {
        StatusOr<Checkpoint> cp = VerifyInclusionBundle(*binc, *log_key);
        if (cp.ok() && cons.ok() && binc->checkpoint != cons->new_checkpoint) {
          claims.Fail("batch log inclusion", "batch proof does not use the latest checkpoint of the bundle");
        } else {
          claims.Check("batch log inclusion", cp.status(),
                       cp.ok() ? "batch statement is entry " + std::to_string(binc->index) + " of the checkpoint of size " +
                                     std::to_string(cp->size)
                               : "");
        }
      }
      if (signer.has_value()) {
        StatusOr<Statement> st = OpenStatementEnvelope(binc->entry, *signer);
        StatusOr<GenerationBatchPredicate> gb =
            st.ok() ? GenerationBatchPredicate::FromStatement(*st) : StatusOr<GenerationBatchPredicate>(st.status());
        if (!gb.ok()) {
          claims.Fail("generation batch", gb.status().message());
        } else if (commitment.has_value() && gb->key_commitment != *commitment) {
          claims.Fail("generation batch", "batch names key commitment " + Short(gb->key_commitment) +
                                              "..., not the opened one");
        } else if (opening.ok() && (gb->scheme != opening->params.scheme || gb->tenant != opening->params.tenant ||
                                    gb->region != opening->params.region ||
                                    gb->tokenizer_digest != opening->params.tokenizer_digest)) {
          claims.Fail("generation batch", "scheme, tenant, region or tokenizer differ from the committed parameters");
        } else {
          std::string policy;
          for (const auto& [k, v] : gb->policy) policy += (policy.empty() ? "" : ", ") + k + "=" + v;
          claims.Ok("generation batch", std::to_string(gb->responses) + " responses of model " + gb->model +
                                            " served to " + gb->tenant + " in " + gb->region + " from " +
                                            gb->window_start + " to " + gb->window_end + " under the committed key" +
                                            (policy.empty() ? "" : " (policy: " + policy + ")"));
        }
      }
    }
  } else {
    claims.Info("generation batch", "none in this bundle");
  }

  // 8-9. The detection report: signed, matching its file, made with the
  // opened key and the committed scheme.
  Status rshape = ExpectMembers(b["report"], {"text", "envelope"}, "evidence bundle.report");
  if (!rshape.ok()) {
    claims.Fail("detection report", rshape.message());
  } else if (signer.has_value()) {
    StatusOr<std::string> text = GetString(b["report"], "text", "evidence bundle.report");
    StatusOr<std::string> env = GetString(b["report"], "envelope", "evidence bundle.report");
    StatusOr<Statement> st = env.ok() ? OpenStatementEnvelope(*env, *signer) : StatusOr<Statement>(env.status());
    StatusOr<DetectionReportPredicate> dr =
        st.ok() ? DetectionReportPredicate::FromStatement(*st) : StatusOr<DetectionReportPredicate>(st.status());
    if (!text.ok() || !dr.ok()) {
      claims.Fail("detection report", !text.ok() ? text.status().message() : dr.status().message());
    } else if (Sha256Of(*text) != dr->report_sha256) {
      claims.Fail("detection report", "report file digest differs from the signed statement's subject");
    } else {
      StatusOr<Json> line = ReportLine(*text, dr->report_line);
      StatusOr<DetectionReportPredicate> again =
          line.ok() ? DetectionReportPredicate::FromDetectJson(*line) : StatusOr<DetectionReportPredicate>(line.status());
      if (!again.ok()) {
        claims.Fail("detection report", again.status().message());
      } else if (again->scheme != dr->scheme || again->key_id != dr->key_id || again->p_value != dr->p_value ||
                 again->log10_p != dr->log10_p || again->tokens != dr->tokens || again->scored != dr->scored ||
                 again->detected != dr->detected || again->score != dr->score || again->alpha != dr->alpha ||
                 again->dedup != dr->dedup || again->z != dr->z) {
        claims.Fail("detection report", "signed statement does not match report line " + std::to_string(dr->report_line));
      } else {
        claims.Ok("detection report", "signed by " + signer->name + ": " + std::to_string(dr->scored) + " of " +
                                          std::to_string(dr->tokens) + " tokens scored, p = " + dr->p_value +
                                          ", log10 p = " + dr->log10_p + ", detected = " +
                                          (dr->detected ? "true" : "false") + " at alpha " + dr->alpha);
        if (opening.ok()) {
          if (dr->key_id != opening->key.KeyId()) {
            claims.Fail("report key", "report key id " + dr->key_id + " is not the opened key's id " + opening->key.KeyId());
          } else if (dr->scheme != opening->params.scheme) {
            claims.Fail("report key", "report scheme " + dr->scheme + " is not the committed scheme " + opening->params.scheme);
          } else {
            claims.Ok("report key", "the report used the opened key (id " + dr->key_id + ") and the committed scheme");
          }
        }
        std::string tool = "report made by telltale " + dr->tool_version + " (sha256 " + HashHex(dr->tool_sha256) + ")";
        if (trust.tool_sha256.has_value()) {
          tool += *trust.tool_sha256 == dr->tool_sha256 ? "; this verifier is the same binary"
                                                        : "; this verifier is a different binary (sha256 " +
                                                              HashHex(*trust.tool_sha256) + ")";
        }
        claims.Info("tool", tool);
      }
    }
  }

  EvidenceReport report = claims.Take();
  if (report.AllVerified() && !ts_time.empty() && opening.ok()) {
    report.claims.push_back({"conclusion", Claim::State::kInfo,
                             "the key with id " + opening->key.KeyId() + " was committed for tenant " +
                                 opening->params.tenant + " before " + ts_time});
  }
  return report;
}

}  // namespace telltale::provenance
