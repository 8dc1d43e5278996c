#include "cota/parse.h"

#include <charconv>
#include <cstdint>

#include "util/utf8.h"

namespace taco {
namespace {

constexpr int kMaxDepth = 64;
// Each '{' tried as the start of a step costs at most one pass over the rest of the text; the
// cap keeps adversarial inputs ("{{{{...") linear-ish instead of quadratic.
constexpr int kMaxStartAttempts = 64;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// A recursive-descent reader for the lenient JSON dialect. On failure it records the position
// and what it expected there, for the error message the model gets back.
class LenientReader {
 public:
  LenientReader(std::string_view text, size_t pos) : s_(text), i_(pos) {}

  bool value(Json& out, int depth) {
    skip_space();
    if (i_ >= s_.size()) return fail("a value");
    if (depth > kMaxDepth) return fail("less nesting");
    char c = s_[i_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"' || c == '\'') {
      std::string str;
      if (!string(str)) return false;
      out = std::move(str);
      return true;
    }
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) return number(out);
    return literal(out);
  }

  size_t pos() const { return i_; }
  size_t error_pos() const { return error_pos_; }
  const char* expected() const { return expected_; }

 private:
  bool fail(const char* expected) {
    error_pos_ = i_;
    expected_ = expected;
    return false;
  }

  void skip_space() {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
  }

  bool object(Json& out, int depth) {
    ++i_;  // '{'
    out = Json::object();
    for (;;) {
      skip_space();
      if (i_ >= s_.size()) return fail("'}'");
      if (s_[i_] == '}') {
        ++i_;
        return true;
      }
      std::string key;
      if (s_[i_] == '"' || s_[i_] == '\'') {
        if (!string(key)) return false;
      } else if (is_ident_start(s_[i_])) {
        size_t start = i_;
        while (i_ < s_.size() && is_ident(s_[i_])) ++i_;
        key.assign(s_.substr(start, i_ - start));
      } else {
        return fail("a property name");
      }
      skip_space();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("':'");
      ++i_;
      Json member;
      if (!value(member, depth + 1)) return false;
      out[key] = std::move(member);
      skip_space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
      } else if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) {
        // A missing comma between members: read on.
      } else if (i_ >= s_.size() || s_[i_] != '}') {
        return fail("',' or '}'");
      }
    }
  }

  bool array(Json& out, int depth) {
    ++i_;  // '['
    out = Json::array();
    for (;;) {
      skip_space();
      if (i_ >= s_.size()) return fail("']'");
      if (s_[i_] == ']') {
        ++i_;
        return true;
      }
      Json element;
      if (!value(element, depth + 1)) return false;
      out.push_back(std::move(element));
      skip_space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
      } else if (i_ >= s_.size() || s_[i_] != ']') {
        return fail("',' or ']'");
      }
    }
  }

  // A quote closes the string only when what follows it could follow a string in JSON (or
  // starts the next key of a member whose comma is missing); an unescaped quote inside the
  // text ("it's", "the "STOP" sign") is kept as a character.
  bool closes_string(size_t quote_pos) const {
    size_t j = quote_pos + 1;
    while (j < s_.size() && is_space(s_[j])) ++j;
    if (j >= s_.size()) return true;
    char n = s_[j];
    return n == ',' || n == '}' || n == ']' || n == ':' || (n == s_[quote_pos] && j > quote_pos + 1);
  }

  bool hex4(size_t at, uint32_t& cp) const {
    if (at + 4 > s_.size()) return false;
    cp = 0;
    for (size_t k = at; k < at + 4; ++k) {
      char h = s_[k];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= static_cast<uint32_t>(h - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool string(std::string& out) {
    const char quote = s_[i_++];
    for (;;) {
      // Copy the run of ordinary characters in one go.
      size_t run = i_;
      while (run < s_.size() && s_[run] != quote && s_[run] != '\\') ++run;
      out.append(s_.data() + i_, run - i_);
      i_ = run;
      if (i_ >= s_.size()) return fail("the end of a string");
      char c = s_[i_];
      if (c == quote) {
        if (closes_string(i_)) {
          ++i_;
          return true;
        }
        out += c;
        ++i_;
        continue;
      }
      // Backslash escape.
      if (i_ + 1 >= s_.size()) return fail("an escape sequence");
      char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '/': out += '/'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case '\'': out += '\''; break;
        case '\n': break;  // a line continuation
        case 'u': {
          uint32_t cp;
          if (!hex4(i_, cp)) return fail("four hex digits after \\u");
          i_ += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            uint32_t low;
            if (hex4(i_ + 2, low) && low >= 0xDC00 && low < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              i_ += 6;
            }
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // a lone surrogate
          append_utf8(out, cp);
          break;
        }
        default:  // Python keeps unknown escapes as they are.
          out += '\\';
          out += e;
      }
    }
  }

  bool number(Json& out) {
    size_t start = i_;
    if (s_[i_] == '+' || s_[i_] == '-') ++i_;
    bool integral = true;
    size_t digits = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_, ++digits;
    if (i_ < s_.size() && s_[i_] == '.') {
      integral = false;
      ++i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_, ++digits;
    }
    if (digits == 0) return fail("a number");
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t mark = i_++;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      size_t exp_digits = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_, ++exp_digits;
      if (exp_digits == 0) {
        i_ = mark;  // "3e" is the number 3 followed by text
      } else {
        integral = false;
      }
    }
    size_t from = start + (s_[start] == '+' ? 1 : 0);
    const char* first = s_.data() + from;
    const char* last = s_.data() + i_;
    if (integral) {
      int64_t v;
      auto [p, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && p == last) {
        out = v;
        return true;
      }
    }
    double d;
    auto [p, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() && ec != std::errc::result_out_of_range) return fail("a number");
    out = d;
    return true;
  }

  bool literal(Json& out) {
    auto word = [&](std::string_view w) {
      if (s_.substr(i_, w.size()) != w) return false;
      size_t end = i_ + w.size();
      if (end < s_.size() && is_ident(s_[end])) return false;
      i_ = end;
      return true;
    };
    if (word("true") || word("True")) {
      out = true;
    } else if (word("false") || word("False")) {
      out = false;
    } else if (word("null") || word("None")) {
      out = nullptr;
    } else {
      return fail("a value");
    }
    return true;
  }

  std::string_view s_;
  size_t i_;
  size_t error_pos_ = 0;
  const char* expected_ = "a value";
};

// Depth-first search for the first object that has an "actions" key.
const Json* find_step_object(const Json& v, int depth = 0) {
  if (depth > kMaxDepth) return nullptr;
  if (v.is_object()) {
    if (v.contains("actions")) return &v;
    for (const auto& [key, member] : v.items())
      if (const Json* found = find_step_object(member, depth + 1)) return found;
  } else if (v.is_array()) {
    for (const auto& element : v)
      if (const Json* found = find_step_object(element, depth + 1)) return found;
  }
  return nullptr;
}

ParseResult error_result(ParseErrorKind kind, std::string message) {
  ParseResult r;
  r.error_kind = kind;
  r.error = std::move(message);
  return r;
}

// Turns the object that holds "actions" into a step, checking its shape.
ParseResult to_step(const Json& obj) {
  StepContent step;
  if (auto it = obj.find("thought"); it != obj.end() && !it->is_null())
    step.thought = it->is_string() ? it->get<std::string>() : it->dump();

  const Json& actions = obj["actions"];
  std::vector<const Json*> items;
  if (actions.is_array()) {
    for (const auto& a : actions) items.push_back(&a);
  } else if (actions.is_object()) {
    items.push_back(&actions);  // a single action without its list
  } else if (!actions.is_null()) {
    return error_result(ParseErrorKind::kSchema, "'actions' must be a list of {\"name\", \"arguments\"} objects.");
  }
  for (const Json* a : items) {
    if (!a->is_object() || !a->contains("name") || !a->contains("arguments"))
      return error_result(ParseErrorKind::kSchema, "missing 'name' or 'arguments' in the parsed action.");
    const Json& name = (*a)["name"];
    if (!name.is_string() || name.get_ref<const std::string&>().empty())
      return error_result(ParseErrorKind::kSchema, "the action 'name' must be a non-empty string.");
    Action action;
    action.name = name.get<std::string>();
    const Json& args = (*a)["arguments"];
    if (args.is_object()) {
      action.arguments = args;
    } else if (args.is_null()) {
      action.arguments = Json::object();
    } else if (args.is_string()) {
      // Some models encode the arguments object as a string.
      auto inner = parse_lenient_json(args.get_ref<const std::string&>());
      if (!inner || !inner->is_object())
        return error_result(ParseErrorKind::kSchema, "the action 'arguments' must be an object.");
      action.arguments = std::move(*inner);
    } else {
      return error_result(ParseErrorKind::kSchema, "the action 'arguments' must be an object.");
    }
    step.actions.push_back(std::move(action));
  }
  ParseResult r;
  r.step = std::move(step);
  return r;
}

}  // namespace

const char* to_string(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::kNone: return "none";
    case ParseErrorKind::kJson: return "json";
    case ParseErrorKind::kSchema: return "schema";
    case ParseErrorKind::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<Json> parse_lenient_json(std::string_view text) {
  LenientReader reader(text, 0);
  Json v;
  if (!reader.value(v, 0)) return std::nullopt;
  size_t i = reader.pos();
  while (i < text.size() && is_space(text[i])) ++i;
  if (i != text.size()) return std::nullopt;
  return v;
}

ParseResult parse_response(std::string_view text) {
  bool saw_object = false;
  bool have_error = false;
  size_t error_pos = 0;
  const char* expected = "";
  int attempts = 0;
  size_t pos = text.find('{');
  while (pos != std::string_view::npos && attempts < kMaxStartAttempts) {
    ++attempts;
    LenientReader reader(text, pos);
    Json v;
    if (reader.value(v, 0)) {
      saw_object = true;
      if (const Json* obj = find_step_object(v)) return to_step(*obj);
      pos = text.find('{', reader.pos());  // objects nested in this one were searched already
    } else {
      if (!have_error) {
        have_error = true;
        error_pos = reader.error_pos();
        expected = reader.expected();
      }
      pos = text.find('{', pos + 1);
    }
  }
  if (saw_object)
    return error_result(ParseErrorKind::kSchema, "the response has no JSON object with an 'actions' list.");
  if (!have_error)
    return error_result(ParseErrorKind::kJson, "Expecting a JSON object: no '{' found in the response.");
  // Line and column like Python's json module reports them, so the feedback reads familiar.
  size_t line = 1, col = 1;
  for (size_t k = 0; k < error_pos && k < text.size(); ++k) {
    if (text[k] == '\n') ++line, col = 1;
    else ++col;
  }
  return error_result(ParseErrorKind::kJson, std::string("Expecting ") + expected + ": line " + std::to_string(line) +
                                                 " column " + std::to_string(col) + " (char " +
                                                 std::to_string(error_pos) + ").");
}

}  // namespace taco
