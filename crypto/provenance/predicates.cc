#include "crypto/provenance/predicates.h"

#include <cmath>

#include "crypto/key_file.h"
#include "crypto/provenance/json_fields.h"
#include "watermark/scheme_spec.h"

namespace telltale::provenance {
namespace {

Status CheckPredicateType(const Statement& s, const char* want) {
  if (s.predicate_type != want) {
    return Status::InvalidArgument("statement.predicateType: '" + s.predicate_type + "', expected " + want);
  }
  return Status::Ok();
}

Status CheckCanonicalScheme(const std::string& scheme, const std::string& where) {
  StatusOr<SchemeSpec> spec = SchemeSpec::Parse(scheme);
  if (!spec.ok()) return spec.status().WithContext(where);
  if (spec->ToString() != scheme) return Status::InvalidArgument(where + ": '" + scheme + "' is not canonical");
  return Status::Ok();
}

Status CheckSingleSubject(const Statement& s, const std::string& name, const char* alg, const Hash& digest) {
  if (s.subjects.size() != 1) return Status::InvalidArgument("statement.subject: expected exactly one subject");
  const Subject& sub = s.subjects[0];
  if (sub.name != name || sub.algorithm != alg || sub.digest != HashHex(digest)) {
    return Status::InvalidArgument("statement.subject: does not match the predicate (" + name + ", " + alg + ")");
  }
  return Status::Ok();
}

// A JSON value from a detect report as a decimal string.
StatusOr<std::string> DecimalOf(const Json& r, const char* name) {
  std::string where = "detection report." + std::string(name);
  if (!r.contains(name)) return Status::InvalidArgument(where + ": missing");
  const Json& v = r.at(name);
  if (v.is_string()) {
    TT_RETURN_IF_ERROR(CheckDecimalString(v.get<std::string>(), where));
    return v.get<std::string>();
  }
  if (!v.is_number()) return Status::InvalidArgument(where + ": expected a number or decimal string");
  double d = v.get<double>();
  if (!std::isfinite(d)) return Status::InvalidArgument(where + ": not finite");
  return FormatEs6Number(d);
}

}  // namespace

Status CheckDecimalString(const std::string& s, const std::string& where) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  bool ok = digits();
  if (ok && i < s.size() && s[i] == '.') {
    ++i;
    ok = digits();
  }
  if (ok && i < s.size() && s[i] == 'e') {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    ok = digits();
  }
  if (!ok || i != s.size()) return Status::InvalidArgument(where + ": '" + s + "' is not a decimal string");
  return Status::Ok();
}

Status CheckUtcTime(const std::string& s, const std::string& where) {
  // YYYY-MM-DDTHH:MM:SSZ
  static constexpr char kShape[] = "dddd-dd-ddTdd:dd:ddZ";
  bool ok = s.size() == sizeof kShape - 1;
  for (size_t i = 0; ok && i < s.size(); ++i) {
    ok = kShape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == kShape[i];
  }
  if (!ok) return Status::InvalidArgument(where + ": '" + s + "' is not an RFC 3339 UTC time YYYY-MM-DDTHH:MM:SSZ");
  return Status::Ok();
}

Statement KeyCommitmentPredicate::ToStatement() const {
  Statement s;
  s.subjects.push_back({"key-commitments/" + epoch, "rfc6962-sha256", HashHex(set_root)});
  s.predicate_type = kKeyCommitmentPredicate;
  s.predicate = {{"commitment_scheme", "telltale/key-commitment/v1"},
                 {"epoch", epoch},
                 {"set_size", set_size},
                 {"set_root", HashHex(set_root)}};
  return s;
}

StatusOr<KeyCommitmentPredicate> KeyCommitmentPredicate::FromStatement(const Statement& s) {
  TT_RETURN_IF_ERROR(CheckPredicateType(s, kKeyCommitmentPredicate));
  const std::string w = "predicate";
  const Json& p = s.predicate;
  TT_RETURN_IF_ERROR(ExpectMembers(p, {"commitment_scheme", "epoch", "set_size", "set_root"}, w));
  TT_ASSIGN_OR_RETURN(std::string cs, GetString(p, "commitment_scheme", w));
  if (cs != "telltale/key-commitment/v1") return Status::Unimplemented(w + ".commitment_scheme: unknown '" + cs + "'");
  KeyCommitmentPredicate out;
  TT_ASSIGN_OR_RETURN(out.epoch, GetString(p, "epoch", w));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(out.epoch, "predicate.epoch"));
  TT_ASSIGN_OR_RETURN(out.set_size, GetUint(p, "set_size", w));
  if (out.set_size == 0) return Status::InvalidArgument(w + ".set_size: must be positive");
  TT_ASSIGN_OR_RETURN(out.set_root, GetHash(p, "set_root", w));
  TT_RETURN_IF_ERROR(CheckSingleSubject(s, "key-commitments/" + out.epoch, "rfc6962-sha256", out.set_root));
  return out;
}

Statement GenerationBatchPredicate::ToStatement() const {
  Statement s;
  s.subjects.push_back({"responses", "rfc6962-sha256", HashHex(response_root)});
  s.predicate_type = kGenerationBatchPredicate;
  Json pol = Json::object();
  for (const auto& [k, v] : policy) pol[k] = v;
  s.predicate = {{"model", model},
                 {"tokenizer_digest", tokenizer_digest},
                 {"scheme", scheme},
                 {"tenant", tenant},
                 {"region", region},
                 {"window", {{"start", window_start}, {"end", window_end}}},
                 {"responses", responses},
                 {"response_root", HashHex(response_root)},
                 {"key_commitment", HashHex(key_commitment)},
                 {"policy", pol}};
  return s;
}

StatusOr<GenerationBatchPredicate> GenerationBatchPredicate::FromStatement(const Statement& s) {
  TT_RETURN_IF_ERROR(CheckPredicateType(s, kGenerationBatchPredicate));
  const std::string w = "predicate";
  const Json& p = s.predicate;
  TT_RETURN_IF_ERROR(ExpectMembers(p, {"model", "tokenizer_digest", "scheme", "tenant", "region", "window", "responses",
                                       "response_root", "key_commitment", "policy"}, w));
  GenerationBatchPredicate out;
  TT_ASSIGN_OR_RETURN(out.model, GetString(p, "model", w));
  if (out.model.empty()) return Status::InvalidArgument(w + ".model: empty");
  TT_ASSIGN_OR_RETURN(out.tokenizer_digest, GetString(p, "tokenizer_digest", w));
  TT_RETURN_IF_ERROR(CheckLowerHex(out.tokenizer_digest, 64, w + ".tokenizer_digest"));
  TT_ASSIGN_OR_RETURN(out.scheme, GetString(p, "scheme", w));
  TT_RETURN_IF_ERROR(CheckCanonicalScheme(out.scheme, w + ".scheme"));
  TT_ASSIGN_OR_RETURN(out.tenant, GetString(p, "tenant", w));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(out.tenant, "predicate.tenant"));
  TT_ASSIGN_OR_RETURN(out.region, GetString(p, "region", w));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(out.region, "predicate.region"));
  TT_RETURN_IF_ERROR(ExpectMembers(p["window"], {"start", "end"}, w + ".window"));
  TT_ASSIGN_OR_RETURN(out.window_start, GetString(p["window"], "start", w + ".window"));
  TT_ASSIGN_OR_RETURN(out.window_end, GetString(p["window"], "end", w + ".window"));
  TT_RETURN_IF_ERROR(CheckUtcTime(out.window_start, w + ".window.start"));
  TT_RETURN_IF_ERROR(CheckUtcTime(out.window_end, w + ".window.end"));
  if (out.window_end < out.window_start) return Status::InvalidArgument(w + ".window: end is before start");
  TT_ASSIGN_OR_RETURN(out.responses, GetUint(p, "responses", w));
  if (out.responses == 0) return Status::InvalidArgument(w + ".responses: must be positive");
  TT_ASSIGN_OR_RETURN(out.response_root, GetHash(p, "response_root", w));
  TT_ASSIGN_OR_RETURN(out.key_commitment, GetHash(p, "key_commitment", w));
  if (!p["policy"].is_object()) return Status::InvalidArgument(w + ".policy: expected an object");
  for (auto it = p["policy"].begin(); it != p["policy"].end(); ++it) {
    if (!it.value().is_string()) return Status::InvalidArgument(w + ".policy." + it.key() + ": expected a string");
    out.policy[it.key()] = it.value().get<std::string>();
  }
  TT_RETURN_IF_ERROR(CheckSingleSubject(s, "responses", "rfc6962-sha256", out.response_root));
  return out;
}

Statement DetectionReportPredicate::ToStatement() const {
  Statement s;
  s.subjects.push_back({"detection-report", "sha256", HashHex(report_sha256)});
  s.predicate_type = kDetectionReportPredicate;
  s.predicate = {{"report_line", report_line},
                 {"scheme", scheme},
                 {"key_id", key_id},
                 {"parameters", {{"alpha", alpha}, {"dedup", dedup}}},
                 {"tool", {{"name", "telltale"}, {"version", tool_version}, {"sha256", HashHex(tool_sha256)}}},
                 {"counts", {{"tokens", tokens}, {"scored", scored}}},
                 {"score", score},
                 {"z", z},
                 {"p_value", p_value},
                 {"log10_p", log10_p},
                 {"detected", detected}};
  return s;
}

StatusOr<DetectionReportPredicate> DetectionReportPredicate::FromStatement(const Statement& s) {
  TT_RETURN_IF_ERROR(CheckPredicateType(s, kDetectionReportPredicate));
  const std::string w = "predicate";
  const Json& p = s.predicate;
  TT_RETURN_IF_ERROR(ExpectMembers(p, {"report_line", "scheme", "key_id", "parameters", "tool", "counts", "score", "z",
                                       "p_value", "log10_p", "detected"}, w));
  DetectionReportPredicate out;
  TT_ASSIGN_OR_RETURN(out.report_line, GetUint(p, "report_line", w));
  TT_ASSIGN_OR_RETURN(out.scheme, GetString(p, "scheme", w));
  TT_RETURN_IF_ERROR(CheckCanonicalScheme(out.scheme, w + ".scheme"));
  TT_ASSIGN_OR_RETURN(out.key_id, GetString(p, "key_id", w));
  TT_RETURN_IF_ERROR(CheckLowerHex(out.key_id, 32, w + ".key_id"));
  TT_RETURN_IF_ERROR(ExpectMembers(p["parameters"], {"alpha", "dedup"}, w + ".parameters"));
  TT_ASSIGN_OR_RETURN(out.alpha, GetString(p["parameters"], "alpha", w + ".parameters"));
  TT_RETURN_IF_ERROR(CheckDecimalString(out.alpha, w + ".parameters.alpha"));
  TT_ASSIGN_OR_RETURN(out.dedup, GetString(p["parameters"], "dedup", w + ".parameters"));
  TT_RETURN_IF_ERROR(ExpectMembers(p["tool"], {"name", "version", "sha256"}, w + ".tool"));
  TT_ASSIGN_OR_RETURN(std::string name, GetString(p["tool"], "name", w + ".tool"));
  if (name != "telltale") return Status::InvalidArgument(w + ".tool.name: expected telltale");
  TT_ASSIGN_OR_RETURN(out.tool_version, GetString(p["tool"], "version", w + ".tool"));
  TT_ASSIGN_OR_RETURN(out.tool_sha256, GetHash(p["tool"], "sha256", w + ".tool"));
  TT_RETURN_IF_ERROR(ExpectMembers(p["counts"], {"tokens", "scored"}, w + ".counts"));
  TT_ASSIGN_OR_RETURN(out.tokens, GetUint(p["counts"], "tokens", w + ".counts"));
  TT_ASSIGN_OR_RETURN(out.scored, GetUint(p["counts"], "scored", w + ".counts"));
  for (auto [field, slot] : {std::pair{"score", &out.score}, std::pair{"z", &out.z}, std::pair{"p_value", &out.p_value},
                             std::pair{"log10_p", &out.log10_p}}) {
    TT_ASSIGN_OR_RETURN(*slot, GetString(p, field, w));
    TT_RETURN_IF_ERROR(CheckDecimalString(*slot, w + "." + field));
  }
  TT_ASSIGN_OR_RETURN(out.detected, GetBool(p, "detected", w));
  if (s.subjects.size() != 1 || s.subjects[0].name != "detection-report" || s.subjects[0].algorithm != "sha256") {
    return Status::InvalidArgument("statement.subject: expected one sha256 subject named detection-report");
  }
  TT_ASSIGN_OR_RETURN(out.report_sha256, ParseHashHex(s.subjects[0].digest, "statement.subject.digest"));
  return out;
}

StatusOr<DetectionReportPredicate> DetectionReportPredicate::FromDetectJson(const Json& r) {
  const std::string w = "detection report";
  if (!r.is_object()) return Status::InvalidArgument(w + ": expected a JSON object per line");
  DetectionReportPredicate out;
  TT_ASSIGN_OR_RETURN(out.scheme, GetString(r, "scheme", w));
  TT_RETURN_IF_ERROR(CheckCanonicalScheme(out.scheme, w + ".scheme"));
  TT_ASSIGN_OR_RETURN(out.key_id, GetString(r, "key_id", w));
  TT_RETURN_IF_ERROR(CheckLowerHex(out.key_id, 32, w + ".key_id"));
  TT_ASSIGN_OR_RETURN(out.dedup, GetString(r, "dedup", w));
  TT_ASSIGN_OR_RETURN(out.alpha, DecimalOf(r, "alpha"));
  TT_ASSIGN_OR_RETURN(out.tokens, GetUint(r, "tokens", w));
  TT_ASSIGN_OR_RETURN(out.scored, GetUint(r, "scored", w));
  if (out.scored > out.tokens) return Status::InvalidArgument(w + ": scored exceeds tokens");
  TT_ASSIGN_OR_RETURN(out.score, DecimalOf(r, "score"));
  TT_ASSIGN_OR_RETURN(out.z, DecimalOf(r, "z"));
  TT_ASSIGN_OR_RETURN(out.p_value, DecimalOf(r, "p_value"));
  TT_ASSIGN_OR_RETURN(out.log10_p, DecimalOf(r, "log10_p"));
  TT_ASSIGN_OR_RETURN(out.detected, GetBool(r, "detected", w));
  return out;
}

}  // namespace telltale::provenance
