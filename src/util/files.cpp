#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/sha256.h"

namespace taco {

void refuse_directory(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, not a file");
}

std::string read_file(const std::string& path) {
  refuse_directory(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read failed");
  return std::move(ss).str();
}

void make_dirs(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error(path + ": cannot create folder (" + ec.message() + ")");
}

Json read_json_file(const std::string& path, const JsonLimits& limits) {
  std::string text = read_file(path);
  try {
    return parse_json(text, limits);
  } catch (const Error& e) {
    throw Error(path + ": not valid JSON (" + e.what() + ")");
  }
}

void write_file(const std::string& path, const std::string& bytes) {
  // The folder is made only when the file cannot be opened without it: a writer of many files
  // into one folder (gen's tagged images) pays one open per file, not a walk up the path.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {
    make_dirs(parent_dir(path));
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw Error(path + ": write failed (" + why + ")");
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw Error(path + ": write failed (" + std::strerror(errno) + ")");
}

void write_file_replacing(const std::string& path, const std::string& bytes) {
  // A name of this process and thread alone, so concurrent writers never share a temporary file.
  static std::atomic<uint64_t> serial{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
  write_file(tmp, bytes);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write (" + why + ")");
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  make_dirs(parent_dir(path));
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(tmp + ": cannot write (" + std::strerror(errno) + ")");
  // Whatever fails after the temporary file exists takes it away again: a half-written .tmp
  // beside the output would be left for the user to find.
  auto fail = [&](const std::string& what) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Error(what + " (" + why + ")");
  };
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw fail(tmp + ": write failed");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) throw fail(tmp + ": write failed");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) throw fail(tmp + ": write failed");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw fail(path + ": cannot replace");
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  if (base_dir.empty() || path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

std::string relative_to(const std::string& path, const std::string& dir) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  namespace fs = std::filesystem;
  return fs::absolute(path).lexically_normal().lexically_relative(fs::absolute(dir).lexically_normal()).string();
}

std::string rebase_path(const std::string& path, const std::string& from_dir, const std::string& to_dir) {
  if (path.empty() || path[0] == '/') return path;
  namespace fs = std::filesystem;
  const fs::path to = (to_dir.empty() ? fs::current_path() : fs::absolute(to_dir)).lexically_normal();
  return fs::absolute(resolve_path(from_dir, path)).lexically_normal().lexically_relative(to).string();
}

std::string parent_dir(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

std::vector<std::string> canonical_roots(const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  for (const auto& root : roots) {
    std::error_code ec;
    const std::string real = std::filesystem::weakly_canonical(std::filesystem::absolute(root), ec).string();
    if (!ec && !real.empty()) out.push_back(real);
  }
  return out;
}

std::string path_under_roots(const std::string& path, const std::vector<std::string>& roots) {
  if (path.empty()) return "";
  std::error_code ec;
  const std::string real = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec).string();
  if (ec) return "";
  for (const auto& root : roots)
    if (real == root || real.rfind(root == "/" ? root : root + "/", 0) == 0) return real;
  return "";
}

std::string read_regular_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW: callers pass a path
  // with its links resolved; one that is a link now was swapped in after the check.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct CloseFd {
    int fd;
    ~CloseFd() { ::close(fd); }
  } close_fd{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw Error(path + ": " + std::to_string(st.st_size) + " bytes, over the limit of " + std::to_string(max_bytes));
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path + ": read failed (" + std::strerror(errno) + ")");
    if (n == 0) break;  // shrank while read
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace taco

namespace taco {

std::string user_cache_dir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (std::string dir = env("TACO_CACHE_DIR"); !dir.empty()) return dir;
  if (std::string dir = env("XDG_CACHE_HOME"); !dir.empty()) return dir + "/taco";
  if (std::string home = env("HOME"); !home.empty()) return home + "/.cache/taco";
  return ".taco-cache";
}

std::string safe_file_name(const std::string& id) {
  std::string out;
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  // A changed id takes a digest of itself, so that ids differing only in what was replaced
  // ("a/1", "a 1" and "a_1") do not share a folder; ids already safe keep their name.
  if (out != id) out += "-" + sha256_hex(id).substr(0, 8);
  return out;
}

std::string output_base(const std::string& path) {
  for (const std::string ext : {".jsonl", ".json"})
    if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0)
      return path.substr(0, path.size() - ext.size());
  return path;
}

std::string replace_extension(const std::string& path, const std::string& extension) {
  return std::filesystem::path(path).replace_extension(extension).string();
}

std::string image_file_extension(const std::string& bytes) {
  if (bytes.rfind("\x89PNG", 0) == 0) return ".png";
  if (bytes.rfind("\xff\xd8", 0) == 0) return ".jpg";
  if (bytes.rfind("GIF8", 0) == 0) return ".gif";
  if (bytes.size() > 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WEBP") == 0) return ".webp";
  if (bytes.rfind("BM", 0) == 0) return ".bmp";
  return ".img";
}

}  // namespace taco
