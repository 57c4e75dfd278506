package io.vladapt.api;

import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaCheckpoint;
import io.vladapt.nn.LlamaModel;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import io.vladapt.vpg.LlmIdentity;
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
    private static TinyModels instance;

    private TinyModels(Path root) throws IOException {
        this.root = root;
        llm = root.resolve("llm");
        vit = Fixtures.dir("clip-vit").toAbsolutePath();
        adapter = root.resolve("lavin").resolve("adapter");
        vpg = root.resolve("vpgtrans").resolve("vpg");
        projector = root.resolve("vpgtrans").resolve("projector");
        Files.createDirectories(llm);
        Path src = Fixtures.dir("llama-tied-gqa");
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) Files.copy(src.resolve(f), llm.resolve(f));
        try (LlamaModel lm = LlamaLoader.load(src, ScalarType.Float)) {
            T.randomiseStd(lm.params().asMap(), 0.15, 11);
            SafetensorsWriter.write(llm.resolve("model.safetensors"), new LinkedHashMap<>(lm.params().asMap()), Map.of("format", "pt"));
        }
        try (Backbones b = Backbones.load(llm, vit, "float32", 0)) {
            AdapterShape shape = new AdapterShape(4, 2, 5, 0.1, 16, 3, false);
            try (MmaAdapters a = MmaAdapters.init(shape.config(b.llm().config(), b.vit().config()), 12)) {
                T.randomiseStd(a.params().asMap(), 0.2, 13);
                MmaCheckpoint.save(adapter, a, b.base());
            }
            QFormerConfig qc = new QFormerConfig(32, 1, 4, 64, 1, b.vit().config().hiddenSize(), 4, 1e-12, 1e-5, 0.1, 0.1);
            try (QFormerVpg q = new QFormerVpg(QFormerInit.random(qc, 14), -1);
                 Projector p = Projector.random(q.width(), LlmIdentity.of("llm", b.llm()), 15)) {
                T.randomiseStd(q.params().asMap(), 0.2, 16);
                q.save(vpg);
                p.save(projector);
            }
        }
    }

    public static synchronized TinyModels get() {
        if (instance == null) {
            try {
                Path root = Files.createTempDirectory("vladapt-tiny-models");
                root.toFile().deleteOnExit();
                instance = new TinyModels(root);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
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
