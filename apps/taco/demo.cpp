// taco demo: offline episodes through the real loop and tools. First it renders a fuel price
// board and replays a recorded model (three replies, the first of them in the messy
// single-quoted, fenced form real models write) through the parser, ZoomIn, Calculate and
// Terminate. Then, given an embedded checkpoint (--model), it renders a few scenes of a world
// that model never saw, asks it questions about them, runs each episode with the tools
// (vision tools on the oracle backend, Tesseract OCR, Calculate) and scores the answers.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <set>

#include "commands.h"
#include "cota/prompt.h"
#include "eval/score.h"
#include "gen/generate.h"
#include "runtime/episode.h"
#include "synth/world.h"
#include "tools/config.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco::cli {
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

struct DemoFlags {
  std::string out = "demo";
  std::string model;      // an embedded checkpoint folder; "" runs the recorded episode only
  size_t questions = 20;  // one per kind of question: the 8 scenes give 14 single-image kinds
  uint64_t seed = 4242;   // a world neither training (seed 1) nor the benchmark (seed 1000) uses
};

// One question per family, over a few scenes of a fresh world, answered by the embedded model.
void run_embedded_model(const DemoFlags& f) {
  const std::string world = f.out + "/new-world";
  std::printf("\n== The embedded model (%s) on a world it never saw (seed %llu)\n", f.model.c_str(),
              static_cast<unsigned long long>(f.seed));
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

  const std::string tools_file = f.out + "/tools.json";
  write_file(tools_file, Json{{"vision", {{"backend", "oracle"}, {"annotations", "new-world/scene-graph-annotations.json"}}}}.dump(2) + "\n");
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
  for (const auto& task : tasks) {
    std::printf("\n");
    print_task(task);
    Trace trace = runtime.run(task, print_step);
    print_outcome(trace);
    ItemScore s = score_item(task, &trace, nullptr);
    correct += s.score;
    std::printf("  %s (reference: %s)\n", s.score >= 1 ? "RIGHT" : "WRONG", task.answer->c_str());
    out.append(trace.to_json_in(out.path()));
  }
  std::printf("\n== %.0f of %zu answered right; traces in %s; the tools config in %s\n", correct, tasks.size(), traces.c_str(),
              tools_file.c_str());
  std::printf("   next: taco eval run --data BENCH.jsonl --model embedded:%s --tools-config %s --out traces.jsonl (docs/embedded.md)\n",
              f.model.c_str(), tools_file.c_str());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto f = std::make_shared<DemoFlags>();
  auto* cmd = app.add_subcommand("demo", "run offline episodes: a recorded model, then (with --model) the embedded model on new scenes");
  cmd->footer("Example:\n  taco demo --out demo --model models/taco-small\n");
  cmd->add_option("--out", f->out, "folder for the images, the recording and the traces")->capture_default_str();
  cmd->add_option("--model", f->model, "an embedded-model checkpoint folder to ask questions about new scenes");
  cmd->add_option("--questions", f->questions, "the most questions the embedded model answers, one of each kind the new scenes give")->capture_default_str();
  cmd->add_option("--seed", f->seed, "the seed of the new world")->capture_default_str();
  cmd->callback([f] {
    const std::string image = f->out + "/fuel-prices.png";
    const std::string recording = f->out + "/recorded-episode.json";
    render_price_board(image);
    write_file(recording, kRecording);

    ToolRegistry tools = make_tool_registry(ToolsConfig{});
    ModelOptions model_options;
    model_options.model = "replay:" + recording;
    auto model = make_model(model_options);
    EpisodeOptions options;
    options.images_dir = f->out + "/images";
    Runtime runtime(*model, tools, PromptTemplate::defaults(), options);

    Task task;
    task.id = "demo";
    task.images = {image};
    task.question = "How many gallons of Premium can I buy with $40? Round to two decimals.";
    print_task(task);
    Trace trace = runtime.run(task, print_step);
    print_outcome(trace);
    std::remove((f->out + "/traces.jsonl").c_str());
    JsonlAppender(f->out + "/traces.jsonl").append(trace.to_json_in(f->out + "/traces.jsonl"));
    std::printf("  trace written to %s/traces.jsonl\n", f->out.c_str());
    if (trace.status != TraceStatus::kTerminated) {
      exit_status() = kExitFailure;
      return;
    }
    if (!f->model.empty()) run_embedded_model(*f);
  });
}

}  // namespace taco::cli
