// Label-free estimate of a codec setting's top-1 loss, from the uncompressed model's softmax.
#pragma once

#include <span>

namespace disc {

// One image's part of the estimate. The reference softmax is read as the probability that
// each class is the right one, so an image whose top-1 moves from class r to class c loses
// p(r) - p(c) correct answers in expectation; its realized loss is +1 (r was right, with
// probability p(r)), -1 (c is right, p(c)) or 0, hence variance p(r) + p(c) - (p(r) - p(c))^2.
// An image whose top-1 is unchanged contributes 0 to both.
struct ImageLoss {
  double expected = 0;
  double variance = 0;
};
ImageLoss image_top1_loss(std::span<const double> reference_probabilities, int reference_top1, int top1);

struct LossEstimate {
  double mean_pp = 0;            // mean expected loss over the images, percentage points
  double standard_error_pp = 0;  // spread of the loss these images would realize with labels
};

// The mean of the images' expected losses and the standard error of their realized mean
// (sqrt of the summed variances, over n): the spread of what a labelled set of this size would
// measure around the estimate, not the sampling error of the estimate itself (doc/EVAL.md
// says why the margin is this one). No images: 0 ± 100 pp.
LossEstimate estimate_top1_loss(std::span<const ImageLoss> images);

}  // namespace disc
