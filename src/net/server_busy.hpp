// How the server marks a refusal for load (doc/FORMAT.md "gRPC service"): status UNAVAILABLE
// with this trailing metadata key. UNAVAILABLE tells callers the condition is transient (AGLOP
// answers on the edge meanwhile); the key tells EdgeClient not to retry at once, since the
// refused request had already crossed the link whole and re-sending it would load the server
// again.
#pragma once

namespace disc::net {

inline constexpr char kServerBusyTrailer[] = "disc-server-busy";

}  // namespace disc::net
