package io.vladapt.vpg.transfer;

import io.vladapt.ext.OpCheck;
import io.vladapt.ext.VlOps;
import io.vladapt.nn.LinearWeights;
import org.bytedeco.pytorch.Tensor;

/**
 * VPGTrans projector initialisation: the word-embedding converter C (LLM_src -> LLM_tgt embedding
 * space) applied after the source projector S (VPG queries -> LLM_src) is one linear map:
 * W_t = C_w S_w, b_t = C_w S_b + C_b. This is the official code's order (the paper's Eq. 2 does not
 * type-check).
 */
public final class ProjectorFusion {
    private ProjectorFusion() {}

    /** converter (d_tgt, d_src), source projector (d_src, d_q) -> target projector (d_tgt, d_q). */
    public static LinearWeights fuse(LinearWeights converter, LinearWeights sourceProjector) {
        OpCheck c = new OpCheck("ProjectorFusion.fuse").allowFloat32Masters();
        c.tensor("C_w", converter.weight(), "d_tgt", "d_src");
        c.tensor("C_b", converter.bias(), "d_tgt");
        c.tensor("S_w", sourceProjector.weight(), "d_src", "d_q");
        c.tensor("S_b", sourceProjector.bias(), "d_src");
        Tensor outW = new Tensor(), outB = new Tensor();
        c.call(() -> VlOps.vl_fuse_projector(outW, outB, converter.weight(), converter.bias(),
                sourceProjector.weight(), sourceProjector.bias()));
        return new LinearWeights(outW, outB);
    }
}
