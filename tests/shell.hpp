// Running commands, and the `disc` CLI (DISC_CLI) on the test assets, from a test.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <utility>

#include "model/test_assets.hpp"

namespace disc::testing {

// Output and raw pclose() status of a shell command (stderr included unless `with_stderr`
// is false).
inline std::pair<std::string, int> run_shell(const std::string& command, bool with_stderr = true) {
  FILE* pipe = popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!pipe) return {"popen failed", -1};
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  return {output, pclose(pipe)};
}

// `disc -q --assets ASSETS`: the start of a CLI command line.
inline std::string disc_cli() { return std::string(DISC_CLI) + " -q --assets '" + assets_dir() + "'"; }

struct CliRun {
  int status;          // exit status; -1 if the command did not exit normally
  std::string output;  // stdout and stderr
};

// `disc -q --assets ASSETS ARGS`.
inline CliRun run_disc(const std::string& args) {
  const auto [output, status] = run_shell(disc_cli() + " " + args);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace disc::testing
