#include "crypto/provenance/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <vector>

namespace telltale::provenance {
namespace {

// UTF-8 (already validated by the parser) to UTF-16 code units, for the
// member-name ordering RFC 8785 section 3.2.3 prescribes.
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 6) { cp = c & 0x1f; len = 2; }
    else if ((c >> 4) == 14) { cp = c & 0x0f; len = 3; }
    else { cp = c & 0x07; len = 4; }
    for (size_t k = 1; k < len && i + k < s.size(); ++k) cp = cp << 6 | (static_cast<uint8_t>(s[i + k]) & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

void AppendString(std::string* out, const std::string& s) {
  out->push_back('"');
  for (char ch : s) {
    uint8_t c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      case '\f': *out += "\\f"; break;
      case '\r': *out += "\\r"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

Status AppendValue(std::string* out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: *out += "null"; return Status::Ok();
    case Json::value_t::boolean: *out += v.get<bool>() ? "true" : "false"; return Status::Ok();
    case Json::value_t::string: AppendString(out, v.get_ref<const std::string&>()); return Status::Ok();
    case Json::value_t::number_integer:
      *out += FormatEs6Number(static_cast<double>(v.get<int64_t>()));
      return Status::Ok();
    case Json::value_t::number_unsigned:
      *out += FormatEs6Number(static_cast<double>(v.get<uint64_t>()));
      return Status::Ok();
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d)) return Status::InvalidArgument("JSON canonicalization: NaN and Infinity are not JSON numbers");
      *out += FormatEs6Number(d);
      return Status::Ok();
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& e : v) {
        if (!first) out->push_back(',');
        first = false;
        TT_RETURN_IF_ERROR(AppendValue(out, e));
      }
      out->push_back(']');
      return Status::Ok();
    }
    case Json::value_t::object: {
      std::vector<std::pair<std::u16string, const std::string*>> keys;
      keys.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(ToUtf16(it.key()), &it.key());
      std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      bool first = true;
      for (const auto& [k16, key] : keys) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(out, *key);
        out->push_back(':');
        TT_RETURN_IF_ERROR(AppendValue(out, v.at(*key)));
      }
      out->push_back('}');
      return Status::Ok();
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return Status::InvalidArgument("JSON canonicalization: value has no JSON representation");
}

}  // namespace

std::string FormatEs6Number(double x) {
  if (x == 0) return "0";
  const bool negative = x < 0;
  if (negative) x = -x;
  // Shortest round-trip digits in scientific form: d[.ddd]e(+|-)XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp10);
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // value = 0.digits * 10^n
  std::string out;
  if (negative) out.push_back('-');
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

StatusOr<Json> ParseJsonStrict(std::string_view text, std::string_view what) {
  std::vector<std::set<std::string>> seen;
  std::string duplicate;
  auto cb = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      seen.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      if (!seen.empty()) seen.pop_back();
    } else if (event == Json::parse_event_t::key) {
      if (!seen.empty() && !seen.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  Json value;
  try {
    value = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    std::string msg = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep the reason.
    size_t p = msg.find("] ");
    if (p != std::string::npos) msg = msg.substr(p + 2);
    return Status::InvalidArgument(std::string(what) + ": malformed JSON: " + msg);
  }
  if (!duplicate.empty()) {
    return Status::InvalidArgument(std::string(what) + ": duplicate object member '" + duplicate + "'");
  }
  return value;
}

StatusOr<std::string> CanonicalJson(const Json& value) {
  std::string out;
  TT_RETURN_IF_ERROR(AppendValue(&out, value));
  return out;
}

}  // namespace telltale::provenance
