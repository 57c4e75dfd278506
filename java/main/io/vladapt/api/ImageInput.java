package io.vladapt.api;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import io.vladapt.data.ImagePipeline;
import io.vladapt.io.FormatException;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * An image for the model: a file, encoded bytes (PNG, JPEG, WebP, ... anything OpenCV reads) or a
 * {@link BufferedImage}. Nothing is decoded until the model needs it; encoded images are measured from
 * their header first, so a picture over the pixel limit is refused before it is decoded.
 */
public final class ImageInput {
    private final Path path;
    private final byte[] bytes;
    private final BufferedImage image;
    private final String name;

    private ImageInput(Path path, byte[] bytes, BufferedImage image, String name) {
        this.path = path;
        this.bytes = bytes;
        this.image = image;
        this.name = name;
    }

    public static ImageInput of(Path file) {
        return new ImageInput(file, null, null, file.toString());
    }

    /** Encoded image bytes (not copied: do not change them while the request runs). */
    public static ImageInput of(byte[] encoded) {
        return of(encoded, "image bytes");
    }

    /** As {@link #of(byte[])}; {@code name} says where they came from in error messages. */
    public static ImageInput of(byte[] encoded, String name) {
        return new ImageInput(null, encoded, null, name);
    }

    public static ImageInput of(BufferedImage image) {
        return new ImageInput(null, null, image, "BufferedImage");
    }

    /** An image over the configured pixel limit (the server answers 413). */
    public static final class TooLargeException extends IllegalArgumentException {
        public TooLargeException(String message) {
            super(message);
        }
    }

    /** 8-bit BGR (OpenCV's layout); refuses images over {@code maxPixels} (0 = no limit). */
    Mat decode(long maxPixels) {
        if (image != null) {
            check((long) image.getWidth() * image.getHeight(), image.getWidth(), image.getHeight(), maxPixels);
            return bgr(image);
        }
        byte[] b = bytes;
        if (b == null) {
            try {
                b = Files.readAllBytes(path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read image " + path, e);
            }
        }
        int[] wh = headerSize(b);
        if (wh != null) check((long) wh[0] * wh[1], wh[0], wh[1], maxPixels);
        Mat m = ImagePipeline.decode(b, name);
        check((long) m.cols() * m.rows(), m.cols(), m.rows(), maxPixels);
        return m;
    }

    private void check(long pixels, int w, int h, long maxPixels) {
        if (maxPixels > 0 && pixels > maxPixels) {
            throw new TooLargeException(name + ": " + w + " x " + h + " = " + pixels + " pixels, over the limit of " + maxPixels);
        }
    }

    /** Width and height from the header alone, or null when ImageIO does not know the format. */
    static int[] headerSize(byte[] b) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(b))) {   // no disk cache
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) return null;
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                return new int[] {r.getWidth(0), r.getHeight(0)};
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return null;   // a broken header: OpenCV's decoder names the problem
        }
    }

    /** Any BufferedImage as an 8-bit BGR Mat (redrawn into 3-byte BGR when it is stored otherwise). */
    private static Mat bgr(BufferedImage src) {
        BufferedImage img = src;
        if (src.getType() != BufferedImage.TYPE_3BYTE_BGR) {
            img = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = img.createGraphics();
            g.drawImage(src, 0, 0, null);
            g.dispose();
        }
        byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        if (data.length != img.getWidth() * img.getHeight() * 3) throw new FormatException("unexpected BufferedImage raster layout");
        return new Mat(img.getHeight(), img.getWidth(), CV_8UC3, new BytePointer(data)).clone();
    }

    @Override
    public String toString() {
        return name;
    }
}
