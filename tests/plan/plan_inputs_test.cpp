// Profile and rate-table JSON: the documented formats parse, anything else is an Error
// naming the bad field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>

#include "disc/plan.hpp"

namespace disc {
namespace {

using nlohmann::json;

json valid_profile() {
  return json::parse(R"({
    "model": "m", "threads": 1, "repeats": 5, "images": 3,
    "input": {"name": "data", "shape": [1, 3, 32, 32], "fp32_bytes": 12288, "upload_bytes": 1100.5},
    "full_ms": 12.5,
    "cuts": [
      {"tensor": "late", "node": "n9", "op_type": "Add", "position": 9, "shape": [1, 64, 8, 8],
       "elements": 4096, "fp32_bytes": 16384, "head_ms": 9.0, "tail_ms": 3.5},
      {"tensor": "early", "node": "n2", "op_type": "Relu", "position": 2, "shape": [1, 16, 32, 32],
       "elements": 16384, "fp32_bytes": 65536, "head_ms": 2.0, "tail_ms": 10.5}
    ]})");
}

json valid_table() {
  return json::parse(R"({
    "model": "m", "images": 100,
    "rows": [
      {"cut": "early", "codec": "disc:bits=4, prune=0.1", "mean_bytes": 1234.5, "ratio": 53.1,
       "bits_per_element": 0.6, "top1_loss_pp": 0.4, "top5_loss_pp": 0.2, "agreement": 0.99,
       "encode_ms": 0.2, "decode_ms": 0.3},
      {"cut": "late", "codec": "raw", "mean_bytes": 16416, "ratio": 1.0, "bits_per_element": 32.06,
       "top1_loss_pp": 0, "top5_loss_pp": 0, "agreement": 1, "encode_ms": 0.01, "decode_ms": 0.01}
    ]})");
}

std::string profile_error(const json& j) {
  auto p = parse_profile(j.dump());
  return p.ok() ? "(parsed)" : p.error().message();
}

std::string table_error(const json& j) {
  auto t = parse_rate_table(j.dump());
  return t.ok() ? "(parsed)" : t.error().message();
}

TEST(PlanInputs, AProfileAndATableSwappedAreNamed) {
  EXPECT_NE(profile_error(valid_table()).find("this is a rate table (disc eval's report.json), not a profile"),
            std::string::npos)
      << profile_error(valid_table());
  EXPECT_NE(table_error(valid_profile()).find("this is a profile (disc profile's output), not a rate table"),
            std::string::npos)
      << table_error(valid_profile());
}

TEST(PlanInputs, ParsesAProfileAndSortsCutsByPosition) {
  auto p = parse_profile(valid_profile().dump());
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->model, "m");
  EXPECT_EQ(p->input_shape, (Shape{1, 3, 32, 32}));
  EXPECT_DOUBLE_EQ(p->upload_bytes, 1100.5);
  EXPECT_DOUBLE_EQ(p->full_ms, 12.5);
  ASSERT_EQ(p->cuts.size(), 2u);
  EXPECT_EQ(p->cuts[0].tensor, "early");
  EXPECT_EQ(p->cuts[1].fp32_bytes, 16384u);
  EXPECT_DOUBLE_EQ(p->cuts[1].tail_ms, 3.5);
  EXPECT_EQ(p->find_cut("late"), &p->cuts[1]);
  EXPECT_EQ(p->find_cut("none"), nullptr);
}

TEST(PlanInputs, ParsesATableAndNormalizesCodecText) {
  auto t = parse_rate_table(valid_table().dump());
  ASSERT_TRUE(t.ok()) << t.error().message();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0].codec, "disc:bits=4,prune=0.1");
  EXPECT_DOUBLE_EQ(t->rows[0].mean_bytes, 1234.5);
  EXPECT_DOUBLE_EQ(t->rows[0].top1_loss_pp, 0.4);
  EXPECT_DOUBLE_EQ(t->rows[0].decode_ms, 0.3);
  EXPECT_EQ(t->rows[1].codec, "raw");
}

TEST(PlanInputs, TablesOfChunkedMapsAreRefused) {
  json j = valid_table();
  j["chunks"] = 1;
  EXPECT_EQ(table_error(j), "(parsed)");
  j["chunks"] = 8;
  EXPECT_NE(table_error(j).find("sent in 8 chunks"), std::string::npos) << table_error(j);
  j["chunks"] = -1;
  EXPECT_NE(table_error(j), "(parsed)");
  j["chunks"] = 0;
  EXPECT_NE(table_error(j).find("chunks: 0"), std::string::npos) << table_error(j);
}

// A table as `disc eval` writes it for a folder of images without labels.
json unlabelled_table() {
  json j = valid_table();
  j["labelled"] = false;
  j["rows"][0]["top1_loss_pp"] = nullptr;
  j["rows"][0]["estimated_loss_pp"] = 0.25;
  j["rows"][0]["estimated_loss_se_pp"] = 0.5;
  j["rows"][1]["top1_loss_pp"] = nullptr;
  j["rows"][1]["estimated_loss_pp"] = 0;
  j["rows"][1]["estimated_loss_se_pp"] = 1;
  return j;
}

TEST(PlanInputs, TheEstimateBasisReadsEachRowsEstimatePlusOneStandardError) {
  auto t = parse_rate_table(unlabelled_table().dump(), LossBasis::kEstimate);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_DOUBLE_EQ(t->rows[0].top1_loss_pp, 0.75);
  EXPECT_DOUBLE_EQ(t->rows[1].top1_loss_pp, 1.0);
  // A labelled table carries both losses; each basis reads its own.
  json labelled = valid_table();
  labelled["rows"][0]["estimated_loss_pp"] = 1.5;
  labelled["rows"][0]["estimated_loss_se_pp"] = 0.25;
  labelled["rows"][1]["estimated_loss_pp"] = -0.5;
  labelled["rows"][1]["estimated_loss_se_pp"] = 0.5;
  auto measured = parse_rate_table(labelled.dump(), LossBasis::kLabels);
  auto estimated = parse_rate_table(labelled.dump(), LossBasis::kEstimate);
  ASSERT_TRUE(measured.ok() && estimated.ok());
  EXPECT_DOUBLE_EQ(measured->rows[0].top1_loss_pp, 0.4);
  EXPECT_DOUBLE_EQ(estimated->rows[0].top1_loss_pp, 1.75);
  EXPECT_DOUBLE_EQ(estimated->rows[1].top1_loss_pp, 0.0);
}

TEST(PlanInputs, AnUnlabelledTableHasNoMeasuredLossToPlanWith) {
  auto t = parse_rate_table(unlabelled_table().dump(), LossBasis::kLabels);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("--loss estimate"), std::string::npos) << t.error().message();
  json marked = valid_table();
  marked["labelled"] = true;
  EXPECT_EQ(table_error(marked), "(parsed)");
  marked["labelled"] = "no";
  EXPECT_EQ(table_error(marked), "rate table: labelled is not true or false");
}

TEST(PlanInputs, TheEstimateBasisNeedsBothFields) {
  auto error = [](const std::function<void(json&)>& edit) {
    json j = unlabelled_table();
    edit(j);
    auto t = parse_rate_table(j.dump(), LossBasis::kEstimate);
    return t.ok() ? std::string("(parsed)") : t.error().message();
  };
  EXPECT_EQ(error([](json& j) { j["rows"][1].erase("estimated_loss_se_pp"); }),
            "rate table: rows[1].estimated_loss_se_pp is missing");
  EXPECT_EQ(error([](json& j) { j["rows"][0].erase("estimated_loss_pp"); }),
            "rate table: rows[0].estimated_loss_pp is missing");
  EXPECT_EQ(error([](json& j) { j["rows"][0]["estimated_loss_se_pp"] = -0.1; }),
            "rate table: rows[0].estimated_loss_se_pp is negative");
}

TEST(PlanInputs, EveryRequiredProfileFieldIsNamedWhenMissing) {
  for (const char* key : {"model", "input", "full_ms", "cuts"}) {
    json j = valid_profile();
    j.erase(key);
    EXPECT_EQ(profile_error(j), std::string("profile: ") + key + " is missing");
  }
  for (const char* key : {"name", "shape", "fp32_bytes", "upload_bytes"}) {
    json j = valid_profile();
    j["input"].erase(key);
    EXPECT_EQ(profile_error(j), std::string("profile: input.") + key + " is missing");
  }
  for (const char* key :
       {"tensor", "node", "op_type", "position", "shape", "elements", "fp32_bytes", "head_ms", "tail_ms"}) {
    json j = valid_profile();
    j["cuts"][1].erase(key);
    EXPECT_EQ(profile_error(j), std::string("profile: cuts[1].") + key + " is missing");
  }
}

TEST(PlanInputs, RejectsBadProfileValues) {
  auto with = [](const std::function<void(json&)>& edit) {
    json j = valid_profile();
    edit(j);
    return profile_error(j);
  };
  EXPECT_EQ(with([](json& j) { j["full_ms"] = "12"; }), "profile: full_ms is not a number");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["head_ms"] = -1; }), "profile: cuts[0].head_ms is negative");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["position"] = 1.5; }),
            "profile: cuts[0].position is not a non-negative integer");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["position"] = -2; }),
            "profile: cuts[0].position is not a non-negative integer");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["tensor"] = ""; }), "profile: cuts[0].tensor is empty");
  EXPECT_EQ(with([](json& j) { j["cuts"] = json::object(); }), "profile: cuts is not an array");
  EXPECT_EQ(with([](json& j) { j["cuts"][0] = 3; }), "profile: cuts[0] is not an object");
  EXPECT_EQ(with([](json& j) { j["input"]["upload_bytes"] = 0; }), "profile: input.upload_bytes is not positive");
  EXPECT_EQ(with([](json& j) { j["input"]["fp32_bytes"] = 100; }),
            "profile: input.fp32_bytes is 100, not 4 * 3072 elements");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["elements"] = 4000; }),
            "profile: cuts[0].elements is 4000 but the shape 1x64x8x8 has 4096");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["fp32_bytes"] = 4096; }),
            "profile: cuts[0].fp32_bytes is 4096, not 4 * elements");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["shape"] = json::array({1, 0, 8}); }),
            "profile: cuts[0].shape: tensor dimension 0 is not positive");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["shape"] = json::array({1, "a"}); }),
            "profile: cuts[0].shape has a non-integer dimension");
  EXPECT_EQ(with([](json& j) { j["cuts"][0]["tensor"] = "early"; }), "profile: cut 'early' is listed twice");
  EXPECT_EQ(with([](json& j) { j = json::array(); }), "profile: document is not an object");
}

TEST(PlanInputs, RejectsBadTables) {
  auto with = [](const std::function<void(json&)>& edit) {
    json j = valid_table();
    edit(j);
    return table_error(j);
  };
  for (const char* key : {"cut", "codec", "mean_bytes", "top1_loss_pp", "encode_ms", "decode_ms"})
    EXPECT_EQ(with([&](json& j) { j["rows"][1].erase(key); }),
              std::string("rate table: rows[1].") + key + " is missing");
  EXPECT_EQ(with([](json& j) { j.erase("rows"); }), "rate table: rows is missing");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["mean_bytes"] = 0; }), "rate table: rows[0].mean_bytes is not positive");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["top1_loss_pp"] = true; }),
            "rate table: rows[0].top1_loss_pp is not a number");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["decode_ms"] = -0.1; }), "rate table: rows[0].decode_ms is negative");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["codec"] = "disc:bits"; }),
            "rate table: rows[0].codec: codec parameter 'bits' is not key=value");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["codec"] = "disk:bits=4"; }),
            "rate table: rows[0].codec: unknown codec 'disk' (known: raw, fp16, q8zstd, jpeg, zstd, zfp, disc)");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["codec"] = "disc:bits=99"; }),
            "rate table: rows[0].codec: codec 'disc' parameter bits=99 is outside [0, 8]");
  // Settings an earlier build wrote before the encoder refused parameters its mode ignores.
  EXPECT_EQ(with([](json& j) { j["rows"][0]["codec"] = "disc:bits=4,hf=2"; }),
            "rate table: rows[0].codec: codec 'disc': hf applies to transform=1 only (it would be ignored); the "
            "encoder refuses this setting (remove the row or evaluate again)");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["codec"] = "disc:bits=4,transform=1,hf=2"; }), "(parsed)");
  EXPECT_EQ(with([](json& j) { j["rows"][1] = j["rows"][0]; j["rows"][1]["codec"] = "disc:bits=4,prune=0.10"; }),
            "rate table: rows[1] repeats cut 'early' with codec 'disc:bits=4,prune=0.1'");
  EXPECT_EQ(with([](json& j) { j["rows"][1] = j["rows"][0]; j["rows"][1]["codec"] = "disc:bits=4,prune=0.1,clip=6"; }),
            "rate table: rows[1] repeats cut 'early' with codec 'disc:bits=4,prune=0.1,clip=6'");
  EXPECT_EQ(with([](json& j) { j["rows"][0]["top1_loss_pp"] = -0.3; }), "(parsed)");  // noise can help
}

TEST(PlanInputs, RejectsMalformedJsonAndUnreadableFiles) {
  auto p = parse_profile("{\"model\": \"m\",");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message().rfind("profile: invalid JSON: ", 0), 0u) << p.error().message();
  EXPECT_EQ(parse_rate_table("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_rate_table("{\"model\": \"m\", \"rows\": [{\"cut\": 1e999}]}").error().code(),
            ErrorCode::kInvalidArgument);
  auto missing = load_profile(::testing::TempDir() + "/no-such-profile.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cannot open"), std::string::npos);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
}

TEST(PlanInputs, LoadsFilesAndPrefixesErrorsWithThePath) {
  const std::string path = ::testing::TempDir() + "/plan_inputs_test_table.json";
  json j = valid_table();
  j["rows"][0].erase("encode_ms");
  std::ofstream(path) << j.dump();
  auto t = load_rate_table(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message(), "rate table " + path + ": rows[0].encode_ms is missing");
  std::ofstream(path) << valid_table().dump();
  EXPECT_TRUE(load_rate_table(path).ok());
}

}  // namespace
}  // namespace disc
