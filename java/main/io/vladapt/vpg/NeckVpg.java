package io.vladapt.vpg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vladapt.io.AtomicFiles;
import io.vladapt.nn.ClipVisionModel;
import io.vladapt.nn.Params;
import io.vladapt.nn.RandomInit;
import io.vladapt.train.ParamFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * LaVIN's visual neck as a VPG: the [CLS] states of k evenly spaced ViT blocks (before the final
 * LayerNorm) -> Linear(d_v -> width) -> SiLU. LaVIN's second Linear(width -> d) is the projector.
 */
public final class NeckVpg implements Vpg {
    private final int vitWidth, vitLayers, tokens, width;
    private final Params params;

    public NeckVpg(int vitWidth, int vitLayers, int tokens, int width, Params params) {
        this.vitWidth = vitWidth;
        this.vitLayers = vitLayers;
        this.tokens = tokens;
        this.width = width;
        this.params = params;
    }

    public static Map<String, long[]> shapes(int vitWidth, int width) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("neck.fc1.weight", new long[] {width, vitWidth});
        m.put("neck.fc1.bias", new long[] {width});
        return m;
    }

    public static NeckVpg random(int vitWidth, int vitLayers, int tokens, int width, long seed) {
        Params p = RandomInit.params(shapes(vitWidth, width), seed, 1 / Math.sqrt(vitWidth), ScalarType.Float);
        p.asMap().values().forEach(t -> t.set_requires_grad(true));
        return new NeckVpg(vitWidth, vitLayers, tokens, width, p);
    }

    @Override
    public String kind() {
        return "neck";
    }

    @Override
    public int numQueries() {
        return tokens;
    }

    @Override
    public int width() {
        return width;
    }

    /** The blocks whose [CLS] state is read (for 24 blocks and 6 tokens: 4, 8, ..., 24). */
    int[] blocks() {
        int[] b = new int[tokens];
        for (int j = 0; j < tokens; j++) b[j] = (int) Math.round((double) (j + 1) * vitLayers / tokens);
        return b;
    }

    @Override
    public Tensor features(ClipVisionModel.Output vit) {
        if (vit.hiddenStates().size() != vitLayers + 1) {
            throw new IllegalArgumentException("the neck VPG was built for a " + vitLayers + "-block ViT, got " + (vit.hiddenStates().size() - 1));
        }
        TensorVector cls = new TensorVector();
        for (int b : blocks()) cls.push_back(vit.hiddenStates().get(b).select(1, 0));   // (B, d_v)
        return torch.stack(cls, 1);                                                        // (B, k, d_v)
    }

    @Override
    public Tensor forward(Tensor features, boolean train) {
        if (features.dim() != 3 || features.size(1) != tokens || features.size(2) != vitWidth) {
            throw new IllegalArgumentException("neck VPG: features must be (B, " + tokens + ", " + vitWidth + "), got "
                    + java.util.Arrays.toString(features.sizes().vec().get()));
        }
        return torch.silu(torch.linear(features, params.get("neck.fc1.weight"), new TensorOptional(params.get("neck.fc1.bias"))));  // (B, k, w)
    }

    @Override
    public Params params() {
        return params;
    }

    @Override
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        ParamFiles.save(params, dir.resolve(Vpgs.WEIGHTS), Map.of("format", "pt"));
        ObjectNode c = Vpgs.JSON.createObjectNode();
        c.put("kind", kind());
        c.put("vit_width", vitWidth);
        c.put("vit_layers", vitLayers);
        c.put("tokens", tokens);
        c.put("width", width);
        AtomicFiles.writeString(dir.resolve(Vpgs.CONFIG), Vpgs.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c));
    }

    static NeckVpg load(Path dir, ObjectNode c) {
        NeckVpg v = random(c.get("vit_width").asInt(), c.get("vit_layers").asInt(), c.get("tokens").asInt(), c.get("width").asInt(), 0);
        ParamFiles.loadInto(v.params, dir.resolve(Vpgs.WEIGHTS));
        return v;
    }

    @Override
    public void close() {
        params.close();
    }
}
