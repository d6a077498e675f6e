#include "disc/npy.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

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
    EXPECT_FALSE(parse_npy(std::span(good).first(n)).ok()) << "prefix of " << n << " bytes";
}

TEST(Npy, MissingFileIsAnError) {
  auto t = read_npy("/nonexistent/feature.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace disc
