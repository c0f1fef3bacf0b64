// LlamaGateway: per-tenant watermarking for an inference server.
//
// Tenants are key labels (ValidateKeyLabel) without '/', so <tenant>.key
// always names a file directly inside the keys directory.
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
#include <string>

#include "common/status.h"
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
  // policy_path / record_path may be empty (no opt-outs / no records).
  static StatusOr<std::unique_ptr<LlamaGateway>> Create(const std::string& scheme, const std::string& keys_dir,
                                                        const std::string& policy_path,
                                                        const std::string& record_path);
  ~LlamaGateway();
  LlamaGateway(const LlamaGateway&) = delete;
  LlamaGateway& operator=(const LlamaGateway&) = delete;

  StatusOr<GatewayDecision> Resolve(const std::string& tenant, bool watermark_requested, int32_t n_vocab,
                                    uint64_t seed);
  Status Record(const CompletionRecord& record);

  const SchemeSpec& spec() const { return spec_; }

 private:
  struct TenantKey {
    std::shared_ptr<const Watermarker> wm;
    std::string key_id;
  };
  LlamaGateway(SchemeSpec spec, std::string keys_dir, TenantPolicy policy, int record_fd);
  StatusOr<TenantKey> KeyFor(const std::string& tenant);

  const SchemeSpec spec_;
  const std::string keys_dir_;
  const TenantPolicy policy_;
  const int record_fd_;  // -1: no records
  std::mutex keys_mu_;
  std::map<std::string, TenantKey> keys_;
  std::mutex record_mu_;
};

}  // namespace telltale
