#include <gtest/gtest.h>

#include "tools/builtin.h"

namespace taco {
namespace {

std::string solve(const std::string& q) {
  try {
    return solve_math_query(q);
  } catch (const ToolError& e) {
    return std::string("error: ") + e.what();
  }
}

TEST(SolveTest, TacoStyleQueries) {
  EXPECT_EQ(solve("x^2 + 2x + 1 = 0, what is x?"), "x = -1");
  EXPECT_EQ(solve("x-2^3=0, what is x?"), "x = 8");
  EXPECT_EQ(solve("2 + 2=?"), "4");
  EXPECT_EQ(solve("Solve 3y - 4 = 11"), "y = 5");
}

// Decimals are the exact numbers they write (once GiNaC's gcd refused floats: "arguments
// must be polynomials over the rationals").
TEST(SolveTest, DecimalsAreExact) {
  EXPECT_EQ(solve("0.1x = 0.3"), "x = 3");
  EXPECT_EQ(solve("x + 1.25 = 0.5"), "x = -3/4 (~ -0.75)");
  EXPECT_EQ(solve("2.5 * 4"), "10");
  EXPECT_EQ(solve("x^2 = 0.25"), "x = -1/2 (~ -0.5), x = 1/2 (~ 0.5)");
}

TEST(SolveTest, PolynomialsExactAndNumeric) {
  EXPECT_EQ(solve("x^2 - 5x + 6 = 0"), "x = 2, x = 3");
  EXPECT_EQ(solve("x^2 = 2"), "x = -sqrt(2) (~ -1.414213562), x = sqrt(2) (~ 1.414213562)");
  EXPECT_EQ(solve("2x = 1"), "x = 1/2 (~ 0.5)");
  std::string cubic = solve("x^3 - 2x - 5 = 0");
  EXPECT_NE(cubic.find("x ~ 2.094551482"), std::string::npos) << cubic;
  EXPECT_EQ(solve("x^2 + 1 = 0"), "x = I, x = -I");
  EXPECT_EQ(solve("1/x = 4"), "x = 1/4 (~ 0.25)");
}

TEST(SolveTest, LinearSystems) {
  EXPECT_EQ(solve("x + y = 10, x - y = 2"), "x = 6, y = 4");
  EXPECT_EQ(solve("2a + b = 7; a - b = -1, find a and b"), "a = 2, b = 3");
}

TEST(SolveTest, ExpressionsAndSymbols) {
  EXPECT_EQ(solve("simplify (x^2 - 1)/(x - 1)"), "(x^2 - 1)/(x - 1) = 1+x");
  EXPECT_EQ(solve("a*x + b = 0, what is x?"), "x = -b/a");
  EXPECT_EQ(solve("3/4 + 1/4"), "1");
  EXPECT_EQ(solve("sqrt(2) * 3"), "3*sqrt(2) (~ 4.242640687)");
  EXPECT_EQ(solve("x^2 - 2x - 1 = 0"), "x = 1-sqrt(2) (~ -0.4142135624), x = 1+sqrt(2) (~ 2.414213562)");
}

TEST(SolveTest, ClearMessagesForWhatItCannotDo) {
  EXPECT_NE(solve("sin(x) = 1/2").find("only polynomial"), std::string::npos);
  EXPECT_NE(solve("x^2 + y^2 = 1, x - y = 0").find("only linear systems"), std::string::npos);
  EXPECT_NE(solve("what is the meaning of life").find("no equation"), std::string::npos);
  EXPECT_NE(solve("x = = 2").find("error"), std::string::npos);
}

// Constants among the coefficients: GiNaC's factoring works over the rationals only and its
// gcd threw ("arguments must be polynomials over the rationals").
TEST(SolveTest, ConstantsAmongTheCoefficients) {
  EXPECT_EQ(solve("Pi = x"), "x = Pi (~ 3.141592654)");
  EXPECT_EQ(solve("2x = Pi, what is x?"), "x = Pi/2 (~ 1.570796327)");
  EXPECT_EQ(solve("x^2 = Pi"), "x = -sqrt(Pi) (~ -1.772453851), x = sqrt(Pi) (~ 1.772453851)");
}

// Queries a model may send to break the tool: each is one refusal, not a crash (a long list
// of names overflowed std::regex's recursion, deep brackets GiNaC's parser).
TEST(SolveTest, OversizedQueriesAreRefused) {
  std::string names = "what is x";
  while (names.size() < 60000) names += ", x";
  EXPECT_NE(solve(names).find("characters long; at most 2000"), std::string::npos);
  const std::string deep = "x = " + std::string(20000, '(') + "1" + std::string(20000, ')');
  EXPECT_NE(solve(deep).find("characters long"), std::string::npos);
  const std::string nested = "x = " + std::string(150, '(') + "1" + std::string(150, ')');
  EXPECT_NE(solve(nested).find("nests brackets 150 deep"), std::string::npos);
  // The largest query read still goes through the regular expressions and the parser.
  std::string longest = "what is x";
  while (longest.size() + 3 <= 2000) longest += ", x";
  EXPECT_NO_FATAL_FAILURE(solve(longest));
  EXPECT_EQ(solve("x = " + std::string(100, '(') + "1" + std::string(100, ')')), "x = 1");
}

}  // namespace
}  // namespace taco
