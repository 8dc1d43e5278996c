#include "util/json.h"

#include <set>
#include <vector>

#include "util/error.h"
#include "util/strings.h"

namespace taco {

std::string json_limit_problem(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return "JSON of " + byte_size_text(text.size()) + ", over the limit of " + byte_size_text(limits.max_bytes);
  // A linear scan, strings skipped: no recursion, no allocation.
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size(); ++i) {
        i = text.find_first_of("\"\\", i);
        if (i == std::string_view::npos) return "";  // unterminated: the parser says so
        if (text[i] == '\\') ++i;
        else break;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > limits.max_depth) return "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels";
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return "";
}

Json parse_json(std::string_view text, const JsonLimits& limits) {
  if (std::string problem = json_limit_problem(text, limits); !problem.empty()) throw Error(problem);
  try {
    if (!limits.refuse_duplicate_keys) return Json::parse(text);
    std::vector<std::set<std::string>> keys;  // of each object being read
    std::string duplicate;
    Json j = Json::parse(text, [&](int, Json::parse_event_t event, Json& parsed) {
      if (event == Json::parse_event_t::object_start) keys.emplace_back();
      else if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
      else if (event == Json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
               duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    });
    if (!duplicate.empty()) throw Error("the key \"" + excerpt(duplicate, 80) + "\" is given twice in one object");
    return j;
  } catch (const Json::parse_error& e) {
    // nlohmann quotes the whole token it last read, which may be the whole input.
    std::string what = e.what();
    if (size_t at = what.find("; last read: "); at != std::string::npos) what.resize(at);
    if (size_t at = what.find("] "); at != std::string::npos) what.erase(0, at + 2);
    throw Error("malformed JSON at byte " + std::to_string(e.byte) + " (" + excerpt(what, 160) + ")");
  } catch (const Json::exception& e) {
    throw Error("malformed JSON (" + excerpt(e.what(), 160) + ")");
  }
}

Json parse_json_or_discarded(std::string_view text, const JsonLimits& limits) {
  if (!json_limit_problem(text, limits).empty()) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, false);
}

int json_bounded_int(const Json& v, const std::string& name, int64_t low, int64_t high, const std::string& what) {
  if (!v.is_number_integer()) throw Error(what + ": " + name + " must be a whole number, not " + excerpt(v.dump(), 40));
  const bool in_range = v.is_number_unsigned()
                            ? v.get<uint64_t>() <= static_cast<uint64_t>(high) && static_cast<int64_t>(v.get<uint64_t>()) >= low
                            : v.get<int64_t>() >= low && v.get<int64_t>() <= high;
  if (!in_range)
    throw Error(what + ": " + name + " is " + excerpt(v.dump(), 40) + "; it must be " + std::to_string(low) + " to " +
                std::to_string(high));
  return static_cast<int>(v.get<int64_t>());
}

}  // namespace taco
