package io.vladapt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.ModelConfigs;
import io.vladapt.nn.LlamaModel;
import io.vladapt.quant.QuantizedCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vladapt quantize}: writes a LLaMA-family model with its projections quantised as a
 * compressed-tensors folder (model.safetensors + config.json naming the scheme + the tokenizer files),
 * which later loads quantised with no --quantize and no dense weights read.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true, description = "Quantise a LLaMA-family model's projections (--quantize int8|int4[:group]) "
        + "and save it pre-quantised (HF compressed-tensors: model.safetensors + config.json with quantization_config).")
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "LLaMA model folder (HF or Meta layout)")
    Path model;

    @Option(names = "--out", required = true, description = "output folder")
    Path out;

    @Mixin ComputeOptions compute;

    @Override
    public Integer call() throws Exception {
        if (compute.quantize.llm() == null) throw new IllegalArgumentException("give --quantize int8, int4 or int4:GROUP");
        if (out.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out must differ from --model");
        }
        try (LlamaModel m = LlamaLoader.load(model, compute.dtype(), "cpu", compute.quantize.llm())) {
            Files.createDirectories(out);
            Path hfConfig = model.resolve("config.json");
            JsonNode base;
            if (Files.isRegularFile(hfConfig)) {
                base = ModelConfigs.readJson(hfConfig);
            } else {
                ModelConfigs.writeLlamaHf(m.config(), out.resolve("config.json"));          // Meta layout: write HF's
                base = ModelConfigs.readJson(out.resolve("config.json"));
            }
            QuantizedCheckpoint q = QuantizedCheckpoint.of(m.params().asMap(), m.layers(), m.quantization());
            q.save(out, base);
            for (String f : List.of("tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json")) {
                if (Files.isRegularFile(model.resolve(f))) Files.copy(model.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
            System.out.println("wrote " + out + ": " + q);
        }
        return 0;
    }
}
