package io.vladapt.cli;

import io.vladapt.api.AdapterShape;
import io.vladapt.api.Backbones;
import io.vladapt.api.ChatRequest;
import io.vladapt.api.Completion;
import io.vladapt.api.ImageInput;
import io.vladapt.api.LavinAdapters;
import io.vladapt.api.LavinTraining;
import io.vladapt.api.Preprocess;
import io.vladapt.api.Sampling;
import io.vladapt.api.VisionLanguageModel;
import io.vladapt.data.ScienceQa;
import io.vladapt.ext.Devices;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.data.ScienceQaPrompt;
import io.vladapt.eval.AnswerParser;
import io.vladapt.eval.ScienceQaScore;
import io.vladapt.mma.MmaData;
import io.vladapt.mma.MmaEval;
import io.vladapt.mma.MmaMemory;
import io.vladapt.mma.MmaTrace;
import io.vladapt.mma.MmaModel;
import io.vladapt.nn.GenerationConfig;
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

/** {@code vladapt mma train|eval|chat}: LaVIN's Mixture-of-Modality Adaptation. */
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

        Preprocess preprocess() {
            return Preprocess.parse(preprocess);
        }

        void threads() {
            compute.apply();
        }

        String dtype() {
            return compute.dtype;
        }

        String quantize() {
            return compute.quantize.llm;
        }

        String quantizeVit() {
            return compute.quantize.vit;
        }

        String device() {
            return compute.device();
        }

        /** Refuses, before loading, a run that would not fit in memory (host memory: the CPU). */
        void checkInference(String what, int batch, int positions) {
            if (!Devices.isCpu(compute.device())) return;
            MmaMemory.checkInference(what, LlamaLoader.config(lm), ClipLoader.config(vit, vitHeads), compute.dtype(),
                    Backbones.quantization(lm, vit, quantize(), quantizeVit()), batch, positions);
        }

        /** Tokenizer, LLM and ViT, loaded once. */
        Backbones load() {
            return Backbones.load(lm, vit, compute.dtype, compute.device(), vitHeads, quantize(), quantizeVit());
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

        AdapterShape shape() {
            return new AdapterShape(rank, groups, temperature, dropout, neck, visualTokens, compat);
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
            LavinTraining.Config c = LavinTraining.config(models.lm, models.vit, out).dtype(models.dtype()).device(models.device())
                    .quantize(models.quantize()).quantizeVit(models.quantizeVit())
                    .checkpointing(checkpointing).vitHeads(models.vitHeads)
                    .shape(adapter.shape()).preprocess(models.preprocess()).prompt(fmt.prompt()).split(split).epochs(epochs).batch(batch)
                    .accum(accum).blr(blr).warmupEpochs(warmup).weightDecay(weightDecay).clipNorm(clip).seed(seed).maxSeqLen(maxSeqLen)
                    .checkpointEvery(every).keepCheckpoints(keep).resume(resume).initAdapter(init).skipMissingImages(skipMissing).quiet(quiet);
            if (data != null) c.scienceQa(data);
            if (alpaca != null) c.alpaca(alpaca);
            if (llava != null) c.llava(llava, llavaImages);
            LavinTraining.Result r = LavinTraining.run(c, null);
            if (r.skippedNoImage() > 0) System.err.println("skipped " + r.skippedNoImage() + " problems with missing images");
            System.err.printf("%d training examples (%d skipped: longer than %d positions); %,d trainable parameters%n", r.examples(),
                    r.skippedTooLong(), maxSeqLen, r.trainableParameters());
            if (!io.vladapt.train.DataParallel.leader()) return 0;
            LavinTraining.Step last = r.steps().get(r.steps().size() - 1);
            System.out.printf("trained %d steps, final loss %.4f; adapter in %s; curves in %s%n", last.step(), last.loss(), r.adapter(),
                    out.resolve("training.png"));
            return 0;
        }
    }

    /**
     * Decoding options shared by eval and chat (LaVIN's evaluation: temperature 0.1, top-p 0.75, seed 1,
     * up to 64 new tokens; beam search with --beams N --temperature 0).
     */
    static final class Decoding {
        @Mixin DecodingOptions beam;

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

        int maxNew() {
            return beam.maxNew(64);
        }

        GenerationConfig config() {
            return beam.apply(new GenerationConfig(maxNew(), temperature, topK, topP, seed, List.of(), true));
        }

        Sampling sampling() {
            GenerationConfig g = config();
            return new Sampling(g.maxNewTokens(), temperature, topP, topK, seed, List.of(), g.numBeams(), g.lengthPenalty(), g.minNewTokens(),
                    g.noRepeatNgram());
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

        @Option(names = "--answer", description = "letter (The answer is B.) or choice (The answer is red.) "
                + "(default: what --format's output writes: choice for -W, letter otherwise)")
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
            AnswerParser.Mode mode = answer == null ? AnswerParser.forFormat(fmt.format) : switch (answer) {
                case "letter" -> AnswerParser.Mode.LETTER;
                case "choice" -> AnswerParser.Mode.CHOICE;
                default -> throw new IllegalArgumentException("--answer must be letter or choice, not " + answer);
            };
            AnswerParser parser = new AnswerParser(mode, fallback.equals("random") ? AnswerParser.Fallback.RANDOM : AnswerParser.Fallback.WRONG,
                    decoding.seed);
            models.checkInference("mma eval", batch * decoding.config().numBeams(), maxSeqLen + decoding.maxNew());
            try (Backbones b = models.load(); MmaModel m = LavinAdapters.open(b, adapter, adapterOpts.shape())) {
                ScienceQa sqa = ScienceQa.load(data, skipMissing);
                try (MmaData test = MmaData.scienceQa(sqa, split, m, fmt.prompt(), models.preprocess().pipeline(b.vit().config().imageSize()), maxSeqLen,
                        true, false, decoding.maxNew())) {
                    MmaEval.Result r = MmaEval.run(m, test, decoding.config(), batch, decoding.merged, parser, quiet);
                    Path file = out != null ? out : (Files.isDirectory(adapter) ? adapter : adapter.toAbsolutePath().getParent())
                            .resolve("eval_" + split + ".json");
                    MmaEval.write(r, file, decoding.config(), adapter.toString());
                    String warning = AnswerParser.unparsedWarning(mode, r.outputs(), r.problems().stream().map(p -> p.choices()).toList());
                    if (warning != null) System.err.println(warning);
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
            try (Backbones b = models.load(); MmaModel m = LavinAdapters.open(b, adapter, adapterOpts.shape());
                 PointerScope scope = new PointerScope()) {
                Tensor img = image == null ? null : models.preprocess().pipeline(b.vit().config().imageSize()).load(image);
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
            models.checkInference("mma chat", decoding.config().numBeams(), 512 + decoding.maxNew());
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            try (VisionLanguageModel m = VisionLanguageModel.lavin(models.lm, models.vit, adapter).dtype(models.dtype()).device(models.device())
                    .quantize(models.quantize()).quantizeVit(models.quantizeVit())
                    .vitHeads(models.vitHeads)
                    .pthShape(adapterOpts.shape()).merged(decoding.merged).preprocess(models.preprocess()).template(template).load()) {
                long t0 = System.nanoTime();
                ChatRequest request = new ChatRequest(prompt, image == null ? null : ImageInput.of(image), decoding.sampling(), null);
                Completion c;
                if (request.sampling().whole()) {                                             // beams: the answer comes whole
                    c = m.generate(request);
                    out.print(c.text());
                } else {
                    c = m.generate(request, out::print);
                }
                out.println();
                double s = (System.nanoTime() - t0) / 1e9;
                System.err.printf("%d tokens in %.2f s (%.1f tokens/s)%s%n", c.completionTokens(), s, c.completionTokens() / s,
                        image == null ? ", text-only" : "");
            }
            return 0;
        }
    }
}
