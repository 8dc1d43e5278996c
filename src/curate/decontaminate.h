// Decontamination: what a training set must not share with the benchmarks it will be evaluated
// on. A record is contaminated when its question is a benchmark item's (compared normalized:
// case, punctuation and spacing aside; only questions of at least kMinQuestionWords words, since
// short ones like "What is in the image?" are shared by chance), or when one of its input
// images is a benchmark item's image: the same file bytes, or the same picture re-encoded or
// resized (perceptual hash and thumbnail close, BenchmarkIndex's thresholds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace taco {

struct ContaminationMatch {
  std::string benchmark;  // its name
  std::string item;       // the item's id
  std::string kind;       // "question", "image" (same bytes) or "similar image" (perceptual)
};

// An image as the perceptual comparison sees it: the 64-bit DCT hash (pHash: 32x32 gray, the 8x8
// lowest frequencies against their median) and a 16x16 gray thumbnail.
struct ImageFingerprint {
  uint64_t hash = 0;
  std::vector<float> thumbnail;  // 256 values, their mean taken out
};

class BenchmarkIndex {
 public:
  static constexpr size_t kMinQuestionWords = 6;
  // Two pictures are the same when their hashes differ in at most this many bits and their
  // thumbnails by at most this much (measured: docs/distill.md).
  static constexpr int kMaxHashDistance = 6;
  static constexpr double kMaxThumbnailDifference = 1.0;

  // What counts as overlap: a shared question, a shared image, or either (the default).
  explicit BenchmarkIndex(bool by_question = true, bool by_image = true) : by_question_(by_question), by_image_(by_image) {}

  // Loads a benchmark (a VLMEvalKit TSV or a task JSONL), decoding its images into `images_dir`
  // (kept: a rerun decodes nothing), and indexes its questions and images.
  void add(const std::string& benchmark_path, const std::string& images_dir);

  // The first benchmark item the record shares its question or an input image with. A question
  // that several benchmark items ask (a template: "How many cars are in the image?") does not
  // count on its own. Each image file is judged once (records share them); one that cannot be
  // read matches nothing.
  std::optional<ContaminationMatch> match(const std::string& question, const std::vector<std::string>& image_paths);

  const std::vector<std::string>& benchmarks() const { return names_; }
  size_t items() const { return items_; }
  size_t images() const { return fingerprints_.size(); }

 private:
  std::optional<ContaminationMatch> match_image(const std::string& path);

  bool by_question_, by_image_;
  std::vector<std::string> names_;
  size_t items_ = 0;
  std::unordered_map<std::string, std::pair<ContaminationMatch, size_t>> questions_;  // normalized -> first item, items asking it
  std::unordered_map<std::string, ContaminationMatch> files_;                          // sha256 -> item
  std::vector<std::pair<ImageFingerprint, ContaminationMatch>> fingerprints_;
  std::unordered_map<std::string, std::optional<ContaminationMatch>> judged_;          // training image path -> verdict
};

// A question as decontamination compares it: lower case, letters and digits, single spaces.
std::string normalized_question(const std::string& question);

// The fingerprint of an image file; nullopt when the file cannot be decoded.
std::optional<ImageFingerprint> image_fingerprint(const std::string& path);
// Mean absolute difference of two thumbnails (0-255 scale, brightness shifts aside).
double thumbnail_difference(const ImageFingerprint& a, const ImageFingerprint& b);

}  // namespace taco
