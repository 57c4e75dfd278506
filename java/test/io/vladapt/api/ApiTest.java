package io.vladapt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.cli.Main;
import io.vladapt.data.ImagePipeline;
import io.vladapt.io.FormatException;
import io.vladapt.mma.MmaInference;
import io.vladapt.mma.MmaModel;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.testutil.T;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.VlDataset;
import io.vladapt.vpg.VlModel;
import io.vladapt.vpg.Vpg;
import io.vladapt.vpg.Vpgs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public API against the paths it stands on: the CLI, MmaInference (eval's batch generator) and VlModel. */
class ApiTest {
    static final String TEMPLATE = "Instruction: {prompt}\nResponse:";
    static TinyModels t;
    static VisionLanguageModel lavin;
    static Path image;

    @BeforeAll
    static void load() throws Exception {
        T.opts(org.bytedeco.pytorch.global.torch.ScalarType.Float);   // natives and test threads
        t = TinyModels.get();
        lavin = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).dtype("float32").load();
        image = t.root.resolve("scene.png");
        Files.write(image, TinyModels.png(1, 40, 30));
    }

    @AfterAll
    static void close() {
        lavin.close();
    }

    static ChatRequest greedy(ImageInput img, String text, int n) {
        return new ChatRequest(text, img, Sampling.greedy(n), null);
    }

    @Test
    void chatEqualsTheCliAndTheEvalPathGreedy() throws Exception {
        String prompt = "what is in the picture";
        String api = lavin.generate(greedy(ImageInput.of(image), prompt, 12)).text();
        String apiText = lavin.generate(greedy(null, prompt, 12)).text();
        assertFalse(api.isEmpty());
        // the path evaluation uses: MmaInference over Generator's batched decoding
        try (Backbones b = Backbones.load(t.llm, t.vit, "float32", 0); MmaModel m = LavinAdapters.open(b, t.adapter, AdapterShape.LAVIN);
             MmaInference inf = new MmaInference(m, false); PointerScope s = new PointerScope()) {
            Tensor px = Preprocess.LAVIN.pipeline(b.vit().config().imageSize()).load(image);
            String text = TEMPLATE.replace("{prompt}", prompt);
            List<String> got = inf.answer(List.of(new MmaInference.Prompt(text, px), new MmaInference.Prompt(text, null)),
                    GenerationConfig.greedy(12), null);
            assertEquals(got.get(0), api, "API vs MmaInference, with image");
            assertEquals(got.get(1), apiText, "API vs MmaInference, text only");
        }
        // the command line, greedy
        String cli = runCli("mma", "chat", "--lm", t.llm.toString(), "--vit", t.vit.toString(), "--adapter", t.adapter.toString(),
                "--image", image.toString(), "--prompt", prompt, "--temperature", "0", "--max-new-tokens", "12", "--dtype", "float32");
        assertEquals(api, cli, "API vs vladapt mma chat");
    }

    /** Beam search: the API's whole-answer path, MmaInference (eval) and mma chat agree; streaming it is refused. */
    @Test
    void beamSearchEqualsTheEvalPathAndTheCli() throws Exception {
        String prompt = "what is in the picture";
        Sampling beams = Sampling.greedy(12).withBeams(3, 1.0).withMinTokens(2);
        String api = lavin.generate(new ChatRequest(prompt, ImageInput.of(image), beams, null)).text();
        String apiText = lavin.generate(new ChatRequest(prompt, null, beams, null)).text();
        try (Backbones b = Backbones.load(t.llm, t.vit, "float32", 0); MmaModel m = LavinAdapters.open(b, t.adapter, AdapterShape.LAVIN);
             MmaInference inf = new MmaInference(m, false); PointerScope s = new PointerScope()) {
            Tensor px = Preprocess.LAVIN.pipeline(b.vit().config().imageSize()).load(image);
            String text = TEMPLATE.replace("{prompt}", prompt);
            List<String> got = inf.answer(List.of(new MmaInference.Prompt(text, px), new MmaInference.Prompt(text, null)),
                    GenerationConfig.beams(3, 1.0, 2, 12), null);
            assertEquals(got.get(0), api, "API vs MmaInference, with image");
            assertEquals(got.get(1), apiText, "API vs MmaInference, text only");
        }
        String cli = runCli("mma", "chat", "--lm", t.llm.toString(), "--vit", t.vit.toString(), "--adapter", t.adapter.toString(),
                "--image", image.toString(), "--prompt", prompt, "--temperature", "0", "--max-new-tokens", "12", "--beams", "3",
                "--min-new-tokens", "2", "--length-penalty", "1", "--dtype", "float32");
        assertEquals(api, cli, "API vs vladapt mma chat --beams 3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lavin.stream(new ChatRequest(prompt, null, beams, null)));
        assertTrue(e.getMessage().contains("cannot stream"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sampling.greedy(4).withBeams(2, 1).withStop(List.of("x"))).getMessage()
                .contains("stop strings"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampling(4, 0.7, 1, 0, 1, List.of()).withBeams(2, 1)).getMessage()
                .contains("temperature 0"));
    }

    static String runCli(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.commandLine(args).execute(args), "exit code of vladapt " + String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        return out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
    }

    @Test
    void sixteenConcurrentCallersGetTheSequentialAnswers() throws Exception {
        List<ChatRequest> reqs = new ArrayList<>();
        String[] prompts = {"describe it", "what colour is the big square", "how many shapes", "is there a circle on the left side of it"};
        for (int i = 0; i < 16; i++) {
            ImageInput img = i % 5 == 4 ? null : ImageInput.of(TinyModels.png(i % 3, 32 + i, 32));
            Sampling s = i % 4 == 3 ? new Sampling(6 + i, 0.9, 0.9, 0, 100 + i, List.of()) : Sampling.greedy(6 + i);
            reqs.add(new ChatRequest(prompts[i % 4], img, s, null));
        }
        List<Completion> alone = new ArrayList<>();
        for (ChatRequest r : reqs) alone.add(lavin.generate(r));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch start = new CountDownLatch(1);
        int[] most = {0};
        try {
            List<Future<Completion>> futures = new ArrayList<>();
            for (ChatRequest r : reqs) futures.add(pool.submit(() -> {
                start.await();
                return lavin.generate(r, piece -> most[0] = Math.max(most[0], lavin.running()));
            }));
            start.countDown();
            for (int i = 0; i < reqs.size(); i++) {
                Completion c = futures.get(i).get();
                assertEquals(alone.get(i).text(), c.text(), "request " + i);
                assertEquals(alone.get(i).completionTokens(), c.completionTokens(), "request " + i);
                assertEquals(alone.get(i).finishReason(), c.finishReason(), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(most[0] > 1, "requests should have shared decoding steps; at most " + most[0] + " ran at once");
    }

    @Test
    void mergedAnswersEqualUnmerged() {
        try (VisionLanguageModel merged = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).dtype("float32").merged(true).load()) {
            for (ImageInput img : new ImageInput[] {ImageInput.of(image), null}) {
                assertEquals(lavin.generate(greedy(img, "tell me", 10)).text(), merged.generate(greedy(img, "tell me", 10)).text());
            }
        }
    }

    @Test
    void imageFromPathBytesAndBufferedImageAnswerAlike() throws Exception {
        byte[] bytes = Files.readAllBytes(image);
        String a = lavin.generate(greedy(ImageInput.of(image), "what", 8)).text();
        assertEquals(a, lavin.generate(greedy(ImageInput.of(bytes), "what", 8)).text());
        assertEquals(a, lavin.generate(greedy(ImageInput.of(ImageIO.read(new ByteArrayInputStream(bytes))), "what", 8)).text());
    }

    @Test
    void vpgTransAnswersEqualVlModelGenerate() throws Exception {
        try (VisionLanguageModel api = VisionLanguageModel.vpgTrans(t.llm, t.vit, t.vpg, t.projector).dtype("float32").load();
             Backbones b = Backbones.load(t.llm, t.vit, "float32", 0); Vpg v = Vpgs.load(t.vpg); Projector p = Projector.load(t.projector);
             PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            VlModel m = new VlModel(b.llm(), b.tokenizer(), v, p);
            ImagePipeline clip = ImagePipeline.clip(b.vit().config().imageSize());
            Tensor features = v.features(b.vit().forward(clip.load(List.of(image)), null, true));
            List<long[]> out = m.generate(features.repeat(2, 1, 1), List.of(VlDataset.vqaPromptIds(b.tokenizer(), "what is it"),
                    new long[] {b.tokenizer().bosId()}), GenerationConfig.greedy(10));
            assertEquals(b.tokenizer().decode(out.get(0)), api.generate(greedy(ImageInput.of(image), "what is it", 10)).text(), "question");
            assertEquals(b.tokenizer().decode(out.get(1)), api.generate(greedy(ImageInput.of(image), "", 10)).text(), "caption");
        }
    }

    @Test
    void streamingPiecesAddUpToTheAnswerAndStopStringsCut() {
        Completion full = lavin.generate(greedy(ImageInput.of(image), "describe it", 16));
        StringBuilder sb = new StringBuilder();
        try (TokenStream s = lavin.stream(greedy(ImageInput.of(image), "describe it", 16))) {
            s.forEachRemaining(sb::append);
            assertEquals(full.text(), s.completion().text());
        }
        assertEquals(full.text(), sb.toString());
        assertTrue(full.text().length() > 4, full.text());
        String stop = full.text().substring(2, 4);
        Completion cut = lavin.generate(new ChatRequest("describe it", ImageInput.of(image), Sampling.greedy(16).withStop(List.of(stop)), null));
        assertEquals(full.text().substring(0, full.text().indexOf(stop)), cut.text());
        assertEquals(FinishReason.STOP, cut.finishReason());
    }

    @Test
    void badImagesAreRefusedByName() {
        FormatException e = assertThrows(FormatException.class,
                () -> lavin.stream(greedy(ImageInput.of("not an image at all".getBytes(StandardCharsets.UTF_8), "upload.png"), "x", 4)));
        assertTrue(e.getMessage().contains("upload.png"), e.getMessage());
        ImageInput.TooLargeException big = assertThrows(ImageInput.TooLargeException.class,
                () -> lavin.stream(greedy(ImageInput.of(TinyModels.png(2, 300, 200)), "x", 4), 10_000));
        assertTrue(big.getMessage().contains("300 x 200"), big.getMessage());
    }

    @Test
    void aFullQueueIsRefusedAndCancelledStreamsEnd() {
        try (VisionLanguageModel m = VisionLanguageModel.lavin(t.llm, t.vit, t.adapter).maxBatch(1).queueCapacity(1).load()) {
            List<TokenStream> streams = new ArrayList<>();
            assertThrows(QueueFullException.class, () -> {
                for (int i = 0; i < 50; i++) streams.add(m.stream(greedy(ImageInput.of(image), "describe it", 200)));
            });
            for (TokenStream s : streams) s.cancel();
            for (TokenStream s : streams) assertEquals(FinishReason.CANCELLED, s.completion().finishReason());
        }
    }
}
