// The embedded model as a taco Model (torch module): renders the conversation as in training,
// reads it once into a key/value cache, then writes the reply token by token.
#include <torch/torch.h>

#include <cstring>
#include <mutex>
#include <random>

#include "cota/step_grammar.h"
#include "models/embedded/conversation.h"
#include "models/embedded/embedded.h"
#include "models/embedded/weights.h"
#include "util/error.h"
#include "util/hash.h"

namespace taco {
namespace {

class EmbeddedModel : public Model {
 public:
  EmbeddedModel(const std::string& dir, const ModelOptions& options)
      : dir_(dir), options_(options), checkpoint_(load_checkpoint(dir)) {
    if (options_.temperature < 0) throw Error("ModelOptions.temperature must be 0 or more");
    if (options_.top_p <= 0 || options_.top_p > 1) throw Error("ModelOptions.top_p must be in (0, 1]");
    if (!options_.json_schema.empty() && options_.json_schema != "cota")
      throw Error("an embedded model constrains its replies to one shape only: ModelOptions.json_schema cota (a CoTA step)");
  }

  // The spec as given (embedded:taco-small for a shipped model found by name), else the folder.
  std::string name() const override { return options_.model.rfind("embedded:", 0) == 0 ? options_.model : "embedded:" + dir_; }

  // The one shape it can keep to is a CoTA step: the step grammar.
  bool takes_response_format(const Json& format) const override {
    return Model::takes_response_format(format) || is_cota_step_format(format);
  }

  ModelDefaults defaults() const override {
    const EmbeddedConfig& c = checkpoint_.config;
    return ModelDefaults{c.prompt_template, c.mode, c.max_replies};
  }

  Completion complete(const CompletionRequest& request) override {
    try {
      return generate(request);
    } catch (const c10::Error& e) {
      throw ModelError("embedded model: " + first_line(e));
    }
  }

 private:
  Completion generate(const CompletionRequest& request) const {
    if (!request.response_format.is_null() && !takes_response_format(request.response_format))
      throw ModelError("embedded model: it can keep to one response_format only, the CoTA step's JSON schema");
    const EmbeddedConfig& c = checkpoint_.config;
    const Tokenizer& tok = checkpoint_.tokenizer;
    std::vector<ChatMessage> chat;
    std::vector<PreparedImage> images;
    size_t assistant_turns = 0;
    for (const auto& m : *request.messages) {
      if (m.role == "system") continue;  // the checkpoint was trained without one (config.json: prompt)
      ChatMessage cm{m.role == "assistant", {}};
      assistant_turns += cm.assistant;
      for (const auto& part : m.parts) {
        if (part.image_url) {
          try {
            images.push_back(prepare_data_url(*part.image_url, c.image_width, c.image_height));
          } catch (const Error& e) {
            throw ModelError(std::string("embedded model: ") + e.what());
          }
          cm.segments.push_back({"", true});
        } else if (!part.text.empty()) {
          cm.segments.push_back({part.text, false});
        }
      }
      chat.push_back(std::move(cm));
    }
    TokenSequence seq = render_conversation(chat, tok, c.visual_tokens(), true);
    const int64_t T = static_cast<int64_t>(seq.ids.size());
    if (T >= c.max_positions)
      throw ContextFullError("embedded model: the conversation is " + std::to_string(T) + " tokens and the model reads at most " +
                             std::to_string(c.max_positions));
    const int max_tokens = request.max_tokens.value_or(options_.max_tokens);
    const int64_t limit = std::min<int64_t>(max_tokens > 0 ? max_tokens : c.max_reply_tokens, c.max_positions - T);
    Sampling sampling{request.temperature.value_or(options_.temperature), request.top_p.value_or(options_.top_p)};
    if (sampling.temperature < 0) throw ModelError("embedded model: the temperature must be 0 or more");
    if (sampling.top_p <= 0 || sampling.top_p > 1) throw ModelError("embedded model: top_p must be in (0, 1]");
    const int64_t seed = request.seed.value_or(options_.seed);

    torch::NoGradGuard no_grad;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(seq.ids.begin(), seq.ids.end()), torch::kLong).view({1, T});
    torch::Tensor pixels, slots;
    if (!images.empty()) {
      pixels = torch::empty({static_cast<int64_t>(images.size()), c.image_height, c.image_width, 3}, torch::kUInt8);
      for (size_t i = 0; i < images.size(); ++i)
        std::memcpy(pixels[static_cast<int64_t>(i)].data_ptr(), images[i].rgb.data(), images[i].rgb.size());
      std::vector<int64_t> at;
      for (int32_t first : seq.image_at)
        for (int k = 0; k < c.visual_tokens(); ++k) at.push_back(first + k);
      slots = torch::tensor(at, torch::kLong);
    }
    ActionNetwork net = checkpoint_.network;  // shared: forward() in inference only reads the weights
    ActionNetworkImpl::Cache cache;
    torch::Tensor logits = net->forward(tokens, pixels, slots, &cache)[0][T - 1];

    // A given seed makes each reply reproducible whatever else runs at the same time.
    std::mt19937_64 rng(seed >= 0 ? static_cast<uint64_t>(seed) ^ hash_bytes(request.task_id) ^
                                                 (assistant_turns * 0x9e3779b97f4a7c15ULL)
                                           : std::random_device{}());
    Completion out;
    out.prompt_tokens = static_cast<int>(T);
    std::vector<int> written;
    const bool constrained = request.response_format.is_null() ? options_.json_schema == "cota" : is_cota_step_format(request.response_format);
    const std::vector<std::string>& token_bytes = constrained ? all_token_bytes() : no_token_bytes_;
    StepGrammar grammar;
    // Under the step grammar a token is allowed when all its bytes continue a step; the end of
    // the message only once the step is complete, and then nothing else.
    const auto allowed = [&](int id) {
      if (!constrained) return true;
      if (grammar.complete()) return id == tok.end_id();
      StepGrammar trial = grammar;
      return !token_bytes[static_cast<size_t>(id)].empty() && trial.feed(token_bytes[static_cast<size_t>(id)]);
    };
    std::string sent;  // the text on_text has had
    // Hands on_text what decoding the tokens so far adds; a piece that would end inside a
    // character waits for the next token.
    const auto send_new_text = [&] {
      const std::string text = tok.decode(written);
      if (text.size() <= sent.size() || text.compare(0, sent.size(), sent) != 0) return;
      if (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0) return;
      if (!request.on_text(text.substr(sent.size()))) throw CancelledError("embedded model: the reply was not wanted any more");
      sent = text;
    };
    bool ended = false;
    while (static_cast<int64_t>(written.size()) < limit) {
      if (request.cancel && request.cancel->stopped()) throw CancelledError("embedded model: " + request.cancel->reason());
      const int next = choose(logits, rng, allowed, sampling);
      if (request.logprobs)
        out.logprobs.push_back({next == tok.end_id() ? "" : tok.decode({next}),
                                torch::log_softmax(logits, -1)[next].item<double>()});
      if (next == tok.end_id()) {
        ended = true;
        break;
      }
      if (constrained) grammar.feed(token_bytes[static_cast<size_t>(next)]);
      written.push_back(next);
      if (request.on_text) send_new_text();
      logits = net->forward(torch::full({1, 1}, next, torch::kLong), {}, {}, &cache)[0][0];
    }
    out.completion_tokens = static_cast<int>(written.size());
    out.text = tok.decode(written);
    if (request.on_text && out.text.size() > sent.size() && !request.on_text(out.text.substr(sent.size())))
      throw CancelledError("embedded model: the reply was not wanted any more");
    if (!ended) out.finish_reason = "length";
    return out;
  }

  struct Sampling {
    double temperature;
    double top_p;
  };

  static bool is_cota_step_format(const Json& format) {
    if (!format.is_object() || format.value("type", "") != "json_schema") return false;
    const Json spec = format.value("json_schema", Json::object());
    return spec.is_object() && spec.value("schema", Json()) == cota_step_schema();
  }

  // Each token's bytes, for the step grammar (made on first use).
  const std::vector<std::string>& all_token_bytes() const {
    std::call_once(token_bytes_once_, [this] {
      const Tokenizer& tok = checkpoint_.tokenizer;
      for (int id = 0; id < tok.vocab_size(); ++id) token_bytes_.push_back(tok.token_bytes(id));
    });
    return token_bytes_;
  }

  // The next token among those `allowed` accepts: the most likely one (greedy), or a sample
  // from their renormalized distribution at the temperature, top-p applied to it.
  template <typename Allowed>
  int choose(const torch::Tensor& logits, std::mt19937_64& rng, const Allowed& allowed, const Sampling& sampling) const {
    const bool greedy = sampling.temperature <= 0;
    if (greedy) {
      const int best = static_cast<int>(logits.argmax().item<int64_t>());
      if (allowed(best)) return best;
    }
    torch::Tensor scores = greedy ? logits : torch::softmax(logits / sampling.temperature, -1);
    auto [sorted, order] = scores.sort(-1, /*descending=*/true);
    const float* p = sorted.data_ptr<float>();
    const int64_t* ids = order.data_ptr<int64_t>();
    const int64_t n = sorted.size(0);
    std::vector<std::pair<double, int>> candidates;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int id = static_cast<int>(ids[i]);
      if (!allowed(id)) continue;
      if (greedy) return id;
      candidates.emplace_back(p[i], id);
      total += p[i];
    }
    if (candidates.empty()) throw ModelError("embedded model: no token continues the step (the tokenizer lacks byte fallback)");
    double mass = 0;
    size_t keep = 0;
    while (keep < candidates.size() && (keep == 0 || mass < sampling.top_p * total)) mass += candidates[keep++].first;
    double r = std::uniform_real_distribution<double>(0, mass)(rng);
    for (size_t i = 0; i < keep; ++i) {
      r -= candidates[i].first;
      if (r <= 0) return candidates[i].second;
    }
    return candidates[keep - 1].second;
  }

  std::string dir_;
  ModelOptions options_;
  LoadedCheckpoint checkpoint_;
  mutable std::once_flag token_bytes_once_;
  mutable std::vector<std::string> token_bytes_;  // each token's bytes, when replies follow the step grammar
  const std::vector<std::string> no_token_bytes_;
};

std::unique_ptr<Model> make_model_in_module(const std::string& dir, const ModelOptions& options) {
  // One thread per episode, OpenBLAS's included: concurrent episodes (-j) use the cores better
  // than one episode's small matrices split across threads, and OpenBLAS's idle threads spin
  // (BENCHMARKS.md: 12 episodes/s at -j 8 this way, 6 with OpenBLAS on two threads).
  set_math_threads(1);
  try {
    return std::make_unique<EmbeddedModel>(dir, options);
  } catch (const c10::Error& e) {
    throw Error(dir + ": " + first_line(e));
  }
}

}  // namespace
}  // namespace taco

extern "C" std::unique_ptr<taco::Model> taco_embedded_model(const std::string& dir, const taco::ModelOptions& options) {
  return taco::make_model_in_module(dir, options);
}
