#include "network_pool.hpp"

namespace disc::net {

Result<NetworkPool::Lease> NetworkPool::lease() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto network = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(network));
    }
  }
  // Built outside the lock: loading a network takes long and other requests may proceed.
  DISC_ASSIGN_OR_RETURN(Network network, Network::from_onnx(onnx_));
  {
    std::lock_guard lock(mutex_);
    ++built_;
  }
  return Lease(this, std::make_unique<Network>(std::move(network)));
}

size_t NetworkPool::built() const {
  std::lock_guard lock(mutex_);
  return built_;
}

void NetworkPool::give_back(std::unique_ptr<Network> network) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(network));
}

}  // namespace disc::net
