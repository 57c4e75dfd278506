package io.vladapt.vpg;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.Params;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/**
 * BLIP-2's VPG (ln_vision + Q-Former + learned queries) reading one ViT block's output, every token
 * (BLIP-2 reads the ViT without its final LayerNorm; VPGTrans' ViT-L runs keep the first 21 of 24
 * blocks: create_clip_vit_L(layers=22) builds layers - 1; hence the configurable block).
 */
public final class QFormerVpg implements Vpg {
    private final QFormer qformer;
    private final int vitBlock;

    /** @param vitBlock which hidden state to read: k = block k's output, -1 = the last block's */
    public QFormerVpg(QFormer qformer, int vitBlock) {
        this.qformer = qformer;
        this.vitBlock = vitBlock;
    }

    /** The ViT hidden state read: k = block k's output, -1 = the last block's. */
    public int vitBlock() {
        return vitBlock;
    }

    public QFormer qformer() {
        return qformer;
    }

    @Override
    public String kind() {
        return "qformer";
    }

    @Override
    public int numQueries() {
        return qformer.config().numQueryTokens();
    }

    @Override
    public int width() {
        return qformer.config().hiddenSize();
    }

    @Override
    public Tensor features(ClipVisionModel.Output vit) {
        int n = vit.hiddenStates().size();
        int k = vitBlock < 0 ? n - 1 : vitBlock;
        if (k >= n) throw new IllegalArgumentException("the Q-Former reads ViT block " + k + ", the ViT has " + (n - 1));
        return vit.hiddenStates().get(k);                                  // (B, N+1, d_v)
    }

    @Override
    public Tensor forward(Tensor features, boolean train) {
        return qformer.forward(features, train);                             // (B, Q, h)
    }

    @Override
    public Params params() {
        return qformer.params();
    }

    @Override
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        QFormerCheckpoint.save(qformer, dir);
        ObjectNode c = Vpgs.JSON.createObjectNode();
        c.put("kind", kind());
        c.put("vit_block", vitBlock);
        c.put("weights", QFormerCheckpoint.WEIGHTS);
        AtomicFiles.writeString(dir.resolve(Vpgs.CONFIG), Vpgs.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c));
    }

    static QFormerVpg load(Path dir, ObjectNode c) {
        return new QFormerVpg(QFormerCheckpoint.load(dir), c.path("vit_block").asInt(-1));
    }

    @Override
    public void close() {
        qformer.close();
    }
}
