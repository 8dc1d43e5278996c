#include "cota/visibility.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace taco {
namespace {

std::string shape_text(const std::vector<size_t>& shape) {
  std::string s;
  for (size_t k : shape) s += (s.empty() ? "" : " x ") + std::to_string(k);
  return s.empty() ? "()" : s;
}

}  // namespace

int64_t count_nonzero_bytes(const uint8_t* p, size_t n) {
  // Eight bytes at a time: the high bit of each byte of `t` is set where that byte is not 0.
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL, kHigh = 0x8080808080808080ULL;
  int64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    if (x == 0) continue;
    count += __builtin_popcountll((((x & kLow7) + kLow7) | x) & kHigh);
  }
  for (; i < n; ++i) count += p[i] != 0;
  return count;
}

bool can_be_seen(const SceneObject& object) {
  if (!object.visible_pixels || *object.visible_pixels >= kMinVisiblePixels) return true;
  if (*object.visible_pixels == 0) return false;
  const double whole = object.object_pixels ? static_cast<double>(*object.object_pixels)
                                            : std::max(0.0, object.box[2] - object.box[0]) * std::max(0.0, object.box[3] - object.box[1]);
  return static_cast<double>(*object.visible_pixels) >= kMinVisibleShare * whole;
}

SegmentMasks::SegmentMasks(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  if (ec) throw Error(path_ + ": cannot read the segment masks (" + ec.message() + ")");
  std::ifstream in(path_, std::ios::binary);
  std::string head(static_cast<size_t>(std::min<uintmax_t>(size, 10012)), '\0');  // NumPy's largest header and its preamble
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) throw Error(path_ + ": cannot read the segment masks");
  layout_ = parse_npy_header(head, static_cast<size_t>(size), path_);
  if (layout_.shape.size() != 3 || layout_.shape[1] == 0 || layout_.shape[2] == 0)
    throw Error(path_ + ": segment masks must be n_objects x H x W, not shape " + shape_text(layout_.shape));
  if (layout_.element_size == 0) throw Error(path_ + ": unsupported .npy dtype " + layout_.dtype + " for segment masks");
  direct_ = layout_.element_size == 1 && !layout_.fortran_order;
}

std::vector<uint8_t> SegmentMasks::read(size_t first, size_t n) const {
  const size_t plane = height() * width();
  std::vector<uint8_t> out(n * plane);
  if (direct_) {
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(layout_.data_offset + first * plane));
    if (!in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size())))
      throw Error(path_ + ": the segment masks are shorter than their header says");
    return out;
  }
  // Wider dtypes or Fortran order, as some tools save them: the whole file, converted once.
  const NpyArray all = read_npy(path_);
  std::transform(all.values.begin() + static_cast<long>(first * plane), all.values.begin() + static_cast<long>((first + n) * plane),
                 out.begin(), [](float v) { return v != 0 ? uint8_t{1} : uint8_t{0}; });
  return out;
}

std::vector<int64_t> SegmentMasks::pixel_counts() const {
  const size_t plane = height() * width();
  const std::vector<uint8_t> all = read(0, count());
  std::vector<int64_t> out(count(), 0);
  for (size_t k = 0; k < count(); ++k) out[k] = count_nonzero_bytes(all.data() + k * plane, plane);
  return out;
}

std::vector<uint8_t> SegmentMasks::mask(size_t k) const {
  if (k >= count()) throw Error(path_ + ": has " + std::to_string(count()) + " segment masks, and mask " + std::to_string(k) + " was asked for");
  return read(k, 1);
}

SegmentMasks scene_masks(const SceneAnnotation& scene) {
  SegmentMasks masks(scene.segment_path);
  const bool whole = std::none_of(scene.objects.begin(), scene.objects.end(), [](const SceneObject& o) { return o.mask_index.has_value(); });
  // Masks for boxes that are not there are masks of another scene's boxes, or of none.
  const bool match = whole ? masks.count() == scene.objects.size()
                           : std::all_of(scene.objects.begin(), scene.objects.end(),
                                         [&](const SceneObject& o) { return *o.mask_index < masks.count(); });
  if (!match)
    throw Error(scene.segment_path + ": expected one segment mask per box (" + std::to_string(scene.objects.size()) + "), not " +
                std::to_string(masks.count()));
  return masks;
}

void measure_visibility(SceneAnnotation& scene) {
  const bool measured = std::all_of(scene.objects.begin(), scene.objects.end(), [](const SceneObject& o) { return o.visible_pixels.has_value(); });
  if (measured || scene.segment_path.empty()) return;
  const SegmentMasks masks = scene_masks(scene);
  std::vector<int64_t> counts = masks.pixel_counts();
  // Counted in the picture's pixels, as the boxes are, where the masks were saved at another size.
  const double scale = static_cast<double>(scene.width) * scene.height / static_cast<double>(masks.width() * masks.height());
  if (scale != 1.0)
    for (int64_t& c : counts) c = std::llround(static_cast<double>(c) * scale);
  for (size_t i = 0; i < scene.objects.size(); ++i) {
    SceneObject& o = scene.objects[i];
    if (!o.visible_pixels) o.visible_pixels = counts[o.mask_index.value_or(i)];
  }
}

SceneAnnotation visible_part(const SceneAnnotation& scene) {
  SceneAnnotation out = scene;
  measure_visibility(out);
  if (std::all_of(out.objects.begin(), out.objects.end(), can_be_seen)) return out;
  std::vector<int> new_index(out.objects.size(), -1);
  std::vector<SceneObject> kept;
  for (size_t i = 0; i < out.objects.size(); ++i) {
    if (!can_be_seen(out.objects[i])) continue;
    new_index[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(out.objects[i]));
    kept.back().mask_index = kept.back().mask_index.value_or(i);
  }
  std::vector<SceneRelation> relations;
  for (const SceneRelation& r : out.relations) {
    const auto h = static_cast<size_t>(r.head), t = static_cast<size_t>(r.tail);
    if (r.head >= 0 && r.tail >= 0 && h < new_index.size() && t < new_index.size() && new_index[h] >= 0 && new_index[t] >= 0)
      relations.push_back(SceneRelation{new_index[h], r.relation, new_index[t]});
  }
  out.objects = std::move(kept);
  out.relations = std::move(relations);
  return out;
}

}  // namespace taco
