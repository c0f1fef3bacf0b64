#include "watermark/llama/llama_gateway.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <span>

#include "common/hex.h"
#include "crypto/key_file.h"
#include "crypto/provenance/sha256.h"
#include "watermark/llama/watermark_sampler.h"

namespace telltale {
namespace {

// Tenants, key ids and canonical specs are printable ASCII without quotes or
// backslashes (ValidateKeyLabel, hex, SchemeSpec::ToString), so they are
// written verbatim; this escape only guards against future changes.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

StatusOr<std::unique_ptr<LlamaGateway>> LlamaGateway::Create(const std::string& scheme, const std::string& keys_dir,
                                                             const std::string& policy_path,
                                                             const std::string& record_path,
                                                             const std::string& api_keys_path) {
  TT_ASSIGN_OR_RETURN(SchemeSpec spec, SchemeSpec::Parse(scheme));
  if (keys_dir.empty()) return Status::InvalidArgument("keys directory is empty");
  if (::access(keys_dir.c_str(), R_OK | X_OK) != 0) {
    return Status::NotFound("keys directory " + keys_dir + ": " + std::strerror(errno));
  }
  TenantPolicy policy;
  if (!policy_path.empty()) {
    TT_ASSIGN_OR_RETURN(policy, TenantPolicy::Load(policy_path));
  }
  std::optional<ApiKeyMap> api_keys;
  if (!api_keys_path.empty()) {
    TT_ASSIGN_OR_RETURN(api_keys, ApiKeyMap::Load(api_keys_path));
  }
  int fd = -1;
  if (!record_path.empty()) {
    fd = ::open(record_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status::PermissionDenied("record file " + record_path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<LlamaGateway>(
      new LlamaGateway(spec, keys_dir, std::move(policy), fd, std::move(api_keys)));
}

LlamaGateway::LlamaGateway(SchemeSpec spec, std::string keys_dir, TenantPolicy policy, int record_fd,
                           std::optional<ApiKeyMap> api_keys)
    : spec_(spec),
      keys_dir_(std::move(keys_dir)),
      policy_(std::move(policy)),
      record_fd_(record_fd),
      api_keys_(std::move(api_keys)) {}

LlamaGateway::~LlamaGateway() {
  if (record_fd_ >= 0) ::close(record_fd_);
}

StatusOr<LlamaGateway::TenantKey> LlamaGateway::KeyFor(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(keys_mu_);
  auto it = keys_.find(tenant);
  if (it != keys_.end()) return it->second;
  const std::string path = keys_dir_ + "/" + tenant + ".key";
  if (::access(path.c_str(), F_OK) != 0) return Status::NotFound("unknown tenant '" + tenant + "' (no " + path + ")");
  TT_ASSIGN_OR_RETURN(KeyFile file, LoadKeyFile(path));
  TT_ASSIGN_OR_RETURN(Watermarker wm, Watermarker::Create(file.key, spec_));
  TenantKey entry{std::make_shared<const Watermarker>(std::move(wm)), file.key.KeyId()};
  keys_.emplace(tenant, entry);
  return entry;
}

StatusOr<std::optional<std::string>> LlamaGateway::Authenticate(const std::optional<std::string_view>& api_key,
                                                                const std::optional<std::string>& user) const {
  if (!api_keys_) return std::optional<std::string>(user.value_or(""));
  if (!api_key || api_key->empty()) {
    if (policy_.AllowsAnonymous()) return std::optional<std::string>();
    return Status::PermissionDenied(
        "missing API key: send 'Authorization: Bearer <key>' (this server maps API keys to tenants)");
  }
  std::optional<std::string> tenant = api_keys_->TenantOf(*api_key);
  if (!tenant) return Status::PermissionDenied("unknown API key");
  return tenant;
}

StatusOr<GatewayDecision> LlamaGateway::Resolve(const std::string& tenant, bool watermark_requested, int32_t n_vocab,
                                                uint64_t seed) {
  if (tenant.empty()) {
    return Status::InvalidArgument("request has no tenant: set the \"user\" field to a tenant name");
  }
  TT_RETURN_IF_ERROR(ValidateTenantName(tenant));
  // The key must exist even for opted-out requests, so an unknown tenant is
  // never served silently.
  TT_ASSIGN_OR_RETURN(TenantKey key, KeyFor(tenant));
  GatewayDecision decision;
  if (!watermark_requested) {
    if (!policy_.MayOptOut(tenant)) {
      return Status::PermissionDenied("tenant '" + tenant + "' may not opt out of watermarking (policy)");
    }
    return decision;
  }
  TT_ASSIGN_OR_RETURN(decision.sampler, WatermarkSampler::New(key.wm, n_vocab, seed));
  decision.selects = spec_.is_sampling_scheme();
  decision.key_id = key.key_id;
  return decision;
}

Status LlamaGateway::Record(const CompletionRecord& r) {
  if (record_fd_ < 0) return Status::Ok();
  provenance::Hash digest = provenance::Sha256Of(r.text);
  std::string line = "{\"type\":\"telltale.llama.completion.v1\",\"time\":" + JsonString(UtcNow()) +
                     ",\"tenant\":" + JsonString(r.tenant) + ",\"key_id\":" + JsonString(r.key_id) +
                     ",\"scheme\":" + JsonString(r.watermarked ? spec_.ToString() : "") +
                     ",\"watermarked\":" + (r.watermarked ? "true" : "false") +
                     ",\"prompt_tokens\":" + std::to_string(r.prompt_tokens) +
                     ",\"completion_tokens\":" + std::to_string(r.completion_tokens) +
                     ",\"response_sha256\":" + JsonString(HexEncode(digest)) + "}\n";
  std::lock_guard<std::mutex> lock(record_mu_);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(record_fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::DataLoss(std::string("record file write failed: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace telltale
