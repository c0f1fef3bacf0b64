// scan/input throughput: MB/s of DocumentSource (+ decompression, +
// TextNormalizer) on English JSONL built from datasets/sample/english.txt,
// each as a ratio to a plain fread + memchr line split of the same file
// measured in the same run. Also the normalizer alone on multilingual and on
// homoglyph-attacked text. Single thread; thread CPU time, best of 3 runs
// per row.
//
// Usage: telltale_scan_input_bench [MB of JSONL (default 64)] [english.txt]
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scan/input/document_source.h"
#include "scan/input/text_normalizer.h"

namespace {

using telltale::scan::DocumentSource;
using telltale::scan::InputItem;
using telltale::scan::InputOptions;
using telltale::scan::ItemKind;
using telltale::scan::NormalizeOptions;
using telltale::scan::TextNormalizer;

std::string ReadAllFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteAllFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string Gzip(const std::string& in) {
  z_stream z;
  std::memset(&z, 0, sizeof(z));
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

std::string Xz(const std::string& in) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  size_t pos = 0;
  lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                          reinterpret_cast<uint8_t*>(out.data()), &pos, out.size());
  out.resize(pos);
  return out;
}

// CPU seconds of this thread (best of 3): per-core throughput, which is what
// the targets are stated in, and robust on a shared, oversubscribed machine
// where wall time mostly measures the other tenants.
double ThreadCpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Seconds(const std::function<void()>& fn) {
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    double t0 = ThreadCpu();
    fn();
    double s = ThreadCpu() - t0;
    if (s < best) best = s;
  }
  return best;
}

// The baseline: fread in 64 KiB chunks and count lines with memchr.
size_t FreadMemchr(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  std::vector<char> buf(64 << 10);
  size_t lines = 0, n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    const char* p = buf.data();
    const char* e = p + n;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)))) != nullptr) {
      ++lines;
      ++p;
    }
  }
  std::fclose(f);
  return lines;
}

// Reads every document, optionally normalizing; returns documents seen.
size_t Scan(const std::string& path, const TextNormalizer* norm) {
  InputOptions o;
  o.paths = {path};
  auto src = DocumentSource::Open(o);
  if (!src.ok()) {
    std::fprintf(stderr, "open: %s\n", src.status().ToString().c_str());
    std::exit(2);
  }
  InputItem item;
  telltale::tokenize::NormalizedText out;
  size_t docs = 0, bytes = 0;
  for (;;) {
    auto r = (*src)->Next(&item);
    if (!r.ok() || !*r) break;
    if (item.kind != ItemKind::kDocument) {
      std::fprintf(stderr, "unexpected %s: %s\n", item.source.c_str(), item.reason.c_str());
      std::exit(2);
    }
    ++docs;
    if (norm != nullptr) {
      if (!norm->Apply(item.text, &out).ok()) std::exit(2);
      bytes += out.text().size();
    }
  }
  if (bytes == 1) std::puts("");  // keep the normalizer's work observable
  return docs;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = argc > 1 ? static_cast<size_t>(std::atoi(argv[1])) : 64;
  std::string sample_dir = std::string(TELLTALE_SOURCE_DIR) + "/datasets/sample";
  std::string english = ReadAllFile(argc > 2 ? argv[2] : sample_dir + "/english.txt");
  std::string mixed = ReadAllFile(sample_dir + "/mixed.txt");
  if (english.empty() || mixed.empty()) {
    std::fprintf(stderr, "cannot read the sample corpora under %s\n", sample_dir.c_str());
    return 2;
  }
  std::vector<std::string> paras;
  for (size_t s = 0; s < english.size();) {
    size_t e = english.find("\n\n", s);
    if (e == std::string::npos) e = english.size();
    if (e > s) paras.push_back(english.substr(s, e - s));
    s = e + 2;
  }
  std::string jsonl;
  for (size_t i = 0; jsonl.size() < (mb << 20); ++i) {
    jsonl += nlohmann::json{{"id", i}, {"text", paras[i % paras.size()]}}.dump() + "\n";
  }
  std::string dir = (std::filesystem::temp_directory_path() / "tt_scan_input_bench").string();
  std::filesystem::create_directories(dir);
  const std::string plain = dir + "/en.jsonl";
  WriteAllFile(plain, jsonl);
  WriteAllFile(dir + "/en.jsonl.gz", Gzip(jsonl));
  WriteAllFile(dir + "/en.jsonl.zst", Zstd(jsonl));
  WriteAllFile(dir + "/en.jsonl.xz", Xz(jsonl));
  auto norm = TextNormalizer::Create(NormalizeOptions{});
  if (!norm.ok()) return 2;

  const double mbytes = static_cast<double>(jsonl.size()) / 1e6;
  std::printf("scan/input throughput, one thread, MB per CPU-second, %.1f MB of English JSONL (%zu lines), best of 3\n", mbytes,
              FreadMemchr(plain));
  double base = Seconds([&] { FreadMemchr(plain); });
  std::printf("%-44s %9.1f MB/s  ratio 1.00\n", "baseline fread+memchr line split", mbytes / base);
  struct Row { const char* name; std::string path; bool normalize; };
  const std::vector<Row> rows = {
      {"DocumentSource jsonl", plain, false},
      {"DocumentSource jsonl + normalize", plain, true},
      {"DocumentSource jsonl.gz + normalize", dir + "/en.jsonl.gz", true},
      {"DocumentSource jsonl.zst + normalize", dir + "/en.jsonl.zst", true},
      {"DocumentSource jsonl.xz + normalize", dir + "/en.jsonl.xz", true},
  };
  for (const Row& r : rows) {
    double s = Seconds([&] { Scan(r.path, r.normalize ? &*norm : nullptr); });
    std::printf("%-44s %9.1f MB/s  ratio %.2f\n", r.name, mbytes / s, base / s);
  }
  // The normalizer alone, on text that needs real work.
  telltale::tokenize::NormalizedText out;
  // Worst case: every 'o' Cyrillic and a zero-width space after every 'e'.
  std::string worst;
  for (char c : english) {
    if (c == 'o') {
      worst += "\xD0\xBE";
    } else if (c == 'e') {
      worst += "e\xE2\x80\x8B";
    } else {
      worst += c;
    }
  }
  // The attack: 3 words in 10 get a Cyrillic look-alike for their
  // first a/e/o and a zero-width space after their first letter.
  std::string attacked;
  size_t word = 0;
  for (size_t i = 0; i < english.size();) {
    if (!std::isalpha(static_cast<unsigned char>(english[i]))) {
      attacked += english[i++];
      continue;
    }
    size_t e = i;
    while (e < english.size() && std::isalpha(static_cast<unsigned char>(english[e]))) ++e;
    std::string w = english.substr(i, e - i);
    if (word++ % 10 < 3) {
      size_t k = w.find_first_of("aeo");
      if (k != std::string::npos) {
        const char* cyr = w[k] == 'a' ? "\xD0\xB0" : w[k] == 'e' ? "\xD0\xB5" : "\xD0\xBE";
        w.replace(k, 1, cyr);
      }
      w.insert(1, "\xE2\x80\x8B");
    }
    attacked += w;
    i = e;
  }
  struct NormRow { const char* name; const std::string* text; };
  for (const NormRow& r : {NormRow{"normalize only, English (ASCII fast path)", &english},
                           NormRow{"normalize only, mixed.txt (multilingual)", &mixed},
                           NormRow{"normalize only, English, 30% words attacked", &attacked},
                           NormRow{"normalize only, every o/e attacked (worst)", &worst}}) {
    std::vector<std::string> docs;
    for (size_t s = 0; s < r.text->size();) {
      size_t e = r.text->find("\n\n", s);
      if (e == std::string::npos) e = r.text->size();
      docs.push_back(r.text->substr(s, e - s));
      s = e + 2;
    }
    double s = Seconds([&] {
      for (const std::string& d : docs) {
        if (!norm->Apply(d, &out).ok()) std::exit(2);
      }
    });
    double m = static_cast<double>(r.text->size()) / 1e6;
    std::printf("%-44s %9.1f MB/s  ratio %.2f\n", r.name, m / s, (m / s) / (mbytes / base));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
