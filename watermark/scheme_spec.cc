#include "watermark/scheme_spec.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace telltale {
namespace {

constexpr int kMaxContextWidth = 16;

struct Param {
  std::string_view name, value;
};

Status Bad(std::string_view text, const std::string& why) {
  return Status::InvalidArgument("scheme spec '" + std::string(text) + "': " + why);
}

StatusOr<double> ParseNumber(std::string_view text, const Param& p) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
  if (ec != std::errc() || ptr != p.value.data() + p.value.size() || p.value.empty() || !std::isfinite(v)) {
    return Bad(text, "parameter " + std::string(p.name) + "='" + std::string(p.value) + "' is not a finite number");
  }
  return v;
}

StatusOr<int> ParseInt(std::string_view text, const Param& p, int lo, int hi) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
  if (ec != std::errc() || ptr != p.value.data() + p.value.size() || p.value.empty()) {
    return Bad(text, "parameter " + std::string(p.name) + "='" + std::string(p.value) + "' is not an integer");
  }
  if (v < lo || v > hi) {
    return Bad(text, "parameter " + std::string(p.name) + "=" + std::to_string(v) + " is outside [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

StatusOr<bool> ParseBool(std::string_view text, const Param& p) {
  if (p.value == "true" || p.value == "1") return true;
  if (p.value == "false" || p.value == "0") return false;
  return Bad(text, "parameter " + std::string(p.name) + "='" + std::string(p.value) + "' must be true or false");
}

// Shortest decimal (up to 17 significant digits) that parses back to x.
std::string ShortestDouble(double x) {
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    double back = 0;
    std::from_chars(buf, buf + std::strlen(buf), back);
    if (back == x) break;
  }
  return buf;
}

// Shortest decimal d with round(d * 65536) == q, so "gamma=0.3" survives.
std::string GammaString(uint32_t q) {
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, q / 65536.0);
    double back = 0;
    std::from_chars(buf, buf + std::strlen(buf), back);
    if (std::nearbyint(back * 65536.0) == q) break;
  }
  return buf;
}

}  // namespace

std::string_view SchemeFamilyName(SchemeFamily f) {
  switch (f) {
    case SchemeFamily::kKgw: return "kgw";
    case SchemeFamily::kUnigram: return "unigram";
    case SchemeFamily::kGumbel: return "gumbel";
  }
  return "?";
}

int SchemeSpec::slot_bits() const {
  if (family == SchemeFamily::kGumbel) return 32;
  // G = odd * 2^tz needs 16 - tz bits; round up to a width that divides 128.
  int needed = 16 - std::countr_zero(gamma_q16);
  int bits = 1;
  while (bits < needed) bits *= 2;
  return bits;
}

StatusOr<SchemeSpec> SchemeSpec::Parse(std::string_view text) {
  SchemeSpec s;
  std::string_view head = text, rest;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    head = text.substr(0, colon);
    rest = text.substr(colon + 1);
    if (rest.empty()) return Bad(text, "nothing after ':'");
  }
  std::string_view family = head;
  if (size_t dot = head.find('.'); dot != std::string_view::npos) {
    family = head.substr(0, dot);
    std::string_view ver = head.substr(dot + 1);
    if (ver != "v1") {
      return Status::Unimplemented("scheme spec '" + std::string(text) + "': version '" + std::string(ver) +
                                   "' of " + std::string(family) + " is not known to this build (known: v1)");
    }
  }
  if (family == "kgw") {
    s.family = SchemeFamily::kKgw;
  } else if (family == "unigram") {
    s.family = SchemeFamily::kUnigram;
    s.gamma_q16 = 32768;
    s.h = 0;
  } else if (family == "gumbel") {
    s.family = SchemeFamily::kGumbel;
    s.gamma_q16 = 32768;  // unused by gumbel, fixed so equality is well defined
    s.delta = 0;
  } else {
    return Bad(text, "unknown scheme '" + std::string(family) + "' (known: kgw, unigram, gumbel)");
  }

  std::vector<Param> params;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (comma != std::string_view::npos && rest.empty()) return Bad(text, "trailing ','");
    size_t eq = item.find('=');
    if (item.empty() || eq == std::string_view::npos || eq == 0) {
      return Bad(text, "expected name=value, got '" + std::string(item) + "'");
    }
    Param p{item.substr(0, eq), item.substr(eq + 1)};
    for (const Param& q : params) {
      if (q.name == p.name) return Bad(text, "parameter " + std::string(p.name) + " given twice");
    }
    params.push_back(p);
  }

  const bool is_gumbel = s.family == SchemeFamily::kGumbel;
  const bool is_unigram = s.family == SchemeFamily::kUnigram;
  for (const Param& p : params) {
    if (p.name == "gamma" && !is_gumbel) {
      TT_ASSIGN_OR_RETURN(double g, ParseNumber(text, p));
      double q = std::nearbyint(g * 65536.0);
      if (!(g > 0 && g < 1) || q < 1 || q > 65535) {
        return Bad(text, "gamma=" + std::string(p.value) + " must lie in (0, 1) and be at least 1/65536 from both ends");
      }
      s.gamma_q16 = static_cast<uint32_t>(q);
    } else if (p.name == "delta" && !is_gumbel) {
      TT_ASSIGN_OR_RETURN(s.delta, ParseNumber(text, p));
      if (s.delta < 0 || s.delta > 100) return Bad(text, "delta=" + std::string(p.value) + " must lie in [0, 100]");
    } else if (p.name == "h" && !is_unigram) {
      TT_ASSIGN_OR_RETURN(s.h, ParseInt(text, p, 1, kMaxContextWidth));
    } else if (p.name == "seeding" && s.family == SchemeFamily::kKgw) {
      if (p.value == "left") s.seeding = Seeding::kLeft;
      else if (p.value == "self") s.seeding = Seeding::kSelf;
      else return Bad(text, "seeding='" + std::string(p.value) + "' must be left or self");
    } else if (p.name == "skip_repeat" && !is_unigram) {
      TT_ASSIGN_OR_RETURN(s.skip_repeat, ParseBool(text, p));
    } else {
      return Bad(text, "parameter '" + std::string(p.name) + "' does not apply to " + std::string(family));
    }
  }
  if (s.skip_repeat && s.family == SchemeFamily::kKgw && s.seeding == Seeding::kSelf && s.h < 2) {
    return Bad(text, "skip_repeat needs at least one previous context token (self seeding with h >= 2)");
  }
  return s;
}

std::string SchemeSpec::ToString() const {
  std::string out(SchemeFamilyName(family));
  out += ".v" + std::to_string(version) + ":";
  switch (family) {
    case SchemeFamily::kKgw:
      out += "gamma=" + GammaString(gamma_q16) + ",delta=" + ShortestDouble(delta) + ",h=" + std::to_string(h) +
             ",seeding=" + (seeding == Seeding::kLeft ? "left" : "self");
      break;
    case SchemeFamily::kUnigram:
      return out + "gamma=" + GammaString(gamma_q16) + ",delta=" + ShortestDouble(delta);
    case SchemeFamily::kGumbel:
      out += "h=" + std::to_string(h);
      break;
  }
  out += std::string(",skip_repeat=") + (skip_repeat ? "true" : "false");
  return out;
}

std::string SchemeSpec::PrfIdentity() const {
  std::string out(SchemeFamilyName(family));
  out += ".v" + std::to_string(version) + ":";
  switch (family) {
    case SchemeFamily::kKgw:
      out += "gamma_q16=" + std::to_string(gamma_q16) + ",h=" + std::to_string(h) +
             ",seeding=" + (seeding == Seeding::kLeft ? "left" : "self");
      break;
    case SchemeFamily::kUnigram:
      out += "gamma_q16=" + std::to_string(gamma_q16);
      break;
    case SchemeFamily::kGumbel:
      out += "h=" + std::to_string(h);
      break;
  }
  return out;
}

}  // namespace telltale
