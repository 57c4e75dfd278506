package io.vladapt.io;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imwrite;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vladapt.data.ImagePipeline;
import io.vladapt.ext.OpCheck;
import io.vladapt.nn.Tensors;
import io.vladapt.testutil.T;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenCV pipeline: channel order, geometry of both resize modes, normalisation, bad files. */
class ImagePipelineTest {
    static {
        T.opts(ScalarType.Float);
    }

    @TempDir
    Path tmp;

    /** A 60 x 40 (w x h) image: left half pure red, right half pure blue (BGR in memory). */
    Path twoColour(String name) {
        Mat m = new Mat(40, 60, org.bytedeco.opencv.global.opencv_core.CV_8UC3,
                new org.bytedeco.opencv.opencv_core.Scalar(0, 0, 255, 0));                    // red in BGR
        org.bytedeco.opencv.global.opencv_imgproc.rectangle(m, new Rect(30, 0, 30, 40),
                new org.bytedeco.opencv.opencv_core.Scalar(255, 0, 0, 0), -1, 8, 0);           // filled blue
        Path p = tmp.resolve(name);
        assertTrue(imwrite(p.toString(), m));
        return p;
    }

    @Test
    void squashKeepsTheLeftRightSplitAndConvertsToRgb() {
        try (PointerScope scope = new PointerScope()) {
            ImagePipeline pipe = new ImagePipeline(16, ImagePipeline.Resize.SQUASH, new float[] {0, 0, 0}, new float[] {1, 1, 1});
            Tensor t = pipe.load(List.of(twoColour("a.png"), twoColour("b.jpg")));
            assertArrayEquals(new long[] {2, 3, 16, 16}, OpCheck.shape(t));
            float[] v = Tensors.toFloats(t.select(0, 0));                            // PNG: exact colours
            assertEquals(1.0f, v[0 * 256 + 5 * 16 + 2], 1e-6f, "R at the left");
            assertEquals(0.0f, v[2 * 256 + 5 * 16 + 2], 1e-6f, "B at the left");
            assertEquals(1.0f, v[2 * 256 + 5 * 16 + 13], 1e-6f, "B at the right");
            assertEquals(0.0f, v[0 * 256 + 5 * 16 + 13], 1e-6f, "R at the right");
        }
    }

    @Test
    void normalisesWithTheGivenStatistics() {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = ImagePipeline.lavin().load(twoColour("c.png"));
            assertArrayEquals(new long[] {3, 224, 224}, OpCheck.shape(t));
            float[] v = Tensors.toFloats(t);
            // a red pixel: R = (1 - 0.485) / 0.229, G = (0 - 0.456) / 0.224
            assertEquals((1 - 0.485f) / 0.229f, v[100 * 224 + 10], 1e-5f);
            assertEquals((0 - 0.456f) / 0.224f, v[224 * 224 + 100 * 224 + 10], 1e-5f);
        }
    }

    @Test
    void shortSideCropTakesTheCentre() {
        try (PointerScope scope = new PointerScope()) {
            // 60 x 40 -> short side 20 gives 30 x 20, centre crop 20 x 20 keeps columns 5..24 of 30
            ImagePipeline pipe = new ImagePipeline(20, ImagePipeline.Resize.SHORT_SIDE_CROP, new float[] {0, 0, 0},
                    new float[] {1, 1, 1});
            float[] v = Tensors.toFloats(pipe.load(twoColour("d.png")));
            assertEquals(1.0f, v[10 * 20 + 1], 1e-3f, "column 0 of the crop is column 5 of 30: red");
            assertEquals(1.0f, v[2 * 400 + 10 * 20 + 18], 1e-3f, "column 18 is column 23: blue");
        }
    }

    @Test
    void corruptAndTruncatedFilesAreRefusedByName() throws IOException {
        Path png = twoColour("e.png"), jpg = twoColour("e.jpg");
        byte[] p = Files.readAllBytes(png), j = Files.readAllBytes(jpg);
        Path tp = tmp.resolve("cut.png"), tj = tmp.resolve("cut.jpg"), junk = tmp.resolve("junk.png"), none = tmp.resolve("none.png");
        Files.write(tp, java.util.Arrays.copyOf(p, p.length / 2));
        Files.write(tj, java.util.Arrays.copyOf(j, j.length / 2));
        Files.writeString(junk, "this is not an image");
        ImagePipeline pipe = ImagePipeline.lavin();
        assertMessage(() -> pipe.load(tp), tp + ": truncated PNG");
        assertMessage(() -> pipe.load(tj), tj + ": truncated JPEG");
        assertMessage(() -> pipe.load(junk), junk + ": not a decodable image");
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class, () -> pipe.load(none));
        assertTrue(e.getMessage().contains(none.toString()), e.getMessage());
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String start) {
        FormatException e = assertThrows(FormatException.class, call);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }
}
