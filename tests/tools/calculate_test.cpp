#include <gtest/gtest.h>

#include "tools/builtin.h"
#include "util/pyrepr.h"

namespace taco {
namespace {

std::string calc(const std::string& e) { return python_repr(evaluate_expression(e)); }

std::string calc_error(const std::string& e) {
  try {
    evaluate_expression(e);
  } catch (const ToolError& err) {
    return to_string(err.kind());
  }
  return "no error";
}

TEST(CalculateTest, PrintsResultsAsPython) {
  EXPECT_EQ(calc("50 / 3.65"), "13.698630136986301");
  EXPECT_EQ(calc("2 + 5"), "7");
  EXPECT_EQ(calc("7 / 2"), "3.5");
  EXPECT_EQ(calc("4*9*84"), "3024");
  EXPECT_EQ(calc("5-4/2"), "3.0");
  EXPECT_EQ(calc("15155.8 * 1000"), "15155800.0");
  EXPECT_EQ(calc("(0.45-0.4) * (0.7-0.5)"), "0.009999999999999995");
}

TEST(CalculateTest, PythonOperators) {
  EXPECT_EQ(calc("2 ** 10"), "1024");
  EXPECT_EQ(calc("2 ^ 10"), "1024");
  EXPECT_EQ(calc("2 ** -1"), "0.5");
  EXPECT_EQ(calc("-2 ** 2"), "-4");
  EXPECT_EQ(calc("2 ** 3 ** 2"), "512");
  EXPECT_EQ(calc("7 // 2"), "3");
  EXPECT_EQ(calc("-7 // 2"), "-4");
  EXPECT_EQ(calc("-7 % 3"), "2");
  EXPECT_EQ(calc("7.5 // 2"), "3.0");
  EXPECT_EQ(calc("((1 + 2) * 3)"), "9");
  EXPECT_EQ(calc("1e3 + 1"), "1001.0");
  EXPECT_EQ(calc("10 ** 20"), "1e+20");
}

TEST(CalculateTest, Functions) {
  EXPECT_EQ(calc("sqrt(16)"), "4.0");
  EXPECT_EQ(calc("abs(-3)"), "3");
  EXPECT_EQ(calc("round(2.5)"), "2");
  EXPECT_EQ(calc("round(3.14159, 2)"), "3.14");
  EXPECT_EQ(calc("min(3, 1, 2)"), "1");
  EXPECT_EQ(calc("max(3, 1.5)"), "3");
  EXPECT_EQ(calc("floor(2.7)"), "2");
  EXPECT_EQ(calc("ceil(2.1)"), "3");
  EXPECT_EQ(calc("log(e)"), "1.0");
  EXPECT_EQ(calc("log(8, 2)"), "3.0");
  EXPECT_EQ(calc("math.sqrt(2) * math.sqrt(2)"), "2.0000000000000004");
  EXPECT_EQ(calc("exp(0)"), "1.0");
  EXPECT_EQ(calc("cos(0)"), "1.0");
  EXPECT_EQ(calc("round(pi, 4)"), "3.1416");
}

TEST(CalculateTest, ErrorsNeverExecuteAnything) {
  EXPECT_EQ(calc_error("1 / 0"), "ZeroDivisionError");
  EXPECT_EQ(calc_error("5 % 0"), "ZeroDivisionError");
  EXPECT_EQ(calc_error("__import__('os').system('ls')"), "SyntaxError");
  EXPECT_EQ(calc_error("exit()"), "NameError");
  EXPECT_EQ(calc_error("open('x')"), "SyntaxError");
  EXPECT_EQ(calc_error("1,000 + 5"), "SyntaxError");
  EXPECT_EQ(calc_error("2 +"), "SyntaxError");
  EXPECT_EQ(calc_error(""), "SyntaxError");
  EXPECT_EQ(calc_error("sqrt(-1)"), "ValueError");
  EXPECT_EQ(calc_error("10.0 ** 400"), "OverflowError");
  EXPECT_EQ(calc_error(std::string(1000, '(') + "1" + std::string(1000, ')')), "RecursionError");
  EXPECT_EQ(calc_error(std::string(20000, '1')), "ValueError");
}

TEST(CalculateTest, ThousandsSeparatorMessageSaysWhatToWrite) {
  try {
    evaluate_expression("1,000 * 3");
    FAIL();
  } catch (const ToolError& e) {
    EXPECT_NE(std::string(e.what()).find("write 1000"), std::string::npos) << e.what();
  }
}

TEST(CalculateTest, TolerantOfTrailingEquals) { EXPECT_EQ(calc("3 + 4 ="), "7"); }

}  // namespace
}  // namespace taco

namespace taco {
namespace {

// Replies a model can write that once trapped the process (SIGFPE) or came back silently
// wrong; Python's answers, with a float where Python's integer outgrows int64.
TEST(CalculateTest, EdgesOfInt64AreNeitherCrashesNorWrongNumbers) {
  EXPECT_EQ(calc("(-2)**63 // -1"), "9.223372036854776e+18");
  EXPECT_EQ(calc("(-2)**63 % -1"), "0");
  EXPECT_EQ(calc("7 % -1"), "0");
  EXPECT_EQ(calc("-7 // 2"), "-4");
  EXPECT_EQ(calc("round(9223372036854775807, -1)"), "9.223372036854776e+18");
  EXPECT_EQ(calc("round(9223372036854775807, -2)"), "9223372036854775800");
  EXPECT_EQ(calc("round(-9223372036854775807, -1)"), "-9.223372036854776e+18");
  EXPECT_EQ(calc("round(25, -1)"), "20");  // half to even
  EXPECT_EQ(calc("round(35, -1)"), "40");
  EXPECT_EQ(calc("round(-25, -1)"), "-20");
  EXPECT_EQ(calc("round(1234, -19)"), "0");
  EXPECT_EQ(calc("round(1234, -40)"), "0");
  EXPECT_EQ(calc("round(1e300, -400)"), "0.0");
  EXPECT_EQ(calc("round(-1e300, -400)"), "-0.0");
}

}  // namespace
}  // namespace taco
