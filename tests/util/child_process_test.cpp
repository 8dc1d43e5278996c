// ask_child: the one policy taco holds its helper processes to (tool workers, stdio MCP servers).
#include "util/child_process.h"

#include <gtest/gtest.h>

namespace taco {
namespace {

std::unique_ptr<ChildProcess> shell(const std::string& script) { return ChildProcess::start({{"/bin/sh", "-c", script}, {}, 0}); }

TEST(AskChildTest, TheAnswerIsTheFirstLineTakenAndTheRestAreReadPast) {
  // Prints two lines of noise, then echoes the request.
  auto child = shell("echo noise; echo more noise; read line; echo \"got $line\"; read next");
  std::vector<std::string> seen;
  ChildAnswer a = ask_child(*child, "hello", 5, [&](const std::string& line) {
    seen.push_back(line);
    return line.rfind("got ", 0) == 0;
  });
  EXPECT_EQ(a.outcome, ChildAnswer::Outcome::kAnswered);
  EXPECT_EQ(a.line, "got hello");
  EXPECT_EQ(seen, (std::vector<std::string>{"noise", "more noise", "got hello"}));
}

TEST(AskChildTest, AChildOverTheLimitIsKilled) {
  auto child = shell("while read line; do echo \"$line\" >&2; done; sleep 30");
  ChildAnswer a = ask_child(*child, "request", 0.2, [](const std::string&) { return true; }, "goodbye");
  EXPECT_EQ(a.outcome, ChildAnswer::Outcome::kTimeout);
  EXPECT_NE(child->wait_description().find("killed"), std::string::npos) << child->wait_description();
}

TEST(AskChildTest, AChildThatStopsSaysHow) {
  auto child = shell("read line; exit 3");
  ChildAnswer a = ask_child(*child, "request", 5, [](const std::string&) { return true; });
  EXPECT_EQ(a.outcome, ChildAnswer::Outcome::kStopped);
  EXPECT_EQ(a.how, "exited with status 3");
}

TEST(AskChildTest, ALineOverTheLimitKillsTheChild) {
  ChildProcess::Options o{{"/bin/sh", "-c", "read line; head -c 5000 /dev/zero | tr '\\0' x; echo; sleep 30"}, {}, 0};
  o.max_line_bytes = 1000;
  auto child = ChildProcess::start(o);
  ChildAnswer a = ask_child(*child, "request", 5, [](const std::string&) { return true; });
  EXPECT_EQ(a.outcome, ChildAnswer::Outcome::kTooLong);
  EXPECT_NE(child->wait_description().find("killed"), std::string::npos);
}

}  // namespace
}  // namespace taco
