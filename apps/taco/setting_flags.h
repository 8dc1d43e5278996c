// The command line's side of the job layer: which flag sets each job setting, so that what a job
// says about a setting ("EvalAllSettings.work_dir") reads as the flag a person types
// ("--work-dir"), and the JobEvents that print a job's news and results.
#pragma once

#include <string>

#include "util/job.h"

namespace taco::cli {

// `text` with every setting name the command line sets by a flag replaced by that flag.
std::string with_flag_names(std::string text);

// Events that print notes to stderr and results to stdout, setting names as flags; progress
// lines unless `quiet`.
JobEvents cli_events(bool quiet = false);

}  // namespace taco::cli
