// TenantPolicy: which tenants may opt a request out of watermarking.
//
// File format "telltale-llama-policy v1" (docs/llama.md, Policy file): UTF-8
// text, first line the magic, then one rule per line; '#' starts a comment
// line and blank lines are ignored.
//
//   telltale-llama-policy v1
//   default opt_out=deny
//   tenant acme opt_out=allow
//   anonymous requests=deny
//
// Tenant names follow ValidateKeyLabel. A tenant without a rule gets the
// default; with no default line, or with no policy file at all, nobody may
// opt out (watermarking is the safe default). Duplicate rules are errors.
// `anonymous requests=allow` matters only with an API-key map: it lets
// requests that present NO API key through, unwatermarked and without a
// tenant (default deny: HTTP 401). A wrong key is refused either way.
// Thread-safety: a value type; const methods may run concurrently.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace telltale {

class TenantPolicy {
 public:
  TenantPolicy() = default;
  static StatusOr<TenantPolicy> Load(const std::string& path);
  // `origin` names the source in errors.
  static StatusOr<TenantPolicy> Parse(std::string_view text, const std::string& origin);

  bool MayOptOut(const std::string& tenant) const;
  bool AllowsAnonymous() const { return allow_anonymous_; }

 private:
  bool default_opt_out_ = false;
  bool allow_anonymous_ = false;
  std::map<std::string, bool> opt_out_;
};

}  // namespace telltale
