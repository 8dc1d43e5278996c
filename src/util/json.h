// The JSON value type used across taco, and the one reader for JSON that comes from outside.
//
// nlohmann's default json sorts object keys; taco's formats have a meaningful key order
// ("thought" before "actions", "id" first in a trace), so everything uses ordered_json.
//
// JSON from outside (model and MCP server replies, HTTP bodies, trace and record files,
// checkpoint headers, configs) is read with parse_json: its size and nesting are checked
// before a value is built, because copying, printing and comparing a Json recurse, and a
// document nested 100,000 levels deep would overflow the stack.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace taco {

using Json = nlohmann::ordered_json;

struct JsonLimits {
  size_t max_bytes = size_t{64} << 20;  // one message or record
  int max_depth = 256;                  // arrays and objects inside each other
  // Configs: a key given twice in one object is an Error naming it (JSON itself lets the
  // last one win without a word, so a user's correction could silently lose to the original).
  bool refuse_duplicate_keys = false;
};
// Whole JSON documents read from a file (annotations, an array of records): bigger than a message.
inline constexpr JsonLimits kJsonFileLimits{size_t{2} << 30, 256, false};
// Config files a person writes.
inline constexpr JsonLimits kJsonConfigLimits{size_t{64} << 20, 256, true};

// `text` parsed, or Error with one short line: "malformed JSON at byte 17 (...)", "JSON nested
// deeper than 256 levels", "JSON of 80 MB, over the limit of 64 MB". Never quotes more than a
// short excerpt of the input.
Json parse_json(std::string_view text, const JsonLimits& limits = {});
// The same, but a value that is_discarded() instead of the Error.
Json parse_json_or_discarded(std::string_view text, const JsonLimits& limits = {});
// Why `text` cannot be parsed within `limits` ("" when its size and nesting are within them):
// the check parse_json makes before building anything.
std::string json_limit_problem(std::string_view text, const JsonLimits& limits = {});

// A whole number within [low, high] from a file taco did not write (a checkpoint's config: it
// must not size a network by itself), or Error "<what>: <name> must be a whole number, not ..." /
// "<what>: <name> is 9999; it must be 1 to 1024".
int json_bounded_int(const Json& value, const std::string& name, int64_t low, int64_t high, const std::string& what);

}  // namespace taco
