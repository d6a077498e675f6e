#include "disc/npy.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace disc {
namespace {

std::vector<uint8_t> make_npy(const std::string& dict, size_t data_bytes, uint8_t major = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  std::string header = dict + "\n";
  if (major == 1) {
    out.push_back(header.size() & 0xff);
    out.push_back(header.size() >> 8);
  } else {
    for (int i = 0; i < 4; ++i) out.push_back((header.size() >> (8 * i)) & 0xff);
  }
  out.insert(out.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

TEST(Npy, RoundTripPreservesShapeAndBits) {
  Tensor t({1, 3, 5, 7});
  for (size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i) * -0.37f;
  auto back = parse_npy(serialize_npy(t));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->shape(), t.shape());
  EXPECT_EQ(0, std::memcmp(back->data(), t.data(), t.bytes()));
}

TEST(Npy, HeaderIsPaddedTo64Bytes) {
  auto bytes = serialize_npy(Tensor({2, 2}));
  const size_t header_len = bytes[8] | (bytes[9] << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes[10 + header_len - 1], '\n');
}

TEST(Npy, OneDimensionalShapeUsesTupleComma) {
  auto bytes = serialize_npy(Tensor({5}));
  std::string s(bytes.begin(), bytes.begin() + 64);
  EXPECT_NE(s.find("(5,)"), std::string::npos);
  auto back = parse_npy(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape(), Shape{5});
}

TEST(Npy, ReadsVersion2Headers) {
  auto bytes = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24, 2);
  auto t = parse_npy(bytes);
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->shape(), (Shape{2, 3}));
}

struct BadCase {
  std::string dict;
  size_t data_bytes;
  std::string expected_fragment;
};

TEST(Npy, RejectsWhatItCannotRepresent) {
  const BadCase cases[] = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, "dtype '<f8'"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "dtype '>f4'"},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8, "dtype"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "0-d"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }", 0, "not positive"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 12, "truncated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12, "trailing"},
      {"{'descr': '<f4', 'shape': (2,), }", 8, "lacks"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8, "unexpected key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2", 8, "expected"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8, "too large"},
  };
  for (const BadCase& c : cases) {
    auto t = parse_npy(make_npy(c.dict, c.data_bytes));
    ASSERT_FALSE(t.ok()) << c.dict;
    EXPECT_NE(t.error().message().find(c.expected_fragment), std::string::npos)
        << c.dict << " -> " << t.error().message();
    EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument) << c.dict;
  }
}

TEST(Npy, RejectsBadMagicVersionAndTruncatedHeader) {
  std::vector<uint8_t> not_npy = {'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(parse_npy(not_npy).ok());
  auto v3 = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4, 3);
  auto r = parse_npy(v3);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("version 3.0"), std::string::npos);
  auto good = serialize_npy(Tensor({4}));
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(parse_npy(std::span(good).first(n)).error().code(), ErrorCode::kInvalidArgument)
        << "prefix of " << n << " bytes";
  EXPECT_EQ(parse_npy(not_npy).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Npy, MissingFileIsAnError) {
  auto t = read_npy("/nonexistent/feature.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message(), "cannot open '/nonexistent/feature.npy': No such file or directory");
  EXPECT_EQ(t.error().code(), ErrorCode::kNotFound);
  const Status unwritable = write_file("/nonexistent/feature.npy", {});
  ASSERT_FALSE(unwritable.ok());
  EXPECT_EQ(unwritable.error().code(), ErrorCode::kNotFound) << unwritable.error().message();
}

// ---- read_file: errors name the path; reading is bounded (bad-input audit) ----

TEST(ReadFile, ADirectoryIsAnErrorNamingIt) {
  const std::string dir = ::testing::TempDir();
  auto bytes = read_file(dir);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().message(), "cannot read '" + dir + "': Is a directory");
  auto t = read_npy(dir);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("'" + dir + "'"), std::string::npos) << t.error().message();
}

TEST(ReadFile, ReadsUpToTheLimitAndRefusesMore) {
  const std::string path = ::testing::TempDir() + "/disc_read_file_limit";
  const std::vector<uint8_t> content(1000, 7);
  ASSERT_TRUE(write_file(path, content).ok());
  EXPECT_EQ(read_file(path).value(), content);
  EXPECT_EQ(read_file(path, 1000).value(), content);
  auto over = read_file(path, 999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message(), "cannot read '" + path + "': larger than the limit of 999 bytes");
  EXPECT_EQ(over.error().code(), ErrorCode::kResourceExhausted);
  ASSERT_TRUE(write_file(path, {}).ok());
  EXPECT_TRUE(read_file(path, 0).value().empty());
  std::remove(path.c_str());
}

TEST(ReadFile, EndlessInputsStopAtTheLimit) {
  // A device without end: refused after limit + 1 bytes instead of filling memory.
  auto zeros = read_file("/dev/zero", 1 << 20);
  ASSERT_FALSE(zeros.ok());
  EXPECT_EQ(zeros.error().message(), "cannot read '/dev/zero': larger than the limit of 1048576 bytes");
  // (tests/codec/cli_test.cpp: `disc inspect /dev/zero` at the default limit.)

  // A fifo: no size to check up front; its writer is cut off at the limit (EPIPE, not SIGPIPE).
  signal(SIGPIPE, SIG_IGN);
  const std::string fifo = ::testing::TempDir() + "/disc_read_file_fifo";
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&fifo] {
    const int fd = open(fifo.c_str(), O_WRONLY);
    const std::vector<char> chunk(4096, 'x');
    for (int i = 0; i < 64; ++i)
      if (write(fd, chunk.data(), chunk.size()) < 0) break;  // EPIPE once the reader is gone
    close(fd);
  });
  auto piped = read_file(fifo, 10000);
  writer.join();
  ASSERT_FALSE(piped.ok());
  EXPECT_EQ(piped.error().message(), "cannot read '" + fifo + "': larger than the limit of 10000 bytes");
  std::remove(fifo.c_str());
}

}  // namespace
}  // namespace disc
