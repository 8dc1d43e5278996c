#include "vision/vision_heads.h"

#include <algorithm>
#include <cmath>

#include "tools/vision.h"

namespace taco {
namespace {

// The depth network's output is 10 x inverse depth in 1 / metres (values near 1 train better
// than the world's 0.06 to 0.5).
constexpr double kDepthOutputScale = 0.1;

// Two peaks of different categories whose boxes overlap this much are one object seen twice
// (the weaker is the detector's second guess at its category). On the validation world they
// were 3 in 5 of the false boxes at useful thresholds; the world's own objects never overlap
// this much (no pair of a 200-scene world reaches IoU 0.5).
constexpr double kSameObjectIoU = 0.6;

// CenterNet's radius: the largest shift of a box's corners that keeps its IoU with the true box
// at `overlap` or more, in output cells.
double gaussian_radius(double h, double w, double overlap = 0.7) {
  const double b1 = h + w, c1 = w * h * (1 - overlap) / (1 + overlap);
  const double r1 = (b1 + std::sqrt(b1 * b1 - 4 * c1)) / 2;
  const double b2 = 2 * (h + w), c2 = (1 - overlap) * w * h;
  const double r2 = (b2 + std::sqrt(b2 * b2 - 16 * c2)) / 2;
  const double a3 = 4 * overlap, b3 = -2 * overlap * (h + w), c3 = (overlap - 1) * w * h;
  const double r3 = (b3 + std::sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return std::min({r1, r2, r3});
}

// Where each channel group starts in the detector's output.
struct Channels {
  int64_t categories, size, offset, color, material, object_size, end;
  explicit Channels(const VisionModelConfig& c)
      : categories(static_cast<int64_t>(c.categories.size())),
        size(categories),
        offset(size + 2),
        color(offset + 2),
        material(color + static_cast<int64_t>(c.colors.size())),
        object_size(material + static_cast<int64_t>(c.materials.size())),
        end(object_size + static_cast<int64_t>(c.sizes.size())) {}
};

struct CentreTargets {
  torch::Tensor heat;                                  // [N, K, h, w]
  std::vector<int64_t> cells;                          // n * h * w + y * w + x, one per object
  std::vector<float> size, offset;                     // two per object: in cells
  std::vector<int64_t> color, material, object_size;  // one per object
};

CentreTargets centre_targets(const std::vector<const VisionExample*>& batch, const VisionModelConfig& c, int64_t h, int64_t w) {
  const int64_t k = static_cast<int64_t>(c.categories.size()), n = static_cast<int64_t>(batch.size());
  CentreTargets t;
  std::vector<float> heat(static_cast<size_t>(n * k * h * w), 0.f);
  for (int64_t b = 0; b < n; ++b) {
    for (const auto& o : batch[static_cast<size_t>(b)]->objects) {
      const double bw = (o.box[2] - o.box[0]) * static_cast<double>(w), bh = (o.box[3] - o.box[1]) * static_cast<double>(h);
      const double cx = (o.box[0] + o.box[2]) / 2 * static_cast<double>(w), cy = (o.box[1] + o.box[3]) / 2 * static_cast<double>(h);
      const int64_t x = std::clamp<int64_t>(static_cast<int64_t>(cx), 0, w - 1), y = std::clamp<int64_t>(static_cast<int64_t>(cy), 0, h - 1);
      const int radius = std::max(0, static_cast<int>(gaussian_radius(bh, bw)));
      const double sigma = (2 * radius + 1) / 6.0;
      float* plane = heat.data() + static_cast<size_t>((b * k + o.category) * h * w);
      for (int64_t yy = std::max<int64_t>(0, y - radius); yy <= std::min<int64_t>(h - 1, y + radius); ++yy)
        for (int64_t xx = std::max<int64_t>(0, x - radius); xx <= std::min<int64_t>(w - 1, x + radius); ++xx) {
          const double d2 = static_cast<double>((xx - x) * (xx - x) + (yy - y) * (yy - y));
          float& v = plane[yy * w + xx];
          v = std::max(v, static_cast<float>(std::exp(-d2 / (2 * sigma * sigma))));
        }
      plane[y * w + x] = 1.f;
      t.cells.push_back(b * h * w + y * w + x);
      t.size.insert(t.size.end(), {static_cast<float>(bw), static_cast<float>(bh)});
      t.offset.insert(t.offset.end(), {static_cast<float>(cx - static_cast<double>(x)), static_cast<float>(cy - static_cast<double>(y))});
      t.color.push_back(o.color);
      t.material.push_back(o.material);
      t.object_size.push_back(o.size);
    }
  }
  t.heat = torch::from_blob(heat.data(), {n, k, h, w}, torch::kFloat).clone();
  return t;
}

torch::Tensor long_tensor(const std::vector<int64_t>& v, torch::Device device) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kLong).clone().to(device);
}

torch::Tensor float_pairs(const std::vector<float>& v, torch::Device device) {
  return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size() / 2), 2}, torch::kFloat).clone().to(device);
}

}  // namespace

torch::Tensor detector_loss(const torch::Tensor& out, const std::vector<const VisionExample*>& batch, const VisionModelConfig& c) {
  const Channels ch(c);
  const int64_t h = out.size(2), w = out.size(3);
  CentreTargets t = centre_targets(batch, c, h, w);
  const torch::Tensor gt = t.heat.to(out.device());
  const torch::Tensor p = torch::sigmoid(out.narrow(1, 0, ch.categories)).clamp(1e-4, 1 - 1e-4);
  const torch::Tensor pos = gt.eq(1).to(torch::kFloat);
  const torch::Tensor pos_loss = (torch::log(p) * (1 - p).pow(2) * pos).sum();
  const torch::Tensor neg_loss = (torch::log(1 - p) * p.pow(2) * (1 - gt).pow(4) * (1 - pos)).sum();
  const double positives = std::max<double>(1.0, static_cast<double>(t.cells.size()));
  torch::Tensor loss = -(pos_loss + neg_loss) / positives;
  if (t.cells.empty()) return loss;
  const torch::Tensor at = out.permute({0, 2, 3, 1}).reshape({-1, out.size(1)}).index_select(0, long_tensor(t.cells, out.device()));
  namespace F = torch::nn::functional;
  loss = loss + 0.1 * F::l1_loss(at.narrow(1, ch.size, 2), float_pairs(t.size, out.device())) +
         F::l1_loss(at.narrow(1, ch.offset, 2), float_pairs(t.offset, out.device())) +
         F::cross_entropy(at.narrow(1, ch.color, ch.material - ch.color), long_tensor(t.color, out.device())) +
         F::cross_entropy(at.narrow(1, ch.material, ch.object_size - ch.material), long_tensor(t.material, out.device())) +
         F::cross_entropy(at.narrow(1, ch.object_size, ch.end - ch.object_size), long_tensor(t.object_size, out.device()));
  return loss;
}

torch::Tensor depth_loss(const torch::Tensor& out, const std::vector<const VisionExample*>& batch, const VisionModelConfig&) {
  const int64_t h = out.size(2), w = out.size(3);
  std::vector<float> target;
  target.reserve(static_cast<size_t>(static_cast<int64_t>(batch.size()) * h * w));
  for (const VisionExample* e : batch) {
    if (static_cast<int64_t>(e->inverse_depth.size()) != h * w) throw std::logic_error("depth target of the wrong size");
    target.insert(target.end(), e->inverse_depth.begin(), e->inverse_depth.end());
  }
  const torch::Tensor gt =
      torch::from_blob(target.data(), {static_cast<int64_t>(batch.size()), 1, h, w}, torch::kFloat).clone().to(out.device());
  return torch::nn::functional::l1_loss(out * kDepthOutputScale, gt) / kDepthOutputScale;
}

std::vector<SceneObject> decode_objects(const torch::Tensor& out, const VisionModelConfig& c, int width, int height, double threshold,
                                        size_t max_objects) {
  const Channels ch(c);
  const torch::Tensor o = out.to(torch::kCPU).to(torch::kFloat).contiguous();
  const int64_t h = o.size(1), w = o.size(2);
  const torch::Tensor heat = torch::sigmoid(o.narrow(0, 0, ch.categories));
  const torch::Tensor peak = torch::max_pool2d(heat.unsqueeze(0), {3, 3}, {1, 1}, {1, 1}).squeeze(0);
  const torch::Tensor kept = heat.eq(peak).logical_and(heat.ge(threshold));
  const torch::Tensor where = kept.nonzero();  // [M, 3]: category, y, x
  const auto cell = where.accessor<int64_t, 2>();
  const auto v = o.accessor<float, 3>();
  const auto hv = heat.accessor<float, 3>();
  auto best = [&](int64_t from, int64_t count, int64_t y, int64_t x) {
    int64_t top = from;
    for (int64_t i = from; i < from + count; ++i)
      if (v[i][y][x] > v[top][y][x]) top = i;
    return static_cast<size_t>(top - from);
  };
  std::vector<SceneObject> found;
  for (int64_t m = 0; m < where.size(0); ++m) {
    const int64_t k = cell[m][0], y = cell[m][1], x = cell[m][2];
    const double cx = (static_cast<double>(x) + v[ch.offset][y][x]) / static_cast<double>(w);
    const double cy = (static_cast<double>(y) + v[ch.offset + 1][y][x]) / static_cast<double>(h);
    const double bw = std::max(0.f, v[ch.size][y][x]) / static_cast<double>(w), bh = std::max(0.f, v[ch.size + 1][y][x]) / static_cast<double>(h);
    SceneObject obj;
    obj.label = c.categories[static_cast<size_t>(k)];
    obj.box = {std::clamp(cx - bw / 2, 0.0, 1.0) * width, std::clamp(cy - bh / 2, 0.0, 1.0) * height,
               std::clamp(cx + bw / 2, 0.0, 1.0) * width, std::clamp(cy + bh / 2, 0.0, 1.0) * height};
    obj.score = hv[k][y][x];
    obj.attributes = {c.colors[best(ch.color, ch.material - ch.color, y, x)], c.materials[best(ch.material, ch.object_size - ch.material, y, x)]};
    const std::string& size = c.sizes[best(ch.object_size, ch.end - ch.object_size, y, x)];
    if (size != "medium") obj.attributes.push_back(size);
    found.push_back(std::move(obj));
  }
  std::stable_sort(found.begin(), found.end(), [](const SceneObject& a, const SceneObject& b) { return *a.score > *b.score; });
  std::vector<SceneObject> kept_objects;
  for (auto& f : found) {
    if (kept_objects.size() == max_objects) break;
    const bool seen = std::any_of(kept_objects.begin(), kept_objects.end(),
                                  [&](const SceneObject& k) { return box_iou(k.box, f.box) >= kSameObjectIoU; });
    if (!seen) kept_objects.push_back(std::move(f));
  }
  return kept_objects;
}

std::vector<float> decode_inverse_depth(const torch::Tensor& out, const VisionModelConfig& c) {
  const torch::Tensor o = out.to(torch::kCPU).to(torch::kFloat).contiguous().clamp_min(0) * (kDepthOutputScale * c.depth_scale);
  return std::vector<float>(o.data_ptr<float>(), o.data_ptr<float>() + o.numel());
}

}  // namespace taco
