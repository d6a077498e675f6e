// Choosing among evaluated rows: Pareto fronts, best-within-budget, calibration.
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "disc/eval.hpp"

namespace disc {
namespace {

using GroupKey = std::pair<std::string, std::string>;  // (cut, codec name)

std::map<GroupKey, std::vector<const EvalRow*>> group_by_cut_and_codec(const std::vector<EvalRow>& rows) {
  std::map<GroupKey, std::vector<const EvalRow*>> groups;
  for (const EvalRow& r : rows) groups[{r.cut, r.codec_name}].push_back(&r);
  return groups;
}

// Orders rows by cut position, then codec name, so outputs follow the network.
void sort_along_network(std::vector<EvalRow>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const EvalRow& a, const EvalRow& b) {
    return std::tie(a.cut_position, a.codec_name) < std::tie(b.cut_position, b.codec_name);
  });
}

}  // namespace

double judged_loss_pp(const EvalRow& row, LossBasis basis) {
  return basis == LossBasis::kLabels ? row.top1_loss_pp : row.estimated_loss_pp + row.estimated_loss_se_pp;
}

std::vector<EvalRow> pareto_front(const std::vector<EvalRow>& rows, LossBasis basis) {
  std::vector<EvalRow> front;
  for (auto& [key, group] : group_by_cut_and_codec(rows)) {
    std::vector<const EvalRow*> sorted = group;
    // Highest ratio first; among equal ratios the smallest loss first.
    std::sort(sorted.begin(), sorted.end(), [basis](const EvalRow* a, const EvalRow* b) {
      return a->ratio != b->ratio ? a->ratio > b->ratio : judged_loss_pp(*a, basis) < judged_loss_pp(*b, basis);
    });
    double best_loss = INFINITY;
    std::vector<EvalRow> kept;
    for (const EvalRow* r : sorted)
      if (judged_loss_pp(*r, basis) < best_loss) {
        best_loss = judged_loss_pp(*r, basis);
        kept.push_back(*r);
      }
    std::reverse(kept.begin(), kept.end());
    front.insert(front.end(), kept.begin(), kept.end());
  }
  sort_along_network(front);
  return front;
}

std::vector<EvalRow> best_within_budget(const std::vector<EvalRow>& rows, double budget_pp, LossBasis basis) {
  std::vector<EvalRow> best;
  for (auto& [key, group] : group_by_cut_and_codec(rows)) {
    const EvalRow* winner = nullptr;
    for (const EvalRow* r : group)
      if (judged_loss_pp(*r, basis) <= budget_pp && (!winner || r->ratio > winner->ratio)) winner = r;
    if (winner) best.push_back(*winner);
  }
  sort_along_network(best);
  return best;
}

double standard_error_floor_pp(size_t images) { return images > 0 ? 100.0 / static_cast<double>(images) : INFINITY; }

bool too_few_images_for_budget(size_t images, double budget_pp) {
  return standard_error_floor_pp(images) >= 0.5 * budget_pp;
}

bool within_calibration_budget(const EvalRow& row, double budget_pp) {
  return judged_loss_pp(row, LossBasis::kEstimate) <= budget_pp;
}

Result<Calibration> choose_calibrated(const std::vector<EvalRow>& calibration_rows, double budget_pp, size_t images) {
  if (calibration_rows.empty()) return Error("calibration evaluated no settings");
  Calibration c;
  const EvalRow* winner = nullptr;
  for (const EvalRow& r : calibration_rows) {
    if (!within_calibration_budget(r, budget_pp)) continue;
    c.candidates.push_back(r);
    // Highest ratio; ties go to the higher agreement.
    if (!winner || r.ratio > winner->ratio || (r.ratio == winner->ratio && r.agreement > winner->agreement))
      winner = &r;
  }
  if (!winner) {
    const std::string failed = fmt::format(
        "no setting's estimated top-1 loss (plus one standard error) is within {:.2f} pp on the {} calibration images",
        budget_pp, images);
    if (too_few_images_for_budget(images, budget_pp))
      return Error(fmt::format("{}; with {} images the standard error alone is at least {:.2f} pp (one image), so "
                               "only settings that change almost no prediction can pass: calibrate on more images "
                               "(several hundred where you can), widen the sweep toward milder settings or raise "
                               "the budget",
                               failed, images, standard_error_floor_pp(images)));
    return Error(failed + "; widen the sweep toward milder settings, calibrate on more images or raise the budget");
  }
  c.calibration_row = *winner;
  DISC_ASSIGN_OR_RETURN(c.chosen, CodecSpec::parse(winner->codec));
  return c;
}

}  // namespace disc
