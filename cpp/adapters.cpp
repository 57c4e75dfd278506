// RepAdapter, the MM-Adapter router and the MM-Adapter as composite, autograd-recording ops.
//
// Why this formulation: the naive MM-Adapter (LaVIN's RepAdapter_Router) runs the down-projection,
// two grouped up-projections, the router, two weighted products and two sums -- about fifteen graph
// nodes, several of them (B, T, d)-sized. Here both experts, their biases, the routing weights and the
// residual collapse into ONE (N, 2(r+1)) x (2(r+1), d) GEMM whose bias is x itself:
//   hw = [h, 1] (x) (s*w)          per row: (s*w0*[h,1], s*w1*[h,1])           (N, 2(r+1))
//   U  = [[B, B_b], [D, D_b]]      grouped weights expanded block-diagonally   (d, 2(r+1))
//   y  = x + hw U^T                aten::linear(hw, U, bias = x)               (N, d)
// Everything else touches only (B, 2), (N, r) or parameter-sized tensors.
#include "adapters.h"
#include "vladapt.h"

namespace vl {
namespace {

// (B, 2) routing weights, computed in float32 (float64 for float64 inputs) whatever the activations'
// dtype: the softmax over two logits divided by a temperature of 5-10 is where bf16 would lose most.
Tensor router(const Tensor& z, const Tensor& R_w, const Tensor& R_b, double temperature) {
  const ScalarType rt = accum_type(z.scalar_type());
  Tensor logits = linear(as_dtype(z, rt), as_dtype(R_w, rt), as_dtype(R_b, rt));   // (B, 2)
  if (temperature != 1.0) logits = aten("aten::div", "Tensor", logits, scalar_like(logits, temperature));
  return softmax(logits, 1);                                             // (B, 2)
}

// h = dropout(A x + A_b) with a constant 1 appended: the 1 carries the up-projection biases.
Tensor down_with_one(const Tensor& x2, const Tensor& A_w, const Tensor& A_b, double p, bool training) {
  Tensor h = linear(x2, A_w, A_b);                                       // (N, r)
  if (training && p > 0.0) h = dropout(h, p, true);
  Tensor one = aten("aten::new_ones", "", h, Shape{h.size(0), 1}, std::nullopt, std::nullopt,
                    std::nullopt, std::nullopt);                         // (N, 1)
  return cat({h, one}, 1);                                               // (N, r+1)
}

}  // namespace

// The adapter weights may be float32 master copies of bf16/f16 activations: the GEMMs run in x's
// dtype (as under torch.autocast) and the casts are differentiable, so gradients reach the masters.
Tensor mm_apply(const Tensor& x, const Tensor& ws, const Tensor& A_w, const Tensor& A_b,
                const Tensor& B_w, const Tensor& B_b, const Tensor& D_w, const Tensor& D_b,
                int64_t groups, double p, bool training) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2), r = A_w.size(0);
  const ScalarType ct = x.scalar_type();
  Tensor x2 = reshape(x, {B * T, d});                                    // (N, d)
  Tensor h1 = down_with_one(x2, as_dtype(A_w, ct), as_dtype(A_b, ct), p, training);  // (N, r+1)
  Tensor hw = view(mul(view(h1, {B, T, 1, r + 1}), view(as_dtype(ws, ct), {B, 1, 2, 1})),
                   {B * T, 2 * (r + 1)});                                // (N, 2(r+1))
  Tensor U = up_dense(stack({as_dtype(B_w, ct), as_dtype(D_w, ct)}, 1), groups);   // (d, 2, r)
  Tensor Ub = unsqueeze(stack({as_dtype(B_b, ct), as_dtype(D_b, ct)}, 1), 2);      // (d, 2, 1)
  Tensor Ucat = view(cat({U, Ub}, 2), {d, 2 * (r + 1)});                 // (d, 2(r+1))
  Tensor y2 = linear(hw, Ucat, x2);                                      // (N, d) = x + hw Ucat^T
  return view(y2, {B, T, d});
}

}  // namespace vl

using namespace vl;

extern "C" void vl_rep_adapter(vl_tensor out, vl_tensor x_, vl_tensor A_w_, vl_tensor A_b_,
                               vl_tensor U_w_, vl_tensor U_b_, int64_t groups, double scale,
                               double p, int training) {
  VL_OP("vl_rep_adapter", {
    Tensor x = borrow(x_, "x");
    const ScalarType ct = x.scalar_type();                               // weights may be float32 masters
    Tensor A_w = as_dtype(borrow(A_w_, "A_w"), ct), A_b = as_dtype(borrow(A_b_, "A_b"), ct);
    Tensor U_w = as_dtype(borrow(U_w_, "U_w"), ct), U_b = as_dtype(borrow(U_b_, "U_b"), ct);
    const int64_t B = x.size(0), T = x.size(1), d = x.size(2), r = A_w.size(0), k = U_w.size(1);
    Tensor x2 = reshape(x, {B * T, d});                                  // (N, d)
    Tensor h1 = down_with_one(x2, A_w, A_b, p, training != 0);           // (N, r+1)
    if (scale != 1.0) h1 = mul(h1, scalar_like(h1, scale));
    Tensor U = view(up_dense(view(U_w, {d, 1, k}), groups), {d, r});     // (d, r)
    Tensor Ucat = cat({U, unsqueeze(U_b, 1)}, 1);                        // (d, r+1)
    Tensor y2 = linear(h1, Ucat, x2);                                    // (N, d) = x + s*U(h) + s*U_b
    give(out, view(y2, {B, T, d}), "out");
  })
}

extern "C" void vl_mm_router(vl_tensor out, vl_tensor z_, vl_tensor R_w_, vl_tensor R_b_,
                             double temperature) {
  VL_OP("vl_mm_router", {
    give(out, router(borrow(z_, "z"), borrow(R_w_, "R_w"), borrow(R_b_, "R_b"), temperature), "out");
  })
}

extern "C" void vl_mm_adapter(vl_tensor out, vl_tensor x_, vl_tensor z_, vl_tensor A_w_,
                              vl_tensor A_b_, vl_tensor B_w_, vl_tensor B_b_, vl_tensor D_w_,
                              vl_tensor D_b_, vl_tensor R_w_, vl_tensor R_b_, int64_t groups,
                              double scale, double temperature, double p, int training) {
  VL_OP("vl_mm_adapter", {
    Tensor w = router(borrow(z_, "z"), borrow(R_w_, "R_w"), borrow(R_b_, "R_b"), temperature);
    if (scale != 1.0) w = mul(w, scalar_like(w, scale));                 // (B, 2)
    Tensor y = mm_apply(borrow(x_, "x"), w, borrow(A_w_, "A_w"), borrow(A_b_, "A_b"),
                        borrow(B_w_, "B_w"), borrow(B_b_, "B_b"), borrow(D_w_, "D_w"),
                        borrow(D_b_, "D_b"), groups, p, training != 0);
    give(out, y, "out");
  })
}
