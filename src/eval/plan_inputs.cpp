// The planner's inputs from an evaluation and a profile in memory, through the same JSON the
// files hold, so that they are checked exactly as parse_rate_table and parse_profile check files.
#include "disc/eval.hpp"
#include "eval/report_json.hpp"

namespace disc {

Result<RateTable> to_rate_table(const EvalReport& report, LossBasis basis) {
  return parse_rate_table(report_json(report).dump(), basis);
}

Result<Profile> to_plan_profile(const ModelProfile& profile) { return parse_profile(profile_to_json(profile)); }

}  // namespace disc
