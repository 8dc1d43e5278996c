// What of a scene can be seen. An annotated object can be hidden: behind nearer objects in the
// synthetic world, or, in Visual Genome's scenes, by whatever covers it (its segment mask then
// shows few pixels or none). A question about an object nobody can see has no right answer, so
// gen asks about a scene as it can be seen, and the oracle tools see it the same way (a
// detector does not find what cannot be seen): chains and evaluation stay one computation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cota/annotation.h"
#include "util/npy.h"

namespace taco {

// An object of which fewer pixels than this show, and less than kMinVisibleShare of it, cannot be
// seen: it is not counted, not asked about and not found. Either alone would be wrong: a far
// bottle of 40 pixels that all show can be seen, and so can 500 pixels of a large car behind a
// house. Fewer pixels than kMinVisiblePixels never decide an object's depth.
constexpr int64_t kMinVisiblePixels = 64;
constexpr double kMinVisibleShare = 0.5;

// Whether the object can be seen: what the annotations or masks measured (its visible_pixels)
// reaches kMinVisiblePixels, or kMinVisibleShare of the pixels it would show with nothing in
// front (its object_pixels where the annotations give them, else its box's area); an object
// nothing measured is taken as seen.
bool can_be_seen(const SceneObject& object);

// How many of the n bytes at p are not 0 (a mask's pixels).
int64_t count_nonzero_bytes(const uint8_t* p, size_t n);

// A scene's segment masks (n_objects x H x W, mask k = the pixels of box k that show, any
// numeric or bool dtype), read as bytes and one mask at a time where the file allows it (a
// C-ordered one-byte dtype, as NumPy writes bool masks): a depth question reads the masks of
// the objects it asks about, not every mask of the scene.
class SegmentMasks {
 public:
  // Reads the header; throws Error naming the file when it is not n x H x W.
  explicit SegmentMasks(std::string path);
  size_t count() const { return layout_.shape[0]; }
  size_t height() const { return layout_.shape[1]; }
  size_t width() const { return layout_.shape[2]; }
  // How many pixels each mask shows, in one pass over the file.
  std::vector<int64_t> pixel_counts() const;
  // Mask k: height() x width() bytes, nonzero where the object shows.
  std::vector<uint8_t> mask(size_t k) const;

 private:
  std::vector<uint8_t> read(size_t first, size_t n) const;  // masks [first, first + n), as bytes
  std::string path_;
  NpyLayout layout_;
  bool direct_ = false;  // one-byte elements in C order: read in place; else through read_npy
};

// The scene's segment masks, checked against its objects: a scene left whole has one mask per
// box; a visible part names each object's mask by its mask_index. Throws Error naming the file.
SegmentMasks scene_masks(const SceneAnnotation& scene);

// Fills each object's visible_pixels from the scene's segment masks (in the picture's pixels,
// where the masks were saved at another size) where the annotations do not give it; a scene with neither is left as it is (every object taken as seen). Throws
// Error naming the file when the masks do not hold one mask per box.
void measure_visibility(SceneAnnotation& scene);

// The scene as it can be seen: measure_visibility's counts, then only the objects that can be
// seen, the relations between them renumbered, each object keeping its mask_index. A scene
// whose objects can all be seen (or that says nothing of visibility) comes back whole.
SceneAnnotation visible_part(const SceneAnnotation& scene);

}  // namespace taco
