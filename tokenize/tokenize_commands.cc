// CLI: telltale tokenize --tokenizer FILE [--json] [--decode] [--plain-special] [FILES...|-]
//
// Encode (default): one output line per input file: space-separated ids, or
// with --json a JSON Lines record {"type":"tokens","data":{"path":...,
// "ids":[...],"offsets":[[b,e],...]}} whose offsets are byte ranges of the
// input file. Decode (--decode): each input line holds whitespace-separated
// ids (or a JSON object with an "ids" or "tokens" array); the decoded bytes
// are written, one line per input line.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_command.h"
#include "common/file_io.h"
#include "tokenize/tokenizer.h"

namespace telltale {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool json = false;
  bool decode = false;
  bool plain_special = false;
  std::vector<std::string> files;
};

Status WriteAll(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) return Status::Unavailable("write to stdout failed");
  return Status::Ok();
}

StatusOr<std::vector<uint32_t>> ParseIdLine(const std::string& line, const std::string& where) {
  std::vector<uint32_t> ids;
  size_t first = line.find_first_not_of(" \t\r");
  if (first != std::string::npos && line[first] == '{') {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(where + ": not valid JSON");
    const char* key = j.contains("ids") ? "ids" : "tokens";
    if (!j.contains(key) || !j[key].is_array()) return Status::InvalidArgument(where + ": no \"ids\" or \"tokens\" array");
    for (const auto& v : j[key]) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX) {
        return Status::InvalidArgument(where + ": ids must be non-negative integers");
      }
      ids.push_back(v.get<uint32_t>());
    }
    return ids;
  }
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    if (word.size() > 10 || word.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(word) > UINT32_MAX) {
      return Status::InvalidArgument(where + ": \"" + word + "\" is not a token id");
    }
    ids.push_back(static_cast<uint32_t>(std::stoul(word)));
  }
  return ids;
}

StatusOr<int> RunTokenize(const TokenizeArgs& args) {
  TT_ASSIGN_OR_RETURN(auto tok, tokenize::Tokenizer::Load(args.tokenizer));
  std::vector<std::string> files = args.files;
  if (files.empty()) files.push_back("-");
  for (const std::string& path : files) {
    TT_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    const std::string name = path == "-" ? "<stdin>" : path;
    if (args.decode) {
      size_t line_no = 0;
      for (size_t i = 0; i < data.size();) {
        size_t nl = data.find('\n', i);
        if (nl == std::string::npos) nl = data.size();
        std::string line = data.substr(i, nl - i);
        i = nl + 1;
        ++line_no;
        const std::string where = name + ":" + std::to_string(line_no);
        TT_ASSIGN_OR_RETURN(std::vector<uint32_t> ids, ParseIdLine(line, where));
        auto text = tok->Decode(ids);
        if (!text.ok()) return text.status().WithContext(where);
        TT_RETURN_IF_ERROR(WriteAll(*text + "\n"));
      }
      continue;
    }
    tokenize::EncodeOptions opts;
    opts.match_special = !args.plain_special;
    auto enc = tok->Encode(data, opts);
    if (!enc.ok()) return enc.status().WithContext(name);
    std::string out;
    if (args.json) {
      nlohmann::json rec;
      rec["type"] = "tokens";
      rec["data"]["path"] = name;
      rec["data"]["ids"] = enc->ids;
      nlohmann::json offsets = nlohmann::json::array();
      for (const auto& o : enc->offsets) offsets.push_back({o.begin, o.end});
      rec["data"]["offsets"] = std::move(offsets);
      out = rec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      for (size_t k = 0; k < enc->ids.size(); ++k) {
        if (k) out.push_back(' ');
        out += std::to_string(enc->ids[k]);
      }
      out.push_back('\n');
    }
    TT_RETURN_IF_ERROR(WriteAll(out));
  }
  std::fflush(stdout);
  return cli::kExitFound;
}

void SetupTokenizeCommands(CLI::App& root, cli::RunResult& result) {
  auto a = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = root.add_subcommand(
      "tokenize", "Tokenize text exactly like a model's tokenizer (tokenizer.json, .tiktoken or GGUF), or decode ids");
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json, <encoding>.tiktoken or .gguf file")->required();
  cmd->add_flag("--json", a->json, "Emit JSON Lines with ids and byte offsets into the input");
  cmd->add_flag("--decode", a->decode, "Decode lines of token ids back to text");
  cmd->add_flag("--plain-special", a->plain_special, "Treat special-token text such as <|endoftext|> as plain text");
  cmd->add_option("files", a->files, "Input files ('-' or none: stdin)");
  cmd->callback([&result, a] { cli::RunCommand(result, [&] { return RunTokenize(*a); }); });
}

}  // namespace
}  // namespace telltale

TELLTALE_REGISTER_CLI(40, telltale::SetupTokenizeCommands);
