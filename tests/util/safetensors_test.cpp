// Safetensors files: written and read back exactly, readable by a few lines of Python, and
// every kind of damage refused with a line that says what is wrong.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "test_support.h"
#include "util/error.h"
#include "util/files.h"
#include "util/safetensors.h"
#include "util/sha256.h"

namespace taco {
namespace {

std::string floats(std::initializer_list<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

SafeTensorsFile sample() {
  SafeTensorsFile f;
  f.metadata["format"] = "pt";
  f.tensors.push_back({"a.weight", "F32", {2, 3}, floats({1, 2, 3, 4, 5, 6.5f})});
  f.tensors.push_back({"b", "F32", {1}, floats({-0.25f})});
  return f;
}

std::string error_of(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsTest, RoundTripIsExact) {
  test::TempDir dir;
  write_safetensors(dir.file("m.safetensors"), sample());
  SafeTensorsFile back = read_safetensors(dir.file("m.safetensors"));
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.metadata.at("format"), "pt");
  EXPECT_EQ(back.find("a.weight")->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(back.find("a.weight")->data, sample().tensors[0].data);
  EXPECT_EQ(back.find("b")->data, floats({-0.25f}));
  EXPECT_EQ(encode_safetensors(back), read_file(dir.file("m.safetensors")));
}

TEST(SafetensorsTest, PythonReadsTheHeaderWithJsonAndStruct) {
  test::TempDir dir;
  write_safetensors(dir.file("m.safetensors"), sample());
  const std::string script =
      "import json, struct, sys\n"
      "data = open(sys.argv[1], 'rb').read()\n"
      "n = struct.unpack('<Q', data[:8])[0]\n"
      "header = json.loads(data[8:8 + n])\n"
      "t = header['a.weight']\n"
      "begin, end = t['data_offsets']\n"
      "values = struct.unpack('<6f', data[8 + n + begin:8 + n + end])\n"
      "print(t['dtype'], t['shape'], values, header['__metadata__']['format'])\n";
  write_file(dir.file("read.py"), script);
  const std::string cmd = "python3 " + dir.file("read.py") + " " + dir.file("m.safetensors") + " > " + dir.file("out.txt");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(read_file(dir.file("out.txt")), "F32 [2, 3] (1.0, 2.0, 3.0, 4.0, 5.0, 6.5) pt\n");
}

TEST(SafetensorsTest, DamageIsNamed) {
  test::TempDir dir;
  const std::string good = encode_safetensors(sample());
  write_file(dir.file("truncated"), good.substr(0, good.size() - 4));
  EXPECT_NE(error_of(dir.file("truncated")).find("truncated: tensor b ends at byte"), std::string::npos) << error_of(dir.file("truncated"));
  write_file(dir.file("short"), "abc");
  EXPECT_NE(error_of(dir.file("short")).find("not a safetensors file (3 bytes)"), std::string::npos);
  write_file(dir.file("zip"), std::string("PK\x03\x04", 4) + std::string(200, 'x'));  // a torch::save archive
  EXPECT_NE(error_of(dir.file("zip")).find("not a safetensors file, or truncated"), std::string::npos) << error_of(dir.file("zip"));
  std::string not_json = good;
  not_json[8] = '[';
  not_json[9] = '!';
  write_file(dir.file("notjson"), not_json);
  EXPECT_NE(error_of(dir.file("notjson")).find("its header is not JSON"), std::string::npos);
  write_file(dir.file("trailing"), good + "xxxx");
  EXPECT_NE(error_of(dir.file("trailing")).find("trailing bytes"), std::string::npos);
  SafeTensorsFile wrong = sample();
  wrong.tensors[0].shape = {4, 3};
  EXPECT_THROW(encode_safetensors(wrong), Error);
}

TEST(SafetensorsTest, HalfAndBfloat16RoundToNearest) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.1f})
    EXPECT_EQ(half_to_float(float_to_half(f)), f == 0.1f ? 0.099975586f : f) << f;
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);          // overflow: infinity
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // a tie rounds to even
  EXPECT_EQ(bfloat16_to_float(float_to_bfloat16(1.0f)), 1.0f);
  EXPECT_EQ(bfloat16_to_float(float_to_bfloat16(3.14159f)), 3.140625f);
}

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000, 'a')), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

}  // namespace
}  // namespace taco
