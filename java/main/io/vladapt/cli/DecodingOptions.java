package io.vladapt.cli;

import io.vladapt.nn.GenerationConfig;
import io.vladapt.vpg.VlDecoding;
import picocli.CommandLine.Option;

/**
 * Decoding flags shared by the evaluation and chat commands (a picocli mixin). An unset flag keeps
 * the command's own default: VPGTrans evaluates as the paper (beam 5; captions 8-30 new tokens,
 * answers 1-10 with length penalty -1), LaVIN decodes as LaVIN (one beam, up to 64 tokens).
 */
final class DecodingOptions {
    @Option(names = "--beams", description = "beam search width, 1 = no beam search (default: vpgtrans 5; mma 1)")
    Integer beams;

    @Option(names = "--length-penalty", description = "beam search: hypotheses score sum(log p) / length^penalty (default: vpgtrans 1 for captions, -1 for answers; mma 1)")
    Double lengthPenalty;

    @Option(names = "--min-new-tokens", description = "no EOS before this many new tokens (default: vpgtrans 8 for captions, 1 for answers; mma 0)")
    Integer minNew;

    @Option(names = "--max-new-tokens", description = "most new tokens (default: vpgtrans 30 for captions, 10 for answers; mma 64)")
    Integer maxNew;

    @Option(names = "--no-repeat-ngram", description = "never generate an n-gram of this size twice, 0 = off (default: 0)")
    Integer noRepeat;

    /** The VPGTrans evaluation decoding: the paper's, with the flags given. */
    VlDecoding vl() {
        return VlDecoding.paper().with(beams, lengthPenalty, minNew, maxNew, noRepeat);
    }

    /** {@code base} with the flags given. */
    GenerationConfig apply(GenerationConfig base) {
        int max = maxNew != null ? maxNew : base.maxNewTokens();
        GenerationConfig g = base.withLengths(minNew != null ? minNew : base.minNewTokens(), max);
        if (beams != null || lengthPenalty != null) {
            g = g.withBeams(beams != null ? beams : g.numBeams(), lengthPenalty != null ? lengthPenalty : g.lengthPenalty());
        }
        return noRepeat != null ? g.withNoRepeatNgram(noRepeat) : g;
    }

    int maxNew(int fallback) {
        return maxNew != null ? maxNew : fallback;
    }
}
