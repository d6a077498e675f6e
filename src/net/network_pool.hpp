// Interchangeable OpenCV networks built from one ONNX model. A Network is not
// thread-safe, so each concurrent request leases its own; the pool grows on demand to the
// peak concurrency (bounded by the server's worker threads) and reuses idle instances.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "disc/model.hpp"
#include "disc/status.hpp"

namespace disc::net {

class NetworkPool {
 public:
  explicit NetworkPool(Bytes onnx) : onnx_(std::move(onnx)) {}

  // Exclusive use of one Network until destruction, then back to the pool.
  class Lease {
   public:
    Lease(NetworkPool* pool, std::unique_ptr<Network> network) : pool_(pool), network_(std::move(network)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (network_) pool_->give_back(std::move(network_));
    }
    Network& operator*() { return *network_; }
    Network* operator->() { return network_.get(); }

   private:
    NetworkPool* pool_;
    std::unique_ptr<Network> network_;
  };

  Result<Lease> lease();
  size_t built() const;  // networks created so far

 private:
  void give_back(std::unique_ptr<Network> network);

  const Bytes onnx_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Network>> idle_;
  size_t built_ = 0;
};

}  // namespace disc::net
