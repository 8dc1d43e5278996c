#include "util/npy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>

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

// IEEE half precision, as NumPy's float16.
void convert_half(const char* p, size_t n, bool swap, std::vector<float>& out) {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto lo = static_cast<unsigned char>(p[2 * i + (swap ? 1 : 0)]), hi = static_cast<unsigned char>(p[2 * i + (swap ? 0 : 1)]);
    const int bits = lo | (hi << 8), exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
    const float magnitude = exponent == 0    ? std::ldexp(static_cast<float>(mantissa), -24)
                            : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                             : std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
    out[i] = (bits & 0x8000) ? -magnitude : magnitude;
  }
}

// Fortran-ordered values (first index fastest) rearranged into C order (last index fastest).
std::vector<float> c_order(const std::vector<float>& fortran, const std::vector<size_t>& shape) {
  std::vector<float> out(fortran.size());
  std::vector<size_t> index(shape.size(), 0);
  for (size_t f = 0; f < fortran.size(); ++f) {
    size_t c = 0;
    for (size_t k = 0; k < shape.size(); ++k) c = c * shape[k] + index[k];
    out[c] = fortran[f];
    for (size_t k = 0; k < shape.size() && ++index[k] == shape[k]; ++k) index[k] = 0;
  }
  return out;
}

// The text of a key's value in the header's Python dict literal: up to the comma that ends it
// at bracket depth 0 (a shape's tuple keeps its commas).
std::string header_value(const std::string& header, const std::string& key, const std::string& what) {
  const size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) throw Error(what + ": .npy header has no " + key);
  size_t i = header.find(':', at + key.size() + 2);
  if (i == std::string::npos) throw Error(what + ": .npy header has no value for " + key);
  ++i;
  while (i < header.size() && header[i] == ' ') ++i;
  size_t end = i;
  int depth = 0;
  bool quoted = false;
  for (; end < header.size(); ++end) {
    const char ch = header[end];
    if (ch == '\'') quoted = !quoted;
    else if (quoted) continue;
    else if (ch == '(' || ch == '[') ++depth;
    else if (ch == ')' || ch == ']') --depth;
    else if ((ch == ',' || ch == '}') && depth == 0) break;
  }
  std::string value = header.substr(i, end - i);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

}  // namespace

NpyLayout parse_npy_header(const std::string& b, size_t file_size, const std::string& what) {
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
  // NumPy itself refuses headers over 10,000 bytes unless told otherwise.
  if (header_len > 10000) throw Error(what + ": .npy header of " + std::to_string(header_len) + " bytes (at most 10000 are read)");
  if (offset + header_len > b.size() || offset + header_len > file_size) throw Error(what + ": truncated .npy header");
  const std::string header = b.substr(offset, header_len);
  NpyLayout a;
  a.dtype = header_value(header, "descr", what);
  if (a.dtype.size() < 4 || a.dtype.front() != '\'' || a.dtype.back() != '\'')
    throw Error(what + ": .npy descr " + a.dtype + " is not a plain dtype");
  a.dtype = a.dtype.substr(1, a.dtype.size() - 2);
  const std::string fortran = header_value(header, "fortran_order", what);
  if (fortran != "True" && fortran != "False") throw Error(what + ": .npy fortran_order is " + fortran);
  a.fortran_order = fortran == "True";
  const std::string dims = header_value(header, "shape", what);
  if (dims.size() < 2 || dims.front() != '(' || dims.back() != ')') throw Error(what + ": .npy shape " + dims + " is not a tuple");
  a.data_offset = offset + header_len;
  const size_t available = file_size - a.data_offset;
  a.count = 1;
  for (size_t i = 1; i + 1 < dims.size();) {
    if (!std::isdigit(static_cast<unsigned char>(dims[i]))) {
      if (dims[i] != ',' && dims[i] != ' ' && dims[i] != 'L') throw Error(what + ": .npy shape " + dims + " is not a tuple of sizes");
      ++i;
      continue;
    }
    size_t n = 0;
    for (; i + 1 < dims.size() && std::isdigit(static_cast<unsigned char>(dims[i])); ++i) {
      if (n > (SIZE_MAX - 9) / 10) throw Error(what + ": .npy shape " + dims + " is larger than any file");
      n = n * 10 + static_cast<size_t>(dims[i] - '0');
    }
    a.shape.push_back(n);
    // Past the bytes there are, the data cannot be whole (and the product cannot overflow).
    if (n > 0 && a.count > available / n) throw Error(what + ": .npy data is truncated (shape " + dims + ")");
    a.count *= n;
  }
  const std::string kind = a.dtype.substr(1);
  static const std::string kNumeric[] = {"b1", "u1", "i1", "u2", "i2", "f2", "u4", "i4", "f4", "u8", "i8", "f8"};
  if (std::find(std::begin(kNumeric), std::end(kNumeric), kind) != std::end(kNumeric)) a.element_size = static_cast<size_t>(kind[1] - '0');
  if (a.element_size && available < a.count * a.element_size) throw Error(what + ": .npy data is truncated");
  return a;
}

NpyArray parse_npy(const std::string& b, const std::string& what) {
  const NpyLayout layout = parse_npy_header(b, b.size(), what);
  NpyArray a;
  a.shape = layout.shape;
  a.dtype = layout.dtype;
  const char* data = b.data() + layout.data_offset;
  const size_t available = b.size() - layout.data_offset, count = layout.count;
  const char order = a.dtype[0];
  const std::string kind = a.dtype.substr(1);
  const bool swap = order == '>';
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
  else if (kind == "f2") need(2), convert_half(data, count, swap, a.values);
  else throw Error(what + ": unsupported .npy dtype " + a.dtype);
  if (layout.fortran_order) a.values = c_order(a.values, a.shape);
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
