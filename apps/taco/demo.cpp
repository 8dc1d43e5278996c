// taco demo: an offline episode through the real loop and tools. It renders a fuel price board,
// then replays a recorded model (three replies, the first of them in the messy single-quoted,
// fenced form real models write) through the parser, ZoomIn, Calculate and Terminate.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "commands.h"
#include "cota/prompt.h"
#include "runtime/episode.h"
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

}  // namespace

void add_demo_command(CLI::App& app) {
  auto out = std::make_shared<std::string>("demo");
  auto* cmd = app.add_subcommand("demo", "run an offline episode: a rendered image, a recorded model, the real loop and tools");
  cmd->add_option("--out", *out, "folder for the image, the recording and the trace")->capture_default_str();
  cmd->callback([out] {
    const std::string image = *out + "/fuel-prices.png";
    const std::string recording = *out + "/recorded-episode.json";
    render_price_board(image);
    write_file(recording, kRecording);

    ToolRegistry tools = make_tool_registry(ToolsConfig{});
    ModelOptions model_options;
    model_options.model = "replay:" + recording;
    auto model = make_model(model_options);
    EpisodeOptions options;
    options.images_dir = *out + "/images";
    Runtime runtime(*model, tools, PromptTemplate::defaults(), options);

    Task task;
    task.id = "demo";
    task.images = {image};
    task.question = "How many gallons of Premium can I buy with $40? Round to two decimals.";
    print_task(task);
    Trace trace = runtime.run(task, print_step);
    print_outcome(trace);
    std::remove((*out + "/traces.jsonl").c_str());
    JsonlAppender(*out + "/traces.jsonl").append(trace.to_json());
    std::printf("  trace written to %s/traces.jsonl\n", out->c_str());
    if (trace.status != TraceStatus::kTerminated) throw ExitCode{kExitFailure};
  });
}

}  // namespace taco::cli
