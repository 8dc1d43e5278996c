#include "tools/image_store.h"
#include "tools/worker.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_support.h"
#include "tools/config.h"

namespace taco {
namespace {

using test::TempDir;

// Registries made while this is alive run Calculate and SolveMathEquation in worker processes
// of `program` (the taco binary, or a script that plays a misbehaving worker).
class WorkerProgram {
 public:
  explicit WorkerProgram(const std::string& program) { set_tool_worker_program(program); }
  ~WorkerProgram() { set_tool_worker_program(""); }
};

std::string write_script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.file(name);
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

ToolRegistry registry_with(double time_limit_s, int worker_memory_mb = 2048) {
  ToolsConfig config;
  config.json = Json{{"time_limit_s", time_limit_s}, {"worker_memory_mb", worker_memory_mb}};
  return make_tool_registry(config);
}

Json call(const ToolRegistry& r, const std::string& tool, const Json& args) {
  auto ctx = ImageStore("", 100).context_for("t");
  return r.execute(Action{tool, args}, ctx);
}

ToolError call_error(const ToolRegistry& r, const std::string& tool, const Json& args) {
  try {
    call(r, tool, args);
  } catch (const ToolError& e) {
    return e;
  }
  ADD_FAILURE() << tool << " did not fail";
  return ToolError(ToolFailure::kRuntimeError, "");
}

TEST(ToolWorkerTest, WorkersAnswerAsTheToolsDoInProcess) {
  ToolRegistry in_process = registry_with(10);
  WorkerProgram taco(TACO_BINARY);
  ToolRegistry isolated = registry_with(10);
  EXPECT_EQ(isolated.find("Calculate")->backend(), "builtin, worker process");
  for (const char* e : {"2**10", "round(3.14159, 2)", "1/0", "sqrt(-1)"}) {
    Json args{{"expression", e}};
    try {
      EXPECT_EQ(call(isolated, "Calculate", args), call(in_process, "Calculate", args)) << e;
    } catch (const ToolError& e_isolated) {
      ToolError e_here = call_error(in_process, "Calculate", args);
      EXPECT_EQ(e_isolated.observation(), e_here.observation()) << e;
    }
  }
  EXPECT_EQ(call(isolated, "SolveMathEquation", {{"query", "2x + 1 = 7"}}), call(in_process, "SolveMathEquation", {{"query", "2x + 1 = 7"}}));
}

// Workers are pooled across episode threads that come and go: a worker started by a thread
// that has since ended must still answer (the parent-death signal follows the thread that
// forked; taco forks every child from one launcher thread that lives as long as it does).
TEST(ToolWorkerTest, AWorkerStartedByAThreadThatEndedStillAnswers) {
  WorkerProgram program(TACO_BINARY);
  const ToolRegistry r = registry_with(30);
  Json first;
  std::thread([&] { first = call(r, "Calculate", Json{{"expression", "6*7"}}); }).join();
  EXPECT_EQ(first, Json({{"result", 42}}));
  // The thread that started the pooled worker is gone; give a parent-death signal time to land.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(r, "Calculate", Json{{"expression", "2+3"}}), Json({{"result", 5}}));

  auto child = std::unique_ptr<ChildProcess>();
  std::thread([&] { child = ChildProcess::start({{"cat"}, {}, 0, ""}); }).join();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(child->write_line("still here"));
  std::string line;
  ASSERT_EQ(child->read_line(line, 10), ChildProcess::ReadResult::kLine) << "the child " << child->wait_description();
  EXPECT_EQ(line, "still here");
}

// A child that writes one line without end: read in linear time up to its limit, then
// refused, with the memory let go.
TEST(ToolWorkerTest, AnEndlessLineFromAChildIsCutAtItsLimit) {
  ChildProcess::Options o;
  o.argv = {"sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x; echo; echo after"};
  o.max_line_bytes = 8 << 20;
  auto child = ChildProcess::start(o);
  std::string line;
  EXPECT_EQ(child->read_line(line, 60), ChildProcess::ReadResult::kTooLong);
}

TEST(ToolWorkerTest, AnOverrunningSolveIsKilledAtTheLimitAndTheNextCallGetsAFreshWorker) {
  WorkerProgram taco(TACO_BINARY);
  // The limit also covers a fresh worker's start, so it leaves room for a loaded machine (the
  // test once failed at 0.5 s while trainings shared the cores); the solve below never ends.
  ToolRegistry r = registry_with(2);
  auto start = std::chrono::steady_clock::now();
  ToolError e = call_error(r, "SolveMathEquation", {{"query", "(x+y+z+1)**300 = 2"}});
  EXPECT_EQ(e.kind(), ToolFailure::kTimeoutError);
  EXPECT_STREQ(e.what(), "SolveMathEquation did not finish within 2 seconds");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
  EXPECT_EQ(call(r, "SolveMathEquation", {{"query", "x - 3 = 0"}})["result"], "x = 3");
}

TEST(ToolWorkerTest, AWorkerThatCrashesIsOneFailedCallNamingTheSignal) {
  TempDir dir;
  WorkerProgram crashing(write_script(dir, "crash.sh", "read line\nkill -SEGV $$"));
  ToolRegistry r = registry_with(10);
  for (int i = 0; i < 2; ++i) {  // the second call starts a new worker, which crashes too
    ToolError e = call_error(r, "Calculate", {{"expression", "1+1"}});
    EXPECT_EQ(e.kind(), ToolFailure::kRuntimeError);
    EXPECT_STREQ(e.what(), "Calculate crashed (its worker process was killed by SIGSEGV)");
  }
}

TEST(ToolWorkerTest, AReplyThatIsNotTheProtocolIsAFailedCall) {
  TempDir dir;
  WorkerProgram garbled(write_script(dir, "garbled.sh", "read line\necho 'Segmentation fault?'"));
  ToolError e = call_error(registry_with(10), "Calculate", {{"expression", "1+1"}});
  EXPECT_EQ(e.kind(), ToolFailure::kRuntimeError);
  EXPECT_STREQ(e.what(), "Calculate's worker process answered something that is not a reply: Segmentation fault?");
}

TEST(ToolWorkerTest, WorkersRunUnderTheConfiguredMemoryLimit) {
  TempDir dir;
  WorkerProgram limits(write_script(dir, "limits.sh", "read line\necho \"{\\\"result\\\": {\\\"kb\\\": \\\"$(ulimit -v)\\\"}}\""));
  EXPECT_EQ(call(registry_with(10, 300), "Calculate", {{"expression", "1"}})["kb"], std::to_string(300 * 1024));
}

TEST(ToolWorkerTest, AWorkerProgramThatCannotStartIsAFailedCall) {
  WorkerProgram missing("/nonexistent/taco");
  ToolError e = call_error(registry_with(10), "Calculate", {{"expression", "1+1"}});
  EXPECT_EQ(e.kind(), ToolFailure::kRuntimeError);
  EXPECT_STREQ(e.what(), "Calculate could not run: cannot start /nonexistent/taco: No such file or directory");
}

}  // namespace
}  // namespace taco
