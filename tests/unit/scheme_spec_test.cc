#include "watermark/scheme_spec.h"

#include <gtest/gtest.h>

namespace telltale {
namespace {

TEST(SchemeSpec, CanonicalStringsRoundTrip) {
  const char* inputs[] = {
      "kgw", "kgw:gamma=0.25,delta=2,h=1,seeding=left", "kgw.v1:seeding=self,h=4,gamma=0.25",
      "kgw:gamma=0.3", "kgw:gamma=0.125,delta=1.5,skip_repeat=true", "unigram", "unigram:gamma=0.5,delta=3",
      "gumbel", "gumbel:h=4,skip_repeat=1", "kgw:gamma=0.00001526", "kgw:gamma=0.99998"};
  for (const char* in : inputs) {
    auto s = SchemeSpec::Parse(in);
    ASSERT_TRUE(s.ok()) << in << ": " << s.status().ToString();
    auto again = SchemeSpec::Parse(s->ToString());
    ASSERT_TRUE(again.ok()) << s->ToString();
    EXPECT_EQ(*again, *s) << in;
    EXPECT_EQ(again->ToString(), s->ToString());
  }
}

TEST(SchemeSpec, DefaultsAreWrittenInFixedOrder) {
  EXPECT_EQ(SchemeSpec::Parse("kgw")->ToString(), "kgw.v1:gamma=0.25,delta=2,h=1,seeding=left,skip_repeat=false");
  EXPECT_EQ(SchemeSpec::Parse("kgw:h=4,delta=2,gamma=0.25")->ToString(),
            "kgw.v1:gamma=0.25,delta=2,h=4,seeding=left,skip_repeat=false");
  EXPECT_EQ(SchemeSpec::Parse("unigram")->ToString(), "unigram.v1:gamma=0.5,delta=2");
  EXPECT_EQ(SchemeSpec::Parse("gumbel")->ToString(), "gumbel.v1:h=1,skip_repeat=false");
}

TEST(SchemeSpec, GammaIsQuantizedTo16BitsAndPrintedShortest) {
  auto s = SchemeSpec::Parse("kgw:gamma=0.3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->gamma_q16, 19661u);  // round(0.3 * 65536)
  EXPECT_EQ(s->ToString().substr(0, 17), "kgw.v1:gamma=0.3,");
  EXPECT_EQ(s->slot_bits(), 16);
  EXPECT_EQ(s->green_threshold(), 19661u);
  EXPECT_EQ(SchemeSpec::Parse("kgw:gamma=0.5")->slot_bits(), 1);
  EXPECT_EQ(SchemeSpec::Parse("kgw:gamma=0.25")->slot_bits(), 2);
  EXPECT_EQ(SchemeSpec::Parse("kgw:gamma=0.75")->slot_bits(), 2);
  EXPECT_EQ(SchemeSpec::Parse("kgw:gamma=0.125")->slot_bits(), 4);
  EXPECT_EQ(SchemeSpec::Parse("kgw:gamma=0.0625")->green_threshold(), 1u);
  EXPECT_EQ(SchemeSpec::Parse("gumbel")->slot_bits(), 32);
  EXPECT_EQ(SchemeSpec::Parse("gumbel")->green_threshold(), 0u);  // no green list, no shift by -16
}

TEST(SchemeSpec, PrfIdentityIgnoresGenerationOnlyKnobs) {
  auto a = SchemeSpec::Parse("kgw:gamma=0.25,delta=2");
  auto b = SchemeSpec::Parse("kgw:gamma=0.25,delta=4,skip_repeat=true");
  auto c = SchemeSpec::Parse("kgw:gamma=0.25,h=2");
  EXPECT_EQ(a->PrfIdentity(), b->PrfIdentity());
  EXPECT_NE(a->PrfIdentity(), c->PrfIdentity());
  EXPECT_EQ(a->PrfIdentity(), "kgw.v1:gamma_q16=16384,h=1,seeding=left");
}

TEST(SchemeSpec, MalformedSpecsNameTheProblem) {
  struct Case {
    const char* spec;
    const char* message_part;
  } cases[] = {
      {"", "unknown scheme ''"},
      {"foo", "unknown scheme 'foo'"},
      {"kgw:", "nothing after ':'"},
      {"kgw:gamma", "expected name=value"},
      {"kgw:gamma=abc", "gamma='abc' is not a finite number"},
      {"kgw:gamma=1.5", "must lie in (0, 1)"},
      {"kgw:gamma=0", "must lie in (0, 1)"},
      {"kgw:gamma=nan", "not a finite number"},
      {"kgw:delta=-1", "delta=-1 must lie in [0, 100]"},
      {"kgw:h=0", "h=0 is outside [1, 16]"},
      {"kgw:h=2.5", "h='2.5' is not an integer"},
      {"kgw:seeding=middle", "seeding='middle' must be left or self"},
      {"kgw:gamma=0.25,gamma=0.5", "given twice"},
      {"kgw:gamma=0.25,", "trailing ','"},
      {"kgw:colour=red", "parameter 'colour' does not apply to kgw"},
      {"unigram:h=2", "parameter 'h' does not apply to unigram"},
      {"gumbel:gamma=0.5", "parameter 'gamma' does not apply to gumbel"},
      {"kgw:skip_repeat=maybe", "must be true or false"},
      {"kgw:seeding=self,h=1,skip_repeat=true", "skip_repeat needs at least one previous context token"},
  };
  for (const Case& c : cases) {
    auto s = SchemeSpec::Parse(c.spec);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.spec;
    EXPECT_NE(s.status().message().find(c.message_part), std::string::npos)
        << c.spec << " -> " << s.status().message();
  }
  auto v2 = SchemeSpec::Parse("kgw.v2:gamma=0.25");
  EXPECT_EQ(v2.status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace telltale
