// Input for the curate benchmark: N traces (variants of the traces in a template file, each
// with its own id and question) in two sources, and a recipe choosing `target` of them. The
// benchmark then runs `taco curate --recipe DIR/recipe.json` (scripts/bench), so that its
// memory is measured alone.
//   curate_bench --template traces.jsonl --traces 1000000 --work /tmp/curate-bench [--target 100000] [--recipe-only 1]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/error.h"
#include "util/files.h"

namespace {

// The line with its ids and question made unique by `k`.
std::string variant(const std::string& line, const std::string& id, size_t k) {
  std::string out = line;
  const std::string old_id = "\"id\":\"" + id + "\"", new_id = "\"id\":\"" + id + "~" + std::to_string(k) + "\"";
  for (size_t at = 0, n = 0; n < 2 && (at = out.find(old_id, at)) != std::string::npos; ++n, at += new_id.size())
    out.replace(at, old_id.size(), new_id);
  const std::string q = "\"question\":\"";
  if (size_t at = out.find(q); at != std::string::npos) out.insert(at + q.size(), "[" + std::to_string(k) + "] ");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string templ, work = "/tmp/curate-bench";
  size_t n = 1000000, target = 100000;
  bool recipe_only = false;  // keep the sources a previous call wrote
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--template") templ = argv[i + 1];
    else if (a == "--traces") n = std::stoul(argv[i + 1]);
    else if (a == "--work") work = argv[i + 1];
    else if (a == "--target") target = std::stoul(argv[i + 1]);
    else if (a == "--recipe-only") recipe_only = std::string(argv[i + 1]) == "1";
  }
  if (templ.empty()) {
    std::fprintf(stderr, "usage: curate_bench --template traces.jsonl [--traces N] [--work DIR] [--target N]\n");
    return 2;
  }
  try {
    std::vector<std::pair<std::string, std::string>> lines;  // id, line
    std::ifstream in(templ);
    for (std::string l; std::getline(in, l);) {
      size_t b = l.find("\"id\":\"") + 6;
      lines.emplace_back(l.substr(b, l.find('"', b) - b), l);
    }
    if (lines.empty()) throw taco::Error(templ + ": no traces");
    taco::make_dirs(work);
    // Two sources of n / 2 traces each: "human" and "programmatic".
    for (size_t s = 0; s < 2 && !recipe_only; ++s) {
      std::ofstream out(work + "/source" + std::to_string(s) + ".jsonl", std::ios::binary | std::ios::trunc);
      for (size_t j = 0; 2 * j + s < n; ++j) {
        const auto& [id, line] = lines[(j + s * lines.size() / 2) % lines.size()];  // both sources get every kind
        out << variant(line, id, 2 * j + s) << '\n';
      }
    }
    const taco::Json recipe{{"seed", 1},
                   {"target_size", target},
                   {"programmatic_share", 0.3},
                   {"formats", {{"cota", 1.0}}},
                   {"filters", {{"parsed", true}, {"no_failed_action", true}, {"min_steps", 2}, {"dedupe", true}}},
                   {"sources", {{{"name", "human"}, {"path", "source0.jsonl"}},
                                {{"name", "programmatic"}, {"path", "source1.jsonl"}, {"programmatic", true}}}}};
    taco::write_file(work + "/recipe.json", recipe.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "curate_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
