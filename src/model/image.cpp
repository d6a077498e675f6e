// Image decoding and preprocessing into a 1x3xHxW fp32 tensor.
#include <climits>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error_codes.hpp"
#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model/image_header.hpp"
#include "model/jpeg_integrity.hpp"

namespace disc {
namespace {

// Upper bound on the intermediate image of a center crop (2^26 pixels = 192 MiB of BGR).
constexpr double kMaxResizedPixels = double{1 << 26};

// `bgr` resized (and for kCenter cropped) to pre.height x pre.width.
Result<cv::Mat> resize(const cv::Mat& bgr, const Preprocessing& pre) {
  cv::Mat resized;
  if (pre.resize == Preprocessing::Resize::kDirect) {
    cv::resize(bgr, resized, cv::Size(pre.width, pre.height), 0, 0, cv::INTER_LINEAR);
    return resized;
  }
  const int shorter = std::min(bgr.rows, bgr.cols);
  const double target = std::round(pre.height / static_cast<double>(pre.crop));
  const double scaled_rows = bgr.rows == shorter ? target : std::round(bgr.rows * target / shorter);
  const double scaled_cols = bgr.cols == shorter ? target : std::round(bgr.cols * target / shorter);
  // A tiny file of extreme aspect ratio must not make the resize allocate gigabytes.
  if (scaled_rows * scaled_cols > kMaxResizedPixels)
    return Error("image aspect ratio " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                 " is too extreme for a center crop");
  const int rows = static_cast<int>(scaled_rows), cols = static_cast<int>(scaled_cols);
  if (rows < pre.height || cols < pre.width)
    return Error("center crop " + std::to_string(pre.height) + "x" + std::to_string(pre.width) +
                 " does not fit the resized image " + std::to_string(rows) + "x" + std::to_string(cols));
  cv::resize(bgr, resized, cv::Size(cols, rows), 0, 0, cv::INTER_LINEAR);
  return resized(cv::Rect((cols - pre.width) / 2, (rows - pre.height) / 2, pre.width, pre.height)).clone();
}

Result<Tensor> preprocess(const cv::Mat& bgr, const Preprocessing& pre) {
  DISC_RETURN_IF_ERROR(validate(pre));
  DISC_ASSIGN_OR_RETURN(cv::Mat image, resize(bgr, pre));
  Tensor tensor({1, 3, pre.height, pre.width});
  const size_t plane = static_cast<size_t>(pre.height) * pre.width;
  for (int c = 0; c < 3; ++c) {
    const int source = pre.color == Preprocessing::Color::kRgb ? 2 - c : c;  // cv::Mat is BGR
    float* out = tensor.data() + c * plane;
    for (int y = 0; y < pre.height; ++y) {
      const cv::Vec3b* row = image.ptr<cv::Vec3b>(y);
      for (int x = 0; x < pre.width; ++x)
        *out++ = (row[x][source] * pre.scale - pre.mean[c]) / pre.std[c];
    }
  }
  return tensor;
}

// A JPEG's or PNG's claimed size and scans against kMaxImagePixels, kMaxJpegScans and
// kMaxJpegScanPixels.
Status check_header_limits(const ImageHeader& header) {
  const char* format = header.format == ImageHeader::Format::kJpeg ? "JPEG" : "PNG";
  // A PNG's sides go to 2^32 - 1: bounded first, their product cannot overflow.
  const bool sides_fit = header.width <= kMaxImagePixels && header.height <= kMaxImagePixels;
  const int64_t pixels = sides_fit ? header.width * header.height : kMaxImagePixels + 1;
  if (pixels > kMaxImagePixels)
    return Error(std::string(format) + " of " + std::to_string(header.width) + "x" + std::to_string(header.height) +
                     " pixels: more than the " + std::to_string(kMaxImagePixels) + " taken",
                 ErrorCode::kInvalidArgument);
  if (header.scans > kMaxJpegScans)
    return Error("JPEG of " + std::to_string(header.scans) + " scans: more than the " +
                     std::to_string(kMaxJpegScans) + " taken",
                 ErrorCode::kInvalidArgument);
  if (pixels * header.scans > kMaxJpegScanPixels)
    return Error("JPEG of " + std::to_string(header.width) + "x" + std::to_string(header.height) + " pixels in " +
                     std::to_string(header.scans) + " scans: more than the " + std::to_string(kMaxJpegScanPixels) +
                     " pixels times scans taken",
                 ErrorCode::kInvalidArgument);
  return Status();
}

// decode_image before its errors are classified.
Result<Tensor> decode_and_preprocess(const uint8_t* data, size_t size, const Preprocessing& pre) {
  if (size == 0 || size > static_cast<size_t>(INT_MAX)) return Error("image is empty or too large");
  DISC_ASSIGN_OR_RETURN(const ImageHeader header, read_image_header(data, size));
  DISC_RETURN_IF_ERROR(check_header_limits(header));
  cv::Mat bgr;
  try {
    const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<uint8_t*>(data));
    bgr = cv::imdecode(encoded, cv::IMREAD_COLOR);
    if (bgr.empty()) return Error("cannot decode image (unsupported or corrupt)");
    DISC_RETURN_IF_ERROR(check_jpeg_integrity(data, size));
    return preprocess(bgr, pre);
  } catch (const cv::Exception& e) {
    return Error("cannot decode image: " + e.err);
  }
}

}  // namespace

Status check_upload_image(const uint8_t* data, size_t size) {
  DISC_ASSIGN_OR_RETURN(const ImageHeader header,
                        classified(read_image_header(data, size), ErrorCode::kInvalidArgument));
  if (header.format == ImageHeader::Format::kOther)
    return Error("only JPEG and PNG images are taken (their size is checked before decoding)",
                 ErrorCode::kInvalidArgument);
  return check_header_limits(header);
}

Result<Tensor> decode_image(const uint8_t* data, size_t size, const Preprocessing& pre) {
  return classified(decode_and_preprocess(data, size, pre), ErrorCode::kInvalidArgument);
}

Result<Tensor> load_image(const std::string& path, const Preprocessing& pre) {
  DISC_ASSIGN_OR_RETURN(Bytes bytes, read_file(path));
  auto tensor = decode_image(bytes.data(), bytes.size(), pre);
  if (!tensor.ok()) return tensor.error().with_context(path);
  return tensor;
}

}  // namespace disc
