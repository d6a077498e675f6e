// A TCP proxy on a loopback port that forwards every connection to a target port with a fixed
// delay on each chunk in each direction: a slow link for tests, without tc. With an upload
// limit it forwards only that many bytes of each connection towards the target and drops the
// rest: a sender whose upload stalls.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace disc::testing {

class DelayedProxy {
 public:
  DelayedProxy(int target_port, std::chrono::milliseconds delay, size_t upload_limit = SIZE_MAX)
      : target_port_(target_port), delay_(delay), upload_limit_(upload_limit) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t size = sizeof a;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listen_fd_, 16) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &size) != 0)
      return;
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  DelayedProxy(const DelayedProxy&) = delete;
  DelayedProxy& operator=(const DelayedProxy&) = delete;

  // Unblocks every thread (accept and reads return) and joins them.
  ~DelayedProxy() {
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : pumps_) t.join();
    for (int fd : fds_) close(fd);
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  int port() const { return port_; }  // 0 if the proxy could not listen

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
  }

  void accept_loop() {
    for (;;) {
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in target = loopback(target_port_);
      std::lock_guard lock(mutex_);
      fds_.push_back(client);
      if (server < 0) continue;
      fds_.push_back(server);
      if (connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
        shutdown(client, SHUT_RDWR);
        continue;
      }
      pumps_.emplace_back([this, client, server] { pump(client, server, upload_limit_); });
      pumps_.emplace_back([this, client, server] { pump(server, client, SIZE_MAX); });
    }
  }

  // Copies `from` to `to`, each chunk `delay_` after it arrived, until either side closes;
  // bytes past the first `limit` are read and dropped.
  void pump(int from, int to, size_t limit) {
    std::vector<char> buffer(1 << 16);
    for (size_t forwarded = 0;;) {
      const ssize_t read_bytes = read(from, buffer.data(), buffer.size());
      if (read_bytes <= 0) break;
      const auto n = static_cast<ssize_t>(std::min<size_t>(static_cast<size_t>(read_bytes), limit - forwarded));
      forwarded += static_cast<size_t>(n);
      std::this_thread::sleep_for(delay_);
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t k = send(to, buffer.data() + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
        if (k <= 0) {
          shutdown(from, SHUT_RDWR);
          return;
        }
        sent += k;
      }
    }
    shutdown(to, SHUT_WR);
  }

  int target_port_;
  std::chrono::milliseconds delay_;
  size_t upload_limit_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
};

}  // namespace disc::testing
