// LlamaGateway: per-tenant watermarking for an inference server.
//
// Tenants are key labels (ValidateKeyLabel) without '/', so <tenant>.key
// always names a file directly inside the keys directory.
// Who the tenant is (Authenticate): without an API-key map, the request's
// `user` field; with one (--tt-api-keys), the tenant of the request's API
// key, and `user` is ignored for attribution, so a client cannot claim
// another tenant's key by naming it. A missing key is refused unless the
// policy allows anonymous requests (then served unwatermarked, tenant "");
// an unknown key is always refused.
// Holds one scheme, a directory of tenant key files (<tenant>.key, loaded
// on first use and kept for the gateway's lifetime; restart to rotate), an
// opt-out policy and an append-only JSONL record file. For each request it
// returns a fresh WatermarkSampler keyed for the request's tenant, or no
// sampler when the tenant's policy allows the request to opt out.
//
// Records (docs/llama.md, Records): one JSON object per line per finished
// completion, written with a single O_APPEND write under a mutex, so lines
// from concurrent slots never interleave and a crash loses at most the
// line being written. Response text is not stored, only its SHA-256, so
// the record can be handed to `telltale sign generation-batch`.
// Thread-safety: every method may run concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "watermark/llama/api_key_map.h"
#include "watermark/llama/tenant_policy.h"
#include "watermark/scheme_spec.h"
#include "watermark/watermarker.h"

struct llama_sampler;

namespace telltale {

struct GatewayDecision {
  llama_sampler* sampler = nullptr;  // owned by the caller; null: unwatermarked
  bool selects = false;              // sampling scheme: replaces dist
  std::string key_id;                // "" when unwatermarked
};

struct CompletionRecord {
  std::string tenant, key_id;
  bool watermarked = false;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string_view text;
};

class LlamaGateway {
 public:
  // policy_path / record_path / api_keys_path may be empty (no opt-outs /
  // no records / tenant from the `user` field).
  static StatusOr<std::unique_ptr<LlamaGateway>> Create(const std::string& scheme, const std::string& keys_dir,
                                                        const std::string& policy_path,
                                                        const std::string& record_path,
                                                        const std::string& api_keys_path = "");
  ~LlamaGateway();
  LlamaGateway(const LlamaGateway&) = delete;
  LlamaGateway& operator=(const LlamaGateway&) = delete;

  // The request's tenant from its API key (nullopt: none presented) or its
  // `user` field (nullopt: absent); see the header comment. Returns nullopt
  // for an allowed anonymous request. Errors here mean "not authenticated"
  // (HTTP 401); the message never quotes the key.
  StatusOr<std::optional<std::string>> Authenticate(const std::optional<std::string_view>& api_key,
                                                    const std::optional<std::string>& user) const;
  bool has_api_keys() const { return api_keys_.has_value(); }

  // The sampler for an authenticated tenant (see Authenticate).
  StatusOr<GatewayDecision> Resolve(const std::string& tenant, bool watermark_requested, int32_t n_vocab,
                                    uint64_t seed);
  Status Record(const CompletionRecord& record);

  const SchemeSpec& spec() const { return spec_; }

 private:
  struct TenantKey {
    std::shared_ptr<const Watermarker> wm;
    std::string key_id;
  };
  LlamaGateway(SchemeSpec spec, std::string keys_dir, TenantPolicy policy, int record_fd,
               std::optional<ApiKeyMap> api_keys);
  StatusOr<TenantKey> KeyFor(const std::string& tenant);

  const SchemeSpec spec_;
  const std::string keys_dir_;
  const TenantPolicy policy_;
  const int record_fd_;  // -1: no records
  const std::optional<ApiKeyMap> api_keys_;
  std::mutex keys_mu_;
  std::map<std::string, TenantKey> keys_;
  std::mutex record_mu_;
};

}  // namespace telltale
