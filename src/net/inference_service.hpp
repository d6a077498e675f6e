// The gRPC handlers of disc.v1.Inference, on gRPC's callback API: a handler checks the request
// (token, model, cut) on gRPC's thread, then queues the stream's header check, the decode and
// the tail for a worker and returns. No thread waits on a client, and all decoding runs on the workers: a slow or
// silent peer holds only its own memory.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "disc/status.hpp"
#include "disc/tensor.hpp"
#include "disc/v1/inference.grpc.pb.h"
#include "model_store.hpp"
#include "tail_cache.hpp"
#include "work_queue.hpp"

namespace disc::net {

struct ServiceLimits {
  int workers = 2;
  // Requests waiting for a worker; more are refused (UNAVAILABLE, "server busy") at once.
  size_t max_queued = 64;
  size_t max_message_bytes = 0;
  std::string token;
  // InferChunked: every chunk must have arrived this long after the call started.
  std::chrono::milliseconds chunked_timeout{30000};
  // InferChunked calls receiving at once; more are refused (UNAVAILABLE, "server busy") at once. Each
  // holds its partly assembled map.
  int max_chunked_calls = 32;
};

class InferenceService final : public disc::v1::Inference::CallbackService {
 public:
  InferenceService(ModelStore models, const ServiceLimits& limits);

  grpc::ServerUnaryReactor* Infer(grpc::CallbackServerContext* context, const disc::v1::InferRequest* request,
                                  disc::v1::InferResponse* response) override;
  grpc::ServerReadReactor<disc::v1::InferChunk>* InferChunked(grpc::CallbackServerContext* context,
                                                              disc::v1::InferResponse* response) override;
  grpc::ServerUnaryReactor* InferImage(grpc::CallbackServerContext* context,
                                       const disc::v1::InferImageRequest* request,
                                       disc::v1::InferResponse* response) override;
  grpc::ServerUnaryReactor* Describe(grpc::CallbackServerContext* context, const disc::v1::DescribeRequest* request,
                                     disc::v1::DescribeResponse* response) override;

  // The model input a worker decodes, and how long decoding and (chunked) receiving took.
  struct Decoded {
    Tensor input;
    double decode_seconds = 0;
    double receive_seconds = 0;  // InferChunked only
  };

  // What every inference request names: a served model and how many classes to return.
  struct Target {
    const ServedModel* model = nullptr;
    int top_k = 0;
  };

  // One request's share of a worker. `decode` runs on the worker; `finish` ends the call and is
  // the job's last use of anything the call owns.
  struct Job {
    grpc::CallbackServerContext* context = nullptr;
    Target target;
    std::string cut;  // "" for the whole model
    bool return_logits = false;
    std::function<Result<Decoded>()> decode;
    disc::v1::InferResponse* response = nullptr;
    std::function<void(const grpc::Status&)> finish;
    std::chrono::steady_clock::time_point started;  // when the handler ran
  };

 private:
  class ChunkedCall;

  // Fills `target` for a request's model, model_fingerprint and top_k, or returns NOT_FOUND
  // (unknown model), FAILED_PRECONDITION (a fingerprint other than the model file's) or
  // INVALID_ARGUMENT (top_k out of range).
  template <class Request>
  grpc::Status resolve(const Request& request, Target& target) const {
    return resolve(request.model(), request.model_fingerprint(), request.top_k(), target);
  }
  grpc::Status resolve(const std::string& model_name, uint64_t fingerprint, int top_k, Target& target) const;
  // Queues `job`, or finishes it with queue_full().
  void submit(Job job);
  // The refusal of a call for a full queue (UNAVAILABLE, marked busy: server_busy.hpp).
  grpc::Status queue_full(grpc::CallbackServerContext* context) const;
  // On a worker: decode, tail, top-k, timings (not the finish).
  grpc::Status compute(const Job& job, double queue_seconds);

  const ModelStore models_;
  const ServiceLimits limits_;
  TailCache tails_;
  std::atomic<int> chunked_calls_{0};
  WorkQueue queue_;  // last: destroyed first, so no job outlives the members it uses
};

}  // namespace disc::net
