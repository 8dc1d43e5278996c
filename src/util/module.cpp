#include "util/module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "util/error.h"
#include "util/files.h"

namespace taco {
namespace {

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  return parent_dir(std::string(buf, static_cast<size_t>(n)));
}

struct Loaded {
  void* handle = nullptr;
  std::string path, failure;
};

}  // namespace

void* module_symbol(const char* file, const char* symbol, const char* purpose) {
  static std::mutex mu;
  static std::map<std::string, Loaded> modules;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, added] = modules.try_emplace(file);
  Loaded& m = it->second;
  if (added) {
    m.path = executable_dir() + "/" + file;
    // SentencePiece must bind to its own protobuf symbols (see module.h).
    const int flags = std::strcmp(file, "libtaco_sentencepiece.so") == 0 ? RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND
                                                                         : RTLD_NOW | RTLD_GLOBAL;
    m.handle = ::dlopen(m.path.c_str(), flags);
    if (!m.handle) m.failure = ::dlerror();
  }
  if (!m.handle) throw Error(std::string(purpose) + " needs " + m.path + " (built with taco, beside the binary): " + m.failure);
  void* entry = ::dlsym(m.handle, symbol);
  if (!entry) throw Error(m.path + ": not the module taco expects (no " + symbol + ")");
  return entry;
}

}  // namespace taco
