package io.vladapt.mma;

import io.vladapt.nn.Params;
import io.vladapt.nn.Tensors;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Every trainable tensor of MMA, under LaVIN's names (every name contains "adapter", which is how
 * LaVIN picks what trains and what its checkpoints hold):
 * <pre>
 *   layers.N.adapter_attn.{conv_A, conv_B, conv_D, expert_weights}.{weight, bias}       LLM MM-Adapters
 *   backbone.visual.transformer.resblocks.N.adapter_attn.(same)                        ViT MM-Adapters
 *   adapter_proj.0.{weight, bias}, adapter_proj.2.{weight, bias}                        visual neck
 *   adapter_modality_embedding.weight                                                   (2, d)
 * </pre>
 * Conv weights are kept as (out, in/groups) without LaVIN's trailing kernel dimension of 1.
 */
public final class MmaAdapters implements AutoCloseable {
    static final String VIT = "backbone.visual.transformer.resblocks.";
    private final MmaConfig config;
    private final Params params;

    public MmaAdapters(MmaConfig config, Params params) {
        this.config = config;
        this.params = params;
    }

    public MmaConfig config() {
        return config;
    }

    public Params params() {
        return params;
    }

    public static String llmPrefix(int layer) {
        return "layers." + layer + ".adapter_attn.";
    }

    public static String vitPrefix(int layer) {
        return VIT + layer + ".adapter_attn.";
    }

    /** Names and shapes of every trainable tensor for a config. */
    public static Map<String, long[]> shapes(MmaConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (int i = 0; i < c.llmLayers(); i++) adapter(m, llmPrefix(i), c.llmDim(), c.rank(), c.llmAdapter().groups());
        for (int i = 0; i < c.vitLayers(); i++) adapter(m, vitPrefix(i), c.vitDim(), c.rank(), c.vitAdapter().groups());
        m.put("adapter_proj.0.weight", new long[] {c.neckHidden(), c.vitDim()});
        m.put("adapter_proj.0.bias", new long[] {c.neckHidden()});
        m.put("adapter_proj.2.weight", new long[] {c.llmDim(), c.neckHidden()});
        m.put("adapter_proj.2.bias", new long[] {c.llmDim()});
        m.put("adapter_modality_embedding.weight", new long[] {2, c.llmDim()});
        return m;
    }

    private static void adapter(Map<String, long[]> m, String p, long d, long r, long groups) {
        m.put(p + "conv_A.weight", new long[] {r, d});
        m.put(p + "conv_A.bias", new long[] {r});
        m.put(p + "conv_B.weight", new long[] {d, r / groups});
        m.put(p + "conv_B.bias", new long[] {d});
        m.put(p + "conv_D.weight", new long[] {d, r / groups});
        m.put(p + "conv_D.bias", new long[] {d});
        m.put(p + "expert_weights.weight", new long[] {2, d});
        m.put(p + "expert_weights.bias", new long[] {2});
    }

    /** Trainable parameter count from the shapes alone. */
    public static long count(MmaConfig c) {
        long n = 0;
        for (long[] s : shapes(c).values()) {
            long k = 1;
            for (long d : s) k *= d;
            n += k;
        }
        return n;
    }

    /**
     * LaVIN's initialisation: conv_A xavier-uniform with zero bias, conv_B/conv_D all zero (the adapter
     * starts as the identity), router as nn.Linear (uniform +-1/sqrt(d)), neck xavier with zero biases,
     * modality embedding N(0, 1). Trainable, float32.
     */
    public static MmaAdapters init(MmaConfig c, long seed) {
        torch.manual_seed(seed);
        Params p = new Params();
        for (Map.Entry<String, long[]> e : shapes(c).entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                String n = e.getKey();
                long[] s = e.getValue();
                Tensor t;
                if (n.endsWith("conv_A.weight") || n.startsWith("adapter_proj.") && n.endsWith(".weight")) {
                    t = xavier(s);
                } else if (n.endsWith("expert_weights.weight") || n.endsWith("expert_weights.bias")) {
                    double bound = 1 / Math.sqrt(n.startsWith(VIT) ? c.vitDim() : c.llmDim());
                    t = torch.rand(s, Tensors.options(ScalarType.Float)).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
                } else if (n.equals("adapter_modality_embedding.weight")) {
                    t = torch.randn(s, Tensors.options(ScalarType.Float));
                } else {
                    t = Tensors.zeros(ScalarType.Float, s);
                }
                p.put(n, t.set_requires_grad(true));
            }
        }
        return new MmaAdapters(c, p);
    }

    private static Tensor xavier(long[] s) {
        double bound = Math.sqrt(6.0 / (s[0] + s[1]));
        return torch.rand(s, Tensors.options(ScalarType.Float)).mul(new Scalar(2 * bound)).sub(new Scalar(bound));
    }

    /**
     * The same adapters on another device ("cuda:0"), as trainable leaves (initialised on the CPU first,
     * so a seed gives the same weights everywhere). Returns this when they are already there.
     */
    public MmaAdapters to(String device) {
        if (device.equals(Tensors.deviceName(params.asMap().values().iterator().next()))) return this;
        Params p = new Params();
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Device dev = new Device(device);
            params.asMap().forEach((n, t) -> p.put(n, t.detach().to(dev, io.vladapt.ext.OpCheck.dtype(t)).set_requires_grad(true)));
        }
        params.close();
        return new MmaAdapters(config, p);
    }

    /** Shapes only, on libtorch's meta device (no memory): for counting full-size configurations. */
    public static MmaAdapters onMetaDevice(MmaConfig c) {
        Params p = new Params();
        TensorOptions meta = new TensorOptions().device(new DeviceOptional(new Device("meta")));
        for (Map.Entry<String, long[]> e : shapes(c).entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                p.put(e.getKey(), torch.empty(e.getValue(), meta, new MemoryFormatOptional()).set_requires_grad(true));
            }
        }
        return new MmaAdapters(c, p);
    }

    public MmAdapterWeights llm(int layer) {
        return weights(llmPrefix(layer));
    }

    public MmAdapterWeights vit(int layer) {
        return weights(vitPrefix(layer));
    }

    private MmAdapterWeights weights(String p) {
        return new MmAdapterWeights(params.get(p + "conv_A.weight"), params.get(p + "conv_A.bias"),
                params.get(p + "conv_B.weight"), params.get(p + "conv_B.bias"), params.get(p + "conv_D.weight"),
                params.get(p + "conv_D.bias"), params.get(p + "expert_weights.weight"), params.get(p + "expert_weights.bias"));
    }

    /** Visual neck: (B, k, d_v) -> Linear -> SiLU -> Linear -> (B, k, d). */
    public Tensor neck(Tensor cls) {
        Tensor h = torch.linear(cls, params.get("adapter_proj.0.weight"),
                new org.bytedeco.pytorch.TensorOptional(params.get("adapter_proj.0.bias")));
        return torch.linear(torch.silu(h), params.get("adapter_proj.2.weight"),
                new org.bytedeco.pytorch.TensorOptional(params.get("adapter_proj.2.bias")));
    }

    /** (B, d) modality tokens for has-image flags (B) int64 (0 = text-only, 1 = image). */
    public Tensor modality(Tensor hasImage) {
        return torch.embedding(params.get("adapter_modality_embedding.weight"), hasImage);
    }

    /** Total trainable elements held. */
    public long count() {
        return params.count();
    }

    @Override
    public void close() {
        params.close();
    }
}
