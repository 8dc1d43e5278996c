// Base64 encoding and decoding (RFC 4648, standard alphabet, padded). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace taco {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not valid base64 (whitespace is ignored).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace taco
