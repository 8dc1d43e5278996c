// Benchmarks: the questions an evaluation asks, loaded from a VLMEvalKit TSV (as published:
// MMVet, MMStar, MMMU, MathVista, BLINK, CV-Bench, A-OKVQA, MMVP, RealWorldQA, ChartQA) or a taco task
// JSONL (the built-in synthetic benchmark is one), as Tasks whose question is the prompt TACO's
// evaluation sends:
//
//   multiple choice:  [Hint: <hint>\n]Question: <question>\nOptions:\nA. <a>\nB. <b>\n...
//                     Please select the correct answer from the options above.
//   free-form:        <question>\nAnswer the question using a single word or phrase.
//
// MathVista's questions carry their own instructions and are sent as given. Every task's
// metadata names the benchmark, its category (and l2_category), and how it is scored.
// Loading is pure apart from writing decoded images; not thread-safe across calls that share
// an images folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cota/task.h"

namespace taco {

// How an item is scored (metadata "scoring").
inline constexpr const char* kScoreChoice = "choice";        // option letter or option text
inline constexpr const char* kScoreFreeForm = "free_form";   // normalized match / VQA accuracy / numbers
inline constexpr const char* kScoreMathVista = "mathvista";  // by answer_type and precision
inline constexpr const char* kScoreJudge = "judge";          // MMVet: a judge model grades 0.0-1.0
inline constexpr const char* kScoreRelaxed = "relaxed";      // ChartQA: numbers within 5%

struct BenchmarkOptions {
  // Where base64 images are written (<index>.<ext>, <index>-k.<ext> for several); existing
  // files are kept, so a rerun decodes nothing. "" loads the questions without images (enough
  // for scoring).
  std::string images_dir;
};

// Loads a .tsv (VLMEvalKit) or .jsonl (taco tasks) benchmark. Errors name the file, the row
// and the field.
std::vector<Task> load_benchmark(const std::string& path, const BenchmarkOptions& options = {});

// The benchmark's name: the file name without folders and extension ("MMVet" for
// data/MMVet.tsv).
std::string benchmark_name(const std::string& path);

// Benchmarks by name, as VLMEvalKit finds them: NAME.tsv (or a taco NAME.jsonl) in the data
// folder: `data_dir` when given, else $LMUData, else ~/LMUData.
std::string benchmark_folder(const std::string& data_dir);

// A --data value as a file: an existing file as given; else a name without folders or extension
// ("MMVet") found in benchmark_folder(data_dir). Error otherwise, naming where it looked and the
// nearest name there.
std::string resolve_benchmark(const std::string& name_or_path, const std::string& data_dir);

struct BenchmarkFile {
  std::string name;  // "MMVet"
  std::string path;
  uintmax_t bytes = 0;
};

// The benchmarks in benchmark_folder(data_dir) (.tsv and .jsonl), by name; empty when the folder
// does not exist.
std::vector<BenchmarkFile> list_benchmarks(const std::string& data_dir);

// Splits a tab-separated file as pandas writes it (quoted fields with "" escapes may hold
// tabs and newlines). Rows are vectors of fields; the first row is the header.
std::vector<std::vector<std::string>> parse_tsv(const std::string& text);

}  // namespace taco
