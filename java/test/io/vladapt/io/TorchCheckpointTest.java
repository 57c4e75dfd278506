package io.vladapt.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.ext.OpCheck;
import io.vladapt.testutil.Fixtures;
import io.vladapt.testutil.T;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/** torch.save archives: nested dicts, views sharing a storage, f16/bf16/int64, and pickles that must be refused. */
class TorchCheckpointTest {
    static {
        T.opts(ScalarType.Float);
    }

    @Test
    void readsNestedStateDictWithViewsAndDtypes() {
        Path p = Fixtures.dir("pickle").resolve("checkpoint.pth");
        try (PointerScope scope = new PointerScope(); TorchCheckpoint ck = TorchCheckpoint.open(p)) {
            Map<String, Tensor> expected = Fixtures.expected("pickle");
            Map<?, ?> root = (Map<?, ?>) ck.root();
            assertEquals(19L, root.get("epoch"));
            assertEquals("lavin", root.get("name"));
            assertEquals(1.0e-3, (Double) root.get("lr"), 0.0);
            assertEquals(java.util.Arrays.asList(true, false, null), root.get("flags"));
            try (TensorSource sd = ck.stateDict("model")) {
                assertEquals(expected.keySet(), sd.names());
                for (String n : expected.keySet()) {
                    Tensor t = sd.load(n);
                    assertEquals(OpCheck.dtype(expected.get(n)), OpCheck.dtype(t), n + " dtype");
                    assertTrue(torch.equal(t, expected.get(n)), n + " values");
                }
                assertFalse(sd.load("transposed").is_contiguous(), "views stay views, as torch.load makes them");
            }
        }
    }

    @Test
    void refusesAPickleThatWouldRunCode() throws Exception {
        Path p = Fixtures.dir("pickle").resolve("malicious.pth");
        Path marker = Path.of("pwned");
        FormatException e = assertThrows(FormatException.class, () -> TorchCheckpoint.open(p));
        assertTrue(e.getMessage().contains("malicious.pth"), e.getMessage());
        assertTrue(e.getMessage().contains("os.system"), e.getMessage());
        assertFalse(Files.exists(marker), "nothing was executed");
    }

    @Test
    void refusesOpcodesOutsideTheTensorSubset() {
        FormatException e = assertThrows(FormatException.class,
                () -> TorchCheckpoint.open(Fixtures.dir("pickle").resolve("opcode.pth")));
        assertTrue(e.getMessage().contains("pickle opcode 0x69 ('i') at byte 1"), e.getMessage());
    }

    @Test
    void refusesAFileThatIsNotAZip() throws Exception {
        Path p = Files.createTempFile("legacy", ".pth");
        Files.write(p, new byte[] {(byte) 0x80, 0x02, 'N', '.'});
        FormatException e = assertThrows(FormatException.class, () -> TorchCheckpoint.open(p));
        assertTrue(e.getMessage().contains("not a zip archive"), e.getMessage());
        Files.delete(p);
    }

    @Test
    void missingStateDictKeyIsNamed() {
        try (TorchCheckpoint ck = TorchCheckpoint.open(Fixtures.dir("pickle").resolve("checkpoint.pth"))) {
            FormatException e = assertThrows(FormatException.class, () -> ck.stateDict("state_dict"));
            assertTrue(e.getMessage().contains("root has no key 'state_dict'"), e.getMessage());
        }
    }
}
