// `disc edge --compare` (DISC_CLI) against an in-process loopback server with
// resnet20_cifar10: every plan answers every image as its single-plan run does, the plan
// order is shuffled per image and reproducible with --seed, and bad plan lists are refused
// with a one-line message.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "shell.hpp"
#include "test_server.hpp"

namespace disc::testing {
namespace {

using Json = nlohmann::json;

class EdgeCompareTest : public LoopbackServerTest {
 protected:
  const std::string cut_ = reference_->middle_cut().tensor;

  // `disc edge` on the loopback server and resnet20_cifar10, with `args`.
  std::string edge(const std::string& args) const {
    return disc_cli() + " edge --server " + address(*server_) + " --model " + kModel + " " + args;
  }

  // The JSON `disc edge --json ARGS` prints; null (and a test failure) if it fails.
  Json edge_json(const std::string& args) const {
    const auto [output, status] = run_shell(edge("--json " + args), /*with_stderr=*/false);
    EXPECT_EQ(status, 0) << args << "\n" << output;
    Json parsed = Json::parse(output, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << output;
    return status == 0 && !parsed.is_discarded() ? parsed : Json();
  }
};

// The per-image records of one plan's report.
const Json& records(const Json& plan) { return plan.contains("requests") ? plan["requests"] : plan["images"]; }

TEST_F(EdgeCompareTest, EveryPlanAnswersEveryImageAsItsSinglePlanRunDoes) {
  // AGLOP's inputs, measured by the CLI. The table has lossless rows only, so whatever
  // plan AGLOP picks, its answers are the whole model's.
  char dir_template[] = "/tmp/disc_compare_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const auto [profiled, profile_status] =
      run_shell(disc_cli() + " profile " + kModel + " --images 1 --repeats 2 --out " + dir + "/profile.json");
  ASSERT_EQ(profile_status, 0) << profiled;
  const auto [evaluated, eval_status] = run_shell(disc_cli() + " eval " + kModel + " --cuts " + cut_ +
                                                  " --codecs raw,zstd --images 10 --first-image 400 --out " + dir);
  ASSERT_EQ(eval_status, 0) << evaluated;

  constexpr size_t kImages = 6;
  const std::string images = "--dataset-images " + std::to_string(kImages);
  const std::vector<std::pair<std::string, std::string>> fixed = {
      // label in the comparison, the same plan's single-plan arguments
      {"edge-only", "--edge-only"},
      {"server-only", "--server-only"},
      {cut_ + " raw", "--cut " + cut_ + " --codec raw"},
      {cut_ + " disc:bits=3", "--cut " + cut_ + " --codec disc:bits=3"},
      {cut_ + " disc:bits=3 chunks=2", "--cut " + cut_ + " --codec disc:bits=3 --chunks 2"},
  };
  const Json compared = edge_json(images + " --compare 'edge-only;server-only;cut=" + cut_ + ",codec=raw;cut=" + cut_ +
                                  ",codec=disc:bits=3;cut=" + cut_ + ",chunks=2,codec=disc:bits=3;auto' --profile " + dir + "/profile.json --table " + dir +
                                  "/report.json --check-local");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(compared["mode"], "compare");
  ASSERT_EQ(compared["plans"].size(), fixed.size() + 1) << compared.dump(1);

  std::vector<std::string> paths;  // of the images, from the edge-only run
  for (size_t p = 0; p < fixed.size(); ++p) {
    const Json& plan = compared["plans"][p];
    const Json single = edge_json(images + " " + fixed[p].second);
    ASSERT_FALSE(single.is_null());
    EXPECT_EQ(plan["label"], fixed[p].first);
    for (const char* field : {"mode", "cut", "codec", "chunks"}) EXPECT_EQ(plan[field], single[field]) << fixed[p].first;
    ASSERT_EQ(records(plan).size(), kImages) << fixed[p].first;
    ASSERT_EQ(records(single).size(), kImages);
    for (size_t i = 0; i < kImages; ++i) {
      const Json &mine = records(plan)[i], &theirs = records(single)[i];
      if (p == 0) paths.push_back(theirs["path"]);
      EXPECT_EQ(mine["path"], paths[i]);
      EXPECT_EQ(mine["plan_label"], fixed[p].first);
      EXPECT_EQ(mine["image"], i);
      EXPECT_EQ(mine["bytes_sent"] == 0, theirs["bytes_sent"] == 0) << fixed[p].first;
      ASSERT_EQ(mine["top"].size(), theirs["top"].size()) << fixed[p].first << " image " << i;
      for (size_t k = 0; k < mine["top"].size(); ++k) {
        EXPECT_EQ(mine["top"][k]["label"], theirs["top"][k]["label"]) << fixed[p].first << " image " << i;
        EXPECT_NEAR(mine["top"][k]["probability"].get<double>(), theirs["top"][k]["probability"].get<double>(), 1e-6);
      }
    }
  }

  const Json& aglop = compared["plans"][fixed.size()];
  EXPECT_EQ(aglop["label"], "auto");
  EXPECT_EQ(aglop["mode"], "auto");
  ASSERT_EQ(records(aglop).size(), kImages);
  EXPECT_EQ(aglop["summary"]["local_agreement"], 1.0) << aglop.dump(1);
  const Json& edge_only = compared["plans"][0];
  for (size_t i = 0; i < kImages; ++i) {
    const Json& request = records(aglop)[i];
    EXPECT_EQ(request["path"], paths[i]);
    EXPECT_EQ(request["plan_label"], "auto");
    EXPECT_FALSE(request["plan"]["label"].get<std::string>().empty());  // the plan it chose
    EXPECT_EQ(request["top1"], records(edge_only)[i]["top"][0]["label"]) << "image " << i;
  }
}

// Per image, the plan labels in the order they ran; checks that every image ran every
// plan once and that the start times follow that order, image after image.
std::vector<std::vector<std::string>> run_orders(const Json& compared, size_t plans, size_t images) {
  std::vector<std::map<size_t, std::pair<std::string, double>>> by_order(images);
  EXPECT_EQ(compared["plans"].size(), plans);
  for (const Json& plan : compared["plans"]) {
    EXPECT_EQ(records(plan).size(), images);
    for (const Json& r : records(plan)) {
      const bool fresh = by_order.at(r["image"].get<size_t>())
                             .emplace(r["order"].get<size_t>(), std::pair{r["plan_label"].get<std::string>(), r["t"].get<double>()})
                             .second;
      EXPECT_TRUE(fresh) << "two plans at one position: " << r.dump();
    }
  }
  std::vector<std::vector<std::string>> orders;
  double last_start = -1;
  for (const auto& image : by_order) {
    EXPECT_EQ(image.size(), plans);
    orders.emplace_back();
    for (size_t position = 0; const auto& [order, plan] : image) {
      EXPECT_EQ(order, position++);
      EXPECT_GT(plan.second, last_start) << plan.first << " did not start after the plan before it";
      last_start = plan.second;
      orders.back().push_back(plan.first);
    }
  }
  return orders;
}

TEST_F(EdgeCompareTest, OrderIsShuffledPerImageAndReproducibleWithTheSeed) {
  constexpr size_t kPlans = 4, kImages = 8;
  const std::string args = "--dataset-images 8 --warmup 0 --compare 'edge-only;server-only;cut=" + cut_ +
                           ",codec=raw;cut=" + cut_ + ",codec=zstd' --seed ";
  const auto first = run_orders(edge_json(args + "7"), kPlans, kImages);
  const auto again = run_orders(edge_json(args + "7"), kPlans, kImages);
  const auto other = run_orders(edge_json(args + "8"), kPlans, kImages);
  ASSERT_EQ(first.size(), kImages);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_GT(std::set(first.begin(), first.end()).size(), 1u) << "every image ran the plans in one order";
  std::set<std::string> firsts;  // plans that ran first on some image
  for (const auto& order : first) firsts.insert(order.front());
  EXPECT_GT(firsts.size(), 1u);
}

TEST_F(EdgeCompareTest, TextModePrintsOnePerPlanRowOfMediansAndP95) {
  const auto [output, status] = run_shell(edge("--dataset-images 3 --compare 'edge-only;cut=" + cut_ + ",codec=raw'"));
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("p95 total"), std::string::npos) << output;
  EXPECT_NE(output.find("\nedge-only "), std::string::npos) << output;
  EXPECT_NE(output.find("\n" + cut_ + " raw "), std::string::npos) << output;
  EXPECT_NE(output.find("3 images; every plan ran once per image, in an order shuffled per image (seed 1)"),
            std::string::npos)
      << output;
}

TEST_F(EdgeCompareTest, RejectsBadPlanListsInOneLine) {
  const std::string grammar = "a plan is edge-only, server-only, auto or cut=TENSOR[,chunks=N][,codec=SPEC]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--compare ''", "--compare: plan 1 is empty"},
      {"--compare 'edge-only;;server-only'", "--compare: plan 2 is empty"},
      {"--compare 'edge'", "--compare: plan 'edge': " + grammar},
      {"--compare 'cut=" + cut_ + ",bits=3'", "--compare: plan 'cut=" + cut_ + ",bits=3': unknown key 'bits'"},
      {"--compare 'codec=raw,cut=" + cut_ + "'", "a split needs cut=TENSOR (and codec=, if any, comes last)"},
      {"--compare 'cut=" + cut_ + ",codec=raw:bits'", "codec parameter 'bits' is not key=value"},
      {"--compare 'cut=" + cut_ + ",codec=disc:bits=3,chunks=4'",
       "chunks= after codec=: codec= comes last and takes the rest, so give cut= and chunks= before it"},
      {"--compare 'cut=" + cut_ + ",chunks=0'", "chunks=0: a number from 1 to 1024"},
      {"--compare 'cut=" + cut_ + ",chunks=2x'", "chunks=2x: a number from 1 to 1024"},
      {"--compare 'cut=" + cut_ + ",chunks=99999999999'", "chunks=99999999999: a number from 1 to 1024"},
      {"--compare 'cut=" + cut_ + ",cut=" + cut_ + "'", "cut= given twice"},
      {"--compare 'edge-only; edge-only'", "--compare: plan 'edge-only' is given twice"},
      {"--compare 'cut=" + cut_ + ";cut=" + cut_ + ",codec=disc'", "is given twice (as " + cut_ + " disc; 'cut=" + cut_ + "' is the same plan)"},
      {"--compare 'cut=" + cut_ + ",codec=disc;cut=" + cut_ + ",codec=disc:clip=6'",
       "is given twice (as " + cut_ + " disc:clip=6; 'cut=" + cut_ + ",codec=disc' is the same plan)"},
      {"--compare 'cut=/no/such/tensor'", "disc: plan 'cut=/no/such/tensor': "},
      {"--compare 'cut=" + cut_ + ",codec=nosuch'",
       "disc: --compare: plan 'cut=" + cut_ + ",codec=nosuch': unknown codec 'nosuch'"},
      {"--compare auto", "disc: plan 'auto': --auto needs --profile and --table"},
      {"--compare edge-only --edge-only", "--compare lists the plans itself"},
  };
  for (const auto& [args, expected] : cases) {
    const auto [output, status] = run_shell(edge("--dataset-images 1 " + args));
    EXPECT_NE(status, 0) << args;
    EXPECT_EQ(output.rfind("disc: ", 0), 0u) << args << "\n" << output;
    EXPECT_NE(output.find(expected), std::string::npos) << args << "\n" << output;
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << args << "\n" << output;
  }
}

}  // namespace
}  // namespace disc::testing
