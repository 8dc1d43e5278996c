#include "tools/image_store.h"

#include "tools/image_cv.h"
#include "util/base64.h"
#include "util/files.h"

namespace taco {

namespace {

// An input file's bytes decoded, and the data URL the model is sent: the file's own bytes when
// the format is one every server takes, re-encoded otherwise; a uniform gray image of the same
// size with `blank_for_model` (the tools still see the file: how much a model leans on them).
InputImageCache::Loaded decode_input(std::string bytes, const std::string& path, bool blank_for_model, int64_t max_pixels) {
  InputImageCache::Loaded out;
  out.image = Image::decode(bytes, max_pixels, path);
  std::string mime = image_mime_type(bytes);
  if (blank_for_model) {
    bytes = image_from_mat(cv::Mat(out.image.height(), out.image.width(), CV_8UC3, cv::Scalar(128, 128, 128))).encode(".png");
    mime = "image/png";
  } else if (mime != "image/png" && mime != "image/jpeg" && mime != "image/webp" && mime != "image/gif") {
    bytes = out.image.encode(".png");
    mime = "image/png";
  }
  out.data_url = std::make_shared<const std::string>("data:" + mime + ";base64," + base64_encode(bytes));
  return out;
}

}  // namespace

InputImageCache::Loaded InputImageCache::load(const std::string& path, bool blank_for_model, int64_t max_pixels) {
  std::string bytes = read_file(path);
  const std::string key = path + '\n' + std::to_string(max_pixels) + (blank_for_model ? "\nblank" : "");
  {
    std::lock_guard lock(mu_);
    if (const Loaded* kept = find_locked(key, bytes)) return *kept;
  }
  Loaded loaded = decode_input(bytes, path, blank_for_model, max_pixels);
  const int64_t size = int64_t{loaded.image.width()} * loaded.image.height() * 3 +
                       static_cast<int64_t>(loaded.data_url->size() + bytes.size());
  if (4 * size > max_bytes_) return loaded;
  std::lock_guard lock(mu_);
  if (const Loaded* kept = find_locked(key, bytes)) return *kept;  // another thread decoded it meanwhile
  kept_.push_front(Kept{key, std::move(bytes), loaded, size});
  bytes_ += size;
  while (bytes_ > max_bytes_) {
    bytes_ -= kept_.back().bytes;
    kept_.pop_back();
  }
  return loaded;
}

const InputImageCache::Loaded* InputImageCache::find_locked(const std::string& key, const std::string& file) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it)
    if (it->key == key && it->file == file) {  // the same bytes, not just the same name
      kept_.splice(kept_.begin(), kept_, it);
      return &kept_.front().loaded;
    }
  return nullptr;
}

ImageStore::ImageStore(std::string save_dir, int64_t max_pixels, InputImageCache* inputs)
    : save_dir_(std::move(save_dir)), max_pixels_(max_pixels), inputs_(inputs) {}

std::string ImageStore::add_input(const std::string& path, bool blank_for_model) {
  InputImageCache::Loaded loaded =
      inputs_ ? inputs_->load(path, blank_for_model, max_pixels_) : decode_input(read_file(path), path, blank_for_model, max_pixels_);
  Entry e;
  e.image = std::move(loaded.image);
  e.name = next_name();
  e.path = path;
  e.source = "input";
  e.data_url = std::move(loaded.data_url);
  entries_.push_back(std::move(e));
  return entries_.back().name;
}

std::string ImageStore::add(Image image, const std::string& source) {
  Entry e;
  e.name = next_name();
  e.source = source;
  std::string png = image.encode(".png");
  if (!save_dir_.empty()) {
    e.path = save_dir_ + "/" + e.name + ".png";
    write_file(e.path, png);
  }
  e.data_url = std::make_shared<const std::string>("data:image/png;base64," + base64_encode(png));
  tool_pixels_ += static_cast<int64_t>(image.width()) * image.height();
  e.image = std::move(image);
  entries_.push_back(std::move(e));
  return entries_.back().name;
}

std::shared_ptr<ToolContext> ImageStore::context_for(const std::string& task_id) const {
  std::vector<ToolContext::NamedImage> snapshot;
  for (const auto& e : entries_) snapshot.push_back({e.name, e.source == "input" ? e.path : "", e.source, e.image});
  // The call's images are the next image-k and count against the episode's budget (at commit).
  ToolContext::NewImages allowed{entries_.size(), max_pixels_, tool_pixels_left(),
                                 "this episode's tools have made all the image pixels it allows (twice the limit of " +
                                     std::to_string(max_pixels_) + " per image); work with the images already made"};
  return std::make_shared<ToolContext>(std::move(snapshot), task_id, std::move(allowed));
}

std::vector<std::string> ImageStore::commit(const ToolContext& ctx, const std::string& source) {
  std::vector<std::string> names;
  for (const auto& image : ctx.new_images()) names.push_back(add(image, source));
  return names;
}

const ImageStore::Entry* ImageStore::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<std::string> ImageStore::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

}  // namespace taco
