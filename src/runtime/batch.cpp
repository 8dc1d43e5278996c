#include "runtime/batch.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "util/files.h"
#include "util/jsonl.h"
#include "util/progress.h"
#include "util/shard.h"
#include "util/work_pool.h"

namespace taco {

std::string default_errors_path(const std::string& out_path) { return output_base(out_path) + ".errors.jsonl"; }

std::vector<std::string> finished_ids(const std::string& path) {
  std::vector<std::string> ids;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return ids;
  for_each_jsonl(
      path,
      [&](size_t, Json&& j) {
        if (auto it = j.find("id"); it != j.end()) ids.push_back(it->is_string() ? it->get<std::string>() : it->dump());
      },
      /*tolerate_torn_tail=*/true);
  return ids;
}

namespace {

// The ids of the traces in a resumed output, each line checked to be a trace of this run: the
// same model, prompt mode, template and image blanking, and the same question under an id the
// tasks share (unless forced). Throws Error naming the file and line of the first that is not.
std::unordered_set<std::string> resumable_ids(const std::string& path, const std::vector<Task>& tasks, const Runtime& runtime,
                                              bool force) {
  std::unordered_set<std::string> done;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return done;
  std::unordered_map<std::string, const Task*> by_id;
  for (const auto& t : tasks) by_id.emplace(t.id, &t);
  const std::string model = runtime.model().name(), mode = to_string(runtime.options().mode);
  const std::string& template_hash = runtime.prompt_template_sha256();
  const bool blanked = runtime.options().blank_inputs;
  for_each_jsonl(
      path,
      [&](size_t line, Json&& j) {
        const std::string where = path + " line " + std::to_string(line);
        if (!j.is_object() || j.value("format", Json()) != "taco.trace" || !j.contains("id") || !j["id"].is_string())
          throw Error(where + " is not a taco trace; resume only into a file of traces (BatchOptions.out_path)");
        std::string id = j["id"].get<std::string>();
        if (!force) {
          auto differs = [&](const std::string& what, const std::string& theirs, const std::string& ours) {
            throw Error(where + " was made with " + what + " '" + theirs + "', this run uses '" + ours +
                        "': resuming would mix two runs in one file (write to another BatchOptions.out_path, or give BatchOptions.force to mix them)");
          };
          const std::string their_model = j.value("model", std::string()), their_mode = j.value("prompt", std::string());
          const std::string their_template = j.value("prompt_template_sha256", std::string());
          if (their_model != model) differs("the model", their_model, model);
          if (their_mode != mode) differs("the prompt mode", their_mode, mode);
          if (!their_template.empty() && !template_hash.empty() && their_template != template_hash)
            differs("the prompt template", their_template.substr(0, 12), template_hash.substr(0, 12));
          if (j.value("inputs_blanked", false) != blanked)
            differs("inputs_blanked", blanked ? "false" : "true", blanked ? "true" : "false");
          if (auto t = by_id.find(id); t != by_id.end()) {
            const Json* task = j.contains("task") && j["task"].is_object() ? &j["task"] : nullptr;
            const std::string question = task ? task->value("question", std::string()) : std::string();
            if (question != t->second->question)
              throw Error(where + ": task " + id + " asks \"" + question.substr(0, 60) + "\" there but \"" +
                          t->second->question.substr(0, 60) +
                          "\" here: the file holds another dataset's answers (write to another BatchOptions.out_path, or give BatchOptions.force to mix them)");
          }
        }
        done.insert(std::move(id));
      },
      /*tolerate_torn_tail=*/true);
  return done;
}

}  // namespace

BatchSummary run_batch(const std::vector<Task>& tasks, const Runtime& runtime, const BatchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  BatchSummary summary;
  summary.total = tasks.size();
  summary.out_path = options.out_path;
  summary.errors_path = options.errors_path.empty() ? default_errors_path(options.out_path) : options.errors_path;

  const std::unordered_set<std::string> done = resumable_ids(options.out_path, tasks, runtime, options.force);
  std::vector<const Task*> pending;
  for (const auto& t : tasks) {
    if (done.count(t.id)) ++summary.skipped;
    else pending.push_back(&t);
  }

  if (!pending.empty()) runtime.model().check_reachable();  // throws before any file is touched

  JsonlAppender out(options.out_path);
  std::error_code ec;
  std::filesystem::remove(summary.errors_path, ec);  // the errors file lists the failures of this run
  std::unique_ptr<JsonlAppender> errors;
  std::mutex errors_mu;

  std::atomic<size_t> succeeded{0}, failed{0};
  // Episodes in a row that could not reach the model; at the limit no worker takes another task.
  std::atomic<int> unreachable_in_a_row{0};
  std::stop_source stop;
  std::stop_callback stop_when_asked(options.stop, [&stop] { stop.request_stop(); });
  bool stopped_unreachable = false;
  std::string last_unreachable;
  size_t started = 0;
  {
    Progress progress("run", pending.size(), options.progress);
    auto episode = [&](size_t i) {
      Trace trace = runtime.run(*pending[i]);
      if (trace.model_unreachable) {
        const int in_a_row = ++unreachable_in_a_row;
        std::lock_guard<std::mutex> lock(errors_mu);
        last_unreachable = trace.error;
        if (options.stop_after_unreachable > 0 && in_a_row >= options.stop_after_unreachable) {
          stopped_unreachable = true;
          stop.request_stop();
        }
      } else {
        unreachable_in_a_row = 0;
      }
      if (trace.status != TraceStatus::kError && options.before_write) {
        try {
          options.before_write(trace);
        } catch (const std::exception& e) {
          trace.status = TraceStatus::kError;
          trace.error = e.what();
        }
      }
      if (trace.status == TraceStatus::kError) {
        {
          std::lock_guard<std::mutex> lock(errors_mu);
          if (!errors) errors = std::make_unique<JsonlAppender>(summary.errors_path);
        }
        errors->append(Json{{"id", trace.task.id}, {"error", trace.error}, {"steps", trace.steps.size()}});
        ++failed;
        progress.tick(true);
      } else {
        out.append(trace.to_json_in(out.path()));
        ++succeeded;
        progress.tick(false);
      }
    };
    started = parallel_for(pending.size(), static_cast<size_t>(std::max(options.jobs, 1)), episode, stop.get_token());
  }
  summary.succeeded = succeeded;
  summary.failed = failed;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stopped_unreachable) {
    const size_t not_started = pending.size() - started;
    throw Error("stopped: " + std::to_string(options.stop_after_unreachable) + " episodes in a row got no answer from the model (" +
                last_unreachable + "); " + std::to_string(summary.succeeded) + " tasks done now and kept in " + options.out_path +
                ", " + std::to_string(summary.failed + not_started) + " to do; run the same command again once the server answers");
  }
  return summary;
}

std::vector<Task> take_shard(std::vector<Task> tasks, const std::string& shard_spec, BatchOptions& batch, const std::string& command,
                             Json settings, const JobEvents& events) {
  const Shard shard = shard_from(shard_spec);
  if (!shard.active()) return tasks;
  ShardManifest manifest{command, shard, std::move(settings), Json::array()};
  manifest.settings["out"] = batch.out_path;
  manifest.settings["tasks"] = tasks.size();
  std::vector<Task> mine;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (shard.takes(i)) {
      manifest.units.push_back(tasks[i].id);
      mine.push_back(std::move(tasks[i]));
    }
  batch.out_path = shard.output_path(batch.out_path);
  if (!batch.errors_path.empty()) batch.errors_path = shard.output_path(batch.errors_path);
  manifest.write_for(batch.out_path);
  events.announce(format_text("shard %s (from %s): %zu of %zu tasks -> %s\n", shard.to_string().c_str(), shard.source.c_str(),
                              mine.size(), tasks.size(), batch.out_path.c_str()));
  return mine;
}

std::string batch_summary_text(const BatchSummary& s, const std::string& out_path) {
  std::string text = format_text("%zu tasks: %zu done now, %zu already in %s, %zu failed (%.1f s)\n", s.total, s.succeeded, s.skipped,
                                 out_path.c_str(), s.failed, s.seconds);
  if (s.failed)
    text += "failures are listed in " + s.errors_path + "; run the same command again to retry them\n";
  return text;
}

}  // namespace taco
