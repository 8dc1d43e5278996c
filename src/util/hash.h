// Small integer hashes that give the same bits on every platform (std::hash does not promise
// that): splitmix64 (Steele, Lea and Flood), for seeded choices and reproducible draws.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace taco {

inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

// splitmix64's output function: spreads every input bit over the whole word.
inline uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// One splitmix64 step from state x: the value a generator at state x yields.
inline uint64_t splitmix64(uint64_t x) { return mix64(x + kGoldenGamma); }

// A string's hash, the same on every platform and standard library: FNV-1a over the bytes,
// then mix64 to spread them. For choices that must be reproducible (which questions are asked
// directly, the oracle's confidences, export's file names, a reply's sampling seed); never for
// security.
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}

// hash_bytes as 16 hex digits, for file names.
inline std::string hash_hex(std::string_view s) {
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash_bytes(s)));
  return out;
}

}  // namespace taco
