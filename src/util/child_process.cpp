#include "util/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "util/error.h"

extern char** environ;

namespace taco {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

namespace {

// The one thread that forks every child (the header says why). It waits for jobs for the life
// of the process; it is never joined, and exits with the process.
class Launcher {
 public:
  static Launcher& instance() {
    static Launcher* launcher = new Launcher();  // never destroyed: children may be started during exit
    return *launcher;
  }
  // Runs `job` on the launcher thread and returns when it has.
  void run(const std::function<void()>& job) {
    if (std::this_thread::get_id() == thread_id_) return job();
    std::packaged_task<void()> task(job);
    auto done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(task));
    }
    cv_.notify_one();
    done.get();  // rethrows what the job threw
  }

 private:
  Launcher() {
    std::thread t([this] {
      for (;;) {
        std::packaged_task<void()> job;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [this] { return !jobs_.empty(); });
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
    thread_id_ = t.get_id();
    t.detach();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<void()>> jobs_;
  std::thread::id thread_id_;
};

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::start(const Options& options) {
  std::unique_ptr<ChildProcess> child;
  Launcher::instance().run([&] { child = start_here(options); });
  child->max_line_ = options.max_line_bytes;
  return child;
}

std::unique_ptr<ChildProcess> ChildProcess::start_here(const Options& options) {
  if (options.argv.empty()) throw Error("no program to start");
  // A child that exits while taco writes to it must be an error return, not a SIGPIPE that
  // ends taco; the child gets the default disposition back before it runs its program.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });

  // Everything the child needs is made before fork: between fork and exec only async-signal-safe
  // calls are allowed (another thread may hold malloc's lock).
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const auto& [key, value] : options.env) replaced = replaced || entry.rfind(key + "=", 0) == 0;
    if (!replaced) env_strings.push_back(std::move(entry));
  }
  for (const auto& [key, value] : options.env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int error_file = -1;
  if (!options.stderr_path.empty()) {
    error_file = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (error_file < 0) throw Error("cannot write " + options.stderr_path + ": " + std::strerror(errno));
  }
  struct CloseErrorFile {
    int fd;
    ~CloseErrorFile() {
      if (fd >= 0) ::close(fd);
    }
  } close_error_file{error_file};
  int to_child[2], from_child[2], exec_error[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) throw Error(std::string("cannot make a pipe: ") + std::strerror(errno));
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]), ::close(to_child[1]);
    throw Error(std::string("cannot make a pipe: ") + std::strerror(errno));
  }
  if (::pipe2(exec_error, O_CLOEXEC) != 0) {
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
    throw Error(std::string("cannot make a pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // taco died before the line above took effect
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    if (error_file >= 0) ::dup2(error_file, STDERR_FILENO);
    // AddressSanitizer reserves terabytes of address space for its shadow memory, so a sanitized
    // build (make sanitize) cannot run under an address-space limit.
#if !defined(__SANITIZE_ADDRESS__)
    if (options.memory_bytes > 0) {
      rlimit limit{static_cast<rlim_t>(options.memory_bytes), static_cast<rlim_t>(options.memory_bytes)};
      ::setrlimit(RLIMIT_AS, &limit);
    }
#endif
    // Descriptors taco opened without O_CLOEXEC (files, sockets) must not leak into the child.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execvpe(argv[0], argv.data(), envp.data());
    int err = errno;
    ssize_t ignored = ::write(exec_error[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(to_child[0]);
  ::close(from_child[1]);
  ::close(exec_error[1]);
  if (pid < 0) {
    ::close(to_child[1]), ::close(from_child[0]), ::close(exec_error[0]);
    throw Error("cannot start " + options.argv[0] + ": " + std::strerror(fork_errno));
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  child->in_ = to_child[1];
  child->out_ = from_child[0];
  // The error pipe closes at exec (success) or carries exec's errno (failure).
  int err = 0;
  ssize_t n;
  do n = ::read(exec_error[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (n == sizeof err) {
    child->kill();
    throw Error("cannot start " + options.argv[0] + ": " + std::strerror(err));
  }
  return child;
}

ChildProcess::~ChildProcess() { kill(); }

bool ChildProcess::write_line(const std::string& line) {
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(in_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

ChildProcess::ReadResult ChildProcess::read_line(std::string& line, double timeout_s) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  for (;;) {
    // Only the bytes not searched yet are searched: an endless line is read in linear time.
    if (size_t eol = buffer_.find('\n', scanned_); eol != std::string::npos) {
      // A line over the limit is refused whether it came in pieces or in one read.
      const bool too_long = max_line_ > 0 && eol > max_line_;
      if (!too_long) line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 1);
      scanned_ = 0;
      return too_long ? ReadResult::kTooLong : ReadResult::kLine;
    }
    scanned_ = buffer_.size();
    if (max_line_ > 0 && buffer_.size() > max_line_) {
      buffer_.clear();
      buffer_.shrink_to_fit();
      scanned_ = 0;
      return ReadResult::kTooLong;
    }
    if (out_ < 0) return ReadResult::kClosed;
    int wait_ms = -1;
    if (timeout_s > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return ReadResult::kTimeout;
      wait_ms = static_cast<int>(std::min<long long>(left, 1 << 30));
    }
    pollfd p{out_, POLLIN, 0};
    int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return ReadResult::kTimeout;
    char chunk[65536];
    ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close_fd(out_);
      return ReadResult::kClosed;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void ChildProcess::kill() {
  close_fd(in_);
  close_fd(out_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    wait_description();
  }
}

std::string ChildProcess::wait_description() {
  if (pid_ <= 0) return "was never started";
  if (!reaped_) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, 0);
    while (r < 0 && errno == EINTR);
    reaped_ = true;
    status_ = status;
  }
  if (WIFSIGNALED(status_)) return "was killed by " + signal_name(WTERMSIG(status_));
  return "exited with status " + std::to_string(WEXITSTATUS(status_));
}

ChildAnswer ask_child(ChildProcess& child, const std::string& request, double time_limit_s,
                      const std::function<bool(const std::string&)>& is_answer, const std::string& on_timeout) {
  ChildAnswer answer;
  if (!child.write_line(request)) {
    answer.how = child.wait_description();
    return answer;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(time_limit_s > 0 ? time_limit_s : 1e9);
  for (;;) {
    const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    std::string line;
    const auto got = child.read_line(line, left);
    if (got == ChildProcess::ReadResult::kClosed) {
      answer.how = child.wait_description();
      return answer;
    }
    if (got == ChildProcess::ReadResult::kTooLong) {
      child.kill();
      answer.outcome = ChildAnswer::Outcome::kTooLong;
      return answer;
    }
    if (got == ChildProcess::ReadResult::kTimeout) break;
    if (is_answer(line)) {
      answer.outcome = ChildAnswer::Outcome::kAnswered;
      answer.line = std::move(line);
      return answer;
    }
  }
  if (!on_timeout.empty()) child.write_line(on_timeout);
  child.kill();
  answer.outcome = ChildAnswer::Outcome::kTimeout;
  return answer;
}

}  // namespace taco
