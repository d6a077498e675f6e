#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "command.hpp"

namespace disc::cli {

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)), total_(total), enabled_(!globals().quiet), tty_(isatty(STDERR_FILENO)) {}

void Progress::update(size_t done, const std::string& status) {
  if (!enabled_ || total_ == 0) return;
  if (tty_) {
    constexpr size_t kWidth = 30;
    const size_t filled = done * kWidth / total_;
    fmt::print(stderr, "\r{} [{}{}] {}/{} {}", label_, std::string(filled, '#'), std::string(kWidth - filled, '.'),
               done, total_, status);
    std::fflush(stderr);
    return;
  }
  const size_t decile = done * 10 / total_;
  if (decile > last_decile_) {
    last_decile_ = decile;
    fmt::print(stderr, "{} {}/{} {}\n", label_, done, total_, status);
  }
}

void Progress::finish() {
  if (enabled_ && tty_) fmt::print(stderr, "\n");
}

}  // namespace disc::cli
