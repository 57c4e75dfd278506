package io.vladapt.cli;

import io.vladapt.data.ImagePipeline;
import io.vladapt.data.InstructionData;
import io.vladapt.data.ScienceQa;
import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.eval.AnswerParser;
import io.vladapt.eval.ScienceQaScore;
import io.vladapt.ext.Devices;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TextTokenizer;
import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.mma.MmaConfig;
import io.vladapt.mma.MmaData;
import io.vladapt.mma.MmaEval;
import io.vladapt.mma.MmaInference;
import io.vladapt.mma.MmaMemory;
import io.vladapt.mma.MmaModel;
import io.vladapt.mma.MmaTask;
import io.vladapt.mma.MmaTrace;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vladapt mma train|eval|chat|forward}: LaVIN's Mixture-of-Modality Adaptation. */
@Command(name = "mma", mixinStandardHelpOptions = true, description = "LaVIN: Mixture-of-Modality Adaptation.",
        subcommands = {MmaCommand.Train.class, MmaCommand.Eval.class, MmaCommand.Chat.class, MmaCommand.Forward.class})
final class MmaCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    /** The frozen backbones, and how images reach them. */
    static final class Models {
        @Option(names = "--config", description = "JSON or YAML file with option values (keys: option names without dashes)")
        Path config;

        @Option(names = "--lm", required = true, description = "LLaMA-family model folder (HF or Meta layout) with its tokenizer")
        Path lm;

        @Option(names = "--vit", required = true, description = "CLIP vision tower: HF folder or OpenAI-format state dict")
        Path vit;

        @Option(names = "--vit-heads", defaultValue = "0", description = "head count of an OpenAI-format ViT (default: width / 64)")
        int vitHeads;

        @Mixin ComputeOptions compute;

        @Option(names = "--preprocess", defaultValue = "lavin", description = "lavin (square resize, ImageNet statistics) or clip "
                + "(short side + centre crop, CLIP statistics) (default: ${DEFAULT-VALUE})")
        String preprocess;

        ImagePipeline pipeline(int size) {
            return switch (preprocess) {
                case "lavin" -> new ImagePipeline(size, ImagePipeline.Resize.SQUASH, ImagePipeline.IMAGENET_MEAN, ImagePipeline.IMAGENET_STD);
                case "clip" -> ImagePipeline.clip(size);
                default -> throw new IllegalArgumentException("--preprocess must be lavin or clip, got " + preprocess);
            };
        }

        void threads() {
            compute.apply();
        }

        LlamaModel loadLm() {
            return LlamaLoader.load(lm, compute.dtype(), compute.device());
        }

        /** Refuses, before loading, a chat or evaluation that would not fit in memory. */
        void checkInference(String what, int batch, int positions) {
            if (!Devices.isCpu(compute.device())) return;                  // host memory only holds the weights briefly
            MmaMemory.checkInference(what, LlamaLoader.config(lm), ClipLoader.config(vit, vitHeads), compute.dtype(), batch, positions);
        }

        String device() {
            return compute.device();
        }

        ClipVisionModel loadVit() {
            return ClipLoader.load(vit, compute.dtype(), compute.device(), vitHeads);
        }

        MmaCheckpoint.Base base(LlamaModel l, ClipVisionModel v) {
            return new MmaCheckpoint.Base(lm.toString(), l.config().vocabSize(), l.config().numLayers(), l.config().hiddenSize(),
                    vit.toString(), v.config().numLayers(), v.config().hiddenSize());
        }
    }

    /** Adapter shapes for a new training run (or to read a LaVIN .pth, which has no config file). */
    static final class AdapterOptions {
        @Option(names = "--rank", defaultValue = "8", description = "adapter bottleneck (default: ${DEFAULT-VALUE})")
        int rank;

        @Option(names = "--groups", defaultValue = "2", description = "up-projection groups (default: ${DEFAULT-VALUE})")
        int groups;

        @Option(names = "--router-temperature", defaultValue = "10", description = "router temperature: LaVIN 10 for 7B, 5 for 13B "
                + "(default: ${DEFAULT-VALUE})")
        double temperature;

        @Option(names = "--dropout", defaultValue = "0.1", description = "adapter dropout (default: ${DEFAULT-VALUE})")
        double dropout;

        @Option(names = "--neck", defaultValue = "128", description = "visual neck width (default: ${DEFAULT-VALUE})")
        int neck;

        @Option(names = "--visual-tokens", defaultValue = "6", description = "ViT blocks whose [CLS] become visual tokens (default: ${DEFAULT-VALUE})")
        int visualTokens;

        @Option(names = "--vit-routing-compat", description = "route ViT adapters by the batch's first image, as LaVIN's code does")
        boolean compat;

        MmaConfig config(LlamaModel l, ClipVisionModel v) {
            AdapterSettings s = new AdapterSettings(groups, 1.0, temperature, dropout);
            return new MmaConfig(l.config().numLayers(), l.config().hiddenSize(), v.config().numLayers(), v.config().hiddenSize(),
                    rank, s, s, neck, visualTokens, compat);
        }
    }

    /** The ScienceQA input/output format. */
    static final class Format {
        @Option(names = "--format", defaultValue = "QCM-ALE", description = "prompt format, e.g. QCM-ALE (LaVIN), CQM-A, QCM-W (default: ${DEFAULT-VALUE})")
        String format;

        @Option(names = "--keyword", defaultValue = "Response:", description = "text ending the input (default: ${DEFAULT-VALUE})")
        String keyword;

        @Option(names = "--use-caption", description = "append captions.json to the context")
        boolean caption;

        ScienceQaPrompt prompt() {
            return new ScienceQaPrompt(format, keyword, caption);
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true, description = "Mixture-of-Modality Training on ScienceQA "
            + "(and/or Alpaca and LLaVA JSON); resumable; writes checkpoints, metrics.jsonl, training.png and the final adapter.")
    static final class Train implements Callable<Integer> {
        @Mixin Models models;
        @Mixin AdapterOptions adapter;
        @Mixin Format fmt;

        @Option(names = "--data", description = "ScienceQA folder (problems.json, pid_splits.json, images/)")
        Path data;

        @Option(names = "--split", defaultValue = "train", description = "(default: ${DEFAULT-VALUE})")
        String split;

        @Option(names = "--alpaca", description = "Alpaca JSON to train on as well")
        Path alpaca;

        @Option(names = "--llava", description = "LLaVA instruction JSON to train on as well")
        Path llava;

        @Option(names = "--llava-images", description = "folder LLaVA's image paths are relative to")
        Path llavaImages;

        @Option(names = "--out", required = true, description = "output folder")
        Path out;

        @Option(names = "--epochs", defaultValue = "20", description = "(default: ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--batch", defaultValue = "4", description = "micro-batch (default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--accum", defaultValue = "8", description = "gradient accumulation (default: ${DEFAULT-VALUE})")
        int accum;

        @Option(names = "--blr", defaultValue = "9e-3", description = "base lr: lr = blr x effective batch / 256 (default: ${DEFAULT-VALUE})")
        double blr;

        @Option(names = "--warmup", defaultValue = "2", description = "warm-up epochs (default: ${DEFAULT-VALUE})")
        double warmup;

        @Option(names = "--weight-decay", defaultValue = "0.02", description = "(default: ${DEFAULT-VALUE})")
        double weightDecay;

        @Option(names = "--clip-grad", defaultValue = "0", description = "max gradient norm, 0 = off (default: ${DEFAULT-VALUE})")
        double clip;

        @Option(names = "--seed", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--max-seq-len", defaultValue = "512", description = "longer samples are skipped and counted (default: ${DEFAULT-VALUE})")
        int maxSeqLen;

        @Option(names = "--checkpoint-every", defaultValue = "0", description = "optimizer steps between checkpoints, 0 = epoch ends (default: ${DEFAULT-VALUE})")
        int every;

        @Option(names = "--keep", defaultValue = "3", description = "checkpoints kept (default: ${DEFAULT-VALUE})")
        int keep;

        @Option(names = "--resume", description = "continue from the newest checkpoint in --out")
        boolean resume;

        @Option(names = "--init-adapter", description = "start from these adapters (a saved folder or LaVIN's .pth)")
        Path init;

        @Option(names = "--skip-missing-images", description = "skip problems whose image is missing (counted) instead of failing")
        boolean skipMissing;

        @Option(names = "--quiet", description = "no progress bar")
        boolean quiet;

        @Option(names = "--checkpointing", defaultValue = "auto", description = "activation checkpointing of the frozen blocks (recompute "
                + "each in backward): auto (when training would not fit in memory otherwise), on, off (default: ${DEFAULT-VALUE})")
        String checkpointing;

        @Override
        public Integer call() throws Exception {
            models.threads();
            if (data == null && alpaca == null && llava == null) throw new IllegalArgumentException("give --data, --alpaca and/or --llava");
            boolean ckpt = MmaMemory.checkTraining(LlamaLoader.config(models.lm), ClipLoader.config(models.vit, models.vitHeads),
                    models.compute.dtype(), batch, maxSeqLen, checkpointing);
            try (TextTokenizer tok = TextTokenizer.load(models.lm);
                 LlamaModel lm = models.loadLm();
                 ClipVisionModel vit = models.loadVit();
                 MmaModel m = new MmaModel(lm, vit, MmaAdapters.init(adapter.config(lm, vit), seed).to(models.device()), tok);
                 MmaData train = new MmaData()) {
                if (init != null) loadAdapters(init, m.adapters());
                ImagePipeline pipe = models.pipeline(vit.config().imageSize());
                if (data != null) {
                    ScienceQa sqa = ScienceQa.load(data, skipMissing);
                    if (!sqa.skipped().isEmpty()) System.err.println("skipped " + sqa.skipped().size() + " problems with missing images");
                    train.addAll(MmaData.scienceQa(sqa, split, m, fmt.prompt(), pipe, maxSeqLen, true, true, 0));
                }
                if (alpaca != null) train.addAll(MmaData.instructions(InstructionData.alpaca(alpaca), m, pipe, maxSeqLen));
                if (llava != null) {
                    Path root = llavaImages != null ? llavaImages : llava.toAbsolutePath().getParent();
                    train.addAll(MmaData.instructions(InstructionData.llava(llava, root), m, pipe, maxSeqLen));
                }
                System.err.printf("%d training examples (%d skipped: longer than %d positions); %,d trainable parameters%n",
                        train.examples().size(), train.skippedTooLong(), maxSeqLen, m.adapters().count());
                TrainConfig tc = new TrainConfig(epochs, batch, accum, blr, warmup, weightDecay, clip, seed, every, keep, out, quiet);
                MmaCheckpoint.Base base = models.base(lm, vit);
                List<Trainer.Metric> metrics = new Trainer(new MmaTask(m, train.examples(), base).checkpointing(ckpt), tc).run(resume, -1);
                if (!io.vladapt.train.DataParallel.leader()) return 0;   // rank 0 writes the final adapter
                Path final_ = out.resolve("adapter");
                Trainer.deleteOutputs(final_);
                MmaCheckpoint.save(final_, m.adapters(), base);
                Trainer.Metric last = metrics.get(metrics.size() - 1);
                System.out.printf("trained %d steps, final loss %.4f; adapter in %s; curves in %s%n", last.step(), last.loss(), final_,
                        out.resolve("training.png"));
            }
            return 0;
        }
    }

    /** A saved adapter folder, or LaVIN's released .pth (whose shapes come from the options). */
    static void loadAdapters(Path p, MmaAdapters into) {
        if (Files.isDirectory(p)) MmaCheckpoint.load(p, into);
        else MmaCheckpoint.loadLavinPth(p, into);
    }

    /** Builds the model for evaluation or chat: adapter config from the folder, or from the options for a .pth. */
    static MmaModel open(Path adapterPath, AdapterOptions opts, LlamaModel lm, ClipVisionModel vit, TextTokenizer tok) {
        MmaConfig c = Files.isDirectory(adapterPath) ? MmaCheckpoint.config(adapterPath) : opts.config(lm, vit);
        MmaAdapters a = MmaAdapters.init(c, 0);
        loadAdapters(adapterPath, a);                                       // on the CPU, then to the models' device
        MmaModel m = new MmaModel(lm, vit, a.to(io.vladapt.nn.Tensors.deviceName(lm.lmHead())), tok);
        if (Files.isDirectory(adapterPath)) MmaCheckpoint.checkBase(MmaCheckpoint.base(adapterPath), m, adapterPath);
        return m;
    }

    /** Decoding options shared by eval and chat (LaVIN's evaluation: temperature 0.1, top-p 0.75, seed 1). */
    static final class Decoding {
        @Option(names = "--max-new-tokens", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
        int maxNew;

        @Option(names = "--temperature", defaultValue = "0.1", description = "sampling temperature, 0 = greedy (default: ${DEFAULT-VALUE})")
        double temperature;

        @Option(names = "--top-p", defaultValue = "0.75", description = "(default: ${DEFAULT-VALUE})")
        double topP;

        @Option(names = "--top-k", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
        int topK;

        @Option(names = "--sampling-seed", defaultValue = "1", description = "(default: ${DEFAULT-VALUE}, LaVIN's)")
        long seed;

        @Option(names = "--merged", description = "fold the LLM adapters into q/k/v per modality (re-parameterisation)")
        boolean merged;

        GenerationConfig config() {
            return new GenerationConfig(maxNew, temperature, topK, topP, seed, List.of(), true);
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true, description = "ScienceQA evaluation: per-question predictions and "
            + "the category table to JSON, decoding settings recorded.")
    static final class Eval implements Callable<Integer> {
        @Mixin Models models;
        @Mixin AdapterOptions adapterOpts;
        @Mixin Format fmt;
        @Mixin Decoding decoding;

        @Option(names = "--adapter", required = true, description = "adapter folder (or LaVIN .pth with the shape options)")
        Path adapter;

        @Option(names = "--data", required = true, description = "ScienceQA folder")
        Path data;

        @Option(names = "--split", defaultValue = "test", description = "(default: ${DEFAULT-VALUE})")
        String split;

        @Option(names = "--answer", defaultValue = "letter", description = "letter (The answer is B.) or choice (The answer is red.) "
                + "(default: ${DEFAULT-VALUE})")
        String answer;

        @Option(names = "--fallback", defaultValue = "wrong", description = "unparseable answers: wrong, or random as LaVIN (seeded) "
                + "(default: ${DEFAULT-VALUE})")
        String fallback;

        @Option(names = "--batch", defaultValue = "16", description = "(default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--max-seq-len", defaultValue = "512", description = "(default: ${DEFAULT-VALUE})")
        int maxSeqLen;

        @Option(names = "--skip-missing-images", description = "skip problems whose image is missing (counted)")
        boolean skipMissing;

        @Option(names = "--out", description = "results JSON (default: <adapter>/eval_<split>.json)")
        Path out;

        @Option(names = "--quiet", description = "no progress bar")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            models.threads();
            models.checkInference("mma eval", batch, maxSeqLen + decoding.maxNew);
            AnswerParser parser = new AnswerParser(answer.equals("choice") ? AnswerParser.Mode.CHOICE : AnswerParser.Mode.LETTER,
                    fallback.equals("random") ? AnswerParser.Fallback.RANDOM : AnswerParser.Fallback.WRONG, decoding.seed);
            try (TextTokenizer tok = TextTokenizer.load(models.lm);
                 LlamaModel lm = models.loadLm();
                 ClipVisionModel vit = models.loadVit();
                 MmaModel m = open(adapter, adapterOpts, lm, vit, tok)) {
                ScienceQa sqa = ScienceQa.load(data, skipMissing);
                try (MmaData test = MmaData.scienceQa(sqa, split, m, fmt.prompt(), models.pipeline(vit.config().imageSize()), maxSeqLen,
                        true, false, decoding.maxNew)) {
                    MmaEval.Result r = MmaEval.run(m, test, decoding.config(), batch, decoding.merged, parser, quiet);
                    Path file = out != null ? out : (Files.isDirectory(adapter) ? adapter : adapter.toAbsolutePath().getParent())
                            .resolve("eval_" + split + ".json");
                    MmaEval.write(r, file, decoding.config(), adapter.toString());
                    System.out.println(ScienceQaScore.header());
                    System.out.println(ScienceQaScore.row(adapter.getFileName().toString(), r.table()));
                    System.out.printf("%d problems in %.1f s (%d skipped: longer than the context); predictions in %s%n",
                            r.problems().size(), r.seconds(), r.skippedTooLong(), file);
                }
            }
            return 0;
        }
    }

    @Command(name = "forward", mixinStandardHelpOptions = true, description = "One forward pass over a prompt (and an image): "
            + "logits, hidden states, every routing weight, the [CLS] states and visual tokens to safetensors, named as in "
            + "LaVIN's golden reference script, to compare with a LaVIN run tensor by tensor.")
    static final class Forward implements Callable<Integer> {
        @Mixin Models models;
        @Mixin AdapterOptions adapterOpts;

        @Option(names = "--adapter", required = true, description = "adapter folder (or LaVIN .pth with the shape options)")
        Path adapter;

        @Option(names = "--image", description = "image file; without it the sample is text-only (\"Image: N/A\")")
        Path image;

        @Option(names = "--prompt", required = true, description = "the model input, used as given (e.g. a QCM input ending in Response:)")
        String prompt;

        @Option(names = "--answer", description = "an answer to score: adds it and EOS, and the loss on them")
        String answer;

        @Option(names = "--out", required = true, description = "output .safetensors file (written atomically)")
        Path out;

        @Override
        public Integer call() throws Exception {
            models.threads();
            if (image != null && !Files.isRegularFile(image)) throw new IllegalArgumentException("no image file " + image);
            models.checkInference("mma forward", 1, 512);
            try (TextTokenizer tok = TextTokenizer.load(models.lm);
                 LlamaModel lm = models.loadLm();
                 ClipVisionModel vit = models.loadVit();
                 MmaModel m = open(adapter, adapterOpts, lm, vit, tok); PointerScope scope = new PointerScope()) {
                Tensor img = image == null ? null : models.pipeline(vit.config().imageSize()).load(image);
                java.util.Map<String, Tensor> result = MmaTrace.forward(m, prompt, answer, img);
                SafetensorsWriter.write(out, result, java.util.Map.of("producer", "vladapt mma forward"));
                Tensor ids = result.get("input_ids");
                System.out.printf("wrote %d tensors to %s (%d positions: t_m + %d ids%s)%n", result.size(), out, ids.size(1) + 1,
                        ids.size(1), result.containsKey("loss") ? String.format(", loss %.6f", result.get("loss").item_double()) : "");
                for (int i = 0; i < m.config().llmLayers(); i++) {
                    Tensor w = result.get("llm_routing." + i).select(0, 0);                    // (2)
                    System.out.printf("layer %d routing weights: %.6f %.6f%n", i, w.select(0, 0).item_double(), w.select(0, 1).item_double());
                }
            }
            return 0;
        }
    }

    @Command(name = "chat", mixinStandardHelpOptions = true, description = "Answer a prompt about an image (or text only), "
            + "streaming the tokens.")
    static final class Chat implements Callable<Integer> {
        @Mixin Models models;
        @Mixin AdapterOptions adapterOpts;
        @Mixin Decoding decoding;

        @Option(names = "--adapter", required = true, description = "adapter folder (or LaVIN .pth with the shape options)")
        Path adapter;

        @Option(names = "--image", description = "image file; without it the model answers text-only")
        Path image;

        @Option(names = "--prompt", required = true, description = "the question")
        String prompt;

        @Option(names = "--template", defaultValue = "Instruction: {prompt}\nResponse:",
                description = "how the prompt is wrapped (LaVIN's chatbot format by default; ScienceQA models want the QCM input)")
        String template;

        @Override
        public Integer call() {
            models.threads();
            models.checkInference("mma chat", 1, 512 + decoding.maxNew);
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            try (TextTokenizer tok = TextTokenizer.load(models.lm);
                 LlamaModel lm = models.loadLm();
                 ClipVisionModel vit = models.loadVit();
                 MmaModel m = open(adapter, adapterOpts, lm, vit, tok);
                 MmaInference inf = new MmaInference(m, decoding.merged); PointerScope scope = new PointerScope()) {
                Tensor img = image == null ? null : models.pipeline(vit.config().imageSize()).load(image);
                List<Long> sofar = new java.util.ArrayList<>();
                String[] printed = {""};
                long t0 = System.nanoTime();
                List<long[]> ids = inf.generate(List.of(new MmaInference.Prompt(template.replace("{prompt}", prompt), img)),
                        decoding.config(), (row, token) -> {
                            sofar.add(token);
                            String text = tok.decode(sofar.stream().mapToLong(Long::longValue).toArray());
                            if (text.startsWith(printed[0])) out.print(text.substring(printed[0].length()));
                            printed[0] = text;
                        });
                out.println();
                double s = (System.nanoTime() - t0) / 1e9;
                System.err.printf("%d tokens in %.2f s (%.1f tokens/s)%s%n", ids.get(0).length, s, ids.get(0).length / s,
                        image == null ? ", text-only" : "");
            }
            return 0;
        }
    }
}
