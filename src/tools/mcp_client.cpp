#include "tools/mcp_client.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "util/base64.h"
#include "util/child_process.h"
#include "util/error.h"
#include "util/files.h"
#include "util/http_client.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace taco {
namespace {


// An exchange with a server that failed: it did not start, died, overran, or said it failed.
class McpFailure : public Error {
 public:
  McpFailure(const std::string& message, bool timed_out = false) : Error(message), timed_out_(timed_out) {}
  bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};


// The last non-empty line of a log file ("" when there is none).
std::string last_log_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return excerpt(last, 300);
}

// One MCP server: its process or HTTP session, the handshake, and JSON-RPC requests one at a
// time (episodes calling the same server wait for each other).
class McpSession {
 public:
  explicit McpSession(McpServerConfig config) : c_(std::move(config)) {
    if (!c_.command.empty())
      log_path_ = (std::filesystem::temp_directory_path() / ("taco-mcp-" + safe_file_name(c_.name) + "-" + std::to_string(::getpid()) + ".log")).string();
  }
  ~McpSession() { disconnect(); }
  const McpServerConfig& config() const { return c_; }

  // The result of one request; connects first when the server is not running (again).
  Json request(const std::string& method, const Json& params, double timeout_s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_) connect();
    try {
      return exchange(method, params, timeout_s);
    } catch (const McpFailure& e) {
      // A stdio server that no longer answers is started again at the next call; the call that
      // found it so reports why.
      if (child_ && (e.timed_out() || !child_running_)) {
        const std::string how = child_running_ ? "" : " (" + child_->wait_description() + ")";
        disconnect();
        throw McpFailure(std::string(e.what()) + how + "; it is started again at the next call", e.timed_out());
      }
      throw;
    }
  }

  std::string describe() const { return c_.command.empty() ? c_.url : c_.command; }

 private:
  void connect() {
    disconnect();
    if (!c_.command.empty()) {
      ChildProcess::Options o;
      std::string program = c_.command;
      if (program.find('/') != std::string::npos) program = resolve_path(c_.base_dir, program);
      o.argv = {program};
      o.argv.insert(o.argv.end(), c_.args.begin(), c_.args.end());
      o.env = c_.env;
      o.stderr_path = log_path_;
      o.max_line_bytes = kMaxMcpMessageBytes;
      try {
        child_ = ChildProcess::start(o);
      } catch (const Error& e) {
        throw McpFailure("MCP server '" + c_.name + "': " + e.what());
      }
      child_running_ = true;
    }
    Json init;
    try {
      // The newest revision taco speaks; a server may answer with an older one it knows.
      init = exchange("initialize",
                      Json{{"protocolVersion", mcp_protocol_versions().front()},
                           {"capabilities", Json::object()},
                           {"clientInfo", {{"name", "taco"}, {"version", TACO_VERSION}}}},
                      c_.time_limit_s);
    } catch (const McpFailure& e) {
      std::string why = e.what();
      if (child_) {
        if (!child_running_) why += " (" + child_->wait_description() + ")";
        const std::string log = last_log_line(log_path_);
        if (!log.empty()) why += "; its log (" + log_path_ + ") ends: " + log;
        child_.reset();
      }
      throw McpFailure(why, e.timed_out());
    }
    version_ = init.value("protocolVersion", "");
    if (!is_mcp_protocol_version(version_)) {
      disconnect();
      throw McpFailure("MCP server '" + c_.name + "' speaks protocol version '" + version_ + "', which taco does not know");
    }
    notify("notifications/initialized");
    ready_ = true;
  }

  void disconnect() {
    ready_ = false;
    if (child_) {
      child_->kill();
      child_.reset();
    }
    if (!session_.empty()) {
      try {
        http_.del(c_.url, http_headers(), 5);
      } catch (const Error&) {
      }
      session_.clear();
    }
  }

  std::vector<std::string> http_headers() const {
    std::vector<std::string> h = c_.headers;
    h.push_back("Accept: application/json, text/event-stream");
    if (!version_.empty()) h.push_back("MCP-Protocol-Version: " + version_);
    if (!session_.empty()) h.push_back("Mcp-Session-Id: " + session_);
    return h;
  }

  void notify(const std::string& method) {
    const Json message{{"jsonrpc", "2.0"}, {"method", method}};
    if (child_) {
      child_->write_line(message.dump());
    } else {
      try {
        http_.post(c_.url, message.dump(), http_headers(), c_.time_limit_s);
      } catch (const Error&) {
        // A notification has no answer to wait for; a server that is gone shows at the next request.
      }
    }
  }

  Json exchange(const std::string& method, const Json& params, double timeout_s) {
    const int64_t id = next_id_++;
    Json message{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    const Json reply = child_ ? over_stdio(message, id, timeout_s) : over_http(message, id, timeout_s);
    if (reply.contains("error")) {
      const Json& e = reply["error"];
      const std::string text = e.is_object() && e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : e.dump();
      throw McpFailure("MCP server '" + c_.name + "' refused " + method + ": " + excerpt(text, 300));
    }
    if (!reply.contains("result")) throw McpFailure("MCP server '" + c_.name + "' answered " + method + " without a result");
    return reply["result"];
  }

  // Requests the server sends meanwhile get an answer (ping) or a refusal; its notifications
  // (logging, progress) are read past.
  void answer_server_request(const Json& m) {
    Json reply{{"jsonrpc", "2.0"}, {"id", m["id"]}};
    if (m.value("method", "") == "ping") reply["result"] = Json::object();
    else reply["error"] = Json{{"code", -32601}, {"message", "taco does not offer " + m.value("method", std::string("that"))}};
    child_->write_line(reply.dump());
  }

  Json over_stdio(const Json& message, int64_t id, double timeout_s) {
    Json reply;
    auto is_reply = [&](const std::string& line) {
      // A message taco cannot hold (nested too deep) is the server's failure, said now, rather
      // than a line read past while the call waits for its time limit.
      if (std::string problem = json_limit_problem(line); !problem.empty())
        throw McpFailure("MCP server '" + c_.name + "' sent a message that cannot be read: " + problem);
      Json m = parse_json_or_discarded(with_valid_utf8(line));
      if (!m.is_object()) return false;  // not a JSON-RPC message: a server printing to stdout by mistake
      if (m.contains("method")) {
        if (m.contains("id")) answer_server_request(m);
        return false;
      }
      if (!m.contains("id") || m["id"] != id) return false;  // an answer to a request given up on earlier
      reply = std::move(m);
      return true;
    };
    const Json cancel{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", id}, {"reason", "taco's time limit"}}}};
    const ChildAnswer answer = ask_child(*child_, message.dump(), timeout_s, is_reply, cancel.dump());
    switch (answer.outcome) {
      case ChildAnswer::Outcome::kAnswered: return reply;
      case ChildAnswer::Outcome::kStopped:
        child_running_ = false;
        throw McpFailure("MCP server '" + c_.name + "' stopped");
      case ChildAnswer::Outcome::kTooLong:
        child_running_ = false;
        throw McpFailure("MCP server '" + c_.name + "' sent a message over " + byte_size_text(kMaxMcpMessageBytes) +
                         "; it is started again at the next call");
      case ChildAnswer::Outcome::kTimeout: break;
    }
    throw McpFailure("MCP server '" + c_.name + "' did not answer " + message.value("method", "") + " within " +
                         Json(timeout_s).dump() + " s",
                     true);
  }

  Json over_http(const Json& message, int64_t id, double timeout_s) {
    HttpResponse r;
    try {
      r = http_.post(c_.url, message.dump(), http_headers(), timeout_s > 0 ? timeout_s : 600);
    } catch (const Error& e) {
      throw McpFailure("MCP server '" + c_.name + "': " + e.what(), std::string(e.what()).find("imeout") != std::string::npos);
    }
    if (r.status == 404 && !session_.empty()) {
      // The server forgot the session (it restarted): a new handshake at the next call.
      session_.clear();
      ready_ = false;
      throw McpFailure("MCP server '" + c_.name + "' ended the session; it is started again at the next call");
    }
    if (r.status != 200) throw McpFailure("MCP server '" + c_.name + "' answered HTTP " + std::to_string(r.status) + ": " + http_error_message(r.body));
    if (auto s = r.headers.find("mcp-session-id"); s != r.headers.end()) session_ = s->second;
    const std::string type = r.headers.count("content-type") ? r.headers["content-type"] : "";
    if (type.rfind("text/event-stream", 0) == 0) {
      // Server-sent events: the data lines of each event make one JSON-RPC message.
      std::string data;
      auto take = [&]() -> std::optional<Json> {
        if (std::string problem = json_limit_problem(data); !problem.empty())
          throw McpFailure("MCP server '" + c_.name + "' sent a message that cannot be read: " + problem);
        Json m = parse_json_or_discarded(with_valid_utf8(data));
        data.clear();
        if (m.is_object() && !m.contains("method") && m.contains("id") && m["id"] == id) return m;
        return std::nullopt;
      };
      size_t at = 0;
      while (at <= r.body.size()) {
        size_t end = r.body.find('\n', at);
        if (end == std::string::npos) end = r.body.size();
        std::string line = r.body.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("data:", 0) == 0) data += (data.empty() ? "" : "\n") + line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
        else if (line.empty() && !data.empty())
          if (auto m = take()) return *m;
        at = end + 1;
      }
      if (!data.empty())
        if (auto m = take()) return *m;
      throw McpFailure("MCP server '" + c_.name + "' closed its event stream without answering " + message.value("method", ""));
    }
    if (std::string problem = json_limit_problem(r.body); !problem.empty())
      throw McpFailure("MCP server '" + c_.name + "' sent a message that cannot be read: " + problem);
    Json m = parse_json_or_discarded(with_valid_utf8(r.body));
    if (!m.is_object()) throw McpFailure("MCP server '" + c_.name + "' answered with something that is not JSON-RPC: " + excerpt(r.body, 200));
    return m;
  }

  McpServerConfig c_;
  std::mutex mu_;
  bool ready_ = false;
  std::unique_ptr<ChildProcess> child_;
  bool child_running_ = false;
  std::string log_path_;
  HttpClient http_;
  std::string session_;
  std::string version_;
  int64_t next_id_ = 1;
};

ArgType arg_type_of(const Json& schema) {
  const std::string type = schema.is_object() && schema.contains("type") && schema["type"].is_string() ? schema["type"].get<std::string>() : "";
  if (type == "string") return ArgType::kString;
  if (type == "number") return ArgType::kNumber;
  if (type == "integer") return ArgType::kInteger;
  if (type == "boolean") return ArgType::kBool;
  return ArgType::kAny;  // objects, arrays, unions: the schema check decides
}

// One tool of one server, as an action.
// Replaces each string of `j` that is the base64 data of an image the call returned (bare, or
// as a data: URL) by that image's name. The JSON was read with nesting limits.
void name_images(Json& j, const std::map<std::string, std::string>& names) {
  if (names.empty()) return;
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    const size_t comma = s.rfind(";base64,");
    auto it = names.find(s.rfind("data:", 0) == 0 && comma != std::string::npos ? s.substr(comma + 8) : s);
    if (it != names.end()) j = it->second;
    return;
  }
  if (j.is_array() || j.is_object())
    for (auto& v : j) name_images(v, names);
}

class McpTool : public Tool {
 public:
  McpTool(std::shared_ptr<McpSession> session, const Json& tool) : session_(std::move(session)) {
    spec_.name = tool.value("name", "");
    spec_.description = tool.value("description", "");
    if (spec_.description.empty()) spec_.description = "(no description)";
    schema_ = tool.value("inputSchema", Json::object());
    if (!schema_.is_object()) schema_ = Json::object();
    std::set<std::string> required;
    const Json required_names = schema_.value("required", Json::array());
    for (const auto& r : required_names)
      if (r.is_string()) required.insert(r.get<std::string>());
    const Json properties = schema_.value("properties", Json::object());
    for (const auto& [name, property] : properties.items()) {
      std::string description = property.is_object() ? property.value("description", "") : "";
      const std::string type = property.is_object() && property.contains("type") ? property["type"].dump() : "";
      if (!type.empty()) description += (description.empty() ? "" : " ") + std::string("(") + (property["type"].is_string() ? property["type"].get<std::string>() : type) + ")";
      spec_.args.push_back(ArgSpec{name, arg_type_of(property), description, required.count(name) > 0});
    }
    spec_.returns = {{"text", "what the tool said"}};
  }

  const ToolSpec& spec() const override { return spec_; }
  std::string backend() const override { return "mcp:" + session_->config().name; }
  bool limits_own_time() const override { return true; }

  Json call(const Json& args, ToolContext& ctx) const override {
    if (const std::string problem = json_schema_problem(schema_, args); !problem.empty()) throw ToolError(ToolFailure::kTypeError, problem);
    Json result;
    try {
      result = session_->request("tools/call", Json{{"name", spec_.name}, {"arguments", args}}, session_->config().time_limit_s);
    } catch (const McpFailure& e) {
      throw ToolError(e.timed_out() ? ToolFailure::kTimeoutError : ToolFailure::kRuntimeError, e.what());
    }
    std::string text;
    Json observation = Json::object();
    size_t images = 0;
    std::map<std::string, std::string> image_names;  // an image's base64 data -> the image-k it became
    const Json content = result.value("content", Json::array());
    for (const auto& item : content) {
      if (!item.is_object()) continue;
      const std::string type = item.value("type", "");
      if (type == "text") {
        text += (text.empty() ? "" : "\n") + item.value("text", "");
      } else if (type == "image") {
        auto bytes = base64_decode(item.value("data", ""));
        if (!bytes) throw ToolError(ToolFailure::kRuntimeError, spec_.name + " returned an image that is not base64");
        Image image;
        try {
          image = Image::decode(*bytes, ctx.max_pixels(), spec_.name + "'s image");
        } catch (const Error& e) {
          throw ToolError(ToolFailure::kValueError, e.what());
        }
        ++images;
        const std::string name = ctx.add_image(std::move(image));
        observation[images == 1 ? "image" : "image_" + std::to_string(images)] = name;
        image_names[item.value("data", "")] = name;
      } else if (type == "resource" && item.contains("resource") && item["resource"].is_object()) {
        const Json& r = item["resource"];
        text += (text.empty() ? "" : "\n") + (r.contains("text") ? r.value("text", "") : "[resource " + r.value("uri", "") + "]");
      } else if (type == "resource_link") {
        text += (text.empty() ? "" : "\n") + std::string("[resource ") + item.value("uri", "") + "]";
      }
    }
    if (result.value("isError", false)) throw ToolError(ToolFailure::kRuntimeError, text.empty() ? spec_.name + " failed" : excerpt(text, 2000));
    // Structured results stand for themselves (their text is the same JSON, serialized). An
    // image they carry as base64 (server-filesystem's read_media_file) is the image-k it
    // became, not tens of KB of text in the prompt.
    if (result.contains("structuredContent") && result["structuredContent"].is_object()) {
      Json structured = result["structuredContent"];
      name_images(structured, image_names);
      observation["result"] = std::move(structured);
    }
    else if (!text.empty() || observation.empty()) observation["text"] = text;
    return observation;
  }

 private:
  std::shared_ptr<McpSession> session_;
  ToolSpec spec_;
  Json schema_;
};

std::vector<std::string> string_list(const Json& entry, const char* key, const std::string& where) {
  std::vector<std::string> out;
  if (!entry.contains(key)) return out;
  if (!entry[key].is_array()) throw Error(where + "." + key + " must be a list of strings");
  for (const auto& v : entry[key]) {
    if (!v.is_string()) throw Error(where + "." + key + " must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool has_type(const Json& v, const std::string& type) {
  const std::string t = type_name(v);
  return t == type || (type == "number" && t == "integer");
}

}  // namespace

const std::vector<std::string>& mcp_protocol_versions() {
  static const std::vector<std::string> v = {"2025-06-18", "2025-03-26", "2024-11-05"};
  return v;
}

bool is_mcp_protocol_version(const std::string& version) {
  const auto& v = mcp_protocol_versions();
  return std::find(v.begin(), v.end(), version) != v.end();
}

std::string json_schema_problem(const Json& schema, const Json& value, const std::string& where) {
  if (!schema.is_object()) return "";
  if (schema.contains("type")) {
    const Json& type = schema["type"];
    bool ok = false;
    if (type.is_string()) ok = has_type(value, type.get<std::string>());
    else if (type.is_array())
      for (const auto& t : type) ok = ok || (t.is_string() && has_type(value, t.get<std::string>()));
    else ok = true;
    if (!ok) return where + " must be " + (type.is_string() ? type.get<std::string>() : type.dump()) + ", not " + type_name(value);
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == value;
    if (!found) return where + " must be one of " + schema["enum"].dump();
  }
  if (schema.contains("const") && schema["const"] != value) return where + " must be " + schema["const"].dump();
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key) || !schema[key].is_array() || schema[key].empty()) continue;
    size_t matching = 0;
    for (const auto& option : schema[key]) matching += json_schema_problem(option, value, where).empty();
    if (matching == 0 || (std::string(key) == "oneOf" && matching > 1))
      return where + " matches " + (matching ? "more than one" : "none") + " of the schemas its " + key + " allows";
  }
  if (value.is_number()) {
    const double x = value.get<double>();
    if (schema.contains("minimum") && schema["minimum"].is_number() && x < schema["minimum"].get<double>())
      return where + " must be at least " + schema["minimum"].dump();
    if (schema.contains("maximum") && schema["maximum"].is_number() && x > schema["maximum"].get<double>())
      return where + " must be at most " + schema["maximum"].dump();
  }
  if (value.is_string()) {
    const size_t n = utf8_length(value.get_ref<const std::string&>());
    if (schema.contains("minLength") && schema["minLength"].is_number() && n < schema["minLength"].get<size_t>())
      return where + " must have at least " + schema["minLength"].dump() + " characters";
    if (schema.contains("maxLength") && schema["maxLength"].is_number() && n > schema["maxLength"].get<size_t>())
      return where + " must have at most " + schema["maxLength"].dump() + " characters";
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && schema["minItems"].is_number() && value.size() < schema["minItems"].get<size_t>())
      return where + " must have at least " + schema["minItems"].dump() + " items";
    if (schema.contains("maxItems") && schema["maxItems"].is_number() && value.size() > schema["maxItems"].get<size_t>())
      return where + " must have at most " + schema["maxItems"].dump() + " items";
    if (schema.contains("items") && schema["items"].is_object())
      for (size_t i = 0; i < value.size(); ++i)
        if (auto p = json_schema_problem(schema["items"], value[i], where + "[" + std::to_string(i) + "]"); !p.empty()) return p;
  }
  if (value.is_object()) {
    const Json properties = schema.value("properties", Json::object());
    const Json required = schema.value("required", Json::array());
    for (const auto& r : required)
      if (r.is_string() && !value.contains(r.get<std::string>())) return where + " needs '" + r.get<std::string>() + "'";
    for (const auto& [key, v] : value.items()) {
      if (properties.is_object() && properties.contains(key)) {
        if (auto p = json_schema_problem(properties[key], v, where + "." + key); !p.empty()) return p;
      } else if (schema.contains("additionalProperties")) {
        const Json& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>()) return where + " has '" + key + "', which is not one of its properties";
        if (extra.is_object())
          if (auto p = json_schema_problem(extra, v, where + "." + key); !p.empty()) return p;
      }
    }
  }
  return "";
}

std::vector<McpServerConfig> mcp_servers_from_config(const Json& block, const std::string& base_dir, double default_time_limit_s) {
  if (!block.is_object()) throw Error("\"mcpServers\" must be an object of {name: server}");
  std::vector<McpServerConfig> out;
  static const std::set<std::string> known = {"command", "args", "env", "url", "headers", "allow", "deny", "time_limit_s",
                                              "type", "cwd", "disabled"};
  for (const auto& [name, entry] : block.items()) {
    const std::string where = "mcpServers." + name;
    if (!entry.is_object()) throw Error(where + " must be an object");
    for (const auto& [key, value] : entry.items())
      if (!known.count(key)) throw Error(where + ": unknown key '" + key + "' (command, args, env, url, headers, allow, deny, time_limit_s)");
    if (entry.value("disabled", false)) continue;  // as desktop clients read it
    McpServerConfig c;
    c.name = name;
    c.base_dir = base_dir;
    c.time_limit_s = default_time_limit_s;
    if (entry.contains("command")) {
      if (!entry["command"].is_string() || entry["command"].get<std::string>().empty()) throw Error(where + ".command must be a program name or path");
      c.command = entry["command"];
      c.args = string_list(entry, "args", where);
      if (entry.contains("env")) {
        if (!entry["env"].is_object()) throw Error(where + ".env must be an object of {NAME: value}");
        for (const auto& [k, v] : entry["env"].items()) {
          if (!v.is_string()) throw Error(where + ".env." + k + " must be a string");
          c.env.emplace_back(k, v.get<std::string>());
        }
      }
    }
    if (entry.contains("url")) {
      if (!c.command.empty()) throw Error(where + " has both a command and a url: one server is one or the other");
      if (!entry["url"].is_string()) throw Error(where + ".url must be a string");
      c.url = entry["url"];
      if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) throw Error(where + ".url must start with http:// or https://");
      if (entry.contains("headers")) {
        if (!entry["headers"].is_object()) throw Error(where + ".headers must be an object of {Name: value}");
        for (const auto& [k, v] : entry["headers"].items()) {
          if (!v.is_string()) throw Error(where + ".headers." + k + " must be a string");
          c.headers.push_back(k + ": " + v.get<std::string>());
        }
      }
    }
    if (c.command.empty() && c.url.empty()) throw Error(where + " needs a \"command\" (a stdio server) or a \"url\" (streamable HTTP)");
    c.allow = string_list(entry, "allow", where);
    c.deny = string_list(entry, "deny", where);
    if (entry.contains("time_limit_s")) {
      if (!entry["time_limit_s"].is_number() || entry["time_limit_s"].get<double>() <= 0) throw Error(where + ".time_limit_s must be a number above 0");
      c.time_limit_s = entry["time_limit_s"];
    }
    out.push_back(std::move(c));
  }
  return out;
}

void add_mcp_tools(ToolRegistry& registry, const std::vector<McpServerConfig>& servers) {
  for (const auto& config : servers) {
    auto session = std::make_shared<McpSession>(config);
    std::vector<Json> tools;
    Json cursor;
    try {
      do {
        Json params = Json::object();
        if (!cursor.is_null()) params["cursor"] = cursor;
        Json page = session->request("tools/list", params, config.time_limit_s);
        const Json listed_here = page.value("tools", Json::array());
        for (const auto& t : listed_here)
          if (t.is_object() && t.contains("name") && t["name"].is_string()) tools.push_back(t);
        cursor = page.contains("nextCursor") && page["nextCursor"].is_string() ? page["nextCursor"] : Json();
      } while (!cursor.is_null());
    } catch (const McpFailure& e) {
      throw Error(std::string(e.what()) + " (" + session->describe() + ")");
    }
    std::set<std::string> listed;
    for (const auto& t : tools) listed.insert(t["name"].get<std::string>());
    for (const auto& name : config.allow)
      if (!listed.count(name)) throw Error("mcpServers." + config.name + ".allow names '" + name + "', which the server does not have");
    for (const auto& t : tools) {
      const std::string name = t["name"];
      if (!config.allow.empty() && std::find(config.allow.begin(), config.allow.end(), name) == config.allow.end()) continue;
      if (std::find(config.deny.begin(), config.deny.end(), name) != config.deny.end()) continue;
      if (const Tool* existing = registry.find(name))
        throw Error("MCP server '" + config.name + "' has a tool named " + name + ", as " +
                    (existing->backend().rfind("mcp:", 0) == 0 ? "MCP server '" + existing->backend().substr(4) + "' does" : std::string("a built-in tool is")) +
                    "; leave one out with \"deny\": [\"" + name + "\"] in mcpServers." + config.name);
      registry.add(std::make_unique<McpTool>(session, t));
    }
  }
}

}  // namespace taco
