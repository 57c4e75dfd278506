package io.vladapt.vpg.transfer;

import io.vladapt.nn.LlamaModel;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Which LLM a converter or projector was made for: its name, widths, and a CRC of its input-embedding
 * table, so that a converter fitted for another pair is refused before any training starts.
 */
public record LlmIdentity(String name, int hiddenSize, int vocabSize, long embeddingCrc) {
    public static LlmIdentity of(String name, LlamaModel lm) {
        try (PointerScope s = new PointerScope()) {
            Tensor e = lm.params().get("model.embed_tokens.weight").detach().to(ScalarType.Float).contiguous();  // (V, d)
            BytePointer bytes = new BytePointer(e.data_ptr()).capacity(e.numel() * 4);
            CRC32 crc = new CRC32();
            crc.update(bytes.asByteBuffer());
            return new LlmIdentity(name, lm.config().hiddenSize(), lm.config().vocabSize(), crc.getValue());
        }
    }

    /** Same model, whatever it was called when the file was written. */
    public boolean sameModel(LlmIdentity o) {
        return hiddenSize == o.hiddenSize && vocabSize == o.vocabSize && embeddingCrc == o.embeddingCrc;
    }

    @Override
    public String toString() {
        return String.format("%s (d=%d, vocab=%d, embeddings crc %08x)", name, hiddenSize, vocabSize, embeddingCrc);
    }
}
