// Trace: the record of one episode, the type that flows through every taco command. The
// generators write traces, the runtime writes traces, curate filters them, export turns them
// into training formats, eval scores them. Its JSON form is versioned and documented in
// docs/trace-format.md. Plain value types.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cota/parse.h"
#include "cota/step.h"
#include "cota/task.h"
#include "util/json.h"

namespace taco {

// Version 2: relative image paths in a trace file start at the file's folder (version 1: at
// the folder the writing command ran in).
inline constexpr int kTraceVersion = 2;

enum class PromptMode { kCota, kDirect };
const char* to_string(PromptMode mode);
PromptMode prompt_mode_from_string(const std::string& s);  // throws Error

// How an episode ended.
enum class TraceStatus {
  kTerminated,  // the model called Terminate
  kMaxReplies,  // the reply budget ran out; the answer, if any, was extracted from the last message
  kContextFull, // the conversation outgrew the model's context; the answer, if any, as for kMaxReplies
  kDirect,      // a Direct-mode episode: one reply, which is the answer
  kError,       // the episode could not run (unreadable image, model unreachable); see `error`
};
const char* to_string(TraceStatus status);

struct StepRecord {
  std::string raw;                     // the assistant message exactly as the model wrote it
  std::optional<StepContent> content;  // the parsed step (CoTA mode), when it parsed
  ParseErrorKind parse_error = ParseErrorKind::kNone;
  Json observation;                    // the executed tool's result (an object), or null
  Json details;                        // extra tool output not shown to the model, or null
  std::string error_kind;              // "", "json", "schema", "unknown", "tool", "unknown_tool", "arguments"
  std::string error;                   // one-line message for error_kind
  std::string feedback;                // the exact user message sent back after this step ("" for the last)
  std::vector<std::string> new_images; // names of images the tool returned (image-k)
  double model_ms = 0;
  double tool_ms = 0;
  int prompt_tokens = 0;
  int completion_tokens = 0;

  Json to_json() const;
  static StepRecord from_json(const Json& j);
};

struct TraceImage {
  std::string name;    // image-k
  std::string path;    // the input file, or where the tool's output was saved
  std::string source;  // "input" or the name of the tool that made it
  int width = 0;
  int height = 0;
};

struct Trace {
  Task task;
  std::string model;
  PromptMode mode = PromptMode::kCota;
  std::string prompt_template_sha256;  // the template the runtime wrote the prompts with ("" when not run)
  bool inputs_blanked = false;         // the model saw gray input images (--blank-images); the tools saw the real ones
  std::string protocol = "cota";       // how actions were called: "cota" (JSON in the reply) or "tools" (OpenAI tool_calls)
  std::string user_request;  // the first user message (text, with image-k: <image> lines)
  std::vector<StepRecord> steps;
  std::vector<TraceImage> images;
  TraceStatus status = TraceStatus::kError;
  std::string answer;
  std::string answer_source = "none";  // "terminate", "extracted", "direct" or "none"
  std::string error;                   // why the episode could not run (status kError)
  bool model_unreachable = false;      // the error was no answer at all from the model (not written)
  // The answer checked against the ground truth (taco distill): {"correct", "score", "method",
  // "split"}; null when unchecked.
  Json verification;
  double wall_ms = 0;

  Json to_json() const;
  // to_json() for a line of `file_path`: relative image paths (the trace's own are relative to
  // the working folder) rewritten to start at the file's folder, so that the file means the
  // same wherever a later command runs.
  Json to_json_in(const std::string& file_path) const;
  static Trace from_json(const Json& j);  // throws Error on a record that is not a trace

  // The tools called, in order (names of executed actions other than Terminate; an action the
  // registry does not have is not one).
  std::vector<std::string> tools_called() const;
};

// Appends a Terminate step (with `thought`) answering `answer` and marks the trace terminated
// with that answer: how generated and Direct examples end.
void finish_with_terminate(Trace& trace, const std::string& thought, const std::string& answer);

// A Direct training example made from a trace: the same task, user request and input images,
// and one Terminate step (empty thought) answering `answer`; its id gets "-direct" and its
// metadata "variant": "direct". The generators' Direct twins and distillation's fallback for
// wrong answers are made this way.
Trace direct_example(const Trace& source, const std::string& answer);

// The folder that the relative image paths of `trace` (a line of `file_path`) start at: the
// file's folder from version 2 on, the working folder ("") before.
std::string trace_paths_base(const Json& trace, const std::string& file_path);
// Rewrites a trace's relative image paths (task.images and images[].path) from starting at
// `from_dir` to starting at `to_dir` ("" is the working folder), and marks it version 2.
void rebase_trace_paths(Json& trace, const std::string& from_dir, const std::string& to_dir);

}  // namespace taco
