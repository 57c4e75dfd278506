package io.vladapt.vpg;

import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import io.vladapt.train.TrainTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * An LLM-independent VPG initialisation closer to BLIP-2's stage 1: image-text contrastive learning
 * (ITC) on the training captions. The image side is the VPG's queries, each projected and normalised;
 * the text side is a bag of hashed words (no LLM, no tokenizer of any LLM) embedded and normalised. As
 * in BLIP-2, an image-text similarity is the best of its queries' similarities; the loss is the
 * symmetric InfoNCE over the batch at a fixed temperature, with every caption of the same image a
 * positive. The heads are dropped afterwards; only the VPG is kept.
 */
public final class VpgContrastiveTask implements TrainTask {
    private final Vpg vpg;
    private final Tensor features;
    private final int[] image;
    private final int[][] words;
    private final int buckets;
    private final double temperature;
    private final Params all = new Params();

    /**
     * @param features (N, ...) cached VPG inputs, one row per image
     * @param captions training captions with their image rows
     * @param buckets  hashed-word vocabulary of the text side
     * @param dim      width of the shared embedding space
     */
    public VpgContrastiveTask(Vpg vpg, Tensor features, List<VlDataset.Caption> captions, int buckets, int dim, double temperature, long seed) {
        if (captions.isEmpty()) throw new IllegalArgumentException("no captions to learn from");
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        this.vpg = vpg;
        this.features = features;
        this.buckets = buckets;
        this.temperature = temperature;
        image = new int[captions.size()];
        words = new int[captions.size()][];
        for (int i = 0; i < image.length; i++) {
            VlDataset.Caption c = captions.get(i);
            if (c.image() < 0 || c.image() >= features.size(0)) {
                throw new IllegalArgumentException("caption image " + c.image() + " outside the " + features.size(0) + " cached images");
            }
            image[i] = c.image();
            words[i] = bag(c.text(), buckets);
        }
        vpg.params().asMap().forEach((n, p) -> all.put("vpg." + n, p.set_requires_grad(true)));
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(seed);
            all.put("image_proj.weight", torch.randn(new long[] {dim, vpg.width()}, Tensors.options(ScalarType.Float))
                    .mul(new Scalar(1 / Math.sqrt(vpg.width()))).set_requires_grad(true));
            all.put("text_embed.weight", torch.randn(new long[] {buckets, dim}, Tensors.options(ScalarType.Float)).set_requires_grad(true));
        }
    }

    /** Hashed word ids of a caption (lower case, split on anything but letters and digits). */
    static int[] bag(String text, int buckets) {
        return java.util.Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")).filter(w -> !w.isEmpty())
                .mapToInt(w -> Math.floorMod(w.hashCode(), buckets)).toArray();
    }

    @Override
    public int size() {
        return image.length;
    }

    /** Rows scaled to unit length along the last dimension. */
    private static Tensor unit(Tensor x) {
        return x.mul(x.mul(x).mean(new long[] {-1}, true, new ScalarTypeOptional()).mul(new Scalar((double) x.size(-1))).add(new Scalar(1e-12)).rsqrt());
    }

    /** (B, B) similarities of images (rows) and captions (columns), already divided by the temperature. */
    private Tensor similarity(long[] rows, int[][] texts, boolean train) {
        Tensor q = vpg.forward(features.index_select(0, Tensors.longs(rows)), train);             // (B, Q, w)
        Tensor zi = unit(torch.linear(q, all.get("image_proj.weight"), new TensorOptional()));   // (B, Q, d)
        int b = texts.length;
        float[] bow = new float[b * buckets];
        for (int i = 0; i < b; i++) {
            for (int w : texts[i]) bow[i * buckets + w] += 1f / Math.max(1, texts[i].length);
        }
        Tensor zt = unit(Tensors.floats(bow).view(b, buckets).matmul(all.get("text_embed.weight")));  // (B, d)
        Tensor sim = zi.matmul(zt.t());                                                           // (B, Q, B)
        return sim.amax(new long[] {1}, false).div(new Scalar(temperature));                      // (B, B): best query per pair
    }

    @Override
    public Tensor loss(int[] idx) {
        int b = idx.length;
        long[] rows = new long[b];
        int[][] texts = new int[b][];
        float[] same = new float[b * b];
        for (int i = 0; i < b; i++) {
            rows[i] = image[idx[i]];
            texts[i] = words[idx[i]];
        }
        for (int i = 0; i < b; i++) {
            int n = 0;
            for (int j = 0; j < b; j++) if (rows[i] == rows[j]) n++;
            for (int j = 0; j < b; j++) if (rows[i] == rows[j]) same[i * b + j] = 1f / n;   // symmetric: equal counts both ways
        }
        Tensor target = Tensors.floats(same).view(b, b);                                          // (B, B), rows sum to 1
        Tensor sim = similarity(rows, texts, true);
        Tensor i2t = torch.log_softmax(sim, 1).mul(target).mean().mul(new Scalar(-b));
        Tensor t2i = torch.log_softmax(sim.t(), 1).mul(target).mean().mul(new Scalar(-b));
        return i2t.add(t2i).div(new Scalar(2));
    }

    /** Image -> text recall@1 among {@code texts} (one caption per image row, same order). */
    public double recallAt1(long[] rows, List<String> texts) {
        int[][] t = texts.stream().map(x -> bag(x, buckets)).toArray(int[][]::new);
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            long[] best = Tensors.toLongs(similarity(rows, t, false).argmax(new LongOptional(1), false));
            int right = 0;
            for (int i = 0; i < best.length; i++) if (best[i] == i) right++;
            return (double) right / best.length;
        }
    }

    @Override
    public Params trainable() {
        return all;
    }

    @Override
    public void save(Path dir) throws IOException {
        io.vladapt.train.ParamFiles.save(all, dir.resolve("vpg_and_heads.safetensors"), java.util.Map.of());
    }

    @Override
    public void load(Path dir) {
        io.vladapt.train.ParamFiles.loadInto(all, dir.resolve("vpg_and_heads.safetensors"));
    }

    /** Frees the heads (the VPG stays with its owner). */
    public void closeHeads() {
        all.close();
    }
}
