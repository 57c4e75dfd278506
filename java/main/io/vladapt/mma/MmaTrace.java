package io.vladapt.mma;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One MMA forward pass (eval mode, no gradients) with what LaVIN computes on the way, by name, to check
 * VLAdapt against a LaVIN run tensor by tensor. The names are those of the golden fixture's reference
 * script (java/test/resources/fixtures/lavin-golden/make_lavin_golden.py):
 * <pre>
 *   input_ids        (B, L-1)     ids without the modality token (placeholders where visual tokens go)
 *   has_image        (B)          1 image, 0 text-only
 *   pixel_values     (Bv, 3, S, S)
 *   vit_routing.N    (Bv, P, 2)   ViT block N's routing weights, per position
 *   vit_cls          (Bv, k, d_v) the [CLS] states of the blocks that give visual tokens
 *   visual_tokens    (Bv, k, d)   after the neck
 *   llm_routing.N    (B, 2)       LLM layer N's routing weights, from the modality token
 *   hidden_states.N  (B, L, d)    0: input embeddings (t_m first, visual tokens in place); N: block N's
 *                                 output; the last one after the final norm (transformers' numbering)
 *   logits           (B, L, V)    position 0 is the modality token
 *   loss             ()           mean cross-entropy on the answer and EOS, when the batch has them
 * </pre>
 * Bv is the number of rows that ran through the ViT: the image rows, or every row (text-only ones as
 * zero images) with vitRoutingCompat.
 */
public final class MmaTrace {
    private MmaTrace() {}

    /** Every tensor above for a batch; they live in the caller's PointerScope. */
    public static Map<String, Tensor> forward(MmaModel model, MmaBatch batch) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("input_ids", batch.tokens());
        out.put("has_image", batch.hasImage());
        if (batch.pixels() != null) out.put("pixel_values", batch.pixels());
        model.trace(out::put);
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor logits = model.forward(batch, false);                               // (B, L, V), traced
            if (MmaModel.supervised(batch) > 0) {
                Tensor flat = logits.reshape(-1, logits.size(2)).to(ScalarType.Float);
                out.put("loss", torch.cross_entropy_loss(flat, batch.labels().reshape(-1), new TensorOptional(), 1, -100, 0.0));
            }
        } finally {
            model.trace(null);
        }
        return out;
    }

    /** One prompt (and its answer, or null), with a preprocessed image (3, S, S) or null for text-only. */
    public static Map<String, Tensor> forward(MmaModel model, String prompt, String answer, Tensor image) {
        MmaModel.Encoded enc = model.encode(prompt, answer, image != null);
        MmaBatch batch = MmaBatch.of(List.of(enc), Arrays.asList(image), model.config().vitRoutingCompat(),
                Math.max(0, model.tokenizer().padId()));
        return forward(model, batch);
    }
}
