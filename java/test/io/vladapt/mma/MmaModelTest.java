package io.vladapt.mma;

import static io.vladapt.testutil.T.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** MMA's structure: parameter counts, the invisible modality token, cached routing, merging, ViT routing. */
class MmaModelTest {

    @Test
    void trainableCountsAreLavinsOnTheMetaDevice() {
        try (MmaAdapters a7 = MmaAdapters.onMetaDevice(MmaConfig.lavin7b());
             MmaAdapters a13 = MmaAdapters.onMetaDevice(MmaConfig.lavin13b())) {
            assertEquals(3_781_296, a7.count(), "LaVIN-7B: 32 x 81,930 + 24 x 20,490 + 659,584 + 8,192");
            assertEquals(5_390_080, a13.count(), "LaVIN-13B: 40 x 102,410 + 24 x 20,490 + 791,680 + 10,240");
            assertEquals(MmaAdapters.count(MmaConfig.lavin7b()), a7.count());
            assertTrue(a7.params().asMap().keySet().stream().allMatch(n -> n.contains("adapter")),
                    "LaVIN's filter (the substring 'adapter') selects exactly the trainable tensors");
            assertArrayEquals(new int[] {4, 8, 12, 16, 20, 24}, MmaConfig.lavin7b().vitBlocks());
        }
    }

    @Test
    void modalityTokenIsInvisibleToEveryOtherPosition() {
        try (TinyMma t = new TinyMma(false, 1); PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            MmaBatch batch = MmaBatch.of(List.of(t.model.encode("the red circle", "The answer is A.", false)),
                    Arrays.asList((Tensor) null), false, 0);
            // zero the routers so that t_m reaches nothing through routing either: then nothing but row 0 may change
            t.model.adapters().params().asMap().forEach((n, p) -> {
                if (n.contains("expert_weights")) p.zero_();
            });
            Tensor before = t.model.forward(batch, false);
            t.model.adapters().params().get("adapter_modality_embedding.weight").add_(new Scalar(3.0));
            Tensor after = t.model.forward(batch, false);
            long l = before.size(1);
            assertTrue(torch.equal(before.narrow(1, 1, l - 1), after.narrow(1, 1, l - 1)), "positions 1.. ignore t_m");
            assertFalse(torch.equal(before.narrow(1, 0, 1), after.narrow(1, 0, 1)), "t_m itself changed");
            Tensor m = io.vladapt.nn.Masks.modalityCausal(Tensors.full(org.bytedeco.pytorch.global.torch.ScalarType.Bool, 1, 1, 5));
            assertEquals(1L, m.select(3, 0).to(org.bytedeco.pytorch.global.torch.ScalarType.Long).sum().item().toLong(),
                    "column 0 is open to row 0 only");
        }
    }

    @Test
    void routingCachedOncePerPromptEqualsTheFullSequence() {
        try (TinyMma t = new TinyMma(false, 2); PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             MmaInference inf = new MmaInference(t.model, false)) {
            Tensor img = t.image(5);
            List<MmaModel.Encoded> enc = List.of(t.model.encode("which colour is the circle", null, true),
                    t.model.encode("a short one", null, false));
            MmaBatch batch = MmaBatch.of(enc, Arrays.asList(img, null), false, 0);
            Tensor full = t.model.forward(batch, false);                               // t_m inside the sequence
            // the routing weights from a t_m-only pass equal what each layer computes inside the sequence
            Tensor[] cached = inf.routes(batch.hasImage());
            List<Tensor> inside = new ArrayList<>();
            Tensor embeds = t.model.inputEmbeds(batch.tokens(), batch.hasImage(), t.model.visualTokens(batch.pixels(), false));
            long b = embeds.size(0), l = embeds.size(1);
            t.llm.forward(new io.vladapt.nn.LlamaModel.Input(embeds,
                    torch.arange(new Scalar(l), Tensors.options(org.bytedeco.pytorch.global.torch.ScalarType.Long)).view(1, l).expand(b, l),
                    io.vladapt.nn.Masks.modalityCausal(batch.keyValid()), null, (layer, normed) -> {
                        MmAdapterWeights w = t.model.adapters().llm(layer);
                        inside.add(MmAdapterOp.route(normed.select(1, 0), w.rW(), w.rB(), 5.0));
                        return t.model.llmAdapter(layer, normed, false);
                    }, false));
            for (int i = 0; i < cached.length; i++) assertClose("route layer " + i, cached[i], inside.get(i), 1e-6);
            // and greedy generation from the cached path continues the full-sequence argmax at the last prompt position
            List<long[]> got = inf.generate(List.of(new MmaInference.Prompt("which colour is the circle", img),
                    new MmaInference.Prompt("a short one", null)), GenerationConfig.greedy(1).ignoringEos(), null);
            for (int r = 0; r < 2; r++) {
                int last = enc.get(r).ids().length;                                    // position of the last prompt token
                long want = full.select(0, r).select(0, last).argmax().item().toLong();
                assertEquals(want, got.get(r)[0], "row " + r);
            }
        }
    }

    @Test
    void mergedAdaptersGiveTheSameAnswers() {
        try (TinyMma t = new TinyMma(false, 3); PointerScope scope = new PointerScope();
             MmaInference plain = new MmaInference(t.model, false); MmaInference merged = new MmaInference(t.model, true)) {
            List<MmaInference.Prompt> prompts = List.of(new MmaInference.Prompt("which colour is the circle", t.image(7)),
                    new MmaInference.Prompt("the answer is", null), new MmaInference.Prompt("two stars and a square", t.image(8)));
            GenerationConfig g = GenerationConfig.greedy(12).ignoringEos();
            List<long[]> a = plain.generate(prompts, g, null), b = merged.generate(prompts, g, null);
            for (int i = 0; i < prompts.size(); i++) assertArrayEquals(a.get(i), b.get(i), "prompt " + i);
        }
    }

    /**
     * Beam search on a mixed batch: each prompt's beams run with that prompt's routing weights (the
     * row hook), so the unmerged answers equal the merged ones (no hook at all) and each prompt's
     * answer in the batch equals its answer alone.
     */
    @Test
    void beamSearchKeepsEachPromptsRoutingAcrossItsBeams() {
        try (TinyMma t = new TinyMma(false, 3); PointerScope scope = new PointerScope();
             MmaInference plain = new MmaInference(t.model, false); MmaInference merged = new MmaInference(t.model, true)) {
            List<MmaInference.Prompt> prompts = List.of(new MmaInference.Prompt("which colour is the circle", t.image(7)),
                    new MmaInference.Prompt("the answer is", null), new MmaInference.Prompt("two stars and a square", t.image(8)));
            GenerationConfig g = GenerationConfig.beams(3, 1.0, 2, 10).withNoRepeatNgram(3);
            List<long[]> a = plain.generate(prompts, g, null), b = merged.generate(prompts, g, null);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(a.get(i), b.get(i), "prompt " + i + ": unmerged = merged");
                assertArrayEquals(a.get(i), plain.generate(List.of(prompts.get(i)), g, null).get(0), "prompt " + i + ": batch = alone");
                assertTrue(a.get(i).length >= 2, "min new tokens");
            }
        }
    }

    @Test
    void vitRoutingIsPerSampleUnlessLavinsCompatibilitySwitchIsOn() {
        for (boolean compat : new boolean[] {false, true}) {
            try (TinyMma t = new TinyMma(compat, 4); PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                Tensor second = t.image(11);
                Tensor a = t.model.visualTokens(torch.stack(new org.bytedeco.pytorch.TensorVector(t.image(10), second), 0), false);
                Tensor b = t.model.visualTokens(torch.stack(new org.bytedeco.pytorch.TensorVector(t.image(12), second), 0), false);
                boolean same = torch.allclose(a.select(0, 1), b.select(0, 1), 0, 1e-6, false);
                if (compat) assertFalse(same, "LaVIN's routing: sample 1's tokens change with sample 0's image");
                else assertTrue(same, "per-sample routing: sample 1's tokens do not depend on sample 0");
            }
        }
    }
}
