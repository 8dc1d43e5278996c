#include "rl/group.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "util/error.h"
#include "util/hash.h"

namespace taco {

GroupAdvantages group_advantages(const std::vector<double>& rewards) {
  GroupAdvantages g;
  if (rewards.size() < 2) return g;
  double mean = 0;
  for (double r : rewards) mean += r;
  mean /= static_cast<double>(rewards.size());
  double var = 0;
  for (double r : rewards) var += (r - mean) * (r - mean);
  const double sd = std::sqrt(var / static_cast<double>(rewards.size()));
  if (sd < 1e-9) return g;
  g.kept = true;
  for (double r : rewards) g.advantages.push_back((r - mean) / sd);
  return g;
}

std::string QuestionSampler::family_of(const Task& task) {
  for (const char* key : {"family", "category"}) {
    auto it = task.metadata.find(key);
    if (it != task.metadata.end() && it->is_string()) return it->get<std::string>();
  }
  return "(none)";
}

QuestionSampler::QuestionSampler(const std::vector<Task>& tasks, uint64_t seed) : tasks_(tasks), seed_(seed) {
  for (size_t i = 0; i < tasks.size(); ++i) members_[family_of(tasks[i])].push_back(i);
  // Each family's questions in a seeded order, asked in turn.
  for (auto& [family, list] : members_) {
    std::mt19937_64 rng(seed ^ hash_bytes(family));
    std::shuffle(list.begin(), list.end(), rng);
  }
}

std::vector<size_t> QuestionSampler::pick(int64_t step, size_t n) {
  std::mt19937_64 rng(seed_ ^ (static_cast<uint64_t>(step + 1) * 0x9e3779b97f4a7c15ULL));
  std::vector<std::string> families;
  std::vector<double> weights;
  for (const auto& [family, list] : members_) {
    auto it = pass_rate_.find(family);
    const double p = it == pass_rate_.end() ? 0.5 : it->second;
    families.push_back(family);
    weights.push_back(std::max(kMinWeight, p * (1 - p)));
  }
  std::vector<size_t> out;
  const size_t want = std::min(n, tasks_.size());
  while (out.size() < want) {
    std::discrete_distribution<size_t> which(weights.begin(), weights.end());
    const size_t f = which(rng);
    const auto& list = members_[families[f]];
    size_t& at = cursor_[families[f]];
    const size_t index = list[at % list.size()];
    ++at;
    if (std::find(out.begin(), out.end(), index) == out.end()) out.push_back(index);
    // A family whose every question this step already holds is not drawn again this step.
    size_t held = 0;
    for (size_t i : list) held += std::find(out.begin(), out.end(), i) != out.end();
    if (held == list.size()) weights[f] = 0;
  }
  return out;
}

void QuestionSampler::refresh(const std::map<std::string, std::pair<size_t, size_t>>& right_and_total) {
  for (const auto& [family, rt] : right_and_total) {
    if (rt.second == 0) continue;
    const double rate = static_cast<double>(rt.first) / static_cast<double>(rt.second);
    auto it = pass_rate_.find(family);
    pass_rate_[family] = it == pass_rate_.end() ? rate : (1 - kRefresh) * it->second + kRefresh * rate;
  }
}

Json QuestionSampler::state() const {
  Json cursors = Json::object(), rates = Json::object();
  for (const auto& [family, at] : cursor_) cursors[family] = at;
  for (const auto& [family, p] : pass_rate_) rates[family] = p;
  return Json{{"asked", cursors}, {"pass_rate", rates}};
}

void QuestionSampler::restore(const Json& state) {
  try {
    cursor_.clear();
    pass_rate_.clear();
    for (const auto& [family, at] : state.at("asked").items()) {
      if (!at.is_number_unsigned()) throw Error("the RL run's question sampler state cannot be read: a count that is not one");
      cursor_[family] = at.get<size_t>();
    }
    for (const auto& [family, p] : state.at("pass_rate").items()) {
      if (!p.is_number() || !(p.get<double>() >= 0 && p.get<double>() <= 1))
        throw Error("the RL run's question sampler state cannot be read: a pass rate outside [0, 1]");
      pass_rate_[family] = p.get<double>();
    }
  } catch (const Json::exception& e) {
    throw Error(std::string("the RL run's question sampler state cannot be read: ") + e.what());
  }
}

}  // namespace taco
