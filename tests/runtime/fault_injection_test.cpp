// Fault injection in the manner of LevelDB's: one batch of tasks, each answered by a scripted
// model with a reply that once killed taco or came back silently wrong (a division that raised
// SIGFPE, parsers that overflowed the stack, a usage field of the wrong type, bytes that are not
// UTF-8, bodies that are not completions). The batch runs through the taco binary to the end,
// and every task is accounted for: a trace, or a line in the errors file. `make sanitize` runs
// this under ASan and UBSan.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

using Reply = test::ScriptedServer::Reply;

std::string step(const std::string& action, const Json& arguments) {
  return Json{{"thought", "poisoned"}, {"actions", {{{"name", action}, {"arguments", arguments}}}}}.dump();
}
std::string terminate(const std::string& answer) { return step("Terminate", {{"answer", answer}}); }
std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// What each poisoned task's first reply is (as the completion's content, or as the whole HTTP
// reply when `raw`), and whether the task must end as a trace (the poison becomes an observation
// or an unparsable reply the model is told about) or may end in the errors file.
struct Poison {
  std::string content;
  bool raw = false;
  int status = 200;
  bool must_trace = true;
};

std::map<std::string, Poison> poisons() {
  std::string deep_parens = repeat("(", 20000) + "x" + repeat(")", 20000) + " = 1";
  std::map<std::string, Poison> p;
  p["calc-floordiv"] = {step("Calculate", {{"expression", "(-2)**63 // -1"}})};
  p["calc-mod"] = {step("Calculate", {{"expression", "(-2)**63 % -1"}})};
  p["calc-round-int"] = {step("Calculate", {{"expression", "round(9223372036854775807, -1)"}})};
  p["calc-round-float"] = {step("Calculate", {{"expression", "round(1e300, -400)"}})};
  p["calc-deep"] = {step("Calculate", {{"expression", repeat("(", 50000) + "1" + repeat(")", 50000)}})};
  p["solve-60kb"] = {step("SolveMathEquation", {{"query", repeat("x+", 30000) + "1 = 0"}})};
  p["solve-deep"] = {step("SolveMathEquation", {{"query", deep_parens}})};
  p["solve-decimal"] = {step("SolveMathEquation", {{"query", "0.1x = 0.3"}})};
  p["solve-pi"] = {step("SolveMathEquation", {{"query", "Pi = x"}})};
  p["terminate-30kb-unparsable"] = {R"({"thought": "t", "actions": [{"name": "Terminate", "arguments": {"answer": ")" + repeat("(a", 15000)};
  p["reply-deep-json"] = {repeat("[", 100000)};
  // Raw bytes 0xFF in the reply's text: JSON that no encoder would write, so the body is made by hand.
  p["reply-invalid-utf8"] = {R"({"choices": [{"index": 0, "message": {"role": "assistant", "content":
      "{\"thought\": \")" "\xff\xfe" R"(\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"a)" "\xff" R"(\"}}]}"}}]})", true};
  p["unknown-action"] = {step("FormatDisk", {{"drive", "C"}})};
  p["mistyped-arguments"] = {step("Crop", {{"image", 5}, {"bbox", "everything"}})};
  p["usage-null"] = {R"({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": null, "completion_tokens": null}})",
                     true, 200, false};
  p["body-not-json"] = {"<html>upstream overloaded</html>", true, 200, false};
  p["no-choices"] = {R"({"choices": []})", true, 200, false};
  p["content-not-string"] = {R"({"choices": [{"index": 0, "message": {"role": "assistant", "content": {"a": 1}}}]})", true, 200, false};
  p["server-error"] = {R"({"error": {"message": "boom"}})", true, 500, false};
  // Bodies nested past the reader's limit, and 20 MB of an unterminated string: an error whose
  // message quotes an excerpt, never the body and never a stack overflow.
  p["body-deep-json"] = {R"({"choices": )" + repeat("[", 100000) + repeat("]", 100000) + "}", true, 200, false};
  p["body-20mb-unterminated"] = {R"({"choices": [{"message": {"content": ")" + std::string(20 << 20, 'x'), true, 200, false};
  p["error-20mb-message"] = {R"({"error": {"message": ")" + std::string(20 << 20, 'e') + R"("}})", true, 400, false};
  p["arguments-deep"] = {R"({"thought": "t", "actions": [{"name": "Calculate", "arguments": {"expression": )" + repeat("[", 5000) +
                         repeat("]", 5000) + "}}]}"};
  return p;
}

TEST(FaultInjectionTest, APoisonedBatchRunsToTheEndWithEveryTaskAccountedFor) {
  test::TempDir dir;
  const auto poison = poisons();
  std::string image = test::write_test_image(dir.file("img.png"), 64, 48);
  std::string tasks;
  for (const auto& [id, p] : poison) tasks += Json{{"id", id}, {"images", {image}}, {"question", "poison:" + id}}.dump() + "\n";
  tasks += Json{{"id", "healthy"}, {"images", {image}}, {"question", "poison:none"}}.dump() + "\n";
  write_file(dir.file("tasks.jsonl"), tasks);

  test::ScriptedServer server([&](const Json& req, int) -> Reply {
    const std::string first_user = req["messages"][1].dump();
    size_t at = first_user.find("poison:");
    std::string id = at == std::string::npos ? "" : first_user.substr(at + 7, first_user.find_first_of("\" \\", at + 7) - at - 7);
    // The second reply of every episode ends it.
    if (req["messages"].size() > 2 || !poison.count(id)) return Reply{200, test::ScriptedServer::completion(terminate("done"))};
    const Poison& p = poison.at(id);
    return Reply{p.status, p.raw ? p.content : test::ScriptedServer::completion(p.content)};
  });
  write_file(dir.file("tools.json"), R"({"time_limit_s": 10})");
  test::CliResult r = test::run_taco("run --dataset " + dir.file("tasks.jsonl") + " --model scripted --endpoint " +
                                     server.base_url() + " --retries 0 --tools-config " + dir.file("tools.json") +
                                     " --out " + dir.file("out.jsonl") + " -j 2 -q");
  ASSERT_TRUE(r.code == 0 || r.code == 1) << "taco ended with " << r.code << ":\n" << r.output.substr(0, 4000);
  EXPECT_LT(r.output.size(), 100000u) << "what taco printed quotes the poisons whole";

  std::set<std::string> traced;
  std::map<std::string, std::string> failed;  // id -> error
  for_each_jsonl(dir.file("out.jsonl"), [&](size_t, Json&& j) { EXPECT_TRUE(traced.insert(j["id"].get<std::string>()).second); });
  if (std::filesystem::exists(dir.file("out.errors.jsonl"))) {
    for_each_jsonl(dir.file("out.errors.jsonl"), [&](size_t, Json&& j) {
      failed[j["id"].get<std::string>()] = j.value("error", "");
      EXPECT_FALSE(j.value("error", "").empty()) << j.dump();
      EXPECT_LT(j.value("error", "").size(), 2000u) << j["id"] << ": " << j.value("error", "").substr(0, 300);
    });
  }
  EXPECT_TRUE(traced.count("healthy"));
  for (const auto& [id, p] : poison) {
    EXPECT_TRUE(traced.count(id) + failed.count(id) == 1) << id << " is not accounted for exactly once";
    if (p.must_trace) {
      EXPECT_TRUE(traced.count(id)) << id << " should end as a trace, not fail with: " << failed[id];
    }
  }
  // The Calculate and Solve poisons are failed calls or answers the model read, never a number
  // made up silently: each observation is either an exact result or an error.
  for_each_jsonl(dir.file("out.jsonl"), [&](size_t, Json&& j) {
    const std::string id = j["id"];
    if (id == "solve-decimal") {
      EXPECT_NE(j.dump().find("x = 3"), std::string::npos) << j.dump().substr(0, 2000);
    }
    if (id == "solve-pi") {
      EXPECT_NE(j.dump().find("x = Pi"), std::string::npos) << j.dump().substr(0, 2000);
    }
  });
}

}  // namespace
}  // namespace taco
