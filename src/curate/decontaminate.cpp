#include "curate/decontaminate.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "eval/benchmark.h"
#include "util/sha256.h"

namespace taco {

std::string normalized_question(const std::string& question) {
  std::string out;
  bool space = false;
  for (unsigned char c : question) {
    if (std::isalnum(c) || c >= 0x80) {
      if (space && !out.empty()) out += ' ';
      out += static_cast<char>(std::tolower(c));
      space = false;
    } else {
      space = true;
    }
  }
  return out;
}

std::optional<ImageFingerprint> image_fingerprint(const std::string& path) {
  // Decoded in color, then made gray by one formula: libpng's own gray conversion weighs the
  // channels otherwise than OpenCV's, which put a PNG and its JPEG copy 5 levels apart.
  cv::Mat color = cv::imread(path, cv::IMREAD_COLOR);
  if (color.empty()) return std::nullopt;
  cv::Mat gray;
  cv::cvtColor(color, gray, cv::COLOR_BGR2GRAY);
  ImageFingerprint fp;
  cv::Mat small, f, freq;
  cv::resize(gray, small, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  small.convertTo(f, CV_32F);
  cv::dct(f, freq);
  std::vector<float> low;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) low.push_back(freq.at<float>(y, x));
  std::vector<float> sorted(low.begin() + 1, low.end());  // the median without the mean (DC) term
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2), sorted.end());
  const float median = sorted[sorted.size() / 2];
  for (size_t i = 0; i < 64; ++i)
    if (low[i] > median) fp.hash |= uint64_t{1} << i;
  cv::Mat thumb;
  cv::resize(gray, thumb, cv::Size(16, 16), 0, 0, cv::INTER_AREA);
  double mean = cv::mean(thumb)[0];
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) fp.thumbnail.push_back(static_cast<float>(thumb.at<uint8_t>(y, x) - mean));
  return fp;
}

double thumbnail_difference(const ImageFingerprint& a, const ImageFingerprint& b) {
  double sum = 0;
  for (size_t i = 0; i < a.thumbnail.size() && i < b.thumbnail.size(); ++i) sum += std::abs(a.thumbnail[i] - b.thumbnail[i]);
  return a.thumbnail.empty() ? 255 : sum / static_cast<double>(a.thumbnail.size());
}

namespace {

size_t words(const std::string& normalized) {
  return normalized.empty() ? 0 : static_cast<size_t>(std::count(normalized.begin(), normalized.end(), ' ')) + 1;
}

}  // namespace

void BenchmarkIndex::add(const std::string& benchmark_path, const std::string& images_dir) {
  BenchmarkOptions options;
  options.images_dir = images_dir;
  const std::string name = benchmark_name(benchmark_path);
  names_.push_back(name);
  std::unordered_map<std::string, bool> indexed;  // image files shared by items are indexed once
  for (const Task& t : load_benchmark(benchmark_path, options)) {
    ++items_;
    const std::string q = normalized_question(t.metadata.value("raw_question", t.question));
    if (words(q) >= kMinQuestionWords) {
      auto [it, fresh] = questions_.try_emplace(q, ContaminationMatch{name, t.id, "question"}, 0);
      ++it->second.second;
    }
    for (const auto& image : t.images) {  // loading resolved the paths
      if (indexed.count(image)) continue;
      indexed[image] = true;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(image, ec)) continue;
      files_.emplace(sha256_file(image), ContaminationMatch{name, t.id, "image"});
      if (auto fp = image_fingerprint(image)) fingerprints_.push_back({std::move(*fp), ContaminationMatch{name, t.id, "similar image"}});
    }
  }
  judged_.clear();  // verdicts made before this benchmark was known
}

std::optional<ContaminationMatch> BenchmarkIndex::match_image(const std::string& path) {
  if (auto it = judged_.find(path); it != judged_.end()) return it->second;
  std::optional<ContaminationMatch> verdict;
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    if (auto it = files_.find(sha256_file(path)); it != files_.end()) {
      verdict = it->second;
    } else if (auto fp = image_fingerprint(path)) {
      for (const auto& [theirs, item] : fingerprints_)
        if (std::popcount(theirs.hash ^ fp->hash) <= kMaxHashDistance && thumbnail_difference(theirs, *fp) <= kMaxThumbnailDifference) {
          verdict = item;
          break;
        }
    }
  }
  return judged_[path] = verdict;
}

std::optional<ContaminationMatch> BenchmarkIndex::match(const std::string& question, const std::vector<std::string>& image_paths) {
  if (by_question_)
    if (auto it = questions_.find(normalized_question(question)); it != questions_.end() && it->second.second == 1) return it->second.first;
  if (by_image_)
    for (const auto& path : image_paths)
      if (auto m = match_image(path)) return m;
  return std::nullopt;
}

}  // namespace taco
