#include "scan/scan_report.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "common/base64.h"
#include "detect/detection_report.h"
#include "tokenize/utf8.h"

namespace telltale::scan {
namespace {

constexpr int kFormatVersion = 1;

std::string Dump(const nlohmann::json& j) {
  // Every byte string is checked before it goes in (SetBytesField); the
  // replace handler only guards against a bug turning into an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Envelope(const char* type, nlohmann::json data) {
  nlohmann::json j;
  j["type"] = type;
  j["data"] = std::move(data);
  return Dump(j);
}

bool ValidUtf8(const std::string& s) { return tokenize::ValidUtf8Prefix(s) == s.size(); }

const KeyInfo* KeyAt(const ReportParams& p, int k) {
  return k >= 0 && static_cast<size_t>(k) < p.keys.size() ? &p.keys[static_cast<size_t>(k)] : nullptr;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char* KindName(ResultKind k) {
  switch (k) {
    case ResultKind::kDocument: return "scanned";
    case ResultKind::kSkipped: return "skipped";
    case ResultKind::kError: return "error";
  }
  return "?";
}

}  // namespace

void SetBytesField(nlohmann::json& j, const std::string& field, const std::string& bytes) {
  if (ValidUtf8(bytes)) {
    j[field] = bytes;
  } else {
    j[field + "_base64"] = Base64Encode(std::string_view(bytes));
  }
}

std::string BeginRecord(const ReportParams& p) {
  nlohmann::json d;
  d["version"] = kFormatVersion;
  d["scheme"] = p.scheme;
  d["dedup"] = "context+token";
  d["alpha"] = p.alpha;
  d["normalization"] = p.normalization;
  d["tokenizer"] = p.tokenizer;
  d["window_search"] = p.window;
  if (p.window) d["min_window"] = p.min_window;
  nlohmann::json keys = nlohmann::json::array();
  for (const KeyInfo& k : p.keys) {
    nlohmann::json kj;
    kj["key_id"] = k.key_id;
    SetBytesField(kj, "name", k.name);
    keys.push_back(std::move(kj));
  }
  d["keys"] = std::move(keys);
  nlohmann::json inputs = nlohmann::json::array();
  for (const std::string& in : p.inputs) {
    nlohmann::json ij = nlohmann::json::object();
    SetBytesField(ij, "path", in);
    inputs.push_back(std::move(ij));
  }
  d["inputs"] = std::move(inputs);
  return Envelope("begin", std::move(d));
}

std::string ItemRecord(const DocumentResult& r, const ReportParams& p) {
  nlohmann::json d;
  d["index"] = r.index;
  SetBytesField(d, "source", r.source);
  d["line"] = r.line;
  if (r.kind == ResultKind::kError) {
    SetBytesField(d, "reason", r.reason);
    return Envelope("error", std::move(d));
  }
  d["status"] = KindName(r.kind);
  if (r.kind == ResultKind::kSkipped) {
    SetBytesField(d, "reason", r.reason);
    return Envelope("document", std::move(d));
  }
  d["bytes"] = r.bytes;
  d["tokens"] = r.tokens;
  d["scored"] = r.scored;
  d["score"] = r.score;
  d["expected"] = r.expected;
  d["z"] = r.z;
  d["p_value"] = PValueFromLog10(r.log10_p);
  d["log10_p"] = r.log10_p;
  d["log10_p_raw"] = r.log10_p_raw;
  d["decision_log10_p"] = r.decision_log10_p;
  d["detected"] = r.detected;
  if (const KeyInfo* k = KeyAt(p, r.best_key)) {
    d["key_id"] = k->key_id;
    SetBytesField(d, "key_name", k->name);
  }
  nlohmann::json keys = nlohmann::json::array();
  for (size_t k = 0; k < r.keys.size(); ++k) {
    keys.push_back({{"key_id", k < p.keys.size() ? p.keys[k].key_id : std::string()},
                    {"log10_p", r.keys[k].log10_p},
                    {"log10_p_holm", r.keys[k].log10_p_holm}});
  }
  d["keys"] = std::move(keys);
  if (r.window) {
    const DocumentResult::Window& w = *r.window;
    d["window"] = {{"begin", w.begin},         {"end", w.end},
                   {"scored", w.scored},       {"score", w.score},
                   {"log10_p", w.log10_p},     {"log10_p_corrected", w.log10_p_corrected},
                   {"windows_tested", w.windows_tested}};
  }
  nlohmann::json spans = nlohmann::json::array();
  for (const Span& s : r.spans) {
    nlohmann::json sj;
    sj["begin"] = s.begin;
    sj["end"] = s.end;
    if (!r.text.empty() && s.end <= r.text.size()) SetBytesField(sj, "text", r.text.substr(s.begin, s.end - s.begin));
    spans.push_back(std::move(sj));
  }
  d["spans"] = std::move(spans);
  if (p.json_text) SetBytesField(d, "text", r.text);
  return Envelope("document", std::move(d));
}

std::string SummaryRecord(const ScanSummary& s, const ReportParams& p) {
  nlohmann::json d;
  d["items"] = s.items;
  d["documents"] = s.documents;
  d["skipped"] = s.skipped;
  d["failed"] = s.failed;
  d["errors"] = s.failed;
  d["detected"] = s.detected;
  d["bytes"] = s.bytes;
  d["input_bytes"] = s.input_bytes;
  d["tokens"] = s.tokens;
  d["partial"] = s.partial;
  if (s.partial) SetBytesField(d, "stop_reason", s.stop_reason);
  d["alpha"] = p.alpha;
  nlohmann::json per_key = nlohmann::json::array();
  for (size_t k = 0; k < s.detected_per_key.size(); ++k) {
    per_key.push_back({{"key_id", k < p.keys.size() ? p.keys[k].key_id : std::string()},
                       {"detected", s.detected_per_key[k]}});
  }
  d["detected_per_key"] = std::move(per_key);
  const CorpusTestResult& c = s.corpus;
  nlohmann::json cj;
  cj["documents"] = c.documents;
  cj["tuples_seen"] = c.tokens_seen;
  cj["unique_tuples"] = c.unique_tuples;
  cj["detected"] = s.corpus_detected;
  cj["partial"] = c.partial;
  if (const KeyInfo* k = KeyAt(p, c.best_key)) cj["best_key_id"] = k->key_id;
  nlohmann::json keys = nlohmann::json::array();
  for (const CorpusKeyResult& k : c.keys) {
    keys.push_back({{"key_id", k.key_id},
                    {"scored", k.scored},
                    {"score", k.score},
                    {"p_value", PValueFromLog10(k.log10_p)},
                    {"log10_p", k.log10_p},
                    {"p_holm", PValueFromLog10(k.holm_log10_p)},
                    {"log10_p_holm", k.holm_log10_p}});
  }
  cj["keys"] = std::move(keys);
  d["corpus"] = std::move(cj);
  return Envelope("summary", std::move(d));
}

std::string CsvHeader() {
  return "index,source,line,status,reason,bytes,tokens,scored,score,z,log10_p,log10_p_raw,p_value,detected,"
         "key_id,key_name,window_begin,window_end,window_log10_p_corrected,span_begin,span_end\n";
}

std::string CsvRow(const DocumentResult& r, const ReportParams& p) {
  std::string row = std::to_string(r.index) + "," + CsvField(r.source) + "," + std::to_string(r.line) + "," +
                    KindName(r.kind) + "," + CsvField(r.reason) + ",";
  if (r.kind != ResultKind::kDocument) return row + ",,,,,,,,,,,,,,,\n";
  const KeyInfo* k = KeyAt(p, r.best_key);
  row += std::to_string(r.bytes) + "," + std::to_string(r.tokens) + "," + std::to_string(r.scored) + "," +
         Num(r.score) + "," + Num(r.z) + "," + Num(r.log10_p) + "," + Num(r.log10_p_raw) + "," +
         Num(PValueFromLog10(r.log10_p)) + "," + (r.detected ? "true" : "false") + "," +
         (k ? k->key_id : "") + "," + CsvField(k ? k->name : "") + ",";
  if (r.window) {
    row += std::to_string(r.window->begin) + "," + std::to_string(r.window->end) + "," +
           Num(r.window->log10_p_corrected) + ",";
  } else {
    row += ",,,";
  }
  if (!r.spans.empty()) {
    row += std::to_string(r.spans[0].begin) + "," + std::to_string(r.spans[0].end);
  } else {
    row += ",";
  }
  return row + "\n";
}

std::string TerminalSummary(const ScanSummary& s, const ReportParams& p,
                            const std::vector<DocumentResult>& top) {
  std::string out;
  char buf[512];
  const double mb = static_cast<double>(s.input_bytes) / 1e6;
  std::snprintf(buf, sizeof buf,
                "%" PRIu64 " documents read, %" PRIu64 " skipped, %" PRIu64 " failed; %" PRIu64
                " detected at alpha=%g  (%.1f MB, %" PRIu64 " tokens, %.1f s, %.1f MB/s)\n",
                s.documents, s.skipped, s.failed, s.detected, p.alpha, mb,
                s.tokens, s.seconds, s.seconds > 0 ? mb / s.seconds : 0.0);
  if (s.partial) out += "PARTIAL (" + s.stop_reason + "): ";
  out += buf;
  out += "scheme " + p.scheme + "; normalization " + p.normalization + "; tokenizer " + p.tokenizer + "\n\n";
  std::snprintf(buf, sizeof buf, "%-18s %-16s %10s %14s %16s  %s\n", "key", "name", "documents", "corpus score",
                "corpus log10 p", "corpus verdict (Holm)");
  out += buf;
  for (size_t k = 0; k < s.corpus.keys.size(); ++k) {
    const CorpusKeyResult& c = s.corpus.keys[k];
    const bool det = c.holm_log10_p <= std::log10(p.alpha) && s.corpus.unique_tuples > 0;
    std::snprintf(buf, sizeof buf, "%-18.16s %-16.16s %10" PRIu64 " %14.6g %16.2f  %s\n", c.key_id.c_str(),
                  k < p.keys.size() ? p.keys[k].name.c_str() : "", k < s.detected_per_key.size() ? s.detected_per_key[k] : 0,
                  c.score, c.holm_log10_p, det ? "DETECTED" : "not detected");
    out += buf;
  }
  const CorpusTestResult& c = s.corpus;
  if (s.corpus_detected) {
    const CorpusKeyResult& b = c.keys[static_cast<size_t>(c.best_key)];
    std::snprintf(buf, sizeof buf,
                  "\nCorpus verdict: WATERMARKED under key %s (%s), log10 p = %.2f (Holm over %zu keys) from %" PRIu64
                  " unique (context, token) tuples of %" PRIu64 "\n",
                  b.key_id.c_str(), p.keys[static_cast<size_t>(c.best_key)].name.c_str(), b.holm_log10_p,
                  c.keys.size(), c.unique_tuples, c.tokens_seen);
  } else {
    std::snprintf(buf, sizeof buf,
                  "\nCorpus verdict: no watermark at alpha=%g (%" PRIu64 " unique (context, token) tuples of %" PRIu64
                  ")\n",
                  p.alpha, c.unique_tuples, c.tokens_seen);
  }
  out += buf;
  if (!top.empty()) {
    out += "\nTop documents:\n";
    for (const DocumentResult& r : top) {
      const KeyInfo* k = KeyAt(p, r.best_key);
      std::snprintf(buf, sizeof buf, "  #%-8" PRIu64 " %s:%" PRIu64 "  log10 p %8.2f  %-12s key %.16s (%s)\n",
                    r.index, r.source.c_str(), r.line, r.decision_log10_p, r.detected ? "DETECTED" : "-",
                    k ? k->key_id.c_str() : "", k ? k->name.c_str() : "");
      out += buf;
    }
  }
  return out;
}

}  // namespace telltale::scan
