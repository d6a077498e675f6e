// TLS material read from files. gRPC takes any bytes and fails later with a log line and an
// unrelated message ("cannot listen", "empty address list"); the runtime refuses a file that
// holds no PEM block up front, naming it.
#pragma once

#include <string>
#include <string_view>

#include "disc/status.hpp"

namespace disc::net {

// The file's contents if it holds a PEM block ("-----BEGIN <label>"); `what` names the file's
// role in the error ("TLS certificate", ...).
Result<std::string> read_pem_file(const std::string& path, std::string_view what);

}  // namespace disc::net
