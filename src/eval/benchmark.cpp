#include "eval/benchmark.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"

namespace taco {
namespace {

// pandas writes missing values as empty fields; some files spell them out.
bool missing(const std::string& v) { return v.empty() || v == "nan" || v == "NaN" || v == "None"; }

// BLINK and other multi-image sets store a Python list of strings: "['iVBOR...', '/9j/...']".
// Returns the strings, or {field} when it is not such a list.
std::vector<std::string> python_string_list(const std::string& field) {
  if (field.size() < 2 || field.front() != '[' || field.back() != ']') return {field};
  std::vector<std::string> items;
  size_t i = 1;
  while (i < field.size()) {
    while (i < field.size() && (field[i] == ' ' || field[i] == ',')) ++i;
    if (i >= field.size() || field[i] == ']') break;
    char quote = field[i];
    if (quote != '\'' && quote != '"') return {field};
    size_t end = field.find(quote, i + 1);
    if (end == std::string::npos) return {field};
    items.push_back(field.substr(i + 1, end - i - 1));
    i = end + 1;
  }
  return items;
}

std::string choice_prompt(const std::string& hint, const std::string& question, const std::vector<std::string>& options) {
  std::string p;
  if (!hint.empty()) p += "Hint: " + hint + "\n";
  p += "Question: " + question + "\nOptions:\n";
  for (size_t i = 0; i < options.size(); ++i) p += std::string(1, static_cast<char>('A' + i)) + ". " + options[i] + "\n";
  return p + "Please select the correct answer from the options above.";
}

std::string free_form_prompt(const std::string& question) {
  return question + "\nAnswer the question using a single word or phrase.";
}

class TsvTable {
 public:
  explicit TsvTable(const std::string& path) : path_(path) {
    rows_ = parse_tsv(read_file(path));
    if (rows_.empty()) throw Error(path + ": empty file (expected a header row)");
    for (size_t i = 0; i < rows_[0].size(); ++i) columns_[rows_[0][i]] = i;
    for (const char* required : {"index", "question"})
      if (!columns_.count(required)) throw Error(path + ": no '" + required + "' column (a VLMEvalKit TSV needs index and question)");
  }
  size_t size() const { return rows_.size() - 1; }
  bool has(const std::string& column) const { return columns_.count(column) > 0; }
  // Row r's value in a column ("" when the column is absent, the row short, or the value missing).
  std::string get(size_t r, const std::string& column) const {
    auto it = columns_.find(column);
    if (it == columns_.end() || it->second >= rows_[r + 1].size()) return "";
    const std::string& v = rows_[r + 1][it->second];
    return missing(v) ? "" : v;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::vector<std::string>> rows_;
  std::map<std::string, size_t> columns_;
};

// The row's images: base64 in "image" (a list for several; a short value naming another
// row's index reuses that row's image, as VLMEvalKit stores repeated images), else paths in
// "image_path" resolved against the file's folder. Decoded files are kept between runs.
template <typename Fail>
void add_images(const TsvTable& t, size_t r, const std::map<std::string, size_t>& row_of_index, const std::string& images_dir,
                Task& task, const Fail& fail) {
  std::string image = t.get(r, "image");
  if (auto ref = row_of_index.find(image); !image.empty() && image.size() <= 64 && ref != row_of_index.end() && ref->second != r)
    image = t.get(ref->second, "image");
  if (image.empty()) {
    if (std::string paths = t.get(r, "image_path"); !paths.empty())
      for (const auto& p : python_string_list(paths)) task.images.push_back(resolve_path(parent_dir(t.path()), p));
    return;
  }
  if (images_dir.empty()) return;  // scoring needs no pictures
  const std::vector<std::string> encoded = python_string_list(image);
  for (size_t k = 0; k < encoded.size(); ++k) {
    auto head = base64_decode(encoded[k].substr(0, 16));
    const std::string file = images_dir + "/" + safe_file_name(task.id) + (encoded.size() > 1 ? "-" + std::to_string(k) : "") +
                             image_file_extension(head ? *head : "");
    if (!std::filesystem::exists(file)) {
      auto bytes = base64_decode(encoded[k]);
      if (!bytes || bytes->empty()) throw fail("'image' is not base64");
      write_file(file + ".part", *bytes);  // renamed when whole, so a killed run leaves no torn image
      std::filesystem::rename(file + ".part", file);
    }
    task.images.push_back(file);
  }
}

// The benchmarks that declare a scoring of their own, found by a word in the benchmark's name
// (VLMEvalKit's file names: MMVet.tsv, ChartQA_TEST.tsv). Any other scores options by letter or
// text (kScoreChoice) and open answers by taco's free-form rules. A new benchmark family with a
// scoring of its own is a line here and its rule in eval/score.cpp.
struct DeclaredScoring {
  const char* name_part;  // lower case
  const char* scoring;    // MathVista's applies to every item (its own answer types); the others to open items
};
constexpr DeclaredScoring kDeclaredScoring[] = {
    {"mathvista", kScoreMathVista},
    {"mmvet", kScoreJudge},
    {"mm-vet", kScoreJudge},
    {"chartqa", kScoreRelaxed},
};

const DeclaredScoring* declared_scoring(const std::string& benchmark) {
  const std::string lower = to_lower(benchmark);
  for (const auto& d : kDeclaredScoring)
    if (lower.find(d.name_part) != std::string::npos) return &d;
  return nullptr;
}

std::vector<Task> load_tsv(const std::string& path, const BenchmarkOptions& opts) {
  TsvTable t(path);
  const std::string name = benchmark_name(path);
  const DeclaredScoring* declared = declared_scoring(name);
  const std::string scoring = declared ? declared->scoring : "";
  const bool mathvista = scoring == kScoreMathVista, judged = scoring == kScoreJudge, relaxed = scoring == kScoreRelaxed;
  std::map<std::string, size_t> row_of_index;
  for (size_t r = 0; r < t.size(); ++r) row_of_index[t.get(r, "index")] = r;

  std::vector<Task> tasks;
  for (size_t r = 0; r < t.size(); ++r) {
    Task task;
    task.id = t.get(r, "index");
    auto fail = [&](const std::string& what) { return Error(path + " row " + std::to_string(r + 2) + ": " + what); };
    if (task.id.empty()) throw fail("empty 'index'");
    const std::string question = t.get(r, "question");
    if (question.empty()) throw fail("empty 'question'");

    std::vector<std::string> options;
    for (char c = 'A'; c <= 'Z'; ++c) {
      std::string v = t.get(r, std::string(1, c));
      if (v.empty()) break;
      options.push_back(v);
    }
    const std::string hint = t.get(r, "hint");
    const std::string answer = t.get(r, "answer");
    if (!answer.empty()) task.answer = answer;

    Json& m = task.metadata;
    m["benchmark"] = name;
    m["index"] = task.id;
    if (std::string c = t.get(r, "category"); !c.empty()) m["category"] = c;
    if (std::string c = t.get(r, "l2-category"); !c.empty()) m["l2_category"] = c;
    if (mathvista) {
      m["scoring"] = kScoreMathVista;
      for (const char* field : {"question_type", "answer_type"})
        if (std::string v = t.get(r, field); !v.empty()) m[field] = v;
      if (std::string v = t.get(r, "precision"); !v.empty()) m["precision"] = static_cast<int>(std::stod(v));
      if (options.empty() && !t.get(r, "choices").empty()) {
        options = python_string_list(t.get(r, "choices"));
        if (options.size() == 1 && options[0] == t.get(r, "choices")) options.clear();
      }
      task.question = question;  // MathVista's questions carry their own instructions
    } else if (!options.empty()) {
      m["scoring"] = kScoreChoice;
      m["raw_question"] = question;  // as the TSV has it: what decontamination compares
      task.question = choice_prompt(hint, question, options);
    } else {
      m["scoring"] = judged ? kScoreJudge : relaxed ? kScoreRelaxed : kScoreFreeForm;
      m["raw_question"] = question;  // the judge sees the question without the instruction
      task.question = judged ? question : free_form_prompt(question);
    }
    task.choices = options;

    add_images(t, r, row_of_index, opts.images_dir, task, fail);
    tasks.push_back(std::move(task));
  }
  return tasks;
}

}  // namespace

std::vector<std::vector<std::string>> parse_tsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == '\t') {
      row.push_back(std::move(field)), field.clear(), field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field)), field.clear(), field_started = false;
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string benchmark_name(const std::string& path) { return std::filesystem::path(path).stem().string(); }

std::string benchmark_folder(const std::string& data_dir) {
  if (!data_dir.empty()) return data_dir;
  if (const char* lmu = std::getenv("LMUData"); lmu && *lmu) return lmu;
  const char* home = std::getenv("HOME");
  return (std::filesystem::path(home && *home ? home : ".") / "LMUData").string();
}

std::vector<BenchmarkFile> list_benchmarks(const std::string& data_dir) {
  std::vector<BenchmarkFile> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(benchmark_folder(data_dir), ec)) {
    const std::string ext = entry.path().extension().string();
    if ((ext != ".tsv" && ext != ".jsonl") || !entry.is_regular_file(ec)) continue;
    found.push_back({entry.path().stem().string(), entry.path().string(), entry.file_size(ec)});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return found;
}

std::string resolve_benchmark(const std::string& name_or_path, const std::string& data_dir) {
  std::error_code ec;
  if (std::filesystem::exists(name_or_path, ec)) return name_or_path;
  const std::filesystem::path p(name_or_path);
  if (p.has_parent_path() || p.has_extension()) throw Error(name_or_path + ": no such file");
  const std::string folder = benchmark_folder(data_dir);
  std::vector<std::string> names;
  for (const auto& b : list_benchmarks(data_dir)) {
    if (b.name == name_or_path) return b.path;
    names.push_back(b.name);
  }
  const std::string where = !data_dir.empty() ? "EvalRunSettings.data_dir " + folder
                            : std::getenv("LMUData")  ? "$LMUData (" + folder + ")"
                                                     : folder + " ($LMUData is not set)";
  const std::string near = nearest_word(name_or_path, names);
  throw Error("no benchmark " + name_or_path + ": neither a file nor " + name_or_path + ".tsv in " + where +
              (near.empty() ? names.empty() ? "; download VLMEvalKit's TSV there, or give a path"
                                            : "; taco eval list shows the " + std::to_string(names.size()) + " there"
                            : "; did you mean " + near + "?"));
}

std::vector<Task> load_benchmark(const std::string& path, const BenchmarkOptions& options) {
  std::string ext = to_lower(std::filesystem::path(path).extension().string());
  if (ext == ".tsv") return load_tsv(path, options);
  if (ext == ".jsonl") {
    std::vector<Task> tasks = load_tasks(path);
    for (auto& t : tasks) {
      Json& m = t.metadata;
      if (!m.contains("benchmark")) m["benchmark"] = benchmark_name(path);
      if (!m.contains("category") && m.contains("family")) m["category"] = m["family"];
      if (!m.contains("scoring")) m["scoring"] = t.choices.empty() ? kScoreFreeForm : kScoreChoice;
    }
    return tasks;
  }
  throw Error(path + ": a benchmark is a VLMEvalKit .tsv or a taco task .jsonl");
}

}  // namespace taco
