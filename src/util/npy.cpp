#include "util/npy.h"

#include <cstdint>
#include <cstring>
#include <regex>

#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

template <typename T>
void convert(const char* p, size_t n, bool swap, std::vector<float>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    unsigned char buf[sizeof(T)];
    std::memcpy(buf, p + i * sizeof(T), sizeof(T));
    if (swap)
      for (size_t k = 0; k < sizeof(T) / 2; ++k) std::swap(buf[k], buf[sizeof(T) - 1 - k]);
    T v;
    std::memcpy(&v, buf, sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

}  // namespace

NpyArray parse_npy(const std::string& b, const std::string& what) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw Error(what + ": not a .npy file");
  int major = static_cast<unsigned char>(b[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw Error(what + ": truncated .npy header");
    header_len = 0;
    for (int k = 0; k < 4; ++k) header_len |= static_cast<size_t>(static_cast<unsigned char>(b[8 + k])) << (8 * k);
    offset = 12;
  } else {
    throw Error(what + ": unsupported .npy version " + std::to_string(major));
  }
  if (offset + header_len > b.size()) throw Error(what + ": truncated .npy header");
  std::string header = b.substr(offset, header_len);
  std::smatch m;
  NpyArray a;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']+)')"))) throw Error(what + ": .npy header has no descr");
  a.dtype = m[1];
  if (std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*True)")))
    throw Error(what + ": Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray)");
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) throw Error(what + ": .npy header has no shape");
  std::string dims = m[1];
  size_t count = 1;
  static const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    a.shape.push_back(std::stoul(it->str()));
    count *= a.shape.back();
  }
  const char order = a.dtype[0];
  const std::string kind = a.dtype.substr(1);
  const bool swap = order == '>';
  const char* data = b.data() + offset + header_len;
  const size_t available = b.size() - offset - header_len;
  auto need = [&](size_t elem) {
    if (available < count * elem) throw Error(what + ": .npy data is truncated");
  };
  if (kind == "f4") need(4), convert<float>(data, count, swap, a.values);
  else if (kind == "f8") need(8), convert<double>(data, count, swap, a.values);
  else if (kind == "u1" || kind == "b1") need(1), convert<uint8_t>(data, count, false, a.values);
  else if (kind == "i1") need(1), convert<int8_t>(data, count, false, a.values);
  else if (kind == "u2") need(2), convert<uint16_t>(data, count, swap, a.values);
  else if (kind == "i2") need(2), convert<int16_t>(data, count, swap, a.values);
  else if (kind == "u4") need(4), convert<uint32_t>(data, count, swap, a.values);
  else if (kind == "i4") need(4), convert<int32_t>(data, count, swap, a.values);
  else if (kind == "u8") need(8), convert<uint64_t>(data, count, swap, a.values);
  else if (kind == "i8") need(8), convert<int64_t>(data, count, swap, a.values);
  else throw Error(what + ": unsupported .npy dtype " + a.dtype);
  return a;
}

NpyArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string encode_npy(const std::vector<size_t>& shape, const std::string& descr, const void* data, size_t element_size) {
  std::string dims;
  size_t count = 1;
  for (size_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= d;
  }
  if (shape.size() > 1) dims.erase(dims.size() - 2);  // (3,) keeps its comma, (2, 3) does not
  else if (!shape.empty()) dims.erase(dims.size() - 1);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad so the data starts on a 64-byte boundary, the header ending in '\n'.
  size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(data), count * element_size);
  return out;
}

}  // namespace taco
