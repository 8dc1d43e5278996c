// The embedded model as a taco Model (torch module): renders the conversation as in training,
// reads it once into a key/value cache, then writes the reply token by token.
#include <torch/torch.h>

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <random>

#include "cota/step_grammar.h"
#include "models/embedded/conversation.h"
#include "models/embedded/embedded.h"
#include "models/embedded/weights.h"
#include "models/embedded/embedded_model.h"
#include "util/error.h"
#include "util/hash.h"

namespace taco {
namespace {

class EmbeddedModel : public Model {
 public:
  EmbeddedModel(const std::string& dir, const ModelOptions& options, LoadedCheckpoint checkpoint)
      : dir_(dir), options_(options), checkpoint_(std::move(checkpoint)) {
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

  std::unique_ptr<ModelSession> open_session(const SessionOptions& options) override {
    check_session_options(options);
    return std::make_unique<Session>(options.record);
  }

  std::vector<std::unique_ptr<ModelSession>> open_sessions(size_t n, const SessionOptions& options) override {
    check_session_options(options);
    auto group = std::make_shared<LockstepGroup>(n, std::max(1, options.lanes), checkpoint_.network);
    std::vector<std::unique_ptr<ModelSession>> out;
    for (size_t i = 0; i < n; ++i) out.push_back(std::make_unique<Session>(options.record, group, i));
    return out;
  }

 private:
  void check_session_options(const SessionOptions& options) const {
    if (options.record && options_.top_p != 1)
      throw Error("a recording session samples from the whole distribution: ModelOptions.top_p must be 1");
  }

  class LockstepGroup;

  // Pictures prepared for the network (decoded, resized, RGB), by their data URL: a group's
  // episodes read the same question's picture, and so do a tool's identical outputs; preparing
  // one costs milliseconds, finding it a hash of its URL and one comparison. Holds those used
  // last, at most kCapacity of them and kBytes of URLs (a served model's requests are anyone's).
  class PreparedImages {
   public:
    using Pixels = std::shared_ptr<const std::vector<uint8_t>>;
    Pixels get(const std::string& url, int width, int height) {
      const uint64_t key = hash_bytes(url);
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
          if (it->key == key && it->url == url) {
            entries_.splice(entries_.begin(), entries_, it);
            return it->rgb;
          }
      }
      Pixels rgb = std::make_shared<const std::vector<uint8_t>>(prepare_data_url(url, width, height).rgb);
      if (url.size() > kBytes / 8) return rgb;
      std::lock_guard<std::mutex> lock(mu_);
      entries_.push_front({key, url, rgb});
      bytes_ += url.size();
      while (entries_.size() > kCapacity || bytes_ > kBytes) {
        bytes_ -= entries_.back().url.size();
        entries_.pop_back();
      }
      return rgb;
    }

   private:
    static constexpr size_t kCapacity = 64, kBytes = size_t{64} << 20;
    struct Entry {
      uint64_t key;
      std::string url;
      Pixels rgb;
    };
    std::mutex mu_;
    std::list<Entry> entries_;  // the most recently used first
    size_t bytes_ = 0;          // of their URLs
  };

  // One conversation as the model has read it: the token ids (prompt, replies as sampled,
  // observations), the keys and values of those it has read, and its images prepared once.
  class Session : public ModelSession {
   public:
    explicit Session(bool record) : record_(record) {}
    Session(bool record, std::shared_ptr<LockstepGroup> group, size_t member) : record_(record), group_(std::move(group)), member_(member) {}
    Session& operator=(Session&&) = default;
    ~Session() override { Session::close(); }
    const SessionTokens* tokens() const override { return record_ ? &tokens_ : nullptr; }
    void close() override {
      if (group_ && !closed_) group_->leave();
      closed_ = true;
    }

    bool record_;
    SessionTokens tokens_;           // ids and images always; allowed only when recording
    ActionNetworkImpl::Cache cache;  // the keys and values of tokens_.ids[0, cache.length)
    size_t messages_read = 0;        // the conversation's messages (system ones aside) in tokens_.ids, its last reply included
    std::string last_reply;          // that reply's text, which the next request must carry unchanged
    bool sampled = false;            // a reply was written: the temperature is fixed
    std::shared_ptr<LockstepGroup> group_;  // the sessions whose replies it is decoded with (open_sessions), or null
    size_t member_ = 0;                     // its place in the group
    bool closed_ = false;
  };

  // Puts the request's messages past what `session` has read into its ids (a fresh session:
  // all of them), then opens the reply. A session whose conversation the request does not
  // continue starts over, unless it records (then ModelError: its tokens would not be what
  // the model read).
  void read_messages(const CompletionRequest& request, Session& session) const {
    const EmbeddedConfig& c = checkpoint_.config;
    std::vector<const Message*> messages;
    for (const auto& m : *request.messages)
      if (m.role != "system") messages.push_back(&m);  // the checkpoint was trained without one (config.json: prompt)
    const size_t read = session.messages_read;
    const bool continues = read == 0 || (messages.size() > read && messages[read - 1]->role == "assistant" &&
                                         messages[read - 1]->text() == session.last_reply);
    if (!continues) {
      if (session.record_ || session.group_) throw ModelError("embedded model: the request does not continue its session's conversation");
      session = Session(false);
    }
    TokenSequence added;
    const int64_t base = static_cast<int64_t>(session.tokens_.ids.size());
    for (size_t i = session.messages_read; i < messages.size(); ++i) {
      ChatMessage cm{messages[i]->role == "assistant", {}};
      for (const auto& part : messages[i]->parts) {
        if (part.image_url) {
          try {
            session.tokens_.images.push_back(prepared_images_.get(*part.image_url, c.image_width, c.image_height));
          } catch (const Error& e) {
            throw ModelError(std::string("embedded model: ") + e.what());
          }
          cm.segments.push_back({"", true});
        } else if (!part.text.empty()) {
          cm.segments.push_back({part.text, false});
        }
      }
      append_message(added, cm, checkpoint_.tokenizer, c.visual_tokens());
    }
    added.ids.push_back(checkpoint_.tokenizer.assistant_id());
    SessionTokens& t = session.tokens_;
    t.ids.insert(t.ids.end(), added.ids.begin(), added.ids.end());
    t.written.resize(t.ids.size(), 0);
    t.logprobs.resize(t.ids.size(), 0);
    for (int32_t at : added.image_at) t.image_at.push_back(static_cast<int32_t>(base + at));
    session.messages_read = messages.size();
  }

  // Reads the session's ids past its cache (with their images) and returns the logits of the last.
  torch::Tensor read_new_tokens(Session& session) const {
    const EmbeddedConfig& c = checkpoint_.config;
    const SessionTokens& t = session.tokens_;
    const int64_t from = session.cache.length, T = static_cast<int64_t>(t.ids.size()) - from;
    torch::Tensor tokens = torch::tensor(std::vector<int64_t>(t.ids.begin() + from, t.ids.end()), torch::kLong).view({1, T});
    std::vector<size_t> new_images;
    for (size_t i = 0; i < t.image_at.size(); ++i)
      if (t.image_at[i] >= from) new_images.push_back(i);
    torch::Tensor pixels, slots;
    if (!new_images.empty()) {
      pixels = torch::empty({static_cast<int64_t>(new_images.size()), c.image_height, c.image_width, 3}, torch::kUInt8);
      std::vector<int64_t> at;
      for (size_t n = 0; n < new_images.size(); ++n) {
        const auto& rgb = *t.images[new_images[n]];
        std::memcpy(pixels[static_cast<int64_t>(n)].data_ptr(), rgb.data(), rgb.size());
        for (int k = 0; k < c.visual_tokens(); ++k) at.push_back(t.image_at[new_images[n]] - from + k);
      }
      slots = torch::tensor(at, torch::kLong);
    }
    ActionNetwork net = checkpoint_.network;  // shared: forward() in inference only reads the weights
    return net->forward(tokens, pixels, slots, &session.cache, /*last_only=*/true)[0][0];
  }

  struct Sampling {
    double temperature;
    double top_p;
  };

  // One reply being written: its sampler (seeded per reply), the step grammar when it applies,
  // and what it has written so far, recorded in its session. take() looks at the logits of
  // the next position and either picks a token to read next (true) or ends the reply.
  class ReplyWriter {
   public:
    ReplyWriter(const EmbeddedModel& model, const CompletionRequest& request, Session& session, const Sampling& sampling,
                int64_t limit, uint64_t seed)
        : model_(model), tok_(model.checkpoint_.tokenizer), request_(request), session_(session), sampling_(sampling), limit_(limit),
          rng_(seed),
          constrained_(request.response_format.is_null() ? model.options_.json_schema == "cota" : is_cota_step_format(request.response_format)),
          token_bytes_(constrained_ ? model.all_token_bytes() : model.no_token_bytes_) {
      out_.prompt_tokens = static_cast<int>(session.tokens_.ids.size());
      keep_allowed_ = session.record_ && constrained_;
      if (keep_allowed_) session.tokens_.allowed_words = static_cast<size_t>(tok_.vocab_size() + 63) / 64;
    }

    bool take(const torch::Tensor& logits) {
      if (static_cast<int64_t>(written_.size()) >= limit_) return false;
      if (request_.cancel && request_.cancel->stopped()) throw CancelledError("embedded model: " + request_.cancel->reason());
      SessionTokens& t = session_.tokens_;
      uint64_t* allowed_bits = nullptr;
      if (keep_allowed_) {
        t.allowed.resize(t.allowed.size() + t.allowed_words, 0);
        allowed_bits = t.allowed.data() + t.allowed.size() - t.allowed_words;
      }
      // Under the step grammar a token is allowed when all its bytes continue a step; the end
      // of the message only once the step is complete, and then nothing else.
      const auto allowed = [&](int id) {
        if (!constrained_) return true;
        if (grammar_.complete()) return id == tok_.end_id();
        StepGrammar trial = grammar_;
        return !token_bytes_[static_cast<size_t>(id)].empty() && trial.feed(token_bytes_[static_cast<size_t>(id)]);
      };
      const Choice next = model_.choose(logits, rng_, allowed, sampling_, session_.record_, allowed_bits);
      if (request_.logprobs)
        out_.logprobs.push_back({next.id == tok_.end_id() ? "" : tok_.decode({next.id}),
                                 torch::log_softmax(logits, -1)[next.id].item<double>()});
      t.ids.push_back(next.id);
      t.written.push_back(1);
      t.logprobs.push_back(static_cast<float>(next.logprob));
      if (next.id == tok_.end_id()) {
        ended_ = true;
        return false;
      }
      if (constrained_) grammar_.feed(token_bytes_[static_cast<size_t>(next.id)]);
      written_.push_back(next.id);
      if (request_.on_text) send_new_text();
      return static_cast<int64_t>(written_.size()) < limit_;
    }

    int next_token() const { return written_.back(); }
    ActionNetworkImpl::Cache& cache() { return session_.cache; }

    Completion finish() {
      SessionTokens& t = session_.tokens_;
      if (!ended_) {  // the reply's end as the conversation reads it, though the model did not write it
        t.ids.push_back(tok_.end_id());
        t.written.push_back(0);
        t.logprobs.push_back(0);
        out_.finish_reason = "length";
      }
      out_.completion_tokens = static_cast<int>(written_.size());
      out_.text = tok_.decode(written_);
      session_.messages_read += 1;
      session_.last_reply = out_.text;
      if (request_.on_text && out_.text.size() > sent_.size() && !request_.on_text(out_.text.substr(sent_.size())))
        throw CancelledError("embedded model: the reply was not wanted any more");
      return std::move(out_);
    }

   private:
    // Hands on_text what decoding the tokens so far adds; a piece that would end inside a
    // character waits for the next token.
    void send_new_text() {
      const std::string text = tok_.decode(written_);
      if (text.size() <= sent_.size() || text.compare(0, sent_.size(), sent_) != 0) return;
      if (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0) return;
      if (!request_.on_text(text.substr(sent_.size()))) throw CancelledError("embedded model: the reply was not wanted any more");
      sent_ = text;
    }

    const EmbeddedModel& model_;
    const Tokenizer& tok_;
    const CompletionRequest& request_;
    Session& session_;
    Sampling sampling_;
    int64_t limit_;
    std::mt19937_64 rng_;
    bool constrained_;
    const std::vector<std::string>& token_bytes_;
    bool keep_allowed_ = false;
    StepGrammar grammar_;
    std::vector<int> written_;
    std::string sent_;  // the text on_text has had
    bool ended_ = false;
    Completion out_;
  };

  Completion generate(const CompletionRequest& request) const {
    if (!request.response_format.is_null() && !takes_response_format(request.response_format))
      throw ModelError("embedded model: it can keep to one response_format only, the CoTA step's JSON schema");
    if (request.session && !dynamic_cast<Session*>(request.session))
      throw ModelError("embedded model: the request's session is another model's");
    const EmbeddedConfig& c = checkpoint_.config;
    Sampling sampling{request.temperature.value_or(options_.temperature), request.top_p.value_or(options_.top_p)};
    if (sampling.temperature < 0) throw ModelError("embedded model: the temperature must be 0 or more");
    if (sampling.top_p <= 0 || sampling.top_p > 1) throw ModelError("embedded model: top_p must be in (0, 1]");
    Session own(false);
    Session& session = request.session ? *static_cast<Session*>(request.session) : own;
    if (session.record_ && sampling.top_p != 1)
      throw ModelError("embedded model: a recording session samples from the whole distribution (top_p 1)");
    if (session.record_ && session.sampled && sampling.temperature != session.tokens_.temperature)
      throw ModelError("embedded model: a recording session samples every reply at one temperature");
    read_messages(request, session);
    SessionTokens& t = session.tokens_;
    const int64_t T = static_cast<int64_t>(t.ids.size());
    if (T >= c.max_positions)
      throw ContextFullError("embedded model: the conversation is " + std::to_string(T) + " tokens and the model reads at most " +
                             std::to_string(c.max_positions));
    const int max_tokens = request.max_tokens.value_or(options_.max_tokens);
    const int64_t limit = std::min<int64_t>(max_tokens > 0 ? max_tokens : c.max_reply_tokens, c.max_positions - T);
    const int64_t seed = request.seed.value_or(options_.seed);
    size_t assistant_turns = 0;
    for (const auto& m : *request.messages) assistant_turns += m.role == "assistant";
    session.sampled = true;
    t.temperature = sampling.temperature;

    torch::NoGradGuard no_grad;
    // A given seed makes each reply reproducible whatever else runs at the same time.
    ReplyWriter writer(*this, request, session, sampling, limit,
                       seed >= 0 ? static_cast<uint64_t>(seed) ^ hash_bytes(request.task_id) ^ (assistant_turns * 0x9e3779b97f4a7c15ULL)
                                 : std::random_device{}());
    torch::Tensor logits = read_new_tokens(session);
    if (session.group_) {
      session.group_->decode(session.member_, writer, logits);
    } else {
      ActionNetwork net = checkpoint_.network;  // shared: forward() in inference only reads the weights
      while (writer.take(logits))
        logits = net->forward(torch::full({1, 1}, writer.next_token(), torch::kLong), {}, {}, &writer.cache())[0][0];
    }
    return writer.finish();
  }

  // Decodes the replies of a group of sessions together, in rounds: a round starts once every
  // open session of the group has asked for a reply (or closed), and writes all those replies
  // in shared steps (SharedDecoding: one pass of the network per token for all of them),
  // each lane's replies in the sessions' order, until the last has ended. The batches are
  // thus the same on every run, and so are the tokens (a row's sums can depend on its place
  // in a batch). The thread of each lane's first reply steps the lane; the others wait.
  class LockstepGroup {
   public:
    LockstepGroup(size_t members, int lanes, ActionNetwork net)
        : open_(members), lanes_(static_cast<size_t>(lanes)), net_(std::move(net)), asking_(members, nullptr) {}

    void decode(size_t member, ReplyWriter& writer, const torch::Tensor& logits) {
      Entry me{&writer, logits};
      std::unique_lock<std::mutex> lock(mu_);
      asking_[member] = &me;
      ++asked_;
      cv_.notify_all();
      while (!me.done) {
        if (me.lane) {  // this reply's thread steps a lane of the round
          std::vector<Entry*> lane = std::move(*me.lane);
          me.lane.reset();
          lock.unlock();
          try {
            step_lane(lane);
          } catch (...) {  // whatever went wrong, the lane's replies end with it rather than wait forever
            for (Entry* e : lane)
              if (!e->error) e->error = std::current_exception();
          }
          lock.lock();
          for (Entry* e : lane) e->done = true;
          --lanes_running_;
          cv_.notify_all();
          continue;
        }
        if (lanes_running_ == 0 && asked_ > 0 && asked_ == open_) start_round();
        else cv_.wait(lock);
      }
      if (me.error) std::rethrow_exception(me.error);
    }

    // A session closed: the round it was last to ask for may start.
    void leave() {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
      cv_.notify_all();
    }

   private:
    struct Entry {
      ReplyWriter* writer;
      torch::Tensor logits;
      bool done = false;
      std::exception_ptr error;
      std::optional<std::vector<Entry*>> lane;  // set: this thread steps these replies
    };

    // Deals the asking replies, in member order, into lanes of consecutive members and hands
    // each lane to its first reply's thread. Called with the lock held.
    void start_round() {
      std::vector<Entry*> round;
      for (auto& e : asking_)
        if (e) round.push_back(e), e = nullptr;
      asked_ = 0;
      const size_t lanes = std::min(lanes_, round.size());
      lanes_running_ = lanes;
      for (size_t l = 0; l < lanes; ++l) {
        std::vector<Entry*> lane(round.begin() + static_cast<std::ptrdiff_t>(round.size() * l / lanes),
                                 round.begin() + static_cast<std::ptrdiff_t>(round.size() * (l + 1) / lanes));
        lane.front()->lane = std::move(lane);
      }
      cv_.notify_all();
    }

    void step_lane(const std::vector<Entry*>& lane) {
      torch::NoGradGuard no_grad;
      std::vector<ActionNetworkImpl::Cache*> caches;
      for (Entry* e : lane) caches.push_back(&e->writer->cache());
      SharedDecoding decoding(net_, caches);
      std::vector<size_t> going(lane.size());
      for (size_t i = 0; i < going.size(); ++i) going[i] = i;
      while (!going.empty()) {
        std::vector<size_t> stepping;
        for (size_t i : going) {
          bool more = false;
          try {
            more = lane[i]->writer->take(lane[i]->logits);
          } catch (...) {
            lane[i]->error = std::current_exception();
          }
          if (more) stepping.push_back(i);
        }
        if (stepping.empty()) break;
        std::vector<int64_t> tokens;
        for (size_t i : stepping) tokens.push_back(lane[i]->writer->next_token());
        try {
          torch::Tensor logits = decoding.step(tokens, stepping);
          for (size_t j = 0; j < stepping.size(); ++j) lane[stepping[j]]->logits = logits[static_cast<int64_t>(j)];
        } catch (...) {
          for (size_t i : stepping) lane[i]->error = std::current_exception();
          return;
        }
        going = std::move(stepping);
      }
      decoding.finish();
    }

    std::mutex mu_;
    std::condition_variable cv_;
    size_t open_;                  // sessions not closed
    size_t lanes_;
    ActionNetwork net_;
    std::vector<Entry*> asking_;   // by member: the replies waiting for the next round
    size_t asked_ = 0;
    size_t lanes_running_ = 0;     // lanes of the round under way
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

  struct Choice {
    int id;
    double logprob;  // under the distribution it was drawn from (0 for a greedy pick); with `exact_logprob` only
  };

  // The next token among those `allowed` accepts: the most likely one (greedy), or a sample
  // from their renormalized distribution at the temperature, top-p applied to it (top-p 1:
  // sample_whole). With
  // `exact_logprob`, the log-probability of the pick under that distribution, from the
  // log-softmax (so that a rare pick's is exact), and every token allowed is looked at; with
  // `allowed_bits` (a zeroed bitset of the vocabulary) those tokens' bits are set.
  template <typename Allowed>
  Choice choose(const torch::Tensor& logits, std::mt19937_64& rng, const Allowed& allowed, const Sampling& sampling,
                bool exact_logprob, uint64_t* allowed_bits) const {
    const bool greedy = sampling.temperature <= 0;
    if (greedy && !allowed_bits) {
      const int best = static_cast<int>(logits.argmax().item<int64_t>());
      if (allowed(best)) return {best, 0};
    }
    if (!greedy && sampling.top_p >= 1) return sample_whole(logits, rng, allowed, sampling.temperature, allowed_bits);
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
      if (allowed_bits) allowed_bits[id / 64] |= uint64_t{1} << (id % 64);
      if (greedy && !allowed_bits) return {id, 0};
      candidates.emplace_back(p[i], id);
      total += p[i];
    }
    if (candidates.empty()) throw ModelError("embedded model: no token continues the step (the tokenizer lacks byte fallback)");
    if (greedy) return {candidates.front().second, 0};
    double mass = 0;
    size_t keep = 0;
    while (keep < candidates.size() && (keep == 0 || mass < sampling.top_p * total)) mass += candidates[keep++].first;
    double r = std::uniform_real_distribution<double>(0, mass)(rng);
    size_t pick = keep - 1;
    for (size_t i = 0; i < keep; ++i) {
      r -= candidates[i].first;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    const int id = candidates[pick].second;
    if (!exact_logprob) return {id, 0};
    // log p(id) - log(kept mass), each from the log-softmax at the temperature.
    torch::Tensor log_p = torch::log_softmax(logits.to(torch::kDouble) / sampling.temperature, -1);
    const double* lp = log_p.data_ptr<double>();
    double kept_log_mass = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < keep; ++i) {
      const double l = lp[candidates[i].second];
      kept_log_mass = std::max(kept_log_mass, l) + std::log1p(std::exp(-std::abs(kept_log_mass - l)));
    }
    return {id, lp[id] - kept_log_mass};
  }

  // A sample from the whole distribution of the tokens `allowed` accepts (top-p 1, what RL's
  // rollouts draw from): no sort, one pass in double over the vocabulary, and the pick's
  // log-probability under that distribution (renormalized over the allowed tokens) on the way.
  template <typename Allowed>
  Choice sample_whole(const torch::Tensor& logits, std::mt19937_64& rng, const Allowed& allowed, double temperature,
                      uint64_t* allowed_bits) const {
    const torch::Tensor row = logits.contiguous();
    const float* x = row.data_ptr<float>();
    const int64_t n = row.size(0);
    std::vector<double> weight(static_cast<size_t>(n), 0.0);
    double top = -std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i) {
      if (!allowed(static_cast<int>(i))) continue;
      if (allowed_bits) allowed_bits[i / 64] |= uint64_t{1} << (i % 64);
      weight[static_cast<size_t>(i)] = 1;  // allowed; its weight below
      top = std::max(top, static_cast<double>(x[i]));
    }
    if (top == -std::numeric_limits<double>::infinity())
      throw ModelError("embedded model: no token continues the step (the tokenizer lacks byte fallback)");
    double total = 0;
    for (int64_t i = 0; i < n; ++i)
      if (weight[static_cast<size_t>(i)] > 0) total += weight[static_cast<size_t>(i)] = std::exp((x[i] - top) / temperature);
    if (!std::isfinite(total) || !std::isfinite(top)) throw ModelError("embedded model: the network's scores are not finite numbers");
    double r = std::uniform_real_distribution<double>(0, total)(rng);
    int64_t pick = -1;
    for (int64_t i = 0; i < n; ++i) {
      if (weight[static_cast<size_t>(i)] <= 0) continue;
      pick = i;
      if ((r -= weight[static_cast<size_t>(i)]) <= 0) break;
    }
    return {static_cast<int>(pick), (x[pick] - top) / temperature - std::log(total)};
  }

  std::string dir_;
  ModelOptions options_;
  LoadedCheckpoint checkpoint_;
  mutable PreparedImages prepared_images_;
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
    return std::make_unique<EmbeddedModel>(dir, options, load_checkpoint(dir));
  } catch (const c10::Error& e) {
    throw Error(dir + ": " + first_line(e));
  }
}

}  // namespace

std::unique_ptr<Model> make_embedded_model_over(const std::string& dir, const ModelOptions& options, LoadedCheckpoint checkpoint) {
  return std::make_unique<EmbeddedModel>(dir, options, std::move(checkpoint));
}

}  // namespace taco

extern "C" std::unique_ptr<taco::Model> taco_embedded_model(const std::string& dir, const taco::ModelOptions& options) {
  return taco::make_model_in_module(dir, options);
}
