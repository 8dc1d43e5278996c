// The house's rules, checked on the source tree: the command line calls the job layer and
// nothing below it, and no file under src/ names a command-line flag (it names the setting;
// apps/taco/setting_flags.cpp maps settings to flags). docs/architecture.md explains both.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What apps/taco may include from src/: the jobs (each a whole piece of work started with one
// call), the formats they return, and util/ (the base every layer stands on).
const std::set<std::string> kJobLayer = {
    "runtime/setup.h",     // make_runtime, load_tools_config
    "runtime/run_tasks.h", // run_tasks (taco run --data)
    "runtime/tool_jobs.h", // list_tools, call_tool
    "eval/run.h",          // eval_run, eval_score, eval_compare, eval_all
    "eval/vision_eval.h",  // eval_vision
    "distill/distill.h",   // distill
    "gen/run.h",           // run_gen_job
    "demo/demo.h",         // run_demo
    "curate/curate.h",     // curate
    "curate/export.h",     // run_export
    "curate/merge.h",      // merge_shards
    "synth/world.h",       // write_world
    "rl/rl.h",             // run_rl (taco rl)
    "models/embedded/embedded.h",  // train_embedded_model (loads the torch module)
    "vision/vision_model.h",       // train_vision_model (loads the torch module)
    "tools/knowledge.h",   // import_knowledge, KnowledgeBase::search (taco kb)
    "tools/worker.h",      // serve_tool_requests (taco tool-worker)
    "cota/parse.h",        // parse_response (taco parse)
    "cota/trace.h",        // the traces jobs return, printed by the command line
    "serve/server.h",      // the servers: a job that runs until stopped
    "serve/http_server.h",
    "serve/mcp_server.h",
    "serve/viewer.h",
};

TEST(LayersTest, TheCommandLineIncludesOnlyTheJobLayerAndUtil) {
  const fs::path apps = fs::path(TACO_SOURCE_DIR) / "apps" / "taco";
  const fs::path src = fs::path(TACO_SOURCE_DIR) / "src";
  const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(apps)) {
    if (entry.path().extension() != ".cpp" && entry.path().extension() != ".h") continue;
    ++files;
    std::istringstream lines(read_text(entry.path()));
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      const std::string header = m[1];
      if (fs::exists(apps / header)) continue;               // the command line's own helpers
      if (!fs::exists(src / header)) continue;               // not taco's (CLI11, ...)
      if (header.rfind("util/", 0) == 0 || kJobLayer.count(header)) continue;
      ADD_FAILURE() << entry.path().filename() << " includes " << header
                    << ", below the job layer: call a job (docs/architecture.md) or add one";
    }
  }
  EXPECT_GT(files, 10u);
}

// Calls fn(path, line number, line) for every line of src/'s .cpp and .h files but those named
// in `skip`; returns how many files it read.
size_t for_each_source_line(const std::set<std::string>& skip,
                            const std::function<void(const fs::path&, int, const std::string&)>& fn) {
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(TACO_SOURCE_DIR) / "src")) {
    const auto ext = entry.path().extension();
    if ((ext != ".cpp" && ext != ".h") || skip.count(entry.path().filename().string())) continue;
    ++files;
    std::istringstream lines(read_text(entry.path()));
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) fn(entry.path().lexically_relative(TACO_SOURCE_DIR), n, line);
  }
  return files;
}

TEST(LayersTest, NoSourceFileNamesACommandLineFlag) {
  // A flag in a string literal ("--out"), not in a comment. The exceptions are formats and
  // other programs' flags: curate's statistics key (a JSON key scripts read) and Slurm's
  // --array in the shard error's advice.
  const std::regex flag_in_string(R"re("([^"]*[^-a-z])?--[a-z][a-z-]+)re");
  const std::set<std::string> allowed = {"benchmark overlap (--exclude)", "--array"};
  // The viewer's page is left out: CSS custom properties (--accent), and its help to the person
  // who ran taco view, which names that command's flags.
  const size_t files = for_each_source_line({"viewer_page.cpp"}, [&](const fs::path& path, int n, const std::string& line) {
    const std::string code = line.substr(0, line.find("//"));
    if (!std::regex_search(code, flag_in_string)) return;
    bool ok = false;
    for (const auto& a : allowed) ok |= code.find(a) != std::string::npos;
    if (!ok) ADD_FAILURE() << path << ":" << n << " names a flag: " << line;
  });
  EXPECT_GT(files, 100u);
}

TEST(LayersTest, NoSourceFileSeedsAChoiceWithStdHash) {
  // std::hash may differ between standard libraries and platforms: a choice seeded by it (which
  // questions are Direct, the oracle's confidences) would not reproduce elsewhere. util/hash.h
  // has hash_bytes for that.
  const size_t files = for_each_source_line({}, [](const fs::path& path, int n, const std::string& line) {
    if (line.substr(0, line.find("//")).find("std::hash<") != std::string::npos)
      ADD_FAILURE() << path << ":" << n << " uses std::hash: " << line;
  });
  EXPECT_GT(files, 100u);
}

}  // namespace
