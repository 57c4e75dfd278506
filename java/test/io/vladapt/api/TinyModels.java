package io.vladapt.api;

import io.vladapt.io.LlamaLoader;
import io.vladapt.io.ModelConfigs;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.RandomInit;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.nn.LlamaModel;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import io.vladapt.vpg.transfer.LlmIdentity;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.QFormerConfig;
import io.vladapt.vpg.QFormerInit;
import io.vladapt.vpg.QFormerVpg;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Model folders for the API, server and LangChain4j tests, made once per test JVM: the fixture LLM
 * (llama-tied-gqa, its weights redrawn with a larger spread so that greedy choices are decisive) with
 * its tokenizer, the fixture CLIP ViT, random trained-looking LaVIN adapters, and a random Q-Former VPG
 * with its projector.
 */
public final class TinyModels {
    public final Path root, llm, vit, adapter, vpg, projector;
    /** A wider LLM (d = 256, 2 layers) with its own adapters: its KV cache per sequence is large enough for memory tests to see. */
    public final Path wideLlm, wideAdapter;
    private static TinyModels instance;

    private TinyModels(Path root) throws IOException {
        this.root = root;
        llm = root.resolve("llm");
        vit = Fixtures.dir("clip-vit").toAbsolutePath();
        adapter = root.resolve("lavin").resolve("adapter");
        vpg = root.resolve("vpgtrans").resolve("vpg");
        projector = root.resolve("vpgtrans").resolve("projector");
        wideLlm = root.resolve("wide-llm");
        wideAdapter = root.resolve("wide").resolve("adapter");
        Path src = Fixtures.dir("llama-tied-gqa");
        try (LlamaModel lm = LlamaLoader.load(src, ScalarType.Float)) {
            writeLlm(llm, lm, src);
            LlamaConfig c = lm.config();
            LlamaConfig wide = new LlamaConfig(c.vocabSize(), 256, 512, 2, 4, 4, 64, 1e-5, 10000.0, null, 512, false, false, c.bosTokenId(),
                    c.eosTokenIds(), c.padTokenId(), "float32");
            try (LlamaModel w = RandomInit.llama(wide, 17, ScalarType.Float)) {
                writeLlm(wideLlm, w, src);
                ModelConfigs.writeLlamaHf(wide, wideLlm.resolve("config.json"));
            }
        }
        writeAdapter(wideLlm, wideAdapter, 18);
        try (Backbones b = Backbones.load(llm, vit, "float32", 0)) {
            writeAdapter(llm, adapter, 12);
            QFormerConfig qc = new QFormerConfig(32, 1, 4, 64, 1, b.vit().config().hiddenSize(), 4, 1e-12, 1e-5, 0.1, 0.1);
            try (QFormerVpg q = new QFormerVpg(QFormerInit.random(qc, 14), -1);
                 Projector p = Projector.random(q.width(), LlmIdentity.of("llm", b.llm()), 15)) {
                T.randomiseStd(q.params().asMap(), 0.2, 16);
                q.save(vpg);
                p.save(projector);
            }
        }
    }

    /** Tokenizer files of the fixture, the weights redrawn with a larger spread (decisive greedy choices). */
    private static void writeLlm(Path dir, LlamaModel lm, Path tokenizerFrom) throws IOException {
        Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) Files.copy(tokenizerFrom.resolve(f), dir.resolve(f));
        T.randomiseStd(lm.params().asMap(), 0.15, 11);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), new LinkedHashMap<>(lm.params().asMap()), Map.of("format", "pt"));
    }

    /** Random trained-looking adapters (rank 4, neck 16, 3 visual tokens) for the LLM in llmDir and the fixture ViT. */
    private void writeAdapter(Path llmDir, Path out, long seed) throws IOException {
        try (Backbones b = Backbones.load(llmDir, vit, "float32", 0)) {
            AdapterShape shape = new AdapterShape(4, 2, 5, 0.1, 16, 3, false);
            try (MmaAdapters a = MmaAdapters.init(shape.config(b.llm().config(), b.vit().config()), seed)) {
                T.randomiseStd(a.params().asMap(), 0.2, seed + 1);
                MmaCheckpoint.save(out, a, b.base());
            }
        }
    }

    public static synchronized TinyModels get() {
        if (instance == null) {
            try {
                Path root = Files.createTempDirectory("vladapt-tiny-models");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
                instance = new TinyModels(root);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    private static void deleteTree(Path root) {
        try (java.util.stream.Stream<Path> s = Files.walk(root)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at exit
        }
    }

    /** A PNG of a few coloured rectangles, different for each seed. */
    public static byte[] png(long seed, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        Random r = new Random(seed);
        g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
        g.fillRect(0, 0, w, h);
        for (int i = 0; i < 4; i++) {
            g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
            g.fillRect(r.nextInt(w), r.nextInt(h), 1 + r.nextInt(w / 2), 1 + r.nextInt(h / 2));
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
