#include "audit/completions_client.h"

#include <curl/curl.h>

#include <cmath>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

namespace telltale {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Status EnsureCurl() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) return Status::Internal(std::string("libcurl init failed: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

std::string CompletionsUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto ends = [&](std::string_view s) { return url.size() >= s.size() && url.ends_with(s); };
  if (ends("/completions")) return url;
  return url + (ends("/v1") ? "/completions" : "/v1/completions");
}

}  // namespace

StatusOr<CompletionsClient> CompletionsClient::Create(CompletionsOptions options) {
  if (options.endpoint.rfind("http://", 0) != 0 && options.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("endpoint '" + options.endpoint + "' must start with http:// or https://");
  }
  if (!(options.timeout_seconds > 0)) return Status::InvalidArgument("--timeout must be > 0");
  if (options.retries < 0 || options.retries > 100) return Status::InvalidArgument("--retries must be in [0, 100]");
  if (options.backoff_seconds < 0) return Status::InvalidArgument("--backoff must be >= 0");
  if (options.rate_limit < 0) return Status::InvalidArgument("--rate-limit must be >= 0");
  TT_RETURN_IF_ERROR(EnsureCurl());
  CURL* c = curl_easy_init();
  if (c == nullptr) return Status::Internal("curl_easy_init failed");
  std::string url = CompletionsUrl(options.endpoint);
  return CompletionsClient(std::move(options), c, std::move(url));
}

CompletionsClient::CompletionsClient(CompletionsClient&& o) noexcept
    : options_(std::move(o.options_)), curl_(o.curl_), url_(std::move(o.url_)), requests_(o.requests_),
      last_(o.last_) {
  o.curl_ = nullptr;
}

CompletionsClient::~CompletionsClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status CompletionsClient::Post(const std::string& payload, long* code, std::string* body, bool* retryable) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  body->clear();
  *code = 0;
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::string auth;
  if (!options_.api_key.empty()) {
    auth = "Authorization: Bearer " + options_.api_key;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(options_.timeout_seconds * 1000)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    *retryable = true;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", options_.timeout_seconds);
      return Status::Unavailable(url_ + ": timed out after " + buf + " s");
    }
    return Status::Unavailable(url_ + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
  if (*code >= 200 && *code < 300) return Status::Ok();
  *retryable = *code == 429 || *code >= 500;
  return Status::Unavailable(url_ + ": HTTP " + std::to_string(*code));
}

StatusOr<std::string> CompletionsClient::Complete(const CompletionRequest& request) {
  nlohmann::json req = {{"prompt", request.prompt},
                        {"max_tokens", request.max_tokens},
                        {"temperature", request.temperature}};
  if (!options_.model.empty()) req["model"] = options_.model;
  if (request.seed) req["seed"] = *request.seed;
  const std::string payload = req.dump();
  Status last = Status::Unavailable(url_ + ": no attempt made");
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(
          std::chrono::duration<double>(options_.backoff_seconds * std::ldexp(1.0, attempt - 1)));
    }
    if (options_.rate_limit > 0 && requests_ > 0) {
      const auto next = last_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(1.0 / options_.rate_limit));
      std::this_thread::sleep_until(next);
    }
    last_ = std::chrono::steady_clock::now();
    ++requests_;
    long code = 0;
    std::string body;
    bool retryable = false;
    Status st = Post(payload, &code, &body, &retryable);
    if (st.ok()) {
      const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return Status::InvalidArgument(url_ + ": response is not JSON");
      if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() ||
          !j["choices"][0].is_object() || !j["choices"][0].contains("text") || !j["choices"][0]["text"].is_string()) {
        return Status::InvalidArgument(url_ + ": response has no choices[0].text");
      }
      return j["choices"][0]["text"].get<std::string>();
    }
    last = st;
    if (!retryable) return st;
  }
  return Status::Unavailable(std::string(last.message()) + " (after " + std::to_string(options_.retries + 1) +
                             " attempts)");
}

}  // namespace telltale
