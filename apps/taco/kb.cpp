// taco kb import: builds the knowledge base QueryKnowledgeBase searches.
#include <cstdio>

#include "commands.h"
#include "tools/knowledge.h"

namespace taco::cli {

void add_kb_command(CLI::App& app) {
  auto input = std::make_shared<std::string>();
  auto db = std::make_shared<std::string>("kb.sqlite");
  auto* cmd = app.add_subcommand("kb", "manage the local knowledge base");
  cmd->require_subcommand(1);
  auto* import = cmd->add_subcommand("import", "add a Wikipedia abstracts dump (enwiki-*-abstract.xml) or JSONL {title, text, url}");
  import->add_option("input", *input, "the file to import")->required()->check(CLI::ExistingFile);
  import->add_option("--db", *db, "the knowledge base to create or add to")->capture_default_str();
  import->callback([input, db] {
    size_t n = import_knowledge(*input, *db, [](size_t done) { std::fprintf(stderr, "\rimported %zu entries", done); });
    std::fprintf(stderr, "\r%zu entries imported into %s\n", n, db->c_str());
  });
}

}  // namespace taco::cli
