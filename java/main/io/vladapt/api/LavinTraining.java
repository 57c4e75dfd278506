package io.vladapt.api;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.InstructionData;
import io.vladapt.data.ScienceQa;
import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.ext.Devices;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaData;
import io.vladapt.mma.MmaMemory;
import io.vladapt.mma.MmaModel;
import io.vladapt.mma.MmaTask;
import io.vladapt.nn.Params;
import io.vladapt.train.DataParallel;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.TrainTask;
import io.vladapt.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * LaVIN's Mixture-of-Modality Training as a library call: frozen LLM and ViT, MM-Adapters trained
 * on ScienceQA and/or Alpaca / LLaVA instruction data; checkpoints, metrics.jsonl and training.png
 * in the output folder, the final adapter in {@code out/adapter}. Resumable: a run continued with
 * {@link Config#resume} reaches the weights of an uninterrupted one.
 *
 * <pre>{@code
 * LavinTraining.Result r = LavinTraining.run(
 *         LavinTraining.config(llm, vit, Path.of("runs/lavin")).scienceQa(Path.of("ScienceQA")).epochs(20),
 *         p -> System.out.printf("%d/%d loss %.3f%n", p.microBatches(), p.totalMicroBatches(), p.loss()));
 * }</pre>
 */
public final class LavinTraining {
    private LavinTraining() {}

    /** Training settings; defaults are LaVIN's (see the README). */
    public static Config config(Path llm, Path vit, Path out) {
        return new Config(llm, vit, out);
    }

    /** Progress of a run, after every micro-batch. */
    public record Progress(long microBatches, long totalMicroBatches, double loss) {}

    /** Receives progress from the training thread. */
    @FunctionalInterface
    public interface Listener {
        void onProgress(Progress p);
    }

    /** One optimizer step's record (a metrics.jsonl line). */
    public record Step(long step, double epoch, double loss, double lr, double samplesPerSecond, double seconds) {}

    /**
     * @param steps               every optimizer step of the run (resumed ones included)
     * @param adapter             the final adapter folder
     * @param examples            training examples used
     * @param skippedTooLong      samples longer than maxSeqLen (skipped, never cut)
     * @param skippedNoImage      ScienceQA problems whose image was missing (with skipMissingImages)
     * @param trainableParameters adapter parameters trained
     */
    public record Result(List<Step> steps, Path adapter, int examples, int skippedTooLong, int skippedNoImage, long trainableParameters) {}

    /** Runs (or, with {@link Config#resume}, continues) a training run; listener may be null. */
    public static Result run(Config c, Listener listener) throws IOException {
        if (c.scienceQa == null && c.alpaca == null && c.llava == null) {
            throw new IllegalArgumentException("no training data: give a ScienceQA folder, Alpaca JSON and/or LLaVA JSON");
        }
        boolean checkpointing = Devices.isCpu(c.device) ? MmaMemory.checkTraining(LlamaLoader.config(c.llm),
                ClipLoader.config(c.vit, c.vitHeads), Backbones.dtype(c.dtype, c.device),
                Backbones.quantization(c.llm, c.vit, c.quantize, c.quantizeVit), c.batch, c.maxSeqLen, c.checkpointing)
                : c.checkpointing.equals("on");
        try (Backbones b = Backbones.load(c.llm, c.vit, c.dtype, c.device, c.vitHeads, c.quantize, c.quantizeVit);
             MmaModel m = new MmaModel(b.llm(), b.vit(), MmaAdapters.init(c.shape.config(b.llm().config(), b.vit().config()), c.seed)
                     .to(c.device.equals("cpu") ? "cpu" : io.vladapt.nn.Tensors.deviceName(b.llm().lmHead())), b.tokenizer());
             MmaData train = new MmaData()) {
            if (c.initAdapter != null) LavinAdapters.load(c.initAdapter, m.adapters());
            ImagePipeline pipe = c.preprocess.pipeline(b.vit().config().imageSize());
            int noImage = 0;
            if (c.scienceQa != null) {
                ScienceQa sqa = ScienceQa.load(c.scienceQa, c.skipMissingImages);
                noImage = sqa.skipped().size();
                train.addAll(MmaData.scienceQa(sqa, c.split, m, c.prompt, pipe, c.maxSeqLen, true, true, 0));
            }
            if (c.alpaca != null) train.addAll(MmaData.instructions(InstructionData.alpaca(c.alpaca), m, pipe, c.maxSeqLen));
            if (c.llava != null) {
                Path root = c.llavaImages != null ? c.llavaImages : c.llava.toAbsolutePath().getParent();
                train.addAll(MmaData.instructions(InstructionData.llava(c.llava, root), m, pipe, c.maxSeqLen));
            }
            TrainConfig tc = new TrainConfig(c.epochs, c.batch, c.accum, c.blr, c.warmupEpochs, c.weightDecay, c.clipNorm, c.seed,
                    c.checkpointEvery, c.keep, c.out, c.quiet);
            MmaTask task = new MmaTask(m, train.examples(), b.base()).checkpointing(checkpointing);
            Reporting reporting = listener == null ? null : new Reporting(task, listener);
            Trainer trainer = new Trainer(reporting != null ? reporting : task, tc);
            if (reporting != null) reporting.total = trainer.totalSteps() * tc.accumSteps();
            List<Trainer.Metric> metrics = trainer.run(c.resume, -1);
            Path adapter = c.out.resolve("adapter");
            if (DataParallel.leader()) {                                                       // rank 0 writes the final adapter
                Trainer.deleteOutputs(adapter);
                MmaCheckpoint.save(adapter, m.adapters(), b.base());
            }
            List<Step> steps = metrics.stream().map(x -> new Step(x.step(), x.epoch(), x.loss(), x.lr(), x.samplesPerSecond(), x.seconds()))
                    .toList();
            return new Result(steps, adapter, train.examples().size(), train.skippedTooLong(), noImage, m.adapters().count());
        }
    }

    /** The MMA task, reporting each micro-batch's loss to a listener. */
    private static final class Reporting implements TrainTask {
        private final TrainTask task;
        private final Listener listener;
        private long done, total;

        Reporting(TrainTask task, Listener listener) {
            this.task = task;
            this.listener = listener;
        }

        @Override
        public int size() {
            return task.size();
        }

        @Override
        public Tensor loss(int[] examples) {
            Tensor l = task.loss(examples);
            listener.onProgress(new Progress(++done, total, l.item_double()));
            return l;
        }

        @Override
        public double lossAndBackward(int[] examples, double scale) {
            double v = task.lossAndBackward(examples, scale);                // keeps the task's checkpointing
            listener.onProgress(new Progress(++done, total, v));
            return v;
        }

        @Override
        public Params trainable() {
            return task.trainable();
        }

        @Override
        public void save(Path dir) throws IOException {
            task.save(dir);
        }

        @Override
        public void load(Path dir) {
            task.load(dir);
        }
    }

    /** Where the data is and how to train; fluent setters, LaVIN's defaults. */
    public static final class Config {
        final Path llm, vit, out;
        Path scienceQa, alpaca, llava, llavaImages, initAdapter;
        String split = "train", dtype = "auto", device = "cpu", checkpointing = "auto", quantize, quantizeVit;
        ScienceQaPrompt prompt = ScienceQaPrompt.lavin();
        AdapterShape shape = AdapterShape.LAVIN;
        Preprocess preprocess = Preprocess.LAVIN;
        int vitHeads, epochs = 20, batch = 4, accum = 8, maxSeqLen = 512, checkpointEvery, keep = 3;
        double blr = 9e-3, warmupEpochs = 2, weightDecay = 0.02, clipNorm;
        long seed;
        boolean resume, skipMissingImages, quiet;

        Config(Path llm, Path vit, Path out) {
            this.llm = llm;
            this.vit = vit;
            this.out = out;
        }

        /** A ScienceQA folder as distributed (problems.json, pid_splits.json, images/). */
        public Config scienceQa(Path dir) { scienceQa = dir; return this; }

        /** The ScienceQA split to train on (default train). */
        public Config split(String s) { split = s; return this; }

        /** Alpaca JSON (text-only instructions) to train on as well. */
        public Config alpaca(Path file) { alpaca = file; return this; }

        /** LLaVA instruction JSON; images relative to {@code images} (null: the file's folder). */
        public Config llava(Path file, Path images) { llava = file; llavaImages = images; return this; }

        /** ScienceQA prompt format (default QCM-ALE, "Response:", no captions). */
        public Config prompt(ScienceQaPrompt p) { prompt = p; return this; }

        public Config dtype(String d) { dtype = d; return this; }
        /**
         * LaVIN-lite: the LLM's frozen projections quantised as they load, "int8", "int4", "int4:64", "int4:32"
         * (null: dense; a pre-quantised folder loads as stored). Adapters get their gradients through the
         * dequantised weights, which have none; activation checkpointing is then on unless "off" is asked for.
         */
        public Config quantize(String scheme) { quantize = scheme; return this; }
        /** The same for the ViT's projections (default: dense). */
        public Config quantizeVit(String scheme) { quantizeVit = scheme; return this; }
        /** "cpu" (default), "cuda", "cuda:N". */
        public Config device(String d) { device = d; return this; }
        /** Activation checkpointing of the frozen blocks: "auto" (default: when training would not fit otherwise), "on", "off". */
        public Config checkpointing(String mode) { checkpointing = mode; return this; }

        public Config vitHeads(int h) { vitHeads = h; return this; }

        public Config shape(AdapterShape s) { shape = s; return this; }

        public Config preprocess(Preprocess p) { preprocess = p; return this; }

        /** Start from these adapters (a saved folder or LaVIN's .pth). */
        public Config initAdapter(Path p) { initAdapter = p; return this; }

        public Config epochs(int n) { epochs = n; return this; }

        /** Micro-batch size. */
        public Config batch(int n) { batch = n; return this; }

        /** Micro-batches per optimizer step. */
        public Config accum(int n) { accum = n; return this; }

        /** Base lr: lr = blr x effective batch / 256. */
        public Config blr(double v) { blr = v; return this; }

        public Config warmupEpochs(double v) { warmupEpochs = v; return this; }

        public Config weightDecay(double v) { weightDecay = v; return this; }

        /** Max gradient norm, 0 = off. */
        public Config clipNorm(double v) { clipNorm = v; return this; }

        public Config seed(long s) { seed = s; return this; }

        /** Longer samples are skipped and counted, never cut. */
        public Config maxSeqLen(int n) { maxSeqLen = n; return this; }

        /** Optimizer steps between checkpoints (0: at epoch ends). */
        public Config checkpointEvery(int n) { checkpointEvery = n; return this; }

        public Config keepCheckpoints(int n) { keep = n; return this; }

        /** Continue from the newest checkpoint in the output folder. */
        public Config resume(boolean r) { resume = r; return this; }

        /** Skip (and count) ScienceQA problems whose image is missing instead of failing. */
        public Config skipMissingImages(boolean s) { skipMissingImages = s; return this; }

        /** No progress bar. */
        public Config quiet(boolean q) { quiet = q; return this; }
    }
}
