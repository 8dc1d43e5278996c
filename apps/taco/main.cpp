// taco: run, generate, curate, train and evaluate multi-modal action models.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "command_line.h"
#include "setting_flags.h"
#include "commands.h"
#include "tools/worker.h"
#include "util/error.h"

namespace taco::cli {

int& exit_status() {
  static int code = 0;
  return code;
}

}  // namespace taco::cli

int main(int argc, char** argv) {
  // Tesseract's OpenMP threads make OCR ~10x slower unless OMP_THREAD_LIMIT is set before the
  // process starts (the runtime reads it at load time), so taco restarts itself with it set.
  // `taco train` and `taco train-vision` run no OCR and want libtorch's OpenMP threads (their
  // --threads): capped at one, a second libtorch thread spins instead of working. `taco synth`
  // and `taco gen` run no OCR either and skip the restart (a second process start, ~0.2 s).
  const std::string command = argc > 1 ? argv[1] : "";
  const bool no_ocr = command == "train" || command == "train-vision" || command == "synth" || command == "gen";
  if (!no_ocr && !std::getenv("OMP_THREAD_LIMIT")) {
    ::setenv("OMP_THREAD_LIMIT", "1", 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure; then go on, just slower
  }
  // Calculate and SolveMathEquation run in worker processes: this binary, as `taco tool-worker`.
  if (argc == 2 && std::string(argv[1]) == "tool-worker") return taco::serve_tool_requests();
  taco::set_tool_worker_program("/proc/self/exe");
  CLI::App app{"taco: a C++ engine for multi-modal action models (chains of thought and action)", "taco"};
  app.set_version_flag("--version", taco::cli::version_line());
  app.add_option("--config", "a TOML or JSON file of flag values for every command (docs/cli.md; default: $TACO_CONFIG)");
  taco::cli::print_help_without_subcommand(app);
  taco::cli::add_run_command(app);
  taco::cli::add_parse_command(app);
  taco::cli::add_demo_command(app);
  taco::cli::add_tools_command(app);
  taco::cli::add_kb_command(app);
  taco::cli::add_synth_command(app);
  taco::cli::add_gen_command(app);
  taco::cli::add_eval_command(app);
  taco::cli::add_distill_command(app);
  taco::cli::add_curate_command(app);
  taco::cli::add_train_command(app);
  taco::cli::add_train_vision_command(app);
  taco::cli::add_serve_command(app);
  taco::cli::add_view_command(app);
  taco::cli::add_mcp_command(app);
  taco::cli::add_merge_command(app);
  taco::cli::add_rl_command(app);
  auto* completion = app.add_subcommand("completion", "print the bash completion script, or the man page, made from the commands and flags");
  auto completion_kind = std::make_shared<std::string>("bash");
  completion->add_option("kind", *completion_kind, "bash (a completion script) or man (a roff man page)")
      ->check(CLI::IsMember({"bash", "man"}))->capture_default_str();
  completion->footer("Examples:\n  taco completion bash > ~/.local/share/bash-completion/completions/taco\n"
                     "  taco completion man | man -l -\n");
  completion->callback([&app, completion_kind] {
    std::fputs((*completion_kind == "man" ? taco::cli::man_page(app) : taco::cli::bash_completion(app)).c_str(), stdout);
  });
  app.add_subcommand("version", "print the version and the commit taco was built from")
      ->footer("Example:\n  taco version     # taco 0.1.0 (commit 050aa62c1f3e)\n")
      ->callback([] { std::printf("%s\n", taco::cli::version_line().c_str()); });
  app.footer("Examples:\n  taco demo\n  taco run --model embedded:models/taco-small --image scene.png --question \"How many cups are there?\"\n"
             "  taco eval --model embedded:models/taco-small --data MMVet --work-dir outputs\n"
             "  taco <command> --help\n");
  taco::cli::set_environment_names(app);
  const std::vector<std::string> given(argv + 1, argv + argc);
  // "Run 'taco eval run --help' for what it takes." after a line about the words given.
  auto help_hint = [&] {
    std::string command = "taco";
    for (const auto& word : taco::cli::command_path(app, given)) command += " " + word;
    return "Run '" + command + " --help' for what it takes.\n";
  };
  try {
    std::vector<std::string> args = given;
    if (std::string problem = taco::cli::unknown_word_problem(app, args); !problem.empty()) {
      std::fprintf(stderr, "taco: %s\n%s", problem.c_str(), help_hint().c_str());
      return taco::cli::kExitUsage;
    }
    args = taco::cli::with_config_file(app, std::move(args));
    std::reverse(args.begin(), args.end());  // CLI11 takes the words last first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own texts ("--jobs: Value abc not in range 1 to 4096 / Run with --help for more
    // information.") in taco's form, as every other error is.
    std::fprintf(stderr, "taco: %s\n%s", taco::cli::parse_error_text(e).c_str(), help_hint().c_str());
    return taco::cli::kExitUsage;
  } catch (const taco::Error& e) {
    std::fprintf(stderr, "taco: %s\n", taco::cli::with_flag_names(e.what()).c_str());
    return taco::cli::kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "taco: internal error: %s\n", e.what());
    return taco::cli::kExitFailure;
  }
  return taco::cli::exit_status();
}
