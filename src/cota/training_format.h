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

// The training conversation of a finished trace: user request, then step / feedback pairs. Each
// step is its parsed JSON written afresh, or with `as_written` the reply's text as the model
// wrote it (what RL trains on).
std::vector<Turn> training_turns(const Trace& trace, bool as_written = false);
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

// The conversation as role/content messages with "<image>" placeholders and the image list:
// LLaMA-Factory's multimodal ShareGPT layout (its mllm_demo) and ms-swift's.
//   {"messages": [{"role": "user"|"assistant", "content": text}], "images": [paths]}
// The turns are the LLaVA record's: the CoTA steps as assistant text, observations as user turns.
Json to_role_messages(const Trace& trace);

// LLaMA-Factory's tool-use ShareGPT layout (its glaive_toolcall demo), with images:
//   {"conversations": [{"from": "human"|"function_call"|"observation"|"gpt", "value": text}],
//    "tools": "<JSON list of {name, description, parameters}>", "images": [paths]}
// The first human turn names the input images ("image-0: <image>") and asks the question; each
// step's actions are a function_call ({"name", "arguments"}, a list for several), its result an
// observation (a returned image as "image-k: <image>"); the chain ends with the Terminate call.
// The layout has no place for thoughts (LLaMA-Factory renders a call alone): they are left out.
// Throws Error for a chain with a reply that was not a step or that does not end in Terminate.
Json to_sharegpt_tools(const Trace& trace, const std::string& tools);

// What LLaMA-Factory's loader requires of a ShareGPT record (its converter and multimodal
// plugin): after an optional system turn, user-side turns (user / human / observation) and
// assistant-side ones (assistant / gpt / function_call) alternate, an even number of them; as
// many "<image>" placeholders as images; a function_call's content a JSON object with "name"
// and "arguments" (or a list of them). Returns "" or what is wrong.
std::string check_llamafactory_record(const Json& record);

// The short list of actions Mantis records put at the head of the first user turn.
std::string task_instruction(const std::vector<std::string>& action_names);

// Checks a LLaVA or Mantis record: as many "<image>" placeholders as image paths, every
// assistant turn a parseable step, the last one Terminate. Returns "" or what is wrong.
std::string check_training_record(const Json& record);

}  // namespace taco
