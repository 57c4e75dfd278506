package io.vladapt.vpg.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.nn.Tensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The converter recovers a known linear map between two embedding tables; it refuses other LLM pairs. */
class WordConverterTest {
    @TempDir
    Path tmp;

    static final LlmIdentity SRC = new LlmIdentity("src", 16, 200, 1), TGT = new LlmIdentity("tgt", 24, 200, 2);

    /** Zipf-ish "captions" over 200 token ids, so frequent tokens dominate as in a caption corpus. */
    static TokenPairs corpus(int captions, long seed) {
        Random r = new Random(seed);
        List<long[]> rows = new ArrayList<>();
        for (int c = 0; c < captions; c++) {
            long[] row = new long[5 + r.nextInt(8)];
            for (int i = 0; i < row.length; i++) row[i] = Math.min(199, (long) Math.floor(Math.exp(r.nextDouble() * Math.log(200))));
            rows.add(row);
        }
        return new TokenPairs(rows, rows, "same-ids", 0);
    }

    @Test
    void recoversAKnownLinearMap() throws Exception {
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(3);
            Tensor es = torch.randn(new long[] {200, 16}, Tensors.options(ScalarType.Float));      // (V, d_s)
            Tensor m = torch.randn(new long[] {24, 16}, Tensors.options(ScalarType.Float));        // (d_t, d_s)
            Tensor c = torch.randn(new long[] {24}, Tensors.options(ScalarType.Float)).mul(new Scalar(0.3));
            Tensor et = torch.linear(es, m, new org.bytedeco.pytorch.TensorOptional(c));           // (V, d_t)
            TokenPairs pairs = corpus(2000, 5);
            try (WordConverter w = WordConverter.fit(es, et, pairs, new WordConverter.Fit(5.0, 64, 30, 0), SRC, TGT, true)) {
                Tensor cos = torch.cosine_similarity(w.apply(es), et, 1, 1e-8);                     // (V)
                // every token that occurs in the corpus is mapped onto its target direction
                double worst = 1;
                for (long id : seen(pairs)) worst = Math.min(worst, cos.get(id).item_double());
                assertTrue(worst > 0.99, "worst cosine over seen tokens " + worst);
                assertTrue(w.finalLoss() < 0.01, "final 1 - cos " + w.finalLoss());
                w.save(tmp.resolve("conv"));
                try (WordConverter back = WordConverter.load(tmp.resolve("conv"))) {
                    assertTrue(torch.equal(back.weights().weight(), w.weights().weight()));
                    assertEquals("same-ids", back.pairing());
                    back.requireFor(SRC, TGT);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> back.requireFor(SRC, new LlmIdentity("other", 24, 200, 99)));
                    assertTrue(e.getMessage().contains("fitted for") && e.getMessage().contains("other"), e.getMessage());
                }
            }
        }
    }

    static long[] seen(TokenPairs p) {
        return p.source().stream().flatMapToLong(java.util.Arrays::stream).distinct().toArray();
    }

    @Test
    void embeddingWidthsMustMatchTheNamedLlms() {
        try (PointerScope s = new PointerScope()) {
            Tensor es = torch.randn(new long[] {200, 16}, Tensors.options(ScalarType.Float));
            Tensor et = torch.randn(new long[] {200, 32}, Tensors.options(ScalarType.Float));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WordConverter.fit(es, et, corpus(10, 1), WordConverter.Fit.official(false), SRC, TGT, true));
            assertTrue(e.getMessage().contains("16 -> 32"), e.getMessage());
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> WordConverter.fit(es, torch.randn(new long[] {200, 24}, Tensors.options(ScalarType.Float)),
                            new TokenPairs(List.of(), List.of(), "positional", 10), WordConverter.Fit.official(true), SRC, TGT, true));
            assertTrue(none.getMessage().contains("10 captions dropped"), none.getMessage());
        }
    }
}
