// Renders scan results as JSON Lines records, CSV rows and the terminal
// summary table (docs/spec/scan.md defines the fields byte for byte).
//
// Nothing here depends on timing or the thread count, except the terminal
// table (which shows throughput), so JSON and CSV are deterministic.
// Strings that are not valid UTF-8 (document text, span text, file names)
// are never mangled: they are written as "<field>_base64" instead of
// "<field>". Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "scan/scan_result.h"
#include "watermark/scheme_spec.h"

namespace telltale::scan {

struct ReportParams {
  std::string scheme;        // canonical SchemeSpec string
  std::string normalization; // NormalizeOptions::Describe()
  std::string tokenizer;     // Tokenizer::kind()
  std::vector<KeyInfo> keys;
  std::vector<std::string> inputs;
  double alpha = 1e-3;
  bool window = false;
  int32_t min_window = 32;
  bool json_text = false;    // document records carry the whole text
};

// Sets j[field] (valid UTF-8) or j[field + "_base64"].
void SetBytesField(nlohmann::json& j, const std::string& field, const std::string& bytes);

std::string BeginRecord(const ReportParams& params);
// "document" for scanned and skipped items, "error" for error records.
std::string ItemRecord(const DocumentResult& r, const ReportParams& params);
std::string SummaryRecord(const ScanSummary& s, const ReportParams& params);

std::string CsvHeader();
std::string CsvRow(const DocumentResult& r, const ReportParams& params);

// The human summary: counts, per-key table, corpus verdict, top documents.
std::string TerminalSummary(const ScanSummary& s, const ReportParams& params,
                            const std::vector<DocumentResult>& top_documents);

}  // namespace telltale::scan
