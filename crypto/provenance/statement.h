// in-toto Statement v1 payloads (https://in-toto.io/Statement/v1).
//
//   {"_type": "https://in-toto.io/Statement/v1",
//    "subject": [{"name": ..., "digest": {"<alg>": "<lower hex>"}}, ...],
//    "predicateType": "<URI>", "predicate": {...}}
//
// The payload bytes are the RFC 8785 canonical form; ParseStatement accepts
// only that form (so a statement's content id, the SHA-256 of its payload,
// is unique) and checks the envelope of the statement, not the predicate
// (see predicates.h). Each subject carries exactly one digest.
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/jcs.h"

namespace telltale::provenance {

inline constexpr char kStatementType[] = "https://in-toto.io/Statement/v1";

struct Subject {
  std::string name;
  std::string algorithm;  // "sha256" for file bytes, "rfc6962-sha256" for Merkle roots
  std::string digest;     // lower-case hex
};

struct Statement {
  std::vector<Subject> subjects;
  std::string predicate_type;
  Json predicate;
};

StatusOr<std::string> SerializeStatement(const Statement& s);
// Errors start with "statement".
StatusOr<Statement> ParseStatement(std::string_view payload);

}  // namespace telltale::provenance
