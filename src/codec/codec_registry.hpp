// Internal: the table of codec implementations behind make_codec().
#pragma once

#include <memory>
#include <vector>

#include "disc/codec.hpp"

namespace disc {

// One entry per codec implementation. `make` receives parameter values already checked
// against info().params (count, range, integrality); codecs that need nothing beyond the
// tensor ignore the context.
struct CodecEntry {
  const CodecInfo& (*info)();
  Result<std::unique_ptr<Codec>> (*make)(std::vector<float> params, const EncoderContext& context);
};

// Each codec's translation unit defines its entry.
extern const CodecEntry kRawCodec;
extern const CodecEntry kFp16Codec;
extern const CodecEntry kQ8ZstdCodec;
extern const CodecEntry kJpegCodec;
extern const CodecEntry kZstdCodec;
extern const CodecEntry kDiscCodec;
extern const CodecEntry kZfpCodec;

}  // namespace disc
