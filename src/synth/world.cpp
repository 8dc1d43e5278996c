#include "synth/world.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "tools/image_cv.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/work_pool.h"

namespace taco {
namespace {

constexpr double kCameraHeight = 1.6;  // metres
constexpr double kNearest = 3.2, kFarthest = 16.0;
constexpr double kHorizon = 0.36;  // fraction of the image height

enum class Shape { kBox, kBall, kCone, kCylinder, kSign, kTree, kHouse, kCar, kLamp, kCup, kBottle, kFlower, kStar };

struct Category {
  const char* name;
  Shape shape;
  double height;  // metres
  double aspect;  // width / height
  bool carries_text;
};

const std::vector<Category>& categories() {
  static const std::vector<Category> c = {
      {"box", Shape::kBox, 0.7, 1.0, true},         {"ball", Shape::kBall, 0.5, 1.0, false},
      {"cone", Shape::kCone, 0.7, 0.7, false},      {"can", Shape::kCylinder, 0.8, 0.6, true},
      {"sign", Shape::kSign, 1.9, 0.8, true},       {"tree", Shape::kTree, 3.0, 0.6, false},
      {"house", Shape::kHouse, 3.2, 1.1, true},     {"car", Shape::kCar, 1.4, 2.0, true},
      {"lamp", Shape::kLamp, 2.4, 0.35, false},     {"cup", Shape::kCup, 0.45, 1.0, false},
      {"bottle", Shape::kBottle, 0.7, 0.35, false}, {"flower", Shape::kFlower, 0.6, 0.6, false},
      {"star", Shape::kStar, 0.8, 1.0, false},
  };
  return c;
}

struct NamedColor {
  const char* name;
  cv::Vec3b bgr;
};

const std::vector<NamedColor>& colors() {
  static const std::vector<NamedColor> c = {
      {"red", {40, 40, 210}},     {"orange", {30, 140, 245}}, {"yellow", {40, 220, 240}}, {"green", {60, 170, 50}},
      {"blue", {200, 90, 30}},    {"purple", {150, 50, 130}}, {"pink", {190, 150, 250}},  {"brown", {40, 80, 130}},
      {"white", {235, 235, 235}}, {"black", {35, 35, 35}},    {"gray", {140, 140, 140}},
  };
  return c;
}

const std::vector<std::string> kMaterials = {"rubber", "metal", "wooden", "plastic", "glass"};
const std::vector<std::string> kWords = {"OPEN", "EXIT", "SALE", "CAFE", "BANK", "STOP", "TAXI", "SHOP"};

struct Placed {
  const Category* category;
  const NamedColor* color;
  std::string material;
  std::string size;  // "small", "", "large"
  double z;
  cv::Rect2d box;  // pixels, before clipping
  std::string text;
};

double overlap_of_smaller(const cv::Rect2d& a, const cv::Rect2d& b) {
  double inter = (a & b).area();
  double smaller = std::min(a.area(), b.area());
  return smaller > 0 ? inter / smaller : 1.0;
}

// The object's silhouette, drawn with 255 into `mask` (the object's box is `r`).
void draw_silhouette(cv::Mat& mask, Shape shape, const cv::Rect& r) {
  const int x = r.x, y = r.y, w = r.width, h = r.height;
  const cv::Scalar on(255);
  auto poly = [&](std::vector<cv::Point> pts) { cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{pts}, on, cv::LINE_AA); };
  switch (shape) {
    case Shape::kBox:
      cv::rectangle(mask, cv::Rect(x, y + h / 5, w * 4 / 5, h - h / 5), on, cv::FILLED);
      poly({{x, y + h / 5}, {x + w / 5, y}, {x + w, y}, {x + w * 4 / 5, y + h / 5}});
      poly({{x + w * 4 / 5, y + h / 5}, {x + w, y}, {x + w, y + h * 4 / 5}, {x + w * 4 / 5, y + h}});
      break;
    case Shape::kBall:
      cv::circle(mask, {x + w / 2, y + h / 2}, std::min(w, h) / 2, on, cv::FILLED, cv::LINE_AA);
      break;
    case Shape::kCone:
      poly({{x + w / 2, y}, {x + w, y + h}, {x, y + h}});
      break;
    case Shape::kCylinder:
      cv::rectangle(mask, cv::Rect(x, y + h / 10, w, h - h / 5), on, cv::FILLED);
      cv::ellipse(mask, {x + w / 2, y + h / 10}, {w / 2, h / 10}, 0, 0, 360, on, cv::FILLED);
      cv::ellipse(mask, {x + w / 2, y + h - h / 10}, {w / 2, h / 10}, 0, 0, 360, on, cv::FILLED);
      break;
    case Shape::kSign:
      cv::rectangle(mask, cv::Rect(x + w / 2 - std::max(1, w / 16), y + h / 2, std::max(2, w / 8), h / 2), on, cv::FILLED);
      cv::rectangle(mask, cv::Rect(x, y, w, h * 11 / 20), on, cv::FILLED);
      break;
    case Shape::kTree:
      cv::rectangle(mask, cv::Rect(x + w * 2 / 5, y + h * 3 / 5, w / 5, h * 2 / 5), on, cv::FILLED);
      poly({{x + w / 2, y}, {x + w, y + h * 7 / 10}, {x, y + h * 7 / 10}});
      break;
    case Shape::kHouse:
      cv::rectangle(mask, cv::Rect(x + w / 12, y + h * 2 / 5, w - w / 6, h * 3 / 5), on, cv::FILLED);
      poly({{x, y + h * 2 / 5}, {x + w / 2, y}, {x + w, y + h * 2 / 5}});
      break;
    case Shape::kCar:
      cv::rectangle(mask, cv::Rect(x, y + h * 2 / 5, w, h * 2 / 5), on, cv::FILLED);
      poly({{x + w / 5, y + h * 2 / 5}, {x + w * 3 / 10, y}, {x + w * 7 / 10, y}, {x + w * 4 / 5, y + h * 2 / 5}});
      cv::circle(mask, {x + w / 4, y + h * 4 / 5}, h / 5, on, cv::FILLED, cv::LINE_AA);
      cv::circle(mask, {x + w * 3 / 4, y + h * 4 / 5}, h / 5, on, cv::FILLED, cv::LINE_AA);
      break;
    case Shape::kLamp:
      cv::rectangle(mask, cv::Rect(x + w * 2 / 5, y + h / 5, std::max(2, w / 5), h * 4 / 5), on, cv::FILLED);
      cv::circle(mask, {x + w / 2, y + h / 8}, std::max(2, w / 2), on, cv::FILLED, cv::LINE_AA);
      break;
    case Shape::kCup:
      poly({{x, y}, {x + w * 4 / 5, y}, {x + w * 7 / 10, y + h}, {x + w / 10, y + h}});
      cv::ellipse(mask, {x + w * 4 / 5, y + h / 2}, {w / 5, h / 4}, 0, -90, 90, on, std::max(2, w / 12));
      break;
    case Shape::kBottle:
      cv::rectangle(mask, cv::Rect(x, y + h * 2 / 5, w, h * 3 / 5), on, cv::FILLED);
      cv::rectangle(mask, cv::Rect(x + w / 3, y, std::max(2, w / 3), h * 2 / 5), on, cv::FILLED);
      break;
    case Shape::kFlower:
      cv::line(mask, {x + w / 2, y + h / 3}, {x + w / 2, y + h}, on, std::max(2, w / 12));
      for (int k = 0; k < 6; ++k) {
        double a = k * CV_PI / 3;
        cv::circle(mask, {x + w / 2 + static_cast<int>(w / 4 * std::cos(a)), y + h / 4 + static_cast<int>(h / 6 * std::sin(a))},
                   std::max(2, w / 5), on, cv::FILLED, cv::LINE_AA);
      }
      break;
    case Shape::kStar: {
      std::vector<cv::Point> pts;
      for (int k = 0; k < 10; ++k) {
        double a = -CV_PI / 2 + k * CV_PI / 5;
        double rad = (k % 2 == 0 ? 0.5 : 0.2) * std::min(w, h);
        pts.push_back({x + w / 2 + static_cast<int>(rad * std::cos(a)), y + h / 2 + static_cast<int>(rad * std::sin(a))});
      }
      poly(pts);
      break;
    }
  }
}

// Shades the object's pixels by its material; u, v are the pixel's position within the box.
cv::Vec3b shade(const cv::Vec3b& base, const std::string& material, double u, double v, const cv::Vec3b& behind) {
  auto scale = [&](double k) {
    return cv::Vec3b(cv::saturate_cast<uchar>(base[0] * k), cv::saturate_cast<uchar>(base[1] * k),
                     cv::saturate_cast<uchar>(base[2] * k));
  };
  if (material == "metal") {
    double k = 0.65 + 0.55 * (1 - v);
    double highlight = std::exp(-std::pow((u - 0.3) / 0.06, 2));
    cv::Vec3b c = scale(k);
    for (int i = 0; i < 3; ++i) c[i] = cv::saturate_cast<uchar>(c[i] + 120 * highlight);
    return c;
  }
  if (material == "wooden") return scale(0.8 + 0.2 * std::sin(40 * v + 6 * u) * std::sin(3 * u + 1));
  if (material == "plastic") {
    double highlight = std::exp(-(std::pow((u - 0.3) / 0.12, 2) + std::pow((v - 0.25) / 0.1, 2)));
    cv::Vec3b c = scale(0.95 - 0.1 * v);
    for (int i = 0; i < 3; ++i) c[i] = cv::saturate_cast<uchar>(c[i] + 140 * highlight);
    return c;
  }
  if (material == "glass") {
    cv::Vec3b c;
    for (int i = 0; i < 3; ++i) c[i] = cv::saturate_cast<uchar>(0.55 * base[i] + 0.45 * behind[i] + 25 * (1 - v));
    return c;
  }
  return scale(1.0 - 0.2 * v);  // rubber: matte
}

// Where the text goes on each shape that carries it (fractions of the box).
cv::Rect2d text_area(Shape shape) {
  switch (shape) {
    case Shape::kBox: return {0.08, 0.35, 0.64, 0.45};
    case Shape::kCylinder: return {0.12, 0.3, 0.76, 0.35};
    case Shape::kSign: return {0.08, 0.08, 0.84, 0.4};
    case Shape::kHouse: return {0.3, 0.55, 0.4, 0.25};
    case Shape::kCar: return {0.3, 0.5, 0.4, 0.2};
    default: return {0, 0, 0, 0};
  }
}

// Prints `text` centred in `area` on a light label plate (as price tags and number plates
// are), so people and OCR can read it on any material; false (nothing drawn) when it would be
// too small to read.
bool print_text(cv::Mat& img, const std::string& text, const cv::Rect& area) {
  const int font = cv::FONT_HERSHEY_DUPLEX;
  int base = 0;
  cv::Size unit = cv::getTextSize(text, font, 1.0, 2, &base);
  double scale = 0.8 * std::min(area.width / static_cast<double>(unit.width), area.height / static_cast<double>(unit.height));
  if (unit.height * scale < 14) return false;
  int thickness = std::max(1, static_cast<int>(scale * 1.6));
  cv::Size size = cv::getTextSize(text, font, scale, thickness, &base);
  int pad = std::max(3, size.height / 3);
  cv::Rect plate((area.x + area.width / 2) - size.width / 2 - pad, (area.y + area.height / 2) - size.height / 2 - pad,
                 size.width + 2 * pad, size.height + 2 * pad);
  cv::rectangle(img, plate, cv::Scalar(238, 240, 242), cv::FILLED);
  cv::rectangle(img, plate, cv::Scalar(60, 60, 60), 1, cv::LINE_AA);
  cv::putText(img, text, {plate.x + pad, plate.y + pad + size.height}, font, scale, cv::Scalar(25, 25, 25), thickness, cv::LINE_AA);
  return true;
}

std::string article_phrase(const Placed& p) {
  std::string words;
  if (!p.size.empty()) words += p.size + " ";
  words += std::string(p.color->name) + " " + p.material + " " + p.category->name;
  return words;
}

}  // namespace

const std::vector<std::string>& synth_categories() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& c : categories()) n.push_back(c.name);
    return n;
  }();
  return names;
}

const std::vector<std::string>& synth_colors() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& c : colors()) n.push_back(c.name);
    return n;
  }();
  return names;
}

const std::vector<std::string>& synth_materials() { return kMaterials; }

namespace {

// A scene's random draws, in the order it makes them: one generator per scene.
struct SceneRandom {
  std::mt19937_64 rng;
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
};

// The camera: where the horizon is and the focal length that puts the nearest ground at the
// bottom of the picture.
struct Camera {
  int width, height;
  double horizon, focal;
};

// Objects placed far to near, refusing heavy overlaps; every loop is bounded. Sorted far first
// (the drawing order).
std::vector<Placed> place_objects(SceneRandom& r, const SynthOptions& o, const Camera& cam) {
  const int W = cam.width;
  const double horizon = cam.horizon, focal = cam.focal;
  const int wanted = static_cast<int>(o.min_objects + r.pick(static_cast<size_t>(o.max_objects - o.min_objects + 1)));
  std::vector<Placed> placed;
  for (int attempt = 0; attempt < wanted * 25 && static_cast<int>(placed.size()) < wanted; ++attempt) {
    Placed p;
    p.category = &categories()[r.pick(categories().size())];
    p.color = &colors()[r.pick(colors().size())];
    p.material = kMaterials[r.pick(kMaterials.size())];
    double size_roll = r.uniform(0, 1);
    double mult = size_roll < 0.25 ? 0.7 : size_roll > 0.75 ? 1.35 : 1.0;
    p.size = mult < 1 ? "small" : mult > 1 ? "large" : "";
    p.z = r.uniform(kNearest, kFarthest);
    double h = focal * p.category->height * mult / p.z;
    double w = h * p.category->aspect;
    double base_y = horizon + focal * kCameraHeight / p.z;
    double half_span = (W / 2.0) * 0.92 - w / 2;
    if (half_span <= 0 || h < 12) continue;
    double cx = W / 2.0 + r.uniform(-half_span, half_span);
    p.box = cv::Rect2d(cx - w / 2, base_y - h, w, h);
    if (p.box.y < 2) continue;  // taller than the view
    bool clear = true;
    for (const auto& q : placed) clear = clear && overlap_of_smaller(p.box, q.box) < 0.2;
    if (!clear) continue;
    if (p.category->carries_text && r.uniform(0, 1) < o.text_probability)
      p.text = r.uniform(0, 1) < 0.8 ? std::to_string(1 + r.pick(99)) : kWords[r.pick(kWords.size())];
    placed.push_back(std::move(p));
  }
  std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) { return a.z > b.z; });

  return placed;
}

// Sky, then a ground plane whose shade and inverse depth follow the distance.
void paint_ground(SceneRandom& r, const Camera& cam, cv::Mat& img, std::vector<float>& inv) {
  const int W = cam.width, H = cam.height;
  const double horizon = cam.horizon, focal = cam.focal;
  const cv::Vec3d ground_near = cv::Vec3d(r.uniform(60, 120), r.uniform(120, 170), r.uniform(70, 130));
  for (int y = 0; y < H; ++y) {
    cv::Vec3b row;
    float d;
    if (y < horizon) {
      double t = y / horizon;
      row = cv::Vec3b(cv::saturate_cast<uchar>(235 - 20 * t), cv::saturate_cast<uchar>(200 + 25 * t), cv::saturate_cast<uchar>(160 + 60 * t));
      d = static_cast<float>(1.0 / 200.0);
    } else {
      double z = focal * kCameraHeight / std::max(y - horizon, 0.5);
      double t = std::clamp((z - kNearest) / (60 - kNearest), 0.0, 1.0);
      row = cv::Vec3b(cv::saturate_cast<uchar>(ground_near[0] + 60 * t), cv::saturate_cast<uchar>(ground_near[1] + 40 * t),
                      cv::saturate_cast<uchar>(ground_near[2] + 50 * t));
      d = static_cast<float>(1.0 / std::min(z, 200.0));
    }
    img.row(y).setTo(cv::Scalar(row[0], row[1], row[2]));
    std::fill(inv.begin() + static_cast<long>(y) * W, inv.begin() + static_cast<long>(y + 1) * W, d);
  }
  cv::line(img, {0, static_cast<int>(horizon)}, {W, static_cast<int>(horizon)}, {150, 160, 150}, 1, cv::LINE_AA);

}

// Draws the objects far to near over the ground (a shadow, then the shaded silhouette, and its
// depth) and annotates each one that was drawn, with its box as drawn and how many of its
// pixels the nearer objects leave showing. Returns the placed object behind each annotation.
std::vector<const Placed*> draw_objects(const std::vector<Placed>& placed, cv::Mat& img, std::vector<float>& inv, SceneAnnotation& a) {
  const int W = img.cols, H = img.rows;
  cv::Mat mask(H, W, CV_8UC1);
  cv::Mat owner(H, W, CV_16SC1, cv::Scalar(-1));  // the annotated object each pixel shows, or -1
  std::vector<const Placed*> kept;  // the placed object behind each annotated one
  for (const auto& p : placed) {
    cv::Rect r(static_cast<int>(std::lround(p.box.x)), static_cast<int>(std::lround(p.box.y)),
               std::max(2, static_cast<int>(std::lround(p.box.width))), std::max(2, static_cast<int>(std::lround(p.box.height))));
    cv::Rect clip = r & cv::Rect(0, 0, W, H);
    if (clip.area() == 0) continue;
    // A soft shadow on the ground, then the shaded silhouette.
    cv::ellipse(img, {r.x + r.width / 2, r.y + r.height}, {r.width / 2, std::max(1, r.height / 14)}, 0, 0, 360,
                cv::Scalar(40, 60, 40), cv::FILLED, cv::LINE_AA);
    mask(clip).setTo(0);
    draw_silhouette(mask, p.category->shape, r);
    const float d = static_cast<float>(1.0 / p.z);
    const auto index = static_cast<int16_t>(a.objects.size());
    int x1 = W, y1 = H, x2 = -1, y2 = -1;
    int64_t drawn = 0;
    for (int y = clip.y; y < clip.y + clip.height; ++y) {
      const uchar* m = mask.ptr<uchar>(y);
      int16_t* shown = owner.ptr<int16_t>(y);
      cv::Vec3b* px = img.ptr<cv::Vec3b>(y);
      float* dp = inv.data() + static_cast<size_t>(y) * W;
      for (int x = clip.x; x < clip.x + clip.width; ++x) {
        if (m[x] < 128) continue;
        double u = (x - r.x) / static_cast<double>(r.width), v = (y - r.y) / static_cast<double>(r.height);
        cv::Vec3b base = p.color->bgr;
        // Parts that are not the object's colour: tree trunks, car wheels, sign and lamp poles.
        if (p.category->shape == Shape::kTree && v > 0.7) base = cv::Vec3b(30, 60, 95);
        if (p.category->shape == Shape::kCar && v > 0.8) base = cv::Vec3b(25, 25, 25);
        if ((p.category->shape == Shape::kSign && v > 0.55) || (p.category->shape == Shape::kLamp && v > 0.25))
          base = cv::Vec3b(120, 120, 120);
        px[x] = shade(base, p.material, u, v, px[x]);
        dp[x] = d;
        shown[x] = index;
        ++drawn;
        x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x), y2 = std::max(y2, y);
      }
    }
    if (x2 < 0) continue;
    SceneObject obj;
    obj.box = {static_cast<double>(x1), static_cast<double>(y1), static_cast<double>(x2 + 1), static_cast<double>(y2 + 1)};
    obj.label = p.category->name;
    obj.depth_value = d;  // as in inverse_depth; write_world stores it in the .npy's units
    obj.object_pixels = drawn;
    obj.attributes = {p.color->name, p.material};
    if (!p.size.empty()) obj.attributes.push_back(p.size);
    if (!p.text.empty()) {
      cv::Rect2d f = text_area(p.category->shape);
      cv::Rect area(r.x + static_cast<int>(f.x * r.width), r.y + static_cast<int>(f.y * r.height),
                    std::max(1, static_cast<int>(f.width * r.width)), std::max(1, static_cast<int>(f.height * r.height)));
      // Only text wholly inside the picture counts: a cut-off number would be a wrong annotation.
      if ((area & cv::Rect(0, 0, W, H)) == area && print_text(img, p.text, area)) obj.text = p.text;
    }
    a.objects.push_back(std::move(obj));
    kept.push_back(&p);
  }
  std::vector<int64_t> visible(a.objects.size(), 0);
  for (int y = 0; y < H; ++y) {
    const int16_t* shown = owner.ptr<int16_t>(y);
    for (int x = 0; x < W; ++x)
      if (shown[x] >= 0) ++visible[static_cast<size_t>(shown[x])];
  }
  for (size_t i = 0; i < visible.size(); ++i) a.objects[i].visible_pixels = visible[i];
  return kept;
}

// Relations from the geometry: in front of / behind when the distances differ clearly, else
// left of / right of when the positions do.
void add_relations(SceneAnnotation& a, const std::vector<const Placed*>& kept, int W) {
  for (size_t i = 0; i < a.objects.size(); ++i) {
    for (size_t j = i + 1; j < a.objects.size(); ++j) {
      const auto &bi = a.objects[i].box, &bj = a.objects[j].box;
      double dz = kept[j]->z - kept[i]->z;
      double dx = (bj[0] + bj[2]) / 2 - (bi[0] + bi[2]) / 2;
      int ii = static_cast<int>(i), jj = static_cast<int>(j);
      if (std::fabs(dz) > 2.5) a.relations.push_back(dz > 0 ? SceneRelation{ii, "in front of", jj} : SceneRelation{jj, "in front of", ii});
      else if (std::fabs(dx) > 0.1 * W) a.relations.push_back(dx > 0 ? SceneRelation{ii, "left of", jj} : SceneRelation{jj, "left of", ii});
    }
  }
}

std::string caption_of(const std::vector<const Placed*>& kept) {
  std::string caption;
  for (size_t i = 0; i < kept.size(); ++i)
    caption += (i == 0 ? "A scene with a " : i + 1 == kept.size() ? " and a " : ", a ") + article_phrase(*kept[i]);
  return caption.empty() ? "An empty field." : caption + ".";

}

}  // namespace

SynthScene render_scene(uint64_t seed, uint64_t index, const SynthOptions& o) {
  if (o.width < 64 || o.height < 64) throw Error("synthetic images must be at least 64 x 64");
  if (o.min_objects < 0 || o.max_objects < o.min_objects || o.max_objects > 1000)
    throw Error("synthetic scenes hold 0 to 1000 objects, and min_objects <= max_objects");
  // One generator per scene, seeded by (seed, index): the same scene for any thread count.
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(index),
                    static_cast<uint32_t>(index >> 32), 0x7ac0u};
  SceneRandom r{std::mt19937_64(seq)};
  Camera cam{o.width, o.height, kHorizon * o.height, 0};
  cam.focal = (0.98 * o.height - cam.horizon) * kNearest / kCameraHeight;

  const std::vector<Placed> placed = place_objects(r, o, cam);
  cv::Mat img(o.height, o.width, CV_8UC3);
  std::vector<float> inv(static_cast<size_t>(o.width) * o.height);
  paint_ground(r, cam, img, inv);

  SceneAnnotation a;
  a.id = std::to_string(seed) + "-" + std::to_string(index);
  a.source = "taco-synth";
  a.width = o.width;
  a.height = o.height;
  const std::vector<const Placed*> kept = draw_objects(placed, img, inv, a);
  add_relations(a, kept, o.width);
  a.caption = caption_of(kept);

  SynthScene scene;
  scene.annotation = std::move(a);
  scene.image = image_from_mat(std::move(img));
  scene.inverse_depth = std::move(inv);
  return scene;
}

SynthSummary write_world(const std::string& out, size_t n, uint64_t seed, int jobs, const SynthOptions& options,
                         const std::function<void()>& on_scene) {
  const auto start = std::chrono::steady_clock::now();
  make_dirs(out + "/images");
  make_dirs(out + "/depth");
  std::vector<Json> records(n);
  std::atomic<size_t> objects{0};
  // A failure stops the others (parallel_for starts no further scene): a world with holes is not written.
  auto render = [&](size_t i) {
    SynthScene s = render_scene(seed, i, options);
    const std::string id = s.annotation.id;
    write_file(out + "/images/" + id + ".png", s.image.encode(".png"));
    // Depth as uint16 of 10000 x inverse depth: exact to 1e-4 at a quarter of float32's size.
    std::vector<uint16_t> q(s.inverse_depth.size());
    for (size_t k = 0; k < q.size(); ++k) q[k] = static_cast<uint16_t>(std::lround(s.inverse_depth[k] * 10000.0));
    for (auto& o : s.annotation.objects) o.depth_value = static_cast<double>(std::lround(*o.depth_value * 10000.0));
    write_file(out + "/depth/" + id + ".npy", encode_npy_u16({static_cast<size_t>(s.annotation.height),
                                                              static_cast<size_t>(s.annotation.width)}, q.data()));
    s.annotation.depth_path = "depth/" + id + ".npy";
    objects += s.annotation.objects.size();
    records[i] = scene_annotation_to_json(s.annotation, "images/" + id + ".png");
    if (on_scene) on_scene();
  };
  try {
    parallel_for(n, static_cast<size_t>(std::max(1, jobs)), render);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // OpenCV's, say: a failure of the input, not of taco
    throw Error(e.what());
  }
  Json all = Json::object();
  for (size_t i = 0; i < n; ++i) all[std::to_string(seed) + "-" + std::to_string(i)] = std::move(records[i]);
  write_file(out + "/scene-graph-annotations.json", all.dump());
  SynthSummary summary;
  summary.scenes = n;
  summary.objects = objects;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace taco
