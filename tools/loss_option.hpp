// `--loss labels|estimate`: which loss of a rate table's rows the planner keeps within budget.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "disc/loss_basis.hpp"

namespace disc::cli {

// The option's value for `basis`.
inline const char* loss_basis_name(LossBasis basis) { return basis == LossBasis::kLabels ? "labels" : "estimate"; }

inline CLI::Option* add_loss_option(CLI::App& app, LossBasis& basis, const std::string& scope) {
  return app
      .add_option_function<std::string>(
          "--loss",
          [&basis](const std::string& name) {
            basis = name == loss_basis_name(LossBasis::kEstimate) ? LossBasis::kEstimate : LossBasis::kLabels;
          },
          scope + "which top-1 loss of the table's rows the budget applies to: labels (measured, the default) or "
                  "estimate (label-free estimate plus one standard error; the only one of a table from images "
                  "without labels)")
      ->check(CLI::IsMember({loss_basis_name(LossBasis::kLabels), loss_basis_name(LossBasis::kEstimate)}));
}

}  // namespace disc::cli
