package io.vladapt.cli;

import io.vladapt.api.Backbones;
import io.vladapt.quant.QuantScheme;
import picocli.CommandLine.Option;

/**
 * --quantize and --quantize-vit: weight-only quantisation of the frozen projections as they load. Mixed
 * into {@link ComputeOptions}, so every command that loads a backbone has it.
 */
final class QuantizeOptions {
    @Option(names = "--quantize", description = "quantise the LLM's frozen projections (q/k/v/o, gate/up/down) as they load: int8 "
            + "(per output channel), int4 (groups of 128), int4:64, int4:32; append :asym for zero points; CPU only. A pre-quantised "
            + "(compressed-tensors) folder loads quantised without it; if given, it must name the folder's scheme (default: dense)")
    String llm;

    @Option(names = "--quantize-vit", description = "the same for the ViT's projections (q/k/v/out_proj, fc1/fc2) (default: dense)")
    String vit;

    /** The LLM's scheme, or null. */
    QuantScheme llm() {
        return Backbones.scheme(llm);
    }

    /** The ViT's scheme, or null. */
    QuantScheme vit() {
        return Backbones.scheme(vit);
    }
}
