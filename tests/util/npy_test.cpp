// NumPy .npy reading: what pcota reads is read (Fortran order, float16, H x W x 1 depth maps),
// and hostile headers are one refusal naming the file, never a crash or a read past the end.
#include <gtest/gtest.h>

#include "tools/tool.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/npy.h"

namespace taco {
namespace {

// A version-1 .npy file with this header text and data.
std::string npy(const std::string& header, const std::string& data) {
  std::string h = header + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xFF);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_npy(bytes, "depth.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(NpyTest, CArraysRoundTrip) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  NpyArray a = parse_npy(encode_npy_f32({2, 3}, v));
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyTest, FortranOrderIsRearranged) {
  // np.asfortranarray([[1, 2, 3], [4, 5, 6]], dtype='<f4'): columns first in the file.
  const float columns[6] = {1, 4, 2, 5, 3, 6};
  NpyArray a = parse_npy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                             std::string(reinterpret_cast<const char*>(columns), sizeof columns)));
  EXPECT_EQ(a.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyTest, HalfFloats) {
  // 1.0, -2.5, 65504 (largest half), 2^-24 (smallest subnormal), 0
  const uint16_t halves[5] = {0x3C00, 0xC100, 0x7BFF, 0x0001, 0x0000};
  NpyArray a = parse_npy(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }",
                             std::string(reinterpret_cast<const char*>(halves), sizeof halves)));
  EXPECT_EQ(a.values, (std::vector<float>{1.0f, -2.5f, 65504.0f, 5.9604645e-8f, 0.0f}));
}

TEST(NpyTest, DepthMapsOfOneChannel) {
  const float v[4] = {1, 2, 3, 4};
  DepthMap d = depth_from_inverse(parse_npy(encode_npy_f32({2, 2, 1}, v)), "depth.npy");
  EXPECT_EQ(d.width, 2);
  EXPECT_EQ(d.height, 2);
  EXPECT_EQ(d.values, (std::vector<float>{3, 2, 1, 0}));
  EXPECT_THROW(depth_from_inverse(parse_npy(encode_npy_f32({1, 2, 2}, v)), "depth.npy"), ToolError);
}

TEST(NpyTest, HostileHeadersAreRefused) {
  // A shape whose product overflows 64 bits once passed the truncation check.
  EXPECT_NE(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "abcd"))
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 1), }", ""))
                .find("larger than any file"),
            std::string::npos);
  std::string big("\x93NUMPY\x02\x00", 8);
  big += std::string("\x10\x27\x01\x00", 4);  // 75,536 bytes of header
  big += "{'descr': '" + std::string(80000, 'x');
  EXPECT_NE(error_of(big).find("at most 10000"), std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f4', 'shape': (2,), }", "12345678")).find("no fortran_order"), std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "1234")).find("not a plain dtype"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678")).find("unsupported .npy dtype"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", "12345678")).find("not a tuple of sizes"),
            std::string::npos);
}

}  // namespace
}  // namespace taco
