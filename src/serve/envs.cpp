#include "serve/envs.h"

#include <atomic>
#include <filesystem>
#include <set>

#include "util/hash.h"
#include "util/job.h"
#include "util/strings.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

// The policy behind an environment is the client's: this model only names it in the trace (and
// lets the tools protocol be chosen). Nothing calls it.
class ClientModel : public Model {
 public:
  explicit ClientModel(std::string name) : name_(std::move(name)) {}
  Completion complete(const CompletionRequest&) override {
    throw Error("an environment's replies come from its client, not from a model of the server");
  }
  std::string name() const override { return name_; }
  bool takes_tools() const override { return true; }

 private:
  std::string name_;
};

// `messages` from `from` on as a JSON array of OpenAI messages.
std::string messages_json(const std::vector<Message>& messages, size_t from) {
  std::string out = "[";
  for (size_t i = from; i < messages.size(); ++i) {
    if (i > from) out += ',';
    append_openai_message(out, messages[i]);
  }
  return out + "]";
}

// `head` (an object) with one more member whose value is JSON text already written.
std::string with_member(const Json& head, const std::string& key, const std::string& value_json) {
  std::string out = head.dump(-1, ' ', false, Json::error_handler_t::replace);
  out.pop_back();  // the closing '}'
  if (out.size() > 1) out += ',';
  return out + Json(key).dump() + ":" + value_json + "}";
}

// A reply's text from OpenAI's content: a string, null, or text parts.
std::string reply_text(const Json& content) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {
    std::string text;
    for (const auto& part : content) {
      if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
        throw EnvError(400, "a reply's content parts must be {\"type\": \"text\", \"text\": ...}: the policy writes text");
      text += part["text"].get<std::string>();
    }
    return text;
  }
  throw EnvError(400, "'content' must be a string, null or an array of text parts");
}

// Refuses tool calls that are not OpenAI's shape before any of them runs (the episode would
// otherwise take the reply's first calls and fail on a later one).
void check_tool_calls(const Json& calls, size_t max_calls) {
  if (!calls.is_array()) throw EnvError(400, "'tool_calls' must be an array of OpenAI tool calls");
  if (calls.size() > max_calls)
    throw EnvError(400, std::to_string(calls.size()) + " tool calls in one reply; at most " + std::to_string(max_calls));
  for (const auto& call : calls) {
    const bool ok = call.is_object() && (!call.contains("id") || call["id"].is_string()) && call.contains("function") &&
                    call["function"].is_object() && call["function"].contains("name") && call["function"]["name"].is_string() &&
                    (!call["function"].contains("arguments") || call["function"]["arguments"].is_string() ||
                     call["function"]["arguments"].is_object());
    if (!ok)
      throw EnvError(400, "a tool call must be {\"id\": string, \"type\": \"function\", \"function\": {\"name\": string, "
                          "\"arguments\": a JSON string or object}}, not " + excerpt(call.dump(-1, ' ', false, Json::error_handler_t::replace), 120));
  }
}

}  // namespace

struct Environments::Env {
  Env(std::string id, const Task& task, std::string model_name) : id(std::move(id)), task(task), model(std::move(model_name)) {}
  std::string id;
  Task task;
  ClientModel model;
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<Episode> episode;
  std::mutex mu;                      // one step at a time; held while it ends
  std::atomic<int64_t> last_used_ns{now_ns()};
  size_t sent = 0;                    // messages the client has been given
  bool ended = false;
};

Environments::Environments(const ToolRegistry& tools, PromptTemplate prompts, EpisodeOptions episode, EnvOptions options,
                           std::string work_dir, OnFinished on_finished)
    : tools_(tools), prompts_(std::move(prompts)), episode_(std::move(episode)), options_(std::move(options)),
      work_dir_(std::move(work_dir)), on_finished_(std::move(on_finished)), rng_(std::random_device{}()) {
  if (options_.max_envs < 1) throw Error("EnvOptions.max_envs must be at least 1");
  if (!(options_.idle_timeout_s > 0 && options_.idle_timeout_s <= 1e6))
    throw Error("EnvOptions.idle_timeout_s must be more than 0 and at most 1e6 (11 days)");
  for (const auto& file : options_.tasks) {
    for (auto& t : load_tasks(file)) {
      try {
        check_rewardable(t);
      } catch (const Error& e) {
        throw Error("EnvOptions.tasks: task " + t.id + " of " + file + ": " + e.what());
      }
      if (!task_index_.emplace(t.id, tasks_.size()).second) throw Error("EnvOptions.tasks: task id " + t.id + " appears twice");
      tasks_.push_back(std::move(t));
    }
  }
  if (!options_.tasks.empty() && tasks_.empty()) throw Error("EnvOptions.tasks holds no tasks");
}

Environments::~Environments() = default;

std::shared_ptr<Environments::Env> Environments::find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = envs_.find(id);
  if (it == envs_.end())
    throw EnvError(404, "no live environment '" + excerpt(id, 80) + "': it finished, was closed or sat idle over " +
                            format_text("%g", options_.idle_timeout_s) + " s (its trace is at /v1/episodes/ID once it ended)");
  return it->second;
}

void Environments::forget(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  envs_.erase(id);
}

RewardParts Environments::finish(Env& env, const std::string& error, Trace* trace_out) {
  if (!error.empty() && !env.episode->over()) env.episode->end_error(Error(error));
  Trace trace = env.episode->finish();
  env.ended = true;
  const RewardParts reward = reward_of(env.task, trace, options_.reward);
  if (on_finished_) on_finished_(env.id, trace, reward);
  if (trace_out) *trace_out = std::move(trace);
  return reward;
}

void Environments::end_idle() {
  const int64_t limit = static_cast<int64_t>(options_.idle_timeout_s * 1e9);
  std::vector<std::shared_ptr<Env>> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = now_ns();
    for (auto it = envs_.begin(); it != envs_.end();) {
      Env& env = *it->second;
      // A step under way holds the lock: that environment is not idle.
      if (now - env.last_used_ns.load() > limit && env.mu.try_lock()) {
        idle.push_back(it->second);
        it = envs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& env : idle) {
    std::lock_guard<std::mutex> lock(env->mu, std::adopt_lock);
    finish(*env, "no step for over " + format_text("%g", options_.idle_timeout_s) + " s: the environment was ended");
  }
}

std::string Environments::reset(const Json& body) {
  if (tasks_.empty()) throw EnvError(404, "this server has no environments (start it with tasks to serve them)");
  end_idle();
  auto given = [&](const char* key) { return body.contains(key) && !body[key].is_null(); };
  const Task* task = nullptr;
  if (given("task_id")) {
    if (!body["task_id"].is_string()) throw EnvError(400, "'task_id' must be a string");
    auto it = task_index_.find(body["task_id"].get<std::string>());
    if (it == task_index_.end()) throw EnvError(404, "no task '" + excerpt(body["task_id"].get<std::string>(), 80) + "' in this server's tasks");
    task = &tasks_[it->second];
  } else if (given("seed")) {
    if (!body["seed"].is_number_integer()) throw EnvError(400, "'seed' must be a whole number");
    task = &tasks_[splitmix64(static_cast<uint64_t>(body["seed"].get<int64_t>())) % tasks_.size()];
  }

  EpisodeOptions eo = episode_;
  if (given("prompt")) {
    try {
      eo.mode = prompt_mode_from_string(body["prompt"].get<std::string>());
    } catch (const std::exception&) {
      throw EnvError(400, "'prompt' is cota or direct");
    }
  }
  if (given("protocol")) {
    const std::string p = body["protocol"].is_string() ? body["protocol"].get<std::string>() : "";
    if (p != "cota" && p != "tools") throw EnvError(400, "'protocol' is cota (steps in the reply's text) or tools (tool calls)");
    eo.protocol = action_protocol_from_string(p);
  }
  if (given("max_replies")) {
    const Json& m = body["max_replies"];
    if (!m.is_number_integer() || m.get<int64_t>() < 0 || m.get<int64_t>() > options_.max_replies_limit)
      throw EnvError(400, "'max_replies' must be a whole number from 0 to " + std::to_string(options_.max_replies_limit));
    eo.max_replies = m.get<int>();
  }
  std::string model_name = "client";
  if (given("model")) {
    if (!body["model"].is_string() || body["model"].get<std::string>().empty() || body["model"].get<std::string>().size() > 200)
      throw EnvError(400, "'model' must be a name of 1 to 200 characters (the trace records it)");
    model_name = body["model"];
  }

  std::shared_ptr<Env> env;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (envs_.size() >= options_.max_envs)
      throw EnvError(429, std::to_string(options_.max_envs) + " environments are live, the most this server keeps; step or close one, or retry shortly");
    if (!task) task = &tasks_[std::uniform_int_distribution<size_t>(0, tasks_.size() - 1)(rng_)];
    env = std::make_shared<Env>("env-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count() / 1000000) + "-" +
                                    std::to_string(next_id_++),
                                *task, model_name);
  }
  eo.images_dir = work_dir_ + "/" + env->id;
  try {
    env->runtime = std::make_unique<Runtime>(env->model, tools_, prompts_, eo);
  } catch (const Error& e) {
    throw EnvError(400, e.what());
  }
  env->episode = std::make_unique<Episode>(*env->runtime, env->task);
  if (env->episode->over()) {
    Trace trace;
    finish(*env, "", &trace);
    throw EnvError(500, "task " + env->task.id + " cannot start: " + trace.error);
  }
  const CompletionRequest request = env->episode->request();
  Json head{{"id", env->id},
            {"object", "taco.env"},
            {"task_id", env->task.id},
            {"question", env->task.question},
            {"prompt", to_string(eo.mode)},
            {"protocol", to_string(eo.protocol)},
            {"max_replies", eo.max_replies},
            {"done", false}};
  if (!env->task.choices.empty()) head["choices"] = env->task.choices;
  if (!request.tools.is_null()) head["tools"] = request.tools;
  const auto& messages = env->episode->messages();
  env->sent = messages.size();
  std::string reply = with_member(head, "messages", messages_json(messages, 0));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (envs_.size() >= options_.max_envs) {
      std::lock_guard<std::mutex> env_lock(env->mu);
      finish(*env, "refused: the server was full");
      throw EnvError(429, std::to_string(options_.max_envs) + " environments are live, the most this server keeps; step or close one, or retry shortly");
    }
    envs_.emplace(env->id, env);
  }
  return reply;
}

std::string Environments::step(const std::string& id, const Json& body) {
  end_idle();
  std::shared_ptr<Env> env = find(id);
  std::unique_lock<std::mutex> lock(env->mu, std::try_to_lock);
  if (!lock.owns_lock()) throw EnvError(409, "environment " + id + " is taking a step already: send the next one after its answer");
  if (env->ended) throw EnvError(404, "no live environment '" + id + "': it has ended");
  env->last_used_ns = now_ns();

  const Json& message = body.contains("message") ? body["message"] : body;
  if (!message.is_object()) throw EnvError(400, "'message' must be an assistant message object");
  Completion reply;
  if (body.contains("context_full") && !body["context_full"].is_boolean()) throw EnvError(400, "'context_full' must be true or false");
  const bool context_full = body.value("context_full", false);
  if (!context_full) {
    const bool has_content = message.contains("content") && !message["content"].is_null();
    const bool has_calls = message.contains("tool_calls") && !message["tool_calls"].is_null();
    if (!has_content && !has_calls)
      throw EnvError(400, "a step needs the policy's reply: 'content' (its text) and/or 'tool_calls' (or 'context_full': true)");
    reply.text = reply_text(message.value("content", Json()));
    if (reply.text.size() > options_.max_reply_bytes)
      throw EnvError(400, "a reply of " + byte_size_text(reply.text.size()) + " is over the limit of " + byte_size_text(options_.max_reply_bytes));
    if (has_calls) {
      if (env->runtime->options().protocol != ActionProtocol::kTools)
        throw EnvError(400, "environment " + id + " reads a CoTA step from the reply's text (protocol cota); reset with \"protocol\": \"tools\" for tool calls");
      check_tool_calls(message["tool_calls"], options_.max_calls);
      reply.tool_calls = message["tool_calls"];
    }
  }

  const size_t before = env->episode->messages().size();
  bool done;
  if (context_full) {
    env->episode->end_context_full();
    done = true;
  } else {
    try {
      done = env->episode->take(std::move(reply));
    } catch (const std::exception& e) {
      // Whatever the reply did to the episode, it cannot go on: it ends as an error (kept, scored as one).
      forget(id);
      finish(*env, std::string("the reply could not be taken: ") + e.what());
      throw EnvError(500, "environment " + id + " ended: its reply could not be taken (" + first_line_of(e.what()) + ")");
    }
  }
  const auto& messages = env->episode->messages();
  // What follows the policy's own message (the one it sent) is what it reads next.
  const size_t from = std::min(messages.size(), before + (context_full ? 0 : 1));
  const std::string observation = messages_json(messages, from);
  env->sent = messages.size();
  Json head{{"id", id}, {"object", "taco.env.step"}, {"done", done}, {"reward", 0}, {"steps", env->episode->trace().steps.size()}};
  if (done) {
    forget(id);
    Trace trace;
    const RewardParts r = finish(*env, "", &trace);
    head["reward"] = r.total();
    head["reward_parts"] = r.to_json();
    head["right"] = r.right;
    head["status"] = to_string(trace.status);
    head["answer"] = trace.answer;
    head["episode"] = id;  // GET /v1/episodes/ID: the trace
  }
  env->last_used_ns = now_ns();
  return with_member(head, "observation", observation);
}

Json Environments::close(const std::string& id) {
  std::shared_ptr<Env> env = find(id);
  std::unique_lock<std::mutex> lock(env->mu, std::try_to_lock);
  if (!lock.owns_lock()) throw EnvError(409, "environment " + id + " is taking a step: close it after the step's answer");
  if (env->ended) throw EnvError(404, "no live environment '" + id + "': it has ended");
  forget(id);
  finish(*env, "closed by the client before it ended");
  return Json{{"id", id}, {"object", "taco.env"}, {"closed", true}};
}

std::vector<std::string> Environments::image_folders() const {
  std::set<std::string> folders;
  for (const auto& t : tasks_)
    for (const auto& path : t.images)
      if (auto folder = std::filesystem::path(path).parent_path().string(); !folder.empty()) folders.insert(folder);
  // A folder that is not there has nothing to show (its tasks fail at reset, saying so).
  for (auto it = folders.begin(); it != folders.end();) {
    std::error_code ec;
    it = std::filesystem::is_directory(*it, ec) ? std::next(it) : folders.erase(it);
  }
  return {folders.begin(), folders.end()};
}

Json Environments::list() {
  end_idle();
  Json data = Json::array();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_ns();
  for (const auto& [id, env] : envs_)
    data.push_back(Json{{"id", id}, {"task_id", env->task.id}, {"idle_s", static_cast<double>(now - env->last_used_ns.load()) / 1e9}});
  return Json{{"object", "list"}, {"data", data}, {"tasks", tasks_.size()}, {"max_envs", options_.max_envs}};
}

}  // namespace taco
