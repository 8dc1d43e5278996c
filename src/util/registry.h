// Registry<Entry>: what taco finds by name and lets each file add for itself (tools, vision
// backends, model kinds): an entry is registered while its Registration object lives (a static
// one in the file that defines it: for the whole program; a test's: for the test). Entries are
// read as a snapshot, one per name (the latest registered wins), in rank order when the entry
// has a `rank` (ties: registration order). Thread-safe.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace taco {

template <typename Entry>  // Entry has `std::string name`, and may have `double rank`
class Registry {
 public:
  class Registration {
   public:
    Registration(Registry& registry, Entry entry) : registry_(registry), id_(registry.add(std::move(entry))) {}
    ~Registration() { registry_.remove(id_); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    Registry& registry_;
    size_t id_;
  };

  std::vector<Entry> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Entry> out;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (std::none_of(out.begin(), out.end(), [&](const Entry& e) { return e.name == it->second.name; })) out.push_back(it->second);
    std::reverse(out.begin(), out.end());
    if constexpr (requires(const Entry& e) { e.rank; })
      std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
    return out;
  }

 private:
  size_t add(Entry e) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.emplace_back(next_id_, std::move(e));
    return next_id_++;
  }
  void remove(size_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [id](const auto& p) { return p.first == id; }), entries_.end());
  }

  mutable std::mutex mu_;
  std::vector<std::pair<size_t, Entry>> entries_;
  size_t next_id_ = 1;
};

}  // namespace taco
