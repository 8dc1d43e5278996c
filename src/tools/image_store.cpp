#include "tools/image_store.h"

#include "tools/image_cv.h"
#include "util/base64.h"
#include "util/files.h"

namespace taco {

ImageStore::ImageStore(std::string save_dir, int64_t max_pixels)
    : save_dir_(std::move(save_dir)), max_pixels_(max_pixels) {}

std::string ImageStore::add_input(const std::string& path, bool blank_for_model) {
  std::string bytes = read_file(path);
  Entry e;
  e.image = Image::decode(bytes, max_pixels_, path);
  e.name = next_name();
  e.path = path;
  e.source = "input";
  // Send the file's own bytes when the format is one every server takes; re-encode otherwise.
  std::string mime = image_mime_type(bytes);
  if (blank_for_model) {
    bytes = image_from_mat(cv::Mat(e.image.height(), e.image.width(), CV_8UC3, cv::Scalar(128, 128, 128))).encode(".png");
    mime = "image/png";
  } else if (mime != "image/png" && mime != "image/jpeg" && mime != "image/webp" && mime != "image/gif") {
    bytes = e.image.encode(".png");
    mime = "image/png";
  }
  e.data_url = std::make_shared<const std::string>("data:" + mime + ";base64," + base64_encode(bytes));
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
