package io.vladapt.train;

import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A trainer test task that costs nothing: y = W x + b fitted by MSE to a fixed random linear map. */
public final class LinearRegressionTask implements TrainTask, AutoCloseable {
    private final Params data = new Params();
    private final Params trainable = new Params();
    private final int n;

    public LinearRegressionTask(int n, long seed) {
        this.n = n;
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(seed);
            Tensor x = torch.randn(new long[] {n, 6}, Tensors.options(ScalarType.Float));  // (N, 6)
            Tensor w = torch.randn(new long[] {3, 6}, Tensors.options(ScalarType.Float));  // (3, 6)
            data.put("x", x);
            data.put("y", torch.matmul(x, w.t()));                                         // (N, 3)
            trainable.put("proj.weight", Tensors.zeros(ScalarType.Float, 3, 6).set_requires_grad(true));
            trainable.put("proj.bias", Tensors.zeros(ScalarType.Float, 3).set_requires_grad(true));
        }
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public Tensor loss(int[] examples) {
        long[] idx = new long[examples.length];
        for (int i = 0; i < idx.length; i++) idx[i] = examples[i];
        Tensor rows = Tensors.longs(idx);
        Tensor x = data.get("x").index_select(0, rows), y = data.get("y").index_select(0, rows);
        Tensor pred = torch.linear(x, trainable.get("proj.weight"), new org.bytedeco.pytorch.TensorOptional(trainable.get("proj.bias")));
        // dropout so that the trainer's per-micro-step reseeding matters
        Tensor d = torch.dropout(pred, 0.1, true);
        return d.sub(y).pow(new Scalar(2)).mean();
    }

    @Override
    public Params trainable() {
        return trainable;
    }

    @Override
    public void save(Path dir) throws IOException {
        ParamFiles.save(trainable, dir.resolve("weights.safetensors"), Map.of());
    }

    @Override
    public void load(Path dir) {
        ParamFiles.loadInto(trainable, dir.resolve("weights.safetensors"));
    }

    @Override
    public void close() {
        data.close();
        trainable.close();
    }
}
