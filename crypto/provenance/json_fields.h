// Strict readers for the JSON documents of docs/spec/provenance.md: each
// object must have exactly the expected members, with the expected types,
// and hex/base64 fields must be canonical. Errors name the field path.
// Thread-safety: reentrant.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/provenance/jcs.h"
#include "crypto/provenance/sha256.h"

namespace telltale::provenance {

// OK when `j` is an object whose member names are exactly `names`.
Status ExpectMembers(const Json& j, std::initializer_list<const char*> names, const std::string& where);

StatusOr<std::string> GetString(const Json& j, const char* name, const std::string& where);
StatusOr<uint64_t> GetUint(const Json& j, const char* name, const std::string& where);
StatusOr<bool> GetBool(const Json& j, const char* name, const std::string& where);
// 64 lower-case hex digits.
StatusOr<Hash> GetHash(const Json& j, const char* name, const std::string& where);
StatusOr<std::vector<Hash>> GetHashList(const Json& j, const char* name, const std::string& where);
Json HashListToJson(const std::vector<Hash>& hashes);

// Lower-case hex check for fixed-length fields.
Status CheckLowerHex(const std::string& s, size_t digits, const std::string& where);

}  // namespace telltale::provenance
