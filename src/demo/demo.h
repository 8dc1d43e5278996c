// The demo job (`taco demo`): offline episodes through the real loop and tools. First it renders
// a fuel price board and replays a recorded model (three replies, the first in the messy
// single-quoted, fenced form real models write) through the parser, ZoomIn, Calculate and
// Terminate. Then, given an embedded checkpoint, it renders a few scenes of a world that model
// never saw, asks it one question of each kind, runs each episode with the tools (vision tools
// on the oracle backend, Tesseract OCR, Calculate) and scores the answers (<out>/model-traces
// .jsonl, its .scores.jsonl as taco eval score writes them, for taco view --scores).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/run_tasks.h"
#include "util/job.h"

namespace taco {

struct DemoSettings {
  std::string out = "demo";  // the folder for the images, the recording, the traces and the new world
  std::string model;         // an embedded checkpoint folder; "" runs the recorded episode only
                             // (its episodes' tools config: <out>/tools.json)
  size_t questions = 20;     // one per kind of question: the 8 scenes give 14 single-image kinds
  uint64_t seed = 4242;      // a world neither training (seed 1) nor the benchmark (seed 1000) uses
};

// Runs the recorded episode, then, when settings.model is set and the recorded episode
// terminated, the embedded model's. Its result lines go to events.print. Returns whether the
// recorded episode terminated (the demo's own check of the loop and tools).
bool run_demo(const DemoSettings& settings, const EpisodeWatch& watch, const JobEvents& events);

}  // namespace taco
