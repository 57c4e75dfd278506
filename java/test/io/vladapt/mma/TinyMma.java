package io.vladapt.mma;

import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import org.bytedeco.javacpp.PointerScope;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A tiny random LLaMA + ViT + MMA for tests, with non-zero adapters so that every path matters. */
final class TinyMma implements AutoCloseable {
    final LlamaModel llm;
    final ClipVisionModel vit;
    final TextTokenizer tok;
    final MmaModel model;

    TinyMma(boolean compat, long seed) {
        this(compat, seed, ScalarType.Float);
    }

    /** The same random weights for every dtype: frozen LLM and ViT drawn in float32, then cast; adapters float32. */
    TinyMma(boolean compat, long seed, ScalarType frozen) {
        T.opts(ScalarType.Float);
        tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"));
        LlamaConfig lc = new LlamaConfig(300, 48, 96, 3, 4, 2, 12, 1e-5, 10000.0, null, 512, false, false, tok.bosId(),
                List.of(tok.eosId()), tok.padId(), "float32");
        LlamaModel l32 = RandomInit.llama(lc, seed, ScalarType.Float);
        T.randomiseStd(l32.params().asMap(), 0.15, seed + 1);
        llm = new LlamaModel(lc, cast(l32.params(), frozen), frozen);
        ClipVisionConfig vc = new ClipVisionConfig(32, 64, 6, 4, 16, 8, 3, "quick_gelu", 1e-5);
        vit = new ClipVisionModel(vc, cast(RandomInit.clip(vc, seed + 2, ScalarType.Float).params(), frozen));
        AdapterSettings s = new AdapterSettings(2, 1.0, 5.0, 0.1);
        MmaConfig mc = new MmaConfig(3, 48, 6, 32, 8, s, s, 16, 3, compat);
        MmaAdapters a = MmaAdapters.init(mc, seed + 3);
        T.randomiseStd(a.params().asMap(), 0.2, seed + 4);   // trained-looking: B and D non-zero
        model = new MmaModel(llm, vit, a, tok);
    }

    private static io.vladapt.nn.Params cast(io.vladapt.nn.Params p, ScalarType type) {
        if (type == ScalarType.Float) return p;
        io.vladapt.nn.Params out = new io.vladapt.nn.Params();
        try (PointerScope scope = new PointerScope()) {
            p.asMap().forEach((n, t) -> out.put(n, t.to(type)));
        }
        p.close();
        return out;
    }

    Tensor image(long seed) {
        torch.manual_seed(seed);
        return torch.randn(new long[] {3, 16, 16}, io.vladapt.nn.Tensors.options(ScalarType.Float));
    }

    @Override
    public void close() {
        model.close();
        llm.close();
        vit.close();
        tok.close();
    }
}
