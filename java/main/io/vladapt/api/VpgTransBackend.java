package io.vladapt.api;

import io.vladapt.nn.Tensors;
import io.vladapt.vpg.Projector;
import io.vladapt.vpg.VlModel;
import io.vladapt.vpg.Vpg;
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
final class VpgTransBackend extends FolderBackend {
    private final Vpg vpg;
    private final Projector projector;
    private final VlModel model;

    VpgTransBackend(Backbones b, Vpg vpg, Projector projector, Preprocess pre, String template, ModelInfo info) {
        super(b, pre, template, info);
        this.vpg = vpg;
        this.projector = projector;
        this.model = new VlModel(b.llm(), b.tokenizer(), vpg, projector);
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
        return super.render(text, requested);
    }

    @Override
    public void close() {
        projector.close();
        vpg.close();
        backbones.close();
    }
}
