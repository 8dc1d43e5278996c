#include "cota/step_grammar.h"

#include <cstring>

namespace taco {

Json cota_step_schema() {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "thought": {"type": "string"},
      "actions": {"type": "array", "maxItems": 1, "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
        "required": ["name", "arguments"]}}
    },
    "required": ["thought", "actions"]
  })");
}
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The keys of the step, quotes included, in the order taco's chains write them.
const char* key_of(int item) {
  switch (item) {
    case 1: return "\"thought\"";
    case 5: return "\"actions\"";
    case 9: return "\"name\"";
    case 13: return "\"arguments\"";
    default: return nullptr;
  }
}

// Number states: after '-', '0', integer digits, '.', fraction digits, 'e', exponent sign,
// exponent digits. A number may end after '0', an integer digit, a fraction or an exponent digit.
enum : uint8_t { kMinus = 1, kZero, kInt, kDot, kFrac, kE, kExpSign, kExp };

}  // namespace

bool StepGrammar::feed(std::string_view bytes) {
  for (char c : bytes)
    if (!step(c)) return false;
  return true;
}

bool StepGrammar::feed(char c) { return step(c); }

bool StepGrammar::step(char c) {
  if (lex_ == kString || lex_ == kEscape || lex_ == kUnicode) {
    if (item_ == kName && string_empty_ && c == '"') return false;  // an action needs a name
    string_empty_ = false;
    if (!string_byte(c)) return false;
    if (lex_ == kNone && item_ != kArguments) item_ = static_cast<Item>(item_ + 1);  // thought or name read
    if (lex_ == kNone && item_ == kArguments) {
      if (key_string_) {
        expect_ = kColon;
      } else {
        value_done();
      }
    }
    return true;
  }
  // One space after each ':' and ',' outside strings, and none anywhere else.
  if (space_due_) {
    space_due_ = false;
    return c == ' ';
  }
  if (item_ == kArguments && !stack_.empty()) return value_byte(c);
  if (const char* key = key_of(item_)) {
    if (c != key[literal_at_]) return false;
    if (key[++literal_at_] == '\0') {
      literal_at_ = 0;
      item_ = static_cast<Item>(item_ + 1);
    }
    return true;
  }
  if (item_ == kDone) return false;  // nothing may follow the step, not even a space
  if (c == ':' || c == ',') space_due_ = true;
  switch (item_) {
    case kOpen: return c == '{' && (item_ = kThoughtKey, true);
    case kColon1: return c == ':' && (item_ = kThought, true);
    case kComma1: return c == ',' && (item_ = kActionsKey, true);
    case kColon2: return c == ':' && (item_ = kListOpen, true);
    case kListOpen: return c == '[' && (item_ = kActionOpen, true);
    case kActionOpen:
      if (c == ']') return item_ = kClose, true;
      return c == '{' && (item_ = kNameKey, true);
    case kColon3: return c == ':' && (item_ = kName, true);
    case kComma2: return c == ',' && (item_ = kArgumentsKey, true);
    case kColon4: return c == ':' && (item_ = kArguments, true);
    case kThought:
    case kName:
      if (c != '"') return false;
      key_string_ = false;
      return start_string();
    case kArguments:  // only an object, whatever it holds
      if (c != '{') return false;
      stack_.push_back('{');
      expect_ = kKeyOrEnd;
      return true;
    case kActionClose: return c == '}' && (item_ = kListClose, true);
    case kListClose: return c == ']' && (item_ = kClose, true);
    case kClose: return c == '}' && (item_ = kDone, true);
    default: return false;
  }
}

bool StepGrammar::start_string() {
  lex_ = kString;
  utf8_left_ = 0;
  string_empty_ = true;
  return true;
}

bool StepGrammar::string_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  switch (lex_) {
    case kEscape:
      if (c == 'u') {
        lex_ = kUnicode;
        unicode_left_ = 4;
        return true;
      }
      if (std::strchr("\"\\/bfnrt", c) == nullptr || c == '\0') return false;
      lex_ = kString;
      return true;
    case kUnicode:
      if (!is_hex(c)) return false;
      if (--unicode_left_ == 0) lex_ = kString;
      return true;
    default:
      break;
  }
  // Raw bytes: well-formed UTF-8 (a byte-fallback token may write half a character), no
  // control characters.
  if (utf8_left_ > 0) {
    if ((u & 0xC0) != 0x80) return false;
    --utf8_left_;
    return true;
  }
  if (u < 0x20) return false;
  if (u < 0x80) {
    if (c == '"') lex_ = kNone;
    if (c == '\\') lex_ = kEscape;
    return true;
  }
  if (u >= 0xC2 && u <= 0xDF) utf8_left_ = 1;
  else if (u >= 0xE0 && u <= 0xEF) utf8_left_ = 2;
  else if (u >= 0xF0 && u <= 0xF4) utf8_left_ = 3;
  else return false;
  return true;
}

bool StepGrammar::number_byte(char c) {
  const bool digit = is_digit(c);
  switch (number_state_) {
    case kMinus:
      if (c == '0') return number_state_ = kZero, true;
      return digit && (number_state_ = kInt, true);
    case kZero:
    case kInt:
      if (digit && number_state_ == kInt) return true;
      if (c == '.') return number_state_ = kDot, true;
      return (c == 'e' || c == 'E') && (number_state_ = kE, true);
    case kDot:
    case kFrac:
      if (digit) return number_state_ = kFrac, true;
      return number_state_ == kFrac && (c == 'e' || c == 'E') && (number_state_ = kE, true);
    case kE:
      if (c == '+' || c == '-') return number_state_ = kExpSign, true;
      return digit && (number_state_ = kExp, true);
    case kExpSign:
    case kExp:
      return digit && (number_state_ = kExp, true);
    default:
      return false;
  }
}

bool StepGrammar::end_number() {
  return number_state_ == kZero || number_state_ == kInt || number_state_ == kFrac || number_state_ == kExp;
}

bool StepGrammar::close_container() {
  stack_.pop_back();
  value_done();
  return true;
}

void StepGrammar::value_done() {
  if (stack_.empty()) {
    item_ = kActionClose;  // the arguments object is closed
  } else {
    expect_ = kCommaOrEnd;
  }
}

bool StepGrammar::value_byte(char c) {
  if (lex_ == kNumber) {
    if (number_byte(c)) return true;
    if (!end_number()) return false;
    lex_ = kNone;
    value_done();  // the byte that ended the number is read below, as structure
  } else if (lex_ == kLiteral) {
    if (c != literal_[literal_at_]) return false;
    if (literal_[++literal_at_] == '\0') {
      lex_ = kNone;
      literal_at_ = 0;
      value_done();
    }
    return true;
  }
  if (c == ':' || c == ',') space_due_ = true;
  const char top = stack_.back();
  switch (expect_) {
    case kValue:
    case kValueOrEnd:
      if (c == ']' && expect_ == kValueOrEnd) {
        return close_container();
      }
      if (c == '{' || c == '[') {
        stack_.push_back(c);
        expect_ = c == '{' ? kKeyOrEnd : kValueOrEnd;
        return true;
      }
      if (c == '"') {
        key_string_ = false;
        return start_string();
      }
      if (c == '-' || is_digit(c)) {
        lex_ = kNumber;
        number_state_ = c == '-' ? kMinus : c == '0' ? kZero : kInt;
        return true;
      }
      literal_ = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : nullptr;
      if (literal_ == nullptr) return false;
      lex_ = kLiteral;
      literal_at_ = 1;
      return true;
    case kKeyOrEnd:
    case kKey:
      if (c == '}' && expect_ == kKeyOrEnd) {
        return close_container();
      }
      if (c != '"') return false;
      key_string_ = true;
      return start_string();
    case kColon:
      return c == ':' && (expect_ = kValue, true);
    case kCommaOrEnd:
      if (c == ',') {
        expect_ = top == '{' ? kKey : kValue;
        return true;
      }
      if ((c == '}' && top == '{') || (c == ']' && top == '[')) {
        return close_container();
      }
      return false;
  }
  return false;
}

}  // namespace taco
