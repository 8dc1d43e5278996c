#include "serve/viewer.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>

#include "cota/trace.h"
#include "eval/score.h"
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

std::string content_type_of(const std::string& path) {
  const std::string ext = to_lower(path.substr(path.find_last_of('.') + 1));
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "bmp") return "image/bmp";
  return "application/octet-stream";
}

void reply_json(httplib::Response& res, const Json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
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
  refresh();
  if (scores_path.empty()) {
    if (!compare_path.empty()) throw Error("a second run to compare needs this run's scores too (--scores)");
    return;
  }
  if (!names.empty() && names.size() != 2) throw Error("--names takes two names, this run's and the other's, e.g. --names cota,direct");
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
  uint64_t offset = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (n >= offsets_.size()) throw Error("no episode " + std::to_string(n) + " (the file has " + std::to_string(offsets_.size()) + ")");
    offset = offsets_[n];
  }
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text;
  std::getline(in, text);
  return text;
}

Json TraceViewer::parsed(size_t n) const {
  Json j = Json::parse(with_valid_utf8(line(n)), nullptr, false);
  if (!j.is_object()) throw Error(path_ + " line " + std::to_string(n + 1) + " is not JSON");
  return j;
}

Json TraceViewer::trace(size_t n) const {
  refresh();
  return parsed(n);
}

std::string TraceViewer::image_path(size_t n, size_t k) const {
  Json t = trace(n);
  if (!t.contains("images") || !t["images"].is_array() || k >= t["images"].size()) throw Error("no such image");
  const std::string p = t["images"][k].value("path", "");
  if (p.empty()) throw Error("the image was not saved (the run kept tool images in memory)");
  return resolve_path(trace_paths_base(t, path_), p);
}

Json TraceViewer::summary(size_t n, const Json& t) const {
  Json tools = Json::array();
  for (const auto& s : t.value("steps", Json::array()))
    for (const auto& a : s.value("actions", Json::array()))
      if (a.is_object() && a.value("name", "") != "Terminate") tools.push_back(a.value("name", ""));
  Json s{{"n", n},
         {"id", t.value("id", "")},
         {"question", t.contains("task") ? t["task"].value("question", "") : ""},
         {"answer", t.value("answer", "")},
         {"model", t.value("model", "")},
         {"prompt", t.value("prompt", "")},
         {"status", t.value("status", "")},
         {"steps", t.value("steps", Json::array()).size()},
         {"tools", tools}};
  if (auto it = scores_.find(s["id"].get<std::string>()); it != scores_.end()) {
    s["score"] = it->second.score;
    s["reference"] = it->second.reference;
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
      Json t = Json::parse(with_valid_utf8(text), nullptr, false);
      auto it = t.is_object() ? scores_.find(t.value("id", "")) : scores_.end();
      if (it == scores_.end() || (it->second.score >= 1) != (correct == "yes")) continue;
    }
    if (total >= offset && episodes.size() < limit) episodes.push_back(summary(n, parsed(n)));
    ++total;
  }
  return Json{{"total", total}, {"offset", offset}, {"episodes", episodes}, {"file", path_}, {"scored", !scores_.empty()}};
}

void TraceViewer::mount(httplib::Server& http) const {
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(viewer_page(), "text/html; charset=utf-8"); });
  http.Get("/api/episodes", [this](const httplib::Request& req, httplib::Response& res) {
    auto number = [&](const char* key, size_t fallback) {
      const std::string v = req.get_param_value(key);
      return v.empty() || v.find_first_not_of("0123456789") != std::string::npos ? fallback : static_cast<size_t>(std::stoull(v));
    };
    reply_json(res, page(number("offset", 0), std::min<size_t>(number("limit", 50), 500), req.get_param_value("q"),
                         req.get_param_value("correct")));
  });
  http.Get("/api/report", [this](const httplib::Request&, httplib::Response& res) { reply_json(res, report_); });
  http.Get(R"(/api/episodes/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      reply_json(res, trace(std::stoull(req.matches[1])));
    } catch (const Error& e) {
      reply_json(res, Json{{"error", {{"message", e.what()}}}}, 404);
    }
  });
  http.Get(R"(/api/episodes/(\d+)/images/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const std::string path = image_path(std::stoull(req.matches[1]), std::stoull(req.matches[2]));
      res.set_content(read_file(path), content_type_of(path));
    } catch (const Error& e) {
      reply_json(res, Json{{"error", {{"message", e.what()}}}}, 404);
    }
  });
}

void run_viewer(const TraceViewer& viewer, const std::string& host, int port, const std::function<void(int)>& on_listening) {
  httplib::Server http;
  viewer.mount(http);
  const int bound = port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (bound < 0) throw Error("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not an address of this machine)");
  if (on_listening) on_listening(bound);
  http.listen_after_bind();
}

}  // namespace taco
