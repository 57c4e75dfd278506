package io.vladapt.vpg;

import java.util.List;

/**
 * The VPG's tensor names and their spellings in the checkpoints people have.
 *
 * <ul>
 *   <li>VLAdapt (canonical): HF Blip2ForConditionalGeneration's names for the queries and the Q-Former
 *       ({@code query_tokens}, {@code qformer.encoder.layer.N.attention.attention.query.weight}, ...) and
 *       BLIP-2/LAVIS's {@code ln_vision.*}.</li>
 *   <li>HF: ln_vision is {@code vision_model.post_layernorm.*} (transformers' conversion renamed it; it
 *       is the norm applied to the ViT's last hidden state before the Q-Former).</li>
 *   <li>LAVIS / VPGTrans: {@code Qformer.bert.embeddings.LayerNorm.*} for the embeddings norm,
 *       {@code Qformer.bert.encoder.layer.N.(cross)attention.self.*} for q/k/v, the rest under
 *       {@code Qformer.bert.} with HF's suffixes.</li>
 * </ul>
 */
public final class QFormerNames {
    public static final String QUERY_TOKENS = "query_tokens";
    public static final String LN_VISION = "ln_vision";
    public static final String EMBED_NORM = "qformer.layernorm";
    static final String HF_LN_VISION = "vision_model.post_layernorm";
    private static final String HF_QFORMER = "qformer.", LAVIS_QFORMER = "Qformer.bert.";

    private QFormerNames() {}

    /** "qformer.encoder.layer.i." */
    public static String layer(int i) {
        return "qformer.encoder.layer." + i + ".";
    }

    /** HF Blip2ForConditionalGeneration's name for a canonical one. */
    public static String hf(String name) {
        return name.startsWith(LN_VISION + ".") ? HF_LN_VISION + name.substring(LN_VISION.length()) : name;
    }

    /** LAVIS's (and VPGTrans's) name for a canonical one. */
    public static String lavis(String name) {
        if (!name.startsWith(HF_QFORMER)) return name;
        if (name.startsWith(EMBED_NORM + ".")) return LAVIS_QFORMER + "embeddings.LayerNorm" + name.substring(EMBED_NORM.length());
        return LAVIS_QFORMER + name.substring(HF_QFORMER.length()).replace("attention.attention.", "attention.self.");
    }

    /** Where to look for a canonical name in a checkpoint of unknown origin, in order. */
    public static List<String> candidates(String name) {
        return List.of(name, hf(name), lavis(name)).stream().distinct().toList();
    }
}
