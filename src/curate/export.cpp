#include "curate/export.h"

#include <filesystem>
#include <functional>
#include <map>

#include "cota/trace.h"
#include "cota/training_format.h"
#include "tools/config.h"
#include "util/error.h"
#include "util/files.h"
#include "util/jsonl.h"
#include "util/record_writer.h"

namespace fs = std::filesystem;

namespace taco {
namespace {

// Copies or links each source image once, under a name that keeps sources apart.
class ImagePlacer {
 public:
  explicit ImagePlacer(const ExportOptions& o)
      : mode_(o.images), dir_(o.images_dir.empty() ? output_base(o.out_path) + ".images" : o.images_dir),
        out_dir_(parent_dir(o.out_path).empty() ? "." : parent_dir(o.out_path)) {}

  // The path the record names for `src`; throws Error when the image is missing. With
  // --images keep, a path the trace gave relative stays relative (from the output's folder).
  std::string place(const std::string& src, bool trace_path_relative, size_t& placed) {
    if (mode_ == "keep")
      return trace_path_relative ? fs::absolute(src).lexically_normal().lexically_relative(fs::absolute(out_dir_).lexically_normal()).string() : src;
    if (auto it = done_.find(src); it != done_.end()) return it->second;
    std::error_code ec;
    if (src.empty()) throw Error("an image of the trace has no file (made with --no-images?)");
    if (!fs::exists(src, ec)) throw Error("image missing: " + src);
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(std::hash<std::string>{}(src)));
    const std::string dst = dir_ + "/" + std::string(hash, 4) + "/" + std::string(hash + 4) + "-" + fs::path(src).filename().string();
    if (!fs::exists(dst, ec)) {
      make_dirs(parent_dir(dst));
      if (mode_ == "link") fs::create_symlink(fs::absolute(src), dst, ec);
      else fs::copy_file(src, dst, fs::copy_options::skip_existing, ec);
      if (ec) throw Error(dst + ": cannot " + mode_ + " the image (" + ec.message() + ")");
      ++placed;
    }
    // Lexically: a link must stay a link, not resolve to its target.
    return done_[src] = fs::absolute(dst).lexically_normal().lexically_relative(fs::absolute(out_dir_).lexically_normal()).string();
  }

 private:
  std::string mode_, dir_, out_dir_;
  std::map<std::string, std::string> done_;
};

}  // namespace

ExportSummary run_export(const std::vector<std::string>& trace_files, const ExportOptions& o) {
  if (o.format != "llava" && o.format != "mantis" && o.format != "messages")
    throw Error("unknown format '" + o.format + "' (llava, mantis or messages)");
  if (o.images != "copy" && o.images != "link" && o.images != "keep") throw Error("--images is copy, link or keep");
  ExportSummary summary;
  RecordWriter out(o.out_path);
  ImagePlacer placer(o);
  const std::string instruction = task_instruction(all_tool_names());
  // The messages layout carries the actions' schemas, as a tool-calling chat template wants.
  Json tool_schemas = Json::array();
  if (o.format == "messages") {
    const ToolRegistry registry = make_tool_registry(ToolsConfig());
    for (const Tool* t : registry.tools())
      tool_schemas.push_back(Json{{"type", "function"},
                                  {"function", {{"name", t->spec().name}, {"description", t->spec().description}, {"parameters", tool_input_schema(t->spec())}}}});
  }
  for (const auto& file : trace_files) {
    for_each_jsonl(file, [&](size_t line, Json&& j) {
      ++summary.traces;
      auto invalid = [&](const std::string& why) {
        ++summary.invalid;
        if (summary.problems.size() < 10) summary.problems.push_back(file + " line " + std::to_string(line) + ": " + why);
      };
      try {
        Trace t = Trace::from_json(j);
        if (t.status == TraceStatus::kError) return invalid("the episode did not run");
        Json record = o.format == "llava"   ? to_llava(t, t.task.id)
                      : o.format == "mantis" ? to_mantis(t, t.task.id, o.dataset, instruction)
                                             : to_messages(t, t.task.id, tool_schemas);
        Json& images = record[o.format == "llava" ? "image" : "images"];
        const std::string base = o.image_folder.empty() ? trace_paths_base(j, file) : o.image_folder;
        for (auto& p : images) {
          const std::string path = p.get<std::string>();
          p = placer.place(resolve_path(base, path), !path.empty() && path[0] != '/', summary.images);
        }
        if (o.format == "messages") {
          // The image parts name the images in the list's order: they get the placed paths.
          size_t k = 0;
          for (auto& m : record["messages"])
            if (m["content"].is_array())
              for (auto& part : m["content"])
                if (part.value("type", "") == "image") part["image"] = images[k++];
          const Json& last = record["messages"].back();
          if (last.value("role", "") != "assistant") return invalid("the chain does not end with the model's answer");
        } else if (std::string bad = check_training_record(record); !bad.empty()) {
          return invalid(bad);
        }
        out.write(record);
        ++summary.records;
      } catch (const Error& e) {
        invalid(e.what());
      }
    });
  }
  out.close();
  return summary;
}

}  // namespace taco
