// The model subcommands of the `disc` binary, run as a user would.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>
#include <regex>

#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model/test_assets.hpp"
#include "model/tiny_onnx.hpp"
#include "shell.hpp"

namespace disc {
namespace {

using testing::CliRun;
using testing::run_disc;

std::string cifar_image(const std::string& cls) { return testing::assets_dir() + "/data/cifar10-test/" + cls + "/0000.jpg"; }

TEST(Cli, CutsListsResidualJoinsAsJson) {
  CliRun table = run_disc("cuts resnet20_cifar10");
  ASSERT_EQ(table.status, 0) << table.output;
  EXPECT_NE(table.output.find("/layer1/layer1.0/Add_output_0"), std::string::npos);
  CliRun json = run_disc("cuts resnet20_cifar10 --json --image " + cifar_image("cat"));
  ASSERT_EQ(json.status, 0) << json.output;
  EXPECT_NE(json.output.find("\"zero_fraction\""), std::string::npos);
  EXPECT_NE(json.output.find("\"fp32_bytes\": 65536"), std::string::npos);
}

// `disc split` of resnet20 at /layer2/layer2.0/Relu_1_output_0 into head.onnx and tail.onnx
// of a fresh temporary folder; {head, tail}.
std::pair<std::string, std::string> split_resnet20(const std::string& folder) {
  const auto dir = std::filesystem::temp_directory_path() / folder;
  std::filesystem::create_directories(dir);
  const std::string head = (dir / "head.onnx").string(), tail = (dir / "tail.onnx").string();
  CliRun run = run_disc("split resnet20_cifar10 --cut /layer2/layer2.0/Relu_1_output_0 --head " + head + " --tail " + tail);
  EXPECT_EQ(run.status, 0) << run.output;
  return {head, tail};
}

TEST(Cli, SplitWritesLoadableHalves) {
  const auto [head, tail] = split_resnet20("disc_cli_split");
  for (const std::string& path : {head, tail}) {
    auto bytes = read_file(path);
    ASSERT_TRUE(bytes.ok());
    EXPECT_TRUE(Network::from_onnx(*bytes).ok()) << path;
  }
  auto head_model = OnnxModel::load_file(head);
  ASSERT_TRUE(head_model.ok()) << head_model.error().message();
  EXPECT_EQ(head_model->input_shape(), (Shape{1, 3, 32, 32}));
  auto tail_model = OnnxModel::load_file(tail);
  ASSERT_TRUE(tail_model.ok()) << tail_model.error().message();
  EXPECT_EQ(tail_model->input_shape(), (Shape{1, 32, 16, 16}));
}

// Run as root, a command writing to its own model replaced it, read-only or not.
TEST(Cli, NoOutputOverwritesTheModel) {
  const auto dir = std::filesystem::temp_directory_path() / "disc_cli_own_model";
  std::filesystem::create_directories(dir);
  const std::string model = (dir / "model.onnx").string(), other = (dir / "other.onnx").string();
  std::filesystem::copy_file(testing::assets_dir() + "/models/resnet20_cifar10.onnx", model,
                             std::filesystem::copy_options::overwrite_existing);
  const auto before = read_file(model);
  ASSERT_TRUE(before.ok());
  const std::string link = (dir / "link.onnx").string();  // another name of the same file
  std::filesystem::remove(link);
  std::filesystem::create_hard_link(model, link);
  const std::string cut = " --cut /layer2/layer2.0/Relu_1_output_0 ", data = " --dataset cifar10-test ";
  for (const std::string& args :
       {"split " + model + cut + "--head " + model + " --tail " + other,
        "split " + model + cut + "--head " + link + " --tail " + other,
        "split " + model + cut + "--head " + other + " --tail " + (dir / "." / "model.onnx").string(),
        "profile " + model + data + "--repeats 1 --out " + model,
        "calibrate " + model + data + cut + "--images 100 --estimates " + model}) {
    CliRun run = run_disc(args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find("name the same file"), std::string::npos) << args << "\n" << run.output;
  }
  const auto after = read_file(model);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

// A split's head outputs a feature map, which classify would have read as 8192 class scores.
TEST(Cli, ClassifyingCommandsRefuseAModelThatIsNotAClassifier) {
  const std::string head = split_resnet20("disc_cli_not_a_classifier").first;
  const auto dir = std::filesystem::path(head).parent_path();
  const std::string data = " --dataset cifar10-test --scale 0.0039 ";
  for (const std::string& args : {"classify " + head + data + cifar_image("cat"), "accuracy " + head + data + "--limit 2",
                                  "eval " + head + data + "--images 2 --codecs raw --out " + (dir / "eval").string()}) {
    CliRun run = run_disc(args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find("output 1x32x16x16 is not a vector of class scores"), std::string::npos)
        << args << "\n" << run.output;
  }
}

TEST(Cli, ClassifyPrintsClassNamesWholeAndSplit) {
  for (const std::string& cut : {std::string(), std::string(" --cut /layer3/layer3.0/Relu_1_output_0")}) {
    CliRun run = run_disc("classify resnet20_cifar10 " + cifar_image("ship") + " " + cifar_image("truck") + cut);
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_TRUE(std::regex_search(run.output, std::regex(R"(%\s+8\s+ship)"))) << run.output;
    EXPECT_TRUE(std::regex_search(run.output, std::regex(R"(%\s+9\s+truck)"))) << run.output;
  }
}

TEST(Cli, FeaturesWritesNpyOfTheCutShape) {
  const auto dir = std::filesystem::temp_directory_path() / "disc_cli_features";
  std::filesystem::remove_all(dir);
  CliRun run = run_disc("features resnet20_cifar10 --cut /layer3/layer3.2/Relu_1_output_0 --dataset-images 2 --out " +
                 dir.string());
  ASSERT_EQ(run.status, 0) << run.output;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto t = read_npy(entry.path().string());
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->shape(), (Shape{1, 64, 8, 8}));
    ++files;
  }
  EXPECT_EQ(files, 2u);
}

// 200 round-robin CIFAR images; models.json gives 81.0% on all 10,000. Wrong preprocessing
// (channel order, normalization) costs far more than the tolerance.
TEST(Cli, AccuracySmokeIsNearTheReference) {
  CliRun run = run_disc("accuracy resnet20_cifar10 --limit 200");
  ASSERT_EQ(run.status, 0) << run.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex(R"(top-1 ([0-9.]+)% \(models.json ([0-9.]+)%)")))
      << run.output;
  EXPECT_NEAR(std::stod(m[1]), std::stod(m[2]), 5.0);
}

TEST(Cli, ProfileWritesJson) {
  const auto path = std::filesystem::temp_directory_path() / "disc_cli_profile.json";
  CliRun run = run_disc("profile resnet20_cifar10 --repeats 2 --images 1 --out " + path.string());
  ASSERT_EQ(run.status, 0) << run.output;
  auto bytes = read_file(path.string());
  ASSERT_TRUE(bytes.ok());
  const auto json = nlohmann::json::parse(bytes->begin(), bytes->end());
  EXPECT_EQ(json["model"], "resnet20_cifar10");
  EXPECT_EQ(json["repeats"], 2);
  EXPECT_EQ(json["input"]["shape"], nlohmann::json({1, 3, 32, 32}));
  EXPECT_EQ(json["input"]["fp32_bytes"], 3 * 32 * 32 * 4);
  EXPECT_GT(json["input"]["upload_bytes"].get<double>(), 0);
  EXPECT_GT(json["full_ms"].get<double>(), 0);
  ASSERT_GT(json["cuts"].size(), 10u);
  for (const auto& cut : json["cuts"]) {
    EXPECT_EQ(cut["fp32_bytes"].get<size_t>(), 4 * cut["elements"].get<size_t>());
    EXPECT_GT(cut["head_ms"].get<double>(), 0);
    EXPECT_GT(cut["tail_ms"].get<double>(), 0);
  }
}

TEST(Cli, CalibratesOnAFolderOfTheUsersOwnImages) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "disc_cli_own_images";
  fs::remove_all(dir);
  fs::create_directories(dir / "nested");
  const std::vector<std::string> classes = {"airplane", "automobile", "bird", "cat", "deer",
                                            "dog",      "frog",       "horse", "ship", "truck"};
  for (const std::string& cls : classes)
    for (const char* file : {"0001.jpg", "0002.jpg", "0003.jpg"})
      fs::copy_file(testing::assets_dir() + "/data/cifar10-test/" + cls + "/" + file, dir / (cls + file));
  fs::rename(dir / "cat0003.jpg", dir / "CAT0003.JPEG");  // extensions in any case count
  ASSERT_TRUE(write_file((dir / "notes.txt").string(), std::vector<uint8_t>{'h', 'i'}).ok());  // ignored
  fs::copy_file(dir / "dog0001.jpg", dir / "nested" / "dog0001.jpg");                        // ignored
  const std::string calibrate =
      "calibrate resnet20_cifar10 --cut /layer2/layer2.0/Relu_1_output_0 --codecs 'jpeg:quality=5|95' --budget 10 ";
  const fs::path estimates = fs::temp_directory_path() / "disc_cli_estimates.csv";
  fs::remove(estimates);
  CliRun run = run_disc(calibrate + "--images " + dir.string() + " --estimates " + estimates.string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("calibrated on the 30 images of " + dir.string()), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("chosen     jpeg:quality="), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("softmax temperature of the estimate: "), std::string::npos) << run.output;
  // Every setting's label-free figures, one line each under the header; no label columns.
  const auto csv = read_file(estimates.string());
  ASSERT_TRUE(csv.ok()) << csv.error().message();
  const std::string text(csv->begin(), csv->end());
  EXPECT_EQ(text.rfind("cut,codec,ratio,bits_per_element,agreement,estimated_loss_pp,", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_NE(text.find("\"jpeg:quality=95\""), std::string::npos) << text;
  EXPECT_EQ(text.find("top1"), std::string::npos) << text;
  fs::remove(estimates);
  run = run_disc(calibrate + "--images " + dir.string() + " --estimates " + (dir / "no" / "such.csv").string());
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("cannot write"), std::string::npos) << run.output;
  // 30 images cannot show a loss under 3.33 pp: said before any evaluation.
  run = run_disc("calibrate resnet20_cifar10 --cut /layer2/layer2.0/Relu_1_output_0 --codecs jpeg --images " +
                 dir.string());
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "disc: 30 calibration images cannot show a loss within 1.00 pp: one image is 3.33 pp, and "
                        "the margin is never less; use at least 100 images (several hundred where you can)\n");
  // A bare .onnx file has no labelled data set, and needs none for this.
  const std::string onnx = testing::assets_dir() + "/models/resnet20_cifar10.onnx";
  const std::string own_model = "calibrate " + onnx + " --scale 0.00392156862745098 --mean 0.485,0.456,0.406 "
                                "--std 0.229,0.224,0.225 --cut /layer2/layer2.0/Relu_1_output_0 "
                                "--codecs 'jpeg:quality=5|95' --budget 10 --images " + dir.string();
  run = run_disc(own_model);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("calibrated on the 30 images of"), std::string::npos) << run.output;
  run = run_disc(own_model + " --verify 10");  // verification needs labels
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("--verify needs the model's labelled data set"), std::string::npos) << run.output;

  fs::remove_all(dir);
  fs::create_directories(dir);
  run = run_disc(calibrate + "--images " + dir.string());
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("has no image files"), std::string::npos) << run.output;
  fs::remove_all(dir);
  run = run_disc(calibrate + "--images " + dir.string());
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("not found"), std::string::npos) << run.output;
  run = run_disc(calibrate + "--images /dev/null");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("image folder /dev/null is not a folder"), std::string::npos) << run.output;
  run = run_disc(calibrate + "--images 0");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("at least one image"), std::string::npos) << run.output;
  for (const char* counts : {"--images 9999 --verify 2", "--images 100 --verify 18446744073709551600"}) {
    run = run_disc(calibrate + counts);  // the second would wrap round in a sum
    EXPECT_EQ(run.status, 1) << counts;
    EXPECT_NE(run.output.find("exceed the 10000 images"), std::string::npos) << run.output;
  }
}

// Output i is class i - N: with N >= the output count no output has a class, and every
// answer would be "no class".
TEST(Cli, LabelsOffsetMustLeaveAClass) {
  const std::string onnx = testing::assets_dir() + "/models/resnet20_cifar10.onnx";
  for (const std::string& model : {std::string("resnet20_cifar10"), onnx}) {
    CliRun run = run_disc("classify " + model + " " + cifar_image("ship") + " --labels-offset 9");
    if (model == onnx) {
      EXPECT_EQ(run.status, 0) << run.output;  // output 9 is class 0; no data set to name the others
    } else {
      EXPECT_EQ(run.status, 1) << run.output;  // and no output would be cifar10-test's other nine
      EXPECT_EQ(run.output, "disc: resnet20_cifar10: 10 outputs less label offset 9 leave 1 class, but data set "
                            "cifar10-test has 10\n");
    }
    run = run_disc("classify " + model + " " + cifar_image("ship") + " --labels-offset 10");
    EXPECT_EQ(run.status, 1) << model << "\n" << run.output;
    EXPECT_EQ(run.output, "disc: resnet20_cifar10: label_offset 10 must be in 0..9: output i is class i - label_offset, "
                          "and the model has 10 outputs\n");
  }
}

// Codec names may be separated by ';' as grids are; an empty cut list is not "all".
TEST(Cli, EvalListsOfCodecsAndCuts) {
  const std::string out = ::testing::TempDir() + "disc_cli_eval_lists";
  const std::string base = "eval resnet20_cifar10 --images 2 --out " + out + " ";
  CliRun run = run_disc(base + "--cuts /layer1/layer1.0/Relu_1_output_0 --codecs 'raw;fp16'");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("2 rows over 2 images"), std::string::npos) << run.output;
  run = run_disc(base + "--cuts '' --codecs raw");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output, "disc: --cuts names no cut (give 'all' or tensor names)\n");
  run = run_disc(base + "--cuts /layer1/layer1.0/Relu_1_output_0 --codecs raw --first-image 9999");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output, "disc: 2 images from index 9999 run past data set 'cifar10-test', which has 10000\n");
  run = run_disc(base + "--cuts /layer1/layer1.0/Relu_1_output_0 --codecs raw --first-image 18446744073709551615");
  EXPECT_EQ(run.status, 1) << run.output;  // the last index would have wrapped around to 0
  EXPECT_EQ(run.output,
            "disc: 2 images from index 18446744073709551615 run past data set 'cifar10-test', which has 10000\n");
}

// The usual slips get an error that says how to do it right. Run in a folder holding copies
// of resnet20 named `resnet20` and `RESNET20.ONNX`.
TEST(Cli, CommonMistakesNameTheFix) {
  const auto dir = std::filesystem::temp_directory_path() / "disc_cli_mistakes";
  std::filesystem::create_directories(dir);
  const std::string model = testing::assets_dir() + "/models/resnet20_cifar10.onnx";
  for (const char* copy : {"resnet20", "RESNET20.ONNX"})
    std::filesystem::copy_file(model, dir / copy, std::filesystem::copy_options::overwrite_existing);
  const auto run_in_dir = [&](const std::string& args) {
    const auto [output, status] = testing::run_shell("cd '" + dir.string() + "' && " + testing::disc_cli() + " " + args);
    return CliRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  };
  const std::string cut = " --cut /layer1/layer1.0/Relu_1_output_0 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"models --assets " + testing::assets_dir(), "(--assets goes before the subcommand: disc --assets DIR models ...)"},
      {"cuts resnet20_cifar10 -q", "(-q goes before the subcommand: disc -q cuts ...)"},
      {"cuts resnet20", "unknown model 'resnet20' (known: "},
      {"cuts resnet20", "; for the file 'resnet20', write ./resnet20"},
      {"cuts " + std::string(300, 'a'), "unknown model 'aaa"},  // a name too long for a file name
      {"serve -m " + model, "this takes a models.json name; to use a model file here, give it an entry"},
      {"edge -m " + model + " --edge-only " + cifar_image("cat"),
       "this takes a models.json name; to use a model file here, give it an entry"},
      {"calibrate resnet20_cifar10" + cut + "--budget 200", "--budget: must be within 0..100 percentage points"},
      {"cuts " + model + " --labels-offset -1", "--labels-offset: must not be negative"},
  };
  for (const auto& [args, expected] : cases) {
    const CliRun run = run_in_dir(args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find(expected), std::string::npos) << args << "\n" << run.output;
  }
  const CliRun upper = run_in_dir("cuts RESNET20.ONNX");  // a path, whatever the extension's case
  EXPECT_EQ(upper.status, 0) << upper.output;
}

// A model that cannot be split says so instead of printing an empty table.
TEST(Cli, CutsSaysWhenAModelHasNone) {
  onnx::ModelProto m;  // x[1,3,4,4] -> Relu -> y: no tensor between input and output
  m.set_ir_version(6);
  m.add_opset_import()->set_version(10);
  auto* g = m.mutable_graph();
  g->set_name("one_relu");
  for (auto* v : {g->add_input(), g->add_output()}) {
    v->set_name(v == &g->input(0) ? "x" : "y");
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : {1, 3, 4, 4}) t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("x");
  relu->add_output("y");
  const std::string path = ::testing::TempDir() + "disc_cli_one_relu.onnx";
  const std::string bytes = m.SerializeAsString();
  ASSERT_TRUE(write_file(path, std::vector<uint8_t>(bytes.begin(), bytes.end())).ok());
  CliRun run = run_disc("cuts " + path);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output.rfind("no valid cut: no tensor alone separates", 0), 0u) << run.output;
  // Four input channels: not an image classifier, and the error names the file.
  for (auto* v : {g->mutable_input(0), g->mutable_output(0)})
    v->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(4);
  const std::string four = m.SerializeAsString();
  ASSERT_TRUE(write_file(path, std::vector<uint8_t>(four.begin(), four.end())).ok());
  run = run_disc("cuts " + path);
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "disc: " + path + ": model input 'x' is 1x4x4x4, expected 1x3xHxW (an image classifier)\n");
  std::remove(path.c_str());
}

// resnet20 with t, an unsized Reshape of s (tiny_onnx.hpp), after its last block: shape inference sizes nothing
// from t on, and `disc cuts` says which separators that leaves without a shape.
TEST(Cli, CutsNamesTheSeparatorsWithoutAStaticShape) {
  auto bytes = read_file(testing::assets_dir() + "/models/resnet20_cifar10.onnx");
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
  const std::string s = "/layer3/layer3.2/Relu_1_output_0", t = "unsized";
  for (auto& n : *m.mutable_graph()->mutable_node())
    for (auto& in : *n.mutable_input())
      if (in == s) in = t;
  for (auto& n : testing::unsized_reshape(s, t)) *m.mutable_graph()->add_node() = n;
  const std::string path = (std::filesystem::temp_directory_path() / "disc_cli_unsized.onnx").string();
  const std::string serialized = m.SerializeAsString();
  ASSERT_TRUE(write_file(path, std::vector<uint8_t>(serialized.begin(), serialized.end())).ok());
  const std::string args = path + " --dataset cifar10-test";
  CliRun table = run_disc("cuts " + args);
  EXPECT_EQ(table.status, 0) << table.output;
  EXPECT_NE(table.output.find("not cuts for want of a static shape (ONNX shape inference could not size them): "
                              "unsized (Reshape 'Reshape_unsized')"),
            std::string::npos)
      << table.output;
  CliRun json = run_disc("cuts --json " + args);
  EXPECT_EQ(json.status, 0) << json.output;
  const auto parsed = nlohmann::json::parse(json.output);
  ASSERT_GE(parsed["unshaped"].size(), 1u);
  EXPECT_EQ(parsed["unshaped"][0]["tensor"], t);
  EXPECT_EQ(parsed["cuts"].back()["tensor"], s);
  CliRun whole = run_disc("classify " + args + " --scale 0.0039 " + cifar_image("ship"));
  EXPECT_EQ(whole.status, 0) << whole.output;
}

// resnet20 exported with a symbolic height and width: refused without --size, which names the
// option; with --size it is resnet20, in the commands that load the file again from the entry
// (eval) as in the others.
TEST(Cli, SizeFillsADynamicInputHeightAndWidth) {
  auto bytes = read_file(testing::assets_dir() + "/models/resnet20_cifar10.onnx");
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
  auto* dims = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->mutable_dim(2)->set_dim_param("height");
  dims->mutable_dim(3)->set_dim_param("width");
  const std::string path = (std::filesystem::temp_directory_path() / "disc_cli_dynamic_hw.onnx").string();
  const std::string serialized = m.SerializeAsString();
  ASSERT_TRUE(write_file(path, std::vector<uint8_t>(serialized.begin(), serialized.end())).ok());
  const std::string preprocessing =
      " --dataset cifar10-test --scale 0.00392156862745098 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225";
  CliRun refused = run_disc("cuts " + path);
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.output.find("dynamic dimension 'height' at axis 2: give the input size (--size HxW)"),
            std::string::npos)
      << refused.output;
  CliRun wrong = run_disc("cuts resnet20_cifar10 --size 64x64");
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.output.find("is 1x3x32x32, not 1x3x64x64"), std::string::npos) << wrong.output;

  const std::string eval = " --images 8 --codecs raw --cuts /layer2/layer2.0/Relu_1_output_0 --out ";
  const std::string dir = (std::filesystem::temp_directory_path() / "disc_cli_dynamic_hw").string();
  CliRun sized = run_disc("eval " + path + " --size 32x32" + preprocessing + eval + dir + "_sized");
  ASSERT_EQ(sized.status, 0) << sized.output;
  CliRun named = run_disc("eval resnet20_cifar10" + eval + dir + "_named");
  ASSERT_EQ(named.status, 0) << named.output;
  const auto report = [](const std::string& folder) {
    return nlohmann::json::parse(read_file(folder + "/report.json").value());
  };
  const auto a = report(dir + "_sized"), b = report(dir + "_named");
  EXPECT_EQ(a["rows"][0]["shape"], b["rows"][0]["shape"]);
  EXPECT_EQ(a["reference_top1"], b["reference_top1"]);
  EXPECT_EQ(a["rows"][0]["top1_loss_pp"], 0.0);
  std::filesystem::remove_all(dir + "_sized");
  std::filesystem::remove_all(dir + "_named");

  // The same file as a models.json entry: its input shape fills the dims, in every command.
  const std::filesystem::path assets = dir + "_assets";
  std::filesystem::create_directories(assets / "models");
  std::filesystem::create_directory_symlink(std::filesystem::absolute(testing::assets_dir() + "/data"), assets / "data");
  std::filesystem::copy_file(path, assets / "models" / "dynamic.onnx");
  auto catalog = nlohmann::json::parse(read_file(testing::assets_dir() + "/models/models.json").value());
  nlohmann::json entry;
  for (const auto& m : catalog["models"])
    if (m["name"] == "resnet20_cifar10") entry = m;
  entry["name"] = "r20dyn";
  entry["file"] = "dynamic.onnx";
  entry.erase("sha256");
  std::ofstream(assets / "models" / "models.json") << nlohmann::json{{"models", {entry}}}.dump();
  const std::string named_dynamic = std::string(DISC_CLI) + " -q --assets '" + assets.string() + "' ";
  const auto [cuts, cuts_status] = testing::run_shell(named_dynamic + "cuts r20dyn");
  EXPECT_EQ(cuts_status, 0) << cuts;
  EXPECT_NE(cuts.find("/layer2/layer2.0/Relu_1_output_0 "), std::string::npos) << cuts;
  const std::string map = (assets / "map.npy").string(), stream = (assets / "map.disc").string();
  ASSERT_TRUE(write_npy(map, Tensor(Shape{1, 32, 16, 16})).ok());
  const auto [compressed, compressed_status] = testing::run_shell(
      named_dynamic + "compress " + map + " " + stream + " --model r20dyn --cut /layer2/layer2.0/Relu_1_output_0");
  EXPECT_EQ(compressed_status, 0) << compressed;
  std::filesystem::remove_all(assets);
  std::remove(path.c_str());
}

// A model must predict exactly its data set's classes: squeezenet's 1000 outputs read against
// CIFAR-10's labels would score 0 % without a word.
TEST(Cli, ModelOutputsMustBeTheDataSetsClasses) {
  for (const std::string& args : {std::string("accuracy squeezenet_v1.1 --dataset cifar10-test --limit 2"),
                                  "classify squeezenet_v1.1 " + cifar_image("ship") + " --dataset cifar10-test",
                                  std::string("eval squeezenet_v1.1 --dataset cifar10-test --images 2 --codecs raw "
                                              "--cuts /MaxPool_2_output_0 --out /tmp/disc_cli_classes_eval")}) {
    CliRun run = run_disc(args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_EQ(run.output, "disc: squeezenet_v1.1: 1000 outputs, but data set cifar10-test has 10 classes\n") << args;
  }
  // One output too many is most likely a background class.
  CliRun background = run_disc("accuracy " + testing::assets_dir() +
                               "/models/mobilenet_v1_0.25_128.onnx --dataset imagenet-val1300 --limit 1");
  EXPECT_EQ(background.status, 1) << background.output;
  EXPECT_NE(background.output.find("1001 outputs, but data set imagenet-val1300 has 1000 classes (if output 0 is a "
                                   "background class, as in TensorFlow's ImageNet models, the label offset is 1: "
                                   "--labels-offset 1, or \"label_offset\": 1 in models.json)"),
            std::string::npos)
      << background.output;
}

// `disc eval MODEL --images DIR`: a folder without labels gives a report of label-free
// estimates whose accuracy fields are null (JSON) or empty (CSV), never a loss of 0.
// models.json's class count must be the graph's output size: 11 for resnet20 (10 outputs)
// would read an output past the end.
TEST(Cli, ModelsJsonClassesMustMatchTheGraphOutput) {
  namespace fs = std::filesystem;
  const fs::path assets = fs::path(::testing::TempDir()) / "disc_cli_classes_assets";
  fs::remove_all(assets);
  fs::create_directories(assets / "models");
  const fs::path shared = testing::assets_dir();
  fs::create_directory_symlink(shared / "data", assets / "data");
  fs::create_symlink(shared / "models" / "resnet20_cifar10.onnx", assets / "models" / "resnet20_cifar10.onnx");
  std::ifstream in(shared / "models" / "models.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  for (auto& m : doc["models"])
    if (m["name"] == "resnet20_cifar10") m["classes"] = 11;
  std::ofstream(assets / "models" / "models.json") << doc.dump(2);

  const auto [output, status] = testing::run_shell(std::string(DISC_CLI) + " -q --assets '" + assets.string() +
                                                   "' classify resnet20_cifar10 " + cifar_image("ship"));
  EXPECT_NE(status, 0);
  EXPECT_EQ(output, "disc: models.json gives resnet20_cifar10 11 classes, but " +
                        (assets / "models" / "resnet20_cifar10.onnx").string() + " outputs 1x10\n");
  fs::remove_all(assets);
}

TEST(Cli, EvalsAFolderOfUnlabelledImages) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "disc_cli_eval_images";
  const fs::path out = fs::path(::testing::TempDir()) / "disc_cli_eval_out";
  fs::remove_all(dir);
  fs::remove_all(out);
  fs::create_directories(dir);
  for (const std::string cls : {"airplane", "cat", "dog", "ship", "truck"})
    fs::copy_file(cifar_image(cls), dir / (cls + ".jpg"));
  const std::string eval = "eval resnet20_cifar10 --cuts /layer2/layer2.0/Relu_1_output_0 --codecs 'disc:bits=4' "
                           "--images " + dir.string() + " --out " + out.string();
  CliRun run = run_disc(eval);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("1 rows over 5 images written to " + out.string()), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("5 images without labels"), std::string::npos) << run.output;

  const auto report = read_file((out / "report.json").string());
  ASSERT_TRUE(report.ok()) << report.error().message();
  const auto json = nlohmann::json::parse(report->begin(), report->end());
  EXPECT_EQ(json["labelled"], false);
  EXPECT_EQ(json["images"], 5);
  EXPECT_TRUE(json["reference_top1"].is_null());
  EXPECT_TRUE(json["reference_top5"].is_null());
  ASSERT_EQ(json["rows"].size(), 1u);
  const auto& row = json["rows"][0];
  EXPECT_EQ(row["codec"].get<std::string>().rfind("disc:bits=4,", 0), 0u) << row["codec"];
  for (const char* key : {"top1", "top5", "top1_loss_pp", "top5_loss_pp"}) EXPECT_TRUE(row[key].is_null()) << key;
  EXPECT_TRUE(row["estimated_loss_pp"].is_number());
  EXPECT_TRUE(row["estimated_loss_se_pp"].is_number());
  const auto csv = read_file((out / "rows.csv").string());
  ASSERT_TRUE(csv.ok());
  EXPECT_NE(std::string(csv->begin(), csv->end()).find(",,,,"), std::string::npos);  // the four accuracy columns

  // --first-image counts data set images: refused with a folder, even at its default of 0.
  for (const char* first : {" --first-image 2", " --first-image 0"}) {
    run = run_disc(eval + first);
    EXPECT_EQ(run.status, 1) << first;
    EXPECT_EQ(run.output, "disc: --first-image counts data set images; not with a folder\n") << first;
  }
  fs::remove_all(dir);
  fs::remove_all(out);
}

TEST(Cli, BadInputsFailWithAMessage) {
  const std::string garbage = (std::filesystem::temp_directory_path() / "disc_cli_garbage.onnx").string();
  ASSERT_TRUE(write_file(garbage, std::vector<uint8_t>{8, 1, 2, 3, 0xff, 0xff}).ok());
  for (const std::string& args : std::vector<std::string>{
           "cuts no_such_model",
           "cuts " + garbage,
           "classify resnet20_cifar10 /nonexistent.jpg",
           "classify resnet20_cifar10 " + cifar_image("cat") + " --cut nope",
           "classify resnet20_cifar10 " + cifar_image("cat") + " --mean 1,2",
           "split resnet20_cifar10 --cut /layer1/layer1.0/conv1/Conv_output_0 --head /tmp/h --tail /tmp/t",
           "cuts /work/nonexistent.onnx",
           "split resnet20_cifar10 --head /tmp/h.onnx",
           "profile resnet20_cifar10 --out /tmp/p.json --repeats 0",
           "accuracy " + garbage,
           "split resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --head /tmp/same.onnx --tail /tmp/./same.onnx",
           "accuracy resnet20_cifar10 --limit -1",
           "accuracy resnet20_cifar10 --limit 99999999999999999999",  // past 2^64: not taken as the maximum
           "calibrate resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --images 3 --verify -2",
           "calibrate resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --images 3 --threads 100000",
           "eval resnet20_cifar10 --cuts /layer1/layer1.0/Relu_1_output_0 --images 2 --out /tmp/e --threads 0",
           "calibrate resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --images 3 --budget nan",
           "check-split resnet20_cifar10 --tolerance nan",
           "check-split resnet20_cifar10 --tolerance -1",
           "classify " + testing::assets_dir() + "/models/resnet20_cifar10.onnx " + cifar_image("cat") + " --dataset nope",
           // an empty --cut (an unset shell variable) names no cut, and does not mean "no split"
           "classify resnet20_cifar10 " + cifar_image("cat") + " --cut ''",
           "accuracy resnet20_cifar10 --limit 2 --cut ''",
           "calibrate resnet20_cifar10 --cut '' --images 100",
           // counts: too large, or numbers that are not counts, are not folders not found
           "eval resnet20_cifar10 --images 99999999999999999999 --codecs raw --out /tmp/e",
           "eval resnet20_cifar10 --images -5 --codecs raw --out /tmp/e",
           "calibrate resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --images 1e3",
           "accuracy resnet20_cifar10 --limit 2 --crop 0.5",  // resnet20 resizes directly: no crop to set
           "accuracy resnet20_cifar10 --limit 20000",
           "calibrate resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --budget 1e-30",
           "eval resnet20_cifar10 --images '' --codecs raw --out /tmp/e",
           // past the data set's 10000 images
           "features resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --dataset-images 20000 --out /tmp/f",
           "profile resnet20_cifar10 --out /tmp/p.json --images 20000",
           "bogus",
           "--assets " + testing::assets_dir() + " bogus --help",
       }) {
    CliRun run = run_disc(args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_EQ(run.output.rfind("disc: ", 0), 0u) << args << "\n" << run.output;
    EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << args << "\n" << run.output;
  }
}

// A count of images that is too large or not a whole number is said to be one, not taken for a
// folder that does not exist; a count past the data set is refused, not cut down in silence.
TEST(Cli, ImageCountsAreCheckedAsCounts) {
  const std::pair<std::string, std::string> cases[] = {
      {"eval resnet20_cifar10 --images 99999999999999999999 --codecs raw --out /tmp/e",
       "disc: --images 99999999999999999999: more images than a count can hold\n"},
      {"calibrate resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --images -5",
       "disc: --images -5: neither a count of images (digits only) nor a folder\n"},
      {"eval resnet20_cifar10 --images 1e3 --codecs raw --out /tmp/e",
       "disc: --images 1e3: neither a count of images (digits only) nor a folder\n"},
      {"features resnet20_cifar10 --cut /layer1/layer1.0/Relu_1_output_0 --dataset-images 20000 --out /tmp/f",
       "disc: 20000 images asked for: data set cifar10-test has only 10000\n"},
      {"classify resnet20_cifar10 " + cifar_image("cat") + " --cut ''", "disc: --cut: must not be empty\n"},
  };
  for (const auto& [args, message] : cases) {
    const CliRun run = run_disc(args);
    EXPECT_EQ(run.status, 1) << args;
    EXPECT_EQ(run.output, message) << args;
  }
}

// shape=1 needs the convolution that reads the map: compress finds it from --model and --cut.
TEST(Cli, CompressShapesForTheReadingConvolutionGivenModelAndCut) {
  const auto dir = std::filesystem::temp_directory_path() / "disc_cli_shape";
  std::filesystem::remove_all(dir);
  const std::string cut = "/Clip_2_output_0";  // read through a Pad by a stride-2 depthwise convolution
  CliRun run = run_disc("features mobilenet_v1_0.25_128 --cut " + cut + " --dataset-images 1 --out " + dir.string());
  ASSERT_EQ(run.status, 0) << run.output;
  const std::string map = std::filesystem::directory_iterator(dir)->path().string();
  const std::string stream = (dir / "map.disc").string();
  run = run_disc("compress " + map + " " + stream + " --codec disc:shape=1,bits=1,clip=2");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.output.find("needs --model and --cut"), std::string::npos) << run.output;
  run = run_disc("compress " + map + " " + stream + " --codec disc:shape=1,bits=1,clip=2 --model "
                 "mobilenet_v1_0.25_128 --cut /Clip_3_output_0");  // a cut of another shape
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.output.find("the map is 1x16x64x64, cut /Clip_3_output_0 is 1x16x32x32"), std::string::npos)
      << run.output;
  run = run_disc("compress " + map + " " + stream + " --codec disc:shape=1,bits=1,clip=2 --model "
                 "mobilenet_v1_0.25_128 --cut " + cut);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("shape=1"), std::string::npos) << run.output;
  run = run_disc("decompress " + stream + " " + (dir / "back.npy").string());  // no model needed
  ASSERT_EQ(run.status, 0) << run.output;
  auto back = read_npy((dir / "back.npy").string());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape(), (Shape{1, 16, 64, 64}));
}

}  // namespace
}  // namespace disc
