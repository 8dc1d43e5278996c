// QueryLanguageModel: asks a text model a question through any OpenAI-compatible endpoint,
// with the same client as the runtime.
#include "models/model.h"
#include "tools/builtin.h"
#include "tools/catalog.h"

namespace taco {
namespace {

class LanguageModelTool : public Tool {
 public:
  explicit LanguageModelTool(const Json& options) {
    ModelOptions o;
    o.model = options.value("model", "");
    o.endpoint = options.value("endpoint", "");
    o.api_key_env = options.value("api_key_env", "OPENAI_API_KEY");
    o.temperature = options.value("temperature", 0.0);
    o.max_tokens = options.value("max_tokens", 512);
    o.timeout_s = options.value("timeout_s", 60.0);
    o.retries = options.value("retries", 2);
    if (o.model.empty()) {
      unavailable_ = "no language model is configured: set tools.QueryLanguageModel.model (and endpoint) in the tools config";
      return;
    }
    try {
      model_ = make_model(o);
    } catch (const Error& e) {
      unavailable_ = e.what();
    }
  }
  const ToolSpec& spec() const override {
    static const ToolSpec s{"QueryLanguageModel",
                            "Asks a language model a question and returns its answer.",
                            {{"query", ArgType::kString, "the question to ask."}},
                            {{"result", "the language model's answer."}},
                            {Json{{"name", "QueryLanguageModel"}, {"arguments", {{"query", "What is the capital of France?"}}}}}};
    return s;
  }
  std::string backend() const override { return model_ ? "openai-compatible:" + model_->name() : "none"; }
  std::string unavailable_reason() const override { return unavailable_; }
  Json call(const Json& args, ToolContext& ctx) const override {
    std::vector<Message> messages{Message{"user", {{args.at("query").get<std::string>(), nullptr}}}};
    try {
      return Json{{"result", model_->complete(CompletionRequest{ctx.task_id(), &messages}).text}};
    } catch (const ModelError& e) {
      throw ToolError(ToolFailure::kConnectionError, e.what());
    }
  }

 private:
  std::unique_ptr<Model> model_;
  std::string unavailable_;
};

}  // namespace

std::unique_ptr<Tool> make_language_model_tool(const Json& options) { return std::make_unique<LanguageModelTool>(options); }

namespace {

const ToolRegistration kLanguageModel({"QueryLanguageModel", 9, false, false, false, [](const ToolMaking& m) {
                                        return make_language_model_tool(m.section("QueryLanguageModel"));
                                      }});

}  // namespace

}  // namespace taco
