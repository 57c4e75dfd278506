package io.vladapt.data;

import static org.bytedeco.opencv.global.opencv_core.CV_32FC3;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import io.vladapt.io.FormatException;
import io.vladapt.nn.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Images to normalised (B, 3, S, S) float tensors with OpenCV: decode, BGR -> RGB, resize, scale to
 * [0, 1], normalise per channel. No per-pixel Java loops: OpenCV converts, libtorch normalises.
 *
 * @param size      output side S
 * @param resizeMode SQUASH: S x S bicubic ignoring aspect (LaVIN, torchvision Resize((S, S)));
 *                  SHORT_SIDE_CROP: shorter side to S bicubic, then the centre S x S (CLIP)
 * @param mean      per-channel RGB mean in [0, 1]
 * @param std       per-channel RGB std
 */
public record ImagePipeline(int size, Resize resizeMode, float[] mean, float[] std) {
    public enum Resize { SQUASH, SHORT_SIDE_CROP }

    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f}, IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    public static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    public ImagePipeline {
        if (size < 1) throw new IllegalArgumentException("image size must be positive, got " + size);
        if (mean.length != 3 || std.length != 3) throw new IllegalArgumentException("mean and std need 3 values (RGB)");
        mean = mean.clone();
        std = std.clone();
    }

    /** LaVIN's preprocessing: 224 x 224 bicubic squash, ImageNet statistics (not CLIP's). */
    public static ImagePipeline lavin() {
        return lavin(224);
    }

    /** LaVIN's preprocessing for a ViT whose input side is {@code size} (the demos' small ViTs too). */
    public static ImagePipeline lavin(int size) {
        return new ImagePipeline(size, Resize.SQUASH, IMAGENET_MEAN, IMAGENET_STD);
    }

    /** CLIP's own preprocessing at the given side. */
    public static ImagePipeline clip(int size) {
        return new ImagePipeline(size, Resize.SHORT_SIDE_CROP, CLIP_MEAN, CLIP_STD);
    }

    /** (B, 3, S, S) float32 for image files. */
    public Tensor load(List<Path> paths) {
        TensorVector items = new TensorVector();
        for (Path p : paths) items.push_back(load(p));
        return torch.stack(items, 0);
    }

    /** (3, S, S) float32 for one file; unreadable, truncated or undecodable files are refused by name. */
    public Tensor load(Path path) {
        return fromBgr(decode(path));
    }

    /** (3, S, S) float32 for an 8-bit BGR image already in memory (OpenCV's layout). */
    public Tensor fromBgr(Mat bgr) {
        if (bgr.channels() != 3) throw new IllegalArgumentException("expected a 3-channel BGR image, got " + bgr.channels());
        Mat rgb = new Mat();
        cvtColor(bgr, rgb, COLOR_BGR2RGB);
        Mat sized = new Mat();
        if (resizeMode == Resize.SQUASH) {
            resize(rgb, sized, new Size(size, size), 0, 0, INTER_CUBIC);
        } else {
            double scale = (double) size / Math.min(rgb.rows(), rgb.cols());
            int w = Math.max(size, (int) Math.round(rgb.cols() * scale)), h = Math.max(size, (int) Math.round(rgb.rows() * scale));
            Mat big = new Mat();
            resize(rgb, big, new Size(w, h), 0, 0, INTER_CUBIC);
            sized = big.apply(new Rect((w - size) / 2, (h - size) / 2, size, size)).clone();
        }
        Mat f = new Mat();
        sized.convertTo(f, CV_32FC3, 1.0 / 255, 0);                                     // (S, S, 3) in [0, 1]
        Tensor hwc = torch.from_blob(f.data(), new long[] {size, size, 3}, Tensors.options(ScalarType.Float)).clone();
        Tensor m = Tensors.floats(mean).view(3, 1, 1), s = Tensors.floats(std).view(3, 1, 1);
        return hwc.permute(2, 0, 1).sub(m).div(s).contiguous();                         // (3, S, S)
    }

    /** Reads and decodes an image file to 8-bit BGR, refusing truncated or corrupt files. */
    public static Mat decode(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + path, e);
        }
        return decode(bytes, path.toString());
    }

    /** Decodes encoded image bytes (PNG, JPEG, ...) to 8-bit BGR; {@code name} says where they came from in errors. */
    public static Mat decode(byte[] bytes, String name) {
        String why = truncation(bytes);
        if (why != null) throw new FormatException(name + ": " + why);
        Mat raw = new Mat(1, bytes.length, CV_8U, new BytePointer(bytes));
        Mat img = imdecode(raw, IMREAD_COLOR);
        if (img == null || img.empty()) {
            throw new FormatException(name + ": not a decodable image (corrupt, or a format OpenCV does not read)");
        }
        return img;
    }

    /** PNG must end with its IEND chunk and JPEG with its EOI marker: decoders quietly fill truncated files. */
    static String truncation(byte[] b) {
        if (b.length == 0) return "empty file, not an image";
        boolean png = b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
        if (png) {
            boolean iend = b.length >= 12 && b[b.length - 8] == 'I' && b[b.length - 7] == 'E' && b[b.length - 6] == 'N'
                    && b[b.length - 5] == 'D';
            return iend ? null : "truncated PNG (no IEND chunk at the end)";
        }
        boolean jpeg = b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8;
        if (jpeg) {
            int end = b.length;
            while (end > 2 && b[end - 1] == 0) end--;   // some writers pad after EOI
            return (b[end - 2] & 0xff) == 0xFF && (b[end - 1] & 0xff) == 0xD9 ? null : "truncated JPEG (no end-of-image marker)";
        }
        return null;
    }
}
