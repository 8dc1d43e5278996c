// The RL policy (torch module): the embedded model's network shared by the model that samples
// rollouts and by GRPO's update, which recomputes each stored token's log-probability the
// way the sampler drew it (temperature, step grammar) and takes PPO's clipped step on it.
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "models/embedded/embedded_model.h"
#include "models/embedded/weights.h"
#include "rl/policy.h"
#include "train/optimizer.h"
#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

NamedTensors parameters_of(ActionNetwork& net) {
  NamedTensors out;
  for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

// One rollout's tensors as the network reads them, and where the policy's tokens are.
struct RolloutTensors {
  torch::Tensor tokens, pixels, slots;
  torch::Tensor predicted_from;  // positions whose logits predict a policy token (its position - 1)
  torch::Tensor targets;         // those tokens
  torch::Tensor sampler_logprobs;
  torch::Tensor disallowed;      // [n, V] true where the step grammar forbade the token; undefined without it
};

RolloutTensors tensors_of(const SessionTokens& t, const EmbeddedConfig& c) {
  RolloutTensors r;
  if (t.written.size() != t.ids.size() || t.logprobs.size() != t.ids.size())
    throw Error("a rollout's tokens, masks and log-probabilities differ in length");
  // Only what leads up to the policy's last token is read: an observation or closing </s> after
  // it can take the sequence past the model's context.
  int64_t T = static_cast<int64_t>(t.ids.size());
  while (T > 0 && !t.written[static_cast<size_t>(T - 1)]) --T;
  if (T > c.max_positions) throw Error("a rollout is longer than the model's context");
  r.tokens = torch::tensor(std::vector<int64_t>(t.ids.begin(), t.ids.begin() + T), torch::kLong).view({1, T});
  size_t kept_images = 0;
  while (kept_images < t.images.size() && t.image_at[kept_images] + c.visual_tokens() <= T) ++kept_images;
  if (kept_images > 0) {
    r.pixels = torch::empty({static_cast<int64_t>(kept_images), c.image_height, c.image_width, 3}, torch::kUInt8);
    std::vector<int64_t> at;
    for (size_t i = 0; i < kept_images; ++i) {
      if (t.images[i]->size() != static_cast<size_t>(c.image_height * c.image_width * 3))
        throw Error("a rollout's image is not of the model's size");
      std::memcpy(r.pixels[static_cast<int64_t>(i)].data_ptr(), t.images[i]->data(), t.images[i]->size());
      for (int k = 0; k < c.visual_tokens(); ++k) at.push_back(t.image_at[i] + k);
    }
    r.slots = torch::tensor(at, torch::kLong);
  }
  std::vector<int64_t> from, targets;
  std::vector<float> logprobs;
  for (int64_t i = 1; i < T; ++i)
    if (t.written[static_cast<size_t>(i)]) {
      from.push_back(i - 1);
      targets.push_back(t.ids[static_cast<size_t>(i)]);
      logprobs.push_back(t.logprobs[static_cast<size_t>(i)]);
    }
  const int64_t n = static_cast<int64_t>(from.size());
  r.predicted_from = torch::tensor(from, torch::kLong);
  r.targets = torch::tensor(targets, torch::kLong);
  r.sampler_logprobs = torch::tensor(logprobs, torch::kFloat);
  if (!t.allowed.empty()) {
    if (t.allowed_words * static_cast<size_t>(n) != t.allowed.size())
      throw Error("a rollout's grammar masks do not match its policy tokens");
    auto allowed = torch::empty({n, c.vocab_size}, torch::kBool);
    auto* a = allowed.data_ptr<bool>();
    for (int64_t j = 0; j < n; ++j)
      for (int64_t id = 0; id < c.vocab_size; ++id)
        a[j * c.vocab_size + id] = (t.allowed[static_cast<size_t>(j) * t.allowed_words + static_cast<size_t>(id / 64)] >> (id % 64)) & 1;
    r.disallowed = allowed.logical_not();
  }
  return r;
}

class EmbeddedPolicy : public Policy {
 public:
  explicit EmbeddedPolicy(const PolicyOptions& o) : options_(o) {
    LoadedCheckpoint start = load_checkpoint(o.start);
    config_ = start.config;
    net_ = start.network;  // the same module the model below samples with
    tokenizer_bytes_ = start.tokenizer.model_bytes();
    if (o.kl > 0) reference_ = load_checkpoint(o.start).network;
    adam_ = std::make_unique<AdamW>(parameters_of(net_));
    adam_->weight_decay = 0;  // RL moves the weights little; decay would pull them off the SFT model for nothing
    model_ = make_embedded_model_over(o.start, o.sampling, std::move(start));
  }

  Model& model() override { return *model_; }

  int64_t parameters() const override {
    int64_t n = 0;
    for (const auto& p : adam_->params) n += p.second.numel();
    return n;
  }

  UpdateReport update(const std::vector<RolloutForUpdate>& rollouts, double lr) override {
    UpdateReport report;
    if (rollouts.empty()) return report;
    set_math_threads(options_.threads);
    struct RestoreThreads {
      ~RestoreThreads() { set_math_threads(1); }  // rollouts decode one thread per episode
    } restore_threads;
    net_->train();
    const size_t shares = std::min<size_t>(static_cast<size_t>(std::max(1, options_.updates_per_step)), rollouts.size());
    double mismatch_sum = 0, entropy_sum = 0, kl_sum = 0, loss_sum = 0, norm_sum = 0;
    int64_t first_tokens = 0, clipped = 0;
    for (size_t share = 0; share < shares; ++share) {
      const size_t begin = rollouts.size() * share / shares, end = rollouts.size() * (share + 1) / shares;
      int64_t share_tokens = 0;
      for (size_t i = begin; i < end; ++i) {
        const SessionTokens& t = *rollouts[i].tokens;
        for (size_t k = 1; k < t.written.size(); ++k) share_tokens += t.written[k];
        report.tokens += static_cast<int64_t>(t.ids.size());
      }
      report.policy_tokens += share_tokens;
      if (share_tokens == 0) continue;
      for (auto& p : adam_->params)
        if (p.second.grad().defined()) p.second.grad().zero_();
      double share_loss = 0;
      for (size_t k = 0; k < end - begin; ++k) {
        const RolloutTensors r = tensors_of(*rollouts[begin + k].tokens, config_);  // one at a time: the grammar masks are large
        if (r.targets.size(0) == 0) continue;
        const double advantage = rollouts[begin + k].advantage;
        torch::Tensor all_logp;
        torch::Tensor logp = token_logprobs(net_, r, share == 0 ? &all_logp : nullptr);
        torch::Tensor delta = logp - r.sampler_logprobs;
        torch::Tensor ratio = delta.exp();
        torch::Tensor clipped_ratio = ratio.clamp(1 - options_.clip_low, 1 + options_.clip_high);
        torch::Tensor per_token = -torch::minimum(ratio * advantage, clipped_ratio * advantage);
        torch::Tensor loss = per_token.sum() / static_cast<double>(share_tokens);
        if (reference_) {
          torch::Tensor ref;
          {
            torch::NoGradGuard no_grad;
            ref = token_logprobs(reference_, r);
          }
          torch::Tensor d = ref - logp;
          torch::Tensor k3 = d.exp() - d - 1;
          loss = loss + options_.kl * k3.sum() / static_cast<double>(share_tokens);
          kl_sum += k3.detach().sum().item<double>();
        }
        loss.backward();
        share_loss += loss.item<double>();
        {
          torch::NoGradGuard no_grad;
          clipped += (advantage > 0 ? ratio.gt(1 + options_.clip_high) : ratio.lt(1 - options_.clip_low)).sum().item<int64_t>();
          if (share == 0) {
            torch::Tensor gap = delta.detach().abs();
            report.max_logprob_mismatch = std::max(report.max_logprob_mismatch, gap.max().item<double>());
            mismatch_sum += gap.sum().item<double>();
            torch::Tensor finite = all_logp.masked_fill(all_logp.isinf(), 0);
            entropy_sum += (-(all_logp.exp() * finite).sum(-1)).sum().item<double>();
            first_tokens += r.targets.size(0);
          }
        }
      }
      norm_sum += torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.max_grad_norm);
      adam_->step(++adam_t_, lr);
      loss_sum += share_loss;
      ++report.updates;
      if (!std::isfinite(share_loss)) throw Error("the RL update diverged (loss " + std::to_string(share_loss) + "); try a lower RlSettings.lr");
    }
    net_->eval();
    if (report.updates == 0) return report;
    report.loss = loss_sum / report.updates;
    report.grad_norm = norm_sum / report.updates;
    report.mean_logprob_mismatch = first_tokens ? mismatch_sum / static_cast<double>(first_tokens) : 0;
    report.clip_fraction = report.policy_tokens ? static_cast<double>(clipped) / static_cast<double>(report.policy_tokens) : 0;
    report.kl = report.policy_tokens ? kl_sum / static_cast<double>(report.policy_tokens) : 0;
    report.entropy = first_tokens ? entropy_sum / static_cast<double>(first_tokens) : 0;
    return report;
  }

  void save(const std::string& state_file, const std::map<std::string, std::string>& metadata, const std::string& out,
            const Json& training) override {
    SafeTensorsFile s;
    s.metadata = metadata;
    s.metadata["adam_t"] = std::to_string(adam_t_);
    s.metadata["rl_policy"] = "embedded";
    add_network_tensors(net_, "model.", "F32", s);
    for (size_t i = 0; i < adam_->params.size(); ++i) {
      s.tensors.push_back(to_safetensor("adam_m." + adam_->params[i].first, adam_->m[i], "F32"));
      s.tensors.push_back(to_safetensor("adam_v." + adam_->params[i].first, adam_->v[i], "F32"));
    }
    // The checkpoint first (the starting model's config with how RL trained it, its tokenizer,
    // the weights), the state last: a state of step N always has the checkpoint of step N
    // beside it, and a kill between the two redoes the step.
    EmbeddedConfig config = config_;
    config.training["rl"] = training;
    const CheckpointPaths paths = checkpoint_files(out);
    write_file_atomic(paths.tokenizer, tokenizer_bytes_);
    write_file_atomic(paths.config, config.to_json().dump(2) + "\n");
    SafeTensorsFile weights;
    weights.metadata["format"] = "pt";
    weights.metadata["step"] = metadata.count("step") ? metadata.at("step") : "0";
    add_network_tensors(net_, "", "F32", weights);
    write_safetensors(paths.weights, weights);
    write_safetensors(state_file, s);
  }

  std::map<std::string, std::string> restore(const std::string& state_file) override {
    SafeTensorsFile s = read_safetensors(state_file);
    if (s.metadata["rl_policy"] != "embedded") throw Error(state_file + ": not the state of an RL run");
    load_network_tensors(net_, s, "model.", state_file, false);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < adam_->params.size(); ++i) {
      const SafeTensor* m = s.find("adam_m." + adam_->params[i].first);
      const SafeTensor* v = s.find("adam_v." + adam_->params[i].first);
      if (!m || !v) throw Error(state_file + ": optimizer state for " + adam_->params[i].first + " is missing");
      const torch::Tensor mt = tensor_from(*m, state_file), vt = tensor_from(*v, state_file);
      if (mt.sizes() != adam_->m[i].sizes() || vt.sizes() != adam_->v[i].sizes())
        throw Error(state_file + ": optimizer state for " + adam_->params[i].first + " has another shape than the model's");
      adam_->m[i].copy_(mt);
      adam_->v[i].copy_(vt);
    }
    try {
      adam_t_ = std::stoll(s.metadata.at("adam_t"));
    } catch (const std::exception&) {
      throw Error(state_file + ": no optimizer step count (adam_t) in its metadata");
    }
    return s.metadata;
  }

 private:
  // The log-probability of each policy token under `net`, as the sampler computed it: the
  // logits at the temperature, the grammar's forbidden tokens left out.
  // With `all`, also the whole distribution at each ([n, V], detached).
  torch::Tensor token_logprobs(ActionNetwork& net, const RolloutTensors& r, torch::Tensor* all = nullptr) const {
    torch::Tensor logits = net->forward(r.tokens, r.pixels, r.slots)[0].index_select(0, r.predicted_from);
    const double temperature = options_.sampling.temperature;
    logits = logits / temperature;
    if (r.disallowed.defined()) logits = logits.masked_fill(r.disallowed, -std::numeric_limits<float>::infinity());
    torch::Tensor log_p = torch::log_softmax(logits, -1);
    if (all) *all = log_p.detach();
    return log_p.gather(1, r.targets.unsqueeze(1)).squeeze(1);
  }

  PolicyOptions options_;
  EmbeddedConfig config_;
  ActionNetwork net_{nullptr}, reference_{nullptr};
  std::string tokenizer_bytes_;
  std::unique_ptr<AdamW> adam_;
  int64_t adam_t_ = 0;
  std::unique_ptr<Model> model_;
};

std::unique_ptr<Policy> make_policy_in_module(const PolicyOptions& options) {
  if (!(options.sampling.temperature > 0)) throw Error("RL samples its rollouts: RlSettings.temperature must be above 0");
  set_math_threads(1);
  try {
    return std::make_unique<EmbeddedPolicy>(options);
  } catch (const c10::Error& e) {
    throw Error(options.start + ": " + first_line(e));
  }
}

}  // namespace
}  // namespace taco

extern "C" taco::PolicyFactory taco_rl_policy_factory() { return &taco::make_policy_in_module; }
