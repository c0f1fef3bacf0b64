// Versioned key files and per-(tenant, region, epoch) key derivation.
//
// File format "telltale-key v1" (docs/SPEC.md, section Key files): UTF-8
// text, one "name value" pair per line, first line the magic. Key files are
// written atomically with mode 0600. LoadKeyFile refuses files that group or
// others can read (PermissionDenied, with the mode and the fix in the
// message) and wipes every buffer that held key material.
//
// Derivation: DeriveTenantKey = HKDF-SHA256(master, salt "telltale/tenant-key/v1",
// info = lp(tenant) || lp(region) || lp(epoch)), lp = 4-byte big-endian length
// then bytes. Labels are restricted to [A-Za-z0-9._:@/+-]{1,128} so they can
// be written in the file and on command lines without quoting ambiguity.
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <string>

#include "common/status.h"
#include "crypto/secret_key.h"

namespace telltale {

struct KeyLabels {
  std::string tenant, region, epoch;
};

struct KeyFile {
  enum class Kind { kMaster, kDerived };
  Kind kind = Kind::kMaster;
  std::string parent_id;  // derived keys: KeyId() of the master
  KeyLabels labels;       // derived keys only
  SecretKey key;
};

// Validates one label; `field` names it in the error ("tenant").
Status ValidateKeyLabel(const std::string& value, const char* field);

StatusOr<SecretKey> DeriveTenantKey(const SecretKey& master, const KeyLabels& labels);

StatusOr<KeyFile> LoadKeyFile(const std::string& path);
// Parses file contents; `origin` names the source in errors.
StatusOr<KeyFile> ParseKeyFile(std::string_view contents, const std::string& origin);
Status SaveKeyFile(const KeyFile& file, const std::string& path);

}  // namespace telltale
