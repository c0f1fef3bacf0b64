#include "scan/input/document_source.h"

#include <gtest/gtest.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "scan/input/path_glob.h"
#include "scan/input/tests/compress_helpers.h"
#include "scan/input/tests/test_files.h"

namespace telltale::scan {
namespace {

std::vector<std::string> Texts(const std::vector<InputItem>& items) {
  std::vector<std::string> out;
  for (const InputItem& i : items) {
    if (i.kind == ItemKind::kDocument) out.push_back(i.text);
  }
  return out;
}

InputOptions For(const std::string& path, InputFormat format = InputFormat::kAuto, std::string field = "text") {
  InputOptions o;
  o.paths = {path};
  o.format = format;
  o.field = std::move(field);
  return o;
}

// Scale-out partitions (docs/dask.md): line-aligned byte ranges of one file
// together yield exactly the whole file's documents, line numbers counting
// from each range start; a compressed file cannot be read by range.
TEST(DocumentSourceTest, ByteRangesPartitionALinesFile) {
  TempDir dir;
  const std::string body = "one\ntwo\n\nthree\nfour\n";
  dir.Write("a.txt", body);
  dir.Write("z.jsonl", Gzip("{\"text\":\"x\"}\n"));
  InputOptions whole = For(dir.path() + "/a.txt", InputFormat::kLines);
  std::vector<std::string> all = Texts(ReadAll(whole));
  ASSERT_EQ(all, (std::vector<std::string>{"one", "two", "three", "four"}));
  std::vector<std::string> joined;
  const uint64_t cuts[] = {0, 4, 9, body.size()};  // after "one\n" and "two\n\n"
  for (int i = 0; i < 3; ++i) {
    InputOptions o = whole;
    o.range_begin = cuts[i];
    o.range_end = cuts[i + 1];
    auto items = ReadAll(o);
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items[0].line, 1u);
    for (const std::string& t : Texts(items)) joined.push_back(t);
  }
  EXPECT_EQ(joined, all);
  InputOptions gz = For(dir.path() + "/z.jsonl");
  gz.range_begin = 1;
  auto items = ReadAll(gz);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, ItemKind::kError);
  EXPECT_NE(items[0].reason.find("byte range cannot be read from a gzip file"), std::string::npos);
  InputOptions bad = whole;
  bad.range_begin = 5;
  bad.range_end = 4;
  EXPECT_FALSE(DocumentSource::Open(bad).ok());
}

TEST(DocumentSourceTest, ReadsPlainTextFilesInSortedOrder) {
  TempDir dir;
  dir.Write("b.txt", "second");
  dir.Write("a.txt", "first");
  dir.Write("sub/c.txt", "third");
  dir.Write("B.txt", "upper sorts first");
  auto items = ReadAll(For(dir.path()));
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(Texts(items), (std::vector<std::string>{"upper sorts first", "first", "second", "third"}));
  EXPECT_EQ(items[1].source, dir.path() + "/a.txt");
  EXPECT_EQ(items[3].source, dir.path() + "/sub/c.txt");
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].index, i);
    EXPECT_EQ(items[i].kind, ItemKind::kDocument);
    EXPECT_EQ(items[i].line, 0u);
  }
  EXPECT_EQ(items[1].input_bytes, 5u);
}

TEST(DocumentSourceTest, OrderIsDeterministicAndProgressIsCounted) {
  TempDir dir;
  for (int i = 30; i-- > 0;) {
    std::string rel = "d";
    rel += std::to_string(i % 4);
    rel += "/f";
    rel += std::to_string(i);
    rel += ".txt";
    dir.Write(rel, std::to_string(i));
  }
  auto first = ReadAll(For(dir.path()));
  auto second = ReadAll(For(dir.path()));
  ASSERT_EQ(first.size(), 30u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].source, second[i].source);
    if (i > 0) {
      EXPECT_LT(first[i - 1].source, first[i].source);
    }
  }
  auto src = DocumentSource::Open(For(dir.path()));
  ASSERT_TRUE(src.ok());
  uint64_t expect = 0;
  for (int i = 0; i < 30; ++i) expect += std::to_string(i).size();
  EXPECT_EQ((*src)->total_bytes_hint(), expect);
  InputItem item;
  while (*(*src)->Next(&item)) {
  }
  EXPECT_EQ((*src)->disk_bytes_read(), expect);
}

TEST(DocumentSourceTest, LinesFormatSkipsEmptyLinesAndStripsCrlf) {
  TempDir dir;
  std::string f = dir.Write("a.txt", "one\r\n\ntwo\nthree");
  auto items = ReadAll(For(f, InputFormat::kLines));
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].text, "one");
  EXPECT_EQ(items[0].line, 1u);
  EXPECT_EQ(items[0].input_bytes, 5u);
  EXPECT_EQ(items[1].kind, ItemKind::kSkipped);
  EXPECT_EQ(items[1].line, 2u);
  EXPECT_EQ(items[2].text, "two");
  EXPECT_EQ(items[2].line, 3u);
  EXPECT_EQ(items[3].text, "three");
  EXPECT_EQ(items[3].line, 4u);
}

TEST(DocumentSourceTest, JsonlFieldsNestedTypedAndBroken) {
  TempDir dir;
  std::string f = dir.Write("x.jsonl",
                            "{\"text\": \"plain\", \"meta\": {\"body\": \"nested\"}}\n"
                            "{\"text\": 17}\n"
                            "{\"text\": null}\n"
                            "{\"other\": \"x\"}\n"
                            "{\"text\": \"unterminated}\n"
                            "\n"
                            "{\"text\": \"caf\\u00e9 \\ud83d\\ude00\"}\r\n"
                            "{\"text\": [\"a\"]}\n"
                            "{\"text\": \"bad \xff utf8\"}\n"
                            "\"just a string\"\n"
                            "{\"text\": \"\"}\n"
                            "{\"text\": \"last\"}");
  auto items = ReadAll(For(f));
  ASSERT_EQ(items.size(), 12u);
  EXPECT_EQ(items[0].text, "plain");
  EXPECT_EQ(items[0].line, 1u);
  EXPECT_EQ(items[1].kind, ItemKind::kError);
  EXPECT_EQ(items[1].reason, "field 'text' is a number, not a string");
  EXPECT_EQ(items[2].kind, ItemKind::kSkipped);
  EXPECT_EQ(items[2].reason, "field 'text' is null");
  EXPECT_EQ(items[3].kind, ItemKind::kError);
  EXPECT_EQ(items[3].reason, "no field 'text'");
  EXPECT_EQ(items[4].kind, ItemKind::kError);
  EXPECT_NE(items[4].reason.find("JSON parse error at byte"), std::string::npos) << items[4].reason;
  EXPECT_EQ(items[4].line, 5u);
  EXPECT_EQ(items[5].kind, ItemKind::kSkipped);
  EXPECT_EQ(items[6].text, "caf\u00e9 \U0001F600");
  EXPECT_EQ(items[7].reason, "field 'text' is an array, not a string");
  EXPECT_EQ(items[8].kind, ItemKind::kError);
  EXPECT_NE(items[8].reason.find("UTF-8"), std::string::npos) << items[8].reason;
  EXPECT_EQ(items[9].kind, ItemKind::kError);
  EXPECT_NE(items[9].reason.find("not an object"), std::string::npos) << items[9].reason;
  EXPECT_EQ(items[10].kind, ItemKind::kSkipped);
  EXPECT_EQ(items[11].text, "last");
  EXPECT_EQ(items[11].line, 12u);
  for (const InputItem& i : items) EXPECT_EQ(i.source, f);

  auto nested = ReadAll(For(f, InputFormat::kJsonl, "meta.body"));
  EXPECT_EQ(nested[0].text, "nested");
  std::string g = dir.Write("chat.ndjson",
                            "{\"messages\": [{\"content\": \"sys\"}, {\"content\": \"user turn\"}]}\n"
                            "{\"messages\": [{\"content\": \"only\"}]}\n"
                            "{\"messages\": \"flat\"}\n"
                            "{\"messages\": {\"1\": {\"content\": \"key named 1\"}}}\n");
  auto chat = ReadAll(For(g, InputFormat::kAuto, "messages.1.content"));
  ASSERT_EQ(chat.size(), 4u);
  EXPECT_EQ(chat[0].text, "user turn");
  EXPECT_EQ(chat[1].reason, "no field 'messages.1.content'");
  EXPECT_EQ(chat[2].reason, "no field 'messages.1.content' ('messages' is a string)");
  EXPECT_EQ(chat[3].text, "key named 1");
}

TEST(DocumentSourceTest, CsvQuotingHeaderAndColumns) {
  TempDir dir;
  std::string csv =
      "id,text,lang\r\n"
      "1,hello,en\r\n"
      "2,\"a, quoted \"\"field\"\"\nspanning lines\",en\n"
      "3,,en\n"
      "\n"
      "4\n"
      "5,\"bad\"x,en\n"
      "6,after bad,en\n"
      "7,\"unterminated,en\n";
  std::string f = dir.Write("t.csv", csv);
  auto items = ReadAll(For(f));
  ASSERT_EQ(items.size(), 8u);
  EXPECT_EQ(items[0].text, "hello");
  EXPECT_EQ(items[0].line, 2u);
  EXPECT_EQ(items[1].text, "a, quoted \"field\"\nspanning lines");
  EXPECT_EQ(items[1].line, 3u);
  EXPECT_EQ(items[2].kind, ItemKind::kSkipped);
  EXPECT_EQ(items[2].line, 5u);
  EXPECT_EQ(items[3].kind, ItemKind::kSkipped);  // empty line 6
  EXPECT_EQ(items[4].kind, ItemKind::kError);    // "4" has one field
  EXPECT_EQ(items[4].line, 7u);
  EXPECT_EQ(items[4].reason, "record has 1 fields; column 2 is missing");
  EXPECT_EQ(items[5].kind, ItemKind::kError);
  EXPECT_NE(items[5].reason.find("after the closing quote"), std::string::npos);
  EXPECT_EQ(items[6].text, "after bad");
  EXPECT_EQ(items[6].line, 9u);
  // The unterminated last record swallows the rest of the file: one error.
  EXPECT_EQ(items[7].kind, ItemKind::kError);
  EXPECT_EQ(items[7].line, 10u);
  auto by_index = ReadAll(For(f, InputFormat::kCsv, "3"));
  EXPECT_EQ(by_index[0].text, "en");
  auto missing = ReadAll(For(f, InputFormat::kCsv, "body"));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].kind, ItemKind::kError);
  EXPECT_EQ(missing[0].reason, "no column 'body' in the header (columns: 'id', 'text', 'lang'); file skipped");

  std::string bom = dir.Write("bom.csv", "\xEF\xBB\xBFtext,id\nwith bom,1\n");
  EXPECT_EQ(Texts(ReadAll(For(bom))), (std::vector<std::string>{"with bom"}));
  std::string tsv = dir.Write("t.tsv", "text\tn\n\"tab\tinside\"\t1\nplain\t2\n");
  EXPECT_EQ(Texts(ReadAll(For(tsv))), (std::vector<std::string>{"tab\tinside", "plain"}));
  std::string unterminated = dir.Write("u.csv", "text\n\"never closed\nstill\n");
  auto u = ReadAll(For(unterminated));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].kind, ItemKind::kError);
  EXPECT_EQ(u[0].line, 2u);
  EXPECT_NE(u[0].reason.find("unterminated quoted field"), std::string::npos);
}

TEST(DocumentSourceTest, CompressionIsDetectedByMagicBytes) {
  TempDir dir;
  std::string jsonl;
  for (int i = 0; i < 2000; ++i) jsonl += "{\"text\": \"document number " + std::to_string(i) + "\"}\n";
  dir.Write("a.jsonl.gz", Gzip(jsonl));
  dir.Write("b.jsonl.zst", Zstd(jsonl));
  dir.Write("c.jsonl.xz", Xz(jsonl));
  dir.Write("d.jsonl", Gzip(jsonl));         // gzip without the extension
  dir.Write("e.jsonl.gz", jsonl);            // plain despite the extension
  auto items = ReadAll(For(dir.path()));
  for (const InputItem& i : items) {
    if (i.kind != ItemKind::kDocument) ADD_FAILURE() << i.source << ":" << i.line << ": " << i.reason;
  }
  ASSERT_EQ(items.size(), 10000u);
  for (size_t i = 0; i < items.size(); ++i) {
    ASSERT_EQ(items[i].kind, ItemKind::kDocument) << items[i].source << ": " << items[i].reason;
    ASSERT_EQ(items[i].text, "document number " + std::to_string(i % 2000));
    ASSERT_EQ(items[i].line, i % 2000 + 1);
  }
}

TEST(DocumentSourceTest, ConcatenatedMembersAndFramesAreAllRead) {
  TempDir dir;
  dir.Write("g.txt", Gzip("first member\n") + Gzip("second member\n"));
  dir.Write("z.txt", Zstd("first frame\n") + Zstd("second frame\n"));
  dir.Write("x.txt", Xz("first stream\n") + Xz("second stream\n"));
  dir.Write("y.txt", Gzip("zero padded\n") + std::string(100000, '\0'));
  auto items = ReadAll(For(dir.path(), InputFormat::kLines));
  EXPECT_EQ(Texts(items), (std::vector<std::string>{"first member", "second member", "first stream",
                                                    "second stream", "zero padded", "first frame",
                                                    "second frame"}));
}

TEST(DocumentSourceTest, TruncatedAndCorruptStreamsKeepEarlierDocumentsAndContinue) {
  std::string lines;
  for (int i = 0; i < 20000; ++i) lines += "line " + std::to_string(i) + " with some filler text to compress\n";
  struct Case { const char* name; std::string data; const char* reason; };
  std::string gz = Gzip(lines), zs = Zstd(lines), xz = Xz(lines);
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x55;
  const std::vector<Case> cases = {
      {"a.gz", gz.substr(0, gz.size() / 2), "truncated gzip stream"},
      {"b.zst", zs.substr(0, zs.size() / 2), "truncated zstd stream"},
      {"c.xz", xz.substr(0, xz.size() / 2), "truncated xz stream"},
      {"d.gz", corrupt, "gzip"},
      {"e.gz", gz + "junk!", "trailing garbage"},
      {"f.gz", gz.substr(0, 5), "truncated gzip stream"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    std::string bad = dir.Write(c.name, c.data);
    dir.Write("z_next.txt", "next file\n");
    auto items = ReadAll(For(dir.path(), InputFormat::kLines));
    ASSERT_GE(items.size(), 2u) << c.name;
    const InputItem& err = items[items.size() - 2];
    EXPECT_EQ(err.kind, ItemKind::kError) << c.name;
    EXPECT_EQ(err.source, bad);
    EXPECT_NE(err.reason.find(c.reason), std::string::npos) << c.name << ": " << err.reason;
    EXPECT_EQ(items.back().text, "next file") << c.name;
    size_t docs = items.size() - 2;
    if (std::string(c.name) == "d.gz") {
      continue;  // deflate may only notice at the CRC: lines before it can be damaged
    }
    if (std::string(c.name) == "e.gz") {
      EXPECT_EQ(docs, 20000u);  // all of the member, then the garbage error
    } else if (std::string(c.name) != "f.gz") {
      EXPECT_GT(docs, 1000u) << c.name << ": documents before the damage are kept";
      EXPECT_LT(docs, 20000u) << c.name;
      EXPECT_EQ(err.line, docs + 1) << c.name;
    }
    for (size_t i = 0; i < docs; ++i) {
      ASSERT_EQ(items[i].text, "line " + std::to_string(i) + " with some filler text to compress");
    }
  }
}

TEST(DocumentSourceTest, OversizedDocumentsAreOneErrorEach) {
  TempDir dir;
  InputOptions o = For(dir.path());
  o.max_document_bytes = 20;
  dir.Write("a.txt", "0123456789");
  dir.Write("b.txt", "0123456789ABCDEF0123456789");
  dir.Write("c.jsonl", "{\"text\": \"a\"}\n" + std::string(100000, ' ') + "\n{\"text\": \"b\"}\n");
  dir.Write("d.csv", "text\n\"" + std::string(50, 'x') + "\"\nok\n");
  auto items = ReadAll(o);
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[0].text, "0123456789");
  EXPECT_EQ(items[1].kind, ItemKind::kError);
  EXPECT_EQ(items[1].reason, "document of 26 bytes exceeds max_document_bytes (20); skipped");
  EXPECT_EQ(items[2].text, "a");
  EXPECT_EQ(items[3].kind, ItemKind::kError);
  EXPECT_EQ(items[3].line, 2u);
  EXPECT_EQ(items[3].reason, "line document of 100000 bytes exceeds max_document_bytes (20); skipped");
  EXPECT_EQ(items[3].input_bytes, 100001u);
  EXPECT_EQ(items[4].text, "b");
  EXPECT_EQ(items[4].line, 3u);
  EXPECT_EQ(items[5].kind, ItemKind::kError);
  EXPECT_EQ(items[6].text, "ok");
  EXPECT_EQ(items[6].line, 3u);
}

TEST(DocumentSourceTest, StdinIsReadAsOneDocumentOrLines) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int saved = ::dup(0);
  ::dup2(fds[0], 0);
  ::close(fds[0]);
  std::thread writer([&] {
    std::string data = Gzip("from stdin\nsecond\n");
    ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::close(fds[1]);
  });
  InputOptions o = For("-", InputFormat::kLines);
  auto items = ReadAll(o);
  writer.join();
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].source, "-");
  EXPECT_EQ(items[0].text, "from stdin");
  EXPECT_EQ(items[1].text, "second");
}

TEST(DocumentSourceTest, GlobsIncludeAndExcludeRelativePaths) {
  TempDir dir;
  dir.Write("keep.jsonl", "{\"text\": \"k1\"}\n");
  dir.Write("notes.txt", "txt");
  dir.Write("sub/deep/keep2.jsonl", "{\"text\": \"k2\"}\n");
  dir.Write("sub/skip/keep3.jsonl", "{\"text\": \"k3\"}\n");
  dir.Write("sub/x.jsonl.gz", Gzip("{\"text\": \"k4\"}\n"));
  InputOptions o = For(dir.path());
  o.include_globs = {"*.jsonl", "*.jsonl.gz"};
  o.exclude_globs = {"sub/skip"};
  EXPECT_EQ(Texts(ReadAll(o)), (std::vector<std::string>{"k1", "k2", "k4"}));
  o.include_globs = {"sub/**/*.jsonl"};
  o.exclude_globs = {};
  EXPECT_EQ(Texts(ReadAll(o)), (std::vector<std::string>{"k2", "k3"}));
  o.include_globs = {"**/keep?.json[l]"};
  o.exclude_globs = {"**/deep/**"};
  EXPECT_EQ(Texts(ReadAll(o)), (std::vector<std::string>{"k3"}));
}

TEST(PathGlobTest, Syntax) {
  auto m = [](const char* p, const char* t) { return PathGlob::Compile(p)->Matches(t); };
  EXPECT_TRUE(m("*.txt", "a/b/c.txt"));
  EXPECT_FALSE(m("a/*.txt", "a/b/c.txt"));
  EXPECT_TRUE(m("a/**/c.txt", "a/c.txt"));
  EXPECT_TRUE(m("a/**/c.txt", "a/b/d/c.txt"));
  EXPECT_TRUE(m("a/**", "a/b/c"));
  EXPECT_TRUE(m("**/c.txt", "c.txt"));
  EXPECT_TRUE(m("?.txt", "\u00e9.txt"));
  EXPECT_FALSE(m("a?b", "a/b"));
  EXPECT_TRUE(m("[a-c]x", "bx"));
  EXPECT_FALSE(m("[!a-c]x", "bx"));
  EXPECT_TRUE(m("[^a-c]x", "dx"));
  EXPECT_TRUE(m("[]]", "]"));
  EXPECT_TRUE(m("\\*", "*"));
  EXPECT_FALSE(m("\\*", "a"));
  EXPECT_TRUE(m("./dir/*.csv", "dir/x.csv"));
  EXPECT_TRUE(m("data*2024*.jsonl", "data-01-2024-x.jsonl"));
  EXPECT_FALSE(PathGlob::Compile("[abc").ok());
  EXPECT_FALSE(PathGlob::Compile("abc\\").ok());
  EXPECT_FALSE(PathGlob::Compile("").ok());
}

TEST(DocumentSourceTest, MissingUnreadableAndLoopingPathsAreItems) {
  TempDir dir;
  dir.Write("tree/a.txt", "a");
  ASSERT_EQ(::symlink("..", (dir.path() + "/tree/loop").c_str()), 0);
  ASSERT_EQ(::symlink("nowhere", (dir.path() + "/tree/broken").c_str()), 0);
  InputOptions o;
  o.paths = {dir.path() + "/tree", dir.path() + "/missing.txt"};
  auto items = ReadAll(o);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].text, "a");
  EXPECT_EQ(items[1].kind, ItemKind::kError);
  EXPECT_EQ(items[1].source, dir.path() + "/tree/broken");
  EXPECT_EQ(items[1].reason, "cannot open: No such file or directory");
  // tree/loop -> .. is the temp dir: walked once, its "tree" is then a loop.
  EXPECT_EQ(items[2].kind, ItemKind::kSkipped);
  EXPECT_NE(items[2].reason.find("already visited"), std::string::npos);
  EXPECT_EQ(items[3].kind, ItemKind::kError);
  EXPECT_EQ(items[3].source, dir.path() + "/missing.txt");
}

// Reads `o` as an unprivileged user: directly when not root, else in a
// forked child that drops to uid/gid 65534 (root would read any file). The
// items come back as "kind|source|reason|text" lines through a pipe.
std::vector<std::string> ReadAllUnprivileged(const InputOptions& o) {
  auto describe = [](const std::vector<InputItem>& items) {
    std::vector<std::string> out;
    for (const InputItem& i : items) {
      out.push_back(std::to_string(static_cast<int>(i.kind)) + "|" + i.source + "|" + i.reason + "|" + i.text);
    }
    return out;
  };
  if (::geteuid() != 0) return describe(ReadAll(o));
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      ::_exit(3);
    }
    std::string all;
    auto src = DocumentSource::Open(o);
    if (!src.ok()) ::_exit(4);
    InputItem item;
    for (;;) {
      auto r = (*src)->Next(&item);
      if (!r.ok()) ::_exit(5);
      if (!*r) break;
      all += describe({item})[0] + "\n";
    }
    ssize_t w = ::write(fds[1], all.data(), all.size());
    ::_exit(w == static_cast<ssize_t>(all.size()) ? 0 : 6);
  }
  ::close(fds[1]);
  std::string all;
  char buf[4096];
  ssize_t r;
  while ((r = ::read(fds[0], buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(r));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::vector<std::string> out;
  size_t start = 0;
  while (start < all.size()) {
    size_t nl = all.find('\n', start);
    out.push_back(all.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST(DocumentSourceTest, PermissionDeniedFilesAndDirectoriesAreErrors) {
  TempDir dir;
  dir.Write("a/locked.txt", "secret");
  dir.Write("b/inside.txt", "hidden");
  dir.Write("c.txt", "visible");
  for (const char* d : {"", "/a", "/b"}) ASSERT_EQ(::chmod((dir.path() + d).c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir.path() + "/c.txt").c_str(), 0644), 0);
  ASSERT_EQ(::chmod((dir.path() + "/a/locked.txt").c_str(), 0), 0);
  ASSERT_EQ(::chmod((dir.path() + "/b").c_str(), 0), 0);
  auto items = ReadAllUnprivileged(For(dir.path()));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], "2|" + dir.path() + "/a/locked.txt|cannot open: Permission denied|");
  EXPECT_EQ(items[1], "2|" + dir.path() + "/b|cannot read directory: Permission denied|");
  EXPECT_EQ(items[2], "0|" + dir.path() + "/c.txt||visible");
}

TEST(DocumentSourceTest, EmptyFilesAreSkippedNotDropped) {
  TempDir dir;
  dir.Write("a.txt", "");
  dir.Write("b.jsonl", "");
  dir.Write("c.csv", "");
  auto items = ReadAll(For(dir.path()));
  ASSERT_EQ(items.size(), 2u);  // an empty JSONL file has no lines
  EXPECT_EQ(items[0].kind, ItemKind::kSkipped);
  EXPECT_EQ(items[0].reason, "empty file");
  EXPECT_EQ(items[1].kind, ItemKind::kSkipped);
}

TEST(DocumentSourceTest, BadOptionsFailOpen) {
  InputOptions o;
  EXPECT_FALSE(DocumentSource::Open(o).ok());
  o.paths = {"-", "-"};
  EXPECT_FALSE(DocumentSource::Open(o).ok());
  o.paths = {"x"};
  o.include_globs = {"[oops"};
  EXPECT_FALSE(DocumentSource::Open(o).ok());
  o.include_globs = {};
  o.max_document_bytes = 0;
  EXPECT_FALSE(DocumentSource::Open(o).ok());
  o.max_document_bytes = 100;
  o.field = "a..b";
  EXPECT_FALSE(DocumentSource::Open(o).ok());
  o.format = InputFormat::kCsv;
  EXPECT_TRUE(DocumentSource::Open(o).ok());
  EXPECT_EQ(*ParseInputFormat("tsv"), InputFormat::kTsv);
  EXPECT_FALSE(ParseInputFormat("xml").ok());
}

}  // namespace
}  // namespace telltale::scan
