// Loopback end to end: an in-process server, the EdgeClient and raw gRPC stubs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "delayed_proxy.hpp"
#include "disc/chunks.hpp"
#include "disc/codec.hpp"
#include "disc/edge.hpp"
#include "disc/edge_client.hpp"
#include "disc/npy.hpp"
#include "disc/timing.hpp"
#include "test_server.hpp"

namespace disc::testing {
namespace {

class RuntimeTest : public LoopbackServerTest {
 protected:
  static std::unique_ptr<EdgeClient> client(ClientOptions options = {}) {
    options.servers = {address(*server_)};
    auto c = EdgeClient::connect(options);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return std::move(c).value();
  }

  static Bytes stream(const std::string& cut, size_t image, const std::string& codec = "raw") {
    auto c = make_codec(codec);
    EXPECT_TRUE(c.ok()) << c.error().message();
    auto s = compress(reference_->features(cut, image), **c);
    EXPECT_TRUE(s.ok());
    return std::move(s).value();
  }

  static grpc::Status call(const disc::v1::InferRequest& request, disc::v1::InferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return raw_stub(*server_)->Infer(&context, request, response);
  }

  static disc::v1::InferRequest request(const std::string& cut, const Bytes& bytes) {
    disc::v1::InferRequest r;
    r.set_model(kModel);
    r.set_cut(cut);
    r.set_stream(bytes.data(), bytes.size());
    r.set_top_k(3);
    return r;
  }

  // The chunks of image `image`'s feature map at `cut`, as `n` slabs.
  static std::vector<Bytes> chunks(const std::string& cut, size_t image, const std::string& codec, size_t n) {
    const Tensor& map = reference_->features(cut, image);
    std::vector<Bytes> out;
    for (const Slab& slab : split_slabs(map.shape(), n)) {
      auto s = compress_slab(map, *make_codec(codec).value(), slab);
      EXPECT_TRUE(s.ok()) << s.error().message();
      out.push_back(std::move(s).value());
    }
    return out;
  }

  // An InferChunked call with these messages; the first also names the model and cut.
  static grpc::Status call_chunked(const std::string& model, const std::string& cut, const std::vector<Bytes>& streams) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    disc::v1::InferResponse response;
    auto writer = raw_stub(*server_)->InferChunked(&context, &response);
    for (size_t i = 0; i < streams.size(); ++i) {
      disc::v1::InferChunk chunk;
      if (i == 0) {
        chunk.set_model(model);
        chunk.set_cut(cut);
      }
      chunk.set_stream(streams[i].data(), streams[i].size());
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static std::unique_ptr<InferenceServer> one_worker_server(int chunked_timeout_ms) {
    ServerOptions options = test_server_options();
    options.workers = 1;
    options.chunked_timeout_ms = chunked_timeout_ms;
    return start_server(options);
  }

  // The first message of a chunked call: model, cut and the first chunk.
  static disc::v1::InferChunk first_chunk(const std::string& cut, const Bytes& chunk) {
    disc::v1::InferChunk first;
    first.set_model(kModel);
    first.set_cut(cut);
    first.set_stream(chunk.data(), chunk.size());
    return first;
  }
};

void expect_same_top(const std::vector<Prediction>& remote, const std::vector<Prediction>& local) {
  ASSERT_EQ(remote.size(), local.size());
  for (size_t i = 0; i < local.size(); ++i) {
    EXPECT_EQ(remote[i].label, local[i].label) << "rank " << i;
    EXPECT_NEAR(remote[i].probability, local[i].probability, 1e-5) << "rank " << i;
    EXPECT_EQ(remote[i].name, local[i].name);
  }
}

TEST_F(RuntimeTest, LosslessCodecsAnswerAsTheLocalModel) {
  auto edge = client();
  const std::string cut = reference_->middle_cut().tensor;
  for (const std::string codec : {"raw", "zstd", "disc:bits=0"}) {
    for (size_t image : {0, 1, 2}) {
      SCOPED_TRACE(codec + " image " + std::to_string(image));
      auto answer = edge->infer(ModelRef(kModel), cut, stream(cut, image, codec), 5);
      ASSERT_TRUE(answer.ok()) << answer.error().message();
      expect_same_top(answer->top, reference_->local_top(image, 5));
      EXPECT_EQ(CodecSpec::parse(answer->codec)->name, CodecSpec::parse(codec)->name);
      EXPECT_GT(answer->request_bytes, 0u);
      EXPECT_GT(answer->round_trip_seconds, answer->server.total);
      EXPECT_GE(answer->server.total, answer->server.tail);
    }
  }
}

TEST_F(RuntimeTest, EveryCutAnswersAsTheLocalModel) {
  auto edge = client();
  const auto local = reference_->local_top(3, 3);
  for (const CutPoint& cut : reference_->onnx.cuts()) {
    SCOPED_TRACE(cut.tensor);
    auto answer = edge->infer(ModelRef(kModel), cut.tensor, stream(cut.tensor, 3), 3);
    ASSERT_TRUE(answer.ok()) << answer.error().message();
    expect_same_top(answer->top, local);
  }
}

TEST_F(RuntimeTest, ServerOnlyUploadsTheImageFile) {
  auto edge = client();
  auto file = read_file(reference_->dataset.images[4].path);
  ASSERT_TRUE(file.ok());
  auto answer = edge->infer_image(ModelRef(kModel), *file, 5, /*return_logits=*/true);
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  expect_same_top(answer->top, reference_->local_top(4, 5));
  EXPECT_EQ(answer->logits.size(), static_cast<size_t>(reference_->entry.classes));
  EXPECT_GT(answer->request_bytes, file->size());
}

TEST_F(RuntimeTest, EdgePipelineModesAgree) {
  auto edge = client();
  std::vector<std::vector<Prediction>> tops;
  for (EdgeMode mode : {EdgeMode::kSplit, EdgeMode::kEdgeOnly, EdgeMode::kServerOnly}) {
    EdgeConfig config{mode, reference_->middle_cut().tensor, "zstd", 3};
    auto pipeline = EdgePipeline::create(reference_->entry, reference_->dataset.class_names, config, edge.get());
    ASSERT_TRUE(pipeline.ok()) << pipeline.error().message();
    auto result = (*pipeline)->run(reference_->dataset.images[5].path);
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_GT(result->timing.total, 0);
    if (mode == EdgeMode::kSplit) {
      EXPECT_EQ(result->raw_bytes, reference_->middle_cut().fp32_bytes());
      EXPECT_GT(result->timing.head, 0);
      EXPECT_GT(result->timing.tail, 0);
    }
    if (mode == EdgeMode::kEdgeOnly) {
      EXPECT_EQ(result->bytes_sent, 0u);
    }
    tops.push_back(result->top);
  }
  expect_same_top(tops[0], tops[1]);
  expect_same_top(tops[2], tops[1]);
}

// An edge whose file for the model is another one (here resnet56 under resnet20's name, with the
// same cut and shape) is refused, not answered by resnet20's tail on resnet56's features; the
// server's own file passes, and a name without a digest is not checked.
TEST_F(RuntimeTest, AModelFileOtherThanTheServersIsRefused) {
  auto edge = client();
  const std::string cut = reference_->middle_cut().tensor;
  const Bytes map = stream(cut, 0, "raw");
  const std::string own = model_file_sha256(reference_->entry.path).value();
  ModelEntry other = reference_->entry;
  other.path = std::filesystem::path(other.path).replace_filename("resnet56_cifar10.onnx").string();
  other.sha256.clear();  // an edge whose models.json gives no digest to check its file against
  const std::string others = model_file_sha256(other.path).value();
  ASSERT_NE(others.substr(0, 16), own.substr(0, 16));

  auto refused = edge->infer({kModel, others}, cut, map, 5);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition) << refused.error().message();
  EXPECT_NE(refused.error().message().find("differs between edge and server"), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find(own.substr(0, 16)), std::string::npos) << refused.error().message();
  const auto chunk = [&](size_t) -> Result<Bytes> { return map; };
  auto chunked = edge->infer_chunked({kModel, others}, cut, 1, chunk, 5);
  ASSERT_FALSE(chunked.ok());
  EXPECT_EQ(chunked.error().code(), ErrorCode::kFailedPrecondition) << chunked.error().message();
  EXPECT_TRUE(edge->infer({kModel, own}, cut, map, 5).ok());
  EXPECT_TRUE(edge->infer(ModelRef(kModel), cut, map, 5).ok());
  auto malformed = edge->infer({kModel, "abc"}, cut, map, 5);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code(), ErrorCode::kInvalidArgument);

  EdgeConfig config{EdgeMode::kSplit, cut, "raw", 3};
  ModelEntry declared = reference_->entry;  // a file that is not the one models.json describes
  declared.sha256 = others;
  auto mismatch = EdgePipeline::create(declared, reference_->dataset.class_names, config, edge.get());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message().find("but models.json gives " + others), std::string::npos)
      << mismatch.error().message();
  std::string upper = own;  // a digest in capitals is the same digest
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  declared = reference_->entry;
  declared.sha256 = upper;
  EXPECT_TRUE(EdgePipeline::create(declared, reference_->dataset.class_names, config, edge.get()).ok());

  // Split and server-only pipelines of the other file are refused by the server; a thin edge
  // without the file sends no fingerprint and gets the server's answer.
  for (EdgeMode mode : {EdgeMode::kSplit, EdgeMode::kServerOnly}) {
    config.mode = mode;
    auto pipeline = EdgePipeline::create(other, reference_->dataset.class_names, config, edge.get());
    ASSERT_TRUE(pipeline.ok()) << pipeline.error().message();
    auto result = (*pipeline)->run(reference_->dataset.images[0].path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition) << result.error().message();
  }
  ModelEntry thin = other;
  thin.path = "/nonexistent/resnet20_cifar10.onnx";
  auto server_only = EdgePipeline::create(thin, reference_->dataset.class_names, config, edge.get());
  ASSERT_TRUE(server_only.ok()) << server_only.error().message();
  EXPECT_TRUE((*server_only)->run(reference_->dataset.images[0].path).ok());
}

// shape=1 needs one convolution reading the cut (resnet20's cuts also feed a residual
// addition) and whole maps; the edge refuses at setup instead of failing per image.
TEST_F(RuntimeTest, EdgePipelineRefusesShapingItCannotDo) {
  auto edge = client();
  EdgeConfig config{EdgeMode::kSplit, reference_->middle_cut().tensor, "disc:shape=1,bits=1", 3};
  auto pipeline = EdgePipeline::create(reference_->entry, reference_->dataset.class_names, config, edge.get());
  ASSERT_FALSE(pipeline.ok());
  EXPECT_NE(pipeline.error().message().find("not by one convolution"), std::string::npos)
      << pipeline.error().message();
}

// A top_k beyond the model's outputs answers with all of them (the server would refuse it on
// every run); encoder threads out of range are refused when the pipeline is made.
TEST_F(RuntimeTest, EdgePipelineAnswersWithEveryOutputOrRefusesUpFront) {
  auto edge = client();
  const int classes = reference_->entry.classes;
  ASSERT_GT(classes, 0);
  EdgeConfig config{EdgeMode::kSplit, reference_->middle_cut().tensor, "raw", classes + 1};
  for (EdgeMode mode : {EdgeMode::kSplit, EdgeMode::kEdgeOnly, EdgeMode::kServerOnly}) {
    config.mode = mode;
    auto pipeline = EdgePipeline::create(reference_->entry, reference_->dataset.class_names, config, edge.get());
    ASSERT_TRUE(pipeline.ok()) << pipeline.error().message();
    auto result = (*pipeline)->run(reference_->dataset.images[7].path);
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_EQ(result->top.size(), static_cast<size_t>(classes));
  }
  config.mode = EdgeMode::kSplit;
  config.encode_threads = -1;
  auto pipeline = EdgePipeline::create(reference_->entry, reference_->dataset.class_names, config, edge.get());
  ASSERT_FALSE(pipeline.ok());
  EXPECT_EQ(pipeline.error().message(), "encoder threads must be in 0..256 (0: one per hardware thread)");
}

// The server takes JPEG and PNG uploads only: the edge checks before it sends the file.
TEST_F(RuntimeTest, ServerOnlyRefusesOtherImageFormatsBeforeTheUpload) {
  const std::string ppm = ::testing::TempDir() + "/disc_server_only.ppm";
  std::string image = "P6\n2 2\n255\n" + std::string(12, '\x80');
  ASSERT_TRUE(write_file(ppm, Bytes(image.begin(), image.end())).ok());
  auto edge = client();
  EdgeConfig config{EdgeMode::kServerOnly, "", "raw", 3};
  auto pipeline = EdgePipeline::create(reference_->entry, reference_->dataset.class_names, config, edge.get());
  ASSERT_TRUE(pipeline.ok()) << pipeline.error().message();
  auto result = (*pipeline)->run(ppm);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << result.error().message();
  EXPECT_NE(result.error().message().find("(server-only sends the file as it is): only JPEG and PNG images are taken"),
            std::string::npos)
      << result.error().message();
}

TEST_F(RuntimeTest, EdgePipelineShapesForTheReadingConvolutionOfWholeMaps) {
  auto catalog = AssetCatalog::load(DISC_TEST_ASSETS_DIR);
  ASSERT_TRUE(catalog.ok());
  auto entry = catalog->find_model("mobilenet_v1_0.25_128");
  ASSERT_TRUE(entry.ok());
  auto edge = client();
  // Read through a Pad by a stride-2 depthwise convolution.
  EdgeConfig config{EdgeMode::kSplit, "/Clip_2_output_0", "disc:shape=1,bits=1,clip=2", 3};
  EXPECT_TRUE(EdgePipeline::create(*entry, {}, config, edge.get()).ok());
  config.chunks = 2;
  auto chunked = EdgePipeline::create(*entry, {}, config, edge.get());
  ASSERT_FALSE(chunked.ok());
  EXPECT_EQ(chunked.error().message(), kWholeMapsOnly);
}

TEST_F(RuntimeTest, DescribeListsModelsCutsAndCodecs) {
  auto description = client()->describe();
  ASSERT_TRUE(description.ok()) << description.error().message();
  ASSERT_EQ(description->models.size(), 1u);
  const RemoteModel& m = description->models[0];
  EXPECT_EQ(m.name, kModel);
  EXPECT_EQ(m.sha256, model_file_sha256(reference_->entry.path).value());
  EXPECT_EQ(m.sha256.size(), 64u);
  ASSERT_EQ(m.cuts.size(), reference_->onnx.cuts().size());
  EXPECT_EQ(m.cuts[0].shape, reference_->onnx.cuts()[0].shape);
  EXPECT_EQ(description->codecs.size(), codec_list().size());
}

TEST_F(RuntimeTest, BadRequestsGetTheRightStatus) {
  const CutPoint& cut = reference_->middle_cut();
  const Bytes good = stream(cut.tensor, 0);
  disc::v1::InferResponse response;

  auto unknown_model = request(cut.tensor, good);
  unknown_model.set_model("no_such_model");
  EXPECT_EQ(call(unknown_model, &response).error_code(), grpc::StatusCode::NOT_FOUND);

  EXPECT_EQ(call(request("no_such_tensor", good), &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const Bytes truncated(good.begin(), good.begin() + good.size() / 2);
  const grpc::Status t = call(request(cut.tensor, truncated), &response);
  EXPECT_EQ(t.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(t.error_message().find("stream"), std::string::npos) << t.error_message();

  Bytes corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x40;
  EXPECT_EQ(call(request(cut.tensor, corrupt), &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_EQ(call(request(cut.tensor, Bytes{}), &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const auto other = std::find_if(reference_->onnx.cuts().begin(), reference_->onnx.cuts().end(),
                                  [&](const CutPoint& c) { return c.shape != cut.shape; });
  ASSERT_NE(other, reference_->onnx.cuts().end());
  const grpc::Status mismatch = call(request(cut.tensor, stream(other->tensor, 0)), &response);
  EXPECT_EQ(mismatch.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(mismatch.error_message().find("shape"), std::string::npos) << mismatch.error_message();

  Tensor not_finite(cut.shape);
  not_finite.data()[0] = std::numeric_limits<float>::quiet_NaN();
  const grpc::Status nan = call(request(cut.tensor, compress(not_finite, *make_codec("raw").value()).value()), &response);
  EXPECT_EQ(nan.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(nan.error_message().find("NaN"), std::string::npos) << nan.error_message();
  // Finite values that overflow in the tail are the request's fault too, not the server's.
  Tensor huge(cut.shape);
  std::fill(huge.values().begin(), huge.values().end(), 3e38f);
  const grpc::Status overflow =
      call(request(cut.tensor, compress(huge, *make_codec("raw").value()).value()), &response);
  EXPECT_EQ(overflow.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << overflow.error_message();

  // A name long enough to overflow the status trailer, if echoed whole, is cut short in it.
  auto long_name = request(cut.tensor, good);
  long_name.set_model(std::string(20000, 'm'));
  const grpc::Status unknown = call(long_name, &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND) << unknown.error_message().substr(0, 200);
  EXPECT_LT(unknown.error_message().size(), 1100u);

  auto bad_k = request(cut.tensor, good);
  bad_k.set_top_k(reference_->entry.classes + 1);
  EXPECT_EQ(call(bad_k, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // The server is still healthy after all of that.
  EXPECT_TRUE(call(request(cut.tensor, good), &response).ok());
}

TEST_F(RuntimeTest, ChunkedRequestsAnswerAsTheLocalModel) {
  auto edge = client();
  const std::string cut = reference_->middle_cut().tensor;
  for (const std::string codec : {"raw", "disc:bits=0"}) {
    for (size_t n : {1, 3, 7}) {
      SCOPED_TRACE(codec + " in " + std::to_string(n) + " chunks");
      const std::vector<Bytes> streams = chunks(cut, 2, codec, n);
      std::vector<size_t> asked;
      auto answer = edge->infer_chunked(ModelRef(kModel), cut, streams.size(),
                                        [&](size_t i) -> Result<Bytes> {
                                          asked.push_back(i);
                                          return streams[i];
                                        },
                                        5);
      ASSERT_TRUE(answer.ok()) << answer.error().message();
      expect_same_top(answer->top, reference_->local_top(2, 5));
      EXPECT_EQ(asked.size(), streams.size());
      EXPECT_TRUE(std::is_sorted(asked.begin(), asked.end()));
      EXPECT_EQ(CodecSpec::parse(answer->codec)->name, CodecSpec::parse(codec)->name);
      EXPECT_GE(answer->server.receive, answer->server.decode);
      EXPECT_GE(answer->server.total, answer->server.receive + answer->server.tail);
    }
  }
  EdgeConfig config{EdgeMode::kSplit, cut, "zstd", 3};
  config.chunks = 4;
  auto pipeline = EdgePipeline::create(reference_->entry, reference_->dataset.class_names, config, edge.get());
  ASSERT_TRUE(pipeline.ok()) << pipeline.error().message();
  auto result = (*pipeline)->run(reference_->dataset.images[6].path);
  ASSERT_TRUE(result.ok()) << result.error().message();
  expect_same_top(result->top, reference_->local_top(6, 3));
  EXPECT_GT(result->timing.encode, 0);
  EXPECT_GT(result->timing.transfer, 0);
}

TEST_F(RuntimeTest, BadChunkedRequestsGetTheRightStatus) {
  const std::string cut = reference_->middle_cut().tensor;
  const std::vector<Bytes> good = chunks(cut, 0, "raw", 3);
  auto expect_invalid = [&](const grpc::Status& status, const std::string& says) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find(says), std::string::npos) << status.error_message();
  };
  expect_invalid(call_chunked(kModel, cut, {}), "no chunk");
  EXPECT_EQ(call_chunked("no_such_model", cut, good).error_code(), grpc::StatusCode::NOT_FOUND);
  expect_invalid(call_chunked(kModel, "no_such_tensor", good), "no_such_tensor");
  expect_invalid(call_chunked(kModel, cut, {good[0], good[1]}), "cover");
  expect_invalid(call_chunked(kModel, cut, {good[0], good[1], good[2], good[2]}), "already complete");
  Bytes corrupt = good[1];
  corrupt[corrupt.size() / 2] ^= 0x40;
  expect_invalid(call_chunked(kModel, cut, {good[0], corrupt, good[2]}), "chunk 2");
  const auto other = std::find_if(reference_->onnx.cuts().begin(), reference_->onnx.cuts().end(),
                                  [&](const CutPoint& c) { return c.shape.size() == 4 && c.shape[2] != reference_->middle_cut().shape[2]; });
  ASSERT_NE(other, reference_->onnx.cuts().end());
  expect_invalid(call_chunked(kModel, cut, {chunks(other->tensor, 0, "raw", 2)[0]}), "not a slab");

  // A chunk the edge fails to make cancels the call and is reported as such.
  auto edge = client();
  auto failed = edge->infer_chunked(ModelRef(kModel), cut, 3, [&](size_t i) -> Result<Bytes> {
    if (i == 1) return Error("encoder ran out of memory");
    return good[i];
  }, 5);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "chunk 2: encoder ran out of memory");
  // So does one that throws (a caller's function; the client's callers expect errors as values),
  // the first chunk or a later one; a missing source is refused before any call.
  for (size_t throwing : {0, 2}) {
    failed = edge->infer_chunked(ModelRef(kModel), cut, 3, [&](size_t i) -> Result<Bytes> {
      if (i == throwing) throw std::runtime_error("camera unplugged");
      return good[i];
    }, 5);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().message(), "chunk " + std::to_string(throwing + 1) + ": the chunk source threw: camera unplugged");
  }
  failed = edge->infer_chunked(ModelRef(kModel), cut, 3, EdgeClient::ChunkSource(), 5);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "InferChunked: no chunk source");

  // The server is still healthy after all of that.
  EXPECT_TRUE(call_chunked(kModel, cut, good).ok());
}

// A sender that stalls after its first chunk, or sends none, with a long deadline of its own:
// the server's chunked timeout ends both calls.
TEST_F(RuntimeTest, StalledChunkedSendersAreCancelled) {
  auto server = one_worker_server(300);
  const std::string cut = reference_->middle_cut().tensor;
  const std::vector<Bytes> good = chunks(cut, 0, "raw", 3);

  grpc::ClientContext stalled_context, silent_context;
  for (grpc::ClientContext* c : {&stalled_context, &silent_context})
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  disc::v1::InferResponse stalled_response, silent_response;
  auto stub = raw_stub(*server);
  auto stalled = stub->InferChunked(&stalled_context, &stalled_response);
  ASSERT_TRUE(stalled->Write(first_chunk(cut, good[0])));
  auto silent = stub->InferChunked(&silent_context, &silent_response);

  // Both are cancelled by the server, without the client doing anything.
  EXPECT_EQ(stalled->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(silent->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The server still answers chunked requests.
  ClientOptions client_options;
  client_options.servers = {address(*server)};
  client_options.deadline_ms = 5000;
  auto edge = EdgeClient::connect(client_options);
  ASSERT_TRUE(edge.ok());
  auto answer = (*edge)->infer_chunked(ModelRef(kModel), cut, good.size(), [&](size_t i) -> Result<Bytes> { return good[i]; }, 5);
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  expect_same_top(answer->top, reference_->local_top(0, 5));
}

// Waiting for a worker holds no thread: two uploads that stall after their first chunk leave
// the only worker free for others.
TEST_F(RuntimeTest, StalledChunkedUploadsDoNotHoldWorkers) {
  auto server = one_worker_server(60000);
  const std::string cut = reference_->middle_cut().tensor;
  const std::vector<Bytes> good = chunks(cut, 0, "raw", 3);

  auto stub = raw_stub(*server);
  grpc::ClientContext contexts[2];
  disc::v1::InferResponse responses[2];
  std::vector<std::unique_ptr<grpc::ClientWriter<disc::v1::InferChunk>>> stalled;
  for (int i = 0; i < 2; ++i) {
    stalled.push_back(stub->InferChunked(&contexts[i], &responses[i]));
    ASSERT_TRUE(stalled.back()->Write(first_chunk(cut, good[0])));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the server has both first chunks

  ClientOptions client_options;
  client_options.servers = {address(*server)};
  client_options.deadline_ms = 5000;
  auto edge = EdgeClient::connect(client_options);
  ASSERT_TRUE(edge.ok());
  auto answer = (*edge)->infer(ModelRef(kModel), cut, stream(cut, 0), 5);
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  expect_same_top(answer->top, reference_->local_top(0, 5));

  for (int i = 0; i < 2; ++i) {
    contexts[i].TryCancel();
    stalled[i]->Finish();
  }
}

// A burst far beyond the queue: each request is answered or refused with a message that says
// why (not gRPC's "Server Threadpool Exhausted"), and calls that need no worker are answered
// during it.
TEST_F(RuntimeTest, ABurstBeyondTheQueueIsRefusedAndDescribeStillAnswers) {
  ServerOptions options = test_server_options();
  options.workers = 1;
  options.max_queued = 8;
  auto server = start_server(options);
  const std::string cut = reference_->middle_cut().tensor;
  const disc::v1::InferRequest burst_request = request(cut, stream(cut, 0));
  const int expected = reference_->local_top(0, 1)[0].label;

  constexpr int kBurst = 200;
  auto stub = raw_stub(*server);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<disc::v1::InferResponse> responses(kBurst);
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0, answered = 0, refused = 0, other = 0;
  std::string other_status;
  for (int i = 0; i < kBurst; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stub->async()->Infer(contexts.back().get(), &burst_request, &responses[i], [&, i](grpc::Status s) {
      const std::lock_guard lock(mutex);
      if (s.ok() && responses[i].top_size() > 0 && responses[i].top(0).label() == expected) {
        ++answered;
      } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
                 s.error_message() == "server busy: 8 requests are waiting for a worker, the most it queues; retry later" &&
                 contexts[i]->GetServerTrailingMetadata().count("disc-server-busy") == 1) {
        ++refused;
      } else {
        ++other;
        other_status = std::to_string(s.error_code()) + " " + s.error_message();
      }
      if (++done == kBurst) all_done.notify_one();
    });
  }

  grpc::ClientContext describe_context;
  describe_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  disc::v1::DescribeResponse description;
  const grpc::Status described = stub->Describe(&describe_context, disc::v1::DescribeRequest(), &description);
  EXPECT_TRUE(described.ok()) << described.error_message();

  std::unique_lock lock(mutex);
  ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(60), [&] { return done == kBurst; }));
  EXPECT_EQ(other, 0) << other_status;
  EXPECT_GT(refused, 0);
  EXPECT_GE(answered, 8);  // the queue filled
  EXPECT_EQ(answered + refused, kBurst);
}

// Shutdown ends every call: the queued and the running ones, and uploads in progress. A call
// that was never finished would keep wait() from returning. mobilenet_v2's whole model takes
// tens of milliseconds per image, so most of the 40 images still wait when shutdown comes.
TEST_F(RuntimeTest, ShutdownEndsQueuedRunningAndUploadingCalls) {
  constexpr char kSlowModel[] = "mobilenet_v2_1.0_224";
  ServerOptions options = test_server_options();
  options.models.push_back(kSlowModel);
  options.workers = 1;
  options.chunked_timeout_ms = 60000;
  auto server = start_server(options);
  ASSERT_TRUE(server);
  auto catalog = AssetCatalog::load(DISC_TEST_ASSETS_DIR);
  ASSERT_TRUE(catalog.ok());
  auto dataset = catalog->load_dataset(catalog->find_model(kSlowModel)->dataset);
  ASSERT_TRUE(dataset.ok());
  std::ifstream file(dataset->images.at(0).path, std::ios::binary);
  disc::v1::InferImageRequest image;
  image.set_model(kSlowModel);
  image.set_image(std::string(std::istreambuf_iterator<char>(file), {}));
  const std::string cut = reference_->middle_cut().tensor;
  const std::vector<Bytes> good = chunks(cut, 0, "raw", 3);
  auto stub = raw_stub(*server);

  grpc::ClientContext upload_context;
  disc::v1::InferResponse upload_response;
  auto upload = stub->InferChunked(&upload_context, &upload_response);
  ASSERT_TRUE(upload->Write(first_chunk(cut, good[0])));

  constexpr int kImages = 40;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<disc::v1::InferResponse> responses(kImages);
  std::mutex mutex;
  std::condition_variable ended;
  int done = 0, answered = 0;
  for (int i = 0; i < kImages; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    stub->async()->InferImage(contexts.back().get(), &image, &responses[i], [&](grpc::Status s) {
      const std::lock_guard lock(mutex);
      answered += s.ok();
      ++done;
      ended.notify_one();
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // one runs, the others wait

  std::promise<void> stopped;
  std::thread stopper([&] {
    server->shutdown(std::chrono::milliseconds(0));
    server->wait();
    stopped.set_value();
  });
  if (stopped.get_future().wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    // wait() would never return, nor the server's destructor: end the process, failed.
    std::fprintf(stderr, "FAILED: the server's wait() did not return within 20 s of shutdown\n");
    std::_Exit(1);
  }
  stopper.join();
  EXPECT_FALSE(upload->Finish().ok());
  std::unique_lock lock(mutex);
  if (!ended.wait_for(lock, std::chrono::seconds(10), [&] { return done == kImages; })) {
    ADD_FAILURE() << done << " of " << kImages << " calls ended";
    for (auto& c : contexts) c->TryCancel();  // the callbacks must not outlive this scope
    ended.wait(lock, [&] { return done == kImages; });
  }
  EXPECT_LT(answered, kImages);  // some were still waiting when the server stopped
}

TEST_F(RuntimeTest, UndecodableImagesAreInvalidArguments) {
  auto edge = client();
  const Bytes garbage = {0xff, 0xd8, 0xff, 0x00, 0x01, 0x02};
  auto answer = edge->infer_image(ModelRef(kModel), garbage, 3);
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message().find("INVALID_ARGUMENT"), std::string::npos) << answer.error().message();
  EXPECT_EQ(answer.error().code(), ErrorCode::kInvalidArgument);
  // A PNG whose header claims 40000 x 40000 pixels is refused from the header, and a BMP,
  // whose size OpenCV learns only by decoding it, is not taken at all.
  const Bytes bomb = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                      0, 0, 0x9c, 0x40, 0, 0, 0x9c, 0x40, 8, 2, 0, 0, 0, 0, 0, 0, 0};
  const Bytes bmp = {'B', 'M', 0, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0};
  for (const auto& [image, says] : {std::pair{bomb, "PNG of 40000x40000 pixels"}, std::pair{bmp, "only JPEG and PNG"}}) {
    auto refused = edge->infer_image(ModelRef(kModel), image, 3);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message().find(says), std::string::npos) << refused.error().message();
  }
  auto empty = edge->infer_image(ModelRef(kModel), Bytes{}, 3);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument) << empty.error().message();
}

TEST_F(RuntimeTest, ExpiredDeadlineIsReported) {
  ClientOptions options;
  options.deadline_ms = 1;
  auto edge = client(options);
  const std::string cut = reference_->middle_cut().tensor;
  const Bytes bytes = stream(cut, 0);
  // A 1 ms deadline cannot cover a round trip with inference on every attempt.
  bool expired = false;
  for (int i = 0; i < 20 && !expired; ++i) {
    auto answer = edge->infer(ModelRef(kModel), cut, bytes, 3);
    expired = !answer.ok() && answer.error().code() == ErrorCode::kDeadlineExceeded &&
              answer.error().message().find("DEADLINE_EXCEEDED: no answer from server") != std::string::npos &&
              answer.error().message().find("within the deadline of 1 ms (--deadline-ms)") != std::string::npos;
  }
  EXPECT_TRUE(expired);
}

TEST_F(RuntimeTest, ConcurrentClientsAllGetTheirAnswers) {
  constexpr int kClients = 8;
  constexpr int kRequests = 50;
  const std::string cut = reference_->middle_cut().tensor;
  std::vector<Bytes> streams;
  std::vector<int> expected;
  for (int i = 0; i < kClients; ++i) {
    streams.push_back(stream(cut, i));
    expected.push_back(reference_->local_top(i, 1)[0].label);
  }
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c)
    threads.emplace_back([&, c] {
      auto edge = client();
      for (int r = 0; r < kRequests; ++r) {
        auto answer = edge->infer(ModelRef(kModel), cut, streams[c], 1);
        if (answer.ok() && answer->top[0].label == expected[c]) ++correct;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(correct.load(), kClients * kRequests);
}

TEST_F(RuntimeTest, CancelledRequestsDoNotDisturbOthers) {
  const std::string cut = reference_->middle_cut().tensor;
  const Bytes bytes = stream(cut, 0);
  const int expected = reference_->local_top(0, 1)[0].label;
  std::atomic<bool> done{false};
  std::atomic<int> cancelled{0};
  std::thread canceller([&] {
    auto stub = raw_stub(*server_);
    for (int i = 0; !done; ++i) {
      grpc::ClientContext context;
      disc::v1::InferResponse response;
      std::thread cancel([&context, i] {
        std::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 20)));
        context.TryCancel();
      });
      const grpc::Status s = stub->Infer(&context, request(cut, bytes), &response);
      cancel.join();
      cancelled += s.error_code() == grpc::StatusCode::CANCELLED;
    }
  });
  auto edge = client();
  int correct = 0;
  for (int r = 0; r < 100; ++r) {
    auto answer = edge->infer(ModelRef(kModel), cut, bytes, 1);
    correct += answer.ok() && answer->top[0].label == expected;
  }
  done = true;
  canceller.join();
  EXPECT_EQ(correct, 100);
  EXPECT_GT(cancelled.load(), 0);
}

TEST(RuntimeAuthTest, TokenIsRequired) {
  ServerOptions options = test_server_options();
  options.token = "correct horse";
  auto server = start_server(options);
  ASSERT_TRUE(server);
  auto describe_with = [&](const std::string& token) {
    ClientOptions client_options;
    client_options.servers = {address(*server)};
    client_options.token = token;
    return (*EdgeClient::connect(client_options))->describe();
  };
  auto wrong = describe_with("battery staple");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message().find("UNAUTHENTICATED"), std::string::npos) << wrong.error().message();
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  auto missing = describe_with("");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("UNAUTHENTICATED"), std::string::npos);
  EXPECT_EQ(missing.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(describe_with("correct horse").ok());
}

// gRPC aborts the process on a call whose metadata is not printable ASCII: such a token must
// be refused up front, on both sides.
TEST(RuntimeAuthTest, TokensThatAreNotPrintableAsciiAreRefused) {
  for (const std::string& token : {std::string("s3cret\n"), std::string("s3\rcret"), std::string("s3cret\x01"),
                                   std::string("caf\xC3\xA9")}) {
    ClientOptions client_options;
    client_options.servers = {"127.0.0.1:1"};
    client_options.token = token;
    auto client = EdgeClient::connect(client_options);
    ASSERT_FALSE(client.ok()) << token;
    EXPECT_NE(client.error().message().find("a bearer token is printable ASCII (0x20..0x7E)"), std::string::npos)
        << client.error().message();
    EXPECT_EQ(client.error().code(), ErrorCode::kInvalidArgument);
    ServerOptions options = test_server_options();
    options.token = token;
    auto server = InferenceServer::start(options);
    ASSERT_FALSE(server.ok()) << token;
    EXPECT_EQ(server.error().message(), client.error().message());
  }
  ClientOptions client_options;
  client_options.servers = {"127.0.0.1:1"};
  client_options.token = "s3cret\n";
  EXPECT_EQ(EdgeClient::connect(client_options).error().message(),
            "token: byte 6 is 0x0A (a line end); a bearer token is printable ASCII (0x20..0x7E)");
}

TEST(RuntimeLimitsTest, OversizedRequestIsResourceExhausted) {
  ServerOptions options = test_server_options();
  options.max_message_bytes = 4096;
  auto server = start_server(options);
  ASSERT_TRUE(server);
  disc::v1::InferRequest request;
  request.set_model(kModel);
  request.set_cut("anything");
  request.set_stream(std::string(8192, 'x'));
  disc::v1::InferResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(raw_stub(*server)->Infer(&context, request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST(RuntimeLimitsTest, AnOversizedStreamSaysWhichLimitAndWhatToDo) {
  ServerOptions options = test_server_options();
  options.max_message_bytes = 4096;
  auto server = start_server(options);
  ASSERT_TRUE(server);
  ClientOptions client_options;
  client_options.servers = {address(*server)};
  auto edge = EdgeClient::connect(client_options);
  ASSERT_TRUE(edge.ok()) << edge.error().message();
  auto answer = (*edge)->infer(ModelRef(kModel), "anything", Bytes(8192, 0), 3);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code(), ErrorCode::kResourceExhausted) << answer.error().message();
  EXPECT_NE(answer.error().message().find("such as the server's --max-message-bytes"), std::string::npos)
      << answer.error().message();
  EXPECT_NE(answer.error().message().find("--chunks N"), std::string::npos) << answer.error().message();
}

TEST(RuntimeClientTest, UnreachableServerFailsAfterRetries) {
  // Bind and release a port so that nothing listens on it.
  auto server = start_server(test_server_options());
  ASSERT_TRUE(server);
  const std::string dead = address(*server);
  server.reset();
  ClientOptions options;
  options.servers = {dead};
  options.retries = 2;
  options.backoff_ms = 10;
  auto answer = (*EdgeClient::connect(options))->describe();
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message().find("UNAVAILABLE"), std::string::npos) << answer.error().message();
  EXPECT_NE(answer.error().message().find("after 3 attempts"), std::string::npos) << answer.error().message();
  EXPECT_EQ(answer.error().code(), ErrorCode::kUnavailable);
}

// Doubling backoff is bounded: retries and the first wait have a range, and the wait stops
// doubling at kMaxBackoffMs (it would overflow an int after 31 doublings and wait for years).
// A stand-in server whose Describe answers UNAVAILABLE, marked busy or not, and counts calls.
class RefusingService final : public disc::v1::Inference::Service {
 public:
  explicit RefusingService(bool busy) : busy_(busy) {}
  grpc::Status Describe(grpc::ServerContext* context, const disc::v1::DescribeRequest*,
                        disc::v1::DescribeResponse*) override {
    ++calls;
    if (busy_) context->AddTrailingMetadata("disc-server-busy", "1");
    return {grpc::StatusCode::UNAVAILABLE, "refused"};
  }
  std::atomic<int> calls{0};

 private:
  const bool busy_;
};

// A connection failure is retried; the server's refusal for load is not: that request had
// crossed the link already, and sending it again at once would only add to the load.
TEST(RuntimeClientTest, AServerBusyRefusalIsNotRetried) {
  for (const bool busy : {false, true}) {
    RefusingService service(busy);
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    auto server = builder.BuildAndStart();
    ASSERT_TRUE(server && port != 0);
    ClientOptions options;
    options.servers = {"127.0.0.1:" + std::to_string(port)};
    options.retries = 2;
    options.backoff_ms = 1;
    auto client = EdgeClient::connect(options);
    ASSERT_TRUE(client.ok());
    auto answer = (*client)->describe();
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(service.calls.load(), busy ? 1 : 3) << answer.error().message();
    server->Shutdown();
  }
}

TEST(RuntimeClientTest, RetriesAndBackoffAreBounded) {
  const auto refusal = [](int retries, int backoff_ms) {
    ClientOptions options;
    options.servers = {"127.0.0.1:1"};
    options.retries = retries;
    options.backoff_ms = backoff_ms;
    auto client = EdgeClient::connect(options);
    if (client.ok()) return std::string("(connected)");
    EXPECT_EQ(client.error().code(), ErrorCode::kInvalidArgument) << client.error().message();
    return client.error().message();
  };
  EXPECT_EQ(refusal(ClientOptions::kMaxRetries, ClientOptions::kMaxBackoffMs), "(connected)");
  EXPECT_EQ(refusal(ClientOptions::kMaxRetries + 1, 100), "retries must be in 0..100");
  EXPECT_EQ(refusal(-1, 100), "retries must be in 0..100");
  EXPECT_EQ(refusal(2, ClientOptions::kMaxBackoffMs + 1), "backoff must be in 0..10000 ms");
  EXPECT_EQ(refusal(2, -1), "backoff must be in 0..10000 ms");
}

// A link slow to answer (300 ms each way) still connects: the client's shorter reconnect
// backoff must not shorten the time one connection attempt may take.
TEST(RuntimeClientTest, ASlowLinkConnects) {
  auto server = start_server(test_server_options());
  ASSERT_TRUE(server);
  DelayedProxy proxy(server->port(), std::chrono::milliseconds(300));
  ASSERT_NE(proxy.port(), 0);
  ClientOptions options;
  options.servers = {"127.0.0.1:" + std::to_string(proxy.port())};
  options.retries = 0;
  auto client = EdgeClient::connect(options);
  ASSERT_TRUE(client.ok()) << client.error().message();
  auto description = (*client)->describe();
  EXPECT_TRUE(description.ok()) << description.error().message();
}

// A request's message reaches the handlers only when complete, so nothing in the service can
// time out an upload that stalls; the connection's age limit ends it, with the chunked timeout
// as grace, instead of the client's deadline (or never, without one).
TEST(RuntimeServerTest, AnUploadThatStallsEndsWithTheConnectionsAge) {
  ServerOptions options = test_server_options();
  options.max_connection_age_ms = 500;
  options.chunked_timeout_ms = 500;
  auto server = start_server(options);
  ASSERT_TRUE(server);
  DelayedProxy proxy(server->port(), std::chrono::milliseconds(0), 16 << 10);
  ASSERT_NE(proxy.port(), 0);
  auto stub = disc::v1::Inference::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(proxy.port()), grpc::InsecureChannelCredentials()));
  disc::v1::InferRequest request;
  request.set_model(kModel);
  request.set_cut("anything");
  request.set_stream(std::string(1 << 20, 'x'));
  disc::v1::InferResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const Stopwatch waited;
  const grpc::Status status = stub->Infer(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(waited.seconds(), 10.0);
}

TEST(RuntimeClientTest, RoundRobinOverTwoServers) {
  auto a = start_server(test_server_options());
  auto b = start_server(test_server_options());
  ASSERT_TRUE(a && b);
  ClientOptions options;
  options.servers = {address(*a), address(*b)};
  auto edge = EdgeClient::connect(options);
  ASSERT_TRUE(edge.ok()) << edge.error().message();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE((*edge)->describe().ok());
  // Requests keep flowing when one server goes away.
  b.reset();
  for (int i = 0; i < 4; ++i) {
    auto d = (*edge)->describe();
    EXPECT_TRUE(d.ok()) << d.error().message();
  }
}

TEST(RuntimeClientTest, LoadBalancingNeedsNumericAddresses) {
  ClientOptions options;
  options.servers = {"localhost:1", "localhost:2"};
  EXPECT_FALSE(EdgeClient::connect(options).ok());
  options.servers = {};
  EXPECT_FALSE(EdgeClient::connect(options).ok());
}

// Every failure names the server it came from, not only an unreachable one.
TEST(RuntimeClientTest, ErrorsNameTheServer) {
  auto server = start_server(test_server_options());
  ASSERT_TRUE(server);
  ClientOptions options;
  options.servers = {address(*server)};
  auto edge = EdgeClient::connect(options);
  ASSERT_TRUE(edge.ok()) << edge.error().message();
  auto answer = (*edge)->infer(ModelRef("no_such_model"), "any", Bytes{1, 2, 3}, 1);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().message(),
            "Infer: NOT_FOUND from server " + address(*server) + ": unknown model 'no_such_model'");
  EXPECT_EQ(answer.error().code(), ErrorCode::kNotFound);
}

TEST(RuntimeClientTest, RefusesAddressesThatAreNotHostPort) {
  for (const char* bad : {"", "127.0.0.1", ":50051", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:123456",
                          "127.0.0.1:0", "127.0.0.1:-1", "127.0.0.1:5x", "::1:50051", "[::1]", "[::1",
                          "dns:///localhost:50051", "unix:/tmp/x.sock"}) {
    ClientOptions options;
    options.servers = {bad};
    auto edge = EdgeClient::connect(options);
    ASSERT_FALSE(edge.ok()) << bad;
    EXPECT_NE(edge.error().message().find(std::string("'") + bad + "'"), std::string::npos)
        << edge.error().message();
    EXPECT_EQ(edge.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  for (const auto& [bad, message] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:123456", "address '127.0.0.1:123456': port must be in 1..65535"},
           {"[::1]", "address '[::1]' has no port (host:port, port 1..65535)"},
           {"dns:///localhost:50051",
            "address 'dns:///localhost:50051': give host:port (gRPC URIs such as dns:/// or unix: are not taken)"}}) {
    ClientOptions options;
    options.servers = {bad};
    auto edge = EdgeClient::connect(options);
    ASSERT_FALSE(edge.ok()) << bad;
    EXPECT_EQ(edge.error().message(), message);
  }
  for (const char* good : {"127.0.0.1:1", "localhost:65535", "[::1]:50051", "127.0.0.1:0080"}) {
    ClientOptions options;
    options.servers = {good};
    EXPECT_TRUE(EdgeClient::connect(options).ok()) << good;
  }
}

TEST(RuntimeClientTest, RefusesTlsRootsThatAreNotPem) {
  const std::string path = ::testing::TempDir() + "not_pem.txt";
  std::ofstream(path) << "not a certificate";
  ClientOptions options;
  options.servers = {"127.0.0.1:1"};
  options.tls_ca_file = path;
  auto edge = EdgeClient::connect(options);
  ASSERT_FALSE(edge.ok());
  EXPECT_NE(edge.error().message().find("TLS CA file '" + path + "' holds no PEM block"), std::string::npos)
      << edge.error().message();
}

TEST(RuntimeServerTest, RefusesAListenAddressThatIsNotHostPort) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:http"}) {
    ServerOptions options = test_server_options();
    options.listen = bad;
    auto server = InferenceServer::start(options);
    ASSERT_FALSE(server.ok()) << bad;
    EXPECT_NE(server.error().message().find(std::string("'") + bad + "'"), std::string::npos)
        << server.error().message();
  }
}

TEST(RuntimeServerTest, RefusesTlsFilesThatAreNotPem) {
  const std::string pem = ::testing::TempDir() + "looks_pem.pem", junk = ::testing::TempDir() + "not_pem.key";
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(junk) << "not a key";
  for (const auto& [cert, key, named] : {std::tuple{junk, pem, "TLS certificate '" + junk + "'"},
                                         std::tuple{pem, junk, "TLS key '" + junk + "'"}}) {
    ServerOptions options = test_server_options();
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    auto server = InferenceServer::start(options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.error().message(), named + " holds no PEM block (-----BEGIN ...)");
  }
}

// Chunked calls that send nothing hold their memory until the chunked timeout: past
// max(32, 4 x workers) of them, more are refused at once, and other calls keep working.
TEST(RuntimeServerTest, ChunkedCallsInProgressAreBounded) {
  auto server = start_server(test_server_options());  // 2 workers: 32 chunked calls
  ASSERT_TRUE(server);
  auto stub = raw_stub(*server);
  constexpr int kAllowed = 32;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<disc::v1::InferResponse> responses(kAllowed);
  std::vector<std::unique_ptr<grpc::ClientWriter<disc::v1::InferChunk>>> silent;
  for (int i = 0; i < kAllowed; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    silent.push_back(stub->InferChunked(contexts.back().get(), &responses[i]));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // every call has reached the server

  grpc::ClientContext extra_context;
  disc::v1::InferResponse extra_response;
  auto extra = stub->InferChunked(&extra_context, &extra_response);
  extra->WritesDone();
  const grpc::Status refused = extra->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_NE(refused.error_message().find("server busy: 32 chunked calls are in progress"), std::string::npos)
      << refused.error_message();

  ClientOptions options;
  options.servers = {address(*server)};
  auto client = EdgeClient::connect(options);
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE((*client)->describe().ok());

  for (size_t i = 0; i < silent.size(); ++i) {
    contexts[i]->TryCancel();
    silent[i]->Finish();
  }
}

// gRPC sets SO_REUSEPORT unless told not to: a second server then binds the same port and the
// kernel splits connections between the two.
TEST(RuntimeServerTest, ASecondServerOnABusyPortDoesNotStart) {
  auto first = start_server(test_server_options());
  ASSERT_TRUE(first);
  ServerOptions options = test_server_options();
  options.listen = address(*first);
  auto second = InferenceServer::start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(), "cannot listen on " + address(*first) + ": Address already in use");
}

// The error says why, in the system's words, not a guess.
TEST(RuntimeServerTest, AnAddressThatIsNotLocalDoesNotStart) {
  ServerOptions options = test_server_options();
  options.listen = "203.0.113.7:0";  // TEST-NET-3 (RFC 5737): no host has it
  auto server = InferenceServer::start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().message(), "cannot listen on 203.0.113.7:0: Cannot assign requested address");
}

TEST(RuntimeServerTest, UnknownModelDoesNotStart) {
  ServerOptions options = test_server_options();
  options.models = {"no_such_model"};
  EXPECT_FALSE(InferenceServer::start(options).ok());
}

// models.json's sha256 for a model whose file is another: the server refuses to start.
TEST(RuntimeServerTest, AFileOtherThanModelsJsonDescribesDoesNotStart) {
  const std::filesystem::path assets =
      std::filesystem::temp_directory_path() / ("disc_runtime_sha256_assets_" + std::to_string(getpid()));
  struct RemovedAtExit {
    std::filesystem::path path;
    ~RemovedAtExit() { std::filesystem::remove_all(path); }
  } removed{assets};
  std::filesystem::create_directories(assets / "models");
  const std::filesystem::path shared = DISC_TEST_ASSETS_DIR;
  std::filesystem::create_directory_symlink(std::filesystem::absolute(shared / "data"), assets / "data");
  std::filesystem::create_symlink(std::filesystem::absolute(shared / "models" / "resnet56_cifar10.onnx"),
                                  assets / "models" / "resnet20_cifar10.onnx");
  std::ifstream in(shared / "models" / "models.json");
  std::stringstream json;
  json << in.rdbuf();
  std::ofstream(assets / "models" / "models.json") << json.str();
  ServerOptions options = test_server_options();
  options.assets_dir = assets.string();
  auto server = InferenceServer::start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message().find("but models.json gives 227521b7"), std::string::npos)
      << server.error().message();
}

}  // namespace
}  // namespace disc::testing
