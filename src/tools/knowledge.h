// KnowledgeBase: a local encyclopedia in SQLite FTS5, ranked by bm25, for QueryKnowledgeBase.
// `taco kb import` builds one from a Wikipedia abstracts dump (enwiki-*-abstract.xml) or from
// JSONL records {"title", "text", "url"}. Reads are thread-safe (a connection per thread).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace taco {

struct KnowledgeEntry {
  std::string title;
  std::string url;
  std::string text;
};

struct ImportCounts {
  size_t added = 0;
  size_t updated = 0;    // a title already there with another text: the text replaced
  size_t unchanged = 0;  // a title already there with the same text: nothing done
  size_t cut = 0;        // texts longer than kMaxKnowledgeTextBytes, kept cut to it
};

// The longest text one entry keeps (the longest encyclopedia articles are about a tenth of it);
// a longer one is cut, and the import counts it.
inline constexpr size_t kMaxKnowledgeTextBytes = size_t{1} << 20;

// Imports `input` into the database at `db_path` (created or added to). A title is one entry:
// importing a file again adds nothing, and a newer dump replaces the texts that changed.
// `on_progress(n)` is called every 10,000 records read. Throws Error naming the file or database.
ImportCounts import_knowledge(const std::string& input, const std::string& db_path,
                              const std::function<void(size_t)>& on_progress = nullptr);

class KnowledgeBase {
 public:
  explicit KnowledgeBase(std::string db_path);  // checks the file; throws Error
  // The best `limit` entries for a free-text query, best first; an entry whose title equals
  // the query comes first.
  std::vector<KnowledgeEntry> search(const std::string& query, int limit = 5) const;
  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Where `taco kb import` writes when given no --db: $TACO_KB, else the user's own knowledge base,
// $XDG_DATA_HOME/taco/kb.sqlite (~/.local/share/taco/kb.sqlite).
std::string knowledge_base_to_import_into();

// The knowledge base used when the config names none: $TACO_KB, else the user's own (above) once
// `taco kb import` made it, else kb-sample.sqlite next to the taco binary (the build makes it
// from data/kb/sample.jsonl).
std::string default_knowledge_base();

// A new knowledge base at `db_path` made as a copy of the sample that QueryKnowledgeBase reads
// until the user has one of their own (kb-sample.sqlite beside the taco binary): `taco kb
// import` without a database adds to what queries found before, instead of hiding it. Returns
// the sample's path when it made the copy; "" when `db_path` exists or there is no sample.
std::string seed_from_sample(const std::string& db_path);

// The first `n` sentences of a text.
std::string first_sentences(const std::string& text, int n);

}  // namespace taco
