// SHA-256, for identifying data files and prompt templates in checkpoints and traces (the
// hex digest people compare with `sha256sum`). Not thread-safe per object.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace taco {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  std::string hex_digest();  // finishes the hash; the object is spent afterwards

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// The digest of a file's bytes, read in chunks; throws Error when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace taco
