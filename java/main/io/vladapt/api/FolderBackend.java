package io.vladapt.api;

import io.vladapt.data.ImagePipeline;
import java.util.List;

/** What LaVIN and VPGTrans models share behind the engine: backbones, image pipeline, template, identity. */
abstract class FolderBackend implements Backend {
    protected final Backbones backbones;
    private final ImagePipeline pipeline;
    private final String template;
    private final ModelInfo info;

    FolderBackend(Backbones b, Preprocess pre, String template, ModelInfo info) {
        this.backbones = b;
        this.pipeline = pre.pipeline(b.vit().config().imageSize());
        this.template = template;
        this.info = info;
    }

    /** The prompt text for the user's text and the request's template (null: the default). */
    @Override
    public String render(String text, String requested) {
        return Backend.super.render(text, requested);
    }

    @Override
    public ImagePipeline pipeline() {
        return pipeline;
    }

    @Override
    public String decode(long[] ids) {
        return backbones.tokenizer().decode(ids);
    }

    @Override
    public List<Integer> eosIds() {
        return backbones.llm().config().eosTokenIds();
    }

    @Override
    public int contextLength() {
        return backbones.llm().config().maxPositions();
    }

    @Override
    public String defaultTemplate() {
        return template;
    }

    @Override
    public ModelInfo info() {
        return info;
    }
}
