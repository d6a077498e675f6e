// Internal: report.json of an evaluation (doc/PLANNER.md, "Rate–accuracy table"), which
// write_eval_report writes and to_rate_table parses.
#pragma once

#include <nlohmann/json.hpp>

#include "disc/eval.hpp"

namespace disc {

nlohmann::json report_json(const EvalReport& report);

}  // namespace disc
