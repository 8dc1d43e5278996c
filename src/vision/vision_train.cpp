// taco train-vision (torch module): trains the detector or the depth model on synth worlds,
// resumably. As taco train does: the run's state (weights, batch norm statistics, AdamW moments,
// step, time) is one file replaced atomically at each checkpoint; the batches of a step are a
// function of the data, the seed and the step alone, so a run killed at any moment and resumed
// ends with the weights of one never stopped (same threads).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>

#include "eval/vision_metrics.h"
#include "tools/vision_backend.h"
#include "train/optimizer.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"
#include "util/progress.h"
#include "util/sha256.h"
#include "vision/vision_heads.h"
#include "vision/vision_model.h"
#include "vision/vision_net.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

void check_options(const VisionTrainOptions& o) {
  vision_task_from_string(o.task);
  if (o.data.empty()) throw Error("no training worlds (VisionTrainOptions.data WORLD)");
  if (o.out.empty()) throw Error("no output folder (VisionTrainOptions.out DIR)");
  if (o.steps < 0 || o.epochs < 0 || (o.steps > 0 && o.epochs > 0))
    throw Error("give VisionTrainOptions.steps N or VisionTrainOptions.epochs E, not both");
  if (o.batch < 1 || o.batch > 1024) throw Error("VisionTrainOptions.batch must be 1 to 1024");
  if (!(o.lr > 0) || o.lr > 1) throw Error("VisionTrainOptions.lr must be above 0 and at most 1");
  if (o.threads < 1) throw Error("VisionTrainOptions.threads must be at least 1");
  if (o.checkpoint_every < 1) throw Error("VisionTrainOptions.checkpoint_every must be at least 1");
}

std::string state_path(const std::string& out) { return out + "/train-state.safetensors"; }

// The images of step `s`: each epoch a permutation drawn from (seed, epoch), laid end to end.
std::vector<size_t> step_members(size_t n, uint64_t seed, int64_t step, int batch) {
  std::vector<size_t> out;
  int64_t first = step * batch;
  for (int k = 0; k < batch; ++k) {
    const int64_t i = first + k;
    const int64_t epoch = i / static_cast<int64_t>(n), at = i % static_cast<int64_t>(n);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    out.push_back(order[static_cast<size_t>(at)]);
  }
  return out;
}

torch::Tensor pixels_of(const std::vector<const VisionExample*>& batch, const VisionModelConfig& c) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(batch.size()), c.input_height, c.input_width, 3}, torch::kUInt8);
  for (size_t i = 0; i < batch.size(); ++i)
    std::memcpy(t[static_cast<int64_t>(i)].data_ptr<uint8_t>(), batch[i]->rgb.data(), batch[i]->rgb.size());
  return t.permute({0, 3, 1, 2}).contiguous();
}

torch::Tensor loss_of(VisionNet& net, const std::vector<const VisionExample*>& batch, const VisionModelConfig& c) {
  const torch::Tensor out = net->forward(pixels_of(batch, c));
  return c.task == VisionTask::kDepth ? depth_loss(out, batch, c) : detector_loss(out, batch, c);
}

// The map the depth tools see: inverse depth turned into "smaller is closer" as for the oracle.
DepthMap tools_depth(const std::vector<float>& inverse, int width, int height) {
  NpyArray a;
  a.shape = {static_cast<size_t>(height), static_cast<size_t>(width)};
  a.values = inverse;
  return depth_from_inverse(a, "depth");
}

// The detector's threshold: the score (in steps of 0.05) at which the validation world's images
// show the fewest missed objects and false boxes together (a count is right when both are
// zero), and its metrics there.
Json detector_validation(VisionNet& net, const std::vector<VisionExample>& val, VisionModelConfig& c) {
  std::vector<std::vector<SceneObject>> found;
  for (const auto& e : val) {
    const torch::Tensor out = net->forward(pixels_of({&e}, c));
    found.push_back(decode_objects(out[0], c, e.scene.width, e.scene.height, 0.05));
  }
  Json chosen;
  double fewest = std::numeric_limits<double>::infinity();
  for (int step = 2; step <= 19; ++step) {
    const double threshold = step / 20.0;
    DetectionTally tally;
    for (size_t i = 0; i < val.size(); ++i) tally.add(val[i].scene, found[i], threshold);
    if (tally.wrong_per_image() < fewest) {
      fewest = tally.wrong_per_image();
      chosen = tally.report();
      c.score_threshold = threshold;
    }
  }
  chosen["score_threshold"] = c.score_threshold;
  return chosen;
}

Json depth_validation(VisionNet& net, const std::vector<VisionExample>& val, const VisionModelConfig& c) {
  DepthTally tally;
  for (const auto& e : val) {
    const torch::Tensor out = net->forward(pixels_of({&e}, c));
    const DepthMap got = tools_depth(decode_inverse_depth(out[0], c), static_cast<int>(out.size(3)), static_cast<int>(out.size(2)));
    tally.add(e.scene, depth_from_inverse(read_npy(e.scene.depth_path), e.scene.depth_path), got);
  }
  return tally.report();
}

Json validation(VisionNet& net, const std::vector<VisionExample>& val, VisionModelConfig& c) {
  if (val.empty()) return Json();
  torch::NoGradGuard no_grad;
  net->eval();
  Json j = c.task == VisionTask::kDepth ? depth_validation(net, val, c) : detector_validation(net, val, c);
  net->train();
  return j;
}

struct Run {
  Run(const VisionModelConfig& c) : net(c), adam(params(net)) {}
  static NamedTensors params(VisionNet& net) {
    NamedTensors out;
    for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }
  VisionNet net;
  AdamW adam;
  int64_t step = 0;
  double seconds_before = 0;
};

void write_model(const std::string& out, VisionNet& net, VisionModelConfig& c, int64_t step) {
  write_file_atomic(out + "/config.json", c.to_json().dump(2) + "\n");
  SafeTensorsFile f;
  f.metadata = {{"format", "pt"}, {"step", std::to_string(step)}};
  add_named_tensors(vision_tensors(net), "", "F32", f);
  write_safetensors(out + "/model.safetensors", f);
}

void write_state(const std::string& out, Run& run, const std::string& key, int64_t total, double seconds) {
  SafeTensorsFile s;
  s.metadata = {{"run", key}, {"step", std::to_string(run.step)}, {"total_steps", std::to_string(total)}, {"seconds", std::to_string(seconds)}};
  add_named_tensors(vision_tensors(run.net), "model.", "F32", s);
  for (size_t i = 0; i < run.adam.params.size(); ++i) {
    s.tensors.push_back(to_safetensor("adam_m." + run.adam.params[i].first, run.adam.m[i], "F32"));
    s.tensors.push_back(to_safetensor("adam_v." + run.adam.params[i].first, run.adam.v[i], "F32"));
  }
  write_safetensors(state_path(out), s);
}

// Reads the state of this run back into `run`; false when the folder holds no run.
bool resume(const VisionTrainOptions& o, const std::string& key, Run& run) {
  std::error_code ec;
  const std::string file = state_path(o.out);
  if (!std::filesystem::exists(file, ec)) {
    if (std::filesystem::exists(o.out + "/config.json", ec))
      throw Error(o.out + " already holds a checkpoint that is not a run to resume (no train-state.safetensors); use another VisionTrainOptions.out");
    return false;
  }
  const SafeTensorsFile s = read_safetensors(file);
  auto meta = [&](const char* k) {
    auto it = s.metadata.find(k);
    if (it == s.metadata.end()) throw Error(file + ": no \"" + std::string(k) + "\" in its metadata");
    return it->second;
  };
  if (meta("run") != key)
    throw Error(o.out + " holds a training run with other worlds or settings; use another VisionTrainOptions.out, or delete " + o.out +
                " to start over");
  load_named_tensors(vision_tensors(run.net), s, "model.", file, false);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < run.adam.params.size(); ++i) {
    const SafeTensor* m = s.find("adam_m." + run.adam.params[i].first);
    const SafeTensor* v = s.find("adam_v." + run.adam.params[i].first);
    if (!m || !v) throw Error(file + ": optimizer state for " + run.adam.params[i].first + " is missing");
    run.adam.m[i].copy_(tensor_from(*m, file));
    run.adam.v[i].copy_(tensor_from(*v, file));
  }
  run.step = std::stoll(meta("step"));
  run.seconds_before = std::stod(meta("seconds"));
  return true;
}

std::string run_key(const VisionTrainOptions& o, const VisionWorld& data, const VisionWorld& val) {
  const Json j{{"task", o.task}, {"size", o.size}, {"data", data.hashes}, {"val", val.hashes}, {"steps", o.steps}, {"epochs", o.epochs},
               {"batch", o.batch}, {"lr", o.lr}, {"seed", o.seed}, {"threads", o.threads}};
  return sha256_hex(j.dump());
}

VisionTrainSummary train(const VisionTrainOptions& o) {
  check_options(o);
  VisionModelConfig config = VisionModelConfig::preset(vision_task_from_string(o.task), o.size);
  set_math_threads(o.threads);
  const VisionWorld data = read_vision_worlds(o.data, config, std::max(2, o.threads));
  const VisionWorld val = o.val.empty() ? VisionWorld() : read_vision_worlds(o.val, config, std::max(2, o.threads));
  if (data.objects_skipped && !o.quiet)
    std::fprintf(stderr, "train-vision: %zu objects of unknown category or attributes left out\n", data.objects_skipped);
  const std::string key = run_key(o, data, val);
  const int64_t n = static_cast<int64_t>(data.examples.size());
  const int64_t total = o.steps > 0 ? o.steps : static_cast<int64_t>(std::ceil((o.epochs > 0 ? o.epochs : 1.0) * static_cast<double>(n) / o.batch));

  make_dirs(o.out);
  torch::manual_seed(o.seed);
  Run run(config);
  const bool resumed = resume(o, key, run);
  config.training = Json{{"data", data.sources}, {"data_sha256", data.hashes}, {"val", val.sources}, {"val_sha256", val.hashes},
                         {"images", n}, {"steps", total}, {"batch", o.batch}, {"lr", o.lr}, {"seed", o.seed}, {"threads", o.threads}};
  VisionTrainSummary summary;
  if (resumed && run.step >= total) {
    summary.steps = run.step;
    summary.seconds = run.seconds_before;
    summary.already_done = true;
    return summary;
  }
  if (!o.quiet)
    std::fprintf(stderr, "train-vision: %s on %lld images of %zu world(s), %lld steps of %d%s\n", o.task.c_str(), static_cast<long long>(n),
                 data.sources.size(), static_cast<long long>(total), o.batch,
                 resumed ? (", resuming at step " + std::to_string(run.step)).c_str() : "");
  run.net->train();
  const auto start = Clock::now();
  auto last_line = start;
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  std::vector<double> recent;
  double window_loss = 0;
  int64_t window_steps = 0;
  while (run.step < total) {
    std::vector<const VisionExample*> batch;
    for (size_t i : step_members(static_cast<size_t>(n), o.seed, run.step, o.batch)) batch.push_back(&data.examples[i]);
    const torch::Tensor loss = loss_of(run.net, batch, config);
    for (auto& p : run.adam.params)
      if (p.second.grad().defined()) p.second.grad().zero_();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(run.net->parameters(), 5.0);
    run.adam.step(run.step + 1, learning_rate(o.lr, run.step, total));
    const double l = loss.item<double>();
    if (!std::isfinite(l)) throw Error("training diverged at step " + std::to_string(run.step + 1) + "; try a lower VisionTrainOptions.lr");
    ++run.step;
    recent.push_back(l);
    if (recent.size() > 20) recent.erase(recent.begin());
    window_loss += l, ++window_steps;
    const bool at_checkpoint = run.step % o.checkpoint_every == 0 || run.step == total;
    Json metrics;
    if (at_checkpoint) {
      if (run.step == total || !val.examples.empty()) metrics = validation(run.net, val.examples, config);
      if (!metrics.is_null()) config.training["validation"] = metrics;
      const double seconds = run.seconds_before + elapsed();
      config.training["seconds"] = std::round(seconds * 10) / 10;
      config.training["steps_done"] = run.step;
      write_state(o.out, run, key, total, seconds);
      write_model(o.out, run.net, config, run.step);
    }
    const double window = std::chrono::duration<double>(Clock::now() - last_line).count();
    if (!o.quiet && (window >= 10 || run.step == total || at_checkpoint)) {
      const std::string eta = format_duration(static_cast<double>(total - run.step) * window / static_cast<double>(window_steps));
      std::string val_text;
      if (!metrics.is_null())
        val_text = config.task == VisionTask::kDepth
                       ? "  (val pair order " + Json(metrics["pair_order"]).dump() + ", rel. error " + Json(metrics["relative_error"]).dump() + ")"
                       : "  (val AP50 " + Json(metrics["ap50"]).dump() + ", recall " + Json(metrics["recall"]).dump() + ")";
      std::fprintf(stderr, "train-vision: step %lld/%lld  loss %.4f  %.1f img/s  ETA %s%s%s\n", static_cast<long long>(run.step),
                   static_cast<long long>(total), window_loss / static_cast<double>(window_steps),
                   static_cast<double>(window_steps * o.batch) / std::max(1e-9, window), eta.c_str(), at_checkpoint ? "  [checkpoint]" : "",
                   val_text.c_str());
      last_line = Clock::now();
      window_loss = 0, window_steps = 0;
    }
  }
  summary.steps = run.step;
  summary.images = run.step * o.batch;
  summary.seconds = run.seconds_before + elapsed();
  summary.final_loss = std::accumulate(recent.begin(), recent.end(), 0.0) / static_cast<double>(std::max<size_t>(1, recent.size()));
  summary.validation = config.training.value("validation", Json());
  return summary;
}

}  // namespace
}  // namespace taco

extern "C" taco::VisionTrainSummary taco_train_vision(const taco::VisionTrainOptions& options) {
  try {
    return taco::train(options);
  } catch (const c10::Error& e) {
    throw taco::Error("training failed: " + taco::first_line(e));
  }
}
