#include "commands.h"

namespace taco::cli {

void add_model_flags(CLI::App& cmd, ModelOptions& o) {
  cmd.add_option("--model", o.model, "model name as the server knows it, replay:PATH, or embedded:DIR (a taco checkpoint)")->required();
  cmd.add_option("--endpoint", o.endpoint,
                 "OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (default: $OPENAI_BASE_URL, else OpenAI)");
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

}  // namespace taco::cli
