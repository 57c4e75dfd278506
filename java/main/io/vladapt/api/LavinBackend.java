package io.vladapt.api;

import io.vladapt.mma.MmaInference;
import io.vladapt.mma.MmaModel;
import org.bytedeco.pytorch.Tensor;

/** A LaVIN model behind the engine: MMA prefill per prompt, routing weights as per-row state. */
final class LavinBackend extends FolderBackend {
    private final MmaModel model;
    private final MmaInference inference;

    LavinBackend(Backbones b, MmaModel model, boolean merged, Preprocess pre, String template, ModelInfo info) {
        super(b, pre, template, info);
        this.model = model;
        this.inference = new MmaInference(model, merged);
    }

    @Override
    public Prepared prepare(String text, Tensor pixels) {
        MmaInference.Prepared p = inference.prepare(new MmaInference.Prompt(text, pixels));
        return new Prepared(p.llm(), p.routes() == null ? null : inference::hook, p.embeds(), p.positions(), p.routes());
    }

    @Override
    public void close() {
        inference.close();
        model.close();
        backbones.close();
    }
}
