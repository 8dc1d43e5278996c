// Loads the torchscript backend module on first use (see vision_backend.h).
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <mutex>

#include "tools/vision_backend.h"
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

TorchScriptFactory load_factory() {
  const std::string path = executable_dir() + "/libtaco_torchscript.so";
  void* module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!module)
    throw Error("the torchscript backend needs " + path + " (built with taco, beside the binary): " + ::dlerror());
  auto entry = reinterpret_cast<TorchScriptFactory (*)()>(::dlsym(module, "taco_torchscript_factory"));
  if (!entry) throw Error(path + ": not a taco torchscript module (" + ::dlerror() + ")");
  return entry();
}

}  // namespace

std::shared_ptr<VisionBackend> make_torchscript_backend(const Json& options, const std::string& base_dir) {
  static std::once_flag once;
  static TorchScriptFactory factory = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    try {
      factory = load_factory();
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  if (!factory) throw Error(failure);
  return factory(options, base_dir);
}

}  // namespace taco
