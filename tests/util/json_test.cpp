// The one reader of JSON from outside: size and nesting checked before a value is built, and
// errors that quote a short excerpt, whatever the input.
#include "util/json.h"

#include <gtest/gtest.h>

#include "util/error.h"
#include "util/strings.h"

namespace taco {
namespace {

std::string error_of(const std::string& text, const JsonLimits& limits = {}) {
  try {
    parse_json(text, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonTest, ADocumentNestedDeeperThanTheLimitIsAnErrorNotAStackOverflow) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of(deep), "JSON nested deeper than 256 levels");
  EXPECT_TRUE(parse_json_or_discarded(deep).is_discarded());
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 300; ++i) s += "{\"a\":";
    return s + "1" + std::string(300, '}');
  }();
  EXPECT_EQ(error_of(objects), "JSON nested deeper than 256 levels");
  // Brackets inside strings are text, escaped quotes included.
  const Json j = parse_json("{\"text\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}");
  EXPECT_EQ(j["text"].get<std::string>().size(), 2001u);
  EXPECT_EQ(parse_json(std::string(256, '[') + std::string(256, ']')).size(), 1u);
}

TEST(JsonTest, ADocumentOverTheSizeLimitIsRefusedBeforeItIsRead) {
  EXPECT_EQ(error_of("[1, 2, 3]", JsonLimits{4, 256, false}), "JSON of 9 bytes, over the limit of 4 bytes");
  EXPECT_EQ(error_of(std::string(3 << 20, ' ') + "1", JsonLimits{2 << 20, 256, false}), "JSON of 3.0 MB, over the limit of 2 MB");
}

TEST(JsonTest, ErrorsQuoteAShortExcerptNotTheInput) {
  const std::string bad = "[\"" + std::string(20 << 20, 'x');  // an unterminated 20 MB string
  const std::string e = error_of(bad);
  EXPECT_NE(e.find("malformed JSON at byte"), std::string::npos) << e;
  EXPECT_LT(e.size(), 300u) << e.substr(0, 300);
  EXPECT_EQ(error_of("{\"a\": tru}").substr(0, 22), "malformed JSON at byte");
  EXPECT_EQ(excerpt(std::string(1000, 'a') + "\n", 10), "aaaaaaaaaa... (1001 bytes in all)");
  EXPECT_EQ(excerpt("two\nlines"), "two lines");
  EXPECT_EQ(excerpt("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9... (4 bytes in all)");  // cut before a character, not inside it
}

TEST(JsonTest, ConfigsRefuseAKeyGivenTwice) {
  EXPECT_EQ(error_of(R"({"a": 1, "b": {"c": 1, "c": 2}})", kJsonConfigLimits), "the key \"c\" is given twice in one object");
  EXPECT_EQ(error_of(R"({"a": {"c": 1}, "b": {"c": 2}})", kJsonConfigLimits), "");
  EXPECT_EQ(parse_json(R"({"c": 1, "c": 2})")["c"], 2) << "other JSON keeps JSON's rule";
}

}  // namespace
}  // namespace taco
