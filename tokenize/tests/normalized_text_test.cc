#include "tokenize/normalized_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace telltale::tokenize {
namespace {

// The general builders, as the normalizers used them before the in-place
// steps: the reference the in-place steps must match byte for byte.
NormalizedText ReplaceByBuilders(const NormalizedText& t, char from, const std::string& to) {
  NormalizedText r;
  r.StartExplicit(t.base());
  const std::string& s = t.text();
  size_t i = 0;
  for (size_t hit = s.find(from); hit != std::string::npos; hit = s.find(from, i)) {
    r.AppendFrom(t, i, hit);
    uint32_t ob, oe;
    t.OrigRange(hit, hit + 1, &ob, &oe);
    r.AppendMapped(to, ob, oe);
    i = hit + 1;
  }
  r.AppendFrom(t, i, s.size());
  return r;
}

NormalizedText PrependByBuilders(const NormalizedText& t, const std::string& prefix) {
  NormalizedText r;
  r.StartExplicit(t.base());
  const uint32_t ob = t.OrigBegin(0);
  r.AppendMapped(prefix, ob, ob);
  r.AppendFrom(t, 0, t.text().size());
  return r;
}

void ExpectSame(const NormalizedText& a, const NormalizedText& b) {
  ASSERT_EQ(a.text(), b.text());
  for (size_t j = 0; j < a.text().size(); ++j) {
    ASSERT_EQ(a.OrigBegin(j), b.OrigBegin(j)) << "byte " << j;
    ASSERT_EQ(a.OrigEnd(j), b.OrigEnd(j)) << "byte " << j;
  }
}

TEST(NormalizedTextTest, InPlaceStepsMatchTheBuilders) {
  const std::string meta = "\xE2\x96\x81";
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::string s(1 + rng() % 40, 'a');
    for (char& c : s) c = "ab  c\n"[rng() % 6];
    NormalizedText t(s, static_cast<uint32_t>(rng() % 100));
    // On identity text, then on explicit text (after a first step), as in
    // Sequence[Prepend, Replace] and Replace alone.
    NormalizedText a = t, b = t;
    if (round % 2 == 0) {
      a.Prepend(meta);
      b = PrependByBuilders(b, meta);
      ExpectSame(a, b);
    }
    const std::string to = round % 3 == 0 ? std::string() : meta;  // deleting a byte too
    NormalizedText c = a;
    c.ReplaceByte(' ', to);
    ExpectSame(c, ReplaceByBuilders(a, ' ', to));
    NormalizedText d = a;
    d.ReplaceByte('x', meta);  // no hit: unchanged
    ExpectSame(d, a);
    // Prepend and replace fused, against the two steps one after the other.
    NormalizedText f = t, g = PrependByBuilders(t, meta);
    f.ReplaceByte(' ', to, meta);
    ExpectSame(f, ReplaceByBuilders(g, ' ', to));
  }
}

}  // namespace
}  // namespace telltale::tokenize
