// Image preprocessing against hand-computed pixels, and the data set order.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model/test_assets.hpp"

namespace disc {
namespace {

// A lossless image of 2x2 blocks of constant colour; block (r, c) has
// B = 10 r + c, G = 100 + r, R = 200 - c. Returns its path.
std::string block_image(int rows, int cols) {
  cv::Mat image(rows, cols, CV_8UC3);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) {
      const int r = y / 2, c = x / 2;
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * r + c, 100 + r, 200 - c);
    }
  const std::string path =
      (std::filesystem::temp_directory_path() / ("disc_pre_" + std::to_string(rows) + "x" + std::to_string(cols) + ".png"))
          .string();
  EXPECT_TRUE(cv::imwrite(path, image));
  return path;
}

float at(const Tensor& t, int c, int y, int x) {
  const auto& s = t.shape();
  return t.data()[(c * s[2] + y) * s[3] + x];
}

Preprocessing make(Preprocessing::Color color, Preprocessing::Resize resize, int size, float crop) {
  Preprocessing pre;
  pre.color = color;
  pre.resize = resize;
  pre.height = pre.width = size;
  pre.crop = crop;
  pre.scale = 0.5f;
  pre.mean = {1, 2, 3};
  pre.std = {2, 4, 8};
  return pre;
}

TEST(Preprocess, DirectHalvingAveragesBlocksRgb) {
  // 16x16 -> 8x8: each output pixel is one 2x2 block (INTER_LINEAR at scale 1/2).
  const std::string path = block_image(16, 16);
  auto t = load_image(path, make(Preprocessing::Color::kRgb, Preprocessing::Resize::kDirect, 8, 1));
  ASSERT_TRUE(t.ok()) << t.error().message();
  ASSERT_EQ(t->shape(), (Shape{1, 3, 8, 8}));
  const int r = 3, c = 5;  // output (3, 5) = block (3, 5)
  EXPECT_FLOAT_EQ(at(*t, 0, r, c), ((200 - c) * 0.5f - 1) / 2);  // R first
  EXPECT_FLOAT_EQ(at(*t, 1, r, c), ((100 + r) * 0.5f - 2) / 4);
  EXPECT_FLOAT_EQ(at(*t, 2, r, c), ((10 * r + c) * 0.5f - 3) / 8);
}

TEST(Preprocess, DirectBgrKeepsOpenCvOrder) {
  const std::string path = block_image(16, 16);
  auto t = load_image(path, make(Preprocessing::Color::kBgr, Preprocessing::Resize::kDirect, 8, 1));
  ASSERT_TRUE(t.ok());
  EXPECT_FLOAT_EQ(at(*t, 0, 2, 1), ((10 * 2 + 1) * 0.5f - 1) / 2);  // B first
  EXPECT_FLOAT_EQ(at(*t, 2, 2, 1), ((200 - 1) * 0.5f - 3) / 8);
}

TEST(Preprocess, CenterScalesShorterSideThenCrops) {
  // 16x24, size 4, crop 0.5: shorter side 16 -> round(4 / 0.5) = 8, so 8x12 (blocks become
  // pixels), then the central 4x4 starts at row (8-4)/2 = 2, column (12-4)/2 = 4.
  const std::string path = block_image(16, 24);
  for (auto color : {Preprocessing::Color::kRgb, Preprocessing::Color::kBgr}) {
    auto t = load_image(path, make(color, Preprocessing::Resize::kCenter, 4, 0.5f));
    ASSERT_TRUE(t.ok()) << t.error().message();
    const int r = 2 + 1, c = 4 + 3;  // output (1, 3)
    const float blue = ((10 * r + c) * 0.5f), red = ((200 - c) * 0.5f);
    const bool rgb = color == Preprocessing::Color::kRgb;
    EXPECT_FLOAT_EQ(at(*t, 0, 1, 3), ((rgb ? red : blue) - 1) / 2);
    EXPECT_FLOAT_EQ(at(*t, 1, 1, 3), ((100 + r) * 0.5f - 2) / 4);
    EXPECT_FLOAT_EQ(at(*t, 2, 1, 3), ((rgb ? blue : red) - 3) / 8);
  }
}

TEST(Preprocess, CenterCropRefusesExtremeAspectRatiosBeforeResizing) {
  // 2 x 8000 pixels would be resized to 256 x 1,024,000 (786 MB) before the crop.
  const Preprocessing pre = make(Preprocessing::Color::kRgb, Preprocessing::Resize::kCenter, 224, 0.875f);
  auto t = load_image(block_image(2, 8000), pre);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("aspect ratio"), std::string::npos) << t.error().message();
  EXPECT_TRUE(load_image(block_image(300, 400), pre).ok());
}

TEST(Preprocess, RejectsUndecodableImages) {
  const uint8_t junk[] = {1, 2, 3, 4, 5};
  Preprocessing pre = make(Preprocessing::Color::kRgb, Preprocessing::Resize::kDirect, 4, 1);
  EXPECT_EQ(decode_image(junk, sizeof junk, pre).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(check_upload_image(junk, sizeof junk).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(load_image("/nonexistent.png", pre).error().code(), ErrorCode::kNotFound);
  pre.height = 0;
  EXPECT_EQ(load_image(block_image(4, 4), pre).error().code(), ErrorCode::kInvalidArgument);
}

// Decompression bombs are refused from their headers, before a pixel is allocated; a server
// takes only the formats whose header it checks.
TEST(Preprocess, RefusesImagesWhoseHeaderClaimsTooMuch) {
  const Preprocessing pre = make(Preprocessing::Color::kRgb, Preprocessing::Resize::kDirect, 8, 1);
  const auto refusal = [&](const Bytes& image) {
    auto t = decode_image(image.data(), image.size(), pre);
    if (t.ok()) return std::string("(decoded)");
    EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument) << t.error().message();
    EXPECT_EQ(check_upload_image(image.data(), image.size()).error().message(), t.error().message());
    return t.error().message();
  };
  // SOI, a baseline frame header of 32000 x 32000 with one component, a scan header, EOI.
  const Bytes jpeg = {0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0x7d, 0x00, 0x7d, 0x00, 1, 1, 0x11, 0,
                      0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, 0xff, 0xd9};
  EXPECT_EQ(refusal(jpeg), "JPEG of 32000x32000 pixels: more than the 67108864 taken");
  // The PNG signature and an IHDR chunk of 40000 x 40000.
  const Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                     0, 0, 0x9c, 0x40, 0, 0, 0x9c, 0x40, 8, 2, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(refusal(png), "PNG of 40000x40000 pixels: more than the 67108864 taken");
  Bytes widest = png;  // sides of 2^32 - 1, whose product overflows 64 bits
  std::fill(widest.begin() + 16, widest.begin() + 24, uint8_t{0xff});
  EXPECT_EQ(refusal(widest), "PNG of 4294967295x4294967295 pixels: more than the 67108864 taken");

  // A progressive JPEG of 8 x 8 with 501 scans (a scan header and one byte of data each).
  Bytes scans = {0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0};
  for (int i = 0; i < 501; ++i) scans.insert(scans.end(), {0xff, 0xda, 0, 8, 1, 1, 0, 0, 0, 0, 0x00});
  scans.insert(scans.end(), {0xff, 0xd9});
  EXPECT_EQ(refusal(scans), "JPEG of 501 scans: more than the 500 taken");
  // 17 scans of 8192 x 8192: within each limit alone, but 17 decoding passes over 64 MP.
  Bytes large = {0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0x20, 0x00, 0x20, 0x00, 1, 1, 0x11, 0};
  for (int i = 0; i < 17; ++i) large.insert(large.end(), {0xff, 0xda, 0, 8, 1, 1, 0, 0, 0, 0, 0x00});
  large.insert(large.end(), {0xff, 0xd9});
  EXPECT_EQ(refusal(large), "JPEG of 8192x8192 pixels in 17 scans: more than the 1073741824 pixels times scans taken");

  // A real progressive JPEG (OpenCV writes about ten scans) and a PNG pass; a BMP decodes
  // locally but is no upload.
  cv::Mat image(64, 48, CV_8UC3, cv::Scalar(20, 140, 230));
  for (const auto& [extension, params] : std::vector<std::pair<std::string, std::vector<int>>>{
           {".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}}, {".png", {}}, {".bmp", {}}}) {
    std::vector<uint8_t> encoded;
    ASSERT_TRUE(cv::imencode(extension, image, encoded, params));
    EXPECT_TRUE(decode_image(encoded.data(), encoded.size(), pre).ok()) << extension;
    const Status upload = check_upload_image(encoded.data(), encoded.size());
    if (extension == ".bmp") {
      ASSERT_FALSE(upload.ok());
      EXPECT_EQ(upload.error().message(), "only JPEG and PNG images are taken (their size is checked before decoding)");
    } else {
      EXPECT_TRUE(upload.ok()) << extension << ": " << upload.error().message();
    }
  }
}

// libjpeg pads a truncated scan with grey and only warns; OpenCV would return that image.
TEST(Preprocess, RejectsTruncatedJpegsNamingTheFile) {
  auto bytes = read_file(testing::assets_dir() + "/data/imagenet-val1300/images/ILSVRC2012_val_00000347.JPEG");
  ASSERT_TRUE(bytes.ok());
  const Preprocessing pre = make(Preprocessing::Color::kRgb, Preprocessing::Resize::kDirect, 8, 1);
  const std::string path = (std::filesystem::temp_directory_path() / "disc_pre_truncated.jpg").string();
  ASSERT_TRUE(write_file(path, *bytes).ok());
  EXPECT_TRUE(load_image(path, pre).ok());
  // Half the scan data, and everything but the EOI marker.
  for (size_t keep : {bytes->size() / 2, bytes->size() - 2}) {
    ASSERT_TRUE(write_file(path, Bytes(bytes->begin(), bytes->begin() + keep)).ok());
    auto t = load_image(path, pre);
    ASSERT_FALSE(t.ok()) << keep;
    EXPECT_EQ(t.error().message().rfind(path + ": corrupt JPEG: Premature end of JPEG file", 0), 0u)
        << t.error().message();
  }
}

// libjpeg warns about these too, but every pixel is there: files like them are common.
TEST(Preprocess, AcceptsJpegsWhoseWarningsLoseNoPixels) {
  auto bytes = read_file(testing::assets_dir() + "/data/imagenet-val1300/images/ILSVRC2012_val_00000347.JPEG");
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(std::string(bytes->begin() + 6, bytes->begin() + 11), std::string("JFIF\0", 5));
  const Preprocessing pre = make(Preprocessing::Color::kRgb, Preprocessing::Resize::kDirect, 8, 1);
  auto original = decode_image(bytes->data(), bytes->size(), pre);
  ASSERT_TRUE(original.ok()) << original.error().message();

  Bytes stray = *bytes;  // 200 stray bytes before the end-of-image marker
  stray.insert(stray.end() - 2, 200, uint8_t{0x55});
  Bytes revision = *bytes;  // JFIF 2.01: "unknown JFIF revision number"
  revision[11] = 2;
  for (const Bytes& variant : {stray, revision}) {
    auto t = decode_image(variant.data(), variant.size(), pre);
    ASSERT_TRUE(t.ok()) << t.error().message();
    EXPECT_EQ(t->values().size(), original->values().size());
  }
}

TEST(Datasets, CifarIsRoundRobinAndImagenetFollowsLabels) {
  auto catalog = AssetCatalog::load(testing::assets_dir());
  ASSERT_TRUE(catalog.ok());
  auto cifar = catalog->load_dataset("cifar10-test");
  ASSERT_TRUE(cifar.ok());
  ASSERT_EQ(cifar->class_names.size(), 10u);
  EXPECT_EQ(cifar->class_names[0], "airplane");
  EXPECT_EQ(cifar->class_names[9], "truck");
  for (size_t i = 0; i < 30; ++i) EXPECT_EQ(cifar->images[i].label, static_cast<int>(i % 10));
  EXPECT_NE(cifar->images[3].path.find("cat/"), std::string::npos);
  auto imagenet = catalog->load_dataset("imagenet-val1300");
  ASSERT_TRUE(imagenet.ok());
  ASSERT_EQ(imagenet->class_names.size(), 1000u);
  EXPECT_EQ(imagenet->class_names[0].rfind("tench", 0), 0u);
  EXPECT_FALSE(catalog->load_dataset("../models").ok());
  EXPECT_FALSE(catalog->find_model("nope").ok());
}

}  // namespace
}  // namespace disc
