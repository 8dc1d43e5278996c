// StepGrammar: recognizes, one byte at a time, the prefixes of a CoTA step written the way
// taco's own chains write it,
//   {"thought": "...", "actions": []}   or
//   {"thought": "...", "actions": [{"name": "...", "arguments": {...}}]}
// (strict JSON spaced as Python's json.dumps spaces it, one space after each ':' and ',' and
// none elsewhere; any JSON values inside "arguments"). Fixed spacing matters: a grammar that
// lets a model write spaces anywhere lets a confused one write nothing else. A local
// model decoding under it (`--json-schema cota`) can only write replies that parse as a step:
// each candidate token is fed to a copy of the state and kept only if no byte is refused.
// Every accepted prefix can still be completed, so decoding never paints itself into a corner.
// A plain value: copy it to try a token; not shared between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/json.h"

namespace taco {

// The grammar's steps as a JSON schema, for servers that constrain decoding to one (their
// looser form: spacing is not part of a schema).
Json cota_step_schema();

class StepGrammar {
 public:
  // Feeds bytes; false (and the state is then unusable) when one cannot continue a step.
  bool feed(std::string_view bytes);
  bool feed(char c);
  // The step's closing brace has been read: the reply may (and must) end here.
  bool complete() const { return item_ == kDone; }

 private:
  // The step as a sequence of JSON tokens; whitespace may come between any two.
  enum Item : uint8_t {
    kOpen, kThoughtKey, kColon1, kThought, kComma1, kActionsKey, kColon2, kListOpen,
    kActionOpen, kNameKey, kColon3, kName, kComma2, kArgumentsKey, kColon4, kArguments,
    kActionClose, kListClose, kClose, kDone
  };
  // Where a generic JSON value (the arguments) stands.
  enum Expect : uint8_t { kValue, kKeyOrEnd, kKey, kColon, kCommaOrEnd, kValueOrEnd };
  enum Lex : uint8_t { kNone, kString, kEscape, kUnicode, kNumber, kLiteral };

  bool step(char c);
  bool start_string();
  bool string_byte(char c);  // inside a string; sets lex_ = kNone at its closing quote
  bool value_byte(char c);   // the arguments' generic JSON
  bool number_byte(char c);  // false when `c` does not continue the number (it may end it)
  bool end_number();         // the number is complete where it stands
  void value_done();         // a complete value was read inside the arguments
  bool close_container();    // a '}' or ']' that matches the innermost open container

  Item item_ = kOpen;
  Lex lex_ = kNone;
  uint8_t unicode_left_ = 0;
  uint8_t utf8_left_ = 0;       // continuation bytes still due in a string
  bool key_string_ = false;     // the string being read is a key inside the arguments
  bool string_empty_ = false;   // nothing read yet after the string's opening quote
  bool space_due_ = false;      // a ':' or ',' was read: the next byte is its space
  uint8_t number_state_ = 0;
  size_t literal_at_ = 0;       // bytes of the key or literal (true/false/null) matched so far
  const char* literal_ = nullptr;
  Expect expect_ = kValue;
  std::string stack_;           // the arguments' open containers, '{' or '['
};

}  // namespace taco
