// The taco binary as a user meets it: exit codes and one clear message for bad input.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/embedded/embedded.h"
#include "serve/viewer.h"
#include "test_support.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

using Result = test::CliResult;
Result taco_cli(const std::string& args, const std::string& stdin_text = "") { return test::run_taco(args, stdin_text); }

TEST(CliTest, VersionAndUsage) {
  Result v = taco_cli("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.output.find("taco "), std::string::npos);
  EXPECT_EQ(taco_cli("run --no-such-flag").code, 2);
  EXPECT_EQ(taco_cli("").code, 0);  // the help
  EXPECT_EQ(taco_cli("run --help").code, 0);
}

// taco train --help quotes the defaults the trainer takes (they once said 1e-3 and 3,000 for the
// small model, which trains at 2e-3 with 2,000 pieces).
TEST(CliTest, TrainHelpQuotesTheTrainersDefaults) {
  auto r = test::run_taco("train --help");
  ASSERT_EQ(r.code, 0) << r.output;
  // docs/embedded.md's table
  for (const char* lr : {"tiny 3e-3", "small 2e-3", "base 1e-3"}) EXPECT_NE(r.output.find(lr), std::string::npos) << lr << " in " << r.output;
  for (const char* size : {"tiny", "small", "base"})
    EXPECT_NE(r.output.find(std::string(size) + " " + std::to_string(training_defaults(size).vocab)), std::string::npos) << r.output;
  EXPECT_EQ(training_defaults("small").vocab, 2000);
}

// The shipped model by name from any folder: `embedded:taco-small`, and the README's
// `embedded:models/taco-small` where there is no models/ (after make install, say).
TEST(CliTest, TheShippedModelIsFoundByNameAnywhere) {
  test::TempDir dir;
  test::write_test_image(dir.file("scene.png"));
  for (const std::string spec : {"embedded:taco-small", "embedded:models/taco-small"}) {
    Result r = test::run_command("cd " + dir.path() + " && " + TACO_BINARY + " run --model " + spec +
                                 " --image scene.png --question 'How many cones are there?' -q 2>&1");
    EXPECT_EQ(r.code, 0) << spec << ": " << r.output;
  }
  Result missing = test::run_command("cd " + dir.path() + " && " + TACO_BINARY + " run --model embedded:no-such-model --image scene.png --question q -q 2>&1");
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.output.find("no-such-model"), std::string::npos) << missing.output;

  // run defaults to it as serve and mcp do (it wanted --model), and names it by its short id.
  Result plain = test::run_command("cd " + dir.path() + " && " + TACO_BINARY +
                                   " run --image scene.png --question 'How many cones are there?' -q --out t.jsonl 2>&1");
  ASSERT_EQ(plain.code, 0) << plain.output;
  std::string model;
  for_each_jsonl(dir.file("t.jsonl"), [&](size_t, Json&& j) { model = j["model"]; });
  EXPECT_EQ(model, "embedded:taco-small");
  // serve's /v1/models lists it by that id, not by an absolute path.
  std::string log;
  int port = 0;
  auto serve = test::start_taco_listening("serve --port 0 --no-access-log --work-dir " + dir.file("work"), port, log);
  ASSERT_GT(port, 0) << log;
  httplib::Client c("127.0.0.1", port);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(Json::parse(models->body)["data"][0]["id"], "embedded:taco-small") << models->body;
  ::kill(serve->pid(), SIGTERM);
}

TEST(CliTest, VersionNamesTheCommit) {
  Result v = taco_cli("version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.output.rfind("taco " TACO_VERSION " (commit ", 0), 0u) << v.output;
  EXPECT_EQ(taco_cli("--version").output, v.output);
}

TEST(CliTest, UnknownWordsAreNamedWithTheNearest) {
  Result command = taco_cli("rnu --model m");
  EXPECT_EQ(command.code, 2);
  EXPECT_EQ(command.output, "taco: unknown command 'rnu' for 'taco'; did you mean 'run'?\nRun 'taco --help' for what it takes.\n");
  Result sub = taco_cli("eval scor --data x");
  EXPECT_EQ(sub.code, 2);
  EXPECT_NE(sub.output.find("unknown command 'scor' for 'taco eval'; did you mean 'score'?"), std::string::npos) << sub.output;
  // The unknown flag is named even though a required flag is missing too.
  Result flag = taco_cli("run --modle m");
  EXPECT_EQ(flag.code, 2);
  EXPECT_NE(flag.output.find("unknown flag --modle for 'taco run'; did you mean --model?"), std::string::npos) << flag.output;
  EXPECT_NE(flag.output.find("Run 'taco run --help'"), std::string::npos) << flag.output;
  // A negative number is a value, not a flag; a flag of another command is not taken for this one's.
  Result negative = taco_cli("run --model replay:" + test::TempDir().file("none.json") + " --seed -1 --question q");
  EXPECT_NE(negative.output.find("none.json does not exist"), std::string::npos) << negative.output;
  Result elsewhere = taco_cli("synth --out x --model m");
  EXPECT_EQ(elsewhere.code, 2);
  EXPECT_NE(elsewhere.output.find("unknown flag --model for 'taco synth'"), std::string::npos) << elsewhere.output;
  Result nothing_near = taco_cli("run --zzzzzzzz");
  EXPECT_EQ(nothing_near.output, "taco: unknown flag --zzzzzzzz for 'taco run'\nRun 'taco run --help' for what it takes.\n");
}

TEST(CliTest, GroupsWithoutASubcommandPrintTheirHelp) {
  for (const std::string group : {"", "eval", "tools", "kb"}) {
    Result help = taco_cli(group);
    EXPECT_EQ(help.code, 0) << group;
    EXPECT_NE(help.output.find("Usage: taco" + (group.empty() ? "" : " " + group)), std::string::npos) << help.output;
    EXPECT_NE(help.output.find("Subcommands:"), std::string::npos) << help.output;
  }
  // Every command's help ends with an example.
  for (const std::string command : {"run", "parse", "demo", "tools list", "tools call", "kb import", "kb query", "synth", "gen",
                                    "eval", "eval run", "eval score", "eval compare", "eval list", "distill", "curate", "export",
                                    "train", "serve", "view", "mcp", "merge", "completion", "version"}) {
    Result help = taco_cli(command + " --help");
    EXPECT_EQ(help.code, 0) << command;
    const size_t example = help.output.rfind("Example");
    ASSERT_NE(example, std::string::npos) << command;
    EXPECT_NE(help.output.find("taco " + command.substr(0, command.find(' ')), example), std::string::npos) << command;
  }
}

// make install's layout works from anywhere: the modules, the sample knowledge base and the
// shipped model are found beside the installed binary; the man page and completion are made.
TEST(CliTest, InstallCompletionAndManPage) {
  test::TempDir dir;
  Result install = test::run_command(std::string(TACO_SOURCE_DIR) + "/scripts/install " +
                                     std::filesystem::path(TACO_BINARY).parent_path().string() + " " + dir.file("prefix"));
  ASSERT_EQ(install.code, 0) << install.output;
  const std::string taco = "cd / && " + dir.file("prefix/bin/taco");
  EXPECT_EQ(test::run_command(taco + " version").output, taco_cli("version").output);
  Result kb = test::run_command("TACO_KB= XDG_DATA_HOME=" + dir.file("data") + " " + taco +
                                " tools call QueryKnowledgeBase --args '{\"query\": \"Eiffel Tower\"}'");
  EXPECT_NE(kb.output.find("'title': 'Eiffel Tower'"), std::string::npos) << kb.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("prefix/share/man/man1/taco.1.gz")));
  const std::string completion = read_file(dir.file("prefix/share/bash-completion/completions/taco"));
  EXPECT_NE(completion.find("\"eval:run\") path=\"eval run\";;"), std::string::npos);
  EXPECT_NE(completion.find("complete -o default -F _taco taco"), std::string::npos);
  Result complete = test::run_command("bash -c 'source " + dir.file("prefix/share/bash-completion/completions/taco") +
                                      "; COMP_WORDS=(taco eval run --da); COMP_CWORD=3; _taco; echo \"${COMPREPLY[*]}\"'");
  EXPECT_EQ(complete.output, "--data --data-dir\n");
  Result man = taco_cli("completion man");
  EXPECT_EQ(man.output.rfind(".TH TACO 1", 0), 0u);
  EXPECT_NE(man.output.find(".SH \"TACO EVAL RUN\""), std::string::npos);
}

TEST(CliTest, OldSpellingsStillWork) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  write_file(dir.file("rec.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"x\"}}]}"])");
  write_file(dir.file("tasks.jsonl"), "{\"id\": 1, \"images\": [\"a.png\"], \"question\": \"q\"}\n");
  for (const std::string input : {"--data", "--dataset"}) {
    Result r = taco_cli("run --model replay:" + dir.file("rec.json") + " " + input + " " + dir.file("tasks.jsonl") + " --out " +
                        dir.file(input.substr(2) + ".jsonl"));
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("1 tasks: 1 done now"), std::string::npos) << r.output;
  }
  ASSERT_EQ(taco_cli("synth -q --n 2 --out " + dir.file("world")).code, 0);
  const std::string scenes = dir.file("world/scene-graph-annotations.json");
  for (const std::string input : {"--data", "--annotations"}) {
    Result r = taco_cli("gen -q " + input + " " + scenes + " --no-images --limit 3 --out " + dir.file(input.substr(2) + ".jsonl"));
    EXPECT_EQ(r.code, 0) << r.output;
  }
  EXPECT_EQ(read_file(dir.file("data.jsonl")), read_file(dir.file("annotations.jsonl")));
}

// --config FILE (or $TACO_CONFIG) and TACO_ARG_* variables: the command line wins over the
// variable, the variable over the file; a key no command has is refused with the nearest.
TEST(CliTest, ConfigFileAndEnvironmentVariables) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  write_file(dir.file("from-file.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"file\"}}]}"])");
  write_file(dir.file("from-env.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"env\"}}]}"])");
  write_file(dir.file("from-flag.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"flag\"}}]}"])");
  write_file(dir.file("taco.toml"), "# settings\nmodel = \"replay:" + dir.file("from-file.json") +
                                        "\"  # the recording\nmax_replies = 3\n\n[run]\nquiet = true\n\n[eval.score]\njudge = \"gpt-4o-mini\"\n");
  const std::string ask = " --image " + image + " --question q";
  Result file = taco_cli("run --config " + dir.file("taco.toml") + ask);
  EXPECT_EQ(file.code, 0) << file.output;
  EXPECT_EQ(file.output, "file\n");  // quiet from [run]
  Result before_command = taco_cli("--config=" + dir.file("taco.toml") + " run" + ask);
  EXPECT_EQ(before_command.output, "file\n");
  const std::string binary = TACO_BINARY;
  Result env = test::run_command("TACO_ARG_MODEL=replay:" + dir.file("from-env.json") + " TACO_CONFIG=" + dir.file("taco.toml") +
                                 " " + binary + " run" + ask);
  EXPECT_EQ(env.output, "env\n");
  Result flag = test::run_command("TACO_ARG_MODEL=replay:" + dir.file("from-env.json") + " TACO_CONFIG=" + dir.file("taco.toml") +
                                  " " + binary + " run --model replay:" + dir.file("from-flag.json") + ask);
  EXPECT_EQ(flag.output, "flag\n");
  EXPECT_NE(taco_cli("run --help").output.find("(Env:TACO_ARG_MODEL)"), std::string::npos);
  EXPECT_NE(taco_cli("eval score --help").output.find("--judge,--judge-model TEXT (Env:TACO_ARG_JUDGE)"), std::string::npos);

  // The same settings as JSON.
  write_file(dir.file("taco.json"), "{\"model\": \"replay:" + dir.file("from-file.json") + "\", \"run\": {\"quiet\": true}}");
  EXPECT_EQ(taco_cli("run --config " + dir.file("taco.json") + ask).output, "file\n");

  write_file(dir.file("typo.toml"), "modle = \"m\"\n");
  Result typo = taco_cli("run --config " + dir.file("typo.toml") + ask);
  EXPECT_EQ(typo.code, 1);
  EXPECT_EQ(typo.output, "taco: " + dir.file("typo.toml") + ": no taco command has a flag --modle; did you mean model?\n");
  write_file(dir.file("section.toml"), "[evl]\njudge = \"j\"\n");
  EXPECT_NE(taco_cli("run --config " + dir.file("section.toml") + ask).output.find("[evl] names no taco command; did you mean [eval]?"),
            std::string::npos);
  write_file(dir.file("not-here.toml"), "[synth]\nmodel = \"m\"\n");
  EXPECT_NE(taco_cli("run --config " + dir.file("not-here.toml") + ask).output.find("no taco command under 'synth' has a flag --model"),
            std::string::npos);
  write_file(dir.file("unquoted.toml"), "model = replay\n");
  EXPECT_NE(taco_cli("run --config " + dir.file("unquoted.toml") + ask).output.find("unquoted.toml:1: cannot read the value replay"),
            std::string::npos);
  EXPECT_NE(taco_cli("run --config " + dir.file("none.toml") + ask).output.find("none.toml"), std::string::npos);

  // A key given twice is refused, naming it (the file's second thought must not lose silently
  // to its first, nor the other way round), in TOML and in JSON; so is a section given twice.
  write_file(dir.file("twice.toml"), "model = \"a\"\nmax_replies = 3\nmodel = \"b\"\n");
  EXPECT_EQ(taco_cli("run --config " + dir.file("twice.toml") + ask).output,
            "taco: " + dir.file("twice.toml") + ":3: the key model is given twice\n");
  write_file(dir.file("sections.toml"), "[run]\nquiet = true\n[run]\njobs = 2\n");
  EXPECT_NE(taco_cli("run --config " + dir.file("sections.toml") + ask).output.find("sections.toml:3: the section [run] is given twice"),
            std::string::npos);
  write_file(dir.file("twice.json"), "{\"run\": {\"quiet\": true, \"quiet\": false}}");
  EXPECT_EQ(taco_cli("run --config " + dir.file("twice.json") + ask).output,
            "taco: " + dir.file("twice.json") + ": the key \"quiet\" is given twice in one object\n");
  // Relative paths in a config file start at its folder (as a tools config's do), wherever taco
  // runs: the recording it names is found and the traces go beside it. A benchmark's name stays a name.
  make_dirs(dir.file("project"));
  make_dirs(dir.file("elsewhere"));
  write_file(dir.file("project/rec.json"), read_file(dir.file("from-file.json")));
  write_file(dir.file("project/taco.toml"), "model = \"replay:rec.json\"\n[run]\nquiet = true\nout = \"runs/t.jsonl\"\n[eval.run]\ndata = \"TacoMini\"\n");
  make_dirs(dir.file("project/runs"));
  Result moved = test::run_command("cd " + dir.file("elsewhere") + " && " + binary + " run --config ../project/taco.toml" + ask + " 2>&1");
  EXPECT_EQ(moved.output, "file\n");
  EXPECT_TRUE(std::filesystem::exists(dir.file("project/runs/t.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("elsewhere/runs")));

  // A number past what the setting can hold names the file and line, not "internal error: stoll".
  write_file(dir.file("huge.toml"), "[run]\njobs = 99999999999999999999999\n");
  EXPECT_EQ(taco_cli("run --config " + dir.file("huge.toml") + ask).output,
            "taco: " + dir.file("huge.toml") + ":2: the number 99999999999999999999999 is out of range\n");
}

TEST(CliTest, ParseCommand) {
  Result ok = taco_cli("parse", "```json\n{'thought': 'x', 'actions': [{'name': 'OCR', 'arguments': {'image': 'image-0'}}]}\n```");
  EXPECT_EQ(ok.code, 0);
  EXPECT_EQ(ok.output, "{\"thought\":\"x\",\"actions\":[{\"name\":\"OCR\",\"arguments\":{\"image\":\"image-0\"}}]}\n");
  Result bad = taco_cli("parse", "no json here");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("\"error\":\"json\""), std::string::npos) << bad.output;
  // Bytes that are not UTF-8 (once an internal error while printing).
  Result raw = taco_cli("parse", "\xff\xff");
  EXPECT_EQ(raw.code, 1);
  EXPECT_EQ(raw.output.rfind("{\"error\":\"json\"", 0), 0u) << raw.output;
  Result in_thought = taco_cli("parse", "{\"thought\": \"\xff\", \"actions\": []}");
  EXPECT_EQ(in_thought.code, 0) << in_thought.output;
  EXPECT_EQ(in_thought.output, "{\"thought\":\"\xEF\xBF\xBD\",\"actions\":[]}\n");
}

TEST(CliTest, BadInputGivesOneClearLine) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  Result no_question = taco_cli("run --model m");
  EXPECT_EQ(no_question.code, 1);
  EXPECT_EQ(no_question.output, "taco: give --question (with --image) or --data tasks.jsonl\n");

  // CLI11's own refusals in taco's one-line form, with the command's help named (they read
  // "--jobs: Value abc not in range 1 to 4096 / Run with --help for more information.").
  EXPECT_EQ(taco_cli("run -j abc --question q").output, "taco: --jobs: abc is not a number from 1 to 4096\nRun 'taco run --help' for what it takes.\n");
  EXPECT_EQ(taco_cli("run --question").output, "taco: --question needs a value\nRun 'taco run --help' for what it takes.\n");
  Result not_one_of = taco_cli("run --prompt foo --question q");
  EXPECT_EQ(not_one_of.code, 2);
  EXPECT_EQ(not_one_of.output, "taco: --prompt: foo is not one of cota, direct\nRun 'taco run --help' for what it takes.\n");
  EXPECT_EQ(taco_cli("eval score --data x --traces " + dir.file("none.jsonl")).output,
            "taco: --traces: no such file: " + dir.file("none.jsonl") + "\nRun 'taco eval score --help' for what it takes.\n");
  EXPECT_EQ(taco_cli("train --out t").output, "taco: --data is required\nRun 'taco train --help' for what it takes.\n");

  // Once a division by zero (SIGFPE) before the shard was checked.
  write_file(dir.file("scenes.json"), "{}");
  Result no_shards = taco_cli("gen --annotations " + dir.file("scenes.json") + " --out " + dir.file("g.jsonl") + " --shard 0/0");
  EXPECT_EQ(no_shards.code, 1);
  EXPECT_EQ(no_shards.output, "taco: --shard must be k/N with 0 <= k < N\n");

  Result no_replay = taco_cli("run --model replay:" + dir.file("none.json") + " --image " + image + " --question q");
  EXPECT_EQ(no_replay.code, 1);
  EXPECT_NE(no_replay.output.find("none.json does not exist"), std::string::npos) << no_replay.output;

  write_file(dir.file("rec.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"x\"}}]}"])");
  Result missing_image = taco_cli("run -q --model replay:" + dir.file("rec.json") + " --image " + dir.file("nope.jpg") + " --question q");
  EXPECT_EQ(missing_image.code, 1);
  EXPECT_NE(missing_image.output.find("nope.jpg: cannot open"), std::string::npos) << missing_image.output;

  write_file(dir.file("garbage.png"), "this is not an image at all");
  Result unreadable = taco_cli("run -q --model replay:" + dir.file("rec.json") + " --image " + dir.file("garbage.png") + " --question q");
  EXPECT_EQ(unreadable.code, 1);
  EXPECT_NE(unreadable.output.find("not an image taco reads"), std::string::npos) << unreadable.output;

  Result unreachable = taco_cli("run -q --model m --endpoint http://127.0.0.1:1/v1 --retries 0 --image " + image + " --question q");
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_NE(unreachable.output.find("cannot reach http://127.0.0.1:1/v1/chat/completions"), std::string::npos) << unreachable.output;

  write_file(dir.file("tasks.jsonl"), "{\"id\": 1, \"question\": \"q\"}\n{broken\n");
  Result bad_dataset = taco_cli("run --model replay:" + dir.file("rec.json") + " --dataset " + dir.file("tasks.jsonl") +
                                " --out " + dir.file("o.jsonl"));
  EXPECT_EQ(bad_dataset.code, 1);
  EXPECT_NE(bad_dataset.output.find("tasks.jsonl:2: malformed JSON"), std::string::npos) << bad_dataset.output;

  // A bad line quotes a short excerpt of itself, never the whole (once a 300 MB line gave a
  // 314 MB message); a line over the record limit is refused without being held whole.
  write_file(dir.file("long.jsonl"), "{\"id\": \"" + std::string(5 << 20, 'x') + "\n");
  Result long_line = taco_cli("run --model replay:" + dir.file("rec.json") + " --data " + dir.file("long.jsonl") + " --out " + dir.file("o2.jsonl"));
  EXPECT_EQ(long_line.code, 1);
  EXPECT_NE(long_line.output.find("long.jsonl:1: malformed JSON"), std::string::npos) << long_line.output.substr(0, 500);
  EXPECT_LT(long_line.output.size(), 1000u);
  {
    std::ofstream huge(dir.file("huge.jsonl"));
    huge << "{\"id\": \"" << std::string(kMaxRecordBytes, 'x') << "\"}\n";
  }
  Result huge_line = taco_cli("run --model replay:" + dir.file("rec.json") + " --data " + dir.file("huge.jsonl") + " --out " + dir.file("o3.jsonl"));
  EXPECT_EQ(huge_line.code, 1);
  EXPECT_NE(huge_line.output.find("huge.jsonl:1: a record over 64 MB"), std::string::npos) << huge_line.output.substr(0, 500);
  EXPECT_LT(huge_line.output.size(), 1000u);
}

TEST(CliTest, RunOneQuestionAppendsATrace) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  write_file(dir.file("rec.json"),
             R"(["{\"thought\": \"sum\", \"actions\": [{\"name\": \"Calculate\", \"arguments\": {\"expression\": \"2+2\"}}]}",
                 "{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"4\"}}]}"])");
  std::string args = "run --model replay:" + dir.file("rec.json") + " --image " + image + " --question 'What is 2+2?' --out " +
                     dir.file("t.jsonl");
  Result r = taco_cli(args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("action: Calculate {\"expression\": \"2+2\"}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("observation: {'result': 4}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Answer: 4"), std::string::npos) << r.output;
  EXPECT_EQ(taco_cli(args).code, 0);
  int n = 0;
  for_each_jsonl(dir.file("t.jsonl"), [&](size_t, Json&& j) {
    ++n;
    EXPECT_EQ(j["answer"], "4");
  });
  EXPECT_EQ(n, 2);
}

TEST(CliTest, DatasetRunReportsAndResumes) {
  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"));
  write_file(dir.file("rec.json"), R"(["{\"thought\": \"\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"x\"}}]}"])");
  std::string tasks;
  // Three of the five have the answer the model gives.
  for (int i = 0; i < 5; ++i)
    tasks += "{\"id\": " + std::to_string(i) + ", \"images\": [\"a.png\"], \"question\": \"q\", \"answer\": \"" + (i < 3 ? "x" : "y") + "\"}\n";
  write_file(dir.file("tasks.jsonl"), tasks);
  std::string args = "run --model replay:" + dir.file("rec.json") + " --dataset " + dir.file("tasks.jsonl") + " --out " +
                     dir.file("out.jsonl") + " -j 3";
  Result first = taco_cli(args);
  EXPECT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("5 tasks: 5 done now, 0 already in"), std::string::npos) << first.output;
  // The tasks carry answers: the run says how many it got right.
  EXPECT_NE(first.output.find("accuracy: 60.0% (3 of 5 answers in " + dir.file("out.jsonl") + " right, taco's matching)"), std::string::npos)
      << first.output;
  Result second = taco_cli(args);
  EXPECT_NE(second.output.find("5 tasks: 0 done now, 5 already in"), std::string::npos) << second.output;
}

TEST(CliTest, DemoRunsOffline) {
  test::TempDir dir;
  Result r = taco_cli("demo --out " + dir.file("demo"));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Answer: 10.28"), std::string::npos) << r.output;
}

// The model that ships still loads and still answers: a change to the tokenizer, the
// conversation rendering or the network that broke it would drop it to chance or below.
TEST(CliTest, DemoRunsTheShippedModel) {
  test::TempDir dir;
  Result r = taco_cli("demo --out " + dir.file("demo") + " --model " + std::string(TACO_SOURCE_DIR) + "/models/taco-small");
  ASSERT_EQ(r.code, 0) << r.output;
  int right = -1, asked = 0;
  ASSERT_EQ(std::sscanf(r.output.c_str() + r.output.rfind("\n== ") + 4, "%d of %d answered right", &right, &asked), 2) << r.output;
  // With the learned vision models shipped, a 15th question is about a picture nobody annotated:
  // the oracle's fallback answers, announced and recorded in the trace.
  const bool learned = std::filesystem::exists(std::string(TACO_SOURCE_DIR) + "/models/taco-vision/detector/config.json");
  const size_t expected = learned ? 15 : 14;
  EXPECT_EQ(asked, static_cast<int>(expected));
  EXPECT_GE(right, 5) << r.output;
  size_t lines = 0, fallback_steps = 0;
  for_each_jsonl(dir.file("demo/model-traces.jsonl"), [&](size_t, Json&& t) {
    ++lines;
    for (const auto& step : t.value("steps", Json::array()))
      if (step.contains("details") && step["details"].is_object() && step["details"].contains("vision_backend")) ++fallback_steps;
  });
  EXPECT_EQ(lines, expected);
  if (learned) {
    EXPECT_NE(r.output.find("images the oracle's annotations do not cover go to the learned backend"), std::string::npos) << r.output;
    EXPECT_GE(fallback_steps, 1u) << "the unannotated picture's vision calls record the fallback";
  }
  // The verdicts, as taco eval score writes them: taco view --scores shows them.
  double scored = 0;
  size_t scores = 0;
  for_each_jsonl(dir.file("demo/model-traces.scores.jsonl"), [&](size_t, Json&& j) {
    scored += j.at("score").get<double>();
    ++scores;
  });
  EXPECT_EQ(scores, expected);
  EXPECT_EQ(scored, right);
  const TraceViewer viewer(dir.file("demo/model-traces.jsonl"), dir.file("demo/model-traces.scores.jsonl"));
  EXPECT_EQ(viewer.page(0, 20, "", "yes")["total"].get<int>(), right);  // the episodes scored right
}

}  // namespace
}  // namespace taco

namespace taco {
namespace {

TEST(CliToolsTest, ListAndCall) {
  Result list = taco_cli("tools list --json");
  ASSERT_EQ(list.code, 0) << list.output;
  Json tools = Json::parse(list.output);
  EXPECT_EQ(tools.size(), 17u);
  EXPECT_EQ(tools[0]["name"], "OCR");
  EXPECT_EQ(tools.back()["name"], "Terminate");
  // The table's READY column starts at the same place on every tool's line, however long its
  // backend's name ("builtin, worker process").
  Result table = taco_cli("tools list");
  ASSERT_EQ(table.code, 0) << table.output;
  std::istringstream lines(table.output);
  std::string line;
  size_t column = std::string::npos, rows = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line.rfind("    ", 0) == 0) continue;
    const size_t at = line.find(line.rfind("NAME", 0) == 0 ? "READY" : (line.find("  yes") != std::string::npos ? "  yes" : "  no:"));
    ASSERT_NE(at, std::string::npos) << line;
    const size_t ready = line.rfind("NAME", 0) == 0 ? at : at + 2;
    if (column == std::string::npos) column = ready;
    EXPECT_EQ(ready, column) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 18u);  // the header and 17 tools

  Result calc = taco_cli("tools call Calculate --args '{\"expression\": \"2 ** 10 / 4\"}'");
  EXPECT_EQ(calc.code, 0);
  EXPECT_EQ(calc.output, "{'result': 256.0}\n");

  test::TempDir dir;
  std::string image = test::write_test_image(dir.file("a.png"), 200, 100);
  Result crop = taco_cli("tools call Crop --image " + image + " --out-dir " + dir.file("out") +
                         " --args '{\"image\": \"image-0\", \"bbox\": [0.1, 0.1, 0.5, 0.5]}'");
  EXPECT_EQ(crop.code, 0) << crop.output;
  EXPECT_NE(crop.output.find("image-1 saved to " + dir.file("out/Crop-1.png")), std::string::npos) << crop.output;
  // A second call writes a new file (--out, the current name of --out-dir).
  Result again = taco_cli("tools call Crop --image " + image + " --out " + dir.file("out") +
                          " --args '{\"image\": \"image-0\", \"bbox\": [0.2, 0.2, 0.6, 0.6]}'");
  EXPECT_NE(again.output.find("image-1 saved to " + dir.file("out/Crop-2.png")), std::string::npos) << again.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/Crop-1.png")));

  Result bad = taco_cli("tools call Crop --image " + image + " --args '{\"image\": \"image-0\", \"bbox\": [5, 5, 9, 9]}'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.output, "Execution failed with <class 'ValueError'>: Bounding box coordinates must be between 0 and 1.\n");
  EXPECT_EQ(taco_cli("tools call Calculate --args 'not json'").code, 1);
}

TEST(CliToolsTest, KnowledgeBaseImportAndQuery) {
  test::TempDir dir;
  write_file(dir.file("kb.jsonl"), "{\"title\": \"Zebra\", \"text\": \"Zebras are striped. They live in Africa.\"}\n");
  Result imp = taco_cli("kb import " + dir.file("kb.jsonl") + " --db " + dir.file("kb.sqlite"));
  EXPECT_EQ(imp.code, 0) << imp.output;
  write_file(dir.file("tools.json"), Json{{"tools", {{"QueryKnowledgeBase", {{"database", "kb.sqlite"}}}}}}.dump());
  Result q = taco_cli("tools call QueryKnowledgeBase --tools-config " + dir.file("tools.json") + " --args '{\"query\": \"zebra\"}'");
  EXPECT_EQ(q.code, 0) << q.output;
  EXPECT_EQ(q.output, "{'title': 'Zebra', 'url': '', 'summary': 'Zebras are striped. They live in Africa.'}\n");
  Result kq = taco_cli("kb query zebra --db " + dir.file("kb.sqlite"));
  EXPECT_EQ(kq.code, 0) << kq.output;
  EXPECT_EQ(kq.output, "Zebra\n  Zebras are striped. They live in Africa.\n\n");
  Result missing = taco_cli("kb query zebra --db " + dir.file("none.sqlite"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("none.sqlite: no such knowledge base"), std::string::npos) << missing.output;
}

// Without --db, taco kb import writes the knowledge base QueryKnowledgeBase then reads by
// default (under $XDG_DATA_HOME), started from the sample so that nothing queries found is
// lost, and importing again duplicates nothing.
TEST(CliToolsTest, KnowledgeBaseDefaultLocation) {
  test::TempDir dir;
  write_file(dir.file("kb.jsonl"), "{\"title\": \"Quokka\", \"text\": \"Quokkas are small marsupials.\"}\n");
  const std::string env = "XDG_DATA_HOME=" + dir.file("data") + " TACO_KB= " + std::string(TACO_BINARY);
  Result sample = test::run_command(env + " kb query quokka");
  EXPECT_NE(sample.output.find("kb-sample.sqlite"), std::string::npos) << sample.output;  // nothing there yet
  Result imp = test::run_command(env + " kb import " + dir.file("kb.jsonl"));
  EXPECT_EQ(imp.code, 0) << imp.output;
  EXPECT_NE(imp.output.find(dir.file("data/taco/kb.sqlite") + ": 1 entries added, 0 updated, 0 already there"), std::string::npos)
      << imp.output;
  Result again = test::run_command(env + " kb import " + dir.file("kb.jsonl"));
  EXPECT_NE(again.output.find("0 entries added, 0 updated, 1 already there"), std::string::npos) << again.output;
  Result tool = test::run_command(env + " tools call QueryKnowledgeBase --args '{\"query\": \"quokka\"}'");
  EXPECT_EQ(tool.output, "{'title': 'Quokka', 'url': '', 'summary': 'Quokkas are small marsupials.'}\n");
  // The new database started from the sample: what queries found before, they still find.
  EXPECT_NE(imp.output.find("started as a copy of the sample"), std::string::npos) << imp.output;
  Result eiffel = test::run_command(env + " kb query 'Eiffel Tower'");
  EXPECT_NE(eiffel.output.find("Eiffel Tower"), std::string::npos) << eiffel.output;
  EXPECT_EQ(eiffel.output.find("kb-sample.sqlite"), std::string::npos) << eiffel.output;  // read from the user's own
}

}  // namespace
}  // namespace taco
