// Path helpers that decide where files are looked for.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.h"
#include "util/error.h"
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

// A write that fails after its temporary file exists takes the temporary file away again.
TEST(FilesTest, AFailedAtomicWriteLeavesNoTemporaryFile) {
  test::TempDir dir;
  make_dirs(dir.file("taken"));  // a folder where the file should go: the rename fails
  write_file(dir.file("taken/inside"), "x");
  EXPECT_THROW(write_file_atomic(dir.file("taken"), "bytes"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("taken.tmp")));
  write_file_atomic(dir.file("ok"), "bytes");
  EXPECT_EQ(read_file(dir.file("ok")), "bytes");
  EXPECT_FALSE(std::filesystem::exists(dir.file("ok.tmp")));
}

TEST(FilesTest, OnlyRegularFilesUnderTheRootsAreReadable) {
  test::TempDir dir;
  make_dirs(dir.file("root/sub"));
  write_file(dir.file("root/sub/a.txt"), "a");
  std::filesystem::create_symlink("/etc/hostname", dir.file("root/out"));
  const auto roots = canonical_roots({dir.file("root")});
  EXPECT_NE(path_under_roots(dir.file("root/sub/a.txt"), roots), "");
  EXPECT_NE(path_under_roots(dir.file("root/sub/../sub/a.txt"), roots), "");
  EXPECT_EQ(path_under_roots(dir.file("root/../root2/a.txt"), roots), "");
  EXPECT_EQ(path_under_roots(dir.file("root/out"), roots), "") << "a link out of the root is outside";
  EXPECT_EQ(path_under_roots(dir.file("rootless"), roots), "") << "a sibling that shares the root's name as a prefix";
  EXPECT_EQ(read_regular_file(dir.file("root/sub/a.txt"), 10), "a");
  EXPECT_THROW(read_regular_file("/dev/zero", 10), Error);
  EXPECT_THROW(read_regular_file(dir.file("root/sub"), 10), Error);
  write_file(dir.file("big"), std::string(100, 'b'));
  EXPECT_THROW(read_regular_file(dir.file("big"), 10), Error);
}

}  // namespace
}  // namespace taco
