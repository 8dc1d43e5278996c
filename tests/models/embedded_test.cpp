// The embedded model end to end: a tiny model trained on a handful of records reproduces them
// through the real runtime, tools included; a training run killed with SIGKILL and rerun ends
// with the same weights as one never stopped; every kind of bad checkpoint is refused with a
// line naming what is wrong.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "cota/parse.h"
#include "cota/step_grammar.h"
#include "cota/training_format.h"
#include "models/embedded/embedded.h"
#include "models/embedded/tokenizer.h"
#include "runtime/episode.h"
#include "test_support.h"
#include "tools/config.h"
#include "util/files.h"
#include "util/pyrepr.h"
#include "util/safetensors.h"

namespace taco {
namespace {

std::string step_text(const std::string& thought, const std::string& action, Json arguments) {
  return python_json_dumps(Json{{"thought", thought}, {"actions", Json::array({Json{{"name", action}, {"arguments", arguments}}})}});
}

std::string solid_image(const std::string& path, int b, int g, int r) {
  cv::imwrite(path, cv::Mat(120, 160, CV_8UC3, cv::Scalar(b, g, r)));
  return path;
}

// Four tasks and the replies a model should give: two that need Calculate (the observation
// comes from the real tool) and two whose answer is only in the image (red or blue).
struct Episodes {
  std::vector<Task> tasks;
  std::map<std::string, std::vector<std::string>> replies;
};

Episodes make_episodes(const test::TempDir& dir) {
  const std::string red = solid_image(dir.file("red.png"), 0, 0, 230), blue = solid_image(dir.file("blue.png"), 230, 0, 0);
  Episodes e;
  auto add = [&](const std::string& id, const std::string& image, const std::string& question, std::vector<std::string> replies) {
    e.tasks.push_back(Task{id, {image}, question});
    e.replies[id] = std::move(replies);
  };
  add("add", red, "What is 17 + 25?",
      {step_text("I will add the two numbers.", "Calculate", {{"expression", "17 + 25"}}),
       step_text("The sum is 42.", "Terminate", {{"answer", "42"}})});
  add("product", blue, "What is 6 * 7 * 3?",
      {step_text("I will multiply the numbers.", "Calculate", {{"expression", "6 * 7 * 3"}}),
       step_text("The product is 126.", "Terminate", {{"answer", "126"}})});
  add("color-red", red, "What color is the picture?", {step_text("The picture is plainly one color.", "Terminate", {{"answer", "red"}})});
  add("color-blue", blue, "What color is the picture?", {step_text("The picture is plainly one color.", "Terminate", {{"answer", "blue"}})});
  return e;
}

// The records a model trained on these episodes learns from.
std::string write_records(const test::TempDir& dir, const Episodes& e) { return test::write_replayed_records(dir, e.tasks, e.replies); }

TrainOptions tiny_options(const std::string& data, const std::string& out, int64_t steps) { return test::tiny_train_options(data, out, steps); }

TEST(EmbeddedModelTest, OverfitsAHandfulOfRecordsAndReplaysThemThroughTheRuntime) {
  test::TempDir dir;
  Episodes e = make_episodes(dir);
  TrainSummary s = train_embedded_model(tiny_options(write_records(dir, e), dir.file("model"), 300));
  EXPECT_EQ(s.steps, 300);
  EXPECT_LT(s.final_loss, 0.05);

  ModelOptions o;
  o.model = "embedded:" + dir.file("model");
  auto model = make_model(o);
  EXPECT_EQ(model->defaults().mode, "cota");
  ToolRegistry tools = make_tool_registry(ToolsConfig());
  Runtime runtime(*model, tools, PromptTemplate::from_json(model->defaults().prompt_template, "checkpoint"), EpisodeOptions());
  for (const auto& task : e.tasks) {
    Trace t = runtime.run(task);
    ASSERT_EQ(t.status, TraceStatus::kTerminated) << task.id << ": " << t.error;
    const auto& want = e.replies[task.id];
    ASSERT_EQ(t.steps.size(), want.size()) << task.id;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t.steps[i].raw, want[i]) << task.id << " step " << i;
    EXPECT_EQ(t.prompt_template_sha256, PromptTemplate::defaults().hash());
    EXPECT_GT(t.steps[0].completion_tokens, 5);
  }

  // Eight episodes at once on one model (thread-safe decoding) write the same replies.
  std::vector<Trace> concurrent(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < concurrent.size(); ++i)
    threads.emplace_back([&, i] { concurrent[i] = runtime.run(e.tasks[i % e.tasks.size()]); });
  for (auto& th : threads) th.join();
  for (const Trace& t : concurrent) {
    ASSERT_EQ(t.status, TraceStatus::kTerminated) << t.task.id << ": " << t.error;
    const auto& want = e.replies[t.task.id];
    ASSERT_EQ(t.steps.size(), want.size()) << t.task.id;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t.steps[i].raw, want[i]) << t.task.id << " step " << i << " (concurrent)";
  }

  // Log-probabilities of the written tokens, and sampling that a seed makes repeatable.
  std::vector<Message> messages = {Message{"user", {{"\n# USER REQUEST #:\nWhat is 17 + 25?\n\nNow write the first step:\n", nullptr}}}};
  CompletionRequest request{"x", &messages, true};
  Completion greedy = model->complete(request);
  ASSERT_FALSE(greedy.logprobs.empty());
  for (const auto& lp : greedy.logprobs) EXPECT_LE(lp.logprob, 0.0);
  o.temperature = 1.5;
  o.seed = 7;
  auto sampled = make_model(o);
  EXPECT_EQ(sampled->complete(request).text, sampled->complete(request).text);

  // A request's own sampling settings (taco serve passes a client's) equal the model's.
  CompletionRequest hot = request;
  hot.temperature = 1.5;
  hot.seed = 7;
  EXPECT_EQ(model->complete(hot).text, sampled->complete(request).text);
  hot.max_tokens = 3;
  Completion cut = model->complete(hot);
  EXPECT_EQ(cut.completion_tokens, 3);
  EXPECT_EQ(cut.finish_reason, "length");
  EXPECT_EQ(greedy.finish_reason, "stop");

  // Streaming: the pieces on_text gets, token by token, make the reply; false stops it, and
  // so does a cancelled request.
  CompletionRequest streamed = request;
  std::vector<std::string> pieces;
  streamed.on_text = [&](const std::string& piece) {
    pieces.push_back(piece);
    return true;
  };
  EXPECT_EQ(model->complete(streamed).text, greedy.text);
  EXPECT_GT(pieces.size(), 5u);
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined, greedy.text);
  streamed.on_text = [&](const std::string&) { return false; };
  EXPECT_THROW(model->complete(streamed), CancelledError);
  Cancellation cancelled;
  cancelled.cancel();
  CompletionRequest stopped = request;
  stopped.cancel = &cancelled;
  EXPECT_THROW(model->complete(stopped), CancelledError);

  // The one response_format it can keep to is the CoTA step's schema, per request too.
  EXPECT_TRUE(model->takes_response_format(Json{{"type", "text"}}));
  EXPECT_FALSE(model->takes_response_format(Json{{"type", "json_object"}}));
  const Json step_format{{"type", "json_schema"}, {"json_schema", {{"name", "step"}, {"schema", cota_step_schema()}}}};
  EXPECT_TRUE(model->takes_response_format(step_format));
  CompletionRequest shaped = request;
  shaped.response_format = step_format;
  shaped.temperature = 3.0;
  shaped.max_tokens = 400;
  int shaped_parsed = 0;
  for (int64_t seed = 1; seed <= 4; ++seed) {
    shaped.seed = seed;
    Completion c = model->complete(shaped);
    shaped_parsed += c.finish_reason == "length" || parse_response(c.text).ok();
  }
  EXPECT_EQ(shaped_parsed, 4);
  CompletionRequest unshaped = request;
  unshaped.response_format = Json{{"type", "json_object"}};
  EXPECT_THROW(model->complete(unshaped), ModelError);

  // Under the step grammar (--json-schema cota): greedy replies of a model that already writes
  // steps are unchanged, and hot sampling, which breaks the JSON without it, writes only
  // replies that parse (unless the reply runs out of tokens first).
  o.temperature = 0;
  o.json_schema = "cota";
  auto constrained = make_model(o);
  Runtime constrained_runtime(*constrained, tools, PromptTemplate::from_json(constrained->defaults().prompt_template, "checkpoint"),
                              EpisodeOptions());
  for (const auto& task : e.tasks) {
    Trace t = constrained_runtime.run(task);
    ASSERT_EQ(t.steps.size(), e.replies[task.id].size()) << task.id;
    for (size_t i = 0; i < t.steps.size(); ++i) EXPECT_EQ(t.steps[i].raw, e.replies[task.id][i]) << task.id << " step " << i;
  }
  o.temperature = 3.0;
  o.max_tokens = 200;
  int free_failures = 0, constrained_finished = 0;
  for (int64_t seed = 1; seed <= 12; ++seed) {
    o.seed = seed;
    o.json_schema = "";
    free_failures += !parse_response(make_model(o)->complete(request).text).ok();
    o.json_schema = "cota";
    Completion c = make_model(o)->complete(request);
    if (c.completion_tokens >= o.max_tokens) continue;
    ++constrained_finished;
    ParseResult parsed = parse_response(c.text);
    EXPECT_TRUE(parsed.ok()) << c.text << "\n" << parsed.error;
    EXPECT_TRUE(parse_lenient_json(c.text).has_value()) << c.text;
  }
  EXPECT_GT(free_failures, 0) << "sampling this hot should break some replies without the grammar";
  EXPECT_GE(constrained_finished, 6);
  o.json_schema = R"({"type": "object"})";
  EXPECT_THROW(make_model(o), Error) << "an embedded model takes only the step shape";
}

TEST(EmbeddedModelTest, ResumesAfterSigkillToTheSameWeights) {
  test::TempDir dir;
  const std::string data = write_records(dir, make_episodes(dir));
  TrainOptions whole = tiny_options(data, dir.file("whole"), 60);
  whole.checkpoint_every = 5;
  train_embedded_model(whole);

  const std::string args = "train -q --data " + data + " --out " + dir.file("killed") +
                           " --size tiny --steps 60 --batch-tokens 4096 --checkpoint-every 5";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TACO_BINARY, TACO_BINARY, "train", "-q", "--data", data.c_str(), "--out", dir.file("killed").c_str(), "--size",
            "tiny", "--steps", "60", "--batch-tokens", "4096", "--checkpoint-every", "5", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill it once it has written a checkpoint or two, somewhere in the middle of the run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::error_code ec;
  while (!std::filesystem::exists(dir.file("killed/train-state.safetensors"), ec) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto state = read_safetensors(dir.file("killed/train-state.safetensors"));
  const std::string stopped_at = state.metadata.at("step");
  SCOPED_TRACE("killed after step " + stopped_at);
  ASSERT_LT(std::stoi(stopped_at), 60) << "the run finished before it could be killed";

  test::CliResult rerun = test::run_taco(args);
  ASSERT_EQ(rerun.code, 0) << rerun.output;
  EXPECT_EQ(read_file(dir.file("killed/model.safetensors")), read_file(dir.file("whole/model.safetensors")));
  EXPECT_EQ(read_file(dir.file("killed/tokenizer.model")), read_file(dir.file("whole/tokenizer.model")));

  test::CliResult again = test::run_taco(args);
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.output.find("already holds this run, finished (60 steps)"), std::string::npos) << again.output;
  // A checkpoint without its training state (as models ship) is not overwritten.
  std::filesystem::copy(dir.file("whole"), dir.file("shipped"));
  std::filesystem::remove(dir.file("shipped/train-state.safetensors"));
  test::CliResult finished_model = test::run_taco("train -q --data " + data + " --out " + dir.file("shipped") + " --size tiny --steps 1");
  EXPECT_EQ(finished_model.code, 1);
  EXPECT_NE(finished_model.output.find("already holds a checkpoint that is not a run to resume"), std::string::npos)
      << finished_model.output;
  test::CliResult other = test::run_taco(args + " --seed 3");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.output.find("holds a training run with other data or settings"), std::string::npos) << other.output;
}

// The final training state is written before the model: a run killed between the two, rerun,
// writes the model from that state (missing, or an earlier checkpoint's) instead of saying
// "finished; nothing to do" over a folder without it.
TEST(EmbeddedModelTest, ARunKilledBetweenItsFinalStateAndItsModelWritesTheModelOnRerun) {
  test::TempDir dir;
  const std::string data = write_records(dir, make_episodes(dir));
  TrainOptions o = tiny_options(data, dir.file("run"), 4);
  o.checkpoint_every = 2;
  train_embedded_model(o);
  const std::string model = read_file(dir.file("run/model.safetensors"));
  const std::string config = read_file(dir.file("run/config.json"));

  std::filesystem::remove(dir.file("run/model.safetensors"));
  TrainSummary s = train_embedded_model(o);
  EXPECT_TRUE(s.already_done);
  EXPECT_TRUE(s.model_rewritten);
  EXPECT_EQ(read_file(dir.file("run/model.safetensors")), model);
  EXPECT_EQ(read_file(dir.file("run/config.json")), config);

  SafeTensorsFile older = read_safetensors(dir.file("run/model.safetensors"));
  older.metadata["step"] = "2";  // the checkpoint before the last
  write_safetensors(dir.file("run/model.safetensors"), older);
  s = train_embedded_model(o);
  EXPECT_TRUE(s.model_rewritten);
  EXPECT_EQ(read_file(dir.file("run/model.safetensors")), model);

  s = train_embedded_model(o);
  EXPECT_TRUE(s.already_done);
  EXPECT_FALSE(s.model_rewritten);

  // A finished run says so before it decodes an image (a rerun of a large run decoded 12,923
  // first): with its images unreadable now, it still has nothing to do.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path()))
    if (e.path().extension() == ".png" || e.path().extension() == ".jpg") write_file(e.path().string(), "not an image any more");
  s = train_embedded_model(o);
  EXPECT_TRUE(s.already_done);
  EXPECT_EQ(s.steps, 4);
}

// The Error a training run refuses with; "" when it trains.
std::string training_error(const TrainOptions& o) {
  try {
    train_embedded_model(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A finished run asked for more steps goes on from its weights with a new learning-rate
// schedule, recorded in config.json (it was refused as "other data or settings"); so does a
// state written before runs recorded their length-free key. An unfinished run is finished first.
TEST(EmbeddedModelTest, AFinishedRunIsExtendedWithANewSchedule) {
  test::TempDir dir;
  const std::string data = write_records(dir, make_episodes(dir));
  TrainOptions o = tiny_options(data, dir.file("run"), 4);
  o.checkpoint_every = 2;
  train_embedded_model(o);
  std::filesystem::copy(dir.file("run"), dir.file("old-format"));
  const std::string finished = read_file(dir.file("run/model.safetensors"));

  TrainOptions longer = o;
  longer.steps = 8;
  TrainSummary s = train_embedded_model(longer);
  EXPECT_FALSE(s.already_done);
  EXPECT_EQ(s.steps, 8);
  EXPECT_NE(read_file(dir.file("run/model.safetensors")), finished);
  const Json config = Json::parse(read_file(dir.file("run/config.json")));
  EXPECT_EQ(config["training"]["steps"], 8);
  EXPECT_EQ(config["training"]["steps_done"], 8);
  EXPECT_EQ(config["training"]["extended"]["from_step"], 4);
  EXPECT_EQ(config["training"]["extended"]["schedule"], "warmup and cosine over steps 4-8");
  EXPECT_TRUE(train_embedded_model(longer).already_done);  // the extended run is a run of its own now

  // Fewer steps than it has is no extension.
  TrainOptions shorter = o;
  shorter.steps = 6;
  EXPECT_NE(training_error(shorter).find("finished at step 8; to extend it ask for more"), std::string::npos) << training_error(shorter);

  // A state from before "run_base" (its key only) extends to the same weights.
  SafeTensorsFile state = read_safetensors(dir.file("old-format/train-state.safetensors"));
  for (const char* key : {"run_base", "total_steps", "schedule_from"}) state.metadata.erase(key);
  write_safetensors(dir.file("old-format/train-state.safetensors"), state);
  TrainOptions old_longer = longer;
  old_longer.out = dir.file("old-format");
  train_embedded_model(old_longer);
  EXPECT_EQ(read_file(dir.file("old-format/model.safetensors")), read_file(dir.file("run/model.safetensors")));

  // An unfinished run asked for another length is told to finish first.
  TrainOptions half = tiny_options(data, dir.file("half"), 4);
  half.checkpoint_every = 2;
  train_embedded_model(half);
  SafeTensorsFile at_two = read_safetensors(dir.file("half/train-state.safetensors"));
  at_two.metadata["step"] = "2";
  write_safetensors(dir.file("half/train-state.safetensors"), at_two);
  TrainOptions half_longer = half;
  half_longer.steps = 8;
  EXPECT_NE(training_error(half_longer).find("unfinished (step 2 of 4)"), std::string::npos) << training_error(half_longer);
}

std::string load_error(const std::string& dir) {
  ModelOptions o;
  o.model = "embedded:" + dir;
  try {
    make_model(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(EmbeddedModelTest, BadCheckpointsAreRefusedWithTheReason) {
  test::TempDir dir;
  const std::string data = write_records(dir, make_episodes(dir));
  train_embedded_model(tiny_options(data, dir.file("good"), 2));
  ASSERT_EQ(load_error(dir.file("good")), "");
  namespace fs = std::filesystem;
  auto copy = [&](const std::string& name) {
    fs::copy(dir.file("good"), dir.file(name), fs::copy_options::recursive);
    return dir.file(name);
  };
  auto expect = [&](const std::string& folder, const std::string& words) {
    std::string e = load_error(folder);
    EXPECT_NE(e.find(words), std::string::npos) << "got: " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  };

  expect(dir.file("nowhere"), "not a checkpoint folder");
  fs::remove(copy("no-weights") + "/model.safetensors");
  expect(dir.file("no-weights"), "model.safetensors is missing");
  fs::remove(copy("no-tokenizer") + "/tokenizer.model");
  expect(dir.file("no-tokenizer"), "tokenizer.model is missing");

  const std::string weights = read_file(dir.file("good/model.safetensors"));
  write_file(copy("truncated") + "/model.safetensors", weights.substr(0, weights.size() / 2));
  expect(dir.file("truncated"), "truncated: tensor");
  write_file(copy("torch-save") + "/model.safetensors", std::string("PK\x03\x04", 4) + std::string(5000, '\0'));
  expect(dir.file("torch-save"), "not a safetensors file");

  Json config = read_json_file(dir.file("good/config.json"));
  config["architecture"]["d_model"] = 96;
  config["architecture"]["heads"] = 2;
  write_file(copy("wider") + "/config.json", config.dump());
  expect(dir.file("wider"), "has shape [");
  config = read_json_file(dir.file("good/config.json"));
  config["architecture"]["vocab_size"] = 999;
  write_file(copy("vocab") + "/config.json", config.dump());
  expect(dir.file("vocab"), "the tokenizer has");
  write_file(copy("other-config") + "/config.json", R"({"architectures": ["LlavaForConditionalGeneration"]})");
  expect(dir.file("other-config"), "not a taco embedded-model config");
  write_file(copy("bad-tokenizer") + "/tokenizer.model", "{\"vocab\": {}}");
  expect(dir.file("bad-tokenizer"), "not a SentencePiece model");

  // A config that disagrees with its weights is refused from the file's header, before the
  // network it describes is built (16384 wide and 1,000 deep would be terabytes).
  config = read_json_file(dir.file("good/config.json"));
  config["architecture"]["d_model"] = 16384;
  config["architecture"]["heads"] = 4;
  config["architecture"]["layers"] = 1000;
  write_file(copy("huge") + "/config.json", config.dump());
  const auto started = std::chrono::steady_clock::now();
  expect(dir.file("huge"), "config.json (vocab_size, d_model) makes it [");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "the network was built before the check";
  config = read_json_file(dir.file("good/config.json"));
  config["architecture"]["layers"] = 5;
  write_file(copy("deep") + "/config.json", config.dump());
  expect(dir.file("deep"), "tensor blocks.2.qkv.weight is missing");
  // Every number is bounded, and whole.
  for (const auto& [section, key, value, words] :
       std::vector<std::tuple<std::string, std::string, Json, std::string>>{
           {"decoding", "max_reply_tokens", -5, "decoding.max_reply_tokens is -5; it must be 1 to 1048576"},
           {"decoding", "max_replies", 0, "decoding.max_replies is 0; it must be 1 to 1000"},
           {"architecture", "layers", Json::parse("1e30"), "architecture.layers must be a whole number"},
           {"architecture", "vocab_size", Json::parse("99999999999999999999999"), "architecture.vocab_size must be a whole number"},
           {"architecture", "d_model", 1 << 20, "architecture.d_model is 1048576; it must be 1 to 16384"}}) {
    config = read_json_file(dir.file("good/config.json"));
    config[section][key] = value;
    write_file(copy("bounds-" + key) + "/config.json", config.dump());
    expect(dir.file("bounds-" + key), words);
  }

  SafeTensorsFile extra = read_safetensors(dir.file("good/model.safetensors"));
  extra.tensors.push_back({"lm_head.weight", "F32", {1}, std::string(4, '\0')});
  write_safetensors(copy("extra") + "/model.safetensors", extra);
  expect(dir.file("extra"), "tensor lm_head.weight is not part of this model");
  SafeTensorsFile ints = read_safetensors(dir.file("good/model.safetensors"));
  ints.tensors[0].dtype = "I32";
  write_safetensors(copy("ints") + "/model.safetensors", ints);
  expect(dir.file("ints"), "is I32 (weights are F32, F16 or BF16)");
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

// A conversation longer than the model's context is refused as ContextFullError, which the
// runtime turns into a finished episode (tests/runtime/episode_test.cpp), not a failure.
TEST(EmbeddedModelTest, AConversationBeyondTheContextIsContextFull) {
  test::TempDir dir;
  train_embedded_model(tiny_options(write_records(dir, make_episodes(dir)), dir.file("model"), 2));
  ModelOptions o;
  o.model = "embedded:" + dir.file("model");
  auto model = make_model(o);
  std::string long_text;
  for (int i = 0; i < 1200; ++i) long_text += std::to_string(i % 10);  // one token per digit
  std::vector<Message> messages = {Message{"user", {{long_text, nullptr}}}};
  try {
    model->complete(CompletionRequest{"x", &messages});
    FAIL() << "no error";
  } catch (const ContextFullError& e) {
    EXPECT_NE(std::string(e.what()).find("reads at most 1024"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace taco
