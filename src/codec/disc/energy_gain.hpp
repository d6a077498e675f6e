// Energy gain (flags bit 7, parameter `gain`): the decoder scales every element's deviation
// from its plane's decoded mean by one factor g = 2^(code / 64) for the whole tensor, which
// the encoder chooses so that the decoded energy about the plane means equals the original's.
// Quantization that zeroes coefficients or small values (transform mode, pruning) removes
// energy; these networks react to a loss of contrast more than to the added noise of restoring
// it (doc/CODEC.md, "Energy gain"). Plane means are unchanged except where unsigned maps are
// held at 0. The arithmetic is doc/FORMAT.md's, bit for bit.
#pragma once

#include <cstdint>
#include <span>

#include "disc/tensor.hpp"

namespace disc::codec_disc {

// The code whose gain gives `decoded` the energy of `original`, with E = the sum over planes of
// the squared deviations from the plane's mean: round(64 * log2(sqrt(E_original / E_decoded)))
// clamped to -128..127. With `non_negative`, where the clamp at 0 takes energy back, the code
// at or above one below that whose decoded energy, clamp included, is nearest E_original.
// 0 (g = 1) if the decoded tensor has no energy about its plane means or the ratio is not finite.
int8_t fit_energy_gain(const PlaneView& view, std::span<const float> original, std::span<const float> decoded,
                       bool non_negative);

// values = mean_p + g * (values - mean_p) per plane p, with mean_p the plane's mean before
// scaling (computed in binary64); with `non_negative`, results below 0 become 0. Returns false
// if a result before that clamp is not finite (a gain that overflows fp32 near the largest
// steps).
bool apply_energy_gain(int8_t code, const PlaneView& view, bool non_negative, std::span<float> values);

}  // namespace disc::codec_disc
