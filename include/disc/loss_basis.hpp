// What a setting's top-1 loss is taken to be when settings are compared against a budget.
#pragma once

namespace disc {

enum class LossBasis {
  kLabels,    // measured: reference top-1 minus compressed top-1 against the images' labels
  kEstimate,  // label-free: the estimated loss plus one standard error (doc/EVAL.md, "The estimate"),
              // the margin `disc calibrate` applies
};

}  // namespace disc
