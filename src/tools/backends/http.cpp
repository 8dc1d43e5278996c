// The http backend: the neural specialists on a server, for instance one on a GPU machine.
// The protocol (docs/tools.md) is one JSON POST per capability:
//   POST {url}/tags    {"image": B64}                     -> {"tags": ["dog", ...]}
//   POST {url}/detect  {"image": B64, "queries": [...]}   -> {"detections": [{"label", "bbox", "score"}]}
//   POST {url}/depth   {"image": B64}                     -> {"width", "height", "depth": B64 float32 LE,
//                                                             "closer": "smaller" | "larger"}
//   POST {url}/embed   {"images": [B64, ...]} or {"texts": [...]} -> {"embeddings": [[...], ...]}
// B64 is a base64 PNG; boxes are normalized [left, top, right, bottom].
#include <cstring>

#include "tools/vision_backend.h"
#include "util/base64.h"
#include "util/http_client.h"
#include "tools/catalog.h"

namespace taco {
namespace {

class HttpBackend : public VisionBackend {
 public:
  explicit HttpBackend(const Json& options)
      : url_(options.value("url", "")), timeout_s_(options.value("timeout_s", 60.0)) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    if (url_.empty()) unavailable_ = "the http backend needs \"url\", e.g. http://gpu-host:9100";
  }
  std::string name() const override { return "http"; }
  std::string unavailable_reason() const override { return unavailable_; }

  std::vector<std::string> tags(const NamedImage& image, ToolContext&) const override {
    Json r = post("tags", Json{{"image", encode(image)}});
    return r.at("tags").get<std::vector<std::string>>();
  }

  std::vector<Detection> detect(const NamedImage& image, const std::vector<std::string>& queries, ToolContext&) const override {
    Json r = post("detect", Json{{"image", encode(image)}, {"queries", queries}});
    std::vector<Detection> out;
    for (const auto& d : r.at("detections")) {
      Detection det;
      det.label = d.at("label").get<std::string>();
      for (size_t k = 0; k < 4; ++k) det.box[k] = d.at("bbox").at(k).get<double>();
      det.score = d.value("score", 0.0);
      out.push_back(det);
    }
    return out;
  }

  DepthMap depth(const NamedImage& image, ToolContext&) const override {
    Json r = post("depth", Json{{"image", encode(image)}});
    DepthMap d;
    d.width = r.at("width").get<int>();
    d.height = r.at("height").get<int>();
    auto bytes = base64_decode(r.at("depth").get<std::string>());
    size_t n = static_cast<size_t>(d.width) * static_cast<size_t>(d.height);
    if (!bytes || d.width <= 0 || d.height <= 0 || bytes->size() != n * sizeof(float))
      throw ToolError(ToolFailure::kRuntimeError, "the depth server at " + url_ + " sent a map that does not match its size");
    d.values.resize(n);
    std::memcpy(d.values.data(), bytes->data(), bytes->size());
    if (r.value("closer", "smaller") == "larger") {
      float top = 0;
      for (float v : d.values) top = std::max(top, v);
      for (float& v : d.values) v = top - v;
    }
    return d;
  }

  std::vector<Embedding> embed_images(const std::vector<const NamedImage*>& images, ToolContext&) const override {
    Json list = Json::array();
    for (const NamedImage* im : images) list.push_back(encode(*im));
    return embeddings(post("embed", Json{{"images", std::move(list)}}), images.size());
  }

  std::vector<Embedding> embed_texts(const std::vector<std::string>& texts, ToolContext&) const override {
    return embeddings(post("embed", Json{{"texts", texts}}), texts.size());
  }

 private:
  static std::string encode(const NamedImage& image) { return base64_encode(image.image.encode(".png")); }

  std::vector<Embedding> embeddings(const Json& r, size_t expected) const {
    auto out = r.at("embeddings").get<std::vector<Embedding>>();
    if (out.size() != expected) throw ToolError(ToolFailure::kRuntimeError, "the embedding server at " + url_ + " sent the wrong number of embeddings");
    return out;
  }

  Json post(const std::string& what, const Json& body) const {
    const std::string url = url_ + "/" + what;
    HttpResponse r;
    try {
      r = http_.post(url, body.dump(), {}, timeout_s_);
    } catch (const HttpConnectError& e) {
      throw ToolError(ToolFailure::kConnectionError, e.what());
    }
    if (r.status != 200)
      throw ToolError(ToolFailure::kRuntimeError, url + " answered HTTP " + std::to_string(r.status) + ": " + http_error_message(r.body));
    try {
      return parse_json(r.body);
    } catch (const Error&) {
      throw ToolError(ToolFailure::kRuntimeError, url + " answered with something that is not JSON");
    }
  }

  std::string url_;
  double timeout_s_;
  std::string unavailable_;
  HttpClient http_;
};

class UnconfiguredBackend : public VisionBackend {
 public:
  explicit UnconfiguredBackend(std::string tool) : tool_(std::move(tool)) {}
  std::string name() const override { return "none"; }
  std::string unavailable_reason() const override {
    return "no backend is configured: set tools." + tool_ + ".backend in the tools config to " + vision_backend_choices(tool_);
  }

 private:
  std::string tool_;
};

}  // namespace

void VisionBackend::unsupported(const std::string& what) const {
  throw ToolError(ToolFailure::kNotImplementedError, "the " + name() + " backend cannot " + what);
}
std::vector<std::string> VisionBackend::tags(const NamedImage&, ToolContext&) const { unsupported("list objects"); }
std::vector<Detection> VisionBackend::detect(const NamedImage&, const std::vector<std::string>&, ToolContext&) const {
  unsupported("localize objects");
}
DepthMap VisionBackend::depth(const NamedImage&, ToolContext&) const { unsupported("estimate depth"); }
SceneAnnotation VisionBackend::perceive(const NamedImage&, ToolContext&) const { unsupported("list the objects it sees with their attributes"); }
std::vector<Embedding> VisionBackend::embed_images(const std::vector<const NamedImage*>&, ToolContext&) const {
  unsupported("embed images");
}
std::vector<Embedding> VisionBackend::embed_texts(const std::vector<std::string>&, ToolContext&) const {
  unsupported("embed texts");
}

std::shared_ptr<VisionBackend> make_http_backend(const Json& options) { return std::make_shared<HttpBackend>(options); }
std::shared_ptr<VisionBackend> make_unconfigured_backend(const std::string& tool_name) {
  return std::make_shared<UnconfiguredBackend>(tool_name);
}

namespace {

const VisionBackendRegistration kHttp({"http", 2, [](const Json& section, const std::string&) { return make_http_backend(section); },
                                      "the \"url\" of a specialist server"});

}  // namespace

}  // namespace taco
