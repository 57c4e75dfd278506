package io.vladapt.mma;

import io.vladapt.nn.Tensors;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A padded MMA batch (right padding; the modality token adds one position in front).
 *
 * @param tokens   (B, L-1) int64 ids without the modality token
 * @param labels   (B, L) int64: at position p the id the model must predict there (answer and EOS), else -100
 * @param hasImage (B) int64 0/1
 * @param pixels   images (Bi, 3, S, S) of the image rows in order, or of every row (text-only rows as zero
 *                 images) when the batch was built for LaVIN's batch-dependent ViT routing; null if none
 * @param keyValid (B, L) bool, false on padding
 */
public record MmaBatch(Tensor tokens, Tensor labels, Tensor hasImage, Tensor pixels, Tensor keyValid) {

    /**
     * @param samples  encoded samples
     * @param images   per sample its (3, S, S) image, null for text-only samples
     * @param allRows  run text-only rows through the ViT as zero images (LaVIN's code does; needed for
     *                 its batch-dependent routing)
     * @param pad      padding id
     */
    public static MmaBatch of(List<MmaModel.Encoded> samples, List<Tensor> images, boolean allRows, long pad) {
        int b = samples.size();
        int longest = samples.stream().mapToInt(s -> s.ids().length).max().orElse(0);
        int l = longest + 1;
        long[] ids = new long[b * longest], labels = new long[b * l], valid = new long[b * l], has = new long[b];
        Arrays.fill(ids, pad);
        Arrays.fill(labels, -100);
        Tensor like = null;
        for (int r = 0; r < b; r++) {
            MmaModel.Encoded s = samples.get(r);
            System.arraycopy(s.ids(), 0, ids, r * longest, s.ids().length);
            for (int j = s.answerStart(); j < s.ids().length; j++) labels[r * l + j] = s.ids()[j];
            Arrays.fill(valid, r * l, r * l + 1 + s.ids().length, 1);
            has[r] = s.hasImage() ? 1 : 0;
            if (s.hasImage() && images.get(r) == null) throw new IllegalArgumentException("sample " + r + " has an image slot but no image");
            if (images.get(r) != null) like = images.get(r);
        }
        Tensor pixels = null;
        if (like != null) {
            TensorVector v = new TensorVector();
            for (int r = 0; r < b; r++) {
                if (images.get(r) != null && samples.get(r).hasImage()) v.push_back(images.get(r));
                else if (allRows) v.push_back(torch.zeros_like(like));
            }
            pixels = torch.stack(v, 0);
        }
        return new MmaBatch(Tensors.longs(ids).view(b, longest), Tensors.longs(labels).view(b, l), Tensors.longs(has),
                pixels, Tensors.longs(valid).view(b, l).to(ScalarType.Bool));
    }
}
