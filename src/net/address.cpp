#include "address.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

namespace disc::net {
namespace {

// strerror()'s text, thread-safe.
std::string system_message(int error) { return std::error_code(error, std::generic_category()).message(); }

}  // namespace

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

std::string listen_failure_reason(std::string_view address) {
  const size_t colon = address.rfind(':');
  std::string host(address.substr(0, colon));
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  const std::string port(address.substr(colon + 1));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return rc == EAI_SYSTEM ? system_message(errno) : gai_strerror(rc);
  std::string reason;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      if (reason.empty()) reason = system_message(errno);
      continue;
    }
    const int on = 1;  // as gRPC's listener: a port in TIME_WAIT is free
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const bool bound = bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    const int bind_errno = errno;
    close(fd);
    if (bound) {
      reason.clear();
      break;
    }
    if (reason.empty()) reason = system_message(bind_errno);
  }
  freeaddrinfo(found);
  return reason;
}

}  // namespace disc::net
