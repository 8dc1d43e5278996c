// Sharded jobs: N shards through the schedulers' environment variables, merged with taco merge,
// give what one run gives (gen byte for byte; runs and distillation trace for trace, timings
// aside, since one run writes them as they finish).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

const std::string kTaco = TACO_BINARY;

// The traces of a file by id, without what a clock decides (timings, *_ms).
std::map<std::string, Json> traces_by_id(const std::string& path) {
  std::map<std::string, Json> out;
  std::function<void(Json&)> strip = [&](Json& j) {
    if (!j.is_object() && !j.is_array()) return;
    if (j.is_object()) {
      j.erase("timings");
      for (auto it = j.begin(); it != j.end();) {
        const std::string key = it.key();
        if (key.size() > 3 && key.compare(key.size() - 3, 3, "_ms") == 0) it = j.erase(it);
        else ++it;
      }
    }
    for (auto& v : j) strip(v);
  };
  for_each_jsonl(path, [&](size_t, Json&& j) {
    strip(j);
    out[j["id"].get<std::string>()] = j;
  });
  return out;
}

TEST(ShardMergeTest, GenShardsFromASlurmArrayMergeIntoOneRun) {
  test::TempDir dir;
  ASSERT_EQ(test::run_taco("synth -q --n 7 --seed 3 --out " + dir.file("world")).code, 0);
  // Relative --out, as in a job script: the records' image paths are relative too.
  const std::string gen = " gen -q --data " + dir.file("world/scene-graph-annotations.json") + " --format llava --mc-ratio 0.3 --out ";
  std::filesystem::create_directories(dir.file("one"));
  std::filesystem::create_directories(dir.file("sharded"));
  auto one = test::run_command("cd " + dir.file("one") + " && " + kTaco + gen + "train.jsonl");
  ASSERT_EQ(one.code, 0) << one.output;
  // An array --array=1-3: ids from 1.
  for (int id = 1; id <= 3; ++id) {
    auto part = test::run_command("cd " + dir.file("sharded") + " && SLURM_ARRAY_TASK_ID=" + std::to_string(id) +
                                  " SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3 " + kTaco + gen + "train.jsonl");
    ASSERT_EQ(part.code, 0) << part.output;
    EXPECT_NE(part.output.find("from SLURM_ARRAY_TASK_ID"), std::string::npos) << part.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("sharded/train.jsonl")));
  const std::string parts = dir.file("sharded/train.shard-2-of-3.jsonl") + " " + dir.file("sharded/train.shard-0-of-3.jsonl") + " " +
                            dir.file("sharded/train.shard-1-of-3.jsonl");
  auto missing = test::run_taco("merge " + dir.file("sharded/train.shard-0-of-3.jsonl") + " " +
                                dir.file("sharded/train.shard-2-of-3.jsonl") + " --out " + dir.file("sharded/train.jsonl"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("shard 1/3 is missing"), std::string::npos) << missing.output;
  auto merged = test::run_taco("merge " + parts + " --out " + dir.file("sharded/train.jsonl"));
  ASSERT_EQ(merged.code, 0) << merged.output;
  EXPECT_EQ(read_file(dir.file("sharded/train.jsonl")), read_file(dir.file("one/train.jsonl")));
  Json a = read_json_file(dir.file("one/train.jsonl.stats.json")), b = read_json_file(dir.file("sharded/train.jsonl.stats.json"));
  for (const char* key : {"scenes", "examples", "records", "per_family", "chains_rejected"}) EXPECT_EQ(a[key], b[key]) << key;

  // Parts of another job are refused, naming the setting.
  auto other = test::run_command(kTaco + gen + dir.file("other.jsonl") + " --seed 9 --shard 1/3");
  ASSERT_EQ(other.code, 0) << other.output;
  auto mixed = test::run_taco("merge " + dir.file("sharded/train.shard-0-of-3.jsonl") + " " + dir.file("other.shard-1-of-3.jsonl") +
                              " " + dir.file("sharded/train.shard-2-of-3.jsonl") + " --out " + dir.file("mixed.jsonl"));
  EXPECT_EQ(mixed.code, 1);
  EXPECT_NE(mixed.output.find("with seed 9"), std::string::npos) << mixed.output;
  auto plain = test::run_taco("merge " + dir.file("one/train.jsonl") + " --out " + dir.file("x.jsonl"));
  EXPECT_NE(plain.output.find("not the output of a sharded taco command"), std::string::npos) << plain.output;

  // A part that lost a record (edited, or copied while written) is refused, not merged short.
  std::string lines = read_file(dir.file("sharded/train.shard-1-of-3.jsonl"));
  lines.erase(0, lines.find('\n') + 1);
  write_file(dir.file("sharded/train.shard-1-of-3.jsonl"), lines);
  auto short_part = test::run_taco("merge " + parts + " --out " + dir.file("short.jsonl"));
  EXPECT_EQ(short_part.code, 1);
  EXPECT_NE(short_part.output.find("shard 1/3 (" + dir.file("sharded/train.shard-1-of-3.jsonl") + "): 1 of the"), std::string::npos)
      << short_part.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("short.jsonl")));
}

// A run's shard killed midway, or with tasks that failed, holds fewer traces than its manifest
// names: merge refuses it, naming the tasks, unless asked for what is there (--partial), which
// then says what is missing.
TEST(ShardMergeTest, APartWithFewerTracesThanItsManifestIsRefusedOrMergedAsPartial) {
  test::TempDir dir;
  test::write_test_image(dir.file("a.png"));
  std::string tasks;
  for (int i = 0; i < 4; ++i)
    tasks += "{\"id\": \"q" + std::to_string(i) + "\", \"images\": [\"a.png\"], \"question\": \"What is " + std::to_string(i) + " + 1?\"}\n";
  write_file(dir.file("tasks.jsonl"), tasks);
  // The model server refuses question 2 (a failed task, listed in shard 0's errors file).
  test::ScriptedServer server([](const Json& req, int) {
    const std::string text = req["messages"].dump();
    const int i = text[text.find("What is ") + 8] - '0';
    if (i == 2) return test::ScriptedServer::Reply{400, R"({"error": {"message": "no"}})"};
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(
        "{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"1\"}}]}")};
  });
  const std::string job = kTaco + " run --data " + dir.file("tasks.jsonl") + " --model m --endpoint " + server.base_url() +
                          " -q --out " + dir.file("runs/t.jsonl");
  for (int k = 0; k < 2; ++k) test::run_command("JOB_COMPLETION_INDEX=" + std::to_string(k) + " TACO_SHARDS=2 " + job);
  // Shard 1 was killed after its first task: its second trace never written.
  const std::string part1 = dir.file("runs/t.shard-1-of-2.jsonl");
  std::string lines = read_file(part1);
  ASSERT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);
  write_file(part1, lines.substr(0, lines.find('\n') + 1));
  const std::string parts = dir.file("runs/t.shard-0-of-2.jsonl") + " " + part1;

  auto refused = test::run_taco("merge " + parts + " --out " + dir.file("merged.jsonl"));
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.output.find("lack 2 of what their manifests promise"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("task q2 (failed: listed in"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("--partial"), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("merged.jsonl")));

  auto partial = test::run_taco("merge --partial " + parts + " --out " + dir.file("merged.jsonl"));
  ASSERT_EQ(partial.code, 0) << partial.output;
  EXPECT_NE(partial.output.find("partial: 2 missing"), std::string::npos) << partial.output;
  size_t merged = 0;
  for_each_jsonl(dir.file("merged.jsonl"), [&](size_t, Json&&) { ++merged; });
  EXPECT_EQ(merged, 2u);
  const Json missing = read_json_file(dir.file("merged.jsonl.missing.json"));
  EXPECT_TRUE(missing["partial"].get<bool>());
  EXPECT_EQ(missing["missing"].size(), 2u);
}

TEST(ShardMergeTest, RunAndDistillShardsFromAnIndexedJobMergeIntoOneRun) {
  test::TempDir dir;
  const std::string image = test::write_test_image(dir.file("a.png"));
  std::string tasks;
  for (int i = 0; i < 7; ++i)
    tasks += "{\"id\": \"q" + std::to_string(i) + "\", \"images\": [\"a.png\"], \"question\": \"What is " + std::to_string(i) +
             " + 1?\", \"answer\": \"" + std::to_string(i + 1) + "\"}\n";
  write_file(dir.file("tasks.jsonl"), tasks);
  // The loopback model answers i + 1, except for question 3 (a wrong answer: a Direct example).
  test::ScriptedServer server([](const Json& req, int) {
    const std::string text = req["messages"].dump();
    const size_t at = text.find("What is ");
    const int i = text[at + 8] - '0';
    const std::string answer = std::to_string(i == 3 ? 0 : i + 1);
    return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(
        "{\"thought\": \"Add one.\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"" + answer + "\"}}]}")};
  });
  const std::string model = " --model m --endpoint " + server.base_url() + " -q -j 3";
  for (const std::string command : {"run", "distill"}) {
    SCOPED_TRACE(command);
    const std::string job = kTaco + " " + command + " --data " + dir.file("tasks.jsonl") + model + " --out ";
    std::filesystem::create_directories(dir.file(command + "-one"));
    std::filesystem::create_directories(dir.file(command + "-sharded"));
    auto one = test::run_command(job + dir.file(command + "-one/traces.jsonl"));
    ASSERT_EQ(one.code, 0) << one.output;
    for (int k = 0; k < 3; ++k) {
      auto part = test::run_command("JOB_COMPLETION_INDEX=" + std::to_string(k) + " TACO_SHARDS=3 " + job +
                                    dir.file(command + "-sharded/traces.jsonl"));
      ASSERT_EQ(part.code, 0) << part.output;
    }
    // A shard's Direct examples go beside its traces: traces.shard-k-of-3.direct.jsonl.
    for (const std::string& suffix : command == "run" ? std::vector<std::string>{""} : std::vector<std::string>{"", ".direct"}) {
      const std::string file = "traces" + suffix;
      std::string parts;
      for (int k = 0; k < 3; ++k) parts += " " + dir.file(command + "-sharded/traces.shard-" + std::to_string(k) + "-of-3" + suffix + ".jsonl");
      const std::string merged = dir.file(command + "-sharded/" + file + ".jsonl");
      auto m = test::run_taco("merge" + parts + " --out " + merged);
      ASSERT_EQ(m.code, 0) << m.output;
      EXPECT_EQ(traces_by_id(merged), traces_by_id(dir.file(command + "-one/" + file + ".jsonl"))) << file;
      // In the data's order.
      std::vector<std::string> ids;
      for_each_jsonl(merged, [&](size_t, Json&& j) { ids.push_back(j["id"]); });
      if (file == "traces") {
        EXPECT_EQ(ids, (std::vector<std::string>{"q0", "q1", "q2", "q3", "q4", "q5", "q6"}));
      }
    }
  }
  // eval score takes a run's shards as they are.
  std::string parts;
  for (int k = 0; k < 3; ++k) parts += " " + dir.file("run-sharded/traces.shard-" + std::to_string(k) + "-of-3.jsonl");
  auto score = test::run_taco("eval score --data " + dir.file("tasks.jsonl") + " --traces" + parts);
  ASSERT_EQ(score.code, 0) << score.output;
  EXPECT_NE(score.output.find("| **overall** | 7 | **85.7** |"), std::string::npos) << score.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("run-sharded/traces.scores.jsonl")));
  auto twice = test::run_taco("eval score --data " + dir.file("tasks.jsonl") + " --traces" + parts + " " +
                              dir.file("run-one/traces.jsonl"));
  EXPECT_EQ(twice.code, 1);
  EXPECT_NE(twice.output.find("is answered again"), std::string::npos) << twice.output;
}

}  // namespace
}  // namespace taco
