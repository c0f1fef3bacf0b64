// The per-document report shared by `telltale detect --json`, scan and the
// Python API, so every surface prints the same fields with the same values.
//
// Fields: doc, line, id?, scheme, dedup, alpha, tokens, scored, score,
// expected, z, p_value, log10_p, log10_p_raw, detected, key_id, keys[]
// ({key_id, log10_p, log10_p_holm}), window? ({begin, end, scored, score,
// log10_p, log10_p_corrected, windows_tested}), token_mask? and
// token_scores? (with per_token). With K keys, log10_p is the best key's
// Holm-adjusted value (= its raw value when K == 1); `detected` compares the
// decision statistic (the window's corrected p when window search is on,
// else log10_p) with log10(alpha).
#pragma once

#include <nlohmann/json.hpp>

#include <span>

#include "detect/attribution.h"
#include "detect/token_documents.h"

namespace telltale {

struct ReportContext {
  const SchemeSpec* spec = nullptr;
  const DetectOptions* options = nullptr;
  double alpha = 1e-6;
  bool per_token = false;
};

// The decision statistic of a document (see above), as log10 p.
double DecisionLog10P(const Attribution& a, bool window_search);

// DetectOptions::span_log10_threshold that matches the decision at alpha
// over num_keys keys: Bonferroni across keys, which for the best key is
// Holm's first step, so a document detected by its window has a span.
double SpanLog10Threshold(double alpha, size_t num_keys);

nlohmann::json DetectionReportJson(int64_t doc_index, const TokenDocument& doc, const Attribution& a,
                                   std::span<const Detector* const> detectors, const ReportContext& ctx);

// p-value as a JSON number that never underflows to a misleading 0 without
// log10_p beside it: 10^log10_p, or 0 when below the double range.
double PValueFromLog10(double log10_p);

}  // namespace telltale
