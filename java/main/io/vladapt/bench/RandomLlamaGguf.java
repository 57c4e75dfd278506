package io.vladapt.bench;

import io.vladapt.quant.GgufWriter;
import io.vladapt.quant.GgufWriter.GgmlType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A LLaMA-shaped GGUF with random weights in Q8_0 or Q4_0 (norms in F32), and a SentencePiece-style
 * vocabulary of placeholder pieces, so that llama.cpp (through node-llama-cpp) can run the same shape
 * VLAdapt's benchmarks use. Blocks are random codes with a fixed float16 scale that keeps the weights
 * near +-0.04; every projection, the embeddings and the output head use the one type.
 */
public final class RandomLlamaGguf {
    /** LLaMA-7B: 32 layers, width 4096, FFN 11008, 32 heads, vocabulary 32000. */
    public record Shape(int layers, int hidden, int ffn, int heads, int vocab) {
        public static final Shape LLAMA_7B = new Shape(32, 4096, 11008, 32, 32000);

        /** Weights of the projections, embeddings and head. */
        public long params() {
            long layer = 4L * hidden * hidden + 3L * hidden * ffn;
            return layers * layer + 2L * vocab * hidden;
        }
    }

    private RandomLlamaGguf() {}

    public static GgufWriter build(Shape s, GgmlType type, long seed) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0) throw new IllegalArgumentException("Q8_0 or Q4_0, not " + type);
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putString("general.name", "vladapt-random-llama-" + type.name().toLowerCase());
        w.putU32("general.file_type", type == GgmlType.Q8_0 ? 7 : 2);  // LLAMA_FTYPE_MOSTLY_Q8_0 / _Q4_0
        w.putU32("llama.context_length", 2048);
        w.putU32("llama.embedding_length", s.hidden());
        w.putU32("llama.block_count", s.layers());
        w.putU32("llama.feed_forward_length", s.ffn());
        w.putU32("llama.rope.dimension_count", s.hidden() / s.heads());
        w.putU32("llama.attention.head_count", s.heads());
        w.putU32("llama.attention.head_count_kv", s.heads());
        w.putF32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
        w.putU32("llama.vocab_size", s.vocab());
        vocabulary(w, s.vocab());
        long[] seedBox = {seed};
        GgufWriter.Data quant = (dst, off) -> randomBlocks(dst, type, seedBox[0]++ * 0x9E3779B97F4A7C15L + off);
        GgufWriter.Data ones = (dst, off) -> {
            while (dst.hasRemaining()) dst.putFloat(1.0f);
        };
        w.addTensor("token_embd.weight", type, new long[] {s.hidden(), s.vocab()}, quant);
        for (int i = 0; i < s.layers(); i++) {
            String b = "blk." + i + ".";
            w.addTensor(b + "attn_norm.weight", GgmlType.F32, new long[] {s.hidden()}, ones);
            for (String p : new String[] {"attn_q", "attn_k", "attn_v", "attn_output"}) {
                w.addTensor(b + p + ".weight", type, new long[] {s.hidden(), s.hidden()}, quant);
            }
            w.addTensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {s.hidden()}, ones);
            w.addTensor(b + "ffn_gate.weight", type, new long[] {s.hidden(), s.ffn()}, quant);
            w.addTensor(b + "ffn_up.weight", type, new long[] {s.hidden(), s.ffn()}, quant);
            w.addTensor(b + "ffn_down.weight", type, new long[] {s.ffn(), s.hidden()}, quant);
        }
        w.addTensor("output_norm.weight", GgmlType.F32, new long[] {s.hidden()}, ones);
        w.addTensor("output.weight", type, new long[] {s.hidden(), s.vocab()}, quant);
        return w;
    }

    public static void write(Path path, Shape s, GgmlType type, long seed) throws IOException {
        build(s, type, seed).write(path);
    }

    /** &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte pieces, then "▁t{i}" placeholders. */
    private static void vocabulary(GgufWriter w, int vocab) {
        List<String> tokens = new ArrayList<>(vocab);
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        tokens.add("<unk>");
        types[0] = 2;  // unknown
        tokens.add("<s>");
        types[1] = 3;  // control
        tokens.add("</s>");
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            types[tokens.size()] = 6;  // byte
            tokens.add(String.format("<0x%02X>", b));
        }
        while (tokens.size() < vocab) {
            int i = tokens.size();
            types[i] = 1;  // normal
            scores[i] = -i;
            tokens.add("\u2581t" + i);
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putStrings("tokenizer.ggml.tokens", tokens);
        w.putF32s("tokenizer.ggml.scores", scores);
        w.putI32s("tokenizer.ggml.token_type", types);
        w.putU32("tokenizer.ggml.bos_token_id", 1);
        w.putU32("tokenizer.ggml.eos_token_id", 2);
        w.putU32("tokenizer.ggml.unknown_token_id", 0);
    }

    /** Whole blocks: a float16 scale, then 32 int8 codes (Q8_0) or 16 bytes of nibbles (Q4_0). */
    private static void randomBlocks(ByteBuffer dst, GgmlType type, long state) {
        dst.order(ByteOrder.LITTLE_ENDIAN);
        short scale = type == GgmlType.Q8_0 ? (short) 0x0CEB /* 3.0e-4 */ : (short) 0x1D1F /* 5.0e-3 */;
        long x = state | 1;
        while (dst.hasRemaining()) {
            dst.putShort(scale);
            for (int i = 0; i < type.blockBytes - 2; i += 8) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                int n = Math.min(8, type.blockBytes - 2 - i);
                for (int j = 0; j < n; j++) dst.put((byte) (x >>> (8 * j)));
            }
        }
    }
}
