#include "commands.h"
#include "runtime/setup.h"

namespace taco::cli {

void add_model_flags(CLI::App& cmd, ModelOptions& o, bool with_api_key) {
  cmd.add_option("--model", o.model, "model name as the server knows it, replay:PATH, or embedded:DIR (a taco checkpoint)")->required();
  cmd.add_option("--endpoint", o.endpoint,
                 "OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (default: $OPENAI_BASE_URL, else OpenAI)");
  if (with_api_key) cmd.add_option("--api-key", o.api_key, "the API key itself (visible to other users in the process list: prefer --api-key-env)");
  cmd.add_option("--api-key-env", o.api_key_env, "environment variable holding the API key")->capture_default_str();
  cmd.add_option("--temperature", o.temperature, "sampling temperature")->capture_default_str();
  cmd.add_option("--top-p", o.top_p, "nucleus sampling: sample from the smallest set of tokens with this much probability")
      ->capture_default_str();
  cmd.add_option("--max-tokens", o.max_tokens, "most tokens per reply (default: 1024, or an embedded model's own limit)");
  cmd.add_option("--seed", o.seed, "sampling seed (-1: none)")->capture_default_str();
  cmd.add_option("--timeout", o.timeout_s, "seconds a model call may take")->capture_default_str();
  cmd.add_option("--retries", o.retries, "retries on connection errors, 429 and 5xx")->capture_default_str();
  cmd.add_option("--json-schema", o.json_schema, "response_format JSON schema for structured output: a schema, or \"cota\" for the step shape (an embedded model: only \"cota\", enforced as it decodes)");
}

void add_judge_flags(CLI::App& cmd, ModelOptions& judge, std::string& cache, const std::string& what) {
  cmd.add_option("--judge,--judge-model", judge.model, "the judge model for " + what);
  cmd.add_option("--judge-endpoint", judge.endpoint, "the judge's OpenAI-compatible base URL (default: --endpoint's default)");
  cmd.add_option("--judge-api-key", judge.api_key, "the judge's API key itself (prefer --judge-api-key-env)");
  cmd.add_option("--judge-api-key-env", judge.api_key_env, "environment variable with the judge's API key")->capture_default_str();
  cmd.add_option("--judge-cache", cache,
                 "cached judgments (default: one file per judge model, shared: ~/.cache/taco/judge/MODEL.jsonl; $TACO_CACHE_DIR moves it)");
}

}  // namespace taco::cli
