#include "util/pyrepr.h"

#include <gtest/gtest.h>

namespace taco {
namespace {

TEST(PyReprTest, FloatsPrintAsPython) {
  EXPECT_EQ(python_repr_float(13.698630136986301), "13.698630136986301");
  EXPECT_EQ(python_repr_float(15155800.0), "15155800.0");
  EXPECT_EQ(python_repr_float(3.5), "3.5");
  EXPECT_EQ(python_repr_float(0.1), "0.1");
  EXPECT_EQ(python_repr_float(0.87), "0.87");
  EXPECT_EQ(python_repr_float(-2.0), "-2.0");
  EXPECT_EQ(python_repr_float(0.0001), "0.0001");
  EXPECT_EQ(python_repr_float(0.00001), "1e-05");
  EXPECT_EQ(python_repr_float(1e16), "1e+16");
  EXPECT_EQ(python_repr_float(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_repr_float(1.5e300), "1.5e+300");
  EXPECT_EQ(python_repr_float(0.1 + 0.2), "0.30000000000000004");
}

TEST(PyReprTest, StringsPickQuotesAndEscapeLikePython) {
  EXPECT_EQ(python_repr_string("abc"), "'abc'");
  EXPECT_EQ(python_repr_string("it's"), "\"it's\"");
  EXPECT_EQ(python_repr_string("say \"hi\" it's"), "'say \"hi\" it\\'s'");
  EXPECT_EQ(python_repr_string("a\nb\tc\\"), "'a\\nb\\tc\\\\'");
  EXPECT_EQ(python_repr_string(std::string("\x01", 1)), "'\\x01'");
  EXPECT_EQ(python_repr_string("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

TEST(PyReprTest, DictLikeTacoObservations) {
  Json obs = Json::parse(R"({"image": "image-1: <image>", "regions": [{"label": "dog", "bbox": [0.11, 0.3, 0.39, 0.67], "score": 0.87}]})");
  EXPECT_EQ(python_repr(obs),
            "{'image': 'image-1: <image>', 'regions': [{'label': 'dog', 'bbox': [0.11, 0.3, 0.39, 0.67], 'score': 0.87}]}");
  EXPECT_EQ(python_repr(Json{{"ok", true}, {"none", nullptr}, {"n", 7}}), "{'ok': True, 'none': None, 'n': 7}");
}

TEST(PyReprTest, JsonDumpsLayout) {
  Json step = Json::parse(R"({"thought": "t", "actions": [{"name": "Calculate", "arguments": {"expression": "1+1", "x": 2.50}}]})");
  EXPECT_EQ(python_json_dumps(step),
            R"({"thought": "t", "actions": [{"name": "Calculate", "arguments": {"expression": "1+1", "x": 2.5}}]})");
}

}  // namespace
}  // namespace taco
