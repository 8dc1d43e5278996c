#include "demo/demo.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <set>

#include "cota/prompt.h"
#include "eval/score.h"
#include "gen/generate.h"
#include "models/embedded/embedded.h"
#include "runtime/episode.h"
#include "synth/world.h"
#include "tools/config.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

void render_price_board(const std::string& path) {
  cv::Mat img(480, 720, CV_8UC3, cv::Scalar(40, 40, 40));
  cv::rectangle(img, {20, 20}, {700, 460}, {230, 230, 230}, 6);
  const int font = cv::FONT_HERSHEY_DUPLEX;
  cv::putText(img, "FUEL PRICES", {190, 95}, font, 1.6, {0, 215, 255}, 3, cv::LINE_AA);
  const char* names[] = {"Regular", "Premium", "Diesel"};
  const char* prices[] = {"3.49", "3.89", "4.05"};
  for (int i = 0; i < 3; ++i) {
    int y = 200 + i * 100;
    cv::putText(img, names[i], {60, y}, font, 1.4, {255, 255, 255}, 2, cv::LINE_AA);
    cv::putText(img, prices[i], {470, y}, font, 1.6, {80, 220, 80}, 3, cv::LINE_AA);
  }
  make_dirs(parent_dir(path));
  if (!cv::imwrite(path, img)) throw Error(path + ": cannot write the demo image");
}

const char* kRecording = R"([
  "```json\n{'thought': 'The board lists several fuel prices. I will zoom into the Premium row to read its price.', 'actions': [{'name': 'ZoomIn', 'arguments': {'image': 'image-0', 'bbox': [0.05, 0.45, 0.95, 0.67], 'zoom_factor': 2,},}],}\n```",
  "{\"thought\": \"The zoomed image-1 shows Premium at 3.89 per gallon, so $40 buys 40 / 3.89 gallons.\", \"actions\": [{\"name\": \"Calculate\", \"arguments\": {\"expression\": \"round(40 / 3.89, 2)\"}}]}",
  "{\"thought\": \"That is about 10.28 gallons.\", \"actions\": [{\"name\": \"Terminate\", \"arguments\": {\"answer\": \"10.28\"}}]}"
])";

// A counting question about a picture of the synthetic world whose annotations are written
// nowhere: the oracle cannot answer for it, the learned models do (its answer is the scene's
// own count, known because the demo drew it).
Task unannotated_task(const DemoSettings& f, const GenOptions& gen) {
  SynthScene scene = render_scene(f.seed + 1, 0);
  const std::string path = f.out + "/unannotated.png";
  write_file(path, scene.image.encode(".png"));
  scene.annotation.image_path = path;
  for (auto& ex : generate_for_scene(scene.annotation, 0, gen, PromptTemplate::defaults()))
    if (ex.family == "count") {
      ex.cota.task.id = "unannotated";
      return ex.cota.task;
    }
  throw Error("the demo's unannotated scene gave no counting question");
}

// One question per family, over a few scenes of a fresh world, answered by the embedded model.
void run_embedded_model(const DemoSettings& f, const EpisodeWatch& watch, const JobEvents& events) {
  const std::string world = f.out + "/new-world";
  events.show(format_text("\n== The embedded model (%s) on a world it never saw (seed %llu)\n", f.model.c_str(),
                          static_cast<unsigned long long>(f.seed)));
  write_world(world, 8, f.seed, 2);
  std::vector<SceneAnnotation> scenes = load_scene_annotations(world + "/scene-graph-annotations.json");
  GenOptions gen;
  gen.seed = f.seed;
  gen.mc_ratio = 0.5;
  std::vector<Task> tasks;
  std::set<std::string> families;
  for (size_t i = 0; i < scenes.size() && tasks.size() < f.questions; ++i)
    for (auto& ex : generate_for_scene(scenes[i], i, gen, PromptTemplate::defaults()))
      if (tasks.size() < f.questions && families.insert(ex.family).second) tasks.push_back(std::move(ex.cota.task));

  // The learned detector and depth model answer for images nobody annotated (the last question).
  const std::string detector = shipped_model_dir("taco-vision/detector"), depth = shipped_model_dir("taco-vision/depth");
  const bool learned = !detector.empty() && !depth.empty();
  if (learned) tasks.push_back(unannotated_task(f, gen));
  Json vision{{"backend", "oracle"}, {"annotations", "new-world/scene-graph-annotations.json"}};
  if (learned) vision["fallback"] = Json{{"backend", "learned"}, {"detector", detector}, {"depth", depth}};
  const std::string tools_file = f.out + "/tools.json";
  write_file(tools_file, Json{{"vision", vision}}.dump(2) + "\n");
  ToolRegistry tools = make_tool_registry(ToolsConfig::load(tools_file));
  ModelOptions model_options;
  model_options.model = "embedded:" + f.model;
  auto model = make_model(model_options);
  const ModelDefaults own = model->defaults();
  EpisodeOptions options;
  options.images_dir = f.out + "/model-traces.images";
  options.max_replies = own.max_replies;
  Runtime runtime(*model, tools, PromptTemplate::from_json(own.prompt_template, f.model), options);

  const std::string traces = f.out + "/model-traces.jsonl";
  std::remove(traces.c_str());
  JsonlAppender out(traces);
  double correct = 0;
  std::string scores;  // as taco eval score writes them, for taco view --scores
  for (const auto& task : tasks) {
    events.show(task.id == "unannotated" ? "\n(a picture nobody annotated: taco's learned detector and depth model answer for the oracle)\n"
                                         : "\n");
    if (watch.task) watch.task(task);
    Trace trace = runtime.run(task, watch.step);
    if (watch.outcome) watch.outcome(trace);
    ItemScore s = score_item(task, &trace, nullptr);
    correct += s.score;
    scores += s.to_json().dump() + "\n";
    events.show(format_text("  %s (reference: %s)\n", s.score >= 1 ? "RIGHT" : "WRONG", task.answer->c_str()));
    out.append(trace.to_json_in(out.path()));
  }
  const std::string scores_file = f.out + "/model-traces.scores.jsonl";
  write_file(scores_file, scores);
  events.show(format_text("\n== %.0f of %zu answered right; traces in %s; the tools config in %s; scores in %s\n", correct,
                          tasks.size(), traces.c_str(), tools_file.c_str(), scores_file.c_str()));
}

}  // namespace

bool run_demo(const DemoSettings& settings, const EpisodeWatch& watch, const JobEvents& events) {
  const std::string image = settings.out + "/fuel-prices.png";
  const std::string recording = settings.out + "/recorded-episode.json";
  render_price_board(image);
  write_file(recording, kRecording);

  ToolRegistry tools = make_tool_registry(ToolsConfig{});
  ModelOptions model_options;
  model_options.model = "replay:" + recording;
  auto model = make_model(model_options);
  EpisodeOptions options;
  options.images_dir = settings.out + "/images";
  Runtime runtime(*model, tools, PromptTemplate::defaults(), options);

  Task task;
  task.id = "demo";
  task.images = {image};
  task.question = "How many gallons of Premium can I buy with $40? Round to two decimals.";
  if (watch.task) watch.task(task);
  Trace trace = runtime.run(task, watch.step);
  if (watch.outcome) watch.outcome(trace);
  std::remove((settings.out + "/traces.jsonl").c_str());
  JsonlAppender(settings.out + "/traces.jsonl").append(trace.to_json_in(settings.out + "/traces.jsonl"));
  events.show(format_text("  trace written to %s/traces.jsonl\n", settings.out.c_str()));
  if (trace.status != TraceStatus::kTerminated) return false;
  if (!settings.model.empty()) run_embedded_model(settings, watch, events);
  return true;
}

}  // namespace taco
