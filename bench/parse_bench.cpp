// Parser throughput on typical responses (~220 bytes on average), one core.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cota/parse.h"
#include "cota/trace.h"
#include "cota/trace_facts.h"

namespace {

const std::vector<std::string>& responses() {
  static const std::vector<std::string> r = {
      R"({"thought": "To answer how much the fuel costs I first need to read the prices printed on the sign at the gas station in the photo on the left.", "actions": [{"name": "OCR", "arguments": {"image": "image-0"}}]})",
      R"({"thought": "The price for supreme gasoline is $3.65 per gallon, so with $50 I can buy 50 / 3.65 gallons of it, before any rounding.", "actions": [{"name": "Calculate", "arguments": {"expression": "50 / 3.65"}}]})",
      R"({"thought": "To determine which of the two animals is larger, I need to localize both of them and compare their bounding boxes.", "actions": [{"name": "LocalizeObjects", "arguments": {"image": "image-0", "objects": ["cat", "dog"]}}]})",
      R"({"thought": "The calculation shows that $50 can purchase approximately 13.7 gallons of supreme gasoline at that price per gallon on the sign.", "actions": [{"name": "Terminate", "arguments": {"answer": "13.7"}}]})",
  };
  return r;
}

void BM_ParseTypical(benchmark::State& state) {
  const auto& r = responses();
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& text = r[i++ % r.size()];
    auto result = taco::parse_response(text);
    benchmark::DoNotOptimize(result);
    bytes += text.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ParseTypical);

void BM_ParseMessy(benchmark::State& state) {
  const std::string text =
      "# STEP 1 #:\n```json\n{'thought': 'The sign's text is small, so I zoom in first.', 'actions': [{'name': "
      "'ZoomIn', 'arguments': {'image': 'image-0', 'bbox': [0.6, 0.1, 0.9, 0.3], 'zoom_factor': 2,},}],}\n```";
  for (auto _ : state) {
    auto result = taco::parse_response(text);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseMessy);

// One trace line of taco gen's kind (four steps, tool observations), read whole (Trace::from_json
// on nlohmann's DOM) or for its facts (TraceFactsReader, what curate reads): why curate keeps
// the second reader.
const std::string& trace_line() {
  static const std::string line = [] {
    taco::Trace t;
    t.task.id = "1-42-count";
    t.task.question = "How many red cones are there in the image?";
    t.task.images = {"world/images/1-42.png"};
    t.task.answer = "3";
    t.task.metadata = taco::Json{{"source", "taco-gen"}, {"variant", "cota"}};
    for (const char* tool : {"LocalizeObjects", "Crop", "Calculate", "Terminate"}) {
      taco::StepRecord s;
      s.content = taco::StepContent{"I will look for the red cones and count the boxes that the tool finds in the picture.",
                                    {taco::Action{tool, taco::Json{{"image", "image-0"}, {"objects", {"red cone"}}}}}};
      s.raw = s.content->to_json().dump();
      taco::Json boxes = taco::Json::array();
      for (int k = 0; k < 3; ++k) boxes.push_back(taco::Json{{"label", "red cone"}, {"bbox", {0.1 * k, 0.2, 0.1 * k + 0.08, 0.4}}, {"score", 0.9}});
      s.observation = taco::Json{{"regions", boxes}};
      s.feedback = "OBSERVATION:\n" + s.observation.dump();
      t.steps.push_back(std::move(s));
    }
    t.images.push_back(taco::TraceImage{"image-0", "world/images/1-42.png", "input", 640, 480});
    t.status = taco::TraceStatus::kTerminated;
    t.answer = "3";
    t.answer_source = "terminate";
    return t.to_json().dump();
  }();
  return line;
}

void BM_TraceFromJson(benchmark::State& state) {
  const std::string& line = trace_line();
  for (auto _ : state) {
    taco::Trace t = taco::Trace::from_json(taco::parse_json(line));
    benchmark::DoNotOptimize(t);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_TraceFromJson);

void BM_TraceFacts(benchmark::State& state) {
  std::string line = trace_line();
  const size_t len = line.size();
  line.append(taco::TraceFactsReader::kPadding, '\0');
  taco::TraceFactsReader reader;
  taco::TraceFacts f;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(reader.read(line.data(), len, line.size(), false, false, f, error));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_TraceFacts);

}  // namespace

BENCHMARK_MAIN();
