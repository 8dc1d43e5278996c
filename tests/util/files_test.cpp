// Path helpers that decide where files are looked for.
#include <gtest/gtest.h>

#include "util/files.h"

namespace taco {
namespace {

TEST(FilesTest, RelativeToRewritesWorkingFolderPaths) {
  EXPECT_EQ(relative_to("bench/world/a.png", "bench"), "world/a.png");
  EXPECT_EQ(relative_to("world/a.png", "out"), "../world/a.png");
  EXPECT_EQ(relative_to("/data/a.png", "bench"), "/data/a.png");
  EXPECT_EQ(relative_to("a.png", ""), "a.png");
}

// Task ids become image folder names: distinct ids, distinct names (once "a/1" and "a_1"
// shared one folder and each episode's images overwrote the other's).
TEST(FilesTest, SafeFileNamesOfDistinctIdsDiffer) {
  EXPECT_EQ(safe_file_name("1-0-most_frequent"), "1-0-most_frequent");  // safe ids keep their name
  EXPECT_EQ(safe_file_name("a_1"), "a_1");
  const std::string slash = safe_file_name("a/1"), space = safe_file_name("a 1");
  EXPECT_EQ(slash.rfind("a_1-", 0), 0u) << slash;
  EXPECT_EQ(slash.size(), 4u + 8u);
  EXPECT_NE(slash, space);
  EXPECT_NE(slash, "a_1");
  EXPECT_EQ(safe_file_name("a/1"), slash);  // the same id, the same name every time
  for (const std::string id : {"", ".", "..", "../etc", "x/../../y"}) {
    const std::string name = safe_file_name(id);
    EXPECT_NE(name, ".");
    EXPECT_NE(name, "..");
    EXPECT_EQ(name.find('/'), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace taco
