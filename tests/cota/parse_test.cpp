#include "cota/parse.h"

#include <gtest/gtest.h>

namespace taco {
namespace {

StepContent parse_ok(const std::string& text) {
  ParseResult r = parse_response(text);
  EXPECT_TRUE(r.ok()) << "input: " << text << "\nerror: " << r.error;
  return r.ok() ? *r.step : StepContent{};
}

TEST(ParseTest, PlainStep) {
  auto s = parse_ok(R"({"thought": "read it", "actions": [{"name": "OCR", "arguments": {"image": "image-0"}}]})");
  EXPECT_EQ(s.thought, "read it");
  ASSERT_EQ(s.actions.size(), 1u);
  EXPECT_EQ(s.actions[0].name, "OCR");
  EXPECT_EQ(s.actions[0].arguments["image"], "image-0");
}

TEST(ParseTest, KeyOrderIsThoughtThenActions) {
  auto s = parse_ok(R"({"actions": [], "thought": "t"})");
  EXPECT_EQ(s.to_json().dump(), R"({"thought":"t","actions":[]})");
}

// Each entry is a response a real model could write; all must parse to the same action.
TEST(ParseTest, MessyCorpus) {
  const std::vector<std::string> corpus = {
      "```json\n{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}\n```",
      "```\n{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}\n```",
      "Sure! Here is my step:\n{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}\nHope it helps.",
      "{'thought': 'x', 'actions': [{'name': 'OCR', 'arguments': {'image': 'image-0'}}]}",
      "{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\",},},],}",
      "# STEP 1 #:\n{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "#STEP#: {\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{\"thought\": \"line one\nline two\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{thought: \"x\", actions: [{name: \"OCR\", arguments: {image: \"image-0\"}}]}",
      "{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": \"{\\\"image\\\": \\\"image-0\\\"}\"}]}",
      "{\"thought\": \"x\", \"actions\": {\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}}",
      "{\"thought\": \"I can't read it\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{'thought': 'I can't read it', 'actions': [{'name': 'OCR', 'arguments': {'image': 'image-0'}}]}",
      "{\"thought\": \"the \"STOP\" sign\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{\"thought\": \"x\" \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{\"plan\": \"first\"}\n{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{\"response\": {\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}}",
      "{\"thought\": \"use {braces}\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "\xef\xbb\xbf{\"thought\": \"x\", \"actions\": [{\"name\": \"OCR\", \"arguments\": {\"image\": \"image-0\"}}]}",
      "{\"thought\":\"x\",\"actions\":[{\"name\":\"OCR\",\"arguments\":{\"image\":\"image-0\"}}]}\n{\"thought\": \"second\", \"actions\": []}",
  };
  for (const auto& text : corpus) {
    auto s = parse_ok(text);
    ASSERT_EQ(s.actions.size(), 1u) << text;
    EXPECT_EQ(s.actions[0].name, "OCR") << text;
    EXPECT_EQ(s.actions[0].arguments.value("image", ""), "image-0") << text;
  }
}

TEST(ParseTest, PythonLiteralsAndNumbers) {
  auto s = parse_ok("{'thought': None, 'actions': [{'name': 'X', 'arguments': {'a': True, 'b': False, 'c': None, "
                    "'d': -2.5e3, 'e': 7, 'f': [0.1, 0.2,]}}]}");
  EXPECT_EQ(s.thought, "");
  const Json& a = s.actions[0].arguments;
  EXPECT_EQ(a["a"], true);
  EXPECT_EQ(a["b"], false);
  EXPECT_TRUE(a["c"].is_null());
  EXPECT_DOUBLE_EQ(a["d"].get<double>(), -2500.0);
  EXPECT_TRUE(a["e"].is_number_integer());
  EXPECT_EQ(a["f"].size(), 2u);
}

TEST(ParseTest, EscapesAndUnicode) {
  auto s = parse_ok(R"({"thought": "caf\u00e9 \ud83d\ude00 tab\t quote\" back\\", "actions": []})");
  EXPECT_EQ(s.thought, "caf\xc3\xa9 \xf0\x9f\x98\x80 tab\t quote\" back\\");
}

TEST(ParseTest, EmptyActionListIsValid) {
  auto s = parse_ok(R"({"thought": "nothing to do", "actions": []})");
  EXPECT_TRUE(s.actions.empty());
}

TEST(ParseTest, JsonErrors) {
  for (const std::string text : {"", "I think the answer is 4.", "{\"thought\": \"x\", \"actions\": [",
                                 "{\"thought\": 'unterminated", "{{{{{{{{"}) {
    ParseResult r = parse_response(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error_kind, ParseErrorKind::kJson) << text;
    EXPECT_FALSE(r.error.empty());
  }
  ParseResult r = parse_response("{\"thought\": \"x\", \"actions\": [}");
  EXPECT_NE(r.error.find("line 1 column"), std::string::npos) << r.error;
}

TEST(ParseTest, SchemaErrors) {
  for (const std::string text : {R"({"thought": "no actions here"})", R"({"thought": "x", "actions": "OCR"})",
                                 R"({"thought": "x", "actions": [{"name": "OCR"}]})",
                                 R"({"thought": "x", "actions": [{"arguments": {}}]})",
                                 R"({"thought": "x", "actions": [{"name": 3, "arguments": {}}]})",
                                 R"({"thought": "x", "actions": [{"name": "OCR", "arguments": [1]}]})"}) {
    ParseResult r = parse_response(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error_kind, ParseErrorKind::kSchema) << text;
  }
}

TEST(ParseTest, DeepNestingDoesNotCrash) {
  std::string deep = "{\"thought\": \"x\", \"actions\": [" + std::string(100000, '[') + "]}";
  ParseResult r = parse_response(deep);
  EXPECT_FALSE(r.ok());
  std::string braces(200000, '{');
  EXPECT_FALSE(parse_response(braces).ok());
}

TEST(ParseTest, LenientJsonValue) {
  auto v = parse_lenient_json(" {'a': [1, 2,], 'b': 'c'} ");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)["b"], "c");
  EXPECT_FALSE(parse_lenient_json("{'a': 1} trailing").has_value());
}

}  // namespace
}  // namespace taco
