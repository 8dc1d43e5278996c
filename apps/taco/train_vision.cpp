// taco train-vision: trains taco's detector or depth model on synth worlds (docs/tools.md).
#include <cstdio>

#include "commands.h"
#include "util/progress.h"
#include "vision/vision_model.h"

namespace taco::cli {
namespace {

void train_vision(const VisionTrainOptions& o) {
  const VisionTrainSummary s = train_vision_model(o);
  if (s.already_done) {
    std::fprintf(stderr, "%s already holds this run, finished (%lld steps); nothing to do\n", o.out.c_str(), static_cast<long long>(s.steps));
    return;
  }
  std::fprintf(stderr, "trained the %s %lld steps on %lld images in %s: loss %.4f; the model is in %s\n", o.task.c_str(),
               static_cast<long long>(s.steps), static_cast<long long>(s.images), format_duration(s.seconds).c_str(), s.final_loss,
               o.out.c_str());
  if (!s.validation.is_null()) std::printf("%s\n", s.validation.dump(2).c_str());
}

}  // namespace

void add_train_vision_command(CLI::App& app) {
  auto o = std::make_shared<VisionTrainOptions>();
  auto* cmd = app.add_subcommand("train-vision", "train taco's detector or depth model on synthetic worlds (the \"learned\" tools backend)");
  cmd->add_option("task", o->task, "detector or depth")->required()->check(CLI::IsMember({"detector", "depth"}));
  cmd->add_option("--data", o->data, "worlds `taco synth` wrote: folders or their scene-graph-annotations.json (repeatable)")->required();
  cmd->add_option("--out", o->out, "the checkpoint folder; rerunning the same command resumes a stopped run")->required();
  cmd->add_option("--val", o->val, "worlds of another seed for the validation metrics (repeatable)");
  cmd->add_option("--steps", o->steps, "optimizer steps (instead of --epochs)");
  cmd->add_option("--epochs", o->epochs, "passes over the worlds' images (default 1)");
  cmd->add_option("--batch", o->batch, "images per step")->capture_default_str();
  cmd->add_option("--lr", o->lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--size", o->size, "model size: small (shipped) or tiny")->check(CLI::IsMember({"tiny", "small"}))->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads for the math")->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the initial weights and the data order")->capture_default_str();
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "no progress lines");
  cmd->footer("Example:\n  taco synth --n 2000 --seed 11 --out worlds/train && taco synth --n 200 --seed 12 --out worlds/val\n"
              "  taco train-vision detector --data worlds/train --val worlds/val --out models/taco-vision/detector --epochs 20 --threads 2\n");
  cmd->callback([o] { train_vision(*o); });
}

}  // namespace taco::cli
