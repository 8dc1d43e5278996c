// libFuzzer target for the response parser: any bytes must give a step or a typed error,
// never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cota/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  taco::ParseResult r = taco::parse_response(text);
  if (r.ok() == (r.error_kind != taco::ParseErrorKind::kNone)) __builtin_trap();
  if (r.ok()) (void)r.step->to_json().dump(-1, ' ', false, taco::Json::error_handler_t::replace);
  (void)taco::parse_lenient_json(text);
  return 0;
}
