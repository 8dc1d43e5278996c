#include "util/shard.h"

#include <gtest/gtest.h>

#include <map>

#include "util/error.h"

namespace taco {
namespace {

Shard from_env(const std::map<std::string, std::string>& vars, const std::string& flag = "") {
  return shard_from(flag, [&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(ShardTest, FlagThenSlurmThenKubernetes) {
  EXPECT_FALSE(from_env({}).active());
  Shard flag = from_env({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}, "1/2");
  EXPECT_EQ(flag.to_string(), "1/2");
  EXPECT_EQ(flag.source, "Shard.spec");
  // Slurm arrays need not start at 0 (--array=1-8), and may step (--array=0-30:10).
  Shard slurm = from_env({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_COUNT", "8"}});
  EXPECT_EQ(slurm.to_string(), "4/8");
  EXPECT_EQ(slurm.source, "SLURM_ARRAY_TASK_ID");
  Shard stepped = from_env({{"SLURM_ARRAY_TASK_ID", "20"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_STEP", "10"},
                            {"SLURM_ARRAY_TASK_COUNT", "4"}});
  EXPECT_EQ(stepped.to_string(), "2/4");
  Shard k8s = from_env({{"JOB_COMPLETION_INDEX", "2"}, {"TACO_SHARDS", "3"}});
  EXPECT_EQ(k8s.to_string(), "2/3");
  EXPECT_TRUE(k8s.takes(5));
  EXPECT_FALSE(k8s.takes(6));
}

TEST(ShardTest, InconsistentSchedulersAreRefused) {
  EXPECT_THROW(from_env({}, "3/3"), Error);
  EXPECT_THROW(from_env({}, "a/b"), Error);
  EXPECT_THROW(from_env({}, "1/0"), Error);
  EXPECT_THROW(from_env({{"SLURM_ARRAY_TASK_ID", "3"}}), Error);  // no count
  EXPECT_THROW(from_env({{"SLURM_ARRAY_TASK_ID", "9"}, {"SLURM_ARRAY_TASK_COUNT", "8"}}), Error);  // past the count
  EXPECT_THROW(from_env({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_STEP", "2"}, {"SLURM_ARRAY_TASK_COUNT", "8"}}), Error);
  try {
    from_env({{"JOB_COMPLETION_INDEX", "2"}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TACO_SHARDS is not"), std::string::npos) << e.what();
  }
  EXPECT_THROW(from_env({{"JOB_COMPLETION_INDEX", "3"}, {"TACO_SHARDS", "3"}}), Error);
}

TEST(ShardTest, OutputPaths) {
  EXPECT_EQ((Shard{3, 16, ""}).output_path("out/train.jsonl"), "out/train.shard-03-of-16.jsonl");
  EXPECT_EQ((Shard{0, 2, ""}).output_path("train.json"), "train.shard-0-of-2.json");
  EXPECT_EQ((Shard{}).output_path("train.json"), "train.json");
}

}  // namespace
}  // namespace taco
