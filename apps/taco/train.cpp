// taco train: trains the embedded action model on CoTA records (docs/embedded.md).
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "models/embedded/embedded.h"
#include "util/progress.h"

namespace taco::cli {
namespace {

void train(const TrainOptions& o) {
  TrainSummary s = train_embedded_model(o);
  if (s.already_done) {
    std::fprintf(stderr, "%s already holds this run, finished (%lld steps); %s\n", o.out.c_str(), static_cast<long long>(s.steps),
                 s.model_rewritten ? "its model was missing or older, and is written now" : "nothing to do (more --steps extend it)");
    return;
  }
  std::fprintf(stderr, "trained %lld steps on %lld tokens in %s: loss %.4f%s; the model is in %s (run it with --model embedded:%s)\n",
               static_cast<long long>(s.steps), static_cast<long long>(s.tokens), format_duration(s.seconds).c_str(),
               s.final_loss, s.val_loss >= 0 ? (", validation loss " + std::to_string(s.val_loss).substr(0, 6)).c_str() : "",
               o.out.c_str(), o.out.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "train the embedded action model on CoTA records (LLaVA or Mantis)");
  cmd->add_option("--data", o->data, "training records: JSONL or a JSON array (repeat for several files)")->required();
  cmd->add_option("--out", o->out, "the checkpoint folder; rerunning the same command resumes a stopped run")->required();
  cmd->add_option("--val", o->val, "held-out records for the validation loss (repeatable)");
  cmd->add_option("--steps", o->steps, "optimizer steps (instead of --epochs)");
  cmd->add_option("--epochs", o->epochs, "passes over the data (default 1)");
  cmd->add_option("--batch-tokens", o->batch_tokens, "padded tokens per step")->capture_default_str();
  // The defaults as the trainer takes them (training_defaults), not a copy that can drift.
  std::string lrs, vocabs;
  for (const char* size : {"tiny", "small", "base"}) {
    const TrainingDefaults d = training_defaults(size);
    const int e = static_cast<int>(std::floor(std::log10(d.lr)));
    char lr[32];
    std::snprintf(lr, sizeof lr, "%ge%d", d.lr / std::pow(10.0, e), e);  // 2e-3, as docs/embedded.md writes it
    lrs += std::string(lrs.empty() ? "" : ", ") + size + " " + lr;
    vocabs += std::string(vocabs.empty() ? "" : ", ") + size + " " + std::to_string(d.vocab);
  }
  cmd->add_option("--lr", o->lr, "peak learning rate (default: " + lrs + ")");
  cmd->add_option("--size", o->size, "model size: tiny, small or base")->check(CLI::IsMember({"tiny", "small", "base"}))->capture_default_str();
  cmd->add_option("--positions", o->positions, "how the network knows token positions: rotary or learned (what checkpoints before rotary used)")
      ->check(CLI::IsMember({"rotary", "learned"}))->capture_default_str();
  cmd->add_option("--vocab-size", o->vocab_size, "tokenizer vocabulary (default: " + vocabs + ")");
  cmd->add_option("--threads", o->threads, "CPU threads for the math (one is fastest for small models on 2 cores)")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda, or auto")->check(CLI::IsMember({"cpu", "cuda", "auto"}))->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the initial weights and the data order")->capture_default_str();
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
  cmd->add_option("--image-folder", o->image_folder, "where relative image paths start (default: each data file's folder)");
  cmd->add_option("--prompt-template", o->prompt_template, "the prompt template the records were written with (default: taco's)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--weights-dtype", o->weights_dtype, "dtype of the final model.safetensors: F32, F16 or BF16")
      ->check(CLI::IsMember({"F32", "F16", "BF16"}))->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "no progress lines");
  cmd->footer("Example:\n  taco train --data train.jsonl --val val.jsonl --out model/ --size small --epochs 3\n"
              "  taco run --model embedded:model/ --image scene.png --question \"How many balls are there?\"\n");
  cmd->callback([o] { train(*o); });
}

}  // namespace taco::cli
