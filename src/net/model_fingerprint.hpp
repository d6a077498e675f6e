// The SHA-256 of a model entry's file (model_file_sha256, disc/edge_client.hpp), by which edge
// and server tell whether they hold the same model.
#pragma once

#include <string>

#include "disc/assets.hpp"
#include "disc/status.hpp"

namespace disc::net {

// The SHA-256 of `entry.path`; an Error if models.json gave the entry another one.
Result<std::string> entry_file_sha256(const ModelEntry& entry);

}  // namespace disc::net
