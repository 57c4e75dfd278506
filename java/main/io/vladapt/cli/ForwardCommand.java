package io.vladapt.cli;

import io.vladapt.data.ImagePipeline;
import io.vladapt.io.ClipLoader;
import io.vladapt.io.LlamaLoader;
import io.vladapt.io.SafetensorsWriter;
import io.vladapt.io.TextTokenizer;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vladapt forward}: runs a model on given inputs and writes the outputs to a safetensors file,
 * to compare a port against PyTorch tensor by tensor.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run a LLaMA-family model and/or a CLIP vision tower on token ids, text or images, and write "
                + "logits / hidden states / image block states to a safetensors file.")
final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", description = "LLaMA model folder (HF: config.json + weights; Meta: params.json + consolidated.NN.pth)")
    Path model;

    @Option(names = "--ids", split = ",", description = "token ids, e.g. 1,306,4658")
    long[] ids;

    @Option(names = "--text", description = "text, tokenized with the model folder's tokenizer (BOS added)")
    String text;

    @Option(names = "--vision", description = "CLIP vision folder (HF) or OpenAI-format .pt/.pth state dict")
    Path vision;

    @Option(names = "--vision-heads", defaultValue = "0", description = "head count for OpenAI-format files (default: width / 64)")
    int visionHeads;

    @Option(names = "--image", description = "image file(s) for the vision tower")
    List<Path> images;

    @Option(names = "--preprocess", defaultValue = "clip", description = "clip (short side + centre crop, CLIP statistics) or "
            + "lavin (224 squash, ImageNet statistics); default: ${DEFAULT-VALUE}")
    String preprocess;

    @Option(names = "--outputs", split = ",", defaultValue = "logits,hidden_states,image_states",
            description = "what to write: logits, hidden_states, image_states (default: ${DEFAULT-VALUE})")
    List<String> outputs;

    @Mixin ComputeOptions compute;

    @Option(names = "--out", required = true, description = "output .safetensors file (written atomically)")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (model == null && vision == null) throw new IllegalArgumentException("give --model and/or --vision");
        if (model != null && (ids == null) == (text == null)) throw new IllegalArgumentException("give exactly one of --ids and --text");
        if (vision != null && (images == null || images.isEmpty())) throw new IllegalArgumentException("--vision needs --image");
        ScalarType type = compute.dtype();
        Map<String, Tensor> result = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            if (model != null) runLanguage(type, result);
            if (vision != null) runVision(type, result);
            SafetensorsWriter.write(out, result, Map.of("producer", "vladapt forward"));
        }
        System.out.println("wrote " + result.size() + " tensors to " + out);
        return 0;
    }

    private void runLanguage(ScalarType type, Map<String, Tensor> result) {
        long[] tokens = ids;
        if (text != null) {
            try (TextTokenizer tok = TextTokenizer.load(model)) {
                tokens = tok.encode(text, true);
            }
        }
        io.vladapt.nn.MemoryPlan.checkLlm("forward", LlamaLoader.config(model), type, compute.quantize(model), 1, tokens.length);
        try (LlamaModel m = LlamaLoader.load(model, type, compute.device(), compute.quantize.llm())) {
            long vocab = m.config().vocabSize();
            for (long t : tokens) {
                if (t < 0 || t >= vocab) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
            }
            Tensor input = Tensors.longs(tokens).view(1, tokens.length);
            LlamaModel.Output o = m.forward(input, outputs.contains("hidden_states"));
            result.put("input_ids", input);
            if (outputs.contains("logits")) result.put("logits", o.logits().contiguous());
            for (int i = 0; i < o.hiddenStates().size(); i++) result.put("hidden_states." + i, o.hiddenStates().get(i).contiguous());
            System.out.println("language model: " + tokens.length + " tokens " + Arrays.toString(tokens));
        }
    }

    private void runVision(ScalarType type, Map<String, Tensor> result) {
        try (ClipVisionModel v = ClipLoader.load(vision, type, compute.device(), visionHeads, compute.quantize.vit())) {
            ImagePipeline pipe = io.vladapt.api.Preprocess.parse(preprocess).pipeline(v.config().imageSize());
            for (Path p : images) if (!Files.isRegularFile(p)) throw new IllegalArgumentException("no image file " + p);
            Tensor pixels = pipe.load(images).to(type);                       // written as the model saw them
            ClipVisionModel.Output o = v.forward(pixels, null, outputs.contains("image_states"));
            result.put("pixel_values", pixels);
            result.put("image_last_hidden_state", o.lastHiddenState().contiguous());
            result.put("image_pooled", o.pooled().contiguous());
            for (int i = 0; i < o.hiddenStates().size(); i++) result.put("image_hidden_states." + i, o.hiddenStates().get(i).contiguous());
            System.out.println("vision tower: " + images.size() + " image(s) at " + v.config().imageSize() + " px");
        }
    }
}
