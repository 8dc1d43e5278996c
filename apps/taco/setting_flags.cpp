#include "setting_flags.h"

#include <cctype>
#include <cstdio>
#include <utility>

namespace taco::cli {
namespace {

// Setting (Struct.field, as src/ names it) -> the flag that sets it. Settings the command line
// has no flag for are left as they are.
const std::pair<const char*, const char*> kSettingFlags[] = {
    {"Shard.spec", "--shard"},
    {"BatchOptions.out_path", "--out"},
    {"BatchOptions.force", "--force"},
    {"EpisodeSettings.max_replies", "--max-replies"},
    {"EpisodeSettings.prompt_template", "--prompt-template"},
    {"EpisodeSettings.prompt", "--prompt"},
    {"EpisodeSettings.protocol", "--protocol"},
    {"EpisodeOptions.protocol", "--protocol"},
    {"EpisodeOptions.mode", "--prompt"},
    {"ModelOptions.model", "--model"},
    {"ModelOptions.endpoint", "--endpoint"},
    {"ModelOptions.temperature", "--temperature"},
    {"ModelOptions.top_p", "--top-p"},
    {"ModelOptions.json_schema", "--json-schema"},
    {"EvalRunSettings.data_dir", "--data-dir"},
    {"EvalRunSettings.data", "--data"},
    {"EvalScoreSettings.judge", "--judge"},
    {"EvalAllSettings.reuse", "--reuse"},
    {"EvalAllSettings.work_dir", "--work-dir"},
    {"EvalAllSettings.name", "--name"},
    {"VisionEvalSettings.tools_config", "--tools-config"},
    {"VisionEvalSettings.data", "--data"},
    {"VisionTrainOptions.data", "--data"},
    {"VisionTrainOptions.out", "--out"},
    {"VisionTrainOptions.steps", "--steps"},
    {"VisionTrainOptions.epochs", "--epochs"},
    {"VisionTrainOptions.batch", "--batch"},
    {"VisionTrainOptions.lr", "--lr"},
    {"VisionTrainOptions.threads", "--threads"},
    {"VisionTrainOptions.checkpoint_every", "--checkpoint-every"},
    {"DistillSettings.judge", "--judge"},
    {"GenSettings.misled_chains", "--misled-chains"},
    {"GenSettings.mc_names_option", "--mc-names-option"},
    {"GenSettings.mc_ratio", "--mc-ratio"},
    {"GenSettings.oracle_noise", "--oracle-noise"},
    {"GenSettings.no_direct", "--no-direct"},
    {"GenSettings.no_images", "--no-images"},
    {"GenSettings.direct_share", "--direct-share"},
    {"ExportOptions.images", "--images"},
    {"MergeSettings.allow_partial", "--partial"},
    {"ToolCallSettings.args", "--args"},
    {"CurateSettings.recipe", "--recipe"},
    {"EvalRunSettings.limit", "--limit"},
    {"TrainOptions.data", "--data"},
    {"TrainOptions.out", "--out"},
    {"TrainOptions.steps", "--steps"},
    {"TrainOptions.epochs", "--epochs"},
    {"TrainOptions.batch_tokens", "--batch-tokens"},
    {"TrainOptions.checkpoint_every", "--checkpoint-every"},
    {"RlSettings.episode.model", "--model"},
    {"RlSettings.data", "--data"},
    {"RlSettings.out", "--out"},
    {"RlSettings.exclude", "--exclude"},
    {"RlSettings.group", "--group"},
    {"RlSettings.questions_per_step", "--questions-per-step"},
    {"RlSettings.steps", "--steps"},
    {"RlSettings.temperature", "--temperature"},
    {"RlSettings.lr", "--lr"},
    {"RlSettings.clip_low", "--clip-low"},
    {"RlSettings.clip_high", "--clip-high"},
    {"RlSettings.kl", "--kl"},
    {"RlSettings.updates_per_step", "--updates-per-step"},
    {"RlSettings.reward", "--reward"},
    {"RlSettings.threads", "--threads"},
    {"TrainOptions.threads", "--threads"},
    {"TrainOptions.weights_dtype", "--weights-dtype"},
    {"TrainOptions.positions", "--positions"},
    {"TrainOptions.device", "--device"},
    {"TrainOptions.lr", "--lr"},
    {"ExportOptions.reward", "--reward"},
    {"EnvOptions.tasks", "--env-tasks"},
    {"EnvOptions.reward", "--env-reward"},
    {"EnvOptions.max_envs", "--max-envs"},
    {"EnvOptions.idle_timeout_s", "--env-idle-timeout-s"},
    {"TraceViewer.scores_path", "--scores"},
    {"TraceViewer.names", "--names"},
    {"TraceViewer.allowed_roots", "--allowed-root"},
};

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

}  // namespace

std::string with_flag_names(std::string text) {
  if (text.find("Settings.") == std::string::npos && text.find("Options.") == std::string::npos &&
      text.find("Shard.") == std::string::npos && text.find("TraceViewer.") == std::string::npos)
    return text;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (i == 0 || !name_char(text[i - 1]))
      for (const auto& [setting, flag] : kSettingFlags) {
        const std::string_view name(setting);
        const size_t end = i + name.size();
        if (text.compare(i, name.size(), name) == 0 && (end == text.size() || !name_char(text[end]) ||
                                                        (text[end] == '.' && (end + 1 == text.size() || !name_char(text[end + 1]))))) {
          out += flag;
          i = end;
          replaced = true;
          break;
        }
      }
    if (!replaced) out += text[i++];
  }
  return out;
}

JobEvents cli_events(bool quiet) {
  JobEvents events;
  events.note = [](const std::string& text) { std::fputs(with_flag_names(text).c_str(), stderr); };
  events.print = [](const std::string& text) { std::fputs(with_flag_names(text).c_str(), stdout); };
  events.progress = !quiet;
  return events;
}

}  // namespace taco::cli
