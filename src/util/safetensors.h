// Safetensors: the tensor file format of the embedded model's checkpoints, readable by
// Python's `safetensors` and by any libtorch version (unlike torch::save archives).
//
// Layout (all integers little-endian):
//   u64 N                 size of the header
//   N bytes               a JSON object: {"<name>": {"dtype": "F32", "shape": [2, 3],
//                         "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
//                         padded with spaces to a multiple of 8
//   data                  the tensors' raw bytes; offsets count from the start of this block,
//                         and the tensors cover it exactly, without holes or overlaps
// Plain value types; reading checks every rule above and names what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace taco {

struct SafeTensor {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", "I64", "I32", "U8", ...
  std::vector<int64_t> shape;
  std::string data;            // raw little-endian bytes, row-major

  int64_t numel() const;
};

struct SafeTensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<SafeTensor> tensors;  // in file order

  const SafeTensor* find(const std::string& name) const;
};

// "[2, 3]": a shape as error messages show it.
std::string format_shape(const std::vector<int64_t>& shape);

// Bytes per element of a safetensors dtype; 0 for a dtype taco does not know.
size_t safetensors_dtype_size(const std::string& dtype);

// The file's bytes; tensors are laid out in the order given.
std::string encode_safetensors(const SafeTensorsFile& file);
// Writes atomically (see write_file_atomic).
void write_safetensors(const std::string& path, const SafeTensorsFile& file);
// Throws Error "<path>: <what is wrong>" for anything that is not a valid safetensors file.
SafeTensorsFile read_safetensors(const std::string& path);

// IEEE half and bfloat16 conversions (round to nearest even), for storing fp32 weights smaller.
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
uint16_t float_to_bfloat16(float f);
float bfloat16_to_float(uint16_t b);

}  // namespace taco
