#include "cota/step_grammar.h"

#include <gtest/gtest.h>

#include <random>

#include "cota/parse.h"

namespace taco {
namespace {

bool accepts(const std::string& text) {
  StepGrammar g;
  return g.feed(text) && g.complete();
}

TEST(StepGrammarTest, AcceptsTheStepsTacoWrites) {
  const std::vector<std::string> steps = {
      R"({"thought": "read it", "actions": [{"name": "OCR", "arguments": {"image": "image-0"}}]})",
      R"({"thought": "", "actions": []})",
      "{\"thought\": \"a \\\"quoted\\\" word, \\u00e9 and caf\xC3\xA9\", \"actions\": []}",
      R"({"thought": "t", "actions": [{"name": "Crop", "arguments": {"image": "image-1", "bbox": [0.1, -2, 3e5, 0.5E-2], "ok": true, "none": null, "deep": {"a": [[], {}], "b": false}}}]})",
  };
  for (const auto& s : steps) {
    EXPECT_TRUE(accepts(s)) << s;
    EXPECT_TRUE(parse_response(s).ok()) << s;
  }
  // Every proper prefix is accepted and not yet a step.
  const std::string& s = steps.back();
  for (size_t n = 0; n < s.size(); ++n) {
    StepGrammar g;
    ASSERT_TRUE(g.feed(std::string_view(s).substr(0, n))) << n;
    EXPECT_FALSE(g.complete()) << n;
  }
}

TEST(StepGrammarTest, RefusesWhatIsNotOneStep) {
  const std::vector<std::string> bad = {
      R"({"actions": [], "thought": "t"})",                                   // keys in the other order
      R"({"thought":"x","actions":[{"name":"Terminate","arguments":{"answer":"3"}}]})",  // spaced otherwise
      "{\n  \"thought\": \"t\", \"actions\": []}",
      R"({"thought": "t", "actions": [ ]})",
      R"({"thought": "t",  "actions": []})",
      R"( {"thought": "t", "actions": []})",
      R"({"thought": "t", "actions": []} )",                                   // anything after the step
      R"({"thought": "t", "actions": []}{"thought": "u", "actions": []})",     // a second step
      R"({"thought": "t", "actions": [{"name": "A", "arguments": {}}, {"name": "B", "arguments": {}}]})",
      R"({"thought": "t", "actions": [{"name": "A", "arguments": []}]})",     // arguments not an object
      R"({"thought": "t", "actions": [{"name": "A"}]})",                       // no arguments
      R"({"thought": "t", "actions": [{"name": "", "arguments": {}}]})",      // no name
      "{\"thought\": \"two\nlines\", \"actions\": []}",                        // raw control character
      R"({"thought": 't', "actions": []})",                                    // single quotes
      R"({"thought": "t", "actions": [{"name": "A", "arguments": {"x": 01}}]})",
      R"({"thought": "t", "actions": [{"name": "A", "arguments": {"x": 1.}}]})",
      R"({"thought": "t", "actions": [{"name": "A", "arguments": {"x": tru}}]})",
      R"({"thought": "t", "actions": [{"name": "A", "arguments": {"x": 1,}}]})",
      R"({"thought": "\u12G4", "actions": []})",
      "{\"thought\": \"\xC3(\", \"actions\": []}",                              // broken UTF-8
      "```json\n{\"thought\": \"t\", \"actions\": []}\n```",
  };
  for (const auto& s : bad) EXPECT_FALSE(accepts(s)) << s;
  StepGrammar open;
  EXPECT_TRUE(open.feed(R"({"thought": "t", "actions": [)"));
  EXPECT_FALSE(open.complete());
}

// Decoding under the grammar picks among the bytes it allows; whatever path random choices
// take, there is always an allowed byte until the step is complete, and the result parses.
TEST(StepGrammarTest, RandomWalksNeverStickAndAlwaysParse) {
  const std::string alphabet = " \n{}[]:,\"\\-+.0123456789abcdefghijklmnopqrstuvwxyzE/\xC3\xA9";
  std::mt19937 rng(7);
  for (int walk = 0; walk < 300; ++walk) {
    StepGrammar g;
    std::string text;
    while (!g.complete()) {
      ASSERT_LT(text.size(), 100000u);
      std::vector<char> allowed;
      for (char c : alphabet) {
        StepGrammar trial = g;
        if (trial.feed(c)) allowed.push_back(c);
      }
      ASSERT_FALSE(allowed.empty()) << "stuck after: " << text;
      // Lean towards closing brackets and quotes as the text grows, so walks end.
      char c = allowed[rng() % allowed.size()];
      if (text.size() > 200)
        for (char closing : {'"', '}', ']'})
          if (std::find(allowed.begin(), allowed.end(), closing) != allowed.end() && rng() % 2) c = closing;
      ASSERT_TRUE(g.feed(c));
      text += c;
    }
    ParseResult r = parse_response(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << r.error;
    EXPECT_TRUE(parse_lenient_json(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace taco
