// The trace viewer: a web page over a trace file (taco view, and taco serve's own episodes at
// /; docs/serve.md). The file is indexed (where each line starts) and read a page at a time,
// so a file of 100,000 traces opens at once and the page never holds more than it shows; lines
// appended later (a run still going, the server's episodes) are indexed as they come.
//
//   GET /                          the page (built into the binary: no network, no CDN)
//   GET /api/episodes?offset=&limit=&q=&correct=yes|no
//                                  a page of summaries (id, question, answer, reference and
//                                  score when scores are given, model, mode, status, steps,
//                                  tools), `q` matching anywhere in the trace's text
//   GET /api/episodes/N            the whole trace of line N, with "scored": {"score",
//                                  "reference"} added when the scores have its id
//   GET /api/episodes/N/images/K   image K of that trace: only a regular image file that a trace
//                                  names, under the allowed roots after its links are resolved
//                                  (the traces' folder, the working folder, and --allowed-root
//                                  folders), at most kMaxViewerImageBytes, decoded before it is
//                                  sent; anything else is a 404 with the reason, and a log line
//   GET /favicon.ico               204: the page has no icon (a browser's request is no error)
//   GET /api/report                with scores: the run overall and per category with 95%
//                                  bootstrap intervals; with a second run's scores, both and
//                                  their paired difference per category (taco eval compare's)
//   GET /api/training              with a taco rl metrics file: {"steps": [its lines]}, read
//                                  afresh at each request (a run may be going), for the
//                                  training page's reward, accuracy and tool-use curves
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

class HttpServer;

// The largest image file the viewer sends.
inline constexpr size_t kMaxViewerImageBytes = size_t{32} << 20;

class TraceViewer {
 public:
  // Throws Error when a file cannot be read or the scores are not of these traces.
  // `scores_path` "" : no scores. `compare_path`: another run's scores, for the report;
  // `names`: the two runs' names there (default: the scores files' names).
  TraceViewer(std::string traces_path, const std::string& scores_path, const std::string& compare_path = "",
              std::vector<std::string> names = {});
  size_t size() const;
  // Summaries of the lines matching `query` (case-insensitive, anywhere in the line) and, when
  // given, correctness; {"total": matches, "episodes": [...]} from `offset`.
  Json page(size_t offset, size_t limit, const std::string& query, const std::string& correct) const;
  // The trace of line n (0-based); throws Error past the end.
  Json trace(size_t n) const;
  // The trace of line n with its score and reference ("scored") when the scores have it.
  Json episode(size_t n) const;
  // The path of image k of line n, resolved for reading; throws Error when there is none.
  std::string image_path(size_t n, size_t k) const;
  // Folders besides the traces' own and the working folder whose images may be served.
  void allow_root(const std::string& dir);
  // How the person serving the page adds a folder, for the refusal an image outside them gets
  // ("outside the allowed roots (<how> DIR)"); the command line says its flag.
  void set_allow_root_name(std::string how) { allow_root_name_ = std::move(how); }
  // The bytes of image k of line n and their content type, checked as the route above says;
  // throws Error with the reason a page can show.
  std::string image_bytes(size_t n, size_t k, std::string& content_type) const;
  // The report: {"runs": [...], "comparison": {...}} ({"runs": []} without scores).
  const Json& report() const { return report_; }
  // A taco rl run's metrics.jsonl, for the training page ("" : none).
  void set_training_metrics(std::string path) { metrics_path_ = std::move(path); }
  // {"steps": [...]}: the metrics file's lines (of its last kMaxTrainingBytes, at most the last
  // kMaxTrainingSteps; lines that are not JSON objects left out); no steps without a file.
  Json training() const;
  static constexpr size_t kMaxTrainingSteps = 100000;
  static constexpr uint64_t kMaxTrainingBytes = uint64_t{64} << 20;
  // Adds the page and the /api routes. With an `api_key`, the /api routes answer 401 to a
  // request without `Authorization: Bearer <api_key>`; the page (no data in it) asks for the key.
  void mount(HttpServer& http, const std::string& api_key = "") const;

 private:
  std::string line(size_t n) const;
  Json parsed(size_t n) const;  // line n as JSON, without looking for new lines
  Json summary(size_t n, const Json& trace) const;
  // Indexes the complete lines appended since the last call.
  void refresh() const;
  std::string path_;
  mutable std::mutex mu_;
  mutable std::vector<uint64_t> offsets_;
  mutable uint64_t indexed_ = 0;  // bytes of the file indexed so far (whole lines)
  struct Scored {
    double score;
    std::string reference;
  };
  std::map<std::string, Scored> scores_;
  std::vector<std::string> allowed_roots_;  // canonical
  std::string allow_root_name_ = "TraceViewer.allowed_roots";
  Json report_;
  std::string metrics_path_;
};

// Serves the viewer on host:port (0: any free port) until SIGTERM or SIGINT; `on_listening`
// gets the port once connections are taken. Throws Error when it cannot listen.
void run_viewer(const TraceViewer& viewer, const std::string& host, int port, const std::function<void(int)>& on_listening,
                bool access_log = true);

// The viewer's page: HTML with its script and styles inline.
const std::string& viewer_page();

}  // namespace taco
