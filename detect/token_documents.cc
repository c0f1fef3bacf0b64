#include "detect/token_documents.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace telltale {

StatusOr<TokenDocumentReader> TokenDocumentReader::Open(const std::string& path) {
  if (path == "-") return TokenDocumentReader(stdin, "<stdin>");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const std::string why = std::strerror(errno);
    if (errno == ENOENT) return Status::NotFound("token file " + path + ": " + why);
    return Status::PermissionDenied("token file " + path + ": " + why);
  }
  return TokenDocumentReader(f, path);
}

TokenDocumentReader::TokenDocumentReader(TokenDocumentReader&& o) noexcept
    : file_(o.file_), name_(std::move(o.name_)), line_no_(o.line_no_), buf_(o.buf_), cap_(o.cap_) {
  o.file_ = nullptr;
  o.buf_ = nullptr;
  o.cap_ = 0;
}

TokenDocumentReader::~TokenDocumentReader() {
  if (file_ != nullptr && file_ != stdin) std::fclose(file_);
  std::free(buf_);
}

Status TokenDocumentReader::ParseLine(std::string_view line, const std::string& where, TokenDocument* doc) {
  doc->tokens.clear();
  doc->id.clear();
  size_t first = line.find_first_not_of(" \t\r");
  if (first != std::string_view::npos && line[first] == '{') {
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::InvalidArgument(where + ": line starts with '{' but is not valid JSON");
    if (!j.is_object() || !j.contains("tokens")) return Status::InvalidArgument(where + ": JSON object has no \"tokens\" field");
    const auto& arr = j["tokens"];
    if (!arr.is_array()) return Status::InvalidArgument(where + ": \"tokens\" is not an array");
    doc->tokens.reserve(arr.size());
    for (size_t i = 0; i < arr.size(); ++i) {
      const auto& v = arr[i];
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
        return Status::InvalidArgument(where + ": tokens[" + std::to_string(i) + "] = " + v.dump() +
                                       " is not a token id (0..2147483647)");
      }
      doc->tokens.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    if (j.contains("id")) {
      const auto& id = j["id"];
      if (id.is_string()) doc->id = id.get<std::string>();
      else if (id.is_number()) doc->id = id.dump();
      else return Status::InvalidArgument(where + ": \"id\" must be a string or a number");
    }
    return Status::Ok();
  }
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) ++pos;
    if (pos >= line.size()) break;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    int64_t v = -1;
    auto [ptr, ec] = std::from_chars(line.data() + pos, line.data() + end, v);
    if (ec != std::errc() || ptr != line.data() + end || v < 0 || v > INT32_MAX) {
      return Status::InvalidArgument(where + ": column " + std::to_string(pos + 1) + ": '" +
                                     std::string(line.substr(pos, std::min<size_t>(end - pos, 32))) +
                                     "' is not a token id (0..2147483647)");
    }
    doc->tokens.push_back(static_cast<int32_t>(v));
    pos = end;
  }
  return Status::Ok();
}

StatusOr<bool> TokenDocumentReader::Next(TokenDocument* doc) {
  for (;;) {
    errno = 0;
    ssize_t n = ::getline(&buf_, &cap_, file_);
    if (n < 0) {
      if (std::ferror(file_)) return Status::Unavailable("token file " + name_ + ": read error: " + std::strerror(errno));
      return false;
    }
    ++line_no_;
    std::string_view line(buf_, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(name_ + ":" + std::to_string(line_no_) + ": line contains a NUL byte (binary input?)");
    }
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    TT_RETURN_IF_ERROR(ParseLine(line, name_ + ":" + std::to_string(line_no_), doc));
    doc->line = line_no_;
    return true;
  }
}

}  // namespace telltale
