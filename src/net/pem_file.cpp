#include "pem_file.hpp"

#include "disc/npy.hpp"

namespace disc::net {

Result<std::string> read_pem_file(const std::string& path, std::string_view what) {
  DISC_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  std::string text(bytes.begin(), bytes.end());
  if (text.find("-----BEGIN ") == std::string::npos)
    return Error(std::string(what) + " '" + path + "' holds no PEM block (-----BEGIN ...)");
  return text;
}

}  // namespace disc::net
