package io.vladapt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import io.vladapt.io.TextTokenizer;
import io.vladapt.mma.AdapterSettings;
import io.vladapt.mma.MmaAdapters;
import io.vladapt.mma.MmaBatch;
import io.vladapt.mma.MmaConfig;
import io.vladapt.mma.MmaModel;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The device threads through the models the same way the dtype does: with a LLaMA-7B-sized decoder on
 * libtorch's meta device (shapes, no memory), the tensors the model makes for itself (RoPE tables from
 * CPU positions, the LM head's output) land on the weights' device. A whole forward pass cannot run on
 * meta from C++: libtorch's C++ build registers no meta kernels for embedding lookups, convolutions and
 * the where() inside scaled_dot_product_attention (Python adds those). Mismatched devices are refused
 * by name.
 */
class DeviceTest {
    static Params meta(Map<String, long[]> shapes, ScalarType t) {
        Params p = new Params();
        TensorOptions o = new TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(t)).device(new DeviceOptional(new Device("meta")));
        try (PointerScope scope = new PointerScope()) {
            shapes.forEach((n, s) -> p.put(n, torch.empty(s, o, new MemoryFormatOptional())));
        }
        return p;
    }

    static final LlamaConfig LLAMA_7B = new LlamaConfig(32000, 4096, 11008, 32, 32, 32, 128, 1e-6, 10000.0, null, 4096, false, false, 1,
            List.of(2), 0, "bfloat16");
    static final ClipVisionConfig VIT_L = new ClipVisionConfig(1024, 4096, 24, 16, 224, 14, 3, "quick_gelu", 1e-5);

    static Tensor metaTensor(ScalarType t, long... shape) {
        TensorOptions o = new TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(t)).device(new DeviceOptional(new Device("meta")));
        return torch.empty(shape, o, new MemoryFormatOptional());
    }

    @Test
    void tablesAndProjectionsFollowTheWeightsDevice() {
        T.opts(ScalarType.Float);
        try (PointerScope scope = new PointerScope();
             LlamaModel llm = new LlamaModel(LLAMA_7B, meta(LlamaModel.parameterShapes(LLAMA_7B), ScalarType.BFloat16), ScalarType.BFloat16)) {
            long b = 2, t = 5;
            Tensor positions = torch.arange(new org.bytedeco.pytorch.Scalar(t), Tensors.options(ScalarType.Long)).view(1, t).expand(b, t);
            LlamaModel.Pass pass = llm.pass(positions, null, null, null);             // CPU positions, as batches make them
            assertEquals("meta", Tensors.deviceName(pass.cosSin()[0]), "RoPE tables on the weights' device");
            assertEquals(ScalarType.BFloat16, OpCheck.dtype(pass.cosSin()[0]));
            assertArrayEquals(new long[] {b, 1, t, 128}, OpCheck.shape(pass.cosSin()[0]));
            Tensor logits = llm.logits(llm.finalNorm(metaTensor(ScalarType.BFloat16, b, t, 4096)));
            assertEquals("meta", Tensors.deviceName(logits));
            assertArrayEquals(new long[] {b, t, 32000}, OpCheck.shape(logits));
            assertEquals("meta", Tensors.deviceName(Tensors.zerosLike(ScalarType.Long, logits, 2, 1)));
            assertEquals("meta", Tensors.deviceName(Tensors.onDeviceOf(Tensors.longs(1, 2), logits)));
        }
    }

    @Test
    void modelsOnDifferentDevicesAreRefusedByName() {
        T.opts(ScalarType.Float);
        LlamaConfig lc = new LlamaConfig(300, 64, 128, 2, 4, 2, 16, 1e-5, 10000.0, null, 512, false, false, 1, List.of(2), 0, "float32");
        ClipVisionConfig vc = new ClipVisionConfig(32, 64, 6, 4, 16, 8, 3, "quick_gelu", 1e-5);
        AdapterSettings s = new AdapterSettings(2, 1.0, 5.0, 0.1);
        MmaConfig mc = new MmaConfig(2, 64, 6, 32, 8, s, s, 16, 3, false);
        try (PointerScope scope = new PointerScope(); TextTokenizer tok = TextTokenizer.load(Fixtures.dir("tokenizer-bpe"));
             LlamaModel llm = new LlamaModel(lc, meta(LlamaModel.parameterShapes(lc), ScalarType.BFloat16), ScalarType.BFloat16);
             ClipVisionModel vit = RandomInit.clip(vc, 1, ScalarType.BFloat16)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new MmaModel(llm, vit, MmaAdapters.init(mc, 1), tok));
            assertTrue(e.getMessage().contains("the LLM is on meta, the ViT on cpu and the adapters on cpu"), e.getMessage());
            // an op handed tensors on two devices names both before any native call
            Tensor x = torch.zeros(new long[] {1, 2, 8});
            Tensor w = torch.empty(new long[] {8, 8}, new TensorOptions().device(new DeviceOptional(new Device("meta"))), new MemoryFormatOptional());
            Map<String, Tensor> unused = new LinkedHashMap<>();
            IllegalArgumentException op = assertThrows(IllegalArgumentException.class, () -> io.vladapt.mma.Reparam.merge(
                    new LinearWeights(w, null), MmaAdapters.init(mc, 2).llm(0), torch.softmax(torch.randn(new long[] {2}), 0), s));
            assertTrue(op.getMessage().contains("is on cpu but W is on meta") || op.getMessage().contains("is on"), op.getMessage());
            assertTrue(unused.isEmpty() && x.defined());
        }
    }
}
