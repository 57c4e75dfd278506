package io.vladapt.vpg;

import io.vladapt.vpg.transfer.LlmIdentity;
import io.vladapt.vpg.transfer.ProjectorFusion;
import io.vladapt.vpg.transfer.WordConverter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.LinearWeights;
import io.vladapt.nn.Params;
import io.vladapt.nn.RandomInit;
import io.vladapt.nn.Tensors;
import io.vladapt.train.ParamFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The linear projector from VPG queries to one LLM's input-embedding space (BLIP-2's
 * language_projection), tied to that LLM by its {@link LlmIdentity}.
 */
public final class Projector implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String WEIGHTS = "projector.safetensors", CONFIG = "projector_config.json";
    static final String W = "language_projection.weight", B = "language_projection.bias";

    private final Params params;
    private final LlmIdentity llm;

    private Projector(Params params, LlmIdentity llm) {
        this.params = params;
        this.llm = llm;
        params.asMap().values().forEach(t -> t.set_requires_grad(true));
    }

    /** torch.nn.Linear's default init: U(-1/sqrt(in), 1/sqrt(in)). */
    public static Projector random(int vpgWidth, LlmIdentity llm, long seed) {
        Params p = new Params();
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(seed);
            double bound = 1 / Math.sqrt(vpgWidth);
            p.put(W, RandomInit.uniform(bound, llm.hiddenSize(), vpgWidth));
            p.put(B, RandomInit.uniform(bound, llm.hiddenSize()));
        }
        return new Projector(p, llm);
    }

    /**
     * VPGTrans stage 1b: the target projector W_t = W_c W_s, b_t = W_c b_s + b_c (the C++ fusion op),
     * after checking that the converter maps the source projector's LLM to {@code target}.
     */
    public static Projector fused(WordConverter converter, Projector source, LlmIdentity target) {
        converter.requireFor(source.llm, target);
        Params p = new Params();
        try (PointerScope s = new PointerScope()) {
            LinearWeights t = ProjectorFusion.fuse(converter.weights(), source.weights());
            p.put(W, t.weight());
            p.put(B, t.bias());
        }
        return new Projector(p, target);
    }

    public LinearWeights weights() {
        return new LinearWeights(params.get(W).detach(), params.get(B).detach());
    }

    public int inWidth() {
        return (int) params.get(W).size(1);
    }

    public LlmIdentity llm() {
        return llm;
    }

    public Params params() {
        return params;
    }

    /** (B, Q, w) -> (B, Q, d). */
    public Tensor forward(Tensor queries) {
        return torch.linear(queries, params.get(W), new TensorOptional(params.get(B)));
    }

    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        ParamFiles.save(params, dir.resolve(WEIGHTS), Map.of("format", "pt"));
        ObjectNode root = JSON.createObjectNode();
        root.put("in_width", inWidth());
        root.set("llm", JSON.valueToTree(llm));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    public static Projector load(Path dir) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new IllegalArgumentException(dir + ": no " + CONFIG + " (not a projector folder)");
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readString(cfg));
        LlmIdentity llm = JSON.treeToValue(root.get("llm"), LlmIdentity.class);
        Projector p = random(root.get("in_width").asInt(), llm, 0);
        ParamFiles.loadInto(p.params, dir.resolve(WEIGHTS));
        return p;
    }

    @Override
    public void close() {
        params.close();
    }
}
