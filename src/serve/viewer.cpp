#include "serve/viewer.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>

#include "cota/trace.h"
#include "eval/score.h"
#include "serve/http_server.h"
#include "tools/image.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {
namespace {

bool contains_folded(const std::string& text, const std::string& folded_query) {
  if (folded_query.empty()) return true;
  auto it = std::search(text.begin(), text.end(), folded_query.begin(), folded_query.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

// The content type of image bytes, by their first bytes (not the name a trace gives them).
constexpr size_t kSummaryText = 300;  // bytes of each text in an episode's summary
constexpr size_t kSummaryTools = 50;  // tool calls named in a summary

std::string content_type_of(const std::string& bytes) {
  const std::string ext = image_file_extension(bytes);
  if (ext == ".png") return "image/png";
  if (ext == ".jpg") return "image/jpeg";
  if (ext == ".gif") return "image/gif";
  if (ext == ".webp") return "image/webp";
  if (ext == ".bmp") return "image/bmp";
  return "application/octet-stream";
}

void reply_json(HttpResponse& res, const Json& j, int status = 200) {
  res.status = status;
  res.set(j.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

// One run's report: overall and per category, each mean with its bootstrap interval.
Json run_report(const std::string& name, const std::vector<ItemScore>& items) {
  std::map<std::string, std::vector<double>> by_category;
  std::vector<double> all;
  for (const auto& s : items) {
    all.push_back(s.score);
    by_category[s.category.empty() ? "(none)" : s.category].push_back(s.score);
  }
  auto group = [](const std::string& category, const std::vector<double>& scores) {
    const MeanInterval m = bootstrap_mean(scores);
    return Json{{"category", category}, {"n", scores.size()}, {"score", m.mean}, {"low", m.low}, {"high", m.high}};
  };
  Json categories = Json::array();
  for (const auto& [category, scores] : by_category) categories.push_back(group(category, scores));
  return Json{{"name", name}, {"overall", group("overall", all)}, {"categories", categories}};
}

}  // namespace

TraceViewer::TraceViewer(std::string traces_path, const std::string& scores_path, const std::string& compare_path,
                         std::vector<std::string> names)
    : path_(std::move(traces_path)), report_(Json{{"runs", Json::array()}}) {
  if (!std::ifstream(path_, std::ios::binary)) throw Error(path_ + ": cannot open");
  allowed_roots_ = canonical_roots({parent_dir(std::filesystem::absolute(path_).string()), std::filesystem::current_path().string()});
  refresh();
  if (scores_path.empty()) {
    if (!compare_path.empty()) throw Error("a second run to compare needs this run's scores too (TraceViewer.scores_path)");
    return;
  }
  if (!names.empty() && names.size() != 2) throw Error("TraceViewer.names takes two names, this run's and the other's, e.g. TraceViewer.names cota,direct");
  const std::vector<ItemScore> items = load_item_scores(scores_path);
  for (const auto& s : items) scores_[s.id] = Scored{s.score, s.reference};
  // Scores of another run would mark the wrong episodes right: the first traces must be scored.
  size_t looked = 0, found = 0;
  for (; looked < std::min<size_t>(size(), 50); ++looked) {
    const Json t = parsed(looked);
    found += t.is_object() && scores_.count(t.value("id", "")) > 0;
  }
  if (looked > 0 && found == 0)
    throw Error(scores_path + " scores none of the first " + std::to_string(looked) + " episodes of " + path_ +
                " (the scores of another run?)");
  report_["runs"].push_back(run_report(names.empty() ? run_name_of(scores_path) : names[0], items));
  if (compare_path.empty()) return;
  const std::vector<ItemScore> other = load_item_scores(compare_path);
  std::string other_name = names.empty() ? run_name_of(compare_path) : names[1];
  if (other_name == report_["runs"][0]["name"]) other_name += " (compared)";
  report_["runs"].push_back(run_report(other_name, other));
  // The difference is this run's score minus the other's, on the items both scored.
  auto rows = compare_runs(other, items);
  if (rows.empty()) throw Error(compare_path + " and " + scores_path + " share no scored items: not runs of one benchmark");
  report_["comparison"] = comparison_json(other_name, report_["runs"][0]["name"], rows);
}

void TraceViewer::refresh() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(indexed_));
  std::vector<char> buf(1 << 20);
  uint64_t at = indexed_, line_start = indexed_;
  bool empty = true;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    for (size_t i = 0; i < n; ++i, ++at) {
      if (buf[i] == '\n') {
        if (!empty) offsets_.push_back(line_start);
        line_start = at + 1;
        empty = true;
      } else if (!std::isspace(static_cast<unsigned char>(buf[i]))) {
        empty = false;
      }
    }
  }
  // A last line without its newline is still being written (or was cut): it waits.
  indexed_ = line_start;
}

size_t TraceViewer::size() const {
  refresh();
  std::lock_guard<std::mutex> lock(mu_);
  return offsets_.size();
}

std::string TraceViewer::line(size_t n) const {
  uint64_t offset = 0, end = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (n >= offsets_.size()) throw Error("no episode " + std::to_string(n) + " (the file has " + std::to_string(offsets_.size()) + ")");
    offset = offsets_[n];
    end = n + 1 < offsets_.size() ? offsets_[n + 1] : indexed_;
  }
  if (end - offset > kMaxRecordBytes)
    throw Error("episode " + std::to_string(n) + " is a line of " + byte_size_text(end - offset) + ", over the limit of " +
                byte_size_text(kMaxRecordBytes) + " for one record");
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text(end - offset, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (size_t nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

Json TraceViewer::parsed(size_t n) const {
  Json j = parse_json_or_discarded(with_valid_utf8(line(n)));
  if (!j.is_object()) throw Error(path_ + " line " + std::to_string(n + 1) + " is not JSON");
  return j;
}

Json TraceViewer::trace(size_t n) const {
  refresh();
  return parsed(n);
}

Json TraceViewer::episode(size_t n) const {
  Json t = trace(n);
  if (!t.is_object()) return t;
  if (auto it = scores_.find(t.value("id", "")); it != scores_.end())
    t["scored"] = Json{{"score", it->second.score}, {"reference", it->second.reference}};
  return t;
}

std::string TraceViewer::image_path(size_t n, size_t k) const {
  Json t = trace(n);
  if (!t.contains("images") || !t["images"].is_array() || k >= t["images"].size()) throw Error("no such image");
  const std::string p = t["images"][k].value("path", "");
  if (p.empty()) throw Error("the image was not saved (the run kept tool images in memory)");
  return resolve_path(trace_paths_base(t, path_), p);
}

void TraceViewer::allow_root(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error(dir + ": not a folder (TraceViewer.allowed_roots)");
  for (auto& root : canonical_roots({dir})) allowed_roots_.push_back(root);
}

std::string TraceViewer::image_bytes(size_t n, size_t k, std::string& content_type) const {
  const std::string path = image_path(n, k);
  const std::string real = path_under_roots(path, allowed_roots_);
  if (real.empty()) throw Error("outside the allowed roots (" + allow_root_name_ + " DIR)");
  std::string bytes;
  try {
    bytes = read_regular_file(real, kMaxViewerImageBytes);
    Image::decode(bytes);
  } catch (const Error&) {
    throw Error("not an image file of at most " + byte_size_text(kMaxViewerImageBytes));
  }
  content_type = content_type_of(bytes);
  return bytes;
}

Json TraceViewer::summary(size_t n, const Json& t) const {
  Json tools = Json::array();
  // The tools called, as Trace::tools_called counts them: each step's first action, not
  // Terminate, not an action the registry does not have.
  for (const auto& s : t.value("steps", Json::array())) {
    const Json error = s.is_object() ? s.value("error", Json()) : Json();
    if (error.is_object() && error.value("kind", "") == "unknown_tool") continue;
    for (const auto& a : s.is_object() ? s.value("actions", Json::array()) : Json::array()) {
      if (a.is_object() && a.value("name", "") != "Terminate" && tools.size() < kSummaryTools) tools.push_back(excerpt(a.value("name", ""), 64));
      break;  // only the first action runs
    }
  }
  // A summary is a row of the table: each text is cut, so a page of 500 stays small whatever
  // the traces hold (the whole trace is one click away).
  auto text = [](const Json& j, const char* key) { return excerpt(j.is_object() ? j.value(key, "") : "", kSummaryText); };
  Json s{{"n", n},
         {"id", text(t, "id")},
         {"question", t.contains("task") ? text(t["task"], "question") : ""},
         {"answer", text(t, "answer")},
         {"model", text(t, "model")},
         {"prompt", text(t, "prompt")},
         {"status", text(t, "status")},
         {"steps", t.value("steps", Json::array()).size()},
         {"tools", tools}};
  if (auto it = scores_.find(t.value("id", "")); it != scores_.end()) {
    s["score"] = it->second.score;
    s["reference"] = excerpt(it->second.reference, kSummaryText);
  }
  return s;
}

Json TraceViewer::page(size_t offset, size_t limit, const std::string& query, const std::string& correct) const {
  const std::string folded = to_lower(query);
  Json episodes = Json::array();
  size_t total = 0;
  const size_t count = size();
  for (size_t n = 0; n < count; ++n) {
    // Without filters the page is read directly; with them every line is looked at.
    if (folded.empty() && correct.empty()) {
      total = count;
      for (size_t k = offset; k < std::min(count, offset + limit); ++k) episodes.push_back(summary(k, parsed(k)));
      break;
    }
    const std::string text = line(n);
    if (!contains_folded(text, folded)) continue;
    if (!correct.empty()) {
      Json t = parse_json_or_discarded(with_valid_utf8(text));
      auto it = t.is_object() ? scores_.find(t.value("id", "")) : scores_.end();
      if (it == scores_.end() || (it->second.score >= 1) != (correct == "yes")) continue;
    }
    if (total >= offset && episodes.size() < limit) episodes.push_back(summary(n, parsed(n)));
    ++total;
  }
  return Json{{"total", total}, {"offset", offset}, {"episodes", episodes}, {"file", path_}, {"scored", !scores_.empty()}};
}

Json TraceViewer::training() const {
  Json steps = Json::array();
  if (metrics_path_.empty()) return Json{{"steps", steps}};
  std::ifstream in(metrics_path_, std::ios::binary);
  // The file's last kMaxTrainingBytes at most (a step's line is about a kilobyte), from the
  // first whole line.
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(metrics_path_, ec);
  std::string line;
  if (!ec && size > kMaxTrainingBytes) {
    in.seekg(static_cast<std::streamoff>(size - kMaxTrainingBytes));
    std::getline(in, line);
  }
  std::deque<Json> kept;
  while (std::getline(in, line)) {
    if (line.empty() || line.size() > (size_t{1} << 20)) continue;
    try {
      Json j = parse_json(line);
      if (!j.is_object()) continue;
      kept.push_back(std::move(j));
      if (kept.size() > kMaxTrainingSteps) kept.pop_front();
    } catch (const Error&) {
      // a line being written, or not a metrics line: left out
    }
  }
  for (auto& j : kept) steps.push_back(std::move(j));
  return Json{{"steps", steps}};
}

void TraceViewer::mount(HttpServer& http, const std::string& api_key) const {
  http.get("/", [](const HttpRequest&, HttpResponse& res) { res.set(viewer_page(), "text/html; charset=utf-8"); }, true);
  http.get("/favicon.ico", [](const HttpRequest&, HttpResponse& res) { res.status = 204; }, true);
  // Every /api route: the key first (the page shows the 401 as a request for it).
  auto keyed = [api_key](std::function<void(const HttpRequest&, HttpResponse&)> handler) {
    return [api_key, handler](const HttpRequest& req, HttpResponse& res) {
      if (!req.has_key(api_key))
        return reply_json(res, Json{{"error", {{"message", "this viewer wants the server's API key (Authorization: Bearer KEY)"},
                                               {"code", "invalid_api_key"}}}},
                          401);
      handler(req, res);
    };
  };
  http.get("/api/episodes", keyed([this](const HttpRequest& req, HttpResponse& res) {
    auto number = [&](const char* key, size_t fallback) {
      const std::string v = req.param(key);
      return v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos ? fallback
                                                                                                  : static_cast<size_t>(std::stoull(v));
    };
    reply_json(res, page(number("offset", 0), std::min<size_t>(number("limit", 50), 500), req.param("q"), req.param("correct")));
  }));
  http.get("/api/report", keyed([this](const HttpRequest&, HttpResponse& res) { reply_json(res, report_); }), true);
  http.get("/api/training", keyed([this](const HttpRequest&, HttpResponse& res) { reply_json(res, training()); }), true);
  auto index = [](const std::string& digits) {
    if (digits.size() > 18) throw Error("no such episode or image");
    return static_cast<size_t>(std::stoull(digits));
  };
  http.get(R"(/api/episodes/(\d+))", keyed([this, index](const HttpRequest& req, HttpResponse& res) {
    try {
      reply_json(res, episode(index(req.matches[1])));
    } catch (const Error& e) {
      reply_json(res, Json{{"error", {{"message", e.what()}}}}, 404);
    }
  }));
  http.get(R"(/api/episodes/(\d+)/images/(\d+))", keyed([this, index](const HttpRequest& req, HttpResponse& res) {
    try {
      std::string type;
      std::string bytes = image_bytes(index(req.matches[1]), index(req.matches[2]), type);
      res.set(std::move(bytes), type);
    } catch (const Error& e) {
      std::fprintf(stderr, "viewer: %s: image refused: %s\n", excerpt(req.path, 200).c_str(), e.what());
      reply_json(res, Json{{"error", {{"message", e.what()}}}}, 404);
    }
  }));
}

void run_viewer(const TraceViewer& viewer, const std::string& host, int port, const std::function<void(int)>& on_listening,
                bool access_log) {
  HttpLimits limits;
  limits.max_body_bytes = 1 << 20;  // the viewer takes no bodies
  limits.access_log = access_log;
  limits.log_name = "taco view";
  HttpServer http(limits);
  viewer.mount(http);
  const int bound = http.bind(host, port);
  if (on_listening) on_listening(bound);
  http.serve();
}

}  // namespace taco
