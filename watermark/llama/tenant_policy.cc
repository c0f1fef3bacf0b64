#include "watermark/llama/tenant_policy.h"

#include <vector>

#include "common/file_io.h"
#include "crypto/key_file.h"
#include "watermark/llama/config_words.h"

namespace telltale {
namespace {

constexpr std::string_view kMagic = "telltale-llama-policy v1";

StatusOr<bool> ParseOptOut(std::string_view word, const std::string& where) {
  if (word == "opt_out=allow") return true;
  if (word == "opt_out=deny") return false;
  return Status::InvalidArgument(where + ": expected opt_out=allow or opt_out=deny, got '" + std::string(word) + "'");
}

}  // namespace

StatusOr<TenantPolicy> TenantPolicy::Load(const std::string& path) {
  TT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, size_t{16} << 20));
  return Parse(text, path);
}

StatusOr<TenantPolicy> TenantPolicy::Parse(std::string_view text, const std::string& origin) {
  TenantPolicy policy;
  bool seen_magic = false, seen_default = false, seen_anonymous = false;
  size_t line_no = 0;
  for (std::string_view line : SplitConfigLines(text)) {
    ++line_no;
    const std::string where = origin + ":" + std::to_string(line_no);
    if (!seen_magic) {
      if (line != kMagic) {
        return Status::InvalidArgument(where + ": not a policy file (first line must be '" + std::string(kMagic) + "')");
      }
      seen_magic = true;
      continue;
    }
    std::vector<std::string_view> words = SplitConfigWords(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (words[0] == "default") {
      if (words.size() != 2) return Status::InvalidArgument(where + ": expected 'default opt_out=allow|deny'");
      if (seen_default) return Status::InvalidArgument(where + ": second 'default' rule");
      TT_ASSIGN_OR_RETURN(policy.default_opt_out_, ParseOptOut(words[1], where));
      seen_default = true;
    } else if (words[0] == "tenant") {
      if (words.size() != 3) return Status::InvalidArgument(where + ": expected 'tenant NAME opt_out=allow|deny'");
      std::string tenant(words[1]);
      Status valid = ValidateKeyLabel(tenant, "tenant");
      if (!valid.ok()) return Status::InvalidArgument(where + ": " + valid.message());
      TT_ASSIGN_OR_RETURN(bool allow, ParseOptOut(words[2], where));
      if (!policy.opt_out_.emplace(tenant, allow).second) {
        return Status::InvalidArgument(where + ": second rule for tenant '" + tenant + "'");
      }
    } else if (words[0] == "anonymous") {
      if (words.size() != 2 || (words[1] != "requests=allow" && words[1] != "requests=deny")) {
        return Status::InvalidArgument(where + ": expected 'anonymous requests=allow|deny'");
      }
      if (seen_anonymous) return Status::InvalidArgument(where + ": second 'anonymous' rule");
      policy.allow_anonymous_ = words[1] == "requests=allow";
      seen_anonymous = true;
    } else {
      return Status::InvalidArgument(where + ": unknown rule '" + std::string(words[0]) +
                                     "' (expected 'default', 'tenant' or 'anonymous')");
    }
  }
  if (!seen_magic) return Status::InvalidArgument(origin + ": empty policy file");
  return policy;
}

bool TenantPolicy::MayOptOut(const std::string& tenant) const {
  auto it = opt_out_.find(tenant);
  return it == opt_out_.end() ? default_opt_out_ : it->second;
}

}  // namespace telltale
