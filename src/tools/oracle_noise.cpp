#include "tools/oracle_noise.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "util/error.h"
#include "util/hash.h"

namespace taco {
namespace {

// Draws fixed by (scene id, stream, seed) on every platform: FNV-1a over the id, splitmix64
// for the stream, Box-Muller for normals (std's distributions differ between libraries, and a
// chain generated on one machine must match the oracle on another).
class Draws {
 public:
  Draws(const std::string& scene_id, const char* stream, uint64_t seed) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : scene_id + "/" + stream) h = (h ^ c) * 1099511628211ULL;
    state_ = h ^ (seed * kGoldenGamma);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double normal() {
    const double u = std::max(uniform(), 1e-300), v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
  }

 private:
  uint64_t next() { return mix64(state_ += kGoldenGamma); }
  uint64_t state_;
};

double share(const std::string& key, double v) {
  if (!(v >= 0 && v <= 1)) throw Error("oracle noise: " + key + " must be between 0 and 1");
  return v;
}

void set(OracleNoise& n, const std::string& key, double v) {
  if (key == "miss") n.miss = share(key, v);
  else if (key == "false") n.false_detection = share(key, v);
  else if (key == "jitter") n.box_jitter = share(key, v);
  else if (key == "depth") n.depth = share(key, v);
  else if (key == "seed") n.seed = static_cast<uint64_t>(v);
  else throw Error("oracle noise: unknown setting '" + key + "' (use miss, false, jitter, depth, seed)");
}

}  // namespace

OracleNoise OracleNoise::parse(const Json& spec) {
  OracleNoise n;
  if (spec.is_null()) return n;
  if (spec.is_object()) {
    for (const auto& [key, value] : spec.items()) {
      if (!value.is_number()) throw Error("oracle noise: " + key + " must be a number");
      set(n, key, value.get<double>());
    }
    return n;
  }
  if (!spec.is_string()) throw Error("oracle noise: give \"none\", \"realistic\", \"miss=..,false=..,jitter=..,depth=..\" or an object");
  const std::string text = spec.get<std::string>();
  if (text == "none" || text.empty()) return n;
  // What open-vocabulary detectors and monocular depth models get wrong on clear scenes: about
  // one object in ten missed, one in twenty boxed twice, edges off by a few percent of the box,
  // depth off by about 10% (Depth Anything's AbsRel on NYUv2 is 0.04-0.06, higher off-domain).
  if (text == "realistic") return OracleNoise{0.1, 0.05, 0.05, 0.1, 0};
  if (text.find('=') == std::string::npos)
    throw Error("oracle noise: unknown level '" + text + "' (use none, realistic, or miss=..,false=..,jitter=..,depth=..)");
  std::istringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    const size_t eq = part.find('=');
    if (eq == std::string::npos) throw Error("oracle noise: '" + part + "' is not key=value");
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(part.substr(eq + 1), &used);
      if (used != part.size() - eq - 1) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      throw Error("oracle noise: '" + part + "' does not give a number");
    }
    set(n, part.substr(0, eq), v);
  }
  return n;
}

std::string OracleNoise::to_string() const {
  if (none()) return "none";
  std::ostringstream s;
  s << "miss=" << miss << ",false=" << false_detection << ",jitter=" << box_jitter << ",depth=" << depth << ",seed=" << seed;
  return s.str();
}

SceneAnnotation perceive(const SceneAnnotation& truth, const OracleNoise& noise) {
  if (noise.none()) return truth;
  SceneAnnotation seen = truth;
  seen.objects.clear();
  seen.relations.clear();
  seen.segment_path.clear();  // the masks are the true objects', in their order: not these
  std::vector<int> new_index(truth.objects.size(), -1);
  std::vector<SceneObject> spurious;
  Draws draws(truth.id, "objects", noise.seed);
  auto fit = [](double& lo, double& hi, double limit) {
    lo = std::clamp(lo, 0.0, limit - 1);
    hi = std::clamp(hi, lo + 1, limit);
  };
  for (size_t i = 0; i < truth.objects.size(); ++i) {
    // The same number of draws for every object, so one object's fate never shifts another's.
    const double u_miss = draws.uniform(), u_false = draws.uniform();
    double jitter[4];
    for (double& j : jitter) j = draws.normal();
    const double fx = draws.uniform(), fy = draws.uniform(), fscore = draws.uniform();
    if (u_miss < noise.miss) continue;
    SceneObject o = truth.objects[i];
    o.score = oracle_score(truth, i);
    const double w = o.box[2] - o.box[0], h = o.box[3] - o.box[1];
    for (int k = 0; k < 4; ++k) o.box[k] += jitter[k] * noise.box_jitter * (k % 2 == 0 ? w : h);
    fit(o.box[0], o.box[2], truth.width);
    fit(o.box[1], o.box[3], truth.height);
    new_index[i] = static_cast<int>(seen.objects.size());
    seen.objects.push_back(o);
    if (u_false < noise.false_detection) {
      SceneObject s;
      s.label = o.label;
      s.attributes = o.attributes;
      s.box[0] = fx * std::max(0.0, truth.width - w);
      s.box[1] = fy * std::max(0.0, truth.height - h);
      s.box[2] = s.box[0] + w;
      s.box[3] = s.box[1] + h;
      fit(s.box[0], s.box[2], truth.width);
      fit(s.box[1], s.box[3], truth.height);
      s.score = 0.35 + 0.3 * fscore;  // detectors are less sure of what is not there
      spurious.push_back(std::move(s));
    }
  }
  for (auto& s : spurious) seen.objects.push_back(std::move(s));
  for (const auto& r : truth.relations) {
    if (r.head < 0 || r.tail < 0 || static_cast<size_t>(r.head) >= new_index.size() || static_cast<size_t>(r.tail) >= new_index.size())
      continue;
    const int h = new_index[static_cast<size_t>(r.head)], t = new_index[static_cast<size_t>(r.tail)];
    if (h >= 0 && t >= 0) seen.relations.push_back(SceneRelation{h, r.relation, t});
  }
  return seen;
}

void perturb_depth(DepthMap& depth, const std::string& scene_id, const OracleNoise& noise) {
  if (noise.depth == 0 || depth.width == 0 || depth.height == 0) return;
  constexpr int kGridW = 5, kGridH = 4;  // a few smooth swells across the picture
  Draws draws(scene_id, "depth", noise.seed);
  double grid[kGridH][kGridW];
  for (auto& row : grid)
    for (double& g : row) g = noise.depth * draws.normal();
  for (int y = 0; y < depth.height; ++y) {
    const double gy = static_cast<double>(y) * (kGridH - 1) / std::max(1, depth.height - 1);
    const int y0 = std::min(static_cast<int>(gy), kGridH - 2);
    const double ty = gy - y0;
    for (int x = 0; x < depth.width; ++x) {
      const double gx = static_cast<double>(x) * (kGridW - 1) / std::max(1, depth.width - 1);
      const int x0 = std::min(static_cast<int>(gx), kGridW - 2);
      const double tx = gx - x0;
      const double e = (1 - ty) * ((1 - tx) * grid[y0][x0] + tx * grid[y0][x0 + 1]) +
                       ty * ((1 - tx) * grid[y0 + 1][x0] + tx * grid[y0 + 1][x0 + 1]);
      float& v = depth.values[static_cast<size_t>(y) * depth.width + x];
      v = static_cast<float>(v * std::max(0.0, 1 + e));
    }
  }
}

}  // namespace taco
