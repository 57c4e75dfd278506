// Re-parameterisation (fold a linear adapter into the projection that consumes its output) and
// VPGTrans projector fusion. Both are a couple of small GEMMs; the adds ride on aten::linear's bias
// (see common.h for why aten::add is not available here).
#include "common.h"
#include "vladapt.h"

using namespace vl;

namespace {

// bf16/f16 projections are merged in float32 and rounded once at the end.
ScalarType compute_type(const Tensor& w) { return accum_type(w.scalar_type()); }

}  // namespace

extern "C" void vl_reparam_merge(vl_tensor out_w, vl_tensor out_b, vl_tensor W_, vl_tensor W_b_,
                                 vl_tensor A_w_, vl_tensor A_b_, vl_tensor B_w_, vl_tensor B_b_,
                                 vl_tensor D_w_, vl_tensor D_b_, vl_tensor route_, int64_t groups,
                                 double scale) {
  VL_OP("vl_reparam_merge", {
    NoGradGuard no_grad;
    Tensor W0 = borrow(W_, "W");
    const ScalarType out_type = W0.scalar_type(), ct = compute_type(W0);
    auto in = [ct](void* h, const char* name) { return to_dtype(borrow(h, name), ct); };
    Tensor W = to_dtype(W0, ct);                                          // (o, d)
    Tensor A_w = in(A_w_, "A_w"), A_b = in(A_b_, "A_b");                 // (r, d), (r)
    Tensor B_w = in(B_w_, "B_w"), B_b = in(B_b_, "B_b");                 // (d, k), (d)
    const int64_t d = B_w.size(0), k = B_w.size(1), r = A_w.size(0);

    // M = s * sum_e w_e U_e (dense d x r), c = s * sum_e w_e b_e (d)
    Tensor Ucat;                                                          // (E, d*r + d)
    Tensor route;                                                         // (1, E)
    if (D_w_ != nullptr) {
      Tensor D_w = in(D_w_, "D_w"), D_b = in(D_b_, "D_b");
      Tensor U = up_dense(stack({B_w, D_w}, 1), groups);             // (d, 2, r)
      U = contiguous(transpose(U, 0, 1));  // (2, d, r)
      Ucat = cat({view(U, {2, d * r}), stack({B_b, D_b}, 0)}, 1);        // (2, d*r + d)
      route = view(in(route_, "route"), {1, 2});
    } else {
      Tensor U = view(up_dense(view(B_w, {d, 1, k}), groups), {1, d * r});
      Ucat = cat({U, view(B_b, {1, d})}, 1);                             // (1, d*r + d)
      route = full_like_shape(Ucat, {1, 1}, 1.0);
    }
    if (scale != 1.0) route = mul(route, scalar_like(route, scale));
    Tensor mixed = mm(route, Ucat);                                       // (1, d*r + d)
    Tensor M = view(narrow(mixed, 1, 0, d * r), {d, r});  // (d, r)
    Tensor c = narrow(mixed, 1, d * r, d);                // (1, d)

    Tensor WM = mm(W, M);                                                 // (o, r)
    Tensor W_new = linear(WM, t(A_w), W);                                 // (o, d) = W + (W M) A
    Tensor v = linear(view(A_b, {1, r}), M, c);                           // (1, d) = M A_b + c
    std::optional<Tensor> W_b;
    if (W_b_ != nullptr) W_b = view(in(W_b_, "W_b"), {1, W.size(0)});
    Tensor b_new = view(linear(v, W, W_b), {W.size(0)});                  // (o) = W v + W_b
    give(out_w, to_dtype(W_new, out_type), "out_w");
    give(out_b, to_dtype(b_new, out_type), "out_b");
  })
}

extern "C" void vl_fuse_projector(vl_tensor out_w, vl_tensor out_b, vl_tensor C_w_, vl_tensor C_b_,
                                  vl_tensor S_w_, vl_tensor S_b_) {
  VL_OP("vl_fuse_projector", {
    // computed in float32 (float64 if the projector is) and returned in the source projector's dtype
    Tensor S_w0 = borrow(S_w_, "S_w");
    const ScalarType out_type = S_w0.scalar_type(), ct = compute_type(S_w0);
    Tensor C_w = as_dtype(borrow(C_w_, "C_w"), ct), C_b = as_dtype(borrow(C_b_, "C_b"), ct);  // (t, s), (t)
    Tensor S_w = as_dtype(S_w0, ct), S_b = as_dtype(borrow(S_b_, "S_b"), ct);                 // (s, q), (s)
    const int64_t dt = C_w.size(0), ds = C_w.size(1);
    Tensor W = mm(C_w, S_w);                                              // (t, q)
    Tensor b = linear(view(S_b, {1, ds}), C_w, view(C_b, {1, dt}));       // (1, t) = C_w S_b + C_b
    give(out_w, as_dtype(W, out_type), "out_w");
    give(out_b, as_dtype(view(b, {dt}), out_type), "out_b");
  })
}
