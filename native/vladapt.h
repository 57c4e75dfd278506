/*
 * The only surface between Java and the C++ extension (bound by io.vladapt.ext.VlOps).
 *
 * Tensors: every `vl_tensor` is an at::Tensor* -- what a Java org.bytedeco.pytorch.Tensor points to,
 * and what libtorch's stable C ABI calls an AtenTensorHandle. Inputs are borrowed, never freed here.
 * Results go into `out*` tensors the caller allocated (usually `new Tensor()`, undefined): the op makes
 * them alias its result, so Java owns every result through its own deallocator and PointerScope.
 * Optional inputs may be NULL.
 *
 * Errors: each op throws std::runtime_error("vl_<op>: ...") (JavaCPP turns it into a Java
 * RuntimeException). Callers validate shapes first; see io.vladapt.ext.Check.
 *
 * Names follow LaVIN's RepAdapter_Router: A = shared down-projection (r x d, bias r),
 * B and D = the two up-projections ("experts", Conv1d r -> d with `groups`, weight (d, r/groups)),
 * R = router Linear(d -> 2). Shapes: x (B, T, d), z (B, d) -- the per-sample modality state.
 */
#ifndef VLADAPT_H
#define VLADAPT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void* vl_tensor;

/* RepAdapter: out = x + scale * U(dropout(A x + A_b)) + scale * U_b.  Differentiable. */
void vl_rep_adapter(vl_tensor out, vl_tensor x, vl_tensor A_w, vl_tensor A_b, vl_tensor U_w,
                    vl_tensor U_b, int64_t groups, double scale, double dropout, int training);

/* Router: out (B, 2) = softmax((z R_w^T + R_b) / temperature).  Differentiable. */
void vl_mm_router(vl_tensor out, vl_tensor z, vl_tensor R_w, vl_tensor R_b, double temperature);

/* MM-Adapter: w = router(z); h = dropout(A x + A_b);
 * out = x + scale * (w0 * (B h + B_b) + w1 * (D h + D_b)).  Differentiable w.r.t. every input. */
void vl_mm_adapter(vl_tensor out, vl_tensor x, vl_tensor z, vl_tensor A_w, vl_tensor A_b,
                   vl_tensor B_w, vl_tensor B_b, vl_tensor D_w, vl_tensor D_b, vl_tensor R_w,
                   vl_tensor R_b, int64_t groups, double scale, double temperature, double dropout,
                   int training);

/* Inference only (no autograd graph): the MM-Adapter given routing weights `route` (B, 2), as one
 * fused kernel on CPU (float32/float64) and CUDA (when built with it); other dtypes use the
 * composite path without recording a graph. Same numbers as vl_mm_adapter in eval mode. */
void vl_mm_adapter_infer(vl_tensor out, vl_tensor x, vl_tensor route, vl_tensor A_w, vl_tensor A_b,
                         vl_tensor B_w, vl_tensor B_b, vl_tensor D_w, vl_tensor D_b, int64_t groups,
                         double scale);

/* Re-parameterisation: fold the (linear, eval-mode) adapter into a projection W (o, d), bias W_b (o)
 * or NULL, that consumes its output: with M = scale * (w0 * B + w1 * D) (dense d x r) and
 * c = scale * (w0 * B_b + w1 * D_b): out_w = W + (W M) A,  out_b = W_b + W (M A_b + c).
 * D_w, D_b and route (2,) may be NULL for a plain RepAdapter (M = scale * B). No graph recorded. */
void vl_reparam_merge(vl_tensor out_w, vl_tensor out_b, vl_tensor W, vl_tensor W_b, vl_tensor A_w,
                      vl_tensor A_b, vl_tensor B_w, vl_tensor B_b, vl_tensor D_w, vl_tensor D_b,
                      vl_tensor route, int64_t groups, double scale);

/* VPGTrans projector fusion: out_w = C_w S_w, out_b = C_w S_b + C_b, where S maps queries to the
 * source LLM's embedding space and C (the word-embedding converter) maps source to target. */
void vl_fuse_projector(vl_tensor out_w, vl_tensor out_b, vl_tensor C_w, vl_tensor C_b,
                       vl_tensor S_w, vl_tensor S_b);

/* Weight-only quantisation (layout: cpp/quant.h, HF compressed-tensors). bits 8: q int8 (n, k), scale
 * float32 (n), zero int8 (n); bits 4: q int32 (n, k/8) of eight nibbles q+8 each, low first, scale
 * float16 (n, k/group), zero int8 (n, k/group), group 32, 64 or 128. zero may be NULL (symmetric).
 * w = (q - zero) * scale. None of these records an autograd graph. */

/* Quantises a dense (n, k) float32/bfloat16/float16 weight; out_zero is left alone when symmetric. */
void vl_quantize(vl_tensor out_q, vl_tensor out_scale, vl_tensor out_zero, vl_tensor w, int64_t bits,
                 int64_t group, int symmetric);

/* out (n, k) = the dequantised weight, dtype 0 float32, 1 bfloat16, 2 float16. */
void vl_dequantize(vl_tensor out, vl_tensor q, vl_tensor scale, vl_tensor zero, int64_t bits,
                   int64_t group, int dtype);

/* out (..., n) = x (..., k) W^T + bias (bias may be NULL), in x's dtype, by the kernel path in effect. */
void vl_quant_linear(vl_tensor out, vl_tensor x, vl_tensor q, vl_tensor scale, vl_tensor zero,
                     vl_tensor bias, int64_t bits, int64_t group);

/* Kernel path: request -1 reads it, 0 restores the automatic choice, 1 scalar, 2 avx512, 3 vnni,
 * 4 amx forces one. Returns the path in effect, or -1 (nothing changed) if the CPU lacks it. */
int vl_quant_path(int request);

/* Sums a contiguous CPU tensor's bytes as 64-bit words over libtorch's threads: a plain streaming read,
 * the memory-bandwidth bound the quantised-kernel benchmark compares against. */
int64_t vl_stream_read(vl_tensor t);

/* CPU features seen at run time: 1 AVX-512 (F/BW/VL), 2 AVX512-VNNI, 4 AVX512-BF16, 8 AMX-BF16 usable
 * (the OS granted tile data), 16 AMX-INT8 usable. */
int vl_cpu_flags(void);

/* OpenBLAS's own thread pool (libtorch's GEMMs run on it): set it (returns the count now in effect,
 * or -1 when libtorch does not use OpenBLAS) and read it. */
int vl_set_blas_threads(int n);
int vl_blas_threads(void);

/* 1 when this build carries the CUDA kernels. */
int vl_has_cuda_kernels(void);

#ifdef __cplusplus
}
#endif

#endif /* VLADAPT_H */
