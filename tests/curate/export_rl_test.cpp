// taco export --format rl: rollouts right or wrong with their rewards, the conversation as the
// model wrote it, and a taco rl run's tokens (ids, mask, log-probs aligned) where its sidecar
// lies beside the traces. Episodes come from taco run with a scripted model over HTTP.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>

#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

std::map<std::string, Json> records_by_id(const std::string& path) {
  std::map<std::string, Json> out;
  for_each_jsonl(path, [&](size_t, Json&& j) {
    const std::string id = j.value("id", "");  // before the move below (its right side goes first)
    out[id] = std::move(j);
  });
  return out;
}

class ExportRlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_dirs(dir_.file("data"));
    test::write_test_image(dir_.file("data/img.png"), 32, 24);
    std::string tasks;
    for (const char* id : {"right", "wrong", "recovered"})
      tasks += Json{{"id", id}, {"images", {"img.png"}}, {"question", "What is 6*7?"}, {"answer", "42"}}.dump() + "\n";
    write_file(dir_.file("data/tasks.jsonl"), tasks);
    // The tasks run one at a time (-j 1) in the file's order, right, wrong, recovered: a
    // conversation starts with a request that has no reply of the model's yet.
    auto conversation = std::make_shared<std::atomic<int>>(-1);
    test::ScriptedServer model([conversation](const Json& req, int) {
      std::string last_reply;
      for (const auto& m : req["messages"])
        if (m["role"] == "assistant") last_reply = m["content"];
      if (last_reply.empty()) ++*conversation;
      const char* terminate_42 = R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "42"}}]})";
      const char* terminate_41 = R"({"thought": "done", "actions": [{"name": "Terminate", "arguments": {"answer": "41"}}]})";
      const std::string reply = *conversation == 0 ? terminate_42 : *conversation == 1 ? terminate_41 : last_reply.empty() ? "it is 42, I think" : terminate_42;
      return test::ScriptedServer::Reply{200, test::ScriptedServer::completion(reply)};
    });
    auto run = test::run_taco("run --dataset " + dir_.file("data/tasks.jsonl") + " --model m --endpoint " + model.base_url() +
                              " --out " + dir_.file("runs/rollouts.jsonl") + " -q -j 1");
    ASSERT_EQ(run.code, 0) << run.output;
  }

  test::TempDir dir_;
};

TEST_F(ExportRlTest, RolloutsRightOrWrongWithTheirRewardsAndTheRepliesAsWritten) {
  auto ex = test::run_taco("export " + dir_.file("runs/rollouts.jsonl") + " --format rl --images keep --reward tool_cost=0.5 --out " +
                           dir_.file("out/rl.jsonl"));
  ASSERT_EQ(ex.code, 0) << ex.output;
  auto r = records_by_id(dir_.file("out/rl.jsonl"));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r["right"]["reward"], 1);
  EXPECT_EQ(r["right"]["right"], true);
  EXPECT_EQ(r["wrong"]["reward"], 0);
  EXPECT_EQ(r["wrong"]["answer"], "41");
  EXPECT_EQ(r["wrong"]["reference"], "42");
  EXPECT_DOUBLE_EQ(r["recovered"]["reward"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(r["recovered"]["reward_parts"]["parse"].get<double>(), -0.1);
  EXPECT_EQ(r["recovered"]["reward_rules"]["tool_cost"], 0.5);
  // The conversation as the model wrote it: the reply that did not parse, the feedback it got.
  const Json& m = r["recovered"]["messages"];
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0]["role"], "user");
  EXPECT_NE(m[0]["content"].get<std::string>().find("<image>"), std::string::npos);
  EXPECT_EQ(m[1]["content"], "it is 42, I think");
  EXPECT_EQ(m[2]["role"], "user");
  EXPECT_EQ(r["recovered"]["images"], Json({dir_.file("data/img.png")}));  // kept, as the trace named it
  EXPECT_FALSE(r["right"].contains("input_ids"));
}

TEST_F(ExportRlTest, ARunsTokensSidecarGivesTheTokensAlignedAndOneNotTheTracesOwnIsRefused) {
  const std::string sidecar = dir_.file("runs/rollouts.tokens.jsonl");
  // As a run writes them: one run of written tokens per reply (recovered replied twice).
  auto tokens_of = [](const std::string& id, bool right) {
    const bool twice = id == "recovered";
    return Json{{"id", id}, {"step", 3}, {"member", 1}, {"reward", 0.5}, {"right", right}, {"advantage", -0.25}, {"temperature", 1.0},
                {"ids", twice ? Json({5, 6, 7, 8, 9, 10}) : Json({5, 6, 7, 8})},
                {"mask", twice ? Json({0, 1, 1, 0, 1, 0}) : Json({0, 1, 1, 0})},
                {"logprobs", twice ? Json({-0.5, -1.5, -0.25}) : Json({-0.5, -1.5})},
                {"image_at", Json::array()}};
  };
  auto write_sidecar = [&](const std::vector<Json>& records) {
    std::string lines;
    for (const auto& r : records) lines += r.dump() + "\n";
    write_file(sidecar, lines);
  };
  write_sidecar({tokens_of("right", true), tokens_of("wrong", false), tokens_of("recovered", true)});
  auto ex = test::run_taco("export " + dir_.file("runs/rollouts.jsonl") + " --format rl --images keep --out " + dir_.file("out/rl.jsonl"));
  ASSERT_EQ(ex.code, 0) << ex.output;
  auto r = records_by_id(dir_.file("out/rl.jsonl"));
  const Json& one = r["wrong"];
  EXPECT_EQ(one["reward"], 0.5);  // the run's, under its frozen rules
  EXPECT_EQ(one["advantage"], -0.25);
  EXPECT_EQ(one["step"], 3);
  EXPECT_EQ(one["input_ids"], Json({5, 6, 7, 8}));
  EXPECT_EQ(one["loss_mask"], Json({0, 1, 1, 0}));
  EXPECT_EQ(one["logprobs"], Json({0.0, -0.5, -1.5, 0.0}));

  // Sidecars that are not these traces' own, or not what a run writes: each record refused, and
  // the command says so.
  auto refused = [&](const std::vector<Json>& records, const std::string& why) {
    write_sidecar(records);
    auto bad = test::run_taco("export " + dir_.file("runs/rollouts.jsonl") + " --format rl --images keep --out " + dir_.file("out/bad.jsonl"));
    EXPECT_NE(bad.code, 0) << why;
    EXPECT_NE(bad.output.find(why), std::string::npos) << bad.output;
  };
  Json extra = tokens_of("wrong", false);
  extra["logprobs"] = Json({-0.5, -1.5, -2.5});
  refused({tokens_of("right", true), extra, tokens_of("recovered", true)}, "more log-probabilities than written tokens");
  Json swapped_right = tokens_of("right", false), swapped_wrong = tokens_of("wrong", true);  // two ids swapped
  refused({swapped_right, swapped_wrong, tokens_of("recovered", true)}, "the sidecar is not these traces'");
  refused({tokens_of("right", true), tokens_of("wrong", false), tokens_of("recovered", true), tokens_of("right", true)}, "appears twice");
  Json one_reply = tokens_of("right", true);
  one_reply["id"] = "recovered";
  refused({tokens_of("right", true), tokens_of("wrong", false), one_reply}, "holds 1 reply and the trace 2");
  Json strange = tokens_of("wrong", false);
  strange["mask"] = Json({0, 1, 1, -1});
  refused({tokens_of("right", true), strange, tokens_of("recovered", true)}, "something other than 0 and 1");
}

}  // namespace
}  // namespace taco
