// Parser throughput on typical responses (~220 bytes), one core.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cota/parse.h"

namespace {

const std::vector<std::string>& responses() {
  static const std::vector<std::string> r = {
      R"({"thought": "To read the price I need the text in the image first.", "actions": [{"name": "OCR", "arguments": {"image": "image-0"}}]})",
      R"({"thought": "The price is $3.65 per gallon, so $50 buys 50 / 3.65 gallons of fuel.", "actions": [{"name": "Calculate", "arguments": {"expression": "50 / 3.65"}}]})",
      R"({"thought": "I will localize the cat and the dog to compare their sizes.", "actions": [{"name": "LocalizeObjects", "arguments": {"image": "image-0", "objects": ["cat", "dog"]}}]})",
      R"({"thought": "The calculation shows about 13.7 gallons, which answers the question.", "actions": [{"name": "Terminate", "arguments": {"answer": "13.7"}}]})",
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

}  // namespace

BENCHMARK_MAIN();
