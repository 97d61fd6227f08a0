// Test helper: the port a child server process (kiln, Prometheus) listens on.
//
// Tests start servers with --web.listen-address=127.0.0.1:0 and ask the kernel, through
// /proc, which port the server got. Probing a "free" port and handing it to the server
// instead races with every other process on the machine: under `ctest -j` another test can
// bind the probed port first, and the server then fails to start.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace kiln::testutil {

// Inodes of the sockets open in process `pid` ("self" for this one).
inline std::set<unsigned long> SocketInodes(const std::string& pid) {
  std::set<unsigned long> out;
  // error_code overloads throughout: descriptors come and go, and the process may exit, while
  // this reads them.
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + pid + "/fd", ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code rec;
    const std::string target = std::filesystem::read_symlink(it->path(), rec).string();
    if (!rec && target.starts_with("socket:[")) {
      out.insert(std::strtoul(target.c_str() + 8, nullptr, 10));
    }
  }
  return out;
}

// The first TCP port that `pid` listens on, or -1. Sockets the test process itself has open
// (inherited by a child that did not exec yet) are ignored.
inline int ListeningPort(pid_t pid) {
  const std::string p = std::to_string(pid);
  std::set<unsigned long> inodes = SocketInodes(p);
  for (unsigned long own : SocketInodes("self")) inodes.erase(own);
  if (inodes.empty()) return -1;
  for (const char* table : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in("/proc/" + p + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout;
      unsigned long inode = 0;
      if (!(fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
            inode)) {
        continue;
      }
      if (state != "0A" || !inodes.contains(inode)) continue;  // 0A: TCP_LISTEN
      const size_t colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      return static_cast<int>(std::strtol(local.c_str() + colon + 1, nullptr, 16));
    }
  }
  return -1;
}

// Waits until `pid` listens on a TCP port and returns it; -1 when the process exited first or
// `timeout` passed. The timeout is generous: a server under ASan on a loaded 2-core CI machine
// can take many seconds to start, and a healthy one returns as soon as it listens.
inline int WaitForListeningPort(pid_t pid,
                                std::chrono::milliseconds timeout = std::chrono::minutes(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int port = ListeningPort(pid);
    if (port > 0) return port;
    // WNOWAIT: leave the exit status for the caller's own waitpid().
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

// Kills (SIGKILL) and reaps a child at scope exit unless Release()d, so a failed ASSERT does
// not leave a server running: it would hold the test's inherited stdout open, and ctest waits
// for that until the test's timeout.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The caller reaps the child itself from now on.
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

}  // namespace kiln::testutil
