// The official OpenAI SDK against `taco serve` (tests/serve/openai_sdk_test.cpp starts the
// server): models, a plain completion, one with an image, a streamed one, the agent (also
// streamed, its steps as reasoning_content), tools passed through to the backing model (also
// streamed, gathered by the SDK's own stream helper), and a request without the key. Prints one JSON object of what it saw; exits 1 on any surprise.
//   node openai_client.mjs BASE_URL API_KEY IMAGE_PNG
import fs from "node:fs";
import OpenAI from "openai";

const [baseURL, apiKey, imagePath] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const seen = {};

const models = await client.models.list();
seen.models = models.data.map((m) => m.id);

const plain = await client.chat.completions.create({
  model: seen.models[0],
  messages: [{ role: "user", content: "Say hello." }],
});
seen.plain = plain.choices[0].message.content;
seen.usage = plain.usage.total_tokens;

const image = fs.readFileSync(imagePath).toString("base64");
const withImage = await client.chat.completions.create({
  model: seen.models[0],
  messages: [{ role: "user", content: [
    { type: "text", text: "What is in the picture?" },
    { type: "image_url", image_url: { url: `data:image/png;base64,${image}` } },
  ] }],
});
seen.with_image = withImage.choices[0].message.content;

const stream = await client.chat.completions.create({
  model: seen.models[0],
  messages: [{ role: "user", content: "Say hello." }],
  stream: true,
});
seen.streamed = "";
seen.chunks = 0;
for await (const chunk of stream) {
  seen.chunks += 1;
  seen.streamed += chunk.choices[0]?.delta?.content ?? "";
}

const agent = await client.chat.completions.create({
  model: "taco-agent",
  messages: [{ role: "user", content: "What is 6*7?" }],
});
seen.agent = agent.choices[0].message.content;
seen.agent_steps = agent.taco.trace.steps.length;

const agentStream = await client.chat.completions.create({
  model: "taco-agent",
  messages: [{ role: "user", content: "What is 6*7?" }],
  stream: true,
});
seen.agent_streamed = "";
seen.agent_reasoning = "";
for await (const chunk of agentStream) {
  seen.agent_streamed += chunk.choices[0]?.delta?.content ?? "";
  seen.agent_reasoning += chunk.choices[0]?.delta?.reasoning_content ?? "";
}

const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
const called = await client.chat.completions.create({
  model: seen.models[0],
  messages: [{ role: "user", content: "Weather in Oslo?" }],
  tools,
});
seen.tool_call = called.choices[0].message.tool_calls[0].function;
const toolStream = client.beta.chat.completions.stream({
  model: seen.models[0],
  messages: [{ role: "user", content: "Weather in Oslo?" }],
  tools,
});
const gathered = await toolStream.finalChatCompletion();
seen.streamed_tool_call = gathered.choices[0].message.tool_calls[0].function;

const anonymous = new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 });
try {
  await anonymous.models.list();
  seen.refused = false;
} catch (e) {
  seen.refused = e.status === 401;
}
console.log(JSON.stringify(seen));
