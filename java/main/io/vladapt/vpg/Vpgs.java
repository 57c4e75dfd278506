package io.vladapt.vpg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** VPG folders: vpg.safetensors + vpg_config.json, whose "kind" says which class reads them. */
public final class Vpgs {
    static final ObjectMapper JSON = new ObjectMapper();
    public static final String WEIGHTS = "vpg.safetensors", CONFIG = "vpg_config.json";

    private Vpgs() {}

    public static Vpg load(Path dir) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new IllegalArgumentException(dir + ": no " + CONFIG + " (not a VPG folder)");
        ObjectNode c = (ObjectNode) JSON.readTree(Files.readString(cfg));
        String kind = c.path("kind").asText();
        return switch (kind) {
            case "neck" -> NeckVpg.load(dir, c);
            case "qformer" -> QFormerVpg.load(dir, c);
            default -> throw new IllegalArgumentException(cfg + ": unknown VPG kind '" + kind + "' (known: neck, qformer)");
        };
    }

    /**
     * What a VPG folder's VPG reads from the ViT, as a key: VPGs with equal keys read the same cached
     * features ({@link VitFeatures}). Read from vpg_config.json alone, without loading weights.
     */
    public static String featureKey(Path dir) throws IOException {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new IllegalArgumentException(dir + ": no " + CONFIG + " (not a VPG folder)");
        ObjectNode c = (ObjectNode) JSON.readTree(Files.readString(cfg));
        return switch (c.path("kind").asText()) {
            case "qformer" -> qformerFeatures(c.path("vit_block").asInt(-1));
            case "neck" -> "neck: [CLS] of " + c.path("tokens").asInt() + " of " + c.path("vit_layers").asInt() + " blocks";
            default -> throw new IllegalArgumentException(cfg + ": unknown VPG kind '" + c.path("kind").asText() + "' (known: neck, qformer)");
        };
    }

    /** The feature key of a Q-Former VPG reading ViT block {@code vitBlock} (-1: the last). */
    public static String qformerFeatures(int vitBlock) {
        return "qformer: hidden states of ViT block " + vitBlock;
    }
}
