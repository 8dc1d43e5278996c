// Parser throughput on typical responses (~220 bytes on average), one core.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cota/parse.h"

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

}  // namespace

BENCHMARK_MAIN();
