package io.vladapt.dist;

import io.vladapt.ext.OpCheck;
import io.vladapt.nn.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Sums the trainable tensors' gradients over all ranks through flat buffers of about 25 MB (DDP's
 * default): one all-reduce per bucket instead of one per tensor, each started as soon as its bucket is
 * packed, so Gloo's threads reduce bucket k while this thread packs bucket k+1. After the first step
 * every gradient is a view of its bucket (as DDP's gradient_as_bucket_view), so backward accumulates
 * straight into the buckets and later steps copy nothing. (Overlapping with the backward pass itself needs autograd hooks, which the presets do
 * not expose; c10d's Reducer would, but drives a ProcessGroup and DDP's own accumulation rules.)
 *
 * <p>A tensor without a gradient on one rank (its part of the model unused by that rank's examples)
 * contributes zeros; it gets a gradient on every rank exactly when some rank produced one, so the set
 * of tensors the optimizer updates is the one a single process would update on the whole batch.
 */
public final class GradientBuckets implements AutoCloseable {
    public static final long DEFAULT_BYTES = 25L << 20;

    private record Slot(int index, Tensor param, long offset, long numel) {}

    /** {@code address}: where the flat buffer's data starts, to recognise gradients that are views of it. */
    private record Bucket(Tensor flat, long address, List<Slot> slots) {}

    private final List<Bucket> buckets = new ArrayList<>();
    private final int count;

    /** Packs the tensors, in order, into buckets of one dtype and at most {@code bucketBytes} (a larger tensor gets its own). */
    public GradientBuckets(Map<String, Tensor> params, long bucketBytes) {
        List<List<Slot>> groups = new ArrayList<>();
        List<Slot> cur = new ArrayList<>();
        ScalarType curType = null;
        long bytes = 0, offset = 0;
        int i = 0;
        for (Tensor p : params.values()) {
            long n = p.numel(), b = n * p.element_size();
            ScalarType type = p.scalar_type().intern();   // the preset returns a fresh enum object each call
            if (!cur.isEmpty() && (type != curType || bytes + b > bucketBytes)) {
                groups.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
                offset = 0;
            }
            curType = type;
            cur.add(new Slot(i++, p, offset, n));
            offset += n;
            bytes += b;
        }
        if (!cur.isEmpty()) groups.add(cur);
        count = i;
        try (PointerScope scope = new PointerScope()) {
            for (List<Slot> g : groups) {
                Slot last = g.get(g.size() - 1);
                Tensor flat = Tensors.empty(last.param().scalar_type(), last.offset() + last.numel());
                buckets.add(new Bucket(flat.retainReference(), flat.data_ptr().address(), g));
            }
        }
    }

    /** True when {@code grad} is this slot's view of the bucket (another tensor, e.g. after a reload, is copied in). */
    private static boolean isView(Tensor grad, Bucket b, Slot s) {
        return grad.data_ptr().address() == b.address() + s.offset() * s.param().element_size();
    }

    public int buckets() {
        return buckets.size();
    }

    /**
     * Replaces every gradient by its sum over the ranks, and returns the sum of {@code extra} (the
     * ranks' loss sums) over the ranks, reduced in float64 beside the gradients' presence flags.
     */
    public double sum(ProcessGroupContext ctx, double extra, String what) {
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            double[] m = new double[1 + count];
            m[0] = extra;
            for (Bucket b : buckets) for (Slot s : b.slots()) m[1 + s.index()] = s.param().grad().defined() ? 1 : 0;
            Tensor meta = Tensors.empty(ScalarType.Double, m.length);
            meta.data_ptr_double().put(m);
            Work metaWork = ctx.allreduceAsync(meta);
            List<Work> works = new ArrayList<>();
            for (Bucket b : buckets) {
                for (Slot s : b.slots()) {
                    Tensor grad = s.param().grad();
                    if (grad.defined() && isView(grad, b, s)) continue;   // backward accumulated into the bucket already
                    Tensor dst = b.flat().narrow(0, s.offset(), s.numel());
                    if (grad.defined()) dst.copy_(grad.reshape(-1));
                    else dst.zero_();
                }
                works.add(ctx.allreduceAsync(b.flat()));
            }
            ctx.await(metaWork, what + " (loss and gradient presence)", t0);
            meta.data_ptr_double().get(m);
            for (int k = 0; k < buckets.size(); k++) {
                Bucket b = buckets.get(k);
                ctx.await(works.get(k), what + " (bucket " + (k + 1) + " of " + buckets.size() + ")", t0);
                for (Slot s : b.slots()) {
                    if (m[1 + s.index()] == 0) continue;
                    Tensor p = s.param(), grad = p.grad();
                    // the gradient becomes a view of its bucket: no copy back now, and the next backward
                    // accumulates in place into the bucket (autograd adds into a defined .grad), so no packing either
                    if (!grad.defined() || !isView(grad, b, s)) {
                        p.mutable_grad().put(b.flat().narrow(0, s.offset(), s.numel()).view(OpCheck.shape(p)));
                    }
                }
            }
            return m[0];
        }
    }

    @Override
    public void close() {
        for (Bucket b : buckets) b.flat().releaseReference();
        buckets.clear();
    }
}
