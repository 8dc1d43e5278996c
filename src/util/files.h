// Small file helpers that turn I/O failures into taco::Error with the path in the message.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "util/json.h"

namespace taco {

std::string read_file(const std::string& path);
// Throws Error "<path>: is a directory, not a file" for a folder, which would otherwise open
// as an empty file.
void refuse_directory(const std::string& path);
// The file parsed as JSON; throws Error "<path>: not valid JSON (...)".
Json read_json_file(const std::string& path, const JsonLimits& limits = kJsonFileLimits);
void write_file(const std::string& path, const std::string& bytes);  // creates parent folders
// Writes to a temporary file beside `path`, flushes it to disk and renames it over `path`, so a
// reader (or a run killed midway) sees the old file or the new one, never half of one.
void write_file_atomic(const std::string& path, const std::string& bytes);
// Writes beside `path` and renames into place, without fsync: a reader never sees half a file,
// and a writer killed midway leaves the old file (or none), not a cut one. Writers of the same
// path at once (threads, processes) each leave whole bytes. Creates parent folders.
void write_file_replacing(const std::string& path, const std::string& bytes);
void make_dirs(const std::string& path);
// `path` resolved against `base_dir` unless it is absolute (or base_dir is empty).
std::string resolve_path(const std::string& base_dir, const std::string& path);
std::string parent_dir(const std::string& path);
// Folders made absolute with their links resolved: the roots path_under_roots compares with.
std::vector<std::string> canonical_roots(const std::vector<std::string>& roots);
// `path` made absolute with its links resolved, when that lies inside one of `roots` (as
// canonical_roots gives them); "" when it lies outside all of them. A link inside a root that
// points out of it is outside.
std::string path_under_roots(const std::string& path, const std::vector<std::string>& roots);
// The bytes of a regular file of at most `max_bytes`; Error for anything else (a device, a
// FIFO, a folder, /proc files that claim no size, a larger file), without reading past the limit.
std::string read_regular_file(const std::string& path, size_t max_bytes);
// A relative `path` (from the working folder) rewritten to start at `dir`; absolute paths and
// an empty `dir` leave it as it is.
std::string relative_to(const std::string& path, const std::string& dir);
// A relative `path` that starts at `from_dir` rewritten to start at `to_dir` ("" for either is
// the working folder); absolute and empty paths stay as they are.
std::string rebase_path(const std::string& path, const std::string& from_dir, const std::string& to_dir);
// `path` without a trailing ".jsonl" or ".json": the base for files that go beside an output
// ("traces.jsonl" -> "traces", for "traces.images/" and "traces.errors.jsonl").
std::string output_base(const std::string& path);
// An id (a task's, an example's) made safe as a file or folder name: the id itself when it
// has only letters, digits, '-', '_' and '.'; otherwise the others replaced by '_' and a
// digest of the id added ("a/1" -> "a_1-<8 hex digits>"), so distinct ids get distinct names.
std::string safe_file_name(const std::string& id);
// Where taco keeps what several runs share (the judge caches): $TACO_CACHE_DIR, else
// $XDG_CACHE_HOME/taco, else ~/.cache/taco.
std::string user_cache_dir();
// `path` with its extension replaced ("report.md" -> "report.json"); added when it has none.
std::string replace_extension(const std::string& path, const std::string& extension);
// The extension (".png", ".jpg", ".gif", ".webp", ".bmp", else ".img") an image file with these
// first bytes should have.
std::string image_file_extension(const std::string& bytes);

}  // namespace taco
