#include "address.hpp"

#include <string>

namespace disc::net {

Status check_host_port(std::string_view address, PortZero port_zero) {
  const std::string quoted = std::string(1, '\'').append(address).append(1, '\'');
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return Error("address " + quoted + " is not host:port");
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.empty()) return Error("address " + quoted + " has no host");
  const bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
  if (!bracketed && host.find_first_of(":[]") != std::string_view::npos)
    return Error("address " + quoted + ": write an IPv6 host in brackets, as [::1]:50051");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
    return Error("address " + quoted + " has no port number (host:port, port 1..65535)");
  const int number = std::stoi(std::string(port));
  const int lowest = port_zero == PortZero::allowed ? 0 : 1;
  if (number < lowest || number > 65535)
    return Error("address " + quoted + ": port must be in " + std::to_string(lowest) + "..65535");
  return {};
}

}  // namespace disc::net
