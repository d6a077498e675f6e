// `disc plan` end to end: files in, the library's decision out, errors as exit status 1.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "disc/plan.hpp"
#include "shell.hpp"

namespace disc {
namespace {

using testing::CliRun;
using testing::run_disc;

class PlanCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this fixture as parallel processes, and a
    // shared file rewritten by one test's SetUp while another's `disc plan` read it failed the
    // other at random.
    dir_ = ::testing::TempDir() + "/plan_cli_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    profile_ = dir_ + "/plan_cli_profile.json";
    table_ = dir_ + "/plan_cli_table.json";
    std::ofstream(profile_) << R"({"model": "m", "input": {"name": "x", "shape": [1, 3, 8, 8], "fp32_bytes": 768,
      "upload_bytes": 4000}, "full_ms": 40, "cuts": [
      {"tensor": "a", "node": "n", "op_type": "Relu", "position": 1, "shape": [1, 32, 16, 16], "elements": 8192,
       "fp32_bytes": 32768, "head_ms": 5, "tail_ms": 30},
      {"tensor": "b", "node": "n2", "op_type": "Relu", "position": 2, "shape": [1, 64, 4, 4], "elements": 1024,
       "fp32_bytes": 4096, "head_ms": 20, "tail_ms": 10}]})";
    // Label-free estimates (plus one standard error): a bits=4 0.5, a bits=2 0.8, b bits=4 1.5 pp.
    std::ofstream(table_) << R"({"model": "m", "rows": [
      {"cut": "a", "codec": "disc:bits=4", "mean_bytes": 900, "top1_loss_pp": 0.5, "encode_ms": 0.5, "decode_ms": 0.5,
       "estimated_loss_pp": 0.2, "estimated_loss_se_pp": 0.3},
      {"cut": "a", "codec": "disc:bits=2", "mean_bytes": 400, "top1_loss_pp": 2.5, "encode_ms": 0.5, "decode_ms": 0.5,
       "estimated_loss_pp": 0.3, "estimated_loss_se_pp": 0.5},
      {"cut": "b", "codec": "disc:bits=4", "mean_bytes": 200, "top1_loss_pp": 0.2, "encode_ms": 0.2,
       "decode_ms": 0.2, "estimated_loss_pp": 1.0, "estimated_loss_se_pp": 0.5}]})";
  }

  std::string files() const { return "plan --profile " + profile_ + " --table " + table_; }

  std::string dir_, profile_, table_;
};

TEST_F(PlanCli, JsonOutputIsTheLibrarysDecision) {
  const CliRun run = run_disc(files() + " --bandwidth 2Mbit --rtt 10ms --budget 1 --edge-speed 0.5 --top 3 --json");
  ASSERT_EQ(run.status, 0) << run.output;
  const auto out = nlohmann::json::parse(run.output);

  auto planner = Planner::create(load_profile(profile_).value(), load_rate_table(table_).value(), {0.5});
  auto expected = planner->plan({{2e6, 10}, 1.0, 3, {}});
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(out["best"]["kind"], plan_kind_name(expected->best.kind));
  EXPECT_DOUBLE_EQ(out["best"]["latency_ms"]["total"].get<double>(), expected->best.latency.total_ms());
  ASSERT_EQ(out["alternatives"].size(), expected->alternatives.size());
  for (size_t i = 0; i < expected->alternatives.size(); ++i)
    EXPECT_DOUBLE_EQ(out["alternatives"][i]["latency_ms"]["total"].get<double>(),
                     expected->alternatives[i].latency.total_ms());
  EXPECT_DOUBLE_EQ(out["bandwidth_bps"].get<double>(), 2e6);
  EXPECT_DOUBLE_EQ(out["rtt_ms"].get<double>(), 10);
}

TEST_F(PlanCli, TablePrintsTheChosenPlanAndItsBreakdown) {
  // Edge at full speed, 2 Mbit/s, 5 ms: b disc:bits=4 = 20 + 0.2 + 0.88 + 5 + 0.2 + 10 = 36.28 ms < 40
  // edge-only, where the request is the 200-byte stream and 20 bytes: model "m" and cut "b" (3 bytes
  // each with tag and length), the stream's tag and length (3), top_k (2) and the model
  // fingerprint (9).
  const CliRun run = run_disc(files() + " --bandwidth 2Mbit --rtt 5ms");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("chosen: b disc:bits=4  (36.280 ms predicted, top-1 loss 0.20 pp, 220 bytes)"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("edge-only"), std::string::npos) << run.output;
}

// Full disc specs run past any fixed width: the plan column widens so the numbers stay aligned.
TEST_F(PlanCli, TableColumnsStayAlignedWithLongLabels) {
  const std::string long_codec = "disc:bits=4,prune=0,clip=6,speed=0,transform=0,hf=1,chs=0,centroid=0,mean=0";
  const std::string table = dir_ + "/plan_cli_long_table.json";
  std::ofstream(table) << R"({"model": "m", "rows": [
      {"cut": "a", "codec": ")" << long_codec << R"(", "mean_bytes": 900, "top1_loss_pp": 0.5, "encode_ms": 0.5,
       "decode_ms": 0.5}]})";
  const CliRun run = run_disc("plan --profile " + profile_ + " --table " + table + " --bandwidth 2Mbit --rtt 5ms");
  ASSERT_EQ(run.status, 0) << run.output;
  const size_t header = run.output.find("\n  #  plan");
  ASSERT_NE(header, std::string::npos) << run.output;
  std::istringstream lines(run.output.substr(header + 1));
  std::string line, first;
  std::getline(lines, first);
  size_t rows = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.size(), first.size()) << line;
    ++rows;
  }
  EXPECT_GE(rows, 2u) << run.output;
  EXPECT_NE(run.output.find("a " + long_codec + " "), std::string::npos) << run.output;
}

TEST_F(PlanCli, TheBudgetAppliesToTheChosenLoss) {
  // Edge at half speed, 2 Mbit/s, 5 ms. Measured losses admit a bits=4 (50.1 ms) and b bits=4
  // (56.4 ms) but not a bits=2; the estimates admit a bits=2 (48.1 ms) and not b.
  const std::string query = files() + " --bandwidth 2Mbit --rtt 5ms --edge-speed 0.5 --json";
  CliRun run = run_disc(query);
  ASSERT_EQ(run.status, 0) << run.output;
  auto out = nlohmann::json::parse(run.output);
  EXPECT_EQ(out["best"]["codec"], "disc:bits=4");
  EXPECT_EQ(out["loss"], "labels");
  run = run_disc(query + " --loss estimate");
  ASSERT_EQ(run.status, 0) << run.output;
  out = nlohmann::json::parse(run.output);
  EXPECT_EQ(out["best"]["cut"], "a");
  EXPECT_EQ(out["best"]["codec"], "disc:bits=2");
  EXPECT_DOUBLE_EQ(out["best"]["top1_loss_pp"].get<double>(), 0.8);
  EXPECT_EQ(out["loss"], "estimate");
  for (const auto& plan : out["alternatives"])
    EXPECT_FALSE(plan.value("cut", "") == "b" && plan.value("codec", "") == "disc:bits=4") << plan.dump();
  run = run_disc(query + " --loss measured");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.output.find("--loss: measured not in {labels,estimate}"), std::string::npos) << run.output;
}

TEST_F(PlanCli, BadInputsFailWithAMessage) {
  CliRun run = run_disc(files() + " --bandwidth 2Mbps");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("disc: bandwidth '2Mbps' has an unknown unit"), std::string::npos) << run.output;
  run = run_disc(files() + " --bandwidth 2Mbit --rtt 10");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("disc: duration '10' has no unit"), std::string::npos) << run.output;
  run = run_disc("plan --profile " + table_ + " --table " + table_ + " --bandwidth 2Mbit");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("this is a rate table (disc eval's report.json), not a profile"), std::string::npos)
      << run.output;
  run = run_disc(files() + " --bandwidth 2Mbit --server-profile " + dir_ + "/missing.json");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("cannot open"), std::string::npos) << run.output;
  run = run_disc(files() + " --bandwidth 2Mbit --edge-speed 0");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("edge speed"), std::string::npos) << run.output;
  run = run_disc(files() + " --bandwidth 2Mbit --budget -1");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("budget"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace disc
