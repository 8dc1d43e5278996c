// The OpenCV side of Image, for the few files that work on pixels. Include only from .cpp files.
#pragma once

#include <opencv2/core.hpp>

#include "tools/image.h"

namespace taco {

struct Image::Impl {
  cv::Mat mat;  // CV_8UC3, BGR
};

inline const cv::Mat& mat_of(const Image& image) { return image.impl()->mat; }
inline Image image_from_mat(cv::Mat mat) {
  auto impl = std::make_shared<Image::Impl>();
  impl->mat = std::move(mat);
  return Image(std::move(impl));
}

}  // namespace taco
