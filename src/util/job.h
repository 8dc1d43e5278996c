// JobEvents: what a job is given besides its settings. A job is one whole piece of work that a
// command, the server or a test starts with one call (eval_run, distill, run_gen_job, ...);
// it reports through these events instead of printing, and stops early when asked.
//
// Settings and their errors: a job's settings are a struct, and an error about one names it as
// Struct.field ("EvalAllSettings.work_dir"); apps/taco/setting_flags.cpp maps those names to
// the flags that set them, so a person at the command line reads "--work-dir".
#pragma once

#include <functional>
#include <stop_token>
#include <string>

namespace taco {

struct JobEvents {
  // Text for the person running the job, as is (a job ends its lines with '\n'): what starts,
  // warnings, summaries (the CLI's stderr). Unset: not shown.
  std::function<void(const std::string&)> note;
  // The job's result as text (a report, a table): the CLI's stdout. Unset: not shown.
  std::function<void(const std::string&)> print;
  // Progress lines, and the announcements of what starts that go with them (-q turns both off).
  bool progress = false;
  // Asked to stop: no new unit of work (an episode, a scene) starts; what is done is kept.
  std::stop_token stop;

  void tell(const std::string& text) const {
    if (note) note(text);
  }
  void show(const std::string& text) const {
    if (print) print(text);
  }
  // An announcement: shown only with progress on.
  void announce(const std::string& text) const {
    if (progress) tell(text);
  }
};

// printf into a std::string, for the lines a job tells.
std::string format_text(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace taco
