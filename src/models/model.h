// Model: anything that answers a chat conversation: an OpenAI-compatible server (OpenAI, vLLM,
// SGLang, llama.cpp's server, taco's own), a replay of recorded responses, later the embedded
// model. complete() is called from many episode threads at once and must be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/error.h"
#include "util/json.h"

namespace taco {

struct ContentPart {
  std::string text;                            // used when image_url is null
  std::shared_ptr<const std::string> image_url;  // a data: URL
};

struct Message {
  std::string role;  // "system", "user", "assistant", or "tool" (a tool call's result, models that take_tools())
  std::vector<ContentPart> parts;
  Json tool_calls;           // an assistant message's OpenAI tool_calls, passed through unchanged (null: none)
  std::string tool_call_id;  // a "tool" message: the call it answers

  bool has_images() const;
  std::string text() const;  // the text parts joined
};

// Appends `m` as OpenAI's chat message JSON ({"role", "content": text or parts with image_url,
// "tool_calls", "tool_call_id"}). Image data URLs are base64 (nothing to escape) and the bulk of
// a conversation, so they are copied without a JSON pass.
void append_openai_message(std::string& out, const Message& m);

// Lets the one who asked stop work it no longer wants: a request past its time limit, a client
// that went away. Models and the runtime look at it between tokens, calls and steps.
class Cancellation {
 public:
  explicit Cancellation(double time_limit_s = 0);  // 0: no time limit
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }  // cancel() was called (not the time limit)
  bool stopped() const;
  double seconds_left() const;  // a large number without a time limit
  std::string reason() const;   // why stopped() is true
 private:
  std::atomic<bool> cancelled_{false};
  double time_limit_s_;
  std::chrono::steady_clock::time_point deadline_;
};

// What a model session recorded of its conversation as the model read and wrote it, token by
// token (SessionOptions.record): what reinforcement learning trains on (docs/rl.md). Later turns
// continue these ids as they were sampled, never a re-encoding of the replies' text.
struct SessionTokens {
  std::vector<int32_t> ids;       // every token read or written, in order
  std::vector<uint8_t> written;   // 1 where the model sampled ids[i] (the policy's tokens); 0 for prompt, observations, image slots
  std::vector<float> logprobs;    // the sampler's log-probability of ids[i] where written (temperature and grammar applied), else 0
  std::vector<int32_t> image_at;  // the first slot of each image, in image order
  std::vector<std::shared_ptr<const std::vector<uint8_t>>> images;  // each image as the model saw it (its config's size, RGB)
  // With the step grammar: per written token, in order, the vocabulary's tokens it allowed
  // (allowed_words 64-bit words each; bit id % 64 of word id / 64). Empty without the grammar.
  std::vector<uint64_t> allowed;
  size_t allowed_words = 0;
  double temperature = 0;  // the one temperature every reply was sampled at (a recording session refuses a second)
};

struct SessionOptions {
  bool record = false;  // keep SessionTokens (needs top_p 1: RL trains on the whole distribution)
  int lanes = 1;        // open_sessions: threads that decode the group's replies
};

// A model's memory of one conversation (one episode): the embedded model keeps what it has read
// (its key/value cache, the token ids, the images prepared) so that each turn reads only what
// is new. Used by one episode at a time; requests that carry it must continue its conversation
// (the same messages, with new ones after the last reply).
class ModelSession {
 public:
  virtual ~ModelSession() = default;
  virtual const SessionTokens* tokens() const { return nullptr; }  // null unless it records
  // The conversation is over: no request will carry this session again (a session of a group
  // must be closed, or destroyed, when its episode ends, so that the others go on).
  virtual void close() {}
};

struct CompletionRequest {
  std::string task_id;  // lets a replay model find the recording of this task
  const std::vector<Message>* messages = nullptr;
  bool logprobs = false;  // ask for each written token's log-probability (where the model can)
  // This request's sampling settings instead of the model's own (a judge retrying a reply it
  // could not read asks again hotter; a served request brings its own); served and embedded
  // models honour them.
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> seed;
  std::optional<int> max_tokens;
  Json response_format;          // OpenAI's response_format (null: the model's own); see Model::takes_response_format
  Json tools, tool_choice;       // OpenAI's, passed through (null: none); only to a model that takes_tools()
  const Cancellation* cancel = nullptr;  // stop early when it says so (CancelledError)
  // The reply's text as it is written, piece by piece (the embedded model: token by token; a
  // served model: all at once). Returning false stops the reply (CancelledError).
  std::function<bool(const std::string&)> on_text;
  ModelSession* session = nullptr;  // the conversation's session (Model::open_session), or null
};

struct TokenLogprob {
  std::string token;
  double logprob = 0;
};

struct Completion {
  std::string text;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  std::vector<TokenLogprob> logprobs;  // filled when asked for and the model can
  Json tool_calls;                     // OpenAI tool_calls of a model that takes_tools() (null: none)
  std::string finish_reason = "stop";  // stop, length (out of max_tokens) or tool_calls
};

// What a model brings with it: the prompt texts, mode and episode length it was trained with
// (the embedded model's checkpoint). The runtime uses them unless the user overrides them.
struct ModelDefaults {
  Json prompt_template;  // an object of template texts, or null
  std::string mode;      // "cota", "direct", or "" (no preference)
  int max_replies = -1;  // -1: no preference
};

// A model that could not answer (unreachable, refused, out of retries). The episode records
// it as an error; it never crashes a batch.
class ModelError : public Error {
 public:
  using Error::Error;
};

// No HTTP answer at all, after the retries (connection refused, timed out, name unknown): the
// model's server is down, not this request wrong. A batch stops after a few in a row.
class ModelUnreachableError : public ModelError {
 public:
  using ModelError::ModelError;
};

// The conversation no longer fits the model's context (a local model's hard limit). The
// episode ends as it does when its reply budget runs out, not as a failure to retry.
class ContextFullError : public ModelError {
 public:
  using ModelError::ModelError;
};

// The request's Cancellation said stop (time limit, or the asker went away).
class CancelledError : public ModelError {
 public:
  using ModelError::ModelError;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual Completion complete(const CompletionRequest& request) = 0;
  virtual std::string name() const = 0;
  virtual ModelDefaults defaults() const { return {}; }
  // Whether requests may carry OpenAI tools / tool_choice and tool messages (a served model:
  // they pass through to its server).
  virtual bool takes_tools() const { return false; }
  // Whether the model can keep to this OpenAI response_format ({"type": "text"} always).
  virtual bool takes_response_format(const Json& format) const { return format.is_null() || format.value("type", "") == "text"; }
  // Throws ModelUnreachableError when the model cannot be reached at all (a batch asks once,
  // before its first task); local models always can.
  virtual void check_reachable() const {}
  // A session for one conversation, where the model keeps one (the embedded model); null
  // where each request stands alone. Throws Error for options it cannot honour.
  virtual std::unique_ptr<ModelSession> open_session(const SessionOptions&) { return nullptr; }
  // `n` sessions for episodes that run at once (RL's rollouts of a step): a model may decode
  // their replies together, in lockstep (each round waits until every open session of the
  // group has asked or closed, then writes all their replies in shared steps, in the sessions'
  // order), which is fast and gives the same tokens on every run. By default, n sessions of
  // their own.
  virtual std::vector<std::unique_ptr<ModelSession>> open_sessions(size_t n, const SessionOptions& options) {
    std::vector<std::unique_ptr<ModelSession>> out;
    for (size_t i = 0; i < n; ++i) out.push_back(open_session(options));
    return out;
  }
};

struct ModelOptions {
  std::string model;          // a served model's name, "replay:PATH" or "embedded:DIR"
  std::string endpoint;       // base URL ending in /v1; "" means $OPENAI_BASE_URL or OpenAI's
  std::string api_key_env = "OPENAI_API_KEY";
  std::string api_key;        // the key itself; wins over api_key_env
  double temperature = 0.0;
  double top_p = 1.0;
  int max_tokens = -1;        // -1: the model's own limit (1024 for a served model, the checkpoint's for embedded)
  int64_t seed = -1;          // -1: not sent (embedded: a fresh seed per reply)
  double timeout_s = 120;
  double connect_timeout_s = 10;
  int retries = 4;            // on connection errors, 429 and 5xx, with exponential backoff
  double backoff_s = 0.5;
  std::string json_schema;    // a JSON schema for response_format, "cota" for the step schema, or ""
};

// Makes the model a spec names; throws Error for a bad spec (e.g. a missing replay file).
std::unique_ptr<Model> make_model(const ModelOptions& options);

}  // namespace taco
