#include "crypto/provenance/json_fields.h"

#include <set>

namespace telltale::provenance {

Status ExpectMembers(const Json& j, std::initializer_list<const char*> names, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + ": expected a JSON object");
  std::set<std::string> want(names.begin(), names.end());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (want.count(it.key()) == 0) return Status::InvalidArgument(where + ": unexpected member '" + it.key() + "'");
  }
  for (const std::string& n : want) {
    if (!j.contains(n)) return Status::InvalidArgument(where + ": missing member '" + n + "'");
  }
  return Status::Ok();
}

StatusOr<std::string> GetString(const Json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j.at(name).is_string()) {
    return Status::InvalidArgument(where + "." + name + ": expected a string");
  }
  return j.at(name).get<std::string>();
}

StatusOr<uint64_t> GetUint(const Json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j.at(name).is_number_unsigned()) {
    // nlohmann stores non-negative integers as unsigned; floats and
    // negatives land here.
    if (j.contains(name) && j.at(name).is_number_integer() && j.at(name).get<int64_t>() >= 0) {
      return static_cast<uint64_t>(j.at(name).get<int64_t>());
    }
    return Status::InvalidArgument(where + "." + name + ": expected a non-negative integer");
  }
  uint64_t v = j.at(name).get<uint64_t>();
  // JCS prints numbers as doubles; keep integers exact under that mapping.
  if (v > (uint64_t{1} << 53)) return Status::InvalidArgument(where + "." + name + ": integer above 2^53");
  return v;
}

StatusOr<bool> GetBool(const Json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j.at(name).is_boolean()) return Status::InvalidArgument(where + "." + name + ": expected true or false");
  return j.at(name).get<bool>();
}

Status CheckLowerHex(const std::string& s, size_t digits, const std::string& where) {
  if (s.size() != digits) {
    return Status::InvalidArgument(where + ": expected " + std::to_string(digits) + " hex digits, got " +
                                   std::to_string(s.size()));
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Status::InvalidArgument(where + ": not lower-case hex");
    }
  }
  return Status::Ok();
}

StatusOr<Hash> GetHash(const Json& j, const char* name, const std::string& where) {
  TT_ASSIGN_OR_RETURN(std::string s, GetString(j, name, where));
  TT_RETURN_IF_ERROR(CheckLowerHex(s, 64, where + "." + name));
  return ParseHashHex(s, where + "." + name);
}

StatusOr<std::vector<Hash>> GetHashList(const Json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j.at(name).is_array()) return Status::InvalidArgument(where + "." + name + ": expected an array");
  std::vector<Hash> out;
  for (const Json& e : j.at(name)) {
    std::string field = where + "." + name + "[" + std::to_string(out.size()) + "]";
    if (!e.is_string()) return Status::InvalidArgument(field + ": expected a hex string");
    TT_RETURN_IF_ERROR(CheckLowerHex(e.get<std::string>(), 64, field));
    TT_ASSIGN_OR_RETURN(Hash h, ParseHashHex(e.get<std::string>(), field));
    out.push_back(h);
  }
  return out;
}

Json HashListToJson(const std::vector<Hash>& hashes) {
  Json a = Json::array();
  for (const Hash& h : hashes) a.push_back(HashHex(h));
  return a;
}

}  // namespace telltale::provenance
