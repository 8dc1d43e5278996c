// Tools from Model Context Protocol servers, in the registry beside the built-in ones
// (docs/tools.md). A tools config's "mcpServers" block has the shape desktop MCP clients use,
// so a user pastes what they have, plus taco's own per-server settings:
//
//   {"mcpServers": {
//      "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"],
//                     "env": {"KEY": "value"}, "allow": ["echo"], "time_limit_s": 30},
//      "remote": {"url": "https://host/mcp", "headers": {"Authorization": "Bearer ..."}, "deny": ["delete"]}}}
//
// A "command" server is a child process spoken to over stdio (util/child_process.h, the same
// supervisor as the tool workers: it dies with taco, sees none of taco's descriptors; its
// standard error goes to a log file that errors name); a "url" server speaks streamable HTTP.
// Each tool becomes an action: its description and input schema's properties are what the
// CoTA prompt shows, arguments are checked against the schema before the call, text results
// are the observation, image results new image-k images, and an error result or a server that
// fails is an execution error the model sees. A server that dies is started again at the next
// call; the call that found it dead reports the failure.
#pragma once

#include <string>
#include <vector>

#include "tools/registry.h"
#include "util/json.h"

namespace taco {

struct McpServerConfig {
  std::string name;
  std::string command;  // a stdio server: the program (with args and env)
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string url;  // a streamable-HTTP server's endpoint
  std::vector<std::string> headers;  // "Name: value", sent with every HTTP request
  std::vector<std::string> allow;    // only these tools ("" : all)
  std::vector<std::string> deny;     // never these
  double time_limit_s = 60;          // one call (and the start-up handshake)
  std::string base_dir;              // a relative command path resolves here (the config's folder)
};

// The servers of a tools config's "mcpServers" object; throws Error naming the bad entry.
std::vector<McpServerConfig> mcp_servers_from_config(const Json& block, const std::string& base_dir, double default_time_limit_s);

// Starts (or connects to) each server, lists its tools and adds those allowed to the registry.
// Throws Error when a server cannot be started or answered the handshake wrong, or when one of
// its tools has the name of a tool already there (deny it, or allow only the others).
void add_mcp_tools(ToolRegistry& registry, const std::vector<McpServerConfig>& servers);

// The MCP protocol revisions taco speaks, as client and as server (`taco mcp`), newest first.
// The longest JSON-RPC message taco reads over stdio, from an MCP server or from a client.
inline constexpr size_t kMaxMcpMessageBytes = size_t{64} << 20;

const std::vector<std::string>& mcp_protocol_versions();
bool is_mcp_protocol_version(const std::string& version);

// The first way `value` breaks `schema` ("" when it does not), for the JSON Schema keywords
// tool inputs use: type, properties, required, additionalProperties, items, enum, const,
// minimum/maximum, minLength/maxLength, minItems/maxItems, anyOf/oneOf. Others are not checked.
std::string json_schema_problem(const Json& schema, const Json& value, const std::string& where = "arguments");

}  // namespace taco
