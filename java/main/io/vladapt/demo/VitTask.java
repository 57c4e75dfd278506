package io.vladapt.demo;

import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Pretrains a small ViT on the scenes' ground truth: from the [CLS] state of every block (before the
 * final norm, where LaVIN reads it), a linear head predicts each of the 4 grid cells' colour (7 ways,
 * 0 = empty) and shape (4 ways). The heads are thrown away afterwards; the ViT keeps what it learned.
 */
final class VitTask implements TrainTask {
    static final int CELLS = 4, COLORS = 7, SHAPES = 4;
    private final ClipVisionModel vit;
    private final List<Tensor> images;
    private final long[][] labels;   // per image: 4 colour labels then 4 shape labels
    private final Params all = new Params();

    VitTask(ClipVisionModel vit, List<Tensor> images, long[][] labels, long seed) {
        this.vit = vit;
        this.images = images;
        this.labels = labels;
        vit.params().asMap().forEach((n, p) -> all.put(n, p.set_requires_grad(true)));
        torch.manual_seed(seed);
        long d = vit.config().hiddenSize();
        all.put("head.weight", torch.randn(new long[] {CELLS * (COLORS + SHAPES), d}, Tensors.options(ScalarType.Float))
                .mul(new Scalar(1 / Math.sqrt(d))).set_requires_grad(true));
        all.put("head.bias", Tensors.zeros(ScalarType.Float, CELLS * (COLORS + SHAPES)).set_requires_grad(true));
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public Tensor loss(int[] idx) {
        TensorVector px = new TensorVector();
        long[] colour = new long[idx.length * CELLS], shape = new long[idx.length * CELLS];
        for (int r = 0; r < idx.length; r++) {
            px.push_back(images.get(idx[r]));
            System.arraycopy(labels[idx[r]], 0, colour, r * CELLS, CELLS);
            System.arraycopy(labels[idx[r]], CELLS, shape, r * CELLS, CELLS);
        }
        ClipVisionModel.Output o = vit.forward(torch.stack(px, 0), null, true);
        Tensor c = Tensors.longs(colour), s = Tensors.longs(shape);
        Tensor loss = null;
        for (int k = 1; k < o.hiddenStates().size(); k++) {                   // every block's [CLS]
            Tensor out = torch.linear(o.hiddenStates().get(k).select(1, 0), all.get("head.weight"),
                    new TensorOptional(all.get("head.bias"))).view(idx.length, CELLS, COLORS + SHAPES);
            Tensor lc = torch.cross_entropy_loss(out.narrow(2, 0, COLORS).reshape(-1, COLORS), c, new TensorOptional(), 1, -100, 0);
            Tensor ls = torch.cross_entropy_loss(out.narrow(2, COLORS, SHAPES).reshape(-1, SHAPES), s, new TensorOptional(), 1, -100, 0);
            Tensor l = lc.add(ls);
            loss = loss == null ? l : loss.add(l);
        }
        return loss.div(new Scalar(o.hiddenStates().size() - 1));
    }

    /** Share of cells whose colour and shape the last block's [CLS] predicts correctly. */
    double accuracy(List<Tensor> imgs, long[][] labs) {
        long right = 0, total = 0;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (int at = 0; at < imgs.size(); at += 64) {
                int n = Math.min(64, imgs.size() - at);
                TensorVector px = new TensorVector();
                for (int i = 0; i < n; i++) px.push_back(imgs.get(at + i));
                ClipVisionModel.Output o = vit.forward(torch.stack(px, 0), null, true);
                Tensor out = torch.linear(o.hiddenStates().get(o.hiddenStates().size() - 1).select(1, 0), all.get("head.weight"),
                        new TensorOptional(all.get("head.bias"))).view(n, CELLS, COLORS + SHAPES);
                long[] pc = Tensors.toLongs(out.narrow(2, 0, COLORS).argmax(new org.bytedeco.pytorch.LongOptional(2), false));
                long[] ps = Tensors.toLongs(out.narrow(2, COLORS, SHAPES).argmax(new org.bytedeco.pytorch.LongOptional(2), false));
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < CELLS; k++) {
                        total++;
                        if (pc[i * CELLS + k] == labs[at + i][k] && ps[i * CELLS + k] == labs[at + i][CELLS + k]) right++;
                    }
                }
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
        SafetensorsWriter.write(dir.resolve("vit_and_head.safetensors"), new LinkedHashMap<>(all.asMap()), Map.of());
    }

    @Override
    public void load(Path dir) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("vit_and_head.safetensors")); PointerScope s = new PointerScope();
             NoGradGuard g = new NoGradGuard()) {
            all.asMap().forEach((n, p) -> p.copy_(f.load(n)));
        }
    }

    void closeHead() {
        all.close();
    }
}
