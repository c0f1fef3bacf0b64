// HtmlReport: the self-contained `--html` report of a scan (inline CSS and
// inline SVG, no scripts, no external assets): corpus verdict, per-key
// table, a histogram of per-document p-values, a QQ plot of the p-values
// against the uniform, the top documents with their tokens coloured by
// score, and the parameters (scheme, alpha, normalization, tokenizer, key ids).
//
// Add() sees every result in input order and keeps only what the report
// needs: one double per document and the `top` most significant documents
// (ties broken by input index, so the report is deterministic).
// Thread-safety: not thread-safe; one builder per scan.
#pragma once

#include <string>
#include <vector>

#include "scan/scan_report.h"
#include "scan/scan_result.h"

namespace telltale::scan {

class HtmlReport {
 public:
  explicit HtmlReport(size_t top = 20) : top_(top) {}
  // Keeps a copy of r (with its text and token view) only if it is among the top.
  void Add(const DocumentResult& r);
  std::string Render(const ScanSummary& summary, const ReportParams& params) const;
  const std::vector<DocumentResult>& top() const { return best_; }

 private:
  size_t top_;
  std::vector<double> log10_p_;       // decision statistic of every scanned document
  std::vector<DocumentResult> best_;  // sorted: smallest log10 p first
};

}  // namespace telltale::scan
