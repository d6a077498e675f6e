// Deterministic synthetic feature maps whose statistics match real CNN activations, so
// codecs can be benchmarked without running a model.
#pragma once

#include <string>
#include <vector>

#include "disc/tensor.hpp"

namespace disc::bench {

struct FeatureMap {
  std::string name;
  Tensor tensor;
};

// The same maps on every call and machine.
std::vector<FeatureMap> synthetic_feature_maps();

}  // namespace disc::bench
