// Reading and writing NumPy .npy arrays (format versions 1-3, C order), as used for depth maps
// (H x W) and segmentation masks (n x H x W) in Visual-Genome-style annotation sets.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace taco {

struct NpyArray {
  std::vector<size_t> shape;
  std::string dtype;          // NumPy's descr, e.g. "<f4", "|b1"
  std::vector<float> values;  // every element converted to float, in C order

  size_t size() const { return values.size(); }
};

// Reads any numeric or bool dtype. Throws Error naming the file for anything else
// (Fortran order, object arrays, a truncated file).
NpyArray read_npy(const std::string& path);
NpyArray parse_npy(const std::string& bytes, const std::string& what = "npy");

// Writes float32 little-endian data of the given shape.
std::string encode_npy_f32(const std::vector<size_t>& shape, const float* data);

}  // namespace taco
