#include "codec/disc/predictor.hpp"

#include <algorithm>

namespace disc::codec_disc {
namespace {

int med_prediction(const int16_t* plane, size_t width, size_t y, size_t x) {
  const int left = x > 0 ? plane[y * width + x - 1] : 0;
  const int up = y > 0 ? plane[(y - 1) * width + x] : 0;
  const int up_left = x > 0 && y > 0 ? plane[(y - 1) * width + x - 1] : 0;
  if (up_left >= std::max(left, up)) return std::min(left, up);
  if (up_left <= std::min(left, up)) return std::max(left, up);
  return left + up - up_left;
}

}  // namespace

// Reverse raster order keeps every neighbour a prediction reads still a level.
void levels_to_residuals(const PlaneView& view, int16_t* data) {
  for (size_t p = 0; p < view.planes; ++p) {
    int16_t* plane = data + p * view.plane_size();
    for (size_t y = view.height; y-- > 0;)
      for (size_t x = view.width; x-- > 0;)
        plane[y * view.width + x] =
            static_cast<int16_t>(plane[y * view.width + x] - med_prediction(plane, view.width, y, x));
  }
}

// Raster order: every neighbour a prediction reads has already been turned back into a level.
Status residuals_to_levels(const PlaneView& view, int lowest, int highest, int16_t* data) {
  for (size_t p = 0; p < view.planes; ++p) {
    int16_t* plane = data + p * view.plane_size();
    for (size_t y = 0; y < view.height; ++y)
      for (size_t x = 0; x < view.width; ++x) {
        const int level = plane[y * view.width + x] + med_prediction(plane, view.width, y, x);
        if (level < lowest || level > highest)
          return Error("predicted level " + std::to_string(level) + " is outside [" + std::to_string(lowest) +
                       ", " + std::to_string(highest) + "]");
        plane[y * view.width + x] = static_cast<int16_t>(level);
      }
  }
  return Status();
}

}  // namespace disc::codec_disc
