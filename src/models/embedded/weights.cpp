#include "models/embedded/weights.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "util/error.h"
#include "util/strings.h"
#include "util/files.h"

namespace taco {
std::string tensor_bytes(const torch::Tensor& t, const std::string& dtype) {
  torch::Tensor c = t.detach().to(torch::kCPU).to(torch::kFloat).contiguous();
  const float* p = c.data_ptr<float>();
  const size_t n = static_cast<size_t>(c.numel());
  std::string out;
  if (dtype == "F32") {
    out.assign(reinterpret_cast<const char*>(p), n * 4);
  } else if (dtype == "F16" || dtype == "BF16") {
    out.resize(n * 2);
    for (size_t i = 0; i < n; ++i) {
      uint16_t h = dtype == "F16" ? float_to_half(p[i]) : float_to_bfloat16(p[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  } else {
    throw Error("weights can be stored as F32, F16 or BF16, not " + dtype);
  }
  return out;
}

torch::Tensor tensor_from(const SafeTensor& t, const std::string& what) {
  const size_t n = static_cast<size_t>(t.numel());
  torch::Tensor out = torch::empty(t.shape, torch::kFloat);
  float* p = out.data_ptr<float>();
  if (t.dtype == "F32") {
    std::memcpy(p, t.data.data(), n * 4);
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data.data() + 2 * i, 2);
      p[i] = t.dtype == "F16" ? half_to_float(h) : bfloat16_to_float(h);
    }
  } else {
    throw Error(what + ": tensor " + t.name + " is " + t.dtype + " (weights are F32, F16 or BF16)");
  }
  return out;
}

SafeTensor to_safetensor(const std::string& name, const torch::Tensor& t, const std::string& dtype) {
  return SafeTensor{name, dtype, t.sizes().vec(), tensor_bytes(t, dtype)};
}

namespace {

NamedTensors parameters_of(ActionNetwork& net) {
  NamedTensors out;
  for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

}  // namespace

void add_named_tensors(const NamedTensors& tensors, const std::string& prefix, const std::string& dtype, SafeTensorsFile& file) {
  for (const auto& [name, t] : tensors) file.tensors.push_back(to_safetensor(prefix + name, t, dtype));
}

void add_network_tensors(ActionNetwork& net, const std::string& prefix, const std::string& dtype, SafeTensorsFile& file) {
  add_named_tensors(parameters_of(net), prefix, dtype, file);
}

std::string first_line(const c10::Error& e) {
  return first_line_of(e.what_without_backtrace());
}

void load_network_tensors(ActionNetwork& net, const SafeTensorsFile& file, const std::string& prefix, const std::string& what,
                          bool exact) {
  load_named_tensors(parameters_of(net), file, prefix, what, exact);
}

void load_named_tensors(const NamedTensors& tensors, const SafeTensorsFile& file, const std::string& prefix, const std::string& what,
                        bool exact) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  for (const auto& [key, value] : tensors) {
    const std::string name = prefix + key;
    const SafeTensor* t = file.find(name);
    if (!t) throw Error(what + ": tensor " + name + " is missing");
    if (!std::equal(t->shape.begin(), t->shape.end(), value.sizes().begin(), value.sizes().end()))
      throw Error(what + ": tensor " + name + " has shape " + format_shape(t->shape) + ", the config makes it " +
                  format_shape(value.sizes().vec()));
    const_cast<torch::Tensor&>(value).copy_(tensor_from(*t, what));
    used.insert(name);
  }
  if (exact)
    for (const auto& t : file.tensors)
      if (t.name.rfind(prefix, 0) == 0 && !used.count(t.name))
        throw Error(what + ": tensor " + t.name + " is not part of this model (another model's weights?)");
}

void check_weights_fit_config(const EmbeddedConfig& c, const SafeTensorsFile& file, const std::string& what) {
  // The tensors whose shapes carry every size the config sets (vocabulary, width, depth,
  // positions, visual tokens): checked in the file's header before the network is built, so
  // a config that disagrees is refused at once instead of after allocating what it claims.
  const int64_t d = c.d_model;
  auto expect = [&](const std::string& name, std::vector<int64_t> shape, const std::string& from) {
    const SafeTensor* t = file.find(name);
    if (!t) throw Error(what + ": tensor " + name + " is missing (config.json: " + from + ")");
    if (t->shape != shape)
      throw Error(what + ": tensor " + name + " has shape " + format_shape(t->shape) + ", config.json (" + from + ") makes it " +
                  format_shape(shape) + ": the config and the weights are of different models");
  };
  expect("token_embedding.weight", {c.vocab_size, d}, "vocab_size, d_model");
  expect("visual_position", {c.visual_tokens(), d}, "image_width, image_height, d_model");
  if (c.positions == "learned") expect("position_embedding.weight", {c.max_positions, d}, "max_positions, d_model");
  for (int i = 0; i < c.layers; ++i) expect("blocks." + std::to_string(i) + ".qkv.weight", {3 * d, d}, "layers, d_model");
  if (file.find("blocks." + std::to_string(c.layers) + ".qkv.weight"))
    throw Error(what + ": holds more than the " + std::to_string(c.layers) + " layers config.json says");
}

LoadedCheckpoint load_checkpoint(const std::string& dir) {
  CheckpointPaths paths = checkpoint_paths(dir);
  LoadedCheckpoint c{EmbeddedConfig::from_json(read_json_file(paths.config), paths.config), Tokenizer::from_file(paths.tokenizer),
                     nullptr};
  if (c.tokenizer.vocab_size() != c.config.vocab_size)
    throw Error(dir + ": the tokenizer has " + std::to_string(c.tokenizer.vocab_size()) + " tokens and config.json says " +
                std::to_string(c.config.vocab_size) + " (files from different checkpoints?)");
  SafeTensorsFile weights = read_safetensors(paths.weights);
  check_weights_fit_config(c.config, weights, paths.weights);
  c.network = ActionNetwork(c.config);
  load_network_tensors(c.network, weights, "", paths.weights, true);
  c.network->eval();
  return c;
}

void set_math_threads(int threads) {
  // libtorch's OpenMP threads stay within OMP_THREAD_LIMIT (which taco sets to 1 for
  // Tesseract in the commands that run tools): asked for more, oneDNN's convolution backward
  // spins on a thread that never comes. OpenBLAS's threads are its own and take `threads`.
  int omp_threads = threads;
  if (const char* limit = std::getenv("OMP_THREAD_LIMIT"); limit && std::atoi(limit) > 0) omp_threads = std::min(threads, std::atoi(limit));
  at::set_num_threads(omp_threads);
  if (auto set = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

}  // namespace taco
