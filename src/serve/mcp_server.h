// taco as a Model Context Protocol server (`taco mcp`, docs/tools.md): taco's tools, and one
// tool that runs a whole CoTA episode, for any MCP client (IDEs, agent frameworks, desktop
// apps). McpServer answers JSON-RPC messages whatever carries them; run_mcp_stdio() and
// mount_mcp_http() are the two transports (newline-delimited JSON on stdin/stdout, and
// streamable HTTP at /mcp with sessions).
//
// Tool images come as arguments naming an image: a data: URL, or a file under one of the
// allowed roots (nothing else on disk is read); the images a tool makes come back as MCP image
// content. Every call keeps the limits it has everywhere: the tools config's time limit, the
// pixel limits, and the episode's reply budget.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cota/prompt.h"
#include "models/model.h"
#include "runtime/episode.h"
#include "tools/registry.h"
#include "util/json.h"

namespace taco {

class HttpServer;

struct McpServeOptions {
  std::vector<std::string> allowed_roots;  // folders whose files may be named as images
  std::string work_dir;                    // where an episode's images go
};

// The name of the tool that runs an episode.
inline constexpr const char* kRunEpisodeTool = "RunEpisode";

class McpServer {
 public:
  // `model` may be null: then there is no RunEpisode tool.
  McpServer(const ToolRegistry& tools, Model* model, PromptTemplate prompts, EpisodeOptions episode, McpServeOptions options);
  // The reply to one JSON-RPC message; null for a notification (nothing to answer).
  Json handle(const Json& message);
  // The protocol version an initialize request settles on (the client's when taco knows it).
  static std::string negotiate_version(const Json& initialize_params);

 private:
  Json call_tool(const Json& params);
  Json run_episode(const Json& args);
  Json tools_list() const;
  std::string image_argument(const std::string& value) const;  // a readable file path, or a data URL kept as is

  const ToolRegistry& tools_;
  Model* model_;
  PromptTemplate prompts_;
  EpisodeOptions episode_;
  McpServeOptions options_;
};

// Serves `server` over stdin/stdout until stdin ends. Requests are answered concurrently, at
// most `max_concurrency` at once with a few times as many waiting; past that a request is
// answered busy (JSON-RPC error -32000) at once.
void run_mcp_stdio(McpServer& server, size_t max_concurrency = 8);

// Adds POST/GET/DELETE /mcp (streamable HTTP: JSON answers, an Mcp-Session-Id per client;
// requests from other web origins are refused by the HTTP layer when bound to loopback).
void mount_mcp_http(McpServer& server, HttpServer& http);

}  // namespace taco
