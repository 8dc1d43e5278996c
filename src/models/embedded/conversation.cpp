#include "models/embedded/conversation.h"

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "util/base64.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"

namespace taco {
namespace {

const std::string kPlaceholder = "<image>";

std::string record_text(const Json& turn, const char* key) {
  auto it = turn.find(key);
  if (it == turn.end() || !it->is_string()) throw Error(std::string("a turn without a \"") + key + "\" string");
  return it->get<std::string>();
}

TrainingConversation read_record(const Json& r, const std::string& base_dir, bool image_folder_given) {
  if (!r.is_object()) throw Error("not a JSON object");
  // LLaVA: conversations of from/value; Mantis: conversation of role/content; LLaMA-Factory's
  // multimodal ShareGPT and ms-swift: messages of role/content. The last two list "images".
  const bool llava = r.contains("conversations");
  const Json* turns = llava                          ? &r["conversations"]
                      : r.contains("conversation") ? &r["conversation"]
                      : r.contains("messages")     ? &r["messages"]
                                                   : nullptr;
  if (!turns || !turns->is_array() || turns->empty())
    throw Error("no \"conversations\" (LLaVA), \"conversation\" (Mantis) or \"messages\" (LLaMA-Factory, ms-swift) list");
  TrainingConversation c;
  auto id = r.find("id");
  c.id = id == r.end() ? "" : id->is_string() ? id->get<std::string>() : id->dump();
  const char* images_key = llava ? "image" : "images";
  if (auto im = r.find(images_key); im != r.end() && !im->is_null()) {
    if (im->is_string()) {
      c.image_paths.push_back(im->get<std::string>());
    } else if (im->is_array()) {
      for (const auto& p : *im) {
        if (!p.is_string()) throw Error(std::string("\"") + images_key + "\" must list paths");
        c.image_paths.push_back(p.get<std::string>());
      }
    } else {
      throw Error(std::string("\"") + images_key + "\" must be a path or a list of paths");
    }
  }
  for (auto& p : c.image_paths) {
    // LLaVA sets name images relative to an image folder (the data file's, by default); taco
    // gen writes them as it was given them, often relative to where it ran.
    std::string resolved = resolve_path(base_dir, p);
    std::error_code ec;
    if (!image_folder_given && !std::filesystem::exists(resolved, ec) && std::filesystem::exists(p, ec)) resolved = p;
    p = std::move(resolved);
  }
  std::string instruction;
  if (!llava && r.contains("metadata") && r["metadata"].is_object())
    instruction = r["metadata"].value("task_instruction", "");
  size_t placeholders = 0;
  for (size_t i = 0; i < turns->size(); ++i) {
    const Json& t = (*turns)[i];
    if (!t.is_object()) throw Error("a turn is not an object");
    const std::string who = llava ? t.value("from", "") : t.value("role", "");
    if (who == "system") throw Error("a system turn: taco trains without one (its prompt template makes the first turn)");
    std::string text = record_text(t, llava ? "value" : "content");
    const bool assistant = llava ? who == "gpt" : who == "assistant";
    if (!assistant && who != (llava ? "human" : "user")) throw Error("a turn from '" + who + "'");
    if (assistant != (i % 2 == 1)) throw Error("turns do not alternate user, assistant, user, ...");
    if (i == 0 && !instruction.empty() && text.rfind(instruction + "\n", 0) == 0) text.erase(0, instruction.size() + 1);
    if (assistant && text.find(kPlaceholder) != std::string::npos) throw Error("an assistant turn holds an <image>");
    ChatMessage m{assistant, split_at_image_placeholders(text)};
    for (const auto& s : m.segments) placeholders += s.is_image;
    c.messages.push_back(std::move(m));
  }
  if (!c.messages.back().assistant) throw Error("the last turn is not the assistant's");
  if (placeholders != c.image_paths.size())
    throw Error(std::to_string(placeholders) + " <image> placeholders for " + std::to_string(c.image_paths.size()) + " images");
  return c;
}

}  // namespace

std::vector<ChatSegment> split_at_image_placeholders(const std::string& text) {
  std::vector<ChatSegment> out;
  size_t from = 0, at;
  while ((at = text.find(kPlaceholder, from)) != std::string::npos) {
    if (at > from) out.push_back({text.substr(from, at - from), false});
    out.push_back({"", true});
    from = at + kPlaceholder.size();
  }
  if (from < text.size()) out.push_back({text.substr(from), false});
  return out;
}

void append_message(TokenSequence& s, const ChatMessage& m, const Tokenizer& tokenizer, int visual_tokens) {
  auto push = [&](int id, bool target) {
    s.ids.push_back(id);
    s.is_target.push_back(target);
  };
  push(m.assistant ? tokenizer.assistant_id() : tokenizer.user_id(), false);
  for (const auto& seg : m.segments) {
    if (seg.is_image) {
      s.image_at.push_back(static_cast<int32_t>(s.ids.size()));
      for (int k = 0; k < visual_tokens; ++k) push(tokenizer.image_id(), false);
    } else {
      for (int id : tokenizer.encode(seg.text)) push(id, m.assistant);
    }
  }
  push(tokenizer.end_id(), m.assistant);
}

TokenSequence render_conversation(const std::vector<ChatMessage>& messages, const Tokenizer& tokenizer, int visual_tokens,
                                  bool open_reply) {
  TokenSequence s;
  for (const auto& m : messages) append_message(s, m, tokenizer, visual_tokens);
  if (open_reply) {
    s.ids.push_back(tokenizer.assistant_id());
    s.is_target.push_back(false);
  }
  return s;
}

PreparedImage prepare_image(const std::string& encoded, int width, int height, const std::string& what) {
  cv::Mat raw(1, static_cast<int>(encoded.size()), CV_8U, const_cast<char*>(encoded.data()));
  // JPEGs decode at a fraction of their size when that is still larger than the target: the
  // synthetic world's 640x480 pictures decode 4-8x faster this way.
  cv::Mat img;
  for (int flag : {cv::IMREAD_REDUCED_COLOR_4, cv::IMREAD_REDUCED_COLOR_2, cv::IMREAD_COLOR}) {
    img = cv::imdecode(raw, flag);
    if (img.empty()) break;
    if (img.cols >= width && img.rows >= height) break;
  }
  if (img.empty()) throw Error(what + ": not an image taco can decode");
  cv::Mat resized, rgb;
  cv::resize(img, resized, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  PreparedImage out;
  out.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
  return out;
}

PreparedImage prepare_data_url(const std::string& url, int width, int height) {
  size_t comma = url.find(',');
  if (url.rfind("data:", 0) != 0 || comma == std::string::npos || url.find(";base64") > comma)
    throw Error("an image that is not a base64 data: URL");
  auto bytes = base64_decode(std::string_view(url).substr(comma + 1));
  if (!bytes) throw Error("an image data: URL that is not valid base64");
  return prepare_image(*bytes, width, height, "an image of the conversation");
}

void read_training_records(const std::string& path, const std::string& image_folder, TrainingData& out) {
  const std::string base = image_folder.empty() ? parent_dir(path) : image_folder;
  auto take = [&](size_t n, Json&& r) {
    try {
      out.conversations.push_back(read_record(r, base, !image_folder.empty()));
    } catch (const Error& e) {
      if (out.skipped++ == 0) out.first_skip_reason = path + " record " + std::to_string(n) + ": " + e.what();
    }
  };
  for_each_record(path, take);
}

}  // namespace taco
