#include "util/jsonl.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "util/error.h"
#include "util/files.h"
#include "util/record_writer.h"

namespace taco {
namespace {

TEST(JsonlTest, AppenderCutsATornLastLine) {
  test::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  write_file(path, "{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"id\": \"c\", \"tr");  // killed mid-write
  {
    JsonlAppender out(path);
    out.append(Json{{"id", "d"}});
  }
  std::vector<std::string> ids;
  for_each_jsonl(path, [&](size_t, Json&& j) { ids.push_back(j["id"]); });
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "d"}));
}

// Records appear at their path whole, at close(); a writer abandoned on the way (an exception)
// leaves the path as it was and no temporary file.
TEST(RecordWriterTest, TheFileAppearsWholeOrNotAtAll) {
  test::TempDir dir;
  const std::string path = dir.file("train.json");
  write_file(path, "[\n{\"old\":1}\n]\n");
  {
    RecordWriter out(path);
    out.write(Json{{"new", 1}});
  }
  EXPECT_EQ(read_file(path), "[\n{\"old\":1}\n]\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  {
    RecordWriter out(path);
    out.write(Json{{"new", 1}});
    out.write(Json{{"new", 2}});
    EXPECT_EQ(read_file(path), "[\n{\"old\":1}\n]\n");  // not yet
    out.close();
  }
  EXPECT_EQ(read_file(path), "[\n{\"new\":1},\n{\"new\":2}\n]\n");
}

// A whole last record without its newline counts as done when a run resumes, so it must stay.
TEST(JsonlTest, AppenderKeepsAWholeLastLineThatLacksItsNewline) {
  test::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  write_file(path, "{\"id\": \"a\"}\n{\"id\": \"b\"}");
  std::vector<std::string> before;
  for_each_jsonl(path, [&](size_t, Json&& j) { before.push_back(j["id"]); }, true);
  EXPECT_EQ(before, (std::vector<std::string>{"a", "b"}));
  {
    JsonlAppender out(path);
    out.append(Json{{"id", "c"}});
  }
  EXPECT_EQ(read_file(path), "{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"id\":\"c\"}\n");
}

TEST(JsonlTest, MalformedLineNamesFileAndLine) {
  test::TempDir dir;
  const std::string path = dir.file("bad.jsonl");
  write_file(path, "{\"id\": 1}\nnot json\n{\"id\": 2}\n");
  try {
    for_each_jsonl(path, [](size_t, Json&&) {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2:"), std::string::npos) << e.what();
  }
}

TEST(JsonlTest, TornTailToleratedWhenAsked) {
  test::TempDir dir;
  const std::string path = dir.file("t.jsonl");
  write_file(path, "{\"id\": 1}\n{\"id\": ");
  int n = 0;
  for_each_jsonl(path, [&](size_t, Json&&) { ++n; }, true);
  EXPECT_EQ(n, 1);
  EXPECT_THROW(for_each_jsonl(path, [](size_t, Json&&) {}), Error);
}

TEST(JsonlTest, AFolderIsAClearError) {
  test::TempDir dir;
  try {
    for_each_jsonl(dir.path(), [](size_t, Json&&) {});
    FAIL() << "a folder read as zero records";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory, not a file"), std::string::npos) << e.what();
  }
}

TEST(JsonlTest, MissingFileIsAClearError) {
  EXPECT_THROW(for_each_jsonl("/nonexistent/x.jsonl", [](size_t, Json&&) {}), Error);
}

}  // namespace
}  // namespace taco
