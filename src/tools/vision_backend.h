// VisionBackend: what runs the neural specialists (object tagging and open-vocabulary
// detection, depth, image and text embeddings). TACO used RAM, GroundingDINO, Depth Anything
// and CLIP; taco has three backends for them:
//   torchscript  a TorchScript module loaded with libtorch in-process (docs/tools.md has the
//                export recipes and the exact pre- and post-processing);
//   http         a small JSON protocol to a specialist server, e.g. one on a GPU machine;
//   oracle       answers from dense annotations (boxes, labels, depth maps), which is what
//                programmatic generation and the synthetic world use.
// A backend may implement only some capabilities; the others throw ToolError. Backends are
// shared by all episodes: every method must be thread-safe.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "cota/annotation.h"
#include "tools/tool.h"

namespace taco {

struct Detection {
  std::string label;
  std::array<double, 4> box{};  // normalized [left, top, right, bottom]
  double score = 0;
};

// A depth map where smaller means closer (TACO's convention), at any resolution.
struct DepthMap {
  int width = 0;
  int height = 0;
  std::vector<float> values;  // row-major

  float at(int x, int y) const { return values[static_cast<size_t>(y) * width + x]; }
};

using Embedding = std::vector<float>;

struct NpyArray;
// A Depth Anything style map (H x W relative inverse depth, larger is closer) turned into
// TACO's convention as max - d. Throws ToolError when it is not H x W.
DepthMap depth_from_inverse(const NpyArray& inverse_depth, const std::string& what);

class VisionBackend {
 public:
  using NamedImage = ToolContext::NamedImage;
  virtual ~VisionBackend() = default;
  virtual std::string name() const = 0;
  virtual std::string unavailable_reason() const { return ""; }
  // Why `tool` cannot run on this backend, or "": unavailable_reason(), else that the backend
  // does not answer that tool (its registry entry's `tools`; catalog.cpp). A backend whose
  // section can leave out what one tool needs (learned: a detector, a depth model) adds that.
  virtual std::string unavailable_reason_for(const std::string& tool) const;

  virtual std::vector<std::string> tags(const NamedImage& image, ToolContext& ctx) const;
  // Every object the backend sees in the image, with its label, attributes, box (in the image's
  // pixels) and score: what the oracle's annotations hold, what a learned detector finds.
  virtual SceneAnnotation perceive(const NamedImage& image, ToolContext& ctx) const;
  virtual std::vector<Detection> detect(const NamedImage& image, const std::vector<std::string>& queries,
                                        ToolContext& ctx) const;
  virtual DepthMap depth(const NamedImage& image, ToolContext& ctx) const;
  virtual std::vector<Embedding> embed_images(const std::vector<const NamedImage*>& images, ToolContext& ctx) const;
  virtual std::vector<Embedding> embed_texts(const std::vector<std::string>& texts, ToolContext& ctx) const;

 protected:
  [[noreturn]] void unsupported(const std::string& what) const;
};

// The confidence the oracle reports for object `i` of an annotated scene: its det_score, else
// a fixed pseudo-score in [0.5, 1] from the scene id and the index. taco gen writes the same
// scores into its chains, so that a model sees at evaluation what it saw in training.
double oracle_score(const SceneAnnotation& scene, size_t i);
// Whether the oracle's detector finds object `i` for a query: the query names its label
// ("cone", "cones", "the cone"), and every other word of the query that is an attribute of some
// object of the scene is one of this object's ("red cone" finds red cones only; "small cone"
// finds every cone where no object is annotated "small"). taco gen localizes by the same rule.
bool oracle_finds(const SceneAnnotation& scene, size_t i, const std::string& query);

// The objects of a perceived scene that each query finds (oracle_finds), as LocalizeObjects
// reports them: the query as label, the box normalized, the score oracle_score gives.
std::vector<Detection> find_in_scene(const SceneAnnotation& scene, const std::vector<std::string>& queries);

// `options` is the tool's section of the tools config; `base_dir` resolves relative paths.
std::shared_ptr<VisionBackend> make_oracle_backend(const Json& options, const std::string& base_dir);
std::shared_ptr<VisionBackend> make_http_backend(const Json& options);
// The torchscript backend lives in a module, libtaco_torch.so next to the executable,
// loaded on first use: libtorch takes about half a second to load, which no other command
// should pay. Throws Error when the module cannot be loaded.
std::shared_ptr<VisionBackend> make_torchscript_backend(const Json& options, const std::string& base_dir);
// What the torch module hands out for a backend that lives in it (torchscript, learned).
using ModuleBackendFactory = std::shared_ptr<VisionBackend> (*)(const Json& options, const std::string& base_dir);
// A backend that is not configured: every call says so.
std::shared_ptr<VisionBackend> make_unconfigured_backend(const std::string& tool_name);

}  // namespace taco
