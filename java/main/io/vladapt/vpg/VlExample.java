package io.vladapt.vpg;

/**
 * One training sample of a VL model: an image (its row in the cached feature table), the text token
 * ids after the soft prompts (BOS first), and the first id that is scored. Captions score from 0, so
 * the last soft prompt learns to predict BOS as in the official code; VQA scores the answer + EOS.
 */
public record VlExample(int image, long[] ids, int lossFrom) {
    public VlExample {
        if (ids.length == 0) throw new IllegalArgumentException("empty text for image " + image);
        if (lossFrom < 0 || lossFrom >= ids.length) throw new IllegalArgumentException("lossFrom " + lossFrom + " outside " + ids.length + " ids");
    }
}
