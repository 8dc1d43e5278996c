// The words taco's answer rules read (eval/answer_match.h): numbers written out, casual yes and
// no, spelling variants and plurals, carrier phrases, refusals, and closed classes of words
// (colors, materials, animals, ...) whose members are never one another's synonyms. Pure
// functions on lower-case, normalized text; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace taco {

// Unicode that models write for ASCII: U+2212 and the dashes as '-', vulgar fractions
// ("1½" -> "1 1/2"), non-breaking and thin spaces as ' '.
std::string ascii_math(const std::string& text);

// The number a run of number words says: "twenty-one", "a dozen", "minus three", "one and a
// half", "one point two million", "two thousand and five". Reads the longest run starting at
// word `first` of `words`; `used` gets how many words it took. nullopt when word `first`
// starts none.
std::optional<double> number_from_words(const std::vector<std::string>& words, size_t first, size_t& used);

// "yes" or "no" when a reply opens with one, plainly or casually ("Yeah", "Nope", "Nah, just a
// collar", "Definitely", "Absolutely not", "Of course", "Not at all"); "" otherwise.
std::string casual_yes_no(const std::string& normalized);

// True when the reply declines to answer: "I cannot determine ...", "not sure", "unclear".
bool is_refusal(const std::string& normalized);

// The words as one spelling: British to American ("grey", "colour", "racquet"), each word
// singular ("plums" -> "plum", "boxes" -> "box", "people" stays), "wooden" -> "wood".
std::string canonical_words(const std::string& normalized);

// The answer without a short carrier around it: "it's yellow" -> "yellow", "the car is gray"
// -> "gray" (given the question's subject is unknown: any "<words> is|are" up to four words),
// "yellow in color" -> "yellow", "there is a cat" -> "cat".
std::string without_carrier(const std::string& normalized);

// The closed classes a word belongs to ("color", "material", "animal", ...; "orange" is a color
// and a fruit) and its meaning in each (synonyms share one: "couch" and "sofa", "bike" and
// "bicycle"); none for a word outside them.
struct WordClass {
  std::string name, meaning;
};
std::vector<WordClass> word_classes(const std::string& canonical_word);

// The closed-class words of a text, each as (class, meaning), negated ones ("not red") left out.
std::vector<WordClass> class_words(const std::string& canonical_text);

}  // namespace taco
