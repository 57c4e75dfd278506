package io.vladapt.api;

import io.vladapt.data.ImagePipeline;
import io.vladapt.nn.Tensors;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.VlModel;
import io.vladapt.vpg.Vpg;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A VPGTrans VL model behind the engine: ViT -> VPG -> projector -> soft prompts before the prompt,
 * as {@link VlModel#generate} lays them out. Empty text asks for a caption (BOS after the soft
 * prompts); other text is a question in the VQA format the models are evaluated with.
 */
final class VpgTransBackend implements Backend {
    private final Backbones backbones;
    private final Vpg vpg;
    private final Projector projector;
    private final VlModel model;
    private final ImagePipeline pipeline;
    private final String template;
    private final ModelInfo info;

    VpgTransBackend(Backbones b, Vpg vpg, Projector projector, Preprocess pre, String template, ModelInfo info) {
        this.backbones = b;
        this.vpg = vpg;
        this.projector = projector;
        this.model = new VlModel(b.llm(), b.tokenizer(), vpg, projector);
        this.pipeline = pre.pipeline(b.vit().config().imageSize());
        this.template = template;
        this.info = info;
    }

    @Override
    public Prepared prepare(String text, Tensor pixels) {
        long[] ids = text.isEmpty() ? new long[] {backbones.tokenizer().bosId()} : backbones.tokenizer().encode(text, false);
        Tensor embeds = model.llm().embed(Tensors.longs(ids).view(1, ids.length));                  // (1, n, d)
        if (pixels != null) {
            Tensor features = vpg.features(backbones.vit().forward(pixels.unsqueeze(0), null, true));
            Tensor soft = model.softPrompts(features, false).to(embeds.scalar_type());               // (1, Q, d)
            embeds = torch.cat(new TensorVector(soft, embeds), 1);                                   // (1, Q + n, d)
        }
        long p = embeds.size(1);
        Tensor positions = torch.arange(new Scalar(p), Tensors.options(ScalarType.Long)).view(1, p);
        return new Prepared(model.llm(), null, embeds, positions, null);
    }

    /** Blank text with the default template: a caption, started from BOS. */
    @Override
    public String render(String text, String requested) {
        if (requested == null && text.isBlank()) return "";
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
        projector.close();
        vpg.close();
        backbones.close();
    }
}
