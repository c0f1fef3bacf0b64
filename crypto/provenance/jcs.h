// RFC 8785 JSON Canonicalization Scheme (JCS) over nlohmann::json values,
// and a strict JSON parser for the documents Telltale signs and verifies.
//
// Canonical form: object members sorted by the UTF-16 code units of their
// names, no whitespace, strings escaped only where JSON requires it (control
// characters as \b \t \n \f \r or lower-case \u00xx, plus \" and \\), and
// every number printed as ECMAScript's Number.prototype.toString prints the
// IEEE-754 double it denotes (integers parsed as int64/uint64 are converted
// to double first, exactly as a JavaScript parser would).
//
// ParseJsonStrict rejects duplicate object member names (I-JSON, required
// by RFC 8785), invalid UTF-8 and trailing data; errors carry the byte
// offset and name the document (`what`).
// Thread-safety: reentrant.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale::provenance {

using Json = nlohmann::json;

StatusOr<Json> ParseJsonStrict(std::string_view text, std::string_view what);

// Fails (InvalidArgument) only on NaN or infinite numbers.
StatusOr<std::string> CanonicalJson(const Json& value);

// ECMAScript Number::toString for a finite double ("-0" prints as "0").
std::string FormatEs6Number(double x);

}  // namespace telltale::provenance
