#include "serve/mcp_server.h"

#include <unistd.h>

#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "serve/http_server.h"
#include "tools/image.h"
#include "tools/image_store.h"
#include "tools/mcp_client.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/pyrepr.h"
#include "util/jsonl.h"
#include "util/strings.h"
#include "util/utf8.h"
#include "util/work_pool.h"

namespace taco {
namespace {

// Sessions over HTTP kept at once.
constexpr size_t kMaxMcpSessions = 10000;

Json rpc_error(const Json& id, int code, const std::string& message) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

Json text_result(const std::string& text, bool is_error) {
  Json r{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})}};
  if (is_error) r["isError"] = true;
  return r;
}

std::string random_hex(size_t bytes) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rng() & 0xFF);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

const char* kImageHelp = "an image: a data: URL (data:image/png;base64,...) or the path of a file under the server's allowed roots";

}  // namespace

McpServer::McpServer(const ToolRegistry& tools, Model* model, PromptTemplate prompts, EpisodeOptions episode, McpServeOptions options)
    : tools_(tools), model_(model), prompts_(std::move(prompts)), episode_(std::move(episode)), options_(std::move(options)) {
  options_.allowed_roots = canonical_roots(options_.allowed_roots);
  if (options_.work_dir.empty()) throw Error("taco mcp needs a folder for episode images");
  make_dirs(options_.work_dir);
}

std::string McpServer::negotiate_version(const Json& params) {
  const std::string asked = params.is_object() ? params.value("protocolVersion", "") : "";
  return is_mcp_protocol_version(asked) ? asked : mcp_protocol_versions().front();
}

Json McpServer::handle(const Json& message) {
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0")
    return rpc_error(message.is_object() && message.contains("id") ? message["id"] : Json(), -32600, "not a JSON-RPC 2.0 message");
  if (!message.contains("method")) return nullptr;  // a response to a request taco never sends
  if (!message.contains("id")) return nullptr;      // a notification: initialized, cancelled, ...
  const Json& id = message["id"];
  if (!message["method"].is_string()) return rpc_error(id, -32600, "'method' must be a string");
  const std::string method = message["method"];
  const Json params = message.value("params", Json::object());
  try {
    Json result;
    if (method == "initialize") {
      result = Json{{"protocolVersion", negotiate_version(params)},
                    {"capabilities", {{"tools", {{"listChanged", false}}}}},
                    {"serverInfo", {{"name", "taco"}, {"title", "taco: tools for multi-modal action models"}, {"version", TACO_VERSION}}},
                    {"instructions", "taco's tools (OCR, Crop, ZoomIn, Calculate, SolveMathEquation, QueryKnowledgeBase, ...)"
                                     " take images as data: URLs or paths under the allowed roots; RunEpisode answers a question"
                                     " about images with a whole chain of thought and action."}};
    } else if (method == "ping") {
      result = Json::object();
    } else if (method == "tools/list") {
      result = tools_list();
    } else if (method == "tools/call") {
      if (!params.is_object() || !params.contains("name") || !params["name"].is_string())
        return rpc_error(id, -32602, "tools/call needs the tool's 'name'");
      const std::string name = params["name"];
      if (name != kRunEpisodeTool || !model_) {
        const Tool* tool = tools_.find(name);
        if (!tool || name == "Terminate" || !tool->unavailable_reason().empty()) return rpc_error(id, -32602, "Unknown tool: " + name);
      }
      result = call_tool(params);
    } else {
      return rpc_error(id, -32601, "Method not found: " + method);
    }
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
  } catch (const std::exception& e) {
    return rpc_error(id, -32603, std::string("internal error: ") + e.what());
  }
}

Json McpServer::tools_list() const {
  Json list = Json::array();
  for (const Tool* t : tools_.tools()) {
    const ToolSpec& spec = t->spec();
    if (spec.name == "Terminate" || !t->unavailable_reason().empty()) continue;
    Json schema = tool_input_schema(spec);
    for (const auto& a : spec.args)
      if (a.type == ArgType::kImage || a.type == ArgType::kImageList)
        schema["properties"][a.name]["description"] = a.type == ArgType::kImage ? kImageHelp : std::string("a list of images, each ") + kImageHelp;
    list.push_back(Json{{"name", spec.name}, {"description", spec.description}, {"inputSchema", schema}});
  }
  if (model_)
    list.push_back(Json{
        {"name", kRunEpisodeTool},
        {"description", "Answers a question about images with a whole CoTA episode: the model (" + model_->name() +
                            ") thinks, calls taco's tools, reads what they return and answers. Returns the answer and the episode's trace."},
        {"inputSchema",
         {{"type", "object"},
          {"properties",
           {{"question", {{"type", "string"}, {"description", "the question"}}},
            {"images", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", std::string("the images, each ") + kImageHelp}}},
            {"prompt", {{"type", "string"}, {"enum", {"cota", "direct"}}, {"description", "cota (think and call tools) or direct (answer at once)"}}},
            {"max_replies", {{"type", "integer"}, {"minimum", 0}, {"description", "the most observations fed back"}}}}},
          {"required", {"question"}}}}});
  return Json{{"tools", list}};
}

std::string McpServer::image_argument(const std::string& value) const {
  if (value.rfind("data:", 0) == 0) {
    std::string bytes;
    try {
      bytes = data_url_image_bytes(value, episode_.max_pixels);
    } catch (const Error& e) {
      throw ToolError(ToolFailure::kValueError, e.what());
    }
    const std::string path = options_.work_dir + "/inputs/" + random_hex(8) + image_file_extension(bytes);
    write_file(path, bytes);
    return path;
  }
  if (std::string real = path_under_roots(value, options_.allowed_roots); !real.empty()) return real;
  throw ToolError(ToolFailure::kPermissionError, "'" + value + "' is not a data: URL or a file under the allowed roots (" +
                                         (options_.allowed_roots.empty() ? std::string("none") : options_.allowed_roots.front()) +
                                         (options_.allowed_roots.size() > 1 ? ", ..." : "") + ")");
}

Json McpServer::call_tool(const Json& params) {
  const std::string name = params["name"];
  Json args = params.value("arguments", Json::object());
  if (!args.is_object()) return text_result("the arguments must be an object", true);
  if (name == kRunEpisodeTool) return run_episode(args);
  const Tool* tool = tools_.find(name);
  std::vector<std::string> written;  // data: URL images written for this call, removed after it
  struct Remove {
    std::vector<std::string>& files;
    ~Remove() {
      for (const auto& f : files) std::filesystem::remove(f);
    }
  } remove{written};
  try {
    // Image arguments name files or carry data: URLs; the tool sees them as image-0, image-1, ...
    ImageStore store("", episode_.max_pixels);
    auto as_image = [&](const Json& v) -> Json {
      if (!v.is_string()) throw ToolError(ToolFailure::kTypeError, std::string("an image argument must be a string: ") + kImageHelp);
      const std::string s = v.get<std::string>();
      const std::string path = image_argument(s);
      if (s.rfind("data:", 0) == 0) written.push_back(path);
      try {
        return store.add_input(path);
      } catch (const Error& e) {
        throw ToolError(ToolFailure::kValueError, e.what());
      }
    };
    for (const auto& a : tool->spec().args) {
      if (!args.contains(a.name)) continue;
      if (a.type == ArgType::kImage) args[a.name] = as_image(args[a.name]);
      if (a.type == ArgType::kImageList && args[a.name].is_array())
        for (auto& v : args[a.name]) v = as_image(v);
    }
    auto ctx = store.context_for("mcp");
    Json observation = tools_.execute(Action{name, args}, ctx);
    Json content = Json::array({Json{{"type", "text"}, {"text", python_repr(observation)}}});
    for (const auto& image : ctx->new_images()) {
      const std::string png = image.encode(".png");
      content.push_back(Json{{"type", "image"}, {"data", base64_encode(png)}, {"mimeType", "image/png"}});
    }
    Json result{{"content", content}};
    if (observation.is_object()) result["structuredContent"] = observation;
    return result;
  } catch (const ToolError& e) {
    return text_result(e.observation(), true);
  }
}

Json McpServer::run_episode(const Json& args) {
  if (!args.contains("question") || !args["question"].is_string() || args["question"].get<std::string>().empty())
    return text_result("RunEpisode needs a 'question'", true);
  EpisodeOptions eo = episode_;
  eo.images_dir = options_.work_dir;
  if (args.contains("prompt")) {
    try {
      eo.mode = prompt_mode_from_string(args["prompt"].is_string() ? args["prompt"].get<std::string>() : "");
    } catch (const Error&) {
      return text_result("'prompt' is cota or direct", true);
    }
  }
  if (args.contains("max_replies")) {
    if (!args["max_replies"].is_number_integer() || args["max_replies"].get<int>() < 0)
      return text_result("'max_replies' must be a whole number of at least 0", true);
    eo.max_replies = args["max_replies"];
  }
  Task task;
  task.id = "mcp-" + random_hex(6);
  task.question = args["question"];
  try {
    for (const auto& v : args.value("images", Json::array())) {
      if (!v.is_string()) return text_result(std::string("each image must be a string: ") + kImageHelp, true);
      task.images.push_back(image_argument(v.get<std::string>()));
    }
  } catch (const ToolError& e) {
    return text_result(e.what(), true);
  }
  Runtime runtime(*model_, tools_, prompts_, eo);
  Trace trace = runtime.run(task);
  if (trace.status == TraceStatus::kError) return text_result("the episode could not run: " + trace.error, true);
  Json trace_json = trace.to_json();
  Json structured{{"answer", trace.answer}, {"status", to_string(trace.status)}, {"steps", trace.steps.size()}, {"trace", trace_json}};
  return Json{{"content", Json::array({Json{{"type", "text"}, {"text", trace.answer}}})}, {"structuredContent", structured}};
}

void run_mcp_stdio(McpServer& server, size_t max_concurrency) {
  std::mutex out_mu;
  auto write = [&](const Json& reply) {
    const std::string line = reply.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::lock_guard<std::mutex> lock(out_mu);
    std::cout << line << '\n' << std::flush;
  };
  // Requests are answered as they finish, so a long episode does not hold up a ping; a bounded
  // pool runs them, and a request that finds it full is answered busy at once (a flood of
  // messages costs neither a thread nor memory per message).
  WorkPool pool(max_concurrency, 4 * max_concurrency);
  LineReader in(STDIN_FILENO, "standard input", kMaxMcpMessageBytes);
  std::string line;
  for (LineReader::Result r; (r = in.next(line)) != LineReader::Result::kEnd;) {
    if (r == LineReader::Result::kTooLong) {
      write(rpc_error(nullptr, -32700, "Parse error: a message over " + byte_size_text(kMaxMcpMessageBytes)));
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json message = parse_json_or_discarded(with_valid_utf8(line));
    if (message.is_discarded()) {
      const std::string problem = json_limit_problem(line);
      write(rpc_error(nullptr, -32700, "Parse error: " + (problem.empty() ? std::string("a line that is not JSON") : problem)));
      continue;
    }
    const Json id = message.is_object() && message.contains("id") ? message["id"] : Json();
    const bool is_request = message.is_object() && message.contains("method") && message.contains("id");
    auto job = [&server, &write, message = std::move(message)] {
      Json reply = server.handle(message);
      if (!reply.is_null()) write(reply);
    };
    if (!pool.try_submit(std::move(job)) && is_request)
      write(rpc_error(id, -32000, "server busy: " + std::to_string(max_concurrency) +
                                      " requests are running and more are waiting; send this one again later"));
  }
  pool.wait_idle();
}

void mount_mcp_http(McpServer& server, HttpServer& http) {
  auto sessions = std::make_shared<std::set<std::string>>();
  auto order = std::make_shared<std::deque<std::string>>();  // oldest first
  auto mu = std::make_shared<std::mutex>();
  auto reply_json = [](HttpResponse& res, int status, const Json& body) {
    res.status = status;
    res.set(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
  };
  http.post("/mcp", [&server, sessions, order, mu, reply_json](const HttpRequest& req, HttpResponse& res) {
    // Wherever it listens: a web page must not drive taco's tools from a user's browser.
    if (req.from_foreign_origin()) return reply_json(res, 403, rpc_error(nullptr, -32600, "requests from another origin are refused"));
    const std::string version = req.header("MCP-Protocol-Version");
    if (!version.empty() && !is_mcp_protocol_version(version))
      return reply_json(res, 400, rpc_error(nullptr, -32600, "unsupported MCP-Protocol-Version " + excerpt(version, 40)));
    Json message = parse_json_or_discarded(with_valid_utf8(req.body));
    if (message.is_discarded()) {
      const std::string problem = json_limit_problem(req.body);
      return reply_json(res, 400, rpc_error(nullptr, -32700, "Parse error: " + (problem.empty() ? std::string("the body is not JSON") : problem)));
    }
    if (message.is_array()) return reply_json(res, 400, rpc_error(nullptr, -32600, "send one JSON-RPC message per request (no batches)"));
    const bool initialize = message.is_object() && message.value("method", "") == "initialize";
    std::string session = req.header("Mcp-Session-Id");
    if (initialize) {
      session = random_hex(16);
      std::lock_guard<std::mutex> lock(*mu);
      // Sessions are never ended by clients that just go away: the oldest beyond the bound are
      // forgotten (their client gets 404 and starts a new one, as MCP specifies).
      sessions->insert(session);
      order->push_back(session);
      while (order->size() > kMaxMcpSessions) {
        sessions->erase(order->front());
        order->pop_front();
      }
    } else {
      if (session.empty()) return reply_json(res, 400, rpc_error(nullptr, -32600, "Bad Request: no Mcp-Session-Id (initialize first)"));
      std::lock_guard<std::mutex> lock(*mu);
      if (!sessions->count(session)) return reply_json(res, 404, rpc_error(nullptr, -32001, "Session not found"));
    }
    res.set_header("Mcp-Session-Id", session);
    Json reply = server.handle(message);
    if (reply.is_null()) {
      res.status = 202;  // a notification or a response: accepted, nothing to say
      res.set("", "application/json");
      return;
    }
    reply_json(res, 200, reply);
  });
  http.get("/mcp", [](const HttpRequest&, HttpResponse& res) {
    // No messages of the server's own to stream: the answers come with each POST.
    res.status = 405;
    res.set_header("Allow", "POST, DELETE");
    res.set("", "text/plain");
  }, true);
  http.del("/mcp", [sessions, mu](const HttpRequest& req, HttpResponse& res) {
    std::lock_guard<std::mutex> lock(*mu);
    res.status = sessions->erase(req.header("Mcp-Session-Id")) ? 200 : 404;
    res.set("", "text/plain");
  });
  // Refusals of the layer itself as JSON-RPC errors.
  http.on_error([](int status, const std::string& reason, HttpResponse& res) {
    res.set(rpc_error(nullptr, status == 404 ? -32601 : -32600, reason).dump(), "application/json");
  });
}

}  // namespace taco
