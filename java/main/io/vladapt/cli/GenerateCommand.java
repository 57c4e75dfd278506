package io.vladapt.cli;

import io.vladapt.io.LlamaLoader;
import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.Generator;
import io.vladapt.nn.LlamaModel;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vladapt generate}: text continuation with a KV cache, streamed for a single prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from one or more prompts (a batch of different lengths is left-padded).")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "LLaMA model folder (HF or Meta layout) with its tokenizer")
    Path model;

    @Option(names = "--prompt", required = true, description = "prompt text; repeat for a batch")
    List<String> prompts;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "default: ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--stop", description = "stop string; repeatable")
    List<String> stop = new ArrayList<>();

    @Mixin ComputeOptions compute;

    @Override
    public Integer call() {
        compute.apply();
        GenerationConfig g = new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stop, true);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (TextTokenizer tok = TextTokenizer.load(model)) {
            List<long[]> ids = new ArrayList<>();
            for (String p : prompts) ids.add(tok.encode(p, true));
            int longest = ids.stream().mapToInt(i -> i.length).max().orElse(0);
            io.vladapt.nn.MemoryPlan.checkLlm("generate", LlamaLoader.config(model), compute.dtype(), compute.quantize(model), ids.size(),
                    (long) longest + maxNewTokens);
            try (LlamaModel m = LlamaLoader.load(model, compute.dtype(), compute.device(), compute.quantize.llm())) {
                run(m, tok, ids, g, out);
            }
        }
        return 0;
    }

    private void run(LlamaModel m, TextTokenizer tok, List<long[]> ids, GenerationConfig g, PrintStream out) {
        Generator gen = new Generator(m, tok::decode);
        long t0 = System.nanoTime();
        List<long[]> result;
        if (ids.size() == 1) {
            // stream: print what each new token adds to the decoded text
            List<Long> sofar = new ArrayList<>();
            String[] printed = {""};
            out.print(prompts.get(0));
            result = gen.generate(ids, g, (row, token) -> {
                sofar.add(token);
                String text = tok.decode(sofar.stream().mapToLong(Long::longValue).toArray());
                if (text.startsWith(printed[0])) out.print(text.substring(printed[0].length()));
                printed[0] = text;
            });
            out.println();
        } else {
            result = gen.generate(ids, g, null);
            for (int i = 0; i < result.size(); i++) out.println("[" + i + "] " + prompts.get(i) + tok.decode(result.get(i)));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long n = result.stream().mapToLong(r -> r.length).sum();
        System.err.printf("%d new tokens in %.2f s (%.1f tokens/s)%n", n, secs, n / secs);
    }
}
