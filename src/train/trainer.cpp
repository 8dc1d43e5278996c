// taco train (torch module): trains the embedded model on LLaVA/Mantis records, resumably.
//
// The run's state (weights and AdamW moments in fp32, the step, tokens and time so far) is one
// file, <out>/train-state.safetensors, replaced atomically at each checkpoint, so a run killed
// at any moment resumes from its last checkpoint. The batches of every step are a function of
// the data, the seed and the step alone, and no step draws random numbers, so a resumed run
// ends with the same weights as one that was never stopped (same threads, same device).
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "cota/prompt.h"
#include "models/embedded/conversation.h"
#include "models/embedded/embedded.h"
#include "models/embedded/weights.h"
#include "train/dataset.h"
#include "train/optimizer.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "util/work_pool.h"

namespace taco {
namespace {

using namespace training;
using Clock = std::chrono::steady_clock;


torch::Tensor batch_loss(ActionNetwork& net, const Batch& b) {
  torch::Tensor logits = net->forward(b.tokens, b.pixels, b.slots);
  torch::Tensor per_token = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), b.targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  torch::Tensor m = b.mask.reshape({-1});
  return (per_token * m).sum() / m.sum().clamp_min(1);
}

double validation_loss(ActionNetwork& net, const Dataset& val, int visual_tokens, int pad_id, int64_t batch_tokens,
                       torch::Device device) {
  if (val.examples.empty()) return -1;
  torch::NoGradGuard no_grad;
  net->eval();
  double sum = 0, count = 0;
  for (const auto& members : epoch_batches(val, 0, 0, batch_tokens)) {
    Batch b = make_batch(val, members, visual_tokens, pad_id, device);
    const double n = b.mask.sum().item<double>();
    sum += batch_loss(net, b).item<double>() * n;
    count += n;
  }
  net->train();
  return count > 0 ? sum / count : -1;
}

std::string state_path(const std::string& out) { return out + "/train-state.safetensors"; }

// The hash that ties a checkpoint folder to its run: data, template and every setting that
// changes the weights.
// What makes two runs the same run. `with_length` false leaves out how long it trains (steps,
// epochs): the key a longer run of the same settings shares, to extend a finished one.
std::string run_key(const TrainOptions& o, const std::vector<std::string>& data_hashes, const std::vector<std::string>& val_hashes,
                    const std::string& template_hash, const std::string& device, bool with_length = true) {
  Json j{{"data", data_hashes}, {"val", val_hashes}, {"template", template_hash}, {"size", o.size},
         {"steps", o.steps}, {"epochs", o.epochs}, {"batch_tokens", o.batch_tokens}, {"lr", o.lr},
         {"vocab_size", o.vocab_size}, {"seed", o.seed}, {"threads", o.threads}, {"device", device},
         {"image_folder", o.image_folder}};
  // Named only for rotary, so that runs begun before the choice existed (all learned) still
  // resume, with --positions learned.
  if (o.positions != "learned") j["positions"] = o.positions;
  if (!with_length) {
    j.erase("steps");
    j.erase("epochs");
  }
  return sha256_hex(j.dump());
}

// The step model.safetensors in `out` was saved at (its metadata); -1 when there is no such
// file or it cannot be read.
int64_t model_step(const std::string& out) {
  try {
    SafeTensorsFile f = read_safetensors(checkpoint_files(out).weights);
    return std::stoll(f.metadata.at("step"));
  } catch (const std::exception&) {
    return -1;
  }
}

void save_model(const std::string& out, ActionNetwork& net, const std::string& dtype, int64_t step) {
  SafeTensorsFile f;
  f.metadata["format"] = "pt";  // what Python's safetensors writes for torch tensors
  f.metadata["step"] = std::to_string(step);
  add_network_tensors(net, "", dtype, f);
  write_safetensors(checkpoint_files(out).weights, f);
}

// Refuses settings no run can use, naming the setting.
void check_options(const TrainOptions& o) {
  if (o.data.empty()) throw Error("no training data (TrainOptions.data FILE)");
  if (o.out.empty()) throw Error("no output folder (TrainOptions.out DIR)");
  if (o.steps < 0 || o.epochs < 0 || (o.steps > 0 && o.epochs > 0)) throw Error("give TrainOptions.steps N or TrainOptions.epochs E, not both");
  if (o.batch_tokens < 64) throw Error("TrainOptions.batch_tokens must be at least 64");
  if (o.checkpoint_every < 1) throw Error("TrainOptions.checkpoint_every must be at least 1");
  if (o.threads < 1) throw Error("TrainOptions.threads must be at least 1");
  if (o.weights_dtype != "F32" && o.weights_dtype != "F16" && o.weights_dtype != "BF16")
    throw Error("TrainOptions.weights_dtype must be F32, F16 or BF16");
  if (o.positions != "learned" && o.positions != "rotary") throw Error("TrainOptions.positions must be learned or rotary");
}

torch::Device training_device(const std::string& asked) {
  if (asked == "cuda" || (asked == "auto" && torch::cuda::is_available())) {
    if (!torch::cuda::is_available()) throw Error("TrainOptions.device cuda: this libtorch has no CUDA, or no GPU is visible");
    return torch::Device(torch::kCUDA);
  }
  if (asked != "cpu" && asked != "auto") throw Error("TrainOptions.device must be cpu, cuda or auto");
  return torch::Device(torch::kCPU);
}

// The training and validation records, with the files' hashes (what ties a run to its data).
struct Inputs {
  TrainingData data, val;
  std::vector<std::string> data_hashes, val_hashes;
};

Inputs read_inputs(const TrainOptions& o) {
  Inputs in;
  for (const auto& f : o.data) {
    read_training_records(f, o.image_folder, in.data);
    in.data_hashes.push_back(sha256_file(f));
  }
  for (const auto& f : o.val) {
    read_training_records(f, o.image_folder, in.val);
    in.val_hashes.push_back(sha256_file(f));
  }
  if (in.data.skipped)
    std::fprintf(stderr, "train: skipped %zu records that cannot be read (first: %s)\n", in.data.skipped,
                 in.data.first_skip_reason.c_str());
  if (in.data.conversations.empty()) throw Error("no usable training records in the TrainOptions.data files");
  return in;
}

// The tokenizer's bytes: trained once (and written), then read back by every resumed run.
std::string tokenizer_for(const TrainOptions& o, const TrainingData& data, const EmbeddedConfig& config, int default_vocab,
                          bool resuming) {
  const std::string file = checkpoint_files(o.out).tokenizer;
  if (resuming) return read_file(file);
  std::string bytes = Tokenizer::train(tokenizer_texts(data, 20000), o.vocab_size > 0 ? o.vocab_size : default_vocab,
                                       protocol_strings(config.prompt_template));
  write_file_atomic(file, bytes);
  return bytes;
}

// The run's length in steps: TrainOptions.steps, or whole (and a part of an) epochs.
int64_t total_steps_for(const TrainOptions& o, const Dataset& train_set, double epochs) {
  if (o.steps > 0) return o.steps;
  int64_t total = 0;
  const int64_t whole = static_cast<int64_t>(std::floor(epochs));
  for (int64_t e = 0; e < whole; ++e) total += static_cast<int64_t>(epoch_batches(train_set, o.seed, e, o.batch_tokens).size());
  const double part = epochs - static_cast<double>(whole);
  if (part > 0)
    total += static_cast<int64_t>(std::ceil(part * static_cast<double>(epoch_batches(train_set, o.seed, whole, o.batch_tokens).size())));
  return total;
}

// Where a resumed run stands: the network's and the optimizer's tensors read back from `state`.
struct RunPosition {
  int64_t step = 0, tokens = 0;
  double seconds = 0;
};

// Where the run in `state` stands, from its metadata.
RunPosition position_of(const SafeTensorsFile& state, const std::string& state_file) {
  auto meta = [&](const char* key) -> const std::string& {
    auto it = state.metadata.find(key);
    if (it == state.metadata.end()) throw Error(state_file + ": no \"" + std::string(key) + "\" in its metadata");
    return it->second;
  };
  return {std::stoll(meta("step")), std::stoll(meta("tokens")), std::stod(meta("seconds"))};
}

RunPosition restore(ActionNetwork& net, AdamW& adam, const SafeTensorsFile& state, const std::string& state_file) {
  load_network_tensors(net, state, "model.", state_file, false);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < adam.params.size(); ++i) {
    const SafeTensor* m = state.find("adam_m." + adam.params[i].first);
    const SafeTensor* v = state.find("adam_v." + adam.params[i].first);
    if (!m || !v) throw Error(state_file + ": optimizer state for " + adam.params[i].first + " is missing");
    adam.m[i].copy_(tensor_from(*m, state_file));
    adam.v[i].copy_(tensor_from(*v, state_file));
  }
  return position_of(state, state_file);
}

// The keys a run is known by: the whole one, and the one without its length (run_key).
struct RunKeys {
  std::string run, base;
  // The key of these settings with TrainOptions.steps = `step`: how a state written before
  // "run_base" is known as the same run.
  std::function<std::string(int64_t step)> with_steps;
};

// The state file of `o.out` when it holds this run to resume (`resuming`), else an empty one
// after checking that the folder holds no other run's checkpoint. `longer` is set when it holds
// the same run asked to train longer (extend_run decides once the length is known).
SafeTensorsFile open_run(const TrainOptions& o, const RunKeys& keys, bool& resuming, bool& longer) {
  const std::string state_file = state_path(o.out);
  std::error_code ec;
  resuming = std::filesystem::exists(state_file, ec);
  longer = false;
  if (!resuming && std::filesystem::exists(checkpoint_files(o.out).config, ec))
    throw Error(o.out + " already holds a checkpoint that is not a run to resume (no train-state.safetensors); use another TrainOptions.out");
  if (!resuming) return SafeTensorsFile();
  SafeTensorsFile state = read_safetensors(state_file);
  if (state.metadata["run"] == keys.run) return state;
  auto base = state.metadata.find("run_base");
  longer = base != state.metadata.end() ? base->second == keys.base
                                        : state.metadata["run"] == keys.with_steps(position_of(state, state_file).step);
  if (!longer)
    throw Error(o.out + " holds a training run with other data or settings; use another TrainOptions.out, or delete " + o.out +
                " to start over");
  return state;
}

// The step the learning-rate schedule starts from: 0, or where a finished run was extended.
int64_t schedule_start(const SafeTensorsFile& state) {
  auto it = state.metadata.find("schedule_from");
  return it == state.metadata.end() ? 0 : std::stoll(it->second);
}

// A finished run asked to train `total_steps` in all: the step it finished at, from which a new
// schedule runs. Throws Error when the run has not finished (it finishes with its own settings
// first) or would not get longer.
int64_t extend_run(const TrainOptions& o, const SafeTensorsFile& state, int64_t total_steps) {
  const RunPosition at = position_of(state, state_path(o.out));
  auto it = state.metadata.find("total_steps");
  const int64_t planned = it != state.metadata.end() ? std::stoll(it->second) : at.step;
  if (at.step < planned)
    throw Error(o.out + " holds this run unfinished (step " + std::to_string(at.step) + " of " + std::to_string(planned) +
                "): finish it with the settings it began with, then ask for more steps");
  if (total_steps <= planned)
    throw Error(o.out + " holds this run finished at step " + std::to_string(planned) + "; to extend it ask for more (TrainOptions.steps)");
  return planned;
}

// The records as the network reads them: token ids, and the images' pixels shared by both sets.
struct PreparedData {
  Dataset train, val;
  std::vector<std::string> image_paths;  // each distinct file once: the rows of the pixels
};

PreparedData prepare_data(const Inputs& inputs, const Tokenizer& tok, const EmbeddedConfig& config) {
  std::map<std::string, int32_t> image_rows;
  std::vector<std::string> image_paths;
  PreparedData d{prepare(inputs.data, tok, config, image_rows, image_paths), prepare(inputs.val, tok, config, image_rows, image_paths), {}};
  if (d.train.examples.empty()) throw Error("every training record is longer than the model's context of " +
                                            std::to_string(config.max_positions) + " tokens");
  if (d.train.too_long)
    std::fprintf(stderr, "train: left out %zu records longer than %d tokens\n", d.train.too_long, config.max_positions);
  d.image_paths = std::move(image_paths);
  return d;
}

// Decodes the images both sets read (the slow part of starting a run: done only when it trains).
void load_pixels(PreparedData& d, const EmbeddedConfig& config, bool quiet) {
  torch::Tensor pixels = load_images(d.image_paths, config, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), quiet);
  d.train.pixels = pixels;
  d.val.pixels = pixels;
}

// A run's network and optimizer, where it stands, and the two things a checkpoint writes: the
// run's state (weights and AdamW moments in fp32, to resume from) and the user's checkpoint
// (config.json and model.safetensors).
struct RunState {
  RunState(const EmbeddedConfig& config, torch::Device device) : net(on_device(config, device)), adam(parameters(net)) {}

  int64_t parameters() const {
    return std::accumulate(adam.params.begin(), adam.params.end(), int64_t{0}, [](int64_t n, const auto& p) { return n + p.second.numel(); });
  }

  // The user's checkpoint: always complete, the weights written last.
  void write_model(const std::string& out, EmbeddedConfig& config, double seconds, const std::string& dtype) {
    config.training["steps_done"] = step;
    config.training["tokens"] = tokens;
    config.training["seconds"] = std::round(seconds * 10) / 10;
    write_file_atomic(checkpoint_files(out).config, config.to_json().dump(2) + "\n");
    save_model(out, net, dtype, step);
  }

  // The state first, then the model (the final one in the dtype asked for).
  void checkpoint(const TrainOptions& o, const std::string& key, EmbeddedConfig& config, double seconds, bool final_one) {
    SafeTensorsFile s;
    s.metadata = {{"run", key},
                  {"run_base", base_key},
                  {"step", std::to_string(step)},
                  {"total_steps", std::to_string(total_steps)},
                  {"schedule_from", std::to_string(schedule_from)},
                  {"tokens", std::to_string(tokens)},
                  {"seconds", std::to_string(seconds)}};
    add_network_tensors(net, "model.", "F32", s);
    for (size_t i = 0; i < adam.params.size(); ++i) {
      s.tensors.push_back(to_safetensor("adam_m." + adam.params[i].first, adam.m[i], "F32"));
      s.tensors.push_back(to_safetensor("adam_v." + adam.params[i].first, adam.v[i], "F32"));
    }
    write_safetensors(state_path(o.out), s);
    write_model(o.out, config, seconds, final_one ? o.weights_dtype : "F32");
  }

  // One optimizer step on `b` at learning rate `lr`; returns its loss.
  double step_on(const Batch& b, double lr) {
    torch::Tensor loss = batch_loss(net, b);
    for (auto& p : adam.params)
      if (p.second.grad().defined()) p.second.grad().zero_();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    adam.step(step + 1, lr);
    const double l = loss.item<double>();
    if (!std::isfinite(l)) throw Error("training diverged at step " + std::to_string(step + 1) + " (loss " + std::to_string(l) +
                                       "); try a lower TrainOptions.lr");
    ++step;
    tokens += b.tokens_read;
    return l;
  }

  ActionNetwork net;
  AdamW adam;
  int64_t step = 0, tokens = 0;
  double seconds_before = 0;  // the time the run took before this process resumed it
  std::string base_key;       // run_key without the length: written so a longer run may extend this one
  int64_t total_steps = 0;    // the steps this run trains in all
  int64_t schedule_from = 0;  // the learning-rate schedule's first step (where an extension began)

 private:
  static NamedTensors parameters(ActionNetwork& net) {
    NamedTensors out;
    for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }
  static ActionNetwork on_device(const EmbeddedConfig& config, torch::Device device) {
    ActionNetwork net(config);
    net->to(device);
    return net;
  }
};

// The batch of step s: the epochs' batch lists laid end to end.
class StepBatches {
 public:
  StepBatches(const Dataset& d, uint64_t seed, int64_t batch_tokens) : d_(d), seed_(seed), batch_tokens_(batch_tokens) {}
  const std::vector<int32_t>& at(int64_t s) {
    while (epoch_ < 0 || s - first_step_ >= static_cast<int64_t>(batches_.size())) {
      if (epoch_ >= 0) first_step_ += static_cast<int64_t>(batches_.size());
      batches_ = epoch_batches(d_, seed_, ++epoch_, batch_tokens_);
    }
    return batches_[s - first_step_];
  }

 private:
  const Dataset& d_;
  uint64_t seed_;
  int64_t batch_tokens_;
  int64_t epoch_ = -1, first_step_ = 0;
  std::vector<std::vector<int32_t>> batches_;
};

// The progress lines: the mean loss and the token rate since the last line, every 10 s, at
// the last step, and at a checkpoint at least 1 s after the last line.
class ProgressLines {
 public:
  explicit ProgressLines(bool quiet) : quiet_(quiet) {}
  void add(double loss, int64_t tokens) {
    loss_sum_ += loss, ++loss_count_;
    tokens_ += tokens;
  }
  void maybe_print(int64_t step, int64_t total_steps, bool at_checkpoint, double val_loss) {
    const double window = std::chrono::duration<double>(Clock::now() - last_).count();
    if (quiet_ || !(window >= 10 || step == total_steps || (at_checkpoint && window >= 1))) return;
    const double rate = static_cast<double>(tokens_) / std::max(1e-9, window);
    const std::string eta = format_duration(static_cast<double>(total_steps - step) * window / static_cast<double>(loss_count_));
    std::fprintf(stderr, "train: step %lld/%lld  loss %.4f%s  %.0f tok/s  ETA %s%s\n", static_cast<long long>(step),
                 static_cast<long long>(total_steps), loss_sum_ / static_cast<double>(loss_count_),
                 val_loss >= 0 && at_checkpoint ? (" (val " + std::to_string(val_loss).substr(0, 6) + ")").c_str() : "", rate,
                 eta.c_str(), at_checkpoint ? "  [checkpoint]" : "");
    last_ = Clock::now();
    loss_sum_ = 0, loss_count_ = 0, tokens_ = 0;
  }

 private:
  bool quiet_;
  Clock::time_point last_ = Clock::now();
  double loss_sum_ = 0;
  int64_t loss_count_ = 0, tokens_ = 0;
};

TrainSummary summary_of(const RunState& run, double loss, double val_loss, double seconds) {
  TrainSummary summary;
  summary.steps = run.step;
  summary.tokens = run.tokens;
  summary.seconds = seconds;
  summary.final_loss = loss;
  summary.val_loss = val_loss;
  return summary;
}

// A rerun of a finished run. The state is written before the model: a kill between the two
// leaves a finished state beside no model, or an earlier checkpoint's; the state's weights make
// it again.
TrainSummary finish_done_run(const TrainOptions& o, RunState& run, EmbeddedConfig& config, const Dataset& val, const Tokenizer& tok,
                             torch::Device device) {
  TrainSummary summary = summary_of(run, 0, -1, run.seconds_before);
  summary.already_done = true;
  if (model_step(o.out) == run.step) return summary;
  if (!val.examples.empty())
    config.training["val_loss"] = validation_loss(run.net, val, config.visual_tokens(), tok.end_id(), o.batch_tokens, device);
  run.write_model(o.out, config, run.seconds_before, o.weights_dtype);
  summary.model_rewritten = true;
  if (!o.quiet)
    std::fprintf(stderr, "train: the run had finished but its model.safetensors was missing or older; written from the final state\n");
  return summary;
}

// What config.json records of how the model was trained.
Json training_record(const TrainOptions& o, const Inputs& inputs, const PreparedData& d, const std::string& template_hash,
                     int64_t total_steps, double epochs, double peak_lr, const std::string& device_name, int64_t schedule_from) {
  Json t{{"data", o.data}, {"data_sha256", inputs.data_hashes}, {"val", o.val}, {"val_sha256", inputs.val_hashes},
         {"records", d.train.examples.size()}, {"records_skipped", inputs.data.skipped + d.train.too_long},
         {"images", d.image_paths.size()}, {"prompt_template_sha256", template_hash},
         {"steps", total_steps}, {"epochs", epochs}, {"batch_tokens", o.batch_tokens}, {"lr", peak_lr},
         {"seed", o.seed}, {"threads", o.threads}, {"device", device_name}};
  if (schedule_from > 0)
    t["extended"] = Json{{"from_step", schedule_from}, {"lr", peak_lr},
                         {"schedule", "warmup and cosine over steps " + std::to_string(schedule_from) + "-" + std::to_string(total_steps)}};
  return t;
}

TrainSummary done_summary(const RunPosition& done) {
  TrainSummary summary;
  summary.steps = done.step;
  summary.tokens = done.tokens;
  summary.seconds = done.seconds;
  summary.already_done = true;
  return summary;
}

void print_start(const TrainOptions& o, const PreparedData& d, const RunState& run, torch::Device device, bool longer, bool resuming) {
  std::fprintf(stderr, "train: %zu records (%lld tokens, %zu images), %s model of %lld parameters, %lld steps on %s%s\n",
               d.train.examples.size(), static_cast<long long>(d.train.tokens), d.image_paths.size(), o.size.c_str(),
               static_cast<long long>(run.parameters()), static_cast<long long>(run.total_steps), device.is_cuda() ? "cuda" : "cpu",
               longer     ? (", extending the finished run from step " + std::to_string(run.step) + " with a new schedule").c_str()
               : resuming ? (", resuming at step " + std::to_string(run.step)).c_str()
                          : "");
}

TrainSummary train(const TrainOptions& o) {
  check_options(o);
  EmbeddedConfig config = EmbeddedConfig::preset(o.size);
  config.positions = o.positions;
  const TrainingDefaults defaults = training_defaults(o.size);
  const double peak_lr = o.lr > 0 ? o.lr : defaults.lr;

  const torch::Device device = training_device(o.device);
  set_math_threads(o.threads);

  const PromptTemplate prompts = o.prompt_template.empty() ? PromptTemplate::defaults() : PromptTemplate::from_file(o.prompt_template);
  config.prompt_template = prompts.to_json();

  const Inputs inputs = read_inputs(o);
  const std::string device_name = device.is_cuda() ? "cuda" : "cpu";
  const RunKeys keys{run_key(o, inputs.data_hashes, inputs.val_hashes, prompts.hash(), device_name),
                     run_key(o, inputs.data_hashes, inputs.val_hashes, prompts.hash(), device_name, false), [&](int64_t step) {
                       TrainOptions same = o;
                       same.epochs = 0;
                       same.steps = step;
                       return run_key(same, inputs.data_hashes, inputs.val_hashes, prompts.hash(), device_name);
                     }};
  const std::string& key = keys.run;
  make_dirs(o.out);
  bool resuming = false, longer = false;
  SafeTensorsFile state = open_run(o, keys, resuming, longer);

  const Tokenizer tok =
      Tokenizer::from_bytes(tokenizer_for(o, inputs.data, config, defaults.vocab, resuming), checkpoint_files(o.out).tokenizer);
  config.vocab_size = tok.vocab_size();
  PreparedData d = prepare_data(inputs, tok, config);

  const double epochs = o.steps > 0 ? 0 : (o.epochs > 0 ? o.epochs : 1.0);
  const int64_t total_steps = total_steps_for(o, d.train, epochs);
  // A finished run asked for more steps: a new schedule (warmup and cosine) from its last step.
  const int64_t schedule_from = longer ? extend_run(o, state, total_steps) : resuming ? schedule_start(state) : 0;
  config.training = training_record(o, inputs, d, prompts.hash(), total_steps, epochs, peak_lr, device_name, schedule_from);

  // A finished run whose model is written is told so before any image is decoded.
  if (resuming) {
    const RunPosition done = position_of(state, state_path(o.out));
    if (done.step >= total_steps && model_step(o.out) == done.step) return done_summary(done);
  }
  load_pixels(d, config, o.quiet);

  torch::manual_seed(o.seed);
  RunState run(config, device);
  run.base_key = keys.base;
  run.total_steps = total_steps;
  run.schedule_from = schedule_from;
  if (resuming) {
    const RunPosition done = restore(run.net, run.adam, state, state_path(o.out));
    run.step = done.step;
    run.tokens = done.tokens;
    run.seconds_before = done.seconds;
  }
  state = SafeTensorsFile();

  const int visual_tokens = config.visual_tokens();
  if (resuming && run.step >= total_steps) return finish_done_run(o, run, config, d.val, tok, device);
  if (!o.quiet) print_start(o, d, run, device, longer, resuming);

  run.net->train();
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  StepBatches batches(d.train, o.seed, o.batch_tokens);
  ProgressLines progress(o.quiet);
  std::vector<double> recent_losses;  // the last 10 steps' losses: the summary's final loss
  double val_loss = -1;
  while (run.step < total_steps) {
    Batch b = make_batch(d.train, batches.at(run.step), visual_tokens, tok.end_id(), device);
    const double l = run.step_on(b, learning_rate(peak_lr, run.step - schedule_from, total_steps - schedule_from));
    progress.add(l, b.tokens_read);
    recent_losses.push_back(l);
    if (recent_losses.size() > 10) recent_losses.erase(recent_losses.begin());
    const bool at_checkpoint = run.step % o.checkpoint_every == 0 || run.step == total_steps;
    if (at_checkpoint) {
      if (run.step == total_steps || !d.val.examples.empty())
        val_loss = validation_loss(run.net, d.val, visual_tokens, tok.end_id(), o.batch_tokens, device);
      if (val_loss >= 0) config.training["val_loss"] = val_loss;
      run.checkpoint(o, key, config, run.seconds_before + elapsed(), run.step == total_steps);
    }
    progress.maybe_print(run.step, total_steps, at_checkpoint, val_loss);
  }
  return summary_of(run, std::accumulate(recent_losses.begin(), recent_losses.end(), 0.0) / static_cast<double>(recent_losses.size()),
                    val_loss, run.seconds_before + elapsed());
}

}  // namespace
}  // namespace taco

extern "C" taco::TrainSummary taco_train_embedded(const taco::TrainOptions& options) {
  try {
    return taco::train(options);
  } catch (const c10::Error& e) {
    throw taco::Error("training failed: " + taco::first_line(e));
  }
}
