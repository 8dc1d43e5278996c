// The torchscript backend: TorchScript modules run in-process with libtorch (in the torch
// module, as the learned backend; their headers are slow to compile). docs/tools.md has the export
// recipes; the pre- and post-processing here must match them:
//   depth_model    forward(pixels[1,3,S,S]) -> relative inverse depth [1,h,w] (Depth Anything V2);
//                  pixels resized to S x S (default 518), RGB, ImageNet mean/std.
//   image_encoder  forward(pixels[N,3,S,S]) -> [N,D] (CLIP); shortest side resized to S (224),
//                  centre crop, CLIP mean/std.
//   text_encoder   forward(ids[N,L]) -> [N,D] (CLIP); CLIP BPE, L = 77, padded with 0.
//   detector       forward(pixels[1,3,S,S], ids[Q,L], mask[Q,L]) -> (logits[1,P,Q], boxes[1,P,4])
//                  (OWLv2); the image padded to a square at the bottom right with grey,
//                  resized to S (960), CLIP mean/std; L = 16; boxes are (cx, cy, w, h) of the
//                  padded square; scores are sigmoid(logits), kept above score_threshold (0.1),
//                  then non-maximum suppression per label at IoU 0.5.
//   tags           GetObjects: the image_encoder and text_encoder score a label list
//                  (tags_vocabulary, one label per line, "a photo of a {label}") and keep the
//                  labels whose softmax(100 x similarity) passes tags_threshold (0.05), top 10.
#include <torch/script.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <opencv2/imgproc.hpp>

#include "tools/clip_tokenizer.h"
#include "tools/image_cv.h"
#include "tools/vision.h"
#include "tools/vision_backend.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

constexpr float kImagenetMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImagenetStd[3] = {0.229f, 0.224f, 0.225f};
constexpr float kClipMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
constexpr float kClipStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};

// An RGB float tensor [1,3,H,W] from a BGR image already at the model's size.
torch::Tensor to_tensor(const cv::Mat& bgr, const float mean[3], const float stdev[3]) {
  cv::Mat rgb, f;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(f, CV_32FC3, 1.0 / 255);
  torch::Tensor t = torch::from_blob(f.data, {1, f.rows, f.cols, 3}, torch::kFloat).permute({0, 3, 1, 2}).clone();
  for (int c = 0; c < 3; ++c) t[0][c].sub_(mean[c]).div_(stdev[c]);
  return t;
}

cv::Mat clip_crop(const cv::Mat& bgr, int size) {
  double scale = static_cast<double>(size) / std::min(bgr.cols, bgr.rows);
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(std::max(size, static_cast<int>(std::lround(bgr.cols * scale))),
                                     std::max(size, static_cast<int>(std::lround(bgr.rows * scale)))),
             0, 0, cv::INTER_CUBIC);
  int x = (resized.cols - size) / 2, y = (resized.rows - size) / 2;
  return resized(cv::Rect(x, y, size, size)).clone();
}

class TorchScriptBackend : public VisionBackend {
 public:
  TorchScriptBackend(const Json& o, const std::string& base_dir) : options_(o) {
    auto path = [&](const char* key) { return o.contains(key) ? resolve_path(base_dir, o[key].get<std::string>()) : ""; };
    device_ = torch::Device(o.value("device", "cpu"));
    try {
      load(path("depth_model"), depth_);
      load(path("image_encoder"), image_encoder_);
      load(path("text_encoder"), text_encoder_);
      load(path("detector"), detector_);
      if (o.contains("vocab") || o.contains("merges"))
        tokenizer_ = std::make_unique<ClipTokenizer>(path("vocab"), path("merges"));
      if (o.contains("tags_vocabulary")) {
        std::ifstream in(path("tags_vocabulary"));
        if (!in) throw Error(path("tags_vocabulary") + ": cannot open");
        for (std::string line; std::getline(in, line);)
          if (!line.empty()) tag_labels_.push_back(line);
      }
      if (!depth_ && !image_encoder_ && !text_encoder_ && !detector_)
        unavailable_ = "the torchscript backend needs at least one of depth_model, image_encoder, text_encoder, detector";
      if ((text_encoder_ || detector_) && !tokenizer_)
        unavailable_ = "text_encoder and detector need the CLIP tokenizer files \"vocab\" (vocab.json) and \"merges\" (merges.txt)";
    } catch (const std::exception& e) {
      unavailable_ = e.what();
    }
  }

  std::string name() const override { return "torchscript"; }
  std::string unavailable_reason() const override { return unavailable_; }

  DepthMap depth(const NamedImage& image, ToolContext&) const override {
    const torch::jit::Module& m = require(depth_, "depth_model");
    int size = options_.value("depth_size", 518);
    cv::Mat resized;
    cv::resize(mat_of(image.image), resized, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
    torch::Tensor out = run(m, {to_tensor(resized, kImagenetMean, kImagenetStd)}).toTensor();
    out = out.to(torch::kCPU).to(torch::kFloat).contiguous();
    if (out.dim() == 4) out = out.squeeze(1);
    if (out.dim() != 3 || out.size(0) != 1)
      throw ToolError(ToolFailure::kRuntimeError, "depth_model must return [1, h, w]; it returned " + shape(out));
    DepthMap d;
    d.height = static_cast<int>(out.size(1));
    d.width = static_cast<int>(out.size(2));
    const float* p = out.data_ptr<float>();
    float top = *std::max_element(p, p + out.numel());
    d.values.resize(static_cast<size_t>(out.numel()));
    for (int64_t i = 0; i < out.numel(); ++i) d.values[static_cast<size_t>(i)] = top - p[i];  // inverse depth -> smaller is closer
    return d;
  }

  std::vector<Embedding> embed_images(const std::vector<const NamedImage*>& images, ToolContext&) const override {
    const torch::jit::Module& m = require(image_encoder_, "image_encoder");
    int size = options_.value("image_size", 224);
    std::vector<torch::Tensor> batch;
    for (const NamedImage* im : images) batch.push_back(to_tensor(clip_crop(mat_of(im->image), size), kClipMean, kClipStd));
    return rows(run(m, {torch::cat(batch)}).toTensor(), images.size(), "image_encoder");
  }

  std::vector<Embedding> embed_texts(const std::vector<std::string>& texts, ToolContext&) const override {
    const torch::jit::Module& m = require(text_encoder_, "text_encoder");
    size_t length = options_.value("context_length", 77);
    return rows(run(m, {token_batch(texts, length).first}).toTensor(), texts.size(), "text_encoder");
  }

  std::vector<std::string> tags(const NamedImage& image, ToolContext& ctx) const override {
    if (tag_labels_.empty()) unsupported("list objects without a tags_vocabulary");
    Embedding img = embed_images({&image}, ctx).at(0);
    std::vector<std::string> prompts;
    for (const auto& l : tag_labels_) prompts.push_back("a photo of a " + l);
    std::vector<Embedding> labels = label_embeddings(prompts, ctx);
    std::vector<double> logits;
    for (const auto& e : labels) logits.push_back(100.0 * cosine(img, e));
    double top = *std::max_element(logits.begin(), logits.end()), sum = 0;
    for (double& l : logits) sum += (l = std::exp(l - top));
    std::vector<size_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
    std::vector<std::string> out;
    double threshold = options_.value("tags_threshold", 0.05);
    size_t top_k = options_.value("tags_top_k", 10);
    for (size_t i : order)
      if (logits[i] / sum >= threshold && out.size() < top_k) out.push_back(tag_labels_[i]);
    return out;
  }

  std::vector<Detection> detect(const NamedImage& image, const std::vector<std::string>& queries, ToolContext&) const override {
    const torch::jit::Module& m = require(detector_, "detector");
    if (queries.empty()) return {};
    const cv::Mat& bgr = mat_of(image.image);
    int side = std::max(bgr.cols, bgr.rows), size = options_.value("detector_size", 960);
    cv::Mat square(side, side, CV_8UC3, cv::Scalar(128, 128, 128));
    bgr.copyTo(square(cv::Rect(0, 0, bgr.cols, bgr.rows)));
    cv::resize(square, square, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
    auto [ids, mask] = token_batch(queries, options_.value("detector_context", 16));
    auto out = run(m, {to_tensor(square, kClipMean, kClipStd), ids, mask});
    if (!out.isTuple() || out.toTuple()->elements().size() < 2)
      throw ToolError(ToolFailure::kRuntimeError, "detector must return (logits, boxes)");
    torch::Tensor logits = out.toTuple()->elements()[0].toTensor().to(torch::kCPU).to(torch::kFloat).squeeze(0);
    torch::Tensor boxes = out.toTuple()->elements()[1].toTensor().to(torch::kCPU).to(torch::kFloat).squeeze(0);
    if (logits.dim() != 2 || boxes.dim() != 2 || logits.size(0) != boxes.size(0) ||
        logits.size(1) != static_cast<int64_t>(queries.size()) || boxes.size(1) != 4)
      throw ToolError(ToolFailure::kRuntimeError, "detector outputs have the wrong shapes: " + shape(logits) + " and " + shape(boxes));
    auto [best, which] = torch::sigmoid(logits).max(1);
    const double threshold = options_.value("score_threshold", 0.1);
    const double sx = static_cast<double>(side) / bgr.cols, sy = static_cast<double>(side) / bgr.rows;
    std::vector<Detection> found;
    for (int64_t p = 0; p < boxes.size(0); ++p) {
      double score = best[p].item<double>();
      if (score < threshold) continue;
      double cx = boxes[p][0].item<double>(), cy = boxes[p][1].item<double>();
      double w = boxes[p][2].item<double>(), h = boxes[p][3].item<double>();
      Detection d;
      d.label = queries[static_cast<size_t>(which[p].item<int64_t>())];
      d.box = {std::clamp((cx - w / 2) * sx, 0.0, 1.0), std::clamp((cy - h / 2) * sy, 0.0, 1.0),
               std::clamp((cx + w / 2) * sx, 0.0, 1.0), std::clamp((cy + h / 2) * sy, 0.0, 1.0)};
      d.score = score;
      found.push_back(d);
    }
    std::sort(found.begin(), found.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<Detection> kept;
    for (const auto& d : found) {
      bool suppressed = false;
      for (const auto& k : kept) suppressed = suppressed || (k.label == d.label && box_iou(k.box, d.box) > 0.5);
      if (!suppressed) kept.push_back(d);
    }
    return kept;
  }

 private:
  void load(const std::string& path, std::unique_ptr<torch::jit::Module>& into) {
    if (path.empty()) return;
    try {
      into = std::make_unique<torch::jit::Module>(torch::jit::load(path, device_));
      into->eval();
    } catch (const c10::Error& e) {
      throw Error(path + ": cannot load the TorchScript module (" + std::string(e.what_without_backtrace()) + ")");
    }
  }

  const torch::jit::Module& require(const std::unique_ptr<torch::jit::Module>& m, const char* key) const {
    if (!m) unsupported(std::string("run without a \"") + key + "\" module");
    return *m;
  }

  torch::jit::IValue run(const torch::jit::Module& m, std::vector<torch::Tensor> inputs) const {
    c10::InferenceMode guard;
    std::vector<torch::jit::IValue> args;
    for (auto& t : inputs) args.emplace_back(t.to(device_));
    try {
      return const_cast<torch::jit::Module&>(m).forward(args);
    } catch (const c10::Error& e) {
      throw ToolError(ToolFailure::kRuntimeError, std::string("the TorchScript module failed: ") + e.what_without_backtrace());
    }
  }

  std::pair<torch::Tensor, torch::Tensor> token_batch(const std::vector<std::string>& texts, size_t length) const {
    if (!tokenizer_) unsupported("encode text without the CLIP tokenizer files");
    torch::Tensor ids = torch::zeros({static_cast<int64_t>(texts.size()), static_cast<int64_t>(length)}, torch::kLong);
    torch::Tensor mask = torch::zeros_like(ids);
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<int64_t> tokens = tokenizer_->encode(texts[i]);
      size_t real = std::min(tokens.size(), length);
      std::vector<int64_t> padded = tokenizer_->encode_padded(texts[i], length);
      for (size_t k = 0; k < length; ++k) {
        ids[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = padded[k];
        mask[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = k < real ? 1 : 0;
      }
    }
    return {ids, mask};
  }

  std::vector<Embedding> label_embeddings(const std::vector<std::string>& prompts, ToolContext& ctx) const {
    std::lock_guard<std::mutex> lock(tags_mu_);
    if (tag_embeddings_.empty()) tag_embeddings_ = embed_texts(prompts, ctx);
    return tag_embeddings_;
  }

  static std::vector<Embedding> rows(const torch::Tensor& t, size_t expected, const char* what) {
    torch::Tensor f = t.to(torch::kCPU).to(torch::kFloat).contiguous();
    if (f.dim() != 2 || f.size(0) != static_cast<int64_t>(expected))
      throw ToolError(ToolFailure::kRuntimeError, std::string(what) + " must return [N, D]; it returned " + shape(f));
    std::vector<Embedding> out;
    for (int64_t i = 0; i < f.size(0); ++i) out.emplace_back(f[i].data_ptr<float>(), f[i].data_ptr<float>() + f.size(1));
    return out;
  }

  static double cosine(const Embedding& a, const Embedding& b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
    return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
  }

  static std::string shape(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
  }

  Json options_;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<torch::jit::Module> depth_, image_encoder_, text_encoder_, detector_;
  std::unique_ptr<ClipTokenizer> tokenizer_;
  std::vector<std::string> tag_labels_;
  mutable std::mutex tags_mu_;
  mutable std::vector<Embedding> tag_embeddings_;
  std::string unavailable_;
};

}  // namespace

std::shared_ptr<VisionBackend> make_backend(const Json& options, const std::string& base_dir) {
  return std::make_shared<TorchScriptBackend>(options, base_dir);
}

}  // namespace taco

// The module's one entry point, looked up by make_torchscript_backend (torchscript_loader.cpp).
extern "C" taco::ModuleBackendFactory taco_torchscript_factory() { return &taco::make_backend; }
