#include "util/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "util/error.h"
#include "util/files.h"
#include "util/json.h"

namespace taco {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors are little-endian; taco assumes a little-endian host");

}  // namespace

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t SafeTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const SafeTensor* SafeTensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                                      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

std::string encode_safetensors(const SafeTensorsFile& file) {
  Json header = Json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  size_t offset = 0;
  for (const auto& t : file.tensors) {
    const size_t expected = static_cast<size_t>(t.numel()) * safetensors_dtype_size(t.dtype);
    if (safetensors_dtype_size(t.dtype) == 0 || expected != t.data.size())
      throw Error("tensor " + t.name + ": " + std::to_string(t.data.size()) + " bytes do not hold a " + t.dtype + " " +
                  format_shape(t.shape));
    header[t.name] = Json{{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  while (text.size() % 8) text += ' ';
  std::string out(8, '\0');
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out.reserve(8 + text.size() + offset);
  out += text;
  for (const auto& t : file.tensors) out += t.data;
  return out;
}

void write_safetensors(const std::string& path, const SafeTensorsFile& file) { write_file_atomic(path, encode_safetensors(file)); }

SafeTensorsFile read_safetensors(const std::string& path) {
  const std::string bytes = read_file(path);
  auto fail = [&](const std::string& what) { return Error(path + ": " + what); };
  if (bytes.size() < 8) throw fail("not a safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    throw fail("not a safetensors file, or truncated (its header claims " + std::to_string(n) + " bytes, the file has " +
               std::to_string(bytes.size()) + ")");
  Json header;
  try {
    header = parse_json(std::string_view(bytes).substr(8, n));
  } catch (const Error&) {
    throw fail("not a safetensors file (its header is not JSON)");
  }
  if (!header.is_object()) throw fail("not a safetensors file (its header is not a JSON object)");
  const size_t data_start = 8 + n;
  const size_t data_size = bytes.size() - data_start;
  SafeTensorsFile file;
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw fail("__metadata__ must be an object of strings");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) throw fail("__metadata__ value '" + k + "' must be a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    SafeTensor t;
    t.name = name;
    try {
      t.dtype = info.at("dtype").get<std::string>();
      t.shape = info.at("shape").get<std::vector<int64_t>>();
      auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1]) throw fail("tensor " + name + ": bad data_offsets");
      spans.emplace_back(offsets[0], offsets[1]);
    } catch (const Json::exception&) {
      throw fail("tensor " + name + ": needs dtype, shape and data_offsets");
    }
    const size_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0) throw fail("tensor " + name + ": unknown dtype " + t.dtype);
    for (int64_t d : t.shape)
      if (d < 0) throw fail("tensor " + name + ": negative dimension in " + format_shape(t.shape));
    const auto [begin, end] = spans.back();
    if (end > data_size)
      throw fail("truncated: tensor " + name + " ends at byte " + std::to_string(end) + " of the data, which has " +
                 std::to_string(data_size));
    if (end - begin != static_cast<size_t>(t.numel()) * elem)
      throw fail("tensor " + name + ": " + std::to_string(end - begin) + " bytes do not hold a " + t.dtype + " " +
                 format_shape(t.shape));
    t.data = bytes.substr(data_start + begin, end - begin);
    file.tensors.push_back(std::move(t));
  }
  std::sort(spans.begin(), spans.end());
  size_t covered = 0;
  for (const auto& [begin, end] : spans) {
    if (begin != covered) throw fail("tensors overlap or leave holes in the data");
    covered = end;
  }
  if (covered != data_size) throw fail("trailing bytes after the last tensor (a damaged file?)");
  return file;
}

uint16_t float_to_half(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  x &= 0x7fffffff;
  if (x >= 0x7f800000) return static_cast<uint16_t>(sign | 0x7c00 | (x > 0x7f800000 ? 0x200 : 0));  // inf, nan
  if (x >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);                               // overflow
  if (x < 0x38800000) {                                                                           // subnormal or zero
    if (x < 0x33000000) return static_cast<uint16_t>(sign);
    const int shift = 126 - static_cast<int>(x >> 23);  // 14 .. 24
    const uint32_t mant = (x & 0x7fffff) | 0x800000;
    uint32_t half = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((x >> 13) - (112u << 10));
  const uint32_t rest = x & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);
    exp = 113;
    while (!(mant & 0x400)) mant <<= 1, --exp;
    return std::bit_cast<float>(sign | (exp << 23) | ((mant & 0x3ff) << 13));
  }
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t float_to_bfloat16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // keep nan a nan
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

}  // namespace taco
