#include "rl/rl.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "curate/decontaminate.h"
#include "eval/benchmark.h"
#include "eval/score.h"
#include "models/embedded/config.h"
#include "models/embedded/embedded.h"
#include "rl/group.h"
#include "rl/policy.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/safetensors.h"
#include "util/sha256.h"
#include "util/strings.h"
#include "util/work_pool.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct OutputFiles {
  std::string state, traces, tokens, metrics;
  explicit OutputFiles(const std::string& out)
      : state(out + "/rl-state.safetensors"), traces(out + "/rollouts.jsonl"), tokens(out + "/rollouts.tokens.jsonl"),
        metrics(out + "/metrics.jsonl") {}
};

void check_settings(const RlSettings& s) {
  if (s.data.empty()) throw Error("no tasks to learn from (RlSettings.data FILE)");
  if (s.out.empty()) throw Error("no output folder (RlSettings.out DIR)");
  if (s.episode.model.model.rfind("embedded:", 0) != 0)
    throw Error("RL trains the embedded model: RlSettings.episode.model must be embedded:DIR (a checkpoint that taco train wrote)");
  if (s.group < 2) throw Error("RlSettings.group must be at least 2 (advantages compare a question's episodes)");
  if (s.questions_per_step < 1) throw Error("RlSettings.questions_per_step must be at least 1");
  if (s.steps < 1) throw Error("RlSettings.steps must be at least 1");
  if (static_cast<int64_t>(s.group) * s.questions_per_step > kMaxEpisodesPerStep)
    throw Error("RlSettings.group x RlSettings.questions_per_step is at most " + std::to_string(kMaxEpisodesPerStep) +
                " episodes a step (they all run at once, a thread each)");
  if (!(s.temperature >= 0.1 && s.temperature <= 10))
    throw Error("RlSettings.temperature must be between 0.1 and 10 (RL samples its rollouts)");
  if (!(s.lr > 0)) throw Error("RlSettings.lr must be above 0");
  if (!(s.clip_low > 0 && s.clip_low < 1) || !(s.clip_high > 0)) throw Error("RlSettings.clip_low must be in (0, 1) and clip_high above 0");
  if (s.kl < 0) throw Error("RlSettings.kl must be 0 or more");
  if (s.updates_per_step < 1) throw Error("RlSettings.updates_per_step must be at least 1");
  if (s.threads < 1 || s.threads > 256) throw Error("RlSettings.threads must be between 1 and 256");
  if (s.episode.model.top_p != 1) throw Error("RL samples from the whole distribution: the model's top_p must be 1");
}

// The scene ids a task names (gen's metadata "scene": one id, or a list for several images).
std::vector<std::string> scenes_of(const Task& t) {
  std::vector<std::string> out;
  auto it = t.metadata.find("scene");
  if (it == t.metadata.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array())
    for (const auto& s : *it)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// Refuses tasks that share a scene or an input image with a benchmark (curate's index: the same
// bytes or the same picture re-encoded); their questions are templates, shared by chance.
void refuse_benchmark_overlap(const std::vector<Task>& tasks, const RlSettings& s, const JobEvents& events) {
  if (s.exclude.empty()) return;
  std::map<std::string, std::string> benchmark_scenes;  // scene -> "benchmark item"
  BenchmarkIndex index(false, true);
  for (const auto& b : s.exclude) {
    index.add(b, s.out + "/benchmark-images");
    if (b.size() > 6 && b.compare(b.size() - 6, 6, ".jsonl") == 0)
      for (const auto& t : load_tasks(b))
        for (const auto& scene : scenes_of(t)) benchmark_scenes.emplace(scene, b + " item " + t.id);
  }
  events.announce(format_text("rl: checking %zu tasks against %zu benchmark items (%zu images)\n", tasks.size(), index.items(), index.images()));
  for (const auto& t : tasks) {
    for (const auto& scene : scenes_of(t))
      if (auto it = benchmark_scenes.find(scene); it != benchmark_scenes.end())
        throw Error("RlSettings.data: task " + t.id + " is about scene " + scene + ", which the benchmark asks about (" + it->second +
                    "): RL must learn from a world of its own seed");
    if (auto m = index.match(t.question, t.images))
      throw Error("RlSettings.data: task " + t.id + " shares an image with benchmark " + m->benchmark + " (item " + m->item + ", " +
                  m->kind + ")");
  }
}

std::vector<Task> read_tasks_for_rl(const RlSettings& s, std::vector<std::string>& hashes) {
  std::vector<Task> tasks;
  std::set<std::string> ids;
  for (const auto& f : s.data) {
    hashes.push_back(sha256_file(f));
    for (auto& t : load_tasks(f)) {
      try {
        check_rewardable(t);
      } catch (const Error& e) {
        throw Error("RlSettings.data: task " + t.id + " of " + f + ": " + e.what());
      }
      if (!ids.insert(t.id).second) throw Error("RlSettings.data: task id " + t.id + " appears twice");
      tasks.push_back(std::move(t));
    }
  }
  if (tasks.empty()) throw Error("RlSettings.data holds no tasks");
  return tasks;
}

// The settings that shape the weights: what the run key hashes and config.json records.
Json weight_settings(const RlSettings& s) {
  const EpisodeSettings& e = s.episode;
  return Json{{"prompt", e.prompt},
              {"prompt_template_sha256", e.prompt_template.empty() ? "" : sha256_file(e.prompt_template)},
              {"max_replies", e.max_replies},
              {"max_tokens", e.model.max_tokens},
              {"json_schema", e.model.json_schema},
              {"group", s.group},
              {"questions_per_step", s.questions_per_step},
              {"temperature", s.temperature},
              {"lr", s.lr},
              {"clip_low", s.clip_low},
              {"clip_high", s.clip_high},
              {"kl", s.kl},
              {"updates_per_step", s.updates_per_step},
              {"reward", s.reward.to_json()},
              {"threads", s.threads},
              {"seed", s.seed}};
}

// What makes two invocations the same run: the start, the data and every setting that changes
// the weights; not the number of steps (a longer run continues a shorter one).
std::string run_key(const RlSettings& s, const std::string& start_hash, const std::vector<std::string>& data_hashes,
                    const std::string& tools_hash) {
  Json j = weight_settings(s);
  j["start"] = start_hash;
  j["data"] = data_hashes;
  j["tools"] = tools_hash;
  return sha256_hex(j.dump());
}

struct Rollout {
  size_t question = 0;  // index into the tasks
  int member = 0;
  Task task;            // the question with the rollout's id
  Trace trace;
  std::unique_ptr<ModelSession> session;
  RewardParts reward;
  double advantage = 0;
  bool kept = false;
};

// Appends lines to a file and reports its size after them.
uint64_t append_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  for (const auto& l : lines) f << l << '\n';
  f.flush();
  if (!f) throw Error(path + ": cannot write");
  f.close();
  return std::filesystem::file_size(path);
}

// Cuts a file back to what the last checkpoint knew of (a step killed mid-way wrote past it).
void cut_to(const std::string& path, uint64_t size) {
  std::error_code ec;
  const auto now = std::filesystem::file_size(path, ec);
  if (ec) {
    if (size > 0) throw Error(path + " is missing, but the run's state says it holds " + std::to_string(size) + " bytes");
    return;
  }
  if (now < size) throw Error(path + " is shorter than the run's state says (" + std::to_string(now) + " < " + std::to_string(size) + " bytes)");
  if (now > size) std::filesystem::resize_file(path, size);
}

Json tokens_record(const Rollout& r, int64_t step) {
  Json j{{"id", r.task.id}, {"step", step}, {"question", r.task.metadata.value("rl_question", "")}, {"member", r.member},
         {"reward", r.reward.total()}, {"right", r.reward.right}, {"kept", r.kept}, {"advantage", r.kept ? Json(r.advantage) : Json()}};
  const SessionTokens* t = r.session ? r.session->tokens() : nullptr;
  if (!t) return j;
  std::vector<float> logprobs;
  for (size_t i = 0; i < t->ids.size(); ++i)
    if (t->written[i]) logprobs.push_back(t->logprobs[i]);
  j["temperature"] = t->temperature;
  j["ids"] = t->ids;
  j["mask"] = t->written;
  j["logprobs"] = logprobs;
  j["image_at"] = t->image_at;
  return j;
}

// One step's figures, for the progress line and metrics.jsonl.
struct StepFigures {
  double reward = 0, accuracy = 0, tool_calls = 0, with_tools = 0, parse_failures = 0, unfinished = 0, errors = 0;
  double reply_tokens = 0;
  RewardParts parts;  // means
  size_t groups = 0, kept = 0;
};

StepFigures figures_of(const std::vector<Rollout>& rollouts, size_t groups) {
  StepFigures f;
  f.groups = groups;
  const double n = static_cast<double>(rollouts.size());
  std::set<size_t> kept_questions;
  for (const auto& r : rollouts) {
    f.reward += r.reward.total() / n;
    f.accuracy += r.reward.right / n;
    f.parts.correct += r.reward.correct / n;
    f.parts.parse += r.reward.parse / n;
    f.parts.unfinished += r.reward.unfinished / n;
    f.parts.tool_cost += r.reward.tool_cost / n;
    f.parts.tool_bonus += r.reward.tool_bonus / n;
    const size_t tools = r.trace.tools_called().size();
    f.tool_calls += static_cast<double>(tools) / n;
    f.with_tools += (tools > 0) / n;
    size_t failures = 0, written = 0;
    for (const auto& s : r.trace.steps) {
      failures += s.parse_error != ParseErrorKind::kNone;
      written += static_cast<size_t>(s.completion_tokens);
    }
    f.parse_failures += static_cast<double>(failures) / n;
    f.reply_tokens += static_cast<double>(written) / n;
    f.unfinished += (r.trace.status == TraceStatus::kMaxReplies || r.trace.status == TraceStatus::kContextFull) / n;
    f.errors += r.reward.error / n;
    if (r.kept) kept_questions.insert(r.question);
  }
  f.kept = kept_questions.size();
  return f;
}

}  // namespace

RlSummary run_rl(const RlSettings& s, const JobEvents& events) {
  check_settings(s);
  const std::string start = embedded_checkpoint_dir(s.episode.model.model.substr(9));
  const CheckpointPaths start_files = checkpoint_paths(start);
  make_dirs(s.out);
  const OutputFiles files(s.out);
  {
    std::error_code ec;
    if (std::filesystem::equivalent(start, s.out, ec)) throw Error("RlSettings.out is the model RL starts from; give another folder");
    if (!std::filesystem::exists(files.state, ec) && std::filesystem::exists(checkpoint_files(s.out).config, ec))
      throw Error(s.out + " already holds a checkpoint that is not an RL run to resume (no rl-state.safetensors); use another RlSettings.out");
  }

  std::vector<std::string> data_hashes;
  const std::vector<Task> tasks = read_tasks_for_rl(s, data_hashes);
  const std::string start_hash = sha256_file(start_files.weights);
  const std::string tools_hash = s.episode.tools_config.empty() ? "" : sha256_file(s.episode.tools_config);
  const std::string key = run_key(s, start_hash, data_hashes, tools_hash);

  // Where a resumed run stands.
  int64_t done = 0;
  double seconds_before = 0;
  Json sampler_state, sizes = Json::object();
  const bool resuming = std::filesystem::exists(files.state);
  if (resuming) {
    const SafeTensorsFile head = read_safetensors(files.state);  // the metadata is what is checked here
    auto meta = [&](const char* k) {
      auto it = head.metadata.find(k);
      if (it == head.metadata.end()) throw Error(files.state + ": no \"" + std::string(k) + "\" in its metadata");
      return it->second;
    };
    if (meta("run") != key)
      throw Error(s.out + " holds an RL run with another start, data or settings; use another RlSettings.out, or delete " + s.out +
                  " to start over");
    try {
      done = std::stoll(meta("step"));
      seconds_before = std::stod(meta("seconds"));
      sampler_state = parse_json(meta("sampler"));
      sizes = parse_json(meta("files"));
      if (!sizes.is_object() || done < 0) throw Error("not a state");
      for (const char* f : {"traces", "tokens", "metrics"})
        if (!sizes.contains(f) || !sizes[f].is_number_unsigned()) throw Error(std::string("no file size for ") + f);
    } catch (const std::exception& e) {
      throw Error(files.state + ": its metadata is not an RL run's state (" + first_line_of(e.what()) + "); delete " + s.out +
                  " to start over");
    }
    if (done >= s.steps && std::filesystem::exists(checkpoint_files(s.out).weights)) {
      RlSummary summary;
      summary.steps = done;
      summary.already_done = true;
      summary.seconds = seconds_before;
      return summary;
    }
  }
  refuse_benchmark_overlap(tasks, s, events);

  PolicyOptions po;
  po.start = start;
  po.sampling = s.episode.model;
  po.sampling.temperature = s.temperature;
  po.sampling.seed = static_cast<int64_t>(s.seed & 0x7fffffffffffffffULL);
  po.lr = s.lr;
  po.clip_low = s.clip_low;
  po.clip_high = s.clip_high;
  po.kl = s.kl;
  po.updates_per_step = s.updates_per_step;
  po.threads = s.threads;
  std::unique_ptr<Policy> policy = make_policy(po);
  QuestionSampler sampler(tasks, s.seed);
  if (resuming) {
    policy->restore(files.state);
    sampler.restore(sampler_state);
    cut_to(files.traces, sizes.value("traces", uint64_t{0}));
    cut_to(files.tokens, sizes.value("tokens", uint64_t{0}));
    cut_to(files.metrics, sizes.value("metrics", uint64_t{0}));
  } else {
    for (const auto* f : {&files.traces, &files.tokens, &files.metrics}) std::filesystem::remove(*f);
  }

  EpisodeSettings episode = s.episode;
  episode.model = po.sampling;
  if (episode.images_dir.empty()) episode.images_dir = s.out + "/rollouts.images";
  auto setup = make_runtime(episode, files.traces, false, events, &policy->model());
  const Runtime& runtime = *setup->runtime;

  events.announce(format_text("rl: %zu tasks, %s model of %lld parameters, %d questions x %d episodes a step, steps %lld-%lld%s\n",
                              tasks.size(), start.c_str(), static_cast<long long>(policy->parameters()), s.questions_per_step,
                              s.group, static_cast<long long>(done + 1), static_cast<long long>(s.steps),
                              resuming ? " (resuming)" : ""));

  Json training = weight_settings(s);
  training["start"] = start;
  training["start_sha256"] = start_hash;
  training["data"] = s.data;
  training["data_sha256"] = data_hashes;
  training["exclude"] = s.exclude;
  training["tools_config"] = s.episode.tools_config;
  training["tools_config_sha256"] = tools_hash;

  RlSummary summary;
  const auto started = Clock::now();
  uint64_t traces_size = sizes.value("traces", uint64_t{0}), tokens_size = sizes.value("tokens", uint64_t{0}),
           metrics_size = sizes.value("metrics", uint64_t{0});
  for (int64_t step = done; step < s.steps; ++step) {
    if (events.stop.stop_requested()) break;
    const auto rollout_start = Clock::now();
    const std::vector<size_t> questions = sampler.pick(step, static_cast<size_t>(s.questions_per_step));
    std::vector<Rollout> rollouts;
    for (size_t q : questions)
      for (int g = 0; g < s.group; ++g) {
        Rollout r;
        r.question = q;
        r.member = g;
        r.task = tasks[q];
        r.task.metadata["rl_question"] = tasks[q].id;
        // The id seeds the episode's sampling (with the run's seed): each of a group's members differs.
        r.task.id = tasks[q].id + "~s" + std::to_string(step + 1) + "m" + std::to_string(g);
        rollouts.push_back(std::move(r));
      }
    // Every episode of the step at once: the model decodes the replies under way together
    // (one network pass per token for all of them), which is what makes rollouts fast.
    // Every episode of the step at once, in sessions of one group: the model decodes their
    // replies together, in rounds (Model::open_sessions), the same way on every run. A stop
    // is honoured between steps: a group's episodes end together.
    SessionOptions group_options;
    group_options.record = true;
    group_options.lanes = s.threads;
    std::vector<std::unique_ptr<ModelSession>> sessions = policy->model().open_sessions(rollouts.size(), group_options);
    for (size_t i = 0; i < rollouts.size(); ++i) rollouts[i].session = std::move(sessions[i]);
    parallel_for(rollouts.size(), rollouts.size(), [&](size_t i) {
      Rollout& r = rollouts[i];
      struct CloseAtEnd {
        ModelSession& s;
        ~CloseAtEnd() { s.close(); }  // the others' rounds wait for this episode until it is closed
      } close_at_end{*r.session};
      r.trace = runtime.run(r.task, nullptr, nullptr, r.session.get());
      r.session->close();
      try {
        r.reward = reward_of(tasks[r.question], r.trace, s.reward);
      } catch (const std::exception& e) {  // a task the scorer cannot score: said, and left out
        r.reward = RewardParts();
        r.reward.error = true;
        if (r.trace.error.empty()) r.trace.error = std::string("cannot be scored: ") + e.what();
      }
    });
    if (events.stop.stop_requested()) break;  // stopped during the step: it is not kept
    const double rollout_s = seconds_since(rollout_start);
    // Episodes that could not run (an image missing, the model failing) earn nothing and teach
    // nothing: said, and a step of nothing else stops the run rather than train on zeros.
    size_t errors = 0;
    const Rollout* first_error = nullptr;
    for (const auto& r : rollouts)
      if (r.reward.error && errors++ == 0) first_error = &r;
    if (errors == rollouts.size())
      throw Error(format_text("rl: no episode of step %lld could run (the first, %s: %s)", static_cast<long long>(step + 1),
                              first_error->task.id.c_str(), first_error->trace.error.c_str()));
    if (errors > 0)
      events.tell(format_text("rl: warning: %zu of %zu episodes of step %lld could not run (the first, %s: %s)\n", errors, rollouts.size(),
                              static_cast<long long>(step + 1), first_error->task.id.c_str(), first_error->trace.error.c_str()));

    // Advantages per group; groups whose rewards are all equal are dropped.
    std::vector<RolloutForUpdate> batch;
    std::map<std::string, std::pair<size_t, size_t>> family_rates;
    for (size_t at = 0; at < rollouts.size(); at += static_cast<size_t>(s.group)) {
      // The group's episodes that ran: one that could not run is no sample of the policy.
      std::vector<Rollout*> ran;
      std::vector<double> rewards;
      for (int g = 0; g < s.group; ++g) {
        Rollout& r = rollouts[at + static_cast<size_t>(g)];
        if (r.reward.error || !r.session || !r.session->tokens()) continue;
        ran.push_back(&r);
        rewards.push_back(r.reward.total());
      }
      const GroupAdvantages adv = group_advantages(rewards);
      auto& rate = family_rates[QuestionSampler::family_of(tasks[rollouts[at].question])];
      for (size_t k = 0; k < ran.size(); ++k) {
        Rollout& r = *ran[k];
        rate.first += r.reward.right;
        ++rate.second;
        if (!adv.kept) continue;
        r.kept = true;
        r.advantage = adv.advantages[k];
        batch.push_back({r.session->tokens(), r.advantage});
      }
    }
    const auto update_start = Clock::now();
    const UpdateReport update = policy->update(batch, s.lr);
    const double update_s = seconds_since(update_start);
    sampler.refresh(family_rates);

    const StepFigures f = figures_of(rollouts, questions.size());
    std::vector<std::string> trace_lines, token_lines;
    for (const auto& r : rollouts) {
      trace_lines.push_back(r.trace.to_json_in(files.traces).dump());
      token_lines.push_back(tokens_record(r, step + 1).dump());
    }
    const double elapsed = seconds_before + seconds_since(started);
    Json metrics{{"step", step + 1},
                 {"reward", f.reward},
                 {"accuracy", f.accuracy},
                 {"reward_parts", f.parts.to_json()},
                 {"episodes", rollouts.size()},
                 {"groups", f.groups},
                 {"groups_kept", f.kept},
                 {"groups_dropped", f.groups - f.kept},
                 {"tool_calls_per_episode", f.tool_calls},
                 {"episodes_with_tools", f.with_tools},
                 {"parse_failures_per_episode", f.parse_failures},
                 {"unfinished", f.unfinished},
                 {"errors", f.errors},
                 {"reply_tokens_per_episode", f.reply_tokens},
                 {"rollout_s", rollout_s},
                 {"update_s", update_s},
                 {"episodes_per_s", static_cast<double>(rollouts.size()) / std::max(1e-9, rollout_s)},
                 {"train_tokens_per_s", static_cast<double>(update.tokens) / std::max(1e-9, update_s)},
                 {"loss", update.loss},
                 {"policy_tokens", update.policy_tokens},
                 {"max_logprob_mismatch", update.max_logprob_mismatch},
                 {"mean_logprob_mismatch", update.mean_logprob_mismatch},
                 {"clip_fraction", update.clip_fraction},
                 {"kl", update.kl},
                 {"entropy", update.entropy},
                 {"grad_norm", update.grad_norm},
                 {"pass_rates", sampler.state()["pass_rate"]},
                 {"seconds", elapsed}};
    traces_size = append_lines(files.traces, trace_lines);
    tokens_size = append_lines(files.tokens, token_lines);
    metrics_size = append_lines(files.metrics, {metrics.dump()});
    // The state last: a kill before it leaves the step undone, and its lines are cut on resume.
    training["steps_done"] = step + 1;
    training["seconds"] = std::round(elapsed * 10) / 10;
    policy->save(files.state,
                 {{"run", key},
                  {"step", std::to_string(step + 1)},
                  {"seconds", std::to_string(elapsed)},
                  {"sampler", sampler.state().dump()},
                  {"files", Json{{"traces", traces_size}, {"tokens", tokens_size}, {"metrics", metrics_size}}.dump()}},
                 s.out, training);
    summary.steps = step + 1;
    summary.reward = f.reward;
    summary.accuracy = f.accuracy;
    if (events.progress) {
      const double per_step = seconds_since(started) / static_cast<double>(step + 1 - done);
      events.tell(format_text(
          "rl: step %lld/%lld  reward %.3f  accuracy %.1f%%  groups kept %zu/%zu  tools %.2f/episode  parse failures %.2f/episode  "
          "rollout %.1f s, update %.1f s (%s-bound)  %.1f episodes/s  %.0f training tokens/s  mismatch %.1e  ETA %s\n",
          static_cast<long long>(step + 1), static_cast<long long>(s.steps), f.reward, 100 * f.accuracy, f.kept, f.groups, f.tool_calls,
          f.parse_failures, rollout_s, update_s, rollout_s >= update_s ? "rollout" : "update",
          static_cast<double>(rollouts.size()) / std::max(1e-9, rollout_s), static_cast<double>(update.tokens) / std::max(1e-9, update_s),
          update.max_logprob_mismatch, format_duration(per_step * static_cast<double>(s.steps - step - 1)).c_str()));
    }
  }
  summary.seconds = seconds_before + seconds_since(started);
  if (summary.steps == 0) summary.steps = done;
  return summary;
}

}  // namespace taco
