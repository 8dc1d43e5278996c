// Moving the network's parameters in and out of safetensors, and loading a whole checkpoint
// folder (config, tokenizer, weights) with every disagreement between them refused. Torch
// module only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/embedded/network.h"
#include "models/embedded/tokenizer.h"
#include "util/safetensors.h"

namespace taco {

// Tensors by name (a network's parameters, and buffers where it keeps state in them).
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;
// The tensors as safetensors named `prefix` + name, converted to `dtype` (F32, F16, BF16).
void add_named_tensors(const NamedTensors& tensors, const std::string& prefix, const std::string& dtype, SafeTensorsFile& file);
// Copies tensors named `prefix` + name from the file into `tensors` (checked as load_network_tensors).
void load_named_tensors(const NamedTensors& tensors, const SafeTensorsFile& file, const std::string& prefix, const std::string& what,
                        bool exact);

// The parameters as tensors named `prefix` + parameter name, converted to `dtype` (F32, F16, BF16).
void add_network_tensors(ActionNetwork& net, const std::string& prefix, const std::string& dtype, SafeTensorsFile& file);
// Copies tensors named `prefix` + parameter name into the network. Throws Error "<what>: ..." for
// a missing tensor, a shape that differs, or a dtype that is not F32/F16/BF16; with
// `exact`, also for a tensor of that prefix the network does not have.
void load_network_tensors(ActionNetwork& net, const SafeTensorsFile& file, const std::string& prefix, const std::string& what,
                          bool exact);
// A float tensor's bytes as the named dtype, and back.
std::string tensor_bytes(const torch::Tensor& t, const std::string& dtype);
torch::Tensor tensor_from(const SafeTensor& t, const std::string& what);
SafeTensor to_safetensor(const std::string& name, const torch::Tensor& t, const std::string& dtype);

// A libtorch error's message without its backtrace: one line for a taco Error.
std::string first_line(const c10::Error& e);

// Sets libtorch's intra-op threads (at most OMP_THREAD_LIMIT) and those of OpenBLAS (Debian's
// pthread build), which keeps its own pool beside libtorch's OpenMP one.
void set_math_threads(int threads);

struct LoadedCheckpoint {
  EmbeddedConfig config;
  Tokenizer tokenizer;
  ActionNetwork network{nullptr};
};
// Throws Error naming the folder and what is wrong with it.
LoadedCheckpoint load_checkpoint(const std::string& dir);
// Error unless the tensors that carry the config's sizes have the shapes it gives them: checked
// on the file's header before any network is built.
void check_weights_fit_config(const EmbeddedConfig& config, const SafeTensorsFile& file, const std::string& what);

}  // namespace taco
