#include "detect/detection_report.h"

#include <algorithm>
#include <cmath>

namespace telltale {

double PValueFromLog10(double log10_p) { return log10_p < -323.5 ? 0.0 : std::pow(10.0, log10_p); }

double DecisionLog10P(const Attribution& a, bool window_search) {
  const Detection& best = a.per_key[a.best];
  double v = a.holm_log10_p[a.best];
  if (window_search && best.window) {
    // Holm across keys applies to the window statistic as well.
    const double k = static_cast<double>(a.per_key.size());
    v = std::min(0.0, best.window->log10_p_corrected + std::log10(k));
  }
  return v;
}

double SpanLog10Threshold(double alpha, size_t num_keys) {
  return std::log10(alpha) - std::log10(static_cast<double>(std::max<size_t>(num_keys, 1)));
}

nlohmann::json DetectionReportJson(int64_t doc_index, const TokenDocument& doc, const Attribution& a,
                                   std::span<const Detector* const> detectors, const ReportContext& ctx) {
  const Detection& best = a.per_key[a.best];
  nlohmann::json j;
  j["doc"] = doc_index;
  j["line"] = doc.line;
  if (!doc.id.empty()) j["id"] = doc.id;
  j["scheme"] = ctx.spec->ToString();
  j["dedup"] = std::string(DedupModeName(ctx.options->dedup));
  j["alpha"] = ctx.alpha;
  j["tokens"] = best.tokens;
  j["scored"] = best.scored;
  j["score"] = best.score;
  j["expected"] = best.expected;
  j["z"] = best.z;
  j["log10_p"] = a.holm_log10_p[a.best];
  j["p_value"] = PValueFromLog10(a.holm_log10_p[a.best]);
  j["log10_p_raw"] = best.log10_p;
  j["detected"] = DecisionLog10P(a, ctx.options->window_search) <= std::log10(ctx.alpha);
  j["key_id"] = detectors[a.best]->key_id();
  nlohmann::json keys = nlohmann::json::array();
  for (size_t k = 0; k < a.per_key.size(); ++k) {
    keys.push_back({{"key_id", detectors[k]->key_id()},
                    {"log10_p", a.per_key[k].log10_p},
                    {"log10_p_holm", a.holm_log10_p[k]}});
  }
  j["keys"] = std::move(keys);
  if (best.window) {
    const WindowMatch& w = *best.window;
    j["window"] = {{"begin", w.begin},           {"end", w.end},
                   {"scored", w.scored},         {"score", w.score},
                   {"log10_p", w.log10_p},       {"log10_p_corrected", w.log10_p_corrected},
                   {"windows_tested", w.windows_tested}};
  }
  if (ctx.options->span_log10_threshold) {
    // Token positions [begin, end) of the merged significant windows.
    nlohmann::json spans = nlohmann::json::array();
    for (const WindowMatch& w : best.spans) {
      spans.push_back({{"begin", w.begin},
                       {"end", w.end},
                       {"scored", w.scored},
                       {"score", w.score},
                       {"log10_p_corrected", w.log10_p_corrected}});
    }
    j["spans"] = std::move(spans);
  }
  if (ctx.per_token) {
    j["token_mask"] = best.token_mask;
    nlohmann::json scores = nlohmann::json::array();
    for (float s : best.token_scores) scores.push_back(std::isnan(s) ? nlohmann::json(nullptr) : nlohmann::json(s));
    j["token_scores"] = std::move(scores);
  }
  return j;
}

}  // namespace telltale
