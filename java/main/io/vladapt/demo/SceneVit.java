package io.vladapt.demo;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.SyntheticScienceQa;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The demos' small vision tower: a CLIP-architecture ViT pretrained here on synthetic scenes to tell
 * each grid cell's colour and shape (an image-only objective, no language model involved), then saved
 * as an HF CLIP folder and frozen by everything that uses it.
 */
public final class SceneVit {
    private SceneVit() {}

    /** Preprocessed images and their per-cell labels (see {@link #cellLabels}). */
    public static final class Images implements AutoCloseable {
        final List<Tensor> pixels = new ArrayList<>();
        final List<long[]> labels = new ArrayList<>();

        public void add(ImagePipeline pipe, Path image, int[][] truth) {
            try (PointerScope s = new PointerScope()) {
                pixels.add(pipe.load(image).retainReference());
            }
            labels.add(cellLabels(truth));
        }

        public void addRandomScenes(ImagePipeline pipe, int count, int drawSize, long seed) {
            for (Map.Entry<Mat, int[][]> e : SyntheticScienceQa.randomScenes(count, drawSize, seed)) {
                try (PointerScope s = new PointerScope()) {
                    pixels.add(pipe.fromBgr(e.getKey()).retainReference());
                }
                labels.add(cellLabels(e.getValue()));
            }
        }

        public int size() {
            return pixels.size();
        }

        @Override
        public void close() {
            pixels.forEach(Tensor::releaseReference);
            pixels.clear();
        }
    }

    public static ImagePipeline pipeline(ClipVisionConfig c) {
        return ImagePipeline.lavin(c.imageSize());
    }

    /** Per cell: colour + 1 (0 empty), then per cell: shape + 1 (0 empty), from [[shape, colour, cell, big], ...]. */
    public static long[] cellLabels(int[][] scene) {
        long[] l = new long[2 * VitTask.CELLS];
        for (int[] s : scene) {
            l[s[2]] = s[1] + 1;
            l[VitTask.CELLS + s[2]] = s[0] + 1;
        }
        return l;
    }

    /** Trains a fresh ViT of config {@code c} on the images and writes config.json + model.safetensors to vitDir. */
    public static void pretrain(ClipVisionConfig c, Images train, Images test, int epochs, long seed, Path vitDir, Path workDir, boolean quiet,
                                PrintStream out) throws IOException {
        Trainer.deleteOutputs(vitDir);
        Files.createDirectories(vitDir);
        try (ClipVisionModel vit = RandomInit.clip(c, seed, ScalarType.Float)) {
            VitTask task = new VitTask(vit, train.pixels, train.labels.toArray(new long[0][]), seed);
            out.printf("  ViT d=%d, %d blocks, %d px, patch %d, %,d parameters; %d images x %d epochs%n", c.hiddenSize(), c.numLayers(),
                    c.imageSize(), c.patchSize(), vit.params().count(), train.size(), epochs);
            TrainConfig tc = new TrainConfig(epochs, 32, 1, 0.08, 1, 0.01, 1.0, seed, 0, 1, workDir, quiet);
            List<Trainer.Metric> m = new Trainer(task, tc).run(false, -1);
            out.printf("  ViT loss %.3f -> %.3f; held-out cells with colour and shape right: %.1f%%%n", m.get(0).loss(),
                    m.get(m.size() - 1).loss(), 100 * task.accuracy(test.pixels, test.labels.toArray(new long[0][])));
            task.closeHead();
            ModelConfigs.writeClipVisionHf(c, vitDir.resolve("config.json"));
            SafetensorsWriter.write(vitDir.resolve("model.safetensors"), new LinkedHashMap<>(vit.params().asMap()), Map.of("format", "pt"));
        }
    }
}
