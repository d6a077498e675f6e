#include "address.hpp"

#include <algorithm>
#include <string>

namespace disc::net {

Status check_host_port(std::string_view address, PortZero port_zero) {
  const std::string quoted = std::string(1, '\'').append(address).append(1, '\'');
  if (address.find("://") != std::string_view::npos || address.starts_with("unix:"))
    return Error("address " + quoted + ": give host:port (gRPC URIs such as dns:/// or unix: are not taken)");
  const bool bracketed = address.starts_with('[');
  const size_t host_end = bracketed ? address.find(']') : address.rfind(':');
  if (bracketed && host_end == std::string_view::npos) return Error("address " + quoted + " has no closing ']'");
  const std::string_view host = address.substr(0, bracketed ? host_end + 1 : host_end);
  if (host.empty() || host == "[]") return Error("address " + quoted + " has no host");
  if (!bracketed && host.find_first_of(":[]") != std::string_view::npos)
    return Error("address " + quoted + ": write an IPv6 host in brackets, as [::1]:50051");
  if (host.size() == address.size() || address[host.size()] != ':')
    return Error("address " + quoted + " has no port (host:port, port 1..65535)");
  const std::string_view port = address.substr(host.size() + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos)
    return Error("address " + quoted + ": port '" + std::string(port) + "' is not a number");
  const int lowest = port_zero == PortZero::allowed ? 0 : 1;
  const std::string digits(port.substr(std::min(port.find_first_not_of('0'), port.size() - 1)));  // "0080" -> "80"
  const int number = digits.size() > 5 ? 65536 : std::stoi(digits);
  if (number < lowest || number > 65535)
    return Error("address " + quoted + ": port must be in " + std::to_string(lowest) + "..65535");
  return {};
}

}  // namespace disc::net
