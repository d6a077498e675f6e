// "jpeg" (the DISC paper's baseline): 8-bit uniform quantization, planes tiled into one
// grayscale image, baseline JPEG via TurboJPEG. Payload layout: doc/FORMAT.md,
// "Payload: jpeg (id 4)".
#include <turbojpeg.h>

#include <cmath>
#include <memory>
#include <string>

#include "codec/byte_quantizer.hpp"
#include "codec/codec_registry.hpp"

namespace disc {
namespace {

// Largest image side a JPEG can describe (16-bit fields).
constexpr size_t kMaxJpegSide = 65535;

const CodecInfo& jpeg_info() {
  static const CodecInfo info{CodecId::kJpeg, "jpeg", "planes tiled into one 8-bit grayscale JPEG (paper's baseline)",
                              false, {{"quality", "JPEG quality", 75, 1, 100, true}}};
  return info;
}

// Plane p sits at tile (p / columns, p % columns) of a columns x rows grid, columns =
// ceil(sqrt(planes)); tiles past the last plane are padding.
struct TileGrid {
  PlaneView view;
  size_t columns = 0;
  size_t rows = 0;
  size_t image_width() const { return columns * view.width; }
  size_t image_height() const { return rows * view.height; }
  // Offset in the image of row y of plane p.
  size_t row_offset(size_t p, size_t y) const {
    return ((p / columns) * view.height + y) * image_width() + (p % columns) * view.width;
  }
};

Result<TileGrid> tile_grid(const Shape& shape) {
  TileGrid g;
  g.view = plane_view(shape);
  g.columns = static_cast<size_t>(std::sqrt(static_cast<double>(g.view.planes)));
  while (g.columns * g.columns < g.view.planes) ++g.columns;
  while (g.columns > 1 && (g.columns - 1) * (g.columns - 1) >= g.view.planes) --g.columns;
  g.rows = (g.view.planes + g.columns - 1) / g.columns;
  if (g.view.width > kMaxJpegSide / g.columns || g.view.height > kMaxJpegSide / g.rows)
    return Error("tiled image of shape " + shape_to_string(shape) + " exceeds the JPEG limit of 65535 pixels a side");
  return g;
}

struct TjDestroy {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDestroy>;

Error tj_error(const char* what, void* handle, ErrorCode code = ErrorCode::kUnknown) {
  return Error(std::string(what) + ": " + tjGetErrorStr2(handle), code);
}

class JpegCodec final : public Codec {
 public:
  explicit JpegCodec(std::vector<float> params) : Codec(std::move(params)) {}
  const CodecInfo& info() const override { return jpeg_info(); }

  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    DISC_ASSIGN_OR_RETURN(TileGrid grid, tile_grid(tensor.shape()));
    DISC_ASSIGN_OR_RETURN(ByteQuantizer quantizer, ByteQuantizer::fit(tensor.values()));
    const size_t width = grid.image_width();
    const size_t height = grid.image_height();
    Bytes image(width * height, 0);
    const PlaneView& v = grid.view;
    for (size_t p = 0; p < v.planes; ++p)
      for (size_t y = 0; y < v.height; ++y)
        quantizer.quantize(tensor.values().subspan((p * v.height + y) * v.width, v.width),
                           std::span(image).subspan(grid.row_offset(p, y), v.width));

    TjHandle handle(tjInitCompress());
    if (!handle) return Error(std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr), ErrorCode::kInternal);
    Bytes out;
    ByteWriter w(&out);
    quantizer.write(w);
    const size_t header = out.size();
    unsigned long jpeg_size = tjBufSize(static_cast<int>(width), static_cast<int>(height), TJSAMP_GRAY);
    out.resize(header + jpeg_size);
    unsigned char* jpeg = out.data() + header;
    if (tjCompress2(handle.get(), image.data(), static_cast<int>(width), 0, static_cast<int>(height), TJPF_GRAY,
                    &jpeg, &jpeg_size, TJSAMP_GRAY, static_cast<int>(params()[0]), TJFLAG_NOREALLOC) != 0)
      return tj_error("JPEG compression failed", handle.get(), ErrorCode::kInternal);
    out.resize(header + jpeg_size);
    return out;
  }

  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    DISC_ASSIGN_OR_RETURN(TileGrid grid, tile_grid(shape));
    ByteReader r(payload);
    DISC_ASSIGN_OR_RETURN(ByteQuantizer quantizer, ByteQuantizer::read(r));
    DISC_ASSIGN_OR_RETURN(auto jpeg, r.bytes(r.remaining(), "JPEG image"));
    // libjpeg stops at the EOI marker and would ignore anything after it.
    if (jpeg.size() < 2 || jpeg[jpeg.size() - 2] != 0xff || jpeg[jpeg.size() - 1] != 0xd9)
      return Error("JPEG image does not end with its EOI marker");

    TjHandle handle(tjInitDecompress());
    if (!handle) return Error(std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr), ErrorCode::kInternal);
    // TurboJPEG catches libjpeg's fatal errors itself (setjmp inside each call) and reports
    // them as -1, so corrupt data cannot abort or longjmp out of here.
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(handle.get(), jpeg.data(), jpeg.size(), &width, &height, &subsampling, &colorspace) != 0)
      return tj_error("bad JPEG header", handle.get());
    if (static_cast<size_t>(width) != grid.image_width() || static_cast<size_t>(height) != grid.image_height())
      return Error("JPEG image is " + std::to_string(width) + "x" + std::to_string(height) + ", shape needs " +
                   std::to_string(grid.image_width()) + "x" + std::to_string(grid.image_height()));
    if (colorspace != TJCS_GRAY) return Error("JPEG image is not grayscale");

    // JPEG data has no length bound to check first, so the image is decoded before the output
    // is allocated: data that does not decode costs the pixel buffer (left uninitialized, its
    // pages untouched until written; a successful decompression writes every pixel) and
    // whatever libjpeg allocates itself (a progressive image's coefficients), not the output.
    const size_t pixels = grid.image_width() * grid.image_height();
    const std::unique_ptr<uint8_t[]> image(new uint8_t[pixels]);
    // Warnings (e.g. a truncated scan, which libjpeg would pad with gray) are errors too;
    // LIMITSCANS bounds the work a hostile progressive image can cause.
    if (tjDecompress2(handle.get(), jpeg.data(), jpeg.size(), image.get(), width, 0, height, TJPF_GRAY,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
      return tj_error("corrupt JPEG data", handle.get());
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    const PlaneView& v = grid.view;
    for (size_t p = 0; p < v.planes; ++p)
      for (size_t y = 0; y < v.height; ++y)
        quantizer.dequantize(std::span<const uint8_t>(image.get(), pixels).subspan(grid.row_offset(p, y), v.width),
                             t.values().subspan((p * v.height + y) * v.width, v.width));
    return t;
  }
};

}  // namespace

const CodecEntry kJpegCodec{jpeg_info, [](std::vector<float> p, const EncoderContext&) -> Result<std::unique_ptr<Codec>> {
                              return std::unique_ptr<Codec>(new JpegCodec(std::move(p)));
                            }};

}  // namespace disc
