// Image: a decoded 8-bit BGR image, shared cheaply by value (copies share pixels; pixels are
// never modified in place). OpenCV stays out of this header: tools that work on pixels include
// tools/image_cv.h. Thread-safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace taco {

// The default cap on width*height, against decompression bombs (a 20 KB PNG can declare
// 50000x50000). Input files larger than this are refused before they are decoded.
inline constexpr int64_t kDefaultMaxPixels = 64LL * 1000 * 1000;

class Image {
 public:
  struct Impl;

  Image() = default;
  // Reads and decodes a file. Throws Error for a missing, unreadable or oversized image.
  static Image load(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);
  static Image decode(const std::string& bytes, int64_t max_pixels = kDefaultMaxPixels,
                      const std::string& what = "image");

  bool empty() const { return !impl_; }
  int width() const;
  int height() const;
  // Encodes as ".png" or ".jpg" (at `jpeg_quality`).
  std::string encode(const std::string& extension = ".png", int jpeg_quality = 95) const;

  const std::shared_ptr<const Impl>& impl() const { return impl_; }
  explicit Image(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

// The MIME type of encoded image bytes by their magic number ("image/png", ...), or "" when
// unknown.
std::string image_mime_type(const std::string& bytes);

// Width and height from an encoded image's header (PNG, JPEG, GIF, BMP, WebP, TIFF, Netpbm)
// without decoding it; false when the header is not understood.
bool image_header_size(const std::string& bytes, int64_t& width, int64_t& height);

// The bytes of an image sent as a base64 data: URL (data:image/png;base64,...), its size
// checked against `max_pixels` from the header before anything decodes it (taco serve's and
// taco mcp's images). Throws Error saying what is wrong.
std::string data_url_image_bytes(const std::string& url, int64_t max_pixels);

}  // namespace taco
