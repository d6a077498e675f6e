// The codec subcommands of the `disc` binary (DISC_CLI) on hostile files: inputs that are
// directories or never end.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "disc/npy.hpp"

namespace disc {
namespace {

struct CliRun {
  int status;
  std::string output;  // stdout and stderr
};

CliRun disc_cli(const std::string& args) {
  FILE* pipe = popen((std::string(DISC_CLI) + " -q " + args + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Every file-reading command names the path it could not read, in one line.
TEST(CodecCli, UnreadableInputsAreNamed) {
  const std::string dir = ::testing::TempDir();
  for (const std::string command : {"stats", "inspect", "decompress"}) {
    const CliRun run = disc_cli(command + " " + dir + (command == "decompress" ? " " + dir + "/out.npy" : ""));
    EXPECT_EQ(run.status, 1) << command;
    EXPECT_EQ(run.output, "disc: cannot read '" + dir + "': Is a directory\n") << command;
  }
  // An endless input is refused at the default limit instead of filling memory.
  const CliRun run = disc_cli("inspect /dev/zero");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output,
            "disc: cannot read '/dev/zero': larger than the limit of " + std::to_string(kMaxFileBytes) + " bytes\n");
}

}  // namespace
}  // namespace disc
