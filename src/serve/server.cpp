#include "serve/server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <sstream>

#include "cota/trace.h"
#include "serve/viewer.h"
#include "tools/image.h"
#include "util/base64.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/utf8.h"

namespace taco {
namespace {

// A request that gets an error reply: its HTTP status and OpenAI's error type.
struct HttpError : std::runtime_error {
  HttpError(int status, std::string type, const std::string& message, std::string code = "")
      : std::runtime_error(message), status(status), type(std::move(type)), code(std::move(code)) {}
  int status;
  std::string type, code;
};
HttpError bad_request(const std::string& message) { return HttpError(400, "invalid_request_error", message); }

Json error_body(const std::string& message, const std::string& type, const std::string& code) {
  return Json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code.empty() ? Json() : Json(code)}}}};
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// What /metrics reports, in Prometheus' text format.
class Metrics {
 public:
  void request(const std::string& route, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{route, status}];
    size_t b = 0;
    while (b < kBounds.size() && seconds > kBounds[b]) ++b;
    ++buckets_[b];
    latency_sum_ += seconds;
    ++latency_count_;
  }
  void episode(const Trace& t) {
    std::lock_guard<std::mutex> lock(mu_);
    ++episodes_[to_string(t.status)];
    for (const auto& name : t.tools_called()) ++tool_calls_[name];
  }
  std::atomic<int> in_flight{0};

  std::string render() {
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream o;
    o << "# HELP taco_requests_total HTTP requests answered, by route (method and path) and status.\n# TYPE taco_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      o << "taco_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
    o << "# HELP taco_request_seconds Time to answer a request.\n# TYPE taco_request_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBounds.size(); ++b) {
      cumulative += buckets_[b];
      o << "taco_request_seconds_bucket{le=\"" << kBounds[b] << "\"} " << cumulative << "\n";
    }
    cumulative += buckets_[kBounds.size()];
    o << "taco_request_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n";
    o << "taco_request_seconds_sum " << latency_sum_ << "\ntaco_request_seconds_count " << latency_count_ << "\n";
    o << "# HELP taco_episodes_total Episodes run, by how they ended.\n# TYPE taco_episodes_total counter\n";
    for (const auto& [status, n] : episodes_) o << "taco_episodes_total{status=\"" << status << "\"} " << n << "\n";
    o << "# HELP taco_tool_calls_total Tool calls made in episodes, by tool.\n# TYPE taco_tool_calls_total counter\n";
    for (const auto& [tool, n] : tool_calls_) o << "taco_tool_calls_total{tool=\"" << tool << "\"} " << n << "\n";
    uint64_t errors = 0;
    for (const auto& [key, n] : requests_) errors += key.second >= 400 ? n : 0;
    o << "# HELP taco_errors_total Requests answered with an error status.\n# TYPE taco_errors_total counter\n";
    o << "taco_errors_total " << errors << "\n";
    o << "# HELP taco_requests_in_flight Requests being answered now.\n# TYPE taco_requests_in_flight gauge\n";
    o << "taco_requests_in_flight " << in_flight.load() << "\n";
    return o.str();
  }

 private:
  static inline const std::vector<double> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(kBounds.size() + 1, 0);
  double latency_sum_ = 0;
  uint64_t latency_count_ = 0;
  std::map<std::string, uint64_t> episodes_, tool_calls_;
};

// A data URL's image bytes, checked against the pixel limit from its header before anything
// decodes it.
std::string image_bytes(const std::string& url, int64_t max_pixels) {
  if (url.rfind("data:", 0) != 0)
    throw bad_request("image_url must be a data: URL (data:image/png;base64,...); taco fetches nothing from the network");
  const size_t comma = url.find(',');
  if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos)
    throw bad_request("image_url must be a base64 data: URL");
  auto bytes = base64_decode(std::string_view(url).substr(comma + 1));
  if (!bytes || bytes->empty()) throw bad_request("image_url holds no valid base64 data");
  int64_t w = 0, h = 0;
  if (!image_header_size(*bytes, w, h)) throw bad_request("image_url is not an image taco reads (PNG, JPEG, GIF, BMP, WebP, TIFF, Netpbm)");
  if (w * h > max_pixels)
    throw bad_request("an image of " + std::to_string(w) + "x" + std::to_string(h) + " is over the limit of " +
                      std::to_string(max_pixels) + " pixels");
  return std::move(*bytes);
}

// OpenAI messages as taco's; images stay data URLs (the model decodes them).
std::vector<Message> to_messages(const Json& messages, int64_t max_pixels) {
  if (!messages.is_array() || messages.empty()) throw bad_request("'messages' must be a non-empty array");
  std::vector<Message> out;
  for (const auto& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) throw bad_request("each message needs a 'role'");
    Message msg;
    msg.role = m["role"];
    if (msg.role == "developer") msg.role = "system";
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
      throw bad_request("role '" + msg.role + "' is not taken by this model (system, user or assistant)");
    const Json content = m.value("content", Json());
    if (content.is_string()) {
      msg.parts.push_back(ContentPart{content.get<std::string>(), nullptr});
    } else if (content.is_array()) {
      for (const auto& part : content) {
        const std::string type = part.is_object() ? part.value("type", "") : "";
        if (type == "text" && part.contains("text") && part["text"].is_string()) {
          msg.parts.push_back(ContentPart{part["text"].get<std::string>(), nullptr});
        } else if (type == "image_url" && part.contains("image_url")) {
          const Json& iu = part["image_url"];
          const std::string url = iu.is_string() ? iu.get<std::string>() : iu.is_object() ? iu.value("url", "") : "";
          image_bytes(url, max_pixels);
          msg.parts.push_back(ContentPart{"", std::make_shared<const std::string>(url)});
        } else {
          throw bad_request("a content part must be {\"type\": \"text\", \"text\": ...} or {\"type\": \"image_url\", \"image_url\": {\"url\": ...}}");
        }
      }
    } else if (!content.is_null()) {
      throw bad_request("'content' must be a string or an array of parts");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Json usage_of(const Completion& c) {
  return Json{{"prompt_tokens", c.prompt_tokens}, {"completion_tokens", c.completion_tokens},
              {"total_tokens", c.prompt_tokens + c.completion_tokens}};
}

}  // namespace

struct Server::Impl {
  Model& model;
  const ToolRegistry& tools;
  PromptTemplate prompts;
  EpisodeOptions episode;
  ServeOptions options;
  httplib::Server http;
  Metrics metrics;
  std::atomic<uint64_t> next_id{1};
  std::mutex episodes_mu;
  std::deque<std::pair<std::string, Json>> episodes;  // id -> trace, newest last
  std::unique_ptr<JsonlAppender> episodes_file;       // every episode, for the viewer at /
  std::unique_ptr<TraceViewer> viewer;

  Impl(Model& m, const ToolRegistry& t, PromptTemplate p, EpisodeOptions e, ServeOptions o)
      : model(m), tools(t), prompts(std::move(p)), episode(std::move(e)), options(std::move(o)) {}

  std::string new_id(const char* prefix) {
    return std::string(prefix) + std::to_string(std::chrono::system_clock::now().time_since_epoch().count() / 1000000) + "-" +
           std::to_string(next_id++);
  }

  struct RanEpisode {
    std::string id;
    Trace trace;
    Json json;  // the trace as episodes.jsonl holds it (paths from the work folder)
  };
  // Runs one episode on images (data URLs or base64) and a question; keeps it for /v1/episodes
  // and the viewer.
  RanEpisode run_episode(const std::vector<std::string>& image_urls, const std::string& question, const Json& settings) {
    if (question.empty()) throw bad_request("an episode needs a question");
    const std::string id = new_id("ep-");
    const std::string dir = options.work_dir + "/" + id;
    Task task;
    task.id = id;
    task.question = question;
    if (!image_urls.empty()) make_dirs(dir);
    for (size_t k = 0; k < image_urls.size(); ++k) {
      const std::string& u = image_urls[k];
      const std::string bytes = image_bytes(u.rfind("data:", 0) == 0 ? u : "data:image;base64," + u, episode.max_pixels);
      const std::string path = dir + "/input-" + std::to_string(k) + image_file_extension(bytes);
      write_file(path, bytes);
      task.images.push_back(path);
    }
    EpisodeOptions eo = episode;
    eo.images_dir = options.work_dir;
    if (settings.contains("prompt")) {
      try {
        eo.mode = prompt_mode_from_string(settings["prompt"].get<std::string>());
      } catch (const std::exception&) {
        throw bad_request("'prompt' is cota or direct");
      }
    }
    if (settings.contains("max_replies")) {
      if (!settings["max_replies"].is_number_integer() || settings["max_replies"].get<int>() < 0)
        throw bad_request("'max_replies' must be a whole number of at least 0");
      eo.max_replies = settings["max_replies"];
    }
    Runtime runtime(model, tools, prompts, eo);
    Trace trace = runtime.run(task);
    metrics.episode(trace);
    Json j = trace.to_json_in(episodes_file->path());
    episodes_file->append(j);
    {
      std::lock_guard<std::mutex> lock(episodes_mu);
      episodes.emplace_back(id, j);
      while (episodes.size() > options.keep_episodes) episodes.pop_front();
    }
    return {id, std::move(trace), std::move(j)};
  }

  Json completion_body(const std::string& id, const std::string& model_name, const std::string& text, const Json& usage,
                       const Json& logprobs) {
    Json choice{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}};
    choice["logprobs"] = logprobs;
    return Json{{"id", id},
                {"object", "chat.completion"},
                {"created", std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()},
                {"model", model_name},
                {"choices", Json::array({choice})},
                {"usage", usage}};
  }

  void chat_completions(const httplib::Request& req, httplib::Response& res) {
    Json body = parse_body(req);
    const std::string model_name = body.value("model", "");
    if (body.contains("tools") && !body["tools"].is_null() && !(body["tools"].is_array() && body["tools"].empty()))
      throw bad_request("model '" + model_name + "' cannot honour 'tools' here: taco-agent calls taco's own tools, and passing "
                        "tools through to a served model is not supported yet");
    std::vector<Message> messages = to_messages(body.value("messages", Json()), episode.max_pixels);
    const std::string id = new_id("chatcmpl-");
    Json reply;
    if (model_name == kAgentModelName) {
      // The last user message is the question, its images the episode's inputs.
      const Message* user = nullptr;
      for (const auto& m : messages)
        if (m.role == "user") user = &m;
      if (!user) throw bad_request("taco-agent needs a user message with the question");
      std::vector<std::string> images;
      for (const auto& p : user->parts)
        if (p.image_url) images.push_back(*p.image_url);
      auto [episode_id, trace, trace_json] = run_episode(images, user->text(), body.value("taco", Json::object()));
      if (trace.status == TraceStatus::kError) throw HttpError(502, "server_error", "the episode failed: " + trace.error);
      int prompt_tokens = 0, completion_tokens = 0;
      for (const auto& s : trace.steps) prompt_tokens += s.prompt_tokens, completion_tokens += s.completion_tokens;
      reply = completion_body(id, kAgentModelName, trace.answer,
                              Json{{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
                                   {"total_tokens", prompt_tokens + completion_tokens}},
                              nullptr);
      reply["taco"] = Json{{"episode_id", episode_id}, {"trace", std::move(trace_json)}};
    } else {
      if (!model_name.empty() && model_name != model.name())
        throw HttpError(404, "invalid_request_error", "the model '" + model_name + "' does not exist; this server has '" +
                                                          model.name() + "' and '" + kAgentModelName + "'",
                        "model_not_found");
      CompletionRequest cr;
      cr.task_id = id;
      cr.messages = &messages;
      cr.logprobs = body.value("logprobs", false);
      if (body.contains("temperature") && body["temperature"].is_number()) cr.temperature = body["temperature"].get<double>();
      Completion c;
      try {
        c = model.complete(cr);
      } catch (const ModelError& e) {
        throw HttpError(502, "server_error", std::string("the model could not answer: ") + e.what());
      }
      Json logprobs = nullptr;
      if (cr.logprobs) {
        Json content = Json::array();
        for (const auto& t : c.logprobs) content.push_back(Json{{"token", t.token}, {"logprob", t.logprob}});
        logprobs = Json{{"content", content}};
      }
      reply = completion_body(id, model.name(), c.text, usage_of(c), logprobs);
    }
    if (body.value("stream", false)) {
      stream(res, reply, body.value("stream_options", Json::object()).value("include_usage", false));
      return;
    }
    res.set_content(reply.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
  }

  // The finished reply as server-sent chunks: the role, the text, the finish reason, [DONE].
  void stream(httplib::Response& res, const Json& reply, bool include_usage) {
    const std::string text = reply["choices"][0]["message"]["content"];
    std::vector<std::string> events;
    auto chunk = [&](const Json& delta, const Json& finish) {
      Json c{{"id", reply["id"]}, {"object", "chat.completion.chunk"}, {"created", reply["created"]}, {"model", reply["model"]},
             {"choices", Json::array({Json{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
      events.push_back("data: " + c.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n");
    };
    chunk(Json{{"role", "assistant"}, {"content", ""}}, nullptr);
    // Word by word, as a client would see tokens arrive.
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find(' ', start + 1);
      end = end == std::string::npos ? text.size() : end;
      chunk(Json{{"content", text.substr(start, end - start)}}, nullptr);
      start = end;
    }
    chunk(Json::object(), "stop");
    if (include_usage) {
      Json u{{"id", reply["id"]}, {"object", "chat.completion.chunk"}, {"created", reply["created"]}, {"model", reply["model"]},
             {"choices", Json::array()}, {"usage", reply["usage"]}};
      if (reply.contains("taco")) u["taco"] = reply["taco"];
      events.push_back("data: " + u.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n");
    }
    events.push_back("data: [DONE]\n\n");
    auto shared = std::make_shared<std::vector<std::string>>(std::move(events));
    auto next = std::make_shared<size_t>(0);
    res.set_chunked_content_provider("text/event-stream", [shared, next](size_t, httplib::DataSink& sink) {
      // A failed write is a client that went away: the provider stops there.
      const std::string& event = (*shared)[(*next)++];
      if (!sink.write(event.data(), event.size())) return false;
      if (*next == shared->size()) sink.done();
      return true;
    });
  }

  void post_episode(const httplib::Request& req, httplib::Response& res) {
    Json body = parse_body(req);
    std::vector<std::string> images;
    for (const auto& im : body.value("images", Json::array())) {
      if (!im.is_string()) throw bad_request("'images' must be a list of data: URLs or base64 strings");
      images.push_back(im);
    }
    RanEpisode ran = run_episode(images, body.value("question", ""), body);
    res.set_content(Json{{"id", ran.id}, {"trace", std::move(ran.json)}}.dump(-1, ' ', false, Json::error_handler_t::replace),
                    "application/json");
  }

  Json parse_body(const httplib::Request& req) {
    Json body;
    try {
      body = Json::parse(with_valid_utf8(req.body));
    } catch (const Json::exception& e) {
      throw bad_request(std::string("the body is not JSON: ") + e.what());
    }
    if (!body.is_object()) throw bad_request("the body must be a JSON object");
    return body;
  }

  bool authorized(const httplib::Request& req) const {
    return options.api_key.empty() || req.get_header_value("Authorization") == "Bearer " + options.api_key;
  }

  // Wraps a handler: auth, the concurrency limit, errors in OpenAI's shape, metrics.
  httplib::Server::Handler guarded(const std::string& route, bool needs_key, bool limited,
                                   std::function<void(const httplib::Request&, httplib::Response&)> handler) {
    return [this, route, needs_key, limited, handler](const httplib::Request& req, httplib::Response& res) {
      const auto start = std::chrono::steady_clock::now();
      if (limited) ++metrics.in_flight;
      try {
        if (needs_key && !authorized(req))
          throw HttpError(401, "invalid_request_error", "missing or wrong API key (send Authorization: Bearer KEY)", "invalid_api_key");
        if (limited && metrics.in_flight.load() > options.max_concurrency) {
          res.set_header("Retry-After", "1");
          throw HttpError(429, "rate_limit_error",
                          "the server is answering " + std::to_string(options.max_concurrency) + " requests already; retry shortly");
        }
        handler(req, res);
      } catch (const HttpError& e) {
        res.status = e.status;
        res.set_content(error_body(e.what(), e.type, e.code).dump(), "application/json");
      } catch (const std::exception& e) {
        res.status = 500;
        res.set_content(error_body(std::string("internal error: ") + e.what(), "server_error", "").dump(), "application/json");
      }
      if (limited) --metrics.in_flight;
      if (res.status == -1) res.status = 200;  // httplib's "not set yet": the handler answered
      metrics.request(route, res.status, seconds_since(start));
    };
  }

  void routes() {
    http.Get("/health", guarded("GET /health", false, false, [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status": "ok"})", "application/json");
    }));
    http.Get("/metrics", guarded("GET /metrics", false, false, [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(), "text/plain; version=0.0.4");
    }));
    http.Get("/v1/models", guarded("GET /v1/models", true, false, [this](const httplib::Request&, httplib::Response& res) {
      Json data = Json::array();
      for (const std::string& name : {model.name(), std::string(kAgentModelName)})
        data.push_back(Json{{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "taco"}});
      res.set_content(Json{{"object", "list"}, {"data", data}}.dump(), "application/json");
    }));
    http.Post("/v1/chat/completions", guarded("POST /v1/chat/completions", true, true,
                                              [this](const httplib::Request& req, httplib::Response& res) { chat_completions(req, res); }));
    http.Post("/v1/episodes",
              guarded("POST /v1/episodes", true, true, [this](const httplib::Request& req, httplib::Response& res) { post_episode(req, res); }));
    http.Get("/v1/episodes", guarded("GET /v1/episodes", true, false, [this](const httplib::Request&, httplib::Response& res) {
      Json data = Json::array();
      std::lock_guard<std::mutex> lock(episodes_mu);
      for (auto it = episodes.rbegin(); it != episodes.rend(); ++it) {
        const Json& t = it->second;
        data.push_back(Json{{"id", it->first}, {"question", t["task"].value("question", "")}, {"answer", t.value("answer", "")},
                            {"status", t.value("status", "")}, {"steps", t["steps"].size()}});
      }
      res.set_content(Json{{"object", "list"}, {"data", data}}.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
    }));
    http.Get(R"(/v1/episodes/([A-Za-z0-9_.-]+))",
             guarded("GET /v1/episodes/{id}", true, false, [this](const httplib::Request& req, httplib::Response& res) {
               const std::string id = req.matches[1];
               std::lock_guard<std::mutex> lock(episodes_mu);
               for (const auto& [eid, trace] : episodes)
                 if (eid == id) {
                   res.set_content(Json{{"id", eid}, {"trace", trace}}.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
                   return;
                 }
               throw HttpError(404, "invalid_request_error", "no episode '" + id + "' (the server keeps the last " +
                                                                 std::to_string(options.keep_episodes) + ")");
             }));
    http.set_payload_max_length(options.max_body_bytes);
    // Small replies must not wait for the client's delayed ACK (Nagle): 40 ms a request otherwise.
    http.set_tcp_nodelay(true);
    // Errors httplib raises itself (an unknown path, a body over the limit) in OpenAI's shape too.
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const std::string message = res.status == 404   ? "no route " + req.method + " " + req.path
                                  : res.status == 413 && req.get_header_value("Content-Type").find("form-urlencoded") != std::string::npos
                                      ? "a form-encoded body over 8 KB; send the JSON with Content-Type: application/json"
                                  : res.status == 413 ? "the request body is over the server's limit (--max-body-mb)"
                                                      : "request failed with HTTP " + std::to_string(res.status);
      res.set_content(error_body(message, "invalid_request_error", "").dump(), "application/json");
    });
    // Threads for the requests the limit lets in, plus some to answer 429s and /health meanwhile.
    const int threads = options.max_concurrency + 4;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  }
};

Server::Server(Model& model, const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions episode, ServeOptions options)
    : impl_(std::make_unique<Impl>(model, tools, std::move(prompts), std::move(episode), std::move(options))) {
  if (impl_->options.work_dir.empty()) throw Error("taco serve needs a folder for request images");
  make_dirs(impl_->options.work_dir);
  impl_->episodes_file = std::make_unique<JsonlAppender>(impl_->options.work_dir + "/episodes.jsonl");
  impl_->routes();
  // The viewer over the server's own episodes, at /. Its page cannot send a key: with one set
  // the episodes stay behind /v1/episodes.
  if (impl_->options.api_key.empty()) {
    impl_->viewer = std::make_unique<TraceViewer>(impl_->episodes_file->path(), "");
    impl_->viewer->mount(impl_->http);
  }
}

Server::~Server() { stop(); }

int Server::bind() {
  int port = impl_->options.port == 0 ? impl_->http.bind_to_any_port(impl_->options.host)
                                       : (impl_->http.bind_to_port(impl_->options.host, impl_->options.port) ? impl_->options.port : -1);
  if (port < 0)
    throw Error("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                " (in use, or not an address of this machine)");
  impl_->options.port = port;
  return port;
}

void Server::serve() { impl_->http.listen_after_bind(); }

void Server::stop() {
  if (impl_->http.is_running()) impl_->http.stop();
}

}  // namespace taco
