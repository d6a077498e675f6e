// The gRPC handlers of disc.v1.Inference. Each request: authenticate, validate, take a
// worker slot, decode, run the cached tail, answer with top-k and timings.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "disc/v1/inference.grpc.pb.h"
#include "model_store.hpp"
#include "tail_cache.hpp"
#include "worker_slots.hpp"

namespace disc::net {

struct ServiceLimits {
  int workers = 2;
  size_t max_message_bytes = 0;
  std::string token;
  // InferChunked: every chunk must have arrived this long after the call started.
  std::chrono::milliseconds chunked_timeout{30000};
  // InferChunked calls in progress at once; more are refused (RESOURCE_EXHAUSTED) at once. Each
  // holds a handler thread while it waits for its chunks, so calls that send nothing must not
  // take every thread the server has.
  int max_chunked_calls = 32;
};

class InferenceService final : public disc::v1::Inference::Service {
 public:
  InferenceService(ModelStore models, const ServiceLimits& limits);

  grpc::Status Infer(grpc::ServerContext* context, const disc::v1::InferRequest* request,
                     disc::v1::InferResponse* response) override;
  grpc::Status InferChunked(grpc::ServerContext* context, grpc::ServerReader<disc::v1::InferChunk>* reader,
                            disc::v1::InferResponse* response) override;
  grpc::Status InferImage(grpc::ServerContext* context, const disc::v1::InferImageRequest* request,
                          disc::v1::InferResponse* response) override;
  grpc::Status Describe(grpc::ServerContext* context, const disc::v1::DescribeRequest* request,
                        disc::v1::DescribeResponse* response) override;

 private:
  // What every inference request names: a served model and how many classes to return.
  struct Target {
    const ServedModel* model = nullptr;
    int top_k = 0;
  };
  // Fills `target`, or returns NOT_FOUND (unknown model) / INVALID_ARGUMENT (top_k out of range).
  grpc::Status resolve(const std::string& model_name, int top_k, Target& target) const;

  const ModelStore models_;
  const ServiceLimits limits_;
  TailCache tails_;
  WorkerSlots slots_;
  std::atomic<int> chunked_calls_{0};
};

}  // namespace disc::net
