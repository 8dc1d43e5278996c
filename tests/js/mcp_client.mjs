// The official MCP TypeScript SDK as a client of `taco mcp` (tests/serve/mcp_server_test.cpp
// starts what it needs): over stdio (the SDK starts taco itself) or streamable HTTP, it lists
// the tools, calls OCR on an image file, ZoomIn on a data: URL (an image comes back), a file
// outside the allowed roots (refused), and RunEpisode. Prints one JSON object of what it saw.
//   node mcp_client.mjs stdio TACO_BINARY IMAGE_DIR MODEL_ENDPOINT
//   node mcp_client.mjs http URL IMAGE_DIR
import fs from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, imageDir, endpoint] = process.argv.slice(2);
const transport = mode === "stdio"
  ? new StdioClientTransport({
      command: target,
      args: ["mcp", "--allowed-root", imageDir, "--model", "scripted", "--endpoint", endpoint, "--retries", "0"],
      stderr: "ignore",
    })
  : new StreamableHTTPClientTransport(new URL(target));
const client = new Client({ name: "taco-test", version: "1.0.0" });
await client.connect(transport);
const seen = { server: client.getServerVersion()?.name };

const { tools } = await client.listTools();
seen.tools = tools.map((t) => t.name);
seen.ocr_schema = tools.find((t) => t.name === "OCR")?.inputSchema;

const ocr = await client.callTool({ name: "OCR", arguments: { image: `${imageDir}/text.png` } });
seen.ocr_text = ocr.content.filter((c) => c.type === "text").map((c) => c.text).join("");
seen.ocr_error = ocr.isError ?? false;

const png = fs.readFileSync(`${imageDir}/text.png`).toString("base64");
const zoom = await client.callTool({ name: "ZoomIn", arguments: { image: `data:image/png;base64,${png}`, bbox: [0, 0, 0.5, 0.5], zoom_factor: 2 } });
seen.zoom_images = zoom.content.filter((c) => c.type === "image").map((c) => ({ mimeType: c.mimeType, bytes: Buffer.from(c.data, "base64").length }));
seen.zoom_structured = zoom.structuredContent;

const outside = await client.callTool({ name: "OCR", arguments: { image: "/etc/hostname" } });
seen.outside = { isError: outside.isError ?? false, text: outside.content[0]?.text };

const episode = await client.callTool({ name: "RunEpisode", arguments: { question: "What is 6*7?", max_replies: 3 } });
seen.episode_answer = episode.content[0]?.text;
seen.episode_steps = episode.structuredContent?.steps;
seen.episode_status = episode.structuredContent?.status;

await client.close();
console.log(JSON.stringify(seen));
