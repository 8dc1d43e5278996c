// taco kb import | taco kb query: the knowledge base QueryKnowledgeBase searches.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "tools/knowledge.h"
#include "util/json.h"
#include "util/strings.h"

namespace taco::cli {
namespace {

struct KbFlags {
  std::string input;
  std::string db;  // "": knowledge_base_to_import_into() to import, default_knowledge_base() to query
  std::string query;
  int limit = 3;
  bool json = false;
};

void import(const KbFlags& f) {
  const std::string db = !f.db.empty() ? f.db : knowledge_base_to_import_into();
  if (const auto folder = std::filesystem::path(db).parent_path(); !folder.empty()) std::filesystem::create_directories(folder);
  const std::string seeded = f.db.empty() ? seed_from_sample(db) : "";
  ImportCounts n = import_knowledge(f.input, db, [](size_t done) { std::fprintf(stderr, "\rread %zu entries", done); });
  std::fprintf(stderr, "\r%s: %zu entries added, %zu updated, %zu already there\n", db.c_str(), n.added, n.updated, n.unchanged);
  if (n.cut)
    std::fprintf(stderr, "%zu texts were longer than %s and were cut to it\n", n.cut, byte_size_text(kMaxKnowledgeTextBytes).c_str());
  if (!seeded.empty()) std::fprintf(stderr, "%s started as a copy of the sample (%s): its articles stay findable\n", db.c_str(), seeded.c_str());
  if (f.db.empty()) std::fprintf(stderr, "QueryKnowledgeBase reads it when the tools config names no database\n");
}

void query(const KbFlags& f) {
  KnowledgeBase kb(!f.db.empty() ? f.db : default_knowledge_base());
  const auto found = kb.search(f.query, f.limit);
  if (f.json) {
    Json out = Json::array();
    for (const auto& e : found) out.push_back(Json{{"title", e.title}, {"url", e.url}, {"text", e.text}});
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  if (found.empty()) std::fprintf(stderr, "nothing in %s (%zu entries) matches\n", kb.path().c_str(), kb.size());
  for (const auto& e : found)
    std::printf("%s%s\n  %s\n\n", e.title.c_str(), e.url.empty() ? "" : ("  <" + e.url + ">").c_str(), first_sentences(e.text, 2).c_str());
}

}  // namespace

void add_kb_command(CLI::App& app) {
  auto f = std::make_shared<KbFlags>();
  auto* cmd = app.add_subcommand("kb", "manage the local knowledge base");
  print_help_without_subcommand(*cmd);
  auto* import_cmd = cmd->add_subcommand("import", "add a Wikipedia abstracts dump (enwiki-*-abstract.xml) or JSONL {title, text, url}");
  import_cmd->footer("Example:\n  taco kb import enwiki-latest-abstract.xml     # then QueryKnowledgeBase finds its articles\n");
  import_cmd->add_option("input", f->input, "the file to import")->required()->check(CLI::ExistingFile);
  import_cmd->add_option("--db", f->db, "the knowledge base to create or add to (default: $TACO_KB, else ~/.local/share/taco/kb.sqlite)");
  import_cmd->callback([f] { import(*f); });
  auto* query_cmd = cmd->add_subcommand("query", "search the knowledge base as QueryKnowledgeBase does");
  query_cmd->footer("Example:\n  taco kb query \"Eiffel Tower\" -n 3\n");
  query_cmd->add_option("query", f->query, "the words to look up")->required();
  query_cmd->add_option("--db", f->db, "the knowledge base (default: the one QueryKnowledgeBase reads: $TACO_KB, else ~/.local/share/taco/kb.sqlite, else the sample)");
  query_cmd->add_option("-n,--limit", f->limit, "most entries shown")->capture_default_str()->check(CLI::Range(1, 100));
  query_cmd->add_flag("--json", f->json, "print JSON: title, url, text");
  query_cmd->callback([f] { query(*f); });
}

}  // namespace taco::cli
