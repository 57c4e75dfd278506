// Composite MM-Adapter body shared by the autograd op and the inference fallback.
#pragma once

#include "common.h"

namespace vl {

// y = x + ws0 * (B h + B_b) + ws1 * (D h + D_b), h = dropout(A x + A_b); ws (B, 2) already carries
// the scale. x (B, T, d). Records autograd when grad mode is on.
Tensor mm_apply(const Tensor& x, const Tensor& ws, const Tensor& A_w, const Tensor& A_b,
                const Tensor& B_w, const Tensor& B_b, const Tensor& D_w, const Tensor& D_b,
                int64_t groups, double p, bool training);

}  // namespace vl
