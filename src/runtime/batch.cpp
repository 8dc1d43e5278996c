#include "runtime/batch.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "util/files.h"
#include "util/jsonl.h"
#include "util/progress.h"

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

BatchSummary run_batch(const std::vector<Task>& tasks, const Runtime& runtime, const BatchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  BatchSummary summary;
  summary.total = tasks.size();
  summary.errors_path = options.errors_path.empty() ? default_errors_path(options.out_path) : options.errors_path;

  std::unordered_set<std::string> done;
  for (auto& id : finished_ids(options.out_path)) done.insert(std::move(id));
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

  std::atomic<size_t> next{0}, succeeded{0}, failed{0};
  // Episodes in a row that could not reach the model; at the limit no worker takes another task.
  std::atomic<int> unreachable_in_a_row{0};
  std::atomic<bool> stop{false};
  std::string last_unreachable;
  {
    Progress progress("run", pending.size(), options.progress);
    auto worker = [&] {
      for (size_t i; !stop && (i = next.fetch_add(1)) < pending.size();) {
        Trace trace = runtime.run(*pending[i]);
        if (trace.model_unreachable) {
          const int in_a_row = ++unreachable_in_a_row;
          std::lock_guard<std::mutex> lock(errors_mu);
          last_unreachable = trace.error;
          if (options.stop_after_unreachable > 0 && in_a_row >= options.stop_after_unreachable) stop = true;
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
          out.append(trace.to_json());
          ++succeeded;
          progress.tick(false);
        }
      }
    };
    const size_t n = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(options.jobs, 1)), pending.size()));
    std::vector<std::thread> threads;
    for (size_t k = 0; k < n; ++k) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }
  summary.succeeded = succeeded;
  summary.failed = failed;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stop) {
    const size_t not_started = pending.size() - std::min(pending.size(), static_cast<size_t>(next.load()));
    throw Error("stopped: " + std::to_string(options.stop_after_unreachable) + " episodes in a row got no answer from the model (" +
                last_unreachable + "); " + std::to_string(summary.succeeded) + " tasks done now and kept in " + options.out_path +
                ", " + std::to_string(summary.failed + not_started) + " to do; run the same command again once the server answers");
  }
  return summary;
}

}  // namespace taco
