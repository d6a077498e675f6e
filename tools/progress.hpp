// Progress of a long run on stderr: a redrawn bar on a terminal, a line every 10% when
// stderr is not a terminal, nothing with --quiet.
#pragma once

#include <string>

namespace disc::cli {

class Progress {
 public:
  Progress(std::string label, size_t total);
  void update(size_t done, const std::string& status);
  void finish();

 private:
  std::string label_;
  size_t total_;
  bool enabled_;
  bool tty_;
  size_t last_decile_ = 0;
};

}  // namespace disc::cli
