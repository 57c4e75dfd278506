package io.vladapt.demo;

import io.vladapt.io.SafetensorsFile;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Next-token training of a whole (small) LLaMA on token sequences: every weight trains, and the loss
 * covers each sequence from {@code lossFrom} on (0: every token; the answer's start: the answer only).
 */
final class LmTask implements TrainTask {
    private final LlamaModel model;
    private final List<long[]> sequences;
    private final int[] lossFrom;
    private final long pad;

    LmTask(LlamaModel model, List<long[]> sequences, int[] lossFrom, long pad) {
        this.model = model;
        this.sequences = sequences;
        this.lossFrom = lossFrom;
        this.pad = pad;
        model.params().asMap().values().forEach(p -> p.set_requires_grad(true));
    }

    @Override
    public int size() {
        return sequences.size();
    }

    @Override
    public Tensor loss(int[] idx) {
        int b = idx.length, t = 0;
        for (int i : idx) t = Math.max(t, sequences.get(i).length);
        long[] ids = new long[b * t], labels = new long[b * t];
        Arrays.fill(ids, pad);
        Arrays.fill(labels, -100);
        for (int r = 0; r < b; r++) {
            long[] s = sequences.get(idx[r]);
            System.arraycopy(s, 0, ids, r * t, s.length);
            int from = Math.max(1, lossFrom[idx[r]]);
            System.arraycopy(s, from, labels, r * t + from - 1, s.length - from);   // position p predicts token p+1
        }
        Tensor logits = model.forward(Tensors.longs(ids).view(b, t), false).logits();   // (B, T, V)
        return torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), Tensors.longs(labels), new TensorOptional(), 1, -100, 0.0);
    }

    @Override
    public Params trainable() {
        return model.params();
    }

    @Override
    public void save(Path dir) throws IOException {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), new LinkedHashMap<>(model.params().asMap()), Map.of("format", "pt"));
    }

    @Override
    public void load(Path dir) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors")); PointerScope s = new PointerScope();
             NoGradGuard g = new NoGradGuard()) {
            model.params().asMap().forEach((n, p) -> p.copy_(f.load(n)));
        }
    }
}
