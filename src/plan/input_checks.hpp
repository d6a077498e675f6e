// Internal: what a Profile and a RateTable must satisfy before the planner uses them,
// checked on the structs (parse_profile and parse_rate_table check the same of JSON, naming
// the JSON fields; these name cuts and rows, for inputs built in memory).
#pragma once

#include "disc/plan.hpp"

namespace disc::plan_internal {

// Valid input shape and byte count, upload > 0, full_ms >= 0; every cut with a non-empty,
// unique tensor name, a valid shape whose element and byte counts it states, head and tail
// times >= 0; cuts sorted by position; every number finite.
Status check_profile(const Profile& profile, const std::string& what);

// Every row with a cut, a codec this build can encode, bytes > 0, a finite loss, times >= 0 (all finite), and no (cut, setting) twice,
// however the setting is spelled.
Status check_rate_table(const RateTable& table);

}  // namespace disc::plan_internal
