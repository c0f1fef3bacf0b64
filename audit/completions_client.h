// CompletionsClient: a blocking client for OpenAI-compatible
// /v1/completions endpoints (libcurl), used by `telltale audit model`.
//
// Retries: timeouts, connection failures, HTTP 429 and 5xx are retried up to
// `retries` times with exponential backoff (backoff, 2*backoff, ...); any
// other 4xx, or a 2xx body without choices[0].text, fails at once.
// Rate limit: at most `rate_limit` requests per second (0 = unlimited),
// retries included. requests() counts every HTTP request sent.
// Errors come back as Unavailable (the server or the network) or
// InvalidArgument (a malformed response), naming the URL and the cause.
//
// Ownership: owns its CURL handle. Thread-safety: none; one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace telltale {

struct CompletionsOptions {
  std::string endpoint;          // base URL, .../v1 or the full .../completions URL
  std::string model;             // sent as "model" when non-empty
  std::string api_key;           // sent as a Bearer token when non-empty
  double timeout_seconds = 30;
  int retries = 2;
  double backoff_seconds = 0.5;
  double rate_limit = 0;         // requests per second; 0 = unlimited
};

struct CompletionRequest {
  std::string prompt;
  int max_tokens = 64;
  double temperature = 0.8;
  std::optional<int64_t> seed;
};

class CompletionsClient {
 public:
  static StatusOr<CompletionsClient> Create(CompletionsOptions options);
  CompletionsClient(CompletionsClient&& other) noexcept;
  CompletionsClient& operator=(CompletionsClient&&) = delete;
  CompletionsClient(const CompletionsClient&) = delete;
  ~CompletionsClient();

  // The completion text of choices[0].
  StatusOr<std::string> Complete(const CompletionRequest& request);

  const std::string& url() const { return url_; }
  int64_t requests() const { return requests_; }

 private:
  CompletionsClient(CompletionsOptions options, void* curl, std::string url)
      : options_(std::move(options)), curl_(curl), url_(std::move(url)) {}
  // One attempt: HTTP status in *code (0 when no response), body in *body.
  Status Post(const std::string& payload, long* code, std::string* body, bool* retryable);

  CompletionsOptions options_;
  void* curl_ = nullptr;  // CURL*, kept opaque so callers need no curl headers
  std::string url_;
  int64_t requests_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace telltale
