// TenantPolicy parsing (pure C++, label unit: also runs under ASan/UBSan).
#include <gtest/gtest.h>

#include <string>

#include "watermark/llama/tenant_policy.h"

namespace telltale {
namespace {

TEST(TenantPolicy, DefaultsToNoOptOut) {
  TenantPolicy none;
  EXPECT_FALSE(none.MayOptOut("acme"));
  auto p = TenantPolicy::Parse("telltale-llama-policy v1\n# comment\n\ntenant acme opt_out=allow\n", "p");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->MayOptOut("acme"));
  EXPECT_FALSE(p->MayOptOut("globex"));
  auto q = TenantPolicy::Parse("telltale-llama-policy v1\ndefault opt_out=allow\ntenant globex opt_out=deny\n", "q");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_TRUE(q->MayOptOut("acme"));
  EXPECT_FALSE(q->MayOptOut("globex"));
  EXPECT_FALSE(none.AllowsAnonymous());
  EXPECT_FALSE(q->AllowsAnonymous());
  auto a = TenantPolicy::Parse("telltale-llama-policy v1\nanonymous requests=allow\n", "a");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(a->AllowsAnonymous());
  EXPECT_FALSE(a->MayOptOut("acme"));
  auto d = TenantPolicy::Parse("telltale-llama-policy v1\nanonymous requests=deny\n", "d");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_FALSE(d->AllowsAnonymous());
}

TEST(TenantPolicy, RejectsBadFilesWithLineNumbers) {
  struct Case {
    const char* text;
    const char* fragment;
  } cases[] = {
      {"", "not a policy file"},
      {"telltale-llama-policy v2\n", "not a policy file"},
      {"telltale-llama-policy v1\ntenant acme\n", "p:2: expected 'tenant NAME"},
      {"telltale-llama-policy v1\ntenant acme opt_out=maybe\n", "p:2: expected opt_out=allow"},
      {"telltale-llama-policy v1\ntenant a/../b opt_out=allow\ntenant a\"b opt_out=allow\n", "p:3:"},
      {"telltale-llama-policy v1\ntenant a opt_out=allow\ntenant a opt_out=deny\n", "p:3: second rule"},
      {"telltale-llama-policy v1\ndefault opt_out=allow\ndefault opt_out=deny\n", "p:3: second 'default'"},
      {"telltale-llama-policy v1\nallow acme\n", "p:2: unknown rule 'allow'"},
      {"telltale-llama-policy v1\nanonymous allow\n", "p:2: expected 'anonymous requests=allow|deny'"},
      {"telltale-llama-policy v1\nanonymous requests=allow\nanonymous requests=deny\n", "p:3: second 'anonymous'"},
  };
  for (const auto& c : cases) {
    auto p = TenantPolicy::Parse(c.text, "p");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_NE(p.status().message().find(c.fragment), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace telltale
