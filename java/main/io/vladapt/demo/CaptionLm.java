package io.vladapt.demo;

import io.vladapt.data.SceneQuestions;
import io.vladapt.data.SyntheticCaptions;
import io.vladapt.data.SyntheticScene;
import io.vladapt.io.AtomicFiles;
import io.vladapt.io.BpeTokenizerBuilder;
import io.vladapt.io.ModelConfigs;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TextTokenizer;
import io.vladapt.io.WordTokenizerBuilder;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.train.TrainConfig;
import io.vladapt.train.Trainer;
import io.vladapt.vpg.VlDataset;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The VPGTrans demo's language models: small LLaMA-architecture LMs pretrained here on text about
 * synthetic scenes. Each sequence is "{scene description} [BOS] {caption} [EOS]" or "{description}
 * Question: {q} Answer: {a} [EOS]": the description sits where the soft prompts will later
 * sit, so a frozen LM already knows how to turn "what is in the image" into a caption or an answer,
 * and a VPG only has to learn to say what is in the image in that LM's embedding space.
 */
final class CaptionLm {
    enum Tok { WORD, BPE }

    /**
     * @param texts      scenes to write text about
     * @param corpusSeed the text (the same for LMs that must share a word-level vocabulary)
     * @param seed       the LM's initialisation and data order
     */
    record Spec(String name, Tok tokenizer, int dim, int layers, int texts, int epochs, int bpeVocab, long corpusSeed, long seed) {}

    /** Changes whenever the text format changes, so cached LMs of an older format are retrained. */
    private static final String FORMAT = " format=4 (12 slot words, BOS before captions only, loss after the slots)";

    private CaptionLm() {}

    static List<SyntheticCaptions.Sample> corpusScenes(int texts, long seed) {
        return SyntheticCaptions.generate(new SyntheticCaptions.Spec(texts, 0, 64, seed));
    }

    /** Builds (or finds cached) the LM folder: tokenizer, config.json, model.safetensors. */
    static void ensure(Spec s, Path dir, Path work, boolean quiet, PrintStream out) throws IOException {
        Path marker = dir.resolve(".spec");
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(s + FORMAT)) {
            out.println("  " + s.name() + ": (cached)");
            return;
        }
        Trainer.deleteOutputs(dir);
        Files.createDirectories(dir);
        List<SyntheticCaptions.Sample> scenes = corpusScenes(s.texts(), s.corpusSeed());
        List<String> corpus = new ArrayList<>();
        for (SyntheticCaptions.Sample x : scenes) {
            corpus.add(slots(x.scene()));
            corpus.addAll(x.captions());
            for (SceneQuestions.Qa q : x.questions()) corpus.add(VlDataset.vqaPrompt(q.question()) + " " + q.answer());
        }
        int vocab = s.tokenizer() == Tok.WORD ? WordTokenizerBuilder.write(dir, corpus, 1) : BpeTokenizerBuilder.write(dir, corpus, s.bpeVocab());
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            Random r = new Random(s.seed());
            List<long[]> seqs = new ArrayList<>();
            List<Integer> from = new ArrayList<>();
            for (SyntheticCaptions.Sample x : scenes) {
                long[] desc = tok.encode(slots(x.scene()), false);
                // two captions and two questions per scene (more scenes beat more text per scene); only
                // what follows the description is scored: the slot words themselves are random
                for (int k = 0; k < 2; k++) {
                    seqs.add(sequence(desc, tok.bosId(), tok, x.captions().get(r.nextInt(x.captions().size()))));
                    from.add(desc.length);
                }
                for (int k = 0; k < Math.min(2, x.questions().size()); k++) {
                    seqs.add(sequence(desc, -1, tok, VlDataset.vqaPrompt(x.questions().get(k).question()) + " " + x.questions().get(k).answer()));
                    from.add(desc.length);
                }
            }
            LlamaConfig c = new LlamaConfig(vocab, s.dim(), (int) (s.dim() * 2.75), s.layers(), 4, 4, s.dim() / 4, 1e-5, 10000.0, null, 256,
                    false, false, tok.bosId(), List.of(tok.eosId()), tok.padId(), "float32");
            try (LlamaModel lm = RandomInit.llama(c, s.seed(), ScalarType.Float)) {
                out.printf("  %s: %s tokenizer, %d ids; d=%d, %d layers, %,d parameters; %d sequences x %d epochs%n", s.name(),
                        s.tokenizer().name().toLowerCase(), vocab, c.hiddenSize(), c.numLayers(), lm.params().count(), seqs.size(), s.epochs());
                TrainConfig tc = new TrainConfig(s.epochs(), 32, 1, 0.024, 0.3, 0.01, 1.0, s.seed(), 0, 1, work, quiet);
                List<Trainer.Metric> m = new Trainer(new LmTask(lm, seqs, from.stream().mapToInt(Integer::intValue).toArray(), tok.padId()), tc).run(false, -1);
                out.printf("  %s: loss %.3f -> %.3f%n", s.name(), m.get(0).loss(), m.get(m.size() - 1).loss());
                ModelConfigs.writeLlamaHf(c, dir.resolve("config.json"));
                lm.params().asMap().values().forEach(p -> p.set_requires_grad(false));
                SafetensorsWriter.write(dir.resolve("model.safetensors"), new LinkedHashMap<>(lm.params().asMap()), Map.of("format", "pt"));
            }
        }
        AtomicFiles.writeString(marker, s + FORMAT);
    }

    /**
     * The description the LMs read before BOS: three words per grid cell in a fixed order (colour,
     * shape, size, or "none none none"), 12 words in all. A fixed slot layout matters for a tiny frozen
     * LM: a VPG with 12 queries can then learn to stand in for the words one by one, where a free-form
     * sentence of 8-40 words would have to be packed into a few vectors the LM never learned to read
     * (measured: with free-form descriptions and 8 queries the VPG never got past caption templates,
     * CIDEr-D ~40 with or without the image).
     */
    static String slots(SyntheticScene scene) {
        String[] words = new String[12];
        java.util.Arrays.fill(words, "none");
        for (SyntheticScene.Obj o : scene.objects()) {
            words[3 * o.cell()] = o.colorName();
            words[3 * o.cell() + 1] = o.shapeName();
            words[3 * o.cell() + 2] = o.sizeName();
        }
        return String.join(" ", words);
    }

    /** description ids, the separator (BOS before captions, none before "Question:"; -1 = none), the text, EOS. */
    private static long[] sequence(long[] desc, long separator, TextTokenizer tok, String text) {
        long[] t = tok.encode(text, false);
        int sep = separator < 0 ? 0 : 1;
        long[] s = new long[desc.length + sep + t.length + 1];
        System.arraycopy(desc, 0, s, 0, desc.length);
        if (sep == 1) s[desc.length] = separator;
        System.arraycopy(t, 0, s, desc.length + sep, t.length);
        s[s.length - 1] = tok.eosId();
        return s;
    }
}
