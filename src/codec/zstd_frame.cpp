#include "codec/zstd_frame.hpp"

#include <zstd.h>

#include <memory>
#include <string>

namespace disc {

Result<Bytes> zstd_compress_frame(std::span<const uint8_t> input, int level) {
  Bytes out(ZSTD_compressBound(input.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n), ErrorCode::kInternal);
  out.resize(n);
  return out;
}

Status check_zstd_frame(std::span<const uint8_t> frame, size_t content_size) {
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return Error("zstd: not a zstd frame");
  if (content == ZSTD_CONTENTSIZE_UNKNOWN) return Error("zstd frame does not record its content size");
  if (content != content_size)
    return Error("zstd frame does not hold the " + std::to_string(content_size) + " bytes the shape needs");
  // Walks the block headers only (no decompression); fails if a block runs past the end.
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) return Error(std::string("zstd: ") + ZSTD_getErrorName(frame_size));
  if (frame_size != frame.size())
    return Error("zstd frame is followed by " + std::to_string(frame.size() - frame_size) + " stray bytes");
  // Invariant of the zstd format (RFC 8878, 3.1.1.2): every block starts with a 3-byte header
  // and regenerates at most Block_Maximum_Size <= 128 KiB (raw and RLE blocks as well as
  // compressed ones), so a frame of n bytes decompresses to fewer than n / 3 * 128 KiB bytes.
  // The header field alone is only a claim; this makes the frame prove it can back it.
  const size_t blocks = frame.size() / 3;  // no overflow below: a span holds far fewer than 2^47 bytes
  if (content_size > blocks * size_t{ZSTD_BLOCKSIZE_MAX})
    return Error("zstd frame of " + std::to_string(frame.size()) + " bytes cannot hold the " +
                 std::to_string(content_size) + " bytes it declares (at most 128 KiB per 3-byte block header)");
  return Status();
}

Status zstd_decompress_frame(std::span<const uint8_t> frame, std::span<uint8_t> output) {
  DISC_RETURN_IF_ERROR(check_zstd_frame(frame, output.size()));
  // One context per thread: creating one per call costs more than decoding a small frame.
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!context) return Error("zstd: cannot allocate a decompression context", ErrorCode::kResourceExhausted);
  const size_t n = ZSTD_decompressDCtx(context.get(), output.data(), output.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != output.size()) return Error("zstd frame decoded to " + std::to_string(n) + " bytes");
  return Status();
}

}  // namespace disc
