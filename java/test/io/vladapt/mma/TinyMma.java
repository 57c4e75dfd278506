package io.vladapt.mma;

import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.ClipVisionConfig;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.RandomInit;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
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
        T.opts(ScalarType.Float);
        tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"));
        LlamaConfig lc = new LlamaConfig(300, 48, 96, 3, 4, 2, 12, 1e-5, 10000.0, null, 512, false, false, tok.bosId(),
                List.of(tok.eosId()), tok.padId(), "float32");
        llm = RandomInit.llama(lc, seed, ScalarType.Float);
        T.randomiseStd(llm.params().asMap(), 0.15, seed + 1);
        ClipVisionConfig vc = new ClipVisionConfig(32, 64, 6, 4, 16, 8, 3, "quick_gelu", 1e-5);
        vit = RandomInit.clip(vc, seed + 2, ScalarType.Float);
        AdapterSettings s = new AdapterSettings(2, 1.0, 5.0, 0.1);
        MmaConfig mc = new MmaConfig(3, 48, 6, 32, 8, s, s, 16, 3, compat);
        MmaAdapters a = MmaAdapters.init(mc, seed + 3);
        T.randomiseStd(a.params().asMap(), 0.2, seed + 4);   // trained-looking: B and D non-zero
        model = new MmaModel(llm, vit, a, tok);
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
