// Tool speeds: OCR on a 900x300 text image, Crop and ZoomIn on a 1024x1024 image, Calculate,
// and a knowledge base query over 100,000 entries (built on first use in /tmp).
// Run with OMP_THREAD_LIMIT=1 (scripts/bench does), as the taco binary sets it for itself.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tools/builtin.h"
#include "tools/image_store.h"
#include "tools/knowledge.h"
#include "tools/registry.h"

using namespace taco;

namespace {

const std::string kDir = "/tmp/taco-tools-bench";

std::string text_image() {
  std::string path = kDir + "/text-900x300.png";
  if (!std::filesystem::exists(path)) {
    std::filesystem::create_directories(kDir);
    cv::Mat img(300, 900, CV_8UC3, cv::Scalar(255, 255, 255));
    const char* lines[] = {"Regular unleaded 3.49 per gallon", "Supreme 3.65 per gallon", "Diesel No. 2 3.60"};
    for (int i = 0; i < 3; ++i)
      cv::putText(img, lines[i], {30, 80 + 85 * i}, cv::FONT_HERSHEY_DUPLEX, 1.5, {0, 0, 0}, 2, cv::LINE_AA);
    cv::imwrite(path, img);
  }
  return path;
}

std::string big_image() {
  std::string path = kDir + "/photo-1024.png";
  if (!std::filesystem::exists(path)) {
    std::filesystem::create_directories(kDir);
    cv::Mat img(1024, 1024, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::GaussianBlur(img, img, {9, 9}, 3);
    cv::imwrite(path, img);
  }
  return path;
}

// A knowledge base of 100,000 generated articles.
std::string big_kb() {
  std::string db = kDir + "/kb-100k.sqlite";
  if (std::filesystem::exists(db)) return db;
  std::filesystem::create_directories(kDir);
  std::string jsonl = kDir + "/kb-100k.jsonl";
  const char* words[] = {"river", "mountain", "city", "painter", "physicist", "bridge", "festival", "island", "engine",
                         "library", "castle", "forest", "harbor", "railway", "museum", "theorem", "planet", "opera"};
  std::ofstream out(jsonl);
  for (int i = 0; i < 100000; ++i) {
    std::string a = words[i % 18], b = words[(i / 18) % 18], c = words[(i / 324) % 18];
    out << "{\"title\": \"" << a << " " << b << " " << i << "\", \"text\": \"The " << a << " " << b << " " << i
        << " is a " << c << " near the " << b << ". It was first described in " << 1800 + i % 200
        << ". Visitors know it for its " << a << " and its " << c << ".\", \"url\": \"https://example.org/" << i << "\"}\n";
  }
  out.close();
  auto t0 = std::chrono::steady_clock::now();
  import_knowledge(jsonl, db);
  std::fprintf(stderr, "imported 100,000 entries in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return db;
}

void run_tool(benchmark::State& state, ToolRegistry& tools, const std::string& image, const Action& action) {
  ImageStore store;
  if (!image.empty()) store.add_input(image);
  for (auto _ : state) {
    auto ctx = store.context_for("bench");
    benchmark::DoNotOptimize(tools.execute(action, ctx));
  }
}

void BM_Ocr900x300(benchmark::State& state) {
  ToolRegistry tools;
  tools.add(make_ocr_tool());
  run_tool(state, tools, text_image(), Action{"OCR", Json{{"image", "image-0"}}});
}
BENCHMARK(BM_Ocr900x300)->Unit(benchmark::kMillisecond)->UseRealTime();  // the call runs on its own thread

void BM_Crop1024(benchmark::State& state) {
  ToolRegistry tools = make_builtin_registry();
  run_tool(state, tools, big_image(), Action{"Crop", Json{{"image", "image-0"}, {"bbox", {0.2, 0.2, 0.6, 0.6}}}});
}
BENCHMARK(BM_Crop1024)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ZoomIn1024(benchmark::State& state) {
  ToolRegistry tools = make_builtin_registry();
  run_tool(state, tools, big_image(),
           Action{"ZoomIn", Json{{"image", "image-0"}, {"bbox", {0.2, 0.2, 0.6, 0.6}}, {"zoom_factor", 2}}});
}
BENCHMARK(BM_ZoomIn1024)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Calculate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(evaluate_expression("round((12.5 * 4 + 3 ** 2) / 3.65, 2)"));
}
BENCHMARK(BM_Calculate);

void BM_KnowledgeQuery100k(benchmark::State& state) {
  KnowledgeBase kb(big_kb());
  const char* queries[] = {"painter museum 1234", "river bridge", "the castle near the forest", "opera festival 99017"};
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(kb.search(queries[i++ % 4], 1));
}
BENCHMARK(BM_KnowledgeQuery100k)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
