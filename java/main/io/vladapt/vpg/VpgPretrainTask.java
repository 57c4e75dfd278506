package io.vladapt.vpg;

import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainTask;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * An LLM-independent VPG initialisation (the role BLIP-2's stage-1 Q-Former plays in VPGTrans): the
 * VPG's queries, flattened, feed a linear head that predicts categorical image attributes (for the
 * synthetic scenes: each grid cell's colour, shape and size). No language model is involved, so both
 * the source VPG and training from scratch on any LLM can start from the result. The head is dropped.
 */
public final class VpgPretrainTask implements TrainTask {
    private final Vpg vpg;
    private final Tensor features;
    private final long[][] labels;
    private final int[] classes;
    private final Params all = new Params();

    /**
     * @param features (N, ...) cached VPG inputs
     * @param labels   per image, one class index per slot
     * @param classes  the number of classes of each slot
     */
    public VpgPretrainTask(Vpg vpg, Tensor features, long[][] labels, int[] classes, long seed) {
        if (labels.length != features.size(0)) throw new IllegalArgumentException(labels.length + " label rows for " + features.size(0) + " images");
        this.vpg = vpg;
        this.features = features;
        this.labels = labels;
        this.classes = classes;
        vpg.params().asMap().forEach((n, p) -> all.put("vpg." + n, p.set_requires_grad(true)));
        int in = vpg.numQueries() * vpg.width(), out = 0;
        for (int c : classes) out += c;
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(seed);
            all.put("head.weight", torch.randn(new long[] {out, in}, Tensors.options(ScalarType.Float)).mul(new Scalar(1 / Math.sqrt(in)))
                    .set_requires_grad(true));
            all.put("head.bias", Tensors.zeros(ScalarType.Float, out).set_requires_grad(true));
        }
    }

    @Override
    public int size() {
        return labels.length;
    }

    private Tensor logits(Tensor f, boolean train) {
        Tensor q = vpg.forward(f, train);                                            // (B, Q, w)
        return torch.linear(q.flatten(1, 2), all.get("head.weight"), new TensorOptional(all.get("head.bias")));  // (B, sum classes)
    }

    @Override
    public Tensor loss(int[] idx) {
        long[] rows = new long[idx.length];
        for (int i = 0; i < idx.length; i++) rows[i] = idx[i];
        Tensor out = logits(features.index_select(0, Tensors.longs(rows)), true);
        Tensor loss = null;
        int off = 0;
        for (int k = 0; k < classes.length; k++) {
            long[] y = new long[idx.length];
            for (int i = 0; i < idx.length; i++) y[i] = labels[idx[i]][k];
            Tensor l = torch.cross_entropy_loss(out.narrow(1, off, classes[k]), Tensors.longs(y), new TensorOptional(), 1, -100, 0);
            loss = loss == null ? l : loss.add(l);
            off += classes[k];
        }
        return loss.div(new Scalar(classes.length));
    }

    /** Share of slots predicted right on (features, labels). */
    public double accuracy(Tensor f, long[][] lab) {
        long right = 0, total = 0;
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor out = logits(f, false);
            int off = 0;
            for (int k = 0; k < classes.length; k++) {
                long[] pred = Tensors.toLongs(out.narrow(1, off, classes[k]).argmax(new org.bytedeco.pytorch.LongOptional(1), false));
                for (int i = 0; i < pred.length; i++) {
                    total++;
                    if (pred[i] == lab[i][k]) right++;
                }
                off += classes[k];
            }
        }
        return (double) right / total;
    }

    @Override
    public Params trainable() {
        return all;
    }

    @Override
    public void save(Path dir) throws IOException {
        io.vladapt.train.ParamFiles.save(all, dir.resolve("vpg_and_head.safetensors"), java.util.Map.of());
    }

    @Override
    public void load(Path dir) {
        io.vladapt.train.ParamFiles.loadInto(all, dir.resolve("vpg_and_head.safetensors"));
    }

    /** Frees the head (the VPG stays with its owner). */
    public void closeHead() {
        all.close();
    }
}
