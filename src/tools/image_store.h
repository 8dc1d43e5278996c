// ImageStore: the images of one episode, addressed only by name. Inputs become image-0,
// image-1, ...; every image a tool returns becomes the next image-k and is saved to the
// episode's folder. Tools never see a file path from the model. Each image's data URL (what
// the model client sends) is made once and shared. The images tools make in one episode total
// at most twice the per-image pixel limit (ten 37-megapixel zooms once held 1.2 GB).
// Not thread-safe: one store belongs to one episode, which runs on one thread.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cota/image_name.h"
#include "tools/image.h"
#include "tools/tool.h"

namespace taco {

// Input pictures decoded for the episodes of one run, shared: a group's episodes and a scene's
// questions read the same files, and decoding each again (and hashing its pixels again, for
// the oracle) was a visible part of an RL step. Each file is still read (a few tens of KB), and
// a kept picture serves it only when the bytes are the same, so a file rewritten in place is
// decoded anew; the least recently used go past the budget, and a picture over a quarter of
// it is not kept. Thread-safe.
class InputImageCache {
 public:
  explicit InputImageCache(int64_t max_bytes = int64_t{256} << 20) : max_bytes_(max_bytes) {}
  struct Loaded {
    Image image;
    std::shared_ptr<const std::string> data_url;  // what the model is sent (gray with `blank_for_model`)
  };
  // The file decoded (ImageStore::add_input's errors), from the cache or now.
  Loaded load(const std::string& path, bool blank_for_model, int64_t max_pixels);

 private:
  struct Kept {
    std::string key;   // path and settings
    std::string file;  // the bytes it was decoded from
    Loaded loaded;
    int64_t bytes;     // held: pixels, data URL and file
  };
  // The kept picture of `key` decoded from `file`, made the most recently used; null when none.
  // Called with mu_ held.
  const Loaded* find_locked(const std::string& key, const std::string& file);
  int64_t max_bytes_;
  int64_t bytes_ = 0;
  std::mutex mu_;
  std::list<Kept> kept_;  // most recently used first
};

class ImageStore {
 public:
  struct Entry {
    std::string name;  // image-k
    std::string path;  // input file, or the saved tool output ("" until saved)
    std::string source;  // "input" or the tool's name
    Image image;
    std::shared_ptr<const std::string> data_url;
  };

  // `save_dir`: where tool outputs are written ("" keeps them in memory only); `inputs`, when
  // given, shares decoded input files with the run's other episodes.
  explicit ImageStore(std::string save_dir = "", int64_t max_pixels = kDefaultMaxPixels, InputImageCache* inputs = nullptr);

  // Loads an input file; throws Error if it is missing, unreadable or too large. With
  // `blank_for_model`, the model is sent a uniform gray image of the same size while the tools
  // still see the file: how much a model leans on its tools.
  std::string add_input(const std::string& path, bool blank_for_model = false);
  // Adds an image a tool made; saved as <save_dir>/<name>.png.
  std::string add(Image image, const std::string& source);

  // A snapshot for one tool call, and the commit of the images the call made (in order).
  std::shared_ptr<ToolContext> context_for(const std::string& task_id) const;
  std::vector<std::string> commit(const ToolContext& ctx, const std::string& source);

  bool contains(std::string_view name) const { return find(name) != nullptr; }
  const Entry* find(std::string_view name) const;
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<std::string> names() const;
  int64_t max_pixels() const { return max_pixels_; }
  // Pixels the tools of this episode may still make.
  int64_t tool_pixels_left() const { return 2 * max_pixels_ - tool_pixels_; }

 private:
  std::string next_name() const { return image_name(entries_.size()); }
  std::string save_dir_;
  int64_t max_pixels_;
  InputImageCache* inputs_;
  int64_t tool_pixels_ = 0;  // of the images tools made so far
  std::vector<Entry> entries_;
};

}  // namespace taco
