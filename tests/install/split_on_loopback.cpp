// Split inference through the DISC library's public API only: serve a model's tail on
// loopback, split the model at the middle one of its cuts, and classify data set images
// through a compressed split and, for comparison, with the whole model on the edge.
//
//   split_on_loopback ASSETS_DIR MODEL IMAGES CODEC
//
// Prints one line: "<cut> <codec>: A of N images agree, B bytes sent of R raw (ratio X)".
// Exit status 1 on any error.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "disc/assets.hpp"
#include "disc/edge.hpp"
#include "disc/edge_client.hpp"
#include "disc/model.hpp"
#include "disc/server.hpp"

namespace {

int fail(const std::string& what, const disc::Error& error) {
  std::fprintf(stderr, "split_on_loopback: %s: %s\n", what.c_str(), error.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: split_on_loopback ASSETS_DIR MODEL IMAGES CODEC\n");
    return 1;
  }
  const std::string assets = argv[1], model_name = argv[2], codec = argv[4];
  const size_t images = std::strtoul(argv[3], nullptr, 10);

  auto catalog = disc::AssetCatalog::load(assets);
  if (!catalog.ok()) return fail("assets", catalog.error());
  auto model = catalog->find_model(model_name);
  if (!model.ok()) return fail("model", model.error());
  auto dataset = catalog->load_dataset(model->dataset);
  if (!dataset.ok()) return fail("data set", dataset.error());
  if (dataset->images.size() < images) return fail("data set", disc::Error("fewer images than asked for"));
  auto onnx = disc::OnnxModel::load_file(model->path);
  if (!onnx.ok()) return fail("model", onnx.error());
  if (onnx->cuts().empty()) return fail("model", disc::Error("no cut"));
  const disc::CutPoint& cut = onnx->cuts()[onnx->cuts().size() / 2];

  disc::ServerOptions server_options;
  server_options.models = {model_name};
  server_options.assets_dir = assets;
  auto server = disc::InferenceServer::start(server_options);
  if (!server.ok()) return fail("server", server.error());
  disc::ClientOptions client_options;
  client_options.servers = {"127.0.0.1:" + std::to_string((*server)->port())};
  auto client = disc::EdgeClient::connect(client_options);
  if (!client.ok()) return fail("client", client.error());

  disc::EdgeConfig split_config;
  split_config.cut = cut.tensor;
  split_config.codec = codec;
  auto split = disc::EdgePipeline::create(*model, dataset->class_names, split_config, client->get());
  if (!split.ok()) return fail("split", split.error());
  disc::EdgeConfig local_config;
  local_config.mode = disc::EdgeMode::kEdgeOnly;
  auto local = disc::EdgePipeline::create(*model, dataset->class_names, local_config, nullptr);
  if (!local.ok()) return fail("edge-only", local.error());

  size_t agree = 0, sent = 0, raw = 0;
  for (size_t i = 0; i < images; ++i) {
    const std::string& image = dataset->images[i].path;
    auto remote = (*split)->run(image);
    if (!remote.ok()) return fail(image, remote.error());
    auto whole = (*local)->run(image);
    if (!whole.ok()) return fail(image, whole.error());
    agree += remote->top.at(0).label == whole->top.at(0).label;
    sent += remote->bytes_sent;
    raw += remote->raw_bytes;
  }
  (*server)->shutdown(std::chrono::milliseconds(100));
  (*server)->wait();
  std::printf("%s %s: %zu of %zu images agree, %zu bytes sent of %zu raw (ratio %.1f)\n", cut.tensor.c_str(),
              codec.c_str(), agree, images, sent, raw, sent ? double(raw) / double(sent) : 0.0);
  return 0;
}
