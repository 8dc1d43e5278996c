// The taco command line: one file per subcommand, each registering itself on the app.
#pragma once

#include <CLI/CLI.hpp>

namespace taco {
struct ModelOptions;
struct Task;
struct Trace;
struct StepRecord;
}  // namespace taco

namespace taco::cli {

void add_run_command(CLI::App& app);
void add_parse_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_tools_command(CLI::App& app);
void add_kb_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_gen_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_distill_command(CLI::App& app);
void add_curate_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_train_vision_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_view_command(CLI::App& app);
void add_mcp_command(CLI::App& app);
void add_merge_command(CLI::App& app);
void add_rl_command(CLI::App& app);

// A command group given no subcommand prints its help (to stdout, exit 0), as `taco eval` or
// `taco` alone do.
void print_help_without_subcommand(CLI::App& group);

// Flags every command that talks to a model shares: --model, --endpoint, --temperature, ...
// `with_api_key` adds --api-key (taco serve and taco mcp use that name for their own key).
void add_model_flags(CLI::App& cmd, ModelOptions& options, bool with_api_key = true);

// --judge (alias --judge-model), --judge-endpoint, --judge-api-key[-env], --judge-cache; `what`
// ends the help of --judge ("free-form answers").
void add_judge_flags(CLI::App& cmd, ModelOptions& judge, std::string& cache, const std::string& what);

// Exit codes: 0 success, 1 failure (bad input, unreachable model, some tasks failed), 2 usage.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The exit code a command ends with when it returns normally: a command that has reported its
// own failure (some tasks failed, a reply did not parse) sets it to kExitFailure and returns.
int& exit_status();

// Readable episode output for a person watching `taco run` or `taco demo`.
void print_task(const Task& task);
void print_step(const Trace& trace, const StepRecord& step);
void print_outcome(const Trace& trace);

}  // namespace taco::cli
