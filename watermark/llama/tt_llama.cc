// C ABI of watermark/llama (tt_llama.h): converts Status to tt_status, keeps
// the last error per thread and never lets a C++ exception escape.
#include "watermark/llama/tt_llama.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "crypto/key_file.h"
#include "watermark/llama/llama_gateway.h"
#include "watermark/llama/watermark_sampler.h"

struct tt_llama_gateway {
  std::unique_ptr<telltale::LlamaGateway> gw;
};

namespace {

thread_local std::string g_last_error;

tt_status Fail(const telltale::Status& s) {
  g_last_error = s.message();
  return static_cast<tt_status>(static_cast<int>(s.code()));
}

tt_status Fail(tt_status code, std::string message) {
  g_last_error = std::move(message);
  return code;
}

template <typename F>
tt_status Guard(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Fail(TT_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return Fail(TT_INTERNAL, e.what());
  }
}

std::string Str(const char* p, size_t n) { return p == nullptr ? std::string() : std::string(p, n); }

}  // namespace

extern "C" {

uint32_t tt_llama_abi_version(void) { return TT_LLAMA_ABI_VERSION; }

const char* tt_llama_last_error(void) { return g_last_error.c_str(); }

struct llama_sampler* tt_llama_sampler_init(const char* key_path, size_t key_path_len, const char* spec,
                                            size_t spec_len, int32_t n_vocab, uint64_t seed) {
  llama_sampler* out = nullptr;
  tt_status st = Guard([&]() -> tt_status {
    if (key_path == nullptr || spec == nullptr) return Fail(TT_INVALID_ARGUMENT, "key_path and spec are required");
    auto parsed = telltale::SchemeSpec::Parse(std::string_view(spec, spec_len));
    if (!parsed.ok()) return Fail(parsed.status());
    auto file = telltale::LoadKeyFile(Str(key_path, key_path_len));
    if (!file.ok()) return Fail(file.status());
    auto wm = telltale::Watermarker::Create(file->key, *parsed);
    if (!wm.ok()) return Fail(wm.status());
    auto smpl = telltale::WatermarkSampler::New(std::make_shared<const telltale::Watermarker>(std::move(*wm)),
                                                n_vocab, seed);
    if (!smpl.ok()) return Fail(smpl.status());
    out = *smpl;
    g_last_error.clear();
    return TT_OK;
  });
  return st == TT_OK ? out : nullptr;
}

int tt_llama_sampler_selects(const struct llama_sampler* smpl) {
  if (!telltale::WatermarkSampler::Is(smpl)) return -1;
  auto* state = telltale::WatermarkSampler::From(const_cast<llama_sampler*>(smpl));
  return state->watermarker().spec().is_sampling_scheme() ? 1 : 0;
}

tt_status tt_llama_gateway_new(const char* scheme, const char* keys_dir, const char* policy_path,
                               const char* record_path, const char* api_keys_path, tt_llama_gateway** out) {
  return Guard([&]() -> tt_status {
    if (out == nullptr || scheme == nullptr || keys_dir == nullptr) {
      return Fail(TT_INVALID_ARGUMENT, "scheme, keys_dir and out are required");
    }
    *out = nullptr;
    auto gw = telltale::LlamaGateway::Create(scheme, keys_dir, policy_path ? policy_path : "",
                                             record_path ? record_path : "", api_keys_path ? api_keys_path : "");
    if (!gw.ok()) return Fail(gw.status());
    *out = new tt_llama_gateway{std::move(*gw)};
    g_last_error.clear();
    return TT_OK;
  });
}

void tt_llama_gateway_free(tt_llama_gateway* gw) { delete gw; }

tt_status tt_llama_gateway_resolve(tt_llama_gateway* gw, const tt_llama_request* req, tt_llama_decision* out) {
  return Guard([&]() -> tt_status {
    if (gw == nullptr || req == nullptr || out == nullptr) {
      return Fail(TT_INVALID_ARGUMENT, "gateway, request and decision are required");
    }
    if (req->struct_size != sizeof(tt_llama_request) || out->struct_size != sizeof(tt_llama_decision)) {
      return Fail(TT_INVALID_ARGUMENT, "tt_llama_request/tt_llama_decision struct_size does not match this library (" +
                                           std::to_string(sizeof(tt_llama_request)) + "/" +
                                           std::to_string(sizeof(tt_llama_decision)) + " bytes)");
    }
    *out = tt_llama_decision{};
    out->struct_size = sizeof(tt_llama_decision);
    std::optional<std::string_view> api_key;
    if (req->api_key != nullptr) api_key = std::string_view(req->api_key, req->api_key_len);
    std::optional<std::string> user;
    if (req->user != nullptr) user = Str(req->user, req->user_len);
    auto tenant = gw->gw->Authenticate(api_key, user);
    if (!tenant.ok()) {
      out->unauthenticated = 1;
      return Fail(tenant.status());
    }
    if (!tenant->has_value()) {  // anonymous, allowed by the policy: unwatermarked
      g_last_error.clear();
      return TT_OK;
    }
    if ((*tenant)->size() > TT_LLAMA_TENANT_CHARS) {
      return Fail(TT_INVALID_ARGUMENT, "tenant name longer than 128 characters");
    }
    auto d = gw->gw->Resolve(**tenant, req->watermark_requested != 0, req->n_vocab, req->seed);
    if (!d.ok()) return Fail(d.status());
    out->sampler = d->sampler;
    out->selects = d->selects ? 1 : 0;
    std::memcpy(out->key_id, d->key_id.c_str(), d->key_id.size() + 1);
    std::memcpy(out->tenant, (*tenant)->c_str(), (*tenant)->size() + 1);
    g_last_error.clear();
    return TT_OK;
  });
}

tt_status tt_llama_gateway_record(tt_llama_gateway* gw, const char* tenant, size_t tenant_len, const char* key_id,
                                  int watermarked, int64_t prompt_tokens, int64_t completion_tokens,
                                  const char* text, size_t text_len) {
  return Guard([&]() -> tt_status {
    if (gw == nullptr || (text == nullptr && text_len > 0)) return Fail(TT_INVALID_ARGUMENT, "gateway is required");
    telltale::CompletionRecord r;
    r.tenant = Str(tenant, tenant_len);
    r.key_id = key_id ? key_id : "";
    r.watermarked = watermarked != 0;
    r.prompt_tokens = prompt_tokens;
    r.completion_tokens = completion_tokens;
    r.text = std::string_view(text ? text : "", text_len);
    telltale::Status s = gw->gw->Record(r);
    if (!s.ok()) return Fail(s);
    g_last_error.clear();
    return TT_OK;
  });
}

}  // extern "C"
