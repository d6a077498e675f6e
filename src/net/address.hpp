// The address forms the runtime accepts. gRPC itself accepts more (URIs, a missing port that
// defaults to 443) and reads a port modulo 2^16, so 127.0.0.1:99999 would quietly become
// :34463; both sides check an address here first.
#pragma once

#include <string>
#include <string_view>

#include "disc/status.hpp"

namespace disc::net {

enum class PortZero { refused, allowed };

// OK for "host:port": a non-empty host (a name, an IPv4 address or a bracketed IPv6 one) and a
// decimal port in 1..65535, or 0 where `port_zero` allows it (the system picks a free port).
Status check_host_port(std::string_view address, PortZero port_zero);

// Why a server cannot listen on `address` (checked by check_host_port): the resolver's or
// bind()'s own words ("Address already in use", "Name or service not known"), from binding a
// probe socket to each address the host resolves to, as gRPC does. Empty when a probe binds,
// i.e. the reason is elsewhere or has passed.
std::string listen_failure_reason(std::string_view address);

}  // namespace disc::net
