// C ABI over the C++ core. Every entry point converts Status to tt_status,
// records the message in a thread-local buffer and never lets a C++
// exception cross the boundary.
#include "capi/telltale.h"

#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "crypto/key_file.h"
#include "detect/detector.h"
#include "watermark/watermarker.h"

struct tt_key {
  telltale::SecretKey key;
};
struct tt_watermarker {
  telltale::Watermarker wm;
};
struct tt_detector {
  telltale::Detector det;
};
struct tt_sample_workspace {
  telltale::SampleWorkspace ws;
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

tt_status Done(const telltale::Status& s) {
  if (!s.ok()) return Fail(s);
  g_last_error.clear();
  return TT_OK;
}

// Runs f, mapping exceptions (allocation failure) to TT_INTERNAL.
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

#define TT_REQUIRE(cond, msg) \
  if (!(cond)) return Fail(TT_INVALID_ARGUMENT, msg)

// struct_size must cover at least the v1 fields up to `last`.
template <typename T>
bool StructFits(const T* s, size_t v1_size) {
  return s->abi_version >= 1 && s->struct_size >= v1_size;
}

std::string_view View(const char* p, size_t n) { return p == nullptr ? std::string_view() : std::string_view(p, n); }

}  // namespace

extern "C" {

uint32_t tt_abi_version(void) { return TT_ABI_VERSION; }
const char* tt_last_error(void) { return g_last_error.c_str(); }

tt_status tt_key_generate(tt_key** out) {
  return Guard([&] {
    TT_REQUIRE(out != nullptr, "tt_key_generate: out is NULL");
    auto k = telltale::SecretKey::Generate();
    if (!k.ok()) return Fail(k.status());
    *out = new tt_key{std::move(k).value()};
    return Done(telltale::Status::Ok());
  });
}

tt_status tt_key_load(const char* path, size_t path_len, tt_key** out) {
  return Guard([&] {
    TT_REQUIRE(out != nullptr && path != nullptr, "tt_key_load: path or out is NULL");
    auto f = telltale::LoadKeyFile(std::string(path, path_len));
    if (!f.ok()) return Fail(f.status());
    *out = new tt_key{std::move(f->key)};
    return Done(telltale::Status::Ok());
  });
}

tt_status tt_key_from_bytes(const uint8_t* bytes, size_t len, tt_key** out) {
  return Guard([&] {
    TT_REQUIRE(out != nullptr && bytes != nullptr, "tt_key_from_bytes: bytes or out is NULL");
    auto k = telltale::SecretKey::FromBytes({bytes, len});
    if (!k.ok()) return Fail(k.status());
    *out = new tt_key{std::move(k).value()};
    return Done(telltale::Status::Ok());
  });
}

tt_status tt_key_derive(const tt_key* master, const char* tenant, size_t tenant_len, const char* region,
                        size_t region_len, const char* epoch, size_t epoch_len, tt_key** out) {
  return Guard([&] {
    TT_REQUIRE(master != nullptr && out != nullptr, "tt_key_derive: master or out is NULL");
    telltale::KeyLabels labels{std::string(View(tenant, tenant_len)), std::string(View(region, region_len)),
                               std::string(View(epoch, epoch_len))};
    auto k = telltale::DeriveTenantKey(master->key, labels);
    if (!k.ok()) return Fail(k.status());
    *out = new tt_key{std::move(k).value()};
    return Done(telltale::Status::Ok());
  });
}

tt_status tt_key_id(const tt_key* key, char* buf, size_t buf_len) {
  return Guard([&] {
    TT_REQUIRE(key != nullptr && buf != nullptr, "tt_key_id: key or buf is NULL");
    TT_REQUIRE(buf_len > TT_KEY_ID_CHARS, "tt_key_id: buf_len must be at least 33");
    const std::string id = key->key.KeyId();
    std::memcpy(buf, id.c_str(), id.size() + 1);
    return Done(telltale::Status::Ok());
  });
}

void tt_key_free(tt_key* key) { delete key; }

tt_status tt_watermarker_new(const tt_key* key, const char* spec, size_t spec_len, tt_watermarker** out) {
  return Guard([&] {
    TT_REQUIRE(key != nullptr && spec != nullptr && out != nullptr, "tt_watermarker_new: NULL argument");
    auto s = telltale::SchemeSpec::Parse(std::string_view(spec, spec_len));
    if (!s.ok()) return Fail(s.status());
    auto wm = telltale::Watermarker::Create(key->key, *s);
    if (!wm.ok()) return Fail(wm.status());
    *out = new tt_watermarker{std::move(wm).value()};
    return Done(telltale::Status::Ok());
  });
}

void tt_watermarker_free(tt_watermarker* wm) { delete wm; }

tt_status tt_watermarker_spec(const tt_watermarker* wm, char* buf, size_t buf_len, size_t* needed) {
  return Guard([&] {
    TT_REQUIRE(wm != nullptr, "tt_watermarker_spec: wm is NULL");
    const std::string s = wm->wm.spec().ToString();
    if (needed != nullptr) *needed = s.size() + 1;
    if (buf == nullptr || buf_len < s.size() + 1) {
      return Fail(TT_OUT_OF_RANGE, "tt_watermarker_spec: buffer needs " + std::to_string(s.size() + 1) + " bytes");
    }
    std::memcpy(buf, s.c_str(), s.size() + 1);
    return Done(telltale::Status::Ok());
  });
}

tt_status tt_watermarker_apply(const tt_watermarker* wm, const int32_t* context, size_t context_len, float* logits,
                               size_t vocab) {
  return Guard([&] {
    TT_REQUIRE(wm != nullptr && logits != nullptr, "tt_watermarker_apply: wm or logits is NULL");
    TT_REQUIRE(context != nullptr || context_len == 0, "tt_watermarker_apply: context is NULL");
    return Done(wm->wm.Apply({context, context_len}, {logits, vocab}));
  });
}

tt_status tt_watermarker_apply_batch(const tt_watermarker* wm, const int32_t* tokens, size_t n_tokens,
                                     const int64_t* offsets, size_t batch, float* logits, size_t vocab,
                                     size_t row_stride) {
  return Guard([&] {
    TT_REQUIRE(wm != nullptr && offsets != nullptr && logits != nullptr, "tt_watermarker_apply_batch: NULL argument");
    TT_REQUIRE(tokens != nullptr || n_tokens == 0, "tt_watermarker_apply_batch: tokens is NULL");
    TT_REQUIRE(row_stride >= vocab, "tt_watermarker_apply_batch: row_stride < vocab");
    telltale::LogitsMatrixMap map(logits, static_cast<Eigen::Index>(batch), static_cast<Eigen::Index>(vocab),
                                  Eigen::OuterStride<>(static_cast<Eigen::Index>(row_stride)));
    return Done(wm->wm.ApplyBatch({tokens, n_tokens}, {offsets, batch + 1}, map));
  });
}

tt_status tt_sample_workspace_new(tt_sample_workspace** out) {
  return Guard([&] {
    TT_REQUIRE(out != nullptr, "tt_sample_workspace_new: out is NULL");
    *out = new tt_sample_workspace{};
    return Done(telltale::Status::Ok());
  });
}

void tt_sample_workspace_free(tt_sample_workspace* ws) { delete ws; }

tt_status tt_watermarker_sample(const tt_watermarker* wm, const int32_t* context, size_t context_len,
                                const float* logits, size_t vocab, const tt_sampling_params* params, uint64_t* rng,
                                tt_sample_workspace* ws, int32_t* out_token) {
  return Guard([&] {
    TT_REQUIRE(wm != nullptr && logits != nullptr && rng != nullptr && ws != nullptr && out_token != nullptr,
               "tt_watermarker_sample: NULL argument");
    TT_REQUIRE(context != nullptr || context_len == 0, "tt_watermarker_sample: context is NULL");
    telltale::SamplingParams p;
    if (params != nullptr) {
      TT_REQUIRE(StructFits(params, offsetof(tt_sampling_params, top_p) + sizeof(float)),
                 "tt_watermarker_sample: params has a bad abi_version/struct_size");
      p = {params->temperature, params->top_k, params->top_p};
    }
    auto t = wm->wm.Sample({context, context_len}, {logits, vocab}, p, *rng, ws->ws);
    if (!t.ok()) return Fail(t.status());
    *out_token = *t;
    return Done(telltale::Status::Ok());
  });
}

tt_status tt_detector_new(const tt_key* key, const char* spec, size_t spec_len, tt_detector** out) {
  return Guard([&] {
    TT_REQUIRE(key != nullptr && spec != nullptr && out != nullptr, "tt_detector_new: NULL argument");
    auto s = telltale::SchemeSpec::Parse(std::string_view(spec, spec_len));
    if (!s.ok()) return Fail(s.status());
    auto d = telltale::Detector::Create(key->key, *s);
    if (!d.ok()) return Fail(d.status());
    *out = new tt_detector{std::move(d).value()};
    return Done(telltale::Status::Ok());
  });
}

void tt_detector_free(tt_detector* det) { delete det; }

tt_status tt_detector_score(const tt_detector* det, const int32_t* tokens, size_t n, const tt_detect_options* options,
                            tt_detect_result* out, int8_t* mask) {
  return Guard([&] {
    TT_REQUIRE(det != nullptr && out != nullptr, "tt_detector_score: det or out is NULL");
    TT_REQUIRE(tokens != nullptr || n == 0, "tt_detector_score: tokens is NULL");
    TT_REQUIRE(StructFits(out, offsetof(tt_detect_result, window_log10_p_corrected) + sizeof(double)),
               "tt_detector_score: result has a bad abi_version/struct_size");
    telltale::DetectOptions opt;
    opt.per_token = mask != nullptr;
    if (options != nullptr) {
      TT_REQUIRE(StructFits(options, offsetof(tt_detect_options, min_window) + sizeof(int32_t)),
                 "tt_detector_score: options has a bad abi_version/struct_size");
      switch (options->dedup) {
        case TT_DEDUP_CONTEXT_TOKEN: opt.dedup = telltale::DedupMode::kContextToken; break;
        case TT_DEDUP_CONTEXT: opt.dedup = telltale::DedupMode::kContext; break;
        case TT_DEDUP_NONE: opt.dedup = telltale::DedupMode::kNone; break;
        default: return Fail(TT_INVALID_ARGUMENT, "tt_detector_score: unknown dedup mode " + std::to_string(options->dedup));
      }
      TT_REQUIRE(options->ignore_ids != nullptr || options->n_ignore_ids == 0, "tt_detector_score: ignore_ids is NULL");
      opt.prompt_tokens = options->prompt_tokens;
      opt.window_search = options->window_search != 0;
      opt.min_window = options->min_window;
      opt.ignore_ids.assign(options->ignore_ids, options->ignore_ids + options->n_ignore_ids);
    }
    auto r = det->det.Score({tokens, n}, opt);
    if (!r.ok()) return Fail(r.status());
    out->tokens = r->tokens;
    out->scored = r->scored;
    out->score = r->score;
    out->expected = r->expected;
    out->z = r->z;
    out->p_value = r->p_value;
    out->log10_p = r->log10_p;
    out->has_window = r->window.has_value();
    out->window_begin = r->window ? r->window->begin : 0;
    out->window_end = r->window ? r->window->end : 0;
    out->window_log10_p_corrected = r->window ? r->window->log10_p_corrected : 0;
    if (mask != nullptr) std::memcpy(mask, r->token_mask.data(), n);
    return Done(telltale::Status::Ok());
  });
}

}  // extern "C"
