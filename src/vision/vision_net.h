// VisionNet: the network of taco's learned vision models (libtorch; only the torch module
// includes this header). A small encoder-decoder: four stride-2 stages of 3x3 convolutions
// (batch norm, ReLU) read the image with two extra channels that say where each pixel is (the
// world's ground plane makes height in the picture a cue to distance and size); a top-down
// path adds each finer stage back until the output stride. The head is a 3x3 convolution and a
// 1x1 one to the config's output channels (vision_config.h).
//
// forward() in eval mode and under torch::NoGradGuard is safe from several threads at once.
#pragma once

#include <torch/torch.h>

#include "vision/vision_config.h"

namespace taco {

struct ConvBnImpl : torch::nn::Module {
  ConvBnImpl(int in, int out, int stride, int dilation = 1);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBn);

struct VisionNetImpl : torch::nn::Module {
  explicit VisionNetImpl(const VisionModelConfig& config);

  // pixels [N, 3, H, W] uint8 RGB at the config's input size -> [N, C, H / s, W / s] float.
  torch::Tensor forward(const torch::Tensor& pixels);

  int output_stride;
  ConvBn stem{nullptr}, down2{nullptr}, mid2{nullptr}, down3{nullptr}, mid3{nullptr}, down4{nullptr}, mid4{nullptr};
  torch::nn::Conv2d lateral3{nullptr}, lateral2{nullptr}, lateral1{nullptr};
  ConvBn merge3{nullptr}, merge2{nullptr}, merge1{nullptr}, head{nullptr};
  torch::nn::Conv2d out{nullptr};
};
TORCH_MODULE(VisionNet);

// Every parameter and buffer (batch norm's running statistics) by name: what a checkpoint holds.
std::vector<std::pair<std::string, torch::Tensor>> vision_tensors(VisionNet& net);

}  // namespace taco
