#include "tools/knowledge.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "tools/builtin.h"
#include "tools/catalog.h"
#include "tools/config.h"
#include "util/error.h"
#include "util/json.h"
#include "util/jsonl.h"
#include "util/utf8.h"
#include "util/strings.h"

namespace taco {

std::string knowledge_base_to_import_into() {
  if (const char* env = std::getenv("TACO_KB"); env && *env) return env;
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) return (std::filesystem::path(data) / "taco" / "kb.sqlite").string();
  const char* home = std::getenv("HOME");
  return (std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "taco" / "kb.sqlite").string();
}

namespace {

// The sample knowledge base the build makes beside the taco binary.
std::string sample_knowledge_base() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "kb-sample.sqlite" : (exe.parent_path() / "kb-sample.sqlite").string();
}

}  // namespace

std::string default_knowledge_base() {
  std::error_code ec;
  if (const char* env = std::getenv("TACO_KB"); env && *env) return env;
  if (const std::string own = knowledge_base_to_import_into(); std::filesystem::exists(own, ec)) return own;
  return sample_knowledge_base();
}

std::string seed_from_sample(const std::string& db_path) {
  std::error_code ec;
  if (std::filesystem::exists(db_path, ec)) return "";
  const std::string sample = sample_knowledge_base();
  if (!std::filesystem::exists(sample, ec)) return "";
  if (const auto folder = std::filesystem::path(db_path).parent_path(); !folder.empty()) std::filesystem::create_directories(folder, ec);
  if (!std::filesystem::copy_file(sample, db_path, ec)) throw Error(db_path + ": cannot start it from the sample " + sample + " (" + ec.message() + ")");
  return sample;
}

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(path + ": " + msg);
  }
}

Stmt prepare(sqlite3* db, const char* sql, const std::string& path) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) throw Error(path + ": " + sqlite3_errmsg(db));
  return Stmt(s);
}

std::string xml_unescape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X') ? std::strtol(ent.c_str() + 2, nullptr, 16)
                                                                    : std::strtol(ent.c_str() + 1, nullptr, 10);
      if (cp <= 0 || cp > 0x10FFFF) out += s.substr(i, semi - i + 1);
      else append_utf8(out, static_cast<uint32_t>(cp));
    } else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

// The text between <tag> and </tag> on a line, if the line holds that element.
bool element(const std::string& line, const char* tag, std::string& out) {
  std::string open = std::string("<") + tag + ">", close = std::string("</") + tag + ">";
  size_t a = line.find(open);
  if (a == std::string::npos) return false;
  size_t b = line.find(close, a);
  out = xml_unescape(line.substr(a + open.size(), (b == std::string::npos ? line.size() : b) - a - open.size()));
  return true;
}

sqlite3* reader(const std::string& path) {
  thread_local std::map<std::string, Db> connections;
  auto& db = connections[path];
  if (!db) {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string msg = raw ? sqlite3_errmsg(raw) : "cannot open";
      sqlite3_close(raw);
      throw Error(path + ": " + msg);
    }
    db.reset(raw);
  }
  return db.get();
}

}  // namespace

std::string first_sentences(const std::string& text, int n) {
  size_t end = 0;
  for (int k = 0; k < n; ++k) {
    size_t i = end;
    for (;;) {
      i = text.find_first_of(".!?", i);
      if (i == std::string::npos) return text;
      bool at_end = i + 1 >= text.size() || text[i + 1] == ' ' || text[i + 1] == '\n';
      // "St. Louis", "e.g. this", "J. S. Bach": a short capitalised word before the dot is not an end.
      size_t word = text.rfind(' ', i);
      word = word == std::string::npos ? 0 : word + 1;
      bool abbreviation = i - word <= 3 && i > word && std::isupper(static_cast<unsigned char>(text[word]));
      bool lowercase_next = i + 2 < text.size() && std::islower(static_cast<unsigned char>(text[i + 2]));
      if (at_end && !abbreviation && !lowercase_next) break;
      ++i;
    }
    end = i + 1;
  }
  return text.substr(0, end);
}

namespace {

// An import's writes: one transaction, an entry per title.
class KnowledgeWriter {
 public:
  explicit KnowledgeWriter(const std::string& db_path) : path_(db_path), db_(open(db_path)) {
    exec(db_.get(), "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;", path_);
    exec(db_.get(),
         "CREATE VIRTUAL TABLE IF NOT EXISTS entries USING fts5(title, text, url UNINDEXED, "
         "tokenize='porter unicode61 remove_diacritics 2')",
         path_);
    // FTS5 tables have no unique keys: an ordinary table maps each title to its entry's rowid so
    // a second import finds what is there. A database from before it gets it filled here.
    exec(db_.get(), "BEGIN", path_);
    const bool had_titles = [&] {
      Stmt s = prepare(db_.get(), "SELECT 1 FROM sqlite_master WHERE name = 'titles'", path_);
      return sqlite3_step(s.get()) == SQLITE_ROW;
    }();
    if (!had_titles)
      exec(db_.get(),
           "CREATE TABLE titles(title TEXT PRIMARY KEY, entry INTEGER NOT NULL) WITHOUT ROWID;"
           "INSERT OR IGNORE INTO titles SELECT title, rowid FROM entries",
           path_);
    find_ = prepare(db_.get(), "SELECT t.entry, e.text, e.url FROM titles t JOIN entries e ON e.rowid = t.entry WHERE t.title = ?", path_);
    remove_ = prepare(db_.get(), "DELETE FROM entries WHERE rowid = ?", path_);
    insert_ = prepare(db_.get(), "INSERT INTO entries(title, text, url) VALUES (?, ?, ?)", path_);
    note_ = prepare(db_.get(), "INSERT OR REPLACE INTO titles(title, entry) VALUES (?, ?)", path_);
  }

  // Adds or replaces the entry of `title`; counts what it did.
  void add(std::string title, std::string text, const std::string& url, ImportCounts& counts) {
    if (title.size() > 1024) title.resize(utf8_prefix(title, 1024).size());
    if (text.size() > kMaxKnowledgeTextBytes) {
      text.resize(utf8_prefix(text, kMaxKnowledgeTextBytes).size());
      ++counts.cut;
    }
    sqlite3_reset(find_.get());
    bind(find_, 1, title);
    if (step(find_)) {
      auto column = [&](int i) {
        const unsigned char* t = sqlite3_column_text(find_.get(), i);
        return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
      };
      if (column(1) == text && column(2) == url) {
        ++counts.unchanged;
        return;
      }
      sqlite3_reset(remove_.get());
      sqlite3_bind_int64(remove_.get(), 1, sqlite3_column_int64(find_.get(), 0));
      step(remove_);
      ++counts.updated;
    } else {
      ++counts.added;
    }
    sqlite3_reset(insert_.get());
    bind(insert_, 1, title);
    bind(insert_, 2, text);
    bind(insert_, 3, url);
    step(insert_);
    sqlite3_reset(note_.get());
    bind(note_, 1, title);
    sqlite3_bind_int64(note_.get(), 2, sqlite3_last_insert_rowid(db_.get()));
    step(note_);
  }

  void commit() { exec(db_.get(), "COMMIT", path_); }

 private:
  static Db open(const std::string& db_path) {
    sqlite3* raw = nullptr;
    if (sqlite3_open(db_path.c_str(), &raw) != SQLITE_OK) {
      std::string msg = raw ? sqlite3_errmsg(raw) : "cannot open";
      sqlite3_close(raw);
      throw Error(db_path + ": " + msg);
    }
    return Db(raw);
  }
  static void bind(Stmt& s, int i, const std::string& v) {
    sqlite3_bind_text(s.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  bool step(Stmt& s) {
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw Error(path_ + ": " + sqlite3_errmsg(db_.get()));
    return rc == SQLITE_ROW;
  }

  std::string path_;
  Db db_;
  Stmt find_, remove_, insert_, note_;
};

// Calls add(title, text, url) for each record of a Wikipedia abstracts dump or a JSONL file
// (told apart by the first line).
void for_each_knowledge_record(const std::string& input,
                               const std::function<void(const std::string&, const std::string&, const std::string&)>& add) {
  std::string first;
  {
    LineReader peek(input);
    if (peek.next(first) == LineReader::Result::kTooLong) first.clear();
  }
  LineReader in(input);
  const bool xml = first.find("<?xml") != std::string::npos || first.find("<feed") != std::string::npos;
  std::string line, title, url, text, value;
  for (LineReader::Result r; (r = in.next(line)) != LineReader::Result::kEnd;) {
    const std::string where = input + ":" + std::to_string(in.line_number()) + ": ";
    if (r == LineReader::Result::kTooLong)
      throw Error(where + "a line over " + byte_size_text(kMaxRecordBytes) + " (the most one record may hold)");
    if (xml) {
      if (line.find("<doc>") != std::string::npos) title.clear(), url.clear(), text.clear();
      if (element(line, "title", value)) title = value.rfind("Wikipedia: ", 0) == 0 ? value.substr(11) : value;
      if (element(line, "url", value)) url = value;
      if (element(line, "abstract", value)) text = value;
      // Abstracts that are left-over table markup carry no prose.
      if (line.find("</doc>") != std::string::npos && !text.empty() && text[0] != '|' && text[0] != '{') add(title, text, url);
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j;
    try {
      j = parse_json(line);
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    if (!j.is_object() || !j.contains("title") || !j.contains("text")) throw Error(where + "a knowledge record needs \"title\" and \"text\"");
    if (!j["title"].is_string() || !j["text"].is_string() || (j.contains("url") && !j["url"].is_string()))
      throw Error(where + "\"title\", \"text\" and \"url\" must be strings");
    add(j["title"].get<std::string>(), j["text"].get_ref<const std::string&>(), j.value("url", ""));
  }
}

}  // namespace

ImportCounts import_knowledge(const std::string& input, const std::string& db_path,
                              const std::function<void(size_t)>& on_progress) {
  { LineReader check(input); }  // an unreadable input fails before the database is made
  KnowledgeWriter writer(db_path);
  ImportCounts counts;
  size_t read = 0;
  for_each_knowledge_record(input, [&](const std::string& title, const std::string& text, const std::string& url) {
    if (title.empty() || text.empty()) return;
    if (++read % 10000 == 0 && on_progress) on_progress(read);
    writer.add(title, text, url, counts);
  });
  writer.commit();
  return counts;
}

KnowledgeBase::KnowledgeBase(std::string db_path) : path_(std::move(db_path)) {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) throw Error(path_ + ": no such knowledge base (build one with `taco kb import`)");
  sqlite3* db = reader(path_);
  Stmt check = prepare(db, "SELECT count(*) FROM entries", path_);
  if (sqlite3_step(check.get()) != SQLITE_ROW) throw Error(path_ + ": not a taco knowledge base");
}

size_t KnowledgeBase::size() const {
  Stmt s = prepare(reader(path_), "SELECT count(*) FROM entries", path_);
  return sqlite3_step(s.get()) == SQLITE_ROW ? static_cast<size_t>(sqlite3_column_int64(s.get(), 0)) : 0;
}

// Words that match nearly every article: leaving them out of the query keeps bm25 from scoring
// the whole table for "the".
bool is_stopword(const std::string& w) {
  static const std::set<std::string> words = {
      "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "he", "in", "is", "it", "its", "of", "on",
      "or", "that", "the", "this", "to", "was", "were", "what", "which", "who", "with", "how", "when", "where", "why",
      "does", "do", "did", "about", "me", "tell", "there", "their", "they", "she", "his", "her"};
  return words.count(to_lower(w)) > 0;
}

std::vector<KnowledgeEntry> KnowledgeBase::search(const std::string& query, int limit) const {
  // Each word becomes a quoted term. All of them must match first (small candidate sets, the
  // lookup people mean); when nothing has them all, any may match. bm25 ranks, titles 5x.
  // Stop words are dropped unless the query has nothing else.
  std::vector<std::string> terms, stop_terms;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    (is_stopword(word) ? stop_terms : terms).push_back("\"" + word + "\"");
    word.clear();
  };
  for (char c : query) {
    if (std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) & 0x80)) word += c;
    else flush();
  }
  flush();
  if (terms.empty()) terms = stop_terms;
  std::vector<KnowledgeEntry> out;
  if (terms.empty()) return out;
  auto joined = [&](const char* op) {
    std::string m;
    for (const auto& t : terms) m += (m.empty() ? "" : op) + t;
    return m;
  };
  sqlite3* db = reader(path_);
  Stmt s = prepare(db, "SELECT title, url, text FROM entries WHERE entries MATCH ? ORDER BY bm25(entries, 5.0, 1.0) LIMIT ?",
                   path_);
  auto col = [&](int i) {
    const unsigned char* t = sqlite3_column_text(s.get(), i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  for (const char* op : {" AND ", " OR "}) {
    if (std::string(op) == " OR " && (terms.size() == 1 || !out.empty())) break;
    std::string match = joined(op);
    sqlite3_reset(s.get());
    sqlite3_bind_text(s.get(), 1, match.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s.get(), 2, std::max(limit, 10));
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back({col(0), col(1), col(2)});
    if (rc != SQLITE_DONE) throw Error(path_ + ": " + sqlite3_errmsg(db));
  }
  std::string q = to_lower(query);
  auto exact = std::find_if(out.begin(), out.end(), [&](const KnowledgeEntry& e) { return to_lower(e.title) == q; });
  if (exact != out.end()) std::rotate(out.begin(), exact, exact + 1);
  if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
  return out;
}

namespace {

class KnowledgeTool : public Tool {
 public:
  KnowledgeTool(std::string db_path, int sentences) : sentences_(sentences) {
    try {
      kb_ = std::make_unique<KnowledgeBase>(std::move(db_path));
    } catch (const Error& e) {
      unavailable_ = e.what();
    }
  }
  const ToolSpec& spec() const override {
    static const ToolSpec s{
        "QueryKnowledgeBase",
        "Looks a topic up in an encyclopedia and returns the best matching article's title, address and first "
        "sentences.",
        {{"query", ArgType::kString, "the topic to look up, e.g. a name or a thing."}},
        {{"title", "the article's title."}, {"url", "the article's address."}, {"summary", "its first sentences."}},
        {Json{{"name", "QueryKnowledgeBase"}, {"arguments", {{"query", "Eiffel Tower"}}}}}};
    return s;
  }
  std::string backend() const override { return "sqlite-fts5"; }
  std::string unavailable_reason() const override { return unavailable_; }
  Json call(const Json& args, ToolContext&) const override {
    std::string query = args.at("query").get<std::string>();
    auto hits = kb_->search(query, 1);
    if (hits.empty()) throw ToolError(ToolFailure::kLookupError, "no article matches '" + query + "'; try other words");
    return Json{{"title", hits[0].title}, {"url", hits[0].url}, {"summary", first_sentences(hits[0].text, sentences_)}};
  }

 private:
  std::unique_ptr<KnowledgeBase> kb_;
  int sentences_;
  std::string unavailable_;
};

}  // namespace

std::unique_ptr<Tool> make_knowledge_tool(const Json& options) {
  return std::make_unique<KnowledgeTool>(options.value("database", ""), options.value("sentences", 2));
}

namespace {

const ToolRegistration kKnowledge({"QueryKnowledgeBase", 14, false, false, false, [](const ToolMaking& m) {
                                    Json s = m.section_with_path("QueryKnowledgeBase", "database");
                                    if (!s.contains("database")) s["database"] = default_knowledge_base();
                                    return make_knowledge_tool(s);
                                  }});

}  // namespace

}  // namespace taco
