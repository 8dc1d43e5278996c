// Training formats: a trace as a LLaVA or Mantis record, in the shapes of the public CoTA
// datasets.
//
//   LLaVA:  {"id", "image": [paths], "conversations": [{"from": "human"|"gpt", "value": text}]}
//   Mantis: {"id", "images": [paths], "conversation": [{"role": "user"|"assistant", "content": text}],
//            "metadata": {"dataset", "task_instruction"}}
//
// The first human turn is the user request with an "image-k: <image>" line per input image;
// each gpt turn is one JSON step; each following human turn is the observation fed back, where
// an image a tool returned appears as "image-k: <image>" (its path appended to the images).
// The last gpt turn calls Terminate. A Direct example is a single Terminate step.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "cota/trace.h"
#include "util/json.h"

namespace taco {

struct Turn {
  bool from_user;
  std::string text;
};

// The training conversation of a finished trace: user request, then step / feedback pairs.
std::vector<Turn> training_turns(const Trace& trace);
// The image paths in the order their "<image>" placeholders appear.
std::vector<std::string> training_images(const Trace& trace);

Json to_llava(const Trace& trace, const std::string& id);
Json to_mantis(const Trace& trace, const std::string& id, const std::string& dataset, const std::string& task_instruction);

// A chain as OpenAI-style messages with tool calls, the layout Hugging Face TRL and the
// Qwen2-VL / Qwen2.5-VL chat templates take for tool use:
//   {"id", "messages": [{"role": "user", "content": [{"type": "image", "image": path}, {"type": "text", "text": question}]},
//                       {"role": "assistant", "content": thought, "tool_calls": [{"id", "type": "function",
//                                                                    "function": {"name", "arguments": {...}}}]},
//                       {"role": "tool", "tool_call_id", "name", "content": result}, ...],
//    "images": [paths, in the order the image parts name them], "tools": `tools`}
// Arguments are objects (the chat templates serialize them). Images a tool returned follow its
// tool messages in a user message. A chain without tool calls (Direct) is the same without them.
Json to_messages(const Trace& trace, const std::string& id, const Json& tools);

// The short list of actions Mantis records put at the head of the first user turn.
std::string task_instruction(const std::vector<std::string>& action_names);

// Checks a LLaVA or Mantis record: as many "<image>" placeholders as image paths, every
// assistant turn a parseable step, the last one Terminate. Returns "" or what is wrong.
std::string check_training_record(const Json& record);

}  // namespace taco
