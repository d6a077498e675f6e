// The codec subcommands of the `disc` binary (DISC_CLI) on hostile files: `disc stats` on
// maps with NaN, infinities and values near ±3.4e38, and inputs that are directories or
// never end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "disc/npy.hpp"
#include "shell.hpp"

namespace disc {
namespace {

using testing::CliRun;
using testing::run_disc;

// `disc stats` of a map holding `values`, written to a temporary .npy of the running test's
// own (CTest runs the tests in parallel).
CliRun stats_of(const Shape& shape, std::vector<float> values) {
  const std::string path = ::testing::TempDir() + "/disc_stats_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".npy";
  EXPECT_TRUE(write_npy(path, Tensor(shape, std::move(values))).ok());
  CliRun run = run_disc("stats " + path);
  std::remove(path.c_str());
  return run;
}

TEST(StatsCli, ValuesNearTheFloatLimitDoNotOverflow) {
  // The range (6e38) exceeds float: computed in float it was infinite, and every value fell
  // into one quantization level (entropy 0).
  const CliRun run = stats_of({1, 1, 2, 2}, {3e38f, -3e38f, 3e38f, -3e38f});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("non-finite     0 NaN, 0 +inf, 0 -inf\n"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("range          [-3e+38, 3e+38]\nmean           0\nstd            3e+38\n"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("entropy        1.0000 bits/element at 4 bits"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("finite values"), std::string::npos) << run.output;
}

TEST(StatsCli, NanAndInfinitiesAreCountedAndLeftOutOfTheRest) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  CliRun run = stats_of({8}, {nan, inf, -inf, 1, 2, 3, 0, nan});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("zero fraction  0.1250\nnegative frac  0.1250\n"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("non-finite     2 NaN, 1 +inf, 1 -inf\nof the 4 finite values:\n"
                            "range          [0, 3]\nmean           1.5\nstd            1.11803\n"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("entropy        2.0000 bits/element"), std::string::npos) << run.output;

  run = stats_of({3}, {nan, inf, nan});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("non-finite     2 NaN, 1 +inf, 0 -inf\nno finite value: no range, mean, std or entropy\n"),
            std::string::npos)
      << run.output;
}

// Every file-reading command names the path it could not read, in one line.
TEST(CodecCli, UnreadableInputsAreNamed) {
  const std::string dir = ::testing::TempDir();
  for (const std::string command : {"stats", "inspect", "decompress"}) {
    const CliRun run = run_disc(command + " " + dir + (command == "decompress" ? " " + dir + "/out.npy" : ""));
    EXPECT_EQ(run.status, 1) << command;
    EXPECT_EQ(run.output, "disc: cannot read '" + dir + "': Is a directory\n") << command;
  }
  // An endless input is refused at the default limit instead of filling memory.
  const CliRun run = run_disc("inspect /dev/zero");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output,
            "disc: cannot read '/dev/zero': larger than the limit of " + std::to_string(kMaxFileBytes) + " bytes\n");
}

// An output that is the input would destroy it before it is read (or half-way through).
TEST(CodecCli, OutputMayNotBeTheInput) {
  const std::string path = ::testing::TempDir() + "/disc_same_file.npy";
  ASSERT_TRUE(write_npy(path, Tensor({1, 1, 2, 2}, {1, 2, 3, 4})).ok());
  const std::string dotted = ::testing::TempDir() + "/./disc_same_file.npy";
  for (const std::string command : {"compress", "decompress"}) {
    const CliRun run = run_disc(command + " " + path + " " + dotted);
    EXPECT_EQ(run.status, 1) << command;
    EXPECT_EQ(run.output, "disc: IN and OUT name the same file '" + dotted +
                              "': writing one would overwrite the other\n")
        << command;
  }
  EXPECT_TRUE(read_npy(path).ok());  // untouched
  std::remove(path.c_str());
}

// A file that cannot be written is named with the system's reason.
TEST(CodecCli, UnwritableOutputsSayWhy) {
  const std::string in = ::testing::TempDir() + "/disc_unwritable_in.npy";
  ASSERT_TRUE(write_npy(in, Tensor({1, 1, 2, 2}, {1, 2, 3, 4})).ok());
  const CliRun run = run_disc("compress " + in + " /nonexistent-dir/out.disc");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "disc: cannot create '/nonexistent-dir/out.disc': No such file or directory\n");
  std::remove(in.c_str());
}

}  // namespace
}  // namespace disc
