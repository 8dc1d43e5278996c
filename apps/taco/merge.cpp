// taco merge: the shard outputs of one job (gen, run --data, eval run, distill) as one run's.
#include <cstdio>

#include "commands.h"
#include "curate/merge.h"

namespace taco::cli {

void add_merge_command(CLI::App& app) {
  auto parts = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto partial = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("merge", "join the shard outputs of one job into what one run makes (docs/scale.md)");
  cmd->add_option("parts", *parts, "the shards' outputs (OUT.shard-k-of-N.jsonl), all N of them")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", *out, "the merged file (.jsonl, or a JSON array)")->required();
  cmd->add_flag("--partial", *partial,
                "merge even when parts lack records their manifests promise (a shard killed midway, failed tasks); "
                "what is missing is listed in OUT.missing.json");
  cmd->footer("Example:\n  taco merge train.shard-*-of-16.jsonl --out train.jsonl\n");
  cmd->callback([parts, out, partial] {
    MergeSummary s = merge_shards(*parts, *out, *partial);
    std::fprintf(stderr, "%zu records of taco %s from %zu shards -> %s\n", s.records, s.command.c_str(), s.parts, out->c_str());
    if (!s.missing.empty())
      std::fprintf(stderr, "partial: %zu missing (first: %s); the list is in %s.missing.json\n", s.missing.size(), s.missing[0].c_str(),
                   out->c_str());
  });
}

}  // namespace taco::cli
