#include "crypto/provenance/statement.h"

#include "crypto/provenance/json_fields.h"

namespace telltale::provenance {

StatusOr<std::string> SerializeStatement(const Statement& s) {
  Json subjects = Json::array();
  for (const Subject& sub : s.subjects) {
    subjects.push_back({{"name", sub.name}, {"digest", {{sub.algorithm, sub.digest}}}});
  }
  Json j = {{"_type", kStatementType}, {"subject", subjects}, {"predicateType", s.predicate_type},
            {"predicate", s.predicate}};
  return CanonicalJson(j);
}

StatusOr<Statement> ParseStatement(std::string_view payload) {
  const std::string w = "statement";
  TT_ASSIGN_OR_RETURN(Json j, ParseJsonStrict(payload, w));
  TT_ASSIGN_OR_RETURN(std::string canon, CanonicalJson(j));
  if (canon != payload) return Status::InvalidArgument(w + ": payload is not in RFC 8785 canonical form");
  TT_RETURN_IF_ERROR(ExpectMembers(j, {"_type", "subject", "predicateType", "predicate"}, w));
  TT_ASSIGN_OR_RETURN(std::string type, GetString(j, "_type", w));
  if (type != kStatementType) return Status::Unimplemented(w + "._type: '" + type + "' is not " + kStatementType);
  Statement s;
  TT_ASSIGN_OR_RETURN(s.predicate_type, GetString(j, "predicateType", w));
  if (!j["predicate"].is_object()) return Status::InvalidArgument(w + ".predicate: expected an object");
  s.predicate = j["predicate"];
  if (!j["subject"].is_array() || j["subject"].empty()) {
    return Status::InvalidArgument(w + ".subject: expected a non-empty array");
  }
  for (const Json& e : j["subject"]) {
    std::string where = w + ".subject[" + std::to_string(s.subjects.size()) + "]";
    TT_RETURN_IF_ERROR(ExpectMembers(e, {"name", "digest"}, where));
    Subject sub;
    TT_ASSIGN_OR_RETURN(sub.name, GetString(e, "name", where));
    const Json& d = e["digest"];
    if (!d.is_object() || d.size() != 1 || !d.begin().value().is_string()) {
      return Status::InvalidArgument(where + ".digest: expected exactly one algorithm and hex string");
    }
    sub.algorithm = d.begin().key();
    sub.digest = d.begin().value().get<std::string>();
    if (sub.algorithm != "sha256" && sub.algorithm != "rfc6962-sha256") {
      return Status::InvalidArgument(where + ".digest: unknown algorithm '" + sub.algorithm + "'");
    }
    TT_RETURN_IF_ERROR(CheckLowerHex(sub.digest, 64, where + ".digest"));
    s.subjects.push_back(std::move(sub));
  }
  return s;
}

}  // namespace telltale::provenance
