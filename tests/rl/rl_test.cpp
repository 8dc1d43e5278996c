// taco rl: group advantages and the reward's parts; the question sampler; a tiny model whose
// reward rises on a toy task (always answering one letter is right); a group's samples differ;
// groups with equal rewards are dropped; a run killed with SIGKILL and rerun ends with the same
// weights; the tokens a session records (masks over exactly the policy's tokens, log-probs the
// update recomputes to the same values); a session's key/value reuse writes the same greedy
// replies as fresh prompts, and so does decoding a group's replies together.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "cota/training_format.h"
#include "models/embedded/embedded.h"
#include "rl/group.h"
#include "rl/policy.h"
#include "rl/reward.h"
#include "rl/rl.h"
#include "runtime/episode.h"
#include "test_support.h"
#include "tools/config.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/pyrepr.h"
#include "util/safetensors.h"

namespace taco {
namespace {

TEST(GroupAdvantagesTest, RewardsAgainstTheGroupAndEqualGroupsDropped) {
  GroupAdvantages g = group_advantages({1, 0, 0, 1});
  ASSERT_TRUE(g.kept);
  EXPECT_DOUBLE_EQ(g.advantages[0], 1);
  EXPECT_DOUBLE_EQ(g.advantages[1], -1);
  g = group_advantages({1, 0, 0, 0});
  EXPECT_NEAR(g.advantages[0], 0.75 / std::sqrt(0.1875), 1e-12);
  EXPECT_FALSE(group_advantages({0.5, 0.5, 0.5}).kept);
  EXPECT_FALSE(group_advantages({1}).kept);
}

Trace trace_answering(const Task& task, const std::string& answer, TraceStatus status = TraceStatus::kTerminated) {
  Trace t;
  t.task = task;
  t.status = status;
  t.answer = answer;
  return t;
}

TEST(RewardTest, ExactMatchingAndEachPartApart) {
  Task count{"c", {}, "How many cups?"};
  count.answer = "3";
  RewardSettings rules;
  EXPECT_TRUE(reward_of(count, trace_answering(count, "3"), rules).right);
  EXPECT_TRUE(reward_of(count, trace_answering(count, " 3.0 "), rules).right);
  EXPECT_FALSE(reward_of(count, trace_answering(count, "There are 3 cups."), rules).right);  // lenient forms are not rewarded
  EXPECT_FALSE(reward_of(count, trace_answering(count, "3 or 4"), rules).right);

  Task choice{"m", {}, "How many cups?"};
  choice.answer = "B";
  choice.choices = {"2", "3", "4"};
  EXPECT_TRUE(reward_of(choice, trace_answering(choice, "B"), rules).right);
  EXPECT_FALSE(reward_of(choice, trace_answering(choice, "3"), rules).right);  // the count, not the letter
  EXPECT_FALSE(reward_of(choice, trace_answering(choice, "B or C"), rules).right);

  // A parse failure and a failed action cost the penalty each; tool calls past the first their cost.
  Trace t = trace_answering(count, "3");
  StepRecord bad;
  bad.parse_error = ParseErrorKind::kJson;
  bad.error_kind = "json";
  t.steps.push_back(bad);
  StepRecord failed;
  failed.error_kind = "tool";
  t.steps.push_back(failed);
  rules.set("tool_cost=0.05", "RlSettings.reward");
  rules.set("tool_bonus = 0.2", "RlSettings.reward");
  RewardParts r = reward_of(count, t, rules);
  EXPECT_DOUBLE_EQ(r.parse, -0.2);
  EXPECT_DOUBLE_EQ(r.correct, 1);
  EXPECT_DOUBLE_EQ(r.tool_bonus, 0);  // no tool was called
  EXPECT_DOUBLE_EQ(r.total(), 0.8);

  // Out of replies: the stated reward, whatever the extracted answer.
  rules.set("unfinished=-0.5", "RlSettings.reward");
  r = reward_of(count, trace_answering(count, "3", TraceStatus::kMaxReplies), rules);
  EXPECT_FALSE(r.right);
  EXPECT_DOUBLE_EQ(r.total(), -0.5);
  EXPECT_TRUE(reward_of(count, trace_answering(count, "", TraceStatus::kError), rules).error);

  EXPECT_THROW(rules.set("bonus=1", "RlSettings.reward"), Error);
  EXPECT_THROW(rules.set("correct=high", "RlSettings.reward"), Error);
  EXPECT_EQ(rules.to_json()["matching"], "exact");
}

TEST(QuestionSamplerTest, PrefersFamiliesAnsweredSometimesAndResumesWhereItStood) {
  std::vector<Task> tasks;
  for (int i = 0; i < 40; ++i) {
    Task t{"q" + std::to_string(i), {}, "?"};
    t.metadata["family"] = i < 20 ? "easy" : "mixed";
    tasks.push_back(t);
  }
  QuestionSampler a(tasks, 7), b(tasks, 7);
  EXPECT_EQ(a.pick(0, 8), b.pick(0, 8));
  const auto first = a.pick(1, 8);
  EXPECT_EQ(std::set<size_t>(first.begin(), first.end()).size(), 8u);  // distinct
  a.refresh({{"easy", {8, 8}}, {"mixed", {4, 8}}});
  size_t mixed = 0;
  for (int step = 2; step < 22; ++step)
    for (size_t i : a.pick(step, 4)) mixed += i >= 20;
  EXPECT_GT(mixed, 60u);  // of 80: p(1-p) is 0.25 for mixed, the floor 0.05 for a family always right

  QuestionSampler c(tasks, 7);
  c.restore(a.state());
  EXPECT_EQ(c.pick(30, 8), a.pick(30, 8));
  EXPECT_THROW(c.restore(Json{{"asked", 3}}), Error);
}

std::string solid_image(const std::string& path, int b, int g, int r) {
  cv::imwrite(path, cv::Mat(120, 160, CV_8UC3, cv::Scalar(b, g, r)));
  return path;
}


// The toy: pick a letter among four; the SFT model learned to answer each letter as often,
// and RL rewards A only. Eight questions (the same text, eight pictures).
class RlToyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::vector<Task> sft, rl;
    std::map<std::string, std::vector<std::string>> replies;
    for (int k = 0; k < 8; ++k) {
      const std::string image = solid_image(dir_->file("p" + std::to_string(k) + ".png"), 30 * k, 100, 200 - 20 * k);
      for (const char* letter : {"A", "B", "C", "D"}) {
        Task t{"pick-" + std::to_string(k) + "-" + letter, {image}, "Which letter?", std::nullopt, {"one", "two", "three", "four"}};
        replies[t.id] = {letter};
        sft.push_back(t);
      }
      Task t{"pick-" + std::to_string(k), {image}, "Which letter?", "A", {"one", "two", "three", "four"}};
      t.metadata["family"] = "toy";
      rl.push_back(t);
    }
    const std::string data = test::write_replayed_records(*dir_, sft, replies, PromptMode::kDirect);
    train_embedded_model(test::tiny_train_options(data, dir_->file("sft"), 120));
    std::string lines;
    for (const auto& t : rl) lines += t.to_json().dump() + "\n";
    write_file(dir_->file("tasks.jsonl"), lines);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static RlSettings settings(const std::string& out, int64_t steps) {
    RlSettings s;
    s.episode.model.model = "embedded:" + dir_->file("sft");
    s.episode.prompt = "direct";
    s.data = {dir_->file("tasks.jsonl")};
    s.out = out;
    s.group = 8;
    s.questions_per_step = 2;
    s.steps = steps;
    s.lr = 3e-4;
    s.threads = 2;
    s.seed = 5;
    return s;
  }

  // The command as a person runs it: taco restarts itself with OMP_THREAD_LIMIT=1, which the
  // test process lacks (in it, each of a step's 16 episode threads would start libtorch
  // threads of its own, and the run would crawl on a busy machine).
  static std::string command(const std::string& out, int64_t steps) {
    return "rl -q --model embedded:" + dir_->file("sft") + " --prompt direct --data " + dir_->file("tasks.jsonl") + " --out " + out +
           " --group 8 --questions-per-step 2 --steps " + std::to_string(steps) + " --lr 3e-4 --threads 2 --seed 5";
  }

  static std::vector<Json> lines_of(const std::string& path) {
    std::vector<Json> out;
    for_each_jsonl(path, [&](size_t, Json&& j) { out.push_back(std::move(j)); });
    return out;
  }

  static test::TempDir* dir_;
};
test::TempDir* RlToyTest::dir_ = nullptr;

TEST_F(RlToyTest, TheRewardRisesWithinAFewDozenSteps) {
  test::TempDir out;
  const test::CliResult run = test::run_taco(command(out.file("rl"), 30));
  ASSERT_EQ(run.code, 0) << run.output;
  const auto metrics = lines_of(out.file("rl/metrics.jsonl"));
  ASSERT_EQ(metrics.size(), 30u);
  double early = 0, late = 0;
  for (int i = 0; i < 5; ++i) early += metrics[static_cast<size_t>(i)]["accuracy"].get<double>() / 5;
  for (int i = 25; i < 30; ++i) late += metrics[static_cast<size_t>(i)]["accuracy"].get<double>() / 5;
  EXPECT_LT(early, 0.6);
  EXPECT_GT(late, early + 0.3) << "accuracy over the first five steps " << early << ", over the last five " << late;
  // At each step's first update the recomputed log-probabilities are the sampler's.
  for (const auto& m : metrics) EXPECT_LT(m["max_logprob_mismatch"].get<double>(), 1e-3) << m.dump();

  // The output is a checkpoint the embedded kind loads, with how RL trained it.
  const Json config = read_json_file(out.file("rl/config.json"));
  EXPECT_EQ(config["training"]["rl"]["steps_done"], 30);
  EXPECT_EQ(config["training"]["rl"]["reward"]["matching"], "exact");
  ModelOptions o;
  o.model = "embedded:" + out.file("rl");
  EXPECT_NO_THROW(make_model(o));
  // Every rollout is an ordinary trace.
  EXPECT_EQ(lines_of(out.file("rl/rollouts.jsonl")).size(), 30u * 16);
}

TEST_F(RlToyTest, AGroupsSamplesDifferAndGroupsOfEqualRewardsAreDropped) {
  test::TempDir out;
  const test::CliResult run = test::run_taco(command(out.file("rl"), 3));
  ASSERT_EQ(run.code, 0) << run.output;
  const auto tokens = lines_of(out.file("rl/rollouts.tokens.jsonl"));
  ASSERT_EQ(tokens.size(), 48u);
  const auto metrics = lines_of(out.file("rl/metrics.jsonl"));
  for (size_t at = 0; at < tokens.size(); at += 8) {
    if (tokens[at]["step"] != 1) continue;  // the SFT model's own samples: it answers each letter about as often
    std::set<std::string> written;
    std::set<bool> right;
    for (size_t g = at; g < at + 8; ++g) {
      const Json& t = tokens[g];
      EXPECT_EQ(t["question"], tokens[at]["question"]);
      std::string mine;
      for (size_t i = 0; i < t["ids"].size(); ++i)
        if (t["mask"][i] == 1) mine += std::to_string(t["ids"][i].get<int>()) + " ";
      written.insert(mine);
      right.insert(t["right"].get<bool>());
      EXPECT_EQ(t["advantage"].is_null(), !t["kept"].get<bool>());  // a dropped group's rollouts carry no advantage
    }
    EXPECT_GT(written.size(), 2u) << "the group of " << tokens[at]["question"] << " sampled the same reply eight times";
    const bool kept = right.size() > 1;
    for (size_t g = at; g < at + 8; ++g) EXPECT_EQ(tokens[g]["kept"].get<bool>(), kept);
  }
  size_t dropped = 0;
  for (const auto& m : metrics) dropped += m["groups_dropped"].get<size_t>();
  size_t dropped_in_tokens = 0;
  for (size_t at = 0; at < tokens.size(); at += 8) dropped_in_tokens += !tokens[at]["kept"].get<bool>();
  EXPECT_EQ(dropped, dropped_in_tokens);
}

TEST_F(RlToyTest, KilledAndRerunItEndsWithTheSameWeights) {
  test::TempDir out;
  const std::string killed = out.file("killed");
  auto args_for = [&](const std::string& folder) { return command(folder, 30); };
  // The run never stopped, by the same binary (whose math threads are the rerun's).
  test::CliResult whole = test::run_taco(args_for(out.file("whole")));
  ASSERT_EQ(whole.code, 0) << whole.output;

  const std::string model = "embedded:" + dir_->file("sft"), data = dir_->file("tasks.jsonl");  // before fork: no allocation after it
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TACO_BINARY, TACO_BINARY, "rl", "-q", "--model", model.c_str(), "--prompt", "direct", "--data", data.c_str(), "--out",
            killed.c_str(), "--group", "8", "--questions-per-step", "2", "--steps", "30", "--lr", "3e-4", "--threads", "2", "--seed", "5",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Killed once it has finished a step or two, somewhere in the middle of a later one.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::error_code ec;
  while (!std::filesystem::exists(killed + "/rl-state.safetensors", ec) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string stopped_at = read_safetensors(killed + "/rl-state.safetensors").metadata.at("step");
  SCOPED_TRACE("killed after step " + stopped_at);
  ASSERT_LT(std::stoi(stopped_at), 30) << "the run finished before it could be killed";

  test::CliResult rerun = test::run_taco(args_for(killed));
  ASSERT_EQ(rerun.code, 0) << rerun.output;
  EXPECT_TRUE(read_file(killed + "/model.safetensors") == read_file(out.file("whole/model.safetensors")));
  // The killed step's lines were cut, not doubled: the rollouts are the whole run's, byte for byte.
  EXPECT_EQ(lines_of(killed + "/rollouts.tokens.jsonl").size(), 30u * 16);
  EXPECT_TRUE(read_file(killed + "/rollouts.tokens.jsonl") == read_file(out.file("whole/rollouts.tokens.jsonl")));
  EXPECT_EQ(lines_of(killed + "/metrics.jsonl").size(), 30u);

  test::CliResult again = test::run_taco(args_for(killed));
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.output.find("already holds this run, finished (30 steps)"), std::string::npos) << again.output;
  test::CliResult other = test::run_taco(args_for(killed) + " --clip-high 0.3");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.output.find("holds an RL run with another start, data or settings"), std::string::npos) << other.output;
}

TEST_F(RlToyTest, SettingsNoRunCanUseAreRefusedNamingTheFlag) {
  test::TempDir out;
  const std::string base = "rl -q --model embedded:" + dir_->file("sft") + " --data " + dir_->file("tasks.jsonl") + " --out " + out.file("rl");
  for (const auto& [flag, says] : std::vector<std::pair<std::string, std::string>>{
           {" --group 1", "--group must be at least 2"},
           {" --group 1000 --questions-per-step 1000", "at most 1024 episodes a step"},
           {" --temperature 0", "--temperature must be between 0.1 and 10"},
           {" --threads 0", "--threads must be between 1 and 256"},
           {" --reward bonus=1", "--reward takes NAME=VALUE"},
           {" --reward correct=x", "is not a number"},
           {" --clip-low 1.5", "--clip-low must be in (0, 1)"}}) {
    const test::CliResult r = test::run_taco(base + flag);
    EXPECT_EQ(r.code, 1) << flag << ": " << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << flag << ": " << r.output;
  }
  const test::CliResult served = test::run_taco("rl --model gpt-4o --data " + dir_->file("tasks.jsonl") + " --out " + out.file("x"));
  EXPECT_NE(served.output.find("RL trains the embedded model: --model must be embedded:DIR"), std::string::npos) << served.output;
}

TEST_F(RlToyTest, TasksFromTheBenchmarkAreRefused) {
  test::TempDir out;
  RlSettings s = settings(out.file("rl"), 1);
  s.exclude = {dir_->file("tasks.jsonl")};  // the same pictures
  try {
    run_rl(s);
    FAIL() << "tasks that share the benchmark's images were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shares an image with benchmark"), std::string::npos) << e.what();
  }
  Task t{"other", {dir_->file("p0.png")}, "?", "A"};
  t.metadata["scene"] = "1000-3";
  write_file(out.file("bench.jsonl"), t.to_json().dump() + "\n");
  std::string lines;
  Task mine{"mine", {solid_image(out.file("mine.png"), 1, 2, 3)}, "?", "A"};
  mine.metadata["scene"] = "1000-3";
  write_file(out.file("mine.jsonl"), mine.to_json().dump() + "\n");
  s.data = {out.file("mine.jsonl")};
  s.exclude = {out.file("bench.jsonl")};
  try {
    run_rl(s);
    FAIL() << "tasks about the benchmark's scenes were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("which the benchmark asks about"), std::string::npos) << e.what();
  }
}

// A model that hides its sessions: every request reads the whole conversation afresh.
class WithoutSessions : public Model {
 public:
  explicit WithoutSessions(Model& m) : m_(m) {}
  Completion complete(const CompletionRequest& r) override {
    CompletionRequest alone = r;
    alone.session = nullptr;
    return m_.complete(alone);
  }
  std::string name() const override { return m_.name(); }
  ModelDefaults defaults() const override { return m_.defaults(); }

 private:
  Model& m_;
};

std::string step_text(const std::string& thought, const std::string& action, Json arguments) {
  return python_json_dumps(Json{{"thought", thought}, {"actions", Json::array({Json{{"name", action}, {"arguments", arguments}}})}});
}

TEST(RolloutTokensTest, SessionsRecordExactlyThePolicysTokensAndTheUpdateRecomputesTheirLogprobs) {
  // Two-turn CoTA episodes with a real tool (Calculate), so that an observation comes between replies.
  test::TempDir dir;
  const std::string red = solid_image(dir.file("red.png"), 0, 0, 230);
  std::vector<Task> tasks{Task{"add", {red}, "What is 17 + 25?", "42"}, Task{"product", {red}, "What is 6 * 7 * 3?", "126"}};
  std::map<std::string, std::vector<std::string>> replies{
      {"add", {step_text("I will add the two numbers.", "Calculate", {{"expression", "17 + 25"}}),
               step_text("The sum is 42.", "Terminate", {{"answer", "42"}})}},
      {"product", {step_text("I will multiply the numbers.", "Calculate", {{"expression", "6 * 7 * 3"}}),
                   step_text("The product is 126.", "Terminate", {{"answer", "126"}})}}};
  train_embedded_model(test::tiny_train_options(test::write_replayed_records(dir, tasks, replies, PromptMode::kCota), dir.file("model"), 200));

  // Greedy: a session's key/value reuse across turns writes what fresh prompts write.
  ModelOptions greedy;
  greedy.model = "embedded:" + dir.file("model");
  auto model = make_model(greedy);
  WithoutSessions fresh(*model);
  ToolRegistry tools = make_tool_registry(ToolsConfig());
  const PromptTemplate prompts = PromptTemplate::from_json(model->defaults().prompt_template, "checkpoint");
  Runtime with(*model, tools, prompts, EpisodeOptions()), without(fresh, tools, prompts, EpisodeOptions());
  for (const auto& task : tasks) {
    const Trace a = with.run(task), b = without.run(task);
    ASSERT_EQ(a.steps.size(), b.steps.size()) << task.id;
    ASSERT_EQ(a.steps.size(), 2u) << task.id;
    for (size_t i = 0; i < a.steps.size(); ++i) {
      EXPECT_EQ(a.steps[i].raw, b.steps[i].raw) << task.id << " reply " << i;
      EXPECT_EQ(a.steps[i].prompt_tokens, b.steps[i].prompt_tokens) << task.id << " reply " << i;
    }
  }

  // Greedy, eight episodes decoded together in rounds (one session group): the replies one
  // episode writes alone.
  {
    std::vector<Trace> alone, together(8);
    for (size_t i = 0; i < 8; ++i) alone.push_back(with.run(tasks[i % tasks.size()]));
    auto group = model->open_sessions(8, SessionOptions());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < 8; ++i)
      threads.emplace_back([&, i] {
        together[i] = with.run(tasks[i % tasks.size()], nullptr, nullptr, group[i].get());
        group[i]->close();
      });
    for (auto& th : threads) th.join();
    for (size_t i = 0; i < 8; ++i) {
      ASSERT_EQ(together[i].steps.size(), alone[i].steps.size()) << i;
      for (size_t k = 0; k < alone[i].steps.size(); ++k) EXPECT_EQ(together[i].steps[k].raw, alone[i].steps[k].raw) << i << " reply " << k;
    }
  }

  // Sampled and recorded: the mask is 1 on exactly the replies' tokens and their closing </s>.
  PolicyOptions po;
  po.start = dir.file("model");
  po.sampling.model = greedy.model;
  po.sampling.temperature = 1.0;
  po.sampling.seed = 3;
  po.updates_per_step = 1;
  auto policy = make_policy(po);
  Runtime sampling(policy->model(), tools, prompts, EpisodeOptions());
  std::vector<std::unique_ptr<ModelSession>> sessions;
  std::vector<RolloutForUpdate> rollouts;
  SessionOptions record;
  record.record = true;
  for (int member = 0; member < 4; ++member)
    for (const auto& task : tasks) {
      sessions.push_back(policy->model().open_session(record));
      Task t = task;
      t.id += "~" + std::to_string(member);
      const Trace trace = sampling.run(t, nullptr, nullptr, sessions.back().get());
      ASSERT_NE(trace.status, TraceStatus::kError) << trace.error;
      const SessionTokens* tokens = sessions.back()->tokens();
      ASSERT_NE(tokens, nullptr);
      ASSERT_EQ(tokens->ids.size(), tokens->written.size());
      // Each run of written tokens is one reply: its ids, less a closing </s>, are its text.
      std::vector<std::vector<int>> runs;
      for (size_t i = 0; i < tokens->ids.size(); ++i) {
        if (!tokens->written[i]) continue;
        if (i == 0 || !tokens->written[i - 1]) runs.emplace_back();
        runs.back().push_back(tokens->ids[i]);
        EXPECT_NE(tokens->logprobs[i], 0.0f);  // a sampled token's log-probability (at temperature 1 never exactly 0 here)
      }
      ASSERT_EQ(runs.size(), trace.steps.size()) << t.id;
      EXPECT_EQ(tokens->images.size(), 1u);  // the input; Calculate makes none
      for (size_t r = 0; r < runs.size(); ++r)
        EXPECT_EQ(static_cast<int>(runs[r].size()) - 1, trace.steps[r].completion_tokens) << t.id << " reply " << r;
      rollouts.push_back({tokens, 0.0});
    }
  // No advantage, so no step: the report's log-probabilities are the sampler's, recomputed.
  const UpdateReport report = policy->update(rollouts, 1e-3);
  EXPECT_GT(report.policy_tokens, 0);
  EXPECT_LT(report.max_logprob_mismatch, 1e-3);
  EXPECT_LT(report.mean_logprob_mismatch, 1e-4);
  EXPECT_DOUBLE_EQ(report.loss, 0);

  // A recording session refuses what would make its tokens wrong.
  ModelOptions nucleus = po.sampling;
  nucleus.top_p = 0.9;
  auto other = make_model(nucleus);
  EXPECT_THROW(other->open_session(record), Error);
}

}  // namespace
}  // namespace taco
