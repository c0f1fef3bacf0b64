#include "scan/html_report.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "detect/detector.h"
#include "tokenize/utf8.h"

namespace telltale::scan {
namespace {

bool Before(const DocumentResult& a, const DocumentResult& b) {
  if (a.decision_log10_p != b.decision_log10_p) return a.decision_log10_p < b.decision_log10_p;
  return a.index < b.index;
}

// HTML-escapes bytes; invalid UTF-8 is shown as U+FFFD (display only: the
// JSON output carries such text losslessly as base64).
std::string Escape(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t ok = tokenize::ValidUtf8Prefix(s.substr(i));
    for (size_t j = i; j < i + ok; ++j) {
      switch (s[j]) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += s[j];
      }
    }
    i += ok;
    if (i < s.size()) {
      out += "\xEF\xBF\xBD";
      i += std::max<size_t>(1, tokenize::MaximalSubpartAt(s, i));
    }
  }
  return out;
}

// Fixed-point ("%.*f") and general ("%.*g") numbers.
std::string Ff(int precision, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}
std::string Fg(int precision, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

constexpr const char* kCss = R"(
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin:0 0 12px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
.verdict{padding:16px 20px;border-radius:8px;font-size:18px;font-weight:600}
.verdict.pos{background:#fde8e8;border:2px solid #c0392b;color:#7b1d12}
.verdict.neg{background:#e8f4ea;border:2px solid #2e7d32;color:#1b4d1e}
.verdict small{display:block;font-weight:400;font-size:13px;margin-top:4px}
.verdict.partial{outline:3px dashed #e67e22}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ccd;padding:4px 8px;text-align:left;font-size:13px}
th{background:#f2f3f7} td.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;gap:24px;flex-wrap:wrap} .plots figure{margin:0} figcaption{font-size:12px;color:#555}
.doc{border:1px solid #dde;border-radius:6px;padding:10px;margin:10px 0;background:#fcfcfe}
.doc h3{font-size:13px;margin:0 0 6px;font-weight:600}
.text{white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
.g{background:#9be59b} .r{background:#f6c4c4} .n{color:#888} .i{color:#888;text-decoration:line-through} .d{background:#e3e3e3}
.legend span{padding:0 6px;margin-right:8px;font-size:12px}
code{background:#f2f3f7;padding:1px 4px;border-radius:3px}
)";

std::string Histogram(const std::vector<double>& log10_p) {
  constexpr int kBins = 20;
  std::vector<uint64_t> bins(kBins, 0);
  for (double lp : log10_p) {
    const double p = std::pow(10.0, lp);
    int b = static_cast<int>(p * kBins);
    bins[static_cast<size_t>(std::clamp(b, 0, kBins - 1))]++;
  }
  const uint64_t max = std::max<uint64_t>(1, *std::max_element(bins.begin(), bins.end()));
  const double w = 400, h = 260, left = 48, bottom = 30, top = 12;
  std::string s = "<svg id=\"p-histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"460\" height=\"300\" "
                  "viewBox=\"0 0 460 300\" role=\"img\" aria-label=\"histogram of p-values\">";
  s += "<rect x=\"0\" y=\"0\" width=\"460\" height=\"300\" fill=\"#ffffff\"/>";
  const double plot_h = h - bottom - top;
  // Expected height of a bin under the null (uniform p-values).
  const double null_y = top + plot_h * (1 - static_cast<double>(log10_p.size()) / kBins / static_cast<double>(max));
  for (int b = 0; b < kBins; ++b) {
    const double bh = plot_h * static_cast<double>(bins[static_cast<size_t>(b)]) / static_cast<double>(max);
    s += "<rect class=\"bar\" x=\"" + Ff(1, left + b * (w / kBins) + 1) + "\" y=\"" +
         Ff(1, top + plot_h - bh) + "\" width=\"" + Ff(1, w / kBins - 2) + "\" height=\"" +
         Ff(1, bh) + "\" fill=\"" + (b == 0 ? "#c0392b" : "#4a6fa5") + "\"><title>" +
         Ff(2, b / double(kBins)) + "-" + Ff(2, (b + 1) / double(kBins)) + ": " +
         std::to_string(bins[static_cast<size_t>(b)]) + "</title></rect>";
  }
  if (null_y >= top) {
    s += "<line x1=\"" + Ff(1, left) + "\" x2=\"" + Ff(1, left + w) + "\" y1=\"" + Ff(1, null_y) +
         "\" y2=\"" + Ff(1, null_y) + "\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>";
  }
  s += "<line x1=\"48\" y1=\"" + Ff(1, top + plot_h) + "\" x2=\"448\" y2=\"" + Ff(1, top + plot_h) +
       "\" stroke=\"#333\"/><line x1=\"48\" y1=\"12\" x2=\"48\" y2=\"" + Ff(1, top + plot_h) +
       "\" stroke=\"#333\"/>";
  s += "<text x=\"48\" y=\"248\" font-size=\"11\" text-anchor=\"middle\">0</text>"
       "<text x=\"248\" y=\"248\" font-size=\"11\" text-anchor=\"middle\">0.5</text>"
       "<text x=\"448\" y=\"248\" font-size=\"11\" text-anchor=\"middle\">1</text>"
       "<text x=\"248\" y=\"272\" font-size=\"12\" text-anchor=\"middle\">p-value (20 bins; dashed: uniform)</text>";
  s += "<text x=\"42\" y=\"20\" font-size=\"11\" text-anchor=\"end\">" + std::to_string(max) + "</text>";
  s += "<text x=\"42\" y=\"" + Ff(1, top + plot_h) + "\" font-size=\"11\" text-anchor=\"end\">0</text></svg>";
  return s;
}

std::string QqPlot(std::vector<double> log10_p) {
  // Observed -log10 p (sorted, largest first) against the uniform quantiles
  // -log10((i + 0.5) / n): points on the diagonal mean "looks like the null".
  std::sort(log10_p.begin(), log10_p.end());
  const size_t n = log10_p.size();
  const double cap = 50;  // axis limit; larger values are drawn at the cap
  double xmax = n > 0 ? -std::log10(0.5 / static_cast<double>(n)) : 1;
  double ymax = 1;
  for (double v : log10_p) ymax = std::max(ymax, std::min(cap, -v));
  // Separate axis scales: the uniform quantiles reach only log10(2n), while
  // watermarked documents go far beyond; the diagonal stays y = x.
  const double xlim = xmax * 1.05, ylim = ymax * 1.05;
  const double lim = std::min(xlim, ylim);
  const double w = 320, h = 250, left = 48, top = 12;
  auto X = [&](double v) { return left + w * v / xlim; };
  auto Y = [&](double v) { return top + h - h * v / ylim; };
  std::string s = "<svg id=\"qq-plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"300\" "
                  "viewBox=\"0 0 400 300\" role=\"img\" aria-label=\"QQ plot of p-values against uniform\">";
  s += "<rect x=\"0\" y=\"0\" width=\"400\" height=\"300\" fill=\"#ffffff\"/>";
  s += "<line class=\"diag\" x1=\"" + Ff(1, X(0)) + "\" y1=\"" + Ff(1, Y(0)) + "\" x2=\"" +
       Ff(1, X(lim)) + "\" y2=\"" + Ff(1, Y(lim)) + "\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>";
  // At most ~2000 points: every k-th, always keeping the most significant.
  const size_t step = std::max<size_t>(1, n / 2000);
  for (size_t i = 0; i < n; i = (i < 50 ? i + 1 : i + step)) {
    const double expected = -std::log10((static_cast<double>(i) + 0.5) / static_cast<double>(n));
    const double observed = std::min(cap, -log10_p[i]);
    s += "<circle class=\"pt\" cx=\"" + Ff(1, X(expected)) + "\" cy=\"" + Ff(1, Y(observed)) +
         "\" r=\"2.5\" fill=\"" + (observed >= cap ? "#7b1d12" : "#c0392b") + "\"/>";
  }
  s += "<line x1=\"48\" y1=\"262\" x2=\"368\" y2=\"262\" stroke=\"#333\"/>"
       "<line x1=\"48\" y1=\"12\" x2=\"48\" y2=\"262\" stroke=\"#333\"/>";
  s += "<text x=\"208\" y=\"286\" font-size=\"12\" text-anchor=\"middle\">expected -log10 p (uniform)</text>";
  s += "<text x=\"14\" y=\"137\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 137)\">"
       "observed -log10 p (capped at 50)</text>";
  s += "<text x=\"368\" y=\"276\" font-size=\"11\" text-anchor=\"end\">" + Ff(1, xlim) + "</text>";
  s += "<text x=\"44\" y=\"20\" font-size=\"11\" text-anchor=\"end\">" + Ff(1, ylim) + "</text></svg>";
  return s;
}

std::string TokenText(const DocumentResult& r) {
  const std::string& t = r.text;
  std::string out;
  uint32_t pos = 0;
  for (const TokenView& tv : r.token_view) {
    if (tv.begin < pos || tv.end > t.size() || tv.end <= tv.begin) continue;  // merged into a previous token
    if (tv.begin > pos) out += Escape(std::string_view(t).substr(pos, tv.begin - pos));
    const char* cls = tv.mark == kMarkGreen ? "g" : tv.mark == kMarkRed ? "r" : tv.mark == kMarkIgnored ? "i"
                      : tv.mark == kMarkDuplicate ? "d" : "n";
    out += "<span class=\"";
    out += cls;
    out += "\"";
    if (!std::isnan(tv.score)) {
      out += " title=\"score ";
      out += Fg(3, tv.score);
      out += '"';
    }
    out += '>';
    out += Escape(std::string_view(t).substr(tv.begin, tv.end - tv.begin));
    out += "</span>";
    pos = tv.end;
  }
  if (pos < t.size()) out += Escape(std::string_view(t).substr(pos));
  return out;
}

}  // namespace

void HtmlReport::Add(const DocumentResult& r) {
  if (r.kind != ResultKind::kDocument) return;
  log10_p_.push_back(r.decision_log10_p);
  if (best_.size() >= top_ && !Before(r, best_.back())) return;
  auto it = std::upper_bound(best_.begin(), best_.end(), r, Before);
  best_.insert(it, r);
  if (best_.size() > top_) best_.pop_back();
}

std::string HtmlReport::Render(const ScanSummary& s, const ReportParams& p) const {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>telltale scan report</title><style>";
  h += kCss;
  h += "</style></head><body>\n<h1>telltale scan report</h1>\n";
  const CorpusTestResult& c = s.corpus;
  const std::string partial_cls = s.partial ? " partial" : "";
  if (s.corpus_detected) {
    const CorpusKeyResult& b = c.keys[static_cast<size_t>(c.best_key)];
    h += "<div id=\"verdict\" class=\"verdict pos" + partial_cls + "\">Corpus verdict: WATERMARKED under " +
         Escape(p.keys[static_cast<size_t>(c.best_key)].name) + " (key <code>" + Escape(b.key_id) +
         "</code>)<small>corpus test log10 p = " + Ff(2, b.holm_log10_p) + " (Holm over " +
         std::to_string(c.keys.size()) + " keys) from " + std::to_string(c.unique_tuples) +
         " unique (context, token) tuples; alpha = " + Fg(6, p.alpha) + "</small></div>\n";
  } else {
    h += "<div id=\"verdict\" class=\"verdict neg" + partial_cls +
         "\">Corpus verdict: no watermark detected<small>no key reaches alpha = " + Fg(6, p.alpha) +
         " in the corpus test (" + std::to_string(c.unique_tuples) + " unique tuples)</small></div>\n";
  }
  if (s.partial) h += "<p><b>PARTIAL scan</b>: " + Escape(s.stop_reason) + ". Counts cover what was read.</p>\n";
  h += "<h2>Documents</h2><table><tr><th>read</th><th>skipped</th><th>failed</th><th>detected</th><th>tokens</th>"
       "<th>bytes</th></tr><tr><td class=\"num\">" + std::to_string(s.documents) + "</td><td class=\"num\">" +
       std::to_string(s.skipped) + "</td><td class=\"num\">" + std::to_string(s.failed) + "</td><td class=\"num\">" +
       std::to_string(s.detected) + "</td><td class=\"num\">" + std::to_string(s.tokens) + "</td><td class=\"num\">" +
       std::to_string(s.bytes) + "</td></tr></table>\n";
  h += "<h2>Keys</h2><table id=\"keys\"><tr><th>key id</th><th>name</th><th>documents detected</th>"
       "<th>corpus score</th><th>corpus log10 p</th><th>Holm log10 p</th><th>corpus verdict</th></tr>";
  for (size_t k = 0; k < c.keys.size(); ++k) {
    const CorpusKeyResult& kr = c.keys[k];
    const bool det = c.unique_tuples > 0 && kr.holm_log10_p <= std::log10(p.alpha);
    h += "<tr><td><code>" + Escape(kr.key_id) + "</code></td><td>" + Escape(k < p.keys.size() ? p.keys[k].name : "") +
         "</td><td class=\"num\">" + std::to_string(k < s.detected_per_key.size() ? s.detected_per_key[k] : 0) +
         "</td><td class=\"num\">" + Fg(6, kr.score) + " / " + std::to_string(kr.scored) +
         "</td><td class=\"num\">" + Ff(2, kr.log10_p) + "</td><td class=\"num\">" +
         Ff(2, kr.holm_log10_p) + "</td><td>" + (det ? "<b>DETECTED</b>" : "not detected") + "</td></tr>";
  }
  h += "</table>\n<h2>Per-document p-values</h2><div class=\"plots\"><figure>" + Histogram(log10_p_) +
       "<figcaption>Histogram of per-document p-values (" + std::to_string(log10_p_.size()) +
       " documents). Under the null they are uniform (or larger: discrete tests are conservative).</figcaption>"
       "</figure><figure>" +
       QqPlot(log10_p_) +
       "<figcaption>QQ plot against the uniform: points far above the diagonal are documents that carry a "
       "watermark.</figcaption></figure></div>\n";
  h += "<h2>Top documents</h2><p class=\"legend\"><span class=\"g\">green (scored, favoured by the key)</span>"
       "<span class=\"r\">red (scored)</span><span class=\"d\">repeated tuple</span><span class=\"n\">not scored"
       "</span></p>\n";
  for (const DocumentResult& r : best_) {
    const KeyInfo* k = r.best_key >= 0 && static_cast<size_t>(r.best_key) < p.keys.size()
                           ? &p.keys[static_cast<size_t>(r.best_key)] : nullptr;
    h += "<div class=\"doc\"><h3>#" + std::to_string(r.index) + " " + Escape(r.source) +
         (r.line ? ":" + std::to_string(r.line) : std::string()) + " &mdash; log10 p " +
         Ff(2, r.decision_log10_p) + (r.detected ? " DETECTED" : "") + ", key " +
         (k ? Escape(k->name) + " <code>" + Escape(k->key_id.substr(0, 16)) + "</code>" : std::string("-")) +
         ", " + std::to_string(r.scored) + " of " + std::to_string(r.tokens) + " tokens scored</h3>";
    if (r.token_view.empty() && !r.text.empty()) {
      h += "<div class=\"text\">" + Escape(r.text) + "</div></div>\n";
    } else {
      h += "<div class=\"text\">" + TokenText(r) + "</div></div>\n";
    }
  }
  h += "<h2>Parameters</h2><table id=\"params\">";
  auto row = [&](const std::string& k, const std::string& v) {
    h += "<tr><th>" + Escape(k) + "</th><td>" + Escape(v) + "</td></tr>";
  };
  row("scheme", p.scheme);
  row("dedup", "context+token (per document; global in the corpus test)");
  row("alpha", Fg(6, p.alpha));
  row("normalization", p.normalization);
  row("tokenizer", p.tokenizer);
  row("window search", p.window ? "on, min window " + std::to_string(p.min_window) : "off");
  for (const KeyInfo& k : p.keys) row("key " + k.name, k.key_id);
  for (const std::string& in : p.inputs) row("input", in);
  h += "</table>\n</body></html>\n";
  return h;
}

}  // namespace telltale::scan
