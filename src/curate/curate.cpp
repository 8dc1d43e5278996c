#include "curate/curate.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "cota/trace.h"
#include "cota/trace_facts.h"
#include "distill/verify.h"
#include "eval/benchmark.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/progress.h"

namespace taco {
namespace {

void for_each_line(const std::string& path, uint64_t& bytes, const std::function<void(const char*, size_t, size_t)>& fn) {
  FILE* in = std::fopen(path.c_str(), "rb");
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  constexpr size_t kBlock = 8 << 20;
  std::vector<char> buf(kBlock + TraceFactsReader::kPadding);
  size_t have = 0;
  for (;;) {
    if (buf.size() - TraceFactsReader::kPadding - have < kBlock / 2) buf.resize(buf.size() * 2);  // a very long line: grow
    size_t room = buf.size() - TraceFactsReader::kPadding - have;
    size_t n = std::fread(buf.data() + have, 1, room, in);
    bytes += n;
    const bool eof = n < room;
    have += n;
    std::memset(buf.data() + have, 0, TraceFactsReader::kPadding);
    size_t start = 0;
    const char* base = buf.data();
    for (;;) {
      const void* nl = std::memchr(base + start, '\n', have - start);
      if (!nl) break;
      size_t end = static_cast<const char*>(nl) - base;
      if (end > start) fn(base + start, end - start, buf.size() - start);
      start = end + 1;
    }
    if (eof) {
      if (have > start) fn(base + start, have - start, buf.size() - start);  // a last line without a newline
      break;
    }
    std::memmove(buf.data(), buf.data() + start, have - start);
    have -= start;
  }
  std::fclose(in);
}

struct Kept {
  uint64_t key = 0;
  uint64_t content = 0;
  std::string line;
  size_t source = 0;
  std::string format;
  std::vector<std::string> tools;
  size_t steps = 0;
};

// A bounded set of the records with the smallest keys (or every record when unbounded).
class Bucket {
 public:
  explicit Bucket(std::optional<size_t> quota) : quota_(quota) {}
  bool full_and_above(uint64_t key) const { return quota_ && items_.size() >= *quota_ && (*quota_ == 0 || key >= top_key()); }
  // Adds the record; returns the one evicted, if any.
  std::optional<Kept> add(Kept&& k) {
    items_.push_back(std::move(k));
    std::push_heap(items_.begin(), items_.end(), less);
    if (quota_ && items_.size() > *quota_) {
      std::pop_heap(items_.begin(), items_.end(), less);
      Kept out = std::move(items_.back());
      items_.pop_back();
      return out;
    }
    return std::nullopt;
  }
  std::vector<Kept>& items() { return items_; }

 private:
  static bool less(const Kept& a, const Kept& b) { return a.key < b.key; }
  uint64_t top_key() const { return items_.front().key; }
  std::optional<size_t> quota_;
  std::vector<Kept> items_;  // a max-heap on key when bounded
};

const char* const kFilterNames[] = {"malformed", "not finished", "benchmark overlap (--exclude)", "incorrect", "unparsed reply", "failed action", "too few steps",
                                    "too many steps", "required tool missing", "forbidden tool", "too few tool calls",
                                    "image missing", "action-useless source", "format not in recipe", "duplicate", "over quota"};
enum FilterIndex {
  kMalformed, kNotFinished, kContaminated, kIncorrectF, kUnparsed, kFailedAction, kTooFewSteps, kTooManySteps, kToolMissing, kToolForbidden,
  kTooFewTools, kImageMissing, kActionUseless, kFormat, kDuplicate, kOverQuota, kFilterCount
};

// Reading through a recipe's sources with one progress bar over every pass.
class SourceReader {
 public:
  SourceReader(const Recipe& recipe, int passes, bool progress) : bar_("curate MiB", (total_bytes(recipe) >> 20) * static_cast<uint64_t>(passes), progress) {}
  // Calls fn(data, len, capacity) for each line of `path`; returns the bytes read.
  uint64_t read(const std::string& path, const std::function<void(const char*, size_t, size_t)>& fn) {
    uint64_t read = 0, last = 0;
    for_each_line(path, read, [&](const char* data, size_t len, size_t cap) {
      if (read - last > (64 << 20)) advance(read, last);
      fn(data, len, cap);
    });
    advance(read, last);
    return read;
  }

 private:
  static uint64_t total_bytes(const Recipe& recipe) {
    uint64_t total = 0;
    for (const auto& s : recipe.sources) {
      std::error_code ec;
      auto size = std::filesystem::file_size(s.path, ec);
      if (ec) throw Error(s.path + ": cannot read (" + ec.message() + ")");
      total += size;
    }
    return total;
  }
  // Advances the bar by the whole MiB read since `last`.
  void advance(uint64_t read, uint64_t& last) {
    bar_.tick_by((read - last) >> 20);
    last += ((read - last) >> 20) << 20;
  }
  Progress bar_;
};

static_assert(CurateFilters{}.action_useless_min_questions == kActionUselessMinQuestions, "one minimum for distill's table and curate");

// The paper's rule, a first pass: the metadata sources where verified CoTA is not better than
// CoT.
std::set<std::string> action_useless_sources(const Recipe& recipe, SourceReader& reader, std::map<std::string, size_t>& too_few) {
  TraceFactsReader parser;
  TraceFacts facts;
  std::string error;
  std::map<std::string, SourceStats> stats;
  for (const auto& s : recipe.sources)
    reader.read(s.path, [&](const char* data, size_t len, size_t cap) {
      if (!parser.read(data, len, cap, false, false, facts, error) || !facts.verified) return;
      SourceStats& st = stats[facts.source];
      const std::string format = facts.format();
      if (format == "cot") {
        ++st.cot_n;
        st.cot_correct += facts.correct;
      } else if (format == "cota") {
        ++st.n;
        if (facts.correct) ++st.correct_with_tools;  // with or without tools: both count as correct here
        else ++st.incorrect;
      }
    });
  std::set<std::string> useless;
  for (const auto& [name, st] : stats)
    if (st.n && st.n < recipe.filters.action_useless_min_questions) too_few[name] = st.n;
    else if (st.n && st.action_useless(recipe.filters.action_useless_min_questions)) useless.insert(name);
  return useless;
}

// The filters before the quotas, in the order they apply: the first that drops the trace, or
// none. `base` is where the trace's relative paths start; `where` names its line.
std::optional<FilterIndex> first_filter(const CurateFilters& flt, const TraceFacts& facts, const std::string& base,
                                        const std::set<std::string>& useless, BenchmarkIndex* exclude, const std::string& where,
                                        CurateReport& report) {
  auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  if (facts.status == "error") return kNotFinished;
  if (exclude) {
    std::vector<std::string> inputs;
    for (const auto& p : facts.input_images) inputs.push_back(resolve_path(base, p));
    if (auto m = exclude->match(facts.question, inputs)) {
      ++report.contaminated_per_benchmark[m->benchmark];
      ++report.contaminated_per_kind[m->kind];
      if (report.contaminated_first.size() < 5)
        report.contaminated_first.push_back(where + ": " + m->kind + " of " + m->benchmark + " item " + m->item);
      return kContaminated;
    }
  }
  if (flt.correct_only && facts.verified && !facts.correct) return kIncorrectF;
  if (flt.parsed && facts.parse_failures) return kUnparsed;
  if (flt.no_failed_action && facts.failed_actions) return kFailedAction;
  if (flt.min_steps && facts.steps < flt.min_steps) return kTooFewSteps;
  if (flt.max_steps && facts.steps > flt.max_steps) return kTooManySteps;
  for (const auto& t : flt.tools_required)
    if (!has(facts.tools, t)) return kToolMissing;
  for (const auto& t : flt.tools_forbidden)
    if (has(facts.tools, t)) return kToolForbidden;
  if (facts.tools.size() < flt.min_tools) return kTooFewTools;
  if (flt.images_present)
    for (const auto& p : facts.image_paths)
      if (!std::filesystem::exists(resolve_path(base, p))) return kImageMissing;
  if (useless.count(facts.source)) return kActionUseless;
  return std::nullopt;
}

// The quota buckets: one per source, or per (source, format) when the recipe sets proportions,
// and the content hashes they hold (for dedupe).
class Selection {
 public:
  Selection(const Recipe& recipe, CurateReport& report) : recipe_(recipe) {
    const auto quotas = recipe.source_quotas();
    for (const auto& [f, p] : recipe.formats) formats_.push_back(f);
    for (size_t s = 0; s < recipe.sources.size(); ++s) {
      if (quotas[s]) report.quota_per_source[recipe.sources[s].name] = *quotas[s];
      if (formats_.empty()) buckets_.emplace_back(quotas[s]);
      else
        for (const auto& f : formats_)
          buckets_.emplace_back(quotas[s] ? std::optional<size_t>(static_cast<size_t>(std::llround(static_cast<double>(*quotas[s]) * recipe.formats.at(f))))
                                          : std::nullopt);
    }
  }

  // Offers the line of source `s`; returns the filter that drops it (format, duplicate, over
  // quota) or none. `evicted` counts the kept records a better-keyed one pushed out.
  std::optional<FilterIndex> offer(size_t s, const TraceFacts& facts, const char* data, size_t len, bool dedupe, size_t& evicted) {
    const std::string format = facts.format();
    size_t b = s;
    if (!formats_.empty()) {
      auto it = std::find(formats_.begin(), formats_.end(), format);
      if (it == formats_.end() || recipe_.formats.at(format) <= 0) return kFormat;
      b = s * formats_.size() + static_cast<size_t>(it - formats_.begin());
    }
    const uint64_t key = splitmix64(facts.content_hash ^ splitmix64(recipe_.seed));
    if (dedupe && held_.count(facts.content_hash)) return kDuplicate;
    if (buckets_[b].full_and_above(key)) return kOverQuota;
    Kept k{key, facts.content_hash, std::string(data, len), s, format, facts.tools, facts.steps};
    ++held_[facts.content_hash];
    if (auto out = buckets_[b].add(std::move(k))) {
      ++evicted;
      if (--held_[out->content] == 0) held_.erase(out->content);
    }
    return std::nullopt;
  }

  // Every kept record, in key order (a seeded shuffle).
  std::vector<Kept> take() {
    std::vector<Kept> all;
    for (auto& b : buckets_)
      for (auto& k : b.items()) all.push_back(std::move(k));
    std::sort(all.begin(), all.end(), [](const Kept& a, const Kept& b) { return a.key < b.key || (a.key == b.key && a.line < b.line); });
    return all;
  }

 private:
  const Recipe& recipe_;
  std::vector<std::string> formats_;
  std::vector<Bucket> buckets_;
  std::unordered_map<uint64_t, size_t> held_;  // content hash -> kept copies
};

// Nothing kept where the recipe asks for traces is refused; a shortfall is a warning.
void check_shortfall(const Recipe& recipe, const std::vector<Kept>& all, CurateReport& report) {
  std::vector<size_t> kept_of(recipe.sources.size(), 0);
  for (const auto& k : all) ++kept_of[k.source];
  std::string short_of;
  if (recipe.target_size && all.size() < *recipe.target_size)
    short_of = "target_size " + std::to_string(*recipe.target_size) + ", " + std::to_string(all.size()) + " traces";
  for (size_t i = 0; i < recipe.sources.size(); ++i)
    if (recipe.sources[i].count && kept_of[i] < *recipe.sources[i].count)
      short_of += (short_of.empty() ? "" : "; ") + recipe.sources[i].name + " gives " + std::to_string(kept_of[i]) +
                  " of its count " + std::to_string(*recipe.sources[i].count);
  if (all.empty() && !short_of.empty())
    throw Error("no trace passes the recipe's filters and quotas (" + short_of + "); nothing was written");
  if (!short_of.empty()) report.warnings.push_back("short of the recipe: " + short_of);
}

// Writes the kept records beside `out_path` and renames them into place (a failed run leaves
// the previous output whole), counting them in the report.
void write_kept(const Recipe& recipe, std::vector<Kept>& all, const std::string& out_path, CurateReport& report) {
  make_dirs(parent_dir(out_path));
  const std::string temp_path = out_path + ".tmp";
  FILE* out = std::fopen(temp_path.c_str(), "wb");
  if (!out) throw Error(temp_path + ": cannot write (" + std::strerror(errno) + ")");
  // A trace's relative image paths start at its file's folder: lines from a file in another
  // folder than the output's are rewritten to start at the output's.
  auto folder = [](const std::string& file) { return std::filesystem::absolute(file).parent_path().lexically_normal(); };
  std::vector<bool> moved;
  for (const auto& src : recipe.sources) moved.push_back(folder(src.path) != folder(out_path));
  for (auto& k : all) {
    if (moved[k.source]) {
      Json j = parse_json(k.line);
      rebase_trace_paths(j, trace_paths_base(j, recipe.sources[k.source].path), parent_dir(out_path));
      k.line = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    std::fwrite(k.line.data(), 1, k.line.size(), out);
    std::fputc('\n', out);
    ++report.kept_per_source[recipe.sources[k.source].name];
    ++report.kept_per_format[k.format];
    for (const auto& t : k.tools) ++report.kept_per_tool[t];
    ++report.kept_per_steps[std::to_string(k.steps)];
  }
  if (std::fclose(out) != 0) {
    std::remove(temp_path.c_str());
    throw Error(out_path + ": write failed");
  }
  if (std::rename(temp_path.c_str(), out_path.c_str()) != 0) throw Error(out_path + ": cannot replace (" + std::strerror(errno) + ")");
  report.kept = all.size();
}

}  // namespace

CurateReport run_curate(const Recipe& recipe, const std::string& out_path, bool progress, BenchmarkIndex* exclude) {
  const auto start = std::chrono::steady_clock::now();
  const CurateFilters& flt = recipe.filters;
  CurateReport report;
  if (exclude) {
    report.excluded_benchmarks = exclude->benchmarks();
    report.excluded_items = exclude->items();
  }
  SourceReader reader(recipe, flt.drop_action_useless ? 2 : 1, progress);
  std::set<std::string> useless;
  if (flt.drop_action_useless) {
    useless = action_useless_sources(recipe, reader, report.too_few_to_judge);
    report.action_useless.assign(useless.begin(), useless.end());
  }

  std::vector<size_t> removed(kFilterCount, 0);
  Selection selection(recipe, report);
  TraceFactsReader parser;
  TraceFacts facts;
  std::string error;
  for (size_t s = 0; s < recipe.sources.size(); ++s) {
    const RecipeSource& src = recipe.sources[s];
    size_t line_no = 0;
    report.bytes += reader.read(src.path, [&](const char* data, size_t len, size_t cap) {
      ++line_no;
      ++report.input;
      ++report.input_per_source[src.name];
      auto where = [&] { return src.path + " line " + std::to_string(line_no); };
      if (!parser.read(data, len, cap, flt.images_present, exclude != nullptr, facts, error)) {
        if (report.warnings.size() < 5) report.warnings.push_back(where() + ": " + error);
        ++removed[kMalformed];
        return;
      }
      const std::string base = facts.version >= 2 ? parent_dir(src.path) : "";
      auto dropped = first_filter(flt, facts, base, useless, exclude, where(), report);
      if (!dropped) dropped = selection.offer(s, facts, data, len, flt.dedupe, removed[kOverQuota]);
      if (dropped) ++removed[*dropped];
    });
  }

  std::vector<Kept> all = selection.take();
  check_shortfall(recipe, all, report);
  write_kept(recipe, all, out_path, report);
  for (size_t i = 0; i < kFilterCount; ++i) report.removed.emplace_back(kFilterNames[i], removed[i]);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report.peak_memory_mb = usage.ru_maxrss / 1024;
  return report;
}

CurateResult curate(const CurateSettings& f, const JobEvents& events) {
  if (f.recipe.empty() && f.inputs.empty()) throw Error("give CurateSettings.recipe recipe.json or trace files to curate");
  Recipe r = f.recipe.empty() ? Recipe() : Recipe::load(f.recipe);
  for (const auto& path : f.inputs) r.sources.push_back(RecipeSource{path, path, std::nullopt, std::nullopt, false});
  CurateFilters& flt = r.filters;
  flt.correct_only |= f.correct_only;
  flt.parsed |= f.parsed;
  flt.no_failed_action |= f.no_failed_action;
  flt.images_present |= f.images_present;
  flt.dedupe |= f.dedupe;
  flt.drop_action_useless |= f.drop_action_useless;
  if (f.min_steps) flt.min_steps = f.min_steps;
  if (f.max_steps) flt.max_steps = f.max_steps;
  if (f.min_tools) flt.min_tools = f.min_tools;
  for (const auto& t : f.require_tools) flt.tools_required.push_back(t);
  for (const auto& t : f.forbid_tools) flt.tools_forbidden.push_back(t);
  if (f.target_size) r.target_size = f.target_size;
  if (f.seed) r.seed = *f.seed;

  std::unique_ptr<BenchmarkIndex> exclude;
  if (!f.exclude.empty()) {
    auto by = [&](const char* what) { return std::find(f.exclude_by.begin(), f.exclude_by.end(), what) != f.exclude_by.end(); };
    exclude = std::make_unique<BenchmarkIndex>(by("question"), by("image"));
    for (const auto& b : f.exclude) {
      const std::string path = resolve_benchmark(b, f.data_dir);
      // A TSV's base64 images are decoded once, beside the output, for their hashes.
      exclude->add(path, output_base(f.out) + ".exclude/" + benchmark_name(path));
    }
    events.announce(format_text("excluding %zu items (%zu images) of %zu benchmarks\n", exclude->items(), exclude->images(), f.exclude.size()));
  }
  CurateResult result;
  result.report = run_curate(r, f.out, events.progress, exclude.get());
  result.report_path = !f.report.empty() ? f.report : output_base(f.out) + ".report.md";
  write_file(result.report_path, result.report.to_markdown());
  write_file(replace_extension(result.report_path, ".json"), result.report.to_json().dump(2) + "\n");
  events.show(result.report.to_markdown());
  events.tell(format_text("\n%zu traces -> %s; report: %s\n", result.report.kept, f.out.c_str(), result.report_path.c_str()));
  return result;
}

Json CurateReport::to_json() const {
  Json rem = Json::object();
  for (const auto& [name, n] : removed) rem[name] = n;
  auto obj = [](const std::map<std::string, size_t>& m) {
    Json j = Json::object();
    for (const auto& [k, v] : m) j[k] = v;
    return j;
  };
  return Json{{"input", input},
              {"kept", kept},
              {"bytes", bytes},
              {"seconds", seconds},
              {"peak_memory_mb", peak_memory_mb},
              {"removed", rem},
              {"input_per_source", obj(input_per_source)},
              {"kept_per_source", obj(kept_per_source)},
              {"quota_per_source", obj(quota_per_source)},
              {"kept_per_format", obj(kept_per_format)},
              {"kept_per_tool", obj(kept_per_tool)},
              {"kept_per_steps", obj(kept_per_steps)},
              {"action_useless_sources", action_useless},
              {"too_few_to_judge", obj(too_few_to_judge)},
              {"decontamination", excluded_benchmarks.empty() ? Json(nullptr)
                                  : Json{{"benchmarks", excluded_benchmarks}, {"items", excluded_items},
                                         {"dropped_per_benchmark", obj(contaminated_per_benchmark)},
                                         {"dropped_per_kind", obj(contaminated_per_kind)}, {"first", contaminated_first}}},
              {"warnings", warnings}};
}

std::string CurateReport::to_markdown() const {
  char head[256];
  std::snprintf(head, sizeof head, "Curated %zu of %zu traces (%.1f MB in %.1f s, %.0f MB/s; peak memory %ld MB).\n\n", kept,
                input, static_cast<double>(bytes) / 1e6, seconds, seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0,
                peak_memory_mb);
  std::string md = head;
  md += "| source | input | quota | kept |\n|---|---:|---:|---:|\n";
  for (const auto& [name, n] : input_per_source) {
    auto q = quota_per_source.find(name);
    auto k = kept_per_source.find(name);
    md += "| " + name + " | " + std::to_string(n) + " | " + (q == quota_per_source.end() ? "all" : std::to_string(q->second)) +
          " | " + std::to_string(k == kept_per_source.end() ? 0 : k->second) + " |\n";
  }
  md += "\n| removed by | traces |\n|---|---:|\n";
  for (const auto& [name, n] : removed)
    if (n) md += "| " + name + " | " + std::to_string(n) + " |\n";
  auto line = [&](const char* title, const std::map<std::string, size_t>& m) {
    if (m.empty()) return;
    md += std::string("\n") + title + ":";
    std::string sep = " ";
    for (const auto& [k, v] : m) md += sep + k + " " + std::to_string(v), sep = ", ";
    md += ".\n";
  };
  line("Formats kept", kept_per_format);
  line("Tool calls kept", kept_per_tool);
  line("Steps per kept trace", kept_per_steps);
  if (!excluded_benchmarks.empty()) {
    size_t dropped = 0;
    for (const auto& [k, v] : contaminated_per_benchmark) dropped += v;
    std::string names;
    for (const auto& b : excluded_benchmarks) names += (names.empty() ? "" : ", ") + b;
    md += "\nDecontamination against " + names + " (" + std::to_string(excluded_items) + " items): " + std::to_string(dropped) +
          " traces dropped for sharing a question or an input image with a benchmark item.\n";
    line("Dropped per benchmark", contaminated_per_benchmark);
    line("Dropped by", contaminated_per_kind);
    for (const auto& c : contaminated_first) md += "- " + c + "\n";
  }
  if (!action_useless.empty()) {
    md += "\nAction-useless sources dropped:";
    for (const auto& s : action_useless) md += " " + s;
    md += "\n";
  }
  line("Kept without judging them action-useless (too few verified CoTA answers)", too_few_to_judge);
  for (const auto& w : warnings) md += "\nwarning: " + w;
  if (!warnings.empty()) md += "\n";
  return md;
}

}  // namespace taco
