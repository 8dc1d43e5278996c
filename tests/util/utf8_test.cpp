#include "util/utf8.h"

#include <gtest/gtest.h>

namespace taco {
namespace {

TEST(Utf8Test, WellFormedTextIsUnchanged) {
  for (const char* s : {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80", "\xef\xbf\xbd"}) EXPECT_EQ(with_valid_utf8(s), s);
}

TEST(Utf8Test, EachByteThatBeginsNoWellFormedSequenceBecomesAReplacementCharacter) {
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(with_valid_utf8("a\xff" "b"), "a" + r + "b");
  EXPECT_EQ(with_valid_utf8("\x80\x80"), r + r);                  // stray continuation bytes
  EXPECT_EQ(with_valid_utf8("\xc0\xaf"), r + r);                  // an overlong '/'
  EXPECT_EQ(with_valid_utf8("\xed\xa0\x80"), r + r + r);          // a surrogate
  EXPECT_EQ(with_valid_utf8("\xf4\x90\x80\x80"), r + r + r + r);  // past U+10FFFF
  EXPECT_EQ(with_valid_utf8("caf\xc3"), "caf" + r);               // a character cut short at the end
  EXPECT_EQ(with_valid_utf8("\xe2\x82" "x"), r + r + "x");
}

}  // namespace
}  // namespace taco
