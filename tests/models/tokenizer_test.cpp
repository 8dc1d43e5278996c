// The embedded model's tokenizer: exact round trips for any text, digits one by one, the
// protocol's fixed strings as single symbols, and a file that is not a tokenizer refused.
#include <gtest/gtest.h>

#include "models/embedded/tokenizer.h"
#include "util/error.h"

namespace taco {
namespace {

const std::string kAdvice = "This observation may be incomplete or wrong, so weigh it critically.";

Tokenizer trained() {
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) {
    texts.push_back("{\"thought\": \"I will count the red balls in image-0.\", \"actions\": [{\"name\": \"LocalizeObjects\", "
                    "\"arguments\": {\"image\": \"image-0\", \"objects\": [\"ball\"]}}]}");
    texts.push_back("OBSERVATION:\n{'regions': [{'label': 'ball', 'bbox': [0.1, 0.25, 0.3, 0.5], 'score': 0.97}]}\n" + kAdvice);
    texts.push_back("\n# USER REQUEST #:\nimage-0: <image>\nHow many balls are there? " + std::to_string(1234 + i));
  }
  return Tokenizer::from_bytes(Tokenizer::train(texts, 400, {"OBSERVATION:\n{{observation}}\n" + kAdvice, "# USER REQUEST #:"}),
                               "test tokenizer");
}

TEST(TokenizerTest, RoundTripsAnyText) {
  Tokenizer t = trained();
  for (std::string text : {std::string("{\"thought\": \"The sum is 42.\", \"actions\": []}"),
                           std::string("line one\nline two\n\n  indented\ttab"), std::string("Ünïcödé ✓ 日本語 emoji 🙂"),
                           std::string(" leading and trailing spaces  "), std::string("")}) {
    EXPECT_EQ(t.decode(t.encode(text)), text);
  }
}

// Constrained decoding reads each token's bytes on its own; together they are the text, byte
// for byte, even where byte fallback splits a character.
TEST(TokenizerTest, TokenBytesJoinToTheText) {
  Tokenizer t = trained();
  for (std::string text : {std::string("{\"thought\": \"The sum is 42.\", \"actions\": []}"), std::string("Ünïcödé ✓ 日本語 🙂\n  x")}) {
    std::string joined;
    for (int id : t.encode(text)) joined += t.token_bytes(id);
    EXPECT_EQ(joined, text);
  }
  EXPECT_EQ(t.token_bytes(t.end_id()), "");
  EXPECT_EQ(t.token_bytes(t.image_id()), "");
}

TEST(TokenizerTest, DigitsSplitAndProtocolStringsAreSymbols) {
  Tokenizer t = trained();
  EXPECT_EQ(t.encode("2024").size(), 4u);
  EXPECT_EQ(t.encode(kAdvice.substr(0, kAdvice.find(','))).size(), 1u) << "the advice's first clause is one symbol";
  EXPECT_EQ(t.encode("OBSERVATION:").size(), 1u);
  // Control tokens never come out of text.
  for (int id : t.encode("<user><assistant><image>")) {
    EXPECT_NE(id, t.user_id());
    EXPECT_NE(id, t.image_id());
  }
  EXPECT_EQ(t.decode({t.user_id(), t.end_id()}), "");
}

TEST(TokenizerTest, RefusesWhatIsNotATokenizer) {
  try {
    Tokenizer::from_bytes("certainly not a model", "model/tokenizer.model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model/tokenizer.model: not a SentencePiece model"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tokenizer::train({"ab"}, 5, {}), Error);
}

}  // namespace
}  // namespace taco
