#include "disc/tensor.hpp"

#include <cassert>
#include <limits>

namespace disc {

Result<size_t> element_count(const Shape& shape, size_t max_elements) {
  if (shape.empty() || shape.size() > kMaxRank)
    return Error("tensor rank " + std::to_string(shape.size()) + " is outside 1.." + std::to_string(kMaxRank),
                 ErrorCode::kInvalidArgument);
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 1) return Error("tensor dimension " + std::to_string(d) + " is not positive", ErrorCode::kInvalidArgument);
    if (static_cast<uint64_t>(d) > max_elements / n)
      return Error("tensor of shape " + shape_to_string(shape) + " exceeds the limit of " +
                       std::to_string(max_elements) + " elements",
                   ErrorCode::kResourceExhausted);
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

PlaneView plane_view(const Shape& shape) {
  PlaneView v{1, 1, 1};
  const size_t r = shape.size();
  if (r == 0) return v;
  v.width = static_cast<size_t>(shape[r - 1]);
  if (r >= 2) v.height = static_cast<size_t>(shape[r - 2]);
  for (size_t i = 0; i + 2 < r; ++i) v.planes *= static_cast<size_t>(shape[i]);
  return v;
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
  auto n = element_count(shape_);
  assert(n.ok());
  data_.assign(n.ok() ? n.value() : 0, 0.0f);
}

Tensor::Tensor(Shape shape, std::vector<float> data) : shape_(std::move(shape)), data_(std::move(data)) {
  assert(element_count(shape_).ok() && element_count(shape_).value() == data_.size());
}

Status Tensor::check() const {
  auto n = element_count(shape_);
  if (!n.ok()) return n.error().with_context("invalid tensor");
  if (*n != data_.size())
    return Error("tensor: shape " + shape_to_string(shape_) + " has " + std::to_string(*n) + " elements but " +
                     std::to_string(data_.size()) + " values were given",
                 ErrorCode::kInvalidArgument);
  return Status();
}

Result<Tensor> Tensor::make(Shape shape, size_t max_elements) {
  DISC_ASSIGN_OR_RETURN(size_t n, element_count(shape, max_elements));
  return Tensor(std::move(shape), std::vector<float>(n, 0.0f));
}

}  // namespace disc
