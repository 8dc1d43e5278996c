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

}  // namespace
}  // namespace taco
