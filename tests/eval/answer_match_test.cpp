// Answers written the ways models write them, matched the way benchmark harnesses match them.
#include "eval/answer_match.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "util/jsonl.h"

namespace taco {
namespace {

const std::vector<std::string> kOptions = {"a cat", "a dog", "a red bird", "a bird"};

TEST(MatchOptionTest, LettersInCommonWrappings) {
  for (const char* answer : {"B", "b", "(B)", "B.", "B)", "[B]", "**B**", " B. ", "Answer: B", "answer: (B)",
                             "The answer is B", "The answer is (B).", "The correct answer is B.", "I choose option B.",
                             "B. a dog", "(B) a dog", "B) a dog", "Options: B"})
    EXPECT_EQ(match_option(answer, kOptions), "B") << answer;
}

TEST(MatchOptionTest, OptionTextAndSentences) {
  EXPECT_EQ(match_option("a dog", kOptions), "B");
  EXPECT_EQ(match_option("Dog.", kOptions), "B");
  EXPECT_EQ(match_option("It is a dog.", kOptions), "B");
  // "bird" is part of "red bird": only the longer option counts when both are found.
  EXPECT_EQ(match_option("The red bird on the left.", kOptions), "C");
  EXPECT_EQ(match_option("a bird", kOptions), "D");
}

TEST(MatchOptionTest, NothingOrSeveralIsNoMatch) {
  EXPECT_EQ(match_option("", kOptions), "");
  EXPECT_EQ(match_option("   ", kOptions), "");
  EXPECT_EQ(match_option("I cannot tell from the image.", kOptions), "");
  EXPECT_EQ(match_option("a cat or a dog", kOptions), "");
  EXPECT_EQ(match_option("E", kOptions), "");        // not an option
  EXPECT_EQ(match_option("A cat sat there and a dog too", kOptions), "");  // the article "A" is not a letter
  EXPECT_EQ(match_option("B", {}), "");
}

TEST(NormalizeTest, VqaNormalization) {
  EXPECT_EQ(normalize_answer("The Red Ball."), "red ball");
  EXPECT_EQ(normalize_answer("Answer: two"), "2");
  EXPECT_EQ(normalize_answer("1,000"), "1000");
  EXPECT_EQ(normalize_answer("3.5"), "3.5");
  EXPECT_EQ(normalize_answer("  yes!  "), "yes");
}

TEST(AnswerNumberTest, UnitsCurrencyWordsAndSentences) {
  EXPECT_EQ(answer_number("42"), 42);
  EXPECT_EQ(answer_number("$1,250.50"), 1250.5);
  EXPECT_EQ(answer_number("12 cm"), 12);
  EXPECT_EQ(answer_number("45%"), 45);
  EXPECT_EQ(answer_number("-3"), -3);
  EXPECT_EQ(answer_number("three"), 3);
  EXPECT_EQ(answer_number("There are 3 balls."), 3);
  EXPECT_EQ(answer_number("The answer is 5 (2 + 3)"), 5);
  EXPECT_EQ(answer_number("1, 2 and 7"), 7);
  EXPECT_FALSE(answer_number("no idea").has_value());
  EXPECT_FALSE(answer_number("").has_value());
}

TEST(FreeFormTest, ExactNumbersAndVqaAccuracy) {
  EXPECT_EQ(free_form_score("Red.", {"red"}), 1);
  EXPECT_EQ(free_form_score("blue", {"red"}), 0);
  EXPECT_EQ(free_form_score("", {"red"}), 0);
  EXPECT_EQ(free_form_score("3 apples", {"3"}), 1);
  EXPECT_EQ(free_form_score("three", {"3"}), 1);
  EXPECT_EQ(free_form_score("3.01", {"3"}), 0);
  EXPECT_EQ(free_form_score("100.05", {"100"}), 0);  // no blanket tolerance
  // A-OKVQA style: ten references, min(1, matches / 3).
  std::vector<std::string> refs = {"dog", "dog", "puppy", "dog", "animal", "pet", "puppy", "dog", "dog", "dog"};
  EXPECT_EQ(free_form_score("dog", refs), 1);
  EXPECT_NEAR(free_form_score("puppy", refs), 2.0 / 3, 1e-12);
  EXPECT_NEAR(free_form_score("pet", refs), 1.0 / 3, 1e-12);
  EXPECT_EQ(free_form_score("cat", refs), 0);
}

// The letter a reply settles on, as models write it (the examples of the scoring issue).
TEST(MatchOptionTest, TheLetterTheReplySettlesOn) {
  for (const char* answer : {"The correct answer is B, not option A.", "A is a cat, B is a dog, so the answer is B.",
                             "The answer is B. Choice A would only be right if the animal barked.", "\\boxed{B}",
                             "$\\boxed{B}$", "$\\boxed{\\text{B}}$", "<answer>B</answer>", "The answer is b.", "answer: b",
                             "Option A is wrong; I choose option B.", "Not option A but option B."})
    EXPECT_EQ(match_option(answer, kOptions), "B") << answer;
  EXPECT_EQ(match_option("The answer is a dog", kOptions), "B");  // the article, then the option's text
  EXPECT_EQ(match_option("The answer is a cat", kOptions), "A");
}

// Yes/no questions answered in a sentence, as MME, POPE and HallusionBench read them.
TEST(FreeFormTest, YesOrNoInASentence) {
  EXPECT_EQ(free_form_score("Yes, there is a dog in the image.", {"yes"}), 1);
  EXPECT_EQ(free_form_score("No, the cats are not all the same color.", {"no"}), 1);
  EXPECT_EQ(free_form_score("**Yes**", {"yes"}), 1);
  EXPECT_EQ(free_form_score("Yes.", {"no"}), 0);
  EXPECT_EQ(free_form_score("There is no dog here.", {"no"}), 1);  // the only one of the two it says
  EXPECT_EQ(free_form_score("I cannot say yes or no.", {"yes"}), 0);
  EXPECT_EQ(free_form_score("Yes", {"Yes"}), 1);
}

// Numbers: equal or not, no blanket tolerance; hedges are not credited; what a reply rules out
// is skipped; decimal commas and percentages are read.
TEST(AnswerNumberTest, HedgesNegationsDecimalCommasAndPercentages) {
  EXPECT_EQ(free_form_score("2023", {"2021"}), 0);
  EXPECT_EQ(free_form_score("250", {"249.98"}), 0);
  EXPECT_EQ(free_form_score("3 or 4", {"3"}), 0);
  EXPECT_EQ(free_form_score("between 10 and 12", {"10"}), 0);
  EXPECT_EQ(free_form_score("10-12", {"12"}), 0);
  EXPECT_EQ(free_form_score("I count 3 apples, not 4.", {"3"}), 1);
  EXPECT_EQ(answer_number("14,80\xe2\x82\xac"), 14.8);
  EXPECT_EQ(answer_number("1,2,3"), 3);  // a list, not decimal commas
  EXPECT_EQ(answer_number("1,000"), 1000);
  EXPECT_EQ(free_form_score("35", {"35%"}), 1);
  EXPECT_EQ(free_form_score("35%", {"35%"}), 1);
  EXPECT_EQ(free_form_score("eleven", {"11"}), 1);
}

// The VQA evaluation's normalization in full: contractions, articles, its punctuation rules.
TEST(NormalizeTest, VqaContractionsAndPunctuation) {
  EXPECT_EQ(normalize_answer("dont"), normalize_answer("don't"));
  EXPECT_EQ(normalize_answer("Isnt"), "isn't");
  EXPECT_EQ(normalize_answer("An apple"), "apple");
  EXPECT_EQ(normalize_answer("t-shirt"), "t shirt");       // a hyphen between letters is a space
  EXPECT_EQ(normalize_answer("left - right"), "left right");  // and dropped where it touches one
  EXPECT_EQ(normalize_answer("10:30"), "10:30");           // the colon is not in the list
  EXPECT_EQ(free_form_score("They dont match", {"they don't match"}), 1);
}

TEST(RelaxedAccuracyTest, ChartQANumbersWithinFivePercentAndTextIgnoringCase) {
  auto taco = [](const std::string& a, const std::string& ref) { return relaxed_accuracy(a, {ref}, false); };
  EXPECT_EQ(taco("The value is 104.", "100"), 1);
  EXPECT_EQ(taco("106", "100"), 0);
  EXPECT_EQ(taco("About 47%", "45%"), 1);  // both read as percents
  EXPECT_EQ(taco("0", "0"), 1);
  EXPECT_EQ(taco("0.01", "0"), 0);         // no relative tolerance around zero
  EXPECT_EQ(taco("3 or 4", "3"), 0);       // a hedge is no answer
  EXPECT_EQ(taco("**Brazil**", "brazil"), 1);
  EXPECT_EQ(taco("Brazil and Chile", "Brazil"), 0);
  // VLMEvalKit (pix2struct's relaxed_correctness): the whole reply, '%' as hundredths.
  auto vlm = [](const std::string& a, const std::string& ref) { return relaxed_accuracy(a, {ref}, true); };
  EXPECT_EQ(vlm(" 104 ", "100"), 1);
  EXPECT_EQ(vlm("The value is 104.", "100"), 0);
  EXPECT_EQ(vlm("45", "45%"), 0);          // 45 against 0.45
  EXPECT_EQ(vlm("46%", "45%"), 1);
  EXPECT_EQ(vlm("0.0", "0"), 0);           // a zero target compares as text
  EXPECT_EQ(vlm("BRAZIL", "Brazil"), 1);
  EXPECT_EQ(vlm("0x10", "16"), 0);         // Python's float() reads no hex
}

TEST(MathVistaTest, AnswerTypes) {
  EXPECT_EQ(mathvista_score("The answer is 7", "7", "integer", 0, {}), 1);
  EXPECT_EQ(mathvista_score("7.5", "7", "integer", 0, {}), 0);
  EXPECT_EQ(mathvista_score("3.14159", "3.14", "float", 2, {}), 1);
  EXPECT_EQ(mathvista_score("3.2", "3.14", "float", 2, {}), 0);
  EXPECT_EQ(mathvista_score("1.5", "1.5", "float", 1, {}), 1);
  EXPECT_EQ(mathvista_score("[1, 2, 3]", "[1, 2, 3]", "list", 0, {}), 1);
  EXPECT_EQ(mathvista_score("[1, 3, 2]", "[1, 2, 3]", "list", 0, {}), 0);
  EXPECT_EQ(mathvista_score("(B)", "square", "text", 0, {"circle", "square"}), 1);
  EXPECT_EQ(mathvista_score("circle", "square", "text", 0, {"circle", "square"}), 0);
  EXPECT_EQ(mathvista_score("Square", "square", "text", 0, {}), 1);
}

// VLMEvalKit's matching as that library behaves, including where it is strict: a bare
// lower-case letter is no option, a letter must be near the end, a long reply is not searched
// for option text.
TEST(VlmEvalKitMatchingTest, ItsOwnRules) {
  EXPECT_EQ(vlmevalkit_option("B", kOptions), "B");
  EXPECT_EQ(vlmevalkit_option("(C) a red bird", kOptions), "C");
  EXPECT_EQ(vlmevalkit_option("b", kOptions), "Z");
  EXPECT_EQ(vlmevalkit_option("The answer is B, not A.", kOptions), "Z");  // two letters, no single option text
  EXPECT_EQ(vlmevalkit_option("B is the one that matches what I see", kOptions), "Z");  // not among the last four words
  EXPECT_EQ(vlmevalkit_option("It is a dog, I am quite sure of it after a careful look", kOptions), "Z");  // too long for text
  EXPECT_EQ(vlmevalkit_option("a dog", kOptions), "B");
  EXPECT_EQ(vlmevalkit_option("Cannot determine the answer", kOptions), "Z");
  EXPECT_EQ(vlmevalkit_yes_no("Yes, it is."), "Yes");
  EXPECT_EQ(vlmevalkit_yes_no("No."), "No");
  EXPECT_EQ(vlmevalkit_yes_no("Yes and no"), "Unknown");
  EXPECT_EQ(vqa_process_answer("The Dog."), "dog");
}

// The forms of the scoring issue's round 3, as models write them.
TEST(MatchChoiceTest, RoundThreeForms) {
  const std::vector<std::string> options = {"sedan", "delivery van", "bus", "motorcycle"};
  for (const char* answer : {"**Answer:** B", "{\"answer\": \"B\"}", "B is correct because the van is white.",
                             "The vehicle has a sliding door, so B.", "Van", "A white van.", "I'd go with B."})
    EXPECT_EQ(match_choice(answer, options, "B").verdict, Verdict::kRight) << answer;
  for (const char* answer : {"B or C", "not B", "Not B.", "Either A or B.", "I cannot determine this from the image.", "Bus"})
    EXPECT_EQ(match_choice(answer, options, "B").verdict, Verdict::kWrong) << answer;
  EXPECT_EQ(match_choice("Plum", {"apples", "plums", "bananas"}, "B").verdict, Verdict::kRight);
  EXPECT_EQ(match_choice("25", {"15 mph", "25 mph", "35 mph"}, "B").verdict, Verdict::kRight);
  EXPECT_EQ(match_choice("20", {"15 mph", "25 mph", "35 mph"}, "B").verdict, Verdict::kWrong);
  EXPECT_EQ(match_choice("windowsill", {"on the sofa", "on the windowsill", "under the table"}, "B").verdict, Verdict::kRight);
  // An option's text inside another's: the longer one only when it is said.
  EXPECT_EQ(match_choice("dark red", {"red", "dark red", "blue"}, "A").verdict, Verdict::kWrong);
  EXPECT_EQ(match_choice("Octagonal.", {"circle", "triangle", "octagon", "square"}, "C").verdict, Verdict::kRight);
  EXPECT_EQ(match_choice("a vehicle with a sliding door", options, "B").verdict, Verdict::kUndecided);
}

TEST(FreeFormTest, RoundThreeForms) {
  for (const auto& [answer, reference] : std::vector<std::pair<std::string, std::string>>{
           {"Nope", "no"}, {"Yeah", "yes"}, {"Nah, just a collar", "no"}, {"Definitely", "yes"}, {"Absolutely not", "no"},
           {"twenty-one", "21"}, {"a dozen", "12"}, {"minus 3", "-3"}, {"\xe2\x88\x92" "3.5", "-3.5"}, {"1/2", "0.5"},
           {"1\xc2\xbd", "1.5"}, {"2 1/4", "2.25"}, {"2.3e6", "2300000"}, {"1.2 million", "1200000"}, {"one and a half", "1.5"},
           {"It's yellow.", "yellow"}, {"grey", "gray"}, {"The cats", "cat"}, {"a red umbrella", "umbrella"}, {"couch", "sofa"}})
    EXPECT_EQ(match_free_form(answer, {reference}).verdict, Verdict::kRight) << answer << " for " << reference;
  for (const auto& [answer, reference] : std::vector<std::pair<std::string, std::string>>{
           {"twenty", "21"}, {"3 or 4", "3"}, {"Yeah", "no"}, {"yellow and green", "yellow"}, {"not gray", "gray"},
           {"silver", "gray"}, {"a bicycle", "horse"}, {"nothing", "kite"}, {"I can't tell.", "red"}, {"2.3 billion", "2300000"}})
    EXPECT_EQ(match_free_form(answer, {reference}).verdict, Verdict::kWrong) << answer << " for " << reference;
  // What only a reader who knows the world can settle goes to the judge.
  EXPECT_EQ(match_free_form("ping pong", {"table tennis"}).verdict, Verdict::kUndecided);
  EXPECT_EQ(match_free_form("The light is off.", {"no"}).verdict, Verdict::kUndecided);
}

// A reply of megabytes (a trace file can hold one) is read from its last 16 KB, where replies
// restate their answer: every rule is linear in what it reads, and a 2 MB reply took seconds.
TEST(MatchChoiceTest, AHugeReplyIsReadFromItsEnd) {
  std::string reply;
  while (reply.size() < (2u << 20)) reply += "A or C, not D, 3/4 of one two 1,000 twenty-one; ";
  EXPECT_EQ(match_choice(reply + "So the answer is B.", {"cat", "dog", "bird", "fish"}, "B").verdict, Verdict::kRight);
  EXPECT_EQ(match_free_form(reply + " In all: 21", {"21"}).verdict, Verdict::kRight);
  EXPECT_EQ(answer_number(reply + " The answer is 7."), 7);
}

// taco's own corpus (tests/data/answer-corpus.jsonl): 551 answers written as today's VLMs write
// them, each with a careful grader's verdict, about half right, adversarial wrong answers
// among them ("B or C", "not B", "twenty" for 21, an option inside another). The goals of the
// scoring issue, undecided counted as disagreement: at least 90% agreement, at most 1% false
// accepts, at most 5% undecided. The summary line is what docs/eval.md quotes.
TEST(AnswerCorpusTest, RulesAgreeWithACarefulGrader) {
  size_t n = 0, right = 0, agree = 0, false_accepts = 0, undecided = 0;
  std::string misses;
  for_each_jsonl(std::string(TACO_TEST_DATA) + "/answer-corpus.jsonl", [&](size_t line, Json&& c) {
    ++n;
    const bool grader = c["right"];
    right += grader;
    RuleMatch m;
    if (c["kind"] == "choice") m = match_choice(c["answer"], c["options"].get<std::vector<std::string>>(), c["reference"]);
    else m = match_free_form(c["answer"], {c["reference"].get<std::string>()});
    if (m.verdict == Verdict::kUndecided) ++undecided;
    else if ((m.verdict == Verdict::kRight) == grader) ++agree;
    if (m.verdict == Verdict::kRight && !grader) {
      ++false_accepts;
      ADD_FAILURE() << "line " << line << ": accepted " << c["answer"] << " for " << c["reference"];
    }
    if (m.verdict == Verdict::kUndecided || (m.verdict == Verdict::kRight) != grader)
      misses += "  line " + std::to_string(line) + " " + to_string(m.verdict) + " (" + m.how + "): " + c["answer"].get<std::string>() +
                " for " + c["reference"].get<std::string>() + "\n";
  });
  ASSERT_GE(n, 400u);
  EXPECT_NEAR(static_cast<double>(right) / static_cast<double>(n), 0.5, 0.05) << "the corpus is balanced";
  const double agreement = static_cast<double>(agree) / static_cast<double>(n);
  std::printf("answer corpus: %zu cases, agreement %.1f%%, false accepts %zu (%.1f%%), undecided %zu (%.1f%%)\n%s", n, 100 * agreement,
              false_accepts, 100.0 * static_cast<double>(false_accepts) / static_cast<double>(n), undecided,
              100.0 * static_cast<double>(undecided) / static_cast<double>(n), misses.c_str());
  EXPECT_GE(agreement, 0.90);
  EXPECT_LE(static_cast<double>(false_accepts) / static_cast<double>(n), 0.01);
  EXPECT_LE(static_cast<double>(undecided) / static_cast<double>(n), 0.05);
}

// Opt-in: VLMEvalKit's own verdicts on 290 answers (third-party data, not part of the project).
// Set TACO_VLMEVALKIT_CASES to ../shared/fixtures/vlmevalkit-matching/cases.jsonl to run.
TEST(VlmEvalKitMatchingTest, AgreesWithVlmEvalKitsOwnVerdicts) {
  const char* cases = std::getenv("TACO_VLMEVALKIT_CASES");
  if (!cases) GTEST_SKIP() << "set TACO_VLMEVALKIT_CASES to run";
  size_t n = 0;
  for_each_jsonl(cases, [&](size_t line, Json&& c) {
    ++n;
    const std::string kind = c["kind"], prediction = c["prediction"], answer = c["answer"];
    const Json& v = c["vlmevalkit"];
    if (kind == "multiple_choice") {
      std::vector<std::string> options;
      for (const auto& [letter, text] : c["options"].items()) options.push_back(text.get<std::string>());
      const std::string got = vlmevalkit_option(prediction, options);
      EXPECT_EQ(got, v["extracted"].get<std::string>()) << "line " << line << ": " << prediction;
      EXPECT_EQ(got == answer, v["hit"].get<int>() == 1) << "line " << line;
    } else if (kind == "yes_no") {
      const std::string got = vlmevalkit_yes_no(prediction);
      EXPECT_EQ(got, v["extracted"].get<std::string>()) << "line " << line << ": " << prediction;
      EXPECT_EQ(got == answer, v["hit"].get<int>() == 1) << "line " << line;
    } else {
      const std::string got = vqa_process_answer(prediction);
      EXPECT_EQ(got, v["normalized"].get<std::string>()) << "line " << line << ": " << prediction;
      EXPECT_EQ(got == vqa_process_answer(answer), v["hit"].get<int>() == 1) << "line " << line;
    }
  });
  EXPECT_EQ(n, 290u);
}

}  // namespace
}  // namespace taco
