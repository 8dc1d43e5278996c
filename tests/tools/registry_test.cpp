#include "tools/image_store.h"
#include "tools/registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace taco {
namespace {

class SlowTool : public Tool {
 public:
  const ToolSpec& spec() const override {
    static const ToolSpec s{"Slow", "sleeps", {{"seconds", ArgType::kNumber, "how long"}}, {{"done", "true"}}, {}};
    return s;
  }
  Json call(const Json& args, ToolContext& ctx) const override {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(args["seconds"].get<double>());
    while (std::chrono::steady_clock::now() < until && !ctx.cancelled())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ctx.add_image(Image());
    return Json{{"done", !ctx.cancelled()}};
  }
};

std::shared_ptr<ToolContext> empty_context() { return ImageStore("", 100).context_for("t"); }

TEST(RegistryTest, CallsOverTheTimeLimitAreAbandoned) {
  ToolRegistry r;
  r.add(std::make_unique<SlowTool>());
  r.set_time_limit(0.1);
  auto ctx = empty_context();
  auto start = std::chrono::steady_clock::now();
  try {
    r.execute(Action{"Slow", Json{{"seconds", 5}}}, ctx);
    FAIL();
  } catch (const ToolError& e) {
    EXPECT_EQ(e.kind(), ToolFailure::kTimeoutError);
    EXPECT_STREQ(e.what(), "Slow did not finish within 0.1 seconds");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(ctx->cancelled());
  // A call within the limit returns normally.
  auto ok = empty_context();
  EXPECT_EQ(r.execute(Action{"Slow", Json{{"seconds", 0.01}}}, ok)["done"], true);
  EXPECT_EQ(ok->new_images().size(), 1u);
}

// Whatever a tool returns, the observation the model is fed stays within the limit: long
// texts are cut and say so; a result that stays too large is an error observation.
TEST(RegistryTest, AnObservationOverTheLimitIsCutAndSaysSo) {
  Json text{{"text", std::string(2 << 20, 'y')}, {"small", "kept"}};
  cap_observation(text, "Big");
  EXPECT_LE(text.dump().size(), kMaxObservationBytes);
  EXPECT_EQ(text["small"], "kept");
  const std::string t = text["text"];
  EXPECT_EQ(t.substr(t.size() - 33), "here; the first 128 KB are shown]");
  EXPECT_NE(t.find("[cut: Big returned 2 MB here"), std::string::npos);
  Json boxes = Json::array();
  for (int i = 0; i < 100000; ++i) boxes.push_back(Json{0.1, 0.2, 0.3, 0.4});
  Json many{{"boxes", boxes}};
  try {
    cap_observation(many, "Big");
    ADD_FAILURE() << "a result of 100,000 boxes was taken";
  } catch (const ToolError& e) {
    EXPECT_NE(std::string(e.what()).find("over the limit of 256 KB for one observation"), std::string::npos) << e.what();
  }
  Json small{{"text", "short"}};
  cap_observation(small, "Big");
  EXPECT_EQ(small["text"], "short");
}

TEST(RegistryTest, AddReplacesAToolOfTheSameName) {
  ToolRegistry r = make_builtin_registry();
  size_t n = r.tools().size();
  r.add(std::make_unique<SlowTool>());
  r.add(std::make_unique<SlowTool>());
  EXPECT_EQ(r.tools().size(), n + 1);
  EXPECT_EQ(r.action_docs().back().name, "Slow");
}

}  // namespace
}  // namespace taco
