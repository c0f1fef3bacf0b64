#include "crypto/key_file.h"

#include <sodium.h>

#include <cstring>

#include "common/file_io.h"
#include "common/hex.h"
#include "crypto/hkdf.h"
#include "crypto/private_file.h"

namespace telltale {
namespace {

constexpr char kMagic[] = "telltale-key v1";
constexpr size_t kMaxKeyFileBytes = 4096;

// Wipes a std::string's buffer before it is released.
struct WipeOnExit {
  std::string* s;
  ~WipeOnExit() { sodium_memzero(s->data(), s->size()); }
};

void AppendLengthPrefixed(std::string* out, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out->push_back(static_cast<char>(n >> 24));
  out->push_back(static_cast<char>(n >> 16));
  out->push_back(static_cast<char>(n >> 8));
  out->push_back(static_cast<char>(n));
  out->append(s);
}

}  // namespace

Status ValidateKeyLabel(const std::string& value, const char* field) {
  if (value.empty() || value.size() > 128) {
    return Status::InvalidArgument(std::string(field) + " must be 1 to 128 characters, got " +
                                   std::to_string(value.size()));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("._:@/+-", c) != nullptr;
    if (!ok || c == '\0') {
      return Status::InvalidArgument(std::string(field) + " '" + value + "' has a character outside " +
                                     "[A-Za-z0-9._:@/+-] at position " + std::to_string(i));
    }
  }
  return Status::Ok();
}

StatusOr<SecretKey> DeriveTenantKey(const SecretKey& master, const KeyLabels& labels) {
  TT_RETURN_IF_ERROR(ValidateKeyLabel(labels.tenant, "tenant"));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(labels.region, "region"));
  TT_RETURN_IF_ERROR(ValidateKeyLabel(labels.epoch, "epoch"));
  std::string info;
  AppendLengthPrefixed(&info, labels.tenant);
  AppendLengthPrefixed(&info, labels.region);
  AppendLengthPrefixed(&info, labels.epoch);
  uint8_t out[kSecretKeyBytes];
  Status s = HkdfSha256(master.bytes(), AsBytes("telltale/tenant-key/v1"), AsBytes(info), out);
  if (!s.ok()) return s;
  auto key = SecretKey::FromBytes(out);
  sodium_memzero(out, sizeof out);
  return key;
}

StatusOr<KeyFile> ParseKeyFile(std::string_view contents, const std::string& origin) {
  auto err = [&](size_t line, const std::string& why) {
    return Status::InvalidArgument("key file " + origin + ":" + std::to_string(line) + ": " + why);
  };
  std::string kind, parent, key_hex;
  KeyLabels labels;
  WipeOnExit wipe{&key_hex};
  size_t line_no = 0;
  bool saw_magic = false;
  while (!contents.empty()) {
    size_t nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents.remove_prefix(nl == std::string_view::npos ? contents.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (!saw_magic) {
      if (line != kMagic) {
        if (line.starts_with("telltale-key ")) {
          return Status::Unimplemented("key file " + origin + ": unsupported version '" + std::string(line) +
                                       "'; this build reads '" + kMagic + "'");
        }
        return err(line_no, "not a Telltale key file (first line must be '" + std::string(kMagic) + "')");
      }
      saw_magic = true;
      continue;
    }
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return err(line_no, "expected 'name value'");
    std::string_view name = line.substr(0, sp), value = line.substr(sp + 1);
    std::string* slot = nullptr;
    if (name == "kind") slot = &kind;
    else if (name == "parent") slot = &parent;
    else if (name == "tenant") slot = &labels.tenant;
    else if (name == "region") slot = &labels.region;
    else if (name == "epoch") slot = &labels.epoch;
    else if (name == "key") slot = &key_hex;
    else return err(line_no, "unknown field '" + std::string(name) + "'");
    if (!slot->empty()) return err(line_no, "duplicate field '" + std::string(name) + "'");
    slot->assign(value);
  }
  if (!saw_magic) return Status::InvalidArgument("key file " + origin + " is empty");
  KeyFile::Kind file_kind = KeyFile::Kind::kMaster;
  if (kind == "master") {
    if (!parent.empty() || !labels.tenant.empty() || !labels.region.empty() || !labels.epoch.empty()) {
      return Status::InvalidArgument("key file " + origin + ": a master key has no parent/tenant/region/epoch");
    }
  } else if (kind == "derived") {
    file_kind = KeyFile::Kind::kDerived;
    Status s = ValidateKeyLabel(labels.tenant, "tenant");
    if (s.ok()) s = ValidateKeyLabel(labels.region, "region");
    if (s.ok()) s = ValidateKeyLabel(labels.epoch, "epoch");
    if (!s.ok()) return s.WithContext("key file " + origin);
    uint8_t pid[kKeyIdBytes];
    TT_RETURN_IF_ERROR(HexDecode(parent, pid, "key file " + origin + ": field 'parent'"));
  } else if (kind.empty()) {
    return Status::InvalidArgument("key file " + origin + ": missing field 'kind'");
  } else {
    return Status::InvalidArgument("key file " + origin + ": field 'kind' must be master or derived, got '" +
                                   kind + "'");
  }
  if (key_hex.empty()) return Status::InvalidArgument("key file " + origin + ": missing field 'key'");
  uint8_t raw[kSecretKeyBytes];
  Status s = HexDecode(key_hex, raw, "key file " + origin + ": field 'key'");
  StatusOr<SecretKey> key = s.ok() ? SecretKey::FromBytes(raw) : StatusOr<SecretKey>(s);
  sodium_memzero(raw, sizeof raw);
  if (!key.ok()) return key.status();
  if (file_kind == KeyFile::Kind::kMaster) labels = {};
  return KeyFile{file_kind, parent, std::move(labels), std::move(key).value()};
}

StatusOr<KeyFile> LoadKeyFile(const std::string& path) {
  char buf[kMaxKeyFileBytes + 1];
  size_t used = 0;
  const Status read = ReadPrivateFile(path, "key file", buf, sizeof buf, &used);
  StatusOr<KeyFile> parsed = read.ok() ? ParseKeyFile(std::string_view(buf, used), path) : StatusOr<KeyFile>(read);
  sodium_memzero(buf, sizeof buf);
  return parsed;
}

Status SaveKeyFile(const KeyFile& file, const std::string& path) {
  std::string text = std::string(kMagic) + "\n";
  WipeOnExit wipe{&text};
  text.reserve(1024);  // one allocation, so no unwiped copies are left behind
  if (file.kind == KeyFile::Kind::kMaster) {
    text += "kind master\n";
  } else {
    text += "kind derived\nparent " + file.parent_id + "\ntenant " + file.labels.tenant + "\nregion " +
            file.labels.region + "\nepoch " + file.labels.epoch + "\n";
  }
  text += "key ";
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : file.key.bytes()) {
    text.push_back(kDigits[b >> 4]);
    text.push_back(kDigits[b & 15]);
  }
  text += "\n";
  return WriteFileAtomically(path, text, 0600);
}

}  // namespace telltale
