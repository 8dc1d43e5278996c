#!/usr/bin/env python3
"""The remote models of README.md's commands, played on 127.0.0.1:PORT for scripts/readme_check.

An OpenAI-compatible chat-completions server (Python's standard library only) that answers any
model name: as a teacher or evaluated model it knows the answers of examples/tasks.jsonl and
examples/LMUData/TacoMini.tsv (matched by question text); in CoTA mode it first calls OCR on
image-0, then Terminate with the answer; in CoT mode (Terminate the only action) it answers at
once; in Direct mode it writes the answer; as a judge (MMVet's grading table) it grades 1.0.
As a teacher is, it is wrong once in CoTA mode (the flower's material), so that distill makes a
Direct example and the README's pipeline carries it through curate and export.
"""
import csv
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

examples = Path(sys.argv[2])
answers = {}
for line in (examples / "tasks.jsonl").read_text().splitlines():
    task = json.loads(line)
    answers[task["question"].split("\nOptions:")[0]] = task["answer"]
csv.field_size_limit(1 << 30)
with open(examples / "LMUData" / "TacoMini.tsv", newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        answers[row["question"]] = row["answer"]


def text_of(content):
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def reply_for(messages):
    texts = [text_of(m.get("content")) for m in messages]
    if any("| Correctness" in t for t in texts):
        return "1.0"
    system = next((t for m, t in zip(messages, texts) if m.get("role") == "system"), "")
    user = next((t for m, t in zip(messages, texts) if m.get("role") == "user"), "")
    answer = next((a for q, a in answers.items() if q in user), "unknown")
    if "Terminate" not in system:  # Direct mode
        return answer
    cota = "OCR" in system
    if cota and not any(m.get("role") == "assistant" for m in messages):
        step = {"thought": "First I read the text in the image.", "actions": [{"name": "OCR", "arguments": {"image": "image-0"}}]}
    else:
        if cota and "What is the flower made of?" in user:
            answer = "metal"
        step = {"thought": "I can answer now.", "actions": [{"name": "Terminate", "arguments": {"answer": answer}}]}
    return json.dumps(step)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send_json(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.endswith("/models"):
            self.send_json({"object": "list", "data": [{"id": "stand-in", "object": "model"}]})
        else:
            self.send_json({"error": {"message": "not found"}}, 404)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        content = reply_for(body.get("messages", []))
        self.send_json({"id": "chatcmpl-stand-in", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model", "stand-in"),
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
