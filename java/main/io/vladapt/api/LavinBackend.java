package io.vladapt.api;

import io.vladapt.data.ImagePipeline;
import io.vladapt.mma.MmaInference;
import io.vladapt.mma.MmaModel;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** A LaVIN model behind the engine: MMA prefill per prompt, routing weights as per-row state. */
final class LavinBackend implements Backend {
    private final Backbones backbones;
    private final MmaModel model;
    private final MmaInference inference;
    private final ImagePipeline pipeline;
    private final String template;
    private final ModelInfo info;

    LavinBackend(Backbones b, MmaModel model, boolean merged, Preprocess pre, String template, ModelInfo info) {
        this.backbones = b;
        this.model = model;
        this.inference = new MmaInference(model, merged);
        this.pipeline = pre.pipeline(b.vit().config().imageSize());
        this.template = template;
        this.info = info;
    }

    @Override
    public Prepared prepare(String text, Tensor pixels) {
        MmaInference.Prepared p = inference.prepare(new MmaInference.Prompt(text, pixels));
        return new Prepared(p.llm(), p.routes() == null ? null : inference::hook, p.embeds(), p.positions(), p.routes());
    }

    @Override
    public ImagePipeline pipeline() {
        return pipeline;
    }

    @Override
    public String decode(long[] ids) {
        return model.tokenizer().decode(ids);
    }

    @Override
    public List<Integer> eosIds() {
        return model.llm().config().eosTokenIds();
    }

    @Override
    public int contextLength() {
        return model.llm().config().maxPositions();
    }

    @Override
    public String defaultTemplate() {
        return template;
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public void close() {
        inference.close();
        model.close();
        backbones.close();
    }
}
