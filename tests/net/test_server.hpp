// An in-process inference server on an ephemeral loopback port, and the local reference
// computations the runtime tests compare against.
#pragma once

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "disc/server.hpp"
#include "disc/v1/inference.grpc.pb.h"

namespace disc::testing {

inline constexpr char kModel[] = "resnet20_cifar10";

inline ServerOptions test_server_options() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.models = {kModel};
  options.assets_dir = DISC_TEST_ASSETS_DIR;
  options.workers = 2;
  return options;
}

inline std::unique_ptr<InferenceServer> start_server(const ServerOptions& options) {
  auto server = InferenceServer::start(options);
  if (!server.ok()) ADD_FAILURE() << server.error().message();
  return server.ok() ? std::move(server).value() : nullptr;
}

inline std::string address(const InferenceServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

inline std::unique_ptr<disc::v1::Inference::Stub> raw_stub(const InferenceServer& server) {
  return disc::v1::Inference::NewStub(grpc::CreateChannel(address(server), grpc::InsecureChannelCredentials()));
}

// The model, its test images and what the whole model computes for them locally.
struct Reference {
  ModelEntry entry;
  Dataset dataset;
  OnnxModel onnx;

  static Reference load() {
    auto catalog = AssetCatalog::load(DISC_TEST_ASSETS_DIR);
    EXPECT_TRUE(catalog.ok()) << catalog.error().message();
    auto entry = catalog->find_model(kModel);
    EXPECT_TRUE(entry.ok());
    auto dataset = catalog->load_dataset(entry->dataset);
    EXPECT_TRUE(dataset.ok());
    auto onnx = OnnxModel::load_file(entry->path);
    EXPECT_TRUE(onnx.ok()) << onnx.error().message();
    return Reference{*entry, *dataset, std::move(onnx).value()};
  }

  const CutPoint& middle_cut() const { return onnx.cuts()[onnx.cuts().size() / 2]; }

  Tensor input(size_t image) const {
    auto t = load_image(dataset.images.at(image).path, entry.preprocessing);
    EXPECT_TRUE(t.ok());
    return std::move(t).value();
  }

  Tensor features(const std::string& cut, size_t image) const {
    auto split = onnx.split(cut);
    EXPECT_TRUE(split.ok());
    auto head = Network::from_onnx(split->head);
    EXPECT_TRUE(head.ok());
    auto out = head->run(input(image));
    EXPECT_TRUE(out.ok());
    return std::move(out).value();
  }

  std::vector<Prediction> local_top(size_t image, int k) const {
    auto whole = Network::from_onnx(onnx.serialized());
    EXPECT_TRUE(whole.ok());
    auto logits = whole->run(input(image));
    EXPECT_TRUE(logits.ok());
    return top_k(*logits, k, entry.label_offset, dataset.class_names);
  }
};

// One in-process server and the reference model, shared by every test of a suite.
class LoopbackServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reference_ = new Reference(Reference::load());
    server_ = start_server(test_server_options()).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete reference_;
  }

  static inline Reference* reference_ = nullptr;
  static inline InferenceServer* server_ = nullptr;
};

}  // namespace disc::testing
