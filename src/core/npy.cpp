#include "disc/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "core/error_codes.hpp"

namespace disc {
namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// Closes the descriptor it owns (if any) when it goes out of scope.
struct FileDescriptor {
  int fd;
  explicit FileDescriptor(int descriptor) : fd(descriptor) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// The header is a Python dict literal; we accept exactly the keys numpy writes.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view s) : s_(s) {}

  Status parse(std::string* descr, bool* fortran, Shape* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    if (!eat('{')) return fail("expected '{'");
    while (true) {
      skip_ws();
      if (eat('}')) break;
      std::string key;
      DISC_RETURN_IF_ERROR(parse_string(&key));
      skip_ws();
      if (!eat(':')) return fail("expected ':' after key");
      skip_ws();
      if (key == "descr") {
        DISC_RETURN_IF_ERROR(parse_string(descr));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (s_.substr(pos_, 4) == "True") { *fortran = true; pos_ += 4; }
        else if (s_.substr(pos_, 5) == "False") { *fortran = false; pos_ += 5; }
        else return fail("fortran_order must be True or False");
        have_fortran = true;
      } else if (key == "shape") {
        DISC_RETURN_IF_ERROR(parse_shape(shape));
        have_shape = true;
      } else {
        return fail("unexpected key '" + key + "'");
      }
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat('}')) break;
      return fail("expected ',' or '}'");
    }
    if (!have_descr || !have_fortran || !have_shape)
      return fail("header lacks one of 'descr', 'fortran_order', 'shape'");
    return Status();
  }

 private:
  Status fail(const std::string& what) const {
    return Error("npy header: " + what + " at offset " + std::to_string(pos_));
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) { ++pos_; return true; }
    return false;
  }
  Status parse_string(std::string* out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return fail("expected a string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) return fail("unterminated string");
    *out = std::string(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return Status();
  }
  Status parse_shape(Shape* shape) {
    shape->clear();
    if (!eat('(')) return fail("expected '(' for shape");
    while (true) {
      skip_ws();
      if (eat(')')) return Status();
      if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_])))
        return fail("expected a dimension");
      int64_t v = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        if (v > (int64_t{1} << 40)) return fail("dimension too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      if (shape->size() >= kMaxRank) return fail("more than " + std::to_string(kMaxRank) + " dimensions");
      shape->push_back(v);
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat(')')) return Status();
      return fail("expected ',' or ')' in shape");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// parse_npy before its errors are classified.
Result<Tensor> decode_npy(std::span<const uint8_t> bytes) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    return Error("not a .npy file (bad magic)");
  const uint8_t major = bytes[6];
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = bytes[8] | (size_t{bytes[9]} << 8);
    offset = 10;
  } else if (major == 2) {
    if (bytes.size() < 12) return Error("truncated .npy header");
    header_len = bytes[8] | (size_t{bytes[9]} << 8) | (size_t{bytes[10]} << 16) | (size_t{bytes[11]} << 24);
    offset = 12;
  } else {
    return Error("unsupported .npy format version " + std::to_string(major) + "." +
                 std::to_string(bytes[7]) + " (1.0 and 2.0 are supported)");
  }
  if (header_len > bytes.size() - offset) return Error("truncated .npy header");
  std::string_view header(reinterpret_cast<const char*>(bytes.data() + offset), header_len);
  std::string descr;
  bool fortran = false;
  Shape shape;
  DISC_RETURN_IF_ERROR(HeaderParser(header).parse(&descr, &fortran, &shape));
  if (descr != "<f4")
    return Error("unsupported .npy dtype '" + descr + "' (only little-endian float32 '<f4')");
  if (fortran) return Error("Fortran-order .npy arrays are not supported (save with C order)");
  if (shape.empty()) return Error(".npy holds a 0-d scalar; a tensor needs at least one dimension");
  // The decoders' limit: a larger tensor could not be read from a file read_file accepts.
  DISC_ASSIGN_OR_RETURN(size_t n, element_count(shape, kDefaultMaxElements));
  const size_t data_offset = offset + header_len;
  const size_t available = bytes.size() - data_offset;
  if (available / sizeof(float) < n)
    return Error(".npy data is truncated: shape " + shape_to_string(shape) + " needs " +
                 std::to_string(n * sizeof(float)) + " bytes, file has " + std::to_string(available));
  if (available != n * sizeof(float))
    return Error(".npy has " + std::to_string(available - n * sizeof(float)) + " trailing bytes");
  std::vector<float> data(n);
  std::memcpy(data.data(), bytes.data() + data_offset, n * sizeof(float));  // host is little-endian
  return Tensor(std::move(shape), std::move(data));
}

}  // namespace

Result<Tensor> parse_npy(std::span<const uint8_t> bytes) {
  return classified(decode_npy(bytes), ErrorCode::kInvalidArgument);
}

std::vector<uint8_t> serialize_npy(const Tensor& tensor) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape().size(); ++i) {
    dict += std::to_string(tensor.shape()[i]);
    dict += (tensor.shape().size() == 1 || i + 1 < tensor.shape().size()) ? "," : "";
    if (i + 1 < tensor.shape().size()) dict += ' ';
  }
  dict += "), }";
  // Pad with spaces so that magic + version + length + header is a multiple of 64, ending in '\n'.
  const bool v2 = dict.size() + 11 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::vector<uint8_t> out(kMagic, kMagic + 6);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  const size_t len = dict.size();
  out.push_back(len & 0xff);
  out.push_back((len >> 8) & 0xff);
  if (v2) {
    out.push_back((len >> 16) & 0xff);
    out.push_back((len >> 24) & 0xff);
  }
  out.insert(out.end(), dict.begin(), dict.end());
  const auto* p = reinterpret_cast<const uint8_t*>(tensor.data());
  out.insert(out.end(), p, p + tensor.bytes());
  return out;
}

Result<std::vector<uint8_t>> read_file(const std::string& path, size_t max_bytes) {
  const auto failure = [&path](const char* what) { return system_call_error(what, path, errno); };
  const auto too_large = [&path, max_bytes] {
    return Error("cannot read '" + path + "': larger than the limit of " + std::to_string(max_bytes) + " bytes",
                 ErrorCode::kResourceExhausted);
  };
  // Like any reader, open() of a fifo waits for its writer (one that opens later is no error).
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return failure("cannot open");
  struct stat status {};
  if (::fstat(file.fd, &status) != 0) return failure("cannot read");
  const bool regular = S_ISREG(status.st_mode);
  if (regular && static_cast<uint64_t>(status.st_size) > max_bytes) return too_large();
  // Whatever the size says (a file may grow; devices and fifos have none), read until EOF or
  // until one byte past the limit. The capacity is reserved once (the file's size, or the
  // limit), so the buffer never moves: memory holds what was read, where growing by copies
  // would hold up to twice that (untouched pages of the reservation cost nothing).
  // Invariant at the loop's top: size <= max_bytes and size <= bytes.size() <= limit.
  const size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  constexpr size_t kReadBytes = size_t{1} << 20;
  std::vector<uint8_t> bytes;
  try {
    bytes.reserve(regular ? static_cast<size_t>(status.st_size) + 1 : limit);
  } catch (const std::bad_alloc&) {
    return Error("cannot read '" + path + "': out of memory", ErrorCode::kResourceExhausted);
  }
  size_t size = 0;
  while (true) {
    if (size == bytes.size()) bytes.resize(std::min(limit, size + kReadBytes));
    const ssize_t n = ::read(file.fd, bytes.data() + size, bytes.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failure("cannot read");
    if (n == 0) break;
    size += static_cast<size_t>(n);
    if (size > max_bytes) return too_large();
  }
  bytes.resize(size);
  return bytes;
}

Status write_file(const std::string& path, std::span<const uint8_t> bytes) {
  const auto failure = [&path](const char* what) { return system_call_error(what, path, errno); };
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (!out) return failure("cannot create");
  // fwrite's buffer must not be null, which an empty span's data() may be.
  const bool written = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
  const int write_errno = errno;
  // A full disk may show only when the buffer is flushed, at close.
  if (std::fclose(out) != 0 || !written) {
    if (!written) errno = write_errno;
    return failure("cannot write");
  }
  return Status();
}

Result<Tensor> read_npy(const std::string& path) {
  DISC_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  auto t = parse_npy(bytes);
  if (!t.ok()) return t.error().with_context(path);
  return t;
}

Status write_npy(const std::string& path, const Tensor& tensor) {
  if (Status s = tensor.check(); !s.ok()) return s.error().with_context(path);
  return write_file(path, serialize_npy(tensor));
}

}  // namespace disc
