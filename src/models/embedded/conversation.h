// How the embedded model reads a conversation, the same in training and in running:
//
//   <user> text... </s> <assistant> text... </s> <user> ...
//
// System messages are not shown (the training records have none; the checkpoint's prompt
// template says what the user turns look like). Each image becomes <image> repeated once per
// visual token, at the place its "image-k: <image>" line names it; the encoder's output takes
// those slots. Training predicts the assistant turns' tokens and their closing </s> only.
// Plain functions and value types; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/embedded/tokenizer.h"

namespace taco {

struct ChatSegment {
  std::string text;       // used when !is_image
  bool is_image = false;  // an image, the next one in the conversation's image list
};

struct ChatMessage {
  bool assistant = false;
  std::vector<ChatSegment> segments;
};

// The segments of a training text: its text split at each "<image>".
std::vector<ChatSegment> split_at_image_placeholders(const std::string& text);

struct TokenSequence {
  std::vector<int32_t> ids;
  std::vector<uint8_t> is_target;  // 1 where ids[i] is predicted (from position i - 1) in training
  std::vector<int32_t> image_at;   // the first slot of each image, in image order
};

// Appends one message as the conversation reads it: its role's token, its text and image slots,
// and "</s>" (image_at of the new images counts from the start of `sequence`).
void append_message(TokenSequence& sequence, const ChatMessage& message, const Tokenizer& tokenizer, int visual_tokens);

// With `open_reply`, the sequence ends with "<assistant>", ready for the model to write.
TokenSequence render_conversation(const std::vector<ChatMessage>& messages, const Tokenizer& tokenizer,
                                  int visual_tokens, bool open_reply);

// An image resized for the encoder: RGB, row-major height x width x 3.
struct PreparedImage {
  std::vector<uint8_t> rgb;
};
// Decodes an encoded image (PNG, JPEG, ...) and resizes it to width x height. Throws Error
// "<what>: ..." for bytes that do not decode.
PreparedImage prepare_image(const std::string& encoded, int width, int height, const std::string& what);
// The image of a data: URL (as models receive them), prepared the same way.
PreparedImage prepare_data_url(const std::string& url, int width, int height);

// One training record (LLaVA or Mantis) as the model reads it.
struct TrainingConversation {
  std::string id;
  std::vector<ChatMessage> messages;
  std::vector<std::string> image_paths;  // resolved, in placeholder order
};

struct TrainingData {
  std::vector<TrainingConversation> conversations;
  size_t skipped = 0;
  std::string first_skip_reason;  // "<file> record <n>: why", for the report
};

// Reads LLaVA ({"conversations": [{"from", "value"}], "image"}) and Mantis ({"conversation":
// [{"role", "content"}], "images", "metadata": {"task_instruction"}}) records from a JSONL file
// or a JSON array. Relative image paths resolve against `image_folder`; without one, against
// the file's folder, or the working folder when the image is not in the file's folder. A Mantis record's task instruction is taken off its first turn, since the runtime's
// requests carry none. Records that cannot be read (no turns, placeholders and images that do
// not match, turns out of order) are skipped and counted; a missing file or malformed JSON
// throws Error.
void read_training_records(const std::string& path, const std::string& image_folder, TrainingData& out);

}  // namespace taco
