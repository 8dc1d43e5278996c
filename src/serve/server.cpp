#include "serve/server.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "cota/trace.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/viewer.h"
#include "tools/image.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/utf8.h"

namespace taco {
namespace {

// A request that gets an error reply: its HTTP status and OpenAI's error type.
struct HttpError : Error {
  HttpError(int status, std::string type, const std::string& message, std::string code = "")
      : Error(message), status(status), type(std::move(type)), code(std::move(code)) {}
  int status;
  std::string type, code;
};
HttpError bad_request(const std::string& message) { return HttpError(400, "invalid_request_error", message); }

Json error_body(const std::string& message, const std::string& type, const std::string& code) {
  return Json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code.empty() ? Json() : Json(code)}}}};
}

// A data URL's image bytes, checked against the pixel limit from its header before anything
// decodes it.
std::string image_bytes(const std::string& url, int64_t max_pixels) {
  if (url.rfind("data:", 0) != 0)
    throw bad_request("image_url must be a data: URL (data:image/png;base64,...); taco fetches nothing from the network");
  try {
    return data_url_image_bytes(url, max_pixels);
  } catch (const Error& e) {
    throw bad_request(e.what());
  }
}

// OpenAI messages as taco's; images stay data URLs (the model decodes them). Tool messages
// and assistant tool_calls only for a model that takes tools (they pass through to it).
std::vector<Message> to_messages(const Json& messages, int64_t max_pixels, bool takes_tools) {
  if (!messages.is_array() || messages.empty()) throw bad_request("'messages' must be a non-empty array");
  std::vector<Message> out;
  for (const auto& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) throw bad_request("each message needs a 'role'");
    Message msg;
    msg.role = m["role"];
    if (msg.role == "developer") msg.role = "system";
    const bool tool_role = msg.role == "tool" && takes_tools;
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && !tool_role)
      throw bad_request("role '" + msg.role + "' is not taken by this model (system, user or assistant" +
                        (takes_tools ? ", tool)" : ")"));
    if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
      if (!takes_tools || msg.role != "assistant") throw bad_request("'tool_calls' only in an assistant message, for a model that takes tools");
      msg.tool_calls = m["tool_calls"];
    }
    if (tool_role) {
      if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string()) throw bad_request("a tool message needs its 'tool_call_id'");
      msg.tool_call_id = m["tool_call_id"];
    }
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
  HttpServer http;
  Metrics metrics;
  std::atomic<uint64_t> next_id{1};
  std::mutex episodes_mu;
  std::deque<std::pair<std::string, Json>> episodes;  // id -> trace, newest last
  std::unique_ptr<JsonlAppender> episodes_file;       // every episode, for the viewer at /
  std::unique_ptr<TraceViewer> viewer;
  std::unique_ptr<Environments> envs;

  // The backing model's names as clients ask for it.
  std::vector<std::string> names;

  static HttpLimits limits_of(const ServeOptions& o) {
    HttpLimits l;
    l.max_body_bytes = o.max_body_bytes;
    // Threads for the requests the limit lets in, plus some to answer 429s meanwhile.
    l.handler_threads = static_cast<size_t>(o.max_concurrency) + 4;
    l.access_log = o.access_log;
    l.log_name = "taco serve";
    return l;
  }

  Impl(Model& m, const ToolRegistry& t, PromptTemplate p, EpisodeOptions e, ServeOptions o)
      : model(m), tools(t), prompts(std::move(p)), episode(std::move(e)), options(std::move(o)), http(limits_of(options)),
        names(options.served_model_names.empty() ? std::vector<std::string>{model.name()} : options.served_model_names) {}

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
  RanEpisode run_episode(const std::vector<std::string>& image_urls, const std::string& question, const Json& settings,
                         const Cancellation& cancel, const Runtime::StepCallback& on_step = nullptr) {
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
    Trace trace = runtime.run(task, on_step, &cancel);
    Json j = keep_episode(id, trace);
    return {id, std::move(trace), std::move(j)};
  }

  // Keeps a finished episode (a run's or an environment's) for /v1/episodes and the viewer;
  // returns its trace as episodes.jsonl holds it.
  Json keep_episode(const std::string& id, const Trace& trace) {
    metrics.episode(trace);
    Json j = trace.to_json_in(episodes_file->path());
    episodes_file->append(j);
    {
      std::lock_guard<std::mutex> lock(episodes_mu);
      episodes.emplace_back(id, j);
      // An episode past the ones kept takes its images with it (its trace stays in episodes.jsonl).
      while (episodes.size() > options.keep_episodes) {
        std::error_code ignored;
        std::filesystem::remove_all(options.work_dir + "/" + episodes.front().first, ignored);
        episodes.pop_front();
      }
    }
    return j;
  }

  static Json now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  Json completion_body(const std::string& id, const std::string& model_name, const Completion& c, const Json& usage) {
    Json message{{"role", "assistant"}, {"content", c.text.empty() && !c.tool_calls.is_null() ? Json() : Json(c.text)}};
    if (!c.tool_calls.is_null()) message["tool_calls"] = c.tool_calls;
    Json choice{{"index", 0}, {"message", message}, {"finish_reason", c.finish_reason}};
    choice["logprobs"] = logprobs_json(c);
    return Json{{"id", id}, {"object", "chat.completion"}, {"created", now_seconds()}, {"model", model_name},
                {"choices", Json::array({choice})}, {"usage", usage}};
  }

  static Json logprobs_json(const Completion& c) {
    if (c.logprobs.empty()) return nullptr;
    Json content = Json::array();
    for (const auto& t : c.logprobs) content.push_back(Json{{"token", t.token}, {"logprob", t.logprob}});
    return Json{{"content", content}};
  }

  // What a chat completion asks for, checked before any work starts (so that a bad request is a
  // 4xx, also when the reply would be streamed).
  struct ChatRequest {
    std::string id, model_name;
    bool agent = false;
    std::vector<Message> messages;
    CompletionRequest completion;  // for the backing model (its messages point into `messages`)
    Json taco_settings;            // the agent's episode settings
    bool stream = false, include_usage = false;
  };

  // The name an answer carries: the one the request asked for, else the first.
  std::string served_name(const ChatRequest& r) const { return r.model_name.empty() ? names.front() : r.model_name; }

  ChatRequest read_chat_request(const Json& body) {
    ChatRequest r;
    r.id = new_id("chatcmpl-");
    r.model_name = body.value("model", "");
    r.agent = r.model_name == kAgentModelName;
    if (!r.agent && !r.model_name.empty() && std::find(names.begin(), names.end(), r.model_name) == names.end()) {
      std::string have;
      for (const auto& n : names) have += "'" + n + "', ";
      throw HttpError(404, "invalid_request_error",
                      "the model '" + r.model_name + "' does not exist; this server has " + have + "and '" + kAgentModelName + "'",
                      "model_not_found");
    }
    const bool passes_tools = !r.agent && model.takes_tools();
    auto given = [&](const char* key) { return body.contains(key) && !body[key].is_null(); };
    if ((given("tools") && !(body["tools"].is_array() && body["tools"].empty())) || given("tool_choice")) {
      if (r.agent)
        throw bad_request("taco-agent calls taco's own tools; 'tools' and 'tool_choice' pass through only to a served backing model");
      if (!passes_tools)
        throw bad_request("model '" + model.name() + "' cannot honour 'tools' (only a served backing model, which gets them as they are)");
      if (given("tools")) r.completion.tools = body["tools"];
      if (given("tool_choice")) r.completion.tool_choice = body["tool_choice"];
    }
    if (given("response_format")) {
      const Json& format = body["response_format"];
      if (!format.is_object() || !format.contains("type")) throw bad_request("'response_format' must be an object with a 'type'");
      const bool plain = format["type"] == "text";
      if (r.agent && !plain) throw bad_request("taco-agent answers in text; 'response_format' other than text is not taken");
      if (!r.agent && !model.takes_response_format(format))
        throw bad_request("model '" + model.name() + "' cannot keep to this response_format (an embedded model keeps to one schema: the CoTA step's)");
      if (!plain) r.completion.response_format = format;
    }
    if (given("n") && body["n"] != 1) throw bad_request("'n' must be 1: this server writes one choice");
    auto number = [&](const char* key, double low, double high) -> std::optional<double> {
      if (!given(key)) return std::nullopt;
      if (!body[key].is_number() || body[key].get<double>() < low || body[key].get<double>() > high)
        throw bad_request("'" + std::string(key) + "' must be a number from " + Json(low).dump() + " to " + Json(high).dump());
      return body[key].get<double>();
    };
    r.completion.temperature = number("temperature", 0, 2);
    r.completion.top_p = number("top_p", 1e-9, 1);
    if (auto seed = number("seed", -9.2e18, 9.2e18)) r.completion.seed = static_cast<int64_t>(*seed);
    for (const char* key : {"max_tokens", "max_completion_tokens"})
      if (auto n = number(key, 1, 1e9)) r.completion.max_tokens = static_cast<int>(*n);
    r.completion.logprobs = body.value("logprobs", false) == true;
    r.messages = to_messages(body.value("messages", Json()), episode.max_pixels, passes_tools);
    r.completion.task_id = r.id;
    r.taco_settings = body.value("taco", Json::object());
    r.stream = body.value("stream", false) == true;
    r.include_usage = body.value("stream_options", Json::object()).value("include_usage", false) == true;
    return r;
  }

  // The HTTP error a request ends with when its work was stopped or failed.
  HttpError work_failed(const std::string& what, const std::string& message, const Cancellation& cancel) {
    if (cancel.stopped())
      return HttpError(504, "server_error", what + " took over the server's time limit of " + Json(options.request_timeout_s).dump() + " s",
                       "timeout");
    return HttpError(502, "server_error", what + " failed: " + message);
  }

  // Runs the request: the backing model's reply, or the agent's whole episode. `on_text` gets
  // the reply's text as it is written and `on_step` each finished step of the agent; either
  // returning false stops the work (CancelledError).
  Json answer(ChatRequest& r, Cancellation& cancel, const std::function<bool(const std::string&)>& on_text,
              const std::function<bool(const StepRecord&)>& on_step) {
    if (!r.agent) {
      r.completion.messages = &r.messages;
      r.completion.cancel = &cancel;
      r.completion.on_text = on_text;
      Completion c;
      try {
        c = model.complete(r.completion);
      } catch (const CancelledError& e) {
        if (!cancel.stopped() || cancel.cancelled()) throw;  // the client went away: nobody to answer
        throw work_failed("the model's reply", e.what(), cancel);
      } catch (const ModelError& e) {
        throw work_failed("the model's reply", e.what(), cancel);
      }
      return completion_body(r.id, served_name(r), c, usage_of(c));
    }
    // The last user message is the question, its images the episode's inputs.
    const Message* user = nullptr;
    for (const auto& m : r.messages)
      if (m.role == "user") user = &m;
    if (!user) throw bad_request("taco-agent needs a user message with the question");
    std::vector<std::string> images;
    for (const auto& p : user->parts)
      if (p.image_url) images.push_back(*p.image_url);
    auto [episode_id, trace, trace_json] =
        run_episode(images, user->text(), r.taco_settings, cancel, [&](const Trace&, const StepRecord& step) {
          if (on_step && !on_step(step)) cancel.cancel();
        });
    if (trace.status == TraceStatus::kError) {
      if (cancel.cancelled()) throw CancelledError("the client went away");
      throw work_failed("the episode", trace.error, cancel);
    }
    Completion c;
    c.text = trace.answer;
    for (const auto& s : trace.steps) c.prompt_tokens += s.prompt_tokens, c.completion_tokens += s.completion_tokens;
    if (on_text && !c.text.empty()) on_text(c.text);
    Json reply = completion_body(r.id, kAgentModelName, c, usage_of(c));
    reply["taco"] = Json{{"episode_id", episode_id}, {"trace", std::move(trace_json)}};
    return reply;
  }

  void chat_completions(const HttpRequest& req, HttpResponse& res, std::shared_ptr<RequestRecord> record) {
    Json body = parse_body(req);
    auto r = std::make_shared<ChatRequest>(read_chat_request(body));
    if (r->stream) return stream(res, r, std::move(record));
    Cancellation cancel(options.request_timeout_s);
    res.set(answer(*r, cancel, nullptr, nullptr).dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
  }

  // A streamed reply: server-sent chunks written as the work goes (the embedded model's
  // tokens; each step of the agent as reasoning_content), then the finish reason, the usage
  // when asked, [DONE]. The work runs on the request's pool thread while the event loop sends
  // what it wrote; a write that fails (the client went away) stops it. An error after the
  // first event is an event of its own in OpenAI's error shape.
  void stream(HttpResponse& res, std::shared_ptr<ChatRequest> r, std::shared_ptr<RequestRecord> record) {
    res.content_type = "text/event-stream";
    res.stream = [this, r, record](HttpStream& sink) {
      const Json created = now_seconds();
      const std::string model_name = r->agent ? kAgentModelName : served_name(*r);
      auto send = [&](const Json& event) { return sink.write("data: " + event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n"); };
      auto chunk = [&](const Json& delta, const Json& finish) {
        return send(Json{{"id", r->id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model_name},
                         {"choices", Json::array({Json{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}});
      };
      Cancellation cancel(options.request_timeout_s);
      bool connected = chunk(Json{{"role", "assistant"}, {"content", ""}}, nullptr);
      try {
        if (!connected) throw CancelledError("the client went away");
        Json reply = answer(
            *r, cancel, [&](const std::string& piece) { return connected = chunk(Json{{"content", piece}}, nullptr); },
            [&](const StepRecord& step) { return connected = chunk(Json{{"reasoning_content", step_summary(step)}}, nullptr); });
        const Json& message = reply["choices"][0]["message"];
        if (message.contains("tool_calls")) {
          Json calls = message["tool_calls"];
          for (size_t i = 0; i < calls.size(); ++i) calls[i]["index"] = i;
          chunk(Json{{"tool_calls", calls}}, nullptr);
        }
        chunk(Json::object(), reply["choices"][0]["finish_reason"]);
        if (r->include_usage) {
          Json u{{"id", r->id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model_name},
                 {"choices", Json::array()}, {"usage", reply["usage"]}};
          if (reply.contains("taco")) u["taco"] = reply["taco"];
          send(u);
        }
      } catch (const HttpError& e) {
        record->status = e.status;
        send(error_body(e.what(), e.type, e.code));
      } catch (const CancelledError&) {
        record->status = 499;  // nginx's "client closed request": nobody reads this answer
        return;
      } catch (const std::exception& e) {
        record->status = 500;
        send(error_body(std::string("internal error: ") + e.what(), "server_error", ""));
      }
      sink.write("data: [DONE]\n\n");
    };
  }

  // One finished step of the agent as streamed reasoning text.
  static std::string step_summary(const StepRecord& step) {
    std::string out;
    if (step.content) {
      out += step.content->thought;
      for (const auto& a : step.content->actions)
        out += "\n→ " + a.name + " " + a.arguments.dump(-1, ' ', false, Json::error_handler_t::replace);
    } else {
      out += step.raw;
    }
    if (!step.error.empty()) out += "\n✗ " + step.error;
    if (!step.observation.is_null()) {
      std::string seen = step.observation.dump(-1, ' ', false, Json::error_handler_t::replace);
      if (seen.size() > 400) seen = std::string(utf8_prefix(seen, 400)) + "…";
      out += "\n← " + seen;
    }
    return out + "\n\n";
  }

  void post_episode(const HttpRequest& req, HttpResponse& res) {
    Json body = parse_body(req);
    std::vector<std::string> images;
    for (const auto& im : body.value("images", Json::array())) {
      if (!im.is_string()) throw bad_request("'images' must be a list of data: URLs or base64 strings");
      images.push_back(im);
    }
    Cancellation cancel(options.request_timeout_s);
    RanEpisode ran = run_episode(images, body.value("question", ""), body, cancel);
    if (ran.trace.status == TraceStatus::kError && cancel.stopped()) throw work_failed("the episode", ran.trace.error, cancel);
    res.set(Json{{"id", ran.id}, {"trace", std::move(ran.json)}}.dump(-1, ' ', false, Json::error_handler_t::replace),
            "application/json");
  }

  Json parse_body(const HttpRequest& req) {
    Json body;
    try {
      body = parse_json(with_valid_utf8(req.body));
    } catch (const Error& e) {
      throw bad_request(std::string("the body is not JSON: ") + e.what());
    }
    if (!body.is_object()) throw bad_request("the body must be a JSON object");
    return body;
  }

  using Handler = std::function<void(const HttpRequest&, HttpResponse&, std::shared_ptr<RequestRecord>)>;

  // Wraps a handler: auth, the concurrency limit, errors in OpenAI's shape, metrics. A handler
  // that answers later (a stream) keeps the request's record until it is done.
  HttpHandler guarded(const std::string& route, bool needs_key, bool limited, Handler handler) {
    return [this, route, needs_key, limited, handler](const HttpRequest& req, HttpResponse& res) {
      auto record = std::make_shared<RequestRecord>(metrics, route, limited);
      try {
        if (needs_key && !req.has_key(options.api_key))
          throw HttpError(401, "invalid_request_error", "missing or wrong API key (send Authorization: Bearer KEY)", "invalid_api_key");
        if (limited && metrics.in_flight.load() > options.max_concurrency) {
          res.set_header("Retry-After", "1");
          throw HttpError(429, "rate_limit_error",
                          "the server is answering " + std::to_string(options.max_concurrency) + " requests already; retry shortly");
        }
        handler(req, res, record);
      } catch (const HttpError& e) {
        res.status = e.status;
        res.set(error_body(e.what(), e.type, e.code).dump(), "application/json");
      } catch (const EnvError& e) {
        res.status = e.status;
        if (e.status == 429) res.set_header("Retry-After", "1");
        const char* type = e.status == 429 ? "rate_limit_error" : e.status >= 500 ? "server_error" : "invalid_request_error";
        res.set(error_body(e.what(), type, "").dump(), "application/json");
      } catch (const std::exception& e) {
        res.status = 500;
        res.set(error_body(std::string("internal error: ") + e.what(), "server_error", "").dump(), "application/json");
      }
      record->status = res.status;
    };
  }
  HttpHandler guarded(const std::string& route, bool needs_key, bool limited, std::function<void(const HttpRequest&, HttpResponse&)> handler) {
    return guarded(route, needs_key, limited,
                   Handler([handler](const HttpRequest& req, HttpResponse& res, std::shared_ptr<RequestRecord>) { handler(req, res); }));
  }

  void routes() {
    // /health and /metrics answer on the event loop: they never wait for a busy pool.
    http.get("/health", guarded("GET /health", false, false, [](const HttpRequest&, HttpResponse& res) {
      res.set(R"({"status": "ok"})", "application/json");
    }), true);
    http.get("/metrics", guarded("GET /metrics", false, false, [this](const HttpRequest&, HttpResponse& res) {
      res.set(metrics.render(), "text/plain; version=0.0.4");
    }), true);
    http.get("/v1/models", guarded("GET /v1/models", true, false, [this](const HttpRequest&, HttpResponse& res) {
      Json data = Json::array();
      for (const std::string& name : names) data.push_back(Json{{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "taco"}});
      data.push_back(Json{{"id", kAgentModelName}, {"object", "model"}, {"created", 0}, {"owned_by", "taco"}});
      res.set(Json{{"object", "list"}, {"data", data}}.dump(), "application/json");
    }), true);
    http.post("/v1/chat/completions",
              guarded("POST /v1/chat/completions", true, true,
                      Handler([this](const HttpRequest& req, HttpResponse& res, std::shared_ptr<RequestRecord> record) {
                        chat_completions(req, res, std::move(record));
                      })));
    http.post("/v1/episodes",
              guarded("POST /v1/episodes", true, true, [this](const HttpRequest& req, HttpResponse& res) { post_episode(req, res); }));
    http.get("/v1/episodes", guarded("GET /v1/episodes", true, false, [this](const HttpRequest&, HttpResponse& res) {
      Json data = Json::array();
      std::lock_guard<std::mutex> lock(episodes_mu);
      for (auto it = episodes.rbegin(); it != episodes.rend(); ++it) {
        const Json& t = it->second;
        data.push_back(Json{{"id", it->first}, {"question", t["task"].value("question", "")}, {"answer", t.value("answer", "")},
                            {"status", t.value("status", "")}, {"steps", t["steps"].size()}});
      }
      res.set(Json{{"object", "list"}, {"data", data}}.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
    }));
    http.get(R"(/v1/episodes/([A-Za-z0-9_.-]+))",
             guarded("GET /v1/episodes/{id}", true, false, [this](const HttpRequest& req, HttpResponse& res) {
               const std::string id = req.matches[1];
               std::lock_guard<std::mutex> lock(episodes_mu);
               for (const auto& [eid, trace] : episodes)
                 if (eid == id) {
                   res.set(Json{{"id", eid}, {"trace", trace}}.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
                   return;
                 }
               throw HttpError(404, "invalid_request_error", "no episode '" + id + "' (the server keeps the last " +
                                                                 std::to_string(options.keep_episodes) + ")");
             }));
    // RL environments (serve/envs.h): a client's policy, taco's tasks, tools and reward.
    http.post("/v1/envs", guarded("POST /v1/envs", true, true, [this](const HttpRequest& req, HttpResponse& res) {
      res.set(envs->reset(parse_body(req)), "application/json");
    }));
    http.get("/v1/envs", guarded("GET /v1/envs", true, false, [this](const HttpRequest&, HttpResponse& res) {
      res.set(envs->list().dump(), "application/json");
    }));
    http.post(R"(/v1/envs/([A-Za-z0-9_.-]+)/step)",
              guarded("POST /v1/envs/{id}/step", true, true, [this](const HttpRequest& req, HttpResponse& res) {
                res.set(envs->step(req.matches[1], parse_body(req)), "application/json");
              }));
    http.del(R"(/v1/envs/([A-Za-z0-9_.-]+))", guarded("DELETE /v1/envs/{id}", true, false, [this](const HttpRequest& req, HttpResponse& res) {
      res.set(envs->close(req.matches[1]).dump(), "application/json");
    }));
    // What the HTTP layer refuses itself (an unknown path, a body over the limit, a foreign
    // origin, a full pool) in OpenAI's shape too.
    http.on_error([limit_name = options.max_body_name](int status, const std::string& reason, HttpResponse& res) {
      const std::string message = status == 413 ? reason + " (" + limit_name + ")" : reason;
      res.set(error_body(message, status >= 500 ? "server_error" : "invalid_request_error", "").dump(), "application/json");
    });
  }
};

Server::Server(Model& model, const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions episode, ServeOptions options)
    : impl_(std::make_unique<Impl>(model, tools, std::move(prompts), std::move(episode), std::move(options))) {
  if (impl_->options.work_dir.empty()) throw Error("taco serve needs a folder for request images");
  make_dirs(impl_->options.work_dir);
  impl_->episodes_file = std::make_unique<JsonlAppender>(impl_->options.work_dir + "/episodes.jsonl");
  Impl* impl = impl_.get();
  impl_->envs = std::make_unique<Environments>(
      impl_->tools, impl_->prompts, impl_->episode, impl_->options.envs, impl_->options.work_dir,
      [impl](const std::string& id, const Trace& trace, const RewardParts&) { impl->keep_episode(id, trace); });
  impl_->routes();
  // The viewer over the server's own episodes, at /; with a key its page asks for it and its
  // API wants it as the rest do.
  impl_->viewer = std::make_unique<TraceViewer>(impl_->episodes_file->path(), "");
  for (const auto& dir : impl_->options.allowed_roots) impl_->viewer->allow_root(dir);
  for (const auto& dir : impl_->envs->image_folders()) impl_->viewer->allow_root(dir);
  impl_->viewer->mount(impl_->http, impl_->options.api_key);
}

Server::~Server() { stop(); }

int Server::bind() {
  const int port = impl_->http.bind(impl_->options.host, impl_->options.port);
  impl_->options.port = port;
  return port;
}

void Server::serve() { impl_->http.serve(); }

void Server::stop() { impl_->http.stop(); }

}  // namespace taco
