// Pins the exact bytes of the PRF, context hashes, slots and detection
// results to the committed golden vectors. A failure here means the
// watermark changed: that needs a new scheme version, not a new vector file.
#include <gtest/gtest.h>

#include "common/file_io.h"
#include "tests/tools/golden_vectors.h"

namespace telltale {
namespace {

TEST(GoldenVectors, CodeMatchesCommittedVectors) {
  auto text = ReadFile(std::string(TELLTALE_SOURCE_DIR) + "/tests/vectors/prf_v1.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json committed = nlohmann::json::parse(*text);
  const nlohmann::json now = MakeGoldenVectors();
  ASSERT_EQ(committed.size(), now.size());
  for (auto it = now.begin(); it != now.end(); ++it) {
    EXPECT_EQ(committed.at(it.key()), it.value()) << "field " << it.key();
  }
}

}  // namespace
}  // namespace telltale
