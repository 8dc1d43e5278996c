// The embedded action model: a small multi-modal transformer that taco trains (`taco train`)
// and runs (`--model embedded:DIR`) itself, with libtorch, on a CPU or a GPU. Both live in the
// torch module (util/module.h); these functions load it on first use.
// docs/embedded.md describes the model, the checkpoint and the training.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace taco {

// Loads the checkpoint folder `dir`; the options' temperature, top_p, seed and max_tokens
// apply to every reply. Throws Error naming what is wrong with a bad checkpoint.
std::unique_ptr<Model> make_embedded_model(const std::string& dir, const ModelOptions& options);

struct TrainOptions {
  std::vector<std::string> data;      // LLaVA or Mantis records, JSONL or a JSON array
  std::vector<std::string> val;       // held-out records for the validation loss
  std::string out;                    // the checkpoint folder (created; resumed when it holds this run)
  std::string image_folder;           // relative image paths resolve here (default: each data file's folder)
  std::string prompt_template;        // the template file the data was written with ("" : taco's default)
  std::string size = "small";         // tiny, small or base
  std::string positions = "rotary";   // rotary or learned (EmbeddedConfig::positions)
  int64_t steps = 0;                  // optimizer steps; 0: --epochs decides
  double epochs = 0;                  // passes over the data (default 1 when steps is 0 too)
  int64_t batch_tokens = 4096;        // padded tokens per step (8192 held 4.1 GB at the longest batches and learned less per token)
  double lr = 0;                      // peak learning rate; 0: the size's default
  int vocab_size = 0;                 // 0: the size's default
  int threads = 1;                    // CPU threads for the math (libtorch and OpenBLAS)
  std::string device = "auto";        // cpu, cuda, or auto (cuda when there is one)
  uint64_t seed = 0;
  int64_t checkpoint_every = 200;     // steps between checkpoints (also written at the end)
  std::string weights_dtype = "F32";  // dtype of the final model.safetensors: F32, F16 or BF16
  bool quiet = false;                 // no progress lines
};

// The folder of the shipped model `name` beside the binary (build/../models/NAME, or
// <prefix>/lib/taco/models/NAME after make install); "" when there is none.
std::string shipped_model_dir(const std::string& name);

// The checkpoint folder an `embedded:DIR` spec names: DIR when it holds a config.json, else the
// shipped model of DIR's last name (embedded:taco-small from any folder), else DIR as given.
std::string embedded_checkpoint_dir(const std::string& dir);

// What a run of `size` starts from where TrainOptions leave lr and vocab_size at 0 (the table
// in docs/embedded.md; taco train's --help quotes it).
struct TrainingDefaults {
  double lr;
  int vocab;
};
TrainingDefaults training_defaults(const std::string& size);

// What a finished training reports.
struct TrainSummary {
  int64_t steps = 0;
  int64_t tokens = 0;         // tokens read (visual slots included, padding not)
  double seconds = 0;         // training time over all runs that made this checkpoint
  double final_loss = 0;      // mean loss of the last steps
  double val_loss = -1;       // -1: no validation data
  bool already_done = false;  // the folder already held the finished run
  bool model_rewritten = false;  // ... but not its final model, which was written from the final state
};

// Trains into options.out, resuming a run that was stopped (the same data and settings give
// the same weights as an uninterrupted run). Throws Error for bad data or options, and for a
// folder that holds another run.
TrainSummary train_embedded_model(const TrainOptions& options);

// The torch module's entry points.
using EmbeddedModelFactory = std::unique_ptr<Model> (*)(const std::string& dir, const ModelOptions& options);
using EmbeddedTrainer = TrainSummary (*)(const TrainOptions& options);

}  // namespace taco
