// Reading and writing NumPy .npy arrays (format versions 1-3), as used for depth maps (H x W)
// and segmentation masks (n x H x W) in Visual-Genome-style annotation sets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace taco {

struct NpyArray {
  std::vector<size_t> shape;
  std::string dtype;          // NumPy's descr, e.g. "<f4", "|b1"
  std::vector<float> values;  // every element converted to float, in C order (whatever the file's)

  size_t size() const { return values.size(); }
};

// Where an .npy file's data lies and how it is laid out, from its header.
struct NpyLayout {
  std::vector<size_t> shape;
  std::string dtype;            // NumPy's descr, e.g. "<f4", "|b1"
  bool fortran_order = false;
  size_t data_offset = 0;       // bytes before the data
  size_t count = 0;             // elements
  size_t element_size = 0;      // bytes per element (0 for a dtype that is not a plain number)
};

// The header of an .npy file whose first bytes are `head` (the header's whole) and whose size
// is `file_size`: throws Error naming `what` for a damaged header or data shorter than the shape.
NpyLayout parse_npy_header(const std::string& head, size_t file_size, const std::string& what);

// Reads any numeric or bool dtype (float16 included), in C or Fortran order. Throws Error
// naming the file for anything else (object or structured arrays, a truncated file, a header
// over NumPy's own 10,000-byte limit).
NpyArray read_npy(const std::string& path);
NpyArray parse_npy(const std::string& bytes, const std::string& what = "npy");

// An .npy file of C-ordered little-endian data: `descr` is NumPy's dtype ("<f4", "<u2", ...)
// and `element_size` its size in bytes.
std::string encode_npy(const std::vector<size_t>& shape, const std::string& descr, const void* data, size_t element_size);

inline std::string encode_npy_f32(const std::vector<size_t>& shape, const float* data) {
  return encode_npy(shape, "<f4", data, sizeof(float));
}
inline std::string encode_npy_u16(const std::vector<size_t>& shape, const uint16_t* data) {
  return encode_npy(shape, "<u2", data, sizeof(uint16_t));
}

}  // namespace taco
