#include "vision/vision_net.h"

namespace taco {

ConvBnImpl::ConvBnImpl(int in, int out, int stride, int dilation) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3)
                                                       .stride(stride)
                                                       .padding(dilation)
                                                       .dilation(dilation)
                                                       .bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(out));
}

torch::Tensor ConvBnImpl::forward(const torch::Tensor& x) { return torch::relu(bn(conv(x))); }

namespace {

torch::nn::Conv2d one_by_one(int in, int out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)); }

torch::Tensor upsampled_to(const torch::Tensor& x, const torch::Tensor& like) {
  return torch::nn::functional::interpolate(
      x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{like.size(2), like.size(3)}).mode(torch::kNearest));
}

}  // namespace

VisionNetImpl::VisionNetImpl(const VisionModelConfig& c) : output_stride(c.output_stride) {
  const int c1 = c.channels[0], c2 = c.channels[1], c3 = c.channels[2], c4 = c.channels[3];
  stem = register_module("stem", ConvBn(5, c1, 2));
  down2 = register_module("down2", ConvBn(c1, c2, 2));
  mid2 = register_module("mid2", ConvBn(c2, c2, 1));
  down3 = register_module("down3", ConvBn(c2, c3, 2));
  mid3 = register_module("mid3", ConvBn(c3, c3, 1));
  down4 = register_module("down4", ConvBn(c3, c4, 2));
  mid4 = register_module("mid4", ConvBn(c4, c4, 1, 2));
  lateral3 = register_module("lateral3", one_by_one(c4, c3));
  merge3 = register_module("merge3", ConvBn(c3, c3, 1));
  lateral2 = register_module("lateral2", one_by_one(c3, c2));
  merge2 = register_module("merge2", ConvBn(c2, c2, 1));
  int last = c2;
  if (output_stride == 2) {
    lateral1 = register_module("lateral1", one_by_one(c2, c1));
    merge1 = register_module("merge1", ConvBn(c1, c1, 1));
    last = c1;
  }
  head = register_module("head", ConvBn(last, 2 * last, 1));
  out = register_module("out", one_by_one(2 * last, c.output_channels()));
  // Centre heatmaps start near 0.01 everywhere (CenterNet's prior): the focal loss is then small
  // at first for the many empty cells, instead of swamping the few centres.
  if (c.task == VisionTask::kDetector) {
    torch::NoGradGuard no_grad;
    out->bias.narrow(0, 0, static_cast<int64_t>(c.categories.size())).fill_(-4.6);
  }
}

torch::Tensor VisionNetImpl::forward(const torch::Tensor& pixels) {
  const int64_t n = pixels.size(0), h = pixels.size(2), w = pixels.size(3);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(pixels.device());
  torch::Tensor x = pixels.to(torch::kFloat).div(255.0).sub(0.5);
  torch::Tensor ys = torch::linspace(-1, 1, h, opts).view({1, 1, h, 1}).expand({n, 1, h, w});
  torch::Tensor xs = torch::linspace(-1, 1, w, opts).view({1, 1, 1, w}).expand({n, 1, h, w});
  x = torch::cat({x, xs, ys}, 1);
  torch::Tensor s1 = stem(x);
  torch::Tensor s2 = mid2(down2(s1));
  torch::Tensor s3 = mid3(down3(s2));
  torch::Tensor s4 = mid4(down4(s3));
  torch::Tensor t3 = merge3(s3 + upsampled_to(lateral3(s4), s3));
  torch::Tensor t = merge2(s2 + upsampled_to(lateral2(t3), s2));
  if (output_stride == 2) t = merge1(s1 + upsampled_to(lateral1(t), s1));
  return out(head(t));
}

std::vector<std::pair<std::string, torch::Tensor>> vision_tensors(VisionNet& net) {
  std::vector<std::pair<std::string, torch::Tensor>> all;
  for (const auto& p : net->named_parameters()) all.emplace_back(p.key(), p.value());
  for (const auto& b : net->named_buffers())
    if (b.value().is_floating_point()) all.emplace_back(b.key(), b.value());  // not batch norm's step counter: momentum is fixed
  return all;
}

}  // namespace taco
