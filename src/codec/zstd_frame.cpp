#include "codec/zstd_frame.hpp"

#include <zstd.h>

#include <memory>
#include <string>

namespace disc {

Result<Bytes> zstd_compress_frame(std::span<const uint8_t> input, int level) {
  Bytes out(ZSTD_compressBound(input.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Status zstd_decompress_frame(std::span<const uint8_t> frame, std::span<uint8_t> output) {
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != output.size())
    return Error("zstd frame does not hold the " + std::to_string(output.size()) + " bytes the shape needs");
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) return Error(std::string("zstd: ") + ZSTD_getErrorName(frame_size));
  if (frame_size != frame.size())
    return Error("zstd frame is followed by " + std::to_string(frame.size() - frame_size) + " stray bytes");
  // One context per thread: creating one per call costs more than decoding a small frame.
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!context) return Error("zstd: cannot allocate a decompression context");
  const size_t n = ZSTD_decompressDCtx(context.get(), output.data(), output.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != output.size()) return Error("zstd frame decoded to " + std::to_string(n) + " bytes");
  return Status();
}

}  // namespace disc
